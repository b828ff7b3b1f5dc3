/*
 * fuzz_validate_body.c - libFuzzer target for the file validation body
 * reader (validate_body_matches). The first byte gives the length of a value
 * taken from the input; the rest is the fetched body. A second, independent
 * trim-and-compare checks the answer: any disagreement aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "validate/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char value[VALIDATE_VALUE_LEN + 1];
        if (size < 1)
                return 0;
        size_t vl = data[0] % (VALIDATE_VALUE_LEN + 1);
        data++;
        size--;
        if (vl > size)
                vl = size;
        memcpy(value, data, vl);
        value[vl] = '\0';
        vl = strlen(value); /* a value never holds a NUL */
        const uint8_t *body = data + vl;
        size_t blen = size - vl;

        bool got = validate_body_matches(body, blen, value);

        size_t t = blen;
        while (t > 0 && (body[t - 1] == ' ' || body[t - 1] == '\t' || body[t - 1] == '\r' ||
                         body[t - 1] == '\n'))
                t--;
        bool want = vl > 0 && t == vl && memcmp(body, value, vl) == 0;
        if (got != want)
                abort();
        /* a value without trailing whitespace (real ones are base64url)
         * matches itself */
        bool ends_blank = vl > 0 && (value[vl - 1] == ' ' || value[vl - 1] == '\t' ||
                                     value[vl - 1] == '\r' || value[vl - 1] == '\n');
        if (vl > 0 && !ends_blank && !validate_body_matches((const uint8_t *)value, vl, value))
                abort();
        return 0;
}
