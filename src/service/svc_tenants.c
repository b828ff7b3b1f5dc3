/*
 * svc_tenants.c - tenants, API keys, authentication and the audit log
 * (issue 6, "Tenants, keys, roles").
 *
 * A token is "quill_<key id>_<secret>": the secret is 32 random bytes in
 * base64url (43 characters). The store keeps only SHA-256(secret); the
 * comparison is constant-time (CRYPTO_memcmp), and every failure (unknown
 * id, revoked key, wrong secret, malformed token) gives the same sentence.
 * The token is returned once, by service_key_create, and never stored or
 * logged.
 *
 * Same threading rules as service.h; records returned are the caller's.
 */
#include "service_internal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"

#define TOKEN_PREFIX "quill_"
#define SECRET_BYTES 32
#define SECRET_CHARS 43 /* base64url of 32 bytes, no padding */

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64url(const uint8_t *in, size_t n, char *out)
{
        size_t o = 0;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)in[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t)in[i + 1] << 8;
                if (i + 2 < n)
                        v |= in[i + 2];
                out[o++] = B64URL[(v >> 18) & 63];
                out[o++] = B64URL[(v >> 12) & 63];
                if (i + 1 < n)
                        out[o++] = B64URL[(v >> 6) & 63];
                if (i + 2 < n)
                        out[o++] = B64URL[v & 63];
        }
        out[o] = 0;
}

static void secret_hash(const char *secret, size_t len, uint8_t out[32])
{
        unsigned int n = 0;
        EVP_Digest(secret, len, out, &n, EVP_sha256(), NULL);
}

static enum qerr bad_token(struct qerr_info *ei)
{
        return qerr_set(ei, QERR_UNAUTHORIZED, NULL);
}

/* Splits "quill_<id>_<secret>" strictly. */
static bool parse_token(const char *t, int64_t *id, const char **secret)
{
        size_t pl = strlen(TOKEN_PREFIX);
        if (!t || strncmp(t, TOKEN_PREFIX, pl) != 0)
                return false;
        const char *p = t + pl;
        int64_t v = 0;
        int digits = 0;
        for (; *p >= '0' && *p <= '9'; p++, digits++) {
                if (digits >= 18)
                        return false;
                v = v * 10 + (*p - '0');
        }
        if (digits == 0 || *p != '_' || v <= 0)
                return false;
        p++;
        if (strlen(p) != SECRET_CHARS)
                return false;
        for (const char *q = p; *q; q++)
                if (!strchr(B64URL, *q))
                        return false;
        *id = v;
        *secret = p;
        return true;
}

static void principal_of_key(const struct apikey_rec *k, struct principal *p)
{
        memset(p, 0, sizeof *p);
        p->tenant_id = k->tenant_id;
        snprintf(p->tenant, sizeof p->tenant, "%s", k->tenant);
        p->role = k->role;
        p->all_tenants = k->role != ROLE_USER; /* reviewers see every queue, admins all */
        p->key_id = k->id;
        snprintf(p->name, sizeof p->name, "key:%lld%s%.40s", (long long)k->id,
                 k->label[0] ? ":" : "", k->label);
}

enum qerr service_authenticate(struct service *s, const char *token, struct principal *out,
                               struct qerr_info *ei)
{
        int64_t id = 0;
        const char *secret = NULL;
        if (!parse_token(token, &id, &secret))
                return bad_token(ei);
        struct apikey_rec k;
        struct qerr_info le;
        enum qerr rc = ST(s)->ops->apikey_get(ST(s), id, &k, &le);
        if (rc == QERR_NOT_FOUND)
                return bad_token(ei);
        if (rc != QERR_OK)
                return qerr_set(ei, rc, "%s", qerr_message(&le));
        uint8_t h[32];
        secret_hash(secret, strlen(secret), h);
        bool same = CRYPTO_memcmp(h, k.secret_hash, sizeof h) == 0;
        OPENSSL_cleanse(h, sizeof h);
        if (!same || k.revoked_at)
                return bad_token(ei);
        principal_of_key(&k, out);
        return QERR_OK;
}

enum qerr service_local_principal(struct service *s, const char *tenant, const char *actor,
                                  struct principal *out, struct qerr_info *ei)
{
        struct tenant_rec t;
        const char *name = tenant && *tenant ? tenant : "default";
        if (!tenant_name_valid(name))
                return qerr_set(ei, QERR_TENANT_INVALID, NULL);
        enum qerr rc = ST(s)->ops->tenant_find(ST(s), name, 0, &t, ei);
        if (rc != QERR_OK)
                return rc;
        memset(out, 0, sizeof *out);
        out->tenant_id = t.id;
        snprintf(out->tenant, sizeof out->tenant, "%s", t.name);
        out->role = ROLE_ADMIN;
        out->local = true;
        snprintf(out->name, sizeof out->name, "%s", actor ? actor : "cli");
        return QERR_OK;
}

enum qerr service_tenant_create(struct service *s, const char *name, struct tenant_rec *out,
                                struct qerr_info *ei)
{
        enum qerr rc = svc_require(s, SVC_ADMIN, "create tenants", ei);
        if (rc != QERR_OK)
                return rc;
        if (!tenant_name_valid(name))
                return qerr_set(ei, QERR_TENANT_INVALID, NULL);
        struct tenant_rec t = {.created_at = qtime_now()};
        snprintf(t.name, sizeof t.name, "%s", name);
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                return rc;
        rc = ST(s)->ops->tenant_insert(ST(s), &t, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, t.id, "tenant", t.id, NULL, "created", "tenant %s", t.name);
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
        if (rc == QERR_OK && out)
                *out = t;
        return rc;
}

enum qerr service_tenant_list(struct service *s, struct tenant_rec **out, size_t *n,
                              struct qerr_info *ei)
{
        enum qerr rc = svc_require(s, SVC_ADMIN, "list tenants", ei);
        if (rc != QERR_OK)
                return rc;
        return ST(s)->ops->tenant_list(ST(s), out, n, ei);
}

enum qerr service_key_create(struct service *s, const char *tenant, enum role role,
                             const char *label, struct apikey_rec *out, char token[QUILL_TOKEN_MAX],
                             struct qerr_info *ei)
{
        enum qerr rc = svc_require(s, SVC_ADMIN, "create API keys", ei);
        if (rc != QERR_OK)
                return rc;
        if ((unsigned)role >= ROLE__COUNT)
                return qerr_set(ei, QERR_USAGE, "the role must be user, reviewer or admin");
        if (label && strlen(label) > 100)
                return qerr_set(ei, QERR_USAGE, "the label is longer than 100 characters");
        for (const char *p = label; p && *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return qerr_set(ei, QERR_USAGE, "the label holds a control character");
        struct tenant_rec t;
        if (tenant) {
                if (!tenant_name_valid(tenant))
                        return qerr_set(ei, QERR_TENANT_INVALID, NULL);
                if ((rc = ST(s)->ops->tenant_find(ST(s), tenant, 0, &t, ei)) != QERR_OK)
                        return rc;
        } else {
                t.id = s->who.tenant_id;
                snprintf(t.name, sizeof t.name, "%s", s->who.tenant);
        }
        uint8_t raw[SECRET_BYTES];
        char secret[SECRET_CHARS + 1];
        if (RAND_bytes(raw, sizeof raw) != 1)
                return qerr_set(ei, QERR_INTERNAL, "no randomness for a key");
        b64url(raw, sizeof raw, secret);
        OPENSSL_cleanse(raw, sizeof raw);
        struct apikey_rec k;
        memset(&k, 0, sizeof k);
        k.tenant_id = t.id;
        snprintf(k.tenant, sizeof k.tenant, "%s", t.name);
        k.role = role;
        snprintf(k.label, sizeof k.label, "%s", label ? label : "");
        secret_hash(secret, SECRET_CHARS, k.secret_hash);
        k.created_at = qtime_now();
        snprintf(k.created_by, sizeof k.created_by, "%s", s->who.name);
        if ((rc = ST(s)->ops->begin(ST(s), ei)) == QERR_OK) {
                rc = ST(s)->ops->apikey_insert(ST(s), &k, ei);
                if (rc == QERR_OK)
                        rc = svc_event(s, t.id, "api_key", k.id, NULL, "created", "%s key%s%s",
                                       role_name(role), k.label[0] ? " " : "", k.label);
                if (rc == QERR_OK)
                        rc = svc_commit(s, ei);
                else
                        svc_abort(s, rc);
        }
        if (rc == QERR_OK) {
                snprintf(token, QUILL_TOKEN_MAX, TOKEN_PREFIX "%lld_%s", (long long)k.id, secret);
                if (out)
                        *out = k;
        }
        OPENSSL_cleanse(secret, sizeof secret);
        return rc;
}

enum qerr service_key_list(struct service *s, const char *tenant, struct apikey_rec **out,
                           size_t *n, struct qerr_info *ei)
{
        enum qerr rc = svc_require(s, SVC_ADMIN, "list API keys", ei);
        if (rc != QERR_OK)
                return rc;
        int64_t tid = 0;
        if (tenant) {
                struct tenant_rec t;
                if (!tenant_name_valid(tenant))
                        return qerr_set(ei, QERR_TENANT_INVALID, NULL);
                if ((rc = ST(s)->ops->tenant_find(ST(s), tenant, 0, &t, ei)) != QERR_OK)
                        return rc;
                tid = t.id;
        }
        return ST(s)->ops->apikey_list(ST(s), tid, out, n, ei);
}

enum qerr service_key_revoke(struct service *s, int64_t id, struct apikey_rec *out,
                             struct qerr_info *ei)
{
        enum qerr rc = svc_require(s, SVC_ADMIN, "revoke API keys", ei);
        if (rc != QERR_OK)
                return rc;
        struct apikey_rec k;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                return rc;
        rc = ST(s)->ops->apikey_get(ST(s), id, &k, ei);
        if (rc == QERR_OK && k.revoked_at)
                rc = qerr_set(ei, QERR_NOT_FOUND, "API key %lld is already revoked", (long long)id);
        if (rc == QERR_OK) {
                k.revoked_at = qtime_now();
                rc = ST(s)->ops->apikey_revoke(ST(s), id, k.revoked_at, ei);
        }
        if (rc == QERR_OK)
                rc = svc_event(s, k.tenant_id, "api_key", id, "created", "revoked", "%s key%s%s",
                               role_name(k.role), k.label[0] ? " " : "", k.label);
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
        if (rc == QERR_OK && out)
                *out = k;
        return rc;
}

enum qerr service_event_list(struct service *s, const struct event_query *q, struct event_rec **out,
                             size_t *n, bool *more, struct qerr_info *ei)
{
        struct event_query mine = *q;
        /* the audit log is the tenant's own; only admins read every tenant's */
        mine.tenant =
            s->who.role == ROLE_ADMIN && s->who.all_tenants ? q->tenant : s->who.tenant_id;
        return ST(s)->ops->event_page(ST(s), &mine, out, n, more, ei);
}
