/*
 * acme_int.h - what the files of src/acme share: the per-request call and
 * its helpers. Not for use outside src/acme; an acme_call lives on one
 * handler's stack.
 */
#ifndef QUILL_ACME_INT_H
#define QUILL_ACME_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "../api/api_json.h"
#include "../api/front.h"
#include "../pki/jws.h"
#include "../service/service_acme.h"
#include "acme.h"
#include "acme_nonce.h"

#define ACME_BASE_MAX 300

struct acme_server {
        const struct qconfig *cfg;
        struct acme_nonces *nonces;
};

struct acme_call {
        struct acme_server *srv;
        struct service *svc;
        const struct http_request *req;
        struct http_response *resp;
        char base[ACME_BASE_MAX]; /* "https://host:port" */
        struct jws jws;
        struct acme_account_rec acct; /* kid requests: the account */
        bool have_acct;
        json_t *payload; /* decoded payload object (NULL for POST-as-GET) */
};

enum acme_auth { AUTH_KID, AUTH_JWK, AUTH_EITHER };

/* Starts a POST: content type, JWS, url, nonce, and (kid) the account's
 * signature. false: the problem is already answered. */
bool acme_begin(struct acme_call *c, void *user, const struct http_request *req,
                struct http_response *resp, enum acme_auth auth);
/* Decodes the payload against `fields` (api_json.h); POST-as-GET allowed
 * only when `get_ok`. false after answering. */
bool acme_payload(struct acme_call *c, const struct jfield *f, size_t n, bool get_ok);
void acme_end(struct acme_call *c);

/* Answers a problem document for `ei` (the ACME type from the error table). */
void acme_problem(struct acme_call *c, const struct qerr_info *ei);
/* Sends `obj` (stolen) as JSON with `status`. */
void acme_json(struct acme_call *c, int status, json_t *obj);
/* base + fmt into out. */
void acme_url(const struct acme_call *c, char *out, size_t sz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A path parameter as a positive id; false after answering 404. */
bool acme_id(struct acme_call *c, size_t i, int64_t *out);
/* A problem object (for order/authz/challenge "error" members). */
json_t *acme_problem_obj(const char *code, const char *detail);
/* RFC 3339 text of t (a static-per-call buffer is not used: give out). */
const char *acme_time(qtime_t t, char out[32]);

/* Route handlers of acme_order.c */
void acme_h_new_order(void *user, const struct http_request *req, struct http_response *resp);
void acme_h_order(void *user, const struct http_request *req, struct http_response *resp);
void acme_h_finalize(void *user, const struct http_request *req, struct http_response *resp);
void acme_h_authz(void *user, const struct http_request *req, struct http_response *resp);
void acme_h_chall(void *user, const struct http_request *req, struct http_response *resp);
void acme_h_cert(void *user, const struct http_request *req, struct http_response *resp);
void acme_h_revoke(void *user, const struct http_request *req, struct http_response *resp);
void acme_h_orders(void *user, const struct http_request *req, struct http_response *resp);

#endif
