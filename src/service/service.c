/*
 * service.c - opening the service, and the helpers of service_internal.h.
 */
#include "service_internal.h"
#include "service_acme.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/fsutil.h"
#include "../base/hex.h"
#include "../base/log.h"
#include "../signer/signer_secret.h"
#include "../validate/validate.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

enum qerr service_global_init(struct qerr_info *ei)
{
        return validate_global_init(ei);
}

enum qerr service_open(const struct service_opts *o, struct service **out, struct qerr_info *ei)
{
        if (!fs_is_dir(o->data_dir))
                return qerr_set(ei, QERR_DATA_DIR,
                                "the data directory %s does not exist; run 'quill ca init --data "
                                "%s' (or 'quill serve') first",
                                o->data_dir, o->data_dir);
        struct service *s = calloc(1, sizeof *s);
        if (!s)
                return qerr_set(ei, QERR_NOMEM, NULL);
        snprintf(s->data_dir, sizeof s->data_dir, "%s", o->data_dir);
        s->cfg = o->cfg;
        if (o->who) {
                service_set_principal(s, o->who);
        } else {
                struct principal p = {.tenant_id = 1, .role = ROLE_ADMIN, .local = true};
                snprintf(p.tenant, sizeof p.tenant, "default");
                snprintf(p.name, sizeof p.name, "%s", o->actor ? o->actor : "system");
                service_set_principal(s, &p);
        }
        enum qerr rc = store_open_sqlite(o->data_dir, o->cfg->store_busy_ms, &s->st, ei);
        if (rc != QERR_OK) {
                free(s);
                return rc;
        }
        /* issue 7: key hashes of certificates stored before migration 009
         * (a no-op once filled; a lookup by key fills what is left) */
        struct qerr_info be;
        if (svc_spki_backfill(s, true, &be) != QERR_OK)
                qlog_warn("certificate key hashes not filled in yet", "code=%s msg=\"%s\"",
                          qerr_code(be.code), qerr_message(&be));
        *out = s;
        return QERR_OK;
}

void service_close(struct service *s)
{
        if (!s)
                return;
        if (!s->borrowed_signer)
                signer_stop(s->signer);
        if (s->st)
                s->st->ops->close(s->st);
        OPENSSL_cleanse(s->data_key, sizeof s->data_key);
        svc_acme_cache_free(s->acme_cache);
        svc_ca_memo_free(s);
        free(s);
}

void service_set_principal(struct service *s, const struct principal *p)
{
        s->who = *p;
        snprintf(s->actor, sizeof s->actor, "%s", p->name);
}

const struct principal *service_principal(const struct service *s)
{
        return &s->who;
}

int64_t svc_scope(const struct service *s)
{
        return s->who.all_tenants ? 0 : s->who.tenant_id;
}

enum qerr svc_require(struct service *s, unsigned roles, const char *what, struct qerr_info *ei)
{
        if ((unsigned)s->who.role < ROLE__COUNT && (roles & (1u << s->who.role)))
                return QERR_OK;
        return qerr_set(ei, QERR_FORBIDDEN,
                        "a %s key may not %s; ask an admin for a key with "
                        "the right role",
                        role_name(s->who.role), what);
}

enum qerr svc_not_found(const char *type, int64_t id, struct qerr_info *ei)
{
        return qerr_set(ei, QERR_NOT_FOUND, "no %s with id %lld", type, (long long)id);
}

enum qerr svc_visible(struct service *s, const char *type, int64_t id, struct qerr_info *ei)
{
        int64_t owner = 0;
        struct qerr_info le;
        enum qerr rc = ST(s)->ops->object_tenant(ST(s), type, id, &owner, &le);
        if (rc == QERR_NOT_FOUND)
                return svc_not_found(type, id, ei);
        if (rc != QERR_OK)
                return qerr_set(ei, rc, "%s", qerr_message(&le));
        int64_t scope = svc_scope(s);
        if (scope == 0 || scope == owner)
                return QERR_OK;
        /* Another tenant's object: answered exactly like a missing one, and
         * written to the owner's audit log (not the requester's, whose log
         * would otherwise tell it that the id exists). */
        if (ST(s)->ops->begin(ST(s), &le) == QERR_OK) {
                if (svc_event(s, owner, type, id, NULL, "access_denied",
                              "refused to %s of tenant %s: the %s belongs to another tenant",
                              s->who.name, s->who.tenant, type) == QERR_OK)
                        ST(s)->ops->commit(ST(s), &le);
                else
                        ST(s)->ops->rollback(ST(s));
        }
        qlog_warn("cross-tenant request refused", "object=%s id=%lld principal=%s tenant=%s", type,
                  (long long)id, s->who.name, s->who.tenant);
        return svc_not_found(type, id, ei);
}

enum qerr service_start_signer(struct service *s, struct qerr_info *ei)
{
        struct signer *sg;
        return svc_signer(s, &sg, ei);
}

enum qerr svc_signer(struct service *s, struct signer **out, struct qerr_info *ei)
{
        /* started by service_boot_open before any thread existed, never
         * lazily here */
        if (!s->signer)
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE,
                                "this service handle has no signer (it was opened without one); "
                                "this is a bug");
        *out = s->signer;
        return QERR_OK;
}

enum qerr svc_event(struct service *s, int64_t tenant_id, const char *type, int64_t id,
                    const char *from, const char *to, const char *reason_fmt, ...)
{
        struct event_rec e;
        memset(&e, 0, sizeof e);
        e.tenant_id = tenant_id;
        snprintf(e.object_type, sizeof e.object_type, "%s", type);
        e.object_id = id;
        snprintf(e.actor, sizeof e.actor, "%s", s->actor);
        e.at = qtime_now();
        snprintf(e.from_status, sizeof e.from_status, "%s", from ? from : "");
        snprintf(e.to_status, sizeof e.to_status, "%s", to);
        char reason[1024] = "";
        if (reason_fmt) {
                va_list ap;
                va_start(ap, reason_fmt);
                vsnprintf(reason, sizeof reason, reason_fmt, ap);
                va_end(ap);
        }
        e.reason = reason[0] ? reason : NULL;
        enum qerr rc = ST(s)->ops->event_add(ST(s), &e, NULL);
        if (rc == QERR_OK) {
                char esc[1100];
                qlog_info("event", "tenant=%lld object=%s id=%lld from=%s to=%s actor=%s reason=%s",
                          (long long)tenant_id, type, (long long)id, from ? from : "-", to,
                          s->actor, qlog_escape(reason, esc, sizeof esc));
        }
        return rc;
}

enum qerr svc_cert_move(struct service *s, struct cert_rec *c, enum cert_status to,
                        struct qerr_info *ei, const char *reason_fmt, ...)
{
        char reason[1024];
        va_list ap;
        va_start(ap, reason_fmt);
        vsnprintf(reason, sizeof reason, reason_fmt, ap);
        va_end(ap);
        const char *from = cert_status_name(c->status);
        c->status = to;
        enum qerr rc = ST(s)->ops->cert_update(ST(s), c, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, c->tenant_id, "certificate", c->id, from, cert_status_name(to),
                               "%s", reason);
        return rc;
}

enum qerr svc_abort(struct service *s, enum qerr rc)
{
        s->jobs_queued = false;
        svc_crl_forget_tx(s);
        ST(s)->ops->rollback(ST(s));
        return rc;
}

/* The data key given in the environment (QUILL_DATA_KEY), taken once at
 * start by service_take_env_data_key() and scrubbed from the environment:
 * written before any thread exists, read-only afterwards (like the loaded
 * configuration). 0: not given; 1: held; -1: malformed. */
static uint8_t env_data_key[SEAL_KEY_BYTES];
static int env_data_key_state;

void service_take_env_data_key(void)
{
        const char *env = getenv("QUILL_DATA_KEY");
        if (!env || !*env)
                return;
        size_t n = 0;
        env_data_key_state =
            hex_decode(env, env_data_key, sizeof env_data_key, &n) && n == SEAL_KEY_BYTES ? 1 : -1;
        ca_secret_scrub_env("QUILL_DATA_KEY");
}

enum qerr svc_data_key(struct service *s, const uint8_t **key, struct qerr_info *ei)
{
        if (s->have_data_key) {
                *key = s->data_key;
                return QERR_OK;
        }
        size_t n = 0;
        if (env_data_key_state < 0)
                return qerr_set(ei, QERR_CONFIG, "QUILL_DATA_KEY must be 64 hex digits (32 bytes)");
        if (env_data_key_state > 0) {
                memcpy(s->data_key, env_data_key, sizeof s->data_key);
        } else {
                char path[PATH_MAX + 32];
                if (s->cfg->keys_data_key_file && *s->cfg->keys_data_key_file)
                        snprintf(path, sizeof path, "%s", s->cfg->keys_data_key_file);
                else
                        snprintf(path, sizeof path, "%s/secrets/data.key", s->data_dir);
                if (!fs_exists(path)) {
                        /* first use: create it, 0600, never overwriting a racing creator */
                        char dir[PATH_MAX + 32];
                        snprintf(dir, sizeof dir, "%s", path);
                        char *slash = strrchr(dir, '/');
                        if (slash) {
                                *slash = 0;
                                enum qerr rc = fs_mkdirs(dir, 0700, ei);
                                if (rc != QERR_OK)
                                        return rc;
                        }
                        uint8_t k[SEAL_KEY_BYTES];
                        char hex[2 * SEAL_KEY_BYTES + 2];
                        if (RAND_bytes(k, sizeof k) != 1)
                                return qerr_set(ei, QERR_INTERNAL, "no randomness");
                        hex_encode(k, sizeof k, hex, sizeof hex);
                        OPENSSL_cleanse(k, sizeof k);
                        hex[2 * SEAL_KEY_BYTES] = '\n';
                        hex[2 * SEAL_KEY_BYTES + 1] = 0;
                        struct qerr_info we;
                        enum qerr rc = fs_write_file(path, hex, strlen(hex), 0600, true, &we);
                        OPENSSL_cleanse(hex, sizeof hex);
                        if (rc != QERR_OK && !fs_exists(path))
                                return qerr_set(ei, rc, "%s", qerr_message(&we));
                        qlog_info("data key created", "file=%s", path);
                }
                struct qbuf b;
                qbuf_init(&b, 256);
                enum qerr rc = fs_read_file(path, &b, ei);
                if (rc == QERR_OK) {
                        while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
                                b.data[--b.len] = 0;
                        if (!hex_decode(qbuf_str(&b), s->data_key, sizeof s->data_key, &n) ||
                            n != SEAL_KEY_BYTES)
                                rc = qerr_set(ei, QERR_CONFIG,
                                              "the data key file %s must hold 64 hex digits", path);
                }
                qbuf_free(&b);
                if (rc != QERR_OK)
                        return rc;
        }
        s->have_data_key = true;
        *key = s->data_key;
        return QERR_OK;
}

static int family(const char *alg)
{
        if (strcmp(alg, "sm2") == 0)
                return 2;
        return strncmp(alg, "rsa", 3) == 0 ? 1 : 0;
}

enum qerr svc_pick_issuer(struct service *s, const char *key_alg, struct ca_rec **out,
                          struct qerr_info *ei)
{
        struct ca_rec **cas = NULL;
        size_t n = 0;
        enum qerr rc = ST(s)->ops->ca_list(ST(s), &cas, &n, ei);
        if (rc != QERR_OK)
                return rc;
        int want = family(key_alg);
        struct ca_rec *best = NULL;
        qtime_t now = qtime_now();
        for (size_t i = 0; i < n; i++) {
                struct ca_rec *c = cas[i];
                if (c->is_root || c->not_after <= now)
                        continue;
                int f = family(c->key_algorithm);
                if ((want == 2) != (f == 2))
                        continue; /* SM2 keys only under the SM2 chain, and vice versa */
                if (!best || (f == want && family(best->key_algorithm) != want))
                        best = c;
        }
        if (!best) {
                store_free_cas(cas, n);
                return qerr_set(ei, QERR_CA_MISSING,
                                "no issuing CA can certify a %s key; run 'quill ca init%s' first",
                                key_alg, want == 2 ? " --key sm2" : "");
        }
        for (size_t i = 0; i < n; i++)
                if (cas[i] != best)
                        ca_rec_free(cas[i]);
        free(cas);
        *out = best;
        return QERR_OK;
}

void svc_urls(const struct service *s, int64_t ca_id, int crl_shard, char *crl, char *ocsp,
              char *cai, size_t sz)
{
        const char *base = s->cfg->server_base_url;
        size_t bl = strlen(base);
        while (bl && base[bl - 1] == '/')
                bl--;
        if (crl)
                svc_crl_url(s, ca_id, crl_shard, crl, sz);
        if (ocsp)
                snprintf(ocsp, sz, "%.*s/ocsp", (int)bl, base);
        if (cai)
                snprintf(cai, sz, "%.*s/ca/%lld.der", (int)bl, base, (long long)ca_id);
}

static void key_aad(const struct cert_rec *c, char *out, size_t sz)
{
        /* bind the sealed key to the certificate's serial and issuer */
        snprintf(out, sz, "quill-key:%s:%s", c->serial, c->issuer ? c->issuer : "");
}

enum qerr svc_seal_key(struct service *s, EVP_PKEY *key, const char *password, const char *aad,
                       uint8_t **blob, size_t *len, enum key_protection *prot, struct qerr_info *ei)
{
        struct qbuf pem, sealed;
        qbuf_init(&pem, 64 * 1024);
        qbuf_init(&sealed, 64 * 1024 + 64);
        enum qerr rc;
        if (password) {
                rc = pki_key_to_pem(key, password, &pem, ei);
                if (rc == QERR_OK) {
                        *blob = qbuf_take(&pem, len);
                        *prot = KEYPROT_PASSWORD;
                }
        } else {
                const uint8_t *dk;
                rc = svc_data_key(s, &dk, ei);
                if (rc == QERR_OK)
                        rc = pki_key_to_pem(key, NULL, &pem, ei);
                if (rc == QERR_OK)
                        rc = pki_seal(dk, aad, pem.data, pem.len, &sealed, ei);
                if (rc == QERR_OK) {
                        *blob = qbuf_take(&sealed, len);
                        *prot = KEYPROT_DATA_KEY;
                }
        }
        qbuf_free(&pem);
        qbuf_free(&sealed);
        return rc;
}

enum qerr svc_unseal_key(struct service *s, const uint8_t *blob, size_t len,
                         enum key_protection prot, const char *aad, const char *password,
                         EVP_PKEY **out, struct qerr_info *ei)
{
        *out = NULL;
        if (!blob || prot == KEYPROT_NONE)
                return QERR_OK;
        if (prot == KEYPROT_PASSWORD) {
                if (!password)
                        return qerr_set(ei, QERR_KEY_PASSWORD,
                                        "this certificate's key is protected by the password "
                                        "given when it was created; pass it with --key-password");
                return pki_key_from_pem(blob, len, password, out, ei);
        }
        const uint8_t *dk;
        struct qbuf pem;
        qbuf_init(&pem, 64 * 1024);
        enum qerr rc = svc_data_key(s, &dk, ei);
        if (rc == QERR_OK)
                rc = pki_unseal(dk, aad, blob, len, &pem, ei);
        if (rc == QERR_OK)
                rc = pki_key_from_pem(pem.data, pem.len, NULL, out, ei);
        qbuf_free(&pem);
        return rc;
}

enum qerr svc_check_key_password(const char *pw, struct qerr_info *ei)
{
        if (pw && strlen(pw) < MIN_KEY_PASSWORD)
                return qerr_set(ei, QERR_KEY_PASSWORD_WEAK,
                                "--key-password has %zu characters; a private-key password needs "
                                "at least %d",
                                strlen(pw), MIN_KEY_PASSWORD);
        return QERR_OK;
}

enum qerr svc_store_key(struct service *s, EVP_PKEY *key, const char *password, struct cert_rec *c,
                        struct qerr_info *ei)
{
        char aad[600];
        key_aad(c, aad, sizeof aad);
        return svc_seal_key(s, key, password, aad, &c->key_blob, &c->key_blob_len,
                            &c->key_protection, ei);
}

enum qerr svc_open_key(struct service *s, const struct cert_rec *c, const char *password,
                       EVP_PKEY **out, struct qerr_info *ei)
{
        char aad[600];
        key_aad(c, aad, sizeof aad);
        return svc_unseal_key(s, c->key_blob, c->key_blob_len, c->key_protection, aad, password,
                              out, ei);
}

void svc_share_signer(struct service *dst, struct service *src)
{
        dst->signer = src->signer;
        dst->borrowed_signer = true;
}
