/*
 * fuzz_csr.c - libFuzzer target for the CSR reader (PEM or DER, signature
 * check, key strength, name collection): pki_csr_parse.
 */
#include <stddef.h>
#include <stdint.h>

#include "pki/pki_csr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct csr_info c;
        struct qerr_info ei;
        if (pki_csr_parse(data, size, &c, &ei) == QERR_OK)
                csr_info_clear(&c);
        return 0;
}
