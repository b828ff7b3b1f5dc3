/*
 * jws.h - JSON Web Signatures as ACME uses them (RFC 8555 section 6.2,
 * RFC 7515 flattened JSON serialization, RFC 7517 keys, RFC 7638
 * thumbprints).
 *
 * jws_parse() decodes a request body strictly: one JSON object with exactly
 * "protected", "payload" and "signature" (no unprotected "header"), no
 * duplicate keys, base64url without padding, a protected header that is a
 * JSON object holding only alg, nonce, url, kid and jwk, with an accepted
 * alg (ES256, ES384, RS256, EdDSA; never "none", never HS*), and exactly one
 * of kid and jwk. It does not verify: the caller finds the key (the jwk, or
 * the account named by kid) and calls jws_verify(). jws_parse_eab() decodes
 * the inner JWS of an external account binding (alg HS256 only, kid and url,
 * no nonce) and jws_verify_hmac() checks it.
 *
 * Keys (struct jws_key) are made from a JWK: EC P-256/P-384, RSA of 2048 to
 * 8192 bits with a small odd exponent, Ed25519; private members are refused.
 * A key only verifies the algorithm of its type (ES256 with P-256, ES384 with
 * P-384, RS256 with RSA, EdDSA with Ed25519).
 *
 * Memory: a struct jws is the caller's (on the stack); jws_clear() frees
 * what jws_parse() put in it; strings and the jwk pointer inside are
 * borrowed from its header and valid until then. A jws_key is freed with
 * jws_key_free(); it holds no reference to the JSON it came from.
 * Threads: no shared state; a jws_key may be used by several threads at
 * once for verification (OpenSSL keys are read-only here). Fuzzed by
 * fuzz/fuzz_jws.c. OpenSSL types never appear in this header, so front doors
 * may include it.
 */
#ifndef QUILL_PKI_JWS_H
#define QUILL_PKI_JWS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/err.h"

#define MAX_JWS_BYTES (64u * 1024u)
#define JWS_URL_MAX 2048
#define JWS_NONCE_MAX 128
#define JWS_THUMBPRINT_LEN 43 /* base64url of a SHA-256 digest */
#define JWS_RSA_MIN_BITS 2048
#define JWS_RSA_MAX_BITS 8192

enum jws_alg { JWS_ES256 = 0, JWS_ES384, JWS_RS256, JWS_EDDSA, JWS_HS256, JWS_ALG__COUNT };

struct jws {
        json_t *header;    /* the protected header (owned) */
        enum jws_alg alg;  /* never JWS_HS256 from jws_parse() */
        const char *nonce; /* NULL when absent */
        const char *url;   /* NULL when absent (jws_parse() requires it) */
        const char *kid;   /* exactly one of kid and jwk */
        json_t *jwk;       /* borrowed from header */
        uint8_t *payload;  /* decoded, NUL-terminated; empty for POST-as-GET */
        size_t payload_len;
        bool post_as_get;    /* the payload is the empty string */
        char *signing_input; /* ASCII(protected "." payload) as sent */
        size_t signing_len;
        uint8_t *sig; /* decoded signature */
        size_t sig_len;
};

struct jws_key;

/* Parses a request body (at most MAX_JWS_BYTES). Errors: JWS_INVALID
 * (malformed, with a sentence naming what), JWS_ALGORITHM (none, HS*, an
 * unknown alg). On error `out` holds nothing to free. */
enum qerr jws_parse(const uint8_t *body, size_t len, struct jws *out, struct qerr_info *ei);
/* The inner JWS of an external account binding (a JSON object inside the
 * newAccount payload): HS256, kid and url required, nonce refused. */
enum qerr jws_parse_eab(json_t *obj, struct jws *out, struct qerr_info *ei);
void jws_clear(struct jws *j);

/* A key from a JWK object. Errors: ACME_PUBLIC_KEY (unsupported type or
 * curve, RSA too small or too large, private members, a point not on the
 * curve), JWS_INVALID (members missing or of the wrong form). */
enum qerr jws_key_from_jwk(json_t *jwk, struct jws_key **out, struct qerr_info *ei);
/* The same from JWK text (as jws_key_canonical() wrote it). */
enum qerr jws_key_from_text(const char *text, size_t len, struct jws_key **out,
                            struct qerr_info *ei);
void jws_key_free(struct jws_key *k);

/* The RFC 7638 members of the key in lexicographic order, without spaces
 * (appended to out): what thumbprints hash, and how keys are stored. */
enum qerr jws_key_canonical(const struct jws_key *k, struct qbuf *out, struct qerr_info *ei);
/* base64url(SHA-256(canonical JWK)), out[JWS_THUMBPRINT_LEN + 1]. */
enum qerr jws_key_thumbprint(const struct jws_key *k, char *out, struct qerr_info *ei);
/* Lower-case hex SHA-256 of the key's DER SubjectPublicKeyInfo (the blocked
 * keys' index), out[65]. */
enum qerr jws_key_spki_sha256(const struct jws_key *k, char out[65], struct qerr_info *ei);
/* Whether two keys are the same public key. */
bool jws_key_equal(const struct jws_key *a, const struct jws_key *b);
/* Whether the certificate (PEM or DER) carries this public key. */
bool jws_key_matches_cert(const struct jws_key *k, const void *cert, size_t len);

/* Verifies the signature of `j` with `k`. Errors: JWS_ALGORITHM (the alg
 * does not fit the key type), JWS_SIGNATURE (does not verify). */
enum qerr jws_verify(const struct jws *j, const struct jws_key *k, struct qerr_info *ei);
/* Verifies an HS256 JWS (an EAB) with `key`, in constant time.
 * ACME_EAB_INVALID when it does not hold. */
enum qerr jws_verify_hmac(const struct jws *j, const uint8_t *key, size_t klen,
                          struct qerr_info *ei);

const char *jws_alg_name(enum jws_alg a);

/* base64url(SHA-256(data)) into out[JWS_THUMBPRINT_LEN + 1] (the dns-01
 * TXT value of a key authorization, RFC 8555 section 8.4). */
enum qerr jws_sha256_b64url(const void *data, size_t len, char *out, struct qerr_info *ei);

#endif
