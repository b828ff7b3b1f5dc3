/*
 * caa_decide.c - the CAA decision of RULES.md §3 as a pure function over the
 * record sets a climb found, and the test that ends a climb.
 *
 * Which records apply at a set (one helper, rec_kind, serves both
 * caa_set_stops_climb and caa_decide, so the walk and the decision never
 * disagree):
 *  - the deciding tag is `issuewild` for a wildcard request when the set
 *    holds any issuewild record (malformed ones included), otherwise `issue`;
 *    records with that tag apply (tags compare case-insensitively);
 *  - a record with the critical flag and a tag outside issue, issuewild,
 *    iodef, contactemail, contactphone applies (and denies, step 5);
 *  - a record whose rdata did not parse (`malformed`) applies when its tag
 *    is the deciding tag, or when no tag could be read at all: it might have
 *    been an issue record, and a lookup we cannot read is never permission.
 *    Such records, and those whose value caa_parse_issue_value rejects, are
 *    skipped by the decision; when only skipped records apply, it denies.
 *  - iodef, contactemail, contactphone and non-critical unknown tags never
 *    apply.
 *
 * The climb (step 3): with climb_past_inapplicable (the default) a set stops
 * the climb only when something in it applies; otherwise (the RFC 8659
 * reading) the first set holding any record stops it, and when nothing in it
 * applies issuance is allowed, as RFC 8659 section 4 says of a relevant
 * RRset without restricting properties (e.g. only issuewild for a
 * non-wildcard name, or only iodef); for a wildcard name a set with issue
 * but no issuewild records is decided by its issue records. A set whose
 * lookup failed always stops the climb and gives CAA_LOOKUP_ERROR; sets after
 * the first stopping set are never read, so errors above the deciding name
 * do not matter. When no set stops, issuance is allowed and `where` is "".
 *
 * Matching (step 6): the issuer domain equals one of the identities
 * (case-insensitively, a trailing dot ignored on either side); accounturi,
 * when present, equals the request's account URI byte for byte (no account:
 * no match); validationmethods, when present, lists the request's method
 * (case-insensitively, "dns" read as dns-01 and "file" as http-01 on both
 * sides; no method: no match). Other parameters are ignored.
 *
 * Memory: borrows the request and the sets; writes only into the caller's
 * decision (strings are truncated with "..." when they do not fit). No I/O,
 * no global state; any thread.
 */
#include "caa.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define RECORDS_IN_REASON 160 /* bytes of the record list quoted in a reason */

/* ---- bounded string building ---- */

struct sbuf {
        char *p;
        size_t cap, len;
        bool full;
};

static struct sbuf sb_make(char *p, size_t cap)
{
        struct sbuf sb = {p, cap, 0, false};
        p[0] = '\0';
        return sb;
}

/* Marks the buffer full, ending what it holds with "...". */
static void sb_overflow(struct sbuf *sb)
{
        sb->full = true;
        sb->len = sb->cap - 1;
        if (sb->cap > 4)
                memcpy(sb->p + sb->cap - 4, "...", 4);
        sb->p[sb->cap - 1] = '\0';
}

static void sb_putn(struct sbuf *sb, const char *s, size_t n)
{
        if (sb->full)
                return;
        if (n >= sb->cap - sb->len) {
                memcpy(sb->p + sb->len, s, sb->cap - sb->len - 1);
                sb_overflow(sb);
                return;
        }
        memcpy(sb->p + sb->len, s, n);
        sb->len += n;
        sb->p[sb->len] = '\0';
}

static void sb_puts(struct sbuf *sb, const char *s)
{
        sb_putn(sb, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
        if (sb->full)
                return;
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(sb->p + sb->len, sb->cap - sb->len, fmt, ap);
        va_end(ap);
        if (w < 0) {
                sb->p[sb->len] = '\0';
                return;
        }
        if ((size_t)w >= sb->cap - sb->len)
                sb_overflow(sb);
        else
                sb->len += (size_t)w;
}

/* ---- which records apply ---- */

enum rec_kind {
        REC_IGNORED,       /* does not take part in the decision */
        REC_ISSUE,         /* an issue/issuewild record of the deciding tag */
        REC_MALFORMED,     /* rdata that did not parse, and might apply */
        REC_CRITICAL_UNKN, /* critical flag with an unknown tag */
};

struct scope {
        bool wildcard;
        const char *tag; /* the deciding tag at this set */
};

static bool tag_known(const char *tag)
{
        static const char *const known[] = {"issue", "issuewild", "iodef", "contactemail",
                                            "contactphone"};
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
                if (strcasecmp(tag, known[i]) == 0)
                        return true;
        return false;
}

static bool is_wildcard(const struct caa_request *req)
{
        return req->name && req->name[0] == '*' && req->name[1] == '.';
}

static bool set_has_records(const struct caa_set *set)
{
        return set->status == CAA_SET_RECORDS && set->recs && set->n > 0;
}

static struct scope scope_of(const struct caa_request *req, const struct caa_set *set)
{
        struct scope sc = {is_wildcard(req), "issue"};
        if (!sc.wildcard || !set_has_records(set))
                return sc;
        for (size_t i = 0; i < set->n; i++)
                if (strcasecmp(set->recs[i].tag, "issuewild") == 0)
                        sc.tag = "issuewild";
        return sc;
}

static enum rec_kind rec_kind(const struct scope *sc, const struct caa_record *r)
{
        bool deciding = strcasecmp(r->tag, sc->tag) == 0;
        if (r->malformed && (deciding || r->tag[0] == '\0'))
                return REC_MALFORMED;
        if (deciding)
                return REC_ISSUE;
        if (r->critical && !tag_known(r->tag))
                return REC_CRITICAL_UNKN;
        return REC_IGNORED;
}

static size_t count_kind(const struct scope *sc, const struct caa_set *set, enum rec_kind k)
{
        size_t n = 0;
        if (!set_has_records(set))
                return 0;
        for (size_t i = 0; i < set->n; i++)
                if (rec_kind(sc, &set->recs[i]) == k)
                        n++;
        return n;
}

static size_t count_applicable(const struct scope *sc, const struct caa_set *set)
{
        return count_kind(sc, set, REC_ISSUE) + count_kind(sc, set, REC_MALFORMED) +
               count_kind(sc, set, REC_CRITICAL_UNKN);
}

bool caa_set_stops_climb(const struct caa_request *req, const struct caa_set *set)
{
        if (set->status == CAA_SET_ERROR)
                return true;
        if (!set_has_records(set))
                return false;
        if (!req->climb_past_inapplicable)
                return true;
        struct scope sc = scope_of(req, set);
        return count_applicable(&sc, set) > 0;
}

/* ---- record text: flags tag "value" ---- */

static void put_escaped(struct sbuf *sb, const char *v)
{
        for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
                if (*p == '"' || *p == '\\')
                        sb_printf(sb, "\\%c", *p);
                else if (*p < 0x20 || *p > 0x7e)
                        sb_printf(sb, "\\%03u", (unsigned)*p);
                else
                        sb_putn(sb, (const char *)p, 1);
        }
}

static void put_record(struct sbuf *sb, const struct caa_record *r)
{
        sb_printf(sb, "%u ", (unsigned)r->flags);
        put_escaped(sb, r->tag[0] ? r->tag : "?");
        if (r->malformed) {
                sb_puts(sb, " (record does not parse)");
                return;
        }
        sb_puts(sb, " \"");
        put_escaped(sb, r->value ? r->value : "");
        sb_puts(sb, "\"");
}

/* The records of `set` of kind `only` (or every applicable one when `only`
 * is REC_IGNORED), "; "-joined. */
static void put_records(struct sbuf *sb, const struct scope *sc, const struct caa_set *set,
                        enum rec_kind only)
{
        bool first = true;
        for (size_t i = 0; i < set->n; i++) {
                enum rec_kind k = rec_kind(sc, &set->recs[i]);
                if (k == REC_IGNORED || (only != REC_IGNORED && k != only))
                        continue;
                if (!first)
                        sb_puts(sb, "; ");
                put_record(sb, &set->recs[i]);
                first = false;
        }
}

/* ---- matching an issue record against the request ---- */

static size_t name_len(const char *s)
{
        size_t n = strlen(s);
        return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

static bool identity_matches(const struct caa_request *req, const char *domain)
{
        size_t dn = name_len(domain);
        if (dn == 0 || !req->identities)
                return false;
        for (size_t i = 0; i < req->nidentities; i++) {
                const char *id = req->identities[i];
                if (id && name_len(id) == dn && strncasecmp(id, domain, dn) == 0)
                        return true;
        }
        return false;
}

/* The method name a CAA record or the CLI may use, as an ACME method. */
static void method_norm(const char *s, size_t n, const char **out, size_t *outn)
{
        if (n == 3 && strncasecmp(s, "dns", 3) == 0)
                s = "dns-01", n = 6;
        else if (n == 4 && strncasecmp(s, "file", 4) == 0)
                s = "http-01", n = 7;
        *out = s;
        *outn = n;
}

static bool methods_list(const char *list, const char *method)
{
        const char *m;
        size_t mn;
        method_norm(method, strlen(method), &m, &mn);
        for (const char *p = list; *p;) {
                size_t n = strcspn(p, ",");
                const char *t;
                size_t tn;
                method_norm(p, n, &t, &tn);
                if (tn == mn && tn > 0 && strncasecmp(t, m, mn) == 0)
                        return true;
                p += n;
                if (*p == ',')
                        p++;
        }
        return false;
}

enum why_not {
        WHY_MATCH,      /* the record allows this request */
        WHY_IDENTITY,   /* names another CA, or none */
        WHY_ACCOUNT,    /* accounturi names another account */
        WHY_NO_ACCOUNT, /* accounturi given, the request has no account */
        WHY_METHOD,     /* validationmethods does not list the method */
        WHY_NO_METHOD,  /* validationmethods given, the request has no method */
};

static const char *param(const struct caa_issue_value *iv, const char *key)
{
        for (size_t i = 0; i < iv->nparams; i++)
                if (strcmp(iv->params[i].key, key) == 0)
                        return iv->params[i].value;
        return NULL;
}

static enum why_not match(const struct caa_request *req, const struct caa_issue_value *iv)
{
        if (!identity_matches(req, iv->domain))
                return WHY_IDENTITY;
        const char *acct = param(iv, "accounturi");
        if (acct && !req->account_uri)
                return WHY_NO_ACCOUNT;
        if (acct && strcmp(acct, req->account_uri) != 0)
                return WHY_ACCOUNT;
        const char *methods = param(iv, "validationmethods");
        if (methods && (!req->method || !req->method[0]))
                return WHY_NO_METHOD;
        if (methods && !methods_list(methods, req->method))
                return WHY_METHOD;
        return WHY_MATCH;
}

/* ---- the decision at one set ---- */

struct tally {
        size_t skipped;   /* applicable but unreadable */
        size_t valid;     /* applicable and readable */
        size_t deny_all;  /* readable, naming no issuer (";" or "") */
        enum why_not why; /* first parameter refusal, else WHY_IDENTITY */
        const struct caa_record *why_rec;
        bool allowed;
        const struct caa_record *allowed_rec;
};

static void tally_issue(const struct caa_request *req, const struct caa_record *r, struct tally *t)
{
        struct caa_issue_value iv;
        struct qerr_info ei;
        if (caa_parse_issue_value(r->value ? r->value : "", &iv, &ei) != QERR_OK) {
                t->skipped++;
                return;
        }
        t->valid++;
        if (!iv.domain[0])
                t->deny_all++;
        enum why_not w = match(req, &iv);
        if (w == WHY_MATCH && !t->allowed) {
                t->allowed = true;
                t->allowed_rec = r;
        } else if (w != WHY_MATCH && w != WHY_IDENTITY && t->why == WHY_IDENTITY) {
                t->why = w;
                t->why_rec = r;
        }
}

static struct tally tally_set(const struct caa_request *req, const struct scope *sc,
                              const struct caa_set *set)
{
        struct tally t = {0, 0, 0, WHY_IDENTITY, NULL, false, NULL};
        for (size_t i = 0; i < set->n; i++) {
                enum rec_kind k = rec_kind(sc, &set->recs[i]);
                if (k == REC_MALFORMED)
                        t.skipped++;
                else if (k == REC_ISSUE)
                        tally_issue(req, &set->recs[i], &t);
        }
        return t;
}

static const char *first_identity(const struct caa_request *req)
{
        for (size_t i = 0; req->identities && i < req->nidentities; i++)
                if (req->identities[i] && req->identities[i][0])
                        return req->identities[i];
        return NULL;
}

/* "CAA at NAME (via CNAME to X) (RECORDS)" */
static void put_at(struct sbuf *sb, const struct scope *sc, const struct caa_set *set,
                   enum rec_kind only)
{
        sb_printf(sb, "CAA at %s", set->name);
        if (set->canonical[0])
                sb_printf(sb, " (via CNAME to %s)", set->canonical);
        char rec[RECORDS_IN_REASON];
        struct sbuf rb = sb_make(rec, sizeof rec);
        put_records(&rb, sc, set, only);
        sb_printf(sb, " (%s)", rec);
}

static void put_fix_add(struct sbuf *sb, const struct caa_request *req, const struct scope *sc)
{
        const char *id = first_identity(req);
        if (id)
                sb_printf(sb, "add 0 %s \"%s\" to that set", sc->tag, id);
        else
                sb_puts(sb, "configure this CA's CAA identity (none is set), then add it to "
                            "that set");
}

static void reason_critical(struct sbuf *sb, const struct scope *sc, const struct caa_set *set)
{
        put_at(sb, sc, set, REC_CRITICAL_UNKN);
        sb_puts(sb, " holds a critical record with a tag this CA does not know, which forbids "
                    "every CA; remove that record or clear its critical flag (128).");
}

static void reason_method(struct sbuf *sb, const struct caa_request *req)
{
        const char *m;
        size_t mn;
        method_norm(req->method, strlen(req->method), &m, &mn);
        sb_printf(sb,
                  " names this CA only for other validation methods (validationmethods), not "
                  "%.*s; validate with a listed method, or add %.*s to the parameter.",
                  (int)mn, m, (int)mn, m);
}

static void reason_param(struct sbuf *sb, const struct caa_request *req, const struct scope *sc,
                         const struct caa_set *set, const struct tally *t)
{
        put_at(sb, sc, set, REC_IGNORED);
        switch (t->why) {
        case WHY_NO_ACCOUNT:
                sb_puts(sb, " names this CA only for one ACME account (accounturi) and this "
                            "request has no account; request through that account, or remove "
                            "the accounturi parameter.");
                break;
        case WHY_ACCOUNT:
                sb_printf(sb,
                          " names this CA only for another account (accounturi), not %s; "
                          "request through that account, or change the accounturi parameter.",
                          req->account_uri);
                break;
        case WHY_NO_METHOD:
                sb_puts(sb, " names this CA only for some validation methods "
                            "(validationmethods) and this request names none; validate with "
                            "a listed method, or remove the parameter.");
                break;
        default:
                reason_method(sb, req);
                break;
        }
}

static void reason_denied(struct sbuf *sb, const struct caa_request *req, const struct scope *sc,
                          const struct caa_set *set, const struct tally *t)
{
        if (t->valid == 0) {
                put_at(sb, sc, set, REC_IGNORED);
                sb_puts(sb, " holds only records that do not parse, and an unreadable record "
                            "never counts as permission; fix their syntax (for example ");
                put_fix_add(sb, req, sc);
                sb_puts(sb, ").");
                return;
        }
        if (t->why != WHY_IDENTITY) {
                reason_param(sb, req, sc, set, t);
                return;
        }
        put_at(sb, sc, set, REC_IGNORED);
        const char *id = first_identity(req);
        if (t->deny_all == t->valid)
                sb_puts(sb, " forbids every CA; ");
        else
                sb_printf(sb, " does not name this CA (%s); ", id ? id : "no identity set");
        put_fix_add(sb, req, sc);
        sb_puts(sb, ", or remove the record");
        if (t->skipped)
                sb_printf(sb, " (%zu record(s) that do not parse were skipped)", t->skipped);
        sb_puts(sb, ".");
}

static void decide_at(const struct caa_request *req, const struct caa_set *set,
                      struct caa_decision *out)
{
        struct scope sc = scope_of(req, set);
        struct sbuf rs = sb_make(out->reason, sizeof out->reason);
        if (count_applicable(&sc, set) == 0) {
                out->outcome = CAA_ALLOWED;
                sb_printf(&rs,
                          "CAA at %s holds no %s record or other record that restricts "
                          "issuance for this name (RFC 8659 reading): any CA may issue.",
                          set->name, sc.tag);
                return;
        }
        snprintf(out->where, sizeof out->where, "%s", set->name);
        struct sbuf recs = sb_make(out->records, sizeof out->records);
        put_records(&recs, &sc, set, REC_IGNORED);
        if (count_kind(&sc, set, REC_CRITICAL_UNKN) > 0) {
                out->outcome = CAA_DENIED;
                reason_critical(&rs, &sc, set);
                return;
        }
        struct tally t = tally_set(req, &sc, set);
        if (t.allowed) {
                out->outcome = CAA_ALLOWED;
                sb_printf(&rs, "CAA at %s allows this CA: ", set->name);
                put_record(&rs, t.allowed_rec);
                sb_puts(&rs, ".");
                return;
        }
        out->outcome = CAA_DENIED;
        reason_denied(&rs, req, &sc, set, &t);
}

static void decide_error(const struct caa_set *set, struct caa_decision *out)
{
        out->outcome = CAA_LOOKUP_ERROR;
        snprintf(out->where, sizeof out->where, "%s", set->name);
        struct sbuf rs = sb_make(out->reason, sizeof out->reason);
        sb_printf(&rs,
                  "the CAA lookup of %s failed (%s); a failed lookup never counts as "
                  "permission: fix the DNS servers and try again.",
                  set->name, set->error[0] ? set->error : "no details");
}

static void decide_none(const struct caa_request *req, const struct caa_set *sets, size_t n,
                        struct caa_decision *out)
{
        out->outcome = CAA_ALLOWED;
        bool any = false;
        for (size_t i = 0; i < n; i++)
                any = any || set_has_records(&sets[i]);
        const char *what = any ? "no CAA records that apply to this name" : "no CAA records";
        struct sbuf rs = sb_make(out->reason, sizeof out->reason);
        if (n == 0)
                sb_printf(&rs, "%s for %s: any CA may issue.", what, req->name ? req->name : "");
        else if (n == 1)
                sb_printf(&rs, "%s at %s: any CA may issue.", what, sets[0].name);
        else
                sb_printf(&rs, "%s from %s up to %s: any CA may issue.", what, sets[0].name,
                          sets[n - 1].name);
}

void caa_decide(const struct caa_request *req, const struct caa_set *sets, size_t n,
                struct caa_decision *out)
{
        memset(out, 0, sizeof *out);
        for (size_t i = 0; i < n; i++) {
                if (!caa_set_stops_climb(req, &sets[i]))
                        continue;
                if (sets[i].status == CAA_SET_ERROR)
                        decide_error(&sets[i], out);
                else
                        decide_at(req, &sets[i], out);
                return;
        }
        decide_none(req, sets, n, out);
}
