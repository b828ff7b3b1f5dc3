/*
 * validate.h - proving control of a domain name: a TXT record at
 * _acme-challenge.<name>, or a file at
 * http://<name>/.well-known/pki-validation/<token>.txt; for ACME also
 * http-01 (http://<name>/.well-known/acme-challenge/<token>) and
 * tls-alpn-01 (RFC 8737: a TLS handshake with ALPN acme-tls/1 on port 443,
 * [validation] tls_alpn_port in tests), for DNS names and IP addresses
 * (RFC 8738).
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
        long http_port;     /* 80 */
        long https_port;    /* 443 */
        long tls_alpn_port; /* 443; <= 0 means 443 */
        long timeout_ms;
        const char *source_addresses; /* for file_unreachable sentences */
        /* tests only: connect to special-purpose addresses too
         * ([validation] allow_private_addresses) */
        bool allow_private;
        /* tests only: blocks treated as public ([validation] allow_addresses);
         * NULL for none */
        const struct netaddr_list *allow;
};

struct qconfig;
/* The settings of [validation] (ports, timeout, source addresses, the
 * test-only address switches) into `out`, with the caller's resolver.
 * `allow` receives the parsed [validation] allow_addresses (checked when the
 * configuration was read; an unparsable list becomes empty) and must live
 * as long as `out` is used. */
void validate_cfg_from_config(const struct qconfig *q, struct dns_resolver *dns,
                              struct netaddr_list *allow, struct validate_cfg *out);

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

/* ACME http-01 (RFC 8555 8.3, BR 3.2.2.4.19): GET
 * http://<name>:<http_port>/.well-known/acme-challenge/<token>; the body
 * (trailing whitespace trimmed, as RFC 8555 8.3 allows) must equal
 * `key_authz` ("<token>.<base64url JWK thumbprint>"). `name` is a DNS name
 * (looked up through c->dns) or an IP address identifier (RFC 8738: fetched
 * from that address, with it in the Host header). Everything else as
 * validate_file: the same codes (file_unreachable for an answer that is not
 * 200, validation_mismatch for a wrong body), redirects, address checks,
 * size limit and deadline. */
void validate_http01(const struct validate_cfg *c, const char *name, const char *token,
                     const char *key_authz, struct validate_result *out);

/* ACME tls-alpn-01 (RFC 8737, BR 3.2.2.4.20). `name` is a DNS name (looked
 * up through c->dns: A and AAAA) or an IP address identifier (RFC 8738).
 * Connects only to the public addresses found (c->allow_private and
 * c->allow as for the file method), on c->tls_alpn_port, trying each
 * address in turn until one accepts the connection; TLS 1.2 or later, ALPN
 * "acme-tls/1" only, SNI = the name (for an IP address: its reverse-mapping
 * name, RFC 8738 section 6); the peer certificate is not verified (it is
 * self-signed) but must pass validate_alpn_check_cert against SHA-256 of
 * `key_authz`. Everything (lookups apart) within c->timeout_ms.
 * Results: QERR_OK; POLICY_DENIED for a wildcard (final); NAME_INVALID;
 * DNS_ERROR (lookup failure, not final); TLS_ALPN_UNREACHABLE (no public
 * address: final; connection refused or timed out: not final);
 * TLS_ALPN_HANDSHAKE (not final); TLS_ALPN_NOT_NEGOTIATED (the server chose
 * no protocol or another one: not final); TLS_ALPN_CERT_INVALID (final);
 * VALIDATION_MISMATCH (the digest differs: final). */
void validate_tls_alpn(const struct validate_cfg *c, const char *name, const char *key_authz,
                       struct validate_result *out);

#define VALIDATE_ALPN_PROTO "acme-tls/1"
#define VALIDATE_ACME_ID_OID "1.3.6.1.5.5.7.1.31" /* id-pe-acmeIdentifier */
#define VALIDATE_MAX_ALPN_CERT (64 * 1024)

/* The certificate checks of RFC 8737 section 3 on outside bytes (fuzzed by
 * fuzz/fuzz_alpn_cert.c): `der` is one DER certificate (nothing after it,
 * at most VALIDATE_MAX_ALPN_CERT bytes) whose subjectAltName extension
 * appears once and holds exactly one entry: the dNSName `name` (compared
 * case-insensitively) or, when `name` is an IP address, the iPAddress of
 * its 4 or 16 bytes; and whose id-pe-acmeIdentifier extension appears once,
 * is critical, and holds the DER OCTET STRING of the 32 bytes of `digest`
 * (compared in constant time). QERR_OK; TLS_ALPN_CERT_INVALID (final, the
 * sentence names what is wrong; nothing the certificate holds is repeated
 * but the name it carries, escaped); VALIDATION_MISMATCH (final) when only
 * the digest differs. */
void validate_alpn_check_cert(const uint8_t *der, size_t len, const char *name,
                              const uint8_t digest[32], struct validate_result *out);

/* Trims trailing whitespace of a fetched body and compares it with `value`
 * in constant time; exposed for the fuzzer (fuzz/fuzz_validate_body.c). */
bool validate_body_matches(const uint8_t *body, size_t len, const char *value);

#endif
