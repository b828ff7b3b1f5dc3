/*
 * model_acme.h - the ACME objects (issue 8, migration 011) as plain C
 * structs: accounts, external account binding keys, authorizations and
 * orders. Values passed between the store and the service; a record
 * returned by a store or service function is the caller's and is released
 * with its *_clear function (which accepts a zeroed record). Any thread.
 */
#ifndef QUILL_MODEL_ACME_H
#define QUILL_MODEL_ACME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "qtime.h"

#define ACME_KID_MAX 64
#define ACME_MAX_CONTACTS 10
#define ACME_CONTACT_MAX 254

struct acme_account_rec {
        int64_t id;
        int64_t tenant_id;
        char tenant[QUILL_TENANT_MAX + 1];
        char *jwk; /* canonical RFC 7638 JWK text */
        char thumbprint[44];
        char status[16]; /* valid, deactivated, revoked */
        char *contact;   /* one URI per line, "" when none */
        char eab_kid[ACME_KID_MAX + 1];
        qtime_t created_at, updated_at;
};

struct eab_rec {
        char kid[ACME_KID_MAX + 1];
        int64_t tenant_id;
        char tenant[QUILL_TENANT_MAX + 1];
        uint8_t *hmac_blob; /* sealed under the data key */
        size_t hmac_len;
        char label[128];
        int max_accounts, accounts;
        qtime_t expires_at; /* 0: never */
        qtime_t created_at;
        char created_by[64];
        qtime_t revoked_at; /* 0 while usable */
};

struct acme_authz_rec {
        int64_t id;
        int64_t account_id;
        int64_t tenant_id;
        char name[QUILL_MAX_NAME_LEN + 1]; /* without "*." */
        bool wildcard;
        char status[16]; /* pending, valid, invalid, deactivated, expired, revoked */
        char token[48];
        char challenge[16];    /* http-01, dns-01; "" until the client chose */
        char chall_status[16]; /* pending, processing, valid, invalid */
        char account_uri[256]; /* the account URL, for CAA accounturi (RFC 8657) */
        qtime_t expires_at, validated_at, caa_checked_at, next_try_at;
        int tries;
        char error_code[40]; /* "" when none */
        char *error_detail;
        qtime_t created_at, updated_at;
};

#define ACME_MAX_AUTHZ QUILL_MAX_NAMES
struct acme_order_rec {
        int64_t id;
        int64_t account_id;
        int64_t tenant_id;
        char status[16]; /* stored: pending, processing, invalid */
        char **names;    /* "*.x" for wildcards */
        size_t nnames;
        int64_t authz[ACME_MAX_AUTHZ];
        size_t nauthz;
        char profile[32];
        char replaces[160];
        qtime_t expires_at, created_at;
        int64_t order_id; /* the service order made at finalize, 0 before */
        char error_code[40];
        char *error_detail;
};

void acme_account_clear(struct acme_account_rec *a);
void eab_rec_clear(struct eab_rec *e);
void acme_authz_clear(struct acme_authz_rec *z);
void acme_order_clear(struct acme_order_rec *o);

#endif
