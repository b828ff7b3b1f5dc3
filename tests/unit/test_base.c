/*
 * test_base.c - the small pieces of src/base/: the error table, the bounded
 * buffer, time and hex conversions, file helpers, model name tables and the
 * log escaper.
 *
 * Table rows are their own cmocka tests (named by the row). File tests work
 * in a temporary directory (mkdtemp under /tmp, removed at the end).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/fsutil.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/model.h"
#include "base/qtime.h"

/* ---- helpers ---- */

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void rm_rf(const char *dir)
{
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup_dir(void **state)
{
        char *dir = malloc(64);
        if (!dir)
                return -1;
        snprintf(dir, 64, "/tmp/quill-base-XXXXXX");
        if (!mkdtemp(dir)) {
                free(dir);
                return -1;
        }
        *state = dir;
        return 0;
}

static int teardown_dir(void **state)
{
        rm_rf(*state);
        free(*state);
        return 0;
}

static size_t count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        assert_non_null(d);
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

/* ---- err ---- */

static void test_err_table(void **state)
{
        (void)state;
        for (int i = 0; i < QERR__COUNT; i++) {
                enum qerr e = (enum qerr)i;
                const char *code = qerr_code(e);
                const char *msg = qerr_default_msg(e);
                assert_non_null(code);
                if (code[0] == '\0')
                        fail_msg("error %d has an empty code", i);
                for (int j = 0; j < i; j++)
                        if (strcmp(code, qerr_code((enum qerr)j)) == 0)
                                fail_msg("errors %d and %d share the code \"%s\"", j, i, code);
                assert_non_null(msg);
                size_t len = strlen(msg);
                if (len == 0 || msg[len - 1] != '.')
                        fail_msg("default sentence of %s does not end with '.': \"%s\"", code, msg);
                if (qerr_from_code(code) != e)
                        fail_msg("qerr_from_code(\"%s\") != %d", code, i);
                enum qexit x = qerr_exit(e);
                if (x != QEXIT_OK && x != QEXIT_REFUSED && x != QEXIT_USAGE && x != QEXIT_INTERNAL)
                        fail_msg("%s: exit class %d", code, (int)x);
                int http = qerr_http_status(e);
                if (http < 200 || http > 599)
                        fail_msg("%s: http status %d", code, http);
                /* every failure has an ACME problem type of RFC 8555 6.7,
                 * RFC 9773 (alreadyReplaced) or the profiles draft
                 * (invalidProfile) */
                static const char *const acme_types[] = {"accountDoesNotExist",
                                                         "alreadyReplaced",
                                                         "alreadyRevoked",
                                                         "badCSR",
                                                         "badNonce",
                                                         "badPublicKey",
                                                         "badRevocationReason",
                                                         "badSignatureAlgorithm",
                                                         "caa",
                                                         "compound",
                                                         "connection",
                                                         "dns",
                                                         "externalAccountRequired",
                                                         "incorrectResponse",
                                                         "invalidContact",
                                                         "invalidProfile",
                                                         "malformed",
                                                         "orderNotReady",
                                                         "rateLimited",
                                                         "rejectedIdentifier",
                                                         "serverInternal",
                                                         "tls",
                                                         "unauthorized",
                                                         "unsupportedContact",
                                                         "unsupportedIdentifier",
                                                         "userActionRequired"};
                const char *at = qerr_acme_type(e);
                bool known = e == QERR_OK && at[0] == '\0';
                for (size_t k = 0; k < sizeof acme_types / sizeof acme_types[0] && !known; k++)
                        known = strcmp(at, acme_types[k]) == 0;
                if (!known)
                        fail_msg("%s: ACME type \"%s\" is not one of RFC 8555/9773", code, at);
                if (http >= 500 && e != QERR_OK && strcmp(at, "serverInternal") != 0)
                        fail_msg("%s: a server error must be serverInternal", code);
                /* only success is a success */
                assert_int_equal(x == QEXIT_OK, e == QERR_OK);
                assert_int_equal(http < 300, e == QERR_OK);
        }
        assert_int_equal(qerr_from_code("no_such_code"), QERR__COUNT);
        assert_int_equal(qerr_from_code(""), QERR__COUNT);
        assert_int_equal(qerr_from_code(NULL), QERR__COUNT);
        /* out-of-range values read as internal, never out of bounds */
        assert_string_equal(qerr_code(QERR__COUNT), qerr_code(QERR_INTERNAL));
        assert_string_equal(qerr_code((enum qerr) - 1), qerr_code(QERR_INTERNAL));
}

static void test_err_set_and_message(void **state)
{
        (void)state;
        struct qerr_info ei;
        memset(&ei, 'x', sizeof ei);
        assert_int_equal(qerr_set(&ei, QERR_NOT_FOUND, NULL), QERR_NOT_FOUND);
        assert_int_equal(ei.code, QERR_NOT_FOUND);
        assert_string_equal(ei.msg, "");
        assert_string_equal(qerr_message(&ei), qerr_default_msg(QERR_NOT_FOUND));

        assert_int_equal(qerr_set(&ei, QERR_IO, "cannot read %s: %d", "f", 5), QERR_IO);
        assert_string_equal(qerr_message(&ei), "cannot read f: 5");

        /* long sentences are cut, never overflow */
        char big[2 * QERR_MSG_MAX];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = 0;
        qerr_set(&ei, QERR_STORE, "%s", big);
        assert_int_equal(strlen(ei.msg), QERR_MSG_MAX - 1);

        qerr_clear(&ei);
        assert_int_equal(ei.code, QERR_OK);
        assert_string_equal(qerr_message(&ei), "Done.");
        assert_int_equal(qerr_set(NULL, QERR_BUSY, "ignored %d", 1), QERR_BUSY);
        assert_string_equal(qerr_message(NULL), "");
        qerr_clear(NULL);
}

/* ---- qbuf ---- */

static void test_qbuf_bounded_append(void **state)
{
        (void)state;
        struct qbuf b;
        qbuf_init(&b, 16);
        assert_string_equal(qbuf_str(&b), "");
        assert_true(qbuf_append(&b, "0123456789", 10));
        assert_true(qbuf_append_str(&b, "abcdef"));
        assert_int_equal(b.len, 16);
        assert_memory_equal(b.data, "0123456789abcdef", 16);
        assert_int_equal(b.data[16], 0);

        assert_false(qbuf_append(&b, "X", 1));
        assert_false(qbuf_append_str(&b, "XY"));
        assert_int_equal(b.len, 16);
        assert_string_equal(qbuf_str(&b), "0123456789abcdef");
        assert_true(qbuf_append(&b, "", 0));
        assert_int_equal(b.len, 16);
        qbuf_free(&b);
        assert_null(b.data);
        assert_int_equal(b.len, 0);
        qbuf_free(&b);

        /* one append larger than max, on an empty and a non-empty buffer */
        qbuf_init(&b, 16);
        assert_false(qbuf_append(&b, "0123456789abcdefg", 17));
        assert_int_equal(b.len, 0);
        assert_string_equal(qbuf_str(&b), "");
        assert_true(qbuf_append(&b, "abc", 3));
        assert_false(qbuf_append(&b, "0123456789abcd", 14));
        assert_string_equal(qbuf_str(&b), "abc");
        assert_false(qbuf_append(&b, "x", SIZE_MAX));
        assert_string_equal(qbuf_str(&b), "abc");
        qbuf_reset(&b);
        assert_int_equal(b.len, 0);
        assert_string_equal(qbuf_str(&b), "");
        qbuf_free(&b);

        /* growth past the first allocation keeps the bytes */
        qbuf_init(&b, 5000);
        for (int i = 0; i < 500; i++)
                assert_true(qbuf_append(&b, "0123456789", 10));
        assert_int_equal(b.len, 5000);
        assert_false(qbuf_append(&b, "x", 1));
        for (size_t i = 0; i < 5000; i++)
                assert_int_equal(b.data[i], '0' + i % 10);
        assert_int_equal(b.data[5000], 0);
        qbuf_free(&b);
}

/* qbuf_extend: room to fill in place (a frame read straight from a socket),
 * within the same bound as qbuf_append. */
static void test_qbuf_extend(void **state)
{
        (void)state;
        struct qbuf b;
        qbuf_init(&b, 16);
        assert_true(qbuf_append(&b, "ab", 2));
        uint8_t *p = qbuf_extend(&b, 3);
        assert_non_null(p);
        memcpy(p, "cde", 3);
        assert_int_equal(b.len, 5);
        assert_string_equal(qbuf_str(&b), "abcde");
        assert_null(qbuf_extend(&b, 12)); /* past the bound: unchanged */
        assert_int_equal(b.len, 5);
        assert_non_null(qbuf_extend(&b, 11));
        assert_int_equal(b.len, 16);
        assert_null(qbuf_extend(&b, SIZE_MAX));
        qbuf_free(&b);
}

/* HTTP dates (RFC 9110 5.6.7 IMF-fixdate), English names whatever the
 * locale. */
static void test_http_date(void **state)
{
        (void)state;
        char out[40];
        assert_string_equal(qtime_http_date(784111777, out, sizeof out),
                            "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_string_equal(qtime_http_date(0, out, sizeof out), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_string_equal(qtime_http_date(qtime_from_ymd(2050, 2, 28) + 86399, out, sizeof out),
                            "Mon, 28 Feb 2050 23:59:59 GMT");
        char small[10] = "x";
        assert_string_equal(qtime_http_date(0, small, sizeof small), "");
}

static void test_qbuf_printf_bounded(void **state)
{
        (void)state;
        struct qbuf b;
        qbuf_init(&b, 8);
        assert_true(qbuf_printf(&b, "%s-%d", "ab", 42));
        assert_string_equal(qbuf_str(&b), "ab-42");
        assert_true(qbuf_printf(&b, "%03d", 7));
        assert_string_equal(qbuf_str(&b), "ab-42007");
        assert_int_equal(b.len, 8);
        assert_false(qbuf_printf(&b, "%c", 'x'));
        assert_string_equal(qbuf_str(&b), "ab-42007");
        assert_true(qbuf_printf(&b, "%s", ""));
        assert_int_equal(b.len, 8);
        qbuf_free(&b);

        qbuf_init(&b, 8);
        assert_true(qbuf_printf(&b, "%s", "abc"));
        assert_false(qbuf_printf(&b, "%d", 123456));
        assert_string_equal(qbuf_str(&b), "abc");
        assert_int_equal(b.len, 3);
        qbuf_free(&b);

        qbuf_init(&b, 8);
        assert_false(qbuf_printf(&b, "%d", 123456789));
        assert_int_equal(b.len, 0);
        assert_string_equal(qbuf_str(&b), "");
        qbuf_free(&b);
}

static void test_qbuf_take(void **state)
{
        (void)state;
        struct qbuf b;
        qbuf_init(&b, 64);
        assert_true(qbuf_append(&b, "secret\0bytes", 12));
        size_t len = 0;
        uint8_t *p = qbuf_take(&b, &len);
        assert_non_null(p);
        assert_int_equal(len, 12);
        assert_memory_equal(p, "secret\0bytes", 12);
        assert_null(b.data);
        assert_int_equal(b.len, 0);
        assert_string_equal(qbuf_str(&b), "");
        /* the buffer is reusable with its limit */
        assert_true(qbuf_append_str(&b, "again"));
        assert_string_equal(qbuf_str(&b), "again");
        assert_int_equal(b.max, 64);
        qbuf_free(&b);
        free(p);

        qbuf_init(&b, 64);
        p = qbuf_take(&b, &len);
        assert_null(p);
        assert_int_equal(len, 0);
        assert_null(qbuf_take(&b, NULL));
        qbuf_free(&b);
}

/* ---- qtime ---- */

struct time_case {
        const char *name;
        const char *text;
        qtime_t t;
};

static const struct time_case time_cases[] = {
    {"time_epoch", "1970-01-01T00:00:00Z", 0},
    {"time_leap_day_2000", "2000-02-29T12:34:56Z", 951827696},
    {"time_before_2000", "1999-12-31T23:59:59Z", 946684799},
    {"time_2038_boundary", "2038-01-19T03:14:08Z", 2147483648LL},
    {"time_2038_last_32bit", "2038-01-19T03:14:07Z", 2147483647LL},
    {"time_2100_not_leap", "2100-03-01T00:00:00Z", 4107542400LL},
    {"time_leap_day_2024", "2024-02-29T23:59:59Z", 1709251199},
    {"time_before_epoch", "1900-03-01T00:00:00Z", -2203891200LL},
    {"time_year_9999", "9999-12-31T23:59:59Z", 253402300799LL},
    {"time_2026", "2026-06-01T00:00:00Z", 1780272000},
};

static void test_time_row(void **state)
{
        const struct time_case *k = *state;
        qtime_t t = -1;
        if (!qtime_parse(k->text, &t))
                fail_msg("%s: qtime_parse refused \"%s\"", k->name, k->text);
        assert_int_equal(t, k->t);
        char out[32];
        memset(out, 'x', sizeof out);
        assert_ptr_equal(qtime_fmt(k->t, out, sizeof out), out);
        assert_string_equal(out, k->text);
        /* exactly 21 bytes is enough */
        char tight[21];
        qtime_fmt(k->t, tight, sizeof tight);
        assert_string_equal(tight, k->text);
}

struct bad_time_case {
        const char *name;
        const char *text;
};

static const struct bad_time_case bad_time_cases[] = {
    {"time_bad_month_13", "2026-13-01T00:00:00Z"},
    {"time_bad_month_00", "2026-00-10T00:00:00Z"},
    {"time_bad_day_00", "2026-01-00T00:00:00Z"},
    {"time_bad_day_32", "2026-01-32T00:00:00Z"},
    {"time_bad_feb_30", "2026-02-30T00:00:00Z"},
    {"time_bad_feb_29_common_year", "2026-02-29T00:00:00Z"},
    {"time_bad_apr_31", "2026-04-31T00:00:00Z"},
    {"time_bad_hour_24", "2026-01-01T24:00:00Z"},
    {"time_bad_minute_60", "2026-01-01T00:60:00Z"},
    {"time_bad_space_separator", "2026-01-01 00:00:00Z"},
    {"time_bad_lowercase_t", "2026-01-01t00:00:00Z"},
    {"time_bad_trailing_garbage", "2026-01-01T00:00:00Zjunk"},
    {"time_bad_trailing_newline", "2026-01-01T00:00:00Z\n"},
    {"time_bad_missing_z", "2026-01-01T00:00:00"},
    {"time_bad_offset", "2026-01-01T00:00:00+00:00"},
    {"time_bad_offset_char", "2026-01-01T00:00:00+"},
    {"time_bad_lowercase_z", "2026-01-01T00:00:00z"},
    {"time_bad_fraction", "2026-01-01T00:00:00.5Z"},
    {"time_bad_short_year", "226-01-01T00:00:00Z"},
    {"time_bad_sign_year", "+026-01-01T00:00:00Z"},
    {"time_bad_space_year", " 026-01-01T00:00:00Z"},
    {"time_bad_sign_month", "2026-+1-01T00:00:00Z"},
    {"time_bad_space_day", "2026-01- 1T00:00:00Z"},
    {"time_bad_letters", "abcd-ef-ghTij:kl:mnZ"},
    {"time_bad_empty", ""},
};

static void test_bad_time_row(void **state)
{
        const struct bad_time_case *k = *state;
        qtime_t t = 12345;
        if (qtime_parse(k->text, &t))
                fail_msg("%s: qtime_parse accepted \"%s\" as %lld", k->name, k->text, (long long)t);
        assert_int_equal(t, 12345);
}

static void test_qtime_misc(void **state)
{
        (void)state;
        assert_int_equal(qtime_from_ymd(1970, 1, 1), 0);
        assert_int_equal(qtime_from_ymd(1970, 1, 2), QTIME_DAY);
        assert_int_equal(qtime_from_ymd(1969, 12, 31), -QTIME_DAY);
        assert_int_equal(qtime_from_ymd(2000, 3, 1) - qtime_from_ymd(2000, 2, 28), 2 * QTIME_DAY);
        assert_int_equal(qtime_from_ymd(2100, 3, 1) - qtime_from_ymd(2100, 2, 28), QTIME_DAY);
        qtime_t t = 0;
        assert_false(qtime_parse(NULL, &t));
        assert_true(qtime_now() > qtime_from_ymd(2020, 1, 1));
        char small[8];
        qtime_fmt(0, small, sizeof small);
        assert_true(strlen(small) < sizeof small);
}

/* ---- hex ---- */

struct hex_case {
        const char *name;
        const uint8_t *bytes;
        size_t len;
        const char *hex;
};

static const uint8_t hx1[] = {0x00};
static const uint8_t hx2[] = {0xff, 0x00, 0xab, 0x10};
static const uint8_t hx3[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc,
                              0xba, 0x98, 0x76, 0x54, 0x32, 0x10, 0x00, 0x7f, 0x80, 0xff};

static const struct hex_case hex_cases[] = {
    {"hex_empty", NULL, 0, ""},
    {"hex_zero", hx1, sizeof hx1, "00"},
    {"hex_mixed", hx2, sizeof hx2, "ff00ab10"},
    {"hex_serial_20", hx3, sizeof hx3, "0123456789abcdeffedcba9876543210007f80ff"},
};

static void test_hex_row(void **state)
{
        const struct hex_case *k = *state;
        char out[64];
        memset(out, 'x', sizeof out);
        hex_encode(k->bytes, k->len, out, 2 * k->len + 1);
        assert_string_equal(out, k->hex);
        assert_int_equal(out[2 * k->len + 1], 'x');

        uint8_t back[32];
        size_t n = 99;
        assert_true(hex_decode(k->hex, back, k->len, &n));
        assert_int_equal(n, k->len);
        if (k->len)
                assert_memory_equal(back, k->bytes, k->len);

        /* upper case decodes to the same bytes */
        char upper[64];
        snprintf(upper, sizeof upper, "%s", k->hex);
        for (char *p = upper; *p; p++)
                if (*p >= 'a' && *p <= 'f')
                        *p = (char)(*p - 'a' + 'A');
        assert_true(hex_decode(upper, back, sizeof back, &n));
        assert_int_equal(n, k->len);
        if (k->len)
                assert_memory_equal(back, k->bytes, k->len);
}

/* issue 7: `blocked-keys add --spki-sha256 HEX` */
static void test_hex_sha256(void **state)
{
        (void)state;
        const char *lower = "a09282339ebf6e5ce16d25941ebb4549cabcada18650343952daa778a5719684";
        char out[65];
        memset(out, 'x', sizeof out);
        assert_true(hex_sha256_parse(lower, out));
        assert_string_equal(out, lower);
        /* upper and mixed case: the lower-case form */
        char upper[65];
        for (size_t i = 0; i < 64; i++)
                upper[i] = (char)((lower[i] >= 'a' && lower[i] <= 'f' && i % 2) ? lower[i] - 32
                                                                                : lower[i]);
        upper[64] = 0;
        assert_true(hex_sha256_parse(upper, out));
        assert_string_equal(out, lower);
        static const char *const bad[] = {
            "",
            "a0928233",
            /* 63 and 65 digits */
            "a09282339ebf6e5ce16d25941ebb4549cabcada18650343952daa778a571968",
            "a09282339ebf6e5ce16d25941ebb4549cabcada18650343952daa778a57196840",
            /* a non-hex digit, spaces, colons, a prefix, a trailing newline */
            "g09282339ebf6e5ce16d25941ebb4549cabcada18650343952daa778a5719684",
            "a09282339ebf6e5ce16d25941ebb4549 cabcada18650343952daa778a571968",
            "a0:92:82:33:9e:bf:6e:5c:e1:6d:25:94:1e:bb:45:49:ca:bc:ad:a1:86:50",
            "0xa09282339ebf6e5ce16d25941ebb4549cabcada18650343952daa778a57196",
            "a09282339ebf6e5ce16d25941ebb4549cabcada18650343952daa778a571968\n",
            /* SHA-1 and SHA-512 lengths */
            "a09282339ebf6e5ce16d25941ebb4549cabcada1",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                memset(out, 'x', sizeof out);
                if (hex_sha256_parse(bad[i], out))
                        fail_msg("hex_sha256_parse accepted \"%s\"", bad[i]);
        }
        assert_false(hex_sha256_parse(NULL, out));
}

static void test_hex_refusals(void **state)
{
        (void)state;
        static const char *const bad[] = {"a",
                                          "abc",
                                          "zz",
                                          "0g",
                                          "g0",
                                          " 1",
                                          "1 ",
                                          "0x12",
                                          "12-4",
                                          "ab\xff"
                                          "0"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                uint8_t out[16];
                size_t n = 77;
                if (hex_decode(bad[i], out, sizeof out, &n))
                        fail_msg("hex_decode accepted \"%s\"", bad[i]);
                assert_int_equal(n, 77);
        }
        /* output too small: refused, nothing written past it */
        uint8_t out[4] = {0xee, 0xee, 0xee, 0xee};
        size_t n = 77;
        assert_false(hex_decode("aabbcc", out, 2, &n));
        assert_int_equal(n, 77);
        assert_int_equal(out[2], 0xee);
        assert_true(hex_decode("aabbcc", out, 3, &n));
        assert_int_equal(n, 3);
        assert_int_equal(out[3], 0xee);

        /* encoding into a short buffer truncates, NUL-terminated, no overflow */
        for (size_t sz = 1; sz <= 2 * sizeof hx2 + 1; sz++) {
                char *o = malloc(sz);
                assert_non_null(o);
                hex_encode(hx2, sizeof hx2, o, sz);
                assert_true(strlen(o) < sz);
                assert_int_equal(strncmp(o, "ff00ab10", strlen(o)), 0);
                free(o);
        }
}

/* ---- fsutil ---- */

static void test_fs_write_excl(void **state)
{
        const char *dir = *state;
        char path[128];
        snprintf(path, sizeof path, "%s/key.pem", dir);
        mode_t old = umask(022);
        struct qerr_info ei = {0};
        enum qerr rc = fs_write_file(path, "one", 3, 0600, true, &ei);
        if (rc != QERR_OK)
                fail_msg("fs_write_file: %s", qerr_message(&ei));
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_size, 3);

        rc = fs_write_file(path, "two!", 4, 0644, true, &ei);
        assert_int_equal(rc, QERR_IO);
        assert_int_equal(ei.code, QERR_IO);
        assert_non_null(strstr(qerr_message(&ei), path));
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        struct qbuf b;
        qbuf_init(&b, 64);
        assert_int_equal(fs_read_file(path, &b, &ei), QERR_OK);
        assert_string_equal(qbuf_str(&b), "one");
        qbuf_free(&b);
        /* no temporary file left behind */
        assert_int_equal(count_entries(dir), 1);

        /* without excl the file is replaced, with the requested mode */
        rc = fs_write_file(path, "three", 5, 0640, false, &ei);
        if (rc != QERR_OK)
                fail_msg("fs_write_file: %s", qerr_message(&ei));
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        qbuf_init(&b, 64);
        assert_int_equal(fs_read_file(path, &b, &ei), QERR_OK);
        assert_string_equal(qbuf_str(&b), "three");
        qbuf_free(&b);
        assert_int_equal(count_entries(dir), 1);

        /* an empty file is a file */
        char empty[128];
        snprintf(empty, sizeof empty, "%s/empty", dir);
        assert_int_equal(fs_write_file(empty, "", 0, 0600, true, &ei), QERR_OK);
        assert_true(fs_exists(empty));
        assert_false(fs_is_dir(empty));
        assert_true(fs_is_dir(dir));
        umask(old);
}

static void test_fs_read_limits(void **state)
{
        const char *dir = *state;
        char path[128];
        snprintf(path, sizeof path, "%s/data.bin", dir);
        uint8_t data[20000];
        for (size_t i = 0; i < sizeof data; i++)
                data[i] = (uint8_t)(i * 7);
        struct qerr_info ei = {0};
        assert_int_equal(fs_write_file(path, data, sizeof data, 0600, true, &ei), QERR_OK);

        struct qbuf b;
        qbuf_init(&b, sizeof data);
        assert_int_equal(fs_read_file(path, &b, &ei), QERR_OK);
        assert_int_equal(b.len, sizeof data);
        assert_memory_equal(b.data, data, sizeof data);
        qbuf_free(&b);

        qbuf_init(&b, sizeof data - 1);
        enum qerr rc = fs_read_file(path, &b, &ei);
        assert_int_not_equal(rc, QERR_OK);
        assert_int_equal(ei.code, rc);
        assert_non_null(strstr(qerr_message(&ei), path));
        qbuf_free(&b);

        char missing[128];
        snprintf(missing, sizeof missing, "%s/absent", dir);
        qbuf_init(&b, 64);
        assert_int_equal(fs_read_file(missing, &b, &ei), QERR_IO);
        assert_non_null(strstr(qerr_message(&ei), missing));
        assert_int_equal(b.len, 0);
        qbuf_free(&b);
        assert_false(fs_exists(missing));
}

static void test_fs_mkdirs(void **state)
{
        const char *dir = *state;
        char path[128];
        snprintf(path, sizeof path, "%s/a/b/c", dir);
        struct qerr_info ei = {0};
        mode_t old = umask(022);
        assert_int_equal(fs_mkdirs(path, 0700, &ei), QERR_OK);
        assert_true(fs_is_dir(path));
        assert_int_equal(fs_mkdirs(path, 0700, &ei), QERR_OK);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        umask(old);
        assert_int_equal(fs_errno_qerr(ENOSPC), QERR_DISK_FULL);
        assert_int_equal(fs_errno_qerr(EDQUOT), QERR_DISK_FULL);
        assert_int_equal(fs_errno_qerr(EFBIG), QERR_DISK_FULL);
        assert_int_equal(fs_errno_qerr(EACCES), QERR_IO);
}

/* ---- model ---- */

static void test_model_names(void **state)
{
        (void)state;
        for (int i = 0; i < CERT_STATUS__COUNT; i++) {
                enum cert_status s = (enum cert_status) - 1;
                const char *name = cert_status_name((enum cert_status)i);
                assert_string_not_equal(name, "unknown");
                assert_true(cert_status_from_name(name, &s));
                assert_int_equal(s, i);
        }
        for (int i = 0; i < PROFILE__COUNT; i++) {
                enum cert_profile p = (enum cert_profile) - 1;
                const char *name = cert_profile_name((enum cert_profile)i);
                assert_string_not_equal(name, "unknown");
                assert_true(cert_profile_from_name(name, &p));
                assert_int_equal(p, i);
                assert_int_equal(cert_profile_is_public(p), p != PROFILE_PRIVATE);
        }
        static const int reasons[] = {REASON_UNSPECIFIED,         REASON_KEY_COMPROMISE,
                                      REASON_AFFILIATION_CHANGED, REASON_SUPERSEDED,
                                      REASON_CESSATION,           REASON_PRIVILEGE_WITHDRAWN};
        for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
                int r = -1;
                const char *name = revoke_reason_name(reasons[i]);
                assert_string_not_equal(name, "unknown");
                assert_true(revoke_reason_from_name(name, &r));
                assert_int_equal(r, reasons[i]);
        }
        assert_string_equal(cert_status_name(CERT_REVOCATION_PENDING), "revocation_pending");
        assert_string_equal(cert_profile_name(PROFILE_EV), "ev");
        assert_string_equal(revoke_reason_name(REASON_KEY_COMPROMISE), "keyCompromise");
        assert_string_equal(cert_origin_name(ORIGIN_ISSUED), "issued");
        assert_string_equal(cert_origin_name(ORIGIN_UPLOADED), "uploaded");

        enum cert_status s = CERT_ISSUED;
        enum cert_profile p = PROFILE_DV;
        int r = 7;
        static const char *const bogus[] = {"bogus",   "",   "unknown",      "Issued",
                                            "issued ", "DV", "keycompromise"};
        for (size_t i = 0; i < sizeof bogus / sizeof bogus[0]; i++) {
                assert_false(cert_status_from_name(bogus[i], &s));
                assert_false(cert_profile_from_name(bogus[i], &p));
                assert_false(revoke_reason_from_name(bogus[i], &r));
        }
        assert_int_equal(s, CERT_ISSUED);
        assert_int_equal(p, PROFILE_DV);
        assert_int_equal(r, 7);
        /* 2 (cACompromise), 6 (certificateHold), 8 (removeFromCRL) are not offered */
        assert_string_equal(revoke_reason_name(2), "unknown");
        assert_string_equal(revoke_reason_name(6), "unknown");
        assert_string_equal(revoke_reason_name(8), "unknown");
        assert_string_equal(revoke_reason_name(-1), "unknown");
        assert_string_equal(cert_status_name(CERT_STATUS__COUNT), "unknown");
        assert_string_equal(cert_profile_name(PROFILE__COUNT), "unknown");
}

struct eff_case {
        const char *name;
        enum cert_status stored;
        qtime_t left; /* not_after - now */
        enum cert_status want;
};

static const struct eff_case eff_cases[] = {
    {"eff_issued_future", CERT_ISSUED, QTIME_DAY, CERT_ISSUED},
    {"eff_issued_at_not_after", CERT_ISSUED, 0, CERT_ISSUED},
    {"eff_issued_past", CERT_ISSUED, -1, CERT_EXPIRED},
    {"eff_reissuing_past", CERT_REISSUING, -QTIME_DAY, CERT_EXPIRED},
    {"eff_revoked_past", CERT_REVOKED, -QTIME_DAY, CERT_REVOKED},
    {"eff_revoked_future", CERT_REVOKED, QTIME_DAY, CERT_REVOKED},
    {"eff_pending_past", CERT_REVOCATION_PENDING, -QTIME_DAY, CERT_REVOCATION_PENDING},
    {"eff_deleted_past", CERT_DELETED, -QTIME_DAY, CERT_DELETED},
};

static void test_eff_row(void **state)
{
        const struct eff_case *k = *state;
        const qtime_t now = qtime_from_ymd(2026, 6, 1);
        struct cert_rec c;
        memset(&c, 0, sizeof c);
        c.status = k->stored;
        c.not_before = now - 90 * QTIME_DAY;
        c.not_after = now + k->left;
        c.revoke_reason = -1;
        enum cert_status got = cert_effective_status(&c, now);
        if (got != k->want)
                fail_msg("%s: got %s, want %s", k->name, cert_status_name(got),
                         cert_status_name(k->want));
        assert_int_equal(c.status, k->stored); /* derived, not stored */
}

static void test_model_free_null(void **state)
{
        (void)state;
        cert_rec_free(NULL);
        ca_rec_free(NULL);
        event_rec_clear(NULL);
        struct cert_rec *c = calloc(1, sizeof *c);
        assert_non_null(c);
        c->names = calloc(2, sizeof *c->names);
        assert_non_null(c->names);
        c->names[0] = strdup("a.example");
        c->names[1] = strdup("b.example");
        c->nnames = 2;
        c->key_blob = malloc(4);
        assert_non_null(c->key_blob);
        memcpy(c->key_blob, "k3y!", 4);
        c->key_blob_len = 4;
        c->issuer = strdup("CN=x");
        cert_rec_free(c); /* LeakSanitizer checks that everything went */
}

/* ---- log ---- */

struct esc_case {
        const char *name;
        const char *in;
        const char *want;
};

static const struct esc_case esc_cases[] = {
    {"esc_plain", "cert issued", "\"cert issued\""},
    {"esc_empty", "", "\"\""},
    {"esc_null", NULL, "\"\""},
    {"esc_quote", "say \"hi\"", "\"say \\\"hi\\\"\""},
    {"esc_backslash", "a\\b", "\"a\\\\b\""},
    {"esc_newline", "line1\nlevel=error msg=forged", "\"line1\\x0alevel=error msg=forged\""},
    {"esc_cr_tab", "a\r\tb", "\"a\\x0d\\x09b\""},
    {"esc_del", "x\x7fy", "\"x\\x7fy\""},
    {"esc_high_bytes", "caf\xc3\xa9", "\"caf\\xc3\\xa9\""},
    {"esc_ff", "\xff", "\"\\xff\""},
    {"esc_escape_char", "\x1b[31m", "\"\\x1b[31m\""},
};

static void test_esc_row(void **state)
{
        const struct esc_case *k = *state;
        char out[256];
        assert_ptr_equal(qlog_escape(k->in, out, sizeof out), out);
        assert_string_equal(out, k->want);
        for (const char *p = out; *p; p++)
                if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                        fail_msg("%s: raw byte 0x%02x in output", k->name, (unsigned char)*p);
}

/* Length of the escape of one input byte. */
static size_t esc_len(unsigned char c)
{
        if (c == '"' || c == '\\')
                return 2;
        return c < 0x20 || c >= 0x7f ? 4 : 1;
}

static void test_esc_small_buffers(void **state)
{
        (void)state;
        static const char *const inputs[] = {"abc\"def\\ghi\njkl\x7fmno\xffpqr", "\n\n\n\n\n\n\n\n",
                                             "plain text here", ""};
        for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
                char full[512];
                qlog_escape(inputs[k], full, sizeof full);
                size_t flen = strlen(full);
                for (size_t sz = 0; sz <= flen + 2; sz++) {
                        /* exactly sz bytes on the heap: ASan sees any overrun */
                        char *out = malloc(sz ? sz : 1);
                        assert_non_null(out);
                        out[0] = 'Z';
                        qlog_escape(inputs[k], out, sz);
                        if (sz == 0) {
                                assert_int_equal(out[0], 'Z');
                                free(out);
                                continue;
                        }
                        size_t len = strnlen(out, sz);
                        if (len >= sz)
                                fail_msg("input %zu, size %zu: not NUL-terminated", k, sz);
                        if (sz >= 4) {
                                /* quoted, a prefix of the full escape, cut
                                 * between two escapes */
                                assert_true(len >= 2);
                                assert_int_equal(out[0], '"');
                                assert_int_equal(out[len - 1], '"');
                                assert_int_equal(strncmp(out, full, len - 1), 0);
                                size_t body = len - 2, at = 0;
                                for (const char *p = inputs[k]; *p && at < body; p++)
                                        at += esc_len((unsigned char)*p);
                                if (at != body)
                                        fail_msg("input %zu, size %zu: cut inside an escape", k,
                                                 sz);
                        }
                        if (sz >= 4 && sz == flen + 1)
                                assert_string_equal(out, full);
                        free(out);
                }
        }
}

/* ---- main ---- */

struct table {
        const void *rows;
        size_t n, rowsz;
        CMUnitTestFunction fn;
};

#define TABLE(a, f)                                                                                \
        {                                                                                          \
                a, sizeof a / sizeof a[0], sizeof a[0], f                                          \
        }

int main(void)
{
        const struct table tables[] = {
            TABLE(time_cases, test_time_row), TABLE(bad_time_cases, test_bad_time_row),
            TABLE(hex_cases, test_hex_row),   TABLE(eff_cases, test_eff_row),
            TABLE(esc_cases, test_esc_row),
        };
        const struct CMUnitTest singles[] = {
            cmocka_unit_test(test_err_table),
            cmocka_unit_test(test_err_set_and_message),
            cmocka_unit_test(test_qbuf_bounded_append),
            cmocka_unit_test(test_qbuf_printf_bounded),
            cmocka_unit_test(test_qbuf_extend),
            cmocka_unit_test(test_http_date),
            cmocka_unit_test(test_qbuf_take),
            cmocka_unit_test(test_qtime_misc),
            cmocka_unit_test(test_hex_refusals),
            cmocka_unit_test(test_hex_sha256),
            cmocka_unit_test_setup_teardown(test_fs_write_excl, setup_dir, teardown_dir),
            cmocka_unit_test_setup_teardown(test_fs_read_limits, setup_dir, teardown_dir),
            cmocka_unit_test_setup_teardown(test_fs_mkdirs, setup_dir, teardown_dir),
            cmocka_unit_test(test_model_names),
            cmocka_unit_test(test_model_free_null),
            cmocka_unit_test(test_esc_small_buffers),
        };
        const size_t nsingles = sizeof singles / sizeof singles[0];
        size_t total = nsingles;
        for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
                total += tables[t].n;
        struct CMUnitTest *tests = calloc(total, sizeof *tests);
        if (!tests)
                return 1;
        size_t k = 0;
        for (size_t i = 0; i < nsingles; i++)
                tests[k++] = singles[i];
        for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
                for (size_t i = 0; i < tables[t].n; i++) {
                        const void *row = (const char *)tables[t].rows + i * tables[t].rowsz;
                        tests[k].name = *(const char *const *)row;
                        tests[k].test_func = tables[t].fn;
                        tests[k].initial_state = (void *)row;
                        k++;
                }
        const int failed = _cmocka_run_group_tests("base", tests, total, NULL, NULL);
        free(tests);
        return failed;
}
