/*
 * test_caa.c - tables of cases for src/caa/caa_parse.c and caa_decide.c
 * (RULES.md §3, RFC 8659, RFC 8657).
 *
 * The decision table describes each case compactly: the request name, the
 * sets found along the climb as {name, status, records "flags tag value"}
 * (names the case does not list are empty sets), and the expected outcome,
 * `where` and sentences. Each record is encoded as real rdata and read back
 * with caa_parse_rdata, as the walk does (a record that does not parse is
 * kept with `malformed` set); "\\0" in a value stands for a NUL byte. Every
 * row also checks that caa_set_stops_climb agrees with caa_decide: deciding
 * over the sets up to the first stopping one gives the same answer as over
 * them all, and that set is the one named in `where`.
 *
 * Each table row is its own cmocka test, named by the row; the label starts
 * with the step of RULES.md §3 it covers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caa/caa.h"

#define ACCT "https://acme.quill.invalid/acct/7"
#define NOMETHOD "-" /* the request names no validation method */
#define MAXRECS 6
#define MAXSETS 5

static const char *const identities[] = {"quill.invalid", "ca2.quill.invalid"};

/* ---- building sets from descriptions ---- */

struct set_desc {
        const char *name;
        enum caa_set_status st;
        const char *err;   /* CAA_SET_ERROR */
        const char *cname; /* canonical name when reached through a CNAME */
        const char *recs[MAXRECS];
};

#define R(n, ...)                                                                                  \
        {                                                                                          \
                .name = n, .st = CAA_SET_RECORDS, .recs = { __VA_ARGS__ }                          \
        }
#define RC(n, c, ...)                                                                              \
        {                                                                                          \
                .name = n, .st = CAA_SET_RECORDS, .cname = c, .recs = { __VA_ARGS__ }              \
        }
#define E(n)                                                                                       \
        {                                                                                          \
                .name = n, .st = CAA_SET_EMPTY                                                     \
        }
#define X(n, e)                                                                                    \
        {                                                                                          \
                .name = n, .st = CAA_SET_ERROR, .err = e                                           \
        }

/* "flags tag value" -> rdata bytes; returns the length. */
static size_t encode_rdata(const char *desc, uint8_t *out, size_t cap)
{
        char *end;
        unsigned long flags = strtoul(desc, &end, 10);
        assert_true(*end == ' ' && flags < 256);
        const char *tag = end + 1;
        const char *sp = strchr(tag, ' ');
        size_t taglen = sp ? (size_t)(sp - tag) : strlen(tag);
        const char *v = sp ? sp + 1 : "";
        assert_true(2 + taglen + strlen(v) <= cap);
        out[0] = (uint8_t)flags;
        out[1] = (uint8_t)taglen;
        memcpy(out + 2, tag, taglen);
        size_t n = 2 + taglen;
        for (; *v; v++) {
                if (v[0] == '\\' && v[1] == '0') {
                        out[n++] = 0;
                        v++;
                } else {
                        out[n++] = (uint8_t)*v;
                }
        }
        return n;
}

static void build_set(struct caa_set *s, const char *name, const struct set_desc *d)
{
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "%.*s", (int)sizeof s->name - 1, name);
        s->status = d ? d->st : CAA_SET_EMPTY;
        if (!d)
                return;
        if (d->err)
                snprintf(s->error, sizeof s->error, "%s", d->err);
        if (d->cname)
                snprintf(s->canonical, sizeof s->canonical, "%s", d->cname);
        size_t n = 0;
        while (n < MAXRECS && d->recs[n])
                n++;
        if (n == 0)
                return;
        s->recs = calloc(n, sizeof *s->recs);
        assert_non_null(s->recs);
        for (size_t i = 0; i < n; i++) {
                uint8_t raw[600];
                size_t len = encode_rdata(d->recs[i], raw, sizeof raw);
                struct qerr_info ei;
                (void)caa_parse_rdata(raw, len, &s->recs[i], &ei);
        }
        s->n = n;
}

/* The climb of `name`, each level filled from `descs` (empty when absent). */
static size_t build_climb(const char *name, const struct set_desc *descs, size_t ndescs,
                          struct caa_set *sets)
{
        char names[CAA_MAX_LEVELS][CAA_MAX_NAME];
        size_t n = caa_climb_names(name, names, CAA_MAX_LEVELS);
        assert_true(n <= 8);
        for (size_t j = 0; j < ndescs; j++) {
                if (!descs[j].name)
                        continue;
                bool found = false;
                for (size_t i = 0; i < n; i++)
                        found = found || strcmp(names[i], descs[j].name) == 0;
                if (!found)
                        fail_msg("set %s is not on the climb of %s", descs[j].name, name);
        }
        for (size_t i = 0; i < n; i++) {
                const struct set_desc *d = NULL;
                for (size_t j = 0; j < ndescs; j++)
                        if (descs[j].name && strcmp(descs[j].name, names[i]) == 0)
                                d = &descs[j];
                build_set(&sets[i], names[i], d);
        }
        return n;
}

/* ---- the decision table ---- */

struct decide_case {
        const char *label;
        const char *name;
        struct set_desc sets[MAXSETS];
        enum caa_outcome want;
        const char *where;    /* expected `where` ("" when none applied) */
        const char *must;     /* a piece of the reason */
        const char *must_rec; /* a piece of `records` */
        const char *account;  /* NULL: no account */
        const char *method;   /* NULL: dns-01; NOMETHOD: none */
        bool rfc;             /* climb_past_inapplicable false */
        const char *stop;     /* the set that stops the climb, when not `where` */
};

#define ALLOWED CAA_ALLOWED
#define DENIED CAA_DENIED
#define LOOKUP CAA_LOOKUP_ERROR

static const struct decide_case decide_cases[] = {
    /* §3.1 a wildcard starts at X */
    {.label = "1 wildcard *.X starts at X: issue for us at X",
     .name = "*.example.com",
     .sets = {R("example.com", "0 issue quill.invalid")},
     .want = ALLOWED,
     .where = "example.com",
     .must = "allows this CA",
     .must_rec = "0 issue \"quill.invalid\""},
    {.label = "1 wildcard *.X starts at X: another CA at X",
     .name = "*.example.com",
     .sets = {R("example.com", "0 issue otherca.example")},
     .want = DENIED,
     .where = "example.com",
     .must = "add 0 issue \"quill.invalid\" to that set"},
    {.label = "1 wildcard *.www.X starts at www.X, not at X",
     .name = "*.www.example.com",
     .sets = {R("www.example.com", "0 issue otherca.example"),
              R("example.com", "0 issue quill.invalid")},
     .want = DENIED,
     .where = "www.example.com"},
    {.label = "1 a plain name starts at itself",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 issue quill.invalid"),
              R("example.com", "0 issue otherca.example")},
     .want = ALLOWED,
     .where = "www.example.com"},

    /* §3.2 the climb, CNAME */
    {.label = "2 another CA at the parent denies",
     .name = "www.example.com",
     .sets = {R("example.com", "0 issue otherca.example")},
     .want = DENIED,
     .where = "example.com",
     .must = "CAA at example.com (0 issue \"otherca.example\") does not name this CA",
     .must_rec = "0 issue \"otherca.example\""},
    {.label = "2 this CA at the parent allows",
     .name = "www.example.com",
     .sets = {R("example.com", "0 issue quill.invalid")},
     .want = ALLOWED,
     .where = "example.com"},
    {.label = "2 the climb reaches the TLD: denied there",
     .name = "a.b.example.com",
     .sets = {R("com", "0 issue otherca.example")},
     .want = DENIED,
     .where = "com"},
    {.label = "2 the climb reaches the TLD: allowed there",
     .name = "a.b.example.com",
     .sets = {R("com", "0 issue quill.invalid")},
     .want = ALLOWED,
     .where = "com"},
    {.label = "2 empty and NXDOMAIN sets climb",
     .name = "a.b.example.com",
     .sets = {E("a.b.example.com"), E("b.example.com"),
              R("example.com", "0 issue otherca.example")},
     .want = DENIED,
     .where = "example.com"},
    {.label = "2 records at a CNAME's target count at the name: denied",
     .name = "www.example.com",
     .sets = {RC("www.example.com", "cdn.example.net", "0 issue otherca.example"),
              R("example.com", "0 issue quill.invalid")},
     .want = DENIED,
     .where = "www.example.com",
     .must = "via CNAME to cdn.example.net"},
    {.label = "2 records at a CNAME's target count at the name: allowed",
     .name = "www.example.com",
     .sets = {RC("www.example.com", "cdn.example.net", "0 issue quill.invalid"),
              R("example.com", "0 issue otherca.example")},
     .want = ALLOWED,
     .where = "www.example.com"},

    /* §3.3 which records apply; when the climb stops */
    {.label = "3 issuewild-only set does not stop a plain name: denied above",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 issuewild quill.invalid"),
              R("example.com", "0 issue otherca.example")},
     .want = DENIED,
     .where = "example.com"},
    {.label = "3 issuewild-only set does not stop a plain name: allowed above",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 issuewild otherca.example"),
              R("example.com", "0 issue quill.invalid")},
     .want = ALLOWED,
     .where = "example.com"},
    {.label = "3 issuewild-only set, nothing above: allowed",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 issuewild otherca.example")},
     .want = ALLOWED,
     .where = "",
     .must = "no CAA records that apply to this name from www.example.com up to com"},
    {.label = "3 RFC switch: issuewild-only set stops a plain name, allowed",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 issuewild otherca.example"),
              R("example.com", "0 issue otherca.example")},
     .want = ALLOWED,
     .where = "",
     .must = "CAA at www.example.com holds no issue record",
     .rfc = true,
     .stop = "www.example.com"},
    {.label = "3 RFC switch: iodef-only set stops, allowed",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 iodef mailto:caa@example.com"),
              R("example.com", "0 issue otherca.example")},
     .want = ALLOWED,
     .where = "",
     .rfc = true,
     .stop = "www.example.com"},
    {.label = "3 RFC switch: an issue set decides as usual, denied",
     .name = "www.example.com",
     .sets = {E("www.example.com"), R("example.com", "0 issue otherca.example")},
     .want = DENIED,
     .where = "example.com",
     .rfc = true},
    {.label = "3 RFC switch: wildcard with only issue uses issue, denied",
     .name = "*.example.com",
     .sets = {R("example.com", "0 issue otherca.example")},
     .want = DENIED,
     .where = "example.com",
     .rfc = true},
    {.label = "3 iodef-only set climbs by default: denied above",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 iodef mailto:caa@example.com"),
              R("example.com", "0 issue otherca.example")},
     .want = DENIED,
     .where = "example.com"},
    {.label = "3 wildcard: issuewild present, issue for us ignored",
     .name = "*.example.com",
     .sets = {R("example.com", "0 issue quill.invalid", "0 issuewild otherca.example")},
     .want = DENIED,
     .where = "example.com",
     .must = "add 0 issuewild \"quill.invalid\" to that set",
     .must_rec = "0 issuewild \"otherca.example\""},
    {.label = "3 wildcard: issuewild for us allows, issue for others ignored",
     .name = "*.example.com",
     .sets = {R("example.com", "0 issue otherca.example", "0 issuewild quill.invalid")},
     .want = ALLOWED,
     .where = "example.com",
     .must_rec = "0 issuewild \"quill.invalid\""},
    {.label = "3 wildcard: only issue in the set, issue for us allows",
     .name = "*.example.com",
     .sets = {R("example.com", "0 iodef mailto:caa@example.com", "0 issue quill.invalid")},
     .want = ALLOWED,
     .where = "example.com"},
    {.label = "3 wildcard: only issue in the set, issue for others denies",
     .name = "*.example.com",
     .sets = {R("example.com", "0 issue otherca.example"), R("com", "0 issuewild quill.invalid")},
     .want = DENIED,
     .where = "example.com"},
    {.label = "3 wildcard: issue-only set below an issuewild set decides",
     .name = "*.www.example.com",
     .sets = {R("www.example.com", "0 issue otherca.example"),
              R("example.com", "0 issuewild quill.invalid")},
     .want = DENIED,
     .where = "www.example.com"},
    {.label = "3 wildcard: issuewild \";\" forbids wildcards",
     .name = "*.example.com",
     .sets = {R("example.com", "0 issue quill.invalid", "0 issuewild ;")},
     .want = DENIED,
     .where = "example.com",
     .must = "forbids every CA"},
    {.label = "3 plain name: issuewild \";\" does not apply",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid", "0 issuewild ;")},
     .want = ALLOWED,
     .where = "example.com"},
    {.label = "3 plain name: issuewild for us does not apply",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 issue otherca.example", "0 issuewild quill.invalid")},
     .want = DENIED,
     .where = "www.example.com"},

    /* §3.4 nothing applies anywhere */
    {.label = "4 no CAA records anywhere: allowed",
     .name = "www.example.com",
     .want = ALLOWED,
     .where = "",
     .must = "no CAA records from www.example.com up to com: any CA may issue."},
    {.label = "4 only records that never apply: allowed",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 iodef mailto:caa@example.com"),
              R("example.com", "0 contactemail caa@example.com", "0 contactphone +1 555"),
              R("com", "0 tbs unknown")},
     .want = ALLOWED,
     .where = "",
     .must = "any CA may issue"},
    {.label = "4 a TLD request with no records: allowed",
     .name = "com",
     .want = ALLOWED,
     .where = "",
     .must = "no CAA records at com"},
    {.label = "4 an applicable record at the TLD: denied",
     .name = "www.example.com",
     .sets = {R("com", "0 issue ;")},
     .want = DENIED,
     .where = "com"},

    /* §3.5 critical unknown tag */
    {.label = "5 critical unknown tag denies despite issue for us",
     .name = "www.example.com",
     .sets = {R("www.example.com", "128 tbs something", "0 issue quill.invalid")},
     .want = DENIED,
     .where = "www.example.com",
     .must = "critical",
     .must_rec = "128 tbs \"something\""},
    {.label = "5 critical unknown tag alone stops the climb",
     .name = "www.example.com",
     .sets = {R("www.example.com", "128 future x"), R("example.com", "0 issue quill.invalid")},
     .want = DENIED,
     .where = "www.example.com",
     .must = "clear its critical flag"},
    {.label = "5 critical unknown tag in capitals denies",
     .name = "www.example.com",
     .sets = {R("www.example.com", "255 FUTURE x", "0 issue quill.invalid")},
     .want = DENIED,
     .where = "www.example.com"},
    {.label = "5 critical unknown tag with issuewild only, plain name",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 issuewild quill.invalid", "128 future x")},
     .want = DENIED,
     .where = "www.example.com"},
    {.label = "5 non-critical unknown tag ignored",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 future x", "127 tbs y", "0 issue quill.invalid")},
     .want = ALLOWED,
     .where = "www.example.com"},
    {.label = "5 critical known tags are fine",
     .name = "www.example.com",
     .sets = {R("www.example.com", "128 issue quill.invalid", "128 iodef mailto:a@example.com",
                "128 contactemail a@example.com", "128 contactphone +15550100",
                "128 issuewild otherca.example")},
     .want = ALLOWED,
     .where = "www.example.com"},
    {.label = "5 critical unknown above the deciding set does not matter",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 issue quill.invalid"), R("example.com", "128 future x")},
     .want = ALLOWED,
     .where = "www.example.com"},

    /* §3.6 matching identities and parameters */
    {.label = "6 another CA: the reason says how to fix it",
     .name = "example.com",
     .sets = {R("example.com", "0 issue otherca.example")},
     .want = DENIED,
     .where = "example.com",
     .must = "CAA at example.com (0 issue \"otherca.example\") does not name this CA "
             "(quill.invalid); add 0 issue \"quill.invalid\" to that set, or remove the record."},
    {.label = "6 the second identity allows",
     .name = "example.com",
     .sets = {R("example.com", "0 issue ca2.quill.invalid")},
     .want = ALLOWED,
     .where = "example.com"},
    {.label = "6 one of several records names this CA",
     .name = "example.com",
     .sets = {R("example.com", "0 issue otherca.example", "0 issue quill.invalid")},
     .want = ALLOWED,
     .where = "example.com"},
    {.label = "6 a sub-domain of the identity is another CA",
     .name = "example.com",
     .sets = {R("example.com", "0 issue sub.quill.invalid", "0 issue invalid")},
     .want = DENIED,
     .where = "example.com"},
    {.label = "6 trailing dot on the issuer domain matches",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid.")},
     .want = ALLOWED,
     .where = "example.com"},
    {.label = "6 accounturi equal to the account allows",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; accounturi=" ACCT)},
     .want = ALLOWED,
     .where = "example.com",
     .account = ACCT},
    {.label = "6 accounturi of another account denies",
     .name = "example.com",
     .sets = {R("example.com",
                "0 issue quill.invalid; accounturi=https://acme.quill.invalid/acct/8")},
     .want = DENIED,
     .where = "example.com",
     .must = "another account",
     .account = ACCT},
    {.label = "6 accounturi compares exactly",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; accounturi=" ACCT "/")},
     .want = DENIED,
     .where = "example.com",
     .account = ACCT},
    {.label = "6 accounturi with no account denies",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; accounturi=" ACCT)},
     .want = DENIED,
     .where = "example.com",
     .must = "has no account"},
    {.label = "6 an unbound record beside a bound one allows",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; accounturi=https://x.example/1",
                "0 issue quill.invalid")},
     .want = ALLOWED,
     .where = "example.com"},
    {.label = "6 validationmethods lists dns-01: allowed",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; validationmethods=dns-01")},
     .want = ALLOWED,
     .where = "example.com",
     .method = "dns-01"},
    {.label = "6 validationmethods without http-01: denied",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; validationmethods=dns-01")},
     .want = DENIED,
     .where = "example.com",
     .must = "not http-01",
     .method = "http-01"},
    {.label = "6 validationmethods list of two: allowed",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; validationmethods=dns-01,http-01")},
     .want = ALLOWED,
     .where = "example.com",
     .method = "http-01"},
    {.label = "6 validationmethods without tls-alpn-01: denied",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; validationmethods=dns-01,http-01")},
     .want = DENIED,
     .where = "example.com",
     .method = "tls-alpn-01"},
    {.label = "6 validationmethods=dns reads as dns-01",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; validationmethods=dns")},
     .want = ALLOWED,
     .where = "example.com",
     .method = "dns-01"},
    {.label = "6 request method dns reads as dns-01",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; validationmethods=dns-01")},
     .want = ALLOWED,
     .where = "example.com",
     .method = "dns"},
    {.label = "6 request method file reads as http-01: allowed",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; validationmethods=http-01")},
     .want = ALLOWED,
     .where = "example.com",
     .method = "file"},
    {.label = "6 request method file is not dns-01: denied",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; validationmethods=dns-01")},
     .want = DENIED,
     .where = "example.com",
     .must = "not http-01",
     .method = "file"},
    {.label = "6 validationmethods compares case-insensitively",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; validationmethods=DNS-01")},
     .want = ALLOWED,
     .where = "example.com",
     .method = "dns-01"},
    {.label = "6 validationmethods with no method denies",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; validationmethods=dns-01")},
     .want = DENIED,
     .where = "example.com",
     .must = "names none",
     .method = NOMETHOD},
    {.label = "6 accounturi and validationmethods both hold: allowed",
     .name = "example.com",
     .sets = {R("example.com",
                "0 issue quill.invalid; accounturi=" ACCT "; validationmethods=http-01")},
     .want = ALLOWED,
     .where = "example.com",
     .account = ACCT,
     .method = "http-01"},
    {.label = "6 accounturi holds, validationmethods does not: denied",
     .name = "example.com",
     .sets = {R("example.com",
                "0 issue quill.invalid; accounturi=" ACCT "; validationmethods=http-01")},
     .want = DENIED,
     .where = "example.com",
     .account = ACCT,
     .method = "dns-01"},
    {.label = "6 empty value denies everyone",
     .name = "example.com",
     .sets = {R("example.com", "0 issue")},
     .want = DENIED,
     .where = "example.com",
     .must = "forbids every CA",
     .must_rec = "0 issue \"\""},
    {.label = "6 \";\" denies everyone",
     .name = "example.com",
     .sets = {R("example.com", "0 issue ;")},
     .want = DENIED,
     .where = "example.com",
     .must = "forbids every CA"},
    {.label = "6 \";\" with parameters denies everyone",
     .name = "example.com",
     .sets = {R("example.com", "0 issue ; accounturi=" ACCT)},
     .want = DENIED,
     .where = "example.com",
     .account = ACCT},
    {.label = "6 \";\" below a permission denies",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 issue  ;  "), R("example.com", "0 issue quill.invalid")},
     .want = DENIED,
     .where = "www.example.com"},
    {.label = "6 \";\" beside a record for us allows",
     .name = "example.com",
     .sets = {R("example.com", "0 issue ;", "0 issue quill.invalid")},
     .want = ALLOWED,
     .where = "example.com"},
    {.label = "6 unknown parameters are ignored",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; policy=ev; x=\"y\"")},
     .want = ALLOWED,
     .where = "example.com",
     .must_rec = "policy=ev; x=\\\"y\\\""},

    /* §3.7 case-insensitive tags and keys */
    {.label = "7 tag ISSUE is issue: allowed",
     .name = "example.com",
     .sets = {R("example.com", "0 ISSUE quill.invalid")},
     .want = ALLOWED,
     .where = "example.com"},
    {.label = "7 tag Issue is issue: denied",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 Issue otherca.example"),
              R("example.com", "0 issue quill.invalid")},
     .want = DENIED,
     .where = "www.example.com"},
    {.label = "7 tag IssueWild is issuewild for a wildcard",
     .name = "*.example.com",
     .sets = {R("example.com", "0 issue quill.invalid", "0 IssueWild otherca.example")},
     .want = DENIED,
     .where = "example.com"},
    {.label = "7 identity compares case-insensitively",
     .name = "example.com",
     .sets = {R("example.com", "0 issue QUILL.INVALID")},
     .want = ALLOWED,
     .where = "example.com"},
    {.label = "7 AccountURI= binds: another account denies",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; AccountURI=https://x.example/acct/1")},
     .want = DENIED,
     .where = "example.com",
     .must = "accounturi",
     .account = ACCT},
    {.label = "7 AccountURI= binds: the account allows",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; AccountURI=" ACCT)},
     .want = ALLOWED,
     .where = "example.com",
     .account = ACCT},
    {.label = "7 AccountURI= binds: no account denies",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; AccountURI=" ACCT)},
     .want = DENIED,
     .where = "example.com"},
    {.label = "7 ValidationMethods= binds",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; ValidationMethods=dns-01")},
     .want = DENIED,
     .where = "example.com",
     .method = "http-01"},
    {.label = "7 IODEF takes no part: climbs",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 IODEF mailto:caa@example.com"),
              R("example.com", "0 issue otherca.example")},
     .want = DENIED,
     .where = "example.com"},

    /* §3.8 records that do not parse */
    {.label = "8 whitespace inside a value: only skipped, denied",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; accounturi=https://a.example/ 1")},
     .want = DENIED,
     .where = "example.com",
     .must = "do not parse",
     .account = "https://a.example/"},
    {.label = "8 a parameter given twice: only skipped, denied",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; accounturi=" ACCT "; accounturi=" ACCT)},
     .want = DENIED,
     .where = "example.com",
     .must = "do not parse",
     .account = ACCT},
    {.label = "8 AccountURI and accounturi are the same key: denied",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; AccountURI=" ACCT "; accounturi=" ACCT)},
     .want = DENIED,
     .where = "example.com",
     .must = "do not parse",
     .account = ACCT},
    {.label = "8 bad issuer domain syntax: denied",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill_ca.invalid")},
     .want = DENIED,
     .where = "example.com",
     .must = "do not parse"},
    {.label = "8 bad parameter key: denied",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; account-uri=" ACCT)},
     .want = DENIED,
     .where = "example.com",
     .account = ACCT},
    {.label = "8 skipped record stops the climb",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 issue quill.invalid;;"),
              R("example.com", "0 issue quill.invalid")},
     .want = DENIED,
     .where = "www.example.com"},
    {.label = "8 skipped plus a valid record for us: allowed",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; a=1 2", "0 issue quill.invalid")},
     .want = ALLOWED,
     .where = "example.com"},
    {.label = "8 skipped plus a valid record for another CA: denied",
     .name = "example.com",
     .sets = {R("example.com", "0 issue quill.invalid; a=1; A=2", "0 issue otherca.example")},
     .want = DENIED,
     .where = "example.com",
     .must = "1 record(s) that do not parse were skipped"},
    {.label = "8 malformed rdata (NUL in an issue value) denies",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 issue quill.invalid\\0x"),
              R("example.com", "0 issue quill.invalid")},
     .want = DENIED,
     .where = "www.example.com",
     .must = "do not parse",
     .must_rec = "0 issue (record does not parse)"},
    {.label = "8 malformed rdata (unreadable tag) denies",
     .name = "example.com",
     .sets = {R("example.com", "0 is-sue quill.invalid")},
     .want = DENIED,
     .where = "example.com"},
    {.label = "8 malformed rdata beside a valid record for us: allowed",
     .name = "example.com",
     .sets = {R("example.com", "0 issue x\\0", "0 issue quill.invalid")},
     .want = ALLOWED,
     .where = "example.com"},
    {.label = "8 malformed iodef takes no part",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 iodef mailto\\0"), R("example.com", "0 issue quill.invalid")},
     .want = ALLOWED,
     .where = "example.com"},
    {.label = "8 malformed issuewild does not apply to a plain name",
     .name = "www.example.com",
     .sets = {R("www.example.com", "0 issuewild x\\0")},
     .want = ALLOWED,
     .where = ""},
    {.label = "8 malformed issuewild applies to a wildcard: denied",
     .name = "*.www.example.com",
     .sets = {R("www.example.com", "0 issue quill.invalid", "0 issuewild x\\0")},
     .want = DENIED,
     .where = "www.example.com"},

    /* §3.9 lookup errors */
    {.label = "9 lookup error at the start name",
     .name = "sub.example.com",
     .sets = {X("sub.example.com", "SERVFAIL"), R("example.com", "0 issue quill.invalid")},
     .want = LOOKUP,
     .where = "sub.example.com",
     .must = "the CAA lookup of sub.example.com failed (SERVFAIL); a failed lookup never "
             "counts as permission: fix the DNS servers and try again."},
    {.label = "9 lookup error at the parent of an empty set",
     .name = "sub.example.com",
     .sets = {E("sub.example.com"), X("example.com", "timeout")},
     .want = LOOKUP,
     .where = "example.com",
     .must = "(timeout)"},
    {.label = "9 lookup error at the TLD",
     .name = "sub.example.com",
     .sets = {X("com", "DNSSEC bogus")},
     .want = LOOKUP,
     .where = "com"},
    {.label = "9 lookup error above a deciding set (allowed) does not matter",
     .name = "sub.example.com",
     .sets = {R("sub.example.com", "0 issue quill.invalid"), X("example.com", "SERVFAIL")},
     .want = ALLOWED,
     .where = "sub.example.com"},
    {.label = "9 lookup error above a deciding set (denied) does not matter",
     .name = "sub.example.com",
     .sets = {R("sub.example.com", "0 issue otherca.example"), X("example.com", "SERVFAIL")},
     .want = DENIED,
     .where = "sub.example.com"},
    {.label = "9 lookup error above an issuewild-only set counts",
     .name = "sub.example.com",
     .sets = {R("sub.example.com", "0 issuewild quill.invalid"), X("example.com", "SERVFAIL")},
     .want = LOOKUP,
     .where = "example.com"},
    {.label = "9 RFC switch: lookup error above a non-empty set does not matter",
     .name = "sub.example.com",
     .sets = {R("sub.example.com", "0 issuewild quill.invalid"), X("example.com", "SERVFAIL")},
     .want = ALLOWED,
     .where = "",
     .rfc = true,
     .stop = "sub.example.com"},
    {.label = "9 lookup error with no details",
     .name = "sub.example.com",
     .sets = {X("sub.example.com", "")},
     .want = LOOKUP,
     .where = "sub.example.com",
     .must = "no details"},
};

static void expect_in(const char *what, const char *s, const char *piece)
{
        if (piece && !strstr(s, piece))
                fail_msg("%s \"%s\" does not contain \"%s\"", what, s, piece);
}

static struct caa_request request_of(const struct decide_case *c)
{
        struct caa_request req = {
            .name = c->name,
            .identities = identities,
            .nidentities = sizeof identities / sizeof identities[0],
            .account_uri = c->account,
            .method = c->method ? c->method : "dns-01",
            .climb_past_inapplicable = !c->rfc,
        };
        if (c->method && strcmp(c->method, NOMETHOD) == 0)
                req.method = NULL;
        return req;
}

static void expect_same(const struct caa_decision *a, const struct caa_decision *b)
{
        assert_int_equal(a->outcome, b->outcome);
        assert_string_equal(a->where, b->where);
        assert_string_equal(a->records, b->records);
        assert_string_equal(a->reason, b->reason);
}

static void test_decide_row(void **state)
{
        const struct decide_case *c = *state;
        struct caa_set sets[8];
        size_t ndescs = sizeof c->sets / sizeof c->sets[0];
        size_t n = build_climb(c->name, c->sets, ndescs, sets);
        struct caa_request req = request_of(c);

        struct caa_decision d;
        caa_decide(&req, sets, n, &d);
        assert_int_equal(d.outcome, c->want);
        assert_string_equal(d.where, c->where);
        assert_true(d.reason[0] != '\0');
        expect_in("reason", d.reason, c->must);
        expect_in("records", d.records, c->must_rec);
        if (d.where[0])
                expect_in("reason", d.reason, d.where);
        if (d.outcome == CAA_DENIED)
                assert_true(d.records[0] != '\0');

        /* The walk stops at the first set that caa_set_stops_climb. */
        size_t k = 0;
        while (k < n && !caa_set_stops_climb(&req, &sets[k]))
                k++;
        const char *stop = c->stop ? c->stop : c->where;
        assert_string_equal(k < n ? sets[k].name : "", stop);
        struct caa_decision walked;
        caa_decide(&req, sets, k < n ? k + 1 : n, &walked);
        expect_same(&d, &walked);

        for (size_t i = 0; i < n; i++)
                caa_set_clear(&sets[i]);
}

/* ---- caa_climb_names ---- */

struct climb_case {
        const char *label;
        const char *in;
        size_t max;
        const char *want[6]; /* NULL-terminated */
};

static const struct climb_case climb_cases[] = {
    {"2 climb a.b.example.com stops at the TLD",
     "a.b.example.com",
     16,
     {"a.b.example.com", "b.example.com", "example.com", "com"}},
    {"2 climb lower-cases and strips the trailing dot",
     "WWW.Example.COM.",
     16,
     {"www.example.com", "example.com", "com"}},
    {"1 climb of *.example.com starts at example.com", "*.Example.com", 16, {"example.com", "com"}},
    {"2 climb of a TLD is the TLD", "com", 16, {"com"}},
    {"2 climb never names the root", ".", 16, {NULL}},
    {"2 climb of an empty name is empty", "", 16, {NULL}},
    {"2 climb of a bare wildcard is empty", "*.", 16, {NULL}},
    {"2 climb is bounded by max", "a.b.example.com", 2, {"a.b.example.com", "b.example.com"}},
};

static void test_climb_row(void **state)
{
        const struct climb_case *c = *state;
        char names[16][CAA_MAX_NAME];
        size_t n = caa_climb_names(c->in, names, c->max);
        size_t want = 0;
        while (want < 6 && c->want[want])
                want++;
        assert_int_equal(n, want);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(names[i], c->want[i]);
}

/* ---- caa_parse_rdata ---- */

struct rdata_case {
        const char *label;
        const char *bytes;
        size_t len;
        enum qerr want;
        unsigned flags;
        const char *tag;   /* expected tag (also kept on some failures) */
        const char *value; /* expected value when OK */
};

#define B(s) s, sizeof s - 1

static const struct rdata_case rdata_cases[] = {
    {"rdata issue",
     B("\x00\x05"
       "issuequill.invalid"),
     QERR_OK, 0, "issue", "quill.invalid"},
    {"rdata critical, empty value",
     B("\x80\x05"
       "issue"),
     QERR_OK, 128, "issue", ""},
    {"rdata tag lower-cased",
     B("\x00\x09"
       "IssueWILD;"),
     QERR_OK, 0, "issuewild", ";"},
    {"rdata 15-byte tag",
     B("\x00\x0f"
       "abcdefghijklmnoV"),
     QERR_OK, 0, "abcdefghijklmno", "V"},
    {"rdata digits in tag, non-ASCII value kept",
     B("\x01\x03"
       "t0p\xc3\xa9"),
     QERR_OK, 1, "t0p", "\xc3\xa9"},
    {"rdata zero-length tag",
     B("\x00\x00"
       "issue"),
     QERR_USAGE, 0, "", NULL},
    {"rdata 16-byte tag",
     B("\x00\x10"
       "abcdefghijklmnopx"),
     QERR_USAGE, 0, "", NULL},
    {"rdata tag with a hyphen",
     B("\x00\x05"
       "is-uex"),
     QERR_USAGE, 0, "", NULL},
    {"rdata tag with a NUL",
     B("\x00\x05"
       "is\0uex"),
     QERR_USAGE, 0, "", NULL},
    {"rdata truncated tag",
     B("\x00\x05"
       "iss"),
     QERR_USAGE, 0, "", NULL},
    {"rdata one byte", B("\x00"), QERR_USAGE, 0, "", NULL},
    {"rdata empty", "", 0, QERR_USAGE, 0, "", NULL},
    {"rdata NUL in the value keeps the tag",
     B("\x80\x05"
       "issueca\0x"),
     QERR_USAGE, 128, "issue", NULL},
};

static void test_rdata_row(void **state)
{
        const struct rdata_case *c = *state;
        struct caa_record r;
        struct qerr_info ei;
        qerr_clear(&ei);
        enum qerr e = caa_parse_rdata((const uint8_t *)c->bytes, c->len, &r, &ei);
        assert_int_equal(e, c->want);
        assert_string_equal(r.tag, c->tag);
        if (e == QERR_OK) {
                assert_false(r.malformed);
                assert_int_equal(r.flags, c->flags);
                assert_int_equal(r.critical, (c->flags & 128) != 0);
                assert_string_equal(r.value, c->value);
        } else {
                assert_true(r.malformed);
                assert_null(r.value);
                assert_int_equal(ei.code, QERR_USAGE);
                assert_true(ei.msg[0] != '\0');
                if (c->len >= 1)
                        assert_int_equal(r.flags, c->flags);
        }
        caa_record_clear(&r);
        assert_null(r.value);
}

/* ---- caa_parse_issue_value ---- */

struct value_case {
        const char *label;
        const char *in;
        enum qerr want;
        const char *domain;
        size_t nparams;
        const char *kv[4]; /* key0, value0, key1, value1 */
};

#define LONG64 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl"
#define LONG63 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"
#define LONG61 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghi"
#define LONG256 LONG64 LONG64 LONG64 LONG64
#define P16 "a=1;b=2;c=3;d=4;e=5;f=6;g=7;h=8;i=9;j=10;k=11;l=12;m=13;n=14;o=15;p=16"

static const struct value_case value_cases[] = {
    {"value domain", "quill.invalid", QERR_OK, "quill.invalid", 0, {NULL}},
    {"value spaces around the domain", " \tquill.invalid \t", QERR_OK, "quill.invalid", 0, {NULL}},
    {"value domain lower-cased", "Quill.INVALID", QERR_OK, "quill.invalid", 0, {NULL}},
    {"value trailing dot dropped", "quill.invalid.", QERR_OK, "quill.invalid", 0, {NULL}},
    {"value single label, hyphens, digits", "x-1--y", QERR_OK, "x-1--y", 0, {NULL}},
    {"value empty", "", QERR_OK, "", 0, {NULL}},
    {"value only spaces", "   ", QERR_OK, "", 0, {NULL}},
    {"value ;", ";", QERR_OK, "", 0, {NULL}},
    {"value spaces around ;", "  ;  ", QERR_OK, "", 0, {NULL}},
    {"value domain and ;", "quill.invalid ;", QERR_OK, "quill.invalid", 0, {NULL}},
    {"value ; with a parameter", "; accounturi=x", QERR_OK, "", 1, {"accounturi", "x"}},
    {"value RFC 8659 example",
     "ca1.example.net; account=230123",
     QERR_OK,
     "ca1.example.net",
     1,
     {"account", "230123"}},
    {"value RFC 8657 accounturi",
     "example.net; accounturi=https://example.net/account/1234",
     QERR_OK,
     "example.net",
     1,
     {"accounturi", "https://example.net/account/1234"}},
    {"value RFC 8657 validationmethods",
     "example.net; validationmethods=dns-01",
     QERR_OK,
     "example.net",
     1,
     {"validationmethods", "dns-01"}},
    {"value RFC 8657 both",
     "example.net; accounturi=https://example.net/account/2345; validationmethods=http-01",
     QERR_OK,
     "example.net",
     2,
     {"accounturi", "https://example.net/account/2345", "validationmethods", "http-01"}},
    {"value spaces around ; and =",
     "quill.invalid  ;  a = b  ;\tc=d\t",
     QERR_OK,
     "quill.invalid",
     2,
     {"a", "b", "c", "d"}},
    {"value no space around ;",
     "quill.invalid;a=b;c=d",
     QERR_OK,
     "quill.invalid",
     2,
     {"a", "b", "c", "d"}},
    {"value keys lower-cased",
     "quill.invalid; AccountURI=X",
     QERR_OK,
     "quill.invalid",
     1,
     {"accounturi", "X"}},
    {"value empty parameter value", "quill.invalid; a=", QERR_OK, "quill.invalid", 1, {"a", ""}},
    {"value '=' and quotes inside a value",
     "q.invalid; a=b=c\"",
     QERR_OK,
     "q.invalid",
     1,
     {"a", "b=c\""}},
    {"value 255-byte parameter value",
     "q.invalid; a=" LONG64 LONG64 LONG64 LONG63,
     QERR_OK,
     "q.invalid",
     1,
     {"a", LONG64 LONG64 LONG64 LONG63}},
    {"value 253-byte domain, 63-byte labels",
     LONG63 "." LONG63 "." LONG63 "." LONG61,
     QERR_OK,
     LONG63 "." LONG63 "." LONG63 "." LONG61,
     0,
     {NULL}},
    {"value 16 parameters", "q.invalid; " P16, QERR_OK, "q.invalid", 16, {"a", "1", "b", "2"}},

    {"value bad: whitespace inside a value",
     "quill.invalid; accounturi=https://a b",
     QERR_USAGE,
     "",
     0,
     {NULL}},
    {"value bad: space inside the domain", "quill invalid", QERR_USAGE, "", 0, {NULL}},
    {"value bad: parameter given twice", "q.invalid; a=1; a=2", QERR_USAGE, "", 0, {NULL}},
    {"value bad: AccountURI and accounturi",
     "q.invalid; AccountURI=x; accounturi=x",
     QERR_USAGE,
     "",
     0,
     {NULL}},
    {"value bad: label starts with a hyphen", "-quill.invalid", QERR_USAGE, "", 0, {NULL}},
    {"value bad: label ends with a hyphen", "quill-.invalid", QERR_USAGE, "", 0, {NULL}},
    {"value bad: empty label", "quill..invalid", QERR_USAGE, "", 0, {NULL}},
    {"value bad: leading dot", ".quill.invalid", QERR_USAGE, "", 0, {NULL}},
    {"value bad: two trailing dots", "quill.invalid..", QERR_USAGE, "", 0, {NULL}},
    {"value bad: only a dot", ".", QERR_USAGE, "", 0, {NULL}},
    {"value bad: underscore in the domain", "quill_ca.invalid", QERR_USAGE, "", 0, {NULL}},
    {"value bad: 64-byte label", LONG64 ".invalid", QERR_USAGE, "", 0, {NULL}},
    {"value bad: 255-byte domain",
     LONG63 "." LONG63 "." LONG63 "." LONG63,
     QERR_USAGE,
     "",
     0,
     {NULL}},
    {"value bad: parameter without key", "q.invalid; =x", QERR_USAGE, "", 0, {NULL}},
    {"value bad: hyphen in a key", "q.invalid; account-uri=x", QERR_USAGE, "", 0, {NULL}},
    {"value bad: key without =", "q.invalid; accounturi", QERR_USAGE, "", 0, {NULL}},
    {"value bad: 64-byte key", "q.invalid; " LONG64 "=x", QERR_USAGE, "", 0, {NULL}},
    {"value bad: trailing ; after a parameter", "q.invalid; a=b;", QERR_USAGE, "", 0, {NULL}},
    {"value bad: ;;", "q.invalid;; a=b", QERR_USAGE, "", 0, {NULL}},
    {"value bad: parameter without ;", "q.invalid a=b", QERR_USAGE, "", 0, {NULL}},
    {"value bad: parameter where the domain goes", "accounturi=x", QERR_USAGE, "", 0, {NULL}},
    {"value bad: 256-byte parameter value", "q.invalid; a=" LONG256, QERR_USAGE, "", 0, {NULL}},
    {"value bad: 17 parameters", "q.invalid; " P16 ";q=17", QERR_USAGE, "", 0, {NULL}},
    {"value bad: non-ASCII in a value", "q.invalid; a=\xc3\xa9", QERR_USAGE, "", 0, {NULL}},
    {"value bad: control byte after the domain", "q.invalid\x01", QERR_USAGE, "", 0, {NULL}},
    {"value bad: newline", "q.invalid;\na=b", QERR_USAGE, "", 0, {NULL}},
};

static void test_value_row(void **state)
{
        const struct value_case *c = *state;
        struct caa_issue_value v;
        struct qerr_info ei;
        qerr_clear(&ei);
        enum qerr e = caa_parse_issue_value(c->in, &v, &ei);
        if (e != c->want)
                fail_msg("\"%s\": got %d (%s), want %d", c->in, e, ei.msg, c->want);
        assert_string_equal(v.domain, c->domain);
        assert_int_equal(v.nparams, c->nparams);
        if (e != QERR_OK) {
                assert_int_equal(ei.code, QERR_USAGE);
                assert_true(ei.msg[0] != '\0');
                return;
        }
        for (size_t i = 0; i < 2 && c->kv[2 * i]; i++) {
                assert_string_equal(v.params[i].key, c->kv[2 * i]);
                if (c->kv[2 * i + 1])
                        assert_string_equal(v.params[i].value, c->kv[2 * i + 1]);
        }
}

/* ---- single cases ---- */

static void test_clear_null_and_empty(void **state)
{
        (void)state;
        caa_record_clear(NULL);
        caa_set_clear(NULL);
        struct caa_set s;
        memset(&s, 0, sizeof s);
        caa_set_clear(&s);
        struct caa_record r;
        memset(&r, 0, sizeof r);
        caa_record_clear(&r);
        assert_int_equal(caa_parse_issue_value(NULL, &(struct caa_issue_value){0}, NULL), QERR_OK);
        assert_int_equal(caa_parse_rdata(NULL, 5, &r, NULL), QERR_USAGE);
}

/* A set too large for the strings: they end in "..." and stay bounded. */
static void test_long_set_truncates(void **state)
{
        (void)state;
        struct caa_set s;
        memset(&s, 0, sizeof s);
        snprintf(s.name, sizeof s.name, "%s", "example.com");
        s.status = CAA_SET_RECORDS;
        s.n = 40;
        s.recs = calloc(s.n, sizeof *s.recs);
        assert_non_null(s.recs);
        for (size_t i = 0; i < s.n; i++) {
                uint8_t raw[300];
                raw[0] = 0;
                raw[1] = 5;
                memcpy(raw + 2, "issue", 5);
                memset(raw + 7, 'a', 200);
                memcpy(raw + 7, "\"x\\.example", 11);
                assert_int_equal(caa_parse_rdata(raw, 207, &s.recs[i], NULL), QERR_OK);
        }
        struct caa_request req = {.name = "example.com",
                                  .identities = identities,
                                  .nidentities = 2,
                                  .method = "dns-01",
                                  .climb_past_inapplicable = true};
        struct caa_decision d;
        caa_decide(&req, &s, 1, &d);
        assert_int_equal(d.outcome, CAA_DENIED);
        assert_true(strlen(d.records) < sizeof d.records);
        assert_true(strlen(d.records) > 900);
        assert_string_equal(d.records + strlen(d.records) - 3, "...");
        assert_true(strlen(d.reason) < sizeof d.reason);
        expect_in("reason", d.reason, "CAA at example.com (0 issue \"\\\"x\\\\.example");
        expect_in("reason", d.reason, "add 0 issue \"quill.invalid\"");
        caa_set_clear(&s);
        assert_null(s.recs);
}

/* No identity configured: nothing matches, and the reason says so. */
static void test_no_identity(void **state)
{
        (void)state;
        struct caa_set sets[8];
        const struct set_desc d[] = {R("example.com", "0 issue quill.invalid")};
        size_t n = build_climb("example.com", d, 1, sets);
        struct caa_request req = {.name = "example.com", .method = "dns-01"};
        struct caa_decision dec;
        caa_decide(&req, sets, n, &dec);
        assert_int_equal(dec.outcome, CAA_DENIED);
        expect_in("reason", dec.reason, "identity");
        for (size_t i = 0; i < n; i++)
                caa_set_clear(&sets[i]);
}

#define TABLE(rows, fn)                                                                            \
        {                                                                                          \
                rows, sizeof rows[0], sizeof rows / sizeof rows[0], fn                             \
        }

struct table {
        const void *rows;
        size_t rowsz, n;
        CMUnitTestFunction fn;
};

int main(void)
{
        const struct table tables[] = {
            TABLE(decide_cases, test_decide_row),
            TABLE(climb_cases, test_climb_row),
            TABLE(rdata_cases, test_rdata_row),
            TABLE(value_cases, test_value_row),
        };
        const struct CMUnitTest singles[] = {
            cmocka_unit_test(test_clear_null_and_empty),
            cmocka_unit_test(test_long_set_truncates),
            cmocka_unit_test(test_no_identity),
        };
        const size_t nsingles = sizeof singles / sizeof singles[0];
        size_t total = nsingles;
        for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
                total += tables[t].n;

        struct CMUnitTest *tests = calloc(total, sizeof *tests);
        if (!tests) {
                fprintf(stderr, "out of memory\n");
                return 1;
        }
        size_t k = 0;
        for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
                for (size_t i = 0; i < tables[t].n; i++) {
                        const void *row = (const char *)tables[t].rows + i * tables[t].rowsz;
                        tests[k].name = *(const char *const *)row;
                        tests[k].test_func = tables[t].fn;
                        tests[k].initial_state = (void *)row;
                        k++;
                }
        for (size_t i = 0; i < nsingles; i++)
                tests[k++] = singles[i];

        const int failed = _cmocka_run_group_tests("caa", tests, total, NULL, NULL);
        free(tests);
        return failed;
}
