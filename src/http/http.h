/*
 * http.h - the HTTP server: libmicrohttpd with a pool of worker threads,
 * plain HTTP or HTTPS (MHD's GnuTLS backend), routing by method + path
 * pattern, request bodies read under a per-route cap, response headers,
 * per-thread contexts. (The names and signatures of the lead's contract are
 * kept as they were; what was added is marked "added".)
 *
 * Each listener (http_server_start) runs `threads` MHD worker threads with
 * epoll; every connection belongs to one of them, and MHD's event loop
 * multiplexes it, so a slow or silent client holds a connection slot (up to
 * the idle timeout) but never a thread. A handler runs on the worker thread
 * of its connection, synchronously: while it runs, that thread's other
 * connections wait, so handlers that may take long (signing, DNS) belong
 * on the job workers, not here.
 *
 * Limits (answered with the JSON error body {"error":{"code","message"}}):
 * path + query longer than HTTP_MAX_URL: 414 uri_too_long; more than
 * HTTP_MAX_HEADERS headers or HTTP_MAX_HEADER_BYTES of them: 431
 * headers_too_large (MHD itself answers requests that do not fit its
 * per-connection memory at all); a body over the route's max_body: 413
 * body_too_large, at once when Content-Length says so, else when the
 * (chunked) body ends: past the cap, bytes are discarded, never buffered,
 * and a client that keeps sending far past it is cut off without an
 * answer; unknown path: 404 not_found; known path, other method: 405
 * method_not_allowed with Allow. Every response carries
 * `X-Content-Type-Options: nosniff` and `X-Request-Id`.
 *
 * Memory: the server copies the route table (the strings, the user pointer
 * and the handlers' data stay the caller's and must outlive the server);
 * request fields are borrowed for the duration of the handler; the response
 * body and headers are the server's (it frees them after sending).
 * Threads: http_server_start/set_tls/stop from one controlling thread;
 * handlers on the worker threads; http_error* touch only their argument.
 */
#ifndef QUILL_HTTP_H
#define QUILL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/err.h"

#define HTTP_MAX_PARAMS 4
#define HTTP_DEFAULT_MAX_BODY (64u * 1024u)
/* added: the request limits described above, and the response body cap */
#define HTTP_MAX_URL 2048u
#define HTTP_MAX_HEADERS 100u
#define HTTP_MAX_HEADER_BYTES (8u * 1024u)
#define HTTP_MAX_RESPONSE (64u * 1024u * 1024u)

struct http_request {
        const char *method;  /* "GET", "POST", ... (HEAD is routed to GET routes) */
        const char *path;    /* path without the query string, as received */
        const char *query;   /* raw query string without '?', "" when none */
        const uint8_t *body; /* the whole body (NULL when none), NUL-terminated */
        size_t body_len;
        const char *request_id;              /* 16 lower-case hex digits, unique per request */
        const char *remote_addr;             /* peer address as text ("127.0.0.1", "::1") */
        bool tls;                            /* arrived on an HTTPS listener */
        const char *route;                   /* the matched route's pattern (for metrics/logs) */
        const char *params[HTTP_MAX_PARAMS]; /* values captured by {x} / '*' in the pattern,
                                                percent-decoded, in order */
        size_t nparams;
        void *thread_ctx; /* this worker thread's context (see thread_init) */
        void *impl;       /* the server's own (connection), do not touch */
};

/* A request header (case-insensitive name); NULL when absent. Borrowed,
 * valid for the duration of the handler. */
const char *http_header(const struct http_request *r, const char *name);
/* A query parameter, percent-decoded into buf; NULL when absent or when it
 * does not fit (then *too_long, if given, is set). A parameter given twice
 * returns the first. */
const char *http_query(const struct http_request *r, const char *name, char *buf, size_t bufsz,
                       bool *too_long);

struct http_response {
        int status;               /* 200 unless set */
        const char *content_type; /* static string, or NULL for application/octet-stream */
        struct qbuf body;         /* initialised by the server (max 64 MiB) */
        struct qbuf headers;      /* internal: "Name: value\n" lines; use http_set_header */
        /* Optional zero-copy body: when set, `body` is ignored and these bytes are
         * sent; they must stay valid until `release(release_arg)` is called by the
         * server after sending (for OCSP responses served from memory). */
        const uint8_t *static_body;
        size_t static_len;
        void (*release)(void *arg);
        void *release_arg;
};

/* Adds a response header (Location, Link, Retry-After, Cache-Control, ETag,
 * Replay-Nonce, ...). Refuses (false) names/values with CR, LF or NUL. */
bool http_set_header(struct http_response *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* added: the same for a value given as it is (no formatting): for hot
 * paths (OCSP answers), where printf shows in profiles. */
bool http_set_header_str(struct http_response *r, const char *name, const char *value);

typedef void (*http_handler)(void *user, const struct http_request *req,
                             struct http_response *resp);

struct http_route {
        const char *method; /* "GET", "POST", "PUT", "DELETE", "HEAD" */
        /* Path pattern: literal segments, "{name}" captures exactly one
         * non-empty segment, a final "*" captures the rest of the path (may be
         * empty, may contain '/'). "/api/v1/certificates/{id}/revoke",
         * "/ocsp/" + "*", "/crl/{ca}/{file}". */
        const char *pattern;
        size_t max_body; /* 0: HTTP_DEFAULT_MAX_BODY; a larger body gets 413 with the
                            JSON error body, before the handler runs */
        http_handler fn;
};

struct http_listener_opts {
        const char *listen;              /* "HOST:PORT", "[v6]:PORT" */
        const struct http_route *routes; /* copied */
        size_t nroutes;
        void *user;  /* passed to every handler */
        int threads; /* worker threads (>= 1) */
        /* HTTPS when cert_chain_pem is non-NULL: leaf first, then the chain */
        const char *cert_chain_pem;
        const char *key_pem;
        /* Called once in each worker thread before its first request; the
         * result is req->thread_ctx. thread_fini is called for each at stop.
         * (added:) A NULL result is a failure: the request is answered 503
         * server_unavailable and the thread's next request tries again. */
        void *(*thread_init)(void *user);
        void (*thread_fini)(void *thread_ctx);
        /* Answer 404 to clients whose address is not loopback, for routes
         * flagged so (e.g. /metrics); NULL: no such routes. */
        const char *const *loopback_only_patterns;
        /* added: */
        const char *name;         /* listener label in logs and metrics; NULL: "http"/"https" */
        unsigned max_connections; /* 0: 1024; more are refused at accept */
        unsigned timeout_s;       /* idle/read timeout of a connection; 0: 30 s */
        /* Routes whose pattern starts with problem_prefix get the server's
         * own refusals (a body over the cap: 413) as RFC 7807 problem
         * documents of problem_type (application/problem+json) instead of
         * the JSON error body. NULL: none. */
        const char *problem_prefix;
        const char *problem_type;
};

struct http_server;

enum qerr http_server_start(const struct http_listener_opts *o, struct http_server **out,
                            struct qerr_info *ei);
/* Swaps the TLS certificate and key (SIGHUP, renewal) without dropping
 * connections in flight; new handshakes use the new pair. */
enum qerr http_server_set_tls(struct http_server *s, const char *cert_chain_pem,
                              const char *key_pem, struct qerr_info *ei);
/* Stops accepting, lets in-flight requests finish for at most grace_ms, then
 * stops the threads and frees everything. */
void http_server_stop(struct http_server *s, long grace_ms);
/* added: stops accepting new connections (answers on open ones now carry
 * `Connection: close`); http_server_stop() then waits and stops. Lets a
 * daemon with several listeners stop accepting on all of them at once. */
void http_server_quiesce(struct http_server *s);
/* added: the port the listener is bound to (useful with "HOST:0"). */
int http_server_port(const struct http_server *s);
/* added: requests received and not yet completed (for tests and logs). */
unsigned http_server_inflight(const struct http_server *s);

/* Writes {"error":{"code","message"}} with the status from the error table. */
void http_error(struct http_response *resp, const struct qerr_info *ei);
/* Same with an explicit status and code string. */
void http_error_status(struct http_response *resp, int status, const char *code, const char *msg);

#endif
