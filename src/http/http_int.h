/*
 * http_int.h - what the server's files share (internal to src/http): the
 * server and per-request structs. server.c starts and stops the daemon and
 * owns the MHD callbacks; dispatch.c runs one request (limits, routing,
 * handler, response); response.c holds the helpers handlers call.
 *
 * Threads: a `struct req_state` belongs to the worker thread of its
 * connection; the server's counters and TLS pointer are atomics or under
 * tls_lock; everything else in `struct http_server` is written before the
 * daemon starts and only read afterwards.
 */
#ifndef QUILL_HTTP_INT_H
#define QUILL_HTTP_INT_H

#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>

#include "../base/metrics.h"
#include "http.h"
#include "route.h"
#include "tls.h"

#define HTTP_CONN_MEMORY (32u * 1024u) /* MHD's per-connection pool */
#define HTTP_RESP_HEADERS_MAX (16u * 1024u)
#define HTTP_STATUS_CACHE 32
#define HTTP_NMETHODS 8 /* GET HEAD POST PUT DELETE PATCH OPTIONS other */

/* Metric series of one route (or of "no route"), resolved lazily per
 * (method, status) and kept in a small lock-free table. */
struct status_cache {
        _Atomic uint32_t key[HTTP_STATUS_CACHE];
        _Atomic(struct metric_series *) series[HTTP_STATUS_CACHE];
};

struct route_ent {
        struct http_route r;
        struct http_pattern pat;
        bool loopback_only;
        const char *problem_type;       /* http_listener_opts: NULL or a static string */
        struct metric_series *duration; /* quill_http_request_duration_seconds */
        struct status_cache statuses;   /* quill_http_requests_total */
};

struct thread_ctx_node {
        struct thread_ctx_node *next;
        void *ctx;
};

struct http_server {
        struct MHD_Daemon *daemon;
        struct route_ent *routes;
        size_t nroutes;
        struct route_ent none; /* metrics of requests that matched no route */
        void *user;
        bool tls;
        char name[32];
        void *(*thread_init)(void *user);
        void (*thread_fini)(void *thread_ctx);
        pthread_key_t tkey;
        bool tkey_made;
        pthread_mutex_t ctx_lock; /* guards ctxs */
        struct thread_ctx_node *ctxs;
        atomic_uint inflight;
        atomic_bool stopping;
        bool quiesced;            /* controlling thread only */
        MHD_socket lfd;           /* the listen socket MHD gave back when quiesced */
        pthread_mutex_t tls_lock; /* guards tls_cur */
        struct tls_cred *tls_cur;
        struct metric_family *requests_total;
        int port;
        /* last message MHD logged while starting (read only after a failed start) */
        char start_msg[256];
        atomic_int starting;
};

/* One request, from its request line to its completion (MHD's req_cls). */
struct req_state {
        struct http_server *srv;
        struct MHD_Connection *conn;
        struct route_ent *route; /* NULL until routed, or when none matched */
        uint64_t t0_ns;
        int status;     /* status queued; 0 while none */
        int method_idx; /* HTTP_NMETHODS - 1 for other */
        bool started;   /* the handler saw the headers */
        bool counted;   /* counted in srv->inflight */
        bool answered;  /* a response is queued */
        bool url_too_long;
        bool overflow; /* the body passed max_body */
        bool loopback; /* the peer is a loopback address */
        size_t max_body;
        size_t discarded;
        struct qbuf body;
        const char *params[HTTP_MAX_PARAMS];
        size_t nparams;
        char request_id[17];
        char allow[64]; /* methods of the path, for a 405 */
        char remote[INET6_ADDRSTRLEN];
        char *path, *query, *pbuf; /* inside raw[] */
        size_t pbuf_len;
        char raw[]; /* path NUL query NUL param buffer */
};

/* dispatch.c */
/* MHD's access handler (the daemon's default handler). */
enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **req_cls);
/* Called by server.c when a request completes: metrics, log, free. */
void http_request_done(struct http_server *s, struct req_state *st);
/* Monotonic nanoseconds. */
uint64_t http_now_ns(void);
/* 16 lower-case hex digits from this thread's generator. */
void http_request_id(char out[17]);
/* Method index for metrics; its label. */
int http_method_index(const char *method);

/* response.c */
/* The error body of http.h into resp (status, code, message). */
void http_error_body(struct http_response *resp, int status, const char *code, const char *msg);
/* The same as an RFC 7807 problem document of `type` (application/problem+json:
 * type, detail, status, and quill's code). */
void http_problem_body(struct http_response *resp, int status, const char *type, const char *code,
                       const char *msg);

#endif
