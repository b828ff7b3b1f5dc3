/*
 * validate_int.h - what validate.c (values, the DNS method, sentences) and
 * validate_file.c (the file method) share. Not for other modules.
 *
 * Sentences: every outcome is a struct validate_result with a sentence
 * naming what was checked and what was seen. Untrusted text that names
 * something (a host, a URL, a CNAME target) is escaped and cut
 * (val_show_*); untrusted content (a fetched body, a TXT record) is never
 * repeated, only described by its size, type and form (val_describe_found).
 * Any thread; nothing here keeps state.
 */
#ifndef QUILL_VALIDATE_INT_H
#define QUILL_VALIDATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validate.h"

#define URL_SHOW 300     /* characters of a URL or name shown in a sentence */
#define NAME_MAX_LEN 253 /* a DNS name without the trailing dot */

/* out = {code, final, printf(fmt)} */
void val_set_result(struct validate_result *out, enum qerr code, bool final, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* FILE_UNREACHABLE with the sentence followed by where validation requests
 * come from (c->source_addresses); the sentence is shortened if needed so
 * that the addresses always fit (RULES.md §2 requires them). */
void val_set_unreachable(struct validate_result *out, const struct validate_cfg *c, bool final,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Untrusted bytes for a sentence: printable ASCII as is (quote and
 * backslash escaped), everything else as \xNN, at most outsz - 4
 * characters, "..." when cut. Returns out. */
const char *val_show_bytes(const uint8_t *p, size_t n, char *out, size_t outsz);
const char *val_show_str(const char *s, char *out, size_t outsz);

/* Length of `body` without trailing spaces, tabs, CR and LF. */
size_t val_trimmed_len(const uint8_t *body, size_t len);

/* true when `p` (n bytes) has the form of a validation value (base64url,
 * VALIDATE_VALUE_LEN characters): most likely another order's value. */
bool val_value_shaped(const uint8_t *p, size_t n);

#endif
