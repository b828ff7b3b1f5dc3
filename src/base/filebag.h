/*
 * filebag.h - a few named files held in memory (a download bundle before it
 * is sent: the REST API zips it or sends its one file).
 *
 * The bag owns every `data` buffer; filebag_free() wipes those marked
 * secret (private keys) before freeing them and empties the bag. A bag is
 * a plain value: one thread at a time.
 */
#ifndef QUILL_FILEBAG_H
#define QUILL_FILEBAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FILEBAG_MAX 8

struct filebag_file {
        char name[300];
        uint8_t *data;
        size_t len;
        bool secret; /* holds a private key */
};

struct filebag {
        struct filebag_file f[FILEBAG_MAX];
        int n;
};

/* Adds a copy of `data` under `name`; false when full or out of memory. */
bool filebag_add(struct filebag *b, const char *name, const void *data, size_t len, bool secret);
/* The file named `name`, or NULL. */
const struct filebag_file *filebag_find(const struct filebag *b, const char *name);
void filebag_free(struct filebag *b);

#endif
