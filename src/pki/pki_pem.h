/*
 * pki_pem.h - reading certificates from PEM (or DER) text supplied from
 * outside, and writing them back.
 *
 * Input is bounded by the caller (struct qbuf maximums). Returned X509 objects
 * and stacks are owned by the caller (X509_free / sk_X509_pop_free(sk, X509_free)).
 * Any thread.
 */
#ifndef QUILL_PKI_PEM_H
#define QUILL_PKI_PEM_H

#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stddef.h>

#include "../base/buf.h"
#include "../base/err.h"

/* One certificate, PEM or DER. PEM_INVALID on anything else (trailing
 * garbage after a PEM block is ignored, as OpenSSL does). */
enum qerr pki_cert_read(const void *data, size_t len, X509 **out, struct qerr_info *ei);
/* Every certificate in a PEM bundle, in order; at least one; PEM_INVALID
 * when a block is broken or there are none. */
enum qerr pki_certs_read(const void *data, size_t len, STACK_OF(X509) * *out, struct qerr_info *ei);
/* Appends the PEM of x to out. */
enum qerr pki_cert_pem(X509 *x, struct qbuf *out, struct qerr_info *ei);
/* Appends the DER of x to out. */
enum qerr pki_cert_der(X509 *x, struct qbuf *out, struct qerr_info *ei);
/* PEM text ("-----BEGIN <label>-----") of DER bytes, without parsing them. */
enum qerr pki_der_pem(const void *der, size_t len, const char *label, struct qbuf *out,
                      struct qerr_info *ei);
/* Lower-case hex of the serial (no leading zeros but at least "0"). */
void pki_cert_serial_hex(X509 *x, char *out, size_t outsz);
/* dNSName and iPAddress SANs (IPs as text) in order, then the subject CN if
 * it is not among them; caller frees each string and the array. */
enum qerr pki_cert_names(X509 *x, char ***names, size_t *n, struct qerr_info *ei);
/* One-line RFC 2253 form of a name; caller frees. */
char *pki_name_oneline(const X509_NAME *n);
/* not_before / not_after as Unix seconds. */
long long pki_time_to_unix(const ASN1_TIME *t);
/* Makes the verifier use PKI_SM2_ID for SM2 certificates in `sk` (no-op for
 * others); call before X509_verify_cert on chains that may hold SM2. */
void pki_certs_set_sm2_id(STACK_OF(X509) * sk);
/* subjectAltName entries for names: IP literals as iPAddress, the rest as
 * dNSName. NULL on allocation failure. Caller frees (GENERAL_NAMES_free). */
GENERAL_NAMES *pki_general_names(const char *const *names, size_t n);
/* Appends the PEM of a CSR to out. */
enum qerr pki_csr_pem(X509_REQ *req, struct qbuf *out, struct qerr_info *ei);
void pki_cert_set_sm2_id(X509 *x);

#endif
