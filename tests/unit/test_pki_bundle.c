/*
 * test_pki_bundle.c - unit tests for pki_bundle.c: every download format
 * writes the expected files with the expected modes and contents, PKCS#12
 * parses back with its password only, and the refusals (no key, no password,
 * existing file) leave nothing behind.
 *
 * A throw-away PKI (root, intermediate, leaf with SAN) is built in memory with
 * OpenSSL at group setup; output goes to a fresh mkdtemp directory under /tmp
 * per test, removed afterwards. Single-threaded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "pki/pki_bundle.h"
#include "pki/pki_key.h"

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

/* issuer NULL: self-signed with `key`. */
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
        EVP_PKEY *root_key, *int_key, *leaf_key, *rsa_key, *other_key;
        X509 *root, *inter, *leaf, *rsa_leaf;
        char *root_pem, *int_pem, *leaf_pem, *rsa_leaf_pem, *chain_pem; /* chain: int+root */
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
        assert_true(p->root_key && p->int_key && p->leaf_key && p->other_key && p->rsa_key);
        p->root = make_cert("Quill Test Root", p->root_key, NULL, NULL, true, NULL, -3600,
                            86400L * 3650, 1);
        p->inter = make_cert("Quill Test Intermediate", p->int_key, p->root, p->root_key, true,
                             NULL, -3600, 86400L * 1825, 2);
        p->leaf = make_cert("www.example.com", p->leaf_key, p->inter, p->int_key, false,
                            "DNS:www.example.com,DNS:example.com", -3600, 86400L * 90, 3);
        p->rsa_leaf = make_cert("rsa.example.com", p->rsa_key, p->inter, p->int_key, false,
                                "DNS:rsa.example.com", -3600, 86400L * 90, 4);
        p->root_pem = cert_pem(p->root);
        p->int_pem = cert_pem(p->inter);
        p->leaf_pem = cert_pem(p->leaf);
        p->rsa_leaf_pem = cert_pem(p->rsa_leaf);
        p->chain_pem = concat(p->int_pem, p->root_pem);
        *state = p;
        return 0;
}

static int pki_teardown(void **state)
{
        struct pki *p = *state;
        EVP_PKEY_free(p->root_key);
        EVP_PKEY_free(p->int_key);
        EVP_PKEY_free(p->leaf_key);
        EVP_PKEY_free(p->rsa_key);
        EVP_PKEY_free(p->other_key);
        X509_free(p->root);
        X509_free(p->inter);
        X509_free(p->leaf);
        X509_free(p->rsa_leaf);
        free(p->root_pem);
        free(p->int_pem);
        free(p->leaf_pem);
        free(p->rsa_leaf_pem);
        free(p->chain_pem);
        free(p);
        return 0;
}

/* ---- file helpers ---------------------------------------------------------- */

static char *make_tmpdir(void)
{
        char tmpl[] = "/tmp/quill-test-bundle-XXXXXX";
        char *d = mkdtemp(tmpl);
        assert_non_null(d);
        return strdup(d);
}

static void rm_tree(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d)
                return;
        struct dirent *e;
        char path[4096];
        while ((e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                struct stat st;
                if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
                        rm_tree(path);
                else
                        unlink(path);
        }
        closedir(d);
        rmdir(dir);
}

static int count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d)
                return -1;
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

static char *path_of(const char *dir, const char *name)
{
        char *p = NULL;
        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        return p;
}

/* Mode of dir/name, or -1 when it does not exist. */
static int file_mode(const char *dir, const char *name)
{
        char *p = path_of(dir, name);
        struct stat st;
        int m = stat(p, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
        free(p);
        return m;
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
        char *p = path_of(dir, name);
        struct qbuf b;
        qbuf_init(&b, 1u << 20);
        struct qerr_info ei = {0};
        assert_int_equal(fs_read_file(p, &b, &ei), QERR_OK);
        free(p);
        size_t n = 0;
        char *s = (char *)qbuf_take(&b, &n);
        if (!s)
                s = strdup("");
        if (len)
                *len = n;
        return s;
}

static STACK_OF(X509) * read_certs(const char *text)
{
        BIO *b = BIO_new_mem_buf(text, -1);
        STACK_OF(X509) *sk = sk_X509_new_null();
        X509 *x;
        while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
                sk_X509_push(sk, x);
        BIO_free(b);
        return sk;
}

static void assert_certs(const char *text, X509 *a, X509 *b, X509 *c)
{
        X509 *want[3] = {a, b, c};
        int n = a ? b ? c ? 3 : 2 : 1 : 0;
        STACK_OF(X509) *sk = read_certs(text);
        assert_int_equal(sk_X509_num(sk), n);
        for (int i = 0; i < n; i++)
                assert_int_equal(X509_cmp(sk_X509_value(sk, i), want[i]), 0);
        sk_X509_pop_free(sk, X509_free);
}

static EVP_PKEY *read_key(const char *text)
{
        BIO *b = BIO_new_mem_buf(text, -1);
        EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
        BIO_free(b);
        return k;
}

static int count_lines(const struct qbuf *b)
{
        int n = 0;
        for (size_t i = 0; i < b->len; i++)
                n += b->data[i] == '\n';
        return n;
}

static struct bundle_input base_input(const struct pki *p)
{
        struct bundle_input in = {.cert_pem = p->leaf_pem,
                                  .chain_pem = p->chain_pem,
                                  .key = p->leaf_key,
                                  .password = NULL,
                                  .basename = "www.example.com",
                                  .friendly_name = "www.example.com"};
        return in;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_format_names(void **state)
{
        (void)state;
        for (int i = 0; i < BUNDLE__COUNT; i++) {
                enum bundle_format f;
                assert_true(bundle_format_from_name(bundle_format_name((enum bundle_format)i), &f));
                assert_int_equal(f, i);
        }
        enum bundle_format f;
        assert_false(bundle_format_from_name("jks", &f));
        assert_false(bundle_format_from_name("PEM", &f));
        assert_false(bundle_needs_key(BUNDLE_PEM));
        assert_true(bundle_needs_key(BUNDLE_NGINX));
        assert_true(bundle_needs_key(BUNDLE_APACHE));
        assert_true(bundle_needs_key(BUNDLE_IIS));
        assert_true(bundle_needs_key(BUNDLE_TOMCAT));
        assert_false(bundle_needs_password(BUNDLE_PEM));
        assert_false(bundle_needs_password(BUNDLE_NGINX));
        assert_false(bundle_needs_password(BUNDLE_APACHE));
        assert_true(bundle_needs_password(BUNDLE_IIS));
        assert_true(bundle_needs_password(BUNDLE_TOMCAT));
}

static void test_pem_with_key(void **state)
{
        struct pki *p = *state;
        char *dir = make_tmpdir();
        struct bundle_input in = base_input(p);
        struct qbuf w;
        qbuf_init(&w, 8192);
        struct qerr_info ei = {0};
        assert_int_equal(pki_bundle_write(BUNDLE_PEM, &in, dir, &w, &ei), QERR_OK);
        assert_int_equal(count_entries(dir), 4);
        assert_int_equal(count_lines(&w), 4);
        assert_int_equal(file_mode(dir, "cert.pem"), 0644);
        assert_int_equal(file_mode(dir, "chain.pem"), 0644);
        assert_int_equal(file_mode(dir, "fullchain.pem"), 0644);
        assert_int_equal(file_mode(dir, "key.pem"), 0600);
        char *kp = path_of(dir, "key.pem");
        assert_non_null(strstr(qbuf_str(&w), kp));
        free(kp);

        char *cert = slurp(dir, "cert.pem", NULL);
        char *chain = slurp(dir, "chain.pem", NULL);
        char *full = slurp(dir, "fullchain.pem", NULL);
        char *key = slurp(dir, "key.pem", NULL);
        assert_certs(cert, p->leaf, NULL, NULL);
        assert_certs(chain, p->inter, p->root, NULL);
        assert_certs(full, p->leaf, p->inter, p->root);
        char *joined = concat(cert, chain);
        assert_string_equal(full, joined);
        assert_non_null(strstr(key, "-----BEGIN PRIVATE KEY-----"));
        EVP_PKEY *k = read_key(key);
        assert_non_null(k);
        assert_true(pki_key_matches(k, X509_get0_pubkey(p->leaf)));
        EVP_PKEY_free(k);
        free(joined);
        free(cert);
        free(chain);
        free(full);
        free(key);
        qbuf_free(&w);
        rm_tree(dir);
        free(dir);
}

static void test_pem_without_key(void **state)
{
        struct pki *p = *state;
        char *dir = make_tmpdir();
        struct bundle_input in = base_input(p);
        in.key = NULL;
        struct qbuf w;
        qbuf_init(&w, 8192);
        struct qerr_info ei = {0};
        assert_int_equal(pki_bundle_write(BUNDLE_PEM, &in, dir, &w, &ei), QERR_OK);
        assert_int_equal(count_entries(dir), 3);
        assert_int_equal(count_lines(&w), 3);
        assert_int_equal(file_mode(dir, "key.pem"), -1);
        assert_int_equal(file_mode(dir, "fullchain.pem"), 0644);
        qbuf_free(&w);
        rm_tree(dir);
        free(dir);
}

static void test_pem_no_chain_creates_outdir(void **state)
{
        struct pki *p = *state;
        char *dir = make_tmpdir();
        char *sub = path_of(dir, "a/b");
        struct bundle_input in = base_input(p);
        in.chain_pem = NULL;
        struct qbuf w;
        qbuf_init(&w, 8192);
        struct qerr_info ei = {0};
        assert_int_equal(pki_bundle_write(BUNDLE_PEM, &in, sub, &w, &ei), QERR_OK);
        assert_int_equal(file_mode(dir, "a/b"), 0755);
        assert_int_equal(count_entries(sub), 4);
        size_t n = 1;
        char *chain = slurp(sub, "chain.pem", &n);
        assert_int_equal(n, 0);
        char *full = slurp(sub, "fullchain.pem", NULL);
        assert_certs(full, p->leaf, NULL, NULL);
        free(chain);
        free(full);
        free(sub);
        qbuf_free(&w);
        rm_tree(dir);
        free(dir);
}

static void test_nginx(void **state)
{
        struct pki *p = *state;
        char *dir = make_tmpdir();
        struct bundle_input in = base_input(p);
        struct qbuf w;
        qbuf_init(&w, 8192);
        struct qerr_info ei = {0};
        assert_int_equal(pki_bundle_write(BUNDLE_NGINX, &in, dir, &w, &ei), QERR_OK);
        assert_int_equal(count_entries(dir), 2);
        assert_int_equal(count_lines(&w), 2);
        assert_int_equal(file_mode(dir, "www.example.com.crt"), 0644);
        assert_int_equal(file_mode(dir, "www.example.com.key"), 0600);
        char *crt = slurp(dir, "www.example.com.crt", NULL);
        assert_certs(crt, p->leaf, p->inter, NULL); /* no self-signed root */
        char *key = slurp(dir, "www.example.com.key", NULL);
        EVP_PKEY *k = read_key(key);
        assert_true(pki_key_matches(k, X509_get0_pubkey(p->leaf)));
        EVP_PKEY_free(k);
        free(crt);
        free(key);
        qbuf_free(&w);
        rm_tree(dir);
        free(dir);
}

static void test_apache(void **state)
{
        struct pki *p = *state;
        char *dir = make_tmpdir();
        struct bundle_input in = base_input(p);
        struct qbuf w;
        qbuf_init(&w, 8192);
        struct qerr_info ei = {0};
        assert_int_equal(pki_bundle_write(BUNDLE_APACHE, &in, dir, &w, &ei), QERR_OK);
        assert_int_equal(count_entries(dir), 3);
        assert_int_equal(count_lines(&w), 3);
        assert_int_equal(file_mode(dir, "www.example.com.crt"), 0644);
        assert_int_equal(file_mode(dir, "www.example.com.chain.crt"), 0644);
        assert_int_equal(file_mode(dir, "www.example.com.key"), 0600);
        char *crt = slurp(dir, "www.example.com.crt", NULL);
        char *chain = slurp(dir, "www.example.com.chain.crt", NULL);
        assert_certs(crt, p->leaf, NULL, NULL);
        assert_certs(chain, p->inter, NULL, NULL);
        free(crt);
        free(chain);
        qbuf_free(&w);
        rm_tree(dir);
        free(dir);
}

static void check_p12(const struct pki *p, const char *dir, const char *name, const char *pass,
                      X509 *leaf, EVP_PKEY *leaf_key, const char *alias)
{
        size_t n = 0;
        char *der = slurp(dir, name, &n);
        const unsigned char *q = (const unsigned char *)der;
        PKCS12 *p12 = d2i_PKCS12(NULL, &q, (long)n);
        assert_non_null(p12);
        assert_int_equal(PKCS12_verify_mac(p12, pass, -1), 1);
        assert_int_equal(PKCS12_verify_mac(p12, "wrong-password", -1), 0);

        EVP_PKEY *k = NULL;
        X509 *c = NULL;
        STACK_OF(X509) *ca = NULL;
        assert_int_equal(PKCS12_parse(p12, "wrong-password", &k, &c, &ca), 0);
        assert_null(k);
        assert_null(c);
        sk_X509_pop_free(ca, X509_free);
        ca = NULL;

        assert_int_equal(PKCS12_parse(p12, pass, &k, &c, &ca), 1);
        assert_non_null(k);
        assert_non_null(c);
        assert_int_equal(X509_cmp(c, leaf), 0);
        assert_int_equal(EVP_PKEY_eq(k, leaf_key), 1);
        int alen = 0;
        unsigned char *a = X509_alias_get0(c, &alen);
        assert_non_null(a);
        assert_int_equal(alen, (int)strlen(alias));
        assert_memory_equal(a, alias, (size_t)alen);
        assert_int_equal(sk_X509_num(ca), 2);
        assert_true((X509_cmp(sk_X509_value(ca, 0), p->inter) == 0 &&
                     X509_cmp(sk_X509_value(ca, 1), p->root) == 0) ||
                    (X509_cmp(sk_X509_value(ca, 1), p->inter) == 0 &&
                     X509_cmp(sk_X509_value(ca, 0), p->root) == 0));
        EVP_PKEY_free(k);
        X509_free(c);
        sk_X509_pop_free(ca, X509_free);
        PKCS12_free(p12);
        free(der);
}

static void test_iis(void **state)
{
        struct pki *p = *state;
        char *dir = make_tmpdir();
        struct bundle_input in = base_input(p);
        in.password = "s3cret-pfx";
        struct qbuf w;
        qbuf_init(&w, 8192);
        struct qerr_info ei = {0};
        assert_int_equal(pki_bundle_write(BUNDLE_IIS, &in, dir, &w, &ei), QERR_OK);
        assert_int_equal(count_entries(dir), 1);
        assert_int_equal(count_lines(&w), 1);
        assert_int_equal(file_mode(dir, "www.example.com.pfx"), 0600);
        check_p12(p, dir, "www.example.com.pfx", "s3cret-pfx", p->leaf, p->leaf_key,
                  "www.example.com");
        qbuf_free(&w);
        rm_tree(dir);
        free(dir);
}

static void test_tomcat_rsa(void **state)
{
        struct pki *p = *state;
        char *dir = make_tmpdir();
        struct bundle_input in = {.cert_pem = p->rsa_leaf_pem,
                                  .chain_pem = p->chain_pem,
                                  .key = p->rsa_key,
                                  .password = "changeit",
                                  .basename = "rsa.example.com",
                                  .friendly_name = "tomcat"};
        struct qbuf w;
        qbuf_init(&w, 8192);
        struct qerr_info ei = {0};
        assert_int_equal(pki_bundle_write(BUNDLE_TOMCAT, &in, dir, &w, &ei), QERR_OK);
        assert_int_equal(count_entries(dir), 1);
        assert_int_equal(file_mode(dir, "rsa.example.com.p12"), 0600);
        check_p12(p, dir, "rsa.example.com.p12", "changeit", p->rsa_leaf, p->rsa_key, "tomcat");
        qbuf_free(&w);
        rm_tree(dir);
        free(dir);
}

static void test_key_not_held(void **state)
{
        struct pki *p = *state;
        const enum bundle_format fs[] = {BUNDLE_NGINX, BUNDLE_APACHE, BUNDLE_IIS, BUNDLE_TOMCAT};
        for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++) {
                char *dir = make_tmpdir();
                struct bundle_input in = base_input(p);
                in.key = NULL;
                in.password = "long-enough";
                struct qbuf w;
                qbuf_init(&w, 8192);
                struct qerr_info ei = {0};
                assert_int_equal(pki_bundle_write(fs[i], &in, dir, &w, &ei), QERR_KEY_NOT_HELD);
                assert_int_equal(ei.code, QERR_KEY_NOT_HELD);
                assert_true(strlen(qerr_message(&ei)) > 0);
                assert_int_equal(count_entries(dir), 0);
                assert_int_equal(w.len, 0);
                qbuf_free(&w);
                rm_tree(dir);
                free(dir);
        }
}

static void test_password_required(void **state)
{
        struct pki *p = *state;
        const enum bundle_format fs[] = {BUNDLE_IIS, BUNDLE_TOMCAT};
        const char *bad[] = {NULL, "", "abc"};
        for (size_t i = 0; i < 2; i++)
                for (size_t j = 0; j < 3; j++) {
                        char *dir = make_tmpdir();
                        struct bundle_input in = base_input(p);
                        in.password = bad[j];
                        struct qbuf w;
                        qbuf_init(&w, 8192);
                        struct qerr_info ei = {0};
                        assert_int_equal(pki_bundle_write(fs[i], &in, dir, &w, &ei),
                                         QERR_PASSWORD_REQUIRED);
                        assert_int_equal(count_entries(dir), 0);
                        qbuf_free(&w);
                        rm_tree(dir);
                        free(dir);
                }
        /* four characters are enough */
        char *dir = make_tmpdir();
        struct bundle_input in = base_input(p);
        in.password = "abcd";
        struct qbuf w;
        qbuf_init(&w, 8192);
        struct qerr_info ei = {0};
        assert_int_equal(pki_bundle_write(BUNDLE_IIS, &in, dir, &w, &ei), QERR_OK);
        qbuf_free(&w);
        rm_tree(dir);
        free(dir);
}

static void test_refuses_overwrite_and_cleans_up(void **state)
{
        struct pki *p = *state;
        char *dir = make_tmpdir();
        /* fullchain.pem is the third file written: cert.pem and chain.pem are
         * written first and must be removed again. */
        char *fc = path_of(dir, "fullchain.pem");
        struct qerr_info ei = {0};
        assert_int_equal(fs_write_file(fc, "mine\n", 5, 0640, true, &ei), QERR_OK);
        struct bundle_input in = base_input(p);
        struct qbuf w;
        qbuf_init(&w, 8192);
        assert_true(qbuf_append_str(&w, "earlier\n"));
        assert_int_equal(pki_bundle_write(BUNDLE_PEM, &in, dir, &w, &ei), QERR_IO);
        assert_non_null(strstr(qerr_message(&ei), "fullchain.pem"));
        assert_int_equal(count_entries(dir), 1);
        assert_int_equal(file_mode(dir, "cert.pem"), -1);
        assert_int_equal(file_mode(dir, "chain.pem"), -1);
        assert_int_equal(file_mode(dir, "fullchain.pem"), 0640);
        char *mine = slurp(dir, "fullchain.pem", NULL);
        assert_string_equal(mine, "mine\n");
        assert_string_equal(qbuf_str(&w), "earlier\n");
        free(mine);

        /* the key file of nginx exists: the .crt written before it goes */
        char *kf = path_of(dir, "www.example.com.key");
        assert_int_equal(fs_write_file(kf, "k\n", 2, 0600, true, &ei), QERR_OK);
        assert_int_equal(pki_bundle_write(BUNDLE_NGINX, &in, dir, &w, &ei), QERR_IO);
        assert_int_equal(count_entries(dir), 2);
        assert_int_equal(file_mode(dir, "www.example.com.crt"), -1);
        assert_string_equal(qbuf_str(&w), "earlier\n");

        /* an existing .pfx is not replaced */
        in.password = "s3cret";
        char *pf = path_of(dir, "www.example.com.pfx");
        assert_int_equal(fs_write_file(pf, "x", 1, 0600, true, &ei), QERR_OK);
        assert_int_equal(pki_bundle_write(BUNDLE_IIS, &in, dir, &w, &ei), QERR_IO);
        size_t n = 0;
        char *pfx = slurp(dir, "www.example.com.pfx", &n);
        assert_int_equal(n, 1);
        free(pfx);
        free(pf);
        free(kf);
        free(fc);
        qbuf_free(&w);
        rm_tree(dir);
        free(dir);
}

static void test_key_must_match(void **state)
{
        struct pki *p = *state;
        char *dir = make_tmpdir();
        struct bundle_input in = base_input(p);
        in.key = p->other_key;
        struct qbuf w;
        qbuf_init(&w, 8192);
        struct qerr_info ei = {0};
        assert_int_not_equal(pki_bundle_write(BUNDLE_NGINX, &in, dir, &w, &ei), QERR_OK);
        assert_int_equal(count_entries(dir), 0);
        qbuf_free(&w);
        rm_tree(dir);
        free(dir);
}

static void test_bad_format(void **state)
{
        struct pki *p = *state;
        struct bundle_input in = base_input(p);
        struct qbuf w;
        qbuf_init(&w, 8192);
        struct qerr_info ei = {0};
        assert_int_equal(pki_bundle_write(BUNDLE__COUNT, &in, "/tmp/none", &w, &ei),
                         QERR_FORMAT_INVALID);
        qbuf_free(&w);
}

int main(void)
{
        umask(022);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_format_names),
            cmocka_unit_test(test_pem_with_key),
            cmocka_unit_test(test_pem_without_key),
            cmocka_unit_test(test_pem_no_chain_creates_outdir),
            cmocka_unit_test(test_nginx),
            cmocka_unit_test(test_apache),
            cmocka_unit_test(test_iis),
            cmocka_unit_test(test_tomcat_rsa),
            cmocka_unit_test(test_key_not_held),
            cmocka_unit_test(test_password_required),
            cmocka_unit_test(test_refuses_overwrite_and_cleans_up),
            cmocka_unit_test(test_key_must_match),
            cmocka_unit_test(test_bad_format),
        };
        return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
