/*
 * b64.h - base64 (RFC 4648 section 4) and base64url without padding
 * (section 5, as JOSE and ACME use it).
 *
 * Decoders are strict: only the alphabet (plus, for standard base64,
 * whitespace between groups, as PEM bodies have), padding only at the end
 * and only as much as the length needs; anything else is refused (false)
 * and `out` is left as it was. Output goes to a caller-owned qbuf (its
 * maximum bounds the size). No state; any thread. Fuzzed by
 * fuzz/fuzz_b64.c.
 */
#ifndef QUILL_B64_H
#define QUILL_B64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

bool b64_decode(const char *p, size_t len, struct qbuf *out);
bool b64url_decode(const char *p, size_t len, struct qbuf *out);
/* Appends the base64url form of `in` (no padding). */
bool b64url_encode(const uint8_t *in, size_t len, struct qbuf *out);
/* Appends the standard base64 form (with padding). */
bool b64_encode(const uint8_t *in, size_t len, struct qbuf *out);

#endif
