/*
 * fuzz_alpn_cert.c - libFuzzer target for the tls-alpn-01 certificate
 * checks (validate_alpn_check_cert, RFC 8737 section 3): the input is the
 * certificate a validated server sent (outside DER). The checks run for a
 * DNS name, an IPv4 and an IPv6 identifier against a fixed digest; the
 * result must be one of the documented codes, final, with a sentence.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "validate/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const names[] = {"alpn.example.test", "192.0.2.1", "2001:db8::1"};
        uint8_t digest[32];
        memset(digest, 0xa5, sizeof digest);
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                struct validate_result r;
                validate_alpn_check_cert(data, size, names[i], digest, &r);
                bool known = r.code == QERR_OK || r.code == QERR_TLS_ALPN_CERT_INVALID ||
                             r.code == QERR_VALIDATION_MISMATCH || r.code == QERR_NOMEM;
                if (!known || (!r.final && r.code != QERR_NOMEM) || !r.msg[0] ||
                    !memchr(r.msg, '\0', sizeof r.msg))
                        abort();
        }
        return 0;
}
