/*
 * tls.h - the certificate and key of an HTTPS listener, as GnuTLS wants
 * them for MHD's certificate callback (internal to src/http).
 *
 * A `struct tls_cred` holds the whole chain (leaf first, then the issuing
 * CAs, all sent in the handshake) and the private key (RSA or ECDSA, PEM,
 * PKCS#8 or traditional, unencrypted). It is reference-counted: the server
 * keeps one reference on the current credential and every TLS connection
 * takes one when it is accepted and drops it when it closes, so swapping
 * the current credential (SIGHUP, renewal) never frees one a handshake or
 * a live connection still uses. Any thread may take or drop references.
 */
#ifndef QUILL_HTTP_TLS_H
#define QUILL_HTTP_TLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "../base/err.h"

struct tls_cred;

/* Parses the chain and the key and checks that the key belongs to the
 * leaf. QERR_TLS_INVALID with the reason otherwise. The new credential has
 * one reference (the caller's). */
enum qerr tls_cred_new(const char *chain_pem, const char *key_pem, struct tls_cred **out,
                       struct qerr_info *ei);
void tls_cred_ref(struct tls_cred *c);
/* Drops a reference; frees at zero. NULL is a no-op. */
void tls_cred_unref(struct tls_cred *c);

/* The GnuTLS priority string of every listener: TLS 1.2 and 1.3 only. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* For the MHD certificate callback: the chain and key of `c` (borrowed
 * while the caller holds a reference). */
void tls_cred_get(struct tls_cred *c, gnutls_pcert_st **pcerts, unsigned *n, gnutls_privkey_t *key);

#endif
