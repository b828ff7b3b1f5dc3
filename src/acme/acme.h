/*
 * acme.h - the ACME front door (RFC 8555, issue 8) on the HTTPS listener:
 * /acme/directory and the resources it names. A thin adapter: it checks the
 * request (POST with application/jose+json, a strict JWS, the protected url
 * equal to the request URL, a fresh nonce, the account's signature), decodes
 * the payload strictly, calls one function of src/service/service_acme.h
 * and encodes the answer; failures are RFC 7807 problem documents whose
 * type comes from the error table (err.h). Every answer carries a fresh
 * Replay-Nonce and a Link to the directory.
 *
 * URLs are made from the request's Host header ("https://<host>/acme/..."),
 * the way clients reach the directory.
 *
 * Memory and threads: one acme_server per `quill serve` (owner: the caller;
 * free after the HTTP server stopped), shared by the request threads (the
 * nonce table is locked); handlers use the thread's own service handle.
 */
#ifndef QUILL_ACME_H
#define QUILL_ACME_H

#include <stddef.h>

#include "../base/config.h"
#include "../base/err.h"
#include "../http/http.h"

struct acme_server;

enum qerr acme_server_new(const struct qconfig *cfg, struct acme_server **out,
                          struct qerr_info *ei);
void acme_server_free(struct acme_server *a);

/* The route table of /acme (static, never freed). */
const struct http_route *acme_routes(size_t *n);

#endif
