/*
 * dns_rdata.c - the pure parts of src/dns: TXT character-strings, the
 * status names and the sentences a user reads about a lookup.
 *
 * dns_txt_join reads bytes that came from the network, so every read is
 * bounds-checked against the length given; nothing is trusted. Fuzzed by
 * fuzz/fuzz_dns_rdata.c.
 *
 * Memory: no allocation except through the caller's qbuf. Threads: any
 * thread; no state.
 */
#include <stdio.h>
#include <string.h>

#include "dns.h"

bool dns_txt_join(const uint8_t *rdata, size_t len, struct qbuf *out)
{
        if (!rdata && len > 0)
                return false;
        if (len == 0)
                return false; /* a TXT record holds at least one string */
        size_t start = out->len;
        size_t i = 0;
        while (i < len) {
                size_t n = rdata[i++];
                if (n > len - i)
                        goto bad;
                if (n > 0 && memchr(rdata + i, '\0', n))
                        goto bad;
                if (n > 0 && !qbuf_append(out, rdata + i, n))
                        goto bad;
                i += n;
        }
        return true;
bad:
        /* leave the buffer as it was */
        out->len = start;
        if (out->data)
                out->data[start] = '\0';
        return false;
}

const char *dns_status_name(enum dns_status s)
{
        switch (s) {
        case DNS_OK:
                return "ok";
        case DNS_NODATA:
                return "nodata";
        case DNS_NXDOMAIN:
                return "nxdomain";
        case DNS_SERVFAIL:
                return "servfail";
        case DNS_TIMEOUT:
                return "timeout";
        case DNS_TRUNCATED:
                return "truncated";
        case DNS_BOGUS:
                return "bogus";
        case DNS_FAILURE:
                return "failure";
        }
        return "failure";
}

static const char *rcode_name(int rcode)
{
        static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                            "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                            "NXRRSET", "NOTAUTH", "NOTZONE"};
        if (rcode >= 0 && (size_t)rcode < sizeof names / sizeof names[0])
                return names[rcode];
        return NULL;
}

void dns_result_describe(const struct dns_result *res, char *out, size_t outsz)
{
        if (!out || outsz == 0)
                return;
        const char *why = res->why;
        char ede[32] = "";
        if (res->ede >= 0)
                snprintf(ede, sizeof ede, " (EDE %d)", res->ede);
        switch (res->status) {
        case DNS_OK:
                snprintf(out, outsz, "answer with %zu record%s%s", res->nrrs,
                         res->nrrs == 1 ? "" : "s", res->secure ? " (DNSSEC secure)" : "");
                return;
        case DNS_NODATA:
                snprintf(out, outsz, "no records of that type");
                return;
        case DNS_NXDOMAIN:
                snprintf(out, outsz, "NXDOMAIN (the name does not exist)");
                return;
        case DNS_SERVFAIL: {
                const char *rn = rcode_name(res->rcode);
                char rc[32] = "";
                if (res->rcode >= 0 && res->rcode != 2) {
                        if (rn)
                                snprintf(rc, sizeof rc, " (rcode %s)", rn);
                        else
                                snprintf(rc, sizeof rc, " (rcode %d)", res->rcode);
                }
                snprintf(out, outsz, "SERVFAIL%s%s%s%s", rc, ede, why[0] ? ": " : "", why);
                return;
        }
        case DNS_TIMEOUT:
                snprintf(out, outsz, "timeout%s%s", why[0] ? " " : "", why);
                return;
        case DNS_TRUNCATED:
                snprintf(out, outsz, "truncated answer%s%s", why[0] ? ": " : "", why);
                return;
        case DNS_BOGUS:
                snprintf(out, outsz, "DNSSEC bogus: %s%s", why[0] ? why : "validation failed", ede);
                return;
        case DNS_FAILURE:
                snprintf(out, outsz, "DNS lookup failed: %s", why[0] ? why : "local error");
                return;
        }
        snprintf(out, outsz, "DNS lookup failed");
}
