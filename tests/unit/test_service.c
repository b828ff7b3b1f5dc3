/*
 * test_service.c - the service layer's certificate transitions (RULES.md
 * §5-§7), on a temporary data directory with a CA made through the service
 * API: apply -> issued, revoke (private) -> revoked and on the CRL,
 * reissue (and a reissue that fails half-way), revoking an original with
 * its reissues, delete, download refusals. Each change is checked with the
 * event rows written with it; each refusal leaves the database as it was.
 * Orders and reviews: test_service_orders.c. Shared set-up and the calls to
 * the service API: service_fixture.h.
 */
#include "service_fixture.h"

#include "pki/pki_csr.h"
#include "pki/pki_key.h"
#include "pki/pki_pem.h"

/* ---- CAs ---- */

static void test_ca_init(void **state)
{
        struct fx *f = *state;
        assert_true(f->root_id > 0 && f->issuing_id > f->root_id);
        ASSERT_HISTORY(f, "ca", f->root_id, "->active");
        ASSERT_HISTORY(f, "ca", f->issuing_id, "->active");
        /* each CA has its first CRLs: the root one, the issuing CA its
         * unsharded one and its shards */
        X509_CRL *crl = NULL;
        OK(t_crl(f, f->root_id, CRL_SHARD_NONE, &crl, &ei_));
        X509_CRL_free(crl);
        REFUSED(QERR_NOT_FOUND, t_crl(f, f->root_id, 0, &crl, &ei_));
        OK(t_crl(f, f->issuing_id, CRL_SHARD_NONE, &crl, &ei_));
        X509_CRL_free(crl);
        for (int k = 0; k < 16; k++) {
                OK(t_crl(f, f->issuing_id, k, &crl, &ei_));
                X509_CRL_free(crl);
        }
        REFUSED(QERR_NOT_FOUND, t_crl(f, f->issuing_id, 16, &crl, &ei_));
        assert_int_equal(sql_int(f, "SELECT count(*) FROM jobs WHERE kind = 'crl' AND state <> "
                                    "'done'"),
                         0);

        long long before = state_now(f);
        struct ca_rec *ca = NULL;
        REFUSED(QERR_CA_EXISTS, t_ca_init(f, NULL, NULL, &ca, &ei_));
        REFUSED(QERR_USAGE, t_ca_init(f, NULL, "ec999", &ca, &ei_));
        REFUSED(QERR_USAGE, t_ca_init(f, "ec384", "sm2", &ca, &ei_));
        assert_null(ca);
        assert_int_equal(state_now(f), before);
        /* an RSA issuing CA under the same root */
        OK(t_ca_init(f, NULL, "rsa2048", &ca, &ei_));
        assert_int_equal(ca->parent_id, f->root_id);
        ASSERT_HISTORY(f, "ca", ca->id, "->active");
        ca_rec_free(ca);
}

/* ---- apply ---- */

static void test_apply_issues(void **state)
{
        struct fx *f = *state;
        struct cert_rec *c = NULL;
        OK(t_apply(f, "www.example.com", PROFILE_PRIVATE, NULL, &c, &ei_));
        assert_int_equal(c->status, CERT_ISSUED);
        assert_int_equal(c->origin, ORIGIN_ISSUED);
        assert_int_equal(c->ca_id, f->issuing_id);
        assert_int_equal(c->key_protection, KEYPROT_DATA_KEY);
        assert_int_equal(strlen(c->serial), 32);
        assert_int_equal(c->nnames, 2);
        assert_string_equal(c->names[0], "www.example.com");
        assert_non_null(c->csr_pem);
        ASSERT_HISTORY(f, "certificate", c->id, "->issued");
        char why[600];
        last_reason(f, "certificate", c->id, why, sizeof why);
        assert_non_null(strstr(why, "sealed under the data key"));
        assert_non_null(strstr(why, c->serial));
        /* what is stored is what came back */
        struct cert_rec *g = NULL;
        OK(t_get(f, c->id, &g, &ei_));
        assert_string_equal(g->serial, c->serial);
        assert_string_equal(g->cert_pem, c->cert_pem);
        X509 *x = NULL;
        OK(pki_cert_read(g->cert_pem, strlen(g->cert_pem), &x, &ei_));
        char hex[64];
        pki_cert_serial_hex(x, hex, sizeof hex);
        assert_string_equal(hex, c->serial);
        X509_free(x);
        cert_rec_free(g);
        cert_rec_free(c);
}

static void test_apply_refusals_change_nothing(void **state)
{
        struct fx *f = *state;
        long long before = state_now(f);
        struct cert_rec *c = NULL;
        REFUSED(QERR_NAME_INVALID,
                t_apply(f, "bad_name.example.com", PROFILE_PRIVATE, NULL, &c, &ei_));
        REFUSED(QERR_POLICY_DENIED, t_apply(f, "www.example.com", PROFILE_DV, NULL, &c, &ei_));
        REFUSED(QERR_KEY_PASSWORD_WEAK,
                t_apply(f, "www.example.com", PROFILE_PRIVATE, "abc", &c, &ei_));
        REFUSED(QERR_NOT_FOUND, t_get(f, 999, &c, &ei_));
        assert_null(c);
        assert_int_equal(state_now(f), before);
}

/* ---- revoke ---- */

static bool crl_lists(X509_CRL *crl, const char *serial_hex, int *reason)
{
        STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
        for (int i = 0; i < sk_X509_REVOKED_num(rev); i++) {
                X509_REVOKED *r = sk_X509_REVOKED_value(rev, i);
                BIGNUM *bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), NULL);
                char *h = BN_bn2hex(bn);
                bool same = strcasecmp(h, serial_hex) == 0;
                OPENSSL_free(h);
                BN_free(bn);
                if (same) {
                        ASN1_ENUMERATED *e =
                            X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
                        *reason = e ? (int)ASN1_ENUMERATED_get(e) : 0;
                        ASN1_ENUMERATED_free(e);
                        return true;
                }
        }
        return false;
}

static long crl_number(X509_CRL *crl)
{
        ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
        long v = ASN1_INTEGER_get(n);
        ASN1_INTEGER_free(n);
        return v;
}

static void test_revoke_private(void **state)
{
        struct fx *f = *state;
        struct cert_rec *c = NULL;
        OK(t_apply(f, "revoke.example.com", PROFILE_PRIVATE, NULL, &c, &ei_));
        assert_true(c->crl_shard >= 0 && c->crl_shard < 16);
        X509_CRL *crl = NULL;
        OK(t_crl_of(f, c, &crl, &ei_));
        long first = crl_number(crl);
        int reason = -1;
        assert_false(crl_lists(crl, c->serial, &reason));
        X509_CRL_free(crl);

        /* the revocation's transaction queues the CRL of the certificate's
         * shard (and signs nothing); the command makes it after the commit */
        struct revoke_out out;
        struct revoke_req rq = {.id = c->id, .reason = REASON_KEY_COMPROMISE};
        OK(service_cert_revoke(f->s, &rq, &out, &ei_));
        assert_int_equal(sql_int(f,
                                 "SELECT count(*) FROM jobs WHERE kind = 'crl' AND state = "
                                 "'queued' AND ca_id = %lld AND shard = %d",
                                 (long long)f->issuing_id, c->crl_shard),
                         1);
        OK(t_crl_of(f, c, &crl, &ei_));
        assert_int_equal(crl_number(crl), first);
        X509_CRL_free(crl);
        OK(service_crl_flush(f->s, &ei_));
        assert_int_equal(
            sql_int(f, "SELECT count(*) FROM jobs WHERE kind = 'crl' AND state = 'queued'"), 0);
        assert_int_equal(out.nrevoked, 1);
        assert_int_equal(out.revoked[0], c->id);
        assert_int_equal(out.proof_order, 0);
        assert_int_equal(out.review_id, 0);
        free(out.revoked);
        struct cert_rec *g = NULL;
        OK(t_get(f, c->id, &g, &ei_));
        assert_int_equal(g->status, CERT_REVOKED);
        assert_int_equal(g->revoke_reason, REASON_KEY_COMPROMISE);
        assert_true(g->revoked_at > 0);
        cert_rec_free(g);
        ASSERT_HISTORY(f, "certificate", c->id, "->issued issued>revoked");
        long long rev =
            sql_int(f, "SELECT id FROM revocations WHERE certificate_id = %lld", (long long)c->id);
        ASSERT_HISTORY(f, "revocation", rev, "->done");
        assert_int_equal(sql_int(f, "SELECT count(*) FROM revocations WHERE status = 'done'"), 1);
        /* the new CRL went out after the revocation */
        OK(t_crl_of(f, c, &crl, &ei_));
        assert_true(crl_number(crl) > first);
        assert_true(crl_lists(crl, c->serial, &reason));
        assert_int_equal(reason, REASON_KEY_COMPROMISE);
        X509_CRL_free(crl);

        long long before = state_now(f);
        REFUSED(QERR_REVOKE_ALREADY, t_revoke(f, c->id, REASON_SUPERSEDED, NULL, &out, &ei_));
        REFUSED(QERR_NOT_FOUND, t_revoke(f, 999, REASON_SUPERSEDED, NULL, &out, &ei_));
        struct cert_rec *d = NULL;
        OK(t_apply(f, "keep.example.com", PROFILE_PRIVATE, NULL, &d, &ei_));
        before = state_now(f);
        REFUSED(QERR_REVOKE_REASON, t_revoke(f, d->id, 6 /* certificateHold */, NULL, &out, &ei_));
        REFUSED(QERR_REVOKE_REASON, t_revoke(f, d->id, 8 /* removeFromCRL */, NULL, &out, &ei_));
        assert_int_equal(state_now(f), before);
        assert_null(out.revoked);
        cert_rec_free(d);
        cert_rec_free(c);
}

/* ---- reissue ---- */

static void test_reissue_same_csr_and_new_key(void **state)
{
        struct fx *f = *state;
        struct cert_rec *orig = NULL, *same = NULL, *fresh = NULL;
        OK(t_apply(f, "reissue.example.com", PROFILE_PRIVATE, NULL, &orig, &ei_));
        OK(t_reissue(f, orig->id, REISSUE_SAME_CSR, NULL, NULL, &same, &ei_));
        assert_int_equal(same->parent_id, orig->id);
        assert_int_equal(same->not_after, orig->not_after);
        assert_string_not_equal(same->serial, orig->serial);
        assert_int_equal(same->nnames, orig->nnames);
        assert_int_equal(same->key_protection, KEYPROT_DATA_KEY);
        X509 *a = NULL, *b = NULL;
        OK(pki_cert_read(orig->cert_pem, strlen(orig->cert_pem), &a, &ei_));
        OK(pki_cert_read(same->cert_pem, strlen(same->cert_pem), &b, &ei_));
        assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(b)), 1);
        X509_free(b);
        ASSERT_HISTORY(f, "certificate", orig->id, "->issued issued>reissuing reissuing>issued");
        ASSERT_HISTORY(f, "certificate", same->id, "->issued");
        long long r1 = sql_int(f, "SELECT id FROM reissues WHERE new_certificate_id = %lld",
                               (long long)same->id);
        ASSERT_HISTORY(f, "reissue", r1, "->in_progress in_progress>done");

        OK(t_reissue(f, orig->id, REISSUE_NEW_KEY, "ec384", NULL, &fresh, &ei_));
        assert_string_equal(fresh->key_algorithm, "ec384");
        assert_int_equal(fresh->parent_id, orig->id);
        OK(pki_cert_read(fresh->cert_pem, strlen(fresh->cert_pem), &b, &ei_));
        assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(b)), 0);
        X509_free(a);
        X509_free(b);
        /* the new key is held and opens for a download */
        OK(t_download(f, fresh->id, "nginx", NULL, NULL, &ei_));
        ASSERT_HISTORY(f, "certificate", orig->id,
                       "->issued issued>reissuing reissuing>issued issued>reissuing "
                       "reissuing>issued");

        /* revoking the original revokes every reissue, in one change */
        struct revoke_out out;
        OK(t_revoke(f, orig->id, REASON_SUPERSEDED, NULL, &out, &ei_));
        assert_int_equal(out.nrevoked, 3);
        free(out.revoked);
        int reason = -1;
        const struct cert_rec *all[] = {orig, same, fresh};
        for (size_t i = 0; i < 3; i++) {
                struct cert_rec *g = NULL;
                OK(t_get(f, all[i]->id, &g, &ei_));
                assert_int_equal(g->status, CERT_REVOKED);
                cert_rec_free(g);
                /* each on its own shard's CRL */
                X509_CRL *crl = NULL;
                OK(t_crl_of(f, all[i], &crl, &ei_));
                assert_true(crl_lists(crl, all[i]->serial, &reason));
                assert_int_equal(reason, REASON_SUPERSEDED);
                X509_CRL_free(crl);
        }
        ASSERT_HISTORY(f, "certificate", same->id, "->issued issued>revoked");
        char why[600];
        last_reason(f, "certificate", same->id, why, sizeof why);
        assert_non_null(strstr(why, "revoked with the original certificate"));
        /* a reissue cannot be revoked on its own, and nothing revoked reissues */
        long long before = state_now(f);
        REFUSED(QERR_REVOKE_REISSUED, t_revoke(f, same->id, REASON_SUPERSEDED, NULL, &out, &ei_));
        struct cert_rec *none = NULL;
        REFUSED(QERR_REISSUE_STATUS,
                t_reissue(f, orig->id, REISSUE_SAME_CSR, NULL, NULL, &none, &ei_));
        assert_null(none);
        assert_int_equal(state_now(f), before);
        cert_rec_free(orig);
        cert_rec_free(same);
        cert_rec_free(fresh);
}

static void test_reissued_cannot_be_revoked_alone(void **state)
{
        struct fx *f = *state;
        struct cert_rec *orig = NULL, *child = NULL;
        OK(t_apply(f, "alone.example.com", PROFILE_PRIVATE, NULL, &orig, &ei_));
        OK(t_reissue(f, orig->id, REISSUE_SAME_CSR, NULL, NULL, &child, &ei_));
        long long before = state_now(f);
        struct revoke_out out;
        REFUSED(QERR_REVOKE_REISSUED, t_revoke(f, child->id, REASON_SUPERSEDED, NULL, &out, &ei_));
        assert_int_equal(state_now(f), before);
        cert_rec_free(orig);
        cert_rec_free(child);
}

/* A pasted CSR for other names: the reissue was started (its mark is
 * committed before the CSR is read), so it fails as a whole: the reissue
 * row failed with its event, the certificate issued again, no new one. */
static void test_reissue_that_fails_half_way(void **state)
{
        struct fx *f = *state;
        struct cert_rec *orig = NULL, *c = NULL;
        OK(t_apply(f, "half.example.com", PROFILE_PRIVATE, NULL, &orig, &ei_));
        EVP_PKEY *k = NULL;
        OK(pki_key_generate(KEYALG_EC256, &k, &ei_));
        static const char *const other[] = {"evil.example.net"};
        struct qbuf csr;
        qbuf_init(&csr, MAX_CSR_BYTES);
        OK(pki_csr_build(k, other, 1, &csr, &ei_));
        long long certs = sql_int(f, "SELECT count(*) FROM certificates");
        REFUSED(QERR_POLICY_DENIED,
                t_reissue(f, orig->id, REISSUE_PASTED_CSR, NULL, qbuf_str(&csr), &c, &ei_));
        assert_null(c);
        assert_int_equal(sql_int(f, "SELECT count(*) FROM certificates"), certs);
        ASSERT_HISTORY(f, "certificate", orig->id, "->issued issued>reissuing reissuing>issued");
        long long rid =
            sql_int(f, "SELECT id FROM reissues WHERE certificate_id = %lld", (long long)orig->id);
        ASSERT_HISTORY(f, "reissue", rid, "->in_progress in_progress>failed");
        assert_int_equal(sql_int(f, "SELECT count(*) FROM reissues WHERE status = 'failed'"), 1);
        /* and the certificate can be reissued again */
        OK(t_reissue(f, orig->id, REISSUE_SAME_CSR, NULL, NULL, &c, &ei_));
        cert_rec_free(c);
        qbuf_free(&csr);
        EVP_PKEY_free(k);
        cert_rec_free(orig);
}

/* ---- delete ---- */

static void test_delete_rules(void **state)
{
        struct fx *f = *state;
        struct cert_rec *c = NULL;
        OK(t_apply(f, "delete.example.com", PROFILE_PRIVATE, NULL, &c, &ei_));
        long long before = state_now(f);
        REFUSED(QERR_DELETE_NOT_REVOKED, t_delete(f, c->id, &ei_));
        REFUSED(QERR_NOT_FOUND, t_delete(f, 999, &ei_));
        assert_int_equal(state_now(f), before);

        struct revoke_out out;
        OK(t_revoke(f, c->id, REASON_CESSATION, NULL, &out, &ei_));
        free(out.revoked);
        OK(t_delete(f, c->id, &ei_));
        ASSERT_HISTORY(f, "certificate", c->id, "->issued issued>revoked revoked>deleted");
        char why[600];
        last_reason(f, "certificate", c->id, why, sizeof why);
        assert_non_null(strstr(why, "private key erased"));
        /* gone for users, the key erased, the row (and its place on the
         * CRL) kept */
        struct cert_rec *g = NULL;
        REFUSED(QERR_NOT_FOUND, t_get(f, c->id, &g, &ei_));
        assert_int_equal(sql_int(f,
                                 "SELECT count(*) FROM certificates WHERE id = %lld AND "
                                 "key_blob IS NULL AND key_protection = 'none'",
                                 (long long)c->id),
                         1);
        REFUSED(QERR_NOT_FOUND, t_delete(f, c->id, &ei_));
        OK(service_crl_refresh_all(f->s, 0, NULL, NULL, &ei_));
        X509_CRL *crl = NULL;
        OK(t_crl_of(f, c, &crl, &ei_));
        int reason = -1;
        assert_true(crl_lists(crl, c->serial, &reason));
        X509_CRL_free(crl);
        struct cert_rec **list = NULL;
        size_t n = 0;
        struct cert_query q = {.origin = -1, .limit = 500};
        bool more = false;
        OK(service_cert_list(f->s, &q, &list, &n, &more, &ei_));
        for (size_t i = 0; i < n; i++)
                assert_int_not_equal(list[i]->id, c->id);
        store_free_certs(list, n);
        cert_rec_free(c);
}

/* ---- download ---- */

static void test_download_refusals(void **state)
{
        struct fx *f = *state;
        struct cert_rec *c = NULL, *pw = NULL, *nokey = NULL;
        OK(t_apply(f, "dl.example.com", PROFILE_PRIVATE, NULL, &c, &ei_));
        OK(t_apply(f, "pw.example.com", PROFILE_PRIVATE, "secret-pw", &pw, &ei_));
        assert_int_equal(pw->key_protection, KEYPROT_PASSWORD);
        EVP_PKEY *k = NULL;
        OK(pki_key_generate(KEYALG_EC256, &k, &ei_));
        static const char *const names[] = {"nokey.example.com"};
        struct qbuf csr;
        qbuf_init(&csr, MAX_CSR_BYTES);
        OK(pki_csr_build(k, names, 1, &csr, &ei_));
        OK(t_sign(f, qbuf_str(&csr), &nokey, &ei_));
        assert_int_equal(nokey->key_protection, KEYPROT_NONE);

        long long before = state_now(f);
        OK(t_download(f, c->id, "pem", NULL, NULL, &ei_));
        OK(t_download(f, c->id, "iis", "pfx-pass", NULL, &ei_));
        REFUSED(QERR_FORMAT_INVALID, t_download(f, c->id, "zip", NULL, NULL, &ei_));
        REFUSED(QERR_PASSWORD_REQUIRED, t_download(f, c->id, "iis", NULL, NULL, &ei_));
        REFUSED(QERR_PASSWORD_REQUIRED, t_download(f, c->id, "tomcat", "abc", NULL, &ei_));
        REFUSED(QERR_KEY_NOT_HELD, t_download(f, nokey->id, "nginx", NULL, NULL, &ei_));
        OK(t_download(f, nokey->id, "pem", NULL, NULL, &ei_)); /* the certificate alone */
        REFUSED(QERR_KEY_PASSWORD, t_download(f, pw->id, "nginx", NULL, NULL, &ei_));
        REFUSED(QERR_KEY_PASSWORD, t_download(f, pw->id, "nginx", NULL, "wrong-pw", &ei_));
        OK(t_download(f, pw->id, "nginx", NULL, "secret-pw", &ei_));
        OK(t_download(f, pw->id, "pem", NULL, NULL, &ei_)); /* the key stays encrypted */
        REFUSED(QERR_NOT_FOUND, t_download(f, 999, "pem", NULL, NULL, &ei_));
        assert_int_equal(state_now(f), before); /* downloads change nothing */

        struct revoke_out out;
        OK(t_revoke(f, c->id, REASON_SUPERSEDED, NULL, &out, &ei_));
        free(out.revoked);
        REFUSED(QERR_DOWNLOAD_REVOKED, t_download(f, c->id, "pem", NULL, NULL, &ei_));
        OK(t_delete(f, c->id, &ei_));
        REFUSED(QERR_DOWNLOAD_STATUS, t_download(f, c->id, "pem", NULL, NULL, &ei_));
        qbuf_free(&csr);
        EVP_PKEY_free(k);
        cert_rec_free(c);
        cert_rec_free(pw);
        cert_rec_free(nokey);
}

int main(int argc, char **argv)
{
        FIXTURE_SIGNER_MAIN(argc, argv);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_ca_init, fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_apply_issues, fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_apply_refusals_change_nothing, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_revoke_private, fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_reissue_same_csr_and_new_key, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_reissued_cannot_be_revoked_alone, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_reissue_that_fails_half_way, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_delete_rules, fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_download_refusals, fx_setup, fx_teardown),
        };
        return cmocka_run_group_tests_name("service", tests, NULL, NULL);
}
