/*
 * signer_secret.c - the CA passphrase between start and hand-over; see
 * signer_secret.h.
 */
#include "signer_secret.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../base/buf.h"
#include "../base/fsutil.h"
#include "../base/log.h"
#include "signer_proto.h"

extern char **environ;

struct ca_secret {
        char *page; /* SIGNER_MAX_PASSPHRASE + 1 bytes, page-aligned mapping */
        size_t map_len;
        size_t len; /* 0: none */
        char note[QERR_MSG_MAX];
};

void ca_secret_scrub_env(const char *name)
{
        size_t n = strlen(name);
        for (char **e = environ; e && *e; e++)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                        OPENSSL_cleanse(*e + n + 1, strlen(*e + n + 1));
        /* unsetenv removes every occurrence */
        unsetenv(name);
}

static void store(struct ca_secret *s, const char *p, size_t len)
{
        if (len > SIGNER_MAX_PASSPHRASE) {
                snprintf(s->note, sizeof s->note,
                         "the CA passphrase is longer than %d bytes; choose a shorter one",
                         SIGNER_MAX_PASSPHRASE);
                return;
        }
        memcpy(s->page, p, len);
        s->page[len] = 0;
        s->len = len;
}

/* The passphrase file: one line; a trailing newline and spaces are not part
 * of it. */
static void from_file(struct ca_secret *s, const char *path)
{
        struct qbuf b;
        qbuf_init(&b, SIGNER_MAX_PASSPHRASE + 64);
        struct qerr_info fe;
        if (fs_read_file(path, &b, &fe) != QERR_OK) {
                snprintf(s->note, sizeof s->note, "the CA passphrase file could not be read: %s",
                         qerr_message(&fe));
                qbuf_free(&b);
                return;
        }
        while (b.len &&
               (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r' || b.data[b.len - 1] == ' '))
                b.data[--b.len] = 0;
        if (b.len == 0 || memchr(b.data, 0, b.len))
                snprintf(s->note, sizeof s->note, "the CA passphrase file %.300s is empty", path);
        else
                store(s, (const char *)b.data, b.len);
        qbuf_free(&b); /* wipes */
}

struct ca_secret *ca_secret_take(const struct qconfig *cfg)
{
        struct ca_secret *s = calloc(1, sizeof *s);
        if (!s)
                return NULL;
        long pg = sysconf(_SC_PAGESIZE);
        size_t page = pg > 0 ? (size_t)pg : 4096;
        s->map_len = (SIGNER_MAX_PASSPHRASE + 1 + page - 1) / page * page;
        void *m =
            mmap(NULL, s->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
                free(s);
                return NULL;
        }
        s->page = m;
        /* best effort: an unprivileged RLIMIT_MEMLOCK may refuse the lock */
        if (mlock(m, s->map_len) != 0)
                qlog_debug("passphrase page not locked", "why=mlock_failed");
        madvise(m, s->map_len, MADV_DONTDUMP);
        madvise(m, s->map_len, MADV_WIPEONFORK);

        const char *env = getenv(CA_PASSPHRASE_ENV);
        if (env && *env)
                store(s, env, strlen(env));
        else if (cfg && cfg->ca_passphrase_file && *cfg->ca_passphrase_file)
                from_file(s, cfg->ca_passphrase_file);
        ca_secret_scrub_env(CA_PASSPHRASE_ENV);
        mprotect(s->page, s->map_len, PROT_NONE);
        return s;
}

bool ca_secret_present(const struct ca_secret *s)
{
        return s && s->len > 0;
}

const char *ca_secret_note(const struct ca_secret *s)
{
        return s ? s->note : "";
}

const char *ca_secret_reveal(struct ca_secret *s, size_t *len)
{
        if (!s || s->len == 0) {
                *len = 0;
                return NULL;
        }
        mprotect(s->page, s->map_len, PROT_READ);
        *len = s->len;
        return s->page;
}

void ca_secret_conceal(struct ca_secret *s)
{
        if (s)
                mprotect(s->page, s->map_len, PROT_NONE);
}

void ca_secret_wipe(struct ca_secret *s)
{
        if (!s || s->len == 0)
                return;
        mprotect(s->page, s->map_len, PROT_READ | PROT_WRITE);
        OPENSSL_cleanse(s->page, s->map_len);
        mprotect(s->page, s->map_len, PROT_NONE);
        s->len = 0;
        snprintf(s->note, sizeof s->note,
                 "the CA passphrase was handed to the signer that has stopped, and this process "
                 "no longer holds it; restart quill");
}

void ca_secret_free(struct ca_secret *s)
{
        if (!s)
                return;
        ca_secret_wipe(s);
        munmap(s->page, s->map_len);
        free(s);
}
