/*
 * server.c - the HTTP server (libmicrohttpd) and its router; see http.h.
 *
 * http_server_start() parses "HOST:PORT" (an IPv4 literal, "[v6]:PORT", or a
 * name getaddrinfo resolves), starts one MHD daemon with one internal polling
 * thread and answers each request on that thread: the first route whose
 * method matches (a GET route also answers HEAD) and whose path matches
 * (exactly, or by prefix) runs; a path that only matches routes of other
 * methods gets 405, anything else 404, with the JSON error body of http.h.
 * Request bodies are never read: a request that announces one is answered on
 * the first call, and MHD closes the connection instead of reading the body;
 * other requests are answered on the second call, keeping the connection.
 *
 * Memory: the server owns a copy of the route table (the strings and the
 * user pointer stay the caller's and must outlive the server) and each
 * response body only for the duration of one request; http_server_stop()
 * stops the thread and frees everything. http_server_start/stop are called
 * by one controlling thread; handlers run only on the polling thread, one at
 * a time. http_error() touches only its argument, so any thread may call it.
 */
#include "http.h"

#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../base/log.h"

#define BODY_MAX (4u * 1024u * 1024u)
#define URL_MAX 2048u
#define LISTEN_MAX 300u
#define CONN_LIMIT 256u
#define CONN_TIMEOUT_S 30u

struct http_server {
        struct MHD_Daemon *daemon;
        struct http_route *routes;
        size_t nroutes;
        void *user;
        /* Last message MHD logged while starting (only read when the start
         * failed, when no polling thread exists). */
        char start_msg[256];
        atomic_int starting;
};

/* ---- error bodies ---- */

/* Copies `in` with every byte that is not printable ASCII replaced by '?',
 * so that jansson accepts it whatever the handler put into a message. */
static void ascii_copy(const char *in, char *out, size_t outsz)
{
        size_t o = 0;
        for (const unsigned char *p = (const unsigned char *)in; *p && o + 1 < outsz; p++)
                out[o++] = (*p >= 0x20 && *p < 0x7f) ? (char)*p : '?';
        out[o] = 0;
}

/* Replaces the body with {"error":{"code":code,"message":msg}}. */
static void error_body(struct http_response *resp, int status, const char *code, const char *msg)
{
        resp->status = status;
        resp->content_type = "application/json";
        qbuf_reset(&resp->body);
        json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
        if (!o) { /* not UTF-8: send the message with its odd bytes masked */
                char clean[QERR_MSG_MAX];
                ascii_copy(msg, clean, sizeof clean);
                o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", clean);
        }
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!text || !qbuf_append_str(&resp->body, text)) {
                qbuf_reset(&resp->body);
                resp->status = 500;
                qbuf_append_str(&resp->body, "{\"error\":{\"code\":\"out_of_memory\",\"message\":"
                                             "\"Out of memory.\"}}");
        }
        free(text);
}

void http_error(struct http_response *resp, const struct qerr_info *ei)
{
        error_body(resp, qerr_http_status(ei->code), qerr_code(ei->code), qerr_message(ei));
}

/* ---- routing ---- */

static int method_matches(const char *route_method, const char *method)
{
        if (strcmp(route_method, method) == 0)
                return 1;
        /* MHD sends the headers of a GET answer without its body */
        return strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0;
}

static int path_matches(const struct http_route *r, const char *path)
{
        if (r->exact)
                return strcmp(r->prefix, path) == 0;
        return strncmp(r->prefix, path, strlen(r->prefix)) == 0;
}

/* Runs the route for req; fills resp (and `allow` for a 405). */
static void route(struct http_server *s, const struct http_request *req, struct http_response *resp,
                  struct qbuf *allow)
{
        int path_seen = 0;
        for (size_t i = 0; i < s->nroutes; i++) {
                const struct http_route *r = &s->routes[i];
                if (!path_matches(r, req->path))
                        continue;
                if (method_matches(r->method, req->method)) {
                        r->fn(s->user, req, resp);
                        return;
                }
                if (!strstr(qbuf_str(allow), r->method)) {
                        if (path_seen)
                                qbuf_append_str(allow, ", ");
                        qbuf_append_str(allow, r->method);
                        if (strcmp(r->method, "GET") == 0)
                                qbuf_append_str(allow, ", HEAD");
                }
                path_seen = 1;
        }
        if (path_seen) {
                char msg[128];
                snprintf(msg, sizeof msg, "This path does not answer %.16s; use %s.", req->method,
                         qbuf_str(allow));
                error_body(resp, 405, qerr_code(QERR_USAGE), msg);
                return;
        }
        error_body(resp, 404, qerr_code(QERR_NOT_FOUND), "Nothing is published at this path.");
}

static enum MHD_Result send_response(struct MHD_Connection *conn, const struct http_response *r,
                                     const char *allow)
{
        struct MHD_Response *m =
            MHD_create_response_from_buffer(r->body.len, r->body.data, MHD_RESPMEM_MUST_COPY);
        if (!m)
                return MHD_NO;
        const char *ct = r->content_type ? r->content_type : "application/octet-stream";
        enum MHD_Result ok = MHD_YES;
        if (MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, ct) != MHD_YES ||
            MHD_add_response_header(m, "X-Content-Type-Options", "nosniff") != MHD_YES ||
            (allow && *allow &&
             MHD_add_response_header(m, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES))
                ok = MHD_NO;
        if (ok == MHD_YES)
                ok = MHD_queue_response(conn, (unsigned int)r->status, m);
        MHD_destroy_response(m);
        return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
        struct http_server *s = cls;
        (void)version;
        (void)upload_data;
        if (!*req_cls) {
                *req_cls = s;
                /* No body: answer on the next call, which keeps the connection
                 * alive. A body is never read: answer now, MHD then closes. */
                if (!MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH) &&
                    !MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_TRANSFER_ENCODING))
                        return MHD_YES;
        } else if (*req_cls != s) {
                *upload_data_size = 0; /* already answered: drop what arrives */
                return MHD_YES;
        }
        *req_cls = conn;

        struct http_request req = {.method = method, .path = url};
        struct http_response resp = {.status = 200, .content_type = NULL};
        struct qbuf allow;
        qbuf_init(&resp.body, BODY_MAX);
        qbuf_init(&allow, 128);

        if (strlen(url) > URL_MAX) {
                char msg[96];
                snprintf(msg, sizeof msg, "The request path is longer than %u bytes.", URL_MAX);
                error_body(&resp, 414, qerr_code(QERR_USAGE), msg);
        } else {
                route(s, &req, &resp, &allow);
        }
        if (resp.status < 100 || resp.status > 599) {
                struct qerr_info ei;
                qerr_set(&ei, QERR_INTERNAL, NULL);
                http_error(&resp, &ei);
        }
        if (resp.status >= 500) {
                char epath[256];
                qlog_warn("http request failed", "method=%.16s path=%s status=%d", method,
                          qlog_escape(url, epath, sizeof epath), resp.status);
        }
        enum MHD_Result rc = send_response(conn, &resp, qbuf_str(&allow));
        qbuf_free(&resp.body);
        qbuf_free(&allow);
        return rc;
}

/* MHD's own messages: to the log, and remembered while starting. */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        struct http_server *s = cls;
        char line[256], esc[300];
        vsnprintf(line, sizeof line, fmt, ap);
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = 0;
        if (atomic_load(&s->starting))
                snprintf(s->start_msg, sizeof s->start_msg, "%s", line);
        qlog_warn("http server", "detail=%s", qlog_escape(line, esc, sizeof esc));
}

/* ---- start and stop ---- */

/* Splits "HOST:PORT" / "[V6]:PORT" into host and port (both strict). */
static int split_listen(const char *listen, char *host, size_t hostsz, char *port, size_t portsz)
{
        const char *colon;
        size_t hlen;
        const char *h = listen;
        if (listen[0] == '[') {
                const char *close = strchr(listen, ']');
                if (!close || close[1] != ':')
                        return -1;
                h = listen + 1;
                hlen = (size_t)(close - h);
                colon = close + 1;
        } else {
                colon = strrchr(listen, ':');
                if (!colon)
                        return -1;
                hlen = (size_t)(colon - listen);
                if (memchr(listen, ':', hlen)) /* a bare IPv6 literal needs [] */
                        return -1;
        }
        const char *p = colon + 1;
        size_t plen = strlen(p);
        if (hlen == 0 || hlen >= hostsz || plen == 0 || plen > 5 || plen >= portsz)
                return -1;
        unsigned long v = 0;
        for (size_t i = 0; i < plen; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return -1;
                v = v * 10 + (unsigned long)(p[i] - '0');
        }
        if (v > 65535)
                return -1;
        memcpy(host, h, hlen);
        host[hlen] = 0;
        memcpy(port, p, plen + 1);
        return 0;
}

static const char *const LISTEN_HINT = "set [server] listen in the config";

enum qerr http_server_start(const char *listen, const struct http_route *routes, size_t nroutes,
                            void *user, struct http_server **out, struct qerr_info *ei)
{
        *out = NULL;
        char host[256], port[8];
        if (!listen || strlen(listen) > LISTEN_MAX ||
            split_listen(listen, host, sizeof host, port, sizeof port) != 0)
                return qerr_set(ei, QERR_IO,
                                "cannot listen on '%.300s': give HOST:PORT, e.g. 127.0.0.1:8080 "
                                "or [::1]:8080; %s",
                                listen ? listen : "", LISTEN_HINT);

        struct addrinfo hints, *ai = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
        int gai = getaddrinfo(host, port, &hints, &ai);
        if (gai != 0 || !ai)
                return qerr_set(ei, QERR_IO, "cannot listen on %s: %s; %s", listen,
                                gai_strerror(gai), LISTEN_HINT);

        struct http_server *s = calloc(1, sizeof *s);
        if (s && nroutes)
                s->routes = calloc(nroutes, sizeof *s->routes);
        if (!s || (nroutes && !s->routes)) {
                freeaddrinfo(ai);
                free(s);
                return qerr_set(ei, QERR_NOMEM, NULL);
        }
        if (nroutes)
                memcpy(s->routes, routes, nroutes * sizeof *routes);
        s->nroutes = nroutes;
        s->user = user;
        atomic_init(&s->starting, 1);

        unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
        if (ai->ai_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                                     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
                                     MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
                                     (unsigned int)CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
                                     (unsigned int)CONN_TIMEOUT_S, MHD_OPTION_END);
        freeaddrinfo(ai);
        if (!s->daemon) {
                /* MHD says e.g. "Failed to bind to port 8080: Address already in
                 * use"; the reason is what follows its last ": ". */
                const char *why = s->start_msg[0] ? s->start_msg : "the server did not start";
                for (const char *p = strstr(why, ": "); p && p[2]; p = strstr(p + 2, ": "))
                        why = p + 2;
                enum qerr e =
                    qerr_set(ei, QERR_IO, "cannot listen on %s: %s; %s", listen, why, LISTEN_HINT);
                free(s->routes);
                free(s);
                return e;
        }
        atomic_store(&s->starting, 0);
        *out = s;
        return QERR_OK;
}

void http_server_stop(struct http_server *s)
{
        if (!s)
                return;
        if (s->daemon)
                MHD_stop_daemon(s->daemon);
        free(s->routes);
        free(s);
}
