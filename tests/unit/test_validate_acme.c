/*
 * test_validate_acme.c - the ACME challenges of src/validate: tls-alpn-01
 * (validate_alpn.c, RFC 8737) and http-01 (validate_file.c, RFC 8555 8.3),
 * for DNS names and IP addresses (RFC 8738).
 *
 * Real parts, in process: a real TLS server (OpenSSL) that answers the
 * ALPN protocol acme-tls/1 with a certificate chosen by the test (the
 * `mode`), a small HTTP server for http-01, and a small DNS server on UDP
 * that the real resolver (src/dns, libunbound) forwards to, so DNS names
 * go through our resolver exactly as in production: alpn.example.test and
 * www.example.test have 127.0.0.1, v6.example.test has ::1, private.example.test
 * has 10.0.0.5, nx.example.test does not exist.
 *
 * Network namespace: like test_validate.c, this binary names 10.0.0.5 and
 * so runs only inside the private namespace of scripts/netns-run.sh (make
 * unit puts it there); the servers listen on every address of the namespace
 * and count connections, so "refused without a connection" is counted.
 *
 * The certificate checks on crafted certificates (no network) are a table.
 *
 * Memory: the servers, the resolver and the key live for the group.
 * Threads: the servers run on one thread of their own; tests on the main one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/netaddr.h"
#include "dns/dns.h"
#include "unit_netns.h"
#include "validate/validate.h"

#define KA "tok-ABCdef_123.thumbprint-xyzXYZ0123456789abcdefghijklmnopq"
#define TOKEN "tok-ABCdef_123"
#define SOURCES "192.0.2.7"

enum mode {
        M_GOOD, /* SAN = the name, critical acmeIdentifier with the digest */
        M_WRONG_DIGEST,
        M_NOT_CRITICAL,
        M_NO_EXT,
        M_RAW_DIGEST, /* the 32 bytes without the OCTET STRING wrapping */
        M_TWO_SANS,
        M_OTHER_SAN,
        M_DNS_FOR_IP, /* a dNSName where the iPAddress is needed */
        M_NO_ALPN,    /* the server selects no protocol */
        M_CLOSE,      /* closes at once */
        M_PLAIN,      /* answers plain HTTP */
        M_SLOW,       /* accepts, never answers */
};

/* ---- certificates ---- */

static EVP_PKEY *g_key;

static uint8_t *ka_digest(const char *ka, uint8_t d[32])
{
        unsigned int n = 32;
        EVP_Digest(ka, strlen(ka), d, &n, EVP_sha256(), NULL);
        return d;
}

static void add_san(X509 *x, const char *name)
{
        GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
        char buf[512];
        snprintf(buf, sizeof buf, "%s", name);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
                GENERAL_NAME *g = GENERAL_NAME_new();
                struct netaddr a;
                if (netaddr_parse(tok, &a)) {
                        ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();
                        ASN1_OCTET_STRING_set(o, a.b, a.family == NETADDR_V4 ? 4 : 16);
                        GENERAL_NAME_set0_value(g, GEN_IPADD, o);
                } else {
                        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
                        ASN1_STRING_set(s, tok, (int)strlen(tok));
                        GENERAL_NAME_set0_value(g, GEN_DNS, s);
                }
                sk_GENERAL_NAME_push(gens, g);
        }
        X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT);
        GENERAL_NAMES_free(gens);
}

static void add_acme_id(X509 *x, const uint8_t *val, size_t len, int crit)
{
        ASN1_OBJECT *oid = OBJ_txt2obj(VALIDATE_ACME_ID_OID, 1);
        ASN1_OCTET_STRING *data = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(data, val, (int)len);
        X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, oid, crit, data);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
        ASN1_OCTET_STRING_free(data);
        ASN1_OBJECT_free(oid);
}

/* A self-signed certificate: SAN `san` (comma-separated), and the
 * acmeIdentifier as `mode` says. */
static X509 *make_cert(const char *san, enum mode mode, const char *ka)
{
        X509 *x = X509_new();
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, g_key);
        X509_NAME *n = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"acme", -1, -1, 0);
        X509_set_issuer_name(x, n);
        if (mode == M_TWO_SANS) {
                char two[300];
                snprintf(two, sizeof two, "%s,other.example.test", san);
                add_san(x, two);
        } else if (mode == M_OTHER_SAN) {
                add_san(x, "evil.example.test");
        } else if (mode == M_DNS_FOR_IP) {
                add_san(x, "ip.example.test");
        } else {
                add_san(x, san);
        }
        uint8_t d[32], der[34] = {0x04, 0x20};
        ka_digest(mode == M_WRONG_DIGEST ? "another.challenge" : ka, d);
        memcpy(der + 2, d, 32);
        if (mode == M_RAW_DIGEST)
                add_acme_id(x, d, 32, 1);
        else if (mode != M_NO_EXT)
                add_acme_id(x, der, sizeof der, mode == M_NOT_CRITICAL ? 0 : 1);
        X509_sign(x, g_key, EVP_sha256());
        return x;
}

/* ---- the servers: TLS (tls-alpn-01), HTTP (http-01), DNS ---- */

struct servers {
        int tls4, tls6, http4, http6, dns; /* listening sockets */
        int tls_port, http_port, dns_port;
        int stop[2];
        int held[16];
        int nheld;
        int mode;      /* enum mode (atomic) */
        char san[128]; /* what the certificate names (set before a call) */
        char sni[128]; /* the last SNI received */
        int accepted;  /* TLS and HTTP connections (atomic) */
        pthread_t thread;
};

static struct servers g_srv;

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
        (void)ssl;
        (void)arg;
        static const unsigned char want[] = "\x0a" VALIDATE_ALPN_PROTO;
        if (__atomic_load_n(&g_srv.mode, __ATOMIC_SEQ_CST) == M_NO_ALPN)
                return SSL_TLSEXT_ERR_NOACK;
        if (SSL_select_next_proto((unsigned char **)out, outlen, want, sizeof want - 1, in,
                                  inlen) != OPENSSL_NPN_NEGOTIATED)
                return SSL_TLSEXT_ERR_NOACK;
        return SSL_TLSEXT_ERR_OK;
}

/* Records the SNI while the ClientHello is processed, before the server
 * sends its certificate (so before the client can have finished). */
static int on_servername(SSL *ssl, int *alert, void *arg)
{
        (void)alert;
        (void)arg;
        const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        snprintf(g_srv.sni, sizeof g_srv.sni, "%s", sni ? sni : "");
        return SSL_TLSEXT_ERR_OK;
}

static void serve_tls(int fd)
{
        int mode = __atomic_load_n(&g_srv.mode, __ATOMIC_SEQ_CST);
        if (mode == M_CLOSE) {
                close(fd);
                return;
        }
        if (mode == M_PLAIN) {
                const char r[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
                send(fd, r, sizeof r - 1, MSG_NOSIGNAL);
                close(fd);
                return;
        }
        if (mode == M_SLOW) {
                if (g_srv.nheld < 16)
                        g_srv.held[g_srv.nheld++] = fd;
                else
                        close(fd);
                return;
        }
        struct timeval tv = {.tv_sec = 3};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        X509 *x = make_cert(g_srv.san, (enum mode)mode, KA);
        SSL_CTX_use_certificate(ctx, x);
        SSL_CTX_use_PrivateKey(ctx, g_key);
        SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
        SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
        SSL *ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1)
                SSL_shutdown(ssl);
        SSL_free(ssl);
        X509_free(x);
        SSL_CTX_free(ctx);
        close(fd);
}

static void serve_http(int fd)
{
        char req[2048] = "";
        size_t got = 0;
        while (got < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
                ssize_t r = recv(fd, req + got, sizeof req - 1 - got, 0);
                if (r <= 0)
                        break;
                got += (size_t)r;
                req[got] = '\0';
        }
        char path[256] = "", head[256];
        const char *body = "not found\n";
        int status = 404;
        if (sscanf(req, "GET %255s HTTP/1.1", path) == 1) {
                if (strcmp(path, "/.well-known/acme-challenge/" TOKEN) == 0) {
                        status = 200;
                        body = KA "\r\n";
                } else if (strcmp(path, "/.well-known/acme-challenge/wrong") == 0) {
                        status = 200;
                        body = "wrong.thumbprint";
                } else if (strcmp(path, "/.well-known/acme-challenge/redirect") == 0) {
                        status = 302;
                        body = "";
                }
        }
        int n =
            snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
                     strlen(body),
                     status == 302 ? "Location: /.well-known/acme-challenge/" TOKEN "\r\n" : "");
        send(fd, head, (size_t)n, MSG_NOSIGNAL);
        send(fd, body, strlen(body), MSG_NOSIGNAL);
        close(fd);
}

/* The DNS answers (for A or AAAA of a name); NULL address: NODATA. */
static const struct {
        const char *name;
        const char *a, *aaaa;
} zone[] = {
    {"alpn.example.test", "127.0.0.1", NULL},
    {"www.example.test", "127.0.0.1", NULL},
    {"v6.example.test", NULL, "::1"},
    {"private.example.test", "10.0.0.5", NULL},
};

/* Reads the question name (uncompressed) at q into text; its end, or 0. */
static size_t qname(const uint8_t *m, size_t len, size_t q, char *out, size_t outsz)
{
        size_t o = 0;
        while (q < len && m[q] != 0) {
                size_t l = m[q++];
                if (l > 63 || q + l > len || o + l + 2 > outsz)
                        return 0;
                if (o)
                        out[o++] = '.';
                for (size_t i = 0; i < l; i++)
                        out[o++] =
                            (char)((m[q + i] >= 'A' && m[q + i] <= 'Z') ? m[q + i] + 32 : m[q + i]);
                q += l;
        }
        out[o] = '\0';
        return q < len ? q + 1 : 0;
}

static void serve_dns(int fd)
{
        uint8_t m[512], r[600];
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, m, sizeof m, 0, (struct sockaddr *)&from, &fl);
        if (n < 17)
                return;
        char name[256];
        size_t end = qname(m, (size_t)n, 12, name, sizeof name);
        if (!end || end + 4 > (size_t)n)
                return;
        uint16_t qtype = (uint16_t)(m[end] << 8 | m[end + 1]);
        size_t qlen = end + 4;
        memcpy(r, m, qlen);
        r[2] = 0x81 | (m[2] & 0x01); /* QR, RD copied */
        r[3] = 0x80;                 /* RA, NOERROR */
        r[4] = 0, r[5] = 1;          /* QDCOUNT */
        memset(r + 6, 0, 6);         /* AN, NS, AR */
        size_t o = qlen;
        bool known = false;
        for (size_t i = 0; i < sizeof zone / sizeof zone[0]; i++) {
                if (strcmp(zone[i].name, name) != 0)
                        continue;
                known = true;
                const char *addr = qtype == DNS_TYPE_A      ? zone[i].a
                                   : qtype == DNS_TYPE_AAAA ? zone[i].aaaa
                                                            : NULL;
                uint8_t b[16];
                int fam = qtype == DNS_TYPE_A ? AF_INET : AF_INET6;
                if (!addr || inet_pton(fam, addr, b) != 1)
                        break;
                size_t bl = fam == AF_INET ? 4 : 16;
                const uint8_t rr[] = {
                    0xc0, 0x0c,       (uint8_t)(qtype >> 8), (uint8_t)qtype, 0, 1, 0, 0, 0x0e, 0x10,
                    0,    (uint8_t)bl};
                memcpy(r + o, rr, sizeof rr);
                o += sizeof rr;
                memcpy(r + o, b, bl);
                o += bl;
                r[7] = 1;
        }
        if (!known)
                r[3] = 0x83; /* NXDOMAIN */
        sendto(fd, r, o, 0, (struct sockaddr *)&from, fl);
}

static void *servers_main(void *arg)
{
        (void)arg;
        for (;;) {
                struct pollfd p[6] = {
                    {.fd = g_srv.tls4, .events = POLLIN},  {.fd = g_srv.tls6, .events = POLLIN},
                    {.fd = g_srv.http4, .events = POLLIN}, {.fd = g_srv.http6, .events = POLLIN},
                    {.fd = g_srv.dns, .events = POLLIN},   {.fd = g_srv.stop[0], .events = POLLIN}};
                if (poll(p, 6, -1) < 0 || p[5].revents)
                        break;
                if (p[4].revents)
                        serve_dns(g_srv.dns);
                for (int i = 0; i < 4; i++) {
                        if (!p[i].revents)
                                continue;
                        int c = accept(p[i].fd, NULL, NULL);
                        if (c < 0)
                                continue;
                        __atomic_add_fetch(&g_srv.accepted, 1, __ATOMIC_SEQ_CST);
                        if (i < 2)
                                serve_tls(c);
                        else
                                serve_http(c);
                }
        }
        return NULL;
}

/* A socket of `type` bound to the any-address of `family` on `port` (0:
 * any); its port in *got. -1 on failure. */
static int listen_any(int family, int type, int port, int *got)
{
        int fd = socket(family, type, 0), one = 1;
        struct sockaddr_storage ss;
        socklen_t sl;
        memset(&ss, 0, sizeof ss);
        if (family == AF_INET) {
                struct sockaddr_in *a = (struct sockaddr_in *)&ss;
                a->sin_family = AF_INET;
                a->sin_port = htons((uint16_t)port);
                sl = sizeof *a;
        } else {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons((uint16_t)port);
                sl = sizeof *a;
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        }
        if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
            (type == SOCK_STREAM && listen(fd, 16) != 0) ||
            getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
                return -1;
        *got = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                       : ((struct sockaddr_in6 *)&ss)->sin6_port);
        return fd;
}

/* ---- fixture ---- */

struct fixture {
        struct dns_resolver *dns;
        struct validate_cfg cfg;
};

static int group_setup(void **state)
{
        char why[160], fwd[32];
        struct qerr_info ei;
        if (!netns_isolated(why, sizeof why)) {
                fprintf(stderr,
                        "test_validate_acme: not inside the private network namespace of "
                        "scripts/netns-run.sh (%s): run it as scripts/netns-run.sh "
                        "build/unit/test_validate_acme (make unit does)\n",
                        why);
                return -1;
        }
        signal(SIGPIPE, SIG_IGN);
        g_key = EVP_EC_gen("P-256");
        int p6;
        g_srv.tls4 = listen_any(AF_INET, SOCK_STREAM, 0, &g_srv.tls_port);
        g_srv.tls6 = listen_any(AF_INET6, SOCK_STREAM, g_srv.tls_port, &p6);
        g_srv.http4 = listen_any(AF_INET, SOCK_STREAM, 0, &g_srv.http_port);
        g_srv.http6 = listen_any(AF_INET6, SOCK_STREAM, g_srv.http_port, &p6);
        g_srv.dns = listen_any(AF_INET, SOCK_DGRAM, 0, &g_srv.dns_port);
        if (!g_key || g_srv.tls4 < 0 || g_srv.tls6 < 0 || g_srv.http4 < 0 || g_srv.http6 < 0 ||
            g_srv.dns < 0 || pipe(g_srv.stop) != 0 ||
            pthread_create(&g_srv.thread, NULL, servers_main, NULL) != 0)
                return -1;
        struct fixture *fx = calloc(1, sizeof *fx);
        snprintf(fwd, sizeof fwd, "127.0.0.1:%d", g_srv.dns_port);
        struct dns_opts o = {.forwarder = fwd, .timeout_ms = 1000, .retries = 0};
        if (!fx || validate_global_init(&ei) != QERR_OK ||
            dns_resolver_new(&o, &fx->dns, &ei) != QERR_OK)
                return -1;
        fx->cfg = (struct validate_cfg){.dns = fx->dns,
                                        .http_port = g_srv.http_port,
                                        .https_port = 1,
                                        .tls_alpn_port = g_srv.tls_port,
                                        .timeout_ms = 1000,
                                        .source_addresses = SOURCES,
                                        .allow_private = true};
        *state = fx;
        return 0;
}

static int group_teardown(void **state)
{
        struct fixture *fx = *state;
        if (write(g_srv.stop[1], "x", 1) == 1)
                pthread_join(g_srv.thread, NULL);
        for (int i = 0; i < g_srv.nheld; i++)
                close(g_srv.held[i]);
        close(g_srv.tls4);
        close(g_srv.tls6);
        close(g_srv.http4);
        close(g_srv.http6);
        close(g_srv.dns);
        if (fx)
                dns_resolver_free(fx->dns);
        free(fx);
        EVP_PKEY_free(g_key);
        curl_global_cleanup();
        return 0;
}

static int accepted(void)
{
        return __atomic_load_n(&g_srv.accepted, __ATOMIC_SEQ_CST);
}

static void set_mode(enum mode m, const char *san)
{
        snprintf(g_srv.san, sizeof g_srv.san, "%s", san);
        g_srv.sni[0] = '\0';
        __atomic_store_n(&g_srv.mode, (int)m, __ATOMIC_SEQ_CST);
}

static void expect(const struct validate_result *r, enum qerr code, bool final, const char *says,
                   const char *what)
{
        if (r->code != code || r->final != final || !strstr(r->msg, says))
                fail_msg("%s: want %s final=%d \"%s\", got %s final=%d \"%s\"", what,
                         qerr_code(code), final, says, qerr_code(r->code), r->final, r->msg);
}

/* A loopback port nothing listens on (bound, then closed). */
static int closed_port(int type)
{
        int got = -1, fd = listen_any(AF_INET, type, 0, &got);
        if (fd >= 0)
                close(fd);
        return got;
}

/* ---- the certificate checks (no network) ---- */

static void check_der(X509 *x, const char *name, struct validate_result *r)
{
        uint8_t d[32];
        unsigned char *der = NULL;
        int len = i2d_X509(x, &der);
        assert_true(len > 0);
        validate_alpn_check_cert(der, (size_t)len, name, ka_digest(KA, d), r);
        OPENSSL_free(der);
}

static void test_cert_checks(void **state)
{
        (void)state;
        static const struct {
                const char *name; /* validated and put in the SAN */
                enum mode mode;
                enum qerr code;
                const char *says;
        } cases[] = {
            {"alpn.example.test", M_GOOD, QERR_OK, "holds the key authorization's digest"},
            {"192.0.2.1", M_GOOD, QERR_OK, "holds the key authorization's digest"},
            {"2001:db8::1", M_GOOD, QERR_OK, "holds the key authorization's digest"},
            {"alpn.example.test", M_WRONG_DIGEST, QERR_VALIDATION_MISMATCH,
             "not SHA-256 of this challenge's key authorization"},
            {"alpn.example.test", M_NOT_CRITICAL, QERR_TLS_ALPN_CERT_INVALID,
             "acmeIdentifier extension that is not critical"},
            {"alpn.example.test", M_NO_EXT, QERR_TLS_ALPN_CERT_INVALID,
             "has no acmeIdentifier extension (1.3.6.1.5.5.7.1.31)"},
            {"alpn.example.test", M_RAW_DIGEST, QERR_TLS_ALPN_CERT_INVALID,
             "not the DER OCTET STRING of a 32-byte SHA-256 digest"},
            {"alpn.example.test", M_TWO_SANS, QERR_TLS_ALPN_CERT_INVALID,
             "has 2 subjectAltName entries, not exactly one"},
            {"alpn.example.test", M_OTHER_SAN, QERR_TLS_ALPN_CERT_INVALID,
             "names the dNSName \"evil.example.test\" instead"},
            {"192.0.2.1", M_DNS_FOR_IP, QERR_TLS_ALPN_CERT_INVALID,
             "a dNSName, where an iPAddress is needed"},
            {"192.0.2.1", M_OTHER_SAN, QERR_TLS_ALPN_CERT_INVALID,
             "a dNSName, where an iPAddress is needed"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                X509 *x = make_cert(cases[i].name, cases[i].mode, KA);
                struct validate_result r;
                check_der(x, cases[i].name, &r);
                char what[64];
                snprintf(what, sizeof what, "case %zu", i);
                expect(&r, cases[i].code, true, cases[i].says, what);
                X509_free(x);
        }
        /* the SAN compares case-insensitively; an IP identifier needs its own address */
        struct validate_result r;
        X509 *x = make_cert("ALPN.Example.TEST", M_GOOD, KA);
        check_der(x, "alpn.example.test", &r);
        expect(&r, QERR_OK, true, "holds", "upper-case SAN");
        X509_free(x);
        x = make_cert("192.0.2.2", M_GOOD, KA);
        check_der(x, "192.0.2.1", &r);
        expect(&r, QERR_TLS_ALPN_CERT_INVALID, true, "names the iPAddress 192.0.2.2 instead",
               "other address");
        check_der(x, "alpn.example.test", &r);
        expect(&r, QERR_TLS_ALPN_CERT_INVALID, true, "an iPAddress, where a dNSName is needed",
               "address for a name");

        /* not one DER certificate */
        uint8_t d[32];
        unsigned char *der = NULL;
        int len = i2d_X509(x, &der);
        uint8_t *longer = malloc((size_t)len + 1);
        memcpy(longer, der, (size_t)len);
        longer[len] = 0;
        validate_alpn_check_cert(longer, (size_t)len + 1, "192.0.2.2", ka_digest(KA, d), &r);
        expect(&r, QERR_TLS_ALPN_CERT_INVALID, true, "is not one DER certificate", "trailing");
        validate_alpn_check_cert(der, (size_t)len - 1, "192.0.2.2", d, &r);
        expect(&r, QERR_TLS_ALPN_CERT_INVALID, true, "is not one DER certificate", "truncated");
        validate_alpn_check_cert(der, 0, "192.0.2.2", d, &r);
        expect(&r, QERR_TLS_ALPN_CERT_INVALID, true, "is empty or too large", "empty");
        validate_alpn_check_cert(der, (size_t)len, "192.0.2.2", d, &r);
        expect(&r, QERR_OK, true, "holds", "whole");
        free(longer);
        OPENSSL_free(der);
        X509_free(x);
}

/* ---- tls-alpn-01 against the real TLS server ---- */

static void test_alpn_good(void **state)
{
        struct fixture *fx = *state;
        static const struct {
                const char *name, *sni;
        } cases[] = {
            {"alpn.example.test", "alpn.example.test"},
            {"v6.example.test", "v6.example.test"},
            {"127.0.0.1", "1.0.0.127.in-addr.arpa"},
            {"::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct validate_result r;
                set_mode(M_GOOD, cases[i].name);
                int before = accepted();
                validate_tls_alpn(&fx->cfg, cases[i].name, KA, &r);
                expect(&r, QERR_OK, true, "holds the key authorization's digest", cases[i].name);
                assert_int_equal(accepted(), before + 1);
                /* the server thread wrote the SNI before sending its certificate */
                assert_string_equal(g_srv.sni, cases[i].sni);
        }
}

static void test_alpn_server_cases(void **state)
{
        struct fixture *fx = *state;
        static const struct {
                const char *name;
                enum mode mode;
                enum qerr code;
                bool final;
                const char *says;
        } cases[] = {
            {"alpn.example.test", M_WRONG_DIGEST, QERR_VALIDATION_MISMATCH, true,
             "holds a digest in its acmeIdentifier extension that is not SHA-256"},
            {"alpn.example.test", M_NOT_CRITICAL, QERR_TLS_ALPN_CERT_INVALID, true, "not critical"},
            {"alpn.example.test", M_NO_EXT, QERR_TLS_ALPN_CERT_INVALID, true,
             "has no acmeIdentifier extension"},
            {"alpn.example.test", M_TWO_SANS, QERR_TLS_ALPN_CERT_INVALID, true,
             "has 2 subjectAltName entries"},
            {"alpn.example.test", M_OTHER_SAN, QERR_TLS_ALPN_CERT_INVALID, true,
             "evil.example.test"},
            {"127.0.0.1", M_DNS_FOR_IP, QERR_TLS_ALPN_CERT_INVALID, true,
             "a dNSName, where an iPAddress is needed"},
            {"alpn.example.test", M_NO_ALPN, QERR_TLS_ALPN_NOT_NEGOTIATED, false,
             "selected no protocol instead of acme-tls/1"},
            {"alpn.example.test", M_CLOSE, QERR_TLS_ALPN_HANDSHAKE, false,
             "The TLS handshake with alpn.example.test at 127.0.0.1:"},
            {"alpn.example.test", M_PLAIN, QERR_TLS_ALPN_HANDSHAKE, false,
             "for the tls-alpn-01 validation failed ("},
            {"alpn.example.test", M_SLOW, QERR_TLS_ALPN_UNREACHABLE, false,
             "did not complete the handshake within 1000 ms"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct validate_result r;
                set_mode(cases[i].mode, cases[i].name);
                validate_tls_alpn(&fx->cfg, cases[i].name, KA, &r);
                char what[64];
                snprintf(what, sizeof what, "mode %d", (int)cases[i].mode);
                expect(&r, cases[i].code, cases[i].final, cases[i].says, what);
                /* only unreachable names where requests come from */
                if ((r.code == QERR_TLS_ALPN_UNREACHABLE) != (strstr(r.msg, SOURCES) != NULL))
                        fail_msg("%s: source addresses: \"%s\"", what, r.msg);
        }
}

static void test_alpn_refused_addresses(void **state)
{
        struct fixture *fx = *state;
        struct validate_cfg c = fx->cfg;
        c.allow_private = false;
        set_mode(M_GOOD, "alpn.example.test");
        static const struct {
                const char *name, *says;
        } cases[] = {
            {"127.0.0.1", "Refused to connect to 127.0.0.1 (loopback, 127.0.0.0/8"},
            {"::1", "Refused to connect to ::1 (loopback"},
            {"alpn.example.test", "Refused to connect to 127.0.0.1 (loopback"},
            {"private.example.test", "Refused to connect to 10.0.0.5 (private-use, 10.0.0.0/8"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct validate_result r;
                int before = accepted();
                validate_tls_alpn(&c, cases[i].name, KA, &r);
                expect(&r, QERR_TLS_ALPN_UNREACHABLE, true, cases[i].says, cases[i].name);
                assert_non_null(strstr(r.msg, "validation only connects to public addresses"));
                assert_int_equal(accepted(), before); /* nothing connected to */
        }
        /* 127.0.0.1/32 listed as public (tests only): validated */
        struct netaddr_list allow;
        struct qerr_info ei;
        assert_int_equal(netaddr_list_parse("127.0.0.1/32", &allow, &ei), QERR_OK);
        c.allow = &allow;
        struct validate_result r;
        validate_tls_alpn(&c, "alpn.example.test", KA, &r);
        expect(&r, QERR_OK, true, "holds", "allowed");
}

static void test_alpn_unreachable(void **state)
{
        struct fixture *fx = *state;
        struct validate_cfg c = fx->cfg;
        struct validate_result r;
        c.tls_alpn_port = closed_port(SOCK_STREAM);
        validate_tls_alpn(&c, "alpn.example.test", KA, &r);
        expect(&r, QERR_TLS_ALPN_UNREACHABLE, false, "could not connect to 127.0.0.1:", "closed");
        assert_non_null(strstr(r.msg, "Connection refused"));
        assert_non_null(strstr(r.msg, "Validation requests come from " SOURCES));

        validate_tls_alpn(&fx->cfg, "nx.example.test", KA, &r);
        expect(&r, QERR_TLS_ALPN_UNREACHABLE, false, "nx.example.test does not exist in DNS",
               "nxdomain");

        /* a resolver that does not answer: dns_error, never a connection */
        struct dns_resolver *dead;
        struct qerr_info ei;
        char fwd[32];
        snprintf(fwd, sizeof fwd, "127.0.0.1:%d", closed_port(SOCK_DGRAM));
        struct dns_opts o = {.forwarder = fwd, .timeout_ms = 300, .retries = 0};
        assert_int_equal(dns_resolver_new(&o, &dead, &ei), QERR_OK);
        c = fx->cfg;
        c.dns = dead;
        int before = accepted();
        validate_tls_alpn(&c, "alpn.example.test", KA, &r);
        expect(&r, QERR_DNS_ERROR, false, "could not be looked up", "resolver down");
        assert_int_equal(accepted(), before);
        dns_resolver_free(dead);
}

static void test_alpn_bad_input(void **state)
{
        struct fixture *fx = *state;
        struct validate_result r;
        int before = accepted();
        validate_tls_alpn(&fx->cfg, "*.example.test", KA, &r);
        expect(&r, QERR_POLICY_DENIED, true, "never by tls-alpn-01", "wildcard");
        validate_tls_alpn(&fx->cfg, "a b.example.test", KA, &r);
        expect(&r, QERR_NAME_INVALID, true, "is not a host name", "space");
        validate_tls_alpn(&fx->cfg, "127.1", KA, &r);
        expect(&r, QERR_TLS_ALPN_UNREACHABLE, false, "127.1 does not exist in DNS",
               "short IPv4 is a name, looked up");
        validate_tls_alpn(&fx->cfg, "alpn.example.test", "", &r);
        expect(&r, QERR_INTERNAL, true, "key authorization is malformed", "empty ka");
        assert_int_equal(accepted(), before);
}

/* ---- http-01 ---- */

static void test_http01(void **state)
{
        struct fixture *fx = *state;
        static const struct {
                const char *name, *token;
                enum qerr code;
                bool final;
                const char *says;
        } cases[] = {
            {"www.example.test", TOKEN, QERR_OK, true, "/.well-known/acme-challenge/" TOKEN},
            {"127.0.0.1", TOKEN, QERR_OK, true, "holds the value"},
            {"::1", TOKEN, QERR_OK, true, "http://[::1]:"},
            {"v6.example.test", TOKEN, QERR_OK, true, "holds the value"},
            {"www.example.test", "redirect", QERR_OK, true, "(redirected to http:"},
            {"www.example.test", "wrong", QERR_VALIDATION_MISMATCH, true,
             "answered 16 bytes of no content type, not the 59-character key authorization of "
             "the challenge"},
            {"www.example.test", "missing", QERR_FILE_UNREACHABLE, false, "HTTP 404"},
            {"*.example.test", TOKEN, QERR_POLICY_DENIED, true, "wildcard"},
            {"nx.example.test", TOKEN, QERR_FILE_UNREACHABLE, false, "does not exist in DNS"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct validate_result r;
                validate_http01(&fx->cfg, cases[i].name, cases[i].token, KA, &r);
                expect(&r, cases[i].code, cases[i].final, cases[i].says, cases[i].name);
                assert_null(strstr(r.msg, "wrong.thumbprint")); /* never repeated */
        }
        /* the key authorization is not a file-method value: the file path 404s */
        struct validate_result r;
        validate_file(&fx->cfg, "127.0.0.1", TOKEN, KA, &r);
        expect(&r, QERR_FILE_UNREACHABLE, false, "/.well-known/pki-validation/", "file path");

        /* special-purpose addresses refused without a connection */
        struct validate_cfg c = fx->cfg;
        c.allow_private = false;
        int before = accepted();
        validate_http01(&c, "private.example.test", TOKEN, KA, &r);
        expect(&r, QERR_FILE_UNREACHABLE, true, "Refused to connect to 10.0.0.5", "private");
        validate_http01(&c, "127.0.0.1", TOKEN, KA, &r);
        expect(&r, QERR_FILE_UNREACHABLE, true, "Refused to connect to 127.0.0.1", "loopback");
        assert_int_equal(accepted(), before);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_cert_checks),
            cmocka_unit_test(test_alpn_good),
            cmocka_unit_test(test_alpn_server_cases),
            cmocka_unit_test(test_alpn_refused_addresses),
            cmocka_unit_test(test_alpn_unreachable),
            cmocka_unit_test(test_alpn_bad_input),
            cmocka_unit_test(test_http01),
        };
        return cmocka_run_group_tests_name("validate_acme", tests, group_setup, group_teardown);
}
