/*
 * pki_ocsp.h - OCSP with OpenSSL: signing pre-made responses (in the
 * signer process), and the two things the responder's front needs computed
 * (the issuer hashes a CertID names a CA by, and an ETag).
 *
 * A response is the RFC 5019 profile: an OCSPResponse (successful) holding a
 * BasicOCSPResponse with one SingleResponse whose CertID uses SHA-1 (RFC
 * 5019 2.1.1), responderID byKey, producedAt now, thisUpdate and nextUpdate
 * as given, no extensions (no nonce: the answers are made before anyone
 * asks), signed by the delegated responder's key, with the responder
 * certificate included so relying parties can verify it from the issuing
 * CA. Each response is linted (lint_ocsp_response) before it is returned;
 * an error-level finding refuses with QERR_LINT_FAILED.
 *
 * Objects returned are the caller's. Any thread (no shared state).
 */
#ifndef QUILL_PKI_OCSP_H
#define QUILL_PKI_OCSP_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/err.h"

struct pki_ocsp_item {
        const uint8_t *serial; /* big-endian magnitude, 1..20 bytes */
        size_t serial_len;
        bool revoked;
        int64_t revoked_at;
        int reason; /* RFC 5280 CRLReason; 0 (unspecified): no reason field */
};

/* Appends the DER OCSPResponse for `it` to `out`. `private_ca`: SM2 allowed
 * by the linter. */
enum qerr pki_ocsp_sign(X509 *issuer, X509 *responder, EVP_PKEY *key, int64_t this_update,
                        int64_t next_update, const struct pki_ocsp_item *it, bool private_ca,
                        struct qbuf *out, struct qerr_info *ei);

/* SHA-1 of the certificate's subject DER and of its public key's BIT STRING
 * content: how a CertID names it as an issuer (RFC 6960 4.1.1). `cert` is
 * PEM or DER. */
enum qerr pki_ocsp_issuer_hashes(const void *cert, size_t len, uint8_t name_hash[20],
                                 uint8_t key_hash[20], struct qerr_info *ei);

/* The lower-case hex SHA-256 of `der` (an ETag). */
void pki_ocsp_etag(const uint8_t *der, size_t len, char out[65]);

#endif
