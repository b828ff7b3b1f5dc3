/*
 * svc_reissue.c - reissue (RULES.md §6): a new certificate for the names of
 * an issued one, keeping its not-after, through the two-phase path of
 * svc_issue.c (reserve, sign, store). A reissue that needs validation goes
 * through a proof order (svc_order.c) and the job queue instead.
 */
#include "svc_issue_int.h"

#include "../notify/notify.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/testhook.h"
#include "../pki/pki_csr.h"
#include "../pki/pki_pem.h"
#include "../policy/policy.h"

/* ---- reissue ---- */

/* JSON array of the registered domains of `c`'s names. */
static char *registered_domains(const struct cert_rec *c)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < c->nnames; i++) {
                char rd[QUILL_MAX_NAME_LEN + 1];
                if (!policy_registered_domain(c->names[i], rd, sizeof rd))
                        continue; /* IP literals and the like: no registered domain */
                bool seen = false;
                size_t j;
                json_t *v;
                json_array_foreach(a, j, v) seen = seen || strcmp(json_string_value(v), rd) == 0;
                if (!seen)
                        json_array_append_new(a, json_string(rd));
        }
        char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
        json_decref(a);
        return s;
}

/* Is another certificate under one of `mine`'s registered domains being
 * reissued? Fills the facts for policy_may_reissue. */
static enum qerr domain_lock(struct service *s, const struct cert_rec *c, const char *mine,
                             int64_t *locked_by, bool *other_tenant, char *domain, size_t dsz,
                             struct qerr_info *ei)
{
        struct reissue_rec *act = NULL;
        size_t n = 0;
        *locked_by = 0;
        *other_tenant = false;
        enum qerr rc = ST(s)->ops->reissue_active(ST(s), &act, &n, ei);
        if (rc != QERR_OK)
                return rc;
        json_t *a = json_loads(mine, 0, NULL);
        for (size_t i = 0; i < n && !*locked_by; i++) {
                if (act[i].certificate_id == c->id)
                        continue; /* the certificate's own reissue: REISSUE_IN_PROGRESS */
                json_t *b = json_loads(act[i].registered_domains, 0, NULL);
                size_t x, y;
                json_t *va, *vb;
                json_array_foreach(a, x, va) json_array_foreach(b, y, vb)
                {
                        if (!*locked_by &&
                            strcmp(json_string_value(va), json_string_value(vb)) == 0) {
                                /* the lock is global (it protects the domain);
                                 * who holds it is told only to its own tenant */
                                *locked_by = act[i].certificate_id;
                                *other_tenant = act[i].tenant_id != c->tenant_id;
                                snprintf(domain, dsz, "%s", json_string_value(va));
                        }
                }
                json_decref(b);
        }
        json_decref(a);
        store_free_reissues(act, n);
        return QERR_OK;
}

static bool same_names(char **a, size_t na, char **b, size_t nb)
{
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++) {
                bool found = false;
                for (size_t j = 0; j < nb && !found; j++)
                        found = strcmp(a[i], b[j]) == 0;
                if (!found)
                        return false;
        }
        return true;
}

static const char *csr_source_name(enum reissue_csr c)
{
        return c == REISSUE_SAME_CSR     ? "original"
               : c == REISSUE_PASTED_CSR ? "pasted"
                                         : "generated";
}

/* Marks the reissue failed and the original issued again (unless it moved on
 * meanwhile, e.g. was revoked); keeps `rc`. */
static enum qerr reissue_failed(struct service *s, int64_t tenant_id, int64_t cert_id, int64_t rid,
                                enum qerr rc, const struct qerr_info *why)
{
        struct qerr_info ei2;
        struct cert_rec *fresh = NULL;
        if (ST(s)->ops->begin(ST(s), &ei2) != QERR_OK)
                return rc;
        enum qerr r2 =
            ST(s)->ops->reissue_finish(ST(s), rid, "failed", 0, qerr_code(rc), qtime_now(), &ei2);
        if (r2 == QERR_OK)
                r2 = svc_event(s, tenant_id, "reissue", rid, "in_progress", "failed", "%s: %s",
                               qerr_code(rc), qerr_message(why));
        if (r2 == QERR_OK)
                r2 = ST(s)->ops->cert_get(ST(s), tenant_id, cert_id, &fresh, &ei2);
        if (r2 == QERR_OK && fresh->status == CERT_REISSUING)
                r2 = svc_cert_move(s, fresh, CERT_ISSUED, &ei2, "reissue %lld failed",
                                   (long long)rid);
        cert_rec_free(fresh);
        if (r2 == QERR_OK)
                svc_commit(s, &ei2);
        else
                svc_abort(s, r2);
        return rc;
}

/* Stores the reissued certificate `c` and closes reissue `rid`, in one
 * transaction. The original is read again first: if it was revoked while
 * the reissue ran, the new certificate is revoked with it (revoking the
 * original revokes every certificate reissued from it) and its CRL is
 * queued in the same transaction. *key_blocked (may be NULL): the key was
 * blocked while it was signed, and the new certificate revoked at once. */
enum qerr svc_reissue_complete_rid(struct service *s, int64_t orig_id, int64_t rid,
                                   struct cert_rec *c, const char *event, bool *key_blocked,
                                   struct qerr_info *ei)
{
        struct cert_rec *fresh = NULL;
        struct revoke_run run;
        memset(&run, 0, sizeof run);
        bool blocked = false;
        enum qerr rc = ST(s)->ops->cert_get(ST(s), c->tenant_id, orig_id, &fresh, ei);
        bool revoked = rc == QERR_OK &&
                       (fresh->status == CERT_REVOKED || fresh->status == CERT_REVOCATION_PENDING);
        if (rc == QERR_OK)
                rc = ST(s)->ops->cert_insert(ST(s), c, ei);
        if (rc == QERR_OK)
                rc = svc_crl_note_issued(s, c, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->reissue_finish(ST(s), rid, "done", c->id, NULL, qtime_now(), ei);
        if (rc == QERR_OK)
                rc = svc_event(s, c->tenant_id, "certificate", c->id, NULL, event,
                               "%sreissue %lld of certificate %lld; serial %s",
                               strcmp(event, "recovered") ? ""
                                                          : "recovered from the signer's journal: ",
                               (long long)rid, (long long)orig_id, c->serial);
        if (rc == QERR_OK)
                rc = svc_event(s, c->tenant_id, "reissue", rid, "in_progress", "done",
                               "new certificate %lld", (long long)c->id);
        if (rc == QERR_OK) {
                char detail[160];
                snprintf(detail, sizeof detail, "certificate %lld was reissued as certificate %lld",
                         (long long)orig_id, (long long)c->id);
                struct svc_notice n = {.type = NOTIFY_CERT_REISSUED,
                                       .tenant_id = c->tenant_id,
                                       .cert_id = c->id,
                                       .detail = detail};
                rc = svc_notify(s, &n, ei);
        }
        if (rc == QERR_OK && revoked) {
                rc = svc_revoke_into(s, c, fresh->revoke_reason >= 0 ? fresh->revoke_reason : 0, 0,
                                     0, NULL, &run, ei);
                if (rc == QERR_OK)
                        rc = svc_revoke_finish(s, &run, ei);
        } else if (rc == QERR_OK) {
                /* issue 7: signed outside any transaction; its key may have
                 * been blocked meanwhile */
                rc = svc_key_recheck_tx(s, c, &blocked, ei);
        }
        if (rc == QERR_OK && fresh->status == CERT_REISSUING)
                rc = svc_cert_move(s, fresh, CERT_ISSUED, ei, "reissued as certificate %lld",
                                   (long long)c->id);
        if (key_blocked)
                *key_blocked = blocked;
        svc_revoke_run_free(&run);
        cert_rec_free(fresh);
        return rc;
}

/* Stores the reissued certificate `c` and closes reissue `rid`, in one
 * transaction. The original is read again first: if it was revoked while
 * the reissue ran, the new certificate is revoked with it (revoking the
 * original revokes every certificate reissued from it) and the CRL is signed
 * in the same transaction. */
static enum qerr reissue_complete(struct service *s, int64_t orig_id, int64_t rid,
                                  struct cert_rec *c, bool *key_blocked, struct qerr_info *ei)
{
        enum qerr rc = ST(s)->ops->begin(ST(s), ei);
        if (rc != QERR_OK)
                return rc;
        rc = svc_reissue_complete_rid(s, orig_id, rid, c, "issued", key_blocked, ei);
        if (rc != QERR_OK)
                return svc_abort(s, rc);
        return svc_commit(s, ei);
}

enum qerr svc_reissue_complete_tx(struct service *s, int64_t orig_id, struct cert_rec *c,
                                  struct qerr_info *ei)
{
        struct reissue_rec *act = NULL;
        size_t n = 0;
        int64_t rid = 0;
        enum qerr rc = ST(s)->ops->reissue_active(ST(s), &act, &n, ei);
        for (size_t i = 0; rc == QERR_OK && i < n; i++)
                if (act[i].certificate_id == orig_id)
                        rid = act[i].id;
        store_free_reissues(act, n);
        if (rc == QERR_OK && !rid)
                rc = qerr_set(ei, QERR_ORDER_STATE,
                              "certificate %lld has no reissue in progress any more",
                              (long long)orig_id);
        if (rc == QERR_OK)
                rc = svc_reissue_complete_rid(s, orig_id, rid, c, "issued", NULL, ei);
        return rc;
}

/* The CSR (and new key) of a reissue that validates again: a pasted CSR
 * naming exactly the certificate's names, a new key, or (issue 7: its
 * validation too old to reuse) the original CSR. */
static enum qerr revalidation_csr(const struct reissue_req *r, const struct cert_rec *orig,
                                  struct qbuf *csr_pem, EVP_PKEY **key, struct qerr_info *ei)
{
        if (r->csr_source == REISSUE_NEW_KEY)
                return svc_new_key_and_csr(r->key_alg, orig->names, orig->nnames, key, csr_pem, ei);
        if (r->csr_source == REISSUE_SAME_CSR && !orig->csr_pem)
                return qerr_set(ei, QERR_POLICY_DENIED,
                                "no original CSR is stored for this certificate; use --csr or "
                                "--key");
        const uint8_t *in =
            r->csr_source == REISSUE_SAME_CSR ? (const uint8_t *)orig->csr_pem : r->csr;
        size_t inlen = r->csr_source == REISSUE_SAME_CSR ? strlen(orig->csr_pem) : r->csr_len;
        struct csr_info csr;
        char **nn = NULL;
        size_t nc = 0;
        enum qerr rc = pki_csr_parse(in, inlen, &csr, ei);
        if (rc != QERR_OK)
                return rc;
        rc = svc_normalise_names((const char *const *)csr.names, csr.nnames, orig->profile, &nn,
                                 &nc, ei);
        if (rc == QERR_OK && !same_names(nn, nc, orig->names, orig->nnames))
                rc = qerr_set(ei, QERR_POLICY_DENIED,
                              "a reissue keeps the certificate's names; the CSR names others. "
                              "Apply for a new certificate to change names");
        if (rc == QERR_OK)
                rc = pki_csr_pem(csr.req, csr_pem, ei);
        svc_free_names(nn, nc);
        csr_info_clear(&csr);
        return rc;
}

enum qerr service_cert_reissue(struct service *s, const struct reissue_req *r,
                               struct cert_rec **out, int64_t *proof_order, struct qerr_info *ei)
{
        if (proof_order)
                *proof_order = 0;
        if (out)
                *out = NULL;
        struct cert_rec *orig = NULL, *c = NULL;
        struct csr_info csr;
        memset(&csr, 0, sizeof csr);
        EVP_PKEY *newkey = NULL, *pub = NULL;
        char *domains = NULL;
        struct qbuf newcsr;
        qbuf_init(&newcsr, MAX_CSR_BYTES);
        int64_t rid = 0;
        if (!r->reason || !*r->reason)
                return qerr_set(ei, QERR_USAGE, "a reissue needs a reason (--reason TEXT)");
        if (strlen(r->reason) > 500)
                return qerr_set(ei, QERR_USAGE, "the reason is longer than 500 characters");
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "reissue certificates", ei);
        if (rc == QERR_OK)
                rc = svc_check_key_password(r->key_password, ei);
        if (rc == QERR_OK)
                rc = svc_visible(s, "certificate", r->id, ei);
        if (rc != QERR_OK)
                return rc;
        /* a reissue left behind by a dead process must not lock this one out */
        if ((rc = service_recover(s, ei)) != QERR_OK)
                return rc;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                return rc;
        /* facts and the in-progress mark, under the write lock */
        rc = ST(s)->ops->cert_get(ST(s), svc_scope(s), r->id, &orig, ei);
        if (rc == QERR_OK && orig->status == CERT_DELETED)
                rc = qerr_set(ei, QERR_NOT_FOUND, "certificate %lld was deleted", (long long)r->id);
        if (rc == QERR_OK)
                rc = policy_base_url_ok(orig->profile, s->cfg->server_base_url,
                                        s->cfg->validation_allow_private_addresses, ei);
        int lineage = 0;
        int64_t locked_by = 0;
        bool locked_elsewhere = false;
        char locked_domain[QUILL_MAX_NAME_LEN + 1] = "";
        if (rc == QERR_OK && !(domains = registered_domains(orig)))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        if (rc == QERR_OK)
                rc = ST(s)->ops->cert_lineage_reissues(ST(s), orig->id, &lineage, ei);
        if (rc == QERR_OK)
                rc = domain_lock(s, orig, domains, &locked_by, &locked_elsewhere, locked_domain,
                                 sizeof locked_domain, ei);
        if (rc == QERR_OK) {
                struct reissue_facts f = {.cert = orig,
                                          .now = qtime_now(),
                                          .lineage_reissues = lineage,
                                          .locked_by_cert = locked_by,
                                          .locked_domain = locked_domain,
                                          .locked_by_other_tenant = locked_elsewhere};
                rc = policy_may_reissue(&f, ei);
        }
        /* issue 7: a public certificate names public names only; one made
         * before that rule (under .test, say) is not reissued or validated
         * again */
        for (size_t i = 0;
             rc == QERR_OK && cert_profile_is_public(orig->profile) && i < orig->nnames; i++)
                rc = policy_check_public_name(orig->names[i], ei);
        /* §6: a public certificate is validated again unless the CSR is the
         * original or the certificate is less than 3 days old, and (issue 7,
         * BR 4.2.1) in any case once its names' validation is older than the
         * reuse period in force today */
        qtime_t validated_at = 0;
        if (rc == QERR_OK && cert_profile_is_public(orig->profile))
                rc = svc_names_validated_at(s, orig->tenant_id, orig->names, orig->nnames,
                                            &validated_at, ei);
        bool revalidate = rc == QERR_OK && cert_profile_is_public(orig->profile) &&
                          policy_reissue_needs_validation(
                              r->csr_source == REISSUE_SAME_CSR, orig->not_before, validated_at,
                              s->cfg->validation_reuse_days, qtime_now());
        if (revalidate && r->method && strcmp(r->method, "dns") && strcmp(r->method, "file"))
                rc = qerr_set(ei, QERR_USAGE, "--method must be dns or file");
        if (revalidate && rc == QERR_OK)
                rc = revalidation_csr(r, orig, &newcsr, &newkey, ei);
        /* issue 7: a blocked key is refused before anything is recorded (a
         * key the service generates is checked when it signs) */
        if (rc == QERR_OK && revalidate && newcsr.len)
                rc = svc_csr_key_check(s, newcsr.data, newcsr.len, ei);
        else if (rc == QERR_OK && r->csr_source == REISSUE_SAME_CSR && orig->csr_pem)
                rc = svc_csr_key_check(s, orig->csr_pem, strlen(orig->csr_pem), ei);
        else if (rc == QERR_OK && r->csr_source == REISSUE_PASTED_CSR)
                rc = svc_csr_key_check(s, r->csr, r->csr_len, ei);
        struct reissue_rec rr;
        memset(&rr, 0, sizeof rr);
        if (rc == QERR_OK) {
                rr.certificate_id = orig->id;
                rr.tenant_id = orig->tenant_id;
                snprintf(rr.csr_source, sizeof rr.csr_source, "%s", csr_source_name(r->csr_source));
                rr.reason = (char *)r->reason;
                rr.registered_domains = domains;
                rr.created_at = qtime_now();
                /* done here and now: this process owns it; validating again:
                 * the job queue does (no owner to outlive) */
                if (!revalidate)
                        svc_owner_self(rr.owner, sizeof rr.owner);
                rc = ST(s)->ops->reissue_insert(ST(s), &rr, ei);
                rid = rr.id;
        }
        if (rc == QERR_OK)
                rc = svc_event(s, orig->tenant_id, "reissue", rid, NULL, "in_progress",
                               "reissue of certificate %lld (%s CSR): %s", (long long)orig->id,
                               rr.csr_source, r->reason);
        if (rc == QERR_OK)
                rc = svc_cert_move(s, orig, CERT_REISSUING, ei, "reissue %lld requested: %s",
                                   (long long)rid, r->reason);
        if (rc == QERR_OK && revalidate) {
                struct order_rec *po = NULL;
                /* the original CSR (issue 7): the reissue keeps the stored key,
                 * sealed to the proof order (or, under the applicant's
                 * password, copied as it is) */
                bool same = r->csr_source == REISSUE_SAME_CSR && orig->key_blob;
                bool pw = same && orig->key_protection == KEYPROT_PASSWORD;
                EVP_PKEY *kept = NULL;
                if (same && !pw)
                        rc = svc_open_key(s, orig, NULL, &kept, ei);
                if (rc == QERR_OK)
                        rc = svc_proof_order(s, "reissue", orig, r->method ? r->method : "dns",
                                             qtime_now() + s->cfg->validation_deadline_seconds,
                                             qbuf_str(&newcsr), newkey ? newkey : kept,
                                             r->key_password, &po, ei);
                if (rc == QERR_OK && pw) {
                        if (!(po->key_blob = malloc(orig->key_blob_len))) {
                                rc = qerr_set(ei, QERR_NOMEM, NULL);
                        } else {
                                memcpy(po->key_blob, orig->key_blob, orig->key_blob_len);
                                po->key_blob_len = orig->key_blob_len;
                                po->key_protection = KEYPROT_PASSWORD;
                                rc = ST(s)->ops->order_update(ST(s), po, ei);
                        }
                }
                if (rc == QERR_OK && proof_order)
                        *proof_order = po->id;
                EVP_PKEY_free(kept);
                order_rec_free(po);
        }
        if (rc != QERR_OK) {
                svc_abort(s, rc);
                goto out;
        }
        if ((rc = svc_commit(s, ei)) != QERR_OK || revalidate)
                goto out;

        /* the CSR choice */
        const char *csr_pem = NULL;
        const char *alg = orig->key_algorithm;
        if (r->csr_source == REISSUE_SAME_CSR) {
                if (!orig->csr_pem) {
                        rc = qerr_set(ei, QERR_POLICY_DENIED,
                                      "no original CSR is stored for "
                                      "this certificate; use --csr or "
                                      "--key");
                } else if ((rc = pki_csr_parse(orig->csr_pem, strlen(orig->csr_pem), &csr, ei)) ==
                           QERR_OK) {
                        pub = csr.key;
                        csr_pem = orig->csr_pem;
                }
        } else if (r->csr_source == REISSUE_PASTED_CSR) {
                rc = pki_csr_parse(r->csr, r->csr_len, &csr, ei);
                if (rc == QERR_OK) {
                        char **nn = NULL;
                        size_t nc = 0;
                        rc = svc_normalise_names((const char *const *)csr.names, csr.nnames,
                                                 orig->profile, &nn, &nc, ei);
                        if (rc == QERR_OK && !same_names(nn, nc, orig->names, orig->nnames))
                                rc = qerr_set(ei, QERR_POLICY_DENIED,
                                              "a reissue keeps the certificate's names; the CSR "
                                              "names others. Apply for a new certificate to "
                                              "change names");
                        svc_free_names(nn, nc);
                        pub = csr.key;
                        alg = csr.key_algorithm;
                        csr_pem = NULL; /* stored below in PEM form */
                }
        } else {
                alg = r->key_alg;
                rc = svc_new_key_and_csr(r->key_alg, orig->names, orig->nnames, &newkey, &newcsr,
                                         ei);
                pub = newkey;
                csr_pem = qbuf_str(&newcsr);
        }
        if (rc == QERR_OK && r->csr_source == REISSUE_PASTED_CSR) {
                rc = pki_csr_pem(csr.req, &newcsr, ei);
                csr_pem = qbuf_str(&newcsr);
        }
        /* The private profile trusts the operator; a public certificate got
         * here only when §6 lets the reissue skip validation (checked above):
         * its names stand validated. */
        /* same CSR, same key: the new certificate keeps the stored key */
        EVP_PKEY *samekey = NULL;
        bool keep_key = !newkey && r->csr_source == REISSUE_SAME_CSR && orig->key_blob;
        if (rc == QERR_OK && keep_key && orig->key_protection != KEYPROT_PASSWORD)
                rc = svc_open_key(s, orig, NULL, &samekey, ei);
        if (rc == QERR_OK) {
                struct issue_input in = {.tenant_id = orig->tenant_id,
                                         .tenant = orig->tenant,
                                         .pub = pub,
                                         .key_alg = alg,
                                         .names = orig->names,
                                         .nnames = orig->nnames,
                                         .profile = orig->profile,
                                         .not_after = orig->not_after,
                                         .parent_id = orig->id,
                                         .csr_pem = csr_pem,
                                         .validated = true,
                                         .free_cert = orig->free_cert,
                                         .purpose = "reissue",
                                         .reissue_id = rid,
                                         .key = newkey ? newkey : samekey,
                                         .key_password = newkey ? r->key_password : NULL};
                if (keep_key && orig->key_protection == KEYPROT_PASSWORD) {
                        in.key_pem_pw = orig->key_blob;
                        in.key_pem_pw_len = orig->key_blob_len;
                }
                char org[520];
                svc_org_of_cert(orig, org, sizeof org);
                in.org = org[0] ? org : NULL;
                rc = svc_issue_one(s, &in, &c, ei);
        }
        EVP_PKEY_free(samekey);
        if (rc != QERR_OK) {
                struct qerr_info why = *ei;
                rc = reissue_failed(s, orig->tenant_id, orig->id, rid, rc, &why);
                goto out;
        }
        QUILL_TEST_PAUSE("reissue_signed");
        bool key_blocked = false;
        rc = reissue_complete(s, orig->id, rid, c, &key_blocked, ei);
        if (rc != QERR_OK && rc != QERR_CERT_RECOVERED) {
                /* signed, not stored: the reissue fails, and the certificate
                 * is left to reconciliation, which stores it revoked */
                struct qerr_info why = *ei;
                rc = reissue_failed(s, orig->tenant_id, orig->id, rid, rc, &why);
                svc_issue_store_failed(s, c->serial, c->tenant_id);
        } else if (rc == QERR_OK && key_blocked) {
                rc = qerr_set(ei, QERR_KEY_BLOCKED,
                              "the key was reported compromised while this reissue ran; the "
                              "reissued certificate %lld was revoked at once (keyCompromise). "
                              "Reissue again with a new key (--key ALG or a new CSR)",
                              (long long)c->id);
        } else if (rc == QERR_OK && c->status == CERT_REVOKED) {
                /* A revocation of the original won the race: the new
                 * certificate is stored (nothing signed is lost) and revoked
                 * with it, and this reissue reports that it lost. */
                rc = qerr_set(ei, QERR_REISSUE_STATUS,
                              "certificate %lld was revoked while this reissue ran; the reissued "
                              "certificate %lld was revoked with it (revoking the original "
                              "revokes every certificate reissued from it)",
                              (long long)orig->id, (long long)c->id);
        }
out:
        csr_info_clear(&csr);
        EVP_PKEY_free(newkey);
        free(domains);
        qbuf_free(&newcsr);
        cert_rec_free(orig);
        if (rc != QERR_OK) {
                cert_rec_free(c);
                return rc;
        }
        *out = c;
        return QERR_OK;
}
