/*
 * test_signer_crl.c - CRL sessions of the signer (CRL_BEGIN, CRL_ENTRIES,
 * CRL_FINISH) run in-process through signer_handle(), as the service drives
 * them (signer_crl_drive): the profile checks, the BR refusals and the CRL
 * number high-water mark (issue 7), the lint gate, the session rules (what
 * was announced must arrive; any refusal ends it), and CRLs far larger than
 * one frame, each assembled as the service does and read back by OpenSSL.
 */
#include "signer_fixture.h"

#include <openssl/x509v3.h>

#include "pki/pki_crl.h"
#include "pki/pki_pem.h"

/* ---- CRL sessions through signer_handle (in-process transport) ---- */

static enum qerr rt_handle(void *ctx, const struct qbuf *request, struct qbuf *answer,
                           struct qerr_info *ei)
{
        struct qbuf out;
        qbuf_init(&out, MAX_SIGNER_MSG_BYTES + 8);
        signer_handle(ctx, request->data + 4, request->len - 4, &out);
        qbuf_reset(answer);
        bool ok = out.len > 4 && qbuf_append(answer, out.data + 4, out.len - 4);
        qbuf_free(&out);
        return ok ? QERR_OK : qerr_set(ei, QERR_PROTO, "no answer");
}

struct crl_job {
        struct signer_req begin;
        struct qbuf entries;
        size_t count;
};

static struct crl_job crl_job_of(const struct fixture *f, int64_t number,
                                 const struct pki_crl_entry *v, size_t n)
{
        struct crl_job j;
        memset(&j, 0, sizeof j);
        qbuf_init(&j.entries, 1u << 26);
        for (size_t i = 0; i < n; i++) {
                uint8_t der[PKI_CRL_ENTRY_MAX];
                size_t k = pki_crl_entry_encode(der, v[i].serial, v[i].serial_len, v[i].revoked_at,
                                                v[i].reason);
                assert_true(k > 0);
                assert_true(qbuf_append(&j.entries, der, k));
        }
        j.count = n;
        j.begin.type = SMSG_CRL_BEGIN;
        j.begin.issuer_der.p = f->issuing_der.data;
        j.begin.issuer_der.len = f->issuing_der.len;
        j.begin.crl_number = number;
        j.begin.this_update = qtime_now();
        j.begin.next_update = j.begin.this_update + 7 * 86400;
        j.begin.crl_url = sbytes_str("http://127.0.0.1:1/crl/2/0.crl");
        return j;
}

static void crl_job_free(struct crl_job *j)
{
        qbuf_free(&j->entries);
}

/* Runs a whole session; on success assembles the CRL as the service does,
 * checks its signature against the issuer, lints it as the service does
 * before storing it, and parses it into *out (when out is not NULL). The
 * error sentence goes to msg, the signer's CRL number mark to *mark. */
static enum qerr sign_crl_ex(struct signer_state *st, struct crl_job *j, X509_CRL **out, char *msg,
                             size_t msgsz, int64_t *mark)
{
        struct qbuf answer, prefix, suffix, der;
        qbuf_init(&answer, MAX_SIGNER_MSG_BYTES);
        qbuf_init(&prefix, 16);
        qbuf_init(&suffix, 4096);
        qbuf_init(&der, 1u << 27);
        struct signer_resp resp;
        struct qerr_info ei;
        enum qerr rc = signer_crl_drive(rt_handle, st, &j->begin, j->entries.data, j->entries.len,
                                        j->count, &answer, &resp, &ei);
        if (msg)
                snprintf(msg, msgsz, "%s", rc == QERR_OK ? "" : qerr_message(&ei));
        if (mark)
                *mark = resp.crl_number;
        if (rc == QERR_OK) {
                X509 *issuer = NULL;
                assert_int_equal(
                    pki_cert_read(j->begin.issuer_der.p, j->begin.issuer_der.len, &issuer, &ei),
                    QERR_OK);
                assert_int_equal(pki_crl_verify_parts(issuer, resp.crl_head.p, resp.crl_head.len,
                                                      j->entries.data, j->entries.len,
                                                      resp.crl_tail.p, resp.crl_tail.len,
                                                      resp.signature.p, resp.signature.len, &ei),
                                 QERR_OK);
                uint64_t tbs = resp.crl_head.len + j->entries.len + resp.crl_tail.len;
                assert_true(pki_crl_wrap(tbs, resp.sig_alg.p, resp.sig_alg.len, resp.signature.p,
                                         resp.signature.len, &prefix, &suffix));
                assert_true(qbuf_append(&der, prefix.data, prefix.len) &&
                            qbuf_append(&der, resp.crl_head.p, resp.crl_head.len) &&
                            qbuf_append(&der, j->entries.data, j->entries.len) &&
                            qbuf_append(&der, resp.crl_tail.p, resp.crl_tail.len) &&
                            qbuf_append(&der, suffix.data, suffix.len));
                struct lint_crl_opts lo = {.prev_number = -1,
                                           .issuer_der = j->begin.issuer_der.p,
                                           .issuer_len = j->begin.issuer_der.len};
                struct lint_report r;
                lint_report_init(&r);
                assert_int_equal(lint_crl_der(der.data, der.len, &lo, &r, &ei), QERR_OK);
                if (r.errors)
                        fail_msg("the signed CRL fails lint: %s %s", r.items[0].id,
                                 r.items[0].message);
                lint_report_free(&r);
                const unsigned char *p = der.data;
                X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)der.len);
                assert_non_null(crl);
                assert_ptr_equal(p, der.data + der.len);
                assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(issuer)), 1);
                X509_free(issuer);
                if (out)
                        *out = crl;
                else
                        X509_CRL_free(crl);
        }
        qbuf_free(&answer);
        qbuf_free(&prefix);
        qbuf_free(&suffix);
        qbuf_free(&der);
        return rc;
}

static enum qerr sign_crl(struct signer_state *st, struct crl_job *j, X509_CRL **out)
{
        return sign_crl_ex(st, j, out, NULL, 0, NULL);
}

static void test_passphrase_missing_and_wrong(void **state)
{
        struct fixture *f = *state;
        struct crl_job j = crl_job_of(f, 1, NULL, 0);
        /* no passphrase: the note says why */
        char msg[512] = "";
        struct signer_state *st = state_with(f, NULL, "the CA passphrase file /x is empty");
        assert_int_equal(sign_crl_ex(st, &j, NULL, msg, sizeof msg, NULL),
                         QERR_CA_PASSPHRASE_MISSING);
        assert_non_null(strstr(msg, "/x is empty"));
        signer_state_free(st);
        /* 11 characters: too short, whatever it decrypts */
        st = state_with(f, "eleven-char", NULL);
        assert_int_equal(sign_crl_ex(st, &j, NULL, msg, sizeof msg, NULL), QERR_CA_PASSPHRASE_WEAK);
        assert_non_null(strstr(msg, "12"));
        signer_state_free(st);
        st = state_with(f, "not-the-passphrase", NULL);
        assert_int_equal(sign_crl(st, &j, NULL), QERR_CA_PASSPHRASE_WRONG);
        signer_state_free(st);
        st = state_with(f, PASS, NULL);
        X509_CRL *crl = NULL;
        assert_int_equal(sign_crl(st, &j, &crl), QERR_OK);
        assert_non_null(crl);
        /* no revoked certificate: no (empty) list, RFC 5280 5.1.2.6 */
        assert_null(X509_CRL_get_REVOKED(crl));
        X509_CRL_free(crl);
        signer_state_free(st);
        crl_job_free(&j);
}

static void test_crl_profile(void **state)
{
        struct fixture *f = *state;
        const int64_t now = qtime_now();
        struct pki_crl_entry e = {
            .serial = {0x41, 1}, .serial_len = 16, .revoked_at = now - 60, .reason = 1};
        struct crl_job j = crl_job_of(f, 2, &e, 1);
        j.begin.next_update = j.begin.this_update + 11 * 86400; /* BR: at most 10 days */
        assert_int_equal(sign_crl(f->st, &j, NULL), QERR_SIGNER_REFUSED);
        j.begin.next_update = j.begin.this_update + 7 * 86400;
        j.begin.crl_number = 0;
        assert_int_equal(sign_crl(f->st, &j, NULL), QERR_SIGNER_REFUSED);
        j.begin.crl_number = 3;
        j.begin.this_update = now - 3 * 86400; /* too far back */
        assert_int_equal(sign_crl(f->st, &j, NULL), QERR_SIGNER_REFUSED);
        j.begin.this_update = now;
        j.begin.next_update = now + 7 * 86400;
        j.begin.crl_url = sbytes_str("http://127.0.0.1:1/crl/2/0 .crl");
        assert_int_equal(sign_crl(f->st, &j, NULL), QERR_SIGNER_REFUSED);
        j.begin.crl_url = sbytes_str("http://127.0.0.1:1/crl/2/0.crl");
        X509_CRL *crl = NULL;
        assert_int_equal(sign_crl(f->st, &j, &crl), QERR_OK);
        /* the IDP the signer wrote: critical, exactly that URL */
        int crit = -1;
        ISSUING_DIST_POINT *idp =
            X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit, NULL);
        assert_non_null(idp);
        assert_int_equal(crit, 1);
        GENERAL_NAME *gn = sk_GENERAL_NAME_value(idp->distpoint->name.fullname, 0);
        assert_string_equal((const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
                            "http://127.0.0.1:1/crl/2/0.crl");
        ISSUING_DIST_POINT_free(idp);
        X509_CRL_free(crl);
        /* issue 7: the number must increase (the signer's on-disk mark) */
        char msg[512] = "";
        assert_int_equal(sign_crl_ex(f->st, &j, NULL, msg, sizeof msg, NULL),
                         QERR_CRL_NUMBER_STALE);
        crl_job_free(&j);
        /* a revocation date after thisUpdate */
        e.revoked_at = now + 2 * 3600;
        j = crl_job_of(f, 40, &e, 1);
        assert_int_equal(sign_crl(f->st, &j, NULL), QERR_SIGNER_REFUSED);
        crl_job_free(&j);
}

/* Reasons (BR 7.2.2): never certificateHold (6) or removeFromCRL (8), only
 * CRLReason values, cACompromise (2) on a root's CRL only; aACompromise
 * (10), which the signer's own check lets through, is refused by the lint
 * gate's entry rules. */
static void test_crl_reasons(void **state)
{
        struct fixture *f = *state;
        const struct {
                int reason;
                bool root;
                enum qerr want;
                const char *says;
        } cases[] = {{1, false, QERR_OK, NULL},
                     {3, false, QERR_OK, NULL},
                     {4, false, QERR_OK, NULL},
                     {5, false, QERR_OK, NULL},
                     {9, false, QERR_OK, NULL},
                     {0, false, QERR_OK, NULL}, /* no reasonCode */
                     {6, false, QERR_SIGNER_REFUSED, "certificateHold"},
                     {8, false, QERR_SIGNER_REFUSED, "removeFromCRL"},
                     {7, false, QERR_SIGNER_REFUSED, "not a CRLReason"},
                     {2, false, QERR_SIGNER_REFUSED, "cACompromise"},
                     {10, false, QERR_LINT_FAILED, "e_crl_reason_not_allowed"},
                     {2, true, QERR_OK, NULL},
                     {6, true, QERR_SIGNER_REFUSED, "certificateHold"}};
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct pki_crl_entry e = {.serial = {0x41, 7},
                                          .serial_len = 16,
                                          .revoked_at = qtime_now() - 60,
                                          .reason = cases[i].reason};
                struct crl_job k = crl_job_of(f, (int64_t)(10 + i), &e, 1);
                if (cases[i].root) {
                        k.begin.issuer_der.p = f->root_der.data;
                        k.begin.issuer_der.len = f->root_der.len;
                        k.begin.crl_url = sbytes_str(""); /* a root's CRL is complete */
                }
                char msg[512] = "";
                enum qerr rc = sign_crl_ex(f->st, &k, NULL, msg, sizeof msg, NULL);
                if (rc != cases[i].want || (cases[i].says && !strstr(msg, cases[i].says)))
                        fail_msg("reason %d (root %d): expected %s (%s), got %s (%s)",
                                 cases[i].reason, cases[i].root, qerr_code(cases[i].want),
                                 cases[i].says ? cases[i].says : "", qerr_code(rc), msg);
                crl_job_free(&k);
        }
        /* 11 cannot even be encoded: an entry carrying it is not canonical */
        struct crl_job k = crl_job_of(f, 30, NULL, 0);
        static const uint8_t bad[] = {0x30, 0x21, 0x02, 0x02, 0x41, 0x07, 0x17, 0x0d, '2',
                                      '6',  '0',  '1',  '0',  '1',  '0',  '0',  '0',  '0',
                                      '0',  '0',  'Z',  0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03,
                                      0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, 0x0b};
        assert_true(qbuf_append(&k.entries, bad, sizeof bad));
        k.count = 1;
        assert_int_equal(sign_crl(f->st, &k, NULL), QERR_PROTO);
        crl_job_free(&k);
}

/* issue 7: the signer's own CRL number high-water mark, checked at BEGIN
 * and written before the CRL leaves the signer; the refusal carries it. */
static void test_crl_numbers_must_increase(void **state)
{
        struct fixture *f = *state;
        struct crl_job j = crl_job_of(f, 5, NULL, 0);
        assert_int_equal(sign_crl(f->st, &j, NULL), QERR_OK);
        assert_int_equal(read_mark_file(f), 5);
        /* the same number again, and a lower one: refused, with the mark */
        for (int64_t n = 5; n >= 4; n--) {
                j.begin.crl_number = n;
                int64_t mark = 0;
                assert_int_equal(sign_crl_ex(f->st, &j, NULL, NULL, 0, &mark),
                                 QERR_CRL_NUMBER_STALE);
                assert_int_equal(mark, 5);
        }
        /* the mark survives the process: a new state reads it from disk */
        struct signer_state *st = state_with(f, PASS, NULL);
        j.begin.crl_number = 5;
        assert_int_equal(sign_crl(st, &j, NULL), QERR_CRL_NUMBER_STALE);
        j.begin.crl_number = 9;
        assert_int_equal(sign_crl(st, &j, NULL), QERR_OK);
        assert_int_equal(read_mark_file(f), 9);
        /* a session refused halfway signs nothing and moves no mark */
        struct pki_crl_entry e = {
            .serial = {0x41, 1}, .serial_len = 16, .revoked_at = qtime_now() - 60, .reason = 6};
        struct crl_job h = crl_job_of(f, 12, &e, 1);
        assert_int_equal(sign_crl(st, &h, NULL), QERR_SIGNER_REFUSED);
        assert_int_equal(read_mark_file(f), 9);
        crl_job_free(&h);
        /* another signer (another process) moved the mark during a session:
         * FINISH checks again */
        j.begin.crl_number = 10;
        j.begin.entry_count = 0;
        j.begin.entries_len = 0;
        assert_int_equal(call(st, &j.begin, NULL, NULL, 0), QERR_OK);
        struct signer_state *st2 = state_with(f, PASS, NULL);
        struct crl_job j2 = crl_job_of(f, 11, NULL, 0);
        assert_int_equal(sign_crl(st2, &j2, NULL), QERR_OK);
        struct signer_req fin = {.type = SMSG_CRL_FINISH};
        assert_int_equal(call(st, &fin, NULL, NULL, 0), QERR_CRL_NUMBER_STALE);
        assert_int_equal(read_mark_file(f), 11);
        crl_job_free(&j2);
        signer_state_free(st2);
        signer_state_free(st);
        crl_job_free(&j);
}

/* The session itself: what was announced must arrive, in order. */
static void test_crl_session_rules(void **state)
{
        struct fixture *f = *state;
        struct pki_crl_entry v[3] = {
            {.serial = {0x41, 1}, .serial_len = 16, .revoked_at = qtime_now() - 60, .reason = 1},
            {.serial = {0x41, 2}, .serial_len = 16, .revoked_at = qtime_now() - 60, .reason = 0},
            {.serial = {0x41, 3}, .serial_len = 9, .revoked_at = qtime_now() - 60, .reason = 4}};
        struct crl_job j = crl_job_of(f, 50, v, 3);
        /* entries or finish outside a session */
        struct signer_req r = {.type = SMSG_CRL_ENTRIES};
        r.entries.p = j.entries.data;
        r.entries.len = j.entries.len;
        assert_int_equal(call(f->st, &r, NULL, NULL, 0), QERR_PROTO);
        struct signer_req fin = {.type = SMSG_CRL_FINISH};
        assert_int_equal(call(f->st, &fin, NULL, NULL, 0), QERR_PROTO);
        /* announced 3, sent 2: refused at finish, nothing signed */
        j.begin.entry_count = 3;
        j.begin.entries_len = (int64_t)j.entries.len;
        j.begin.type = SMSG_CRL_BEGIN;
        assert_int_equal(call(f->st, &j.begin, NULL, NULL, 0), QERR_OK);
        size_t first = pki_der_element_len(j.entries.data, j.entries.len);
        size_t second = pki_der_element_len(j.entries.data + first, j.entries.len - first);
        r.entries.len = first + second;
        assert_int_equal(call(f->st, &r, NULL, NULL, 0), QERR_OK);
        assert_int_equal(call(f->st, &fin, NULL, NULL, 0), QERR_SIGNER_REFUSED);
        /* the refusal ended the session */
        assert_int_equal(call(f->st, &fin, NULL, NULL, 0), QERR_PROTO);
        /* more entries than announced */
        j.begin.entry_count = 2;
        j.begin.entries_len = (int64_t)(first + second);
        assert_int_equal(call(f->st, &j.begin, NULL, NULL, 0), QERR_OK);
        r.entries.len = j.entries.len;
        assert_int_equal(call(f->st, &r, NULL, NULL, 0), QERR_SIGNER_REFUSED);
        assert_int_equal(call(f->st, &r, NULL, NULL, 0), QERR_PROTO);
        /* an entry that is not canonical DER (long-form length) */
        j.begin.entry_count = 1;
        j.begin.entries_len = 21;
        assert_int_equal(call(f->st, &j.begin, NULL, NULL, 0), QERR_OK);
        static const uint8_t longform[] = {0x30, 0x81, 0x12, 0x02, 0x01, 0x05, 0x17,
                                           0x0d, '2',  '3',  '1',  '1',  '1',  '4',
                                           '2',  '2',  '1',  '3',  '2',  '0',  'Z'};
        r.entries.p = longform;
        r.entries.len = sizeof longform;
        assert_int_equal(call(f->st, &r, NULL, NULL, 0), QERR_PROTO);
        /* impossible announcements */
        j.begin.entry_count = 5;
        j.begin.entries_len = 20;
        assert_int_equal(call(f->st, &j.begin, NULL, NULL, 0), QERR_SIGNER_REFUSED);
        j.begin.entry_count = 0;
        j.begin.entries_len = 20;
        assert_int_equal(call(f->st, &j.begin, NULL, NULL, 0), QERR_SIGNER_REFUSED);
        /* a new BEGIN replaces an open session; a request in between that
         * succeeds does not disturb it */
        j.begin.entry_count = 3;
        j.begin.entries_len = (int64_t)j.entries.len;
        assert_int_equal(call(f->st, &j.begin, NULL, NULL, 0), QERR_OK);
        struct signer_req ping = {.type = SMSG_PING};
        assert_int_equal(call(f->st, &ping, NULL, NULL, 0), QERR_OK);
        crl_job_free(&j);
        j = crl_job_of(f, 51, v, 3);
        X509_CRL *crl = NULL;
        assert_int_equal(sign_crl(f->st, &j, &crl), QERR_OK);
        assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 3);
        X509_CRL_free(crl);
        crl_job_free(&j);
}

/* Far more entries than one frame holds (the one-frame CRL failed at the
 * 4,077th): the signer streams them and never holds the CRL. */
static void test_crl_many_entries(void **state)
{
        struct fixture *f = *state;
        const size_t n = 100000;
        struct pki_crl_entry *v = calloc(n, sizeof *v);
        assert_non_null(v);
        for (size_t i = 0; i < n; i++) {
                v[i].serial_len = 16;
                v[i].serial[0] = 0x41;
                v[i].serial[13] = (uint8_t)(i >> 16);
                v[i].serial[14] = (uint8_t)(i >> 8);
                v[i].serial[15] = (uint8_t)i;
                v[i].revoked_at = qtime_now() - 86400 + (int64_t)(i % 3600);
                v[i].reason = (int)(i % 2) * 4;
        }
        struct crl_job j = crl_job_of(f, 60, v, n);
        assert_true(j.entries.len > 10 * MAX_SIGNER_MSG_BYTES);
        X509_CRL *crl = NULL;
        assert_int_equal(sign_crl(f->st, &j, &crl), QERR_OK);
        STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
        assert_int_equal(sk_X509_REVOKED_num(rev), (int)n);
        for (size_t i = 0; i < n; i += 9973) {
                X509_REVOKED *r = sk_X509_REVOKED_value(rev, (int)i);
                assert_int_equal(pki_time_to_unix(X509_REVOKED_get0_revocationDate(r)),
                                 v[i].revoked_at);
        }
        X509_CRL_free(crl);
        crl_job_free(&j);
        free(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_passphrase_missing_and_wrong, setup, teardown),
            cmocka_unit_test_setup_teardown(test_crl_profile, setup, teardown),
            cmocka_unit_test_setup_teardown(test_crl_reasons, setup, teardown),
            cmocka_unit_test_setup_teardown(test_crl_numbers_must_increase, setup, teardown),
            cmocka_unit_test_setup_teardown(test_crl_session_rules, setup, teardown),
            cmocka_unit_test_setup_teardown(test_crl_many_entries, setup, teardown),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
