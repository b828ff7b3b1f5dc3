/*
 * lint_crl.c - linting one CRL (RFC 5280 section 5, BR 4.9.7 and 7.2):
 * encoding, version, signature algorithm, issuer, update times, CRL number
 * (and that it increased), AKI, extensions, and the serial and reason code
 * of every entry. See lint.h.
 *
 * The CRL (and the optional issuer) are parsed here and freed before
 * returning. Any thread.
 */
#include "lint_internal.h"

#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

#define MAX_CRL_DER (64u << 20)
#define BR_CRL_SPAN (10 * 86400) /* BR 4.9.7 */

static const int crl_critical_ok[] = {NID_issuing_distribution_point, NID_delta_crl};
static const int entry_critical_ok[] = {NID_certificate_issuer};

static void check_times(struct lint_report *r, X509_CRL *crl, const struct lint_crl_opts *o)
{
        const ASN1_TIME *tu = X509_CRL_get0_lastUpdate(crl), *nu = X509_CRL_get0_nextUpdate(crl);
        char why[96];
        if (!lint_time_encoding_ok(tu, false, why))
                lint_add(r, LC_CRL_TIME_ENCODING, "thisUpdate: %s", why);
        if (!nu) {
                lint_add(r, LC_CRL_NEXT_UPDATE, "the CRL has no nextUpdate");
                return;
        }
        if (!lint_time_encoding_ok(nu, false, why))
                lint_add(r, LC_CRL_TIME_ENCODING, "nextUpdate: %s", why);
        int64_t t, n;
        if (!lint_time(tu, &t) || !lint_time(nu, &n))
                return;
        int64_t max = o->max_span_seconds > 0 ? o->max_span_seconds : BR_CRL_SPAN;
        if (n <= t)
                lint_add(r, LC_CRL_UPDATE_ORDER, "nextUpdate is not after thisUpdate");
        else if (n - t > max)
                lint_add(r, LC_CRL_UPDATE_SPAN,
                         "nextUpdate is %.2f days after thisUpdate (at most %.2f)",
                         (double)(n - t) / 86400.0, (double)max / 86400.0);
}

static void check_number(struct lint_report *r, X509_CRL *crl, const struct lint_crl_opts *o)
{
        int crit = -1;
        ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
        ERR_clear_error();
        if (!num) {
                if (crit == -1)
                        lint_add(r, LC_CRL_NUMBER_MISSING, "the CRL has no cRLNumber");
                else if (crit == -2)
                        lint_add(r, LC_CRL_EXT, "the CRL has more than one cRLNumber");
                else
                        lint_add(r, LC_CRL_NUMBER_RANGE, "the cRLNumber does not decode");
                return;
        }
        BIGNUM *bn = ASN1_INTEGER_to_BN(num, NULL);
        if (bn && (BN_is_negative(bn) || BN_num_bytes(bn) + (BN_num_bits(bn) % 8 == 0) > 20))
                lint_add(r, LC_CRL_NUMBER_RANGE, "the cRLNumber is %s",
                         BN_is_negative(bn) ? "negative" : "longer than 20 octets");
        int64_t v;
        if (bn && o->prev_number >= 0 && !BN_is_negative(bn)) {
                /* a number past int64 is larger than any previous one */
                bool fits = ASN1_INTEGER_get_int64(&v, num) == 1;
                if (fits && v <= o->prev_number)
                        lint_add(r, LC_CRL_NUMBER_INCREASING,
                                 "the cRLNumber %lld is not greater than the previous CRL's %lld",
                                 (long long)v, (long long)o->prev_number);
        }
        ERR_clear_error();
        BN_free(bn);
        ASN1_INTEGER_free(num);
}

static void check_aki(struct lint_report *r, X509_CRL *crl, X509 *issuer)
{
        AUTHORITY_KEYID *aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
        ERR_clear_error();
        if (!aki || !aki->keyid) {
                lint_add(r, LC_CRL_AKI,
                         "the CRL has no authorityKeyIdentifier with a keyIdentifier");
        } else if (issuer) {
                const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
                if (ski && ASN1_OCTET_STRING_cmp(aki->keyid, ski) != 0)
                        lint_add(r, LC_CRL_AKI_ISSUER,
                                 "the CRL's authorityKeyIdentifier does not equal the issuer's "
                                 "subjectKeyIdentifier");
        }
        AUTHORITY_KEYID_free(aki);
}

static void check_entries(struct lint_report *r, X509_CRL *crl)
{
        static const struct lint_ext_ids ids = {LC_CRL_EXT, LC_CRL_EXT, LC_CRL_EXT};
        STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
        /* one finding per check is enough to refuse; the count goes in it */
        size_t bad[LC__COUNT];
        memset(bad, 0, sizeof bad);
        char first[LC__COUNT][48];
        for (int i = 0; i < sk_X509_REVOKED_num(rev); i++) {
                X509_REVOKED *e = sk_X509_REVOKED_value(rev, i);
                const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(e);
                BIGNUM *bn = sn ? ASN1_INTEGER_to_BN(sn, NULL) : NULL;
                char hex[48] = "?";
                if (bn) {
                        char *h = BN_bn2hex(bn);
                        if (h)
                                snprintf(hex, sizeof hex, "%.40s", h);
                        OPENSSL_free(h);
                }
                enum lint_check_id hit[3];
                size_t nhit = 0;
                if (!bn || BN_is_negative(bn) || BN_is_zero(bn) ||
                    BN_num_bytes(bn) + (BN_num_bits(bn) % 8 == 0) > 20)
                        hit[nhit++] = LC_CRL_ENTRY_SERIAL;
                BN_free(bn);
                char why[96];
                if (!lint_time_encoding_ok(X509_REVOKED_get0_revocationDate(e), false, why))
                        hit[nhit++] = LC_CRL_TIME_ENCODING;
                int crit = -1;
                ASN1_ENUMERATED *re = X509_REVOKED_get_ext_d2i(e, NID_crl_reason, &crit, NULL);
                if (re) {
                        enum lint_check_id c = lint_reason_check(ASN1_ENUMERATED_get(re), true);
                        if (c != LC__COUNT)
                                hit[nhit++] = c;
                        ASN1_ENUMERATED_free(re);
                }
                ERR_clear_error();
                for (size_t k = 0; k < nhit; k++)
                        if (bad[hit[k]]++ == 0)
                                snprintf(first[hit[k]], sizeof first[0], "%s", hex);
                lint_check_exts(r, X509_REVOKED_get0_extensions(e), entry_critical_ok,
                                sizeof entry_critical_ok / sizeof entry_critical_ok[0], &ids,
                                "CRL entry");
        }
        static const struct {
                enum lint_check_id id;
                const char *what;
        } say[] = {
            {LC_CRL_ENTRY_SERIAL, "a serial number that is not positive or longer than 20 "
                                  "octets"},
            {LC_CRL_TIME_ENCODING, "a revocationDate that is not encoded as RFC 5280 requires"},
            {LC_CRL_REASON_UNSPECIFIED, "an explicit reasonCode unspecified (0)"},
            {LC_CRL_REASON_HOLD, "reasonCode certificateHold (6)"},
            {LC_CRL_REASON_REMOVE, "reasonCode removeFromCRL (8)"},
            {LC_CRL_REASON_OTHER, "a reasonCode the BR do not allow"},
        };
        for (size_t k = 0; k < sizeof say / sizeof say[0]; k++)
                if (bad[say[k].id])
                        lint_add(r, say[k].id, "%zu entr%s (the first: serial %s) %s %s",
                                 bad[say[k].id], bad[say[k].id] == 1 ? "y" : "ies",
                                 first[say[k].id], bad[say[k].id] == 1 ? "has" : "have",
                                 say[k].what);
}

static X509 *parse_issuer(const struct lint_crl_opts *o)
{
        if (!o->issuer_der)
                return NULL;
        const unsigned char *p = o->issuer_der;
        X509 *x = d2i_X509(NULL, &p, (long)o->issuer_len);
        ERR_clear_error();
        return x;
}

enum qerr lint_crl_der(const uint8_t *der, size_t len, const struct lint_crl_opts *o,
                       struct lint_report *out, struct qerr_info *ei)
{
        struct der_signed ds;
        if (!der || len == 0 || len > MAX_CRL_DER || !lint_der_signed(der, len, true, &ds) ||
            ds.total != len)
                return qerr_set(ei, QERR_PEM_INVALID,
                                "The input is not one DER-encoded CRL (empty, truncated, bytes "
                                "after the end, or another kind of object).");
        const unsigned char *p = der;
        X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
        if (!crl || p != der + len) {
                X509_CRL_free(crl);
                ERR_clear_error();
                return qerr_set(ei, QERR_PEM_INVALID,
                                "The input does not parse as a CRL (truncated or damaged).");
        }
        X509 *issuer = parse_issuer(o);
        if (X509_CRL_get_version(crl) != X509_CRL_VERSION_2)
                lint_add(out, LC_CRL_VERSION, "the CRL is version %ld, not 2",
                         X509_CRL_get_version(crl) + 1);
        if (!ds.inner || ds.inner_len != ds.alg_len || memcmp(ds.inner, ds.alg, ds.alg_len))
                lint_add(out, LC_CRL_SIG_ALG_MISMATCH,
                         "the outer signatureAlgorithm differs from the signature field of "
                         "tbsCertList");
        static const struct lint_sig_ids sig_ids = {LC_CRL_SIG_SHA1, LC_CRL_SIG_ALG_NOT_ALLOWED,
                                                    LC_CRL_SIG_ALG_ISSUER_KEY};
        const X509_ALGOR *alg = NULL;
        X509_CRL_get0_signature(crl, NULL, &alg);
        lint_check_sigalg(out, alg, o->private_ca,
                          issuer ? lint_key_kind(X509_get_X509_PUBKEY(issuer)) : LK_NONE, &sig_ids,
                          "CRL");
        if (issuer && X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0)
                lint_add(out, LC_CRL_ISSUER, "the CRL issuer is not the issuing CA's subject");
        check_times(out, crl, o);
        check_number(out, crl, o);
        check_aki(out, crl, issuer);
        static const struct lint_ext_ids ids = {LC_CRL_EXT, LC_CRL_EXT, LC_CRL_EXT};
        lint_check_exts(out, X509_CRL_get0_extensions(crl), crl_critical_ok,
                        sizeof crl_critical_ok / sizeof crl_critical_ok[0], &ids, "CRL");
        check_entries(out, crl);
        /* DER: the whole, and the tbsCertList encoded again from its fields */
        unsigned char *enc = NULL;
        int n = i2d_X509_CRL(crl, &enc);
        bool same = n > 0 && (size_t)n == len && memcmp(enc, der, len) == 0;
        OPENSSL_free(enc);
        enc = NULL;
        n = same ? i2d_re_X509_CRL_tbs(crl, &enc) : 0;
        same = same && n > 0 && (size_t)n == ds.tbs_len && memcmp(enc, ds.tbs, ds.tbs_len) == 0;
        OPENSSL_free(enc);
        if (!same)
                lint_add(out, LC_CRL_DER,
                         "the CRL is not DER-encoded: encoding its parsed fields again gives "
                         "other bytes");
        ERR_clear_error();
        X509_free(issuer);
        X509_CRL_free(crl);
        return QERR_OK;
}
