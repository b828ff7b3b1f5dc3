/*
 * fuzz_crl_entry.c - libFuzzer target for the signer's CRL entry parser
 * (pki_crl_entry_parse) and the DER element walker the client uses to cut
 * entries into frames. Whatever the parser accepts must be exactly what the
 * encoder writes for the values it returned, or the target aborts; the
 * walker must never step outside the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki_crl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        size_t off = 0;
        while (off < size) {
                struct pki_crl_entry e;
                struct qerr_info ei;
                size_t used = 0;
                if (pki_crl_entry_parse(data + off, size - off, &used, &e, &ei) != QERR_OK)
                        break;
                uint8_t again[PKI_CRL_ENTRY_MAX];
                size_t n =
                    pki_crl_entry_encode(again, e.serial, e.serial_len, e.revoked_at, e.reason);
                if (used == 0 || used > size - off || n != used ||
                    memcmp(again, data + off, used) != 0 || e.serial_len == 0 ||
                    e.serial_len > 20 || e.reason < 0 || e.reason > PKI_CRL_REASON_MAX)
                        abort();
                off += used;
        }
        for (off = 0; off < size;) {
                size_t n = pki_der_element_len(data + off, size - off);
                if (n == 0)
                        break;
                if (n > size - off)
                        abort();
                off += n;
        }
        return 0;
}
