/*
 * ocsp_cache.c - the OCSP answer table; see ocsp_cache.h.
 *
 * Open addressing with linear probing over a power-of-two array of slots
 * (64-bit hash + blob pointer); a removed slot becomes a tombstone until the
 * next rehash. The hash is seeded per cache from getrandom(), so nobody can
 * aim queries at one probe chain (they could only ever hit our own serials
 * anyway). The table grows (or is rebuilt to drop tombstones) when live
 * slots plus tombstones pass 70 %.
 */
#include "ocsp_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../base/metrics.h"

#define MIN_SLOTS 1024u

static struct ocsp_blob *const TOMB = (struct ocsp_blob *)(uintptr_t)1;

struct slot {
        uint64_t h;
        struct ocsp_blob *b; /* NULL: empty; TOMB: removed */
};

struct ocsp_cache {
        pthread_rwlock_t lock;
        struct slot *slots;
        size_t cap; /* power of two */
        size_t live, tombs;
        uint64_t seed;
        struct ocsp_issuer issuers[OCSP_MAX_ISSUERS];
        size_t nissuers;
        struct metric_series *answers[OCSP_ANSWER__COUNT];
        /* for the gauges, read when /metrics is rendered */
        atomic_size_t live_count;
        atomic_llong oldest; /* oldest thisUpdate as of the last sweep; 0: none */
};

/* ---- blobs ---- */

static void http_date(qtime_t t, char out[OCSP_HTTP_DATE])
{
        static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        time_t tt = (time_t)t;
        struct tm tm;
        if (!gmtime_r(&tt, &tm)) {
                snprintf(out, OCSP_HTTP_DATE, "Thu, 01 Jan 1970 00:00:00 GMT");
                return;
        }
        snprintf(out, OCSP_HTTP_DATE, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
                 tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
}

struct ocsp_blob *ocsp_blob_new(int64_t ca_id, const uint8_t *serial, size_t serial_len,
                                bool revoked, qtime_t this_update, qtime_t next_update,
                                const char *etag_hex, const uint8_t *der, size_t len)
{
        if (serial_len == 0 || serial_len > OCSP_MAX_SERIAL || len == 0 || !der ||
            strlen(etag_hex) + 3 > OCSP_ETAG_MAX)
                return NULL;
        struct ocsp_blob *b = malloc(sizeof *b + len);
        if (!b)
                return NULL;
        memset(b, 0, sizeof *b);
        atomic_init(&b->refs, 1);
        b->ca_id = ca_id;
        memcpy(b->serial, serial, serial_len);
        b->serial_len = serial_len;
        b->revoked = revoked;
        b->this_update = this_update;
        b->next_update = next_update;
        snprintf(b->etag, sizeof b->etag, "\"%s\"", etag_hex);
        http_date(this_update, b->last_modified);
        http_date(next_update, b->expires);
        b->len = len;
        memcpy(b->der, der, len);
        return b;
}

void ocsp_blob_ref(struct ocsp_blob *b)
{
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

void ocsp_blob_unref(void *arg)
{
        struct ocsp_blob *b = arg;
        if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
                free(b);
}

/* ---- hashing ---- */

static uint64_t mix(uint64_t z)
{
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

static uint64_t key_hash(const struct ocsp_cache *c, int64_t ca, const uint8_t *s, size_t n)
{
        uint64_t h = c->seed ^ mix((uint64_t)ca + 0x9e3779b97f4a7c15ull);
        for (size_t i = 0; i < n; i++)
                h = (h ^ s[i]) * 0x100000001b3ull;
        h = mix(h ^ n);
        return h ? h : 1;
}

static bool same_key(const struct ocsp_blob *b, int64_t ca, const uint8_t *s, size_t n)
{
        return b->ca_id == ca && b->serial_len == n && memcmp(b->serial, s, n) == 0;
}

/* ---- the table (callers hold the lock) ---- */

static struct slot *find(const struct ocsp_cache *c, uint64_t h, int64_t ca, const uint8_t *s,
                         size_t n)
{
        size_t mask = c->cap - 1;
        for (size_t i = h & mask, probes = 0; probes < c->cap; i = (i + 1) & mask, probes++) {
                struct slot *sl = &c->slots[i];
                if (!sl->b)
                        return NULL;
                if (sl->b != TOMB && sl->h == h && same_key(sl->b, ca, s, n))
                        return sl;
        }
        return NULL;
}

/* Rebuilds the table with `cap` slots (drops tombstones). */
static bool rehash(struct ocsp_cache *c, size_t cap)
{
        struct slot *ns = calloc(cap, sizeof *ns);
        if (!ns)
                return false;
        for (size_t i = 0; i < c->cap; i++) {
                struct slot *sl = &c->slots[i];
                if (!sl->b || sl->b == TOMB)
                        continue;
                size_t j = sl->h & (cap - 1);
                while (ns[j].b)
                        j = (j + 1) & (cap - 1);
                ns[j] = *sl;
        }
        free(c->slots);
        c->slots = ns;
        c->cap = cap;
        c->tombs = 0;
        return true;
}

/* ---- gauges (the process's cache: `quill serve` has one) ---- */

#define GAUGE_SIZE "quill_ocsp_cache_responses"
#define GAUGE_SIZE_HELP "Pre-signed OCSP responses held in memory."
#define GAUGE_AGE "quill_ocsp_cache_oldest_age_seconds"
#define GAUGE_AGE_HELP                                                                             \
        "Age (now - thisUpdate) of the oldest OCSP response held in memory (the oldest is "        \
        "found again at each sweep, every few seconds)."

static void emit_size(void *arg, struct metrics_emitter *e)
{
        struct ocsp_cache *c = arg;
        metrics_emit(e, (double)atomic_load(&c->live_count), NULL);
}

static void emit_age(void *arg, struct metrics_emitter *e)
{
        struct ocsp_cache *c = arg;
        long long oldest = atomic_load(&c->oldest);
        long long now = (long long)time(NULL);
        metrics_emit(e, oldest && now > oldest ? (double)(now - oldest) : 0.0, NULL);
}

/* ---- public ---- */

struct ocsp_cache *ocsp_cache_new(void)
{
        struct ocsp_cache *c = calloc(1, sizeof *c);
        if (!c)
                return NULL;
        pthread_rwlockattr_t attr;
        pthread_rwlockattr_init(&attr);
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        int rc = pthread_rwlock_init(&c->lock, &attr);
        pthread_rwlockattr_destroy(&attr);
        c->cap = MIN_SLOTS;
        c->slots = rc == 0 ? calloc(c->cap, sizeof *c->slots) : NULL;
        if (!c->slots) {
                if (rc == 0)
                        pthread_rwlock_destroy(&c->lock);
                free(c);
                return NULL;
        }
        if (getrandom(&c->seed, sizeof c->seed, 0) != (ssize_t)sizeof c->seed)
                c->seed = (uint64_t)(uintptr_t)c ^ (uint64_t)time(NULL);
        static const char *const names[OCSP_ANSWER__COUNT] = {"good", "revoked", "unauthorized",
                                                              "malformed", "try_later"};
        static const char *const labels[] = {"status", NULL};
        struct metric_family *f = metrics_family(
            METRIC_COUNTER, "quill_ocsp_requests_total",
            "OCSP requests answered, by what was answered (good, revoked, unauthorized, "
            "malformed, try_later).",
            labels, NULL, 0);
        for (int i = 0; i < OCSP_ANSWER__COUNT; i++) {
                const char *v[] = {names[i]};
                c->answers[i] = metrics_series(f, v);
        }
        atomic_init(&c->live_count, 0);
        atomic_init(&c->oldest, 0);
        metrics_gauge_fn(GAUGE_SIZE, GAUGE_SIZE_HELP, NULL, emit_size, c);
        metrics_gauge_fn(GAUGE_AGE, GAUGE_AGE_HELP, NULL, emit_age, c);
        return c;
}

void ocsp_cache_free(struct ocsp_cache *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->cap; i++)
                if (c->slots[i].b && c->slots[i].b != TOMB)
                        ocsp_blob_unref(c->slots[i].b);
        free(c->slots);
        pthread_rwlock_destroy(&c->lock);
        metrics_gauge_fn(GAUGE_SIZE, GAUGE_SIZE_HELP, NULL, NULL, NULL);
        metrics_gauge_fn(GAUGE_AGE, GAUGE_AGE_HELP, NULL, NULL, NULL);
        free(c);
}

void ocsp_cache_set_issuers(struct ocsp_cache *c, const struct ocsp_issuer *v, size_t n)
{
        if (n > OCSP_MAX_ISSUERS)
                n = OCSP_MAX_ISSUERS;
        pthread_rwlock_wrlock(&c->lock);
        if (n)
                memcpy(c->issuers, v, n * sizeof *v);
        c->nissuers = n;
        pthread_rwlock_unlock(&c->lock);
}

bool ocsp_cache_put(struct ocsp_cache *c, struct ocsp_blob *b)
{
        uint64_t h = key_hash(c, b->ca_id, b->serial, b->serial_len);
        struct ocsp_blob *old = NULL;
        bool ok = true;
        pthread_rwlock_wrlock(&c->lock);
        struct slot *sl = find(c, h, b->ca_id, b->serial, b->serial_len);
        if (sl) {
                old = sl->b;
                sl->b = b;
        } else {
                if ((c->live + c->tombs + 1) * 10 > c->cap * 7) {
                        size_t cap = (c->live + 1) * 10 > c->cap * 5 ? c->cap * 2 : c->cap;
                        ok = rehash(c, cap);
                }
                if (ok) {
                        size_t mask = c->cap - 1, i = h & mask;
                        while (c->slots[i].b && c->slots[i].b != TOMB)
                                i = (i + 1) & mask;
                        if (c->slots[i].b == TOMB)
                                c->tombs--;
                        c->slots[i].h = h;
                        c->slots[i].b = b;
                        c->live++;
                }
        }
        if (ok) {
                long long oldest = atomic_load(&c->oldest);
                if (!oldest || b->this_update < oldest)
                        atomic_store(&c->oldest, (long long)b->this_update);
                atomic_store(&c->live_count, c->live);
        }
        pthread_rwlock_unlock(&c->lock);
        ocsp_blob_unref(old);
        if (!ok)
                ocsp_blob_unref(b);
        return ok;
}

static bool issuer_known(const struct ocsp_cache *c, const struct ocsp_certid *id, int64_t *ca)
{
        if (id->hash != OCSP_HASH_SHA1 || id->name_hash_len != OCSP_SHA1_LEN ||
            id->key_hash_len != OCSP_SHA1_LEN)
                return false;
        for (size_t i = 0; i < c->nissuers; i++) {
                const struct ocsp_issuer *is = &c->issuers[i];
                if (memcmp(is->key_hash, id->key_hash, OCSP_SHA1_LEN) == 0 &&
                    memcmp(is->name_hash, id->name_hash, OCSP_SHA1_LEN) == 0) {
                        *ca = is->ca_id;
                        return true;
                }
        }
        return false;
}

enum ocsp_lookup ocsp_cache_lookup(struct ocsp_cache *c, const struct ocsp_certid *id, qtime_t now,
                                   struct ocsp_blob **out)
{
        *out = NULL;
        if (id->serial_negative || id->serial_len == 0 || id->serial_len > OCSP_MAX_SERIAL)
                return OCSP_LOOKUP_UNKNOWN;
        enum ocsp_lookup r = OCSP_LOOKUP_UNKNOWN;
        pthread_rwlock_rdlock(&c->lock);
        int64_t ca;
        if (issuer_known(c, id, &ca)) {
                uint64_t h = key_hash(c, ca, id->serial, id->serial_len);
                struct slot *sl = find(c, h, ca, id->serial, id->serial_len);
                if (sl && sl->b->next_update <= now) {
                        r = OCSP_LOOKUP_STALE;
                } else if (sl) {
                        ocsp_blob_ref(sl->b);
                        *out = sl->b;
                        r = OCSP_LOOKUP_FOUND;
                }
        }
        pthread_rwlock_unlock(&c->lock);
        return r;
}

size_t ocsp_cache_sweep(struct ocsp_cache *c, qtime_t now)
{
        size_t gone = 0, live;
        qtime_t oldest = 0;
        struct ocsp_blob **drop = NULL;
        size_t ndrop = 0, cdrop = 0;
        pthread_rwlock_wrlock(&c->lock);
        for (size_t i = 0; i < c->cap; i++) {
                struct slot *sl = &c->slots[i];
                if (!sl->b || sl->b == TOMB)
                        continue;
                if (sl->b->next_update > now) {
                        if (!oldest || sl->b->this_update < oldest)
                                oldest = sl->b->this_update;
                        continue;
                }
                if (ndrop == cdrop) {
                        size_t nc = cdrop ? cdrop * 2 : 64;
                        struct ocsp_blob **nd = realloc(drop, nc * sizeof *nd);
                        if (!nd)
                                continue; /* out of memory: keep it for the next sweep */
                        drop = nd;
                        cdrop = nc;
                }
                drop[ndrop++] = sl->b;
                sl->b = TOMB;
                c->live--;
                c->tombs++;
                gone++;
        }
        live = c->live;
        atomic_store(&c->live_count, live);
        atomic_store(&c->oldest, (long long)oldest);
        pthread_rwlock_unlock(&c->lock);
        for (size_t i = 0; i < ndrop; i++)
                ocsp_blob_unref(drop[i]);
        free(drop);
        return gone;
}

void ocsp_cache_stats(struct ocsp_cache *c, size_t *count, qtime_t *oldest_this_update)
{
        qtime_t oldest = 0;
        pthread_rwlock_rdlock(&c->lock);
        *count = c->live;
        for (size_t i = 0; i < c->cap; i++) {
                const struct slot *sl = &c->slots[i];
                if (sl->b && sl->b != TOMB && (!oldest || sl->b->this_update < oldest))
                        oldest = sl->b->this_update;
        }
        pthread_rwlock_unlock(&c->lock);
        *oldest_this_update = oldest;
}

void ocsp_cache_count(struct ocsp_cache *c, enum ocsp_answer a)
{
        if ((unsigned)a < OCSP_ANSWER__COUNT)
                metrics_inc(c->answers[a]);
}
