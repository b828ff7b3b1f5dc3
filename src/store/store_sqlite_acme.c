/*
 * store_sqlite_acme.c - the SQLite backend's ACME operations (migration
 * 011): external account binding keys, accounts, authorizations (with the
 * workers' leased claim of due challenge validations) and orders. Same
 * rules as store.h: writes inside the caller's transaction, records owned
 * by the caller, one thread per handle.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"

#define DB(s) sq_db(s)

static void bind_time(sqlite3_stmt *st, int i, qtime_t t)
{
        if (t)
                sqlite3_bind_int64(st, i, t);
        else
                sqlite3_bind_null(st, i);
}

/* ---- EAB keys ---- */

#define EAB_COLS                                                                                   \
        "e.kid, e.tenant_id, t.name, e.hmac_blob, e.label, e.max_accounts, e.accounts, "           \
        "e.expires_at, e.created_at, e.created_by, e.revoked_at FROM acme_eab_keys e JOIN "        \
        "tenants t ON t.id = e.tenant_id "

static bool eab_fill(sqlite3_stmt *st, void *slot)
{
        struct eab_rec *e = slot;
        sq_col_copy(st, 0, e->kid, sizeof e->kid);
        e->tenant_id = sqlite3_column_int64(st, 1);
        sq_col_copy(st, 2, e->tenant, sizeof e->tenant);
        int bl = sqlite3_column_bytes(st, 3);
        if (bl > 0) {
                if (!(e->hmac_blob = malloc((size_t)bl)))
                        return false;
                memcpy(e->hmac_blob, sqlite3_column_blob(st, 3), (size_t)bl);
                e->hmac_len = (size_t)bl;
        }
        sq_col_copy(st, 4, e->label, sizeof e->label);
        e->max_accounts = sqlite3_column_int(st, 5);
        e->accounts = sqlite3_column_int(st, 6);
        e->expires_at = sqlite3_column_int64(st, 7);
        e->created_at = sqlite3_column_int64(st, 8);
        sq_col_copy(st, 9, e->created_by, sizeof e->created_by);
        e->revoked_at = sqlite3_column_int64(st, 10);
        return true;
}

static void eab_slot_clear(void *slot)
{
        eab_rec_clear(slot);
}

enum qerr sq_eab_insert(struct store *s, const struct eab_rec *e, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO acme_eab_keys (kid, tenant_id, hmac_blob, label, "
                               "max_accounts, expires_at, created_at, created_by) VALUES "
                               "(?,?,?,?,?,?,?,?)",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, e->kid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, e->tenant_id);
        sqlite3_bind_blob(st, 3, e->hmac_blob, (int)e->hmac_len, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, e->label, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 5, e->max_accounts);
        bind_time(st, 6, e->expires_at);
        sqlite3_bind_int64(st, 7, e->created_at);
        sqlite3_bind_text(st, 8, e->created_by, -1, SQLITE_TRANSIENT);
        return sq_run(s, st, ei, "storing an EAB key");
}

enum qerr sq_eab_get(struct store *s, const char *kid, struct eab_rec *out, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, "SELECT " EAB_COLS "WHERE e.kid = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, kid, -1, SQLITE_TRANSIENT);
        memset(out, 0, sizeof *out);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW)
                rc = eab_fill(st, out) ? QERR_OK : qerr_set(ei, QERR_NOMEM, NULL);
        else if (r == SQLITE_DONE)
                rc = qerr_set(ei, QERR_NOT_FOUND, "no such EAB key");
        else
                rc = sq_err(DB(s), r, ei, "reading an EAB key");
        sq_done(s, st);
        return rc;
}

enum qerr sq_eab_list(struct store *s, int64_t tenant, struct eab_rec **out, size_t *n,
                      struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT " EAB_COLS "WHERE (? = 0 OR e.tenant_id = ?) ORDER BY "
                               "e.created_at, e.kid",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, tenant);
        sqlite3_bind_int64(st, 2, tenant);
        return sq_collect(s, st, sizeof **out, eab_fill, eab_slot_clear, (void **)out, n,
                          "listing EAB keys", ei);
}

enum qerr sq_eab_revoke(struct store *s, const char *kid, qtime_t at, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "UPDATE acme_eab_keys SET revoked_at = ? WHERE kid = ? AND "
                               "revoked_at IS NULL",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, at);
        sqlite3_bind_text(st, 2, kid, -1, SQLITE_TRANSIENT);
        return sq_run(s, st, ei, "revoking an EAB key");
}

enum qerr sq_eab_take(struct store *s, const char *kid, qtime_t now, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "UPDATE acme_eab_keys SET accounts = accounts + 1 WHERE kid = ? "
                               "AND revoked_at IS NULL AND accounts < max_accounts AND "
                               "(expires_at IS NULL OR expires_at > ?)",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, kid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, now);
        rc = sq_run(s, st, ei, "using an EAB key");
        if (rc == QERR_OK && sqlite3_changes(DB(s)) != 1)
                rc = qerr_set(ei, QERR_ACME_EAB_INVALID, NULL);
        return rc;
}

/* ---- accounts ---- */

#define ACCT_COLS                                                                                  \
        "a.id, a.tenant_id, t.name, a.jwk, a.thumbprint, a.status, a.contact, a.eab_kid, "         \
        "a.created_at, a.updated_at FROM acme_accounts a JOIN tenants t ON t.id = a.tenant_id "

static enum qerr acct_one(struct store *s, sqlite3_stmt *st, struct acme_account_rec *a,
                          struct qerr_info *ei)
{
        memset(a, 0, sizeof *a);
        enum qerr rc = QERR_OK;
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
                a->id = sqlite3_column_int64(st, 0);
                a->tenant_id = sqlite3_column_int64(st, 1);
                sq_col_copy(st, 2, a->tenant, sizeof a->tenant);
                a->jwk = sq_col_dup(st, 3);
                sq_col_copy(st, 4, a->thumbprint, sizeof a->thumbprint);
                sq_col_copy(st, 5, a->status, sizeof a->status);
                a->contact = sq_col_dup(st, 6);
                sq_col_copy(st, 7, a->eab_kid, sizeof a->eab_kid);
                a->created_at = sqlite3_column_int64(st, 8);
                a->updated_at = sqlite3_column_int64(st, 9);
                if (!a->jwk || !a->contact) {
                        acme_account_clear(a);
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                }
        } else if (r == SQLITE_DONE) {
                rc = qerr_set(ei, QERR_NOT_FOUND, "no such ACME account");
        } else {
                rc = sq_err(DB(s), r, ei, "reading an ACME account");
        }
        sq_done(s, st);
        return rc;
}

enum qerr sq_acme_account_get(struct store *s, int64_t id, struct acme_account_rec *out,
                              struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, "SELECT " ACCT_COLS "WHERE a.id = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, id);
        return acct_one(s, st, out, ei);
}

enum qerr sq_acme_account_by_thumbprint(struct store *s, const char *tp,
                                        struct acme_account_rec *out, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, "SELECT " ACCT_COLS "WHERE a.thumbprint = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, tp, -1, SQLITE_TRANSIENT);
        return acct_one(s, st, out, ei);
}

enum qerr sq_acme_account_insert(struct store *s, struct acme_account_rec *a, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO acme_accounts (tenant_id, jwk, thumbprint, status, "
                               "contact, eab_kid, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, a->tenant_id);
        sqlite3_bind_text(st, 2, a->jwk, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, a->thumbprint, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, a->status, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, a->contact ? a->contact : "", -1, SQLITE_TRANSIENT);
        sq_bind_text_or_null(st, 6, a->eab_kid[0] ? a->eab_kid : NULL);
        sqlite3_bind_int64(st, 7, a->created_at);
        sqlite3_bind_int64(st, 8, a->updated_at);
        rc = sq_run(s, st, ei, "storing an ACME account");
        if (rc == QERR_OK)
                a->id = sqlite3_last_insert_rowid(DB(s));
        return rc;
}

enum qerr sq_acme_account_update(struct store *s, const struct acme_account_rec *a,
                                 struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "UPDATE acme_accounts SET jwk = ?, thumbprint = ?, status = ?, "
                               "contact = ?, updated_at = ? WHERE id = ?",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, a->jwk, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, a->thumbprint, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, a->status, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, a->contact ? a->contact : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, a->updated_at);
        sqlite3_bind_int64(st, 6, a->id);
        return sq_run(s, st, ei, "updating an ACME account");
}

/* ---- authorizations ---- */

#define AUTHZ_COLS                                                                                 \
        "id, account_id, tenant_id, name, wildcard, status, token, challenge, chall_status, "      \
        "expires_at, validated_at, caa_checked_at, next_try_at, tries, error_code, "               \
        "error_detail, created_at, updated_at, account_uri FROM acme_authzs "
#define AUTHZ_FIELDS                                                                               \
        "id, account_id, tenant_id, name, wildcard, status, token, challenge, chall_status, "      \
        "expires_at, validated_at, caa_checked_at, next_try_at, tries, error_code, "               \
        "error_detail, created_at, updated_at, account_uri"

static void authz_fill(sqlite3_stmt *st, struct acme_authz_rec *z)
{
        memset(z, 0, sizeof *z);
        z->id = sqlite3_column_int64(st, 0);
        z->account_id = sqlite3_column_int64(st, 1);
        z->tenant_id = sqlite3_column_int64(st, 2);
        sq_col_copy(st, 3, z->name, sizeof z->name);
        z->wildcard = sqlite3_column_int(st, 4) != 0;
        sq_col_copy(st, 5, z->status, sizeof z->status);
        sq_col_copy(st, 6, z->token, sizeof z->token);
        sq_col_copy(st, 7, z->challenge, sizeof z->challenge);
        sq_col_copy(st, 8, z->chall_status, sizeof z->chall_status);
        z->expires_at = sqlite3_column_int64(st, 9);
        z->validated_at = sqlite3_column_int64(st, 10);
        z->caa_checked_at = sqlite3_column_int64(st, 11);
        z->next_try_at = sqlite3_column_int64(st, 12);
        z->tries = sqlite3_column_int(st, 13);
        sq_col_copy(st, 14, z->error_code, sizeof z->error_code);
        z->error_detail = sq_col_dup(st, 15);
        z->created_at = sqlite3_column_int64(st, 16);
        z->updated_at = sqlite3_column_int64(st, 17);
        sq_col_copy(st, 18, z->account_uri, sizeof z->account_uri);
}

static enum qerr authz_one(struct store *s, sqlite3_stmt *st, struct acme_authz_rec *z,
                           struct qerr_info *ei)
{
        enum qerr rc = QERR_OK;
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW)
                authz_fill(st, z);
        else if (r == SQLITE_DONE)
                rc = qerr_set(ei, QERR_NOT_FOUND, "no such authorization");
        else
                rc = sq_err(DB(s), r, ei, "reading an authorization");
        sq_done(s, st);
        return rc;
}

enum qerr sq_acme_authz_insert(struct store *s, struct acme_authz_rec *z, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "INSERT INTO acme_authzs (account_id, tenant_id, name, wildcard, "
                               "status, token, expires_at, created_at, updated_at) VALUES "
                               "(?,?,?,?,?,?,?,?,?)",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, z->account_id);
        sqlite3_bind_int64(st, 2, z->tenant_id);
        sqlite3_bind_text(st, 3, z->name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 4, z->wildcard);
        sqlite3_bind_text(st, 5, z->status, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, z->token, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 7, z->expires_at);
        sqlite3_bind_int64(st, 8, z->created_at);
        sqlite3_bind_int64(st, 9, z->updated_at);
        rc = sq_run(s, st, ei, "storing an authorization");
        if (rc == QERR_OK)
                z->id = sqlite3_last_insert_rowid(DB(s));
        return rc;
}

enum qerr sq_acme_authz_get(struct store *s, int64_t id, struct acme_authz_rec *out,
                            struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s, "SELECT " AUTHZ_COLS "WHERE id = ?", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, id);
        return authz_one(s, st, out, ei);
}

enum qerr sq_acme_authz_update(struct store *s, const struct acme_authz_rec *z,
                               struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "UPDATE acme_authzs SET status = ?, challenge = ?, chall_status = "
                               "?, expires_at = ?, validated_at = ?, caa_checked_at = ?, "
                               "next_try_at = ?, tries = ?, error_code = ?, error_detail = ?, "
                               "owner = NULL, lease_until = NULL, updated_at = ?, account_uri = ? "
                               "WHERE id = ?",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, z->status, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, z->challenge, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, z->chall_status, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, z->expires_at);
        bind_time(st, 5, z->validated_at);
        bind_time(st, 6, z->caa_checked_at);
        bind_time(st, 7, z->next_try_at);
        sqlite3_bind_int(st, 8, z->tries);
        sq_bind_text_or_null(st, 9, z->error_code[0] ? z->error_code : NULL);
        sq_bind_text_or_null(st, 10, z->error_detail);
        sqlite3_bind_int64(st, 11, z->updated_at);
        sqlite3_bind_text(st, 12, z->account_uri, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 13, z->id);
        return sq_run(s, st, ei, "updating an authorization");
}

enum qerr sq_acme_authz_reusable(struct store *s, int64_t account, const char *name, bool wildcard,
                                 qtime_t now, struct acme_authz_rec *out, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT " AUTHZ_COLS "WHERE account_id = ? AND name = ? AND "
                               "wildcard = ? AND status = 'valid' AND expires_at > ? ORDER BY "
                               "id DESC LIMIT 1",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, account);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 3, wildcard);
        sqlite3_bind_int64(st, 4, now);
        return authz_one(s, st, out, ei);
}

enum qerr sq_acme_authz_claim(struct store *s, const char *owner, qtime_t now, qtime_t lease_until,
                              struct acme_authz_rec *out, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc =
            sq_stmt(s,
                    "UPDATE acme_authzs SET owner = ?, lease_until = ?, tries = tries "
                    "+ 1 WHERE id = (SELECT id FROM acme_authzs WHERE chall_status = "
                    "'processing' AND next_try_at <= ? AND (lease_until IS NULL OR "
                    "lease_until < ?) ORDER BY next_try_at LIMIT 1) RETURNING " AUTHZ_FIELDS,
                    &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, owner, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, lease_until);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_int64(st, 4, now);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW)
                authz_fill(st, out);
        else if (r == SQLITE_DONE)
                rc = qerr_set(ei, QERR_NOT_FOUND, "no validation due");
        else
                rc = sq_err(DB(s), r, ei, "claiming a validation");
        if (r == SQLITE_ROW && sqlite3_step(st) != SQLITE_DONE)
                rc = sq_err(DB(s), r, ei, "claiming a validation");
        sq_done(s, st);
        return rc;
}

/* ---- orders ---- */

static char *join_names(char **names, size_t n)
{
        size_t len = 1;
        for (size_t i = 0; i < n; i++)
                len += strlen(names[i]) + 1;
        char *out = malloc(len), *p = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                size_t l = strlen(names[i]);
                memcpy(p, names[i], l);
                p += l;
                *p++ = i + 1 < n ? '\n' : '\0';
        }
        if (n == 0)
                *p = 0;
        return out;
}

static bool split_names(const char *text, struct acme_order_rec *o)
{
        size_t n = 1;
        for (const char *p = text; *p; p++)
                n += *p == '\n';
        if (!(o->names = calloc(n, sizeof *o->names)))
                return false;
        const char *p = text;
        while (*p) {
                const char *e = strchr(p, '\n');
                size_t l = e ? (size_t)(e - p) : strlen(p);
                if (!(o->names[o->nnames] = strndup(p, l)))
                        return false;
                o->nnames++;
                p += l + (e ? 1 : 0);
        }
        return true;
}

static void join_ids(const int64_t *ids, size_t n, char *out, size_t sz)
{
        size_t k = 0;
        out[0] = 0;
        for (size_t i = 0; i < n && k < sz; i++) {
                int w = snprintf(out + k, sz - k, "%s%lld", i ? "," : "", (long long)ids[i]);
                if (w < 0)
                        break;
                k += (size_t)w;
        }
}

enum qerr sq_acme_order_insert(struct store *s, struct acme_order_rec *o, struct qerr_info *ei)
{
        char *names = join_names(o->names, o->nnames);
        char ids[ACME_MAX_AUTHZ * 21];
        join_ids(o->authz, o->nauthz, ids, sizeof ids);
        sqlite3_stmt *st;
        enum qerr rc = names ? QERR_OK : qerr_set(ei, QERR_NOMEM, NULL);
        if (rc == QERR_OK)
                rc = sq_stmt(s,
                             "INSERT INTO acme_orders (account_id, tenant_id, status, names, "
                             "authzs, profile, replaces, expires_at, created_at) VALUES "
                             "(?,?,?,?,?,?,?,?,?)",
                             &st, ei);
        if (rc != QERR_OK) {
                free(names);
                return rc;
        }
        sqlite3_bind_int64(st, 1, o->account_id);
        sqlite3_bind_int64(st, 2, o->tenant_id);
        sqlite3_bind_text(st, 3, o->status, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, names, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, ids, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, o->profile, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 7, o->replaces, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 8, o->expires_at);
        sqlite3_bind_int64(st, 9, o->created_at);
        rc = sq_run(s, st, ei, "storing an ACME order");
        free(names);
        if (rc == QERR_OK)
                o->id = sqlite3_last_insert_rowid(DB(s));
        return rc;
}

enum qerr sq_acme_order_get(struct store *s, int64_t id, struct acme_order_rec *o,
                            struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT id, account_id, tenant_id, status, names, authzs, profile, "
                               "replaces, expires_at, created_at, order_id, error_code, "
                               "error_detail FROM acme_orders WHERE id = ?",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, id);
        memset(o, 0, sizeof *o);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
                o->id = sqlite3_column_int64(st, 0);
                o->account_id = sqlite3_column_int64(st, 1);
                o->tenant_id = sqlite3_column_int64(st, 2);
                sq_col_copy(st, 3, o->status, sizeof o->status);
                const char *names = (const char *)sqlite3_column_text(st, 4);
                const char *ids = (const char *)sqlite3_column_text(st, 5);
                bool ok = split_names(names ? names : "", o);
                for (const char *p = ids ? ids : ""; ok && *p && o->nauthz < ACME_MAX_AUTHZ;) {
                        char *end = NULL;
                        errno = 0;
                        long long v = strtoll(p, &end, 10);
                        if (errno || end == p)
                                break;
                        o->authz[o->nauthz++] = v;
                        p = *end == ',' ? end + 1 : end;
                }
                sq_col_copy(st, 6, o->profile, sizeof o->profile);
                sq_col_copy(st, 7, o->replaces, sizeof o->replaces);
                o->expires_at = sqlite3_column_int64(st, 8);
                o->created_at = sqlite3_column_int64(st, 9);
                o->order_id = sqlite3_column_int64(st, 10);
                sq_col_copy(st, 11, o->error_code, sizeof o->error_code);
                o->error_detail = sq_col_dup(st, 12);
                if (!ok) {
                        acme_order_clear(o);
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                }
        } else if (r == SQLITE_DONE) {
                rc = qerr_set(ei, QERR_NOT_FOUND, "no such ACME order");
        } else {
                rc = sq_err(DB(s), r, ei, "reading an ACME order");
        }
        sq_done(s, st);
        return rc;
}

enum qerr sq_acme_order_update(struct store *s, const struct acme_order_rec *o,
                               struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "UPDATE acme_orders SET status = ?, order_id = ?, error_code = ?, "
                               "error_detail = ? WHERE id = ?",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, o->status, -1, SQLITE_TRANSIENT);
        sq_bind_id_or_null(st, 2, o->order_id);
        sq_bind_text_or_null(st, 3, o->error_code[0] ? o->error_code : NULL);
        sq_bind_text_or_null(st, 4, o->error_detail);
        sqlite3_bind_int64(st, 5, o->id);
        return sq_run(s, st, ei, "updating an ACME order");
}

static bool id_fill(sqlite3_stmt *st, void *slot)
{
        *(int64_t *)slot = sqlite3_column_int64(st, 0);
        return true;
}

enum qerr sq_acme_order_ids(struct store *s, int64_t account, int64_t before_id, size_t limit,
                            int64_t **ids, size_t *n, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT id FROM acme_orders WHERE account_id = ? AND (? = 0 OR id "
                               "< ?) ORDER BY id DESC LIMIT ?",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, account);
        sqlite3_bind_int64(st, 2, before_id);
        sqlite3_bind_int64(st, 3, before_id);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
        return sq_collect(s, st, sizeof **ids, id_fill, NULL, (void **)ids, n,
                          "listing ACME orders", ei);
}

enum qerr sq_acme_counts(struct store *s, int64_t account, qtime_t since, int64_t *orders,
                         int64_t *failed, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT (SELECT count(*) FROM acme_orders WHERE account_id = ?1 "
                               "AND created_at >= ?2 AND replaces = ''), (SELECT count(*) FROM "
                               "acme_authzs WHERE account_id = ?1 AND chall_status = 'invalid' "
                               "AND updated_at >= ?2)",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, account);
        sqlite3_bind_int64(st, 2, since);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
                *orders = sqlite3_column_int64(st, 0);
                *failed = sqlite3_column_int64(st, 1);
        } else {
                rc = sq_err(DB(s), r, ei, "counting ACME orders");
        }
        sq_done(s, st);
        return rc;
}

enum qerr sq_acme_cert_owner(struct store *s, const char *serial, int64_t *cert_id,
                             int64_t *tenant_id, int64_t *account_id, struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT c.id, c.tenant_id, (SELECT a.account_id FROM acme_orders a "
                               "JOIN orders o ON o.id = a.order_id WHERE o.certificate_id = c.id "
                               "LIMIT 1) FROM certificates c WHERE c.serial = ? LIMIT 1",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
                *cert_id = sqlite3_column_int64(st, 0);
                *tenant_id = sqlite3_column_int64(st, 1);
                *account_id = sqlite3_column_int64(st, 2);
        } else if (r == SQLITE_DONE) {
                rc =
                    qerr_set(ei, QERR_NOT_FOUND, "no certificate with this serial was issued here");
        } else {
                rc = sq_err(DB(s), r, ei, "finding a certificate");
        }
        sq_done(s, st);
        return rc;
}

enum qerr sq_acme_order_profile(struct store *s, int64_t order_id, char out[32],
                                struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc =
            sq_stmt(s, "SELECT profile FROM acme_orders WHERE order_id = ? LIMIT 1", &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, order_id);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
                const char *p = (const char *)sqlite3_column_text(st, 0);
                snprintf(out, 32, "%s", p ? p : "");
        } else if (r == SQLITE_DONE) {
                rc = qerr_set(ei, QERR_NOT_FOUND, "order %lld is not an ACME order",
                              (long long)order_id);
        } else {
                rc = sq_err(DB(s), r, ei, "reading an ACME order's profile");
        }
        sq_done(s, st);
        return rc;
}

enum qerr sq_acme_replacing(struct store *s, int64_t account, const char *replaces, int64_t *count,
                            struct qerr_info *ei)
{
        sqlite3_stmt *st;
        enum qerr rc = sq_stmt(s,
                               "SELECT count(*) FROM acme_orders a JOIN orders o ON o.id = "
                               "a.order_id WHERE a.account_id = ? AND a.replaces = ? AND "
                               "o.status NOT IN ('failed', 'cancelled')",
                               &st, ei);
        if (rc != QERR_OK)
                return rc;
        sqlite3_bind_int64(st, 1, account);
        sqlite3_bind_text(st, 2, replaces, -1, SQLITE_TRANSIENT);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW)
                *count = sqlite3_column_int64(st, 0);
        else
                rc = sq_err(DB(s), r, ei, "finding replacement orders");
        sq_done(s, st);
        return rc;
}
