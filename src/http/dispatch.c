/*
 * dispatch.c - one request through the server: limits, routing, the
 * handler, the response, and what is recorded when it completes.
 *
 * MHD calls the access handler (http_on_request) first when the headers
 * are in; here the URL length and header caps are checked, the route is
 * found (404/405 otherwise; loopback-only routes are invisible to other
 * peers) and a Content-Length over the route's cap is answered 413 at once
 * (MHD then discards the body and closes). A request without a body is
 * answered in that same call. Otherwise the body arrives in later calls and
 * is appended to a qbuf bounded by the route's cap; past the cap the rest is
 * counted and dropped (up to another cap's worth, then the connection is cut
 * without an answer), and the final call answers 413. The final call of a
 * body that fitted runs the handler.
 *
 * The handler gets a stack `struct http_request` whose strings point into
 * the request's state, and a response whose body and header buffers start
 * empty (no allocation until written). The body is handed to MHD without a
 * copy (MHD frees it), or a static body is sent as is and released by MHD's
 * free callback.
 *
 * Threads: everything here runs on the worker thread of the connection; the
 * counters and metric series it touches are atomics.
 */
#include "http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../base/log.h"

static const char *const method_names[HTTP_NMETHODS] = {"GET",    "HEAD",  "POST",    "PUT",
                                                        "DELETE", "PATCH", "OPTIONS", "other"};

uint64_t http_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64 over a per-thread state seeded from getrandom(): unique within
 * a thread (the state only moves forward), unpredictable enough for what a
 * request id is for (telling requests apart in logs), and no system call
 * per request. */
void http_request_id(char out[17])
{
        static _Thread_local uint64_t state;
        static _Thread_local bool seeded;
        if (!seeded) {
                if (getrandom(&state, sizeof state, 0) != (ssize_t)sizeof state)
                        state = http_now_ns() ^ (uint64_t)(uintptr_t)&state;
                seeded = true;
        }
        uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        static const char hex[] = "0123456789abcdef";
        for (int i = 15; i >= 0; i--, z >>= 4)
                out[i] = hex[z & 15];
        out[16] = 0;
}

int http_method_index(const char *method)
{
        for (int i = 0; i < HTTP_NMETHODS - 1; i++)
                if (strcmp(method, method_names[i]) == 0)
                        return i;
        return HTTP_NMETHODS - 1;
}

/* ---- metrics and the log line, when a request completes ---- */

static struct metric_series *status_series(struct http_server *s, struct route_ent *r,
                                           int method_idx, int status)
{
        char code[8];
        snprintf(code, sizeof code, "%d", status);
        const char *v[] = {s->name, r->r.pattern, method_names[method_idx], code};
        const uint32_t key = ((uint32_t)(method_idx + 1) << 16) | (uint32_t)status;
        struct status_cache *c = &r->statuses;
        uint32_t h = (key * 2654435761u) >> 27; /* 5 bits: HTTP_STATUS_CACHE slots */
        for (int probe = 0; probe < HTTP_STATUS_CACHE; probe++) {
                uint32_t i = (h + (uint32_t)probe) % HTTP_STATUS_CACHE;
                uint32_t k = atomic_load_explicit(&c->key[i], memory_order_acquire);
                if (k == key) {
                        struct metric_series *ser =
                            atomic_load_explicit(&c->series[i], memory_order_acquire);
                        return ser ? ser : metrics_series(s->requests_total, v);
                }
                if (k == 0) {
                        uint32_t zero = 0;
                        if (atomic_compare_exchange_strong(&c->key[i], &zero, key)) {
                                struct metric_series *ser = metrics_series(s->requests_total, v);
                                atomic_store_explicit(&c->series[i], ser, memory_order_release);
                                return ser;
                        }
                        if (zero == key)
                                return metrics_series(s->requests_total, v);
                }
        }
        return metrics_series(s->requests_total, v); /* table full: the locked lookup */
}

void http_request_done(struct http_server *s, struct req_state *st)
{
        if (st->counted)
                atomic_fetch_sub(&s->inflight, 1);
        if (st->status) {
                struct route_ent *r = st->route ? st->route : &s->none;
                double secs = (double)(http_now_ns() - st->t0_ns) / 1e9;
                metrics_inc(status_series(s, r, st->method_idx, st->status));
                metrics_observe(r->duration, secs);
                enum qlog_level lvl = st->status >= 500 ? QLOG_WARN : QLOG_DEBUG;
                if (qlog_enabled(lvl)) {
                        char epath[160];
                        qlog(lvl, "http request",
                             "listener=%s method=%s route=%s path=%s status=%d ms=%.3f "
                             "request_id=%s peer=%s",
                             s->name, method_names[st->method_idx], r->r.pattern,
                             qlog_escape(st->path, epath, sizeof epath), st->status, secs * 1e3,
                             st->request_id, st->remote);
                }
        }
        qbuf_free(&st->body);
        free(st);
}

/* ---- responses ---- */

/* Adds the "Name: value\n" lines of `hdrs` to `m` (the buffer is ours: the
 * separators are overwritten with NULs). */
static void add_custom_headers(struct MHD_Response *m, struct qbuf *hdrs)
{
        char *p = (char *)hdrs->data;
        char *end = p ? p + hdrs->len : NULL;
        while (p && p < end) {
                char *nl = memchr(p, '\n', (size_t)(end - p));
                char *colon = memchr(p, ':', (size_t)((nl ? nl : end) - p));
                if (!nl || !colon)
                        break;
                *nl = 0;
                *colon = 0;
                const char *v = colon + 1;
                while (*v == ' ')
                        v++;
                if (MHD_add_response_header(m, p, v) != MHD_YES) {
                        char ename[80];
                        qlog_warn("http header refused", "name=%s",
                                  qlog_escape(p, ename, sizeof ename));
                }
                p = nl + 1;
        }
}

/* Queues `r` on the connection; takes the body buffer (or the static body). */
static enum MHD_Result send_response(struct req_state *st, struct http_response *r,
                                     const char *allow)
{
        struct MHD_Response *m;
        if (r->static_body) {
                m = MHD_create_response_from_buffer_with_free_callback_cls(
                    r->static_len, (void *)r->static_body, r->release, r->release_arg);
                if (m)
                        r->release = NULL; /* MHD calls it now */
        } else {
                size_t len = 0;
                void *data = qbuf_take(&r->body, &len);
                m = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
                if (!m)
                        free(data);
        }
        if (!m)
                return MHD_NO;
        const char *ct = r->content_type ? r->content_type : "application/octet-stream";
        MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, ct);
        MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(m, "X-Request-Id", st->request_id);
        if (allow && *allow)
                MHD_add_response_header(m, MHD_HTTP_HEADER_ALLOW, allow);
        add_custom_headers(m, &r->headers);
        if (atomic_load_explicit(&st->srv->stopping, memory_order_relaxed))
                MHD_add_response_header(m, MHD_HTTP_HEADER_CONNECTION, "close");
        enum MHD_Result ok = MHD_queue_response(st->conn, (unsigned)r->status, m);
        MHD_destroy_response(m);
        if (ok == MHD_YES) {
                st->status = r->status;
                st->answered = true;
        }
        return ok;
}

static void response_init(struct http_response *r)
{
        memset(r, 0, sizeof *r);
        r->status = 200;
        qbuf_init(&r->body, HTTP_MAX_RESPONSE);
        qbuf_init(&r->headers, HTTP_RESP_HEADERS_MAX);
}

static void response_clear(struct http_response *r)
{
        if (r->release) /* a static body that was never handed to MHD */
                r->release(r->release_arg);
        r->release = NULL;
        free(r->body.data); /* not secret: no need to wipe (qbuf_free would) */
        qbuf_init(&r->body, 0);
        free(r->headers.data);
        qbuf_init(&r->headers, 0);
}

/* Answers with the JSON error body. */
static enum MHD_Result answer_error(struct req_state *st, int status, enum qerr code,
                                    const char *msg, const char *allow)
{
        struct http_response r;
        response_init(&r);
        if (st->route && st->route->problem_type)
                http_problem_body(&r, status, st->route->problem_type, qerr_code(code), msg);
        else
                http_error_body(&r, status, qerr_code(code), msg);
        enum MHD_Result ok = send_response(st, &r, allow);
        response_clear(&r);
        return ok;
}

/* ---- routing ---- */

static bool method_matches(const char *route_method, const char *method)
{
        if (strcmp(route_method, method) == 0)
                return true;
        /* MHD sends the headers of a GET answer without its body */
        return strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0;
}

/* Appends `m` to the comma-separated Allow list unless it is there. */
static void allow_add(char *allow, size_t sz, const char *m)
{
        size_t ml = strlen(m);
        for (const char *p = allow; (p = strstr(p, m)) != NULL; p += ml)
                if ((p == allow || p[-1] == ' ') && (p[ml] == ',' || p[ml] == 0))
                        return;
        size_t n = strlen(allow);
        snprintf(allow + n, sz - n, "%s%s", n ? ", " : "", m);
}

/* Finds the route of the request; fills `allow` when only other methods
 * match the path. */
static struct route_ent *route(struct req_state *st, const char *method, char *allow,
                               size_t allowsz)
{
        struct http_server *s = st->srv;
        const char *params[HTTP_MAX_PARAMS];
        size_t np = 0;
        allow[0] = 0;
        for (size_t i = 0; i < s->nroutes; i++) {
                struct route_ent *r = &s->routes[i];
                if (r->loopback_only && !st->loopback)
                        continue;
                if (!http_pattern_match(&r->pat, st->path, st->pbuf, st->pbuf_len, params, &np))
                        continue;
                if (method_matches(r->r.method, method)) {
                        memcpy(st->params, params, np * sizeof *params);
                        st->nparams = np;
                        return r;
                }
                allow_add(allow, allowsz, r->r.method);
                if (strcmp(r->r.method, "GET") == 0)
                        allow_add(allow, allowsz, "HEAD");
        }
        return NULL;
}

struct header_tally {
        unsigned count;
        size_t bytes;
};

static enum MHD_Result tally_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
        (void)kind;
        struct header_tally *t = cls;
        t->count++;
        t->bytes += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
        return MHD_YES;
}

/* ---- the handler ---- */

static void *thread_ctx(struct http_server *s)
{
        if (!s->thread_init)
                return NULL;
        void *c = pthread_getspecific(s->tkey);
        if (c)
                return c;
        c = s->thread_init(s->user);
        if (!c)
                return NULL;
        struct thread_ctx_node *n = malloc(sizeof *n);
        if (!n || pthread_setspecific(s->tkey, c) != 0) {
                free(n);
                if (s->thread_fini)
                        s->thread_fini(c);
                return NULL;
        }
        n->ctx = c;
        pthread_mutex_lock(&s->ctx_lock);
        n->next = s->ctxs;
        s->ctxs = n;
        pthread_mutex_unlock(&s->ctx_lock);
        return c;
}

static enum MHD_Result run_handler(struct req_state *st, const char *method)
{
        struct http_server *s = st->srv;
        struct http_request req = {
            .method = method,
            .path = st->path,
            .query = st->query,
            .body = st->body.len ? st->body.data : NULL,
            .body_len = st->body.len,
            .request_id = st->request_id,
            .remote_addr = st->remote,
            .tls = s->tls,
            .route = st->route->r.pattern,
            .nparams = st->nparams,
            .thread_ctx = NULL,
            .impl = st,
        };
        memcpy(req.params, st->params, sizeof req.params);
        if (s->thread_init && !(req.thread_ctx = thread_ctx(s)))
                return answer_error(st, 503, QERR_UNAVAILABLE,
                                    "This worker could not open its service handle; try again "
                                    "in a moment.",
                                    NULL);
        struct http_response resp;
        response_init(&resp);
        st->route->r.fn(s->user, &req, &resp);
        if (resp.status < 100 || resp.status > 599) {
                qlog_error("http handler set a bad status", "route=%s status=%d",
                           st->route->r.pattern, resp.status);
                response_clear(&resp);
                response_init(&resp);
                http_error_body(&resp, 500, qerr_code(QERR_INTERNAL),
                                qerr_default_msg(QERR_INTERNAL));
        }
        enum MHD_Result ok = send_response(st, &resp, NULL);
        response_clear(&resp);
        return ok;
}

/* 404 or 405 (with Allow) for a request that matched no route. */
static enum MHD_Result answer_route_error(struct req_state *st, const char *method)
{
        if (!st->allow[0])
                return answer_error(st, 404, QERR_NOT_FOUND, "Nothing is published at this path.",
                                    NULL);
        char msg[160];
        snprintf(msg, sizeof msg, "This path does not answer %.16s; use %s.", method, st->allow);
        return answer_error(st, 405, QERR_METHOD_NOT_ALLOWED, msg, st->allow);
}

/* The first call: the headers are in, the body (if any) is not. */
static enum MHD_Result first_call(struct req_state *st, struct MHD_Connection *conn,
                                  const char *method)
{
        char msg[160];
        st->method_idx = http_method_index(method);
        if (st->url_too_long) {
                snprintf(msg, sizeof msg, "The request path and query are longer than %u bytes.",
                         HTTP_MAX_URL);
                return answer_error(st, 414, QERR_URI_TOO_LONG, msg, NULL);
        }
        struct header_tally t = {0, 0};
        MHD_get_connection_values(conn, MHD_HEADER_KIND, tally_header, &t);
        if (t.count > HTTP_MAX_HEADERS || t.bytes > HTTP_MAX_HEADER_BYTES) {
                snprintf(msg, sizeof msg,
                         "The request has %u headers in %zu bytes; at most %u headers in %u "
                         "bytes are accepted.",
                         t.count, t.bytes, HTTP_MAX_HEADERS, HTTP_MAX_HEADER_BYTES);
                return answer_error(st, 431, QERR_HEADERS_TOO_LARGE, msg, NULL);
        }
        st->route = route(st, method, st->allow, sizeof st->allow);
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        const char *te =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        unsigned long long announced = cl ? strtoull(cl, NULL, 10) : 0;
        const bool has_body = announced > 0 || te;
        /* MHD 0.9.75 closes a connection whose answer is queued before the
         * request was read in full: answers that keep the connection wait
         * for the next call; refusals of a body are sent at once. */
        if (!st->route)
                return has_body ? answer_route_error(st, method) : MHD_YES;
        st->max_body = st->route->r.max_body;
        if (announced > st->max_body) {
                snprintf(msg, sizeof msg,
                         "The request body has %llu bytes; this route accepts at most %zu.",
                         announced, st->max_body);
                return answer_error(st, 413, QERR_BODY_TOO_LARGE, msg, NULL);
        }
        if (has_body)
                qbuf_init(&st->body, st->max_body);
        return MHD_YES; /* the body (if any) comes in the next calls, then the handler */
}

enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **req_cls)
{
        (void)cls;
        (void)url;
        (void)version;
        struct req_state *st = *req_cls;
        if (!st)
                return MHD_NO; /* no memory for its state: close */
        if (!st->started) {
                st->started = true;
                st->counted = true;
                atomic_fetch_add(&st->srv->inflight, 1);
                return first_call(st, conn, method);
        }
        if (*upload_data_size) {
                size_t n = *upload_data_size;
                *upload_data_size = 0;
                if (st->answered)
                        return MHD_YES;
                if (!st->overflow && n <= st->max_body - st->body.len) {
                        if (!qbuf_append(&st->body, upload_data, n))
                                return MHD_NO; /* out of memory: close */
                        return MHD_YES;
                }
                st->overflow = true;
                st->discarded += n;
                /* a client that keeps sending is cut off without an answer */
                return st->discarded > st->max_body + 64u * 1024u ? MHD_NO : MHD_YES;
        }
        if (st->answered)
                return MHD_YES;
        if (!st->route)
                return answer_route_error(st, method);
        if (st->overflow) {
                char msg[128];
                snprintf(msg, sizeof msg,
                         "The request body is larger than %zu bytes, the most "
                         "this route accepts.",
                         st->max_body);
                return answer_error(st, 413, QERR_BODY_TOO_LARGE, msg, NULL);
        }
        return run_handler(st, method);
}
