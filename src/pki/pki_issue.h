/*
 * pki_issue.h - builds and signs certificates and CRLs. Only the signer
 * process calls this (it is the only holder of CA keys).
 *
 * The end-entity profile is fixed here, not chosen by the caller: RFC 5280
 * and the CA/B Forum TLS server profile (SAN always; CN = first name when it
 * fits 64 bytes; keyUsage critical; EKU serverAuth; basicConstraints critical
 * CA:FALSE; SKI; AKI; CRL DP; AIA OCSP + caIssuers; CA/B policy OID for
 * public profiles). Callers pass facts; they cannot ask for a CA flag or
 * other extensions. Returned X509 / X509_CRL are owned by the caller.
 * Any thread (no shared state).
 *
 * The lint gate (issue 7): with a `struct pki_lint_gate`, the certificate or
 * CRL is first signed with a throwaway key of the signing key's kind
 * (pki_lint_key_new: the same algorithm and curve, so the same signature
 * algorithm identifiers), encoded to DER and linted (lint.h) exactly as it
 * will be issued; an error-level finding refuses with QERR_LINT_FAILED and a
 * sentence naming the check, and the real key never signs. Otherwise the
 * real key signs, and the to-be-signed bytes are compared with the linted
 * ones (they must be equal, or QERR_INTERNAL). Why a throwaway signature
 * rather than linting the unsigned structure: the linter then reads the very
 * DER a relying party would, signature algorithm included, through the same
 * parser as `quill lint`.
 */
#ifndef QUILL_PKI_ISSUE_H
#define QUILL_PKI_ISSUE_H

#include <openssl/x509.h>
#include <stdint.h>

#include "../base/err.h"
#include "../base/model.h"
#include "lint.h"

struct pki_lint_gate {
        EVP_PKEY *lint_key;                /* throwaway key (borrowed) */
        const struct lint_cert_opts *cert; /* rules for a certificate */
        const struct lint_crl_opts *crl;   /* rules for a CRL */
        struct lint_report *report;        /* receives the findings; NULL: discarded */
};

/* A fresh throwaway key of `like`'s kind: RSA 1024 for any RSA key (the
 * signature algorithm does not depend on the size, and the signature is
 * discarded), the same curve for EC, SM2 for SM2. Caller frees.
 * KEY_UNSUPPORTED for other kinds. */
enum qerr pki_lint_key_new(EVP_PKEY *like, EVP_PKEY **out, struct qerr_info *ei);

struct ee_params {
        EVP_PKEY *subject_key;    /* public key (borrowed) */
        const char *const *names; /* normalised DNS names or IP literals */
        size_t nnames;
        int64_t not_before, not_after;
        const uint8_t *serial; /* big-endian, positive (top bit clear), 1..20 bytes */
        size_t serial_len;
        enum cert_profile profile;
        const char *crl_url, *ocsp_url, *ca_issuers_url; /* may be NULL/"" */
        /* OV/EV subject organisation (BR 7.1.2.7.4); NULL for DV/private */
        const char *org_o, *org_c, *org_st, *org_l;
        const struct pki_lint_gate *lint; /* NULL: no lint (tests only) */
};

enum qerr pki_issue_ee(X509 *issuer, EVP_PKEY *issuer_key, const struct ee_params *p, X509 **out,
                       struct qerr_info *ei);

struct ca_params {
        const char *subject; /* "CN=...,O=..." or "/CN=.../O=..." */
        EVP_PKEY *key;       /* the new CA's key (borrowed) */
        X509 *issuer;        /* NULL: self-signed root */
        EVP_PKEY *issuer_key;
        int64_t not_before, not_after;
        const char *crl_url, *ca_issuers_url; /* for subordinate CAs */
        const struct pki_lint_gate *lint;     /* NULL: no lint (tests only) */
};

enum qerr pki_issue_ca(const struct ca_params *p, X509 **out, struct qerr_info *ei);

/* A whole CRL built with OpenSSL's objects, held in memory: the tests' and
 * the linter's independent reference. quill's own CRLs, of any size, are
 * built as DER in parts and streamed through the signer (pki_crl.h). */
struct crl_item {
        const uint8_t *serial;
        size_t serial_len;
        int64_t revoked_at;
        int reason; /* 0 = unspecified: no reasonCode extension (BR 7.2.2) */
};

enum qerr pki_issue_crl(X509 *issuer, EVP_PKEY *issuer_key, int64_t crl_number, int64_t this_update,
                        int64_t next_update, const struct crl_item *items, size_t nitems,
                        X509_CRL **out, struct qerr_info *ei);
/* The same through the lint gate (gate NULL: none). */
enum qerr pki_issue_crl_gated(X509 *issuer, EVP_PKEY *issuer_key, int64_t crl_number,
                              int64_t this_update, int64_t next_update,
                              const struct crl_item *items, size_t nitems,
                              const struct pki_lint_gate *gate, X509_CRL **out,
                              struct qerr_info *ei);

/* A delegated OCSP responder certificate (RFC 6960 4.2.2.2, BR 7.1.2.8)
 * for `issuer`: the issuer's subject with " OCSP Responder" added to its CN,
 * a random 16-byte serial, keyUsage critical digitalSignature, extKeyUsage
 * id-kp-OCSPSigning, id-pkix-ocsp-nocheck, basicConstraints critical
 * CA:FALSE, SKI, AKI; nothing else. Through the lint gate when `lint` is
 * given (role LINT_ROLE_OCSP_RESPONDER). */
struct responder_params {
        EVP_PKEY *key; /* the responder's public key (borrowed) */
        int64_t not_before, not_after;
        const struct pki_lint_gate *lint; /* NULL: no lint (tests only) */
};
enum qerr pki_issue_responder(X509 *issuer, EVP_PKEY *issuer_key, const struct responder_params *p,
                              X509 **out, struct qerr_info *ei);

/* Parses "CN=a,O=b" or "/CN=a/O=b" into a name (for CA subjects). NULL on
 * a bad string. Caller frees. */
X509_NAME *pki_parse_dn(const char *s);

#endif
