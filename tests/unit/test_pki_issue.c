/*
 * test_pki_issue.c - what pki_issue builds: the root and issuing CA
 * profiles, the end-entity profile for every profile (private, dv, ov, ev)
 * and key type (EC, RSA, SM2 under an SM2 chain), the refusals (no names,
 * bad serials, URLs that could inject config syntax), and CRLs with their
 * entries, reasons, number and AKI. Each certificate is checked by reading
 * it back with OpenSSL and by verifying its chain to the root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pki/pki_issue.h"
#include "pki/pki_key.h"
#include "pki/pki_pem.h"

#define DAY 86400
#define ROOT_CRL "http://127.0.0.1:8080/crl/1.crl"
#define ROOT_CAI "http://127.0.0.1:8080/ca/1.der"
#define EE_CRL "http://127.0.0.1:8080/crl/2.crl"
#define EE_OCSP "http://127.0.0.1:8080/ocsp"
#define EE_CAI "http://127.0.0.1:8080/ca/2.der"

struct chain {
        EVP_PKEY *root_key, *issuing_key;
        X509 *root, *issuing;
        int64_t now;
};

static EVP_PKEY *keygen(const char *alg)
{
        enum key_alg a;
        EVP_PKEY *k = NULL;
        struct qerr_info ei;
        assert_true(key_alg_from_name(alg, &a));
        assert_int_equal(pki_key_generate(a, &k, &ei), QERR_OK);
        return k;
}

static void make_chain(struct chain *c, const char *root_alg, const char *issuing_alg)
{
        struct qerr_info ei;
        c->now = (int64_t)time(NULL);
        c->root_key = keygen(root_alg);
        c->issuing_key = keygen(issuing_alg);
        struct ca_params r = {.subject = "CN=Unit Root,O=Quill Tests",
                              .key = c->root_key,
                              .not_before = c->now - 60,
                              .not_after = c->now + 3650L * DAY};
        assert_int_equal(pki_issue_ca(&r, &c->root, &ei), QERR_OK);
        struct ca_params i = {.subject = "/CN=Unit Issuing/O=Quill Tests",
                              .key = c->issuing_key,
                              .issuer = c->root,
                              .issuer_key = c->root_key,
                              .not_before = c->now - 60,
                              .not_after = c->now + 1825L * DAY,
                              .crl_url = ROOT_CRL,
                              .ca_issuers_url = ROOT_CAI};
        assert_int_equal(pki_issue_ca(&i, &c->issuing, &ei), QERR_OK);
        pki_cert_set_sm2_id(c->root);
        pki_cert_set_sm2_id(c->issuing);
}

static void free_chain(struct chain *c)
{
        X509_free(c->root);
        X509_free(c->issuing);
        EVP_PKEY_free(c->root_key);
        EVP_PKEY_free(c->issuing_key);
}

static int setup_ec(void **state)
{
        struct chain *c = calloc(1, sizeof *c);
        make_chain(c, "ec384", "ec256");
        *state = c;
        return 0;
}

static int teardown(void **state)
{
        free_chain(*state);
        free(*state);
        return 0;
}

/* ---- reading extensions back ---- */

static void *ext(X509 *x, int nid, int *crit)
{
        int c = -2;
        void *v = X509_get_ext_d2i(x, nid, &c, NULL);
        if (crit)
                *crit = c;
        return v;
}

static bool has_ext(X509 *x, int nid)
{
        return X509_get_ext_by_NID(x, nid, -1) >= 0;
}

static void assert_ski_is_key_hash(X509 *x)
{
        int crit;
        ASN1_OCTET_STRING *ski = ext(x, NID_subject_key_identifier, &crit);
        assert_non_null(ski);
        assert_int_equal(crit, 0);
        unsigned char md[20];
        unsigned int len = 0;
        assert_int_equal(X509_pubkey_digest(x, EVP_sha1(), md, &len), 1);
        assert_int_equal(ASN1_STRING_length(ski), (int)len);
        assert_memory_equal(ASN1_STRING_get0_data(ski), md, len);
        ASN1_OCTET_STRING_free(ski);
}

static void assert_aki_names(X509 *x, X509 *issuer)
{
        int crit;
        AUTHORITY_KEYID *aki = ext(x, NID_authority_key_identifier, &crit);
        assert_non_null(aki);
        assert_int_equal(crit, 0);
        const ASN1_OCTET_STRING *iski = X509_get0_subject_key_id(issuer);
        assert_non_null(iski);
        assert_non_null(aki->keyid);
        assert_int_equal(ASN1_OCTET_STRING_cmp(aki->keyid, iski), 0);
        AUTHORITY_KEYID_free(aki);
}

static uint32_t key_usage(X509 *x, int *crit)
{
        ASN1_BIT_STRING *ku = ext(x, NID_key_usage, crit);
        assert_non_null(ku);
        uint32_t bits = 0;
        for (int i = 0; i < 9; i++)
                if (ASN1_BIT_STRING_get_bit(ku, i))
                        bits |= 1u << i;
        ASN1_BIT_STRING_free(ku);
        return bits;
}
#define BIT_DIGITAL_SIGNATURE (1u << 0)
#define BIT_KEY_ENCIPHERMENT (1u << 2)
#define BIT_KEY_CERT_SIGN (1u << 5)
#define BIT_CRL_SIGN (1u << 6)

static void assert_eku_server_auth_only(X509 *x)
{
        int crit;
        EXTENDED_KEY_USAGE *eku = ext(x, NID_ext_key_usage, &crit);
        assert_non_null(eku);
        assert_int_equal(crit, 0);
        assert_int_equal(sk_ASN1_OBJECT_num(eku), 1);
        assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)), NID_server_auth);
        sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
}

static void assert_crl_dp(X509 *x, const char *url)
{
        CRL_DIST_POINTS *dps = ext(x, NID_crl_distribution_points, NULL);
        assert_non_null(dps);
        assert_int_equal(sk_DIST_POINT_num(dps), 1);
        DIST_POINT *dp = sk_DIST_POINT_value(dps, 0);
        assert_non_null(dp->distpoint);
        assert_int_equal(dp->distpoint->type, 0);
        GENERAL_NAMES *g = dp->distpoint->name.fullname;
        assert_int_equal(sk_GENERAL_NAME_num(g), 1);
        GENERAL_NAME *n = sk_GENERAL_NAME_value(g, 0);
        assert_int_equal(n->type, GEN_URI);
        assert_string_equal((const char *)ASN1_STRING_get0_data(n->d.uniformResourceIdentifier),
                            url);
        CRL_DIST_POINTS_free(dps);
}

/* The AIA entries: `ocsp` and `cai` expected (NULL: absent). */
static void assert_aia(X509 *x, const char *ocsp, const char *cai)
{
        AUTHORITY_INFO_ACCESS *aia = ext(x, NID_info_access, NULL);
        assert_non_null(aia);
        int seen_ocsp = 0, seen_cai = 0;
        for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
                ACCESS_DESCRIPTION *a = sk_ACCESS_DESCRIPTION_value(aia, i);
                assert_int_equal(a->location->type, GEN_URI);
                const char *u =
                    (const char *)ASN1_STRING_get0_data(a->location->d.uniformResourceIdentifier);
                int nid = OBJ_obj2nid(a->method);
                if (nid == NID_ad_OCSP) {
                        assert_non_null(ocsp);
                        assert_string_equal(u, ocsp);
                        seen_ocsp++;
                } else {
                        assert_int_equal(nid, NID_ad_ca_issuers);
                        assert_non_null(cai);
                        assert_string_equal(u, cai);
                        seen_cai++;
                }
        }
        assert_int_equal(seen_ocsp, ocsp ? 1 : 0);
        assert_int_equal(seen_cai, cai ? 1 : 0);
        AUTHORITY_INFO_ACCESS_free(aia);
}

/* The policy OIDs of x as dotted text, joined with spaces ("" when none). */
static void policies(X509 *x, char *out, size_t sz)
{
        out[0] = 0;
        CERTIFICATEPOLICIES *p = ext(x, NID_certificate_policies, NULL);
        for (int i = 0; p && i < sk_POLICYINFO_num(p); i++) {
                char oid[80];
                OBJ_obj2txt(oid, sizeof oid, sk_POLICYINFO_value(p, i)->policyid, 1);
                size_t l = strlen(out);
                snprintf(out + l, sz - l, "%s%s", l ? " " : "", oid);
                assert_null(sk_POLICYQUALINFO_value(sk_POLICYINFO_value(p, i)->qualifiers, 0));
        }
        CERTIFICATEPOLICIES_free(p);
}

/* The subject as "C=..,ST=..,..." in order (short names). */
static void subject_text(X509 *x, char *out, size_t sz)
{
        out[0] = 0;
        const X509_NAME *n = X509_get_subject_name(x);
        for (int i = 0; i < X509_NAME_entry_count(n); i++) {
                const X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
                unsigned char *u = NULL;
                int len = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(e));
                assert_true(len >= 0);
                size_t l = strlen(out);
                snprintf(out + l, sz - l, "%s%s=%.*s", l ? "," : "",
                         OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e))), len, u);
                OPENSSL_free(u);
        }
}

static void assert_verifies(X509 *root, X509 *issuing, X509 *leaf)
{
        X509_STORE *st = X509_STORE_new();
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        STACK_OF(X509) *untrusted = sk_X509_new_null();
        assert_true(st && ctx && untrusted);
        assert_int_equal(X509_STORE_add_cert(st, root), 1);
        sk_X509_push(untrusted, issuing);
        pki_cert_set_sm2_id(leaf);
        assert_int_equal(X509_STORE_CTX_init(ctx, st, leaf, untrusted), 1);
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
        int ok = X509_verify_cert(ctx);
        if (ok != 1)
                fail_msg("chain does not verify: %s",
                         X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        sk_X509_free(untrusted);
        X509_STORE_CTX_free(ctx);
        X509_STORE_free(st);
}

/* ---- CAs ---- */

static void test_root_profile(void **state)
{
        struct chain *c = *state;
        X509 *x = c->root;
        assert_int_equal(X509_get_version(x), X509_VERSION_3);
        assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
        assert_int_equal(X509_verify(x, c->root_key), 1);
        int crit;
        BASIC_CONSTRAINTS *bc = ext(x, NID_basic_constraints, &crit);
        assert_non_null(bc);
        assert_int_equal(crit, 1);
        assert_true(bc->ca);
        BASIC_CONSTRAINTS_free(bc);
        assert_int_equal(key_usage(x, &crit), BIT_KEY_CERT_SIGN | BIT_CRL_SIGN);
        assert_int_equal(crit, 1);
        assert_ski_is_key_hash(x);
        assert_false(has_ext(x, NID_ext_key_usage)); /* BR 7.1.2.1.2: no EKU in a root */
        assert_int_equal(X509_check_ca(x), 1);
        /* a positive serial of 16 bytes, the top byte 0x40..0x7f */
        const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
        assert_int_equal(ASN1_STRING_length(sn), 16);
        assert_int_equal(ASN1_STRING_get0_data(sn)[0] & 0xc0, 0x40);
        assert_int_equal(pki_time_to_unix(X509_get0_notBefore(x)), c->now - 60);
        assert_int_equal(pki_time_to_unix(X509_get0_notAfter(x)), c->now + 3650L * DAY);
        char subj[200];
        subject_text(x, subj, sizeof subj);
        assert_string_equal(subj, "CN=Unit Root,O=Quill Tests");
}

static void test_issuing_profile(void **state)
{
        struct chain *c = *state;
        X509 *x = c->issuing;
        assert_int_equal(X509_get_version(x), X509_VERSION_3);
        assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(c->root)), 0);
        assert_int_equal(X509_verify(x, c->root_key), 1);
        assert_int_equal(X509_verify(x, c->issuing_key), 0);
        int crit;
        BASIC_CONSTRAINTS *bc = ext(x, NID_basic_constraints, &crit);
        assert_non_null(bc);
        assert_int_equal(crit, 1);
        assert_true(bc->ca);
        assert_non_null(bc->pathlen);
        assert_int_equal(ASN1_INTEGER_get(bc->pathlen), 0);
        BASIC_CONSTRAINTS_free(bc);
        assert_int_equal(key_usage(x, &crit),
                         BIT_DIGITAL_SIGNATURE | BIT_KEY_CERT_SIGN | BIT_CRL_SIGN);
        assert_int_equal(crit, 1);
        assert_eku_server_auth_only(x);
        assert_ski_is_key_hash(x);
        assert_aki_names(x, c->root);
        assert_crl_dp(x, ROOT_CRL);
        assert_aia(x, NULL, ROOT_CAI);
        char subj[200];
        subject_text(x, subj, sizeof subj);
        assert_string_equal(subj, "CN=Unit Issuing,O=Quill Tests");
}

static void test_ca_refusals(void **state)
{
        struct chain *c = *state;
        struct qerr_info ei;
        X509 *x = NULL;
        static const char *const bad[] = {"", "CN", "=x", "CN=", "NOSUCHATTR=y", "CN=a,,O"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct ca_params p = {.subject = bad[i],
                                      .key = c->issuing_key,
                                      .not_before = c->now,
                                      .not_after = c->now + DAY};
                assert_int_equal(pki_issue_ca(&p, &x, &ei), QERR_USAGE);
                assert_null(x);
        }
        /* a URL that would inject another value into the config syntax */
        struct ca_params p = {.subject = "CN=Bad URL",
                              .key = c->issuing_key,
                              .issuer = c->root,
                              .issuer_key = c->root_key,
                              .not_before = c->now,
                              .not_after = c->now + DAY,
                              .crl_url = "http://x/a.crl,URI:http://evil/"};
        assert_int_equal(pki_issue_ca(&p, &x, &ei), QERR_INTERNAL);
        assert_null(x);
}

static void test_parse_dn(void **state)
{
        (void)state;
        static const struct {
                const char *in, *want;
        } rows[] = {{"CN=a", "CN=a"},
                    {"CN=a,O=b", "CN=a,O=b"},
                    {"/CN=a/O=b/C=DE", "CN=a,O=b,C=DE"},
                    {"CN=a, O=b", "CN=a,O=b"},
                    {"CN=a=b", "CN=a=b"},
                    {"", NULL},
                    {"CN", NULL},
                    {"=a", NULL},
                    {"CN=", NULL},
                    {"XYZZY=a", NULL},
                    {"C=Germany", NULL}}; /* countryName is two letters */
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                X509_NAME *n = pki_parse_dn(rows[i].in);
                if (!rows[i].want) {
                        if (n)
                                fail_msg("\"%s\" accepted", rows[i].in);
                        continue;
                }
                assert_non_null(n);
                X509 *x = X509_new();
                X509_set_subject_name(x, n);
                char got[200];
                subject_text(x, got, sizeof got);
                assert_string_equal(got, rows[i].want);
                X509_free(x);
                X509_NAME_free(n);
        }
        char big[1100];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = 0;
        memcpy(big, "CN=", 3);
        assert_null(pki_parse_dn(big));
        assert_null(pki_parse_dn(NULL));
}

/* ---- end entities ---- */

struct ee_case {
        const char *label;
        enum cert_profile profile;
        const char *key;
        const char *policy; /* expected policy OIDs ("" none) */
        const char *subject;
};

static const struct ee_case ee_cases[] = {
    {"private ec256", PROFILE_PRIVATE, "ec256", "", "CN=www.example.com"},
    {"private rsa2048", PROFILE_PRIVATE, "rsa2048", "", "CN=www.example.com"},
    {"dv ec384", PROFILE_DV, "ec384", "2.23.140.1.2.1", "CN=www.example.com"},
    {"ov ec256", PROFILE_OV, "ec256", "2.23.140.1.2.2",
     "C=DE,ST=Berlin,L=Berlin,O=Example GmbH,CN=www.example.com"},
    {"ev rsa2048", PROFILE_EV, "rsa2048", "2.23.140.1.1",
     "C=DE,ST=Berlin,L=Berlin,O=Example GmbH,CN=www.example.com"},
};

static const uint8_t SERIAL[16] = {0x41, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                   0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};
static const char *const NAMES[] = {"www.example.com", "example.com", "*.api.example.com",
                                    "192.0.2.5", "2001:db8::5"};

static struct ee_params ee_base(const struct chain *c, EVP_PKEY *k, enum cert_profile p)
{
        struct ee_params e = {.subject_key = k,
                              .names = NAMES,
                              .nnames = 5,
                              .not_before = c->now,
                              .not_after = c->now + 90L * DAY - 1,
                              .serial = SERIAL,
                              .serial_len = sizeof SERIAL,
                              .profile = p,
                              .crl_url = EE_CRL,
                              .ocsp_url = EE_OCSP,
                              .ca_issuers_url = EE_CAI};
        if (p == PROFILE_OV || p == PROFILE_EV) {
                e.org_o = "Example GmbH";
                e.org_c = "DE";
                e.org_st = "Berlin";
                e.org_l = "Berlin";
        }
        return e;
}

/* The SAN entries as text, "DNS:a IP:b ..." */
static void san_text(X509 *x, int *crit, char *out, size_t sz)
{
        out[0] = 0;
        GENERAL_NAMES *g = ext(x, NID_subject_alt_name, crit);
        assert_non_null(g);
        for (int i = 0; i < sk_GENERAL_NAME_num(g); i++) {
                GENERAL_NAME *n = sk_GENERAL_NAME_value(g, i);
                size_t l = strlen(out);
                if (n->type == GEN_DNS) {
                        snprintf(out + l, sz - l, "%sDNS:%s", l ? " " : "",
                                 (const char *)ASN1_STRING_get0_data(n->d.dNSName));
                } else {
                        assert_int_equal(n->type, GEN_IPADD);
                        int len = ASN1_STRING_length(n->d.iPAddress);
                        snprintf(out + l, sz - l, "%sIP:%d", l ? " " : "", len);
                }
        }
        GENERAL_NAMES_free(g);
}

static void test_ee_row(void **state)
{
        const struct ee_case *t = *state;
        struct chain c;
        make_chain(&c, "ec384", "ec256");
        EVP_PKEY *k = keygen(t->key);
        struct ee_params p = ee_base(&c, k, t->profile);
        X509 *x = NULL;
        struct qerr_info ei;
        assert_int_equal(pki_issue_ee(c.issuing, c.issuing_key, &p, &x, &ei), QERR_OK);

        assert_int_equal(X509_get_version(x), X509_VERSION_3);
        const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
        assert_int_equal(ASN1_STRING_length(sn), sizeof SERIAL);
        assert_memory_equal(ASN1_STRING_get0_data(sn), SERIAL, sizeof SERIAL);
        assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(c.issuing)),
                         0);
        assert_int_equal(pki_time_to_unix(X509_get0_notBefore(x)), p.not_before);
        assert_int_equal(pki_time_to_unix(X509_get0_notAfter(x)), p.not_after);
        assert_true(pki_key_matches(k, X509_get0_pubkey(x)));
        char subj[300];
        subject_text(x, subj, sizeof subj);
        assert_string_equal(subj, t->subject);

        int crit;
        char sans[300];
        san_text(x, &crit, sans, sizeof sans);
        assert_string_equal(sans, "DNS:www.example.com DNS:example.com DNS:*.api.example.com "
                                  "IP:4 IP:16");
        assert_int_equal(crit, 0); /* the subject has a CN */
        char **names = NULL;
        size_t nn = 0;
        assert_int_equal(pki_cert_names(x, &names, &nn, &ei), QERR_OK);
        assert_int_equal(nn, 5);
        for (size_t i = 0; i < nn; i++) {
                assert_string_equal(names[i], NAMES[i]);
                free(names[i]);
        }
        free(names);

        BASIC_CONSTRAINTS *bc = ext(x, NID_basic_constraints, &crit);
        assert_non_null(bc);
        assert_int_equal(crit, 1);
        assert_false(bc->ca);
        assert_null(bc->pathlen);
        BASIC_CONSTRAINTS_free(bc);
        uint32_t want_ku = BIT_DIGITAL_SIGNATURE;
        if (!strncmp(t->key, "rsa", 3))
                want_ku |= BIT_KEY_ENCIPHERMENT;
        assert_int_equal(key_usage(x, &crit), want_ku);
        assert_int_equal(crit, 1);
        assert_eku_server_auth_only(x);
        assert_ski_is_key_hash(x);
        assert_aki_names(x, c.issuing);
        assert_crl_dp(x, EE_CRL);
        assert_aia(x, EE_OCSP, EE_CAI);
        char pol[200];
        policies(x, pol, sizeof pol);
        assert_string_equal(pol, t->policy);
        assert_int_equal(X509_check_ca(x), 0);
        assert_int_equal(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0), 1);
        /* no extension twice */
        for (int i = 0; i < X509_get_ext_count(x); i++) {
                int nid = OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(x, i)));
                assert_int_equal(X509_get_ext_by_NID(x, nid, i), -1);
        }
        assert_int_equal(X509_verify(x, c.issuing_key), 1);
        assert_verifies(c.root, c.issuing, x);
        X509_free(x);
        EVP_PKEY_free(k);
        free_chain(&c);
}

static void test_ee_sm2_chain(void **state)
{
        (void)state;
        struct chain c;
        make_chain(&c, "sm2", "sm2");
        EVP_PKEY *k = keygen("sm2");
        struct ee_params p = ee_base(&c, k, PROFILE_PRIVATE);
        X509 *x = NULL;
        struct qerr_info ei;
        assert_int_equal(pki_issue_ee(c.issuing, c.issuing_key, &p, &x, &ei), QERR_OK);
        assert_int_equal(X509_get_signature_nid(x), NID_SM2_with_SM3);
        int crit;
        assert_int_equal(key_usage(x, &crit), BIT_DIGITAL_SIGNATURE);
        assert_verifies(c.root, c.issuing, x);
        X509_free(x);
        EVP_PKEY_free(k);
        free_chain(&c);
}

static void test_ee_long_first_name(void **state)
{
        struct chain *c = *state;
        EVP_PKEY *k = keygen("ec256");
        /* 65 octets: longer than ub-common-name */
        static const char *const names[] = {
            "a2345678901234567890123456789012345678901234567890123.example.com", "b.example.com"};
        assert_int_equal(strlen(names[0]), 65);
        struct ee_params p = ee_base(c, k, PROFILE_DV);
        p.names = names;
        p.nnames = 2;
        X509 *x = NULL;
        struct qerr_info ei;
        assert_int_equal(pki_issue_ee(c->issuing, c->issuing_key, &p, &x, &ei), QERR_OK);
        assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
        int crit;
        char sans[300];
        san_text(x, &crit, sans, sizeof sans);
        assert_int_equal(crit, 1); /* RFC 5280 4.2.1.6: empty subject, critical SAN */
        assert_verifies(c->root, c->issuing, x);
        X509_free(x);
        EVP_PKEY_free(k);
}

static void test_ee_without_urls(void **state)
{
        struct chain *c = *state;
        EVP_PKEY *k = keygen("ec256");
        struct ee_params p = ee_base(c, k, PROFILE_PRIVATE);
        p.crl_url = NULL;
        p.ocsp_url = "";
        p.ca_issuers_url = NULL;
        X509 *x = NULL;
        struct qerr_info ei;
        assert_int_equal(pki_issue_ee(c->issuing, c->issuing_key, &p, &x, &ei), QERR_OK);
        assert_false(has_ext(x, NID_crl_distribution_points));
        assert_false(has_ext(x, NID_info_access));
        X509_free(x);
        /* only caIssuers */
        p.ca_issuers_url = EE_CAI;
        assert_int_equal(pki_issue_ee(c->issuing, c->issuing_key, &p, &x, &ei), QERR_OK);
        assert_aia(x, NULL, EE_CAI);
        X509_free(x);
        EVP_PKEY_free(k);
}

static void test_ee_refusals(void **state)
{
        struct chain *c = *state;
        EVP_PKEY *k = keygen("ec256");
        struct qerr_info ei;
        uint8_t s21[21], neg[16];
        memset(s21, 0x11, sizeof s21);
        memcpy(neg, SERIAL, sizeof neg);
        neg[0] = 0x81;
        for (int row = 0; row < 8; row++) {
                struct ee_params p = ee_base(c, k, PROFILE_DV);
                switch (row) {
                case 0:
                        p.nnames = 0;
                        break;
                case 1:
                        p.serial_len = 0;
                        break;
                case 2:
                        p.serial = s21;
                        p.serial_len = sizeof s21;
                        break;
                case 3:
                        p.serial = neg;
                        break;
                case 4:
                        p.crl_url = "ftp://example.com/x.crl";
                        break;
                case 5:
                        p.crl_url = "http://x/a.crl,URI:http://evil/";
                        break;
                case 6:
                        p.ocsp_url = "http://x/ocsp\nextra";
                        break;
                case 7:
                        p.ca_issuers_url = "http://x/ca.der, URI:http://evil";
                        break;
                }
                X509 *x = NULL;
                enum qerr rc = pki_issue_ee(c->issuing, c->issuing_key, &p, &x, &ei);
                if (rc != QERR_INTERNAL)
                        fail_msg("row %d: %s", row, qerr_code(rc));
                assert_null(x);
        }
        assert_int_equal(ERR_peek_error(), 0);
        EVP_PKEY_free(k);
}

/* ---- CRLs ---- */

static void test_crl_with_entries(void **state)
{
        struct chain *c = *state;
        static const uint8_t s1[] = {0x41, 0x01}, s2[] = {0x00, 0x7f, 0x02}, s3[] = {0x7f, 0x03};
        const struct crl_item items[] = {
            {s3, sizeof s3, c->now - 300, 4}, /* superseded */
            {s1, sizeof s1, c->now - 100, 0}, /* unspecified: no reasonCode */
            {s2, sizeof s2, c->now - 200, 1}, /* keyCompromise */
        };
        X509_CRL *crl = NULL;
        struct qerr_info ei;
        assert_int_equal(pki_issue_crl(c->issuing, c->issuing_key, 42, c->now, c->now + 7 * DAY,
                                       items, 3, &crl, &ei),
                         QERR_OK);
        assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
        assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(c->issuing)),
                         0);
        assert_int_equal(pki_time_to_unix(X509_CRL_get0_lastUpdate(crl)), c->now);
        assert_int_equal(pki_time_to_unix(X509_CRL_get0_nextUpdate(crl)), c->now + 7 * DAY);
        assert_int_equal(X509_CRL_verify(crl, c->issuing_key), 1);
        assert_int_equal(X509_CRL_verify(crl, c->root_key), 0);
        int crit;
        ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
        assert_non_null(num);
        assert_int_equal(crit, 0);
        assert_int_equal(ASN1_INTEGER_get(num), 42);
        ASN1_INTEGER_free(num);
        AUTHORITY_KEYID *aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit, NULL);
        assert_non_null(aki);
        assert_int_equal(ASN1_OCTET_STRING_cmp(aki->keyid, X509_get0_subject_key_id(c->issuing)),
                         0);
        AUTHORITY_KEYID_free(aki);

        STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
        assert_int_equal(sk_X509_REVOKED_num(rev), 3);
        /* each entry: its serial (as an integer: leading zeros dropped),
         * revocation time and reason */
        static const struct {
                long serial;
                int64_t ago;
                int reason; /* -1: no extension */
        } want[] = {{0x4101, 100, -1}, {0x7f02, 200, 1}, {0x7f03, 300, 4}};
        for (size_t w = 0; w < 3; w++) {
                X509_REVOKED *r = NULL;
                for (int i = 0; i < 3 && !r; i++) {
                        X509_REVOKED *e = sk_X509_REVOKED_value(rev, i);
                        if (ASN1_INTEGER_get(X509_REVOKED_get0_serialNumber(e)) == want[w].serial)
                                r = e;
                }
                assert_non_null(r);
                assert_int_equal(pki_time_to_unix(X509_REVOKED_get0_revocationDate(r)),
                                 c->now - want[w].ago);
                ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);
                if (want[w].reason < 0) {
                        assert_null(reason);
                } else {
                        assert_non_null(reason);
                        assert_int_equal(ASN1_ENUMERATED_get(reason), want[w].reason);
                        ASN1_ENUMERATED_free(reason);
                }
        }
        X509_CRL_free(crl);
}

static void test_crl_empty_and_sm2(void **state)
{
        struct chain *c = *state;
        X509_CRL *crl = NULL;
        struct qerr_info ei;
        assert_int_equal(
            pki_issue_crl(c->root, c->root_key, 1, c->now, c->now + DAY, NULL, 0, &crl, &ei),
            QERR_OK);
        assert_true(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) <= 0); /* none */
        ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
        assert_int_equal(ASN1_INTEGER_get(num), 1);
        ASN1_INTEGER_free(num);
        assert_int_equal(X509_CRL_verify(crl, c->root_key), 1);
        X509_CRL_free(crl);

        struct chain s;
        make_chain(&s, "sm2", "sm2");
        static const uint8_t s1[] = {0x41, 0x01};
        const struct crl_item items[] = {{s1, sizeof s1, s.now - 10, 5}};
        assert_int_equal(
            pki_issue_crl(s.issuing, s.issuing_key, 7, s.now, s.now + DAY, items, 1, &crl, &ei),
            QERR_OK);
        assert_int_equal(X509_CRL_get_signature_nid(crl), NID_SM2_with_SM3);
        assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 1);
        X509_CRL_free(crl);
        free_chain(&s);
}

int main(void)
{
        const size_t nrows = sizeof ee_cases / sizeof ee_cases[0];
        const struct CMUnitTest singles[] = {
            cmocka_unit_test_setup_teardown(test_root_profile, setup_ec, teardown),
            cmocka_unit_test_setup_teardown(test_issuing_profile, setup_ec, teardown),
            cmocka_unit_test_setup_teardown(test_ca_refusals, setup_ec, teardown),
            cmocka_unit_test(test_parse_dn),
            cmocka_unit_test(test_ee_sm2_chain),
            cmocka_unit_test_setup_teardown(test_ee_long_first_name, setup_ec, teardown),
            cmocka_unit_test_setup_teardown(test_ee_without_urls, setup_ec, teardown),
            cmocka_unit_test_setup_teardown(test_ee_refusals, setup_ec, teardown),
            cmocka_unit_test_setup_teardown(test_crl_with_entries, setup_ec, teardown),
            cmocka_unit_test_setup_teardown(test_crl_empty_and_sm2, setup_ec, teardown),
        };
        const size_t nsingles = sizeof singles / sizeof singles[0];
        struct CMUnitTest *tests = calloc(nrows + nsingles, sizeof *tests);
        if (!tests)
                return 1;
        for (size_t i = 0; i < nrows; i++) {
                tests[i].name = ee_cases[i].label;
                tests[i].test_func = test_ee_row;
                tests[i].initial_state = (void *)&ee_cases[i];
        }
        for (size_t i = 0; i < nsingles; i++)
                tests[nrows + i] = singles[i];
        int failed = _cmocka_run_group_tests("pki_issue", tests, nrows + nsingles, NULL, NULL);
        free(tests);
        return failed;
}
