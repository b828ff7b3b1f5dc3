/*
 * store_sqlite_keys.c - the SQLite side of migration 009: domain
 * validations kept for reuse, blocked keys, the certificates of one key
 * (certificates.spki_sha256) and the bits of pending revocations that a
 * key-compromise cascade must close. Same rules as store_sqlite.c: the
 * caller brackets writes in begin/commit, records returned are the
 * caller's, one thread per handle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"

#define DB(s) sq_db(s)

/* ---- validations ---- */

enum qerr sq_validation_insert(struct store *s, struct validation_rec *v, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO validations (tenant_id, name, method, validated_at, "
                               "order_id) VALUES (?,?,?,?,?)",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, v->tenant_id);
        sqlite3_bind_text(st, 2, v->name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, v->method, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, v->validated_at);
        sqlite3_bind_int64(st, 5, v->order_id);
        rc = sq_run(s, st, ei, "recording a validation");
        if (rc == QERR_OK)
                v->id = sqlite3_last_insert_rowid(DB(s));
        return rc;
}

enum qerr sq_validation_find(struct store *s, int64_t tenant, const char *name, const char *method,
                             qtime_t since, struct validation_rec *out, struct qerr_info *ei)
{
        /* the other spelling that the same DNS record proves: "*.x" <-> "x" */
        bool wildcard = name[0] == '*' && name[1] == '.';
        char other[QUILL_MAX_NAME_LEN + 3];
        if (wildcard)
                snprintf(other, sizeof other, "%s", name + 2);
        else
                snprintf(other, sizeof other, "*.%s", name);
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT id, tenant_id, name, method, validated_at, order_id FROM "
                               "validations WHERE tenant_id = ?1 AND validated_at >= ?4 AND "
                               "((name = ?2 AND (?5 = 0 OR method = 'dns')) OR "
                               "(name = ?3 AND method = 'dns')) AND (?6 IS NULL OR method = ?6) "
                               "ORDER BY validated_at DESC, id DESC LIMIT 1",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, tenant);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, other, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, since);
        sqlite3_bind_int(st, 5, wildcard);
        sq_bind_text_or_null(st, 6, method);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
                memset(out, 0, sizeof *out);
                out->id = sqlite3_column_int64(st, 0);
                out->tenant_id = sqlite3_column_int64(st, 1);
                sq_col_copy(st, 2, out->name, sizeof out->name);
                sq_col_copy(st, 3, out->method, sizeof out->method);
                out->validated_at = sqlite3_column_int64(st, 4);
                out->order_id = sqlite3_column_int64(st, 5);
        } else if (step == SQLITE_DONE) {
                rc = qerr_set(ei, QERR_NOT_FOUND, "no validation of %s to reuse", name);
        } else {
                rc = sq_err(DB(s), step, ei, "looking for a validation");
        }
        sq_done(s, st);
        return rc;
}

/* ---- blocked keys ---- */

#define BLOCKED_COLS                                                                               \
        "SELECT id, spki_sha256, blocked_at, source, revocation_id, tenant_id, blocked_by, "       \
        "reason "                                                                                  \
        "FROM blocked_keys "

static bool blocked_fill(sqlite3_stmt *st, void *slot)
{
        struct blocked_key_rec *k = slot;
        k->id = sqlite3_column_int64(st, 0);
        sq_col_copy(st, 1, k->spki_sha256, sizeof k->spki_sha256);
        k->blocked_at = sqlite3_column_int64(st, 2);
        sq_col_copy(st, 3, k->source, sizeof k->source);
        k->revocation_id = sqlite3_column_int64(st, 4);
        k->tenant_id = sqlite3_column_int64(st, 5);
        sq_col_copy(st, 6, k->blocked_by, sizeof k->blocked_by);
        sq_col_copy(st, 7, k->reason, sizeof k->reason);
        return true;
}

enum qerr sq_blocked_key_get(struct store *s, const char *spki, struct blocked_key_rec *out,
                             struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, BLOCKED_COLS "WHERE spki_sha256 = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, spki, -1, SQLITE_TRANSIENT);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
                memset(out, 0, sizeof *out);
                blocked_fill(st, out);
        } else if (step == SQLITE_DONE) {
                rc = qerr_set(ei, QERR_NOT_FOUND, "the key is not blocked");
        } else {
                rc = sq_err(DB(s), step, ei, "looking up a blocked key");
        }
        sq_done(s, st);
        return rc;
}

enum qerr sq_blocked_key_add(struct store *s, struct blocked_key_rec *k, bool *added,
                             struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO blocked_keys (spki_sha256, blocked_at, source, "
                               "revocation_id, tenant_id, blocked_by, reason) "
                               "VALUES (?,?,?,?,?,?,?) ON CONFLICT (spki_sha256) DO NOTHING",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, k->spki_sha256, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, k->blocked_at);
        sqlite3_bind_text(st, 3, k->source, -1, SQLITE_TRANSIENT);
        sq_bind_id_or_null(st, 4, k->revocation_id);
        sq_bind_id_or_null(st, 5, k->tenant_id);
        sqlite3_bind_text(st, 6, k->blocked_by, -1, SQLITE_TRANSIENT);
        sq_bind_text_or_null(st, 7, k->reason[0] ? k->reason : NULL);
        if ((rc = sq_run(s, st, ei, "blocking a key")) != QERR_OK)
                return rc;
        *added = sqlite3_changes(DB(s)) > 0;
        /* the row as stored: ours, or the one that blocked the key first */
        return sq_blocked_key_get(s, k->spki_sha256, k, ei);
}

enum qerr sq_blocked_key_page(struct store *s, int64_t before_id, size_t limit,
                              struct blocked_key_rec **out, size_t *n, bool *more,
                              struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc =
            sq_stmt(s, BLOCKED_COLS "WHERE (?1 = 0 OR id < ?1) ORDER BY id DESC LIMIT ?2", &st, ei);
        if (rc != QERR_OK)
                return rc;
        if (!limit)
                limit = 100;
        sqlite3_bind_int64(st, 1, before_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)limit + 1);
        rc = sq_collect(s, st, sizeof **out, blocked_fill, NULL, (void **)out, n,
                        "listing blocked keys", ei);
        *more = false;
        if (rc == QERR_OK && *n > limit) {
                *n = limit;
                *more = true;
        }
        return rc;
}

/* ---- the certificates of a key ---- */

static bool cert_fill(sqlite3_stmt *st, void *slot)
{
        return (*(struct cert_rec **)slot = sq_cert_from_row(st)) != NULL;
}

static void cert_clear(void *slot)
{
        cert_rec_free(*(struct cert_rec **)slot);
}

enum qerr sq_cert_by_spki(struct store *s, const char *spki, qtime_t now, struct cert_rec ***out,
                          size_t *n, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT " CERT_COLS CERT_FROM
                               "WHERE c.spki_sha256 = ? AND c.status NOT IN ('revoked', "
                               "'deleted') AND c.not_after >= ? ORDER BY c.id",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, spki, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, now);
        return sq_collect(s, st, sizeof **out, cert_fill, cert_clear, (void **)out, n,
                          "finding the certificates of a key", ei);
}

static bool id_fill(sqlite3_stmt *st, void *slot)
{
        *(int64_t *)slot = sqlite3_column_int64(st, 0);
        return true;
}

enum qerr sq_cert_spki_missing(struct store *s, size_t limit, int64_t **ids, size_t *n,
                               struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc =
            sq_stmt(s, "SELECT id FROM certificates WHERE spki_sha256 IS NULL ORDER BY id LIMIT ?",
                    &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
        return sq_collect(s, st, sizeof **ids, id_fill, NULL, (void **)ids, n,
                          "finding certificates without a key hash", ei);
}

enum qerr sq_cert_set_spki(struct store *s, int64_t id, const char *spki, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, "UPDATE certificates SET spki_sha256 = ? WHERE id = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, spki, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, id);
        return sq_run(s, st, ei, "recording a certificate's key hash");
}

/* ---- pending revocations a key compromise overtakes ---- */

enum qerr sq_revocation_pending_of(struct store *s, int64_t cert_id, int64_t *rev_id,
                                   int64_t *order_id, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT id, order_id FROM revocations WHERE certificate_id = ? AND "
                               "status = 'pending'",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, cert_id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
                *rev_id = sqlite3_column_int64(st, 0);
                *order_id = sqlite3_column_int64(st, 1);
        } else if (step == SQLITE_DONE) {
                rc = qerr_set(ei, QERR_NOT_FOUND, "certificate %lld has no pending revocation",
                              (long long)cert_id);
        } else {
                rc = sq_err(DB(s), step, ei, "reading a revocation");
        }
        sq_done(s, st);
        return rc;
}

enum qerr sq_review_close_revocation(struct store *s, int64_t rev_id, const char *status,
                                     const char *reviewer, const char *reason, qtime_t at,
                                     int64_t *review_id, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        *review_id = 0;
        enum qerr rc = sq_stmt(s,
                               "UPDATE reviews SET status = ?, reviewer = ?, reason = ?, "
                               "decided_at = ? WHERE revocation_id = ? AND status = 'pending' "
                               "RETURNING id",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, reviewer, -1, SQLITE_TRANSIENT);
        sq_bind_text_or_null(st, 3, reason);
        sqlite3_bind_int64(st, 4, at);
        sqlite3_bind_int64(st, 5, rev_id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
                *review_id = sqlite3_column_int64(st, 0);
                step = sqlite3_step(st);
        }
        if (step != SQLITE_DONE)
                rc = sq_err(DB(s), step, ei, "closing a review");
        sq_done(s, st);
        return rc;
}
