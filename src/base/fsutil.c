/*
 * fsutil.c - see fsutil.h.
 */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum qerr fs_errno_qerr(int err)
{
        if (err == ENOSPC || err == EFBIG || err == EDQUOT)
                return QERR_DISK_FULL;
        return QERR_IO;
}

enum qerr fs_read_file(const char *path, struct qbuf *out, struct qerr_info *ei)
{
        return fs_read_input(path, out, QERR_USAGE, ei);
}

enum qerr fs_read_input(const char *path, struct qbuf *out, enum qerr too_big, struct qerr_info *ei)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return qerr_set(ei, QERR_IO, "cannot open %s: %s", path, strerror(errno));
        enum qerr rc = QERR_OK;
        uint8_t chunk[8192];
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof chunk);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        rc = qerr_set(ei, QERR_IO, "cannot read %s: %s", path, strerror(errno));
                        break;
                }
                if (n == 0)
                        break;
                if (!qbuf_append(out, chunk, (size_t)n)) {
                        rc = qerr_set(ei, too_big, "%s is larger than the %zu bytes allowed", path,
                                      out->max);
                        break;
                }
        }
        close(fd);
        return rc;
}

static enum qerr write_all(int fd, const uint8_t *p, size_t len)
{
        while (len) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return fs_errno_qerr(errno);
                }
                p += n;
                len -= (size_t)n;
        }
        return QERR_OK;
}

/* fsync of the directory that holds `path` (its parent), so that a new
 * name in it survives a crash. */
static int fsync_parent(const char *path)
{
        char dir[PATH_MAX];
        if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
                return ENAMETOOLONG;
        char *slash = strrchr(dir, '/');
        if (!slash)
                snprintf(dir, sizeof dir, ".");
        else if (slash == dir)
                dir[1] = 0;
        else
                *slash = 0;
        return fs_fsync_dir(dir);
}

int fs_fsync_dir(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno;
        int e = 0;
        /* EINVAL: a file system that cannot sync directories (nothing to do) */
        if (fsync(fd) != 0 && errno != EINVAL)
                e = errno;
        close(fd);
        return e;
}

enum qerr fs_write_file(const char *path, const void *data, size_t len, mode_t mode, bool excl,
                        struct qerr_info *ei)
{
        char tmp[PATH_MAX];
        if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
                return qerr_set(ei, QERR_IO, "path too long: %s", path);
        if (excl && access(path, F_OK) == 0)
                return qerr_set(ei, QERR_IO, "%s already exists; refusing to overwrite it", path);
        /* mkostemp: a unique name per call (threads, stale files) */
        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return qerr_set(ei, fs_errno_qerr(errno), "cannot create a file next to %s: %s",
                                path, strerror(errno));
        if (fchmod(fd, mode) != 0) {
                int e = errno;
                close(fd);
                unlink(tmp);
                return qerr_set(ei, QERR_IO, "cannot set the mode of %s: %s", path, strerror(e));
        }
        enum qerr rc = write_all(fd, data, len);
        int saved = errno;
        if (rc == QERR_OK && fsync(fd) != 0) {
                saved = errno;
                rc = fs_errno_qerr(saved);
        }
        if (close(fd) != 0 && rc == QERR_OK) {
                saved = errno;
                rc = fs_errno_qerr(saved);
        }
        if (rc != QERR_OK) {
                unlink(tmp);
                return qerr_set(ei, rc, "cannot write %s: %s", path, strerror(saved));
        }
        if (excl) {
                /* link(2) fails with EEXIST if another process won the race. */
                if (link(tmp, path) != 0) {
                        saved = errno;
                        unlink(tmp);
                        return qerr_set(ei, saved == EEXIST ? QERR_IO : fs_errno_qerr(saved),
                                        "cannot create %s: %s", path, strerror(saved));
                }
                unlink(tmp);
        } else if (rename(tmp, path) != 0) {
                saved = errno;
                unlink(tmp);
                return qerr_set(ei, fs_errno_qerr(saved), "cannot rename into %s: %s", path,
                                strerror(saved));
        }
        /* the new name is durable before whoever names it (a database row)
         * commits */
        if ((saved = fsync_parent(path)) != 0)
                return qerr_set(ei, fs_errno_qerr(saved), "cannot sync the directory of %s: %s",
                                path, strerror(saved));
        return QERR_OK;
}

enum qerr fs_mkdirs(const char *path, mode_t mode, struct qerr_info *ei)
{
        char tmp[PATH_MAX];
        size_t n = strlen(path);
        if (n == 0 || n >= sizeof tmp)
                return qerr_set(ei, QERR_IO, "bad directory path");
        memcpy(tmp, path, n + 1);
        for (char *p = tmp + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(tmp, mode) == 0)
                        fsync_parent(tmp);
                else if (errno != EEXIST)
                        return qerr_set(ei, fs_errno_qerr(errno), "cannot create %s: %s", tmp,
                                        strerror(errno));
                *p = '/';
        }
        if (mkdir(tmp, mode) == 0) {
                int e = fsync_parent(tmp);
                if (e != 0)
                        return qerr_set(ei, fs_errno_qerr(e), "cannot sync the parent of %s: %s",
                                        tmp, strerror(e));
        } else if (errno != EEXIST) {
                return qerr_set(ei, fs_errno_qerr(errno), "cannot create %s: %s", tmp,
                                strerror(errno));
        }
        return QERR_OK;
}

bool fs_is_dir(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool fs_exists(const char *path)
{
        return access(path, F_OK) == 0;
}
