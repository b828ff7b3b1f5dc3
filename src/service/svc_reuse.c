/*
 * svc_reuse.c - domain validation reuse (issue 7, BR 4.2.1 and 3.2.2.4).
 *
 * Every name an order validates is kept in the store (validations: tenant,
 * name as validated, method, time, order). A new issue order of the same
 * tenant whose name was validated within the reuse period in force today
 * (policy_validation_reuse_days: the BR schedule, lowered by [validation]
 * reuse_days) starts with that name valid, pointing at the validation it
 * reuses; CAA is checked all the same, and risk and organisation review
 * still apply (svc_jobs.c). Which earlier validations cover a name
 * (store.h, validation_find): a DNS validation covers its name and the
 * wildcard or base spelling of it ("*.x" and "x" share the record at
 * _acme-challenge.x); a file validation covers its exact name only (BR
 * 3.2.2.4.18/19: never a wildcard, never another FQDN). Only a validation
 * by the method the order asks for is reused: RFC 8657's validationmethods=
 * in CAA is checked against the order's method, which must then be the one
 * that proved control. Validations of another tenant never count. Proof-of-control orders
 * (revocation, reissue) always validate anew (RULES.md §5, §6), but what they validate is kept.
 *
 * The period is counted to the day of issuance: the issue job checks again
 * right before signing (svc_validations_fresh), so an order that waited
 * too long (in review, say) fails with validation_expired instead of
 * signing on a stale validation.
 *
 * Same threading rules as service.h.
 */
#include "service_internal.h"

#include <stdio.h>
#include <string.h>

#include "../policy/policy.h"

long svc_reuse_days(const struct service *s, qtime_t now)
{
        return policy_validation_reuse_days(now, s->cfg->validation_reuse_days);
}

enum qerr svc_reuse_validations(struct service *s, struct order_rec *o, qtime_t now, size_t *reused,
                                struct qerr_info *ei)
{
        *reused = 0;
        if (strcmp(o->purpose, "issue") != 0 || !cert_profile_is_public(o->profile))
                return QERR_OK;
        const qtime_t since = now - svc_reuse_days(s, now) * QTIME_DAY;
        for (size_t i = 0; i < o->nnames; i++) {
                struct order_name_rec *n = &o->names[i];
                struct validation_rec v;
                /* only by the method the order asks for: CAA's
                 * validationmethods= is checked against it */
                enum qerr rc = ST(s)->ops->validation_find(ST(s), o->tenant_id, n->name, n->method,
                                                           since, &v, ei);
                if (rc == QERR_NOT_FOUND)
                        continue;
                if (rc != QERR_OK)
                        return rc;
                if (!policy_validation_fresh(v.validated_at, now, s->cfg->validation_reuse_days))
                        continue;
                snprintf(n->validation_status, sizeof n->validation_status, "valid");
                n->validated_at = v.validated_at;
                n->reused_from = v.id;
                n->reused_order = v.order_id;
                snprintf(n->reused_method, sizeof n->reused_method, "%s", v.method);
                (*reused)++;
        }
        return QERR_OK;
}

enum qerr svc_record_validation(struct service *s, const struct order_rec *o,
                                const struct order_name_rec *n, struct qerr_info *ei)
{
        if (strcmp(n->method, "dns") != 0 && strcmp(n->method, "file") != 0)
                return QERR_OK;
        struct validation_rec v = {.tenant_id = o->tenant_id,
                                   .validated_at = n->validated_at ? n->validated_at : qtime_now(),
                                   .order_id = o->id};
        snprintf(v.name, sizeof v.name, "%s", n->name);
        snprintf(v.method, sizeof v.method, "%s", n->method);
        return ST(s)->ops->validation_insert(ST(s), &v, ei);
}

enum qerr svc_validations_fresh(struct service *s, const struct order_rec *o, qtime_t now,
                                struct qerr_info *ei)
{
        for (size_t i = 0; i < o->nnames; i++) {
                const struct order_name_rec *n = &o->names[i];
                if (strcmp(n->validation_status, "valid") != 0)
                        continue; /* not_required (private orders) */
                if (policy_validation_fresh(n->validated_at, now, s->cfg->validation_reuse_days))
                        continue;
                char when[40];
                qtime_fmt(n->validated_at, when, sizeof when);
                return qerr_set(ei, QERR_VALIDATION_EXPIRED,
                                "%s was validated on %s%s, more than the %ld days a validation "
                                "may be used for a certificate issued today; apply again so that "
                                "it is validated anew",
                                n->name, when, n->reused_from ? " (reused)" : "",
                                svc_reuse_days(s, now));
        }
        return QERR_OK;
}

enum qerr svc_names_validated_at(struct service *s, int64_t tenant, char *const *names, size_t n,
                                 qtime_t *out, struct qerr_info *ei)
{
        qtime_t oldest = 0;
        for (size_t i = 0; i < n; i++) {
                struct validation_rec v;
                enum qerr rc =
                    ST(s)->ops->validation_find(ST(s), tenant, names[i], NULL, 0, &v, ei);
                if (rc == QERR_NOT_FOUND) {
                        oldest = 0;
                        break;
                }
                if (rc != QERR_OK)
                        return rc;
                if (i == 0 || v.validated_at < oldest)
                        oldest = v.validated_at;
        }
        *out = n ? oldest : 0;
        return QERR_OK;
}
