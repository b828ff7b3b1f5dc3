/*
 * pki_upload.h - checks a third-party certificate before it is stored
 * (RULES.md §7 upload): the key matches, the chain verifies, and what it
 * covers and until when.
 *
 * Pure over its inputs (no store access); allocations in `struct
 * upload_info` are owned by it (upload_info_clear). Any thread.
 */
#ifndef QUILL_PKI_UPLOAD_H
#define QUILL_PKI_UPLOAD_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

#include "../base/err.h"

struct upload_info {
        char serial[41];
        char **names; /* SAN dNSNames / IPs, then CN if not among them */
        size_t nnames;
        long long not_before, not_after; /* Unix seconds */
        char key_algorithm[16];          /* as pki_key_describe names it */
        char *issuer;                    /* RFC 2253 one-line */
        char *cert_pem;                  /* the leaf, re-encoded */
        char *chain_pem;                 /* the chain as verified, leaf-most first, without
                                            the leaf; may be "" */
        EVP_PKEY *key;                   /* the matching private key (owned) */
        /* where the chain ended: "system" (Debian's trust store),
           "bundle" (a self-signed root given in the chain), or "quill" (one of
           our own CAs, from `trusted_pem`) */
        char anchor[16];
};

/* cert_pem: one certificate (PEM). key_pem: its private key (PEM; encrypted
 * with key_password when given). chain_pem: intermediates and optionally the
 * root (PEM), may be NULL. trusted_pem: extra trust anchors (our own CA
 * certificates), may be NULL; the system store (/etc/ssl/certs) is always
 * trusted too. Time is not checked (an expired upload is accepted and
 * reported: the caller reports expiry from not_after).
 * Errors: UPLOAD_CERT (unreadable), KEY_INVALID / KEY_PASSWORD,
 * UPLOAD_KEY_MISMATCH, UPLOAD_CHAIN (with the OpenSSL verify error text and
 * depth), KEY_WEAK / KEY_UNSUPPORTED. */
enum qerr pki_upload_check(const char *cert_pem, size_t cert_len, const char *key_pem,
                           size_t key_len, const char *key_password, const char *chain_pem,
                           size_t chain_len, const char *trusted_pem, struct upload_info *out,
                           struct qerr_info *ei);
void upload_info_clear(struct upload_info *u);

#endif
