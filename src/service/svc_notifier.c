/*
 * svc_notifier.c - the notifier threads of `quill serve`
 * (docs/internals/notify.md).
 *
 * Each thread owns a service handle (its own database connection) and a
 * DNS resolver. It claims the oldest due delivery (an atomic UPDATE ...
 * RETURNING with a lease: two threads, or two quill processes, never send
 * one row at once), sends it outside any transaction - a webhook POST
 * signed with the webhook's secret (unsealed for this attempt only, then
 * wiped), or an email through [smtp] url - and records the attempt in one
 * transaction: delivered, failed for good after [notify] max_attempts, or
 * pending again after the backoff of notify_backoff(). A crash between the
 * send and the record sends again later (at least once: receivers tell
 * repeats by X-Quill-Delivery).
 *
 * Thread 0 also takes back deliveries whose lease ended (a dead process's)
 * every 30 s, runs the expiry scan every [notify] expiry_scan_seconds and
 * sets the outbox gauges. At start, deliveries held by a process that no
 * longer exists are taken back at once.
 *
 * Threads: service_notifier_start/stop from the main thread; the threads
 * touch only their own handles and the stop flag (atomic).
 */
#include "service_internal.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/log.h"
#include "../base/metrics.h"
#include "../dns/dns.h"
#include "../notify/notify.h"

#define RELEASE_EVERY 30 /* seconds between lease checks */
#define GAUGE_EVERY 5

struct nthread {
        struct notifier *pool;
        int index;
        pthread_t thread;
        struct service *svc;
        struct dns_resolver *dns;
        char owner[160];
        bool started;
};

struct notifier {
        atomic_bool stop;
        const struct qconfig *cfg;
        int n;
        struct nthread *t;
};

static void nap(const struct notifier *p)
{
        for (int i = 0; i < 10 && !atomic_load(&p->stop); i++) {
                struct timespec ts = {0, 100 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
}

static double jitter(void)
{
        uint16_t r = 0;
        if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
                return 0;
        return (double)r / 65536.0;
}

/* Signs with the webhook's secret and POSTs. */
static void send_webhook(struct nthread *t, const struct delivery_rec *d,
                         const struct webhook_rec *w, struct notify_result *res)
{
        struct service *s = t->svc;
        const uint8_t *dk = NULL;
        struct qbuf secret;
        qbuf_init(&secret, NOTIFY_SECRET_MAX + 64);
        char aad[64], sig[NOTIFY_SIG_MAX];
        struct qerr_info ei;
        snprintf(aad, sizeof aad, "quill-webhook-secret:%lld", (long long)w->id);
        memset(res, 0, sizeof *res);
        if (svc_data_key(s, &dk, &ei) != QERR_OK ||
            pki_unseal(dk, aad, w->secret_blob, w->secret_len, &secret, &ei) != QERR_OK) {
                snprintf(res->error, sizeof res->error,
                         "the webhook's secret cannot be opened with this data key (was "
                         "QUILL_DATA_KEY or [keys] data_key_file changed?)");
        } else if (notify_sign(secret.data, secret.len, d->body, d->body_len, sig, sizeof sig,
                               &ei) != QERR_OK) {
                snprintf(res->error, sizeof res->error, "signing failed");
        } else {
                struct notify_net net = {.dns = t->dns,
                                         .timeout_ms = s->cfg->notify_timeout_ms,
                                         .allow_private = s->cfg->notify_allow_private_addresses};
                notify_http_post(&net, w->url, d->event, d->id, sig, d->body, d->body_len, res);
        }
        OPENSSL_cleanse(sig, sizeof sig);
        qbuf_free(&secret); /* wipes */
}

static void count(const char *channel, const char *result, double seconds)
{
        metrics_count("quill_notify_deliveries_total",
                      "Delivery attempts of notifications, by channel and result (delivered, "
                      "retry, failed, cancelled).",
                      1, "channel", channel, "result", result, NULL);
        static const char *const labels[] = {"channel", NULL};
        struct metric_family *f = metrics_family(
            METRIC_HISTOGRAM, "quill_notify_attempt_seconds",
            "Time one delivery attempt took (connect, send, answer), by channel.", labels, NULL, 0);
        const char *values[] = {channel};
        metrics_observe(metrics_series(f, values), seconds);
}

/* One claimed delivery: send, then record the attempt. */
static void deliver(struct nthread *t, struct delivery_rec *d)
{
        struct service *s = t->svc;
        const struct qconfig *cfg = s->cfg;
        struct notify_result res;
        memset(&res, 0, sizeof res);
        struct webhook_rec w;
        memset(&w, 0, sizeof w);
        struct qerr_info ei;
        const char *state = "pending";
        bool is_hook = strcmp(d->channel, "webhook") == 0;
        if (is_hook) {
                enum qerr rc = ST(s)->ops->webhook_get(ST(s), 0, d->webhook_id, &w, &ei);
                if (rc == QERR_NOT_FOUND) {
                        state = "cancelled";
                        snprintf(res.error, sizeof res.error, "the webhook was deleted");
                } else if (rc != QERR_OK) {
                        snprintf(res.error, sizeof res.error, "the webhook could not be read: %s",
                                 qerr_code(rc));
                } else {
                        send_webhook(t, d, &w, &res);
                }
        } else {
                struct notify_smtp sm = {.url = cfg->smtp_url,
                                         .from = cfg->smtp_from,
                                         .timeout_ms = cfg->notify_timeout_ms};
                notify_smtp_send(&sm, d->recipients, d->subject, (const char *)d->body, d->id,
                                 &res);
        }
        qtime_t now = qtime_now(), next = now;
        if (res.ok)
                state = "delivered";
        else if (strcmp(state, "cancelled") != 0 && d->attempts >= cfg->notify_max_attempts)
                state = "failed";
        else if (strcmp(state, "cancelled") != 0)
                next = now + notify_backoff(d->attempts, cfg->notify_retry_base_seconds, jitter());
        struct delivery_try tr = {.attempt = d->attempts,
                                  .at = now,
                                  .status = res.status,
                                  .duration_ms = res.duration_ms};
        snprintf(tr.error, sizeof tr.error, "%s", res.ok ? "" : res.error);
        enum qerr rc = ST(s)->ops->begin(ST(s), &ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->delivery_finish(ST(s), d->id, t->owner, &tr, state, next, &ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->commit(ST(s), &ei);
        else
                svc_abort(s, rc);
        const char *result = !strcmp(state, "pending") ? "retry" : state;
        count(d->channel, result, (double)res.duration_ms / 1000.0);
        char err[300];
        qlog_escape(tr.error, err, sizeof err);
        if (rc != QERR_OK)
                qlog_warn("notification attempt not recorded", "delivery=%lld code=%s",
                          (long long)d->id, qerr_code(rc));
        else if (res.ok)
                qlog_info("notification delivered",
                          "delivery=%lld event=%s channel=%s webhook=%lld tenant=%lld attempt=%d "
                          "status=%d ms=%ld",
                          (long long)d->id, d->event, d->channel, (long long)d->webhook_id,
                          (long long)d->tenant_id, d->attempts, res.status, res.duration_ms);
        else
                qlog_warn("notification attempt failed",
                          "delivery=%lld event=%s channel=%s webhook=%lld tenant=%lld attempt=%d "
                          "status=%d state=%s error=%s",
                          (long long)d->id, d->event, d->channel, (long long)d->webhook_id,
                          (long long)d->tenant_id, d->attempts, res.status, state, err);
        webhook_rec_clear(&w);
}

static void gauges(struct service *s)
{
        int64_t pending = 0, sending = 0;
        struct qerr_info ei;
        if (ST(s)->ops->delivery_counts(ST(s), &pending, &sending, &ei) != QERR_OK)
                return;
        const char *help = "Notifications in the outbox, by state (pending: waiting for their "
                           "next attempt; sending: being sent now).";
        metrics_gauge_set("quill_notify_outbox", help, (double)pending, "state", "pending", NULL);
        metrics_gauge_set("quill_notify_outbox", help, (double)sending, "state", "sending", NULL);
}

/* Thread 0's periodic chores. */
static void chores(struct nthread *t, qtime_t *next_release, qtime_t *next_scan,
                   qtime_t *next_gauge)
{
        struct service *s = t->svc;
        qtime_t now = qtime_now();
        struct qerr_info ei;
        if (now >= *next_release) {
                int n = 0;
                if (ST(s)->ops->delivery_release(ST(s), now, NULL, &n, &ei) == QERR_OK && n)
                        qlog_warn("notifications taken back", "count=%d why=\"lease ended\"", n);
                *next_release = now + RELEASE_EVERY;
        }
        if (now >= *next_scan) {
                int sent = 0;
                if (service_expiry_scan(s, now, &sent, &ei) != QERR_OK)
                        qlog_warn("expiry scan failed", "code=%s", qerr_code(ei.code));
                else if (sent)
                        qlog_info("expiry warnings queued", "count=%d", sent);
                *next_scan = now + s->cfg->notify_expiry_scan_seconds;
        }
        if (now >= *next_gauge) {
                gauges(s);
                *next_gauge = now + GAUGE_EVERY;
        }
}

static void *notifier_main(void *arg)
{
        struct nthread *t = arg;
        struct service *s = t->svc;
        qtime_t next_release = 0, next_scan = 0, next_gauge = 0;
        long lease = s->cfg->notify_timeout_ms / 1000 * 2 + 60;
        while (!atomic_load(&t->pool->stop)) {
                if (t->index == 0)
                        chores(t, &next_release, &next_scan, &next_gauge);
                struct delivery_rec d;
                struct qerr_info ei;
                qtime_t now = qtime_now();
                enum qerr rc =
                    ST(s)->ops->delivery_claim(ST(s), t->owner, now, now + lease, &d, &ei);
                if (rc == QERR_NOT_FOUND) {
                        nap(t->pool);
                        continue;
                }
                if (rc != QERR_OK) {
                        qlog_warn("notification claim failed", "thread=%d code=%s", t->index,
                                  qerr_code(rc));
                        nap(t->pool);
                        continue;
                }
                deliver(t, &d);
                delivery_rec_clear(&d);
        }
        return NULL;
}

/* Deliveries held by a process that no longer exists go back to pending. */
static enum qerr take_back_orphans(struct service *s, struct qerr_info *ei)
{
        char **owners = NULL;
        size_t n = 0;
        enum qerr rc = ST(s)->ops->delivery_owners(ST(s), &owners, &n, ei);
        for (size_t i = 0; rc == QERR_OK && i < n; i++) {
                if (svc_owner_alive(owners[i]))
                        continue;
                int k = 0;
                rc = ST(s)->ops->delivery_release(ST(s), 0, owners[i], &k, ei);
                if (rc == QERR_OK && k)
                        qlog_info("notifications resumed", "count=%d why=\"owner stopped\"", k);
        }
        store_free_strings(owners, n);
        return rc;
}

enum qerr service_notifier_start(const char *data_dir, const struct qconfig *cfg, int n,
                                 struct notifier **out, struct qerr_info *ei)
{
        struct notifier *p = calloc(1, sizeof *p);
        if (!p || n < 1 || !(p->t = calloc((size_t)n, sizeof *p->t))) {
                free(p);
                return qerr_set(ei, QERR_NOMEM, NULL);
        }
        atomic_init(&p->stop, false);
        p->n = n;
        p->cfg = cfg;
        char self[128];
        svc_owner_self(self, sizeof self);
        enum qerr rc = QERR_OK;
        for (int i = 0; rc == QERR_OK && i < n; i++) {
                struct nthread *t = &p->t[i];
                t->pool = p;
                t->index = i;
                snprintf(t->owner, sizeof t->owner, "%s/n%d", self, i);
                struct principal who = {
                    .tenant_id = 1, .role = ROLE_ADMIN, .all_tenants = true, .local = true};
                snprintf(who.tenant, sizeof who.tenant, "default");
                snprintf(who.name, sizeof who.name, "notifier:%d", i);
                struct service_opts o = {
                    .data_dir = data_dir, .cfg = cfg, .actor = who.name, .who = &who};
                rc = service_open(&o, &t->svc, ei);
                if (rc == QERR_OK && i == 0)
                        rc = take_back_orphans(t->svc, ei);
                if (rc == QERR_OK)
                        rc = svc_dns_new(cfg, NULL, &t->dns, ei);
                if (rc == QERR_OK && pthread_create(&t->thread, NULL, notifier_main, t) != 0)
                        rc = qerr_set(ei, QERR_INTERNAL, "cannot start notifier thread %d", i);
                t->started = rc == QERR_OK;
        }
        if (rc != QERR_OK) {
                service_notifier_stop(p);
                return rc;
        }
        qlog_info("notifier started", "threads=%d email=%s", n,
                  cfg->smtp_url && cfg->smtp_url[0] ? "on" : "off");
        *out = p;
        return QERR_OK;
}

void service_notifier_stop(struct notifier *p)
{
        if (!p)
                return;
        atomic_store(&p->stop, true);
        for (int i = 0; i < p->n; i++) {
                struct nthread *t = &p->t[i];
                if (t->started)
                        pthread_join(t->thread, NULL);
                dns_resolver_free(t->dns);
                service_close(t->svc);
        }
        free(p->t);
        free(p);
}
