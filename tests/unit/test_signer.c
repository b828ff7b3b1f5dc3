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
#include "base/qtime.h"
#include "pki/pki_key.h"
#include "signer/signer.h"

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
        uint8_t s1[3] = {1, 2, 3};
        struct crl_entry_wire e[1] = {{{s1, 3}, 1700000001, 1}};
        struct signer_req r = {.type = SMSG_SIGN_CRL,
                               .crl_number = 7,
                               .this_update = 1,
                               .next_update = 2,
                               .entries = e,
                               .nentries = 1};
        r.issuer_der = sbytes_str("der");
        struct qbuf b;
        qbuf_init(&b, 1 << 20);
        assert_true(signer_encode_req(&r, &b));
        struct signer_req d;
        struct qerr_info ei;
        assert_int_equal(signer_decode_req(b.data + 4, b.len - 4, &d, &ei), QERR_OK);
        assert_int_equal(d.nentries, 1);
        assert_int_equal(d.entries[0].serial.len, 3);
        assert_int_equal(d.entries[0].revoked_at, 1700000001);
        assert_int_equal(d.entries[0].reason, 1);
        assert_int_equal(d.crl_number, 7);
        signer_req_clear(&d);

        qbuf_reset(&b);
        struct signer_resp er = {.type = SMSG_ERROR, .code = QERR_KEY_WEAK};
        er.message = sbytes_str("too weak");
        assert_true(signer_encode_resp(&er, &b));
        struct signer_resp dr;
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
                t = SMSG_SIGN_CRL;
                qbuf_append(b, &t, 1);
                put_field(b, 3, "der", 3);
                put_field(b, 13, "\x01", 1);
                put_i64(b, 14, 1);
                put_i64(b, 15, 2);
                break;
        case 8: /* CRL entry whose serial length byte lies */
                t = SMSG_SIGN_CRL;
                qbuf_append(b, &t, 1);
                put_field(b, 3, "der", 3);
                put_i64(b, 13, 1);
                put_i64(b, 14, 1);
                put_i64(b, 15, 2);
                put_field(b, 16, "\x05\x01\x02", 3);
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
        }
}

static void test_decoder_refuses(void **state)
{
        (void)state;
        for (int row = 0; row <= 10; row++) {
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

struct fixture {
        char dir[64];
        struct qconfig cfg;
        struct signer_state *st;
        struct qbuf root_der, issuing_der;
};

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(p);
}

/* Sends one request to the handler; returns the response code (QERR_OK for
 * SMSG_OK) and copies the DER, if any, into der. */
static enum qerr call(struct signer_state *st, const struct signer_req *r, struct qbuf *der,
                      char *msg, size_t msgsz)
{
        struct qbuf req, out;
        qbuf_init(&req, MAX_SIGNER_MSG_BYTES + 8);
        qbuf_init(&out, MAX_SIGNER_MSG_BYTES + 8);
        assert_true(signer_encode_req(r, &req));
        signer_handle(st, req.data + 4, req.len - 4, &out);
        struct signer_resp resp;
        struct qerr_info ei;
        assert_int_equal(signer_decode_resp(out.data + 4, out.len - 4, &resp, &ei), QERR_OK);
        enum qerr rc = QERR_OK;
        if (resp.type == SMSG_ERROR) {
                rc = (enum qerr)resp.code;
                if (msg)
                        sbytes_cstr(resp.message, msg, msgsz);
        } else if (der) {
                qbuf_reset(der);
                qbuf_append(der, resp.der.p, resp.der.len);
        }
        qbuf_free(&req);
        qbuf_free(&out);
        return rc;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof *f);
        snprintf(f->dir, sizeof f->dir, "/tmp/quill-signer-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        setenv("QUILL_CA_PASSPHRASE", "unit-test-passphrase", 1);
        config_defaults(&f->cfg);
        f->st = signer_state_new(f->dir, &f->cfg);
        qbuf_init(&f->root_der, 65536);
        qbuf_init(&f->issuing_der, 65536);
        struct signer_req r = {.type = SMSG_CREATE_ROOT};
        r.key_alg = sbytes_str("ec384");
        r.subject = sbytes_str("CN=Unit Root");
        assert_int_equal(call(f->st, &r, &f->root_der, NULL, 0), QERR_OK);
        struct signer_req i = {.type = SMSG_CREATE_ISSUING};
        i.key_alg = sbytes_str("ec256");
        i.subject = sbytes_str("CN=Unit Issuing");
        i.issuer_der.p = f->root_der.data;
        i.issuer_der.len = f->root_der.len;
        i.crl_url = sbytes_str("http://127.0.0.1:1/crl/1.crl");
        i.ca_issuers_url = sbytes_str("http://127.0.0.1:1/ca/1.der");
        assert_int_equal(call(f->st, &i, &f->issuing_der, NULL, 0), QERR_OK);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        signer_state_free(f->st);
        config_free(&f->cfg);
        qbuf_free(&f->root_der);
        qbuf_free(&f->issuing_der);
        nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

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

static void test_passphrase_missing_and_wrong(void **state)
{
        struct fixture *f = *state;
        struct signer_req r = {.type = SMSG_SIGN_CRL, .crl_number = 1};
        r.issuer_der.p = f->issuing_der.data;
        r.issuer_der.len = f->issuing_der.len;
        r.this_update = qtime_now();
        r.next_update = r.this_update + 3600;
        /* a fresh state has no passphrase loaded */
        unsetenv("QUILL_CA_PASSPHRASE");
        struct signer_state *st = signer_state_new(f->dir, &f->cfg);
        assert_int_equal(call(st, &r, NULL, NULL, 0), QERR_CA_PASSPHRASE_MISSING);
        signer_state_free(st);
        setenv("QUILL_CA_PASSPHRASE", "not-the-passphrase", 1);
        st = signer_state_new(f->dir, &f->cfg);
        assert_int_equal(call(st, &r, NULL, NULL, 0), QERR_CA_PASSPHRASE_WRONG);
        signer_state_free(st);
        setenv("QUILL_CA_PASSPHRASE", "unit-test-passphrase", 1);
        st = signer_state_new(f->dir, &f->cfg);
        struct qbuf der;
        qbuf_init(&der, 65536);
        assert_int_equal(call(st, &r, &der, NULL, 0), QERR_OK);
        const unsigned char *p = der.data;
        X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)der.len);
        assert_non_null(crl);
        X509_CRL_free(crl);
        qbuf_free(&der);
        signer_state_free(st);
}

static void test_crl_profile(void **state)
{
        struct fixture *f = *state;
        uint8_t s[16] = {0x41, 1};
        struct crl_entry_wire e = {{s, 16}, qtime_now(), 1};
        struct signer_req r = {
            .type = SMSG_SIGN_CRL, .crl_number = 2, .entries = &e, .nentries = 1};
        r.issuer_der.p = f->issuing_der.data;
        r.issuer_der.len = f->issuing_der.len;
        r.this_update = qtime_now();
        r.next_update = r.this_update + 11 * 86400; /* BR: at most 10 days */
        assert_int_equal(call(f->st, &r, NULL, NULL, 0), QERR_SIGNER_REFUSED);
        r.next_update = r.this_update + 7 * 86400;
        e.reason = 7; /* not a CRLReason value */
        assert_int_equal(call(f->st, &r, NULL, NULL, 0), QERR_SIGNER_REFUSED);
        e.reason = 1;
        r.crl_number = 0;
        assert_int_equal(call(f->st, &r, NULL, NULL, 0), QERR_SIGNER_REFUSED);
        r.crl_number = 3;
        assert_int_equal(call(f->st, &r, NULL, NULL, 0), QERR_OK);
        /* issue 7: the lint gate; the number must increase, certificateHold never */
        char msg[512] = "";
        assert_int_equal(call(f->st, &r, NULL, msg, sizeof msg), QERR_LINT_FAILED);
        assert_non_null(strstr(msg, "e_crl_number_increasing"));
        r.crl_number = 4;
        e.reason = 6;
        assert_int_equal(call(f->st, &r, NULL, msg, sizeof msg), QERR_LINT_FAILED);
        assert_non_null(strstr(msg, "e_crl_reason_certificate_hold"));
        e.reason = 1;
        assert_int_equal(call(f->st, &r, NULL, NULL, 0), QERR_OK);
}

/* issue 7: the signer lints what it is asked to sign: an internal name in a
 * DV certificate never gets the CA's signature. */
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
            cmocka_unit_test_setup_teardown(test_passphrase_missing_and_wrong, setup, teardown),
            cmocka_unit_test_setup_teardown(test_crl_profile, setup, teardown),
            cmocka_unit_test_setup_teardown(test_lint_gate, setup, teardown),
            cmocka_unit_test_setup_teardown(test_garbage_frame_answers_error, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
