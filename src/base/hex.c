/*
 * hex.c - see hex.h.
 */
#include "hex.h"

#include <string.h>

void hex_encode(const uint8_t *in, size_t len, char *out, size_t outsz)
{
        static const char d[] = "0123456789abcdef";
        size_t o = 0;
        for (size_t i = 0; i < len && o + 2 < outsz; i++) {
                out[o++] = d[in[i] >> 4];
                out[o++] = d[in[i] & 15];
        }
        if (outsz)
                out[o] = 0;
}

static int nib(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

bool hex_decode(const char *in, uint8_t *out, size_t outsz, size_t *outlen)
{
        size_t n = strlen(in);
        if (n % 2 || n / 2 > outsz)
                return false;
        for (size_t i = 0; i < n / 2; i++) {
                int hi = nib(in[2 * i]), lo = nib(in[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return false;
                out[i] = (uint8_t)(hi << 4 | lo);
        }
        *outlen = n / 2;
        return true;
}

bool hex_sha256_parse(const char *in, char out[65])
{
        uint8_t md[32];
        size_t n = 0;
        if (!in || strlen(in) != 64 || !hex_decode(in, md, sizeof md, &n) || n != 32)
                return false;
        hex_encode(md, sizeof md, out, 65);
        return true;
}
