/*
 * cmd_ca.c - `quill ca init` and `quill ca list`: decode the options, call
 * service_ca_init / service_ca_list, print the CAs.
 *
 * Memory: the CA records come from the service and are freed here
 * (ca_rec_free, store_free_cas) before returning; argv strings are borrowed.
 * Threads: main thread only.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int bad_option(struct cli_ctx *ctx, int c, char **argv)
{
        const char *w = optind > 0 ? argv[optind - 1] : "?";
        if (c == ':')
                return cli_usage(ctx, "option %s needs a value", w);
        return cli_usage(ctx, "unknown option %s", w);
}

static void print_ca_line(const struct ca_rec *c, bool mark)
{
        char nb[40], na[40];
        printf("ca %lld %-7s %-7s %s  %s .. %s%s\n", (long long)c->id,
               c->is_root ? "root" : "issuing", c->key_algorithm, c->subject ? c->subject : "",
               qtime_fmt(c->not_before, nb, sizeof nb), qtime_fmt(c->not_after, na, sizeof na),
               mark ? "  (this one)" : "");
}

static json_t *cas_json(struct ca_rec **v, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_of_ca(v[i])) != 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

/* Prints the CA list; `made` (may be NULL) is the CA just created. */
static int print_cas(struct cli_ctx *ctx, const struct ca_rec *made, struct ca_rec **v, size_t n)
{
        if (ctx->json) {
                if (made)
                        return cli_print_json(
                            json_pack("{s:o,s:o}", "ca", json_of_ca(made), "cas", cas_json(v, n)));
                return cli_print_json(json_pack("{s:o}", "cas", cas_json(v, n)));
        }
        if (n == 0)
                printf("no CAs yet; run 'quill ca init'\n");
        for (size_t i = 0; i < n; i++)
                print_ca_line(v[i], made && v[i]->id == made->id);
        return QEXIT_OK;
}

static int ca_init(struct cli_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"root-key", required_argument, NULL, 'r'},
            {"key", required_argument, NULL, 'k'},
            {"subject", required_argument, NULL, 's'},
            {NULL, 0, NULL, 0},
        };
        struct ca_init_req req = {NULL, NULL, NULL};
        optind = 0;
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                if (c == 'r')
                        req.root_alg = optarg;
                else if (c == 'k')
                        req.issuing_alg = optarg;
                else if (c == 's')
                        req.subject = optarg;
                else
                        return bad_option(ctx, c, argv);
        }
        if (optind < argc)
                return cli_usage(ctx, "ca init takes no argument '%s'", argv[optind]);

        struct qerr_info ei;
        qerr_clear(&ei);
        struct ca_rec *made = NULL;
        struct ca_rec **v = NULL;
        size_t n = 0;
        if (cli_open_service(ctx, true, &ei) != QERR_OK ||
            service_ca_init(ctx->svc, &req, &made, &ei) != QERR_OK ||
            service_ca_list(ctx->svc, &v, &n, &ei) != QERR_OK) {
                ca_rec_free(made);
                return cli_fail(ctx, &ei);
        }
        int rc = print_cas(ctx, made, v, n);
        ca_rec_free(made);
        store_free_cas(v, n);
        return rc;
}

static int ca_list(struct cli_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{NULL, 0, NULL, 0}};
        optind = 0;
        opterr = 0;
        int c = getopt_long(argc, argv, ":", opts, NULL);
        if (c != -1)
                return bad_option(ctx, c, argv);
        if (optind < argc)
                return cli_usage(ctx, "ca list takes no argument '%s'", argv[optind]);

        struct qerr_info ei;
        qerr_clear(&ei);
        struct ca_rec **v = NULL;
        size_t n = 0;
        ctx->no_signer = true;
        if (cli_open_service(ctx, false, &ei) != QERR_OK ||
            service_ca_list(ctx->svc, &v, &n, &ei) != QERR_OK)
                return cli_fail(ctx, &ei);
        int rc = print_cas(ctx, NULL, v, n);
        store_free_cas(v, n);
        return rc;
}

int cmd_ca(struct cli_ctx *ctx, int argc, char **argv)
{
        if (argc < 2)
                return cli_usage(ctx, "usage: quill ca init|list [OPTIONS]");
        if (strcmp(argv[1], "init") == 0)
                return ca_init(ctx, argc - 1, argv + 1);
        if (strcmp(argv[1], "list") == 0)
                return ca_list(ctx, argc - 1, argv + 1);
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
                printf("Usage: quill ca init [--root-key ALG] [--key ALG] [--subject DN]\n"
                       "       quill ca list\n");
                return QEXIT_OK;
        }
        return cli_usage(ctx, "unknown ca command '%s'; use init or list", argv[1]);
}
