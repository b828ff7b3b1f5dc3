/*
 * test_store_ocsp.c - the OCSP side of the SQLite store (migration 007):
 * responders, the stored responses (replaced with a new seq, never from
 * revoked back to good), and the queries the refresher finds its work
 * with (certificate events, the unanswered scan, stale answers of revoked
 * certificates, due responses); plus the refresher's pure rotation rule.
 * Rows the store offers no call for (CAs, certificates, events) are written
 * with a raw sqlite3 handle on the same file. Times are fixed instants.
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

#include "service/svc_ocsp_int.h"
#include "store/store.h"

#define NOW ((qtime_t)1780000000)
#define DAY QTIME_DAY

struct fx {
        char dir[64];
        struct store *st;
        sqlite3 *db;
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void sql(struct fx *f, const char *fmt, ...)
{
        char q[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(q, sizeof q, fmt, ap);
        va_end(ap);
        char *err = NULL;
        if (sqlite3_exec(f->db, q, NULL, NULL, &err) != SQLITE_OK)
                fail_msg("%s: %s", q, err ? err : "?");
}

/* A certificate of CA 2: id, serial, status, not_after, revoked_at. */
static void cert(struct fx *f, int id, const char *serial, const char *status, qtime_t not_after,
                 qtime_t revoked_at)
{
        /* two-phase issuance (migration 008): the serial is reserved first */
        sql(f,
            "INSERT INTO serials (serial, ca_id, tenant_id, purpose, profile, key_algorithm, "
            "state, reserved_at) VALUES ('%s', 2, 1, 'certificate', 'private', 'ec256', "
            "'reserved', %lld)",
            serial, (long long)(NOW - DAY));
        sql(f,
            "INSERT INTO certificates (id, ca_id, serial, names, not_before, not_after, "
            "key_algorithm, profile, origin, status, issuer, cert_pem, chain_pem, revoked_at, "
            "revoke_reason, created_at) VALUES (%d, 2, '%s', '[]', %lld, %lld, 'ec256', "
            "'private', 'issued', '%s', 'CN=x', 'pem', 'pem', %s, %s, %lld)",
            id, serial, (long long)(NOW - DAY), (long long)not_after, status,
            revoked_at ? "1779990000" : "NULL", revoked_at ? "1" : "NULL", (long long)NOW);
}

static void event(struct fx *f, const char *type, int id, const char *to)
{
        sql(f,
            "INSERT INTO events (object_type, object_id, actor, at, to_status) VALUES ('%s', %d, "
            "'unit', %lld, '%s')",
            type, id, (long long)NOW, to);
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof *f);
        snprintf(f->dir, sizeof f->dir, "/tmp/quill-store-ocsp-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        struct qerr_info ei;
        assert_int_equal(store_open_sqlite(f->dir, 2000, &f->st, &ei), QERR_OK);
        char path[128];
        snprintf(path, sizeof path, "%s/quill.db", f->dir);
        assert_int_equal(sqlite3_open(path, &f->db), SQLITE_OK);
        sqlite3_busy_timeout(f->db, 2000);
        sql(f, "INSERT INTO cas (id, is_root, key_algorithm, subject, cert_pem, key_file, "
               "not_before, not_after, created_at) VALUES (1, 1, 'ec384', 'CN=r', 'pem', 'ca/r', "
               "0, 2000000000, 0)");
        sql(f, "INSERT INTO cas (id, parent_id, is_root, key_algorithm, subject, cert_pem, "
               "key_file, not_before, not_after, created_at) VALUES (2, 1, 0, 'ec256', 'CN=i', "
               "'pem', 'ca/i', 0, 2000000000, 0)");
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        sqlite3_close(f->db);
        f->st->ops->close(f->st);
        nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

static int64_t responder(struct fx *f)
{
        uint8_t der[] = {0x30, 0x03, 1, 2, 3};
        struct ocsp_responder_row r = {.ca_id = 2,
                                       .serial = "4142",
                                       .der = der,
                                       .der_len = sizeof der,
                                       .not_before = NOW - 3600,
                                       .not_after = NOW + 7 * DAY,
                                       .created_at = NOW};
        struct qerr_info ei;
        assert_int_equal(f->st->ops->begin(f->st, &ei), QERR_OK);
        assert_int_equal(f->st->ops->ocsp_responder_insert(f->st, &r, &ei), QERR_OK);
        assert_int_equal(f->st->ops->commit(f->st, &ei), QERR_OK);
        assert_true(r.id > 0);
        return r.id;
}

static bool put(struct fx *f, int64_t resp, int cert_id, const char *serial, bool revoked,
                qtime_t refresh_at, int64_t *seq)
{
        uint8_t der[] = {0x30, 0x03, 0x0a, 0x01, revoked ? 1 : 0};
        struct ocsp_response_row r = {.ca_id = 2,
                                      .cert_id = cert_id,
                                      .revoked = revoked,
                                      .responder_id = resp,
                                      .this_update = NOW,
                                      .next_update = NOW + 4 * DAY,
                                      .refresh_at = refresh_at,
                                      .der = der,
                                      .der_len = sizeof der};
        snprintf(r.serial, sizeof r.serial, "%s", serial);
        struct qerr_info ei;
        bool stored = false;
        assert_int_equal(f->st->ops->begin(f->st, &ei), QERR_OK);
        assert_int_equal(f->st->ops->ocsp_response_put(f->st, &r, &stored, &ei), QERR_OK);
        assert_int_equal(f->st->ops->commit(f->st, &ei), QERR_OK);
        if (seq)
                *seq = r.seq;
        return stored;
}

static void test_responders_and_responses(void **state)
{
        struct fx *f = *state;
        struct qerr_info ei;
        int64_t rid = responder(f);
        struct ocsp_responder_row got;
        assert_int_equal(f->st->ops->ocsp_responder_get(f->st, rid, &got, &ei), QERR_OK);
        assert_int_equal(got.der_len, 5);
        assert_string_equal(got.serial, "4142");
        assert_int_equal(got.not_after, NOW + 7 * DAY);
        free(got.der);
        assert_int_equal(f->st->ops->ocsp_responder_get(f->st, rid + 1, &got, &ei), QERR_NOT_FOUND);

        cert(f, 1, "0a01", "issued", NOW + 90 * DAY, 0);
        int64_t s1, s2, s3, s4;
        assert_true(put(f, rid, 1, "0a01", false, NOW + 2 * DAY, &s1));
        assert_true(put(f, rid, 1, "0a01", false, NOW + 2 * DAY, &s2)); /* replaced */
        assert_true(s2 > s1);
        assert_true(put(f, rid, 1, "0a01", true, NOW + 2 * DAY, &s3)); /* revoked */
        assert_true(s3 > s2);
        /* never back from revoked to good: dropped, the revoked row stays */
        assert_false(put(f, rid, 1, "0a01", false, NOW + 2 * DAY, &s4));
        assert_true(put(f, rid, 1, "0a01", true, NOW + 2 * DAY, &s4));
        assert_true(s4 > s3);

        struct ocsp_response_row *v = NULL;
        size_t n = 0;
        assert_int_equal(f->st->ops->ocsp_responses_since(f->st, 0, 10, &v, &n, &ei), QERR_OK);
        assert_int_equal(n, 1);
        assert_int_equal(v[0].seq, s4);
        assert_true(v[0].revoked);
        assert_int_equal(v[0].der_len, 5);
        assert_int_equal(v[0].responder_id, rid);
        store_free_ocsp_responses(v, n);
        assert_int_equal(f->st->ops->ocsp_responses_since(f->st, s4, 10, &v, &n, &ei), QERR_OK);
        assert_int_equal(n, 0);
        store_free_ocsp_responses(v, n);

        assert_int_equal(f->st->ops->begin(f->st, &ei), QERR_OK);
        assert_int_equal(f->st->ops->ocsp_response_delete(f->st, 2, "0a01", &ei), QERR_OK);
        assert_int_equal(f->st->ops->commit(f->st, &ei), QERR_OK);
        assert_int_equal(f->st->ops->ocsp_responses_since(f->st, 0, 10, &v, &n, &ei), QERR_OK);
        assert_int_equal(n, 0);
        store_free_ocsp_responses(v, n);
}

static void test_cert_changes(void **state)
{
        struct fx *f = *state;
        struct qerr_info ei;
        struct ocsp_cert_row *v = NULL;
        size_t n = 0;
        int64_t next = -1;
        /* no events at all */
        assert_int_equal(f->st->ops->ocsp_cert_changes(f->st, 0, 10, &v, &n, &next, &ei), QERR_OK);
        assert_int_equal(n, 0);
        assert_int_equal(next, 0);
        free(v);
        cert(f, 1, "0a01", "issued", NOW + 90 * DAY, 0);
        cert(f, 2, "0a02", "revoked", NOW + 90 * DAY, NOW);
        event(f, "ca", 2, "active");           /* 1 */
        event(f, "certificate", 1, "issued");  /* 2 */
        event(f, "order", 7, "issued");        /* 3 */
        event(f, "certificate", 2, "revoked"); /* 4 */
        event(f, "certificate", 99, "issued"); /* 5: no such certificate */
        /* limit 0: only the newest event id */
        assert_int_equal(f->st->ops->ocsp_cert_changes(f->st, 0, 0, &v, &n, &next, &ei), QERR_OK);
        assert_int_equal(n, 0);
        assert_int_equal(next, 5);
        free(v);
        /* one at a time: continue after the last one read */
        assert_int_equal(f->st->ops->ocsp_cert_changes(f->st, 0, 1, &v, &n, &next, &ei), QERR_OK);
        assert_int_equal(n, 1);
        assert_int_equal(v[0].cert_id, 1);
        assert_int_equal(v[0].status, CERT_ISSUED);
        assert_int_equal(v[0].revoked_at, 0);
        assert_int_equal(v[0].revoke_reason, -1);
        assert_int_equal(next, 2);
        free(v);
        assert_int_equal(f->st->ops->ocsp_cert_changes(f->st, 2, 10, &v, &n, &next, &ei), QERR_OK);
        assert_int_equal(n, 1);
        assert_int_equal(v[0].cert_id, 2);
        assert_int_equal(v[0].status, CERT_REVOKED);
        assert_int_equal(v[0].revoke_reason, 1);
        assert_string_equal(v[0].serial, "0a02");
        assert_int_equal(next, 5); /* everything read: the newest event */
        free(v);
        assert_int_equal(f->st->ops->ocsp_cert_changes(f->st, 5, 10, &v, &n, &next, &ei), QERR_OK);
        assert_int_equal(n, 0);
        assert_int_equal(next, 5);
        free(v);
}

static void test_unanswered_stale_due(void **state)
{
        struct fx *f = *state;
        struct qerr_info ei;
        int64_t rid = responder(f);
        cert(f, 1, "0a01", "issued", NOW + 90 * DAY, 0);             /* no answer */
        cert(f, 2, "0a02", "revoked", NOW + 90 * DAY, NOW);          /* answer says good */
        cert(f, 3, "0a03", "issued", NOW + 90 * DAY, 0);             /* answered, due later */
        cert(f, 4, "0a04", "issued", NOW - DAY, 0);                  /* expired */
        cert(f, 5, "0a05", "deleted", NOW + 90 * DAY, 0);            /* deleted, never revoked */
        cert(f, 6, "0a06", "deleted", NOW + 90 * DAY, NOW);          /* deleted after revocation */
        cert(f, 7, "0a07", "revocation_pending", NOW + 90 * DAY, 0); /* answered good: right */
        assert_true(put(f, rid, 2, "0a02", false, NOW + 2 * DAY, NULL));
        assert_true(put(f, rid, 3, "0a03", false, NOW + 2 * DAY, NULL));
        assert_true(put(f, rid, 7, "0a07", false, NOW - 10, NULL));

        struct ocsp_cert_row *v = NULL;
        size_t n = 0;
        int64_t max_id = 0;
        assert_int_equal(
            f->st->ops->ocsp_certs_unanswered(f->st, 0, 100, NOW, &v, &n, &max_id, &ei), QERR_OK);
        assert_int_equal(max_id, 7);
        assert_int_equal(n, 3);
        assert_int_equal(v[0].cert_id, 1);
        assert_int_equal(v[1].cert_id, 2);
        assert_int_equal(v[2].cert_id, 6);
        free(v);
        /* the range is (after, upto] */
        assert_int_equal(f->st->ops->ocsp_certs_unanswered(f->st, 1, 2, NOW, &v, &n, &max_id, &ei),
                         QERR_OK);
        assert_int_equal(n, 1);
        assert_int_equal(v[0].cert_id, 2);
        free(v);

        assert_int_equal(f->st->ops->ocsp_revoked_stale(f->st, 10, &v, &n, &ei), QERR_OK);
        assert_int_equal(n, 1);
        assert_int_equal(v[0].cert_id, 2);
        free(v);

        assert_int_equal(f->st->ops->ocsp_due(f->st, NOW, 10, &v, &n, &ei), QERR_OK);
        assert_int_equal(n, 1);
        assert_int_equal(v[0].cert_id, 7);
        assert_int_equal(v[0].status, CERT_REVOCATION_PENDING);
        free(v);
        assert_int_equal(f->st->ops->ocsp_due(f->st, NOW + 3 * DAY, 10, &v, &n, &ei), QERR_OK);
        assert_int_equal(n, 3);
        assert_int_equal(v[0].cert_id, 7); /* the earliest first */
        free(v);
}

static void test_responder_rotation_rule(void **state)
{
        (void)state;
        const qtime_t v = 96 * 3600;
        /* a week-long responder lasts for responses signed until 4 days + 1 hour before its end */
        assert_false(svc_ocsp_responder_due(NOW, NOW + 7 * DAY, v));
        assert_false(svc_ocsp_responder_due(NOW, NOW + v + OCSP_RESPONDER_MARGIN, v));
        assert_true(svc_ocsp_responder_due(NOW, NOW + v + OCSP_RESPONDER_MARGIN - 1, v));
        assert_true(svc_ocsp_responder_due(NOW, NOW + 60, v));
        assert_true(svc_ocsp_responder_due(NOW, NOW - 60, v));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_responders_and_responses, setup, teardown),
            cmocka_unit_test_setup_teardown(test_cert_changes, setup, teardown),
            cmocka_unit_test_setup_teardown(test_unanswered_stale_due, setup, teardown),
            cmocka_unit_test(test_responder_rotation_rule),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
