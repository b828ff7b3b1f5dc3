/*
 * fuzz_journal.c - libFuzzer target for the signer journal's reader
 * (src/signer/journal.c): the bytes of a journal file that survived a crash
 * (a torn tail, zeros, damage). Every record the reader accepts must encode
 * again to exactly the bytes it was read from, the scan must stop inside
 * the input, and the file-name check must hold for names it accepts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signer/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
        const uint8_t *base;
        size_t size;
};

static void check_record(const struct journal_rec *r, size_t off, void *vctx)
{
        const struct ctx *c = vctx;
        struct qbuf b;
        qbuf_init(&b, JOURNAL_REC_HEAD + JOURNAL_MAX_PAYLOAD);
        if (!journal_encode_record(r, &b))
                abort(); /* accepted what it cannot write */
        if (off + b.len > c->size || memcmp(c->base + off, b.data, b.len) != 0)
                abort(); /* not a round trip */
        qbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct ctx c = {data, size};
        struct journal_scan sc;
        journal_scan_buf(data, size, check_record, &c, &sc);
        if (sc.good_end > size || (sc.header_ok && sc.good_end < JOURNAL_HEADER_LEN))
                abort();
        /* the record parser on its own, at the start of the input */
        struct journal_rec r;
        size_t used = 0;
        if (journal_parse_record(data, size, &r, &used) == JP_OK &&
            (used > size || used != journal_record_len(data)))
                abort();
        /* names: what is accepted is safe to put in a path */
        if (size <= JOURNAL_NAME_MAX && journal_name_ok((const char *)data, size) &&
            (memchr(data, '/', size) || memchr(data, 0, size) || data[0] == '.'))
                abort();
        return 0;
}
