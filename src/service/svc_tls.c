/*
 * svc_tls.c - the certificate of `quill serve`'s HTTPS listener, issued by
 * quill's own CA (issue 6).
 *
 * The pair lives in <data>/tls/api.pem (leaf, then the issuing CA: what the
 * listener sends, so a client that trusts only the root connects) and
 * <data>/tls/api.key (PKCS#8 PEM, unencrypted, mode 0600: the listener must
 * read it without a person at hand). service_api_tls_get() reuses the files
 * when they still fit: the key is the leaf's, the leaf was signed by one of
 * this data directory's unexpired issuing CAs, it carries exactly the names
 * asked for, and more than a third of its validity is left. Otherwise it
 * issues a new one through the ordinary private-profile path
 * (service_cert_apply: serial, signer, the certificate row and its event in
 * one transaction, the key sealed under the data key like any key the
 * service generates), with the actor "quill-serve:api-tls" in the event,
 * and writes the files (key first; a crash between the two leaves a pair
 * that does not match, which the next call replaces).
 *
 * Memory: strings in `struct api_tls` are the caller's (api_tls_clear).
 * Threads: like every service function, one thread per handle.
 */
#include "service_internal.h"

#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/fsutil.h"
#include "../base/log.h"
#include "../pki/pki_pem.h"
#include "../policy/policy.h"

#define API_TLS_ACTOR "quill-serve:api-tls"

void service_borrow_signer(struct service *dst, struct service *src)
{
        svc_share_signer(dst, src);
}

void api_tls_clear(struct api_tls *t)
{
        if (!t)
                return;
        free(t->chain_pem);
        if (t->key_pem) {
                OPENSSL_cleanse(t->key_pem, strlen(t->key_pem));
                free(t->key_pem);
        }
        memset(t, 0, sizeof *t);
}

static void tls_paths(const struct service *s, char *dir, char *cert, char *key, size_t sz)
{
        snprintf(dir, sz, "%s/tls", s->data_dir);
        snprintf(cert, sz, "%s/tls/api.pem", s->data_dir);
        snprintf(key, sz, "%s/tls/api.key", s->data_dir);
}

/* Whether the names of `leaf` are exactly `want` (normalised), in any order. */
static bool same_names(X509 *leaf, char **want, size_t nwant)
{
        char **have = NULL;
        size_t nhave = 0;
        if (pki_cert_names(leaf, &have, &nhave, NULL) != QERR_OK)
                return false;
        bool same = nhave == nwant;
        for (size_t i = 0; same && i < nwant; i++) {
                bool found = false;
                for (size_t j = 0; j < nhave && !found; j++)
                        found = strcmp(want[i], have[j]) == 0;
                same = found;
        }
        for (size_t j = 0; j < nhave; j++)
                free(have[j]);
        free(have);
        return same;
}

/* Whether one of our unexpired issuing CAs signed `leaf`. */
static bool signed_by_us(struct service *s, X509 *leaf)
{
        struct ca_rec **cas = NULL;
        size_t n = 0;
        if (ST(s)->ops->ca_list(ST(s), &cas, &n, NULL) != QERR_OK)
                return false;
        bool ok = false;
        qtime_t now = qtime_now();
        for (size_t i = 0; i < n && !ok; i++) {
                X509 *ca = NULL;
                if (cas[i]->is_root || cas[i]->not_after <= now ||
                    pki_cert_read(cas[i]->cert_pem, strlen(cas[i]->cert_pem), &ca, NULL) != QERR_OK)
                        continue;
                EVP_PKEY *pub = X509_get0_pubkey(ca);
                ok = pub && X509_check_issued(ca, leaf) == X509_V_OK && X509_verify(leaf, pub) == 1;
                X509_free(ca);
        }
        store_free_cas(cas, n);
        return ok;
}

/* Reads the files and says whether they may be kept; fills out when so. */
static bool files_fit(struct service *s, const char *cert_path, const char *key_path, char **names,
                      size_t nnames, struct api_tls *out, const char **why)
{
        struct qbuf cb, kb;
        qbuf_init(&cb, MAX_PEM_BYTES);
        qbuf_init(&kb, MAX_PEM_BYTES);
        X509 *leaf = NULL;
        EVP_PKEY *key = NULL;
        bool fit = false;
        *why = "the files are missing";
        if (!fs_exists(cert_path) || !fs_exists(key_path))
                goto out;
        *why = "the files cannot be read";
        if (fs_read_file(cert_path, &cb, NULL) != QERR_OK ||
            fs_read_file(key_path, &kb, NULL) != QERR_OK ||
            pki_cert_read(cb.data, cb.len, &leaf, NULL) != QERR_OK ||
            pki_key_from_pem(kb.data, kb.len, NULL, &key, NULL) != QERR_OK)
                goto out;
        *why = "the key does not belong to the certificate";
        if (!pki_key_matches(key, X509_get0_pubkey(leaf)))
                goto out;
        *why = "it was not issued by this CA";
        if (!signed_by_us(s, leaf))
                goto out;
        *why = "its names differ from [server] api_names";
        if (!same_names(leaf, names, nnames))
                goto out;
        qtime_t nb = pki_time_to_unix(X509_get0_notBefore(leaf));
        qtime_t na = pki_time_to_unix(X509_get0_notAfter(leaf));
        qtime_t renew_at = na - (na - nb) / 3;
        *why = "less than a third of its validity is left";
        if (qtime_now() >= renew_at)
                goto out;
        out->chain_pem = (char *)qbuf_take(&cb, NULL);
        out->key_pem = (char *)qbuf_take(&kb, NULL);
        out->not_after = na;
        out->renew_at = renew_at;
        fit = out->chain_pem && out->key_pem;
out:
        X509_free(leaf);
        EVP_PKEY_free(key);
        qbuf_free(&cb);
        qbuf_free(&kb);
        return fit;
}

/* The first PEM block of `pem` (the issuing CA of a stored chain). */
static bool first_block(const char *pem, const char **start, size_t *len)
{
        static const char end_marker[] = "-----END CERTIFICATE-----";
        const char *b = pem ? strstr(pem, "-----BEGIN CERTIFICATE-----") : NULL;
        const char *e = b ? strstr(b, end_marker) : NULL;
        if (!e)
                return false;
        *start = b;
        *len = (size_t)(e - b) + sizeof end_marker - 1;
        return true;
}

/* Issues a new certificate and writes the files. */
static enum qerr issue_new(struct service *s, const struct api_tls_req *r, const char *dir,
                           const char *cert_path, const char *key_path, struct api_tls *out,
                           struct qerr_info *ei)
{
        long days = r->days > 0 ? r->days : 90;
        if (days > s->cfg->private_max_days)
                days = s->cfg->private_max_days;
        struct apply_req ar = {.names = r->names,
                               .nnames = r->nnames,
                               .key_alg = "ec256",
                               .key_password = NULL,
                               .profile = PROFILE_PRIVATE,
                               .days = days};
        struct cert_rec *c = NULL;
        EVP_PKEY *key = NULL;
        struct qbuf kp, chain;
        qbuf_init(&kp, 64 * 1024);
        qbuf_init(&chain, 2 * MAX_PEM_BYTES);
        /* the service's own certificate belongs to the tenant 'system'
         * (migration 005), out of every user's reach: a user key of another
         * tenant could otherwise download the listener's private key */
        struct principal saved = s->who, self = {.tenant_id = QUILL_TENANT_SYSTEM,
                                                 .role = ROLE_ADMIN,
                                                 .local = true};
        snprintf(self.tenant, sizeof self.tenant, "system");
        snprintf(self.name, sizeof self.name, "%s", API_TLS_ACTOR);
        service_set_principal(s, &self);
        enum qerr rc = service_cert_apply(s, &ar, &c, ei);
        service_set_principal(s, &saved);
        const char *ca_pem = NULL;
        size_t ca_len = 0;
        if (rc == QERR_OK)
                rc = svc_open_key(s, c, NULL, &key, ei);
        if (rc == QERR_OK && !key)
                rc = qerr_set(ei, QERR_INTERNAL, "the new API certificate has no stored key");
        if (rc == QERR_OK)
                rc = pki_key_to_pem(key, NULL, &kp, ei);
        if (rc == QERR_OK && !first_block(c->chain_pem, &ca_pem, &ca_len))
                rc = qerr_set(ei, QERR_INTERNAL, "the new API certificate has no issuing CA");
        if (rc == QERR_OK &&
            (!qbuf_append_str(&chain, c->cert_pem) || !qbuf_append(&chain, ca_pem, ca_len) ||
             !qbuf_append_str(&chain, "\n")))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        if (rc == QERR_OK)
                rc = fs_mkdirs(dir, 0700, ei);
        if (rc == QERR_OK)
                rc = fs_write_file(key_path, kp.data, kp.len, 0600, false, ei);
        if (rc == QERR_OK)
                rc = fs_write_file(cert_path, chain.data, chain.len, 0644, false, ei);
        if (rc == QERR_OK) {
                out->cert_id = c->id;
                out->not_after = c->not_after;
                out->renew_at = c->not_after - (c->not_after - c->not_before) / 3;
                out->issued = true;
                out->chain_pem = (char *)qbuf_take(&chain, NULL);
                out->key_pem = (char *)qbuf_take(&kp, NULL);
                if (!out->chain_pem || !out->key_pem)
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
        }
        if (rc == QERR_OK)
                qlog_info("API certificate issued", "cert=%lld serial=%s not_after=%lld file=%s",
                          (long long)c->id, c->serial, (long long)c->not_after, cert_path);
        cert_rec_free(c);
        EVP_PKEY_free(key);
        qbuf_free(&kp);
        qbuf_free(&chain);
        return rc;
}

enum qerr service_api_tls_get(struct service *s, const struct api_tls_req *r, struct api_tls *out,
                              struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        if (r->nnames == 0 || r->nnames > QUILL_MAX_NAMES)
                return qerr_set(ei, QERR_CONFIG,
                                "[server] api_names must list between 1 and %d names",
                                QUILL_MAX_NAMES);
        char **norm = calloc(r->nnames, sizeof *norm);
        if (!norm)
                return qerr_set(ei, QERR_NOMEM, NULL);
        enum qerr rc = QERR_OK;
        for (size_t i = 0; rc == QERR_OK && i < r->nnames; i++) {
                char buf[QUILL_MAX_NAME_LEN + 1];
                rc =
                    policy_check_name_ex(r->names[i], policy_name_flags(true), buf, sizeof buf, ei);
                if (rc == QERR_OK && !(norm[i] = strdup(buf)))
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
        }
        if (rc != QERR_OK) {
                char why[QERR_MSG_MAX];
                snprintf(why, sizeof why, "%s", qerr_message(ei));
                rc = qerr_set(ei, QERR_CONFIG, "[server] api_names: %s", why);
        }
        char dir[PATH_MAX + 16], cert_path[PATH_MAX + 16], key_path[PATH_MAX + 16];
        tls_paths(s, dir, cert_path, key_path, sizeof dir);
        const char *why = NULL;
        if (rc == QERR_OK && !files_fit(s, cert_path, key_path, norm, r->nnames, out, &why)) {
                qlog_info("API certificate to be issued", "reason=\"%s\" file=%s", why, cert_path);
                api_tls_clear(out);
                rc = issue_new(s, r, dir, cert_path, key_path, out, ei);
        }
        for (size_t i = 0; i < r->nnames; i++)
                free(norm[i]);
        free(norm);
        if (rc != QERR_OK)
                api_tls_clear(out);
        return rc;
}

enum qerr service_api_tls(struct service *s, const char *const *names, size_t n, char **chain_pem,
                          char **key_pem, struct qerr_info *ei)
{
        struct api_tls_req r = {.names = names, .nnames = n, .days = s->cfg->server_api_cert_days};
        struct api_tls t;
        enum qerr rc = service_api_tls_get(s, &r, &t, ei);
        if (rc != QERR_OK)
                return rc;
        *chain_pem = t.chain_pem;
        *key_pem = t.key_pem;
        return QERR_OK;
}

enum qerr service_tls_chain_expiry(const char *chain_pem, qtime_t *not_after, struct qerr_info *ei)
{
        X509 *leaf = NULL;
        enum qerr rc = pki_cert_read(chain_pem, strlen(chain_pem), &leaf, ei);
        if (rc != QERR_OK)
                return rc;
        *not_after = pki_time_to_unix(X509_get0_notAfter(leaf));
        X509_free(leaf);
        return QERR_OK;
}
