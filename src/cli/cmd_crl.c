/*
 * cmd_crl.c - `quill crl`: CRLs (docs/internals/crl.md).
 *
 *   quill crl [--ca ID]
 *       makes a fresh CRL for every partition of every CA (or of CA ID) and
 *       prints one line per CRL: CA, shard, number, entries, nextUpdate.
 *   quill crl [--ca ID] --out FILE|- [--shard N|legacy]
 *       writes the stored CRLs of one CA as PEM (does not sign): with
 *       --shard, that partition's CRL; without, every partition's, as one
 *       PEM bundle (the unsharded CRL first, then shards 0, 1, ...), which
 *       `openssl verify -CRLfile` reads whole. Without --ca: the only
 *       issuing CA.
 *
 * PEM is built here with a small base64 encoder, so the CLI needs no crypto
 * library. Memory: buffers and records are freed before returning. Threads:
 * main thread only.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/fsutil.h"
#include "cli.h"

/* Upper bound for one CRL (a million entries are about 40 MB). */
#define CRL_MAX_BYTES (512u * 1024u * 1024u)

static int bad_option(struct cli_ctx *ctx, int c, char **argv)
{
        const char *w = optind > 0 ? argv[optind - 1] : "?";
        if (c == ':')
                return cli_usage(ctx, "option %s needs a value", w);
        return cli_usage(ctx, "unknown option %s", w);
}

static bool parse_num(const char *s, long long max, long long *out)
{
        if (!s || *s < '0' || *s > '9')
                return false;
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno != 0 || !end || *end != '\0' || v < 0 || v > max)
                return false;
        *out = v;
        return true;
}

/* Appends `der` to `pem` as a "-----BEGIN X509 CRL-----" block, base64 in
 * 64-character lines (RFC 7468). */
static bool pem_encode(const struct qbuf *der, struct qbuf *pem)
{
        static const char tbl[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        bool ok = qbuf_append_str(pem, "-----BEGIN X509 CRL-----\n");
        size_t col = 0;
        for (size_t i = 0; ok && i < der->len; i += 3) {
                size_t left = der->len - i;
                uint32_t v = (uint32_t)der->data[i] << 16;
                if (left > 1)
                        v |= (uint32_t)der->data[i + 1] << 8;
                if (left > 2)
                        v |= der->data[i + 2];
                char q[4] = {tbl[(v >> 18) & 63], tbl[(v >> 12) & 63],
                             left > 1 ? tbl[(v >> 6) & 63] : '=', left > 2 ? tbl[v & 63] : '='};
                ok = qbuf_append(pem, q, 4);
                col += 4;
                if (ok && (col == 64 || left <= 3)) {
                        ok = qbuf_append(pem, "\n", 1);
                        col = 0;
                }
        }
        return ok && qbuf_append_str(pem, "-----END X509 CRL-----\n");
}

static const char *scope_of(const struct crl_info *c, const struct ca_rec *const *cas, size_t n)
{
        if (c->shard >= 0)
                return "shard";
        for (size_t i = 0; i < n; i++)
                if (cas[i]->id == c->ca_id && cas[i]->is_root)
                        return "complete";
        return "legacy";
}

static json_t *crl_json(struct cli_ctx *ctx, const struct crl_info *c, const char *scope)
{
        char url[700];
        service_crl_url(ctx->svc, c->ca_id, c->shard, url, sizeof url);
        return json_pack("{s:I,s:o,s:s,s:s,s:I,s:o,s:I,s:o,s:o}", "ca", (json_int_t)c->ca_id,
                         "shard", c->shard >= 0 ? json_integer(c->shard) : json_null(), "scope",
                         scope, "url", url, "number", (json_int_t)c->number, "entries",
                         c->entries >= 0 ? json_integer(c->entries) : json_null(), "bytes",
                         (json_int_t)c->der_len, "this_update", json_of_time(c->this_update),
                         "next_update", json_of_time(c->next_update));
}

static void crl_line(const struct crl_info *c, const char *scope)
{
        char part[32], when[40];
        if (c->shard >= 0)
                snprintf(part, sizeof part, "shard %d", c->shard);
        else
                snprintf(part, sizeof part, "%s", scope);
        json_t *t = json_of_time(c->next_update);
        snprintf(when, sizeof when, "%s", t ? json_string_value(t) : "?");
        json_decref(t);
        printf("ca %lld %-9s number %lld entries %lld next update %s\n", (long long)c->ca_id, part,
               (long long)c->number, (long long)c->entries, when);
}

/* Prints the CRLs described by v (JSON or text). */
static int report(struct cli_ctx *ctx, const struct crl_info *v, size_t n, const char *file,
                  struct qerr_info *ei)
{
        struct ca_rec **cas = NULL;
        size_t ncas = 0;
        if (service_ca_list(ctx->svc, &cas, &ncas, ei) != QERR_OK)
                return cli_fail(ctx, ei);
        json_t *arr = ctx->json ? json_array() : NULL;
        bool ok = !ctx->json || arr;
        int64_t total = 0;
        for (size_t i = 0; ok && i < n; i++) {
                const char *scope = scope_of(&v[i], (const struct ca_rec *const *)cas, ncas);
                total += v[i].entries > 0 ? v[i].entries : 0;
                if (ctx->json)
                        ok = json_array_append_new(arr, crl_json(ctx, &v[i], scope)) == 0;
                else if (!file)
                        crl_line(&v[i], scope);
        }
        store_free_cas(cas, ncas);
        if (!ok) {
                json_decref(arr);
                qerr_set(ei, QERR_NOMEM, NULL);
                return cli_fail(ctx, ei);
        }
        if (ctx->json)
                return cli_print_json(json_pack("{s:o,s:s?}", "crls", arr, "file", file));
        if (file && strcmp(file, "-") != 0)
                printf("wrote %zu CRL%s of CA %lld to %s\n", n, n == 1 ? "" : "s",
                       n ? (long long)v[0].ca_id : 0LL, file);
        else if (!file)
                printf("%zu CRLs, %lld entries\n", n, (long long)total);
        return QEXIT_OK;
}

static int run_refresh(struct cli_ctx *ctx, int64_t only)
{
        struct qerr_info ei;
        qerr_clear(&ei);
        struct crl_info *v = NULL;
        size_t n = 0;
        if (cli_open_service(ctx, false, &ei) != QERR_OK ||
            service_crl_refresh_all(ctx->svc, only, &v, &n, &ei) != QERR_OK) {
                free(v);
                return cli_fail(ctx, &ei);
        }
        int rc = report(ctx, v, n, NULL, &ei);
        free(v);
        return rc;
}

/* The CA --out writes: --ca, else the only issuing CA. */
static enum qerr pick_ca(struct cli_ctx *ctx, int64_t only, int64_t *out, struct qerr_info *ei)
{
        struct ca_rec **v = NULL;
        size_t nv = 0, issuing = 0;
        enum qerr rc = service_ca_list(ctx->svc, &v, &nv, ei);
        bool found = false;
        for (size_t i = 0; rc == QERR_OK && i < nv; i++) {
                if (only && v[i]->id == only)
                        found = true;
                if (!v[i]->is_root) {
                        issuing++;
                        if (!only)
                                *out = v[i]->id;
                }
        }
        store_free_cas(v, nv);
        if (rc != QERR_OK)
                return rc;
        if (only) {
                *out = only;
                return found ? QERR_OK
                             : qerr_set(ei, QERR_NOT_FOUND,
                                        "no CA with id %lld; see 'quill ca "
                                        "list'",
                                        (long long)only);
        }
        if (issuing == 0)
                return qerr_set(ei, QERR_CA_MISSING,
                                "there is no issuing CA yet; run 'quill ca init --data %s' first",
                                ctx->data_dir);
        if (issuing > 1)
                return qerr_set(ei, QERR_USAGE,
                                "--out writes the CRLs of one CA and there are %zu issuing CAs; "
                                "name one with --ca ID (see 'quill ca list')",
                                issuing);
        return QERR_OK;
}

static int run_write(struct cli_ctx *ctx, int64_t only, const char *file, bool one, int shard)
{
        struct qerr_info ei;
        qerr_clear(&ei);
        int64_t ca = 0;
        struct crl_info *v = NULL;
        size_t n = 0;
        ctx->no_signer = true; /* reads the stored CRLs; signs none */
        if (cli_open_service(ctx, false, &ei) != QERR_OK || pick_ca(ctx, only, &ca, &ei) != QERR_OK)
                return cli_fail(ctx, &ei);
        enum qerr rc = QERR_OK;
        if (one) {
                v = calloc(1, sizeof *v);
                rc = v ? service_crl_get(ctx->svc, ca, shard, NULL, v, &ei)
                       : qerr_set(&ei, QERR_NOMEM, NULL);
                n = 1;
        } else {
                rc = service_crl_list(ctx->svc, ca, &v, &n, &ei);
                if (rc == QERR_OK && n == 0)
                        rc = qerr_set(&ei, QERR_NOT_FOUND,
                                      "CA %lld has no CRL yet; run 'quill crl --ca %lld'",
                                      (long long)ca, (long long)ca);
        }
        struct qbuf der, pem;
        qbuf_init(&der, CRL_MAX_BYTES);
        qbuf_init(&pem, CRL_MAX_BYTES / 3 * 4 + CRL_MAX_BYTES / 48 + 1024);
        for (size_t i = 0; rc == QERR_OK && i < n; i++) {
                qbuf_reset(&der);
                rc = service_crl_get(ctx->svc, ca, v[i].shard, &der, &v[i], &ei);
                if (rc == QERR_OK && !pem_encode(&der, &pem))
                        rc = qerr_set(&ei, QERR_NOMEM, NULL);
        }
        qbuf_free(&der);
        if (rc == QERR_OK && strcmp(file, "-") == 0 && !ctx->json)
                fwrite(pem.data, 1, pem.len, stdout);
        else if (rc == QERR_OK && strcmp(file, "-") != 0)
                rc = fs_write_file(file, pem.data, pem.len, 0644, false, &ei);
        else if (rc == QERR_OK)
                rc = qerr_set(&ei, QERR_USAGE,
                              "--out - prints PEM: it does not combine with "
                              "--json");
        qbuf_free(&pem);
        int exit = rc == QERR_OK ? report(ctx, v, n, file, &ei) : cli_fail(ctx, &ei);
        free(v);
        return exit;
}

int cmd_crl(struct cli_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"out", required_argument, NULL, 'o'},
            {"ca", required_argument, NULL, 'c'},
            {"shard", required_argument, NULL, 's'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        const char *out = NULL;
        long long only = 0, shard = 0;
        bool one = false;
        optind = 0;
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                if (c == 'o') {
                        out = optarg;
                } else if (c == 'c') {
                        if (!parse_num(optarg, INT64_MAX, &only) || only == 0)
                                return cli_usage(ctx, "--ca needs a positive CA id, not '%s'",
                                                 optarg);
                } else if (c == 's') {
                        one = true;
                        if (strcmp(optarg, "legacy") == 0)
                                shard = CRL_SHARD_NONE;
                        else if (!parse_num(optarg, QUILL_MAX_CRL_SHARDS - 1, &shard))
                                return cli_usage(ctx,
                                                 "--shard needs a shard number (0-%d) or "
                                                 "'legacy', not '%s'",
                                                 QUILL_MAX_CRL_SHARDS - 1, optarg);
                } else if (c == 'h') {
                        printf("Usage: quill crl [--ca ID]                 make every CRL again\n"
                               "       quill crl [--ca ID] --out FILE|- [--shard N|legacy]\n"
                               "                                           write stored CRLs "
                               "(PEM)\n");
                        return QEXIT_OK;
                } else {
                        return bad_option(ctx, c, argv);
                }
        }
        if (optind < argc)
                return cli_usage(ctx, "crl takes no argument '%s'", argv[optind]);
        if (one && !out)
                return cli_usage(ctx, "--shard picks the CRL that --out writes; add --out FILE");
        if (out)
                return run_write(ctx, (int64_t)only, out, one, (int)shard);
        return run_refresh(ctx, (int64_t)only);
}
