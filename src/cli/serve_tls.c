/*
 * serve_tls.c - the HTTPS listener's certificate and the SIGHUP reload of
 * `quill serve`; see serve.h.
 *
 * The certificate comes from [server] tls_cert_file / tls_key_file when
 * set (read again on every SIGHUP), else from quill's own CA for [server]
 * api_names (service_api_tls_get: reused from <data>/tls/ while it fits,
 * issued again when a third of its validity is left; the main loop checks
 * when that time comes, and SIGHUP checks at once). Either way the new pair
 * goes to http_server_set_tls(): new handshakes use it, connections in
 * flight keep the one they started with.
 *
 * Reload (SIGHUP): the configuration file is read into a second struct
 * (the one every thread reads, ctx->cfg, is never changed or freed while
 * serving). What takes effect at once: [log] level, [server] tls_cert_file,
 * tls_key_file, api_names, api_cert_days and stop_grace_seconds. Every other
 * changed setting is logged as needing a restart (listen addresses,
 * threads, timeouts, store, DNS, validation, jobs...: they are baked into
 * threads, handles and listeners made at start). A file that does not load
 * changes nothing.
 *
 * Threads: main thread only.
 */
#include "serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/fsutil.h"
#include "../base/log.h"

#define RETRY_AFTER_FAILURE 300 /* seconds before a failed renewal is tried again */
#define MAX_API_NAMES 32

void serve_tls_free(char *chain, char *key)
{
        free(chain);
        if (key) {
                volatile char *p = key;
                while (*p)
                        *p++ = 0;
                free(key);
        }
}

/* Splits the comma-separated list into `buf`; returns the count. */
static size_t split_names(const char *list, char *buf, size_t bufsz, const char **names, size_t max)
{
        snprintf(buf, bufsz, "%s", list ? list : "");
        size_t n = 0;
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
                while (*tok == ' ' || *tok == '\t')
                        tok++;
                char *end = tok + strlen(tok);
                while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
                        *--end = 0;
                if (*tok && n < max)
                        names[n++] = tok;
                else if (*tok)
                        return max + 1;
        }
        return n;
}

static enum qerr read_pem(const char *path, const char *key, char **out, struct qerr_info *ei)
{
        struct qbuf b;
        qbuf_init(&b, MAX_PEM_BYTES);
        enum qerr rc = fs_read_file(path, &b, ei);
        if (rc != QERR_OK) {
                char why[QERR_MSG_MAX];
                snprintf(why, sizeof why, "%s", qerr_message(ei));
                qbuf_free(&b);
                return qerr_set(ei, QERR_CONFIG, "[server] %s: %s", key, why);
        }
        *out = (char *)qbuf_take(&b, NULL);
        if (!*out)
                return qerr_set(ei, QERR_CONFIG, "[server] %s: %s is empty", key, path);
        return QERR_OK;
}

static enum qerr load_files(struct serve_state *st, char **chain, char **key, struct qerr_info *ei)
{
        const struct qconfig *c = st->live;
        if (!*c->server_tls_cert_file || !*c->server_tls_key_file)
                return qerr_set(ei, QERR_CONFIG,
                                "set both [server] tls_cert_file and tls_key_file (or neither, "
                                "to use a certificate issued by quill)");
        enum qerr rc = read_pem(c->server_tls_cert_file, "tls_cert_file", chain, ei);
        if (rc == QERR_OK)
                rc = read_pem(c->server_tls_key_file, "tls_key_file", key, ei);
        qtime_t not_after = 0;
        if (rc == QERR_OK && (rc = service_tls_chain_expiry(*chain, &not_after, ei)) != QERR_OK) {
                char why[QERR_MSG_MAX];
                snprintf(why, sizeof why, "%s", qerr_message(ei));
                rc = qerr_set(ei, QERR_TLS_INVALID, "[server] tls_cert_file: %s", why);
        }
        if (rc != QERR_OK) {
                serve_tls_free(*chain, *key);
                *chain = *key = NULL;
                return rc;
        }
        st->tls_from_files = true;
        st->tls_not_after = not_after;
        st->tls_renew_at = 0;
        if (not_after - qtime_now() < 14 * QTIME_DAY)
                qlog_warn("TLS certificate expires soon", "file=%s not_after=%lld",
                          c->server_tls_cert_file, (long long)not_after);
        return QERR_OK;
}

enum qerr serve_tls_load(struct serve_state *st, char **chain, char **key, struct qerr_info *ei)
{
        *chain = *key = NULL;
        const struct qconfig *c = st->live;
        if (*c->server_tls_cert_file || *c->server_tls_key_file)
                return load_files(st, chain, key, ei);
        char buf[4200];
        const char *names[MAX_API_NAMES];
        size_t n = split_names(c->server_api_names, buf, sizeof buf, names, MAX_API_NAMES);
        if (n == 0 || n > MAX_API_NAMES)
                return qerr_set(ei, QERR_CONFIG,
                                "[server] api_names must list between 1 and %d names, e.g. "
                                "localhost,127.0.0.1",
                                MAX_API_NAMES);
        struct api_tls_req r = {.names = names, .nnames = n, .days = c->server_api_cert_days};
        struct api_tls t;
        enum qerr rc = service_api_tls_get(st->main_svc, &r, &t, ei);
        if (rc != QERR_OK)
                return rc;
        st->tls_from_files = false;
        st->tls_not_after = t.not_after;
        st->tls_renew_at = t.renew_at;
        *chain = t.chain_pem;
        *key = t.key_pem;
        t.chain_pem = t.key_pem = NULL;
        api_tls_clear(&t);
        return QERR_OK;
}

/* Loads the pair for st->live and gives it to the HTTPS listener. */
static bool swap_in(struct serve_state *st, const char *why)
{
        struct qerr_info ei;
        qerr_clear(&ei);
        char *chain = NULL, *key = NULL;
        enum qerr rc = serve_tls_load(st, &chain, &key, &ei);
        if (rc == QERR_OK)
                rc = http_server_set_tls(st->https, chain, key, &ei);
        serve_tls_free(chain, key);
        char emsg[QERR_MSG_MAX + 8];
        if (rc != QERR_OK) {
                qlog_error("TLS certificate not changed", "why=%s code=%s detail=%s", why,
                           qerr_code(rc), qlog_escape(qerr_message(&ei), emsg, sizeof emsg));
                return false;
        }
        qlog_info("TLS certificate loaded", "why=%s source=%s not_after=%lld", why,
                  st->tls_from_files ? "files" : "quill", (long long)st->tls_not_after);
        return true;
}

void serve_tls_tick(struct serve_state *st)
{
        qtime_t now = qtime_now();
        if (!st->https || st->tls_from_files || now < st->tls_renew_at || now < st->tls_next_check)
                return;
        if (!swap_in(st, "renewal"))
                st->tls_next_check = now + RETRY_AFTER_FAILURE;
}

static bool reloadable(const char *section, const char *key)
{
        static const char *const keys[][2] = {
            {"log", "level"},        {"server", "tls_cert_file"}, {"server", "tls_key_file"},
            {"server", "api_names"}, {"server", "api_cert_days"}, {"server", "stop_grace_seconds"},
        };
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
                if (strcmp(keys[i][0], section) == 0 && strcmp(keys[i][1], key) == 0)
                        return true;
        return false;
}

static void log_change(void *arg, const char *section, const char *key)
{
        (void)arg;
        if (reloadable(section, key))
                qlog_info("setting reloaded", "setting=%s.%s", section, key);
        else
                qlog_warn("setting changed, restart to apply", "setting=%s.%s", section, key);
}

void serve_reload(struct serve_state *st)
{
        struct qerr_info ei;
        qerr_clear(&ei);
        struct qconfig nc;
        config_defaults(&nc);
        if (cli_load_config_into(st->ctx, &nc, &ei) != QERR_OK) {
                char emsg[QERR_MSG_MAX + 8];
                qlog_error("configuration reload failed; nothing changed", "code=%s detail=%s",
                           qerr_code(ei.code), qlog_escape(qerr_message(&ei), emsg, sizeof emsg));
                config_free(&nc);
                return;
        }
        config_each_change(st->live, &nc, log_change, NULL);
        /* only this thread reads `reloaded`: the previous one can go */
        if (st->have_reloaded)
                config_free(&st->reloaded);
        st->reloaded = nc;
        st->have_reloaded = true;
        st->live = &st->reloaded;
        const char *env_level = getenv("QUILL_LOG");
        if (!env_level || !*env_level)
                qlog_set_level(qlog_level_from_name(st->live->log_level));
        if (st->https) {
                st->tls_next_check = 0;
                swap_in(st, "reload");
        }
        qlog_info("configuration reloaded", "https=%s", st->https ? "yes" : "no");
}
