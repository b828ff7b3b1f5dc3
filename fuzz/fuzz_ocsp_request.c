/*
 * fuzz_ocsp_request.c - libFuzzer target for the OCSP responder's request
 * parser and the GET form's base64 (src/ocsp/ocsp_req.c): whatever the
 * parser accepts, every field it returns lies inside the input and has the
 * sizes the profile allows; whatever the base64 decoder accepts fits its
 * buffer and parses (or is refused) the same way.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocsp/ocsp_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
        return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static void check(const uint8_t *data, size_t size)
{
        struct ocsp_certid id;
        enum ocsp_req_result r = ocsp_req_parse(data, size, &id);
        if (r == OCSP_REQ_MALFORMED)
                return;
        if (!inside(id.name_hash, id.name_hash_len, data, size) ||
            !inside(id.key_hash, id.key_hash_len, data, size) ||
            !inside(id.serial, id.serial_len, data, size) || id.serial_len == 0 ||
            id.serial_len > OCSP_MAX_SERIAL || id.name_hash_len > OCSP_MAX_HASH ||
            (id.hash == OCSP_HASH_SHA1 && (id.name_hash_len != 20 || id.key_hash_len != 20)) ||
            id.serial_negative != ((id.serial[0] & 0x80) != 0))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        check(data, size);
        uint8_t der[OCSP_MAX_REQUEST];
        size_t n = 0;
        if (ocsp_req_b64((const char *)data, size, der, sizeof der, &n)) {
                if (n > sizeof der)
                        abort();
                check(der, n);
        }
        return 0;
}
