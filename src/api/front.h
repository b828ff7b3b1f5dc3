/*
 * front.h - what the HTTP front doors (publish.c, the REST API, later ACME
 * and the console) get from `quill serve`.
 *
 * Every listener's `user` pointer is a `struct front_ctx`, shared by all
 * worker threads and read-only while serving. Every request's
 * `req->thread_ctx` is a `struct service *` that belongs to the worker
 * thread running the handler (opened by cmd_serve's thread_init, signing
 * through the daemon's one signer process): use it without locking, never
 * keep it past the handler. front_service() returns it.
 */
#ifndef QUILL_API_FRONT_H
#define QUILL_API_FRONT_H

#include "../base/config.h"
#include "../http/http.h"
#include "../service/service.h"

struct api_server;
struct acme_server;
struct ocsp_cache;

struct front_ctx {
        const char *data_dir;
        const struct qconfig *cfg; /* the configuration read at start (restart to change) */
        struct api_server *api;    /* the REST API's shared state (rate limits) */
        struct acme_server *acme;  /* the ACME front door's shared state (nonces) */
        struct ocsp_cache *ocsp;   /* pre-signed OCSP answers (NULL: answer tryLater) */
};

static inline struct service *front_service(const struct http_request *r)
{
        return (struct service *)r->thread_ctx;
}

#endif
