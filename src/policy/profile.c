/*
 * profile.c - the issuance profiles of profile.h: the table and the rules
 * that follow from it (validity on the day, which identifiers).
 *
 * The BR maximum on the day comes from policy_max_validity_days
 * (validity.c), so the schedule lives in one place: a profile only ever
 * shortens it. Memory: nothing allocated. Pure; any thread.
 */
#include "profile.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../base/netaddr.h"
#include "policy.h"
#include "policy_fmt.h"

static const struct issue_profile profiles[] = {
    {"classic", "dv", PROFILE_DV, 0, false,
     "Domain-validated TLS server certificate with the longest validity the CA/Browser Forum "
     "Baseline Requirements allow on the day of issuance (the default)."},
    {"tlsserver", "tlsserver", PROFILE_DV, (int64_t)PROFILE_TLSSERVER_DAYS *QTIME_DAY, false,
     "Domain-validated TLS server certificate valid for 45 days."},
    {"shortlived", "shortlived", PROFILE_DV, (int64_t)PROFILE_SHORTLIVED_HOURS * 3600, true,
     "Domain-validated TLS server certificate valid for 160 hours; may also name public IP "
     "addresses (RFC 8738), validated by http-01 or tls-alpn-01."},
};
#define NPROFILES (sizeof profiles / sizeof profiles[0])

const struct issue_profile *policy_profiles(size_t *n)
{
        *n = NPROFILES;
        return profiles;
}

const struct issue_profile *policy_profile_default(void)
{
        return &profiles[0];
}

const struct issue_profile *policy_profile_find(const char *name)
{
        for (size_t i = 0; name && i < NPROFILES; i++)
                if (strcmp(profiles[i].name, name) == 0)
                        return &profiles[i];
        return NULL;
}

enum qerr policy_profile_lookup(const char *name, const struct issue_profile **out,
                                struct qerr_info *ei)
{
        *out = name ? policy_profile_find(name) : policy_profile_default();
        if (*out)
                return QERR_OK;
        /* the name is the client's: shown cut, never trusted as a format */
        char shown[40];
        size_t i = 0;
        for (; name[i] && i < sizeof shown - 1; i++)
                shown[i] = (name[i] >= 0x20 && name[i] < 0x7f) ? name[i] : '?';
        shown[i] = '\0';
        return qerr_set(ei, QERR_POLICY_DENIED,
                        "There is no profile \"%s%s\"; use classic (the default), tlsserver "
                        "(45 days) or shortlived (160 hours, IP addresses allowed).",
                        shown, name[i] ? "..." : "");
}

bool policy_profile_from_wire(const char *wire, enum cert_profile *type,
                              const struct issue_profile **variant)
{
        if (!wire)
                return false;
        if (cert_profile_from_name(wire, type)) {
                *variant = NULL;
                return true;
        }
        for (size_t i = 0; i < NPROFILES; i++)
                if (profiles[i].max_seconds > 0 && strcmp(profiles[i].wire, wire) == 0) {
                        *type = profiles[i].type;
                        *variant = &profiles[i];
                        return true;
                }
        return false;
}

int64_t policy_profile_lifetime(const struct issue_profile *p, qtime_t not_before,
                                long public_cap_days)
{
        long days = policy_max_validity_days(p->type, not_before, public_cap_days, 0);
        int64_t br = days > 0 ? (int64_t)days * QTIME_DAY : QTIME_DAY;
        return p->max_seconds > 0 && p->max_seconds < br ? p->max_seconds : br;
}

qtime_t policy_profile_not_after(const struct issue_profile *p, qtime_t not_before,
                                 long public_cap_days)
{
        return not_before + policy_profile_lifetime(p, not_before, public_cap_days) - 1;
}

/* "45 days", "160 hours", or the span in days and seconds. */
static const char *fmt_life(uint64_t secs, char out[POLICY_FMT_LEN])
{
        if (secs % (uint64_t)QTIME_DAY != 0 && secs % 3600 == 0) {
                snprintf(out, POLICY_FMT_LEN, "%" PRIu64 " hours", secs / 3600);
                return out;
        }
        return policy_fmt_span(secs, out);
}

enum qerr policy_profile_check_validity(const struct issue_profile *p, qtime_t not_before,
                                        qtime_t not_after, long public_cap_days,
                                        struct qerr_info *ei)
{
        char nb[POLICY_FMT_LEN], na[POLICY_FMT_LEN];
        policy_fmt_time(not_before, nb);
        policy_fmt_time(not_after, na);
        if (not_after <= not_before)
                return qerr_set(ei, QERR_POLICY_DENIED,
                                "The requested not-after (%s) is not later than the not-before "
                                "(%s); choose a not-after after the not-before.",
                                na, nb);
        const int64_t life = policy_profile_lifetime(p, not_before, public_cap_days);
        const uint64_t diff = (uint64_t)not_after - (uint64_t)not_before; /* > 0 */
        if (diff < (uint64_t)life)                                        /* diff + 1 <= life */
                return QERR_OK;
        char req[POLICY_FMT_LEN], allowed[POLICY_FMT_LEN], latest[POLICY_FMT_LEN];
        char day[POLICY_FMT_LEN];
        fmt_life(diff == UINT64_MAX ? diff : diff + 1, req);
        fmt_life((uint64_t)life, allowed);
        policy_fmt_time(not_before + life - 1, latest);
        policy_fmt_date(not_before, day);
        return qerr_set(ei, QERR_POLICY_DENIED,
                        "The requested validity is %s (from %s to %s, counting both ends), but "
                        "a certificate of the %s profile issued on %s may last at most %s; set "
                        "not-after to %s or earlier.",
                        req, nb, na, p->name, day, allowed, latest);
}

unsigned policy_profile_name_flags(const struct issue_profile *p)
{
        return POLICY_NAME_WILDCARD | (p->ip_identifiers ? (unsigned)POLICY_NAME_IP : 0u);
}

enum qerr policy_profile_check_name(const struct issue_profile *p, const char *name,
                                    bool allow_private, char *out, size_t outsz,
                                    struct qerr_info *ei)
{
        /* IP addresses are parsed whatever the profile, so that the refusal
         * can say which profile takes them */
        enum qerr rc = policy_check_name_ex(name, policy_profile_name_flags(p) | POLICY_NAME_IP,
                                            out, outsz, ei);
        if (rc != QERR_OK)
                return rc;
        struct netaddr a;
        if (!netaddr_parse(out, &a)) {
                rc = policy_check_public_name(out, ei);
                if (rc != QERR_OK)
                        out[0] = '\0';
                return rc;
        }
        if (!p->ip_identifiers) {
                rc = qerr_set(ei, QERR_POLICY_DENIED,
                              "\"%s\" is an IP address, and the %s profile names DNS names "
                              "only; order it under the shortlived profile (RFC 8738).",
                              out, p->name);
                out[0] = '\0';
                return rc;
        }
        struct netaddr_verdict v;
        netaddr_classify(&a, &v);
        if (v.special && !allow_private) {
                char why[NETADDR_WHY_MAX];
                netaddr_describe(&a, &v, why, sizeof why);
                rc = qerr_set(ei, QERR_POLICY_DENIED,
                              "%s is a special-purpose address: a publicly trusted certificate "
                              "names only globally reachable IP addresses (BR 7.1.2.7.12); order "
                              "a public address.",
                              why);
                out[0] = '\0';
                return rc;
        }
        return QERR_OK;
}
