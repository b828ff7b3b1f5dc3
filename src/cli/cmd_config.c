/*
 * cmd_config.c - `quill config check [FILE]` and `quill config doc`.
 *
 * check loads FILE (default: --config, else <data>/quill.conf) over the
 * defaults and reports the first problem as config_invalid (exit 2); doc
 * writes the Markdown reference generated from the schema. Neither opens the
 * data directory. Memory: the loaded configuration is local and freed here.
 * Threads: main thread only.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int config_check(struct cli_ctx *ctx, int argc, char **argv)
{
        char def[4096];
        const char *path = argc > 1 ? argv[1] : ctx->config_path;
        if (argc > 2)
                return cli_usage(ctx, "config check takes one FILE");
        if (!path) {
                int n = snprintf(def, sizeof def, "%s/quill.conf", ctx->data_dir);
                if (n < 0 || (size_t)n >= sizeof def)
                        return cli_usage(ctx, "--data path is too long");
                path = def;
        }
        struct qconfig cfg;
        struct qerr_info ei;
        qerr_clear(&ei);
        config_defaults(&cfg);
        enum qerr rc = config_load(path, &cfg, &ei);
        config_free(&cfg);
        if (rc != QERR_OK)
                return cli_fail(ctx, &ei);
        if (ctx->json)
                return cli_print_json(json_pack("{s:b}", "ok", 1));
        printf("%s: ok\n", path);
        return QEXIT_OK;
}

static int config_doc(struct cli_ctx *ctx, int argc, char **argv)
{
        (void)argv;
        if (argc > 1)
                return cli_usage(ctx, "config doc takes no argument");
        config_write_doc(stdout);
        return QEXIT_OK;
}

int cmd_config(struct cli_ctx *ctx, int argc, char **argv)
{
        if (argc < 2)
                return cli_usage(ctx, "usage: quill config check [FILE] | quill config doc");
        if (strcmp(argv[1], "check") == 0)
                return config_check(ctx, argc - 1, argv + 1);
        if (strcmp(argv[1], "doc") == 0)
                return config_doc(ctx, argc - 1, argv + 1);
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
                printf("Usage: quill config check [FILE]\n       quill config doc\n");
                return QEXIT_OK;
        }
        return cli_usage(ctx, "unknown config command '%s'; use check or doc", argv[1]);
}
