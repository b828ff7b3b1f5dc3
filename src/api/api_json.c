/*
 * api_json.c - see api_json.h.
 */
#include "api_json.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_ITEM_MAX 253

static enum qerr bad(struct qerr_info *ei, const char *where, const char *name, const char *what)
{
        if (where && *where)
                return qerr_set(ei, QERR_MALFORMED, "field '%s.%.64s' %s", where, name, what);
        return qerr_set(ei, QERR_MALFORMED, "field '%.64s' %s", name, what);
}

/* A string without NUL (jansson refuses \u0000 by default, but be sure)
 * and, unless `text`, without control characters. */
static bool clean(const char *s, size_t len, bool text)
{
        if (memchr(s, 0, len))
                return false;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c == 0x7f || (c < 0x20 && !(text && (c == '\n' || c == '\r' || c == '\t'))))
                        return false;
        }
        return true;
}

static enum qerr one(json_t *v, const char *where, const struct jfield *f, struct qerr_info *ei)
{
        char what[128];
        switch (f->type) {
        case JF_STRING:
        case JF_TEXT: {
                if (!json_is_string(v))
                        return bad(ei, where, f->name, "must be a string");
                size_t len = json_string_length(v);
                if (f->max && len > (size_t)f->max) {
                        snprintf(what, sizeof what, "is longer than %lld bytes", f->max);
                        return bad(ei, where, f->name, what);
                }
                if (!clean(json_string_value(v), len, f->type == JF_TEXT))
                        return bad(ei, where, f->name, "holds a control character");
                *(const char **)f->out = json_string_value(v);
                return QERR_OK;
        }
        case JF_INT: {
                if (!json_is_integer(v))
                        return bad(ei, where, f->name, "must be an integer");
                long long x = (long long)json_integer_value(v);
                if (x < f->min || x > f->max) {
                        snprintf(what, sizeof what, "must be between %lld and %lld", f->min,
                                 f->max);
                        return bad(ei, where, f->name, what);
                }
                *(long long *)f->out = x;
                return QERR_OK;
        }
        case JF_BOOL:
                if (!json_is_boolean(v))
                        return bad(ei, where, f->name, "must be true or false");
                *(bool *)f->out = json_is_true(v);
                return QERR_OK;
        case JF_STRINGS: {
                if (!json_is_array(v))
                        return bad(ei, where, f->name, "must be an array of strings");
                size_t n = json_array_size(v);
                if (f->max && n > (size_t)f->max) {
                        snprintf(what, sizeof what, "has more than %lld items", f->max);
                        return bad(ei, where, f->name, what);
                }
                size_t imax = f->item_max ? f->item_max : DEFAULT_ITEM_MAX;
                const char **out = f->out;
                for (size_t i = 0; i < n; i++) {
                        json_t *it = json_array_get(v, i);
                        if (!json_is_string(it))
                                return bad(ei, where, f->name, "must be an array of strings");
                        size_t len = json_string_length(it);
                        if (len > imax) {
                                snprintf(what, sizeof what, "has an item longer than %zu bytes",
                                         imax);
                                return bad(ei, where, f->name, what);
                        }
                        if (!clean(json_string_value(it), len, false))
                                return bad(ei, where, f->name,
                                           "has an item with a control character");
                        out[i] = json_string_value(it);
                }
                *f->count = n;
                return QERR_OK;
        }
        case JF_OBJECT:
                if (!json_is_object(v))
                        return bad(ei, where, f->name, "must be an object");
                *(json_t **)f->out = v;
                return QERR_OK;
        }
        return bad(ei, where, f->name, "has an unknown type");
}

enum qerr api_json_object(json_t *obj, const char *where, const struct jfield *fields,
                          size_t nfields, struct qerr_info *ei)
{
        if (!json_is_object(obj))
                return qerr_set(ei, QERR_MALFORMED, "%s%s must be a JSON object",
                                where && *where ? "field " : "the body", where ? where : "");
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
                bool known = false;
                for (size_t i = 0; i < nfields && !known; i++)
                        known = strcmp(fields[i].name, key) == 0;
                if (!known) {
                        char safe[65];
                        size_t k = 0;
                        for (const char *p = key; *p && k + 1 < sizeof safe; p++)
                                safe[k++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
                        safe[k] = 0;
                        return bad(ei, where, safe, "is not known here; remove it");
                }
        }
        for (size_t i = 0; i < nfields; i++) {
                const struct jfield *f = &fields[i];
                json_t *fv = json_object_get(obj, f->name);
                if (f->present)
                        *f->present = fv != NULL && !json_is_null(fv);
                if (!fv || json_is_null(fv)) {
                        if (f->required)
                                return bad(ei, where, f->name, "is required");
                        continue;
                }
                enum qerr rc = one(fv, where, f, ei);
                if (rc != QERR_OK)
                        return rc;
        }
        return QERR_OK;
}

enum qerr api_json_decode(const uint8_t *body, size_t len, const struct jfield *fields,
                          size_t nfields, json_t **root, struct qerr_info *ei)
{
        *root = NULL;
        if (!body || len == 0)
                return qerr_set(ei, QERR_MALFORMED,
                                "the request needs a JSON object as its body (see docs/api.md)");
        json_error_t jerr;
        json_t *doc =
            json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
        if (!doc) {
                char safe[80];
                size_t k = 0;
                for (const char *p = jerr.text; *p && k + 1 < sizeof safe; p++)
                        safe[k++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
                safe[k] = 0;
                return qerr_set(ei, QERR_MALFORMED,
                                "the body is not valid JSON (line %d, column %d: %s)", jerr.line,
                                jerr.column, safe);
        }
        enum qerr rc = api_json_object(doc, NULL, fields, nfields, ei);
        if (rc != QERR_OK) {
                json_decref(doc);
                return rc;
        }
        *root = doc;
        return QERR_OK;
}
