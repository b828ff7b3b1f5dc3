/*
 * delete.c - RULES.md §7: may this certificate be deleted now?
 *
 * An unexpired certificate may be deleted only once it is revoked (a pending
 * revocation is not enough: until the CA has revoked it the certificate is
 * still trusted); an expired one always may. Uploaded certificates may be
 * deleted at any time: §5 forbids revoking them here (only their own CA can),
 * so requiring a revocation first would make them impossible to delete, and
 * deleting our copy changes nothing about their trust. Deleting an already
 * deleted certificate answers NOT_FOUND, like any missing object.
 *
 * Memory: borrows `c` for the call; writes only into `ei`. Pure (no I/O, no
 * clock, no global state); any thread.
 */
#include "policy.h"

#include <inttypes.h>

#include "policy_fmt.h"

enum qerr policy_may_delete(const struct cert_rec *c, qtime_t now, struct qerr_info *ei)
{
        if (!c)
                return qerr_set(ei, QERR_INTERNAL,
                                "No certificate was given to the delete check; this is a bug, "
                                "please report it. Nothing was changed.");
        if (c->status == CERT_DELETED)
                return qerr_set(ei, QERR_NOT_FOUND,
                                "Certificate %" PRId64 " is already deleted; check the id with "
                                "'quill cert list'.",
                                c->id);
        const enum cert_status eff = cert_effective_status(c, now);
        if (eff == CERT_EXPIRED || eff == CERT_REVOKED || c->origin == ORIGIN_UPLOADED)
                return QERR_OK;

        char na[POLICY_FMT_LEN];
        policy_fmt_time(c->not_after, na);
        if (eff == CERT_REVOCATION_PENDING)
                return qerr_set(ei, QERR_DELETE_NOT_REVOKED,
                                "Certificate %" PRId64 " has a revocation pending but is not "
                                "revoked yet, and it is valid until %s; wait until the "
                                "revocation completes, then delete it.",
                                c->id, na);
        return qerr_set(ei, QERR_DELETE_NOT_REVOKED,
                        "Certificate %" PRId64 " is %s and valid until %s; an unexpired "
                        "certificate can be deleted only after it is revoked: revoke it first, "
                        "or wait until it expires.",
                        c->id, cert_status_name(eff), na);
}
