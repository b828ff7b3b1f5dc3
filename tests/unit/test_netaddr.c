/*
 * test_netaddr.c - the special-purpose address table (src/base/netaddr.c):
 * which addresses validation may connect to, and the text parsers.
 *
 * Three kinds of checks:
 * - every row of the table: its bytes match its CIDR text, and its first
 *   and last addresses fall in it (or in a more specific row inside it);
 * - a table of addresses, several per block with the edges and the
 *   neighbours just outside, each with the expected verdict and the name of
 *   the block that decided (IPv4-mapped, NAT64 and 6to4 forms included);
 * - the parsers: good and bad addresses, blocks and lists.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/netaddr.h"

/* ---- the rows themselves ---- */

static void last_of(const struct netaddr_net *n, struct netaddr *out)
{
        *out = n->addr;
        unsigned max = n->addr.family == NETADDR_V4 ? 32 : 128;
        for (unsigned bit = n->plen; bit < max; bit++)
                out->b[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
}

static bool inside(const struct netaddr_net *inner, const struct netaddr_net *outer)
{
        return inner->plen >= outer->plen && netaddr_in(&inner->addr, outer);
}

static void test_rows_match_their_text(void **state)
{
        (void)state;
        size_t n;
        const struct netaddr_block *t = netaddr_blocks(&n);
        assert_true(n > 40);
        for (size_t i = 0; i < n; i++) {
                struct netaddr_net parsed;
                if (!netaddr_parse_net(t[i].cidr, &parsed))
                        fail_msg("row %zu: %s does not parse", i, t[i].cidr);
                if (parsed.plen != t[i].net.plen || parsed.addr.family != t[i].net.addr.family ||
                    memcmp(parsed.addr.b, t[i].net.addr.b, 16) != 0)
                        fail_msg("row %zu: the bytes are not %s", i, t[i].cidr);
                if (!t[i].name || !t[i].name[0] || strncmp(t[i].ref, "RFC ", 4) != 0)
                        fail_msg("row %zu (%s): no name or reference", i, t[i].cidr);
                if (t[i].rule == NETADDR_EMBEDS_V4 &&
                    (t[i].net.addr.family != NETADDR_V6 || t[i].v4_at + 4 > 16))
                        fail_msg("row %zu (%s): bad embedding", i, t[i].cidr);
                /* no two rows for the same block */
                for (size_t j = 0; j < i; j++)
                        if (t[j].net.plen == t[i].net.plen &&
                            t[j].net.addr.family == t[i].net.addr.family &&
                            netaddr_in(&t[i].net.addr, &t[j].net))
                                fail_msg("rows %zu and %zu are both %s", j, i, t[i].cidr);
        }
}

static void test_row_edges_fall_in_their_row(void **state)
{
        (void)state;
        size_t n;
        const struct netaddr_block *t = netaddr_blocks(&n);
        for (size_t i = 0; i < n; i++) {
                if (t[i].rule == NETADDR_EMBEDS_V4)
                        continue; /* decided by what they carry: see the table below */
                struct netaddr ends[2];
                ends[0] = t[i].net.addr;
                last_of(&t[i].net, &ends[1]);
                for (int e = 0; e < 2; e++) {
                        struct netaddr_verdict v;
                        netaddr_classify(&ends[e], &v);
                        const struct netaddr_block *b = v.via ? v.via : v.block;
                        if (!b || !inside(&b->net, &t[i].net))
                                fail_msg("%s: its %s address is decided by %s", t[i].cidr,
                                         e ? "last" : "first", b ? b->cidr : "no row");
                        /* a row decides for itself unless a more specific row says otherwise */
                        if (b == &t[i] && v.special != (t[i].rule == NETADDR_REFUSE))
                                fail_msg("%s: wrong verdict", t[i].cidr);
                }
        }
}

/* ---- the verdict table ---- */

struct verdict_case {
        const char *addr;
        bool special;
        const char *block; /* the CIDR of the deciding row; NULL: none (public) */
        const char *via;   /* the CIDR of the embedding row, or NULL */
};

static const struct verdict_case cases[] = {
    /* public IPv4, including neighbours of refused blocks */
    {"1.1.1.1", false, NULL, NULL},
    {"8.8.8.8", false, NULL, NULL},
    {"93.184.216.34", false, NULL, NULL},
    {"1.0.0.0", false, NULL, NULL},
    {"9.255.255.255", false, NULL, NULL},
    {"11.0.0.0", false, NULL, NULL},
    {"100.63.255.255", false, NULL, NULL},
    {"100.128.0.0", false, NULL, NULL},
    {"126.255.255.255", false, NULL, NULL},
    {"128.0.0.0", false, NULL, NULL},
    {"169.253.255.255", false, NULL, NULL},
    {"169.255.0.0", false, NULL, NULL},
    {"172.15.255.255", false, NULL, NULL},
    {"172.32.0.0", false, NULL, NULL},
    {"191.255.255.255", false, NULL, NULL},
    {"192.0.1.0", false, NULL, NULL},
    {"192.0.3.0", false, NULL, NULL},
    {"192.88.98.255", false, NULL, NULL},
    {"192.88.100.0", false, NULL, NULL},
    {"192.167.255.255", false, NULL, NULL},
    {"192.169.0.0", false, NULL, NULL},
    {"198.17.255.255", false, NULL, NULL},
    {"198.20.0.0", false, NULL, NULL},
    {"198.51.99.255", false, NULL, NULL},
    {"198.51.101.0", false, NULL, NULL},
    {"203.0.112.255", false, NULL, NULL},
    {"203.0.114.0", false, NULL, NULL},
    {"223.255.255.255", false, NULL, NULL},
    {"192.31.196.1", false, NULL, NULL}, /* AS112-v4: globally reachable */
    {"192.52.193.1", false, NULL, NULL}, /* AMT: globally reachable */
    {"192.175.48.1", false, NULL, NULL}, /* AS112 direct delegation */
    /* 0.0.0.0/8 */
    {"0.0.0.0", true, "0.0.0.0/32", NULL},
    {"0.0.0.1", true, "0.0.0.0/8", NULL},
    {"0.255.255.255", true, "0.0.0.0/8", NULL},
    /* 10/8 */
    {"10.0.0.0", true, "10.0.0.0/8", NULL},
    {"10.0.0.5", true, "10.0.0.0/8", NULL},
    {"10.255.255.255", true, "10.0.0.0/8", NULL},
    /* 100.64/10 */
    {"100.64.0.0", true, "100.64.0.0/10", NULL},
    {"100.100.100.100", true, "100.64.0.0/10", NULL},
    {"100.127.255.255", true, "100.64.0.0/10", NULL},
    /* 127/8 */
    {"127.0.0.1", true, "127.0.0.0/8", NULL},
    {"127.0.0.0", true, "127.0.0.0/8", NULL},
    {"127.0.0.2", true, "127.0.0.0/8", NULL},
    {"127.255.255.255", true, "127.0.0.0/8", NULL},
    /* 169.254/16 */
    {"169.254.0.0", true, "169.254.0.0/16", NULL},
    {"169.254.169.253", true, "169.254.0.0/16", NULL},
    {"169.254.169.254", true, "169.254.169.254/32", NULL},
    {"169.254.169.255", true, "169.254.0.0/16", NULL},
    {"169.254.255.255", true, "169.254.0.0/16", NULL},
    /* 172.16/12 */
    {"172.16.0.0", true, "172.16.0.0/12", NULL},
    {"172.20.1.2", true, "172.16.0.0/12", NULL},
    {"172.31.255.255", true, "172.16.0.0/12", NULL},
    /* 192.0.0/24 and its rows */
    {"192.0.0.0", true, "192.0.0.0/29", NULL},
    {"192.0.0.7", true, "192.0.0.0/29", NULL},
    {"192.0.0.8", true, "192.0.0.8/32", NULL},
    {"192.0.0.9", false, "192.0.0.9/32", NULL},
    {"192.0.0.10", false, "192.0.0.10/32", NULL},
    {"192.0.0.11", true, "192.0.0.0/24", NULL},
    {"192.0.0.170", true, "192.0.0.170/31", NULL},
    {"192.0.0.171", true, "192.0.0.170/31", NULL},
    {"192.0.0.172", true, "192.0.0.0/24", NULL},
    {"192.0.0.255", true, "192.0.0.0/24", NULL},
    /* documentation */
    {"192.0.2.0", true, "192.0.2.0/24", NULL},
    {"192.0.2.10", true, "192.0.2.0/24", NULL},
    {"192.0.2.255", true, "192.0.2.0/24", NULL},
    {"198.51.100.0", true, "198.51.100.0/24", NULL},
    {"198.51.100.255", true, "198.51.100.0/24", NULL},
    {"203.0.113.0", true, "203.0.113.0/24", NULL},
    {"203.0.113.255", true, "203.0.113.0/24", NULL},
    /* 6to4 relay anycast */
    {"192.88.99.0", true, "192.88.99.0/24", NULL},
    {"192.88.99.1", true, "192.88.99.0/24", NULL},
    {"192.88.99.255", true, "192.88.99.0/24", NULL},
    /* 192.168/16 */
    {"192.168.0.0", true, "192.168.0.0/16", NULL},
    {"192.168.1.1", true, "192.168.0.0/16", NULL},
    {"192.168.255.255", true, "192.168.0.0/16", NULL},
    /* benchmarking 198.18/15 */
    {"198.18.0.0", true, "198.18.0.0/15", NULL},
    {"198.19.255.255", true, "198.18.0.0/15", NULL},
    /* multicast, reserved, broadcast */
    {"224.0.0.0", true, "224.0.0.0/4", NULL},
    {"224.0.0.251", true, "224.0.0.0/4", NULL},
    {"239.255.255.255", true, "224.0.0.0/4", NULL},
    {"240.0.0.0", true, "240.0.0.0/4", NULL},
    {"250.1.2.3", true, "240.0.0.0/4", NULL},
    {"255.255.255.254", true, "240.0.0.0/4", NULL},
    {"255.255.255.255", true, "255.255.255.255/32", NULL},

    /* public IPv6 */
    {"2606:4700:4700::1111", false, NULL, NULL},
    {"2a00:1450:4001:80b::200e", false, NULL, NULL},
    {"2000::", false, NULL, NULL},
    {"2001:200::", false, NULL, NULL}, /* just past 2001::/23 */
    {"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", true, "2001::/23", NULL},
    {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false, NULL, NULL},
    {"2001:db9::", false, NULL, NULL},
    {"2001:1::1", false, "2001:1::1/128", NULL},
    {"2001:1::2", false, "2001:1::2/128", NULL},
    {"2001:3::1", false, "2001:3::/32", NULL},
    {"2001:4:112::1", false, "2001:4:112::/48", NULL},
    {"2001:20::1", false, "2001:20::/28", NULL},
    {"2001:3f:ffff::1", false, "2001:30::/28", NULL},
    {"2620:4f:8000::1", false, NULL, NULL},
    {"3ffe:ffff::1", false, NULL, NULL},
    {"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, NULL, NULL},
    /* ::/128, ::1, IPv4-compatible */
    {"::", true, "::/128", NULL},
    {"::1", true, "::1/128", NULL},
    {"::2", true, "::/96", NULL},
    {"::8.8.8.8", true, "::/96", NULL},
    {"::1:0:0", true, "::/3", NULL},
    /* IPv4-mapped: judged by the IPv4 address */
    {"::ffff:8.8.8.8", false, NULL, "::ffff:0:0/96"},
    {"::ffff:127.0.0.1", true, "127.0.0.0/8", "::ffff:0:0/96"},
    {"::ffff:10.0.0.5", true, "10.0.0.0/8", "::ffff:0:0/96"},
    {"::ffff:169.254.169.254", true, "169.254.169.254/32", "::ffff:0:0/96"},
    {"::ffff:192.168.1.1", true, "192.168.0.0/16", "::ffff:0:0/96"},
    {"::ffff:100.64.0.1", true, "100.64.0.0/10", "::ffff:0:0/96"},
    {"::ffff:0.0.0.0", true, "0.0.0.0/32", "::ffff:0:0/96"},
    {"::ffff:255.255.255.255", true, "255.255.255.255/32", "::ffff:0:0/96"},
    {"::ffff:224.0.0.1", true, "224.0.0.0/4", "::ffff:0:0/96"},
    {"::ffff:192.0.0.9", false, "192.0.0.9/32", "::ffff:0:0/96"},
    {"::fffe:127.0.0.1", true, "::/3", NULL},
    {"::1:ffff:127.0.0.1", true, "::/3", NULL},
    /* NAT64 */
    {"64:ff9b::8.8.8.8", false, NULL, "64:ff9b::/96"},
    {"64:ff9b::127.0.0.1", true, "127.0.0.0/8", "64:ff9b::/96"},
    {"64:ff9b::a00:5", true, "10.0.0.0/8", "64:ff9b::/96"},
    {"64:ff9b::a9fe:a9fe", true, "169.254.169.254/32", "64:ff9b::/96"},
    {"64:ff9b::1:0:0", true, "::/3", NULL}, /* outside the /96 */
    {"64:ff9b:1::1", true, "64:ff9b:1::/48", NULL},
    {"64:ff9b:1::8.8.8.8", true, "64:ff9b:1::/48", NULL},
    {"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", true, "64:ff9b:1::/48", NULL},
    /* 100::/64 and the dummy prefix */
    {"100::", true, "100::/64", NULL},
    {"100::ffff:ffff:ffff:ffff", true, "100::/64", NULL},
    {"100:0:0:1::1", true, "100:0:0:1::/64", NULL},
    {"100:0:0:2::", true, "::/3", NULL},
    /* 2001::/23 */
    {"2001::", true, "2001::/32", NULL},
    {"2001:0:4136:e378:8000:63bf:3fff:fdd2", true, "2001::/32", NULL},
    {"2001:1::", true, "2001::/23", NULL},
    {"2001:1::3", true, "2001::/23", NULL},
    {"2001:2::", true, "2001:2::/48", NULL},
    {"2001:2:0:ffff::1", true, "2001:2::/48", NULL},
    {"2001:2:1::", true, "2001::/23", NULL},
    {"2001:4:113::1", true, "2001::/23", NULL},
    {"2001:10::1", true, "2001:10::/28", NULL},
    {"2001:1f:ffff::1", true, "2001:10::/28", NULL},
    {"2001:40::1", true, "2001::/23", NULL},
    {"2001:100::1", true, "2001::/23", NULL},
    /* documentation */
    {"2001:db8::", true, "2001:db8::/32", NULL},
    {"2001:db8::10", true, "2001:db8::/32", NULL},
    {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true, "2001:db8::/32", NULL},
    {"3fff::", true, "3fff::/20", NULL},
    {"3fff:fff:ffff::1", true, "3fff::/20", NULL},
    {"3fff:1000::1", false, NULL, NULL},
    /* 6to4: judged by the IPv4 address in bits 16-47 */
    {"2002:808:808::1", false, NULL, "2002::/16"},
    {"2002:7f00:1::1", true, "127.0.0.0/8", "2002::/16"},
    {"2002:a00:5::", true, "10.0.0.0/8", "2002::/16"},
    {"2002:c0a8:101::1", true, "192.168.0.0/16", "2002::/16"},
    {"2002:a9fe:a9fe::1", true, "169.254.169.254/32", "2002::/16"},
    {"2002::", true, "0.0.0.0/32", "2002::/16"},
    /* SRv6, unique-local, link-local, site-local, multicast */
    {"5f00::1", true, "5f00::/16", NULL},
    {"5f00:ffff::", true, "5f00::/16", NULL},
    {"fc00::", true, "fc00::/7", NULL},
    {"fd12:3456:789a::1", true, "fc00::/7", NULL},
    {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, "fc00::/7", NULL},
    {"fe80::", true, "fe80::/10", NULL},
    {"fe80::1", true, "fe80::/10", NULL},
    {"febf:ffff::1", true, "fe80::/10", NULL},
    {"fec0::1", true, "fec0::/10", NULL},
    {"ff00::", true, "ff00::/8", NULL},
    {"ff02::1", true, "ff00::/8", NULL},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, "ff00::/8", NULL},
    /* the rest of the space outside 2000::/3 */
    {"1fff:ffff::1", true, "::/3", NULL},
    {"4000::1", true, "4000::/2", NULL},
    {"7fff::1", true, "4000::/2", NULL},
    {"8000::1", true, "8000::/1", NULL},
    {"e000::1", true, "8000::/1", NULL},
    {"fe00::1", true, "8000::/1", NULL},
};

static void test_verdicts(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const struct verdict_case *c = &cases[i];
                struct netaddr a;
                struct netaddr_verdict v;
                if (!netaddr_parse(c->addr, &a))
                        fail_msg("%s does not parse", c->addr);
                netaddr_classify(&a, &v);
                const char *block = v.block ? v.block->cidr : NULL;
                const char *via = v.via ? v.via->cidr : NULL;
                if (v.special != c->special || (block == NULL) != (c->block == NULL) ||
                    (block && strcmp(block, c->block) != 0) || (via == NULL) != (c->via == NULL) ||
                    (via && strcmp(via, c->via) != 0))
                        fail_msg("%s: got special=%d block=%s via=%s, want %d %s %s", c->addr,
                                 v.special, block ? block : "-", via ? via : "-", c->special,
                                 c->block ? c->block : "-", c->via ? c->via : "-");
                assert_int_equal(netaddr_is_special(&a), c->special);
        }
}

static void test_describe(void **state)
{
        (void)state;
        static const struct {
                const char *addr, *want;
        } d[] = {
            {"10.0.0.5", "10.0.0.5 (private-use, 10.0.0.0/8, RFC 1918)"},
            {"169.254.169.254", "169.254.169.254 (link-local, the cloud instance metadata service, "
                                "169.254.169.254/32, RFC 3927)"},
            {"::1", "::1 (loopback, ::1/128, RFC 4291)"},
            {"::ffff:10.0.0.5", "::ffff:10.0.0.5 (IPv4-mapped, ::ffff:0:0/96, RFC 4291, carrying "
                                "10.0.0.5: private-use, 10.0.0.0/8, RFC 1918)"},
            {"::ffff:8.8.8.8", "::ffff:8.8.8.8 (IPv4-mapped, ::ffff:0:0/96, RFC 4291, carrying "
                               "8.8.8.8)"},
            {"8.8.8.8", "8.8.8.8"},
            {"2001:DB8:0:0::1", "2001:db8::1 (documentation, 2001:db8::/32, RFC 3849)"},
        };
        for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
                struct netaddr a;
                struct netaddr_verdict v;
                char out[NETADDR_WHY_MAX];
                assert_true(netaddr_parse(d[i].addr, &a));
                netaddr_classify(&a, &v);
                assert_string_equal(netaddr_describe(&a, &v, out, sizeof out), d[i].want);
        }
        /* a short buffer is cut, never overrun */
        struct netaddr a;
        struct netaddr_verdict v;
        char small[12];
        assert_true(netaddr_parse("::ffff:10.0.0.5", &a));
        netaddr_classify(&a, &v);
        netaddr_describe(&a, &v, small, sizeof small);
        assert_int_equal(strlen(small), sizeof small - 1);
        /* not an address at all: refused */
        struct netaddr junk = {.family = 9};
        assert_true(netaddr_is_special(&junk));
}

/* ---- parsers ---- */

static void test_parse(void **state)
{
        (void)state;
        static const struct {
                const char *text;
                bool ok;
                const char *canon;
        } p[] = {
            {"192.0.2.1", true, "192.0.2.1"},
            {"0.0.0.0", true, "0.0.0.0"},
            {"255.255.255.255", true, "255.255.255.255"},
            {"::", true, "::"},
            {"[::1]", true, "::1"},
            {"2001:DB8::1", true, "2001:db8::1"},
            {"2001:0db8:0000:0000:0000:0000:0000:0001", true, "2001:db8::1"},
            {"::ffff:192.0.2.1", true, "::ffff:192.0.2.1"},
            {"64:ff9b::192.0.2.1", true, "64:ff9b::c000:201"},
            {"", false, NULL},
            {" 1.2.3.4", false, NULL},
            {"1.2.3.4 ", false, NULL},
            {"1.2.3", false, NULL},
            {"127.1", false, NULL},
            {"1.2.3.4.5", false, NULL},
            {"256.1.1.1", false, NULL},
            {"01.2.3.4", false, NULL},
            {"0x7f.0.0.1", false, NULL},
            {"2130706433", false, NULL},
            {"[1.2.3.4]", false, NULL},
            {"[::1", false, NULL},
            {"::1]", false, NULL},
            {"[]", false, NULL},
            {"fe80::1%eth0", false, NULL},
            {"[fe80::1%25eth0]", false, NULL},
            {"1:2:3:4:5:6:7:8:9", false, NULL},
            {"1::2::3", false, NULL},
            {"::ffff:1.2.3", false, NULL},
            {"12345::", false, NULL},
            {"g::", false, NULL},
            {"10.0.0.0/8", false, NULL},
            {"localhost", false, NULL},
            {"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", true,
             "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
            {"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555", false, NULL},
        };
        for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
                struct netaddr a;
                char out[NETADDR_TEXT_MAX];
                bool ok = netaddr_parse(p[i].text, &a);
                if (ok != p[i].ok)
                        fail_msg("\"%s\": parse gave %d", p[i].text, ok);
                if (ok)
                        assert_string_equal(netaddr_format(&a, out, sizeof out), p[i].canon);
        }
        struct netaddr a;
        assert_false(netaddr_parse(NULL, &a));
        char longer[200];
        memset(longer, '1', sizeof longer - 1);
        longer[sizeof longer - 1] = '\0';
        assert_false(netaddr_parse(longer, &a));
}

static void test_parse_net(void **state)
{
        (void)state;
        static const struct {
                const char *text;
                bool ok;
                int plen;
        } p[] = {
            {"127.0.0.1/32", true, 32},  {"127.0.0.1", true, 32},     {"10.0.0.0/8", true, 8},
            {"0.0.0.0/0", true, 0},      {"::/0", true, 0},           {"::1/128", true, 128},
            {"::1", true, 128},          {"fe80::/10", true, 10},     {"10.0.0.1/8", false, 0},
            {"10.0.0.0/33", false, 0},   {"::/129", false, 0},        {"10.0.0.0/", false, 0},
            {"10.0.0.0/08", false, 0},   {"10.0.0.0/-1", false, 0},   {"10.0.0.0/8/8", false, 0},
            {"10.0.0.0/8 ", false, 0},   {"fe80::1/10", false, 0},    {"/8", false, 0},
            {"10.0.0.0/1000", false, 0}, {"[::1]/128", true, 128},    {"x/8", false, 0},
            {"172.16.0.0/12", true, 12}, {"172.17.0.0/12", false, 0},
        };
        for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
                struct netaddr_net n;
                bool ok = netaddr_parse_net(p[i].text, &n);
                if (ok != p[i].ok || (ok && n.plen != p[i].plen))
                        fail_msg("\"%s\": got %d /%d", p[i].text, ok, ok ? n.plen : -1);
        }
        struct netaddr_net n;
        assert_false(netaddr_parse_net(NULL, &n));
}

static void test_list(void **state)
{
        (void)state;
        struct netaddr_list l;
        struct qerr_info ei;
        struct netaddr a;
        assert_int_equal(netaddr_list_parse("", &l, &ei), QERR_OK);
        assert_int_equal(l.n, 0);
        assert_int_equal(netaddr_list_parse(NULL, &l, &ei), QERR_OK);
        assert_true(netaddr_parse("127.0.0.1", &a));
        assert_false(netaddr_list_contains(&l, &a));
        assert_false(netaddr_list_contains(NULL, &a));

        assert_int_equal(netaddr_list_parse(" 127.0.0.1/32,::1 , 10.1.0.0/16\t", &l, &ei), QERR_OK);
        assert_int_equal(l.n, 3);
        static const struct {
                const char *addr;
                bool in;
        } m[] = {
            {"127.0.0.1", true}, {"127.0.0.2", false},       {"::1", true},
            {"::2", false},      {"::ffff:127.0.0.1", true}, {"10.1.255.255", true},
            {"10.2.0.0", false}, {"::ffff:10.1.0.1", true},  {"169.254.169.254", false},
            {"0.0.0.0", false},
        };
        for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
                assert_true(netaddr_parse(m[i].addr, &a));
                if (netaddr_list_contains(&l, &a) != m[i].in)
                        fail_msg("%s: want in=%d", m[i].addr, m[i].in);
        }

        static const char *const bad[] = {"127.0.0.1/33", "localhost", "10.0.0.1/8",
                                          "127.0.0.1/32;::1", "1.2.3.4/32 x"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                assert_int_equal(netaddr_list_parse(bad[i], &l, &ei), QERR_CONFIG);
                assert_non_null(strstr(ei.msg, "is not an IP address or block"));
        }
        char many[NETADDR_LIST_MAX * 16 + 64] = "";
        for (int i = 0; i <= NETADDR_LIST_MAX; i++) {
                char one[24];
                snprintf(one, sizeof one, "10.0.0.%d,", i);
                strncat(many, one, sizeof many - strlen(many) - 1);
        }
        assert_int_equal(netaddr_list_parse(many, &l, &ei), QERR_CONFIG);
        assert_non_null(strstr(ei.msg, "more than"));
        char huge[300];
        memset(huge, '1', sizeof huge - 1);
        huge[sizeof huge - 1] = '\0';
        assert_int_equal(netaddr_list_parse(huge, &l, &ei), QERR_CONFIG);
}

/* RFC 8738 section 6: the SNI of tls-alpn-01 for an IP address. */
static void test_reverse_name(void **state)
{
        (void)state;
        static const struct {
                const char *addr, *want;
        } rcases[] = {
            {"192.0.2.1", "1.2.0.192.in-addr.arpa"},
            {"255.255.255.255", "255.255.255.255.in-addr.arpa"},
            {"0.0.0.0", "0.0.0.0.in-addr.arpa"},
            {"2001:db8::1",
             "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
            {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
             "e.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.ip6.arpa"},
            {"::ffff:192.0.2.1", /* an IPv6 identifier stays IPv6 */
             "1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa"},
        };
        struct netaddr a;
        char out[NETADDR_REVERSE_MAX];
        for (size_t i = 0; i < sizeof rcases / sizeof rcases[0]; i++) {
                assert_true(netaddr_parse(rcases[i].addr, &a));
                memset(out, 'x', sizeof out);
                assert_ptr_equal(netaddr_reverse_name(&a, out, sizeof out), out);
                assert_string_equal(out, rcases[i].want);
        }
        /* the longest fits NETADDR_REVERSE_MAX exactly; one byte less does not */
        assert_int_equal(strlen(rcases[4].want) + 1, NETADDR_REVERSE_MAX);
        assert_true(netaddr_parse(rcases[4].addr, &a));
        assert_null(netaddr_reverse_name(&a, out, NETADDR_REVERSE_MAX - 1));
        a.family = 0;
        assert_null(netaddr_reverse_name(&a, out, sizeof out));
}

static void test_unmapped(void **state)
{
        (void)state;
        struct netaddr a, u;
        char out[NETADDR_TEXT_MAX];
        assert_true(netaddr_parse("::ffff:1.2.3.4", &a));
        u = netaddr_unmapped(&a);
        assert_int_equal(u.family, NETADDR_V4);
        assert_string_equal(netaddr_format(&u, out, sizeof out), "1.2.3.4");
        assert_true(netaddr_parse("64:ff9b::1.2.3.4", &a));
        u = netaddr_unmapped(&a);
        assert_int_equal(u.family, NETADDR_V6);
        assert_true(netaddr_parse("1.2.3.4", &a));
        u = netaddr_unmapped(&a);
        assert_int_equal(u.family, NETADDR_V4);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_rows_match_their_text),
            cmocka_unit_test(test_row_edges_fall_in_their_row),
            cmocka_unit_test(test_verdicts),
            cmocka_unit_test(test_describe),
            cmocka_unit_test(test_parse),
            cmocka_unit_test(test_parse_net),
            cmocka_unit_test(test_list),
            cmocka_unit_test(test_unmapped),
            cmocka_unit_test(test_reverse_name),
        };
        return cmocka_run_group_tests_name("netaddr", tests, NULL, NULL);
}
