/*
 * caa_parse.c - parsing CAA records (RFC 8659 section 4.1) and the value of
 * the issue/issuewild properties (RFC 8659 section 4.2, with the RFC 8657
 * parameters), plus the names a CAA climb looks at.
 *
 * Outside input: every byte comes from DNS answers, so each parser checks
 * every length and character and answers QERR_USAGE with a sentence saying
 * what was wrong; nothing here asserts on input. The grammar of a value:
 *
 *   issue-value = *WSP [issuer-domain-name *WSP] [";" *WSP [parameters *WSP]]
 *   parameters  = (parameter *WSP ";" *WSP parameters) / parameter
 *   parameter   = key *WSP "=" *WSP value
 *   key = 1*(ALPHA / DIGIT)        value = *(%x21-3A / %x3C-7E)
 *
 * Readings: the key is letters and digits only (as caa.h says; RFC 8659 also
 * allows inner hyphens, which no defined parameter uses); a ";" must be
 * followed by a parameter unless it is the only one (so "ca.example;" parses
 * but "ca.example; a=b;" does not); one trailing dot on the issuer domain is
 * accepted and dropped ("ca.example." names ca.example); an empty value
 * ("key=") is allowed. A key given twice (compared case-insensitively), more
 * than CAA_MAX_PARAMS parameters, a key over 63 or a value over 255 bytes
 * make the whole value fail: the decider then skips the record.
 *
 * Memory: caa_parse_rdata allocates the record's value (caa_record_clear
 * frees it; caa_set_clear frees a set's records and its malloc'ed array);
 * caa_parse_issue_value fills a caller-owned fixed-size struct. When
 * caa_parse_rdata fails, `out` holds no allocation, has `malformed` set, and
 * keeps the flags and tag when they could be read, so the walk may keep it.
 * No global state; any thread.
 */
#include "caa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAA_MAX_LABEL 63
#define CAA_MAX_DOMAIN (CAA_MAX_NAME - 1)

static bool is_alpha(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(unsigned char c)
{
        return is_alpha(c) || (c >= '0' && c <= '9');
}

static char to_lower(unsigned char c)
{
        return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

static bool is_wsp(char c)
{
        return c == ' ' || c == '\t';
}

/* `c` for a message: 'x' when printable, else its byte value. */
static const char *show_char(char c, char buf[8])
{
        unsigned char u = (unsigned char)c;
        if (u >= 0x21 && u <= 0x7e)
                snprintf(buf, 8, "'%c'", c);
        else
                snprintf(buf, 8, "0x%02x", u);
        return buf;
}

/* RFC 8659 value characters: printable ASCII without space and ';'. */
static bool is_value_char(unsigned char c)
{
        return c >= 0x21 && c <= 0x7e && c != ';';
}

/* ---- rdata ---- */

enum qerr caa_parse_rdata(const uint8_t *p, size_t len, struct caa_record *out,
                          struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        out->malformed = true;
        if (!p || len < 2)
                return qerr_set(ei, QERR_USAGE,
                                "The CAA record is %zu bytes long; it needs at least a flags byte "
                                "and a tag length.",
                                len);
        out->flags = p[0];
        out->critical = (p[0] & 128) != 0;
        size_t taglen = p[1];
        if (taglen < 1 || taglen > 15)
                return qerr_set(ei, QERR_USAGE,
                                "The CAA record's tag length is %zu; it must be 1 to 15.", taglen);
        if (len - 2 < taglen)
                return qerr_set(ei, QERR_USAGE,
                                "The CAA record is truncated: its tag needs %zu bytes, %zu are "
                                "left.",
                                taglen, len - 2);
        for (size_t i = 0; i < taglen; i++)
                if (!is_alnum(p[2 + i]))
                        return qerr_set(ei, QERR_USAGE,
                                        "The CAA record's tag holds byte 0x%02x; a tag is ASCII "
                                        "letters and digits only.",
                                        p[2 + i]);
        for (size_t i = 0; i < taglen; i++)
                out->tag[i] = to_lower(p[2 + i]);
        const uint8_t *v = p + 2 + taglen;
        size_t vlen = len - 2 - taglen;
        if (vlen && memchr(v, 0, vlen))
                return qerr_set(ei, QERR_USAGE, "The value of the CAA %s record holds a NUL byte.",
                                out->tag);
        out->value = malloc(vlen + 1);
        if (!out->value)
                return qerr_set(ei, QERR_NOMEM, NULL);
        if (vlen)
                memcpy(out->value, v, vlen);
        out->value[vlen] = '\0';
        out->malformed = false;
        return QERR_OK;
}

void caa_record_clear(struct caa_record *r)
{
        if (!r)
                return;
        free(r->value);
        memset(r, 0, sizeof *r);
}

void caa_set_clear(struct caa_set *s)
{
        if (!s)
                return;
        for (size_t i = 0; s->recs && i < s->n; i++)
                caa_record_clear(&s->recs[i]);
        free(s->recs);
        memset(s, 0, sizeof *s);
}

/* ---- issue / issuewild value ---- */

struct cursor {
        const char *s;
        size_t i;
};

static void skip_wsp(struct cursor *c)
{
        while (is_wsp(c->s[c->i]))
                c->i++;
}

static bool at_end(const struct cursor *c)
{
        return c->s[c->i] == '\0';
}

/* One LDH label of the issuer domain: letters and digits, inner hyphens. */
static bool label_ok(const char *l, size_t n)
{
        if (n < 1 || n > CAA_MAX_LABEL)
                return false;
        if (!is_alnum((unsigned char)l[0]) || !is_alnum((unsigned char)l[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_alnum((unsigned char)l[i]) && l[i] != '-')
                        return false;
        return true;
}

/* Checks `d` (n bytes, one trailing dot already dropped) label by label. */
static bool domain_ok(const char *d, size_t n)
{
        if (n < 1 || n > CAA_MAX_DOMAIN)
                return false;
        size_t start = 0;
        for (size_t i = 0; i <= n; i++) {
                if (i < n && d[i] != '.')
                        continue;
                if (!label_ok(d + start, i - start))
                        return false;
                start = i + 1;
        }
        return true;
}

/* The issuer domain at the cursor (the caller knows one starts here). */
static enum qerr parse_domain(struct cursor *c, struct caa_issue_value *out, struct qerr_info *ei)
{
        const char *d = c->s + c->i;
        size_t n = 0;
        while (is_alnum((unsigned char)d[n]) || d[n] == '-' || d[n] == '.')
                n++;
        c->i += n;
        size_t keep = n > 1 && d[n - 1] == '.' ? n - 1 : n;
        if (!domain_ok(d, keep))
                return qerr_set(ei, QERR_USAGE,
                                "The issuer domain \"%.*s\" is not a valid domain name (labels of "
                                "letters, digits and inner hyphens, separated by dots).",
                                (int)(n > 80 ? 80 : n), d);
        for (size_t i = 0; i < keep; i++)
                out->domain[i] = to_lower((unsigned char)d[i]);
        out->domain[keep] = '\0';
        return QERR_OK;
}

static bool key_seen(const struct caa_issue_value *out, const char *key)
{
        for (size_t i = 0; i < out->nparams; i++)
                if (strcmp(out->params[i].key, key) == 0)
                        return true;
        return false;
}

static enum qerr parse_key(struct cursor *c, struct caa_param *p, struct qerr_info *ei)
{
        const char *k = c->s + c->i;
        size_t n = 0;
        while (is_alnum((unsigned char)k[n]))
                n++;
        if (n == 0) {
                char shown[8];
                return qerr_set(ei, QERR_USAGE,
                                "A CAA parameter must start with a key of letters and digits, "
                                "not %s.",
                                k[0] ? show_char(k[0], shown) : "the end of the value");
        }
        if (n >= sizeof p->key)
                return qerr_set(ei, QERR_USAGE, "The CAA parameter key \"%.20s...\" is too long.",
                                k);
        for (size_t i = 0; i < n; i++)
                p->key[i] = to_lower((unsigned char)k[i]);
        p->key[n] = '\0';
        c->i += n;
        return QERR_OK;
}

static enum qerr parse_pvalue(struct cursor *c, struct caa_param *p, struct qerr_info *ei)
{
        const char *v = c->s + c->i;
        size_t n = 0;
        while (is_value_char((unsigned char)v[n]))
                n++;
        if (n >= sizeof p->value)
                return qerr_set(ei, QERR_USAGE,
                                "The value of CAA parameter %s is over 255 bytes long.", p->key);
        memcpy(p->value, v, n);
        p->value[n] = '\0';
        c->i += n;
        return QERR_OK;
}

/* key *WSP "=" *WSP value, appended to out->params. */
static enum qerr parse_param(struct cursor *c, struct caa_issue_value *out, struct qerr_info *ei)
{
        if (out->nparams >= CAA_MAX_PARAMS)
                return qerr_set(ei, QERR_USAGE, "The CAA value has more than %d parameters.",
                                CAA_MAX_PARAMS);
        struct caa_param *p = &out->params[out->nparams];
        enum qerr e = parse_key(c, p, ei);
        if (e != QERR_OK)
                return e;
        skip_wsp(c);
        if (c->s[c->i] != '=')
                return qerr_set(ei, QERR_USAGE, "The CAA parameter %s has no '=' after its key.",
                                p->key);
        c->i++;
        skip_wsp(c);
        if ((e = parse_pvalue(c, p, ei)) != QERR_OK)
                return e;
        if (key_seen(out, p->key))
                return qerr_set(ei, QERR_USAGE,
                                "The CAA parameter %s is given twice (keys compare "
                                "case-insensitively).",
                                p->key);
        out->nparams++;
        return QERR_OK;
}

/* After the first ';': [parameters *WSP], each ';' followed by one more. */
static enum qerr parse_params(struct cursor *c, struct caa_issue_value *out, struct qerr_info *ei)
{
        skip_wsp(c);
        if (at_end(c))
                return QERR_OK;
        for (;;) {
                enum qerr e = parse_param(c, out, ei);
                if (e != QERR_OK)
                        return e;
                skip_wsp(c);
                if (at_end(c))
                        return QERR_OK;
                if (c->s[c->i] != ';') {
                        char shown[8];
                        return qerr_set(ei, QERR_USAGE,
                                        "The value of CAA parameter %s is followed by %s; "
                                        "a value may not hold whitespace, and parameters are "
                                        "separated by ';'.",
                                        out->params[out->nparams - 1].key,
                                        show_char(c->s[c->i], shown));
                }
                c->i++;
                skip_wsp(c);
        }
}

static enum qerr parse_value(struct cursor *c, struct caa_issue_value *out, struct qerr_info *ei)
{
        skip_wsp(c);
        if (!at_end(c) && c->s[c->i] != ';') {
                enum qerr e = parse_domain(c, out, ei);
                if (e != QERR_OK)
                        return e;
                skip_wsp(c);
        }
        if (at_end(c))
                return QERR_OK;
        if (c->s[c->i] != ';') {
                char shown[8];
                return qerr_set(ei, QERR_USAGE,
                                "The CAA value has %s after the issuer domain, where a ';' or "
                                "the end was expected.",
                                show_char(c->s[c->i], shown));
        }
        c->i++;
        return parse_params(c, out, ei);
}

enum qerr caa_parse_issue_value(const char *v, struct caa_issue_value *out, struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        struct cursor c = {v ? v : "", 0};
        enum qerr e = parse_value(&c, out, ei);
        if (e != QERR_OK)
                memset(out, 0, sizeof *out);
        return e;
}

/* ---- the names of a climb ---- */

size_t caa_climb_names(const char *request_name, char names[][CAA_MAX_NAME], size_t max)
{
        if (!request_name || !names || max == 0)
                return 0;
        const char *s = request_name;
        if (s[0] == '*' && s[1] == '.')
                s += 2;
        size_t len = strlen(s);
        if (len > 0 && s[len - 1] == '.')
                len--;
        if (len == 0 || len > CAA_MAX_DOMAIN)
                return 0;
        char base[CAA_MAX_NAME];
        for (size_t i = 0; i < len; i++)
                base[i] = to_lower((unsigned char)s[i]);
        base[len] = '\0';
        size_t n = 0;
        for (size_t at = 0; at < len && n < max;) {
                if (base[at] != '.')
                        memcpy(names[n++], base + at, len - at + 1);
                const char *dot = memchr(base + at, '.', len - at);
                if (!dot)
                        break;
                at = (size_t)(dot - base) + 1;
        }
        return n;
}
