/*
 * names.c - the names a certificate may carry: syntax (RFC 1034/1123 host
 * names, RFC 5280/BR wildcards, IP literals) and the public suffix rules.
 *
 * policy_check_name() lower-cases a requested name (ASCII only: IDNs must
 * arrive as A-labels, "xn--..."), strips one trailing dot, and checks it:
 * syntax problems answer NAME_INVALID; a name that is fine as a name but may
 * not be certified (an IP literal or wildcard the profile does not allow, a
 * public suffix itself such as "co.uk", or a wildcard over one such as
 * "*.co.uk" or "*.com") answers POLICY_DENIED. With POLICY_NAME_LOCALHOST
 * (the private profile) the single label "localhost" is accepted too; any
 * other single label stays NAME_INVALID. policy_registered_domain()
 * gives the registrable domain by the public suffix list, the key of the
 * reissue lock of §6.
 *
 * The public suffix list is libpsl's built-in copy (psl_builtin(), static
 * data inside libpsl); only when libpsl was built without one do we load the
 * system's list with psl_latest(NULL) (the one file read in this layer, once,
 * at first use; that copy is kept for the life of the process). The context
 * lives in a function-static pointer that is set once (atomically: a racing
 * loser frees its copy) and never changed or freed afterwards; it is
 * read-only data, not mutable state, and libpsl's lookups do not modify it,
 * so any thread may call these functions concurrently. IP literals are
 * recognised with inet_pton()/inet_ntop(), which are pure.
 *
 * Memory: nothing allocated per call; results go into caller buffers.
 */
#include "policy.h"

#include <arpa/inet.h>
#include <libpsl.h>
#include <stdatomic.h>
#include <string.h>

#define DNS_LABEL_MAX 63

static const psl_ctx_t *psl_ctx(void)
{
        static _Atomic(const psl_ctx_t *) ctx = NULL;
        const psl_ctx_t *p = atomic_load_explicit(&ctx, memory_order_acquire);
        if (p)
                return p;
        psl_ctx_t *loaded = NULL;
        p = psl_builtin();
        if (!p)
                p = loaded = psl_latest(NULL);
        if (!p)
                return NULL;
        const psl_ctx_t *expected = NULL;
        if (!atomic_compare_exchange_strong_explicit(&ctx, &expected, p, memory_order_acq_rel,
                                                     memory_order_acquire)) {
                psl_free(loaded); /* another thread won; use its context */
                return expected;
        }
        return p;
}

static char ascii_lower(char ch)
{
        return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static bool is_ldh(char ch)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
}

/* Lower-cases `name` into `buf` (size QUILL_MAX_NAME_LEN + 2); false when it
 * cannot fit (longer than 253 bytes plus one trailing dot). */
static bool lower_copy(const char *name, char *buf, size_t *len)
{
        const size_t n = strlen(name);
        if (n > QUILL_MAX_NAME_LEN + 1)
                return false;
        for (size_t i = 0; i < n; i++)
                buf[i] = ascii_lower(name[i]);
        buf[n] = '\0';
        *len = n;
        return true;
}

/* If `s` is an IPv4 dotted quad or an IPv6 literal, writes its canonical
 * text to `canon` and returns true. */
static bool ip_literal(const char *s, char canon[INET6_ADDRSTRLEN])
{
        unsigned char addr[sizeof(struct in6_addr)];
        if (inet_pton(AF_INET, s, addr) == 1)
                return inet_ntop(AF_INET, addr, canon, INET6_ADDRSTRLEN) != NULL;
        if (inet_pton(AF_INET6, s, addr) == 1)
                return inet_ntop(AF_INET6, addr, canon, INET6_ADDRSTRLEN) != NULL;
        return false;
}

/* Label syntax of a lower-cased DNS name without trailing dot (`orig` is the
 * name as given, for messages): length, LDH labels, hyphens, the "*" label,
 * the all-numeric TLD. Sets *wildcard when the first label is "*" and
 * *nlabels to the number of labels (the "*" included). The label-count rules
 * are left to the callers so that a public suffix is reported as such. */
static enum qerr check_dns_syntax(const char *n, size_t len, const char *orig, bool *wildcard,
                                  size_t *nlabels, struct qerr_info *ei)
{
        *wildcard = false;
        *nlabels = 0;
        if (len == 0)
                return qerr_set(ei, QERR_NAME_INVALID,
                                "The name \"%s\" is empty; give a DNS name such as "
                                "www.example.com.",
                                orig);
        if (len > QUILL_MAX_NAME_LEN)
                return qerr_set(ei, QERR_NAME_INVALID,
                                "The name \"%.40s...\" is %zu bytes long; a DNS name may have at "
                                "most %d bytes. Use a shorter name.",
                                orig, len, QUILL_MAX_NAME_LEN);
        size_t labels = 0;
        const char *tld = n;
        for (const char *p = n; p <= n + len;) {
                const char *end = memchr(p, '.', (size_t)(n + len - p));
                if (!end)
                        end = n + len;
                const size_t ll = (size_t)(end - p);
                const size_t idx = labels++;
                tld = p;
                if (ll == 0)
                        return qerr_set(ei, QERR_NAME_INVALID,
                                        "The name \"%s\" has an empty label (a leading dot or two "
                                        "dots in a row); remove the extra dot.",
                                        orig);
                if (ll > DNS_LABEL_MAX)
                        return qerr_set(ei, QERR_NAME_INVALID,
                                        "The name \"%s\" has a label of %zu bytes; a DNS label may "
                                        "have at most %d bytes. Shorten it.",
                                        orig, ll, DNS_LABEL_MAX);
                if (memchr(p, '*', ll)) {
                        if (idx != 0 || ll != 1)
                                return qerr_set(ei, QERR_NAME_INVALID,
                                                "The name \"%s\" has a \"*\" that is not the whole "
                                                "first label; a wildcard must look like "
                                                "*.example.com.",
                                                orig);
                        *wildcard = true;
                } else {
                        for (size_t i = 0; i < ll; i++) {
                                const unsigned char ch = (unsigned char)p[i];
                                if (is_ldh((char)ch))
                                        continue;
                                if (ch == '_')
                                        return qerr_set(ei, QERR_NAME_INVALID,
                                                        "The name \"%s\" contains an underscore; "
                                                        "host names in certificates may use only "
                                                        "letters, digits and hyphens.",
                                                        orig);
                                if (ch >= 0x80)
                                        return qerr_set(ei, QERR_NAME_INVALID,
                                                        "The name \"%s\" contains non-ASCII "
                                                        "characters; give an internationalised "
                                                        "name in its A-label form (xn--...).",
                                                        orig);
                                return qerr_set(ei, QERR_NAME_INVALID,
                                                "The name \"%s\" contains the character '%c' "
                                                "(0x%02x); DNS names may use only letters, digits, "
                                                "hyphens and dots.",
                                                orig, ch >= 0x20 && ch < 0x7f ? ch : '?', ch);
                        }
                        if (p[0] == '-' || p[ll - 1] == '-')
                                return qerr_set(ei, QERR_NAME_INVALID,
                                                "The name \"%s\" has a label that starts or ends "
                                                "with a hyphen; remove the hyphen.",
                                                orig);
                }
                p = end + 1;
        }
        if (*wildcard && labels == 1)
                return qerr_set(ei, QERR_NAME_INVALID,
                                "The name \"%s\" is a bare wildcard; a wildcard needs a domain, "
                                "as in *.example.com.",
                                orig);
        *nlabels = labels;
        bool numeric = true;
        for (const char *p = tld; *p; p++)
                if (*p < '0' || *p > '9')
                        numeric = false;
        if (numeric)
                return qerr_set(ei, QERR_NAME_INVALID,
                                "The name \"%s\" ends in an all-numeric label, which is not a "
                                "top-level domain (and not a valid IP address); give a DNS name or "
                                "a complete IP address.",
                                orig);
        return QERR_OK;
}

static enum qerr put_out(const char *s, char *out, size_t outsz, struct qerr_info *ei)
{
        if (!out)
                return QERR_OK;
        const size_t n = strlen(s);
        if (n >= outsz) {
                if (outsz)
                        out[0] = '\0';
                return qerr_set(ei, QERR_INTERNAL,
                                "The buffer for the normalised name \"%s\" is too small (%zu "
                                "bytes); this is a bug, please report it.",
                                s, outsz);
        }
        memcpy(out, s, n + 1);
        return QERR_OK;
}

enum qerr policy_check_name(const char *name, bool allow_wildcard, bool allow_ip, char *out,
                            size_t outsz, struct qerr_info *ei)
{
        return policy_check_name_ex(
            name, (allow_wildcard ? POLICY_NAME_WILDCARD : 0u) | (allow_ip ? POLICY_NAME_IP : 0u),
            out, outsz, ei);
}

unsigned policy_name_flags(bool private_profile)
{
        return private_profile ? POLICY_NAME_WILDCARD | POLICY_NAME_IP | POLICY_NAME_LOCALHOST
                               : POLICY_NAME_WILDCARD;
}

enum qerr policy_check_name_ex(const char *name, unsigned flags, char *out, size_t outsz,
                               struct qerr_info *ei)
{
        const bool allow_wildcard = flags & POLICY_NAME_WILDCARD;
        const bool allow_ip = flags & POLICY_NAME_IP;
        if (out && outsz)
                out[0] = '\0';
        if (!name)
                return qerr_set(ei, QERR_NAME_INVALID,
                                "No name was given; give a DNS name such as www.example.com.");
        char buf[QUILL_MAX_NAME_LEN + 2];
        size_t len;
        if (!lower_copy(name, buf, &len))
                return qerr_set(ei, QERR_NAME_INVALID,
                                "The name \"%.40s...\" is %zu bytes long; a DNS name may have at "
                                "most %d bytes. Use a shorter name.",
                                name, strlen(name), QUILL_MAX_NAME_LEN);

        char ip[INET6_ADDRSTRLEN];
        if (ip_literal(buf, ip)) {
                if (!allow_ip)
                        return qerr_set(ei, QERR_POLICY_DENIED,
                                        "\"%s\" is an IP address, and this profile does not allow "
                                        "IP addresses in certificates; request a DNS name instead.",
                                        name);
                /* the unspecified address names no host */
                if (strcmp(ip, "0.0.0.0") == 0 || strcmp(ip, "::") == 0)
                        return qerr_set(ei, QERR_NAME_INVALID,
                                        "\"%s\" is the unspecified address, which names no host; "
                                        "use the host's own address.",
                                        name);
                return put_out(ip, out, outsz, ei);
        }

        if (len > 0 && buf[len - 1] == '.')
                buf[--len] = '\0';
        bool wildcard;
        size_t labels;
        enum qerr e = check_dns_syntax(buf, len, name, &wildcard, &labels, ei);
        if (e != QERR_OK)
                return e;
        const char *base = wildcard ? buf + 2 : buf;
        const size_t base_labels = wildcard ? labels - 1 : labels;

        const psl_ctx_t *psl = psl_ctx();
        if (!psl)
                return qerr_set(ei, QERR_INTERNAL,
                                "No public suffix list is available, so \"%s\" cannot be checked; "
                                "install libpsl with its built-in list (or publicsuffix data) and "
                                "try again.",
                                name);
        /* Only suffixes the list names: its implicit "*" rule would make
         * every single label ("localhost") a suffix, and those are plain
         * syntax errors below. */
        if (psl_is_public_suffix2(psl, base, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE)) {
                if (wildcard)
                        return qerr_set(ei, QERR_POLICY_DENIED,
                                        "\"%s\" covers every name under the public suffix "
                                        "\"%s\"; request names under a domain you registered, "
                                        "such as *.example.%s.",
                                        name, base, base);
                return qerr_set(ei, QERR_POLICY_DENIED,
                                "\"%s\" is a public suffix, not a domain anyone can own; request a "
                                "name under a registered domain, such as example.%s.",
                                name, base);
        }
        if (!wildcard && labels == 1 && (flags & POLICY_NAME_LOCALHOST) &&
            strcmp(buf, "localhost") == 0)
                return put_out(buf, out, outsz, ei);
        if (wildcard && base_labels < 2)
                return qerr_set(ei, QERR_NAME_INVALID,
                                "The wildcard \"%s\" covers a whole top-level domain; a wildcard "
                                "needs at least two labels after \"*.\", as in *.example.com.",
                                name);
        if (base_labels < 2)
                return qerr_set(ei, QERR_NAME_INVALID,
                                "The name \"%s\" has a single label; certificates need a fully "
                                "qualified name such as %s.example.com.",
                                name, buf);
        if (wildcard && !allow_wildcard)
                return qerr_set(ei, QERR_POLICY_DENIED,
                                "\"%s\" is a wildcard name, and this profile does not allow "
                                "wildcards; request each host name on its own.",
                                name);
        return put_out(buf, out, outsz, ei);
}

bool policy_registered_domain(const char *name, char *out, size_t outsz)
{
        if (out && outsz)
                out[0] = '\0';
        if (!name || !out)
                return false;
        char buf[QUILL_MAX_NAME_LEN + 2];
        size_t len;
        if (!lower_copy(name, buf, &len))
                return false;
        if (len > 0 && buf[len - 1] == '.')
                buf[--len] = '\0';
        bool wildcard;
        size_t labels;
        if (check_dns_syntax(buf, len, name, &wildcard, &labels, NULL) != QERR_OK)
                return false;
        const psl_ctx_t *psl = psl_ctx();
        if (!psl)
                return false;
        const char *reg = psl_registrable_domain(psl, wildcard ? buf + 2 : buf);
        if (!reg)
                return false;
        const size_t n = strlen(reg);
        if (n >= outsz)
                return false;
        memcpy(out, reg, n + 1);
        return true;
}

/* The last label of a lower-case copy of `name` (no trailing dot) in `buf`;
 * NULL when the name does not fit or is empty. */
static const char *tld_of(const char *name, char buf[QUILL_MAX_NAME_LEN + 2])
{
        size_t len;
        if (!name || !lower_copy(name, buf, &len))
                return NULL;
        if (len > 0 && buf[len - 1] == '.')
                buf[--len] = '\0';
        if (len == 0)
                return NULL;
        const char *dot = strrchr(buf, '.');
        return dot ? dot + 1 : buf;
}

bool policy_name_is_internal(const char *name)
{
        char buf[QUILL_MAX_NAME_LEN + 2];
        const char *tld = tld_of(name, buf);
        if (!tld || !*tld)
                return true;
        /* special-use names that the list does carry (RFC 7686, RFC 3172) */
        if (strcmp(tld, "onion") == 0 || strcmp(tld, "arpa") == 0)
                return true;
        const psl_ctx_t *psl = psl_ctx();
        if (!psl)
                return true; /* cannot tell: treat as internal (refuse, never allow) */
        return !psl_is_public_suffix2(psl, tld, PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE);
}

bool policy_name_is_public_suffix(const char *name)
{
        char buf[QUILL_MAX_NAME_LEN + 2];
        size_t len;
        if (!name || !lower_copy(name, buf, &len))
                return false;
        if (len > 0 && buf[len - 1] == '.')
                buf[--len] = '\0';
        const psl_ctx_t *psl = psl_ctx();
        return len > 0 && psl &&
               psl_is_public_suffix2(psl, buf, PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE);
}

enum qerr policy_check_public_name(const char *name, struct qerr_info *ei)
{
        char ip[INET6_ADDRSTRLEN];
        if (!name)
                return qerr_set(ei, QERR_NAME_INVALID, "No name was given.");
        if (ip_literal(name, ip))
                return qerr_set(ei, QERR_POLICY_DENIED,
                                "\"%s\" is an IP address; publicly trusted (dv, ov, ev) "
                                "certificates name DNS names only here. Request a DNS name, or "
                                "use the private profile for IP addresses.",
                                name);
        if (!policy_name_is_internal(name))
                return QERR_OK;
        char buf[QUILL_MAX_NAME_LEN + 2];
        const char *tld = tld_of(name, buf);
        if (!tld)
                tld = "";
        const bool special = !strcmp(tld, "onion") || !strcmp(tld, "arpa");
        return qerr_set(ei, QERR_POLICY_DENIED,
                        "\"%s\" is an internal name: its top-level domain \".%s\" %s, so no "
                        "publicly trusted certificate may name it (Baseline Requirements 4.2.2, "
                        "7.1.2.7.12). Use a name under a registered public domain, or the "
                        "private profile for internal names.",
                        name, tld,
                        special ? "is a special-use domain"
                                : "is not one of the public DNS (the ICANN section of the "
                                  "public suffix list)");
}
