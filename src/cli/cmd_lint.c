/*
 * cmd_lint.c - `quill lint`: lints a certificate made anywhere (issue 7).
 *
 *   quill lint [--profile dv|ov|ev|private] [--json] FILE
 *   quill lint --checks [--json]
 *
 * FILE is a certificate in PEM (the first CERTIFICATE block) or DER form
 * (/dev/stdin reads standard input). One line per finding, "<severity> <id>: <message>
 * (<source>)"; nothing when there is none. With --json one object:
 * {"profile":"dv","findings":[{"id","severity","message","source"}]}.
 * Without --profile the profile is guessed from the certificate policies
 * (lint.h: a CA/B Forum OID says dv, ov or ev; none says private; an SM2 key
 * is always private). The profile maxima of the validity check come from
 * the configuration (--config, else <data>/quill.conf when it exists).
 * `--checks` prints every check: id, severity, what it looks at, source.
 *
 * Exit status: 0 no error-level finding, 1 at least one; a file that is not
 * a certificate is refused with pem_malformed (1), a file that cannot be
 * read is io_error (3), a bad option is a usage error (2).
 *
 * Needs no data directory. Memory: the file and the report are freed before
 * returning. Threads: main thread only.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../base/fsutil.h"
#include "cli.h"

static const char lint_usage[] = "Usage: quill lint [--profile dv|ov|ev|private] [--json] FILE\n"
                                 "       quill lint --checks [--json]\n"
                                 "Exit status: 0 no error finding, 1 an error finding (or not a "
                                 "certificate), 2 usage error, 3 I/O error.\n";

static int print_checks(struct cli_ctx *ctx)
{
        size_t n;
        const struct lint_check *t = lint_checks(&n);
        if (!ctx->json) {
                for (size_t i = 0; i < n; i++)
                        printf("%s\t%s\t%s\t%s\t%s\n", t[i].id, lint_severity_name(t[i].severity),
                               t[i].applies, t[i].source, t[i].summary);
                return QEXIT_OK;
        }
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", t[i].id,
                                                   "severity", lint_severity_name(t[i].severity),
                                                   "applies_to", t[i].applies, "source",
                                                   t[i].source, "summary", t[i].summary));
        return cli_print_json(json_pack("{s:o}", "checks", a));
}

int cmd_lint(struct cli_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"profile", required_argument, NULL, 'p'},
            {"checks", no_argument, NULL, 'c'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        struct lint_req req = {.guess_profile = true};
        bool checks = false;
        optind = 0;
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 'p':
                        if (!cert_profile_from_name(optarg, &req.profile))
                                return cli_usage(ctx,
                                                 "lint: --profile must be dv, ov, ev or "
                                                 "private, not '%s'",
                                                 optarg);
                        req.guess_profile = false;
                        break;
                case 'c':
                        checks = true;
                        break;
                case 'h':
                        fputs(lint_usage, stdout);
                        return QEXIT_OK;
                case ':':
                        return cli_usage(ctx, "lint: option %s needs a value", argv[optind - 1]);
                default:
                        return cli_usage(ctx, "lint: unknown option %s", argv[optind - 1]);
                }
        }
        if (checks)
                return optind == argc ? print_checks(ctx)
                                      : cli_usage(ctx, "lint: --checks takes no FILE");
        if (optind != argc - 1)
                return cli_usage(ctx, "lint: give exactly one certificate FILE (PEM or DER)");
        struct qerr_info ei;
        qerr_clear(&ei);
        struct qbuf file;
        qbuf_init(&file, MAX_PEM_BYTES);
        struct lint_report rep;
        lint_report_init(&rep);
        enum cert_profile used = PROFILE_PRIVATE;
        int rc;
        if (fs_read_input(argv[optind], &file, QERR_PEM_INVALID, &ei) != QERR_OK) {
                rc = cli_fail(ctx, &ei);
                goto out;
        }
        req.data = file.data;
        req.len = file.len;
        if (service_lint_cert(&ctx->cfg, &req, &rep, &used, &ei) != QERR_OK) {
                rc = cli_fail(ctx, &ei);
                goto out;
        }
        rc = rep.errors ? QEXIT_REFUSED : QEXIT_OK;
        if (ctx->json) {
                int prc = cli_print_json(json_pack("{s:s,s:o}", "profile", cert_profile_name(used),
                                                   "findings", json_of_lint(&rep)));
                if (prc != QEXIT_OK)
                        rc = prc;
        } else {
                cli_print_lint(stdout, &rep, "");
        }
out:
        lint_report_free(&rep);
        qbuf_free(&file);
        return rc;
}
