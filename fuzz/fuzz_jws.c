/*
 * fuzz_jws.c - libFuzzer target for the ACME JWS decoder (jws_parse), the
 * JWK reader (jws_key_from_jwk), the thumbprint and the verifier, and the
 * external account binding's inner JWS (jws_parse_eab) when the payload
 * carries one.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pki/jws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct jws j;
        struct qerr_info ei;
        if (jws_parse(data, size, &j, &ei) != QERR_OK)
                return 0;
        /* what was decoded must keep the rules */
        if ((j.kid != NULL) == (j.jwk != NULL) || !j.url || j.alg == JWS_HS256 ||
            j.payload[j.payload_len] != 0 || j.post_as_get != (j.payload_len == 0))
                __builtin_trap();
        if (j.jwk) {
                struct jws_key *k = NULL;
                if (jws_key_from_jwk(j.jwk, &k, &ei) == QERR_OK) {
                        char tp[JWS_THUMBPRINT_LEN + 1];
                        if (jws_key_thumbprint(k, tp, &ei) != QERR_OK ||
                            strlen(tp) != JWS_THUMBPRINT_LEN)
                                __builtin_trap();
                        struct qbuf c;
                        qbuf_init(&c, 8192);
                        struct jws_key *k2 = NULL;
                        /* the canonical form reads back as the same key */
                        if (jws_key_canonical(k, &c, &ei) != QERR_OK ||
                            jws_key_from_text((const char *)c.data, c.len, &k2, &ei) != QERR_OK ||
                            !jws_key_equal(k, k2))
                                __builtin_trap();
                        jws_key_free(k2);
                        qbuf_free(&c);
                        (void)jws_verify(&j, k, &ei);
                        jws_key_free(k);
                }
        }
        json_error_t jerr;
        json_t *p =
            j.payload_len ? json_loadb((const char *)j.payload, j.payload_len, 0, &jerr) : NULL;
        json_t *eab = p ? json_object_get(p, "externalAccountBinding") : NULL;
        if (eab) {
                struct jws e;
                if (jws_parse_eab(eab, &e, &ei) == QERR_OK) {
                        if (e.alg != JWS_HS256 || !e.kid || e.nonce || e.jwk)
                                __builtin_trap();
                        static const uint8_t key[32] = {1, 2, 3};
                        (void)jws_verify_hmac(&e, key, sizeof key, &ei);
                        jws_clear(&e);
                }
        }
        json_decref(p);
        jws_clear(&j);
        return 0;
}
