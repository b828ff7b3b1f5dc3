/*
 * cmd_eab.c - `quill eab create|list|revoke`: the external account binding
 * keys of ACME (issue 8, RFC 8555 7.3.4). `create` prints
 * {"eab":{"kid":"...","hmac_key":"..."}} with the HMAC key in base64url
 * without padding; the key is shown only then (the store keeps it sealed
 * under the data key). Thin adapters over svc_acme.c. Main thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../service/service_acme.h"
#include "cli.h"

static int open_svc(struct cli_ctx *ctx)
{
        struct qerr_info ei;
        qerr_clear(&ei);
        if (!ctx->svc && cli_open_service(ctx, false, &ei) != QERR_OK)
                return cli_fail(ctx, &ei);
        return 0;
}

static bool int_arg(const char *s, int *out)
{
        char *end = NULL;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || !*s || *end || v < 1 || v > 1000000)
                return false;
        *out = (int)v;
        return true;
}

static int eab_create(struct cli_ctx *ctx, int argc, char **argv)
{
        struct eab_create_req r = {.tenant = ctx->tenant};
        for (int i = 2; i < argc; i++) {
                bool more = i + 1 < argc;
                if (!strcmp(argv[i], "--tenant") && more)
                        r.tenant = argv[++i];
                else if (!strcmp(argv[i], "--label") && more)
                        r.label = argv[++i];
                else if (!strcmp(argv[i], "--max-accounts") && more &&
                         int_arg(argv[i + 1], &r.max_accounts))
                        i++;
                else if (!strcmp(argv[i], "--expires-days") && more &&
                         int_arg(argv[i + 1], &r.expires_days))
                        i++;
                else
                        return cli_usage(ctx,
                                         "unknown or incomplete argument '%s'; usage: quill eab "
                                         "create --tenant NAME [--label TEXT] [--max-accounts N] "
                                         "[--expires-days N]",
                                         argv[i]);
        }
        if (!r.tenant)
                return cli_usage(ctx, "quill eab create needs --tenant NAME");
        int rc = open_svc(ctx);
        if (rc)
                return rc;
        struct qerr_info ei;
        struct eab_rec e;
        char key[64];
        if (service_eab_create(ctx->svc, &r, &e, key, &ei) != QERR_OK)
                return cli_fail(ctx, &ei);
        rc = cli_print_json(json_pack("{s:{s:s,s:s}}", "eab", "kid", e.kid, "hmac_key", key));
        mem_wipe(key, sizeof key);
        eab_rec_clear(&e);
        return rc;
}

static json_t *eab_json(const struct eab_rec *e)
{
        char c[40], x[40], v[40];
        return json_pack(
            "{s:s,s:s,s:s,s:i,s:i,s:s,s:o,s:o}", "kid", e->kid, "tenant", e->tenant, "label",
            e->label, "max_accounts", e->max_accounts, "accounts", e->accounts, "created_at",
            qtime_fmt(e->created_at, c, sizeof c), "expires_at",
            e->expires_at ? json_string(qtime_fmt(e->expires_at, x, sizeof x)) : json_null(),
            "revoked_at",
            e->revoked_at ? json_string(qtime_fmt(e->revoked_at, v, sizeof v)) : json_null());
}

int cmd_eab(struct cli_ctx *ctx, int argc, char **argv)
{
        ctx->no_signer = true; /* EAB keys are rows: nothing to sign */
        const char *verb = argc > 1 ? argv[1] : "";
        struct qerr_info ei;
        qerr_clear(&ei);
        if (!strcmp(verb, "create"))
                return eab_create(ctx, argc, argv);
        if (!strcmp(verb, "list") && argc == 2) {
                int rc = open_svc(ctx);
                if (rc)
                        return rc;
                struct eab_rec *v = NULL;
                size_t n = 0;
                if (service_eab_list(ctx->svc, &v, &n, &ei) != QERR_OK)
                        return cli_fail(ctx, &ei);
                json_t *a = json_array();
                for (size_t i = 0; i < n; i++) {
                        json_array_append_new(a, eab_json(&v[i]));
                        eab_rec_clear(&v[i]);
                }
                free(v);
                return cli_print_json(json_pack("{s:o}", "eab_keys", a));
        }
        if (!strcmp(verb, "revoke") && argc == 3) {
                int rc = open_svc(ctx);
                if (rc)
                        return rc;
                if (service_eab_revoke(ctx->svc, argv[2], &ei) != QERR_OK)
                        return cli_fail(ctx, &ei);
                return cli_print_json(
                    json_pack("{s:{s:s,s:b}}", "eab", "kid", argv[2], "revoked", 1));
        }
        return cli_usage(ctx, "usage: quill eab create --tenant NAME [--label TEXT] "
                              "[--max-accounts N] [--expires-days N] | quill eab list | quill "
                              "eab revoke KID");
}
