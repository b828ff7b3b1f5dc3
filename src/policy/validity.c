/*
 * validity.c - RULES.md §8: the longest validity a certificate may have.
 *
 * Public profiles follow the CA/Browser Forum Baseline Requirements schedule
 * (ballot SC-081) by issue date, in UTC: 398 days before 2026-03-15, 200 from
 * 2026-03-15, 100 from 2027-03-15, 47 from 2029-03-15. The configuration may
 * lower it (public_cap_days > 0) but never raise it. The private profile uses
 * its own configured maximum. The issue date whose rule applies is the
 * certificate's not-before, the date the BRs look at.
 *
 * Validation reuse (BR 4.2.1, ballot SC-081) follows its own schedule by the
 * day of issuance: 398 days before 2026-03-15, 200 from 2026-03-15, 100 from
 * 2027-03-15, 10 from 2029-03-15, lowered by [validation] reuse_days.
 *
 * The validity period counts both ends (RFC 5280 4.1.2.5, BR 1.6.1): a
 * certificate from 00:00:00 to 23:59:59 the same day lasts exactly one day,
 * so not_after - not_before + 1 second must not exceed max days. Arithmetic
 * is done unsigned so that no input can overflow.
 *
 * Memory: nothing allocated; writes only into `ei`. Pure (no I/O, no clock,
 * no global state: the schedule is a const table); any thread.
 */
#include "policy.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "policy_fmt.h"

struct br_step {
        int y, m, d;
        long days;
};

/* Newest first; a date before every step gets BR_DAYS_BEFORE. */
static const struct br_step br_schedule[] = {
    {2029, 3, 15, 47},
    {2027, 3, 15, 100},
    {2026, 3, 15, 200},
};
#define BR_DAYS_BEFORE 398L

/* The BR maximum for `issue_date`, and the step that decided it (NULL when
 * the date is before every step). */
static long br_max_days(qtime_t issue_date, const struct br_step **step)
{
        for (size_t i = 0; i < sizeof br_schedule / sizeof br_schedule[0]; i++) {
                const struct br_step *s = &br_schedule[i];
                if (issue_date >= qtime_from_ymd(s->y, s->m, s->d)) {
                        *step = s;
                        return s->days;
                }
        }
        *step = NULL;
        return BR_DAYS_BEFORE;
}

long policy_max_validity_days(enum cert_profile profile, qtime_t issue_date, long public_cap_days,
                              long private_max_days)
{
        if (!cert_profile_is_public(profile))
                return private_max_days;
        const struct br_step *step;
        const long br = br_max_days(issue_date, &step);
        return public_cap_days > 0 && public_cap_days < br ? public_cap_days : br;
}

/* Sentence part naming the rule that set the maximum, e.g. "the CA/Browser
 * Forum rule in force from 2026-03-15". */
static void describe_rule(enum cert_profile profile, qtime_t issue_date, long public_cap_days,
                          long max_days, char *out, size_t outsz)
{
        if (!cert_profile_is_public(profile)) {
                snprintf(out, outsz, "the private profile's configured maximum");
                return;
        }
        const struct br_step *step;
        const long br = br_max_days(issue_date, &step);
        char from[48];
        if (step)
                snprintf(from, sizeof from, "in force from %04d-%02d-%02d", step->y, step->m,
                         step->d);
        else
                snprintf(from, sizeof from, "in force before 2026-03-15");
        if (max_days < br)
                snprintf(out, outsz,
                         "the configured cap of %ld days (the CA/Browser Forum rule %s allows "
                         "%ld)",
                         public_cap_days, from, br);
        else
                snprintf(out, outsz, "the CA/Browser Forum rule %s", from);
}

enum qerr policy_check_validity(enum cert_profile profile, qtime_t not_before, qtime_t not_after,
                                long public_cap_days, long private_max_days, struct qerr_info *ei)
{
        char nb[POLICY_FMT_LEN], na[POLICY_FMT_LEN];
        policy_fmt_time(not_before, nb);
        policy_fmt_time(not_after, na);
        if (not_after <= not_before)
                return qerr_set(ei, QERR_POLICY_DENIED,
                                "The requested not-after (%s) is not later than the not-before "
                                "(%s); choose a not-after after the not-before.",
                                na, nb);

        const long max_days =
            policy_max_validity_days(profile, not_before, public_cap_days, private_max_days);
        /* allowed length in seconds, saturating; 0 when max_days <= 0 */
        uint64_t allowed = 0;
        if (max_days > 0)
                allowed = (uint64_t)max_days > UINT64_MAX / (uint64_t)QTIME_DAY
                              ? UINT64_MAX
                              : (uint64_t)max_days * (uint64_t)QTIME_DAY;
        const uint64_t diff = (uint64_t)not_after - (uint64_t)not_before; /* > 0 */
        if (diff < allowed)                                               /* diff + 1 <= allowed */
                return QERR_OK;

        char day[POLICY_FMT_LEN], req[POLICY_FMT_LEN], rule[256];
        policy_fmt_date(not_before, day);
        policy_fmt_span(diff == UINT64_MAX ? diff : diff + 1, req);
        describe_rule(profile, not_before, public_cap_days, max_days, rule, sizeof rule);
        if (max_days <= 0)
                return qerr_set(ei, QERR_POLICY_DENIED,
                                "The requested validity is %s (from %s to %s, counting both "
                                "ends), but the %s profile allows %ld days under %s; configure a "
                                "positive maximum.",
                                req, nb, na, cert_profile_name(profile), max_days, rule);
        char latest[POLICY_FMT_LEN];
        policy_fmt_time((qtime_t)((uint64_t)not_before + allowed - 1), latest);
        return qerr_set(ei, QERR_POLICY_DENIED,
                        "The requested validity is %s (from %s to %s, counting both ends), but "
                        "a %s certificate issued on %s may last at most %ld days under %s; set "
                        "not-after to %s or earlier.",
                        req, nb, na, cert_profile_name(profile), day, max_days, rule, latest);
}

/* ---- validation reuse (BR 4.2.1) ---- */

/* Newest first; a date before every step gets REUSE_DAYS_BEFORE. */
static const struct br_step reuse_schedule[] = {
    {2029, 3, 15, 10},
    {2027, 3, 15, 100},
    {2026, 3, 15, 200},
};
#define REUSE_DAYS_BEFORE 398L

long policy_validation_reuse_days(qtime_t day, long cap_days)
{
        long br = REUSE_DAYS_BEFORE;
        for (size_t i = 0; i < sizeof reuse_schedule / sizeof reuse_schedule[0]; i++) {
                const struct br_step *s = &reuse_schedule[i];
                if (day >= qtime_from_ymd(s->y, s->m, s->d)) {
                        br = s->days;
                        break;
                }
        }
        return cap_days > 0 && cap_days < br ? cap_days : br;
}

bool policy_validation_fresh(qtime_t validated_at, qtime_t now, long cap_days)
{
        if (validated_at <= 0)
                return false;
        if (validated_at >= now)
                return true; /* clock skew between processes: made just now */
        const uint64_t age = (uint64_t)now - (uint64_t)validated_at;
        const long days = policy_validation_reuse_days(now, cap_days);
        return days > 0 && age <= (uint64_t)days * (uint64_t)QTIME_DAY;
}
