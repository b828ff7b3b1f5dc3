/*
 * profile.h - issuance profiles: the `profile` an ACME client names in
 * newOrder (and lists from the directory's meta.profiles), and the rules
 * that follow from it.
 *
 * A profile is not a new certificate type: all three are publicly trusted
 * domain-validated certificates (enum cert_profile PROFILE_DV: the DV
 * policy OID, the DV subject, the same linter rules, stored as "dv"). What a
 * profile adds is a validity and which identifiers it may carry:
 *
 *   classic     the default: the Baseline Requirements maximum on the day of
 *               issuance ([profile] public_max_days may lower it)
 *   tlsserver   45 days (or less when the BR maximum or the cap is lower)
 *   shortlived  160 hours; may also carry IP addresses (RFC 8738), public
 *               ones only, validated by http-01 or tls-alpn-01
 *
 * The signer is told the profile by its wire name (`struct issue_profile`
 * .wire, the signer request's profile field: "dv" for classic,
 * "tlsserver", "shortlived") and checks names and validity against the same
 * table (policy_profile_from_wire), so a request can never get a longer
 * validity or an IP address its profile does not allow.
 *
 * Validity counts both ends (RFC 5280 4.1.2.5, BR 1.6.1): a lifetime of L
 * seconds means not_after = not_before + L - 1.
 *
 * Pure: a const table, no I/O, no clock, no allocation; any thread. Results
 * point into the static table (do not free).
 */
#ifndef QUILL_POLICY_PROFILE_H
#define QUILL_POLICY_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "../base/model.h"
#include "../base/qtime.h"

#define PROFILE_TLSSERVER_DAYS 45
#define PROFILE_SHORTLIVED_HOURS 160

struct issue_profile {
        const char *name;        /* "classic", "tlsserver", "shortlived" */
        const char *wire;        /* the signer's profile field: "dv", "tlsserver", "shortlived" */
        enum cert_profile type;  /* PROFILE_DV for all three */
        int64_t max_seconds;     /* the profile's own lifetime; 0: the BR maximum on the day */
        bool ip_identifiers;     /* may name IP addresses (RFC 8738) */
        const char *description; /* one sentence, for meta.profiles and docs */
};

/* The table, in the order meta.profiles lists it (classic first). */
const struct issue_profile *policy_profiles(size_t *n);
/* classic: what an order that names no profile gets. */
const struct issue_profile *policy_profile_default(void);
/* The profile called `name` (exact, lower case), or NULL. */
const struct issue_profile *policy_profile_find(const char *name);
/* The same, with a sentence for an unknown name (QERR_POLICY_DENIED, naming
 * the profiles there are; ACME: invalidProfile). NULL name: the default. */
enum qerr policy_profile_lookup(const char *name, const struct issue_profile **out,
                                struct qerr_info *ei);

/* The signer's side: `wire` is a certificate type name ("private", "dv",
 * "ov", "ev": *variant = NULL, the type's own rules) or a profile's wire
 * name ("tlsserver", "shortlived": *type = its type, *variant = it). false
 * for anything else. */
bool policy_profile_from_wire(const char *wire, enum cert_profile *type,
                              const struct issue_profile **variant);

/* The lifetime in seconds, both ends counted, of a certificate of profile
 * `p` whose notBefore is `not_before`: the profile's own lifetime, never
 * more than the BR maximum on that day lowered by `public_cap_days` when
 * that is > 0 (policy_max_validity_days). Always > 0. */
int64_t policy_profile_lifetime(const struct issue_profile *p, qtime_t not_before,
                                long public_cap_days);
/* not_before + policy_profile_lifetime(...) - 1. */
qtime_t policy_profile_not_after(const struct issue_profile *p, qtime_t not_before,
                                 long public_cap_days);
/* QERR_OK, or POLICY_DENIED when not_after is not after not_before or the
 * validity (both ends counted) is longer than the profile allows on the
 * day; the sentence names the profile, the limit and the latest not-after. */
enum qerr policy_profile_check_validity(const struct issue_profile *p, qtime_t not_before,
                                        qtime_t not_after, long public_cap_days,
                                        struct qerr_info *ei);

/* The flags of policy_check_name_ex for the profile: wildcards, and IP
 * addresses when the profile allows them. */
unsigned policy_profile_name_flags(const struct issue_profile *p);
/* Checks one identifier of an order under profile `p` and writes its
 * normalised form (lower-case name without trailing dot, or canonical IP
 * text) into `out`: policy_check_name_ex with the profile's flags, then for
 * a DNS name policy_check_public_name (no internal names), for an IP
 * address: only if the profile allows IP addresses (else POLICY_DENIED
 * naming the profile that does), and only a public address (netaddr.h:
 * POLICY_DENIED naming its block) unless `allow_private` ([validation]
 * allow_private_addresses, tests only). NAME_INVALID or POLICY_DENIED. */
enum qerr policy_profile_check_name(const struct issue_profile *p, const char *name,
                                    bool allow_private, char *out, size_t outsz,
                                    struct qerr_info *ei);

#endif
