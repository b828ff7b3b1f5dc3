/*
 * buf.c - bounded byte buffer; see buf.h.
 */
#include "buf.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void qbuf_init(struct qbuf *b, size_t max)
{
        b->data = NULL;
        b->len = 0;
        b->cap = 0;
        b->max = max;
}

static bool reserve(struct qbuf *b, size_t n)
{
        if (n > b->max || b->len > b->max - n)
                return false;
        size_t need = b->len + n + 1;
        if (need <= b->cap)
                return true;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
                cap *= 2;
        if (cap > b->max + 1)
                cap = b->max + 1;
        uint8_t *p = malloc(cap);
        if (!p)
                return false;
        if (b->data) {
                memcpy(p, b->data, b->len);
                OPENSSL_cleanse(b->data, b->cap);
                free(b->data);
        }
        b->data = p;
        b->cap = cap;
        return true;
}

bool qbuf_append(struct qbuf *b, const void *p, size_t n)
{
        if (!reserve(b, n))
                return false;
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = 0;
        return true;
}

uint8_t *qbuf_extend(struct qbuf *b, size_t n)
{
        if (!reserve(b, n))
                return NULL;
        uint8_t *p = b->data + b->len;
        b->len += n;
        b->data[b->len] = 0;
        return p;
}

bool qbuf_append_str(struct qbuf *b, const char *s)
{
        return qbuf_append(b, s, strlen(s));
}

bool qbuf_printf(struct qbuf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0 || !reserve(b, (size_t)n))
                return false;
        va_start(ap, fmt);
        vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
        return true;
}

void qbuf_reset(struct qbuf *b)
{
        b->len = 0;
        if (b->data)
                b->data[0] = 0;
}

void qbuf_free(struct qbuf *b)
{
        if (b->data) {
                OPENSSL_cleanse(b->data, b->cap);
                free(b->data);
        }
        b->data = NULL;
        b->len = b->cap = 0;
}

uint8_t *qbuf_take(struct qbuf *b, size_t *len)
{
        uint8_t *p = b->data;
        if (len)
                *len = b->len;
        b->data = NULL;
        b->len = b->cap = 0;
        return p;
}

const char *qbuf_str(const struct qbuf *b)
{
        return b->data ? (const char *)b->data : "";
}

void mem_wipe(void *p, size_t n)
{
        if (p && n)
                OPENSSL_cleanse(p, n);
}
