/*
 * cmd_recover.c - `quill recover`: makes the signer's journal and the store
 * agree now (two-phase issuance, issue 7) and says what it did. Every
 * command that signs does the same silently when it starts, and `quill
 * serve` at its start and every minute; this command is for an operator
 * (or a test) that wants to see it: certificates stored from the journal
 * (and of those, stored revoked), reservations made void, work left to
 * live processes, journal files deleted, abandoned reissues failed.
 *
 * Prints one line (or, with --json, {"recovered":{...counts...}}). Main
 * thread only; the counts are the service's (struct reconcile_stats).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_recover(struct cli_ctx *ctx, int argc, char **argv)
{
        (void)argv;
        if (argc > 1)
                return cli_usage(ctx, "quill recover takes no arguments");
        struct qerr_info ei;
        qerr_clear(&ei);
        ctx->no_recover = true; /* counted here instead of at the start */
        if (cli_open_service(ctx, false, &ei) != QERR_OK)
                return cli_fail(ctx, &ei);
        struct reconcile_stats st;
        if (service_recover_stats(ctx->svc, &st, &ei) != QERR_OK)
                return cli_fail(ctx, &ei);
        if (ctx->json)
                return cli_print_json(json_pack(
                    "{s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I}}", "recovered", "journaled",
                    (json_int_t)st.journaled, "stored", (json_int_t)st.recovered, "revoked",
                    (json_int_t)st.revoked, "voided", (json_int_t)st.voided, "pending",
                    (json_int_t)st.pending, "journal_files_trimmed", (json_int_t)st.trimmed,
                    "reissues_failed", (json_int_t)st.reissues_failed));
        printf("journaled %zu, stored %zu (revoked %zu), voided %zu, pending %zu, journal files "
               "trimmed %zu, reissues failed %zu\n",
               st.journaled, st.recovered, st.revoked, st.voided, st.pending, st.trimmed,
               st.reissues_failed);
        return QEXIT_OK;
}
