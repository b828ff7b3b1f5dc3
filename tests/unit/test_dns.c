/*
 * test_dns.c - src/dns without a DNS server: the TXT character-string reader
 * (a table of cases, each its own cmocka test), status names and the
 * sentences users read, argument checks of the resolver, and one resolver
 * asked through a forwarder that does not exist (127.0.0.1 on a closed
 * port), which must fail quickly and never look like an answer.
 *
 * The lookups against real servers are in tests/system/test_dns.py and
 * test_caa.py (Knot DNS + Unbound).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/dns.h"

/* ---- dns_txt_join ---- */

struct txt_case {
        const char *name;
        const char *rdata; /* bytes (may hold NULs: `len` counts) */
        size_t len;
        bool ok;
        const char *want; /* joined text when ok */
};

static const struct txt_case txt_cases[] = {
    {"txt_one_string", "\x05hello", 6, true, "hello"},
    {"txt_two_strings_joined",
     "\x03"
     "abc"
     "\x04"
     "defg",
     9, true, "abcdefg"},
    {"txt_empty_string", "\x00", 1, true, ""},
    {"txt_empty_between",
     "\x01"
     "a"
     "\x00"
     "\x01"
     "b",
     5, true, "ab"},
    {"txt_spaces_kept",
     "\x07"
     "a b  c ",
     8, true, "a b  c "},
    {"txt_no_rdata", "", 0, false, NULL},
    {"txt_overlong_length",
     "\x05"
     "abc",
     4, false, NULL},
    {"txt_overlong_second",
     "\x01"
     "a"
     "\x09"
     "bc",
     5, false, NULL},
    {"txt_length_byte_only", "\x01", 1, false, NULL},
    {"txt_embedded_nul",
     "\x03"
     "a\0b",
     4, false, NULL},
    {"txt_nul_in_second",
     "\x01"
     "a"
     "\x01"
     "\0",
     4, false, NULL},
};

static void test_txt_case(void **state)
{
        const struct txt_case *c = *state;
        struct qbuf b;
        qbuf_init(&b, 1024);
        /* whatever was in the buffer before stays there */
        assert_true(qbuf_append_str(&b, "prefix:"));
        bool ok = dns_txt_join((const uint8_t *)c->rdata, c->len, &b);
        assert_int_equal(ok, c->ok);
        if (c->ok) {
                char want[64];
                snprintf(want, sizeof want, "prefix:%s", c->want);
                assert_string_equal(qbuf_str(&b), want);
        } else {
                assert_string_equal(qbuf_str(&b), "prefix:");
                assert_int_equal(b.len, 7);
        }
        qbuf_free(&b);
}

static void test_txt_full_255(void **state)
{
        (void)state;
        uint8_t rd[256 * 2];
        rd[0] = 255;
        memset(rd + 1, 'x', 255);
        rd[256] = 255;
        memset(rd + 257, 'y', 255);
        struct qbuf b;
        qbuf_init(&b, 4096);
        assert_true(dns_txt_join(rd, sizeof rd, &b));
        assert_int_equal(b.len, 510);
        assert_int_equal(b.data[0], 'x');
        assert_int_equal(b.data[509], 'y');
        qbuf_free(&b);
}

static void test_txt_buffer_limit(void **state)
{
        (void)state;
        struct qbuf b;
        qbuf_init(&b, 4); /* the join needs 6 bytes */
        assert_false(dns_txt_join((const uint8_t *)"\x03"
                                                   "abc"
                                                   "\x03"
                                                   "def",
                                  8, &b));
        assert_int_equal(b.len, 0);
        qbuf_free(&b);
}

/* ---- names and sentences ---- */

static void test_status_names(void **state)
{
        (void)state;
        static const struct {
                enum dns_status s;
                const char *name;
        } t[] = {
            {DNS_OK, "ok"},
            {DNS_NODATA, "nodata"},
            {DNS_NXDOMAIN, "nxdomain"},
            {DNS_SERVFAIL, "servfail"},
            {DNS_TIMEOUT, "timeout"},
            {DNS_TRUNCATED, "truncated"},
            {DNS_BOGUS, "bogus"},
            {DNS_FAILURE, "failure"},
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
                assert_string_equal(dns_status_name(t[i].s), t[i].name);
        assert_string_equal(dns_status_name((enum dns_status)99), "failure");
}

static struct dns_result result_of(enum dns_status s, int rcode, int ede, const char *why)
{
        struct dns_result r;
        memset(&r, 0, sizeof r);
        r.status = s;
        r.rcode = rcode;
        r.ede = ede;
        snprintf(r.why, sizeof r.why, "%s", why);
        return r;
}

static void expect_describe(struct dns_result r, const char *want)
{
        char out[512];
        dns_result_describe(&r, out, sizeof out);
        if (strcmp(out, want) != 0)
                fail_msg("describe: got \"%s\", want \"%s\"", out, want);
}

static void test_describe(void **state)
{
        (void)state;
        expect_describe(result_of(DNS_SERVFAIL, 2, -1, ""), "SERVFAIL");
        expect_describe(result_of(DNS_SERVFAIL, 5, -1, "from forwarder 127.0.0.1:53"),
                        "SERVFAIL (rcode REFUSED): from forwarder 127.0.0.1:53");
        expect_describe(result_of(DNS_SERVFAIL, 2, 22, ""), "SERVFAIL (EDE 22)");
        expect_describe(result_of(DNS_TIMEOUT, -1, -1, "after 5000 ms"), "timeout after 5000 ms");
        expect_describe(result_of(DNS_TIMEOUT, -1, -1, ""), "timeout");
        expect_describe(result_of(DNS_BOGUS, 2, 9, "DS hash mismatches key"),
                        "DNSSEC bogus: DS hash mismatches key (EDE 9)");
        expect_describe(result_of(DNS_BOGUS, 2, -1, ""), "DNSSEC bogus: validation failed");
        expect_describe(result_of(DNS_NXDOMAIN, 3, -1, ""), "NXDOMAIN (the name does not exist)");
        expect_describe(result_of(DNS_NODATA, 0, -1, ""), "no records of that type");
        expect_describe(result_of(DNS_TRUNCATED, 0, -1, ""), "truncated answer");
        expect_describe(result_of(DNS_FAILURE, -1, -1, "out of memory"),
                        "DNS lookup failed: out of memory");
        struct dns_result ok = result_of(DNS_OK, 0, -1, "");
        ok.nrrs = 2;
        ok.secure = true;
        expect_describe(ok, "answer with 2 records (DNSSEC secure)");
        /* truncated output stays a string */
        char small[8];
        struct dns_result b = result_of(DNS_BOGUS, 2, 9, "a long reason");
        dns_result_describe(&b, small, sizeof small);
        assert_int_equal(strlen(small), sizeof small - 1);
}

/* ---- the resolver ---- */

static enum qerr new_resolver(const char *fwd, long timeout_ms, const char *ta,
                              struct dns_resolver **r, struct qerr_info *ei)
{
        struct dns_opts o = {fwd, timeout_ms, 0, ta};
        qerr_clear(ei);
        return dns_resolver_new(&o, r, ei);
}

static void test_bad_forwarders(void **state)
{
        (void)state;
        static const char *const bad[] = {"dns.example:53",  "127.0.0.1:",   "127.0.0.1:0",
                                          "127.0.0.1:65536", "127.0.0.1:5x", "[::1",
                                          "[::1]x",          ":53",          "[]:53"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct dns_resolver *r = (struct dns_resolver *)1;
                struct qerr_info ei;
                enum qerr rc = new_resolver(bad[i], 300, NULL, &r, &ei);
                if (rc != QERR_CONFIG)
                        fail_msg("forwarder '%s': got %d, want QERR_CONFIG", bad[i], rc);
                assert_null(r);
                assert_int_equal(ei.code, QERR_CONFIG);
                assert_non_null(strstr(ei.msg, "resolver"));
        }
        static const char *const good[] = {"127.0.0.1:53", "127.0.0.1", "[::1]:5353", "::1"};
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
                struct dns_resolver *r = NULL;
                struct qerr_info ei;
                if (new_resolver(good[i], 300, NULL, &r, &ei) != QERR_OK)
                        fail_msg("forwarder '%s' refused: %s", good[i], ei.msg);
                dns_resolver_free(r);
        }
}

static void test_bad_trust_anchor(void **state)
{
        (void)state;
        struct dns_resolver *r = NULL;
        struct qerr_info ei;
        assert_int_equal(new_resolver("127.0.0.1:53", 300, "/nonexistent/anchor", &r, &ei),
                         QERR_CONFIG);
        assert_null(r);
        assert_non_null(strstr(ei.msg, "/nonexistent/anchor"));

        char path[] = "/tmp/quill-test-dns-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        const char junk[] = "this is not a trust anchor\n";
        assert_int_equal(write(fd, junk, sizeof junk - 1), (ssize_t)(sizeof junk - 1));
        close(fd);
        assert_int_equal(new_resolver("127.0.0.1:53", 300, path, &r, &ei), QERR_CONFIG);
        assert_null(r);
        assert_non_null(strstr(ei.msg, "trust_anchor_file"));
        unlink(path);
}

static void test_bad_names(void **state)
{
        (void)state;
        struct dns_resolver *r = NULL;
        struct qerr_info ei;
        assert_int_equal(new_resolver("127.0.0.1:53", 300, NULL, &r, &ei), QERR_OK);
        char long_label[80];
        memset(long_label, 'a', 64);
        snprintf(long_label + 64, sizeof long_label - 64, ".test");
        static const char *const bad[] = {"",         ".",        "a..b",     ".a.b",
                                          "a b.test", "a\\.test", "a\"b.test"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0] + 1; i++) {
                const char *n = i < sizeof bad / sizeof bad[0] ? bad[i] : long_label;
                struct dns_result res;
                enum qerr rc = dns_lookup(r, n, DNS_TYPE_CAA, &res, &ei);
                if (rc != QERR_USAGE)
                        fail_msg("name '%s': got %d, want QERR_USAGE", n, rc);
                assert_int_equal(res.status, DNS_FAILURE);
                assert_int_equal(res.nrrs, 0);
                dns_result_clear(&res);
        }
        dns_resolver_free(r);
        dns_resolver_free(NULL);
}

static int closed_port(void)
{
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        assert_true(s >= 0);
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
        socklen_t len = sizeof a;
        assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
        close(s);
        return ntohs(a.sin_port);
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_unreachable_forwarder(void **state)
{
        (void)state;
        char fwd[32];
        snprintf(fwd, sizeof fwd, "127.0.0.1:%d", closed_port());
        struct dns_resolver *r = NULL;
        struct qerr_info ei;
        assert_int_equal(new_resolver(fwd, 300, NULL, &r, &ei), QERR_OK);
        for (int round = 0; round < 2; round++) {
                struct dns_result res;
                double t0 = now_s();
                assert_int_equal(dns_lookup(r, "www.example.test", DNS_TYPE_CAA, &res, &ei),
                                 QERR_OK);
                double took = now_s() - t0;
                assert_true(took < 2.0);
                assert_int_not_equal(res.status, DNS_OK);
                assert_true(res.status == DNS_TIMEOUT || res.status == DNS_SERVFAIL);
                assert_int_equal(res.nrrs, 0);
                assert_null(res.rrs);
                char d[256];
                dns_result_describe(&res, d, sizeof d);
                assert_true(strncmp(d, "timeout", 7) == 0 || strncmp(d, "SERVFAIL", 8) == 0);
                if (res.status == DNS_TIMEOUT)
                        assert_string_equal(d, "timeout after 300 ms");
                dns_result_clear(&res);
        }
        dns_resolver_free(r);
}

int main(void)
{
        static const struct CMUnitTest singles[] = {
            cmocka_unit_test(test_txt_full_255),   cmocka_unit_test(test_txt_buffer_limit),
            cmocka_unit_test(test_status_names),   cmocka_unit_test(test_describe),
            cmocka_unit_test(test_bad_forwarders), cmocka_unit_test(test_bad_trust_anchor),
            cmocka_unit_test(test_bad_names),      cmocka_unit_test(test_unreachable_forwarder),
        };
        const size_t nsingles = sizeof singles / sizeof singles[0];
        const size_t ntxt = sizeof txt_cases / sizeof txt_cases[0];
        struct CMUnitTest *tests = calloc(nsingles + ntxt, sizeof *tests);
        if (!tests)
                return 1;
        for (size_t i = 0; i < ntxt; i++) {
                tests[i].name = txt_cases[i].name;
                tests[i].test_func = test_txt_case;
                tests[i].initial_state = (void *)&txt_cases[i];
        }
        for (size_t i = 0; i < nsingles; i++)
                tests[ntxt + i] = singles[i];
        const int failed = _cmocka_run_group_tests("dns", tests, nsingles + ntxt, NULL, NULL);
        free(tests);
        return failed;
}
