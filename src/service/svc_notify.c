/*
 * svc_notify.c - queueing notifications, and the expiry scan
 * (docs/internals/notify.md).
 *
 * svc_notify() runs inside the transaction of the change that causes the
 * event (the call sites sit next to the svc_event() of that change), so a
 * notification exists exactly when its change committed. It writes one
 * outbox row per active webhook of the owning tenant (the JSON body, built
 * once, the same bytes for each) and one per event for the tenant's
 * contacts when [smtp] url is set; the notifier (svc_notifier.c) sends
 * them. Nothing is read or built when the tenant has no recipient.
 *
 * The expiry scan queues certificate.expiring for every certificate that
 * crossed one of the [notify] expiry_days thresholds, each (certificate,
 * threshold) once (expiry_warnings), and only the smallest threshold it
 * crossed (a certificate found with 5 days left gets the 7-day warning,
 * not the 30-day one too). Each threshold keeps a keyset position in
 * (not_after, id) order, so a scan reads only the index range of the
 * certificates that entered the window since the last scan, in batches of
 * SCAN_BATCH rows per transaction.
 *
 * Same threading rules as service.h.
 */
#include "service_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/email.h"
#include "../base/log.h"
#include "../base/metrics.h"
#include "../notify/notify.h"

#define SCAN_BATCH 500
#define SCAN_MAX_BATCHES 40 /* per threshold and scan; the next scan goes on */
#define EMAIL_MAX_JOINED (NOTIFY_MAX_CONTACTS * (EMAIL_MAX + 1) + 16)

/* The tenant's recipients: active webhooks, and contacts when email is on. */
static enum qerr recipients(struct service *s, int64_t tenant, struct webhook_rec **hooks,
                            size_t *nh, char ***emails, size_t *ne, struct qerr_info *ei)
{
        *hooks = NULL;
        *emails = NULL;
        *nh = *ne = 0;
        enum qerr rc = ST(s)->ops->webhook_list(ST(s), tenant, hooks, nh, ei);
        if (rc == QERR_OK && s->cfg->smtp_url && s->cfg->smtp_url[0])
                rc = ST(s)->ops->contacts_get(ST(s), tenant, emails, ne, ei);
        return rc;
}

static char *join_emails(char **v, size_t n)
{
        struct qbuf b;
        qbuf_init(&b, EMAIL_MAX_JOINED);
        bool ok = true;
        for (size_t i = 0; ok && i < n; i++)
                ok = qbuf_printf(&b, "%s%s", i ? "," : "", v[i]);
        size_t len = 0;
        char *out = ok ? (char *)qbuf_take(&b, &len) : NULL;
        qbuf_free(&b);
        return out;
}

enum qerr svc_notify(struct service *s, const struct svc_notice *n, struct qerr_info *ei)
{
        struct webhook_rec *hooks = NULL;
        char **emails = NULL;
        size_t nh = 0, ne = 0;
        struct cert_rec *c = NULL;
        struct order_rec *o = NULL;
        char *body = NULL;
        struct qbuf subject, text;
        qbuf_init(&subject, 1024);
        qbuf_init(&text, 64 * 1024);
        enum qerr rc = recipients(s, n->tenant_id, &hooks, &nh, &emails, &ne, ei);
        if (rc != QERR_OK || (nh == 0 && ne == 0))
                goto out;
        if (n->cert_id)
                rc = ST(s)->ops->cert_get(ST(s), 0, n->cert_id, &c, ei);
        if (rc == QERR_OK && n->order_id)
                rc = ST(s)->ops->order_get(ST(s), 0, n->order_id, &o, ei);
        if (rc != QERR_OK)
                goto out;
        struct tenant_rec t = {0};
        if (c)
                snprintf(t.name, sizeof t.name, "%s", c->tenant);
        else if (o)
                snprintf(t.name, sizeof t.name, "%s", o->tenant);
        else if ((rc = ST(s)->ops->tenant_find(ST(s), NULL, n->tenant_id, &t, ei)) != QERR_OK)
                goto out;
        qtime_t now = qtime_now();
        struct notify_event e = {.type = n->type,
                                 .tenant = t.name,
                                 .at = now,
                                 .cert = c,
                                 .order = o,
                                 .review = n->review,
                                 .threshold_days = n->threshold_days,
                                 .detail = n->detail};
        struct delivery_rec d;
        memset(&d, 0, sizeof d);
        d.tenant_id = n->tenant_id;
        snprintf(d.event, sizeof d.event, "%s", n->type);
        snprintf(d.object_type, sizeof d.object_type, "%s", c ? "certificate" : "order");
        d.object_id = c ? c->id : o ? o->id : 0;
        /* due at once, whatever the clock of the process that sends it */
        d.next_attempt_at = 0;
        d.created_at = now;
        if (nh) {
                json_t *p = notify_payload(&e);
                body = p ? json_dumps(p, JSON_COMPACT) : NULL;
                json_decref(p);
                if (!body) {
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                        goto out;
                }
        }
        snprintf(d.channel, sizeof d.channel, "webhook");
        d.body = (uint8_t *)body;
        d.body_len = body ? strlen(body) : 0;
        for (size_t i = 0; rc == QERR_OK && i < nh; i++) {
                d.webhook_id = hooks[i].id;
                rc = ST(s)->ops->delivery_insert(ST(s), &d, ei);
        }
        if (rc == QERR_OK && ne) {
                char *to = join_emails(emails, ne);
                if (!to || !notify_email_text(&e, &subject, &text)) {
                        free(to);
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                        goto out;
                }
                snprintf(d.channel, sizeof d.channel, "email");
                d.webhook_id = 0;
                d.recipients = to;
                d.subject = (char *)qbuf_str(&subject);
                d.body = text.data;
                d.body_len = text.len;
                rc = ST(s)->ops->delivery_insert(ST(s), &d, ei);
                free(to);
        }
        if (rc == QERR_OK)
                metrics_count("quill_notify_queued_total",
                              "Notifications written to the outbox, by event (one per "
                              "recipient).",
                              (double)(nh + (ne ? 1 : 0)), "event", n->type, NULL);
out:
        free(body);
        qbuf_free(&subject);
        qbuf_free(&text);
        cert_rec_free(c);
        order_rec_free(o);
        store_free_webhooks(hooks, nh);
        store_free_strings(emails, ne);
        return rc;
}

enum qerr svc_notify_cert(struct service *s, const char *type, int64_t tenant_id, int64_t cert_id,
                          struct qerr_info *ei)
{
        struct svc_notice n = {.type = type, .tenant_id = tenant_id, .cert_id = cert_id};
        return svc_notify(s, &n, ei);
}

enum qerr svc_notify_order(struct service *s, const char *type, int64_t tenant_id, int64_t order_id,
                           struct qerr_info *ei)
{
        struct svc_notice n = {.type = type, .tenant_id = tenant_id, .order_id = order_id};
        return svc_notify(s, &n, ei);
}

/* ---- the expiry scan ---- */

/* One batch of threshold `days` (the next smaller one is `smaller`, 0 for
 * none), in one transaction. *more: a full batch (another may follow). */
static enum qerr scan_batch(struct service *s, int days, int smaller, qtime_t now, int *sent,
                            bool *more, struct qerr_info *ei)
{
        qtime_t hi = now + days * QTIME_DAY, lo = now + smaller * QTIME_DAY;
        qtime_t mark_na = 0;
        int64_t mark_id = 0;
        struct expiry_row *rows = NULL;
        size_t n = 0;
        *more = false;
        enum qerr rc = ST(s)->ops->begin(ST(s), ei);
        if (rc != QERR_OK)
                return rc;
        rc = ST(s)->ops->expiry_mark(ST(s), days, &mark_na, &mark_id, ei);
        /* start after the mark, and after `lo`: a certificate that already
         * crossed the smaller threshold gets that one's warning instead */
        qtime_t from_na = mark_na;
        int64_t from_id = mark_id;
        if (lo > mark_na || (lo == mark_na && mark_id < INT64_MAX)) {
                from_na = lo;
                from_id = INT64_MAX;
        }
        if (rc == QERR_OK && from_na < hi)
                rc = ST(s)->ops->expiry_candidates(ST(s), from_na, from_id, hi, SCAN_BATCH, &rows,
                                                   &n, ei);
        for (size_t i = 0; rc == QERR_OK && i < n; i++) {
                bool inserted = false;
                if (!rows[i].active)
                        continue;
                rc = ST(s)->ops->expiry_record(ST(s), rows[i].cert_id, days, now, &inserted, ei);
                if (rc == QERR_OK && inserted) {
                        char detail[160];
                        snprintf(detail, sizeof detail, "certificate %lld expires within %d day%s",
                                 (long long)rows[i].cert_id, days, days == 1 ? "" : "s");
                        struct svc_notice nt = {.type = NOTIFY_CERT_EXPIRING,
                                                .tenant_id = rows[i].tenant_id,
                                                .cert_id = rows[i].cert_id,
                                                .threshold_days = days,
                                                .detail = detail};
                        rc = svc_notify(s, &nt, ei);
                        if (rc == QERR_OK)
                                (*sent)++;
                }
        }
        /* the new position: the last row of a full batch, else all of
         * (.., hi]; never backwards (a clock set back re-reads nothing) */
        qtime_t new_na = hi;
        int64_t new_id = INT64_MAX;
        if (n == SCAN_BATCH) {
                new_na = rows[n - 1].not_after;
                new_id = rows[n - 1].cert_id;
                *more = true;
        }
        if (rc == QERR_OK && (new_na > mark_na || (new_na == mark_na && new_id > mark_id)))
                rc = ST(s)->ops->expiry_mark_set(ST(s), days, new_na, new_id, ei);
        free(rows);
        if (rc != QERR_OK)
                return svc_abort(s, rc);
        return ST(s)->ops->commit(ST(s), ei);
}

enum qerr service_expiry_scan(struct service *s, qtime_t now, int *sent, struct qerr_info *ei)
{
        int days[CONFIG_MAX_EXPIRY_DAYS];
        size_t nd = 0;
        *sent = 0;
        if (!config_parse_days(s->cfg->notify_expiry_days, days, CONFIG_MAX_EXPIRY_DAYS, &nd))
                return qerr_set(ei, QERR_CONFIG, "[notify] expiry_days is not a list of days");
        enum qerr rc = QERR_OK;
        for (size_t i = 0; rc == QERR_OK && i < nd; i++) {
                bool more = true;
                for (int b = 0; rc == QERR_OK && more && b < SCAN_MAX_BATCHES; b++)
                        rc = scan_batch(s, days[i], i + 1 < nd ? days[i + 1] : 0, now, sent, &more,
                                        ei);
        }
        if (*sent)
                metrics_count("quill_notify_expiry_warnings_total",
                              "Expiry warnings queued (certificate and threshold, once each).",
                              (double)*sent, NULL);
        return rc;
}
