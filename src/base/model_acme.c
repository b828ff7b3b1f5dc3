/*
 * model_acme.c - see model_acme.h.
 */
#include "model_acme.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

void acme_account_clear(struct acme_account_rec *a)
{
        if (!a)
                return;
        free(a->jwk);
        free(a->contact);
        memset(a, 0, sizeof *a);
}

void eab_rec_clear(struct eab_rec *e)
{
        if (!e)
                return;
        if (e->hmac_blob)
                mem_wipe(e->hmac_blob, e->hmac_len);
        free(e->hmac_blob);
        memset(e, 0, sizeof *e);
}

void acme_authz_clear(struct acme_authz_rec *z)
{
        if (!z)
                return;
        free(z->error_detail);
        memset(z, 0, sizeof *z);
}

void acme_order_clear(struct acme_order_rec *o)
{
        if (!o)
                return;
        for (size_t i = 0; i < o->nnames; i++)
                free(o->names[i]);
        free(o->names);
        free(o->error_detail);
        memset(o, 0, sizeof *o);
}
