/*
 * serve.h - what the files of `quill serve` share (cmd_serve.c: start-up,
 * main loop, stop; serve_tls.c: the HTTPS certificate and the SIGHUP
 * reload). Not for other subcommands.
 *
 * Threads: `struct serve_state` belongs to the main thread, except `front`
 * (the listeners' user pointer, read-only while serving) and `main_svc`,
 * which worker threads only borrow the signer of (thread_init).
 */
#ifndef QUILL_CLI_SERVE_H
#define QUILL_CLI_SERVE_H

#include <pthread.h>

#include "../api/front.h"
#include "../http/http.h"
#include "cli.h"

struct serve_state {
        struct front_ctx front; /* first: the listeners' user pointer */
        struct cli_ctx *ctx;
        struct service *main_svc; /* ctx->svc: the signer's owner, main thread */
        /* The configuration the main thread acts on: &ctx->cfg at start, then
         * `reloaded` after a SIGHUP. ctx->cfg itself (read by every thread)
         * is never changed or freed while serving. */
        const struct qconfig *live;
        struct qconfig reloaded;
        bool have_reloaded;
        struct http_server *http, *https;
        /* HTTPS certificate: from files ([server] tls_cert_file) or our own */
        bool tls_from_files;
        qtime_t tls_renew_at; /* own certificate: when to issue the next one */
        qtime_t tls_not_after;
        qtime_t tls_next_check;  /* own certificate: next retry after a failure */
        struct workers *workers; /* the job workers (thread handles wake them) */
        qtime_t next_crl_check;  /* when to queue jobs for CRLs at half their lifetime */
        /* /metrics quill_crl_age_seconds: every partition's newest CRL (ca,
         * shard, thisUpdate), refreshed each tick by the main thread, read
         * when /metrics is rendered (a request thread), under crl_mu */
        pthread_mutex_t crl_mu;
        struct crl_info *crls;
        size_t ncrls;
};

/* The HTTPS certificate chain and key (caller frees both; the key is
 * wiped first) for st->live: the files of [server] tls_cert_file /
 * tls_key_file, or quill's own certificate for [server] api_names (reused,
 * or issued now). Records the renewal time in st. */
enum qerr serve_tls_load(struct serve_state *st, char **chain, char **key, struct qerr_info *ei);
void serve_tls_free(char *chain, char *key);
/* Main loop tick: renews our own certificate when due and swaps it in. */
void serve_tls_tick(struct serve_state *st);
/* SIGHUP: reads the configuration again, applies what can change while
 * running (see cmd_serve.c), logs the rest, reloads the certificate. */
void serve_reload(struct serve_state *st);

#endif
