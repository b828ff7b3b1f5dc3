/*
 * svc_caa.c - the CAA check as a service call (RULES.md §3): resolvers made
 * from the configuration ([dns] ...), the CA's CAA identities ([caa]
 * identities), and service_caa_check, which front doors (`quill caa
 * check`, later the validation workers) use. Stateless: it needs the
 * configuration only, no data directory.
 *
 * Memory: the resolver made for one service_caa_check call is freed before
 * it returns; decisions are plain values in the caller's array. Threads:
 * any thread (each call makes its own resolver).
 */
#include "service_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../dns/dns.h"
#include "../policy/policy.h"

#define MAX_IDENTITIES 32

enum qerr svc_dns_new(const struct qconfig *cfg, const char *resolver_override,
                      struct dns_resolver **out, struct qerr_info *ei)
{
        struct dns_opts o = {
            .forwarder =
                resolver_override && resolver_override[0] ? resolver_override : cfg->dns_resolver,
            .timeout_ms = cfg->dns_timeout_ms,
            .retries = cfg->dns_retries,
            .trust_anchor_file = cfg->dns_trust_anchor_file,
        };
        return dns_resolver_new(&o, out, ei);
}

size_t svc_caa_identities(const struct qconfig *cfg, char buf[][CAA_MAX_NAME], size_t max)
{
        size_t n = 0;
        const char *s = cfg->caa_identities ? cfg->caa_identities : "";
        while (*s && n < max) {
                const char *end = strchr(s, ',');
                size_t len = end ? (size_t)(end - s) : strlen(s);
                const char *b = s, *e = s + len;
                while (b < e && isspace((unsigned char)*b))
                        b++;
                while (e > b && isspace((unsigned char)e[-1]))
                        e--;
                size_t l = (size_t)(e - b);
                if (l > 0 && l < CAA_MAX_NAME) {
                        memcpy(buf[n], b, l);
                        buf[n][l] = '\0';
                        n++;
                }
                s = end ? end + 1 : s + len;
        }
        return n;
}

/* An issuer domain: LDH labels separated by dots (a trailing dot allowed). */
static bool identity_ok(const char *id)
{
        size_t n = strlen(id), label = 0;
        if (n == 0 || n >= CAA_MAX_NAME)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)id[i];
                if (c == '.') {
                        if (label == 0 && i + 1 != n)
                                return false;
                        label = 0;
                } else if (isalnum(c) || c == '-') {
                        if (++label > 63)
                                return false;
                } else {
                        return false;
                }
        }
        return true;
}

/* "dns" and "file" are the service's words for dns-01 and http-01. */
static enum qerr method_of(const char *m, const char **out, struct qerr_info *ei)
{
        static const char *const map[][2] = {
            {"dns-01", "dns-01"}, {"http-01", "http-01"}, {"tls-alpn-01", "tls-alpn-01"},
            {"dns", "dns-01"},    {"file", "http-01"},
        };
        *out = NULL;
        if (!m)
                return QERR_OK;
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
                if (strcasecmp(m, map[i][0]) == 0) {
                        *out = map[i][1];
                        return QERR_OK;
                }
        return qerr_set(ei, QERR_USAGE,
                        "unknown validation method '%s'; use dns-01, http-01, tls-alpn-01, dns "
                        "or file",
                        m);
}

enum qerr service_caa_check(const struct qconfig *cfg, const struct caa_check_req *r,
                            struct caa_decision *out, struct qerr_info *ei)
{
        if (!r->names || r->nnames == 0)
                return qerr_set(ei, QERR_USAGE, "give at least one name to check");
        const char *method = NULL;
        struct dns_resolver *dns = NULL;
        enum qerr rc = method_of(r->method, &method, ei);
        if (rc != QERR_OK)
                return rc;

        char idbuf[MAX_IDENTITIES][CAA_MAX_NAME];
        const char *ids[MAX_IDENTITIES];
        size_t nids = 0;
        if (r->identities) {
                if (r->nidentities == 0)
                        return qerr_set(ei, QERR_USAGE, "give at least one CA identity");
                if (r->nidentities > MAX_IDENTITIES)
                        return qerr_set(ei, QERR_USAGE, "at most %d CA identities", MAX_IDENTITIES);
                for (size_t i = 0; i < r->nidentities; i++) {
                        if (!r->identities[i] || !identity_ok(r->identities[i]))
                                return qerr_set(ei, QERR_USAGE,
                                                "CA identity '%s' is not a domain name",
                                                r->identities[i] ? r->identities[i] : "");
                        ids[nids++] = r->identities[i];
                }
        } else {
                nids = svc_caa_identities(cfg, idbuf, MAX_IDENTITIES);
                for (size_t i = 0; i < nids; i++) {
                        if (!identity_ok(idbuf[i]))
                                return qerr_set(ei, QERR_CONFIG,
                                                "[caa] identities: '%s' is not a domain name",
                                                idbuf[i]);
                        ids[i] = idbuf[i];
                }
                if (nids == 0)
                        return qerr_set(ei, QERR_CONFIG,
                                        "[caa] identities is empty; name this CA's issuer "
                                        "domain(s) there, or pass --identity");
        }

        /* Every name is checked before any lookup, so a bad argument changes
         * nothing and costs no DNS traffic. */
        char(*norm)[CAA_MAX_NAME] = calloc(r->nnames, sizeof *norm);
        if (!norm)
                return qerr_set(ei, QERR_NOMEM, NULL);
        for (size_t i = 0; i < r->nnames; i++) {
                struct qerr_info pe;
                qerr_clear(&pe);
                const char *name = r->names[i] ? r->names[i] : "";
                if (policy_check_name(name, true, false, norm[i], CAA_MAX_NAME, &pe) != QERR_OK) {
                        rc = qerr_set(ei, QERR_USAGE, "name '%s': %s", name, qerr_message(&pe));
                        goto out;
                }
        }

        rc = svc_dns_new(cfg, r->resolver, &dns, ei);
        if (rc != QERR_OK)
                goto out;
        for (size_t i = 0; i < r->nnames && rc == QERR_OK; i++) {
                struct caa_request req = {
                    .name = norm[i],
                    .identities = ids,
                    .nidentities = nids,
                    .account_uri = r->account_uri && r->account_uri[0] ? r->account_uri : NULL,
                    .method = method,
                    .climb_past_inapplicable = cfg->caa_climb_past_inapplicable != 0,
                };
                rc = caa_check(dns, &req, &out[i], ei);
        }
        dns_resolver_free(dns);
out:
        free(norm);
        return rc;
}
