/*
 * jws.c - see jws.h. Parsing (strict JSON, base64url) first, then keys from
 * JWKs, then verification.
 */
#include "jws.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../base/b64.h"
#include "pki_hmac.h"
#include "pki_key.h"

enum kty { KTY_EC256, KTY_EC384, KTY_RSA, KTY_ED25519 };

struct jws_key {
        EVP_PKEY *pkey;
        enum kty kty;
        /* the RFC 7638 member values (base64url) */
        char *x, *y; /* EC, OKP (x only) */
        char *n, *e; /* RSA */
};

static const char *const alg_names[JWS_ALG__COUNT] = {"ES256", "ES384", "RS256", "EdDSA", "HS256"};

const char *jws_alg_name(enum jws_alg a)
{
        return (unsigned)a < JWS_ALG__COUNT ? alg_names[a] : "?";
}

/* ---- parsing ---- */

static bool b64url_chars(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_'))
                        return false;
        }
        return true;
}

/* printable ASCII only (URLs, kids, nonces) */
static bool printable(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
                        return false;
        return true;
}

static enum qerr bad(struct qerr_info *ei, const char *what)
{
        return qerr_set(ei, QERR_JWS_INVALID, "the JWS is malformed: %s", what);
}

/* A base64url string member of a JSON object, decoded into a fresh heap
 * buffer (NUL-terminated). */
static enum qerr b64_member(json_t *obj, const char *name, size_t max, uint8_t **out,
                            size_t *outlen, const char **raw, size_t *rawlen, struct qerr_info *ei)
{
        json_t *v = json_object_get(obj, name);
        char what[96];
        if (!v || !json_is_string(v)) {
                snprintf(what, sizeof what, "\"%s\" must be a base64url string", name);
                return bad(ei, what);
        }
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (!b64url_chars(s, len)) {
                snprintf(what, sizeof what, "\"%s\" is not base64url without padding", name);
                return bad(ei, what);
        }
        struct qbuf b;
        qbuf_init(&b, max);
        if (!b64url_decode(s, len, &b)) {
                qbuf_free(&b);
                snprintf(what, sizeof what, "\"%s\" is not base64url without padding", name);
                return bad(ei, what);
        }
        if (!b.data) {
                /* an empty payload: keep a NUL-terminated empty buffer */
                *out = calloc(1, 1);
                if (!*out)
                        return qerr_set(ei, QERR_NOMEM, NULL);
                *outlen = 0;
        } else {
                *out = qbuf_take(&b, outlen);
        }
        if (raw) {
                *raw = s;
                *rawlen = len;
        }
        return QERR_OK;
}

static enum qerr alg_from_name(const char *s, bool mac, enum jws_alg *out, struct qerr_info *ei)
{
        for (int i = 0; i < JWS_ALG__COUNT; i++)
                if (strcmp(s, alg_names[i]) == 0) {
                        if ((i == JWS_HS256) != mac)
                                break;
                        *out = (enum jws_alg)i;
                        return QERR_OK;
                }
        char safe[24];
        size_t k = 0;
        for (const char *p = s; *p && k + 1 < sizeof safe; p++)
                safe[k++] = (*p > 0x20 && *p < 0x7f) ? *p : '?';
        safe[k] = 0;
        if (mac)
                return qerr_set(ei, QERR_JWS_ALGORITHM,
                                "the external account binding must be signed with HS256, not "
                                "\"%s\"",
                                safe);
        return qerr_set(ei, QERR_JWS_ALGORITHM,
                        "the JWS algorithm \"%s\" is not accepted; use ES256, ES384, RS256 or "
                        "EdDSA",
                        safe);
}

/* A string member of the header: printable ASCII up to max bytes. */
static enum qerr header_string(json_t *h, const char *name, size_t max, const char **out,
                               struct qerr_info *ei)
{
        json_t *v = json_object_get(h, name);
        *out = NULL;
        if (!v)
                return QERR_OK;
        char what[96];
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
            !printable(json_string_value(v), json_string_length(v))) {
                snprintf(what, sizeof what,
                         "the protected header's \"%s\" must be a non-empty string of at most "
                         "%zu printable characters",
                         name, max);
                return bad(ei, what);
        }
        *out = json_string_value(v);
        return QERR_OK;
}

static enum qerr parse_header(struct jws *j, bool mac, struct qerr_info *ei)
{
        json_t *h = j->header;
        const char *key;
        json_t *v;
        json_object_foreach(h, key, v)
        {
                if (strcmp(key, "alg") && strcmp(key, "nonce") && strcmp(key, "url") &&
                    strcmp(key, "kid") && strcmp(key, "jwk")) {
                        char what[128], safe[40];
                        size_t k = 0;
                        for (const char *p = key; *p && k + 1 < sizeof safe; p++)
                                safe[k++] = (*p > 0x20 && *p < 0x7f) ? *p : '?';
                        safe[k] = 0;
                        snprintf(what, sizeof what,
                                 "the protected header holds \"%s\", which is not used here "
                                 "(only alg, nonce, url, kid, jwk)",
                                 safe);
                        return bad(ei, what);
                }
        }
        json_t *alg = json_object_get(h, "alg");
        if (!alg || !json_is_string(alg))
                return bad(ei, "the protected header needs \"alg\" as a string");
        enum qerr rc = alg_from_name(json_string_value(alg), mac, &j->alg, ei);
        if (rc != QERR_OK)
                return rc;
        if ((rc = header_string(h, "nonce", JWS_NONCE_MAX, &j->nonce, ei)) != QERR_OK ||
            (rc = header_string(h, "url", JWS_URL_MAX, &j->url, ei)) != QERR_OK ||
            (rc = header_string(h, "kid", JWS_URL_MAX, &j->kid, ei)) != QERR_OK)
                return rc;
        if (j->nonce && !b64url_chars(j->nonce, strlen(j->nonce)))
                return bad(ei, "the nonce is not base64url");
        j->jwk = json_object_get(h, "jwk");
        if (j->jwk && !json_is_object(j->jwk))
                return bad(ei, "the protected header's \"jwk\" must be an object");
        if (!j->url)
                return bad(ei, "the protected header needs \"url\"");
        if (mac) {
                if (j->nonce || j->jwk)
                        return bad(ei, "the external account binding must not carry a nonce or "
                                       "a jwk");
                if (!j->kid)
                        return bad(ei, "the external account binding needs \"kid\"");
                return QERR_OK;
        }
        if (j->jwk && j->kid)
                return bad(ei, "the protected header must hold \"jwk\" or \"kid\", not both");
        if (!j->jwk && !j->kid)
                return bad(ei, "the protected header needs \"jwk\" or \"kid\"");
        return QERR_OK;
}

static enum qerr parse_object(json_t *doc, bool mac, struct jws *out, struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        if (!json_is_object(doc))
                return bad(ei, "the body must be a JSON object");
        const char *key;
        json_t *v;
        json_object_foreach(doc, key, v)
        {
                if (strcmp(key, "protected") && strcmp(key, "payload") && strcmp(key, "signature"))
                        return bad(ei, "the object may hold only \"protected\", \"payload\" and "
                                       "\"signature\" (the flattened serialization, no "
                                       "unprotected header)");
        }
        uint8_t *hdr = NULL;
        size_t hdr_len = 0;
        const char *p_raw = NULL, *pl_raw = NULL;
        size_t p_rawlen = 0, pl_rawlen = 0;
        enum qerr rc =
            b64_member(doc, "protected", MAX_JWS_BYTES, &hdr, &hdr_len, &p_raw, &p_rawlen, ei);
        if (rc != QERR_OK)
                goto fail;
        if (hdr_len == 0) {
                rc = bad(ei, "the protected header is empty");
                goto fail;
        }
        json_error_t jerr;
        out->header = json_loadb((const char *)hdr, hdr_len, JSON_REJECT_DUPLICATES, &jerr);
        free(hdr);
        hdr = NULL;
        if (!out->header || !json_is_object(out->header)) {
                rc = bad(ei, "the protected header is not a JSON object (or repeats a member)");
                goto fail;
        }
        if ((rc = parse_header(out, mac, ei)) != QERR_OK)
                goto fail;
        if ((rc = b64_member(doc, "payload", MAX_JWS_BYTES, &out->payload, &out->payload_len,
                             &pl_raw, &pl_rawlen, ei)) != QERR_OK)
                goto fail;
        out->post_as_get = pl_rawlen == 0;
        if ((rc = b64_member(doc, "signature", 1024, &out->sig, &out->sig_len, NULL, NULL, ei)) !=
            QERR_OK)
                goto fail;
        if (out->sig_len == 0) {
                rc = bad(ei, "the signature is empty");
                goto fail;
        }
        out->signing_len = p_rawlen + 1 + pl_rawlen;
        out->signing_input = malloc(out->signing_len + 1);
        if (!out->signing_input) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto fail;
        }
        memcpy(out->signing_input, p_raw, p_rawlen);
        out->signing_input[p_rawlen] = '.';
        memcpy(out->signing_input + p_rawlen + 1, pl_raw, pl_rawlen);
        out->signing_input[out->signing_len] = 0;
        return QERR_OK;
fail:
        free(hdr);
        jws_clear(out);
        return rc;
}

enum qerr jws_parse(const uint8_t *body, size_t len, struct jws *out, struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        if (!body || len == 0)
                return bad(ei, "the body is empty");
        if (len > MAX_JWS_BYTES)
                return qerr_set(ei, QERR_BODY_TOO_LARGE, "the JWS is larger than %u bytes",
                                MAX_JWS_BYTES);
        json_error_t jerr;
        json_t *doc = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc)
                return bad(ei, "the body is not one JSON object (or it repeats a member)");
        enum qerr rc = parse_object(doc, false, out, ei);
        json_decref(doc);
        return rc;
}

enum qerr jws_parse_eab(json_t *obj, struct jws *out, struct qerr_info *ei)
{
        return parse_object(obj, true, out, ei);
}

void jws_clear(struct jws *j)
{
        if (!j)
                return;
        json_decref(j->header);
        free(j->payload);
        free(j->signing_input);
        free(j->sig);
        memset(j, 0, sizeof *j);
}

/* ---- keys ---- */

void jws_key_free(struct jws_key *k)
{
        if (!k)
                return;
        EVP_PKEY_free(k->pkey);
        free(k->x);
        free(k->y);
        free(k->n);
        free(k->e);
        free(k);
}

static enum qerr jwk_bad(struct qerr_info *ei, const char *what)
{
        return qerr_set(ei, QERR_JWS_INVALID, "the JWK is malformed: %s", what);
}

/* A base64url member of a JWK decoded into buf (max bytes); *raw the text. */
static enum qerr jwk_b64(json_t *jwk, const char *name, size_t max, struct qbuf *buf,
                         const char **raw, struct qerr_info *ei)
{
        json_t *v = json_object_get(jwk, name);
        char what[80];
        snprintf(what, sizeof what, "\"%s\" must be a base64url string", name);
        if (!v || !json_is_string(v))
                return jwk_bad(ei, what);
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        qbuf_init(buf, max);
        if (len == 0 || !b64url_chars(s, len) || !b64url_decode(s, len, buf) || buf->len == 0) {
                qbuf_free(buf);
                return jwk_bad(ei, what);
        }
        *raw = s;
        return QERR_OK;
}

static enum qerr ec_key(struct jws_key *k, json_t *jwk, struct qerr_info *ei)
{
        json_t *crv = json_object_get(jwk, "crv");
        if (!crv || !json_is_string(crv))
                return jwk_bad(ei, "an EC key needs \"crv\"");
        size_t clen;
        const char *group;
        if (!strcmp(json_string_value(crv), "P-256")) {
                k->kty = KTY_EC256;
                clen = 32;
                group = "prime256v1";
        } else if (!strcmp(json_string_value(crv), "P-384")) {
                k->kty = KTY_EC384;
                clen = 48;
                group = "secp384r1";
        } else {
                return qerr_set(ei, QERR_ACME_PUBLIC_KEY,
                                "the EC curve is not supported; use P-256 or P-384");
        }
        struct qbuf x, y;
        const char *xr, *yr;
        enum qerr rc = jwk_b64(jwk, "x", 66, &x, &xr, ei);
        if (rc != QERR_OK)
                return rc;
        if ((rc = jwk_b64(jwk, "y", 66, &y, &yr, ei)) != QERR_OK) {
                qbuf_free(&x);
                return rc;
        }
        uint8_t pt[1 + 2 * 48];
        OSSL_PARAM_BLD *bld = NULL;
        OSSL_PARAM *params = NULL;
        EVP_PKEY_CTX *ctx = NULL;
        if (x.len != clen || y.len != clen) {
                rc = jwk_bad(ei, "the EC coordinates have the wrong length for the curve");
                goto out;
        }
        pt[0] = 0x04;
        memcpy(pt + 1, x.data, clen);
        memcpy(pt + 1 + clen, y.data, clen);
        bld = OSSL_PARAM_BLD_new();
        if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * clen) ||
            !(params = OSSL_PARAM_BLD_to_param(bld)) ||
            !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) ||
            EVP_PKEY_fromdata_init(ctx) <= 0 ||
            EVP_PKEY_fromdata(ctx, &k->pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
                rc = qerr_set(ei, QERR_ACME_PUBLIC_KEY, "the EC point is not on the curve");
                goto out;
        }
        EVP_PKEY_CTX_free(ctx);
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
        if (!ctx || EVP_PKEY_public_check(ctx) != 1) {
                rc = qerr_set(ei, QERR_ACME_PUBLIC_KEY, "the EC point is not on the curve");
                goto out;
        }
        k->x = strdup(xr);
        k->y = strdup(yr);
        if (!k->x || !k->y)
                rc = qerr_set(ei, QERR_NOMEM, NULL);
out:
        ERR_clear_error();
        EVP_PKEY_CTX_free(ctx);
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        qbuf_free(&x);
        qbuf_free(&y);
        return rc;
}

static enum qerr rsa_key(struct jws_key *k, json_t *jwk, struct qerr_info *ei)
{
        k->kty = KTY_RSA;
        struct qbuf n, e;
        const char *nr, *er;
        enum qerr rc = jwk_b64(jwk, "n", JWS_RSA_MAX_BITS / 8 + 1, &n, &nr, ei);
        if (rc != QERR_OK)
                return rc == QERR_JWS_INVALID
                           ? qerr_set(ei, QERR_ACME_PUBLIC_KEY,
                                      "the RSA modulus is missing or longer than %d bits",
                                      JWS_RSA_MAX_BITS)
                           : rc;
        if ((rc = jwk_b64(jwk, "e", 8, &e, &er, ei)) != QERR_OK) {
                qbuf_free(&n);
                return rc;
        }
        BIGNUM *bn = NULL, *be = NULL;
        OSSL_PARAM_BLD *bld = NULL;
        OSSL_PARAM *params = NULL;
        EVP_PKEY_CTX *ctx = NULL;
        /* RFC 7518 6.3.1: no leading zero octets (the thumbprint depends on it) */
        if (n.data[0] == 0 || e.data[0] == 0) {
                rc = jwk_bad(ei, "the RSA members must not start with a zero octet");
                goto out;
        }
        size_t bits = n.len * 8;
        for (uint8_t top = n.data[0]; !(top & 0x80); top <<= 1)
                bits--;
        if (bits < JWS_RSA_MIN_BITS || bits > JWS_RSA_MAX_BITS) {
                rc = qerr_set(ei, QERR_ACME_PUBLIC_KEY,
                              "the RSA key has %zu bits; use %d to %d bits", bits, JWS_RSA_MIN_BITS,
                              JWS_RSA_MAX_BITS);
                goto out;
        }
        if (!(n.data[n.len - 1] & 1) || !(e.data[e.len - 1] & 1) || (e.len == 1 && e.data[0] < 3)) {
                rc = qerr_set(ei, QERR_ACME_PUBLIC_KEY, "the RSA key is not valid");
                goto out;
        }
        bn = BN_bin2bn(n.data, (int)n.len, NULL);
        be = BN_bin2bn(e.data, (int)e.len, NULL);
        bld = OSSL_PARAM_BLD_new();
        if (!bn || !be || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
            !(params = OSSL_PARAM_BLD_to_param(bld)) ||
            !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) ||
            EVP_PKEY_fromdata_init(ctx) <= 0 ||
            EVP_PKEY_fromdata(ctx, &k->pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
                rc = qerr_set(ei, QERR_ACME_PUBLIC_KEY, "the RSA key is not valid");
                goto out;
        }
        k->n = strdup(nr);
        k->e = strdup(er);
        if (!k->n || !k->e)
                rc = qerr_set(ei, QERR_NOMEM, NULL);
out:
        ERR_clear_error();
        BN_free(bn);
        BN_free(be);
        EVP_PKEY_CTX_free(ctx);
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        qbuf_free(&n);
        qbuf_free(&e);
        return rc;
}

static enum qerr okp_key(struct jws_key *k, json_t *jwk, struct qerr_info *ei)
{
        json_t *crv = json_object_get(jwk, "crv");
        if (!crv || !json_is_string(crv))
                return jwk_bad(ei, "an OKP key needs \"crv\"");
        if (strcmp(json_string_value(crv), "Ed25519"))
                return qerr_set(ei, QERR_ACME_PUBLIC_KEY,
                                "the OKP curve is not supported; use Ed25519");
        k->kty = KTY_ED25519;
        struct qbuf x;
        const char *xr;
        enum qerr rc = jwk_b64(jwk, "x", 64, &x, &xr, ei);
        if (rc != QERR_OK)
                return rc;
        if (x.len != 32)
                rc = jwk_bad(ei, "an Ed25519 key has 32 bytes");
        else if (!(k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x.data, 32)))
                rc = qerr_set(ei, QERR_ACME_PUBLIC_KEY, "the Ed25519 key is not valid");
        else if (!(k->x = strdup(xr)))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        ERR_clear_error();
        qbuf_free(&x);
        return rc;
}

/* Members a public JWK may carry besides its RFC 7638 ones. */
static bool jwk_member_ok(const char *kty, const char *m)
{
        static const char *const common[] = {"kty", "alg", "use", "kid", "key_ops", "ext"};
        for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
                if (!strcmp(m, common[i]))
                        return true;
        if (!strcmp(kty, "EC"))
                return !strcmp(m, "crv") || !strcmp(m, "x") || !strcmp(m, "y");
        if (!strcmp(kty, "RSA"))
                return !strcmp(m, "n") || !strcmp(m, "e");
        if (!strcmp(kty, "OKP"))
                return !strcmp(m, "crv") || !strcmp(m, "x");
        return false;
}

enum qerr jws_key_from_jwk(json_t *jwk, struct jws_key **out, struct qerr_info *ei)
{
        *out = NULL;
        if (!json_is_object(jwk))
                return jwk_bad(ei, "it must be a JSON object");
        json_t *kty = json_object_get(jwk, "kty");
        if (!kty || !json_is_string(kty))
                return jwk_bad(ei, "\"kty\" must be a string");
        const char *t = json_string_value(kty);
        if (strcmp(t, "EC") && strcmp(t, "RSA") && strcmp(t, "OKP"))
                return qerr_set(ei, QERR_ACME_PUBLIC_KEY,
                                "the key type is not supported; use EC, RSA or OKP (Ed25519)");
        const char *m;
        json_t *v;
        json_object_foreach(jwk, m, v)
        {
                if (!jwk_member_ok(t, m)) {
                        bool priv = !strcmp(m, "d") || !strcmp(m, "p") || !strcmp(m, "q") ||
                                    !strcmp(m, "dp") || !strcmp(m, "dq") || !strcmp(m, "qi") ||
                                    !strcmp(m, "oth") || !strcmp(m, "k");
                        return priv ? qerr_set(ei, QERR_ACME_PUBLIC_KEY,
                                               "the JWK holds private key material; send the "
                                               "public key only (and make a new key: this one "
                                               "was disclosed)")
                                    : jwk_bad(ei, "it holds a member not used for this key "
                                                  "type");
                }
        }
        struct jws_key *k = calloc(1, sizeof *k);
        if (!k)
                return qerr_set(ei, QERR_NOMEM, NULL);
        enum qerr rc = !strcmp(t, "EC")    ? ec_key(k, jwk, ei)
                       : !strcmp(t, "RSA") ? rsa_key(k, jwk, ei)
                                           : okp_key(k, jwk, ei);
        if (rc != QERR_OK) {
                jws_key_free(k);
                return rc;
        }
        *out = k;
        return QERR_OK;
}

enum qerr jws_key_from_text(const char *text, size_t len, struct jws_key **out,
                            struct qerr_info *ei)
{
        *out = NULL;
        json_error_t jerr;
        json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc)
                return jwk_bad(ei, "it is not JSON");
        enum qerr rc = jws_key_from_jwk(doc, out, ei);
        json_decref(doc);
        return rc;
}

enum qerr jws_key_canonical(const struct jws_key *k, struct qbuf *out, struct qerr_info *ei)
{
        bool ok;
        switch (k->kty) {
        case KTY_EC256:
        case KTY_EC384:
                ok = qbuf_printf(out, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                                 k->kty == KTY_EC256 ? "P-256" : "P-384", k->x, k->y);
                break;
        case KTY_RSA:
                ok = qbuf_printf(out, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", k->e, k->n);
                break;
        default:
                ok = qbuf_printf(out, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", k->x);
                break;
        }
        return ok ? QERR_OK : qerr_set(ei, QERR_NOMEM, NULL);
}

enum qerr jws_sha256_b64url(const void *data, size_t len, char *out, struct qerr_info *ei)
{
        unsigned char md[32];
        unsigned int mdlen = 0;
        if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
                return qerr_set(ei, QERR_INTERNAL, "sha256 failed");
        struct qbuf b;
        qbuf_init(&b, 64);
        if (!b64url_encode(md, 32, &b) || b.len != JWS_THUMBPRINT_LEN) {
                qbuf_free(&b);
                return qerr_set(ei, QERR_NOMEM, NULL);
        }
        memcpy(out, b.data, JWS_THUMBPRINT_LEN + 1);
        qbuf_free(&b);
        return QERR_OK;
}

enum qerr jws_key_thumbprint(const struct jws_key *k, char *out, struct qerr_info *ei)
{
        struct qbuf b;
        qbuf_init(&b, 4096);
        enum qerr rc = jws_key_canonical(k, &b, ei);
        if (rc == QERR_OK)
                rc = jws_sha256_b64url(b.data, b.len, out, ei);
        qbuf_free(&b);
        return rc;
}

enum qerr jws_key_spki_sha256(const struct jws_key *k, char out[65], struct qerr_info *ei)
{
        return pki_key_id(k->pkey, out, ei);
}

bool jws_key_equal(const struct jws_key *a, const struct jws_key *b)
{
        return a && b && EVP_PKEY_eq(a->pkey, b->pkey) == 1;
}

bool jws_key_matches_cert(const struct jws_key *k, const void *cert, size_t len)
{
        if (!k || !cert || len == 0 || len > INT_MAX)
                return false;
        X509 *x = NULL;
        if (memmem(cert, len, "-----BEGIN", 10)) {
                BIO *b = BIO_new_mem_buf(cert, (int)len);
                if (b)
                        x = PEM_read_bio_X509(b, NULL, NULL, NULL);
                BIO_free(b);
        } else {
                const unsigned char *p = cert;
                x = d2i_X509(NULL, &p, (long)len);
        }
        bool same = x && X509_get0_pubkey(x) && EVP_PKEY_eq(X509_get0_pubkey(x), k->pkey) == 1;
        X509_free(x);
        ERR_clear_error();
        return same;
}

/* ---- verification ---- */

static bool alg_fits(enum jws_alg a, enum kty t)
{
        switch (a) {
        case JWS_ES256:
                return t == KTY_EC256;
        case JWS_ES384:
                return t == KTY_EC384;
        case JWS_RS256:
                return t == KTY_RSA;
        case JWS_EDDSA:
                return t == KTY_ED25519;
        default:
                return false;
        }
}

/* R||S (fixed length) to a DER ECDSA-Sig-Value; *der is the caller's. */
static bool ecdsa_der(const uint8_t *sig, size_t len, size_t clen, unsigned char **der, int *dlen)
{
        if (len != 2 * clen)
                return false;
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(sig, (int)clen, NULL);
        BIGNUM *s = BN_bin2bn(sig + clen, (int)clen, NULL);
        if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
                ECDSA_SIG_free(es);
                BN_free(r);
                BN_free(s);
                return false;
        }
        *der = NULL;
        *dlen = i2d_ECDSA_SIG(es, der);
        ECDSA_SIG_free(es);
        return *dlen > 0;
}

enum qerr jws_verify(const struct jws *j, const struct jws_key *k, struct qerr_info *ei)
{
        if (!alg_fits(j->alg, k->kty))
                return qerr_set(ei, QERR_JWS_ALGORITHM,
                                "the JWS algorithm %s does not fit the key (ES256 goes with "
                                "P-256, ES384 with P-384, RS256 with RSA, EdDSA with Ed25519)",
                                jws_alg_name(j->alg));
        const uint8_t *sig = j->sig;
        size_t siglen = j->sig_len;
        unsigned char *der = NULL;
        int dlen = 0;
        const EVP_MD *md = NULL;
        bool ok = true;
        if (j->alg == JWS_ES256 || j->alg == JWS_ES384) {
                size_t clen = j->alg == JWS_ES256 ? 32 : 48;
                ok = ecdsa_der(j->sig, j->sig_len, clen, &der, &dlen);
                sig = der;
                siglen = (size_t)dlen;
                md = j->alg == JWS_ES256 ? EVP_sha256() : EVP_sha384();
        } else if (j->alg == JWS_RS256) {
                md = EVP_sha256();
                ok = (int)siglen == EVP_PKEY_get_size(k->pkey);
        }
        EVP_MD_CTX *ctx = ok ? EVP_MD_CTX_new() : NULL;
        ok = ctx &&
             EVP_DigestVerifyInit_ex(ctx, NULL, md ? EVP_MD_get0_name(md) : NULL, NULL, NULL,
                                     k->pkey, NULL) == 1 &&
             EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)j->signing_input,
                              j->signing_len) == 1;
        EVP_MD_CTX_free(ctx);
        OPENSSL_free(der);
        ERR_clear_error();
        if (!ok)
                return qerr_set(ei, QERR_JWS_SIGNATURE, NULL);
        return QERR_OK;
}

enum qerr jws_verify_hmac(const struct jws *j, const uint8_t *key, size_t klen,
                          struct qerr_info *ei)
{
        if (j->alg != JWS_HS256 || j->sig_len != PKI_HMAC_BYTES)
                return qerr_set(ei, QERR_ACME_EAB_INVALID, NULL);
        uint8_t mac[PKI_HMAC_BYTES];
        enum qerr rc =
            pki_hmac_sha256(key, klen, (const uint8_t *)j->signing_input, j->signing_len, mac, ei);
        if (rc != QERR_OK)
                return rc;
        bool same = CRYPTO_memcmp(mac, j->sig, PKI_HMAC_BYTES) == 0;
        OPENSSL_cleanse(mac, sizeof mac);
        return same ? QERR_OK : qerr_set(ei, QERR_ACME_EAB_INVALID, NULL);
}
