/*
 * fsutil.h - file helpers with the failure modes spelled out.
 *
 * Reads are bounded (outside input); writes of secrets go through a
 * temporary file created O_EXCL with the final mode, fsync'd, then renamed
 * into place, so a crash or a full disk never leaves half a key behind.
 * Errors map ENOSPC/EFBIG/EDQUOT to QERR_DISK_FULL. Any thread.
 */
#ifndef QUILL_FSUTIL_H
#define QUILL_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

/* Reads the whole file into `out` (initialised by the caller with its max).
 * QERR_IO when it cannot be opened, QERR_USAGE-class sentence when too big. */
enum qerr fs_read_file(const char *path, struct qbuf *out, struct qerr_info *ei);
/* The same, for outside input: a file over the buffer's maximum is refused
 * with `too_big` (e.g. QERR_CSR_INVALID), like any other bad input. */
enum qerr fs_read_input(const char *path, struct qbuf *out, enum qerr too_big,
                        struct qerr_info *ei);
/* Writes atomically: a temporary file with `mode`, fsync'd, renamed (or with
 * `excl` linked) into place, then the directory fsync'd, so the file and its
 * name are on disk when this returns. With `excl`, fails (QERR_IO, EEXIST)
 * if `path` exists. */
enum qerr fs_write_file(const char *path, const void *data, size_t len, mode_t mode, bool excl,
                        struct qerr_info *ei);
/* fsync of a directory (after creating or renaming an entry in it); 0 or
 * the errno. */
int fs_fsync_dir(const char *dir);
/* mkdir -p with `mode` for the directories it creates (each new one's
 * parent fsync'd). */
enum qerr fs_mkdirs(const char *path, mode_t mode, struct qerr_info *ei);
bool fs_is_dir(const char *path);
bool fs_exists(const char *path);
/* Maps an errno from a write path to a qerr. */
enum qerr fs_errno_qerr(int err);

#endif
