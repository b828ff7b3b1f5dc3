/*
 * api.h - the REST API /api/v1 (issue 6): a thin front door over the
 * service. Each route decodes its request (path ids, query, a strict JSON
 * body), authenticates the bearer token, applies the tenant's rate limit,
 * checks the key's role, calls one service function and encodes the answer
 * with the shapes of src/base/model_json.h. The contract is docs/api.md and
 * docs/openapi.yaml; tests hold the server against the OpenAPI file.
 *
 * Memory and threads: an api_server is made once by `quill serve` (owner:
 * the caller; free it after the HTTP server stopped). Handlers run on the
 * HTTP server's worker threads with the listener's `struct front_ctx` as
 * user pointer and the thread's own service handle as req->thread_ctx
 * (front.h). The rate limiter is shared and locked.
 */
#ifndef QUILL_API_H
#define QUILL_API_H

#include <stddef.h>

#include "../base/config.h"
#include "../base/err.h"
#include "../http/http.h"

struct api_server;

/* The API's shared state (the per-tenant rate limits of `cfg`, which must
 * outlive it); `quill serve` keeps it in front_ctx.api. */
enum qerr api_server_new(const struct qconfig *cfg, struct api_server **out, struct qerr_info *ei);
void api_server_free(struct api_server *a);

/* The route table of /api/v1 (static, never freed); *n receives its length. */
const struct http_route *api_routes(size_t *n);

#endif
