/*
 * lint_crl.c - linting one CRL (RFC 5280 section 5, BR 4.9.7 and 7.2):
 * encoding, version, signature algorithm, issuer, update times, CRL number
 * (and that it increased), AKI, extensions, and the serial and reason code
 * of every entry. See lint.h.
 *
 * Two ways through the same checks. A CRL whose entries all have the
 * canonical form quill writes (pki_crl.h: that form leaves only the serial
 * and reason rules open) is read entry by entry with pki_crl_entry_parse,
 * and the rest - header, extensions, signature algorithm, DER of the whole
 * but the entries - goes through OpenSSL as a copy without its
 * revokedCertificates: a million entries cost one pass over their bytes
 * instead of a million OpenSSL objects (docs/internals/lint.md). Any other
 * CRL is parsed whole by OpenSSL. Both report the same findings.
 *
 * The CRL (and the optional issuer) are parsed here and freed before
 * returning. Any thread.
 */
#include "lint_internal.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki_crl.h"

#define MAX_CRL_DER (64u << 20)     /* parsed whole by OpenSSL */
#define MAX_CRL_DER_FAST (1u << 30) /* read entry by entry */
#define BR_CRL_SPAN (10 * 86400)    /* BR 4.9.7 */

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

static void report_entries(struct lint_report *r, const size_t bad[LC__COUNT],
                           char first[LC__COUNT][48]);

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
        report_entries(r, bad, first);
}

/* One finding per entry check that failed, with the count and the first
 * serial. */
static void report_entries(struct lint_report *r, const size_t bad[LC__COUNT],
                           char first[LC__COUNT][48])
{
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

/* The whole CRL through OpenSSL. */
enum qerr lint_crl_der_whole(const uint8_t *der, size_t len, const struct lint_crl_opts *o,
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

enum lint_check_id lint_crl_entry_check(const uint8_t *serial, size_t len, int reason)
{
        size_t z = 0;
        while (z < len && serial[z] == 0)
                z++;
        if (len == 0 || z == len || len - z > 20)
                return LC_CRL_ENTRY_SERIAL;
        return reason ? lint_reason_check(reason, true) : LC__COUNT;
}

/* ---- the fast path: canonical entries read one by one ---- */

/* A TLV at p within [p, end): its tag and whole length (0 when broken). */
static size_t elem(const uint8_t *p, const uint8_t *end, uint8_t *tag)
{
        size_t n = p < end ? pki_der_element_len(p, (size_t)(end - p)) : 0;
        if (n)
                *tag = p[0];
        return n;
}

static size_t hdr_len(const uint8_t *p)
{
        return p[1] < 0x80 ? 2 : 2 + (size_t)(p[1] & 0x7f);
}

struct split {
        const uint8_t *tbs_body, *tbs_end; /* inside tbsCertList */
        const uint8_t *list;               /* revokedCertificates TLV */
        size_t list_len;
};

/* Finds revokedCertificates in a CRL framed with minimal DER lengths (the
 * outer SEQUENCE, tbsCertList, the list). false: not in that shape (the
 * whole CRL goes to OpenSSL instead). */
static bool find_list(const uint8_t *der, size_t len, struct split *sp)
{
        uint8_t tag;
        if (pki_der_element_len(der, len) != len || der[0] != 0x30)
                return false;
        const uint8_t *end = der + len, *tbs = der + hdr_len(der);
        size_t tl = elem(tbs, end, &tag);
        if (!tl || tag != 0x30)
                return false;
        const uint8_t *q = tbs + hdr_len(tbs), *tend = tbs + tl;
        sp->tbs_body = q;
        sp->tbs_end = tend;
        /* version?, signature, issuer, thisUpdate, nextUpdate?, list? */
        size_t n = elem(q, tend, &tag);
        if (n && tag == 0x02)
                q += n, n = elem(q, tend, &tag);
        for (int i = 0; i < 2; i++) { /* signature, issuer */
                if (!n || tag != 0x30)
                        return false;
                q += n;
                n = elem(q, tend, &tag);
        }
        for (int i = 0; i < 2 && n && (tag == 0x17 || tag == 0x18); i++) {
                q += n;
                n = elem(q, tend, &tag);
        }
        /* an empty list (RFC 5280 5.1.2.6 leaves it out) goes the slow way */
        if (!n || tag != 0x30 || n == hdr_len(q))
                return false;
        sp->list = q;
        sp->list_len = n;
        return true;
}

static bool put(uint8_t **w, const void *p, size_t n)
{
        memcpy(*w, p, n);
        *w += n;
        return true;
}

/* The CRL without its revokedCertificates (same fields and bytes
 * otherwise): malloc'd into *out. */
static bool without_list(const uint8_t *der, size_t len, const struct split *sp, uint8_t **out,
                         size_t *outlen)
{
        size_t before = (size_t)(sp->list - sp->tbs_body);
        size_t after = (size_t)(sp->tbs_end - (sp->list + sp->list_len));
        size_t rest = len - (size_t)(sp->tbs_end - der); /* algorithm and signature */
        uint8_t th[10], oh[10];
        size_t thl = pki_der_header(th, 0x30, before + after);
        size_t ohl = pki_der_header(oh, 0x30, thl + before + after + rest);
        uint8_t *buf = malloc(ohl + thl + before + after + rest);
        if (!buf)
                return false;
        uint8_t *w = buf;
        put(&w, oh, ohl);
        put(&w, th, thl);
        put(&w, sp->tbs_body, before);
        put(&w, sp->list + sp->list_len, after);
        put(&w, sp->tbs_end, rest);
        *out = buf;
        *outlen = (size_t)(w - buf);
        return true;
}

/* Reads every entry of the list in the canonical form into `t` (counts and
 * first serial per failed check); false as soon as one is in another form. */
struct tally {
        size_t bad[LC__COUNT];
        char first[LC__COUNT][48];
};

static bool read_entries(const struct split *sp, struct tally *t)
{
        const uint8_t *p = sp->list + hdr_len(sp->list), *end = sp->list + sp->list_len;
        memset(t->bad, 0, sizeof t->bad);
        while (p < end) {
                struct pki_crl_entry e;
                size_t used = 0;
                struct qerr_info ei;
                if (pki_crl_entry_parse(p, (size_t)(end - p), &used, &e, &ei) != QERR_OK)
                        return false;
                enum lint_check_id c = lint_crl_entry_check(e.serial, e.serial_len, e.reason);
                if (c != LC__COUNT && t->bad[c]++ == 0) {
                        for (size_t i = 0; i < e.serial_len; i++)
                                snprintf(t->first[c] + 2 * i, 3, "%02X", e.serial[i]);
                        t->first[c][2 * e.serial_len] = 0;
                }
                p += used;
        }
        return true;
}

enum qerr lint_crl_der(const uint8_t *der, size_t len, const struct lint_crl_opts *o,
                       struct lint_report *out, struct qerr_info *ei)
{
        struct split sp;
        struct tally *t = NULL;
        if (!der || len == 0 || len > MAX_CRL_DER_FAST || !find_list(der, len, &sp) ||
            !(t = malloc(sizeof *t)) || !read_entries(&sp, t)) {
                /* another shape, or an entry in another form: OpenSSL reads
                 * the whole */
                free(t);
                return lint_crl_der_whole(der, len, o, out, ei);
        }
        uint8_t *skel = NULL;
        size_t skel_len = 0;
        enum qerr rc = without_list(der, len, &sp, &skel, &skel_len)
                           ? lint_crl_der_whole(skel, skel_len, o, out, ei)
                           : qerr_set(ei, QERR_NOMEM, NULL);
        if (rc == QERR_OK) /* the entries' findings, as check_entries words them */
                report_entries(out, t->bad, t->first);
        free(skel);
        free(t);
        return rc;
}
