/*
 * store_sqlite_crl.c - the SQLite side of CRLs: scanning the revoked
 * certificates of one CRL partition, storing and reading CRLs, the CA's
 * shard count, and CRL jobs (docs/internals/crl.md).
 *
 * The scan reads the partial index certificates_crl only (ca_id, crl_shard,
 * serial, not_after, revoked_at, revoke_reason WHERE revoked_at IS NOT
 * NULL): a million revoked certificates are a few tens of megabytes of index,
 * read in order, without touching the certificate rows (which hold PEM and
 * keys). A CRL's bytes are bound without a copy; a large CRL (a whole CA
 * unsharded) is written into a zero blob piece by piece instead, because
 * binding it would make SQLite build a second copy of it in memory.
 * Same threading rules as store_sqlite.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"

#define DB(s) sq_db(s)

/* Above this size a CRL is written with the incremental blob API. */
#define CRL_BIND_MAX (4u * 1024u * 1024u)
#define CRL_PIECE (1024u * 1024u)

enum qerr sq_ca_raise_crl_shards(struct store *s, int64_t ca_id, int n, int *before,
                                 struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, "SELECT crl_shards FROM cas WHERE id = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, ca_id);
        int step = sqlite3_step(st);
        int had = step == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
        sq_done(s, st);
        if (step == SQLITE_DONE)
                return qerr_set(ei, QERR_NOT_FOUND, "no CA %lld", (long long)ca_id);
        if (step != SQLITE_ROW)
                return sq_err(DB(s), step, ei, "reading a CA's CRL shards");
        if (before)
                *before = had;
        if (had >= n)
                return QERR_OK;
        if ((rc = sq_stmt(s, "UPDATE cas SET crl_shards = ? WHERE id = ?", &st, ei)) != QERR_OK)
                return rc;
        sqlite3_bind_int(st, 1, n);
        sqlite3_bind_int64(st, 2, ca_id);
        return sq_run(s, st, ei, "raising a CA's CRL shards");
}

enum qerr sq_crl_scan(struct store *s, int64_t ca_id, int shard, qtime_t now, crl_scan_fn fn,
                      void *arg, struct qerr_info *ei)
{
        /* INDEXED BY: a plan change that left the index would turn a CRL into
         * a scan of every certificate row; better to fail loudly */
        static const char by_shard[] =
            "SELECT serial, revoked_at, revoke_reason FROM certificates INDEXED BY "
            "certificates_crl WHERE ca_id = ?1 AND crl_shard = ?2 AND revoked_at IS NOT NULL "
            "AND not_after >= ?3 ORDER BY serial";
        static const char unsharded[] =
            "SELECT serial, revoked_at, revoke_reason FROM certificates INDEXED BY "
            "certificates_crl WHERE ca_id = ?1 AND crl_shard IS NULL AND revoked_at IS NOT NULL "
            "AND not_after >= ?3 ORDER BY serial";
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, shard >= 0 ? by_shard : unsharded, &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, ca_id);
        if (shard >= 0)
                sqlite3_bind_int(st, 2, shard);
        sqlite3_bind_int64(st, 3, now);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
                const char *serial = (const char *)sqlite3_column_text(st, 0);
                size_t slen = (size_t)sqlite3_column_bytes(st, 0);
                /* NULL reads as 0: no reasonCode */
                int reason = sqlite3_column_int(st, 2);
                rc = fn(arg, serial ? serial : "", serial ? slen : 0, sqlite3_column_int64(st, 1),
                        reason, ei);
                if (rc != QERR_OK)
                        break;
        }
        if (rc == QERR_OK && step != SQLITE_DONE)
                rc = sq_err(DB(s), step, ei, "reading revoked certificates");
        sq_done(s, st);
        return rc;
}

static enum qerr sq_err_or_ok(sqlite3 *db, int rc, struct qerr_info *ei, const char *what)
{
        return rc == SQLITE_OK ? QERR_OK : sq_err(db, rc, ei, what);
}

enum qerr sq_crl_put(struct store *s, const struct crl_info *info, const uint8_t *der, size_t len,
                     struct qerr_info *ei)
{
        if (len > (size_t)INT_MAX)
                return qerr_set(ei, QERR_STORE, "a CRL of more than 2 GB cannot be stored");
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, "SELECT max(crl_number) FROM crls WHERE ca_id = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, info->ca_id);
        int step = sqlite3_step(st);
        int64_t last = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sq_done(s, st);
        if (step != SQLITE_ROW)
                return sq_err(DB(s), step, ei, "reading CRL numbers");
        if (info->number <= last)
                return qerr_set(ei, QERR_STORE,
                                "CRL number %lld of CA %lld is not above the last one stored "
                                "(%lld)",
                                (long long)info->number, (long long)info->ca_id, (long long)last);
        /* the older CRL first: its pages are free again for the new one */
        if ((rc = sq_stmt(s, "DELETE FROM crls WHERE ca_id = ? AND shard = ?", &st, ei)) != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, info->ca_id);
        sqlite3_bind_int(st, 2, info->shard);
        if ((rc = sq_run(s, st, ei, "dropping older CRLs")) != QERR_OK)
                return rc;
        bool pieces = len > CRL_BIND_MAX;
        if ((rc = sq_stmt(s,
                          "INSERT INTO crls (ca_id, crl_number, this_update, next_update, der, "
                          "shard, entries) VALUES (?,?,?,?,?,?,?)",
                          &st, ei)) != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, info->ca_id);
        sqlite3_bind_int64(st, 2, info->number);
        sqlite3_bind_int64(st, 3, info->this_update);
        sqlite3_bind_int64(st, 4, info->next_update);
        if (pieces)
                sqlite3_bind_zeroblob(st, 5, (int)len);
        else
                sqlite3_bind_blob(st, 5, der, (int)len, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, info->shard);
        sqlite3_bind_int64(st, 7, info->entries);
        if ((rc = sq_run(s, st, ei, "storing a CRL")) != QERR_OK || !pieces)
                return rc;
        sqlite3_blob *blob = NULL;
        int brc = sqlite3_blob_open(DB(s), "main", "crls", "der", sqlite3_last_insert_rowid(DB(s)),
                                    1, &blob);
        for (size_t off = 0; brc == SQLITE_OK && off < len; off += CRL_PIECE) {
                size_t n = len - off < CRL_PIECE ? len - off : CRL_PIECE;
                brc = sqlite3_blob_write(blob, der + off, (int)n, (int)off);
        }
        int crc = sqlite3_blob_close(blob);
        return sq_err_or_ok(DB(s), brc == SQLITE_OK ? crc : brc, ei, "writing a CRL");
}

static void info_from_row(sqlite3_stmt *st, int first, struct crl_info *out)
{
        out->ca_id = sqlite3_column_int64(st, first);
        out->shard = sqlite3_column_int(st, first + 1);
        out->number = sqlite3_column_int64(st, first + 2);
        out->this_update = sqlite3_column_int64(st, first + 3);
        out->next_update = sqlite3_column_int64(st, first + 4);
        out->entries = sqlite3_column_type(st, first + 5) == SQLITE_NULL
                           ? -1
                           : sqlite3_column_int64(st, first + 5);
        out->der_len = (size_t)sqlite3_column_int64(st, first + 6);
}

#define INFO_COLS "ca_id, shard, crl_number, this_update, next_update, entries, length(der)"

enum qerr sq_crl_latest(struct store *s, int64_t ca_id, int shard, struct qbuf *der,
                        struct crl_info *info, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               der ? "SELECT " INFO_COLS ", der FROM crls WHERE ca_id = ? AND "
                                     "shard = ? ORDER BY crl_number DESC LIMIT 1"
                                   : "SELECT " INFO_COLS " FROM crls WHERE ca_id = ? AND shard = "
                                     "? ORDER BY crl_number DESC LIMIT 1",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, ca_id);
        sqlite3_bind_int(st, 2, shard);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
                if (info)
                        info_from_row(st, 0, info);
                if (der && !qbuf_append(der, sqlite3_column_blob(st, 7),
                                        (size_t)sqlite3_column_bytes(st, 7)))
                        rc = qerr_set(ei, QERR_NOMEM, "the CRL is larger than the buffer for it");
        } else if (step == SQLITE_DONE) {
                rc = shard >= 0
                         ? qerr_set(ei, QERR_NOT_FOUND, "no CRL for shard %d of CA %lld", shard,
                                    (long long)ca_id)
                         : qerr_set(ei, QERR_NOT_FOUND, "no CRL for CA %lld yet", (long long)ca_id);
        } else {
                rc = sq_err(DB(s), step, ei, "reading a CRL");
        }
        sq_done(s, st);
        return rc;
}

static bool info_fill(sqlite3_stmt *st, void *slot)
{
        info_from_row(st, 0, slot);
        return true;
}

enum qerr sq_crl_list(struct store *s, int64_t ca_id, struct crl_info **out, size_t *n,
                      struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc =
            sq_stmt(s,
                    "SELECT " INFO_COLS " FROM crls c WHERE (?1 = 0 OR ca_id = ?1) AND "
                    "crl_number = (SELECT max(crl_number) FROM crls d WHERE d.ca_id = c.ca_id "
                    "AND d.shard = c.shard) ORDER BY ca_id, shard",
                    &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, ca_id);
        return sq_collect(s, st, sizeof **out, info_fill, NULL, (void **)out, n, "listing CRLs",
                          ei);
}

enum qerr sq_job_insert_crl(struct store *s, int64_t ca_id, int shard, qtime_t run_at,
                            struct qerr_info *ei)
{
        sqlite3_stmt *st;
        /* jobs_crl_queued: a queued job of the partition already covers this */
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO jobs (kind, ca_id, shard, state, run_at, created_at, "
                               "updated_at) VALUES ('crl', ?, ?, 'queued', ?, ?, ?) "
                               "ON CONFLICT DO NOTHING",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, ca_id);
        sqlite3_bind_int(st, 2, shard);
        sqlite3_bind_int64(st, 3, run_at);
        sqlite3_bind_int64(st, 4, run_at);
        sqlite3_bind_int64(st, 5, run_at);
        return sq_run(s, st, ei, "queueing a CRL job");
}

enum qerr sq_job_close_crl(struct store *s, int64_t ca_id, int shard, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "UPDATE jobs SET state = 'done', owner = NULL, updated_at = "
                               "strftime('%s','now') WHERE kind = 'crl' AND ca_id = ? AND "
                               "shard = ? AND state = 'queued'",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, ca_id);
        sqlite3_bind_int(st, 2, shard);
        return sq_run(s, st, ei, "closing CRL jobs");
}
