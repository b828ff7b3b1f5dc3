/*
 * caa.h - CAA (RFC 8659, RFC 8657) as RULES.md §3 reads it.
 *
 * Three layers:
 *  - caa_parse_rdata / caa_parse_issue_value: parsing CAA records and the
 *    value of issue/issuewild (issuer domain and parameters). Fuzzed.
 *  - caa_decide: the decision as a pure function over the record sets found
 *    at each name of the climb (a table of unit tests covers every numbered
 *    point of RULES.md §3, both outcomes).
 *  - caa_check (caa_walk.c): the lookup walk that feeds it, using src/dns.
 *
 * Memory: parsed records and sets own their strings (caa_set_clear); the
 * decision is a plain value. Any thread (the walk uses the caller's
 * resolver, one thread at a time).
 */
#ifndef QUILL_CAA_H
#define QUILL_CAA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

#define CAA_MAX_NAME 254
#define CAA_MAX_PARAMS 16
#define CAA_MAX_LEVELS 128

struct caa_record {
        uint8_t flags;
        bool critical;  /* flags & 128 */
        char tag[16];   /* lower-cased (tags compare case-insensitively) */
        char *value;    /* as published (may be empty); NUL bytes make the record malformed */
        bool malformed; /* rdata did not parse: kept so a malformed set is not empty */
};

struct caa_param {
        char key[64];    /* lower-cased */
        char value[256]; /* as published */
};

struct caa_issue_value {
        char domain[CAA_MAX_NAME]; /* issuer domain, lower-cased, "" when none (";" or empty) */
        struct caa_param params[CAA_MAX_PARAMS];
        size_t nparams;
};

/* CAA rdata: flags(1) tag-length(1) tag value. QERR_USAGE for rdata that
 * does not parse (lengths, tag not 1-15 ASCII letters/digits, NUL in the
 * value); the walk then keeps the record with `malformed` set, so a set of
 * only malformed records denies (RULES.md §3 step 8). */
enum qerr caa_parse_rdata(const uint8_t *p, size_t len, struct caa_record *out,
                          struct qerr_info *ei);
void caa_record_clear(struct caa_record *r);

/* RFC 8659 4.2 value of issue/issuewild: [issuer-domain-name] *(";" param),
 * param = key "=" value, key = ALPHA/DIGIT, value = printable without ';'
 * and without whitespace. Whitespace around ';' and the domain is allowed.
 * QERR_USAGE when it does not parse (whitespace inside a value, a parameter
 * given twice - keys compare case-insensitively -, a bad domain, a bad key). */
enum qerr caa_parse_issue_value(const char *v, struct caa_issue_value *out, struct qerr_info *ei);

/* What one lookup at one name of the climb found. */
enum caa_set_status { CAA_SET_RECORDS, CAA_SET_EMPTY, CAA_SET_ERROR };

struct caa_set {
        char name[CAA_MAX_NAME]; /* the name looked up (in the original tree) */
        enum caa_set_status status;
        char error[256]; /* CAA_SET_ERROR: what failed (SERVFAIL, timeout, bogus ...) */
        char canonical[CAA_MAX_NAME]; /* where a CNAME chain ended, "" if no CNAME */
        struct caa_record *recs;
        size_t n;
};

struct caa_request {
        const char *name;              /* requested name, "*.x" for a wildcard */
        const char *const *identities; /* the CA's issuer domains */
        size_t nidentities;
        const char *account_uri;      /* NULL: no account (accounturi never matches) */
        const char *method;           /* "dns-01", "http-01", "tls-alpn-01"; the CLI
                                         maps dns -> dns-01, file -> http-01 */
        bool climb_past_inapplicable; /* RULES.md §3 step 3 (default true) */
};

enum caa_outcome { CAA_ALLOWED, CAA_DENIED, CAA_LOOKUP_ERROR };

struct caa_decision {
        enum caa_outcome outcome;
        char where[CAA_MAX_NAME]; /* name holding the relevant set; "" when none applied */
        char records[1024];       /* the relevant records, `flags tag "value"`; "; "-joined */
        char reason[512];         /* a sentence for the user: why, and how to fix it */
};

/* The names to look at for `request_name`: the start (X for "*.X") and then
 * each parent up to and including the top-level label, never the root.
 * Returns the count; names are lower-cased without trailing dot. */
size_t caa_climb_names(const char *request_name, char names[][CAA_MAX_NAME], size_t max);

/* true when `set` ends the climb for this request (it holds an applicable
 * record, a malformed or critical-unknown record, or - with
 * climb_past_inapplicable false - any record at all), or is an error. */
bool caa_set_stops_climb(const struct caa_request *req, const struct caa_set *set);

/* The decision over sets[0..n) in climb order (sets[0] is the start name).
 * Pure: no I/O. */
void caa_decide(const struct caa_request *req, const struct caa_set *sets, size_t n,
                struct caa_decision *out);

void caa_set_clear(struct caa_set *s);

/* The lookup walk: climbs from the request name, looking up CAA at each name
 * with `dns` (a struct dns_resolver *), stopping at the first set that
 * caa_set_stops_climb, and decides. Lookup errors: NXDOMAIN below the TLD is
 * an empty set; SERVFAIL, timeout, truncation and DNSSEC bogus are errors.
 * Returns QERR_OK with the decision filled (outcome may be denied or error);
 * another code only for local failures. */
struct dns_resolver;
enum qerr caa_check(struct dns_resolver *dns, const struct caa_request *req,
                    struct caa_decision *out, struct qerr_info *ei);

#endif
