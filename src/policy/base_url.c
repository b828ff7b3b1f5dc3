/*
 * base_url.c - issue 6: the URL prefix written into publicly trusted
 * certificates ([server] base_url: CRL distribution point, OCSP and
 * caIssuers) must be one that relying parties can reach.
 *
 * For dv, ov and ev the host of base_url may not be `localhost` (or a name
 * under .localhost, RFC 6761), nor an IP address that is not public by the
 * special-purpose table of src/base/netaddr.c (loopback, RFC 1918, link-local,
 * ...). A host that URL parsers read as an IPv4 address in another spelling
 * ("127.1", "2130706433", "0x7f.0.0.1": its last label is numeric) is read
 * the same way here. Host names are not looked up: a name of the operator's
 * own that resolves privately is the operator's business. The test-only
 * switch [validation] allow_private_addresses turns the rule off.
 *
 * Memory: nothing allocated; writes only into `ei`. Pure (no I/O, no
 * clock, no state); any thread.
 */
#include "policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../base/netaddr.h"

#define HOST_MAX 256

/* The host of an http(s) URL: lower-case, an IPv6 literal with its
 * brackets, no trailing dot; false when there is none. */
static bool url_host(const char *url, char *out, size_t outsz)
{
        const char *p = strstr(url, "://");
        if (!p)
                return false;
        p += 3;
        size_t alen = strcspn(p, "/?#");
        /* userinfo ends at the last '@' of the authority */
        for (size_t i = alen; i > 0; i--)
                if (p[i - 1] == '@') {
                        p += i;
                        alen -= i;
                        break;
                }
        size_t hlen;
        if (alen > 0 && p[0] == '[') {
                const char *close = memchr(p, ']', alen);
                if (!close)
                        return false;
                hlen = (size_t)(close - p) + 1;
        } else {
                const char *colon = memchr(p, ':', alen);
                hlen = colon ? (size_t)(colon - p) : alen;
        }
        if (hlen > 0 && p[hlen - 1] == '.')
                hlen--;
        if (hlen == 0 || hlen >= outsz)
                return false;
        for (size_t i = 0; i < hlen; i++)
                out[i] = (char)tolower((unsigned char)p[i]);
        out[hlen] = '\0';
        return true;
}

/* The last label is a number ("1", "0x7f"): URL parsers take the host for
 * an IPv4 address. */
static bool looks_numeric(const char *host)
{
        const char *last = strrchr(host, '.');
        last = last ? last + 1 : host;
        if (!*last)
                return false;
        if (last[0] == '0' && (last[1] == 'x' || last[1] == 'X'))
                return strspn(last + 2, "0123456789abcdef") == strlen(last + 2);
        return strspn(last, "0123456789") == strlen(last);
}

static bool is_localhost(const char *host)
{
        size_t n = strlen(host);
        return strcmp(host, "localhost") == 0 ||
               (n > 10 && strcmp(host + n - 10, ".localhost") == 0);
}

enum qerr policy_base_url_ok(enum cert_profile profile, const char *base_url, bool allow_private,
                             struct qerr_info *ei)
{
        if (!cert_profile_is_public(profile) || allow_private)
                return QERR_OK;
        const char *url = base_url ? base_url : "";
        char host[HOST_MAX], why[NETADDR_WHY_MAX + HOST_MAX] = "";
        struct netaddr a;
        bool refuse = false;
        if (!url_host(url, host, sizeof host)) {
                refuse = true;
                snprintf(why, sizeof why, "has no host relying parties could reach");
        } else if (is_localhost(host)) {
                refuse = true;
                snprintf(why, sizeof why, "names %s, the local machine (RFC 6761)", host);
        } else if (host[0] == '[' || strchr(host, ':')) {
                struct netaddr_verdict v;
                if (!netaddr_parse(host, &a)) {
                        refuse = true;
                        snprintf(why, sizeof why, "has a host that is not an IPv6 address");
                } else {
                        netaddr_classify(&a, &v);
                        refuse = v.special;
                        char d[NETADDR_WHY_MAX];
                        snprintf(why, sizeof why, "is on %s",
                                 netaddr_describe(&a, &v, d, sizeof d));
                }
        } else if (looks_numeric(host)) {
                struct in_addr in;
                struct netaddr_verdict v;
                memset(&a, 0, sizeof a);
                refuse = true;
                snprintf(why, sizeof why, "has a host that is not a valid IPv4 address");
                if (inet_aton(host, &in) == 1) {
                        a.family = NETADDR_V4;
                        memcpy(a.b, &in.s_addr, 4);
                        netaddr_classify(&a, &v);
                        refuse = v.special;
                        char d[NETADDR_WHY_MAX];
                        snprintf(why, sizeof why, "is on %s",
                                 netaddr_describe(&a, &v, d, sizeof d));
                }
        }
        if (!refuse)
                return QERR_OK;
        return qerr_set(ei, QERR_BASE_URL_PRIVATE,
                        "[server] base_url %.160s %s; %s certificates carry it as their CRL, OCSP "
                        "and CA-issuer URLs, which relying parties must be able to reach. Set "
                        "[server] base_url in quill.conf to this server's public URL (e.g. "
                        "http://pki.example.com) and restart",
                        url, why, cert_profile_name(profile));
}
