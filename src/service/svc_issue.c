/*
 * svc_issue.c - issuing certificates: from a pasted CSR (sign), from a key
 * the service generates (apply), and for an order (svc_jobs.c); reissues
 * are in svc_reissue.c.
 *
 * Every path goes through svc_issue_one(): check the names and the validity
 * against policy, pick the issuing CA, draw a serial and commit its
 * reservation (two-phase issuance, svc_issue_int.h), ask the signer (which
 * journals the certificate before it answers), and turn its answer into a
 * cert_rec that the caller stores together with its events; storing it
 * marks the serial issued.
 */
#include "svc_issue_int.h"

#include "../notify/notify.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/hex.h"
#include "../base/log.h"
#include "../base/metrics.h"
#include "../base/testhook.h"
#include "../pki/pki_csr.h"
#include "../pki/pki_pem.h"
#include "../policy/policy.h"

void svc_free_names(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* Checks and normalises the requested names; refuses duplicates. */
enum qerr svc_normalise_names(const char *const *in, size_t n, enum cert_profile profile,
                              char ***out, size_t *nout, struct qerr_info *ei)
{
        if (n == 0)
                return qerr_set(ei, QERR_USAGE, "at least one name is required (--name)");
        if (n > QUILL_MAX_NAMES)
                return qerr_set(ei, QERR_POLICY_DENIED,
                                "at most %d names per certificate (%zu "
                                "asked)",
                                QUILL_MAX_NAMES, n);
        char **v = calloc(n, sizeof *v);
        if (!v)
                return qerr_set(ei, QERR_NOMEM, NULL);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                char norm[QUILL_MAX_NAME_LEN + 1];
                enum qerr rc = policy_check_name_ex(
                    in[i], policy_name_flags(profile == PROFILE_PRIVATE), norm, sizeof norm, ei);
                /* issue 7: internal names stay private, refused before any
                 * validation */
                if (rc == QERR_OK && cert_profile_is_public(profile))
                        rc = policy_check_public_name(norm, ei);
                if (rc != QERR_OK) {
                        svc_free_names(v, k);
                        return rc;
                }
                bool dup = false;
                for (size_t j = 0; j < k; j++)
                        dup = dup || strcmp(v[j], norm) == 0;
                if (dup)
                        continue;
                if (!(v[k] = strdup(norm))) {
                        svc_free_names(v, k);
                        return qerr_set(ei, QERR_NOMEM, NULL);
                }
                k++;
        }
        *out = v;
        *nout = k;
        return QERR_OK;
}

static enum qerr check_profile(enum cert_profile p, struct qerr_info *ei)
{
        if (p == PROFILE_PRIVATE)
                return QERR_OK;
        return qerr_set(ei, QERR_POLICY_DENIED,
                        "the %s profile needs domain validation, which this version does not "
                        "offer yet; use --profile private (operator-trusted names)",
                        cert_profile_name(p));
}

enum qerr svc_chain_of(struct service *s, const struct ca_rec *issuing, char **out,
                       struct qerr_info *ei)
{
        struct ca_rec *root = NULL;
        enum qerr rc = QERR_OK;
        if (issuing->parent_id &&
            (rc = ST(s)->ops->ca_get(ST(s), issuing->parent_id, &root, ei)) != QERR_OK)
                return rc;
        if (asprintf(out, "%s%s", issuing->cert_pem, root ? root->cert_pem : "") < 0) {
                *out = NULL;
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        }
        ca_rec_free(root);
        return rc;
}

/* Draws a serial: 16 bytes from the CSPRNG, the top bit cleared (positive)
 * and the next set (no leading zero byte): 126 random bits, well above the
 * 64 of BR 7.1. Uniqueness is the reservation's (serials.serial). */
static enum qerr draw_serial(uint8_t serial[16], char hex[41], struct qerr_info *ei)
{
        if (RAND_bytes(serial, 16) != 1)
                return qerr_set(ei, QERR_INTERNAL, "no randomness for a serial");
        serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);
        hex_encode(serial, 16, hex, 41);
        return QERR_OK;
}

/* The key the certificate will hold, sealed for it before it exists (the
 * data-key binding names the serial and the issuer, both known now). */
static enum qerr seal_for(struct service *s, const struct issue_input *in, const char *serial,
                          const char *issuer, struct serial_rec *r, struct qerr_info *ei)
{
        if (in->key_pem_pw) {
                if (!(r->key_blob = malloc(in->key_pem_pw_len)))
                        return qerr_set(ei, QERR_NOMEM, NULL);
                memcpy(r->key_blob, in->key_pem_pw, in->key_pem_pw_len);
                r->key_blob_len = in->key_pem_pw_len;
                r->key_protection = KEYPROT_PASSWORD;
                return QERR_OK;
        }
        if (!in->key)
                return QERR_OK;
        struct cert_rec tmp = {.issuer = (char *)issuer};
        snprintf(tmp.serial, sizeof tmp.serial, "%s", serial);
        enum qerr rc = svc_store_key(s, in->key, in->key_password, &tmp, ei);
        r->key_blob = tmp.key_blob;
        r->key_blob_len = tmp.key_blob_len;
        r->key_protection = tmp.key_protection;
        return rc;
}

/* Fills the reservation row of this issuance (names borrowed: not cleared
 * with serial_rec_clear). */
static void reservation_of(const struct issue_input *in, const struct ca_rec *ca,
                           struct serial_rec *r)
{
        r->ca_id = ca->id;
        r->tenant_id = in->tenant_id;
        snprintf(r->purpose, sizeof r->purpose, "%s", in->purpose ? in->purpose : "certificate");
        r->order_id = in->order_id;
        r->reissue_id = in->reissue_id;
        r->parent_id = in->parent_id;
        r->profile = in->profile;
        snprintf(r->key_algorithm, sizeof r->key_algorithm, "%s", in->key_alg);
        r->names = in->names;
        r->nnames = in->nnames;
        r->free_cert = in->free_cert;
        r->csr_pem = (char *)in->csr_pem;
}

static void memo_clear(struct svc_ca_memo *m)
{
        free(m->pem);
        free(m->der);
        free(m->subject);
        memset(m, 0, sizeof *m);
}

void svc_ca_memo_free(struct service *s)
{
        for (size_t i = 0; i < s->nca_memo; i++)
                memo_clear(&s->ca_memo[i]);
        s->nca_memo = 0;
}

/* The DER and subject of issuing CA `ca`, from the handle's memo or
 * parsed now (and remembered). Borrowed: valid until the memo is freed. */
static enum qerr ca_memo(struct service *s, const struct ca_rec *ca, const struct svc_ca_memo **out,
                         struct qerr_info *ei)
{
        for (size_t i = 0; i < s->nca_memo; i++) {
                if (s->ca_memo[i].id == ca->id && strcmp(s->ca_memo[i].pem, ca->cert_pem) == 0) {
                        *out = &s->ca_memo[i];
                        return QERR_OK;
                }
        }
        X509 *x = NULL;
        struct qbuf der;
        qbuf_init(&der, 64 * 1024);
        struct svc_ca_memo m = {.id = ca->id};
        enum qerr rc = pki_cert_read(ca->cert_pem, strlen(ca->cert_pem), &x, ei);
        if (rc == QERR_OK)
                rc = pki_cert_der(x, &der, ei);
        if (rc == QERR_OK) {
                m.pem = strdup(ca->cert_pem);
                m.subject = pki_name_oneline(X509_get_subject_name(x));
                m.der = malloc(der.len);
                m.der_len = der.len;
                if (!m.pem || !m.subject || !m.der)
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                else
                        memcpy(m.der, der.data, der.len);
        }
        X509_free(x);
        qbuf_free(&der);
        if (rc != QERR_OK) {
                memo_clear(&m);
                return rc;
        }
        size_t slot = s->nca_memo;
        if (slot == sizeof s->ca_memo / sizeof s->ca_memo[0]) {
                slot = 0; /* full: the first goes */
                memo_clear(&s->ca_memo[0]);
        } else {
                s->nca_memo++;
        }
        s->ca_memo[slot] = m;
        *out = &s->ca_memo[slot];
        return QERR_OK;
}

enum qerr svc_issue_one(struct service *s, const struct issue_input *in, struct cert_rec **out,
                        struct qerr_info *ei)
{
        struct ca_rec *ca = NULL;
        struct cert_rec *c = NULL;
        const struct svc_ca_memo *cam = NULL;
        const char *ca_subject = NULL;
        struct qbuf spki, frame, pem;
        qbuf_init(&spki, 8192);
        qbuf_init(&frame, MAX_SIGNER_MSG_BYTES);
        qbuf_init(&pem, 64 * 1024);
        uint8_t serial[16];
        char hex[41];
        struct serial_rec res;
        memset(&res, 0, sizeof res);
        bool signed_ok = false;
        qtime_t now = qtime_now();
        char spki_hash[65] = "";
        enum qerr rc = in->validated ? QERR_OK : check_profile(in->profile, ei);
        if (rc == QERR_OK) /* issue 6: checked again right before signing */
                rc = policy_base_url_ok(in->profile, s->cfg->server_base_url,
                                        s->cfg->validation_allow_private_addresses, ei);
        /* issue 7: never a key reported compromised, whoever's CSR (or our
         * own generated key) it is */
        if (rc == QERR_OK)
                rc = svc_key_check(s, in->pub, spki_hash, ei);
        if (rc != QERR_OK)
                goto out;
        long max_days = policy_max_validity_days(in->profile, now, s->cfg->public_max_days,
                                                 s->cfg->private_max_days);
        long days = in->days ? in->days : max_days;
        if (in->days < 0 || in->days > 100000) {
                rc = qerr_set(ei, QERR_USAGE, "--days must be between 1 and %ld", max_days);
                goto out;
        }
        qtime_t not_before = now;
        qtime_t not_after = not_before + days * QTIME_DAY - 1;
        if (in->not_after) {
                /* a reissue keeps the original's not-after, shortened only if the
                 * limit in force today is shorter (never extended) */
                not_after = in->not_after;
                if (not_after > not_before + max_days * QTIME_DAY - 1)
                        not_after = not_before + max_days * QTIME_DAY - 1;
        }
        if (in->variant && !in->not_after)
                not_after =
                    policy_profile_not_after(in->variant, not_before, s->cfg->public_max_days);
        rc = policy_check_validity(in->profile, not_before, not_after, s->cfg->public_max_days,
                                   s->cfg->private_max_days, ei);
        if (rc == QERR_OK && in->variant)
                rc = policy_profile_check_validity(in->variant, not_before, not_after,
                                                   s->cfg->public_max_days, ei);
        if (rc != QERR_OK)
                goto out;
        if ((rc = svc_pick_issuer(s, in->key_alg, &ca, ei)) != QERR_OK)
                goto out;
        if (not_after > ca->not_after) {
                rc = qerr_set(ei, QERR_POLICY_DENIED,
                              "the certificate would outlive its issuing CA (which expires "
                              "sooner); ask for fewer --days");
                goto out;
        }
        if ((rc = pki_key_spki_der(in->pub, &spki, ei)) != QERR_OK)
                goto out;
        if ((rc = ca_memo(s, ca, &cam, ei)) != QERR_OK)
                goto out;
        ca_subject = cam->subject;
        /* phase one: the reservation commits before the signer is asked */
        for (int tries = 0;; tries++) {
                if ((rc = draw_serial(serial, hex, ei)) != QERR_OK)
                        goto out;
                reservation_of(in, ca, &res);
                snprintf(res.serial, sizeof res.serial, "%s", hex);
                if ((rc = seal_for(s, in, hex, ca_subject, &res, ei)) == QERR_OK)
                        rc = svc_serial_reserve(s, &res, ei);
                if (rc != QERR_SERIAL_TAKEN || tries == 3)
                        break;
                free(res.key_blob);
                memset(&res, 0, sizeof res);
        }
        if (rc != QERR_OK)
                goto out;
        QUILL_TEST_PAUSE("issue_reserved");
        /* the CRL shard is fixed now, with the count in force, and named in
         * the certificate (docs/internals/crl.md) */
        int shard = policy_crl_shard(hex, (int)s->cfg->crl_shards);
        if (shard < 0) {
                rc = qerr_set(ei, QERR_INTERNAL, "no CRL shard for serial %s", hex);
                goto out;
        }
        char crl[600], ocsp[600], cai[600];
        svc_urls(s, ca->id, shard, crl, ocsp, cai, sizeof crl);
        struct signer_req req = {.type = SMSG_SIGN_CERT};
        req.issuer_der.p = cam->der;
        req.issuer_der.len = cam->der_len;
        req.spki_der.p = spki.data;
        req.spki_der.len = spki.len;
        for (size_t i = 0; i < in->nnames; i++)
                req.names[i] = sbytes_str(in->names[i]);
        req.nnames = in->nnames;
        req.not_before = not_before;
        req.not_after = not_after;
        req.serial.p = serial;
        req.serial.len = sizeof serial;
        req.profile = sbytes_str(in->variant ? in->variant->wire : cert_profile_name(in->profile));
        req.crl_url = sbytes_str(crl);
        req.ocsp_url = sbytes_str(ocsp);
        req.ca_issuers_url = sbytes_str(cai);
        req.org = sbytes_str(in->org ? in->org : "");
        struct signer *sg;
        struct signer_resp resp;
        rc = svc_signer(s, &sg, ei);
        if (rc == QERR_OK)
                rc = signer_call(sg, &req, &frame, &resp, ei);
        if (rc != QERR_OK) {
                /* refused: the serial is void; the signer died with it: the
                 * journal says (reconciliation) */
                svc_serial_not_signed(s, &res, rc, ei);
                goto out;
        }
        signed_ok = true;
        /* phase two (the caller's): store it */
        QUILL_TEST_PAUSE("issue_signed");
        /* stored as the signer made it: the signer linted it before signing,
         * and the issuer it names is the CA's subject (the signer loaded the
         * issuer from the DER above) */
        if (resp.der.len < 2 || resp.der.p[0] != 0x30) {
                rc = qerr_set(ei, QERR_INTERNAL, "the signer answered with something not DER");
                goto out;
        }
        if ((rc = pki_der_pem(resp.der.p, resp.der.len, "CERTIFICATE", &pem, ei)) != QERR_OK)
                goto out;
        c = calloc(1, sizeof *c);
        if (!c || !(c->names = calloc(in->nnames, sizeof *c->names))) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto out;
        }
        for (size_t i = 0; i < in->nnames; i++) {
                if (!(c->names[i] = strdup(in->names[i]))) {
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                        goto out;
                }
                c->nnames++;
        }
        c->ca_id = ca->id;
        c->tenant_id = in->tenant_id;
        snprintf(c->tenant, sizeof c->tenant, "%s", in->tenant ? in->tenant : "");
        c->crl_shard = shard;
        c->parent_id = in->parent_id;
        memcpy(c->serial, hex, sizeof c->serial);
        c->not_before = not_before;
        c->not_after = not_after;
        snprintf(c->key_algorithm, sizeof c->key_algorithm, "%s", in->key_alg);
        c->profile = in->profile;
        c->free_cert = in->free_cert;
        c->origin = ORIGIN_ISSUED;
        c->status = CERT_ISSUED;
        c->created_at = now;
        c->revoke_reason = -1;
        snprintf(c->spki_sha256, sizeof c->spki_sha256, "%s", spki_hash);
        c->issuer = strdup(ca_subject);
        c->cert_pem = strdup(qbuf_str(&pem));
        c->csr_pem = in->csr_pem ? strdup(in->csr_pem) : NULL;
        rc = svc_chain_of(s, ca, &c->chain_pem, ei);
        if (rc == QERR_OK && (!c->issuer || !c->cert_pem || (in->csr_pem && !c->csr_pem)))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        if (rc == QERR_OK) {
                if (rc == QERR_OK)
                        metrics_count("quill_certificates_signed_total",
                                      "Certificates the signer signed, by profile.", 1, "profile",
                                      cert_profile_name(in->profile), NULL);
                else
                        metrics_count(
                            "quill_issuance_failures_total",
                            "Issuances that failed before or at the signer, by error code.", 1,
                            "code", qerr_code(rc), NULL);
                /* the key sealed for it moves over (the reservation drops it
                 * when the certificate is stored) */
                c->key_blob = res.key_blob;
                c->key_blob_len = res.key_blob_len;
                c->key_protection = res.key_protection;
                res.key_blob = NULL;
                if (c->key_protection == KEYPROT_DATA_KEY && strcmp(c->issuer, ca_subject) != 0) {
                        /* never expected: the binding named another issuer */
                        free(c->key_blob);
                        c->key_blob = NULL;
                        rc = svc_store_key(s, in->key, in->key_password, c, ei);
                }
        }
out:
        free(res.key_blob);
        ca_rec_free(ca);
        qbuf_free(&spki);
        qbuf_free(&frame);
        qbuf_free(&pem);
        if (rc != QERR_OK) {
                if (signed_ok)
                        svc_issue_store_failed(s, hex, in->tenant_id);
                cert_rec_free(c);
                return rc;
        }
        *out = c;
        return QERR_OK;
}

void svc_issue_store_failed(struct service *s, const char *serial, int64_t tenant_id)
{
        struct serial_rec r;
        struct qerr_info ei;
        if (ST(s)->ops->serial_get(ST(s), serial, &r, &ei) != QERR_OK)
                return;
        if (!strcmp(r.state, "reserved") && ST(s)->ops->begin(ST(s), &ei) == QERR_OK) {
                if (ST(s)->ops->serial_orphan(ST(s), r.id, &ei) == QERR_OK)
                        ST(s)->ops->commit(ST(s), &ei);
                else
                        svc_abort(s, QERR_OK);
                qlog_warn("signed certificate not stored: left to reconciliation",
                          "serial=%s tenant=%lld", serial, (long long)tenant_id);
        }
        serial_rec_clear(&r);
}

enum qerr svc_insert_cert(struct service *s, struct cert_rec *c, const char *why,
                          struct qerr_info *ei)
{
        enum qerr rc = ST(s)->ops->cert_insert(ST(s), c, ei);
        if (rc == QERR_OK)
                rc = svc_crl_note_issued(s, c, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, c->tenant_id, "certificate", c->id, NULL, "issued",
                               "%s; serial %s; profile %s", why, c->serial,
                               cert_profile_name(c->profile));
        if (rc == QERR_OK)
                rc = svc_notify_cert(s, NOTIFY_CERT_ISSUED, c->tenant_id, c->id, ei);
        return rc;
}

enum qerr svc_store_revoked(struct service *s, struct cert_rec *c, int reason, const char *event,
                            const char *why, struct qerr_info *ei)
{
        struct revoke_run run;
        memset(&run, 0, sizeof run);
        enum qerr rc = ST(s)->ops->cert_insert(ST(s), c, ei);
        if (rc == QERR_OK)
                rc = svc_crl_note_issued(s, c, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, c->tenant_id, "certificate", c->id, NULL, event,
                               "%s; serial %s; profile %s; not wanted any more: revoked at once",
                               why, c->serial, cert_profile_name(c->profile));
        if (rc == QERR_OK)
                rc = svc_revoke_into(s, c, reason, 0, 0, NULL, &run, ei);
        if (rc == QERR_OK)
                rc = svc_revoke_finish(s, &run, ei);
        svc_revoke_run_free(&run);
        return rc;
}

/* A private-profile order, issued at once (the REST API's orders): the
 * record of what was asked, with its names marked as needing neither
 * validation nor CAA. Caller frees. */
static struct order_rec *private_order(struct service *s, const struct cert_rec *c)
{
        struct order_rec *o = calloc(1, sizeof *o);
        if (!o || !(o->names = calloc(c->nnames ? c->nnames : 1, sizeof *o->names))) {
                free(o);
                return NULL;
        }
        qtime_t now = qtime_now();
        snprintf(o->purpose, sizeof o->purpose, "issue");
        o->tenant_id = c->tenant_id;
        snprintf(o->tenant, sizeof o->tenant, "%s", c->tenant);
        snprintf(o->created_by, sizeof o->created_by, "%s", s->who.name);
        o->status = ORDER_ISSUED;
        o->profile = c->profile;
        snprintf(o->key_algorithm, sizeof o->key_algorithm, "%s", c->key_algorithm);
        o->deadline = o->created_at = o->updated_at = now;
        for (size_t i = 0; i < c->nnames; i++) {
                struct order_name_rec *n = &o->names[o->nnames++];
                snprintf(n->name, sizeof n->name, "%s", c->names[i]);
                snprintf(n->method, sizeof n->method, "none");
                snprintf(n->validation_status, sizeof n->validation_status, "not_required");
                snprintf(n->caa_status, sizeof n->caa_status, "not_checked");
                n->value_expires = now;
        }
        return o;
}

enum qerr svc_private_order(struct service *s, const struct cert_rec *c, struct order_rec **out,
                            struct qerr_info *ei)
{
        struct order_rec *o = private_order(s, c);
        if (!o)
                return qerr_set(ei, QERR_NOMEM, NULL);
        o->certificate_id = c->id;
        enum qerr rc = ST(s)->ops->order_insert(ST(s), o, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->order_update(ST(s), o, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, o->tenant_id, "order", o->id, NULL, "issued",
                               "private order for %zu name(s): certificate %lld issued at once",
                               o->nnames, (long long)c->id);
        if (rc == QERR_OK && out)
                *out = o;
        else
                order_rec_free(o);
        return rc;
}

/* Stores a freshly issued certificate and its event in one transaction;
 * with `order`, also a private order that records it (returned there). A
 * failure leaves the signed certificate to reconciliation. */
static enum qerr store_new(struct service *s, struct cert_rec *c, const char *why,
                           struct order_rec **order, struct qerr_info *ei)
{
        struct order_rec *o = NULL;
        enum qerr rc = ST(s)->ops->begin(ST(s), ei);
        bool blocked = false;
        if (rc == QERR_OK) {
                rc = svc_insert_cert(s, c, why, ei);
                /* issue 7: signed outside any transaction; its key may have
                 * been blocked meanwhile: then it is stored revoked, and refused */
                if (rc == QERR_OK)
                        rc = svc_key_recheck_tx(s, c, &blocked, ei);
                if (rc == QERR_OK && order && !blocked)
                        rc = svc_private_order(s, c, &o, ei);
                if (rc == QERR_OK)
                        rc = svc_commit(s, ei);
                else
                        svc_abort(s, rc);
        }
        if (rc != QERR_OK) {
                order_rec_free(o);
                if (rc != QERR_CERT_RECOVERED)
                        svc_issue_store_failed(s, c->serial, c->tenant_id);
                return rc;
        }
        if (blocked)
                return qerr_set(ei, QERR_KEY_BLOCKED,
                                "the key was reported compromised while the certificate was "
                                "being signed; certificate %lld was revoked at once "
                                "(keyCompromise). Use a new key",
                                (long long)c->id);
        if (order)
                *order = o;
        return QERR_OK;
}

/* The order's canonical organisation text ("organization=..\ncountry=..")
 * in the signer's form ("O=..\nC=..\nST=..\nL=.."); OU is not carried (BR
 * 7.1.2.7.4 forbids it). */
static void org_for_signer(const char *canon, char *out, size_t sz)
{
        static const struct {
                const char *key, *attr;
        } map[] = {{"organization", "O"}, {"country", "C"}, {"state", "ST"}, {"locality", "L"}};
        size_t o = 0;
        out[0] = 0;
        for (size_t m = 0; canon && m < sizeof map / sizeof map[0]; m++) {
                size_t kl = strlen(map[m].key);
                for (const char *p = canon; p && *p;) {
                        const char *nl = strchr(p, '\n');
                        if (!strncmp(p, map[m].key, kl) && p[kl] == '=') {
                                const char *v = p + kl + 1;
                                int len = nl ? (int)(nl - v) : (int)strlen(v);
                                if (len > 0 && o < sz)
                                        o += (size_t)snprintf(out + o, sz - o, "%s%s=%.*s",
                                                              o ? "\n" : "", map[m].attr, len, v);
                                break;
                        }
                        p = nl ? nl + 1 : NULL;
                }
        }
}

/* The organisation of an OV/EV certificate, read from its subject, in the
 * signer's form (for reissues). */
void svc_org_of_cert(const struct cert_rec *c, char *out, size_t sz)
{
        static const struct {
                int nid;
                const char *attr;
        } map[] = {{NID_organizationName, "O"},
                   {NID_countryName, "C"},
                   {NID_stateOrProvinceName, "ST"},
                   {NID_localityName, "L"}};
        X509 *x = NULL;
        size_t o = 0;
        out[0] = 0;
        if (pki_cert_read(c->cert_pem, strlen(c->cert_pem), &x, NULL) != QERR_OK)
                return;
        X509_NAME *nm = X509_get_subject_name(x);
        for (size_t m = 0; m < sizeof map / sizeof map[0]; m++) {
                int idx = X509_NAME_get_index_by_NID(nm, map[m].nid, -1);
                unsigned char *u = NULL;
                int len = -1;
                if (idx >= 0)
                        len = ASN1_STRING_to_UTF8(
                            &u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, idx)));
                if (len > 0 && o < sz)
                        o += (size_t)snprintf(out + o, sz - o, "%s%s=%.*s", o ? "\n" : "",
                                              map[m].attr, len, (const char *)u);
                OPENSSL_free(u);
        }
        X509_free(x);
}

enum qerr svc_issue_order(struct service *s, const struct order_rec *o, struct cert_rec **out,
                          struct qerr_info *ei)
{
        struct csr_info csr;
        struct cert_rec *c = NULL;
        EVP_PKEY *key = NULL;
        char **names = calloc(o->nnames ? o->nnames : 1, sizeof *names);
        if (!names)
                return qerr_set(ei, QERR_NOMEM, NULL);
        for (size_t i = 0; i < o->nnames; i++)
                names[i] = (char *)o->names[i].name; /* borrowed */
        struct cert_rec *orig = NULL;
        enum qerr rc = pki_csr_parse(o->csr_pem, o->csr_pem ? strlen(o->csr_pem) : 0, &csr, ei);
        if (rc == QERR_OK && !strcmp(o->purpose, "reissue"))
                rc = ST(s)->ops->cert_get(ST(s), o->tenant_id, o->subject_id, &orig, ei);
        /* the order's key becomes the certificate's: opened here, sealed for
         * the certificate into its reservation */
        if (rc == QERR_OK && o->key_blob && o->key_protection != KEYPROT_PASSWORD) {
                char aad[64];
                svc_order_key_aad(o->id, aad, sizeof aad);
                rc = svc_unseal_key(s, o->key_blob, o->key_blob_len, o->key_protection, aad, NULL,
                                    &key, ei);
        }
        /* an ACME order carries its issuance profile (classic, tlsserver,
         * shortlived); the certificate's type stays the order's */
        const struct issue_profile *variant = NULL;
        if (rc == QERR_OK && !strncmp(o->created_by, "acme:", 5)) {
                char pname[32];
                enum qerr prc = ST(s)->ops->acme_order_profile(ST(s), o->id, pname, ei);
                if (prc == QERR_OK && !(variant = policy_profile_find(pname)))
                        prc = qerr_set(ei, QERR_INTERNAL, "unknown issuance profile \"%s\"", pname);
                if (prc != QERR_OK && prc != QERR_NOT_FOUND)
                        rc = prc;
                if (variant && variant->type != o->profile)
                        variant = NULL;
        }
        if (rc == QERR_OK) {
                struct issue_input in = {.tenant_id = o->tenant_id,
                                         .tenant = o->tenant,
                                         .variant = variant,
                                         .pub = csr.key,
                                         .key_alg = csr.key_algorithm,
                                         .names = names,
                                         .nnames = o->nnames,
                                         .profile = o->profile,
                                         .days = o->days,
                                         .csr_pem = o->csr_pem,
                                         .validated = true,
                                         .free_cert = o->free_cert,
                                         .purpose = "order",
                                         .order_id = o->id,
                                         .key = key};
                if (o->key_blob && o->key_protection == KEYPROT_PASSWORD) {
                        in.key_pem_pw = o->key_blob;
                        in.key_pem_pw_len = o->key_blob_len;
                }
                char org[520];
                if (orig) {
                        /* a reissue keeps the original's not-after (and its
                         * organisation) */
                        in.parent_id = orig->id;
                        in.not_after = orig->not_after;
                        svc_org_of_cert(orig, org, sizeof org);
                } else {
                        org_for_signer(o->org_info, org, sizeof org);
                }
                in.org = org[0] ? org : NULL;
                rc = svc_issue_one(s, &in, &c, ei);
        }
        cert_rec_free(orig);
        EVP_PKEY_free(key);
        csr_info_clear(&csr);
        free(names);
        if (rc != QERR_OK) {
                cert_rec_free(c);
                return rc;
        }
        *out = c;
        return QERR_OK;
}

enum qerr service_cert_sign(struct service *s, const struct sign_req *r, struct cert_rec **out,
                            struct qerr_info *ei)
{
        struct csr_info csr;
        char **names = NULL;
        size_t n = 0;
        struct cert_rec *c = NULL;
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "issue certificates", ei);
        if (rc == QERR_OK)
                rc = pki_csr_parse(r->csr, r->csr_len, &csr, ei);
        if (rc != QERR_OK)
                return rc;
        /* the names first: an internal name under a public profile gets its
         * own sentence (issue 7) */
        rc = svc_normalise_names((const char *const *)csr.names, csr.nnames, r->profile, &names, &n,
                                 ei);
        if (rc == QERR_OK)
                rc = check_profile(r->profile, ei);
        struct qbuf pem;
        qbuf_init(&pem, MAX_CSR_BYTES * 2);
        /* store the CSR as PEM whatever form it came in */
        if (rc == QERR_OK)
                rc = pki_csr_pem(csr.req, &pem, ei);
        if (rc == QERR_OK) {
                struct issue_input in = {.tenant_id = s->who.tenant_id,
                                         .tenant = s->who.tenant,
                                         .pub = csr.key,
                                         .key_alg = csr.key_algorithm,
                                         .names = names,
                                         .nnames = n,
                                         .profile = r->profile,
                                         .days = r->days,
                                         .csr_pem = qbuf_str(&pem),
                                         .purpose = r->order ? "private_order" : "certificate"};
                rc = svc_issue_one(s, &in, &c, ei);
        }
        if (rc == QERR_OK)
                rc = store_new(s, c, "signed from a CSR", r->order, ei);
        csr_info_clear(&csr);
        svc_free_names(names, n);
        qbuf_free(&pem);
        if (rc != QERR_OK) {
                cert_rec_free(c);
                return rc;
        }
        *out = c;
        return QERR_OK;
}

/* Generates a key of `alg` and a CSR for `names`. */
enum qerr svc_new_key_and_csr(const char *alg, char **names, size_t n, EVP_PKEY **key,
                              struct qbuf *csr, struct qerr_info *ei)
{
        enum key_alg ka;
        if (!alg || !key_alg_from_name(alg, &ka))
                return qerr_set(ei, QERR_KEY_UNSUPPORTED,
                                "unknown key type %s; use ec256, ec384, "
                                "rsa2048, rsa3072, rsa4096 or sm2",
                                alg ? alg : "(none)");
        enum qerr rc = pki_key_generate(ka, key, ei);
        if (rc == QERR_OK)
                rc = pki_csr_build(*key, (const char *const *)names, n, csr, ei);
        if (rc != QERR_OK) {
                EVP_PKEY_free(*key);
                *key = NULL;
        }
        return rc;
}

enum qerr service_cert_apply(struct service *s, const struct apply_req *r, struct cert_rec **out,
                             struct qerr_info *ei)
{
        char **names = NULL;
        size_t n = 0;
        EVP_PKEY *key = NULL;
        struct cert_rec *c = NULL;
        struct qbuf csr;
        qbuf_init(&csr, MAX_CSR_BYTES);
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "issue certificates", ei);
        if (rc == QERR_OK)
                rc = check_profile(r->profile, ei);
        if (rc == QERR_OK)
                rc = svc_check_key_password(r->key_password, ei);
        if (rc == QERR_OK)
                rc = svc_normalise_names(r->names, r->nnames, r->profile, &names, &n, ei);
        if (rc == QERR_OK)
                rc = svc_new_key_and_csr(r->key_alg, names, n, &key, &csr, ei);
        if (rc == QERR_OK) {
                struct issue_input in = {.tenant_id = s->who.tenant_id,
                                         .tenant = s->who.tenant,
                                         .pub = key,
                                         .key_alg = r->key_alg,
                                         .names = names,
                                         .nnames = n,
                                         .profile = r->profile,
                                         .days = r->days,
                                         .csr_pem = qbuf_str(&csr),
                                         .purpose = r->order ? "private_order" : "certificate",
                                         .key = key,
                                         .key_password = r->key_password};
                rc = svc_issue_one(s, &in, &c, ei);
        }
        if (rc == QERR_OK)
                rc = store_new(s, c,
                               r->key_password ? "key generated by the service, stored under the "
                                                 "applicant's password"
                                               : "key generated by the service, sealed under the "
                                                 "data key",
                               r->order, ei);
        EVP_PKEY_free(key);
        svc_free_names(names, n);
        qbuf_free(&csr);
        if (rc != QERR_OK) {
                cert_rec_free(c);
                return rc;
        }
        *out = c;
        return QERR_OK;
}
