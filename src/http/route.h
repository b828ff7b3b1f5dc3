/*
 * route.h - the pure parts of the router: path patterns, percent-decoding
 * and query strings. No sockets, no libmicrohttpd, no allocation: every
 * result goes into caller buffers, so these parsers of outside input can be
 * fuzzed alone (fuzz/fuzz_http_route.c) and unit-tested by table.
 *
 * (Also the loopback test of a peer address, pure as well.)
 *
 * Patterns (see http.h): "/" then segments separated by '/'; a segment is a
 * literal, "{name}" (captures exactly one non-empty segment) or, as the last
 * segment only, "*" (captures the rest of the path, possibly empty, '/'
 * included). Literals compare byte for byte with the raw path (so
 * "/%68ealthz" is not "/healthz"); captures are percent-decoded ("%2F"
 * becomes '/' inside one capture; '+' stays '+'). A capture that does not
 * decode (a bad "%" escape, or "%00") makes the route not match.
 *
 * Threads: any; the compiled pattern borrows the pattern string.
 */
#ifndef QUILL_HTTP_ROUTE_H
#define QUILL_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

#define HTTP_PATTERN_MAX_SEGS 16

enum http_seg_kind { HTTP_SEG_LITERAL, HTTP_SEG_PARAM, HTTP_SEG_REST };

struct http_pattern {
        size_t nsegs;
        size_t nparams;
        struct {
                enum http_seg_kind kind;
                const char *text; /* literal bytes (not NUL-terminated) */
                size_t len;
        } segs[HTTP_PATTERN_MAX_SEGS];
};

/* Compiles `pattern`; false when it is malformed (no leading '/', an empty
 * or unclosed "{}", a '*' that is not the whole last segment, more than
 * HTTP_MAX_PARAMS captures or HTTP_PATTERN_MAX_SEGS segments). */
bool http_pattern_compile(const char *pattern, struct http_pattern *p);

/* Matches the raw `path` (no query string). On a match, returns true and
 * sets params[0..*nparams) to NUL-terminated decoded captures stored in
 * `buf`; bufsz must be at least strlen(path) + HTTP_MAX_PARAMS + 1. */
bool http_pattern_match(const struct http_pattern *p, const char *path, char *buf, size_t bufsz,
                        const char **params, size_t *nparams);

/* Percent-decodes in[0..len) into `out` (outsz bytes, NUL-terminated);
 * with `plus_space`, '+' becomes ' ' (query strings). Returns the decoded
 * length, -1 for a bad escape or an escaped NUL byte, -2 when it does not
 * fit. */
long http_pct_decode(const char *in, size_t len, char *out, size_t outsz, bool plus_space);

enum http_query_result { HTTP_QUERY_ABSENT, HTTP_QUERY_FOUND, HTTP_QUERY_TOO_LONG };
/* Looks `name` up in the raw query string `query` ("a=1&b=x%20y"; pairs
 * separated by '&'; a pair without '=' has the value ""). Keys and values
 * are decoded with plus_space. The first pair whose decoded key is `name`
 * decides: FOUND with the value in buf, TOO_LONG when it does not fit, or
 * ABSENT when it does not decode. */
enum http_query_result http_query_find(const char *query, const char *name, char *buf,
                                       size_t bufsz);

/* Whether the peer address is loopback (127.0.0.0/8, ::1, or 127.x as an
 * IPv4-mapped IPv6 address): loopback-only routes are answered only then. */
struct sockaddr;
bool http_addr_is_loopback(const struct sockaddr *sa);

#endif
