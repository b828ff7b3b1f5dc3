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

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/fsutil.h"

static char actor_buf[64];

/* A JSON string of `s`; bytes that are not valid UTF-8 (a file name, a DN of
 * an uploaded certificate) become '?' rather than failing the output. */
json_t *cli_json_text(const char *s)
{
        json_t *v = json_string(s);
        if (v || !s)
                return v;
        char *copy = strdup(s);
        if (!copy)
                return NULL;
        for (char *p = copy; *p; p++)
                if ((unsigned char)*p >= 0x80)
                        *p = '?';
        v = json_string(copy);
        free(copy);
        return v;
}

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
                                 .no_signer = ctx->no_signer};
        return service_boot_open(&b, &ctx->svc, ei);
}

int cli_fail(struct cli_ctx *ctx, const struct qerr_info *ei)
{
        const char *code = qerr_code(ei->code);
        const char *msg = qerr_message(ei);
        if (ctx->json) {
                json_t *o = json_pack("{s:{s:s,s:o}}", "error", "code", code, "message",
                                      cli_json_text(msg));
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

json_t *cli_time_json(qtime_t t)
{
        char buf[40];
        return json_string(qtime_fmt(t, buf, sizeof buf));
}

/* Sets o[k] = v (stealing v); clears *ok when either is missing. */
static void jset(json_t *o, const char *k, json_t *v, bool *ok)
{
        if (!v || json_object_set_new(o, k, v) != 0)
                *ok = false;
}

static json_t *jstr_or_null(const char *s)
{
        return s && *s ? cli_json_text(s) : json_null();
}

static json_t *jid_or_null(int64_t id)
{
        return id > 0 ? json_integer((json_int_t)id) : json_null();
}

static json_t *jfinish(json_t *o, bool ok)
{
        if (!ok) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static const char *key_protection_name(enum key_protection p)
{
        switch (p) {
        case KEYPROT_DATA_KEY:
                return "data_key";
        case KEYPROT_PASSWORD:
                return "password";
        case KEYPROT_NONE:
        default:
                return "none";
        }
}

/* floor((not_after - now) / 1 day); negative once expired. */
static long long days_left(qtime_t not_after, qtime_t now)
{
        qtime_t diff = not_after - now;
        qtime_t d = diff / QTIME_DAY;
        if (diff % QTIME_DAY != 0 && diff < 0)
                d--;
        return (long long)d;
}

static json_t *names_json(char *const *names, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, cli_json_text(names[i])) != 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

json_t *cli_cert_json(const struct cert_rec *c, qtime_t now)
{
        json_t *o = json_object();
        if (!o)
                return NULL;
        bool ok = true;
        jset(o, "id", json_integer((json_int_t)c->id), &ok);
        jset(o, "serial", json_string(c->serial), &ok);
        jset(o, "status", json_string(cert_status_name(cert_effective_status(c, now))), &ok);
        jset(o, "names", names_json(c->names, c->nnames), &ok);
        jset(o, "not_before", cli_time_json(c->not_before), &ok);
        jset(o, "not_after", cli_time_json(c->not_after), &ok);
        jset(o, "origin", json_string(cert_origin_name(c->origin)), &ok);
        jset(o, "parent_id", jid_or_null(c->parent_id), &ok);
        jset(o, "profile", json_string(cert_profile_name(c->profile)), &ok);
        jset(o, "key_algorithm", json_string(c->key_algorithm), &ok);
        jset(o, "ca_id", c->origin == ORIGIN_UPLOADED ? json_null() : jid_or_null(c->ca_id), &ok);
        jset(o, "issuer", jstr_or_null(c->issuer), &ok);
        jset(o, "revoked_at", c->revoked_at ? cli_time_json(c->revoked_at) : json_null(), &ok);
        jset(o, "revocation_reason",
             c->revoke_reason >= 0 ? json_string(revoke_reason_name(c->revoke_reason))
                                   : json_null(),
             &ok);
        jset(o, "key_held", json_boolean(c->key_blob != NULL), &ok);
        jset(o, "key_protection", json_string(key_protection_name(c->key_protection)), &ok);
        jset(o, "days_left", json_integer(days_left(c->not_after, now)), &ok);
        return jfinish(o, ok);
}

static json_t *event_json(const struct event_rec *e)
{
        json_t *o = json_object();
        if (!o)
                return NULL;
        bool ok = true;
        jset(o, "at", cli_time_json(e->at), &ok);
        jset(o, "actor", cli_json_text(e->actor), &ok);
        jset(o, "from", jstr_or_null(e->from_status), &ok);
        jset(o, "to", jstr_or_null(e->to_status), &ok);
        jset(o, "reason", jstr_or_null(e->reason), &ok);
        return jfinish(o, ok);
}

json_t *cli_events_json(const struct event_rec *e, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, event_json(&e[i])) != 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

json_t *cli_ca_json(const struct ca_rec *c)
{
        json_t *o = json_object();
        if (!o)
                return NULL;
        bool ok = true;
        jset(o, "id", json_integer((json_int_t)c->id), &ok);
        jset(o, "parent_id", jid_or_null(c->parent_id), &ok);
        jset(o, "is_root", json_boolean(c->is_root), &ok);
        jset(o, "key_algorithm", json_string(c->key_algorithm), &ok);
        jset(o, "subject", jstr_or_null(c->subject), &ok);
        jset(o, "not_before", cli_time_json(c->not_before), &ok);
        jset(o, "not_after", cli_time_json(c->not_after), &ok);
        jset(o, "certificate", jstr_or_null(c->cert_pem), &ok);
        return jfinish(o, ok);
}

/* ---- orders and reviews ---- */

static json_t *failure_json(const char *code, const char *msg)
{
        if (!code || !code[0])
                return json_null();
        return json_pack("{s:s,s:s}", "code", code, "message", msg ? msg : "");
}

static json_t *challenge_json(const struct order_name_rec *n)
{
        const char *base = n->name[0] == '*' && n->name[1] == '.' ? n->name + 2 : n->name;
        char rec[QUILL_MAX_NAME_LEN + 32], url[QUILL_MAX_NAME_LEN + 96];
        if (strcmp(n->method, "file") == 0) {
                snprintf(url, sizeof url, "http://%s/.well-known/pki-validation/%s.txt", n->name,
                         n->token);
                return json_pack("{s:s,s:s,s:s}", "type", "file", "url", url, "content", n->value);
        }
        snprintf(rec, sizeof rec, "_acme-challenge.%s", base);
        return json_pack("{s:s,s:s,s:s}", "type", "dns", "record_name", rec, "record_value",
                         n->value);
}

json_t *cli_order_json(const struct order_rec *o, qtime_t now)
{
        (void)now;
        json_t *names = json_array();
        for (size_t i = 0; names && i < o->nnames; i++) {
                const struct order_name_rec *n = &o->names[i];
                json_array_append_new(
                    names,
                    json_pack("{s:s,s:s,s:s,s:s,s:s?,s:o,s:o,s:o}", "name", n->name, "method",
                              n->method, "validation_status", n->validation_status, "caa_status",
                              n->caa_status, "caa_detail", n->caa_detail, "failure",
                              failure_json(n->failure_code, n->failure_message), "challenge",
                              challenge_json(n), "value_expires", cli_time_json(n->value_expires)));
        }
        json_t *cert = o->certificate_id ? json_integer(o->certificate_id) : json_null();
        /* purpose: issue, or the proof of control of a revocation or reissue
         * (for those, status "issued" means the proof completed) */
        return json_pack("{s:I,s:s,s:I,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:b,s:o}", "id",
                         (json_int_t)o->id, "purpose", o->purpose, "subject_id",
                         (json_int_t)o->subject_id, "status", order_status_name(o->status),
                         "profile", cert_profile_name(o->profile), "key_algorithm",
                         o->key_algorithm, "certificate_id", cert, "failure",
                         failure_json(o->failure_code, o->failure_message), "deadline",
                         cli_time_json(o->deadline), "created_at", cli_time_json(o->created_at),
                         "names", names ? names : json_array(), "free", o->free_cert,
                         "organization", o->org_info ? json_string(o->org_info) : json_null());
}

json_t *cli_review_json(const struct review_rec *r)
{
        json_t *order = r->order_id ? json_integer(r->order_id) : json_null();
        json_t *rev = r->revocation_id ? json_integer(r->revocation_id) : json_null();
        return json_pack("{s:I,s:o,s:o,s:s,s:s,s:s,s:s?,s:s?,s:o,s:o}", "id", (json_int_t)r->id,
                         "order_id", order, "revocation_id", rev, "kind", r->kind, "status",
                         r->status, "detail", r->detail ? r->detail : "", "reviewer",
                         r->reviewer[0] ? r->reviewer : NULL, "reason", r->reason, "created_at",
                         cli_time_json(r->created_at), "decided_at",
                         r->decided_at ? cli_time_json(r->decided_at) : json_null());
}

int cli_print_order(struct cli_ctx *ctx, const struct order_rec *o)
{
        qtime_t now = qtime_now();
        if (ctx->json)
                return cli_print_json(json_pack("{s:o}", "order", cli_order_json(o, now)));
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
        return config_load(p, &ctx->cfg, ei);
}
