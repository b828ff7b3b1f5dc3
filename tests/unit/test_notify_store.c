/*
 * test_notify_store.c - the notification tables of the SQLite backend
 * (migration 010, store_sqlite_notify.c) through the ops table: webhooks
 * and contacts, the outbox's claim (due rows only, oldest first, each to
 * exactly one of two threads claiming at once), the record of an attempt
 * (only by the holder of the lease), taking back leases, cancelling with a
 * deleted webhook, the delivery log's pages, and the expiry scan's index
 * range, position and once-only record.
 *
 * Each test opens a fresh store in its own temporary directory. Times are
 * fixed instants.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/store.h"

#define DAY QTIME_DAY
#define T0 ((qtime_t)1780000000) /* 2026-05-28 */

struct fx {
        char dir[64];
        struct store *st;
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static int setup(void **state)
{
        struct fx *fx = calloc(1, sizeof *fx);
        snprintf(fx->dir, sizeof fx->dir, "/tmp/quill-notify-XXXXXX");
        if (!mkdtemp(fx->dir))
                return -1;
        qlog_set_level(QLOG_ERROR);
        struct qerr_info ei = {0};
        if (store_open_sqlite(fx->dir, 5000, &fx->st, &ei) != QERR_OK)
                return -1;
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fx *fx = *state;
        fx->st->ops->close(fx->st);
        nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(fx);
        return 0;
}

#define OPS(fx) ((fx)->st->ops)
#define OK(call)                                                                                   \
        do {                                                                                       \
                struct qerr_info ei_ = {0};                                                        \
                enum qerr rc_ = (call);                                                            \
                if (rc_ != QERR_OK)                                                                \
                        fail_msg("%s: %s: %s", #call, qerr_code(rc_), qerr_message(&ei_));         \
        } while (0)

static int64_t add_webhook(struct fx *fx, int64_t tenant, const char *url)
{
        struct webhook_rec w = {.tenant_id = tenant, .url = (char *)url, .created_at = T0};
        snprintf(w.created_by, sizeof w.created_by, "unit");
        OK(OPS(fx)->begin(fx->st, &ei_));
        OK(OPS(fx)->webhook_insert(fx->st, &w, &ei_));
        OK(OPS(fx)->webhook_set_secret(fx->st, w.id, (const uint8_t *)"sealed", 6, &ei_));
        OK(OPS(fx)->commit(fx->st, &ei_));
        return w.id;
}

static int64_t add_delivery(struct fx *fx, int64_t tenant, int64_t webhook, qtime_t due)
{
        struct delivery_rec d = {.tenant_id = tenant,
                                 .object_id = 5,
                                 .webhook_id = webhook,
                                 .body = (uint8_t *)"{\"a\":1}",
                                 .body_len = 7,
                                 .next_attempt_at = due,
                                 .created_at = T0};
        snprintf(d.event, sizeof d.event, "certificate.issued");
        snprintf(d.object_type, sizeof d.object_type, "certificate");
        snprintf(d.channel, sizeof d.channel, "webhook");
        OK(OPS(fx)->begin(fx->st, &ei_));
        OK(OPS(fx)->delivery_insert(fx->st, &d, &ei_));
        OK(OPS(fx)->commit(fx->st, &ei_));
        assert_string_equal(d.state, "pending");
        return d.id;
}

static void test_webhooks_and_contacts(void **state)
{
        struct fx *fx = *state;
        int64_t a = add_webhook(fx, 1, "https://a.example/");
        int64_t b = add_webhook(fx, 2, "https://b.example/");
        struct webhook_rec *v = NULL;
        size_t n = 0;
        OK(OPS(fx)->webhook_list(fx->st, 1, &v, &n, &ei_));
        assert_int_equal(n, 1);
        assert_int_equal(v[0].id, a);
        assert_string_equal(v[0].tenant, "default");
        assert_int_equal(v[0].secret_len, 6);
        store_free_webhooks(v, n);
        OK(OPS(fx)->webhook_list(fx->st, 0, &v, &n, &ei_));
        assert_int_equal(n, 2);
        store_free_webhooks(v, n);
        /* another tenant's is not found */
        struct webhook_rec w;
        struct qerr_info ei = {0};
        assert_int_equal(OPS(fx)->webhook_get(fx->st, 1, b, &w, &ei), QERR_NOT_FOUND);
        OK(OPS(fx)->webhook_get(fx->st, 2, b, &w, &ei_));
        webhook_rec_clear(&w);
        int64_t owner = 0;
        OK(OPS(fx)->object_tenant(fx->st, "webhook", b, &owner, &ei_));
        assert_int_equal(owner, 2);
        /* deleted: gone from lists and lookups */
        OK(OPS(fx)->webhook_delete(fx->st, b, T0, &ei_));
        assert_int_equal(OPS(fx)->webhook_get(fx->st, 0, b, &w, &ei), QERR_NOT_FOUND);
        assert_int_equal(OPS(fx)->webhook_delete(fx->st, b, T0, &ei), QERR_NOT_FOUND);
        assert_int_equal(OPS(fx)->object_tenant(fx->st, "webhook", b, &owner, &ei), QERR_NOT_FOUND);
        /* contacts: replaced whole, in order, per tenant */
        const char *one[] = {"b@example.com", "a@example.com"};
        OK(OPS(fx)->contacts_set(fx->st, 1, one, 2, &ei_));
        const char *two[] = {"c@example.com"};
        OK(OPS(fx)->contacts_set(fx->st, 2, two, 1, &ei_));
        char **e = NULL;
        OK(OPS(fx)->contacts_get(fx->st, 1, &e, &n, &ei_));
        assert_int_equal(n, 2);
        assert_string_equal(e[0], "b@example.com");
        assert_string_equal(e[1], "a@example.com");
        store_free_strings(e, n);
        OK(OPS(fx)->contacts_set(fx->st, 1, NULL, 0, &ei_));
        OK(OPS(fx)->contacts_get(fx->st, 1, &e, &n, &ei_));
        assert_int_equal(n, 0);
        store_free_strings(e, n);
        OK(OPS(fx)->contacts_get(fx->st, 2, &e, &n, &ei_));
        assert_int_equal(n, 1);
        store_free_strings(e, n);
}

static void test_claim_due_oldest_first(void **state)
{
        struct fx *fx = *state;
        int64_t w = add_webhook(fx, 1, "https://a.example/");
        int64_t late = add_delivery(fx, 1, w, T0 + 100);
        int64_t first = add_delivery(fx, 1, w, T0 - 10);
        int64_t second = add_delivery(fx, 1, w, T0);
        struct delivery_rec d;
        struct qerr_info ei = {0};
        OK(OPS(fx)->delivery_claim(fx->st, "me", T0, T0 + 60, &d, &ei_));
        assert_int_equal(d.id, first);
        assert_string_equal(d.state, "sending");
        assert_int_equal(d.attempts, 1);
        assert_string_equal(d.owner, "me");
        assert_int_equal(d.body_len, 7);
        assert_memory_equal(d.body, "{\"a\":1}", 7);
        delivery_rec_clear(&d);
        OK(OPS(fx)->delivery_claim(fx->st, "me", T0, T0 + 60, &d, &ei_));
        assert_int_equal(d.id, second);
        delivery_rec_clear(&d);
        /* the late one is not due yet */
        assert_int_equal(OPS(fx)->delivery_claim(fx->st, "me", T0, T0 + 60, &d, &ei),
                         QERR_NOT_FOUND);
        OK(OPS(fx)->delivery_claim(fx->st, "me", T0 + 100, T0 + 160, &d, &ei_));
        assert_int_equal(d.id, late);
        delivery_rec_clear(&d);
        int64_t pending = -1, sending = -1;
        OK(OPS(fx)->delivery_counts(fx->st, &pending, &sending, &ei_));
        assert_int_equal(pending, 0);
        assert_int_equal(sending, 3);
}

static void test_finish_only_by_the_holder(void **state)
{
        struct fx *fx = *state;
        int64_t w = add_webhook(fx, 1, "https://a.example/");
        int64_t id = add_delivery(fx, 1, w, T0);
        struct delivery_rec d;
        struct qerr_info ei = {0};
        OK(OPS(fx)->delivery_claim(fx->st, "me", T0, T0 + 60, &d, &ei_));
        struct delivery_try t = {.attempt = 1, .at = T0 + 1, .status = 500, .duration_ms = 12};
        snprintf(t.error, sizeof t.error, "the receiver answered HTTP 500");
        OK(OPS(fx)->begin(fx->st, &ei_));
        assert_int_equal(
            OPS(fx)->delivery_finish(fx->st, id, "someone-else", &t, "pending", T0 + 61, &ei),
            QERR_NOT_FOUND);
        OK(OPS(fx)->delivery_finish(fx->st, id, "me", &t, "pending", T0 + 61, &ei_));
        OK(OPS(fx)->commit(fx->st, &ei_));
        delivery_rec_clear(&d);
        /* pending again, due at T0 + 61 */
        assert_int_equal(OPS(fx)->delivery_claim(fx->st, "me", T0 + 60, T0 + 120, &d, &ei),
                         QERR_NOT_FOUND);
        OK(OPS(fx)->delivery_claim(fx->st, "me", T0 + 61, T0 + 120, &d, &ei_));
        assert_int_equal(d.attempts, 2);
        assert_int_equal(d.last_status, 500);
        assert_string_equal(d.last_error, "the receiver answered HTTP 500");
        delivery_rec_clear(&d);
        /* a stale holder (an older attempt number) cannot record either */
        OK(OPS(fx)->begin(fx->st, &ei_));
        assert_int_equal(OPS(fx)->delivery_finish(fx->st, id, "me", &t, "delivered", 0, &ei),
                         QERR_NOT_FOUND);
        struct delivery_try t2 = {.attempt = 2, .at = T0 + 62, .status = 200, .duration_ms = 3};
        OK(OPS(fx)->delivery_finish(fx->st, id, "me", &t2, "delivered", 0, &ei_));
        OK(OPS(fx)->commit(fx->st, &ei_));
        /* the log: two attempts, delivered */
        struct delivery_query q = {.tenant = 1, .webhook_id = w, .limit = 10};
        struct delivery_rec *v = NULL;
        size_t n = 0;
        bool more = true;
        OK(OPS(fx)->delivery_page(fx->st, &q, &v, &n, &more, &ei_));
        assert_int_equal(n, 1);
        assert_false(more);
        assert_string_equal(v[0].state, "delivered");
        assert_int_equal(v[0].finished_at, T0 + 62);
        assert_int_equal(v[0].ntries, 2);
        assert_int_equal(v[0].tries[0].status, 500);
        assert_string_equal(v[0].tries[0].error, "the receiver answered HTTP 500");
        assert_int_equal(v[0].tries[1].status, 200);
        assert_string_equal(v[0].tries[1].error, "");
        store_free_deliveries(v, n);
        /* another tenant sees none of it */
        q.tenant = 2;
        OK(OPS(fx)->delivery_page(fx->st, &q, &v, &n, &more, &ei_));
        assert_int_equal(n, 0);
        store_free_deliveries(v, n);
}

static void test_release_and_cancel(void **state)
{
        struct fx *fx = *state;
        int64_t w = add_webhook(fx, 1, "https://a.example/");
        int64_t a = add_delivery(fx, 1, w, T0);
        int64_t b = add_delivery(fx, 1, w, T0);
        struct delivery_rec d;
        struct qerr_info ei = {0};
        OK(OPS(fx)->delivery_claim(fx->st, "dead", T0, T0 + 60, &d, &ei_));
        assert_int_equal(d.id, a);
        delivery_rec_clear(&d);
        OK(OPS(fx)->delivery_claim(fx->st, "alive", T0, T0 + 600, &d, &ei_));
        assert_int_equal(d.id, b);
        delivery_rec_clear(&d);
        char **owners = NULL;
        size_t n = 0;
        OK(OPS(fx)->delivery_owners(fx->st, &owners, &n, &ei_));
        assert_int_equal(n, 2);
        store_free_strings(owners, n);
        /* a lease that ended comes back; the other stays */
        int k = 0;
        OK(OPS(fx)->delivery_release(fx->st, T0 + 61, NULL, &k, &ei_));
        assert_int_equal(k, 1);
        OK(OPS(fx)->delivery_claim(fx->st, "next", T0 + 61, T0 + 121, &d, &ei_));
        assert_int_equal(d.id, a);
        assert_int_equal(d.attempts, 2);
        delivery_rec_clear(&d);
        /* by owner */
        OK(OPS(fx)->delivery_release(fx->st, 0, "alive", &k, &ei_));
        assert_int_equal(k, 1);
        /* deleting the webhook cancels what is pending ... */
        OK(OPS(fx)->webhook_delete(fx->st, w, T0 + 70, &ei_));
        assert_int_equal(OPS(fx)->delivery_claim(fx->st, "x", T0 + 100, T0 + 160, &d, &ei),
                         QERR_NOT_FOUND);
        /* ... and what is being sent ends cancelled instead of pending */
        struct delivery_try t = {.attempt = 2, .at = T0 + 71, .status = 503};
        OK(OPS(fx)->begin(fx->st, &ei_));
        OK(OPS(fx)->delivery_finish(fx->st, a, "next", &t, "pending", T0 + 200, &ei_));
        OK(OPS(fx)->commit(fx->st, &ei_));
        struct delivery_query q = {.webhook_id = w, .limit = 1};
        struct delivery_rec *v = NULL;
        bool more = false;
        OK(OPS(fx)->delivery_page(fx->st, &q, &v, &n, &more, &ei_));
        assert_int_equal(n, 1);
        assert_true(more); /* keyset pages: newest first */
        assert_int_equal(v[0].id, b);
        assert_string_equal(v[0].state, "cancelled");
        q.before_id = v[0].id;
        store_free_deliveries(v, n);
        OK(OPS(fx)->delivery_page(fx->st, &q, &v, &n, &more, &ei_));
        assert_int_equal(n, 1);
        assert_false(more);
        assert_int_equal(v[0].id, a);
        assert_string_equal(v[0].state, "cancelled");
        assert_int_equal(v[0].finished_at, T0 + 71);
        store_free_deliveries(v, n);
}

/* Two threads, each with its own handle, claim until nothing is left:
 * every row goes to exactly one. */
struct claimer {
        const char *dir;
        const char *owner;
        int64_t got[200];
        int n;
};

static void *claim_all(void *arg)
{
        struct claimer *c = arg;
        struct store *st = NULL;
        struct qerr_info ei = {0};
        if (store_open_sqlite(c->dir, 10000, &st, &ei) != QERR_OK)
                return NULL;
        for (;;) {
                struct delivery_rec d;
                enum qerr rc = st->ops->delivery_claim(st, c->owner, T0, T0 + 60, &d, &ei);
                if (rc == QERR_NOT_FOUND)
                        break;
                if (rc == QERR_BUSY)
                        continue;
                if (rc != QERR_OK || c->n >= 200)
                        break;
                c->got[c->n++] = d.id;
                delivery_rec_clear(&d);
        }
        st->ops->close(st);
        return NULL;
}

static void test_concurrent_claims_never_overlap(void **state)
{
        struct fx *fx = *state;
        int64_t w = add_webhook(fx, 1, "https://a.example/");
        OK(OPS(fx)->begin(fx->st, &ei_));
        for (int i = 0; i < 150; i++) {
                struct delivery_rec d = {.tenant_id = 1,
                                         .object_id = i,
                                         .webhook_id = w,
                                         .body = (uint8_t *)"{}",
                                         .body_len = 2,
                                         .next_attempt_at = T0 - i,
                                         .created_at = T0};
                snprintf(d.event, sizeof d.event, "certificate.issued");
                snprintf(d.object_type, sizeof d.object_type, "certificate");
                snprintf(d.channel, sizeof d.channel, "webhook");
                OK(OPS(fx)->delivery_insert(fx->st, &d, &ei_));
        }
        OK(OPS(fx)->commit(fx->st, &ei_));
        struct claimer a = {.dir = fx->dir, .owner = "a"}, b = {.dir = fx->dir, .owner = "b"};
        pthread_t ta, tb;
        assert_int_equal(pthread_create(&ta, NULL, claim_all, &a), 0);
        assert_int_equal(pthread_create(&tb, NULL, claim_all, &b), 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        assert_int_equal(a.n + b.n, 150);
        static bool seen[400];
        memset(seen, 0, sizeof seen);
        for (int i = 0; i < a.n; i++) {
                assert_false(seen[a.got[i]]);
                seen[a.got[i]] = true;
        }
        for (int i = 0; i < b.n; i++) {
                assert_false(seen[b.got[i]]);
                seen[b.got[i]] = true;
        }
}

/* A certificate row with `not_after` and `status` (raw SQL: the expiry
 * scan reads only these columns). */
static int64_t add_cert(struct fx *fx, int64_t tenant, qtime_t not_after, const char *status)
{
        char path[128];
        snprintf(path, sizeof path, "%s/quill.db", fx->dir);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        char sql[600];
        snprintf(sql, sizeof sql,
                 "INSERT INTO certificates (serial, names, not_before, not_after, key_algorithm, "
                 "profile, origin, status, issuer, cert_pem, chain_pem, created_at, tenant_id) "
                 "VALUES (lower(hex(randomblob(8))), '[\"a.example\"]', %lld, %lld, 'ec256', "
                 "'private', 'uploaded', '%s', 'CN=x', 'pem', 'pem', %lld, %lld)",
                 (long long)(T0 - 10 * DAY), (long long)not_after, status, (long long)T0,
                 (long long)tenant);
        char *err = NULL;
        if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
                fail_msg("%s", err);
        int64_t id = sqlite3_last_insert_rowid(db);
        sqlite3_close(db);
        return id;
}

static void test_expiry_range_and_marks(void **state)
{
        struct fx *fx = *state;
        int64_t c1 = add_cert(fx, 1, T0 + 5 * DAY, "issued");
        int64_t c2 = add_cert(fx, 2, T0 + 20 * DAY, "issued");
        int64_t c3 = add_cert(fx, 1, T0 + 20 * DAY, "revoked");
        int64_t c4 = add_cert(fx, 1, T0 + 40 * DAY, "issued");
        add_cert(fx, 1, T0 - DAY, "issued");
        struct expiry_row *r = NULL;
        size_t n = 0;
        /* (T0, T0 + 30 days]: c1, c2, c3 in (not_after, id) order */
        OK(OPS(fx)->expiry_candidates(fx->st, T0, INT64_MAX, T0 + 30 * DAY, 10, &r, &n, &ei_));
        assert_int_equal(n, 3);
        assert_int_equal(r[0].cert_id, c1);
        assert_int_equal(r[1].cert_id, c2);
        assert_int_equal(r[1].tenant_id, 2);
        assert_true(r[1].active);
        assert_int_equal(r[2].cert_id, c3);
        assert_false(r[2].active);
        free(r);
        /* keyset: after (T0 + 20 days, c2) only c3 is left */
        OK(OPS(fx)->expiry_candidates(fx->st, T0 + 20 * DAY, c2, T0 + 30 * DAY, 10, &r, &n, &ei_));
        assert_int_equal(n, 1);
        assert_int_equal(r[0].cert_id, c3);
        free(r);
        /* a limit */
        OK(OPS(fx)->expiry_candidates(fx->st, 0, 0, T0 + 60 * DAY, 2, &r, &n, &ei_));
        assert_int_equal(n, 2);
        free(r);
        (void)c4;
        /* the position of each threshold */
        qtime_t na = -1;
        int64_t id = -1;
        OK(OPS(fx)->expiry_mark(fx->st, 30, &na, &id, &ei_));
        assert_int_equal(na, 0);
        assert_int_equal(id, 0);
        OK(OPS(fx)->expiry_mark_set(fx->st, 30, T0 + 30 * DAY, INT64_MAX, &ei_));
        OK(OPS(fx)->expiry_mark_set(fx->st, 30, T0 + 31 * DAY, 7, &ei_));
        OK(OPS(fx)->expiry_mark(fx->st, 30, &na, &id, &ei_));
        assert_int_equal(na, T0 + 31 * DAY);
        assert_int_equal(id, 7);
        OK(OPS(fx)->expiry_mark(fx->st, 7, &na, &id, &ei_));
        assert_int_equal(na, 0);
        /* once per certificate and threshold */
        bool ins = false;
        OK(OPS(fx)->expiry_record(fx->st, c1, 7, T0, &ins, &ei_));
        assert_true(ins);
        OK(OPS(fx)->expiry_record(fx->st, c1, 7, T0 + 1, &ins, &ei_));
        assert_false(ins);
        OK(OPS(fx)->expiry_record(fx->st, c1, 1, T0 + 1, &ins, &ei_));
        assert_true(ins);
}

/* The scan reads an index range, never the whole table. */
static void test_expiry_query_uses_the_index(void **state)
{
        struct fx *fx = *state;
        char path[128];
        snprintf(path, sizeof path, "%s/quill.db", fx->dir);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        sqlite3_stmt *st = NULL;
        assert_int_equal(
            sqlite3_prepare_v2(db,
                               "EXPLAIN QUERY PLAN SELECT id FROM certificates INDEXED BY "
                               "certificates_not_after WHERE not_after >= 1 AND not_after <= 2 "
                               "AND (not_after > 1 OR id > 3) ORDER BY not_after, id LIMIT 5",
                               -1, &st, NULL),
            SQLITE_OK);
        bool range = false, sorted = false;
        while (sqlite3_step(st) == SQLITE_ROW) {
                const char *d = (const char *)sqlite3_column_text(st, 3);
                range = range || strstr(d, "certificates_not_after (not_after>? AND not_after<?)");
                sorted = sorted || strstr(d, "TEMP B-TREE");
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        assert_true(range);
        assert_false(sorted);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_webhooks_and_contacts, setup, teardown),
            cmocka_unit_test_setup_teardown(test_claim_due_oldest_first, setup, teardown),
            cmocka_unit_test_setup_teardown(test_finish_only_by_the_holder, setup, teardown),
            cmocka_unit_test_setup_teardown(test_release_and_cancel, setup, teardown),
            cmocka_unit_test_setup_teardown(test_concurrent_claims_never_overlap, setup, teardown),
            cmocka_unit_test_setup_teardown(test_expiry_range_and_marks, setup, teardown),
            cmocka_unit_test_setup_teardown(test_expiry_query_uses_the_index, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
