/*
 * cmd_caa.c - `quill caa check`: the CAA decision of RULES.md §3 for one or
 * more names, through the real DNS (or the forwarder of [dns] resolver /
 * --resolver).
 *
 *   quill caa check [--resolver HOST:PORT] --identity DOMAIN [--identity ...]
 *                   [--account-uri URI] [--method dns-01|http-01|tls-alpn-01|dns|file]
 *                   [--json] NAME...
 *
 * One line per name: "NAME allowed", "NAME denied: <reason>" or
 * "NAME error: <reason>" (the reason names where the relevant set was found
 * and its records). With --json one object:
 * {"results":[{"name","outcome":"allowed|denied|error","where","records","reason"}]}.
 * Identities default to [caa] identities.
 *
 * Exit status (this command's own contract, used by scripts and later
 * tools; it differs from the general CLI one): 0 every name allowed, 1 any
 * denied, 2 any lookup failed (and none denied), 3 usage error (bad option,
 * name, method, identity or resolver address).
 *
 * Needs no data directory. The configuration (--config FILE, else
 * <data>/quill.conf when it exists, else the defaults) is loaded here rather
 * than by main(), so that a bad one exits 3 like any usage error. Memory:
 * the decisions array is owned here and freed before returning. Threads:
 * main thread only.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/fsutil.h"
#include "cli.h"

#define CAA_EXIT_ALLOWED 0
#define CAA_EXIT_DENIED 1
#define CAA_EXIT_ERROR 2
#define CAA_EXIT_USAGE 3
#define CAA_MAX_IDENTITY_ARGS 32

static const char caa_usage[] =
    "Usage: quill caa check [--resolver HOST:PORT] --identity DOMAIN [--identity DOMAIN ...]\n"
    "                       [--account-uri URI] [--method dns-01|http-01|tls-alpn-01|dns|file]\n"
    "                       [--json] NAME...\n"
    "Exit status: 0 all allowed, 1 any denied, 2 any lookup failed, 3 usage error.\n";

static int usage(struct cli_ctx *ctx, const char *what, const char *arg)
{
        (void)cli_usage(ctx, "caa: %s%s%s", what, arg ? " " : "", arg ? arg : "");
        return CAA_EXIT_USAGE;
}

static const char *outcome_word(enum caa_outcome o)
{
        switch (o) {
        case CAA_ALLOWED:
                return "allowed";
        case CAA_DENIED:
                return "denied";
        default:
                return "error";
        }
}

static int print_results(struct cli_ctx *ctx, char **names, size_t n, const struct caa_decision *d)
{
        bool denied = false, failed = false;
        json_t *arr = ctx->json ? json_array() : NULL;
        for (size_t i = 0; i < n; i++) {
                denied = denied || d[i].outcome == CAA_DENIED;
                failed = failed || d[i].outcome == CAA_LOOKUP_ERROR;
                if (!ctx->json) {
                        if (d[i].outcome == CAA_ALLOWED)
                                printf("%s allowed\n", names[i]);
                        else
                                printf("%s %s: %s\n", names[i], outcome_word(d[i].outcome),
                                       d[i].reason);
                        continue;
                }
                json_t *o =
                    json_pack("{s:o,s:s,s:o,s:o,s:o}", "name", json_of_text(names[i]), "outcome",
                              outcome_word(d[i].outcome), "where",
                              d[i].where[0] ? json_of_text(d[i].where) : json_null(), "records",
                              d[i].records[0] ? json_of_text(d[i].records) : json_null(), "reason",
                              json_of_text(d[i].reason));
                if (!arr || !o || json_array_append_new(arr, o) != 0) {
                        json_decref(arr);
                        struct qerr_info ei;
                        qerr_set(&ei, QERR_NOMEM, NULL);
                        (void)cli_fail(ctx, &ei);
                        return CAA_EXIT_ERROR;
                }
        }
        if (ctx->json && cli_print_json(json_pack("{s:o}", "results", arr)) != QEXIT_OK)
                return CAA_EXIT_ERROR;
        return denied ? CAA_EXIT_DENIED : failed ? CAA_EXIT_ERROR : CAA_EXIT_ALLOWED;
}

static int caa_check_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"resolver", required_argument, NULL, 'r'},
            {"identity", required_argument, NULL, 'i'},
            {"account-uri", required_argument, NULL, 'a'},
            {"method", required_argument, NULL, 'm'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        const char *ids[CAA_MAX_IDENTITY_ARGS];
        struct caa_check_req req = {NULL, 0, NULL, 0, NULL, NULL, NULL};
        optind = 0;
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        req.resolver = optarg;
                        break;
                case 'i':
                        if (req.nidentities == CAA_MAX_IDENTITY_ARGS)
                                return usage(ctx, "too many --identity options", NULL);
                        ids[req.nidentities++] = optarg;
                        break;
                case 'a':
                        req.account_uri = optarg;
                        break;
                case 'm':
                        req.method = optarg;
                        break;
                case 'h':
                        fputs(caa_usage, stdout);
                        return CAA_EXIT_ALLOWED;
                case ':':
                        return usage(ctx, "option needs a value:", argv[optind - 1]);
                default:
                        if (optopt > 0 && optopt < 128) {
                                char o[3] = {'-', (char)optopt, '\0'};
                                return usage(ctx, "unknown option", o);
                        }
                        return usage(ctx, "unknown option", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return usage(ctx, "caa check needs at least one NAME", NULL);
        if (req.resolver && !req.resolver[0])
                return usage(ctx, "--resolver needs HOST:PORT", NULL);
        req.names = (const char *const *)(argv + optind);
        req.nnames = (size_t)(argc - optind);
        req.identities = req.nidentities ? ids : NULL;

        struct caa_decision *d = calloc(req.nnames, sizeof *d);
        if (!d) {
                struct qerr_info ei;
                qerr_set(&ei, QERR_NOMEM, NULL);
                (void)cli_fail(ctx, &ei);
                return CAA_EXIT_ERROR;
        }
        struct qerr_info ei;
        qerr_clear(&ei);
        enum qerr rc = service_caa_check(&ctx->cfg, &req, d, &ei);
        int ex;
        if (rc == QERR_OK) {
                ex = print_results(ctx, argv + optind, req.nnames, d);
        } else {
                (void)cli_fail(ctx, &ei);
                ex = (rc == QERR_USAGE || rc == QERR_CONFIG) ? CAA_EXIT_USAGE : CAA_EXIT_ERROR;
        }
        free(d);
        return ex;
}

int cmd_caa(struct cli_ctx *ctx, int argc, char **argv)
{
        struct qerr_info ei;
        qerr_clear(&ei);
        if (cli_load_config(ctx, &ei) != QERR_OK) {
                (void)cli_fail(ctx, &ei);
                return CAA_EXIT_USAGE;
        }
        if (argc < 2)
                return usage(ctx, "which one? 'quill caa check ...'", NULL);
        if (strcmp(argv[1], "check") == 0)
                return caa_check_cmd(ctx, argc - 1, argv + 1);
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
            strcmp(argv[1], "help") == 0) {
                fputs(caa_usage, stdout);
                return CAA_EXIT_ALLOWED;
        }
        return usage(ctx, "unknown subcommand", argv[1]);
}
