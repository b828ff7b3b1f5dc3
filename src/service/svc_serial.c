/*
 * svc_serial.c - the first phase of two-phase issuance (svc_issue_int.h):
 * the reservation of a serial, committed before the signer is asked, and
 * its end when the signer never signed.
 *
 * A reservation belongs to the process that made it ("<boot id>/<pid>/
 * <start time>", svc_owner_self) and holds a lease of SERIAL_LEASE seconds
 * (svc_reconcile.c): while its owner runs and the lease lasts, only the
 * owner stores its certificate or voids it. A reservation for an order
 * checks, in its own transaction, that the order is still issuing and has
 * no certificate; one for a reissue that the reissue is still in progress;
 * the unique indexes of migration 008 allow one reservation in flight per
 * order and per reissue, so two processes never sign for one order.
 *
 * One thread per service handle.
 */
#include "svc_issue_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"

/* Inside the reservation's transaction: is the work still waiting for a
 * certificate? */
static enum qerr still_wanted(struct service *s, const struct serial_rec *r, struct qerr_info *ei)
{
        if (r->order_id) {
                struct order_rec *o = NULL;
                enum qerr rc = ST(s)->ops->order_get(ST(s), 0, r->order_id, &o, ei);
                if (rc == QERR_OK && (o->status != ORDER_ISSUING || o->certificate_id))
                        rc = qerr_set(ei, QERR_ORDER_STATE,
                                      "order %lld is %s and needs no certificate now",
                                      (long long)o->id, order_status_name(o->status));
                order_rec_free(o);
                return rc;
        }
        if (r->reissue_id) {
                struct reissue_rec *act = NULL;
                size_t n = 0;
                bool active = false;
                enum qerr rc = ST(s)->ops->reissue_active(ST(s), &act, &n, ei);
                for (size_t i = 0; rc == QERR_OK && i < n; i++)
                        active = active || act[i].id == r->reissue_id;
                store_free_reissues(act, n);
                if (rc == QERR_OK && !active)
                        rc = qerr_set(ei, QERR_REISSUE_STATUS,
                                      "reissue %lld is no longer in progress",
                                      (long long)r->reissue_id);
                return rc;
        }
        return QERR_OK;
}

enum qerr svc_serial_reserve(struct service *s, struct serial_rec *r, struct qerr_info *ei)
{
        svc_owner_self(r->owner, sizeof r->owner);
        r->reserved_at = qtime_now();
        enum qerr rc = ST(s)->ops->begin(ST(s), ei);
        if (rc != QERR_OK)
                return rc;
        rc = still_wanted(s, r, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->serial_reserve(ST(s), r, ei);
        if (rc != QERR_OK)
                return svc_abort(s, rc);
        return ST(s)->ops->commit(ST(s), ei);
}

void svc_serial_not_signed(struct service *s, const struct serial_rec *r, enum qerr why,
                           const struct qerr_info *why_info)
{
        struct qerr_info ei;
        if (ST(s)->ops->begin(ST(s), &ei) != QERR_OK) {
                qlog_warn("serial left reserved", "serial=%s code=%s", r->serial, qerr_code(why));
                return; /* reconciliation settles it once its lease ends */
        }
        enum qerr rc;
        if (why == QERR_SIGNER_UNAVAILABLE) {
                /* the signer died with the request: it may have journaled the
                 * certificate; the journal decides (the dead signer writes no
                 * more), so reconciliation may settle it at once */
                rc = ST(s)->ops->serial_orphan(ST(s), r->id, &ei);
        } else {
                rc = ST(s)->ops->serial_void(ST(s), r->id, qtime_now(), &ei);
                if (rc == QERR_OK)
                        rc = svc_event(s, r->tenant_id, "serial", r->id, "reserved", "void",
                                       "serial %s was not signed: %s: %s", r->serial,
                                       qerr_code(why), qerr_message(why_info));
        }
        if (rc == QERR_OK)
                ST(s)->ops->commit(ST(s), &ei);
        else
                svc_abort(s, rc);
}
