/*
 * test_http_limits.c - request bodies and request limits of the HTTP server
 * (src/http/) over real loopback sockets: bodies under the route's cap
 * (413 by Content-Length at once, after Expect: 100-continue, and for a
 * chunked body past the cap; a client streaming on and on is cut off),
 * bodies with NUL bytes, 414 for long URLs, 431 for too many or too large
 * headers, and a server that keeps answering after each.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

#include "base/log.h"
#include "base/metrics.h"
#include "http/http.h"
#include "http_test_client.h"

static struct http_server *server;
static int port;

static void h_exact(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        (void)req;
        resp->content_type = "text/plain";
        qbuf_append_str(&resp->body, "exact");
}

/* Echoes the body: "<len>:<body>", after checking the NUL after it. */
static void h_echo_body(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        resp->content_type = "application/octet-stream";
        if (req->body && req->body[req->body_len] != 0) {
                resp->status = 500;
                return;
        }
        qbuf_printf(&resp->body, "%zu:", req->body_len);
        if (req->body_len)
                qbuf_append(&resp->body, req->body, req->body_len);
        if (!req->body && req->body_len == 0)
                qbuf_append_str(&resp->body, "(none)");
}

static const struct http_route routes[] = {
    {.method = "GET", .pattern = "/exact", .fn = h_exact},
    {.method = "POST", .pattern = "/echo", .max_body = 1024, .fn = h_echo_body},
    {.method = "PUT", .pattern = "/echo", .max_body = 1024, .fn = h_echo_body},
    {.method = "POST", .pattern = "/echo-default", .fn = h_echo_body},
};

static int exchange(const char *req, size_t len, struct reply *r)
{
        return exchange_on(port, req, len, r);
}

static void request(const char *method, const char *path, struct reply *r)
{
        request_on(port, method, path, r);
}

/* Asserts the body is the error JSON with `code`; copies the message. */
static void assert_error_body(const struct reply *r, const char *code, char *msg, size_t msgsz)
{
        char ct[64];
        assert_true(header(r, "Content-Type", ct, sizeof ct));
        assert_string_equal(ct, "application/json");
        json_t *o = json_loadb(r->body, r->body_len, 0, NULL);
        assert_non_null(o);
        const char *c = NULL, *m = NULL;
        assert_int_equal(json_unpack(o, "{s:{s:s,s:s}}", "error", "code", &c, "message", &m), 0);
        assert_string_equal(c, code);
        if (msg)
                snprintf(msg, msgsz, "%s", m);
        json_decref(o);
}

static int group_setup(void **st)
{
        (void)st;
        qlog_set_level(QLOG_OFF);
        struct qerr_info ei;
        qerr_clear(&ei);
        struct http_listener_opts o = {
            .listen = "127.0.0.1:0",
            .routes = routes,
            .nroutes = sizeof routes / sizeof routes[0],
            .threads = 2,
        };
        if (http_server_start(&o, &server, &ei) != QERR_OK) {
                fprintf(stderr, "cannot start the test server: %s\n", qerr_message(&ei));
                return -1;
        }
        port = http_server_port(server);
        return port > 0 ? 0 : -1;
}

static int group_teardown(void **st)
{
        (void)st;
        http_server_stop(server, 1000);
        metrics_shutdown();
        return 0;
}

/* ---- bodies ---- */

static void post(const char *path, const char *body, size_t len, struct reply *r)
{
        size_t cap = len + 256;
        char *req = malloc(cap);
        assert_non_null(req);
        int n = snprintf(req, cap,
                         "POST %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                         "Content-Length: %zu\r\n\r\n",
                         path, len);
        memcpy(req + n, body, len);
        assert_int_equal(exchange(req, (size_t)n + len, r), 0);
        free(req);
}

static void test_bodies(void **st)
{
        (void)st;
        struct reply r;
        post("/echo", "hello world", 11, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "11:hello world");
        reply_free(&r);

        /* a body with NUL bytes arrives whole (and still NUL-terminated) */
        post("/echo", "a\0b", 3, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, 5);
        assert_memory_equal(r.body, "3:a\0b", 5);
        reply_free(&r);

        /* no body at all */
        post("/echo", "", 0, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "0:(none)");
        reply_free(&r);

        /* exactly the cap, then one byte more */
        char *big = malloc(70 * 1024);
        assert_non_null(big);
        memset(big, 'x', 70 * 1024);
        post("/echo", big, 1024, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, 5 + 1024);
        reply_free(&r);
        post("/echo", big, 1025, &r);
        assert_int_equal(r.status, 413);
        char msg[256];
        assert_error_body(&r, "body_too_large", msg, sizeof msg);
        assert_non_null(strstr(msg, "1024"));
        reply_free(&r);

        /* the default cap is 64 KiB */
        post("/echo-default", big, 64 * 1024, &r);
        assert_int_equal(r.status, 200);
        reply_free(&r);
        post("/echo-default", big, 64 * 1024 + 1, &r);
        assert_int_equal(r.status, 413);
        reply_free(&r);
        free(big);

        /* a huge Content-Length is refused at once, without waiting for it */
        const char huge[] = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999\r\n\r\n";
        assert_int_equal(exchange(huge, sizeof huge - 1, &r), 0);
        assert_int_equal(r.status, 413);
        reply_free(&r);

        /* with Expect: 100-continue, the refusal comes instead of 100 */
        const char expect[] = "PUT /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                              "Content-Length: 5000\r\n\r\n";
        assert_int_equal(exchange(expect, sizeof expect - 1, &r), 0);
        assert_int_equal(r.status, 413);
        assert_null(strstr(r.raw, "100 Continue"));
        reply_free(&r);

        /* a body for a route that does not exist */
        post("/nowhere", "abc", 3, &r);
        assert_int_equal(r.status, 404);
        reply_free(&r);
}

static void test_chunked_bodies(void **st)
{
        (void)st;
        struct reply r;
        const char small[] = "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n"
                             "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        assert_int_equal(exchange(small, sizeof small - 1, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "11:hello world");
        reply_free(&r);

        /* 2 KiB in chunks of 512 to a 1 KiB route: 413 once it is all in */
        char req[4096];
        int n = snprintf(req, sizeof req,
                         "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 4; i++) {
                n += snprintf(req + n, sizeof req - (size_t)n, "200\r\n");
                memset(req + n, 'y', 512);
                n += 512;
                n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
        }
        n += snprintf(req + n, sizeof req - (size_t)n, "0\r\n\r\n");
        assert_int_equal(exchange(req, (size_t)n, &r), 0);
        assert_int_equal(r.status, 413);
        assert_error_body(&r, "body_too_large", NULL, 0);
        reply_free(&r);

        /* a client that keeps streaming far past the cap is cut off */
        size_t biglen = 512 * 1024;
        char *big = malloc(biglen + 1024);
        assert_non_null(big);
        n = snprintf(big, 1024,
                     "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
        while ((size_t)n + 600 < biglen) {
                n += snprintf(big + n, 16, "200\r\n");
                memset(big + n, 'z', 512);
                n += 512;
                memcpy(big + n, "\r\n", 2);
                n += 2;
        }
        int rc = exchange(big, (size_t)n, &r); /* never ends with "0\r\n\r\n" */
        assert_true(rc != 0 || r.status == 413);
        reply_free(&r);
        free(big);

        request("GET", "/exact", &r); /* and the server still answers */
        assert_int_equal(r.status, 200);
        reply_free(&r);
}

/* ---- limits ---- */

static void test_long_url(void **st)
{
        (void)st;
        size_t n = 3000; /* longer than HTTP_MAX_URL, within MHD's memory */
        char *path = malloc(n + 1);
        assert_non_null(path);
        path[0] = '/';
        memset(path + 1, 'a', n - 1);
        path[n] = 0;
        struct reply r;
        request("GET", path, &r);
        assert_int_equal(r.status, 414);
        assert_error_body(&r, "uri_too_long", NULL, 0);
        reply_free(&r);
        /* the query counts too */
        memcpy(path, "/exact?q=", 9);
        request("GET", path, &r);
        assert_int_equal(r.status, 414);
        reply_free(&r);
        /* just under the limit */
        path[HTTP_MAX_URL] = 0;
        request("GET", path, &r);
        assert_int_equal(r.status, 200);
        reply_free(&r);
        free(path);

        /* far beyond anything: MHD refuses it or hangs up; nothing crashes */
        size_t big = 256 * 1024;
        char *req = malloc(big + 64);
        assert_non_null(req);
        memcpy(req, "GET /", 5);
        memset(req + 5, 'b', big);
        size_t len = 5 + big;
        len += (size_t)snprintf(req + len, 64, " HTTP/1.1\r\nHost: t\r\n\r\n");
        int rc = exchange(req, len, &r);
        if (rc == 0)
                assert_true(r.status >= 400);
        reply_free(&r);
        free(req);

        request("GET", "/exact", &r); /* and the server still answers */
        assert_int_equal(r.status, 200);
        reply_free(&r);
}

static void test_header_caps(void **st)
{
        (void)st;
        char *req = malloc(32 * 1024);
        assert_non_null(req);
        struct reply r;
        /* 100 headers in all pass; 101 are refused */
        for (int count = 100; count <= 101; count++) {
                int n =
                    snprintf(req, 1024, "GET /exact HTTP/1.1\r\nHost: t\r\nConnection: close\r\n");
                for (int i = 0; i < count - 2; i++)
                        n += snprintf(req + n, 64, "X-H%d: v\r\n", i);
                n += snprintf(req + n, 8, "\r\n");
                assert_int_equal(exchange(req, (size_t)n, &r), 0);
                assert_int_equal(r.status, count == 100 ? 200 : 431);
                if (count == 101)
                        assert_error_body(&r, "headers_too_large", NULL, 0);
                reply_free(&r);
        }
        /* one header of 9 KiB: over the byte cap, within MHD's memory */
        int n =
            snprintf(req, 1024, "GET /exact HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Big: ");
        memset(req + n, 'h', 9 * 1024);
        n += 9 * 1024;
        n += snprintf(req + n, 8, "\r\n\r\n");
        assert_int_equal(exchange(req, (size_t)n, &r), 0);
        assert_int_equal(r.status, 431);
        assert_error_body(&r, "headers_too_large", NULL, 0);
        reply_free(&r);
        /* 7 KiB pass */
        n = snprintf(req, 1024, "GET /exact HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Big: ");
        memset(req + n, 'h', 7 * 1024);
        n += 7 * 1024;
        n += snprintf(req + n, 8, "\r\n\r\n");
        assert_int_equal(exchange(req, (size_t)n, &r), 0);
        assert_int_equal(r.status, 200);
        reply_free(&r);
        free(req);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_bodies),
            cmocka_unit_test(test_chunked_bodies),
            cmocka_unit_test(test_long_url),
            cmocka_unit_test(test_header_caps),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
