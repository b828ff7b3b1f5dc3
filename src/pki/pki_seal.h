/*
 * pki_seal.h - authenticated encryption of subscriber private keys under
 * the service's data key (AES-256-GCM; 12-byte random nonce).
 *
 * Blob layout: "QS1" | nonce(12) | ciphertext | tag(16). The key id string
 * is bound as additional data so a blob cannot be moved to another
 * certificate row. Outputs are caller-owned qbufs. Any thread.
 */
#ifndef QUILL_PKI_SEAL_H
#define QUILL_PKI_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/err.h"

#define SEAL_KEY_BYTES 32

enum qerr pki_seal(const uint8_t key[SEAL_KEY_BYTES], const char *aad, const void *plain,
                   size_t len, struct qbuf *out, struct qerr_info *ei);
/* KEY_PASSWORD-class failure is reported as QERR_INTERNAL with a sentence
 * saying the data key does not match (wrong QUILL_DATA_KEY / file). */
enum qerr pki_unseal(const uint8_t key[SEAL_KEY_BYTES], const char *aad, const void *blob,
                     size_t len, struct qbuf *out, struct qerr_info *ei);

#endif
