/*
 * store_sqlite_int.h - what the SQLite backend's files share: the handle
 * struct and small statement helpers. Not for use outside src/store.
 */
#ifndef QUILL_STORE_SQLITE_INT_H
#define QUILL_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "store.h"

struct sqlite_store {
        struct store base;
        sqlite3 *db;
        bool in_tx;
};

sqlite3 *sq_db(struct store *s);
/* Maps a SQLite result to a qerr (disk full, busy, constraint, other). */
enum qerr sq_err(sqlite3 *db, int rc, struct qerr_info *ei, const char *what);
enum qerr sq_exec(sqlite3 *db, const char *sql, struct qerr_info *ei, const char *what);
enum qerr sq_prep(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct qerr_info *ei);
/* Steps a statement that returns no rows, then finalizes it. */
enum qerr sq_run(sqlite3 *db, sqlite3_stmt *st, struct qerr_info *ei, const char *what);
char *sq_col_dup(sqlite3_stmt *st, int i);
void sq_col_copy(sqlite3_stmt *st, int i, char *out, size_t outsz);
void sq_bind_text_or_null(sqlite3_stmt *st, int i, const char *v);
void sq_bind_id_or_null(sqlite3_stmt *st, int i, int64_t v);
bool sq_unique_violation(int rc);
/* Steps `st` to its end, one array element per row: `fill` writes a row
 * into a zeroed element (false: unreadable); `clear` releases one (may be
 * NULL). Finalizes `st`. On failure nothing is returned (freed). */
enum qerr sq_collect(sqlite3 *db, sqlite3_stmt *st, size_t elem,
                     bool (*fill)(sqlite3_stmt *st, void *slot), void (*clear)(void *slot),
                     void **out, size_t *n, const char *what, struct qerr_info *ei);

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

#define SQ_ORDER_OPS                                                                               \
        .order_insert = sq_order_insert, .order_get = sq_order_get, .order_page = sq_order_page,   \
        .order_update = sq_order_update, .order_name_update = sq_order_name_update,                \
        .order_active_for_names = sq_order_active_for_names, .job_insert = sq_job_insert,          \
        .job_claim = sq_job_claim, .job_done = sq_job_done, .job_retry = sq_job_retry,             \
        .job_list_running = sq_job_list_running, .job_close_order = sq_job_close_order,            \
        .review_insert = sq_review_insert, .review_get = sq_review_get,                            \
        .review_list = sq_review_list, .review_decide = sq_review_decide,                          \
        .org_is_approved = sq_org_is_approved, .org_approve = sq_org_approve,                      \
        .revocation_by_order = sq_revocation_by_order, .revocation_finish = sq_revocation_finish,  \
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

#endif
