/*
 * buf.h - one bounded byte buffer for all outside input (after curl's dynbuf).
 *
 * A `struct qbuf` grows on demand up to a maximum fixed at creation; an append
 * past the maximum fails and leaves the buffer unchanged. The contents are
 * always followed by a NUL byte (not counted in len) so text can be used as a
 * C string. The struct is owned by its declarer; the bytes by the struct:
 * release them with qbuf_free(). Not thread-safe; one owner at a time.
 */
#ifndef QUILL_BUF_H
#define QUILL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Named limits for outside input. */
#define MAX_CSR_BYTES (64u * 1024u)
#define MAX_PEM_BYTES (256u * 1024u)
#define MAX_UPLOAD_BYTES (1400u * 1024u)
#define MAX_CONFIG_BYTES (256u * 1024u)
#define MAX_SIGNER_MSG_BYTES (256u * 1024u)

struct qbuf {
        uint8_t *data;
        size_t len;
        size_t max;
        size_t cap;
};

void qbuf_init(struct qbuf *b, size_t max);
/* false when the result would exceed max or memory ran out (unchanged) */
bool qbuf_append(struct qbuf *b, const void *p, size_t n);
bool qbuf_append_str(struct qbuf *b, const char *s);
/* Appends n bytes for the caller to fill (e.g. by read()) and returns where
 * they start; NULL (unchanged) as qbuf_append would fail. Their content is
 * undefined until written. */
uint8_t *qbuf_extend(struct qbuf *b, size_t n);
bool qbuf_printf(struct qbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void qbuf_reset(struct qbuf *b);
/* Wipes the bytes (they may be secret) and frees them. */
void qbuf_free(struct qbuf *b);
/* Overwrites n bytes at p in a way the compiler keeps (secrets in front
 * doors, which do not link a crypto library themselves). */
void mem_wipe(void *p, size_t n);
/* Hands the bytes to the caller (free with free()); the buffer is emptied. */
uint8_t *qbuf_take(struct qbuf *b, size_t *len);
const char *qbuf_str(const struct qbuf *b);

#endif
