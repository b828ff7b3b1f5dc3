/*
 * journal.c - the signer journal's record format; see journal.h.
 */
#include "journal.h"

#include <string.h>

static void put_u32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_u64(uint8_t *p, uint64_t v)
{
        for (int i = 7; i >= 0; i--, v >>= 8)
                p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
                v = v << 8 | p[i];
        return v;
}

uint32_t journal_crc32c(uint32_t crc, const uint8_t *p, size_t len)
{
        /* bitwise, reflected polynomial 0x82F63B78: small and fast enough for
         * one certificate per record */
        crc = ~crc;
        for (size_t i = 0; i < len; i++) {
                crc ^= p[i];
                for (int k = 0; k < 8; k++)
                        crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
        }
        return ~crc;
}

static size_t run_of(const char *p, size_t len, bool hex)
{
        size_t i = 0;
        while (i < len && ((p[i] >= '0' && p[i] <= '9') || (hex && p[i] >= 'a' && p[i] <= 'f')))
                i++;
        return i;
}

bool journal_name_ok(const char *name, size_t len)
{
        if (len < 20 + 1 + 1 + 1 + 8 + 4 || len > JOURNAL_NAME_MAX)
                return false;
        size_t o = 0, n;
        if (run_of(name, len, false) != 20 || name[20] != '-')
                return false;
        o = 21;
        n = run_of(name + o, len - o, false);
        if (n < 1 || n > 10 || o + n >= len || name[o + n] != '-')
                return false;
        o += n + 1;
        if (len - o != 8 + 4 || run_of(name + o, 8, true) != 8)
                return false;
        return memcmp(name + o + 8, ".jnl", 4) == 0;
}

bool journal_header_ok(const uint8_t *p, size_t len)
{
        return len >= JOURNAL_HEADER_LEN && memcmp(p, JOURNAL_HEADER, JOURNAL_HEADER_LEN) == 0;
}

size_t journal_record_len(const uint8_t head[JOURNAL_REC_HEAD])
{
        uint32_t l = get_u32(head);
        if (l < JOURNAL_MIN_PAYLOAD || l > JOURNAL_MAX_PAYLOAD)
                return 0;
        return JOURNAL_REC_HEAD + (size_t)l;
}

static bool hex_lower(const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
                        return false;
        return true;
}

enum journal_parse journal_parse_record(const uint8_t *p, size_t avail, struct journal_rec *out,
                                        size_t *used)
{
        memset(out, 0, sizeof *out);
        if (avail < JOURNAL_REC_HEAD)
                return JP_SHORT;
        size_t whole = journal_record_len(p);
        if (whole == 0)
                return JP_BAD;
        if (avail < whole)
                return JP_SHORT;
        size_t plen = whole - JOURNAL_REC_HEAD;
        uint32_t crc = journal_crc32c(0, p, 4);
        crc = journal_crc32c(crc, p + JOURNAL_REC_HEAD, plen);
        if (crc != get_u32(p + 4))
                return JP_BAD;
        const uint8_t *q = p + JOURNAL_REC_HEAD, *end = q + plen;
        if (q[0] != JOURNAL_TYPE_CERT)
                return JP_BAD;
        q++;
        out->seq = get_u64(q);
        q += 8;
        out->signed_at = (int64_t)get_u64(q);
        q += 8;
        size_t sl = *q++;
        if (sl < 1 || sl > JOURNAL_MAX_SERIAL || (size_t)(end - q) < sl + 1)
                return JP_BAD;
        out->serial = q;
        out->serial_len = sl;
        q += sl;
        size_t kl = *q++;
        if (kl != JOURNAL_KEY_ID_LEN || (size_t)(end - q) < kl + 4 || !hex_lower(q, kl))
                return JP_BAD;
        memcpy(out->key_id, q, kl);
        out->key_id[kl] = 0;
        q += kl;
        size_t dl = get_u32(q);
        q += 4;
        if (dl < 1 || dl > JOURNAL_MAX_DER || (size_t)(end - q) != dl)
                return JP_BAD;
        out->der = q;
        out->der_len = dl;
        *used = whole;
        return JP_OK;
}

bool journal_encode_record(const struct journal_rec *r, struct qbuf *out)
{
        size_t kl = strlen(r->key_id);
        if (r->serial_len < 1 || r->serial_len > JOURNAL_MAX_SERIAL || kl != JOURNAL_KEY_ID_LEN ||
            !hex_lower((const uint8_t *)r->key_id, kl) || r->der_len < 1 ||
            r->der_len > JOURNAL_MAX_DER)
                return false;
        size_t plen = 1 + 8 + 8 + 1 + r->serial_len + 1 + kl + 4 + r->der_len;
        uint8_t head[JOURNAL_REC_HEAD + 1 + 8 + 8 + 1 + JOURNAL_MAX_SERIAL + 1];
        size_t start = out->len;
        put_u32(head, (uint32_t)plen);
        uint8_t *q = head + JOURNAL_REC_HEAD;
        *q++ = JOURNAL_TYPE_CERT;
        put_u64(q, r->seq);
        q += 8;
        put_u64(q, (uint64_t)r->signed_at);
        q += 8;
        *q++ = (uint8_t)r->serial_len;
        memcpy(q, r->serial, r->serial_len);
        q += r->serial_len;
        *q++ = (uint8_t)kl;
        uint8_t dl[4];
        put_u32(dl, (uint32_t)r->der_len);
        if (!qbuf_append(out, head, (size_t)(q - head)) || !qbuf_append(out, r->key_id, kl) ||
            !qbuf_append(out, dl, 4) || !qbuf_append(out, r->der, r->der_len)) {
                out->len = start;
                if (out->data)
                        out->data[start] = 0;
                return false;
        }
        uint8_t *rec = out->data + start;
        uint32_t crc = journal_crc32c(0, rec, 4);
        crc = journal_crc32c(crc, rec + JOURNAL_REC_HEAD, plen);
        put_u32(rec + 4, crc);
        return true;
}

void journal_scan_buf(const uint8_t *p, size_t len,
                      void (*fn)(const struct journal_rec *r, size_t offset, void *ctx), void *ctx,
                      struct journal_scan *out)
{
        memset(out, 0, sizeof *out);
        if (!journal_header_ok(p, len)) {
                out->torn = len > 0;
                return;
        }
        out->header_ok = true;
        size_t off = JOURNAL_HEADER_LEN;
        for (;;) {
                struct journal_rec r;
                size_t used = 0;
                if (off >= len || journal_parse_record(p + off, len - off, &r, &used) != JP_OK)
                        break;
                if (fn)
                        fn(&r, off, ctx);
                out->records++;
                off += used;
        }
        out->good_end = off;
        out->torn = off < len;
}
