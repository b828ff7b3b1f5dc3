/*
 * test_reconcile.c - two-phase issuance in the service layer (issue 7):
 * what reconciliation does with each state a killed process can leave
 * behind, with a real signer process (the test binary itself, see
 * service_fixture.h). A "killed" issuance is made with the first half of
 * the real path (svc_issue_one: the reservation committed, the signer asked,
 * its journal written) and no store; the reservation's owner is then made
 * one that no longer runs. Each case checks the rows and events written,
 * the counts reported, and that the journal shrinks once everything in it
 * is stored.
 */
#include "service_fixture.h"

#include <dirent.h>
#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "base/hex.h"
#include "pki/pki_pem.h"
#include "service/svc_issue_int.h"

#define DEAD_OWNER "00000000-dead-beef-0000-000000000000/1/1"

/* The first half of an issuance: reserved and signed, never stored. */
static struct cert_rec *signed_not_stored(struct fx *f, const char *name, const char *purpose,
                                          int64_t order_id, EVP_PKEY **key_out)
{
        EVP_PKEY *key = NULL;
        struct qerr_info ei;
        assert_int_equal(pki_key_generate(KEYALG_EC256, &key, &ei), QERR_OK);
        char *names[] = {(char *)name};
        struct issue_input in = {.tenant_id = 1,
                                 .tenant = "default",
                                 .pub = key,
                                 .key_alg = "ec256",
                                 .names = names,
                                 .nnames = 1,
                                 .profile = order_id ? PROFILE_DV : PROFILE_PRIVATE,
                                 .validated = order_id != 0,
                                 .purpose = purpose,
                                 .order_id = order_id,
                                 .key = key};
        struct cert_rec *c = NULL;
        if (svc_issue_one(f->s, &in, &c, &ei) != QERR_OK)
                fail_msg("svc_issue_one: %s: %s", qerr_code(ei.code), qerr_message(&ei));
        if (key_out)
                *key_out = key;
        else
                EVP_PKEY_free(key);
        return c;
}

static void owner_dies(struct fx *f, const char *serial)
{
        sql_exec(f, "UPDATE serials SET owner = '%s' WHERE serial = '%s'", DEAD_OWNER, serial);
}

static struct reconcile_stats reconcile(struct fx *f)
{
        struct reconcile_stats st;
        OK(service_reconcile(f->s, &st, &ei_));
        return st;
}

static size_t journal_files(struct fx *f)
{
        char dir[128];
        snprintf(dir, sizeof dir, "%s/ca/journal", f->dir);
        DIR *d = opendir(dir);
        size_t n = 0;
        struct dirent *e;
        while (d && (e = readdir(d)))
                n += strstr(e->d_name, ".jnl") != NULL;
        if (d)
                closedir(d);
        return n;
}

static int64_t cert_of_serial(struct fx *f, const char *serial)
{
        return sql_int(f, "SELECT coalesce((SELECT id FROM certificates WHERE serial = '%s'), 0)",
                       serial);
}

static bool on_crl(struct fx *f, const char *serial_hex)
{
        X509_CRL *crl = NULL;
        OK(service_crl_flush(f->s, &ei_)); /* the CRL jobs the revocations queued */
        int shard = (int)sql_int(f,
                                 "SELECT coalesce((SELECT crl_shard FROM certificates WHERE "
                                 "serial = '%s'), -1)",
                                 serial_hex);
        OK(t_crl(f, f->issuing_id, shard < 0 ? CRL_SHARD_NONE : shard, &crl, &ei_));
        uint8_t bytes[20];
        size_t n = 0;
        assert_true(hex_decode(serial_hex, bytes, sizeof bytes, &n));
        ASN1_INTEGER *ai = ASN1_INTEGER_new();
        BIGNUM *bn = BN_bin2bn(bytes, (int)n, NULL);
        BN_to_ASN1_INTEGER(bn, ai);
        X509_REVOKED *rev = NULL;
        bool found = X509_CRL_get0_by_serial(crl, &rev, ai) == 1;
        BN_free(bn);
        ASN1_INTEGER_free(ai);
        X509_CRL_free(crl);
        return found;
}

/* Killed between "signed" and "stored": the next reconciliation stores the
 * certificate from the journal, with its key, and the event "recovered";
 * the journal file goes once everything in it is stored. */
static void test_signed_not_stored_is_recovered(void **state)
{
        struct fx *f = *state;
        struct cert_rec *c = signed_not_stored(f, "killed.example.com", NULL, 0, NULL);
        assert_int_equal(cert_of_serial(f, c->serial), 0);
        assert_int_equal(journal_files(f), 1);
        /* its owner (this process) is alive: left to it */
        struct reconcile_stats st = reconcile(f);
        assert_int_equal(st.journaled, 1);
        assert_int_equal(st.recovered, 0);
        assert_int_equal(st.pending, 1);
        assert_int_equal(cert_of_serial(f, c->serial), 0);
        owner_dies(f, c->serial);
        st = reconcile(f);
        assert_int_equal(st.recovered, 1);
        assert_int_equal(st.revoked, 0);
        assert_int_equal(st.trimmed, 1);
        int64_t id = cert_of_serial(f, c->serial);
        assert_true(id > 0);
        ASSERT_HISTORY(f, "certificate", id, "->recovered");
        struct cert_rec *got = NULL;
        OK(t_get(f, id, &got, &ei_));
        assert_int_equal(got->status, CERT_ISSUED);
        assert_string_equal(got->cert_pem, c->cert_pem);
        assert_string_equal(got->names[0], "killed.example.com");
        assert_int_equal(got->key_protection, KEYPROT_DATA_KEY);
        assert_null(got->csr_pem); /* none was given */
        cert_rec_free(got);
        OK(t_download(f, id, "pem", NULL, NULL, &ei_)); /* the key opens */
        assert_int_equal(
            sql_int(f, "SELECT state = 'issued' FROM serials WHERE serial = '%s'", c->serial), 1);
        assert_int_equal(journal_files(f), 0);
        /* a second run finds nothing to do */
        st = reconcile(f);
        assert_int_equal(st.journaled + st.recovered + st.voided + st.pending, 0);
        cert_rec_free(c);
}

/* Killed between "reserved" and the signer: no journal record, so the
 * serial was never signed: void, with an event; a live owner's one stays. */
static void test_reserved_never_signed_is_voided(void **state)
{
        struct fx *f = *state;
        sql_exec(f,
                 "INSERT INTO serials (serial, ca_id, tenant_id, purpose, profile, key_algorithm, "
                 "state, owner, reserved_at) VALUES ('41000000000000000000000000000001', %lld, "
                 "1, 'certificate', 'private', 'ec256', 'reserved', '%s', %lld), "
                 "('41000000000000000000000000000002', %lld, 1, 'certificate', 'private', "
                 "'ec256', 'reserved', NULL, %lld)",
                 (long long)f->issuing_id, DEAD_OWNER, (long long)qtime_now(),
                 (long long)f->issuing_id, (long long)qtime_now());
        char self[128];
        svc_owner_self(self, sizeof self);
        sql_exec(f,
                 "INSERT INTO serials (serial, ca_id, tenant_id, purpose, profile, key_algorithm, "
                 "state, owner, reserved_at) VALUES ('41000000000000000000000000000003', %lld, "
                 "1, 'certificate', 'private', 'ec256', 'reserved', '%s', %lld)",
                 (long long)f->issuing_id, self, (long long)qtime_now());
        struct reconcile_stats st = reconcile(f);
        assert_int_equal(st.voided, 2);
        assert_int_equal(st.pending, 1);
        assert_int_equal(sql_int(f, "SELECT count(*) FROM serials WHERE state = 'void'"), 2);
        int64_t id = sql_int(f, "SELECT id FROM serials WHERE serial = "
                                "'41000000000000000000000000000001'");
        ASSERT_HISTORY(f, "serial", id, "reserved>void");
        char why[600];
        last_reason(f, "serial", id, why, sizeof why);
        assert_non_null(strstr(why, "never signed"));
        /* the live one, past its lease: void too */
        sql_exec(f, "UPDATE serials SET reserved_at = reserved_at - 3600 WHERE serial = "
                    "'41000000000000000000000000000003'");
        st = reconcile(f);
        assert_int_equal(st.voided, 1);
        assert_int_equal(sql_int(f, "SELECT count(*) FROM serials WHERE state = 'reserved'"), 0);
}

/* An order's certificate signed by a killed worker: the order becomes
 * issued with it, its jobs closed. */
static void test_order_completed_from_the_journal(void **state)
{
        struct fx *f = *state;
        struct order_rec *o = NULL;
        OK(t_order_apply(f, "order.example.com", PROFILE_DV, "dns", &o, &ei_));
        sql_exec(f, "UPDATE orders SET status = 'issuing' WHERE id = %lld", (long long)o->id);
        sql_exec(f,
                 "INSERT INTO jobs (kind, order_id, state, run_at, created_at, updated_at) "
                 "SELECT 'issue', %lld, 'running', 0, 0, 0",
                 (long long)o->id);
        sql_exec(f, "UPDATE jobs SET state = 'done' WHERE order_id = %lld AND kind = 'validate'",
                 (long long)o->id);
        struct order_rec *fresh = NULL;
        OK(t_order_get(f, o->id, &fresh, &ei_));
        struct cert_rec *c = NULL;
        OK(svc_issue_order(f->s, fresh, &c, &ei_));
        order_rec_free(fresh);
        /* a second worker cannot sign for it meanwhile */
        OK(t_order_get(f, o->id, &fresh, &ei_));
        struct cert_rec *c2 = NULL;
        REFUSED(QERR_ISSUE_IN_PROGRESS, svc_issue_order(f->s, fresh, &c2, &ei_));
        order_rec_free(fresh);
        owner_dies(f, c->serial);
        struct reconcile_stats st = reconcile(f);
        assert_int_equal(st.recovered, 1);
        assert_int_equal(st.revoked, 0);
        OK(t_order_get(f, o->id, &fresh, &ei_));
        assert_int_equal(fresh->status, ORDER_ISSUED);
        assert_int_equal(fresh->certificate_id, cert_of_serial(f, c->serial));
        assert_null(fresh->key_blob); /* the key went to the certificate */
        ASSERT_HISTORY(f, "certificate", fresh->certificate_id, "->recovered");
        assert_int_equal(
            sql_int(f, "SELECT count(*) FROM jobs WHERE order_id = %lld AND state <> 'done'",
                    (long long)o->id),
            0);
        OK(t_download(f, fresh->certificate_id, "pem", NULL, NULL, &ei_));
        order_rec_free(fresh);
        order_rec_free(o);
        cert_rec_free(c);
}

/* What it belonged to no longer wants it: stored, revoked at once
 * (cessationOfOperation), on the CRL. The same for a reservation that was
 * made void and a journal record with no reservation at all. */
static void test_unwanted_certificates_are_revoked(void **state)
{
        struct fx *f = *state;
        struct order_rec *o = NULL;
        OK(t_order_apply(f, "gone.example.com", PROFILE_DV, "dns", &o, &ei_));
        sql_exec(f, "UPDATE orders SET status = 'issuing' WHERE id = %lld", (long long)o->id);
        struct order_rec *fresh = NULL;
        OK(t_order_get(f, o->id, &fresh, &ei_));
        struct cert_rec *c1 = NULL;
        OK(svc_issue_order(f->s, fresh, &c1, &ei_));
        order_rec_free(fresh);
        owner_dies(f, c1->serial);
        sql_exec(f, "UPDATE orders SET status = 'failed' WHERE id = %lld", (long long)o->id);

        struct cert_rec *c2 = signed_not_stored(f, "void.example.com", NULL, 0, NULL);
        sql_exec(f, "UPDATE serials SET state = 'void', owner = NULL WHERE serial = '%s'",
                 c2->serial);

        /* signed with no reservation (a database older than the journal) */
        EVP_PKEY *k = NULL;
        OK(pki_key_generate(KEYALG_EC256, &k, &ei_));
        struct qbuf spki, cader, frame;
        qbuf_init(&spki, 8192);
        qbuf_init(&cader, 65536);
        qbuf_init(&frame, MAX_SIGNER_MSG_BYTES);
        OK(pki_key_spki_der(k, &spki, &ei_));
        struct ca_rec *ca = NULL;
        OK(service_ca_get(f->s, f->issuing_id, &ca, &ei_));
        X509 *cax = NULL;
        OK(pki_cert_read(ca->cert_pem, strlen(ca->cert_pem), &cax, &ei_));
        OK(pki_cert_der(cax, &cader, &ei_));
        uint8_t serial[16];
        memset(serial, 0x5c, sizeof serial);
        serial[0] = 0x41;
        struct signer_req req = {.type = SMSG_SIGN_CERT};
        req.issuer_der.p = cader.data;
        req.issuer_der.len = cader.len;
        req.spki_der.p = spki.data;
        req.spki_der.len = spki.len;
        req.names[0] = sbytes_str("nores.example.com");
        req.nnames = 1;
        req.not_before = qtime_now();
        req.not_after = req.not_before + 30 * QTIME_DAY;
        req.serial.p = serial;
        req.serial.len = sizeof serial;
        req.profile = sbytes_str("private");
        req.crl_url = sbytes_str("http://pki.example.com/crl/2.crl");
        struct signer_resp resp;
        OK(signer_call(f->s->signer, &req, &frame, &resp, &ei_));
        char hex3[41];
        hex_encode(serial, sizeof serial, hex3, sizeof hex3);

        struct reconcile_stats st = reconcile(f);
        assert_int_equal(st.recovered, 3);
        assert_int_equal(st.revoked, 3);
        const char *serials[] = {c1->serial, c2->serial, hex3};
        for (int i = 0; i < 3; i++) {
                int64_t id = cert_of_serial(f, serials[i]);
                assert_true(id > 0);
                ASSERT_HISTORY(f, "certificate", id, "->recovered issued>revoked");
                assert_int_equal(sql_int(f,
                                         "SELECT revoke_reason FROM certificates WHERE id = %lld",
                                         (long long)id),
                                 REASON_CESSATION);
                assert_true(on_crl(f, serials[i]));
        }
        /* the one without a reservation belongs to the service's own tenant */
        assert_int_equal(sql_int(f, "SELECT tenant_id FROM certificates WHERE serial = '%s'", hex3),
                         QUILL_TENANT_SYSTEM);
        OK(t_order_get(f, o->id, &fresh, &ei_));
        assert_int_equal(fresh->status, ORDER_FAILED);
        assert_int_equal(fresh->certificate_id, 0);
        order_rec_free(fresh);
        assert_int_equal(journal_files(f), 0);
        X509_free(cax);
        ca_rec_free(ca);
        qbuf_free(&spki);
        qbuf_free(&cader);
        qbuf_free(&frame);
        EVP_PKEY_free(k);
        cert_rec_free(c1);
        cert_rec_free(c2);
        order_rec_free(o);
}

/* A private order of the REST API, killed after signing: the certificate
 * and the order that records it. */
static void test_private_order_recovered_with_its_order(void **state)
{
        struct fx *f = *state;
        struct cert_rec *c = signed_not_stored(f, "api.example.com", "private_order", 0, NULL);
        owner_dies(f, c->serial);
        long long orders = sql_int(f, "SELECT count(*) FROM orders");
        struct reconcile_stats st = reconcile(f);
        assert_int_equal(st.recovered, 1);
        int64_t id = cert_of_serial(f, c->serial);
        assert_int_equal(sql_int(f, "SELECT count(*) FROM orders"), orders + 1);
        assert_int_equal(sql_int(f,
                                 "SELECT count(*) FROM orders WHERE certificate_id = %lld AND "
                                 "status = 'issued'",
                                 (long long)id),
                         1);
        cert_rec_free(c);
}

/* A signer that died with the request: the reservation is handed to
 * reconciliation at once (no owner), which settles it from the journal. */
static void test_handed_over_is_settled(void **state)
{
        struct fx *f = *state;
        struct cert_rec *c = signed_not_stored(f, "handed.example.com", NULL, 0, NULL);
        svc_issue_store_failed(f->s, c->serial, 1);
        assert_int_equal(
            sql_int(f, "SELECT owner IS NULL FROM serials WHERE serial = '%s'", c->serial), 1);
        struct reconcile_stats st = reconcile(f);
        assert_int_equal(st.recovered, 1);
        assert_true(cert_of_serial(f, c->serial) > 0);
        cert_rec_free(c);
}

int main(int argc, char **argv)
{
        FIXTURE_SIGNER_MAIN(argc, argv);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_signed_not_stored_is_recovered, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_reserved_never_signed_is_voided, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_order_completed_from_the_journal, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_unwanted_certificates_are_revoked, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_private_order_recovered_with_its_order, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_handed_over_is_settled, fx_setup, fx_teardown),
        };
        return cmocka_run_group_tests_name("reconcile", tests, NULL, NULL);
}
