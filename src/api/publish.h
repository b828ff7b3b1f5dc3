/*
 * publish.h - the publication routes: what relying parties fetch without
 * credentials (health, CA certificates, CRLs).
 *
 *   GET /healthz         200 {"status":"ok"}
 *   GET /ca/<id>.pem     the CA certificate, PEM   (application/x-pem-file)
 *   GET /ca/<id>.der     the CA certificate, DER   (application/pkix-cert)
 *   GET /crl/<id>.crl    the CA's latest CRL, DER  (application/pkix-crl)
 *
 * Each route is a thin front door: parse the path, call one service
 * function, encode. The table is static; pass a `struct service *` as the
 * server's user pointer (http_server_start). Handlers run on the HTTP
 * server's polling thread, which must be the only user of that service.
 */
#ifndef QUILL_PUBLISH_H
#define QUILL_PUBLISH_H

#include <stddef.h>

#include "../http/http.h"

/* The route table (static, never freed); *n receives its length. */
const struct http_route *publish_routes(size_t *n);

#endif
