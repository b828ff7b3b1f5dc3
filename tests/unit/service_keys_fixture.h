/*
 * service_keys_fixture.h - what test_service_keys.c and
 * test_service_reuse.c share on top of service_fixture.h: keys and CSRs,
 * acting as another tenant, certificate status and CRL checks, and DV
 * certificates made without DNS (the order put where its validate job would
 * have left it, then its issue job run with svc_run_job). One thread.
 */
#ifndef QUILL_TEST_SERVICE_KEYS_FIXTURE_H
#define QUILL_TEST_SERVICE_KEYS_FIXTURE_H

#include "service_fixture.h"

#include <openssl/x509.h>

#include "base/hex.h"
#include "pki/pki_csr.h"
#include "pki/pki_key.h"
#include "pki/pki_pem.h"
#include "policy/policy.h"
#include "service/service_internal.h"

#define DAY QTIME_DAY

/* The BR reuse period today (200 days in 2026, 100 from 2027-03-15 ...). */
static inline qtime_t period(void)
{
        return policy_validation_reuse_days(qtime_now(), 0) * DAY;
}

/* ---- keys and CSRs ---- */

static inline EVP_PKEY *new_key(void)
{
        EVP_PKEY *k = NULL;
        OK(pki_key_generate(KEYALG_EC256, &k, &ei_));
        return k;
}

/* A PEM CSR for `name` with key k (caller frees). */
static inline char *csr_for(EVP_PKEY *k, const char *name)
{
        struct qbuf b;
        qbuf_init(&b, MAX_CSR_BYTES);
        const char *names[] = {name};
        OK(pki_csr_build(k, names, 1, &b, &ei_));
        char *s = strdup(qbuf_str(&b));
        qbuf_free(&b);
        return s;
}

static inline void spki_of(EVP_PKEY *k, char out[65])
{
        OK(pki_key_id(k, out, &ei_));
}

/* Signs a private-profile certificate for `name` with key k. */
static inline struct cert_rec *sign_with(struct fx *f, EVP_PKEY *k, const char *name)
{
        char *csr = csr_for(k, name);
        struct cert_rec *c = NULL;
        OK(t_sign(f, csr, &c, &ei_));
        free(csr);
        return c;
}

static inline void act_as(struct fx *f, const char *tenant)
{
        struct principal p;
        OK(service_local_principal(f->s, tenant, "unit:tester", &p, &ei_));
        service_set_principal(f->s, &p);
}

static inline int64_t make_tenant(struct fx *f, const char *name)
{
        struct tenant_rec t;
        OK(service_tenant_create(f->s, name, &t, &ei_));
        return t.id;
}

static inline const char *cert_status(struct fx *f, int64_t id, char *out, size_t sz)
{
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT status FROM certificates WHERE id = ?",
                                            -1, &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_int64(st, 1, id);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        snprintf(out, sz, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        return out;
}

#define ASSERT_STATUS(f, id, want)                                                                 \
        do {                                                                                       \
                char s_[32];                                                                       \
                assert_string_equal(cert_status((f), (id), s_, sizeof s_), (want));                \
        } while (0)

static inline bool on_crl(struct fx *f, const struct cert_rec *c)
{
        X509_CRL *crl = NULL;
        OK(service_crl_flush(f->s, &ei_)); /* the CRL jobs the revocations queued */
        OK(t_crl_of(f, c, &crl, &ei_));
        uint8_t raw[32];
        size_t n = 0;
        assert_true(hex_decode(c->serial, raw, sizeof raw, &n));
        ASN1_INTEGER *serial = ASN1_INTEGER_new();
        BIGNUM *bn = BN_bin2bn(raw, (int)n, NULL);
        BN_to_ASN1_INTEGER(bn, serial);
        X509_REVOKED *r = NULL;
        bool found = X509_CRL_get0_by_serial(crl, &r, serial) == 1;
        BN_free(bn);
        ASN1_INTEGER_free(serial);
        X509_CRL_free(crl);
        return found;
}

static inline enum qerr revoke_kc(struct fx *f, int64_t id, struct revoke_out *out,
                                  struct qerr_info *ei)
{
        return t_revoke(f, id, REASON_KEY_COMPROMISE, NULL, out, ei);
}

/* ---- DV certificates without DNS ---- */

/* A public order (dv, ov, ev) for `name` (CSR, or a generated key when csr
 * is NULL). */
static inline struct order_rec *public_order(struct fx *f, enum cert_profile profile,
                                             const char *name, const char *csr)
{
        const char *names[] = {name};
        struct org_fields org = {
            .organization = "Example GmbH", .country = "DE", .locality = "Berlin"};
        struct order_apply_req r = {.names = names,
                                    .nnames = 1,
                                    .profile = profile,
                                    .method = "dns",
                                    .key_alg = csr ? NULL : "ec256",
                                    .csr = (const uint8_t *)csr,
                                    .csr_len = csr ? strlen(csr) : 0,
                                    .org = profile == PROFILE_DV ? NULL : &org};
        struct order_rec *o = NULL;
        OK(service_order_apply(f->s, &r, &o, &ei_));
        return o;
}

static inline struct order_rec *dv_order(struct fx *f, const char *name, const char *csr)
{
        return public_order(f, PROFILE_DV, name, csr);
}

/* Runs the order's issue job as a worker would, after putting the order
 * where its validate job would have left it, its names validated
 * `validated_ago` seconds ago (CAA checked just now: no DNS needed). */
static inline void run_issue_job(struct fx *f, int64_t order_id, qtime_t validated_ago)
{
        sql_exec(f,
                 "UPDATE order_names SET validation_status = 'valid', caa_status = 'allowed', "
                 "caa_checked_at = strftime('%%s','now'), validated_at = strftime('%%s','now') - "
                 "%lld WHERE order_id = %lld",
                 (long long)validated_ago, (long long)order_id);
        sql_exec(f, "UPDATE orders SET status = 'issuing' WHERE id = %lld", (long long)order_id);
        sql_exec(f, "UPDATE jobs SET state = 'done' WHERE order_id = %lld", (long long)order_id);
        sql_exec(f,
                 "INSERT INTO jobs (kind, order_id, state, run_at, created_at, updated_at) "
                 "VALUES ('issue', %lld, 'queued', 0, 0, 0)",
                 (long long)order_id);
        struct job_rec j = {.order_id = order_id};
        j.id = sql_int(f, "SELECT id FROM jobs WHERE order_id = %lld AND state = 'queued'",
                       (long long)order_id);
        snprintf(j.kind, sizeof j.kind, "issue");
        OK(svc_run_job(f->s, NULL, &j, &ei_));
}

/* A validation of `name` by `tenant`, `ago` seconds ago, as an order of
 * that tenant made it (the order `order_id`). */
static inline long long add_validation(struct fx *f, int64_t tenant, const char *name,
                                       const char *method, qtime_t ago, int64_t order_id)
{
        sql_exec(f,
                 "INSERT INTO validations (tenant_id, name, method, validated_at, order_id) "
                 "VALUES (%lld, '%s', '%s', strftime('%%s','now') - %lld, %lld)",
                 (long long)tenant, name, method, (long long)ago, (long long)order_id);
        return sql_int(f, "SELECT max(id) FROM validations");
}

/* A DV certificate for `name` with key k, its name validated `ago` seconds
 * ago (as recorded in validations). */
static inline struct cert_rec *issue_public(struct fx *f, enum cert_profile profile, EVP_PKEY *k,
                                            const char *name, qtime_t ago)
{
        char *csr = csr_for(k, name);
        struct order_rec *o = public_order(f, profile, name, csr);
        free(csr);
        run_issue_job(f, o->id, 0);
        sql_exec(f, "DELETE FROM validations WHERE order_id = %lld", (long long)o->id);
        add_validation(f, o->tenant_id, name, "dns", ago, o->id);
        struct order_rec *done = NULL;
        OK(t_order_get(f, o->id, &done, &ei_));
        if (done->status != ORDER_ISSUED)
                fail_msg("order %lld for %s is %s: %s: %s", (long long)done->id, name,
                         order_status_name(done->status), done->failure_code,
                         done->failure_message ? done->failure_message : "");
        struct cert_rec *c = NULL;
        OK(t_get(f, done->certificate_id, &c, &ei_));
        order_rec_free(o);
        order_rec_free(done);
        return c;
}

static inline struct cert_rec *issue_dv(struct fx *f, EVP_PKEY *k, const char *name, qtime_t ago)
{
        return issue_public(f, PROFILE_DV, k, name, ago);
}

#endif
