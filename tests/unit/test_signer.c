/*
 * test_signer.c - the signer's wire protocol (round trips and a table of
 * malformed frames) and its request handler's profile checks, run in-process
 * against a temporary data directory (no fork needed: signer_handle is the
 * child's loop body).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/config.h"
#include "base/fsutil.h"
#include "base/qtime.h"
#include "pki/pki_key.h"
#include "signer/signer.h"
#include "signer/signer_internal.h"
#include "signer/signer_secret.h"
#include "signer_fixture.h"

/* ---- protocol ---- */

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

static void test_roundtrip_sign_cert(void **state)
{
        (void)state;
        uint8_t serial[16] = {0x41, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
        struct signer_req r = {.type = SMSG_SIGN_CERT};
        r.issuer_der = sbytes_str("issuer-der");
        r.spki_der = sbytes_str("spki");
        r.names[0] = sbytes_str("a.example.com");
        r.names[1] = sbytes_str("b.example.com");
        r.nnames = 2;
        r.not_before = 1700000000;
        r.not_after = -5; /* negative values survive the wire */
        r.serial.p = serial;
        r.serial.len = sizeof serial;
        r.profile = sbytes_str("private");
        r.crl_url = sbytes_str("http://x/crl/2.crl");
        struct qbuf b;
        qbuf_init(&b, MAX_SIGNER_MSG_BYTES + 8);
        assert_true(signer_encode_req(&r, &b));
        struct signer_req d;
        struct qerr_info ei;
        assert_int_equal(signer_decode_req(b.data + 4, b.len - 4, &d, &ei), QERR_OK);
        assert_int_equal(d.type, SMSG_SIGN_CERT);
        assert_int_equal(d.nnames, 2);
        assert_memory_equal(d.names[1].p, "b.example.com", 13);
        assert_int_equal(d.not_before, 1700000000);
        assert_int_equal(d.not_after, -5);
        assert_int_equal(d.serial.len, 16);
        assert_memory_equal(d.serial.p, serial, 16);
        assert_int_equal(d.crl_url.len, strlen("http://x/crl/2.crl"));
        signer_req_clear(&d);
        qbuf_free(&b);
}

static void test_roundtrip_crl_and_resp(void **state)
{
        (void)state;
        struct signer_req r = {.type = SMSG_CRL_BEGIN,
                               .crl_number = 7,
                               .this_update = 1,
                               .next_update = 2,
                               .entry_count = 3,
                               .entries_len = 99};
        r.issuer_der = sbytes_str("der");
        r.crl_url = sbytes_str("http://x/crl/2/5.crl");
        struct qbuf b;
        qbuf_init(&b, 1 << 20);
        assert_true(signer_encode_req(&r, &b));
        struct signer_req d;
        struct qerr_info ei;
        assert_int_equal(signer_decode_req(b.data + 4, b.len - 4, &d, &ei), QERR_OK);
        assert_int_equal(d.type, SMSG_CRL_BEGIN);
        assert_int_equal(d.crl_number, 7);
        assert_int_equal(d.entry_count, 3);
        assert_int_equal(d.entries_len, 99);
        assert_int_equal(d.crl_url.len, strlen("http://x/crl/2/5.crl"));
        signer_req_clear(&d);

        qbuf_reset(&b);
        struct signer_req e = {.type = SMSG_CRL_ENTRIES};
        e.entries = sbytes_str("0123456789");
        assert_true(signer_encode_req(&e, &b));
        assert_int_equal(signer_decode_req(b.data + 4, b.len - 4, &d, &ei), QERR_OK);
        assert_int_equal(d.entries.len, 10);
        assert_memory_equal(d.entries.p, "0123456789", 10);

        qbuf_reset(&b);
        struct signer_resp ok = {.type = SMSG_OK};
        ok.crl_head = sbytes_str("head");
        ok.crl_tail = sbytes_str("tail");
        ok.sig_alg = sbytes_str("alg");
        ok.signature = sbytes_str("sig");
        assert_true(signer_encode_resp(&ok, &b));
        struct signer_resp dr;
        assert_int_equal(signer_decode_resp(b.data + 4, b.len - 4, &dr, &ei), QERR_OK);
        assert_int_equal(dr.type, SMSG_OK);
        assert_int_equal(dr.crl_head.len, 4);
        assert_int_equal(dr.crl_tail.len, 4);
        assert_int_equal(dr.sig_alg.len, 3);
        assert_memory_equal(dr.signature.p, "sig", 3);

        qbuf_reset(&b);
        struct signer_resp er = {.type = SMSG_ERROR, .code = QERR_KEY_WEAK};
        er.message = sbytes_str("too weak");
        assert_true(signer_encode_resp(&er, &b));
        assert_int_equal(signer_decode_resp(b.data + 4, b.len - 4, &dr, &ei), QERR_OK);
        assert_int_equal(dr.type, SMSG_ERROR);
        assert_int_equal(dr.code, QERR_KEY_WEAK);
        qbuf_free(&b);
}

/* Each row builds a frame body (type byte + fields) that must be refused. */
static void bad_frames(struct qbuf *b, int row)
{
        uint8_t t;
        switch (row) {
        case 0: /* empty */
                break;
        case 1: /* unknown type */
                t = 99;
                qbuf_append(b, &t, 1);
                break;
        case 2: /* root request without its subject (required) */
                t = SMSG_CREATE_ROOT;
                qbuf_append(b, &t, 1);
                put_field(b, 1, "ec256", 5);
                break;
        case 3: /* repeated single field */
                t = SMSG_CREATE_ROOT;
                qbuf_append(b, &t, 1);
                put_field(b, 1, "ec256", 5);
                put_field(b, 1, "ec384", 5);
                put_field(b, 2, "CN=x", 4);
                break;
        case 4: /* a field the type does not allow (serial on a root request) */
                t = SMSG_CREATE_ROOT;
                qbuf_append(b, &t, 1);
                put_field(b, 1, "ec256", 5);
                put_field(b, 2, "CN=x", 4);
                put_field(b, 8, "\x41\x01", 2);
                break;
        case 5: /* declared length past the end */
                t = SMSG_CREATE_ROOT;
                qbuf_append(b, &t, 1);
                qbuf_append(b,
                            "\x01\x00\x00\x10\x00"
                            "ec",
                            7);
                break;
        case 6: /* over-long field (key_alg max 16) */
                t = SMSG_CREATE_ROOT;
                qbuf_append(b, &t, 1);
                put_field(b, 1, "ec256ec256ec256ec256", 20);
                put_field(b, 2, "CN=x", 4);
                break;
        case 7: /* integer field of the wrong width */
                t = SMSG_CRL_BEGIN;
                qbuf_append(b, &t, 1);
                put_field(b, 3, "der", 3);
                put_field(b, 13, "\x01", 1);
                put_i64(b, 14, 1);
                put_i64(b, 15, 2);
                put_i64(b, 41, 0);
                put_i64(b, 42, 0);
                break;
        case 8: /* CRL begin without its entry count (required) */
                t = SMSG_CRL_BEGIN;
                qbuf_append(b, &t, 1);
                put_field(b, 3, "der", 3);
                put_i64(b, 13, 1);
                put_i64(b, 14, 1);
                put_i64(b, 15, 2);
                put_i64(b, 42, 0);
                break;
        case 9: /* truncated field header */
                t = SMSG_PING;
                qbuf_append(b, &t, 1);
                qbuf_append(b, "\x01\x00", 2);
                break;
        case 10: /* empty name */
                t = SMSG_SIGN_CERT;
                qbuf_append(b, &t, 1);
                put_field(b, 5, "", 0);
                break;
        case 11: /* the old one-frame CRL request is gone */
                t = 5;
                qbuf_append(b, &t, 1);
                put_field(b, 3, "der", 3);
                break;
        case 12: /* negative entry count */
                t = SMSG_CRL_BEGIN;
                qbuf_append(b, &t, 1);
                put_field(b, 3, "der", 3);
                put_i64(b, 13, 1);
                put_i64(b, 14, 1);
                put_i64(b, 15, 2);
                put_i64(b, 41, -1);
                put_i64(b, 42, 0);
                break;
        case 13: /* CRL entries frame without entries */
                t = SMSG_CRL_ENTRIES;
                qbuf_append(b, &t, 1);
                put_field(b, 40, "", 0);
                break;
        case 14: /* CRL finish carries nothing */
                t = SMSG_CRL_FINISH;
                qbuf_append(b, &t, 1);
                put_i64(b, 13, 1);
                break;
        case 15: /* entries on a begin frame */
                t = SMSG_CRL_BEGIN;
                qbuf_append(b, &t, 1);
                put_field(b, 3, "der", 3);
                put_i64(b, 13, 1);
                put_i64(b, 14, 1);
                put_i64(b, 15, 2);
                put_i64(b, 41, 0);
                put_i64(b, 42, 0);
                put_field(b, 40, "x", 1);
                break;
        case 16: /* the retired one-frame CRL entry tag, on an entries frame */
                t = SMSG_CRL_ENTRIES;
                qbuf_append(b, &t, 1);
                put_field(b, 16, "\x01\x41", 2);
                break;
        case 17: /* a tag between the INIT tags and the CRL session's (28-39 are free) */
                t = SMSG_CRL_FINISH;
                qbuf_append(b, &t, 1);
                put_field(b, 30, "x", 1);
                break;
        case 18: /* a tag past the last one */
                t = SMSG_PING;
                qbuf_append(b, &t, 1);
                put_field(b, 63, "x", 1);
                break;
        }
}

static void test_decoder_refuses(void **state)
{
        (void)state;
        for (int row = 0; row <= 18; row++) {
                struct qbuf b;
                qbuf_init(&b, 4096);
                bad_frames(&b, row);
                struct signer_req d;
                struct qerr_info ei;
                enum qerr rc =
                    signer_decode_req(b.data ? b.data : (const uint8_t *)"", b.len, &d, &ei);
                if (rc != QERR_PROTO)
                        fail_msg("row %d: expected signer_protocol, got %s", row, qerr_code(rc));
                assert_true(strlen(qerr_message(&ei)) > 0);
                qbuf_free(&b);
        }
}

static void test_resp_refuses_unknown_code(void **state)
{
        (void)state;
        struct qbuf b;
        qbuf_init(&b, 256);
        uint8_t t = SMSG_ERROR;
        qbuf_append(&b, &t, 1);
        put_i64(&b, 19, 100000);
        struct signer_resp r;
        struct qerr_info ei;
        assert_int_equal(signer_decode_resp(b.data, b.len, &r, &ei), QERR_PROTO);
        qbuf_free(&b);
}

/* ---- handler ---- */

struct ee_case {
        const char *label;
        const char *key;   /* key to certify: "ec256", "sm2", "rsa1024" */
        const char *name;  /* first name */
        int64_t nb_offset; /* not_before - now */
        int64_t days;      /* validity */
        int serial_len;
        uint8_t serial0;
        int use_root; /* sign with the root: always refused */
        enum qerr want;
};

static const struct ee_case ee_cases[] = {
    {"valid", "ec256", "www.example.com", 0, 90, 16, 0x41, 0, QERR_OK},
    {"valid at the private maximum", "ec256", "a.example.com", 0, 365, 16, 0x41, 0, QERR_OK},
    {"validity past the profile", "ec256", "a.example.com", 0, 366, 16, 0x41, 0,
     QERR_POLICY_DENIED},
    {"name not normalised", "ec256", "WWW.Example.com", 0, 90, 16, 0x41, 0, QERR_SIGNER_REFUSED},
    {"invalid name", "ec256", "bad_name.example.com", 0, 90, 16, 0x41, 0, QERR_NAME_INVALID},
    {"serial below 64 bits", "ec256", "a.example.com", 0, 90, 8, 0x41, 0, QERR_SIGNER_REFUSED},
    {"negative serial", "ec256", "a.example.com", 0, 90, 16, 0x81, 0, QERR_SIGNER_REFUSED},
    {"leading zero byte", "ec256", "a.example.com", 0, 90, 16, 0x00, 0, QERR_SIGNER_REFUSED},
    {"backdated two days", "ec256", "a.example.com", -2 * 86400, 90, 16, 0x41, 0,
     QERR_SIGNER_REFUSED},
    {"root as issuer", "ec256", "a.example.com", 0, 90, 16, 0x41, 1, QERR_SIGNER_REFUSED},
    {"SM2 key under an ECDSA CA", "sm2", "a.example.com", 0, 90, 16, 0x41, 0, QERR_SIGNER_REFUSED},
    {"weak RSA key", "rsa1024", "a.example.com", 0, 90, 16, 0x41, 0, QERR_KEY_WEAK},
};

static EVP_PKEY *make_key(const char *k)
{
        if (strcmp(k, "rsa1024") == 0)
                return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
        enum key_alg a;
        EVP_PKEY *p = NULL;
        struct qerr_info ei;
        assert_true(key_alg_from_name(k, &a));
        assert_int_equal(pki_key_generate(a, &p, &ei), QERR_OK);
        return p;
}

static void test_sign_cert_table(void **state)
{
        struct fixture *f = *state;
        for (size_t c = 0; c < sizeof ee_cases / sizeof ee_cases[0]; c++) {
                const struct ee_case *tc = &ee_cases[c];
                EVP_PKEY *k = make_key(tc->key);
                struct qbuf spki, der;
                qbuf_init(&spki, 8192);
                qbuf_init(&der, 65536);
                struct qerr_info ei;
                assert_int_equal(pki_key_spki_der(k, &spki, &ei), QERR_OK);
                uint8_t serial[20];
                memset(serial, 0x5a, sizeof serial);
                serial[0] = tc->serial0;
                qtime_t now = qtime_now();
                struct signer_req r = {.type = SMSG_SIGN_CERT};
                const struct qbuf *iss = tc->use_root ? &f->root_der : &f->issuing_der;
                r.issuer_der.p = iss->data;
                r.issuer_der.len = iss->len;
                r.spki_der.p = spki.data;
                r.spki_der.len = spki.len;
                r.names[0] = sbytes_str(tc->name);
                r.nnames = 1;
                r.not_before = now + tc->nb_offset;
                r.not_after = r.not_before + tc->days * 86400 - 1;
                r.serial.p = serial;
                r.serial.len = (size_t)tc->serial_len;
                r.profile = sbytes_str("private");
                r.crl_url = sbytes_str("http://127.0.0.1:1/crl/2.crl");
                char msg[512] = "";
                enum qerr rc = call(f->st, &r, &der, msg, sizeof msg);
                if (rc != tc->want)
                        fail_msg("%s: expected %s, got %s (%s)", tc->label, qerr_code(tc->want),
                                 qerr_code(rc), msg);
                if (rc == QERR_OK) {
                        const unsigned char *p = der.data;
                        X509 *x = d2i_X509(NULL, &p, (long)der.len);
                        assert_non_null(x);
                        assert_int_equal(X509_check_ca(x), 0); /* never a CA */
                        assert_int_equal(X509_get_extension_flags(x) & EXFLAG_CA, 0);
                        X509_free(x);
                } else {
                        assert_true(strlen(msg) > 0);
                }
                qbuf_free(&spki);
                qbuf_free(&der);
                EVP_PKEY_free(k);
        }
}

/* OV/EV subjects: the organisation is required there and refused elsewhere. */
static void test_org_subject_rules(void **state)
{
        struct fixture *f = *state;
        static const struct {
                const char *profile, *org;
                enum qerr want;
        } cases[] = {
            {"ov", "O=Acme Ltd\nC=DE\nL=Berlin", QERR_OK},
            {"ev", "O=Acme Ltd\nC=DE\nST=Berlin", QERR_OK},
            {"ov", "", QERR_SIGNER_REFUSED},                           /* OV without O */
            {"ov", "O=Acme\nC=DEU\nL=Berlin", QERR_SIGNER_REFUSED},    /* C not 2 letters */
            {"ov", "O=Acme\nC=DE", QERR_SIGNER_REFUSED},               /* neither ST nor L */
            {"ov", "O=Acme\nOU=IT\nC=DE\nL=B", QERR_SIGNER_REFUSED},   /* OU forbidden */
            {"ov", "O=Acme\nO=Other\nC=DE\nL=B", QERR_SIGNER_REFUSED}, /* repeated */
            {"private", "O=Acme\nC=DE\nL=Berlin", QERR_SIGNER_REFUSED},
        };
        EVP_PKEY *k = make_key("ec256");
        struct qbuf spki, der;
        qbuf_init(&spki, 8192);
        qbuf_init(&der, 65536);
        struct qerr_info ei;
        assert_int_equal(pki_key_spki_der(k, &spki, &ei), QERR_OK);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                uint8_t serial[16] = {0x41, (uint8_t)i, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
                struct signer_req r = {.type = SMSG_SIGN_CERT};
                r.issuer_der.p = f->issuing_der.data;
                r.issuer_der.len = f->issuing_der.len;
                r.spki_der.p = spki.data;
                r.spki_der.len = spki.len;
                r.names[0] = sbytes_str("org.example.com");
                r.nnames = 1;
                r.not_before = qtime_now();
                r.not_after = r.not_before + 90 * 86400;
                r.serial.p = serial;
                r.serial.len = sizeof serial;
                r.profile = sbytes_str(cases[i].profile);
                r.org = sbytes_str(cases[i].org);
                char msg[512] = "";
                enum qerr rc = call(f->st, &r, &der, msg, sizeof msg);
                if (rc != cases[i].want)
                        fail_msg("case %zu (%s): expected %s, got %s (%s)", i, cases[i].profile,
                                 qerr_code(cases[i].want), qerr_code(rc), msg);
                if (rc == QERR_OK) {
                        const unsigned char *p = der.data;
                        X509 *x = d2i_X509(NULL, &p, (long)der.len);
                        assert_non_null(x);
                        X509_NAME *nm = X509_get_subject_name(x);
                        assert_true(X509_NAME_get_index_by_NID(nm, NID_organizationName, -1) >= 0);
                        assert_true(X509_NAME_get_index_by_NID(nm, NID_countryName, -1) >= 0);
                        assert_int_equal(
                            X509_NAME_get_index_by_NID(nm, NID_organizationalUnitName, -1), -1);
                        X509_free(x);
                }
        }
        qbuf_free(&spki);
        qbuf_free(&der);
        EVP_PKEY_free(k);
}

static void test_key_files_encrypted(void **state)
{
        struct fixture *f = *state;
        char cmd[256];
        snprintf(cmd, sizeof cmd, "grep -L 'ENCRYPTED PRIVATE KEY' %s/ca/*.key | wc -l", f->dir);
        FILE *p = popen(cmd, "r");
        int unencrypted = -1;
        assert_int_equal(fscanf(p, "%d", &unencrypted), 1);
        pclose(p);
        assert_int_equal(unencrypted, 0);
        snprintf(cmd, sizeof cmd, "stat -c %%a %s/ca/*.key | sort -u", f->dir);
        p = popen(cmd, "r");
        char mode[16] = "";
        assert_non_null(fgets(mode, sizeof mode, p));
        pclose(p);
        assert_string_equal(mode, "600\n");
}

static void test_lint_gate(void **state)
{
        struct fixture *f = *state;
        EVP_PKEY *k = make_key("ec256");
        struct qbuf spki;
        qbuf_init(&spki, 8192);
        struct qerr_info ei;
        assert_int_equal(pki_key_spki_der(k, &spki, &ei), QERR_OK);
        uint8_t serial[16] = {0x41, 9, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
        struct signer_req r = {.type = SMSG_SIGN_CERT};
        r.issuer_der.p = f->issuing_der.data;
        r.issuer_der.len = f->issuing_der.len;
        r.spki_der.p = spki.data;
        r.spki_der.len = spki.len;
        r.names[0] = sbytes_str("www.example.test");
        r.nnames = 1;
        r.not_before = qtime_now();
        r.not_after = r.not_before + 30 * 86400;
        r.serial.p = serial;
        r.serial.len = sizeof serial;
        r.profile = sbytes_str("dv");
        char msg[512] = "";
        assert_int_equal(call(f->st, &r, NULL, msg, sizeof msg), QERR_LINT_FAILED);
        assert_non_null(strstr(msg, "e_dnsname_internal"));
        r.profile = sbytes_str("private");
        assert_int_equal(call(f->st, &r, NULL, NULL, 0), QERR_OK);
        qbuf_free(&spki);
        EVP_PKEY_free(k);
}

static void test_garbage_frame_answers_error(void **state)
{
        struct fixture *f = *state;
        struct qbuf out;
        qbuf_init(&out, 4096);
        signer_handle(f->st, (const uint8_t *)"\x04\xff\xff", 3, &out);
        struct signer_resp resp;
        struct qerr_info ei;
        assert_int_equal(signer_decode_resp(out.data + 4, out.len - 4, &resp, &ei), QERR_OK);
        assert_int_equal(resp.type, SMSG_ERROR);
        assert_int_equal(resp.code, QERR_PROTO);
        qbuf_free(&out);
}

/* ---- issue 7: what the signer refuses whatever the main process asks ---- */

static enum qerr sign_spki(const struct fixture *f, const uint8_t *spki, size_t len, char *msg,
                           size_t msgsz)
{
        uint8_t serial[16] = {0x41, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
        struct signer_req r = {.type = SMSG_SIGN_CERT};
        r.issuer_der.p = f->issuing_der.data;
        r.issuer_der.len = f->issuing_der.len;
        r.spki_der.p = spki;
        r.spki_der.len = len;
        r.names[0] = sbytes_str("key.example.com");
        r.nnames = 1;
        r.not_before = qtime_now();
        r.not_after = r.not_before + 30 * 86400;
        r.serial.p = serial;
        r.serial.len = sizeof serial;
        r.profile = sbytes_str("private");
        return call(f->st, &r, NULL, msg, msgsz);
}

static void cert_spki(const struct qbuf *der, struct qbuf *spki, bool compressed)
{
        const unsigned char *p = der->data;
        X509 *x = d2i_X509(NULL, &p, (long)der->len);
        assert_non_null(x);
        EVP_PKEY *k = EVP_PKEY_dup(X509_get0_pubkey(x));
        assert_non_null(k);
        if (compressed)
                assert_int_equal(EVP_PKEY_set_utf8_string_param(k, "point-format", "compressed"),
                                 1);
        struct qerr_info ei;
        qbuf_reset(spki);
        assert_int_equal(pki_key_spki_der(k, spki, &ei), QERR_OK);
        EVP_PKEY_free(k);
        X509_free(x);
}

static void test_ca_key_as_subscriber_key_refused(void **state)
{
        struct fixture *f = *state;
        struct qbuf spki;
        qbuf_init(&spki, 8192);
        char msg[512];
        /* the issuing CA's own key */
        cert_spki(&f->issuing_der, &spki, false);
        assert_int_equal(sign_spki(f, spki.data, spki.len, msg, sizeof msg), QERR_SIGNER_REFUSED);
        assert_non_null(strstr(msg, "key of a CA"));
        /* the same key, its point compressed */
        cert_spki(&f->issuing_der, &spki, true);
        assert_int_equal(sign_spki(f, spki.data, spki.len, msg, sizeof msg), QERR_SIGNER_REFUSED);
        /* the root's key (another CA the signer knows, by its key file) */
        cert_spki(&f->root_der, &spki, false);
        assert_int_equal(sign_spki(f, spki.data, spki.len, msg, sizeof msg), QERR_SIGNER_REFUSED);
        /* a fresh key: signed */
        EVP_PKEY *k = make_key("ec256");
        struct qerr_info ei;
        qbuf_reset(&spki);
        assert_int_equal(pki_key_spki_der(k, &spki, &ei), QERR_OK);
        assert_int_equal(sign_spki(f, spki.data, spki.len, msg, sizeof msg), QERR_OK);
        EVP_PKEY_free(k);
        qbuf_free(&spki);
}

static long file_iterations(const char *path)
{
        struct qbuf b;
        qbuf_init(&b, 65536);
        struct qerr_info ei;
        assert_int_equal(fs_read_file(path, &b, &ei), QERR_OK);
        long iter = -1;
        assert_int_equal(pki_key_pem_kdf(b.data, b.len, &iter, &ei), QERR_OK);
        qbuf_free(&b);
        return iter;
}

static void test_key_files_use_600k_pbkdf2(void **state)
{
        struct fixture *f = *state;
        char id[65], path[512];
        issuing_key_id(f, id);
        snprintf(path, sizeof path, "%s/ca/%s.key", f->dir, id);
        assert_int_equal(file_iterations(path), PKI_PBKDF2_ITER);
        assert_true(PKI_PBKDF2_ITER >= 600000);
}

static void test_old_key_file_reencrypted_on_load(void **state)
{
        struct fixture *f = *state;
        char id[65], path[512];
        issuing_key_id(f, id);
        snprintf(path, sizeof path, "%s/ca/%s.key", f->dir, id);
        /* rewrite the issuing key as an old install did: 2048 iterations */
        struct qbuf b, pem;
        qbuf_init(&b, 65536);
        qbuf_init(&pem, 65536);
        struct qerr_info ei;
        assert_int_equal(fs_read_file(path, &b, &ei), QERR_OK);
        EVP_PKEY *k = NULL;
        assert_int_equal(pki_key_from_pem(b.data, b.len, PASS, &k, &ei), QERR_OK);
        assert_int_equal(pki_key_to_pem_iter(k, PASS, 2048, &pem, &ei), QERR_OK);
        assert_int_equal(fs_write_file(path, pem.data, pem.len, 0600, false, &ei), QERR_OK);
        assert_int_equal(file_iterations(path), 2048);
        assert_true(pki_key_pem_needs_upgrade(pem.data, pem.len));
        /* a fresh signer loads it to sign: the file is re-encrypted */
        signer_state_free(f->st);
        f->st = state_with(f, PASS, NULL);
        EVP_PKEY *sub = make_key("ec256");
        struct qbuf spki;
        qbuf_init(&spki, 8192);
        assert_int_equal(pki_key_spki_der(sub, &spki, &ei), QERR_OK);
        assert_int_equal(sign_spki(f, spki.data, spki.len, NULL, 0), QERR_OK);
        qbuf_free(&spki);
        EVP_PKEY_free(sub);
        assert_int_equal(file_iterations(path), PKI_PBKDF2_ITER);
        /* and still the same key */
        qbuf_reset(&b);
        assert_int_equal(fs_read_file(path, &b, &ei), QERR_OK);
        EVP_PKEY *again = NULL;
        assert_int_equal(pki_key_from_pem(b.data, b.len, PASS, &again, &ei), QERR_OK);
        assert_int_equal(EVP_PKEY_eq(k, again), 1);
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        EVP_PKEY_free(k);
        EVP_PKEY_free(again);
        qbuf_free(&b);
        qbuf_free(&pem);
}

static void test_init_roundtrip_and_refusals(void **state)
{
        (void)state;
        struct signer_req r = {
            .type = SMSG_INIT, .private_max_days = 365, .public_max_days = 0, .log_level = 2};
        r.data_dir = sbytes_str("/var/lib/quill");
        r.passphrase = sbytes_str("a-long-enough-passphrase");
        struct qbuf b;
        qbuf_init(&b, 65536);
        assert_true(signer_encode_req(&r, &b));
        struct signer_req d;
        struct qerr_info ei;
        assert_int_equal(signer_decode_req(b.data + 4, b.len - 4, &d, &ei), QERR_OK);
        assert_int_equal(d.type, SMSG_INIT);
        assert_int_equal(d.private_max_days, 365);
        assert_int_equal(d.log_level, 2);
        assert_int_equal(d.passphrase.len, strlen("a-long-enough-passphrase"));
        assert_int_equal(d.note.len, 0);
        signer_req_clear(&d);
        /* INIT without a data directory; INIT with a serial */
        qbuf_reset(&b);
        uint8_t t = SMSG_INIT;
        qbuf_append(&b, &t, 1);
        put_i64(&b, 23, 365);
        put_i64(&b, 24, 0);
        put_i64(&b, 27, 1);
        assert_int_equal(signer_decode_req(b.data, b.len, &d, &ei), QERR_PROTO);
        put_field(&b, 22, "/d", 2);
        assert_int_equal(signer_decode_req(b.data, b.len, &d, &ei), QERR_OK);
        put_field(&b, 8, "\x41\x01", 2);
        assert_int_equal(signer_decode_req(b.data, b.len, &d, &ei), QERR_PROTO);
        qbuf_free(&b);
        /* the handler never takes an INIT: only the process's first frame is */
        struct fixture f0;
        memset(&f0, 0, sizeof f0);
        snprintf(f0.dir, sizeof f0.dir, "/tmp");
        config_defaults(&f0.cfg);
        struct signer_state *st = state_with(&f0, NULL, NULL);
        assert_int_equal(call(st, &r, NULL, NULL, 0), QERR_PROTO);
        signer_state_free(st);
        config_free(&f0.cfg);
}

static void test_secret_leaves_the_environment(void **state)
{
        (void)state;
        /* putenv keeps our buffer in environ, as the initial block would be */
        static char entry[] = CA_PASSPHRASE_ENV "=correct-horse-battery";
        char *value = entry + strlen(CA_PASSPHRASE_ENV) + 1;
        assert_int_equal(putenv(entry), 0);
        struct ca_secret *s = ca_secret_take(NULL);
        assert_non_null(s);
        assert_null(getenv(CA_PASSPHRASE_ENV));
        for (size_t i = 0; i < strlen("correct-horse-battery"); i++)
                assert_int_equal(value[i], 0); /* overwritten in place */
        size_t len = 0;
        const char *p = ca_secret_reveal(s, &len);
        assert_non_null(p);
        assert_int_equal(len, strlen("correct-horse-battery"));
        assert_string_equal(p, "correct-horse-battery");
        ca_secret_conceal(s);
        ca_secret_wipe(s);
        assert_false(ca_secret_present(s));
        assert_null(ca_secret_reveal(s, &len));
        assert_true(strlen(ca_secret_note(s)) > 0);
        ca_secret_free(s);
}

static void test_secret_from_a_file(void **state)
{
        (void)state;
        char dir[] = "/tmp/quill-secret-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char path[64];
        snprintf(path, sizeof path, "%s/pass", dir);
        FILE *fp = fopen(path, "w");
        fputs("from-the-file-123 \n", fp);
        fclose(fp);
        unsetenv(CA_PASSPHRASE_ENV);
        struct qconfig cfg;
        config_defaults(&cfg);
        free(cfg.ca_passphrase_file);
        cfg.ca_passphrase_file = strdup(path);
        struct ca_secret *s = ca_secret_take(&cfg);
        size_t len;
        assert_string_equal(ca_secret_reveal(s, &len), "from-the-file-123");
        ca_secret_conceal(s);
        ca_secret_free(s);
        /* an empty file: no passphrase, and the note says why */
        fp = fopen(path, "w");
        fclose(fp);
        s = ca_secret_take(&cfg);
        assert_false(ca_secret_present(s));
        assert_non_null(strstr(ca_secret_note(s), "empty"));
        ca_secret_free(s);
        unlink(path);
        rmdir(dir);
        config_free(&cfg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_roundtrip_sign_cert),
            cmocka_unit_test(test_roundtrip_crl_and_resp),
            cmocka_unit_test(test_decoder_refuses),
            cmocka_unit_test(test_resp_refuses_unknown_code),
            cmocka_unit_test_setup_teardown(test_sign_cert_table, setup, teardown),
            cmocka_unit_test_setup_teardown(test_key_files_encrypted, setup, teardown),
            cmocka_unit_test_setup_teardown(test_org_subject_rules, setup, teardown),
            cmocka_unit_test_setup_teardown(test_lint_gate, setup, teardown),
            cmocka_unit_test_setup_teardown(test_garbage_frame_answers_error, setup, teardown),
            cmocka_unit_test_setup_teardown(test_ca_key_as_subscriber_key_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_key_files_use_600k_pbkdf2, setup, teardown),
            cmocka_unit_test_setup_teardown(test_old_key_file_reencrypted_on_load, setup, teardown),
            cmocka_unit_test(test_init_roundtrip_and_refusals),
            cmocka_unit_test(test_secret_leaves_the_environment),
            cmocka_unit_test(test_secret_from_a_file),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
