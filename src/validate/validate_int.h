/*
 * validate_int.h - what validate.c (values, the DNS method, sentences) and
 * validate_file.c (the file method, http-01), validate_addr.c (the addresses
 * validation may connect to) and validate_alpn.c (tls-alpn-01) share. Not for
 * other modules.
 *
 * Sentences: every outcome is a struct validate_result with a sentence
 * naming what was checked and what was seen. Untrusted text that names
 * something (a host, a URL, a CNAME target) is escaped and cut
 * (val_show_*); untrusted content (a fetched body, a TXT record) is never
 * repeated, only described by its size, type and form (val_describe_found).
 * Any thread; nothing here keeps state.
 */
#ifndef QUILL_VALIDATE_INT_H
#define QUILL_VALIDATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validate.h"

#define URL_SHOW 300     /* characters of a URL or name shown in a sentence */
#define NAME_MAX_LEN 253 /* a DNS name without the trailing dot */

/* out = {code, final, printf(fmt)} */
void val_set_result(struct validate_result *out, enum qerr code, bool final, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* FILE_UNREACHABLE with the sentence followed by where validation requests
 * come from (c->source_addresses); the sentence is shortened if needed so
 * that the addresses always fit (RULES.md §2 requires them). */
void val_set_unreachable(struct validate_result *out, const struct validate_cfg *c, bool final,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same with another code (TLS_ALPN_UNREACHABLE for tls-alpn-01). */
void val_set_unreachable_as(struct validate_result *out, const struct validate_cfg *c,
                            enum qerr code, bool final, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Untrusted bytes for a sentence: printable ASCII as is (quote and
 * backslash escaped), everything else as \xNN, at most outsz - 4
 * characters, "..." when cut. Returns out. */
const char *val_show_bytes(const uint8_t *p, size_t n, char *out, size_t outsz);
const char *val_show_str(const char *s, char *out, size_t outsz);

/* Length of `body` without trailing spaces, tabs, CR and LF. */
size_t val_trimmed_len(const uint8_t *body, size_t len);

/* true when `p` (n bytes) has the form of a validation value (base64url,
 * VALIDATE_VALUE_LEN characters): most likely another order's value. */
bool val_value_shaped(const uint8_t *p, size_t n);

/* ---- addresses (validate_addr.c) ---- */

#define MAX_ADDRS 16 /* addresses of one host that are tried */

/* The addresses one host may be reached at (family AF_INET: addr[i][0..3]). */
struct addrset {
        size_t n;
        int family[MAX_ADDRS];
        uint8_t addr[MAX_ADDRS][16];
};

/* Appends one address (ignored past MAX_ADDRS). */
void val_addrset_add(struct addrset *s, int family, const uint8_t *a);

/* An IP literal host ("192.0.2.1", "2001:db8::1" or "[2001:db8::1]") into
 * `s`; false when `host` is a name. */
bool val_literal_addr(const char *host, struct addrset *s);

/* May validation connect to this address? When not, `why` gets the address
 * and its block ("10.0.0.5 (private-use, 10.0.0.0/8, RFC 1918)"). */
bool val_addr_public(const struct validate_cfg *c, int family, const uint8_t *b, char *why,
                     size_t whysz);

/* After the lookup (or the literal) of a host: drops the addresses that are
 * not public; when none is left, fills `out` (`unreach`, final: the name's
 * DNS or the redirect must change) and returns false. `what` (escaped) says
 * what was to be fetched. */
bool val_keep_public(const struct validate_cfg *c, struct addrset *s, const char *what,
                     bool redirected, enum qerr unreach, struct validate_result *out);

/* Looks up A and AAAA of `host` through c->dns. On failure fills `out`
 * (DNS_ERROR, not final, for a failed lookup; `unreach` for no address) and
 * returns false. */
bool val_resolve_host(const struct validate_cfg *c, const char *host, const char *what,
                      struct addrset *s, enum qerr unreach, struct validate_result *out);

/* CLOCK_MONOTONIC in milliseconds. */
long val_now_ms(void);

/* `s` has 1..max characters, letters, digits, '-', '_' (and '.' unless
 * `token`). */
bool val_name_chars_ok(const char *s, size_t max, bool token);

#endif
