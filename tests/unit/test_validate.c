/*
 * test_validate.c - domain control validation (src/validate/validate.c):
 * random values, the body comparison (a table), and the failure paths of
 * the DNS and file methods.
 *
 * The resolver is the real one (src/dns) forwarding to a closed loopback
 * port, so every lookup fails: that is the DNS_ERROR case, and it proves that
 * a redirect to a host name is looked up through our resolver, never the
 * system's. The HTTP cases use IP-literal names (no lookup needed) against a
 * small in-process HTTP server on 127.0.0.1 whose answer depends on the path.
 * The same scenarios against a real nginx and a real DNS server are system
 * tests (tests/system/nginx.py).
 *
 * Memory: the server and resolver live for the whole group (group setup and
 * teardown). Threads: the server runs on its own thread; the tests on the
 * main thread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/dns.h"
#include "validate/validate.h"

#define VALUE "kQ3vXo1b2Zt9-_aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SOURCES "192.0.2.7, 2001:db8::7"
#define PKI "/.well-known/pki-validation/"

/* ---- helpers ---- */

/* A loopback port nothing listens on (bound, then closed). */
static int closed_port(int type)
{
        int fd = socket(AF_INET, type, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof a;
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
            getsockname(fd, (struct sockaddr *)&a, &al) != 0)
                return -1;
        close(fd);
        return ntohs(a.sin_port);
}

/* ---- the fake web server ---- */

#define MAX_HELD 16

struct server {
        int fd;
        int port;
        int other_port; /* target of the forbidden redirect */
        int stop_pipe[2];
        int held[MAX_HELD]; /* connections left unanswered (the slow case) */
        int nheld;
        pthread_t thread;
};

struct fixture {
        struct server srv;
        struct dns_resolver *dead; /* forwards to a closed port */
        struct validate_cfg cfg;
};

static void send_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
                if (w <= 0)
                        return;
                p += w;
                n -= (size_t)w;
        }
}

static void answer(int fd, int status, const char *location, const char *body, size_t blen)
{
        char head[512];
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s%s%s\r\n",
                         status, blen, location ? "Location: " : "", location ? location : "",
                         location ? "\r\n" : "");
        send_all(fd, head, (size_t)n);
        send_all(fd, body, blen);
}

/* Answers one request; false when the connection must stay open. */
static bool serve_one(struct server *s, int fd)
{
        char req[2048];
        size_t got = 0;
        while (got < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
                ssize_t r = recv(fd, req + got, sizeof req - 1 - got, 0);
                if (r <= 0)
                        return true;
                got += (size_t)r;
                req[got] = '\0';
        }
        char path[256] = "";
        if (sscanf(req, "GET %255s HTTP/1.1", path) != 1)
                return true;
        const char *f = strncmp(path, PKI, strlen(PKI)) == 0 ? path + strlen(PKI) : "";
        char loc[256];
        int chain;
        if (strcmp(f, "ok.txt") == 0) {
                answer(fd, 200, NULL, VALUE "\n", strlen(VALUE) + 1);
        } else if (strcmp(f, "crlf.txt") == 0) {
                answer(fd, 200, NULL, VALUE " \r\n\r\n", strlen(VALUE) + 5);
        } else if (strcmp(f, "exact4096.txt") == 0) {
                static char b[VALIDATE_MAX_BODY];
                memset(b, '\n', sizeof b);
                memcpy(b, VALUE, strlen(VALUE));
                answer(fd, 200, NULL, b, sizeof b);
        } else if (strcmp(f, "wrong.txt") == 0) {
                answer(fd, 200, NULL, "not the value\x01\n", 15);
        } else if (strcmp(f, "big.txt") == 0) {
                static char b[VALIDATE_MAX_BODY + 1];
                memset(b, 'a', sizeof b);
                answer(fd, 200, NULL, b, sizeof b);
        } else if (strcmp(f, "bigerror.txt") == 0) {
                static char b[3 * VALIDATE_MAX_BODY];
                memset(b, 'e', sizeof b);
                answer(fd, 404, NULL, b, sizeof b);
        } else if (strcmp(f, "otherport.txt") == 0) {
                snprintf(loc, sizeof loc, "http://127.0.0.1:%d" PKI "ok.txt", s->other_port);
                answer(fd, 302, loc, "", 0);
        } else if (strcmp(f, "ftp.txt") == 0) {
                answer(fd, 301, "ftp://127.0.0.1/ok.txt", "", 0);
        } else if (strcmp(f, "https.txt") == 0) {
                /* https on the (configured) https port: allowed, then fails */
                snprintf(loc, sizeof loc, "https://127.0.0.1:%d" PKI "ok.txt", s->other_port);
                answer(fd, 302, loc, "", 0);
        } else if (strcmp(f, "relative.txt") == 0) {
                answer(fd, 301, "ok.txt", "", 0);
        } else if (strcmp(f, "byname.txt") == 0) {
                snprintf(loc, sizeof loc, "http://localhost:%d" PKI "ok.txt", s->port);
                answer(fd, 302, loc, "", 0);
        } else if (strcmp(f, "loop.txt") == 0) {
                answer(fd, 302, PKI "loop.txt", "", 0);
        } else if (strcmp(f, "noloc.txt") == 0) {
                answer(fd, 302, NULL, "", 0);
        } else if (sscanf(f, "chain%d.txt", &chain) == 1 && chain > 0) {
                snprintf(loc, sizeof loc, PKI "chain%d.txt", chain - 1);
                answer(fd, 307, loc, "moved", 5);
        } else if (strcmp(f, "chain0.txt") == 0) {
                answer(fd, 200, NULL, VALUE, strlen(VALUE));
        } else if (strcmp(f, "slow.txt") == 0) {
                if (s->nheld < MAX_HELD) {
                        s->held[s->nheld++] = fd;
                        return false;
                }
        } else {
                answer(fd, 404, NULL, "not found\n", 10);
        }
        return true;
}

static void *server_main(void *arg)
{
        struct server *s = arg;
        for (;;) {
                struct pollfd p[2] = {{.fd = s->fd, .events = POLLIN},
                                      {.fd = s->stop_pipe[0], .events = POLLIN}};
                if (poll(p, 2, -1) < 0 || p[1].revents)
                        break;
                int c = accept(s->fd, NULL, NULL);
                if (c < 0)
                        continue;
                if (serve_one(s, c))
                        close(c);
        }
        return NULL;
}

static int server_start(struct server *s)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof a;
        memset(s, 0, sizeof *s);
        s->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
            listen(s->fd, 16) != 0 || getsockname(s->fd, (struct sockaddr *)&a, &al) != 0 ||
            pipe(s->stop_pipe) != 0)
                return -1;
        s->port = ntohs(a.sin_port);
        s->other_port = closed_port(SOCK_STREAM);
        return pthread_create(&s->thread, NULL, server_main, s) == 0 ? 0 : -1;
}

static void server_stop(struct server *s)
{
        if (write(s->stop_pipe[1], "x", 1) != 1)
                return;
        pthread_join(s->thread, NULL);
        for (int i = 0; i < s->nheld; i++)
                close(s->held[i]);
        close(s->fd);
        close(s->stop_pipe[0]);
        close(s->stop_pipe[1]);
}

static int group_setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof *fx);
        struct qerr_info ei;
        char fwd[32];
        if (!fx || validate_global_init(&ei) != QERR_OK || server_start(&fx->srv) != 0)
                return -1;
        snprintf(fwd, sizeof fwd, "127.0.0.1:%d", closed_port(SOCK_DGRAM));
        struct dns_opts o = {.forwarder = fwd, .timeout_ms = 300, .retries = 0};
        if (dns_resolver_new(&o, &fx->dead, &ei) != QERR_OK)
                return -1;
        fx->cfg = (struct validate_cfg){.dns = fx->dead,
                                        .http_port = fx->srv.port,
                                        .https_port = fx->srv.other_port,
                                        .timeout_ms = 1000,
                                        .source_addresses = SOURCES};
        *state = fx;
        return 0;
}

static int group_teardown(void **state)
{
        struct fixture *fx = *state;
        server_stop(&fx->srv);
        dns_resolver_free(fx->dead);
        free(fx);
        curl_global_cleanup();
        return 0;
}

/* ---- validate_new_value ---- */

static bool all_base64url(const char *s)
{
        for (; *s; s++)
                if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
                        return false;
        return true;
}

static void test_new_value(void **state)
{
        (void)state;
        char v[VALIDATE_VALUE_LEN + 1], t[VALIDATE_TOKEN_LEN + 1];
        char seen_v[64][VALIDATE_VALUE_LEN + 1], seen_t[64][VALIDATE_TOKEN_LEN + 1];
        struct qerr_info ei;
        for (int i = 0; i < 64; i++) {
                memset(v, 'x', sizeof v);
                memset(t, 'x', sizeof t);
                assert_int_equal(validate_new_value(v, t, &ei), QERR_OK);
                assert_int_equal(strlen(v), VALIDATE_VALUE_LEN);
                assert_int_equal(strlen(t), VALIDATE_TOKEN_LEN);
                assert_true(all_base64url(v));
                assert_true(all_base64url(t));
                for (int j = 0; j < i; j++) {
                        assert_string_not_equal(v, seen_v[j]);
                        assert_string_not_equal(t, seen_t[j]);
                }
                memcpy(seen_v[i], v, sizeof v);
                memcpy(seen_t[i], t, sizeof t);
        }
}

/* ---- validate_body_matches ---- */

struct body_case {
        const char *name;
        const char *body;
        size_t len; /* 0: strlen(body) */
        bool match;
};

static const struct body_case body_cases[] = {
    {"exact", VALUE, 0, true},
    {"trailing newline", VALUE "\n", 0, true},
    {"crlf", VALUE "\r\n", 0, true},
    {"trailing spaces tabs and blank lines", VALUE " \t\r\n\n \n", 0, true},
    {"leading space is not trimmed", " " VALUE, 0, false},
    {"leading newline is not trimmed", "\n" VALUE, 0, false},
    {"longer", VALUE "x", 0, false},
    {"longer after whitespace", VALUE "\nx", 0, false},
    {"shorter", "kQ3vXo1b2Zt9-_aaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, false},
    {"one byte different", "kQ3vXo1b2Zt9-_aaaaaaaaaaaaaaaaaaaaaaaaaaaab", 0, false},
    {"case differs", "KQ3vXo1b2Zt9-_aaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, false},
    {"empty", "", 0, false},
    {"only whitespace", " \r\n", 0, false},
    {"nul before newline", VALUE "\0\n", sizeof(VALUE "\0\n") - 1, false},
    {"vertical tab is not trimmed", VALUE "\v", 0, false},
};

static void test_body_matches(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof body_cases / sizeof body_cases[0]; i++) {
                const struct body_case *bc = &body_cases[i];
                size_t len = bc->len ? bc->len : strlen(bc->body);
                bool got = validate_body_matches((const uint8_t *)bc->body, len, VALUE);
                if (got != bc->match)
                        fail_msg("%s: got %d, want %d", bc->name, got, bc->match);
        }
        /* degenerate inputs */
        assert_false(validate_body_matches(NULL, 0, VALUE));
        assert_false(validate_body_matches((const uint8_t *)"", 0, ""));
        assert_false(validate_body_matches((const uint8_t *)"\n", 1, ""));
        assert_false(validate_body_matches((const uint8_t *)"x", 1, NULL));
}

/* ---- refusals before any lookup ---- */

static void test_file_wildcard_refused(void **state)
{
        struct fixture *fx = *state;
        struct validate_result r;
        validate_file(&fx->cfg, "*.example.test", "tok", VALUE, &r);
        assert_int_equal(r.code, QERR_POLICY_DENIED);
        assert_true(r.final);
        assert_non_null(strstr(r.msg, "*.example.test"));
        assert_non_null(strstr(r.msg, "wildcard names can only be validated by the DNS method"));
}

static void test_file_bad_name(void **state)
{
        struct fixture *fx = *state;
        struct validate_result r;
        static const char *const bad[] = {"", "a b.test", "evil.test/@x", "x.test:81", "a\nb.test"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                validate_file(&fx->cfg, bad[i], "tok", VALUE, &r);
                if (r.code != QERR_NAME_INVALID || !r.final)
                        fail_msg("\"%s\": %s", bad[i], r.msg);
                assert_null(strchr(r.msg, '\n'));
        }
}

/* ---- a resolver that cannot be reached: DNS_ERROR, not final ---- */

static void test_dns_resolver_down(void **state)
{
        struct fixture *fx = *state;
        struct validate_result r;
        validate_dns(&fx->cfg, "www.example.test", VALUE, &r);
        assert_int_equal(r.code, QERR_DNS_ERROR);
        assert_false(r.final);
        assert_non_null(strstr(r.msg, "_acme-challenge.www.example.test"));
}

static void test_dns_wildcard_record_name(void **state)
{
        struct fixture *fx = *state;
        struct validate_result r;
        validate_dns(&fx->cfg, "*.example.test", VALUE, &r);
        assert_int_equal(r.code, QERR_DNS_ERROR);
        assert_false(r.final);
        assert_non_null(strstr(r.msg, "_acme-challenge.example.test"));
        assert_null(strchr(r.msg, '*'));
}

static void test_file_resolver_down(void **state)
{
        struct fixture *fx = *state;
        struct validate_result r;
        validate_file(&fx->cfg, "www.example.test", "tok", VALUE, &r);
        assert_int_equal(r.code, QERR_DNS_ERROR);
        assert_false(r.final);
        assert_non_null(strstr(r.msg, "www.example.test"));
}

/* ---- the file method over HTTP (IP-literal name, fake server) ---- */

struct file_case {
        const char *token;
        enum qerr code;
        bool final;
        const char *says; /* a piece of the sentence */
};

static const struct file_case file_cases[] = {
    {"ok", QERR_OK, true, "holds the value"},
    {"crlf", QERR_OK, true, "holds the value"},
    {"exact4096", QERR_OK, true, "holds the value"},
    {"relative", QERR_OK, true, "relative.txt (redirected to http:"},
    {"chain10", QERR_OK, true, "chain0.txt"},
    {"wrong", QERR_VALIDATION_MISMATCH, true, "holds \"not the value\\x01\""},
    {"big", QERR_VALIDATION_MISMATCH, true, "more than 4096 bytes"},
    {"missing", QERR_FILE_UNREACHABLE, false, "HTTP 404"},
    {"bigerror", QERR_FILE_UNREACHABLE, false, "HTTP 404"},
    {"noloc", QERR_FILE_UNREACHABLE, false, "HTTP 302 without a usable Location"},
    {"otherport", QERR_FILE_UNREACHABLE, true, "validation follows redirects only to http"},
    {"ftp", QERR_FILE_UNREACHABLE, true, "(ftp on port 21)"},
    {"https", QERR_FILE_UNREACHABLE, false, "https.txt (redirected to https://127.0.0.1"},
    {"loop", QERR_FILE_UNREACHABLE, false, "redirects more than 10 times"},
    {"chain11", QERR_FILE_UNREACHABLE, false, "redirects more than 10 times"},
    {"byname", QERR_DNS_ERROR, false, "localhost"},
    {"slow", QERR_FILE_UNREACHABLE, false, "did not answer within 1000 ms"},
};

static void test_file_http_cases(void **state)
{
        struct fixture *fx = *state;
        for (size_t i = 0; i < sizeof file_cases / sizeof file_cases[0]; i++) {
                const struct file_case *fc = &file_cases[i];
                struct validate_result r;
                memset(&r, 'x', sizeof r);
                validate_file(&fx->cfg, "127.0.0.1", fc->token, VALUE, &r);
                if (r.code != fc->code || r.final != fc->final || !strstr(r.msg, fc->says))
                        fail_msg("%s: got %d/%s final=%d \"%s\"", fc->token, (int)r.code,
                                 qerr_code(r.code), r.final, r.msg);
                /* every file_unreachable names the source addresses */
                if (r.code == QERR_FILE_UNREACHABLE && !strstr(r.msg, SOURCES))
                        fail_msg("%s: no source addresses in \"%s\"", fc->token, r.msg);
                if (r.code != QERR_FILE_UNREACHABLE && strstr(r.msg, SOURCES))
                        fail_msg("%s: source addresses in \"%s\"", fc->token, r.msg);
        }
}

static void test_file_connection_refused(void **state)
{
        struct fixture *fx = *state;
        struct validate_cfg c = fx->cfg;
        struct validate_result r;
        c.http_port = closed_port(SOCK_STREAM);
        validate_file(&c, "127.0.0.1", "ok", VALUE, &r);
        assert_int_equal(r.code, QERR_FILE_UNREACHABLE);
        assert_false(r.final);
        assert_non_null(strstr(r.msg, "connection failed"));
        assert_non_null(strstr(r.msg, "Validation requests come from " SOURCES));

        /* no source addresses configured: no empty clause */
        c.source_addresses = "";
        validate_file(&c, "127.0.0.1", "ok", VALUE, &r);
        assert_int_equal(r.code, QERR_FILE_UNREACHABLE);
        assert_null(strstr(r.msg, "come from"));
}

static void test_file_ipv6_literal_refused(void **state)
{
        struct fixture *fx = *state;
        struct validate_cfg c = fx->cfg;
        struct validate_result r;
        c.http_port = closed_port(SOCK_STREAM);
        validate_file(&c, "::1", "ok", VALUE, &r);
        assert_int_equal(r.code, QERR_FILE_UNREACHABLE);
        assert_false(r.final);
        assert_non_null(strstr(r.msg, "http://[::1]:"));
}

static void test_file_long_sources_kept(void **state)
{
        struct fixture *fx = *state;
        struct validate_cfg c = fx->cfg;
        struct validate_result r;
        char many[200];
        memset(many, '1', sizeof many - 1);
        many[sizeof many - 1] = '\0';
        c.source_addresses = many;
        validate_file(&c, "127.0.0.1", "missing", VALUE, &r);
        assert_int_equal(r.code, QERR_FILE_UNREACHABLE);
        assert_non_null(strstr(r.msg, many));
        assert_true(strlen(r.msg) < sizeof r.msg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_new_value),
            cmocka_unit_test(test_body_matches),
            cmocka_unit_test(test_file_wildcard_refused),
            cmocka_unit_test(test_file_bad_name),
            cmocka_unit_test(test_dns_resolver_down),
            cmocka_unit_test(test_dns_wildcard_record_name),
            cmocka_unit_test(test_file_resolver_down),
            cmocka_unit_test(test_file_http_cases),
            cmocka_unit_test(test_file_connection_refused),
            cmocka_unit_test(test_file_ipv6_literal_refused),
            cmocka_unit_test(test_file_long_sources_kept),
        };
        return cmocka_run_group_tests_name("validate", tests, group_setup, group_teardown);
}
