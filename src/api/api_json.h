/*
 * api_json.h - the strict decoder of REST request bodies.
 *
 * A route describes the body it accepts as a table of fields (name, type,
 * required, limits); api_json_decode() parses the body with jansson and
 * fills the caller's variables. It refuses, with QERR_MALFORMED and a
 * sentence naming the field: a body that is not one JSON object, duplicate
 * keys, unknown fields, missing required fields, wrong types, strings over
 * their limit or holding NUL or control characters (other than in fields
 * that allow newlines, such as PEM), integers out of range, and arrays with
 * too many items or items of the wrong type.
 *
 * Memory: decoded strings point into the parsed document, returned in
 * *root; they stay valid until the caller json_decref()s it. Any thread.
 * Fuzzed by fuzz/fuzz_api_json.c.
 */
#ifndef QUILL_API_JSON_H
#define QUILL_API_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

enum jf_type {
        JF_STRING,  /* out: const char **; max: bytes */
        JF_TEXT,    /* like JF_STRING, but newlines and tabs allowed (PEM, reasons) */
        JF_INT,     /* out: long long *; min..max */
        JF_BOOL,    /* out: bool * */
        JF_STRINGS, /* out: const char ** array of `max` slots; count: size_t * */
        JF_OBJECT,  /* out: json_t ** (borrowed) */
};

struct jfield {
        const char *name;
        enum jf_type type;
        bool required;
        long long min, max; /* JF_INT: range; JF_STRING/TEXT: max bytes; JF_STRINGS: max items */
        void *out;
        size_t *count;   /* JF_STRINGS: items written */
        bool *present;   /* optional: set when the field was given */
        size_t item_max; /* JF_STRINGS: max bytes per item (0: 253) */
};

/* Decodes `body` (len bytes) against `fields`. On success *root owns the
 * document the outputs point into. */
enum qerr api_json_decode(const uint8_t *body, size_t len, const struct jfield *fields,
                          size_t nfields, json_t **root, struct qerr_info *ei);

/* Checks an object (e.g. a nested "organization") against `fields` the
 * same way; the outputs point into `obj`. `where` names it in messages. */
enum qerr api_json_object(json_t *obj, const char *where, const struct jfield *fields,
                          size_t nfields, struct qerr_info *ei);

#endif
