/*
 * test_ocsp.c - the OCSP responder's front pieces: the strict DER request
 * parser (requests made by OpenSSL, and a table of malformed ones), the
 * base64 of the GET form, the unsigned error responses, and the answer
 * cache (lookups, replacement while a reader holds an answer, stale
 * answers, sweeping, growth, and readers racing a writer).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/ocsp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ocsp/ocsp_cache.h"
#include "ocsp/ocsp_req.h"

/* ---- requests made by OpenSSL ---- */

static const uint8_t NAME_HASH[20] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                      11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
static const uint8_t KEY_HASH[20] = {21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
                                     31, 32, 33, 34, 35, 36, 37, 38, 39, 40};

/* A DER OCSPRequest with `n` CertIDs (hash `md`, serials 0x4142.. + i),
 * optionally with a nonce, into out (caller frees). */
static size_t make_request(const EVP_MD *md, int n, bool nonce, uint8_t **out)
{
        OCSP_REQUEST *req = OCSP_REQUEST_new();
        X509_NAME *name = X509_NAME_new();
        ASN1_BIT_STRING *key = ASN1_BIT_STRING_new();
        assert_non_null(req);
        assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                                    (const unsigned char *)"x", -1, -1, 0),
                         1);
        assert_int_equal(ASN1_BIT_STRING_set(key, (unsigned char *)"key", 3), 1);
        size_t hl = (size_t)EVP_MD_get_size(md);
        uint8_t nh[64] = {0}, kh[64] = {0};
        memcpy(nh, NAME_HASH, 20);
        memcpy(kh, KEY_HASH, 20);
        for (int i = 0; i < n; i++) {
                ASN1_INTEGER *sn = ASN1_INTEGER_new();
                ASN1_INTEGER_set(sn, 0x41424344L + i);
                OCSP_CERTID *id = OCSP_cert_id_new(md, name, key, sn);
                assert_non_null(id);
                ASN1_OCTET_STRING *pnh, *pkh;
                ASN1_OBJECT *alg;
                ASN1_INTEGER *psn;
                assert_int_equal(OCSP_id_get0_info(&pnh, &alg, &pkh, &psn, id), 1);
                /* our own hashes, so that the test can compare them */
                assert_int_equal(ASN1_OCTET_STRING_set(pnh, nh, (int)hl), 1);
                assert_int_equal(ASN1_OCTET_STRING_set(pkh, kh, (int)hl), 1);
                assert_non_null(OCSP_request_add0_id(req, id));
                ASN1_INTEGER_free(sn);
        }
        if (nonce)
                assert_int_equal(OCSP_request_add1_nonce(req, NULL, 16), 1);
        *out = NULL;
        int len = i2d_OCSP_REQUEST(req, out);
        assert_true(len > 0);
        OCSP_REQUEST_free(req);
        X509_NAME_free(name);
        ASN1_BIT_STRING_free(key);
        return (size_t)len;
}

static void test_parse_openssl_request(void **state)
{
        (void)state;
        uint8_t *der;
        size_t len = make_request(EVP_sha1(), 1, false, &der);
        struct ocsp_certid id;
        assert_int_equal(ocsp_req_parse(der, len, &id), OCSP_REQ_OK);
        assert_int_equal(id.hash, OCSP_HASH_SHA1);
        assert_int_equal(id.name_hash_len, 20);
        assert_memory_equal(id.name_hash, NAME_HASH, 20);
        assert_memory_equal(id.key_hash, KEY_HASH, 20);
        assert_int_equal(id.serial_len, 4);
        assert_memory_equal(id.serial, "\x41\x42\x43\x44", 4);
        assert_false(id.serial_negative);
        OPENSSL_free(der);

        /* a nonce (requestExtensions) is read past and ignored */
        len = make_request(EVP_sha1(), 1, true, &der);
        assert_int_equal(ocsp_req_parse(der, len, &id), OCSP_REQ_OK);
        assert_memory_equal(id.key_hash, KEY_HASH, 20);
        OPENSSL_free(der);

        /* SHA-256 CertIDs parse, and say so */
        len = make_request(EVP_sha256(), 1, false, &der);
        assert_int_equal(ocsp_req_parse(der, len, &id), OCSP_REQ_OK);
        assert_int_equal(id.hash, OCSP_HASH_OTHER);
        assert_int_equal(id.name_hash_len, 32);
        OPENSSL_free(der);

        /* two CertIDs: well formed, refused by the profile; the first is read */
        len = make_request(EVP_sha1(), 2, false, &der);
        assert_int_equal(ocsp_req_parse(der, len, &id), OCSP_REQ_MULTIPLE);
        assert_memory_equal(id.serial, "\x41\x42\x43\x44", 4);
        OPENSSL_free(der);
}

/* Every strict prefix of a request, and every request with a byte added,
 * is malformed. */
static void test_parse_truncated_and_trailing(void **state)
{
        (void)state;
        uint8_t *der;
        size_t len = make_request(EVP_sha1(), 1, true, &der);
        struct ocsp_certid id;
        for (size_t n = 0; n < len; n++)
                assert_int_equal(ocsp_req_parse(der, n, &id), OCSP_REQ_MALFORMED);
        uint8_t *more = malloc(len + 1);
        memcpy(more, der, len);
        more[len] = 0;
        assert_int_equal(ocsp_req_parse(more, len + 1, &id), OCSP_REQ_MALFORMED);
        free(more);
        assert_int_equal(ocsp_req_parse(NULL, 0, &id), OCSP_REQ_MALFORMED);
        OPENSSL_free(der);
}

/* A minimal request: 30 L1 30 L2 30 L3 30 L4 <certid> with the CertID
 * given, built by hand. */
static size_t wrap_certid(const uint8_t *certid, size_t n, uint8_t *out)
{
        /* Request { CertID } ; requestList ; TBSRequest ; OCSPRequest (short lengths) */
        size_t o = 0;
        uint8_t l4 = (uint8_t)n, l3 = (uint8_t)(l4 + 2), l2 = (uint8_t)(l3 + 2),
                l1 = (uint8_t)(l2 + 2);
        out[o++] = 0x30, out[o++] = l1;
        out[o++] = 0x30, out[o++] = l2;
        out[o++] = 0x30, out[o++] = l3;
        out[o++] = 0x30, out[o++] = l4;
        memcpy(out + o, certid, n);
        return o + n;
}

static size_t certid(uint8_t *out, const uint8_t *alg, size_t alen, const uint8_t *serial,
                     size_t slen)
{
        size_t o = 0;
        size_t inner = alen + 2 + 20 + 2 + 20 + 2 + slen;
        out[o++] = 0x30;
        out[o++] = (uint8_t)inner;
        memcpy(out + o, alg, alen);
        o += alen;
        out[o++] = 0x04, out[o++] = 20;
        memcpy(out + o, NAME_HASH, 20);
        o += 20;
        out[o++] = 0x04, out[o++] = 20;
        memcpy(out + o, KEY_HASH, 20);
        o += 20;
        out[o++] = 0x02, out[o++] = (uint8_t)slen;
        memcpy(out + o, serial, slen);
        return o + slen;
}

static const uint8_t ALG_SHA1[] = {0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
                                   0x03, 0x02, 0x1a, 0x05, 0x00};
static const uint8_t ALG_SHA1_NOPARAM[] = {0x30, 0x07, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a};
static const uint8_t ALG_BAD_PARAM[] = {0x30, 0x0a, 0x06, 0x05, 0x2b, 0x0e,
                                        0x03, 0x02, 0x1a, 0x05, 0x01, 0x00};

static void test_parse_table(void **state)
{
        (void)state;
        static const struct {
                const uint8_t *alg;
                size_t alen;
                uint8_t serial[4];
                size_t slen;
                enum ocsp_req_result want;
                bool negative;
        } rows[] = {
            {ALG_SHA1, sizeof ALG_SHA1, {0x01}, 1, OCSP_REQ_OK, false},
            {ALG_SHA1_NOPARAM, sizeof ALG_SHA1_NOPARAM, {0x7f, 0xff}, 2, OCSP_REQ_OK, false},
            {ALG_SHA1, sizeof ALG_SHA1, {0x00, 0x80}, 2, OCSP_REQ_OK, false},
            {ALG_SHA1, sizeof ALG_SHA1, {0x80}, 1, OCSP_REQ_OK, true},
            /* non-minimal INTEGERs */
            {ALG_SHA1, sizeof ALG_SHA1, {0x00, 0x01}, 2, OCSP_REQ_MALFORMED, false},
            {ALG_SHA1, sizeof ALG_SHA1, {0xff, 0x80}, 2, OCSP_REQ_MALFORMED, false},
            /* an empty INTEGER */
            {ALG_SHA1, sizeof ALG_SHA1, {0}, 0, OCSP_REQ_MALFORMED, false},
            /* NULL parameters with content */
            {ALG_BAD_PARAM, sizeof ALG_BAD_PARAM, {0x01}, 1, OCSP_REQ_MALFORMED, false},
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                uint8_t cid[128], req[160];
                size_t cl = certid(cid, rows[i].alg, rows[i].alen, rows[i].serial, rows[i].slen);
                size_t rl = wrap_certid(cid, cl, req);
                struct ocsp_certid id;
                enum ocsp_req_result got = ocsp_req_parse(req, rl, &id);
                if (got != rows[i].want)
                        fail_msg("row %zu: got %d, want %d", i, got, rows[i].want);
                if (got == OCSP_REQ_OK)
                        assert_int_equal(id.serial_negative, rows[i].negative);
        }
}

static void test_parse_encodings(void **state)
{
        (void)state;
        uint8_t cid[128], req[200];
        uint8_t serial[] = {0x42};
        size_t cl = certid(cid, ALG_SHA1, sizeof ALG_SHA1, serial, 1);
        size_t rl = wrap_certid(cid, cl, req);
        struct ocsp_certid id;
        assert_int_equal(ocsp_req_parse(req, rl, &id), OCSP_REQ_OK);

        /* the outer length in long form where the short one fits: not DER */
        uint8_t longform[210];
        longform[0] = 0x30;
        longform[1] = 0x81;
        longform[2] = req[1];
        memcpy(longform + 3, req + 2, rl - 2);
        assert_int_equal(ocsp_req_parse(longform, rl + 1, &id), OCSP_REQ_MALFORMED);

        /* indefinite length (BER) */
        uint8_t indef[210];
        indef[0] = 0x30;
        indef[1] = 0x80;
        memcpy(indef + 2, req + 2, rl - 2);
        indef[rl] = 0;
        indef[rl + 1] = 0;
        assert_int_equal(ocsp_req_parse(indef, rl + 2, &id), OCSP_REQ_MALFORMED);

        /* a SET where the SEQUENCE belongs */
        uint8_t set[200];
        memcpy(set, req, rl);
        set[0] = 0x31;
        assert_int_equal(ocsp_req_parse(set, rl, &id), OCSP_REQ_MALFORMED);

        /* an empty request list */
        static const uint8_t empty[] = {0x30, 0x04, 0x30, 0x02, 0x30, 0x00};
        assert_int_equal(ocsp_req_parse(empty, sizeof empty, &id), OCSP_REQ_MALFORMED);

        /* a SHA-1 CertID whose hashes are not 20 bytes */
        uint8_t bad[128];
        memcpy(bad, cid, cl);
        bad[sizeof ALG_SHA1 + 3] = 19; /* issuerNameHash length */
        size_t bl = wrap_certid(bad, cl, req);
        assert_int_equal(ocsp_req_parse(req, bl, &id), OCSP_REQ_MALFORMED);

        /* too large a request */
        uint8_t *huge = calloc(1, OCSP_MAX_REQUEST + 1);
        assert_int_equal(ocsp_req_parse(huge, OCSP_MAX_REQUEST + 1, &id), OCSP_REQ_MALFORMED);
        free(huge);
}

static void test_b64(void **state)
{
        (void)state;
        uint8_t out[16];
        size_t n;
        assert_true(ocsp_req_b64("TWFu", 4, out, sizeof out, &n));
        assert_int_equal(n, 3);
        assert_memory_equal(out, "Man", 3);
        assert_true(ocsp_req_b64("TWE=", 4, out, sizeof out, &n));
        assert_int_equal(n, 2);
        assert_true(ocsp_req_b64("TWE", 3, out, sizeof out, &n)); /* padding optional */
        assert_int_equal(n, 2);
        assert_true(ocsp_req_b64("+/8=", 4, out, sizeof out, &n));
        assert_memory_equal(out, "\xfb\xff", 2);
        assert_true(ocsp_req_b64("-_8", 3, out, sizeof out, &n)); /* URL-safe */
        assert_memory_equal(out, "\xfb\xff", 2);
        assert_false(ocsp_req_b64("+_8=", 4, out, sizeof out, &n)); /* mixed alphabets */
        assert_false(ocsp_req_b64("TWF", 3 + 0, out, 1, &n));       /* does not fit */
        assert_false(ocsp_req_b64("T", 1, out, sizeof out, &n));
        assert_true(ocsp_req_b64("TQ==", 4, out, sizeof out, &n));
        assert_int_equal(n, 1);
        assert_false(ocsp_req_b64("TW==", 4, out, sizeof out, &n));  /* non-canonical */
        assert_false(ocsp_req_b64("TWF=", 4, out, sizeof out, &n));  /* non-zero left-over bits */
        assert_false(ocsp_req_b64("TW=E", 4, out, sizeof out, &n));  /* padding inside */
        assert_false(ocsp_req_b64("TW E", 4, out, sizeof out, &n));  /* whitespace */
        assert_false(ocsp_req_b64("TWE==", 5, out, sizeof out, &n)); /* too much padding */
        assert_false(ocsp_req_b64("", 0, out, sizeof out, &n));
}

static void test_error_responses(void **state)
{
        (void)state;
        static const struct {
                enum ocsp_error_status s;
                int want;
        } rows[] = {{OCSP_ERR_MALFORMED, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST},
                    {OCSP_ERR_INTERNAL, OCSP_RESPONSE_STATUS_INTERNALERROR},
                    {OCSP_ERR_TRY_LATER, OCSP_RESPONSE_STATUS_TRYLATER},
                    {OCSP_ERR_UNAUTHORIZED, OCSP_RESPONSE_STATUS_UNAUTHORIZED}};
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                size_t n;
                const uint8_t *b = ocsp_error_response(rows[i].s, &n);
                const unsigned char *p = b;
                OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, (long)n);
                assert_non_null(r);
                assert_ptr_equal(p, b + n);
                assert_int_equal(OCSP_response_status(r), rows[i].want);
                OCSP_RESPONSE_free(r);
        }
}

/* ---- the cache ---- */

static struct ocsp_blob *blob(int64_t ca, uint8_t s0, qtime_t tu, qtime_t nu, bool revoked)
{
        uint8_t serial[9] = {s0, 1, 2, 3, 4, 5, 6, 7, 8};
        uint8_t der[64];
        memset(der, s0, sizeof der);
        struct ocsp_blob *b =
            ocsp_blob_new(ca, serial, sizeof serial, revoked, tu, nu, "abc123", der, sizeof der);
        assert_non_null(b);
        return b;
}

static struct ocsp_certid id_for(uint8_t s0, uint8_t serial_buf[9])
{
        uint8_t v[9] = {s0, 1, 2, 3, 4, 5, 6, 7, 8};
        memcpy(serial_buf, v, 9);
        struct ocsp_certid id = {.hash = OCSP_HASH_SHA1,
                                 .name_hash = NAME_HASH,
                                 .name_hash_len = 20,
                                 .key_hash = KEY_HASH,
                                 .key_hash_len = 20,
                                 .serial = serial_buf,
                                 .serial_len = 9};
        return id;
}

static void issuers(struct ocsp_cache *c)
{
        struct ocsp_issuer is = {.ca_id = 7};
        memcpy(is.name_hash, NAME_HASH, 20);
        memcpy(is.key_hash, KEY_HASH, 20);
        ocsp_cache_set_issuers(c, &is, 1);
}

static void test_cache_lookup(void **state)
{
        (void)state;
        struct ocsp_cache *c = ocsp_cache_new();
        assert_non_null(c);
        uint8_t sb[9];
        struct ocsp_certid id = id_for(0x11, sb);
        struct ocsp_blob *got = NULL;
        /* no issuers yet */
        assert_true(ocsp_cache_put(c, blob(7, 0x11, 1000, 5000, false)));
        assert_int_equal(ocsp_cache_lookup(c, &id, 2000, &got), OCSP_LOOKUP_UNKNOWN);
        issuers(c);
        assert_int_equal(ocsp_cache_lookup(c, &id, 2000, &got), OCSP_LOOKUP_FOUND);
        assert_non_null(got);
        assert_int_equal(got->len, 64);
        assert_string_equal(got->etag, "\"abc123\"");
        assert_string_equal(got->last_modified, "Thu, 01 Jan 1970 00:16:40 GMT");
        assert_string_equal(got->expires, "Thu, 01 Jan 1970 01:23:20 GMT");
        ocsp_blob_unref(got);
        /* past nextUpdate: ours, but stale */
        assert_int_equal(ocsp_cache_lookup(c, &id, 5000, &got), OCSP_LOOKUP_STALE);
        assert_null(got);
        /* another serial, another issuer key, another hash, a negative serial */
        uint8_t sb2[9];
        struct ocsp_certid other = id_for(0x12, sb2);
        assert_int_equal(ocsp_cache_lookup(c, &other, 2000, &got), OCSP_LOOKUP_UNKNOWN);
        struct ocsp_certid wrong_key = id;
        wrong_key.key_hash = NAME_HASH;
        assert_int_equal(ocsp_cache_lookup(c, &wrong_key, 2000, &got), OCSP_LOOKUP_UNKNOWN);
        struct ocsp_certid sha256 = id;
        sha256.hash = OCSP_HASH_OTHER;
        assert_int_equal(ocsp_cache_lookup(c, &sha256, 2000, &got), OCSP_LOOKUP_UNKNOWN);
        struct ocsp_certid neg = id;
        neg.serial_negative = true;
        assert_int_equal(ocsp_cache_lookup(c, &neg, 2000, &got), OCSP_LOOKUP_UNKNOWN);
        /* the same serial under another CA is another key */
        assert_true(ocsp_cache_put(c, blob(8, 0x12, 1000, 5000, false)));
        assert_int_equal(ocsp_cache_lookup(c, &other, 2000, &got), OCSP_LOOKUP_UNKNOWN);
        ocsp_cache_free(c);
}

/* A reader holding an answer keeps its bytes when the refresher replaces
 * or sweeps it, and when the cache is freed (ASan checks the frees). */
static void test_cache_refcounts(void **state)
{
        (void)state;
        struct ocsp_cache *c = ocsp_cache_new();
        issuers(c);
        uint8_t sb[9];
        struct ocsp_certid id = id_for(0x21, sb);
        assert_true(ocsp_cache_put(c, blob(7, 0x21, 1000, 5000, false)));
        struct ocsp_blob *held = NULL, *now = NULL;
        assert_int_equal(ocsp_cache_lookup(c, &id, 2000, &held), OCSP_LOOKUP_FOUND);
        assert_false(held->revoked);
        assert_true(ocsp_cache_put(c, blob(7, 0x21, 1500, 6000, true)));
        assert_int_equal(ocsp_cache_lookup(c, &id, 2000, &now), OCSP_LOOKUP_FOUND);
        assert_true(now->revoked);
        assert_ptr_not_equal(held, now);
        assert_int_equal(held->der[0], 0x21); /* still readable */
        assert_int_equal(ocsp_cache_sweep(c, 7000), 1);
        struct ocsp_blob *none = NULL;
        assert_int_equal(ocsp_cache_lookup(c, &id, 2000, &none), OCSP_LOOKUP_UNKNOWN);
        assert_int_equal(now->der[63], 0x21);
        ocsp_cache_free(c);
        assert_int_equal(held->this_update, 1000);
        ocsp_blob_unref(held);
        ocsp_blob_unref(now);
}

static void test_cache_growth_and_sweep(void **state)
{
        (void)state;
        struct ocsp_cache *c = ocsp_cache_new();
        issuers(c);
        enum { N = 20000 };
        for (int i = 0; i < N; i++) {
                uint8_t serial[4] = {0x40, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
                uint8_t der[8] = {0};
                struct ocsp_blob *b = ocsp_blob_new(7, serial, 4, false, 100 + i % 7,
                                                    i % 2 ? 5000 : 3000, "e", der, sizeof der);
                assert_true(ocsp_cache_put(c, b));
        }
        size_t count;
        qtime_t oldest;
        ocsp_cache_stats(c, &count, &oldest);
        assert_int_equal(count, N);
        assert_int_equal(oldest, 100);
        assert_int_equal(ocsp_cache_sweep(c, 4000), N / 2);
        ocsp_cache_stats(c, &count, &oldest);
        assert_int_equal(count, N / 2);
        for (int i = 0; i < N; i++) {
                uint8_t serial[4] = {0x40, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
                struct ocsp_certid id = {.hash = OCSP_HASH_SHA1,
                                         .name_hash = NAME_HASH,
                                         .name_hash_len = 20,
                                         .key_hash = KEY_HASH,
                                         .key_hash_len = 20,
                                         .serial = serial,
                                         .serial_len = 4};
                struct ocsp_blob *b = NULL;
                enum ocsp_lookup r = ocsp_cache_lookup(c, &id, 3500, &b);
                assert_int_equal(r, i % 2 ? OCSP_LOOKUP_FOUND : OCSP_LOOKUP_UNKNOWN);
                ocsp_blob_unref(b);
        }
        /* tombstones are reused: the table keeps working after churn */
        for (int round = 0; round < 3; round++) {
                for (int i = 0; i < N; i += 2) {
                        uint8_t serial[4] = {0x41, (uint8_t)(i >> 16), (uint8_t)(i >> 8),
                                             (uint8_t)i};
                        uint8_t der[8] = {0};
                        assert_true(ocsp_cache_put(
                            c, ocsp_blob_new(7, serial, 4, false, 100, 4100 + round, "e", der, 8)));
                }
                assert_int_equal(ocsp_cache_sweep(c, 4100 + round), N / 2);
        }
        ocsp_cache_stats(c, &count, &oldest);
        assert_int_equal(count, N / 2);
        ocsp_cache_free(c);
}

struct race {
        struct ocsp_cache *c;
        atomic_bool stop;
        atomic_long found;
};

static void *reader(void *arg)
{
        struct race *r = arg;
        uint8_t sb[9];
        struct ocsp_certid id = id_for(0x31, sb);
        while (!atomic_load(&r->stop)) {
                struct ocsp_blob *b = NULL;
                if (ocsp_cache_lookup(r->c, &id, 2000, &b) == OCSP_LOOKUP_FOUND) {
                        /* every byte of what we hold is one answer's */
                        uint8_t first = b->der[0];
                        for (size_t i = 0; i < b->len; i++)
                                if (b->der[i] != first)
                                        abort();
                        atomic_fetch_add(&r->found, 1);
                        ocsp_blob_unref(b);
                }
        }
        return NULL;
}

static void test_cache_readers_race_writer(void **state)
{
        (void)state;
        struct race r = {.c = ocsp_cache_new()};
        atomic_init(&r.stop, false);
        atomic_init(&r.found, 0);
        issuers(r.c);
        assert_true(ocsp_cache_put(r.c, blob(7, 0x31, 1000, 5000, false)));
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
                assert_int_equal(pthread_create(&t[i], NULL, reader, &r), 0);
        for (int i = 0; i < 3000; i++) {
                struct ocsp_blob *b = blob(7, 0x31, 1000 + i, 5000, i % 2);
                memset(b->der, (uint8_t)i, b->len); /* each version its own bytes */
                assert_true(ocsp_cache_put(r.c, b));
                if (i % 500 == 0)
                        ocsp_cache_sweep(r.c, 2000);
        }
        atomic_store(&r.stop, true);
        for (int i = 0; i < 2; i++)
                pthread_join(t[i], NULL);
        assert_true(atomic_load(&r.found) > 0);
        ocsp_cache_free(r.c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_openssl_request),
            cmocka_unit_test(test_parse_truncated_and_trailing),
            cmocka_unit_test(test_parse_table),
            cmocka_unit_test(test_parse_encodings),
            cmocka_unit_test(test_b64),
            cmocka_unit_test(test_error_responses),
            cmocka_unit_test(test_cache_lookup),
            cmocka_unit_test(test_cache_refcounts),
            cmocka_unit_test(test_cache_growth_and_sweep),
            cmocka_unit_test(test_cache_readers_race_writer),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
