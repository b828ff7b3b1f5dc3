/*
 * signer_main.c - `quill signer`, the signer process (see signer.h): what
 * runs after the main process has executed the quill binary again with an
 * empty environment and the socket on fd 3.
 *
 * 1. Refuse to run as a command: fd 3 must be a socket.
 * 2. Not dumpable (no core dump, no ptrace by the same user).
 * 3. Read SMSG_INIT (data directory, limits, log level, passphrase) and
 *    wipe the frame.
 * 4. Initialise OpenSSL (configuration file, random generator, the
 *    algorithms it fetches lazily) and check the key directory, so that
 *    nothing needs a file or system call the filter forbids later.
 * 5. Install the system call filter (signer_seccomp.c), answer the INIT.
 * 6. Serve one request at a time until the main process closes the socket.
 *
 * Single-threaded.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/log.h"
#include "../pki/pki_key.h"
#include "signer_internal.h"

/* Everything OpenSSL may load or open lazily, done before the filter. */
static enum qerr warm_up(struct qerr_info *ei)
{
        if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_ADD_ALL_CIPHERS |
                                    OPENSSL_INIT_ADD_ALL_DIGESTS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
                                NULL) != 1)
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE, "OpenSSL did not initialise");
        unsigned char b[32];
        if (RAND_bytes(b, sizeof b) != 1 || RAND_priv_bytes(b, sizeof b) != 1)
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE, "no randomness for the signer");
        OPENSSL_cleanse(b, sizeof b);
        /* a key, an encrypted PEM round trip (PBKDF2, AES) and a signature
         * per family, so that every algorithm is fetched once */
        static const enum key_alg algs[] = {KEYALG_EC256, KEYALG_SM2};
        enum qerr rc = QERR_OK;
        for (size_t i = 0; rc == QERR_OK && i < sizeof algs / sizeof algs[0]; i++) {
                EVP_PKEY *k = NULL, *back = NULL;
                struct qbuf pem;
                qbuf_init(&pem, 16384);
                rc = pki_key_generate(algs[i], &k, ei);
                if (rc == QERR_OK)
                        rc = pki_key_to_pem_iter(k, "signer-warm-up", 1, &pem, ei);
                if (rc == QERR_OK)
                        rc = pki_key_from_pem(pem.data, pem.len, "signer-warm-up", &back, ei);
                EVP_MD_CTX *ctx = rc == QERR_OK ? pki_sign_ctx(k) : NULL;
                unsigned char sig[256];
                size_t siglen = sizeof sig;
                if (rc == QERR_OK &&
                    (!ctx || EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)"x", 1) != 1))
                        rc = qerr_set(ei, QERR_SIGNER_UNAVAILABLE, "the signer cannot sign");
                EVP_MD_CTX_free(ctx);
                EVP_PKEY_free(k);
                EVP_PKEY_free(back);
                qbuf_free(&pem);
        }
        return rc;
}

/* The key directory must be usable by this process's user (with user
 * separation, by the signer user alone). */
static enum qerr check_dirs(const struct signer_state *st, struct qerr_info *ei)
{
        struct stat sb;
        if (stat(st->key_dir, &sb) == 0) {
                if (!S_ISDIR(sb.st_mode) || access(st->key_dir, R_OK | W_OK | X_OK) != 0)
                        return qerr_set(ei, QERR_IO,
                                        "the signer (uid %ld) cannot use the key directory %s: "
                                        "%s; it must be a directory its user owns (mode 0700)",
                                        (long)getuid(), st->key_dir,
                                        errno ? strerror(errno) : "not a directory");
                return QERR_OK;
        }
        if (errno != ENOENT || access(st->data_dir, W_OK | X_OK) != 0)
                return qerr_set(ei, QERR_IO,
                                "the signer (uid %ld) cannot reach the key directory %s: %s; "
                                "every directory above it needs search permission for the "
                                "signer's user",
                                (long)getuid(), st->key_dir, strerror(errno));
        return QERR_OK;
}

/* Reads and applies SMSG_INIT. */
static enum qerr init(struct qbuf *in, struct signer_state **out, struct qerr_info *ei)
{
        enum qerr rc = signer_read_frame(SIGNER_FD, in, ei);
        if (rc != QERR_OK)
                return rc;
        struct signer_req r;
        rc = signer_decode_req(in->data, in->len, &r, ei);
        if (rc == QERR_OK && r.type != SMSG_INIT)
                rc = qerr_set(ei, QERR_PROTO, "the first message to the signer must be INIT");
        char data_dir[PATH_MAX], pass[SIGNER_MAX_PASSPHRASE + 1] = "", note[QERR_MSG_MAX] = "";
        if (rc == QERR_OK && (!sbytes_cstr(r.data_dir, data_dir, sizeof data_dir) ||
                              !sbytes_cstr(r.passphrase, pass, sizeof pass) ||
                              !sbytes_cstr(r.note, note, sizeof note)))
                rc = qerr_set(ei, QERR_PROTO, "malformed INIT");
        if (rc == QERR_OK) {
                if (r.log_level >= QLOG_DEBUG && r.log_level <= QLOG_OFF)
                        qlog_set_level((enum qlog_level)r.log_level);
                struct signer_config c = {.data_dir = data_dir,
                                          .private_max_days = (long)r.private_max_days,
                                          .public_max_days = (long)r.public_max_days,
                                          .allow_private_ips = r.allow_private != 0,
                                          .passphrase = pass[0] ? pass : NULL,
                                          .note = note};
                *out = signer_state_new(&c);
                if (!*out)
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
        }
        signer_req_clear(&r);
        OPENSSL_cleanse(pass, sizeof pass);
        if (in->data)
                OPENSSL_cleanse(in->data, in->cap);
        qbuf_reset(in);
        return rc;
}

static void answer(const struct qerr_info *ei, enum qerr rc, struct qbuf *out)
{
        qbuf_reset(out);
        struct signer_resp r = {.type = rc == QERR_OK ? SMSG_OK : SMSG_ERROR, .code = rc};
        if (rc != QERR_OK)
                r.message = sbytes_str(qerr_message(ei));
        struct qerr_info we;
        if (signer_encode_resp(&r, out))
                signer_write_frame(SIGNER_FD, out, &we);
}

int signer_main(int argc, char **argv)
{
        (void)argv;
        struct stat sb;
        if (argc != 2 || fstat(SIGNER_FD, &sb) != 0 || !S_ISSOCK(sb.st_mode)) {
                fprintf(stderr, "quill: usage: 'quill signer' is started by quill itself; it is "
                                "not a command\n");
                return QEXIT_USAGE;
        }
        prctl(PR_SET_DUMPABLE, 0); /* no core dumps, no ptrace of key memory */
        signal(SIGINT, SIG_IGN);   /* the main process decides when we stop */
        signal(SIGHUP, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        struct signer_state *st = NULL;
        struct qbuf in, out;
        qbuf_init(&in, MAX_SIGNER_MSG_BYTES);
        qbuf_init(&out, MAX_SIGNER_MSG_BYTES + 8);
        struct qerr_info ei;
        qerr_clear(&ei);
        enum qerr rc = init(&in, &st, &ei);
        if (rc == QERR_OK)
                rc = warm_up(&ei);
        if (rc == QERR_OK)
                rc = check_dirs(st, &ei);
        if (rc == QERR_OK)
                rc = signer_sandbox(&ei);
        answer(&ei, rc, &out);
        int status = rc == QERR_OK ? 0 : 1;
        while (rc == QERR_OK) {
                rc = signer_read_frame(SIGNER_FD, &in, &ei);
                if (rc == QERR_SIGNER_UNAVAILABLE)
                        break; /* the main process closed the socket: normal end */
                if (rc != QERR_OK) {
                        qlog_error("signer: bad frame, closing", "code=%s", qerr_code(rc));
                        status = 1;
                        break;
                }
                qbuf_reset(&out);
                signer_handle(st, in.data, in.len, &out);
                if (signer_write_frame(SIGNER_FD, &out, &ei) != QERR_OK)
                        break;
        }
        qbuf_free(&in);
        qbuf_free(&out);
        signer_state_free(st);
        close(SIGNER_FD);
        return status;
}
