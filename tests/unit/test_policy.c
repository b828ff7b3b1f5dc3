/*
 * test_policy.c - tables of cases for the pure rules of src/policy/
 * (RULES.md §5-§8 and the name rules).
 *
 * Each table row is its own cmocka test (named by the row), so a failure
 * names the case. Every refusal asserts the exact enum qerr value, that the
 * qerr_info carries the same code and a specific (non-empty) sentence, and,
 * where given, that the sentence names the facts that decided. Times are
 * offsets from a fixed NOW; nothing reads the clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

#define DAY QTIME_DAY

/* 2026-06-01T03:25:45Z: any fixed instant will do. */
static qtime_t now_fixed(void)
{
        return qtime_from_ymd(2026, 6, 1) + 12345;
}

/* A plain certificate issued here: DV, paid, issued 100 days ago,
 * not_after = NOW + left. */
static struct cert_rec make_cert(enum cert_origin origin, enum cert_status status, qtime_t left)
{
        struct cert_rec c;
        memset(&c, 0, sizeof c);
        c.id = 42;
        c.ca_id = origin == ORIGIN_UPLOADED ? 0 : 1;
        c.origin = origin;
        c.status = status;
        c.profile = PROFILE_DV;
        c.not_before = now_fixed() - 100 * DAY;
        c.not_after = now_fixed() + left;
        c.revoke_reason = -1;
        return c;
}

/* Asserts a rule's answer. For a refusal: same code in `ei`, a specific
 * sentence, and the sentence contains `must` / `must2` when given. */
static void expect_answer(enum qerr got, const struct qerr_info *ei, enum qerr want,
                          const char *must, const char *must2)
{
        assert_int_equal(got, want);
        if (want == QERR_OK)
                return;
        assert_int_equal(ei->code, want);
        assert_true(ei->msg[0] != '\0');
        const char *msg = qerr_message(ei);
        assert_non_null(msg);
        assert_true(strlen(msg) > 0);
        if (must && !strstr(msg, must))
                fail_msg("message \"%s\" does not contain \"%s\"", msg, must);
        if (must2 && !strstr(msg, must2))
                fail_msg("message \"%s\" does not contain \"%s\"", msg, must2);
}

/* ---- §5 revoke ---- */

struct revoke_case {
        const char *name;
        enum cert_origin origin;
        enum cert_status status;
        int64_t parent;
        qtime_t left;
        bool renewal;
        const char *label;
        enum qerr want;
        const char *must;
};

static const struct revoke_case revoke_cases[] = {
    {"revoke: issued, 100 days left", ORIGIN_ISSUED, CERT_ISSUED, 0, 100 * DAY, false, NULL,
     QERR_OK, NULL},
    {"revoke: reissuing original is revocable", ORIGIN_ISSUED, CERT_REISSUING, 0, 100 * DAY, false,
     NULL, QERR_OK, NULL},
    {"revoke: uploaded", ORIGIN_UPLOADED, CERT_ISSUED, 0, 100 * DAY, false, NULL,
     QERR_REVOKE_UPLOADED, "42"},
    {"revoke: uploaded wins over revoked", ORIGIN_UPLOADED, CERT_REVOKED, 0, 100 * DAY, false, NULL,
     QERR_REVOKE_UPLOADED, NULL},
    {"revoke: reissued certificate", ORIGIN_ISSUED, CERT_ISSUED, 7, 100 * DAY, false, NULL,
     QERR_REVOKE_REISSUED, "certificate 7"},
    {"revoke: already revoked", ORIGIN_ISSUED, CERT_REVOKED, 0, 100 * DAY, false, NULL,
     QERR_REVOKE_ALREADY, "revoked"},
    {"revoke: revocation pending", ORIGIN_ISSUED, CERT_REVOCATION_PENDING, 0, 100 * DAY, false,
     NULL, QERR_REVOKE_ALREADY, "revocation_pending"},
    {"revoke: deleted", ORIGIN_ISSUED, CERT_DELETED, 0, 100 * DAY, false, NULL, QERR_REVOKE_STATUS,
     "deleted"},
    {"revoke: expired one second ago", ORIGIN_ISSUED, CERT_ISSUED, 0, -1, false, NULL,
     QERR_REVOKE_STATUS, "expired"},
    {"revoke: expiring exactly now is not expired", ORIGIN_ISSUED, CERT_ISSUED, 0, 0, false, NULL,
     QERR_OK, NULL},
    {"revoke: exactly 30 days left with renewal", ORIGIN_ISSUED, CERT_ISSUED, 0, 30 * DAY, true,
     "reissue 7", QERR_REVOKE_RENEWAL, "reissue 7"},
    {"revoke: 30 days + 1 s left with renewal", ORIGIN_ISSUED, CERT_ISSUED, 0, 30 * DAY + 1, true,
     "reissue 7", QERR_OK, NULL},
    {"revoke: 30 days left without renewal", ORIGIN_ISSUED, CERT_ISSUED, 0, 30 * DAY, false, NULL,
     QERR_OK, NULL},
    {"revoke: 1 day left, renewal without label", ORIGIN_ISSUED, CERT_ISSUED, 0, DAY, true, NULL,
     QERR_REVOKE_RENEWAL, "unnamed renewal"},
    {"revoke: reissuing, 10 days left, renewal", ORIGIN_ISSUED, CERT_REISSUING, 0, 10 * DAY, true,
     "order 12", QERR_REVOKE_RENEWAL, "order 12"},
};

static void test_revoke_row(void **state)
{
        const struct revoke_case *tc = *state;
        struct cert_rec c = make_cert(tc->origin, tc->status, tc->left);
        c.parent_id = tc->parent;
        const struct revoke_facts f = {
            .cert = &c,
            .now = now_fixed(),
            .renewal_in_progress = tc->renewal,
            .renewal_label = tc->label,
        };
        struct qerr_info ei;
        qerr_clear(&ei);
        expect_answer(policy_may_revoke(&f, &ei), &ei, tc->want, tc->must, NULL);
}

/* ---- §5/§7 download ---- */

struct download_case {
        const char *name;
        enum cert_origin origin;
        enum cert_status status;
        qtime_t left;
        enum qerr want;
};

static const struct download_case download_cases[] = {
    {"download: issued", ORIGIN_ISSUED, CERT_ISSUED, 100 * DAY, QERR_OK},
    {"download: reissuing", ORIGIN_ISSUED, CERT_REISSUING, 100 * DAY, QERR_OK},
    {"download: expired", ORIGIN_ISSUED, CERT_ISSUED, -DAY, QERR_OK},
    {"download: stored expired", ORIGIN_ISSUED, CERT_EXPIRED, -DAY, QERR_OK},
    {"download: uploaded", ORIGIN_UPLOADED, CERT_ISSUED, 100 * DAY, QERR_OK},
    {"download: revoked", ORIGIN_ISSUED, CERT_REVOKED, 100 * DAY, QERR_DOWNLOAD_REVOKED},
    {"download: revocation pending", ORIGIN_ISSUED, CERT_REVOCATION_PENDING, 100 * DAY,
     QERR_DOWNLOAD_REVOKED},
    {"download: revoked and expired", ORIGIN_ISSUED, CERT_REVOKED, -DAY, QERR_DOWNLOAD_REVOKED},
    {"download: deleted", ORIGIN_ISSUED, CERT_DELETED, 100 * DAY, QERR_DOWNLOAD_STATUS},
};

static void test_download_row(void **state)
{
        const struct download_case *tc = *state;
        const struct cert_rec c = make_cert(tc->origin, tc->status, tc->left);
        struct qerr_info ei;
        qerr_clear(&ei);
        expect_answer(policy_may_download(&c, now_fixed(), &ei), &ei, tc->want,
                      tc->want == QERR_OK ? NULL : "42", NULL);
}

/* ---- §6 reissue ---- */

struct reissue_case {
        const char *name;
        enum cert_origin origin;
        enum cert_status status;
        qtime_t left;
        enum cert_profile profile;
        bool free_cert;
        int64_t parent;
        int lineage;
        int64_t locked_by;
        const char *locked_domain;
        enum qerr want;
        const char *must, *must2;
};

static const struct reissue_case reissue_cases[] = {
    {"reissue: issued, 100 days left", ORIGIN_ISSUED, CERT_ISSUED, 100 * DAY, PROFILE_DV, false, 0,
     0, 0, NULL, QERR_OK, NULL, NULL},
    {"reissue: a reissued certificate again", ORIGIN_ISSUED, CERT_ISSUED, 100 * DAY, PROFILE_OV,
     false, 5, 1, 0, NULL, QERR_OK, NULL, NULL},
    {"reissue: uploaded", ORIGIN_UPLOADED, CERT_ISSUED, 100 * DAY, PROFILE_DV, false, 0, 0, 0, NULL,
     QERR_REISSUE_UPLOADED, "42", NULL},
    {"reissue: already reissuing", ORIGIN_ISSUED, CERT_REISSUING, 100 * DAY, PROFILE_DV, false, 0,
     0, 0, NULL, QERR_REISSUE_IN_PROGRESS, "42", NULL},
    {"reissue: revoked", ORIGIN_ISSUED, CERT_REVOKED, 100 * DAY, PROFILE_DV, false, 0, 0, 0, NULL,
     QERR_REISSUE_STATUS, "revoked", NULL},
    {"reissue: revocation pending", ORIGIN_ISSUED, CERT_REVOCATION_PENDING, 100 * DAY, PROFILE_DV,
     false, 0, 0, 0, NULL, QERR_REISSUE_STATUS, "revocation_pending", NULL},
    {"reissue: deleted", ORIGIN_ISSUED, CERT_DELETED, 100 * DAY, PROFILE_DV, false, 0, 0, 0, NULL,
     QERR_REISSUE_STATUS, "deleted", NULL},
    {"reissue: expired", ORIGIN_ISSUED, CERT_ISSUED, -1, PROFILE_DV, false, 0, 0, 0, NULL,
     QERR_REISSUE_STATUS, "expired", NULL},
    {"reissue: exactly 30 days left", ORIGIN_ISSUED, CERT_ISSUED, 30 * DAY, PROFILE_DV, false, 0, 0,
     0, NULL, QERR_REISSUE_TOO_LATE, "more than 30 days", "30 days"},
    {"reissue: 30 days + 1 s left", ORIGIN_ISSUED, CERT_ISSUED, 30 * DAY + 1, PROFILE_DV, false, 0,
     0, 0, NULL, QERR_OK, NULL, NULL},
    {"reissue: 10 days left", ORIGIN_ISSUED, CERT_ISSUED, 10 * DAY, PROFILE_OV, false, 0, 0, 0,
     NULL, QERR_REISSUE_TOO_LATE, "10 days", "2026-06-11"},
    {"reissue: free DV, first reissue", ORIGIN_ISSUED, CERT_ISSUED, 100 * DAY, PROFILE_DV, true, 0,
     0, 0, NULL, QERR_OK, NULL, NULL},
    {"reissue: free DV, second reissue", ORIGIN_ISSUED, CERT_ISSUED, 100 * DAY, PROFILE_DV, true, 0,
     1, 0, NULL, QERR_REISSUE_LIMIT, "free DV", NULL},
    {"reissue: free DV reissue of a reissue", ORIGIN_ISSUED, CERT_ISSUED, 100 * DAY, PROFILE_DV,
     true, 5, 1, 0, NULL, QERR_REISSUE_LIMIT, NULL, NULL},
    {"reissue: paid DV, third reissue", ORIGIN_ISSUED, CERT_ISSUED, 100 * DAY, PROFILE_DV, false, 0,
     2, 0, NULL, QERR_OK, NULL, NULL},
    {"reissue: free OV has no limit", ORIGIN_ISSUED, CERT_ISSUED, 100 * DAY, PROFILE_OV, true, 0, 3,
     0, NULL, QERR_OK, NULL, NULL},
    {"reissue: registered domain locked", ORIGIN_ISSUED, CERT_ISSUED, 100 * DAY, PROFILE_DV, false,
     0, 0, 99, "example.com", QERR_REISSUE_DOMAIN_LOCKED, "example.com", "Certificate 99"},
};

static void test_reissue_row(void **state)
{
        const struct reissue_case *tc = *state;
        struct cert_rec c = make_cert(tc->origin, tc->status, tc->left);
        c.profile = tc->profile;
        c.free_cert = tc->free_cert;
        c.parent_id = tc->parent;
        const struct reissue_facts f = {
            .cert = &c,
            .now = now_fixed(),
            .lineage_reissues = tc->lineage,
            .locked_by_cert = tc->locked_by,
            .locked_domain = tc->locked_domain,
        };
        struct qerr_info ei;
        qerr_clear(&ei);
        expect_answer(policy_may_reissue(&f, &ei), &ei, tc->want, tc->must, tc->must2);
}

struct revalidate_case {
        const char *name;
        bool same_csr;
        qtime_t since_issue; /* now - original_issued_at */
        qtime_t validated;   /* now - validated_at of the names; -1: a name has none */
        long reuse_cap;      /* [validation] reuse_days */
        bool want;
};

/* now_fixed() is 2026-06-01: the reuse period is 200 days (BR 4.2.1) */
static const struct revalidate_case revalidate_cases[] = {
    {"revalidate: same CSR, 10 days later", true, 10 * DAY, 10 * DAY, 0, false},
    {"revalidate: same CSR, 1 hour later", true, 3600, 3600, 0, false},
    {"revalidate: new CSR, right at issue", false, 0, 0, 0, false},
    {"revalidate: new CSR, 3 days - 1 s", false, 3 * DAY - 1, 3 * DAY, 0, false},
    {"revalidate: new CSR, exactly 3 days", false, 3 * DAY, 3 * DAY, 0, true},
    {"revalidate: new CSR, 10 days", false, 10 * DAY, 10 * DAY, 0, true},
    /* issue 7: the original CSR only while the validation may be reused */
    {"revalidate: same CSR, validation 200 days old", true, 150 * DAY, 200 * DAY, 0, false},
    {"revalidate: same CSR, validation 200 days + 1 s old", true, 150 * DAY, 200 * DAY + 1, 0,
     true},
    {"revalidate: same CSR, validation under the configured 30", true, 20 * DAY, 30 * DAY, 30,
     false},
    {"revalidate: same CSR, validation over the configured 30", true, 20 * DAY, 31 * DAY, 30, true},
    {"revalidate: same CSR, a cap above the BR is ignored", true, 20 * DAY, 201 * DAY, 300, true},
    {"revalidate: same CSR, a name never validated", true, 10 * DAY, -1, 0, true},
    {"revalidate: new CSR within 3 days, stale validation", false, DAY, 250 * DAY, 0, true},
    {"revalidate: validation just after now (clock skew)", true, DAY, -60, 0, false},
};

static void test_revalidate_row(void **state)
{
        const struct revalidate_case *tc = *state;
        const qtime_t now = now_fixed();
        const qtime_t validated_at = tc->validated == -1 ? 0 : now - tc->validated;
        assert_int_equal(policy_reissue_needs_validation(tc->same_csr, now - tc->since_issue,
                                                         validated_at, tc->reuse_cap, now),
                         tc->want);
}

/* ---- §7 delete ---- */

struct delete_case {
        const char *name;
        enum cert_origin origin;
        enum cert_status status;
        qtime_t left;
        enum qerr want;
};

static const struct delete_case delete_cases[] = {
    {"delete: revoked", ORIGIN_ISSUED, CERT_REVOKED, 100 * DAY, QERR_OK},
    {"delete: expired", ORIGIN_ISSUED, CERT_ISSUED, -1, QERR_OK},
    {"delete: expired while reissuing", ORIGIN_ISSUED, CERT_REISSUING, -DAY, QERR_OK},
    {"delete: uploaded, unexpired", ORIGIN_UPLOADED, CERT_ISSUED, 100 * DAY, QERR_OK},
    {"delete: issued, unexpired", ORIGIN_ISSUED, CERT_ISSUED, 100 * DAY, QERR_DELETE_NOT_REVOKED},
    {"delete: issued, expires exactly now", ORIGIN_ISSUED, CERT_ISSUED, 0, QERR_DELETE_NOT_REVOKED},
    {"delete: reissuing, unexpired", ORIGIN_ISSUED, CERT_REISSUING, 100 * DAY,
     QERR_DELETE_NOT_REVOKED},
    {"delete: revocation pending is not enough", ORIGIN_ISSUED, CERT_REVOCATION_PENDING, 100 * DAY,
     QERR_DELETE_NOT_REVOKED},
    {"delete: already deleted", ORIGIN_ISSUED, CERT_DELETED, -DAY, QERR_NOT_FOUND},
    {"delete: uploaded, already deleted", ORIGIN_UPLOADED, CERT_DELETED, 100 * DAY, QERR_NOT_FOUND},
};

static void test_delete_row(void **state)
{
        const struct delete_case *tc = *state;
        const struct cert_rec c = make_cert(tc->origin, tc->status, tc->left);
        struct qerr_info ei;
        qerr_clear(&ei);
        expect_answer(policy_may_delete(&c, now_fixed(), &ei), &ei, tc->want,
                      tc->want == QERR_OK ? NULL : "42", NULL);
}

/* ---- §8 validity ---- */

struct date {
        int y, m, d;
        qtime_t off; /* seconds added to midnight UTC */
};

static qtime_t at(struct date d)
{
        return qtime_from_ymd(d.y, d.m, d.d) + d.off;
}

struct maxval_case {
        const char *name;
        enum cert_profile profile;
        struct date issue;
        long cap, private_max;
        long want;
};

static const struct maxval_case maxval_cases[] = {
    {"max validity: 2020", PROFILE_DV, {2020, 1, 1, 0}, 0, 0, 398},
    {"max validity: 2026-03-14 23:59:59", PROFILE_DV, {2026, 3, 14, DAY - 1}, 0, 0, 398},
    {"max validity: 2026-03-15 00:00:00", PROFILE_DV, {2026, 3, 15, 0}, 0, 0, 200},
    {"max validity: 2027-03-14 23:59:59", PROFILE_OV, {2027, 3, 14, DAY - 1}, 0, 0, 200},
    {"max validity: 2027-03-15 00:00:00", PROFILE_OV, {2027, 3, 15, 0}, 0, 0, 100},
    {"max validity: 2029-03-14 23:59:59", PROFILE_EV, {2029, 3, 14, DAY - 1}, 0, 0, 100},
    {"max validity: 2029-03-15 00:00:00", PROFILE_EV, {2029, 3, 15, 0}, 0, 0, 47},
    {"max validity: 2035", PROFILE_DV, {2035, 7, 1, 0}, 0, 0, 47},
    {"max validity: cap lowers", PROFILE_DV, {2026, 3, 15, 0}, 90, 0, 90},
    {"max validity: cap never raises", PROFILE_DV, {2026, 3, 15, 0}, 300, 0, 200},
    {"max validity: cap above 47 ignored in 2029", PROFILE_DV, {2029, 3, 15, 0}, 60, 0, 47},
    {"max validity: negative cap ignored", PROFILE_DV, {2027, 3, 15, 0}, -5, 0, 100},
    {"max validity: private uses its own", PROFILE_PRIVATE, {2030, 1, 1, 0}, 0, 3650, 3650},
    {"max validity: private ignores public cap", PROFILE_PRIVATE, {2020, 1, 1, 0}, 10, 825, 825},
};

static void test_maxval_row(void **state)
{
        const struct maxval_case *tc = *state;
        assert_int_equal(
            policy_max_validity_days(tc->profile, at(tc->issue), tc->cap, tc->private_max),
            tc->want);
}

/* ---- BR 4.2.1 validation reuse (issue 7) ---- */

struct reuse_case {
        const char *name;
        struct date day;
        long cap;
        long want;
};

static const struct reuse_case reuse_cases[] = {
    {"reuse days: 2020", {2020, 1, 1, 0}, 0, 398},
    {"reuse days: 2026-03-14 23:59:59", {2026, 3, 14, DAY - 1}, 0, 398},
    {"reuse days: 2026-03-15 00:00:00", {2026, 3, 15, 0}, 0, 200},
    {"reuse days: 2027-03-14 23:59:59", {2027, 3, 14, DAY - 1}, 0, 200},
    {"reuse days: 2027-03-15 00:00:00", {2027, 3, 15, 0}, 0, 100},
    {"reuse days: 2029-03-14 23:59:59", {2029, 3, 14, DAY - 1}, 0, 100},
    {"reuse days: 2029-03-15 00:00:00", {2029, 3, 15, 0}, 0, 10},
    {"reuse days: 2040", {2040, 1, 1, 0}, 0, 10},
    {"reuse days: cap lowers", {2026, 11, 30, 0}, 30, 30},
    {"reuse days: cap never raises", {2026, 11, 30, 0}, 398, 200},
    {"reuse days: cap above 10 ignored in 2029", {2029, 6, 1, 0}, 47, 10},
    {"reuse days: cap 1", {2029, 6, 1, 0}, 1, 1},
    {"reuse days: negative cap ignored", {2027, 3, 15, 0}, -5, 100},
};

static void test_reuse_row(void **state)
{
        const struct reuse_case *tc = *state;
        assert_int_equal(policy_validation_reuse_days(at(tc->day), tc->cap), tc->want);
}

struct fresh_case {
        const char *name;
        struct date now;
        qtime_t age; /* now - validated_at; -1: no validation (0) */
        long cap;
        bool want;
};

static const struct fresh_case fresh_cases[] = {
    {"fresh: no validation", {2026, 11, 30, 0}, -1, 0, false},
    {"fresh: just made", {2026, 11, 30, 0}, 0, 0, true},
    {"fresh: 200 days in 2026", {2026, 11, 30, 0}, 200 * DAY, 0, true},
    {"fresh: 200 days + 1 s in 2026", {2026, 11, 30, 0}, 200 * DAY + 1, 0, false},
    /* the period in force on the day of issuance, not of validation */
    {"fresh: 150 days, issued on 2027-03-15", {2027, 3, 15, 0}, 150 * DAY, 0, false},
    {"fresh: 100 days, issued on 2027-03-15", {2027, 3, 15, 0}, 100 * DAY, 0, true},
    {"fresh: 11 days, issued on 2029-03-15", {2029, 3, 15, 0}, 11 * DAY, 0, false},
    {"fresh: 10 days, issued on 2029-03-15", {2029, 3, 15, 0}, 10 * DAY, 0, true},
    {"fresh: 398 days before 2026-03-15", {2026, 3, 14, 0}, 398 * DAY, 0, true},
    {"fresh: cap 5, 6 days", {2026, 11, 30, 0}, 6 * DAY, 5, false},
    {"fresh: cap 5, 5 days", {2026, 11, 30, 0}, 5 * DAY, 5, true},
    {"fresh: made a minute after now", {2026, 11, 30, 0}, -60, 0, true},
};

static void test_fresh_row(void **state)
{
        const struct fresh_case *tc = *state;
        const qtime_t now = at(tc->now);
        const qtime_t validated_at = tc->age == -1 ? 0 : now - tc->age;
        assert_int_equal(policy_validation_fresh(validated_at, now, tc->cap), tc->want);
}

struct validity_case {
        const char *name;
        enum cert_profile profile;
        struct date nb;
        qtime_t dur; /* not_after - not_before + 1 */
        long cap, private_max;
        enum qerr want;
        const char *must, *must2;
};

static const struct validity_case validity_cases[] = {
    {"validity: 398 days before 2026-03-15",
     PROFILE_DV,
     {2026, 3, 14, DAY - 1},
     398 * DAY,
     0,
     0,
     QERR_OK,
     NULL,
     NULL},
    {"validity: 398 days + 1 s before 2026-03-15",
     PROFILE_DV,
     {2026, 3, 14, DAY - 1},
     398 * DAY + 1,
     0,
     0,
     QERR_POLICY_DENIED,
     "398 days and 1 second",
     "before 2026-03-15"},
    {"validity: 200 days on 2026-03-15",
     PROFILE_DV,
     {2026, 3, 15, 0},
     200 * DAY,
     0,
     0,
     QERR_OK,
     NULL,
     NULL},
    {"validity: 200 days + 1 s on 2026-03-15",
     PROFILE_DV,
     {2026, 3, 15, 0},
     200 * DAY + 1,
     0,
     0,
     QERR_POLICY_DENIED,
     "200 days and 1 second",
     "2026-03-15"},
    {"validity: 201 days on 2026-03-15",
     PROFILE_OV,
     {2026, 3, 15, 0},
     201 * DAY,
     0,
     0,
     QERR_POLICY_DENIED,
     "at most 200 days",
     "2026-10-01T23:59:59Z"},
    {"validity: 200 days on 2027-03-14",
     PROFILE_DV,
     {2027, 3, 14, DAY - 1},
     200 * DAY,
     0,
     0,
     QERR_OK,
     NULL,
     NULL},
    {"validity: 100 days on 2027-03-15",
     PROFILE_DV,
     {2027, 3, 15, 0},
     100 * DAY,
     0,
     0,
     QERR_OK,
     NULL,
     NULL},
    {"validity: 100 days + 1 s on 2027-03-15",
     PROFILE_DV,
     {2027, 3, 15, 0},
     100 * DAY + 1,
     0,
     0,
     QERR_POLICY_DENIED,
     "at most 100 days",
     "from 2027-03-15"},
    {"validity: 100 days on 2029-03-14",
     PROFILE_EV,
     {2029, 3, 14, DAY - 1},
     100 * DAY,
     0,
     0,
     QERR_OK,
     NULL,
     NULL},
    {"validity: 47 days on 2029-03-15",
     PROFILE_EV,
     {2029, 3, 15, 0},
     47 * DAY,
     0,
     0,
     QERR_OK,
     NULL,
     NULL},
    {"validity: 47 days + 1 s on 2029-03-15",
     PROFILE_EV,
     {2029, 3, 15, 0},
     47 * DAY + 1,
     0,
     0,
     QERR_POLICY_DENIED,
     "at most 47 days",
     "from 2029-03-15"},
    {"validity: capped 90 days", PROFILE_DV, {2026, 6, 1, 0}, 90 * DAY, 90, 0, QERR_OK, NULL, NULL},
    {"validity: capped 90 days + 1 s",
     PROFILE_DV,
     {2026, 6, 1, 0},
     90 * DAY + 1,
     90,
     0,
     QERR_POLICY_DENIED,
     "configured cap of 90 days",
     "allows 200"},
    {"validity: private at its maximum",
     PROFILE_PRIVATE,
     {2030, 1, 1, 0},
     3650 * DAY,
     0,
     3650,
     QERR_OK,
     NULL,
     NULL},
    {"validity: private over its maximum",
     PROFILE_PRIVATE,
     {2030, 1, 1, 0},
     3650 * DAY + 1,
     0,
     3650,
     QERR_POLICY_DENIED,
     "3650 days",
     "private"},
    {"validity: private maximum 0",
     PROFILE_PRIVATE,
     {2030, 1, 1, 0},
     DAY,
     0,
     0,
     QERR_POLICY_DENIED,
     "0 days",
     NULL},
    {"validity: two seconds", PROFILE_DV, {2026, 6, 1, 0}, 2, 0, 0, QERR_OK, NULL, NULL},
    {"validity: not_after equals not_before",
     PROFILE_DV,
     {2026, 6, 1, 0},
     1,
     0,
     0,
     QERR_POLICY_DENIED,
     "not later",
     NULL},
    {"validity: not_after before not_before",
     PROFILE_DV,
     {2026, 6, 1, 0},
     -DAY,
     0,
     0,
     QERR_POLICY_DENIED,
     "not later",
     NULL},
};

static void test_validity_row(void **state)
{
        const struct validity_case *tc = *state;
        const qtime_t nb = at(tc->nb);
        struct qerr_info ei;
        qerr_clear(&ei);
        expect_answer(
            policy_check_validity(tc->profile, nb, nb + tc->dur - 1, tc->cap, tc->private_max, &ei),
            &ei, tc->want, tc->must, tc->must2);
}

/* ---- names ---- */

#define A10 "aaaaaaaaaa"
#define L61 A10 A10 A10 A10 A10 A10 "a"
#define L62 L61 "b"
#define L63 L62 "c"
#define N253 L63 "." L63 "." L63 "." L61 /* 3 * 64 + 61 = 253 bytes */

struct name_case {
        const char *name;
        const char *in;
        bool wild, ip;
        enum qerr want;
        const char *out;
};

static const struct name_case name_cases[] = {
    {"name: plain", "www.example.com", false, false, QERR_OK, "www.example.com"},
    {"name: lower-cased, trailing dot", "WWW.Example.COM.", false, false, QERR_OK,
     "www.example.com"},
    {"name: two labels", "example.com", false, false, QERR_OK, "example.com"},
    {"name: under co.uk", "a.b.example.co.uk", false, false, QERR_OK, "a.b.example.co.uk"},
    {"name: IDN A-label", "xn--bcher-kva.example", false, false, QERR_OK, "xn--bcher-kva.example"},
    {"name: IDN A-label TLD", "www.XN--FIQS8S", false, false, QERR_OK, "www.xn--fiqs8s"},
    {"name: inner hyphen", "w-w.example.com", false, false, QERR_OK, "w-w.example.com"},
    {"name: numeric label", "123.example.com", false, false, QERR_OK, "123.example.com"},
    {"name: digit in TLD", "example.c0m", false, false, QERR_OK, "example.c0m"},
    {"name: 63-byte label", L63 ".example.com", false, false, QERR_OK, L63 ".example.com"},
    {"name: 253 bytes", N253, false, false, QERR_OK, N253},
    {"name: 253 bytes + trailing dot", N253 ".", false, false, QERR_OK, N253},
    {"name: 254 bytes", N253 "a", false, false, QERR_NAME_INVALID, NULL},
    {"name: 64-byte label", L63 "d.example.com", false, false, QERR_NAME_INVALID, NULL},
    {"name: empty", "", false, false, QERR_NAME_INVALID, NULL},
    {"name: only a dot", ".", false, false, QERR_NAME_INVALID, NULL},
    {"name: leading dot", ".example.com", false, false, QERR_NAME_INVALID, NULL},
    {"name: double dot", "www..example.com", false, false, QERR_NAME_INVALID, NULL},
    {"name: two trailing dots", "example.com..", false, false, QERR_NAME_INVALID, NULL},
    {"name: single label", "localhost", false, false, QERR_NAME_INVALID, NULL},
    {"name: leading hyphen", "-www.example.com", false, false, QERR_NAME_INVALID, NULL},
    {"name: trailing hyphen", "www-.example.com", false, false, QERR_NAME_INVALID, NULL},
    {"name: hyphen TLD", "example.com-", false, false, QERR_NAME_INVALID, NULL},
    {"name: underscore", "_dmarc.example.com", false, false, QERR_NAME_INVALID, NULL},
    {"name: underscore inside", "exa_mple.com", false, false, QERR_NAME_INVALID, NULL},
    {"name: space", "ex ample.com", false, false, QERR_NAME_INVALID, NULL},
    {"name: U-label (UTF-8)",
     "b\xc3\xbc"
     "cher.example",
     false, false, QERR_NAME_INVALID, NULL},
    {"name: all-numeric TLD", "example.123", false, false, QERR_NAME_INVALID, NULL},
    {"name: three numbers", "1.2.3", false, true, QERR_NAME_INVALID, NULL},
    {"name: IPv4 with trailing dot", "1.2.3.4.", false, true, QERR_NAME_INVALID, NULL},
    {"name: IPv4 out of range", "256.1.1.1", false, true, QERR_NAME_INVALID, NULL},
    {"name: IPv6 in brackets", "[::1]", false, true, QERR_NAME_INVALID, NULL},
    {"name: public suffix com", "com", false, false, QERR_POLICY_DENIED, NULL},
    {"name: public suffix co.uk", "co.uk", false, false, QERR_POLICY_DENIED, NULL},
    {"name: public suffix CO.UK.", "CO.UK.", false, false, QERR_POLICY_DENIED, NULL},
    {"name: private-section suffix", "github.io", false, false, QERR_POLICY_DENIED, NULL},
    {"name: wildcard allowed", "*.Example.com", true, false, QERR_OK, "*.example.com"},
    {"name: wildcard under co.uk", "*.example.co.uk", true, false, QERR_OK, "*.example.co.uk"},
    {"name: wildcard not allowed", "*.example.com", false, false, QERR_POLICY_DENIED, NULL},
    {"name: wildcard over co.uk", "*.co.uk", true, false, QERR_POLICY_DENIED, NULL},
    {"name: wildcard over com", "*.com", true, false, QERR_POLICY_DENIED, NULL},
    {"name: wildcard over single label", "*.localhost", true, false, QERR_NAME_INVALID, NULL},
    {"name: bare wildcard", "*", true, false, QERR_NAME_INVALID, NULL},
    {"name: bare wildcard with dot", "*.", true, false, QERR_NAME_INVALID, NULL},
    {"name: wildcard in second label", "a.*.example.com", true, false, QERR_NAME_INVALID, NULL},
    {"name: partial wildcard", "w*.example.com", true, false, QERR_NAME_INVALID, NULL},
    {"name: wildcard then letters", "*a.example.com", true, false, QERR_NAME_INVALID, NULL},
    {"name: double star", "**.example.com", true, false, QERR_NAME_INVALID, NULL},
    {"name: two wildcards", "*.*.example.com", true, false, QERR_NAME_INVALID, NULL},
    {"name: wildcard TLD", "www.example.*", true, false, QERR_NAME_INVALID, NULL},
    {"name: IPv4 allowed", "192.0.2.1", false, true, QERR_OK, "192.0.2.1"},
    {"name: IPv4 not allowed", "192.0.2.1", true, false, QERR_POLICY_DENIED, NULL},
    {"name: IPv6 allowed, canonical", "2001:DB8:0:0:0:0:0:1", false, true, QERR_OK, "2001:db8::1"},
    {"name: IPv6 not allowed", "::1", false, false, QERR_POLICY_DENIED, NULL},
    {"name: unspecified IPv4", "0.0.0.0", false, true, QERR_NAME_INVALID, NULL},
    {"name: unspecified IPv6", "::", false, true, QERR_NAME_INVALID, NULL},
};

static void test_name_row(void **state)
{
        const struct name_case *tc = *state;
        char out[QUILL_MAX_NAME_LEN + 1];
        memset(out, 'x', sizeof out);
        struct qerr_info ei;
        qerr_clear(&ei);
        expect_answer(policy_check_name(tc->in, tc->wild, tc->ip, out, sizeof out, &ei), &ei,
                      tc->want, NULL, NULL);
        if (tc->want == QERR_OK)
                assert_string_equal(out, tc->out);
        else
                assert_string_equal(out, "");
}

struct regdom_case {
        const char *name;
        const char *in;
        bool want;
        const char *out;
};

static const struct regdom_case regdom_cases[] = {
    {"registered domain: a.b.example.co.uk", "a.b.example.co.uk", true, "example.co.uk"},
    {"registered domain: wildcard", "*.example.com", true, "example.com"},
    {"registered domain: itself", "example.com", true, "example.com"},
    {"registered domain: mixed case, dot", "WWW.Example.COM.", true, "example.com"},
    {"registered domain: deep", "a.b.c.example.com", true, "example.com"},
    {"registered domain: private suffix", "www.foo.github.io", true, "foo.github.io"},
    {"registered domain: IDN", "www.xn--bcher-kva.de", true, "xn--bcher-kva.de"},
    {"registered domain: co.uk", "co.uk", false, ""},
    {"registered domain: com", "com", false, ""},
    {"registered domain: *.co.uk", "*.co.uk", false, ""},
    {"registered domain: single label", "localhost", false, ""},
    {"registered domain: IP literal", "192.0.2.1", false, ""},
    {"registered domain: empty", "", false, ""},
    {"registered domain: invalid", "a..example.com", false, ""},
};

static void test_regdom_row(void **state)
{
        const struct regdom_case *tc = *state;
        char out[QUILL_MAX_NAME_LEN + 1];
        memset(out, 'x', sizeof out);
        assert_int_equal(policy_registered_domain(tc->in, out, sizeof out), tc->want);
        assert_string_equal(out, tc->out);
}

/* ---- issue 6: base_url of public certificates ---- */

struct baseurl_case {
        const char *name;
        enum cert_profile profile;
        const char *url;
        bool allow_private;
        enum qerr want;
        const char *must; /* a piece of the sentence */
};

#define PRIV QERR_BASE_URL_PRIVATE
static const struct baseurl_case baseurl_cases[] = {
    {"base_url: default, dv", PROFILE_DV, "http://127.0.0.1:8080", false, PRIV,
     "[server] base_url http://127.0.0.1:8080 is on 127.0.0.1 (loopback, 127.0.0.0/8"},
    {"base_url: default, ov", PROFILE_OV, "http://127.0.0.1:8080", false, PRIV, "ov certificates"},
    {"base_url: default, ev", PROFILE_EV, "http://127.0.0.1:8080", false, PRIV,
     "Set [server] base_url in quill.conf"},
    {"base_url: default, private", PROFILE_PRIVATE, "http://127.0.0.1:8080", false, QERR_OK, NULL},
    {"base_url: default, test switch", PROFILE_DV, "http://127.0.0.1:8080", true, QERR_OK, NULL},
    {"base_url: public name", PROFILE_DV, "http://pki.example.com", false, QERR_OK, NULL},
    {"base_url: public name, port, path", PROFILE_EV, "https://pki.example.com:8443/quill/", false,
     QERR_OK, NULL},
    {"base_url: public IPv4", PROFILE_DV, "http://8.8.8.8/ca", false, QERR_OK, NULL},
    {"base_url: public IPv6", PROFILE_DV, "http://[2606:4700::1]:80/ca", false, QERR_OK, NULL},
    {"base_url: numeric-looking label inside", PROFILE_DV, "http://1.example.com", false, QERR_OK,
     NULL},
    {"base_url: localhost", PROFILE_DV, "http://localhost:8080", false, PRIV, "local machine"},
    {"base_url: LOCALHOST.", PROFILE_DV, "http://LOCALHOST.:8080/", false, PRIV, "localhost"},
    {"base_url: under .localhost", PROFILE_DV, "http://ca.localhost", false, PRIV, "RFC 6761"},
    {"base_url: localhost-like name", PROFILE_DV, "http://mylocalhost.example", false, QERR_OK,
     NULL},
    {"base_url: RFC 1918", PROFILE_DV, "http://10.1.2.3/", false, PRIV, "private-use"},
    {"base_url: 192.168", PROFILE_DV, "https://192.168.0.10:8443", false, PRIV, "192.168.0.0/16"},
    {"base_url: link-local", PROFILE_DV, "http://169.254.1.1", false, PRIV, "link-local"},
    {"base_url: CGNAT", PROFILE_DV, "http://100.64.1.1", false, PRIV, "carrier-grade NAT"},
    {"base_url: ::1", PROFILE_DV, "http://[::1]:8080", false, PRIV, "::1 (loopback"},
    {"base_url: unique local", PROFILE_DV, "http://[fd00::5]/", false, PRIV, "unique-local"},
    {"base_url: IPv4-mapped", PROFILE_DV, "http://[::ffff:127.0.0.1]/", false, PRIV, "IPv4-mapped"},
    {"base_url: userinfo hides nothing", PROFILE_DV, "http://pki.example.com@127.0.0.1/", false,
     PRIV, "loopback"},
    {"base_url: decimal IPv4", PROFILE_DV, "http://2130706433:8080", false, PRIV,
     "127.0.0.1 (loopback"},
    {"base_url: short IPv4", PROFILE_DV, "http://127.1/", false, PRIV, "127.0.0.1 (loopback"},
    {"base_url: hex IPv4", PROFILE_DV, "http://0x7f.0.0.1/", false, PRIV, "127.0.0.1 (loopback"},
    {"base_url: octal IPv4", PROFILE_DV, "http://0177.0.0.1/", false, PRIV, "loopback"},
    {"base_url: bad numeric host", PROFILE_DV, "http://1.2.3.4.5/", false, PRIV,
     "not a valid IPv4 address"},
    {"base_url: bad IPv6 host", PROFILE_DV, "http://[::g]/", false, PRIV, "not an IPv6 address"},
    {"base_url: no host", PROFILE_DV, "http:///x", false, PRIV, "has no host"},
    {"base_url: no scheme separator", PROFILE_DV, "nonsense", false, PRIV, "has no host"},
    {"base_url: unterminated bracket", PROFILE_DV, "http://[::1/x", false, PRIV, "has no host"},
    {"base_url: public documentation range", PROFILE_DV, "http://192.0.2.1/", false, PRIV,
     "documentation"},
};

static void test_baseurl_row(void **state)
{
        const struct baseurl_case *tc = *state;
        struct qerr_info ei;
        qerr_clear(&ei);
        expect_answer(policy_base_url_ok(tc->profile, tc->url, tc->allow_private, &ei), &ei,
                      tc->want, tc->must, NULL);
}

/* ---- edge cases outside the tables ---- */

/* The private profile's flags: "localhost" (and only that single label). */
static void test_name_flags(void **state)
{
        (void)state;
        static const struct {
                const char *in;
                bool priv;
                enum qerr want;
                const char *out;
        } cases[] = {
            {"localhost", true, QERR_OK, "localhost"},
            {"LOCALHOST.", true, QERR_OK, "localhost"},
            {"localhost", false, QERR_NAME_INVALID, NULL},
            {"intranet", true, QERR_NAME_INVALID, NULL},
            {"*.localhost", true, QERR_NAME_INVALID, NULL},
            {"a.localhost", true, QERR_OK, "a.localhost"},
            {"127.0.0.1", true, QERR_OK, "127.0.0.1"},
            {"127.0.0.1", false, QERR_POLICY_DENIED, NULL},
            {"::1", true, QERR_OK, "::1"},
            {"*.example.com", false, QERR_OK, "*.example.com"},
            {"*.example.com", true, QERR_OK, "*.example.com"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char out[QUILL_MAX_NAME_LEN + 1];
                struct qerr_info ei;
                qerr_clear(&ei);
                enum qerr rc = policy_check_name_ex(cases[i].in, policy_name_flags(cases[i].priv),
                                                    out, sizeof out, &ei);
                if (rc != cases[i].want)
                        fail_msg("%s (private %d): %s, expected %s", cases[i].in, cases[i].priv,
                                 qerr_code(rc), qerr_code(cases[i].want));
                if (rc == QERR_OK)
                        assert_string_equal(out, cases[i].out);
        }
}

static void test_name_null_and_buffers(void **state)
{
        (void)state;
        struct qerr_info ei;
        qerr_clear(&ei);
        expect_answer(policy_check_name(NULL, true, true, NULL, 0, &ei), &ei, QERR_NAME_INVALID,
                      NULL, NULL);
        /* no output buffer: check only */
        assert_int_equal(policy_check_name("www.example.com", false, false, NULL, 0, NULL),
                         QERR_OK);
        /* an output buffer that is too small is a caller bug, not a bad name */
        char small[8];
        qerr_clear(&ei);
        expect_answer(policy_check_name("www.example.com", false, false, small, sizeof small, &ei),
                      &ei, QERR_INTERNAL, NULL, NULL);
        assert_string_equal(small, "");
        /* exactly fitting */
        char fit[sizeof "www.example.com"];
        assert_int_equal(policy_check_name("www.example.com", false, false, fit, sizeof fit, NULL),
                         QERR_OK);
        assert_string_equal(fit, "www.example.com");
        /* a very long input is rejected without overflow */
        char big[2048];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        qerr_clear(&ei);
        expect_answer(policy_check_name(big, false, false, NULL, 0, &ei), &ei, QERR_NAME_INVALID,
                      "2047 bytes", NULL);

        char rd[16];
        assert_false(policy_registered_domain(NULL, rd, sizeof rd));
        assert_false(policy_registered_domain("www.example.com", NULL, 0));
        char tiny[5];
        assert_false(policy_registered_domain("www.example.com", tiny, sizeof tiny));
        assert_true(policy_registered_domain("www.example.com", rd, sizeof rd));
        assert_string_equal(rd, "example.com");
}

/* issue 7: internal names and IP literals are refused for public profiles */
static void test_public_names(void **state)
{
        (void)state;
        static const struct {
                const char *name;
                bool internal;
        } rows[] = {
            {"www.example.com", false},
            {"a.b.example.co.uk", false},
            {"quill-test.org", false},
            {"*.example.net", false},
            {"xn--p1ai", false},
            {"WWW.Example.COM.", false},
            {"www.example.test", true},
            {"printer.local", true},
            {"db.corp.internal", true},
            {"host.example", true},
            {"x.invalid", true},
            {"router.lan", true},
            {"abc.onion", true},
            {"router.home.arpa", true},
            {"localhost", true},
            {"*.corp.internal", true},
            {"", true},
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                if (policy_name_is_internal(rows[i].name) != rows[i].internal)
                        fail_msg("%s: internal should be %d", rows[i].name, rows[i].internal);
                struct qerr_info ei;
                qerr_clear(&ei);
                enum qerr rc = policy_check_public_name(rows[i].name, &ei);
                assert_int_equal(rc, rows[i].internal ? QERR_POLICY_DENIED : QERR_OK);
                if (rows[i].internal && rows[i].name[0])
                        assert_non_null(strstr(qerr_message(&ei), "internal name"));
        }
        struct qerr_info ei;
        qerr_clear(&ei);
        expect_answer(policy_check_public_name("192.0.2.1", &ei), &ei, QERR_POLICY_DENIED,
                      "IP address", NULL);
        expect_answer(policy_check_public_name("2001:db8::1", &ei), &ei, QERR_POLICY_DENIED,
                      "IP address", NULL);
        assert_true(policy_name_is_public_suffix("co.uk"));
        assert_true(policy_name_is_public_suffix("COM"));
        assert_false(policy_name_is_public_suffix("example.com"));
        assert_false(policy_name_is_public_suffix("github.io")); /* private section */
}

static void test_null_facts(void **state)
{
        (void)state;
        struct qerr_info ei;
        const struct revoke_facts rf = {.cert = NULL};
        const struct reissue_facts sf = {.cert = NULL};
        qerr_clear(&ei);
        expect_answer(policy_may_revoke(&rf, &ei), &ei, QERR_INTERNAL, NULL, NULL);
        qerr_clear(&ei);
        expect_answer(policy_may_reissue(&sf, &ei), &ei, QERR_INTERNAL, NULL, NULL);
        qerr_clear(&ei);
        expect_answer(policy_may_download(NULL, 0, &ei), &ei, QERR_INTERNAL, NULL, NULL);
        qerr_clear(&ei);
        expect_answer(policy_may_delete(NULL, 0, &ei), &ei, QERR_INTERNAL, NULL, NULL);
        /* a NULL qerr_info is allowed: only the code comes back */
        const struct cert_rec c = make_cert(ORIGIN_ISSUED, CERT_REVOKED, DAY);
        assert_int_equal(policy_may_download(&c, now_fixed(), NULL), QERR_DOWNLOAD_REVOKED);
}

static void test_validity_extremes(void **state)
{
        (void)state;
        struct qerr_info ei;
        qerr_clear(&ei);
        /* no overflow on the widest possible span */
        expect_answer(policy_check_validity(PROFILE_DV, INT64_MIN, INT64_MAX, 0, 0, &ei), &ei,
                      QERR_POLICY_DENIED, NULL, NULL);
        assert_int_equal(policy_check_validity(PROFILE_PRIVATE, 0, 1000 * DAY, 0, 1L << 62, NULL),
                         QERR_OK);
}

/* ---- runner ---- */

/* Every table row struct starts with `const char *name`. */
#define TABLE(rows, fn)                                                                            \
        {                                                                                          \
                rows, sizeof rows[0], sizeof rows / sizeof rows[0], fn                             \
        }

struct table {
        const void *rows;
        size_t rowsz, n;
        CMUnitTestFunction fn;
};

/* ---- CRL shards ---- */

static void test_crl_shard_values(void **state)
{
        (void)state;
        /* FNV-1a 32 of the serial's magnitude bytes, mod shards: the values
         * are part of issued certificates and must never change */
        assert_int_equal(policy_crl_shard("01", 16), 12); /* 67918732 % 16 */
        assert_int_equal(policy_crl_shard("1", 16), 12);
        assert_int_equal(policy_crl_shard("40000000000000000000000000000000", 16), 5);
        assert_int_equal(policy_crl_shard("7fffffffffffffffffffffffffffffff", 256), 117);
        assert_int_equal(policy_crl_shard("0102030405", 7), 4);
        /* leading zero bytes and case do not matter */
        assert_int_equal(policy_crl_shard("000001", 16), 12);
        assert_int_equal(policy_crl_shard("7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 256), 117);
        /* one shard: everything in 0 */
        assert_int_equal(policy_crl_shard("5f8959bb0c6de3cc295ec7a42bd688f5", 1), 0);
}

static void test_crl_shard_refuses(void **state)
{
        (void)state;
        assert_int_equal(policy_crl_shard(NULL, 16), -1);
        assert_int_equal(policy_crl_shard("", 16), -1);
        assert_int_equal(policy_crl_shard("0g", 16), -1);
        assert_int_equal(policy_crl_shard("01", 0), -1);
        assert_int_equal(policy_crl_shard("01", 257), -1);
        /* 21 bytes of magnitude: longer than any serial (RFC 5280 4.1.2.2) */
        assert_int_equal(policy_crl_shard("010203040506070809101112131415161718192021", 16), -1);
        /* but 20 bytes with leading zeros beyond them are fine */
        assert_int_equal(policy_crl_shard("0000"
                                          "0102030405060708091011121314151617181920",
                                          16) >= 0,
                         1);
}

/* Random serials (as quill draws them) spread evenly: no shard gets more
 * than 20% above or below its share. */
static void test_crl_shard_spread(void **state)
{
        (void)state;
        const int shards[] = {16, 7, 256};
        for (size_t s = 0; s < sizeof shards / sizeof shards[0]; s++) {
                int n = shards[s], per = 2000;
                int *count = calloc((size_t)n, sizeof *count);
                uint64_t x = 88172645463325252ull;
                for (int i = 0; i < n * per; i++) {
                        char hex[33];
                        for (int k = 0; k < 32; k += 16) {
                                x ^= x << 13;
                                x ^= x >> 7;
                                x ^= x << 17;
                                snprintf(hex + k, 17, "%016llx", (unsigned long long)x);
                        }
                        hex[0] = '4';
                        int sh = policy_crl_shard(hex, n);
                        assert_true(sh >= 0 && sh < n);
                        count[sh]++;
                }
                for (int k = 0; k < n; k++)
                        if (count[k] < per * 8 / 10 || count[k] > per * 12 / 10)
                                fail_msg("%d shards: shard %d got %d of %d", n, k, count[k],
                                         n * per);
                free(count);
        }
        /* sequential serials spread too */
        int count[16] = {0};
        for (int i = 0; i < 16000; i++) {
                char hex[16];
                snprintf(hex, sizeof hex, "%x", 0x100000 + i);
                count[policy_crl_shard(hex, 16)]++;
        }
        for (int k = 0; k < 16; k++)
                assert_true(count[k] > 800 && count[k] < 1200);
}

int main(void)
{
        const struct table tables[] = {
            TABLE(revoke_cases, test_revoke_row),     TABLE(download_cases, test_download_row),
            TABLE(reissue_cases, test_reissue_row),   TABLE(revalidate_cases, test_revalidate_row),
            TABLE(delete_cases, test_delete_row),     TABLE(maxval_cases, test_maxval_row),
            TABLE(validity_cases, test_validity_row), TABLE(name_cases, test_name_row),
            TABLE(regdom_cases, test_regdom_row),     TABLE(baseurl_cases, test_baseurl_row),
            TABLE(reuse_cases, test_reuse_row),       TABLE(fresh_cases, test_fresh_row),
        };
        const struct CMUnitTest singles[] = {
            cmocka_unit_test(test_name_null_and_buffers),
            cmocka_unit_test(test_name_flags),
            cmocka_unit_test(test_null_facts),
            cmocka_unit_test(test_validity_extremes),
            cmocka_unit_test(test_public_names),
            cmocka_unit_test(test_crl_shard_values),
            cmocka_unit_test(test_crl_shard_refuses),
            cmocka_unit_test(test_crl_shard_spread),
        };
        const size_t nsingles = sizeof singles / sizeof singles[0];
        size_t total = nsingles;
        for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
                total += tables[t].n;

        struct CMUnitTest *tests = calloc(total, sizeof *tests);
        if (!tests) {
                fprintf(stderr, "out of memory\n");
                return 1;
        }
        size_t k = 0;
        for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
                for (size_t i = 0; i < tables[t].n; i++) {
                        const void *row = (const char *)tables[t].rows + i * tables[t].rowsz;
                        tests[k].name = *(const char *const *)row;
                        tests[k].test_func = tables[t].fn;
                        tests[k].initial_state = (void *)row;
                        k++;
                }
        for (size_t i = 0; i < nsingles; i++)
                tests[k++] = singles[i];

        const int failed = _cmocka_run_group_tests("policy", tests, total, NULL, NULL);
        free(tests);
        return failed;
}
