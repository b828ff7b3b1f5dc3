/*
 * model.c - name tables and destructors for model.h.
 */
#include "model.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[CERT_STATUS__COUNT] = {
    "issued", "reissuing", "revocation_pending", "revoked", "deleted", "expired",
};

static const char *const profile_names[PROFILE__COUNT] = {"private", "dv", "ov", "ev"};

void cert_rec_free(struct cert_rec *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->nnames; i++)
                free(c->names[i]);
        free(c->names);
        free(c->issuer);
        free(c->cert_pem);
        free(c->chain_pem);
        free(c->csr_pem);
        if (c->key_blob) {
                OPENSSL_cleanse(c->key_blob, c->key_blob_len);
                free(c->key_blob);
        }
        free(c);
}

void ca_rec_free(struct ca_rec *c)
{
        if (!c)
                return;
        free(c->subject);
        free(c->cert_pem);
        free(c->key_file);
        free(c);
}

void event_rec_clear(struct event_rec *e)
{
        if (e) {
                free(e->reason);
                e->reason = NULL;
        }
}

const char *cert_status_name(enum cert_status s)
{
        return (unsigned)s < CERT_STATUS__COUNT ? status_names[s] : "unknown";
}

bool cert_status_from_name(const char *s, enum cert_status *out)
{
        for (int i = 0; i < CERT_STATUS__COUNT; i++)
                if (strcmp(s, status_names[i]) == 0) {
                        *out = (enum cert_status)i;
                        return true;
                }
        return false;
}

enum cert_status cert_effective_status(const struct cert_rec *c, qtime_t now)
{
        if ((c->status == CERT_ISSUED || c->status == CERT_REISSUING) && c->not_after < now)
                return CERT_EXPIRED;
        return c->status;
}

const char *cert_profile_name(enum cert_profile p)
{
        return (unsigned)p < PROFILE__COUNT ? profile_names[p] : "unknown";
}

bool cert_profile_from_name(const char *s, enum cert_profile *out)
{
        for (int i = 0; i < PROFILE__COUNT; i++)
                if (strcmp(s, profile_names[i]) == 0) {
                        *out = (enum cert_profile)i;
                        return true;
                }
        return false;
}

bool cert_profile_is_public(enum cert_profile p)
{
        return p != PROFILE_PRIVATE;
}

const char *cert_origin_name(enum cert_origin o)
{
        return o == ORIGIN_UPLOADED ? "uploaded" : "issued";
}

static const struct {
        int code;
        const char *name;
} reasons[] = {
    {REASON_UNSPECIFIED, "unspecified"},
    {REASON_KEY_COMPROMISE, "keyCompromise"},
    {REASON_AFFILIATION_CHANGED, "affiliationChanged"},
    {REASON_SUPERSEDED, "superseded"},
    {REASON_CESSATION, "cessationOfOperation"},
    {REASON_PRIVILEGE_WITHDRAWN, "privilegeWithdrawn"},
};

const char *revoke_reason_name(int reason)
{
        for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
                if (reasons[i].code == reason)
                        return reasons[i].name;
        return "unknown";
}

bool revoke_reason_from_name(const char *s, int *out)
{
        for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
                if (strcmp(reasons[i].name, s) == 0) {
                        *out = reasons[i].code;
                        return true;
                }
        return false;
}

static const char *const order_status_names[ORDER_STATUS__COUNT] = {
    "pending_validation", "validating", "manual_review", "issuing", "issued", "failed", "cancelled",
};

const char *order_status_name(enum order_status s)
{
        return (unsigned)s < ORDER_STATUS__COUNT ? order_status_names[s] : "unknown";
}

bool order_status_from_name(const char *s, enum order_status *out)
{
        for (int i = 0; i < ORDER_STATUS__COUNT; i++)
                if (strcmp(s, order_status_names[i]) == 0) {
                        *out = (enum order_status)i;
                        return true;
                }
        return false;
}

void order_rec_free(struct order_rec *o)
{
        if (!o)
                return;
        for (size_t i = 0; i < o->nnames; i++) {
                free(o->names[i].caa_detail);
                free(o->names[i].failure_message);
        }
        free(o->names);
        free(o->csr_pem);
        if (o->key_blob) {
                OPENSSL_cleanse(o->key_blob, o->key_blob_len);
                free(o->key_blob);
        }
        free(o->org_info);
        free(o->failure_message);
        free(o);
}

void review_rec_clear(struct review_rec *r)
{
        if (r) {
                free(r->detail);
                free(r->reason);
                r->detail = r->reason = NULL;
        }
}

const char *role_name(enum role r)
{
        static const char *const names[ROLE__COUNT] = {"user", "reviewer", "admin"};
        return (unsigned)r < ROLE__COUNT ? names[r] : "unknown";
}

bool role_from_name(const char *s, enum role *out)
{
        for (int i = 0; s && i < ROLE__COUNT; i++)
                if (strcmp(s, role_name((enum role)i)) == 0) {
                        *out = (enum role)i;
                        return true;
                }
        return false;
}

bool tenant_name_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;
        if (n < 1 || n > QUILL_TENANT_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
                if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.')))
                        return false;
        }
        return true;
}

void webhook_rec_clear(struct webhook_rec *w)
{
        if (!w)
                return;
        free(w->url);
        if (w->secret_blob) {
                OPENSSL_cleanse(w->secret_blob, w->secret_len);
                free(w->secret_blob);
        }
        w->url = NULL;
        w->secret_blob = NULL;
        w->secret_len = 0;
}

void delivery_rec_clear(struct delivery_rec *d)
{
        if (!d)
                return;
        free(d->recipients);
        free(d->subject);
        free(d->body);
        free(d->last_error);
        free(d->tries);
        d->recipients = d->subject = d->last_error = NULL;
        d->body = NULL;
        d->tries = NULL;
        d->body_len = d->ntries = 0;
}
