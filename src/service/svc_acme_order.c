/*
 * svc_acme_order.c - ACME orders, authorizations and challenges, finalize,
 * certificate download and revokeCert (service_acme.h).
 *
 * An order's status is derived when read: from its authorizations before
 * finalize (pending, ready, invalid), from the service order it is linked to
 * after (processing while validating, in review or issuing; valid once
 * issued; invalid when it failed). Only what cannot be derived is stored.
 */
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/b64.h"
#include "../base/log.h"
#include "../base/netaddr.h"
#include "../pki/pki_csr.h"
#include "../pki/pki_pem.h"
#include "../policy/policy.h"
#include "../policy/profile.h"
#include "service_acme.h"
#include "service_internal.h"

#define ORDER_LIFETIME (7 * QTIME_DAY)
#define AUTHZ_PENDING_LIFETIME (7 * QTIME_DAY)
#define RETRY_AFTER_PROCESSING 2

static const char *const chall_names[ACME_CHALL__COUNT] = {"http-01", "dns-01", "tls-alpn-01"};

const char *acme_chall_name(enum acme_chall c)
{
        return (unsigned)c < ACME_CHALL__COUNT ? chall_names[c] : "?";
}

bool acme_chall_from_name(const char *s, enum acme_chall *out)
{
        for (int i = 0; i < ACME_CHALL__COUNT; i++)
                if (!strcmp(s, chall_names[i])) {
                        *out = (enum acme_chall)i;
                        return true;
                }
        return false;
}

bool acme_name_is_ip(const char *name)
{
        struct netaddr a;
        return netaddr_parse(name, &a);
}

bool acme_chall_offered(enum acme_chall c, const struct acme_authz_rec *z)
{
        /* RFC 8555 8.3/8.4, RFC 8737 3, RFC 8738 7: a wildcard only by
         * dns-01; an IP address never by dns-01 */
        if (c == ACME_DNS01)
                return !acme_name_is_ip(z->name);
        return !z->wildcard;
}

void acme_key_authorization(const char *token, const char *thumbprint, char *out, size_t sz)
{
        snprintf(out, sz, "%s.%s", token, thumbprint);
}

void acme_order_view_clear(struct acme_order_view *v)
{
        if (v)
                acme_order_clear(&v->o);
}

/* ---- reading ---- */

static bool authz_dead(const struct acme_authz_rec *z, qtime_t now)
{
        return strcmp(z->status, "pending") && strcmp(z->status, "valid") ? true
                                                                          : z->expires_at <= now;
}

/* An authorization past its expiry reads as expired. */
static void authz_effective(struct acme_authz_rec *z, qtime_t now)
{
        if ((!strcmp(z->status, "pending") || !strcmp(z->status, "valid")) && z->expires_at <= now)
                snprintf(z->status, sizeof z->status, "expired");
}

static enum qerr view_fill(struct service *s, struct acme_order_view *v, struct qerr_info *ei)
{
        qtime_t now = qtime_now();
        struct acme_order_rec *o = &v->o;
        v->cert_id = 0;
        v->error_code[0] = v->error_detail[0] = 0;
        if (o->order_id) {
                struct order_rec *so = NULL;
                enum qerr rc = ST(s)->ops->order_get(ST(s), 0, o->order_id, &so, ei);
                if (rc != QERR_OK)
                        return rc;
                const char *st = "processing";
                if (so->status == ORDER_ISSUED) {
                        st = "valid";
                        v->cert_id = so->certificate_id;
                } else if (so->status == ORDER_FAILED || so->status == ORDER_CANCELLED) {
                        st = "invalid";
                        snprintf(v->error_code, sizeof v->error_code, "%s",
                                 so->failure_code[0] ? so->failure_code : "order_not_allowed");
                        snprintf(v->error_detail, sizeof v->error_detail, "%s",
                                 so->failure_message ? so->failure_message : "");
                }
                snprintf(v->status, sizeof v->status, "%s", st);
                order_rec_free(so);
                return QERR_OK;
        }
        if (!strcmp(o->status, "invalid")) {
                snprintf(v->status, sizeof v->status, "invalid");
                snprintf(v->error_code, sizeof v->error_code, "%s", o->error_code);
                snprintf(v->error_detail, sizeof v->error_detail, "%s",
                         o->error_detail ? o->error_detail : "");
                return QERR_OK;
        }
        bool all_valid = true, dead = o->expires_at <= now;
        for (size_t i = 0; i < o->nauthz && !dead; i++) {
                struct acme_authz_rec z;
                enum qerr rc = ST(s)->ops->acme_authz_get(ST(s), o->authz[i], &z, ei);
                if (rc != QERR_OK)
                        return rc;
                if (authz_dead(&z, now)) {
                        dead = true;
                        snprintf(v->error_code, sizeof v->error_code, "%s",
                                 z.error_code[0] ? z.error_code : "validation_expired");
                        snprintf(v->error_detail, sizeof v->error_detail, "%s%s%s",
                                 z.wildcard ? "*." : "", z.name,
                                 z.error_detail ? z.error_detail : ": authorization not valid");
                }
                all_valid = all_valid && !strcmp(z.status, "valid");
                acme_authz_clear(&z);
        }
        snprintf(v->status, sizeof v->status, "%s",
                 dead        ? "invalid"
                 : all_valid ? "ready"
                             : "pending");
        if (dead && !v->error_code[0])
                snprintf(v->error_code, sizeof v->error_code, "order_not_allowed");
        return QERR_OK;
}

static enum qerr order_load(struct service *s, const struct acme_account_rec *a, int64_t id,
                            struct acme_order_view *v, struct qerr_info *ei)
{
        memset(v, 0, sizeof *v);
        enum qerr rc = ST(s)->ops->acme_order_get(ST(s), id, &v->o, ei);
        if (rc == QERR_OK && v->o.account_id != a->id) {
                acme_order_clear(&v->o);
                return qerr_set(ei, QERR_NOT_FOUND, "no such order of this account");
        }
        if (rc == QERR_OK && (rc = view_fill(s, v, ei)) != QERR_OK)
                acme_order_clear(&v->o);
        return rc;
}

enum qerr service_acme_order_get(struct service *s, const struct acme_account_rec *a, int64_t id,
                                 struct acme_order_view *out, struct qerr_info *ei)
{
        return order_load(s, a, id, out, ei);
}

enum qerr service_acme_order_list(struct service *s, const struct acme_account_rec *a,
                                  int64_t before_id, size_t limit, int64_t **ids, size_t *n,
                                  struct qerr_info *ei)
{
        return ST(s)->ops->acme_order_ids(ST(s), a->id, before_id, limit, ids, n, ei);
}

enum qerr service_acme_authz_get(struct service *s, const struct acme_account_rec *a, int64_t id,
                                 struct acme_authz_rec *out, struct qerr_info *ei)
{
        enum qerr rc = ST(s)->ops->acme_authz_get(ST(s), id, out, ei);
        if (rc == QERR_OK && out->account_id != a->id) {
                acme_authz_clear(out);
                return qerr_set(ei, QERR_NOT_FOUND, "no such authorization of this account");
        }
        if (rc == QERR_OK)
                authz_effective(out, qtime_now());
        return rc;
}

/* ---- newOrder ---- */

static enum qerr new_token(char *out, size_t sz, struct qerr_info *ei)
{
        uint8_t r[32];
        struct qbuf b;
        qbuf_init(&b, 64);
        if (RAND_bytes(r, sizeof r) != 1 || !b64url_encode(r, sizeof r, &b)) {
                qbuf_free(&b);
                return qerr_set(ei, QERR_INTERNAL, "no random bytes");
        }
        snprintf(out, sz, "%s", qbuf_str(&b));
        qbuf_free(&b);
        return QERR_OK;
}

static enum qerr rate_check(struct service *s, const struct acme_account_rec *a, bool order,
                            long *retry_after, struct qerr_info *ei)
{
        long lim_o = s->cfg->acme_orders_per_hour, lim_f = s->cfg->acme_failed_validations_per_hour;
        if ((order && lim_o <= 0) || (!order && lim_f <= 0))
                return QERR_OK;
        int64_t no = 0, nf = 0;
        enum qerr rc = ST(s)->ops->acme_counts(ST(s), a->id, qtime_now() - 3600, &no, &nf, ei);
        if (rc != QERR_OK)
                return rc;
        if (order && no >= lim_o) {
                *retry_after = 60;
                return qerr_set(ei, QERR_RATE_LIMITED,
                                "this account made %lld orders in the last hour, the most "
                                "[acme] orders_per_hour allows; try again later",
                                (long long)no);
        }
        if (!order && nf >= lim_f) {
                *retry_after = 60;
                return qerr_set(ei, QERR_RATE_LIMITED,
                                "this account had %lld failed validations in the last hour, the "
                                "most [acme] failed_validations_per_hour allows; fix the "
                                "challenge response and try again later",
                                (long long)nf);
        }
        return QERR_OK;
}

static enum qerr order_names(struct service *s, const struct issue_profile *p,
                             const struct acme_new_order_req *r, char ***out, size_t *nout,
                             struct qerr_info *ei)
{
        if (r->n == 0)
                return qerr_set(ei, QERR_MALFORMED, "an order needs at least one identifier");
        if (r->n > QUILL_MAX_NAMES)
                return qerr_set(ei, QERR_POLICY_DENIED, "at most %d identifiers per order",
                                QUILL_MAX_NAMES);
        char **v = calloc(r->n, sizeof *v);
        size_t k = 0;
        if (!v)
                return qerr_set(ei, QERR_NOMEM, NULL);
        enum qerr rc = QERR_OK;
        for (size_t i = 0; rc == QERR_OK && i < r->n; i++) {
                char norm[QUILL_MAX_NAME_LEN + 1];
                bool want_ip = r->ip && r->ip[i];
                /* the identifier's type must say what its value is */
                if (want_ip != acme_name_is_ip(r->names[i])) {
                        rc = qerr_set(ei, QERR_MALFORMED,
                                      want_ip ? "an identifier of type ip must hold an IP address"
                                              : "an IP address must be ordered as an identifier "
                                                "of type ip (RFC 8738)");
                        break;
                }
                rc = policy_profile_check_name(p, r->names[i],
                                               s->cfg->validation_allow_private_addresses, norm,
                                               sizeof norm, ei);
                bool dup = false;
                for (size_t j = 0; rc == QERR_OK && j < k; j++)
                        dup = dup || !strcmp(v[j], norm);
                if (rc == QERR_OK && !dup && !(v[k++] = strdup(norm)))
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
        }
        if (rc != QERR_OK) {
                for (size_t i = 0; i < k; i++)
                        free(v[i]);
                free(v);
                return rc;
        }
        *out = v;
        *nout = k;
        return QERR_OK;
}

enum qerr service_acme_order_new(struct service *s, const struct acme_account_rec *a,
                                 const struct acme_new_order_req *r, struct acme_order_view *out,
                                 long *retry_after, struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        *retry_after = 0;
        struct acme_order_rec *o = &out->o;
        qtime_t now = qtime_now();
        const struct issue_profile *prof = NULL;
        enum qerr rc =
            policy_profile_lookup(r->profile && *r->profile ? r->profile : NULL, &prof, ei);
        if (rc != QERR_OK) {
                char why[QERR_MSG_MAX];
                snprintf(why, sizeof why, "%s", qerr_message(ei));
                return qerr_set(ei, QERR_ACME_PROFILE, "%s", why);
        }
        bool replacing = r->replaces && *r->replaces;
        if (replacing && strlen(r->replaces) >= sizeof o->replaces)
                return qerr_set(ei, QERR_ACME_REPLACES, "replaces is too long");
        /* a replacement (RFC 9773) is exempt from the rate limits */
        rc = replacing ? svc_acme_check_replaces(s, a, r->replaces, ei)
                       : rate_check(s, a, true, retry_after, ei);
        if (rc == QERR_OK)
                rc = policy_base_url_ok(prof->type, s->cfg->server_base_url,
                                        s->cfg->validation_allow_private_addresses, ei);
        if (rc == QERR_OK)
                rc = order_names(s, prof, r, &o->names, &o->nnames, ei);
        if (rc != QERR_OK)
                return rc;
        o->account_id = a->id;
        o->tenant_id = a->tenant_id;
        snprintf(o->status, sizeof o->status, "pending");
        snprintf(o->profile, sizeof o->profile, "%s", prof->name);
        snprintf(o->replaces, sizeof o->replaces, "%s", r->replaces ? r->replaces : "");
        o->created_at = now;
        o->expires_at = now + ORDER_LIFETIME;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                goto out;
        size_t reused = 0;
        for (size_t i = 0; rc == QERR_OK && i < o->nnames; i++) {
                bool wild = !strncmp(o->names[i], "*.", 2);
                const char *bare = wild ? o->names[i] + 2 : o->names[i];
                struct acme_authz_rec z;
                rc = ST(s)->ops->acme_authz_reusable(ST(s), a->id, bare, wild, now, &z, ei);
                if (rc == QERR_OK) {
                        reused++;
                } else if (rc == QERR_NOT_FOUND) {
                        memset(&z, 0, sizeof z);
                        z.account_id = a->id;
                        z.tenant_id = a->tenant_id;
                        snprintf(z.name, sizeof z.name, "%s", bare);
                        z.wildcard = wild;
                        snprintf(z.status, sizeof z.status, "pending");
                        z.created_at = z.updated_at = now;
                        z.expires_at = now + AUTHZ_PENDING_LIFETIME;
                        rc = new_token(z.token, sizeof z.token, ei);
                        if (rc == QERR_OK)
                                rc = ST(s)->ops->acme_authz_insert(ST(s), &z, ei);
                }
                if (rc == QERR_OK) {
                        o->authz[o->nauthz++] = z.id;
                        if (z.expires_at < o->expires_at)
                                o->expires_at = z.expires_at;
                }
                acme_authz_clear(&z);
        }
        if (rc == QERR_OK)
                rc = ST(s)->ops->acme_order_insert(ST(s), o, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, a->tenant_id, "acme_order", o->id, NULL, "pending",
                               "ACME order of account %lld for %zu name(s)%s%s", (long long)a->id,
                               o->nnames, reused ? ", reusing valid authorizations" : "",
                               o->replaces[0] ? ", a replacement" : "");
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
        if (rc == QERR_OK)
                rc = view_fill(s, out, ei);
out:
        if (rc != QERR_OK)
                acme_order_clear(o);
        return rc;
}

/* ---- authorizations and challenges ---- */

enum qerr service_acme_authz_deactivate(struct service *s, const struct acme_account_rec *a,
                                        int64_t id, struct acme_authz_rec *out,
                                        struct qerr_info *ei)
{
        enum qerr rc = service_acme_authz_get(s, a, id, out, ei);
        if (rc != QERR_OK)
                return rc;
        if (strcmp(out->status, "pending") && strcmp(out->status, "valid")) {
                acme_authz_clear(out);
                return qerr_set(ei, QERR_ORDER_STATE,
                                "only a pending or valid authorization can be deactivated");
        }
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                goto out;
        char from[16];
        snprintf(from, sizeof from, "%s", out->status);
        snprintf(out->status, sizeof out->status, "deactivated");
        out->updated_at = qtime_now();
        rc = ST(s)->ops->acme_authz_update(ST(s), out, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, a->tenant_id, "acme_authz", out->id, from, "deactivated",
                               "deactivated by the account");
        rc = rc == QERR_OK ? svc_commit(s, ei) : svc_abort(s, rc);
out:
        if (rc != QERR_OK)
                acme_authz_clear(out);
        return rc;
}

enum qerr service_acme_challenge(struct service *s, const struct acme_account_rec *a, int64_t id,
                                 enum acme_chall type, const char *account_uri,
                                 struct acme_authz_rec *out, long *retry_after,
                                 struct qerr_info *ei)
{
        *retry_after = 0;
        enum qerr rc = service_acme_authz_get(s, a, id, out, ei);
        if (rc != QERR_OK)
                return rc;
        if (!acme_chall_offered(type, out)) {
                acme_authz_clear(out);
                return qerr_set(ei, QERR_MALFORMED,
                                "this challenge is not offered for this authorization");
        }
        /* answering again a challenge that is processing or done changes
         * nothing (RFC 8555 7.5.1) */
        if (strcmp(out->status, "pending") || strcmp(out->chall_status, "pending")) {
                if (!strcmp(out->chall_status, "processing"))
                        *retry_after = RETRY_AFTER_PROCESSING;
                return QERR_OK;
        }
        if ((rc = rate_check(s, a, false, retry_after, ei)) != QERR_OK)
                goto out;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                goto out;
        /* read again under the write lock: two answers at once start one
         * validation */
        struct acme_authz_rec cur;
        rc = ST(s)->ops->acme_authz_get(ST(s), id, &cur, ei);
        bool fresh = rc == QERR_OK && !strcmp(cur.chall_status, "pending");
        acme_authz_clear(&cur);
        if (rc == QERR_OK && fresh) {
                snprintf(out->challenge, sizeof out->challenge, "%s", acme_chall_name(type));
                snprintf(out->chall_status, sizeof out->chall_status, "processing");
                snprintf(out->account_uri, sizeof out->account_uri, "%s", account_uri);
                out->next_try_at = qtime_now();
                out->tries = 0;
                out->updated_at = qtime_now();
                rc = ST(s)->ops->acme_authz_update(ST(s), out, ei);
                /* a validation is due: the workers start it at the commit */
                if (rc == QERR_OK)
                        s->jobs_queued = true;
        }
        rc = rc == QERR_OK ? svc_commit(s, ei) : svc_abort(s, rc);
        if (rc == QERR_OK)
                *retry_after = RETRY_AFTER_PROCESSING;
out:
        if (rc != QERR_OK)
                acme_authz_clear(out);
        return rc;
}

/* ---- finalize ---- */

static bool same_names(char **order, size_t no, char **csr, size_t nc)
{
        for (size_t i = 0; i < nc; i++) {
                bool found = false;
                for (size_t j = 0; j < no && !found; j++)
                        found = !strcasecmp(csr[i], order[j]);
                if (!found)
                        return false;
        }
        for (size_t j = 0; j < no; j++) {
                bool found = false;
                for (size_t i = 0; i < nc && !found; i++)
                        found = !strcasecmp(csr[i], order[j]);
                if (!found)
                        return false;
        }
        return true;
}

static enum qerr service_order_of(struct service *s, const struct acme_account_rec *a,
                                  const struct acme_order_view *v, const struct csr_info *csr,
                                  struct order_rec *o, struct qerr_info *ei)
{
        qtime_t now = qtime_now();
        struct qbuf pem;
        qbuf_init(&pem, MAX_CSR_BYTES * 2);
        enum qerr rc = pki_csr_pem(csr->req, &pem, ei);
        snprintf(o->purpose, sizeof o->purpose, "issue");
        o->tenant_id = a->tenant_id;
        snprintf(o->tenant, sizeof o->tenant, "%s", a->tenant);
        snprintf(o->created_by, sizeof o->created_by, "acme:%lld", (long long)a->id);
        o->status = ORDER_VALIDATING;
        const struct issue_profile *prof = policy_profile_find(v->o.profile);
        o->profile = prof ? prof->type : PROFILE_DV;
        o->free_cert = true;
        snprintf(o->key_algorithm, sizeof o->key_algorithm, "%s", csr->key_algorithm);
        o->deadline = now + s->cfg->validation_deadline_seconds;
        o->created_at = o->updated_at = now;
        if (rc == QERR_OK && !(o->csr_pem = strdup(qbuf_str(&pem))))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        qbuf_free(&pem);
        if (rc == QERR_OK && !(o->names = calloc(v->o.nauthz, sizeof *o->names)))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        for (size_t i = 0; rc == QERR_OK && i < v->o.nauthz; i++) {
                struct acme_authz_rec z;
                if ((rc = ST(s)->ops->acme_authz_get(ST(s), v->o.authz[i], &z, ei)) != QERR_OK)
                        break;
                struct order_name_rec *n = &o->names[o->nnames++];
                /* the order's name, "*.x" for a wildcard */
                snprintf(n->name, sizeof n->name, "%s", i < v->o.nnames ? v->o.names[i] : z.name);
                snprintf(n->method, sizeof n->method, "%s",
                         !strcmp(z.challenge, "dns-01") ? "dns" : "file");
                snprintf(n->token, sizeof n->token, "acme-%lld", (long long)z.id);
                snprintf(n->value, sizeof n->value, "acme %s", z.challenge);
                n->value_expires = z.expires_at;
                snprintf(n->validation_status, sizeof n->validation_status, "valid");
                snprintf(n->caa_status, sizeof n->caa_status, "allowed");
                n->validated_at = z.validated_at;
                n->caa_checked_at = z.caa_checked_at;
                acme_authz_clear(&z);
        }
        return rc;
}

enum qerr service_acme_finalize(struct service *s, const struct acme_account_rec *a, int64_t id,
                                const uint8_t *csr_der, size_t len, struct acme_order_view *out,
                                struct qerr_info *ei)
{
        struct csr_info csr;
        memset(&csr, 0, sizeof csr);
        struct order_rec *o = calloc(1, sizeof *o);
        enum qerr rc = o ? order_load(s, a, id, out, ei) : qerr_set(ei, QERR_NOMEM, NULL);
        if (rc != QERR_OK) {
                free(o);
                return rc;
        }
        if (strcmp(out->status, "ready"))
                rc = qerr_set(ei, QERR_ACME_NOT_READY, "the order is %s, not ready", out->status);
        if (rc == QERR_OK)
                rc = pki_csr_parse(csr_der, len, &csr, ei);
        if (rc == QERR_OK && !same_names(out->o.names, out->o.nnames, csr.names, csr.nnames))
                rc = qerr_set(ei, QERR_ACME_CSR_NAMES, NULL);
        if (rc == QERR_OK)
                rc = svc_key_check(s, csr.key, NULL, ei);
        if (rc == QERR_OK)
                rc = service_order_of(s, a, out, &csr, o, ei);
        if (rc != QERR_OK)
                goto out;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                goto out;
        /* under the write lock: a second finalize finds it linked */
        struct acme_order_rec cur;
        rc = ST(s)->ops->acme_order_get(ST(s), id, &cur, ei);
        if (rc == QERR_OK && cur.order_id)
                rc = qerr_set(ei, QERR_ACME_NOT_READY, "the order was finalized already");
        acme_order_clear(&cur);
        if (rc == QERR_OK)
                rc = ST(s)->ops->order_insert(ST(s), o, ei);
        /* the CAA check time of each name (order_insert leaves it unset) */
        for (size_t i = 0; rc == QERR_OK && i < o->nnames; i++)
                rc = ST(s)->ops->order_name_update(ST(s), &o->names[i], ei);
        if (rc == QERR_OK)
                rc = svc_event(s, a->tenant_id, "order", o->id, NULL, "validating",
                               "ACME order %lld finalized: %zu name(s) validated by the ACME "
                               "account %lld",
                               (long long)id, o->nnames, (long long)a->id);
        if (rc == QERR_OK) {
                out->o.order_id = o->id;
                snprintf(out->o.status, sizeof out->o.status, "processing");
                rc = ST(s)->ops->acme_order_update(ST(s), &out->o, ei);
        }
        /* every name is validated already (the authorizations): the review
         * gate now, and the issue job, in this transaction (no validate job
         * to wait for) */
        if (rc == QERR_OK)
                rc = svc_order_gate(s, o, ei);
        if (rc == QERR_OK)
                s->jobs_queued = true;
        rc = rc == QERR_OK ? svc_commit(s, ei) : svc_abort(s, rc);
        if (rc == QERR_OK)
                rc = view_fill(s, out, ei);
out:
        csr_info_clear(&csr);
        order_rec_free(o);
        if (rc != QERR_OK)
                acme_order_clear(&out->o);
        return rc;
}

/* ---- certificates ---- */

enum qerr service_acme_cert(struct service *s, const struct acme_account_rec *a, int64_t order_id,
                            char **pem, struct qerr_info *ei)
{
        *pem = NULL;
        struct acme_order_view v;
        struct cert_rec *c = NULL;
        enum qerr rc = order_load(s, a, order_id, &v, ei);
        if (rc != QERR_OK)
                return rc;
        if (!v.cert_id)
                rc = qerr_set(ei, QERR_DOWNLOAD_STATUS, NULL);
        if (rc == QERR_OK)
                rc = ST(s)->ops->cert_get(ST(s), a->tenant_id, v.cert_id, &c, ei);
        if (rc == QERR_OK)
                rc = policy_may_download(c, qtime_now(), ei);
        if (rc == QERR_OK &&
            asprintf(pem, "%s%s", c->cert_pem, c->chain_pem ? c->chain_pem : "") < 0) {
                *pem = NULL;
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        }
        cert_rec_free(c);
        acme_order_view_clear(&v);
        return rc;
}

enum qerr service_acme_revoke(struct service *s, const struct acme_account_rec *a,
                              const struct jws_key *certkey, const uint8_t *der, size_t len,
                              int reason, struct qerr_info *ei)
{
        const char *rn = revoke_reason_name(reason);
        int check = 0;
        if (!rn || !revoke_reason_from_name(rn, &check) || check != reason)
                return qerr_set(ei, QERR_REVOKE_REASON,
                                "reason %d is not one a subscriber may give (RFC 5280 codes 0, "
                                "1, 3, 4, 5, 9)",
                                reason);
        const unsigned char *p = der;
        X509 *x = len ? d2i_X509(NULL, &p, (long)len) : NULL;
        if (!x || p != der + len) {
                X509_free(x);
                return qerr_set(ei, QERR_MALFORMED, "certificate is not one DER certificate");
        }
        char serial[64];
        pki_cert_serial_hex(x, serial, sizeof serial);
        X509_free(x);
        int64_t cert_id = 0, tenant = 0, owner = 0;
        enum qerr rc = ST(s)->ops->acme_cert_owner(ST(s), serial, &cert_id, &tenant, &owner, ei);
        if (rc == QERR_NOT_FOUND)
                return qerr_set(ei, QERR_ACME_UNAUTHORIZED, "this certificate was not issued here");
        if (rc != QERR_OK)
                return rc;
        struct cert_rec *c = NULL;
        if ((rc = ST(s)->ops->cert_get(ST(s), 0, cert_id, &c, ei)) != QERR_OK)
                return rc;
        /* the same bytes as stored, and the right to revoke them */
        bool by_key = certkey && jws_key_matches_cert(certkey, der, len);
        if (!by_key && !(a && owner == a->id))
                rc = qerr_set(ei, QERR_ACME_UNAUTHORIZED,
                              "neither the account that ordered this certificate nor its key "
                              "signed the request");
        else if (c->status == CERT_REVOKED || c->status == CERT_REVOCATION_PENDING)
                rc = qerr_set(ei, QERR_ACME_ALREADY_REVOKED, NULL);
        if (rc != QERR_OK)
                goto out;
        if (by_key && reason == REASON_KEY_COMPROMISE) {
                /* proof of possession: block the key, revoke every
                 * certificate with it in every tenant */
                char spki[65];
                struct key_proof_out kp;
                rc = jws_key_spki_sha256(certkey, spki, ei);
                if (rc == QERR_OK)
                        rc = svc_key_proved_compromised(s, spki, &kp, ei);
                goto out;
        }
        struct revoke_run run;
        memset(&run, 0, sizeof run);
        if ((rc = ST(s)->ops->begin(ST(s), ei)) == QERR_OK) {
                rc = svc_revoke_into(s, c, reason, 0, 0,
                                     by_key ? "revoked over ACME, signed by the certificate's key"
                                            : "revoked over ACME by the ordering account",
                                     &run, ei);
                if (rc == QERR_OK)
                        rc = svc_revoke_finish(s, &run, ei);
                rc = rc == QERR_OK ? svc_commit(s, ei) : svc_abort(s, rc);
        }
        svc_revoke_run_free(&run);
out:
        cert_rec_free(c);
        return rc;
}
