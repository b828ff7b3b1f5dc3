/*
 * test_profile.c - the issuance profiles of src/policy/profile.c (classic,
 * tlsserver, shortlived): lookup, the signer's wire names, the validity on
 * different days of the Baseline Requirements schedule, and which
 * identifiers each profile takes. Tables of cases; nothing reads the clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/profile.h"

#define DAY QTIME_DAY
#define HOUR ((qtime_t)3600)

static const struct issue_profile *must(const char *name)
{
        const struct issue_profile *p = policy_profile_find(name);
        if (!p)
                fail_msg("no profile %s", name);
        return p;
}

static void test_table_and_lookup(void **state)
{
        (void)state;
        size_t n;
        const struct issue_profile *t = policy_profiles(&n);
        assert_int_equal(n, 3);
        assert_string_equal(t[0].name, "classic");
        assert_ptr_equal(policy_profile_default(), &t[0]);
        for (size_t i = 0; i < n; i++) {
                assert_ptr_equal(policy_profile_find(t[i].name), &t[i]);
                assert_int_equal(t[i].type, PROFILE_DV); /* all publicly trusted DV */
                assert_true(cert_profile_is_public(t[i].type));
                assert_true(strlen(t[i].description) > 20);
        }
        assert_false(must("classic")->ip_identifiers);
        assert_false(must("tlsserver")->ip_identifiers);
        assert_true(must("shortlived")->ip_identifiers);
        assert_null(policy_profile_find("Classic"));
        assert_null(policy_profile_find("dv"));
        assert_null(policy_profile_find(""));
        assert_null(policy_profile_find(NULL));

        const struct issue_profile *p = NULL;
        struct qerr_info ei;
        assert_int_equal(policy_profile_lookup(NULL, &p, &ei), QERR_OK);
        assert_ptr_equal(p, policy_profile_default());
        assert_int_equal(policy_profile_lookup("shortlived", &p, &ei), QERR_OK);
        assert_string_equal(p->name, "shortlived");
        assert_int_equal(policy_profile_lookup("longlived\n%s", &p, &ei), QERR_POLICY_DENIED);
        assert_null(p);
        assert_non_null(strstr(ei.msg, "no profile \"longlived?%s\""));
        assert_non_null(strstr(ei.msg, "classic (the default), tlsserver"));
        char longname[200];
        memset(longname, 'x', sizeof longname - 1);
        longname[sizeof longname - 1] = '\0';
        assert_int_equal(policy_profile_lookup(longname, &p, &ei), QERR_POLICY_DENIED);
        assert_non_null(strstr(ei.msg, "xxx...\""));
}

static void test_wire_names(void **state)
{
        (void)state;
        static const struct {
                const char *wire;
                bool ok;
                enum cert_profile type;
                const char *variant; /* NULL: the type's own rules */
        } cases[] = {
            {"private", true, PROFILE_PRIVATE, NULL},
            {"dv", true, PROFILE_DV, NULL},
            {"ov", true, PROFILE_OV, NULL},
            {"ev", true, PROFILE_EV, NULL},
            {"tlsserver", true, PROFILE_DV, "tlsserver"},
            {"shortlived", true, PROFILE_DV, "shortlived"},
            {"classic", false, 0, NULL}, /* the signer hears "dv" */
            {"SHORTLIVED", false, 0, NULL},
            {"", false, 0, NULL},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                enum cert_profile type = PROFILE__COUNT;
                const struct issue_profile *v = (const void *)1;
                bool ok = policy_profile_from_wire(cases[i].wire, &type, &v);
                if (ok != cases[i].ok)
                        fail_msg("%s: ok=%d", cases[i].wire, ok);
                if (!ok)
                        continue;
                assert_int_equal(type, cases[i].type);
                if (cases[i].variant)
                        assert_string_equal(v->name, cases[i].variant);
                else
                        assert_null(v);
        }
        assert_false(policy_profile_from_wire(NULL, &(enum cert_profile){0},
                                              &(const struct issue_profile *){NULL}));
        /* every profile's wire name leads back to it (or to plain dv) */
        size_t n;
        const struct issue_profile *t = policy_profiles(&n);
        for (size_t i = 0; i < n; i++) {
                enum cert_profile type;
                const struct issue_profile *v;
                assert_true(policy_profile_from_wire(t[i].wire, &type, &v));
                assert_int_equal(type, t[i].type);
                assert_true(v == &t[i] || (v == NULL && t[i].max_seconds == 0));
        }
}

/* The lifetime on a day of the schedule (BR SC-081: 398 days before
 * 2026-03-15, 200 from then, 100 from 2027-03-15, 47 from 2029-03-15). */
static void test_lifetime_by_day(void **state)
{
        (void)state;
        static const struct {
                const char *profile;
                int y, m, d;
                qtime_t at; /* seconds into the day */
                long cap;   /* [profile] public_max_days */
                qtime_t want;
        } cases[] = {
            {"classic", 2026, 3, 14, 86399, 0, 398 * DAY},
            {"classic", 2026, 3, 15, 0, 0, 200 * DAY},
            {"classic", 2027, 3, 14, 86399, 0, 200 * DAY},
            {"classic", 2027, 3, 15, 0, 0, 100 * DAY},
            {"classic", 2029, 3, 14, 12, 0, 100 * DAY},
            {"classic", 2029, 3, 15, 0, 0, 47 * DAY},
            {"classic", 2035, 1, 1, 0, 0, 47 * DAY},
            {"classic", 2026, 6, 1, 0, 90, 90 * DAY},   /* the cap lowers */
            {"classic", 2026, 6, 1, 0, 300, 200 * DAY}, /* never raises */
            {"tlsserver", 2025, 1, 1, 0, 0, 45 * DAY},
            {"tlsserver", 2026, 3, 15, 0, 0, 45 * DAY},
            {"tlsserver", 2029, 3, 15, 0, 0, 45 * DAY}, /* under the 47 of 2029 */
            {"tlsserver", 2026, 6, 1, 0, 30, 30 * DAY}, /* a lower cap wins */
            {"shortlived", 2025, 1, 1, 0, 0, 160 * HOUR},
            {"shortlived", 2030, 7, 1, 0, 47, 160 * HOUR},
            {"shortlived", 2026, 6, 1, 0, 5, 5 * DAY}, /* 5 days < 160 hours */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const struct issue_profile *p = must(cases[i].profile);
                qtime_t nb = qtime_from_ymd(cases[i].y, cases[i].m, cases[i].d) + cases[i].at;
                int64_t got = policy_profile_lifetime(p, nb, cases[i].cap);
                if (got != cases[i].want)
                        fail_msg("case %zu (%s %04d-%02d-%02d cap %ld): %lld s, want %lld", i,
                                 cases[i].profile, cases[i].y, cases[i].m, cases[i].d, cases[i].cap,
                                 (long long)got, (long long)cases[i].want);
                qtime_t na = policy_profile_not_after(p, nb, cases[i].cap);
                assert_int_equal(na, nb + cases[i].want - 1);
                struct qerr_info ei;
                /* the longest allowed validity passes, one second more does not */
                assert_int_equal(policy_profile_check_validity(p, nb, na, cases[i].cap, &ei),
                                 QERR_OK);
                assert_int_equal(policy_profile_check_validity(p, nb, na + 1, cases[i].cap, &ei),
                                 QERR_POLICY_DENIED);
                assert_non_null(strstr(ei.msg, cases[i].profile));
                /* and it never exceeds what the plain DV rules allow */
                assert_int_equal(policy_check_validity(PROFILE_DV, nb, na, cases[i].cap, 0, &ei),
                                 QERR_OK);
        }
}

static void test_validity_sentences(void **state)
{
        (void)state;
        struct qerr_info ei;
        qtime_t nb = qtime_from_ymd(2026, 6, 1);
        const struct issue_profile *sl = must("shortlived"), *ts = must("tlsserver");
        assert_int_equal(policy_profile_check_validity(sl, nb, nb + 7 * DAY, 0, &ei),
                         QERR_POLICY_DENIED);
        assert_non_null(strstr(ei.msg, "a certificate of the shortlived profile issued on "
                                       "2026-06-01 may last at most 160 hours; set not-after "
                                       "to 2026-06-07T15:59:59Z or earlier."));
        assert_int_equal(policy_profile_check_validity(ts, nb, nb + 90 * DAY, 0, &ei),
                         QERR_POLICY_DENIED);
        assert_non_null(strstr(ei.msg, "may last at most 45 days;"));
        assert_int_equal(policy_profile_check_validity(ts, nb, nb, 0, &ei), QERR_POLICY_DENIED);
        assert_non_null(strstr(ei.msg, "is not later than the not-before"));
        assert_int_equal(policy_profile_check_validity(ts, nb, nb - 5, 0, &ei), QERR_POLICY_DENIED);
        /* extreme values do not overflow */
        assert_int_equal(policy_profile_check_validity(ts, INT64_MIN, INT64_MAX, 0, &ei),
                         QERR_POLICY_DENIED);
}

static void test_names(void **state)
{
        (void)state;
        static const struct {
                const char *profile, *name;
                bool allow_private;
                enum qerr code;
                const char *want; /* normalised form, or a piece of the sentence */
        } cases[] = {
            {"classic", "WWW.Example.COM.", false, QERR_OK, "www.example.com"},
            {"tlsserver", "*.example.com", false, QERR_OK, "*.example.com"},
            {"shortlived", "*.example.com", false, QERR_OK, "*.example.com"},
            {"shortlived", "www.example.com", false, QERR_OK, "www.example.com"},
            {"shortlived", "8.8.8.8", false, QERR_OK, "8.8.8.8"},
            {"shortlived", "2001:4860:4860:0:0:0:0:8888", false, QERR_OK, "2001:4860:4860::8888"},
            {"classic", "8.8.8.8", false, QERR_POLICY_DENIED,
             "the classic profile names DNS names only; order it under the shortlived profile"},
            {"tlsserver", "2001:4860:4860::8888", false, QERR_POLICY_DENIED,
             "the tlsserver profile names DNS names only"},
            {"shortlived", "127.0.0.1", false, QERR_POLICY_DENIED,
             "127.0.0.1 (loopback, 127.0.0.0/8, RFC 1122) is a special-purpose address"},
            {"shortlived", "10.0.0.5", false, QERR_POLICY_DENIED, "(private-use, 10.0.0.0/8"},
            {"shortlived", "::1", false, QERR_POLICY_DENIED, "::1 (loopback"},
            {"shortlived", "192.0.2.1", false, QERR_POLICY_DENIED, "documentation"},
            {"shortlived", "::ffff:10.0.0.5", false, QERR_POLICY_DENIED, "carrying 10.0.0.5"},
            {"shortlived", "127.0.0.1", true, QERR_OK, "127.0.0.1"}, /* the test switch */
            {"shortlived", "::1", true, QERR_OK, "::1"},
            {"classic", "127.0.0.1", true, QERR_POLICY_DENIED, "DNS names only"},
            {"shortlived", "0.0.0.0", true, QERR_NAME_INVALID, "unspecified address"},
            {"shortlived", "printer.internal", false, QERR_POLICY_DENIED, "internal name"},
            {"classic", "com", false, QERR_POLICY_DENIED, "public suffix"},
            {"classic", "-bad-.example.com", false, QERR_NAME_INVALID, ""},
            {"classic", "localhost", false, QERR_NAME_INVALID, ""},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char out[QUILL_MAX_NAME_LEN + 1];
                struct qerr_info ei;
                qerr_clear(&ei);
                memset(out, 'x', sizeof out);
                enum qerr rc =
                    policy_profile_check_name(must(cases[i].profile), cases[i].name,
                                              cases[i].allow_private, out, sizeof out, &ei);
                if (rc != cases[i].code)
                        fail_msg("%s %s: %s \"%s\"", cases[i].profile, cases[i].name, qerr_code(rc),
                                 ei.msg);
                if (rc == QERR_OK && strcmp(out, cases[i].want) != 0)
                        fail_msg("%s %s: \"%s\"", cases[i].profile, cases[i].name, out);
                if (rc != QERR_OK) {
                        if (ei.code != rc || !ei.msg[0] || !strstr(ei.msg, cases[i].want))
                                fail_msg("%s %s: \"%s\"", cases[i].profile, cases[i].name, ei.msg);
                        if (out[0] != '\0') /* nothing half-checked is handed out */
                                fail_msg("%s %s: out \"%s\"", cases[i].profile, cases[i].name, out);
                }
        }
        /* the flags say the same */
        assert_int_equal(policy_profile_name_flags(must("classic")), POLICY_NAME_WILDCARD);
        assert_int_equal(policy_profile_name_flags(must("shortlived")),
                         POLICY_NAME_WILDCARD | POLICY_NAME_IP);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_table_and_lookup),
            cmocka_unit_test(test_wire_names),
            cmocka_unit_test(test_lifetime_by_day),
            cmocka_unit_test(test_validity_sentences),
            cmocka_unit_test(test_names),
        };
        return cmocka_run_group_tests_name("profile", tests, NULL, NULL);
}
