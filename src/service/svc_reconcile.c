/*
 * svc_reconcile.c - the second half of two-phase issuance (issue 7): what
 * the signer signed and what the store holds are made to agree again after
 * a process died (kill -9, a crash, a power cut) or failed to store.
 *
 *  1. The reservations still "reserved" are listed; one is abandoned when
 *     its owner process is gone (svc_owner_alive), was handed over (owner
 *     NULL: the signer died with it, or the store write failed), or its
 *     lease of SERIAL_LEASE seconds ran out.
 *  2. The signer hands its journal back (SMSG_JOURNAL_READ, page by page):
 *     every certificate any signer of this key directory signed and that
 *     was not trimmed yet.
 *  3. Every journaled certificate the store lacks, unless a live owner is
 *     still at work on it, is stored, with the event "recovered", where its
 *     reservation says (recover_one below): its tenant, its order (which
 *     becomes issued), its reissue (done), its private order. When what it
 *     belonged to no longer wants it (the order got another certificate or
 *     failed, the reissue failed, the reservation was void, or there is no
 *     reservation at all), it is stored and revoked at once and goes on the
 *     CRL (docs/rules.md, "Recovered certificates").
 *  4. Abandoned reservations with no journal record were never signed:
 *     void, with an event on the serial.
 *  5. Journal files whose records are all in the store are handed back for
 *     deletion (SMSG_JOURNAL_TRIM); the signer keeps those a live signer
 *     still writes.
 *
 * Runs when `quill serve` starts and every minute after, at the start of
 * every command that signs (service_boot_open), before every reissue, and
 * as `quill recover`. Safe to run from several processes at once: every
 * change re-reads its facts under the write lock, and a reservation's
 * unique serial makes a certificate go in once.
 *
 * One thread per service handle; the journal pages are the caller's while
 * it runs.
 */
#include "svc_issue_int.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/hex.h"
#include "../base/log.h"
#include "../pki/pki_pem.h"
#include "../policy/policy.h"

#define SERIAL_LEASE (10 * 60) /* seconds a live owner has to finish an issuance */
#define MAX_JOURNAL_PAGES 100000
#define JOURNAL_FILE_MAX 64 /* a journal file name and its NUL */

struct jentry {
        char file[JOURNAL_FILE_MAX];
        int64_t offset, seq, signed_at;
        char serial[41];
        char key_id[65];
        uint8_t *der;
        size_t der_len;
        bool stored;
};

struct jfile {
        char name[JOURNAL_FILE_MAX];
        int64_t end;
        uint8_t flags;
};

struct journal_view {
        struct jentry *e;
        size_t ne;
        struct jfile *f;
        size_t nf;
};

static void view_free(struct journal_view *v)
{
        for (size_t i = 0; i < v->ne; i++)
                free(v->e[i].der);
        free(v->e);
        free(v->f);
        memset(v, 0, sizeof *v);
}

static bool copy_name(struct sbytes b, char *out, size_t sz)
{
        return sbytes_cstr(b, out, sz) && out[0];
}

/* Takes one answer page into the view. */
static enum qerr take_page(const struct signer_resp *resp, struct journal_view *v,
                           struct qerr_info *ei)
{
        if (resp->njentries) {
                struct jentry *ne = realloc(v->e, (v->ne + resp->njentries) * sizeof *ne);
                if (!ne)
                        return qerr_set(ei, QERR_NOMEM, NULL);
                v->e = ne;
        }
        for (size_t i = 0; i < resp->njentries; i++) {
                const struct journal_wire *w = &resp->jentries[i];
                struct jentry *e = &v->e[v->ne];
                memset(e, 0, sizeof *e);
                if (!copy_name(w->file, e->file, sizeof e->file) ||
                    !sbytes_cstr(w->key_id, e->key_id, sizeof e->key_id))
                        return qerr_set(ei, QERR_PROTO, "bad journal entry from the signer");
                hex_encode(w->serial.p, w->serial.len, e->serial, sizeof e->serial);
                e->offset = w->offset;
                e->seq = w->seq;
                e->signed_at = w->signed_at;
                if (!(e->der = malloc(w->der.len)))
                        return qerr_set(ei, QERR_NOMEM, NULL);
                memcpy(e->der, w->der.p, w->der.len);
                e->der_len = w->der.len;
                v->ne++;
        }
        if (resp->njfiles) {
                struct jfile *nf = realloc(v->f, (v->nf + resp->njfiles) * sizeof *nf);
                if (!nf)
                        return qerr_set(ei, QERR_NOMEM, NULL);
                v->f = nf;
        }
        for (size_t i = 0; i < resp->njfiles; i++) {
                struct jfile *f = &v->f[v->nf];
                if (!copy_name(resp->jfiles[i].name, f->name, sizeof f->name))
                        return qerr_set(ei, QERR_PROTO, "bad journal file from the signer");
                f->end = resp->jfiles[i].end;
                f->flags = resp->jfiles[i].flags;
                v->nf++;
        }
        return QERR_OK;
}

/* Every record of the signer's journal, through the signer. */
static enum qerr read_journal(struct service *s, struct journal_view *v, struct qerr_info *ei)
{
        struct signer *sg;
        enum qerr rc = svc_signer(s, &sg, ei);
        if (rc != QERR_OK)
                return rc;
        struct qbuf frame;
        qbuf_init(&frame, MAX_SIGNER_MSG_BYTES);
        char cur_name[JOURNAL_FILE_MAX] = "";
        int64_t cur_off = 0;
        for (int page = 0; rc == QERR_OK; page++) {
                if (page == MAX_JOURNAL_PAGES) {
                        rc = qerr_set(ei, QERR_INTERNAL, "the signer's journal does not end");
                        break;
                }
                struct signer_req req = {.type = SMSG_JOURNAL_READ};
                if (cur_name[0]) {
                        req.has_cursor = true;
                        req.cursor.name = sbytes_str(cur_name);
                        req.cursor.end = cur_off;
                }
                struct signer_resp resp;
                rc = signer_call(sg, &req, &frame, &resp, ei);
                if (rc == QERR_OK)
                        rc = take_page(&resp, v, ei);
                bool more = rc == QERR_OK && resp.has_cursor;
                char next_name[JOURNAL_FILE_MAX] = "";
                if (more && !copy_name(resp.cursor.name, next_name, sizeof next_name))
                        rc = qerr_set(ei, QERR_PROTO, "bad journal cursor from the signer");
                /* the cursor must move forward, or the journal never ends */
                if (rc == QERR_OK && more) {
                        int c = strcmp(next_name, cur_name);
                        if (c < 0 || (c == 0 && resp.cursor.end <= cur_off))
                                rc = qerr_set(ei, QERR_PROTO, "the journal cursor went back");
                        snprintf(cur_name, sizeof cur_name, "%s", next_name);
                        cur_off = resp.cursor.end;
                }
                signer_resp_clear(&resp);
                if (!more)
                        break;
        }
        qbuf_free(&frame);
        return rc;
}

static bool abandoned(const struct serial_rec *r, qtime_t now)
{
        return !r->owner[0] || !svc_owner_alive(r->owner) || now - r->reserved_at > SERIAL_LEASE;
}

/* ---- storing one recovered certificate (inside a transaction) ---- */

/* The issuing CA whose key signed it: the reservation's, checked against
 * the journal's key id; without a reservation, found by the key id. */
static enum qerr ca_of(struct service *s, const struct serial_rec *r, const char *key_id,
                       struct ca_rec **out, struct qerr_info *ei)
{
        char want[96];
        snprintf(want, sizeof want, "ca/%s.key", key_id);
        if (r) {
                enum qerr rc = ST(s)->ops->ca_get(ST(s), r->ca_id, out, ei);
                if (rc != QERR_OK || strcmp((*out)->key_file, want) == 0)
                        return rc;
                qlog_error("journal and reservation name different CAs", "serial=%s ca=%lld",
                           r->serial, (long long)r->ca_id);
                ca_rec_free(*out);
                *out = NULL;
        }
        struct ca_rec **cas = NULL;
        size_t n = 0;
        enum qerr rc = ST(s)->ops->ca_list(ST(s), &cas, &n, ei);
        for (size_t i = 0; rc == QERR_OK && i < n && !*out; i++)
                if (!cas[i]->is_root && strcmp(cas[i]->key_file, want) == 0) {
                        *out = cas[i];
                        cas[i] = NULL;
                }
        store_free_cas(cas, n);
        if (rc == QERR_OK && !*out)
                rc = qerr_set(ei, QERR_CA_MISSING,
                              "no issuing CA of this database has the key %.16s... that signed a "
                              "journaled certificate",
                              key_id);
        return rc;
}

/* The CRL partition a certificate names in its CRL distribution point: the
 * shard whose URL it is, or CRL_SHARD_NONE (the CA's unsharded CRL, or no
 * URL of ours). */
static int shard_of(struct service *s, const struct ca_rec *ca, X509 *x)
{
        int shard = CRL_SHARD_NONE;
        CRL_DIST_POINTS *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
        const char *uri = NULL;
        for (int i = 0; dps && !uri && i < sk_DIST_POINT_num(dps); i++) {
                DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
                if (!dp->distpoint || dp->distpoint->type != 0)
                        continue;
                GENERAL_NAMES *g = dp->distpoint->name.fullname;
                for (int k = 0; !uri && k < sk_GENERAL_NAME_num(g); k++) {
                        GENERAL_NAME *n = sk_GENERAL_NAME_value(g, k);
                        if (n->type == GEN_URI)
                                uri = (const char *)ASN1_STRING_get0_data(
                                    n->d.uniformResourceIdentifier);
                }
        }
        char want[600];
        for (int k = 0; uri && k < ca->crl_shards && shard == CRL_SHARD_NONE; k++) {
                svc_crl_url(s, ca->id, k, want, sizeof want);
                if (!strcmp(want, uri))
                        shard = k;
        }
        CRL_DIST_POINTS_free(dps);
        return shard;
}

/* Stores a recovered certificate (inside the caller's transaction) with
 * what every stored certificate gets: its CRL partition noted, and a
 * revocation at once when its key was blocked meanwhile (*blocked). */
static enum qerr insert_recovered(struct service *s, struct cert_rec *c, bool *blocked,
                                  struct qerr_info *ei)
{
        enum qerr rc = ST(s)->ops->cert_insert(ST(s), c, ei);
        if (rc == QERR_OK)
                rc = svc_crl_note_issued(s, c, ei);
        if (rc == QERR_OK)
                rc = svc_key_recheck_tx(s, c, blocked, ei);
        return rc;
}

/* The certificate record of a journaled certificate. */
static enum qerr cert_of(struct service *s, const struct jentry *e, const struct serial_rec *r,
                         X509 *x, struct cert_rec **out, struct qerr_info *ei)
{
        struct ca_rec *ca = NULL;
        struct cert_rec *c = calloc(1, sizeof *c);
        if (!c)
                return qerr_set(ei, QERR_NOMEM, NULL);
        struct qbuf pem;
        qbuf_init(&pem, 64 * 1024);
        enum qerr rc = ca_of(s, r, e->key_id, &ca, ei);
        if (rc == QERR_OK)
                rc = pki_cert_pem(x, &pem, ei);
        if (rc == QERR_OK && r && r->nnames) {
                if (!(c->names = calloc(r->nnames, sizeof *c->names)))
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                for (size_t i = 0; rc == QERR_OK && i < r->nnames; i++)
                        if ((c->names[c->nnames] = strdup(r->names[i])) != NULL)
                                c->nnames++;
                        else
                                rc = qerr_set(ei, QERR_NOMEM, NULL);
        } else if (rc == QERR_OK) {
                rc = pki_cert_names(x, &c->names, &c->nnames, ei);
        }
        if (rc != QERR_OK)
                goto out;
        c->ca_id = ca->id;
        c->crl_shard = shard_of(s, ca, x);
        rc = pki_key_id(X509_get0_pubkey(x), c->spki_sha256, ei);
        if (rc != QERR_OK)
                goto out;
        c->tenant_id = r ? r->tenant_id : QUILL_TENANT_SYSTEM;
        c->parent_id = r ? r->parent_id : 0;
        snprintf(c->serial, sizeof c->serial, "%s", e->serial);
        c->not_before = (qtime_t)pki_time_to_unix(X509_get0_notBefore(x));
        c->not_after = (qtime_t)pki_time_to_unix(X509_get0_notAfter(x));
        if (r) {
                snprintf(c->key_algorithm, sizeof c->key_algorithm, "%s", r->key_algorithm);
                c->profile = r->profile;
                c->free_cert = r->free_cert;
        } else {
                rc = pki_key_describe(X509_get0_pubkey(x), c->key_algorithm, ei);
                struct lint_req lr = {.data = e->der, .len = e->der_len, .guess_profile = true};
                struct lint_report rep;
                lint_report_init(&rep);
                if (rc == QERR_OK &&
                    service_lint_cert(s->cfg, &lr, &rep, &c->profile, NULL) != QERR_OK)
                        c->profile = PROFILE_PRIVATE;
                lint_report_free(&rep);
        }
        c->origin = ORIGIN_ISSUED;
        c->status = CERT_ISSUED;
        c->created_at = e->signed_at > 0 ? e->signed_at : qtime_now();
        c->revoke_reason = -1;
        c->issuer = pki_name_oneline(X509_get_issuer_name(x));
        c->cert_pem = strdup(qbuf_str(&pem));
        if (r && r->csr_pem)
                c->csr_pem = strdup(r->csr_pem);
        if (r && r->key_blob && (c->key_blob = malloc(r->key_blob_len)) != NULL) {
                /* sealed for this certificate before it was signed */
                memcpy(c->key_blob, r->key_blob, r->key_blob_len);
                c->key_blob_len = r->key_blob_len;
                c->key_protection = r->key_protection;
        }
        if (rc == QERR_OK)
                rc = svc_chain_of(s, ca, &c->chain_pem, ei);
        if (rc == QERR_OK && (!c->issuer || !c->cert_pem || (r && r->csr_pem && !c->csr_pem) ||
                              (r && r->key_blob && !c->key_blob)))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
out:
        qbuf_free(&pem);
        ca_rec_free(ca);
        if (rc != QERR_OK) {
                cert_rec_free(c);
                return rc;
        }
        *out = c;
        return QERR_OK;
}

/* The in_progress reissue with id `rid`, if it still is. */
static bool reissue_active(struct service *s, int64_t rid, struct qerr_info *ei, enum qerr *rc)
{
        struct reissue_rec *act = NULL;
        size_t n = 0;
        bool active = false;
        *rc = ST(s)->ops->reissue_active(ST(s), &act, &n, ei);
        for (size_t i = 0; *rc == QERR_OK && i < n; i++)
                active = active || act[i].id == rid;
        store_free_reissues(act, n);
        return active;
}

/* Where a recovered certificate of an order goes. *revoked_with: the
 * reason when it is stored revoked (-1: not). */
static enum qerr attach_order(struct service *s, struct cert_rec *c, const struct serial_rec *r,
                              const char *why, int *revoked_with, struct qerr_info *ei)
{
        struct order_rec *o = NULL;
        enum qerr rc = ST(s)->ops->order_get(ST(s), 0, r->order_id, &o, ei);
        if (rc != QERR_OK)
                return rc;
        if (o->status != ORDER_ISSUING || o->certificate_id) {
                *revoked_with = o->certificate_id ? REASON_SUPERSEDED : REASON_CESSATION;
                char why2[600];
                snprintf(why2, sizeof why2, "%s; order %lld is %s%s", why, (long long)o->id,
                         order_status_name(o->status),
                         o->certificate_id ? " with another certificate" : "");
                rc = svc_store_revoked(s, c, *revoked_with, "recovered", why2, ei);
                order_rec_free(o);
                return rc;
        }
        if (!strcmp(o->purpose, "reissue")) {
                struct reissue_rec *act = NULL;
                size_t n = 0;
                int64_t rid = 0;
                rc = ST(s)->ops->reissue_active(ST(s), &act, &n, ei);
                for (size_t i = 0; rc == QERR_OK && i < n; i++)
                        if (act[i].certificate_id == o->subject_id)
                                rid = act[i].id;
                store_free_reissues(act, n);
                if (rc == QERR_OK && !rid)
                        rc = qerr_set(ei, QERR_ORDER_STATE,
                                      "certificate %lld has no reissue in progress any more",
                                      (long long)o->subject_id);
                if (rc == QERR_OK)
                        rc = svc_reissue_complete_rid(s, o->subject_id, rid, c, "recovered", NULL,
                                                      ei);
        } else {
                bool blocked = false;
                rc = insert_recovered(s, c, &blocked, ei);
                if (rc == QERR_OK)
                        rc = svc_event(s, c->tenant_id, "certificate", c->id, NULL, "recovered",
                                       "%s; issued for order %lld; serial %s; profile %s", why,
                                       (long long)o->id, c->serial, cert_profile_name(c->profile));
                if (rc == QERR_OK && blocked)
                        *revoked_with = REASON_KEY_COMPROMISE;
        }
        if (rc == QERR_OK) {
                o->certificate_id = c->id;
                free(o->key_blob); /* the key now belongs to the certificate */
                o->key_blob = NULL;
                o->key_blob_len = 0;
                o->key_protection = KEYPROT_NONE;
                rc = svc_order_finish(s, o, ORDER_ISSUED, QERR_OK,
                                      "certificate issued (recovered from the signer's journal)",
                                      ei);
        }
        order_rec_free(o);
        return rc;
}

/* A journaled certificate without a reservation (a database restored from
 * a backup older than the key directory): its serial is recorded now, as
 * every stored certificate's is (the store refuses one without). */
static enum qerr reserve_now(struct service *s, const struct cert_rec *c, struct qerr_info *ei)
{
        struct serial_rec r;
        memset(&r, 0, sizeof r);
        snprintf(r.serial, sizeof r.serial, "%s", c->serial);
        r.ca_id = c->ca_id;
        r.tenant_id = c->tenant_id;
        snprintf(r.purpose, sizeof r.purpose, "certificate");
        r.profile = c->profile;
        snprintf(r.key_algorithm, sizeof r.key_algorithm, "%s", c->key_algorithm);
        r.names = c->names;
        r.nnames = c->nnames;
        r.reserved_at = qtime_now();
        return ST(s)->ops->serial_reserve(ST(s), &r, ei); /* owner NULL: nobody's */
}

/* Stores journal record `e` (the store lacks it) where it belongs, in one
 * transaction. */
static enum qerr recover_one(struct service *s, struct jentry *e, struct reconcile_stats *st,
                             struct qerr_info *ei)
{
        X509 *x = NULL;
        struct cert_rec *c = NULL;
        struct serial_rec r;
        memset(&r, 0, sizeof r);
        bool have_r = false;
        int revoked_with = -1;
        enum qerr rc = pki_cert_read(e->der, e->der_len, &x, ei);
        if (rc != QERR_OK)
                return rc;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                goto out;
        bool stored = false;
        rc = ST(s)->ops->cert_serial_exists(ST(s), e->serial, &stored, ei);
        if (rc == QERR_OK && stored) {
                e->stored = true; /* another process got here first */
                svc_abort(s, QERR_OK);
                goto out;
        }
        if (rc == QERR_OK) {
                rc = ST(s)->ops->serial_get(ST(s), e->serial, &r, ei);
                have_r = rc == QERR_OK;
                if (rc == QERR_NOT_FOUND)
                        rc = QERR_OK;
        }
        if (rc == QERR_OK && have_r && !strcmp(r.state, "reserved") &&
            !abandoned(&r, qtime_now())) {
                svc_abort(s, QERR_OK); /* its owner came back to it */
                st->pending++;
                goto out;
        }
        if (rc == QERR_OK)
                rc = cert_of(s, e, have_r ? &r : NULL, x, &c, ei);
        char why[300];
        snprintf(why, sizeof why, "recovered from the signer's journal (%s, record %lld)", e->file,
                 (long long)e->seq);
        if (rc != QERR_OK) {
                /* nothing */
        } else if (!have_r || !strcmp(r.state, "void")) {
                if (!have_r)
                        rc = reserve_now(s, c, ei);
                revoked_with = REASON_CESSATION;
                char why2[400];
                snprintf(why2, sizeof why2, "%s; %s", why,
                         have_r ? "its reservation had been made void"
                                : "no reservation (is the database older than the journal?)");
                if (rc == QERR_OK)
                        rc = svc_store_revoked(s, c, revoked_with, "recovered", why2, ei);
        } else if (!strcmp(r.purpose, "order")) {
                rc = attach_order(s, c, &r, why, &revoked_with, ei);
        } else if (!strcmp(r.purpose, "reissue")) {
                enum qerr arc = QERR_OK;
                if (reissue_active(s, r.reissue_id, ei, &arc)) {
                        rc = svc_reissue_complete_rid(s, r.parent_id, r.reissue_id, c, "recovered",
                                                      NULL, ei);
                } else if ((rc = arc) == QERR_OK) {
                        revoked_with = REASON_CESSATION;
                        char why2[400];
                        snprintf(why2, sizeof why2, "%s; reissue %lld had ended without it", why,
                                 (long long)r.reissue_id);
                        rc = svc_store_revoked(s, c, revoked_with, "recovered", why2, ei);
                }
        } else {
                bool blocked = false;
                rc = insert_recovered(s, c, &blocked, ei);
                if (rc == QERR_OK)
                        rc = svc_event(s, c->tenant_id, "certificate", c->id, NULL, "recovered",
                                       "%s; serial %s; profile %s", why, c->serial,
                                       cert_profile_name(c->profile));
                if (rc == QERR_OK && blocked)
                        revoked_with = REASON_KEY_COMPROMISE;
                if (rc == QERR_OK && !strcmp(r.purpose, "private_order"))
                        rc = svc_private_order(s, c, NULL, ei);
        }
        if (rc == QERR_OK && have_r)
                rc = svc_event(s, c->tenant_id, "serial", r.id, r.state, "issued",
                               "%s: certificate %lld", why, (long long)c->id);
        if (rc != QERR_OK) {
                svc_abort(s, rc);
                goto out;
        }
        if ((rc = svc_commit(s, ei)) != QERR_OK)
                goto out;
        e->stored = true;
        st->recovered++;
        if (revoked_with >= 0 || c->status == CERT_REVOKED)
                st->revoked++;
        qlog_warn("certificate recovered from the signer's journal",
                  "serial=%s cert=%lld tenant=%lld purpose=%s status=%s", e->serial,
                  (long long)c->id, (long long)c->tenant_id, have_r ? r.purpose : "none",
                  cert_status_name(c->status));
out:
        serial_rec_clear(&r);
        cert_rec_free(c);
        X509_free(x);
        return rc;
}

/* An abandoned reservation the journal does not hold: never signed. */
static enum qerr void_one(struct service *s, const struct serial_rec *r, struct qerr_info *ei)
{
        enum qerr rc = ST(s)->ops->begin(ST(s), ei);
        if (rc != QERR_OK)
                return rc;
        struct serial_rec fresh;
        rc = ST(s)->ops->serial_get(ST(s), r->serial, &fresh, ei);
        bool still = rc == QERR_OK && !strcmp(fresh.state, "reserved") &&
                     !strcmp(fresh.owner, r->owner) && abandoned(&fresh, qtime_now());
        if (rc == QERR_OK && still)
                rc = ST(s)->ops->serial_void(ST(s), r->id, qtime_now(), ei);
        char what[64];
        if (r->order_id || r->reissue_id)
                snprintf(what, sizeof what, "%s %lld", r->purpose,
                         (long long)(r->order_id ? r->order_id : r->reissue_id));
        else
                snprintf(what, sizeof what, "%s", r->purpose);
        if (rc == QERR_OK && still)
                rc = svc_event(s, r->tenant_id, "serial", r->id, "reserved", "void",
                               "serial %s (%s) was never signed: no journal record, and %s",
                               r->serial, what,
                               !r->owner[0]                 ? "the signer died with it"
                               : !svc_owner_alive(r->owner) ? "the process that reserved it is gone"
                                                            : "its lease ran out");
        serial_rec_clear(&fresh);
        if (rc != QERR_OK || !still) {
                svc_abort(s, rc);
                return rc;
        }
        return svc_commit(s, ei);
}

static int cmp_serial(const void *a, const void *b)
{
        return strcmp(a, b);
}

/* Asks the signer to delete the journal files whose records are all
 * stored now. */
static enum qerr trim(struct service *s, const struct journal_view *v, struct reconcile_stats *st,
                      struct qerr_info *ei)
{
        struct jfile_wire *w = calloc(v->nf ? v->nf : 1, sizeof *w);
        if (!w)
                return qerr_set(ei, QERR_NOMEM, NULL);
        size_t n = 0;
        for (size_t i = 0; i < v->nf; i++) {
                const struct jfile *f = &v->f[i];
                bool all = !(f->flags & JFILE_BAD_HEADER);
                for (size_t k = 0; all && k < v->ne; k++)
                        if (!strcmp(v->e[k].file, f->name) && !v->e[k].stored)
                                all = false;
                if (!all || n == SIGNER_MAX_JFILES)
                        continue;
                w[n].name = sbytes_str(f->name);
                w[n].end = f->end;
                n++;
        }
        enum qerr rc = QERR_OK;
        if (n) {
                struct signer *sg;
                struct qbuf frame;
                qbuf_init(&frame, MAX_SIGNER_MSG_BYTES);
                struct signer_req req = {.type = SMSG_JOURNAL_TRIM, .jfiles = w, .njfiles = n};
                struct signer_resp resp;
                rc = svc_signer(s, &sg, ei);
                if (rc == QERR_OK)
                        rc = signer_call(sg, &req, &frame, &resp, ei);
                req.jfiles = NULL;
                qbuf_free(&frame);
                if (rc == QERR_OK)
                        st->trimmed += n;
        }
        free(w);
        return rc;
}

enum qerr service_reconcile(struct service *s, struct reconcile_stats *out, struct qerr_info *ei)
{
        struct reconcile_stats st;
        memset(&st, 0, sizeof st);
        if (!s->signer) {
                if (out)
                        *out = st;
                return QERR_OK; /* a command that never signs has no journal to read */
        }
        struct serial_rec *res = NULL;
        size_t nres = 0;
        struct journal_view v;
        memset(&v, 0, sizeof v);
        char(*journaled)[41] = NULL;
        /* reservations first, the journal second: a reservation found
         * abandoned here had its signer die before the journal is read */
        enum qerr rc = ST(s)->ops->serial_list_reserved(ST(s), &res, &nres, ei);
        if (rc == QERR_OK)
                rc = read_journal(s, &v, ei);
        st.journaled = v.ne;
        if (rc == QERR_OK && !(journaled = calloc(v.ne ? v.ne : 1, sizeof *journaled)))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        for (size_t i = 0; rc == QERR_OK && i < v.ne; i++) {
                struct jentry *e = &v.e[i];
                memcpy(journaled[i], e->serial, sizeof journaled[i]);
                bool stored = false;
                rc = ST(s)->ops->cert_serial_exists(ST(s), e->serial, &stored, ei);
                e->stored = stored;
                if (rc != QERR_OK || stored)
                        continue;
                struct qerr_info one;
                enum qerr r1 = recover_one(s, e, &st, &one);
                if (r1 == QERR_BUSY || r1 == QERR_DISK_FULL || r1 == QERR_SIGNER_UNAVAILABLE) {
                        rc = qerr_set(ei, r1, "%s", qerr_message(&one));
                } else if (r1 != QERR_OK) {
                        /* one record that cannot be stored (no CA for its key)
                         * must not stop the others; it stays in the journal */
                        char esc[600];
                        qlog_error("journaled certificate not recovered",
                                   "serial=%s file=%s code=%s why=%s", e->serial, e->file,
                                   qerr_code(r1), qlog_escape(qerr_message(&one), esc, sizeof esc));
                }
        }
        if (rc == QERR_OK && v.ne)
                qsort(journaled, v.ne, sizeof *journaled, cmp_serial);
        qtime_t now = qtime_now();
        for (size_t i = 0; rc == QERR_OK && i < nres; i++) {
                if (v.ne && bsearch(res[i].serial, journaled, v.ne, sizeof *journaled, cmp_serial))
                        continue; /* signed: stored above, or its owner is at it */
                if (!abandoned(&res[i], now)) {
                        st.pending++;
                        continue;
                }
                rc = void_one(s, &res[i], ei);
                if (rc == QERR_OK)
                        st.voided++;
        }
        if (rc == QERR_OK)
                rc = trim(s, &v, &st, ei);
        if (st.recovered || st.voided)
                qlog_warn("reconciled signer journal and store",
                          "journaled=%zu recovered=%zu revoked=%zu voided=%zu pending=%zu "
                          "trimmed=%zu",
                          st.journaled, st.recovered, st.revoked, st.voided, st.pending,
                          st.trimmed);
        free(journaled);
        view_free(&v);
        store_free_serials(res, nres);
        if (out)
                *out = st;
        return rc;
}
