/*
 * tls.c - reference-counted GnuTLS credentials for the HTTPS listeners; see
 * tls.h.
 */
#include "tls.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TLS_MAX_CHAIN 8

struct tls_cred {
        atomic_int refs;
        gnutls_pcert_st pcerts[TLS_MAX_CHAIN];
        unsigned npcerts;
        gnutls_privkey_t key;
};

static void cred_free(struct tls_cred *c)
{
        for (unsigned i = 0; i < c->npcerts; i++)
                gnutls_pcert_deinit(&c->pcerts[i]);
        if (c->key)
                gnutls_privkey_deinit(c->key);
        free(c);
}

/* Whether `key` is the private half of the leaf's public key: both public
 * keys exported as DER SubjectPublicKeyInfo and compared. */
static bool key_matches(gnutls_privkey_t key, gnutls_pcert_st *leaf)
{
        gnutls_pubkey_t pub = NULL;
        gnutls_datum_t a = {NULL, 0}, b = {NULL, 0};
        bool same = false;
        if (gnutls_pubkey_init(&pub) == 0 && gnutls_pubkey_import_privkey(pub, key, 0, 0) == 0 &&
            gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &a) == 0 &&
            gnutls_pubkey_export2(leaf->pubkey, GNUTLS_X509_FMT_DER, &b) == 0)
                same = a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
        gnutls_free(a.data);
        gnutls_free(b.data);
        if (pub)
                gnutls_pubkey_deinit(pub);
        return same;
}

enum qerr tls_cred_new(const char *chain_pem, const char *key_pem, struct tls_cred **out,
                       struct qerr_info *ei)
{
        *out = NULL;
        if (!chain_pem || !key_pem || !*chain_pem || !*key_pem)
                return qerr_set(ei, QERR_TLS_INVALID,
                                "an HTTPS listener needs a certificate "
                                "chain and a private key");
        struct tls_cred *c = calloc(1, sizeof *c);
        if (!c)
                return qerr_set(ei, QERR_NOMEM, NULL);
        atomic_init(&c->refs, 1);
        gnutls_datum_t chain = {(unsigned char *)chain_pem, (unsigned)strlen(chain_pem)};
        gnutls_datum_t key = {(unsigned char *)key_pem, (unsigned)strlen(key_pem)};
        unsigned n = TLS_MAX_CHAIN;
        int rc = gnutls_pcert_list_import_x509_raw(c->pcerts, &n, &chain, GNUTLS_X509_FMT_PEM, 0);
        if (rc < 0 || n == 0) {
                free(c);
                return qerr_set(ei, QERR_TLS_INVALID,
                                "the certificate chain could not be read (%s); give PEM "
                                "certificates, leaf first, at most %d",
                                rc < 0 ? gnutls_strerror(rc) : "no certificate", TLS_MAX_CHAIN);
        }
        c->npcerts = n;
        rc = gnutls_privkey_init(&c->key);
        if (rc == 0)
                rc = gnutls_privkey_import_x509_raw(c->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
        if (rc < 0) {
                cred_free(c);
                return qerr_set(ei, QERR_TLS_INVALID,
                                "the private key could not be read (%s); give an unencrypted "
                                "PEM key (RSA or ECDSA)",
                                gnutls_strerror(rc));
        }
        if (!key_matches(c->key, &c->pcerts[0])) {
                cred_free(c);
                return qerr_set(ei, QERR_TLS_INVALID,
                                "the private key does not belong to the first certificate of "
                                "the chain; give the leaf's own key, leaf first in the chain");
        }
        *out = c;
        return QERR_OK;
}

void tls_cred_ref(struct tls_cred *c)
{
        if (c)
                atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void tls_cred_unref(struct tls_cred *c)
{
        if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
                cred_free(c);
}

void tls_cred_get(struct tls_cred *c, gnutls_pcert_st **pcerts, unsigned *n, gnutls_privkey_t *key)
{
        *pcerts = c->pcerts;
        *n = c->npcerts;
        *key = c->key;
}
