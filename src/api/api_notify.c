/*
 * api_notify.c - /api/v1/webhooks (register, list, delete, the delivery
 * log of one) and /api/v1/contacts (the tenant's email addresses for
 * notifications). User and admin keys; a user acts on its own tenant, an
 * admin on every tenant (contacts of another tenant: ?tenant=NAME). A
 * webhook's secret goes in with POST and never comes out. Threads: the
 * HTTP worker threads (api.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"

#define MAX_CONTACTS 20

static void create_webhook(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN))
                return;
        const char *url = NULL, *secret = NULL;
        const struct jfield f[] = {
            {"url", JF_STRING, true, 0, QUILL_WEBHOOK_URL_MAX, &url, NULL, NULL, 0},
            {"secret", JF_STRING, true, 0, 1024, &secret, NULL, NULL, 0},
        };
        json_t *root = NULL;
        if (!api_body(&c, f, sizeof f / sizeof f[0], false, &root))
                return;
        struct webhook_rec w;
        struct qerr_info ei;
        enum qerr rc = service_webhook_create(c.svc, url, secret, &w, &ei);
        json_decref(root); /* the secret's copy goes with the document */
        if (rc != QERR_OK)
                return api_fail(&c, &ei);
        http_set_header(c.resp, "Location", "/api/v1/webhooks/%lld", (long long)w.id);
        api_json(&c, 201, json_pack("{s:o}", "webhook", json_of_webhook(&w)));
        webhook_rec_clear(&w);
}

static void list_webhooks(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN))
                return;
        static const char *const none[] = {NULL};
        if (!api_query_only(&c, none))
                return;
        struct webhook_rec *v = NULL;
        size_t n = 0;
        struct qerr_info ei;
        if (service_webhook_list(c.svc, &v, &n, &ei) != QERR_OK)
                return api_fail(&c, &ei);
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_of_webhook(&v[i])) != 0) {
                        json_decref(a);
                        a = NULL;
                }
        store_free_webhooks(v, n);
        api_json(&c, 200, a ? json_pack("{s:o,s:n}", "webhooks", a, "next_cursor") : NULL);
}

static void delete_webhook(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        int64_t id;
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN) || !api_id(&c, 0, &id))
                return;
        struct qerr_info ei;
        if (service_webhook_delete(c.svc, id, NULL, &ei) != QERR_OK)
                return api_fail(&c, &ei);
        resp->status = 204;
        qbuf_reset(&resp->body);
        resp->content_type = NULL;
}

static void list_deliveries(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        struct delivery_query q = {0};
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN) || !api_id(&c, 0, &q.webhook_id))
                return;
        static const char *const allowed[] = {"limit", "cursor", NULL};
        if (!api_query_only(&c, allowed) || !api_page(&c, &q.limit, &q.before_id))
                return;
        struct delivery_rec *v = NULL;
        size_t n = 0;
        bool more = false;
        struct qerr_info ei;
        if (service_webhook_deliveries(c.svc, &q, &v, &n, &more, &ei) != QERR_OK)
                return api_fail(&c, &ei);
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_of_delivery(&v[i])) != 0) {
                        json_decref(a);
                        a = NULL;
                }
        json_t *cursor = api_cursor(more, n ? v[n - 1].id : 0);
        store_free_deliveries(v, n);
        api_json(&c, 200,
                 a ? json_pack("{s:o,s:o}", "deliveries", a, "next_cursor", cursor) : NULL);
}

/* ---- contacts ---- */

static void send_contacts(struct api_call *c, const struct tenant_rec *t, char **emails, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_of_text(emails[i])) != 0) {
                        json_decref(a);
                        a = NULL;
                }
        api_json(
            c, 200,
            a ? json_pack("{s:{s:o,s:o}}", "contacts", "tenant", json_of_text(t->name), "emails", a)
              : NULL);
}

/* ?tenant=NAME (admin keys: another tenant's contacts); false after 400. */
static bool tenant_param(struct api_call *c, char *buf, size_t sz, const char **out)
{
        static const char *const allowed[] = {"tenant", NULL};
        return api_query_only(c, allowed) && api_query(c, "tenant", buf, sz, out);
}

static void put_contacts(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN))
                return;
        char tb[128];
        const char *tenant = NULL;
        if (!tenant_param(&c, tb, sizeof tb, &tenant))
                return;
        const char *emails[MAX_CONTACTS];
        size_t n = 0;
        const struct jfield f[] = {
            {"emails", JF_STRINGS, true, 0, MAX_CONTACTS, emails, &n, NULL, 254},
        };
        json_t *root = NULL;
        if (!api_body(&c, f, sizeof f / sizeof f[0], false, &root))
                return;
        struct tenant_rec t;
        struct qerr_info ei;
        enum qerr rc = service_contacts_set(c.svc, tenant, emails, n, &t, &ei);
        json_decref(root);
        if (rc != QERR_OK)
                return api_fail(&c, &ei);
        char **now = NULL;
        size_t nn = 0;
        if (service_contacts_get(c.svc, tenant, &now, &nn, &t, &ei) != QERR_OK)
                return api_fail(&c, &ei);
        send_contacts(&c, &t, now, nn);
        store_free_strings(now, nn);
}

static void get_contacts(void *user, const struct http_request *req, struct http_response *resp)
{
        struct api_call c;
        if (!api_begin(&c, user, req, resp, R_USER | R_ADMIN))
                return;
        char tb[128];
        const char *tenant = NULL;
        if (!tenant_param(&c, tb, sizeof tb, &tenant))
                return;
        struct tenant_rec t;
        char **v = NULL;
        size_t n = 0;
        struct qerr_info ei;
        if (service_contacts_get(c.svc, tenant, &v, &n, &t, &ei) != QERR_OK)
                return api_fail(&c, &ei);
        send_contacts(&c, &t, v, n);
        store_free_strings(v, n);
}

const struct http_route api_notify_routes[] = {
    {"POST", "/api/v1/webhooks", 0, create_webhook},
    {"GET", "/api/v1/webhooks", 0, list_webhooks},
    {"DELETE", "/api/v1/webhooks/{id}", 0, delete_webhook},
    {"GET", "/api/v1/webhooks/{id}/deliveries", 0, list_deliveries},
    {"PUT", "/api/v1/contacts", 0, put_contacts},
    {"GET", "/api/v1/contacts", 0, get_contacts},
};
const size_t api_notify_nroutes = sizeof api_notify_routes / sizeof api_notify_routes[0];
