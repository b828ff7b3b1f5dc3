/*
 * ocsp_req.h - the OCSP request parser of the responder (RFC 6960 4.1, the
 * RFC 5019 profile): a small, strict DER reader of our own, so that the hot
 * path of `POST /ocsp` and `GET /ocsp/<base64>` makes no allocation and
 * calls no crypto library.
 *
 * What is read: OCSPRequest { TBSRequest { [0] version (v1 only), [1]
 * requestorName (skipped), requestList SEQUENCE OF Request { CertID,
 * [0] singleRequestExtensions (skipped) }, [2] requestExtensions (skipped,
 * so a nonce is ignored: RFC 5019 2.1.1 lets a responder of pre-signed
 * answers ignore it) }, [0] optionalSignature (skipped) }. Lengths must be
 * DER (definite, minimal); every element must end where its parent says and
 * nothing may follow the request. A request that breaks any of this is
 * OCSP_REQ_MALFORMED. A request with more than one Request in its list is
 * OCSP_REQ_MULTIPLE: RFC 5019 2.1.1 says a conforming client sends one, and
 * a pre-signed answer holds one SingleResponse, so the front door answers
 * malformedRequest (docs/internals/ocsp.md).
 *
 * The CertID's fields point into the caller's buffer (no copies): valid
 * while it lives. Also here: the GET form's base64 (standard or URL-safe
 * alphabet, padding optional) into a caller buffer, and the four unsigned
 * error responses (OCSPResponse with only a responseStatus).
 *
 * Stateless: any thread. The parser is a fuzz target
 * (fuzz/fuzz_ocsp_request.c).
 */
#ifndef QUILL_OCSP_REQ_H
#define QUILL_OCSP_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCSP_SHA1_LEN 20
#define OCSP_MAX_HASH 64      /* longest issuer hash accepted (SHA-512) */
#define OCSP_MAX_SERIAL 32    /* longest serial INTEGER content accepted */
#define OCSP_MAX_REQUEST 8192 /* larger requests are refused before parsing */

enum ocsp_hash_alg {
        OCSP_HASH_SHA1 = 0, /* 1.3.14.3.2.26, the one RFC 5019 2.1.1 allows */
        OCSP_HASH_OTHER,    /* any other algorithm (SHA-256 ...): not answered */
};

struct ocsp_certid {
        enum ocsp_hash_alg hash;
        const uint8_t *name_hash; /* issuerNameHash */
        size_t name_hash_len;
        const uint8_t *key_hash; /* issuerKeyHash */
        size_t key_hash_len;
        const uint8_t *serial; /* INTEGER content octets (DER: minimal) */
        size_t serial_len;
        bool serial_negative; /* never one of ours */
};

enum ocsp_req_result {
        OCSP_REQ_OK = 0,
        OCSP_REQ_MALFORMED, /* not one DER OCSPRequest */
        OCSP_REQ_MULTIPLE,  /* well formed, but more than one Request */
};

/* Parses `len` bytes; on OCSP_REQ_OK (and OCSP_REQ_MULTIPLE) fills `out`
 * with the first CertID. */
enum ocsp_req_result ocsp_req_parse(const uint8_t *p, size_t len, struct ocsp_certid *out);

/* Decodes the base64 of the GET form (already percent-decoded by the
 * router): standard or URL-safe alphabet (not mixed), '=' padding optional
 * but correct when present, no whitespace. false when it does not decode
 * or does not fit `outsz`. */
bool ocsp_req_b64(const char *s, size_t len, uint8_t *out, size_t outsz, size_t *outlen);

/* The unsigned OCSPResponse for an error status (RFC 6960 4.2.1). */
enum ocsp_error_status {
        OCSP_ERR_MALFORMED = 1,    /* malformedRequest */
        OCSP_ERR_INTERNAL = 2,     /* internalError */
        OCSP_ERR_TRY_LATER = 3,    /* tryLater */
        OCSP_ERR_UNAUTHORIZED = 6, /* unauthorized */
};
/* Static bytes (5 of them): do not free. */
const uint8_t *ocsp_error_response(enum ocsp_error_status s, size_t *len);

#endif
