/*
 * svc_acme.c - ACME accounts (service_acme.h): authentication of kid
 * requests with a per-handle cache of parsed keys, newAccount with external
 * account binding, account update, deactivation and keyChange, and the EAB
 * keys of the CLI. Orders and authorizations are in svc_acme_order.c, the
 * workers' validation in svc_acme_val.c.
 *
 * The cache: parsed keys (struct jws_key) of this handle, in a small
 * direct-mapped table keyed by thumbprint. The account row is read on
 * every request (one indexed SELECT), so a deactivation or a key change
 * made by another thread or node is seen at once; only the parsing of the
 * key (the costly part) is saved.
 */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/b64.h"
#include "../base/email.h"
#include "../base/log.h"
#include "../pki/pki_seal.h"
#include "service_acme.h"
#include "service_internal.h"

#define CACHE_SLOTS 64

struct acme_cache {
        struct {
                char tp[JWS_THUMBPRINT_LEN + 1];
                struct jws_key *key;
        } slot[CACHE_SLOTS];
};

void svc_acme_cache_free(void *cache)
{
        struct acme_cache *c = cache;
        if (!c)
                return;
        for (size_t i = 0; i < CACHE_SLOTS; i++)
                jws_key_free(c->slot[i].key);
        free(c);
}

static size_t tp_hash(const char *tp)
{
        size_t h = 5381;
        for (const char *p = tp; *p; p++)
                h = h * 33 + (unsigned char)*p;
        return h % CACHE_SLOTS;
}

/* The parsed key of an account (borrowed from the cache). */
static enum qerr account_key(struct service *s, const struct acme_account_rec *a,
                             const struct jws_key **out, struct qerr_info *ei)
{
        struct acme_cache *c = s->acme_cache;
        if (!c && !(c = s->acme_cache = calloc(1, sizeof *c)))
                return qerr_set(ei, QERR_NOMEM, NULL);
        size_t h = tp_hash(a->thumbprint);
        if (c->slot[h].key && !strcmp(c->slot[h].tp, a->thumbprint)) {
                *out = c->slot[h].key;
                return QERR_OK;
        }
        struct jws_key *k = NULL;
        enum qerr rc = jws_key_from_text(a->jwk, strlen(a->jwk), &k, ei);
        if (rc != QERR_OK)
                return qerr_set(ei, QERR_INTERNAL, "stored key of ACME account %lld unreadable",
                                (long long)a->id);
        jws_key_free(c->slot[h].key);
        c->slot[h].key = k;
        snprintf(c->slot[h].tp, sizeof c->slot[h].tp, "%s", a->thumbprint);
        *out = k;
        return QERR_OK;
}

static void act_as(struct service *s, const struct acme_account_rec *a)
{
        struct principal p = {.tenant_id = a->tenant_id, .role = ROLE_USER};
        snprintf(p.tenant, sizeof p.tenant, "%s", a->tenant);
        snprintf(p.name, sizeof p.name, "acme:%lld", (long long)a->id);
        service_set_principal(s, &p);
}

enum qerr service_acme_auth(struct service *s, int64_t id, const struct jws *j,
                            struct acme_account_rec *out, struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        enum qerr rc = ST(s)->ops->acme_account_get(ST(s), id, out, ei);
        if (rc == QERR_NOT_FOUND)
                return qerr_set(ei, QERR_ACME_ACCOUNT_MISSING, NULL);
        if (rc != QERR_OK)
                return rc;
        const struct jws_key *k = NULL;
        if ((rc = account_key(s, out, &k, ei)) == QERR_OK)
                rc = jws_verify(j, k, ei);
        if (rc == QERR_OK && strcmp(out->status, "valid"))
                rc = qerr_set(ei, QERR_ACME_ACCOUNT_INACTIVE, NULL);
        if (rc != QERR_OK) {
                acme_account_clear(out);
                return rc;
        }
        act_as(s, out);
        return QERR_OK;
}

/* ---- contacts ---- */

static enum qerr contacts_text(const char *const *c, size_t n, char **out, struct qerr_info *ei)
{
        *out = NULL;
        if (n > ACME_MAX_CONTACTS)
                return qerr_set(ei, QERR_CONTACT_INVALID, "give at most %d contacts",
                                ACME_MAX_CONTACTS);
        struct qbuf b;
        qbuf_init(&b, ACME_MAX_CONTACTS * (ACME_CONTACT_MAX + 8));
        for (size_t i = 0; i < n; i++) {
                if (strncmp(c[i], "mailto:", 7) || !email_addr_valid(c[i] + 7) ||
                    strchr(c[i], '?') || strchr(c[i], ',')) {
                        qbuf_free(&b);
                        return qerr_set(ei, QERR_CONTACT_INVALID,
                                        "contact %zu is not a mailto: URI of one plain address "
                                        "(RFC 8555 7.3)",
                                        i + 1);
                }
                if ((i && !qbuf_append_str(&b, "\n")) || !qbuf_append_str(&b, c[i])) {
                        qbuf_free(&b);
                        return qerr_set(ei, QERR_NOMEM, NULL);
                }
        }
        *out = strdup(qbuf_str(&b));
        qbuf_free(&b);
        return *out ? QERR_OK : qerr_set(ei, QERR_NOMEM, NULL);
}

/* ---- newAccount ---- */

/* The tenant of accounts without EAB, created on first use (inside the
 * caller's transaction). */
static enum qerr acme_tenant(struct service *s, struct tenant_rec *t, struct qerr_info *ei)
{
        const char *name =
            s->cfg->acme_tenant && *s->cfg->acme_tenant ? s->cfg->acme_tenant : "acme";
        enum qerr rc = ST(s)->ops->tenant_find(ST(s), name, 0, t, ei);
        if (rc != QERR_NOT_FOUND && rc != QERR_TENANT_UNKNOWN)
                return rc;
        qerr_clear(ei);
        if (!tenant_name_valid(name))
                return qerr_set(ei, QERR_CONFIG, "[acme] tenant is not a valid tenant name");
        memset(t, 0, sizeof *t);
        t->created_at = qtime_now();
        snprintf(t->name, sizeof t->name, "%s", name);
        rc = ST(s)->ops->tenant_insert(ST(s), t, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, t->id, "tenant", t->id, NULL, "created",
                               "tenant %s for ACME accounts", t->name);
        return rc;
}

/* Checks the EAB (RFC 8555 7.3.4): its kid is a usable key, its MAC holds,
 * its payload is the account key, its url the request's. Fills *eab. */
static enum qerr check_eab(struct service *s, const struct acme_new_account_req *r,
                           const struct jws_key *acct_key, struct eab_rec *eab,
                           struct qerr_info *ei)
{
        const struct jws *e = r->eab;
        if (strcmp(e->url, r->jws->url))
                return qerr_set(ei, QERR_ACME_EAB_INVALID,
                                "the external account binding's url is not the newAccount URL");
        enum qerr rc = ST(s)->ops->eab_get(ST(s), e->kid, eab, ei);
        if (rc == QERR_NOT_FOUND)
                return qerr_set(ei, QERR_ACME_EAB_INVALID, NULL);
        if (rc != QERR_OK)
                return rc;
        const uint8_t *dk = NULL;
        struct qbuf key;
        qbuf_init(&key, 256);
        char aad[96];
        snprintf(aad, sizeof aad, "quill-eab:%s", eab->kid);
        if ((rc = svc_data_key(s, &dk, ei)) == QERR_OK)
                rc = pki_unseal(dk, aad, eab->hmac_blob, eab->hmac_len, &key, ei);
        if (rc == QERR_OK)
                rc = jws_verify_hmac(e, key.data, key.len, ei);
        qbuf_free(&key);
        if (rc != QERR_OK)
                return rc;
        struct jws_key *bound = NULL;
        if (jws_key_from_text((const char *)e->payload, e->payload_len, &bound, NULL) != QERR_OK ||
            !jws_key_equal(bound, acct_key))
                rc = qerr_set(ei, QERR_ACME_EAB_INVALID,
                              "the external account binding binds another key than the "
                              "account's");
        jws_key_free(bound);
        return rc;
}

enum qerr service_acme_account_new(struct service *s, const struct acme_new_account_req *r,
                                   struct acme_account_rec *out, bool *created,
                                   struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        *created = false;
        struct jws_key *k = NULL;
        struct eab_rec eab;
        memset(&eab, 0, sizeof eab);
        struct qbuf canon;
        qbuf_init(&canon, 8192);
        char tp[JWS_THUMBPRINT_LEN + 1], spki[65];
        char *contact = NULL;
        enum qerr rc = jws_key_from_jwk(r->jws->jwk, &k, ei);
        if (rc == QERR_OK)
                rc = jws_verify(r->jws, k, ei);
        if (rc == QERR_OK)
                rc = jws_key_thumbprint(k, tp, ei);
        if (rc != QERR_OK)
                goto out;
        /* an existing account is returned whatever the rest says */
        rc = ST(s)->ops->acme_account_by_thumbprint(ST(s), tp, out, ei);
        if (rc == QERR_OK)
                goto out;
        if (rc != QERR_NOT_FOUND)
                goto out;
        qerr_clear(ei);
        if (r->only_existing) {
                rc = qerr_set(ei, QERR_ACME_ACCOUNT_MISSING, NULL);
                goto out;
        }
        if (s->cfg->acme_terms_url && *s->cfg->acme_terms_url && !r->tos_agreed) {
                rc = qerr_set(ei, QERR_MALFORMED,
                              "the terms of service (%s) must be agreed to "
                              "(termsOfServiceAgreed: true)",
                              s->cfg->acme_terms_url);
                goto out;
        }
        if (!r->eab && s->cfg->acme_eab_required) {
                rc = qerr_set(ei, QERR_ACME_EAB_REQUIRED, NULL);
                goto out;
        }
        /* a key reported compromised cannot be an account key either */
        if ((rc = jws_key_spki_sha256(k, spki, ei)) == QERR_OK &&
            (rc = svc_key_blocked(s, spki, ei)) == QERR_KEY_BLOCKED)
                rc = qerr_set(ei, QERR_ACME_PUBLIC_KEY,
                              "this key was reported compromised; make a new account key");
        if (rc == QERR_OK)
                rc = contacts_text(r->contacts, r->ncontacts, &contact, ei);
        if (rc == QERR_OK && r->eab)
                rc = check_eab(s, r, k, &eab, ei);
        if (rc == QERR_OK)
                rc = jws_key_canonical(k, &canon, ei);
        if (rc != QERR_OK)
                goto out;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                goto out;
        struct tenant_rec t;
        if (r->eab) {
                /* counts against the key atomically: used up, expired or
                 * revoked meanwhile is refused here */
                rc = ST(s)->ops->eab_take(ST(s), eab.kid, qtime_now(), ei);
                t.id = eab.tenant_id;
                snprintf(t.name, sizeof t.name, "%s", eab.tenant);
        } else {
                rc = acme_tenant(s, &t, ei);
        }
        out->tenant_id = t.id;
        snprintf(out->tenant, sizeof out->tenant, "%s", t.name);
        out->jwk = strdup(qbuf_str(&canon));
        out->contact = contact;
        contact = NULL;
        snprintf(out->thumbprint, sizeof out->thumbprint, "%s", tp);
        snprintf(out->status, sizeof out->status, "valid");
        snprintf(out->eab_kid, sizeof out->eab_kid, "%s", r->eab ? eab.kid : "");
        out->created_at = out->updated_at = qtime_now();
        if (rc == QERR_OK && !out->jwk)
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        if (rc == QERR_OK)
                rc = ST(s)->ops->acme_account_insert(ST(s), out, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, t.id, "acme_account", out->id, NULL, "valid",
                               "ACME account created%s%s", r->eab ? " with EAB key " : "",
                               r->eab ? eab.kid : "");
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
        if (rc == QERR_OK)
                *created = true;
out:
        if (rc == QERR_OK)
                act_as(s, out);
        else
                acme_account_clear(out);
        free(contact);
        eab_rec_clear(&eab);
        qbuf_free(&canon);
        jws_key_free(k);
        return rc;
}

enum qerr service_acme_account_update(struct service *s, struct acme_account_rec *a,
                                      bool set_contacts, const char *const *contacts, size_t n,
                                      bool deactivate, struct qerr_info *ei)
{
        char *contact = NULL;
        enum qerr rc = QERR_OK;
        if (set_contacts && (rc = contacts_text(contacts, n, &contact, ei)) != QERR_OK)
                return rc;
        if (!set_contacts && !deactivate)
                return QERR_OK;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK) {
                free(contact);
                return rc;
        }
        if (set_contacts) {
                free(a->contact);
                a->contact = contact;
        }
        const char *from = deactivate ? "valid" : NULL;
        if (deactivate)
                snprintf(a->status, sizeof a->status, "deactivated");
        a->updated_at = qtime_now();
        rc = ST(s)->ops->acme_account_update(ST(s), a, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, a->tenant_id, "acme_account", a->id, from, a->status, "%s",
                               deactivate ? "deactivated by its holder" : "contacts changed");
        if (rc == QERR_OK)
                return svc_commit(s, ei);
        return svc_abort(s, rc);
}

enum qerr service_acme_key_change(struct service *s, struct acme_account_rec *a,
                                  const struct jws *inner, json_t *old_jwk, int64_t *other,
                                  struct qerr_info *ei)
{
        *other = 0;
        struct jws_key *nk = NULL, *ok = NULL;
        const struct jws_key *cur = NULL;
        struct qbuf canon;
        qbuf_init(&canon, 8192);
        char tp[JWS_THUMBPRINT_LEN + 1], spki[65];
        struct acme_account_rec taken;
        memset(&taken, 0, sizeof taken);
        enum qerr rc = jws_key_from_jwk(inner->jwk, &nk, ei);
        if (rc == QERR_OK)
                rc = jws_verify(inner, nk, ei);
        if (rc == QERR_OK && (rc = jws_key_from_jwk(old_jwk, &ok, ei)) == QERR_OK &&
            (rc = account_key(s, a, &cur, ei)) == QERR_OK && !jws_key_equal(ok, cur))
                rc =
                    qerr_set(ei, QERR_ACME_UNAUTHORIZED, "oldKey is not the account's current key");
        if (rc == QERR_OK)
                rc = jws_key_thumbprint(nk, tp, ei);
        if (rc == QERR_OK && (rc = jws_key_spki_sha256(nk, spki, ei)) == QERR_OK &&
            (rc = svc_key_blocked(s, spki, ei)) == QERR_KEY_BLOCKED)
                rc = qerr_set(ei, QERR_ACME_PUBLIC_KEY, "the new key was reported compromised");
        if (rc == QERR_OK)
                rc = jws_key_canonical(nk, &canon, ei);
        if (rc != QERR_OK)
                goto out;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                goto out;
        rc = ST(s)->ops->acme_account_by_thumbprint(ST(s), tp, &taken, ei);
        if (rc == QERR_OK) {
                *other = taken.id;
                rc = qerr_set(ei, QERR_ACME_UNAUTHORIZED,
                              "the new key belongs to another account already");
        } else if (rc == QERR_NOT_FOUND) {
                rc = QERR_OK;
                char *jwk = strdup(qbuf_str(&canon));
                if (!jwk)
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                else {
                        free(a->jwk);
                        a->jwk = jwk;
                        snprintf(a->thumbprint, sizeof a->thumbprint, "%s", tp);
                        a->updated_at = qtime_now();
                        rc = ST(s)->ops->acme_account_update(ST(s), a, ei);
                }
        }
        if (rc == QERR_OK)
                rc = svc_event(s, a->tenant_id, "acme_account", a->id, "valid", "valid",
                               "account key changed");
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
out:
        acme_account_clear(&taken);
        qbuf_free(&canon);
        jws_key_free(nk);
        jws_key_free(ok);
        return rc;
}

/* ---- EAB keys ---- */

enum qerr service_eab_create(struct service *s, const struct eab_create_req *r, struct eab_rec *out,
                             char hmac_b64[64], struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        hmac_b64[0] = 0;
        enum qerr rc = svc_require(s, SVC_ADMIN, "create EAB keys", ei);
        if (rc != QERR_OK)
                return rc;
        if (r->max_accounts < 0 || r->max_accounts > 1000000 || r->expires_days < 0 ||
            r->expires_days > 3650)
                return qerr_set(ei, QERR_USAGE,
                                "--max-accounts is 1 to 1000000, --expires-days 1 to 3650");
        if (r->label && strlen(r->label) >= sizeof out->label)
                return qerr_set(ei, QERR_USAGE, "--label has at most %zu characters",
                                sizeof out->label - 1);
        struct tenant_rec t;
        if ((rc = ST(s)->ops->tenant_find(ST(s), r->tenant, 0, &t, ei)) != QERR_OK)
                return rc == QERR_NOT_FOUND ? qerr_set(ei, QERR_TENANT_UNKNOWN, NULL) : rc;
        /* (tenant_find says tenant_unknown itself) */
        uint8_t key[EAB_HMAC_BYTES], kidr[12];
        struct qbuf kb, sealed, kidb;
        qbuf_init(&kb, 64);
        qbuf_init(&sealed, 256);
        qbuf_init(&kidb, 64);
        const uint8_t *dk = NULL;
        if (RAND_bytes(key, sizeof key) != 1 || RAND_bytes(kidr, sizeof kidr) != 1)
                rc = qerr_set(ei, QERR_INTERNAL, "no random bytes");
        if (rc == QERR_OK &&
            (!b64url_encode(key, sizeof key, &kb) || !b64url_encode(kidr, sizeof kidr, &kidb)))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        if (rc == QERR_OK) {
                snprintf(out->kid, sizeof out->kid, "kid-%s", qbuf_str(&kidb));
                char aad[96];
                snprintf(aad, sizeof aad, "quill-eab:%s", out->kid);
                if ((rc = svc_data_key(s, &dk, ei)) == QERR_OK)
                        rc = pki_seal(dk, aad, key, sizeof key, &sealed, ei);
        }
        OPENSSL_cleanse(key, sizeof key);
        if (rc != QERR_OK)
                goto out;
        out->tenant_id = t.id;
        snprintf(out->tenant, sizeof out->tenant, "%s", t.name);
        snprintf(out->label, sizeof out->label, "%s", r->label ? r->label : "");
        out->max_accounts = r->max_accounts ? r->max_accounts : 1;
        out->created_at = qtime_now();
        out->expires_at = r->expires_days ? out->created_at + r->expires_days * QTIME_DAY : 0;
        snprintf(out->created_by, sizeof out->created_by, "%s", s->who.name);
        out->hmac_blob = sealed.data;
        out->hmac_len = sealed.len;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                goto out;
        rc = ST(s)->ops->eab_insert(ST(s), out, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, t.id, "eab_key", 0, NULL, "created", "EAB key %s%s%s", out->kid,
                               out->label[0] ? ": " : "", out->label);
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
        if (rc == QERR_OK)
                snprintf(hmac_b64, 64, "%s", qbuf_str(&kb));
out:
        out->hmac_blob = NULL;
        out->hmac_len = 0;
        qbuf_free(&kb);
        qbuf_free(&sealed);
        qbuf_free(&kidb);
        return rc;
}

enum qerr service_eab_list(struct service *s, struct eab_rec **out, size_t *n, struct qerr_info *ei)
{
        enum qerr rc = svc_require(s, SVC_ADMIN, "list EAB keys", ei);
        if (rc != QERR_OK)
                return rc;
        rc = ST(s)->ops->eab_list(ST(s), 0, out, n, ei);
        /* the sealed keys never leave the service */
        for (size_t i = 0; rc == QERR_OK && i < *n; i++) {
                free((*out)[i].hmac_blob);
                (*out)[i].hmac_blob = NULL;
                (*out)[i].hmac_len = 0;
        }
        return rc;
}

enum qerr service_eab_revoke(struct service *s, const char *kid, struct qerr_info *ei)
{
        enum qerr rc = svc_require(s, SVC_ADMIN, "revoke EAB keys", ei);
        if (rc != QERR_OK)
                return rc;
        struct eab_rec e;
        if ((rc = ST(s)->ops->eab_get(ST(s), kid, &e, ei)) != QERR_OK)
                return rc == QERR_NOT_FOUND ? qerr_set(ei, QERR_NOT_FOUND,
                                                       "no EAB key %s; see 'quill eab list'", kid)
                                            : rc;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) == QERR_OK) {
                rc = e.revoked_at ? QERR_OK : ST(s)->ops->eab_revoke(ST(s), kid, qtime_now(), ei);
                if (rc == QERR_OK && !e.revoked_at)
                        rc = svc_event(s, e.tenant_id, "eab_key", 0, "created", "revoked",
                                       "EAB key %s", kid);
                rc = rc == QERR_OK ? svc_commit(s, ei) : svc_abort(s, rc);
        }
        eab_rec_clear(&e);
        return rc;
}
