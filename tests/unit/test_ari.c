/*
 * test_ari.c - ACME Renewal Information (src/policy/ari.c, RFC 9773): the
 * certID parser and encoder (the RFC's own example, then a table of bad
 * inputs), and the suggested window for ordinary certificates of each
 * profile's lifetime and for certificates that must be replaced. Times are
 * fixed instants; nothing reads the clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy/ari.h"

#define DAY QTIME_DAY

/* RFC 9773 section 4.1: AKI keyIdentifier 69:88:5B:6B:87:46:40:41:E1:B3:
 * 7B:84:7B:A0:AE:2C:DE:01:C8:D4, serial 00:87:65:43:21. */
static const uint8_t rfc_keyid[20] = {0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
                                      0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4};
#define RFC_CERTID "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"

static void test_rfc_example(void **state)
{
        (void)state;
        struct ari_certid id;
        struct qerr_info ei;
        assert_int_equal(ari_certid_parse(RFC_CERTID, strlen(RFC_CERTID), &id, &ei), QERR_OK);
        assert_int_equal(id.keyid_len, 20);
        assert_memory_equal(id.keyid, rfc_keyid, 20);
        assert_int_equal(id.serial_len, 5);
        assert_memory_equal(id.serial, "\x00\x87\x65\x43\x21", 5);
        char hex[41], text[ARI_CERTID_MAX + 1];
        assert_string_equal(ari_certid_serial_hex(&id, hex), "87654321");
        assert_true(ari_certid_encode(&id, text, sizeof text));
        assert_string_equal(text, RFC_CERTID);

        /* from the store's serial (magnitude, leading zeros dropped) */
        struct ari_certid built;
        const uint8_t mag[] = {0x00, 0x00, 0x87, 0x65, 0x43, 0x21};
        assert_true(ari_certid_from_parts(rfc_keyid, 20, mag, sizeof mag, &built));
        assert_true(ari_certid_encode(&built, text, sizeof text));
        assert_string_equal(text, RFC_CERTID);
        /* a serial without the high bit gets no zero octet */
        const uint8_t small[] = {0x40, 0x01};
        assert_true(ari_certid_from_parts(rfc_keyid, 20, small, sizeof small, &built));
        assert_int_equal(built.serial_len, 2);
        assert_string_equal(ari_certid_serial_hex(&built, hex), "4001");
        /* nothing to build from */
        const uint8_t zero[] = {0, 0};
        assert_false(ari_certid_from_parts(rfc_keyid, 20, zero, sizeof zero, &built));
        assert_false(ari_certid_from_parts(rfc_keyid, 0, small, sizeof small, &built));
        uint8_t big[21];
        memset(big, 1, sizeof big);
        assert_false(ari_certid_from_parts(rfc_keyid, 20, big, sizeof big, &built));
        assert_true(ari_certid_from_parts(rfc_keyid, 20, big, 20, &built));
        assert_false(ari_certid_encode(&built, text, 10)); /* does not fit */
        assert_string_equal(text, "");
        /* the service's 16-byte serials round-trip */
        const uint8_t ours[16] = {0x4f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
        assert_true(ari_certid_from_parts(rfc_keyid, 20, ours, sizeof ours, &built));
        assert_true(ari_certid_encode(&built, text, sizeof text));
        assert_int_equal(ari_certid_parse(text, strlen(text), &id, &ei), QERR_OK);
        assert_string_equal(ari_certid_serial_hex(&id, hex), "4f0102030405060708090a0b0c0d0e0f");
}

static void test_bad_certids(void **state)
{
        (void)state;
        char toolong[ARI_CERTID_MAX + 2];
        memset(toolong, 'A', sizeof toolong - 1);
        toolong[10] = '.';
        toolong[sizeof toolong - 1] = '\0';
        char serial21[64];
        /* 21 octets: 0x01 then twenty 0x00 -> base64url "AQAAAA..." */
        snprintf(serial21, sizeof serial21, "aYhb.AQAAAAAAAAAAAAAAAAAAAAAAAAAA");
        static const struct {
                const char *text, *says;
        } fixed[] = {
            {"", "names no certificate"},
            {"aYhba4dGQEHhs3uEe6CuLN4ByNQ", "joined by one \".\""},
            {"aYhb.AIdl.QyE", "joined by one \".\""},
            {".AIdlQyE", "keyIdentifier part"},
            {"aYhba4dGQEHhs3uEe6CuLN4ByNQ.", "serial part"},
            {"aYhba4dGQEHhs3uEe6CuLN4ByNQ=.AIdlQyE", "keyIdentifier part"}, /* padding */
            {"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE=", "serial part"},
            {"aYhba4dGQEHhs3uEe6CuLN4ByNR.AIdlQyE", "keyIdentifier part"}, /* unused bits */
            {"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyF", "serial part"},
            {"aYhb+a4d.AIdlQyE", "keyIdentifier part"}, /* standard alphabet */
            {"aYhb a4d.AIdlQyE", "keyIdentifier part"},
            {"aYhb.A", "serial part"}, /* a length no base64 has */
            {"aYhb.gA", "negative"},
            {"aYhb.AAE", "leading zero octet"},
            {"aYhb.AA", "is zero"},
            {"aYhb.AAA", "leading zero octet"},
        };
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] + 2; i++) {
                const char *text = i < sizeof fixed / sizeof fixed[0]    ? fixed[i].text
                                   : i == sizeof fixed / sizeof fixed[0] ? toolong
                                                                         : serial21;
                const char *says = i < sizeof fixed / sizeof fixed[0]    ? fixed[i].says
                                   : i == sizeof fixed / sizeof fixed[0] ? "characters long"
                                                                         : "has 21 octets";
                struct ari_certid id;
                memset(&id, 0x5a, sizeof id);
                struct qerr_info ei;
                qerr_clear(&ei);
                enum qerr rc = ari_certid_parse(text, strlen(text), &id, &ei);
                if (rc != QERR_MALFORMED || ei.code != QERR_MALFORMED || !strstr(ei.msg, says))
                        fail_msg("\"%s\": %s \"%s\", want \"%s\"", text, qerr_code(rc), ei.msg,
                                 says);
                assert_int_equal(id.keyid_len, 0x5a5a5a5a5a5a5a5aULL); /* untouched */
        }
        /* a NUL inside the given length is not base64url */
        struct ari_certid id;
        struct qerr_info ei;
        assert_int_equal(ari_certid_parse("aYhb\0a4d.AIdlQyE", 16, &id, &ei), QERR_MALFORMED);
        assert_int_equal(ari_certid_parse(NULL, 0, &id, &ei), QERR_MALFORMED);
        /* the length bounds the read: a longer buffer is fine */
        assert_int_equal(ari_certid_parse(RFC_CERTID "garbage", strlen(RFC_CERTID), &id, &ei),
                         QERR_OK);
}

/* ---- the window ---- */

static void expect_window(qtime_t nb, qtime_t life, qtime_t ideal_at, qtime_t margin)
{
        struct ari_facts f = {.not_before = nb, .not_after = nb + life - 1, .now = nb};
        struct ari_window w;
        ari_window(&f, &w);
        assert_false(w.replace_now);
        assert_null(w.why);
        if (w.start != nb + ideal_at - margin || w.end != nb + ideal_at + margin)
                fail_msg("life %lld: window [%lld, %lld], want [%lld, %lld]", (long long)life,
                         (long long)(w.start - nb), (long long)(w.end - nb),
                         (long long)(ideal_at - margin), (long long)(ideal_at + margin));
        /* inside the validity, after its start */
        assert_true(w.start > nb && w.end < nb + life - 1 && w.start < w.end);
}

static void test_window_normal(void **state)
{
        (void)state;
        qtime_t nb = qtime_from_ymd(2026, 6, 1);
        /* 90 days: ideal at 60 days (a third left), 0.9 days each side */
        expect_window(nb, 90 * DAY, 60 * DAY, 90 * DAY / 100);
        /* classic on 2026-06-01: 200 days -> at 200 - 66.67 days */
        expect_window(nb, 200 * DAY, 200 * DAY - 200 * DAY / 3, 2 * DAY);
        /* 47 days (2029) and tlsserver's 45 days: two thirds */
        expect_window(nb, 47 * DAY, 47 * DAY - 47 * DAY / 3, 47 * DAY / 100);
        expect_window(nb, 45 * DAY, 30 * DAY, 45 * DAY / 100);
        /* shortlived, 160 hours (< 10 days): half way, 1.6 hours each side */
        expect_window(nb, 160 * 3600, 80 * 3600, 5760);
        /* exactly 10 days: two thirds again */
        expect_window(nb, 10 * DAY, 10 * DAY - 10 * DAY / 3, 10 * DAY / 100);
        /* a tiny lifetime keeps a window at least two seconds wide */
        struct ari_facts f = {.not_before = nb, .not_after = nb + 9, .now = nb};
        struct ari_window w;
        ari_window(&f, &w);
        assert_int_equal(w.start, nb + 5 - 1);
        assert_int_equal(w.end, nb + 5 + 1);
        /* extreme values do not overflow */
        f = (struct ari_facts){.not_before = 0, .not_after = INT64_MAX, .now = 0};
        ari_window(&f, &w);
        assert_true(w.start > 0 && w.start < w.end);
        /* now does not move an ordinary window */
        f = (struct ari_facts){
            .not_before = nb, .not_after = nb + 90 * DAY - 1, .now = nb + 80 * DAY};
        ari_window(&f, &w);
        assert_int_equal(w.start, nb + 60 * DAY - 90 * DAY / 100);
}

static void test_window_replace(void **state)
{
        (void)state;
        qtime_t nb = qtime_from_ymd(2026, 6, 1), now = nb + 5 * DAY;
        static const struct {
                bool revoked, retiring, bad;
                const char *why;
        } cases[] = {
            {true, false, false, "revoked"},
            {false, true, false, "issuing CA retiring"},
            {true, true, false, "revoked"},
            {false, false, true, "malformed validity"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct ari_facts f = {.not_before = nb,
                                      .not_after = cases[i].bad ? nb : nb + 90 * DAY - 1,
                                      .now = now,
                                      .revoked = cases[i].revoked,
                                      .ca_retiring = cases[i].retiring};
                struct ari_window w;
                ari_window(&f, &w);
                assert_true(w.replace_now);
                assert_string_equal(w.why, cases[i].why);
                /* RFC 9773 4.2: entirely in the past, so clients renew now */
                assert_int_equal(w.start, now - 3600);
                assert_int_equal(w.end, now - 1800);
                assert_true(w.end < now);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_rfc_example),
            cmocka_unit_test(test_bad_certids),
            cmocka_unit_test(test_window_normal),
            cmocka_unit_test(test_window_replace),
        };
        return cmocka_run_group_tests_name("ari", tests, NULL, NULL);
}
