/*
 * signer.h - the signer process: the only process that ever loads a CA
 * private key (ARCHITECTURE.md "Two processes").
 *
 * signer_start() forks and executes the quill binary itself
 * (/proc/self/exe, argv "quill signer") with an empty environment and no
 * descriptor but its socket (fd 3; stdin and stdout on /dev/null, stderr
 * shared for the log), optionally as another user (when the caller is
 * root), and sends it one SMSG_INIT message: the data directory, the
 * validity limits, the log level and the CA passphrase. The signer loads CA
 * keys from <data>/ca/<key-id>.key on demand, checks every request against
 * the issuing profile and the Baseline Requirements once more, and answers.
 * The main process never sees key bytes.
 *
 * A signer that dies is noticed at the next call (or by signer_check) and
 * started again with backoff, at most SIGNER_MAX_RESTARTS times a minute,
 * when the handle can restart it (`keep_for_restart`: the passphrase stays
 * in the locked ca_secret page). A request in flight when it dies fails
 * with QERR_SIGNER_UNAVAILABLE; the caller retries (jobs do).
 *
 * The handle is owned by the caller (signer_stop closes the channel and
 * reaps the child). signer_call() and signer_check() are serialised by a
 * mutex in the handle, so any thread of the parent may call them; the code
 * between fork and exec is async-signal-safe, so a restart from a thread is
 * safe. Call signer_start() before starting threads all the same.
 */
#ifndef QUILL_SIGNER_H
#define QUILL_SIGNER_H

#include <stdbool.h>
#include <sys/types.h>

#include "../base/buf.h"
#include "../base/config.h"
#include "../base/err.h"
#include "signer_proto.h"

#define SIGNER_FD 3 /* the signer's socket, in the signer process */
#define SIGNER_MAX_RESTARTS 5

struct signer;
struct ca_secret;

struct signer_launch {
        const char *data_dir;
        const struct qconfig *cfg;
        struct ca_secret *secret; /* borrowed; kept (for restarts) only with keep_for_restart */
        bool keep_for_restart;
        bool switch_user; /* run the signer as uid/gid (the caller is root) */
        uid_t uid;
        gid_t gid;
};

enum qerr signer_start(const struct signer_launch *l, struct signer **out, struct qerr_info *ei);
/* Sends `req`, waits for the answer. On SMSG_OK fills `resp` (pointing into
 * `frame`, which the caller owns and must keep while using resp). On
 * SMSG_ERROR returns the signer's code and sentence in ei (resp is filled
 * too: crl_number_not_increasing carries the signer's CRL number there). */
enum qerr signer_call(struct signer *s, const struct signer_req *req, struct qbuf *frame,
                      struct signer_resp *resp, struct qerr_info *ei);
/* Signs a CRL: `begin` (issuer, number, times, distribution point) and the
 * DER of `count` RevokedCertificate entries, streamed in frames under the
 * handle's mutex (signer_crl_drive). On success `resp` holds the parts to
 * assemble (pointing into `frame`); on a refusal the signer's answer, as
 * for signer_call. */
enum qerr signer_sign_crl(struct signer *s, struct signer_req *begin, const uint8_t *entries,
                          size_t entries_len, size_t count, struct qbuf *frame,
                          struct signer_resp *resp, struct qerr_info *ei);
/* Notices a dead signer and starts it again when allowed (backoff). false
 * when it is dead and this handle can never start it again. */
bool signer_check(struct signer *s);
/* The signer's process id (0 while it is down). */
pid_t signer_pid(struct signer *s);
void signer_stop(struct signer *s);

/* `quill signer`: the signer process's main (src/cli/main.c calls it before
 * anything else). Returns the exit status. */
int signer_main(int argc, char **argv);

/* The request handler, exposed for unit tests and the fuzzer: decodes one
 * frame body, acts, and appends the encoded answer frame to `out`. */
struct signer_state;
struct signer_config {
        const char *data_dir; /* keys in <data_dir>/ca */
        long private_max_days, public_max_days;
        const char *passphrase; /* copied into the state; NULL: none */
        const char *note;       /* why there is none */
        /* tests only ([validation] allow_private_addresses): a profile that
         * allows IP addresses may certify special-purpose ones (loopback) */
        bool allow_private_ips;
};
struct signer_state *signer_state_new(const struct signer_config *c);
void signer_state_free(struct signer_state *st);
void signer_handle(struct signer_state *st, const uint8_t *frame, size_t len, struct qbuf *out);

#endif
