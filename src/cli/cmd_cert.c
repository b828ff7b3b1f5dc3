/*
 * cmd_cert.c - `quill cert ...`: sign, apply, list, show, download, revoke,
 * reissue, delete, upload.
 *
 * One option table serves every subcommand; a table of subcommands says which
 * options each one accepts, whether it takes an ID, and which function runs
 * it. Each run function is the thin part: argv -> request struct -> one
 * service call -> output.
 *
 * Memory: `struct cert_args` borrows argv strings, except `names`, which it
 * owns (cert_args_free). Records and buffers from the service are freed by the
 * function that asked for them. Threads: main thread only.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/fsutil.h"
#include "cli.h"

enum {
        O_CSR = 1u << 0,
        O_PROFILE = 1u << 1,
        O_DAYS = 1u << 2,
        O_NAME = 1u << 3,
        O_KEY = 1u << 4,
        O_KEY_PASSWORD = 1u << 5,
        O_FORMAT = 1u << 6,
        O_OUT = 1u << 7,
        O_PASSWORD = 1u << 8,
        O_REASON = 1u << 9,
        O_SAME_CSR = 1u << 10,
        O_CERT = 1u << 11,
        O_CHAIN = 1u << 12,
        O_METHOD = 1u << 13,
        O_ORG = 1u << 14,
        O_PAID = 1u << 15,
        O_LETTER = 1u << 16,
};

static const struct option cert_opts[] = {
    {"csr", required_argument, NULL, 'c'},      {"profile", required_argument, NULL, 'p'},
    {"days", required_argument, NULL, 'd'},     {"name", required_argument, NULL, 'n'},
    {"key", required_argument, NULL, 'k'},      {"key-password", required_argument, NULL, 'K'},
    {"format", required_argument, NULL, 'f'},   {"out", required_argument, NULL, 'o'},
    {"password", required_argument, NULL, 'P'}, {"reason", required_argument, NULL, 'r'},
    {"same-csr", no_argument, NULL, 's'},       {"cert", required_argument, NULL, 'C'},
    {"chain", required_argument, NULL, 'H'},    {"method", required_argument, NULL, 'm'},
    {"org-file", required_argument, NULL, 'g'}, {"paid", no_argument, NULL, 'x'},
    {"letter", required_argument, NULL, 'L'},   {NULL, 0, NULL, 0},
};

struct cert_args {
        int64_t id;
        unsigned seen; /* O_* bits given */
        const char *csr, *key, *key_password, *format, *out, *password, *reason, *cert, *chain;
        const char *method, *org_file, *letter;
        enum cert_profile profile;
        long days;
        const char **names; /* owned array; strings borrowed */
        size_t nnames;
};

static void cert_args_free(struct cert_args *a)
{
        free(a->names);
        a->names = NULL;
}

static int bad_option(struct cli_ctx *ctx, int c, char **argv)
{
        const char *w = optind > 0 ? argv[optind - 1] : "?";
        if (c == ':')
                return cli_usage(ctx, "option %s needs a value", w);
        return cli_usage(ctx, "unknown option %s", w);
}

/* A positive decimal integer, no sign, no spaces, no trailing bytes. */
static bool parse_pos(const char *s, long long max, long long *out)
{
        if (!s || *s < '0' || *s > '9')
                return false;
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno != 0 || !end || *end != '\0' || v <= 0 || v > max)
                return false;
        *out = v;
        return true;
}

/* "-" means: take the password from $QUILL_KEY_PASSWORD. */
static const char *password_arg(const char *s)
{
        if (s && strcmp(s, "-") == 0) {
                const char *env = getenv("QUILL_KEY_PASSWORD");
                return env ? env : "";
        }
        return s;
}

static bool add_name(struct cert_args *a, const char *name)
{
        const char **v = realloc(a->names, (a->nnames + 1) * sizeof *v);
        if (!v)
                return false;
        v[a->nnames++] = name;
        a->names = v;
        return true;
}

static const struct {
        int val;
        unsigned bit;
        const char *name;
} opt_bits[] = {
    {'c', O_CSR, "--csr"},           {'p', O_PROFILE, "--profile"},
    {'d', O_DAYS, "--days"},         {'n', O_NAME, "--name"},
    {'k', O_KEY, "--key"},           {'K', O_KEY_PASSWORD, "--key-password"},
    {'f', O_FORMAT, "--format"},     {'o', O_OUT, "--out"},
    {'P', O_PASSWORD, "--password"}, {'r', O_REASON, "--reason"},
    {'s', O_SAME_CSR, "--same-csr"}, {'C', O_CERT, "--cert"},
    {'H', O_CHAIN, "--chain"},       {'m', O_METHOD, "--method"},
    {'g', O_ORG, "--org-file"},      {'x', O_PAID, "--paid"},
    {'L', O_LETTER, "--letter"},
};

static const char *opt_name(unsigned bit)
{
        for (size_t i = 0; i < sizeof opt_bits / sizeof opt_bits[0]; i++)
                if (opt_bits[i].bit == bit)
                        return opt_bits[i].name;
        return "?";
}

static unsigned opt_bit(int val)
{
        for (size_t i = 0; i < sizeof opt_bits / sizeof opt_bits[0]; i++)
                if (opt_bits[i].val == val)
                        return opt_bits[i].bit;
        return 0;
}

/* Stores one option's value; returns 0 or an exit status. */
static int store_opt(struct cli_ctx *ctx, struct cert_args *a, int c, const char *v)
{
        long long n = 0;
        switch (c) {
        case 'c':
                a->csr = v;
                break;
        case 'k':
                a->key = v;
                break;
        case 'K':
                a->key_password = password_arg(v);
                break;
        case 'f':
                a->format = v;
                break;
        case 'o':
                a->out = v;
                break;
        case 'P':
                a->password = password_arg(v);
                break;
        case 'r':
                a->reason = v;
                break;
        case 'C':
                a->cert = v;
                break;
        case 'H':
                a->chain = v;
                break;
        case 's':
        case 'x':
                break;
        case 'm':
                a->method = v;
                break;
        case 'g':
                a->org_file = v;
                break;
        case 'L':
                a->letter = v;
                break;
        case 'p':
                if (!cert_profile_from_name(v, &a->profile))
                        return cli_usage(ctx, "unknown profile '%s'; use private, dv, ov or ev", v);
                break;
        case 'd':
                if (!parse_pos(v, 100000, &n))
                        return cli_usage(ctx, "--days must be a positive number of days, not '%s'",
                                         v);
                a->days = (long)n;
                break;
        case 'n':
                if (!add_name(a, v))
                        return cli_usage(ctx, "out of memory while reading --name");
                break;
        default:
                return QEXIT_INTERNAL;
        }
        return 0;
}

struct cert_cmd {
        const char *name;
        bool signs; /* may ask the signer for a signature (starts one) */
        bool takes_id;
        unsigned allowed;  /* O_* bits it accepts */
        unsigned required; /* O_* bits it cannot do without */
        int (*run)(struct cli_ctx *ctx, const struct cert_args *a);
};

/* Parses argv (argv[0] is the subcommand word) for `cmd`; 0 or an exit status. */
static int parse_args(struct cli_ctx *ctx, const struct cert_cmd *cmd, int argc, char **argv,
                      struct cert_args *a)
{
        optind = 0;
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, ":", cert_opts, NULL)) != -1) {
                unsigned bit = opt_bit(c);
                if (bit == 0)
                        return bad_option(ctx, c, argv);
                if (!(cmd->allowed & bit))
                        return cli_usage(ctx, "cert %s does not take %s", cmd->name, opt_name(bit));
                if ((a->seen & bit) && bit != O_NAME)
                        return cli_usage(ctx, "%s given twice", opt_name(bit));
                a->seen |= bit;
                int rc = store_opt(ctx, a, c, optarg);
                if (rc != 0)
                        return rc;
        }
        int want = cmd->takes_id ? 1 : 0;
        if (argc - optind != want) {
                if (want)
                        return cli_usage(ctx, "cert %s needs exactly one certificate ID",
                                         cmd->name);
                return cli_usage(ctx, "cert %s takes no argument '%s'", cmd->name, argv[optind]);
        }
        long long id = 0;
        if (want && !parse_pos(argv[optind], INT64_MAX, &id))
                return cli_usage(ctx, "certificate ID must be a positive integer, not '%s'",
                                 argv[optind]);
        a->id = (int64_t)id;
        return 0;
}

/* Says which of `bits` are missing; 0 when all were given. */
static int require(struct cli_ctx *ctx, const struct cert_cmd *cmd, const struct cert_args *a,
                   unsigned bits)
{
        for (unsigned b = 1; b <= O_CHAIN; b <<= 1)
                if ((bits & b) && !(a->seen & b))
                        return cli_usage(ctx, "cert %s needs %s", cmd->name, opt_name(b));
        return 0;
}

/* ---- shared helpers for the run functions ---- */

/* floor((not_after - now) / 1 day) */
static long long days_until(qtime_t not_after, qtime_t now)
{
        qtime_t diff = not_after - now;
        return (long long)(diff / QTIME_DAY - (diff < 0 && diff % QTIME_DAY ? 1 : 0));
}

static int open_svc(struct cli_ctx *ctx, struct qerr_info *ei)
{
        qerr_clear(ei);
        return cli_open_service(ctx, false, ei) == QERR_OK ? 0 : cli_fail(ctx, ei);
}

static void print_names(char *const *names, size_t n)
{
        for (size_t i = 0; i < n; i++)
                printf("%s%s", i ? "," : "", names[i]);
}

/* One-paragraph text form of a certificate. */
static void print_cert_text(const struct cert_rec *c, qtime_t now)
{
        char nb[40], na[40], ra[40];
        printf("id:                %lld\n", (long long)c->id);
        printf("serial:            %s\n", c->serial);
        printf("status:            %s\n", cert_status_name(cert_effective_status(c, now)));
        printf("names:             ");
        print_names(c->names, c->nnames);
        printf("\nnot_before:        %s\n", qtime_fmt(c->not_before, nb, sizeof nb));
        printf("not_after:         %s (%lld days left)\n", qtime_fmt(c->not_after, na, sizeof na),
               days_until(c->not_after, now));
        printf("origin:            %s\n", cert_origin_name(c->origin));
        if (c->parent_id > 0)
                printf("parent_id:         %lld\n", (long long)c->parent_id);
        printf("profile:           %s\n", cert_profile_name(c->profile));
        printf("key_algorithm:     %s\n", c->key_algorithm);
        if (c->ca_id > 0)
                printf("ca_id:             %lld\n", (long long)c->ca_id);
        printf("issuer:            %s\n", c->issuer ? c->issuer : "");
        if (c->revoked_at)
                printf("revoked_at:        %s\n", qtime_fmt(c->revoked_at, ra, sizeof ra));
        if (c->revoke_reason >= 0)
                printf("revocation_reason: %s\n", revoke_reason_name(c->revoke_reason));
        printf("key_held:          %s\n", c->key_blob ? "yes" : "no");
}

/* {"certificate": ...}, or one line of text starting with `verb`. */
static int print_cert(struct cli_ctx *ctx, const struct cert_rec *c, const char *verb)
{
        qtime_t now = qtime_now();
        if (ctx->json)
                return cli_print_json(json_pack("{s:o}", "certificate", json_of_cert(c, now)));
        char na[40];
        printf("%s certificate %lld (serial %s) for ", verb, (long long)c->id, c->serial);
        print_names(c->names, c->nnames);
        printf(", valid until %s\n", qtime_fmt(c->not_after, na, sizeof na));
        return QEXIT_OK;
}

/* ---- the subcommands ---- */

static int run_sign(struct cli_ctx *ctx, const struct cert_args *a)
{
        struct qerr_info ei;
        struct qbuf csr;
        qerr_clear(&ei);
        qbuf_init(&csr, MAX_CSR_BYTES);
        if (fs_read_input(a->csr, &csr, QERR_CSR_INVALID, &ei) != QERR_OK) {
                qbuf_free(&csr);
                return cli_fail(ctx, &ei);
        }
        int rc = open_svc(ctx, &ei);
        struct cert_rec *c = NULL;
        if (rc == 0) {
                struct sign_req r = {csr.data, csr.len, a->profile, a->days, NULL};
                rc = service_cert_sign(ctx->svc, &r, &c, &ei) == QERR_OK
                         ? print_cert(ctx, c, "issued")
                         : cli_fail(ctx, &ei);
        }
        qbuf_free(&csr);
        cert_rec_free(c);
        return rc;
}

/* OV/EV organisation details from a JSON file: {"organization": "...",
 * "country": "DE", "unit": ..., "state": ..., "locality": ...}. */
static int read_org(struct cli_ctx *ctx, const char *path, json_t **doc, struct org_fields *f)
{
        json_error_t jerr;
        struct qbuf b;
        struct qerr_info ei;
        qbuf_init(&b, 64 * 1024);
        if (fs_read_input(path, &b, QERR_USAGE, &ei) != QERR_OK) {
                qbuf_free(&b);
                return cli_fail(ctx, &ei);
        }
        *doc = json_loadb((const char *)b.data, b.len, JSON_REJECT_DUPLICATES, &jerr);
        qbuf_free(&b);
        if (!json_is_object(*doc))
                return cli_usage(ctx, "%s: not a JSON object (%s, line %d)", path, jerr.text,
                                 jerr.line);
        const char *keys[] = {"organization", "unit", "country", "state", "locality"};
        const char **slots[] = {&f->organization, &f->unit, &f->country, &f->state, &f->locality};
        const char *k;
        json_t *v;
        json_object_foreach(*doc, k, v)
        {
                size_t i = 0;
                while (i < 5 && strcmp(keys[i], k) != 0)
                        i++;
                if (i == 5 || !json_is_string(v))
                        return cli_usage(ctx,
                                         "%s: unknown or non-string field \"%s\"; use "
                                         "organization, unit, country, state, locality",
                                         path, k);
                *slots[i] = json_string_value(v);
        }
        return 0;
}

static int run_order_apply(struct cli_ctx *ctx, const struct cert_args *a)
{
        struct qerr_info ei;
        struct qbuf csr;
        json_t *org = NULL;
        struct org_fields f = {0};
        qbuf_init(&csr, MAX_CSR_BYTES);
        int rc = 0;
        if (!a->method)
                rc = cli_usage(ctx, "public profiles need --method dns or --method file");
        if (rc == 0 && a->csr && fs_read_input(a->csr, &csr, QERR_CSR_INVALID, &ei) != QERR_OK)
                rc = cli_fail(ctx, &ei);
        if (rc == 0 && a->org_file)
                rc = read_org(ctx, a->org_file, &org, &f);
        if (rc == 0)
                rc = open_svc(ctx, &ei);
        struct order_rec *o = NULL;
        if (rc == 0) {
                struct order_apply_req r = {.names = a->names,
                                            .nnames = a->nnames,
                                            .profile = a->profile,
                                            .method = a->method,
                                            .key_alg = a->key,
                                            .key_password = a->key_password,
                                            .csr = a->csr ? csr.data : NULL,
                                            .csr_len = csr.len,
                                            .org = a->org_file ? &f : NULL,
                                            .days = a->days,
                                            .paid = (a->seen & O_PAID) != 0};
                if (service_order_apply(ctx->svc, &r, &o, &ei) == QERR_OK)
                        rc = cli_print_order(ctx, o);
                else
                        rc = cli_fail(ctx, &ei);
        }
        order_rec_free(o);
        json_decref(org);
        qbuf_free(&csr);
        return rc;
}

static int run_apply(struct cli_ctx *ctx, const struct cert_args *a)
{
        if (cert_profile_is_public(a->profile))
                return run_order_apply(ctx, a);
        if (a->seen & (O_METHOD | O_ORG | O_CSR | O_PAID))
                return cli_usage(ctx, "--method, --org-file, --csr and --paid go with --profile "
                                      "dv, ov or ev; for the private profile use 'cert sign "
                                      "--csr'");
        if (!a->nnames || !a->key)
                return cli_usage(ctx, "cert apply needs --name and --key");
        struct qerr_info ei;
        int rc = open_svc(ctx, &ei);
        if (rc != 0)
                return rc;
        struct apply_req r = {a->names,   a->nnames, a->key, a->key_password,
                              a->profile, a->days,   NULL};
        struct cert_rec *c = NULL;
        rc = service_cert_apply(ctx->svc, &r, &c, &ei) == QERR_OK ? print_cert(ctx, c, "issued")
                                                                  : cli_fail(ctx, &ei);
        cert_rec_free(c);
        return rc;
}

static json_t *certs_json(struct cert_rec **v, size_t n, qtime_t now)
{
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
                if (json_array_append_new(arr, json_of_cert(v[i], now)) != 0) {
                        json_decref(arr);
                        return NULL;
                }
        return arr;
}

static void print_cert_table(struct cert_rec **v, size_t n, qtime_t now)
{
        printf("%-6s %-40s %-18s %-20s %s\n", "ID", "SERIAL", "STATUS", "NOT_AFTER", "NAMES");
        for (size_t i = 0; i < n; i++) {
                char na[40];
                printf("%-6lld %-40s %-18s %-20s ", (long long)v[i]->id, v[i]->serial,
                       cert_status_name(cert_effective_status(v[i], now)),
                       qtime_fmt(v[i]->not_after, na, sizeof na));
                print_names(v[i]->names, v[i]->nnames);
                printf("\n");
        }
}

/* Every certificate of the tenant, oldest first (the service pages
 * newest first). */
static enum qerr all_certs(struct service *svc, struct cert_rec ***out, size_t *nout,
                           struct qerr_info *ei)
{
        struct cert_rec **all = NULL;
        size_t n = 0;
        struct cert_query q = {.origin = -1, .limit = 500};
        bool more = true;
        enum qerr rc = QERR_OK;
        while (rc == QERR_OK && more) {
                struct cert_rec **page = NULL;
                size_t np = 0;
                rc = service_cert_list(svc, &q, &page, &np, &more, ei);
                if (rc != QERR_OK)
                        break;
                struct cert_rec **grown = realloc(all, (n + np + 1) * sizeof *all);
                if (!grown) {
                        store_free_certs(page, np);
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                        break;
                }
                all = grown;
                memcpy(all + n, page, np * sizeof *page);
                n += np;
                free(page);
                if (np)
                        q.before_id = all[n - 1]->id;
        }
        if (rc != QERR_OK) {
                store_free_certs(all, n);
                return rc;
        }
        for (size_t i = 0; i < n / 2; i++) {
                struct cert_rec *t = all[i];
                all[i] = all[n - 1 - i];
                all[n - 1 - i] = t;
        }
        *out = all;
        *nout = n;
        return QERR_OK;
}

static int run_list(struct cli_ctx *ctx, const struct cert_args *a)
{
        (void)a;
        struct qerr_info ei;
        int rc = open_svc(ctx, &ei);
        if (rc != 0)
                return rc;
        struct cert_rec **v = NULL;
        size_t n = 0;
        if (all_certs(ctx->svc, &v, &n, &ei) != QERR_OK)
                return cli_fail(ctx, &ei);
        qtime_t now = qtime_now();
        if (ctx->json)
                rc = cli_print_json(json_pack("{s:o}", "certificates", certs_json(v, n, now)));
        else
                print_cert_table(v, n, now);
        store_free_certs(v, n);
        return rc;
}

static void print_events_text(const struct event_rec *e, size_t n)
{
        printf("events:\n");
        for (size_t i = 0; i < n; i++) {
                char at[40];
                printf("  %s  %-20s %s -> %s%s%s\n", qtime_fmt(e[i].at, at, sizeof at), e[i].actor,
                       e[i].from_status[0] ? e[i].from_status : "-",
                       e[i].to_status[0] ? e[i].to_status : "-", e[i].reason ? "  " : "",
                       e[i].reason ? e[i].reason : "");
        }
}

static int show_json(const struct cert_rec *c, const struct event_rec *e, size_t n)
{
        json_t *o = json_of_cert(c, qtime_now());
        if (o && json_object_set_new(o, "events", json_of_events(e, n)) != 0) {
                json_decref(o);
                o = NULL;
        }
        return cli_print_json(o ? json_pack("{s:o}", "certificate", o) : NULL);
}

static int run_show(struct cli_ctx *ctx, const struct cert_args *a)
{
        struct qerr_info ei;
        int rc = open_svc(ctx, &ei);
        if (rc != 0)
                return rc;
        struct cert_rec *c = NULL;
        struct event_rec *e = NULL;
        size_t n = 0;
        if (service_cert_get(ctx->svc, a->id, &c, &e, &n, &ei) != QERR_OK)
                return cli_fail(ctx, &ei);
        if (ctx->json) {
                rc = show_json(c, e, n);
        } else {
                print_cert_text(c, qtime_now());
                print_events_text(e, n);
                if (c->cert_pem)
                        fputs(c->cert_pem, stdout);
        }
        cert_rec_free(c);
        store_free_events(e, n);
        return rc;
}

/* The service's "one path per line" list as a JSON array / text lines. */
static int print_files(struct cli_ctx *ctx, const struct qbuf *w)
{
        json_t *arr = json_array();
        const char *p = w->len ? qbuf_str(w) : "";
        while (arr && *p) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                if (len && json_array_append_new(arr, json_stringn(p, len)) != 0) {
                        json_decref(arr);
                        arr = NULL;
                }
                if (len && !ctx->json)
                        printf("wrote %.*s\n", (int)len, p);
                p += len + (nl ? 1 : 0);
        }
        if (ctx->json)
                return cli_print_json(arr ? json_pack("{s:o}", "files", arr) : NULL);
        json_decref(arr);
        return QEXIT_OK;
}

static int run_download(struct cli_ctx *ctx, const struct cert_args *a)
{
        struct qerr_info ei;
        int rc = open_svc(ctx, &ei);
        if (rc != 0)
                return rc;
        struct download_req r = {a->id, a->format, a->out, a->password, a->key_password, NULL};
        struct qbuf w;
        qbuf_init(&w, MAX_PEM_BYTES);
        rc = service_cert_download(ctx->svc, &r, &w, &ei) == QERR_OK ? print_files(ctx, &w)
                                                                     : cli_fail(ctx, &ei);
        qbuf_free(&w);
        return rc;
}

static json_t *ids_json(const int64_t *ids, size_t n)
{
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
                if (json_array_append_new(arr, json_integer((json_int_t)ids[i])) != 0) {
                        json_decref(arr);
                        return NULL;
                }
        return arr;
}

static int print_revoked(struct cli_ctx *ctx, const struct cert_rec *c, const int64_t *ids,
                         size_t n)
{
        if (ctx->json)
                return cli_print_json(json_pack("{s:o,s:o}", "certificate",
                                                json_of_cert(c, qtime_now()), "revoked",
                                                ids_json(ids, n)));
        printf("revoked certificate %lld (now %s)", (long long)c->id,
               cert_status_name(cert_effective_status(c, qtime_now())));
        /* its reissues, and (keyCompromise) the tenant's other certificates
         * with the same key */
        const char *sep = "; also revoked with it: ";
        for (size_t i = 0; i < n; i++)
                if (ids[i] != c->id) {
                        printf("%s%lld", sep, (long long)ids[i]);
                        sep = ", ";
                }
        printf("\n");
        return QEXIT_OK;
}

/* A DV revocation or a reissue that waits for proof of control: the
 * certificate as it stands and the order to validate. */
static int print_pending(struct cli_ctx *ctx, const struct cert_rec *c, const struct order_rec *o,
                         const char *what)
{
        if (ctx->json)
                return cli_print_json(
                    json_pack("{s:o,s:o,s:o}", "certificate", json_of_cert(c, qtime_now()),
                              "revoked", json_array(), "order", json_of_order(o, qtime_now())));
        printf("the %s of certificate %lld waits for proof of control of its names "
               "(until %s):\n",
               what, (long long)c->id, "the order's deadline");
        return cli_print_order(ctx, o);
}

static int run_revoke(struct cli_ctx *ctx, const struct cert_args *a)
{
        struct qerr_info ei;
        qerr_clear(&ei);
        int reason = 0;
        if (!revoke_reason_from_name(a->reason, &reason)) {
                qerr_set(&ei, QERR_REVOKE_REASON,
                         "unknown revocation reason '%s'; use unspecified, keyCompromise, "
                         "affiliationChanged, superseded, cessationOfOperation or "
                         "privilegeWithdrawn",
                         a->reason);
                return cli_fail(ctx, &ei);
        }
        int rc = open_svc(ctx, &ei);
        if (rc != 0)
                return rc;
        struct qbuf letter;
        /* the upload bound (1.4 MiB) is above the letter limit (1.4 MB), so the
         * service's check reports an over-long letter with the limit */
        qbuf_init(&letter, MAX_UPLOAD_BYTES);
        if (a->letter && fs_read_input(a->letter, &letter, QERR_LETTER_INVALID, &ei) != QERR_OK) {
                qbuf_free(&letter);
                return cli_fail(ctx, &ei);
        }
        struct revoke_req req = {.id = a->id,
                                 .reason = reason,
                                 .method = a->method,
                                 .letter = letter.data,
                                 .letter_len = letter.len};
        struct revoke_out res;
        struct cert_rec *c = NULL;
        struct order_rec *o = NULL;
        if (service_cert_revoke(ctx->svc, &req, &res, &ei) != QERR_OK ||
            service_cert_get(ctx->svc, a->id, &c, NULL, NULL, &ei) != QERR_OK ||
            (res.proof_order && service_order_get(ctx->svc, res.proof_order, &o, &ei) != QERR_OK))
                rc = cli_fail(ctx, &ei);
        else if (o)
                rc = print_pending(ctx, c, o, "revocation");
        else if (res.review_id && ctx->json)
                rc = cli_print_json(json_pack("{s:o,s:o,s:I}", "certificate",
                                              json_of_cert(c, qtime_now()), "revoked", json_array(),
                                              "review_id", (json_int_t)res.review_id));
        else if (res.review_id)
                printf("the revocation of certificate %lld waits for review %lld of the signed "
                       "letter (quill review approve|reject %lld)\n",
                       (long long)c->id, (long long)res.review_id, (long long)res.review_id);
        else
                rc = print_revoked(ctx, c, res.revoked, res.nrevoked);
        free(res.revoked);
        cert_rec_free(c);
        order_rec_free(o);
        qbuf_free(&letter);
        return rc;
}

static int run_reissue(struct cli_ctx *ctx, const struct cert_args *a)
{
        unsigned choice = a->seen & (O_SAME_CSR | O_CSR | O_KEY);
        if (choice != O_SAME_CSR && choice != O_CSR && choice != O_KEY)
                return cli_usage(ctx, "cert reissue needs exactly one of --same-csr, --csr FILE "
                                      "or --key ALG");
        if ((a->seen & O_KEY_PASSWORD) && choice != O_KEY)
                return cli_usage(ctx, "--key-password goes with --key only");
        struct qerr_info ei;
        qerr_clear(&ei);
        struct reissue_req r = {.id = a->id, .reason = a->reason};
        struct qbuf csr;
        qbuf_init(&csr, MAX_CSR_BYTES);
        r.csr_source = choice == O_CSR   ? REISSUE_PASTED_CSR
                       : choice == O_KEY ? REISSUE_NEW_KEY
                                         : REISSUE_SAME_CSR;
        r.key_alg = a->key;
        r.key_password = a->key_password;
        int rc = 0;
        if (choice == O_CSR && fs_read_input(a->csr, &csr, QERR_CSR_INVALID, &ei) != QERR_OK)
                rc = cli_fail(ctx, &ei);
        r.csr = csr.data;
        r.csr_len = csr.len;
        struct cert_rec *c = NULL;
        if (rc == 0)
                rc = open_svc(ctx, &ei);
        int64_t proof = 0;
        struct order_rec *o = NULL;
        r.method = a->method;
        if (rc == 0 && service_cert_reissue(ctx->svc, &r, &c, &proof, &ei) != QERR_OK)
                rc = cli_fail(ctx, &ei);
        else if (rc == 0 && proof) {
                struct cert_rec *orig = NULL;
                if (service_order_get(ctx->svc, proof, &o, &ei) != QERR_OK ||
                    service_cert_get(ctx->svc, a->id, &orig, NULL, NULL, &ei) != QERR_OK)
                        rc = cli_fail(ctx, &ei);
                else if (ctx->json)
                        rc = cli_print_json(json_pack("{s:n,s:I,s:o}", "certificate", "parent_id",
                                                      (json_int_t)a->id, "order",
                                                      json_of_order(o, qtime_now())));
                else
                        rc = print_pending(ctx, orig, o, "reissue");
                cert_rec_free(orig);
        } else if (rc == 0 && ctx->json)
                rc = cli_print_json(json_pack("{s:o,s:I}", "certificate",
                                              json_of_cert(c, qtime_now()), "parent_id",
                                              (json_int_t)a->id));
        else if (rc == 0)
                rc = print_cert(ctx, c, "reissued");
        qbuf_free(&csr);
        cert_rec_free(c);
        order_rec_free(o);
        return rc;
}

static int run_delete(struct cli_ctx *ctx, const struct cert_args *a)
{
        struct qerr_info ei;
        int rc = open_svc(ctx, &ei);
        if (rc != 0)
                return rc;
        if (service_cert_delete(ctx->svc, a->id, &ei) != QERR_OK)
                return cli_fail(ctx, &ei);
        if (ctx->json)
                return cli_print_json(json_pack("{s:I}", "deleted", (json_int_t)a->id));
        printf("deleted certificate %lld\n", (long long)a->id);
        return QEXIT_OK;
}

static int print_uploaded(struct cli_ctx *ctx, const struct cert_rec *c,
                          const struct lint_report *lint)
{
        qtime_t now = qtime_now();
        long long days = days_until(c->not_after, now);
        bool expired = c->not_after < now;
        if (ctx->json)
                return cli_print_json(json_pack(
                    "{s:o,s:I,s:b,s:o}", "certificate", json_of_cert(c, now), "expires_in_days",
                    (json_int_t)days, "expired", expired, "lint", json_of_lint(lint)));
        print_cert(ctx, c, "uploaded");
        /* the findings inform; a third-party certificate is its owner's business */
        cli_print_lint(stdout, lint, "warning: lint ");
        if (expired)
                printf("warning: this certificate expired %lld days ago\n", -days);
        else
                printf("expires in %lld days\n", days);
        return QEXIT_OK;
}

static int run_upload(struct cli_ctx *ctx, const struct cert_args *a)
{
        struct qerr_info ei;
        qerr_clear(&ei);
        struct qbuf cert, key, chain;
        qbuf_init(&cert, MAX_UPLOAD_BYTES);
        qbuf_init(&key, MAX_UPLOAD_BYTES);
        qbuf_init(&chain, MAX_UPLOAD_BYTES);
        int rc = 0;
        if (fs_read_input(a->cert, &cert, QERR_UPLOAD_CERT, &ei) != QERR_OK ||
            fs_read_input(a->key, &key, QERR_KEY_INVALID, &ei) != QERR_OK ||
            (a->chain && fs_read_input(a->chain, &chain, QERR_UPLOAD_CHAIN, &ei) != QERR_OK))
                rc = cli_fail(ctx, &ei);
        if (rc == 0)
                rc = open_svc(ctx, &ei);
        struct cert_rec *c = NULL;
        struct lint_report lint;
        lint_report_init(&lint);
        if (rc == 0) {
                struct upload_req r = {.cert_pem = qbuf_str(&cert),
                                       .cert_len = cert.len,
                                       .key_pem = qbuf_str(&key),
                                       .key_len = key.len,
                                       .key_password = a->key_password,
                                       .chain_pem = a->chain ? qbuf_str(&chain) : NULL,
                                       .chain_len = chain.len,
                                       .lint = &lint};
                rc = service_cert_upload(ctx->svc, &r, &c, &ei) == QERR_OK
                         ? print_uploaded(ctx, c, &lint)
                         : cli_fail(ctx, &ei);
        }
        lint_report_free(&lint);
        cert_rec_free(c);
        qbuf_free(&cert);
        qbuf_free(&key);
        qbuf_free(&chain);
        return rc;
}

/* ---- dispatch ---- */

static const struct cert_cmd cert_cmds[] = {
    {"sign", true, false, O_CSR | O_PROFILE | O_DAYS, O_CSR, run_sign},
    {"apply", true, false,
     O_NAME | O_KEY | O_KEY_PASSWORD | O_PROFILE | O_DAYS | O_CSR | O_METHOD | O_ORG | O_PAID, 0,
     run_apply},
    {"list", false, false, 0, 0, run_list},
    {"show", false, true, 0, 0, run_show},
    {"download", false, true, O_FORMAT | O_OUT | O_PASSWORD | O_KEY_PASSWORD, O_FORMAT | O_OUT,
     run_download},
    {"revoke", true, true, O_REASON | O_METHOD | O_LETTER, O_REASON, run_revoke},
    {"reissue", true, true, O_SAME_CSR | O_CSR | O_KEY | O_KEY_PASSWORD | O_REASON | O_METHOD,
     O_REASON, run_reissue},
    {"delete", false, true, 0, 0, run_delete},
    {"upload", false, false, O_CERT | O_KEY | O_CHAIN | O_KEY_PASSWORD, O_CERT | O_KEY, run_upload},
};

static const char cert_usage[] =
    "Usage: quill cert sign --csr FILE [--profile P] [--days N]\n"
    "       quill cert apply --name NAME [--name NAME ...] --key ALG [--key-password P]\n"
    "                        [--profile private] [--days N]\n"
    "       quill cert apply --profile dv|ov|ev --name NAME ... (--key ALG | --csr FILE)\n"
    "                        --method dns|file [--org-file F] [--days N] [--paid]\n"
    "       quill cert list\n"
    "       quill cert show ID\n"
    "       quill cert download ID --format pem|nginx|apache|iis|tomcat --out DIR\n"
    "                           [--password P] [--key-password P]\n"
    "       quill cert revoke ID --reason REASON [--method dns|file] [--letter FILE]\n"
    "                         (DV: proof of control; OV/EV: signed letter for review)\n"
    "       quill cert reissue ID (--same-csr | --csr FILE | --key ALG [--key-password P])\n"
    "                          --reason TEXT [--method dns|file]\n"
    "       quill cert delete ID\n"
    "       quill cert upload --cert FILE --key FILE [--chain FILE] [--key-password P]\n";

int cmd_cert(struct cli_ctx *ctx, int argc, char **argv)
{
        if (argc < 2)
                return cli_usage(ctx, "usage: quill cert sign|apply|list|show|download|revoke|"
                                      "reissue|delete|upload ...");
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
                fputs(cert_usage, stdout);
                return QEXIT_OK;
        }
        const struct cert_cmd *cmd = NULL;
        for (size_t i = 0; i < sizeof cert_cmds / sizeof cert_cmds[0]; i++)
                if (strcmp(argv[1], cert_cmds[i].name) == 0)
                        cmd = &cert_cmds[i];
        if (!cmd)
                return cli_usage(ctx, "unknown cert command '%s'", argv[1]);
        struct cert_args a = {.profile = PROFILE_PRIVATE};
        int rc = parse_args(ctx, cmd, argc - 1, argv + 1, &a);
        if (rc == 0)
                rc = require(ctx, cmd, &a, cmd->required);
        ctx->no_signer = !cmd->signs;
        if (rc == 0)
                rc = cmd->run(ctx, &a);
        cert_args_free(&a);
        return rc;
}
