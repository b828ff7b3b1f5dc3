/*
 * acme_nonce.h - ACME Replay-Nonces (RFC 8555 6.5): single-use, expiring.
 *
 * A nonce is base64url(expiry (8 bytes) | random (8) | HMAC-SHA256 of both
 * under a key drawn at start (16)): any thread can tell a nonce it minted
 * and whether it expired without a table; a table of the nonces already
 * used (until their expiry) makes each single-use. The table is bounded:
 * when it is full of unexpired nonces, the oldest expiry drawn moves
 * forward (nonces minted before it are refused as expired), never a replay
 * allowed. One process: nonces are not shared across nodes yet (a key
 * stored in the database and a used-nonce table would make them so).
 *
 * Memory: acme_nonces_new/free by one owner; mint/take from any thread
 * (one mutex around the used table).
 */
#ifndef QUILL_ACME_NONCE_H
#define QUILL_ACME_NONCE_H

#include <stdbool.h>
#include <stddef.h>

#include "../base/err.h"

#define ACME_NONCE_LEN 43

struct acme_nonces;

enum qerr acme_nonces_new(long lifetime_s, size_t max_used, struct acme_nonces **out,
                          struct qerr_info *ei);
void acme_nonces_free(struct acme_nonces *n);
/* A fresh nonce into out[ACME_NONCE_LEN + 1]. */
bool acme_nonce_mint(struct acme_nonces *n, char *out);
/* true once for a nonce we minted that has not expired. */
bool acme_nonce_take(struct acme_nonces *n, const char *nonce);

#endif
