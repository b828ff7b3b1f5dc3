/*
 * store_sqlite.c - the SQLite backend of store.h.
 *
 * One database file, <data>/quill.db, in WAL mode with foreign keys on and
 * synchronous=FULL (a committed certificate survives a power cut). Migrations
 * run inside one BEGIN IMMEDIATE transaction, so concurrent first starts do
 * not race. The handle is not shared between threads.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <jansson.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "migrations.h"
#include "store_sqlite_int.h"

#define DB(s) sq_db(s)

sqlite3 *sq_db(struct store *s)
{
        return ((struct sqlite_store *)s)->db;
}

/* Only a UNIQUE violation means "that already exists"; a foreign key or
 * check failure is a caller bug and stays a store error. */
bool sq_unique_violation(int rc)
{
        return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY;
}

enum qerr sq_err(sqlite3 *db, int rc, struct qerr_info *ei, const char *what)
{
        int base = rc & 0xff;
        /* the OS error behind an I/O error tells a full disk (or a file-size
         * limit) from a broken one, whichever file SQLite was growing */
        int sys = db ? sqlite3_system_errno(db) : 0;
        bool full = sys == ENOSPC || sys == EFBIG || sys == EDQUOT;
        if (base == SQLITE_FULL || (base == SQLITE_IOERR &&
                                    (full || rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR_FSYNC ||
                                     rc == SQLITE_IOERR_TRUNCATE || rc == SQLITE_IOERR_SHMSIZE)))
                return qerr_set(ei, QERR_DISK_FULL,
                                "the database could not grow while %s (%s); "
                                "free disk space and try again. Nothing was "
                                "changed.",
                                what, sqlite3_errstr(rc));
        if (base == SQLITE_BUSY || base == SQLITE_LOCKED)
                return qerr_set(ei, QERR_BUSY, NULL);
        if (base == SQLITE_CONSTRAINT)
                return qerr_set(ei, QERR_STORE, "constraint failed while %s: %s", what,
                                sqlite3_errmsg(db));
        return qerr_set(ei, QERR_STORE, "database error while %s: %s", what,
                        db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

enum qerr sq_exec(sqlite3 *db, const char *sql, struct qerr_info *ei, const char *what)
{
        int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? QERR_OK : sq_err(db, rc, ei, what);
}

enum qerr sq_prep(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct qerr_info *ei)
{
        int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
        return rc == SQLITE_OK ? QERR_OK : sq_err(db, rc, ei, "preparing a query");
}

static uint64_t sql_hash(const char *sql)
{
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */
        for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
                h = (h ^ *p) * 1099511628211ULL;
        return h;
}

enum qerr sq_stmt(struct store *s, const char *sql, sqlite3_stmt **out, struct qerr_info *ei)
{
        struct sqlite_store *ss = (struct sqlite_store *)s;
        uint64_t h = sql_hash(sql);
        for (size_t i = 0; i < ss->ncached; i++) {
                struct sq_cached *c = &ss->cache[i];
                if (c->hash == h && !c->busy && strcmp(sqlite3_sql(c->st), sql) == 0) {
                        c->busy = true;
                        *out = c->st;
                        return QERR_OK;
                }
        }
        unsigned flags = ss->ncached < SQ_CACHE_SLOTS ? SQLITE_PREPARE_PERSISTENT : 0;
        int rc = sqlite3_prepare_v3(ss->db, sql, -1, flags, out, NULL);
        if (rc != SQLITE_OK)
                return sq_err(ss->db, rc, ei, "preparing a query");
        if (flags)
                ss->cache[ss->ncached++] = (struct sq_cached){.hash = h, .st = *out, .busy = true};
        return QERR_OK;
}

void sq_done(struct store *s, sqlite3_stmt *st)
{
        struct sqlite_store *ss = (struct sqlite_store *)s;
        for (size_t i = 0; i < ss->ncached; i++) {
                if (ss->cache[i].st == st) {
                        sqlite3_reset(st);
                        sqlite3_clear_bindings(st);
                        ss->cache[i].busy = false;
                        return;
                }
        }
        sqlite3_finalize(st);
}

/* A statement still in use at close was not given back on some path: a
 * bug that would have held a read snapshot open. Sanitizer builds (the
 * unit tests) stop on it. */
static void cache_clear(struct sqlite_store *ss)
{
        for (size_t i = 0; i < ss->ncached; i++) {
                if (ss->cache[i].busy) {
                        qlog_error("a store statement was not given back", "sql=%.60s",
                                   sqlite3_sql(ss->cache[i].st));
#ifdef __SANITIZE_ADDRESS__
                        abort();
#endif
                }
                sqlite3_finalize(ss->cache[i].st);
        }
        ss->ncached = 0;
}

/* ---- transactions ---- */

static enum qerr s_begin(struct store *s, struct qerr_info *ei)
{
        struct sqlite_store *ss = (struct sqlite_store *)s;
        enum qerr rc = sq_exec(ss->db, "BEGIN IMMEDIATE", ei, "starting a transaction");
        if (rc == QERR_OK)
                ss->in_tx = true;
        return rc;
}

static enum qerr s_commit(struct store *s, struct qerr_info *ei)
{
        struct sqlite_store *ss = (struct sqlite_store *)s;
        enum qerr rc = sq_exec(ss->db, "COMMIT", ei, "committing");
        if (rc != QERR_OK) {
                sqlite3_exec(ss->db, "ROLLBACK", NULL, NULL, NULL);
        }
        ss->in_tx = false;
        return rc;
}

static void s_rollback(struct store *s)
{
        struct sqlite_store *ss = (struct sqlite_store *)s;
        if (ss->in_tx)
                sqlite3_exec(ss->db, "ROLLBACK", NULL, NULL, NULL);
        ss->in_tx = false;
}

static void s_close(struct store *s)
{
        if (!s)
                return;
        struct sqlite_store *ss = (struct sqlite_store *)s;
        s_rollback(s);
        cache_clear(ss);
        sqlite3_close(ss->db);
        free(ss);
}

/* ---- helpers ---- */

char *sq_col_dup(sqlite3_stmt *st, int i)
{
        const unsigned char *t = sqlite3_column_text(st, i);
        return t ? strdup((const char *)t) : NULL;
}

void sq_col_copy(sqlite3_stmt *st, int i, char *out, size_t outsz)
{
        const unsigned char *t = sqlite3_column_text(st, i);
        snprintf(out, outsz, "%s", t ? (const char *)t : "");
}

void sq_bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
        if (v)
                sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, i);
}

void sq_bind_id_or_null(sqlite3_stmt *st, int i, int64_t v)
{
        if (v)
                sqlite3_bind_int64(st, i, v);
        else
                sqlite3_bind_null(st, i);
}

/* Runs a statement that returns no rows; finalizes it. */
enum qerr sq_run(struct store *s, sqlite3_stmt *st, struct qerr_info *ei, const char *what)
{
        int rc = sqlite3_step(st);
        /* the error text before the reset clears it */
        enum qerr r = rc == SQLITE_DONE ? QERR_OK : sq_err(DB(s), rc, ei, what);
        sq_done(s, st);
        return r;
}

/* Steps a statement once in migrations (sq_prep), then finalizes it. */
static enum qerr run_once(sqlite3 *db, sqlite3_stmt *st, struct qerr_info *ei, const char *what)
{
        int rc = sqlite3_step(st);
        enum qerr r = rc == SQLITE_DONE ? QERR_OK : sq_err(db, rc, ei, what);
        sqlite3_finalize(st);
        return r;
}

enum qerr sq_collect(struct store *s, sqlite3_stmt *st, size_t elem,
                     bool (*fill)(sqlite3_stmt *st, void *slot), void (*clear)(void *slot),
                     void **out, size_t *n, const char *what, struct qerr_info *ei)
{
        char *v = NULL;
        size_t count = 0;
        enum qerr rc = QERR_OK;
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
                char *nv = realloc(v, (count + 1) * elem);
                if (!nv) {
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                        break;
                }
                v = nv;
                memset(v + count * elem, 0, elem);
                if (!fill(st, v + count * elem)) {
                        if (clear)
                                clear(v + count * elem);
                        rc = qerr_set(ei, QERR_STORE, "a row is unreadable while %s", what);
                        break;
                }
                count++;
        }
        if (rc == QERR_OK && step != SQLITE_DONE)
                rc = sq_err(DB(s), step, ei, what);
        sq_done(s, st);
        if (rc != QERR_OK) {
                for (size_t i = 0; clear && i < count; i++)
                        clear(v + i * elem);
                free(v);
                v = NULL;
                count = 0;
        }
        *out = v;
        *n = count;
        return rc;
}

/* ---- migrations ---- */

static enum qerr migrate_locked(sqlite3 *db, struct qerr_info *ei);

/* Any row that breaks a foreign key (after a migration rebuilt a table). */
static enum qerr foreign_keys_hold(sqlite3 *db, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_prep(db, "PRAGMA foreign_key_check", &st, ei);
        if (rc != QERR_OK)
                return rc;
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
                rc = qerr_set(ei, QERR_STORE,
                              "a migration would leave table %s with a dangling reference; "
                              "nothing was changed",
                              sqlite3_column_text(st, 0));
        else if (step != SQLITE_DONE)
                rc = sq_err(db, step, ei, "checking foreign keys");
        sqlite3_finalize(st);
        return rc;
}

/* Is every migration recorded already? Read without the write lock, so
 * that opening an up-to-date database never waits for another process.
 * Any doubt (no table yet, a read error) answers "no": the locked path
 * decides. */
static bool all_applied(sqlite3 *db)
{
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "SELECT version FROM schema_migrations", -1, &st, NULL) !=
            SQLITE_OK)
                return false;
        unsigned found = 0;
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
                int v = sqlite3_column_int(st, 0);
                for (unsigned i = 0; i < quill_migration_count; i++)
                        if (quill_migrations[i].version == v)
                                found++;
        }
        sqlite3_finalize(st);
        return step == SQLITE_DONE && found == quill_migration_count;
}

/* The migrations in one transaction. Foreign keys are switched off while
 * they run, as SQLite's schema-change procedure requires for rebuilding a
 * table, and checked as a whole before the commit - only when a migration
 * actually ran: the check reads every table, which takes seconds on a
 * large database. */
static enum qerr migrate(sqlite3 *db, struct qerr_info *ei)
{
        if (all_applied(db))
                return QERR_OK;
        enum qerr rc = sq_exec(db, "PRAGMA foreign_keys = OFF", ei, "configuring");
        if (rc == QERR_OK)
                rc = migrate_locked(db, ei);
        enum qerr on = sq_exec(db, "PRAGMA foreign_keys = ON", ei, "configuring");
        return rc != QERR_OK ? rc : on;
}

static enum qerr migrate_locked(sqlite3 *db, struct qerr_info *ei)
{
        enum qerr rc = sq_exec(db, "BEGIN IMMEDIATE", ei, "locking for migrations");
        if (rc != QERR_OK)
                return rc;
        rc = sq_exec(db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                     "name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                     ei, "creating the migrations table");
        unsigned applied = 0;
        for (unsigned i = 0; rc == QERR_OK && i < quill_migration_count; i++) {
                const struct migration *m = &quill_migrations[i];
                sqlite3_stmt *st;
                if ((rc = sq_prep(db, "SELECT 1 FROM schema_migrations WHERE version = ?", &st,
                                  ei)) != QERR_OK)
                        break;
                sqlite3_bind_int(st, 1, m->version);
                int step = sqlite3_step(st);
                sqlite3_finalize(st);
                if (step == SQLITE_ROW)
                        continue;
                if (step != SQLITE_DONE) {
                        rc = sq_err(db, step, ei, "reading migrations");
                        break;
                }
                if ((rc = sq_exec(db, m->sql, ei, m->name)) != QERR_OK)
                        break;
                if ((rc = sq_prep(db,
                                  "INSERT INTO schema_migrations (version, name, applied_at) "
                                  "VALUES (?, ?, strftime('%s','now'))",
                                  &st, ei)) != QERR_OK)
                        break;
                sqlite3_bind_int(st, 1, m->version);
                sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
                rc = run_once(db, st, ei, "recording a migration");
                if (rc == QERR_OK) {
                        applied++;
                        qlog_info("migration applied", "version=%d name=%s", m->version, m->name);
                }
        }
        if (rc == QERR_OK && applied)
                rc = foreign_keys_hold(db, ei);
        if (rc == QERR_OK)
                rc = sq_exec(db, "COMMIT", ei, "committing migrations");
        if (rc != QERR_OK)
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
}

/* ---- CAs ---- */

#define CA_COLS                                                                                    \
        "id, parent_id, is_root, key_algorithm, subject, cert_pem, key_file, not_before, "         \
        "not_after, crl_number, crl_shards"

static struct ca_rec *ca_from_row(sqlite3_stmt *st)
{
        struct ca_rec *c = calloc(1, sizeof *c);
        if (!c)
                return NULL;
        c->id = sqlite3_column_int64(st, 0);
        c->parent_id = sqlite3_column_int64(st, 1);
        c->is_root = sqlite3_column_int(st, 2) != 0;
        sq_col_copy(st, 3, c->key_algorithm, sizeof c->key_algorithm);
        c->subject = sq_col_dup(st, 4);
        c->cert_pem = sq_col_dup(st, 5);
        c->key_file = sq_col_dup(st, 6);
        c->not_before = sqlite3_column_int64(st, 7);
        c->not_after = sqlite3_column_int64(st, 8);
        c->crl_number = sqlite3_column_int64(st, 9);
        c->crl_shards = sqlite3_column_int(st, 10);
        if (!c->subject || !c->cert_pem || !c->key_file) {
                ca_rec_free(c);
                return NULL;
        }
        return c;
}

static enum qerr s_ca_insert(struct store *s, struct ca_rec *ca, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO cas (parent_id, is_root, key_algorithm, subject, "
                               "cert_pem, key_file, not_before, not_after, crl_number, created_at, "
                               "crl_shards) VALUES (?,?,?,?,?,?,?,?,0,strftime('%s','now'),?)",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sq_bind_id_or_null(st, 1, ca->parent_id);
        sqlite3_bind_int(st, 2, ca->is_root);
        sqlite3_bind_text(st, 3, ca->key_algorithm, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, ca->subject, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, ca->cert_pem, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, ca->key_file, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 7, ca->not_before);
        sqlite3_bind_int64(st, 8, ca->not_after);
        sqlite3_bind_int(st, 9, ca->crl_shards);
        int step = sqlite3_step(st);
        sq_done(s, st);
        if (sq_unique_violation(step))
                return qerr_set(ei, QERR_CA_EXISTS, "a %s CA with key type %s already exists",
                                ca->is_root ? "root" : "issuing", ca->key_algorithm);
        if (step != SQLITE_DONE)
                return sq_err(DB(s), step, ei, "storing a CA");
        ca->id = sqlite3_last_insert_rowid(DB(s));
        return QERR_OK;
}

static bool ca_fill(sqlite3_stmt *st, void *slot)
{
        return (*(struct ca_rec **)slot = ca_from_row(st)) != NULL;
}

static void ca_clear(void *slot)
{
        ca_rec_free(*(struct ca_rec **)slot);
}

static enum qerr s_ca_list(struct store *s, struct ca_rec ***out, size_t *n, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, "SELECT " CA_COLS " FROM cas ORDER BY id", &st, ei);
        if (rc != QERR_OK)
                return rc;
        return sq_collect(s, st, sizeof **out, ca_fill, ca_clear, (void **)out, n, "listing CAs",
                          ei);
}

static enum qerr s_ca_get(struct store *s, int64_t id, struct ca_rec **out, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, "SELECT " CA_COLS " FROM cas WHERE id = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
                *out = ca_from_row(st);
                rc = *out ? QERR_OK : qerr_set(ei, QERR_NOMEM, NULL);
        } else if (step == SQLITE_DONE) {
                rc = qerr_set(ei, QERR_NOT_FOUND, "no CA with id %lld", (long long)id);
        } else {
                rc = sq_err(DB(s), step, ei, "reading a CA");
        }
        sq_done(s, st);
        return rc;
}

static enum qerr s_ca_next_crl_number(struct store *s, int64_t ca_id, int64_t *out,
                                      struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "UPDATE cas SET crl_number = crl_number + 1 WHERE id = ? "
                               "RETURNING crl_number",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, ca_id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
                *out = sqlite3_column_int64(st, 0);
        else
                rc = step == SQLITE_DONE
                         ? qerr_set(ei, QERR_NOT_FOUND, "no CA %lld", (long long)ca_id)
                         : sq_err(DB(s), step, ei, "numbering a CRL");
        sq_done(s, st);
        return rc;
}

/* ---- certificates ---- */

/* CERT_COLS and CERT_FROM: store_sqlite_int.h */

static bool names_from_json(const char *txt, struct cert_rec *c)
{
        json_error_t jerr;
        json_t *a = json_loads(txt ? txt : "[]", 0, &jerr);
        if (!json_is_array(a)) {
                json_decref(a);
                return false;
        }
        size_t n = json_array_size(a);
        c->names = calloc(n ? n : 1, sizeof *c->names);
        bool ok = c->names != NULL;
        for (size_t i = 0; ok && i < n; i++) {
                const char *v = json_string_value(json_array_get(a, i));
                ok = v && (c->names[i] = strdup(v));
                if (ok)
                        c->nnames++;
        }
        json_decref(a);
        return ok;
}

static char *names_to_json(char *const *names, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_string(names[i]));
        char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
        json_decref(a);
        return s;
}

struct cert_rec *sq_cert_from_row(sqlite3_stmt *st)
{
        struct cert_rec *c = calloc(1, sizeof *c);
        if (!c)
                return NULL;
        char tmp[32];
        c->id = sqlite3_column_int64(st, 0);
        c->ca_id = sqlite3_column_int64(st, 1);
        c->parent_id = sqlite3_column_int64(st, 2);
        sq_col_copy(st, 3, c->serial, sizeof c->serial);
        bool ok = names_from_json((const char *)sqlite3_column_text(st, 4), c);
        c->not_before = sqlite3_column_int64(st, 5);
        c->not_after = sqlite3_column_int64(st, 6);
        sq_col_copy(st, 7, c->key_algorithm, sizeof c->key_algorithm);
        sq_col_copy(st, 8, tmp, sizeof tmp);
        ok = ok && cert_profile_from_name(tmp, &c->profile);
        sq_col_copy(st, 9, tmp, sizeof tmp);
        c->origin = strcmp(tmp, "uploaded") == 0 ? ORIGIN_UPLOADED : ORIGIN_ISSUED;
        sq_col_copy(st, 10, tmp, sizeof tmp);
        ok = ok && cert_status_from_name(tmp, &c->status);
        c->free_cert = sqlite3_column_int(st, 11) != 0;
        c->issuer = sq_col_dup(st, 12);
        c->cert_pem = sq_col_dup(st, 13);
        c->chain_pem = sq_col_dup(st, 14);
        c->csr_pem = sq_col_dup(st, 15);
        int bl = sqlite3_column_bytes(st, 16);
        if (bl > 0) {
                c->key_blob = malloc((size_t)bl);
                if (c->key_blob) {
                        memcpy(c->key_blob, sqlite3_column_blob(st, 16), (size_t)bl);
                        c->key_blob_len = (size_t)bl;
                } else
                        ok = false;
        }
        sq_col_copy(st, 17, tmp, sizeof tmp);
        c->key_protection = strcmp(tmp, "data_key") == 0   ? KEYPROT_DATA_KEY
                            : strcmp(tmp, "password") == 0 ? KEYPROT_PASSWORD
                                                           : KEYPROT_NONE;
        c->revoked_at = sqlite3_column_int64(st, 18);
        c->revoke_reason =
            sqlite3_column_type(st, 19) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 19);
        c->created_at = sqlite3_column_int64(st, 20);
        c->tenant_id = sqlite3_column_int64(st, 21);
        sq_col_copy(st, 22, c->tenant, sizeof c->tenant);
        sq_col_copy(st, 23, c->spki_sha256, sizeof c->spki_sha256);
        c->crl_shard = sqlite3_column_type(st, 24) == SQLITE_NULL ? CRL_SHARD_NONE
                                                                  : sqlite3_column_int(st, 24);
        if (!ok || !c->issuer || !c->cert_pem || !c->chain_pem) {
                cert_rec_free(c);
                return NULL;
        }
        return c;
}

static const char *keyprot_name(enum key_protection k)
{
        return k == KEYPROT_DATA_KEY ? "data_key" : k == KEYPROT_PASSWORD ? "password" : "none";
}

static enum qerr s_cert_serial_exists(struct store *s, const char *serial, bool *out,
                                      struct qerr_info *ei);

static enum qerr s_cert_insert(struct store *s, struct cert_rec *c, struct qerr_info *ei)
{
        char *names = names_to_json(c->names, c->nnames);
        if (!names)
                return qerr_set(ei, QERR_NOMEM, NULL);
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO certificates (ca_id, parent_id, serial, names, "
                               "not_before, not_after, key_algorithm, profile, origin, status, "
                               "free_cert, issuer, cert_pem, chain_pem, csr_pem, key_blob, "
                               "key_protection, created_at, tenant_id, spki_sha256, crl_shard) "
                               "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                               &st, ei);
        if (rc != QERR_OK) {
                free(names);
                return rc;
        }
        sq_bind_id_or_null(st, 1, c->ca_id);
        sq_bind_id_or_null(st, 2, c->parent_id);
        sqlite3_bind_text(st, 3, c->serial, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, names, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, c->not_before);
        sqlite3_bind_int64(st, 6, c->not_after);
        sqlite3_bind_text(st, 7, c->key_algorithm, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 8, cert_profile_name(c->profile), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, cert_origin_name(c->origin), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, cert_status_name(c->status), -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 11, c->free_cert);
        sqlite3_bind_text(st, 12, c->issuer ? c->issuer : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 13, c->cert_pem, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 14, c->chain_pem ? c->chain_pem : "", -1, SQLITE_TRANSIENT);
        sq_bind_text_or_null(st, 15, c->csr_pem);
        if (c->key_blob)
                sqlite3_bind_blob(st, 16, c->key_blob, (int)c->key_blob_len, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, 16);
        sqlite3_bind_text(st, 17, keyprot_name(c->key_protection), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 18, c->created_at);
        sqlite3_bind_int64(st, 19, c->tenant_id ? c->tenant_id : 1);
        /* unknown ("") stays NULL: the service fills it (svc_keys.c) */
        sq_bind_text_or_null(st, 20, c->spki_sha256[0] ? c->spki_sha256 : NULL);
        if (c->ca_id && c->crl_shard >= 0)
                sqlite3_bind_int(st, 21, c->crl_shard);
        else
                sqlite3_bind_null(st, 21);
        int step = sqlite3_step(st);
        sq_done(s, st);
        free(names);
        if (sq_unique_violation(step) && c->origin == ORIGIN_UPLOADED)
                return qerr_set(ei, QERR_UPLOAD_DUPLICATE, NULL);
        if (step != SQLITE_DONE) {
                enum qerr why = sq_err(DB(s), step, ei, "storing a certificate");
                bool stored = false;
                struct qerr_info e2;
                /* two-phase issuance: stored meanwhile by another process's
                 * reconciliation (this one stalled past its lease)? */
                if (c->origin == ORIGIN_ISSUED && (step & 0xff) == SQLITE_CONSTRAINT &&
                    s_cert_serial_exists(s, c->serial, &stored, &e2) == QERR_OK && stored)
                        return qerr_set(ei, QERR_CERT_RECOVERED,
                                        "the certificate with serial %s was stored already "
                                        "(recovered from the signer's journal by another "
                                        "process)",
                                        c->serial);
                return why;
        }
        c->id = sqlite3_last_insert_rowid(DB(s));
        if (!c->tenant_id)
                c->tenant_id = 1;
        /* one row per name, for searches by name */
        if ((rc = sq_stmt(s,
                          "INSERT OR IGNORE INTO certificate_names (certificate_id, tenant_id, "
                          "name) VALUES (?,?,?)",
                          &st, ei)) != QERR_OK)
                return rc;
        for (size_t i = 0; rc == QERR_OK && i < c->nnames; i++) {
                sqlite3_reset(st);
                sqlite3_bind_int64(st, 1, c->id);
                sqlite3_bind_int64(st, 2, c->tenant_id);
                sqlite3_bind_text(st, 3, c->names[i], -1, SQLITE_TRANSIENT);
                step = sqlite3_step(st);
                if (step != SQLITE_DONE)
                        rc = sq_err(DB(s), step, ei, "storing a certificate's names");
        }
        sq_done(s, st);
        return rc;
}

static enum qerr s_cert_get(struct store *s, int64_t tenant, int64_t id, struct cert_rec **out,
                            struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(
            s, "SELECT " CERT_COLS CERT_FROM "WHERE c.id = ?1 AND (?2 = 0 OR c.tenant_id = ?2)",
            &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, tenant);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
                *out = sq_cert_from_row(st);
                rc = *out ? QERR_OK
                          : qerr_set(ei, QERR_STORE, "certificate %lld is unreadable",
                                     (long long)id);
        } else if (step == SQLITE_DONE) {
                rc = qerr_set(ei, QERR_NOT_FOUND, "no certificate with id %lld", (long long)id);
        } else {
                rc = sq_err(DB(s), step, ei, "reading a certificate");
        }
        sq_done(s, st);
        return rc;
}

static bool cert_fill(sqlite3_stmt *st, void *slot)
{
        return (*(struct cert_rec **)slot = sq_cert_from_row(st)) != NULL;
}

static void cert_clear(void *slot)
{
        cert_rec_free(*(struct cert_rec **)slot);
}

/* A page of certificates: only the filters asked for are in the WHERE
 * clause, so each uses its index (tenant + id, tenant + status + id, the
 * names table). */
static enum qerr s_cert_page(struct store *s, const struct cert_query *q, struct cert_rec ***out,
                             size_t *n, bool *more, struct qerr_info *ei)
{
        bool expired = q->status && strcmp(q->status, "expired") == 0;
        bool issued = q->status && strcmp(q->status, "issued") == 0;
        struct sq_where w;
        sqw_init(&w, "SELECT " CERT_COLS CERT_FROM);
        if (q->name) {
                sqw_append(&w, "JOIN certificate_names cn ON cn.certificate_id = c.id");
                sqw_text(&w, "cn.name = ?", q->name);
                if (q->tenant)
                        sqw_int(&w, "cn.tenant_id = ?", q->tenant);
        }
        if (q->tenant)
                sqw_int(&w, "c.tenant_id = ?", q->tenant);
        if (q->before_id)
                sqw_int(&w, "c.id < ?", q->before_id);
        if (expired) {
                sqw_raw(&w, "c.status IN ('issued', 'reissuing')");
                sqw_int(&w, "c.not_after < ?", q->now);
        } else if (q->status) {
                sqw_text(&w, "c.status = ?", q->status);
        } else {
                sqw_raw(&w, "c.status <> 'deleted'");
        }
        if (issued)
                sqw_int(&w, "c.not_after >= ?", q->now);
        if (q->expires_before)
                sqw_int(&w, "c.not_after < ?", q->expires_before);
        if (q->origin >= 0)
                sqw_text(&w, "c.origin = ?", q->origin == ORIGIN_ISSUED ? "issued" : "uploaded");
        size_t limit = q->limit ? q->limit : 100;
        sqw_tail_int(&w, " ORDER BY c.id DESC LIMIT ?", (int64_t)limit + 1);
        sqlite3_stmt *st;
        enum qerr rc = sqw_prepare(s, &w, &st, ei);
        if (rc != QERR_OK)
                return rc;
        rc = sq_collect(s, st, sizeof **out, cert_fill, cert_clear, (void **)out, n,
                        "listing certificates", ei);
        *more = false;
        if (rc == QERR_OK && *n > limit) {
                cert_rec_free((*out)[limit]);
                *n = limit;
                *more = true;
        }
        return rc;
}

static enum qerr s_cert_update(struct store *s, const struct cert_rec *c, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "UPDATE certificates SET status = ?, revoked_at = ?, "
                               "revoke_reason = ?, key_blob = ?, key_protection = ? WHERE id = ?",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, cert_status_name(c->status), -1, SQLITE_STATIC);
        sq_bind_id_or_null(st, 2, c->revoked_at);
        if (c->revoke_reason >= 0)
                sqlite3_bind_int(st, 3, c->revoke_reason);
        else
                sqlite3_bind_null(st, 3);
        if (c->key_blob)
                sqlite3_bind_blob(st, 4, c->key_blob, (int)c->key_blob_len, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, 4);
        sqlite3_bind_text(st, 5, keyprot_name(c->key_protection), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, c->id);
        return sq_run(s, st, ei, "updating a certificate");
}

static enum qerr s_cert_serial_exists(struct store *s, const char *serial, bool *out,
                                      struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(
            s, "SELECT 1 FROM certificates WHERE serial = ? AND origin = 'issued'", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT);
        int step = sqlite3_step(st);
        *out = step == SQLITE_ROW;
        if (step != SQLITE_ROW && step != SQLITE_DONE)
                rc = sq_err(DB(s), step, ei, "checking a serial");
        sq_done(s, st);
        return rc;
}

static bool id_fill(sqlite3_stmt *st, void *slot)
{
        *(int64_t *)slot = sqlite3_column_int64(st, 0);
        return true;
}

static enum qerr collect_ids(struct store *s, sqlite3_stmt *st, int64_t **ids, size_t *n,
                             struct qerr_info *ei)
{
        return sq_collect(s, st, sizeof **ids, id_fill, NULL, (void **)ids, n,
                          "walking certificates", ei);
}

static enum qerr s_cert_descendants(struct store *s, int64_t id, int64_t **ids, size_t *n,
                                    struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "WITH RECURSIVE d(id) AS (SELECT id FROM certificates WHERE "
                               "parent_id = ?1 UNION SELECT c.id FROM certificates c JOIN d ON "
                               "c.parent_id = d.id) SELECT id FROM d ORDER BY id",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, id);
        return collect_ids(s, st, ids, n, ei);
}

static enum qerr s_cert_lineage_reissues(struct store *s, int64_t id, int *out,
                                         struct qerr_info *ei)
{
        /* climb to the original, then count every certificate below it */
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "WITH RECURSIVE up(id, parent_id) AS (SELECT id, parent_id FROM "
                               "certificates WHERE id = ?1 UNION SELECT c.id, c.parent_id FROM "
                               "certificates c JOIN up ON c.id = up.parent_id), "
                               "root(id) AS (SELECT id FROM up WHERE parent_id IS NULL), "
                               "down(id) AS (SELECT id FROM root UNION SELECT c.id FROM "
                               "certificates c JOIN down ON c.parent_id = down.id) "
                               "SELECT count(*) - 1 FROM down",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
                *out = sqlite3_column_int(st, 0);
        else
                rc = sq_err(DB(s), step, ei, "counting reissues");
        sq_done(s, st);
        if (rc == QERR_OK && *out < 0)
                *out = 0;
        return rc;
}

/* ---- reissues and revocations ---- */

static enum qerr s_reissue_insert(struct store *s, struct reissue_rec *r, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO reissues (certificate_id, status, csr_source, reason, "
                               "registered_domains, created_at, owner, tenant_id) "
                               "VALUES (?, 'in_progress', ?, ?, ?, ?, ?, ?)",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, r->certificate_id);
        sqlite3_bind_text(st, 2, r->csr_source, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, r->reason ? r->reason : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, r->registered_domains ? r->registered_domains : "[]", -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, r->created_at);
        sq_bind_text_or_null(st, 6, r->owner[0] ? r->owner : NULL);
        sqlite3_bind_int64(st, 7, r->tenant_id ? r->tenant_id : 1);
        int step = sqlite3_step(st);
        sq_done(s, st);
        if (sq_unique_violation(step))
                return qerr_set(ei, QERR_REISSUE_IN_PROGRESS, NULL);
        if (step != SQLITE_DONE)
                return sq_err(DB(s), step, ei, "storing a reissue request");
        r->id = sqlite3_last_insert_rowid(DB(s));
        snprintf(r->status, sizeof r->status, "in_progress");
        return QERR_OK;
}

static enum qerr s_reissue_finish(struct store *s, int64_t id, const char *status,
                                  int64_t new_cert_id, const char *failure, qtime_t at,
                                  struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc =
            sq_stmt(s,
                    "UPDATE reissues SET status = ?, new_certificate_id = ?, failure = ?, "
                    "finished_at = ? WHERE id = ? AND status = 'in_progress'",
                    &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
        sq_bind_id_or_null(st, 2, new_cert_id);
        sq_bind_text_or_null(st, 3, failure);
        sqlite3_bind_int64(st, 4, at);
        sqlite3_bind_int64(st, 5, id);
        return sq_run(s, st, ei, "finishing a reissue request");
}

static bool reissue_fill(sqlite3_stmt *st, void *slot)
{
        struct reissue_rec *r = slot;
        r->id = sqlite3_column_int64(st, 0);
        r->certificate_id = sqlite3_column_int64(st, 1);
        sq_col_copy(st, 2, r->csr_source, sizeof r->csr_source);
        r->reason = sq_col_dup(st, 3);
        r->registered_domains = sq_col_dup(st, 4);
        r->created_at = sqlite3_column_int64(st, 5);
        sq_col_copy(st, 6, r->owner, sizeof r->owner);
        r->tenant_id = sqlite3_column_int64(st, 7);
        snprintf(r->status, sizeof r->status, "in_progress");
        return r->registered_domains != NULL;
}

static void reissue_clear(void *slot)
{
        struct reissue_rec *r = slot;
        free(r->reason);
        free(r->registered_domains);
}

static enum qerr s_reissue_active(struct store *s, struct reissue_rec **out, size_t *n,
                                  struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT id, certificate_id, csr_source, reason, registered_domains, "
                               "created_at, owner, tenant_id FROM reissues WHERE status = "
                               "'in_progress' "
                               "ORDER BY id",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        return sq_collect(s, st, sizeof **out, reissue_fill, reissue_clear, (void **)out, n,
                          "listing reissues", ei);
}

static enum qerr s_revocation_insert(struct store *s, int64_t tenant_id, int64_t cert_id,
                                     int reason, int64_t cascade_from, const char *status,
                                     qtime_t at, int64_t *id, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO revocations (certificate_id, status, reason_code, "
                               "cascade_from, requested_at, finished_at, tenant_id) "
                               "VALUES (?,?,?,?,?,?,?)",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, cert_id);
        sqlite3_bind_text(st, 2, status, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 3, reason);
        sq_bind_id_or_null(st, 4, cascade_from);
        sqlite3_bind_int64(st, 5, at);
        if (strcmp(status, "pending") == 0)
                sqlite3_bind_null(st, 6);
        else
                sqlite3_bind_int64(st, 6, at);
        sqlite3_bind_int64(st, 7, tenant_id ? tenant_id : 1);
        int step = sqlite3_step(st);
        sq_done(s, st);
        if (sq_unique_violation(step))
                return qerr_set(ei, QERR_REVOKE_ALREADY, NULL);
        if (step != SQLITE_DONE)
                return sq_err(DB(s), step, ei, "storing a revocation");
        if (id)
                *id = sqlite3_last_insert_rowid(DB(s));
        return QERR_OK;
}

/* ---- events ---- */

static enum qerr s_event_add(struct store *s, const struct event_rec *e, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc =
            sq_stmt(s,
                    "INSERT INTO events (object_type, object_id, actor, at, from_status, "
                    "to_status, reason, tenant_id) VALUES (?,?,?,?,?,?,?,?)",
                    &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, e->object_type, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, e->object_id);
        sqlite3_bind_text(st, 3, e->actor, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, e->at);
        sq_bind_text_or_null(st, 5, e->from_status[0] ? e->from_status : NULL);
        sqlite3_bind_text(st, 6, e->to_status, -1, SQLITE_TRANSIENT);
        sq_bind_text_or_null(st, 7, e->reason);
        sqlite3_bind_int64(st, 8, e->tenant_id ? e->tenant_id : 1);
        return sq_run(s, st, ei, "recording an event");
}

static bool event_fill(sqlite3_stmt *st, void *slot)
{
        struct event_rec *e = slot;
        e->id = sqlite3_column_int64(st, 0);
        sq_col_copy(st, 1, e->object_type, sizeof e->object_type);
        e->object_id = sqlite3_column_int64(st, 2);
        sq_col_copy(st, 3, e->actor, sizeof e->actor);
        e->at = sqlite3_column_int64(st, 4);
        sq_col_copy(st, 5, e->from_status, sizeof e->from_status);
        sq_col_copy(st, 6, e->to_status, sizeof e->to_status);
        e->reason = sq_col_dup(st, 7);
        e->tenant_id = sqlite3_column_int64(st, 8);
        sq_col_copy(st, 9, e->tenant, sizeof e->tenant);
        return true;
}

static void event_clear(void *slot)
{
        event_rec_clear(slot);
}

#define EVENT_COLS                                                                                 \
        "e.id, e.object_type, e.object_id, e.actor, e.at, e.from_status, e.to_status, e.reason, "  \
        "e.tenant_id, t.name FROM events e JOIN tenants t ON t.id = e.tenant_id "

static enum qerr s_event_list(struct store *s, int64_t tenant, const char *object_type,
                              int64_t object_id, struct event_rec **out, size_t *n,
                              struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT " EVENT_COLS "WHERE e.object_type = ?1 AND "
                               "e.object_id = ?2 AND (?3 = 0 OR e.tenant_id = ?3) ORDER BY e.id",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, object_type, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, object_id);
        sqlite3_bind_int64(st, 3, tenant);
        return sq_collect(s, st, sizeof **out, event_fill, event_clear, (void **)out, n,
                          "listing events", ei);
}

static enum qerr s_event_page(struct store *s, const struct event_query *q, struct event_rec **out,
                              size_t *n, bool *more, struct qerr_info *ei)
{
        struct sq_where w;
        sqw_init(&w, "SELECT " EVENT_COLS);
        if (q->tenant)
                sqw_int(&w, "e.tenant_id = ?", q->tenant);
        if (q->before_id)
                sqw_int(&w, "e.id < ?", q->before_id);
        if (q->object_type)
                sqw_text(&w, "e.object_type = ?", q->object_type);
        if (q->object_id)
                sqw_int(&w, "e.object_id = ?", q->object_id);
        if (q->since)
                sqw_int(&w, "e.at >= ?", q->since);
        size_t limit = q->limit ? q->limit : 100;
        sqw_tail_int(&w, " ORDER BY e.id DESC LIMIT ?", (int64_t)limit + 1);
        sqlite3_stmt *st;
        enum qerr rc = sqw_prepare(s, &w, &st, ei);
        if (rc != QERR_OK)
                return rc;
        rc = sq_collect(s, st, sizeof **out, event_fill, event_clear, (void **)out, n,
                        "listing events", ei);
        *more = false;
        if (rc == QERR_OK && *n > limit) {
                event_rec_clear(&(*out)[limit]);
                *n = limit;
                *more = true;
        }
        return rc;
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = s_close,
    .begin = s_begin,
    .commit = s_commit,
    .rollback = s_rollback,
    .ca_insert = s_ca_insert,
    .ca_list = s_ca_list,
    .ca_get = s_ca_get,
    .ca_next_crl_number = s_ca_next_crl_number,
    .cert_insert = s_cert_insert,
    .cert_get = s_cert_get,
    .cert_page = s_cert_page,
    .cert_update = s_cert_update,
    .cert_serial_exists = s_cert_serial_exists,
    .cert_descendants = s_cert_descendants,
    .cert_lineage_reissues = s_cert_lineage_reissues,
    .reissue_insert = s_reissue_insert,
    .reissue_finish = s_reissue_finish,
    .reissue_active = s_reissue_active,
    .revocation_insert = s_revocation_insert,
    .event_add = s_event_add,
    .event_list = s_event_list,
    .event_page = s_event_page,
    SQ_CRL_OPS SQ_ORDER_OPS SQ_TENANT_OPS SQ_KEY_OPS SQ_NOTIFY_OPS SQ_SERIAL_OPS SQ_OCSP_OPS
        SQ_ACME_OPS};

enum qerr store_open_sqlite(const char *data_dir, long busy_ms, struct store **out,
                            struct qerr_info *ei)
{
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/quill.db", data_dir) >= (int)sizeof path)
                return qerr_set(ei, QERR_DATA_DIR, "the data directory path is too long");
        struct sqlite_store *ss = calloc(1, sizeof *ss);
        if (!ss)
                return qerr_set(ei, QERR_NOMEM, NULL);
        ss->base.ops = &sqlite_ops;
        /* SQLite creates -wal and -shm with the database file's mode: make
         * that 0600 (it holds sealed keys and the audit log). O_EXCL: never
         * open and close an existing database file here, because closing any
         * descriptor of it drops every POSIX lock this process holds on it,
         * including those of connections already open (SQLite's "how to
         * corrupt" 2.2.1); other processes would then delete a live WAL. */
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0)
                close(fd);
        int rc = sqlite3_open_v2(
            path, &ss->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
        enum qerr q = QERR_OK;
        if (rc != SQLITE_OK) {
                q = qerr_set(ei, QERR_DATA_DIR, "cannot open %s: %s", path, sqlite3_errstr(rc));
                goto fail;
        }
        sqlite3_extended_result_codes(ss->db, 1);
        sqlite3_busy_timeout(ss->db, (int)busy_ms);
        if ((q = sq_exec(ss->db, "PRAGMA foreign_keys = ON", ei, "configuring")) != QERR_OK)
                goto fail;
        /* journal_mode needs the lock briefly; busy_timeout covers it */
        if ((q = sq_exec(ss->db, "PRAGMA journal_mode = WAL", ei, "enabling WAL")) != QERR_OK)
                goto fail;
        if ((q = sq_exec(ss->db, "PRAGMA synchronous = FULL", ei, "configuring")) != QERR_OK)
                goto fail;
        /* Checkpoint when the WAL holds 32 MB rather than SQLite's 4 MB: a
         * checkpoint costs two fsyncs whatever its size, and CRLs of large
         * CAs write tens of megabytes in a row (docs/internals/crl.md). */
        if ((q = sq_exec(ss->db, "PRAGMA wal_autocheckpoint = 8192", ei, "configuring")) != QERR_OK)
                goto fail;
        if ((q = migrate(ss->db, ei)) != QERR_OK)
                goto fail;
        *out = &ss->base;
        return QERR_OK;
fail:
        sqlite3_close(ss->db);
        free(ss);
        return q;
}

void store_free_certs(struct cert_rec **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                cert_rec_free(v[i]);
        free(v);
}

void store_free_cas(struct ca_rec **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                ca_rec_free(v[i]);
        free(v);
}

void store_free_events(struct event_rec *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                event_rec_clear(&v[i]);
        free(v);
}

void store_free_reissues(struct reissue_rec *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(v[i].reason);
                free(v[i].registered_domains);
        }
        free(v);
}
