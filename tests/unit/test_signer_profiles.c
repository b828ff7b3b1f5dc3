/*
 * test_signer_profiles.c - the signer's checks of the issuance profiles
 * (src/policy/profile.h) behind the service: the request names the
 * profile by its wire name ("tlsserver", "shortlived"), and the signer
 * holds it to that profile's validity and identifiers (IP addresses only
 * under shortlived, public ones unless the test switch came in INIT), and
 * the lint gate checks the same. In-process against a temporary data
 * directory, like test_signer.c.
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
#include "base/netaddr.h"
#include "base/qtime.h"
#include "pki/lint.h"
#include "pki/pki_key.h"
#include "signer/signer.h"
#include "signer/signer_internal.h"

#define PASS "unit-test-passphrase"
#define HOUR 3600
#define DAY 86400

struct fixture {
        char dir[64];
        struct signer_state *st, *st_private; /* the second with the test switch */
        struct qbuf issuing_der;
        EVP_PKEY *key;
        struct qbuf spki;
};

static struct fixture fx;

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(p);
}

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
        msg[0] = '\0';
        if (resp.type == SMSG_ERROR) {
                rc = (enum qerr)resp.code;
                sbytes_cstr(resp.message, msg, msgsz);
        } else if (der) {
                qbuf_reset(der);
                qbuf_append(der, resp.der.p, resp.der.len);
        }
        qbuf_free(&req);
        qbuf_free(&out);
        return rc;
}

static struct signer_state *state(bool allow_private)
{
        struct signer_config c = {.data_dir = fx.dir,
                                  .private_max_days = 365,
                                  .public_max_days = 0,
                                  .passphrase = PASS,
                                  .allow_private_ips = allow_private};
        struct signer_state *st = signer_state_new(&c);
        assert_non_null(st);
        return st;
}

static int group_setup(void **s)
{
        (void)s;
        char msg[512];
        struct qerr_info ei;
        snprintf(fx.dir, sizeof fx.dir, "/tmp/quill-sprof-XXXXXX");
        assert_non_null(mkdtemp(fx.dir));
        fx.st = state(false);
        fx.st_private = state(true);
        struct qbuf root;
        qbuf_init(&root, 65536);
        qbuf_init(&fx.issuing_der, 65536);
        struct signer_req r = {.type = SMSG_CREATE_ROOT};
        r.key_alg = sbytes_str("ec256");
        r.subject = sbytes_str("CN=Unit Root");
        assert_int_equal(call(fx.st, &r, &root, msg, sizeof msg), QERR_OK);
        struct signer_req i = {.type = SMSG_CREATE_ISSUING};
        i.key_alg = sbytes_str("ec256");
        i.subject = sbytes_str("CN=Unit Issuing");
        i.issuer_der.p = root.data;
        i.issuer_der.len = root.len;
        i.crl_url = sbytes_str("http://pki.example.com/crl/1.crl");
        i.ca_issuers_url = sbytes_str("http://pki.example.com/ca/1.der");
        assert_int_equal(call(fx.st, &i, &fx.issuing_der, msg, sizeof msg), QERR_OK);
        qbuf_free(&root);
        assert_int_equal(pki_key_generate(KEYALG_EC256, &fx.key, &ei), QERR_OK);
        qbuf_init(&fx.spki, 8192);
        assert_int_equal(pki_key_spki_der(fx.key, &fx.spki, &ei), QERR_OK);
        return 0;
}

static int group_teardown(void **s)
{
        (void)s;
        signer_state_free(fx.st);
        signer_state_free(fx.st_private);
        qbuf_free(&fx.issuing_der);
        qbuf_free(&fx.spki);
        EVP_PKEY_free(fx.key);
        nftw(fx.dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
}

/* Signs names (comma-separated) under `profile` for `secs` seconds. */
static enum qerr sign(struct signer_state *st, const char *profile, const char *names, int64_t secs,
                      struct qbuf *der, char *msg, size_t msgsz)
{
        static uint8_t counter;
        uint8_t serial[16];
        memset(serial, 0x5a, sizeof serial);
        serial[0] = 0x41;
        serial[15] = ++counter;
        char buf[512];
        snprintf(buf, sizeof buf, "%s", names);
        struct signer_req r = {.type = SMSG_SIGN_CERT};
        for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
                r.names[r.nnames++] = sbytes_str(t);
        r.issuer_der.p = fx.issuing_der.data;
        r.issuer_der.len = fx.issuing_der.len;
        r.spki_der.p = fx.spki.data;
        r.spki_der.len = fx.spki.len;
        r.not_before = qtime_now();
        r.not_after = r.not_before + secs - 1;
        r.serial.p = serial;
        r.serial.len = sizeof serial;
        r.profile = sbytes_str(profile);
        r.crl_url = sbytes_str("http://pki.example.com/crl/2.crl");
        r.ocsp_url = sbytes_str("http://pki.example.com/ocsp");
        r.ca_issuers_url = sbytes_str("http://pki.example.com/ca/2.der");
        return call(st, &r, der, msg, msgsz);
}

static void test_profiles_in_the_signer(void **s)
{
        (void)s;
        static const struct {
                const char *profile, *names;
                int64_t secs;
                bool switch_on;
                enum qerr want;
                const char *says;
                int ips; /* iPAddress entries in the certificate */
        } cases[] = {
            {"shortlived", "www.example.com,8.8.8.8", 160 * HOUR, false, QERR_OK, "", 1},
            {"shortlived", "2001:4860:4860::8888", 160 * HOUR, false, QERR_OK, "", 1},
            {"shortlived", "www.example.com", 160 * HOUR + 1, false, QERR_POLICY_DENIED,
             "at most 160 hours", 0},
            {"tlsserver", "www.example.com", 45 * DAY, false, QERR_OK, "", 0},
            {"tlsserver", "www.example.com", 45 * DAY + 1, false, QERR_POLICY_DENIED,
             "at most 45 days", 0},
            {"dv", "www.example.com", 100 * DAY, false, QERR_OK, "", 0},
            {"tlsserver", "8.8.8.8", 45 * DAY, false, QERR_POLICY_DENIED, "DNS names only", 0},
            {"dv", "8.8.8.8", 90 * DAY, false, QERR_POLICY_DENIED, "does not allow IP", 0},
            {"shortlived", "127.0.0.1", 160 * HOUR, false, QERR_POLICY_DENIED,
             "special-purpose address", 0},
            {"shortlived", "10.0.0.5", 160 * HOUR, true, QERR_OK, "", 1}, /* the test switch */
            {"shortlived", "127.0.0.1,::1", 160 * HOUR, true, QERR_OK, "", 2},
            {"tlsserver", "127.0.0.1", 45 * DAY, true, QERR_POLICY_DENIED, "DNS names only", 0},
            {"shortlived", "printer.internal", 160 * HOUR, false, QERR_POLICY_DENIED,
             "internal name", 0},
            {"shortlived", "8.8.8.08", 160 * HOUR, false, QERR_NAME_INVALID, "", 0},
            {"classic", "www.example.com", 45 * DAY, false, QERR_SIGNER_REFUSED, "unknown profile",
             0},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct qbuf der;
                char msg[512];
                qbuf_init(&der, 65536);
                enum qerr rc = sign(cases[i].switch_on ? fx.st_private : fx.st, cases[i].profile,
                                    cases[i].names, cases[i].secs, &der, msg, sizeof msg);
                if (rc != cases[i].want || !strstr(msg, cases[i].says))
                        fail_msg("case %zu (%s %s): %s \"%s\"", i, cases[i].profile, cases[i].names,
                                 qerr_code(rc), msg);
                if (rc == QERR_OK) {
                        const unsigned char *p = der.data;
                        X509 *x = d2i_X509(NULL, &p, (long)der.len);
                        assert_non_null(x);
                        /* the names, IP addresses as iPAddress entries */
                        GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
                        assert_non_null(gens);
                        int ips = 0;
                        for (int g = 0; g < sk_GENERAL_NAME_num(gens); g++)
                                ips += sk_GENERAL_NAME_value(gens, g)->type == GEN_IPADD;
                        assert_int_equal(ips, cases[i].ips);
                        GENERAL_NAMES_free(gens);
                        X509_free(x);
                }
                qbuf_free(&der);
        }
}

/* The linter holds a profile's lifetime and, under the test switch only,
 * lets a loopback iPAddress through. */
static void test_lint_profile_options(void **s)
{
        (void)s;
        struct qbuf der;
        char msg[512];
        qbuf_init(&der, 65536);
        assert_int_equal(
            sign(fx.st_private, "shortlived", "127.0.0.1", 160 * HOUR, &der, msg, sizeof msg),
            QERR_OK);
        struct lint_cert_opts o = {.profile = PROFILE_DV,
                                   .role = LINT_ROLE_SUBSCRIBER,
                                   .issuer_der = fx.issuing_der.data,
                                   .issuer_len = fx.issuing_der.len};
        struct qerr_info ei;
        struct {
                int64_t max;
                bool allow;
                const char *finding; /* NULL: no error */
        } cases[] = {
            {0, true, NULL},
            {160 * HOUR, true, NULL},
            {100 * HOUR, true, "e_validity_too_long"},
            {0, false, "e_ip_reserved"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct lint_report r;
                lint_report_init(&r);
                o.max_validity_seconds = cases[i].max;
                o.allow_reserved_ip = cases[i].allow;
                assert_int_equal(lint_cert_der(der.data, der.len, &o, &r, NULL, &ei), QERR_OK);
                const struct lint_finding *f = lint_report_first_error(&r);
                if (cases[i].finding ? !f || strcmp(f->id, cases[i].finding) != 0 : f != NULL)
                        fail_msg("case %zu: %s %s", i, f ? f->id : "no error", f ? f->message : "");
                lint_report_free(&r);
        }
        qbuf_free(&der);
}

/* INIT carries the test switch (absent: off). */
static void test_init_allow_private(void **s)
{
        (void)s;
        for (int on = 0; on < 2; on++) {
                struct signer_req r = {.type = SMSG_INIT,
                                       .private_max_days = 365,
                                       .log_level = 2,
                                       .allow_private = on};
                r.data_dir = sbytes_str("/var/lib/quill");
                struct qbuf b;
                qbuf_init(&b, 65536);
                assert_true(signer_encode_req(&r, &b));
                struct signer_req d;
                struct qerr_info ei;
                assert_int_equal(signer_decode_req(b.data + 4, b.len - 4, &d, &ei), QERR_OK);
                assert_int_equal(d.allow_private, on);
                signer_req_clear(&d);
                qbuf_free(&b);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_profiles_in_the_signer),
            cmocka_unit_test(test_lint_profile_options),
            cmocka_unit_test(test_init_allow_private),
        };
        return cmocka_run_group_tests_name("signer_profiles", tests, group_setup, group_teardown);
}
