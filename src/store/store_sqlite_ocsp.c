/*
 * store_sqlite_ocsp.c - the SQLite side of OCSP (migration 007): responder
 * certificates, stored responses, and the queries the refresher uses to
 * find what must be signed (new and changed certificates by event id, due
 * responses by refresh time, a ranged scan for anything unanswered). Same
 * rules as store_sqlite.c: writes between begin and commit, records
 * returned are the caller's, one thread per handle.
 *
 * Which status a certificate's answer has: revoked when it was revoked
 * (status revoked, or deleted after a revocation: revoked_at is set), good
 * while it is issued, being reissued or waiting for a revocation to
 * complete. A certificate deleted without a revocation (an expired one) has
 * no answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"

#define DB(s) sq_db(s)

#define OCSP_CERT_COLS                                                                             \
        "c.id, c.ca_id, c.serial, c.status, c.not_after, c.revoked_at, c.revoke_reason"
/* the status the answer of certificate c must have */
#define ANSWER_STATUS                                                                              \
        "CASE WHEN c.revoked_at IS NOT NULL AND c.status IN ('revoked', 'deleted') "               \
        "THEN 'revoked' ELSE 'good' END"

/* Fills a row from OCSP_CERT_COLS starting at column `at`. */
static bool cert_row_at(sqlite3_stmt *st, int at, struct ocsp_cert_row *r)
{
        r->cert_id = sqlite3_column_int64(st, at);
        r->ca_id = sqlite3_column_int64(st, at + 1);
        sq_col_copy(st, at + 2, r->serial, sizeof r->serial);
        const unsigned char *status = sqlite3_column_text(st, at + 3);
        if (!status || !cert_status_from_name((const char *)status, &r->status))
                return false;
        r->not_after = sqlite3_column_int64(st, at + 4);
        r->revoked_at = sqlite3_column_int64(st, at + 5);
        r->revoke_reason =
            sqlite3_column_type(st, at + 6) == SQLITE_NULL ? -1 : sqlite3_column_int(st, at + 6);
        return r->serial[0] != 0;
}

static bool cert_row_fill(sqlite3_stmt *st, void *slot)
{
        return cert_row_at(st, 0, slot);
}

static enum qerr max_of(struct store *s, const char *sql, int64_t *out, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, sql, &st, ei);
        if (rc != QERR_OK)
                return rc;
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
                *out = sqlite3_column_int64(st, 0); /* NULL (empty table) reads as 0 */
        else
                rc = sq_err(DB(s), step, ei, "reading a maximum");
        sq_done(s, st);
        return rc;
}

enum qerr sq_ocsp_responder_insert(struct store *s, struct ocsp_responder_row *r,
                                   struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO ocsp_responders (ca_id, serial, cert_der, not_before, "
                               "not_after, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, r->ca_id);
        sqlite3_bind_text(st, 2, r->serial, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 3, r->der, (int)r->der_len, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, r->not_before);
        sqlite3_bind_int64(st, 5, r->not_after);
        sqlite3_bind_int64(st, 6, r->created_at);
        if ((rc = sq_run(s, st, ei, "storing an OCSP responder")) == QERR_OK)
                r->id = sqlite3_last_insert_rowid(DB(s));
        return rc;
}

enum qerr sq_ocsp_responder_get(struct store *s, int64_t id, struct ocsp_responder_row *out,
                                struct qerr_info *ei)
{
        sqlite3_stmt *st;
        memset(out, 0, sizeof *out);
        enum qerr rc = sq_stmt(s,
                               "SELECT id, ca_id, serial, cert_der, not_before, not_after, "
                               "created_at FROM ocsp_responders WHERE id = ?",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
                out->id = sqlite3_column_int64(st, 0);
                out->ca_id = sqlite3_column_int64(st, 1);
                sq_col_copy(st, 2, out->serial, sizeof out->serial);
                int n = sqlite3_column_bytes(st, 3);
                const void *b = sqlite3_column_blob(st, 3);
                out->der = n > 0 ? malloc((size_t)n) : NULL;
                if (n > 0 && !out->der)
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                else if (n > 0)
                        memcpy(out->der, b, (size_t)n);
                out->der_len = (size_t)n;
                out->not_before = sqlite3_column_int64(st, 4);
                out->not_after = sqlite3_column_int64(st, 5);
                out->created_at = sqlite3_column_int64(st, 6);
        } else if (step == SQLITE_DONE) {
                rc = qerr_set(ei, QERR_NOT_FOUND, "no OCSP responder with id %lld", (long long)id);
        } else {
                rc = sq_err(DB(s), step, ei, "reading an OCSP responder");
        }
        sq_done(s, st);
        return rc;
}

enum qerr sq_ocsp_cert_changes(struct store *s, int64_t after_event, size_t limit,
                               struct ocsp_cert_row **out, size_t *n, int64_t *next,
                               struct qerr_info *ei)
{
        *out = NULL;
        *n = 0;
        *next = after_event;
        int64_t hi = 0;
        enum qerr rc = max_of(s, "SELECT max(id) FROM events", &hi, ei);
        if (rc != QERR_OK || hi <= after_event)
                return rc;
        sqlite3_stmt *st;
        rc = sq_stmt(s,
                     "SELECT e.id, " OCSP_CERT_COLS " FROM events e JOIN certificates c ON c.id = "
                     "e.object_id WHERE e.id > ?1 AND e.id <= ?2 AND e.object_type = "
                     "'certificate' AND c.origin = 'issued' ORDER BY e.id LIMIT ?3",
                     &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, after_event);
        sqlite3_bind_int64(st, 2, hi);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
        struct ocsp_cert_row *v = NULL;
        size_t count = 0;
        int64_t last = after_event;
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
                struct ocsp_cert_row *nv = realloc(v, (count + 1) * sizeof *nv);
                if (!nv) {
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                        break;
                }
                v = nv;
                memset(&v[count], 0, sizeof v[count]);
                last = sqlite3_column_int64(st, 0);
                if (cert_row_at(st, 1, &v[count]))
                        count++;
        }
        if (rc == QERR_OK && step != SQLITE_DONE)
                rc = sq_err(DB(s), step, ei, "reading certificate events");
        sq_done(s, st);
        if (rc != QERR_OK) {
                free(v);
                return rc;
        }
        *out = v;
        *n = count;
        /* a full page: continue after its last event; else everything up to hi was read */
        *next = count == limit && limit > 0 ? last : hi;
        return QERR_OK;
}

enum qerr sq_ocsp_certs_unanswered(struct store *s, int64_t after, int64_t upto, qtime_t now,
                                   struct ocsp_cert_row **out, size_t *n, int64_t *max_id,
                                   struct qerr_info *ei)
{
        *out = NULL;
        *n = 0;
        enum qerr rc = max_of(s, "SELECT max(id) FROM certificates", max_id, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_stmt *st;
        rc = sq_stmt(s,
                     "SELECT " OCSP_CERT_COLS " FROM certificates c LEFT JOIN ocsp_responses r ON "
                     "r.ca_id = c.ca_id AND r.serial = c.serial WHERE c.id > ?1 AND c.id <= ?2 "
                     "AND c.origin = 'issued' AND c.not_after > ?3 AND (c.status <> 'deleted' OR "
                     "c.revoked_at IS NOT NULL) AND (r.seq IS NULL OR r.status <> " ANSWER_STATUS
                     ") ORDER BY c.id",
                     &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, after);
        sqlite3_bind_int64(st, 2, upto);
        sqlite3_bind_int64(st, 3, now);
        return sq_collect(s, st, sizeof **out, cert_row_fill, NULL, (void **)out, n,
                          "looking for certificates without an OCSP answer", ei);
}

enum qerr sq_ocsp_revoked_stale(struct store *s, size_t limit, struct ocsp_cert_row **out,
                                size_t *n, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(
            s,
            "SELECT " OCSP_CERT_COLS " FROM ocsp_responses r JOIN certificates c ON c.serial = "
            "r.serial AND c.origin = 'issued' AND c.ca_id = r.ca_id WHERE r.status = "
            "'good' AND c.revoked_at IS NOT NULL AND c.status IN ('revoked', 'deleted') "
            "LIMIT ?",
            &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
        return sq_collect(s, st, sizeof **out, cert_row_fill, NULL, (void **)out, n,
                          "looking for stale OCSP answers of revoked certificates", ei);
}

enum qerr sq_ocsp_due(struct store *s, qtime_t now, size_t limit, struct ocsp_cert_row **out,
                      size_t *n, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc =
            sq_stmt(s,
                    "SELECT " OCSP_CERT_COLS " FROM ocsp_responses r JOIN certificates c "
                    "ON c.id = r.certificate_id WHERE r.refresh_at <= ? ORDER BY "
                    "r.refresh_at LIMIT ?",
                    &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
        return sq_collect(s, st, sizeof **out, cert_row_fill, NULL, (void **)out, n,
                          "looking for OCSP answers to refresh", ei);
}

enum qerr sq_ocsp_response_put(struct store *s, struct ocsp_response_row *r, bool *stored,
                               struct qerr_info *ei)
{
        sqlite3_stmt *st;
        *stored = false;
        /* a response never goes back from revoked to good: a good one signed
         * from a read made before the revocation committed is dropped */
        enum qerr rc =
            sq_stmt(s,
                    "INSERT OR REPLACE INTO ocsp_responses (ca_id, serial, certificate_id, "
                    "status, responder_id, this_update, next_update, refresh_at, der) SELECT ?1, "
                    "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE NOT (?4 = 'good' AND EXISTS (SELECT 1 "
                    "FROM ocsp_responses WHERE ca_id = ?1 AND serial = ?2 AND status = "
                    "'revoked'))",
                    &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, r->ca_id);
        sqlite3_bind_text(st, 2, r->serial, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, r->cert_id);
        sqlite3_bind_text(st, 4, r->revoked ? "revoked" : "good", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, r->responder_id);
        sqlite3_bind_int64(st, 6, r->this_update);
        sqlite3_bind_int64(st, 7, r->next_update);
        sqlite3_bind_int64(st, 8, r->refresh_at);
        sqlite3_bind_blob(st, 9, r->der, (int)r->der_len, SQLITE_TRANSIENT);
        if ((rc = sq_run(s, st, ei, "storing an OCSP response")) != QERR_OK)
                return rc;
        *stored = sqlite3_changes(DB(s)) > 0;
        if (*stored)
                r->seq = sqlite3_last_insert_rowid(DB(s));
        return QERR_OK;
}

enum qerr sq_ocsp_response_delete(struct store *s, int64_t ca_id, const char *serial,
                                  struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc =
            sq_stmt(s, "DELETE FROM ocsp_responses WHERE ca_id = ? AND serial = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, ca_id);
        sqlite3_bind_text(st, 2, serial, -1, SQLITE_TRANSIENT);
        return sq_run(s, st, ei, "deleting an OCSP response");
}

static bool response_fill(sqlite3_stmt *st, void *slot)
{
        struct ocsp_response_row *r = slot;
        r->seq = sqlite3_column_int64(st, 0);
        r->ca_id = sqlite3_column_int64(st, 1);
        sq_col_copy(st, 2, r->serial, sizeof r->serial);
        r->cert_id = sqlite3_column_int64(st, 3);
        const unsigned char *status = sqlite3_column_text(st, 4);
        r->revoked = status && strcmp((const char *)status, "revoked") == 0;
        r->responder_id = sqlite3_column_int64(st, 5);
        r->this_update = sqlite3_column_int64(st, 6);
        r->next_update = sqlite3_column_int64(st, 7);
        r->refresh_at = sqlite3_column_int64(st, 8);
        int n = sqlite3_column_bytes(st, 9);
        const void *b = sqlite3_column_blob(st, 9);
        if (n <= 0 || !b || !(r->der = malloc((size_t)n)))
                return false;
        memcpy(r->der, b, (size_t)n);
        r->der_len = (size_t)n;
        return true;
}

static void response_clear(void *slot)
{
        struct ocsp_response_row *r = slot;
        free(r->der);
        r->der = NULL;
}

enum qerr sq_ocsp_responses_since(struct store *s, int64_t after, size_t limit,
                                  struct ocsp_response_row **out, size_t *n, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT seq, ca_id, serial, certificate_id, status, responder_id, "
                               "this_update, next_update, refresh_at, der FROM ocsp_responses "
                               "WHERE seq > ? ORDER BY seq LIMIT ?",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, after);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
        return sq_collect(s, st, sizeof **out, response_fill, response_clear, (void **)out, n,
                          "loading OCSP responses", ei);
}

void store_free_ocsp_responses(struct ocsp_response_row *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i].der);
        free(v);
}
