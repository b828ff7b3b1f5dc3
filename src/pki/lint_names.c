/*
 * lint_names.c - the linter's checks of the names a certificate carries:
 * dNSName syntax (RFC 1034/1123 host names, RFC 5280 and BR wildcards,
 * A-labels checked by decoding their Punycode, RFC 3492), internal names and
 * public suffixes (src/policy, libpsl's list), and iPAddress entries against
 * the IANA special-purpose registries (the BR's "Reserved IP Address").
 *
 * Inputs are the raw bytes of the certificate (outside input): every loop is
 * bounded by their length; nothing is allocated. Any thread.
 */
#include "lint_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "../policy/policy.h"

#define LABEL_MAX 63
#define NAME_MAX_OCTETS 253

void lint_printable(const unsigned char *p, size_t len, char *out, size_t outsz)
{
        if (!outsz)
                return;
        size_t keep = len < outsz - 1 ? len : outsz - 1;
        bool cut = keep < len && outsz > 4;
        if (cut)
                keep = outsz - 4;
        for (size_t i = 0; i < keep; i++)
                out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
        if (cut) {
                memcpy(out + keep, "...", 3);
                keep += 3;
        }
        out[keep] = 0;
}

static bool ldh(unsigned char ch)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == '-';
}

static unsigned digit_value(unsigned char ch)
{
        if (ch >= '0' && ch <= '9')
                return ch - '0' + 26;
        if (ch >= 'a' && ch <= 'z')
                return ch - 'a';
        if (ch >= 'A' && ch <= 'Z')
                return ch - 'A';
        return 36;
}

static unsigned adapt(unsigned delta, unsigned numpoints, bool first)
{
        delta = first ? delta / 700 : delta / 2;
        delta += delta / numpoints;
        unsigned k = 0;
        while (delta > ((36 - 1) * 26) / 2) {
                delta /= 36 - 1;
                k += 36;
        }
        return k + (36 * delta) / (delta + 38);
}

/* RFC 3492 decoding of the part after "xn--": true when it decodes to at
 * most 63 code points of which at least one is non-ASCII, none a surrogate
 * or past U+10FFFF. */
static bool punycode_ok(const unsigned char *in, size_t len)
{
        if (len == 0)
                return false;
        size_t b = 0;
        bool delim = false;
        for (size_t j = 0; j < len; j++)
                if (in[j] == '-') {
                        b = j;
                        delim = true;
                }
        unsigned out = delim ? (unsigned)b : 0;
        unsigned n = 128, i = 0, bias = 72;
        bool non_ascii = false;
        for (size_t pos = delim ? b + 1 : 0; pos < len;) {
                unsigned oldi = i, w = 1;
                for (unsigned k = 36;; k += 36) {
                        if (pos >= len)
                                return false;
                        unsigned digit = digit_value(in[pos++]);
                        if (digit >= 36 || digit > (0xffffffffu - i) / w)
                                return false;
                        i += digit * w;
                        unsigned t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
                        if (digit < t)
                                break;
                        if (w > 0xffffffffu / (36 - t))
                                return false;
                        w *= 36 - t;
                }
                out++;
                bias = adapt(i - oldi, out, oldi == 0);
                if (i / out > 0x10ffffu - n)
                        return false;
                n += i / out;
                i %= out;
                if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff) || out > LABEL_MAX)
                        return false;
                non_ascii = true;
                i++;
        }
        return non_ascii;
}

/* Flags of one name: each rule reports once per name. */
enum {
        F_EMPTY = 1 << 0,
        F_UNDERSCORE = 1 << 1,
        F_BADCHAR = 1 << 2,
        F_HYPHEN = 1 << 3,
        F_LABEL_LONG = 1 << 4,
        F_WILDCARD = 1 << 5,
        F_ALABEL = 1 << 6,
};

static unsigned label_flags(const unsigned char *l, size_t ll, size_t idx, size_t nlabels)
{
        unsigned f = 0;
        if (ll == 0)
                return F_EMPTY;
        if (ll > LABEL_MAX)
                f |= F_LABEL_LONG;
        if (ll == 1 && l[0] == '*') {
                /* the whole leftmost label, with at least two labels after it */
                if (idx != 0 || nlabels < 3)
                        f |= F_WILDCARD;
                return f;
        }
        for (size_t i = 0; i < ll; i++) {
                if (l[i] == '*')
                        f |= F_WILDCARD;
                else if (l[i] == '_')
                        f |= F_UNDERSCORE;
                else if (!ldh(l[i]))
                        f |= F_BADCHAR;
        }
        if (l[0] == '-' || l[ll - 1] == '-')
                f |= F_HYPHEN;
        if (ll >= 4 && l[2] == '-' && l[3] == '-') {
                bool xn = (l[0] == 'x' || l[0] == 'X') && (l[1] == 'n' || l[1] == 'N');
                if (!xn || !punycode_ok(l + 4, ll - 4))
                        f |= F_ALABEL;
        }
        return f;
}

void lint_dnsname(struct lint_report *r, const unsigned char *p, size_t len, bool public_rules)
{
        char show[96];
        lint_printable(p, len, show, sizeof show);
        if (len > NAME_MAX_OCTETS)
                lint_add(r, LC_DNS_TOO_LONG, "the dNSName \"%s\" has %zu octets (at most %d)", show,
                         len, NAME_MAX_OCTETS);
        size_t nlabels = 1;
        for (size_t i = 0; i < len; i++)
                nlabels += p[i] == '.';
        unsigned f = len == 0 ? F_EMPTY : 0;
        size_t start = 0, idx = 0;
        for (size_t i = 0; len && i <= len; i++) {
                if (i < len && p[i] != '.')
                        continue;
                f |= label_flags(p + start, i - start, idx++, nlabels);
                start = i + 1;
        }
        if (f & F_EMPTY)
                lint_add(r, LC_DNS_EMPTY_LABEL,
                         "the dNSName \"%s\" has an empty label (a leading, doubled or trailing "
                         "dot, or no name at all)",
                         show);
        if (f & F_UNDERSCORE)
                lint_add(r, LC_DNS_UNDERSCORE, "the dNSName \"%s\" contains an underscore", show);
        if (f & F_BADCHAR)
                lint_add(r, LC_DNS_BAD_CHAR,
                         "the dNSName \"%s\" contains a character other than a letter, digit, "
                         "hyphen or dot",
                         show);
        if (f & F_HYPHEN)
                lint_add(r, LC_DNS_HYPHEN,
                         "the dNSName \"%s\" has a label that starts or ends with a hyphen", show);
        if (f & F_LABEL_LONG)
                lint_add(r, LC_DNS_LABEL_TOO_LONG,
                         "the dNSName \"%.60s\" has a label longer than %d octets", show,
                         LABEL_MAX);
        if (f & F_WILDCARD)
                lint_add(r, LC_DNS_WILDCARD,
                         "the dNSName \"%s\" has a \"*\" that is not the whole leftmost label "
                         "followed by at least two labels",
                         show);
        if (f & F_ALABEL)
                lint_add(r, LC_DNS_ALABEL,
                         "the dNSName \"%s\" has a label with \"--\" in positions 3-4 that is not "
                         "a valid A-label (xn-- followed by Punycode of a non-ASCII label)",
                         show);
        if (!public_rules || len == 0 || len > NAME_MAX_OCTETS ||
            (f & (F_EMPTY | F_BADCHAR | F_UNDERSCORE)))
                return;
        char name[NAME_MAX_OCTETS + 1];
        memcpy(name, p, len);
        name[len] = 0;
        const char *base = len > 2 && name[0] == '*' && name[1] == '.' ? name + 2 : name;
        if (policy_name_is_internal(base))
                lint_add(r, LC_DNS_INTERNAL,
                         "the dNSName \"%s\" is an internal name: its top-level domain is not in "
                         "the ICANN section of the public suffix list (or is special-use)",
                         show);
        else if (policy_name_is_public_suffix(base))
                lint_add(r, LC_DNS_PUBLIC_SUFFIX, "the dNSName \"%s\" %s the public suffix \"%s\"",
                         show, base != name ? "covers every name under" : "is", base);
}

/* IANA IPv4 and IPv6 special-purpose address registries (the BR's Reserved
 * IP Addresses), plus multicast, which names no host. */
struct net {
        uint8_t a[16];
        unsigned bits;
        const char *what;
};

static const struct net v4[] = {
    {{0}, 8, "\"this network\" (RFC 791)"},
    {{10}, 8, "private-use (RFC 1918)"},
    {{100, 64}, 10, "shared address space (RFC 6598)"},
    {{127}, 8, "loopback (RFC 1122)"},
    {{169, 254}, 16, "link-local (RFC 3927)"},
    {{172, 16}, 12, "private-use (RFC 1918)"},
    {{192, 0, 0}, 24, "IETF protocol assignments (RFC 6890)"},
    {{192, 0, 2}, 24, "documentation (RFC 5737)"},
    {{192, 31, 196}, 24, "AS112-v4 (RFC 7535)"},
    {{192, 52, 193}, 24, "AMT (RFC 7450)"},
    {{192, 88, 99}, 24, "deprecated 6to4 relay anycast (RFC 7526)"},
    {{192, 168}, 16, "private-use (RFC 1918)"},
    {{192, 175, 48}, 24, "direct delegation AS112 service (RFC 7534)"},
    {{198, 18}, 15, "benchmarking (RFC 2544)"},
    {{198, 51, 100}, 24, "documentation (RFC 5737)"},
    {{203, 0, 113}, 24, "documentation (RFC 5737)"},
    {{224}, 4, "multicast (RFC 5771)"},
    {{240}, 4, "reserved (RFC 1112)"},
};

static const struct net v6[] = {
    {{0}, 128, "the unspecified address (RFC 4291)"},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, "loopback (RFC 4291)"},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, "IPv4-mapped (RFC 4291)"},
    {{0, 0x64, 0xff, 0x9b}, 96, "IPv4-IPv6 translation (RFC 6052)"},
    {{0, 0x64, 0xff, 0x9b, 0, 1}, 48, "IPv4-IPv6 translation (RFC 8215)"},
    {{1, 0}, 64, "discard-only (RFC 6666)"},
    {{0x20, 0x01}, 23, "IETF protocol assignments (RFC 2928)"},
    {{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation (RFC 3849)"},
    {{0x20, 0x02}, 16, "6to4 (RFC 3056)"},
    {{0x26, 0x20, 0, 0x4f, 0x80}, 48, "direct delegation AS112 service (RFC 7534)"},
    {{0x3f, 0xff}, 20, "documentation (RFC 9637)"},
    {{0x5f, 0x00}, 16, "segment routing SIDs (RFC 9602)"},
    {{0xfc}, 7, "unique-local (RFC 4193)"},
    {{0xfe, 0x80}, 10, "link-local unicast (RFC 4291)"},
    {{0xff}, 8, "multicast (RFC 4291)"},
};

static bool in_net(const unsigned char *p, const struct net *n)
{
        unsigned full = n->bits / 8, rest = n->bits % 8;
        if (memcmp(p, n->a, full) != 0)
                return false;
        if (!rest)
                return true;
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        return (p[full] & mask) == (n->a[full] & mask);
}

void lint_ipaddr(struct lint_report *r, const unsigned char *p, size_t len, bool public_rules,
                 char text[46])
{
        text[0] = 0;
        if (len != 4 && len != 16) {
                lint_add(r, LC_IP_LENGTH, "an iPAddress entry has %zu octets (4 or 16 expected)",
                         len);
                return;
        }
        inet_ntop(len == 4 ? AF_INET : AF_INET6, p, text, 46);
        if (!public_rules)
                return;
        const struct net *t = len == 4 ? v4 : v6;
        size_t n = len == 4 ? sizeof v4 / sizeof v4[0] : sizeof v6 / sizeof v6[0];
        for (size_t i = 0; i < n; i++)
                if (in_net(p, &t[i])) {
                        lint_add(r, LC_IP_RESERVED,
                                 "the iPAddress %s is a reserved address: %s (IANA "
                                 "special-purpose registry)",
                                 text, t[i].what);
                        return;
                }
}
