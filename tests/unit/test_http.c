/*
 * test_http.c - the HTTP server and router (src/http/server.c) over real
 * sockets.
 *
 * One server is started on 127.0.0.1 at a port found free just before (bind
 * to port 0, read it back, close) with a few fake routes defined here; each
 * test sends raw HTTP/1.1 bytes over a socket (no HTTP client library) and
 * asserts the status line, headers and body: exact and prefix routes, 404,
 * 405 with Allow, the error table's status mapping, HEAD, keep-alive,
 * ignored bodies, an over-long URL, and start failures (port taken, bad
 * address).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/log.h"
#include "http/http.h"

struct fake_state {
        int calls;
};

static struct fake_state state;
static struct http_server *server;
static int port;

/* ---- fake routes ---- */

static void h_exact(void *user, const struct http_request *req, struct http_response *resp)
{
        struct fake_state *st = user;
        st->calls++;
        (void)req;
        resp->status = 200;
        resp->content_type = "text/plain";
        qbuf_append_str(&resp->body, "exact");
}

static void h_prefix(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        resp->status = 200;
        resp->content_type = "text/plain";
        qbuf_printf(&resp->body, "prefix:%s:%s", req->method, req->path);
}

static void h_post(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        (void)req;
        resp->status = 201;
        resp->content_type = "text/plain";
        qbuf_append_str(&resp->body, "posted");
}

static void h_conflict(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        (void)req;
        qbuf_append_str(&resp->body, "partial output that must vanish");
        struct qerr_info ei;
        qerr_set(&ei, QERR_CA_EXISTS, "CA \"x\" exists\n\\ with odd byte \xff here");
        http_error(resp, &ei);
}

static void h_unavailable(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        (void)req;
        struct qerr_info ei;
        qerr_set(&ei, QERR_SIGNER_UNAVAILABLE, NULL);
        http_error(resp, &ei);
}

static const struct http_route routes[] = {
    {.method = "GET", .prefix = "/exact", .exact = 1, .fn = h_exact},
    {.method = "GET", .prefix = "/p/", .exact = 0, .fn = h_prefix},
    {.method = "POST", .prefix = "/post-only", .exact = 1, .fn = h_post},
    {.method = "GET", .prefix = "/err/conflict", .exact = 1, .fn = h_conflict},
    {.method = "GET", .prefix = "/err/unavailable", .exact = 1, .fn = h_unavailable},
};

/* ---- a raw HTTP client ---- */

struct reply {
        char *raw; /* whole response, NUL-terminated */
        size_t len;
        int status;
        const char *body; /* inside raw */
        size_t body_len;
};

static void reply_free(struct reply *r)
{
        free(r->raw);
        memset(r, 0, sizeof *r);
}

static int connect_local(int p)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        struct timeval tv = {.tv_sec = 10, .tv_usec = 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        return fd;
}

/* Sends `req` (len bytes) and reads until the server closes. Returns 0, or
 * -1 when the server closed without a parsable answer. */
static int exchange(const char *req, size_t len, struct reply *r)
{
        memset(r, 0, sizeof *r);
        int fd = connect_local(port);
        size_t off = 0;
        while (off < len) {
                ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
                if (n <= 0)
                        break; /* the server may answer and close early */
                off += (size_t)n;
        }
        size_t cap = 4096;
        r->raw = malloc(cap);
        assert_non_null(r->raw);
        for (;;) {
                if (r->len + 1024 > cap) {
                        cap *= 2;
                        r->raw = realloc(r->raw, cap);
                        assert_non_null(r->raw);
                }
                ssize_t n = recv(fd, r->raw + r->len, cap - r->len - 1, 0);
                if (n <= 0)
                        break;
                r->len += (size_t)n;
        }
        close(fd);
        r->raw[r->len] = 0;
        if (sscanf(r->raw, "HTTP/1.%*1d %3d", &r->status) != 1)
                return -1;
        char *sep = strstr(r->raw, "\r\n\r\n");
        if (!sep)
                return -1;
        r->body = sep + 4;
        r->body_len = r->len - (size_t)(r->body - r->raw);
        return 0;
}

static void request(const char *method, const char *path, struct reply *r)
{
        char buf[8192];
        int n = snprintf(buf, sizeof buf,
                         "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", method, path);
        assert_true(n > 0 && (size_t)n < sizeof buf);
        assert_int_equal(exchange(buf, (size_t)n, r), 0);
}

/* The value of header `name` (case-insensitive) in the head of `r`, copied
 * into out; false when absent. */
static int header(const struct reply *r, const char *name, char *out, size_t outsz)
{
        size_t nl = strlen(name);
        const char *end = r->body ? r->body : r->raw + r->len;
        for (const char *p = strstr(r->raw, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n")) {
                const char *line = p + 2;
                if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
                        const char *v = line + nl + 1;
                        while (*v == ' ')
                                v++;
                        const char *e = strstr(v, "\r\n");
                        size_t vl = (size_t)(e - v);
                        if (vl >= outsz)
                                vl = outsz - 1;
                        memcpy(out, v, vl);
                        out[vl] = 0;
                        return 1;
                }
        }
        return 0;
}

/* Asserts the body is the error JSON with `code`; returns the message. */
static void assert_error_body(const struct reply *r, const char *code, char *msg, size_t msgsz)
{
        char ct[64];
        assert_true(header(r, "Content-Type", ct, sizeof ct));
        assert_string_equal(ct, "application/json");
        json_error_t jerr;
        json_t *o = json_loadb(r->body, r->body_len, 0, &jerr);
        assert_non_null(o);
        const char *c = NULL, *m = NULL;
        assert_int_equal(json_unpack(o, "{s:{s:s,s:s}}", "error", "code", &c, "message", &m), 0);
        assert_string_equal(c, code);
        assert_true(strlen(m) > 0);
        if (msg)
                snprintf(msg, msgsz, "%s", m);
        json_decref(o);
}

/* ---- setup ---- */

static int free_port(void)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fd >= 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        socklen_t sl = sizeof sa;
        assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
        close(fd);
        return ntohs(sa.sin_port);
}

static int group_setup(void **st)
{
        (void)st;
        qlog_set_level(QLOG_ERROR);
        struct qerr_info ei;
        qerr_clear(&ei);
        for (int attempt = 0; attempt < 5; attempt++) {
                port = free_port();
                char addr[32];
                snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
                if (http_server_start(addr, routes, sizeof routes / sizeof routes[0], &state,
                                      &server, &ei) == QERR_OK)
                        return 0;
        }
        fprintf(stderr, "cannot start the test server: %s\n", qerr_message(&ei));
        return -1;
}

static int group_teardown(void **st)
{
        (void)st;
        http_server_stop(server);
        server = NULL;
        return 0;
}

/* ---- tests ---- */

static void test_exact_route(void **st)
{
        (void)st;
        int before = state.calls;
        struct reply r;
        request("GET", "/exact", &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, 5);
        assert_memory_equal(r.body, "exact", 5);
        char v[64];
        assert_true(header(&r, "Content-Type", v, sizeof v));
        assert_string_equal(v, "text/plain");
        assert_true(header(&r, "X-Content-Type-Options", v, sizeof v));
        assert_string_equal(v, "nosniff");
        assert_int_equal(state.calls, before + 1); /* the user pointer reached the handler */
        reply_free(&r);

        /* exact means exact */
        request("GET", "/exact/more", &r);
        assert_int_equal(r.status, 404);
        assert_error_body(&r, "not_found", NULL, 0);
        reply_free(&r);
        request("GET", "/exac", &r);
        assert_int_equal(r.status, 404);
        reply_free(&r);
}

static void test_prefix_route(void **st)
{
        (void)st;
        struct reply r;
        request("GET", "/p/abc/def?x=1&y=2", &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "prefix:GET:/p/abc/def"); /* no query string */
        reply_free(&r);

        request("GET", "/p/", &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "prefix:GET:/p/");
        reply_free(&r);

        request("GET", "/p", &r); /* shorter than the prefix */
        assert_int_equal(r.status, 404);
        reply_free(&r);
}

static void test_not_found(void **st)
{
        (void)st;
        struct reply r;
        request("GET", "/nothing/here", &r);
        assert_int_equal(r.status, 404);
        assert_error_body(&r, "not_found", NULL, 0);
        char v[32];
        assert_true(header(&r, "X-Content-Type-Options", v, sizeof v));
        reply_free(&r);

        request("GET", "/", &r);
        assert_int_equal(r.status, 404);
        reply_free(&r);
}

static void test_method_not_allowed(void **st)
{
        (void)st;
        struct reply r;
        request("GET", "/post-only", &r);
        assert_int_equal(r.status, 405);
        assert_error_body(&r, "usage", NULL, 0);
        char allow[64];
        assert_true(header(&r, "Allow", allow, sizeof allow));
        assert_string_equal(allow, "POST");
        reply_free(&r);

        request("DELETE", "/exact", &r);
        assert_int_equal(r.status, 405);
        assert_true(header(&r, "Allow", allow, sizeof allow));
        assert_string_equal(allow, "GET, HEAD");
        reply_free(&r);

        /* an unknown path stays 404 whatever the method */
        request("PUT", "/nothing", &r);
        assert_int_equal(r.status, 404);
        reply_free(&r);
}

static void test_head_answers_like_get(void **st)
{
        (void)st;
        struct reply r;
        request("HEAD", "/exact", &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, 0);
        char v[32];
        assert_true(header(&r, "Content-Length", v, sizeof v));
        assert_string_equal(v, "5");
        reply_free(&r);
}

static void test_keep_alive(void **st)
{
        (void)st;
        const char two[] = "GET /exact HTTP/1.1\r\nHost: t\r\n\r\n"
                           "GET /p/2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
        struct reply r;
        assert_int_equal(exchange(two, sizeof two - 1, &r), 0);
        assert_int_equal(r.status, 200);
        const char *second = strstr(r.body, "HTTP/1.1 200");
        assert_non_null(second); /* both answered on one connection */
        assert_non_null(strstr(second, "prefix:GET:/p/2"));
        reply_free(&r);
}

static void test_body_is_ignored(void **st)
{
        (void)st;
        const char post[] = "POST /post-only HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                            "Content-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello world";
        struct reply r;
        assert_int_equal(exchange(post, sizeof post - 1, &r), 0);
        assert_int_equal(r.status, 201);
        assert_string_equal(r.body, "posted");
        reply_free(&r);

        const char post_get[] = "POST /exact HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                                "Content-Length: 3\r\n\r\nabc";
        assert_int_equal(exchange(post_get, sizeof post_get - 1, &r), 0);
        assert_int_equal(r.status, 405);
        reply_free(&r);
}

static void test_http_error_mapping(void **st)
{
        (void)st;
        struct reply r;
        char msg[256];
        request("GET", "/err/conflict", &r);
        assert_int_equal(r.status, 409);
        assert_error_body(&r, "ca_exists", msg, sizeof msg);
        assert_non_null(strstr(msg, "CA \"x\" exists"));
        assert_null(strstr(r.body, "partial output"));
        reply_free(&r);

        request("GET", "/err/unavailable", &r);
        assert_int_equal(r.status, 503);
        assert_error_body(&r, "signer_unavailable", msg, sizeof msg);
        assert_string_equal(msg, qerr_default_msg(QERR_SIGNER_UNAVAILABLE));
        reply_free(&r);
}

static void test_http_error_direct(void **st)
{
        (void)st;
        static const enum qerr codes[] = {QERR_NOT_FOUND, QERR_USAGE, QERR_POLICY_DENIED,
                                          QERR_DISK_FULL, QERR_INTERNAL};
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
                struct http_response resp = {.status = 200, .content_type = "text/plain"};
                qbuf_init(&resp.body, 4096);
                struct qerr_info ei;
                qerr_set(&ei, codes[i], "line one\nline \"two\"");
                http_error(&resp, &ei);
                assert_int_equal(resp.status, qerr_http_status(codes[i]));
                assert_string_equal(resp.content_type, "application/json");
                json_t *o = json_loads(qbuf_str(&resp.body), 0, NULL);
                assert_non_null(o);
                const char *c = NULL, *m = NULL;
                assert_int_equal(
                    json_unpack(o, "{s:{s:s,s:s}}", "error", "code", &c, "message", &m), 0);
                assert_string_equal(c, qerr_code(codes[i]));
                assert_string_equal(m, "line one\nline \"two\"");
                json_decref(o);
                qbuf_free(&resp.body);
        }
}

static void test_long_url(void **st)
{
        (void)st;
        /* longer than the router's limit, within MHD's request memory */
        size_t n = 3000;
        char *path = malloc(n + 1);
        assert_non_null(path);
        path[0] = '/';
        memset(path + 1, 'a', n - 1);
        path[n] = 0;
        struct reply r;
        request("GET", path, &r);
        assert_int_equal(r.status, 414);
        assert_error_body(&r, "usage", NULL, 0);
        reply_free(&r);
        free(path);

        /* far beyond anything: MHD refuses it or hangs up; nothing crashes */
        size_t big = 256 * 1024;
        char *req = malloc(big + 64);
        assert_non_null(req);
        memcpy(req, "GET /", 5);
        memset(req + 5, 'b', big);
        size_t len = 5 + big;
        len += (size_t)sprintf(req + len, " HTTP/1.1\r\nHost: t\r\n\r\n");
        int rc = exchange(req, len, &r);
        if (rc == 0)
                assert_true(r.status >= 400);
        reply_free(&r);
        free(req);

        /* and the server still answers */
        request("GET", "/exact", &r);
        assert_int_equal(r.status, 200);
        reply_free(&r);
}

static void test_start_failures(void **st)
{
        (void)st;
        struct http_server *s2 = (struct http_server *)&state; /* must be reset to NULL */
        struct qerr_info ei;
        char addr[32];

        /* the port is taken by the running server */
        snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
        assert_int_equal(http_server_start(addr, routes, 1, NULL, &s2, &ei), QERR_IO);
        assert_null(s2);
        assert_int_equal(ei.code, QERR_IO);
        assert_non_null(strstr(ei.msg, addr));
        assert_non_null(strstr(ei.msg, "[server] listen"));

        static const char *const bad[] = {
            "nonsense",      "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:+80",
            "127.0.0.1:80x", ":8080",     "::1:8080",   "[::1]8080",       "999.1.1.1:8080",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                s2 = (struct http_server *)&state;
                qerr_clear(&ei);
                assert_int_equal(http_server_start(bad[i], routes, 1, NULL, &s2, &ei), QERR_IO);
                assert_null(s2);
                assert_non_null(strstr(ei.msg, bad[i]));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_exact_route),
            cmocka_unit_test(test_prefix_route),
            cmocka_unit_test(test_not_found),
            cmocka_unit_test(test_method_not_allowed),
            cmocka_unit_test(test_head_answers_like_get),
            cmocka_unit_test(test_keep_alive),
            cmocka_unit_test(test_body_is_ignored),
            cmocka_unit_test(test_http_error_mapping),
            cmocka_unit_test(test_http_error_direct),
            cmocka_unit_test(test_long_url),
            cmocka_unit_test(test_start_failures),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
