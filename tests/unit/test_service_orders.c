/*
 * test_service_orders.c - the service layer's order and review transitions
 * (RULES.md §2, §4, §5): order apply and cancel, review decisions (risk and
 * organisation reviews of an order; the reviewer's approval of an OV/EV
 * revocation with its signed letter), and the DV revocation that waits for
 * proof of control. No DNS here: where an order must stand in
 * manual_review, the test puts it there in the database as a validate job
 * would have left it. Each change is checked with its event rows; each
 * refusal leaves the database as it was. Set-up: service_fixture.h.
 */
#include "service_fixture.h"

static const char LETTER[] = "%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/* ---- orders ---- */

static void test_order_apply_and_cancel(void **state)
{
        struct fx *f = *state;
        struct order_rec *o = NULL, *c = NULL;
        OK(t_order_apply(f, "www.example.org", PROFILE_DV, "dns", &o, &ei_));
        assert_int_equal(o->status, ORDER_PENDING_VALIDATION);
        assert_string_equal(o->purpose, "issue");
        assert_int_equal(o->nnames, 1);
        assert_string_equal(o->names[0].name, "www.example.org");
        assert_string_equal(o->names[0].validation_status, "pending");
        assert_true(strlen(o->names[0].value) >= 43);
        assert_true(o->free_cert);
        assert_int_equal(o->key_protection, KEYPROT_DATA_KEY); /* the generated key, sealed */
        ASSERT_HISTORY(f, "order", o->id, "->pending_validation");
        assert_int_equal(sql_int(f,
                                 "SELECT count(*) FROM jobs WHERE order_id = %lld AND kind = "
                                 "'validate' AND state = 'queued'",
                                 (long long)o->id),
                         1);

        OK(t_order_cancel(f, o->id, &c, &ei_));
        assert_int_equal(c->status, ORDER_CANCELLED);
        assert_int_equal(c->certificate_id, 0);
        order_rec_free(c);
        c = NULL;
        ASSERT_HISTORY(f, "order", o->id, "->pending_validation pending_validation>cancelled");
        char why[600];
        last_reason(f, "order", o->id, why, sizeof why);
        assert_non_null(strstr(why, "cancelled by the applicant"));
        assert_int_equal(
            sql_int(f, "SELECT count(*) FROM jobs WHERE order_id = %lld AND state <> 'done'",
                    (long long)o->id),
            0);
        OK(t_order_get(f, o->id, &c, &ei_));
        assert_int_equal(c->status, ORDER_CANCELLED);
        order_rec_free(c);
        c = NULL;

        long long before = state_now(f);
        REFUSED(QERR_ORDER_STATE, t_order_cancel(f, o->id, &c, &ei_));
        REFUSED(QERR_NOT_FOUND, t_order_cancel(f, 999, &c, &ei_));
        assert_null(c);
        assert_int_equal(state_now(f), before);
        order_rec_free(o);
}

static void test_order_cannot_be_cancelled_once_issuing(void **state)
{
        struct fx *f = *state;
        struct order_rec *o = NULL, *c = NULL;
        OK(t_order_apply(f, "issuing.example.org", PROFILE_DV, "file", &o, &ei_));
        sql_exec(f, "UPDATE orders SET status = 'issuing' WHERE id = %lld", (long long)o->id);
        long long before = state_now(f);
        REFUSED(QERR_ORDER_STATE, t_order_cancel(f, o->id, &c, &ei_));
        assert_int_equal(state_now(f), before);
        order_rec_free(o);
}

static void test_order_apply_refusals_change_nothing(void **state)
{
        struct fx *f = *state;
        long long before = state_now(f);
        struct order_rec *o = NULL;
        REFUSED(QERR_USAGE, t_order_apply(f, "www.example.org", PROFILE_PRIVATE, "dns", &o, &ei_));
        REFUSED(QERR_USAGE, t_order_apply(f, "www.example.org", PROFILE_DV, "http", &o, &ei_));
        REFUSED(QERR_USAGE, t_order_apply(f, "www.example.org", PROFILE_DV, NULL, &o, &ei_));
        REFUSED(QERR_POLICY_DENIED,
                t_order_apply(f, "*.example.org", PROFILE_DV, "file", &o, &ei_));
        REFUSED(QERR_NAME_INVALID,
                t_order_apply(f, "bad_name.example.org", PROFILE_DV, "dns", &o, &ei_));
        /* OV without organisation details */
        const char *names[] = {"ov.example.org"};
        struct order_apply_req r = {.names = names,
                                    .nnames = 1,
                                    .profile = PROFILE_OV,
                                    .method = "dns",
                                    .key_alg = "ec256"};
        REFUSED(QERR_USAGE, service_order_apply(f->s, &r, &o, &ei_));
        assert_null(o);
        assert_int_equal(state_now(f), before);
}

/* ---- reviews of an order ---- */

/* An order waiting for a reviewer, as a validate job leaves it: status
 * manual_review, its job done, a pending review of `kind`. Returns the
 * review id. */
static int64_t order_in_review(struct fx *f, enum cert_profile p, const char *name,
                               const char *kind, struct order_rec **o)
{
        OK(t_order_apply(f, name, p, "dns", o, &ei_));
        int64_t id = (*o)->id;
        sql_exec(f, "UPDATE orders SET status = 'manual_review' WHERE id = %lld", (long long)id);
        sql_exec(f, "UPDATE jobs SET state = 'done' WHERE order_id = %lld", (long long)id);
        sql_exec(f,
                 "INSERT INTO reviews (order_id, kind, status, detail, created_at) VALUES "
                 "(%lld, '%s', 'pending', 'unit test', 0)",
                 (long long)id, kind);
        return sql_int(f, "SELECT max(id) FROM reviews");
}

static void test_review_approve(void **state)
{
        struct fx *f = *state;
        struct order_rec *o = NULL;
        int64_t rid = order_in_review(f, PROFILE_DV, "paypal.example.org", "risk", &o);
        struct review_rec r;
        OK(t_review(f, rid, true, NULL, &r, &ei_));
        assert_string_equal(r.status, "approved");
        assert_string_equal(r.reviewer, "unit:reviewer"); /* the principal, not the applicant */
        assert_true(r.decided_at > 0);
        review_rec_clear(&r);
        ASSERT_HISTORY(f, "review", rid, "pending>approved");
        /* the order waits for its validate job to move it on */
        struct order_rec *g = NULL;
        OK(t_order_get(f, o->id, &g, &ei_));
        assert_int_equal(g->status, ORDER_MANUAL_REVIEW);
        order_rec_free(g);
        assert_int_equal(sql_int(f,
                                 "SELECT count(*) FROM jobs WHERE order_id = %lld AND kind = "
                                 "'validate' AND state = 'queued'",
                                 (long long)o->id),
                         1);
        /* decided once */
        long long before = state_now(f);
        REFUSED(QERR_ORDER_STATE, t_review(f, rid, false, "changed my mind", &r, &ei_));
        REFUSED(QERR_NOT_FOUND, t_review(f, 999, true, NULL, &r, &ei_));
        assert_int_equal(state_now(f), before);
        order_rec_free(o);
}

static void test_review_reject_fails_the_order(void **state)
{
        struct fx *f = *state;
        struct order_rec *o = NULL;
        int64_t rid = order_in_review(f, PROFILE_DV, "bank.example.org", "risk", &o);
        struct review_rec r;
        long long before = state_now(f);
        REFUSED(QERR_USAGE, t_review(f, rid, false, NULL, &r, &ei_));
        REFUSED(QERR_USAGE, t_review(f, rid, false, "", &r, &ei_));
        assert_int_equal(state_now(f), before);
        OK(t_review(f, rid, false, "phishing", &r, &ei_));
        assert_string_equal(r.status, "rejected");
        assert_string_equal(r.reason, "phishing");
        review_rec_clear(&r);
        ASSERT_HISTORY(f, "review", rid, "pending>rejected");
        ASSERT_HISTORY(f, "order", o->id, "->pending_validation manual_review>failed");
        struct order_rec *g = NULL;
        OK(t_order_get(f, o->id, &g, &ei_));
        assert_int_equal(g->status, ORDER_FAILED);
        assert_string_equal(g->failure_code, "review_rejected");
        assert_string_equal(g->failure_message, "phishing");
        order_rec_free(g);
        assert_int_equal(
            sql_int(f, "SELECT count(*) FROM jobs WHERE order_id = %lld AND state <> 'done'",
                    (long long)o->id),
            0);
        order_rec_free(o);
}

static void test_review_approves_the_organisation(void **state)
{
        struct fx *f = *state;
        struct order_rec *o = NULL;
        int64_t rid = order_in_review(f, PROFILE_OV, "ov.example.org", "organization", &o);
        assert_int_equal(strlen(o->org_hash), 64);
        assert_int_equal(sql_int(f, "SELECT count(*) FROM organizations"), 0);
        struct review_rec r;
        OK(t_review(f, rid, true, "registry checked", &r, &ei_));
        review_rec_clear(&r);
        assert_int_equal(sql_int(f,
                                 "SELECT count(*) FROM organizations WHERE org_hash = '%s' AND "
                                 "review_id = %lld",
                                 o->org_hash, (long long)rid),
                         1);
        ASSERT_HISTORY(f, "review", rid, "pending>approved");
        order_rec_free(o);
}

/* ---- revocations that wait ---- */

/* A certificate of `profile` (issued here as private, then marked as the
 * public profile in the database: issuing public certificates needs
 * validation). */
static struct cert_rec *public_cert(struct fx *f, const char *name, const char *profile)
{
        struct cert_rec *c = NULL;
        OK(t_apply(f, name, PROFILE_PRIVATE, NULL, &c, &ei_));
        sql_exec(f, "UPDATE certificates SET profile = '%s' WHERE id = %lld", profile,
                 (long long)c->id);
        return c;
}

static void test_dv_revocation_waits_for_proof(void **state)
{
        struct fx *f = *state;
        struct cert_rec *c = public_cert(f, "dv.example.org", "dv");
        struct revoke_out out;
        OK(t_revoke(f, c->id, REASON_KEY_COMPROMISE, NULL, &out, &ei_));
        assert_int_equal(out.nrevoked, 0);
        assert_true(out.proof_order > 0);
        assert_int_equal(out.review_id, 0);
        struct cert_rec *g = NULL;
        OK(t_get(f, c->id, &g, &ei_));
        assert_int_equal(g->status, CERT_REVOCATION_PENDING);
        cert_rec_free(g);
        ASSERT_HISTORY(f, "certificate", c->id, "->issued issued>revocation_pending");
        struct order_rec *o = NULL;
        OK(t_order_get(f, out.proof_order, &o, &ei_));
        assert_string_equal(o->purpose, "revoke");
        assert_int_equal(o->subject_id, c->id);
        assert_int_equal(o->status, ORDER_PENDING_VALIDATION);
        assert_int_equal(o->nnames, 2);
        /* three days to prove control (RULES.md §5) */
        assert_true(o->deadline - o->created_at == 3 * 86400);
        order_rec_free(o);
        o = NULL;
        ASSERT_HISTORY(f, "order", out.proof_order, "->pending_validation");
        assert_int_equal(sql_int(f,
                                 "SELECT count(*) FROM revocations WHERE certificate_id = %lld "
                                 "AND status = 'pending' AND order_id = %lld",
                                 (long long)c->id, (long long)out.proof_order),
                         1);
        /* from submission on: no download, no second revocation, no
         * cancelling the proof order as if it were an application */
        long long before = state_now(f);
        REFUSED(QERR_DOWNLOAD_REVOKED, t_download(f, c->id, "pem", NULL, NULL, &ei_));
        REFUSED(QERR_REVOKE_ALREADY, t_revoke(f, c->id, REASON_SUPERSEDED, NULL, &out, &ei_));
        REFUSED(QERR_NOT_FOUND, t_order_cancel(f, out.proof_order, &o, &ei_));
        assert_int_equal(state_now(f), before);
        cert_rec_free(c);
}

static int64_t revoke_with_letter(struct fx *f, const struct cert_rec *c)
{
        struct revoke_out out;
        long long before = state_now(f);
        REFUSED(QERR_LETTER_INVALID, t_revoke(f, c->id, REASON_CESSATION, NULL, &out, &ei_));
        REFUSED(QERR_LETTER_INVALID,
                t_revoke(f, c->id, REASON_CESSATION, "a signed letter", &out, &ei_));
        assert_int_equal(state_now(f), before);
        OK(t_revoke(f, c->id, REASON_CESSATION, LETTER, &out, &ei_));
        assert_int_equal(out.nrevoked, 0);
        assert_int_equal(out.proof_order, 0);
        assert_true(out.review_id > 0);
        struct cert_rec *g = NULL;
        OK(t_get(f, c->id, &g, &ei_));
        assert_int_equal(g->status, CERT_REVOCATION_PENDING);
        cert_rec_free(g);
        assert_int_equal(sql_int(f,
                                 "SELECT count(*) FROM revocation_letters l JOIN reviews r ON "
                                 "r.revocation_id = l.revocation_id WHERE r.id = %lld AND "
                                 "l.content_type = 'pdf' AND length(l.data) = %zu",
                                 (long long)out.review_id, strlen(LETTER)),
                         1);
        return out.review_id;
}

static void test_ov_revocation_approved(void **state)
{
        struct fx *f = *state;
        struct cert_rec *c = public_cert(f, "ov.example.org", "ov");
        int64_t rid = revoke_with_letter(f, c);
        long long rev =
            sql_int(f, "SELECT revocation_id FROM reviews WHERE id = %lld", (long long)rid);
        struct review_rec r;
        OK(t_review(f, rid, true, NULL, &r, &ei_));
        assert_int_equal(r.revocation_id, rev);
        review_rec_clear(&r);
        struct cert_rec *g = NULL;
        OK(t_get(f, c->id, &g, &ei_));
        assert_int_equal(g->status, CERT_REVOKED);
        assert_int_equal(g->revoke_reason, REASON_CESSATION);
        cert_rec_free(g);
        ASSERT_HISTORY(f, "certificate", c->id,
                       "->issued issued>revocation_pending revocation_pending>revoked");
        ASSERT_HISTORY(f, "revocation", rev, "pending>done");
        ASSERT_HISTORY(f, "review", rid, "pending>approved");
        assert_int_equal(
            sql_int(f, "SELECT count(*) FROM revocations WHERE id = %lld AND status = 'done'", rev),
            1);
        /* on its shard's CRL now, the CA's next number (the CA made its 17
         * CRLs, numbers 1 to 17, at its creation) */
        assert_int_equal(sql_int(f, "SELECT max(crl_number) FROM crls WHERE ca_id = %lld",
                                 (long long)f->issuing_id),
                         18);
        assert_int_equal(sql_int(f,
                                 "SELECT entries FROM crls WHERE ca_id = %lld AND shard = %d AND "
                                 "crl_number = 18",
                                 (long long)f->issuing_id, c->crl_shard),
                         1);
        long long before = state_now(f);
        REFUSED(QERR_ORDER_STATE, t_review(f, rid, true, NULL, &r, &ei_));
        assert_int_equal(state_now(f), before);
        cert_rec_free(c);
}

static void test_ev_revocation_rejected(void **state)
{
        struct fx *f = *state;
        struct cert_rec *c = public_cert(f, "ev.example.org", "ev");
        int64_t rid = revoke_with_letter(f, c);
        long long rev =
            sql_int(f, "SELECT revocation_id FROM reviews WHERE id = %lld", (long long)rid);
        struct review_rec r;
        OK(t_review(f, rid, false, "the signature does not match", &r, &ei_));
        review_rec_clear(&r);
        struct cert_rec *g = NULL;
        OK(t_get(f, c->id, &g, &ei_));
        assert_int_equal(g->status, CERT_ISSUED);
        cert_rec_free(g);
        ASSERT_HISTORY(f, "certificate", c->id,
                       "->issued issued>revocation_pending revocation_pending>issued");
        ASSERT_HISTORY(f, "revocation", rev, "pending>failed");
        ASSERT_HISTORY(f, "review", rid, "pending>rejected");
        /* no new CRL, and the certificate downloads again */
        assert_int_equal(sql_int(f, "SELECT max(crl_number) FROM crls WHERE ca_id = %lld",
                                 (long long)f->issuing_id),
                         17);
        OK(t_download(f, c->id, "pem", NULL, NULL, &ei_));
        /* a failed revocation does not block a new one */
        int64_t again = revoke_with_letter(f, c);
        assert_true(again > rid);
        cert_rec_free(c);
}

int main(int argc, char **argv)
{
        FIXTURE_SIGNER_MAIN(argc, argv);
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
        const struct CMUnitTest tests[] = {
            T(test_order_apply_and_cancel),
            T(test_order_cannot_be_cancelled_once_issuing),
            T(test_order_apply_refusals_change_nothing),
            T(test_review_approve),
            T(test_review_reject_fails_the_order),
            T(test_review_approves_the_organisation),
            T(test_dv_revocation_waits_for_proof),
            T(test_ov_revocation_approved),
            T(test_ev_revocation_rejected),
        };
#undef T
        return cmocka_run_group_tests_name("service_orders", tests, NULL, NULL);
}
