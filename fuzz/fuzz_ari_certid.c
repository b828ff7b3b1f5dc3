/*
 * fuzz_ari_certid.c - libFuzzer target for the ARI certID parser
 * (ari_certid_parse, RFC 9773 section 4.1): the input is the last path
 * segment of a renewalInfo URL. A certID that parses must be canonical:
 * encoding it again gives the input back, and building it from its
 * keyIdentifier and serial magnitude gives the same identifier; a refusal
 * must be QERR_MALFORMED with a sentence.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "policy/ari.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct ari_certid id, again;
        struct qerr_info ei;
        qerr_clear(&ei);
        enum qerr rc = ari_certid_parse((const char *)data, size, &id, &ei);
        if (rc != QERR_OK) {
                if (rc != QERR_MALFORMED || ei.code != QERR_MALFORMED || !ei.msg[0])
                        abort();
                return 0;
        }
        char text[ARI_CERTID_MAX + 1];
        if (!ari_certid_encode(&id, text, sizeof text) || strlen(text) != size ||
            memcmp(text, data, size) != 0)
                abort();
        char hex[41];
        uint8_t mag[20];
        size_t n = 0;
        ari_certid_serial_hex(&id, hex);
        if (!hex_decode(hex, mag, sizeof mag, &n) ||
            !ari_certid_from_parts(id.keyid, id.keyid_len, mag, n, &again) ||
            again.serial_len != id.serial_len ||
            memcmp(again.serial, id.serial, id.serial_len) != 0)
                abort();
        return 0;
}
