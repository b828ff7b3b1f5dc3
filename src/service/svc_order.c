/*
 * svc_order.c - public orders (RULES.md §2-§4): applying, reading,
 * cancelling, and reviews. The asynchronous work (validation, CAA,
 * issuance) is in svc_jobs.c; this file creates orders and queues it.
 *
 * An order keeps, per name, the method and the random value to publish
 * (validate_new_value: 256 bits, usable [validation] token_days). A key the
 * service generated is sealed under the data key bound to the order until
 * the certificate exists. OV/EV organisation details are kept as canonical
 * text with its SHA-256, so a later order with unchanged details can skip
 * organisation review.
 */
#include "service_internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/hex.h"
#include "../notify/notify.h"
#include "../pki/pki_csr.h"
#include "../pki/pki_pem.h"
#include "../policy/policy.h"
#include "../validate/validate.h"

void svc_order_key_aad(int64_t order_id, char *out, size_t sz)
{
        snprintf(out, sz, "quill-order-key:%lld", (long long)order_id);
}

static bool field_ok(const char *v, size_t max)
{
        if (!v)
                return true;
        size_t n = strlen(v);
        if (n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
                        return false;
        return true;
}

/* Canonical text of the organisation details and its SHA-256 (hex). */
static enum qerr org_canonical(const struct org_fields *f, char **text, char hash[65],
                               struct qerr_info *ei)
{
        if (!f || !f->organization || !*f->organization || !f->country || !*f->country)
                return qerr_set(ei, QERR_USAGE,
                                "OV and EV orders need the organisation's name and country "
                                "(--org-file with \"organization\" and \"country\")");
        if (strlen(f->country) != 2 || !field_ok(f->organization, 64) || !field_ok(f->unit, 64) ||
            !field_ok(f->state, 128) || !field_ok(f->locality, 128))
                return qerr_set(ei, QERR_USAGE,
                                "organisation details: country is a two-letter code; names at "
                                "most 64 characters, no control characters");
        if (asprintf(text, "organization=%s\nunit=%s\ncountry=%s\nstate=%s\nlocality=%s\n",
                     f->organization, f->unit ? f->unit : "", f->country, f->state ? f->state : "",
                     f->locality ? f->locality : "") < 0)
                return qerr_set(ei, QERR_NOMEM, NULL);
        unsigned char md[32];
        unsigned int mdlen;
        EVP_Digest(*text, strlen(*text), md, &mdlen, EVP_sha256(), NULL);
        hex_encode(md, 32, hash, 65);
        return QERR_OK;
}

static void free_strs(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* The names of the order: --name values, else the CSR's; normalised, no IP
 * literals (public profiles); with a CSR and names both, the sets must
 * agree. */
static enum qerr order_names(const struct order_apply_req *r, const struct csr_info *csr,
                             char ***out, size_t *n, struct qerr_info *ei)
{
        const char *const *src = r->names;
        size_t count = r->nnames;
        if (count == 0 && csr) {
                src = (const char *const *)csr->names;
                count = csr->nnames;
        }
        if (count == 0)
                return qerr_set(ei, QERR_USAGE, "at least one name is required (--name)");
        if (count > QUILL_MAX_NAMES)
                return qerr_set(ei, QERR_POLICY_DENIED, "at most %d names per order",
                                QUILL_MAX_NAMES);
        char **v = calloc(count, sizeof *v);
        size_t k = 0;
        if (!v)
                return qerr_set(ei, QERR_NOMEM, NULL);
        for (size_t i = 0; i < count; i++) {
                char norm[QUILL_MAX_NAME_LEN + 1];
                enum qerr rc = policy_check_name(src[i], true, false, norm, sizeof norm, ei);
                /* issue 7: no internal name gets as far as validation */
                if (rc == QERR_OK)
                        rc = policy_check_public_name(norm, ei);
                if (rc != QERR_OK) {
                        free_strs(v, k);
                        return rc;
                }
                bool dup = false;
                for (size_t j = 0; j < k; j++)
                        dup = dup || strcmp(v[j], norm) == 0;
                if (!dup && !(v[k++] = strdup(norm))) {
                        free_strs(v, k - 1);
                        return qerr_set(ei, QERR_NOMEM, NULL);
                }
        }
        if (csr && r->nnames) {
                /* the certificate will carry the order's names: the CSR must ask for them */
                for (size_t i = 0; i < csr->nnames; i++) {
                        char norm[QUILL_MAX_NAME_LEN + 1];
                        bool found = false;
                        if (policy_check_name(csr->names[i], true, false, norm, sizeof norm,
                                              NULL) == QERR_OK)
                                for (size_t j = 0; j < k && !found; j++)
                                        found = strcmp(v[j], norm) == 0;
                        if (!found) {
                                free_strs(v, k);
                                return qerr_set(ei, QERR_POLICY_DENIED,
                                                "the CSR names %s, which the order does not; "
                                                "give the same names or leave out --name",
                                                csr->names[i]);
                        }
                }
        }
        *out = v;
        *n = k;
        return QERR_OK;
}

static enum qerr new_challenges(struct service *s, struct order_rec *o, char **names, size_t n,
                                const char *method, qtime_t now, struct qerr_info *ei)
{
        o->names = calloc(n, sizeof *o->names);
        if (!o->names)
                return qerr_set(ei, QERR_NOMEM, NULL);
        for (size_t i = 0; i < n; i++) {
                struct order_name_rec *nm = &o->names[o->nnames++];
                snprintf(nm->name, sizeof nm->name, "%s", names[i]);
                snprintf(nm->method, sizeof nm->method, "%s", method);
                if (strcmp(method, "file") == 0 && names[i][0] == '*')
                        return qerr_set(ei, QERR_POLICY_DENIED,
                                        "%s is a wildcard name: the Baseline Requirements allow "
                                        "only DNS validation for wildcards; use --method dns",
                                        names[i]);
                enum qerr rc = validate_new_value(nm->value, nm->token, ei);
                if (rc != QERR_OK)
                        return rc;
                nm->value_expires = now + s->cfg->validation_token_days * QTIME_DAY;
        }
        return QERR_OK;
}

enum qerr service_order_apply(struct service *s, const struct order_apply_req *r,
                              struct order_rec **out, struct qerr_info *ei)
{
        struct csr_info csr;
        memset(&csr, 0, sizeof csr);
        char **names = NULL;
        size_t n = 0;
        EVP_PKEY *key = NULL;
        struct order_rec *o = calloc(1, sizeof *o);
        struct qbuf csrpem;
        qbuf_init(&csrpem, MAX_CSR_BYTES * 2);
        qtime_t now = qtime_now();
        enum qerr rc = o ? QERR_OK : qerr_set(ei, QERR_NOMEM, NULL);
        if (rc == QERR_OK)
                rc = svc_require(s, SVC_USER | SVC_ADMIN, "apply for certificates", ei);
        if (rc == QERR_OK && !cert_profile_is_public(r->profile))
                rc = qerr_set(ei, QERR_USAGE,
                              "orders are for the dv, ov and ev profiles; "
                              "private certificates are issued at once");
        if (rc == QERR_OK &&
            (!r->method || (strcmp(r->method, "dns") && strcmp(r->method, "file"))))
                rc = qerr_set(ei, QERR_USAGE, "--method must be dns or file");
        if (rc == QERR_OK && !!r->key_alg == !!r->csr)
                rc = qerr_set(ei, QERR_USAGE, "give exactly one of --key ALG and --csr FILE");
        if (rc == QERR_OK)
                rc = svc_check_key_password(r->key_password, ei);
        if (rc == QERR_OK && r->days < 0)
                rc = qerr_set(ei, QERR_USAGE, "--days must be positive");
        if (rc == QERR_OK && r->days) {
                long max = policy_max_validity_days(r->profile, now, s->cfg->public_max_days,
                                                    s->cfg->private_max_days);
                if (r->days > max)
                        rc = qerr_set(ei, QERR_POLICY_DENIED,
                                      "%ld days is longer than the %ld days allowed for %s "
                                      "certificates issued today",
                                      r->days, max, cert_profile_name(r->profile));
        }
        if (rc == QERR_OK && r->csr)
                rc = pki_csr_parse(r->csr, r->csr_len, &csr, ei);
        if (rc == QERR_OK)
                rc = order_names(r, r->csr ? &csr : NULL, &names, &n, ei);
        if (rc == QERR_OK && r->profile != PROFILE_DV)
                rc = org_canonical(r->org, &o->org_info, o->org_hash, ei);
        /* issue 6: told at once, not at signing, when this server cannot
         * issue public certificates */
        if (rc == QERR_OK)
                rc = policy_base_url_ok(r->profile, s->cfg->server_base_url,
                                        s->cfg->validation_allow_private_addresses, ei);
        if (rc != QERR_OK)
                goto out;
        snprintf(o->purpose, sizeof o->purpose, "issue");
        o->tenant_id = s->who.tenant_id;
        snprintf(o->tenant, sizeof o->tenant, "%s", s->who.tenant);
        snprintf(o->created_by, sizeof o->created_by, "%s", s->who.name);
        o->status = ORDER_PENDING_VALIDATION;
        o->profile = r->profile;
        o->free_cert = r->profile == PROFILE_DV && !r->paid;
        o->days = r->days;
        o->deadline = now + s->cfg->validation_deadline_seconds;
        o->created_at = o->updated_at = now;
        if (r->csr) {
                snprintf(o->key_algorithm, sizeof o->key_algorithm, "%s", csr.key_algorithm);
                rc = pki_csr_pem(csr.req, &csrpem, ei);
        } else {
                enum key_alg ka;
                if (!key_alg_from_name(r->key_alg, &ka))
                        rc = qerr_set(ei, QERR_KEY_UNSUPPORTED,
                                      "unknown key type %s; use ec256, ec384, rsa2048, rsa3072, "
                                      "rsa4096 or sm2",
                                      r->key_alg);
                if (rc == QERR_OK)
                        rc = pki_key_generate(ka, &key, ei);
                if (rc == QERR_OK)
                        rc = pki_csr_build(key, (const char *const *)names, n, &csrpem, ei);
                snprintf(o->key_algorithm, sizeof o->key_algorithm, "%s", r->key_alg);
        }
        if (rc == QERR_OK && !(o->csr_pem = strdup(qbuf_str(&csrpem))))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        /* issue 7: a key reported compromised is refused at once (and again
         * when the order is signed) */
        if (rc == QERR_OK)
                rc = svc_key_check(s, r->csr ? csr.key : key, NULL, ei);
        if (rc == QERR_OK)
                rc = new_challenges(s, o, names, n, r->method, now, ei);
        /* issue 7: names this tenant validated within the reuse period skip
         * domain validation (CAA and reviews still apply) */
        size_t reused = 0;
        if (rc == QERR_OK)
                rc = svc_reuse_validations(s, o, now, &reused, ei);
        if (rc != QERR_OK)
                goto out;
        /* one transaction: the order, its names, its key, its event, its job */
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                goto out;
        rc = ST(s)->ops->order_insert(ST(s), o, ei);
        if (rc == QERR_OK && key) {
                char aad[64];
                svc_order_key_aad(o->id, aad, sizeof aad);
                rc = svc_seal_key(s, key, r->key_password, aad, &o->key_blob, &o->key_blob_len,
                                  &o->key_protection, ei);
                if (rc == QERR_OK)
                        rc = ST(s)->ops->order_update(ST(s), o, ei);
        }
        char reuse_note[96] = "";
        if (reused)
                snprintf(reuse_note, sizeof reuse_note, "; %zu name(s) reuse an earlier validation",
                         reused);
        if (rc == QERR_OK)
                rc = svc_event(s, o->tenant_id, "order", o->id, NULL, "pending_validation",
                               "%s order for %zu name(s), %s validation%s",
                               cert_profile_name(o->profile), n, r->method, reuse_note);
        if (rc == QERR_OK)
                rc = svc_notify_order(s, NOTIFY_ORDER_VALIDATION_NEEDED, o->tenant_id, o->id, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->job_insert(ST(s), "validate", o->id, now, ei);
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
out:
        EVP_PKEY_free(key);
        csr_info_clear(&csr);
        free_strs(names, n);
        qbuf_free(&csrpem);
        if (rc != QERR_OK) {
                order_rec_free(o);
                return rc;
        }
        *out = o;
        return QERR_OK;
}

enum qerr svc_proof_order(struct service *s, const char *purpose, const struct cert_rec *c,
                          const char *method, qtime_t deadline, const char *csr_pem, EVP_PKEY *key,
                          const char *key_password, struct order_rec **out, struct qerr_info *ei)
{
        qtime_t now = qtime_now();
        struct order_rec *o = calloc(1, sizeof *o);
        if (!o)
                return qerr_set(ei, QERR_NOMEM, NULL);
        snprintf(o->purpose, sizeof o->purpose, "%s", purpose);
        o->tenant_id = c->tenant_id;
        snprintf(o->tenant, sizeof o->tenant, "%s", c->tenant);
        snprintf(o->created_by, sizeof o->created_by, "%s", s->who.name);
        o->subject_id = c->id;
        o->status = ORDER_PENDING_VALIDATION;
        o->profile = c->profile;
        snprintf(o->key_algorithm, sizeof o->key_algorithm, "%s", c->key_algorithm);
        o->free_cert = c->free_cert;
        o->deadline = deadline;
        o->created_at = o->updated_at = now;
        enum qerr rc = QERR_OK;
        if (csr_pem && !(o->csr_pem = strdup(csr_pem)))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        if (rc == QERR_OK)
                rc = new_challenges(s, o, c->names, c->nnames, method, now, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->order_insert(ST(s), o, ei);
        if (rc == QERR_OK && key) {
                char aad[64];
                svc_order_key_aad(o->id, aad, sizeof aad);
                rc = svc_seal_key(s, key, key_password, aad, &o->key_blob, &o->key_blob_len,
                                  &o->key_protection, ei);
                if (rc == QERR_OK)
                        rc = ST(s)->ops->order_update(ST(s), o, ei);
        }
        if (rc == QERR_OK)
                rc = svc_event(s, o->tenant_id, "order", o->id, NULL, "pending_validation",
                               "proof of control for the %s of certificate %lld (%s)", purpose,
                               (long long)c->id, method);
        if (rc == QERR_OK)
                rc = svc_notify_order(s, NOTIFY_ORDER_VALIDATION_NEEDED, o->tenant_id, o->id, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->job_insert(ST(s), "validate", o->id, now, ei);
        if (rc != QERR_OK) {
                order_rec_free(o);
                return rc;
        }
        *out = o;
        return QERR_OK;
}

enum qerr service_order_get(struct service *s, int64_t id, struct order_rec **out,
                            struct qerr_info *ei)
{
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "read orders", ei);
        if (rc == QERR_OK)
                rc = svc_visible(s, "order", id, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->order_get(ST(s), svc_scope(s), id, out, ei);
        return rc;
}

enum qerr service_order_list(struct service *s, const struct order_query *q,
                             struct order_rec ***out, size_t *n, bool *more, struct qerr_info *ei)
{
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "list orders", ei);
        if (rc != QERR_OK)
                return rc;
        struct order_query mine = *q;
        mine.tenant = svc_scope(s);
        return ST(s)->ops->order_page(ST(s), &mine, out, n, more, ei);
}

/* Moves an order to a final state with its reason (inside a transaction):
 * closes its jobs and records the event. */
/* A proof order that failed or was cancelled: the revocation fails (the
 * certificate stays valid) or the reissue fails (the certificate is free
 * again). */
static enum qerr undo_subject(struct service *s, const struct order_rec *o, struct qerr_info *ei)
{
        struct cert_rec *c = NULL;
        enum qerr rc = QERR_OK;
        if (!strcmp(o->purpose, "revoke")) {
                int64_t rev = 0, cert = 0;
                int reason = 0;
                rc = ST(s)->ops->revocation_by_order(ST(s), o->id, &rev, &cert, &reason, ei);
                if (rc == QERR_NOT_FOUND)
                        return QERR_OK;
                if (rc == QERR_OK)
                        rc = ST(s)->ops->revocation_finish(ST(s), rev, "failed", qtime_now(), ei);
                if (rc == QERR_OK)
                        rc = svc_event(s, o->tenant_id, "revocation", rev, "pending", "failed",
                                       "control was not proved (order %lld); the certificate "
                                       "stays valid",
                                       (long long)o->id);
        } else if (!strcmp(o->purpose, "reissue")) {
                struct reissue_rec *act = NULL;
                size_t n = 0;
                rc = ST(s)->ops->reissue_active(ST(s), &act, &n, ei);
                for (size_t i = 0; rc == QERR_OK && i < n; i++) {
                        if (act[i].certificate_id != o->subject_id)
                                continue;
                        rc = ST(s)->ops->reissue_finish(ST(s), act[i].id, "failed", 0,
                                                        o->failure_code, qtime_now(), ei);
                        if (rc == QERR_OK)
                                rc = svc_event(s, o->tenant_id, "reissue", act[i].id, "in_progress",
                                               "failed", "order %lld: %s", (long long)o->id,
                                               o->failure_code[0] ? o->failure_code : "cancelled");
                }
                store_free_reissues(act, n);
        } else {
                return QERR_OK;
        }
        if (rc == QERR_OK)
                rc = ST(s)->ops->cert_get(ST(s), o->tenant_id, o->subject_id, &c, ei);
        if (rc == QERR_OK && (c->status == CERT_REVOCATION_PENDING || c->status == CERT_REISSUING))
                rc = svc_cert_move(s, c, CERT_ISSUED, ei, "%s did not complete (order %lld)",
                                   o->purpose, (long long)o->id);
        if (rc == QERR_OK && !strcmp(o->purpose, "revoke")) {
                char detail[QERR_MSG_MAX + 160];
                snprintf(detail, sizeof detail,
                         "control was not proved (order %lld%s%s%s%s); the certificate stays "
                         "valid",
                         (long long)o->id, o->failure_code[0] ? ": " : ", cancelled",
                         o->failure_code, o->failure_message ? ": " : "",
                         o->failure_message ? o->failure_message : "");
                struct svc_notice n = {.type = NOTIFY_CERT_REVOCATION_FAILED,
                                       .tenant_id = o->tenant_id,
                                       .cert_id = c->id,
                                       .order_id = o->id,
                                       .detail = detail};
                rc = svc_notify(s, &n, ei);
        }
        cert_rec_free(c);
        return rc;
}

/* Moves an order to a final state with its reason (inside a transaction):
 * closes its jobs and records the event. */
enum qerr svc_order_finish(struct service *s, struct order_rec *o, enum order_status to,
                           enum qerr code, const char *msg, struct qerr_info *ei)
{
        const char *from = order_status_name(o->status);
        o->status = to;
        o->updated_at = qtime_now();
        if (code != QERR_OK) {
                snprintf(o->failure_code, sizeof o->failure_code, "%s", qerr_code(code));
                free(o->failure_message);
                o->failure_message = strdup(msg ? msg : qerr_default_msg(code));
        }
        enum qerr rc = ST(s)->ops->order_update(ST(s), o, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->job_close_order(ST(s), o->id, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, o->tenant_id, "order", o->id, from, order_status_name(to),
                               "%s%s%s", code != QERR_OK ? qerr_code(code) : "",
                               code != QERR_OK ? ": " : "", msg ? msg : "");
        /* a rejection is told as review.decided */
        if (rc == QERR_OK && to == ORDER_FAILED && code != QERR_REVIEW_REJECTED)
                rc = svc_notify_order(s, NOTIFY_ORDER_VALIDATION_FAILED, o->tenant_id, o->id, ei);
        if (rc == QERR_OK && (to == ORDER_FAILED || to == ORDER_CANCELLED))
                rc = undo_subject(s, o, ei);
        return rc;
}

enum qerr service_order_cancel(struct service *s, int64_t id, struct order_rec **out,
                               struct qerr_info *ei)
{
        struct order_rec *o = NULL;
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "cancel orders", ei);
        if (rc == QERR_OK)
                rc = svc_visible(s, "order", id, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->begin(ST(s), ei);
        if (rc != QERR_OK)
                return rc;
        rc = ST(s)->ops->order_get(ST(s), svc_scope(s), id, &o, ei);
        if (rc == QERR_OK && strcmp(o->purpose, "issue") != 0)
                rc = qerr_set(ei, QERR_NOT_FOUND, "no order with id %lld", (long long)id);
        if (rc == QERR_OK && (o->status == ORDER_ISSUED || o->status == ORDER_FAILED ||
                              o->status == ORDER_CANCELLED || o->status == ORDER_ISSUING))
                rc = qerr_set(ei, QERR_ORDER_STATE,
                              "order %lld is %s and can no longer be cancelled", (long long)id,
                              order_status_name(o->status));
        if (rc == QERR_OK)
                rc = svc_order_finish(s, o, ORDER_CANCELLED, QERR_OK, "cancelled by the applicant",
                                      ei);
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
        if (rc != QERR_OK) {
                order_rec_free(o);
                return rc;
        }
        *out = o;
        return QERR_OK;
}

/* ---- reviews ---- */

enum qerr service_review_list(struct service *s, const char *status, struct review_rec **out,
                              size_t *n, struct qerr_info *ei)
{
        enum qerr rc = svc_require(s, SVC_REVIEWER | SVC_ADMIN, "read the review queue", ei);
        if (rc != QERR_OK)
                return rc;
        /* reviewers work the queue of every tenant */
        return ST(s)->ops->review_list(ST(s), svc_scope(s), status, out, n, ei);
}

/* Records the decision on `r` by the principal (never a name the caller
 * chose), inside the caller's transaction. */
static enum qerr record_decision(struct service *s, struct review_rec *r, bool approve,
                                 const char *reason, struct qerr_info *ei)
{
        snprintf(r->status, sizeof r->status, "%s", approve ? "approved" : "rejected");
        snprintf(r->reviewer, sizeof r->reviewer, "%s", s->who.name);
        r->reviewer_key = s->who.key_id;
        free(r->reason);
        r->reason = reason ? strdup(reason) : NULL;
        r->decided_at = qtime_now();
        return ST(s)->ops->review_decide(ST(s), r, ei);
}

/* An OV/EV revocation review (inside the caller's transaction): approved,
 * the certificate and its reissues are revoked and on the CRL; rejected,
 * the revocation fails and the certificate is valid again. */
static enum qerr decide_revocation(struct service *s, struct review_rec *r, bool approve,
                                   const char *reason, struct qerr_info *ei)
{
        int64_t cert_id = 0;
        int code = 0;
        char status[16] = "";
        struct cert_rec *c = NULL;
        enum qerr rc =
            ST(s)->ops->revocation_get(ST(s), r->revocation_id, &cert_id, &code, status, ei);
        if (rc == QERR_OK && strcmp(status, "pending") != 0)
                rc = qerr_set(ei, QERR_ORDER_STATE, "revocation %lld is %s, not pending",
                              (long long)r->revocation_id, status);
        if (rc == QERR_OK)
                rc = record_decision(s, r, approve, reason, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, r->tenant_id, "review", r->id, "pending", r->status,
                               "revocation review of revocation %lld%s%s",
                               (long long)r->revocation_id, reason ? ": " : "",
                               reason ? reason : "");
        if (rc == QERR_OK)
                rc = ST(s)->ops->cert_get(ST(s), r->tenant_id, cert_id, &c, ei);
        if (rc == QERR_OK && approve) {
                rc = svc_revoke_tree(s, c, code, r->revocation_id, NULL, NULL, ei);
        } else if (rc == QERR_OK) {
                rc = ST(s)->ops->revocation_finish(ST(s), r->revocation_id, "failed", qtime_now(),
                                                   ei);
                if (rc == QERR_OK)
                        rc = svc_event(s, r->tenant_id, "revocation", r->revocation_id, "pending",
                                       "failed", "the signed letter was rejected: %s", reason);
                if (rc == QERR_OK && c->status == CERT_REVOCATION_PENDING)
                        rc = svc_cert_move(s, c, CERT_ISSUED, ei, "revocation %lld rejected",
                                           (long long)r->revocation_id);
                if (rc == QERR_OK) {
                        char detail[700];
                        snprintf(detail, sizeof detail,
                                 "the signed letter of revocation %lld was rejected: %s; the "
                                 "certificate stays valid",
                                 (long long)r->revocation_id, reason ? reason : "");
                        struct svc_notice n = {.type = NOTIFY_CERT_REVOCATION_FAILED,
                                               .tenant_id = r->tenant_id,
                                               .cert_id = c->id,
                                               .review = r,
                                               .detail = detail};
                        rc = svc_notify(s, &n, ei);
                }
        }
        if (rc == QERR_OK) {
                struct svc_notice n = {.type = NOTIFY_REVIEW_DECIDED,
                                       .tenant_id = r->tenant_id,
                                       .cert_id = c->id,
                                       .review = r};
                rc = svc_notify(s, &n, ei);
        }
        cert_rec_free(c);
        return rc;
}

enum qerr service_review_decide(struct service *s, int64_t id, bool approve, const char *reason,
                                struct review_rec *out, struct qerr_info *ei)
{
        struct review_rec r;
        memset(&r, 0, sizeof r);
        struct order_rec *o = NULL;
        if (!approve && (!reason || !*reason))
                return qerr_set(ei, QERR_USAGE, "a rejection needs a reason (--reason TEXT)");
        if (reason && strlen(reason) > 500)
                return qerr_set(ei, QERR_USAGE, "the reason is longer than 500 characters");
        enum qerr rc = svc_require(s, SVC_REVIEWER | SVC_ADMIN, "decide reviews", ei);
        if (rc == QERR_OK)
                rc = svc_visible(s, "review", id, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->begin(ST(s), ei);
        if (rc != QERR_OK)
                return rc;
        rc = ST(s)->ops->review_get(ST(s), svc_scope(s), id, &r, ei);
        if (rc == QERR_OK && strcmp(r.status, "pending") != 0)
                rc = qerr_set(ei, QERR_ORDER_STATE, "review %lld was already %s", (long long)id,
                              r.status);
        /* four eyes: whoever applied (or asked to revoke) never decides */
        if (rc == QERR_OK && r.requested_by[0] && strcmp(r.requested_by, s->who.name) == 0)
                rc = qerr_set(ei, QERR_REVIEW_OWN,
                              "review %lld is of a request made by %s, who cannot decide it; "
                              "another reviewer must",
                              (long long)id, s->who.name);
        if (rc == QERR_OK && r.revocation_id) {
                rc = decide_revocation(s, &r, approve, reason, ei);
                goto done;
        }
        if (rc == QERR_OK)
                rc = ST(s)->ops->order_get(ST(s), r.tenant_id, r.order_id, &o, ei);
        if (rc == QERR_OK && o->status != ORDER_MANUAL_REVIEW)
                rc = qerr_set(ei, QERR_ORDER_STATE, "order %lld is %s, not waiting for review",
                              (long long)o->id, order_status_name(o->status));
        if (rc == QERR_OK)
                rc = record_decision(s, &r, approve, reason, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, r.tenant_id, "review", id, "pending", r.status,
                               "%s review of order %lld%s%s", r.kind, (long long)r.order_id,
                               reason ? ": " : "", reason ? reason : "");
        if (rc == QERR_OK && approve && strcmp(r.kind, "organization") == 0)
                rc = ST(s)->ops->org_approve(ST(s), o->tenant_id, o->org_hash, o->org_info, id,
                                             r.decided_at, ei);
        if (rc == QERR_OK && !approve)
                rc = svc_order_finish(s, o, ORDER_FAILED, QERR_REVIEW_REJECTED, reason, ei);
        /* approved: the validate job looks at the order again and moves on
         * (to the next review, or to issuance) */
        if (rc == QERR_OK && approve)
                rc = ST(s)->ops->job_insert(ST(s), "validate", o->id, qtime_now(), ei);
        if (rc == QERR_OK) {
                struct svc_notice n = {.type = NOTIFY_REVIEW_DECIDED,
                                       .tenant_id = r.tenant_id,
                                       .order_id = o->id,
                                       .review = &r};
                rc = svc_notify(s, &n, ei);
        }
done:
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
        order_rec_free(o);
        if (rc != QERR_OK) {
                review_rec_clear(&r);
                return rc;
        }
        if (out)
                *out = r;
        else
                review_rec_clear(&r);
        return QERR_OK;
}
