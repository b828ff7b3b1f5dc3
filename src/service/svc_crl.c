/*
 * svc_crl.c - CRLs: partitions, regeneration, jobs (docs/internals/crl.md).
 *
 * Every CA publishes CRLs in partitions. A root has one complete CRL at
 * /crl/<root>.crl (its entries would be issuing CA certificates). An issuing
 * CA has [crl] shards shard CRLs, /crl/<ca>/<shard>.crl, each with a
 * critical issuingDistributionPoint naming exactly that URL, plus one CRL at
 * /crl/<ca>.crl for the certificates issued before sharding (their
 * distribution point), scoped the same way to that URL. A certificate's
 * shard is fixed at issuance (policy_crl_shard) and stored in its row.
 *
 * A revocation never signs: inside its transaction it queues a "crl" job
 * for the certificate's partition (one queued job per partition absorbs many
 * revocations) and remembers the partition in the handle. After the commit,
 * svc_commit() wakes the workers of `quill serve`; a CLI command calls
 * service_crl_flush() before it exits and so returns with the CRL current.
 * Regenerating one partition is one transaction: draw the next CRL number,
 * read the partition's revoked certificates from an index into DER, let the
 * signer check, lint and sign them (signer_sign_crl), verify the signature
 * over the exact bytes, lint the assembled CRL (lint_crl_der: a CRL that
 * fails is never stored or served), store it and close the partition's
 * queued jobs. The write lock is held while signing so CRL numbers reach
 * the signer in increasing order from every process, and a revocation that
 * commits afterwards queues a new job.
 *
 * CRL numbers are one sequence per CA (cas.crl_number) across its
 * partitions. The signer keeps its own high-water mark per CA and refuses a
 * number at or below it (crl_number_not_increasing, with the mark): after a
 * transaction that rolled back once the signer had signed, or with a
 * database older than the key directory, the counter is moved past the mark
 * and the signer asked once more.
 *
 * CRLs belong to CAs, not tenants: CRL jobs have no tenant, and publishing
 * a CRL writes no event (the crls row and the log line record it; a
 * revocation's own events are in its tenant's log).
 *
 * Memory: the entries buffer lives for one CRL; records are freed here.
 * Threads: like service.h (one thread per handle).
 */
#include "service_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "../base/log.h"
#include "../pki/lint.h"
#include "../pki/pki_crl.h"
#include "../pki/pki_pem.h"
#include "../policy/policy.h"

/* How long a relying party's cache may keep a CRL (HTTP max-age) at most:
 * a new revocation is on the CRL within seconds, so caches should ask again
 * soon; ETag makes asking again cheap. */
#define CRL_HTTP_MAX_AGE 300

void svc_crl_url(const struct service *s, int64_t ca_id, int shard, char *out, size_t sz)
{
        const char *base = s->cfg->server_base_url;
        size_t bl = strlen(base);
        while (bl && base[bl - 1] == '/')
                bl--;
        if (shard >= 0)
                snprintf(out, sz, "%.*s/crl/%lld/%d.crl", (int)bl, base, (long long)ca_id, shard);
        else
                snprintf(out, sz, "%.*s/crl/%lld.crl", (int)bl, base, (long long)ca_id);
}

void service_crl_url(const struct service *s, int64_t ca_id, int shard, char *out, size_t sz)
{
        svc_crl_url(s, ca_id, shard, out, sz);
}

/* ---- queueing (inside the caller's transaction) ---- */

/* Remembered for service_crl_flush; entries after crl_dirty_tx belong to
 * the open transaction (svc_abort forgets them). */
static void remember(struct service *s, int64_t ca_id, int shard)
{
        for (size_t i = 0; i < s->ncrl_dirty; i++)
                if (s->crl_dirty[i].ca_id == ca_id && s->crl_dirty[i].shard == shard)
                        return;
        if (s->ncrl_dirty < SVC_MAX_DIRTY_CRLS) {
                s->crl_dirty[s->ncrl_dirty].ca_id = ca_id;
                s->crl_dirty[s->ncrl_dirty++].shard = shard;
        } else {
                s->crl_dirty_all = true; /* flush regenerates everything */
        }
}

enum qerr svc_crl_queue(struct service *s, int64_t ca_id, int shard, struct qerr_info *ei)
{
        enum qerr rc = ST(s)->ops->job_insert_crl(ST(s), ca_id, shard, qtime_now(), ei);
        if (rc == QERR_OK) {
                remember(s, ca_id, shard);
                s->jobs_queued = true;
        }
        return rc;
}

enum qerr svc_crl_note_issued(struct service *s, const struct cert_rec *c, struct qerr_info *ei)
{
        if (!c->ca_id || c->crl_shard < 0)
                return QERR_OK;
        int want = (int)s->cfg->crl_shards;
        if (want <= c->crl_shard)
                want = c->crl_shard + 1;
        int before = 0;
        enum qerr rc = ST(s)->ops->ca_raise_crl_shards(ST(s), c->ca_id, want, &before, ei);
        /* new shards need a CRL before anyone looks for one */
        for (int k = before; rc == QERR_OK && k < want; k++)
                rc = svc_crl_queue(s, c->ca_id, k, ei);
        return rc;
}

enum qerr svc_commit(struct service *s, struct qerr_info *ei)
{
        enum qerr rc = ST(s)->ops->commit(ST(s), ei);
        bool wake = rc == QERR_OK && s->jobs_queued && s->wake;
        s->jobs_queued = false;
        if (rc == QERR_OK)
                s->crl_dirty_tx = s->ncrl_dirty;
        else
                s->ncrl_dirty = s->crl_dirty_tx; /* rolled back: nothing was queued */
        if (wake)
                s->wake(s->wake_arg);
        return rc;
}

void svc_crl_forget_tx(struct service *s)
{
        s->ncrl_dirty = s->crl_dirty_tx;
}

/* Keeps the first n remembered partitions (the others are made). */
static void dirty_keep(struct service *s, size_t n)
{
        s->ncrl_dirty = n;
        if (s->crl_dirty_tx > n)
                s->crl_dirty_tx = n;
}

void service_set_job_wake(struct service *s, void (*fn)(void *), void *arg)
{
        s->wake = fn;
        s->wake_arg = arg;
}

/* ---- making one CRL ---- */

/* The CRL being built: the entries in the middle of one buffer, with room
 * in front for the CertificateList header and the TBSCertList head (the
 * signer answers those; at most 32 KiB) and behind for the tail, algorithm
 * and signature, so the finished CRL is one contiguous byte string that was
 * never copied. */
#define CRL_FRONT (32u * 1024u)
#define CRL_BACK (8u * 1024u)

struct entries {
        uint8_t *p;
        size_t len; /* used bytes, CRL_FRONT included */
        size_t cap, count;
        int8_t hex[256]; /* digit values, -1 elsewhere */
};

static bool reserve(struct entries *e, size_t more)
{
        if (e->cap - e->len >= more)
                return true;
        size_t cap = e->cap ? e->cap : 256 * 1024;
        while (cap - e->len < more)
                cap *= 2;
        uint8_t *np = realloc(e->p, cap);
        if (!np)
                return false;
        e->p = np;
        e->cap = cap;
        return true;
}

static enum qerr add_entry(void *arg, const char *hex, size_t hl, qtime_t revoked_at, int reason,
                           struct qerr_info *ei)
{
        struct entries *e = arg;
        uint8_t serial[21];
        size_t n = 0, sl = (hl + 1) / 2;
        bool ok = hl > 0 && sl <= sizeof serial;
        /* right-aligned: an odd count of digits has an implicit leading 0 */
        memset(serial, 0, sizeof serial);
        for (size_t i = 0, k = hl % 2; ok && i < hl; i++, k++) {
                int v = e->hex[(unsigned char)hex[i]];
                if (!(ok = v >= 0))
                        break;
                serial[k / 2] |= (uint8_t)(k % 2 ? v : v << 4);
        }
        if (!reserve(e, PKI_CRL_ENTRY_MAX + CRL_BACK))
                return qerr_set(ei, QERR_NOMEM, NULL);
        if (ok)
                n = pki_crl_entry_encode(e->p + e->len, serial, sl, revoked_at, reason);
        if (n == 0)
                return qerr_set(ei, QERR_STORE,
                                "the revocation of serial %.*s (at %lld, reason %d) cannot be put "
                                "on a CRL",
                                (int)(hl > 42 ? 42 : hl), hex, (long long)revoked_at, reason);
        e->len += n;
        e->count++;
        return QERR_OK;
}

static bool entries_init(struct entries *e)
{
        memset(e, 0, sizeof *e);
        memset(e->hex, -1, sizeof e->hex);
        for (int i = 0; i < 10; i++)
                e->hex['0' + i] = (int8_t)i;
        for (int i = 0; i < 6; i++)
                e->hex['a' + i] = e->hex['A' + i] = (int8_t)(10 + i);
        if (!reserve(e, CRL_FRONT + CRL_BACK))
                return false;
        e->len = CRL_FRONT;
        return true;
}

/* The issuer certificate as the signer wants it (DER) and as X509. */
static enum qerr issuer_of(const struct ca_rec *ca, X509 **x, struct qbuf *der,
                           struct qerr_info *ei)
{
        enum qerr rc = pki_cert_read(ca->cert_pem, strlen(ca->cert_pem), x, ei);
        if (rc == QERR_OK)
                rc = pki_cert_der(*x, der, ei);
        return rc;
}

/* Advances the CA's CRL counter until it passes `mark` (inside the
 * caller's transaction); *number receives the first number above it. */
static enum qerr skip_crl_numbers(struct service *s, int64_t ca_id, int64_t mark, int64_t *number,
                                  struct qerr_info *ei)
{
        enum qerr rc = QERR_OK;
        for (long i = 0; rc == QERR_OK && *number <= mark; i++) {
                if (i == 1000000)
                        return qerr_set(ei, QERR_CRL_NUMBER_STALE,
                                        "the signer's CRL number for CA %lld (%lld) is far ahead "
                                        "of the database's (%lld): is the database a stale "
                                        "backup? Restore the matching one",
                                        (long long)ca_id, (long long)mark, (long long)*number);
                rc = ST(s)->ops->ca_next_crl_number(ST(s), ca_id, number, ei);
        }
        return rc;
}

/* The signer's session for the entries; a number at or below the signer's
 * mark moves the counter past it and asks once more. */
static enum qerr sign_entries(struct service *s, struct signer *sg, struct signer_req *req,
                              const struct entries *e, struct crl_info *info, struct qbuf *frame,
                              struct signer_resp *resp, struct qerr_info *ei)
{
        const uint8_t *ent = e->p + CRL_FRONT;
        size_t elen = e->len - CRL_FRONT;
        req->crl_number = info->number;
        enum qerr rc = signer_sign_crl(sg, req, ent, elen, e->count, frame, resp, ei);
        if (rc == QERR_CRL_NUMBER_STALE && resp->crl_number >= info->number) {
                /* the signer signed a higher number than we have (a
                 * transaction rolled back after it signed, or the database
                 * is older than the key directory): move past it, once */
                int64_t mark = resp->crl_number;
                qlog_warn("CRL number behind the signer's",
                          "ca=%lld shard=%d number=%lld signer=%lld", (long long)info->ca_id,
                          info->shard, (long long)info->number, (long long)mark);
                rc = skip_crl_numbers(s, info->ca_id, mark, &info->number, ei);
                if (rc == QERR_OK) {
                        req->crl_number = info->number;
                        rc = signer_sign_crl(sg, req, ent, elen, e->count, frame, resp, ei);
                }
        }
        return rc;
}

/* The assembled CRL through the linter before anyone can fetch it (issue
 * 7): the signer linted its header, trailer and every entry before it
 * signed; this reads the very bytes that are stored. */
static enum qerr lint_assembled(struct service *s, const struct ca_rec *ca, int shard,
                                const struct qbuf *issuer_der, const uint8_t *der, size_t len,
                                struct qerr_info *ei)
{
        struct crl_info prev;
        struct qerr_info pe;
        bool have_prev = ST(s)->ops->crl_latest(ST(s), ca->id, shard, NULL, &prev, &pe) == QERR_OK;
        struct lint_crl_opts lo = {
            .prev_number = have_prev ? prev.number : -1,
            .private_ca = strcmp(ca->key_algorithm, "sm2") == 0,
            .issuer_der = issuer_der->data,
            .issuer_len = issuer_der->len,
        };
        struct lint_report r;
        lint_report_init(&r);
        enum qerr rc = lint_crl_der(der, len, &lo, &r, ei);
        if (rc != QERR_OK) /* we made it: a bug, not the user's doing */
                rc = qerr_set(ei, QERR_INTERNAL, "the signed CRL cannot be read back: %s",
                              qerr_message(ei));
        else if (r.errors)
                rc = lint_refusal(&r, "signed CRL (not published)", ei);
        lint_report_free(&r);
        return rc;
}

/* Signs the entries, completes the CRL around them in `e`, lints it and
 * stores it (inside the open transaction). */
static enum qerr sign_and_store(struct service *s, const struct ca_rec *ca, int shard,
                                struct entries *e, struct crl_info *info, struct qerr_info *ei)
{
        X509 *x = NULL;
        struct qbuf der, frame, prefix, suffix;
        qbuf_init(&der, 64 * 1024);
        qbuf_init(&frame, MAX_SIGNER_MSG_BYTES);
        qbuf_init(&prefix, 16);
        qbuf_init(&suffix, 2048);
        char idp[600] = "";
        if (shard >= 0 || !ca->is_root) /* a root's CRL is complete: no scope */
                svc_crl_url(s, ca->id, shard, idp, sizeof idp);
        struct signer *sg;
        struct signer_resp resp;
        struct signer_req req = {.type = SMSG_CRL_BEGIN};
        enum qerr rc = issuer_of(ca, &x, &der, ei);
        if (rc == QERR_OK)
                rc = svc_signer(s, &sg, ei);
        if (rc != QERR_OK)
                goto out;
        req.issuer_der.p = der.data;
        req.issuer_der.len = der.len;
        req.this_update = info->this_update;
        req.next_update = info->next_update;
        if (idp[0])
                req.crl_url = sbytes_str(idp);
        const uint8_t *ent = e->p + CRL_FRONT;
        size_t elen = e->len - CRL_FRONT;
        if ((rc = sign_entries(s, sg, &req, e, info, &frame, &resp, ei)) != QERR_OK)
                goto out;
        /* what the signer signed is what gets stored */
        rc = pki_crl_verify_parts(x, resp.crl_head.p, resp.crl_head.len, ent, elen, resp.crl_tail.p,
                                  resp.crl_tail.len, resp.signature.p, resp.signature.len, ei);
        uint64_t tbs = (uint64_t)resp.crl_head.len + elen + resp.crl_tail.len;
        if (rc == QERR_OK && !pki_crl_wrap(tbs, resp.sig_alg.p, resp.sig_alg.len, resp.signature.p,
                                           resp.signature.len, &prefix, &suffix))
                rc = qerr_set(ei, QERR_INTERNAL, "could not assemble the CRL");
        size_t front = prefix.len + resp.crl_head.len;
        if (rc == QERR_OK && (front > CRL_FRONT || resp.crl_tail.len + suffix.len > CRL_BACK))
                rc = qerr_set(ei, QERR_INTERNAL, "the CRL's header or trailer is too large");
        if (rc != QERR_OK)
                goto out;
        /* prefix, head | entries | tail, suffix: in place around the entries */
        uint8_t *start = e->p + CRL_FRONT - front;
        memcpy(start, prefix.data, prefix.len);
        memcpy(start + prefix.len, resp.crl_head.p, resp.crl_head.len);
        memcpy(e->p + e->len, resp.crl_tail.p, resp.crl_tail.len);
        memcpy(e->p + e->len + resp.crl_tail.len, suffix.data, suffix.len);
        info->der_len = front + elen + resp.crl_tail.len + suffix.len;
        if ((rc = lint_assembled(s, ca, shard, &der, start, info->der_len, ei)) == QERR_OK)
                rc = ST(s)->ops->crl_put(ST(s), info, start, info->der_len, ei);
out:
        X509_free(x);
        qbuf_free(&der);
        qbuf_free(&frame);
        qbuf_free(&prefix);
        qbuf_free(&suffix);
        return rc;
}

enum qerr svc_crl_make(struct service *s, const struct ca_rec *ca, int shard, struct crl_info *out,
                       struct qerr_info *ei)
{
        struct entries e;
        struct crl_info info = {.ca_id = ca->id, .shard = shard};
        if (shard >= 0 && ca->is_root)
                return qerr_set(ei, QERR_NOT_FOUND, "a root CA has one CRL, not shards");
        if (!entries_init(&e))
                return qerr_set(ei, QERR_NOMEM, NULL);
        enum qerr rc = ST(s)->ops->begin(ST(s), ei);
        if (rc != QERR_OK) {
                free(e.p);
                return rc;
        }
        /* thisUpdate once the write lock is ours: every revocation that
         * committed before is at or before it */
        qtime_t now = qtime_now();
        info.this_update = now;
        info.next_update = now + s->cfg->ca_crl_hours * 3600;
        rc = ST(s)->ops->ca_next_crl_number(ST(s), ca->id, &info.number, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->crl_scan(ST(s), ca->id, shard, now, add_entry, &e, ei);
        info.entries = (int64_t)e.count;
        if (rc == QERR_OK)
                rc = sign_and_store(s, ca, shard, &e, &info, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->job_close_crl(ST(s), ca->id, shard, ei);
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
        free(e.p);
        if (rc == QERR_OK) {
                qlog_info("CRL published", "ca=%lld shard=%d number=%lld entries=%zu bytes=%zu",
                          (long long)ca->id, shard, (long long)info.number, e.count, info.der_len);
                if (out)
                        *out = info;
        } else {
                qlog_warn("CRL not published", "ca=%lld shard=%d code=%s", (long long)ca->id, shard,
                          qerr_code(rc));
        }
        return rc;
}

enum qerr svc_crl_job(struct service *s, const struct job_rec *j, struct qerr_info *ei)
{
        struct ca_rec *ca = NULL;
        enum qerr rc = ST(s)->ops->ca_get(ST(s), j->ca_id, &ca, ei);
        if (rc == QERR_OK)
                rc = svc_crl_make(s, ca, j->shard, NULL, ei);
        ca_rec_free(ca);
        return rc;
}

/* ---- every partition ---- */

/* The shard CRLs `ca` publishes: the larger of what it ever used and the
 * configured count (raised in the store, so issuance sees it too). */
static enum qerr shard_count(struct service *s, struct ca_rec *ca, struct qerr_info *ei)
{
        if (ca->is_root || ca->crl_shards >= s->cfg->crl_shards)
                return QERR_OK;
        enum qerr rc = ST(s)->ops->begin(ST(s), ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->ca_raise_crl_shards(ST(s), ca->id, (int)s->cfg->crl_shards, NULL,
                                                     ei);
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
        if (rc == QERR_OK)
                ca->crl_shards = (int)s->cfg->crl_shards;
        return rc;
}

enum qerr service_crl_refresh_all(struct service *s, int64_t ca_id, struct crl_info **out,
                                  size_t *nout, struct qerr_info *ei)
{
        struct ca_rec **cas = NULL;
        size_t n = 0;
        struct crl_info *v = NULL;
        size_t nv = 0;
        enum qerr rc = ST(s)->ops->ca_list(ST(s), &cas, &n, ei);
        bool found = ca_id == 0;
        for (size_t i = 0; rc == QERR_OK && i < n; i++) {
                if (ca_id && cas[i]->id != ca_id)
                        continue;
                found = true;
                if ((rc = shard_count(s, cas[i], ei)) != QERR_OK)
                        break;
                int parts = cas[i]->is_root ? 1 : 1 + cas[i]->crl_shards;
                struct crl_info *nvv = realloc(v, (nv + (size_t)parts) * sizeof *v);
                if (!nvv) {
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                        break;
                }
                v = nvv;
                for (int k = -1; rc == QERR_OK && k < parts - 1; k++)
                        if ((rc = svc_crl_make(s, cas[i], k, &v[nv], ei)) == QERR_OK)
                                nv++;
        }
        if (rc == QERR_OK && !found)
                rc = qerr_set(ei, QERR_NOT_FOUND, "no CA with id %lld; see 'quill ca list'",
                              (long long)ca_id);
        store_free_cas(cas, n);
        if (rc == QERR_OK && !ca_id) {
                /* everything is current: nothing left to flush */
                dirty_keep(s, 0);
                s->crl_dirty_all = false;
        }
        if (rc != QERR_OK || !out) {
                free(v);
                v = NULL;
                nv = 0;
        }
        if (out) {
                *out = v;
                *nout = nv;
        }
        return rc;
}

enum qerr service_crl_flush(struct service *s, struct qerr_info *ei)
{
        if (s->crl_dirty_all)
                return service_crl_refresh_all(s, 0, NULL, NULL, ei);
        enum qerr rc = QERR_OK;
        while (rc == QERR_OK && s->ncrl_dirty) {
                struct ca_rec *ca = NULL;
                size_t last = s->ncrl_dirty - 1;
                rc = ST(s)->ops->ca_get(ST(s), s->crl_dirty[last].ca_id, &ca, ei);
                if (rc == QERR_OK)
                        rc = svc_crl_make(s, ca, s->crl_dirty[last].shard, NULL, ei);
                ca_rec_free(ca);
                if (rc == QERR_OK)
                        dirty_keep(s, last);
        }
        return rc;
}

enum qerr service_crl_schedule_stale(struct service *s, struct qerr_info *ei)
{
        struct ca_rec **cas = NULL;
        struct crl_info *have = NULL;
        size_t n = 0, nh = 0, ndue = 0;
        struct {
                int64_t ca_id;
                int shard;
        } *due = NULL;
        qtime_t now = qtime_now();
        enum qerr rc = ST(s)->ops->ca_list(ST(s), &cas, &n, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->crl_list(ST(s), 0, &have, &nh, ei);
        for (size_t i = 0; rc == QERR_OK && i < n; i++) {
                int parts = cas[i]->is_root ? 1 : 1 + cas[i]->crl_shards;
                for (int k = -1; rc == QERR_OK && k < parts - 1; k++) {
                        const struct crl_info *c = NULL;
                        for (size_t h = 0; h < nh && !c; h++)
                                if (have[h].ca_id == cas[i]->id && have[h].shard == k)
                                        c = &have[h];
                        /* re-signed at half its lifetime: a relying party never
                         * holds one past its nextUpdate */
                        if (c && now < c->this_update + (c->next_update - c->this_update) / 2)
                                continue;
                        void *nd = realloc(due, (ndue + 1) * sizeof *due);
                        if (!nd) {
                                rc = qerr_set(ei, QERR_NOMEM, NULL);
                                break;
                        }
                        due = nd;
                        due[ndue].ca_id = cas[i]->id;
                        due[ndue++].shard = k;
                }
        }
        if (rc == QERR_OK && ndue) {
                size_t keep = s->ncrl_dirty;
                rc = ST(s)->ops->begin(ST(s), ei);
                for (size_t i = 0; rc == QERR_OK && i < ndue; i++)
                        rc = svc_crl_queue(s, due[i].ca_id, due[i].shard, ei);
                if (rc == QERR_OK)
                        rc = svc_commit(s, ei);
                else
                        svc_abort(s, rc);
                if (rc == QERR_OK)
                        qlog_info("CRL jobs queued", "partitions=%zu reason=half_lifetime", ndue);
                /* the workers make these; this handle need not flush them */
                dirty_keep(s, keep);
        }
        store_free_cas(cas, n);
        free(have);
        free(due);
        return rc;
}

/* ---- reading ---- */

enum qerr service_crl_get(struct service *s, int64_t ca_id, int shard, struct qbuf *der,
                          struct crl_info *info, struct qerr_info *ei)
{
        return ST(s)->ops->crl_latest(ST(s), ca_id, shard, der, info, ei);
}

enum qerr service_crl_list(struct service *s, int64_t ca_id, struct crl_info **out, size_t *n,
                           struct qerr_info *ei)
{
        return ST(s)->ops->crl_list(ST(s), ca_id, out, n, ei);
}

void service_crl_http(const struct crl_info *info, qtime_t now, struct crl_http *out)
{
        qtime_t left = info->next_update - now;
        out->max_age = left < 0 ? 0 : left < CRL_HTTP_MAX_AGE ? (long)left : CRL_HTTP_MAX_AGE;
        /* one CRL number sequence per CA, one CA per URL: the number names
         * the content */
        snprintf(out->etag, sizeof out->etag, "\"crl-%lld\"", (long long)info->number);
        out->last_modified = info->this_update;
        out->expires = info->next_update;
}
