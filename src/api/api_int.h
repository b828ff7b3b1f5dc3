/*
 * api_int.h - what the files of src/api/ share: the per-thread context, the
 * per-request call, and small helpers for the front door's chores. Not for
 * use outside src/api. Same threading rules as api.h: an api_call lives on
 * one handler's stack.
 */
#ifndef QUILL_API_INT_H
#define QUILL_API_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "../base/model_json.h"
#include "../service/service.h"
#include "api.h"
#include "front.h"
#include "api_json.h"

/* Role bits of a route. */
#define R_USER (1u << ROLE_USER)
#define R_REVIEWER (1u << ROLE_REVIEWER)
#define R_ADMIN (1u << ROLE_ADMIN)
#define R_ANY (R_USER | R_REVIEWER | R_ADMIN)

#define API_PAGE_DEFAULT 50
#define API_PAGE_MAX 500

struct api_call {
        struct api_server *srv;
        struct service *svc; /* the worker thread's (front.h) */
        struct principal who;
        const struct http_request *req;
        struct http_response *resp;
};

/* Authenticates the bearer token, applies the tenant's rate limit and
 * checks that the key's role is one of `roles`, in that order, before the
 * handler looks at anything else. false: the answer (401, 429, 403, 500) is
 * already in resp. */
bool api_begin(struct api_call *c, void *user, const struct http_request *req,
               struct http_response *resp, unsigned roles);

/* Answers an error from the service: its code, HTTP status and sentence;
 * server-side failures (5xx) are logged in full and answered with the
 * table's sentence only. */
void api_fail(struct api_call *c, const struct qerr_info *ei);
/* Answers QERR_MALFORMED (400) with a sentence. */
void api_bad(struct api_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sends `obj` (stolen) as JSON with `status`; 500 when it is NULL. */
void api_json(struct api_call *c, int status, json_t *obj);

/* Path parameter `i` as a positive id; false after answering 400. */
bool api_id(struct api_call *c, size_t i, int64_t *out);

/* Query parameters: api_query_only() answers 400 when the query names a
 * parameter outside `allowed` (NULL-terminated) or names one twice. */
bool api_query_only(struct api_call *c, const char *const *allowed);
/* A query parameter, decoded (NULL when absent); false after answering 400
 * (too long). */
bool api_query(struct api_call *c, const char *name, char *buf, size_t sz, const char **out);
/* A query parameter that must be one of `choices` (NULL-terminated): *out
 * is that choice (static), or `dflt` when the parameter is absent; false
 * after answering 400 with the choices. */
bool api_query_choice(struct api_call *c, const char *name, const char *const *choices,
                      const char *dflt, const char **out);
/* limit (1..API_PAGE_MAX, default API_PAGE_DEFAULT) and cursor (keyset
 * position; 0 when absent). false after answering 400. */
bool api_page(struct api_call *c, size_t *limit, int64_t *before_id);
/* The opaque next_cursor value for a page whose last id is `last`, or
 * JSON null when there is no next page. */
json_t *api_cursor(bool more, int64_t last);
/* An RFC 3339 UTC time ("2026-12-01T00:00:00Z"); false when malformed. */
bool api_parse_time(const char *s, qtime_t *out);

/* The body as a JSON object decoded against `fields` (api_json.h); false
 * after answering 400. *root is the caller's (json_decref). An empty body is
 * taken as {} when `empty_ok`. */
bool api_body(struct api_call *c, const struct jfield *fields, size_t n, bool empty_ok,
              json_t **root);

/* Route tables of each file. */
extern const struct http_route api_cert_routes[];
extern const size_t api_cert_nroutes;
extern const struct http_route api_order_routes[];
extern const size_t api_order_nroutes;
extern const struct http_route api_admin_routes[];
extern const size_t api_admin_nroutes;
extern const struct http_route api_notify_routes[];
extern const size_t api_notify_nroutes;

#endif
