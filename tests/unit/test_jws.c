/*
 * test_jws.c - the ACME JWS decoder and verifier (src/pki/jws.c): good
 * requests for every algorithm (ES256, ES384, RS256, EdDSA) with jwk and
 * kid, a changed payload or signature refused, and each malformed or
 * refused form with its code: alg none, HS256, an unknown alg, jwk and kid
 * together or neither, an unprotected header, unknown header members,
 * duplicate members, padding, an empty signature, an oversized body, an
 * algorithm that does not fit the key, RSA under 2048 bits, private key
 * members, a point off the curve; the RFC 7638 thumbprint test vector; the
 * external account binding's HS256 inner JWS.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "pki/jws.h"

/* ---- making JWSs ---- */

static char *b64s(const void *p, size_t n)
{
        struct qbuf b;
        qbuf_init(&b, 1u << 20);
        assert_true(b64url_encode(p, n, &b));
        if (!b.data)
                return strdup("");
        return (char *)qbuf_take(&b, NULL);
}

static char *b64str(const char *s)
{
        return b64s(s, strlen(s));
}

static char *bn_b64(const BIGNUM *bn, int len)
{
        unsigned char buf[1024];
        int n = len ? BN_bn2binpad(bn, buf, len) : BN_bn2bin(bn, buf);
        assert_true(n > 0);
        return b64s(buf, (size_t)n);
}

/* The public JWK of `k` as JSON text (caller frees). */
static char *jwk_of(EVP_PKEY *k)
{
        char *out = NULL;
        if (EVP_PKEY_is_a(k, "EC")) {
                BIGNUM *x = NULL, *y = NULL;
                assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
                assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
                int l = EVP_PKEY_get_bits(k) == 256 ? 32 : 48;
                char *xs = bn_b64(x, l), *ys = bn_b64(y, l);
                assert_true(asprintf(&out,
                                     "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}",
                                     l == 32 ? "P-256" : "P-384", xs, ys) > 0);
                free(xs);
                free(ys);
                BN_free(x);
                BN_free(y);
        } else if (EVP_PKEY_is_a(k, "RSA")) {
                BIGNUM *n = NULL, *e = NULL;
                assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n), 1);
                assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e), 1);
                char *ns = bn_b64(n, 0), *es = bn_b64(e, 0);
                assert_true(asprintf(&out, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", ns, es) >
                            0);
                free(ns);
                free(es);
                BN_free(n);
                BN_free(e);
        } else {
                unsigned char raw[32];
                size_t rl = sizeof raw;
                assert_int_equal(EVP_PKEY_get_raw_public_key(k, raw, &rl), 1);
                char *xs = b64s(raw, rl);
                assert_true(
                    asprintf(&out, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", xs) > 0);
                free(xs);
        }
        return out;
}

static size_t sign(EVP_PKEY *k, const char *alg, const char *in, unsigned char *sig)
{
        const char *md = !strcmp(alg, "ES384") ? "SHA384" : !strcmp(alg, "EdDSA") ? NULL : "SHA256";
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char der[1024];
        size_t dl = sizeof der;
        assert_int_equal(EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, k, NULL), 1);
        assert_int_equal(EVP_DigestSign(ctx, der, &dl, (const unsigned char *)in, strlen(in)), 1);
        EVP_MD_CTX_free(ctx);
        if (strncmp(alg, "ES", 2)) {
                memcpy(sig, der, dl);
                return dl;
        }
        int l = !strcmp(alg, "ES256") ? 32 : 48;
        const unsigned char *p = der;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)dl);
        assert_non_null(es);
        BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, l);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + l, l);
        ECDSA_SIG_free(es);
        return (size_t)(2 * l);
}

/* A flattened JWS of `header` (JSON text) and `payload` (NULL: POST-as-GET),
 * signed by k with alg (caller frees). */
static char *make_jws(EVP_PKEY *k, const char *alg, const char *header, const char *payload)
{
        char *p = b64s(header, strlen(header));
        char *pl = payload ? b64s(payload, strlen(payload)) : strdup("");
        char *in = NULL;
        assert_true(asprintf(&in, "%s.%s", p, pl) > 0);
        unsigned char sig[1024];
        size_t sl = sign(k, alg, in, sig);
        char *ss = b64s(sig, sl);
        char *out = NULL;
        assert_true(asprintf(&out, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}",
                             p, pl, ss) > 0);
        free(p);
        free(pl);
        free(in);
        free(ss);
        return out;
}

static EVP_PKEY *gen(const char *alg)
{
        if (!strcmp(alg, "ES256"))
                return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        if (!strcmp(alg, "ES384"))
                return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        if (!strcmp(alg, "RS256"))
                return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

static enum qerr parse_str(const char *s, struct jws *j)
{
        struct qerr_info ei;
        return jws_parse((const uint8_t *)s, strlen(s), j, &ei);
}

/* ---- good requests ---- */

static void test_every_alg_verifies(void **state)
{
        (void)state;
        const char *algs[] = {"ES256", "ES384", "RS256", "EdDSA"};
        for (size_t i = 0; i < 4; i++) {
                EVP_PKEY *k = gen(algs[i]);
                char *jwk = jwk_of(k), *hdr = NULL;
                assert_true(asprintf(&hdr,
                                     "{\"alg\":\"%s\",\"jwk\":%s,\"nonce\":\"abc-_1\",\"url\":"
                                     "\"https://ca.test/acme/new-account\"}",
                                     algs[i], jwk) > 0);
                char *body = make_jws(k, algs[i], hdr, "{\"termsOfServiceAgreed\":true}");
                struct jws j;
                struct qerr_info ei;
                assert_int_equal(parse_str(body, &j), QERR_OK);
                assert_string_equal(j.url, "https://ca.test/acme/new-account");
                assert_string_equal(j.nonce, "abc-_1");
                assert_null(j.kid);
                assert_non_null(j.jwk);
                assert_false(j.post_as_get);
                assert_string_equal((const char *)j.payload, "{\"termsOfServiceAgreed\":true}");
                struct jws_key *key = NULL;
                assert_int_equal(jws_key_from_jwk(j.jwk, &key, &ei), QERR_OK);
                assert_int_equal(jws_verify(&j, key, &ei), QERR_OK);
                /* a changed signature byte */
                j.sig[j.sig_len / 2] ^= 1;
                assert_int_equal(jws_verify(&j, key, &ei), QERR_JWS_SIGNATURE);
                j.sig[j.sig_len / 2] ^= 1;
                /* a changed payload byte */
                j.signing_input[j.signing_len - 2] ^= 1;
                assert_int_equal(jws_verify(&j, key, &ei), QERR_JWS_SIGNATURE);
                /* the canonical form reads back as the same key, same thumbprint */
                struct qbuf c;
                qbuf_init(&c, 8192);
                assert_int_equal(jws_key_canonical(key, &c, &ei), QERR_OK);
                struct jws_key *k2 = NULL;
                assert_int_equal(jws_key_from_text((const char *)c.data, c.len, &k2, &ei), QERR_OK);
                assert_true(jws_key_equal(key, k2));
                char t1[JWS_THUMBPRINT_LEN + 1], t2[JWS_THUMBPRINT_LEN + 1];
                assert_int_equal(jws_key_thumbprint(key, t1, &ei), QERR_OK);
                assert_int_equal(jws_key_thumbprint(k2, t2, &ei), QERR_OK);
                assert_string_equal(t1, t2);
                char spki[65];
                assert_int_equal(jws_key_spki_sha256(key, spki, &ei), QERR_OK);
                assert_int_equal(strlen(spki), 64);
                qbuf_free(&c);
                jws_key_free(k2);
                jws_key_free(key);
                jws_clear(&j);
                free(body);
                free(hdr);
                free(jwk);
                EVP_PKEY_free(k);
        }
}

static void test_kid_post_as_get(void **state)
{
        (void)state;
        EVP_PKEY *k = gen("ES256");
        char *jwk = jwk_of(k);
        const char *hdr = "{\"alg\":\"ES256\",\"kid\":\"https://ca.test/acme/acct/7\",\"nonce\":"
                          "\"n\",\"url\":\"https://ca.test/acme/order/1\"}";
        char *body = make_jws(k, "ES256", hdr, NULL);
        struct jws j;
        struct qerr_info ei;
        assert_int_equal(parse_str(body, &j), QERR_OK);
        assert_true(j.post_as_get);
        assert_int_equal(j.payload_len, 0);
        assert_string_equal(j.kid, "https://ca.test/acme/acct/7");
        assert_null(j.jwk);
        struct jws_key *key = NULL;
        assert_int_equal(jws_key_from_text(jwk, strlen(jwk), &key, &ei), QERR_OK);
        assert_int_equal(jws_verify(&j, key, &ei), QERR_OK);
        /* another key of the same type does not verify it */
        EVP_PKEY *other = gen("ES256");
        char *ojwk = jwk_of(other);
        struct jws_key *okey = NULL;
        assert_int_equal(jws_key_from_text(ojwk, strlen(ojwk), &okey, &ei), QERR_OK);
        assert_int_equal(jws_verify(&j, okey, &ei), QERR_JWS_SIGNATURE);
        assert_false(jws_key_equal(key, okey));
        /* an algorithm that does not fit the key type */
        EVP_PKEY *p384 = gen("ES384");
        char *pjwk = jwk_of(p384);
        struct jws_key *pkey = NULL;
        assert_int_equal(jws_key_from_text(pjwk, strlen(pjwk), &pkey, &ei), QERR_OK);
        assert_int_equal(jws_verify(&j, pkey, &ei), QERR_JWS_ALGORITHM);
        jws_key_free(pkey);
        jws_key_free(okey);
        jws_key_free(key);
        jws_clear(&j);
        free(pjwk);
        free(ojwk);
        free(body);
        free(jwk);
        EVP_PKEY_free(p384);
        EVP_PKEY_free(other);
        EVP_PKEY_free(k);
}

/* ---- refused requests ---- */

static char *unsigned_jws(const char *header, const char *payload, const char *sig)
{
        char *p = b64s(header, strlen(header));
        char *pl = b64s(payload, strlen(payload));
        char *out = NULL;
        assert_true(asprintf(&out, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}",
                             p, pl, sig) > 0);
        free(p);
        free(pl);
        return out;
}

static void test_refused_headers(void **state)
{
        (void)state;
        const struct {
                const char *hdr;
                enum qerr want;
        } cases[] = {
            {"{\"alg\":\"none\",\"kid\":\"k\",\"url\":\"u\",\"nonce\":\"n\"}", QERR_JWS_ALGORITHM},
            {"{\"alg\":\"HS256\",\"kid\":\"k\",\"url\":\"u\",\"nonce\":\"n\"}", QERR_JWS_ALGORITHM},
            {"{\"alg\":\"HS512\",\"kid\":\"k\",\"url\":\"u\",\"nonce\":\"n\"}", QERR_JWS_ALGORITHM},
            {"{\"alg\":\"ES512\",\"kid\":\"k\",\"url\":\"u\",\"nonce\":\"n\"}", QERR_JWS_ALGORITHM},
            {"{\"alg\":\"es256\",\"kid\":\"k\",\"url\":\"u\",\"nonce\":\"n\"}", QERR_JWS_ALGORITHM},
            {"{\"alg\":\"ES256\",\"kid\":\"k\",\"jwk\":{\"kty\":\"EC\"},\"url\":\"u\"}",
             QERR_JWS_INVALID},
            {"{\"alg\":\"ES256\",\"url\":\"u\",\"nonce\":\"n\"}", QERR_JWS_INVALID},
            {"{\"alg\":\"ES256\",\"kid\":\"k\",\"nonce\":\"n\"}", QERR_JWS_INVALID},
            {"{\"alg\":\"ES256\",\"kid\":\"k\",\"url\":\"u\",\"crit\":[\"b64\"]}",
             QERR_JWS_INVALID},
            {"{\"alg\":\"ES256\",\"kid\":\"k\",\"url\":\"u\",\"b64\":false}", QERR_JWS_INVALID},
            {"{\"alg\":\"ES256\",\"kid\":\"k\",\"url\":\"u\",\"url\":\"v\"}", QERR_JWS_INVALID},
            {"{\"alg\":\"ES256\",\"kid\":\"k\",\"url\":\"u\",\"nonce\":\"a b\"}", QERR_JWS_INVALID},
            {"{\"alg\":\"ES256\",\"kid\":\"k\",\"url\":\"u\\n\"}", QERR_JWS_INVALID},
            {"{\"alg\":\"ES256\",\"kid\":7,\"url\":\"u\"}", QERR_JWS_INVALID},
            {"{\"alg\":\"ES256\",\"jwk\":\"x\",\"url\":\"u\"}", QERR_JWS_INVALID},
            {"[\"alg\"]", QERR_JWS_INVALID},
            {"not json", QERR_JWS_INVALID},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *body = unsigned_jws(cases[i].hdr, "{}", "AAAA");
                struct jws j;
                enum qerr rc = parse_str(body, &j);
                if (rc != cases[i].want)
                        fail_msg("case %zu (%s): %s, not %s", i, cases[i].hdr, qerr_code(rc),
                                 qerr_code(cases[i].want));
                assert_null(j.header);
                free(body);
        }
}

static void test_refused_bodies(void **state)
{
        (void)state;
        char *hp = b64str("{\"alg\":\"ES256\",\"kid\":\"k\",\"url\":\"u\"}");
        char body[512];
        struct jws j;
        /* each form: what follows the protected header */
        const char *forms[] = {
            "\"payload\":\"\",\"signature\":\"AAAA\",\"header\":{}}",
            "\"payload\":\"\",\"payload\":\"\",\"signature\":\"AAAA\"}",
            "\"payload\":\"e30=\",\"signature\":\"AAAA\"}",
            "\"payload\":\"e30\",\"signature\":\"\"}",
            "\"payload\":\"e3+0\",\"signature\":\"AAAA\"}",
            "\"payload\":1,\"signature\":\"AAAA\"}",
            "\"signature\":\"AAAA\"}",
            "\"payload\":\"\",\"signature\":\"AAAA\"} x",
            "\"signatures\":[]}",
        };
        for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
                snprintf(body, sizeof body, "{\"protected\":\"%s\",%s", hp, forms[i]);
                enum qerr rc = parse_str(body, &j);
                if (rc != QERR_JWS_INVALID)
                        fail_msg("form %zu: %s", i, qerr_code(rc));
        }
        assert_int_equal(parse_str("", &j), QERR_JWS_INVALID);
        /* over the cap */
        size_t big = MAX_JWS_BYTES + 1;
        uint8_t *b = malloc(big);
        memset(b, ' ', big);
        struct qerr_info ei;
        assert_int_equal(jws_parse(b, big, &j, &ei), QERR_BODY_TOO_LARGE);
        free(b);
        free(hp);
}

static void test_refused_keys(void **state)
{
        (void)state;
        struct jws_key *k = NULL;
        struct qerr_info ei;
        const struct {
                const char *jwk;
                enum qerr want;
        } cases[] = {
            {"{\"kty\":\"oct\",\"k\":\"AAAA\"}", QERR_ACME_PUBLIC_KEY},
            {"{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"}", QERR_ACME_PUBLIC_KEY},
            {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}", QERR_JWS_INVALID},
            /* a point off the curve: (1, 1) */
            {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
             "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\","
             "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}",
             QERR_ACME_PUBLIC_KEY},
            {"{\"kty\":\"RSA\",\"n\":\"3Q\",\"e\":\"AQAB\"}", QERR_ACME_PUBLIC_KEY},
            {"{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"}", QERR_ACME_PUBLIC_KEY},
            {"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}", QERR_JWS_INVALID},
            {"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\",\"d\":\"AAAA\"}",
             QERR_ACME_PUBLIC_KEY},
            {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\",\"z\":1}",
             QERR_JWS_INVALID},
            {"{\"crv\":\"P-256\"}", QERR_JWS_INVALID},
            {"[]", QERR_JWS_INVALID},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                enum qerr rc = jws_key_from_text(cases[i].jwk, strlen(cases[i].jwk), &k, &ei);
                if (rc != cases[i].want)
                        fail_msg("case %zu: %s, not %s", i, qerr_code(rc),
                                 qerr_code(cases[i].want));
                assert_null(k);
        }
        /* RSA 1024 */
        EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
        char *jwk = jwk_of(small);
        assert_int_equal(jws_key_from_text(jwk, strlen(jwk), &k, &ei), QERR_ACME_PUBLIC_KEY);
        free(jwk);
        EVP_PKEY_free(small);
}

/* RFC 7638 section 3.1 */
static void test_thumbprint_vector(void **state)
{
        (void)state;
        const char *jwk =
            "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAA"
            "tVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl9"
            "3lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
            "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajr"
            "n1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-"
            "csFCur-kEgU8awapJzKnqDKgw\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";
        struct jws_key *k = NULL;
        struct qerr_info ei;
        assert_int_equal(jws_key_from_text(jwk, strlen(jwk), &k, &ei), QERR_OK);
        char tp[JWS_THUMBPRINT_LEN + 1];
        assert_int_equal(jws_key_thumbprint(k, tp, &ei), QERR_OK);
        assert_string_equal(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        jws_key_free(k);
}

static void test_eab(void **state)
{
        (void)state;
        const uint8_t key[32] = {7, 7, 7};
        char *p = b64str("{\"alg\":\"HS256\",\"kid\":\"kid1\",\"url\":\"u\"}");
        char *pl = b64str("{\"kty\":\"x\"}");
        char in[256];
        snprintf(in, sizeof in, "%s.%s", p, pl);
        unsigned char mac[32];
        unsigned int ml = 0;
        HMAC(EVP_sha256(), key, 32, (unsigned char *)in, strlen(in), mac, &ml);
        char *ms = b64s(mac, 32);
        char text[512];
        snprintf(text, sizeof text,
                 "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}", p, pl, ms);
        json_t *obj = json_loads(text, 0, NULL);
        struct jws j;
        struct qerr_info ei;
        assert_int_equal(jws_parse_eab(obj, &j, &ei), QERR_OK);
        assert_string_equal(j.kid, "kid1");
        assert_int_equal(jws_verify_hmac(&j, key, 32, &ei), QERR_OK);
        const uint8_t wrong[32] = {7, 7, 8};
        assert_int_equal(jws_verify_hmac(&j, wrong, 32, &ei), QERR_ACME_EAB_INVALID);
        jws_clear(&j);
        json_decref(obj);
        /* an EAB with an asymmetric alg, or with a nonce, is refused */
        char *p2 = b64str("{\"alg\":\"ES256\",\"kid\":\"kid1\",\"url\":\"u\"}");
        snprintf(text, sizeof text,
                 "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}", p2, pl, ms);
        obj = json_loads(text, 0, NULL);
        assert_int_equal(jws_parse_eab(obj, &j, &ei), QERR_JWS_ALGORITHM);
        json_decref(obj);
        free(p2);
        p2 = b64str("{\"alg\":\"HS256\",\"kid\":\"k\",\"url\":\"u\",\"nonce\":\"n\"}");
        snprintf(text, sizeof text,
                 "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}", p2, pl, ms);
        obj = json_loads(text, 0, NULL);
        assert_int_equal(jws_parse_eab(obj, &j, &ei), QERR_JWS_INVALID);
        json_decref(obj);
        free(p2);
        free(p);
        free(pl);
        free(ms);
}

static void test_dns01_value(void **state)
{
        (void)state;
        /* RFC 8555 8.4: base64url(SHA-256(key authorization)); SHA-256("abc") */
        char out[JWS_THUMBPRINT_LEN + 1];
        struct qerr_info ei;
        assert_int_equal(jws_sha256_b64url("abc", 3, out, &ei), QERR_OK);
        assert_string_equal(out, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_every_alg_verifies),
            cmocka_unit_test(test_kid_post_as_get),
            cmocka_unit_test(test_refused_headers),
            cmocka_unit_test(test_refused_bodies),
            cmocka_unit_test(test_refused_keys),
            cmocka_unit_test(test_thumbprint_vector),
            cmocka_unit_test(test_eab),
            cmocka_unit_test(test_dns01_value),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
