/*
 * store_sqlite_notify.c - the notification tables of migration 010 in the
 * SQLite backend: webhooks, contacts, the outbox of deliveries with its
 * attempt log, and the expiry scan's position and record of warnings sent.
 *
 * The claim is one UPDATE ... RETURNING (the write lock makes it atomic:
 * two notifier threads, or two quill processes, never take the same row);
 * a claimed row carries its owner and a lease, after which another
 * notifier may take it back. Same rules as store.h: one thread per handle;
 * records returned are the caller's.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"

#define DB(s) sq_db(s)

/* ---- webhooks ---- */

#define WEBHOOK_COLS                                                                               \
        "w.id, w.tenant_id, t.name, w.url, w.secret_blob, w.created_at, w.created_by, "            \
        "w.deleted_at FROM webhooks w JOIN tenants t ON t.id = w.tenant_id "

static bool webhook_fill(sqlite3_stmt *st, void *slot)
{
        struct webhook_rec *w = slot;
        w->id = sqlite3_column_int64(st, 0);
        w->tenant_id = sqlite3_column_int64(st, 1);
        sq_col_copy(st, 2, w->tenant, sizeof w->tenant);
        w->url = sq_col_dup(st, 3);
        int n = sqlite3_column_bytes(st, 4);
        const void *b = sqlite3_column_blob(st, 4);
        if (n > 0 && b) {
                w->secret_blob = malloc((size_t)n);
                if (!w->secret_blob)
                        return false;
                memcpy(w->secret_blob, b, (size_t)n);
                w->secret_len = (size_t)n;
        }
        w->created_at = sqlite3_column_int64(st, 5);
        sq_col_copy(st, 6, w->created_by, sizeof w->created_by);
        w->deleted_at = sqlite3_column_int64(st, 7);
        return w->url != NULL;
}

static void webhook_clear(void *slot)
{
        webhook_rec_clear(slot);
}

void store_free_webhooks(struct webhook_rec *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                webhook_rec_clear(&v[i]);
        free(v);
}

enum qerr sq_webhook_insert(struct store *s, struct webhook_rec *w, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO webhooks (tenant_id, url, secret_blob, created_at, "
                               "created_by) VALUES (?, ?, ?, ?, ?)",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, w->tenant_id);
        sqlite3_bind_text(st, 2, w->url, -1, SQLITE_TRANSIENT);
        if (w->secret_blob)
                sqlite3_bind_blob(st, 3, w->secret_blob, (int)w->secret_len, SQLITE_TRANSIENT);
        else
                sqlite3_bind_zeroblob(st, 3, 0);
        sqlite3_bind_int64(st, 4, w->created_at);
        sqlite3_bind_text(st, 5, w->created_by, -1, SQLITE_TRANSIENT);
        rc = sq_run(s, st, ei, "storing a webhook");
        if (rc == QERR_OK)
                w->id = sqlite3_last_insert_rowid(DB(s));
        return rc;
}

enum qerr sq_webhook_set_secret(struct store *s, int64_t id, const uint8_t *blob, size_t len,
                                struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, "UPDATE webhooks SET secret_blob = ? WHERE id = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_blob(st, 1, blob, (int)len, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, id);
        return sq_run(s, st, ei, "storing a webhook secret");
}

enum qerr sq_webhook_get(struct store *s, int64_t tenant, int64_t id, struct webhook_rec *out,
                         struct qerr_info *ei)
{
        sqlite3_stmt *st;
        memset(out, 0, sizeof *out);
        enum qerr rc = sq_stmt(s,
                               "SELECT " WEBHOOK_COLS "WHERE w.id = ?1 AND w.deleted_at IS NULL "
                               "AND (?2 = 0 OR w.tenant_id = ?2)",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, tenant);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
                if (!webhook_fill(st, out)) {
                        webhook_rec_clear(out);
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                }
        } else if (step == SQLITE_DONE) {
                rc = qerr_set(ei, QERR_NOT_FOUND, "no webhook with id %lld", (long long)id);
        } else {
                rc = sq_err(DB(s), step, ei, "reading a webhook");
        }
        sq_done(s, st);
        return rc;
}

enum qerr sq_webhook_list(struct store *s, int64_t tenant, struct webhook_rec **out, size_t *n,
                          struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT " WEBHOOK_COLS "WHERE w.deleted_at IS NULL AND (?1 = 0 OR "
                               "w.tenant_id = ?1) ORDER BY w.id",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, tenant);
        return sq_collect(s, st, sizeof **out, webhook_fill, webhook_clear, (void **)out, n,
                          "listing webhooks", ei);
}

enum qerr sq_webhook_delete(struct store *s, int64_t id, qtime_t at, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(
            s, "UPDATE webhooks SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, at);
        sqlite3_bind_int64(st, 2, id);
        rc = sq_run(s, st, ei, "deleting a webhook");
        if (rc == QERR_OK && sqlite3_changes(DB(s)) != 1)
                return qerr_set(ei, QERR_NOT_FOUND, "no webhook with id %lld", (long long)id);
        if (rc != QERR_OK)
                return rc;
        /* what was still to be sent to it is not sent any more */
        rc = sq_stmt(s,
                     "UPDATE deliveries SET state = 'cancelled', finished_at = ?1, last_error = "
                     "coalesce(last_error, 'the webhook was deleted') WHERE webhook_id = ?2 AND "
                     "state = 'pending'",
                     &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, at);
        sqlite3_bind_int64(st, 2, id);
        return sq_run(s, st, ei, "cancelling deliveries");
}

/* ---- contacts ---- */

enum qerr sq_contacts_set(struct store *s, int64_t tenant, const char *const *emails, size_t n,
                          struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, "DELETE FROM contacts WHERE tenant_id = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, tenant);
        if ((rc = sq_run(s, st, ei, "replacing contacts")) != QERR_OK)
                return rc;
        for (size_t i = 0; i < n; i++) {
                rc = sq_stmt(s,
                             "INSERT OR IGNORE INTO contacts (tenant_id, email, position) VALUES "
                             "(?, ?, ?)",
                             &st, ei);
                if (rc != QERR_OK)
                        return rc;
                sqlite3_bind_int64(st, 1, tenant);
                sqlite3_bind_text(st, 2, emails[i], -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(st, 3, (int64_t)i);
                if ((rc = sq_run(s, st, ei, "storing a contact")) != QERR_OK)
                        return rc;
        }
        return QERR_OK;
}

static bool string_fill(sqlite3_stmt *st, void *slot)
{
        char **p = slot;
        *p = sq_col_dup(st, 0);
        return *p != NULL;
}

static void string_clear(void *slot)
{
        free(*(char **)slot);
}

void store_free_strings(char **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

enum qerr sq_contacts_get(struct store *s, int64_t tenant, char ***emails, size_t *n,
                          struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(
            s, "SELECT email FROM contacts WHERE tenant_id = ? ORDER BY position, email", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, tenant);
        return sq_collect(s, st, sizeof **emails, string_fill, string_clear, (void **)emails, n,
                          "reading contacts", ei);
}

/* ---- the outbox ---- */

#define DELIVERY_COLS                                                                              \
        "id, tenant_id, event, object_type, object_id, channel, webhook_id, recipients, "          \
        "subject, body, state, attempts, next_attempt_at, created_at, finished_at, "               \
        "last_status, last_error, owner"

static bool delivery_fill(sqlite3_stmt *st, void *slot)
{
        struct delivery_rec *d = slot;
        d->id = sqlite3_column_int64(st, 0);
        d->tenant_id = sqlite3_column_int64(st, 1);
        sq_col_copy(st, 2, d->event, sizeof d->event);
        sq_col_copy(st, 3, d->object_type, sizeof d->object_type);
        d->object_id = sqlite3_column_int64(st, 4);
        sq_col_copy(st, 5, d->channel, sizeof d->channel);
        d->webhook_id = sqlite3_column_int64(st, 6);
        d->recipients = sq_col_dup(st, 7);
        d->subject = sq_col_dup(st, 8);
        int n = sqlite3_column_bytes(st, 9);
        const void *b = sqlite3_column_blob(st, 9);
        d->body = malloc((size_t)n + 1);
        if (!d->body)
                return false;
        if (n > 0 && b)
                memcpy(d->body, b, (size_t)n);
        d->body[n] = 0;
        d->body_len = (size_t)n;
        sq_col_copy(st, 10, d->state, sizeof d->state);
        d->attempts = sqlite3_column_int(st, 11);
        d->next_attempt_at = sqlite3_column_int64(st, 12);
        d->created_at = sqlite3_column_int64(st, 13);
        d->finished_at = sqlite3_column_int64(st, 14);
        d->last_status = sqlite3_column_int(st, 15);
        d->last_error = sq_col_dup(st, 16);
        sq_col_copy(st, 17, d->owner, sizeof d->owner);
        return true;
}

static void delivery_clear(void *slot)
{
        delivery_rec_clear(slot);
}

void store_free_deliveries(struct delivery_rec *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                delivery_rec_clear(&v[i]);
        free(v);
}

enum qerr sq_delivery_insert(struct store *s, struct delivery_rec *d, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc =
            sq_stmt(s,
                    "INSERT INTO deliveries (tenant_id, event, object_type, object_id, channel, "
                    "webhook_id, recipients, subject, body, state, attempts, next_attempt_at, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
                    &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, d->tenant_id);
        sqlite3_bind_text(st, 2, d->event, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, d->object_type, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, d->object_id);
        sqlite3_bind_text(st, 5, d->channel, -1, SQLITE_TRANSIENT);
        sq_bind_id_or_null(st, 6, d->webhook_id);
        sq_bind_text_or_null(st, 7, d->recipients);
        sq_bind_text_or_null(st, 8, d->subject);
        sqlite3_bind_blob(st, 9, d->body, (int)d->body_len, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 10, d->next_attempt_at);
        sqlite3_bind_int64(st, 11, d->created_at);
        rc = sq_run(s, st, ei, "queueing a notification");
        if (rc == QERR_OK) {
                d->id = sqlite3_last_insert_rowid(DB(s));
                snprintf(d->state, sizeof d->state, "pending");
        }
        return rc;
}

enum qerr sq_delivery_claim(struct store *s, const char *owner, qtime_t now, qtime_t lease_until,
                            struct delivery_rec *out, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        memset(out, 0, sizeof *out);
        enum qerr rc = sq_stmt(s,
                               "UPDATE deliveries SET state = 'sending', owner = ?1, attempts = "
                               "attempts + 1, lease_until = ?3 WHERE id = (SELECT id FROM "
                               "deliveries WHERE state = 'pending' AND next_attempt_at <= ?2 "
                               "ORDER BY next_attempt_at, id LIMIT 1) RETURNING " DELIVERY_COLS,
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, owner, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, lease_until);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
                if (!delivery_fill(st, out)) {
                        delivery_rec_clear(out);
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                }
        } else if (step == SQLITE_DONE) {
                rc = QERR_NOT_FOUND;
        } else {
                rc = sq_err(DB(s), step, ei, "claiming a notification");
        }
        sq_done(s, st);
        return rc;
}

enum qerr sq_delivery_finish(struct store *s, int64_t id, const char *owner,
                             const struct delivery_try *t, const char *state,
                             qtime_t next_attempt_at, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        bool final = strcmp(state, "pending") != 0;
        enum qerr rc = sq_stmt(
            s,
            "UPDATE deliveries SET state = CASE WHEN ?1 = 'pending' AND webhook_id IN (SELECT id "
            "FROM webhooks WHERE deleted_at IS NOT NULL) THEN 'cancelled' ELSE ?1 END, "
            "next_attempt_at = ?2, last_status = ?3, last_error = ?4, owner = NULL, "
            "lease_until = NULL, finished_at = CASE WHEN ?5 OR (?1 = 'pending' AND webhook_id "
            "IN (SELECT id FROM webhooks WHERE deleted_at IS NOT NULL)) THEN ?6 ELSE NULL END "
            "WHERE id = ?7 AND state = 'sending' AND owner = ?8 AND attempts = ?9",
            &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, next_attempt_at);
        if (t->status)
                sqlite3_bind_int(st, 3, t->status);
        else
                sqlite3_bind_null(st, 3);
        sq_bind_text_or_null(st, 4, t->error[0] ? t->error : NULL);
        sqlite3_bind_int(st, 5, final);
        sqlite3_bind_int64(st, 6, t->at);
        sqlite3_bind_int64(st, 7, id);
        sqlite3_bind_text(st, 8, owner, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 9, t->attempt);
        rc = sq_run(s, st, ei, "recording a delivery");
        if (rc != QERR_OK)
                return rc;
        if (sqlite3_changes(DB(s)) != 1)
                return qerr_set(ei, QERR_NOT_FOUND,
                                "delivery %lld is no longer held by %s (its lease ended)",
                                (long long)id, owner);
        rc = sq_stmt(s,
                     "INSERT INTO delivery_attempts (delivery_id, attempt, at, status, error, "
                     "duration_ms) VALUES (?, ?, ?, ?, ?, ?)",
                     &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, t->attempt);
        sqlite3_bind_int64(st, 3, t->at);
        if (t->status)
                sqlite3_bind_int(st, 4, t->status);
        else
                sqlite3_bind_null(st, 4);
        sq_bind_text_or_null(st, 5, t->error[0] ? t->error : NULL);
        sqlite3_bind_int64(st, 6, t->duration_ms);
        return sq_run(s, st, ei, "recording a delivery attempt");
}

enum qerr sq_delivery_release(struct store *s, qtime_t now, const char *owner, int *n,
                              struct qerr_info *ei)
{
        sqlite3_stmt *st;
        *n = 0;
        enum qerr rc = sq_stmt(s,
                               owner ? "UPDATE deliveries SET state = 'pending', owner = NULL, "
                                       "lease_until = NULL WHERE state = 'sending' AND owner = ?2"
                                     : "UPDATE deliveries SET state = 'pending', owner = NULL, "
                                       "lease_until = NULL WHERE state = 'sending' AND "
                                       "lease_until < ?1",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        if (owner)
                sqlite3_bind_text(st, 2, owner, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_int64(st, 1, now);
        rc = sq_run(s, st, ei, "taking back notifications");
        if (rc == QERR_OK)
                *n = sqlite3_changes(DB(s));
        return rc;
}

enum qerr sq_delivery_owners(struct store *s, char ***owners, size_t *n, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT DISTINCT owner FROM deliveries WHERE state = 'sending' "
                               "AND owner IS NOT NULL",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        return sq_collect(s, st, sizeof **owners, string_fill, string_clear, (void **)owners, n,
                          "listing notification owners", ei);
}

static bool try_fill(sqlite3_stmt *st, void *slot)
{
        struct delivery_try *t = slot;
        t->attempt = sqlite3_column_int(st, 0);
        t->at = sqlite3_column_int64(st, 1);
        t->status = sqlite3_column_int(st, 2);
        sq_col_copy(st, 3, t->error, sizeof t->error);
        t->duration_ms = (long)sqlite3_column_int64(st, 4);
        return true;
}

static enum qerr load_tries(struct store *s, struct delivery_rec *d, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT attempt, at, status, error, duration_ms FROM "
                               "delivery_attempts WHERE delivery_id = ? ORDER BY attempt",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, d->id);
        return sq_collect(s, st, sizeof *d->tries, try_fill, NULL, (void **)&d->tries, &d->ntries,
                          "reading delivery attempts", ei);
}

enum qerr sq_delivery_page(struct store *s, const struct delivery_query *q,
                           struct delivery_rec **out, size_t *n, bool *more, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        *more = false;
        enum qerr rc = sq_stmt(s,
                               "SELECT " DELIVERY_COLS " FROM deliveries WHERE webhook_id = ?1 "
                               "AND (?2 = 0 OR tenant_id = ?2) AND (?3 = 0 OR id < ?3) ORDER BY "
                               "id DESC LIMIT ?4",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, q->webhook_id);
        sqlite3_bind_int64(st, 2, q->tenant);
        sqlite3_bind_int64(st, 3, q->before_id);
        sqlite3_bind_int64(st, 4, (int64_t)q->limit + 1);
        rc = sq_collect(s, st, sizeof **out, delivery_fill, delivery_clear, (void **)out, n,
                        "listing deliveries", ei);
        if (rc != QERR_OK)
                return rc;
        if (*n > q->limit) {
                *more = true;
                delivery_rec_clear(&(*out)[--*n]);
        }
        for (size_t i = 0; rc == QERR_OK && i < *n; i++)
                rc = load_tries(s, &(*out)[i], ei);
        if (rc != QERR_OK) {
                store_free_deliveries(*out, *n);
                *out = NULL;
                *n = 0;
        }
        return rc;
}

static enum qerr count_of(struct store *s, const char *sql, int64_t *out, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, sql, &st, ei);
        if (rc != QERR_OK)
                return rc;
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
                *out = sqlite3_column_int64(st, 0);
        else
                rc = sq_err(DB(s), step, ei, "counting notifications");
        sq_done(s, st);
        return rc;
}

enum qerr sq_delivery_counts(struct store *s, int64_t *pending, int64_t *sending,
                             struct qerr_info *ei)
{
        enum qerr rc =
            count_of(s, "SELECT count(*) FROM deliveries WHERE state = 'pending'", pending, ei);
        if (rc == QERR_OK)
                rc = count_of(s, "SELECT count(*) FROM deliveries WHERE state = 'sending'", sending,
                              ei);
        return rc;
}

/* ---- expiry warnings ---- */

enum qerr sq_expiry_mark(struct store *s, int days, qtime_t *not_after, int64_t *cert_id,
                         struct qerr_info *ei)
{
        sqlite3_stmt *st;
        *not_after = 0;
        *cert_id = 0;
        enum qerr rc =
            sq_stmt(s, "SELECT not_after, cert_id FROM expiry_scan WHERE days = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int(st, 1, days);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
                *not_after = sqlite3_column_int64(st, 0);
                *cert_id = sqlite3_column_int64(st, 1);
        } else if (step != SQLITE_DONE) {
                rc = sq_err(DB(s), step, ei, "reading the expiry scan");
        }
        sq_done(s, st);
        return rc;
}

enum qerr sq_expiry_mark_set(struct store *s, int days, qtime_t not_after, int64_t cert_id,
                             struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc =
            sq_stmt(s,
                    "INSERT INTO expiry_scan (days, not_after, cert_id) VALUES (?, ?, "
                    "?) ON CONFLICT (days) DO UPDATE SET not_after = excluded.not_after, "
                    "cert_id = excluded.cert_id",
                    &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int(st, 1, days);
        sqlite3_bind_int64(st, 2, not_after);
        sqlite3_bind_int64(st, 3, cert_id);
        return sq_run(s, st, ei, "recording the expiry scan");
}

static bool expiry_fill(sqlite3_stmt *st, void *slot)
{
        struct expiry_row *r = slot;
        r->cert_id = sqlite3_column_int64(st, 0);
        r->tenant_id = sqlite3_column_int64(st, 1);
        r->not_after = sqlite3_column_int64(st, 2);
        r->active = sqlite3_column_int(st, 3) != 0;
        return true;
}

enum qerr sq_expiry_candidates(struct store *s, qtime_t after_not_after, int64_t after_id,
                               qtime_t upto, size_t limit, struct expiry_row **out, size_t *n,
                               struct qerr_info *ei)
{
        sqlite3_stmt *st;
        /* a range of the not_after index, (not_after, id) after the mark */
        enum qerr rc = sq_stmt(s,
                               "SELECT id, tenant_id, not_after, status IN ('issued', "
                               "'reissuing') FROM certificates INDEXED BY certificates_not_after "
                               "WHERE not_after >= ?1 AND not_after <= ?3 AND (not_after > ?1 OR "
                               "id > ?2) ORDER BY not_after, id LIMIT ?4",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, after_not_after);
        sqlite3_bind_int64(st, 2, after_id);
        sqlite3_bind_int64(st, 3, upto);
        sqlite3_bind_int64(st, 4, (int64_t)limit);
        return sq_collect(s, st, sizeof **out, expiry_fill, NULL, (void **)out, n,
                          "scanning for expiring certificates", ei);
}

enum qerr sq_expiry_record(struct store *s, int64_t cert_id, int days, qtime_t at, bool *inserted,
                           struct qerr_info *ei)
{
        sqlite3_stmt *st;
        *inserted = false;
        enum qerr rc = sq_stmt(s,
                               "INSERT OR IGNORE INTO expiry_warnings (certificate_id, days, "
                               "sent_at) VALUES (?, ?, ?)",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, cert_id);
        sqlite3_bind_int(st, 2, days);
        sqlite3_bind_int64(st, 3, at);
        rc = sq_run(s, st, ei, "recording an expiry warning");
        if (rc == QERR_OK)
                *inserted = sqlite3_changes(DB(s)) == 1;
        return rc;
}
