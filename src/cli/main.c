/*
 * main.c - the quill command line: global options, configuration, dispatch.
 *
 * The global options (--data DIR, --config FILE, --json) may stand before or
 * after the subcommand: they are taken out of argv first, and what is left
 * goes to the subcommand (argv[0] being its word). The configuration is then
 * loaded (--config FILE, else <data>/quill.conf when it exists, else the
 * defaults) for the subcommands that need it, and the log level set from it.
 *
 * Start-up order (issue 7): `quill signer` (the signer process, started by
 * quill itself) is dispatched before anything else. Every other command:
 * descriptors 0-2 made sure to exist, global options, configuration, then
 * at once the CA passphrase is taken into a locked page and scrubbed from
 * the environment (service_secret_take), before any thread or network code.
 * The subcommand then opens the service, which starts the signer and drops
 * privileges (service_boot_open), before it starts any thread.
 *
 * Memory: the context lives on main()'s stack; main() frees the
 * configuration, the passphrase and closes the service (ctx.svc) a
 * subcommand opened. Threads: main thread only; `serve` starts its own.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../base/fsutil.h"
#include "../base/log.h"
#include "../signer/signer.h"
#include "cli.h"

#ifndef QUILL_VERSION
#define QUILL_VERSION "0.1.0"
#endif

static const char usage_text[] =
    "Usage: quill [--data DIR] [--config FILE] [--tenant NAME] [--json] COMMAND [ARGS]\n"
    "\n"
    "Global options (before or after the command):\n"
    "  --data DIR      data directory (default $QUILL_DATA, else ./var)\n"
    "  --config FILE   configuration (default <data>/quill.conf when it exists)\n"
    "  --json          print exactly one JSON object on stdout\n"
    "  --tenant NAME   act in this tenant (default: default)\n"
    "\n"
    "Commands:\n"
    "  ca init [--root-key ec384|rsa4096|sm2] [--key ec256|ec384|rsa2048|rsa3072|rsa4096|sm2]\n"
    "          [--subject \"CN=...\"]\n"
    "  ca list\n"
    "  cert sign --csr FILE [--profile private|dv|ov|ev] [--days N]\n"
    "  cert apply --name NAME [--name NAME ...] --key ALG [--key-password P]\n"
    "             [--profile private] [--days N]\n"
    "  cert apply --profile dv|ov|ev --name NAME ... (--key ALG | --csr FILE)\n"
    "             --method dns|file [--org-file F] [--days N] [--paid]\n"
    "  cert list\n"
    "  cert show ID\n"
    "  cert download ID --format pem|nginx|apache|iis|tomcat --out DIR [--password P]\n"
    "                [--key-password P]\n"
    "  cert revoke ID --reason unspecified|keyCompromise|affiliationChanged|superseded|\n"
    "                          cessationOfOperation|privilegeWithdrawn\n"
    "                 [--method dns|file (DV proof)] [--letter FILE (OV/EV, JPG/PNG/PDF)]\n"
    "  cert reissue ID (--same-csr | --csr FILE | --key ALG [--key-password P]) --reason TEXT\n"
    "  cert delete ID\n"
    "  cert upload --cert FILE --key FILE [--chain FILE] [--key-password P]\n"
    "  crl [--ca ID]                  (makes every CRL again)\n"
    "  crl [--ca ID] --out FILE|- [--shard N|legacy]  (writes stored CRLs, PEM)\n"
    "  recover            store what the signer journaled but the database lacks\n"
    "  order list | order show|cancel|validate ID\n"
    "  review list [--all] | review approve ID [--reason T] | review reject ID --reason T\n"
    "  lint [--profile dv|ov|ev|private] FILE | lint --checks\n"
    "  caa check [--resolver HOST:PORT] --identity D ... [--account-uri U]\n"
    "            [--method dns-01|http-01|tls-alpn-01|dns|file] NAME...\n"
    "  tenant create NAME | tenant list\n"
    "  key create [--tenant NAME] --role user|reviewer|admin [--label TEXT]\n"
    "  key list [--tenant NAME] | key revoke ID\n"
    "  eab create --tenant NAME [--label TEXT] [--max-accounts N] [--expires-days N]\n"
    "  eab list | eab revoke KID   (ACME external account binding keys)\n"
    "  blocked-keys add (--spki-sha256 HEX | --cert FILE | --key FILE [--key-password P])\n"
    "                   [--reason TEXT]\n"
    "  blocked-keys list\n"
    "  errors\n"
    "  config check [FILE]\n"
    "  config doc\n"
    "  serve [--listen HOST:PORT] [--api-listen HOST:PORT]\n"
    "  help | version\n"
    "\n"
    "A --key-password or --password of \"-\" is read from $QUILL_KEY_PASSWORD.\n"
    "Exit status: 0 done, 1 refused, 2 usage error, 3 internal or I/O error.\n";

static int cmd_help(struct cli_ctx *ctx, int argc, char **argv)
{
        (void)ctx;
        (void)argc;
        (void)argv;
        fputs(usage_text, stdout);
        return QEXIT_OK;
}

/* `quill errors`: every stable error code, as the Markdown table of
 * docs/errors.md (or one JSON object with --json). */
static int cmd_errors(struct cli_ctx *ctx, int argc, char **argv)
{
        (void)argc;
        (void)argv;
        if (ctx->json) {
                json_t *a = json_array();
                for (int e = 0; e < QERR__COUNT; e++)
                        json_array_append_new(
                            a, json_pack("{s:s,s:i,s:i,s:s,s:s}", "code", qerr_code((enum qerr)e),
                                         "http_status", qerr_http_status((enum qerr)e), "exit",
                                         (int)qerr_exit((enum qerr)e), "acme_type",
                                         qerr_acme_type((enum qerr)e), "message",
                                         qerr_default_msg((enum qerr)e)));
                return cli_print_json(json_pack("{s:o}", "errors", a));
        }
        printf(
            "# Error codes\n\nGenerated by `quill errors` from `src/base/err.h`; do not "
            "edit by hand. Codes are stable: they are never renamed, only added.\n\n"
            "The ACME column is the problem type ACME clients receive "
            "(`urn:ietf:params:acme:error:` followed by it).\n\n"
            "| code | exit | HTTP | ACME | meaning and fix |\n| --- | --- | --- | --- | --- |\n");
        for (int e = 1; e < QERR__COUNT; e++)
                printf("| `%s` | %d | %d | `%s` | %s |\n", qerr_code((enum qerr)e),
                       (int)qerr_exit((enum qerr)e), qerr_http_status((enum qerr)e),
                       qerr_acme_type((enum qerr)e), qerr_default_msg((enum qerr)e));
        return 0;
}

static int cmd_version(struct cli_ctx *ctx, int argc, char **argv)
{
        (void)argc;
        (void)argv;
        if (ctx->json)
                return cli_print_json(json_pack("{s:s}", "version", QUILL_VERSION));
        printf("quill %s\n", QUILL_VERSION);
        return QEXIT_OK;
}

static const struct command {
        const char *name;
        int (*fn)(struct cli_ctx *, int, char **);
        bool needs_config;
} commands[] = {
    {"ca", cmd_ca, true},
    {"cert", cmd_cert, true},
    {"crl", cmd_crl, true},
    {"caa", cmd_caa, false}, /* loads the configuration itself: exit 3 on a bad one */
    {"config", cmd_config, false},
    {"serve", cmd_serve, true},
    {"order", cmd_order, true},
    {"review", cmd_review, true},
    {"tenant", cmd_tenant, true},
    {"key", cmd_key, true},
    {"eab", cmd_eab, true},
    {"blocked-keys", cmd_blocked_keys, true},
    {"routes", cmd_routes, false}, /* not in help: for the contract tests */
    {"lint", cmd_lint, true},
    {"recover", cmd_recover, true},
    {"help", cmd_help, false},
    {"--help", cmd_help, false},
    {"-h", cmd_help, false},
    {"errors", cmd_errors, false},
    {"version", cmd_version, false},
    {"--version", cmd_version, false},
};

/* Takes a global option out of argv[i] (and its value); returns how many
 * words it used (0: not a global option, -1: value missing). */
static int take_global(struct cli_ctx *ctx, int argc, char **argv, int i)
{
        const struct {
                const char *name;
                size_t len;
                const char **slot;
        } valued[] = {{"--data", 6, &ctx->data_dir},
                      {"--config", 8, &ctx->config_path},
                      {"--tenant", 8, &ctx->tenant}};
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
                ctx->json = true;
                return 1;
        }
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) {
                const char **slot = valued[k].slot;
                if (strncmp(a, valued[k].name, valued[k].len) != 0)
                        continue;
                if (a[valued[k].len] == '=') {
                        *slot = a + valued[k].len + 1;
                        return 1;
                }
                if (a[valued[k].len] != '\0')
                        continue;
                if (i + 1 >= argc)
                        return -1;
                *slot = argv[i + 1];
                return 2;
        }
        return 0;
}

/* Removes the global options from argv (up to a "--"); returns the new argc,
 * or -1 (after a usage error) when one lacks its value. */
static int strip_globals(struct cli_ctx *ctx, int argc, char **argv, const char **bad)
{
        if (argc < 1)
                return argc;
        int out = 1;
        bool done = false;
        for (int i = 1; i < argc;) {
                int used = done ? 0 : take_global(ctx, argc, argv, i);
                if (used < 0) {
                        *bad = argv[i];
                        return -1;
                }
                if (used == 0) {
                        if (strcmp(argv[i], "--") == 0)
                                done = true;
                        argv[out++] = argv[i++];
                        continue;
                }
                i += used;
        }
        argv[out] = NULL;
        return out;
}

static enum qlog_level level_from_name(const char *s)
{
        return qlog_level_from_name(s);
}

/* The configuration, then the log level it asks for. */
static enum qerr load_config(struct cli_ctx *ctx, struct qerr_info *ei)
{
        enum qerr rc = cli_load_config(ctx, ei);
        if (rc != QERR_OK)
                return rc;
        qlog_set_level(level_from_name(ctx->cfg.log_level));
        return QERR_OK;
}

static const struct command *find_command(const char *name)
{
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
        const char *bad = NULL;
        argc = strip_globals(ctx, argc, argv, &bad);
        if (argc < 0)
                return cli_usage(ctx, "option %s needs a value", bad);
        if (argc < 2) {
                if (ctx->json)
                        return cli_usage(ctx, "no command given; see 'quill help'");
                fputs(usage_text, stdout);
                return QEXIT_USAGE;
        }
        const struct command *cmd = find_command(argv[1]);
        if (!cmd)
                return cli_usage(ctx, "unknown command '%s'", argv[1]);
        if (cmd->needs_config) {
                struct qerr_info ei;
                qerr_clear(&ei);
                if (load_config(ctx, &ei) != QERR_OK)
                        return cli_fail(ctx, &ei);
        }
        /* The passphrase leaves the environment now, whatever the command:
         * nothing after this point (threads, the network, a child) sees it. */
        ctx->secret = service_secret_take(&ctx->cfg);
        service_take_env_data_key(); /* likewise the data key, when given there */
        if (!ctx->secret) {
                struct qerr_info ei;
                qerr_set(&ei, QERR_NOMEM, NULL);
                return cli_fail(ctx, &ei);
        }
        ctx->serving = strcmp(cmd->name, "serve") == 0;
        /* One-shot commands speak through their output; their log lines
         * (events, CRLs) are for `quill serve` or QUILL_LOG=info. */
        const char *env_level = getenv("QUILL_LOG");
        if (env_level && *env_level)
                qlog_set_level(level_from_name(env_level));
        else if (strcmp(cmd->name, "serve") != 0 && level_from_name(ctx->cfg.log_level) < QLOG_WARN)
                qlog_set_level(QLOG_WARN);
        if (cmd->needs_config)
                config_warn_test_only(&ctx->cfg);
        return cmd->fn(ctx, argc - 1, argv + 1);
}

/* A process started with stdin, stdout or stderr closed would hand those
 * numbers to the first files it opens (a key, a socket). */
static void ensure_std_fds(void)
{
        for (int fd = 0; fd < 3; fd++)
                if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
                        _exit(QEXIT_INTERNAL);
}

int main(int argc, char **argv)
{
        ensure_std_fds();
        signal(SIGXFSZ, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        /* the signer process: not a command of its own (not in the help) */
        if (argc >= 2 && strcmp(argv[1], "signer") == 0)
                return signer_main(argc, argv);

        const char *env_data = getenv("QUILL_DATA");
        struct cli_ctx ctx = {
            .data_dir = env_data && *env_data ? env_data : "./var",
            .config_path = NULL,
            .json = false,
            .svc = NULL,
            .prog = argc > 0 && argv[0] ? argv[0] : "quill",
        };
        config_defaults(&ctx.cfg);
        struct qerr_info gei;
        if (service_global_init(&gei) != QERR_OK) {
                fprintf(stderr, "quill: %s: %s\n", qerr_code(gei.code), qerr_message(&gei));
                return QEXIT_INTERNAL;
        }
        qlog_set_level(level_from_name(ctx.cfg.log_level));

        int rc = run(&ctx, argc, argv);

        if (ctx.svc) {
                /* CRLs of what this command revoked (or issued into a new
                 * shard): made after its commit, before it returns. A failure
                 * leaves the jobs queued for `quill serve`. */
                struct qerr_info fei;
                qerr_clear(&fei);
                if (service_crl_flush(ctx.svc, &fei) != QERR_OK)
                        fprintf(stderr,
                                "quill: warning: %s: the CRL could not be made now (%s); it is "
                                "queued for 'quill serve' and 'quill crl'\n",
                                qerr_code(fei.code), qerr_message(&fei));
                service_close(ctx.svc);
        }
        service_secret_free(ctx.secret);
        config_free(&ctx.cfg);
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "quill: %s: could not write the output\n", qerr_code(QERR_IO));
                if (rc == QEXIT_OK)
                        rc = QEXIT_INTERNAL;
        }
        return rc;
}
