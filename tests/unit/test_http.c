/*
 * test_http.c - the HTTP server (src/http/) over real loopback sockets:
 * routing by pattern with captures, 404/405 with Allow, HEAD, keep-alive,
 * request headers and query parameters,
 * response headers (and refused ones), zero-copy static bodies, the error
 * bodies, the metrics the server records, and start failures.
 *
 * One server is started for the group on 127.0.0.1 port 0 (the kernel picks
 * it; http_server_port reads it back); each test sends raw HTTP/1.1 bytes
 * (http_test_client.h) and asserts status line, headers and body. Bodies
 * and request limits, thread contexts, graceful stop, slow clients and TLS
 * have their own files (test_http_limits.c, test_http_daemon.c,
 * test_http_tls.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdatomic.h>

#include "base/log.h"
#include "base/metrics.h"
#include "http/http.h"
#include "http/route.h"
#include "http_test_client.h"

struct fake_state {
        int calls;
};

static struct fake_state state;
static struct http_server *server;
static int port;
static atomic_int releases;

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

static void h_echo_params(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        resp->content_type = "text/plain";
        qbuf_printf(&resp->body, "%s|%s|%s|%zu", req->method, req->route, req->path, req->nparams);
        for (size_t i = 0; i < req->nparams; i++)
                qbuf_printf(&resp->body, "|%s", req->params[i]);
}

static void h_post(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        (void)req;
        resp->status = 201;
        resp->content_type = "text/plain";
        qbuf_append_str(&resp->body, "posted");
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

static void h_custom_error(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        (void)req;
        http_error_status(resp, 429, "rate_limited", "Slow down \xc3\xa9.");
        http_set_header(resp, "Retry-After", "%d", 7);
}

static void h_headers(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        (void)req;
        resp->status = 201;
        resp->content_type = "application/json";
        int ok = 0;
        ok += http_set_header(resp, "Location", "/api/v1/orders/%d", 42);
        ok += http_set_header(resp, "Link", "<%s>;rel=\"index\"", "/directory");
        ok += http_set_header(resp, "Retry-After", "%d", 3);
        ok += http_set_header(resp, "Cache-Control", "max-age=%d", 60);
        ok += http_set_header(resp, "ETag", "\"%s\"", "abc");
        ok += http_set_header(resp, "Replay-Nonce", "%s", "n0nce");
        int bad = 0;
        bad += http_set_header(resp, "X-Evil", "a\r\nInjected: yes");
        bad += http_set_header(resp, "X-Evil", "a\nb");
        bad += http_set_header(resp, "X-Ev\nil", "v");
        bad += http_set_header(resp, "X-Ev:il", "v");
        bad += http_set_header(resp, "", "v");
        bad += http_set_header(resp, "X Sp", "v");
        /* the same without formatting (hot paths) */
        ok += http_set_header_str(resp, "Expires", "Sun, 06 Nov 1994 08:49:37 GMT");
        bad += http_set_header_str(resp, "X-Evil", "a\r\nInjected: yes");
        bad += http_set_header_str(resp, "X-Ev:il", "v");
        bad += http_set_header_str(resp, "X-Null", NULL);
        qbuf_printf(&resp->body, "{\"ok\":%d,\"bad\":%d}", ok, bad);
}

static void h_query(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        char a[32], b[32], small[4];
        bool too_long = false, tl2 = true;
        const char *va = http_query(req, "a", a, sizeof a, &tl2);
        const char *vb = http_query(req, "b", b, sizeof b, NULL);
        const char *vs = http_query(req, "long", small, sizeof small, &too_long);
        resp->content_type = "text/plain";
        qbuf_printf(&resp->body, "q=%s a=%s b=%s long=%s too_long=%d tl2=%d", req->query,
                    va ? va : "(null)", vb ? vb : "(null)", vs ? vs : "(null)", too_long, tl2);
}

static void h_reqinfo(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        const char *x = http_header(req, "x-test");
        const char *none = http_header(req, "X-Absent");
        resp->content_type = "text/plain";
        qbuf_printf(&resp->body, "x=%s none=%s id=%s peer=%s tls=%d ctx=%p", x ? x : "(null)",
                    none ? none : "(null)", req->request_id, req->remote_addr, req->tls,
                    req->thread_ctx);
}

static void release_static(void *arg)
{
        (void)arg;
        atomic_fetch_add(&releases, 1);
}

static const char static_text[] = "a pre-signed answer kept in memory";

static void h_static(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        (void)req;
        resp->content_type = "application/ocsp-response";
        qbuf_append_str(&resp->body, "ignored when static_body is set");
        resp->static_body = (const uint8_t *)static_text;
        resp->static_len = sizeof static_text - 1;
        resp->release = release_static;
        resp->release_arg = NULL;
}

static void h_bad_status(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        (void)req;
        resp->status = 42;
}

static const struct http_route routes[] = {
    {.method = "GET", .pattern = "/exact", .fn = h_exact},
    {.method = "GET", .pattern = "/p/*", .fn = h_echo_params},
    {.method = "GET", .pattern = "/items/{id}", .fn = h_echo_params},
    {.method = "GET", .pattern = "/items/{id}/sub/{x}", .fn = h_echo_params},
    {.method = "DELETE", .pattern = "/items/{id}", .fn = h_echo_params},
    {.method = "POST", .pattern = "/post-only", .fn = h_post},
    {.method = "POST", .pattern = "/echo", .max_body = 1024, .fn = h_echo_body},
    {.method = "PUT", .pattern = "/echo", .max_body = 1024, .fn = h_echo_body},
    {.method = "POST", .pattern = "/echo-default", .fn = h_echo_body},
    {.method = "GET", .pattern = "/err/conflict", .fn = h_conflict},
    {.method = "GET", .pattern = "/err/unavailable", .fn = h_unavailable},
    {.method = "GET", .pattern = "/err/custom", .fn = h_custom_error},
    {.method = "GET", .pattern = "/err/status", .fn = h_bad_status},
    {.method = "GET", .pattern = "/headers", .fn = h_headers},
    {.method = "GET", .pattern = "/query", .fn = h_query},
    {.method = "GET", .pattern = "/reqinfo", .fn = h_reqinfo},
    {.method = "GET", .pattern = "/static", .fn = h_static},
    {.method = "GET", .pattern = "/local", .fn = h_exact},
};

static const char *const loopback_only[] = {"/local", NULL};

/* ---- helpers ---- */

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
        json_error_t jerr;
        json_t *o = json_loadb(r->body, r->body_len, 0, &jerr);
        assert_non_null(o);
        const char *c = NULL, *m = NULL;
        assert_int_equal(json_unpack(o, "{s:{s:s,s:s}}", "error", "code", &c, "message", &m), 0);
        assert_string_equal(c, code);
        assert_true(strlen(m) > 0);
        for (const char *p = r->body; p < r->body + r->body_len; p++)
                assert_true((unsigned char)*p < 0x80); /* ASCII-safe */
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
            .user = &state,
            .threads = 2,
            .loopback_only_patterns = loopback_only,
            .name = "unit",
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
        server = NULL;
        metrics_shutdown();
        return 0;
}

/* ---- routing ---- */

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
        assert_true(header(&r, "X-Request-Id", v, sizeof v));
        assert_int_equal(strlen(v), 16);
        assert_int_equal(strspn(v, "0123456789abcdef"), 16);
        assert_int_equal(state.calls, before + 1); /* the user pointer reached the handler */
        reply_free(&r);

        static const char *const misses[] = {"/exact/more", "/exac",   "/exact/",
                                             "/",           "//exact", "/EXACT"};
        for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++) {
                request("GET", misses[i], &r);
                assert_int_equal(r.status, 404);
                assert_error_body(&r, "not_found", NULL, 0);
                assert_true(header(&r, "X-Content-Type-Options", v, sizeof v));
                reply_free(&r);
        }
}

static void test_patterns_and_params(void **st)
{
        (void)st;
        static const struct {
                const char *method, *path, *body;
        } cases[] = {
            {"GET", "/p/abc/def?x=1&y=2", "GET|/p/*|/p/abc/def|1|abc/def"},
            {"GET", "/p/", "GET|/p/*|/p/|1|"},
            {"GET", "/p/a%2Fb%20c+d", "GET|/p/*|/p/a%2Fb%20c+d|1|a/b c+d"},
            {"GET", "/items/7", "GET|/items/{id}|/items/7|1|7"},
            {"GET", "/items/a%2Fb", "GET|/items/{id}|/items/a%2Fb|1|a/b"},
            {"DELETE", "/items/9", "DELETE|/items/{id}|/items/9|1|9"},
            {"GET", "/items/7/sub/x%3Dy", "GET|/items/{id}/sub/{x}|/items/7/sub/x%3Dy|2|7|x=y"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct reply r;
                request(cases[i].method, cases[i].path, &r);
                assert_int_equal(r.status, 200);
                assert_string_equal(r.body, cases[i].body);
                reply_free(&r);
        }
        static const char *const misses[] = {"/p",         "/items/",     "/items", "/items/7/sub/",
                                             "/items/%zz", "/items/a%00b"};
        for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++) {
                struct reply r;
                request("GET", misses[i], &r);
                if (r.status != 404)
                        fail_msg("%s: %d", misses[i], r.status);
                reply_free(&r);
        }
}

static void test_method_not_allowed(void **st)
{
        (void)st;
        struct reply r;
        char allow[64], msg[256];
        request("GET", "/post-only", &r);
        assert_int_equal(r.status, 405);
        assert_error_body(&r, "method_not_allowed", msg, sizeof msg);
        assert_true(header(&r, "Allow", allow, sizeof allow));
        assert_string_equal(allow, "POST");
        reply_free(&r);

        request("DELETE", "/exact", &r);
        assert_int_equal(r.status, 405);
        assert_true(header(&r, "Allow", allow, sizeof allow));
        assert_string_equal(allow, "GET, HEAD");
        reply_free(&r);

        request("GET", "/echo", &r);
        assert_int_equal(r.status, 405);
        assert_true(header(&r, "Allow", allow, sizeof allow));
        assert_string_equal(allow, "POST, PUT");
        reply_free(&r);

        request("PUT", "/items/3", &r);
        assert_int_equal(r.status, 405);
        assert_true(header(&r, "Allow", allow, sizeof allow));
        assert_string_equal(allow, "GET, HEAD, DELETE");
        reply_free(&r);

        /* an unknown path stays 404 whatever the method */
        request("PUT", "/nothing", &r);
        assert_int_equal(r.status, 404);
        reply_free(&r);
        request("BREW", "/exact", &r);
        assert_int_equal(r.status, 405);
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
        /* pipelined, then one at a time, with a 404 and a 405 in between:
         * none of them closes the connection */
        int fd = connect_to(port, 10);
        const char two[] = "GET /exact HTTP/1.1\r\nHost: t\r\n\r\n"
                           "GET /p/2 HTTP/1.1\r\nHost: t\r\n\r\n";
        send_all(fd, two, sizeof two - 1);
        struct reply r;
        assert_int_equal(read_one(fd, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "exact");
        reply_free(&r);
        assert_int_equal(read_one(fd, &r), 0);
        assert_string_equal(r.body, "GET|/p/*|/p/2|1|2");
        reply_free(&r);
        static const char *const next[] = {"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n",
                                           "DELETE /exact HTTP/1.1\r\nHost: t\r\n\r\n",
                                           "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: "
                                           "3\r\n\r\nabc",
                                           "GET /exact HTTP/1.1\r\nHost: t\r\n\r\n"};
        static const int want[] = {404, 405, 200, 200};
        for (size_t i = 0; i < 4; i++) {
                send_all(fd, next[i], strlen(next[i]));
                assert_int_equal(read_one(fd, &r), 0);
                assert_int_equal(r.status, want[i]);
                char v[32];
                assert_false(header(&r, "Connection", v, sizeof v) && !strcmp(v, "close"));
                reply_free(&r);
        }
        close(fd);
}

static void test_loopback_only_route(void **st)
{
        (void)st;
        /* a loopback client sees it (the other side is test_loopback_addresses) */
        struct reply r;
        request("GET", "/local", &r);
        assert_int_equal(r.status, 200);
        reply_free(&r);
}

/* ---- request and response fields ---- */

static void test_request_fields(void **st)
{
        (void)st;
        const char req[] = "GET /reqinfo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                           "X-Test: hello there\r\n\r\n";
        struct reply r, r2;
        assert_int_equal(exchange(req, sizeof req - 1, &r), 0);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body, "x=hello there none=(null) id="));
        assert_non_null(strstr(r.body, "peer=127.0.0.1 tls=0 ctx=(nil)"));
        char id[32];
        assert_true(header(&r, "X-Request-Id", id, sizeof id));
        assert_non_null(strstr(r.body, id)); /* the handler saw the id sent back */
        assert_int_equal(exchange(req, sizeof req - 1, &r2), 0);
        char id2[32];
        assert_true(header(&r2, "X-Request-Id", id2, sizeof id2));
        assert_string_not_equal(id, id2);
        reply_free(&r);
        reply_free(&r2);

        request("GET", "/query?a=x%20y&b=1+2&long=abcdef", &r);
        assert_string_equal(r.body,
                            "q=a=x%20y&b=1+2&long=abcdef a=x y b=1 2 long=(null) too_long=1 tl2=0");
        reply_free(&r);
        request("GET", "/query", &r);
        assert_string_equal(r.body, "q= a=(null) b=(null) long=(null) too_long=0 tl2=0");
        reply_free(&r);
}

static void test_response_headers(void **st)
{
        (void)st;
        struct reply r;
        request("GET", "/headers", &r);
        assert_int_equal(r.status, 201);
        assert_string_equal(r.body, "{\"ok\":7,\"bad\":0}");
        char v[128];
        static const char *const want[][2] = {
            {"Location", "/api/v1/orders/42"},
            {"Link", "</directory>;rel=\"index\""},
            {"Retry-After", "3"},
            {"Cache-Control", "max-age=60"},
            {"ETag", "\"abc\""},
            {"Replay-Nonce", "n0nce"},
            {"Expires", "Sun, 06 Nov 1994 08:49:37 GMT"},
            {"X-Content-Type-Options", "nosniff"},
        };
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
                assert_true(header(&r, want[i][0], v, sizeof v));
                assert_string_equal(v, want[i][1]);
        }
        assert_false(header(&r, "Injected", v, sizeof v));
        assert_false(header(&r, "X-Evil", v, sizeof v));
        reply_free(&r);
}

static void test_static_body(void **st)
{
        (void)st;
        int before = atomic_load(&releases);
        for (int i = 0; i < 3; i++) {
                struct reply r;
                request("GET", "/static", &r);
                assert_int_equal(r.status, 200);
                assert_string_equal(r.body, static_text);
                char v[64];
                assert_true(header(&r, "Content-Type", v, sizeof v));
                assert_string_equal(v, "application/ocsp-response");
                reply_free(&r);
        }
        /* HEAD releases too */
        struct reply r;
        request("HEAD", "/static", &r);
        assert_int_equal(r.body_len, 0);
        reply_free(&r);
        /* release runs when MHD is done with the answer: shortly after */
        for (int i = 0; i < 200 && atomic_load(&releases) < before + 4; i++)
                usleep(10 * 1000);
        assert_int_equal(atomic_load(&releases), before + 4);
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

        request("GET", "/err/custom", &r);
        assert_int_equal(r.status, 429);
        assert_error_body(&r, "rate_limited", msg, sizeof msg);
        assert_string_equal(msg, "Slow down \xc3\xa9."); /* \u00e9 on the wire */
        char v[16];
        assert_true(header(&r, "Retry-After", v, sizeof v));
        assert_string_equal(v, "7");
        reply_free(&r);

        request("GET", "/err/status", &r);
        assert_int_equal(r.status, 500);
        assert_error_body(&r, "internal", NULL, 0);
        reply_free(&r);
}

static void test_http_error_direct(void **st)
{
        (void)st;
        static const enum qerr codes[] = {QERR_NOT_FOUND, QERR_USAGE,    QERR_POLICY_DENIED,
                                          QERR_DISK_FULL, QERR_INTERNAL, QERR_BODY_TOO_LARGE};
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
        assert_int_equal(qerr_http_status(QERR_BODY_TOO_LARGE), 413);
        /* invalid UTF-8 is masked, not dropped */
        struct http_response resp = {.status = 200};
        qbuf_init(&resp.body, 4096);
        http_error_status(&resp, 400, "usage", "bad \xff byte");
        assert_int_equal(resp.status, 400);
        assert_non_null(strstr(qbuf_str(&resp.body), "bad ? byte"));
        qbuf_free(&resp.body);
}

static void test_metrics_recorded(void **st)
{
        (void)st;
        for (int i = 0; i < 3; i++) {
                struct reply r;
                request("GET", "/items/5", &r);
                reply_free(&r);
        }
        struct qbuf out;
        qbuf_init(&out, 1 << 20);
        /* the completion (which records) may trail the answer by a moment */
        const char *want = "quill_http_requests_total{listener=\"unit\",route=\"/items/{id}\","
                           "method=\"GET\",status=\"200\"} ";
        const char *p = NULL;
        for (int i = 0; i < 100; i++) {
                qbuf_reset(&out);
                assert_true(metrics_render(&out));
                p = strstr(qbuf_str(&out), want);
                if (p && strtol(p + strlen(want), NULL, 10) >= 3)
                        break;
                usleep(10 * 1000);
        }
        assert_non_null(p);
        assert_true(strtol(p + strlen(want), NULL, 10) >= 3);
        assert_non_null(strstr(qbuf_str(&out), "quill_http_requests_total{listener=\"unit\","
                                               "route=\"none\",method=\"GET\",status=\"404\"}"));
        assert_non_null(strstr(qbuf_str(&out), "quill_http_request_duration_seconds_count{"
                                               "listener=\"unit\",route=\"/items/{id}\"}"));
        /* client-chosen methods do not make new series */
        assert_null(strstr(qbuf_str(&out), "BREW"));
        qbuf_free(&out);
}

static void test_loopback_addresses(void **st)
{
        (void)st;
        struct sockaddr_in a = {.sin_family = AF_INET};
        struct sockaddr_in6 b = {.sin6_family = AF_INET6};
        static const struct {
                const char *addr;
                bool loopback;
        } cases[] = {{"127.0.0.1", true},        {"127.9.8.7", true},    {"10.0.0.1", false},
                     {"128.0.0.1", false},       {"::1", true},          {"::ffff:127.0.0.1", true},
                     {"::ffff:10.0.0.1", false}, {"2001:db8::1", false}, {"::", false}};
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const struct sockaddr *sa;
                if (inet_pton(AF_INET, cases[i].addr, &a.sin_addr) == 1)
                        sa = (const struct sockaddr *)&a;
                else {
                        assert_int_equal(inet_pton(AF_INET6, cases[i].addr, &b.sin6_addr), 1);
                        sa = (const struct sockaddr *)&b;
                }
                if (http_addr_is_loopback(sa) != cases[i].loopback)
                        fail_msg("%s", cases[i].addr);
        }
}

static void test_start_failures(void **st)
{
        (void)st;
        struct http_server *s2 = (struct http_server *)&state; /* must be reset to NULL */
        struct qerr_info ei;
        char addr[32];

        /* the port is taken by the running server */
        snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
        struct http_listener_opts o = {
            .listen = addr, .routes = routes, .nroutes = 1, .threads = 1};
        assert_int_equal(http_server_start(&o, &s2, &ei), QERR_IO);
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
                o.listen = bad[i];
                assert_int_equal(http_server_start(&o, &s2, &ei), QERR_IO);
                assert_null(s2);
                assert_non_null(strstr(ei.msg, bad[i]));
        }
        /* a malformed pattern is a programming error */
        static const struct http_route broken[] = {
            {.method = "GET", .pattern = "/a/{", .fn = h_exact}};
        o.listen = "127.0.0.1:0";
        o.routes = broken;
        s2 = (struct http_server *)&state;
        assert_int_equal(http_server_start(&o, &s2, &ei), QERR_INTERNAL);
        assert_null(s2);
        /* TLS material that does not parse */
        o.routes = routes;
        o.cert_chain_pem = "not a certificate";
        o.key_pem = "not a key";
        assert_int_equal(http_server_start(&o, &s2, &ei), QERR_TLS_INVALID);
        assert_null(s2);
        /* set_tls on a plain listener */
        assert_int_equal(http_server_set_tls(server, "x", "y", &ei), QERR_USAGE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_exact_route),        cmocka_unit_test(test_patterns_and_params),
            cmocka_unit_test(test_method_not_allowed), cmocka_unit_test(test_head_answers_like_get),
            cmocka_unit_test(test_keep_alive),         cmocka_unit_test(test_loopback_only_route),
            cmocka_unit_test(test_request_fields),     cmocka_unit_test(test_response_headers),
            cmocka_unit_test(test_static_body),        cmocka_unit_test(test_http_error_mapping),
            cmocka_unit_test(test_http_error_direct),  cmocka_unit_test(test_metrics_recorded),
            cmocka_unit_test(test_loopback_addresses), cmocka_unit_test(test_start_failures),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
