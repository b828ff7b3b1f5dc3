/*
 * pki_key.c - key pairs; see pki_key.h.
 */
#include "pki_key.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../base/hex.h"

static const char *const alg_names[KEYALG__COUNT] = {"rsa2048", "rsa3072", "rsa4096",
                                                     "ec256",   "ec384",   "sm2"};

const char *key_alg_name(enum key_alg a)
{
        return (unsigned)a < KEYALG__COUNT ? alg_names[a] : "unknown";
}

bool key_alg_from_name(const char *s, enum key_alg *out)
{
        for (int i = 0; i < KEYALG__COUNT; i++)
                if (strcmp(s, alg_names[i]) == 0) {
                        *out = (enum key_alg)i;
                        return true;
                }
        return false;
}

enum qerr pki_key_generate(enum key_alg a, EVP_PKEY **out, struct qerr_info *ei)
{
        EVP_PKEY *k = NULL;
        switch (a) {
        case KEYALG_RSA2048:
                k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
                break;
        case KEYALG_RSA3072:
                k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
                break;
        case KEYALG_RSA4096:
                k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
                break;
        case KEYALG_EC256:
                k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
                break;
        case KEYALG_EC384:
                k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
                break;
        case KEYALG_SM2:
                k = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
                break;
        default:
                return qerr_set(ei, QERR_KEY_UNSUPPORTED, NULL);
        }
        if (!k)
                return qerr_set(ei, QERR_INTERNAL, "key generation (%s) failed", key_alg_name(a));
        *out = k;
        return QERR_OK;
}

bool pki_key_is_sm2(EVP_PKEY *k)
{
        return EVP_PKEY_is_a(k, "SM2");
}

enum qerr pki_key_describe(EVP_PKEY *k, char name[16], struct qerr_info *ei)
{
        if (EVP_PKEY_is_a(k, "SM2")) {
                snprintf(name, 16, "sm2");
                return QERR_OK;
        }
        if (EVP_PKEY_is_a(k, "RSA")) {
                int bits = EVP_PKEY_get_bits(k);
                if (bits < 2048)
                        return qerr_set(ei, QERR_KEY_WEAK,
                                        "the RSA key has %d bits; at least 2048 are required",
                                        bits);
                if (bits % 8 || bits > 8192)
                        return qerr_set(ei, QERR_KEY_UNSUPPORTED,
                                        "RSA keys must be a multiple of 8 bits and at most 8192 "
                                        "(this one has %d)",
                                        bits);
                BIGNUM *e = NULL;
                if (!EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e))
                        return qerr_set(ei, QERR_KEY_INVALID, "the RSA key has no exponent");
                /* BR 6.1.6: odd exponent, 2^16+1 at least */
                bool ok = BN_is_odd(e) && BN_num_bits(e) >= 17;
                BN_free(e);
                if (!ok)
                        return qerr_set(ei, QERR_KEY_WEAK,
                                        "the RSA public exponent must be odd and at least 65537");
                snprintf(name, 16, "rsa%d", bits);
                return QERR_OK;
        }
        if (EVP_PKEY_is_a(k, "EC")) {
                char curve[64] = "";
                size_t len = 0;
                if (!EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, curve,
                                                    sizeof curve, &len))
                        return qerr_set(ei, QERR_KEY_UNSUPPORTED,
                                        "the EC key uses explicit or unknown curve parameters; "
                                        "use P-256 or P-384");
                if (strcmp(curve, "prime256v1") == 0 || strcmp(curve, "P-256") == 0) {
                        snprintf(name, 16, "ec256");
                        return QERR_OK;
                }
                if (strcmp(curve, "secp384r1") == 0 || strcmp(curve, "P-384") == 0) {
                        snprintf(name, 16, "ec384");
                        return QERR_OK;
                }
                if (strcmp(curve, "SM2") == 0) {
                        snprintf(name, 16, "sm2");
                        return QERR_OK;
                }
                return qerr_set(ei, QERR_KEY_UNSUPPORTED,
                                "the EC curve %.40s is not accepted; use P-256 or P-384", curve);
        }
        return qerr_set(ei, QERR_KEY_UNSUPPORTED, "keys of type %.32s are not accepted",
                        EVP_PKEY_get0_type_name(k) ? EVP_PKEY_get0_type_name(k) : "?");
}

/* Encrypted PKCS#8 (PBES2: PBKDF2-HMAC-SHA256 with `iter` iterations and
 * a random 16-byte salt, AES-256-CBC) written as PEM to b. */
static bool write_encrypted(BIO *b, EVP_PKEY *k, const char *password, int iter)
{
        bool ok = false;
        PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k);
        X509_ALGOR *pbe = NULL;
        X509_SIG *sig = NULL;
        unsigned char salt[PKI_PBKDF2_SALT];
        if (!p8 || RAND_bytes(salt, sizeof salt) != 1)
                goto out;
        pbe =
            PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), iter, salt, sizeof salt, NULL, NID_hmacWithSHA256);
        if (!pbe)
                goto out;
        sig = PKCS8_set0_pbe(password, (int)strlen(password), p8, pbe);
        if (!sig)
                goto out;
        pbe = NULL; /* owned by sig now */
        ok = PEM_write_bio_PKCS8(b, sig) == 1;
out:
        X509_ALGOR_free(pbe);
        X509_SIG_free(sig);
        PKCS8_PRIV_KEY_INFO_free(p8);
        return ok;
}

enum qerr pki_key_to_pem_iter(EVP_PKEY *k, const char *password, int iter, struct qbuf *out,
                              struct qerr_info *ei)
{
        BIO *b = BIO_new(BIO_s_secmem());
        if (!b)
                return qerr_set(ei, QERR_NOMEM, NULL);
        bool ok;
        if (password)
                ok = write_encrypted(b, k, password, iter);
        else
                ok = PEM_write_bio_PKCS8PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1;
        enum qerr rc = QERR_OK;
        char *p;
        long n = BIO_get_mem_data(b, &p);
        if (!ok || n <= 0 || !qbuf_append(out, p, (size_t)n))
                rc = qerr_set(ei, QERR_INTERNAL, "could not encode the private key");
        ERR_clear_error();
        BIO_free(b);
        return rc;
}

enum qerr pki_key_to_pem(EVP_PKEY *k, const char *password, struct qbuf *out, struct qerr_info *ei)
{
        return pki_key_to_pem_iter(k, password, PKI_PBKDF2_ITER, out, ei);
}

/* The PBKDF2 parameters of a PBES2 algorithm identifier: iterations and
 * whether the PRF is HMAC-SHA256. false when it is not PBES2 + PBKDF2. */
static bool pbes2_pbkdf2(const X509_ALGOR *alg, long *iter, bool *sha256, bool *aes256)
{
        const ASN1_OBJECT *oid;
        const void *pval;
        int ptype;
        X509_ALGOR_get0(&oid, &ptype, &pval, alg);
        if (OBJ_obj2nid(oid) != NID_pbes2 || ptype != V_ASN1_SEQUENCE)
                return false;
        PBE2PARAM *p2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
        if (!p2)
                return false;
        bool ok = false;
        PBKDF2PARAM *kdf = NULL;
        if (OBJ_obj2nid(p2->keyfunc->algorithm) == NID_id_pbkdf2)
                kdf =
                    ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), p2->keyfunc->parameter);
        if (kdf) {
                *iter = ASN1_INTEGER_get(kdf->iter);
                /* an absent PRF means HMAC-SHA1 (RFC 8018) */
                *sha256 = kdf->prf && OBJ_obj2nid(kdf->prf->algorithm) == NID_hmacWithSHA256;
                *aes256 = OBJ_obj2nid(p2->encryption->algorithm) == NID_aes_256_cbc;
                ok = true;
        }
        PBKDF2PARAM_free(kdf);
        PBE2PARAM_free(p2);
        return ok;
}

enum qerr pki_key_pem_kdf(const void *pem, size_t len, long *iter, struct qerr_info *ei)
{
        *iter = 0;
        if (len > INT_MAX)
                return qerr_set(ei, QERR_KEY_INVALID, NULL);
        BIO *b = BIO_new_mem_buf(pem, (int)len);
        if (!b)
                return qerr_set(ei, QERR_NOMEM, NULL);
        X509_SIG *sig = PEM_read_bio_PKCS8(b, NULL, NULL, NULL);
        BIO_free(b);
        ERR_clear_error();
        if (!sig)
                return QERR_OK; /* not encrypted PKCS#8 (plain or traditional PEM) */
        const X509_ALGOR *alg = NULL;
        X509_SIG_get0(sig, &alg, NULL);
        long n = 0;
        bool sha256 = false, aes256 = false;
        if (alg && pbes2_pbkdf2(alg, &n, &sha256, &aes256) && sha256 && aes256)
                *iter = n;
        X509_SIG_free(sig);
        ERR_clear_error();
        return QERR_OK;
}

bool pki_key_pem_needs_upgrade(const void *pem, size_t len)
{
        long iter = 0;
        struct qerr_info ei;
        return pki_key_pem_kdf(pem, len, &iter, &ei) != QERR_OK || iter < PKI_PBKDF2_ITER;
}

static int pw_cb(char *buf, int size, int rwflag, void *u)
{
        (void)rwflag;
        const char *pw = u;
        if (!pw)
                return -1; /* no password given: fail rather than prompt */
        int n = (int)strlen(pw);
        if (n > size)
                n = size;
        memcpy(buf, pw, (size_t)n);
        return n;
}

enum qerr pki_key_from_pem(const void *pem, size_t len, const char *password, EVP_PKEY **out,
                           struct qerr_info *ei)
{
        if (len > INT_MAX)
                return qerr_set(ei, QERR_KEY_INVALID, NULL);
        BIO *b = BIO_new_mem_buf(pem, (int)len);
        if (!b)
                return qerr_set(ei, QERR_NOMEM, NULL);
        ERR_clear_error();
        EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, pw_cb, (void *)password);
        BIO_free(b);
        if (k) {
                *out = k;
                return QERR_OK;
        }
        unsigned long e = ERR_peek_last_error();
        ERR_clear_error();
        /* Decide between "wrong password" and "not a key" by the PEM label. */
        const char *s = pem;
        bool encrypted = memmem(s, len, "ENCRYPTED", 9) != NULL;
        if (encrypted)
                return qerr_set(ei, QERR_KEY_PASSWORD,
                                password ? "the private key could not be decrypted: the password "
                                           "is wrong"
                                         : "the private key is encrypted; give its password");
        (void)e;
        return qerr_set(ei, QERR_KEY_INVALID, NULL);
}

enum qerr pki_key_spki_der(EVP_PKEY *k, struct qbuf *out, struct qerr_info *ei)
{
        unsigned char *der = NULL;
        int n = i2d_PUBKEY(k, &der);
        if (n <= 0)
                return qerr_set(ei, QERR_INTERNAL, "could not encode the public key");
        bool ok = qbuf_append(out, der, (size_t)n);
        OPENSSL_free(der);
        return ok ? QERR_OK : qerr_set(ei, QERR_NOMEM, NULL);
}

enum qerr pki_key_id(EVP_PKEY *k, char out[65], struct qerr_info *ei)
{
        struct qbuf b;
        qbuf_init(&b, 1u << 16);
        enum qerr rc = pki_key_spki_der(k, &b, ei);
        if (rc == QERR_OK) {
                unsigned char md[32];
                unsigned int mdlen = 0;
                if (!EVP_Digest(b.data, b.len, md, &mdlen, EVP_sha256(), NULL))
                        rc = qerr_set(ei, QERR_INTERNAL, "sha256 failed");
                else
                        hex_encode(md, 32, out, 65);
        }
        qbuf_free(&b);
        return rc;
}

bool pki_key_matches(EVP_PKEY *priv, EVP_PKEY *pub)
{
        return EVP_PKEY_eq(priv, pub) == 1;
}

static const EVP_MD *md_for(EVP_PKEY *k)
{
        if (EVP_PKEY_is_a(k, "SM2"))
                return EVP_sm3();
        if (EVP_PKEY_is_a(k, "EC") && EVP_PKEY_get_bits(k) >= 384)
                return EVP_sha384();
        return EVP_sha256();
}

static EVP_MD_CTX *make_ctx(EVP_PKEY *k, bool sign)
{
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL; /* owned by ctx */
        if (!ctx)
                return NULL;
        int ok = sign ? EVP_DigestSignInit(ctx, &pctx, md_for(k), NULL, k)
                      : EVP_DigestVerifyInit(ctx, &pctx, md_for(k), NULL, k);
        /* SM2: the ID enters the Z digest at the first update, so setting it
         * right after init is in time. */
        if (ok == 1 && EVP_PKEY_is_a(k, "SM2") &&
            EVP_PKEY_CTX_set1_id(pctx, PKI_SM2_ID, strlen(PKI_SM2_ID)) <= 0)
                ok = 0;
        if (ok != 1) {
                EVP_MD_CTX_free(ctx);
                return NULL;
        }
        return ctx;
}

EVP_MD_CTX *pki_sign_ctx(EVP_PKEY *k)
{
        return make_ctx(k, true);
}

EVP_MD_CTX *pki_verify_ctx(EVP_PKEY *k)
{
        return make_ctx(k, false);
}

enum qerr pki_pubkey_read(const void *data, size_t len, EVP_PKEY **out, struct qerr_info *ei)
{
        *out = NULL;
        if (!data || len == 0 || len > INT_MAX)
                return qerr_set(ei, QERR_KEY_INVALID, "the public key is empty");
        EVP_PKEY *k = NULL;
        if (memmem(data, len, "-----BEGIN PUBLIC KEY-----", 26)) {
                BIO *b = BIO_new_mem_buf(data, (int)len);
                if (b)
                        k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
                BIO_free(b);
        } else {
                const unsigned char *p = data;
                k = d2i_PUBKEY(NULL, &p, (long)len);
                /* exactly one SubjectPublicKeyInfo, nothing after it */
                if (k && p != (const unsigned char *)data + len) {
                        EVP_PKEY_free(k);
                        k = NULL;
                }
        }
        ERR_clear_error();
        if (!k)
                return qerr_set(ei, QERR_KEY_INVALID,
                                "not a public key: give a PEM PUBLIC KEY block or a DER "
                                "SubjectPublicKeyInfo");
        *out = k;
        return QERR_OK;
}

bool pki_verify(EVP_PKEY *k, const uint8_t *msg, size_t len, const uint8_t *sig, size_t siglen)
{
        EVP_MD_CTX *ctx = pki_verify_ctx(k);
        bool ok = ctx && EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1;
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        return ok;
}
