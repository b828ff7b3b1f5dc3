/*
 * store_sqlite_orders.c - the SQLite side of orders, their names, jobs,
 * reviews, approved organisations and DV revocation links (migration 003).
 * Same rules as store_sqlite.c: the caller brackets writes in begin/commit,
 * records returned are the caller's, one thread per handle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"

#define DB(s) sq_db(s)

static const char *keyprot(enum key_protection k)
{
        return k == KEYPROT_DATA_KEY ? "data_key" : k == KEYPROT_PASSWORD ? "password" : "none";
}

static void bind_blob_or_null(sqlite3_stmt *st, int i, const uint8_t *p, size_t len)
{
        if (p)
                sqlite3_bind_blob(st, i, p, (int)len, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, i);
}

/* ---- orders ---- */

static enum qerr insert_name(struct store *s, int64_t order_id, struct order_name_rec *n,
                             struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO order_names (order_id, name, method, token, value, "
                               "value_expires, validation_status, caa_status, validated_at, "
                               "reused_from) VALUES (?,?,?,?,?,?,?,?,?,?)",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, order_id);
        sqlite3_bind_text(st, 2, n->name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, n->method, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, n->token, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, n->value, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 6, n->value_expires);
        /* a new name waits for its checks, unless the order says otherwise
         * (private orders: not_required / not_checked) */
        if (!n->validation_status[0])
                snprintf(n->validation_status, sizeof n->validation_status, "pending");
        if (!n->caa_status[0])
                snprintf(n->caa_status, sizeof n->caa_status, "pending");
        sqlite3_bind_text(st, 7, n->validation_status, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 8, n->caa_status, -1, SQLITE_TRANSIENT);
        /* a name that reuses an earlier validation is valid from the start */
        sq_bind_id_or_null(st, 9, n->validated_at);
        sq_bind_id_or_null(st, 10, n->reused_from);
        rc = sq_run(s, st, ei, "storing an order name");
        if (rc == QERR_OK)
                n->id = sqlite3_last_insert_rowid(DB(s));
        return rc;
}

enum qerr sq_order_insert(struct store *s, struct order_rec *o, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO orders (purpose, subject_id, status, profile, "
                               "key_algorithm, csr_pem, key_blob, key_protection, org_info, "
                               "org_hash, free_cert, days, deadline, created_at, updated_at, "
                               "tenant_id, created_by) "
                               "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, o->purpose[0] ? o->purpose : "issue", -1, SQLITE_TRANSIENT);
        sq_bind_id_or_null(st, 2, o->subject_id);
        sqlite3_bind_text(st, 3, order_status_name(o->status), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, cert_profile_name(o->profile), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, o->key_algorithm, -1, SQLITE_TRANSIENT);
        sq_bind_text_or_null(st, 6, o->csr_pem);
        bind_blob_or_null(st, 7, o->key_blob, o->key_blob_len);
        sqlite3_bind_text(st, 8, keyprot(o->key_protection), -1, SQLITE_STATIC);
        sq_bind_text_or_null(st, 9, o->org_info);
        sq_bind_text_or_null(st, 10, o->org_hash[0] ? o->org_hash : NULL);
        sqlite3_bind_int(st, 11, o->free_cert);
        sqlite3_bind_int64(st, 12, o->days);
        sqlite3_bind_int64(st, 13, o->deadline);
        sqlite3_bind_int64(st, 14, o->created_at);
        sqlite3_bind_int64(st, 15, o->updated_at);
        sqlite3_bind_int64(st, 16, o->tenant_id ? o->tenant_id : 1);
        sqlite3_bind_text(st, 17, o->created_by, -1, SQLITE_TRANSIENT);
        if ((rc = sq_run(s, st, ei, "storing an order")) != QERR_OK)
                return rc;
        o->id = sqlite3_last_insert_rowid(DB(s));
        for (size_t i = 0; rc == QERR_OK && i < o->nnames; i++)
                rc = insert_name(s, o->id, &o->names[i], ei);
        return rc;
}

#define ORDER_COLS                                                                                 \
        "o.id, o.purpose, o.subject_id, o.status, o.profile, o.key_algorithm, o.csr_pem, "         \
        "o.key_blob, o.key_protection, o.org_info, o.org_hash, o.free_cert, o.days, "              \
        "o.certificate_id, o.failure_code, o.failure_message, o.deadline, o.created_at, "          \
        "o.updated_at, o.tenant_id, t.name, o.created_by "                                         \
        "FROM orders o JOIN tenants t ON t.id = o.tenant_id "

static struct order_rec *order_from_row(sqlite3_stmt *st)
{
        struct order_rec *o = calloc(1, sizeof *o);
        char tmp[32];
        if (!o)
                return NULL;
        o->id = sqlite3_column_int64(st, 0);
        sq_col_copy(st, 1, o->purpose, sizeof o->purpose);
        o->subject_id = sqlite3_column_int64(st, 2);
        sq_col_copy(st, 3, tmp, sizeof tmp);
        bool ok = order_status_from_name(tmp, &o->status);
        sq_col_copy(st, 4, tmp, sizeof tmp);
        ok = ok && cert_profile_from_name(tmp, &o->profile);
        sq_col_copy(st, 5, o->key_algorithm, sizeof o->key_algorithm);
        o->csr_pem = sq_col_dup(st, 6);
        int bl = sqlite3_column_bytes(st, 7);
        if (bl > 0 && (o->key_blob = malloc((size_t)bl))) {
                memcpy(o->key_blob, sqlite3_column_blob(st, 7), (size_t)bl);
                o->key_blob_len = (size_t)bl;
        } else if (bl > 0) {
                ok = false;
        }
        sq_col_copy(st, 8, tmp, sizeof tmp);
        o->key_protection = strcmp(tmp, "data_key") == 0   ? KEYPROT_DATA_KEY
                            : strcmp(tmp, "password") == 0 ? KEYPROT_PASSWORD
                                                           : KEYPROT_NONE;
        o->org_info = sq_col_dup(st, 9);
        sq_col_copy(st, 10, o->org_hash, sizeof o->org_hash);
        o->free_cert = sqlite3_column_int(st, 11) != 0;
        o->days = (long)sqlite3_column_int64(st, 12);
        o->certificate_id = sqlite3_column_int64(st, 13);
        sq_col_copy(st, 14, o->failure_code, sizeof o->failure_code);
        o->failure_message = sq_col_dup(st, 15);
        o->deadline = sqlite3_column_int64(st, 16);
        o->created_at = sqlite3_column_int64(st, 17);
        o->updated_at = sqlite3_column_int64(st, 18);
        o->tenant_id = sqlite3_column_int64(st, 19);
        sq_col_copy(st, 20, o->tenant, sizeof o->tenant);
        sq_col_copy(st, 21, o->created_by, sizeof o->created_by);
        if (!ok) {
                order_rec_free(o);
                return NULL;
        }
        return o;
}

static enum qerr load_names(struct store *s, struct order_rec *o, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT n.id, n.name, n.method, n.token, n.value, "
                               "n.value_expires, n.validation_status, n.caa_status, "
                               "n.caa_checked_at, n.caa_detail, n.failure_code, "
                               "n.failure_message, n.validated_at, n.reused_from, v.order_id, "
                               "v.method FROM order_names n LEFT JOIN validations v ON "
                               "v.id = n.reused_from WHERE n.order_id = ? ORDER BY n.id",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, o->id);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
                struct order_name_rec *v = realloc(o->names, (o->nnames + 1) * sizeof *v);
                if (!v) {
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                        break;
                }
                o->names = v;
                struct order_name_rec *n = &v[o->nnames++];
                memset(n, 0, sizeof *n);
                n->id = sqlite3_column_int64(st, 0);
                sq_col_copy(st, 1, n->name, sizeof n->name);
                sq_col_copy(st, 2, n->method, sizeof n->method);
                sq_col_copy(st, 3, n->token, sizeof n->token);
                sq_col_copy(st, 4, n->value, sizeof n->value);
                n->value_expires = sqlite3_column_int64(st, 5);
                sq_col_copy(st, 6, n->validation_status, sizeof n->validation_status);
                sq_col_copy(st, 7, n->caa_status, sizeof n->caa_status);
                n->caa_checked_at = sqlite3_column_int64(st, 8);
                n->caa_detail = sq_col_dup(st, 9);
                sq_col_copy(st, 10, n->failure_code, sizeof n->failure_code);
                n->failure_message = sq_col_dup(st, 11);
                n->validated_at = sqlite3_column_int64(st, 12);
                n->reused_from = sqlite3_column_int64(st, 13);
                n->reused_order = sqlite3_column_int64(st, 14);
                sq_col_copy(st, 15, n->reused_method, sizeof n->reused_method);
        }
        if (rc == QERR_OK && step != SQLITE_DONE)
                rc = sq_err(DB(s), step, ei, "reading order names");
        sq_done(s, st);
        return rc;
}

enum qerr sq_order_get(struct store *s, int64_t tenant, int64_t id, struct order_rec **out,
                       struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(
            s, "SELECT " ORDER_COLS "WHERE o.id = ?1 AND (?2 = 0 OR o.tenant_id = ?2)", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, tenant);
        int step = sqlite3_step(st);
        struct order_rec *o = NULL;
        if (step == SQLITE_ROW)
                rc = (o = order_from_row(st))
                         ? QERR_OK
                         : qerr_set(ei, QERR_STORE, "order %lld is unreadable", (long long)id);
        else if (step == SQLITE_DONE)
                rc = qerr_set(ei, QERR_NOT_FOUND, "no order with id %lld; see 'quill order list'",
                              (long long)id);
        else
                rc = sq_err(DB(s), step, ei, "reading an order");
        sq_done(s, st);
        if (rc == QERR_OK)
                rc = load_names(s, o, ei);
        if (rc != QERR_OK) {
                order_rec_free(o);
                return rc;
        }
        *out = o;
        return QERR_OK;
}

static bool order_fill(sqlite3_stmt *st, void *slot)
{
        return (*(struct order_rec **)slot = order_from_row(st)) != NULL;
}

static void order_clear(void *slot)
{
        order_rec_free(*(struct order_rec **)slot);
}

enum qerr sq_order_page(struct store *s, const struct order_query *q, struct order_rec ***out,
                        size_t *n, bool *more, struct qerr_info *ei)
{
        struct sq_where w;
        sqw_init(&w, "SELECT " ORDER_COLS);
        sqw_raw(&w, "o.purpose = 'issue'");
        if (q->tenant)
                sqw_int(&w, "o.tenant_id = ?", q->tenant);
        if (q->before_id)
                sqw_int(&w, "o.id < ?", q->before_id);
        if (q->status)
                sqw_text(&w, "o.status = ?", q->status);
        size_t limit = q->limit ? q->limit : 100;
        sqw_tail_int(&w, " ORDER BY o.id DESC LIMIT ?", (int64_t)limit + 1);
        sqlite3_stmt *st;
        enum qerr rc = sqw_prepare(s, &w, &st, ei);
        if (rc != QERR_OK)
                return rc;
        rc = sq_collect(s, st, sizeof **out, order_fill, order_clear, (void **)out, n,
                        "listing orders", ei);
        *more = false;
        if (rc == QERR_OK && *n > limit) {
                order_rec_free((*out)[limit]);
                *n = limit;
                *more = true;
        }
        for (size_t i = 0; rc == QERR_OK && i < *n; i++)
                rc = load_names(s, (*out)[i], ei);
        if (rc != QERR_OK) {
                store_free_orders(*out, *n);
                *out = NULL;
                *n = 0;
        }
        return rc;
}

enum qerr sq_order_update(struct store *s, const struct order_rec *o, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "UPDATE orders SET status = ?, failure_code = ?, failure_message = "
                               "?, certificate_id = ?, key_blob = ?, key_protection = ?, "
                               "updated_at = ? WHERE id = ?",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, order_status_name(o->status), -1, SQLITE_STATIC);
        sq_bind_text_or_null(st, 2, o->failure_code[0] ? o->failure_code : NULL);
        sq_bind_text_or_null(st, 3, o->failure_message);
        sq_bind_id_or_null(st, 4, o->certificate_id);
        bind_blob_or_null(st, 5, o->key_blob, o->key_blob_len);
        sqlite3_bind_text(st, 6, keyprot(o->key_protection), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, o->updated_at);
        sqlite3_bind_int64(st, 8, o->id);
        return sq_run(s, st, ei, "updating an order");
}

enum qerr sq_order_name_update(struct store *s, const struct order_name_rec *n,
                               struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "UPDATE order_names SET validation_status = ?, caa_status = ?, "
                               "caa_checked_at = ?, caa_detail = ?, failure_code = ?, "
                               "failure_message = ?, validated_at = ? WHERE id = ?",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, n->validation_status, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, n->caa_status, -1, SQLITE_TRANSIENT);
        sq_bind_id_or_null(st, 3, n->caa_checked_at);
        sq_bind_text_or_null(st, 4, n->caa_detail);
        sq_bind_text_or_null(st, 5, n->failure_code[0] ? n->failure_code : NULL);
        sq_bind_text_or_null(st, 6, n->failure_message);
        sq_bind_id_or_null(st, 7, n->validated_at);
        sqlite3_bind_int64(st, 8, n->id);
        return sq_run(s, st, ei, "updating an order name");
}

enum qerr sq_order_active_for_names(struct store *s, int64_t tenant, char *const *names, size_t n,
                                    int64_t *order_id, struct qerr_info *ei)
{
        *order_id = 0;
        for (size_t i = 0; i < n && !*order_id; i++) {
                sqlite3_stmt *st;
                enum qerr rc = sq_stmt(s,
                                       "SELECT o.id FROM orders o JOIN order_names n ON "
                                       "n.order_id = o.id WHERE o.purpose = 'issue' AND "
                                       "o.status NOT IN ('issued', 'failed', 'cancelled') AND "
                                       "n.name = ?1 AND (?2 = 0 OR o.tenant_id = ?2) "
                                       "ORDER BY o.id LIMIT 1",
                                       &st, ei);
                if (rc != QERR_OK)
                        return rc;
                sqlite3_bind_text(st, 1, names[i], -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(st, 2, tenant);
                int step = sqlite3_step(st);
                if (step == SQLITE_ROW)
                        *order_id = sqlite3_column_int64(st, 0);
                else if (step != SQLITE_DONE)
                        rc = sq_err(DB(s), step, ei, "looking for renewals");
                sq_done(s, st);
                if (rc != QERR_OK)
                        return rc;
        }
        return QERR_OK;
}

/* ---- jobs ---- */

enum qerr sq_job_insert(struct store *s, const char *kind, int64_t order_id, qtime_t run_at,
                        struct qerr_info *ei)
{
        sqlite3_stmt *st;
        /* an open job of the same kind for the order already does the work */
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO jobs (kind, order_id, state, run_at, created_at, "
                               "updated_at) VALUES (?, ?, 'queued', ?, ?, ?) "
                               "ON CONFLICT DO NOTHING",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, order_id);
        sqlite3_bind_int64(st, 3, run_at);
        sqlite3_bind_int64(st, 4, run_at);
        sqlite3_bind_int64(st, 5, run_at);
        return sq_run(s, st, ei, "queueing a job");
}

static void job_from_row(sqlite3_stmt *st, struct job_rec *j)
{
        memset(j, 0, sizeof *j);
        j->id = sqlite3_column_int64(st, 0);
        sq_col_copy(st, 1, j->kind, sizeof j->kind);
        j->order_id = sqlite3_column_int64(st, 2);
        sq_col_copy(st, 3, j->state, sizeof j->state);
        j->run_at = sqlite3_column_int64(st, 4);
        j->attempts = sqlite3_column_int(st, 5);
        sq_col_copy(st, 6, j->owner, sizeof j->owner);
        j->ca_id = sqlite3_column_int64(st, 7);
        j->shard =
            sqlite3_column_type(st, 8) == SQLITE_NULL ? CRL_SHARD_NONE : sqlite3_column_int(st, 8);
}

enum qerr sq_job_claim(struct store *s, const char *owner, qtime_t now, struct job_rec *out,
                       struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "UPDATE jobs SET state = 'running', owner = ?1, attempts = "
                               "attempts + 1, updated_at = ?2 WHERE id = (SELECT id FROM jobs "
                               "WHERE state = 'queued' AND run_at <= ?2 ORDER BY run_at, id "
                               "LIMIT 1) RETURNING id, kind, order_id, state, run_at, attempts, "
                               "owner, ca_id, shard",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, owner, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, now);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
                job_from_row(st, out);
        else if (step == SQLITE_DONE)
                rc = QERR_NOT_FOUND;
        else
                rc = sq_err(DB(s), step, ei, "claiming a job");
        sq_done(s, st);
        return rc;
}

enum qerr sq_job_done(struct store *s, int64_t id, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "UPDATE jobs SET state = 'done', owner = NULL, updated_at = "
                               "strftime('%s','now') WHERE id = ?",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, id);
        return sq_run(s, st, ei, "finishing a job");
}

enum qerr sq_job_retry(struct store *s, int64_t id, qtime_t run_at, const char *error,
                       struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "UPDATE jobs SET state = 'queued', owner = NULL, run_at = ?, "
                               "last_error = ?, updated_at = strftime('%s','now') WHERE id = ?",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, run_at);
        sq_bind_text_or_null(st, 2, error);
        sqlite3_bind_int64(st, 3, id);
        int step = sqlite3_step(st);
        sq_done(s, st);
        if (step == SQLITE_DONE)
                return QERR_OK;
        if (!sq_unique_violation(step))
                return sq_err(DB(s), step, ei, "rescheduling a job");
        /* a CRL job queued for the same partition meanwhile (a revocation
         * while this one ran) does all this one would: this one is done */
        if ((rc = sq_stmt(s,
                          "UPDATE jobs SET state = 'done', owner = NULL, last_error = ?, "
                          "updated_at = strftime('%s','now') WHERE id = ?",
                          &st, ei)) != QERR_OK)
                return rc;
        sq_bind_text_or_null(st, 1, error);
        sqlite3_bind_int64(st, 2, id);
        return sq_run(s, st, ei, "closing a job another one replaces");
}

static bool job_fill(sqlite3_stmt *st, void *slot)
{
        job_from_row(st, slot);
        return true;
}

enum qerr sq_job_list_running(struct store *s, struct job_rec **out, size_t *n,
                              struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT id, kind, order_id, state, run_at, attempts, owner, ca_id, "
                               "shard FROM jobs WHERE state = 'running' ORDER BY id",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        return sq_collect(s, st, sizeof **out, job_fill, NULL, (void **)out, n,
                          "listing running jobs", ei);
}

enum qerr sq_job_close_order(struct store *s, int64_t order_id, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "UPDATE jobs SET state = 'done', owner = NULL, updated_at = "
                               "strftime('%s','now') WHERE order_id = ? AND state <> 'done'",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, order_id);
        return sq_run(s, st, ei, "closing an order's jobs");
}

/* ---- reviews ---- */

enum qerr sq_review_insert(struct store *s, struct review_rec *r, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc =
            sq_stmt(s,
                    "INSERT INTO reviews (order_id, revocation_id, kind, status, detail, "
                    "created_at, tenant_id, requested_by) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?)",
                    &st, ei);
        if (rc != QERR_OK)
                return rc;
        sq_bind_id_or_null(st, 1, r->order_id);
        sq_bind_id_or_null(st, 2, r->revocation_id);
        sqlite3_bind_text(st, 3, r->kind, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, r->detail ? r->detail : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, r->created_at);
        sqlite3_bind_int64(st, 6, r->tenant_id ? r->tenant_id : 1);
        sqlite3_bind_text(st, 7, r->requested_by, -1, SQLITE_TRANSIENT);
        rc = sq_run(s, st, ei, "storing a review");
        if (rc == QERR_OK) {
                r->id = sqlite3_last_insert_rowid(DB(s));
                snprintf(r->status, sizeof r->status, "pending");
        }
        return rc;
}

#define REVIEW_COLS                                                                                \
        "r.id, r.order_id, r.kind, r.status, r.detail, r.reviewer, r.reason, r.created_at, "       \
        "r.decided_at, r.revocation_id, r.tenant_id, t.name, r.reviewer_key, r.requested_by "      \
        "FROM reviews r JOIN tenants t ON t.id = r.tenant_id "

static void review_from_row(sqlite3_stmt *st, struct review_rec *r)
{
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(st, 0);
        r->order_id = sqlite3_column_int64(st, 1);
        sq_col_copy(st, 2, r->kind, sizeof r->kind);
        sq_col_copy(st, 3, r->status, sizeof r->status);
        r->detail = sq_col_dup(st, 4);
        sq_col_copy(st, 5, r->reviewer, sizeof r->reviewer);
        r->reason = sq_col_dup(st, 6);
        r->created_at = sqlite3_column_int64(st, 7);
        r->decided_at = sqlite3_column_int64(st, 8);
        r->revocation_id = sqlite3_column_int64(st, 9);
        r->tenant_id = sqlite3_column_int64(st, 10);
        sq_col_copy(st, 11, r->tenant, sizeof r->tenant);
        r->reviewer_key = sqlite3_column_int64(st, 12);
        sq_col_copy(st, 13, r->requested_by, sizeof r->requested_by);
}

enum qerr sq_review_get(struct store *s, int64_t tenant, int64_t id, struct review_rec *out,
                        struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(
            s, "SELECT " REVIEW_COLS "WHERE r.id = ?1 AND (?2 = 0 OR r.tenant_id = ?2)", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, tenant);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
                review_from_row(st, out);
        else if (step == SQLITE_DONE)
                rc = qerr_set(ei, QERR_NOT_FOUND, "no review with id %lld; see 'quill review list'",
                              (long long)id);
        else
                rc = sq_err(DB(s), step, ei, "reading a review");
        sq_done(s, st);
        return rc;
}

static bool review_fill(sqlite3_stmt *st, void *slot)
{
        review_from_row(st, slot);
        return true;
}

static void review_clear(void *slot)
{
        review_rec_clear(slot);
}

enum qerr sq_review_list(struct store *s, int64_t tenant, const char *status,
                         struct review_rec **out, size_t *n, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT " REVIEW_COLS "WHERE (?1 IS NULL OR r.status = ?1) AND "
                               "(?2 = 0 OR r.tenant_id = ?2) ORDER BY r.id",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sq_bind_text_or_null(st, 1, status);
        sqlite3_bind_int64(st, 2, tenant);
        return sq_collect(s, st, sizeof **out, review_fill, review_clear, (void **)out, n,
                          "listing reviews", ei);
}

enum qerr sq_review_for_order(struct store *s, int64_t order_id, struct review_rec **out, size_t *n,
                              struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc =
            sq_stmt(s, "SELECT " REVIEW_COLS "WHERE r.order_id = ? ORDER BY r.id", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, order_id);
        return sq_collect(s, st, sizeof **out, review_fill, review_clear, (void **)out, n,
                          "listing an order's reviews", ei);
}

enum qerr sq_review_decide(struct store *s, const struct review_rec *r, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "UPDATE reviews SET status = ?, reviewer = ?, reason = ?, "
                               "decided_at = ?, reviewer_key = ? WHERE id = ? AND status = "
                               "'pending'",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, r->status, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, r->reviewer, -1, SQLITE_TRANSIENT);
        sq_bind_text_or_null(st, 3, r->reason);
        sqlite3_bind_int64(st, 4, r->decided_at);
        sq_bind_id_or_null(st, 5, r->reviewer_key);
        sqlite3_bind_int64(st, 6, r->id);
        rc = sq_run(s, st, ei, "deciding a review");
        if (rc == QERR_OK && sqlite3_changes(DB(s)) != 1)
                rc = qerr_set(ei, QERR_ORDER_STATE, "review %lld was already decided",
                              (long long)r->id);
        return rc;
}

enum qerr sq_org_is_approved(struct store *s, int64_t tenant, const char *org_hash, qtime_t since,
                             bool *out, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT 1 FROM organizations WHERE tenant_id = ? AND org_hash = ? "
                               "AND approved_at >= ?",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, tenant);
        sqlite3_bind_text(st, 2, org_hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, since);
        int step = sqlite3_step(st);
        *out = step == SQLITE_ROW;
        if (step != SQLITE_ROW && step != SQLITE_DONE)
                rc = sq_err(DB(s), step, ei, "looking up an organisation");
        sq_done(s, st);
        return rc;
}

enum qerr sq_org_approve(struct store *s, int64_t tenant, const char *org_hash, const char *info,
                         int64_t review_id, qtime_t at, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        /* a new approval renews an expired one */
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO organizations (tenant_id, org_hash, info, review_id, "
                               "approved_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, "
                               "org_hash) DO UPDATE SET info = excluded.info, review_id = "
                               "excluded.review_id, approved_at = excluded.approved_at",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, tenant);
        sqlite3_bind_text(st, 2, org_hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, info ? info : "{}", -1, SQLITE_TRANSIENT);
        sq_bind_id_or_null(st, 4, review_id);
        sqlite3_bind_int64(st, 5, at);
        return sq_run(s, st, ei, "recording an organisation");
}

/* ---- DV revocations waiting for proof of control ---- */

enum qerr sq_revocation_by_order(struct store *s, int64_t order_id, int64_t *rev_id,
                                 int64_t *cert_id, int *reason, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT id, certificate_id, reason_code FROM revocations WHERE "
                               "order_id = ? AND status = 'pending'",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, order_id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
                *rev_id = sqlite3_column_int64(st, 0);
                *cert_id = sqlite3_column_int64(st, 1);
                *reason = sqlite3_column_int(st, 2);
        } else if (step == SQLITE_DONE) {
                rc = qerr_set(ei, QERR_NOT_FOUND, "no pending revocation for order %lld",
                              (long long)order_id);
        } else {
                rc = sq_err(DB(s), step, ei, "reading a revocation");
        }
        sq_done(s, st);
        return rc;
}

enum qerr sq_revocation_finish(struct store *s, int64_t rev_id, const char *status, qtime_t at,
                               struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc =
            sq_stmt(s, "UPDATE revocations SET status = ?, finished_at = ? WHERE id = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, at);
        sqlite3_bind_int64(st, 3, rev_id);
        return sq_run(s, st, ei, "finishing a revocation");
}

enum qerr sq_revocation_link_order(struct store *s, int64_t rev_id, int64_t order_id,
                                   struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, "UPDATE revocations SET order_id = ? WHERE id = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, order_id);
        sqlite3_bind_int64(st, 2, rev_id);
        return sq_run(s, st, ei, "linking a revocation");
}

void store_free_orders(struct order_rec **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                order_rec_free(v[i]);
        free(v);
}

void store_free_reviews(struct review_rec *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                review_rec_clear(&v[i]);
        free(v);
}

enum qerr sq_letter_put(struct store *s, int64_t rev_id, const char *type, const char *sha256,
                        const uint8_t *data, size_t len, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc =
            sq_stmt(s,
                    "INSERT INTO revocation_letters (revocation_id, content_type, "
                    "sha256, data, created_at) VALUES (?, ?, ?, ?, strftime('%s','now'))",
                    &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, rev_id);
        sqlite3_bind_text(st, 2, type, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, sha256, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 4, data, (int)len, SQLITE_TRANSIENT);
        return sq_run(s, st, ei, "storing a revocation letter");
}

enum qerr sq_revocation_get(struct store *s, int64_t rev_id, int64_t *cert_id, int *reason,
                            char status[16], struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT certificate_id, reason_code, status FROM revocations WHERE "
                               "id = ?",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, rev_id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
                *cert_id = sqlite3_column_int64(st, 0);
                *reason = sqlite3_column_int(st, 1);
                sq_col_copy(st, 2, status, 16);
        } else if (step == SQLITE_DONE) {
                rc = qerr_set(ei, QERR_NOT_FOUND, "no revocation %lld", (long long)rev_id);
        } else {
                rc = sq_err(DB(s), step, ei, "reading a revocation");
        }
        sq_done(s, st);
        return rc;
}

enum qerr sq_job_counts(struct store *s, int64_t *queued, int64_t *running, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT count(*) FILTER (WHERE state = 'queued'), count(*) FILTER "
                               "(WHERE state = 'running') FROM jobs WHERE state <> 'done'",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
                *queued = sqlite3_column_int64(st, 0);
                *running = sqlite3_column_int64(st, 1);
        } else {
                rc = sq_err(DB(s), step, ei, "counting jobs");
        }
        sq_done(s, st);
        return rc;
}
