/*
 * cmd_tenant.c - `quill tenant create|list` and `quill key
 * create|list|revoke`: the local operator's administration of tenants and
 * API keys (issue 6). Thin adapters over svc_tenants.c. A key's token is
 * printed once, here, and never again (the store keeps only its hash).
 * Main thread only.
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

static void print_tenant(const struct tenant_rec *t)
{
        char at[40];
        printf("%-6lld %-32s %s\n", (long long)t->id, t->name,
               qtime_fmt(t->created_at, at, sizeof at));
}

int cmd_tenant(struct cli_ctx *ctx, int argc, char **argv)
{
        ctx->no_signer = true; /* tenants are rows: nothing to sign */
        const char *verb = argc > 1 ? argv[1] : "";
        struct qerr_info ei;
        qerr_clear(&ei);
        if (!strcmp(verb, "create")) {
                if (argc != 3)
                        return cli_usage(ctx, "usage: quill tenant create NAME");
                int rc = open_svc(ctx);
                if (rc)
                        return rc;
                struct tenant_rec t;
                if (service_tenant_create(ctx->svc, argv[2], &t, &ei) != QERR_OK)
                        return cli_fail(ctx, &ei);
                if (ctx->json)
                        return cli_print_json(json_pack("{s:o}", "tenant", json_of_tenant(&t)));
                printf("tenant %s created (id %lld)\n", t.name, (long long)t.id);
                return 0;
        }
        if (!strcmp(verb, "list")) {
                if (argc != 2)
                        return cli_usage(ctx, "usage: quill tenant list");
                int rc = open_svc(ctx);
                if (rc)
                        return rc;
                struct tenant_rec *v = NULL;
                size_t n = 0;
                if (service_tenant_list(ctx->svc, &v, &n, &ei) != QERR_OK)
                        return cli_fail(ctx, &ei);
                if (ctx->json) {
                        json_t *a = json_array();
                        for (size_t i = 0; i < n; i++)
                                json_array_append_new(a, json_of_tenant(&v[i]));
                        rc = cli_print_json(json_pack("{s:o}", "tenants", a));
                } else {
                        printf("%-6s %-32s %s\n", "ID", "NAME", "CREATED");
                        for (size_t i = 0; i < n; i++)
                                print_tenant(&v[i]);
                }
                free(v);
                return rc;
        }
        return cli_usage(ctx, "usage: quill tenant create NAME | quill tenant list");
}

static int key_create(struct cli_ctx *ctx, int argc, char **argv)
{
        const char *role_s = NULL, *label = NULL;
        for (int i = 2; i < argc; i++) {
                if (!strcmp(argv[i], "--role") && i + 1 < argc)
                        role_s = argv[++i];
                else if (!strcmp(argv[i], "--label") && i + 1 < argc)
                        label = argv[++i];
                else
                        return cli_usage(ctx,
                                         "unknown or incomplete argument '%s'; usage: quill "
                                         "key create [--tenant NAME] --role "
                                         "user|reviewer|admin [--label TEXT]",
                                         argv[i]);
        }
        enum role role;
        if (!role_s || !role_from_name(role_s, &role))
                return cli_usage(ctx, "--role must be user, reviewer or admin");
        int rc = open_svc(ctx);
        if (rc)
                return rc;
        struct qerr_info ei;
        struct apikey_rec k;
        char token[QUILL_TOKEN_MAX];
        if (service_key_create(ctx->svc, ctx->tenant ? ctx->tenant : "default", role, label, &k,
                               token, &ei) != QERR_OK)
                return cli_fail(ctx, &ei);
        if (ctx->json) {
                json_t *o = json_of_apikey(&k);
                if (o)
                        json_object_set_new(o, "token", json_string(token));
                rc = cli_print_json(o ? json_pack("{s:o}", "key", o) : NULL);
        } else {
                printf("key %lld (%s, tenant %s) created. Its token is shown only now:\n%s\n",
                       (long long)k.id, role_name(k.role), k.tenant, token);
        }
        mem_wipe(token, sizeof token);
        return rc;
}

int cmd_key(struct cli_ctx *ctx, int argc, char **argv)
{
        ctx->no_signer = true; /* keys are rows: nothing to sign */
        const char *verb = argc > 1 ? argv[1] : "";
        struct qerr_info ei;
        qerr_clear(&ei);
        if (!strcmp(verb, "create"))
                return key_create(ctx, argc, argv);
        if (!strcmp(verb, "list")) {
                if (argc != 2)
                        return cli_usage(ctx, "usage: quill key list [--tenant NAME]");
                int rc = open_svc(ctx);
                if (rc)
                        return rc;
                struct apikey_rec *v = NULL;
                size_t n = 0;
                if (service_key_list(ctx->svc, ctx->tenant, &v, &n, &ei) != QERR_OK)
                        return cli_fail(ctx, &ei);
                if (ctx->json) {
                        json_t *a = json_array();
                        for (size_t i = 0; i < n; i++)
                                json_array_append_new(a, json_of_apikey(&v[i]));
                        rc = cli_print_json(json_pack("{s:o}", "keys", a));
                } else {
                        printf("%-6s %-20s %-9s %-8s %s\n", "ID", "TENANT", "ROLE", "STATE",
                               "LABEL");
                        for (size_t i = 0; i < n; i++)
                                printf("%-6lld %-20s %-9s %-8s %s\n", (long long)v[i].id,
                                       v[i].tenant, role_name(v[i].role),
                                       v[i].revoked_at ? "revoked" : "valid", v[i].label);
                }
                free(v);
                return rc;
        }
        if (!strcmp(verb, "revoke")) {
                int64_t id;
                if (argc != 3 || !cli_parse_id(argv[2], &id))
                        return cli_usage(ctx, "usage: quill key revoke ID (a positive number)");
                int rc = open_svc(ctx);
                if (rc)
                        return rc;
                struct apikey_rec k;
                if (service_key_revoke(ctx->svc, id, &k, &ei) != QERR_OK)
                        return cli_fail(ctx, &ei);
                if (ctx->json)
                        return cli_print_json(json_pack("{s:o}", "key", json_of_apikey(&k)));
                printf("key %lld revoked\n", (long long)id);
                return 0;
        }
        return cli_usage(ctx, "usage: quill key create|list|revoke ...");
}
