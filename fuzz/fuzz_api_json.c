/*
 * fuzz_api_json.c - libFuzzer target for the REST API's strict body
 * decoder (api_json_decode), with the field table of POST /api/v1/orders
 * (strings, text, an array of names, an integer range, a boolean and the
 * nested organization object).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "api/api_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *profile = NULL, *key = NULL, *csr = NULL, *pw = NULL, *method = NULL;
        const char *names[100];
        size_t nnames = 0;
        long long days = 0;
        bool paid = false;
        json_t *org = NULL;
        const struct jfield f[] = {
            {"profile", JF_STRING, true, 0, 16, &profile, NULL, NULL, 0},
            {"names", JF_STRINGS, false, 0, 100, names, &nnames, NULL, 0},
            {"key", JF_STRING, false, 0, 16, &key, NULL, NULL, 0},
            {"csr", JF_TEXT, false, 0, 65536, &csr, NULL, NULL, 0},
            {"key_password", JF_STRING, false, 0, 1024, &pw, NULL, NULL, 0},
            {"method", JF_STRING, false, 0, 8, &method, NULL, NULL, 0},
            {"organization", JF_OBJECT, false, 0, 0, &org, NULL, NULL, 0},
            {"days", JF_INT, false, 1, 3650, &days, NULL, NULL, 0},
            {"paid", JF_BOOL, false, 0, 0, &paid, NULL, NULL, 0},
        };
        json_t *root = NULL;
        struct qerr_info ei;
        if (api_json_decode(data, size, f, sizeof f / sizeof f[0], &root, &ei) != QERR_OK)
                return 0;
        /* what was decoded must be what the limits allow */
        if (!profile || strlen(profile) > 16 || nnames > 100 || (days && (days < 1 || days > 3650)))
                __builtin_trap();
        for (size_t i = 0; i < nnames; i++)
                if (!names[i] || strlen(names[i]) > 253)
                        __builtin_trap();
        if (org) {
                const char *o = NULL, *c = NULL;
                const struct jfield of[] = {
                    {"organization", JF_STRING, true, 0, 64, &o, NULL, NULL, 0},
                    {"country", JF_STRING, true, 0, 2, &c, NULL, NULL, 0},
                };
                if (api_json_object(org, "organization", of, 2, &ei) == QERR_OK &&
                    (!o || !c || strlen(c) > 2))
                        __builtin_trap();
        }
        json_decref(root);
        return 0;
}
