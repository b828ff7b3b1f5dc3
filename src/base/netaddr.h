/*
 * netaddr.h - IP addresses, and which of them quill must never connect to
 * on a user's behalf.
 *
 * Validation (the file method, later ACME http-01 and tls-alpn-01) and
 * webhooks connect to addresses that an applicant chooses through DNS or a
 * redirect. Pointed at 127.0.0.1, 10.0.0.5 or 169.254.169.254 they would
 * turn the CA into a probe of its own network (server-side request
 * forgery). netaddr_classify() says whether an address is public, and when
 * it is not, which registered block it falls in and why, so that a refusal
 * can name it.
 *
 * The rule is the "Globally Reachable" column of the IANA IPv4 and IPv6
 * Special-Purpose Address Registries (RFC 6890, RFC 8190): every block whose
 * entry is False or N/A is refused, the few entries marked True inside a
 * refused block (192.0.0.9/32, 2001:3::/32, ...) are public. On top of the
 * registries (stricter): multicast (224.0.0.0/4, ff00::/8), the deprecated
 * 6to4 relay anycast block 192.88.99.0/24, and every IPv6 address outside
 * the global unicast space 2000::/3 (RFC 4291 section 2.4). Three IPv6
 * forms carry an IPv4 address and are judged by it: IPv4-mapped
 * (::ffff:0:0/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16, the IPv4
 * address in bits 16-47); the local-use NAT64 prefix 64:ff9b:1::/48 and the
 * deprecated IPv4-compatible form ::/96 are refused whatever they carry.
 * The table is in netaddr.c; docs/internals/dns-caa-validation.md lists it.
 *
 * Pure: no I/O, no allocation, no state; any thread. Results point into a
 * static read-only table (do not free).
 */
#ifndef QUILL_NETADDR_H
#define QUILL_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define NETADDR_V4 4
#define NETADDR_V6 6
/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" plus brackets and NUL */
#define NETADDR_TEXT_MAX 48
/* an address with its description, e.g. "::ffff:10.0.0.5 (IPv4-mapped, ...)" */
#define NETADDR_WHY_MAX 256
#define NETADDR_LIST_MAX 32

/* One address: family NETADDR_V4 (b[0..3], network order) or NETADDR_V6. */
struct netaddr {
        uint8_t family;
        uint8_t b[16];
};

/* An address block ("10.0.0.0/8"). */
struct netaddr_net {
        struct netaddr addr;
        uint8_t plen;
};

enum netaddr_rule {
        NETADDR_REFUSE,    /* not globally reachable: never connect */
        NETADDR_GLOBAL,    /* globally reachable (an exception inside a refused block) */
        NETADDR_EMBEDS_V4, /* judged by the IPv4 address it carries */
};

/* One row of the table. */
struct netaddr_block {
        struct netaddr_net net;
        enum netaddr_rule rule;
        uint8_t v4_at;    /* NETADDR_EMBEDS_V4: byte offset of the IPv4 address */
        const char *cidr; /* "10.0.0.0/8" */
        const char *name; /* "private-use" */
        const char *ref;  /* "RFC 1918" */
};

struct netaddr_verdict {
        bool special; /* true: validation must not connect to it */
        /* the row that decided (for an embedded IPv4 address: its row);
         * NULL when no row matched (an ordinary public address) */
        const struct netaddr_block *block;
        /* the IPv6 row that carries the IPv4 address that decided, else NULL */
        const struct netaddr_block *via;
        struct netaddr inner; /* that IPv4 address, when via != NULL */
};

/* Parses an IPv4 address in dotted-decimal form ("192.0.2.1": four decimal
 * numbers, no leading zeros) or an IPv6 address in RFC 4291 text form
 * ("2001:db8::1", "::ffff:192.0.2.1"), optionally in brackets ("[::1]").
 * No zone ids ("fe80::1%eth0"), no prefix length, no other IPv4 spellings
 * ("127.1", "0x7f000001"). False when `text` is anything else. */
bool netaddr_parse(const char *text, struct netaddr *out);

/* "ADDRESS/LEN" (LEN optional: the whole address); the bits after LEN must
 * be zero. False otherwise. */
bool netaddr_parse_net(const char *text, struct netaddr_net *out);

/* Canonical text (RFC 5952 for IPv6) into out[NETADDR_TEXT_MAX]; returns out. */
const char *netaddr_format(const struct netaddr *a, char *out, size_t outsz);

/* The reverse-mapping name of `a` without a trailing dot (RFC 1035 3.5,
 * RFC 3596 2.5): "1.2.0.192.in-addr.arpa" for 192.0.2.1, 32 nibbles then
 * "ip6.arpa" for IPv6. It is the SNI of a tls-alpn-01 validation of an IP
 * address (RFC 8738 section 6). Returns out, or NULL when `outsz` is too
 * small (NETADDR_REVERSE_MAX always fits) or the family is unknown. */
#define NETADDR_REVERSE_MAX 73
const char *netaddr_reverse_name(const struct netaddr *a, char *out, size_t outsz);

/* true when `a` lies in `net` (same family). */
bool netaddr_in(const struct netaddr *a, const struct netaddr_net *net);

/* The IPv4 address of an IPv4-mapped IPv6 address (::ffff:a.b.c.d), else a
 * copy of `a`. */
struct netaddr netaddr_unmapped(const struct netaddr *a);

/* Classifies `a` (see the header comment). Always fills `v`. */
void netaddr_classify(const struct netaddr *a, struct netaddr_verdict *v);

/* Shorthand: netaddr_classify(a).special. */
bool netaddr_is_special(const struct netaddr *a);

/* The address and why it is refused, for a sentence:
 * "10.0.0.5 (private-use, 10.0.0.0/8, RFC 1918)",
 * "::ffff:10.0.0.5 (IPv4-mapped, ::ffff:0:0/96, RFC 4291, carrying 10.0.0.5:
 * private-use, 10.0.0.0/8, RFC 1918)". A public address gives just its text.
 * Returns out. */
const char *netaddr_describe(const struct netaddr *a, const struct netaddr_verdict *v, char *out,
                             size_t outsz);

/* The rows of the table, most general first (for tests and docs). */
const struct netaddr_block *netaddr_blocks(size_t *n);

/* A list of blocks. */
struct netaddr_list {
        size_t n;
        struct netaddr_net nets[NETADDR_LIST_MAX];
};

/* Parses "127.0.0.1/32, ::1" (blocks separated by commas and/or spaces; an
 * empty text is an empty list). QERR_CONFIG naming the bad entry, or when
 * there are more than NETADDR_LIST_MAX. */
enum qerr netaddr_list_parse(const char *text, struct netaddr_list *out, struct qerr_info *ei);

/* true when `a` (IPv4-mapped addresses as their IPv4 address) lies in one of
 * the blocks. */
bool netaddr_list_contains(const struct netaddr_list *l, const struct netaddr *a);

#endif
