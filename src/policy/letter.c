/*
 * letter.c - RULES.md §5: the signed letter of an OV/EV revocation is a JPG,
 * PNG or PDF of at most 1.4 MB, checked by content. Pure; any thread.
 *
 * The check is structural, not a full decode: a JPEG starts with SOI and an
 * APPn/DQT/SOF marker and ends with EOI; a PNG has its signature, IHDR as the
 * first chunk (13 bytes) and IEND as the last; a PDF starts with "%PDF-1." or
 * "%PDF-2." and has "%%EOF" in its last 1 KiB. A reviewer looks at the
 * content itself; this keeps other files (executables, archives, renamed
 * documents) out of the review queue.
 */
#include <string.h>

#include "policy.h"

static uint32_t be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool is_jpeg(const uint8_t *p, size_t len)
{
        if (len < 8 || p[0] != 0xFF || p[1] != 0xD8 || p[2] != 0xFF)
                return false;
        /* the first segment: APP0-APP15, DQT, SOF0-SOF2, DHT or a comment */
        uint8_t m = p[3];
        if (!((m >= 0xE0 && m <= 0xEF) || m == 0xDB || m == 0xC0 || m == 0xC1 || m == 0xC2 ||
              m == 0xC4 || m == 0xFE))
                return false;
        /* EOI at the end, allowing padding some writers add */
        for (size_t i = len - 1, seen = 0; i >= 1 && seen < 64; i--, seen++)
                if (p[i - 1] == 0xFF && p[i] == 0xD9)
                        return true;
        return false;
}

static bool is_png(const uint8_t *p, size_t len)
{
        static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
        if (len < 8 + 25 + 12 || memcmp(p, sig, 8) != 0)
                return false;
        if (be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4) != 0)
                return false;
        if (be32(p + 16) == 0 || be32(p + 20) == 0) /* width, height */
                return false;
        const uint8_t *iend = p + len - 12;
        return be32(iend) == 0 && memcmp(iend + 4, "IEND", 4) == 0;
}

static bool is_pdf(const uint8_t *p, size_t len)
{
        if (len < 16 || (memcmp(p, "%PDF-1.", 7) != 0 && memcmp(p, "%PDF-2.", 7) != 0))
                return false;
        size_t tail = len < 1024 ? len : 1024;
        return memmem(p + len - tail, tail, "%%EOF", 5) != NULL;
}

enum qerr policy_check_letter(const uint8_t *p, size_t len, char type[4], struct qerr_info *ei)
{
        if (!p || len == 0)
                return qerr_set(ei, QERR_LETTER_INVALID, NULL);
        if (len > POLICY_LETTER_MAX_BYTES)
                return qerr_set(ei, QERR_LETTER_INVALID,
                                "The revocation letter has %zu bytes; at most %d (1.4 MB) are "
                                "accepted. Scan it at a lower resolution or as a PDF.",
                                len, POLICY_LETTER_MAX_BYTES);
        const char *t = is_jpeg(p, len)  ? "jpg"
                        : is_png(p, len) ? "png"
                        : is_pdf(p, len) ? "pdf"
                                         : NULL;
        if (!t)
                return qerr_set(ei, QERR_LETTER_INVALID,
                                "The revocation letter is not a complete JPG, PNG or PDF file "
                                "(checked by its content, whatever its name); send the signed "
                                "letter as one of those.");
        memcpy(type, t, 4);
        return QERR_OK;
}
