/*
 * fuzz_netaddr.c - libFuzzer target for the address parsers of
 * src/base/netaddr.c (netaddr_parse, netaddr_parse_net,
 * netaddr_list_parse) and the classifier behind them.
 *
 * Checks, aborting on any disagreement: a parsed address formats to text
 * that parses back to the same address; an IPv4 address and its IPv4-mapped
 * IPv6 form get the same verdict; a parsed block contains its own address;
 * every block of a parsed list contains its address; descriptions always
 * fit their buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/netaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_address(const struct netaddr *a)
{
        char text[NETADDR_TEXT_MAX], why[NETADDR_WHY_MAX];
        struct netaddr back;
        struct netaddr_verdict v;
        netaddr_format(a, text, sizeof text);
        if (!netaddr_parse(text, &back) || back.family != a->family ||
            memcmp(back.b, a->b, a->family == NETADDR_V4 ? 4 : 16) != 0)
                abort();
        netaddr_classify(a, &v);
        if (strlen(netaddr_describe(a, &v, why, sizeof why)) >= sizeof why)
                abort();
        if (v.special && !v.block && !v.via)
                abort(); /* a refusal always names its block */
        if (a->family == NETADDR_V4) {
                struct netaddr m = {.family = NETADDR_V6};
                m.b[10] = m.b[11] = 0xff;
                memcpy(m.b + 12, a->b, 4);
                if (netaddr_is_special(&m) != v.special)
                        abort();
                struct netaddr u = netaddr_unmapped(&m);
                if (u.family != NETADDR_V4 || memcmp(u.b, a->b, 4) != 0)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 4096)
                return 0;
        char *text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';

        struct netaddr a;
        if (netaddr_parse(text, &a))
                check_address(&a);

        struct netaddr_net n;
        if (netaddr_parse_net(text, &n)) {
                if (!netaddr_in(&n.addr, &n))
                        abort();
                check_address(&n.addr);
        }

        struct netaddr_list l;
        struct qerr_info ei;
        if (netaddr_list_parse(text, &l, &ei) == QERR_OK) {
                if (l.n > NETADDR_LIST_MAX)
                        abort();
                for (size_t i = 0; i < l.n; i++)
                        if (!netaddr_list_contains(&l, &l.nets[i].addr))
                                abort();
        }
        free(text);
        return 0;
}
