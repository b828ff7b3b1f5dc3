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
 */
#ifndef QUILL_PKI_ISSUE_H
#define QUILL_PKI_ISSUE_H

#include <openssl/x509.h>
#include <stdint.h>

#include "../base/err.h"
#include "../base/model.h"

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
};

enum qerr pki_issue_ca(const struct ca_params *p, X509 **out, struct qerr_info *ei);

struct crl_item {
        const uint8_t *serial;
        size_t serial_len;
        int64_t revoked_at;
        int reason; /* 0 = unspecified: no reasonCode extension (BR 7.2.2) */
};

enum qerr pki_issue_crl(X509 *issuer, EVP_PKEY *issuer_key, int64_t crl_number, int64_t this_update,
                        int64_t next_update, const struct crl_item *items, size_t nitems,
                        X509_CRL **out, struct qerr_info *ei);

/* Parses "CN=a,O=b" or "/CN=a/O=b" into a name (for CA subjects). NULL on
 * a bad string. Caller frees. */
X509_NAME *pki_parse_dn(const char *s);

#endif
