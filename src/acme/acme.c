/*
 * acme.c - the ACME front door's shared machinery (acme_int.h), the
 * directory, newNonce, newAccount, account update and keyChange, and the
 * route table. Orders, authorizations, challenges, certificates and
 * revocation are in acme_order.c.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/log.h"
#include "../policy/ari.h"
#include "../policy/profile.h"
#include "acme_int.h"

#define MAX_USED_NONCES 200000

enum qerr acme_server_new(const struct qconfig *cfg, struct acme_server **out, struct qerr_info *ei)
{
        struct acme_server *a = calloc(1, sizeof *a);
        if (!a)
                return qerr_set(ei, QERR_NOMEM, NULL);
        a->cfg = cfg;
        enum qerr rc = acme_nonces_new(cfg->acme_nonce_seconds, MAX_USED_NONCES, &a->nonces, ei);
        if (rc != QERR_OK) {
                free(a);
                return rc;
        }
        *out = a;
        return QERR_OK;
}

void acme_server_free(struct acme_server *a)
{
        if (!a)
                return;
        acme_nonces_free(a->nonces);
        free(a);
}

/* ---- answers ---- */

const char *acme_time(qtime_t t, char out[32])
{
        return qtime_fmt(t, out, 32);
}

static void common_headers(struct acme_call *c)
{
        char nonce[ACME_NONCE_LEN + 1];
        if (c->srv && acme_nonce_mint(c->srv->nonces, nonce))
                http_set_header(c->resp, "Replay-Nonce", "%s", nonce);
        if (c->base[0])
                http_set_header(c->resp, "Link", "<%s/acme/directory>;rel=\"index\"", c->base);
        http_set_header(c->resp, "Cache-Control", "no-store");
}

void acme_json(struct acme_call *c, int status, json_t *obj)
{
        char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
        json_decref(obj);
        qbuf_reset(&c->resp->body);
        if (!text || !qbuf_append_str(&c->resp->body, text)) {
                free(text);
                struct qerr_info ei;
                qerr_set(&ei, QERR_NOMEM, NULL);
                acme_problem(c, &ei);
                return;
        }
        free(text);
        c->resp->status = status;
        c->resp->content_type = "application/json";
        common_headers(c);
}

json_t *acme_problem_obj(const char *code, const char *detail)
{
        enum qerr e = qerr_from_code(code);
        if (e >= QERR__COUNT)
                e = QERR_INTERNAL;
        char type[96];
        snprintf(type, sizeof type, "urn:ietf:params:acme:error:%s", qerr_acme_type(e));
        return json_pack("{s:s,s:s,s:i,s:s}", "type", type, "detail",
                         detail && *detail ? detail : qerr_default_msg(e), "status",
                         qerr_http_status(e), "code", qerr_code(e));
}

void acme_problem(struct acme_call *c, const struct qerr_info *ei)
{
        enum qerr e = ei->code;
        const char *msg = qerr_message(ei);
        int status = qerr_http_status(e);
        if (status >= 500) {
                char emsg[QERR_MSG_MAX + 8];
                qlog_error("ACME request failed", "request=%s route=%s code=%s detail=%s",
                           c->req->request_id, c->req->route ? c->req->route : "-", qerr_code(e),
                           qlog_escape(msg, emsg, sizeof emsg));
                msg = qerr_default_msg(e);
        }
        json_t *p = acme_problem_obj(qerr_code(e), msg);
        char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
        json_decref(p);
        qbuf_reset(&c->resp->body);
        if (text)
                qbuf_append_str(&c->resp->body, text);
        free(text);
        c->resp->status = status;
        c->resp->content_type = "application/problem+json";
        common_headers(c);
}

void acme_url(const struct acme_call *c, char *out, size_t sz, const char *fmt, ...)
{
        int n = snprintf(out, sz, "%s", c->base);
        if (n < 0 || (size_t)n >= sz)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(out + n, sz - (size_t)n, fmt, ap);
        va_end(ap);
}

bool acme_id(struct acme_call *c, size_t i, int64_t *out)
{
        const char *p = i < c->req->nparams ? c->req->params[i] : NULL;
        char *end = NULL;
        long long v = p ? strtoll(p, &end, 10) : 0;
        if (!p || !*p || *end || v <= 0 || !isdigit((unsigned char)p[0])) {
                struct qerr_info ei;
                qerr_set(&ei, QERR_NOT_FOUND, "no such ACME resource");
                acme_problem(c, &ei);
                return false;
        }
        *out = v;
        return true;
}

/* ---- the start of every request ---- */

/* "https://" + the Host header (letters, digits, '.', '-', ':', '[', ']'). */
static bool make_base(struct acme_call *c)
{
        const char *host = http_header(c->req, "Host");
        if (!host || !*host || strlen(host) > ACME_BASE_MAX - 16)
                return false;
        for (const char *p = host; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr(".-:[]", *p))
                        return false;
        snprintf(c->base, sizeof c->base, "https://%s", host);
        for (char *p = c->base; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        return true;
}

static bool call_init(struct acme_call *c, void *user, const struct http_request *req,
                      struct http_response *resp)
{
        const struct front_ctx *fx = user;
        memset(c, 0, sizeof *c);
        c->req = req;
        c->resp = resp;
        c->srv = fx ? fx->acme : NULL;
        c->svc = front_service(req);
        struct qerr_info ei;
        if (!c->svc || !c->srv) {
                qerr_set(&ei, QERR_UNAVAILABLE, "ACME is not available on this listener");
                acme_problem(c, &ei);
                return false;
        }
        if (!make_base(c)) {
                qerr_set(&ei, QERR_MALFORMED, "the request needs a valid Host header");
                acme_problem(c, &ei);
                return false;
        }
        return true;
}

/* The account id of a kid URL of this server ("<base>/acme/acct/<id>"). */
static bool kid_account(const struct acme_call *c, const char *kid, int64_t *id)
{
        char prefix[ACME_BASE_MAX + 16];
        snprintf(prefix, sizeof prefix, "%s/acme/acct/", c->base);
        size_t pl = strlen(prefix);
        if (strncasecmp(kid, prefix, pl) != 0)
                return false;
        const char *p = kid + pl;
        char *end = NULL;
        long long v = strtoll(p, &end, 10);
        if (!isdigit((unsigned char)*p) || *end || v <= 0)
                return false;
        *id = v;
        return true;
}

bool acme_begin(struct acme_call *c, void *user, const struct http_request *req,
                struct http_response *resp, enum acme_auth auth)
{
        if (!call_init(c, user, req, resp))
                return false;
        struct qerr_info ei;
        qerr_clear(&ei);
        const char *ct = http_header(req, "Content-Type");
        size_t ctl = strlen("application/jose+json");
        if (!ct || strncasecmp(ct, "application/jose+json", ctl) ||
            (ct[ctl] && ct[ctl] != ';' && ct[ctl] != ' ')) {
                qerr_set(&ei, QERR_ACME_MEDIA_TYPE, NULL);
                acme_problem(c, &ei);
                return false;
        }
        enum qerr rc = jws_parse(req->body, req->body_len, &c->jws, &ei);
        char want[ACME_BASE_MAX + HTTP_MAX_URL];
        snprintf(want, sizeof want, "%s%s", c->base, req->path);
        if (rc == QERR_OK && strcmp(c->jws.url, want))
                rc = qerr_set(&ei, QERR_JWS_URL, "the protected url is not %s", want);
        if (rc == QERR_OK && (!c->jws.nonce || !acme_nonce_take(c->srv->nonces, c->jws.nonce)))
                rc = qerr_set(&ei, QERR_ACME_BAD_NONCE, NULL);
        if (rc == QERR_OK && auth == AUTH_KID && !c->jws.kid)
                rc = qerr_set(&ei, QERR_JWS_INVALID,
                              "this request must be signed with the account key, naming the "
                              "account URL as kid (jwk is for newAccount and revokeCert only)");
        if (rc == QERR_OK && auth == AUTH_JWK && !c->jws.jwk)
                rc = qerr_set(&ei, QERR_JWS_INVALID,
                              "newAccount must carry the new account's key as jwk, not a kid");
        if (rc == QERR_OK && c->jws.kid) {
                int64_t id = 0;
                if (!kid_account(c, c->jws.kid, &id))
                        rc = qerr_set(&ei, QERR_ACME_ACCOUNT_MISSING,
                                      "kid is not an account URL of this server");
                else if ((rc = service_acme_auth(c->svc, id, &c->jws, &c->acct, &ei)) == QERR_OK)
                        c->have_acct = true;
        }
        if (rc != QERR_OK) {
                acme_problem(c, &ei);
                jws_clear(&c->jws);
                return false;
        }
        return true;
}

bool acme_payload(struct acme_call *c, const struct jfield *f, size_t n, bool get_ok)
{
        struct qerr_info ei;
        if (c->jws.post_as_get) {
                if (get_ok)
                        return true;
                qerr_set(&ei, QERR_MALFORMED, "this request needs a JSON object as payload");
                acme_problem(c, &ei);
                return false;
        }
        if (api_json_decode(c->jws.payload, c->jws.payload_len, f, n, &c->payload, &ei) !=
            QERR_OK) {
                acme_problem(c, &ei);
                return false;
        }
        return true;
}

void acme_end(struct acme_call *c)
{
        json_decref(c->payload);
        jws_clear(&c->jws);
        acme_account_clear(&c->acct);
}

/* ---- directory and nonces ---- */

static void h_directory(void *user, const struct http_request *req, struct http_response *resp)
{
        struct acme_call c;
        if (!call_init(&c, user, req, resp))
                return;
        const struct qconfig *cfg = c.srv->cfg;
        char u[9][ACME_BASE_MAX + 32];
        const char *paths[] = {"new-nonce",   "new-account", "new-order",
                               "revoke-cert", "key-change",  "renewal-info"};
        for (size_t i = 0; i < 6; i++)
                acme_url(&c, u[i], sizeof u[i], "/acme/%s", paths[i]);
        json_t *meta = json_object();
        if (cfg->acme_terms_url && *cfg->acme_terms_url)
                json_object_set_new(meta, "termsOfService", json_string(cfg->acme_terms_url));
        if (cfg->acme_website && *cfg->acme_website)
                json_object_set_new(meta, "website", json_string(cfg->acme_website));
        json_t *caa = json_array();
        char ids[256];
        snprintf(ids, sizeof ids, "%s", cfg->caa_identities ? cfg->caa_identities : "");
        for (char *save = NULL, *t = strtok_r(ids, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
                json_array_append_new(caa, json_string(t));
        json_object_set_new(meta, "caaIdentities", caa);
        json_object_set_new(meta, "externalAccountRequired",
                            json_boolean(cfg->acme_eab_required != 0));
        json_t *prof = json_object();
        size_t np = 0;
        const struct issue_profile *pv = policy_profiles(&np);
        for (size_t i = 0; i < np; i++)
                json_object_set_new(prof, pv[i].name, json_string(pv[i].description));
        json_object_set_new(meta, "profiles", prof);
        json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "newNonce", u[0], "newAccount", u[1],
                              "newOrder", u[2], "revokeCert", u[3], "keyChange", u[4],
                              "renewalInfo", u[5], "meta", meta);
        acme_json(&c, 200, d);
        /* the directory needs no nonce, but a client may take one here */
}

static void h_nonce(void *user, const struct http_request *req, struct http_response *resp)
{
        struct acme_call c;
        if (!call_init(&c, user, req, resp))
                return;
        common_headers(&c);
        resp->status = strcmp(req->method, "HEAD") == 0 ? 200 : 204;
}

/* ---- accounts ---- */

static json_t *account_json(const struct acme_call *c, const struct acme_account_rec *a)
{
        json_t *contact = json_array();
        const char *p = a->contact ? a->contact : "";
        while (*p) {
                const char *e = strchr(p, '\n');
                size_t l = e ? (size_t)(e - p) : strlen(p);
                json_array_append_new(contact, json_stringn(p, l));
                p += l + (e ? 1 : 0);
        }
        char orders[ACME_BASE_MAX + 64];
        acme_url(c, orders, sizeof orders, "/acme/acct/%lld/orders", (long long)a->id);
        return json_pack("{s:s,s:o,s:s}", "status", a->status, "contact", contact, "orders",
                         orders);
}

static void set_location_acct(struct acme_call *c, int64_t id)
{
        char loc[ACME_BASE_MAX + 64];
        acme_url(c, loc, sizeof loc, "/acme/acct/%lld", (long long)id);
        http_set_header(c->resp, "Location", "%s", loc);
}

static void h_new_account(void *user, const struct http_request *req, struct http_response *resp)
{
        struct acme_call c;
        if (!acme_begin(&c, user, req, resp, AUTH_JWK))
                return;
        const char *contacts[ACME_MAX_CONTACTS + 1];
        size_t nc = 0;
        bool tos = false, only = false, has_contact = false;
        json_t *eab = NULL;
        const struct jfield f[] = {
            {"contact", JF_STRINGS, false, 0, ACME_MAX_CONTACTS, contacts, &nc, &has_contact,
             ACME_CONTACT_MAX},
            {"termsOfServiceAgreed", JF_BOOL, false, 0, 0, &tos, NULL, NULL, 0},
            {"onlyReturnExisting", JF_BOOL, false, 0, 0, &only, NULL, NULL, 0},
            {"externalAccountBinding", JF_OBJECT, false, 0, 0, &eab, NULL, NULL, 0},
        };
        struct jws inner;
        memset(&inner, 0, sizeof inner);
        struct qerr_info ei;
        enum qerr rc = QERR_OK;
        if (!acme_payload(&c, f, sizeof f / sizeof f[0], false))
                goto out;
        if (eab && (rc = jws_parse_eab(eab, &inner, &ei)) != QERR_OK) {
                if (rc == QERR_JWS_INVALID || rc == QERR_JWS_ALGORITHM)
                        qerr_set(&ei, QERR_ACME_EAB_INVALID, "%s", qerr_message(&ei));
                acme_problem(&c, &ei);
                goto out;
        }
        struct acme_new_account_req r = {.jws = &c.jws,
                                         .contacts = contacts,
                                         .ncontacts = nc,
                                         .only_existing = only,
                                         .tos_agreed = tos,
                                         .eab = eab ? &inner : NULL};
        bool created = false;
        rc = service_acme_account_new(c.svc, &r, &c.acct, &created, &ei);
        if (rc != QERR_OK) {
                acme_problem(&c, &ei);
                goto out;
        }
        set_location_acct(&c, c.acct.id);
        acme_json(&c, created ? 201 : 200, account_json(&c, &c.acct));
out:
        jws_clear(&inner);
        acme_end(&c);
}

static void h_account(void *user, const struct http_request *req, struct http_response *resp)
{
        struct acme_call c;
        int64_t id = 0;
        if (!acme_begin(&c, user, req, resp, AUTH_KID))
                return;
        const char *contacts[ACME_MAX_CONTACTS + 1];
        size_t nc = 0;
        bool has_contact = false, tos = false;
        const char *status = NULL;
        json_t *eab = NULL;
        bool only = false;
        const struct jfield f[] = {
            {"contact", JF_STRINGS, false, 0, ACME_MAX_CONTACTS, contacts, &nc, &has_contact,
             ACME_CONTACT_MAX},
            {"status", JF_STRING, false, 0, 16, &status, NULL, NULL, 0},
            {"termsOfServiceAgreed", JF_BOOL, false, 0, 0, &tos, NULL, NULL, 0},
            {"onlyReturnExisting", JF_BOOL, false, 0, 0, &only, NULL, NULL, 0},
            {"externalAccountBinding", JF_OBJECT, false, 0, 0, &eab, NULL, NULL, 0},
        };
        struct qerr_info ei;
        if (!acme_id(&c, 0, &id) || !acme_payload(&c, f, sizeof f / sizeof f[0], true))
                goto out;
        if (id != c.acct.id) {
                qerr_set(&ei, QERR_ACME_UNAUTHORIZED, "the request is signed by another account");
                acme_problem(&c, &ei);
                goto out;
        }
        if (status && strcmp(status, "deactivated")) {
                qerr_set(&ei, QERR_MALFORMED, "an account's status can only become deactivated");
                acme_problem(&c, &ei);
                goto out;
        }
        if (service_acme_account_update(c.svc, &c.acct, has_contact, contacts, nc, status != NULL,
                                        &ei) != QERR_OK) {
                acme_problem(&c, &ei);
                goto out;
        }
        set_location_acct(&c, c.acct.id);
        acme_json(&c, 200, account_json(&c, &c.acct));
out:
        acme_end(&c);
}

static void h_key_change(void *user, const struct http_request *req, struct http_response *resp)
{
        struct acme_call c;
        if (!acme_begin(&c, user, req, resp, AUTH_KID))
                return;
        struct jws inner;
        memset(&inner, 0, sizeof inner);
        struct qerr_info ei;
        enum qerr rc = QERR_OK;
        json_t *ip = NULL;
        const char *account = NULL;
        json_t *old = NULL;
        /* the payload is itself a JWS, signed by the new key */
        if (c.jws.post_as_get)
                rc = qerr_set(&ei, QERR_MALFORMED, "keyChange needs the inner JWS as payload");
        if (rc == QERR_OK)
                rc = jws_parse(c.jws.payload, c.jws.payload_len, &inner, &ei);
        if (rc == QERR_OK && (!inner.jwk || inner.nonce || strcmp(inner.url, c.jws.url)))
                rc = qerr_set(&ei, QERR_MALFORMED,
                              "the inner JWS must carry the new key as jwk, no nonce, and the "
                              "same url as the outer one");
        const struct jfield f[] = {
            {"account", JF_STRING, true, 0, JWS_URL_MAX, &account, NULL, NULL, 0},
            {"oldKey", JF_OBJECT, true, 0, 0, &old, NULL, NULL, 0},
        };
        if (rc == QERR_OK)
                rc = api_json_decode(inner.payload, inner.payload_len, f, 2, &ip, &ei);
        if (rc == QERR_OK && strcmp(account, c.jws.kid))
                rc = qerr_set(&ei, QERR_ACME_UNAUTHORIZED,
                              "the inner payload names another account than the kid");
        int64_t other = 0;
        if (rc == QERR_OK)
                rc = service_acme_key_change(c.svc, &c.acct, &inner, old, &other, &ei);
        if (rc != QERR_OK) {
                if (other) {
                        set_location_acct(&c, other);
                        ei.code = QERR_ACME_UNAUTHORIZED;
                }
                acme_problem(&c, &ei);
                if (other)
                        resp->status = 409;
        } else {
                set_location_acct(&c, c.acct.id);
                acme_json(&c, 200, account_json(&c, &c.acct));
        }
        json_decref(ip);
        jws_clear(&inner);
        acme_end(&c);
}

/* ARI (RFC 9773 section 4): GET /acme/renewal-info/<certID>, no JWS; the
 * suggested window of the certificate, with Retry-After saying when to ask
 * again. */
static void h_renewal_info(void *user, const struct http_request *req, struct http_response *resp)
{
        struct acme_call c;
        if (!call_init(&c, user, req, resp))
                return;
        const char *pfx = "/acme/renewal-info/";
        const char *path = req->path ? req->path : "";
        const char *id = strncmp(path, pfx, strlen(pfx)) ? "" : path + strlen(pfx);
        struct qerr_info ei;
        struct ari_window w;
        enum qerr rc = strlen(id) > ARI_CERTID_MAX
                           ? qerr_set(&ei, QERR_MALFORMED, "the certificate identifier is too long")
                           : service_acme_renewal_info(c.svc, id, &w, &ei);
        if (rc != QERR_OK) {
                acme_problem(&c, &ei);
                return;
        }
        char a[32], b[32];
        json_t *o = json_pack("{s:{s:s,s:s}}", "suggestedWindow", "start", acme_time(w.start, a),
                              "end", acme_time(w.end, b));
        http_set_header(resp, "Retry-After", "%d", ARI_RETRY_AFTER_SECONDS);
        acme_json(&c, 200, o);
}

static const struct http_route routes[] = {
    {"GET", "/acme/directory", 0, h_directory},
    {"GET", "/acme/new-nonce", 0, h_nonce},
    {"POST", "/acme/new-account", 4 * MAX_JWS_BYTES, h_new_account},
    {"POST", "/acme/acct/{id}", 4 * MAX_JWS_BYTES, h_account},
    {"POST", "/acme/acct/{id}/orders", 4 * MAX_JWS_BYTES, acme_h_orders},
    {"POST", "/acme/key-change", 4 * MAX_JWS_BYTES, h_key_change},
    {"POST", "/acme/new-order", 4 * MAX_JWS_BYTES, acme_h_new_order},
    {"POST", "/acme/order/{id}", 4 * MAX_JWS_BYTES, acme_h_order},
    {"POST", "/acme/order/{id}/finalize", 4 * MAX_JWS_BYTES, acme_h_finalize},
    {"POST", "/acme/authz/{id}", 4 * MAX_JWS_BYTES, acme_h_authz},
    {"POST", "/acme/chall/{id}/{type}", 4 * MAX_JWS_BYTES, acme_h_chall},
    {"POST", "/acme/cert/{id}", 4 * MAX_JWS_BYTES, acme_h_cert},
    {"POST", "/acme/revoke-cert", 4 * MAX_JWS_BYTES, acme_h_revoke},
    {"GET", "/acme/renewal-info/*", 0, h_renewal_info},
};

const struct http_route *acme_routes(size_t *n)
{
        *n = sizeof routes / sizeof routes[0];
        return routes;
}
