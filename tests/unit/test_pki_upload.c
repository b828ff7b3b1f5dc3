/*
 * test_pki_upload.c - unit tests for pki_upload.c: a good upload is reported
 * (serial, names, validity, key type, issuer, verified chain, anchor), and
 * each refusal comes with its own code: unreadable certificate, wrong key
 * password, key mismatch, weak key, chain that does not verify.
 *
 * A throw-away PKI (root, intermediate, leaves with SAN, one RSA and one
 * expired) is built in memory with OpenSSL at group setup. No files.
 * Single-threaded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pki/pki_key.h"
#include "pki/pki_upload.h"

/* ---- a small test PKI ---------------------------------------------------- */

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
        X509V3_CTX v3;
        X509V3_set_ctx_nodb(&v3);
        X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
        assert_non_null(e);
        assert_int_equal(X509_add_ext(x, e, -1), 1);
        X509_EXTENSION_free(e);
}

/* issuer NULL: self-signed with `key`. Validity from now+from to now+to. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
                       const char *san, long from, long to, long serial)
{
        X509 *x = X509_new();
        assert_non_null(x);
        assert_int_equal(X509_set_version(x, 2), 1);
        ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
        X509_NAME *nm = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"Quill Test", -1,
                                   -1, 0);
        X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : nm);
        X509_gmtime_adj(X509_getm_notBefore(x), from);
        X509_gmtime_adj(X509_getm_notAfter(x), to);
        assert_int_equal(X509_set_pubkey(x, key), 1);
        add_ext(x, issuer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
        add_ext(x, issuer, NID_key_usage,
                ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
        add_ext(x, issuer, NID_subject_key_identifier, "hash");
        add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
        if (san)
                add_ext(x, issuer, NID_subject_alt_name, san);
        assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
        return x;
}

static char *cert_pem(X509 *x)
{
        BIO *b = BIO_new(BIO_s_mem());
        assert_int_equal(PEM_write_bio_X509(b, x), 1);
        char *p;
        long n = BIO_get_mem_data(b, &p);
        char *s = strndup(p, (size_t)n);
        BIO_free(b);
        return s;
}

static char *key_pem(EVP_PKEY *k, const char *password)
{
        BIO *b = BIO_new(BIO_s_mem());
        if (password)
                assert_int_equal(PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(), password,
                                                               (int)strlen(password), NULL, NULL),
                                 1);
        else
                assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
        char *p;
        long n = BIO_get_mem_data(b, &p);
        char *s = strndup(p, (size_t)n);
        BIO_free(b);
        return s;
}

static char *concat(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        char *s = malloc(la + lb + 1);
        assert_non_null(s);
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
        return s;
}

struct pki {
        EVP_PKEY *root_key, *int_key, *leaf_key, *rsa_key, *weak_key, *other_key;
        X509 *root, *inter, *leaf, *rsa_leaf, *weak_leaf, *old_leaf, *self;
        char *root_pem, *int_pem, *leaf_pem, *rsa_leaf_pem, *weak_leaf_pem, *old_leaf_pem;
        char *self_pem, *chain_pem; /* chain: intermediate + root */
        char *leaf_key_pem, *rsa_key_pem, *weak_key_pem, *other_key_pem, *enc_key_pem;
};

static int pki_setup(void **state)
{
        struct pki *p = calloc(1, sizeof *p);
        assert_non_null(p);
        p->root_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        p->int_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        p->leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        p->other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        p->rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        p->weak_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
        assert_true(p->root_key && p->int_key && p->leaf_key && p->other_key && p->rsa_key &&
                    p->weak_key);
        p->root = make_cert("Quill Test Root", p->root_key, NULL, NULL, true, NULL, -86400L * 400,
                            86400L * 3650, 1);
        p->inter = make_cert("Quill Test Intermediate", p->int_key, p->root, p->root_key, true,
                             NULL, -86400L * 400, 86400L * 1825, 2);
        p->leaf = make_cert("www.example.com", p->leaf_key, p->inter, p->int_key, false,
                            "DNS:www.example.com,DNS:example.com,IP:192.0.2.7", -3600, 86400L * 90,
                            0x1234abcdL);
        p->rsa_leaf = make_cert("rsa.example.com", p->rsa_key, p->inter, p->int_key, false,
                                "DNS:rsa.example.com", -3600, 86400L * 90, 4);
        p->weak_leaf = make_cert("weak.example.com", p->weak_key, p->inter, p->int_key, false,
                                 "DNS:weak.example.com", -3600, 86400L * 90, 5);
        p->old_leaf = make_cert("old.example.com", p->leaf_key, p->inter, p->int_key, false,
                                "DNS:old.example.com", -86400L * 200, -86400L * 10, 6);
        p->self = make_cert("self.example.com", p->leaf_key, NULL, NULL, false,
                            "DNS:self.example.com", -3600, 86400L * 90, 7);
        p->root_pem = cert_pem(p->root);
        p->int_pem = cert_pem(p->inter);
        p->leaf_pem = cert_pem(p->leaf);
        p->rsa_leaf_pem = cert_pem(p->rsa_leaf);
        p->weak_leaf_pem = cert_pem(p->weak_leaf);
        p->old_leaf_pem = cert_pem(p->old_leaf);
        p->self_pem = cert_pem(p->self);
        p->chain_pem = concat(p->int_pem, p->root_pem);
        p->leaf_key_pem = key_pem(p->leaf_key, NULL);
        p->rsa_key_pem = key_pem(p->rsa_key, NULL);
        p->weak_key_pem = key_pem(p->weak_key, NULL);
        p->other_key_pem = key_pem(p->other_key, NULL);
        p->enc_key_pem = key_pem(p->leaf_key, "upload-pass");
        *state = p;
        return 0;
}

static int pki_teardown(void **state)
{
        struct pki *p = *state;
        EVP_PKEY *keys[] = {p->root_key, p->int_key,  p->leaf_key,
                            p->rsa_key,  p->weak_key, p->other_key};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
                EVP_PKEY_free(keys[i]);
        X509 *certs[] = {p->root,      p->inter,    p->leaf, p->rsa_leaf,
                         p->weak_leaf, p->old_leaf, p->self};
        for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++)
                X509_free(certs[i]);
        char *strs[] = {p->root_pem,      p->int_pem,      p->leaf_pem,     p->rsa_leaf_pem,
                        p->weak_leaf_pem, p->old_leaf_pem, p->self_pem,     p->chain_pem,
                        p->leaf_key_pem,  p->rsa_key_pem,  p->weak_key_pem, p->other_key_pem,
                        p->enc_key_pem};
        for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
                free(strs[i]);
        free(p);
        return 0;
}

/* ---- helpers ----------------------------------------------------------------- */

static enum qerr check(const char *cert, const char *key, const char *pass, const char *chain,
                       const char *trusted, struct upload_info *u, struct qerr_info *ei)
{
        return pki_upload_check(cert, cert ? strlen(cert) : 0, key, key ? strlen(key) : 0, pass,
                                chain, chain ? strlen(chain) : 0, trusted, u, ei);
}

static void assert_chain(const char *text, X509 *a, X509 *b)
{
        X509 *want[2] = {a, b};
        int n = a ? b ? 2 : 1 : 0;
        BIO *bio = BIO_new_mem_buf(text, -1);
        int got = 0;
        X509 *x;
        while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
                assert_true(got < n);
                assert_int_equal(X509_cmp(x, want[got]), 0);
                X509_free(x);
                got++;
        }
        BIO_free(bio);
        assert_int_equal(got, n);
}

static void assert_failed_clear(const struct upload_info *u)
{
        assert_null(u->names);
        assert_null(u->issuer);
        assert_null(u->cert_pem);
        assert_null(u->chain_pem);
        assert_null(u->key);
        assert_int_equal(u->nnames, 0);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_ok_with_root_in_chain(void **state)
{
        struct pki *p = *state;
        struct upload_info u;
        struct qerr_info ei = {0};
        assert_int_equal(check(p->leaf_pem, p->leaf_key_pem, NULL, p->chain_pem, NULL, &u, &ei),
                         QERR_OK);
        assert_string_equal(u.anchor, "bundle");
        assert_string_equal(u.serial, "1234abcd");
        assert_int_equal(u.nnames, 3); /* the CN is among the SANs: not repeated */
        assert_string_equal(u.names[0], "www.example.com");
        assert_string_equal(u.names[1], "example.com");
        assert_string_equal(u.names[2], "192.0.2.7");
        assert_string_equal(u.key_algorithm, "ec256");
        assert_string_equal(u.issuer, "CN=Quill Test Intermediate,O=Quill Test");
        long long now = (long long)time(NULL);
        assert_true(u.not_before <= now && u.not_before > now - 7200);
        assert_true(u.not_after > now + 86400LL * 89 && u.not_after <= now + 86400LL * 90 + 60);
        assert_chain(u.cert_pem, p->leaf, NULL);
        assert_chain(u.chain_pem, p->inter, p->root);
        assert_non_null(u.key);
        assert_true(pki_key_matches(u.key, X509_get0_pubkey(p->leaf)));
        upload_info_clear(&u);
        assert_null(u.key);
        assert_int_equal(u.nnames, 0);
        upload_info_clear(&u); /* twice is harmless */
}

static void test_cn_not_in_san_is_added(void **state)
{
        struct pki *p = *state;
        X509 *x = make_cert("cn-only.example.com", p->leaf_key, p->inter, p->int_key, false,
                            "DNS:www.example.com", -3600, 86400L * 30, 99);
        char *pem = cert_pem(x);
        struct upload_info u;
        struct qerr_info ei = {0};
        assert_int_equal(check(pem, p->leaf_key_pem, NULL, p->chain_pem, NULL, &u, &ei), QERR_OK);
        assert_int_equal(u.nnames, 2);
        assert_string_equal(u.names[0], "www.example.com");
        assert_string_equal(u.names[1], "cn-only.example.com");
        upload_info_clear(&u);
        free(pem);
        X509_free(x);
}

static void test_ok_root_from_trusted(void **state)
{
        struct pki *p = *state;
        struct upload_info u;
        struct qerr_info ei = {0};
        assert_int_equal(
            check(p->leaf_pem, p->leaf_key_pem, NULL, p->int_pem, p->root_pem, &u, &ei), QERR_OK);
        assert_string_equal(u.anchor, "quill");
        assert_chain(u.chain_pem, p->inter, p->root); /* the root comes from the store */
        upload_info_clear(&u);

        /* the root both given and ours: ours wins */
        assert_int_equal(
            check(p->leaf_pem, p->leaf_key_pem, NULL, p->chain_pem, p->root_pem, &u, &ei), QERR_OK);
        assert_string_equal(u.anchor, "quill");
        upload_info_clear(&u);

        /* intermediate and root both ours, no chain given */
        char *ours = concat(p->root_pem, p->int_pem);
        assert_int_equal(check(p->leaf_pem, p->leaf_key_pem, NULL, NULL, ours, &u, &ei), QERR_OK);
        assert_string_equal(u.anchor, "quill");
        assert_chain(u.chain_pem, p->inter, p->root);
        upload_info_clear(&u);
        free(ours);
}

static void test_rsa(void **state)
{
        struct pki *p = *state;
        struct upload_info u;
        struct qerr_info ei = {0};
        assert_int_equal(check(p->rsa_leaf_pem, p->rsa_key_pem, NULL, p->chain_pem, NULL, &u, &ei),
                         QERR_OK);
        assert_string_equal(u.key_algorithm, "rsa2048");
        assert_string_equal(u.anchor, "bundle");
        upload_info_clear(&u);
}

static void test_key_mismatch(void **state)
{
        struct pki *p = *state;
        struct upload_info u;
        struct qerr_info ei = {0};
        assert_int_equal(check(p->leaf_pem, p->other_key_pem, NULL, p->chain_pem, NULL, &u, &ei),
                         QERR_UPLOAD_KEY_MISMATCH);
        assert_int_equal(ei.code, QERR_UPLOAD_KEY_MISMATCH);
        assert_failed_clear(&u);
        /* an RSA key for an EC certificate */
        assert_int_equal(check(p->leaf_pem, p->rsa_key_pem, NULL, p->chain_pem, NULL, &u, &ei),
                         QERR_UPLOAD_KEY_MISMATCH);
        assert_failed_clear(&u);
}

static void test_chain_missing_intermediate(void **state)
{
        struct pki *p = *state;
        struct upload_info u;
        struct qerr_info ei = {0};
        assert_int_equal(check(p->leaf_pem, p->leaf_key_pem, NULL, p->root_pem, NULL, &u, &ei),
                         QERR_UPLOAD_CHAIN);
        assert_non_null(strstr(ei.msg, "unable to get local issuer certificate"));
        assert_non_null(strstr(ei.msg, "depth 0"));
        assert_failed_clear(&u);
        /* no chain at all */
        assert_int_equal(check(p->leaf_pem, p->leaf_key_pem, NULL, NULL, NULL, &u, &ei),
                         QERR_UPLOAD_CHAIN);
        /* the intermediate alone, no root anywhere: partial chains are refused */
        assert_int_equal(check(p->leaf_pem, p->leaf_key_pem, NULL, p->int_pem, NULL, &u, &ei),
                         QERR_UPLOAD_CHAIN);
        assert_non_null(strstr(ei.msg, "depth 1"));
        /* ... even when our intermediate is trusted but not its root */
        assert_int_equal(check(p->leaf_pem, p->leaf_key_pem, NULL, NULL, p->int_pem, &u, &ei),
                         QERR_UPLOAD_CHAIN);
        assert_failed_clear(&u);
}

static void test_chain_garbage(void **state)
{
        struct pki *p = *state;
        struct upload_info u;
        struct qerr_info ei = {0};
        char *broken = concat(p->int_pem, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END "
                                          "CERTIFICATE-----\n");
        assert_int_equal(check(p->leaf_pem, p->leaf_key_pem, NULL, broken, NULL, &u, &ei),
                         QERR_UPLOAD_CHAIN);
        free(broken);
        /* a blank chain is no chain; the leaf then needs a trusted issuer */
        char *ours = concat(p->root_pem, p->int_pem);
        assert_int_equal(check(p->leaf_pem, p->leaf_key_pem, NULL, " \n", ours, &u, &ei), QERR_OK);
        upload_info_clear(&u);
        free(ours);
}

static void test_self_signed_leaf_refused(void **state)
{
        struct pki *p = *state;
        struct upload_info u;
        struct qerr_info ei = {0};
        assert_int_equal(check(p->self_pem, p->leaf_key_pem, NULL, NULL, NULL, &u, &ei),
                         QERR_UPLOAD_CHAIN);
        assert_failed_clear(&u);
}

static void test_garbage_cert(void **state)
{
        struct pki *p = *state;
        struct upload_info u;
        struct qerr_info ei = {0};
        assert_int_equal(check("hello world", p->leaf_key_pem, NULL, p->chain_pem, NULL, &u, &ei),
                         QERR_UPLOAD_CERT);
        assert_failed_clear(&u);
        assert_int_equal(check("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
                               p->leaf_key_pem, NULL, p->chain_pem, NULL, &u, &ei),
                         QERR_UPLOAD_CERT);
        assert_int_equal(check("", p->leaf_key_pem, NULL, p->chain_pem, NULL, &u, &ei),
                         QERR_UPLOAD_CERT);
        assert_int_equal(check(NULL, p->leaf_key_pem, NULL, p->chain_pem, NULL, &u, &ei),
                         QERR_UPLOAD_CERT);
        /* a key where the certificate should be */
        assert_int_equal(check(p->leaf_key_pem, p->leaf_key_pem, NULL, p->chain_pem, NULL, &u, &ei),
                         QERR_UPLOAD_CERT);
        assert_failed_clear(&u);
}

static void test_key_password(void **state)
{
        struct pki *p = *state;
        struct upload_info u;
        struct qerr_info ei = {0};
        assert_int_equal(check(p->leaf_pem, p->enc_key_pem, "wrong", p->chain_pem, NULL, &u, &ei),
                         QERR_KEY_PASSWORD);
        assert_failed_clear(&u);
        assert_int_equal(check(p->leaf_pem, p->enc_key_pem, NULL, p->chain_pem, NULL, &u, &ei),
                         QERR_KEY_PASSWORD);
        assert_int_equal(
            check(p->leaf_pem, p->enc_key_pem, "upload-pass", p->chain_pem, NULL, &u, &ei),
            QERR_OK);
        assert_true(pki_key_matches(u.key, X509_get0_pubkey(p->leaf)));
        upload_info_clear(&u);
}

static void test_key_invalid(void **state)
{
        struct pki *p = *state;
        struct upload_info u;
        struct qerr_info ei = {0};
        assert_int_equal(check(p->leaf_pem, "not a key", NULL, p->chain_pem, NULL, &u, &ei),
                         QERR_KEY_INVALID);
        assert_int_equal(check(p->leaf_pem, NULL, NULL, p->chain_pem, NULL, &u, &ei),
                         QERR_KEY_INVALID);
        assert_failed_clear(&u);
}

static void test_weak_key(void **state)
{
        struct pki *p = *state;
        struct upload_info u;
        struct qerr_info ei = {0};
        assert_int_equal(
            check(p->weak_leaf_pem, p->weak_key_pem, NULL, p->chain_pem, NULL, &u, &ei),
            QERR_KEY_WEAK);
        assert_failed_clear(&u);
}

static void test_expired_accepted(void **state)
{
        struct pki *p = *state;
        struct upload_info u;
        struct qerr_info ei = {0};
        assert_int_equal(check(p->old_leaf_pem, p->leaf_key_pem, NULL, p->chain_pem, NULL, &u, &ei),
                         QERR_OK);
        long long now = (long long)time(NULL);
        assert_true(u.not_after < now - 86400LL * 9);
        assert_true(u.not_before < u.not_after);
        assert_string_equal(u.anchor, "bundle");
        upload_info_clear(&u);
}

static void test_leaf_in_chain_and_der(void **state)
{
        struct pki *p = *state;
        struct upload_info u;
        struct qerr_info ei = {0};
        /* a full chain pasted as the chain: the leaf in it does no harm */
        char *full = concat(p->leaf_pem, p->chain_pem);
        assert_int_equal(check(p->leaf_pem, p->leaf_key_pem, NULL, full, NULL, &u, &ei), QERR_OK);
        assert_chain(u.chain_pem, p->inter, p->root);
        upload_info_clear(&u);
        free(full);
        /* a DER certificate */
        unsigned char *der = NULL;
        int n = i2d_X509(p->leaf, &der);
        assert_true(n > 0);
        assert_int_equal(pki_upload_check((const char *)der, (size_t)n, p->leaf_key_pem,
                                          strlen(p->leaf_key_pem), NULL, p->chain_pem,
                                          strlen(p->chain_pem), NULL, &u, &ei),
                         QERR_OK);
        assert_chain(u.cert_pem, p->leaf, NULL);
        upload_info_clear(&u);
        OPENSSL_free(der);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ok_with_root_in_chain),
            cmocka_unit_test(test_cn_not_in_san_is_added),
            cmocka_unit_test(test_ok_root_from_trusted),
            cmocka_unit_test(test_rsa),
            cmocka_unit_test(test_key_mismatch),
            cmocka_unit_test(test_chain_missing_intermediate),
            cmocka_unit_test(test_chain_garbage),
            cmocka_unit_test(test_self_signed_leaf_refused),
            cmocka_unit_test(test_garbage_cert),
            cmocka_unit_test(test_key_password),
            cmocka_unit_test(test_key_invalid),
            cmocka_unit_test(test_weak_key),
            cmocka_unit_test(test_expired_accepted),
            cmocka_unit_test(test_leaf_in_chain_and_der),
        };
        return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
