/*
 * test_codec.c - the small codecs of the front doors: the REST API's strict
 * JSON body decoder (api_json), base64 and base64url (b64), the ZIP writer
 * (zip: the layout is checked byte by byte here, and archives are read back
 * with Python's zipfile by the REST system tests) and the filebag.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_json.h"
#include "base/b64.h"
#include "base/filebag.h"
#include "base/zip.h"

struct order_body {
        const char *profile, *key, *names[4];
        size_t nnames;
        long long days;
        bool paid, days_given;
        json_t *org;
};

static enum qerr decode(const char *text, struct order_body *b, json_t **root, struct qerr_info *ei)
{
        memset(b, 0, sizeof *b);
        const struct jfield f[] = {
            {"profile", JF_STRING, true, 0, 8, &b->profile, NULL, NULL, 0},
            {"key", JF_STRING, false, 0, 16, &b->key, NULL, NULL, 0},
            {"names", JF_STRINGS, false, 0, 4, b->names, &b->nnames, NULL, 12},
            {"days", JF_INT, false, 1, 365, &b->days, NULL, &b->days_given, 0},
            {"paid", JF_BOOL, false, 0, 0, &b->paid, NULL, NULL, 0},
            {"organization", JF_OBJECT, false, 0, 0, &b->org, NULL, NULL, 0},
        };
        return api_json_decode((const uint8_t *)text, strlen(text), f, sizeof f / sizeof f[0], root,
                               ei);
}

static void test_json_accepts(void **state)
{
        (void)state;
        struct order_body b;
        json_t *root = NULL;
        struct qerr_info ei;
        assert_int_equal(decode("{\"profile\":\"dv\",\"names\":[\"a.example\",\"b.example\"],"
                                "\"days\":90,\"paid\":true,\"organization\":{\"x\":1}}",
                                &b, &root, &ei),
                         QERR_OK);
        assert_string_equal(b.profile, "dv");
        assert_int_equal(b.nnames, 2);
        assert_string_equal(b.names[1], "b.example");
        assert_int_equal(b.days, 90);
        assert_true(b.days_given);
        assert_true(b.paid);
        assert_non_null(b.org);
        assert_null(b.key);
        json_decref(root);
        /* null is the same as absent */
        assert_int_equal(decode("{\"profile\":\"ev\",\"key\":null,\"days\":null}", &b, &root, &ei),
                         QERR_OK);
        assert_null(b.key);
        assert_false(b.days_given);
        json_decref(root);
}

static void test_json_refuses(void **state)
{
        (void)state;
        static const struct {
                const char *body, *needle;
        } cases[] = {
            {"", "JSON object"},
            {"[]", "JSON object"},
            {"\"dv\"", "JSON object"},
            {"{", "not valid JSON"},
            {"{\"profile\":\"dv\"} trailing", "not valid JSON"},
            {"{\"profile\":\"dv\",\"profile\":\"ov\"}", "not valid JSON"},
            {"{}", "'profile' is required"},
            {"{\"profile\":1}", "'profile' must be a string"},
            {"{\"profile\":\"dv\",\"extra\":1}", "'extra' is not known"},
            {"{\"profile\":\"123456789\"}", "'profile' is longer than 8"},
            {"{\"profile\":\"d\\u0000v\"}", "not valid JSON"},
            {"{\"profile\":\"d\\nv\"}", "control character"},
            {"{\"profile\":\"dv\",\"days\":0}", "'days' must be between 1 and 365"},
            {"{\"profile\":\"dv\",\"days\":366}", "between 1 and 365"},
            {"{\"profile\":\"dv\",\"days\":1.5}", "'days' must be an integer"},
            {"{\"profile\":\"dv\",\"days\":\"9\"}", "must be an integer"},
            {"{\"profile\":\"dv\",\"paid\":1}", "'paid' must be true or false"},
            {"{\"profile\":\"dv\",\"names\":\"a\"}", "array of strings"},
            {"{\"profile\":\"dv\",\"names\":[1]}", "array of strings"},
            {"{\"profile\":\"dv\",\"names\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", "more than 4 items"},
            {"{\"profile\":\"dv\",\"names\":[\"aaaaaaaaaaaaa\"]}", "longer than 12"},
            {"{\"profile\":\"dv\",\"organization\":[]}", "must be an object"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct order_body b;
                json_t *root = (json_t *)1;
                struct qerr_info ei;
                qerr_clear(&ei);
                enum qerr rc = decode(cases[i].body, &b, &root, &ei);
                if (rc != QERR_MALFORMED || !strstr(qerr_message(&ei), cases[i].needle))
                        fail_msg("case %zu (%s): %s / %s", i, cases[i].body, qerr_code(rc),
                                 qerr_message(&ei));
                assert_null(root);
        }
}

static void test_json_nested(void **state)
{
        (void)state;
        struct order_body b;
        json_t *root = NULL;
        struct qerr_info ei;
        assert_int_equal(
            decode("{\"profile\":\"ov\",\"organization\":{\"name\":\"Acme\",\"c\":\"DEU\"}}", &b,
                   &root, &ei),
            QERR_OK);
        const char *name = NULL, *c = NULL;
        const struct jfield of[] = {{"name", JF_STRING, true, 0, 64, &name, NULL, NULL, 0},
                                    {"c", JF_STRING, true, 0, 2, &c, NULL, NULL, 0}};
        assert_int_equal(api_json_object(b.org, "organization", of, 2, &ei), QERR_MALFORMED);
        assert_non_null(strstr(qerr_message(&ei), "'organization.c' is longer than 2"));
        json_decref(root);
}

static void b64_ok(bool url, const char *in, const char *want, size_t wlen)
{
        struct qbuf b;
        qbuf_init(&b, 1024);
        bool okd = url ? b64url_decode(in, strlen(in), &b) : b64_decode(in, strlen(in), &b);
        if (!okd || b.len != wlen || (wlen && memcmp(b.data, want, wlen) != 0))
                fail_msg("decode of '%s' gave %d/%zu", in, okd, b.len);
        qbuf_free(&b);
}

static void b64_bad(bool url, const char *in)
{
        struct qbuf b;
        qbuf_init(&b, 1024);
        qbuf_append_str(&b, "keep");
        if (url ? b64url_decode(in, strlen(in), &b) : b64_decode(in, strlen(in), &b))
                fail_msg("'%s' was accepted", in);
        assert_int_equal(b.len, 4); /* unchanged */
        qbuf_free(&b);
}

static void test_b64(void **state)
{
        (void)state;
        b64_ok(false, "aGVsbG8=", "hello", 5);
        b64_ok(false, "aGVs\nbG8=\n", "hello", 5);
        b64_ok(false, "", "", 0);
        b64_ok(false, "+/+/", "\xfb\xff\xbf", 3);
        b64_ok(true, "aGVsbG8", "hello", 5);
        b64_ok(true, "-_-_", "\xfb\xff\xbf", 3);
        b64_ok(true, "", "", 0);
        b64_bad(false, "aGVsbG8");   /* missing padding */
        b64_bad(false, "aGVsbG8=x"); /* data after padding */
        b64_bad(false, "aGVs=G8=");  /* padding inside */
        b64_bad(false, "a===");      /* too much padding */
        b64_bad(false, "-_-_");      /* url alphabet */
        b64_bad(true, "aGVsbG8=");   /* padding */
        b64_bad(true, "+/+/");       /* std alphabet */
        b64_bad(true, "a");          /* impossible length */
        b64_bad(true, "aGVsbG9");    /* unused bits set: not canonical */
        b64_bad(true, "aGVs bG8");   /* whitespace */
        struct qbuf b;
        qbuf_init(&b, 64);
        assert_true(b64url_encode((const uint8_t *)"hello", 5, &b));
        assert_string_equal((const char *)b.data, "aGVsbG8");
        qbuf_reset(&b);
        assert_true(b64_encode((const uint8_t *)"hell", 4, &b));
        assert_string_equal((const char *)b.data, "aGVsbA==");
        qbuf_free(&b);
}

static uint32_t rd32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_zip(void **state)
{
        (void)state;
        assert_int_equal(zip_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
        struct filebag bag;
        memset(&bag, 0, sizeof bag);
        assert_true(filebag_add(&bag, "a.crt", "AAAA", 4, false));
        assert_true(filebag_add(&bag, "a.key", "secret", 6, true));
        assert_non_null(filebag_find(&bag, "a.key"));
        assert_null(filebag_find(&bag, "b"));
        struct qbuf z;
        qbuf_init(&z, 4096);
        assert_true(zip_of_bag(&bag, &z));
        /* local header of the first entry, its name and data */
        assert_int_equal(rd32(z.data), 0x04034b50u);
        assert_memory_equal(z.data + 30, "a.crtAAAA", 9);
        assert_int_equal(rd32(z.data + 14), zip_crc32((const uint8_t *)"AAAA", 4));
        /* the end record points at a central directory of two entries */
        const uint8_t *end = z.data + z.len - 22;
        assert_int_equal(rd32(end), 0x06054b50u);
        assert_int_equal(end[10], 2);
        uint32_t cd = rd32(end + 16);
        assert_int_equal(rd32(z.data + cd), 0x02014b50u);
        /* the key file is 0600 in the archive */
        const uint8_t *second = z.data + cd + 46 + 5;
        assert_int_equal(rd32(second), 0x02014b50u);
        assert_int_equal(rd32(second + 38) >> 16, 0100600u);
        /* a full buffer is refused */
        struct qbuf small;
        qbuf_init(&small, 40);
        assert_false(zip_of_bag(&bag, &small));
        qbuf_free(&small);
        qbuf_free(&z);
        filebag_free(&bag);
        assert_int_equal(bag.n, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_json_accepts), cmocka_unit_test(test_json_refuses),
            cmocka_unit_test(test_json_nested),  cmocka_unit_test(test_b64),
            cmocka_unit_test(test_zip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
