/*
 * cli_common.c - what every subcommand shares: opening the service, printing
 * errors per the CLI contract (cli.h), and the JSON encoders of records.
 *
 * Memory: JSON encoders return new references (NULL when memory ran out);
 * cli_print_json steals its argument. cli_open_service stores the service in
 * ctx->svc; main() closes it after the subcommand returns. The actor string
 * handed to the service lives in a static buffer written once, before any
 * thread exists, and only read afterwards.
 *
 * Threads: main thread only (serve may call the encoders from its threads:
 * they touch no shared state).
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/fsutil.h"

static char actor_buf[64];

/* "cli:" + $USER (printable characters only), else "cli:uid<N>". */
static const char *cli_actor(void)
{
        const char *user = getenv("USER");
        if (!user || !*user) {
                snprintf(actor_buf, sizeof actor_buf, "cli:uid%ld", (long)getuid());
                return actor_buf;
        }
        int n = snprintf(actor_buf, sizeof actor_buf, "cli:%s", user);
        size_t end = n < 0 ? 0 : ((size_t)n < sizeof actor_buf ? (size_t)n : sizeof actor_buf - 1);
        for (size_t i = 4; i < end; i++)
                if ((unsigned char)actor_buf[i] < 0x21 || (unsigned char)actor_buf[i] > 0x7e)
                        actor_buf[i] = '?';
        return actor_buf;
}

enum qerr cli_open_service(struct cli_ctx *ctx, bool create, struct qerr_info *ei)
{
        struct service_boot b = {.data_dir = ctx->data_dir,
                                 .cfg = &ctx->cfg,
                                 .actor = cli_actor(),
                                 .secret = ctx->secret,
                                 .create = create,
                                 .keep_for_restart = ctx->serving,
                                 .warn_root = ctx->serving,
                                 .no_signer = ctx->no_signer,
                                 .no_recover = ctx->no_recover || ctx->serving};
        enum qerr rc = service_boot_open(&b, &ctx->svc, ei);
        if (rc != QERR_OK)
                return rc;
        /* the local operator, acting in --tenant (default 'default') */
        struct principal p;
        rc = service_local_principal(ctx->svc, ctx->tenant, cli_actor(), &p, ei);
        if (rc == QERR_OK)
                service_set_principal(ctx->svc, &p);
        return rc;
}

int cli_fail(struct cli_ctx *ctx, const struct qerr_info *ei)
{
        const char *code = qerr_code(ei->code);
        const char *msg = qerr_message(ei);
        if (ctx->json) {
                json_t *o =
                    json_pack("{s:{s:s,s:o}}", "error", "code", code, "message", json_of_text(msg));
                if (!o || cli_print_json(o) != QEXIT_OK)
                        fprintf(stderr, "quill: %s: %s\n", code, msg);
        } else {
                fprintf(stderr, "quill: %s: %s\n", code, msg);
        }
        int ex = (int)qerr_exit(ei->code);
        return ex == 0 ? QEXIT_INTERNAL : ex;
}

int cli_usage(struct cli_ctx *ctx, const char *fmt, ...)
{
        struct qerr_info ei;
        qerr_clear(&ei);
        ei.code = QERR_USAGE;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ei.msg, sizeof ei.msg, fmt, ap);
        va_end(ap);
        cli_fail(ctx, &ei);
        if (!ctx->json)
                fprintf(stderr, "Run 'quill help' for the commands and their options.\n");
        return QEXIT_USAGE;
}

bool cli_parse_id(const char *s, int64_t *out)
{
        if (!s || *s < '1' || *s > '9')
                return false;
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end)
                return false;
        *out = v;
        return true;
}

int cli_print_json(json_t *obj)
{
        char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
        json_decref(obj);
        if (!s) {
                fprintf(stderr, "quill: %s: %s\n", qerr_code(QERR_NOMEM),
                        qerr_default_msg(QERR_NOMEM));
                return QEXIT_INTERNAL;
        }
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
        return QEXIT_OK;
}

/* ---- lint findings (issue 7) ---- */

void cli_print_lint(FILE *out, const struct lint_report *r, const char *prefix)
{
        for (size_t i = 0; r && i < r->n; i++)
                fprintf(out, "%s%s %s: %s (%s)\n", prefix, lint_severity_name(r->items[i].severity),
                        r->items[i].id, r->items[i].message, r->items[i].source);
        if (r && r->dropped)
                fprintf(out, "%s%zu more findings were not kept\n", prefix, r->dropped);
}

int cli_print_order(struct cli_ctx *ctx, const struct order_rec *o)
{
        qtime_t now = qtime_now();
        if (ctx->json)
                return cli_print_json(json_pack("{s:o}", "order", json_of_order(o, now)));
        if (strcmp(o->purpose, "issue") != 0)
                printf("order %lld (proof of control for the %s of certificate %lld): %s\n",
                       (long long)o->id, o->purpose, (long long)o->subject_id,
                       o->status == ORDER_ISSUED ? "completed" : order_status_name(o->status));
        else
                printf("order %lld: %s (%s)\n", (long long)o->id, order_status_name(o->status),
                       cert_profile_name(o->profile));
        if (o->failure_code[0])
                printf("  failed: %s: %s\n", o->failure_code,
                       o->failure_message ? o->failure_message : "");
        if (o->certificate_id)
                printf("  certificate: %lld\n", (long long)o->certificate_id);
        for (size_t i = 0; i < o->nnames; i++) {
                const struct order_name_rec *n = &o->names[i];
                printf("  %s: validation %s, CAA %s\n", n->name, n->validation_status,
                       n->caa_status);
                if (n->reused_from) {
                        char at[40];
                        printf("    validation reused from order %lld (%s, %s)\n",
                               (long long)n->reused_order, n->reused_method,
                               qtime_fmt(n->validated_at, at, sizeof at));
                }
                if (strcmp(n->validation_status, "valid") != 0) {
                        const char *base = n->name[0] == '*' ? n->name + 2 : n->name;
                        if (strcmp(n->method, "file") == 0)
                                printf("    publish http://%s/.well-known/pki-validation/%s.txt "
                                       "containing: %s\n",
                                       n->name, n->token, n->value);
                        else
                                printf("    publish TXT _acme-challenge.%s \"%s\"\n", base,
                                       n->value);
                }
                if (n->failure_code[0])
                        printf("    last failure: %s: %s\n", n->failure_code,
                               n->failure_message ? n->failure_message : "");
        }
        return 0;
}

enum qerr cli_load_config(struct cli_ctx *ctx, struct qerr_info *ei)
{
        return cli_load_config_into(ctx, &ctx->cfg, ei);
}

enum qerr cli_load_config_into(const struct cli_ctx *ctx, struct qconfig *cfg, struct qerr_info *ei)
{
        char path[4096];
        const char *p = ctx->config_path;
        if (!p) {
                int n = snprintf(path, sizeof path, "%s/quill.conf", ctx->data_dir);
                if (n < 0 || (size_t)n >= sizeof path)
                        return qerr_set(ei, QERR_USAGE, "--data path is too long");
                if (!fs_exists(path))
                        return QERR_OK;
                p = path;
        }
        return config_load(p, cfg, ei);
}
