/*
 * pki_hmac.c - see pki_hmac.h.
 */
#include "pki_hmac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

enum qerr pki_hmac_sha256(const uint8_t *key, size_t klen, const uint8_t *data, size_t len,
                          uint8_t out[PKI_HMAC_BYTES], struct qerr_info *ei)
{
        unsigned int n = 0;
        static const uint8_t empty[1] = {0};
        if (!HMAC(EVP_sha256(), key ? key : empty, (int)klen, data ? data : empty, len, out, &n) ||
            n != PKI_HMAC_BYTES)
                return qerr_set(ei, QERR_INTERNAL, "HMAC-SHA256 failed");
        return QERR_OK;
}

bool pki_mac_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
        return CRYPTO_memcmp(a, b, n) == 0;
}
