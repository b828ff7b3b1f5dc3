/*
 * svc_ocsp.c - the OCSP refresher of `quill serve` (issue 6): keeps a
 * pre-signed answer for every unexpired certificate of every issuing CA in
 * the database and in the in-memory cache the HTTP front answers from.
 *
 * One tick, every POLL_MS when there is nothing to do, at once again when
 * there was:
 *  1. every CA_CHECK_S: the issuing CAs (their CertID hashes go to the
 *     cache) and their responders' rows; a responder in use whose end comes
 *     within a response's validity (plus a margin), or whose key the signer
 *     lost (a new signer process), is replaced (svc_ocsp_responder_ready);
 *  2. changes: certificates named by certificate events since the last
 *     event seen (issued, revoked, reissued, deleted ...) are signed again
 *     at once. This is what makes a new certificate `good` and a revocation
 *     `revoked` within a second: the database is looked at every POLL_MS,
 *     whichever process made the change (CLI, REST API, a worker);
 *  3. due: responses whose refresh time (half their validity) has come, one
 *     batch per tick;
 *  4. the unanswered scan: SCAN_SPAN certificate ids per tick, for any
 *     unexpired certificate without an answer or with an answer of the
 *     wrong status (certificates issued before this feature, or while no
 *     refresher ran); a full round again every SCAN_ROUND_S;
 *  5. load: stored responses with a seq above the last one loaded go into
 *     the cache (so answers signed by another process or node are served
 *     too);
 *  6. every SWEEP_S: answers past their nextUpdate leave the cache (their
 *     certificate expired, so nobody signs them again).
 * Steps 2 and 3 never hold up step 2 of the next tick for long: a batch is
 * at most one signer message (a few hundred signatures).
 *
 * Start (service_ocsp_start, before the listeners open): the CAs, the
 * newest event id, then the stored answers of revoked certificates that
 * still say good are signed again (a revocation made while no refresher
 * ran), and every stored answer is loaded; the responder of every issuing
 * CA is made (its key lives in this signer process only); only then does
 * the thread start, so the first request already finds them and nothing
 * is written behind the first requests but answers.
 *
 * Threads: service_ocsp_start/stop from the main thread; the refresher
 * thread owns its service handle (signing through the daemon's signer) and
 * its engine; the cache is shared (ocsp_cache.h).
 */
#include "svc_ocsp_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/hex.h"
#include "../base/log.h"
#include "../pki/pki_ocsp.h"
#include "../pki/pki_pem.h"

#define POLL_MS 200
#define ERROR_BACKOFF_MS 1000
#define CA_CHECK_S 5
#define SWEEP_S 10
#define SCAN_SPAN 2000
#define SCAN_ROUND_S 3600
#define CHANGES_PER_TICK 512
#define DUE_PER_TICK 512
#define LOAD_CHUNK 2000

/* ---- CAs ---- */

static struct ocsp_ca *known(struct ocsp_engine *e, int64_t id)
{
        for (size_t i = 0; i < e->ncas; i++)
                if (e->cas[i].id == id)
                        return &e->cas[i];
        return NULL;
}

/* The CA's certificate (DER) and CertID hashes into `ca`. */
static enum qerr ca_facts(const struct ca_rec *rec, struct ocsp_ca *ca, struct qerr_info *ei)
{
        X509 *x = NULL;
        struct qbuf der;
        qbuf_init(&der, 64 * 1024);
        enum qerr rc = pki_cert_read(rec->cert_pem, strlen(rec->cert_pem), &x, ei);
        if (rc == QERR_OK)
                rc = pki_cert_der(x, &der, ei);
        X509_free(x);
        if (rc == QERR_OK)
                rc = pki_ocsp_issuer_hashes(der.data, der.len, ca->hashes.name_hash,
                                            ca->hashes.key_hash, ei);
        if (rc == QERR_OK) {
                ca->id = rec->id;
                ca->hashes.ca_id = rec->id;
                ca->der_len = der.len;
                ca->der = qbuf_take(&der, &ca->der_len);
        }
        qbuf_free(&der);
        return rc;
}

/* Re-reads the current responder's row: its end may have been changed
 * (docs/internals/ocsp.md, "rotation"), or it may be gone. */
static void responder_recheck(struct ocsp_engine *e, struct ocsp_ca *ca)
{
        if (!ca->responder_id)
                return;
        struct ocsp_responder_row row;
        struct qerr_info ei;
        enum qerr rc = ST(e->svc)->ops->ocsp_responder_get(ST(e->svc), ca->responder_id, &row, &ei);
        if (rc == QERR_OK)
                ca->responder_not_after = row.not_after;
        else if (rc == QERR_NOT_FOUND)
                ca->responder_broken = true;
        free(row.der);
}

static enum qerr load_cas(struct ocsp_engine *e, struct qerr_info *ei)
{
        struct ca_rec **cas = NULL;
        size_t n = 0;
        enum qerr rc = ST(e->svc)->ops->ca_list(ST(e->svc), &cas, &n, ei);
        if (rc != QERR_OK)
                return rc;
        struct ocsp_ca next[OCSP_MAX_ISSUERS];
        size_t k = 0;
        for (size_t i = 0; rc == QERR_OK && i < n && k < OCSP_MAX_ISSUERS; i++) {
                if (cas[i]->is_root)
                        continue;
                struct ocsp_ca *old = known(e, cas[i]->id);
                if (old) {
                        next[k++] = *old; /* takes its buffers */
                        memset(old, 0, sizeof *old);
                        continue;
                }
                memset(&next[k], 0, sizeof next[k]);
                if ((rc = ca_facts(cas[i], &next[k], ei)) == QERR_OK)
                        k++;
        }
        store_free_cas(cas, n);
        if (rc != QERR_OK) {
                for (size_t i = 0; i < k; i++)
                        svc_ocsp_ca_clear(&next[i]);
                return rc;
        }
        for (size_t i = 0; i < e->ncas; i++)
                svc_ocsp_ca_clear(&e->cas[i]); /* CAs that went away */
        memcpy(e->cas, next, k * sizeof next[0]);
        e->ncas = k;
        struct ocsp_issuer iss[OCSP_MAX_ISSUERS];
        for (size_t i = 0; i < k; i++) {
                iss[i] = e->cas[i].hashes;
                responder_recheck(e, &e->cas[i]);
        }
        ocsp_cache_set_issuers(e->cache, iss, k);
        return QERR_OK;
}

/* ---- loading into the cache ---- */

static bool serial_bytes(const char *hex, uint8_t out[20], size_t *len)
{
        char tmp[42];
        if (strlen(hex) % 2) {
                snprintf(tmp, sizeof tmp, "0%s", hex);
                hex = tmp;
        }
        return hex_decode(hex, out, 20, len) && *len > 0;
}

/* Loads stored responses newer than the last one loaded; *loaded counts. */
static enum qerr load_new(struct ocsp_engine *e, size_t *loaded, struct qerr_info *ei)
{
        *loaded = 0;
        for (;;) {
                struct ocsp_response_row *v = NULL;
                size_t n = 0;
                enum qerr rc = ST(e->svc)->ops->ocsp_responses_since(ST(e->svc), e->load_seq,
                                                                     LOAD_CHUNK, &v, &n, ei);
                if (rc != QERR_OK)
                        return rc;
                for (size_t i = 0; i < n; i++) {
                        uint8_t serial[20];
                        size_t slen;
                        char etag[65];
                        e->load_seq = v[i].seq;
                        if (!serial_bytes(v[i].serial, serial, &slen))
                                continue;
                        pki_ocsp_etag(v[i].der, v[i].der_len, etag);
                        struct ocsp_blob *b =
                            ocsp_blob_new(v[i].ca_id, serial, slen, v[i].revoked, v[i].this_update,
                                          v[i].next_update, etag, v[i].der, v[i].der_len);
                        if (!b || !ocsp_cache_put(e->cache, b)) {
                                store_free_ocsp_responses(v, n);
                                return qerr_set(ei, QERR_NOMEM, "the OCSP cache is out of memory");
                        }
                        (*loaded)++;
                }
                store_free_ocsp_responses(v, n);
                if (n < LOAD_CHUNK)
                        return QERR_OK;
        }
}

/* ---- the steps ---- */

static enum qerr step_changes(struct ocsp_engine *e, qtime_t now, size_t *work,
                              struct qerr_info *ei)
{
        struct ocsp_cert_row *v = NULL;
        size_t n = 0, done = 0;
        int64_t next = e->event_wm;
        enum qerr rc = ST(e->svc)->ops->ocsp_cert_changes(ST(e->svc), e->event_wm, CHANGES_PER_TICK,
                                                          &v, &n, &next, ei);
        if (rc == QERR_OK)
                rc = svc_ocsp_sign_rows(e, v, n, now, &done, ei);
        if (rc == QERR_OK && done == n)
                e->event_wm = next; /* else: again next tick */
        if (n)
                qlog_info("OCSP answers of changed certificates signed", "count=%zu code=%s", n,
                          qerr_code(rc));
        *work += n;
        free(v);
        return rc;
}

static enum qerr step_due(struct ocsp_engine *e, qtime_t now, size_t *work, struct qerr_info *ei)
{
        struct ocsp_cert_row *v = NULL;
        size_t n = 0, done = 0, before = e->signed_total;
        enum qerr rc = ST(e->svc)->ops->ocsp_due(ST(e->svc), now, DUE_PER_TICK, &v, &n, ei);
        if (rc == QERR_OK)
                rc = svc_ocsp_sign_rows(e, v, n, now, &done, ei);
        if (n)
                qlog_debug("OCSP answers refreshed", "count=%zu code=%s", n, qerr_code(rc));
        /* only what was signed: due rows of a CA that waits after a failure
         * stay due, and must not keep the loop from sleeping */
        *work += e->signed_total - before;
        free(v);
        return rc;
}

static enum qerr step_scan(struct ocsp_engine *e, qtime_t now, size_t *work, struct qerr_info *ei)
{
        if (e->scan_done) {
                if (now < e->next_scan_round)
                        return QERR_OK;
                e->scan_done = false;
                e->scan_cursor = 0;
        }
        struct ocsp_cert_row *v = NULL;
        size_t n = 0, done = 0;
        int64_t max_id = 0, upto = e->scan_cursor + SCAN_SPAN;
        enum qerr rc = ST(e->svc)->ops->ocsp_certs_unanswered(ST(e->svc), e->scan_cursor, upto, now,
                                                              &v, &n, &max_id, ei);
        if (rc == QERR_OK)
                rc = svc_ocsp_sign_rows(e, v, n, now, &done, ei);
        if (rc == QERR_OK && done == n) {
                e->scan_cursor = upto;
                if (upto >= max_id) {
                        e->scan_done = true;
                        e->next_scan_round = now + SCAN_ROUND_S;
                }
        }
        if (n)
                qlog_info("OCSP answers of unanswered certificates signed", "count=%zu code=%s", n,
                          qerr_code(rc));
        *work += n + (e->scan_done ? 0 : 1); /* a scan in progress goes on at once */
        free(v);
        return rc;
}

/* One tick; *work counts what it did (0: nothing to do). */
static enum qerr tick(struct ocsp_engine *e, size_t *work, struct qerr_info *ei)
{
        qtime_t now = qtime_now();
        enum qerr rc = QERR_OK;
        *work = 0;
        if (now >= e->next_ca_check) {
                if ((rc = load_cas(e, ei)) != QERR_OK)
                        return rc;
                e->next_ca_check = now + CA_CHECK_S;
                svc_ocsp_rotate_due(e, now);
        }
        if ((rc = step_changes(e, now, work, ei)) != QERR_OK)
                return rc;
        if ((rc = step_due(e, now, work, ei)) != QERR_OK)
                return rc;
        if ((rc = step_scan(e, now, work, ei)) != QERR_OK)
                return rc;
        size_t loaded = 0;
        rc = load_new(e, &loaded, ei);
        e->loaded_total += loaded;
        if (now >= e->next_sweep) {
                ocsp_cache_sweep(e->cache, now);
                e->next_sweep = now + SWEEP_S;
        }
        return rc;
}

/* ---- the engine ---- */

static void engine_init(struct ocsp_engine *e, struct service *s, struct ocsp_cache *cache)
{
        memset(e, 0, sizeof *e);
        e->svc = s;
        e->cache = cache;
        e->validity = (qtime_t)s->cfg->ocsp_response_hours * 3600;
        e->responder_span = (qtime_t)s->cfg->ocsp_responder_days * QTIME_DAY;
}

static void engine_clear(struct ocsp_engine *e)
{
        for (size_t i = 0; i < e->ncas; i++)
                svc_ocsp_ca_clear(&e->cas[i]);
        e->ncas = 0;
}

/* Everything before the first request: see the header comment. */
static enum qerr engine_start(struct ocsp_engine *e, struct qerr_info *ei)
{
        if (e->responder_span < e->validity + 2 * OCSP_RESPONDER_MARGIN)
                return qerr_set(ei, QERR_CONFIG,
                                "[ocsp] responder_days must outlast response_hours by at least "
                                "two hours");
        enum qerr rc = load_cas(e, ei);
        if (rc != QERR_OK)
                return rc;
        e->next_ca_check = qtime_now() + CA_CHECK_S;
        struct ocsp_cert_row *v = NULL;
        size_t n = 0;
        /* limit 0: only the newest event id */
        rc = ST(e->svc)->ops->ocsp_cert_changes(ST(e->svc), 0, 0, &v, &n, &e->event_wm, ei);
        free(v);
        for (int round = 0; rc == QERR_OK && round < 64; round++) {
                size_t done = 0, before = e->signed_total;
                v = NULL;
                rc = ST(e->svc)->ops->ocsp_revoked_stale(ST(e->svc), SIGNER_MAX_OCSP_ENTRIES, &v,
                                                         &n, ei);
                if (rc == QERR_OK && n)
                        rc = svc_ocsp_sign_rows(e, v, n, qtime_now(), &done, ei);
                free(v);
                if (rc == QERR_OK && n)
                        qlog_info("OCSP answers of revoked certificates signed again", "count=%zu",
                                  e->signed_total - before);
                if (n == 0 || e->signed_total == before)
                        break; /* done, or a CA that cannot sign now (the thread retries) */
        }
        if (rc != QERR_OK) {
                /* serve what is stored; the thread keeps trying */
                qlog_error("OCSP answers of revoked certificates could not be signed again",
                           "code=%s", qerr_code(rc));
                qerr_clear(ei);
                rc = QERR_OK;
        }
        size_t loaded = 0;
        rc = load_new(e, &loaded, ei);
        if (rc == QERR_OK)
                qlog_info("OCSP answers loaded", "count=%zu cas=%zu", loaded, e->ncas);
        ocsp_cache_sweep(e->cache, qtime_now());
        e->next_sweep = qtime_now() + SWEEP_S;
        return rc;
}

enum qerr service_ocsp_sync(struct service *s, struct ocsp_cache *cache, struct qerr_info *ei)
{
        struct ocsp_engine *e = calloc(1, sizeof *e);
        if (!e)
                return qerr_set(ei, QERR_NOMEM, NULL);
        engine_init(e, s, cache);
        enum qerr rc = engine_start(e, ei);
        for (int i = 0; rc == QERR_OK && i < 100000; i++) {
                size_t work = 0;
                rc = tick(e, &work, ei);
                if (rc == QERR_OK && work == 0 && e->scan_done)
                        break;
        }
        engine_clear(e);
        free(e);
        return rc;
}

/* ---- the thread ---- */

struct ocsp_refresher {
        pthread_t thread;
        bool started;
        atomic_bool stop;
        struct service *svc;
        struct ocsp_engine engine;
};

static void nap(struct ocsp_refresher *r, long ms)
{
        for (long left = ms; left > 0 && !atomic_load(&r->stop); left -= 50) {
                struct timespec ts = {0, (left < 50 ? left : 50) * 1000000L};
                nanosleep(&ts, NULL);
        }
}

static void *refresher_main(void *arg)
{
        struct ocsp_refresher *r = arg;
        enum qerr last = QERR_OK;
        while (!atomic_load(&r->stop)) {
                size_t work = 0;
                struct qerr_info ei;
                qerr_clear(&ei);
                enum qerr rc = tick(&r->engine, &work, &ei);
                if (rc != QERR_OK) {
                        if (rc != last) {
                                char emsg[QERR_MSG_MAX + 8];
                                qlog_error("OCSP refresh failed", "code=%s detail=%s",
                                           qerr_code(rc),
                                           qlog_escape(qerr_message(&ei), emsg, sizeof emsg));
                        }
                        last = rc;
                        nap(r, ERROR_BACKOFF_MS);
                        continue;
                }
                if (last != QERR_OK)
                        qlog_info("OCSP refresh works again", "after=%s", qerr_code(last));
                last = QERR_OK;
                if (!work)
                        nap(r, POLL_MS);
        }
        return NULL;
}

enum qerr service_ocsp_start(const char *data_dir, const struct qconfig *cfg,
                             struct service *signer_owner, struct ocsp_cache *cache,
                             struct ocsp_refresher **out, struct qerr_info *ei)
{
        struct ocsp_refresher *r = calloc(1, sizeof *r);
        if (!r)
                return qerr_set(ei, QERR_NOMEM, NULL);
        atomic_init(&r->stop, false);
        /* the service's own refresher acts for every tenant */
        struct principal who = {.tenant_id = QUILL_TENANT_SYSTEM,
                                .role = ROLE_ADMIN,
                                .all_tenants = true,
                                .local = true};
        snprintf(who.tenant, sizeof who.tenant, "system");
        snprintf(who.name, sizeof who.name, "ocsp");
        struct service_opts o = {.data_dir = data_dir, .cfg = cfg, .actor = "ocsp", .who = &who};
        enum qerr rc = service_open(&o, &r->svc, ei);
        if (rc == QERR_OK) {
                svc_share_signer(r->svc, signer_owner);
                engine_init(&r->engine, r->svc, cache);
                rc = engine_start(&r->engine, ei);
        }
        if (rc == QERR_OK)
                svc_ocsp_responders_ready(&r->engine, qtime_now());
        if (rc == QERR_OK && pthread_create(&r->thread, NULL, refresher_main, r) != 0)
                rc = qerr_set(ei, QERR_INTERNAL, "cannot start the OCSP refresher thread");
        r->started = rc == QERR_OK;
        if (rc != QERR_OK) {
                service_ocsp_stop(r);
                return rc;
        }
        *out = r;
        return QERR_OK;
}

void service_ocsp_stop(struct ocsp_refresher *r)
{
        if (!r)
                return;
        atomic_store(&r->stop, true);
        if (r->started)
                pthread_join(r->thread, NULL);
        engine_clear(&r->engine);
        service_close(r->svc);
        free(r);
}
