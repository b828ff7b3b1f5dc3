/*
 * api_certs.c - /api/v1/certificates: list (keyset pages), read with the
 * event history, download (PEM chain, nginx/apache zips, PKCS#12), revoke,
 * reissue, delete and upload. Each handler: the gate (api_begin), decode,
 * one service call, encode. Threads: the HTTP worker threads (api.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/b64.h"
#include "../base/zip.h"
#include "api_int.h"
#include "lint_json.h"

#define MIB (1024u * 1024u)

static const char *const STATUSES[] = {"issued",  "reissuing", "revocation_pending",
                                       "revoked", "expired",   NULL};

static void list_certs(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN))
                return;
        static const char *const allowed[] = {"status", "name", "expires_before", "origin", "limit",
                                              "cursor", NULL};
        if (!api_query_only(&c, allowed))
                return;
        static const char *const origins[] = {"issued", "uploaded", NULL};
        struct cert_query q = {.origin = -1, .now = qtime_now()};
        char name[QUILL_MAX_NAME_LEN + 1], exp[40];
        const char *v;
        if (!api_page(&c, &q.limit, &q.before_id) ||
            !api_query_choice(&c, "status", STATUSES, NULL, &q.status))
                return;
        if (!api_query(&c, "name", name, sizeof name, &v))
                return;
        q.name = v && *v ? v : NULL;
        if (!api_query(&c, "expires_before", exp, sizeof exp, &v))
                return;
        if (v && !api_parse_time(v, &q.expires_before))
                return api_bad(&c, "expires_before must be an RFC 3339 time such as "
                                   "2027-01-01T00:00:00Z");
        if (!api_query_choice(&c, "origin", origins, NULL, &v))
                return;
        if (v)
                q.origin = strcmp(v, "issued") == 0 ? ORIGIN_ISSUED : ORIGIN_UPLOADED;

        struct cert_rec **certs = NULL;
        size_t n = 0;
        bool more = false;
        struct qerr_info ei;
        if (service_cert_list(c.svc, &q, &certs, &n, &more, &ei) != QERR_OK)
                return api_fail(&c, &ei);
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_of_cert(certs[i], q.now)) != 0) {
                        json_decref(a);
                        a = NULL;
                }
        json_t *cursor = api_cursor(more, n ? certs[n - 1]->id : 0);
        store_free_certs(certs, n);
        api_json(&c, 200,
                 a ? json_pack("{s:o,s:o}", "certificates", a, "next_cursor", cursor) : NULL);
}

/* {"certificate": {... "events": [...]}} for certificate `id`. */
static json_t *cert_with_events(struct api_call *c, int64_t id, struct qerr_info *ei)
{
        struct cert_rec *cert = NULL;
        struct event_rec *ev = NULL;
        size_t nev = 0;
        if (service_cert_get(c->svc, id, &cert, &ev, &nev, ei) != QERR_OK)
                return NULL;
        json_t *o = json_of_cert(cert, qtime_now());
        if (o && json_object_set_new(o, "events", json_of_events(ev, nev)) != 0) {
                json_decref(o);
                o = NULL;
        }
        cert_rec_free(cert);
        store_free_events(ev, nev);
        if (!o)
                qerr_set(ei, QERR_NOMEM, NULL);
        return o ? json_pack("{s:o}", "certificate", o) : NULL;
}

static void get_cert(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        int64_t id;
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN) || !api_id(&c, 0, &id))
                return;
        static const char *const none[] = {NULL};
        if (!api_query_only(&c, none))
                return;
        struct qerr_info ei;
        json_t *o = cert_with_events(&c, id, &ei);
        if (!o)
                return api_fail(&c, &ei);
        api_json(&c, 200, o);
}

/* ---- download ---- */

/* Answers the bundle of format `fmt` of certificate `id`. */
static void send_bundle(struct api_call *c, int64_t id, const char *fmt, const char *password,
                        const char *key_password, bool chain_only)
{
        struct filebag bag;
        memset(&bag, 0, sizeof bag);
        struct download_req r = {.id = id,
                                 .format = fmt,
                                 .password = password,
                                 .key_password = key_password,
                                 .bag = &bag};
        struct qerr_info ei;
        if (service_cert_download(c->svc, &r, NULL, &ei) != QERR_OK) {
                filebag_free(&bag);
                return api_fail(c, &ei);
        }
        struct qbuf *body = &c->resp->body;
        qbuf_reset(body);
        bool okb = true;
        const char *ctype = "application/zip", *ext = "zip";
        if (chain_only) {
                const struct filebag_file *f = filebag_find(&bag, "fullchain.pem");
                okb = f && qbuf_append(body, f->data, f->len);
                ctype = "application/pem-certificate-chain";
                ext = "pem";
        } else if (!strcmp(fmt, "iis") || !strcmp(fmt, "tomcat")) {
                okb = bag.n == 1 && qbuf_append(body, bag.f[0].data, bag.f[0].len);
                ctype = "application/x-pkcs12";
                ext = !strcmp(fmt, "iis") ? "pfx" : "p12";
        } else {
                okb = zip_of_bag(&bag, body);
        }
        filebag_free(&bag);
        if (!okb) {
                qerr_set(&ei, QERR_NOMEM, "the download does not fit in one answer");
                return api_fail(c, &ei);
        }
        c->resp->status = 200;
        c->resp->content_type = ctype;
        http_set_header(c->resp, "Content-Disposition",
                        "attachment; filename=\"certificate-%lld.%s\"", (long long)id, ext);
        http_set_header(c->resp, "Cache-Control", "no-store");
}

static void download_get(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        int64_t id;
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN) || !api_id(&c, 0, &id))
                return;
        static const char *const allowed[] = {"format", NULL};
        if (!api_query_only(&c, allowed))
                return;
        static const char *const formats[] = {"pem", "nginx", "apache", "iis", "tomcat", NULL};
        const char *v;
        if (!api_query_choice(&c, "format", formats, "pem", &v))
                return;
        if (!strcmp(v, "iis") || !strcmp(v, "tomcat"))
                return api_bad(&c, "%s files are PKCS#12 and need a password: POST "
                                   "{\"format\":\"%s\",\"password\":\"...\"} to this URL",
                               v, v);
        send_bundle(&c, id, v, NULL, NULL, strcmp(v, "pem") == 0);
}

static void download_post(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        int64_t id;
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN) || !api_id(&c, 0, &id))
                return;
        const char *fmt = NULL, *password = NULL, *key_password = NULL;
        const struct jfield f[] = {
            {"format", JF_STRING, true, 0, 16, &fmt, NULL, NULL, 0},
            {"password", JF_STRING, false, 0, 1024, &password, NULL, NULL, 0},
            {"key_password", JF_STRING, false, 0, 1024, &key_password, NULL, NULL, 0},
        };
        json_t *root = NULL;
        if (!api_body(&c, f, sizeof f / sizeof f[0], false, &root))
                return;
        send_bundle(&c, id, fmt, password, key_password, false);
        json_decref(root);
}

/* ---- revoke, reissue, delete ---- */

static void revoke(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        int64_t id;
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN) || !api_id(&c, 0, &id))
                return;
        const char *reason = NULL, *method = NULL, *letter = NULL;
        const struct jfield f[] = {
            {"reason", JF_STRING, true, 0, 32, &reason, NULL, NULL, 0},
            {"method", JF_STRING, false, 0, 8, &method, NULL, NULL, 0},
            {"letter", JF_TEXT, false, 0, 2 * MIB, &letter, NULL, NULL, 0},
        };
        json_t *root = NULL;
        if (!api_body(&c, f, sizeof f / sizeof f[0], false, &root))
                return;
        struct qerr_info ei;
        struct revoke_req r = {.id = id, .method = method};
        struct qbuf lb;
        qbuf_init(&lb, MAX_UPLOAD_BYTES + 1);
        if (!revoke_reason_from_name(reason, &r.reason)) {
                qerr_set(&ei, QERR_REVOKE_REASON, NULL);
                goto fail;
        }
        if (letter && !b64_decode(letter, strlen(letter), &lb)) {
                qerr_set(&ei, QERR_LETTER_INVALID,
                         "the letter must be the file in standard base64, at most 1.4 MB once "
                         "decoded (JPG, PNG or PDF)");
                goto fail;
        }
        r.letter = letter ? lb.data : NULL;
        r.letter_len = letter ? lb.len : 0;
        struct revoke_out out;
        if (service_cert_revoke(c.svc, &r, &out, &ei) != QERR_OK)
                goto fail;
        /* the revocation request: done, or pending with what to do next */
        json_t *o = NULL;
        if (out.proof_order) {
                struct order_rec *po = NULL;
                if (service_order_get(c.svc, out.proof_order, &po, &ei) != QERR_OK)
                        goto fail_out;
                o = json_pack("{s:{s:s,s:s,s:o,s:s}}", "revocation", "status", "pending", "reason",
                              revoke_reason_name(r.reason), "proof_order",
                              json_of_order(po, qtime_now()), "next",
                              "prove control of every name again within 3 days: publish what "
                              "proof_order shows, then POST /api/v1/orders/{id}/validate");
                order_rec_free(po);
        } else if (out.review_id) {
                o = json_pack("{s:{s:s,s:s,s:I,s:s}}", "revocation", "status", "pending", "reason",
                              revoke_reason_name(r.reason), "review_id", (json_int_t)out.review_id,
                              "next",
                              "a reviewer checks the signed letter; the certificate is revoked "
                              "once the review is approved");
        } else {
                json_t *ids = json_array();
                for (size_t i = 0; ids && i < out.nrevoked; i++)
                        json_array_append_new(ids, json_integer((json_int_t)out.revoked[i]));
                o = json_pack("{s:{s:s,s:s,s:o}}", "revocation", "status", "done", "reason",
                              revoke_reason_name(r.reason), "revoked", ids ? ids : json_array());
        }
        free(out.revoked);
        qbuf_free(&lb);
        json_decref(root);
        api_json(&c, 200, o);
        return;
fail_out:
        free(out.revoked);
fail:
        qbuf_free(&lb);
        json_decref(root);
        api_fail(&c, &ei);
}

static void reissue(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        int64_t id;
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN) || !api_id(&c, 0, &id))
                return;
        const char *src = NULL, *csr = NULL, *key = NULL, *key_password = NULL, *reason = NULL,
                   *method = NULL;
        const struct jfield f[] = {
            {"csr_source", JF_STRING, true, 0, 16, &src, NULL, NULL, 0},
            {"csr", JF_TEXT, false, 0, MAX_CSR_BYTES, &csr, NULL, NULL, 0},
            {"key", JF_STRING, false, 0, 16, &key, NULL, NULL, 0},
            {"key_password", JF_STRING, false, 0, 1024, &key_password, NULL, NULL, 0},
            {"reason", JF_TEXT, true, 0, 500, &reason, NULL, NULL, 0},
            {"method", JF_STRING, false, 0, 8, &method, NULL, NULL, 0},
        };
        json_t *root = NULL;
        if (!api_body(&c, f, sizeof f / sizeof f[0], false, &root))
                return;
        struct reissue_req r = {.id = id,
                                .key_alg = key,
                                .key_password = key_password,
                                .reason = reason,
                                .method = method};
        if (!strcmp(src, "original"))
                r.csr_source = REISSUE_SAME_CSR;
        else if (!strcmp(src, "pasted"))
                r.csr_source = REISSUE_PASTED_CSR;
        else if (!strcmp(src, "generated"))
                r.csr_source = REISSUE_NEW_KEY;
        else {
                json_decref(root);
                return api_bad(&c, "csr_source must be original, pasted or generated");
        }
        if ((r.csr_source == REISSUE_PASTED_CSR) != (csr != NULL) ||
            (r.csr_source == REISSUE_NEW_KEY) != (key != NULL) ||
            (key_password && r.csr_source != REISSUE_NEW_KEY)) {
                json_decref(root);
                return api_bad(&c, "csr_source pasted needs csr, generated needs key (and may "
                                   "take key_password), original takes neither");
        }
        r.csr = (const uint8_t *)csr;
        r.csr_len = csr ? strlen(csr) : 0;
        struct cert_rec *nc = NULL;
        int64_t proof = 0;
        struct qerr_info ei;
        enum qerr rc = service_cert_reissue(c.svc, &r, &nc, &proof, &ei);
        json_decref(root);
        if (rc != QERR_OK)
                return api_fail(&c, &ei);
        json_t *o;
        if (nc) {
                o = json_pack("{s:{s:s,s:o}}", "reissue", "status", "done", "certificate",
                              json_of_cert(nc, qtime_now()));
                http_set_header(c.resp, "Location", "/api/v1/certificates/%lld", (long long)nc->id);
                cert_rec_free(nc);
        } else {
                struct order_rec *po = NULL;
                if (service_order_get(c.svc, proof, &po, &ei) != QERR_OK)
                        return api_fail(&c, &ei);
                o = json_pack("{s:{s:s,s:o,s:s}}", "reissue", "status", "pending", "proof_order",
                              json_of_order(po, qtime_now()), "next",
                              "the names are validated again: publish what proof_order shows, "
                              "then POST /api/v1/orders/{id}/validate");
                order_rec_free(po);
        }
        api_json(&c, nc ? 201 : 202, o);
}

static void delete_cert(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        int64_t id;
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN) || !api_id(&c, 0, &id))
                return;
        struct qerr_info ei;
        if (service_cert_delete(c.svc, id, &ei) != QERR_OK)
                return api_fail(&c, &ei);
        resp->status = 204;
        qbuf_reset(&resp->body);
        resp->content_type = NULL;
}

static void upload(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN))
                return;
        const char *cert = NULL, *key = NULL, *chain = NULL, *key_password = NULL;
        const struct jfield f[] = {
            {"certificate", JF_TEXT, true, 0, MAX_PEM_BYTES, &cert, NULL, NULL, 0},
            {"key", JF_TEXT, true, 0, MAX_PEM_BYTES, &key, NULL, NULL, 0},
            {"chain", JF_TEXT, false, 0, MAX_PEM_BYTES, &chain, NULL, NULL, 0},
            {"key_password", JF_STRING, false, 0, 1024, &key_password, NULL, NULL, 0},
        };
        json_t *root = NULL;
        if (!api_body(&c, f, sizeof f / sizeof f[0], false, &root))
                return;
        /* a third-party certificate is the user's business, but they
         * should know what the linter says of it: warnings in the answer */
        struct lint_report lint;
        lint_report_init(&lint);
        struct upload_req r = {.cert_pem = cert,
                               .cert_len = strlen(cert),
                               .key_pem = key,
                               .key_len = strlen(key),
                               .key_password = key_password,
                               .chain_pem = chain,
                               .chain_len = chain ? strlen(chain) : 0,
                               .lint = &lint};
        struct cert_rec *nc = NULL;
        struct qerr_info ei;
        enum qerr rc = service_cert_upload(c.svc, &r, &nc, &ei);
        json_decref(root);
        if (rc != QERR_OK) {
                lint_report_free(&lint);
                return api_fail(&c, &ei);
        }
        http_set_header(c.resp, "Location", "/api/v1/certificates/%lld", (long long)nc->id);
        api_json(&c, 201,
                 json_pack("{s:o,s:o}", "certificate", json_of_cert(nc, qtime_now()), "lint",
                           json_of_lint(&lint)));
        lint_report_free(&lint);
        cert_rec_free(nc);
}

const struct http_route api_cert_routes[] = {
    {"GET", "/api/v1/certificates", 0, list_certs},
    {"POST", "/api/v1/certificates/upload", MIB, upload},
    {"GET", "/api/v1/certificates/{id}", 0, get_cert},
    {"DELETE", "/api/v1/certificates/{id}", 0, delete_cert},
    {"GET", "/api/v1/certificates/{id}/download", 0, download_get},
    {"POST", "/api/v1/certificates/{id}/download", 0, download_post},
    {"POST", "/api/v1/certificates/{id}/revoke", 2 * MIB, revoke},
    {"POST", "/api/v1/certificates/{id}/reissue", MIB, reissue},
};
const size_t api_cert_nroutes = sizeof api_cert_routes / sizeof api_cert_routes[0];
