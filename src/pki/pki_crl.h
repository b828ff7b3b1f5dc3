/*
 * pki_crl.h - CRLs of any size, built as DER directly (RFC 5280 5.1).
 *
 * A CRL's entries are trivially structured, so they are encoded here with a
 * few byte writes each instead of OpenSSL's X509_REVOKED objects (which cost
 * hundreds of bytes and several allocations per entry). The work is split so
 * that the signer never holds a whole CRL:
 *
 *   main process: pki_crl_entry_encode() for each revoked certificate into
 *                 one buffer (the revokedCertificates content);
 *   signer:       pki_crl_tbs_parts() builds the TBSCertList head (version,
 *                 signature algorithm, issuer, times, revokedCertificates
 *                 header) and tail (crlExtensions: AKI, cRLNumber and the
 *                 critical issuingDistributionPoint), hashes head, entries
 *                 (checked one by one with pki_crl_entry_parse()) and tail,
 *                 and signs once;
 *   main process: pki_crl_wrap() adds the outer SEQUENCE, the algorithm and
 *                 the signature around head + entries + tail.
 *
 * Entry encoding is canonical (one byte string per entry value), so the
 * parser refuses anything that does not re-encode to the same bytes.
 *
 * The lint gate (issue 7) of a streamed CRL: the signer lints the header
 * and trailer it built through the full CRL linter (pki_crl_gate_header:
 * the same bytes on a CRL without entries, signed with the throwaway key)
 * and every entry as it arrives (pki_crl_gate_entry: the linter's entry
 * rules); the main process lints the assembled CRL before storing it
 * (lint_crl_der, which reads canonical entries one by one). See
 * docs/internals/lint.md.
 *
 * Memory: callers own every buffer; nothing is kept. Any thread.
 */
#ifndef QUILL_PKI_CRL_H
#define QUILL_PKI_CRL_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "pki_issue.h"

/* The longest encoded entry: SEQUENCE{INTEGER(21), GeneralizedTime(15),
 * SEQUENCE{SEQUENCE{OID, OCTET STRING{ENUMERATED}}}}. */
#define PKI_CRL_ENTRY_MAX 80
/* RFC 5280 CRLReason reasonCode values; 0 is never encoded (BR 7.2.2). */
#define PKI_CRL_REASON_MAX 10

struct pki_crl_entry {
        uint8_t serial[20]; /* big-endian magnitude, no leading zero byte */
        size_t serial_len;  /* 1..20 */
        int64_t revoked_at; /* Unix seconds */
        int reason;         /* 0: no reasonCode extension */
};

/* Encodes one RevokedCertificate into out[PKI_CRL_ENTRY_MAX]; returns its
 * length, or 0 when the serial is empty, longer than 20 bytes after its
 * leading zero bytes, zero, the time is outside years 1950..9999, or the
 * reason is outside 0..PKI_CRL_REASON_MAX. Leading zero bytes of `serial`
 * are ignored. */
size_t pki_crl_entry_encode(uint8_t *out, const uint8_t *serial, size_t serial_len,
                            int64_t revoked_at, int reason);

/* Reads one entry at p (len bytes available): it must be exactly what
 * pki_crl_entry_encode() writes for its values. Sets *used to its length.
 * QERR_PROTO (with a sentence) otherwise. */
enum qerr pki_crl_entry_parse(const uint8_t *p, size_t len, size_t *used, struct pki_crl_entry *out,
                              struct qerr_info *ei);

/* The length of the DER element (tag, length, content) starting at p, or 0
 * when it does not fit in len or its length is not minimal DER. */
size_t pki_der_element_len(const uint8_t *p, size_t len);
/* Writes a DER tag and minimal definite length into out[10]; returns the
 * header's length. */
size_t pki_der_header(uint8_t out[10], uint8_t tag, uint64_t len);

struct pki_crl_params {
        int64_t number; /* cRLNumber, >= 1 */
        int64_t this_update, next_update;
        const char *idp_url;  /* issuingDistributionPoint fullName; NULL or "": none */
        uint64_t entries_len; /* bytes of revokedCertificates content (0: none) */
};

/* Builds the head and tail of a TBSCertList for `issuer` (whose key the
 * signature context `sctx` signs with) and the signature AlgorithmIdentifier.
 * head + entries (params->entries_len bytes) + tail is the TBSCertList.
 * Appends to the three buffers. QERR_INTERNAL on encoding failures,
 * QERR_SIGNER_REFUSED on values that cannot be encoded (times, URL). */
enum qerr pki_crl_tbs_parts(X509 *issuer, EVP_MD_CTX *sctx, const struct pki_crl_params *p,
                            struct qbuf *head, struct qbuf *tail, struct qbuf *sigalg,
                            struct qerr_info *ei);

/* The bytes around a signed TBSCertList of tbs_len bytes: `prefix` (the
 * CertificateList SEQUENCE header) and `suffix` (algorithm + BIT STRING
 * signature). Appends to both. false when they do not fit. */
bool pki_crl_wrap(uint64_t tbs_len, const uint8_t *sigalg, size_t sigalg_len, const uint8_t *sig,
                  size_t sig_len, struct qbuf *prefix, struct qbuf *suffix);

/* The lint gate over what pki_crl_tbs_parts() built for `p` (head, tail,
 * sigalg, with the real key's signature context): builds the parts again
 * for the same CRL without entries with the throwaway key's context, checks
 * that they are the same bytes (but for the list header and the outer
 * length), signs that CRL with the throwaway key and lints its DER by the
 * gate's CRL rules. QERR_LINT_FAILED (naming the check) on an error-level
 * finding; QERR_INTERNAL when the bytes differ or cannot be made. */
enum qerr pki_crl_gate_header(X509 *issuer, const struct pki_lint_gate *gate,
                              const struct pki_crl_params *p, const struct qbuf *head,
                              const struct qbuf *tail, const struct qbuf *sigalg,
                              struct qerr_info *ei);
/* The linter's entry rules for one entry read by pki_crl_entry_parse():
 * QERR_LINT_FAILED naming the check (e_crl_entry_serial, e_crl_reason_...)
 * and the serial. */
enum qerr pki_crl_gate_entry(const struct pki_crl_entry *e, struct qerr_info *ei);

/* Checks `sig` over head + entries + tail with the issuer's public key
 * (defence against a mismatch between what was signed and what is stored).
 * QERR_INTERNAL when it does not verify. */
enum qerr pki_crl_verify_parts(X509 *issuer, const uint8_t *head, size_t head_len,
                               const uint8_t *entries, size_t entries_len, const uint8_t *tail,
                               size_t tail_len, const uint8_t *sig, size_t sig_len,
                               struct qerr_info *ei);

#endif
