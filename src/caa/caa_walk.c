/*
 * caa_walk.c - the lookup walk of RULES.md §3 that feeds caa_decide: from
 * the request name (X for "*.X") up to the top-level label, one CAA lookup
 * per name, until a set stops the climb (caa_set_stops_climb), then the
 * decision over the sets gathered.
 *
 * Placement rules (§3 steps 2 and 9):
 *  - the resolver follows CNAME chains, so the records at the end of a
 *    chain are the current name's set, and the set records where the chain
 *    ended (`canonical`); the climb itself always moves to the parent of the
 *    current name in the original tree, never to the CNAME target's parent;
 *  - NOERROR without CAA records and NXDOMAIN are an empty set (NXDOMAIN at
 *    the top-level label too: there is nothing above it to forbid issuance,
 *    and a name under a nonexistent TLD cannot be validated anyway);
 *  - SERVFAIL, timeout, truncation, DNSSEC bogus and local resolver errors
 *    are an error set, which stops the climb and denies with dns_error;
 *  - a record that does not parse is kept with `malformed` set (value NULL,
 *    the tag as far as it could be read), so a set of only malformed records
 *    is not mistaken for an empty one (§3 step 8).
 *
 * Memory: the sets are owned here and freed before returning; the decision
 * is a plain value. Threads: the caller's resolver, one thread at a time.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../dns/dns.h"
#include "caa.h"

static void copy_str(char *dst, size_t dsz, const char *src)
{
        size_t n = strlen(src);
        if (n >= dsz)
                n = dsz - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
}

/* Fills `set` from the CAA answer at `name`. QERR_NOMEM only. */
static enum qerr set_from_result(const char *name, const struct dns_result *res,
                                 struct caa_set *set, struct qerr_info *ei)
{
        memset(set, 0, sizeof *set);
        copy_str(set->name, sizeof set->name, name);
        if (res->canonical[0] && strcasecmp(res->canonical, name) != 0)
                copy_str(set->canonical, sizeof set->canonical, res->canonical);
        switch (res->status) {
        case DNS_NODATA:
        case DNS_NXDOMAIN:
                set->status = CAA_SET_EMPTY;
                return QERR_OK;
        case DNS_OK:
                break;
        default:
                set->status = CAA_SET_ERROR;
                dns_result_describe(res, set->error, sizeof set->error);
                return QERR_OK;
        }
        set->status = res->nrrs > 0 ? CAA_SET_RECORDS : CAA_SET_EMPTY;
        if (res->nrrs == 0)
                return QERR_OK;
        set->recs = calloc(res->nrrs, sizeof *set->recs);
        if (!set->recs)
                return qerr_set(ei, QERR_NOMEM, NULL);
        for (size_t i = 0; i < res->nrrs; i++) {
                struct qerr_info pe;
                qerr_clear(&pe);
                enum qerr rc =
                    caa_parse_rdata(res->rrs[i].data, res->rrs[i].len, &set->recs[i], &pe);
                set->n = i + 1;
                if (rc == QERR_NOMEM)
                        return qerr_set(ei, QERR_NOMEM, NULL);
                if (rc != QERR_OK) {
                        /* keep it: flags and tag as far as read, no value */
                        free(set->recs[i].value);
                        set->recs[i].value = NULL;
                        set->recs[i].malformed = true;
                }
        }
        return QERR_OK;
}

enum qerr caa_check(struct dns_resolver *dns, const struct caa_request *req,
                    struct caa_decision *out, struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        if (!dns || !req || !req->name)
                return qerr_set(ei, QERR_INTERNAL, "CAA check without a resolver or a name");
        char(*names)[CAA_MAX_NAME] = calloc(CAA_MAX_LEVELS, sizeof *names);
        struct caa_set *sets = calloc(CAA_MAX_LEVELS, sizeof *sets);
        enum qerr rc = QERR_OK;
        size_t used = 0;
        if (!names || !sets) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto out;
        }
        size_t n = caa_climb_names(req->name, names, CAA_MAX_LEVELS);
        if (n == 0) {
                rc = qerr_set(ei, QERR_USAGE, "'%s' is not a name whose CAA can be checked",
                              req->name);
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                struct dns_result res;
                rc = dns_lookup(dns, names[i], DNS_TYPE_CAA, &res, ei);
                if (rc != QERR_OK)
                        goto out;
                rc = set_from_result(names[i], &res, &sets[i], ei);
                dns_result_clear(&res);
                used = i + 1;
                if (rc != QERR_OK)
                        goto out;
                if (caa_set_stops_climb(req, &sets[i]))
                        break;
        }
        caa_decide(req, sets, used, out);
out:
        for (size_t i = 0; sets && i < used; i++)
                caa_set_clear(&sets[i]);
        free(sets);
        free(names);
        return rc;
}
