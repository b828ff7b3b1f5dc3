/*
 * svc_workers.c - the worker threads of `quill serve`.
 *
 * Each worker owns a service handle (its own database connection), a DNS
 * resolver, and borrows the signer of the handle that started the pool. It
 * claims the oldest due job (an atomic UPDATE ... RETURNING under the write
 * lock, so two workers - or two quill processes - never run one job twice),
 * runs it, and looks again; with nothing due it waits up to a second, or
 * until service_workers_wake() (called after a commit that queued jobs,
 * e.g. a revocation's CRL job). Jobs are rows, so a restart resumes them:
 * at start, jobs left "running" by a process that no longer exists are
 * queued again.
 *
 * Threads: service_workers_start/stop from the main thread; the workers only
 * touch their own handles, a stop flag read atomically, and the pool's
 * mutex and condition variable (service_workers_wake: any thread).
 */
#include "service_acme.h"
#include "service_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/log.h"
#include "../dns/dns.h"

struct worker {
        struct workers *pool;
        int index;
        pthread_t thread;
        struct service *svc;
        struct dns_resolver *dns;
        char owner[160];
        bool started;
};

struct workers {
        atomic_bool stop;
        int n;
        struct worker *w;
        pthread_mutex_t mu;
        pthread_cond_t cv;  /* signalled by wake and stop */
        unsigned long bell; /* wake count, under mu */
};

void service_workers_wake(void *arg)
{
        struct workers *p = arg;
        pthread_mutex_lock(&p->mu);
        p->bell++;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
}

/* Waits up to a second, or until a wake or a stop since `seen`. */
static void nap(struct workers *p, unsigned long seen)
{
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += 1;
        pthread_mutex_lock(&p->mu);
        while (p->bell == seen && !atomic_load(&p->stop))
                if (pthread_cond_timedwait(&p->cv, &p->mu, &until) != 0)
                        break;
        pthread_mutex_unlock(&p->mu);
}

static unsigned long bell_now(struct workers *p)
{
        pthread_mutex_lock(&p->mu);
        unsigned long b = p->bell;
        pthread_mutex_unlock(&p->mu);
        return b;
}

static void *worker_main(void *arg)
{
        struct worker *w = arg;
        while (!atomic_load(&w->pool->stop)) {
                struct job_rec j;
                struct qerr_info ei;
                /* read the bell first: a wake after this point is not lost */
                unsigned long seen = bell_now(w->pool);
                enum qerr rc =
                    w->svc->st->ops->job_claim(w->svc->st, w->owner, qtime_now(), &j, &ei);
                if (rc == QERR_NOT_FOUND) {
                        /* issue 8: ACME challenges the clients said are ready */
                        enum qerr arc = service_acme_work(w->svc, w->dns, w->owner, &ei);
                        if (arc == QERR_OK)
                                continue;
                        if (arc != QERR_NOT_FOUND)
                                qlog_warn("ACME validation failed", "worker=%d code=%s", w->index,
                                          qerr_code(arc));
                        nap(w->pool, seen);
                        continue;
                }
                if (rc != QERR_OK) {
                        qlog_warn("job claim failed", "worker=%d code=%s", w->index, qerr_code(rc));
                        nap(w->pool, seen);
                        continue;
                }
                if (!strcmp(j.kind, "crl"))
                        qlog_info("job started",
                                  "worker=%d job=%lld kind=crl ca=%lld shard=%d "
                                  "attempt=%d",
                                  w->index, (long long)j.id, (long long)j.ca_id, j.shard,
                                  j.attempts);
                else
                        qlog_info("job started", "worker=%d job=%lld kind=%s order=%lld attempt=%d",
                                  w->index, (long long)j.id, j.kind, (long long)j.order_id,
                                  j.attempts);
                svc_run_job(w->svc, w->dns, &j, &ei);
        }
        return NULL;
}

/* Running jobs whose owner process is gone go back to the queue. */
static enum qerr requeue_orphans(struct service *s, struct qerr_info *ei)
{
        struct job_rec *v = NULL;
        size_t n = 0;
        enum qerr rc = s->st->ops->begin(s->st, ei);
        if (rc != QERR_OK)
                return rc;
        rc = s->st->ops->job_list_running(s->st, &v, &n, ei);
        for (size_t i = 0; rc == QERR_OK && i < n; i++) {
                if (v[i].owner[0] && svc_owner_alive(v[i].owner))
                        continue;
                rc =
                    s->st->ops->job_retry(s->st, v[i].id, qtime_now(), "resumed after restart", ei);
                if (rc == QERR_OK)
                        qlog_info("job resumed", "job=%lld kind=%s", (long long)v[i].id, v[i].kind);
        }
        free(v);
        if (rc == QERR_OK)
                return s->st->ops->commit(s->st, ei);
        return svc_abort(s, rc);
}

enum qerr service_workers_start(const char *data_dir, const struct qconfig *cfg,
                                struct service *signer_owner, int n, struct workers **out,
                                struct qerr_info *ei)
{
        struct workers *p = calloc(1, sizeof *p);
        if (!p || n < 1 || !(p->w = calloc((size_t)n, sizeof *p->w))) {
                free(p);
                return qerr_set(ei, QERR_NOMEM, NULL);
        }
        atomic_init(&p->stop, false);
        p->n = n;
        pthread_mutex_init(&p->mu, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&p->cv, &ca);
        pthread_condattr_destroy(&ca);
        enum qerr rc = requeue_orphans(signer_owner, ei);
        char self[128];
        svc_owner_self(self, sizeof self);
        for (int i = 0; rc == QERR_OK && i < n; i++) {
                struct worker *w = &p->w[i];
                w->pool = p;
                w->index = i;
                snprintf(w->owner, sizeof w->owner, "%s/w%d", self, i);
                char actor[32];
                snprintf(actor, sizeof actor, "worker:%d", i);
                /* the service's own workers act for every tenant */
                struct principal who = {
                    .tenant_id = 1, .role = ROLE_ADMIN, .all_tenants = true, .local = true};
                snprintf(who.tenant, sizeof who.tenant, "default");
                snprintf(who.name, sizeof who.name, "%s", actor);
                struct service_opts o = {
                    .data_dir = data_dir, .cfg = cfg, .actor = actor, .who = &who};
                rc = service_open(&o, &w->svc, ei);
                if (rc == QERR_OK) {
                        svc_share_signer(w->svc, signer_owner);
                        /* a worker's own commits (a DV revocation's proof)
                         * wake the others for the CRL job */
                        service_set_job_wake(w->svc, service_workers_wake, p);
                        rc = svc_dns_new(cfg, NULL, &w->dns, ei);
                }
                if (rc == QERR_OK && pthread_create(&w->thread, NULL, worker_main, w) != 0)
                        rc = qerr_set(ei, QERR_INTERNAL, "cannot start worker thread %d", i);
                w->started = rc == QERR_OK;
        }
        if (rc != QERR_OK) {
                service_workers_stop(p);
                return rc;
        }
        qlog_info("workers started", "count=%d", n);
        *out = p;
        return QERR_OK;
}

void service_workers_stop(struct workers *p)
{
        if (!p)
                return;
        atomic_store(&p->stop, true);
        service_workers_wake(p);
        for (int i = 0; i < p->n; i++) {
                struct worker *w = &p->w[i];
                if (w->started)
                        pthread_join(w->thread, NULL);
                dns_resolver_free(w->dns);
                service_close(w->svc);
        }
        free(p->w);
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        free(p);
}

enum qerr service_stats(struct service *s, struct service_stats *out, struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        return s->st->ops->job_counts(s->st, &out->jobs_queued, &out->jobs_running, ei);
}
