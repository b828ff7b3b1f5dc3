/*
 * zip.h - a minimal ZIP writer: the files of a filebag as one archive of
 * stored (uncompressed) entries, which every unzip tool reads. Used by the
 * REST API for the nginx and apache download bundles (a few KiB of PEM, so
 * compression would buy nothing).
 *
 * zip_of_bag() appends the whole archive to a caller-owned qbuf; false when
 * it does not fit (or a name is longer than 255 bytes). Entries carry a
 * fixed timestamp (1980-01-01) so the same bag always gives the same bytes
 * (stable ETags). No state; any thread.
 */
#ifndef QUILL_ZIP_H
#define QUILL_ZIP_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "filebag.h"

uint32_t zip_crc32(const uint8_t *p, size_t n);
bool zip_of_bag(const struct filebag *bag, struct qbuf *out);

#endif
