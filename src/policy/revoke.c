/*
 * revoke.c - RULES.md §5: may this certificate be revoked now?
 *
 * policy_may_revoke() looks only at the facts passed in (the certificate row,
 * "now", whether a renewal is under way) and answers QERR_OK or the one
 * stable error that decided, with a sentence naming the certificate, its
 * dates and the way out. The checks run in a fixed order so that the most
 * fundamental reason wins: origin, then lineage, then status, then the
 * renewal window. A certificate in status "reissuing" may be revoked: it is
 * an original, and revoking it revokes its reissues (§5).
 *
 * Memory: borrows `f` and everything it points to for the call; writes only
 * into `ei`. Pure (no I/O, no clock, no global state); any thread.
 */
#include "policy.h"

#include <inttypes.h>

#include "policy_fmt.h"

enum qerr policy_may_revoke(const struct revoke_facts *f, struct qerr_info *ei)
{
        if (!f || !f->cert)
                return qerr_set(ei, QERR_INTERNAL,
                                "No certificate was given to the revocation check; this is a bug, "
                                "please report it. Nothing was changed.");
        const struct cert_rec *c = f->cert;
        char na[POLICY_FMT_LEN];
        policy_fmt_time(c->not_after, na);

        if (c->origin == ORIGIN_UPLOADED)
                return qerr_set(ei, QERR_REVOKE_UPLOADED,
                                "Certificate %" PRId64 " was uploaded, not issued by this service, "
                                "so it cannot be revoked here; ask the CA that issued it (%s) to "
                                "revoke it.",
                                c->id, c->issuer && c->issuer[0] ? c->issuer : "see its issuer");
        if (c->parent_id != 0)
                return qerr_set(ei, QERR_REVOKE_REISSUED,
                                "Certificate %" PRId64 " is a reissue of certificate %" PRId64
                                " and cannot be revoked on its own; revoke certificate %" PRId64
                                ", which also revokes every certificate reissued from it.",
                                c->id, c->parent_id, c->parent_id);
        if (c->status == CERT_REVOKED || c->status == CERT_REVOCATION_PENDING)
                return qerr_set(ei, QERR_REVOKE_ALREADY,
                                "Certificate %" PRId64 " is already %s; a submitted revocation "
                                "cannot be repeated or cancelled, so there is nothing more to do.",
                                c->id, cert_status_name(c->status));

        const enum cert_status eff = cert_effective_status(c, f->now);
        if (eff != CERT_ISSUED && eff != CERT_REISSUING) {
                if (eff == CERT_EXPIRED)
                        return qerr_set(ei, QERR_REVOKE_STATUS,
                                        "Certificate %" PRId64 " expired on %s, so it cannot be "
                                        "revoked; an expired certificate is no longer trusted and "
                                        "can simply be deleted.",
                                        c->id, na);
                return qerr_set(ei, QERR_REVOKE_STATUS,
                                "Certificate %" PRId64 " is %s, so it cannot be revoked; only an "
                                "issued, unexpired certificate can be revoked.",
                                c->id, cert_status_name(eff));
        }

        if (f->renewal_in_progress &&
            policy_within(c->not_after, f->now, POLICY_RENEWAL_WINDOW_DAYS * QTIME_DAY)) {
                char left[POLICY_FMT_LEN];
                policy_fmt_span(policy_span(c->not_after, f->now), left);
                const char *label =
                    f->renewal_label && f->renewal_label[0] ? f->renewal_label : "unnamed renewal";
                return qerr_set(ei, QERR_REVOKE_RENEWAL,
                                "Certificate %" PRId64 " expires on %s (in %s, within the %d-day "
                                "renewal window) and a renewal is in progress (%s); finish or "
                                "cancel that renewal before revoking it.",
                                c->id, na, left, POLICY_RENEWAL_WINDOW_DAYS, label);
        }
        return QERR_OK;
}
