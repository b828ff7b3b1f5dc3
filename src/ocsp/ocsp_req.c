/*
 * ocsp_req.c - the strict DER reader of OCSP requests; see ocsp_req.h.
 *
 * A `struct der` is the unread rest of one element's content. der_take()
 * reads the next TLV of it (definite, minimal length; low tag numbers only,
 * which is all an OCSPRequest uses) and hands back the content; each level
 * checks that it used up its parent exactly.
 */
#include "ocsp_req.h"

#include <string.h>

struct der {
        const uint8_t *p;
        size_t len;
};

/* Reads the next TLV; its tag byte into *tag, its content into *content. */
static bool der_next(struct der *d, uint8_t *tag, struct der *content)
{
        if (d->len < 2)
                return false;
        const uint8_t t = d->p[0];
        if ((t & 0x1f) == 0x1f)
                return false; /* high tag number form: never in an OCSPRequest */
        size_t hdr = 2, n = d->p[1];
        if (n & 0x80) {
                size_t k = n & 0x7f;
                if (k == 0 || k > 3 || d->len < 2 + k)
                        return false; /* indefinite (BER), or longer than any request */
                if (d->p[2] == 0)
                        return false; /* a leading zero octet: not minimal */
                n = 0;
                for (size_t i = 0; i < k; i++)
                        n = n << 8 | d->p[2 + i];
                if (n < 0x80)
                        return false; /* the short form was required */
                hdr += k;
        }
        if (n > d->len - hdr)
                return false;
        *tag = t;
        content->p = d->p + hdr;
        content->len = n;
        d->p += hdr + n;
        d->len -= hdr + n;
        return true;
}

/* The next TLV, which must have tag `want`. */
static bool der_take(struct der *d, uint8_t want, struct der *content)
{
        uint8_t t;
        struct der save = *d;
        if (!der_next(d, &t, content) || t != want) {
                *d = save;
                return false;
        }
        return true;
}

/* Whether the next TLV has tag `t` (without reading it). */
static bool der_peek(const struct der *d, uint8_t t)
{
        return d->len > 0 && d->p[0] == t;
}

/* A TLV that must be there with tag `want`, whose content is skipped (it
 * must still be framed correctly). */
static bool der_skip(struct der *d, uint8_t want)
{
        struct der c;
        return der_take(d, want, &c);
}

/* An INTEGER's content is minimal: no leading 0x00 before a clear top bit,
 * no leading 0xff before a set one. */
static bool int_minimal(const struct der *c)
{
        if (c->len == 0)
                return false;
        if (c->len == 1)
                return true;
        return !(c->p[0] == 0x00 && !(c->p[1] & 0x80)) && !(c->p[0] == 0xff && (c->p[1] & 0x80));
}

static const uint8_t SHA1_OID[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};

/* AlgorithmIdentifier { OID, parameters NULL or absent }. */
static bool parse_alg(struct der *d, enum ocsp_hash_alg *alg)
{
        struct der a, oid;
        if (!der_take(d, 0x30, &a) || !der_take(&a, 0x06, &oid) || oid.len == 0)
                return false;
        if (a.len) {
                struct der params;
                if (!der_take(&a, 0x05, &params) || params.len != 0 || a.len != 0)
                        return false;
        }
        *alg = oid.len == sizeof SHA1_OID && memcmp(oid.p, SHA1_OID, sizeof SHA1_OID) == 0
                   ? OCSP_HASH_SHA1
                   : OCSP_HASH_OTHER;
        return true;
}

static bool hash_len_ok(enum ocsp_hash_alg alg, size_t len)
{
        return alg == OCSP_HASH_SHA1 ? len == OCSP_SHA1_LEN : len >= 1 && len <= OCSP_MAX_HASH;
}

/* CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash, issuerKeyHash,
 * serialNumber } */
static bool parse_certid(struct der *d, struct ocsp_certid *out)
{
        struct der c, nh, kh, sn;
        if (!der_take(d, 0x30, &c) || !parse_alg(&c, &out->hash) || !der_take(&c, 0x04, &nh) ||
            !der_take(&c, 0x04, &kh) || !der_take(&c, 0x02, &sn) || c.len != 0)
                return false;
        if (!hash_len_ok(out->hash, nh.len) || !hash_len_ok(out->hash, kh.len))
                return false;
        if (!int_minimal(&sn) || sn.len > OCSP_MAX_SERIAL)
                return false;
        out->name_hash = nh.p;
        out->name_hash_len = nh.len;
        out->key_hash = kh.p;
        out->key_hash_len = kh.len;
        out->serial = sn.p;
        out->serial_len = sn.len;
        out->serial_negative = (sn.p[0] & 0x80) != 0;
        return true;
}

/* [n] EXPLICIT Extensions: the content must be one SEQUENCE. */
static bool skip_extensions(struct der *d, uint8_t ctx_tag)
{
        struct der wrap;
        if (!der_peek(d, ctx_tag))
                return true;
        if (!der_take(d, ctx_tag, &wrap) || !der_skip(&wrap, 0x30) || wrap.len != 0)
                return false;
        return true;
}

/* Request ::= SEQUENCE { reqCert CertID, [0] singleRequestExtensions } */
static bool parse_request(struct der *list, struct ocsp_certid *out)
{
        struct der r;
        if (!der_take(list, 0x30, &r) || !parse_certid(&r, out) || !skip_extensions(&r, 0xa0))
                return false;
        return r.len == 0;
}

/* TBSRequest; *count receives the number of Requests. */
static bool parse_tbs(struct der *d, struct ocsp_certid *out, size_t *count)
{
        struct der tbs, list, wrap;
        if (!der_take(d, 0x30, &tbs))
                return false;
        if (der_peek(&tbs, 0xa0)) {
                /* [0] EXPLICIT Version: only v1 (0) exists */
                struct der v;
                if (!der_take(&tbs, 0xa0, &wrap) || !der_take(&wrap, 0x02, &v) || wrap.len ||
                    v.len != 1 || v.p[0] != 0)
                        return false;
        }
        if (der_peek(&tbs, 0xa1)) {
                /* [1] EXPLICIT GeneralName: one element, not looked at */
                uint8_t t;
                struct der gn;
                if (!der_take(&tbs, 0xa1, &wrap) || !der_next(&wrap, &t, &gn) || wrap.len)
                        return false;
        }
        if (!der_take(&tbs, 0x30, &list))
                return false;
        *count = 0;
        while (list.len) {
                struct ocsp_certid tmp;
                if (!parse_request(&list, *count == 0 ? out : &tmp))
                        return false;
                (*count)++;
        }
        if (!skip_extensions(&tbs, 0xa2))
                return false;
        return tbs.len == 0;
}

enum ocsp_req_result ocsp_req_parse(const uint8_t *p, size_t len, struct ocsp_certid *out)
{
        memset(out, 0, sizeof *out);
        if (!p || len == 0 || len > OCSP_MAX_REQUEST)
                return OCSP_REQ_MALFORMED;
        struct der all = {p, len}, req;
        size_t count = 0;
        if (!der_take(&all, 0x30, &req) || all.len != 0 || !parse_tbs(&req, out, &count))
                return OCSP_REQ_MALFORMED;
        if (der_peek(&req, 0xa0)) {
                /* [0] EXPLICIT Signature: a SEQUENCE, ignored (RFC 5019 2.1.2) */
                struct der wrap;
                if (!der_take(&req, 0xa0, &wrap) || !der_skip(&wrap, 0x30) || wrap.len)
                        return OCSP_REQ_MALFORMED;
        }
        if (req.len != 0 || count == 0)
                return OCSP_REQ_MALFORMED;
        return count == 1 ? OCSP_REQ_OK : OCSP_REQ_MULTIPLE;
}

/* ---- the GET form ---- */

static int b64_value(unsigned char c, int *alphabet)
{
        int a = 0; /* 1: standard, 2: URL-safe */
        int v;
        if (c >= 'A' && c <= 'Z')
                v = c - 'A';
        else if (c >= 'a' && c <= 'z')
                v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
                v = c - '0' + 52;
        else if (c == '+' || c == '-')
                v = 62;
        else if (c == '/' || c == '_')
                v = 63;
        else
                return -1;
        if (v >= 62)
                a = c == '+' || c == '/' ? 1 : 2;
        if (a) {
                if (*alphabet && *alphabet != a)
                        return -1; /* the two alphabets mixed */
                *alphabet = a;
        }
        return v;
}

bool ocsp_req_b64(const char *s, size_t len, uint8_t *out, size_t outsz, size_t *outlen)
{
        size_t pad = 0;
        while (len && s[len - 1] == '=' && pad < 2) {
                len--;
                pad++;
        }
        if (len == 0 || len % 4 == 1)
                return false;
        if (pad && (len + pad) % 4 != 0)
                return false; /* padding that does not complete a group */
        int alphabet = 0;
        size_t o = 0;
        uint32_t acc = 0;
        int bits = 0;
        for (size_t i = 0; i < len; i++) {
                int v = b64_value((unsigned char)s[i], &alphabet);
                if (v < 0)
                        return false;
                acc = acc << 6 | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        if (o == outsz)
                                return false;
                        out[o++] = (uint8_t)(acc >> bits);
                        acc &= (1u << bits) - 1;
                }
        }
        if (acc != 0)
                return false; /* bits left over must be zero (canonical) */
        *outlen = o;
        return true;
}

/* ---- unsigned error responses ---- */

static const uint8_t ERR_RESP[4][5] = {
    {0x30, 0x03, 0x0a, 0x01, 0x01},
    {0x30, 0x03, 0x0a, 0x01, 0x02},
    {0x30, 0x03, 0x0a, 0x01, 0x03},
    {0x30, 0x03, 0x0a, 0x01, 0x06},
};

const uint8_t *ocsp_error_response(enum ocsp_error_status s, size_t *len)
{
        *len = 5;
        switch (s) {
        case OCSP_ERR_MALFORMED:
                return ERR_RESP[0];
        case OCSP_ERR_INTERNAL:
                return ERR_RESP[1];
        case OCSP_ERR_TRY_LATER:
                return ERR_RESP[2];
        case OCSP_ERR_UNAUTHORIZED:
        default:
                return ERR_RESP[3];
        }
}
