/*
 * cli.h - what every subcommand shares: the global options, the service
 * handle, and the output contract.
 *
 * CLI contract (issue 2): every subcommand accepts --data DIR (default
 * $QUILL_DATA, else ./var), --config FILE (default <data>/quill.conf when it
 * exists) and --json. With --json it prints exactly one JSON object on stdout.
 * Exit status: 0 done, 1 refused (a policy rule or a denied check; the object
 * is {"error":{"code":"...","message":"..."}}), 2 usage error, 3 internal or
 * I/O error. Without --json, results go to stdout as readable text and
 * errors to stderr as "quill: <code>: <message>".
 *
 * Single-threaded (main thread), except `serve`, which owns its threads.
 */
#ifndef QUILL_CLI_H
#define QUILL_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "../base/config.h"
#include "../base/err.h"
#include "../base/model.h"
#include "../api/lint_json.h"
#include "../base/model_json.h"
#include "../service/service.h"

struct cli_ctx {
        const char *data_dir;
        const char *config_path; /* NULL: none given */
        const char *tenant;      /* --tenant NAME; NULL: not given (the tenant 'default') */
        bool json;
        struct qconfig cfg;
        struct service *svc; /* opened by cli_open_service() */
        const char *prog;
        struct ca_secret *secret; /* the CA passphrase, taken in main() */
        bool serving;             /* quill serve: the signer may be restarted */
        bool no_signer;           /* set by commands that never sign, before opening */
        bool no_recover;          /* serve and recover reconcile themselves */
};

/* Opens ctx->svc (creating data_dir if missing only when `create`): starts
 * the signer (handing it the passphrase) and, as root, switches users
 * (service_boot_open). Call before anything starts a thread. */
enum qerr cli_open_service(struct cli_ctx *ctx, bool create, struct qerr_info *ei);

/* Prints the error per the contract and returns the exit status. */
int cli_fail(struct cli_ctx *ctx, const struct qerr_info *ei);
/* Usage error: prints `msg` (and with --json the error object); returns 2. */
int cli_usage(struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A positive decimal id without sign or leading zero; false otherwise. */
bool cli_parse_id(const char *s, int64_t *out);
/* Prints `obj` (steals the reference) as the one JSON object; returns 0. */
int cli_print_json(json_t *obj);

/* Prints an order (JSON {"order":...} or text with what to publish); 0. */
int cli_print_order(struct cli_ctx *ctx, const struct order_rec *o);
/* --config FILE, else <data>/quill.conf when it exists, else the defaults
 * already in ctx->cfg. */
enum qerr cli_load_config(struct cli_ctx *ctx, struct qerr_info *ei);
/* The same into `cfg` (already holding defaults), for a reload. */
enum qerr cli_load_config_into(const struct cli_ctx *ctx, struct qconfig *cfg,
                               struct qerr_info *ei);

/* One line per finding: "<severity> <id>: <message> (<source>)", each line
 * after `prefix` ("" or "lint "), to `out`. */
void cli_print_lint(FILE *out, const struct lint_report *r, const char *prefix);

/* Subcommands: argv[0] is the subcommand word ("ca", "cert", ...). */
int cmd_ca(struct cli_ctx *ctx, int argc, char **argv);
int cmd_cert(struct cli_ctx *ctx, int argc, char **argv);
int cmd_crl(struct cli_ctx *ctx, int argc, char **argv);
int cmd_config(struct cli_ctx *ctx, int argc, char **argv);
int cmd_serve(struct cli_ctx *ctx, int argc, char **argv);
int cmd_caa(struct cli_ctx *ctx, int argc, char **argv);
int cmd_order(struct cli_ctx *ctx, int argc, char **argv);
int cmd_review(struct cli_ctx *ctx, int argc, char **argv);
int cmd_tenant(struct cli_ctx *ctx, int argc, char **argv);
int cmd_key(struct cli_ctx *ctx, int argc, char **argv);
int cmd_eab(struct cli_ctx *ctx, int argc, char **argv);
int cmd_routes(struct cli_ctx *ctx, int argc, char **argv);
int cmd_lint(struct cli_ctx *ctx, int argc, char **argv);
int cmd_blocked_keys(struct cli_ctx *ctx, int argc, char **argv);
int cmd_recover(struct cli_ctx *ctx, int argc, char **argv);

#endif
