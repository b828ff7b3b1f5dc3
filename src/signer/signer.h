/*
 * signer.h - the signer process: the only process that ever loads a CA
 * private key (ARCHITECTURE.md "Two processes").
 *
 * signer_start() forks the signer from the calling process and returns a
 * client handle; the child reads the CA passphrase itself (QUILL_CA_PASSPHRASE
 * or ca.passphrase_file), loads CA keys from <data>/ca/<key-id>.key on demand,
 * checks every request against the issuing profile once more (never a CA flag
 * for an end entity, never validity past the profile, never a name outside
 * the request, never a weak key) and answers. The parent never sees key bytes
 * or the passphrase.
 *
 * The handle is owned by the caller (signer_stop closes the channel and reaps
 * the child). signer_call() is serialised by a mutex in the handle, so any
 * thread of the parent may call it. Call signer_start() before starting
 * threads (it forks).
 */
#ifndef QUILL_SIGNER_H
#define QUILL_SIGNER_H

#include "../base/buf.h"
#include "../base/config.h"
#include "../base/err.h"
#include "signer_proto.h"

struct signer;

enum qerr signer_start(const char *data_dir, const struct qconfig *cfg, struct signer **out,
                       struct qerr_info *ei);
/* Sends `req`, waits for the answer. On SMSG_OK fills `resp` (pointing into
 * `frame`, which the caller owns and must keep while using resp). On
 * SMSG_ERROR returns the signer's code and sentence in ei. */
enum qerr signer_call(struct signer *s, const struct signer_req *req, struct qbuf *frame,
                      struct signer_resp *resp, struct qerr_info *ei);
void signer_stop(struct signer *s);

/* The child's request handler, exposed for unit tests and the fuzzer: decodes
 * one frame body, acts, and appends the encoded answer frame to `out`. */
struct signer_state;
struct signer_state *signer_state_new(const char *data_dir, const struct qconfig *cfg);
void signer_state_free(struct signer_state *st);
void signer_handle(struct signer_state *st, const uint8_t *frame, size_t len, struct qbuf *out);

#endif
