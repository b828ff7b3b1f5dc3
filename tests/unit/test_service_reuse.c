/*
 * test_service_reuse.c - issue 7, validation reuse (BR 4.2.1) in the
 * service layer: an order reuses the tenant's validations within the BR
 * period (the wildcard and method rules; never another tenant's;
 * [validation] reuse_days lowers it), a validation is recorded when made,
 * a stale one fails the order at issuance (validation_expired), and a
 * reissue with the original CSR validates again once its names' validation
 * is too old. DV certificates are made without DNS
 * (service_keys_fixture.h). Set-up: service_fixture.h.
 */
#include "service_keys_fixture.h"

/* ---- validation reuse ---- */

/* A DV order for `name` with a generated key, validated by `method`. */
static struct order_rec *order_by(struct fx *f, const char *name, const char *method)
{
        const char *names[] = {name};
        struct order_apply_req r = {.names = names,
                                    .nnames = 1,
                                    .profile = PROFILE_DV,
                                    .method = method,
                                    .key_alg = "ec256"};
        struct order_rec *o = NULL;
        OK(service_order_apply(f->s, &r, &o, &ei_));
        return o;
}

static void test_order_reuses_validations(void **state)
{
        struct fx *f = *state;
        /* an earlier order of the tenant, whose validations are seeded */
        struct order_rec *first = dv_order(f, "seed.example.org", NULL);
        int64_t oid = first->id;
        order_rec_free(first);
        int64_t other = make_tenant(f, "other");
        long long fresh = add_validation(f, 1, "www.example.org", "dns", 10 * DAY, oid);
        add_validation(f, 1, "old.example.org", "dns", period() + DAY, oid);
        add_validation(f, other, "theirs.example.org", "dns", DAY, oid);
        add_validation(f, 1, "*.w.example.org", "dns", DAY, oid);
        add_validation(f, 1, "d.example.org", "dns", DAY, oid);
        add_validation(f, 1, "f.example.org", "file", DAY, oid);
        add_validation(f, 1, "both.example.org", "file", DAY, oid);
        struct {
                const char *name, *method;
                bool reused;
        } cases[] = {
            {"www.example.org", "dns", true},     /* within the period */
            {"old.example.org", "dns", false},    /* a day too old */
            {"theirs.example.org", "dns", false}, /* another tenant's */
            {"w.example.org", "dns", true},       /* DNS of *.w covers w (same record) */
            {"*.w.example.org", "dns", true},     /* and *.w itself */
            {"*.d.example.org", "dns", true},     /* DNS of d covers *.d */
            {"f.example.org", "file", true},      /* file covers its exact name */
            {"*.f.example.org", "dns", false},    /* ... never a wildcard */
            {"sub.f.example.org", "file", false}, /* ... nor another name */
            /* only by the method asked for (CAA validationmethods=) */
            {"f.example.org", "dns", false},
            {"www.example.org", "file", false},
            {"never.example.org", "dns", false},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct order_rec *o = order_by(f, cases[i].name, cases[i].method);
                const struct order_name_rec *n = &o->names[0];
                if (cases[i].reused != (n->reused_from != 0))
                        fail_msg("%s by %s: reused_from %lld", cases[i].name, cases[i].method,
                                 (long long)n->reused_from);
                assert_string_equal(n->method, cases[i].method);
                assert_string_equal(n->validation_status, cases[i].reused ? "valid" : "pending");
                if (cases[i].reused) {
                        assert_int_equal(n->reused_order, oid);
                        assert_true(n->validated_at > 0 && n->validated_at < qtime_now());
                        char why[600];
                        last_reason(f, "order", o->id, why, sizeof why);
                        assert_non_null(strstr(why, "1 name(s) reuse an earlier validation"));
                }
                /* what the store gives back says the same */
                struct order_rec *back = NULL;
                OK(t_order_get(f, o->id, &back, &ei_));
                assert_int_equal(back->names[0].reused_from, n->reused_from);
                assert_string_equal(back->names[0].validation_status, n->validation_status);
                if (cases[i].reused)
                        assert_string_equal(back->names[0].reused_method, cases[i].method);
                order_rec_free(back);
                order_rec_free(o);
        }
        /* the newest validation is the one reused */
        long long newer = add_validation(f, 1, "www.example.org", "dns", 3600, oid);
        struct order_rec *o = dv_order(f, "www.example.org", NULL);
        assert_int_equal(o->names[0].reused_from, newer);
        assert_true(newer > fresh);
        order_rec_free(o);
        /* [validation] reuse_days lowers the period */
        f->cfg.validation_reuse_days = 5;
        add_validation(f, 1, "six.example.org", "dns", 6 * DAY, oid);
        add_validation(f, 1, "four.example.org", "dns", 4 * DAY, oid);
        o = dv_order(f, "six.example.org", NULL);
        assert_int_equal(o->names[0].reused_from, 0);
        order_rec_free(o);
        o = dv_order(f, "four.example.org", NULL);
        assert_true(o->names[0].reused_from > 0);
        order_rec_free(o);
}

static void test_stale_validation_fails_at_issuance(void **state)
{
        struct fx *f = *state;
        struct order_rec *o = dv_order(f, "late.example.org", NULL);
        /* validated a day too long ago (e.g. reused near the end of the
         * period, then waited in review) */
        run_issue_job(f, o->id, period() + DAY);
        struct order_rec *done = NULL;
        OK(t_order_get(f, o->id, &done, &ei_));
        assert_int_equal(done->status, ORDER_FAILED);
        assert_string_equal(done->failure_code, "validation_expired");
        assert_non_null(strstr(done->failure_message, "late.example.org"));
        assert_int_equal(done->certificate_id, 0);
        order_rec_free(done);
        order_rec_free(o);
        /* within the period it is issued */
        o = dv_order(f, "ontime.example.org", NULL);
        run_issue_job(f, o->id, period() - DAY);
        OK(t_order_get(f, o->id, &done, &ei_));
        assert_int_equal(done->status, ORDER_ISSUED);
        order_rec_free(done);
        order_rec_free(o);
}

static void test_reissue_same_csr_needs_a_fresh_validation(void **state)
{
        struct fx *f = *state;
        EVP_PKEY *k1 = new_key(), *k2 = new_key();
        /* validated 10 days ago: the original CSR needs no validation */
        struct cert_rec *c1 = issue_dv(f, k1, "fresh.example.org", 10 * DAY);
        struct reissue_req r = {.id = c1->id, .csr_source = REISSUE_SAME_CSR, .reason = "lost"};
        struct cert_rec *out = NULL;
        int64_t proof = -1;
        OK(service_cert_reissue(f->s, &r, &out, &proof, &ei_));
        assert_non_null(out);
        assert_int_equal(proof, 0);
        assert_int_equal(out->parent_id, c1->id);
        cert_rec_free(out);
        /* validated a day too long ago: validated again, like a new CSR */
        struct cert_rec *c2 = issue_dv(f, k2, "stale.example.org", period() + DAY);
        r.id = c2->id;
        out = NULL;
        OK(service_cert_reissue(f->s, &r, &out, &proof, &ei_));
        assert_null(out);
        assert_true(proof > 0);
        struct order_rec *po = NULL;
        OK(t_order_get(f, proof, &po, &ei_));
        assert_string_equal(po->purpose, "reissue");
        assert_string_equal(po->names[0].validation_status, "pending");
        assert_int_equal(po->names[0].reused_from, 0); /* §6: validated again, never reused */
        order_rec_free(po);
        cert_rec_free(c1);
        cert_rec_free(c2);
        EVP_PKEY_free(k1);
        EVP_PKEY_free(k2);
}

static void test_validation_is_recorded(void **state)
{
        struct fx *f = *state;
        EVP_PKEY *k = new_key();
        /* issue_dv records its validation the way the validate job does;
         * check the job's own record through svc_record_validation */
        struct order_rec *o = dv_order(f, "rec.example.org", NULL);
        o->names[0].validated_at = qtime_now() - 5;
        OK(ST(f->s)->ops->begin(ST(f->s), &ei_));
        OK(svc_record_validation(f->s, o, &o->names[0], &ei_));
        OK(ST(f->s)->ops->commit(ST(f->s), &ei_));
        assert_int_equal(sql_int(f,
                                 "SELECT count(*) FROM validations WHERE name = "
                                 "'rec.example.org' AND method = 'dns' AND order_id = %lld AND "
                                 "tenant_id = 1",
                                 (long long)o->id),
                         1);
        struct order_rec *again = dv_order(f, "rec.example.org", NULL);
        assert_true(again->names[0].reused_from > 0);
        assert_int_equal(again->names[0].reused_order, o->id);
        order_rec_free(again);
        order_rec_free(o);
        EVP_PKEY_free(k);
}

int main(int argc, char **argv)
{
        FIXTURE_SIGNER_MAIN(argc, argv);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_order_reuses_validations, fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_stale_validation_fails_at_issuance, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_reissue_same_csr_needs_a_fresh_validation,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_validation_is_recorded, fx_setup, fx_teardown),
        };
        return cmocka_run_group_tests_name("service_reuse", tests, NULL, NULL);
}
