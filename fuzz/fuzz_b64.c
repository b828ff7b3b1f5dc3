/*
 * fuzz_b64.c - libFuzzer target for the base64 and base64url decoders
 * (src/base/b64.c): whatever they accept must encode back to an input that
 * decodes to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/b64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct qbuf a, b, c;
        qbuf_init(&a, 1u << 20);
        qbuf_init(&b, 1u << 21);
        qbuf_init(&c, 1u << 20);
        if (b64url_decode((const char *)data, size, &a)) {
                /* canonical: the encoding of the result is the input itself */
                if (!b64url_encode(a.data, a.len, &b) || b.len != size ||
                    memcmp(b.data, data, size) != 0)
                        __builtin_trap();
        }
        qbuf_reset(&a);
        qbuf_reset(&b);
        if (b64_decode((const char *)data, size, &a)) {
                if (!b64_encode(a.data, a.len, &b) || !b64_decode((const char *)b.data, b.len, &c) ||
                    c.len != a.len || (a.len && memcmp(a.data, c.data, a.len) != 0))
                        __builtin_trap();
        }
        qbuf_free(&a);
        qbuf_free(&b);
        qbuf_free(&c);
        return 0;
}
