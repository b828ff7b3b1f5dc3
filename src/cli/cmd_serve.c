/*
 * cmd_serve.c - `quill serve [--listen HOST:PORT]`: run the HTTP front door.
 *
 * Opens (creating if needed) the data directory, starts the signer process,
 * creates a CA on the first start, refreshes every CRL, then serves the
 * publication routes on [server] listen (or --listen) until SIGTERM or
 * SIGINT; SIGHUP is logged and otherwise ignored. Prints nothing on stdout:
 * progress goes to the log on stderr. Exit 0 after a signal-driven stop.
 *
 * Threads: runs on the main thread. The signer is started (and, as root,
 * the users switched) by cli_open_service before any thread exists;
 * SIGTERM/SIGINT/SIGHUP are then blocked so that the HTTP polling thread
 * inherits the mask and only the main thread's sigtimedwait() sees them.
 * Every second the main thread makes sure the signer runs (a dead one is
 * started again with backoff); when it is dead and cannot be started again
 * (user separation: nobody here may become its user any more), serve stops
 * with exit status 3 so that the service manager restarts it. Two service handles: ctx->svc (with
 * the signer) stays with the main thread, which re-signs every CRL when half its lifetime has
 * passed; a second handle (no signer) belongs to the polling thread for reads. Memory: both are
 * closed here (ctx->svc is left NULL).
 */
#include "cli.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "../api/publish.h"
#include "../base/log.h"
#include "../http/http.h"

static void close_service(struct cli_ctx *ctx)
{
        service_close(ctx->svc);
        ctx->svc = NULL;
}

/* Signer, first CA, recovery: everything that must happen before the
 * server thread exists. */
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
        }
        /* work a killed process left behind */
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

int cmd_serve(struct cli_ctx *ctx, int argc, char **argv)
{
        const char *listen = ctx->cfg.server_listen;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (strcmp(a, "--listen") == 0) {
                        if (i + 1 >= argc)
                                return cli_usage(ctx, "--listen needs HOST:PORT, e.g. "
                                                      "127.0.0.1:8080 or [::1]:8080.");
                        listen = argv[++i];
                } else if (strncmp(a, "--listen=", strlen("--listen=")) == 0) {
                        listen = a + strlen("--listen=");
                } else {
                        return cli_usage(ctx,
                                         "Unknown argument '%s'; usage: quill serve "
                                         "[--listen HOST:PORT].",
                                         a);
                }
        }
        if (!listen || !*listen)
                return cli_usage(ctx, "No address to listen on; pass --listen HOST:PORT or set "
                                      "[server] listen in the config.");

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

        struct service *web = NULL;
        struct service_opts wo = {.data_dir = ctx->data_dir, .cfg = &ctx->cfg, .actor = "http"};
        if (service_open(&wo, &web, &ei) != QERR_OK) {
                close_service(ctx);
                return cli_fail(ctx, &ei);
        }
        /* the job workers: validation, CAA and issuance (threads, after the
         * signal mask is set so they inherit it) */
        struct workers *workers = NULL;
        if (service_workers_start(ctx->data_dir, &ctx->cfg, ctx->svc, (int)ctx->cfg.jobs_workers,
                                  &workers, &ei) != QERR_OK) {
                service_close(web);
                close_service(ctx);
                return cli_fail(ctx, &ei);
        }
        size_t nroutes = 0;
        const struct http_route *routes = publish_routes(&nroutes);
        struct http_server *srv = NULL;
        if (http_server_start(listen, routes, nroutes, web, &srv, &ei) != QERR_OK) {
                service_workers_stop(workers);
                service_close(web);
                close_service(ctx);
                return cli_fail(ctx, &ei);
        }
        char eaddr[320];
        qlog_info("listening", "addr=%s", qlog_escape(listen, eaddr, sizeof eaddr));
        /* fresh CRLs once the address is ours (a failed start changes nothing) */
        if (service_crl_refresh_all(ctx->svc, &ei) != QERR_OK)
                qlog_error("CRL refresh failed", "code=%s", qerr_code(ei.code));

        /* CRLs are re-signed when half of their lifetime has passed, so a
         * relying party never sees one past its nextUpdate; a failed refresh
         * is tried again 30 s later. */
        const qtime_t refresh_every = ctx->cfg.ca_crl_hours * 3600 / 2;
        qtime_t next_refresh = qtime_now() + refresh_every;
        int sig = 0, status = 0;
        for (;;) {
                struct timespec tick = {.tv_sec = 1, .tv_nsec = 0};
                sig = sigtimedwait(&stop_set, NULL, &tick);
                if (sig < 0) {
                        if (!service_signer_check(ctx->svc)) {
                                qlog_error("signer lost",
                                           "hint=\"the signer died and runs as another user: "
                                           "stopping so that the service manager starts quill "
                                           "again\"");
                                status = QEXIT_INTERNAL;
                                break;
                        }
                        if (errno == EAGAIN && qtime_now() >= next_refresh) {
                                if (service_crl_refresh_all(ctx->svc, &ei) != QERR_OK) {
                                        qlog_error("CRL refresh failed", "code=%s",
                                                   qerr_code(ei.code));
                                        next_refresh = qtime_now() + 30;
                                } else {
                                        next_refresh = qtime_now() + refresh_every;
                                }
                        }
                        continue;
                }
                if (sig != SIGHUP)
                        break;
                qlog_info("signal ignored", "signal=%s", signal_name(sig));
        }
        qlog_info("stopping", "signal=%s", sig > 0 ? signal_name(sig) : "none");
        http_server_stop(srv);
        service_workers_stop(workers);
        service_close(web);
        close_service(ctx);
        qlog_info("stopped", "addr=%s", eaddr);
        return status;
}
