/*
 * publish_ocsp.c - the OCSP responder's front door (RFC 6960, the RFC 5019
 * profile) on the plain HTTP listener; see publish.h for the routes.
 *
 *   POST /ocsp             body: a DER OCSPRequest (any Content-Type)
 *   POST /ocsp/<anything>  the same (some clients add a path)
 *   GET  /ocsp/<base64>    the request in base64 (RFC 6960 A.1), percent-
 *                          decoded by the router ('/' may appear in it)
 *
 * The request is read by our own DER reader (ocsp_req.h), its CertID looked
 * up in the cache the refresher fills (ocsp_cache.h), and the pre-signed
 * OCSPResponse sent without a copy: the response borrows the cached blob
 * and the HTTP server releases it after sending, so a refresh that
 * replaces it meanwhile frees nothing in use. Answers are always OCSP:
 *  - found: the signed response, with RFC 5019 6.2 caching headers
 *    (Cache-Control max-age bounded by nextUpdate and [ocsp]
 *    max_age_seconds, ETag, Last-Modified = thisUpdate, Expires =
 *    nextUpdate); 304 when If-None-Match names its ETag;
 *  - not one DER OCSPRequest, or more than one CertID: malformedRequest;
 *  - an issuer that is not one of our issuing CAs, a CertID hashed with
 *    another algorithm than SHA-1 (RFC 5019 2.1.1), a serial with no
 *    answer (never issued here, or expired): unauthorized;
 *  - an answer past its nextUpdate (the refresher is behind): tryLater.
 * Unsigned answers carry `Cache-Control: no-store`.
 *
 * Memory: nothing is allocated here besides the response headers; the
 * body is a cached blob or a static error response. Threads: the HTTP
 * worker threads; the cache is shared and locks itself.
 */
#include "publish.h"

#include <string.h>

#include "../base/qtime.h"
#include "../ocsp/ocsp_cache.h"
#include "../ocsp/ocsp_req.h"
#include "front.h"

#define CONTENT_TYPE "application/ocsp-response"
#define CACHE_TAIL ", public, no-transform, must-revalidate"

static void unsigned_answer(struct ocsp_cache *c, struct http_response *resp,
                            enum ocsp_error_status s, enum ocsp_answer a)
{
        size_t n;
        resp->status = 200;
        resp->content_type = CONTENT_TYPE;
        resp->static_body = ocsp_error_response(s, &n);
        resp->static_len = n;
        resp->release = NULL;
        http_set_header_str(resp, "Cache-Control", "no-store");
        if (c)
                ocsp_cache_count(c, a);
}

static void signed_answer(const struct front_ctx *f, const struct http_request *req,
                          struct ocsp_blob *b, qtime_t now, struct http_response *resp)
{
        ocsp_cache_count(f->ocsp, b->revoked ? OCSP_ANSWER_REVOKED : OCSP_ANSWER_GOOD);
        long max_age = (long)(b->next_update - now);
        if (max_age > f->cfg->ocsp_max_age_seconds)
                max_age = f->cfg->ocsp_max_age_seconds;
        if (max_age < 0)
                max_age = 0;
        resp->content_type = CONTENT_TYPE;
        /* formatted by hand: printf showed in the profile of this path */
        char cc[80] = "max-age=", digits[24];
        size_t nd = 0, l = strlen(cc);
        do
                digits[nd++] = (char)('0' + max_age % 10);
        while ((max_age /= 10) > 0 && nd < sizeof digits);
        while (nd)
                cc[l++] = digits[--nd];
        memcpy(cc + l, CACHE_TAIL, sizeof CACHE_TAIL);
        http_set_header_str(resp, "Cache-Control", cc);
        http_set_header_str(resp, "ETag", b->etag);
        http_set_header_str(resp, "Last-Modified", b->last_modified);
        http_set_header_str(resp, "Expires", b->expires);
        const char *inm = http_header(req, "If-None-Match");
        if (inm && strcmp(inm, b->etag) == 0) {
                resp->status = 304;
                ocsp_blob_unref(b);
                return;
        }
        resp->status = 200;
        resp->static_body = b->der;
        resp->static_len = b->len;
        resp->release = ocsp_blob_unref;
        resp->release_arg = b;
}

static void answer(void *user, const struct http_request *req, const uint8_t *der, size_t len,
                   struct http_response *resp)
{
        const struct front_ctx *f = user;
        if (!f->ocsp) {
                unsigned_answer(NULL, resp, OCSP_ERR_TRY_LATER, OCSP_ANSWER_TRY_LATER);
                return;
        }
        struct ocsp_certid id;
        if (ocsp_req_parse(der, len, &id) != OCSP_REQ_OK) {
                unsigned_answer(f->ocsp, resp, OCSP_ERR_MALFORMED, OCSP_ANSWER_MALFORMED);
                return;
        }
        qtime_t now = qtime_now();
        struct ocsp_blob *b = NULL;
        switch (ocsp_cache_lookup(f->ocsp, &id, now, &b)) {
        case OCSP_LOOKUP_FOUND:
                signed_answer(f, req, b, now, resp);
                return;
        case OCSP_LOOKUP_STALE:
                unsigned_answer(f->ocsp, resp, OCSP_ERR_TRY_LATER, OCSP_ANSWER_TRY_LATER);
                return;
        case OCSP_LOOKUP_UNKNOWN:
        default:
                unsigned_answer(f->ocsp, resp, OCSP_ERR_UNAUTHORIZED, OCSP_ANSWER_UNAUTHORIZED);
                return;
        }
}

void publish_ocsp_post(void *user, const struct http_request *req, struct http_response *resp)
{
        answer(user, req, req->body, req->body_len, resp);
}

void publish_ocsp_get(void *user, const struct http_request *req, struct http_response *resp)
{
        const char *b64 = req->nparams ? req->params[0] : "";
        size_t n = strlen(b64);
        uint8_t der[OCSP_MAX_REQUEST];
        size_t len = 0;
        if (n == 0 || n > OCSP_MAX_REQUEST * 4 / 3 + 4 ||
            !ocsp_req_b64(b64, n, der, sizeof der, &len))
                len = 0; /* answered malformedRequest by the parser */
        answer(user, req, len ? der : NULL, len, resp);
}
