/*
 * pki_crl.c - direct DER for CRLs; see pki_crl.h.
 *
 * Only the shapes RFC 5280 5.1 needs are written: definite lengths, minimal
 * length octets, positive INTEGERs with a 0x00 pad only when the top bit is
 * set, UTCTime for 1950-2049 and GeneralizedTime after (RFC 5280 5.1.2.4),
 * always with seconds and "Z".
 */
#include "pki_crl.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "lint.h"
#include "pki_key.h"

/* ---- lengths and times ---- */

static size_t len_size(uint64_t n)
{
        size_t k = 1;
        if (n >= 0x80)
                for (uint64_t v = n; v; v >>= 8)
                        k++;
        return k;
}

static size_t put_len(uint8_t *p, uint64_t n)
{
        if (n < 0x80) {
                p[0] = (uint8_t)n;
                return 1;
        }
        size_t k = len_size(n) - 1;
        p[0] = (uint8_t)(0x80 | k);
        for (size_t i = 0; i < k; i++)
                p[1 + i] = (uint8_t)(n >> (8 * (k - 1 - i)));
        return k + 1;
}

/* Days since 1970-01-01 of a civil date, and back (H. Hinnant's
 * algorithms; proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned)(y - era * 400);
        unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        *d = doy - (153 * mp + 2) / 5 + 1;
        *m = mp < 10 ? mp + 3 : mp - 9;
        *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Two decimal digits of v < 100 (a table: this runs for every entry). */
static void two(uint8_t *p, unsigned v)
{
        static const char t[] = "00010203040506070809101112131415161718192021222324252627282930"
                                "31323334353637383940414243444546474849505152535455565758596061"
                                "62636465666768697071727374757677787980818283848586878889909192"
                                "93949596979899";
        p[0] = (uint8_t)t[2 * v];
        p[1] = (uint8_t)t[2 * v + 1];
}

/* Writes a Time TLV; returns its length (15 or 17), 0 outside 1950-9999. */
static size_t put_time(uint8_t *p, int64_t t)
{
        int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
        int64_t secs = t - days * 86400;
        int64_t y;
        unsigned m, d;
        civil_from_days(days, &y, &m, &d);
        if (y < 1950 || y > 9999)
                return 0;
        bool utc = y < 2050;
        uint8_t *q = p + 2;
        p[0] = utc ? 0x17 : 0x18;
        p[1] = utc ? 13 : 15;
        if (!utc) {
                two(q, (unsigned)(y / 100));
                q += 2;
        }
        two(q, (unsigned)(y % 100));
        q += 2;
        two(q, m);
        two(q + 2, d);
        two(q + 4, (unsigned)(secs / 3600));
        two(q + 6, (unsigned)(secs / 60 % 60));
        two(q + 8, (unsigned)(secs % 60));
        q[10] = 'Z';
        return (size_t)(p[1] + 2);
}

static bool read_digits(const uint8_t *p, int n, unsigned *out)
{
        unsigned v = 0;
        for (int i = 0; i < n; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return false;
                v = v * 10 + (unsigned)(p[i] - '0');
        }
        *out = v;
        return true;
}

/* Reads a Time TLV written by put_time (the caller re-encodes to check the
 * form); returns its length or 0. */
static size_t get_time(const uint8_t *p, size_t len, int64_t *out)
{
        if (len < 2 || (p[0] != 0x17 && p[0] != 0x18))
                return 0;
        bool utc = p[0] == 0x17;
        size_t l = p[1];
        if (l != (utc ? 13u : 15u) || len < l + 2 || p[l + 1] != 'Z')
                return 0;
        const uint8_t *q = p + 2;
        unsigned y, mo, d, h, mi, s;
        if (!read_digits(q, utc ? 2 : 4, &y))
                return 0;
        q += utc ? 2 : 4;
        if (!read_digits(q, 2, &mo) || !read_digits(q + 2, 2, &d) || !read_digits(q + 4, 2, &h) ||
            !read_digits(q + 6, 2, &mi) || !read_digits(q + 8, 2, &s))
                return 0;
        if (utc)
                y += y >= 50 ? 1900 : 2000;
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
                return 0;
        *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
        return l + 2;
}

/* ---- entries ---- */

/* reasonCode extension wrapped as crlEntryExtensions, without its last
 * byte (the reason value) */
static const uint8_t reason_ext[] = {0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55,
                                     0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01};

size_t pki_crl_entry_encode(uint8_t *out, const uint8_t *serial, size_t serial_len,
                            int64_t revoked_at, int reason)
{
        while (serial_len && serial[0] == 0) {
                serial++;
                serial_len--;
        }
        if (serial_len == 0 || serial_len > 20 || reason < 0 || reason > PKI_CRL_REASON_MAX)
                return 0;
        uint8_t *p = out + 2;
        bool pad = serial[0] & 0x80;
        *p++ = 0x02;
        *p++ = (uint8_t)(serial_len + pad);
        if (pad)
                *p++ = 0;
        memcpy(p, serial, serial_len);
        p += serial_len;
        size_t tl = put_time(p, revoked_at);
        if (!tl)
                return 0;
        p += tl;
        if (reason) {
                memcpy(p, reason_ext, sizeof reason_ext);
                p += sizeof reason_ext;
                *p++ = (uint8_t)reason;
        }
        out[0] = 0x30;
        out[1] = (uint8_t)(p - out - 2);
        return (size_t)(p - out);
}

enum qerr pki_crl_entry_parse(const uint8_t *p, size_t len, size_t *used, struct pki_crl_entry *out,
                              struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        if (len < 2 || p[0] != 0x30 || p[1] >= 0x80 || (size_t)p[1] + 2 > len)
                return qerr_set(ei, QERR_PROTO, "a CRL entry is not a short DER SEQUENCE");
        size_t total = (size_t)p[1] + 2;
        const uint8_t *q = p + 2, *end = p + total;
        if (end - q < 3 || q[0] != 0x02 || q[1] < 1 || q[1] > 21 || q[1] + 2 > end - q ||
            (q[2] & 0x80))
                return qerr_set(ei, QERR_PROTO, "a CRL entry's serial is not a positive INTEGER");
        size_t il = q[1];
        const uint8_t *mag = q + 2;
        if (il > 1 && mag[0] == 0) {
                mag++;
                il--;
        }
        if (il > 20)
                return qerr_set(ei, QERR_PROTO, "a CRL entry's serial is longer than 20 bytes");
        memcpy(out->serial, mag, il);
        out->serial_len = il;
        q += 2 + q[1];
        size_t tl = get_time(q, (size_t)(end - q), &out->revoked_at);
        if (!tl)
                return qerr_set(ei, QERR_PROTO, "a CRL entry's revocationDate is not a Time");
        q += tl;
        if (q < end) {
                if ((size_t)(end - q) != sizeof reason_ext + 1 ||
                    memcmp(q, reason_ext, sizeof reason_ext) != 0)
                        return qerr_set(ei, QERR_PROTO,
                                        "a CRL entry carries an extension other than reasonCode");
                out->reason = q[sizeof reason_ext];
                if (out->reason == 0 || out->reason > PKI_CRL_REASON_MAX)
                        return qerr_set(ei, QERR_PROTO, "a CRL entry's reasonCode is %d",
                                        out->reason);
        }
        uint8_t again[PKI_CRL_ENTRY_MAX];
        size_t n =
            pki_crl_entry_encode(again, out->serial, out->serial_len, out->revoked_at, out->reason);
        if (n != total || memcmp(again, p, n) != 0)
                return qerr_set(ei, QERR_PROTO, "a CRL entry is not in canonical DER");
        *used = total;
        return QERR_OK;
}

size_t pki_der_element_len(const uint8_t *p, size_t len)
{
        if (len < 2)
                return 0;
        uint64_t l = p[1];
        size_t h = 2;
        if (l & 0x80) {
                size_t k = l & 0x7f;
                if (k == 0 || k > 4 || len < 2 + k || p[2] == 0)
                        return 0;
                l = 0;
                for (size_t i = 0; i < k; i++)
                        l = l << 8 | p[2 + i];
                if (l < 0x80 || len_size(l) != k + 1)
                        return 0;
                h += k;
        }
        if (l > len - h)
                return 0;
        return h + (size_t)l;
}

/* ---- the TBSCertList around the entries ---- */

/* Appends tag, length, content. */
static bool tlv(struct qbuf *out, uint8_t tag, const void *content, size_t len)
{
        uint8_t h[10];
        h[0] = tag;
        size_t n = 1 + put_len(h + 1, len);
        return qbuf_append(out, h, n) && qbuf_append(out, content, len);
}

static bool header(struct qbuf *out, uint8_t tag, uint64_t len)
{
        uint8_t h[10];
        h[0] = tag;
        return qbuf_append(out, h, 1 + put_len(h + 1, len));
}

/* A positive INTEGER TLV of v >= 1. */
static bool put_int(struct qbuf *out, int64_t v)
{
        uint8_t b[9];
        size_t n = 0;
        for (uint64_t u = (uint64_t)v; u; u >>= 8)
                n++;
        for (size_t i = 0; i < n; i++)
                b[1 + i] = (uint8_t)((uint64_t)v >> (8 * (n - 1 - i)));
        bool pad = b[1] & 0x80;
        b[0] = 0;
        return tlv(out, 0x02, pad ? b : b + 1, n + pad);
}

/* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue } */
static bool extension(struct qbuf *out, const uint8_t *oid, size_t oid_len, bool critical,
                      const struct qbuf *value)
{
        struct qbuf e;
        qbuf_init(&e, 4096);
        static const uint8_t yes[] = {0x01, 0x01, 0xff};
        bool ok = qbuf_append(&e, oid, oid_len) && (!critical || qbuf_append(&e, yes, 3)) &&
                  tlv(&e, 0x04, value->data, value->len) && tlv(out, 0x30, e.data, e.len);
        qbuf_free(&e);
        return ok;
}

static bool url_ok(const char *u)
{
        size_t n = strlen(u);
        if (n == 0 || n > 512 || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)))
                return false;
        for (size_t i = 0; i < n; i++)
                if (u[i] <= 0x20 || u[i] >= 0x7f || u[i] == ',' || u[i] == '"')
                        return false;
        return true;
}

static bool key_id(X509 *issuer, struct qbuf *out)
{
        const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
        if (ski)
                return qbuf_append(out, ASN1_STRING_get0_data(ski),
                                   (size_t)ASN1_STRING_length(ski));
        /* the RFC 5280 4.2.1.2 method (1), as OpenSSL's "hash" */
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        return X509_pubkey_digest(issuer, EVP_sha1(), md, &n) == 1 && qbuf_append(out, md, n);
}

/* crlExtensions [0] EXPLICIT: AKI, cRLNumber, issuingDistributionPoint. */
static bool build_tail(X509 *issuer, const struct pki_crl_params *p, struct qbuf *tail)
{
        static const uint8_t oid_aki[] = {0x06, 0x03, 0x55, 0x1d, 0x23};
        static const uint8_t oid_num[] = {0x06, 0x03, 0x55, 0x1d, 0x14};
        static const uint8_t oid_idp[] = {0x06, 0x03, 0x55, 0x1d, 0x1c};
        struct qbuf kid, a, v, exts;
        qbuf_init(&kid, 128);
        qbuf_init(&a, 1024);
        qbuf_init(&v, 1024);
        qbuf_init(&exts, 4096);
        /* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT } */
        bool ok = key_id(issuer, &kid) && tlv(&a, 0x80, kid.data, kid.len) &&
                  tlv(&v, 0x30, a.data, a.len) &&
                  extension(&exts, oid_aki, sizeof oid_aki, false, &v);
        qbuf_reset(&v);
        ok = ok && put_int(&v, p->number) && extension(&exts, oid_num, sizeof oid_num, false, &v);
        if (ok && p->idp_url && *p->idp_url) {
                /* IssuingDistributionPoint ::= SEQUENCE { distributionPoint [0]
                 * (a CHOICE: explicit) { fullName [0] IMPLICIT GeneralNames {
                 * uniformResourceIdentifier [6] IMPLICIT IA5String } } } */
                struct qbuf u, f;
                qbuf_init(&u, 1024);
                qbuf_init(&f, 1024);
                qbuf_reset(&v);
                qbuf_reset(&a);
                ok = tlv(&u, 0x86, p->idp_url, strlen(p->idp_url)) &&
                     tlv(&f, 0xa0, u.data, u.len) && tlv(&a, 0xa0, f.data, f.len) &&
                     tlv(&v, 0x30, a.data, a.len) &&
                     extension(&exts, oid_idp, sizeof oid_idp, true, &v);
                qbuf_free(&u);
                qbuf_free(&f);
        }
        ok = ok && header(tail, 0xa0, exts.len + 1 + len_size(exts.len)) &&
             tlv(tail, 0x30, exts.data, exts.len);
        qbuf_free(&kid);
        qbuf_free(&a);
        qbuf_free(&v);
        qbuf_free(&exts);
        return ok;
}

static bool sig_alg(EVP_MD_CTX *sctx, struct qbuf *out)
{
        unsigned char aid[256];
        OSSL_PARAM params[2] = {
            OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, aid, sizeof aid),
            OSSL_PARAM_END};
        EVP_PKEY_CTX *pctx = EVP_MD_CTX_get_pkey_ctx(sctx);
        if (!pctx || EVP_PKEY_CTX_get_params(pctx, params) != 1 ||
            !OSSL_PARAM_modified(&params[0]) || params[0].return_size == 0)
                return false;
        return qbuf_append(out, aid, params[0].return_size);
}

enum qerr pki_crl_tbs_parts(X509 *issuer, EVP_MD_CTX *sctx, const struct pki_crl_params *p,
                            struct qbuf *head, struct qbuf *tail, struct qbuf *sigalg,
                            struct qerr_info *ei)
{
        if (p->number < 1)
                return qerr_set(ei, QERR_SIGNER_REFUSED, "a CRL number starts at 1");
        if (p->idp_url && *p->idp_url && !url_ok(p->idp_url))
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "the distribution point is not a plain http(s) URL");
        uint8_t t1[20], t2[20];
        size_t l1 = put_time(t1, p->this_update), l2 = put_time(t2, p->next_update);
        if (!l1 || !l2)
                return qerr_set(ei, QERR_SIGNER_REFUSED, "CRL times outside 1950-9999");
        unsigned char *name = NULL;
        int nl = i2d_X509_NAME(X509_get_subject_name(issuer), &name);
        struct qbuf body;
        qbuf_init(&body, 64 * 1024);
        static const uint8_t v2[] = {0x02, 0x01, 0x01};
        size_t alg0 = sigalg->len;
        bool ok = nl > 0 && sig_alg(sctx, sigalg) && build_tail(issuer, p, tail) &&
                  qbuf_append(&body, v2, sizeof v2) &&
                  qbuf_append(&body, sigalg->data + alg0, sigalg->len - alg0) &&
                  qbuf_append(&body, name, (size_t)nl) && qbuf_append(&body, t1, l1) &&
                  qbuf_append(&body, t2, l2);
        OPENSSL_free(name);
        /* RFC 5280 5.1.2.6: no revoked certificates, no (empty) list */
        uint64_t list = p->entries_len ? 1 + len_size(p->entries_len) + p->entries_len : 0;
        uint64_t tbs = body.len + list + tail->len;
        ok = ok && header(head, 0x30, tbs) && qbuf_append(head, body.data, body.len) &&
             (!p->entries_len || header(head, 0x30, p->entries_len));
        qbuf_free(&body);
        if (!ok) {
                ERR_clear_error();
                return qerr_set(ei, QERR_INTERNAL, "could not encode the CRL around its entries");
        }
        return QERR_OK;
}

bool pki_crl_wrap(uint64_t tbs_len, const uint8_t *sigalg, size_t sigalg_len, const uint8_t *sig,
                  size_t sig_len, struct qbuf *prefix, struct qbuf *suffix)
{
        uint64_t bits = 1 + len_size(sig_len + 1) + sig_len + 1;
        static const uint8_t unused = 0;
        return header(prefix, 0x30, tbs_len + sigalg_len + bits) &&
               qbuf_append(suffix, sigalg, sigalg_len) && header(suffix, 0x03, sig_len + 1) &&
               qbuf_append(suffix, &unused, 1) && qbuf_append(suffix, sig, sig_len);
}

enum qerr pki_crl_verify_parts(X509 *issuer, const uint8_t *head, size_t head_len,
                               const uint8_t *entries, size_t entries_len, const uint8_t *tail,
                               size_t tail_len, const uint8_t *sig, size_t sig_len,
                               struct qerr_info *ei)
{
        EVP_PKEY *pub = X509_get0_pubkey(issuer);
        EVP_MD_CTX *ctx = pub ? pki_verify_ctx(pub) : NULL;
        bool ok = ctx && EVP_DigestVerifyUpdate(ctx, head, head_len) == 1 &&
                  (!entries_len || EVP_DigestVerifyUpdate(ctx, entries, entries_len) == 1) &&
                  EVP_DigestVerifyUpdate(ctx, tail, tail_len) == 1 &&
                  EVP_DigestVerifyFinal(ctx, sig, sig_len) == 1;
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        if (!ok)
                return qerr_set(ei, QERR_INTERNAL,
                                "the CRL signature does not verify over the stored bytes");
        return QERR_OK;
}

size_t pki_der_header(uint8_t out[10], uint8_t tag, uint64_t len)
{
        out[0] = tag;
        return 1 + put_len(out + 1, len);
}

/* ---- the lint gate (issue 7) ---- */

/* The header length of the SEQUENCE starting at p (its contents need not
 * be there: a TBSCertList head is followed by entries and tail); 0 when it
 * is not a SEQUENCE with a minimal length. */
static size_t seq_header(const uint8_t *p, size_t len)
{
        if (len < 2 || p[0] != 0x30)
                return 0;
        if (p[1] < 0x80)
                return 2;
        size_t k = p[1] & 0x7f;
        if (k == 0 || k > 8 || len < 2 + k || p[2] == 0)
                return 0;
        uint64_t l = 0;
        for (size_t i = 0; i < k; i++)
                l = l << 8 | p[2 + i];
        return l < 0x80 || len_size(l) != k + 1 ? 0 : 2 + k;
}

static bool same(const struct qbuf *a, const struct qbuf *b)
{
        return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

enum qerr pki_crl_gate_header(X509 *issuer, const struct pki_lint_gate *gate,
                              const struct pki_crl_params *p, const struct qbuf *head,
                              const struct qbuf *tail, const struct qbuf *sigalg,
                              struct qerr_info *ei)
{
        if (!gate || !gate->lint_key || !gate->crl)
                return qerr_set(ei, QERR_INTERNAL, "the lint gate has no key or rules");
        struct pki_crl_params p0 = *p;
        p0.entries_len = 0;
        struct qbuf h0, t0, a0, der;
        qbuf_init(&h0, 32 * 1024);
        qbuf_init(&t0, 4096);
        qbuf_init(&a0, 256);
        qbuf_init(&der, 64 * 1024);
        EVP_MD_CTX *ctx = pki_sign_ctx(gate->lint_key);
        enum qerr rc = ctx ? pki_crl_tbs_parts(issuer, ctx, &p0, &h0, &t0, &a0, ei)
                           : qerr_set(ei, QERR_INTERNAL, "could not start the lint signature");
        /* The linted CRL is the real one without its entries: the same
         * algorithm and trailer bytes, and the same TBSCertList fields; only
         * the outer length and the revokedCertificates header differ. */
        size_t hr = seq_header(head->data, head->len), hz = seq_header(h0.data, h0.len);
        uint8_t list[10];
        size_t ll = p->entries_len ? pki_der_header(list, 0x30, p->entries_len) : 0;
        if (rc == QERR_OK && (!hr || !hz || !same(&t0, tail) || !same(&a0, sigalg) ||
                              head->len - hr != h0.len - hz + ll ||
                              memcmp(head->data + hr, h0.data + hz, h0.len - hz) != 0 ||
                              (ll && memcmp(head->data + head->len - ll, list, ll) != 0)))
                rc = qerr_set(ei, QERR_INTERNAL, "the CRL to sign differs from the one linted");
        unsigned char sig[1024];
        size_t siglen = sizeof sig;
        if (rc == QERR_OK && (EVP_DigestSignUpdate(ctx, h0.data, h0.len) != 1 ||
                              EVP_DigestSignUpdate(ctx, t0.data, t0.len) != 1 ||
                              EVP_DigestSignFinal(ctx, sig, &siglen) != 1))
                rc = qerr_set(ei, QERR_INTERNAL, "could not sign the CRL to lint it");
        struct qbuf prefix, suffix;
        qbuf_init(&prefix, 16);
        qbuf_init(&suffix, 2048);
        if (rc == QERR_OK &&
            !(pki_crl_wrap(h0.len + t0.len, a0.data, a0.len, sig, siglen, &prefix, &suffix) &&
              qbuf_append(&der, prefix.data, prefix.len) && qbuf_append(&der, h0.data, h0.len) &&
              qbuf_append(&der, t0.data, t0.len) && qbuf_append(&der, suffix.data, suffix.len)))
                rc = qerr_set(ei, QERR_INTERNAL, "could not assemble the CRL to lint it");
        if (rc == QERR_OK) {
                struct lint_report local, *r = gate->report ? gate->report : &local;
                lint_report_init(&local);
                size_t before = r->errors;
                rc = lint_crl_der(der.data, der.len, gate->crl, r, ei);
                if (rc != QERR_OK) /* we made it: a bug, not the user's doing */
                        rc = qerr_set(ei, QERR_INTERNAL,
                                      "the lint gate could not read back the CRL: %s",
                                      qerr_message(ei));
                else if (r->errors > before)
                        rc = lint_refusal(r, "CRL", ei);
                lint_report_free(&local);
        }
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        qbuf_free(&h0);
        qbuf_free(&t0);
        qbuf_free(&a0);
        qbuf_free(&der);
        qbuf_free(&prefix);
        qbuf_free(&suffix);
        return rc;
}

enum qerr pki_crl_gate_entry(const struct pki_crl_entry *e, struct qerr_info *ei)
{
        enum lint_check_id c = lint_crl_entry_check(e->serial, e->serial_len, e->reason);
        if (c == LC__COUNT)
                return QERR_OK;
        size_t n = 0;
        const struct lint_check *k = &lint_checks(&n)[c];
        char hex[41] = "";
        for (size_t i = 0; i < e->serial_len && i < 20; i++)
                snprintf(hex + 2 * i, 3, "%02x", e->serial[i]);
        return qerr_set(ei, QERR_LINT_FAILED,
                        "the CRL fails lint check %s (%s): the entry for serial %s breaks the "
                        "rule: %s",
                        k->id, k->source, hex[0] ? hex : "(empty)", k->summary);
}
