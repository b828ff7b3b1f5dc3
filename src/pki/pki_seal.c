/*
 * pki_seal.c - AES-256-GCM sealing; see pki_seal.h.
 */
#include "pki_seal.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "QS1"

enum qerr pki_seal(const uint8_t key[SEAL_KEY_BYTES], const char *aad, const void *plain,
                   size_t len, struct qbuf *out, struct qerr_info *ei)
{
        uint8_t nonce[12], tag[16];
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        uint8_t *ct = malloc(len + 16);
        int n = 0, f = 0;
        bool ok = c && ct && len < INT32_MAX && RAND_bytes(nonce, sizeof nonce) == 1 &&
                  EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
                  EVP_EncryptUpdate(c, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) == 1 &&
                  EVP_EncryptUpdate(c, ct, &n, plain, (int)len) == 1 &&
                  EVP_EncryptFinal_ex(c, ct + n, &f) == 1 &&
                  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
        ok = ok && qbuf_append(out, MAGIC, 3) && qbuf_append(out, nonce, 12) &&
             qbuf_append(out, ct, (size_t)(n + f)) && qbuf_append(out, tag, 16);
        EVP_CIPHER_CTX_free(c);
        free(ct);
        return ok ? QERR_OK : qerr_set(ei, QERR_INTERNAL, "could not encrypt the private key");
}

enum qerr pki_unseal(const uint8_t key[SEAL_KEY_BYTES], const char *aad, const void *blob,
                     size_t len, struct qbuf *out, struct qerr_info *ei)
{
        const uint8_t *b = blob;
        if (len < 3 + 12 + 16 || memcmp(b, MAGIC, 3) != 0)
                return qerr_set(ei, QERR_INTERNAL, "the stored key blob is damaged");
        size_t ctlen = len - 31;
        uint8_t *pt = malloc(ctlen + 16);
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        int n = 0, f = 0;
        bool ok = pt && c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, b + 3) == 1 &&
                  EVP_DecryptUpdate(c, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) == 1 &&
                  EVP_DecryptUpdate(c, pt, &n, b + 15, (int)ctlen) == 1 &&
                  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(b + len - 16)) == 1 &&
                  EVP_DecryptFinal_ex(c, pt + n, &f) == 1;
        bool fits = ok && qbuf_append(out, pt, (size_t)(n + f));
        EVP_CIPHER_CTX_free(c);
        if (pt) {
                OPENSSL_cleanse(pt, ctlen + 16);
                free(pt);
        }
        if (ok && !fits)
                return qerr_set(ei, QERR_INTERNAL, "no room for the unsealed key");
        /* the tag did not verify: another data key, or a changed blob */
        return ok ? QERR_OK
                  : qerr_set(ei, QERR_DATA_KEY_WRONG,
                             "the stored private key could not be decrypted: the data key "
                             "(QUILL_DATA_KEY or keys.data_key_file) is not the one it was "
                             "stored with");
}
