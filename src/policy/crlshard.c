/*
 * crlshard.c - which CRL shard lists a certificate; see policy.h.
 *
 * The function is part of the public contract of every certificate issued
 * since sharding: its CRL distribution point names the shard computed here,
 * so the hash and its input must never change. The input is the serial's
 * magnitude (no sign byte, no leading zero bytes), so "00ab" and "AB" land
 * together. Pure; any thread.
 */
#include "policy.h"

#include <string.h>

static int nibble(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int policy_crl_shard(const char *serial_hex, int shards)
{
        if (!serial_hex || shards < 1 || shards > QUILL_MAX_CRL_SHARDS)
                return -1;
        size_t n = strlen(serial_hex);
        if (n == 0 || n > 64)
                return -1;
        uint8_t bytes[32];
        size_t nb = 0;
        /* right-aligned: an odd count of digits has an implicit leading 0 */
        size_t i = 0;
        if (n % 2) {
                int v = nibble(serial_hex[0]);
                if (v < 0)
                        return -1;
                bytes[nb++] = (uint8_t)v;
                i = 1;
        }
        for (; i < n; i += 2) {
                int hi = nibble(serial_hex[i]), lo = nibble(serial_hex[i + 1]);
                if (hi < 0 || lo < 0)
                        return -1;
                bytes[nb++] = (uint8_t)(hi << 4 | lo);
        }
        size_t skip = 0;
        while (skip < nb && bytes[skip] == 0)
                skip++;
        if (nb - skip > 20)
                return -1;
        uint32_t h = 2166136261u; /* FNV-1a 32 */
        for (size_t k = skip; k < nb; k++) {
                h ^= bytes[k];
                h *= 16777619u;
        }
        return (int)(h % (uint32_t)shards);
}
