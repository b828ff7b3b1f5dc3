/*
 * test_lint.c - unit tests for the linter (src/pki/lint*.c) and the lint
 * gate of pki_issue.c.
 *
 * Certificates: a table of cases, each a certificate built with OpenSSL's
 * APIs from a good base (a DV subscriber, an issuing CA or a root, with the
 * extensions quill writes) plus one defect, and the check that must catch
 * it (or none, for the good ones). CRLs and BasicOCSPResponses the same
 * way. Then the gate (a defective to-be-signed certificate or CRL is never
 * signed by the real key) and bad input (truncated, garbage, not a
 * certificate).
 *
 * Keys and a test CA (root P-384 -> issuing P-256) are made once in the
 * group setup. Single-threaded; no files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pki/lint.h"
#include "pki/pki_issue.h"
#include "pki/pki_key.h"

/* the tables below leave the fields a case does not need at zero */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

struct fx {
        EVP_PKEY *root_key, *ca_key, *ec256, *ec384, *rsa2048, *rsa1024, *rsa_e3, *k1, *ed25519,
            *sm2;
        X509 *root, *ca;
        unsigned char *ca_der;
        int ca_len;
};
static struct fx F;

static EVP_PKEY *rsa_with_e(unsigned bits, unsigned long e)
{
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
        BIGNUM *bn = BN_new();
        EVP_PKEY *k = NULL;
        assert_non_null(c);
        BN_set_word(bn, e);
        assert_int_equal(EVP_PKEY_keygen_init(c), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(c, (int)bits), 1);
        assert_int_equal(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(c, bn), 1);
        assert_int_equal(EVP_PKEY_generate(c, &k), 1);
        BN_free(bn);
        EVP_PKEY_CTX_free(c);
        return k;
}

static void add(X509 *x, X509 *issuer, const char *name, const char *value)
{
        X509V3_CTX v3;
        /* certificatePolicies (an r2i method) wants a config database, even
         * an empty one */
        CONF *conf = NCONF_new(NULL);
        X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
        X509V3_set_nconf(&v3, conf);
        X509_EXTENSION *e = X509V3_EXT_nconf(conf, &v3, name, value);
        NCONF_free(conf);
        if (!e)
                fail_msg("extension %s=%s does not build", name, value);
        assert_int_equal(X509_add_ext(x, e, -1), 1);
        X509_EXTENSION_free(e);
}

static void sign_with(X509 *x, EVP_PKEY *key, const char *md)
{
        EVP_MD_CTX *ctx;
        if (!md) {
                ctx = pki_sign_ctx(key);
                assert_non_null(ctx);
        } else {
                ctx = EVP_MD_CTX_new();
                assert_int_equal(EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, key, NULL), 1);
        }
        assert_true(X509_sign_ctx(x, ctx) > 0);
        EVP_MD_CTX_free(ctx);
}

/* ---- the certificate table ---- */

enum kind { SUB, ISSUING, ROOT };

struct cc {
        const char *label;
        const char *want; /* a finding id that must be there; NULL: no error at all */
        enum cert_profile profile;
        enum kind kind;
        const char *key;     /* subject key: NULL ec256, or a name below */
        const char *md;      /* NULL: the signing key's usual one */
        const char *serial;  /* hex, "-" prefix negative; NULL: 16 random-looking bytes */
        long days;           /* 0: 90 (subscribers), 3650 (CAs); <0: notAfter before notBefore */
        const char *subject; /* NULL: CN=www.example.com (subscribers) */
        const char *ext[6];  /* "name=value" replaces, "name" removes, "+name=value" adds */
        int twist;           /* a post-build defect, see twist() */
        bool force_subscriber;
};

enum { T_NONE, T_GENTIME, T_SIGALG, T_LONG_LENGTH, T_V1, T_RSA_NOPARAM, T_SIGN_P384 };

/* Writes a minimal DER length, or the long form 0x81 n when `long_form`. */
static size_t put_len(uint8_t *out, size_t n, bool long_form)
{
        if (n < 0x80 && !long_form) {
                out[0] = (uint8_t)n;
                return 1;
        }
        if (n < 0x100) {
                out[0] = 0x81;
                out[1] = (uint8_t)n;
                return 2;
        }
        out[0] = 0x82;
        out[1] = (uint8_t)(n >> 8);
        out[2] = (uint8_t)n;
        return 3;
}

/* Re-encodes the DER in [p, p+len) (constructed values walked, lengths
 * recomputed) but writes the length of the TLV that starts at
 * base + target in the non-minimal long form: a BER encoding that OpenSSL
 * still parses. Returns the bytes written to out. */
static size_t reencode(const uint8_t *p, size_t len, const uint8_t *base, size_t target,
                       uint8_t *out)
{
        size_t o = 0;
        for (size_t i = 0; i < len;) {
                uint8_t tag = p[i];
                size_t l = p[i + 1], h = 2;
                if (l & 0x80) {
                        size_t nb = l & 0x7f;
                        l = 0;
                        for (size_t k = 0; k < nb; k++)
                                l = (l << 8) | p[i + 2 + k];
                        h += nb;
                }
                bool forced = (size_t)(p + i - base) == target;
                uint8_t tmp[8192];
                size_t cl = l;
                const uint8_t *content = p + i + h;
                if (tag & 0x20) {
                        cl = reencode(content, l, base, target, tmp);
                        content = tmp;
                }
                out[o++] = tag;
                o += put_len(out + o, cl, forced);
                memcpy(out + o, content, cl);
                o += cl;
                i += h + l;
        }
        return o;
}

static const char *const sub_base[][2] = {
    {"basicConstraints", "critical,CA:FALSE"},
    {"keyUsage", "critical,digitalSignature"},
    {"extendedKeyUsage", "serverAuth"},
    {"subjectKeyIdentifier", "hash"},
    {"authorityKeyIdentifier", "keyid:always"},
    {"subjectAltName", "DNS:www.example.com"},
    {"crlDistributionPoints", "URI:http://ca.example.com/crl/1.crl"},
    {"authorityInfoAccess",
     "OCSP;URI:http://ca.example.com/ocsp,caIssuers;URI:http://ca.example.com/ca/1.der"},
    {"certificatePolicies", "2.23.140.1.2.1"},
};
static const char *const ca_base[][2] = {
    {"basicConstraints", "critical,CA:TRUE,pathlen:0"},
    {"keyUsage", "critical,digitalSignature,keyCertSign,cRLSign"},
    {"extendedKeyUsage", "serverAuth"},
    {"subjectKeyIdentifier", "hash"},
    {"authorityKeyIdentifier", "keyid:always"},
    {"crlDistributionPoints", "URI:http://ca.example.com/crl/0.crl"},
    {"authorityInfoAccess", "caIssuers;URI:http://ca.example.com/ca/0.der"},
    {"certificatePolicies", "2.5.29.32.0"},
};
static const char *const root_base[][2] = {
    {"basicConstraints", "critical,CA:TRUE"},
    {"keyUsage", "critical,keyCertSign,cRLSign"},
    {"subjectKeyIdentifier", "hash"},
};

#define LONG_LABEL "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 64 */
#define L63 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const struct cc cases[] = {
    /* good ones: quill's own shapes */
    {"good dv", NULL, PROFILE_DV, SUB, .ext = {0}},
    {"good private with an IP", NULL, PROFILE_PRIVATE, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,IP:10.0.0.1", "certificatePolicies"}},
    {"good ov", NULL, PROFILE_OV, SUB,
     .subject = "C=DE,ST=Berlin,L=Berlin,O=Acme,CN=www.example.com",
     .ext = {"certificatePolicies=2.23.140.1.2.2"}},
    {"good rsa", NULL, PROFILE_DV, SUB, .key = "rsa2048",
     .ext = {"keyUsage=critical,digitalSignature,keyEncipherment"}},
    {"good wildcard and A-label", NULL, PROFILE_DV, SUB,
     .subject = "CN=*.xn--bcher-kva.example.com",
     .ext = {"subjectAltName=DNS:*.xn--bcher-kva.example.com"}},
    {"good issuing CA", NULL, PROFILE_DV, ISSUING},
    {"good root", NULL, PROFILE_PRIVATE, ROOT},
    {"good sm2 private", NULL, PROFILE_PRIVATE, SUB, .key = "sm2", .ext = {"certificatePolicies"}},
    /* structure */
    {"DER: a length in long form", "e_cert_der_encoding", PROFILE_DV, SUB, .twist = T_LONG_LENGTH},
    {"version 1", "e_cert_version_3", PROFILE_DV, SUB, .twist = T_V1},
    {"duplicate SAN", "e_ext_duplicate", PROFILE_DV, SUB,
     .ext = {"+subjectAltName=DNS:www.example.com"}},
    {"unknown critical", "e_ext_unknown_critical", PROFILE_DV, SUB,
     .ext = {"+1.2.3.4=critical,DER:0500"}},
    {"undecodable keyUsage", "e_ext_malformed", PROFILE_DV, SUB,
     .ext = {"keyUsage", "+2.5.29.15=critical,DER:0500"}},
    {"extension outside the BR profile", "w_ext_not_in_profile", PROFILE_DV, SUB,
     .ext = {"+1.2.3.4=DER:0500"}},
    /* serial */
    {"negative serial", "e_serial_positive", PROFILE_DV, SUB, .serial = "-0102030405060708090a"},
    {"serial of 21 octets", "e_serial_too_long", PROFILE_DV, SUB,
     .serial = "7f0102030405060708090a0b0c0d0e0f1011121314"},
    {"serial of 2 octets", "e_serial_too_short", PROFILE_DV, SUB, .serial = "0102"},
    /* signature */
    {"SHA-1", "e_sig_sha1", PROFILE_DV, SUB, .md = "SHA1"},
    {"ecdsa-with-SHA512", "e_sig_alg_not_allowed", PROFILE_DV, SUB, .md = "SHA512"},
    {"P-384 signature under a P-256 issuer", "e_sig_alg_issuer_key", PROFILE_DV, SUB,
     .twist = T_SIGN_P384},
    {"outer and inner algorithms differ", "e_sig_alg_mismatch", PROFILE_DV, SUB, .twist = T_SIGALG},
    /* validity */
    {"notAfter before notBefore", "e_validity_order", PROFILE_DV, SUB, .days = -1},
    {"GeneralizedTime before 2050", "e_validity_time_encoding", PROFILE_DV, SUB,
     .twist = T_GENTIME},
    {"1000 days DV", "e_validity_too_long", PROFILE_DV, SUB, .days = 1000},
    {"400 days private (365 allowed)", "e_validity_too_long", PROFILE_PRIVATE, SUB, .days = 400,
     .ext = {"certificatePolicies"}},
    /* keys */
    {"Ed25519 key", "e_spki_algorithm", PROFILE_DV, SUB, .key = "ed25519"},
    {"RSA 1024", "e_rsa_key_size", PROFILE_DV, SUB, .key = "rsa1024",
     .ext = {"keyUsage=critical,digitalSignature,keyEncipherment"}},
    {"RSA exponent 3", "e_rsa_exponent", PROFILE_DV, SUB, .key = "rsa_e3",
     .ext = {"keyUsage=critical,digitalSignature,keyEncipherment"}},
    {"RSA key without NULL parameters", "e_rsa_spki_params", PROFILE_DV, SUB, .key = "rsa2048",
     .twist = T_RSA_NOPARAM, .ext = {"keyUsage=critical,digitalSignature,keyEncipherment"}},
    {"secp256k1 key", "e_ec_curve", PROFILE_DV, SUB, .key = "k1"},
    {"SM2 key in DV", "e_sm2_private_only", PROFILE_DV, SUB, .key = "sm2"},
    /* SAN and names */
    {"no SAN", "e_san_missing", PROFILE_DV, SUB, .ext = {"subjectAltName"}},
    {"empty SAN", "e_san_empty", PROFILE_DV, SUB, .ext = {"subjectAltName=DER:3000"}},
    {"critical SAN with a subject", "e_san_criticality", PROFILE_DV, SUB,
     .ext = {"subjectAltName=critical,DNS:www.example.com"}},
    {"SAN with an email", "e_san_type", PROFILE_DV, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,email:a@example.com"}},
    {"empty label", "e_dnsname_empty_label", PROFILE_PRIVATE, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,DNS:a..example.com", "certificatePolicies"}},
    {"trailing dot", "e_dnsname_empty_label", PROFILE_DV, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,DNS:a.example.com."}},
    {"underscore", "e_dnsname_underscore", PROFILE_PRIVATE, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,DNS:a_b.example.com", "certificatePolicies"}},
    {"bad character", "e_dnsname_bad_character", PROFILE_DV, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,DNS:a!b.example.com"}},
    {"leading hyphen", "e_dnsname_hyphen", PROFILE_DV, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,DNS:-a.example.com"}},
    {"64-octet label", "e_dnsname_label_too_long", PROFILE_DV, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,DNS:" LONG_LABEL ".example.com"}},
    {"254-octet name", "e_dnsname_too_long", PROFILE_DV, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,DNS:" L63 "." L63 "." L63 "." L63 ".com"}},
    {"wildcard inside", "e_dnsname_wildcard", PROFILE_DV, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,DNS:www.*.example.com"}},
    {"partial wildcard", "e_dnsname_wildcard", PROFILE_DV, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,DNS:w*.example.com"}},
    {"reserved LDH label", "e_dnsname_alabel", PROFILE_DV, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,DNS:ab--cd.example.com"}},
    {"bad punycode", "e_dnsname_alabel", PROFILE_DV, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,DNS:xn--99999999999.example.com"}},
    {"internal name (.test)", "e_dnsname_internal", PROFILE_DV, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,DNS:www.example.test"}},
    {"internal name (.internal) in OV", "e_dnsname_internal", PROFILE_OV, SUB,
     .subject = "C=DE,L=Berlin,O=Acme,CN=www.example.com",
     .ext = {"subjectAltName=DNS:www.example.com,DNS:corp.internal",
             "certificatePolicies=2.23.140.1.2.2"}},
    {"wildcard over a public suffix", "e_dnsname_public_suffix", PROFILE_DV, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,DNS:*.co.uk"}},
    {"IP of 5 octets", "e_ip_length", PROFILE_PRIVATE, SUB,
     .ext = {"subjectAltName=DER:3018820f7777772e6578616d706c652e636f6d87050a00000102",
             "certificatePolicies"}},
    {"reserved IP in DV", "e_ip_reserved", PROFILE_DV, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,IP:192.168.1.1"}},
    {"reserved IPv6 in DV", "e_ip_reserved", PROFILE_DV, SUB,
     .ext = {"subjectAltName=DNS:www.example.com,IP:fd00::1"}},
    /* subject */
    {"two CNs", "e_cn_multiple", PROFILE_DV, SUB,
     .subject = "CN=www.example.com,CN=www.example.com"},
    {"CN not in SAN", "e_cn_not_in_san", PROFILE_DV, SUB, .subject = "CN=other.example.com"},
    {"DV with O", "e_subject_dv", PROFILE_DV, SUB, .subject = "O=Acme,CN=www.example.com"},
    {"OV without locality", "e_subject_ov", PROFILE_OV, SUB,
     .subject = "C=DE,O=Acme,CN=www.example.com", .ext = {"certificatePolicies=2.23.140.1.2.2"}},
    {"OV with OU", "e_subject_ou", PROFILE_OV, SUB,
     .subject = "C=DE,L=Berlin,O=Acme,OU=IT,CN=www.example.com",
     .ext = {"certificatePolicies=2.23.140.1.2.2"}},
    {"EV without EV fields", "w_subject_ev", PROFILE_EV, SUB,
     .subject = "C=DE,L=Berlin,O=Acme,CN=www.example.com",
     .ext = {"certificatePolicies=2.23.140.1.1"}},
    /* basicConstraints, keyUsage, EKU */
    {"subscriber with CA:TRUE", "e_subscriber_ca", PROFILE_DV, SUB,
     .ext = {"basicConstraints=critical,CA:TRUE"}, .force_subscriber = true},
    {"CA basicConstraints not critical", "e_ca_basic_constraints", PROFILE_DV, ISSUING,
     .ext = {"basicConstraints=CA:TRUE"}},
    {"subscriber keyCertSign", "e_subscriber_key_usage", PROFILE_DV, SUB,
     .ext = {"keyUsage=critical,digitalSignature,keyCertSign"}},
    {"EC key with keyEncipherment", "e_subscriber_key_usage", PROFILE_DV, SUB,
     .ext = {"keyUsage=critical,digitalSignature,keyEncipherment"}},
    {"no keyUsage", "w_subscriber_key_usage_missing", PROFILE_DV, SUB, .ext = {"keyUsage"}},
    {"CA without cRLSign", "e_ca_key_usage", PROFILE_DV, ISSUING,
     .ext = {"keyUsage=critical,keyCertSign"}},
    {"no EKU", "e_eku_missing", PROFILE_DV, SUB, .ext = {"extendedKeyUsage"}},
    {"clientAuth only", "e_eku_server_auth", PROFILE_DV, SUB,
     .ext = {"extendedKeyUsage=clientAuth"}},
    {"anyExtendedKeyUsage", "e_eku_any", PROFILE_DV, SUB,
     .ext = {"extendedKeyUsage=serverAuth,anyExtendedKeyUsage"}},
    {"codeSigning in DV", "e_eku_other", PROFILE_DV, SUB,
     .ext = {"extendedKeyUsage=serverAuth,codeSigning"}},
    {"codeSigning in private", "w_eku_other", PROFILE_PRIVATE, SUB,
     .ext = {"extendedKeyUsage=serverAuth,codeSigning", "certificatePolicies"}},
    {"issuing CA without EKU", "e_ca_eku", PROFILE_DV, ISSUING, .ext = {"extendedKeyUsage"}},
    {"root with EKU", "e_root_eku", PROFILE_PRIVATE, ROOT, .ext = {"+extendedKeyUsage=serverAuth"}},
    /* key identifiers */
    {"no AKI", "e_aki_missing", PROFILE_DV, SUB, .ext = {"authorityKeyIdentifier"}},
    {"AKI of another key", "e_aki_issuer", PROFILE_DV, SUB,
     .ext = {"authorityKeyIdentifier=DER:30168014000102030405060708090a0b0c0d0e0f10111213"}},
    {"CA without SKI", "e_ski_missing", PROFILE_DV, ISSUING, .ext = {"subjectKeyIdentifier"}},
    {"subscriber without SKI", "w_ski_missing", PROFILE_DV, SUB, .ext = {"subjectKeyIdentifier"}},
    /* URLs */
    {"https CRL DP in DV", "e_crldp_http", PROFILE_DV, SUB,
     .ext = {"crlDistributionPoints=URI:https://ca.example.com/crl/1.crl"}},
    {"https CRL DP in private", "w_crldp_http", PROFILE_PRIVATE, SUB,
     .ext = {"crlDistributionPoints=URI:https://ca.example.com/crl/1.crl", "certificatePolicies"}},
    {"ldap AIA in DV", "e_aia_http", PROFILE_DV, SUB,
     .ext = {"authorityInfoAccess=caIssuers;URI:ldap://ca.example.com/ca"}},
    {"https AIA in private", "w_aia_http", PROFILE_PRIVATE, SUB,
     .ext = {"authorityInfoAccess=OCSP;URI:https://ca.example.com/ocsp", "certificatePolicies"}},
    /* policies */
    {"DV without policies", "e_policies_missing", PROFILE_DV, SUB, .ext = {"certificatePolicies"}},
    {"DV asserting OV", "e_policies_reserved", PROFILE_DV, SUB,
     .ext = {"certificatePolicies=2.23.140.1.2.2"}},
    {"subscriber anyPolicy", "e_policies_any", PROFILE_DV, SUB,
     .ext = {"certificatePolicies=2.23.140.1.2.1,2.5.29.32.0"}},
    {"private asserting DV", "e_policies_private", PROFILE_PRIVATE, SUB},
    {"issuing CA without policies", "e_ca_policies", PROFILE_DV, ISSUING,
     .ext = {"certificatePolicies"}},
    {"issuing CA anyPolicy plus another", "e_ca_policies", PROFILE_DV, ISSUING,
     .ext = {"certificatePolicies=2.5.29.32.0,2.23.140.1.2.1"}},
    {"root with policies", "w_root_policies", PROFILE_PRIVATE, ROOT,
     .ext = {"+certificatePolicies=2.5.29.32.0"}},
};

static EVP_PKEY *key_named(const char *k)
{
        if (!k || !strcmp(k, "ec256"))
                return F.ec256;
        if (!strcmp(k, "rsa2048"))
                return F.rsa2048;
        if (!strcmp(k, "rsa1024"))
                return F.rsa1024;
        if (!strcmp(k, "rsa_e3"))
                return F.rsa_e3;
        if (!strcmp(k, "k1"))
                return F.k1;
        if (!strcmp(k, "ed25519"))
                return F.ed25519;
        if (!strcmp(k, "sm2"))
                return F.sm2;
        fail_msg("no key %s", k);
        return NULL;
}

static void set_serial(X509 *x, const char *hex)
{
        BIGNUM *bn = NULL;
        bool neg = hex[0] == '-';
        assert_true(BN_hex2bn(&bn, hex + neg) > 0);
        BN_set_negative(bn, neg);
        ASN1_INTEGER *ai = BN_to_ASN1_INTEGER(bn, NULL);
        assert_non_null(ai);
        X509_set_serialNumber(x, ai);
        ASN1_INTEGER_free(ai);
        BN_free(bn);
}

/* The value an override gives `name` (NULL: removed), or `dflt`. */
static const char * override(const struct cc *c, const char *name, const char *dflt)
{
        size_t n = strlen(name);
        for (size_t i = 0; i < 6 && c->ext[i]; i++) {
                const char *e = c->ext[i];
                if (e[0] == '+' || strncmp(e, name, n) != 0)
                        continue;
                if (e[n] == 0)
                        return NULL;
                if (e[n] == '=')
                        return e + n + 1;
        }
        return dflt;
}

/* Builds the case's certificate and returns its DER (caller frees). */
static unsigned char *build(const struct cc *c, int *len)
{
        X509 *x = X509_new();
        EVP_PKEY *key = c->kind == ROOT ? F.ec384 : key_named(c->key);
        X509 *issuer = c->kind == ROOT ? x : c->kind == ISSUING ? F.root : F.ca;
        EVP_PKEY *ikey = c->kind == ROOT ? F.ec384 : c->kind == ISSUING ? F.root_key : F.ca_key;
        assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
        set_serial(x, c->serial ? c->serial : "4a5b6c7d8e9f0a1b2c3d4e5f60718293");
        long days = c->days ? c->days : c->kind == SUB ? 90 : 3650;
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        if (days < 0)
                X509_gmtime_adj(X509_getm_notAfter(x), -3600);
        else
                X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L - 1);
        const char *subj = c->subject           ? c->subject
                           : c->kind == ROOT    ? "CN=Lint Root"
                           : c->kind == ISSUING ? "CN=Lint Issuing"
                                                : "CN=www.example.com";
        X509_NAME *nm = pki_parse_dn(subj);
        assert_non_null(nm);
        X509_set_subject_name(x, nm);
        X509_NAME_free(nm);
        X509_set_issuer_name(x, X509_get_subject_name(issuer));
        assert_int_equal(X509_set_pubkey(x, key), 1);
        if (c->twist == T_RSA_NOPARAM) {
                X509_ALGOR *alg = NULL;
                X509_PUBKEY_get0_param(NULL, NULL, NULL, &alg, X509_get_X509_PUBKEY(x));
                X509_ALGOR_set0(alg, OBJ_nid2obj(NID_rsaEncryption), V_ASN1_UNDEF, NULL);
        }
        const char *const(*base)[2] = c->kind == SUB       ? sub_base
                                      : c->kind == ISSUING ? ca_base
                                                           : root_base;
        size_t nbase = c->kind == SUB       ? sizeof sub_base / sizeof sub_base[0]
                       : c->kind == ISSUING ? sizeof ca_base / sizeof ca_base[0]
                                            : sizeof root_base / sizeof root_base[0];
        for (size_t i = 0; i < nbase; i++) {
                const char *v = override(c, base[i][0], base[i][1]);
                if (v)
                        add(x, issuer, base[i][0], v);
        }
        for (size_t i = 0; i < 6 && c->ext[i]; i++) {
                if (c->ext[i][0] != '+')
                        continue;
                char name[64];
                const char *eq = strchr(c->ext[i], '=');
                snprintf(name, sizeof name, "%.*s", (int)(eq - c->ext[i] - 1), c->ext[i] + 1);
                add(x, issuer, name, eq + 1);
        }
        if (c->twist == T_V1)
                X509_set_version(x, X509_VERSION_1);
        if (c->twist == T_GENTIME) {
                ASN1_TIME *t = ASN1_GENERALIZEDTIME_adj(NULL, time(NULL), 30, 0);
                X509_set1_notAfter(x, t);
                ASN1_TIME_free(t);
        }
        sign_with(x, c->twist == T_SIGN_P384 ? F.ec384 : ikey, c->md);
        if (c->twist == T_SIGALG) {
                const X509_ALGOR *outer = NULL;
                X509_get0_signature(NULL, &outer, x);
                X509_ALGOR_set0((X509_ALGOR *)outer, OBJ_nid2obj(NID_ecdsa_with_SHA384),
                                V_ASN1_UNDEF, NULL);
        }
        unsigned char *der = NULL;
        *len = i2d_X509(x, &der);
        assert_true(*len > 0);
        if (c->twist == T_LONG_LENGTH) {
                /* the subjectKeyIdentifier's extnValue: 06 03 55 1d 0e 04 16 */
                static const unsigned char pat[] = {0x55, 0x1d, 0x0e, 0x04, 0x16};
                unsigned char *p = memmem(der, (size_t)*len, pat, sizeof pat);
                assert_non_null(p);
                unsigned char *out = malloc((size_t)*len + 16);
                size_t n = reencode(der, (size_t)*len, der, (size_t)(p + 3 - der), out);
                OPENSSL_free(der);
                der = OPENSSL_malloc(n);
                memcpy(der, out, n);
                free(out);
                *len = (int)n;
        }
        X509_free(x);
        return der;
}

static void dump(const struct lint_report *r)
{
        for (size_t i = 0; i < r->n; i++)
                print_message("    %s %s: %s\n", lint_severity_name(r->items[i].severity),
                              r->items[i].id, r->items[i].message);
}

static bool has(const struct lint_report *r, const char *id)
{
        for (size_t i = 0; i < r->n; i++)
                if (!strcmp(r->items[i].id, id))
                        return true;
        return false;
}

static void test_cert_table(void **state)
{
        (void)state;
        size_t failed = 0;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const struct cc *c = &cases[i];
                int len = 0;
                unsigned char *der = build(c, &len);
                struct lint_cert_opts o = {
                    .profile = c->profile,
                    .role = c->force_subscriber ? LINT_ROLE_SUBSCRIBER : LINT_ROLE_AUTO,
                    .private_max_days = 365,
                    .issuer_der = c->kind == SUB ? F.ca_der : NULL,
                    .issuer_len = c->kind == SUB ? (size_t)F.ca_len : 0,
                };
                struct lint_report r;
                lint_report_init(&r);
                struct qerr_info ei;
                assert_int_equal(lint_cert_der(der, (size_t)len, &o, &r, NULL, &ei), QERR_OK);
                bool ok = c->want ? has(&r, c->want) : r.errors == 0;
                if (!ok) {
                        failed++;
                        print_message("case '%s': expected %s, found:\n", c->label,
                                      c->want ? c->want : "no error");
                        dump(&r);
                }
                lint_report_free(&r);
                OPENSSL_free(der);
        }
        assert_int_equal(failed, 0);
}

/* Every check id of the table appears in some test of this file or of
 * tests/system/test_lint.py; here: the certificate checks of the table
 * each have a case. (The OCSP responder certificate checks have theirs in
 * test_signer_ocsp.c, test_lint_responder_defects.) */
static void test_every_cert_check_has_a_case(void **state)
{
        (void)state;
        size_t n;
        const struct lint_check *t = lint_checks(&n);
        assert_int_equal(n, LC__COUNT);
        for (size_t i = 0; i < n; i++) {
                if (strcmp(t[i].applies, LINT_CRL) == 0 || strcmp(t[i].applies, LINT_OCSP) == 0 ||
                    strcmp(t[i].applies, LINT_RESP) == 0)
                        continue;
                bool found = false;
                for (size_t k = 0; k < sizeof cases / sizeof cases[0] && !found; k++)
                        found = cases[k].want && !strcmp(cases[k].want, t[i].id);
                if (!found)
                        fail_msg("no defective certificate for %s", t[i].id);
                /* the prefix is the severity */
                char want = t[i].severity == LINT_ERROR     ? 'e'
                            : t[i].severity == LINT_WARNING ? 'w'
                                                            : 'n';
                assert_int_equal(t[i].id[0], want);
        }
}

/* ---- the profile guess ---- */

static void test_guess_profile(void **state)
{
        (void)state;
        static const struct {
                const char *policies;
                enum cert_profile want;
        } g[] = {{"2.23.140.1.2.1", PROFILE_DV},
                 {"2.23.140.1.2.2", PROFILE_OV},
                 {"2.23.140.1.1", PROFILE_EV},
                 {NULL, PROFILE_PRIVATE}};
        for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
                struct cc c = {"guess", NULL, PROFILE_DV, SUB,
                               .subject = "C=DE,L=B,O=Acme,CN=www.example.com"};
                char pol[80];
                snprintf(pol, sizeof pol, "certificatePolicies%s%s", g[i].policies ? "=" : "",
                         g[i].policies ? g[i].policies : "");
                c.ext[0] = pol;
                int len;
                unsigned char *der = build(&c, &len);
                struct lint_cert_opts o = {.guess_profile = true, .private_max_days = 365};
                struct lint_report r;
                lint_report_init(&r);
                enum cert_profile used = PROFILE__COUNT;
                struct qerr_info ei;
                assert_int_equal(lint_cert_der(der, (size_t)len, &o, &r, &used, &ei), QERR_OK);
                assert_int_equal(used, g[i].want);
                lint_report_free(&r);
                OPENSSL_free(der);
        }
}

/* ---- bad input ---- */

static void test_bad_input(void **state)
{
        (void)state;
        struct cc c = {"good", NULL, PROFILE_DV, SUB};
        int len;
        unsigned char *der = build(&c, &len);
        struct lint_cert_opts o = {.guess_profile = true};
        struct lint_report r;
        lint_report_init(&r);
        struct qerr_info ei;
        /* truncated at every length: refused, never a crash */
        for (int cut = 0; cut < len; cut += 7)
                assert_int_equal(lint_cert_der(der, (size_t)cut, &o, &r, NULL, &ei),
                                 QERR_PEM_INVALID);
        /* trailing bytes */
        unsigned char *longer = malloc((size_t)len + 2);
        memcpy(longer, der, (size_t)len);
        longer[len] = 0;
        longer[len + 1] = 0;
        assert_int_equal(lint_cert_der(longer, (size_t)len + 2, &o, &r, NULL, &ei),
                         QERR_PEM_INVALID);
        free(longer);
        assert_int_equal(lint_cert_input("garbage", 7, &o, &r, NULL, &ei), QERR_PEM_INVALID);
        const char *csr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE "
                          "REQUEST-----\n";
        assert_int_equal(lint_cert_input(csr, strlen(csr), &o, &r, NULL, &ei), QERR_PEM_INVALID);
        assert_non_null(strstr(qerr_message(&ei), "no CERTIFICATE"));
        const char *broken = "-----BEGIN CERTIFICATE-----\nMIIB!!!\n-----END CERTIFICATE-----\n";
        assert_int_equal(lint_cert_input(broken, strlen(broken), &o, &r, NULL, &ei),
                         QERR_PEM_INVALID);
        assert_int_equal(r.n, 0);
        /* PEM, after a key block: the certificate is found */
        BIO *b = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(b, F.ec256, NULL, NULL, 0, NULL, NULL);
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, len);
        PEM_write_bio_X509(b, x);
        char *text;
        long tl = BIO_get_mem_data(b, &text);
        assert_int_equal(lint_cert_input(text, (size_t)tl, &o, &r, NULL, &ei), QERR_OK);
        assert_int_equal(r.errors, 0);
        X509_free(x);
        BIO_free(b);
        lint_report_free(&r);
        OPENSSL_free(der);
}

/* A report keeps at most LINT_MAX_FINDINGS and still counts every error. */
static void test_report_bounded(void **state)
{
        (void)state;
        struct cc c = {"many", NULL, PROFILE_DV, SUB};
        char san[20000] = "subjectAltName=DNS:www.example.com";
        for (int i = 0; i < 300; i++) {
                size_t l = strlen(san);
                snprintf(san + l, sizeof san - l, ",DNS:a%d_b.example.com", i);
        }
        c.ext[0] = san;
        int len;
        unsigned char *der = build(&c, &len);
        struct lint_cert_opts o = {.profile = PROFILE_DV};
        struct lint_report r;
        lint_report_init(&r);
        struct qerr_info ei;
        assert_int_equal(lint_cert_der(der, (size_t)len, &o, &r, NULL, &ei), QERR_OK);
        assert_int_equal(r.n, LINT_MAX_FINDINGS);
        assert_true(r.dropped > 0);
        assert_true(r.errors >= 300);
        lint_report_free(&r);
        OPENSSL_free(der);
}

/* ---- CRLs ---- */

struct crlc {
        const char *label, *want;
        int reason;     /* -2: no entry; -1: an entry without reason; 0..10 explicit */
        long span;      /* seconds; 0: 7 days; -1: no nextUpdate */
        int64_t number; /* -1: no cRLNumber */
        int64_t prev;   /* lint_crl_opts.prev_number */
        bool no_aki, v1, sha1, other_issuer, negative_serial;
};

static const struct crlc crl_cases[] = {
    {"good", NULL, 1, 0, 5, 4},
    {"good, empty", NULL, -2, 0, 5, -1},
    {"SHA-1", "e_crl_sig_sha1", 1, 0, 5, -1, .sha1 = true},
    {"version 1", "e_crl_version_2", 1, 0, 5, -1, .v1 = true},
    {"no nextUpdate", "e_crl_next_update_missing", 1, -1, 5, -1},
    {"11 days", "e_crl_update_span", 1, 11 * 86400, 5, -1},
    {"no number", "e_crl_number_missing", 1, 0, -1, -1},
    {"number not increasing", "e_crl_number_increasing", 1, 0, 5, 5},
    {"number going back", "e_crl_number_increasing", 1, 0, 4, 5},
    {"no AKI", "e_crl_aki_missing", 1, 0, 5, -1, .no_aki = true},
    {"explicit unspecified", "e_crl_reason_unspecified", 0, 0, 5, -1},
    {"certificateHold", "e_crl_reason_certificate_hold", 6, 0, 5, -1},
    {"removeFromCRL", "e_crl_reason_remove_from_crl", 8, 0, 5, -1},
    {"reason 7", "e_crl_reason_not_allowed", 7, 0, 5, -1},
    {"another issuer", "e_crl_issuer", 1, 0, 5, -1, .other_issuer = true},
    {"negative entry serial", "e_crl_entry_serial", 1, 0, 5, -1, .negative_serial = true},
};

static unsigned char *build_crl(const struct crlc *c, int *len)
{
        X509_CRL *crl = X509_CRL_new();
        X509 *iss = c->other_issuer ? F.root : F.ca;
        X509_CRL_set_version(crl, c->v1 ? X509_CRL_VERSION_1 : X509_CRL_VERSION_2);
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(iss));
        time_t now = time(NULL);
        ASN1_TIME *t = ASN1_TIME_set(NULL, now);
        X509_CRL_set1_lastUpdate(crl, t);
        if (c->span >= 0) {
                ASN1_TIME_set(t, now + (c->span ? c->span : 7 * 86400));
                X509_CRL_set1_nextUpdate(crl, t);
        }
        if (c->reason >= -1) {
                X509_REVOKED *r = X509_REVOKED_new();
                BIGNUM *bn = NULL;
                BN_hex2bn(&bn, "4a5b6c7d8e9f0a1b2c3d4e5f60718293");
                BN_set_negative(bn, c->negative_serial);
                ASN1_INTEGER *sn = BN_to_ASN1_INTEGER(bn, NULL);
                X509_REVOKED_set_serialNumber(r, sn);
                ASN1_TIME_set(t, now - 60);
                X509_REVOKED_set_revocationDate(r, t);
                if (c->reason >= 0) {
                        ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
                        ASN1_ENUMERATED_set(e, c->reason);
                        X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0);
                        ASN1_ENUMERATED_free(e);
                }
                X509_CRL_add0_revoked(crl, r);
                ASN1_INTEGER_free(sn);
                BN_free(bn);
        }
        ASN1_TIME_free(t);
        if (c->number >= 0) {
                ASN1_INTEGER *n = ASN1_INTEGER_new();
                ASN1_INTEGER_set_int64(n, c->number);
                X509_CRL_add1_ext_i2d(crl, NID_crl_number, n, 0, 0);
                ASN1_INTEGER_free(n);
        }
        if (!c->no_aki) {
                X509V3_CTX v3;
                X509V3_set_ctx(&v3, iss, NULL, NULL, crl, 0);
                X509_EXTENSION *e =
                    X509V3_EXT_conf_nid(NULL, &v3, NID_authority_key_identifier, "keyid:always");
                X509_CRL_add_ext(crl, e, -1);
                X509_EXTENSION_free(e);
        }
        X509_CRL_sort(crl);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_DigestSignInit_ex(ctx, NULL, c->sha1 ? "SHA1" : "SHA256", NULL, NULL,
                              c->other_issuer ? F.root_key : F.ca_key, NULL);
        assert_true(X509_CRL_sign_ctx(crl, ctx) > 0);
        EVP_MD_CTX_free(ctx);
        unsigned char *der = NULL;
        *len = i2d_X509_CRL(crl, &der);
        X509_CRL_free(crl);
        return der;
}

static void test_crl_table(void **state)
{
        (void)state;
        size_t failed = 0;
        for (size_t i = 0; i < sizeof crl_cases / sizeof crl_cases[0]; i++) {
                const struct crlc *c = &crl_cases[i];
                int len;
                unsigned char *der = build_crl(c, &len);
                struct lint_crl_opts o = {
                    .prev_number = c->prev, .issuer_der = F.ca_der, .issuer_len = (size_t)F.ca_len};
                struct lint_report r;
                lint_report_init(&r);
                struct qerr_info ei;
                assert_int_equal(lint_crl_der(der, (size_t)len, &o, &r, &ei), QERR_OK);
                if (c->want ? !has(&r, c->want) : r.errors != 0) {
                        failed++;
                        print_message("CRL case '%s': expected %s, found:\n", c->label,
                                      c->want ? c->want : "no error");
                        dump(&r);
                }
                lint_report_free(&r);
                OPENSSL_free(der);
        }
        assert_int_equal(failed, 0);
        struct lint_report r;
        lint_report_init(&r);
        struct qerr_info ei;
        struct lint_crl_opts o = {.prev_number = -1};
        assert_int_equal(lint_crl_der((const uint8_t *)"\x30\x03\x02\x01", 4, &o, &r, &ei),
                         QERR_PEM_INVALID);
        lint_report_free(&r);
}

/* ---- OCSP ---- */

struct oc {
        const char *label, *want;
        const char *md;
        long this_off, next_span; /* next_span -1: no nextUpdate */
        int status, reason;
        bool no_responses, foreign_cert;
        int64_t now_off; /* opts.now = now + now_off; 0: not checked */
};

static const struct oc ocsp_cases[] = {
    {"good", NULL, "SHA256", 0, 86400, V_OCSP_CERTSTATUS_GOOD, -1},
    {"good revoked", NULL, "SHA256", 0, 4 * 86400, V_OCSP_CERTSTATUS_REVOKED, 1},
    {"SHA-1", "e_ocsp_sig_sha1", "SHA1", 0, 86400, V_OCSP_CERTSTATUS_GOOD, -1},
    {"no nextUpdate", "e_ocsp_next_update_missing", "SHA256", 0, -1, V_OCSP_CERTSTATUS_GOOD, -1},
    {"11 days", "e_ocsp_validity_too_long", "SHA256", 0, 11 * 86400, V_OCSP_CERTSTATUS_GOOD, -1},
    {"exactly 10 days (11 counting both ends)", "e_ocsp_validity_too_long", "SHA256", 0, 10 * 86400,
     V_OCSP_CERTSTATUS_GOOD, -1},
    {"one hour", "e_ocsp_validity_too_short", "SHA256", 0, 3600, V_OCSP_CERTSTATUS_GOOD, -1},
    {"nextUpdate before thisUpdate", "e_ocsp_update_order", "SHA256", 0, -2, V_OCSP_CERTSTATUS_GOOD,
     -1},
    {"thisUpdate after producedAt", "e_ocsp_produced_at", "SHA256", 7200, 86400,
     V_OCSP_CERTSTATUS_GOOD, -1},
    {"producedAt in the future", "e_ocsp_produced_at", "SHA256", -7200, 86400,
     V_OCSP_CERTSTATUS_GOOD, -1, .now_off = -86400},
    {"certificateHold", "e_ocsp_reason_not_allowed", "SHA256", 0, 86400, V_OCSP_CERTSTATUS_REVOKED,
     6},
    {"no SingleResponse", "e_ocsp_no_responses", "SHA256", 0, 86400, 0, -1, .no_responses = true},
    {"responder id names no certificate", "e_ocsp_responder_id", "SHA256", 0, 86400,
     V_OCSP_CERTSTATUS_GOOD, -1, .foreign_cert = true},
};

static unsigned char *build_ocsp(const struct oc *c, int *len)
{
        OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
        time_t now = time(NULL);
        if (!c->no_responses) {
                OCSP_CERTID *id =
                    OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(F.ca),
                                     X509_get0_pubkey_bitstr(F.ca), X509_get0_serialNumber(F.ca));
                ASN1_TIME *tu = ASN1_GENERALIZEDTIME_set(NULL, now + c->this_off);
                ASN1_TIME *nu =
                    c->next_span == -1 ? NULL
                    : c->next_span == -2
                        ? ASN1_GENERALIZEDTIME_set(NULL, now + c->this_off - 60)
                        : ASN1_GENERALIZEDTIME_set(NULL, now + c->this_off + c->next_span);
                ASN1_TIME *rt = ASN1_GENERALIZEDTIME_set(NULL, now - 3600);
                assert_non_null(OCSP_basic_add1_status(
                    bs, id, c->status, c->reason,
                    c->status == V_OCSP_CERTSTATUS_REVOKED ? rt : NULL, tu, nu));
                OCSP_CERTID_free(id);
                ASN1_TIME_free(tu);
                ASN1_TIME_free(nu);
                ASN1_TIME_free(rt);
        }
        const EVP_MD *md = EVP_get_digestbyname(c->md);
        assert_int_equal(
            OCSP_basic_sign(bs, F.root, F.root_key, md, NULL, c->foreign_cert ? OCSP_NOCERTS : 0),
            1);
        if (c->foreign_cert)
                OCSP_basic_add1_cert(bs, F.ca);
        unsigned char *der = NULL;
        *len = i2d_OCSP_BASICRESP(bs, &der);
        OCSP_BASICRESP_free(bs);
        return der;
}

static void test_ocsp_table(void **state)
{
        (void)state;
        size_t failed = 0;
        for (size_t i = 0; i < sizeof ocsp_cases / sizeof ocsp_cases[0]; i++) {
                const struct oc *c = &ocsp_cases[i];
                int len;
                unsigned char *der = build_ocsp(c, &len);
                struct lint_ocsp_opts o = {.now = c->now_off ? time(NULL) + c->now_off : 0};
                struct lint_report r;
                lint_report_init(&r);
                struct qerr_info ei;
                assert_int_equal(lint_ocsp_response(der, (size_t)len, &o, &r, &ei), QERR_OK);
                if (c->want ? !has(&r, c->want) : r.errors != 0) {
                        failed++;
                        print_message("OCSP case '%s': expected %s, found:\n", c->label,
                                      c->want ? c->want : "no error");
                        dump(&r);
                }
                lint_report_free(&r);
                OPENSSL_free(der);
        }
        assert_int_equal(failed, 0);
        struct lint_report r;
        lint_report_init(&r);
        struct qerr_info ei;
        struct lint_ocsp_opts o = {0};
        assert_int_equal(lint_ocsp_response((const uint8_t *)"\x30\x00", 2, &o, &r, &ei),
                         QERR_PEM_INVALID);
        lint_report_free(&r);
}

/* ---- the gate ---- */

static void test_gate_refuses_before_signing(void **state)
{
        (void)state;
        EVP_PKEY *lk = NULL;
        struct qerr_info ei;
        assert_int_equal(pki_lint_key_new(F.ca_key, &lk, &ei), QERR_OK);
        assert_true(EVP_PKEY_is_a(lk, "EC"));
        uint8_t serial[16] = {0x41, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        const char *bad[] = {"www.example.test"}, *good[] = {"www.example.com"};
        struct lint_cert_opts lo = {.profile = PROFILE_DV,
                                    .role = LINT_ROLE_SUBSCRIBER,
                                    .issuer_der = F.ca_der,
                                    .issuer_len = (size_t)F.ca_len};
        struct lint_report rep;
        lint_report_init(&rep);
        struct pki_lint_gate gate = {.lint_key = lk, .cert = &lo, .report = &rep};
        struct ee_params p = {.subject_key = F.ec256,
                              .names = bad,
                              .nnames = 1,
                              .not_before = time(NULL),
                              .not_after = time(NULL) + 30 * 86400,
                              .serial = serial,
                              .serial_len = sizeof serial,
                              .profile = PROFILE_DV,
                              .crl_url = "http://127.0.0.1:8080/crl/2.crl",
                              .lint = &gate};
        X509 *x = NULL;
        assert_int_equal(pki_issue_ee(F.ca, F.ca_key, &p, &x, &ei), QERR_LINT_FAILED);
        assert_null(x);
        assert_non_null(strstr(qerr_message(&ei), "e_dnsname_internal"));
        assert_true(has(&rep, "e_dnsname_internal"));
        lint_report_free(&rep);
        /* a good one is signed by the real key, over the linted bytes */
        p.names = good;
        assert_int_equal(pki_issue_ee(F.ca, F.ca_key, &p, &x, &ei), QERR_OK);
        assert_int_equal(X509_verify(x, F.ca_key), 1);
        unsigned char *der = NULL;
        int len = i2d_X509(x, &der);
        lint_report_init(&rep);
        assert_int_equal(lint_cert_der(der, (size_t)len, &lo, &rep, NULL, &ei), QERR_OK);
        if (rep.errors)
                dump(&rep);
        assert_int_equal(rep.errors, 0);
        lint_report_free(&rep);
        OPENSSL_free(der);
        X509_free(x);

        /* CRLs: a hold reason, and a number that does not increase */
        struct crl_item it = {serial, sizeof serial, time(NULL) - 10, 6};
        struct lint_crl_opts co = {
            .prev_number = 7, .issuer_der = F.ca_der, .issuer_len = (size_t)F.ca_len};
        struct pki_lint_gate cg = {.lint_key = lk, .crl = &co};
        X509_CRL *crl = NULL;
        time_t now = time(NULL);
        assert_int_equal(
            pki_issue_crl_gated(F.ca, F.ca_key, 8, now, now + 86400, &it, 1, &cg, &crl, &ei),
            QERR_LINT_FAILED);
        assert_non_null(strstr(qerr_message(&ei), "e_crl_reason_certificate_hold"));
        it.reason = 1;
        assert_int_equal(
            pki_issue_crl_gated(F.ca, F.ca_key, 7, now, now + 86400, &it, 1, &cg, &crl, &ei),
            QERR_LINT_FAILED);
        assert_non_null(strstr(qerr_message(&ei), "e_crl_number_increasing"));
        assert_int_equal(
            pki_issue_crl_gated(F.ca, F.ca_key, 8, now, now + 86400, &it, 1, &cg, &crl, &ei),
            QERR_OK);
        assert_int_equal(X509_CRL_verify(crl, F.ca_key), 1);
        X509_CRL_free(crl);
        EVP_PKEY_free(lk);
}

/* The issuing CA that pki_issue_ca makes carries anyPolicy and lints clean
 * under the CA rules; so does the root. */
static void test_ca_certificates_lint_clean(void **state)
{
        (void)state;
        struct qerr_info ei;
        EVP_PKEY *lk = NULL;
        assert_int_equal(pki_lint_key_new(F.root_key, &lk, &ei), QERR_OK);
        unsigned char *rder = NULL;
        int rlen = i2d_X509(F.root, &rder);
        struct lint_cert_opts lo = {.profile = PROFILE_DV,
                                    .role = LINT_ROLE_ISSUING_CA,
                                    .issuer_der = rder,
                                    .issuer_len = (size_t)rlen};
        struct lint_report rep;
        lint_report_init(&rep);
        struct pki_lint_gate gate = {.lint_key = lk, .cert = &lo, .report = &rep};
        struct ca_params cp = {.subject = "CN=Another Issuing",
                               .key = F.ec256,
                               .issuer = F.root,
                               .issuer_key = F.root_key,
                               .not_before = time(NULL),
                               .not_after = time(NULL) + 365 * 86400,
                               .crl_url = "http://127.0.0.1:8080/crl/1.crl",
                               .ca_issuers_url = "http://127.0.0.1:8080/ca/1.der",
                               .lint = &gate};
        X509 *x = NULL;
        assert_int_equal(pki_issue_ca(&cp, &x, &ei), QERR_OK);
        if (rep.n)
                dump(&rep);
        assert_int_equal(rep.n, 0);
        int crit = 0;
        CERTIFICATEPOLICIES *pols = X509_get_ext_d2i(x, NID_certificate_policies, &crit, NULL);
        assert_non_null(pols);
        assert_int_equal(sk_POLICYINFO_num(pols), 1);
        assert_int_equal(OBJ_obj2nid(sk_POLICYINFO_value(pols, 0)->policyid), NID_any_policy);
        CERTIFICATEPOLICIES_free(pols);
        X509_free(x);
        /* an https CRL URL is refused for a public CA */
        cp.crl_url = "https://127.0.0.1:8443/crl/1.crl";
        assert_int_equal(pki_issue_ca(&cp, &x, &ei), QERR_LINT_FAILED);
        assert_non_null(strstr(qerr_message(&ei), "e_crldp_http"));
        lint_report_free(&rep);
        OPENSSL_free(rder);
        EVP_PKEY_free(lk);
}

static void test_checks_table(void **state)
{
        (void)state;
        size_t n;
        const struct lint_check *t = lint_checks(&n);
        for (size_t i = 0; i < n; i++) {
                assert_true(strlen(t[i].id) > 2 && t[i].id[1] == '_');
                assert_true(strlen(t[i].source) > 3);
                assert_true(strlen(t[i].summary) > 10);
                for (size_t j = 0; j < i; j++)
                        assert_string_not_equal(t[i].id, t[j].id);
        }
        assert_string_equal(lint_severity_name(LINT_ERROR), "error");
        assert_string_equal(lint_severity_name(LINT_WARNING), "warning");
}

/* ---- set-up ---- */

static X509 *make_ca(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey)
{
        X509 *x = X509_new();
        X509_set_version(x, X509_VERSION_3);
        set_serial(x, issuer ? "5a5b6c7d8e9f0a1b2c3d4e5f60718293" : "6a5b6c7d8e9f0a1b2c3d");
        X509_gmtime_adj(X509_getm_notBefore(x), -60);
        X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400);
        X509_NAME *nm = pki_parse_dn(cn);
        X509_set_subject_name(x, nm);
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : nm);
        X509_NAME_free(nm);
        X509_set_pubkey(x, key);
        add(x, issuer, "basicConstraints", "critical,CA:TRUE");
        add(x, issuer, "keyUsage", "critical,digitalSignature,keyCertSign,cRLSign");
        add(x, issuer, "subjectKeyIdentifier", "hash");
        if (issuer)
                add(x, issuer, "authorityKeyIdentifier", "keyid:always");
        sign_with(x, ikey ? ikey : key, NULL);
        return x;
}

static int setup(void **state)
{
        (void)state;
        struct qerr_info ei;
        assert_int_equal(pki_key_generate(KEYALG_EC384, &F.root_key, &ei), QERR_OK);
        assert_int_equal(pki_key_generate(KEYALG_EC256, &F.ca_key, &ei), QERR_OK);
        assert_int_equal(pki_key_generate(KEYALG_EC256, &F.ec256, &ei), QERR_OK);
        assert_int_equal(pki_key_generate(KEYALG_EC384, &F.ec384, &ei), QERR_OK);
        assert_int_equal(pki_key_generate(KEYALG_RSA2048, &F.rsa2048, &ei), QERR_OK);
        assert_int_equal(pki_key_generate(KEYALG_SM2, &F.sm2, &ei), QERR_OK);
        F.rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
        F.rsa_e3 = rsa_with_e(2048, 3);
        F.k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
        F.ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        assert_non_null(F.rsa1024);
        assert_non_null(F.k1);
        assert_non_null(F.ed25519);
        F.root = make_ca("CN=Lint Test Root", F.root_key, NULL, NULL);
        F.ca = make_ca("CN=Lint Test Issuing", F.ca_key, F.root, F.root_key);
        F.ca_len = i2d_X509(F.ca, &F.ca_der);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        EVP_PKEY *keys[] = {F.root_key, F.ca_key, F.ec256, F.ec384,   F.rsa2048,
                            F.rsa1024,  F.rsa_e3, F.k1,    F.ed25519, F.sm2};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
                EVP_PKEY_free(keys[i]);
        X509_free(F.root);
        X509_free(F.ca);
        OPENSSL_free(F.ca_der);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_checks_table),
            cmocka_unit_test(test_cert_table),
            cmocka_unit_test(test_every_cert_check_has_a_case),
            cmocka_unit_test(test_guess_profile),
            cmocka_unit_test(test_bad_input),
            cmocka_unit_test(test_report_bounded),
            cmocka_unit_test(test_crl_table),
            cmocka_unit_test(test_ocsp_table),
            cmocka_unit_test(test_gate_refuses_before_signing),
            cmocka_unit_test(test_ca_certificates_lint_clean),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
