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

#endif
