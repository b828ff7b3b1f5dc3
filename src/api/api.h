/*
 * api.h - STUB. The REST API (/api/v1, issue 6) is being written in
 * parallel and replaces this file and api.c. Until then the HTTPS listener
 * of `quill serve` serves /healthz only and answers 404 elsewhere.
 *
 * Contract used by cmd_serve.c: api_routes() returns a static route table
 * (the server copies it) whose handlers take a `struct front_ctx *` as
 * `user` and the worker's `struct service *` as req->thread_ctx (see
 * front.h); cmd_serve appends it to the HTTPS listener's table.
 */
#ifndef QUILL_API_API_H
#define QUILL_API_API_H

#include <stddef.h>

#include "../http/http.h"

const struct http_route *api_routes(size_t *n);

#endif
