/*
 * b64.c - see b64.h.
 */
#include "b64.h"

static const char STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int value(unsigned char c, bool url)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == (url ? '-' : '+'))
                return 62;
        if (c == (url ? '_' : '/'))
                return 63;
        return -1;
}

bool b64_decode(const char *p, size_t len, struct qbuf *out)
{
        size_t start = out->len;
        uint32_t acc = 0;
        int nchars = 0, npad = 0;
        bool done = false;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)p[i];
                if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
                        continue;
                if (done)
                        goto fail; /* nothing may follow the padding */
                if (c == '=') {
                        if (nchars < 2 || ++npad > 2)
                                goto fail;
                        acc <<= 6;
                        nchars++;
                } else {
                        int v = value(c, false);
                        if (v < 0 || npad)
                                goto fail;
                        acc = (acc << 6) | (uint32_t)v;
                        nchars++;
                }
                if (nchars == 4) {
                        uint8_t b[3] = {(uint8_t)(acc >> 16), (uint8_t)(acc >> 8), (uint8_t)acc};
                        if (!qbuf_append(out, b, (size_t)(3 - npad)))
                                goto fail;
                        acc = 0;
                        nchars = 0;
                        done = npad > 0;
                }
        }
        if (nchars == 0)
                return true;
fail:
        out->len = start;
        return false;
}

bool b64url_decode(const char *p, size_t len, struct qbuf *out)
{
        size_t start = out->len;
        uint32_t acc = 0;
        int n = 0;
        if (len % 4 == 1)
                return false;
        for (size_t i = 0; i < len; i++) {
                int v = value((unsigned char)p[i], true);
                if (v < 0)
                        goto fail;
                acc = (acc << 6) | (uint32_t)v;
                if (++n == 4) {
                        uint8_t b[3] = {(uint8_t)(acc >> 16), (uint8_t)(acc >> 8), (uint8_t)acc};
                        if (!qbuf_append(out, b, 3))
                                goto fail;
                        acc = 0;
                        n = 0;
                }
        }
        if (n == 2) {
                if (acc & 0xf) /* non-canonical: unused bits set */
                        goto fail;
                uint8_t b = (uint8_t)(acc >> 4);
                if (!qbuf_append(out, &b, 1))
                        goto fail;
        } else if (n == 3) {
                if (acc & 0x3)
                        goto fail;
                uint8_t b[2] = {(uint8_t)(acc >> 10), (uint8_t)(acc >> 2)};
                if (!qbuf_append(out, b, 2))
                        goto fail;
        }
        return true;
fail:
        out->len = start;
        return false;
}

static bool encode(const uint8_t *in, size_t len, struct qbuf *out, const char *alpha, bool pad)
{
        size_t start = out->len;
        for (size_t i = 0; i < len; i += 3) {
                uint32_t v = (uint32_t)in[i] << 16;
                if (i + 1 < len)
                        v |= (uint32_t)in[i + 1] << 8;
                if (i + 2 < len)
                        v |= in[i + 2];
                char q[4] = {alpha[(v >> 18) & 63], alpha[(v >> 12) & 63],
                             i + 1 < len ? alpha[(v >> 6) & 63] : '=',
                             i + 2 < len ? alpha[v & 63] : '='};
                size_t n = 4;
                if (!pad)
                        n = i + 2 < len ? 4 : i + 1 < len ? 3 : 2;
                if (!qbuf_append(out, q, n)) {
                        out->len = start;
                        return false;
                }
        }
        return true; /* a qbuf keeps a NUL after its bytes */
}

bool b64url_encode(const uint8_t *in, size_t len, struct qbuf *out)
{
        return encode(in, len, out, URL, false);
}

bool b64_encode(const uint8_t *in, size_t len, struct qbuf *out)
{
        return encode(in, len, out, STD, true);
}
