/*
 * download.c - RULES.md §5 and §7: may this certificate be downloaded now?
 *
 * From the moment a revocation is submitted the certificate can no longer be
 * downloaded (§5); a deleted one has nothing to give. Issued, reissuing and
 * expired certificates (issued here or uploaded) may be downloaded: an
 * expired certificate is still the user's record. `now` is unused by the
 * current rules but kept in the signature so a time-based rule can be added
 * without touching callers.
 *
 * Memory: borrows `c` for the call; writes only into `ei`. Pure (no I/O, no
 * clock, no global state); any thread.
 */
#include "policy.h"

#include <inttypes.h>

enum qerr policy_may_download(const struct cert_rec *c, qtime_t now, struct qerr_info *ei)
{
        (void)now;
        if (!c)
                return qerr_set(ei, QERR_INTERNAL,
                                "No certificate was given to the download check; this is a bug, "
                                "please report it.");
        switch (c->status) {
        case CERT_ISSUED:
        case CERT_REISSUING:
        case CERT_EXPIRED:
                return QERR_OK;
        case CERT_REVOKED:
        case CERT_REVOCATION_PENDING:
                return qerr_set(ei, QERR_DOWNLOAD_REVOKED,
                                "Certificate %" PRId64 " is %s and can no longer be downloaded; "
                                "apply for a new certificate if you still need one for these "
                                "names.",
                                c->id, cert_status_name(c->status));
        case CERT_DELETED:
        default:
                return qerr_set(ei, QERR_DOWNLOAD_STATUS,
                                "Certificate %" PRId64 " is %s, so there is nothing to download; "
                                "check the id with 'quill cert list'.",
                                c->id, cert_status_name(c->status));
        }
}
