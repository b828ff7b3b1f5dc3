/*
 * service_fixture.h - what test_service.c and test_service_orders.c share:
 * a service opened on a temporary data directory with a CA made through
 * the service API (service_boot_open starts the signer by executing this
 * very test binary as `<test> signer`: its main() hands that to
 * signer_main, FIXTURE_SIGNER_MAIN),
 * the calls to the service API in one place each (t_* helpers: when the
 * API gains a tenant or principal, only these change; like a CLI command,
 * a helper whose call may queue CRL jobs makes those CRLs before it
 * returns, service_crl_flush), and reads of the
 * database beside the service (events, counts, raw changes the service
 * offers no call for) through SQLite directly.
 *
 * Memory: the fixture owns everything it opens (teardown frees it). One
 * thread.
 */
#ifndef QUILL_TEST_SERVICE_FIXTURE_H
#define QUILL_TEST_SERVICE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log.h"
#include "base/model.h"
#include "service/service.h"
#include "signer/signer.h"

struct fx {
        char dir[64];
        struct qconfig cfg;
        struct service *s;
        struct ca_secret *secret; /* kept for signer restarts; freed at teardown */
        int64_t issuing_id, root_id;
        sqlite3 *db; /* a reader beside the service */
};

/* ---- the service API, one helper per call ---- */

/* Opens the service with its signer: a fork and exec of this test binary
 * (/proc/self/exe) as "signer", which every test main() that uses this
 * fixture hands to signer_main (FIXTURE_SIGNER_MAIN). The passphrase comes
 * from $QUILL_CA_PASSPHRASE, as for quill. */
static int fx_signer_main_seen; /* set by FIXTURE_SIGNER_MAIN */

static inline enum qerr t_open(struct fx *f, struct qerr_info *ei)
{
        /* Without FIXTURE_SIGNER_MAIN in main(), the signer child would run
         * the tests again and start a signer of its own, without end. */
        if (!fx_signer_main_seen) {
                fprintf(stderr, "service_fixture.h: main() must begin with FIXTURE_SIGNER_MAIN\n");
                abort();
        }
        if (!f->secret)
                f->secret = service_secret_take(&f->cfg);
        struct service_boot b = {.data_dir = f->dir,
                                 .cfg = &f->cfg,
                                 .actor = "unit:tester",
                                 .secret = f->secret,
                                 .keep_for_restart = true};
        return service_boot_open(&b, &f->s, ei);
}

/* The first lines of main(argc, argv) of a test that uses this fixture:
 * the test binary is also the signer process the service starts. */
#define FIXTURE_SIGNER_MAIN(argc, argv)                                                            \
        do {                                                                                       \
                fx_signer_main_seen = 1;                                                           \
                if ((argc) >= 2 && strcmp((argv)[1], "signer") == 0)                               \
                        return signer_main((argc), (argv));                                        \
        } while (0)

static inline enum qerr t_ca_init(struct fx *f, const char *root_alg, const char *alg,
                                  struct ca_rec **out, struct qerr_info *ei)
{
        struct ca_init_req r = {.root_alg = root_alg, .issuing_alg = alg};
        enum qerr rc = service_ca_init(f->s, &r, out, ei);
        return rc == QERR_OK ? service_crl_flush(f->s, ei) : rc;
}

static inline enum qerr t_apply(struct fx *f, const char *name, enum cert_profile profile,
                                const char *key_password, struct cert_rec **out,
                                struct qerr_info *ei)
{
        const char *names[] = {name, "alt.example.com"};
        struct apply_req r = {.names = names,
                              .nnames = 2,
                              .key_alg = "ec256",
                              .key_password = key_password,
                              .profile = profile};
        return service_cert_apply(f->s, &r, out, ei);
}

static inline enum qerr t_sign(struct fx *f, const char *csr_pem, struct cert_rec **out,
                               struct qerr_info *ei)
{
        struct sign_req r = {.csr = (const uint8_t *)csr_pem,
                             .csr_len = strlen(csr_pem),
                             .profile = PROFILE_PRIVATE};
        return service_cert_sign(f->s, &r, out, ei);
}

static inline enum qerr t_get(struct fx *f, int64_t id, struct cert_rec **out, struct qerr_info *ei)
{
        return service_cert_get(f->s, id, out, NULL, NULL, ei);
}

static inline enum qerr t_revoke(struct fx *f, int64_t id, int reason, const char *letter,
                                 struct revoke_out *out, struct qerr_info *ei)
{
        struct revoke_req r = {.id = id,
                               .reason = reason,
                               .letter = (const uint8_t *)letter,
                               .letter_len = letter ? strlen(letter) : 0};
        enum qerr rc = service_cert_revoke(f->s, &r, out, ei);
        return rc == QERR_OK ? service_crl_flush(f->s, ei) : rc;
}

static inline enum qerr t_reissue(struct fx *f, int64_t id, enum reissue_csr src,
                                  const char *key_alg, const char *csr_pem, struct cert_rec **out,
                                  struct qerr_info *ei)
{
        struct reissue_req r = {.id = id,
                                .csr_source = src,
                                .csr = (const uint8_t *)csr_pem,
                                .csr_len = csr_pem ? strlen(csr_pem) : 0,
                                .key_alg = key_alg,
                                .reason = "unit test"};
        int64_t proof = 0;
        enum qerr rc = service_cert_reissue(f->s, &r, out, &proof, ei);
        assert_int_equal(proof, 0); /* private certificates never validate again */
        return rc == QERR_OK ? service_crl_flush(f->s, ei) : rc;
}

static inline enum qerr t_delete(struct fx *f, int64_t id, struct qerr_info *ei)
{
        return service_cert_delete(f->s, id, ei);
}

static inline enum qerr t_download(struct fx *f, int64_t id, const char *format,
                                   const char *password, const char *key_password,
                                   struct qerr_info *ei)
{
        char out[128];
        snprintf(out, sizeof out, "%s/dl-%lld-%s", f->dir, (long long)id, format);
        struct download_req r = {.id = id,
                                 .format = format,
                                 .outdir = out,
                                 .password = password,
                                 .key_password = key_password};
        struct qbuf written;
        qbuf_init(&written, 1 << 16);
        enum qerr rc = service_cert_download(f->s, &r, &written, ei);
        if (rc != QERR_OK)
                assert_int_equal(written.len, 0);
        qbuf_free(&written);
        return rc;
}

static inline enum qerr t_order_apply(struct fx *f, const char *name, enum cert_profile profile,
                                      const char *method, struct order_rec **out,
                                      struct qerr_info *ei)
{
        const char *names[] = {name};
        struct org_fields org = {.organization = "Example GmbH", .country = "DE"};
        struct order_apply_req r = {.names = names,
                                    .nnames = 1,
                                    .profile = profile,
                                    .method = method,
                                    .key_alg = "ec256",
                                    .org = profile == PROFILE_DV ? NULL : &org};
        return service_order_apply(f->s, &r, out, ei);
}

static inline enum qerr t_order_get(struct fx *f, int64_t id, struct order_rec **out,
                                    struct qerr_info *ei)
{
        return service_order_get(f->s, id, out, ei);
}

static inline enum qerr t_order_cancel(struct fx *f, int64_t id, struct order_rec **out,
                                       struct qerr_info *ei)
{
        return service_order_cancel(f->s, id, out, ei);
}

/* Reviews are decided by a reviewer other than the applicant (four eyes). */
static inline enum qerr t_review(struct fx *f, int64_t id, bool approve, const char *reason,
                                 struct review_rec *out, struct qerr_info *ei)
{
        struct principal applicant = *service_principal(f->s), reviewer = applicant;
        snprintf(reviewer.name, sizeof reviewer.name, "unit:reviewer");
        service_set_principal(f->s, &reviewer);
        enum qerr rc = service_review_decide(f->s, id, approve, reason, out, ei);
        service_set_principal(f->s, &applicant);
        struct qerr_info fe;
        if (rc == QERR_OK && service_crl_flush(f->s, &fe) != QERR_OK)
                fail_msg("CRL flush: %s", qerr_message(&fe));
        return rc;
}

/* The stored CRL of partition (ca_id, shard). */
static inline enum qerr t_crl(struct fx *f, int64_t ca_id, int shard, X509_CRL **out,
                              struct qerr_info *ei)
{
        struct qbuf der;
        qbuf_init(&der, 1 << 20);
        enum qerr rc = service_crl_get(f->s, ca_id, shard, &der, NULL, ei);
        if (rc == QERR_OK) {
                const unsigned char *p = der.data;
                *out = d2i_X509_CRL(NULL, &p, (long)der.len);
                assert_non_null(*out);
        }
        qbuf_free(&der);
        return rc;
}

/* The CRL that lists `c` when it is revoked (its shard's). */
static inline enum qerr t_crl_of(struct fx *f, const struct cert_rec *c, X509_CRL **out,
                                 struct qerr_info *ei)
{
        return t_crl(f, c->ca_id, c->crl_shard, out, ei);
}

/* ---- expectations ---- */

#define OK(call)                                                                                   \
        do {                                                                                       \
                struct qerr_info ei_;                                                              \
                qerr_clear(&ei_);                                                                  \
                enum qerr rc_ = (call);                                                            \
                if (rc_ != QERR_OK)                                                                \
                        fail_msg("%s: %s: %s", #call, qerr_code(rc_), qerr_message(&ei_));         \
        } while (0)

/* Runs `call` (which takes &ei) and expects `code` with a sentence. */
#define REFUSED(code, call)                                                                        \
        do {                                                                                       \
                struct qerr_info ei_;                                                              \
                qerr_clear(&ei_);                                                                  \
                enum qerr rc_ = (call);                                                            \
                if (rc_ != (code))                                                                 \
                        fail_msg("%s: %s (%s), expected %s", #call, qerr_code(rc_),                \
                                 qerr_message(&ei_), qerr_code(code));                             \
                assert_true(strlen(qerr_message(&ei_)) > 0);                                       \
        } while (0)

/* ---- the database, read beside the service ---- */

static inline long long sql_int(struct fx *f, const char *fmt, ...)
{
        char q[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(q, sizeof q, fmt, ap);
        va_end(ap);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(f->db, q, -1, &st, NULL) != SQLITE_OK)
                fail_msg("%s: %s", q, sqlite3_errmsg(f->db));
        long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
        sqlite3_finalize(st);
        return v;
}

static inline void sql_exec(struct fx *f, const char *fmt, ...)
{
        char q[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(q, sizeof q, fmt, ap);
        va_end(ap);
        char *err = NULL;
        if (sqlite3_exec(f->db, q, NULL, NULL, &err) != SQLITE_OK)
                fail_msg("%s: %s", q, err ? err : "?");
}

/* The history of an object: "from>to" per event, oldest first, joined by
 * spaces ("-" for no from-status). */
static inline const char *history(struct fx *f, const char *type, int64_t id, char *out, size_t sz)
{
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(f->db,
                                            "SELECT coalesce(nullif(from_status, ''), '-'), "
                                            "to_status FROM events WHERE object_type = ? AND "
                                            "object_id = ? ORDER BY id",
                                            -1, &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, id);
        out[0] = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
                size_t l = strlen(out);
                snprintf(out + l, sz - l, "%s%s>%s", l ? " " : "",
                         (const char *)sqlite3_column_text(st, 0),
                         (const char *)sqlite3_column_text(st, 1));
        }
        sqlite3_finalize(st);
        return out;
}

#define ASSERT_HISTORY(f, type, id, want)                                                          \
        do {                                                                                       \
                char h_[1024];                                                                     \
                assert_string_equal(history((f), (type), (id), h_, sizeof h_), (want));            \
        } while (0)

/* The reason of the newest event of an object. */
static inline void last_reason(struct fx *f, const char *type, int64_t id, char *out, size_t sz)
{
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(f->db,
                                            "SELECT coalesce(reason, ''), actor FROM events "
                                            "WHERE object_type = ? AND object_id = ? ORDER BY id "
                                            "DESC LIMIT 1",
                                            -1, &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, id);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        snprintf(out, sz, "%s", (const char *)sqlite3_column_text(st, 0));
        assert_string_equal((const char *)sqlite3_column_text(st, 1), "unit:tester");
        sqlite3_finalize(st);
}

/* Everything a refused call must leave unchanged: the number of rows of
 * every table that a change writes. */
static inline long long rows_now(struct fx *f)
{
        return sql_int(f, "SELECT (SELECT count(*) FROM events) * 1000000 + "
                          "(SELECT count(*) FROM certificates) * 10000 + "
                          "(SELECT count(*) FROM revocations) * 1000 + "
                          "(SELECT count(*) FROM reissues) * 100 + "
                          "(SELECT count(*) FROM orders) * 10 + (SELECT count(*) FROM crls)");
}

static inline long long state_now(struct fx *f)
{
        /* rows, plus a checksum of the status columns */
        return rows_now(f) * 7 +
               sql_int(f, "SELECT coalesce(sum(length(status) * id), 0) FROM certificates") +
               sql_int(f, "SELECT coalesce(sum(length(status) * id), 0) FROM orders") * 3;
}

/* ---- set-up ---- */

static inline int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(p);
}

static inline int fx_setup(void **state)
{
        struct fx *f = calloc(1, sizeof *f);
        snprintf(f->dir, sizeof f->dir, "/tmp/quill-service-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        setenv("QUILL_CA_PASSPHRASE", "unit-test-passphrase", 1);
        unsetenv("QUILL_DATA_KEY");
        qlog_set_level(QLOG_ERROR);
        config_defaults(&f->cfg);
        /* public profiles refuse a loopback base_url (it ends up in certificates) */
        free(f->cfg.server_base_url);
        f->cfg.server_base_url = strdup("http://pki.example.com");
        OK(t_open(f, &ei_));
        struct ca_rec *issuing = NULL;
        OK(t_ca_init(f, NULL, NULL, &issuing, &ei_));
        f->issuing_id = issuing->id;
        f->root_id = issuing->parent_id;
        ca_rec_free(issuing);
        char path[128];
        snprintf(path, sizeof path, "%s/quill.db", f->dir);
        assert_int_equal(sqlite3_open(path, &f->db), SQLITE_OK);
        sqlite3_busy_timeout(f->db, 5000);
        *state = f;
        return 0;
}

static inline int fx_teardown(void **state)
{
        struct fx *f = *state;
        sqlite3_close(f->db);
        service_close(f->s);
        service_secret_free(f->secret);
        config_free(&f->cfg);
        nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

#endif
