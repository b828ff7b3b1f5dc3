/*
 * svc_ocsp_int.h - what the OCSP refresher's files share (svc_ocsp.c: the
 * loop, the loader and the public calls; svc_ocsp_sign.c: responders and
 * signing). Not for other modules.
 *
 * An engine belongs to one thread (the refresher of `quill serve`, or the
 * caller of service_ocsp_sync) and uses one service handle, which signs
 * through the daemon's signer. The cache it fills is shared (ocsp_cache.h).
 */
#ifndef QUILL_SVC_OCSP_INT_H
#define QUILL_SVC_OCSP_INT_H

#include <sys/types.h>

#include "../ocsp/ocsp_cache.h"
#include "service_internal.h"

#define OCSP_RESPONDER_MARGIN ((qtime_t)3600) /* rotate this long before it is needed */
#define OCSP_RESPONDER_BACKDATE ((qtime_t)3600)

/* An issuing CA as the refresher knows it, with its current responder. */
struct ocsp_ca {
        int64_t id;
        uint8_t *der; /* the CA certificate (signer requests) */
        size_t der_len;
        struct ocsp_issuer hashes;
        int64_t responder_id; /* 0: none yet */
        uint8_t *responder_der;
        size_t responder_len;
        qtime_t responder_not_after;
        pid_t responder_pid;   /* the signer process that holds its key */
        bool responder_broken; /* the signer refused it: make another */
        /* A CA whose signing fails waits (doubling up to OCSP_CA_BACKOFF_MAX)
         * without holding up the others; what it could not sign meanwhile is
         * found again by the unanswered scan, restarted when it works again. */
        int failures;
        qtime_t retry_at;
        bool rescan;
};

#define OCSP_CA_BACKOFF_MAX ((qtime_t)300)

struct ocsp_engine {
        struct service *svc;      /* borrowed */
        struct ocsp_cache *cache; /* borrowed */
        struct ocsp_ca cas[OCSP_MAX_ISSUERS];
        size_t ncas;
        qtime_t validity;       /* nextUpdate - thisUpdate */
        qtime_t responder_span; /* validity of a responder certificate */
        int64_t event_wm;       /* certificate events handled up to this id */
        int64_t load_seq;       /* responses loaded into the cache up to this seq */
        int64_t scan_cursor;    /* the unanswered scan has looked up to this id */
        bool scan_done;         /* ... and reached the end of the table */
        qtime_t next_ca_check, next_sweep, next_scan_round;
        /* what the last tick did (for the loop, tests and logs) */
        size_t signed_total, loaded_total;
};

/* ---- svc_ocsp_sign.c ---- */
/* Signs and stores the answers for `rows` (any CAs; expired certificates
 * and those without an answer get their stored response deleted instead).
 * A CA that fails (or waits after failing) is logged and left for later
 * (see struct ocsp_ca) without failing the call; *done receives how many
 * rows were dealt with (rows of a CA the engine does not know yet are not:
 * the CA list is read again at the next tick). An error return (the store)
 * means nothing can be trusted to be done. */
enum qerr svc_ocsp_sign_rows(struct ocsp_engine *e, const struct ocsp_cert_row *rows, size_t n,
                             qtime_t now, size_t *done, struct qerr_info *ei);
/* Makes the CA's responder usable now: a new one when there is none, when it
 * ends within validity + margin, when the signer lost its key (a new signer
 * process) or refused it. */
/* Makes every CA's responder ready now; a CA that fails is logged and
 * retried by the refresher like any signing failure. */
void svc_ocsp_responders_ready(struct ocsp_engine *e, qtime_t now);
enum qerr svc_ocsp_responder_ready(struct ocsp_engine *e, struct ocsp_ca *ca, qtime_t now,
                                   struct qerr_info *ei);
/* The same for every CA whose responder is in use (the tick's CA check):
 * a responder is replaced before it is needed, not at the next signature.
 * Failures wait like signing failures. */
void svc_ocsp_rotate_due(struct ocsp_engine *e, qtime_t now);
/* Whether a responder that ends at `not_after` must be replaced at `now`
 * (pure: unit-tested). */
bool svc_ocsp_responder_due(qtime_t now, qtime_t not_after, qtime_t validity);
void svc_ocsp_ca_clear(struct ocsp_ca *ca);

#endif
