/*
 * netaddr.c - the special-purpose address table and its lookups; see
 * netaddr.h for the rule.
 *
 * The table is searched for the longest prefix that contains the address
 * (so 192.0.0.9/32, public, wins over 192.0.0.0/24, refused). Rows are
 * written as bytes; tests/unit/test_netaddr.c checks each row's bytes
 * against its CIDR text, and classifies the first and last address of every
 * row and the addresses just outside it.
 */
#include "netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define V4(a, b, c, d)                                                                             \
        {                                                                                          \
                NETADDR_V4,                                                                        \
                {                                                                                  \
                        a, b, c, d                                                                 \
                }                                                                                  \
        }
/* an IPv6 address from its first four groups (the rest zero) and its last two */
#define H(x) (uint8_t)((x) >> 8), (uint8_t)((x)&0xff)
#define V6(g0, g1, g2, g3, g6, g7)                                                                 \
        {                                                                                          \
                NETADDR_V6,                                                                        \
                {                                                                                  \
                        H(g0), H(g1), H(g2), H(g3), 0, 0, 0, 0, H(g6), H(g7)                       \
                }                                                                                  \
        }
#define V6MAPPED                                                                                   \
        {                                                                                          \
                NETADDR_V6,                                                                        \
                {                                                                                  \
                        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0                       \
                }                                                                                  \
        }

/* (the address argument expands to a braced list: no macro in between) */
#define NO(addr, plen, cidr, name, ref)                                                            \
        {                                                                                          \
                {addr, plen}, NETADDR_REFUSE, 0, cidr, name, ref                                   \
        }
#define YES(addr, plen, cidr, name, ref)                                                           \
        {                                                                                          \
                {addr, plen}, NETADDR_GLOBAL, 0, cidr, name, ref                                   \
        }
#define EMBEDS(addr, plen, at, cidr, name, ref)                                                    \
        {                                                                                          \
                {addr, plen}, NETADDR_EMBEDS_V4, at, cidr, name, ref                               \
        }

static const struct netaddr_block table[] = {
    /* IANA IPv4 Special-Purpose Address Registry */
    NO(V4(0, 0, 0, 0), 8, "0.0.0.0/8", "\"this network\"", "RFC 791"),
    NO(V4(0, 0, 0, 0), 32, "0.0.0.0/32", "\"this host on this network\"", "RFC 1122"),
    NO(V4(10, 0, 0, 0), 8, "10.0.0.0/8", "private-use", "RFC 1918"),
    NO(V4(100, 64, 0, 0), 10, "100.64.0.0/10", "shared address space (carrier-grade NAT)",
       "RFC 6598"),
    NO(V4(127, 0, 0, 0), 8, "127.0.0.0/8", "loopback", "RFC 1122"),
    NO(V4(169, 254, 0, 0), 16, "169.254.0.0/16", "link-local", "RFC 3927"),
    NO(V4(169, 254, 169, 254), 32, "169.254.169.254/32",
       "link-local, the cloud instance metadata service", "RFC 3927"),
    NO(V4(172, 16, 0, 0), 12, "172.16.0.0/12", "private-use", "RFC 1918"),
    NO(V4(192, 0, 0, 0), 24, "192.0.0.0/24", "IETF protocol assignments", "RFC 6890"),
    NO(V4(192, 0, 0, 0), 29, "192.0.0.0/29", "IPv4 service continuity prefix", "RFC 7335"),
    NO(V4(192, 0, 0, 8), 32, "192.0.0.8/32", "IPv4 dummy address", "RFC 7600"),
    YES(V4(192, 0, 0, 9), 32, "192.0.0.9/32", "port control protocol anycast", "RFC 7723"),
    YES(V4(192, 0, 0, 10), 32, "192.0.0.10/32", "TURN anycast", "RFC 8155"),
    NO(V4(192, 0, 0, 170), 31, "192.0.0.170/31", "NAT64/DNS64 discovery", "RFC 8880"),
    NO(V4(192, 0, 2, 0), 24, "192.0.2.0/24", "documentation (TEST-NET-1)", "RFC 5737"),
    NO(V4(192, 88, 99, 0), 24, "192.88.99.0/24", "deprecated 6to4 relay anycast", "RFC 7526"),
    NO(V4(192, 168, 0, 0), 16, "192.168.0.0/16", "private-use", "RFC 1918"),
    NO(V4(198, 18, 0, 0), 15, "198.18.0.0/15", "benchmarking", "RFC 2544"),
    NO(V4(198, 51, 100, 0), 24, "198.51.100.0/24", "documentation (TEST-NET-2)", "RFC 5737"),
    NO(V4(203, 0, 113, 0), 24, "203.0.113.0/24", "documentation (TEST-NET-3)", "RFC 5737"),
    NO(V4(224, 0, 0, 0), 4, "224.0.0.0/4", "multicast", "RFC 5771"),
    NO(V4(240, 0, 0, 0), 4, "240.0.0.0/4", "reserved", "RFC 1112"),
    NO(V4(255, 255, 255, 255), 32, "255.255.255.255/32", "limited broadcast", "RFC 919"),

    /* IPv6: everything outside global unicast 2000::/3 ... */
    NO(V6(0, 0, 0, 0, 0, 0), 3, "::/3", "outside global unicast (2000::/3)", "RFC 4291"),
    NO(V6(0x4000, 0, 0, 0, 0, 0), 2, "4000::/2", "outside global unicast (2000::/3)", "RFC 4291"),
    NO(V6(0x8000, 0, 0, 0, 0, 0), 1, "8000::/1", "outside global unicast (2000::/3)", "RFC 4291"),
    /* ... with the names the registry (and RFC 4291) give its parts */
    NO(V6(0, 0, 0, 0, 0, 0), 128, "::/128", "unspecified", "RFC 4291"),
    NO(V6(0, 0, 0, 0, 0, 1), 128, "::1/128", "loopback", "RFC 4291"),
    NO(V6(0, 0, 0, 0, 0, 0), 96, "::/96", "IPv4-compatible (deprecated)", "RFC 4291"),
    EMBEDS(V6MAPPED, 96, 12, "::ffff:0:0/96", "IPv4-mapped", "RFC 4291"),
    EMBEDS(V6(0x64, 0xff9b, 0, 0, 0, 0), 96, 12, "64:ff9b::/96", "IPv4/IPv6 translation (NAT64)",
           "RFC 6052"),
    NO(V6(0x64, 0xff9b, 1, 0, 0, 0), 48, "64:ff9b:1::/48", "local-use IPv4/IPv6 translation",
       "RFC 8215"),
    NO(V6(0x100, 0, 0, 0, 0, 0), 64, "100::/64", "discard-only", "RFC 6666"),
    NO(V6(0x100, 0, 0, 1, 0, 0), 64, "100:0:0:1::/64", "dummy IPv6 prefix", "RFC 9780"),
    NO(V6(0x2001, 0, 0, 0, 0, 0), 23, "2001::/23", "IETF protocol assignments", "RFC 2928"),
    NO(V6(0x2001, 0, 0, 0, 0, 0), 32, "2001::/32", "Teredo", "RFC 4380"),
    YES(V6(0x2001, 1, 0, 0, 0, 1), 128, "2001:1::1/128", "port control protocol anycast",
        "RFC 7723"),
    YES(V6(0x2001, 1, 0, 0, 0, 2), 128, "2001:1::2/128", "TURN anycast", "RFC 8155"),
    NO(V6(0x2001, 2, 0, 0, 0, 0), 48, "2001:2::/48", "benchmarking", "RFC 5180"),
    YES(V6(0x2001, 3, 0, 0, 0, 0), 32, "2001:3::/32", "AMT", "RFC 7450"),
    YES(V6(0x2001, 4, 0x112, 0, 0, 0), 48, "2001:4:112::/48", "AS112-v6", "RFC 7535"),
    NO(V6(0x2001, 0x10, 0, 0, 0, 0), 28, "2001:10::/28", "deprecated ORCHID", "RFC 4843"),
    YES(V6(0x2001, 0x20, 0, 0, 0, 0), 28, "2001:20::/28", "ORCHIDv2", "RFC 7343"),
    YES(V6(0x2001, 0x30, 0, 0, 0, 0), 28, "2001:30::/28", "drone remote ID entity tags",
        "RFC 9374"),
    NO(V6(0x2001, 0xdb8, 0, 0, 0, 0), 32, "2001:db8::/32", "documentation", "RFC 3849"),
    EMBEDS(V6(0x2002, 0, 0, 0, 0, 0), 16, 2, "2002::/16", "6to4", "RFC 3056"),
    NO(V6(0x3fff, 0, 0, 0, 0, 0), 20, "3fff::/20", "documentation", "RFC 9637"),
    NO(V6(0x5f00, 0, 0, 0, 0, 0), 16, "5f00::/16", "segment routing (SRv6) SIDs", "RFC 9602"),
    NO(V6(0xfc00, 0, 0, 0, 0, 0), 7, "fc00::/7", "unique-local", "RFC 4193"),
    NO(V6(0xfe80, 0, 0, 0, 0, 0), 10, "fe80::/10", "link-local", "RFC 4291"),
    NO(V6(0xfec0, 0, 0, 0, 0, 0), 10, "fec0::/10", "site-local (deprecated)", "RFC 3879"),
    NO(V6(0xff00, 0, 0, 0, 0, 0), 8, "ff00::/8", "multicast", "RFC 4291"),
};

#define NROWS (sizeof table / sizeof table[0])

const struct netaddr_block *netaddr_blocks(size_t *n)
{
        *n = NROWS;
        return table;
}

static size_t addr_len(uint8_t family)
{
        return family == NETADDR_V4 ? 4 : 16;
}

bool netaddr_in(const struct netaddr *a, const struct netaddr_net *net)
{
        if (a->family != net->addr.family || net->plen > 8 * addr_len(a->family))
                return false;
        size_t full = net->plen / 8;
        if (memcmp(a->b, net->addr.b, full) != 0)
                return false;
        unsigned rest = net->plen % 8;
        if (rest == 0)
                return true;
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        return (a->b[full] & mask) == (net->addr.b[full] & mask);
}

/* The longest-prefix row containing `a`, or NULL. */
static const struct netaddr_block *lookup(const struct netaddr *a)
{
        const struct netaddr_block *best = NULL;
        for (size_t i = 0; i < NROWS; i++)
                if (netaddr_in(a, &table[i].net) && (!best || table[i].net.plen > best->net.plen))
                        best = &table[i];
        return best;
}

void netaddr_classify(const struct netaddr *a, struct netaddr_verdict *v)
{
        memset(v, 0, sizeof *v);
        if (a->family != NETADDR_V4 && a->family != NETADDR_V6) {
                v->special = true; /* not an address: never connect */
                return;
        }
        const struct netaddr_block *row = lookup(a);
        if (row && row->rule == NETADDR_EMBEDS_V4) {
                v->via = row;
                v->inner.family = NETADDR_V4;
                memcpy(v->inner.b, a->b + row->v4_at, 4);
                row = lookup(&v->inner);
        }
        v->block = row;
        v->special = row && row->rule == NETADDR_REFUSE;
}

bool netaddr_is_special(const struct netaddr *a)
{
        struct netaddr_verdict v;
        netaddr_classify(a, &v);
        return v.special;
}

struct netaddr netaddr_unmapped(const struct netaddr *a)
{
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        struct netaddr out = *a;
        if (a->family == NETADDR_V6 && memcmp(a->b, mapped, sizeof mapped) == 0) {
                memset(&out, 0, sizeof out);
                out.family = NETADDR_V4;
                memcpy(out.b, a->b + 12, 4);
        }
        return out;
}

const char *netaddr_format(const struct netaddr *a, char *out, size_t outsz)
{
        if (outsz == 0)
                return out;
        out[0] = '\0';
        if (a->family == NETADDR_V4 || a->family == NETADDR_V6)
                if (!inet_ntop(a->family == NETADDR_V4 ? AF_INET : AF_INET6, a->b, out,
                               (socklen_t)outsz))
                        out[0] = '\0';
        return out;
}

const char *netaddr_reverse_name(const struct netaddr *a, char *out, size_t outsz)
{
        static const char hexd[] = "0123456789abcdef";
        char tmp[NETADDR_REVERSE_MAX];
        size_t o = 0;
        if (a->family == NETADDR_V4) {
                int n = snprintf(tmp, sizeof tmp, "%u.%u.%u.%u.in-addr.arpa", a->b[3], a->b[2],
                                 a->b[1], a->b[0]);
                o = n > 0 ? (size_t)n : 0;
        } else if (a->family == NETADDR_V6) {
                for (int i = 15; i >= 0; i--) {
                        tmp[o++] = hexd[a->b[i] & 15];
                        tmp[o++] = '.';
                        tmp[o++] = hexd[a->b[i] >> 4];
                        tmp[o++] = '.';
                }
                memcpy(tmp + o, "ip6.arpa", 9);
                o += 8;
        } else {
                return NULL;
        }
        if (o == 0 || o + 1 > outsz)
                return NULL;
        memcpy(out, tmp, o + 1);
        return out;
}

const char *netaddr_describe(const struct netaddr *a, const struct netaddr_verdict *v, char *out,
                             size_t outsz)
{
        char at[NETADDR_TEXT_MAX], in[NETADDR_TEXT_MAX];
        netaddr_format(a, at, sizeof at);
        if (!v->block && !v->via)
                snprintf(out, outsz, "%s", at);
        else if (!v->via)
                snprintf(out, outsz, "%s (%s, %s, %s)", at, v->block->name, v->block->cidr,
                         v->block->ref);
        else if (!v->block)
                snprintf(out, outsz, "%s (%s, %s, %s, carrying %s)", at, v->via->name, v->via->cidr,
                         v->via->ref, netaddr_format(&v->inner, in, sizeof in));
        else
                snprintf(out, outsz, "%s (%s, %s, %s, carrying %s: %s, %s, %s)", at, v->via->name,
                         v->via->cidr, v->via->ref, netaddr_format(&v->inner, in, sizeof in),
                         v->block->name, v->block->cidr, v->block->ref);
        return out;
}

/* ---------------------------------------------------------------- parsing */

bool netaddr_parse(const char *text, struct netaddr *out)
{
        char tmp[NETADDR_TEXT_MAX];
        size_t n = text ? strlen(text) : 0;
        memset(out, 0, sizeof *out);
        if (n == 0 || n >= sizeof tmp)
                return false;
        bool bracketed = text[0] == '[';
        if (bracketed) {
                if (n < 3 || text[n - 1] != ']')
                        return false;
                memcpy(tmp, text + 1, n - 2);
                tmp[n - 2] = '\0';
        } else {
                memcpy(tmp, text, n + 1);
        }
        /* inet_pton reads the whole string: any other character fails */
        if (strchr(tmp, ':')) {
                if (inet_pton(AF_INET6, tmp, out->b) != 1)
                        return false;
                out->family = NETADDR_V6;
                return true;
        }
        if (bracketed || inet_pton(AF_INET, tmp, out->b) != 1)
                return false;
        out->family = NETADDR_V4;
        return true;
}

bool netaddr_parse_net(const char *text, struct netaddr_net *out)
{
        char tmp[NETADDR_TEXT_MAX];
        memset(out, 0, sizeof *out);
        if (!text)
                return false;
        const char *slash = strchr(text, '/');
        size_t al = slash ? (size_t)(slash - text) : strlen(text);
        if (al >= sizeof tmp)
                return false;
        memcpy(tmp, text, al);
        tmp[al] = '\0';
        if (!netaddr_parse(tmp, &out->addr))
                return false;
        unsigned max = (unsigned)(8 * addr_len(out->addr.family));
        unsigned plen = max;
        if (slash) {
                const char *p = slash + 1;
                size_t digits = strspn(p, "0123456789");
                if (digits == 0 || digits > 3 || p[digits] != '\0' || (digits > 1 && p[0] == '0'))
                        return false;
                plen = 0;
                for (size_t i = 0; i < digits; i++)
                        plen = plen * 10 + (unsigned)(p[i] - '0');
                if (plen > max)
                        return false;
        }
        out->plen = (uint8_t)plen;
        /* no bits set after the prefix */
        for (unsigned bit = plen; bit < max; bit++)
                if (out->addr.b[bit / 8] & (0x80 >> (bit % 8)))
                        return false;
        return true;
}

enum qerr netaddr_list_parse(const char *text, struct netaddr_list *out, struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        const char *p = text ? text : "";
        for (;;) {
                p += strspn(p, ", \t");
                if (!*p)
                        return QERR_OK;
                size_t len = strcspn(p, ", \t");
                char item[NETADDR_TEXT_MAX + 8];
                if (len >= sizeof item)
                        return qerr_set(ei, QERR_CONFIG,
                                        "\"%.40s...\" is not an IP address or block (such as "
                                        "127.0.0.1/32 or ::1/128)",
                                        p);
                memcpy(item, p, len);
                item[len] = '\0';
                if (out->n >= NETADDR_LIST_MAX)
                        return qerr_set(ei, QERR_CONFIG, "more than %d address blocks",
                                        NETADDR_LIST_MAX);
                if (!netaddr_parse_net(item, &out->nets[out->n]))
                        return qerr_set(ei, QERR_CONFIG,
                                        "\"%s\" is not an IP address or block (such as "
                                        "127.0.0.1/32 or ::1/128, no bits set after the prefix)",
                                        item);
                out->n++;
                p += len;
        }
}

bool netaddr_list_contains(const struct netaddr_list *l, const struct netaddr *a)
{
        if (!l)
                return false;
        struct netaddr u = netaddr_unmapped(a);
        for (size_t i = 0; i < l->n; i++)
                if (netaddr_in(&u, &l->nets[i]) || netaddr_in(a, &l->nets[i]))
                        return true;
        return false;
}
