/*
 * store_sqlite_int.h - what the SQLite backend's files share: the handle
 * struct and small statement helpers. Not for use outside src/store.
 */
#ifndef QUILL_STORE_SQLITE_INT_H
#define QUILL_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "store.h"

/* The handle's prepared statements, kept for reuse (preparing was a
 * sixth of the CPU of an ACME order). A statement is either in use (taken
 * by sq_stmt, not yet given back by sq_done) or idle and reset. */
#define SQ_CACHE_SLOTS 192
struct sq_cached {
        uint64_t hash; /* of the SQL text */
        sqlite3_stmt *st;
        bool busy;
};

struct sqlite_store {
        struct store base;
        sqlite3 *db;
        bool in_tx;
        size_t ncached;
        struct sq_cached cache[SQ_CACHE_SLOTS];
};

sqlite3 *sq_db(struct store *s);
/* Maps a SQLite result to a qerr (disk full, busy, constraint, other). */
enum qerr sq_err(sqlite3 *db, int rc, struct qerr_info *ei, const char *what);
enum qerr sq_exec(sqlite3 *db, const char *sql, struct qerr_info *ei, const char *what);
/* A statement prepared once, finalized by the caller (migrations). */
enum qerr sq_prep(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct qerr_info *ei);
/* The handle's statement for `sql` (the same text finds the same cached
 * statement; one in use already gets a fresh one): give it back with
 * sq_done, on every path, never sqlite3_finalize. */
enum qerr sq_stmt(struct store *s, const char *sql, sqlite3_stmt **st, struct qerr_info *ei);
/* Gives a statement of sq_stmt back: reset and unbound for the next use. */
void sq_done(struct store *s, sqlite3_stmt *st);
/* Steps a statement of sq_stmt that returns no rows, then gives it back. */
enum qerr sq_run(struct store *s, sqlite3_stmt *st, struct qerr_info *ei, const char *what);
char *sq_col_dup(sqlite3_stmt *st, int i);
void sq_col_copy(sqlite3_stmt *st, int i, char *out, size_t outsz);
void sq_bind_text_or_null(sqlite3_stmt *st, int i, const char *v);
void sq_bind_id_or_null(sqlite3_stmt *st, int i, int64_t v);
bool sq_unique_violation(int rc);
/* Steps `st` to its end, one array element per row: `fill` writes a row
 * into a zeroed element (false: unreadable); `clear` releases one (may be
 * NULL). Finalizes `st`. On failure nothing is returned (freed). */
enum qerr sq_collect(struct store *s, sqlite3_stmt *st, size_t elem,
                     bool (*fill)(sqlite3_stmt *st, void *slot), void (*clear)(void *slot),
                     void **out, size_t *n, const char *what, struct qerr_info *ei);

/* store_sqlite_query.c: a SELECT with only the conditions a page asks for
 * (so the planner can use the index they name); values always bound. */
#define SQW_MAX_BINDS 16
struct sq_bind {
        const char *text; /* NULL: the integer i */
        int64_t i;
};
struct sq_where {
        char sql[4096];
        size_t len;
        int nconds, nbinds;
        struct sq_bind binds[SQW_MAX_BINDS];
        bool overflow;
};
void sqw_init(struct sq_where *w, const char *base);
void sqw_append(struct sq_where *w, const char *text);
/* " WHERE c" or " AND c"; c holds one '?' for the value (none for raw) */
void sqw_raw(struct sq_where *w, const char *c);
void sqw_int(struct sq_where *w, const char *c, int64_t v);
void sqw_text(struct sq_where *w, const char *c, const char *v);
/* appends `tail` (e.g. " ORDER BY c.id DESC LIMIT ?") with one value */
void sqw_tail_int(struct sq_where *w, const char *tail, int64_t v);
enum qerr sqw_prepare(struct store *s, const struct sq_where *w, sqlite3_stmt **st,
                      struct qerr_info *ei);

/* store_sqlite_orders.c */
enum qerr sq_order_insert(struct store *s, struct order_rec *o, struct qerr_info *ei);
enum qerr sq_order_get(struct store *s, int64_t tenant, int64_t id, struct order_rec **out,
                       struct qerr_info *ei);
enum qerr sq_order_page(struct store *s, const struct order_query *q, struct order_rec ***out,
                        size_t *n, bool *more, struct qerr_info *ei);
enum qerr sq_order_update(struct store *s, const struct order_rec *o, struct qerr_info *ei);
enum qerr sq_order_name_update(struct store *s, const struct order_name_rec *n,
                               struct qerr_info *ei);
enum qerr sq_order_active_for_names(struct store *s, int64_t tenant, char *const *names, size_t n,
                                    int64_t *order_id, struct qerr_info *ei);
enum qerr sq_job_insert(struct store *s, const char *kind, int64_t order_id, qtime_t run_at,
                        struct qerr_info *ei);
enum qerr sq_job_claim(struct store *s, const char *owner, qtime_t now, struct job_rec *out,
                       struct qerr_info *ei);
enum qerr sq_job_done(struct store *s, int64_t id, struct qerr_info *ei);
enum qerr sq_job_retry(struct store *s, int64_t id, qtime_t run_at, const char *error,
                       struct qerr_info *ei);
enum qerr sq_job_list_running(struct store *s, struct job_rec **out, size_t *n,
                              struct qerr_info *ei);
enum qerr sq_job_close_order(struct store *s, int64_t order_id, struct qerr_info *ei);
enum qerr sq_job_counts(struct store *s, int64_t *queued, int64_t *running, struct qerr_info *ei);
enum qerr sq_review_insert(struct store *s, struct review_rec *r, struct qerr_info *ei);
enum qerr sq_review_get(struct store *s, int64_t tenant, int64_t id, struct review_rec *out,
                        struct qerr_info *ei);
enum qerr sq_review_list(struct store *s, int64_t tenant, const char *status,
                         struct review_rec **out, size_t *n, struct qerr_info *ei);
enum qerr sq_review_for_order(struct store *s, int64_t order_id, struct review_rec **out, size_t *n,
                              struct qerr_info *ei);
enum qerr sq_review_decide(struct store *s, const struct review_rec *r, struct qerr_info *ei);
enum qerr sq_org_is_approved(struct store *s, int64_t tenant, const char *org_hash, qtime_t since,
                             bool *out, struct qerr_info *ei);
enum qerr sq_org_approve(struct store *s, int64_t tenant, const char *org_hash, const char *info,
                         int64_t review_id, qtime_t at, struct qerr_info *ei);
enum qerr sq_revocation_by_order(struct store *s, int64_t order_id, int64_t *rev_id,
                                 int64_t *cert_id, int *reason, struct qerr_info *ei);
enum qerr sq_revocation_finish(struct store *s, int64_t rev_id, const char *status, qtime_t at,
                               struct qerr_info *ei);
enum qerr sq_revocation_link_order(struct store *s, int64_t rev_id, int64_t order_id,
                                   struct qerr_info *ei);

enum qerr sq_letter_put(struct store *s, int64_t rev_id, const char *type, const char *sha256,
                        const uint8_t *data, size_t len, struct qerr_info *ei);
enum qerr sq_revocation_get(struct store *s, int64_t rev_id, int64_t *cert_id, int *reason,
                            char status[16], struct qerr_info *ei);

/* store_sqlite_crl.c */
enum qerr sq_ca_raise_crl_shards(struct store *s, int64_t ca_id, int n, int *before,
                                 struct qerr_info *ei);
enum qerr sq_crl_scan(struct store *s, int64_t ca_id, int shard, qtime_t now, crl_scan_fn fn,
                      void *arg, struct qerr_info *ei);
enum qerr sq_crl_put(struct store *s, const struct crl_info *info, const uint8_t *der, size_t len,
                     struct qerr_info *ei);
enum qerr sq_crl_latest(struct store *s, int64_t ca_id, int shard, struct qbuf *der,
                        struct crl_info *info, struct qerr_info *ei);
enum qerr sq_crl_list(struct store *s, int64_t ca_id, struct crl_info **out, size_t *n,
                      struct qerr_info *ei);
enum qerr sq_job_insert_crl(struct store *s, int64_t ca_id, int shard, qtime_t run_at,
                            struct qerr_info *ei);
enum qerr sq_job_close_crl(struct store *s, int64_t ca_id, int shard, struct qerr_info *ei);

#define SQ_CRL_OPS                                                                                 \
        .ca_raise_crl_shards = sq_ca_raise_crl_shards, .crl_scan = sq_crl_scan,                    \
        .crl_put = sq_crl_put, .crl_latest = sq_crl_latest, .crl_list = sq_crl_list,               \
        .job_insert_crl = sq_job_insert_crl, .job_close_crl = sq_job_close_crl,

#define SQ_ORDER_OPS                                                                               \
        .order_insert = sq_order_insert, .order_get = sq_order_get, .order_page = sq_order_page,   \
        .order_update = sq_order_update, .order_name_update = sq_order_name_update,                \
        .order_active_for_names = sq_order_active_for_names, .job_insert = sq_job_insert,          \
        .job_claim = sq_job_claim, .job_done = sq_job_done, .job_retry = sq_job_retry,             \
        .job_list_running = sq_job_list_running, .job_close_order = sq_job_close_order,            \
        .job_counts = sq_job_counts, .review_insert = sq_review_insert,                            \
        .review_get = sq_review_get, .review_list = sq_review_list,                                \
        .review_decide = sq_review_decide, .org_is_approved = sq_org_is_approved,                  \
        .org_approve = sq_org_approve, .revocation_by_order = sq_revocation_by_order,              \
        .revocation_finish = sq_revocation_finish,                                                 \
        .revocation_link_order = sq_revocation_link_order, .letter_put = sq_letter_put,            \
        .revocation_get = sq_revocation_get, .review_for_order = sq_review_for_order,

/* store_sqlite_tenants.c */
enum qerr sq_tenant_insert(struct store *s, struct tenant_rec *t, struct qerr_info *ei);
enum qerr sq_tenant_list(struct store *s, struct tenant_rec **out, size_t *n, struct qerr_info *ei);
enum qerr sq_tenant_find(struct store *s, const char *name, int64_t id, struct tenant_rec *out,
                         struct qerr_info *ei);
enum qerr sq_apikey_insert(struct store *s, struct apikey_rec *k, struct qerr_info *ei);
enum qerr sq_apikey_get(struct store *s, int64_t id, struct apikey_rec *out, struct qerr_info *ei);
enum qerr sq_apikey_list(struct store *s, int64_t tenant, struct apikey_rec **out, size_t *n,
                         struct qerr_info *ei);
enum qerr sq_apikey_revoke(struct store *s, int64_t id, qtime_t at, struct qerr_info *ei);
enum qerr sq_object_tenant(struct store *s, const char *type, int64_t id, int64_t *tenant_id,
                           struct qerr_info *ei);

#define SQ_TENANT_OPS                                                                              \
        .tenant_insert = sq_tenant_insert, .tenant_list = sq_tenant_list,                          \
        .tenant_find = sq_tenant_find, .apikey_insert = sq_apikey_insert,                          \
        .apikey_get = sq_apikey_get, .apikey_list = sq_apikey_list,                                \
        .apikey_revoke = sq_apikey_revoke, .object_tenant = sq_object_tenant,

/* store_sqlite_keys.c (migration 009) */
enum qerr sq_validation_insert(struct store *s, struct validation_rec *v, struct qerr_info *ei);
enum qerr sq_validation_find(struct store *s, int64_t tenant, const char *name, const char *method,
                             qtime_t since, struct validation_rec *out, struct qerr_info *ei);
enum qerr sq_blocked_key_add(struct store *s, struct blocked_key_rec *k, bool *added,
                             struct qerr_info *ei);
enum qerr sq_blocked_key_get(struct store *s, const char *spki, struct blocked_key_rec *out,
                             struct qerr_info *ei);
enum qerr sq_blocked_key_page(struct store *s, int64_t before_id, size_t limit,
                              struct blocked_key_rec **out, size_t *n, bool *more,
                              struct qerr_info *ei);
enum qerr sq_cert_by_spki(struct store *s, const char *spki, qtime_t now, struct cert_rec ***out,
                          size_t *n, struct qerr_info *ei);
enum qerr sq_cert_spki_missing(struct store *s, size_t limit, int64_t **ids, size_t *n,
                               struct qerr_info *ei);
enum qerr sq_cert_set_spki(struct store *s, int64_t id, const char *spki, struct qerr_info *ei);
enum qerr sq_revocation_pending_of(struct store *s, int64_t cert_id, int64_t *rev_id,
                                   int64_t *order_id, struct qerr_info *ei);
enum qerr sq_review_close_revocation(struct store *s, int64_t rev_id, const char *status,
                                     const char *reviewer, const char *reason, qtime_t at,
                                     int64_t *review_id, struct qerr_info *ei);
/* store_sqlite.c: one certificate row (CERT_COLS order), for other files */
struct cert_rec *sq_cert_from_row(sqlite3_stmt *st);
#define CERT_COLS                                                                                  \
        "c.id, c.ca_id, c.parent_id, c.serial, c.names, c.not_before, c.not_after, "               \
        "c.key_algorithm, c.profile, c.origin, c.status, c.free_cert, c.issuer, c.cert_pem, "      \
        "c.chain_pem, c.csr_pem, c.key_blob, c.key_protection, c.revoked_at, c.revoke_reason, "    \
        "c.created_at, c.tenant_id, t.name, c.spki_sha256, c.crl_shard"
#define CERT_FROM " FROM certificates c JOIN tenants t ON t.id = c.tenant_id "

#define SQ_KEY_OPS                                                                                 \
        .validation_insert = sq_validation_insert, .validation_find = sq_validation_find,          \
        .blocked_key_add = sq_blocked_key_add, .blocked_key_get = sq_blocked_key_get,              \
        .blocked_key_page = sq_blocked_key_page, .cert_by_spki = sq_cert_by_spki,                  \
        .cert_spki_missing = sq_cert_spki_missing, .cert_set_spki = sq_cert_set_spki,              \
        .revocation_pending_of = sq_revocation_pending_of,                                         \
        .review_close_revocation = sq_review_close_revocation,
/* store_sqlite_notify.c */
enum qerr sq_webhook_insert(struct store *s, struct webhook_rec *w, struct qerr_info *ei);
enum qerr sq_webhook_set_secret(struct store *s, int64_t id, const uint8_t *blob, size_t len,
                                struct qerr_info *ei);
enum qerr sq_webhook_get(struct store *s, int64_t tenant, int64_t id, struct webhook_rec *out,
                         struct qerr_info *ei);
enum qerr sq_webhook_list(struct store *s, int64_t tenant, struct webhook_rec **out, size_t *n,
                          struct qerr_info *ei);
enum qerr sq_webhook_delete(struct store *s, int64_t id, qtime_t at, struct qerr_info *ei);
enum qerr sq_contacts_set(struct store *s, int64_t tenant, const char *const *emails, size_t n,
                          struct qerr_info *ei);
enum qerr sq_contacts_get(struct store *s, int64_t tenant, char ***emails, size_t *n,
                          struct qerr_info *ei);
enum qerr sq_delivery_insert(struct store *s, struct delivery_rec *d, struct qerr_info *ei);
enum qerr sq_delivery_claim(struct store *s, const char *owner, qtime_t now, qtime_t lease_until,
                            struct delivery_rec *out, struct qerr_info *ei);
enum qerr sq_delivery_finish(struct store *s, int64_t id, const char *owner,
                             const struct delivery_try *t, const char *state,
                             qtime_t next_attempt_at, struct qerr_info *ei);
enum qerr sq_delivery_release(struct store *s, qtime_t now, const char *owner, int *n,
                              struct qerr_info *ei);
enum qerr sq_delivery_owners(struct store *s, char ***owners, size_t *n, struct qerr_info *ei);
enum qerr sq_delivery_page(struct store *s, const struct delivery_query *q,
                           struct delivery_rec **out, size_t *n, bool *more, struct qerr_info *ei);
enum qerr sq_delivery_counts(struct store *s, int64_t *pending, int64_t *sending,
                             struct qerr_info *ei);
enum qerr sq_expiry_mark(struct store *s, int days, qtime_t *not_after, int64_t *cert_id,
                         struct qerr_info *ei);
enum qerr sq_expiry_mark_set(struct store *s, int days, qtime_t not_after, int64_t cert_id,
                             struct qerr_info *ei);
enum qerr sq_expiry_candidates(struct store *s, qtime_t after_not_after, int64_t after_id,
                               qtime_t upto, size_t limit, struct expiry_row **out, size_t *n,
                               struct qerr_info *ei);
enum qerr sq_expiry_record(struct store *s, int64_t cert_id, int days, qtime_t at, bool *inserted,
                           struct qerr_info *ei);

#define SQ_NOTIFY_OPS                                                                              \
        .webhook_insert = sq_webhook_insert, .webhook_set_secret = sq_webhook_set_secret,          \
        .webhook_get = sq_webhook_get, .webhook_list = sq_webhook_list,                            \
        .webhook_delete = sq_webhook_delete, .contacts_set = sq_contacts_set,                      \
        .contacts_get = sq_contacts_get, .delivery_insert = sq_delivery_insert,                    \
        .delivery_claim = sq_delivery_claim, .delivery_finish = sq_delivery_finish,                \
        .delivery_release = sq_delivery_release, .delivery_owners = sq_delivery_owners,            \
        .delivery_page = sq_delivery_page, .delivery_counts = sq_delivery_counts,                  \
        .expiry_mark = sq_expiry_mark, .expiry_mark_set = sq_expiry_mark_set,                      \
        .expiry_candidates = sq_expiry_candidates, .expiry_record = sq_expiry_record,
/* store_sqlite_serials.c */
enum qerr sq_serial_reserve(struct store *s, struct serial_rec *r, struct qerr_info *ei);
enum qerr sq_serial_get(struct store *s, const char *serial, struct serial_rec *out,
                        struct qerr_info *ei);
enum qerr sq_serial_list_reserved(struct store *s, struct serial_rec **out, size_t *n,
                                  struct qerr_info *ei);
enum qerr sq_serial_void(struct store *s, int64_t id, qtime_t at, struct qerr_info *ei);
enum qerr sq_serial_orphan(struct store *s, int64_t id, struct qerr_info *ei);

#define SQ_SERIAL_OPS                                                                              \
        .serial_reserve = sq_serial_reserve, .serial_get = sq_serial_get,                          \
        .serial_list_reserved = sq_serial_list_reserved, .serial_void = sq_serial_void,            \
        .serial_orphan = sq_serial_orphan,
/* store_sqlite_ocsp.c */
enum qerr sq_ocsp_responder_insert(struct store *s, struct ocsp_responder_row *r,
                                   struct qerr_info *ei);
enum qerr sq_ocsp_responder_get(struct store *s, int64_t id, struct ocsp_responder_row *out,
                                struct qerr_info *ei);
enum qerr sq_ocsp_cert_changes(struct store *s, int64_t after_event, size_t limit,
                               struct ocsp_cert_row **out, size_t *n, int64_t *next,
                               struct qerr_info *ei);
enum qerr sq_ocsp_certs_unanswered(struct store *s, int64_t after, int64_t upto, qtime_t now,
                                   struct ocsp_cert_row **out, size_t *n, int64_t *max_id,
                                   struct qerr_info *ei);
enum qerr sq_ocsp_revoked_stale(struct store *s, size_t limit, struct ocsp_cert_row **out,
                                size_t *n, struct qerr_info *ei);
enum qerr sq_ocsp_due(struct store *s, qtime_t now, size_t limit, struct ocsp_cert_row **out,
                      size_t *n, struct qerr_info *ei);
enum qerr sq_ocsp_response_put(struct store *s, struct ocsp_response_row *r, bool *stored,
                               struct qerr_info *ei);
enum qerr sq_ocsp_response_delete(struct store *s, int64_t ca_id, const char *serial,
                                  struct qerr_info *ei);
enum qerr sq_ocsp_responses_since(struct store *s, int64_t after, size_t limit,
                                  struct ocsp_response_row **out, size_t *n, struct qerr_info *ei);

#define SQ_OCSP_OPS                                                                                \
        .ocsp_responder_insert = sq_ocsp_responder_insert,                                         \
        .ocsp_responder_get = sq_ocsp_responder_get, .ocsp_cert_changes = sq_ocsp_cert_changes,    \
        .ocsp_certs_unanswered = sq_ocsp_certs_unanswered,                                         \
        .ocsp_revoked_stale = sq_ocsp_revoked_stale, .ocsp_due = sq_ocsp_due,                      \
        .ocsp_response_put = sq_ocsp_response_put,                                                 \
        .ocsp_response_delete = sq_ocsp_response_delete,                                           \
        .ocsp_responses_since = sq_ocsp_responses_since,

/* store_sqlite_acme.c */
enum qerr sq_eab_insert(struct store *s, const struct eab_rec *e, struct qerr_info *ei);
enum qerr sq_eab_get(struct store *s, const char *kid, struct eab_rec *out, struct qerr_info *ei);
enum qerr sq_eab_list(struct store *s, int64_t tenant, struct eab_rec **out, size_t *n,
                      struct qerr_info *ei);
enum qerr sq_eab_revoke(struct store *s, const char *kid, qtime_t at, struct qerr_info *ei);
enum qerr sq_eab_take(struct store *s, const char *kid, qtime_t now, struct qerr_info *ei);
enum qerr sq_acme_account_insert(struct store *s, struct acme_account_rec *a, struct qerr_info *ei);
enum qerr sq_acme_account_get(struct store *s, int64_t id, struct acme_account_rec *out,
                              struct qerr_info *ei);
enum qerr sq_acme_account_by_thumbprint(struct store *s, const char *tp,
                                        struct acme_account_rec *out, struct qerr_info *ei);
enum qerr sq_acme_account_update(struct store *s, const struct acme_account_rec *a,
                                 struct qerr_info *ei);
enum qerr sq_acme_authz_insert(struct store *s, struct acme_authz_rec *z, struct qerr_info *ei);
enum qerr sq_acme_authz_get(struct store *s, int64_t id, struct acme_authz_rec *out,
                            struct qerr_info *ei);
enum qerr sq_acme_authz_update(struct store *s, const struct acme_authz_rec *z,
                               struct qerr_info *ei);
enum qerr sq_acme_authz_reusable(struct store *s, int64_t account, const char *name, bool wildcard,
                                 qtime_t now, struct acme_authz_rec *out, struct qerr_info *ei);
enum qerr sq_acme_authz_claim(struct store *s, const char *owner, qtime_t now, qtime_t lease_until,
                              struct acme_authz_rec *out, struct qerr_info *ei);
enum qerr sq_acme_order_insert(struct store *s, struct acme_order_rec *o, struct qerr_info *ei);
enum qerr sq_acme_order_get(struct store *s, int64_t id, struct acme_order_rec *o,
                            struct qerr_info *ei);
enum qerr sq_acme_order_update(struct store *s, const struct acme_order_rec *o,
                               struct qerr_info *ei);
enum qerr sq_acme_order_ids(struct store *s, int64_t account, int64_t before_id, size_t limit,
                            int64_t **ids, size_t *n, struct qerr_info *ei);
enum qerr sq_acme_counts(struct store *s, int64_t account, qtime_t since, int64_t *orders,
                         int64_t *failed, struct qerr_info *ei);
enum qerr sq_acme_order_profile(struct store *s, int64_t order_id, char out[32],
                                struct qerr_info *ei);
enum qerr sq_acme_replacing(struct store *s, int64_t account, const char *replaces, int64_t *count,
                            struct qerr_info *ei);
enum qerr sq_acme_cert_owner(struct store *s, const char *serial, int64_t *cert_id,
                             int64_t *tenant_id, int64_t *account_id, struct qerr_info *ei);

#define SQ_ACME_OPS                                                                                \
        .eab_insert = sq_eab_insert, .eab_get = sq_eab_get, .eab_list = sq_eab_list,               \
        .eab_revoke = sq_eab_revoke, .eab_take = sq_eab_take,                                      \
        .acme_account_insert = sq_acme_account_insert, .acme_account_get = sq_acme_account_get,    \
        .acme_account_by_thumbprint = sq_acme_account_by_thumbprint,                               \
        .acme_account_update = sq_acme_account_update, .acme_authz_insert = sq_acme_authz_insert,  \
        .acme_authz_get = sq_acme_authz_get, .acme_authz_update = sq_acme_authz_update,            \
        .acme_authz_reusable = sq_acme_authz_reusable, .acme_authz_claim = sq_acme_authz_claim,    \
        .acme_order_insert = sq_acme_order_insert, .acme_order_get = sq_acme_order_get,            \
        .acme_order_update = sq_acme_order_update, .acme_order_ids = sq_acme_order_ids,            \
        .acme_counts = sq_acme_counts, .acme_cert_owner = sq_acme_cert_owner,                      \
        .acme_order_profile = sq_acme_order_profile, .acme_replacing = sq_acme_replacing,

#endif
