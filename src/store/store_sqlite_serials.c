/*
 * store_sqlite_serials.c - the serials table of the SQLite backend
 * (migration 008, two-phase issuance): reservations made before the signer
 * is asked, read back by reconciliation. See store.h. The move to "issued"
 * is a trigger of the certificate insert, in the same transaction.
 *
 * Same threading rules as the rest of the backend: one thread per handle.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"

#define DB(s) sq_db(s)

void serial_rec_clear(struct serial_rec *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->nnames; i++)
                free(r->names[i]);
        free(r->names);
        free(r->csr_pem);
        free(r->key_blob);
        memset(r, 0, sizeof *r);
}

void store_free_serials(struct serial_rec *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                serial_rec_clear(&v[i]);
        free(v);
}

static const char *prot_name(enum key_protection k)
{
        return k == KEYPROT_DATA_KEY ? "data_key" : k == KEYPROT_PASSWORD ? "password" : "none";
}

static char *names_json(char *const *names, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_string(names[i]));
        char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
        json_decref(a);
        return s;
}

static bool names_parse(const char *txt, struct serial_rec *r)
{
        json_t *a = json_loads(txt ? txt : "[]", 0, NULL);
        if (!json_is_array(a)) {
                json_decref(a);
                return false;
        }
        size_t n = json_array_size(a);
        r->names = calloc(n ? n : 1, sizeof *r->names);
        bool ok = r->names != NULL;
        for (size_t i = 0; ok && i < n; i++) {
                const char *v = json_string_value(json_array_get(a, i));
                ok = v && (r->names[i] = strdup(v));
                if (ok)
                        r->nnames++;
        }
        json_decref(a);
        return ok;
}

#define SERIAL_COLS                                                                                \
        "id, serial, ca_id, tenant_id, purpose, order_id, reissue_id, parent_id, profile, "        \
        "key_algorithm, names, free_cert, csr_pem, key_blob, key_protection, state, owner, "       \
        "certificate_id, reserved_at, finished_at"

static bool serial_fill(sqlite3_stmt *st, void *slot)
{
        struct serial_rec *r = slot;
        char tmp[32];
        r->id = sqlite3_column_int64(st, 0);
        sq_col_copy(st, 1, r->serial, sizeof r->serial);
        r->ca_id = sqlite3_column_int64(st, 2);
        r->tenant_id = sqlite3_column_int64(st, 3);
        sq_col_copy(st, 4, r->purpose, sizeof r->purpose);
        r->order_id = sqlite3_column_int64(st, 5);
        r->reissue_id = sqlite3_column_int64(st, 6);
        r->parent_id = sqlite3_column_int64(st, 7);
        sq_col_copy(st, 8, tmp, sizeof tmp);
        bool ok = cert_profile_from_name(tmp, &r->profile);
        sq_col_copy(st, 9, r->key_algorithm, sizeof r->key_algorithm);
        ok = ok && names_parse((const char *)sqlite3_column_text(st, 10), r);
        r->free_cert = sqlite3_column_int(st, 11) != 0;
        r->csr_pem = sq_col_dup(st, 12);
        int bl = sqlite3_column_bytes(st, 13);
        if (ok && bl > 0) {
                r->key_blob = malloc((size_t)bl);
                ok = r->key_blob != NULL;
                if (ok) {
                        memcpy(r->key_blob, sqlite3_column_blob(st, 13), (size_t)bl);
                        r->key_blob_len = (size_t)bl;
                }
        }
        sq_col_copy(st, 14, tmp, sizeof tmp);
        r->key_protection = strcmp(tmp, "data_key") == 0   ? KEYPROT_DATA_KEY
                            : strcmp(tmp, "password") == 0 ? KEYPROT_PASSWORD
                                                           : KEYPROT_NONE;
        sq_col_copy(st, 15, r->state, sizeof r->state);
        sq_col_copy(st, 16, r->owner, sizeof r->owner);
        r->certificate_id = sqlite3_column_int64(st, 17);
        r->reserved_at = sqlite3_column_int64(st, 18);
        r->finished_at = sqlite3_column_int64(st, 19);
        return ok;
}

static void serial_clear_slot(void *slot)
{
        serial_rec_clear(slot);
}

enum qerr sq_serial_reserve(struct store *s, struct serial_rec *r, struct qerr_info *ei)
{
        char *names = names_json(r->names, r->nnames);
        if (!names)
                return qerr_set(ei, QERR_NOMEM, NULL);
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO serials (serial, ca_id, tenant_id, purpose, order_id, "
                               "reissue_id, parent_id, profile, key_algorithm, names, free_cert, "
                               "csr_pem, key_blob, key_protection, state, owner, reserved_at) "
                               "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,'reserved',?,?)",
                               &st, ei);
        if (rc != QERR_OK) {
                free(names);
                return rc;
        }
        sqlite3_bind_text(st, 1, r->serial, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, r->ca_id);
        sqlite3_bind_int64(st, 3, r->tenant_id);
        sqlite3_bind_text(st, 4, r->purpose, -1, SQLITE_TRANSIENT);
        sq_bind_id_or_null(st, 5, r->order_id);
        sq_bind_id_or_null(st, 6, r->reissue_id);
        sq_bind_id_or_null(st, 7, r->parent_id);
        sqlite3_bind_text(st, 8, cert_profile_name(r->profile), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, r->key_algorithm, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 10, names, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 11, r->free_cert);
        sq_bind_text_or_null(st, 12, r->csr_pem);
        if (r->key_blob)
                sqlite3_bind_blob(st, 13, r->key_blob, (int)r->key_blob_len, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, 13);
        sqlite3_bind_text(st, 14, prot_name(r->key_protection), -1, SQLITE_STATIC);
        sq_bind_text_or_null(st, 15, r->owner[0] ? r->owner : NULL);
        sqlite3_bind_int64(st, 16, r->reserved_at);
        int step = sqlite3_step(st);
        const char *msg = sqlite3_errmsg(DB(s));
        bool dup_serial = sq_unique_violation(step) && msg && strstr(msg, "serials.serial");
        bool dup_work = sq_unique_violation(step) && !dup_serial;
        sq_done(s, st);
        free(names);
        if (dup_serial)
                return qerr_set(ei, QERR_SERIAL_TAKEN, "serial %s was used before", r->serial);
        if (dup_work)
                return qerr_set(ei, QERR_ISSUE_IN_PROGRESS,
                                "another quill process is signing the certificate of this %s "
                                "right now",
                                r->order_id ? "order" : "reissue");
        if (step != SQLITE_DONE)
                return sq_err(DB(s), step, ei, "reserving a serial");
        r->id = sqlite3_last_insert_rowid(DB(s));
        snprintf(r->state, sizeof r->state, "reserved");
        return QERR_OK;
}

enum qerr sq_serial_get(struct store *s, const char *serial, struct serial_rec *out,
                        struct qerr_info *ei)
{
        sqlite3_stmt *st;
        memset(out, 0, sizeof *out);
        enum qerr rc = sq_stmt(s, "SELECT " SERIAL_COLS " FROM serials WHERE serial = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
                if (!serial_fill(st, out)) {
                        serial_rec_clear(out);
                        rc = qerr_set(ei, QERR_STORE, "the reservation of serial %s is unreadable",
                                      serial);
                }
        } else if (step == SQLITE_DONE) {
                rc = qerr_set(ei, QERR_NOT_FOUND, "serial %s was never reserved", serial);
        } else {
                rc = sq_err(DB(s), step, ei, "reading a serial");
        }
        sq_done(s, st);
        return rc;
}

enum qerr sq_serial_list_reserved(struct store *s, struct serial_rec **out, size_t *n,
                                  struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(
            s, "SELECT " SERIAL_COLS " FROM serials WHERE state = 'reserved' ORDER BY id", &st, ei);
        if (rc != QERR_OK)
                return rc;
        return sq_collect(s, st, sizeof **out, serial_fill, serial_clear_slot, (void **)out, n,
                          "listing reserved serials", ei);
}

enum qerr sq_serial_void(struct store *s, int64_t id, qtime_t at, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "UPDATE serials SET state = 'void', finished_at = ?, key_blob = "
                               "NULL, csr_pem = NULL WHERE id = ? AND state = 'reserved'",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, at);
        sqlite3_bind_int64(st, 2, id);
        int step = sqlite3_step(st);
        sq_done(s, st);
        if (step != SQLITE_DONE)
                return sq_err(DB(s), step, ei, "voiding a serial");
        if (sqlite3_changes(DB(s)) != 1)
                return qerr_set(ei, QERR_NOT_FOUND, "serial row %lld is not reserved",
                                (long long)id);
        return QERR_OK;
}

enum qerr sq_serial_orphan(struct store *s, int64_t id, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(
            s, "UPDATE serials SET owner = NULL WHERE id = ? AND state = 'reserved'", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, id);
        return sq_run(s, st, ei, "handing a serial to reconciliation");
}
