/*
 * pki_hmac.h - HMAC-SHA256, for the signature of webhook deliveries
 * (X-Quill-Signature: sha256=<hex>). Pure functions over their arguments;
 * any thread.
 */
#ifndef QUILL_PKI_HMAC_H
#define QUILL_PKI_HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

#define PKI_HMAC_BYTES 32

/* out = HMAC-SHA256(key, data). QERR_INTERNAL only when OpenSSL fails. */
enum qerr pki_hmac_sha256(const uint8_t *key, size_t klen, const uint8_t *data, size_t len,
                          uint8_t out[PKI_HMAC_BYTES], struct qerr_info *ei);

/* Compares two MACs in constant time. */
bool pki_mac_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif
