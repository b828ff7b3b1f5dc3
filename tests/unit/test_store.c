/*
 * test_store.c - the SQLite backend of store.h, through the ops table.
 *
 * Every test opens a fresh store in its own temporary directory (mkdtemp
 * under /tmp, removed afterwards). Where the interface cannot show a fact
 * (the migrations table, the append-only trigger, the stored reissue row),
 * the test reads the database file with a raw sqlite3 handle. Times are
 * fixed instants; nothing depends on the clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "store/migrations.h"
#include "store/store.h"

#define DAY QTIME_DAY

/* 2026-06-01T00:00:00Z */
static qtime_t now_fixed(void)
{
        return qtime_from_ymd(2026, 6, 1);
}

/* ---- temporary directories ---- */

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void rm_rf(const char *dir)
{
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

struct fx {
        char dir[64];
        struct store *st;
};

static int setup(void **state)
{
        struct fx *fx = calloc(1, sizeof *fx);
        if (!fx)
                return -1;
        snprintf(fx->dir, sizeof fx->dir, "/tmp/quill-store-XXXXXX");
        if (!mkdtemp(fx->dir)) {
                free(fx);
                return -1;
        }
        struct qerr_info ei = {0};
        if (store_open_sqlite(fx->dir, 2000, &fx->st, &ei) != QERR_OK) {
                fprintf(stderr, "store_open_sqlite: %s\n", qerr_message(&ei));
                rm_rf(fx->dir);
                free(fx);
                return -1;
        }
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fx *fx = *state;
        if (fx->st)
                fx->st->ops->close(fx->st);
        rm_rf(fx->dir);
        free(fx);
        return 0;
}

#define OPS(fx) ((fx)->st->ops)

static void must_ok(enum qerr rc, const struct qerr_info *ei)
{
        if (rc != QERR_OK)
                fail_msg("expected ok, got %s: %s", qerr_code(rc), qerr_message(ei));
}

static void begin(struct fx *fx)
{
        struct qerr_info ei = {0};
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
}

static void commit(struct fx *fx)
{
        struct qerr_info ei = {0};
        must_ok(OPS(fx)->commit(fx->st, &ei), &ei);
}

/* Raw handle on the same database file, for facts the interface hides. */
static sqlite3 *raw_open(const struct fx *fx)
{
        char path[128];
        snprintf(path, sizeof path, "%s/quill.db", fx->dir);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        sqlite3_busy_timeout(db, 2000);
        return db;
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
                fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        int64_t v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
}

/* ---- records ---- */

static struct ca_rec make_ca(int64_t parent, const char *alg, const char *key_file)
{
        struct ca_rec c;
        memset(&c, 0, sizeof c);
        c.parent_id = parent;
        c.is_root = parent == 0;
        snprintf(c.key_algorithm, sizeof c.key_algorithm, "%s", alg);
        c.subject = (char *)(parent ? "CN=Quill Issuing CA" : "CN=Quill Root CA");
        c.cert_pem = (char *)"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        c.key_file = (char *)key_file;
        c.not_before = now_fixed() - 10 * DAY;
        c.not_after = now_fixed() + 3650 * DAY;
        return c;
}

static int64_t add_ca(struct fx *fx, int64_t parent, const char *alg, const char *key_file)
{
        struct ca_rec c = make_ca(parent, alg, key_file);
        struct qerr_info ei = {0};
        begin(fx);
        must_ok(OPS(fx)->ca_insert(fx->st, &c, &ei), &ei);
        commit(fx);
        assert_true(c.id > 0);
        return c.id;
}

/* Root ec256 plus issuing ec256 and rsa2048 CAs; returns the ec256 issuing
 * CA's id and sets *other to the rsa2048 one. */
static int64_t seed_cas(struct fx *fx, int64_t *other)
{
        int64_t root = add_ca(fx, 0, "ec256", "keys/root-ec256.key");
        int64_t a = add_ca(fx, root, "ec256", "keys/issuing-ec256.key");
        int64_t b = add_ca(fx, root, "rsa2048", "keys/issuing-rsa2048.key");
        if (other)
                *other = b;
        return a;
}

static char *names_a[] = {"example.com", "www.example.com", "*.api.example.com"};

/* An issued certificate of CA `ca` (parent: 0 unless a reissue). The
 * strings point at static data: do not free. */
static struct cert_rec make_cert(int64_t ca, int64_t parent, const char *serial)
{
        struct cert_rec c;
        memset(&c, 0, sizeof c);
        c.ca_id = ca;
        c.parent_id = parent;
        snprintf(c.serial, sizeof c.serial, "%s", serial);
        c.names = names_a;
        c.nnames = 1;
        c.not_before = now_fixed() - 10 * DAY;
        c.not_after = now_fixed() + 80 * DAY;
        snprintf(c.key_algorithm, sizeof c.key_algorithm, "ec256");
        c.profile = PROFILE_DV;
        c.origin = ca ? ORIGIN_ISSUED : ORIGIN_UPLOADED;
        c.status = CERT_ISSUED;
        c.created_at = now_fixed() - 10 * DAY;
        c.revoke_reason = -1;
        c.issuer = (char *)"CN=Quill Issuing CA";
        c.cert_pem = (char *)"-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----\n";
        c.chain_pem = (char *)"-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
        c.csr_pem = ca ? (char *)"-----BEGIN CERTIFICATE REQUEST-----\nCSR\n-----END "
                                 "CERTIFICATE REQUEST-----\n"
                       : NULL;
        return c;
}

/* Two-phase issuance (migration 008): an issued certificate's serial is
 * reserved first (inside the caller's transaction); a serial reserved
 * already is fine. */
static void reserve_for(struct fx *fx, const struct cert_rec *c)
{
        if (c->origin != ORIGIN_ISSUED)
                return;
        struct serial_rec r;
        memset(&r, 0, sizeof r);
        snprintf(r.serial, sizeof r.serial, "%s", c->serial);
        r.ca_id = c->ca_id;
        r.tenant_id = 1;
        snprintf(r.purpose, sizeof r.purpose, "certificate");
        r.profile = c->profile;
        snprintf(r.key_algorithm, sizeof r.key_algorithm, "%s", c->key_algorithm);
        r.reserved_at = c->created_at;
        struct qerr_info ei = {0};
        enum qerr rc = OPS(fx)->serial_reserve(fx->st, &r, &ei);
        if (rc != QERR_SERIAL_TAKEN)
                must_ok(rc, &ei);
}

static int64_t add_cert(struct fx *fx, struct cert_rec *c)
{
        struct qerr_info ei = {0};
        begin(fx);
        reserve_for(fx, c);
        must_ok(OPS(fx)->cert_insert(fx->st, c, &ei), &ei);
        commit(fx);
        assert_true(c->id > 0);
        return c->id;
}

/* Inserts a certificate, then gives it `status` and (when at != 0) a
 * revocation time and reason through cert_update. */
static int64_t add_cert_with(struct fx *fx, int64_t ca, int64_t parent, const char *serial,
                             qtime_t not_after, enum cert_status status, qtime_t revoked_at,
                             int reason)
{
        struct cert_rec c = make_cert(ca, parent, serial);
        c.not_after = not_after;
        c.not_before = not_after - 90 * DAY;
        int64_t id = add_cert(fx, &c);
        if (status != CERT_ISSUED || revoked_at) {
                struct qerr_info ei = {0};
                c.status = status;
                c.revoked_at = revoked_at;
                c.revoke_reason = revoked_at ? reason : -1;
                begin(fx);
                must_ok(OPS(fx)->cert_update(fx->st, &c, &ei), &ei);
                commit(fx);
        }
        return id;
}

/* Every certificate (deleted ones left out), oldest first. */
static enum qerr list_certs(struct fx *fx, struct cert_rec ***v, size_t *n, struct qerr_info *ei)
{
        struct cert_query q = {.origin = -1, .limit = 10000, .now = 1};
        bool more = false;
        enum qerr rc = OPS(fx)->cert_page(fx->st, &q, v, n, &more, ei);
        for (size_t i = 0; rc == QERR_OK && i < *n / 2; i++) {
                struct cert_rec *t = (*v)[i];
                (*v)[i] = (*v)[*n - 1 - i];
                (*v)[*n - 1 - i] = t;
        }
        return rc;
}

static struct cert_rec *get_cert(struct fx *fx, int64_t id)
{
        struct cert_rec *c = NULL;
        struct qerr_info ei = {0};
        must_ok(OPS(fx)->cert_get(fx->st, 0, id, &c, &ei), &ei);
        assert_non_null(c);
        return c;
}

/* ---- opening ---- */

static void test_open_fresh_store_is_empty(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        struct ca_rec **cas = NULL;
        struct cert_rec **certs = NULL;
        size_t n = 99;
        must_ok(OPS(fx)->ca_list(fx->st, &cas, &n, &ei), &ei);
        assert_int_equal(n, 0);
        store_free_cas(cas, n);
        n = 99;
        must_ok(list_certs(fx, &certs, &n, &ei), &ei);
        assert_int_equal(n, 0);
        store_free_certs(certs, n);
        assert_string_equal(OPS(fx)->name, "sqlite");

        sqlite3 *db = raw_open(fx);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_migrations"),
                         quill_migration_count);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                     "AND name IN ('cas', 'certificates', 'reissues', "
                                     "'revocations', 'events', 'crls')"),
                         6);
        sqlite3_close(db);
}

static void test_open_twice_runs_migrations_once(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        /* a second handle while the first is open, then a reopen after close */
        struct store *two = NULL;
        must_ok(store_open_sqlite(fx->dir, 2000, &two, &ei), &ei);
        two->ops->close(two);
        fx->st->ops->close(fx->st);
        fx->st = NULL;
        must_ok(store_open_sqlite(fx->dir, 2000, &fx->st, &ei), &ei);

        sqlite3 *db = raw_open(fx);
        assert_true(quill_migration_count >= 2);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_migrations"),
                         (int)quill_migration_count);
        assert_int_equal(raw_int(db, "SELECT count(DISTINCT version) FROM schema_migrations"),
                         (int)quill_migration_count);
        assert_int_equal(raw_int(db, "SELECT min(version) FROM schema_migrations"), 1);
        sqlite3_close(db);
}

static void test_open_missing_data_dir(void **state)
{
        struct fx *fx = *state;
        char missing[128];
        snprintf(missing, sizeof missing, "%s/no/such/dir", fx->dir);
        struct store *st = NULL;
        struct qerr_info ei = {0};
        assert_int_equal(store_open_sqlite(missing, 50, &st, &ei), QERR_DATA_DIR);
        assert_int_equal(ei.code, QERR_DATA_DIR);
        assert_null(st);
        assert_true(strlen(qerr_message(&ei)) > 0);
}

/* ---- CAs ---- */

static void assert_ca_equal(const struct ca_rec *got, const struct ca_rec *want)
{
        assert_int_equal(got->id, want->id);
        assert_int_equal(got->parent_id, want->parent_id);
        assert_int_equal(got->is_root, want->is_root);
        assert_string_equal(got->key_algorithm, want->key_algorithm);
        assert_string_equal(got->subject, want->subject);
        assert_string_equal(got->cert_pem, want->cert_pem);
        assert_string_equal(got->key_file, want->key_file);
        assert_int_equal(got->not_before, want->not_before);
        assert_int_equal(got->not_after, want->not_after);
        assert_int_equal(got->crl_number, 0);
}

static void test_ca_insert_get_list(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        struct ca_rec root = make_ca(0, "ec256", "keys/root.key");
        begin(fx);
        must_ok(OPS(fx)->ca_insert(fx->st, &root, &ei), &ei);
        struct ca_rec iss = make_ca(root.id, "ec256", "keys/issuing.key");
        must_ok(OPS(fx)->ca_insert(fx->st, &iss, &ei), &ei);
        commit(fx);
        assert_true(root.id > 0);
        assert_true(iss.id > root.id);

        struct ca_rec *got = NULL;
        must_ok(OPS(fx)->ca_get(fx->st, iss.id, &got, &ei), &ei);
        assert_ca_equal(got, &iss);
        assert_false(got->is_root);
        ca_rec_free(got);
        got = NULL;
        must_ok(OPS(fx)->ca_get(fx->st, root.id, &got, &ei), &ei);
        assert_ca_equal(got, &root);
        assert_true(got->is_root);
        ca_rec_free(got);

        struct ca_rec **v = NULL;
        size_t n = 0;
        must_ok(OPS(fx)->ca_list(fx->st, &v, &n, &ei), &ei);
        assert_int_equal(n, 2);
        assert_ca_equal(v[0], &root);
        assert_ca_equal(v[1], &iss);
        store_free_cas(v, n);

        got = NULL;
        assert_int_equal(OPS(fx)->ca_get(fx->st, 999, &got, &ei), QERR_NOT_FOUND);
        assert_int_equal(ei.code, QERR_NOT_FOUND);
        assert_null(got);
}

static void test_ca_second_issuing_same_algorithm(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        int64_t root = add_ca(fx, 0, "ec256", "keys/root.key");
        int64_t first = add_ca(fx, root, "ec256", "keys/issuing-1.key");

        struct ca_rec dup = make_ca(root, "ec256", "keys/issuing-2.key");
        begin(fx);
        assert_int_equal(OPS(fx)->ca_insert(fx->st, &dup, &ei), QERR_CA_EXISTS);
        assert_int_equal(ei.code, QERR_CA_EXISTS);
        assert_true(ei.msg[0] != '\0');
        assert_non_null(strstr(qerr_message(&ei), "ec256"));
        OPS(fx)->rollback(fx->st);

        /* another key type is a different CA */
        int64_t rsa = add_ca(fx, root, "rsa2048", "keys/issuing-rsa.key");
        assert_true(rsa > first);

        struct ca_rec **v = NULL;
        size_t n = 0;
        must_ok(OPS(fx)->ca_list(fx->st, &v, &n, &ei), &ei);
        assert_int_equal(n, 3);
        assert_int_equal(v[1]->id, first);
        assert_string_equal(v[1]->key_file, "keys/issuing-1.key");
        store_free_cas(v, n);
}

static void test_ca_next_crl_number(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        int64_t other = 0;
        int64_t ca = seed_cas(fx, &other);
        int64_t num = 0;
        begin(fx);
        for (int64_t want = 1; want <= 3; want++) {
                must_ok(OPS(fx)->ca_next_crl_number(fx->st, ca, &num, &ei), &ei);
                assert_int_equal(num, want);
        }
        must_ok(OPS(fx)->ca_next_crl_number(fx->st, other, &num, &ei), &ei);
        assert_int_equal(num, 1);
        assert_int_equal(OPS(fx)->ca_next_crl_number(fx->st, 999, &num, &ei), QERR_NOT_FOUND);
        commit(fx);

        struct ca_rec *got = NULL;
        must_ok(OPS(fx)->ca_get(fx->st, ca, &got, &ei), &ei);
        assert_int_equal(got->crl_number, 3);
        ca_rec_free(got);
}

/* ---- certificates ---- */

static void assert_cert_equal(const struct cert_rec *got, const struct cert_rec *want)
{
        assert_int_equal(got->id, want->id);
        assert_int_equal(got->ca_id, want->ca_id);
        assert_int_equal(got->parent_id, want->parent_id);
        assert_string_equal(got->serial, want->serial);
        assert_int_equal(got->nnames, want->nnames);
        for (size_t i = 0; i < want->nnames; i++)
                assert_string_equal(got->names[i], want->names[i]);
        assert_int_equal(got->not_before, want->not_before);
        assert_int_equal(got->not_after, want->not_after);
        assert_string_equal(got->key_algorithm, want->key_algorithm);
        assert_int_equal(got->profile, want->profile);
        assert_int_equal(got->origin, want->origin);
        assert_int_equal(got->status, want->status);
        assert_int_equal(got->free_cert, want->free_cert);
        assert_int_equal(got->created_at, want->created_at);
        assert_int_equal(got->revoked_at, 0);
        assert_int_equal(got->revoke_reason, -1);
        assert_string_equal(got->issuer, want->issuer);
        assert_string_equal(got->cert_pem, want->cert_pem);
        assert_string_equal(got->chain_pem, want->chain_pem);
        if (want->csr_pem)
                assert_string_equal(got->csr_pem, want->csr_pem);
        else
                assert_null(got->csr_pem);
        assert_int_equal(got->key_blob_len, want->key_blob_len);
        if (want->key_blob_len)
                assert_memory_equal(got->key_blob, want->key_blob, want->key_blob_len);
        else
                assert_null(got->key_blob);
        assert_int_equal(got->key_protection, want->key_protection);
}

static uint8_t blob_a[] = {0x00, 0x01, 0xff, 0x00, 0x7f, 0x80, 'k', 'e', 'y', 0x00};

struct cert_case {
        const char *name;
        enum cert_origin origin;
        enum cert_profile profile;
        enum cert_status status;
        size_t nnames;
        bool free_cert;
        bool with_blob;
        enum key_protection prot;
};

static const struct cert_case cert_cases[] = {
    {"issued_dv_free_data_key", ORIGIN_ISSUED, PROFILE_DV, CERT_ISSUED, 3, true, true,
     KEYPROT_DATA_KEY},
    {"issued_private_password", ORIGIN_ISSUED, PROFILE_PRIVATE, CERT_REISSUING, 2, false, true,
     KEYPROT_PASSWORD},
    {"issued_ev_no_key", ORIGIN_ISSUED, PROFILE_EV, CERT_REVOCATION_PENDING, 1, false, false,
     KEYPROT_NONE},
    {"uploaded_ov_no_names", ORIGIN_UPLOADED, PROFILE_OV, CERT_ISSUED, 0, false, false,
     KEYPROT_NONE},
    {"uploaded_with_key", ORIGIN_UPLOADED, PROFILE_DV, CERT_ISSUED, 1, false, true,
     KEYPROT_DATA_KEY},
};

static void test_cert_round_trip(void **state)
{
        struct fx *fx = *state;
        int64_t ca = seed_cas(fx, NULL);
        for (size_t i = 0; i < sizeof cert_cases / sizeof cert_cases[0]; i++) {
                const struct cert_case *k = &cert_cases[i];
                char serial[41];
                snprintf(serial, sizeof serial, "%040zx", i + 0xabc);
                struct cert_rec c = make_cert(k->origin == ORIGIN_ISSUED ? ca : 0, 0, serial);
                c.profile = k->profile;
                c.status = k->status;
                c.nnames = k->nnames;
                c.free_cert = k->free_cert;
                c.not_before = qtime_from_ymd(2000, 2, 29) + (qtime_t)i;
                c.not_after = qtime_from_ymd(2038, 1, 19) + 3 * 3600 + 14 * 60 + 8;
                c.created_at = now_fixed() + (qtime_t)i;
                if (k->with_blob) {
                        c.key_blob = blob_a;
                        c.key_blob_len = sizeof blob_a;
                }
                c.key_protection = k->prot;
                if (k->origin == ORIGIN_UPLOADED)
                        c.issuer = (char *)"CN=Some Other CA, O=Elsewhere";
                add_cert(fx, &c);
                struct cert_rec *got = get_cert(fx, c.id);
                print_message("case %s\n", k->name);
                assert_cert_equal(got, &c);
                cert_rec_free(got);
        }
        struct cert_rec *c = NULL;
        struct qerr_info ei = {0};
        assert_int_equal(OPS(fx)->cert_get(fx->st, 0, 4242, &c, &ei), QERR_NOT_FOUND);
        assert_int_equal(ei.code, QERR_NOT_FOUND);
        assert_null(c);
}

static void test_cert_list_excludes_deleted(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        int64_t ca = seed_cas(fx, NULL);
        qtime_t na = now_fixed() + 50 * DAY;
        int64_t a = add_cert_with(fx, ca, 0, "0a", na, CERT_ISSUED, 0, 0);
        int64_t b = add_cert_with(fx, ca, 0, "0b", na, CERT_DELETED, now_fixed(), 4);
        int64_t c = add_cert_with(fx, ca, 0, "0c", na, CERT_REVOKED, now_fixed(), 1);
        int64_t d = add_cert_with(fx, ca, 0, "0d", na, CERT_DELETED, 0, 0);

        struct cert_rec **v = NULL;
        size_t n = 0;
        must_ok(list_certs(fx, &v, &n, &ei), &ei);
        assert_int_equal(n, 2);
        assert_int_equal(v[0]->id, a);
        assert_int_equal(v[1]->id, c);
        assert_int_equal(v[1]->status, CERT_REVOKED);
        store_free_certs(v, n);

        /* still readable one by one */
        struct cert_rec *got = get_cert(fx, b);
        assert_int_equal(got->status, CERT_DELETED);
        cert_rec_free(got);
        got = get_cert(fx, d);
        assert_int_equal(got->status, CERT_DELETED);
        cert_rec_free(got);
}

static void test_cert_duplicate_issued_serial(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        int64_t ca = seed_cas(fx, NULL);
        struct cert_rec first = make_cert(ca, 0, "5e7a11");
        first.nnames = 2;
        add_cert(fx, &first);

        struct cert_rec dup = make_cert(ca, 0, "5e7a11");
        dup.nnames = 3;
        dup.not_after = now_fixed() + 5 * DAY;
        dup.profile = PROFILE_EV;
        begin(fx);
        enum qerr rc = OPS(fx)->cert_insert(fx->st, &dup, &ei);
        assert_int_not_equal(rc, QERR_OK);
        assert_int_equal(ei.code, rc);
        assert_true(strlen(qerr_message(&ei)) > 0);
        OPS(fx)->rollback(fx->st);

        struct cert_rec *got = get_cert(fx, first.id);
        assert_cert_equal(got, &first);
        cert_rec_free(got);
        struct cert_rec **v = NULL;
        size_t n = 0;
        must_ok(list_certs(fx, &v, &n, &ei), &ei);
        assert_int_equal(n, 1);
        store_free_certs(v, n);

        bool exists = false;
        must_ok(OPS(fx)->cert_serial_exists(fx->st, "5e7a11", &exists, &ei), &ei);
        assert_true(exists);
        must_ok(OPS(fx)->cert_serial_exists(fx->st, "5e7a12", &exists, &ei), &ei);
        assert_false(exists);
}

static void test_cert_update(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        int64_t ca = seed_cas(fx, NULL);
        struct cert_rec c = make_cert(ca, 0, "0123");
        c.key_blob = blob_a;
        c.key_blob_len = sizeof blob_a;
        c.key_protection = KEYPROT_DATA_KEY;
        add_cert(fx, &c);

        qtime_t at = now_fixed() + 3600;
        c.status = CERT_REVOKED;
        c.revoked_at = at;
        c.revoke_reason = REASON_KEY_COMPROMISE;
        c.key_blob = NULL;
        c.key_blob_len = 0;
        c.key_protection = KEYPROT_NONE;
        begin(fx);
        must_ok(OPS(fx)->cert_update(fx->st, &c, &ei), &ei);
        commit(fx);

        struct cert_rec *got = get_cert(fx, c.id);
        assert_int_equal(got->status, CERT_REVOKED);
        assert_int_equal(got->revoked_at, at);
        assert_int_equal(got->revoke_reason, REASON_KEY_COMPROMISE);
        assert_null(got->key_blob);
        assert_int_equal(got->key_blob_len, 0);
        assert_int_equal(got->key_protection, KEYPROT_NONE);
        /* the rest is untouched */
        assert_string_equal(got->serial, "0123");
        assert_int_equal(got->not_after, c.not_after);
        cert_rec_free(got);

        /* reason 0 (unspecified) is a value, not "none" */
        c.status = CERT_DELETED;
        c.revoke_reason = REASON_UNSPECIFIED;
        begin(fx);
        must_ok(OPS(fx)->cert_update(fx->st, &c, &ei), &ei);
        commit(fx);
        got = get_cert(fx, c.id);
        assert_int_equal(got->status, CERT_DELETED);
        assert_int_equal(got->revoked_at, at);
        assert_int_equal(got->revoke_reason, REASON_UNSPECIFIED);
        cert_rec_free(got);
}

static void test_cert_descendants_and_lineage(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        int64_t ca = seed_cas(fx, NULL);
        qtime_t na = now_fixed() + 60 * DAY;
        int64_t a = add_cert_with(fx, ca, 0, "aa", na, CERT_ISSUED, 0, 0);
        int64_t d = add_cert_with(fx, ca, 0, "dd", na, CERT_ISSUED, 0, 0);
        int64_t b = add_cert_with(fx, ca, a, "bb", na, CERT_ISSUED, 0, 0);
        int64_t c = add_cert_with(fx, ca, b, "cc", na, CERT_ISSUED, 0, 0);

        int64_t *ids = NULL;
        size_t n = 0;
        must_ok(OPS(fx)->cert_descendants(fx->st, a, &ids, &n, &ei), &ei);
        assert_int_equal(n, 2);
        assert_int_equal(ids[0], b);
        assert_int_equal(ids[1], c);
        free(ids);

        ids = NULL;
        must_ok(OPS(fx)->cert_descendants(fx->st, b, &ids, &n, &ei), &ei);
        assert_int_equal(n, 1);
        assert_int_equal(ids[0], c);
        free(ids);

        ids = NULL;
        must_ok(OPS(fx)->cert_descendants(fx->st, c, &ids, &n, &ei), &ei);
        assert_int_equal(n, 0);
        free(ids);
        ids = NULL;
        must_ok(OPS(fx)->cert_descendants(fx->st, d, &ids, &n, &ei), &ei);
        assert_int_equal(n, 0);
        free(ids);

        const int64_t chain[] = {a, b, c};
        for (size_t i = 0; i < 3; i++) {
                int cnt = -1;
                must_ok(OPS(fx)->cert_lineage_reissues(fx->st, chain[i], &cnt, &ei), &ei);
                assert_int_equal(cnt, 2);
        }
        int cnt = -1;
        must_ok(OPS(fx)->cert_lineage_reissues(fx->st, d, &cnt, &ei), &ei);
        assert_int_equal(cnt, 0);
}

/* ---- reissues and revocations ---- */

static struct reissue_rec make_reissue(int64_t cert)
{
        struct reissue_rec r;
        memset(&r, 0, sizeof r);
        r.certificate_id = cert;
        snprintf(r.csr_source, sizeof r.csr_source, "generated");
        r.reason = (char *)"key rotation";
        r.registered_domains = (char *)"[\"example.com\"]";
        r.created_at = now_fixed();
        return r;
}

static void test_reissue_in_progress_once(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        int64_t ca = seed_cas(fx, NULL);
        int64_t a = add_cert_with(fx, ca, 0, "aa", now_fixed() + 90 * DAY, CERT_REISSUING, 0, 0);
        int64_t b = add_cert_with(fx, ca, 0, "bb", now_fixed() + 90 * DAY, CERT_ISSUED, 0, 0);

        struct reissue_rec r1 = make_reissue(a);
        begin(fx);
        must_ok(OPS(fx)->reissue_insert(fx->st, &r1, &ei), &ei);
        commit(fx);
        assert_true(r1.id > 0);
        assert_string_equal(r1.status, "in_progress");

        struct reissue_rec r2 = make_reissue(a);
        snprintf(r2.csr_source, sizeof r2.csr_source, "original");
        begin(fx);
        assert_int_equal(OPS(fx)->reissue_insert(fx->st, &r2, &ei), QERR_REISSUE_IN_PROGRESS);
        assert_int_equal(ei.code, QERR_REISSUE_IN_PROGRESS);
        OPS(fx)->rollback(fx->st);

        /* another certificate is independent */
        struct reissue_rec r3 = make_reissue(b);
        begin(fx);
        must_ok(OPS(fx)->reissue_insert(fx->st, &r3, &ei), &ei);
        commit(fx);

        struct reissue_rec *v = NULL;
        size_t n = 0;
        must_ok(OPS(fx)->reissue_active(fx->st, &v, &n, &ei), &ei);
        assert_int_equal(n, 2);
        assert_int_equal(v[0].id, r1.id);
        assert_int_equal(v[0].certificate_id, a);
        assert_string_equal(v[0].status, "in_progress");
        assert_string_equal(v[0].csr_source, "generated");
        assert_string_equal(v[0].reason, "key rotation");
        assert_string_equal(v[0].registered_domains, "[\"example.com\"]");
        assert_int_equal(v[0].created_at, now_fixed());
        assert_int_equal(v[1].id, r3.id);
        assert_int_equal(v[1].certificate_id, b);
        store_free_reissues(v, n);
}

static void test_reissue_finish_clears_active(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        int64_t ca = seed_cas(fx, NULL);
        int64_t a = add_cert_with(fx, ca, 0, "aa", now_fixed() + 90 * DAY, CERT_REISSUING, 0, 0);
        int64_t b = add_cert_with(fx, ca, 0, "bb", now_fixed() + 90 * DAY, CERT_REISSUING, 0, 0);
        struct reissue_rec ra = make_reissue(a), rb = make_reissue(b);
        begin(fx);
        must_ok(OPS(fx)->reissue_insert(fx->st, &ra, &ei), &ei);
        must_ok(OPS(fx)->reissue_insert(fx->st, &rb, &ei), &ei);
        commit(fx);

        int64_t na = add_cert_with(fx, ca, a, "a2", now_fixed() + 90 * DAY, CERT_ISSUED, 0, 0);
        begin(fx);
        must_ok(OPS(fx)->reissue_finish(fx->st, ra.id, "done", na, NULL, now_fixed() + 60, &ei),
                &ei);
        must_ok(OPS(fx)->reissue_finish(fx->st, rb.id, "failed", 0, "signer unavailable",
                                        now_fixed() + 61, &ei),
                &ei);
        commit(fx);

        struct reissue_rec *v = NULL;
        size_t n = 99;
        must_ok(OPS(fx)->reissue_active(fx->st, &v, &n, &ei), &ei);
        assert_int_equal(n, 0);
        store_free_reissues(v, n);

        sqlite3 *db = raw_open(fx);
        char sql[160];
        snprintf(sql, sizeof sql,
                 "SELECT new_certificate_id = %lld AND status = 'done' AND finished_at = %lld "
                 "AND failure IS NULL FROM reissues WHERE id = %lld",
                 (long long)na, (long long)(now_fixed() + 60), (long long)ra.id);
        assert_int_equal(raw_int(db, sql), 1);
        snprintf(sql, sizeof sql,
                 "SELECT new_certificate_id IS NULL AND status = 'failed' AND failure = "
                 "'signer unavailable' FROM reissues WHERE id = %lld",
                 (long long)rb.id);
        assert_int_equal(raw_int(db, sql), 1);
        sqlite3_close(db);

        /* a finished reissue no longer blocks a new one */
        struct reissue_rec again = make_reissue(a);
        begin(fx);
        must_ok(OPS(fx)->reissue_insert(fx->st, &again, &ei), &ei);
        commit(fx);
}

static void test_revocation_once(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        int64_t ca = seed_cas(fx, NULL);
        int64_t a = add_cert_with(fx, ca, 0, "aa", now_fixed() + 90 * DAY, CERT_ISSUED, 0, 0);
        int64_t b = add_cert_with(fx, ca, a, "bb", now_fixed() + 90 * DAY, CERT_ISSUED, 0, 0);

        int64_t id1 = 0, id2 = 0;
        begin(fx);
        must_ok(OPS(fx)->revocation_insert(fx->st, 1, a, 1, 0, "done", now_fixed(), &id1, &ei),
                &ei);
        must_ok(OPS(fx)->revocation_insert(fx->st, 1, b, 1, id1, "done", now_fixed(), &id2, &ei),
                &ei);
        commit(fx);
        assert_true(id1 > 0);
        assert_true(id2 > id1);

        int64_t id3 = -7;
        begin(fx);
        assert_int_equal(
            OPS(fx)->revocation_insert(fx->st, 1, a, 4, 0, "done", now_fixed() + 5, &id3, &ei),
            QERR_REVOKE_ALREADY);
        assert_int_equal(ei.code, QERR_REVOKE_ALREADY);
        assert_int_equal(id3, -7);
        OPS(fx)->rollback(fx->st);

        sqlite3 *db = raw_open(fx);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM revocations"), 2);
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT cascade_from FROM revocations WHERE id = %lld",
                 (long long)id2);
        assert_int_equal(raw_int(db, sql), id1);
        sqlite3_close(db);
}

/* ---- events ---- */

static struct event_rec make_event(int64_t obj, qtime_t at, const char *from, const char *to,
                                   const char *reason)
{
        struct event_rec e;
        memset(&e, 0, sizeof e);
        snprintf(e.object_type, sizeof e.object_type, "certificate");
        e.object_id = obj;
        snprintf(e.actor, sizeof e.actor, "cli:alice");
        e.at = at;
        snprintf(e.from_status, sizeof e.from_status, "%s", from);
        snprintf(e.to_status, sizeof e.to_status, "%s", to);
        e.reason = (char *)reason;
        return e;
}

static void test_event_add_list_order(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        /* `at` deliberately not increasing: the order is the order of writing */
        struct event_rec in[] = {
            make_event(7, now_fixed() + 30, "", "issued", NULL),
            make_event(7, now_fixed() + 10, "issued", "revocation_pending", "keyCompromise"),
            make_event(8, now_fixed(), "", "issued", NULL),
            make_event(7, now_fixed() + 20, "revocation_pending", "revoked", "done"),
        };
        begin(fx);
        for (size_t i = 0; i < 4; i++)
                must_ok(OPS(fx)->event_add(fx->st, &in[i], &ei), &ei);
        commit(fx);

        struct event_rec *v = NULL;
        size_t n = 0;
        must_ok(OPS(fx)->event_list(fx->st, 0, "certificate", 7, &v, &n, &ei), &ei);
        assert_int_equal(n, 3);
        const size_t want[] = {0, 1, 3};
        for (size_t i = 0; i < 3; i++) {
                const struct event_rec *w = &in[want[i]];
                assert_true(v[i].id > 0);
                if (i)
                        assert_true(v[i].id > v[i - 1].id);
                assert_string_equal(v[i].object_type, "certificate");
                assert_int_equal(v[i].object_id, 7);
                assert_string_equal(v[i].actor, "cli:alice");
                assert_int_equal(v[i].at, w->at);
                assert_string_equal(v[i].from_status, w->from_status);
                assert_string_equal(v[i].to_status, w->to_status);
                if (w->reason)
                        assert_string_equal(v[i].reason, w->reason);
                else
                        assert_null(v[i].reason);
        }
        store_free_events(v, n);

        v = NULL;
        must_ok(OPS(fx)->event_list(fx->st, 0, "ca", 7, &v, &n, &ei), &ei);
        assert_int_equal(n, 0);
        store_free_events(v, n);
}

static void test_events_append_only(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        struct event_rec e = make_event(1, now_fixed(), "", "issued", "first");
        begin(fx);
        must_ok(OPS(fx)->event_add(fx->st, &e, &ei), &ei);
        commit(fx);

        sqlite3 *db = raw_open(fx);
        char *err = NULL;
        assert_int_not_equal(
            sqlite3_exec(db, "UPDATE events SET to_status = 'revoked'", NULL, NULL, &err),
            SQLITE_OK);
        assert_non_null(err);
        assert_non_null(strstr(err, "append-only"));
        sqlite3_free(err);
        err = NULL;
        assert_int_not_equal(sqlite3_exec(db, "DELETE FROM events", NULL, NULL, &err), SQLITE_OK);
        sqlite3_free(err);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM events WHERE to_status = 'issued' "
                                     "AND reason = 'first'"),
                         1);
        sqlite3_close(db);
}

/* ---- transactions ---- */

static void test_rollback_discards(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        int64_t ca = seed_cas(fx, NULL);
        begin(fx);
        struct ca_rec extra = make_ca(ca, "sm2", "keys/sm2.key");
        must_ok(OPS(fx)->ca_insert(fx->st, &extra, &ei), &ei);
        struct cert_rec c = make_cert(ca, 0, "70");
        reserve_for(fx, &c);
        must_ok(OPS(fx)->cert_insert(fx->st, &c, &ei), &ei);
        struct event_rec e = make_event(c.id, now_fixed(), "", "issued", NULL);
        must_ok(OPS(fx)->event_add(fx->st, &e, &ei), &ei);
        OPS(fx)->rollback(fx->st);
        OPS(fx)->rollback(fx->st); /* a second rollback is harmless */

        struct ca_rec **cas = NULL;
        size_t n = 0;
        must_ok(OPS(fx)->ca_list(fx->st, &cas, &n, &ei), &ei);
        assert_int_equal(n, 3);
        store_free_cas(cas, n);
        struct cert_rec *got = NULL;
        assert_int_equal(OPS(fx)->cert_get(fx->st, 0, c.id, &got, &ei), QERR_NOT_FOUND);
        struct event_rec *ev = NULL;
        must_ok(OPS(fx)->event_list(fx->st, 0, "certificate", c.id, &ev, &n, &ei), &ei);
        assert_int_equal(n, 0);
        store_free_events(ev, n);

        /* the handle is usable again */
        begin(fx);
        reserve_for(fx, &c);
        must_ok(OPS(fx)->cert_insert(fx->st, &c, &ei), &ei);
        commit(fx);
        got = get_cert(fx, c.id);
        cert_rec_free(got);
}

static double ms_since(const struct timespec *t0)
{
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        return (double)(t1.tv_sec - t0->tv_sec) * 1000.0 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void test_begin_busy(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        struct store *waiter = NULL;
        must_ok(store_open_sqlite(fx->dir, 50, &waiter, &ei), &ei);

        begin(fx); /* the holder takes the write lock */
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        enum qerr rc = waiter->ops->begin(waiter, &ei);
        double waited = ms_since(&t0);
        assert_int_equal(rc, QERR_BUSY);
        assert_int_equal(ei.code, QERR_BUSY);
        assert_true(strlen(qerr_message(&ei)) > 0);
        if (waited < 40.0 || waited > 1500.0)
                fail_msg("waited %.1f ms for a 50 ms busy timeout", waited);
        waiter->ops->rollback(waiter); /* nothing to roll back: harmless */

        OPS(fx)->rollback(fx->st);
        qerr_clear(&ei);
        must_ok(waiter->ops->begin(waiter, &ei), &ei);
        struct ca_rec root = make_ca(0, "ec384", "keys/root-384.key");
        must_ok(waiter->ops->ca_insert(waiter, &root, &ei), &ei);
        must_ok(waiter->ops->commit(waiter, &ei), &ei);
        waiter->ops->close(waiter);

        struct ca_rec *got = NULL;
        must_ok(OPS(fx)->ca_get(fx->st, root.id, &got, &ei), &ei);
        assert_string_equal(got->key_algorithm, "ec384");
        ca_rec_free(got);
}

/* An older database with data in it is upgraded in place: the schema of
 * migration 3 with an approved organisation (whose row points at a review),
 * then the store opens it and applies the rest (4 rebuilds reviews). */
static void test_upgrade_keeps_data(void **state)
{
        (void)state;
        char dir[64];
        snprintf(dir, sizeof dir, "/tmp/quill-upgrade-XXXXXX");
        assert_non_null(mkdtemp(dir));
        char path[128];
        snprintf(path, sizeof path, "%s/quill.db", dir);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "PRAGMA foreign_keys = ON; CREATE TABLE "
                                      "schema_migrations (version INTEGER PRIMARY KEY, "
                                      "name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        for (unsigned i = 0; i < quill_migration_count && quill_migrations[i].version <= 3; i++) {
                if (sqlite3_exec(db, quill_migrations[i].sql, NULL, NULL, NULL) != SQLITE_OK)
                        fail_msg("migration %d: %s", quill_migrations[i].version,
                                 sqlite3_errmsg(db));
                char ins[128];
                snprintf(ins, sizeof ins, "INSERT INTO schema_migrations VALUES (%d, 'old', 0)",
                         quill_migrations[i].version);
                assert_int_equal(sqlite3_exec(db, ins, NULL, NULL, NULL), SQLITE_OK);
        }
        assert_int_equal(
            sqlite3_exec(db,
                         "INSERT INTO orders (purpose, status, profile, key_algorithm, deadline, "
                         "created_at, updated_at) VALUES ('issue', 'issued', 'ov', 'ec256', 1, 1, "
                         "1);"
                         "INSERT INTO reviews (order_id, kind, status, detail, created_at) VALUES "
                         "(1, 'organization', 'approved', 'Acme', 1);"
                         "INSERT INTO organizations VALUES ('h', 'Acme', 1, 1);",
                         NULL, NULL, NULL),
            SQLITE_OK);
        sqlite3_close(db);

        struct store *st = NULL;
        struct qerr_info ei = {0};
        if (store_open_sqlite(dir, 2000, &st, &ei) != QERR_OK)
                fail_msg("upgrade failed: %s", qerr_message(&ei));
        struct review_rec *v = NULL;
        size_t n = 0;
        assert_int_equal(st->ops->review_list(st, 0, NULL, &v, &n, &ei), QERR_OK);
        assert_int_equal(n, 1);
        assert_int_equal(v[0].order_id, 1);
        assert_int_equal(v[0].revocation_id, 0);
        assert_string_equal(v[0].kind, "organization");
        bool approved = false;
        assert_int_equal(st->ops->org_is_approved(st, 1, "h", 0, &approved, &ei), QERR_OK);
        assert_true(approved);
        store_free_reviews(v, n);
        st->ops->close(st);

        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(raw_int(db, "SELECT max(version) FROM schema_migrations"),
                         (int64_t)quill_migrations[quill_migration_count - 1].version);
        /* foreign keys are on again: a dangling review id is refused */
        assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL), SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(db, "INSERT INTO organizations VALUES ('x', 'i', 99, 1)",
                                          NULL, NULL, NULL),
                             SQLITE_OK);
        sqlite3_close(db);
        rm_rf(dir);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
        qlog_set_level(QLOG_WARN); /* no "migration applied" lines */
        const struct CMUnitTest tests[] = {
            T(test_open_fresh_store_is_empty),
            T(test_open_twice_runs_migrations_once),
            T(test_open_missing_data_dir),
            T(test_ca_insert_get_list),
            T(test_ca_second_issuing_same_algorithm),
            T(test_ca_next_crl_number),
            T(test_cert_round_trip),
            T(test_cert_list_excludes_deleted),
            T(test_cert_duplicate_issued_serial),
            T(test_cert_update),
            T(test_cert_descendants_and_lineage),
            T(test_reissue_in_progress_once),
            T(test_reissue_finish_clears_active),
            T(test_revocation_once),
            T(test_event_add_list_order),
            T(test_events_append_only),
            T(test_rollback_discards),
            T(test_begin_busy),
            cmocka_unit_test(test_upgrade_keeps_data),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
