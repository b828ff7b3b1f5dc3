/*
 * test_store_serials.c - the serials table of the SQLite backend (migration
 * 008, two-phase issuance) through the ops table: a reservation round
 * trip, a serial used once, one signature in flight per order and per
 * reissue, an issued certificate only on a reserved serial (which storing
 * it marks issued), void and hand-over, rows never deleted, a certificate
 * stored twice reported as recovered, and the migration's backfill of the
 * serials of certificates issued before it. Every test opens a fresh store
 * in its own temporary directory.
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

#include "base/log.h"
#include "store/migrations.h"
#include "store/store.h"

#define T0 ((qtime_t)1780000000)

struct fx {
        char dir[64];
        struct store *st;
        int64_t ca;
        int64_t order, order2;
};

#define OPS(fx) ((fx)->st->ops)

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void must_ok(enum qerr rc, const struct qerr_info *ei)
{
        if (rc != QERR_OK)
                fail_msg("expected ok, got %s: %s", qerr_code(rc), qerr_message(ei));
}

static void raw_exec(const struct fx *fx, const char *sql)
{
        char path[128];
        snprintf(path, sizeof path, "%s/quill.db", fx->dir);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 2000);
        char *err = NULL;
        if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
                fail_msg("%s: %s", sql, err ? err : "?");
        sqlite3_close(db);
}

/* The result of one raw statement (SQLITE_OK or the error). */
static int raw_try(const struct fx *fx, const char *sql)
{
        char path[128];
        snprintf(path, sizeof path, "%s/quill.db", fx->dir);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        sqlite3_close(db);
        return rc;
}

static int setup(void **state)
{
        struct fx *fx = calloc(1, sizeof *fx);
        snprintf(fx->dir, sizeof fx->dir, "/tmp/quill-serials-XXXXXX");
        assert_non_null(mkdtemp(fx->dir));
        struct qerr_info ei = {0};
        must_ok(store_open_sqlite(fx->dir, 2000, &fx->st, &ei), &ei);
        struct ca_rec root = {.is_root = true,
                              .key_algorithm = "ec384",
                              .subject = (char *)"CN=Root",
                              .cert_pem = (char *)"PEM",
                              .key_file = (char *)"ca/root.key",
                              .not_before = T0,
                              .not_after = T0 + 3650 * QTIME_DAY};
        struct ca_rec iss = root;
        iss.is_root = false;
        snprintf(iss.key_algorithm, sizeof iss.key_algorithm, "ec256");
        iss.key_file = (char *)"ca/issuing.key";
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
        must_ok(OPS(fx)->ca_insert(fx->st, &root, &ei), &ei);
        iss.parent_id = root.id;
        must_ok(OPS(fx)->ca_insert(fx->st, &iss, &ei), &ei);
        must_ok(OPS(fx)->commit(fx->st, &ei), &ei);
        fx->ca = iss.id;
        raw_exec(fx, "INSERT INTO orders (id, status, profile, key_algorithm, deadline, "
                     "created_at, updated_at) VALUES (1, 'issuing', 'dv', 'ec256', 1, 1, 1), "
                     "(2, 'issuing', 'dv', 'ec256', 1, 1, 1)");
        fx->order = 1;
        fx->order2 = 2;
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fx *fx = *state;
        if (fx->st)
                fx->st->ops->close(fx->st);
        nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(fx);
        return 0;
}

static char *names_a[] = {"a.example.com", "b.example.com"};

static struct serial_rec make_res(const struct fx *fx, const char *serial, int64_t order)
{
        struct serial_rec r;
        memset(&r, 0, sizeof r);
        snprintf(r.serial, sizeof r.serial, "%s", serial);
        r.ca_id = fx->ca;
        r.tenant_id = 1;
        snprintf(r.purpose, sizeof r.purpose, "%s", order ? "order" : "certificate");
        r.order_id = order;
        r.profile = PROFILE_DV;
        snprintf(r.key_algorithm, sizeof r.key_algorithm, "ec256");
        r.names = names_a;
        r.nnames = 2;
        r.free_cert = true;
        r.csr_pem = (char *)"CSR";
        r.key_blob = (uint8_t *)"sealed-key";
        r.key_blob_len = 10;
        r.key_protection = KEYPROT_DATA_KEY;
        snprintf(r.owner, sizeof r.owner, "boot/123/456");
        r.reserved_at = T0;
        return r;
}

static enum qerr reserve(struct fx *fx, struct serial_rec *r, struct qerr_info *ei)
{
        must_ok(OPS(fx)->begin(fx->st, ei), ei);
        enum qerr rc = OPS(fx)->serial_reserve(fx->st, r, ei);
        if (rc == QERR_OK)
                must_ok(OPS(fx)->commit(fx->st, ei), ei);
        else
                OPS(fx)->rollback(fx->st);
        return rc;
}

static struct cert_rec make_cert(const struct fx *fx, const char *serial)
{
        struct cert_rec c;
        memset(&c, 0, sizeof c);
        c.ca_id = fx->ca;
        c.tenant_id = 1;
        snprintf(c.serial, sizeof c.serial, "%s", serial);
        c.names = names_a;
        c.nnames = 2;
        c.not_before = T0;
        c.not_after = T0 + 90 * QTIME_DAY;
        snprintf(c.key_algorithm, sizeof c.key_algorithm, "ec256");
        c.profile = PROFILE_DV;
        c.origin = ORIGIN_ISSUED;
        c.status = CERT_ISSUED;
        c.created_at = T0 + 5;
        c.revoke_reason = -1;
        c.issuer = (char *)"CN=Issuing";
        c.cert_pem = (char *)"LEAF";
        c.chain_pem = (char *)"CHAIN";
        return c;
}

static enum qerr store_cert(struct fx *fx, struct cert_rec *c, struct qerr_info *ei)
{
        must_ok(OPS(fx)->begin(fx->st, ei), ei);
        enum qerr rc = OPS(fx)->cert_insert(fx->st, c, ei);
        if (rc == QERR_OK)
                must_ok(OPS(fx)->commit(fx->st, ei), ei);
        else
                OPS(fx)->rollback(fx->st);
        return rc;
}

static void test_reserve_round_trip(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        struct serial_rec r = make_res(fx, "41aa", fx->order);
        must_ok(reserve(fx, &r, &ei), &ei);
        assert_true(r.id > 0);
        struct serial_rec got;
        must_ok(OPS(fx)->serial_get(fx->st, "41aa", &got, &ei), &ei);
        assert_int_equal(got.id, r.id);
        assert_string_equal(got.state, "reserved");
        assert_string_equal(got.purpose, "order");
        assert_int_equal(got.order_id, fx->order);
        assert_int_equal(got.reissue_id, 0);
        assert_int_equal(got.ca_id, fx->ca);
        assert_int_equal(got.profile, PROFILE_DV);
        assert_string_equal(got.key_algorithm, "ec256");
        assert_int_equal(got.nnames, 2);
        assert_string_equal(got.names[1], "b.example.com");
        assert_true(got.free_cert);
        assert_string_equal(got.csr_pem, "CSR");
        assert_int_equal(got.key_blob_len, 10);
        assert_memory_equal(got.key_blob, "sealed-key", 10);
        assert_int_equal(got.key_protection, KEYPROT_DATA_KEY);
        assert_string_equal(got.owner, "boot/123/456");
        assert_int_equal(got.reserved_at, T0);
        assert_int_equal(got.certificate_id, 0);
        serial_rec_clear(&got);
        assert_int_equal(OPS(fx)->serial_get(fx->st, "41ab", &got, &ei), QERR_NOT_FOUND);
        struct serial_rec *v = NULL;
        size_t n = 0;
        must_ok(OPS(fx)->serial_list_reserved(fx->st, &v, &n, &ei), &ei);
        assert_int_equal(n, 1);
        assert_string_equal(v[0].serial, "41aa");
        store_free_serials(v, n);
}

/* A serial is used once, whatever became of it; an order or a reissue has
 * at most one reservation in flight. */
static void test_serial_once_and_one_per_order(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        struct serial_rec a = make_res(fx, "41b1", fx->order);
        must_ok(reserve(fx, &a, &ei), &ei);
        struct serial_rec dup = make_res(fx, "41b1", 0);
        assert_int_equal(reserve(fx, &dup, &ei), QERR_SERIAL_TAKEN);
        struct serial_rec other = make_res(fx, "41b2", fx->order);
        assert_int_equal(reserve(fx, &other, &ei), QERR_ISSUE_IN_PROGRESS);
        struct serial_rec second_order = make_res(fx, "41b3", fx->order2);
        must_ok(reserve(fx, &second_order, &ei), &ei);
        /* the first one was never signed: void, and the order may try again */
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
        must_ok(OPS(fx)->serial_void(fx->st, a.id, T0 + 9, &ei), &ei);
        must_ok(OPS(fx)->commit(fx->st, &ei), &ei);
        must_ok(reserve(fx, &other, &ei), &ei);
        /* a void serial is still used */
        struct serial_rec again = make_res(fx, "41b1", 0);
        assert_int_equal(reserve(fx, &again, &ei), QERR_SERIAL_TAKEN);
        struct serial_rec got;
        must_ok(OPS(fx)->serial_get(fx->st, "41b1", &got, &ei), &ei);
        assert_string_equal(got.state, "void");
        assert_int_equal(got.finished_at, T0 + 9);
        assert_null(got.key_blob); /* dropped with the void */
        assert_null(got.csr_pem);
        serial_rec_clear(&got);
        /* void only once */
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
        assert_int_equal(OPS(fx)->serial_void(fx->st, a.id, T0 + 10, &ei), QERR_NOT_FOUND);
        OPS(fx)->rollback(fx->st);
}

/* An issued certificate needs its reservation; storing it marks the serial
 * issued (key and CSR dropped: the certificate holds them), in the same
 * transaction. */
static void test_certificate_takes_its_reservation(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        struct cert_rec c = make_cert(fx, "41c1");
        enum qerr rc = store_cert(fx, &c, &ei);
        assert_int_not_equal(rc, QERR_OK);
        assert_non_null(strstr(qerr_message(&ei), "reserved"));
        struct serial_rec r = make_res(fx, "41c1", 0);
        must_ok(reserve(fx, &r, &ei), &ei);
        must_ok(store_cert(fx, &c, &ei), &ei);
        struct serial_rec got;
        must_ok(OPS(fx)->serial_get(fx->st, "41c1", &got, &ei), &ei);
        assert_string_equal(got.state, "issued");
        assert_int_equal(got.certificate_id, c.id);
        assert_int_equal(got.finished_at, c.created_at);
        assert_null(got.key_blob);
        assert_null(got.csr_pem);
        serial_rec_clear(&got);
        struct serial_rec *v = NULL;
        size_t n = 0;
        must_ok(OPS(fx)->serial_list_reserved(fx->st, &v, &n, &ei), &ei);
        assert_int_equal(n, 0);
        store_free_serials(v, n);
        /* an issued serial cannot be voided, and stays issued */
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
        assert_int_equal(OPS(fx)->serial_void(fx->st, r.id, T0, &ei), QERR_NOT_FOUND);
        OPS(fx)->rollback(fx->st);
        assert_int_not_equal(raw_try(fx, "UPDATE serials SET state = 'void' WHERE serial = '41c1'"),
                             SQLITE_OK);
        /* stored twice (a stalled process after reconciliation stored it):
         * certificate_recovered, nothing written */
        struct cert_rec twice = make_cert(fx, "41c1");
        assert_int_equal(store_cert(fx, &twice, &ei), QERR_CERT_RECOVERED);
        /* an uploaded certificate needs no reservation */
        struct cert_rec up = make_cert(fx, "41c1");
        up.ca_id = 0;
        up.origin = ORIGIN_UPLOADED;
        must_ok(store_cert(fx, &up, &ei), &ei);
}

/* A void reservation's certificate can still be stored (the journal had
 * it after all): the serial becomes issued. Rows are never deleted. */
static void test_void_then_recovered_and_never_deleted(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        struct serial_rec r = make_res(fx, "41d1", fx->order);
        must_ok(reserve(fx, &r, &ei), &ei);
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
        must_ok(OPS(fx)->serial_orphan(fx->st, r.id, &ei), &ei);
        must_ok(OPS(fx)->commit(fx->st, &ei), &ei);
        struct serial_rec got;
        must_ok(OPS(fx)->serial_get(fx->st, "41d1", &got, &ei), &ei);
        assert_string_equal(got.owner, ""); /* handed to reconciliation */
        assert_string_equal(got.state, "reserved");
        serial_rec_clear(&got);
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
        must_ok(OPS(fx)->serial_void(fx->st, r.id, T0, &ei), &ei);
        must_ok(OPS(fx)->commit(fx->st, &ei), &ei);
        struct cert_rec c = make_cert(fx, "41d1");
        must_ok(store_cert(fx, &c, &ei), &ei);
        must_ok(OPS(fx)->serial_get(fx->st, "41d1", &got, &ei), &ei);
        assert_string_equal(got.state, "issued");
        assert_int_equal(got.certificate_id, c.id);
        serial_rec_clear(&got);
        assert_int_not_equal(raw_try(fx, "DELETE FROM serials"), SQLITE_OK);
        assert_int_not_equal(raw_try(fx, "UPDATE serials SET certificate_id = NULL"), SQLITE_OK);
}

/* Purposes and their objects must agree (CHECK constraints). */
static void test_purpose_needs_its_object(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        struct serial_rec r = make_res(fx, "41e1", 0);
        snprintf(r.purpose, sizeof r.purpose, "order"); /* without an order id */
        assert_int_equal(reserve(fx, &r, &ei), QERR_STORE);
        r = make_res(fx, "41e2", fx->order);
        snprintf(r.purpose, sizeof r.purpose, "certificate"); /* with one */
        assert_int_equal(reserve(fx, &r, &ei), QERR_STORE);
        r = make_res(fx, "41e3", 0);
        snprintf(r.purpose, sizeof r.purpose, "reissue");
        assert_int_equal(reserve(fx, &r, &ei), QERR_STORE);
}

/* A database made before migration 008 with certificates: their serials
 * are there afterwards, issued, and cannot be reserved again. */
static void test_upgrade_backfills_serials(void **state)
{
        (void)state;
        char dir[64];
        snprintf(dir, sizeof dir, "/tmp/quill-serials-up-XXXXXX");
        assert_non_null(mkdtemp(dir));
        char path[128];
        snprintf(path, sizeof path, "%s/quill.db", dir);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "CREATE TABLE schema_migrations (version INTEGER PRIMARY "
                                      "KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        for (unsigned i = 0; i < quill_migration_count && quill_migrations[i].version < 8; i++) {
                if (sqlite3_exec(db, quill_migrations[i].sql, NULL, NULL, NULL) != SQLITE_OK)
                        fail_msg("migration %d: %s", quill_migrations[i].version,
                                 sqlite3_errmsg(db));
                char ins[128];
                snprintf(ins, sizeof ins, "INSERT INTO schema_migrations VALUES (%d, 'old', 0)",
                         quill_migrations[i].version);
                assert_int_equal(sqlite3_exec(db, ins, NULL, NULL, NULL), SQLITE_OK);
        }
        assert_int_equal(
            sqlite3_exec(
                db,
                "INSERT INTO cas (id, parent_id, is_root, key_algorithm, subject, cert_pem, "
                "key_file, not_before, not_after, created_at) VALUES (1, NULL, 1, "
                "'ec384', 'R', 'P', 'ca/r.key', 0, 9, 0), (2, 1, 0, 'ec256', 'I', 'P', "
                "'ca/i.key', 0, 9, 0);"
                "INSERT INTO certificates (id, ca_id, serial, names, not_before, "
                "not_after, key_algorithm, profile, origin, status, issuer, cert_pem, "
                "chain_pem, created_at, tenant_id) VALUES "
                "(1, 2, '4101', '[\"a.example.com\"]', 0, 9, 'ec256', 'private', "
                "'issued', 'issued', 'I', 'P', 'C', 100, 1),"
                "(2, NULL, '4102', '[\"u.example.com\"]', 0, 9, 'ec256', 'private', "
                "'uploaded', 'issued', 'X', 'P', 'C', 101, 1);",
                NULL, NULL, NULL),
            SQLITE_OK);
        sqlite3_close(db);
        struct store *st = NULL;
        struct qerr_info ei = {0};
        if (store_open_sqlite(dir, 2000, &st, &ei) != QERR_OK)
                fail_msg("upgrade failed: %s", qerr_message(&ei));
        struct serial_rec got;
        must_ok(st->ops->serial_get(st, "4101", &got, &ei), &ei);
        assert_string_equal(got.state, "issued");
        assert_int_equal(got.certificate_id, 1);
        assert_int_equal(got.ca_id, 2);
        assert_int_equal(got.reserved_at, 100);
        assert_int_equal(got.nnames, 1);
        serial_rec_clear(&got);
        /* uploads have no serial of ours */
        assert_int_equal(st->ops->serial_get(st, "4102", &got, &ei), QERR_NOT_FOUND);
        st->ops->close(st);
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
        qlog_set_level(QLOG_WARN);
        const struct CMUnitTest tests[] = {
            T(test_reserve_round_trip),
            T(test_serial_once_and_one_per_order),
            T(test_certificate_takes_its_reservation),
            T(test_void_then_recovered_and_never_deleted),
            T(test_purpose_needs_its_object),
            cmocka_unit_test(test_upgrade_backfills_serials),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
