/*
 * test_http_route.c - the router's pure parsers (src/http/route.c): pattern
 * compilation, matching with captures, percent-decoding and query strings,
 * as tables of cases, good and bad.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "http/route.h"

/* ---- patterns ---- */

static void test_compile(void **st)
{
        (void)st;
        static const struct {
                const char *pattern;
                bool ok;
                size_t nsegs, nparams;
        } cases[] = {
            {"/healthz", true, 1, 0},
            {"/", true, 1, 0},
            {"/ca/{file}", true, 2, 1},
            {"/crl/{ca}/{file}", true, 3, 2},
            {"/ocsp/*", true, 2, 1},
            {"/*", true, 1, 1},
            {"/api/v1/certificates/{id}/revoke", true, 5, 1},
            {"/a/{b}/{c}/{d}/{e}", true, 5, 4},
            {"/a/{b}/{c}/{d}/{e}/{f}", false, 0, 0}, /* more than HTTP_MAX_PARAMS */
            {"", false, 0, 0},
            {NULL, false, 0, 0},
            {"healthz", false, 0, 0},
            {"/ocsp/*/x", false, 0, 0},
            {"/ocsp/x*", false, 0, 0},
            {"/a/{}", false, 0, 0},
            {"/a/{b", false, 0, 0},
            {"/a/b}", false, 0, 0},
            {"/a/{b}c", false, 0, 0},
            {"/a/{{b}}", false, 0, 0},
            {"/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16", true, 16, 0},
            {"/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17", false, 0, 0},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct http_pattern p;
                bool ok = http_pattern_compile(cases[i].pattern, &p);
                if (ok != cases[i].ok)
                        fail_msg("pattern %s: compile %d, expected %d", cases[i].pattern, ok,
                                 cases[i].ok);
                if (ok) {
                        assert_int_equal(p.nsegs, cases[i].nsegs);
                        assert_int_equal(p.nparams, cases[i].nparams);
                }
        }
}

static void test_match(void **st)
{
        (void)st;
        static const struct {
                const char *pattern, *path;
                bool match;
                const char *p0, *p1;
        } cases[] = {
            {"/healthz", "/healthz", true, NULL, NULL},
            {"/healthz", "/healthz/", false, NULL, NULL},
            {"/healthz", "/healthzz", false, NULL, NULL},
            {"/healthz", "/health", false, NULL, NULL},
            {"/healthz", "/%68ealthz", false, NULL, NULL}, /* literals are raw */
            {"/healthz", "healthz", false, NULL, NULL},
            {"/healthz", "", false, NULL, NULL},
            {"/", "/", true, NULL, NULL},
            {"/", "/x", false, NULL, NULL},
            {"/ca/{file}", "/ca/2.pem", true, "2.pem", NULL},
            {"/ca/{file}", "/ca/", false, NULL, NULL}, /* a capture is never empty */
            {"/ca/{file}", "/ca", false, NULL, NULL},
            {"/ca/{file}", "/ca/2.pem/x", false, NULL, NULL},
            {"/ca/{file}", "/ca/a%2Fb", true, "a/b", NULL},
            {"/ca/{file}", "/ca/a+b", true, "a+b", NULL}, /* '+' is not a space in paths */
            {"/ca/{file}", "/ca/%e2%82%ac", true, "\xe2\x82\xac", NULL},
            {"/ca/{file}", "/ca/%zz", false, NULL, NULL},
            {"/ca/{file}", "/ca/%4", false, NULL, NULL},
            {"/ca/{file}", "/ca/%", false, NULL, NULL},
            {"/ca/{file}", "/ca/a%00b", false, NULL, NULL},
            {"/crl/{ca}/{file}", "/crl/2/3.crl", true, "2", "3.crl"},
            {"/crl/{ca}/{file}", "/crl/2//3.crl", false, NULL, NULL},
            {"/crl/{ca}/{file}", "/crl//3.crl", false, NULL, NULL},
            {"/ocsp/*", "/ocsp/", true, "", NULL},
            {"/ocsp/*", "/ocsp/MFQw%2BUjBQ/x==", true, "MFQw+UjBQ/x==", NULL},
            {"/ocsp/*", "/ocsp", false, NULL, NULL},
            {"/ocsp/*", "/ocspx/a", false, NULL, NULL},
            {"/ocsp/*", "/ocsp/%G0", false, NULL, NULL},
            {"/*", "/anything/at/all", true, "anything/at/all", NULL},
            {"/a/{id}/revoke", "/a/7/revoke", true, "7", NULL},
            {"/a/{id}/revoke", "/a/7/revoked", false, NULL, NULL},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct http_pattern p;
                assert_true(http_pattern_compile(cases[i].pattern, &p));
                char buf[512];
                const char *params[HTTP_MAX_PARAMS] = {NULL};
                size_t np = 99;
                bool m =
                    http_pattern_match(&p, cases[i].path, buf,
                                       strlen(cases[i].path) + HTTP_MAX_PARAMS + 1, params, &np);
                if (m != cases[i].match)
                        fail_msg("%s vs %s: match %d, expected %d", cases[i].pattern, cases[i].path,
                                 m, cases[i].match);
                if (!m)
                        continue;
                assert_int_equal(np, p.nparams);
                if (cases[i].p0)
                        assert_string_equal(params[0], cases[i].p0);
                if (cases[i].p1)
                        assert_string_equal(params[1], cases[i].p1);
        }
}

static void test_match_small_buffer(void **st)
{
        (void)st;
        struct http_pattern p;
        assert_true(http_pattern_compile("/a/{x}/{y}", &p));
        char buf[4];
        const char *params[HTTP_MAX_PARAMS];
        size_t np;
        /* too small for the captures: no match, no overflow (ASan watches) */
        assert_false(http_pattern_match(&p, "/a/xyz/uvw", buf, sizeof buf, params, &np));
        assert_false(http_pattern_match(&p, "/a/xyz/uvw", buf, 0, params, &np));
}

/* ---- percent-decoding ---- */

static void test_pct_decode(void **st)
{
        (void)st;
        static const struct {
                const char *in;
                bool plus;
                long want;
                const char *out;
        } cases[] = {
            {"", false, 0, ""},
            {"abc", false, 3, "abc"},
            {"a%20b", false, 3, "a b"},
            {"a+b", false, 3, "a+b"},
            {"a+b", true, 3, "a b"},
            {"%2b", true, 1, "+"},
            {"%41%4a%4A", false, 3, "AJJ"},
            {"%", false, -1, NULL},
            {"%4", false, -1, NULL},
            {"a%4", false, -1, NULL},
            {"%4g", false, -1, NULL},
            {"%g4", false, -1, NULL},
            {"%00", false, -1, NULL},
            {"%ff", false, 1, "\xff"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char out[32];
                long n = http_pct_decode(cases[i].in, strlen(cases[i].in), out, sizeof out,
                                         cases[i].plus);
                if (n != cases[i].want)
                        fail_msg("decode %s: %ld, expected %ld", cases[i].in, n, cases[i].want);
                if (n >= 0)
                        assert_string_equal(out, cases[i].out);
        }
        /* an embedded raw NUL byte is refused too */
        char out[8];
        assert_int_equal(http_pct_decode("a\0b", 3, out, sizeof out, false), -1);
        /* no room: -2, the NUL counts */
        assert_int_equal(http_pct_decode("abcd", 4, out, 4, false), -2);
        assert_int_equal(http_pct_decode("abc", 3, out, 4, false), 3);
        assert_int_equal(http_pct_decode("", 0, out, 0, false), -2);
}

/* ---- query strings ---- */

static void test_query(void **st)
{
        (void)st;
        static const struct {
                const char *query, *name;
                enum http_query_result want;
                const char *value;
        } cases[] = {
            {"", "a", HTTP_QUERY_ABSENT, NULL},
            {"a=1", "a", HTTP_QUERY_FOUND, "1"},
            {"a=1&b=2", "b", HTTP_QUERY_FOUND, "2"},
            {"a=1&a=2", "a", HTTP_QUERY_FOUND, "1"}, /* the first wins */
            {"ab=1&a=2", "a", HTTP_QUERY_FOUND, "2"},
            {"a", "a", HTTP_QUERY_FOUND, ""},
            {"a=", "a", HTTP_QUERY_FOUND, ""},
            {"a=x%20y+z", "a", HTTP_QUERY_FOUND, "x y z"},
            {"a=x%2By", "a", HTTP_QUERY_FOUND, "x+y"},
            {"na%6De=v", "name", HTTP_QUERY_FOUND, "v"},
            {"a=b=c", "a", HTTP_QUERY_FOUND, "b=c"},
            {"&&a=1&&", "a", HTTP_QUERY_FOUND, "1"},
            {"a=%zz&a=2", "a", HTTP_QUERY_ABSENT, NULL}, /* the first decides */
            {"a=%00", "a", HTTP_QUERY_ABSENT, NULL},
            {"b=1", "a", HTTP_QUERY_ABSENT, NULL},
            {"A=1", "a", HTTP_QUERY_ABSENT, NULL}, /* names are case-sensitive */
            {"a=0123456789abcdef", "a", HTTP_QUERY_TOO_LONG, NULL},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char buf[16];
                enum http_query_result r =
                    http_query_find(cases[i].query, cases[i].name, buf, sizeof buf);
                if (r != cases[i].want)
                        fail_msg("query %s, %s: %d, expected %d", cases[i].query, cases[i].name,
                                 (int)r, (int)cases[i].want);
                if (r == HTTP_QUERY_FOUND)
                        assert_string_equal(buf, cases[i].value);
        }
        char buf[8];
        assert_int_equal(http_query_find(NULL, "a", buf, sizeof buf), HTTP_QUERY_ABSENT);
        assert_int_equal(http_query_find("a=1", NULL, buf, sizeof buf), HTTP_QUERY_ABSENT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_compile),
            cmocka_unit_test(test_match),
            cmocka_unit_test(test_match_small_buffer),
            cmocka_unit_test(test_pct_decode),
            cmocka_unit_test(test_query),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
