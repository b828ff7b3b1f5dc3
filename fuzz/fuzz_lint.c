/*
 * fuzz_lint.c - libFuzzer target for the linter (lint.h), which parses
 * outside input (`quill lint FILE`, uploads): the same bytes are linted as
 * a certificate under each profile's rules, with the input as its own
 * issuer, as a PEM-or-DER file, as a CRL and as a BasicOCSPResponse.
 */
#include <stddef.h>
#include <stdint.h>

#include "pki/lint.h"

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
        lint_crl_der(data, size, &cr, &r, &ei);
        struct lint_ocsp_opts oo = {.now = 1700000000};
        lint_ocsp_response(data, size, &oo, &r, &ei);
        lint_report_free(&r);
        return 0;
}
