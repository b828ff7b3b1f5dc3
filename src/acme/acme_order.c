/*
 * acme_order.c - ACME orders, authorizations, challenges, finalize,
 * certificate download, revokeCert and the account's orders list (the
 * handlers named in acme_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/b64.h"
#include "acme_int.h"

#define ORDERS_PAGE 100

static json_t *order_json(const struct acme_call *c, const struct acme_order_view *v)
{
        char t[32], u[ACME_BASE_MAX + 64];
        json_t *ids = json_array(), *authz = json_array();
        for (size_t i = 0; i < v->o.nnames; i++)
                json_array_append_new(ids, json_pack("{s:s,s:s}", "type",
                                                     acme_name_is_ip(v->o.names[i]) ? "ip" : "dns",
                                                     "value", v->o.names[i]));
        for (size_t i = 0; i < v->o.nauthz; i++) {
                acme_url(c, u, sizeof u, "/acme/authz/%lld", (long long)v->o.authz[i]);
                json_array_append_new(authz, json_string(u));
        }
        acme_url(c, u, sizeof u, "/acme/order/%lld/finalize", (long long)v->o.id);
        json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:s}", "status", v->status, "expires",
                              acme_time(v->o.expires_at, t), "identifiers", ids, "authorizations",
                              authz, "finalize", u);
        if (v->o.profile[0])
                json_object_set_new(o, "profile", json_string(v->o.profile));
        if (v->o.replaces[0])
                json_object_set_new(o, "replaces", json_string(v->o.replaces));
        if (!strcmp(v->status, "valid")) {
                acme_url(c, u, sizeof u, "/acme/cert/%lld", (long long)v->o.id);
                json_object_set_new(o, "certificate", json_string(u));
        }
        if (!strcmp(v->status, "invalid"))
                json_object_set_new(o, "error", acme_problem_obj(v->error_code, v->error_detail));
        return o;
}

static void send_order(struct acme_call *c, int status, const struct acme_order_view *v)
{
        char loc[ACME_BASE_MAX + 64];
        acme_url(c, loc, sizeof loc, "/acme/order/%lld", (long long)v->o.id);
        http_set_header(c->resp, "Location", "%s", loc);
        if (!strcmp(v->status, "processing"))
                http_set_header(c->resp, "Retry-After", "1");
        acme_json(c, status, order_json(c, v));
}

void acme_h_new_order(void *user, const struct http_request *req, struct http_response *resp)
{
        struct acme_call c;
        if (!acme_begin(&c, user, req, resp, AUTH_KID))
                return;
        json_t *ids = NULL;
        const char *profile = NULL, *replaces = NULL, *nb = NULL, *na = NULL;
        const struct jfield f[] = {
            {"profile", JF_STRING, false, 0, 64, &profile, NULL, NULL, 0},
            {"replaces", JF_STRING, false, 0, 150, &replaces, NULL, NULL, 0},
            {"notBefore", JF_STRING, false, 0, 64, &nb, NULL, NULL, 0},
            {"notAfter", JF_STRING, false, 0, 64, &na, NULL, NULL, 0},
        };
        struct qerr_info ei;
        qerr_clear(&ei);
        const char *names[QUILL_MAX_NAMES];
        bool ip[QUILL_MAX_NAMES];
        size_t n = 0;
        struct acme_order_view v;
        memset(&v, 0, sizeof v);
        enum qerr rc = QERR_OK;
        /* "identifiers" is an array, which the field table does not take:
         * it is taken out first, the rest decoded strictly */
        json_error_t jerr;
        if (c.jws.post_as_get ||
            !(c.payload = json_loadb((const char *)c.jws.payload, c.jws.payload_len,
                                     JSON_REJECT_DUPLICATES, &jerr)) ||
            !json_is_object(c.payload)) {
                qerr_set(&ei, QERR_MALFORMED, "the payload must be a JSON object");
                acme_problem(&c, &ei);
                goto out;
        }
        ids = json_incref(json_object_get(c.payload, "identifiers"));
        json_object_del(c.payload, "identifiers");
        if ((rc = api_json_object(c.payload, NULL, f, sizeof f / sizeof f[0], &ei)) != QERR_OK) {
                acme_problem(&c, &ei);
                goto out;
        }
        if (nb || na)
                rc = qerr_set(&ei, QERR_MALFORMED,
                              "notBefore and notAfter are not accepted: the validity comes from "
                              "the profile");
        else if (!ids || !json_is_array(ids) || json_array_size(ids) == 0)
                rc = qerr_set(&ei, QERR_MALFORMED, "identifiers must be a non-empty array");
        else if (json_array_size(ids) > QUILL_MAX_NAMES)
                rc = qerr_set(&ei, QERR_POLICY_DENIED, "at most %d identifiers per order",
                              QUILL_MAX_NAMES);
        for (size_t i = 0; rc == QERR_OK && i < json_array_size(ids); i++) {
                json_t *id = json_array_get(ids, i);
                const char *type = NULL, *value = NULL;
                const struct jfield idf[] = {
                    {"type", JF_STRING, true, 0, 16, &type, NULL, NULL, 0},
                    {"value", JF_STRING, true, 0, QUILL_MAX_NAME_LEN, &value, NULL, NULL, 0},
                };
                rc = api_json_object(id, "identifiers[]", idf, 2, &ei);
                if (rc == QERR_OK && strcmp(type, "dns") && strcmp(type, "ip"))
                        rc = qerr_set(&ei, QERR_ACME_IDENTIFIER,
                                      "identifier type \"%.16s\" is not supported here; use dns "
                                      "(or ip with the shortlived profile)",
                                      type);
                if (rc == QERR_OK) {
                        ip[n] = !strcmp(type, "ip");
                        names[n++] = value;
                }
        }
        long retry = 0;
        struct acme_new_order_req r = {
            .names = names, .ip = ip, .n = n, .profile = profile, .replaces = replaces};
        if (rc == QERR_OK)
                rc = service_acme_order_new(c.svc, &c.acct, &r, &v, &retry, &ei);
        if (rc != QERR_OK) {
                if (retry)
                        http_set_header(resp, "Retry-After", "%ld", retry);
                acme_problem(&c, &ei);
                goto out;
        }
        send_order(&c, 201, &v);
out:
        json_decref(ids);
        acme_order_view_clear(&v);
        acme_end(&c);
}

void acme_h_order(void *user, const struct http_request *req, struct http_response *resp)
{
        struct acme_call c;
        int64_t id = 0;
        if (!acme_begin(&c, user, req, resp, AUTH_KID))
                return;
        struct acme_order_view v;
        memset(&v, 0, sizeof v);
        struct qerr_info ei;
        if (acme_id(&c, 0, &id) && acme_payload(&c, NULL, 0, true)) {
                if (service_acme_order_get(c.svc, &c.acct, id, &v, &ei) != QERR_OK)
                        acme_problem(&c, &ei);
                else
                        send_order(&c, 200, &v);
        }
        acme_order_view_clear(&v);
        acme_end(&c);
}

void acme_h_finalize(void *user, const struct http_request *req, struct http_response *resp)
{
        struct acme_call c;
        int64_t id = 0;
        if (!acme_begin(&c, user, req, resp, AUTH_KID))
                return;
        const char *csr = NULL;
        const struct jfield f[] = {
            {"csr", JF_STRING, true, 0, MAX_CSR_BYTES * 2, &csr, NULL, NULL, 0}};
        struct acme_order_view v;
        memset(&v, 0, sizeof v);
        struct qerr_info ei;
        struct qbuf der;
        qbuf_init(&der, MAX_CSR_BYTES);
        if (!acme_id(&c, 0, &id) || !acme_payload(&c, f, 1, false))
                goto out;
        if (!b64url_decode(csr, strlen(csr), &der) || der.len == 0) {
                qerr_set(&ei, QERR_CSR_INVALID, "csr must be the DER CSR in base64url");
                acme_problem(&c, &ei);
                goto out;
        }
        if (service_acme_finalize(c.svc, &c.acct, id, der.data, der.len, &v, &ei) != QERR_OK) {
                acme_problem(&c, &ei);
                goto out;
        }
        send_order(&c, 200, &v);
out:
        qbuf_free(&der);
        acme_order_view_clear(&v);
        acme_end(&c);
}

static json_t *chall_json(const struct acme_call *c, const struct acme_authz_rec *z,
                          enum acme_chall t)
{
        char u[ACME_BASE_MAX + 64], tm[32];
        acme_url(c, u, sizeof u, "/acme/chall/%lld/%s", (long long)z->id, acme_chall_name(t));
        bool chosen = !strcmp(z->challenge, acme_chall_name(t));
        const char *st = chosen ? z->chall_status : "pending";
        json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "type", acme_chall_name(t), "url", u, "status",
                              st, "token", z->token);
        if (chosen && !strcmp(st, "valid") && z->validated_at)
                json_object_set_new(o, "validated", json_string(acme_time(z->validated_at, tm)));
        if (chosen && !strcmp(st, "invalid"))
                json_object_set_new(o, "error", acme_problem_obj(z->error_code, z->error_detail));
        return o;
}

static json_t *authz_json(const struct acme_call *c, const struct acme_authz_rec *z)
{
        char tm[32];
        json_t *ch = json_array();
        for (int t = 0; t < ACME_CHALL__COUNT; t++)
                if (acme_chall_offered((enum acme_chall)t, z))
                        json_array_append_new(ch, chall_json(c, z, (enum acme_chall)t));
        json_t *o =
            json_pack("{s:s,s:s,s:{s:s,s:s},s:o}", "status", z->status, "expires",
                      acme_time(z->expires_at, tm), "identifier", "type",
                      acme_name_is_ip(z->name) ? "ip" : "dns", "value", z->name, "challenges", ch);
        if (z->wildcard)
                json_object_set_new(o, "wildcard", json_true());
        return o;
}

void acme_h_authz(void *user, const struct http_request *req, struct http_response *resp)
{
        struct acme_call c;
        int64_t id = 0;
        if (!acme_begin(&c, user, req, resp, AUTH_KID))
                return;
        const char *status = NULL;
        const struct jfield f[] = {{"status", JF_STRING, false, 0, 16, &status, NULL, NULL, 0}};
        struct acme_authz_rec z;
        memset(&z, 0, sizeof z);
        struct qerr_info ei;
        enum qerr rc = QERR_OK;
        if (!acme_id(&c, 0, &id) || !acme_payload(&c, f, 1, true))
                goto out;
        if (status && strcmp(status, "deactivated"))
                rc = qerr_set(&ei, QERR_MALFORMED, "an authorization can only be deactivated");
        else if (status)
                rc = service_acme_authz_deactivate(c.svc, &c.acct, id, &z, &ei);
        else
                rc = service_acme_authz_get(c.svc, &c.acct, id, &z, &ei);
        if (rc != QERR_OK) {
                acme_problem(&c, &ei);
                goto out;
        }
        if (!strcmp(z.chall_status, "processing") && !strcmp(z.status, "pending"))
                http_set_header(resp, "Retry-After", "1");
        acme_json(&c, 200, authz_json(&c, &z));
out:
        acme_authz_clear(&z);
        acme_end(&c);
}

void acme_h_chall(void *user, const struct http_request *req, struct http_response *resp)
{
        struct acme_call c;
        int64_t id = 0;
        if (!acme_begin(&c, user, req, resp, AUTH_KID))
                return;
        struct acme_authz_rec z;
        memset(&z, 0, sizeof z);
        struct qerr_info ei;
        enum acme_chall t;
        enum qerr rc;
        long retry = 0;
        if (!acme_id(&c, 0, &id) || !acme_payload(&c, NULL, 0, true))
                goto out;
        if (req->nparams < 2 || !acme_chall_from_name(req->params[1], &t)) {
                qerr_set(&ei, QERR_NOT_FOUND, "no such challenge");
                acme_problem(&c, &ei);
                goto out;
        }
        if (c.jws.post_as_get) {
                rc = service_acme_authz_get(c.svc, &c.acct, id, &z, &ei);
        } else {
                char acct[ACME_BASE_MAX + 64];
                acme_url(&c, acct, sizeof acct, "/acme/acct/%lld", (long long)c.acct.id);
                rc = service_acme_challenge(c.svc, &c.acct, id, t, acct, &z, &retry, &ei);
        }
        if (rc == QERR_OK && !acme_chall_offered(t, &z))
                rc = qerr_set(&ei, QERR_NOT_FOUND, "no such challenge");
        if (rc != QERR_OK) {
                if (retry)
                        http_set_header(resp, "Retry-After", "%ld", retry);
                acme_problem(&c, &ei);
                goto out;
        }
        char up[ACME_BASE_MAX + 64];
        acme_url(&c, up, sizeof up, "/acme/authz/%lld", (long long)z.id);
        http_set_header(resp, "Link", "<%s>;rel=\"up\"", up);
        if (retry)
                http_set_header(resp, "Retry-After", "%ld", retry);
        acme_json(&c, 200, chall_json(&c, &z, t));
out:
        acme_authz_clear(&z);
        acme_end(&c);
}

void acme_h_cert(void *user, const struct http_request *req, struct http_response *resp)
{
        struct acme_call c;
        int64_t id = 0;
        if (!acme_begin(&c, user, req, resp, AUTH_KID))
                return;
        char *pem = NULL;
        struct qerr_info ei;
        if (acme_id(&c, 0, &id) && acme_payload(&c, NULL, 0, true)) {
                if (service_acme_cert(c.svc, &c.acct, id, &pem, &ei) != QERR_OK) {
                        acme_problem(&c, &ei);
                } else {
                        qbuf_reset(&resp->body);
                        qbuf_append_str(&resp->body, pem);
                        resp->status = 200;
                        resp->content_type = "application/pem-certificate-chain";
                        char nonce[ACME_NONCE_LEN + 1];
                        if (acme_nonce_mint(c.srv->nonces, nonce))
                                http_set_header(resp, "Replay-Nonce", "%s", nonce);
                        http_set_header(resp, "Link", "<%s/acme/directory>;rel=\"index\"", c.base);
                }
        }
        free(pem);
        acme_end(&c);
}

void acme_h_revoke(void *user, const struct http_request *req, struct http_response *resp)
{
        struct acme_call c;
        if (!acme_begin(&c, user, req, resp, AUTH_EITHER))
                return;
        const char *cert = NULL;
        long long reason = 0;
        const struct jfield f[] = {
            {"certificate", JF_STRING, true, 0, 64 * 1024, &cert, NULL, NULL, 0},
            {"reason", JF_INT, false, 0, 10, &reason, NULL, NULL, 0},
        };
        struct qerr_info ei;
        struct qbuf der;
        qbuf_init(&der, 32 * 1024);
        struct jws_key *k = NULL;
        enum qerr rc = QERR_OK;
        if (!acme_payload(&c, f, 2, false))
                goto out;
        if (!b64url_decode(cert, strlen(cert), &der) || der.len == 0)
                rc = qerr_set(&ei, QERR_MALFORMED, "certificate must be DER in base64url");
        /* signed by the certificate's key: that key must verify the request */
        if (rc == QERR_OK && !c.have_acct) {
                rc = jws_key_from_jwk(c.jws.jwk, &k, &ei);
                if (rc == QERR_OK)
                        rc = jws_verify(&c.jws, k, &ei);
        }
        if (rc == QERR_OK)
                rc = service_acme_revoke(c.svc, c.have_acct ? &c.acct : NULL, k, der.data, der.len,
                                         (int)reason, &ei);
        if (rc != QERR_OK) {
                acme_problem(&c, &ei);
                goto out;
        }
        resp->status = 200;
        qbuf_reset(&resp->body);
        char nonce[ACME_NONCE_LEN + 1];
        if (acme_nonce_mint(c.srv->nonces, nonce))
                http_set_header(resp, "Replay-Nonce", "%s", nonce);
out:
        jws_key_free(k);
        qbuf_free(&der);
        acme_end(&c);
}

void acme_h_orders(void *user, const struct http_request *req, struct http_response *resp)
{
        struct acme_call c;
        int64_t id = 0;
        if (!acme_begin(&c, user, req, resp, AUTH_KID))
                return;
        struct qerr_info ei;
        int64_t *ids = NULL;
        size_t n = 0;
        if (!acme_id(&c, 0, &id) || !acme_payload(&c, NULL, 0, true))
                goto out;
        if (id != c.acct.id) {
                qerr_set(&ei, QERR_ACME_UNAUTHORIZED, "the request is signed by another account");
                acme_problem(&c, &ei);
                goto out;
        }
        char cur[32];
        bool tl = false;
        const char *cs = http_query(req, "cursor", cur, sizeof cur, &tl);
        int64_t before = cs ? strtoll(cs, NULL, 10) : 0;
        if (service_acme_order_list(c.svc, &c.acct, before, ORDERS_PAGE + 1, &ids, &n, &ei) !=
            QERR_OK) {
                acme_problem(&c, &ei);
                goto out;
        }
        json_t *arr = json_array();
        char u[ACME_BASE_MAX + 64];
        for (size_t i = 0; i < n && i < ORDERS_PAGE; i++) {
                acme_url(&c, u, sizeof u, "/acme/order/%lld", (long long)ids[i]);
                json_array_append_new(arr, json_string(u));
        }
        if (n > ORDERS_PAGE) {
                acme_url(&c, u, sizeof u, "/acme/acct/%lld/orders?cursor=%lld",
                         (long long)c.acct.id, (long long)ids[ORDERS_PAGE - 1]);
                http_set_header(resp, "Link", "<%s>;rel=\"next\"", u);
        }
        acme_json(&c, 200, json_pack("{s:o}", "orders", arr));
out:
        free(ids);
        acme_end(&c);
}
