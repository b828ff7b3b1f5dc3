/*
 * svc_acme_val.c - the job workers' side of ACME challenges: claims one due
 * challenge validation (a leased row of acme_authzs), checks it on the
 * network outside any transaction with the service's validators (http-01
 * like file validation at /.well-known/acme-challenge/<token>, tls-alpn-01
 * (RFC 8737) by validate_tls_alpn, dns-01 like DNS validation with the key
 * authorization's digest), then CAA with the
 * account URL and the challenge type (RFC 8657), and writes the outcome
 * with its event. A record not there yet is tried again a few times (the
 * client said it was ready, but DNS may lag); a wrong value, a forbidden
 * CAA or a final failure makes the authorization invalid at once.
 *
 * Called by svc_workers.c on the worker's handle and resolver (one thread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/metrics.h"
#include "../base/netaddr.h"
#include "../validate/validate.h"
#include "service_acme.h"
#include "service_internal.h"

#define LEASE_SECONDS 120
#define MAX_TRIES 4
#define RETRY_SECONDS 3

static enum caa_outcome caa_for(struct service *s, struct dns_resolver *dns,
                                const struct acme_authz_rec *z, char *why, size_t sz)
{
        char ids[16][CAA_MAX_NAME];
        const char *idp[16];
        size_t nid = svc_caa_identities(s->cfg, ids, 16);
        for (size_t i = 0; i < nid; i++)
                idp[i] = ids[i];
        char name[QUILL_MAX_NAME_LEN + 3];
        snprintf(name, sizeof name, "%s%s", z->wildcard ? "*." : "", z->name);
        struct caa_request req = {.name = name,
                                  .identities = idp,
                                  .nidentities = nid,
                                  .account_uri = z->account_uri[0] ? z->account_uri : NULL,
                                  .method = z->challenge,
                                  .climb_past_inapplicable = s->cfg->caa_climb_past_inapplicable};
        struct caa_decision d;
        struct qerr_info ei;
        memset(&d, 0, sizeof d);
        if (caa_check(dns, &req, &d, &ei) != QERR_OK) {
                d.outcome = CAA_LOOKUP_ERROR;
                snprintf(d.reason, sizeof d.reason, "%s", qerr_message(&ei));
        }
        struct qbuf w;
        qbuf_init(&w, sz - 1);
        if (!qbuf_printf(&w, "%s%s%s%s %s", d.where[0] ? "at " : "", d.where,
                         d.records[0] ? ": " : "", d.records, d.reason))
                qbuf_printf(&w, "%.200s", d.reason);
        memcpy(why, qbuf_str(&w), strlen(qbuf_str(&w)) + 1);
        qbuf_free(&w);
        metrics_count("quill_caa_checks_total", "CAA checks of one name, by outcome.", 1, "result",
                      d.outcome == CAA_ALLOWED  ? "allowed"
                      : d.outcome == CAA_DENIED ? "forbidden"
                                                : "error",
                      NULL);
        return d.outcome;
}

static void check(struct service *s, struct dns_resolver *dns, const struct acme_authz_rec *z,
                  const char *thumbprint, struct validate_result *r)
{
        struct netaddr_list allow;
        struct validate_cfg vc;
        validate_cfg_from_config(s->cfg, dns, &allow, &vc);
        char ka[160];
        acme_key_authorization(z->token, thumbprint, ka, sizeof ka);
        enum acme_chall c = ACME_DNS01;
        acme_chall_from_name(z->challenge, &c);
        memset(r, 0, sizeof *r);
        switch (c) {
        case ACME_HTTP01:
                validate_http01(&vc, z->name, z->token, ka, r);
                break;
        case ACME_TLSALPN01:
                validate_tls_alpn(&vc, z->name, ka, r);
                break;
        case ACME_DNS01: {
                char digest[JWS_THUMBPRINT_LEN + 1];
                struct qerr_info e;
                if (jws_sha256_b64url(ka, strlen(ka), digest, &e) != QERR_OK) {
                        r->code = QERR_INTERNAL;
                        r->final = false;
                        snprintf(r->msg, sizeof r->msg, "%s", qerr_message(&e));
                        break;
                }
                char name[QUILL_MAX_NAME_LEN + 3];
                snprintf(name, sizeof name, "%s%s", z->wildcard ? "*." : "", z->name);
                validate_dns(&vc, name, digest, r);
                break;
        }
        default:
                r->code = QERR_INTERNAL;
                r->final = true;
                snprintf(r->msg, sizeof r->msg, "unknown challenge type");
        }
        metrics_count("quill_validations_total",
                      "Domain-control checks of one name, by method and result.", 1, "method",
                      z->challenge, "result", r->code == QERR_OK ? "valid" : qerr_code(r->code),
                      NULL);
}

enum qerr service_acme_work(struct service *s, struct dns_resolver *dns, const char *owner,
                            struct qerr_info *ei)
{
        struct acme_authz_rec z;
        qtime_t now = qtime_now();
        enum qerr rc = ST(s)->ops->acme_authz_claim(ST(s), owner, now, now + LEASE_SECONDS, &z, ei);
        if (rc != QERR_OK)
                return rc;
        struct acme_account_rec a;
        rc = ST(s)->ops->acme_account_get(ST(s), z.account_id, &a, ei);
        if (rc != QERR_OK) {
                acme_authz_clear(&z);
                return rc;
        }
        struct validate_result r;
        check(s, dns, &z, a.thumbprint, &r);
        char why[QERR_MSG_MAX] = "";
        enum qerr fail = r.code;
        bool final = r.final || z.tries >= MAX_TRIES;
        /* CAA (RFC 8659) is about DNS names; an IP address has none */
        if (fail == QERR_OK && !acme_name_is_ip(z.name)) {
                enum caa_outcome co = caa_for(s, dns, &z, why, sizeof why);
                if (co == CAA_DENIED) {
                        fail = QERR_CAA_FORBIDDEN;
                        final = true;
                } else if (co == CAA_LOOKUP_ERROR) {
                        fail = QERR_DNS_ERROR;
                        final = z.tries >= MAX_TRIES;
                }
        } else {
                snprintf(why, sizeof why, "%s", r.msg);
        }
        now = qtime_now();
        const char *to = fail == QERR_OK ? "valid" : final ? "invalid" : NULL;
        if (to) {
                snprintf(z.chall_status, sizeof z.chall_status, "%s", to);
                snprintf(z.status, sizeof z.status, "%s", to);
                z.next_try_at = 0;
        } else {
                z.next_try_at = now + RETRY_SECONDS;
        }
        snprintf(z.error_code, sizeof z.error_code, "%s", fail == QERR_OK ? "" : qerr_code(fail));
        free(z.error_detail);
        z.error_detail = fail == QERR_OK ? NULL : strdup(why);
        if (fail == QERR_OK) {
                z.validated_at = z.caa_checked_at = now;
                /* a valid authorization is reused for the BR reuse period */
                z.expires_at = now + svc_reuse_days(s, now) * QTIME_DAY;
        }
        z.updated_at = now;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) == QERR_OK) {
                rc = ST(s)->ops->acme_authz_update(ST(s), &z, ei);
                if (rc == QERR_OK && to)
                        rc = svc_event(s, z.tenant_id, "acme_authz", z.id, "pending", to,
                                       "%s%s by %s%s%s", z.wildcard ? "*." : "", z.name,
                                       z.challenge, fail ? ": " : "", fail ? qerr_code(fail) : "");
                rc = rc == QERR_OK ? svc_commit(s, ei) : svc_abort(s, rc);
        }
        char ename[QUILL_MAX_NAME_LEN * 2];
        qlog_info("ACME challenge checked", "authz=%lld name=%s type=%s result=%s", (long long)z.id,
                  qlog_escape(z.name, ename, sizeof ename), z.challenge, to ? to : "retry");
        acme_account_clear(&a);
        acme_authz_clear(&z);
        return rc;
}
