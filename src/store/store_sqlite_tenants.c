/*
 * store_sqlite_tenants.c - the SQLite side of tenants and API keys
 * (migration 005), and the owner lookup behind the audit of refused
 * cross-tenant requests. Same rules as store_sqlite.c: the caller brackets
 * writes in begin/commit, records returned are the caller's, one thread per
 * handle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"

#define DB(s) sq_db(s)

enum qerr sq_tenant_insert(struct store *s, struct tenant_rec *t, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, "INSERT INTO tenants (name, created_at) VALUES (?, ?)", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, t->name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, t->created_at);
        int step = sqlite3_step(st);
        sq_done(s, st);
        if (sq_unique_violation(step))
                return qerr_set(ei, QERR_TENANT_EXISTS, "a tenant named '%s' already exists",
                                t->name);
        if (step != SQLITE_DONE)
                return sq_err(DB(s), step, ei, "storing a tenant");
        t->id = sqlite3_last_insert_rowid(DB(s));
        return QERR_OK;
}

static bool tenant_fill(sqlite3_stmt *st, void *slot)
{
        struct tenant_rec *t = slot;
        t->id = sqlite3_column_int64(st, 0);
        sq_col_copy(st, 1, t->name, sizeof t->name);
        t->created_at = sqlite3_column_int64(st, 2);
        return true;
}

enum qerr sq_tenant_list(struct store *s, struct tenant_rec **out, size_t *n, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, "SELECT id, name, created_at FROM tenants ORDER BY id", &st, ei);
        if (rc != QERR_OK)
                return rc;
        return sq_collect(s, st, sizeof **out, tenant_fill, NULL, (void **)out, n,
                          "listing tenants", ei);
}

enum qerr sq_tenant_find(struct store *s, const char *name, int64_t id, struct tenant_rec *out,
                         struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT id, name, created_at FROM tenants WHERE "
                               "CASE WHEN ?1 IS NULL THEN id = ?2 ELSE name = ?1 END",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sq_bind_text_or_null(st, 1, name);
        sqlite3_bind_int64(st, 2, id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
                tenant_fill(st, out);
        else if (step == SQLITE_DONE)
                rc = name ? qerr_set(ei, QERR_TENANT_UNKNOWN,
                                     "no tenant named '%.64s'; see 'quill tenant list'", name)
                          : qerr_set(ei, QERR_TENANT_UNKNOWN, "no tenant with id %lld",
                                     (long long)id);
        else
                rc = sq_err(DB(s), step, ei, "reading a tenant");
        sq_done(s, st);
        return rc;
}

enum qerr sq_apikey_insert(struct store *s, struct apikey_rec *k, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO api_keys (tenant_id, role, label, secret_hash, "
                               "created_at, created_by) VALUES (?,?,?,?,?,?)",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, k->tenant_id);
        sqlite3_bind_text(st, 2, role_name(k->role), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, k->label, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 4, k->secret_hash, sizeof k->secret_hash, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, k->created_at);
        sqlite3_bind_text(st, 6, k->created_by, -1, SQLITE_TRANSIENT);
        rc = sq_run(s, st, ei, "storing an API key");
        if (rc == QERR_OK)
                k->id = sqlite3_last_insert_rowid(DB(s));
        return rc;
}

#define KEY_COLS                                                                                   \
        "k.id, k.tenant_id, t.name, k.role, k.label, k.secret_hash, k.created_at, k.created_by, "  \
        "k.revoked_at FROM api_keys k JOIN tenants t ON t.id = k.tenant_id "

static bool key_fill(sqlite3_stmt *st, void *slot)
{
        struct apikey_rec *k = slot;
        char role[16];
        k->id = sqlite3_column_int64(st, 0);
        k->tenant_id = sqlite3_column_int64(st, 1);
        sq_col_copy(st, 2, k->tenant, sizeof k->tenant);
        sq_col_copy(st, 3, role, sizeof role);
        sq_col_copy(st, 4, k->label, sizeof k->label);
        if (sqlite3_column_bytes(st, 5) != (int)sizeof k->secret_hash)
                return false;
        memcpy(k->secret_hash, sqlite3_column_blob(st, 5), sizeof k->secret_hash);
        k->created_at = sqlite3_column_int64(st, 6);
        sq_col_copy(st, 7, k->created_by, sizeof k->created_by);
        k->revoked_at = sqlite3_column_int64(st, 8);
        return role_from_name(role, &k->role);
}

enum qerr sq_apikey_get(struct store *s, int64_t id, struct apikey_rec *out, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, "SELECT " KEY_COLS "WHERE k.id = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, id);
        int step = sqlite3_step(st);
        memset(out, 0, sizeof *out);
        if (step == SQLITE_ROW)
                rc = key_fill(st, out)
                         ? QERR_OK
                         : qerr_set(ei, QERR_STORE, "API key %lld is unreadable", (long long)id);
        else if (step == SQLITE_DONE)
                rc = qerr_set(ei, QERR_NOT_FOUND, "no API key with id %lld", (long long)id);
        else
                rc = sq_err(DB(s), step, ei, "reading an API key");
        sq_done(s, st);
        return rc;
}

enum qerr sq_apikey_list(struct store *s, int64_t tenant, struct apikey_rec **out, size_t *n,
                         struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(
            s, "SELECT " KEY_COLS "WHERE ?1 = 0 OR k.tenant_id = ?1 ORDER BY k.id", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, tenant);
        return sq_collect(s, st, sizeof **out, key_fill, NULL, (void **)out, n, "listing API keys",
                          ei);
}

enum qerr sq_apikey_revoke(struct store *s, int64_t id, qtime_t at, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(
            s, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, at);
        sqlite3_bind_int64(st, 2, id);
        rc = sq_run(s, st, ei, "revoking an API key");
        if (rc == QERR_OK && sqlite3_changes(DB(s)) != 1)
                rc = qerr_set(ei, QERR_NOT_FOUND, "no valid API key with id %lld", (long long)id);
        return rc;
}

enum qerr sq_object_tenant(struct store *s, const char *type, int64_t id, int64_t *tenant_id,
                           struct qerr_info *ei)
{
        static const struct {
                const char *type, *sql;
        } map[] = {
            {"certificate", "SELECT tenant_id FROM certificates WHERE id = ?"},
            {"order", "SELECT tenant_id FROM orders WHERE id = ?"},
            {"review", "SELECT tenant_id FROM reviews WHERE id = ?"},
            {"webhook", "SELECT tenant_id FROM webhooks WHERE id = ? AND deleted_at IS NULL"},
        };
        const char *sql = NULL;
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
                if (strcmp(map[i].type, type) == 0)
                        sql = map[i].sql;
        if (!sql)
                return qerr_set(ei, QERR_NOT_FOUND, NULL);
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, sql, &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
                *tenant_id = sqlite3_column_int64(st, 0);
        else if (step == SQLITE_DONE)
                rc = qerr_set(ei, QERR_NOT_FOUND, NULL);
        else
                rc = sq_err(DB(s), step, ei, "looking up an owner");
        sq_done(s, st);
        return rc;
}
