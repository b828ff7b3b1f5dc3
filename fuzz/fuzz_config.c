/*
 * fuzz_config.c - libFuzzer target for the configuration reader
 * (config_parse: INI syntax, schema lookup, value checks).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        struct qconfig c;
        struct qerr_info ei;
        config_defaults(&c);
        config_parse(text, "fuzz", &c, &ei);
        config_free(&c);
        free(text);
        return 0;
}
