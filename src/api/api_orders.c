/*
 * api_orders.c - /api/v1/orders (apply, list, read, validate now, cancel)
 * and /api/v1/reviews (the review queue of every tenant, approve, reject).
 * A private-profile order is issued at once; a public one waits for its
 * validation, which the job workers run (or POST .../validate now). Threads:
 * the HTTP worker threads (api.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"

#define MIB (1024u * 1024u)

static void send_order(struct api_call *c, int status, struct order_rec *o)
{
        if (status == 201)
                http_set_header(c->resp, "Location", "/api/v1/orders/%lld", (long long)o->id);
        /* a pending order is polled: tell clients when to look again */
        if (o->status == ORDER_PENDING_VALIDATION || o->status == ORDER_VALIDATING ||
            o->status == ORDER_ISSUING)
                http_set_header(c->resp, "Retry-After", "%d", 5);
        api_json(c, status, json_pack("{s:o}", "order", json_of_order(o, qtime_now())));
}

static enum qerr private_order(struct api_call *c, const char *const *names, size_t n,
                               const char *key, const char *csr, const char *key_password,
                               long days, struct order_rec **o, struct qerr_info *ei)
{
        struct cert_rec *cert = NULL;
        enum qerr rc;
        if (csr) {
                struct sign_req r = {(const uint8_t *)csr, strlen(csr), PROFILE_PRIVATE, days, o};
                rc = service_cert_sign(c->svc, &r, &cert, ei);
        } else {
                struct apply_req r = {names, n, key, key_password, PROFILE_PRIVATE, days, o};
                rc = service_cert_apply(c->svc, &r, &cert, ei);
        }
        cert_rec_free(cert);
        return rc;
}

static void apply(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN))
                return;
        const char *profile = NULL, *key = NULL, *csr = NULL, *key_password = NULL, *method = NULL;
        const char *names[QUILL_MAX_NAMES];
        size_t nnames = 0;
        long long days = 0;
        bool paid = false;
        json_t *org = NULL;
        const struct jfield f[] = {
            {"profile", JF_STRING, true, 0, 16, &profile, NULL, NULL, 0},
            {"names", JF_STRINGS, false, 0, QUILL_MAX_NAMES, names, &nnames, NULL, 0},
            {"key", JF_STRING, false, 0, 16, &key, NULL, NULL, 0},
            {"csr", JF_TEXT, false, 0, MAX_CSR_BYTES, &csr, NULL, NULL, 0},
            {"key_password", JF_STRING, false, 0, 1024, &key_password, NULL, NULL, 0},
            {"method", JF_STRING, false, 0, 8, &method, NULL, NULL, 0},
            {"organization", JF_OBJECT, false, 0, 0, &org, NULL, NULL, 0},
            {"days", JF_INT, false, 1, 3650, &days, NULL, NULL, 0},
            {"paid", JF_BOOL, false, 0, 0, &paid, NULL, NULL, 0},
        };
        json_t *root = NULL;
        if (!api_body(&c, f, sizeof f / sizeof f[0], false, &root))
                return;
        enum cert_profile p;
        struct qerr_info ei;
        struct order_rec *o = NULL;
        enum qerr rc = QERR_OK;
        if (!cert_profile_from_name(profile, &p)) {
                json_decref(root);
                return api_bad(&c, "profile must be private, dv, ov or ev");
        }
        if (!key == !csr) {
                json_decref(root);
                return api_bad(&c, "give exactly one of key (a key type for the service to "
                                   "generate) and csr (your own PEM CSR)");
        }
        if (key_password && !key) {
                json_decref(root);
                return api_bad(&c, "key_password protects a key the service generates: it "
                                   "needs key, not csr");
        }
        struct org_fields of = {0};
        if (org) {
                const struct jfield of_f[] = {
                    {"organization", JF_STRING, true, 0, 64, &of.organization, NULL, NULL, 0},
                    {"unit", JF_STRING, false, 0, 64, &of.unit, NULL, NULL, 0},
                    {"country", JF_STRING, true, 0, 2, &of.country, NULL, NULL, 0},
                    {"state", JF_STRING, false, 0, 128, &of.state, NULL, NULL, 0},
                    {"locality", JF_STRING, false, 0, 128, &of.locality, NULL, NULL, 0},
                };
                if ((rc = api_json_object(org, "organization", of_f, sizeof of_f / sizeof of_f[0],
                                          &ei)) != QERR_OK) {
                        json_decref(root);
                        return http_error(c.resp, &ei);
                }
        }
        if (p == PROFILE_PRIVATE) {
                if (csr && nnames) {
                        json_decref(root);
                        return api_bad(&c, "a private order with a csr takes its names from the "
                                           "CSR; leave names out");
                }
                if (method || org || paid) {
                        json_decref(root);
                        return api_bad(&c, "a private order is issued at once: it takes no "
                                           "method, organization or paid");
                }
                rc = private_order(&c, names, nnames, key, csr, key_password, (long)days, &o, &ei);
        } else {
                if (org && p == PROFILE_DV) {
                        json_decref(root);
                        return api_bad(&c, "organization is for ov and ev orders");
                }
                struct order_apply_req r = {.names = names,
                                            .nnames = nnames,
                                            .profile = p,
                                            .method = method,
                                            .key_alg = key,
                                            .key_password = key_password,
                                            .csr = (const uint8_t *)csr,
                                            .csr_len = csr ? strlen(csr) : 0,
                                            .org = org ? &of : NULL,
                                            .days = (long)days,
                                            .paid = paid};
                rc = service_order_apply(c.svc, &r, &o, &ei);
        }
        json_decref(root);
        if (rc != QERR_OK)
                return api_fail(&c, &ei);
        send_order(&c, 201, o);
        order_rec_free(o);
}

static const char *const ORDER_STATUSES[] = {
    "pending_validation", "validating", "manual_review", "issuing", "issued", "failed",
    "cancelled",          NULL};

static void list_orders(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN))
                return;
        static const char *const allowed[] = {"status", "limit", "cursor", NULL};
        if (!api_query_only(&c, allowed))
                return;
        struct order_query q = {0};
        if (!api_page(&c, &q.limit, &q.before_id) ||
            !api_query_choice(&c, "status", ORDER_STATUSES, NULL, &q.status))
                return;
        struct order_rec **os = NULL;
        size_t n = 0;
        bool more = false;
        struct qerr_info ei;
        if (service_order_list(c.svc, &q, &os, &n, &more, &ei) != QERR_OK)
                return api_fail(&c, &ei);
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_of_order(os[i], qtime_now()));
        json_t *cursor = api_cursor(more, n ? os[n - 1]->id : 0);
        store_free_orders(os, n);
        api_json(&c, 200, json_pack("{s:o,s:o}", "orders", a, "next_cursor", cursor));
}

enum order_verb { O_GET, O_VALIDATE, O_CANCEL };

static void order_one(void *user, const struct http_request *req, struct http_response *resp,
                      enum order_verb verb)
{
        struct api_call c;
        int64_t id;
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN) || !api_id(&c, 0, &id))
                return;
        static const char *const none[] = {NULL};
        if (!api_query_only(&c, none))
                return;
        json_t *root = NULL;
        if (verb != O_GET && !api_body(&c, NULL, 0, true, &root))
                return; /* a POST here takes no fields: {} or nothing */
        json_decref(root);
        struct order_rec *o = NULL;
        struct qerr_info ei;
        enum qerr rc = verb == O_GET      ? service_order_get(c.svc, id, &o, &ei)
                       : verb == O_CANCEL ? service_order_cancel(c.svc, id, &o, &ei)
                                          : service_order_validate(c.svc, id, &o, &ei);
        if (rc != QERR_OK)
                return api_fail(&c, &ei);
        send_order(&c, 200, o);
        order_rec_free(o);
}

static void get_order(void *user, const struct http_request *req, struct http_response *resp)
{
        order_one(user, req, resp, O_GET);
}

static void validate_order(void *user, const struct http_request *req, struct http_response *resp)
{
        order_one(user, req, resp, O_VALIDATE);
}

static void cancel_order(void *user, const struct http_request *req, struct http_response *resp)
{
        order_one(user, req, resp, O_CANCEL);
}

/* ---- reviews ---- */

static void list_reviews(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        if (!api_begin(&c, user, req, resp, R_REVIEWER | R_ADMIN))
                return;
        static const char *const allowed[] = {"status", NULL};
        if (!api_query_only(&c, allowed))
                return;
        static const char *const statuses[] = {"pending", "approved", "rejected", "all", NULL};
        const char *v;
        if (!api_query_choice(&c, "status", statuses, "pending", &v))
                return;
        struct review_rec *rv = NULL;
        size_t n = 0;
        struct qerr_info ei;
        if (service_review_list(c.svc, strcmp(v, "all") ? v : NULL, &rv, &n, &ei) != QERR_OK)
                return api_fail(&c, &ei);
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_of_review(&rv[i]));
        store_free_reviews(rv, n);
        api_json(&c, 200, json_pack("{s:o,s:n}", "reviews", a, "next_cursor"));
}

static void decide(void *user, const struct http_request *req, struct http_response *resp,
                   bool approve)
{
        struct api_call c;
        int64_t id;
        if (!api_begin(&c, user, req, resp, R_REVIEWER | R_ADMIN) || !api_id(&c, 0, &id))
                return;
        const char *reason = NULL;
        const struct jfield f[] = {
            {"reason", JF_TEXT, !approve, 0, 500, &reason, NULL, NULL, 0},
        };
        json_t *root = NULL;
        if (!api_body(&c, f, 1, approve, &root))
                return;
        struct review_rec r;
        struct qerr_info ei;
        enum qerr rc = service_review_decide(c.svc, id, approve, reason, &r, &ei);
        json_decref(root);
        if (rc != QERR_OK)
                return api_fail(&c, &ei);
        api_json(&c, 200, json_pack("{s:o}", "review", json_of_review(&r)));
        review_rec_clear(&r);
}

static void approve(void *user, const struct http_request *req, struct http_response *resp)
{
        decide(user, req, resp, true);
}

static void reject(void *user, const struct http_request *req, struct http_response *resp)
{
        decide(user, req, resp, false);
}

const struct http_route api_order_routes[] = {
    {"POST", "/api/v1/orders", MIB, apply},
    {"GET", "/api/v1/orders", 0, list_orders},
    {"GET", "/api/v1/orders/{id}", 0, get_order},
    {"POST", "/api/v1/orders/{id}/validate", 0, validate_order},
    {"POST", "/api/v1/orders/{id}/cancel", 0, cancel_order},
    {"GET", "/api/v1/reviews", 0, list_reviews},
    {"POST", "/api/v1/reviews/{id}/approve", 0, approve},
    {"POST", "/api/v1/reviews/{id}/reject", 0, reject},
};
const size_t api_order_nroutes = sizeof api_order_routes / sizeof api_order_routes[0];
