/*
 * svc_certs.c - reading certificates and the life-cycle steps that are not
 * issuance: revoke (RULES.md §5), delete, upload and download (§7).
 */
#include "service_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/fsutil.h"
#include "../base/hex.h"

#include <openssl/evp.h>
#include "../base/log.h"
#include "../notify/notify.h"
#include "../base/testhook.h"
#include "../pki/pki_bundle.h"
#include "../pki/pki_upload.h"
#include "../policy/policy.h"

enum qerr service_cert_list(struct service *s, const struct cert_query *q, struct cert_rec ***out,
                            size_t *n, bool *more, struct qerr_info *ei)
{
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "list certificates", ei);
        if (rc != QERR_OK)
                return rc;
        struct cert_query mine = *q;
        mine.tenant = svc_scope(s);
        if (!mine.now)
                mine.now = qtime_now();
        return ST(s)->ops->cert_page(ST(s), &mine, out, n, more, ei);
}

enum qerr service_cert_get(struct service *s, int64_t id, struct cert_rec **out,
                           struct event_rec **events, size_t *nevents, struct qerr_info *ei)
{
        struct cert_rec *c = NULL;
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "read certificates", ei);
        if (rc == QERR_OK)
                rc = svc_visible(s, "certificate", id, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->cert_get(ST(s), svc_scope(s), id, &c, ei);
        if (rc == QERR_OK && c->status == CERT_DELETED) {
                /* deleted: gone for users; the events stay for auditors */
                rc = qerr_set(ei, QERR_NOT_FOUND, "certificate %lld was deleted", (long long)id);
        }
        if (rc == QERR_OK && events)
                rc = ST(s)->ops->event_list(ST(s), c->tenant_id, "certificate", id, events, nevents,
                                            ei);
        if (rc != QERR_OK) {
                cert_rec_free(c);
                return rc;
        }
        *out = c;
        return QERR_OK;
}

/* A renewal is a reissue of the certificate in progress, or an unfinished
 * order for any of its names. */
static enum qerr renewal_in_progress(struct service *s, const struct cert_rec *c, bool *yes,
                                     char *label, size_t lsz, struct qerr_info *ei)
{
        *yes = false;
        if (c->status == CERT_REISSUING) {
                *yes = true;
                snprintf(label, lsz, "a reissue");
                return QERR_OK;
        }
        int64_t order = 0;
        /* another tenant's pending order never blocks (nor is revealed) */
        enum qerr rc = ST(s)->ops->order_active_for_names(ST(s), c->tenant_id, c->names, c->nnames,
                                                          &order, ei);
        if (rc == QERR_OK && order) {
                *yes = true;
                snprintf(label, lsz, "order %lld", (long long)order);
        }
        return rc;
}

/* Marks one certificate revoked (inside the transaction). `existing` is a
 * pending revocation row to complete (a DV revocation after its proof of
 * control); 0 inserts a new row. `why`: the certificate event's sentence
 * (NULL: the usual one). */
static enum qerr revoke_row(struct service *s, struct cert_rec *c, int reason, int64_t cascade,
                            int64_t existing, const char *why, qtime_t now, int64_t *rid_out,
                            struct qerr_info *ei)
{
        const char *from = cert_status_name(c->status);
        int64_t rid = existing;
        enum qerr rc = existing ? ST(s)->ops->revocation_finish(ST(s), existing, "done", now, ei)
                                : ST(s)->ops->revocation_insert(ST(s), c->tenant_id, c->id, reason,
                                                                cascade, "done", now, &rid, ei);
        if (rc != QERR_OK)
                return rc;
        if (rid_out)
                *rid_out = rid;
        c->status = CERT_REVOKED;
        c->revoked_at = now;
        c->revoke_reason = reason;
        if ((rc = ST(s)->ops->cert_update(ST(s), c, ei)) != QERR_OK)
                return rc;
        /* the CRL is made after the commit, by a job (never in here) */
        if ((rc = svc_crl_queue(s, c->ca_id, c->crl_shard, ei)) != QERR_OK)
                return rc;
        if ((rc = svc_event(s, c->tenant_id, "revocation", rid, existing ? "pending" : NULL, "done",
                            "certificate %lld, reason %s", (long long)c->id,
                            revoke_reason_name(reason))) != QERR_OK)
                return rc;
        if (why)
                return svc_event(s, c->tenant_id, "certificate", c->id, from, "revoked",
                                 "%s; reason %s", why, revoke_reason_name(reason));
        if (cascade)
                rc = svc_event(s, c->tenant_id, "certificate", c->id, from, "revoked",
                               "revoked with the original certificate (revocation %lld); "
                               "reason %s",
                               (long long)cascade, revoke_reason_name(reason));
        else
                rc = svc_event(s, c->tenant_id, "certificate", c->id, from, "revoked", "reason %s",
                               revoke_reason_name(reason));
        if (rc == QERR_OK) {
                char detail[200];
                if (cascade)
                        snprintf(detail, sizeof detail,
                                 "revoked with the certificate it was reissued from "
                                 "(revocation %lld), reason %s",
                                 (long long)cascade, revoke_reason_name(reason));
                else
                        snprintf(detail, sizeof detail, "revocation %lld, reason %s",
                                 (long long)rid, revoke_reason_name(reason));
                struct svc_notice n = {.type = NOTIFY_CERT_REVOKED,
                                       .tenant_id = c->tenant_id,
                                       .cert_id = c->id,
                                       .detail = detail};
                rc = svc_notify(s, &n, ei);
        }
        return rc;
}

void svc_revoke_run_free(struct revoke_run *run)
{
        free(run->v);
        free(run->keys);
        memset(run, 0, sizeof *run);
}

/* Notes one revoked certificate in the run (and its CA, for the CRL). */
static enum qerr run_add(struct revoke_run *run, const struct cert_rec *c, int64_t rev, int reason,
                         struct qerr_info *ei)
{
        if (run->n == run->cap) {
                size_t cap = run->cap ? run->cap * 2 : 8;
                struct revoked_item *v = realloc(run->v, cap * sizeof *v);
                if (!v)
                        return qerr_set(ei, QERR_NOMEM, NULL);
                run->v = v;
                run->cap = cap;
        }
        struct revoked_item *it = &run->v[run->n++];
        memset(it, 0, sizeof *it);
        it->cert_id = c->id;
        it->tenant_id = c->tenant_id;
        it->rev_id = rev;
        it->reason = reason;
        snprintf(it->spki, sizeof it->spki, "%s", c->spki_sha256);
        bool seen = false;
        for (size_t k = 0; k < run->ncas; k++)
                seen = seen || run->cas[k] == c->ca_id;
        if (!seen && c->ca_id && run->ncas < sizeof run->cas / sizeof run->cas[0])
                run->cas[run->ncas++] = c->ca_id;
        return QERR_OK;
}

enum qerr svc_revoke_into(struct service *s, struct cert_rec *c, int reason, int64_t existing,
                          int64_t cascade, const char *why, struct revoke_run *run,
                          struct qerr_info *ei)
{
        int64_t *desc = NULL;
        size_t nd = 0;
        qtime_t now = qtime_now();
        enum qerr rc = ST(s)->ops->cert_descendants(ST(s), c->id, &desc, &nd, ei);
        int64_t first_rev = 0; /* c's revocation: its reissues' cascade points at it */
        if (rc == QERR_OK)
                rc = revoke_row(s, c, reason, cascade, existing, why, now, &first_rev, ei);
        if (rc == QERR_OK)
                rc = run_add(run, c, first_rev, reason, ei);
        for (size_t i = 0; rc == QERR_OK && i < nd; i++) {
                struct cert_rec *d = NULL;
                int64_t rid = 0;
                rc = ST(s)->ops->cert_get(ST(s), c->tenant_id, desc[i], &d, ei);
                if (rc == QERR_OK && d->status != CERT_REVOKED &&
                    d->status != CERT_REVOCATION_PENDING && d->status != CERT_DELETED) {
                        rc = revoke_row(s, d, reason, first_rev, 0, NULL, now, &rid, ei);
                        if (rc == QERR_OK)
                                rc = run_add(run, d, rid, reason, ei);
                }
                cert_rec_free(d);
        }
        free(desc);
        return rc;
}

enum qerr svc_revoke_finish(struct service *s, struct revoke_run *run, struct qerr_info *ei)
{
        /* issue 7: a key reported compromised is blocked, and what else
         * carries it is revoked (same tenant) or its owner told */
        /* each revoke_row queued its CRL partition's job: the CRLs are
         * made after the commit (docs/internals/crl.md) */
        return svc_key_compromise_tx(s, run, ei);
}

enum qerr svc_revoke_tree(struct service *s, struct cert_rec *c, int reason, int64_t existing,
                          int64_t **ids_out, size_t *n_out, struct qerr_info *ei)
{
        struct revoke_run run;
        memset(&run, 0, sizeof run);
        enum qerr rc = svc_revoke_into(s, c, reason, existing, 0, NULL, &run, ei);
        if (rc == QERR_OK)
                rc = svc_revoke_finish(s, &run, ei);
        int64_t *ids = NULL;
        if (rc == QERR_OK && ids_out && !(ids = calloc(run.n + 1, sizeof *ids)))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        if (rc == QERR_OK && ids_out) {
                for (size_t i = 0; i < run.n; i++)
                        ids[i] = run.v[i].cert_id;
                *ids_out = ids;
                *n_out = run.n;
        }
        svc_revoke_run_free(&run);
        return rc;
}

/* RULES.md §5 DV: the requester proves control of every name again within
 * 3 days; until then the revocation is pending (and downloads stop). */
static enum qerr revoke_pending(struct service *s, struct cert_rec *c, const struct revoke_req *r,
                                int64_t *order_id, struct qerr_info *ei)
{
        int64_t rev = 0;
        qtime_t now = qtime_now();
        const char *method = r->method ? r->method : "dns";
        enum qerr rc = ST(s)->ops->revocation_insert(ST(s), c->tenant_id, c->id, r->reason, 0,
                                                     "pending", now, &rev, ei);
        struct order_rec *o = NULL;
        if (rc == QERR_OK)
                rc = svc_proof_order(s, "revoke", c, method, now + 3 * QTIME_DAY, NULL, NULL, NULL,
                                     &o, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->revocation_link_order(ST(s), rev, o->id, ei);
        if (rc == QERR_OK)
                rc = svc_cert_move(s, c, CERT_REVOCATION_PENDING, ei,
                                   "revocation %lld (reason %s) waits for proof of control "
                                   "(order %lld)",
                                   (long long)rev, revoke_reason_name(r->reason), (long long)o->id);
        if (rc == QERR_OK) {
                char detail[240];
                snprintf(detail, sizeof detail,
                         "revocation %lld (reason %s) waits for proof of control of every name "
                         "within 3 days: publish the records of order %lld",
                         (long long)rev, revoke_reason_name(r->reason), (long long)o->id);
                struct svc_notice n = {.type = NOTIFY_CERT_REVOCATION_REQUESTED,
                                       .tenant_id = c->tenant_id,
                                       .cert_id = c->id,
                                       .order_id = o->id,
                                       .detail = detail};
                rc = svc_notify(s, &n, ei);
        }
        if (rc == QERR_OK)
                *order_id = o->id;
        order_rec_free(o);
        return rc;
}

/* RULES.md §5 OV/EV: the signed letter (checked by content) goes to a
 * reviewer; the revocation is pending until the approval. */
static enum qerr revoke_with_letter(struct service *s, struct cert_rec *c,
                                    const struct revoke_req *r, int64_t *review_id,
                                    struct qerr_info *ei)
{
        char type[4];
        enum qerr rc = policy_check_letter(r->letter, r->letter_len, type, ei);
        if (rc != QERR_OK)
                return rc;
        unsigned char md[32];
        unsigned int mdlen = 0;
        char sha[65];
        EVP_Digest(r->letter, r->letter_len, md, &mdlen, EVP_sha256(), NULL);
        hex_encode(md, 32, sha, sizeof sha);
        qtime_t now = qtime_now();
        int64_t rev = 0;
        rc = ST(s)->ops->revocation_insert(ST(s), c->tenant_id, c->id, r->reason, 0, "pending", now,
                                           &rev, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->letter_put(ST(s), rev, type, sha, r->letter, r->letter_len, ei);
        char detail[300];
        snprintf(detail, sizeof detail,
                 "revocation %lld of certificate %lld (%s), reason %s: signed letter %s, %zu "
                 "bytes, sha256 %s",
                 (long long)rev, (long long)c->id, c->nnames ? c->names[0] : "",
                 revoke_reason_name(r->reason), type, r->letter_len, sha);
        struct review_rec rv = {
            .revocation_id = rev, .detail = detail, .created_at = now, .tenant_id = c->tenant_id};
        snprintf(rv.requested_by, sizeof rv.requested_by, "%s", s->who.name);
        snprintf(rv.kind, sizeof rv.kind, "revocation");
        if (rc == QERR_OK)
                rc = ST(s)->ops->review_insert(ST(s), &rv, ei);
        if (rc == QERR_OK)
                rc = svc_cert_move(s, c, CERT_REVOCATION_PENDING, ei,
                                   "revocation %lld (reason %s) waits for review %lld of the "
                                   "signed letter",
                                   (long long)rev, revoke_reason_name(r->reason), (long long)rv.id);
        if (rc == QERR_OK) {
                char why[200];
                snprintf(why, sizeof why,
                         "revocation %lld (reason %s) waits for a reviewer's approval of the "
                         "signed letter (review %lld)",
                         (long long)rev, revoke_reason_name(r->reason), (long long)rv.id);
                struct svc_notice n = {.type = NOTIFY_CERT_REVOCATION_REQUESTED,
                                       .tenant_id = c->tenant_id,
                                       .cert_id = c->id,
                                       .detail = why};
                rc = svc_notify(s, &n, ei);
        }
        if (rc == QERR_OK)
                *review_id = rv.id;
        return rc;
}

enum qerr service_cert_revoke(struct service *s, const struct revoke_req *r, struct revoke_out *out,
                              struct qerr_info *ei)
{
        struct cert_rec *c = NULL;
        memset(out, 0, sizeof *out);
        if (strcmp(revoke_reason_name(r->reason), "unknown") == 0)
                return qerr_set(ei, QERR_REVOKE_REASON, NULL);
        if (r->method && strcmp(r->method, "dns") && strcmp(r->method, "file"))
                return qerr_set(ei, QERR_USAGE, "--method must be dns or file");
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "revoke certificates", ei);
        if (rc == QERR_OK)
                rc = svc_visible(s, "certificate", r->id, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->begin(ST(s), ei);
        if (rc != QERR_OK)
                return rc;
        rc = ST(s)->ops->cert_get(ST(s), svc_scope(s), r->id, &c, ei);
        bool renewing = false;
        char label[64] = "";
        if (rc == QERR_OK)
                rc = renewal_in_progress(s, c, &renewing, label, sizeof label, ei);
        if (rc == QERR_OK) {
                struct revoke_facts f = {.cert = c,
                                         .now = qtime_now(),
                                         .renewal_in_progress = renewing,
                                         .renewal_label = label};
                rc = policy_may_revoke(&f, ei);
        }
        if (rc == QERR_OK && c->profile == PROFILE_DV)
                rc = revoke_pending(s, c, r, &out->proof_order, ei);
        else if (rc == QERR_OK && (c->profile == PROFILE_OV || c->profile == PROFILE_EV))
                rc = revoke_with_letter(s, c, r, &out->review_id, ei);
        else if (rc == QERR_OK)
                rc = svc_revoke_tree(s, c, r->reason, 0, &out->revoked, &out->nrevoked, ei);
        /* The one pause point inside a transaction (it holds the write
         * lock): the kill tests of two-phase issuance stop a revocation here,
         * its rows written and its CRL signed, to kill it before COMMIT. */
        if (rc == QERR_OK)
                QUILL_TEST_PAUSE("revoke_commit");
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
        cert_rec_free(c);
        if (rc != QERR_OK) {
                free(out->revoked);
                memset(out, 0, sizeof *out);
        }
        return rc;
}

enum qerr service_cert_delete(struct service *s, int64_t id, struct qerr_info *ei)
{
        struct cert_rec *c = NULL;
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "delete certificates", ei);
        if (rc == QERR_OK)
                rc = svc_visible(s, "certificate", id, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->begin(ST(s), ei);
        if (rc != QERR_OK)
                return rc;
        rc = ST(s)->ops->cert_get(ST(s), svc_scope(s), id, &c, ei);
        if (rc == QERR_OK)
                rc = policy_may_delete(c, qtime_now(), ei);
        if (rc == QERR_OK) {
                const char *from = cert_status_name(cert_effective_status(c, qtime_now()));
                /* The row stays (revoked serials stay on the CRL until they
                 * expire; events keep their object); the key material goes. */
                c->status = CERT_DELETED;
                free(c->key_blob);
                c->key_blob = NULL;
                c->key_blob_len = 0;
                c->key_protection = KEYPROT_NONE;
                rc = ST(s)->ops->cert_update(ST(s), c, ei);
                if (rc == QERR_OK)
                        rc = svc_event(s, c->tenant_id, "certificate", id, from, "deleted",
                                       "deleted; private key erased");
        }
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
        cert_rec_free(c);
        return rc;
}

enum qerr service_cert_upload(struct service *s, const struct upload_req *r, struct cert_rec **out,
                              struct qerr_info *ei)
{
        struct upload_info u;
        memset(&u, 0, sizeof u);
        struct ca_rec **cas = NULL;
        size_t ncas = 0;
        struct cert_rec *c = NULL;
        char *trusted = NULL;
        size_t tlen = 0;
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "upload certificates", ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->ca_list(ST(s), &cas, &ncas, ei);
        if (rc != QERR_OK)
                return rc;
        /* our own roots count as trust anchors for uploads */
        FILE *mf = open_memstream(&trusted, &tlen);
        for (size_t i = 0; mf && i < ncas; i++)
                if (cas[i]->is_root)
                        fputs(cas[i]->cert_pem, mf);
        if (mf)
                fclose(mf);
        store_free_cas(cas, ncas);
        rc = pki_upload_check(r->cert_pem, r->cert_len, r->key_pem, r->key_len, r->key_password,
                              r->chain_pem, r->chain_len, trusted, &u, ei);
        free(trusted);
        if (rc != QERR_OK)
                return rc;
        /* issue 7: linted, and told, never refused */
        if (r->lint)
                svc_lint_upload(s, r->cert_pem, r->cert_len, u.chain_pem, r->lint);
        c = calloc(1, sizeof *c);
        if (!c) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto out;
        }
        c->names = u.names;
        c->nnames = u.nnames;
        u.names = NULL;
        u.nnames = 0;
        snprintf(c->serial, sizeof c->serial, "%s", u.serial);
        c->not_before = u.not_before;
        c->not_after = u.not_after;
        snprintf(c->key_algorithm, sizeof c->key_algorithm, "%s", u.key_algorithm);
        c->profile = PROFILE_PRIVATE;
        c->origin = ORIGIN_UPLOADED;
        c->tenant_id = s->who.tenant_id;
        snprintf(c->tenant, sizeof c->tenant, "%s", s->who.tenant);
        c->crl_shard = CRL_SHARD_NONE; /* its own CA lists it, not us */
        c->status = CERT_ISSUED;
        c->created_at = qtime_now();
        c->revoke_reason = -1;
        c->issuer = u.issuer;
        u.issuer = NULL;
        c->cert_pem = u.cert_pem;
        u.cert_pem = NULL;
        c->chain_pem = u.chain_pem;
        u.chain_pem = NULL;
        /* issue 7: the key hash (the key matches the certificate) */
        rc = pki_key_id(u.key, c->spki_sha256, ei);
        if (rc == QERR_OK)
                rc = svc_store_key(s, u.key, NULL, c, ei);
        if (rc != QERR_OK)
                goto out;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                goto out;
        /* a key reported compromised is refused here too, checked under the
         * write lock so that no block slips in between */
        rc = svc_key_blocked(s, c->spki_sha256, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->cert_insert(ST(s), c, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, c->tenant_id, "certificate", c->id, NULL, "issued",
                               "uploaded; issuer %s; serial %s; chain ends at a %s anchor",
                               c->issuer, c->serial, u.anchor);
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
out:
        upload_info_clear(&u);
        if (rc != QERR_OK) {
                cert_rec_free(c);
                return rc;
        }
        *out = c;
        return QERR_OK;
}

/* A file-name stem from the first name: "*.example.com" -> "star.example.com". */
static void stem(const struct cert_rec *c, char *out, size_t sz)
{
        const char *n = c->nnames ? c->names[0] : "certificate";
        size_t o = 0;
        if (n[0] == '*' && n[1] == '.') {
                o = (size_t)snprintf(out, sz, "star");
                n++;
        }
        for (; *n && o + 1 < sz; n++)
                out[o++] = (isalnum((unsigned char)*n) || *n == '.' || *n == '-') ? *n : '_';
        out[o] = 0;
}

/* A key stored under the applicant's password with older parameters
 * (fewer PBKDF2 iterations) is encrypted again with today's, now that the
 * right password is at hand. Best effort: a failure leaves the old blob. */
static void upgrade_key(struct service *s, const struct cert_rec *seen, EVP_PKEY *key,
                        const char *password)
{
        struct qbuf pem;
        qbuf_init(&pem, 64 * 1024);
        struct qerr_info ei;
        struct cert_rec *c = NULL;
        enum qerr rc = pki_key_to_pem(key, password, &pem, &ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->begin(ST(s), &ei);
        if (rc != QERR_OK) {
                qbuf_free(&pem);
                return;
        }
        /* read again under the lock: only the blob we opened is replaced */
        rc = ST(s)->ops->cert_get(ST(s), seen->tenant_id, seen->id, &c, &ei);
        if (rc == QERR_OK &&
            (c->key_protection != KEYPROT_PASSWORD || c->key_blob_len != seen->key_blob_len ||
             memcmp(c->key_blob, seen->key_blob, c->key_blob_len) != 0))
                rc = QERR_NOT_FOUND;
        if (rc == QERR_OK) {
                free(c->key_blob);
                c->key_blob = qbuf_take(&pem, &c->key_blob_len);
                rc = ST(s)->ops->cert_update(ST(s), c, &ei);
        }
        if (rc == QERR_OK) {
                const char *st = cert_status_name(c->status);
                rc = svc_event(s, c->tenant_id, "certificate", c->id, st, st,
                               "private key re-encrypted (PBKDF2-HMAC-SHA256, %d iterations)",
                               PKI_PBKDF2_ITER);
        }
        if (rc == QERR_OK)
                rc = svc_commit(s, &ei);
        else
                svc_abort(s, rc);
        cert_rec_free(c);
        qbuf_free(&pem);
}

enum qerr service_cert_download(struct service *s, const struct download_req *r,
                                struct qbuf *written, struct qerr_info *ei)
{
        enum bundle_format f;
        if (!r->format || !bundle_format_from_name(r->format, &f))
                return qerr_set(ei, QERR_FORMAT_INVALID, NULL);
        struct cert_rec *c = NULL;
        EVP_PKEY *key = NULL;
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "download certificates", ei);
        if (rc == QERR_OK)
                rc = svc_visible(s, "certificate", r->id, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->cert_get(ST(s), svc_scope(s), r->id, &c, ei);
        if (rc == QERR_OK)
                rc = policy_may_download(c, qtime_now(), ei);
        if (rc == QERR_OK && bundle_needs_password(f) && (!r->password || strlen(r->password) < 4))
                rc = qerr_set(ei, QERR_PASSWORD_REQUIRED,
                              "the %s format is a PKCS#12 file and needs --password (at least 4 "
                              "characters)",
                              r->format);
        if (rc == QERR_OK && bundle_needs_key(f) && !c->key_blob)
                rc = qerr_set(ei, QERR_KEY_NOT_HELD, NULL);
        /* the private key goes only to the owning tenant's user keys (and
         * the local operator), never to another tenant's admin */
        bool key_allowed =
            rc == QERR_OK &&
            (s->who.local || (s->who.role == ROLE_USER && s->who.tenant_id == c->tenant_id));
        if (rc == QERR_OK && bundle_needs_key(f) && !key_allowed)
                rc = qerr_set(ei, QERR_FORBIDDEN,
                              "the %s format holds the private key, which only a user key of "
                              "the owning tenant may download; use format pem",
                              r->format);
        bool pem_passthrough = key_allowed && f == BUNDLE_PEM &&
                               c->key_protection == KEYPROT_PASSWORD && !r->key_password;
        if (rc == QERR_OK && key_allowed && !pem_passthrough)
                rc = svc_open_key(s, c, r->key_password, &key, ei);
        if (rc == QERR_OK && key && c->key_protection == KEYPROT_PASSWORD &&
            pki_key_pem_needs_upgrade(c->key_blob, c->key_blob_len))
                upgrade_key(s, c, key, r->key_password);
        if (rc == QERR_OK) {
                char base[300];
                stem(c, base, sizeof base);
                struct bundle_input in = {.cert_pem = c->cert_pem,
                                          .chain_pem = c->chain_pem,
                                          .key = key,
                                          .password = r->password,
                                          .basename = base,
                                          .friendly_name = c->nnames ? c->names[0] : base};
                rc = r->bag ? pki_bundle_build(f, &in, r->bag, ei)
                            : pki_bundle_write(f, &in, r->outdir, written, ei);
        }
        if (rc == QERR_OK && pem_passthrough && c->key_blob && r->bag) {
                /* the key stays encrypted under the applicant's password */
                if (!filebag_add(r->bag, "key.pem", c->key_blob, c->key_blob_len, true))
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
        } else if (rc == QERR_OK && pem_passthrough && c->key_blob) {
                char path[4200];
                snprintf(path, sizeof path, "%s/key.pem", r->outdir);
                struct qerr_info we;
                rc = fs_write_file(path, c->key_blob, c->key_blob_len, 0600, true, &we);
                if (rc == QERR_OK)
                        qbuf_printf(written, "%s\n", path);
                else
                        qerr_set(ei, rc, "%s", qerr_message(&we));
        }
        if (rc == QERR_OK)
                qlog_info("certificate downloaded", "cert=%lld format=%s", (long long)r->id,
                          r->format);
        EVP_PKEY_free(key);
        cert_rec_free(c);
        return rc;
}
