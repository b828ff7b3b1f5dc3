/*
 * test_signer_ocsp.c - OCSP in the signer (issue 6): the new messages on
 * the wire (round trips, malformed frames), the delegated responder
 * certificate (its profile, linted clean; defective ones caught by each
 * responder check), signed batches that OpenSSL verifies from the root,
 * and what the signer refuses whatever the main process asks. Run
 * in-process against a temporary key directory (signer_handle is the
 * signer process's loop body).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/config.h"
#include "base/fsutil.h"
#include "base/qtime.h"
#include "pki/lint.h"
#include "pki/pki_key.h"
#include "pki/pki_pem.h"
#include "signer/signer.h"
#include "signer/signer_internal.h"

#define PASS "unit-test-passphrase"

struct fx {
        char dir[64];
        struct signer_state *st;
        struct qbuf root, issuing, responder;
        char responder_id[65];
};
static struct fx F;

/* ---- wire ---- */

static void test_roundtrip(void **state)
{
        (void)state;
        uint8_t s1[] = {0x41, 2, 3}, s2[20];
        memset(s2, 0x7f, sizeof s2);
        struct ocsp_entry_wire e[2] = {{.serial = {s1, sizeof s1}, .status = OCSP_WIRE_GOOD},
                                       {.serial = {s2, sizeof s2},
                                        .status = OCSP_WIRE_REVOKED,
                                        .revoked_at = 1700000000,
                                        .reason = 1}};
        struct signer_req r = {
            .type = SMSG_SIGN_OCSP, .ocsp = e, .nocsp = 2, .this_update = 11, .next_update = 22};
        r.issuer_der = sbytes_str("issuer");
        r.responder_der = sbytes_str("responder");
        struct qbuf b;
        qbuf_init(&b, MAX_SIGNER_MSG_BYTES + 8);
        assert_true(signer_encode_req(&r, &b));
        struct signer_req d;
        struct qerr_info ei;
        assert_int_equal(signer_decode_req(b.data + 4, b.len - 4, &d, &ei), QERR_OK);
        assert_int_equal(d.type, SMSG_SIGN_OCSP);
        assert_int_equal(d.nocsp, 2);
        assert_int_equal(d.ocsp[1].serial.len, 20);
        assert_int_equal(d.ocsp[1].status, OCSP_WIRE_REVOKED);
        assert_int_equal(d.ocsp[1].revoked_at, 1700000000);
        assert_int_equal(d.ocsp[1].reason, 1);
        assert_int_equal(d.next_update, 22);
        assert_int_equal(d.responder_der.len, 9);
        signer_req_clear(&d);

        qbuf_reset(&b);
        struct signer_req c = {.type = SMSG_CREATE_RESPONDER, .not_before = 5, .not_after = 6};
        c.issuer_der = sbytes_str("issuer");
        assert_true(signer_encode_req(&c, &b));
        assert_int_equal(signer_decode_req(b.data + 4, b.len - 4, &d, &ei), QERR_OK);
        assert_int_equal(d.not_after, 6);
        signer_req_clear(&d);

        /* an answer with one OCSPResponse per entry */
        qbuf_reset(&b);
        struct signer_resp a = {.type = SMSG_OK, .nocsp = 3};
        a.ocsp[0] = sbytes_str("one");
        a.ocsp[1] = sbytes_str("two");
        a.ocsp[2] = sbytes_str("three");
        assert_true(signer_encode_resp(&a, &b));
        struct signer_resp da;
        assert_int_equal(signer_decode_resp(b.data + 4, b.len - 4, &da, &ei), QERR_OK);
        assert_int_equal(da.nocsp, 3);
        assert_int_equal(da.ocsp[2].len, 5);
        assert_memory_equal(da.ocsp[2].p, "three", 5);
        qbuf_free(&b);
}

static void put_field(struct qbuf *b, uint8_t tag, const void *v, uint32_t len)
{
        uint8_t h[5] = {tag, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                        (uint8_t)len};
        assert_true(qbuf_append(b, h, 5));
        assert_true(qbuf_append(b, v, len));
}

static void put_i64(struct qbuf *b, uint8_t tag, int64_t v)
{
        uint8_t x[8];
        for (int i = 7; i >= 0; i--, v >>= 8)
                x[i] = (uint8_t)v;
        put_field(b, tag, x, 8);
}

enum { T_ISSUER = 3, T_THIS = 14, T_NEXT = 15, T_RESPONDER = 31, T_ENTRY = 32, T_ODER = 33 };

/* SIGN_OCSP with the required fields and `entries` entries made by `mk`. */
static void sign_frame(struct qbuf *b, int row)
{
        uint8_t t = SMSG_SIGN_OCSP;
        qbuf_append(b, &t, 1);
        put_field(b, T_ISSUER, "i", 1);
        if (row != 0)
                put_field(b, T_RESPONDER, "r", 1);
        put_i64(b, T_THIS, 1);
        put_i64(b, T_NEXT, 2);
        uint8_t ok[1 + 3 + 1 + 16] = {3, 0x41, 2, 3, 0};
        switch (row) {
        case 0: /* no responder */
        case 1: /* fine */
                put_field(b, T_ENTRY, ok, sizeof ok);
                break;
        case 2: /* status 2 */
                ok[4] = 2;
                put_field(b, T_ENTRY, ok, sizeof ok);
                break;
        case 3: /* the length byte disagrees with the field */
                put_field(b, T_ENTRY, ok, sizeof ok - 1);
                break;
        case 4: /* a 21-byte serial */
        {
                uint8_t big[1 + 21 + 1 + 16] = {21};
                put_field(b, T_ENTRY, big, sizeof big);
                break;
        }
        case 5: /* too many entries */
                for (int i = 0; i <= SIGNER_MAX_OCSP_ENTRIES; i++)
                        put_field(b, T_ENTRY, ok, sizeof ok);
                break;
        case 6: /* no entry at all */
                break;
        default:
                break;
        }
}

static void test_decoder_refuses(void **state)
{
        (void)state;
        for (int row = 0; row <= 6; row++) {
                struct qbuf b;
                qbuf_init(&b, MAX_SIGNER_MSG_BYTES);
                sign_frame(&b, row);
                struct signer_req d;
                struct qerr_info ei;
                enum qerr rc = signer_decode_req(b.data, b.len, &d, &ei);
                enum qerr want = row == 1 ? QERR_OK : QERR_PROTO;
                if (rc != want)
                        fail_msg("row %d: got %s", row, qerr_code(rc));
                signer_req_clear(&d);
                qbuf_free(&b);
        }
        /* an answer with an empty OCSP response, or too many */
        struct qbuf b;
        qbuf_init(&b, MAX_SIGNER_MSG_BYTES);
        uint8_t t = SMSG_OK;
        qbuf_append(&b, &t, 1);
        put_field(&b, T_ODER, "", 0);
        struct signer_resp r;
        struct qerr_info ei;
        assert_int_equal(signer_decode_resp(b.data, b.len, &r, &ei), QERR_PROTO);
        qbuf_reset(&b);
        qbuf_append(&b, &t, 1);
        for (int i = 0; i <= SIGNER_MAX_OCSP_ENTRIES; i++)
                put_field(&b, T_ODER, "x", 1);
        assert_int_equal(signer_decode_resp(b.data, b.len, &r, &ei), QERR_PROTO);
        qbuf_free(&b);
}

/* ---- the handler ---- */

/* One request through the handler: the code, the first DER (der may be
 * NULL), the OCSP responses (resp_out may be NULL; points into `keep`). */
static enum qerr call(const struct signer_req *r, struct qbuf *der, struct qbuf *keep,
                      struct signer_resp *resp_out, char *msg, size_t msgsz)
{
        struct qbuf req, out;
        qbuf_init(&req, MAX_SIGNER_MSG_BYTES + 8);
        qbuf_init(&out, MAX_SIGNER_MSG_BYTES + 8);
        assert_true(signer_encode_req(r, &req));
        signer_handle(F.st, req.data + 4, req.len - 4, &out);
        struct signer_resp resp;
        struct qerr_info ei;
        assert_int_equal(signer_decode_resp(out.data + 4, out.len - 4, &resp, &ei), QERR_OK);
        enum qerr rc = QERR_OK;
        if (resp.type == SMSG_ERROR) {
                rc = (enum qerr)resp.code;
                if (msg)
                        sbytes_cstr(resp.message, msg, msgsz);
        } else {
                if (der) {
                        qbuf_reset(der);
                        qbuf_append(der, resp.der.p, resp.der.len);
                }
                if (keep && resp_out) {
                        qbuf_reset(keep);
                        qbuf_append(keep, out.data + 4, out.len - 4);
                        assert_int_equal(signer_decode_resp(keep->data, keep->len, resp_out, &ei),
                                         QERR_OK);
                }
        }
        qbuf_free(&req);
        qbuf_free(&out);
        return rc;
}

static enum qerr create_responder(const struct qbuf *issuer, qtime_t nb, qtime_t na,
                                  struct qbuf *out, char *msg, size_t msgsz)
{
        struct signer_req r = {.type = SMSG_CREATE_RESPONDER, .not_before = nb, .not_after = na};
        r.issuer_der.p = issuer->data;
        r.issuer_der.len = issuer->len;
        return call(&r, out, NULL, NULL, msg, msgsz);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(p);
}

static int group_setup(void **state)
{
        (void)state;
        snprintf(F.dir, sizeof F.dir, "/tmp/quill-signer-ocsp-XXXXXX");
        assert_non_null(mkdtemp(F.dir));
        struct signer_config c = {.data_dir = F.dir, .private_max_days = 365, .passphrase = PASS};
        F.st = signer_state_new(&c);
        assert_non_null(F.st);
        qbuf_init(&F.root, 65536);
        qbuf_init(&F.issuing, 65536);
        qbuf_init(&F.responder, 65536);
        struct signer_req r = {.type = SMSG_CREATE_ROOT};
        r.key_alg = sbytes_str("ec384");
        r.subject = sbytes_str("CN=Unit Root");
        assert_int_equal(call(&r, &F.root, NULL, NULL, NULL, 0), QERR_OK);
        struct signer_req i = {.type = SMSG_CREATE_ISSUING};
        i.key_alg = sbytes_str("ec256");
        i.subject = sbytes_str("CN=Unit Issuing,O=Unit");
        i.issuer_der.p = F.root.data;
        i.issuer_der.len = F.root.len;
        i.crl_url = sbytes_str("http://127.0.0.1:1/crl/1.crl");
        i.ca_issuers_url = sbytes_str("http://127.0.0.1:1/ca/1.der");
        assert_int_equal(call(&i, &F.issuing, NULL, NULL, NULL, 0), QERR_OK);
        qtime_t now = qtime_now();
        assert_int_equal(
            create_responder(&F.issuing, now - 3600, now + 7 * QTIME_DAY, &F.responder, NULL, 0),
            QERR_OK);
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        signer_state_free(F.st);
        qbuf_free(&F.root);
        qbuf_free(&F.issuing);
        qbuf_free(&F.responder);
        nftw(F.dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
}

static X509 *parse(const struct qbuf *b)
{
        const unsigned char *p = b->data;
        X509 *x = d2i_X509(NULL, &p, (long)b->len);
        assert_non_null(x);
        return x;
}

static void test_responder_profile(void **state)
{
        (void)state;
        X509 *x = parse(&F.responder), *iss = parse(&F.issuing);
        assert_int_equal(X509_check_issued(iss, x), X509_V_OK);
        assert_int_equal(X509_verify(x, X509_get0_pubkey(iss)), 1);
        assert_true(X509_get_extended_key_usage(x) & XKU_OCSP_SIGN);
        assert_int_equal(X509_get_extended_key_usage(x) & ~XKU_OCSP_SIGN & 0xff, 0);
        assert_true(X509_get_ext_by_NID(x, NID_id_pkix_OCSP_noCheck, -1) >= 0);
        assert_false(X509_get_extension_flags(x) & EXFLAG_CA);
        assert_true(X509_get_key_usage(x) == KU_DIGITAL_SIGNATURE);
        assert_true(X509_get_ext_by_NID(x, NID_crl_distribution_points, -1) < 0);
        assert_true(X509_get_ext_by_NID(x, NID_info_access, -1) < 0);
        qtime_t nb = pki_time_to_unix(X509_get0_notBefore(x));
        qtime_t na = pki_time_to_unix(X509_get0_notAfter(x));
        assert_true(na - nb <= 7 * QTIME_DAY + 3600);
        char subject[256];
        X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof subject);
        assert_non_null(strstr(subject, "CN=Unit Issuing OCSP Responder"));
        assert_non_null(strstr(subject, "O=Unit"));
        /* the linter knows the role by itself and finds nothing */
        struct lint_report r;
        lint_report_init(&r);
        struct lint_cert_opts o = {
            .guess_profile = true, .issuer_der = F.issuing.data, .issuer_len = F.issuing.len};
        struct qerr_info ei;
        assert_int_equal(lint_cert_der(F.responder.data, F.responder.len, &o, &r, NULL, &ei),
                         QERR_OK);
        for (size_t i = 0; i < r.n; i++)
                print_message("finding %s: %s\n", r.items[i].id, r.items[i].message);
        assert_int_equal(r.n, 0);
        lint_report_free(&r);
        X509_free(x);
        X509_free(iss);
}

/* Signs a batch: a good and a revoked answer, verified by OpenSSL from the
 * root, statuses and times as asked. */
static void test_sign_batch_verifies(void **state)
{
        (void)state;
        qtime_t now = qtime_now();
        uint8_t s1[] = {0x41, 1, 2, 3, 4, 5, 6, 7, 8}, s2[] = {0x42, 1, 2, 3, 4, 5, 6, 7, 8};
        struct ocsp_entry_wire e[2] = {{.serial = {s1, sizeof s1}, .status = OCSP_WIRE_GOOD},
                                       {.serial = {s2, sizeof s2},
                                        .status = OCSP_WIRE_REVOKED,
                                        .revoked_at = now - 10,
                                        .reason = 1}};
        struct signer_req r = {.type = SMSG_SIGN_OCSP,
                               .ocsp = e,
                               .nocsp = 2,
                               .this_update = now,
                               .next_update = now + 4 * QTIME_DAY};
        r.issuer_der.p = F.issuing.data;
        r.issuer_der.len = F.issuing.len;
        r.responder_der.p = F.responder.data;
        r.responder_der.len = F.responder.len;
        struct qbuf keep;
        qbuf_init(&keep, MAX_SIGNER_MSG_BYTES + 8);
        struct signer_resp resp;
        char msg[300] = "";
        assert_int_equal(call(&r, NULL, &keep, &resp, msg, sizeof msg), QERR_OK);
        assert_int_equal(resp.nocsp, 2);
        X509 *root = parse(&F.root), *iss = parse(&F.issuing);
        X509_STORE *store = X509_STORE_new();
        X509_STORE_add_cert(store, root);
        STACK_OF(X509) *chain = sk_X509_new_null();
        sk_X509_push(chain, iss);
        for (size_t i = 0; i < 2; i++) {
                const unsigned char *p = resp.ocsp[i].p;
                OCSP_RESPONSE *o = d2i_OCSP_RESPONSE(NULL, &p, (long)resp.ocsp[i].len);
                assert_non_null(o);
                assert_int_equal(OCSP_response_status(o), OCSP_RESPONSE_STATUS_SUCCESSFUL);
                OCSP_BASICRESP *bs = OCSP_response_get1_basic(o);
                assert_non_null(bs);
                assert_int_equal(OCSP_basic_verify(bs, chain, store, 0), 1);
                ASN1_INTEGER *sn = ASN1_INTEGER_new();
                BIGNUM *bn = BN_bin2bn(i ? s2 : s1, 9, NULL);
                BN_to_ASN1_INTEGER(bn, sn);
                OCSP_CERTID *id = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(iss),
                                                   X509_get0_pubkey_bitstr(iss), sn);
                int status = -1, reason = -1;
                ASN1_GENERALIZEDTIME *rev = NULL, *tu = NULL, *nu = NULL;
                assert_int_equal(OCSP_resp_find_status(bs, id, &status, &reason, &rev, &tu, &nu),
                                 1);
                assert_int_equal(status, i ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD);
                if (i)
                        assert_int_equal(reason, 1);
                assert_int_equal(OCSP_check_validity(tu, nu, 300, -1), 1);
                assert_int_equal(pki_time_to_unix(nu) - pki_time_to_unix(tu), 4 * QTIME_DAY);
                OCSP_CERTID_free(id);
                BN_free(bn);
                ASN1_INTEGER_free(sn);
                OCSP_BASICRESP_free(bs);
                OCSP_RESPONSE_free(o);
        }
        sk_X509_free(chain);
        X509_STORE_free(store);
        X509_free(root);
        X509_free(iss);
        qbuf_free(&keep);
}

/* What the signer refuses, whatever the main process asks. */
static void test_refusals(void **state)
{
        (void)state;
        qtime_t now = qtime_now();
        char msg[300];
        struct qbuf out;
        qbuf_init(&out, 65536);
        /* responders: never for a root, never long-lived, never a month ahead */
        assert_int_equal(create_responder(&F.root, now, now + QTIME_DAY, &out, msg, sizeof msg),
                         QERR_SIGNER_REFUSED);
        assert_int_equal(
            create_responder(&F.issuing, now, now + 31 * QTIME_DAY, &out, msg, sizeof msg),
            QERR_SIGNER_REFUSED);
        assert_int_equal(create_responder(&F.issuing, now, now + 3600, &out, msg, sizeof msg),
                         QERR_SIGNER_REFUSED);
        assert_int_equal(create_responder(&F.issuing, now + 5 * QTIME_DAY, now + 6 * QTIME_DAY,
                                          &out, msg, sizeof msg),
                         QERR_SIGNER_REFUSED);

        uint8_t s[] = {0x41, 1, 2, 3, 4, 5, 6, 7, 8}, neg[] = {0x81, 1}, lead0[] = {0, 0x41};
        static const struct {
                int64_t this_off, span, status, revoked_off, reason;
                int serial;    /* 0 s, 1 neg, 2 lead0 */
                int responder; /* 0 ours, 1 the issuing CA's cert, 2 garbage */
        } rows[] = {
            {0, 3600, 0, 0, 0, 0, 0},                       /* validity under 8 hours */
            {0, 11 * QTIME_DAY, 0, 0, 0, 0, 0},             /* over 10 days */
            {0, 8 * QTIME_DAY, 0, 0, 0, 0, 0},              /* past the responder's end */
            {-2 * QTIME_DAY, 4 * QTIME_DAY, 0, 0, 0, 0, 0}, /* thisUpdate far back */
            {0, 4 * QTIME_DAY, 1, -10, 6, 0, 0},            /* certificateHold */
            {0, 4 * QTIME_DAY, 1, -10, 8, 0, 0},            /* removeFromCRL */
            {0, 4 * QTIME_DAY, 1, 86400, 1, 0, 0},          /* revoked in the future */
            {0, 4 * QTIME_DAY, 0, -10, 0, 0, 0},            /* good with a revocation time */
            {0, 4 * QTIME_DAY, 0, 0, 0, 1, 0},              /* negative serial */
            {0, 4 * QTIME_DAY, 0, 0, 0, 2, 0},              /* leading zero byte */
            {0, 4 * QTIME_DAY, 0, 0, 0, 0, 1},              /* a CA as responder */
            {0, 4 * QTIME_DAY, 0, 0, 0, 0, 2},              /* not a certificate */
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                struct ocsp_entry_wire e = {.status = rows[i].status,
                                            .revoked_at =
                                                rows[i].revoked_off ? now + rows[i].revoked_off : 0,
                                            .reason = rows[i].reason};
                e.serial.p = rows[i].serial == 0 ? s : rows[i].serial == 1 ? neg : lead0;
                e.serial.len = rows[i].serial == 0 ? sizeof s : 2;
                struct signer_req r = {.type = SMSG_SIGN_OCSP, .ocsp = &e, .nocsp = 1};
                r.this_update = now + rows[i].this_off;
                r.next_update = r.this_update + rows[i].span;
                r.issuer_der.p = F.issuing.data;
                r.issuer_der.len = F.issuing.len;
                const struct qbuf *resp = rows[i].responder == 1 ? &F.issuing : &F.responder;
                r.responder_der.p = resp->data;
                r.responder_der.len = rows[i].responder == 2 ? 10 : resp->len;
                enum qerr rc = call(&r, NULL, NULL, NULL, msg, sizeof msg);
                if (rc != QERR_SIGNER_REFUSED)
                        fail_msg("row %zu: got %s (%s)", i, qerr_code(rc), msg);
        }
        qbuf_free(&out);
}

/* A signer that did not make the responder holds no key for it (a restart),
 * and a subscriber key is never a responder key. */
static void test_unknown_responder_and_key_reuse(void **state)
{
        (void)state;
        struct signer_config c = {.data_dir = F.dir, .private_max_days = 365, .passphrase = PASS};
        struct signer_state *fresh = signer_state_new(&c);
        assert_non_null(fresh);
        struct signer_state *mine = F.st;
        F.st = fresh;
        qtime_t now = qtime_now();
        uint8_t s[] = {0x41, 1, 2, 3, 4, 5, 6, 7, 8};
        struct ocsp_entry_wire e = {.serial = {s, sizeof s}};
        struct signer_req r = {.type = SMSG_SIGN_OCSP,
                               .ocsp = &e,
                               .nocsp = 1,
                               .this_update = now,
                               .next_update = now + QTIME_DAY};
        r.issuer_der.p = F.issuing.data;
        r.issuer_der.len = F.issuing.len;
        r.responder_der.p = F.responder.data;
        r.responder_der.len = F.responder.len;
        char msg[300] = "";
        assert_int_equal(call(&r, NULL, NULL, NULL, msg, sizeof msg), QERR_SIGNER_REFUSED);
        assert_non_null(strstr(msg, "holds no key"));
        F.st = mine;
        signer_state_free(fresh);

        /* the responder's public key offered as a subscriber key */
        X509 *x = parse(&F.responder);
        struct qbuf spki;
        qbuf_init(&spki, 4096);
        struct qerr_info ei;
        assert_int_equal(pki_key_spki_der(X509_get0_pubkey(x), &spki, &ei), QERR_OK);
        struct signer_req sc = {.type = SMSG_SIGN_CERT,
                                .not_before = now,
                                .not_after = now + 30 * QTIME_DAY,
                                .nnames = 1};
        uint8_t serial[16] = {0x41, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
        sc.issuer_der.p = F.issuing.data;
        sc.issuer_der.len = F.issuing.len;
        sc.spki_der.p = spki.data;
        sc.spki_der.len = spki.len;
        sc.names[0] = sbytes_str("www.example.com");
        sc.serial.p = serial;
        sc.serial.len = sizeof serial;
        sc.profile = sbytes_str("private");
        assert_int_equal(call(&sc, NULL, NULL, NULL, msg, sizeof msg), QERR_SIGNER_REFUSED);
        assert_non_null(strstr(msg, "key of a CA"));
        qbuf_free(&spki);
        X509_free(x);
}

/* ---- the responder lint checks, one defect each ---- */

enum defect { D_NONE, D_NO_NOCHECK, D_EKU_SERVER, D_KU_SIGN, D_CA, D_CRLDP, D_LONG, D_COUNT };

static X509 *responder_with(enum defect d, EVP_PKEY *ikey, X509 *iss, EVP_PKEY *key)
{
        X509 *x = X509_new();
        qtime_t now = qtime_now();
        X509_set_version(x, X509_VERSION_3);
        ASN1_INTEGER_set_int64(X509_get_serialNumber(x), 0x4142434445464748LL);
        X509_set_issuer_name(x, X509_get_subject_name(iss));
        X509_NAME *n = X509_NAME_new();
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"R", -1, -1, 0);
        X509_set_subject_name(x, n);
        X509_NAME_free(n);
        ASN1_TIME_set(X509_getm_notBefore(x), (time_t)now);
        ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(now + (d == D_LONG ? 60 : 7) * QTIME_DAY));
        X509_set_pubkey(x, key);
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, iss, x, NULL, NULL, 0);
        const struct {
                int nid;
                const char *v;
                enum defect skip_if, alt_if;
                const char *alt;
        } exts[] = {
            {NID_basic_constraints, "critical,CA:FALSE", D_COUNT, D_CA, "critical,CA:TRUE"},
            {NID_key_usage, "critical,digitalSignature", D_COUNT, D_KU_SIGN,
             "critical,digitalSignature,keyCertSign"},
            {NID_ext_key_usage, "OCSPSigning", D_COUNT, D_EKU_SERVER, "OCSPSigning,serverAuth"},
            {NID_subject_key_identifier, "hash", D_COUNT, D_COUNT, NULL},
            {NID_authority_key_identifier, "keyid:always", D_COUNT, D_COUNT, NULL},
            {NID_id_pkix_OCSP_noCheck, "yes", D_NO_NOCHECK, D_COUNT, NULL},
            {NID_crl_distribution_points, "URI:http://127.0.0.1/x.crl", D_NONE, D_COUNT, NULL},
        };
        for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
                if (d == exts[i].skip_if || (exts[i].skip_if == D_NONE && d != D_CRLDP))
                        continue;
                X509_EXTENSION *e = X509V3_EXT_conf_nid(
                    NULL, &ctx, exts[i].nid, d == exts[i].alt_if ? exts[i].alt : exts[i].v);
                assert_non_null(e);
                X509_add_ext(x, e, -1);
                X509_EXTENSION_free(e);
        }
        EVP_MD_CTX *mc = pki_sign_ctx(ikey);
        assert_true(X509_sign_ctx(x, mc) > 0);
        EVP_MD_CTX_free(mc);
        return x;
}

static void test_lint_responder_defects(void **state)
{
        (void)state;
        static const char *const want[D_COUNT] = {
            NULL,
            "e_ocsp_responder_nocheck",
            "e_ocsp_responder_eku",
            "e_ocsp_responder_key_usage",
            "e_ocsp_responder_ca",
            "w_ocsp_responder_extensions",
            "w_ocsp_responder_validity",
        };
        X509 *iss = parse(&F.issuing);
        EVP_PKEY *ikey = NULL, *key = NULL;
        struct qerr_info ei;
        assert_int_equal(signer_issuer_key(F.st, iss, &ikey, &ei), QERR_OK);
        assert_int_equal(pki_key_generate(KEYALG_EC256, &key, &ei), QERR_OK);
        for (int d = D_NONE; d < D_COUNT; d++) {
                X509 *x = responder_with((enum defect)d, ikey, iss, key);
                unsigned char *der = NULL;
                int n = i2d_X509(x, &der);
                assert_true(n > 0);
                for (int role = 0; role < 2; role++) {
                        if (d == D_CA && role == 0)
                                continue; /* cA TRUE: AUTO lints it as a CA */
                        struct lint_report r;
                        lint_report_init(&r);
                        struct lint_cert_opts o = {.profile = PROFILE_DV,
                                                   .role = role ? LINT_ROLE_OCSP_RESPONDER
                                                                : LINT_ROLE_AUTO,
                                                   .issuer_der = F.issuing.data,
                                                   .issuer_len = F.issuing.len};
                        assert_int_equal(lint_cert_der(der, (size_t)n, &o, &r, NULL, &ei), QERR_OK);
                        bool found = false;
                        for (size_t i = 0; i < r.n; i++) {
                                if (want[d] && strcmp(r.items[i].id, want[d]) == 0)
                                        found = true;
                                else if (strncmp(r.items[i].id, "e_", 2) == 0 && d != D_CA)
                                        fail_msg("defect %d: unexpected %s: %s", d, r.items[i].id,
                                                 r.items[i].message);
                        }
                        if (want[d] && !found)
                                fail_msg("defect %d (role %d): %s not reported", d, role, want[d]);
                        if (!want[d] && r.n)
                                fail_msg("a clean responder has findings: %s", r.items[0].id);
                        lint_report_free(&r);
                }
                OPENSSL_free(der);
                X509_free(x);
        }
        EVP_PKEY_free(key);
        X509_free(iss);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_roundtrip),
            cmocka_unit_test(test_decoder_refuses),
            cmocka_unit_test(test_responder_profile),
            cmocka_unit_test(test_sign_batch_verifies),
            cmocka_unit_test(test_refusals),
            cmocka_unit_test(test_unknown_responder_and_key_reuse),
            cmocka_unit_test(test_lint_responder_defects),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
