/*
 * publish.c - the publication routes; see publish.h.
 *
 * Each handler decodes the path (ids strictly: decimal digits, no sign, no
 * leading zero, at most INT64_MAX), calls one service function and writes the
 * answer into the response the server lent it. The DER form of a CA
 * certificate is the base64 body of the stored PEM, decoded here so that no
 * front door links a crypto library.
 *
 * Memory: records from the service are freed before a handler returns; the
 * response body belongs to the server. Threads: handlers run on the HTTP
 * worker threads, each with its own service handle (req->thread_ctx).
 */
#include "publish.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/metrics.h"
#include "../base/qtime.h"
#include "front.h"

/* Parses "<id><ext>" (the captured file name) strictly. */
static bool parse_id(const char *s, const char *ext, int64_t *out)
{
        if (*s < '1' || *s > '9')
                return false;
        int64_t v = 0;
        const char *p = s;
        for (; *p >= '0' && *p <= '9'; p++) {
                int d = *p - '0';
                if (v > (INT64_MAX - d) / 10)
                        return false;
                v = v * 10 + d;
        }
        if (strcmp(p, ext) != 0)
                return false;
        *out = v;
        return true;
}

static void not_found(struct http_response *resp)
{
        struct qerr_info ei;
        qerr_set(&ei, QERR_NOT_FOUND, "Nothing is published at this path.");
        http_error(resp, &ei);
}

/* Answers a service error; server-side failures are logged in full and
 * answered with the table's sentence only. */
static void service_failed(struct http_response *resp, const char *what, const struct qerr_info *ei)
{
        if (qerr_http_status(ei->code) < 500) {
                http_error(resp, ei);
                return;
        }
        char emsg[QERR_MSG_MAX + 8];
        qlog_error(what, "code=%s detail=%s", qerr_code(ei->code),
                   qlog_escape(qerr_message(ei), emsg, sizeof emsg));
        struct qerr_info plain;
        qerr_set(&plain, ei->code, NULL);
        http_error(resp, &plain);
}

/* ---- base64 of a PEM body ---- */

static int b64_value(unsigned char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

/* Decodes standard base64 in [p, end) into `out`, skipping whitespace.
 * Padding is accepted only at the end; the length must be a multiple of 4. */
static bool b64_decode(const char *p, const char *end, struct qbuf *out)
{
        uint32_t acc = 0;
        int nchars = 0, npad = 0;
        for (; p < end; p++) {
                unsigned char c = (unsigned char)*p;
                if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
                        continue;
                if (c == '=') {
                        if (nchars < 2 || ++npad > 2)
                                return false;
                        acc <<= 6;
                        nchars++;
                } else {
                        int v = b64_value(c);
                        if (v < 0 || npad)
                                return false;
                        acc = (acc << 6) | (uint32_t)v;
                        nchars++;
                }
                if (nchars == 4) {
                        uint8_t b[3] = {(uint8_t)(acc >> 16), (uint8_t)(acc >> 8), (uint8_t)acc};
                        if (!qbuf_append(out, b, (size_t)(3 - npad)))
                                return false;
                        acc = 0;
                        nchars = 0;
                        if (npad)
                                npad = 3; /* nothing may follow the padding */
                }
        }
        return nchars == 0;
}

/* The DER of the first CERTIFICATE block of `pem`. */
static bool pem_cert_to_der(const char *pem, struct qbuf *out)
{
        static const char begin[] = "-----BEGIN CERTIFICATE-----";
        static const char end[] = "-----END CERTIFICATE-----";
        const char *b = strstr(pem, begin);
        if (!b)
                return false;
        b += sizeof begin - 1;
        const char *e = strstr(b, end);
        if (!e)
                return false;
        return b64_decode(b, e, out) && out->len > 0;
}

/* ---- handlers ---- */

static void on_healthz(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        (void)req;
        resp->status = 200;
        resp->content_type = "application/json";
        qbuf_append_str(&resp->body, "{\"status\":\"ok\"}");
        http_set_header(resp, "Cache-Control", "no-store");
}

static void on_ca(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        struct service *svc = front_service(req);
        const char *rest = req->params[0];
        int64_t id;
        bool der;
        if (parse_id(rest, ".pem", &id))
                der = false;
        else if (parse_id(rest, ".der", &id))
                der = true;
        else {
                not_found(resp);
                return;
        }

        struct qerr_info ei;
        qerr_clear(&ei);
        struct ca_rec *ca = NULL;
        if (service_ca_get(svc, id, &ca, &ei) != QERR_OK) {
                service_failed(resp, "ca certificate lookup failed", &ei);
                return;
        }
        bool ok;
        if (der) {
                ok = ca->cert_pem && pem_cert_to_der(ca->cert_pem, &resp->body);
                resp->content_type = "application/pkix-cert";
        } else {
                ok = ca->cert_pem && qbuf_append_str(&resp->body, ca->cert_pem);
                resp->content_type = "application/x-pem-file";
        }
        ca_rec_free(ca);
        if (!ok) {
                qerr_set(&ei, QERR_INTERNAL, "the stored certificate of CA %lld is not usable PEM",
                         (long long)id);
                service_failed(resp, "ca certificate encoding failed", &ei);
                return;
        }
        resp->status = 200;
}

/* "<shard>.crl": decimal, no sign, no leading zero, below
 * QUILL_MAX_CRL_SHARDS. */
static bool parse_shard(const char *s, int *shard)
{
        if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '.'))
                return false;
        int v = 0;
        const char *p = s;
        for (; *p >= '0' && *p <= '9'; p++) {
                v = v * 10 + (*p - '0');
                if (v >= QUILL_MAX_CRL_SHARDS)
                        return false;
        }
        if (strcmp(p, ".crl") != 0)
                return false;
        *shard = v;
        return true;
}

/* Does If-None-Match name `etag` ("*" or a list of entity tags, weak ones
 * compared weakly: RFC 9110 13.1.2)? */
static bool etag_matches(const char *inm, const char *etag)
{
        if (!inm)
                return false;
        size_t el = strlen(etag);
        for (const char *p = inm; *p;) {
                while (*p == ' ' || *p == '\t' || *p == ',')
                        p++;
                if (*p == '*')
                        return true;
                if (p[0] == 'W' && p[1] == '/')
                        p += 2;
                const char *end = p;
                while (*end && *end != ',')
                        end++;
                const char *e = end;
                while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
                        e--;
                if ((size_t)(e - p) == el && memcmp(p, etag, el) == 0)
                        return true;
                p = end;
        }
        return false;
}

/* The caching headers of a CRL (service_crl_http): relying parties and
 * proxies keep it at most CRL_HTTP_MAX_AGE seconds (never past its
 * nextUpdate) and ask again cheaply with If-None-Match. */
static void crl_headers(struct http_response *resp, const struct crl_info *info)
{
        struct crl_http h;
        service_crl_http(info, qtime_now(), &h);
        char lm[40], ex[40];
        http_set_header(resp, "Cache-Control", "public, max-age=%ld", h.max_age);
        http_set_header(resp, "ETag", "%s", h.etag);
        http_set_header(resp, "Last-Modified", "%s",
                        qtime_http_date(h.last_modified, lm, sizeof lm));
        http_set_header(resp, "Expires", "%s", qtime_http_date(h.expires, ex, sizeof ex));
}

/* GET /crl/<ca>.crl (the CA's unsharded CRL) and /crl/<ca>/<shard>.crl. */
static void on_crl(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        struct service *svc = front_service(req);
        int64_t id;
        int shard = CRL_SHARD_NONE;
        bool ok = req->nparams == 1
                      ? parse_id(req->params[0], ".crl", &id)
                      : parse_id(req->params[0], "", &id) && parse_shard(req->params[1], &shard);
        if (!ok) {
                not_found(resp);
                return;
        }
        struct qerr_info ei;
        qerr_clear(&ei);
        struct crl_info info;
        /* a client holding this very CRL gets 304 without its bytes */
        enum qerr e = service_crl_get(svc, id, shard, NULL, &info, &ei);
        struct crl_http h;
        if (e == QERR_OK) {
                service_crl_http(&info, qtime_now(), &h);
                if (etag_matches(http_header(req, "If-None-Match"), h.etag)) {
                        resp->status = 304;
                        resp->content_type = "application/pkix-crl";
                        crl_headers(resp, &info);
                        return;
                }
                /* read again with the bytes: a newer CRL may have been stored
                 * meanwhile, and the headers must describe what is sent */
                e = service_crl_get(svc, id, shard, &resp->body, &info, &ei);
        }
        if (e == QERR_OK && resp->body.len == 0)
                e = qerr_set(&ei, QERR_NOT_FOUND, "CA %lld has no CRL yet.", (long long)id);
        if (e != QERR_OK) {
                qbuf_reset(&resp->body);
                service_failed(resp, "crl lookup failed", &ei);
                return;
        }
        resp->status = 200;
        resp->content_type = "application/pkix-crl";
        crl_headers(resp, &info);
}

static void on_metrics(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        (void)req;
        if (!metrics_render(&resp->body)) {
                struct qerr_info ei;
                qerr_set(&ei, QERR_NOMEM, "the metrics did not fit the response buffer");
                service_failed(resp, "metrics rendering failed", &ei);
                return;
        }
        resp->status = 200;
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
        http_set_header(resp, "Cache-Control", "no-store");
}

static const struct http_route routes[] = {
    {.method = "GET", .pattern = "/healthz", .fn = on_healthz},
    /* OCSP first: the busiest routes are matched first */
    {.method = "POST", .pattern = "/ocsp", .fn = publish_ocsp_post},
    {.method = "GET", .pattern = "/ocsp/*", .fn = publish_ocsp_get},
    {.method = "POST", .pattern = "/ocsp/*", .fn = publish_ocsp_post},
    {.method = "GET", .pattern = "/ca/{file}", .fn = on_ca},
    {.method = "GET", .pattern = "/crl/{file}", .fn = on_crl},
    {.method = "GET", .pattern = "/crl/{ca}/{file}", .fn = on_crl},
    {.method = "GET", .pattern = PUBLISH_METRICS_PATTERN, .fn = on_metrics},
};

const struct http_route *publish_routes(size_t *n)
{
        *n = sizeof routes / sizeof routes[0];
        return routes;
}

const struct http_route *publish_health_routes(size_t *n)
{
        *n = 1;
        return routes;
}
