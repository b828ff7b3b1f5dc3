/*
 * ari.c - RFC 9773 certID and suggested window; see ari.h.
 *
 * Base64url goes through src/base/b64.c (strict: the alphabet only, no
 * padding, unused bits zero), into bounded stack buffers. Memory: a qbuf
 * per part while parsing, freed before returning. Pure; any thread.
 */
#include "ari.h"

#include <string.h>

#include "../base/b64.h"
#include "../base/buf.h"
#include "../base/hex.h"

/* One base64url part into out[max]; false when not canonical base64url or
 * longer than max octets. */
static bool decode_part(const char *p, size_t len, uint8_t *out, size_t max, size_t *n)
{
        struct qbuf b;
        qbuf_init(&b, max);
        bool ok = len > 0 && b64url_decode(p, len, &b) && b.len > 0 && b.len <= max;
        if (ok) {
                memcpy(out, b.data, b.len);
                *n = b.len;
        }
        qbuf_free(&b);
        return ok;
}

enum qerr ari_certid_parse(const char *text, size_t len, struct ari_certid *out,
                           struct qerr_info *ei)
{
        if (!text || len == 0)
                return qerr_set(ei, QERR_MALFORMED,
                                "The renewalInfo URL names no certificate; append the certID "
                                "(base64url keyIdentifier \".\" base64url serial, RFC 9773 "
                                "section 4.1).");
        if (len > ARI_CERTID_MAX)
                return qerr_set(ei, QERR_MALFORMED,
                                "The certID is %zu characters long, more than the %d a "
                                "keyIdentifier and a serial number can take (RFC 9773 section "
                                "4.1).",
                                len, ARI_CERTID_MAX);
        const char *dot = memchr(text, '.', len);
        if (!dot || memchr(dot + 1, '.', len - (size_t)(dot + 1 - text)))
                return qerr_set(ei, QERR_MALFORMED,
                                "A certID is two base64url parts joined by one \".\": the "
                                "authority keyIdentifier and the serial number (RFC 9773 section "
                                "4.1).");
        struct ari_certid id;
        memset(&id, 0, sizeof id);
        size_t kl = (size_t)(dot - text), sl = len - kl - 1;
        if (!decode_part(text, kl, id.keyid, sizeof id.keyid, &id.keyid_len))
                return qerr_set(ei, QERR_MALFORMED,
                                "The keyIdentifier part of the certID is not base64url without "
                                "padding of 1 to %d octets.",
                                ARI_MAX_KEYID);
        if (!decode_part(dot + 1, sl, id.serial, sizeof id.serial, &id.serial_len))
                return qerr_set(ei, QERR_MALFORMED,
                                "The serial part of the certID is not base64url without padding "
                                "of 1 to %d octets.",
                                ARI_MAX_SERIAL);
        /* DER INTEGER contents: positive, minimal, at most 20 octets of magnitude */
        const uint8_t *s = id.serial;
        if (s[0] & 0x80)
                return qerr_set(ei, QERR_MALFORMED,
                                "The serial part of the certID encodes a negative number; serial "
                                "numbers are positive (give the DER contents, with a leading zero "
                                "octet when the high bit is set).");
        if (id.serial_len > 1 && s[0] == 0 && !(s[1] & 0x80))
                return qerr_set(ei, QERR_MALFORMED,
                                "The serial part of the certID has a leading zero octet that DER "
                                "does not allow; drop it.");
        size_t mag = id.serial_len - (s[0] == 0 ? 1 : 0);
        if (mag == 0 || (id.serial_len == 1 && s[0] == 0))
                return qerr_set(ei, QERR_MALFORMED,
                                "The serial part of the certID is zero; serial numbers are "
                                "positive.");
        if (mag > 20)
                return qerr_set(ei, QERR_MALFORMED,
                                "The serial part of the certID has %zu octets; serial numbers "
                                "have at most 20 (RFC 5280 4.1.2.2).",
                                mag);
        *out = id;
        return QERR_OK;
}

bool ari_certid_encode(const struct ari_certid *id, char *out, size_t outsz)
{
        if (!id || id->keyid_len == 0 || id->serial_len == 0 || id->keyid_len > ARI_MAX_KEYID ||
            id->serial_len > ARI_MAX_SERIAL || outsz == 0)
                return false;
        struct qbuf b;
        qbuf_init(&b, ARI_CERTID_MAX + 1);
        bool ok = b64url_encode(id->keyid, id->keyid_len, &b) && qbuf_append(&b, ".", 1) &&
                  b64url_encode(id->serial, id->serial_len, &b) && b.len < outsz;
        if (ok) {
                memcpy(out, b.data, b.len);
                out[b.len] = '\0';
        } else {
                out[0] = '\0';
        }
        qbuf_free(&b);
        return ok;
}

bool ari_certid_from_parts(const uint8_t *keyid, size_t keyid_len, const uint8_t *serial,
                           size_t serial_len, struct ari_certid *out)
{
        while (serial_len > 0 && serial[0] == 0) {
                serial++;
                serial_len--;
        }
        if (keyid_len == 0 || keyid_len > ARI_MAX_KEYID || serial_len == 0 || serial_len > 20)
                return false;
        memset(out, 0, sizeof *out);
        memcpy(out->keyid, keyid, keyid_len);
        out->keyid_len = keyid_len;
        size_t o = 0;
        if (serial[0] & 0x80)
                out->serial[o++] = 0;
        memcpy(out->serial + o, serial, serial_len);
        out->serial_len = o + serial_len;
        return true;
}

const char *ari_certid_serial_hex(const struct ari_certid *id, char out[41])
{
        const uint8_t *s = id->serial;
        size_t n = id->serial_len;
        while (n > 0 && s[0] == 0) {
                s++;
                n--;
        }
        if (n > 20)
                n = 0;
        hex_encode(s, n, out, 41);
        return out;
}

void ari_window(const struct ari_facts *f, struct ari_window *out)
{
        memset(out, 0, sizeof *out);
        bool bad = f->not_after <= f->not_before;
        if (f->revoked || f->ca_retiring || bad) {
                /* RFC 9773 4.2: a window in the past means "renew now" */
                out->start = f->now - 3600;
                out->end = f->now - 1800;
                out->replace_now = true;
                out->why = f->revoked       ? "revoked"
                           : f->ca_retiring ? "issuing CA retiring"
                                            : "malformed validity";
                return;
        }
        /* unsigned: no input can overflow */
        const uint64_t life = (uint64_t)f->not_after - (uint64_t)f->not_before + 1;
        const uint64_t offset = life < 10 * (uint64_t)QTIME_DAY ? life / 2 : life / 3;
        const uint64_t margin = life / 100 > 0 ? life / 100 : 1;
        const qtime_t ideal = (qtime_t)((uint64_t)f->not_after + 1 - offset);
        out->start = (qtime_t)((uint64_t)ideal - margin);
        out->end = (qtime_t)((uint64_t)ideal + margin);
}
