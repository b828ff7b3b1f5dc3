/*
 * server.c - starting and stopping a listener (libmicrohttpd), and the MHD
 * callbacks around each request and connection; see http.h.
 *
 * http_server_start() parses "HOST:PORT" (an IPv4 literal, "[v6]:PORT", or a
 * name getaddrinfo resolves), compiles the route patterns, and starts one
 * MHD daemon: internal threads with epoll (a pool of `threads` when more
 * than one), ITC so that it can be quiesced, the connection limit, the idle
 * timeout and the per-connection memory cap. Its callbacks:
 *  - the URI log callback allocates the request's state (one malloc: the
 *    struct plus the raw path, the raw query and room for decoded
 *    parameters) when the request line arrives, before MHD unescapes
 *    anything; the unescape callback is a no-op so MHD's `url` stays raw;
 *  - the access handler (dispatch.c) runs the request;
 *  - the completion callback records metrics, logs, and frees the state;
 *  - for HTTPS, the connection callback pins the current credential to each
 *    new connection (a reference, dropped when it closes) and the GnuTLS
 *    certificate callback hands that credential to the handshake, so
 *    http_server_set_tls() swaps certificates without touching connections
 *    in flight.
 *
 * Per-thread contexts: a pthread key per server; the first request on a
 * worker thread calls thread_init and records the context in a list, and
 * http_server_stop() calls thread_fini for each after MHD_stop_daemon has
 * joined the threads.
 *
 * Memory and threads: see http.h and http_int.h.
 */
#include "http_int.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"

#define LISTEN_MAX 300u
#define DEFAULT_CONN_LIMIT 1024u
#define DEFAULT_TIMEOUT_S 30u
#define LISTEN_BACKLOG 511u

static const char *const LISTEN_HINT = "set [server] listen in the config";

/* ---- MHD callbacks ---- */

/* MHD's own messages: to the log, and remembered while starting. */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        struct http_server *s = cls;
        char line[256], esc[300];
        vsnprintf(line, sizeof line, fmt, ap);
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = 0;
        /* while starting, MHD explains a failure; afterwards it mostly
         * reports clients that broke off (TLS alerts, resets): debug, except
         * when a limit of ours was hit */
        enum qlog_level lvl = QLOG_DEBUG;
        if (atomic_load(&s->starting)) {
                snprintf(s->start_msg, sizeof s->start_msg, "%s", line);
                lvl = QLOG_WARN;
        } else if (strstr(line, "limit")) {
                lvl = QLOG_WARN;
        }
        qlog(lvl, "http server", "listener=%s detail=%s", s->name,
             qlog_escape(line, esc, sizeof esc));
}

/* Keeps the URL as received: captures are decoded by the router. */
static size_t on_unescape(void *cls, struct MHD_Connection *c, char *s)
{
        (void)cls;
        (void)c;
        return strlen(s);
}

static void peer_text(const struct sockaddr *sa, char *out, size_t sz)
{
        out[0] = 0;
        if (sa && sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                          (socklen_t)sz);
        else if (sa && sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                          out, (socklen_t)sz);
        if (!out[0])
                snprintf(out, sz, "unknown");
}

/* A request line arrived: its state, with the raw path and query. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
        struct http_server *s = cls;
        size_t len = strlen(uri);
        bool too_long = len > HTTP_MAX_URL;
        size_t keep = too_long ? 1 : len;
        /* raw: path NUL query NUL, then decoded captures (each at most as long
         * as the path, plus a NUL each) */
        size_t pbuf_len = keep + HTTP_MAX_PARAMS + 1;
        struct req_state *st = malloc(sizeof *st + keep + 2 + pbuf_len);
        if (!st)
                return NULL;
        memset(st, 0, sizeof *st);
        st->srv = s;
        st->conn = conn;
        st->t0_ns = http_now_ns();
        st->url_too_long = too_long;
        st->path = st->raw;
        if (too_long) {
                st->path[0] = 0;
                st->query = st->path + 1;
                st->query[0] = 0;
        } else {
                const char *q = memchr(uri, '?', len);
                size_t plen = q ? (size_t)(q - uri) : len;
                memcpy(st->path, uri, plen);
                st->path[plen] = 0;
                st->query = st->path + plen + 1;
                size_t qlen = q ? len - plen - 1 : 0;
                if (qlen)
                        memcpy(st->query, q + 1, qlen);
                st->query[qlen] = 0;
        }
        st->pbuf = st->raw + keep + 2;
        st->pbuf_len = pbuf_len;
        qbuf_init(&st->body, 0);
        http_request_id(st->request_id);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = ci ? ci->client_addr : NULL;
        st->loopback = http_addr_is_loopback(sa);
        peer_text(sa, st->remote, sizeof st->remote);
        return st;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
        (void)conn;
        (void)toe;
        struct req_state *st = *req_cls;
        *req_cls = NULL;
        if (st)
                http_request_done(cls, st);
}

/* New TLS connections pin the credential current when they arrive. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
        struct http_server *s = cls;
        (void)conn;
        if (!s->tls)
                return;
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                pthread_mutex_lock(&s->tls_lock);
                struct tls_cred *c = s->tls_cur;
                tls_cred_ref(c);
                pthread_mutex_unlock(&s->tls_lock);
                *socket_ctx = c;
        } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
                tls_cred_unref(*socket_ctx);
                *socket_ctx = NULL;
        }
}

/* GnuTLS asks for our certificate: the one pinned to this connection. */
static int on_cert(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                   const gnutls_pk_algorithm_t *pk_algos, int pk_algos_len, gnutls_pcert_st **pcert,
                   unsigned int *pcert_len, gnutls_privkey_t *key)
{
        (void)req_ca_dn;
        (void)nreqs;
        (void)pk_algos;
        (void)pk_algos_len;
        struct MHD_Connection *conn = gnutls_session_get_ptr(session);
        const union MHD_ConnectionInfo *ci =
            conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
        struct tls_cred *c = ci ? ci->socket_context : NULL;
        if (!c)
                return -1;
        tls_cred_get(c, pcert, pcert_len, key);
        return 0;
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

static const double duration_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                          0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                          1,      2.5,     5,      10,    30};

static void metrics_setup(struct http_server *s)
{
        static const char *const req_labels[] = {"listener", "route", "method", "status", NULL};
        static const char *const dur_labels[] = {"listener", "route", NULL};
        s->requests_total =
            metrics_family(METRIC_COUNTER, "quill_http_requests_total",
                           "HTTP requests answered, by listener, route pattern, method and status.",
                           req_labels, NULL, 0);
        struct metric_family *dur = metrics_family(
            METRIC_HISTOGRAM, "quill_http_request_duration_seconds",
            "Time from the request line to the last byte of the answer, by listener and route.",
            dur_labels, duration_buckets, sizeof duration_buckets / sizeof duration_buckets[0]);
        for (size_t i = 0; i <= s->nroutes; i++) {
                struct route_ent *r = i < s->nroutes ? &s->routes[i] : &s->none;
                const char *v[] = {s->name, r->r.pattern};
                r->duration = metrics_series(dur, v);
        }
}

static void free_server(struct http_server *s)
{
        if (!s)
                return;
        tls_cred_unref(s->tls_cur);
        if (s->tkey_made)
                pthread_key_delete(s->tkey);
        pthread_mutex_destroy(&s->ctx_lock);
        pthread_mutex_destroy(&s->tls_lock);
        free(s->routes);
        free(s);
}

/* The copied route table, compiled; QERR_INTERNAL for a malformed pattern
 * (a programming error in a route table). */
static enum qerr load_routes(struct http_server *s, const struct http_listener_opts *o,
                             struct qerr_info *ei)
{
        if (o->nroutes && !(s->routes = calloc(o->nroutes, sizeof *s->routes)))
                return qerr_set(ei, QERR_NOMEM, NULL);
        s->nroutes = o->nroutes;
        for (size_t i = 0; i < o->nroutes; i++) {
                struct route_ent *r = &s->routes[i];
                r->r = o->routes[i];
                if (!r->r.method || !r->r.fn || !http_pattern_compile(r->r.pattern, &r->pat))
                        return qerr_set(ei, QERR_INTERNAL, "route %zu (%.100s) is malformed", i,
                                        r->r.pattern ? r->r.pattern : "(null)");
                if (!r->r.max_body)
                        r->r.max_body = HTTP_DEFAULT_MAX_BODY;
                for (const char *const *lp = o->loopback_only_patterns; lp && *lp; lp++)
                        if (strcmp(*lp, r->r.pattern) == 0)
                                r->loopback_only = true;
                if (o->problem_prefix && o->problem_type &&
                    strncmp(r->r.pattern, o->problem_prefix, strlen(o->problem_prefix)) == 0)
                        r->problem_type = o->problem_type;
        }
        s->none.r.pattern = "none";
        return QERR_OK;
}

static enum qerr start_daemon(struct http_server *s, const struct http_listener_opts *o,
                              const struct addrinfo *ai, struct qerr_info *ei)
{
        unsigned threads = o->threads > 1 ? (unsigned)o->threads : 1;
        unsigned flags =
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
        if (ai->ai_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        if (s->tls)
                flags |= MHD_USE_TLS;
        struct MHD_OptionItem extra[4];
        size_t n = 0;
        if (threads > 1)
                extra[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads, NULL};
        if (s->tls) {
                extra[n++] =
                    (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)on_cert};
                extra[n++] =
                    (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES};
        }
        extra[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
        unsigned conn_limit = o->max_connections ? o->max_connections : DEFAULT_CONN_LIMIT;
        unsigned timeout = o->timeout_s ? o->timeout_s : DEFAULT_TIMEOUT_S;
        s->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, http_on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
            MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT, conn_limit,
            MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t)HTTP_CONN_MEMORY, MHD_OPTION_LISTEN_BACKLOG_SIZE, LISTEN_BACKLOG,
            MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
            MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_UNESCAPE_CALLBACK,
            on_unescape, s, MHD_OPTION_ARRAY, extra, MHD_OPTION_END);
        if (!s->daemon) {
                /* MHD says e.g. "Failed to bind to port 8080: Address already in
                 * use"; the reason is what follows its last ": ". */
                const char *why = s->start_msg[0] ? s->start_msg : "the server did not start";
                const char *tail = strrchr(why, ':');
                if (tail && tail[1] == ' ' && tail[2])
                        why = tail + 2;
                return qerr_set(ei, QERR_IO, "cannot listen on %s: %s; %s", o->listen, why,
                                LISTEN_HINT);
        }
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
        s->port = di ? (int)di->port : 0;
        return QERR_OK;
}

enum qerr http_server_start(const struct http_listener_opts *o, struct http_server **out,
                            struct qerr_info *ei)
{
        *out = NULL;
        const char *listen = o ? o->listen : NULL;
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
        if (!s) {
                freeaddrinfo(ai);
                return qerr_set(ei, QERR_NOMEM, NULL);
        }
        pthread_mutex_init(&s->ctx_lock, NULL);
        pthread_mutex_init(&s->tls_lock, NULL);
        atomic_init(&s->inflight, 0);
        atomic_init(&s->stopping, false);
        atomic_init(&s->starting, 1);
        s->lfd = MHD_INVALID_SOCKET;
        s->user = o->user;
        s->tls = o->cert_chain_pem != NULL;
        s->thread_init = o->thread_init;
        s->thread_fini = o->thread_fini;
        snprintf(s->name, sizeof s->name, "%s", o->name ? o->name : s->tls ? "https" : "http");
        enum qerr rc = load_routes(s, o, ei);
        if (rc == QERR_OK && s->tls)
                rc = tls_cred_new(o->cert_chain_pem, o->key_pem, &s->tls_cur, ei);
        if (rc == QERR_OK) {
                if (pthread_key_create(&s->tkey, NULL) == 0)
                        s->tkey_made = true;
                else
                        rc = qerr_set(ei, QERR_NOMEM, "no thread-specific key left");
        }
        if (rc == QERR_OK) {
                metrics_setup(s);
                rc = start_daemon(s, o, ai, ei);
        }
        freeaddrinfo(ai);
        if (rc != QERR_OK) {
                free_server(s);
                return rc;
        }
        atomic_store(&s->starting, 0);
        *out = s;
        return QERR_OK;
}

enum qerr http_server_set_tls(struct http_server *s, const char *cert_chain_pem,
                              const char *key_pem, struct qerr_info *ei)
{
        if (!s->tls)
                return qerr_set(ei, QERR_USAGE,
                                "listener %s serves plain HTTP; it has no certificate to swap",
                                s->name);
        struct tls_cred *c = NULL;
        enum qerr rc = tls_cred_new(cert_chain_pem, key_pem, &c, ei);
        if (rc != QERR_OK)
                return rc;
        pthread_mutex_lock(&s->tls_lock);
        struct tls_cred *old = s->tls_cur;
        s->tls_cur = c;
        pthread_mutex_unlock(&s->tls_lock);
        tls_cred_unref(old); /* connections that pinned it keep it alive */
        return QERR_OK;
}

void http_server_quiesce(struct http_server *s)
{
        if (!s || s->quiesced)
                return;
        atomic_store(&s->stopping, true); /* answers now say Connection: close */
        s->lfd = MHD_quiesce_daemon(s->daemon);
        s->quiesced = true;
}

void http_server_stop(struct http_server *s, long grace_ms)
{
        if (!s)
                return;
        http_server_quiesce(s);
        const uint64_t deadline =
            http_now_ns() + (uint64_t)(grace_ms > 0 ? grace_ms : 0) * 1000000u;
        unsigned left;
        while ((left = atomic_load(&s->inflight)) > 0 && http_now_ns() < deadline) {
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        if (left)
                qlog_warn("http requests cut at stop", "listener=%s requests=%u grace_ms=%ld",
                          s->name, left, grace_ms);
        MHD_stop_daemon(s->daemon); /* joins the worker threads */
        if (s->lfd != MHD_INVALID_SOCKET)
                close(s->lfd);
        struct thread_ctx_node *n = s->ctxs;
        while (n) {
                struct thread_ctx_node *next = n->next;
                if (s->thread_fini)
                        s->thread_fini(n->ctx);
                free(n);
                n = next;
        }
        s->ctxs = NULL;
        free_server(s);
}

int http_server_port(const struct http_server *s)
{
        return s ? s->port : 0;
}

unsigned http_server_inflight(const struct http_server *s)
{
        return s ? atomic_load(&((struct http_server *)s)->inflight) : 0;
}
