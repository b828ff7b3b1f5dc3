/*
 * hex.h - lower-case hex encoding and decoding. Pure; any thread.
 */
#ifndef QUILL_HEX_H
#define QUILL_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes 2*len hex digits plus NUL into out (outsz >= 2*len+1). */
void hex_encode(const uint8_t *in, size_t len, char *out, size_t outsz);
/* Decodes exactly; false on odd length, bad digit or overflow. */
bool hex_decode(const char *in, uint8_t *out, size_t outsz, size_t *outlen);

/* A SHA-256 given as text: exactly 64 hex digits, either case, nothing
 * else (no spaces, colons or prefix). Writes the lower-case form; false
 * otherwise. */
bool hex_sha256_parse(const char *in, char out[65]);

#endif
