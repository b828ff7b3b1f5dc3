/*
 * pki_key.h - subscriber and CA key pairs: generate, describe, check
 * strength, and read/write PEM (optionally password-encrypted PKCS#8).
 *
 * EVP_PKEY objects returned here are owned by the caller (EVP_PKEY_free).
 * Returned strings/buffers are owned by the caller (free / qbuf_free).
 * Stateless apart from OpenSSL's own thread-safe state; any thread.
 */
#ifndef QUILL_PKI_KEY_H
#define QUILL_PKI_KEY_H

#include <openssl/evp.h>
#include <stdbool.h>

#include "../base/buf.h"
#include "../base/err.h"

enum key_alg {
        KEYALG_RSA2048,
        KEYALG_RSA3072,
        KEYALG_RSA4096,
        KEYALG_EC256,
        KEYALG_EC384,
        KEYALG_SM2,
        KEYALG__COUNT
};

/* The SM2 distinguishing identifier (GM/T 0009-2012 default) used for every
 * SM2 signature quill makes or checks. OpenSSL 3.0's own default is empty, so
 * `openssl verify` needs `-vfyopt distid:1234567812345678` for our SM2 chains. */
#define PKI_SM2_ID "1234567812345678"

const char *key_alg_name(enum key_alg a); /* "ec256", ... */
bool key_alg_from_name(const char *s, enum key_alg *out);

/* Generates a fresh key pair. QERR_INTERNAL on failure. */
enum qerr pki_key_generate(enum key_alg a, EVP_PKEY **out, struct qerr_info *ei);

/* Checks the key is one quill accepts (RSA >= 2048 bits and a multiple of 8,
 * at most 8192; EC on P-256 or P-384; SM2) and writes its name ("rsa2048",
 * "ec384", "sm2", "rsa2560"...) into name[16]. KEY_WEAK or KEY_UNSUPPORTED. */
enum qerr pki_key_describe(EVP_PKEY *k, char name[16], struct qerr_info *ei);
bool pki_key_is_sm2(EVP_PKEY *k);

/* Keys at rest: PBKDF2-HMAC-SHA256 with this many iterations (OWASP 2023;
 * about 0.25 s per encryption or decryption on a current core), a 16-byte
 * random salt, AES-256-CBC. See docs/internals/signer.md for the choice
 * against scrypt. */
#define PKI_PBKDF2_ITER 600000
#define PKI_PBKDF2_SALT 16

/* PEM PKCS#8; with a non-NULL password, encrypted PKCS#8 (PBES2 with the
 * parameters above). */
enum qerr pki_key_to_pem(EVP_PKEY *k, const char *password, struct qbuf *out, struct qerr_info *ei);
/* The same with another iteration count (tests make old-style files). */
enum qerr pki_key_to_pem_iter(EVP_PKEY *k, const char *password, int iter, struct qbuf *out,
                              struct qerr_info *ei);
/* The PBKDF2 iteration count of an encrypted PKCS#8 PEM whose PRF is
 * HMAC-SHA256 and cipher AES-256-CBC; 0 for anything else (plain,
 * traditional, other PRF or cipher, scrypt). */
enum qerr pki_key_pem_kdf(const void *pem, size_t len, long *iter, struct qerr_info *ei);
/* True when a key PEM is not encrypted with the parameters above (fewer
 * iterations, SHA-1 PRF, another cipher, traditional PEM): re-encrypt it. */
bool pki_key_pem_needs_upgrade(const void *pem, size_t len);
/* Reads a PEM private key (PKCS#8, encrypted PKCS#8 or traditional). With a
 * wrong or missing password: KEY_PASSWORD; garbage: KEY_INVALID. */
enum qerr pki_key_from_pem(const void *pem, size_t len, const char *password, EVP_PKEY **out,
                           struct qerr_info *ei);
/* DER SubjectPublicKeyInfo of k into out. */
enum qerr pki_key_spki_der(EVP_PKEY *k, struct qbuf *out, struct qerr_info *ei);
/* Lower-case hex SHA-256 of the DER SPKI (65 bytes with NUL). */
enum qerr pki_key_id(EVP_PKEY *k, char out[65], struct qerr_info *ei);
/* A public key from outside: a PEM "PUBLIC KEY" block or a DER
 * SubjectPublicKeyInfo (nothing after it). KEY_INVALID otherwise. */
enum qerr pki_pubkey_read(const void *data, size_t len, EVP_PKEY **out, struct qerr_info *ei);
/* Does `sig` verify over `msg` with k, by the algorithm pki_verify_ctx
 * chooses (DER ECDSA/SM2 signatures, PKCS#1 v1.5 for RSA)? */
bool pki_verify(EVP_PKEY *k, const uint8_t *msg, size_t len, const uint8_t *sig, size_t siglen);
/* Does the private key belong to this public key? */
bool pki_key_matches(EVP_PKEY *priv, EVP_PKEY *pub);
/* Makes a digest-sign context for k with the algorithm quill uses for it
 * (ECDSA P-256/SHA-256, P-384/SHA-384, RSA PKCS#1 v1.5 SHA-256, SM2/SM3 with
 * PKI_SM2_ID). Caller frees with EVP_MD_CTX_free. NULL on failure. */
EVP_MD_CTX *pki_sign_ctx(EVP_PKEY *k);
/* Same for verification of a signature made by k (for SM2 sets the ID). */
EVP_MD_CTX *pki_verify_ctx(EVP_PKEY *k);

#endif
