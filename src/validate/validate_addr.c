/*
 * validate_addr.c - the addresses validation may connect to, shared by the
 * file method (validate_file.c, http-01) and tls-alpn-01 (validate_alpn.c).
 *
 * A host is looked up through the caller's resolver (never the system's);
 * the answers, or an IP literal, are checked against the special-purpose
 * table of src/base/netaddr.h and only the public ones are kept: those are
 * the addresses the caller connects to, with no second lookup in between.
 * [validation] allow_private_addresses (tests only) turns the check off;
 * [validation] allow_addresses (tests only) lists blocks treated as public.
 *
 * Memory: plain values, nothing allocated outlives a call. Threads: any
 * thread, one call at a time per resolver.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "../base/netaddr.h"
#include "../dns/dns.h"
#include "validate.h"
#include "validate_int.h"

void val_addrset_add(struct addrset *s, int family, const uint8_t *a)
{
        if (s->n >= MAX_ADDRS)
                return;
        s->family[s->n] = family;
        memset(s->addr[s->n], 0, 16);
        memcpy(s->addr[s->n], a, family == AF_INET ? 4 : 16);
        s->n++;
}

/* An IP literal host ("192.0.2.1", "2001:db8::1" or "[2001:db8::1]") into
 * `s`; false when `host` is a name. */
bool val_literal_addr(const char *host, struct addrset *s)
{
        char tmp[64];
        uint8_t a[16];
        size_t hl = strlen(host);
        if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
                if (hl - 2 >= sizeof tmp)
                        return false;
                memcpy(tmp, host + 1, hl - 2);
                tmp[hl - 2] = '\0';
                host = tmp;
        }
        s->n = 0;
        if (inet_pton(AF_INET, host, a) == 1)
                val_addrset_add(s, AF_INET, a);
        else if (inet_pton(AF_INET6, host, a) == 1)
                val_addrset_add(s, AF_INET6, a);
        return s->n > 0;
}

/* May validation connect to this address? When not, `why` gets the address
 * and its block ("10.0.0.5 (private-use, 10.0.0.0/8, RFC 1918)"). */
bool val_addr_public(const struct validate_cfg *c, int family, const uint8_t *b, char *why,
                     size_t whysz)
{
        if (c->allow_private)
                return true;
        struct netaddr a;
        memset(&a, 0, sizeof a);
        a.family = family == AF_INET ? NETADDR_V4 : NETADDR_V6;
        memcpy(a.b, b, family == AF_INET ? 4 : 16);
        if (netaddr_list_contains(c->allow, &a))
                return true;
        struct netaddr_verdict v;
        netaddr_classify(&a, &v);
        if (!v.special)
                return true;
        netaddr_describe(&a, &v, why, whysz);
        return false;
}

/* Drops the addresses validation must not connect to. Returns how many were
 * dropped; the first is described in `why`. */
static size_t addrset_keep_public(const struct validate_cfg *c, struct addrset *s, char *why,
                                  size_t whysz)
{
        size_t kept = 0, dropped = 0;
        for (size_t i = 0; i < s->n; i++) {
                char w[NETADDR_WHY_MAX];
                if (val_addr_public(c, s->family[i], s->addr[i], w, sizeof w)) {
                        s->family[kept] = s->family[i];
                        memcpy(s->addr[kept], s->addr[i], 16);
                        kept++;
                } else if (dropped++ == 0) {
                        snprintf(why, whysz, "%s", w);
                }
        }
        s->n = kept;
        return dropped;
}

/* After the lookup (or the literal) of a host: refuses it when none of its
 * addresses is public (FILE_UNREACHABLE, final: the name's DNS or the
 * redirect must change). `what` (escaped) is the URL being fetched. */
bool val_keep_public(const struct validate_cfg *c, struct addrset *s, const char *what,
                     bool redirected, enum qerr unreach, struct validate_result *out)
{
        char why[NETADDR_WHY_MAX] = "";
        size_t dropped = addrset_keep_public(c, s, why, sizeof why);
        if (s->n > 0)
                return true;
        char more[48] = "";
        if (dropped > 1)
                snprintf(more, sizeof more, " (and %zu more)", dropped - 1);
        val_set_unreachable_as(out, c, unreach, true,
                               "Refused to connect to %s%s: validation only connects to public "
                               "addresses; %s. It was to fetch %s.",
                               why, more,
                               redirected ? "redirect only to hosts on public addresses"
                                          : "give the name public A or AAAA records",
                               what);
        return false;
}

/* Looks up A and AAAA of `host` through the caller's resolver. On failure
 * fills `out` (`what`, already escaped, names what we were trying to fetch)
 * and returns false. */
bool val_resolve_host(const struct validate_cfg *c, const char *host, const char *what,
                      struct addrset *s, enum qerr unreach, struct validate_result *out)
{
        static const uint16_t types[2] = {DNS_TYPE_A, DNS_TYPE_AAAA};
        char why[300] = "";
        bool failed = false, nx = false;
        s->n = 0;
        for (int t = 0; t < 2; t++) {
                struct dns_result res;
                struct qerr_info ei;
                memset(&res, 0, sizeof res);
                qerr_clear(&ei);
                if (dns_lookup(c->dns, host, types[t], &res, &ei) != QERR_OK) {
                        char h[URL_SHOW + 4];
                        val_set_unreachable_as(
                            out, c, unreach, true,
                            "%s cannot be fetched: \"%s\" is not a valid host name.", what,
                            val_show_str(host, h, sizeof h));
                        dns_result_clear(&res);
                        return false;
                }
                if (res.status == DNS_OK) {
                        size_t want = types[t] == DNS_TYPE_A ? 4 : 16;
                        for (size_t i = 0; i < res.nrrs; i++)
                                if (res.rrs[i].len == want)
                                        val_addrset_add(s, want == 4 ? AF_INET : AF_INET6,
                                                        res.rrs[i].data);
                } else if (res.status == DNS_NXDOMAIN) {
                        nx = true;
                } else if (res.status != DNS_NODATA && !failed) {
                        failed = true;
                        char d[256];
                        dns_result_describe(&res, d, sizeof d);
                        snprintf(why, sizeof why, "the %s lookup failed: %s",
                                 types[t] == DNS_TYPE_A ? "A" : "AAAA", d);
                }
                dns_result_clear(&res);
        }
        if (s->n > 0)
                return true;
        char hs[URL_SHOW + 4];
        host = val_show_str(host, hs, sizeof hs);
        if (failed)
                val_set_result(out, QERR_DNS_ERROR, false,
                               "The address of %s could not be looked up to fetch %s: %s.", host,
                               what, why);
        else
                val_set_unreachable_as(
                    out, c, unreach, false,
                    "%s cannot be fetched: %s %s; publish an A or AAAA record for "
                    "it.",
                    what, host, nx ? "does not exist in DNS" : "has no A or AAAA record");
        return false;
}

long val_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool val_name_chars_ok(const char *s, size_t max, bool token)
{
        size_t n = strlen(s);
        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)s[i];
                bool ok = isalnum(ch) || ch == '-' || ch == '_' || (!token && ch == '.');
                if (!ok)
                        return false;
        }
        return true;
}
