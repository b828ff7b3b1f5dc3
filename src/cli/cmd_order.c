/*
 * cmd_order.c - `quill order show|list|cancel|validate ID` and
 * `quill review list|approve|reject`: thin adapters over the service's
 * order and review functions. Main thread only; records are freed here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int open_svc(struct cli_ctx *ctx)
{
        struct qerr_info ei;
        qerr_clear(&ei);
        if (!ctx->svc && cli_open_service(ctx, false, &ei) != QERR_OK)
                return cli_fail(ctx, &ei);
        return 0;
}

static int order_one(struct cli_ctx *ctx, const char *verb, const char *idarg)
{
        int64_t id;
        if (!cli_parse_id(idarg, &id))
                return cli_usage(ctx, "quill order %s ID: ID must be a positive number", verb);
        ctx->no_signer = strcmp(verb, "validate") != 0; /* validate may issue */
        int rc = open_svc(ctx);
        if (rc)
                return rc;
        struct qerr_info ei;
        struct order_rec *o = NULL;
        enum qerr e;
        if (!strcmp(verb, "show"))
                e = service_order_get(ctx->svc, id, &o, &ei);
        else if (!strcmp(verb, "cancel"))
                e = service_order_cancel(ctx->svc, id, &o, &ei);
        else
                e = service_order_validate(ctx->svc, id, &o, &ei);
        rc = e == QERR_OK ? cli_print_order(ctx, o) : cli_fail(ctx, &ei);
        order_rec_free(o);
        return rc;
}

static int order_list(struct cli_ctx *ctx)
{
        ctx->no_signer = true;
        int rc = open_svc(ctx);
        if (rc)
                return rc;
        struct qerr_info ei;
        struct order_rec **v = NULL;
        size_t n = 0;
        struct order_query q = {.limit = 500};
        bool more = true;
        while (more) {
                struct order_rec **page = NULL;
                size_t np = 0;
                if (service_order_list(ctx->svc, &q, &page, &np, &more, &ei) != QERR_OK) {
                        store_free_orders(v, n);
                        return cli_fail(ctx, &ei);
                }
                struct order_rec **grown = realloc(v, (n + np + 1) * sizeof *v);
                if (!grown) {
                        store_free_orders(page, np);
                        store_free_orders(v, n);
                        qerr_set(&ei, QERR_NOMEM, NULL);
                        return cli_fail(ctx, &ei);
                }
                v = grown;
                memcpy(v + n, page, np * sizeof *page);
                n += np;
                free(page);
                if (np)
                        q.before_id = v[n - 1]->id;
        }
        for (size_t i = 0; i < n / 2; i++) { /* oldest first */
                struct order_rec *t = v[i];
                v[i] = v[n - 1 - i];
                v[n - 1 - i] = t;
        }
        qtime_t now = qtime_now();
        if (ctx->json) {
                json_t *a = json_array();
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(a, json_of_order(v[i], now));
                rc = cli_print_json(json_pack("{s:o}", "orders", a));
        } else {
                printf("%-6s %-20s %-8s %-6s %s\n", "ID", "STATUS", "PROFILE", "CERT", "NAMES");
                for (size_t i = 0; i < n; i++) {
                        printf("%-6lld %-20s %-8s %-6lld", (long long)v[i]->id,
                               order_status_name(v[i]->status), cert_profile_name(v[i]->profile),
                               (long long)v[i]->certificate_id);
                        for (size_t j = 0; j < v[i]->nnames; j++)
                                printf(" %s", v[i]->names[j].name);
                        printf("\n");
                }
        }
        store_free_orders(v, n);
        return rc;
}

int cmd_order(struct cli_ctx *ctx, int argc, char **argv)
{
        const char *verb = argc > 1 ? argv[1] : "";
        if (!strcmp(verb, "list") && argc == 2)
                return order_list(ctx);
        if ((!strcmp(verb, "show") || !strcmp(verb, "cancel") || !strcmp(verb, "validate")) &&
            argc == 3)
                return order_one(ctx, verb, argv[2]);
        if (!strcmp(verb, "--help") || !strcmp(verb, "help")) {
                printf("Usage: quill order list\n       quill order show|cancel|validate ID\n");
                return 0;
        }
        return cli_usage(ctx, "usage: quill order list | quill order show|cancel|validate ID");
}

static int review_list(struct cli_ctx *ctx, const char *status)
{
        ctx->no_signer = true;
        int rc = open_svc(ctx);
        if (rc)
                return rc;
        struct qerr_info ei;
        struct review_rec *v = NULL;
        size_t n = 0;
        if (service_review_list(ctx->svc, status, &v, &n, &ei) != QERR_OK)
                return cli_fail(ctx, &ei);
        if (ctx->json) {
                json_t *a = json_array();
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(a, json_of_review(&v[i]));
                rc = cli_print_json(json_pack("{s:o}", "reviews", a));
        } else {
                printf("%-6s %-6s %-13s %-9s %s\n", "ID", "ORDER", "KIND", "STATUS", "DETAIL");
                for (size_t i = 0; i < n; i++)
                        printf("%-6lld %-6lld %-13s %-9s %s\n", (long long)v[i].id,
                               (long long)v[i].order_id, v[i].kind, v[i].status,
                               v[i].detail ? v[i].detail : "");
        }
        store_free_reviews(v, n);
        return rc;
}

static int review_decide(struct cli_ctx *ctx, int argc, char **argv, bool approve)
{
        int64_t id;
        const char *reason = NULL;
        if (argc < 3 || !cli_parse_id(argv[2], &id))
                return cli_usage(ctx,
                                 "quill review %s ID [--reason TEXT]: ID must be a positive "
                                 "number",
                                 argv[1]);
        for (int i = 3; i < argc; i++) {
                if (!strcmp(argv[i], "--reason") && i + 1 < argc)
                        reason = argv[++i];
                else
                        return cli_usage(ctx, "unknown argument %s", argv[i]);
        }
        int rc = open_svc(ctx);
        if (rc)
                return rc;
        struct qerr_info ei;
        struct review_rec r;
        if (service_review_decide(ctx->svc, id, approve, reason, &r, &ei) != QERR_OK)
                return cli_fail(ctx, &ei);
        if (ctx->json)
                rc = cli_print_json(json_pack("{s:o}", "review", json_of_review(&r)));
        else
                printf("review %lld %s\n", (long long)r.id, r.status);
        review_rec_clear(&r);
        return rc;
}

int cmd_review(struct cli_ctx *ctx, int argc, char **argv)
{
        const char *verb = argc > 1 ? argv[1] : "";
        if (!strcmp(verb, "list")) {
                const char *status = "pending";
                for (int i = 2; i < argc; i++) {
                        if (!strcmp(argv[i], "--all"))
                                status = NULL;
                        else
                                return cli_usage(ctx, "usage: quill review list [--all]");
                }
                return review_list(ctx, status);
        }
        if (!strcmp(verb, "approve"))
                return review_decide(ctx, argc, argv, true);
        if (!strcmp(verb, "reject"))
                return review_decide(ctx, argc, argv, false);
        return cli_usage(ctx, "usage: quill review list [--all] | quill review approve ID "
                              "[--reason TEXT] | quill review reject ID --reason TEXT");
}
