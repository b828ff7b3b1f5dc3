/*
 * cmd_crl.c - `quill crl [--ca ID] [--out FILE]`: prints (or writes) the
 * latest CRL of each issuing CA, as PEM. It does not sign a new CRL; the
 * service does that when certificates are revoked and `serve` refreshes them.
 *
 * PEM is built here with a small base64 encoder, so the CLI needs no crypto
 * library. Memory: DER and PEM buffers are owned by this file and freed before
 * returning; CA records come from the service and are freed here. Threads:
 * main thread only.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/fsutil.h"
#include "cli.h"

/* Upper bound for one CRL (a CRL with ~100k entries is a few MB). */
#define CRL_MAX_BYTES (16u * 1024u * 1024u)

static int bad_option(struct cli_ctx *ctx, int c, char **argv)
{
        const char *w = optind > 0 ? argv[optind - 1] : "?";
        if (c == ':')
                return cli_usage(ctx, "option %s needs a value", w);
        return cli_usage(ctx, "unknown option %s", w);
}

static bool parse_id(const char *s, int64_t *out)
{
        if (!s || *s < '0' || *s > '9')
                return false;
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno != 0 || !end || *end != '\0' || v <= 0)
                return false;
        *out = (int64_t)v;
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

/* The CAs to report: the one named by --ca, else every issuing CA. */
static enum qerr pick_cas(struct cli_ctx *ctx, int64_t only, int64_t **ids, size_t *n,
                          struct qerr_info *ei)
{
        *ids = NULL;
        *n = 0;
        if (only > 0) {
                *ids = malloc(sizeof **ids);
                if (!*ids)
                        return qerr_set(ei, QERR_NOMEM, NULL);
                (*ids)[(*n)++] = only;
                return QERR_OK;
        }
        struct ca_rec **v = NULL;
        size_t nv = 0;
        enum qerr rc = service_ca_list(ctx->svc, &v, &nv, ei);
        if (rc == QERR_OK && nv > 0 && !(*ids = calloc(nv, sizeof **ids)))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        for (size_t i = 0; rc == QERR_OK && i < nv; i++)
                if (!v[i]->is_root)
                        (*ids)[(*n)++] = v[i]->id;
        store_free_cas(v, nv);
        if (rc == QERR_OK && *n == 0)
                rc = qerr_set(ei, QERR_CA_MISSING,
                              "there is no issuing CA yet; run 'quill ca init --data %s' first",
                              ctx->data_dir);
        return rc;
}

/* Gets the CRL of `ca_id` as PEM into `pem` (reset first). */
static enum qerr crl_pem(struct cli_ctx *ctx, int64_t ca_id, struct qbuf *pem, struct qerr_info *ei)
{
        struct qbuf der;
        qbuf_init(&der, CRL_MAX_BYTES);
        qbuf_reset(pem);
        enum qerr rc = service_crl_get(ctx->svc, ca_id, &der, ei);
        if (rc == QERR_OK && !pem_encode(&der, pem))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        qbuf_free(&der);
        return rc;
}

/* One CA: fetch, then write to `out` or print. Adds its entry to `arr`. */
static enum qerr one_crl(struct cli_ctx *ctx, int64_t ca_id, const char *out, json_t *arr,
                         struct qerr_info *ei)
{
        struct qbuf pem;
        qbuf_init(&pem, CRL_MAX_BYTES * 2);
        enum qerr rc = crl_pem(ctx, ca_id, &pem, ei);
        if (rc == QERR_OK && out)
                rc = fs_write_file(out, pem.data, pem.len, 0644, false, ei);
        if (rc == QERR_OK && ctx->json) {
                json_t *o = json_pack("{s:I,s:s?}", "ca_id", (json_int_t)ca_id, "file", out);
                if (o && !out && json_object_set_new(o, "pem", json_string(qbuf_str(&pem)))) {
                        json_decref(o);
                        o = NULL;
                }
                if (json_array_append_new(arr, o) != 0)
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
        } else if (rc == QERR_OK && out) {
                printf("wrote the CRL of CA %lld to %s\n", (long long)ca_id, out);
        } else if (rc == QERR_OK) {
                fputs(qbuf_str(&pem), stdout);
        }
        qbuf_free(&pem);
        return rc;
}

static int run_crls(struct cli_ctx *ctx, int64_t only, const char *out)
{
        struct qerr_info ei;
        qerr_clear(&ei);
        int64_t *ids = NULL;
        size_t n = 0;
        ctx->no_signer = true; /* reads the stored CRLs; signs none */
        if (cli_open_service(ctx, false, &ei) != QERR_OK ||
            pick_cas(ctx, only, &ids, &n, &ei) != QERR_OK) {
                free(ids);
                return cli_fail(ctx, &ei);
        }
        if (out && n != 1) {
                free(ids);
                return cli_usage(ctx,
                                 "--out writes one CRL and there are %zu issuing CAs; name "
                                 "one with --ca ID (see 'quill ca list')",
                                 n);
        }
        json_t *arr = ctx->json ? json_array() : NULL;
        enum qerr rc = ctx->json && !arr ? qerr_set(&ei, QERR_NOMEM, NULL) : QERR_OK;
        for (size_t i = 0; rc == QERR_OK && i < n; i++)
                rc = one_crl(ctx, ids[i], out, arr, &ei);
        free(ids);
        if (rc != QERR_OK) {
                json_decref(arr);
                return cli_fail(ctx, &ei);
        }
        if (ctx->json)
                return cli_print_json(json_pack("{s:o}", "crls", arr));
        return QEXIT_OK;
}

int cmd_crl(struct cli_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"out", required_argument, NULL, 'o'},
            {"ca", required_argument, NULL, 'c'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        const char *out = NULL;
        int64_t only = 0;
        optind = 0;
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                if (c == 'o') {
                        out = optarg;
                } else if (c == 'c') {
                        if (!parse_id(optarg, &only))
                                return cli_usage(ctx, "--ca needs a positive CA id, not '%s'",
                                                 optarg);
                } else if (c == 'h') {
                        printf("Usage: quill crl [--ca ID] [--out FILE]\n");
                        return QEXIT_OK;
                } else {
                        return bad_option(ctx, c, argv);
                }
        }
        if (optind < argc)
                return cli_usage(ctx, "crl takes no argument '%s'", argv[optind]);
        return run_crls(ctx, only, out);
}
