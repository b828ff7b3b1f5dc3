/*
 * signer_keys.c - the key directory of the signer process: the passphrase,
 * loading (and caching) CA keys, re-encrypting old key files, writing new
 * ones, and recognising a CA key. See signer_internal.h.
 *
 * Key files are <key_dir>/<key-id>.key, key-id being the lower-case hex
 * SHA-256 of the key's DER SubjectPublicKeyInfo; they are encrypted PKCS#8
 * under the CA passphrase (pki_key_to_pem: PBKDF2-HMAC-SHA256, 600,000
 * iterations, AES-256-CBC), mode 0600, written to a temporary file, fsync'd,
 * linked or renamed into place and the directory fsync'd (fs_write_file).
 * Single-threaded (the signer process).
 */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <string.h>
#include <unistd.h>

#include "../base/fsutil.h"
#include "../base/log.h"
#include "../pki/pki_key.h"
#include "../pki/pki_pem.h"
#include "signer_internal.h"

enum qerr signer_passphrase(struct signer_state *st, const char **out, struct qerr_info *ei)
{
        if (!st->passphrase) {
                if (st->note[0])
                        return qerr_set(ei, QERR_CA_PASSPHRASE_MISSING, "%s", st->note);
                return qerr_set(ei, QERR_CA_PASSPHRASE_MISSING, NULL);
        }
        if (strlen(st->passphrase) < MIN_CA_PASSPHRASE)
                return qerr_set(ei, QERR_CA_PASSPHRASE_WEAK,
                                "the CA passphrase has %zu characters; at least %d are required",
                                strlen(st->passphrase), MIN_CA_PASSPHRASE);
        *out = st->passphrase;
        return QERR_OK;
}

static void key_path(const struct signer_state *st, const char *id, char *out, size_t outsz)
{
        snprintf(out, outsz, "%s/%s.key", st->key_dir, id);
}

/* A key file written with older parameters (fewer PBKDF2 iterations, a
 * SHA-1 PRF, traditional PEM) is written again with today's, in place. A
 * failure is logged and the key still used: it is no weaker than before. */
static void upgrade_key_file(struct signer_state *st, const char *path, const char *id, EVP_PKEY *k,
                             const char *pass)
{
        struct qbuf pem;
        struct qerr_info ei;
        qbuf_init(&pem, 64 * 1024);
        enum qerr rc = pki_key_to_pem(k, pass, &pem, &ei);
        if (rc == QERR_OK)
                rc = fs_write_file(path, pem.data, pem.len, 0600, false, &ei);
        qbuf_free(&pem);
        if (rc == QERR_OK)
                qlog_info("CA key re-encrypted", "key_id=%s kdf=pbkdf2-hmac-sha256 iterations=%d",
                          id, PKI_PBKDF2_ITER);
        else
                qlog_error("CA key could not be re-encrypted", "key_id=%s code=%s", id,
                           qerr_code(rc));
        (void)st;
}

enum qerr signer_issuer_key(struct signer_state *st, X509 *issuer, EVP_PKEY **out,
                            struct qerr_info *ei)
{
        char id[65];
        EVP_PKEY *pub = X509_get0_pubkey(issuer);
        /* the key id of a cached issuer is computed once (encoding the
         * public key goes through OpenSSL's encoders) */
        struct cached_issuer *ci = NULL;
        for (size_t i = 0; i < st->nissuers && !ci; i++)
                if (st->issuers[i].x == issuer)
                        ci = &st->issuers[i];
        if (ci && ci->key_id[0]) {
                memcpy(id, ci->key_id, sizeof id);
        } else {
                if (!pub || pki_key_id(pub, id, ei) != QERR_OK)
                        return qerr_set(ei, QERR_SIGNER_REFUSED,
                                        "the issuer certificate has no usable key");
                if (ci)
                        memcpy(ci->key_id, id, sizeof id);
        }
        for (size_t i = 0; i < st->nkeys; i++)
                if (strcmp(st->keys[i].id, id) == 0) {
                        *out = st->keys[i].key;
                        return QERR_OK;
                }
        const char *pass;
        enum qerr rc = signer_passphrase(st, &pass, ei);
        if (rc != QERR_OK)
                return rc;
        char path[PATH_MAX + 160];
        key_path(st, id, path, sizeof path);
        struct qbuf b;
        qbuf_init(&b, 64 * 1024);
        struct qerr_info fe;
        if (fs_read_file(path, &b, &fe) != QERR_OK) {
                qbuf_free(&b);
                return qerr_set(ei, QERR_CA_MISSING,
                                "the signer has no key for this issuing CA (%s): %s", id,
                                qerr_message(&fe));
        }
        EVP_PKEY *k = NULL;
        rc = pki_key_from_pem(b.data, b.len, pass, &k, ei);
        bool old = rc == QERR_OK && pki_key_pem_needs_upgrade(b.data, b.len);
        qbuf_free(&b);
        if (rc == QERR_KEY_PASSWORD)
                return qerr_set(ei, QERR_CA_PASSPHRASE_WRONG, NULL);
        if (rc != QERR_OK)
                return qerr_set(ei, QERR_IO, "the CA key file %s is damaged", path);
        if (!pki_key_matches(k, pub)) {
                EVP_PKEY_free(k);
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "the CA key file does not match the issuer certificate");
        }
        if (old)
                upgrade_key_file(st, path, id, k, pass);
        if (st->nkeys == MAX_CACHED_KEYS) {
                EVP_PKEY_free(st->keys[0].key);
                memmove(st->keys, st->keys + 1, (MAX_CACHED_KEYS - 1) * sizeof st->keys[0]);
                st->nkeys--;
        }
        memcpy(st->keys[st->nkeys].id, id, 65);
        st->keys[st->nkeys++].key = k;
        *out = k;
        return QERR_OK;
}

enum qerr signer_store_new_key(struct signer_state *st, EVP_PKEY *k, char id[65],
                               struct qerr_info *ei)
{
        const char *pass;
        enum qerr rc = signer_passphrase(st, &pass, ei);
        if (rc != QERR_OK)
                return rc;
        if ((rc = pki_key_id(k, id, ei)) != QERR_OK)
                return rc;
        if ((rc = fs_mkdirs(st->key_dir, 0700, ei)) != QERR_OK)
                return rc;
        char path[PATH_MAX + 160];
        struct qbuf pem;
        qbuf_init(&pem, 64 * 1024);
        rc = pki_key_to_pem(k, pass, &pem, ei);
        if (rc == QERR_OK) {
                key_path(st, id, path, sizeof path);
                rc = fs_write_file(path, pem.data, pem.len, 0600, true, ei);
        }
        qbuf_free(&pem);
        return rc;
}

bool signer_is_ca_key(struct signer_state *st, EVP_PKEY *k)
{
        /* the same EC point may be encoded compressed or uncompressed: name
         * it the way CA key files are named, uncompressed */
        EVP_PKEY *canon = EVP_PKEY_dup(k);
        if (!canon)
                return true; /* cannot tell: refuse rather than risk it */
        if (EVP_PKEY_is_a(canon, "EC") || EVP_PKEY_is_a(canon, "SM2"))
                EVP_PKEY_set_utf8_string_param(canon, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                               "uncompressed");
        char id[65];
        struct qerr_info ei;
        enum qerr rc = pki_key_id(canon, id, &ei);
        EVP_PKEY_free(canon);
        ERR_clear_error();
        if (rc != QERR_OK)
                return true;
        for (size_t i = 0; i < st->nkeys; i++)
                if (strcmp(st->keys[i].id, id) == 0)
                        return true;
        if (signer_is_responder_key(st, id))
                return true;
        char path[PATH_MAX + 160];
        key_path(st, id, path, sizeof path);
        return access(path, F_OK) == 0;
}

enum qerr signer_load_issuer(struct signer_state *st, struct sbytes der, X509 **out,
                             struct qerr_info *ei)
{
        for (size_t i = 0; i < st->nissuers; i++) {
                struct cached_issuer *c = &st->issuers[i];
                if (c->len == der.len && memcmp(c->der, der.p, der.len) == 0) {
                        X509_up_ref(c->x);
                        *out = c->x;
                        return QERR_OK;
                }
        }
        const unsigned char *p = der.p;
        X509 *x = d2i_X509(NULL, &p, (long)der.len);
        if (!x || p != der.p + der.len) {
                X509_free(x);
                ERR_clear_error();
                return qerr_set(ei, QERR_SIGNER_REFUSED, "the issuer certificate does not parse");
        }
        pki_cert_set_sm2_id(x);
        if (X509_check_ca(x) < 1) {
                X509_free(x);
                return qerr_set(ei, QERR_SIGNER_REFUSED, "the issuer is not a CA certificate");
        }
        unsigned char *copy = st->nissuers < MAX_CACHED_ISSUERS ? malloc(der.len) : NULL;
        if (copy) {
                memcpy(copy, der.p, der.len);
                X509_up_ref(x);
                st->issuers[st->nissuers++] =
                    (struct cached_issuer){.der = copy, .len = der.len, .x = x};
        }
        *out = x;
        return QERR_OK;
}

void signer_issuers_free(struct signer_state *st)
{
        for (size_t i = 0; i < st->nissuers; i++) {
                X509_free(st->issuers[i].x);
                free(st->issuers[i].der);
        }
        st->nissuers = 0;
}
