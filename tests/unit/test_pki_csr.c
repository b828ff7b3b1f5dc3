/*
 * test_pki_csr.c - reading PKCS#10 requests from outside (pki_csr_parse)
 * and building them (pki_csr_build): good requests in PEM and DER for every
 * key type, the names collected (SANs, then the CN when it is not among
 * them; IP SANs as text; duplicates once), the signature check (another
 * key, a changed byte anywhere, the SM2 identifier), weak and unsupported
 * keys, and garbage, empty, oversized and truncated input. A refused
 * request leaves the csr_info empty.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki_csr.h"
#include "pki/pki_key.h"
#include "pki/pki_pem.h"

/* ---- making requests ---- */

static EVP_PKEY *keygen(const char *alg)
{
        enum key_alg a;
        EVP_PKEY *k = NULL;
        struct qerr_info ei;
        if (key_alg_from_name(alg, &a)) {
                assert_int_equal(pki_key_generate(a, &k, &ei), QERR_OK);
        } else if (!strcmp(alg, "rsa1024")) {
                k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
        } else if (!strcmp(alg, "p521")) {
                k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
        } else if (!strcmp(alg, "ed25519")) {
                k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        } else if (!strcmp(alg, "rsa2048e3")) {
                EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
                BIGNUM *e = BN_new();
                assert_true(c && e && BN_set_word(e, 3));
                assert_int_equal(EVP_PKEY_keygen_init(c), 1);
                assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(c, 2048), 1);
                assert_int_equal(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(c, e), 1);
                assert_int_equal(EVP_PKEY_keygen(c, &k), 1);
                BN_free(e);
                EVP_PKEY_CTX_free(c);
        }
        assert_non_null(k);
        return k;
}

enum san_kind { SAN_END = 0, SAN_DNS, SAN_IP, SAN_DNS_RAW };

struct san {
        enum san_kind kind;
        const char *value; /* SAN_DNS_RAW: raw bytes of length len */
        int len;
};

/* A request for `key` with subject CN `cn` (NULL: none) and the SANs (none
 * when sans is NULL), signed by `signer` (NULL: key itself). SM2: sm2_id
 * names the distinguishing ID ("" for OpenSSL's empty default). */
static X509_REQ *make_req(EVP_PKEY *key, const char *cn, const struct san *sans, EVP_PKEY *signer,
                          const char *sm2_id)
{
        X509_REQ *req = X509_REQ_new();
        assert_non_null(req);
        assert_int_equal(X509_REQ_set_version(req, X509_REQ_VERSION_1), 1);
        X509_NAME *subj = X509_NAME_new();
        if (cn)
                assert_int_equal(X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_UTF8,
                                                            (const unsigned char *)cn, -1, -1, 0),
                                 1);
        assert_int_equal(X509_REQ_set_subject_name(req, subj), 1);
        X509_NAME_free(subj);
        assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
        if (sans) {
                GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
                for (const struct san *s = sans; s->kind != SAN_END; s++) {
                        GENERAL_NAME *g = NULL;
                        if (s->kind == SAN_IP) {
                                g = GENERAL_NAME_new();
                                ASN1_OCTET_STRING *ip = a2i_IPADDRESS(s->value);
                                assert_non_null(g);
                                assert_non_null(ip);
                                GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
                        } else {
                                g = GENERAL_NAME_new();
                                ASN1_IA5STRING *d = ASN1_IA5STRING_new();
                                int len = s->kind == SAN_DNS_RAW ? s->len : (int)strlen(s->value);
                                assert_int_equal(ASN1_STRING_set(d, s->value, len), 1);
                                GENERAL_NAME_set0_value(g, GEN_DNS, d);
                        }
                        sk_GENERAL_NAME_push(gens, g);
                }
                STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
                assert_int_equal(
                    X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT), 1);
                assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
                sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
                GENERAL_NAMES_free(gens);
        }
        EVP_PKEY *sk = signer ? signer : key;
        if (EVP_PKEY_is_a(sk, "ED25519")) {
                assert_true(X509_REQ_sign(req, sk, NULL) > 0);
                return req;
        }
        EVP_MD_CTX *ctx;
        if (sm2_id) {
                ctx = EVP_MD_CTX_new();
                EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(sk, NULL);
                if (*sm2_id)
                        assert_true(EVP_PKEY_CTX_set1_id(pctx, sm2_id, strlen(sm2_id)) > 0);
                EVP_MD_CTX_set_pkey_ctx(ctx, pctx);
                assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sm3(), NULL, sk), 1);
                assert_true(X509_REQ_sign_ctx(req, ctx) > 0);
                EVP_MD_CTX_free(ctx);
                EVP_PKEY_CTX_free(pctx);
                return req;
        }
        ctx = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, sk), 1);
        assert_true(X509_REQ_sign_ctx(req, ctx) > 0);
        EVP_MD_CTX_free(ctx);
        return req;
}

static void der_of(X509_REQ *req, struct qbuf *out)
{
        unsigned char *der = NULL;
        int len = i2d_X509_REQ(req, &der);
        assert_true(len > 0);
        qbuf_init(out, 1 << 20);
        assert_true(qbuf_append(out, der, (size_t)len));
        OPENSSL_free(der);
}

static void pem_of(X509_REQ *req, struct qbuf *out)
{
        struct qerr_info ei;
        qbuf_init(out, 1 << 20);
        assert_int_equal(pki_csr_pem(req, out, &ei), QERR_OK);
}

static void assert_cleared(const struct csr_info *c)
{
        assert_null(c->req);
        assert_null(c->key);
        assert_null(c->names);
        assert_int_equal(c->nnames, 0);
}

static enum qerr parse(const void *p, size_t len, struct csr_info *c)
{
        struct qerr_info ei;
        enum qerr rc = pki_csr_parse(p, len, c, &ei);
        if (rc != QERR_OK) {
                assert_cleared(c);
                assert_true(strlen(qerr_message(&ei)) > 0);
        }
        return rc;
}

static void assert_names(const struct csr_info *c, const char *const *want)
{
        size_t n = 0;
        while (want[n])
                n++;
        if (c->nnames != n) {
                for (size_t i = 0; i < c->nnames; i++)
                        print_message("got name %s\n", c->names[i]);
                fail_msg("%zu names, expected %zu", c->nnames, n);
        }
        for (size_t i = 0; i < n; i++)
                assert_string_equal(c->names[i], want[i]);
}

/* ---- built by pki_csr_build, every key type, PEM and DER ---- */

static void test_build_and_parse_every_key_type(void **state)
{
        (void)state;
        static const char *const algs[] = {"ec256", "ec384", "rsa2048", "sm2"};
        static const char *const names[] = {"www.example.com", "example.com", "192.0.2.7", NULL};
        for (size_t a = 0; a < sizeof algs / sizeof algs[0]; a++) {
                EVP_PKEY *k = keygen(algs[a]);
                struct qbuf pem;
                struct qerr_info ei;
                qbuf_init(&pem, 1 << 20);
                assert_int_equal(pki_csr_build(k, names, 3, &pem, &ei), QERR_OK);
                assert_non_null(strstr(qbuf_str(&pem), "-----BEGIN CERTIFICATE REQUEST-----"));
                struct csr_info c;
                assert_int_equal(parse(pem.data, pem.len, &c), QERR_OK);
                assert_string_equal(c.key_algorithm, algs[a]);
                assert_names(&c, names); /* CN = first name: not repeated */
                assert_true(pki_key_matches(k, c.key));
                /* the same request in DER */
                struct qbuf der;
                der_of(c.req, &der);
                struct csr_info d;
                assert_int_equal(parse(der.data, der.len, &d), QERR_OK);
                assert_string_equal(d.key_algorithm, algs[a]);
                assert_names(&d, names);
                csr_info_clear(&d);
                csr_info_clear(&c);
                assert_cleared(&c);
                qbuf_free(&der);
                qbuf_free(&pem);
                EVP_PKEY_free(k);
        }
}

static void test_build_refuses_no_names(void **state)
{
        (void)state;
        EVP_PKEY *k = keygen("ec256");
        struct qbuf pem;
        struct qerr_info ei;
        qbuf_init(&pem, 1 << 20);
        static const char *const none[] = {NULL};
        assert_int_equal(pki_csr_build(k, none, 0, &pem, &ei), QERR_INTERNAL);
        assert_int_equal(pem.len, 0);
        qbuf_free(&pem);
        EVP_PKEY_free(k);
}

/* ---- names ---- */

struct names_case {
        const char *label;
        const char *cn;
        struct san sans[5];
        bool no_san_ext;
        enum qerr want;
        const char *names[6];
};

static const struct names_case names_cases[] = {
    {"SANs only",
     NULL,
     {{SAN_DNS, "a.example.com", 0}, {SAN_DNS, "b.example.com", 0}},
     false,
     QERR_OK,
     {"a.example.com", "b.example.com"}},
    {"CN among the SANs",
     "b.example.com",
     {{SAN_DNS, "a.example.com", 0}, {SAN_DNS, "b.example.com", 0}},
     false,
     QERR_OK,
     {"a.example.com", "b.example.com"}},
    {"CN among the SANs in another case",
     "B.Example.COM",
     {{SAN_DNS, "b.example.com", 0}},
     false,
     QERR_OK,
     {"b.example.com"}},
    {"CN not among the SANs comes last",
     "other.example.com",
     {{SAN_DNS, "a.example.com", 0}},
     false,
     QERR_OK,
     {"a.example.com", "other.example.com"}},
    {"CN only", "cn.example.com", {{SAN_END, NULL, 0}}, true, QERR_OK, {"cn.example.com"}},
    {"duplicate SANs once",
     NULL,
     {{SAN_DNS, "a.example.com", 0}, {SAN_DNS, "A.example.com", 0}, {SAN_DNS, "a.example.com", 0}},
     false,
     QERR_OK,
     {"a.example.com"}},
    {"IP SANs as text",
     NULL,
     {{SAN_IP, "192.0.2.1", 0}, {SAN_IP, "2001:db8::1", 0}, {SAN_DNS, "a.example.com", 0}},
     false,
     QERR_OK,
     {"192.0.2.1", "2001:db8::1", "a.example.com"}},
    {"wildcard kept as written",
     NULL,
     {{SAN_DNS, "*.example.com", 0}},
     false,
     QERR_OK,
     {"*.example.com"}},
    {"an empty dNSName is ignored",
     NULL,
     {{SAN_DNS_RAW, "", 0}, {SAN_DNS, "a.example.com", 0}},
     false,
     QERR_OK,
     {"a.example.com"}},
    {"a dNSName with a NUL inside is ignored",
     NULL,
     {{SAN_DNS_RAW, "evil.com\0.example.com", 21}, {SAN_DNS, "a.example.com", 0}},
     false,
     QERR_OK,
     {"a.example.com"}},
    {"no SAN and no CN", NULL, {{SAN_END, NULL, 0}}, true, QERR_NAME_INVALID, {NULL}},
    {"an empty SAN list and no CN", NULL, {{SAN_END, NULL, 0}}, false, QERR_NAME_INVALID, {NULL}},
    {"only ignored SANs and no CN",
     NULL,
     {{SAN_DNS_RAW, "", 0}, {SAN_DNS_RAW, "x\0y", 3}},
     false,
     QERR_NAME_INVALID,
     {NULL}},
};

static void test_names_row(void **state)
{
        const struct names_case *t = *state;
        EVP_PKEY *k = keygen("ec256");
        X509_REQ *req = make_req(k, t->cn, t->no_san_ext ? NULL : t->sans, NULL, NULL);
        struct qbuf pem;
        pem_of(req, &pem);
        struct csr_info c;
        enum qerr rc = parse(pem.data, pem.len, &c);
        if (rc != t->want)
                fail_msg("%s: %s, expected %s", t->label, qerr_code(rc), qerr_code(t->want));
        if (rc == QERR_OK) {
                assert_names(&c, t->names);
                assert_string_equal(c.key_algorithm, "ec256");
        }
        csr_info_clear(&c);
        qbuf_free(&pem);
        X509_REQ_free(req);
        EVP_PKEY_free(k);
}

/* ---- keys and signatures ---- */

struct key_case {
        const char *label;
        const char *key;
        const char *signer; /* NULL: the key itself */
        const char *sm2_id; /* SM2 keys: the ID signed with */
        enum qerr want;
        const char *alg;
};

static const struct key_case key_cases[] = {
    {"ec256", "ec256", NULL, NULL, QERR_OK, "ec256"},
    {"rsa2048", "rsa2048", NULL, NULL, QERR_OK, "rsa2048"},
    {"sm2 with the GM/T default ID", "sm2", NULL, PKI_SM2_ID, QERR_OK, "sm2"},
    {"sm2 with OpenSSL's empty ID", "sm2", NULL, "", QERR_OK, "sm2"},
    {"sm2 with another ID", "sm2", NULL, "someone-else", QERR_CSR_SIGNATURE, NULL},
    {"signed by another key", "ec256", "ec256", NULL, QERR_CSR_SIGNATURE, NULL},
    {"signed by a key of another type", "ec256", "rsa2048", NULL, QERR_CSR_SIGNATURE, NULL},
    {"RSA 1024 is weak", "rsa1024", NULL, NULL, QERR_KEY_WEAK, NULL},
    {"RSA exponent 3 is weak", "rsa2048e3", NULL, NULL, QERR_KEY_WEAK, NULL},
    {"P-521 is not accepted", "p521", NULL, NULL, QERR_KEY_UNSUPPORTED, NULL},
    {"Ed25519 is not accepted", "ed25519", NULL, NULL, QERR_KEY_UNSUPPORTED, NULL},
};

static void test_key_row(void **state)
{
        const struct key_case *t = *state;
        EVP_PKEY *k = keygen(t->key);
        EVP_PKEY *other = t->signer ? keygen(t->signer) : NULL;
        static const struct san sans[] = {{SAN_DNS, "k.example.com", 0}, {SAN_END, NULL, 0}};
        X509_REQ *req = make_req(k, "k.example.com", sans, other, t->sm2_id);
        struct qbuf der;
        der_of(req, &der);
        struct csr_info c;
        enum qerr rc = parse(der.data, der.len, &c);
        if (rc != t->want)
                fail_msg("%s: %s, expected %s", t->label, qerr_code(rc), qerr_code(t->want));
        if (rc == QERR_OK)
                assert_string_equal(c.key_algorithm, t->alg);
        csr_info_clear(&c);
        qbuf_free(&der);
        X509_REQ_free(req);
        EVP_PKEY_free(other);
        EVP_PKEY_free(k);
}

/* Every single-bit change of every byte of a good DER request is refused
 * (the signature covers the request as received; the rest does not parse,
 * or names another algorithm, or breaks the key). */
static void test_every_changed_bit_is_refused(void **state)
{
        (void)state;
        static const char *const algs[] = {"ec256", "sm2"};
        for (size_t a = 0; a < sizeof algs / sizeof algs[0]; a++) {
                EVP_PKEY *k = keygen(algs[a]);
                static const struct san sans[] = {{SAN_DNS, "bits.example.com", 0},
                                                  {SAN_END, NULL, 0}};
                X509_REQ *req = make_req(k, "bits.example.com", sans, NULL,
                                         strcmp(algs[a], "sm2") ? NULL : PKI_SM2_ID);
                struct qbuf der;
                der_of(req, &der);
                struct csr_info c;
                assert_int_equal(parse(der.data, der.len, &c), QERR_OK);
                csr_info_clear(&c);
                uint8_t *copy = malloc(der.len);
                assert_non_null(copy);
                for (size_t i = 0; i < der.len; i++)
                        for (int bit = 0; bit < 8; bit++) {
                                memcpy(copy, der.data, der.len);
                                copy[i] ^= (uint8_t)(1u << bit);
                                enum qerr rc = parse(copy, der.len, &c);
                                if (rc == QERR_OK)
                                        fail_msg("%s: bit %d of byte %zu changed, still accepted",
                                                 algs[a], bit, i);
                        }
                free(copy);
                qbuf_free(&der);
                X509_REQ_free(req);
                EVP_PKEY_free(k);
        }
}

/* ---- bad input ---- */

static void test_truncated_der_and_pem(void **state)
{
        (void)state;
        EVP_PKEY *k = keygen("ec256");
        static const struct san sans[] = {{SAN_DNS, "cut.example.com", 0}, {SAN_END, NULL, 0}};
        X509_REQ *req = make_req(k, "cut.example.com", sans, NULL, NULL);
        struct qbuf der, pem;
        der_of(req, &der);
        pem_of(req, &pem);
        struct csr_info c;
        for (size_t len = 0; len < der.len; len++)
                if (parse(der.data, len, &c) == QERR_OK)
                        fail_msg("DER cut to %zu of %zu bytes accepted", len, der.len);
        /* PEM: cut anywhere before the end line is complete */
        const char *end = strstr(qbuf_str(&pem), "-----END");
        assert_non_null(end);
        size_t full = (size_t)(end - (const char *)pem.data) + strlen("-----END");
        for (size_t len = 0; len < full; len++)
                if (parse(pem.data, len, &c) == QERR_OK)
                        fail_msg("PEM cut to %zu of %zu bytes accepted", len, pem.len);
        /* a byte after the DER is refused; text around a PEM block is not
         * part of it */
        uint8_t *longer = malloc(der.len + 1);
        memcpy(longer, der.data, der.len);
        longer[der.len] = 0;
        assert_int_equal(parse(longer, der.len + 1, &c), QERR_CSR_INVALID);
        free(longer);
        struct qbuf wrapped;
        qbuf_init(&wrapped, 1 << 20);
        assert_true(qbuf_append_str(&wrapped, "Here is my request:\n"));
        assert_true(qbuf_append(&wrapped, pem.data, pem.len));
        assert_true(qbuf_append_str(&wrapped, "thanks\n"));
        assert_int_equal(parse(wrapped.data, wrapped.len, &c), QERR_OK);
        assert_names(&c, (const char *const[]){"cut.example.com", NULL});
        csr_info_clear(&c);
        qbuf_free(&wrapped);
        qbuf_free(&der);
        qbuf_free(&pem);
        X509_REQ_free(req);
        EVP_PKEY_free(k);
}

static void test_garbage(void **state)
{
        (void)state;
        struct csr_info c;
        static const char *const texts[] = {
            "",
            "hello",
            "-----BEGIN",
            "-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n",
            "-----BEGIN CERTIFICATE REQUEST-----\nnot base64 at all!\n"
            "-----END CERTIFICATE REQUEST-----\n",
            "-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n",
            "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
        };
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
                assert_int_equal(parse(texts[i], strlen(texts[i]), &c), QERR_CSR_INVALID);
        static const uint8_t ders[][6] = {{0x30, 0x00},
                                          {0x30, 0x80, 0, 0},
                                          {0x02, 0x01, 0x00},
                                          {0x30, 0x84, 0xff, 0xff, 0xff, 0xff}};
        static const size_t derlen[] = {2, 4, 3, 6};
        for (size_t i = 0; i < sizeof ders / sizeof ders[0]; i++)
                assert_int_equal(parse(ders[i], derlen[i], &c), QERR_CSR_INVALID);
        /* random bytes */
        uint8_t noise[512];
        uint32_t x = 12345;
        for (int round = 0; round < 50; round++) {
                for (size_t i = 0; i < sizeof noise; i++) {
                        x = x * 1103515245u + 12345u;
                        noise[i] = (uint8_t)(x >> 16);
                }
                noise[0] = 0x30; /* looks like a SEQUENCE */
                assert_int_equal(parse(noise, sizeof noise, &c), QERR_CSR_INVALID);
        }
}

static void test_size_limit(void **state)
{
        (void)state;
        struct csr_info c;
        /* a good request followed by padding past the limit is refused for
         * its size before anything is parsed */
        EVP_PKEY *k = keygen("ec256");
        static const struct san sans[] = {{SAN_DNS, "big.example.com", 0}, {SAN_END, NULL, 0}};
        X509_REQ *req = make_req(k, NULL, sans, NULL, NULL);
        struct qbuf pem;
        pem_of(req, &pem);
        size_t big = MAX_CSR_BYTES + 1;
        char *p = malloc(big);
        assert_non_null(p);
        memset(p, '\n', big);
        memcpy(p, pem.data, pem.len);
        struct qerr_info ei;
        assert_int_equal(pki_csr_parse(p, big, &c, &ei), QERR_CSR_INVALID);
        assert_cleared(&c);
        assert_non_null(strstr(qerr_message(&ei), "65536"));
        /* at the limit it is read */
        assert_int_equal(parse(p, MAX_CSR_BYTES, &c), QERR_OK);
        csr_info_clear(&c);
        free(p);
        qbuf_free(&pem);
        X509_REQ_free(req);
        EVP_PKEY_free(k);
}

/* ---- runner ---- */

#define ROWS(cases, fn)                                                                            \
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {                              \
                tests[n].name = cases[i].label;                                                    \
                tests[n].test_func = fn;                                                           \
                tests[n].initial_state = (void *)&cases[i];                                        \
                n++;                                                                               \
        }

int main(void)
{
        const struct CMUnitTest singles[] = {
            cmocka_unit_test(test_build_and_parse_every_key_type),
            cmocka_unit_test(test_build_refuses_no_names),
            cmocka_unit_test(test_every_changed_bit_is_refused),
            cmocka_unit_test(test_truncated_der_and_pem),
            cmocka_unit_test(test_garbage),
            cmocka_unit_test(test_size_limit),
        };
        const size_t nsingles = sizeof singles / sizeof singles[0];
        size_t total = nsingles + sizeof names_cases / sizeof names_cases[0] +
                       sizeof key_cases / sizeof key_cases[0];
        struct CMUnitTest *tests = calloc(total, sizeof *tests);
        if (!tests)
                return 1;
        size_t n = 0;
        ROWS(names_cases, test_names_row);
        ROWS(key_cases, test_key_row);
        for (size_t i = 0; i < nsingles; i++)
                tests[n++] = singles[i];
        int failed = _cmocka_run_group_tests("pki_csr", tests, n, NULL, NULL);
        free(tests);
        return failed;
}
