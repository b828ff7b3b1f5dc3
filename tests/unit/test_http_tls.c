/*
 * test_http_tls.c - HTTPS listeners (src/http/tls.c and the certificate
 * callback): a chain made here with OpenSSL (root -> issuing CA -> leaf),
 * an OpenSSL client that trusts only the root and must verify (so the
 * server has to send the issuing CA), EC and RSA leaf keys, TLS 1.2+ only,
 * and http_server_set_tls(): a keep-alive connection opened before the
 * swap goes on with the old certificate while new connections get the new
 * one; a pair that does not match is refused and changes nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/metrics.h"
#include "http/http.h"

/* ---- a CA made in the test ---- */

static EVP_PKEY *ec_key(void)
{
        EVP_PKEY *k = EVP_EC_gen("P-256");
        assert_non_null(k);
        return k;
}

static EVP_PKEY *rsa_key(void)
{
        EVP_PKEY *k = EVP_RSA_gen(2048);
        assert_non_null(k);
        return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        assert_non_null(e);
        assert_int_equal(X509_add_ext(x, e, -1), 1);
        X509_EXTENSION_free(e);
}

/* A certificate for `key`, signed by issuer_key (self-signed when issuer
 * is NULL). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
                       long serial)
{
        X509 *x = X509_new();
        assert_non_null(x);
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
        X509_gmtime_adj(X509_getm_notBefore(x), -60);
        X509_gmtime_adj(X509_getm_notAfter(x), 86400);
        X509_NAME *n = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
        X509_set_pubkey(x, key);
        add_ext(x, issuer, NID_subject_key_identifier, "hash");
        add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
        if (ca) {
                add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
                add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
        } else {
                add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
                add_ext(x, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
                add_ext(x, issuer, NID_ext_key_usage, "serverAuth");
                add_ext(x, issuer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
        }
        assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
        return x;
}

static char *cert_pem(X509 *x)
{
        BIO *b = BIO_new(BIO_s_mem());
        PEM_write_bio_X509(b, x);
        char *p;
        long n = BIO_get_mem_data(b, &p);
        char *out = strndup(p, (size_t)n);
        BIO_free(b);
        return out;
}

static char *key_pem(EVP_PKEY *k)
{
        BIO *b = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
        char *p;
        long n = BIO_get_mem_data(b, &p);
        char *out = strndup(p, (size_t)n);
        BIO_free(b);
        return out;
}

struct pki {
        EVP_PKEY *root_key, *ca_key;
        X509 *root, *ca;
        char *root_pem, *ca_pem;
};

static struct pki pki;

struct leaf {
        char *chain; /* leaf + issuing CA */
        char *key;
        long serial;
};

static struct leaf make_leaf(bool rsa, long serial)
{
        EVP_PKEY *k = rsa ? rsa_key() : ec_key();
        X509 *x = make_cert(k, "localhost", pki.ca, pki.ca_key, false, serial);
        char *leaf = cert_pem(x);
        struct leaf l = {.serial = serial, .key = key_pem(k)};
        size_t len = strlen(leaf) + strlen(pki.ca_pem) + 1;
        l.chain = malloc(len);
        snprintf(l.chain, len, "%s%s", leaf, pki.ca_pem);
        free(leaf);
        X509_free(x);
        EVP_PKEY_free(k);
        return l;
}

static void leaf_free(struct leaf *l)
{
        free(l->chain);
        free(l->key);
}

/* ---- an OpenSSL client that trusts only the root ---- */

struct conn {
        int fd;
        SSL_CTX *ctx;
        SSL *ssl;
};

/* Connects and handshakes; false when the handshake fails. */
static bool tls_connect(int port, struct conn *c, int max_version)
{
        memset(c, 0, sizeof *c);
        c->ctx = SSL_CTX_new(TLS_client_method());
        assert_non_null(c->ctx);
        if (max_version) {
                SSL_CTX_set_security_level(c->ctx, 0);
                SSL_CTX_set_cipher_list(c->ctx, "DEFAULT:@SECLEVEL=0");
                SSL_CTX_set_min_proto_version(c->ctx, 0);
                SSL_CTX_set_max_proto_version(c->ctx, max_version);
        }
        X509_STORE_add_cert(SSL_CTX_get_cert_store(c->ctx), pki.root);
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
        X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(c->ctx), "127.0.0.1");
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        struct timeval tv = {.tv_sec = 10, .tv_usec = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof sa), 0);
        c->ssl = SSL_new(c->ctx);
        SSL_set_fd(c->ssl, c->fd);
        if (SSL_connect(c->ssl) != 1) {
                ERR_clear_error();
                return false;
        }
        assert_int_equal(SSL_get_verify_result(c->ssl), X509_V_OK);
        return true;
}

static void tls_close(struct conn *c)
{
        if (c->ssl) {
                SSL_shutdown(c->ssl);
                SSL_free(c->ssl);
        }
        SSL_CTX_free(c->ctx);
        close(c->fd);
        memset(c, 0, sizeof *c);
}

static long peer_serial(struct conn *c)
{
        X509 *x = SSL_get1_peer_certificate(c->ssl);
        assert_non_null(x);
        long v = ASN1_INTEGER_get(X509_get0_serialNumber(x));
        X509_free(x);
        return v;
}

/* One GET on the connection (keep-alive); returns the status, body in out. */
static int tls_get(struct conn *c, const char *path, char *out, size_t outsz)
{
        char req[256];
        int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
        assert_int_equal(SSL_write(c->ssl, req, n), n);
        char buf[4096];
        size_t len = 0;
        size_t want = 0;
        while (len < sizeof buf - 1) {
                int r = SSL_read(c->ssl, buf + len, (int)(sizeof buf - 1 - len));
                if (r <= 0)
                        break;
                len += (size_t)r;
                buf[len] = 0;
                char *sep = strstr(buf, "\r\n\r\n");
                const char *cl = strcasestr(buf, "Content-Length:");
                if (sep && cl)
                        want = (size_t)(sep + 4 - buf) + strtoul(cl + 15, NULL, 10);
                if (want && len >= want)
                        break;
        }
        buf[len] = 0;
        int status = 0;
        sscanf(buf, "HTTP/1.1 %d", &status);
        char *body = strstr(buf, "\r\n\r\n");
        snprintf(out, outsz, "%s", body ? body + 4 : "");
        return status;
}

/* ---- the server ---- */

static void h_hello(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        resp->content_type = "text/plain";
        qbuf_printf(&resp->body, "hello tls=%d", req->tls);
}

static const struct http_route routes[] = {
    {.method = "GET", .pattern = "/hello", .fn = h_hello},
};

static struct http_server *start_tls(const struct leaf *l, enum qerr want)
{
        struct http_listener_opts o = {
            .listen = "127.0.0.1:0",
            .routes = routes,
            .nroutes = 1,
            .threads = 2,
            .cert_chain_pem = l->chain,
            .key_pem = l->key,
        };
        struct http_server *s = NULL;
        struct qerr_info ei;
        qerr_clear(&ei);
        enum qerr rc = http_server_start(&o, &s, &ei);
        if (rc != want)
                fail_msg("start: %s (%s)", qerr_code(rc), qerr_message(&ei));
        return s;
}

static int group_setup(void **st)
{
        (void)st;
        qlog_set_level(QLOG_OFF);
        pki.root_key = ec_key();
        pki.root = make_cert(pki.root_key, "Test Root", NULL, NULL, true, 1);
        pki.ca_key = ec_key();
        pki.ca = make_cert(pki.ca_key, "Test Issuing", pki.root, pki.root_key, true, 2);
        pki.root_pem = cert_pem(pki.root);
        pki.ca_pem = cert_pem(pki.ca);
        return 0;
}

static int group_teardown(void **st)
{
        (void)st;
        X509_free(pki.root);
        X509_free(pki.ca);
        EVP_PKEY_free(pki.root_key);
        EVP_PKEY_free(pki.ca_key);
        free(pki.root_pem);
        free(pki.ca_pem);
        metrics_shutdown();
        return 0;
}

/* ---- tests ---- */

static void check_serves(bool rsa)
{
        struct leaf l = make_leaf(rsa, rsa ? 11 : 10);
        struct http_server *s = start_tls(&l, QERR_OK);
        struct conn c;
        assert_true(tls_connect(http_server_port(s), &c, 0));
        /* the whole chain: leaf and issuing CA (the root is the client's) */
        STACK_OF(X509) *chain = SSL_get_peer_cert_chain(c.ssl);
        assert_non_null(chain);
        assert_int_equal(sk_X509_num(chain), 2);
        assert_true(SSL_version(c.ssl) >= TLS1_2_VERSION);
        char body[256];
        assert_int_equal(tls_get(&c, "/hello", body, sizeof body), 200);
        assert_string_equal(body, "hello tls=1");
        assert_int_equal(tls_get(&c, "/hello", body, sizeof body), 200); /* keep-alive */
        tls_close(&c);
        http_server_stop(s, 1000);
        leaf_free(&l);
}

static void test_ec_leaf(void **st)
{
        (void)st;
        check_serves(false);
}

static void test_rsa_leaf(void **st)
{
        (void)st;
        check_serves(true);
}

static void test_old_tls_refused(void **st)
{
        (void)st;
        struct leaf l = make_leaf(false, 12);
        struct http_server *s = start_tls(&l, QERR_OK);
        struct conn c;
        assert_false(tls_connect(http_server_port(s), &c, TLS1_1_VERSION));
        tls_close(&c);
        /* and 1.2 alone works */
        assert_true(tls_connect(http_server_port(s), &c, TLS1_2_VERSION));
        assert_int_equal(SSL_version(c.ssl), TLS1_2_VERSION);
        tls_close(&c);
        http_server_stop(s, 1000);
        leaf_free(&l);
}

static void test_swap_keeps_connections(void **st)
{
        (void)st;
        struct leaf one = make_leaf(false, 21), two = make_leaf(true, 22);
        struct http_server *s = start_tls(&one, QERR_OK);
        int port = http_server_port(s);
        struct conn a;
        assert_true(tls_connect(port, &a, 0));
        char body[256];
        assert_int_equal(tls_get(&a, "/hello", body, sizeof body), 200);
        assert_int_equal(peer_serial(&a), 21);

        struct qerr_info ei;
        qerr_clear(&ei);
        assert_int_equal(http_server_set_tls(s, two.chain, two.key, &ei), QERR_OK);
        /* the connection from before goes on (same TLS session, old cert) */
        assert_int_equal(tls_get(&a, "/hello", body, sizeof body), 200);
        assert_string_equal(body, "hello tls=1");
        assert_int_equal(peer_serial(&a), 21);
        /* new connections get the new certificate */
        struct conn b;
        assert_true(tls_connect(port, &b, 0));
        assert_int_equal(peer_serial(&b), 22);
        assert_int_equal(tls_get(&b, "/hello", body, sizeof body), 200);
        tls_close(&b);

        /* a key of another certificate: refused, nothing changes */
        assert_int_equal(http_server_set_tls(s, one.chain, two.key, &ei), QERR_TLS_INVALID);
        assert_non_null(strstr(qerr_message(&ei), "does not belong"));
        assert_int_equal(http_server_set_tls(s, "garbage", two.key, &ei), QERR_TLS_INVALID);
        assert_int_equal(http_server_set_tls(s, two.chain, "garbage", &ei), QERR_TLS_INVALID);
        assert_true(tls_connect(port, &b, 0));
        assert_int_equal(peer_serial(&b), 22);
        tls_close(&b);
        assert_int_equal(tls_get(&a, "/hello", body, sizeof body), 200);
        tls_close(&a);
        http_server_stop(s, 1000);
        leaf_free(&one);
        leaf_free(&two);
}

static void test_mismatched_pair_at_start(void **st)
{
        (void)st;
        struct leaf one = make_leaf(false, 31), two = make_leaf(false, 32);
        struct leaf mixed = {.chain = one.chain, .key = two.key};
        assert_null(start_tls(&mixed, QERR_TLS_INVALID));
        /* an encrypted key is not usable either (nobody to type its password) */
        EVP_PKEY *k = ec_key();
        BIO *b = BIO_new(BIO_s_mem());
        PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(), "password", 8, NULL, NULL);
        char *p;
        long n = BIO_get_mem_data(b, &p);
        char *enc = strndup(p, (size_t)n);
        struct leaf encrypted = {.chain = one.chain, .key = enc};
        assert_null(start_tls(&encrypted, QERR_TLS_INVALID));
        free(enc);
        BIO_free(b);
        EVP_PKEY_free(k);
        leaf_free(&one);
        leaf_free(&two);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ec_leaf),
            cmocka_unit_test(test_rsa_leaf),
            cmocka_unit_test(test_old_tls_refused),
            cmocka_unit_test(test_swap_keeps_connections),
            cmocka_unit_test(test_mismatched_pair_at_start),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
