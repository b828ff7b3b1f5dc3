/*
 * ari.h - ACME Renewal Information (RFC 9773): the certificate identifier
 * of the renewalInfo URL and the suggested renewal window.
 *
 * The certID (RFC 9773 section 4.1) is
 *     base64url(keyIdentifier of the certificate's authorityKeyIdentifier)
 *     "." base64url(the serial number's DER INTEGER contents: no tag, no
 *     length, a leading 0x00 kept when the high bit is set)
 * without padding. ari_certid_parse() reads one from the URL (outside
 * input: strict, canonical base64url, a positive minimally encoded serial
 * of at most 20 octets; fuzzed by fuzz/fuzz_ari_certid.c);
 * ari_certid_encode() writes one (for `replaces` comparisons and tests).
 *
 * The window (docs/internals/ari.md says why): as Let's Encrypt serves it,
 * centred at two thirds of the lifetime (half of it for certificates of
 * less than 10 days, such as the shortlived profile's 160 hours), one
 * hundredth of the lifetime wide on each side; a certificate that must be
 * replaced (revoked, or issued by a CA being retired) gets a window that
 * ended in the past, so that clients renew at once (RFC 9773 section 4.2).
 *
 * Pure: no I/O, no clock (the caller passes now), no allocation that
 * outlives a call; any thread.
 */
#ifndef QUILL_POLICY_ARI_H
#define QUILL_POLICY_ARI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "../base/qtime.h"

#define ARI_MAX_KEYID 64  /* keyIdentifier octets (SHA-1: 20, truncated SHA-256: 20 to 32) */
#define ARI_MAX_SERIAL 21 /* 20 octets of magnitude, plus a leading 0x00 */
/* base64url of both parts and the dot; longer input is refused unread */
#define ARI_CERTID_MAX (((ARI_MAX_KEYID + 2) / 3) * 4 + 1 + ((ARI_MAX_SERIAL + 2) / 3) * 4)
/* Retry-After of a renewalInfo answer (RFC 9773 section 4.3: clients poll
 * again after it): six hours, as Let's Encrypt. */
#define ARI_RETRY_AFTER_SECONDS 21600

struct ari_certid {
        uint8_t keyid[ARI_MAX_KEYID];
        size_t keyid_len;
        uint8_t serial[ARI_MAX_SERIAL]; /* DER INTEGER contents, as in the certID */
        size_t serial_len;
};

/* Reads a certID of `len` bytes (need not be NUL-terminated). QERR_OK, or
 * QERR_MALFORMED with a sentence saying what is wrong (ACME: malformed):
 * empty, too long, no dot or two dots, a part that is empty or not
 * canonical base64url without padding, a keyIdentifier of more than
 * ARI_MAX_KEYID octets, a serial that is zero, negative, not minimally
 * encoded or longer than 20 octets. `out` is set only on success. */
enum qerr ari_certid_parse(const char *text, size_t len, struct ari_certid *out,
                           struct qerr_info *ei);

/* The certID text of `id` into out (NUL-terminated). false when it does not
 * fit in outsz (ARI_CERTID_MAX + 1 always does) or id is empty. */
bool ari_certid_encode(const struct ari_certid *id, char *out, size_t outsz);

/* A certID from a keyIdentifier and a serial given as its magnitude,
 * big-endian (the store's hex serial decoded; leading zero octets are
 * dropped and a 0x00 is put back when the high bit is set). false when a
 * part is empty or too long, or the serial is zero. */
bool ari_certid_from_parts(const uint8_t *keyid, size_t keyid_len, const uint8_t *serial,
                           size_t serial_len, struct ari_certid *out);

/* The serial as the store writes it: lower-case hex of the magnitude,
 * without leading zero octets (out needs 2 * 20 + 1 bytes). Returns out. */
const char *ari_certid_serial_hex(const struct ari_certid *id, char out[41]);

/* What the window depends on. */
struct ari_facts {
        qtime_t not_before, not_after; /* the certificate's validity (both ends included) */
        qtime_t now;
        bool revoked;     /* revoked, or its revocation is under way */
        bool ca_retiring; /* its issuing CA is being retired (the caller knows) */
};

struct ari_window {
        qtime_t start, end; /* the suggested window, start < end */
        bool replace_now;   /* the window is in the past: the certificate must be replaced */
        const char *why;    /* static: "revoked", "issuing CA retiring", or NULL */
};

/* Fills `out`. Normally: lifetime L = not_after - not_before + 1; the
 * ideal moment is not_after + 1 - L/3 (L/2 when L < 10 days); the window
 * runs from ideal - L/100 to ideal + L/100 (at least one second wide).
 * Revoked or CA retiring: [now - 1 hour, now - 30 minutes], replace_now. A
 * malformed validity (not_after <= not_before) is treated like a
 * certificate to replace. */
void ari_window(const struct ari_facts *f, struct ari_window *out);

#endif
