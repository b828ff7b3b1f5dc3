/*
 * lint_internal.h - what the linter's files share (lint_common.c,
 * lint_names.c, lint_cert.c, lint_cert_ext.c, lint_crl.c, lint_ocsp.c): the
 * finding writer, a bounded DER walker, time and algorithm helpers. Not for
 * other modules; see lint.h for the interface. Same threading rules.
 */
#ifndef QUILL_LINT_INTERNAL_H
#define QUILL_LINT_INTERNAL_H

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lint.h"

/* Adds a finding of check `c` (message printf-style; bytes outside printable
 * ASCII become '?'). Counts errors even when the report is full. */
void lint_add(struct lint_report *r, enum lint_check_id c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- DER framing (bounded, no allocation) ---- */

/* The parts of a signed structure (Certificate, CertificateList):
 * SEQUENCE { tbs SEQUENCE, AlgorithmIdentifier, BIT STRING }. Pointers into
 * the input. */
struct der_signed {
        const uint8_t *tbs;
        size_t tbs_len;     /* the whole TLV */
        const uint8_t *alg; /* outer signatureAlgorithm TLV */
        size_t alg_len;
        const uint8_t *inner; /* the signature AlgorithmIdentifier inside tbs, or NULL */
        size_t inner_len;
        size_t total; /* bytes of the outer TLV */
};
/* `crl`: tbs starts with an optional INTEGER version (CertificateList)
 * instead of an optional [0] version and the serial (Certificate). false
 * when the framing is broken. */
bool lint_der_signed(const uint8_t *p, size_t len, bool crl, struct der_signed *out);

/* ---- times ---- */

/* Unix seconds of an ASN1_TIME; false when it does not parse. */
bool lint_time(const ASN1_TIME *t, int64_t *out);
/* RFC 5280 4.1.2.5: UTCTime YYMMDDHHMMSSZ through 2049, GeneralizedTime
 * YYYYMMDDHHMMSSZ from 2050 (generalized_only: always GeneralizedTime, as
 * in OCSP). Writes the problem into why[96] when it returns false. */
bool lint_time_encoding_ok(const ASN1_TIME *t, bool generalized_only, char why[96]);
/* "2026-04-01 12:00:00 UTC" into out[32]. */
void lint_fmt_time(int64_t t, char out[32]);

/* ---- algorithms and keys ---- */

enum lint_key_kind { LK_NONE, LK_RSA, LK_P256, LK_P384, LK_SM2, LK_OTHER_EC, LK_OTHER };

/* The kind of a SubjectPublicKeyInfo, by its AlgorithmIdentifier. */
enum lint_key_kind lint_key_kind(const X509_PUBKEY *pk);
const char *lint_key_kind_name(enum lint_key_kind k);

struct lint_sigalg {
        char name[64];           /* OID name or dotted text, for messages */
        bool sha1;               /* SHA-1 anywhere (RSA-PSS hash and MGF1 included) */
        bool sm2;                /* SM2-with-SM3 */
        bool allowed;            /* one of the BR's algorithms (SM2 counted apart) */
        char why[160];           /* when not allowed: what is wrong */
        enum lint_key_kind fits; /* the key kind it belongs to (LK_RSA for RSA-PSS) */
        bool ecdsa_sha512;       /* fits P-521 only */
};
void lint_sigalg(const X509_ALGOR *a, struct lint_sigalg *out);
/* Does a signature algorithm fit the signer's key kind? */
bool lint_sigalg_fits(const struct lint_sigalg *s, enum lint_key_kind k);

/* Adds the findings for a signature algorithm (SHA-1, allowed list, SM2
 * outside the private profile, the issuer's key) with the check ids of the
 * object being linted. `issuer_kind` LK_NONE: not known. */
struct lint_sig_ids {
        enum lint_check_id sha1, not_allowed, issuer_key;
};
void lint_check_sigalg(struct lint_report *r, const X509_ALGOR *a, bool private_rules,
                       enum lint_key_kind issuer_kind, const struct lint_sig_ids *ids,
                       const char *what);

/* ---- extensions ---- */

/* Duplicates, unknown critical and undecodable extensions of a stack, with
 * the check ids given (the CRL and OCSP checks use one id for all three). */
struct lint_ext_ids {
        enum lint_check_id duplicate, unknown_critical, malformed;
};
void lint_check_exts(struct lint_report *r, const STACK_OF(X509_EXTENSION) * exts,
                     const int *known_critical, size_t nknown, const struct lint_ext_ids *ids,
                     const char *where);
/* lint_crl_der through OpenSSL alone, whatever the entries (lint_crl.c;
 * the tests compare it with the fast path). */
enum qerr lint_crl_der_whole(const uint8_t *der, size_t len, const struct lint_crl_opts *o,
                             struct lint_report *out, struct qerr_info *ei);
/* Reason codes of CRL entries and OCSP responses: LC__COUNT when allowed,
 * else the check that refuses it (an explicit 0 included, for CRLs). */
enum lint_check_id lint_reason_check(long reason, bool crl);

/* ---- names (lint_names.c) ---- */

/* One dNSName: syntax always, internal names and public suffixes when
 * `public_rules`. */
void lint_dnsname(struct lint_report *r, const unsigned char *p, size_t len, bool public_rules);
/* One iPAddress: length always, reserved ranges when `public_rules`. Writes
 * its text form into text[46] ("" when the length is wrong). */
void lint_ipaddr(struct lint_report *r, const unsigned char *p, size_t len, bool public_rules,
                 char text[46]);
/* A printable copy of outside bytes for messages (at most outsz - 1 bytes,
 * "..." when cut). */
void lint_printable(const unsigned char *p, size_t len, char *out, size_t outsz);

/* ---- certificate checks (lint_cert_ext.c) ---- */

struct lint_cert_ctx {
        X509 *x;
        struct lint_report *r;
        const struct lint_cert_opts *o;
        enum cert_profile profile;
        bool pub; /* dv, ov or ev rules */
        enum lint_role role;
        X509 *issuer; /* the issuer certificate when known (x itself for a self-signed
                         one), else NULL; borrowed */
        enum lint_key_kind key;
};
void lint_cert_names(struct lint_cert_ctx *c);
void lint_cert_subject(struct lint_cert_ctx *c);
void lint_cert_usage(struct lint_cert_ctx *c);
void lint_cert_ids(struct lint_cert_ctx *c);
void lint_cert_urls(struct lint_cert_ctx *c);
void lint_cert_policies(struct lint_cert_ctx *c);
void lint_cert_exts(struct lint_cert_ctx *c);
/* lint_responder.c: the OCSP responder role's usage checks (instead of
 * lint_cert_usage's), and whether a certificate's EKU names OCSP signing. */
void lint_cert_responder(struct lint_cert_ctx *c);
bool lint_is_responder(X509 *x);

/* CA/B Forum reserved policy identifiers (BR 7.1.6.1). */
#define LINT_OID_DV "2.23.140.1.2.1"
#define LINT_OID_OV "2.23.140.1.2.2"
#define LINT_OID_EV "2.23.140.1.1"
#define LINT_OID_IV "2.23.140.1.2.3"

#endif
