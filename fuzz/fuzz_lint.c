/*
 * fuzz_lint.c - libFuzzer target for the linter (lint.h), which parses
 * outside input (`quill lint FILE`, uploads): the same bytes are linted as
 * a certificate under each profile's rules, with the input as its own
 * issuer, as a PEM-or-DER file, as a CRL and as a BasicOCSPResponse. A CRL
 * is linted both ways lint_crl_der has (canonical entries one by one, or
 * OpenSSL reading the whole): the findings must be the same, or the target
 * aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pki/lint.h"
#include "pki/lint_internal.h"

/* Same error count and the same check ids, in any order. */
static int same_findings(const struct lint_report *a, const struct lint_report *b)
{
        if (a->errors != b->errors || a->n != b->n || a->dropped != b->dropped)
                return 0;
        for (size_t i = 0; i < a->n; i++) {
                size_t in_a = 0, in_b = 0;
                for (size_t k = 0; k < a->n; k++) {
                        in_a += strcmp(a->items[k].id, a->items[i].id) == 0;
                        in_b += strcmp(b->items[k].id, a->items[i].id) == 0;
                }
                if (in_a != in_b)
                        return 0;
        }
        return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct qerr_info ei;
        struct lint_report r;
        lint_report_init(&r);
        struct lint_cert_opts co = {.guess_profile = true, .private_max_days = 365};
        lint_cert_der(data, size, &co, &r, NULL, &ei);
        co.guess_profile = false;
        co.profile = PROFILE_OV;
        co.role = LINT_ROLE_SUBSCRIBER;
        co.issuer_der = data;
        co.issuer_len = size;
        lint_cert_der(data, size, &co, &r, NULL, &ei);
        lint_cert_input(data, size, &co, &r, NULL, &ei);
        struct lint_crl_opts cr = {.prev_number = 5, .issuer_der = data, .issuer_len = size};
        struct lint_report fast, whole;
        lint_report_init(&fast);
        lint_report_init(&whole);
        enum qerr a = lint_crl_der(data, size, &cr, &fast, &ei);
        enum qerr b = lint_crl_der_whole(data, size, &cr, &whole, &ei);
        if (a != b || (a == QERR_OK && !same_findings(&fast, &whole)))
                abort(); /* the two ways through the CRL checks disagree */
        lint_report_free(&fast);
        lint_report_free(&whole);
        struct lint_ocsp_opts oo = {.now = 1700000000};
        lint_ocsp_response(data, size, &oo, &r, &ei);
        lint_report_free(&r);
        return 0;
}
