/*
 * lint_common.c - the linter's checks table, its reports, and the helpers
 * its files share (DER framing, times, signature algorithms, extensions,
 * reason codes); see lint.h and lint_internal.h.
 *
 * Memory: a report's findings live in one array it owns (grown with
 * realloc, at most LINT_MAX_FINDINGS kept). Any thread.
 */
#include "lint_internal.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct lint_check checks[LC__COUNT] = {
#define LINT_ROW(name, id, sev, applies, src, what) {id, sev, applies, src, what},
    LINT_CHECKS(LINT_ROW)
#undef LINT_ROW
};

const struct lint_check *lint_checks(size_t *n)
{
        if (n)
                *n = LC__COUNT;
        return checks;
}

const char *lint_severity_name(enum lint_severity s)
{
        switch (s) {
        case LINT_ERROR:
                return "error";
        case LINT_WARNING:
                return "warning";
        case LINT_NOTICE:
        default:
                return "notice";
        }
}

void lint_report_init(struct lint_report *r)
{
        memset(r, 0, sizeof *r);
}

void lint_report_free(struct lint_report *r)
{
        if (!r)
                return;
        free(r->items);
        memset(r, 0, sizeof *r);
}

const struct lint_finding *lint_report_first_error(const struct lint_report *r)
{
        for (size_t i = 0; r && i < r->n; i++)
                if (r->items[i].severity == LINT_ERROR)
                        return &r->items[i];
        return NULL;
}

enum qerr lint_refusal(const struct lint_report *r, const char *what, struct qerr_info *ei)
{
        const struct lint_finding *f = lint_report_first_error(r);
        char more[200] = "";
        size_t used = 0, others = 0;
        for (size_t i = 0; f && i < r->n; i++) {
                const struct lint_finding *g = &r->items[i];
                if (g == f || g->severity != LINT_ERROR)
                        continue;
                others++;
                if (used + strlen(g->id) + 3 < sizeof more)
                        used += (size_t)snprintf(more + used, sizeof more - used, "%s%s",
                                                 used ? ", " : "", g->id);
        }
        if (!f)
                return qerr_set(ei, QERR_LINT_FAILED,
                                "the %s fails %zu lint checks (the report was full)", what,
                                r->errors);
        if (r->errors > others + 1)
                others = r->errors - 1;
        return qerr_set(ei, QERR_LINT_FAILED, "the %s fails lint check %s (%s): %s%s%s%s%s", what,
                        f->id, f->source, f->message, others ? "; also failed: " : "", more,
                        others && !more[0] ? "more checks" : "", others ? "" : ".");
}

void lint_add(struct lint_report *r, enum lint_check_id c, const char *fmt, ...)
{
        if (!r || (unsigned)c >= LC__COUNT)
                return;
        const struct lint_check *k = &checks[c];
        if (k->severity == LINT_ERROR)
                r->errors++;
        if (r->n >= LINT_MAX_FINDINGS) {
                r->dropped++;
                return;
        }
        if (r->n == r->cap) {
                size_t cap = r->cap ? r->cap * 2 : 8;
                struct lint_finding *v = realloc(r->items, cap * sizeof *v);
                if (!v) {
                        r->dropped++;
                        return;
                }
                r->items = v;
                r->cap = cap;
        }
        struct lint_finding *f = &r->items[r->n++];
        f->id = k->id;
        f->severity = k->severity;
        f->source = k->source;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->message, sizeof f->message, fmt, ap);
        va_end(ap);
        for (char *p = f->message; *p; p++)
                if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
                        *p = '?';
}

/* ---- DER framing ---- */

/* One TLV at p (low tag numbers only, definite lengths up to 4 bytes).
 * Writes the tag, the header length and the whole length. */
static bool tlv(const uint8_t *p, size_t len, uint8_t *tag, size_t *hdr, size_t *total)
{
        if (len < 2 || (p[0] & 0x1f) == 0x1f)
                return false;
        *tag = p[0];
        size_t l = p[1], h = 2;
        if (l & 0x80) {
                size_t nb = l & 0x7f;
                if (nb == 0 || nb > 4 || len < 2 + nb)
                        return false;
                l = 0;
                for (size_t i = 0; i < nb; i++)
                        l = (l << 8) | p[2 + i];
                h += nb;
        }
        if (l > len - h)
                return false;
        *hdr = h;
        *total = h + l;
        return true;
}

bool lint_der_signed(const uint8_t *p, size_t len, bool crl, struct der_signed *out)
{
        memset(out, 0, sizeof *out);
        uint8_t tag;
        size_t hdr, total;
        if (!tlv(p, len, &tag, &hdr, &total) || tag != 0x30)
                return false;
        out->total = total;
        const uint8_t *q = p + hdr, *end = p + total;
        size_t h2, t2;
        if (!tlv(q, (size_t)(end - q), &tag, &h2, &t2) || tag != 0x30)
                return false;
        out->tbs = q;
        out->tbs_len = t2;
        const uint8_t *tb = q + h2, *tend = q + t2;
        q += t2;
        if (!tlv(q, (size_t)(end - q), &tag, &h2, &t2) || tag != 0x30)
                return false;
        out->alg = q;
        out->alg_len = t2;
        /* inside tbs: skip the version (and the serial of a certificate) */
        size_t h3, t3;
        if (tlv(tb, (size_t)(tend - tb), &tag, &h3, &t3) && tag == (crl ? 0x02 : 0xa0))
                tb += t3;
        if (!crl) {
                if (!tlv(tb, (size_t)(tend - tb), &tag, &h3, &t3) || tag != 0x02)
                        return true;
                tb += t3;
        }
        if (tlv(tb, (size_t)(tend - tb), &tag, &h3, &t3) && tag == 0x30) {
                out->inner = tb;
                out->inner_len = t3;
        }
        return true;
}

/* ---- times ---- */

bool lint_time(const ASN1_TIME *t, int64_t *out)
{
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
                return false;
        *out = (int64_t)timegm(&tm);
        return true;
}

bool lint_time_encoding_ok(const ASN1_TIME *t, bool generalized_only, char why[96])
{
        why[0] = 0;
        if (!t) {
                snprintf(why, 96, "the time is missing");
                return false;
        }
        int type = ASN1_STRING_type(t);
        const unsigned char *s = ASN1_STRING_get0_data(t);
        int n = ASN1_STRING_length(t);
        bool utc = type == V_ASN1_UTCTIME;
        if (!utc && type != V_ASN1_GENERALIZEDTIME) {
                snprintf(why, 96, "the time is neither UTCTime nor GeneralizedTime");
                return false;
        }
        if (generalized_only && utc) {
                snprintf(why, 96, "the time is a UTCTime, where GeneralizedTime is required");
                return false;
        }
        int want = utc ? 13 : 15;
        bool digits = n == want;
        for (int i = 0; digits && i < want - 1; i++)
                digits = s[i] >= '0' && s[i] <= '9';
        if (!digits || s[want - 1] != 'Z') {
                snprintf(why, 96, "the %s is not in the form %s (seconds, Z, no fraction)",
                         utc ? "UTCTime" : "GeneralizedTime",
                         utc ? "YYMMDDHHMMSSZ" : "YYYYMMDDHHMMSSZ");
                return false;
        }
        struct tm tm;
        if (ASN1_TIME_to_tm(t, &tm) != 1) {
                snprintf(why, 96, "the time is not a valid date");
                return false;
        }
        int year = tm.tm_year + 1900;
        if (!generalized_only && !utc && year < 2050) {
                snprintf(why, 96,
                         "the year %d is encoded as GeneralizedTime; before 2050 it "
                         "must be UTCTime",
                         year);
                return false;
        }
        return true;
}

void lint_fmt_time(int64_t t, char out[32])
{
        time_t tt = (time_t)t;
        struct tm tm;
        if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm))
                snprintf(out, 32, "%lld", (long long)t);
}

/* ---- algorithms ---- */

enum lint_key_kind lint_key_kind(const X509_PUBKEY *pk)
{
        ASN1_OBJECT *obj = NULL;
        X509_ALGOR *alg = NULL;
        if (!pk || !X509_PUBKEY_get0_param(&obj, NULL, NULL, &alg, pk) || !obj)
                return LK_NONE;
        int nid = OBJ_obj2nid(obj);
        if (nid == NID_rsaEncryption)
                return LK_RSA;
        if (nid == NID_sm2)
                return LK_SM2;
        if (nid != NID_X9_62_id_ecPublicKey)
                return LK_OTHER;
        int ptype = 0;
        const void *pval = NULL;
        X509_ALGOR_get0(NULL, &ptype, &pval, alg);
        if (ptype != V_ASN1_OBJECT || !pval)
                return LK_OTHER_EC;
        switch (OBJ_obj2nid(pval)) {
        case NID_X9_62_prime256v1:
                return LK_P256;
        case NID_secp384r1:
                return LK_P384;
        case NID_sm2:
                return LK_SM2;
        default:
                return LK_OTHER_EC;
        }
}

const char *lint_key_kind_name(enum lint_key_kind k)
{
        static const char *const names[] = {
            "no key", "RSA", "EC P-256", "EC P-384", "SM2", "another curve", "another algorithm"};
        return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static int algor_nid(const X509_ALGOR *a)
{
        const ASN1_OBJECT *o = NULL;
        X509_ALGOR_get0(&o, NULL, NULL, a);
        return o ? OBJ_obj2nid(o) : NID_undef;
}

static bool good_sha2(int md)
{
        return md == NID_sha256 || md == NID_sha384 || md == NID_sha512;
}

/* RSASSA-PSS parameters: the hash and the MGF1 hash (absent: SHA-1). */
static void pss(const X509_ALGOR *a, struct lint_sigalg *s)
{
        int ptype = 0;
        const void *pval = NULL;
        X509_ALGOR_get0(NULL, &ptype, &pval, a);
        s->fits = LK_RSA;
        RSA_PSS_PARAMS *pp = NULL;
        if (ptype == V_ASN1_SEQUENCE && pval) {
                ASN1_TYPE t = {.type = V_ASN1_SEQUENCE};
                t.value.sequence = (ASN1_STRING *)pval;
                pp = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_PSS_PARAMS), &t);
        }
        if (!pp) {
                s->sha1 = true; /* every default of RFC 4055 is SHA-1 */
                snprintf(s->why, sizeof s->why, "RSA-PSS without parameters (SHA-1 defaults)");
                return;
        }
        int md = pp->hashAlgorithm ? algor_nid(pp->hashAlgorithm) : NID_sha1;
        int mgf_md = NID_sha1;
        if (pp->maskGenAlgorithm) {
                mgf_md = NID_undef;
                int mptype = 0;
                const void *mpval = NULL;
                X509_ALGOR_get0(NULL, &mptype, &mpval, pp->maskGenAlgorithm);
                if (algor_nid(pp->maskGenAlgorithm) == NID_mgf1 && mptype == V_ASN1_SEQUENCE &&
                    mpval) {
                        ASN1_TYPE t = {.type = V_ASN1_SEQUENCE};
                        t.value.sequence = (ASN1_STRING *)mpval;
                        X509_ALGOR *h = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR), &t);
                        if (h)
                                mgf_md = algor_nid(h);
                        X509_ALGOR_free(h);
                }
        }
        int64_t trailer = 1;
        if (pp->trailerField && !ASN1_INTEGER_get_int64(&trailer, pp->trailerField))
                trailer = -1;
        s->sha1 = md == NID_sha1 || mgf_md == NID_sha1;
        s->allowed = good_sha2(md) && md == mgf_md && trailer == 1;
        if (!s->allowed)
                snprintf(s->why, sizeof s->why,
                         "RSA-PSS with hash %s and MGF1 hash %s (both must be the same SHA-2)",
                         OBJ_nid2sn(md), mgf_md == NID_undef ? "?" : OBJ_nid2sn(mgf_md));
        RSA_PSS_PARAMS_free(pp);
}

void lint_sigalg(const X509_ALGOR *a, struct lint_sigalg *s)
{
        memset(s, 0, sizeof *s);
        s->fits = LK_NONE;
        const ASN1_OBJECT *o = NULL;
        int ptype = V_ASN1_UNDEF;
        const void *pval = NULL;
        if (a)
                X509_ALGOR_get0(&o, &ptype, &pval, a);
        if (!o) {
                snprintf(s->name, sizeof s->name, "(none)");
                snprintf(s->why, sizeof s->why, "no algorithm");
                return;
        }
        OBJ_obj2txt(s->name, sizeof s->name, o, 0);
        int nid = OBJ_obj2nid(o);
        if (nid == NID_rsassaPss) {
                pss(a, s);
                return;
        }
        if (nid == NID_SM2_with_SM3) {
                s->sm2 = true;
                s->fits = LK_SM2;
                s->allowed = true; /* judged by the SM2 rule, not the BR list */
                return;
        }
        int md = NID_undef, pk = NID_undef;
        if (!OBJ_find_sigid_algs(nid, &md, &pk)) {
                snprintf(s->why, sizeof s->why, "%s is not a signature algorithm the BR allow",
                         s->name);
                return;
        }
        s->sha1 = md == NID_sha1;
        if (pk == NID_rsaEncryption) {
                s->fits = LK_RSA;
                s->allowed = good_sha2(md) && ptype == V_ASN1_NULL;
                if (good_sha2(md) && ptype != V_ASN1_NULL)
                        snprintf(s->why, sizeof s->why, "%s without NULL parameters", s->name);
        } else if (pk == NID_X9_62_id_ecPublicKey) {
                s->fits = md == NID_sha256 ? LK_P256 : md == NID_sha384 ? LK_P384 : LK_OTHER_EC;
                s->ecdsa_sha512 = md == NID_sha512;
                s->allowed = (md == NID_sha256 || md == NID_sha384) &&
                             (ptype == V_ASN1_UNDEF || ptype == -1);
                if ((md == NID_sha256 || md == NID_sha384) && !s->allowed)
                        snprintf(s->why, sizeof s->why, "%s with parameters (must be absent)",
                                 s->name);
        } else {
                s->fits = LK_OTHER;
        }
        if (!s->allowed && !s->why[0])
                snprintf(s->why, sizeof s->why, "%s is not a signature algorithm the BR allow",
                         s->name);
}

bool lint_sigalg_fits(const struct lint_sigalg *s, enum lint_key_kind k)
{
        return s->fits == k;
}

void lint_check_sigalg(struct lint_report *r, const X509_ALGOR *a, bool private_rules,
                       enum lint_key_kind issuer_kind, const struct lint_sig_ids *ids,
                       const char *what)
{
        struct lint_sigalg s;
        lint_sigalg(a, &s);
        if (s.sha1)
                lint_add(r, ids->sha1, "the %s signature algorithm uses SHA-1 (%s)", what, s.name);
        else if (!s.allowed)
                lint_add(r, ids->not_allowed, "the %s signature algorithm is not allowed: %s", what,
                         s.why);
        if (s.sm2 && !private_rules)
                lint_add(r, LC_SM2_PRIVATE_ONLY,
                         "the %s is signed with SM2-with-SM3, which only the private profile "
                         "allows",
                         what);
        if (issuer_kind != LK_NONE && !s.sha1 && s.fits != LK_NONE &&
            !lint_sigalg_fits(&s, issuer_kind))
                lint_add(r, ids->issuer_key,
                         "the %s is signed with %s, which does not fit the issuer's %s key", what,
                         s.name, lint_key_kind_name(issuer_kind));
}

/* ---- extensions ---- */

void lint_check_exts(struct lint_report *r, const STACK_OF(X509_EXTENSION) * exts,
                     const int *known_critical, size_t nknown, const struct lint_ext_ids *ids,
                     const char *where)
{
        int n = sk_X509_EXTENSION_num(exts);
        for (int i = 0; i < n; i++) {
                X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
                const ASN1_OBJECT *obj = X509_EXTENSION_get_object(e);
                char oid[80];
                OBJ_obj2txt(oid, sizeof oid, obj, 0);
                bool dup = false;
                for (int j = 0; j < i && !dup; j++)
                        dup = OBJ_cmp(obj, X509_EXTENSION_get_object(
                                               sk_X509_EXTENSION_value(exts, j))) == 0;
                if (dup)
                        lint_add(r, ids->duplicate, "the %s extension %s appears more than once",
                                 where, oid);
                int nid = OBJ_obj2nid(obj);
                bool known = false;
                for (size_t k = 0; k < nknown && !known; k++)
                        known = known_critical[k] == nid;
                if (X509_EXTENSION_get_critical(e) && !known)
                        lint_add(r, ids->unknown_critical,
                                 "the %s extension %s is critical, and the linter does not know "
                                 "it",
                                 where, oid);
                const X509V3_EXT_METHOD *m = X509V3_EXT_get(e);
                if (m) {
                        void *v = X509V3_EXT_d2i(e);
                        if (!v)
                                lint_add(r, ids->malformed, "the %s extension %s does not decode",
                                         where, oid);
                        else if (m->it)
                                ASN1_item_free(v, ASN1_ITEM_ptr(m->it));
                        else if (m->ext_free)
                                m->ext_free(v);
                        ERR_clear_error();
                }
        }
}

enum lint_check_id lint_reason_check(long reason, bool crl)
{
        switch (reason) {
        case 0:
                return crl ? LC_CRL_REASON_UNSPECIFIED : LC__COUNT;
        case 1: /* keyCompromise */
        case 2: /* cACompromise */
        case 3: /* affiliationChanged */
        case 4: /* superseded */
        case 5: /* cessationOfOperation */
        case 9: /* privilegeWithdrawn */
                return LC__COUNT;
        case 6:
                return crl ? LC_CRL_REASON_HOLD : LC_OCSP_REASON;
        case 8:
                return crl ? LC_CRL_REASON_REMOVE : LC_OCSP_REASON;
        default:
                return crl ? LC_CRL_REASON_OTHER : LC_OCSP_REASON;
        }
}
