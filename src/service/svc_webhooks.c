/*
 * svc_webhooks.c - a tenant's notification recipients (issue 6): webhooks
 * (URL checked, secret sealed under the data key, never returned), their
 * delivery logs, and the email contacts. Every change is written with its
 * event. Roles: user and admin keys; a user sees its own tenant's, an
 * admin every tenant's (another tenant's webhook is NOT_FOUND, exactly like
 * a missing one, and audited: svc_visible).
 *
 * Same threading rules as service.h; records returned are the caller's.
 */
#include "service_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/email.h"
#include "../base/log.h"
#include "../dns/dns.h"
#include "../notify/notify.h"

static void secret_aad(int64_t id, char *out, size_t sz)
{
        snprintf(out, sz, "quill-webhook-secret:%lld", (long long)id);
}

static void drop_secret(struct webhook_rec *w)
{
        if (w->secret_blob) {
                OPENSSL_cleanse(w->secret_blob, w->secret_len);
                free(w->secret_blob);
        }
        w->secret_blob = NULL;
        w->secret_len = 0;
}

/* The URL's rules: parse, then (unless allowed) refuse private hosts. */
static enum qerr check_url(struct service *s, const char *url, struct qerr_info *ei)
{
        struct notify_url u;
        enum qerr rc = notify_url_parse(url, &u, ei);
        if (rc != QERR_OK)
                return rc;
        struct notify_net net = {.timeout_ms = s->cfg->notify_timeout_ms,
                                 .allow_private = s->cfg->notify_allow_private_addresses};
        struct dns_resolver *dns = NULL;
        if (!net.allow_private && !u.literal) {
                /* quill's own resolver, as deliveries use; without one
                 * (a bad [dns] setting) the name is checked at delivery */
                struct qerr_info de;
                if (svc_dns_new(s->cfg, NULL, &dns, &de) != QERR_OK)
                        dns = NULL;
        }
        net.dns = dns;
        rc = notify_url_check(&net, &u, ei);
        dns_resolver_free(dns);
        return rc;
}

enum qerr service_webhook_create(struct service *s, const char *url, const char *secret,
                                 struct webhook_rec *out, struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "register webhooks", ei);
        if (rc != QERR_OK)
                return rc;
        size_t slen = secret ? strlen(secret) : 0;
        if (slen < NOTIFY_SECRET_MIN || slen > NOTIFY_SECRET_MAX)
                return qerr_set(ei, QERR_WEBHOOK_SECRET_INVALID,
                                "the webhook secret has %zu characters; it needs %d to %d (a long "
                                "random string: it signs every delivery)",
                                slen, NOTIFY_SECRET_MIN, NOTIFY_SECRET_MAX);
        if ((rc = check_url(s, url, ei)) != QERR_OK)
                return rc;
        const uint8_t *dk = NULL;
        if ((rc = svc_data_key(s, &dk, ei)) != QERR_OK)
                return rc;
        struct webhook_rec *cur = NULL;
        size_t ncur = 0;
        struct qbuf sealed;
        qbuf_init(&sealed, NOTIFY_SECRET_MAX + 64);
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                goto out;
        rc = ST(s)->ops->webhook_list(ST(s), s->who.tenant_id, &cur, &ncur, ei);
        if (rc == QERR_OK && ncur >= NOTIFY_MAX_WEBHOOKS)
                rc = qerr_set(ei, QERR_WEBHOOK_LIMIT,
                              "tenant %s already has %zu webhooks, the most allowed; delete one "
                              "first",
                              s->who.tenant, ncur);
        out->tenant_id = s->who.tenant_id;
        snprintf(out->tenant, sizeof out->tenant, "%s", s->who.tenant);
        snprintf(out->created_by, sizeof out->created_by, "%s", s->who.name);
        out->created_at = qtime_now();
        if (rc == QERR_OK && !(out->url = strdup(url)))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        if (rc == QERR_OK)
                rc = ST(s)->ops->webhook_insert(ST(s), out, ei);
        char aad[64];
        secret_aad(out->id, aad, sizeof aad);
        if (rc == QERR_OK)
                rc = pki_seal(dk, aad, secret, slen, &sealed, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->webhook_set_secret(ST(s), out->id, sealed.data, sealed.len, ei);
        if (rc == QERR_OK) {
                struct notify_url u;
                notify_url_parse(url, &u, NULL);
                /* the host only: a URL's path or query may hold a token */
                rc = svc_event(s, out->tenant_id, "webhook", out->id, NULL, "created",
                               "webhook to %s://%s:%ld", u.scheme, u.host, u.port);
        }
        if (rc == QERR_OK)
                rc = ST(s)->ops->commit(ST(s), ei);
        else
                svc_abort(s, rc);
out:
        qbuf_free(&sealed);
        store_free_webhooks(cur, ncur);
        if (rc != QERR_OK)
                webhook_rec_clear(out);
        return rc;
}

enum qerr service_webhook_list(struct service *s, struct webhook_rec **out, size_t *n,
                               struct qerr_info *ei)
{
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "list webhooks", ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->webhook_list(ST(s), svc_scope(s), out, n, ei);
        for (size_t i = 0; rc == QERR_OK && i < *n; i++)
                drop_secret(&(*out)[i]);
        return rc;
}

enum qerr service_webhook_delete(struct service *s, int64_t id, struct webhook_rec *out,
                                 struct qerr_info *ei)
{
        struct webhook_rec w;
        memset(&w, 0, sizeof w);
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "delete webhooks", ei);
        if (rc == QERR_OK)
                rc = svc_visible(s, "webhook", id, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->begin(ST(s), ei);
        if (rc != QERR_OK)
                return rc;
        rc = ST(s)->ops->webhook_get(ST(s), svc_scope(s), id, &w, ei);
        if (rc == QERR_OK) {
                w.deleted_at = qtime_now();
                rc = ST(s)->ops->webhook_delete(ST(s), id, w.deleted_at, ei);
        }
        if (rc == QERR_OK)
                rc = svc_event(s, w.tenant_id, "webhook", id, "created", "deleted",
                               "deleted; deliveries still pending are cancelled");
        if (rc == QERR_OK)
                rc = ST(s)->ops->commit(ST(s), ei);
        else
                svc_abort(s, rc);
        drop_secret(&w);
        if (rc == QERR_OK && out)
                *out = w;
        else
                webhook_rec_clear(&w);
        return rc;
}

enum qerr service_webhook_deliveries(struct service *s, const struct delivery_query *q,
                                     struct delivery_rec **out, size_t *n, bool *more,
                                     struct qerr_info *ei)
{
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "read delivery logs", ei);
        if (rc == QERR_OK)
                rc = svc_visible(s, "webhook", q->webhook_id, ei);
        if (rc != QERR_OK)
                return rc;
        struct delivery_query mine = *q;
        mine.tenant = svc_scope(s);
        return ST(s)->ops->delivery_page(ST(s), &mine, out, n, more, ei);
}

/* ---- contacts ---- */

/* The tenant acted on: the principal's, or (an admin's) the one named. */
static enum qerr contacts_tenant(struct service *s, const char *tenant, struct tenant_rec *t,
                                 struct qerr_info *ei)
{
        memset(t, 0, sizeof *t);
        if (!tenant || strcmp(tenant, s->who.tenant) == 0) {
                t->id = s->who.tenant_id;
                snprintf(t->name, sizeof t->name, "%s", s->who.tenant);
                return QERR_OK;
        }
        if (s->who.role != ROLE_ADMIN || !s->who.all_tenants)
                return qerr_set(ei, QERR_FORBIDDEN,
                                "a %s key acts on the contacts of its own tenant (%s) only; leave "
                                "out tenant, or use an admin key",
                                role_name(s->who.role), s->who.tenant);
        if (!tenant_name_valid(tenant))
                return qerr_set(ei, QERR_TENANT_INVALID, NULL);
        enum qerr rc = ST(s)->ops->tenant_find(ST(s), tenant, 0, t, ei);
        if (rc == QERR_NOT_FOUND)
                return qerr_set(ei, QERR_TENANT_UNKNOWN, "no tenant named %s", tenant);
        return rc;
}

enum qerr service_contacts_set(struct service *s, const char *tenant, const char *const *emails,
                               size_t n, struct tenant_rec *t, struct qerr_info *ei)
{
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "set contacts", ei);
        if (rc == QERR_OK)
                rc = contacts_tenant(s, tenant, t, ei);
        if (rc != QERR_OK)
                return rc;
        if (n > NOTIFY_MAX_CONTACTS)
                return qerr_set(ei, QERR_CONTACT_INVALID,
                                "%zu contacts given; a tenant has at most %d", n,
                                NOTIFY_MAX_CONTACTS);
        const char *uniq[NOTIFY_MAX_CONTACTS];
        size_t nu = 0;
        for (size_t i = 0; i < n; i++) {
                if (!email_addr_valid(emails[i])) {
                        char shown[64];
                        size_t k = 0;
                        for (const char *p = emails[i]; *p && k + 4 < sizeof shown; p++)
                                shown[k++] = (*p > 0x20 && *p < 0x7f) ? *p : '?';
                        shown[k] = 0;
                        return qerr_set(ei, QERR_CONTACT_INVALID,
                                        "contact %zu (\"%s%s\") is not a plain email address "
                                        "(local@domain.example, no display name)",
                                        i + 1, shown,
                                        strlen(emails[i]) >= sizeof shown - 4 ? "..." : "");
                }
                bool dup = false;
                for (size_t j = 0; j < nu && !dup; j++)
                        dup = strcasecmp(uniq[j], emails[i]) == 0;
                if (!dup)
                        uniq[nu++] = emails[i];
        }
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                return rc;
        rc = ST(s)->ops->contacts_set(ST(s), t->id, uniq, nu, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, t->id, "contacts", t->id, NULL, "updated",
                               "%zu email address%s for notifications", nu, nu == 1 ? "" : "es");
        if (rc == QERR_OK)
                rc = ST(s)->ops->commit(ST(s), ei);
        else
                svc_abort(s, rc);
        if (rc == QERR_OK && (!s->cfg->smtp_url || !s->cfg->smtp_url[0]) && nu)
                qlog_warn("contacts set but email is off", "tenant=%s hint=\"set [smtp] url\"",
                          t->name);
        return rc;
}

enum qerr service_contacts_get(struct service *s, const char *tenant, char ***emails, size_t *n,
                               struct tenant_rec *t, struct qerr_info *ei)
{
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "read contacts", ei);
        if (rc == QERR_OK)
                rc = contacts_tenant(s, tenant, t, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->contacts_get(ST(s), t->id, emails, n, ei);
        return rc;
}
