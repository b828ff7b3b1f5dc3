/*
 * notify_rules.c - the retry schedule and the signature (notify.h). Pure;
 * any thread.
 */
#include <stdio.h>
#include <string.h>

#include "../base/hex.h"
#include "../pki/pki_hmac.h"
#include "notify.h"

/* Multiples of [notify] retry_base_seconds after each failed attempt: with
 * a base of 60 s, 1 min, 5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 6 h, 10 h,
 * so ten attempts span about a day (23 h 51 min). */
static const long SCHEDULE[] = {1, 5, 15, 30, 60, 120, 240, 360, 600};
#define NSCHEDULE (sizeof SCHEDULE / sizeof SCHEDULE[0])

long notify_backoff(int attempts, long base, double jitter01)
{
        if (attempts < 1)
                attempts = 1;
        if (base < 1)
                base = 1;
        size_t i = (size_t)attempts - 1 < NSCHEDULE ? (size_t)attempts - 1 : NSCHEDULE - 1;
        long d = base * SCHEDULE[i];
        if (jitter01 > 0 && jitter01 < 1)
                d += (long)((double)d * 0.1 * jitter01);
        return d;
}

enum qerr notify_sign(const uint8_t *secret, size_t slen, const uint8_t *body, size_t len,
                      char *out, size_t outsz, struct qerr_info *ei)
{
        uint8_t mac[PKI_HMAC_BYTES];
        char hex[2 * PKI_HMAC_BYTES + 1];
        if (outsz < sizeof "sha256=" + 2 * PKI_HMAC_BYTES)
                return qerr_set(ei, QERR_INTERNAL, "signature buffer too small");
        enum qerr rc = pki_hmac_sha256(secret, slen, body, len, mac, ei);
        if (rc != QERR_OK)
                return rc;
        hex_encode(mac, sizeof mac, hex, sizeof hex);
        snprintf(out, outsz, "sha256=%s", hex);
        return QERR_OK;
}
