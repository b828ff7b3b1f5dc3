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
 * The fixture allows loopback ([validation] allow_private_addresses) for the
 * HTTP cases; the address cases turn it off, or list only 127.0.0.1/32 as
 * public ([validation] allow_addresses), and show that a special-purpose
 * address, first or after a redirect, is refused without a connection.
 *
 * Network namespace: those cases name special-purpose addresses that are not
 * loopback (10.0.0.5, 10.0.0.1, 169.254.169.254, 100.64.0.1, fd00::1,
 * fe80::1), so a broken address check would connect to them. This binary
 * therefore runs only inside the private network namespace of
 * scripts/netns-run.sh (make unit / scripts/run-unit.sh puts it there): one
 * device, lo, holding those addresses, no route. A connection to any other
 * address fails at once and no packet leaves the machine; one to those
 * addresses reaches the fake server, which listens on every address of the
 * namespace (0.0.0.0 and ::) and counts what it accepts, so "refused without
 * a connection" is counted for every address, loopback or not. The group
 * setup checks the namespace first (tests/unit/unit_netns.h) and, outside
 * it, fails before any test runs; test_netns_isolation shows the isolation.
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
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/netaddr.h"
#include "dns/dns.h"
#include "unit_netns.h"
#include "validate/validate.h"

#define VALUE "kQ3vXo1b2Zt9-_aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SOURCES "192.0.2.7, 2001:db8::7"
#define PKI "/.well-known/pki-validation/"
#define OTHER_VALUE "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz" /* another order's */

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
        int fd;  /* 0.0.0.0:port: every IPv4 address of the namespace */
        int fd6; /* [::]:port, IPv6 only: every IPv6 address of the namespace */
        int port;
        int other_port; /* target of the forbidden redirect */
        int stop_pipe[2];
        int held[MAX_HELD]; /* connections left unanswered (the slow case) */
        int nheld;
        int accepted; /* connections accepted (atomic) */
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

static void answer_typed(int fd, int status, const char *location, const char *ctype,
                         const char *body, size_t blen)
{
        char head[512];
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s%s%s"
                         "%s%s%s\r\n",
                         status, blen, location ? "Location: " : "", location ? location : "",
                         location ? "\r\n" : "", ctype ? "Content-Type: " : "", ctype ? ctype : "",
                         ctype ? "\r\n" : "");
        send_all(fd, head, (size_t)n);
        send_all(fd, body, blen);
}

static void answer(int fd, int status, const char *location, const char *body, size_t blen)
{
        answer_typed(fd, status, location, NULL, body, blen);
}

/* Redirects to http://<host>:<the server's port>/.../ok.txt ("http://%s:%d"). */
static void redirect_to_host(struct server *s, int fd, const char *host, int status)
{
        char loc[256];
        snprintf(loc, sizeof loc, "http://%s:%d" PKI "ok.txt", host, s->port);
        answer(fd, status, loc, "", 0);
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
        } else if (strcmp(f, "html.txt") == 0) {
                answer_typed(fd, 200, NULL, "text/html; charset=utf-8", "<html>secret</html>", 19);
        } else if (strcmp(f, "oddtype.txt") == 0) {
                answer_typed(fd, 200, NULL, "text/<b>x</b>", "<b>secret</b>", 13);
        } else if (strcmp(f, "stale.txt") == 0) {
                answer_typed(fd, 200, NULL, "text/plain", OTHER_VALUE "\n", 44);
        } else if (sscanf(f, "code%d.txt", &chain) == 1) {
                answer(fd, chain, PKI "ok.txt", "", 0);
        } else if (strcmp(f, "to127002.txt") == 0) {
                redirect_to_host(s, fd, "127.0.0.2", 302);
        } else if (strcmp(f, "toloop6.txt") == 0) {
                redirect_to_host(s, fd, "[::1]", 301);
        } else if (strcmp(f, "tometadata.txt") == 0) {
                redirect_to_host(s, fd, "169.254.169.254", 307);
        } else if (strcmp(f, "to10.txt") == 0) {
                redirect_to_host(s, fd, "10.0.0.1", 308);
        } else if (strcmp(f, "tomapped.txt") == 0) {
                redirect_to_host(s, fd, "[::ffff:127.0.0.2]", 302);
        } else if (strcmp(f, "tonumeric.txt") == 0) {
                redirect_to_host(s, fd, "2130706434", 302); /* 127.0.0.2 */
        } else if (strcmp(f, "tozone.txt") == 0) {
                redirect_to_host(s, fd, "[fe80::1%25lo]", 302);
        } else if (strcmp(f, "toshort.txt") == 0) {
                redirect_to_host(s, fd, "127.2", 302); /* 127.0.0.2 */
        } else if (strcmp(f, "toself.txt") == 0) {
                redirect_to_host(s, fd, "127.0.0.1", 302);
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
                struct pollfd p[3] = {{.fd = s->fd, .events = POLLIN},
                                      {.fd = s->fd6, .events = POLLIN},
                                      {.fd = s->stop_pipe[0], .events = POLLIN}};
                if (poll(p, 3, -1) < 0 || p[2].revents)
                        break;
                for (int i = 0; i < 2; i++) {
                        if (!p[i].revents)
                                continue;
                        int c = accept(p[i].fd, NULL, NULL);
                        if (c < 0)
                                continue;
                        __atomic_add_fetch(&s->accepted, 1, __ATOMIC_SEQ_CST);
                        if (serve_one(s, c))
                                close(c);
                }
        }
        return NULL;
}

/* Listens on every address of the namespace (only after netns_isolated():
 * outside it, 0.0.0.0 would be every address of the machine). */
static int server_start(struct server *s)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
        socklen_t al = sizeof a;
        int one = 1;
        memset(s, 0, sizeof *s);
        s->fd = socket(AF_INET, SOCK_STREAM, 0);
        s->fd6 = socket(AF_INET6, SOCK_STREAM, 0);
        if (s->fd < 0 || s->fd6 < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
            listen(s->fd, 16) != 0 || getsockname(s->fd, (struct sockaddr *)&a, &al) != 0 ||
            pipe(s->stop_pipe) != 0)
                return -1;
        s->port = ntohs(a.sin_port);
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
                                  .sin6_addr = IN6ADDR_ANY_INIT,
                                  .sin6_port = htons((uint16_t)s->port)};
        if (setsockopt(s->fd6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0 ||
            bind(s->fd6, (struct sockaddr *)&a6, sizeof a6) != 0 || listen(s->fd6, 16) != 0)
                return -1;
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
        close(s->fd6);
        close(s->stop_pipe[0]);
        close(s->stop_pipe[1]);
}

static int group_setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof *fx);
        struct qerr_info ei;
        char fwd[32], why[160];
        if (!netns_isolated(why, sizeof why)) {
                fprintf(stderr,
                        "test_validate: not inside the private network namespace of "
                        "scripts/netns-run.sh (%s): run it as scripts/netns-run.sh %s (make "
                        "unit does), so a broken address check cannot reach the network\n",
                        why, "build/unit/test_validate");
                free(fx);
                return -1;
        }
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
                                        .source_addresses = SOURCES,
                                        .allow_private = true};
        *state = fx;
        return 0;
}

static int group_teardown(void **state)
{
        struct fixture *fx = *state;
        if (!fx) /* the group setup failed */
                return 0;
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
    {"wrong", QERR_VALIDATION_MISMATCH, true,
     "answered 15 bytes of no content type, not the 43-character value shown for the order; put "
     "exactly that value in the file (what it holds is not repeated here)."},
    {"html", QERR_VALIDATION_MISMATCH, true, "answered 19 bytes of text/html, not the 43-"},
    {"oddtype", QERR_VALIDATION_MISMATCH, true, "answered 13 bytes of an unusual content type"},
    {"stale", QERR_VALIDATION_MISMATCH, true, "(it holds a value of the same form: perhaps an "},
    {"code301", QERR_OK, true, "code301.txt (redirected to http:"},
    {"code302", QERR_OK, true, "holds the value"},
    {"code307", QERR_OK, true, "holds the value"},
    {"code308", QERR_OK, true, "holds the value"},
    {"code303", QERR_FILE_UNREACHABLE, true,
     "answered HTTP 303, a redirect validation does not follow: only 301, 302, 307 and 308"},
    {"code300", QERR_FILE_UNREACHABLE, true, "answered HTTP 300, a redirect"},
    {"code304", QERR_FILE_UNREACHABLE, true, "answered HTTP 304, a redirect"},
    {"code305", QERR_FILE_UNREACHABLE, true, "answered HTTP 305, a redirect"},
    {"code306", QERR_FILE_UNREACHABLE, true, "answered HTTP 306, a redirect"},
    {"toself", QERR_OK, true, "holds the value"},
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
                /* what the server answered is never repeated */
                if (strstr(r.msg, "secret") || strstr(r.msg, "not the value") ||
                    strstr(r.msg, OTHER_VALUE) || strstr(r.msg, "<b>"))
                        fail_msg("%s: the body is repeated in \"%s\"", fc->token, r.msg);
        }
}

static int accepted(struct fixture *fx)
{
        return __atomic_load_n(&fx->srv.accepted, __ATOMIC_SEQ_CST);
}

/* Waits (up to 5 s) until the server has accepted `want` connections. */
static int wait_accepted(struct fixture *fx, int want)
{
        for (int i = 0; i < 500 && accepted(fx) < want; i++)
                nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        return accepted(fx);
}

static long ms_since(const struct timespec *t0)
{
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The isolation the address cases rely on: an address that is not set up
 * cannot be reached at all (at once, ENETUNREACH: no route, so no packet),
 * and each special-purpose address the tests use reaches the counting
 * server, so a connection to it could not go unseen. */
static void test_netns_isolation(void **state)
{
        struct fixture *fx = *state;
        static const char *const unbound[] = {NS_UNBOUND, NS_UNBOUND6};
        for (size_t i = 0; i < sizeof unbound / sizeof unbound[0]; i++) {
                struct timespec t0;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                int rc = connect_to(unbound[i], fx->srv.port, SOCK_STREAM);
                if (rc != ENETUNREACH && rc != EHOSTUNREACH)
                        fail_msg("connect to %s: want ENETUNREACH, got %s", unbound[i],
                                 rc ? strerror(rc) : "connected");
                assert_true(ms_since(&t0) < 500);
        }
        for (size_t i = 0; i < sizeof ns_addresses / sizeof ns_addresses[0]; i++) {
                int before = accepted(fx);
                int rc = connect_to(ns_addresses[i], fx->srv.port, SOCK_STREAM);
                if (rc != 0)
                        fail_msg("connect to %s: %s", ns_addresses[i], strerror(rc));
                if (wait_accepted(fx, before + 1) != before + 1)
                        fail_msg("the server did not count the connection to %s", ns_addresses[i]);
        }
}

static void expect_refused(const struct validate_result *r, const char *what)
{
        if (r->code != QERR_FILE_UNREACHABLE || !r->final || !strstr(r->msg, what) ||
            !strstr(r->msg, "validation only connects to public addresses") ||
            !strstr(r->msg, SOURCES))
                fail_msg("want a refusal of %s, got %s final=%d \"%s\"", what, qerr_code(r->code),
                         r->final, r->msg);
}

/* allow_private_addresses = false: an IP-literal name on a special-purpose
 * address is refused before any connection. */
static void test_file_special_address_refused(void **state)
{
        struct fixture *fx = *state;
        struct validate_cfg c = fx->cfg;
        c.allow_private = false;
        static const struct {
                const char *name, *says;
        } cases[] = {
            {"127.0.0.1", "Refused to connect to 127.0.0.1 (loopback, 127.0.0.0/8, RFC 1122)"},
            {"::1", "Refused to connect to ::1 (loopback, ::1/128, RFC 4291)"},
            {"::ffff:127.0.0.1", "Refused to connect to ::ffff:127.0.0.1 (IPv4-mapped, "
                                 "::ffff:0:0/96, RFC 4291, carrying 127.0.0.1: loopback"},
            {"10.0.0.5", "Refused to connect to 10.0.0.5 (private-use, 10.0.0.0/8, RFC 1918)"},
            {"169.254.169.254", "Refused to connect to 169.254.169.254 (link-local, the cloud "
                                "instance metadata service"},
            {"100.64.0.1", "(shared address space (carrier-grade NAT), 100.64.0.0/10"},
            {"fd00::1", "Refused to connect to fd00::1 (unique-local, fc00::/7, RFC 4193)"},
            {"0.0.0.0", "Refused to connect to 0.0.0.0 (\"this host on this network\""},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct validate_result r;
                int before = accepted(fx);
                validate_file(&c, cases[i].name, "ok", VALUE, &r);
                /* the server listens on every address of the namespace */
                if (accepted(fx) != before)
                        fail_msg("%s: validation connected to it (%d connections)", cases[i].name,
                                 accepted(fx) - before);
                expect_refused(&r, cases[i].says);
        }
        /* listed as public (tests only): fetched */
        struct netaddr_list allow;
        struct qerr_info ei;
        assert_int_equal(netaddr_list_parse("127.0.0.1/32", &allow, &ei), QERR_OK);
        c.allow = &allow;
        struct validate_result r;
        int before = accepted(fx);
        validate_file(&c, "127.0.0.1", "ok", VALUE, &r);
        assert_int_equal(r.code, QERR_OK);
        assert_int_equal(accepted(fx), before + 1);
        validate_file(&c, "127.0.0.2", "ok", VALUE, &r);
        expect_refused(&r, "Refused to connect to 127.0.0.2 (loopback");
        assert_int_equal(accepted(fx), before + 1);
}

/* The first hop is allowed (127.0.0.1/32 listed as public); every redirect
 * to a special-purpose address, in any spelling, is refused before any
 * connection to it. */
static void test_file_redirect_to_special_address_refused(void **state)
{
        struct fixture *fx = *state;
        struct validate_cfg c = fx->cfg;
        struct netaddr_list allow;
        struct qerr_info ei;
        assert_int_equal(netaddr_list_parse("127.0.0.1/32", &allow, &ei), QERR_OK);
        c.allow_private = false;
        c.allow = &allow;
        static const struct {
                const char *token, *says;
        } cases[] = {
            {"to127002", "Refused to connect to 127.0.0.2 (loopback, 127.0.0.0/8, RFC 1122)"},
            {"toloop6", "Refused to connect to ::1 (loopback, ::1/128, RFC 4291)"},
            {"tometadata", "Refused to connect to 169.254.169.254 (link-local, the cloud"},
            {"to10", "Refused to connect to 10.0.0.1 (private-use, 10.0.0.0/8, RFC 1918)"},
            {"tomapped", "Refused to connect to ::ffff:127.0.0.2 (IPv4-mapped"},
            {"tonumeric", "Refused to connect to 127.0.0.2 (loopback"},
            {"toshort", "Refused to connect to 127.0.0.2 (loopback"},
            {"tozone", "Refused to connect to fe80::1 (link-local, fe80::/10, RFC 4291)"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct validate_result r;
                int before = accepted(fx);
                validate_file(&c, "127.0.0.1", cases[i].token, VALUE, &r);
                /* one connection: the first hop's (the server listens on every
                 * address of the namespace, the redirect targets included) */
                if (accepted(fx) != before + 1)
                        fail_msg("%s: %d connections, want 1 (the first hop)", cases[i].token,
                                 accepted(fx) - before);
                expect_refused(&r, cases[i].says);
                if (!strstr(r.msg, "redirect only to hosts on public addresses"))
                        fail_msg("%s: \"%s\"", cases[i].token, r.msg);
        }
        /* a redirect back to the allowed address is followed */
        struct validate_result r;
        validate_file(&c, "127.0.0.1", "toself", VALUE, &r);
        assert_int_equal(r.code, QERR_OK);
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
            cmocka_unit_test(test_netns_isolation),
            cmocka_unit_test(test_new_value),
            cmocka_unit_test(test_body_matches),
            cmocka_unit_test(test_file_wildcard_refused),
            cmocka_unit_test(test_file_bad_name),
            cmocka_unit_test(test_dns_resolver_down),
            cmocka_unit_test(test_dns_wildcard_record_name),
            cmocka_unit_test(test_file_resolver_down),
            cmocka_unit_test(test_file_http_cases),
            cmocka_unit_test(test_file_special_address_refused),
            cmocka_unit_test(test_file_redirect_to_special_address_refused),
            cmocka_unit_test(test_file_connection_refused),
            cmocka_unit_test(test_file_ipv6_literal_refused),
            cmocka_unit_test(test_file_long_sources_kept),
        };
        return cmocka_run_group_tests_name("validate", tests, group_setup, group_teardown);
}
