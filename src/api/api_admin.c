/*
 * api_admin.c - /api/v1/events (the audit log: the tenant's own, an
 * admin's every tenant's), and the admin routes: tenants, API keys (the
 * token is in the answer of POST only, never again) and the CAs. Threads:
 * the HTTP worker threads (api.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"

static const char *const OBJECTS[] = {"certificate", "order",    "review",  "revocation",
                                      "reissue",     "tenant",   "api_key", "ca",
                                      "webhook",     "contacts", NULL};

static void list_events(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        if (!api_begin(&c, user, req, resp, R_ANY))
                return;
        static const char *const allowed[] = {"object", "id", "since", "limit", "cursor", NULL};
        if (!api_query_only(&c, allowed))
                return;
        struct event_query q = {0};
        char idb[24], since[40];
        const char *v;
        if (!api_page(&c, &q.limit, &q.before_id) ||
            !api_query_choice(&c, "object", OBJECTS, NULL, &q.object_type))
                return;
        if (!api_query(&c, "id", idb, sizeof idb, &v))
                return;
        if (v) {
                char *end;
                long long x = strtoll(v, &end, 10);
                if (*v < '1' || *v > '9' || *end || x <= 0)
                        return api_bad(&c, "id must be a positive integer");
                if (!q.object_type)
                        return api_bad(&c, "id needs object (the kind of object it names)");
                q.object_id = x;
        }
        if (!api_query(&c, "since", since, sizeof since, &v))
                return;
        if (v && !api_parse_time(v, &q.since))
                return api_bad(&c, "since must be an RFC 3339 time such as 2027-01-01T00:00:00Z");
        struct event_rec *ev = NULL;
        size_t n = 0;
        bool more = false;
        struct qerr_info ei;
        if (service_event_list(c.svc, &q, &ev, &n, &more, &ei) != QERR_OK)
                return api_fail(&c, &ei);
        json_t *cursor = api_cursor(more, n ? ev[n - 1].id : 0);
        json_t *a = json_of_events(ev, n);
        store_free_events(ev, n);
        api_json(&c, 200, a ? json_pack("{s:o,s:o}", "events", a, "next_cursor", cursor) : NULL);
}

/* ---- tenants ---- */

static void create_tenant(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        if (!api_begin(&c, user, req, resp, R_ADMIN))
                return;
        const char *name = NULL;
        const struct jfield f[] = {{"name", JF_STRING, true, 0, 200, &name, NULL, NULL, 0}};
        json_t *root = NULL;
        if (!api_body(&c, f, 1, false, &root))
                return;
        struct tenant_rec t;
        struct qerr_info ei;
        enum qerr rc = service_tenant_create(c.svc, name, &t, &ei);
        json_decref(root);
        if (rc != QERR_OK)
                return api_fail(&c, &ei);
        api_json(&c, 201, json_pack("{s:o}", "tenant", json_of_tenant(&t)));
}

static void list_tenants(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        if (!api_begin(&c, user, req, resp, R_ADMIN))
                return;
        static const char *const none[] = {NULL};
        if (!api_query_only(&c, none))
                return;
        struct tenant_rec *v = NULL;
        size_t n = 0;
        struct qerr_info ei;
        if (service_tenant_list(c.svc, &v, &n, &ei) != QERR_OK)
                return api_fail(&c, &ei);
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_of_tenant(&v[i]));
        free(v);
        api_json(&c, 200, json_pack("{s:o,s:n}", "tenants", a, "next_cursor"));
}

/* ---- API keys ---- */

static void create_key(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        if (!api_begin(&c, user, req, resp, R_ADMIN))
                return;
        const char *tenant = NULL, *role_s = NULL, *label = NULL;
        const struct jfield f[] = {
            {"tenant", JF_STRING, false, 0, 200, &tenant, NULL, NULL, 0},
            {"role", JF_STRING, true, 0, 16, &role_s, NULL, NULL, 0},
            {"label", JF_STRING, false, 0, 100, &label, NULL, NULL, 0},
        };
        json_t *root = NULL;
        if (!api_body(&c, f, sizeof f / sizeof f[0], false, &root))
                return;
        enum role role;
        if (!role_from_name(role_s, &role)) {
                json_decref(root);
                return api_bad(&c, "role must be user, reviewer or admin");
        }
        struct apikey_rec k;
        char token[QUILL_TOKEN_MAX];
        struct qerr_info ei;
        enum qerr rc = service_key_create(c.svc, tenant, role, label, &k, token, &ei);
        json_decref(root);
        if (rc != QERR_OK)
                return api_fail(&c, &ei);
        json_t *o = json_of_apikey(&k);
        if (o && json_object_set_new(o, "token", json_string(token)) != 0) {
                json_decref(o);
                o = NULL;
        }
        mem_wipe(token, sizeof token);
        http_set_header(c.resp, "Cache-Control", "no-store");
        api_json(&c, 201, o ? json_pack("{s:o}", "key", o) : NULL);
}

static void list_keys(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        if (!api_begin(&c, user, req, resp, R_ADMIN))
                return;
        static const char *const allowed[] = {"tenant", NULL};
        if (!api_query_only(&c, allowed))
                return;
        char tb[128];
        const char *tenant;
        if (!api_query(&c, "tenant", tb, sizeof tb, &tenant))
                return;
        struct apikey_rec *v = NULL;
        size_t n = 0;
        struct qerr_info ei;
        if (service_key_list(c.svc, tenant, &v, &n, &ei) != QERR_OK)
                return api_fail(&c, &ei);
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_of_apikey(&v[i]));
        free(v);
        api_json(&c, 200, json_pack("{s:o,s:n}", "keys", a, "next_cursor"));
}

static void revoke_key(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        int64_t id;
        if (!api_begin(&c, user, req, resp, R_ADMIN) || !api_id(&c, 0, &id))
                return;
        struct apikey_rec k;
        struct qerr_info ei;
        if (service_key_revoke(c.svc, id, &k, &ei) != QERR_OK)
                return api_fail(&c, &ei);
        api_json(&c, 200, json_pack("{s:o}", "key", json_of_apikey(&k)));
}

/* ---- CAs ---- */

static void list_cas(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        if (!api_begin(&c, user, req, resp, R_ADMIN))
                return;
        static const char *const none[] = {NULL};
        if (!api_query_only(&c, none))
                return;
        struct ca_rec **cas = NULL;
        size_t n = 0;
        struct qerr_info ei;
        if (service_ca_list(c.svc, &cas, &n, &ei) != QERR_OK)
                return api_fail(&c, &ei);
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_of_ca(cas[i]));
        store_free_cas(cas, n);
        api_json(&c, 200, json_pack("{s:o}", "cas", a));
}

const struct http_route api_admin_routes[] = {
    {"GET", "/api/v1/events", 0, list_events},   {"POST", "/api/v1/tenants", 0, create_tenant},
    {"GET", "/api/v1/tenants", 0, list_tenants}, {"POST", "/api/v1/keys", 0, create_key},
    {"GET", "/api/v1/keys", 0, list_keys},       {"DELETE", "/api/v1/keys/{id}", 0, revoke_key},
    {"GET", "/api/v1/cas", 0, list_cas},
};
const size_t api_admin_nroutes = sizeof api_admin_routes / sizeof api_admin_routes[0];
