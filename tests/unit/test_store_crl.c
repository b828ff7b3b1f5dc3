/*
 * test_store_crl.c - the CRL side of the SQLite store (store_sqlite_crl.c)
 * and what migration 006 and the open path do: scanning a CRL partition,
 * storing CRLs from pieces, one number sequence per CA, coalescing CRL jobs,
 * a CA's shard count, upgrading a version-4 database (its certificates stay
 * on the unsharded CRL), and opening an up-to-date database without the
 * write lock or a foreign key check.
 *
 * Each test opens a fresh store in a temporary directory (removed after).
 * Times are fixed instants.
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

#define DAY QTIME_DAY

static qtime_t now_fixed(void)
{
        return qtime_from_ymd(2026, 6, 1);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(path);
}

struct fx {
        char dir[64];
        struct store *st;
        int64_t root, ca, other;
};

#define OPS(fx) ((fx)->st->ops)

static void must_ok(enum qerr rc, const struct qerr_info *ei)
{
        if (rc != QERR_OK)
                fail_msg("expected ok, got %s: %s", qerr_code(rc), qerr_message(ei));
}

static int64_t add_ca(struct fx *fx, int64_t parent, const char *alg, const char *key_file)
{
        struct ca_rec c;
        memset(&c, 0, sizeof c);
        c.parent_id = parent;
        c.is_root = parent == 0;
        snprintf(c.key_algorithm, sizeof c.key_algorithm, "%s", alg);
        c.subject = (char *)"CN=Unit CA";
        c.cert_pem = (char *)"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        c.key_file = (char *)key_file;
        c.not_before = now_fixed() - 10 * DAY;
        c.not_after = now_fixed() + 3650 * DAY;
        c.crl_shards = parent ? 4 : 0;
        struct qerr_info ei = {0};
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
        must_ok(OPS(fx)->ca_insert(fx->st, &c, &ei), &ei);
        must_ok(OPS(fx)->commit(fx->st, &ei), &ei);
        return c.id;
}

static int setup(void **state)
{
        struct fx *fx = calloc(1, sizeof *fx);
        snprintf(fx->dir, sizeof fx->dir, "/tmp/quill-storecrl-XXXXXX");
        if (!fx || !mkdtemp(fx->dir))
                return -1;
        struct qerr_info ei = {0};
        if (store_open_sqlite(fx->dir, 2000, &fx->st, &ei) != QERR_OK)
                return -1;
        fx->root = add_ca(fx, 0, "ec384", "ca/root.key");
        fx->ca = add_ca(fx, fx->root, "ec256", "ca/a.key");
        fx->other = add_ca(fx, fx->root, "rsa2048", "ca/b.key");
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

static sqlite3 *raw_open(const char *dir)
{
        char path[128];
        snprintf(path, sizeof path, "%s/quill.db", dir);
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

/* An issued certificate in CRL shard `shard` (CRL_SHARD_NONE: none), then
 * given `status` and (when at != 0) a revocation. */
static int64_t add_cert(struct fx *fx, int64_t ca, int shard, const char *serial, qtime_t not_after,
                        enum cert_status status, qtime_t revoked_at, int reason)
{
        static char *names[] = {"example.com"};
        struct cert_rec c;
        memset(&c, 0, sizeof c);
        c.ca_id = ca;
        c.crl_shard = shard;
        snprintf(c.serial, sizeof c.serial, "%s", serial);
        c.names = names;
        c.nnames = 1;
        c.not_before = not_after - 90 * DAY;
        c.not_after = not_after;
        snprintf(c.key_algorithm, sizeof c.key_algorithm, "ec256");
        c.profile = PROFILE_PRIVATE;
        c.origin = ORIGIN_ISSUED;
        c.status = CERT_ISSUED;
        c.created_at = now_fixed() - 10 * DAY;
        c.revoke_reason = -1;
        c.issuer = (char *)"CN=Unit CA";
        c.cert_pem = (char *)"-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----\n";
        c.chain_pem = (char *)"";
        struct qerr_info ei = {0};
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
        if (c.origin == ORIGIN_ISSUED) { /* two-phase issuance: its serial reserved first */
                struct serial_rec r;
                memset(&r, 0, sizeof r);
                snprintf(r.serial, sizeof r.serial, "%s", c.serial);
                r.ca_id = ca;
                r.tenant_id = c.tenant_id ? c.tenant_id : QUILL_TENANT_DEFAULT;
                snprintf(r.purpose, sizeof r.purpose, "certificate");
                r.profile = c.profile;
                snprintf(r.key_algorithm, sizeof r.key_algorithm, "%s", c.key_algorithm);
                r.reserved_at = c.not_before;
                must_ok(OPS(fx)->serial_reserve(fx->st, &r, &ei), &ei);
        }
        must_ok(OPS(fx)->cert_insert(fx->st, &c, &ei), &ei);
        if (status != CERT_ISSUED || revoked_at) {
                c.status = status;
                c.revoked_at = revoked_at;
                c.revoke_reason = revoked_at ? reason : -1;
                must_ok(OPS(fx)->cert_update(fx->st, &c, &ei), &ei);
        }
        must_ok(OPS(fx)->commit(fx->st, &ei), &ei);
        return c.id;
}

struct seen {
        char serial[8][41];
        qtime_t at[8];
        int reason[8];
        size_t n;
        size_t stop_after; /* 0: never */
};

static enum qerr collect(void *arg, const char *serial, size_t len, qtime_t at, int reason,
                         struct qerr_info *ei)
{
        struct seen *s = arg;
        if (s->stop_after && s->n == s->stop_after)
                return qerr_set(ei, QERR_NOMEM, "stop");
        assert_true(s->n < 8);
        snprintf(s->serial[s->n], sizeof s->serial[0], "%.*s", (int)len, serial);
        s->at[s->n] = at;
        s->reason[s->n++] = reason;
        return QERR_OK;
}

static void test_crl_scan(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        qtime_t now = now_fixed();
        int64_t ca = fx->ca;
        /* shard 2: revoked, deleted after revocation, expiring right now */
        add_cert(fx, ca, 2, "0c", now + 30 * DAY, CERT_REVOKED, now - DAY, 1);
        add_cert(fx, ca, 2, "0a", now + 10 * DAY, CERT_DELETED, now - 2 * DAY, 5);
        add_cert(fx, ca, 2, "0b", now, CERT_REVOKED, now - 3 * DAY, 0);
        /* left out: expired, never revoked, deleted without revocation,
         * another shard, another CA */
        add_cert(fx, ca, 2, "0d", now - 1, CERT_REVOKED, now - 4 * DAY, 4);
        add_cert(fx, ca, 2, "0e", now + 30 * DAY, CERT_ISSUED, 0, 0);
        add_cert(fx, ca, 2, "0f", now + 30 * DAY, CERT_DELETED, 0, 0);
        add_cert(fx, ca, 3, "10", now + 30 * DAY, CERT_REVOKED, now - DAY, 1);
        add_cert(fx, fx->other, 2, "11", now + 30 * DAY, CERT_REVOKED, now - DAY, 1);
        /* no shard: issued before sharding */
        add_cert(fx, ca, CRL_SHARD_NONE, "12", now + 30 * DAY, CERT_REVOKED, now - DAY, 9);

        struct seen s = {0};
        must_ok(OPS(fx)->crl_scan(fx->st, ca, 2, now, collect, &s, &ei), &ei);
        assert_int_equal(s.n, 3);
        /* in serial order */
        assert_string_equal(s.serial[0], "0a");
        assert_int_equal(s.at[0], now - 2 * DAY);
        assert_int_equal(s.reason[0], 5);
        assert_string_equal(s.serial[1], "0b");
        assert_int_equal(s.reason[1], 0);
        assert_string_equal(s.serial[2], "0c");
        assert_int_equal(s.reason[2], 1);

        memset(&s, 0, sizeof s);
        must_ok(OPS(fx)->crl_scan(fx->st, ca, 3, now, collect, &s, &ei), &ei);
        assert_int_equal(s.n, 1);
        assert_string_equal(s.serial[0], "10");
        memset(&s, 0, sizeof s);
        must_ok(OPS(fx)->crl_scan(fx->st, ca, CRL_SHARD_NONE, now, collect, &s, &ei), &ei);
        assert_int_equal(s.n, 1);
        assert_string_equal(s.serial[0], "12");
        assert_int_equal(s.reason[0], 9);
        memset(&s, 0, sizeof s);
        must_ok(OPS(fx)->crl_scan(fx->st, ca, 0, now, collect, &s, &ei), &ei);
        assert_int_equal(s.n, 0);
        /* a later `now` drops the ones that expired meanwhile */
        memset(&s, 0, sizeof s);
        must_ok(OPS(fx)->crl_scan(fx->st, ca, 2, now + 20 * DAY, collect, &s, &ei), &ei);
        assert_int_equal(s.n, 1);
        assert_string_equal(s.serial[0], "0c");
        /* the callback's refusal stops the scan with its code */
        memset(&s, 0, sizeof s);
        s.stop_after = 1;
        assert_int_equal(OPS(fx)->crl_scan(fx->st, ca, 2, now, collect, &s, &ei), QERR_NOMEM);
        assert_int_equal(s.n, 1);
        /* the shard is stored and read back with the certificate */
        struct cert_rec **v = NULL;
        size_t n = 0;
        bool more = false;
        struct cert_query q = {.tenant = 0, .limit = 100, .origin = -1, .now = now};
        must_ok(OPS(fx)->cert_page(fx->st, &q, &v, &n, &more, &ei), &ei);
        int with2 = 0, none = 0;
        for (size_t i = 0; i < n; i++) {
                with2 += v[i]->crl_shard == 2;
                none += v[i]->crl_shard == CRL_SHARD_NONE;
        }
        assert_int_equal(with2, 5); /* deleted ones are not listed */
        assert_int_equal(none, 1);
        store_free_certs(v, n);
}

/* The scan reads the covering index only (no certificate row). */
static void test_crl_scan_uses_the_index(void **state)
{
        struct fx *fx = *state;
        sqlite3 *db = raw_open(fx->dir);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "EXPLAIN QUERY PLAN SELECT serial, revoked_at, "
                                            "revoke_reason FROM certificates INDEXED BY "
                                            "certificates_crl WHERE ca_id = 2 AND crl_shard = 3 "
                                            "AND revoked_at IS NOT NULL AND not_after >= 5 ORDER "
                                            "BY serial",
                                            -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        const char *plan = (const char *)sqlite3_column_text(st, 3);
        if (!strstr(plan, "COVERING INDEX certificates_crl"))
                fail_msg("plan: %s", plan);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE); /* no sort step */
        sqlite3_finalize(st);
        sqlite3_close(db);
}

static void test_crl_put_latest_list(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        qtime_t t = now_fixed();
        static const uint8_t two[] = {0x30, 0x03, 0x01, 0x02, 0x03}, one[] = {0x30, 0x00};
        struct crl_info i1 = {.ca_id = fx->ca,
                              .shard = 1,
                              .number = 5,
                              .this_update = t,
                              .next_update = t + 7 * DAY,
                              .entries = 3};
        struct crl_info i0 = i1;
        i0.shard = CRL_SHARD_NONE;
        i0.number = 6;
        i0.entries = 0;
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
        must_ok(OPS(fx)->crl_put(fx->st, &i1, two, sizeof two, &ei), &ei);
        must_ok(OPS(fx)->crl_put(fx->st, &i0, one, sizeof one, &ei), &ei);
        /* numbers only go up within a CA, whatever the partition */
        struct crl_info old = i1;
        old.number = 6;
        assert_int_equal(OPS(fx)->crl_put(fx->st, &old, one, sizeof one, &ei), QERR_STORE);
        old.number = 4;
        old.shard = 3;
        assert_int_equal(OPS(fx)->crl_put(fx->st, &old, one, sizeof one, &ei), QERR_STORE);
        /* another CA has its own sequence */
        struct crl_info oth = i1;
        oth.ca_id = fx->other;
        oth.number = 1;
        must_ok(OPS(fx)->crl_put(fx->st, &oth, one, sizeof one, &ei), &ei);
        must_ok(OPS(fx)->commit(fx->st, &ei), &ei);

        struct qbuf der;
        qbuf_init(&der, 1024);
        struct crl_info got;
        must_ok(OPS(fx)->crl_latest(fx->st, fx->ca, 1, &der, &got, &ei), &ei);
        assert_int_equal(der.len, 5);
        assert_memory_equal(der.data, "\x30\x03\x01\x02\x03", 5);
        assert_int_equal(got.number, 5);
        assert_int_equal(got.shard, 1);
        assert_int_equal(got.entries, 3);
        assert_int_equal(got.der_len, 5);
        assert_int_equal(got.next_update, t + 7 * DAY);
        /* info only */
        memset(&got, 0, sizeof got);
        must_ok(OPS(fx)->crl_latest(fx->st, fx->ca, CRL_SHARD_NONE, NULL, &got, &ei), &ei);
        assert_int_equal(got.number, 6);
        assert_int_equal(got.der_len, 2);
        assert_int_equal(OPS(fx)->crl_latest(fx->st, fx->ca, 2, &der, NULL, &ei), QERR_NOT_FOUND);

        /* a newer CRL of shard 1 replaces the old one */
        struct crl_info i2 = i1;
        i2.number = 7;
        i2.entries = 0;
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
        must_ok(OPS(fx)->crl_put(fx->st, &i2, one, sizeof one, &ei), &ei);
        must_ok(OPS(fx)->commit(fx->st, &ei), &ei);
        struct crl_info *v = NULL;
        size_t n = 0;
        must_ok(OPS(fx)->crl_list(fx->st, fx->ca, &v, &n, &ei), &ei);
        assert_int_equal(n, 2);
        assert_int_equal(v[0].shard, CRL_SHARD_NONE);
        assert_int_equal(v[0].number, 6);
        assert_int_equal(v[1].shard, 1);
        assert_int_equal(v[1].number, 7);
        free(v);
        must_ok(OPS(fx)->crl_list(fx->st, 0, &v, &n, &ei), &ei);
        assert_int_equal(n, 3);
        assert_int_equal(v[2].ca_id, fx->other);
        free(v);
        sqlite3 *db = raw_open(fx->dir);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM crls WHERE ca_id = 2 AND shard = 1"), 1);
        sqlite3_close(db);
        qbuf_free(&der);
}

/* A CRL larger than SQLite should copy (a whole CA unsharded) is written in
 * pieces and reads back the same. */
static void test_crl_put_large(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        const size_t n = 5u * 1024u * 1024u + 123u;
        uint8_t *big = malloc(n);
        assert_non_null(big);
        for (size_t i = 0; i < n; i++)
                big[i] = (uint8_t)(i * 131u + (i >> 13));
        struct crl_info info = {.ca_id = fx->ca,
                                .shard = 0,
                                .number = 9,
                                .this_update = now_fixed(),
                                .next_update = now_fixed() + DAY,
                                .entries = 123456};
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
        must_ok(OPS(fx)->crl_put(fx->st, &info, big, n, &ei), &ei);
        must_ok(OPS(fx)->commit(fx->st, &ei), &ei);
        struct qbuf der;
        qbuf_init(&der, 8u * 1024u * 1024u);
        struct crl_info got;
        must_ok(OPS(fx)->crl_latest(fx->st, fx->ca, 0, &der, &got, &ei), &ei);
        assert_int_equal(der.len, n);
        assert_memory_equal(der.data, big, n);
        assert_int_equal(got.der_len, n);
        assert_int_equal(got.entries, 123456);
        qbuf_free(&der);
        free(big);
}

static void test_crl_jobs_coalesce(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        qtime_t t = now_fixed();
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
        for (int i = 0; i < 3; i++)
                must_ok(OPS(fx)->job_insert_crl(fx->st, fx->ca, 5, t, &ei), &ei);
        must_ok(OPS(fx)->job_insert_crl(fx->st, fx->ca, CRL_SHARD_NONE, t, &ei), &ei);
        must_ok(OPS(fx)->job_insert_crl(fx->st, fx->other, 5, t, &ei), &ei);
        must_ok(OPS(fx)->commit(fx->st, &ei), &ei);
        sqlite3 *db = raw_open(fx->dir);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM jobs WHERE kind = 'crl'"), 3);
        sqlite3_close(db);

        /* a running job does not absorb a new revocation: it may have read
         * its entries already */
        struct job_rec j;
        must_ok(OPS(fx)->job_claim(fx->st, "unit", t, &j, &ei), &ei);
        assert_string_equal(j.kind, "crl");
        assert_int_equal(j.order_id, 0);
        assert_true(j.ca_id == fx->ca || j.ca_id == fx->other);
        int64_t claimed_ca = j.ca_id;
        int claimed_shard = j.shard;
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
        must_ok(OPS(fx)->job_insert_crl(fx->st, claimed_ca, claimed_shard, t, &ei), &ei);
        must_ok(OPS(fx)->commit(fx->st, &ei), &ei);
        db = raw_open(fx->dir);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM jobs WHERE kind = 'crl' AND state = "
                                     "'queued'"),
                         3);
        sqlite3_close(db);
        /* closing a partition's queued jobs leaves the running one and the
         * other partitions alone */
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
        must_ok(OPS(fx)->job_close_crl(fx->st, claimed_ca, claimed_shard, &ei), &ei);
        must_ok(OPS(fx)->commit(fx->st, &ei), &ei);
        db = raw_open(fx->dir);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM jobs WHERE state = 'queued'"), 2);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM jobs WHERE state = 'running'"), 1);
        /* the table refuses a CRL job without its CA, or with an order */
        assert_int_not_equal(sqlite3_exec(db,
                                          "INSERT INTO jobs (kind, shard, state, run_at, "
                                          "created_at, updated_at) VALUES ('crl', 1, 'queued', "
                                          "1, 1, 1)",
                                          NULL, NULL, NULL),
                             SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(db,
                                          "INSERT INTO jobs (kind, ca_id, shard, state, run_at, "
                                          "created_at, updated_at) VALUES ('validate', 2, 1, "
                                          "'queued', 1, 1, 1)",
                                          NULL, NULL, NULL),
                             SQLITE_OK);
        sqlite3_close(db);
        struct job_rec *run = NULL;
        size_t n = 0;
        must_ok(OPS(fx)->job_list_running(fx->st, &run, &n, &ei), &ei);
        assert_int_equal(n, 1);
        assert_int_equal(run[0].ca_id, claimed_ca);
        assert_int_equal(run[0].shard, claimed_shard);
        free(run);
        /* the running job fails (or its process died) while a new one is
         * queued for its partition: retrying it closes it instead, since the
         * queued one covers it */
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
        must_ok(OPS(fx)->job_insert_crl(fx->st, claimed_ca, claimed_shard, t, &ei), &ei);
        must_ok(OPS(fx)->commit(fx->st, &ei), &ei);
        must_ok(OPS(fx)->job_retry(fx->st, j.id, t + 5, "signer_unavailable", &ei), &ei);
        db = raw_open(fx->dir);
        char q[200];
        snprintf(q, sizeof q,
                 "SELECT count(*) FROM jobs WHERE kind = 'crl' AND state = 'queued' "
                 "AND ca_id = %lld AND shard = %d",
                 (long long)claimed_ca, claimed_shard);
        assert_int_equal(raw_int(db, q), 1);
        snprintf(q, sizeof q, "SELECT count(*) FROM jobs WHERE id = %lld AND state = 'done'",
                 (long long)j.id);
        assert_int_equal(raw_int(db, q), 1);
        sqlite3_close(db);
        /* without a rival, a retry queues it again */
        must_ok(OPS(fx)->job_claim(fx->st, "unit", t + 10, &j, &ei), &ei);
        must_ok(OPS(fx)->job_retry(fx->st, j.id, t + 20, NULL, &ei), &ei);
        db = raw_open(fx->dir);
        snprintf(q, sizeof q, "SELECT count(*) FROM jobs WHERE id = %lld AND state = 'queued'",
                 (long long)j.id);
        assert_int_equal(raw_int(db, q), 1);
        sqlite3_close(db);
}

static void test_ca_raise_crl_shards(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        int before = -1;
        must_ok(OPS(fx)->begin(fx->st, &ei), &ei);
        must_ok(OPS(fx)->ca_raise_crl_shards(fx->st, fx->ca, 16, &before, &ei), &ei);
        assert_int_equal(before, 4);
        /* never lowered */
        must_ok(OPS(fx)->ca_raise_crl_shards(fx->st, fx->ca, 8, &before, &ei), &ei);
        assert_int_equal(before, 16);
        assert_int_equal(OPS(fx)->ca_raise_crl_shards(fx->st, 99, 8, &before, &ei), QERR_NOT_FOUND);
        must_ok(OPS(fx)->commit(fx->st, &ei), &ei);
        struct ca_rec *c = NULL;
        must_ok(OPS(fx)->ca_get(fx->st, fx->ca, &c, &ei), &ei);
        assert_int_equal(c->crl_shards, 16);
        ca_rec_free(c);
}

/* Opening a database whose migrations all ran takes no write lock and
 * checks no foreign keys (a dangling row stays the business of whoever made
 * it: before, every open read every table and refused it). */
static void test_open_when_current(void **state)
{
        struct fx *fx = *state;
        struct qerr_info ei = {0};
        fx->st->ops->close(fx->st);
        fx->st = NULL;
        sqlite3 *db = raw_open(fx->dir);
        assert_int_equal(sqlite3_exec(db,
                                      "PRAGMA foreign_keys = OFF; INSERT INTO jobs (kind, ca_id, "
                                      "shard, state, run_at, created_at, updated_at) VALUES "
                                      "('crl', 999, 1, 'queued', 1, 1, 1)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
        struct store *st = NULL;
        must_ok(store_open_sqlite(fx->dir, 100, &st, &ei), &ei);
        st->ops->close(st);
        assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
        /* with a migration pending, the check runs and refuses the commit */
        assert_int_equal(
            sqlite3_exec(db, "DELETE FROM schema_migrations WHERE version = 6", NULL, NULL, NULL),
            SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "DROP INDEX certificates_crl; DROP INDEX crls_partition; "
                                      "ALTER TABLE certificates DROP COLUMN crl_shard; ALTER "
                                      "TABLE cas DROP COLUMN crl_shards; ALTER TABLE crls DROP "
                                      "COLUMN shard; ALTER TABLE crls DROP COLUMN entries; DELETE "
                                      "FROM jobs",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "CREATE TABLE tmp_fk (x INTEGER REFERENCES cas(id)); "
                                      "INSERT INTO tmp_fk VALUES (999)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        assert_int_equal(store_open_sqlite(fx->dir, 2000, &st, &ei), QERR_STORE);
        assert_non_null(strstr(qerr_message(&ei), "dangling"));
        assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_migrations WHERE version = 6"),
                         0);
        assert_int_equal(sqlite3_exec(db, "DROP TABLE tmp_fk", NULL, NULL, NULL), SQLITE_OK);
        must_ok(store_open_sqlite(fx->dir, 2000, &fx->st, &ei), &ei);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_migrations WHERE version = 6"),
                         1);
        sqlite3_close(db);
}

/* A version-4 database (before sharding) with a revoked certificate, a CRL
 * and an order's job is upgraded in place: the certificate has no shard
 * (it stays on the CA's unsharded CRL), the old CRL is that partition's,
 * the job survives the jobs rebuild. */
static void test_upgrade_from_v4(void **state)
{
        (void)state;
        char dir[64];
        snprintf(dir, sizeof dir, "/tmp/quill-upgrade6-XXXXXX");
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
        for (unsigned i = 0; i < quill_migration_count && quill_migrations[i].version <= 4; i++) {
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
                         "INSERT INTO cas (parent_id, is_root, key_algorithm, subject, cert_pem, "
                         "key_file, not_before, not_after, crl_number, created_at) VALUES "
                         "(NULL, 1, 'ec384', 'CN=R', 'pem', 'ca/r.key', 1, 4000000000, 1, 1), "
                         "(1, 0, 'ec256', 'CN=I', 'pem', 'ca/i.key', 1, 4000000000, 3, 1);"
                         "INSERT INTO certificates (ca_id, serial, names, not_before, not_after, "
                         "key_algorithm, profile, origin, status, issuer, cert_pem, chain_pem, "
                         "revoked_at, revoke_reason, created_at) VALUES (2, '41aa', '[\"a\"]', "
                         "1, 4000000000, 'ec256', 'private', 'issued', 'revoked', 'CN=I', 'p', "
                         "'c', 1700000000, 1, 1);"
                         "INSERT INTO crls VALUES (2, 3, 1, 2, x'3000');"
                         "INSERT INTO orders (purpose, status, profile, key_algorithm, deadline, "
                         "created_at, updated_at) VALUES ('issue', 'validating', 'dv', 'ec256', "
                         "1, 1, 1);"
                         "INSERT INTO jobs (kind, order_id, state, run_at, created_at, "
                         "updated_at) VALUES ('validate', 1, 'queued', 5, 1, 1);",
                         NULL, NULL, NULL),
            SQLITE_OK);
        sqlite3_close(db);

        struct store *st = NULL;
        struct qerr_info ei = {0};
        if (store_open_sqlite(dir, 2000, &st, &ei) != QERR_OK)
                fail_msg("upgrade failed: %s", qerr_message(&ei));
        struct cert_rec *c = NULL;
        must_ok(st->ops->cert_get(st, 0, 1, &c, &ei), &ei);
        assert_int_equal(c->crl_shard, CRL_SHARD_NONE);
        cert_rec_free(c);
        struct seen s = {0};
        must_ok(st->ops->crl_scan(st, 2, CRL_SHARD_NONE, 1800000000, collect, &s, &ei), &ei);
        assert_int_equal(s.n, 1);
        assert_string_equal(s.serial[0], "41aa");
        struct crl_info info;
        must_ok(st->ops->crl_latest(st, 2, CRL_SHARD_NONE, NULL, &info, &ei), &ei);
        assert_int_equal(info.number, 3);
        assert_int_equal(info.entries, -1);
        struct ca_rec *ca = NULL;
        must_ok(st->ops->ca_get(st, 2, &ca, &ei), &ei);
        assert_int_equal(ca->crl_shards, 0);
        assert_int_equal(ca->crl_number, 3);
        ca_rec_free(ca);
        struct job_rec j;
        must_ok(st->ops->job_claim(st, "unit", 10, &j, &ei), &ei);
        assert_string_equal(j.kind, "validate");
        assert_int_equal(j.order_id, 1);
        assert_int_equal(j.ca_id, 0);
        st->ops->close(st);
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
        qlog_set_level(QLOG_WARN);
        const struct CMUnitTest tests[] = {
            T(test_crl_scan),
            T(test_crl_scan_uses_the_index),
            T(test_crl_put_latest_list),
            T(test_crl_put_large),
            T(test_crl_jobs_coalesce),
            T(test_ca_raise_crl_shards),
            T(test_open_when_current),
            cmocka_unit_test(test_upgrade_from_v4),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
