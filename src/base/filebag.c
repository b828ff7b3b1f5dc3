/*
 * filebag.c - see filebag.h.
 */
#include "filebag.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool filebag_add(struct filebag *b, const char *name, const void *data, size_t len, bool secret)
{
        if (b->n >= FILEBAG_MAX || strlen(name) >= sizeof b->f[0].name)
                return false;
        struct filebag_file *f = &b->f[b->n];
        if (!(f->data = malloc(len ? len : 1)))
                return false;
        if (len)
                memcpy(f->data, data, len);
        f->len = len;
        f->secret = secret;
        snprintf(f->name, sizeof f->name, "%s", name);
        b->n++;
        return true;
}

const struct filebag_file *filebag_find(const struct filebag *b, const char *name)
{
        for (int i = 0; i < b->n; i++)
                if (strcmp(b->f[i].name, name) == 0)
                        return &b->f[i];
        return NULL;
}

void filebag_free(struct filebag *b)
{
        if (!b)
                return;
        for (int i = 0; i < b->n; i++) {
                if (b->f[i].secret && b->f[i].data)
                        OPENSSL_cleanse(b->f[i].data, b->f[i].len);
                free(b->f[i].data);
                b->f[i].data = NULL;
        }
        b->n = 0;
}
