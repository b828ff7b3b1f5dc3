/*
 * store.h - the one storage interface: a small table of function pointers
 * with one backend per database (store_sqlite.c now; PostgreSQL later), the
 * way curl hides TLS libraries behind vtls.
 *
 * Rules every backend keeps:
 *  - Writes happen only between begin() and commit(); the service writes a
 *    state change and its event row in the same transaction. begin() takes
 *    the write lock at once (SQLite BEGIN IMMEDIATE) and waits up to
 *    store.busy_ms for another process; QERR_BUSY after that.
 *  - Records returned are owned by the caller (cert_rec_free, ca_rec_free,
 *    event_rec_clear + free for arrays; store_free_* helpers below).
 *  - Disk full maps to QERR_DISK_FULL; the transaction is rolled back and
 *    nothing is half-written.
 *  - A handle is used by one thread at a time; threads open their own.
 *  - Tenants: every read of an object a tenant owns takes `tenant`, the
 *    id of the tenant the caller acts for, or 0 for "any tenant" (admins,
 *    job workers). An object of another tenant is QERR_NOT_FOUND, exactly
 *    like a missing one. Inserts take the tenant from the record.
 *  - Lists are pages in keyset order (newest first: id descending): pass
 *    the last id of the previous page as `before_id` (0 for the first);
 *    never OFFSET.
 */
#ifndef QUILL_STORE_H
#define QUILL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/model.h"

struct store;

struct crl_row {
        char serial[41];
        qtime_t revoked_at;
        int reason;
};

/* ---- OCSP (migration 007) ---- */

/* What an OCSP answer says about one certificate issued here. */
struct ocsp_cert_row {
        int64_t cert_id;
        int64_t ca_id;
        char serial[41]; /* lower-case hex, as in certificates */
        enum cert_status status;
        qtime_t not_after;
        qtime_t revoked_at; /* 0 unless revoked */
        int revoke_reason;  /* -1 unless revoked */
};

/* A stored, signed OCSPResponse. */
struct ocsp_response_row {
        int64_t seq; /* grows with every write (set by the store) */
        int64_t ca_id;
        char serial[41];
        int64_t cert_id;
        bool revoked;
        int64_t responder_id;
        qtime_t this_update, next_update, refresh_at;
        uint8_t *der; /* owned by the row (store_free_ocsp_responses) */
        size_t der_len;
};

/* A delegated OCSP responder certificate of an issuing CA. */
struct ocsp_responder_row {
        int64_t id;
        int64_t ca_id;
        char serial[41];
        uint8_t *der; /* owned by the row (free) */
        size_t der_len;
        qtime_t not_before, not_after, created_at;
};

struct reissue_rec {
        int64_t id;
        int64_t tenant_id;
        int64_t certificate_id;
        int64_t new_certificate_id;
        char status[16];     /* in_progress, done, failed */
        char csr_source[16]; /* original, pasted, generated */
        char *reason;
        char *registered_domains; /* JSON array text */
        qtime_t created_at;
        char owner[128]; /* process running it, "" when none */
};

/* A page of certificates. */
struct cert_query {
        int64_t tenant;         /* 0: every tenant */
        int64_t before_id;      /* keyset cursor: ids below this one; 0: from the newest */
        size_t limit;           /* rows wanted (the store may return one more: see *more) */
        const char *status;     /* NULL, a stored status, or "expired" (derived at `now`) */
        const char *name;       /* NULL, or a name the certificate must carry (exact) */
        qtime_t expires_before; /* 0, or not_after < this */
        int origin;             /* -1 any, else enum cert_origin */
        qtime_t now;
};

struct order_query {
        int64_t tenant;
        int64_t before_id;
        size_t limit;
        const char *status; /* NULL or an order status name */
};

struct event_query {
        int64_t tenant;    /* 0: every tenant */
        int64_t before_id; /* 0: from the newest */
        size_t limit;
        const char *object_type; /* NULL: any */
        int64_t object_id;       /* 0: any */
        qtime_t since;           /* 0: any; else at >= since */
};

struct store_ops {
        const char *name;
        void (*close)(struct store *s);
        enum qerr (*begin)(struct store *s, struct qerr_info *ei);
        enum qerr (*commit)(struct store *s, struct qerr_info *ei);
        void (*rollback)(struct store *s);

        /* CAs */
        enum qerr (*ca_insert)(struct store *s, struct ca_rec *ca, struct qerr_info *ei);
        enum qerr (*ca_list)(struct store *s, struct ca_rec ***out, size_t *n,
                             struct qerr_info *ei);
        enum qerr (*ca_get)(struct store *s, int64_t id, struct ca_rec **out, struct qerr_info *ei);
        /* increments and returns the CA's CRL number (inside a transaction) */
        enum qerr (*ca_next_crl_number)(struct store *s, int64_t ca_id, int64_t *out,
                                        struct qerr_info *ei);

        /* certificates; cert_list leaves out deleted ones */
        enum qerr (*cert_insert)(struct store *s, struct cert_rec *c, struct qerr_info *ei);
        enum qerr (*cert_get)(struct store *s, int64_t tenant, int64_t id, struct cert_rec **out,
                              struct qerr_info *ei);
        /* one page (deleted certificates left out); *more says whether
         * another page follows */
        enum qerr (*cert_page)(struct store *s, const struct cert_query *q, struct cert_rec ***out,
                               size_t *n, bool *more, struct qerr_info *ei);
        /* writes status, revoked_at, revoke_reason, key_blob/protection */
        enum qerr (*cert_update)(struct store *s, const struct cert_rec *c, struct qerr_info *ei);
        enum qerr (*cert_serial_exists)(struct store *s, const char *serial, bool *out,
                                        struct qerr_info *ei);
        /* ids of every certificate reissued from `id`, at any depth */
        enum qerr (*cert_descendants)(struct store *s, int64_t id, int64_t **ids, size_t *n,
                                      struct qerr_info *ei);
        /* the number of completed reissues in the lineage of `id` */
        enum qerr (*cert_lineage_reissues)(struct store *s, int64_t id, int *out,
                                           struct qerr_info *ei);
        /* revoked certificates of a CA not yet expired at `now` (CRL input) */
        enum qerr (*crl_entries)(struct store *s, int64_t ca_id, qtime_t now, struct crl_row **rows,
                                 size_t *n, struct qerr_info *ei);

        /* reissue and revocation requests */
        enum qerr (*reissue_insert)(struct store *s, struct reissue_rec *r, struct qerr_info *ei);
        enum qerr (*reissue_finish)(struct store *s, int64_t id, const char *status,
                                    int64_t new_cert_id, const char *failure, qtime_t at,
                                    struct qerr_info *ei);
        /* every in_progress reissue */
        enum qerr (*reissue_active)(struct store *s, struct reissue_rec **out, size_t *n,
                                    struct qerr_info *ei);
        enum qerr (*revocation_insert)(struct store *s, int64_t tenant_id, int64_t cert_id,
                                       int reason, int64_t cascade_from, const char *status,
                                       qtime_t at, int64_t *id, struct qerr_info *ei);

        /* events */
        enum qerr (*event_add)(struct store *s, const struct event_rec *e, struct qerr_info *ei);
        /* the events of one object, oldest first */
        enum qerr (*event_list)(struct store *s, int64_t tenant, const char *object_type,
                                int64_t object_id, struct event_rec **out, size_t *n,
                                struct qerr_info *ei);
        enum qerr (*event_page)(struct store *s, const struct event_query *q,
                                struct event_rec **out, size_t *n, bool *more,
                                struct qerr_info *ei);

        /* CRLs */
        enum qerr (*crl_put)(struct store *s, int64_t ca_id, int64_t number, qtime_t this_update,
                             qtime_t next_update, const uint8_t *der, size_t len,
                             struct qerr_info *ei);
        /* latest CRL of a CA; QERR_NOT_FOUND when none */
        enum qerr (*crl_latest)(struct store *s, int64_t ca_id, struct qbuf *der, int64_t *number,
                                struct qerr_info *ei);
        /* orders (with their names) */
        enum qerr (*order_insert)(struct store *s, struct order_rec *o, struct qerr_info *ei);
        enum qerr (*order_get)(struct store *s, int64_t tenant, int64_t id, struct order_rec **out,
                               struct qerr_info *ei);
        /* a page of issue orders (not revocation proofs), with their names */
        enum qerr (*order_page)(struct store *s, const struct order_query *q,
                                struct order_rec ***out, size_t *n, bool *more,
                                struct qerr_info *ei);
        /* writes status, failure, certificate_id, key_blob, updated_at */
        enum qerr (*order_update)(struct store *s, const struct order_rec *o, struct qerr_info *ei);
        /* writes the validation/CAA status and failure of one name */
        enum qerr (*order_name_update)(struct store *s, const struct order_name_rec *n,
                                       struct qerr_info *ei);
        /* an unfinished issue order of `tenant` naming any of `names` (0 when none) */
        enum qerr (*order_active_for_names)(struct store *s, int64_t tenant, char *const *names,
                                            size_t n, int64_t *order_id, struct qerr_info *ei);

        /* jobs: rows, so a restart resumes them */
        enum qerr (*job_insert)(struct store *s, const char *kind, int64_t order_id, qtime_t run_at,
                                struct qerr_info *ei);
        /* takes the oldest due queued job for `owner`; QERR_NOT_FOUND when none */
        enum qerr (*job_claim)(struct store *s, const char *owner, qtime_t now, struct job_rec *out,
                               struct qerr_info *ei);
        enum qerr (*job_done)(struct store *s, int64_t id, struct qerr_info *ei);
        /* back to queued, to run at run_at */
        enum qerr (*job_retry)(struct store *s, int64_t id, qtime_t run_at, const char *error,
                               struct qerr_info *ei);
        enum qerr (*job_list_running)(struct store *s, struct job_rec **out, size_t *n,
                                      struct qerr_info *ei);
        /* finishes every open job of an order (cancel, failure, issuance) */
        enum qerr (*job_close_order)(struct store *s, int64_t order_id, struct qerr_info *ei);

        /* reviews and approved organisations */
        enum qerr (*review_insert)(struct store *s, struct review_rec *r, struct qerr_info *ei);
        enum qerr (*review_get)(struct store *s, int64_t tenant, int64_t id, struct review_rec *out,
                                struct qerr_info *ei);
        /* status NULL: every review */
        enum qerr (*review_list)(struct store *s, int64_t tenant, const char *status,
                                 struct review_rec **out, size_t *n, struct qerr_info *ei);
        /* the reviews of one order, oldest first */
        enum qerr (*review_for_order)(struct store *s, int64_t order_id, struct review_rec **out,
                                      size_t *n, struct qerr_info *ei);
        enum qerr (*review_decide)(struct store *s, const struct review_rec *r,
                                   struct qerr_info *ei);
        /* approved for `tenant` at or after `since` (approvals expire) */
        enum qerr (*org_is_approved)(struct store *s, int64_t tenant, const char *org_hash,
                                     qtime_t since, bool *out, struct qerr_info *ei);
        /* records (or renews) an approval at `at` */
        enum qerr (*org_approve)(struct store *s, int64_t tenant, const char *org_hash,
                                 const char *info, int64_t review_id, qtime_t at,
                                 struct qerr_info *ei);
        /* DV revocations waiting for proof of control */
        enum qerr (*revocation_by_order)(struct store *s, int64_t order_id, int64_t *rev_id,
                                         int64_t *cert_id, int *reason, struct qerr_info *ei);
        enum qerr (*revocation_finish)(struct store *s, int64_t rev_id, const char *status,
                                       qtime_t at, struct qerr_info *ei);
        enum qerr (*revocation_link_order)(struct store *s, int64_t rev_id, int64_t order_id,
                                           struct qerr_info *ei);
        /* OV/EV: the signed letter of a revocation, and the revocation itself */
        enum qerr (*letter_put)(struct store *s, int64_t rev_id, const char *type,
                                const char *sha256, const uint8_t *data, size_t len,
                                struct qerr_info *ei);
        enum qerr (*revocation_get)(struct store *s, int64_t rev_id, int64_t *cert_id, int *reason,
                                    char status[16], struct qerr_info *ei);

        /* tenants and API keys (migration 005) */
        enum qerr (*tenant_insert)(struct store *s, struct tenant_rec *t, struct qerr_info *ei);
        enum qerr (*tenant_list)(struct store *s, struct tenant_rec **out, size_t *n,
                                 struct qerr_info *ei);
        /* by name, or by id when name is NULL; QERR_NOT_FOUND when none */
        enum qerr (*tenant_find)(struct store *s, const char *name, int64_t id,
                                 struct tenant_rec *out, struct qerr_info *ei);
        enum qerr (*apikey_insert)(struct store *s, struct apikey_rec *k, struct qerr_info *ei);
        enum qerr (*apikey_get)(struct store *s, int64_t id, struct apikey_rec *out,
                                struct qerr_info *ei);
        /* tenant 0: every key */
        enum qerr (*apikey_list)(struct store *s, int64_t tenant, struct apikey_rec **out,
                                 size_t *n, struct qerr_info *ei);
        enum qerr (*apikey_revoke)(struct store *s, int64_t id, qtime_t at, struct qerr_info *ei);
        /* The tenant owning object `type` ("certificate", "order", "review")
         * `id`, whatever the caller's tenant (for the audit of refused
         * cross-tenant requests); QERR_NOT_FOUND when there is no such object. */
        enum qerr (*object_tenant)(struct store *s, const char *type, int64_t id,
                                   int64_t *tenant_id, struct qerr_info *ei);

        /* OCSP (migration 007; svc_ocsp.c). Reads need no transaction. */
        enum qerr (*ocsp_responder_insert)(struct store *s, struct ocsp_responder_row *r,
                                           struct qerr_info *ei);
        /* the responder `id` (with its DER); QERR_NOT_FOUND when none */
        enum qerr (*ocsp_responder_get)(struct store *s, int64_t id, struct ocsp_responder_row *out,
                                        struct qerr_info *ei);
        /* The certificates (issued here) named by certificate events with
         * an id above `after_event`, at most `limit`, in event order; *next
         * receives the event id to continue after (the last event read, or
         * the newest event of any kind when all were read). */
        enum qerr (*ocsp_cert_changes)(struct store *s, int64_t after_event, size_t limit,
                                       struct ocsp_cert_row **out, size_t *n, int64_t *next,
                                       struct qerr_info *ei);
        /* Unexpired certificates issued here with an id in (after, upto]
         * whose stored response is missing or says another status (good /
         * revoked); *max_id receives the highest certificate id there is. */
        enum qerr (*ocsp_certs_unanswered)(struct store *s, int64_t after, int64_t upto,
                                           qtime_t now, struct ocsp_cert_row **out, size_t *n,
                                           int64_t *max_id, struct qerr_info *ei);
        /* Revoked certificates whose stored response still says good. */
        enum qerr (*ocsp_revoked_stale)(struct store *s, size_t limit, struct ocsp_cert_row **out,
                                        size_t *n, struct qerr_info *ei);
        /* The certificates whose response is due (refresh_at <= now), the
         * earliest first. */
        enum qerr (*ocsp_due)(struct store *s, qtime_t now, size_t limit,
                              struct ocsp_cert_row **out, size_t *n, struct qerr_info *ei);
        /* Stores (replaces) the response of (ca, serial), with a new seq;
         * never a good one in place of a revoked one (*stored says which). */
        enum qerr (*ocsp_response_put)(struct store *s, struct ocsp_response_row *r, bool *stored,
                                       struct qerr_info *ei);
        enum qerr (*ocsp_response_delete)(struct store *s, int64_t ca_id, const char *serial,
                                          struct qerr_info *ei);
        /* Responses with seq > after, in seq order, at most `limit`. */
        enum qerr (*ocsp_responses_since)(struct store *s, int64_t after, size_t limit,
                                          struct ocsp_response_row **out, size_t *n,
                                          struct qerr_info *ei);
};

struct store {
        const struct store_ops *ops;
};

/* Opens (creating when missing) <data_dir>/quill.db and runs pending
 * migrations. busy_ms: how long to wait for other processes. */
enum qerr store_open_sqlite(const char *data_dir, long busy_ms, struct store **out,
                            struct qerr_info *ei);

void store_free_certs(struct cert_rec **v, size_t n);
void store_free_cas(struct ca_rec **v, size_t n);
void store_free_events(struct event_rec *v, size_t n);
void store_free_reissues(struct reissue_rec *v, size_t n);
void store_free_orders(struct order_rec **v, size_t n);
void store_free_reviews(struct review_rec *v, size_t n);
void store_free_ocsp_responses(struct ocsp_response_row *v, size_t n);

#endif
