/*
 * signer_journal.c - the signer's journal of every certificate it signs
 * (two-phase issuance, issue 7; the format is in journal.h).
 *
 * Where: <data>/ca/journal/, inside the key directory, because with user
 * separation the signer's user can write nothing else ([signer] user,
 * docs/internals/signer.md). The main process never reads the directory:
 * it asks the signer (SMSG_JOURNAL_READ hands the records back over the
 * socket, a page at a time) and tells it what the store holds
 * (SMSG_JOURNAL_TRIM), so the files keep the key directory's owner and mode
 * (0700, files 0600) whatever the users.
 *
 * One file per signer process, made at its first certificate: written
 * under a temporary name (header, fsync), locked with flock(LOCK_EX) and
 * only then renamed to "<ns>-<pid>-<salt>.jnl" (directory fsync'd), so a
 * file under a journal name is always held by a live signer or left by a
 * dead one: flock(LOCK_NB) by another signer succeeds only on the latter
 * (the kernel drops the lock when the process dies). Each record is written
 * with one write() and fdatasync'd before the certificate leaves the
 * signer; a failed write abandons the file (the next certificate starts a
 * new one), so a torn record is only ever the last bytes of a file. A file
 * past JOURNAL_ROTATE_BYTES is closed (and its lock dropped) and a new one
 * started, so trimming can delete it once its records are stored.
 *
 * Trim: the main process names files whose records (up to an offset) are
 * all in the store. The signer deletes such a file when no live signer
 * holds it (its own current file included, which it closes first) and no
 * intact record follows that offset; files of live signers stay.
 *
 * Single-threaded (the signer process); the system calls are in the
 * seccomp filter (flock, pread64, getdents64, renameat, unlinkat, fdatasync).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/fsutil.h"
#include "../base/log.h"
#include "journal.h"
#include "signer_internal.h"

#define JOURNAL_ROTATE_BYTES (4u * 1024u * 1024u)

_Static_assert(JOURNAL_MAX_DER == 100000u, "the wire format (signer_proto.c) carries 100000");

void signer_journal_dir(const struct signer_state *st, char *out, size_t outsz)
{
        snprintf(out, outsz, "%s/journal", st->key_dir);
}

void signer_journal_close(struct signer_state *st)
{
        if (st->journal.fd >= 0)
                close(st->journal.fd); /* drops the lock */
        st->journal.fd = -1;
        st->journal.name[0] = 0;
        st->journal.seq = 0;
        st->journal.end = 0;
}

static enum qerr write_all(int fd, const uint8_t *p, size_t len)
{
        while (len) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return fs_errno_qerr(n < 0 ? errno : ENOSPC);
                p += n;
                len -= (size_t)n;
        }
        return QERR_OK;
}

/* A new journal file: temporary name, header, fsync, lock, rename. */
static enum qerr open_new(struct signer_state *st, struct qerr_info *ei)
{
        char dir[PATH_MAX + 16], tmp[PATH_MAX + 96], path[PATH_MAX + 96];
        signer_journal_dir(st, dir, sizeof dir);
        enum qerr rc = fs_mkdirs(dir, 0700, ei);
        if (rc != QERR_OK)
                return rc;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint32_t salt = 0;
        if (RAND_bytes((unsigned char *)&salt, sizeof salt) != 1)
                salt = 0;
        salt ^= ++st->journal.name_salt;
        char name[64];
        snprintf(name, sizeof name, "%020llu-%ld-%08x.jnl",
                 (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec,
                 (long)getpid(), salt);
        snprintf(tmp, sizeof tmp, "%s/.tmp-%s", dir, name);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0)
                return qerr_set(ei, fs_errno_qerr(errno),
                                "the signer cannot create its journal in %s: %s; nothing was "
                                "signed",
                                dir, strerror(errno));
        int e = 0;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0)
                e = errno;
        if (!e && write_all(fd, (const uint8_t *)JOURNAL_HEADER, JOURNAL_HEADER_LEN) != QERR_OK)
                e = errno ? errno : EIO;
        if (!e && fsync(fd) != 0)
                e = errno;
        if (!e && rename(tmp, path) != 0)
                e = errno;
        if (!e)
                e = fs_fsync_dir(dir);
        if (e) {
                close(fd);
                unlink(tmp);
                return qerr_set(ei, fs_errno_qerr(e),
                                "the signer cannot write its journal in %s: %s; nothing was "
                                "signed",
                                dir, strerror(e));
        }
        st->journal.fd = fd;
        snprintf(st->journal.name, sizeof st->journal.name, "%s", name);
        st->journal.seq = 0;
        st->journal.end = JOURNAL_HEADER_LEN;
        qlog_info("signer journal started", "file=%s", name);
        return QERR_OK;
}

enum qerr signer_journal_append(struct signer_state *st, const uint8_t *serial, size_t serial_len,
                                const char *key_id, const uint8_t *der, size_t der_len,
                                struct qerr_info *ei)
{
        if (st->journal.fd >= 0 && st->journal.end >= JOURNAL_ROTATE_BYTES)
                signer_journal_close(st); /* rotate: the next trim may delete it */
        enum qerr rc = QERR_OK;
        if (st->journal.fd < 0 && (rc = open_new(st, ei)) != QERR_OK)
                return rc;
        struct journal_rec r = {.seq = st->journal.seq + 1,
                                .signed_at = (int64_t)time(NULL),
                                .serial = serial,
                                .serial_len = serial_len,
                                .der = der,
                                .der_len = der_len};
        snprintf(r.key_id, sizeof r.key_id, "%s", key_id);
        struct qbuf rec;
        qbuf_init(&rec, JOURNAL_REC_HEAD + JOURNAL_MAX_PAYLOAD);
        if (!journal_encode_record(&r, &rec)) {
                qbuf_free(&rec);
                return qerr_set(ei, QERR_INTERNAL, "the certificate does not fit the journal");
        }
        rc = write_all(st->journal.fd, rec.data, rec.len);
        int e = rc == QERR_OK ? 0 : (errno ? errno : EIO);
        if (rc == QERR_OK && fdatasync(st->journal.fd) != 0) {
                e = errno;
                rc = fs_errno_qerr(e);
        }
        size_t len = rec.len;
        qbuf_free(&rec);
        if (rc != QERR_OK) {
                /* a torn record may be left: nobody appends after it */
                qlog_error("signer journal write failed", "file=%s error=\"%s\"", st->journal.name,
                           strerror(e));
                signer_journal_close(st);
                return qerr_set(ei, rc,
                                "the signer could not write its journal (%s); the certificate "
                                "was not handed out. Free disk space in the data directory",
                                strerror(e));
        }
        st->journal.seq++;
        st->journal.end += len;
        return QERR_OK;
}

/* ---- listing ---- */

struct names {
        char (*v)[JOURNAL_NAME_MAX + 1];
        size_t n;
};

static int cmp_name(const void *a, const void *b)
{
        return strcmp(a, b);
}

/* The journal files, sorted by name (at most SIGNER_MAX_JFILES). */
static enum qerr list_files(const char *dir, struct names *out, struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? QERR_OK
                                       : qerr_set(ei, QERR_IO, "cannot list the journal %s: %s",
                                                  dir, strerror(errno));
        struct dirent *e;
        size_t cap = 0;
        enum qerr rc = QERR_OK;
        while (rc == QERR_OK && (e = readdir(d)) != NULL) {
                size_t len = strlen(e->d_name);
                if (!journal_name_ok(e->d_name, len))
                        continue;
                if (out->n == SIGNER_MAX_JFILES) {
                        qlog_warn("signer journal has too many files",
                                  "dir=%s max=%d hint=\"the rest is read after a trim\"", dir,
                                  SIGNER_MAX_JFILES);
                        break;
                }
                if (out->n == cap) {
                        size_t nc = cap ? cap * 2 : 16;
                        void *nv = realloc(out->v, nc * sizeof *out->v);
                        if (!nv) {
                                rc = qerr_set(ei, QERR_NOMEM, NULL);
                                break;
                        }
                        out->v = nv;
                        cap = nc;
                }
                memcpy(out->v[out->n++], e->d_name, len + 1);
        }
        closedir(d);
        if (rc != QERR_OK) {
                free(out->v);
                memset(out, 0, sizeof *out);
                return rc;
        }
        if (out->n)
                qsort(out->v, out->n, sizeof *out->v, cmp_name);
        return QERR_OK;
}

/* Reads the record at `off` of `fd` into `buf`. JP_OK with *used; JP_SHORT
 * at the end (or a torn tail); JP_BAD for damage. */
static enum journal_parse read_record(int fd, uint64_t off, struct qbuf *buf, struct journal_rec *r,
                                      size_t *used)
{
        uint8_t head[JOURNAL_REC_HEAD];
        ssize_t n = pread(fd, head, sizeof head, (off_t)off);
        if (n < (ssize_t)sizeof head)
                return JP_SHORT;
        size_t whole = journal_record_len(head);
        if (whole == 0)
                return JP_BAD;
        qbuf_reset(buf);
        if (!qbuf_append(buf, head, sizeof head))
                return JP_BAD;
        size_t need = whole - sizeof head;
        uint8_t chunk[8192];
        uint64_t at = off + sizeof head;
        while (need) {
                n = pread(fd, chunk, need < sizeof chunk ? need : sizeof chunk, (off_t)at);
                if (n <= 0)
                        return JP_SHORT;
                if (!qbuf_append(buf, chunk, (size_t)n))
                        return JP_BAD;
                need -= (size_t)n;
                at += (uint64_t)n;
        }
        return journal_parse_record(buf->data, buf->len, r, used);
}

/* ---- SMSG_JOURNAL_READ ---- */

struct page {
        struct qbuf recs; /* copies of the records handed out */
        struct journal_wire *e;
        size_t ne, cap_e;
        struct jfile_wire *f;
        size_t nf, cap_f;
        size_t *rec_off; /* offset of each entry's record in recs */
        char (*fname)[JOURNAL_NAME_MAX + 1];
};

static bool page_add_file(struct page *pg, const char *name, uint64_t end, uint8_t flags)
{
        if (pg->nf == pg->cap_f) {
                size_t nc = pg->cap_f ? pg->cap_f * 2 : 16;
                void *nf = realloc(pg->f, nc * sizeof *pg->f);
                void *nn = nf ? realloc(pg->fname, nc * sizeof *pg->fname) : NULL;
                if (nf)
                        pg->f = nf;
                if (!nn)
                        return false;
                pg->fname = nn;
                pg->cap_f = nc;
        }
        snprintf(pg->fname[pg->nf], sizeof pg->fname[0], "%s", name);
        pg->f[pg->nf].end = (int64_t)end;
        pg->f[pg->nf].flags = flags;
        pg->nf++;
        return true;
}

/* Keeps a copy of record `r` (read at `off` of file `name`) for the answer. */
static bool page_add_entry(struct page *pg, const char *name, uint64_t off,
                           const struct journal_rec *r)
{
        if (pg->ne == pg->cap_e) {
                size_t nc = pg->cap_e ? pg->cap_e * 2 : 64;
                void *ne = realloc(pg->e, nc * sizeof *pg->e);
                void *no = ne ? realloc(pg->rec_off, nc * sizeof *pg->rec_off) : NULL;
                if (ne)
                        pg->e = ne;
                if (!no)
                        return false;
                pg->rec_off = no;
                pg->cap_e = nc;
        }
        struct journal_wire *w = &pg->e[pg->ne];
        memset(w, 0, sizeof *w);
        w->offset = (int64_t)off;
        w->seq = (int64_t)r->seq;
        w->signed_at = r->signed_at;
        /* the file name, serial, key id and DER, one after the other in recs;
         * pointers are set once recs stops growing */
        size_t at = pg->recs.len;
        size_t nl = strlen(name), kl = strlen(r->key_id);
        if (!qbuf_append(&pg->recs, name, nl) ||
            !qbuf_append(&pg->recs, r->serial, r->serial_len) ||
            !qbuf_append(&pg->recs, r->key_id, kl) || !qbuf_append(&pg->recs, r->der, r->der_len)) {
                pg->recs.len = at;
                return false;
        }
        w->file.len = nl;
        w->serial.len = r->serial_len;
        w->key_id.len = kl;
        w->der.len = r->der_len;
        pg->rec_off[pg->ne++] = at;
        return true;
}

/* What the answer will take, roughly over: the copies plus the fixed
 * part of each field. */
#define ENTRY_OVERHEAD 48
#define FILE_OVERHEAD 80
static size_t page_bytes(const struct page *pg)
{
        return pg->recs.len + pg->ne * ENTRY_OVERHEAD + pg->nf * FILE_OVERHEAD;
}

static void page_free(struct page *pg)
{
        qbuf_free(&pg->recs);
        free(pg->e);
        free(pg->f);
        free(pg->rec_off);
        free(pg->fname);
}

/* Reads file `name` from `from` into the page; *next is set (and true
 * returned) when the page filled up before the file ended. */
static enum qerr read_file(const char *dir, const char *name, uint64_t from, struct page *pg,
                           struct qbuf *buf, uint64_t *next, bool *full, struct qerr_info *ei)
{
        char path[PATH_MAX + 96];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        *full = false;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT
                           ? QERR_OK /* trimmed meanwhile */
                           : qerr_set(ei, QERR_IO, "cannot read the journal file %s: %s", path,
                                      strerror(errno));
        uint8_t hdr[JOURNAL_HEADER_LEN];
        ssize_t hn = pread(fd, hdr, sizeof hdr, 0);
        struct stat sb;
        uint64_t size = fstat(fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
        if (hn != (ssize_t)sizeof hdr || !journal_header_ok(hdr, sizeof hdr)) {
                close(fd);
                qlog_warn("signer journal file without a header", "file=%s size=%llu", name,
                          (unsigned long long)size);
                return page_add_file(pg, name, 0, JFILE_BAD_HEADER)
                           ? QERR_OK
                           : qerr_set(ei, QERR_NOMEM, NULL);
        }
        uint64_t off = from < JOURNAL_HEADER_LEN ? JOURNAL_HEADER_LEN : from;
        enum qerr rc = QERR_OK;
        for (;;) {
                struct journal_rec r;
                size_t used = 0;
                enum journal_parse jp = read_record(fd, off, buf, &r, &used);
                if (jp != JP_OK) {
                        if (jp == JP_BAD || off < size)
                                qlog_warn("signer journal: torn or damaged record ignored",
                                          "file=%s offset=%llu size=%llu", name,
                                          (unsigned long long)off, (unsigned long long)size);
                        if (!page_add_file(pg, name, off, off < size ? JFILE_TORN : 0))
                                rc = qerr_set(ei, QERR_NOMEM, NULL);
                        break;
                }
                if (pg->ne > 0 &&
                    page_bytes(pg) + used + ENTRY_OVERHEAD + FILE_OVERHEAD > SIGNER_JOURNAL_PAGE) {
                        *full = true;
                        *next = off;
                        break;
                }
                if (!page_add_entry(pg, name, off, &r)) {
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                        break;
                }
                off += used;
        }
        close(fd);
        return rc;
}

enum qerr signer_journal_read(struct signer_state *st, const struct signer_req *req,
                              struct qbuf *out, struct qerr_info *ei)
{
        char dir[PATH_MAX + 16], from_name[JOURNAL_NAME_MAX + 1] = "";
        uint64_t from_off = 0;
        signer_journal_dir(st, dir, sizeof dir);
        if (req->has_cursor) {
                if (!sbytes_cstr(req->cursor.name, from_name, sizeof from_name) ||
                    !journal_name_ok(from_name, strlen(from_name)))
                        return qerr_set(ei, QERR_PROTO, "bad journal cursor");
                from_off = (uint64_t)req->cursor.end;
        }
        struct names nm;
        enum qerr rc = list_files(dir, &nm, ei);
        if (rc != QERR_OK)
                return rc;
        struct page pg;
        memset(&pg, 0, sizeof pg);
        qbuf_init(&pg.recs, SIGNER_JOURNAL_PAGE + JOURNAL_MAX_PAYLOAD + 256);
        struct qbuf buf;
        qbuf_init(&buf, JOURNAL_REC_HEAD + JOURNAL_MAX_PAYLOAD);
        bool full = false;
        uint64_t next = 0;
        size_t i = 0;
        for (; rc == QERR_OK && i < nm.n && !full; i++) {
                int c = from_name[0] ? strcmp(nm.v[i], from_name) : 1;
                if (c < 0)
                        continue;
                uint64_t from = c == 0 ? from_off : 0;
                if (page_bytes(&pg) + FILE_OVERHEAD > SIGNER_JOURNAL_PAGE) {
                        full = true; /* this file goes on the next page */
                        next = from;
                        i++;
                        break;
                }
                rc = read_file(dir, nm.v[i], from, &pg, &buf, &next, &full, ei);
        }
        if (rc == QERR_OK) {
                struct signer_resp resp = {.type = SMSG_OK};
                /* the copies stopped moving: point into them */
                for (size_t k = 0; k < pg.ne; k++) {
                        const uint8_t *p = pg.recs.data + pg.rec_off[k];
                        struct journal_wire *w = &pg.e[k];
                        w->file.p = p;
                        w->serial.p = p + w->file.len;
                        w->key_id.p = w->serial.p + w->serial.len;
                        w->der.p = w->key_id.p + w->key_id.len;
                }
                for (size_t k = 0; k < pg.nf; k++)
                        pg.f[k].name = sbytes_str(pg.fname[k]);
                resp.jentries = pg.e;
                resp.njentries = pg.ne;
                resp.jfiles = pg.f;
                resp.njfiles = pg.nf;
                if (full) {
                        resp.has_cursor = true;
                        resp.cursor.name = sbytes_str(nm.v[i - 1]);
                        resp.cursor.end = (int64_t)next;
                }
                if (!signer_encode_resp(&resp, out))
                        rc = qerr_set(ei, QERR_INTERNAL, "a journal page does not fit a message");
        }
        qbuf_free(&buf);
        page_free(&pg);
        free(nm.v);
        return rc;
}

/* ---- SMSG_JOURNAL_TRIM ---- */

/* true when an intact record starts at `end` of the file (it grew after the
 * main process read it). */
static bool grew_after(int fd, uint64_t end)
{
        struct qbuf buf;
        qbuf_init(&buf, JOURNAL_REC_HEAD + JOURNAL_MAX_PAYLOAD);
        struct journal_rec r;
        size_t used;
        bool grew = end < JOURNAL_HEADER_LEN || read_record(fd, end, &buf, &r, &used) == JP_OK;
        qbuf_free(&buf);
        return grew;
}

enum qerr signer_journal_trim(struct signer_state *st, const struct signer_req *req,
                              struct qbuf *out, struct qerr_info *ei)
{
        char dir[PATH_MAX + 16];
        signer_journal_dir(st, dir, sizeof dir);
        size_t removed = 0, kept = 0;
        for (size_t i = 0; i < req->njfiles; i++) {
                char name[JOURNAL_NAME_MAX + 1], path[PATH_MAX + 96];
                if (!sbytes_cstr(req->jfiles[i].name, name, sizeof name) ||
                    !journal_name_ok(name, strlen(name)))
                        return qerr_set(ei, QERR_PROTO, "bad journal file name");
                uint64_t end = (uint64_t)req->jfiles[i].end;
                snprintf(path, sizeof path, "%s/%s", dir, name);
                if (st->journal.fd >= 0 && strcmp(name, st->journal.name) == 0) {
                        /* our own file: every record stored? then close and
                         * delete it; the next certificate starts a new one */
                        if (st->journal.end != end) {
                                kept++;
                                continue;
                        }
                        signer_journal_close(st);
                        if (unlink(path) == 0)
                                removed++;
                        continue;
                }
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue; /* another signer trimmed it */
                if (flock(fd, LOCK_EX | LOCK_NB) != 0 || grew_after(fd, end)) {
                        kept++; /* a live signer writes it, or it holds more */
                        close(fd);
                        continue;
                }
                if (unlink(path) == 0)
                        removed++;
                close(fd);
        }
        if (removed)
                fs_fsync_dir(dir);
        if (removed || kept)
                qlog_info("signer journal trimmed", "removed=%zu kept=%zu", removed, kept);
        struct signer_resp ok = {.type = SMSG_OK};
        if (!signer_encode_resp(&ok, out))
                return qerr_set(ei, QERR_NOMEM, NULL);
        return QERR_OK;
}
