/*
 * dns.h - DNS lookups for domain control (CAA, TXT, A/AAAA) on libunbound.
 *
 * One resolver object wraps one libunbound context: full recursion from the
 * root, or forwarding every query to [dns] resolver (special-use names such
 * as .test and .internal included: libunbound's built-in local zones are
 * switched off). DNSSEC is validated against [dns] trust_anchor_file.
 * CNAME chains are followed by the resolver; the result says where the chain
 * ended. Each lookup is bounded by [dns] timeout_ms (asynchronous query +
 * poll, cancelled at the deadline) and retried [dns] retries times after a
 * timeout or SERVFAIL.
 *
 * A result says exactly what happened: the answer, or NXDOMAIN, no data,
 * SERVFAIL, timeout, truncated, or bogus (with the validator's reason and
 * the Extended DNS Error code when the server gave one). Callers decide what
 * a failure means; a failure is never an empty answer.
 *
 * Memory: the resolver is owned by the caller (dns_resolver_free); a result
 * owns its records (dns_result_clear). Threads: a resolver may be used by
 * one thread at a time; create one per worker thread.
 */
#ifndef QUILL_DNS_H
#define QUILL_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/err.h"

#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_TXT 16
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_CAA 257

enum dns_status {
        DNS_OK,        /* NOERROR with records of the asked type */
        DNS_NODATA,    /* NOERROR, the name exists, no records of that type */
        DNS_NXDOMAIN,  /* the name does not exist */
        DNS_SERVFAIL,  /* SERVFAIL (or REFUSED and other failure rcodes) */
        DNS_TIMEOUT,   /* no answer before the deadline */
        DNS_TRUNCATED, /* the answer was truncated even over TCP */
        DNS_BOGUS,     /* DNSSEC validation failed */
        DNS_FAILURE,   /* a local error (no resolver, bad name) */
};

struct dns_rr {
        uint8_t *data; /* rdata, owned */
        size_t len;
};

struct dns_result {
        enum dns_status status;
        int rcode;           /* DNS rcode of the final answer, -1 if none */
        bool secure;         /* DNSSEC-validated answer */
        int ede;             /* Extended DNS Error (RFC 8914) info-code, -1 if none */
        char why[256];       /* validator's reason, or error text; "" if none */
        char canonical[256]; /* the name the CNAME chain ended at (no trailing dot) */
        struct dns_rr *rrs;  /* rdata of the asked type, in answer order */
        size_t nrrs;
};

struct dns_opts {
        const char *forwarder;         /* "HOST:PORT" or NULL/"" for recursion */
        long timeout_ms;               /* per attempt */
        long retries;                  /* extra attempts after timeout/SERVFAIL */
        const char *trust_anchor_file; /* NULL/"" = no DNSSEC validation */
};

struct dns_resolver;

/* QERR_CONFIG when the forwarder or trust anchor file is unusable. */
enum qerr dns_resolver_new(const struct dns_opts *o, struct dns_resolver **out,
                           struct qerr_info *ei);
void dns_resolver_free(struct dns_resolver *r);
/* Looks up `name` (no trailing dot needed). Returns QERR_OK whenever a result
 * was produced (whatever its status); QERR_USAGE for a bad name. */
enum qerr dns_lookup(struct dns_resolver *r, const char *name, uint16_t qtype,
                     struct dns_result *out, struct qerr_info *ei);
void dns_result_clear(struct dns_result *res);
/* "ok", "nodata", "nxdomain", "servfail", "timeout", "truncated", "bogus",
 * "failure" */
const char *dns_status_name(enum dns_status s);
/* One line describing a failed result for a user: "SERVFAIL", "timeout after
 * 5000 ms", "DNSSEC bogus: <why> (EDE 6)". */
void dns_result_describe(const struct dns_result *res, char *out, size_t outsz);

/* TXT rdata (a sequence of <length><bytes> character-strings) joined into
 * one string in `out` (RFC 7208 3.3 style). false when the rdata is
 * malformed or holds a NUL byte. Fuzzed by fuzz/fuzz_dns_rdata.c. */
bool dns_txt_join(const uint8_t *rdata, size_t len, struct qbuf *out);

#endif
