/*
 * api.c - the REST API's shared machinery (api.h, api_int.h): the server
 * and its per-thread service handles, authentication, the per-tenant rate
 * limit (a token bucket per tenant, in memory, under one mutex), the role
 * gate, and the helpers that decode ids, query strings, cursors and bodies
 * and encode answers. The route handlers live in api_certs.c, api_orders.c,
 * api_admin.c and api_notify.c.
 */
#include "api_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/log.h"

#define MAX_BUCKETS 4096

struct bucket {
        int64_t tenant;
        double tokens;
        qtime_t last_ms;
};

struct api_server {
        const struct qconfig *cfg;
        pthread_mutex_t mu; /* guards buckets */
        struct bucket *buckets;
};

enum qerr api_server_new(const struct qconfig *cfg, struct api_server **out, struct qerr_info *ei)
{
        struct api_server *a = calloc(1, sizeof *a);
        if (!a || !(a->buckets = calloc(MAX_BUCKETS, sizeof *a->buckets))) {
                free(a);
                return qerr_set(ei, QERR_NOMEM, NULL);
        }
        a->cfg = cfg;
        pthread_mutex_init(&a->mu, NULL);
        *out = a;
        return QERR_OK;
}

void api_server_free(struct api_server *a)
{
        if (!a)
                return;
        pthread_mutex_destroy(&a->mu);
        free(a->buckets);
        free(a);
}

static struct http_route all_routes[64];
static size_t all_count;
static pthread_once_t all_once = PTHREAD_ONCE_INIT;

static void build_routes(void)
{
        const struct {
                const struct http_route *r;
                size_t n;
        } parts[] = {{api_cert_routes, api_cert_nroutes},
                     {api_order_routes, api_order_nroutes},
                     {api_admin_routes, api_admin_nroutes},
                     {api_notify_routes, api_notify_nroutes}};
        for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++)
                for (size_t i = 0; i < parts[p].n; i++)
                        if (all_count < sizeof all_routes / sizeof all_routes[0])
                                all_routes[all_count++] = parts[p].r[i];
}

const struct http_route *api_routes(size_t *n)
{
        pthread_once(&all_once, build_routes);
        *n = all_count;
        return all_routes;
}

/* ---- answers ---- */

void api_json(struct api_call *c, int status, json_t *obj)
{
        char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
        json_decref(obj);
        qbuf_reset(&c->resp->body);
        if (!text || !qbuf_append_str(&c->resp->body, text) ||
            !qbuf_append_str(&c->resp->body, "\n")) {
                free(text);
                struct qerr_info ei;
                qerr_set(&ei, QERR_NOMEM, NULL);
                http_error(c->resp, &ei);
                return;
        }
        free(text);
        c->resp->status = status;
        c->resp->content_type = "application/json";
}

void api_fail(struct api_call *c, const struct qerr_info *ei)
{
        if (qerr_http_status(ei->code) < 500) {
                http_error(c->resp, ei);
                return;
        }
        char emsg[QERR_MSG_MAX + 8];
        qlog_error("API request failed", "request=%s route=%s principal=%s code=%s detail=%s",
                   c->req->request_id, c->req->route ? c->req->route : "-", c->who.name,
                   qerr_code(ei->code), qlog_escape(qerr_message(ei), emsg, sizeof emsg));
        struct qerr_info plain;
        qerr_set(&plain, ei->code, NULL);
        http_error(c->resp, &plain);
}

void api_bad(struct api_call *c, const char *fmt, ...)
{
        struct qerr_info ei;
        qerr_clear(&ei);
        ei.code = QERR_MALFORMED;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ei.msg, sizeof ei.msg, fmt, ap);
        va_end(ap);
        http_error(c->resp, &ei);
}

/* ---- the gate: token, rate, role ---- */

static qtime_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (qtime_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Takes one token from the tenant's bucket; 0 when allowed, else the
 * seconds to wait. */
static long rate_take(struct api_server *a, int64_t tenant)
{
        long rate = a->cfg->api_rate_per_second, burst = a->cfg->api_burst;
        if (rate <= 0)
                return 0;
        qtime_t now = now_ms();
        long wait = 0;
        pthread_mutex_lock(&a->mu);
        struct bucket *b = NULL;
        size_t h = (size_t)tenant % MAX_BUCKETS;
        for (size_t i = 0; i < MAX_BUCKETS && !b; i++) {
                struct bucket *x = &a->buckets[(h + i) % MAX_BUCKETS];
                if (x->tenant == tenant || x->tenant == 0) {
                        b = x;
                        if (x->tenant == 0) {
                                x->tenant = tenant;
                                x->tokens = (double)burst;
                                x->last_ms = now;
                        }
                }
        }
        if (b) {
                b->tokens += (double)(now - b->last_ms) * (double)rate / 1000.0;
                if (b->tokens > (double)burst)
                        b->tokens = (double)burst;
                b->last_ms = now;
                if (b->tokens >= 1.0)
                        b->tokens -= 1.0;
                else {
                        double w = (1.0 - b->tokens) / (double)rate;
                        wait = (long)w + ((double)(long)w < w ? 1 : 0);
                }
        }
        pthread_mutex_unlock(&a->mu);
        return wait;
}

bool api_begin(struct api_call *c, void *user, const struct http_request *req,
               struct http_response *resp, unsigned roles)
{
        const struct front_ctx *fx = user;
        memset(c, 0, sizeof *c);
        c->req = req;
        c->resp = resp;
        c->srv = fx ? fx->api : NULL;
        c->svc = front_service(req);
        struct qerr_info ei;
        qerr_clear(&ei);
        if (!c->svc || !c->srv) {
                qerr_set(&ei, QERR_STORE, "the API thread has no database handle");
                api_fail(c, &ei);
                return false;
        }
        const char *auth = http_header(req, "Authorization");
        const char *token = NULL;
        if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
                token = auth + 7;
                while (*token == ' ')
                        token++;
        }
        enum qerr rc = token ? service_authenticate(c->svc, token, &c->who, &ei)
                             : qerr_set(&ei, QERR_UNAUTHORIZED, NULL);
        if (rc != QERR_OK) {
                if (rc == QERR_UNAUTHORIZED)
                        http_set_header(resp, "WWW-Authenticate", "Bearer realm=\"quill\"");
                api_fail(c, &ei);
                return false;
        }
        long wait = rate_take(c->srv, c->who.tenant_id);
        if (wait > 0) {
                http_set_header(resp, "Retry-After", "%ld", wait);
                qerr_set(&ei, QERR_RATE_LIMITED,
                         "tenant %s made more than %ld requests per second (burst %ld); wait %ld "
                         "second%s and try again",
                         c->who.tenant, c->srv->cfg->api_rate_per_second, c->srv->cfg->api_burst,
                         wait, wait == 1 ? "" : "s");
                api_fail(c, &ei);
                return false;
        }
        if (!(roles & (1u << c->who.role))) {
                qerr_set(&ei, QERR_FORBIDDEN,
                         "a %s key may not call %s %s; ask an admin for a key with the right role",
                         role_name(c->who.role), req->method, req->route ? req->route : req->path);
                api_fail(c, &ei);
                return false;
        }
        service_set_principal(c->svc, &c->who);
        return true;
}

/* ---- decoding ---- */

bool api_id(struct api_call *c, size_t i, int64_t *out)
{
        const char *s = i < c->req->nparams ? c->req->params[i] : NULL;
        int64_t v = 0;
        bool okv = s && *s >= '1' && *s <= '9';
        for (const char *p = s; okv && *p; p++) {
                if (*p < '0' || *p > '9' || v > (INT64_MAX - (*p - '0')) / 10)
                        okv = false;
                else
                        v = v * 10 + (*p - '0');
        }
        if (!okv) {
                api_bad(c, "the id in the path must be a positive integer");
                return false;
        }
        *out = v;
        return true;
}

/* Calls fn(key, keylen) for each parameter of the raw query; stops at the
 * first false. */
static bool each_param(const char *q, bool (*fn)(const char *, size_t, void *), void *arg)
{
        while (q && *q) {
                const char *amp = strchr(q, '&');
                size_t len = amp ? (size_t)(amp - q) : strlen(q);
                const char *eq = memchr(q, '=', len);
                size_t klen = eq ? (size_t)(eq - q) : len;
                if (len && !fn(q, klen, arg))
                        return false;
                q = amp ? amp + 1 : NULL;
        }
        return true;
}

struct only_ctx {
        const char *const *allowed;
        char seen[16][32];
        int nseen;
        char bad[64];
};

static bool check_param(const char *k, size_t klen, void *arg)
{
        struct only_ctx *o = arg;
        bool known = false;
        for (const char *const *a = o->allowed; *a && !known; a++)
                known = strlen(*a) == klen && memcmp(*a, k, klen) == 0;
        if (!known || klen >= sizeof o->seen[0]) {
                size_t n = klen < 40 ? klen : 40, j = 0;
                for (size_t i = 0; i < n; i++)
                        o->bad[j++] = (k[i] >= 0x20 && k[i] < 0x7f) ? k[i] : '?';
                o->bad[j] = 0;
                return false;
        }
        for (int i = 0; i < o->nseen; i++)
                if (strlen(o->seen[i]) == klen && memcmp(o->seen[i], k, klen) == 0) {
                        snprintf(o->bad, sizeof o->bad, "%s (given twice)", o->seen[i]);
                        return false;
                }
        if (o->nseen < 16) {
                memcpy(o->seen[o->nseen], k, klen);
                o->seen[o->nseen++][klen] = 0;
        }
        return true;
}

bool api_query_only(struct api_call *c, const char *const *allowed)
{
        struct only_ctx o = {.allowed = allowed};
        if (each_param(c->req->query, check_param, &o))
                return true;
        char list[256] = "";
        size_t used = 0;
        for (const char *const *a = allowed; *a && used < sizeof list; a++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                         a == allowed ? "" : ", ", *a);
        api_bad(c, "unknown or repeated query parameter '%s'; this route takes: %s", o.bad,
                list[0] ? list : "none");
        return false;
}

bool api_query(struct api_call *c, const char *name, char *buf, size_t sz, const char **out)
{
        bool too_long = false;
        *out = http_query(c->req, name, buf, sz, &too_long);
        if (too_long) {
                api_bad(c, "query parameter '%s' is longer than %zu bytes", name, sz - 1);
                return false;
        }
        return true;
}

bool api_query_choice(struct api_call *c, const char *name, const char *const *choices,
                      const char *dflt, const char **out)
{
        char buf[64];
        const char *v;
        if (!api_query(c, name, buf, sizeof buf, &v))
                return false;
        *out = dflt;
        if (!v)
                return true;
        for (const char *const *ch = choices; *ch; ch++)
                if (strcmp(*ch, v) == 0) {
                        *out = *ch;
                        return true;
                }
        char list[256] = "";
        size_t used = 0;
        for (const char *const *ch = choices; *ch && used < sizeof list; ch++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                         ch == choices ? "" : ", ", *ch);
        api_bad(c, "%s must be one of %s", name, list);
        return false;
}

bool api_page(struct api_call *c, size_t *limit, int64_t *before_id)
{
        char buf[64];
        const char *v;
        *limit = API_PAGE_DEFAULT;
        *before_id = 0;
        if (!api_query(c, "limit", buf, sizeof buf, &v))
                return false;
        if (v) {
                char *end;
                errno = 0;
                long x = strtol(v, &end, 10);
                if (errno || end == v || *end || x < 1 || x > API_PAGE_MAX) {
                        api_bad(c, "limit must be a whole number from 1 to %d", API_PAGE_MAX);
                        return false;
                }
                *limit = (size_t)x;
        }
        if (!api_query(c, "cursor", buf, sizeof buf, &v))
                return false;
        if (v) {
                /* "c" + the last id of the previous page, in decimal */
                int64_t id = 0;
                bool okv = v[0] == 'c' && v[1] >= '1' && v[1] <= '9';
                for (const char *p = v + 1; okv && *p; p++) {
                        if (*p < '0' || *p > '9' || id > (INT64_MAX - (*p - '0')) / 10)
                                okv = false;
                        else
                                id = id * 10 + (*p - '0');
                }
                if (!okv) {
                        api_bad(c, "cursor is not one this server gave out; pass next_cursor of "
                                   "the previous page unchanged");
                        return false;
                }
                *before_id = id;
        }
        return true;
}

json_t *api_cursor(bool more, int64_t last)
{
        if (!more || last <= 0)
                return json_null();
        char buf[32];
        snprintf(buf, sizeof buf, "c%lld", (long long)last);
        return json_string(buf);
}

bool api_parse_time(const char *s, qtime_t *out)
{
        return s && qtime_parse(s, out);
}

bool api_body(struct api_call *c, const struct jfield *fields, size_t n, bool empty_ok,
              json_t **root)
{
        const uint8_t *body = c->req->body;
        size_t len = c->req->body_len;
        static const uint8_t empty[] = "{}";
        if (len == 0 && empty_ok) {
                body = empty;
                len = 2;
        }
        struct qerr_info ei;
        if (api_json_decode(body, len, fields, n, root, &ei) != QERR_OK) {
                http_error(c->resp, &ei);
                return false;
        }
        return true;
}
