/*
 * cmd_blocked.c - `quill blocked-keys add|list` (issue 7): the local
 * operator blocks a key reported compromised that has no certificate here
 * (a keyCompromise revocation blocks the keys of certificates issued here
 * by itself), and lists the blocked keys. Thin adapter over svc_keys.c: the
 * files are read here, bounded, and parsed by the service. Main thread
 * only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/fsutil.h"
#include "cli.h"

static const char usage[] =
    "usage: quill blocked-keys add (--spki-sha256 HEX | --cert FILE | --key FILE "
    "[--key-password P]) [--reason TEXT]\n"
    "       quill blocked-keys list";

static int open_svc(struct cli_ctx *ctx)
{
        struct qerr_info ei;
        qerr_clear(&ei);
        if (!ctx->svc && cli_open_service(ctx, false, &ei) != QERR_OK)
                return cli_fail(ctx, &ei);
        return 0;
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

static void print_key(const struct blocked_key_rec *k)
{
        char at[40], source[48];
        if (!strcmp(k->source, "revocation"))
                snprintf(source, sizeof source, "revocation:%lld", (long long)k->revocation_id);
        else
                snprintf(source, sizeof source, "%s", k->source);
        printf("%s  %s  %-16s %s\n", k->spki_sha256, qtime_fmt(k->blocked_at, at, sizeof at),
               source, k->reason);
}

static int run_add(struct cli_ctx *ctx, int argc, char **argv)
{
        const char *spki = NULL, *cert = NULL, *key = NULL, *pw = NULL, *reason = NULL;
        for (int i = 2; i < argc; i++) {
                const char **slot = !strcmp(argv[i], "--spki-sha256")    ? &spki
                                    : !strcmp(argv[i], "--cert")         ? &cert
                                    : !strcmp(argv[i], "--key")          ? &key
                                    : !strcmp(argv[i], "--key-password") ? &pw
                                    : !strcmp(argv[i], "--reason")       ? &reason
                                                                         : NULL;
                if (!slot || i + 1 >= argc)
                        return cli_usage(ctx, "unknown or incomplete argument '%s'; %s", argv[i],
                                         usage);
                if (*slot)
                        return cli_usage(ctx, "%s given twice; %s", argv[i], usage);
                *slot = argv[++i];
        }
        if (!!spki + !!cert + !!key != 1)
                return cli_usage(ctx, "give exactly one of --spki-sha256 HEX, --cert FILE and "
                                      "--key FILE");
        if (pw && !key)
                return cli_usage(ctx, "--key-password goes with --key FILE");
        struct qerr_info ei;
        qerr_clear(&ei);
        struct qbuf buf;
        qbuf_init(&buf, MAX_PEM_BYTES);
        int rc = 0;
        if (cert && fs_read_input(cert, &buf, QERR_PEM_INVALID, &ei) != QERR_OK)
                rc = cli_fail(ctx, &ei);
        else if (key && fs_read_input(key, &buf, QERR_KEY_INVALID, &ei) != QERR_OK)
                rc = cli_fail(ctx, &ei);
        if (rc == 0)
                rc = open_svc(ctx);
        if (rc != 0) {
                qbuf_free(&buf);
                return rc;
        }
        struct block_key_req r = {.spki_sha256 = spki,
                                  .cert = cert ? buf.data : NULL,
                                  .cert_len = cert ? buf.len : 0,
                                  .key = key ? buf.data : NULL,
                                  .key_len = key ? buf.len : 0,
                                  .key_password = password_arg(pw),
                                  .reason = reason};
        /* an empty file is still "given" */
        static const uint8_t empty[1];
        if (cert && !r.cert)
                r.cert = empty;
        if (key && !r.key)
                r.key = empty;
        struct blocked_key_rec k;
        bool added = false;
        size_t told = 0;
        if (service_blocked_key_add(ctx->svc, &r, &k, &added, &told, &ei) != QERR_OK)
                rc = cli_fail(ctx, &ei);
        else if (ctx->json)
                rc = cli_print_json(json_pack("{s:o,s:b,s:I}", "blocked_key",
                                              json_of_blocked_key(&k), "added", added,
                                              "certificates_told", (json_int_t)told));
        else {
                printf("%s %s\n", added ? "blocked" : "already blocked", k.spki_sha256);
                if (told)
                        printf("%zu certificate(s) here carry this key; their owners were told "
                               "(event key_compromised)\n",
                               told);
        }
        qbuf_free(&buf);
        return rc;
}

static int run_list(struct cli_ctx *ctx, int argc)
{
        if (argc != 2)
                return cli_usage(ctx, "%s", usage);
        int rc = open_svc(ctx);
        if (rc)
                return rc;
        struct qerr_info ei;
        qerr_clear(&ei);
        json_t *a = ctx->json ? json_array() : NULL;
        if (!ctx->json)
                printf("%-64s  %-20s  %-16s %s\n", "SPKI_SHA256", "BLOCKED_AT", "SOURCE", "REASON");
        int64_t before = 0;
        bool more = true;
        while (more) {
                struct blocked_key_rec *v = NULL;
                size_t n = 0;
                if (service_blocked_key_list(ctx->svc, before, 500, &v, &n, &more, &ei) !=
                    QERR_OK) {
                        json_decref(a);
                        return cli_fail(ctx, &ei);
                }
                for (size_t i = 0; i < n; i++) {
                        if (a)
                                json_array_append_new(a, json_of_blocked_key(&v[i]));
                        else
                                print_key(&v[i]);
                        before = v[i].id;
                }
                free(v);
                more = more && n > 0;
        }
        return a ? cli_print_json(json_pack("{s:o}", "blocked_keys", a)) : QEXIT_OK;
}

int cmd_blocked_keys(struct cli_ctx *ctx, int argc, char **argv)
{
        ctx->no_signer = true; /* rows and hashes: nothing to sign */
        const char *verb = argc > 1 ? argv[1] : "";
        if (!strcmp(verb, "add"))
                return run_add(ctx, argc, argv);
        if (!strcmp(verb, "list"))
                return run_list(ctx, argc);
        return cli_usage(ctx, "%s", usage);
}
