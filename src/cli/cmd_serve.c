/*
 * cmd_serve.c - `quill serve [--listen HOST:PORT] [--api-listen HOST:PORT]`:
 * the daemon.
 *
 * Start-up, in this order: open (creating if needed) the data directory;
 * start the signer process before any thread exists; create a CA on the
 * first start; recover what a killed process left; block SIGTERM, SIGINT
 * and SIGHUP (every thread inherits the mask, so only the main thread's
 * sigtimedwait() sees them); get the HTTPS certificate (serve_tls.c); start
 * the job workers, the notifier (webhooks, email, expiry warnings:
 * src/service/svc_notifier.c) and the OCSP refresher; start the two
 * listeners:
 *  - plain HTTP on [server] listen (or --listen): /healthz, /ca/..., /crl/...,
 *    OCSP (/ocsp) and /metrics (loopback-only unless [server]
 *    metrics_loopback_only = false);
 *  - HTTPS on [server] api_listen (or --api-listen; empty: none): /healthz
 *    plus the REST API's routes (api_routes()), 404 elsewhere.
 * Before the listeners, the OCSP refresher (service_ocsp_start) loads the
 * stored OCSP answers into the cache the /ocsp handlers answer from, then
 * keeps them fresh on its own thread.
 * Each listener runs [server] threads request threads (0: one per core);
 * each thread opens its own service handle on its first request
 * (thread_init), signing through the one signer of the main handle; a
 * commit that queued jobs (a revocation's CRL job) wakes the job workers.
 * Then every CRL is made again, and the main loop waits for signals,
 * queues CRL jobs for CRLs past half their lifetime (every 30 s), renews the
 * HTTPS certificate when a third of its validity is left, and records the
 * gauges of /metrics (jobs, CRL ages)),
 * and every minute reconciles the signer's journal with the store
 * (two-phase issuance: what a failed store write or a signer that died left
 * behind; the journal's trim).
 *
 * Signals: SIGHUP reloads the configuration and the TLS certificate without
 * dropping connections (serve_tls.c says which settings take effect).
 * SIGTERM/SIGINT: both listeners stop accepting, requests in flight get up
 * to [server] stop_grace_seconds to finish, the job workers stop after their
 * current job (queued jobs stay in the database), exit 0.
 *
 * The signer is started (and, as root, the users switched) by
 * cli_open_service before any thread exists. Every second the main thread
 * makes sure the signer runs (a dead one is started again with backoff);
 * when it is dead and cannot be started again (user separation: nobody here
 * may become its user any more), serve stops with exit status 3 so that the
 * service manager restarts it.
 *
 * Prints nothing on stdout: progress goes to the log on stderr.
 * Threads: runs on the main thread. Memory: the service handles are closed
 * here (ctx->svc is left NULL).
 */
#include "serve.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../acme/acme.h"
#include "../api/api.h"
#include "../api/publish.h"
#include "../base/log.h"
#include "../base/metrics.h"
#include "../ocsp/ocsp_cache.h"

#define TICK_SECONDS 1       /* the signer is checked every tick */
#define CRL_CHECK_SECONDS 30 /* CRLs past half their lifetime get a job */
#define RECONCILE_SECONDS 60 /* two-phase issuance: journal and store made to agree */

static void close_service(struct cli_ctx *ctx)
{
        service_close(ctx->svc);
        ctx->svc = NULL;
}

/* Signer, first CA, recovery: everything that must happen before the
 * server threads exist. */
static enum qerr prepare(struct cli_ctx *ctx, struct qerr_info *ei)
{
        enum qerr e = service_start_signer(ctx->svc, ei);
        if (e != QERR_OK)
                return e;

        struct ca_rec **cas = NULL;
        size_t ncas = 0;
        e = service_ca_list(ctx->svc, &cas, &ncas, ei);
        if (e != QERR_OK)
                return e;
        store_free_cas(cas, ncas);
        if (ncas == 0) {
                struct ca_init_req req = {.root_alg = NULL, .issuing_alg = NULL, .subject = NULL};
                struct ca_rec *ca = NULL;
                e = service_ca_init(ctx->svc, &req, &ca, ei);
                if (e != QERR_OK)
                        return e;
                char esub[256];
                qlog_info("CA created on first start", "ca=%lld key=%s subject=%s",
                          (long long)ca->id, ca->key_algorithm,
                          qlog_escape(ca->subject ? ca->subject : "", esub, sizeof esub));
                ca_rec_free(ca);
                /* its CRLs exist before anyone can ask for them */
                if ((e = service_crl_flush(ctx->svc, ei)) != QERR_OK)
                        return e;
        }
        /* work a killed process left behind: certificates the signer
         * journaled but the store lacks, reservations never signed, reissues
         * abandoned (before any thread runs) */
        return service_recover(ctx->svc, ei);
}

static const char *signal_name(int sig)
{
        switch (sig) {
        case SIGTERM:
                return "SIGTERM";
        case SIGINT:
                return "SIGINT";
        case SIGHUP:
                return "SIGHUP";
        default:
                return "other";
        }
}

/* ---- per-thread service handles ---- */

static void *thread_init(void *user)
{
        struct serve_state *st = user; /* front is its first member */
        struct service_opts o = {
            .data_dir = st->front.data_dir, .cfg = st->front.cfg, .actor = "http"};
        struct service *svc = NULL;
        struct qerr_info ei;
        qerr_clear(&ei);
        if (service_open(&o, &svc, &ei) != QERR_OK) {
                char emsg[QERR_MSG_MAX + 8];
                qlog_error("request thread cannot open the service", "code=%s detail=%s",
                           qerr_code(ei.code), qlog_escape(qerr_message(&ei), emsg, sizeof emsg));
                return NULL;
        }
        service_borrow_signer(svc, st->main_svc);
        /* a revocation's commit wakes the workers for its CRL job */
        service_set_job_wake(svc, service_workers_wake, st->workers);
        return svc;
}

static void thread_fini(void *thread_ctx)
{
        service_close(thread_ctx);
}

/* ---- listeners ---- */

static int default_threads(const struct qconfig *c)
{
        if (c->server_threads > 0)
                return (int)c->server_threads;
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        return n > 0 ? (int)(n > 64 ? 64 : n) : 2;
}

static struct http_listener_opts base_opts(struct serve_state *st, const char *listen)
{
        const struct qconfig *c = &st->ctx->cfg;
        struct http_listener_opts o = {
            .listen = listen,
            .user = &st->front,
            .threads = default_threads(c),
            .thread_init = thread_init,
            .thread_fini = thread_fini,
            .max_connections = (unsigned)c->server_max_connections,
            .timeout_s = (unsigned)c->server_timeout_seconds,
        };
        return o;
}

static enum qerr start_http(struct serve_state *st, const char *listen, struct qerr_info *ei)
{
        static const char *const loopback_only[] = {PUBLISH_METRICS_PATTERN, NULL};
        struct http_listener_opts o = base_opts(st, listen);
        o.routes = publish_routes(&o.nroutes);
        o.loopback_only_patterns = st->ctx->cfg.server_metrics_loopback_only ? loopback_only : NULL;
        o.name = "http";
        return http_server_start(&o, &st->http, ei);
}

/* The HTTPS route table: /healthz, then the REST API's table. */
static enum qerr start_https(struct serve_state *st, const char *listen, struct qerr_info *ei)
{
        size_t nh = 0, na = 0, nacme = 0;
        const struct http_route *health = publish_health_routes(&nh);
        const struct http_route *api = api_routes(&na);
        const struct http_route *acme = acme_routes(&nacme);
        struct http_route *table = calloc(nh + na + nacme, sizeof *table);
        if (!table)
                return qerr_set(ei, QERR_NOMEM, NULL);
        memcpy(table, health, nh * sizeof *table);
        if (na)
                memcpy(table + nh, api, na * sizeof *table);
        /* issue 8: ACME (RFC 8555) under /acme on the same listener */
        memcpy(table + nh + na, acme, nacme * sizeof *table);
        na += nacme;
        char *chain = NULL, *key = NULL;
        enum qerr rc = serve_tls_load(st, &chain, &key, ei);
        if (rc == QERR_SIGNER_UNAVAILABLE) {
                /* the signer died under the request: it is started again
                 * on the next call, and a new issuance draws a new serial */
                qlog_warn("API certificate: signer lost, trying once more", "code=%s",
                          qerr_code(rc));
                qerr_clear(ei);
                rc = serve_tls_load(st, &chain, &key, ei);
        }
        if (rc == QERR_OK) {
                struct http_listener_opts o = base_opts(st, listen);
                o.routes = table;
                o.nroutes = nh + na;
                o.cert_chain_pem = chain;
                o.key_pem = key;
                o.name = "https";
                /* an ACME client reads problem documents, also for a body
                 * over the cap */
                o.problem_prefix = "/acme/";
                o.problem_type = "urn:ietf:params:acme:error:malformed";
                rc = http_server_start(&o, &st->https, ei); /* copies the table */
        }
        serve_tls_free(chain, key);
        free(table);
        return rc;
}

static void stop_listeners(struct serve_state *st, long grace_ms)
{
        /* stop accepting on both, then give requests in flight the grace */
        http_server_quiesce(st->https);
        http_server_quiesce(st->http);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        http_server_stop(st->https, grace_ms);
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long spent = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        http_server_stop(st->http, grace_ms > spent ? grace_ms - spent : 0);
        st->https = st->http = NULL;
}

/* ---- the command ---- */

static int parse_args(struct cli_ctx *ctx, int argc, char **argv, const char **listen,
                      const char **api_listen)
{
        static const struct {
                const char *name;
                size_t len;
        } opts[] = {{"--listen", 8}, {"--api-listen", 12}};
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                int k = -1;
                const char *val = NULL;
                for (int j = 0; j < 2 && k < 0; j++) {
                        if (strcmp(a, opts[j].name) == 0) {
                                if (i + 1 >= argc)
                                        return cli_usage(ctx,
                                                         "%s needs HOST:PORT, e.g. 127.0.0.1:8080 "
                                                         "or [::1]:8080.",
                                                         opts[j].name);
                                k = j;
                                val = argv[++i];
                        } else if (strncmp(a, opts[j].name, opts[j].len) == 0 &&
                                   a[opts[j].len] == '=') {
                                k = j;
                                val = a + opts[j].len + 1;
                        }
                }
                if (k < 0)
                        return cli_usage(ctx,
                                         "Unknown argument '%s'; usage: quill serve "
                                         "[--listen HOST:PORT] [--api-listen HOST:PORT].",
                                         a);
                *(k == 0 ? listen : api_listen) = val;
        }
        if (!*listen || !**listen)
                return cli_usage(ctx, "No address to listen on; pass --listen HOST:PORT or set "
                                      "[server] listen in the config.");
        return 0;
}

/* quill_crl_age_seconds{ca,shard}: now - thisUpdate of each partition's
 * newest CRL, computed when /metrics is rendered from the snapshot the
 * main thread keeps (shard "unsharded": /crl/<ca>.crl). */
static void collect_crl_ages(void *arg, struct metrics_emitter *e)
{
        struct serve_state *st = arg;
        qtime_t now = qtime_now();
        pthread_mutex_lock(&st->crl_mu);
        for (size_t i = 0; i < st->ncrls; i++) {
                char ca[24], shard[16];
                snprintf(ca, sizeof ca, "%lld", (long long)st->crls[i].ca_id);
                if (st->crls[i].shard >= 0)
                        snprintf(shard, sizeof shard, "%d", st->crls[i].shard);
                else
                        snprintf(shard, sizeof shard, "unsharded");
                const char *values[] = {ca, shard};
                metrics_emit(e, (double)(now - st->crls[i].this_update), values);
        }
        pthread_mutex_unlock(&st->crl_mu);
}

static void register_crl_ages(struct serve_state *st, bool on)
{
        static const char *const labels[] = {"ca", "shard", NULL};
        metrics_gauge_fn("quill_crl_age_seconds",
                         "Seconds since thisUpdate of the newest CRL of each CA partition.", labels,
                         on ? collect_crl_ages : NULL, on ? st : NULL);
}

/* The gauges of /metrics that the database knows (every tick). */
static void record_stats(struct serve_state *st)
{
        struct service_stats ss;
        struct qerr_info ei;
        if (service_stats(st->main_svc, &ss, &ei) == QERR_OK) {
                metrics_gauge_set("quill_jobs", "Jobs in the database, by state.",
                                  (double)ss.jobs_queued, "state", "queued", NULL);
                metrics_gauge_set("quill_jobs", "Jobs in the database, by state.",
                                  (double)ss.jobs_running, "state", "running", NULL);
        }
        struct crl_info *v = NULL;
        size_t n = 0;
        if (service_crl_list(st->main_svc, 0, &v, &n, &ei) != QERR_OK)
                return;
        pthread_mutex_lock(&st->crl_mu);
        struct crl_info *old = st->crls;
        st->crls = v;
        st->ncrls = n;
        pthread_mutex_unlock(&st->crl_mu);
        free(old);
}

/* Until a stop signal (returned) or a signer that is lost for good (0,
 * with *status set to 3). */
static int main_loop(struct serve_state *st, const sigset_t *stop_set, int *status)
{
        struct cli_ctx *ctx = st->ctx;
        struct qerr_info ei;
        qtime_t next_reconcile = qtime_now() + RECONCILE_SECONDS;
        for (;;) {
                struct timespec tick = {.tv_sec = TICK_SECONDS, .tv_nsec = 0};
                int sig = sigtimedwait(stop_set, NULL, &tick);
                if (sig < 0) {
                        if (!service_signer_check(ctx->svc)) {
                                qlog_error("signer lost",
                                           "hint=\"the signer died and runs as another user: "
                                           "stopping so that the service manager starts quill "
                                           "again\"");
                                *status = QEXIT_INTERNAL;
                                return 0;
                        }
                        if (errno != EAGAIN)
                                continue;
                        /* A CRL is made again (by a job) when half of its
                         * lifetime has passed, so a relying party never
                         * holds one past its nextUpdate. */
                        if (qtime_now() >= st->next_crl_check) {
                                qerr_clear(&ei);
                                if (service_crl_schedule_stale(ctx->svc, &ei) != QERR_OK)
                                        qlog_error("CRL scheduling failed", "code=%s",
                                                   qerr_code(ei.code));
                                st->next_crl_check = qtime_now() + CRL_CHECK_SECONDS;
                        }
                        if (qtime_now() >= next_reconcile) {
                                /* what a failed store write or a dead signer
                                 * left to the journal, and the journal's trim */
                                qerr_clear(&ei);
                                if (service_reconcile(ctx->svc, NULL, &ei) != QERR_OK)
                                        qlog_error("reconciliation failed", "code=%s",
                                                   qerr_code(ei.code));
                                next_reconcile = qtime_now() + RECONCILE_SECONDS;
                        }
                        serve_tls_tick(st);
                        record_stats(st);
                        continue;
                }
                if (sig != SIGHUP)
                        return sig;
                qlog_info("signal received", "signal=%s action=reload", signal_name(sig));
                serve_reload(st);
        }
}

int cmd_serve(struct cli_ctx *ctx, int argc, char **argv)
{
        const char *listen = ctx->cfg.server_listen;
        const char *api_listen = ctx->cfg.server_api_listen;
        int urc = parse_args(ctx, argc, argv, &listen, &api_listen);
        if (urc)
                return urc;

        struct qerr_info ei;
        qerr_clear(&ei);
        if (cli_open_service(ctx, true, &ei) != QERR_OK)
                return cli_fail(ctx, &ei);
        if (prepare(ctx, &ei) != QERR_OK) {
                close_service(ctx);
                return cli_fail(ctx, &ei);
        }

        /* Left blocked until exit: a second signal must not kill the stop. */
        sigset_t stop_set;
        sigemptyset(&stop_set);
        sigaddset(&stop_set, SIGTERM);
        sigaddset(&stop_set, SIGINT);
        sigaddset(&stop_set, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
        signal(SIGPIPE, SIG_IGN); /* a peer that hangs up is an error value, not a death */

        struct serve_state st = {
            .front = {.data_dir = ctx->data_dir, .cfg = &ctx->cfg},
            .ctx = ctx,
            .main_svc = ctx->svc,
            .live = &ctx->cfg,
        };
        pthread_mutex_init(&st.crl_mu, NULL);
        /* the job workers: validation, CAA and issuance (threads, after the
         * signal mask is set so they inherit it) */
        struct workers *workers = NULL;
        if (service_workers_start(ctx->data_dir, &ctx->cfg, ctx->svc, (int)ctx->cfg.jobs_workers,
                                  &workers, &ei) != QERR_OK) {
                close_service(ctx);
                pthread_mutex_destroy(&st.crl_mu);
                return cli_fail(ctx, &ei);
        }
        /* the notifier: webhooks and email from the outbox, and the expiry
         * scan (threads, like the workers) */
        struct notifier *notifier = NULL;
        if (service_notifier_start(ctx->data_dir, &ctx->cfg, (int)ctx->cfg.notify_workers,
                                   &notifier, &ei) != QERR_OK) {
                service_workers_stop(workers);
                close_service(ctx);
                return cli_fail(ctx, &ei);
        }
        st.workers = workers;
        /* commits that queue jobs (a revocation's CRL) wake the workers */
        service_set_job_wake(ctx->svc, service_workers_wake, workers);
        record_stats(&st);
        register_crl_ages(&st, true);
        /* OCSP: the answers in memory before the first request can ask */
        struct ocsp_refresher *ocsp = NULL;
        st.front.ocsp = ocsp_cache_new();
        enum qerr rc = st.front.ocsp ? QERR_OK : qerr_set(&ei, QERR_NOMEM, NULL);
        if (rc == QERR_OK)
                rc = service_ocsp_start(ctx->data_dir, &ctx->cfg, ctx->svc, st.front.ocsp, &ocsp,
                                        &ei);
        if (rc == QERR_OK)
                rc = api_server_new(&ctx->cfg, &st.front.api, &ei);
        if (rc == QERR_OK)
                rc = acme_server_new(&ctx->cfg, &st.front.acme, &ei);
        if (rc == QERR_OK)
                rc = start_http(&st, listen, &ei);
        if (rc == QERR_OK && api_listen && *api_listen)
                rc = start_https(&st, api_listen, &ei);
        if (rc != QERR_OK) {
                stop_listeners(&st, 0);
                api_server_free(st.front.api);
                acme_server_free(st.front.acme);
                service_notifier_stop(notifier);
                service_ocsp_stop(ocsp);
                ocsp_cache_free(st.front.ocsp);
                service_workers_stop(workers);
                register_crl_ages(&st, false);
                close_service(ctx);
                free(st.crls);
                pthread_mutex_destroy(&st.crl_mu);
                return cli_fail(ctx, &ei);
        }
        char eaddr[320], eapi[320];
        qlog_escape(listen, eaddr, sizeof eaddr);
        qlog_escape(st.https ? api_listen : "", eapi, sizeof eapi);
        qlog_info("listening", "http=%s http_port=%d https=%s https_port=%d threads=%d", eaddr,
                  http_server_port(st.http), eapi, http_server_port(st.https),
                  default_threads(&ctx->cfg));
        /* fresh CRLs once the addresses are ours (a failed start changes
         * nothing): every partition, with the configuration now in force */
        if (service_crl_refresh_all(ctx->svc, 0, NULL, NULL, &ei) != QERR_OK)
                qlog_error("CRL refresh failed", "code=%s", qerr_code(ei.code));
        else
                qlog_info("CRLs made", "reason=start");
        st.next_crl_check = qtime_now() + CRL_CHECK_SECONDS;
        record_stats(&st);

        int status = 0;
        int sig = main_loop(&st, &stop_set, &status);
        long grace_ms = st.live->server_stop_grace_seconds * 1000;
        qlog_info("stopping", "signal=%s grace_ms=%ld", sig > 0 ? signal_name(sig) : "none",
                  grace_ms);
        stop_listeners(&st, grace_ms);
        api_server_free(st.front.api);
        acme_server_free(st.front.acme);
        service_ocsp_stop(ocsp); /* after the listeners: nothing reads the cache now */
        ocsp_cache_free(st.front.ocsp);
        service_notifier_stop(notifier); /* pending deliveries stay in the outbox */
        service_workers_stop(workers);   /* queued jobs stay in the database */
        register_crl_ages(&st, false);
        close_service(ctx);
        free(st.crls);
        pthread_mutex_destroy(&st.crl_mu);
        if (st.have_reloaded)
                config_free(&st.reloaded);
        metrics_shutdown();
        qlog_info("stopped", "http=%s", eaddr);
        return status;
}
