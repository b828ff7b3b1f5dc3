/*
 * validate.h - proving control of a domain name: a TXT record at
 * _acme-challenge.<name>, or a file at
 * http://<name>/.well-known/pki-validation/<token>.txt.
 *
 * Values: validate_new_value() draws the random value (at least 112 bits:
 * 32 bytes, base64url) and token. The DNS check looks up TXT through the
 * caller's resolver. The file check uses libcurl, connecting only to the
 * public addresses our resolver returned for the name (checked against the
 * special-purpose table of src/base/netaddr.h, then pinned with
 * CURLOPT_RESOLVE; never the system resolver), on port 80 ([validation]
 * http_port in tests), following at most 10 redirects, only 301, 302, 307
 * and 308, and only to http on 80 or https on 443 ([validation] https_port)
 * on public addresses, reading at most 4 KiB, within [validation]
 * timeout_ms; TLS certificates are not checked on redirects to https (BR
 * 3.2.2.4.18 allows this). What a TXT record or a fetched file holds is
 * never repeated in a sentence: only its size, type and form.
 *
 * Results say whether a failure is final (the user must change something:
 * wrong value, redirect to a forbidden port) or may pass later (not yet
 * published, server down): workers retry the latter until the deadline.
 *
 * Memory: plain values; the caller owns everything. Threads: one call at a
 * time per resolver; libcurl easy handles are per call
 * (curl_global_init is done once by validate_global_init at start).
 */
#ifndef QUILL_VALIDATE_H
#define QUILL_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "../base/buf.h"
#include "../base/err.h"

struct dns_resolver;
struct netaddr_list;

#define VALIDATE_MAX_BODY 4096
#define VALIDATE_MAX_REDIRECTS 10
#define VALIDATE_VALUE_LEN 43 /* base64url of 32 random bytes */
#define VALIDATE_TOKEN_LEN 22 /* base64url of 16 random bytes */

/* Call once at program start, before threads (curl_global_init). */
enum qerr validate_global_init(struct qerr_info *ei);

/* Fills value[VALIDATE_VALUE_LEN + 1] and token[VALIDATE_TOKEN_LEN + 1]
 * from the CSPRNG (base64url, no padding). */
enum qerr validate_new_value(char *value, char *token, struct qerr_info *ei);

struct validate_cfg {
        struct dns_resolver *dns;
        long http_port;  /* 80 */
        long https_port; /* 443 */
        long timeout_ms;
        const char *source_addresses; /* for file_unreachable sentences */
        /* tests only: connect to special-purpose addresses too
         * ([validation] allow_private_addresses) */
        bool allow_private;
        /* tests only: blocks treated as public ([validation] allow_addresses);
         * NULL for none */
        const struct netaddr_list *allow;
        /* ACME http-01 (RFC 8555 8.3): validate_file() fetches
         * /.well-known/acme-challenge/<token> (no ".txt"), whose body must be
         * the key authorization given as `value` */
        bool acme_http01;
};

struct validate_result {
        enum qerr code;         /* QERR_OK, VALIDATION_MISMATCH, VALIDATION_TIMEOUT (not found yet),
                                   FILE_UNREACHABLE, DNS_ERROR, POLICY_DENIED */
        bool final;             /* true: retrying cannot help */
        char msg[QERR_MSG_MAX]; /* the sentence for the user, naming the name and what was seen */
};

/* TXT at _acme-challenge.<name> (for "*.x": at _acme-challenge.x) must hold
 * `value` (any of the records, each compared whole, in constant time).
 * No record or NXDOMAIN: VALIDATION_TIMEOUT, not final. Records but none
 * equal: VALIDATION_MISMATCH, final. Lookup failure: DNS_ERROR, not final. */
void validate_dns(const struct validate_cfg *c, const char *name, const char *value,
                  struct validate_result *out);

/* GET http://<name>:<http_port>/.well-known/pki-validation/<token>.txt; the
 * body (trailing whitespace/newlines trimmed) must equal `value`. Wildcard
 * names are refused (POLICY_DENIED, final). Connection refused, timeout,
 * non-200, too many redirects: FILE_UNREACHABLE, not final. A redirect to a
 * port other than http_port/https_port, or to a scheme other than
 * http/https, a redirect status other than 301/302/307/308, or a host (the
 * name or a redirect target, by DNS or as an IP literal) with no public
 * address: FILE_UNREACHABLE, final, nothing connected to. Wrong body:
 * VALIDATION_MISMATCH, final. Name with no address: DNS_ERROR (lookup
 * failure) or FILE_UNREACHABLE (no A/AAAA). */
void validate_file(const struct validate_cfg *c, const char *name, const char *token,
                   const char *value, struct validate_result *out);

/* Trims trailing whitespace of a fetched body and compares it with `value`
 * in constant time; exposed for the fuzzer (fuzz/fuzz_validate_body.c). */
bool validate_body_matches(const uint8_t *body, size_t len, const char *value);

#endif
