/*
 * acme_nonce.c - see acme_nonce.h.
 */
#include "acme_nonce.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../base/b64.h"
#include "../pki/pki_hmac.h"

#define RAW_LEN 32
#define MAC_LEN 16

struct used {
        uint8_t id[16]; /* expiry + random: unique per nonce */
        int64_t expiry; /* 0: empty slot */
};

struct acme_nonces {
        uint8_t key[32];
        long lifetime_s;
        pthread_mutex_t mu;
        struct used *tab;
        size_t cap, count;
        int64_t floor; /* nonces expiring before this are refused */
};

static int64_t now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec;
}

enum qerr acme_nonces_new(long lifetime_s, size_t max_used, struct acme_nonces **out,
                          struct qerr_info *ei)
{
        struct acme_nonces *n = calloc(1, sizeof *n);
        size_t cap = 1024;
        while (cap < max_used * 2)
                cap *= 2;
        if (!n || !(n->tab = calloc(cap, sizeof *n->tab))) {
                free(n);
                return qerr_set(ei, QERR_NOMEM, NULL);
        }
        if (getrandom(n->key, sizeof n->key, 0) != (ssize_t)sizeof n->key) {
                free(n->tab);
                free(n);
                return qerr_set(ei, QERR_INTERNAL, "no random bytes for the nonce key");
        }
        n->cap = cap;
        n->lifetime_s = lifetime_s;
        pthread_mutex_init(&n->mu, NULL);
        *out = n;
        return QERR_OK;
}

void acme_nonces_free(struct acme_nonces *n)
{
        if (!n)
                return;
        mem_wipe(n->key, sizeof n->key);
        pthread_mutex_destroy(&n->mu);
        free(n->tab);
        free(n);
}

static bool mac(const struct acme_nonces *n, const uint8_t *raw, uint8_t out[MAC_LEN])
{
        uint8_t full[PKI_HMAC_BYTES];
        if (pki_hmac_sha256(n->key, sizeof n->key, raw, 16, full, NULL) != QERR_OK)
                return false;
        memcpy(out, full, MAC_LEN);
        return true;
}

bool acme_nonce_mint(struct acme_nonces *n, char *out)
{
        uint8_t raw[RAW_LEN];
        int64_t exp = now_s() + n->lifetime_s;
        for (int i = 0; i < 8; i++)
                raw[i] = (uint8_t)((uint64_t)exp >> (56 - 8 * i));
        if (getrandom(raw + 8, 8, 0) != 8 || !mac(n, raw, raw + 16))
                return false;
        struct qbuf b;
        qbuf_init(&b, 64);
        bool ok = b64url_encode(raw, RAW_LEN, &b) && b.len == ACME_NONCE_LEN;
        if (ok)
                memcpy(out, b.data, ACME_NONCE_LEN + 1);
        qbuf_free(&b);
        return ok;
}

static size_t slot_of(const struct acme_nonces *n, const uint8_t *id)
{
        uint64_t h = 0;
        memcpy(&h, id + 8, 8); /* the random half */
        return (size_t)(h & (n->cap - 1));
}

/* Drops expired entries (rebuilds the table); when still over half full,
 * raises the floor to the median expiry seen. Under the mutex. */
static void purge(struct acme_nonces *n, int64_t now)
{
        struct used *old = n->tab;
        struct used *tab = calloc(n->cap, sizeof *tab);
        if (!tab)
                return;
        int64_t lo = INT64_MAX, hi = 0;
        for (size_t i = 0; i < n->cap; i++)
                if (old[i].expiry) {
                        lo = old[i].expiry < lo ? old[i].expiry : lo;
                        hi = old[i].expiry > hi ? old[i].expiry : hi;
                }
        if (n->count * 2 >= n->cap && hi > lo) {
                /* nothing expired enough: refuse the older half from now on */
                int64_t mid = lo + (hi - lo) / 2;
                n->floor = mid > n->floor ? mid : n->floor;
        }
        size_t count = 0;
        for (size_t i = 0; i < n->cap; i++) {
                if (!old[i].expiry || old[i].expiry < now || old[i].expiry < n->floor)
                        continue;
                size_t j = slot_of(n, old[i].id);
                while (tab[j].expiry)
                        j = (j + 1) & (n->cap - 1);
                tab[j] = old[i];
                count++;
        }
        n->tab = tab;
        n->count = count;
        free(old);
}

bool acme_nonce_take(struct acme_nonces *n, const char *nonce)
{
        if (!nonce || strlen(nonce) != ACME_NONCE_LEN)
                return false;
        struct qbuf b;
        qbuf_init(&b, 64);
        if (!b64url_decode(nonce, ACME_NONCE_LEN, &b) || b.len != RAW_LEN) {
                qbuf_free(&b);
                return false;
        }
        uint8_t raw[RAW_LEN], want[MAC_LEN];
        memcpy(raw, b.data, RAW_LEN);
        qbuf_free(&b);
        if (!mac(n, raw, want) || !pki_mac_equal(want, raw + 16, MAC_LEN))
                return false;
        int64_t exp = 0;
        for (int i = 0; i < 8; i++)
                exp = (int64_t)(((uint64_t)exp << 8) | raw[i]);
        int64_t now = now_s();
        if (exp < now)
                return false;
        bool fresh = false;
        pthread_mutex_lock(&n->mu);
        if (n->count + 1 > n->cap / 2)
                purge(n, now);
        if (exp >= n->floor && n->count + 1 <= n->cap / 2) {
                size_t j = slot_of(n, raw);
                fresh = true;
                while (n->tab[j].expiry) {
                        if (!memcmp(n->tab[j].id, raw, 16)) {
                                fresh = false;
                                break;
                        }
                        j = (j + 1) & (n->cap - 1);
                }
                if (fresh) {
                        memcpy(n->tab[j].id, raw, 16);
                        n->tab[j].expiry = exp;
                        n->count++;
                }
        }
        pthread_mutex_unlock(&n->mu);
        return fresh;
}
