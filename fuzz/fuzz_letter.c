/*
 * fuzz_letter.c - libFuzzer target for the revocation letter check
 * (policy_check_letter: JPG/PNG/PDF structure by content).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char t[4];
        struct qerr_info ei;
        if (policy_check_letter(data, size, t, &ei) == QERR_OK && strcmp(t, "jpg") &&
            strcmp(t, "png") && strcmp(t, "pdf"))
                abort();
        return 0;
}
