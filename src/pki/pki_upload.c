/*
 * pki_upload.c - checks a third-party certificate before it is stored
 * (RULES.md §7 upload; see pki_upload.h): the leaf reads, the private key
 * reads and belongs to it and is of an accepted type, and the chain verifies
 * up to a trust anchor.
 *
 * Trust anchors are Debian's system store, our own CA certificates
 * (`trusted_pem`) and any self-signed certificate the uploader put in the
 * chain; the other chain certificates are untrusted intermediates. Partial
 * chains are not accepted (the chain must end in a self-signed anchor) and
 * time is not checked, so an expired upload verifies: the caller reports
 * expiry from `not_after`. `anchor` names where the verified chain ended:
 * "quill" when its top is one of `trusted_pem`, else "system" when the system
 * store holds it (even if the uploader included it too), else "bundle".
 *
 * Memory: inputs are borrowed. On success `*out` owns its strings, names and
 * key (upload_info_clear releases them); on failure `*out` is left cleared.
 * No global state (OpenSSL's store loading is thread-safe); any thread.
 */
#include "pki_upload.h"

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdlib.h>
#include <string.h>

#include "../base/buf.h"
#include "pki_key.h"
#include "pki_pem.h"

static bool blank(const char *s, size_t len)
{
        for (size_t i = 0; s && i < len; i++)
                if (!strchr(" \t\r\n", s[i]) || s[i] == '\0')
                        return false;
        return true;
}

static bool is_self_signed(X509 *x)
{
        return X509_self_signed(x, 1) == 1;
}

static bool in_stack(STACK_OF(X509) * sk, X509 *x)
{
        for (int i = 0; i < sk_X509_num(sk); i++)
                if (X509_cmp(sk_X509_value(sk, i), x) == 0)
                        return true;
        return false;
}

/* Does the system trust store (/etc/ssl/certs) hold exactly x? */
static bool in_system_store(X509 *x)
{
        X509_STORE *st = X509_STORE_new();
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        STACK_OF(X509) *found = NULL;
        bool hit = false;
        if (!st || !ctx || !X509_STORE_set_default_paths(st) ||
            !X509_STORE_CTX_init(ctx, st, NULL, NULL))
                goto out;
        found = X509_STORE_CTX_get1_certs(ctx, X509_get_subject_name(x));
        hit = in_stack(found, x);
out:
        sk_X509_pop_free(found, X509_free);
        X509_STORE_CTX_free(ctx);
        X509_STORE_free(st);
        return hit;
}

static char *take_str(struct qbuf *b)
{
        char *s = (char *)qbuf_take(b, NULL);
        return s ? s : strdup("");
}

void upload_info_clear(struct upload_info *u)
{
        if (!u)
                return;
        for (size_t i = 0; i < u->nnames; i++)
                free(u->names[i]);
        free(u->names);
        free(u->issuer);
        free(u->cert_pem);
        free(u->chain_pem);
        EVP_PKEY_free(u->key);
        memset(u, 0, sizeof *u);
}

enum qerr pki_upload_check(const char *cert_pem, size_t cert_len, const char *key_pem,
                           size_t key_len, const char *key_password, const char *chain_pem,
                           size_t chain_len, const char *trusted_pem, struct upload_info *out,
                           struct qerr_info *ei)
{
        enum qerr rc = QERR_OK;
        struct qerr_info pe = {0};
        struct upload_info u = {0};
        X509 *leaf = NULL;
        STACK_OF(X509) *given = NULL;     /* everything in chain_pem */
        STACK_OF(X509) *untrusted = NULL; /* its non-self-signed part */
        STACK_OF(X509) *trusted = NULL;   /* trusted_pem */
        X509_STORE *store = NULL;
        X509_STORE_CTX *ctx = NULL;
        struct qbuf b;

        qbuf_init(&b, 4 * MAX_UPLOAD_BYTES);
        if (!out) {
                rc = qerr_set(ei, QERR_INTERNAL,
                              "The upload check was called without a result; "
                              "this is a bug, please report it.");
                goto out;
        }
        memset(out, 0, sizeof *out);

        /* The leaf. */
        if (!cert_pem || blank(cert_pem, cert_len)) {
                rc = qerr_set(ei, QERR_UPLOAD_CERT,
                              "No certificate was given; upload the certificate in PEM form.");
                goto out;
        }
        if (cert_len > MAX_UPLOAD_BYTES) {
                rc = qerr_set(ei, QERR_UPLOAD_CERT,
                              "The certificate file is larger than %u bytes; upload only the "
                              "certificate in PEM form.",
                              MAX_UPLOAD_BYTES);
                goto out;
        }
        if (pki_cert_read(cert_pem, cert_len, &leaf, &pe) != QERR_OK) {
                rc = qerr_set(ei, QERR_UPLOAD_CERT,
                              "The certificate could not be read: it is not valid PEM (or DER) "
                              "or it is truncated; upload the certificate file as issued.");
                goto out;
        }
        EVP_PKEY *pub = X509_get0_pubkey(leaf);
        if (!pub) {
                rc = qerr_set(ei, QERR_UPLOAD_CERT,
                              "The certificate's public key could not be read; upload a "
                              "certificate with an RSA, ECDSA or SM2 key.");
                goto out;
        }

        /* The key. */
        if (!key_pem || blank(key_pem, key_len)) {
                rc = qerr_set(ei, QERR_KEY_INVALID,
                              "No private key was given; upload the certificate's private key "
                              "in PEM form.");
                goto out;
        }
        if (key_len > MAX_UPLOAD_BYTES) {
                rc = qerr_set(ei, QERR_KEY_INVALID,
                              "The private key file is larger than %u bytes; upload only the "
                              "private key in PEM form.",
                              MAX_UPLOAD_BYTES);
                goto out;
        }
        rc = pki_key_from_pem(key_pem, key_len, key_password, &u.key, ei);
        if (rc != QERR_OK)
                goto out;
        if (!pki_key_matches(u.key, pub)) {
                rc = qerr_set(ei, QERR_UPLOAD_KEY_MISMATCH,
                              "The private key does not belong to this certificate (the public "
                              "keys differ); upload the key the certificate was requested with.");
                goto out;
        }
        rc = pki_key_describe(u.key, u.key_algorithm, ei);
        if (rc != QERR_OK)
                goto out;

        /* The chain and the anchors. */
        if (chain_len > MAX_UPLOAD_BYTES) {
                rc = qerr_set(ei, QERR_UPLOAD_CHAIN,
                              "The chain file is larger than %u bytes; upload only the "
                              "intermediate certificates (and optionally the root).",
                              MAX_UPLOAD_BYTES);
                goto out;
        }
        untrusted = sk_X509_new_null();
        store = X509_STORE_new();
        ctx = X509_STORE_CTX_new();
        if (!untrusted || !store || !ctx) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto out;
        }
        if (chain_pem && !blank(chain_pem, chain_len) &&
            pki_certs_read(chain_pem, chain_len, &given, &pe) != QERR_OK) {
                rc = qerr_set(ei, QERR_UPLOAD_CHAIN,
                              "The chain could not be read (%s); upload the intermediate "
                              "certificates in PEM form.",
                              qerr_message(&pe));
                goto out;
        }
        if (trusted_pem && !blank(trusted_pem, strlen(trusted_pem)) &&
            pki_certs_read(trusted_pem, strlen(trusted_pem), &trusted, &pe) != QERR_OK) {
                rc = qerr_set(ei, QERR_INTERNAL,
                              "Our own CA certificates could not be read (%s); check the CA "
                              "files in the data directory.",
                              qerr_message(&pe));
                goto out;
        }
        if (!X509_STORE_set_default_paths(store)) {
                rc = qerr_set(ei, QERR_INTERNAL,
                              "The system trust store could not be loaded; check that the "
                              "ca-certificates package is installed.");
                goto out;
        }
        for (int i = 0; i < sk_X509_num(trusted); i++)
                if (!X509_STORE_add_cert(store, sk_X509_value(trusted, i))) {
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                        goto out;
                }
        for (int i = 0; i < sk_X509_num(given); i++) {
                X509 *x = sk_X509_value(given, i);
                if (is_self_signed(x) ? !X509_STORE_add_cert(store, x)
                                      : !sk_X509_push(untrusted, x)) {
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                        goto out;
                }
        }

        /* Verify. */
        if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto out;
        }
        X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
        X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
        if (X509_verify_cert(ctx) != 1) {
                int err = X509_STORE_CTX_get_error(ctx);
                int depth = X509_STORE_CTX_get_error_depth(ctx);
                X509 *bad = X509_STORE_CTX_get_current_cert(ctx);
                char *who = bad ? pki_name_oneline(X509_get_subject_name(bad)) : NULL;
                rc = qerr_set(ei, QERR_UPLOAD_CHAIN,
                              "The chain does not verify: %s (at depth %d%s%.200s). Include "
                              "every intermediate certificate up to a trusted root, leaf-most "
                              "first.",
                              X509_verify_cert_error_string(err), depth, who ? ", " : "",
                              who ? who : "");
                free(who);
                goto out;
        }
        STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
        int nbuilt = sk_X509_num(built);
        X509 *top = nbuilt > 0 ? sk_X509_value(built, nbuilt - 1) : NULL;
        if (!top) {
                rc = qerr_set(ei, QERR_INTERNAL,
                              "The verified chain is empty; this is a bug, please report it.");
                goto out;
        }
        if (in_stack(trusted, top))
                snprintf(u.anchor, sizeof u.anchor, "quill");
        else if (in_system_store(top) || !in_stack(given, top))
                snprintf(u.anchor, sizeof u.anchor, "system");
        else
                snprintf(u.anchor, sizeof u.anchor, "bundle");

        /* Report. */
        pki_cert_serial_hex(leaf, u.serial, sizeof u.serial);
        rc = pki_cert_names(leaf, &u.names, &u.nnames, ei);
        if (rc != QERR_OK)
                goto out;
        u.not_before = pki_time_to_unix(X509_get0_notBefore(leaf));
        u.not_after = pki_time_to_unix(X509_get0_notAfter(leaf));
        u.issuer = pki_name_oneline(X509_get_issuer_name(leaf));
        if (!u.issuer) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto out;
        }
        if ((rc = pki_cert_pem(leaf, &b, ei)) != QERR_OK)
                goto out;
        if (!(u.cert_pem = take_str(&b))) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto out;
        }
        for (int i = 1; i < nbuilt; i++)
                if ((rc = pki_cert_pem(sk_X509_value(built, i), &b, ei)) != QERR_OK)
                        goto out;
        if (!(u.chain_pem = take_str(&b))) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto out;
        }
        *out = u;
        memset(&u, 0, sizeof u);
out:
        upload_info_clear(&u);
        qbuf_free(&b);
        X509_STORE_CTX_free(ctx);
        X509_STORE_free(store);
        sk_X509_free(untrusted); /* borrowed from `given` */
        sk_X509_pop_free(given, X509_free);
        sk_X509_pop_free(trusted, X509_free);
        X509_free(leaf);
        return rc;
}
