/*
 * test_service_keys.c - issue 7, blocked keys, in the service layer: a
 * keyCompromise revocation blocks the key for every
 * tenant, revokes the tenant's other certificates with it (a pending
 * revocation of one is superseded) and tells other tenants' owners; a
 * blocked key is refused on every path (CSR, order, reissue with a pasted
 * or the original CSR, upload, a key the service generated); the
 * operator's block and list; a proof of possession revokes every tenant's
 * certificates; key hashes of old rows are filled in. Validation reuse:
 * test_service_reuse.c.
 *
 * DV certificates are made without DNS (service_keys_fixture.h). Set-up:
 * service_fixture.h.
 */
#include "service_keys_fixture.h"

/* ---- keyCompromise: block, cascade, tell ---- */

static void test_key_compromise_cascades_in_the_tenant(void **state)
{
        struct fx *f = *state;
        EVP_PKEY *k = new_key(), *other = new_key();
        char spki[65];
        spki_of(k, spki);
        struct cert_rec *a = sign_with(f, k, "a.example.com");
        struct cert_rec *b = sign_with(f, k, "b.example.com");
        struct cert_rec *c = sign_with(f, other, "c.example.com");
        assert_string_equal(a->spki_sha256, spki);
        assert_int_equal(
            sql_int(f, "SELECT count(*) FROM certificates WHERE spki_sha256 = '%s'", spki), 2);

        struct revoke_out out;
        OK(revoke_kc(f, a->id, &out, &ei_));
        /* a and b (same key, same tenant) in one transaction; c untouched */
        assert_int_equal(out.nrevoked, 2);
        assert_int_equal(out.revoked[0], a->id);
        assert_int_equal(out.revoked[1], b->id);
        free(out.revoked);
        ASSERT_STATUS(f, b->id, "revoked");
        ASSERT_STATUS(f, c->id, "issued");
        assert_int_equal(
            sql_int(f, "SELECT revoke_reason FROM certificates WHERE id = %lld", (long long)b->id),
            REASON_KEY_COMPROMISE);
        ASSERT_HISTORY(f, "certificate", b->id, "->issued issued>revoked");
        char why[600];
        last_reason(f, "certificate", b->id, why, sizeof why);
        assert_non_null(strstr(why, "same key was revoked for key compromise"));
        /* b's revocation follows from a's */
        assert_int_equal(
            sql_int(f, "SELECT cascade_from FROM revocations WHERE certificate_id = %lld",
                    (long long)b->id),
            sql_int(f, "SELECT id FROM revocations WHERE certificate_id = %lld", (long long)a->id));
        /* both on the CRL signed in that transaction */
        assert_true(on_crl(f, a));
        assert_true(on_crl(f, b));
        assert_false(on_crl(f, c));
        /* the key is blocked, from that revocation */
        assert_int_equal(sql_int(f,
                                 "SELECT count(*) FROM blocked_keys WHERE spki_sha256 = '%s' AND "
                                 "source = 'revocation' AND tenant_id = 1 AND revocation_id = "
                                 "(SELECT id FROM revocations WHERE certificate_id = %lld)",
                                 spki, (long long)a->id),
                         1);
        assert_int_equal(sql_int(f, "SELECT count(*) FROM events WHERE object_type = "
                                    "'blocked_key' AND to_status = 'blocked'"),
                         1);
        cert_rec_free(a);
        cert_rec_free(b);
        cert_rec_free(c);
        EVP_PKEY_free(k);
        EVP_PKEY_free(other);
}

static void test_other_reasons_block_nothing(void **state)
{
        struct fx *f = *state;
        EVP_PKEY *k = new_key();
        struct cert_rec *a = sign_with(f, k, "a.example.com");
        struct cert_rec *b = sign_with(f, k, "b.example.com");
        struct revoke_out out;
        OK(t_revoke(f, a->id, REASON_SUPERSEDED, NULL, &out, &ei_));
        assert_int_equal(out.nrevoked, 1);
        free(out.revoked);
        ASSERT_STATUS(f, b->id, "issued");
        assert_int_equal(sql_int(f, "SELECT count(*) FROM blocked_keys"), 0);
        struct cert_rec *again = sign_with(f, k, "c.example.com");
        cert_rec_free(again);
        cert_rec_free(a);
        cert_rec_free(b);
        EVP_PKEY_free(k);
}

static void test_other_tenants_are_told_then_proof_revokes(void **state)
{
        struct fx *f = *state;
        EVP_PKEY *k = new_key();
        int64_t other = make_tenant(f, "other");
        act_as(f, "other");
        struct cert_rec *d = sign_with(f, k, "d.example.net");
        act_as(f, "default");
        struct cert_rec *a = sign_with(f, k, "a.example.com");
        struct revoke_out out;
        OK(revoke_kc(f, a->id, &out, &ei_));
        assert_int_equal(out.nrevoked, 1); /* never the other tenant's */
        free(out.revoked);
        ASSERT_STATUS(f, d->id, "issued");
        /* its owner is told, in its own log, without naming who reported it */
        ASSERT_HISTORY(f, "certificate", d->id, "->issued issued>key_compromised_elsewhere");
        assert_int_equal(sql_int(f,
                                 "SELECT tenant_id FROM events WHERE object_type = "
                                 "'certificate' AND object_id = %lld ORDER BY id DESC LIMIT 1",
                                 (long long)d->id),
                         other);
        char why[600];
        last_reason(f, "certificate", d->id, why, sizeof why);
        assert_non_null(strstr(why, "another account"));
        assert_null(strstr(why, "a.example.com"));

        /* the other tenant cannot reissue it with the original CSR */
        act_as(f, "other");
        struct cert_rec *re = NULL;
        long long before = state_now(f);
        REFUSED(QERR_KEY_BLOCKED, t_reissue(f, d->id, REISSUE_SAME_CSR, NULL, NULL, &re, &ei_));
        assert_int_equal(state_now(f), before);
        /* nor sign a new one with it */
        char *csr = csr_for(k, "e.example.net");
        REFUSED(QERR_KEY_BLOCKED, t_sign(f, csr, &re, &ei_));
        free(csr);
        assert_int_equal(state_now(f), before);

        /* a proof of possession of the key revokes it, whoever's it is */
        char spki[65];
        spki_of(k, spki);
        struct qbuf der;
        qbuf_init(&der, 4096);
        OK(pki_key_spki_der(k, &der, &ei_));
        char stmt[256];
        snprintf(stmt, sizeof stmt, KEY_PROOF_PREFIX "%s\n%lld\n", spki, (long long)qtime_now());
        uint8_t sig[256];
        size_t siglen = sizeof sig;
        EVP_MD_CTX *ctx = pki_sign_ctx(k);
        assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, (const uint8_t *)stmt, strlen(stmt)), 1);
        EVP_MD_CTX_free(ctx);
        struct key_proof_req pr = {.spki_der = der.data,
                                   .spki_len = der.len,
                                   .statement = (const uint8_t *)stmt,
                                   .statement_len = strlen(stmt),
                                   .signature = sig,
                                   .signature_len = siglen};
        act_as(f, "default");
        struct key_proof_out po;
        OK(service_revoke_by_key_proof(f->s, &pr, &po, &ei_));
        assert_int_equal(po.nrevoked, 1);
        assert_false(po.newly_blocked);
        assert_string_equal(po.spki_sha256, spki);
        ASSERT_STATUS(f, d->id, "revoked");
        assert_true(on_crl(f, d));
        last_reason(f, "certificate", d->id, why, sizeof why);
        assert_non_null(strstr(why, "proved possession"));
        qbuf_free(&der);
        cert_rec_free(a);
        cert_rec_free(d);
        EVP_PKEY_free(k);
}

static void test_key_proof_refusals(void **state)
{
        struct fx *f = *state;
        EVP_PKEY *k = new_key(), *wrong = new_key();
        struct cert_rec *a = sign_with(f, k, "a.example.com");
        char spki[65];
        spki_of(k, spki);
        struct qbuf der;
        qbuf_init(&der, 4096);
        OK(pki_key_spki_der(k, &der, &ei_));
        long long now = (long long)qtime_now();
        struct {
                const char *what;
                EVP_PKEY *signer;
                char stmt[256];
                enum qerr want;
        } cases[5];
        memset(cases, 0, sizeof cases);
        cases[0].what = "signed by another key";
        cases[0].signer = wrong;
        snprintf(cases[0].stmt, 256, KEY_PROOF_PREFIX "%s\n%lld\n", spki, now);
        cases[1].what = "another key's hash";
        cases[1].signer = k;
        snprintf(cases[1].stmt, 256, KEY_PROOF_PREFIX "%064d\n%lld\n", 0, now);
        cases[2].what = "an old statement";
        cases[2].signer = k;
        snprintf(cases[2].stmt, 256, KEY_PROOF_PREFIX "%s\n%lld\n", spki, now - 3600);
        cases[3].what = "another text";
        cases[3].signer = k;
        snprintf(cases[3].stmt, 256, "I, the holder of %s, agree\n", spki);
        cases[4].what = "no time";
        cases[4].signer = k;
        snprintf(cases[4].stmt, 256, KEY_PROOF_PREFIX "%s\n", spki);
        long long before = state_now(f);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                uint8_t sig[256];
                size_t siglen = sizeof sig;
                EVP_MD_CTX *ctx = pki_sign_ctx(cases[i].signer);
                assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, (const uint8_t *)cases[i].stmt,
                                                strlen(cases[i].stmt)),
                                 1);
                EVP_MD_CTX_free(ctx);
                struct key_proof_req pr = {.spki_der = der.data,
                                           .spki_len = der.len,
                                           .statement = (const uint8_t *)cases[i].stmt,
                                           .statement_len = strlen(cases[i].stmt),
                                           .signature = sig,
                                           .signature_len = siglen};
                struct key_proof_out po;
                struct qerr_info ei;
                qerr_clear(&ei);
                enum qerr rc = service_revoke_by_key_proof(f->s, &pr, &po, &ei);
                if (rc != QERR_KEY_PROOF_INVALID)
                        fail_msg("%s: %s (%s)", cases[i].what, qerr_code(rc), qerr_message(&ei));
                assert_true(strlen(ei.msg) > 0);
        }
        /* a public key that does not parse */
        struct key_proof_req bad = {.spki_der = (const uint8_t *)"garbage", .spki_len = 7};
        struct key_proof_out po;
        REFUSED(QERR_KEY_INVALID, service_revoke_by_key_proof(f->s, &bad, &po, &ei_));
        assert_int_equal(state_now(f), before);
        ASSERT_STATUS(f, a->id, "issued");
        assert_int_equal(sql_int(f, "SELECT count(*) FROM blocked_keys"), 0);
        qbuf_free(&der);
        cert_rec_free(a);
        EVP_PKEY_free(k);
        EVP_PKEY_free(wrong);
}

/* ---- refused on every path ---- */

static void test_blocked_key_refused_everywhere(void **state)
{
        struct fx *f = *state;
        EVP_PKEY *k = new_key(), *fresh = new_key();
        struct cert_rec *a = sign_with(f, k, "a.example.com");
        struct cert_rec *c = sign_with(f, fresh, "c.example.com");
        struct revoke_out out;
        OK(revoke_kc(f, a->id, &out, &ei_));
        free(out.revoked);
        long long before = state_now(f);

        /* a CSR, private profile */
        char *csr = csr_for(k, "n.example.com");
        struct cert_rec *x = NULL;
        REFUSED(QERR_KEY_BLOCKED, t_sign(f, csr, &x, &ei_));
        /* a DV order with that CSR: refused before the order exists */
        const char *names[] = {"n.example.org"};
        char *dvcsr = csr_for(k, "n.example.org");
        struct order_apply_req r = {.names = names,
                                    .nnames = 1,
                                    .profile = PROFILE_DV,
                                    .method = "dns",
                                    .csr = (const uint8_t *)dvcsr,
                                    .csr_len = strlen(dvcsr)};
        struct order_rec *o = NULL;
        REFUSED(QERR_KEY_BLOCKED, service_order_apply(f->s, &r, &o, &ei_));
        assert_null(o);
        /* a reissue of another certificate with a pasted CSR of that key */
        char *pasted = csr_for(k, "c.example.com");
        REFUSED(QERR_KEY_BLOCKED, t_reissue(f, c->id, REISSUE_PASTED_CSR, NULL, pasted, &x, &ei_));
        ASSERT_STATUS(f, c->id, "issued");
        /* an upload of a certificate with that key */
        struct qbuf kp;
        qbuf_init(&kp, 1 << 16);
        OK(pki_key_to_pem(k, NULL, &kp, &ei_));
        struct upload_req u = {.cert_pem = a->cert_pem,
                               .cert_len = strlen(a->cert_pem),
                               .key_pem = qbuf_str(&kp),
                               .key_len = kp.len,
                               .chain_pem = a->chain_pem,
                               .chain_len = strlen(a->chain_pem)};
        REFUSED(QERR_KEY_BLOCKED, service_cert_upload(f->s, &u, &x, &ei_));
        assert_null(x);
        assert_int_equal(state_now(f), before);
        /* the same upload with another key's certificate goes through */
        struct qbuf kp2;
        qbuf_init(&kp2, 1 << 16);
        OK(pki_key_to_pem(fresh, NULL, &kp2, &ei_));
        struct upload_req u2 = {.cert_pem = c->cert_pem,
                                .cert_len = strlen(c->cert_pem),
                                .key_pem = qbuf_str(&kp2),
                                .key_len = kp2.len,
                                .chain_pem = c->chain_pem,
                                .chain_len = strlen(c->chain_pem)};
        OK(service_cert_upload(f->s, &u2, &x, &ei_));
        assert_string_equal(x->spki_sha256, c->spki_sha256);
        cert_rec_free(x);
        qbuf_free(&kp);
        qbuf_free(&kp2);
        free(csr);
        free(dvcsr);
        free(pasted);
        cert_rec_free(a);
        cert_rec_free(c);
        EVP_PKEY_free(k);
        EVP_PKEY_free(fresh);
}

/* A key the service generated for an order, blocked before the order is
 * signed: the order fails with key_blocked (astronomically unlikely for a
 * fresh key, checked all the same). */
static void test_generated_key_blocked_at_issuance(void **state)
{
        struct fx *f = *state;
        struct order_rec *o = dv_order(f, "gen.example.org", NULL);
        struct csr_info ci;
        OK(pki_csr_parse(o->csr_pem, strlen(o->csr_pem), &ci, &ei_));
        char spki[65];
        spki_of(ci.key, spki);
        csr_info_clear(&ci);
        struct block_key_req br = {.spki_sha256 = spki, .reason = "unit test"};
        struct blocked_key_rec k;
        bool added = false;
        size_t told = 9;
        OK(service_blocked_key_add(f->s, &br, &k, &added, &told, &ei_));
        assert_true(added);
        assert_int_equal(told, 0);
        run_issue_job(f, o->id, 0);
        struct order_rec *done = NULL;
        OK(t_order_get(f, o->id, &done, &ei_));
        assert_int_equal(done->status, ORDER_FAILED);
        assert_string_equal(done->failure_code, "key_blocked");
        assert_int_equal(done->certificate_id, 0);
        assert_int_equal(
            sql_int(f, "SELECT count(*) FROM certificates WHERE spki_sha256 = '%s'", spki), 0);
        order_rec_free(o);
        order_rec_free(done);
}

/* A same-tenant certificate whose DV revocation waits for proof of control
 * is revoked with the compromised key all the same: the pending revocation
 * is superseded and its proof order cancelled. */
static void test_pending_revocation_is_superseded(void **state)
{
        struct fx *f = *state;
        EVP_PKEY *k = new_key();
        struct cert_rec *dv = issue_dv(f, k, "dv.example.org", 0);
        struct revoke_out pend;
        OK(t_revoke(f, dv->id, REASON_SUPERSEDED, NULL, &pend, &ei_));
        assert_true(pend.proof_order > 0);
        ASSERT_STATUS(f, dv->id, "revocation_pending");
        struct cert_rec *priv = sign_with(f, k, "p.example.com");
        struct revoke_out out;
        OK(revoke_kc(f, priv->id, &out, &ei_));
        assert_int_equal(out.nrevoked, 2);
        free(out.revoked);
        ASSERT_STATUS(f, dv->id, "revoked");
        assert_true(on_crl(f, dv));
        assert_int_equal(sql_int(f,
                                 "SELECT count(*) FROM revocations WHERE certificate_id = %lld "
                                 "AND status = 'failed'",
                                 (long long)dv->id),
                         1);
        assert_int_equal(sql_int(f,
                                 "SELECT reason_code FROM revocations WHERE certificate_id = %lld "
                                 "AND status = 'done'",
                                 (long long)dv->id),
                         REASON_KEY_COMPROMISE);
        struct order_rec *po = NULL;
        OK(t_order_get(f, pend.proof_order, &po, &ei_));
        assert_int_equal(po->status, ORDER_CANCELLED);
        order_rec_free(po);
        cert_rec_free(dv);
        cert_rec_free(priv);
        EVP_PKEY_free(k);
}

/* The same for an OV certificate whose revocation waits for the review of
 * its signed letter: the review is closed, the revocation superseded. */
static void test_pending_letter_review_is_closed(void **state)
{
        struct fx *f = *state;
        static const char letter[] = "%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
        EVP_PKEY *k = new_key();
        struct cert_rec *ov = issue_public(f, PROFILE_OV, k, "ov.example.org", 0);
        struct revoke_out pend;
        OK(t_revoke(f, ov->id, REASON_CESSATION, letter, &pend, &ei_));
        assert_true(pend.review_id > 0);
        struct cert_rec *priv = sign_with(f, k, "p.example.com");
        struct revoke_out out;
        OK(revoke_kc(f, priv->id, &out, &ei_));
        assert_int_equal(out.nrevoked, 2);
        free(out.revoked);
        ASSERT_STATUS(f, ov->id, "revoked");
        ASSERT_HISTORY(f, "review", pend.review_id, "pending>rejected");
        char why[600];
        last_reason(f, "review", pend.review_id, why, sizeof why);
        assert_non_null(strstr(why, "superseded"));
        /* the reviewer finds nothing left to decide */
        struct review_rec r;
        REFUSED(QERR_ORDER_STATE, t_review(f, pend.review_id, true, NULL, &r, &ei_));
        cert_rec_free(ov);
        cert_rec_free(priv);
        EVP_PKEY_free(k);
}

/* ---- the operator's block ---- */

static void test_operator_block_and_list(void **state)
{
        struct fx *f = *state;
        EVP_PKEY *k = new_key();
        struct cert_rec *a = sign_with(f, k, "a.example.com");
        int64_t other = make_tenant(f, "other");
        act_as(f, "other");
        struct cert_rec *d = sign_with(f, k, "d.example.net");
        act_as(f, "default");
        struct qbuf kp;
        qbuf_init(&kp, 1 << 16);
        OK(pki_key_to_pem(k, NULL, &kp, &ei_));
        struct block_key_req br = {.key = kp.data, .key_len = kp.len, .reason = "leaked"};
        struct blocked_key_rec b;
        bool added = false;
        size_t told = 0;
        OK(service_blocked_key_add(f->s, &br, &b, &added, &told, &ei_));
        assert_true(added);
        assert_string_equal(b.spki_sha256, a->spki_sha256);
        assert_string_equal(b.source, "manual");
        assert_string_equal(b.reason, "leaked");
        /* nothing revoked; both owners told */
        assert_int_equal(told, 2);
        ASSERT_STATUS(f, a->id, "issued");
        ASSERT_STATUS(f, d->id, "issued");
        ASSERT_HISTORY(f, "certificate", a->id, "->issued issued>key_compromised");
        ASSERT_HISTORY(f, "certificate", d->id, "->issued issued>key_compromised");
        assert_int_equal(sql_int(f,
                                 "SELECT tenant_id FROM events WHERE object_type = "
                                 "'certificate' AND object_id = %lld ORDER BY id DESC LIMIT 1",
                                 (long long)d->id),
                         other);
        /* again: already blocked, the first row stays */
        struct block_key_req again = {.cert = (const uint8_t *)a->cert_pem,
                                      .cert_len = strlen(a->cert_pem)};
        OK(service_blocked_key_add(f->s, &again, &b, &added, &told, &ei_));
        assert_false(added);
        assert_string_equal(b.reason, "leaked");
        /* a public key block, then the list, newest first */
        EVP_PKEY *k2 = new_key();
        struct qbuf pub;
        qbuf_init(&pub, 4096);
        OK(pki_key_spki_der(k2, &pub, &ei_));
        struct block_key_req byder = {.key = pub.data, .key_len = pub.len};
        OK(service_blocked_key_add(f->s, &byder, &b, &added, &told, &ei_));
        assert_true(added);
        char spki2[65];
        spki_of(k2, spki2);
        assert_string_equal(b.spki_sha256, spki2);
        struct blocked_key_rec *v = NULL;
        size_t n = 0;
        bool more = true;
        OK(service_blocked_key_list(f->s, 0, 1, &v, &n, &more, &ei_));
        assert_int_equal(n, 1);
        assert_true(more);
        assert_string_equal(v[0].spki_sha256, spki2);
        int64_t last = v[0].id;
        free(v);
        OK(service_blocked_key_list(f->s, last, 10, &v, &n, &more, &ei_));
        assert_int_equal(n, 1);
        assert_false(more);
        assert_string_equal(v[0].spki_sha256, a->spki_sha256);
        free(v);

        /* refusals change nothing */
        long long before = state_now(f);
        long long nblocked = sql_int(f, "SELECT count(*) FROM blocked_keys");
        struct {
                struct block_key_req r;
                enum qerr want;
        } bad[] = {
            {{.spki_sha256 = "abc"}, QERR_USAGE},
            {{.spki_sha256 = "zz09282339ebf6e5ce16d25941ebb4549cabcada18650343952daa778a5719684"},
             QERR_USAGE},
            {{.spki_sha256 = spki2, .cert = (const uint8_t *)"x", .cert_len = 1}, QERR_USAGE},
            {{.reason = "nothing given"}, QERR_USAGE},
            {{.cert = (const uint8_t *)"not a certificate", .cert_len = 17}, QERR_PEM_INVALID},
            {{.key = (const uint8_t *)"not a key", .key_len = 9}, QERR_KEY_INVALID},
            {{.key = (const uint8_t *)a->cert_pem, .key_len = strlen(a->cert_pem)},
             QERR_KEY_INVALID},
            {{.spki_sha256 = spki2, .reason = "bell\a"}, QERR_USAGE},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct qerr_info ei;
                qerr_clear(&ei);
                enum qerr rc = service_blocked_key_add(f->s, &bad[i].r, &b, &added, &told, &ei);
                if (rc != bad[i].want)
                        fail_msg("case %zu: %s (%s), expected %s", i, qerr_code(rc),
                                 qerr_message(&ei), qerr_code(bad[i].want));
        }
        assert_int_equal(sql_int(f, "SELECT count(*) FROM blocked_keys"), nblocked);
        assert_int_equal(state_now(f), before);

        /* a user key may neither block nor list */
        struct principal user = *service_principal(f->s);
        user.role = ROLE_USER;
        user.local = false;
        service_set_principal(f->s, &user);
        REFUSED(QERR_FORBIDDEN, service_blocked_key_add(f->s, &byder, &b, &added, &told, &ei_));
        REFUSED(QERR_FORBIDDEN, service_blocked_key_list(f->s, 0, 10, &v, &n, &more, &ei_));
        qbuf_free(&kp);
        qbuf_free(&pub);
        cert_rec_free(a);
        cert_rec_free(d);
        EVP_PKEY_free(k);
        EVP_PKEY_free(k2);
}

/* ---- key hashes of rows older than migration 009 ---- */

static void test_key_hashes_filled_in(void **state)
{
        struct fx *f = *state;
        EVP_PKEY *k = new_key();
        struct cert_rec *a = sign_with(f, k, "a.example.com");
        struct cert_rec *b = sign_with(f, k, "b.example.com");
        /* as a database migrated from before 009 would hold them */
        sql_exec(f, "UPDATE certificates SET spki_sha256 = NULL");
        struct service *second = NULL;
        struct service_opts o = {.data_dir = f->dir, .cfg = &f->cfg, .actor = "unit:tester"};
        OK(service_open(&o, &second, &ei_));
        service_close(second);
        assert_int_equal(sql_int(f, "SELECT count(*) FROM certificates WHERE spki_sha256 IS NULL"),
                         0);
        assert_int_equal(sql_int(f, "SELECT count(*) FROM certificates WHERE spki_sha256 = '%s'",
                                 a->spki_sha256),
                         2);
        /* and a revocation finds rows still without one (filled in its
         * transaction) */
        sql_exec(f, "UPDATE certificates SET spki_sha256 = NULL");
        struct revoke_out out;
        OK(revoke_kc(f, a->id, &out, &ei_));
        assert_int_equal(out.nrevoked, 2);
        free(out.revoked);
        ASSERT_STATUS(f, b->id, "revoked");
        cert_rec_free(a);
        cert_rec_free(b);
        EVP_PKEY_free(k);
}

int main(int argc, char **argv)
{
        FIXTURE_SIGNER_MAIN(argc, argv);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_key_compromise_cascades_in_the_tenant, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_other_reasons_block_nothing, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_other_tenants_are_told_then_proof_revokes,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_key_proof_refusals, fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_blocked_key_refused_everywhere, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_generated_key_blocked_at_issuance, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_pending_revocation_is_superseded, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_pending_letter_review_is_closed, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_operator_block_and_list, fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_key_hashes_filled_in, fx_setup, fx_teardown),
        };
        return cmocka_run_group_tests_name("service_keys", tests, NULL, NULL);
}
