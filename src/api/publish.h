/*
 * publish.h - the publication routes of the plain HTTP listener: what
 * relying parties and monitoring fetch without credentials.
 *
 *   GET /healthz         200 {"status":"ok"}
 *   GET /ca/<id>.pem     the CA certificate, PEM   (application/x-pem-file)
 *   GET /ca/<id>.der     the CA certificate, DER   (application/pkix-cert)
 *   GET /crl/<id>.crl    the CA's unsharded CRL, DER (application/pkix-crl):
 *                        a root's complete CRL; an issuing CA's CRL of the
 *                        certificates issued before sharding
 *   GET /crl/<id>/<shard>.crl  one shard CRL of an issuing CA, DER
 *                        (CRLs with Cache-Control, ETag, Last-Modified and
 *                        Expires; 304 to a matching If-None-Match)
 *   POST /ocsp           OCSP (RFC 6960, RFC 5019): a DER OCSPRequest in, an
 *   POST /ocsp/...       OCSPResponse out (application/ocsp-response), from
 *   GET /ocsp/<base64>   the cache of pre-signed answers (publish_ocsp.c)
 *   GET /metrics         the Prometheus text exposition of the process
 *                        (loopback-only unless [server] metrics_loopback_only
 *                        = false: cmd_serve passes PUBLISH_METRICS_PATTERN in
 *                        the listener's loopback_only_patterns)
 *
 * Each route is a thin front door: parse the path, call one service
 * function, encode. The tables are static; handlers take the listener's
 * `struct front_ctx *` as user and the worker's `struct service *` as
 * req->thread_ctx (front.h).
 */
#ifndef QUILL_PUBLISH_H
#define QUILL_PUBLISH_H

#include <stddef.h>

#include "../http/http.h"

#define PUBLISH_METRICS_PATTERN "/metrics"

/* The OCSP handlers (publish_ocsp.c). */
void publish_ocsp_post(void *user, const struct http_request *req, struct http_response *resp);
void publish_ocsp_get(void *user, const struct http_request *req, struct http_response *resp);

/* The route table of the HTTP listener (static, never freed); *n receives
 * its length. */
const struct http_route *publish_routes(size_t *n);
/* Just /healthz, for the HTTPS listener. */
const struct http_route *publish_health_routes(size_t *n);

#endif
