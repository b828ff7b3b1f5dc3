/*
 * zip.c - see zip.h. APPNOTE.TXT 4.3: local file header + data per entry,
 * then the central directory and its end record.
 */
#include "zip.h"

#include <string.h>

uint32_t zip_crc32(const uint8_t *p, size_t n)
{
        uint32_t c = 0xffffffffu;
        for (size_t i = 0; i < n; i++) {
                c ^= p[i];
                for (int k = 0; k < 8; k++)
                        c = (c >> 1) ^ (0xedb88320u & (uint32_t)-(int32_t)(c & 1));
        }
        return ~c;
}

static bool le16(struct qbuf *b, uint32_t v)
{
        uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
        return qbuf_append(b, x, 2);
}

static bool le32(struct qbuf *b, uint32_t v)
{
        uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
        return qbuf_append(b, x, 4);
}

/* The fields shared by the local and the central header, from "version
 * needed" to "extra length". */
static bool common(struct qbuf *b, uint32_t crc, uint32_t size, uint32_t name_len)
{
        return le16(b, 10) && le16(b, 0) && le16(b, 0) /* version, flags, stored */ &&
               le16(b, 0) && le16(b, (1 << 5) | 1) /* 00:00, 1980-01-01 */ && le32(b, crc) &&
               le32(b, size) && le32(b, size) && le16(b, name_len) && le16(b, 0);
}

bool zip_of_bag(const struct filebag *bag, struct qbuf *out)
{
        uint32_t offs[FILEBAG_MAX], crcs[FILEBAG_MAX];
        size_t start = out->len;
        for (int i = 0; i < bag->n; i++) {
                const struct filebag_file *f = &bag->f[i];
                size_t nl = strlen(f->name);
                if (nl > 255 || f->len > 0x7fffffffu || out->len - start > 0x7fffffffu)
                        return false;
                offs[i] = (uint32_t)(out->len - start);
                crcs[i] = zip_crc32(f->data, f->len);
                if (!le32(out, 0x04034b50u) || !common(out, crcs[i], (uint32_t)f->len, (uint32_t)nl) ||
                    !qbuf_append(out, f->name, nl) || !qbuf_append(out, f->data, f->len))
                        return false;
        }
        uint32_t cd = (uint32_t)(out->len - start);
        for (int i = 0; i < bag->n; i++) {
                const struct filebag_file *f = &bag->f[i];
                size_t nl = strlen(f->name);
                /* made by UNIX; key files readable by their owner only */
                uint32_t mode = f->secret ? 0100600u : 0100644u;
                if (!le32(out, 0x02014b50u) || !le16(out, (3 << 8) | 10) ||
                    !common(out, crcs[i], (uint32_t)f->len, (uint32_t)nl) || !le16(out, 0) ||
                    !le16(out, 0) || !le16(out, 0) || !le32(out, mode << 16) ||
                    !le32(out, offs[i]) || !qbuf_append(out, f->name, nl))
                        return false;
        }
        uint32_t cd_len = (uint32_t)(out->len - start) - cd;
        return le32(out, 0x06054b50u) && le16(out, 0) && le16(out, 0) &&
               le16(out, (uint32_t)bag->n) && le16(out, (uint32_t)bag->n) && le32(out, cd_len) &&
               le32(out, cd) && le16(out, 0);
}
