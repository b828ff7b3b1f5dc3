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
#include "../base/model_acme.h"

struct store;

/* Called by crl_scan for each revoked certificate of a CRL partition, in
 * serial order (serial_hex: hex_len digits, not NUL-terminated); anything
 * but QERR_OK stops the scan with that code. */
typedef enum qerr (*crl_scan_fn)(void *arg, const char *serial_hex, size_t hex_len,
                                 qtime_t revoked_at, int reason, struct qerr_info *ei);

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

/* A serial number (migration 008, two-phase issuance): reserved in a
 * committed row before the signer is asked, issued when its certificate is
 * stored (a trigger of the certificate insert), void when it was never
 * signed. The row carries what storing the certificate later needs. */
struct serial_rec {
        int64_t id;
        char serial[41]; /* lower-case hex */
        int64_t ca_id;
        int64_t tenant_id;
        char purpose[16];   /* certificate, private_order, order, reissue */
        int64_t order_id;   /* purpose order */
        int64_t reissue_id; /* purpose reissue */
        int64_t parent_id;  /* a reissue's original certificate */
        enum cert_profile profile;
        char key_algorithm[16];
        char **names; /* as the certificate will carry them */
        size_t nnames;
        bool free_cert;
        char *csr_pem;     /* may be NULL */
        uint8_t *key_blob; /* sealed for the certificate (svc_store_key), may be NULL */
        size_t key_blob_len;
        enum key_protection key_protection;
        char state[12];  /* reserved, issued, void */
        char owner[128]; /* the reserving process; "" when handed to reconciliation */
        int64_t certificate_id;
        qtime_t reserved_at, finished_at;
};
void serial_rec_clear(struct serial_rec *r);

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

/* A page of one webhook's deliveries (newest first). */
struct delivery_query {
        int64_t tenant;     /* 0: every tenant */
        int64_t webhook_id; /* required */
        int64_t before_id;  /* keyset cursor; 0: from the newest */
        size_t limit;
};

/* A certificate the expiry scan looks at. */
struct expiry_row {
        int64_t cert_id;
        int64_t tenant_id;
        qtime_t not_after;
        bool active; /* issued or reissuing (revoked, deleted ones get no warning) */
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
        /* raises the CA's crl_shards to `n` when it is lower; *before gets the
         * count it had (inside a transaction) */
        enum qerr (*ca_raise_crl_shards)(struct store *s, int64_t ca_id, int n, int *before,
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
        /* the revoked certificates of CRL partition (ca_id, shard) not yet
         * expired at `now`, deleted ones included, in serial order; shard
         * CRL_SHARD_NONE: those without a shard. Reads an index only. */
        enum qerr (*crl_scan)(struct store *s, int64_t ca_id, int shard, qtime_t now,
                              crl_scan_fn fn, void *arg, struct qerr_info *ei);

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

        /* CRLs: the number must be above every number stored for the CA
         * (QERR_STORE otherwise); older CRLs of the same partition are
         * dropped. `der` is not copied before it is written. */
        enum qerr (*crl_put)(struct store *s, const struct crl_info *info, const uint8_t *der,
                             size_t len, struct qerr_info *ei);
        /* the CRL of a partition (der and info may be NULL); QERR_NOT_FOUND
         * when none */
        enum qerr (*crl_latest)(struct store *s, int64_t ca_id, int shard, struct qbuf *der,
                                struct crl_info *info, struct qerr_info *ei);
        /* the stored CRL of every partition of `ca_id` (0: of every CA), by CA
         * then shard; caller frees the array */
        enum qerr (*crl_list)(struct store *s, int64_t ca_id, struct crl_info **out, size_t *n,
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
        /* a "crl" job for a CA partition; nothing when one is already queued
         * for it (revocations coalesce) */
        enum qerr (*job_insert_crl)(struct store *s, int64_t ca_id, int shard, qtime_t run_at,
                                    struct qerr_info *ei);
        /* marks the queued crl jobs of a partition done (its CRL was just
         * made, inside the same transaction) */
        enum qerr (*job_close_crl)(struct store *s, int64_t ca_id, int shard, struct qerr_info *ei);
        /* takes the oldest due queued job for `owner`; QERR_NOT_FOUND when none */
        enum qerr (*job_claim)(struct store *s, const char *owner, qtime_t now, struct job_rec *out,
                               struct qerr_info *ei);
        enum qerr (*job_done)(struct store *s, int64_t id, struct qerr_info *ei);
        /* back to queued, to run at run_at */
        enum qerr (*job_retry)(struct store *s, int64_t id, qtime_t run_at, const char *error,
                               struct qerr_info *ei);
        enum qerr (*job_list_running)(struct store *s, struct job_rec **out, size_t *n,
                                      struct qerr_info *ei);
        /* how many jobs are queued (due or not) and running, for /metrics */
        enum qerr (*job_counts)(struct store *s, int64_t *queued, int64_t *running,
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

        /* validation reuse and blocked keys (migration 009) */
        enum qerr (*validation_insert)(struct store *s, struct validation_rec *v,
                                       struct qerr_info *ei);
        /* The newest validation of `tenant` (never another's) that covers
         * `name`, was made at or after `since` and, unless `method` is NULL,
         * by `method`: for "*.x" a DNS validation of "*.x" or "x" (one TXT
         * record at _acme-challenge.x proves both); for "x" one of "x" (DNS
         * or file) or a DNS one of "*.x". A file validation covers its
         * exact name only (BR 3.2.2.4.18). QERR_NOT_FOUND when none. */
        enum qerr (*validation_find)(struct store *s, int64_t tenant, const char *name,
                                     const char *method, qtime_t since, struct validation_rec *out,
                                     struct qerr_info *ei);
        /* Inserts k unless its key is blocked already; either way k->id and
         * the stored row's fields are filled and *added says which. */
        enum qerr (*blocked_key_add)(struct store *s, struct blocked_key_rec *k, bool *added,
                                     struct qerr_info *ei);
        /* QERR_NOT_FOUND when the key is not blocked */
        enum qerr (*blocked_key_get)(struct store *s, const char *spki_sha256,
                                     struct blocked_key_rec *out, struct qerr_info *ei);
        enum qerr (*blocked_key_page)(struct store *s, int64_t before_id, size_t limit,
                                      struct blocked_key_rec **out, size_t *n, bool *more,
                                      struct qerr_info *ei);
        /* every certificate of every tenant with key `spki_sha256` that is
         * neither revoked, deleted nor expired at `now`, oldest first */
        enum qerr (*cert_by_spki)(struct store *s, const char *spki_sha256, qtime_t now,
                                  struct cert_rec ***out, size_t *n, struct qerr_info *ei);
        /* up to `limit` ids of certificates whose key hash is unknown (NULL) */
        enum qerr (*cert_spki_missing)(struct store *s, size_t limit, int64_t **ids, size_t *n,
                                       struct qerr_info *ei);
        enum qerr (*cert_set_spki)(struct store *s, int64_t id, const char *spki_sha256,
                                   struct qerr_info *ei);
        /* the pending revocation of a certificate and its proof order (0 when
         * none); QERR_NOT_FOUND when none is pending */
        enum qerr (*revocation_pending_of)(struct store *s, int64_t cert_id, int64_t *rev_id,
                                           int64_t *order_id, struct qerr_info *ei);
        /* closes the pending review of revocation `rev_id` as `status` by
         * `reviewer` with `reason`; *review_id is 0 when none was pending */
        enum qerr (*review_close_revocation)(struct store *s, int64_t rev_id, const char *status,
                                             const char *reviewer, const char *reason, qtime_t at,
                                             int64_t *review_id, struct qerr_info *ei);
        /* notifications (migration 010) */
        /* inserts w (id set); the secret blob may follow with webhook_set_secret */
        enum qerr (*webhook_insert)(struct store *s, struct webhook_rec *w, struct qerr_info *ei);
        enum qerr (*webhook_set_secret)(struct store *s, int64_t id, const uint8_t *blob,
                                        size_t len, struct qerr_info *ei);
        /* an active (not deleted) webhook; QERR_NOT_FOUND otherwise */
        enum qerr (*webhook_get)(struct store *s, int64_t tenant, int64_t id,
                                 struct webhook_rec *out, struct qerr_info *ei);
        /* the active webhooks of `tenant` (0: every tenant), oldest first;
         * free with store_free_webhooks */
        enum qerr (*webhook_list)(struct store *s, int64_t tenant, struct webhook_rec **out,
                                  size_t *n, struct qerr_info *ei);
        /* marks it deleted at `at` and cancels its pending deliveries */
        enum qerr (*webhook_delete)(struct store *s, int64_t id, qtime_t at, struct qerr_info *ei);
        /* replaces the tenant's contact addresses (in this order) */
        enum qerr (*contacts_set)(struct store *s, int64_t tenant, const char *const *emails,
                                  size_t n, struct qerr_info *ei);
        /* the tenant's addresses (caller frees each and the array) */
        enum qerr (*contacts_get)(struct store *s, int64_t tenant, char ***emails, size_t *n,
                                  struct qerr_info *ei);
        /* inserts an outbox row (state pending; d->id set) */
        enum qerr (*delivery_insert)(struct store *s, struct delivery_rec *d, struct qerr_info *ei);
        /* takes the oldest due pending delivery for `owner` until lease_until,
         * counting the attempt (one atomic UPDATE ... RETURNING);
         * QERR_NOT_FOUND when none is due. Clear `out` with delivery_rec_clear. */
        enum qerr (*delivery_claim)(struct store *s, const char *owner, qtime_t now,
                                    qtime_t lease_until, struct delivery_rec *out,
                                    struct qerr_info *ei);
        /* records attempt `t` of a delivery `owner` holds and moves it to
         * `state` (delivered, failed, or pending again at next_attempt_at;
         * pending becomes cancelled when its webhook was deleted meanwhile).
         * QERR_NOT_FOUND when `owner` no longer holds it (its lease ended and
         * another took it): nothing is written. Inside a transaction. */
        enum qerr (*delivery_finish)(struct store *s, int64_t id, const char *owner,
                                     const struct delivery_try *t, const char *state,
                                     qtime_t next_attempt_at, struct qerr_info *ei);
        /* puts back to pending the deliveries being sent whose lease ended
         * before `now`, or (owner non-NULL) that `owner` holds; *n: how many */
        enum qerr (*delivery_release)(struct store *s, qtime_t now, const char *owner, int *n,
                                      struct qerr_info *ei);
        /* the distinct owners of deliveries being sent (caller frees) */
        enum qerr (*delivery_owners)(struct store *s, char ***owners, size_t *n,
                                     struct qerr_info *ei);
        /* a page of one webhook's deliveries, each with its attempts */
        enum qerr (*delivery_page)(struct store *s, const struct delivery_query *q,
                                   struct delivery_rec **out, size_t *n, bool *more,
                                   struct qerr_info *ei);
        /* the outbox depth, for /metrics */
        enum qerr (*delivery_counts)(struct store *s, int64_t *pending, int64_t *sending,
                                     struct qerr_info *ei);
        /* the expiry scan of threshold `days`: its keyset position ((0, 0)
         * before the first scan), and the next certificates after it with
         * not_after <= upto, in (not_after, id) order */
        enum qerr (*expiry_mark)(struct store *s, int days, qtime_t *not_after, int64_t *cert_id,
                                 struct qerr_info *ei);
        enum qerr (*expiry_mark_set)(struct store *s, int days, qtime_t not_after, int64_t cert_id,
                                     struct qerr_info *ei);
        enum qerr (*expiry_candidates)(struct store *s, qtime_t after_not_after, int64_t after_id,
                                       qtime_t upto, size_t limit, struct expiry_row **out,
                                       size_t *n, struct qerr_info *ei);
        /* records that the warning of `days` for the certificate was sent;
         * *inserted false when it had been already */
        enum qerr (*expiry_record)(struct store *s, int64_t cert_id, int days, qtime_t at,
                                   bool *inserted, struct qerr_info *ei);

        /* ACME (migration 011, issue 8) */
        enum qerr (*eab_insert)(struct store *s, const struct eab_rec *e, struct qerr_info *ei);
        /* QERR_NOT_FOUND when no such kid (revoked ones are returned) */
        enum qerr (*eab_get)(struct store *s, const char *kid, struct eab_rec *out,
                             struct qerr_info *ei);
        /* tenant 0: every key; clear each with eab_rec_clear, free the array */
        enum qerr (*eab_list)(struct store *s, int64_t tenant, struct eab_rec **out, size_t *n,
                              struct qerr_info *ei);
        enum qerr (*eab_revoke)(struct store *s, const char *kid, qtime_t at, struct qerr_info *ei);
        /* counts one more account bound with the key; ACME_EAB_INVALID when it
         * is revoked, expired at `now` or used up (nothing written) */
        enum qerr (*eab_take)(struct store *s, const char *kid, qtime_t now, struct qerr_info *ei);
        enum qerr (*acme_account_insert)(struct store *s, struct acme_account_rec *a,
                                         struct qerr_info *ei);
        enum qerr (*acme_account_get)(struct store *s, int64_t id, struct acme_account_rec *out,
                                      struct qerr_info *ei);
        enum qerr (*acme_account_by_thumbprint)(struct store *s, const char *thumbprint,
                                                struct acme_account_rec *out, struct qerr_info *ei);
        /* writes jwk, thumbprint, status, contact, updated_at */
        enum qerr (*acme_account_update)(struct store *s, const struct acme_account_rec *a,
                                         struct qerr_info *ei);
        enum qerr (*acme_authz_insert)(struct store *s, struct acme_authz_rec *z,
                                       struct qerr_info *ei);
        enum qerr (*acme_authz_get)(struct store *s, int64_t id, struct acme_authz_rec *out,
                                    struct qerr_info *ei);
        /* writes every mutable field and releases the worker's lease */
        enum qerr (*acme_authz_update)(struct store *s, const struct acme_authz_rec *z,
                                       struct qerr_info *ei);
        /* the newest valid, unexpired authorization of `account` for the name */
        enum qerr (*acme_authz_reusable)(struct store *s, int64_t account, const char *name,
                                         bool wildcard, qtime_t now, struct acme_authz_rec *out,
                                         struct qerr_info *ei);
        /* takes the oldest due challenge validation until lease_until (one
         * atomic UPDATE ... RETURNING); QERR_NOT_FOUND when none is due */
        enum qerr (*acme_authz_claim)(struct store *s, const char *owner, qtime_t now,
                                      qtime_t lease_until, struct acme_authz_rec *out,
                                      struct qerr_info *ei);
        enum qerr (*acme_order_insert)(struct store *s, struct acme_order_rec *o,
                                       struct qerr_info *ei);
        enum qerr (*acme_order_get)(struct store *s, int64_t id, struct acme_order_rec *out,
                                    struct qerr_info *ei);
        /* writes status, order_id, error */
        enum qerr (*acme_order_update)(struct store *s, const struct acme_order_rec *o,
                                       struct qerr_info *ei);
        /* a page of an account's order ids, newest first (caller frees) */
        enum qerr (*acme_order_ids)(struct store *s, int64_t account, int64_t before_id,
                                    size_t limit, int64_t **ids, size_t *n, struct qerr_info *ei);
        /* orders (not replacements) made and challenge validations failed
         * by `account` since `since`, for the rate limits */
        enum qerr (*acme_counts)(struct store *s, int64_t account, qtime_t since, int64_t *orders,
                                 int64_t *failed, struct qerr_info *ei);
        /* the certificate with `serial`, its tenant, and the ACME account
         * whose order made it (0 when none) */
        enum qerr (*acme_cert_owner)(struct store *s, const char *serial, int64_t *cert_id,
                                     int64_t *tenant_id, int64_t *account_id, struct qerr_info *ei);
        /* the issuance profile (profile.h name) of the ACME order finalized
         * into service order `order_id`; QERR_NOT_FOUND when it is not one */
        enum qerr (*acme_order_profile)(struct store *s, int64_t order_id, char out[32],
                                        struct qerr_info *ei);
        /* finalized orders of `account` replacing `replaces` (an ARI certID)
         * whose service order has not failed or been cancelled */
        enum qerr (*acme_replacing)(struct store *s, int64_t account, const char *replaces,
                                    int64_t *count, struct qerr_info *ei);
        /* serials (migration 008). serial_reserve inserts a reserved row
         * (r->id set): QERR_SERIAL_TAKEN when the serial was used before,
         * QERR_ISSUE_IN_PROGRESS when the order or reissue has a signature
         * in flight already. */
        enum qerr (*serial_reserve)(struct store *s, struct serial_rec *r, struct qerr_info *ei);
        /* QERR_NOT_FOUND when the serial was never reserved */
        enum qerr (*serial_get)(struct store *s, const char *serial, struct serial_rec *out,
                                struct qerr_info *ei);
        /* every reserved row, oldest first */
        enum qerr (*serial_list_reserved)(struct store *s, struct serial_rec **out, size_t *n,
                                          struct qerr_info *ei);
        /* reserved -> void (the key and CSR are dropped); QERR_NOT_FOUND when
         * the row is no longer reserved */
        enum qerr (*serial_void)(struct store *s, int64_t id, qtime_t at, struct qerr_info *ei);
        /* hands a reserved row to reconciliation (owner NULL) */
        enum qerr (*serial_orphan)(struct store *s, int64_t id, struct qerr_info *ei);
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
void store_free_webhooks(struct webhook_rec *v, size_t n);
void store_free_deliveries(struct delivery_rec *v, size_t n);
void store_free_strings(char **v, size_t n);
void store_free_serials(struct serial_rec *v, size_t n);
void store_free_ocsp_responses(struct ocsp_response_row *v, size_t n);

#endif
