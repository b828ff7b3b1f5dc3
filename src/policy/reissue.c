/*
 * reissue.c - RULES.md §6: may this certificate be reissued now, and must
 * its names be validated again?
 *
 * policy_reissue_needs_validation() adds BR 4.2.1 to §6: the names'
 * validation must still be within the reuse period (validity.c).
 *
 * policy_may_reissue() answers QERR_OK or the one stable error that decided,
 * checked in a fixed order: origin, a reissue already running, status
 * (effective: an expired certificate is not "issued"), the 30-day window
 * (strictly more than 30 days of validity must be left, since a reissue
 * keeps the original's not-after), the free-DV limit of one reissue per
 * lineage, and finally the registered-domain lock held by another
 * certificate. The caller computes the lineage count and the lock from the
 * store (policy_registered_domain() gives the lock key).
 *
 * Memory: borrows `f` and everything it points to for the call; writes only
 * into `ei`. Pure (no I/O, no clock, no global state); any thread.
 */
#include "policy.h"

#include <inttypes.h>

#include "policy_fmt.h"

enum qerr policy_may_reissue(const struct reissue_facts *f, struct qerr_info *ei)
{
        if (!f || !f->cert)
                return qerr_set(ei, QERR_INTERNAL,
                                "No certificate was given to the reissue check; this is a bug, "
                                "please report it. Nothing was changed.");
        const struct cert_rec *c = f->cert;
        char na[POLICY_FMT_LEN];
        policy_fmt_time(c->not_after, na);

        if (c->origin == ORIGIN_UPLOADED)
                return qerr_set(ei, QERR_REISSUE_UPLOADED,
                                "Certificate %" PRId64 " was uploaded, not issued by this service, "
                                "so it cannot be reissued here; get a new certificate from its CA "
                                "and upload that instead.",
                                c->id);
        if (c->status == CERT_REISSUING)
                return qerr_set(ei, QERR_REISSUE_IN_PROGRESS,
                                "A reissue of certificate %" PRId64 " is already in progress; wait "
                                "for it to finish before asking for another.",
                                c->id);
        const enum cert_status eff = cert_effective_status(c, f->now);
        if (eff == CERT_EXPIRED)
                return qerr_set(ei, QERR_REISSUE_STATUS,
                                "Certificate %" PRId64 " expired on %s and cannot be reissued; "
                                "apply for a new certificate instead.",
                                c->id, na);
        if (eff != CERT_ISSUED)
                return qerr_set(ei, QERR_REISSUE_STATUS,
                                "Certificate %" PRId64 " is %s; only an issued certificate can be "
                                "reissued. Apply for a new certificate instead.",
                                c->id, cert_status_name(eff));
        if (policy_within(c->not_after, f->now, POLICY_REISSUE_MIN_DAYS_LEFT * QTIME_DAY)) {
                char left[POLICY_FMT_LEN];
                policy_fmt_span(policy_span(c->not_after, f->now), left);
                return qerr_set(ei, QERR_REISSUE_TOO_LATE,
                                "Certificate %" PRId64 " expires on %s, only %s from now; a "
                                "reissue needs more than %d days of validity left (it keeps the "
                                "original's expiry). Apply for a new certificate instead.",
                                c->id, na, left, POLICY_REISSUE_MIN_DAYS_LEFT);
        }
        if (c->profile == PROFILE_DV && c->free_cert &&
            f->lineage_reissues >= POLICY_FREE_DV_REISSUES)
                return qerr_set(ei, QERR_REISSUE_LIMIT,
                                "Certificate %" PRId64 " is a free DV certificate and its lineage "
                                "has already been reissued %d time%s (the limit is %d); apply for "
                                "a new certificate instead.",
                                c->id, f->lineage_reissues, f->lineage_reissues == 1 ? "" : "s",
                                POLICY_FREE_DV_REISSUES);
        if (f->locked_by_cert != 0 && f->locked_by_other_tenant)
                return qerr_set(
                    ei, QERR_REISSUE_DOMAIN_LOCKED,
                    "Another certificate under the same registered domain (%s) is "
                    "being reissued; wait for that reissue to finish, then try "
                    "certificate %" PRId64 " again.",
                    f->locked_domain && f->locked_domain[0] ? f->locked_domain : "unknown", c->id);
        if (f->locked_by_cert != 0)
                return qerr_set(
                    ei, QERR_REISSUE_DOMAIN_LOCKED,
                    "Certificate %" PRId64 " under the same registered domain (%s) "
                    "is being reissued; wait for that reissue to finish, then try "
                    "certificate %" PRId64 " again.",
                    f->locked_by_cert,
                    f->locked_domain && f->locked_domain[0] ? f->locked_domain : "unknown", c->id);
        return QERR_OK;
}

bool policy_reissue_needs_validation(bool same_csr, qtime_t original_issued_at,
                                     qtime_t validated_at, long reuse_cap_days, qtime_t now)
{
        /* BR 4.2.1: whatever §6 allows, no certificate is issued on a
         * validation older than the reuse period in force today */
        if (!policy_validation_fresh(validated_at, now, reuse_cap_days))
                return true;
        if (same_csr)
                return false;
        /* "less than 3 days after": a reissue at or before the issue time
         * (clock skew) is within the window too. */
        if (policy_span(now, original_issued_at) <
            (uint64_t)(POLICY_REISSUE_NO_REVALIDATION_DAYS * QTIME_DAY))
                return false;
        return true;
}
