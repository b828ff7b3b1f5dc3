/*
 * signer_secret.h - the CA passphrase in the main process, between reading
 * it at start and handing it to the signer.
 *
 * ca_secret_take() runs in main() right after the configuration is loaded,
 * before any thread or network code: it reads QUILL_CA_PASSPHRASE (else the
 * [ca] passphrase_file), overwrites the value's bytes in the process's
 * original environment block (which /proc/<pid>/environ shows for the whole
 * life of the process, whatever unsetenv does) and then unsets it. The
 * passphrase lives in its own page: mlock'ed (never swapped),
 * MADV_DONTDUMP (never in a core file), MADV_WIPEONFORK (never in a child),
 * and PROT_NONE except while ca_secret_reveal() .. ca_secret_conceal() hold
 * it open, so that a stray read in the main process faults instead of
 * leaking it. ca_secret_wipe() erases it once no signer start needs it.
 *
 * A missing or unreadable passphrase is not an error here: commands that
 * never load a CA key run without one. The reason is kept (ca_secret_note)
 * and the signer reports it when a key is needed.
 *
 * Memory: the struct is owned by the caller (ca_secret_free wipes and
 * unmaps). Threads: take/free on the main thread; reveal/conceal under the
 * lock of whoever shares it (the signer client's mutex).
 */
#ifndef QUILL_SIGNER_SECRET_H
#define QUILL_SIGNER_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "../base/config.h"

#define CA_PASSPHRASE_ENV "QUILL_CA_PASSPHRASE"

struct ca_secret;

/* Never NULL except when memory ran out. */
struct ca_secret *ca_secret_take(const struct qconfig *cfg);
/* Overwrites every NAME=value of the environment block in place and
 * unsets NAME (also used for other secrets passed in the environment). */
void ca_secret_scrub_env(const char *name);
/* true when a passphrase is held (not yet wiped). */
bool ca_secret_present(const struct ca_secret *s);
/* Why there is none ("" when there is one, or none was configured). */
const char *ca_secret_note(const struct ca_secret *s);
/* The passphrase (NUL-terminated) and its length, readable until
 * ca_secret_conceal(). NULL when there is none. */
const char *ca_secret_reveal(struct ca_secret *s, size_t *len);
void ca_secret_conceal(struct ca_secret *s);
/* Erases the passphrase for good (the note says it was handed over). */
void ca_secret_wipe(struct ca_secret *s);
void ca_secret_free(struct ca_secret *s);

#endif
