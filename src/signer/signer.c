/*
 * signer.c - the signer child process and the request handler; see
 * signer.h. The client half (fork, call, stop) is in signer_client.c.
 *
 * The handler trusts nothing the main process sends: it decodes with the
 * strict decoder, reloads the issuer from the DER it was given, proves it
 * holds that issuer's key (the key file is named by the SHA-256 of the
 * issuer's public key and must match it), and applies the profile checks
 * below before any signature is made. Runs single-threaded in the child.
 */
#include "signer.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../base/fsutil.h"
#include "../base/log.h"
#include "../base/qtime.h"
#include "../pki/pki_issue.h"
#include "../pki/pki_key.h"
#include "../pki/pki_pem.h"
#include "../policy/policy.h"

#define MAX_CACHED_KEYS 16
#define ROOT_YEARS 10
#define ISSUING_YEARS 5
#define MAX_BACKDATE (QTIME_DAY)      /* not_before may lie at most a day back */
#define MAX_FORWARD ((qtime_t)3600)   /* and at most an hour ahead */
#define MAX_CRL_SPAN (10 * QTIME_DAY) /* BR 4.9.7 */

struct cached_key {
        char id[65];
        EVP_PKEY *key;
};

/* The lint gate's state (issue 7): throwaway keys, one per key kind, made
 * on first need; and the last CRL number signed per issuer in this process
 * (what the CRL linter compares the next number with). */
enum { GATE_RSA, GATE_EC256, GATE_EC384, GATE_SM2, GATE__COUNT };
struct crl_mark {
        char id[65];
        int64_t number;
};

struct signer_state {
        char data_dir[PATH_MAX];
        long private_max_days, public_max_days;
        char passphrase_file[PATH_MAX];
        char *passphrase; /* loaded on first need; wiped at free */
        struct cached_key keys[MAX_CACHED_KEYS];
        size_t nkeys;
        EVP_PKEY *gate_keys[GATE__COUNT];
        struct crl_mark crl_marks[MAX_CACHED_KEYS];
        size_t ncrl_marks;
};

struct signer_state *signer_state_new(const char *data_dir, const struct qconfig *cfg)
{
        struct signer_state *st = calloc(1, sizeof *st);
        if (!st)
                return NULL;
        snprintf(st->data_dir, sizeof st->data_dir, "%s", data_dir);
        st->private_max_days = cfg->private_max_days;
        st->public_max_days = cfg->public_max_days;
        snprintf(st->passphrase_file, sizeof st->passphrase_file, "%s",
                 cfg->ca_passphrase_file ? cfg->ca_passphrase_file : "");
        return st;
}

void signer_state_free(struct signer_state *st)
{
        if (!st)
                return;
        for (size_t i = 0; i < st->nkeys; i++)
                EVP_PKEY_free(st->keys[i].key);
        for (size_t i = 0; i < GATE__COUNT; i++)
                EVP_PKEY_free(st->gate_keys[i]);
        if (st->passphrase) {
                OPENSSL_cleanse(st->passphrase, strlen(st->passphrase));
                free(st->passphrase);
        }
        free(st);
}

static enum qerr load_passphrase(struct signer_state *st, struct qerr_info *ei)
{
        if (st->passphrase)
                return QERR_OK;
        const char *env = getenv("QUILL_CA_PASSPHRASE");
        if (env && *env) {
                st->passphrase = strdup(env);
        } else if (st->passphrase_file[0]) {
                struct qbuf b;
                qbuf_init(&b, 4096);
                struct qerr_info fe;
                if (fs_read_file(st->passphrase_file, &b, &fe) != QERR_OK) {
                        qbuf_free(&b);
                        return qerr_set(ei, QERR_CA_PASSPHRASE_MISSING,
                                        "the CA passphrase file could not be read: %s",
                                        qerr_message(&fe));
                }
                /* one line; trailing newline and spaces are not part of it */
                while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r' ||
                                 b.data[b.len - 1] == ' '))
                        b.data[--b.len] = 0;
                if (b.len == 0 || memchr(b.data, 0, b.len)) {
                        qbuf_free(&b);
                        return qerr_set(ei, QERR_CA_PASSPHRASE_MISSING,
                                        "the CA passphrase file %s is empty", st->passphrase_file);
                }
                st->passphrase = strdup(qbuf_str(&b));
                qbuf_free(&b);
        } else {
                return qerr_set(ei, QERR_CA_PASSPHRASE_MISSING, NULL);
        }
        if (!st->passphrase)
                return qerr_set(ei, QERR_NOMEM, NULL);
        if (strlen(st->passphrase) < 8) {
                OPENSSL_cleanse(st->passphrase, strlen(st->passphrase));
                free(st->passphrase);
                st->passphrase = NULL;
                return qerr_set(ei, QERR_CA_PASSPHRASE_MISSING,
                                "the CA passphrase must have at least 8 characters");
        }
        return QERR_OK;
}

static void key_path(const struct signer_state *st, const char *id, char *out, size_t outsz)
{
        snprintf(out, outsz, "%s/ca/%s.key", st->data_dir, id);
}

/* Loads (or finds cached) the private key for `issuer`; checks that it
 * matches the issuer's public key. */
static enum qerr issuer_key(struct signer_state *st, X509 *issuer, EVP_PKEY **out,
                            struct qerr_info *ei)
{
        char id[65];
        EVP_PKEY *pub = X509_get0_pubkey(issuer);
        if (!pub || pki_key_id(pub, id, ei) != QERR_OK)
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "the issuer certificate has no usable key");
        for (size_t i = 0; i < st->nkeys; i++)
                if (strcmp(st->keys[i].id, id) == 0) {
                        *out = st->keys[i].key;
                        return QERR_OK;
                }
        enum qerr rc = load_passphrase(st, ei);
        if (rc != QERR_OK)
                return rc;
        char path[PATH_MAX + 80];
        key_path(st, id, path, sizeof path);
        struct qbuf b;
        qbuf_init(&b, 64 * 1024);
        struct qerr_info fe;
        if (fs_read_file(path, &b, &fe) != QERR_OK) {
                qbuf_free(&b);
                return qerr_set(ei, QERR_CA_MISSING,
                                "the signer has no key for this issuing CA (%s): %s", id,
                                qerr_message(&fe));
        }
        EVP_PKEY *k = NULL;
        rc = pki_key_from_pem(b.data, b.len, st->passphrase, &k, ei);
        qbuf_free(&b);
        if (rc == QERR_KEY_PASSWORD)
                return qerr_set(ei, QERR_CA_PASSPHRASE_WRONG, NULL);
        if (rc != QERR_OK)
                return qerr_set(ei, QERR_IO, "the CA key file %s is damaged", path);
        if (!pki_key_matches(k, pub)) {
                EVP_PKEY_free(k);
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "the CA key file does not match the issuer certificate");
        }
        if (st->nkeys == MAX_CACHED_KEYS) {
                EVP_PKEY_free(st->keys[0].key);
                memmove(st->keys, st->keys + 1, (MAX_CACHED_KEYS - 1) * sizeof st->keys[0]);
                st->nkeys--;
        }
        memcpy(st->keys[st->nkeys].id, id, 65);
        st->keys[st->nkeys++].key = k;
        *out = k;
        return QERR_OK;
}

static enum qerr store_new_key(struct signer_state *st, EVP_PKEY *k, char id[65],
                               struct qerr_info *ei)
{
        enum qerr rc = load_passphrase(st, ei);
        if (rc != QERR_OK)
                return rc;
        if ((rc = pki_key_id(k, id, ei)) != QERR_OK)
                return rc;
        char dir[PATH_MAX + 8], path[PATH_MAX + 80];
        snprintf(dir, sizeof dir, "%s/ca", st->data_dir);
        if ((rc = fs_mkdirs(dir, 0700, ei)) != QERR_OK)
                return rc;
        struct qbuf pem;
        qbuf_init(&pem, 64 * 1024);
        rc = pki_key_to_pem(k, st->passphrase, &pem, ei);
        if (rc == QERR_OK) {
                key_path(st, id, path, sizeof path);
                rc = fs_write_file(path, pem.data, pem.len, 0600, true, ei);
        }
        qbuf_free(&pem);
        return rc;
}

static enum qerr load_issuer(struct sbytes der, X509 **out, struct qerr_info *ei)
{
        const unsigned char *p = der.p;
        X509 *x = d2i_X509(NULL, &p, (long)der.len);
        if (!x || p != der.p + der.len) {
                X509_free(x);
                ERR_clear_error();
                return qerr_set(ei, QERR_SIGNER_REFUSED, "the issuer certificate does not parse");
        }
        pki_cert_set_sm2_id(x);
        if (X509_check_ca(x) < 1) {
                X509_free(x);
                return qerr_set(ei, QERR_SIGNER_REFUSED, "the issuer is not a CA certificate");
        }
        *out = x;
        return QERR_OK;
}

static bool is_root(X509 *x)
{
        return X509_check_issued(x, x) == X509_V_OK;
}

static qtime_t cert_not_after(X509 *x)
{
        return (qtime_t)pki_time_to_unix(X509_get0_notAfter(x));
}

static enum qerr respond_cert(X509 *x, const char *key_id, struct qbuf *out, struct qerr_info *ei)
{
        struct qbuf der;
        qbuf_init(&der, 200000);
        enum qerr rc = pki_cert_der(x, &der, ei);
        if (rc == QERR_OK) {
                struct signer_resp r = {.type = SMSG_OK};
                r.der.p = der.data;
                r.der.len = der.len;
                r.key_id = sbytes_str(key_id);
                if (!signer_encode_resp(&r, out))
                        rc = qerr_set(ei, QERR_INTERNAL, "response too large");
        }
        qbuf_free(&der);
        return rc;
}

/* ---- the lint gate (issue 7; pki_issue.h) ---- */

/* The throwaway key of `signing`'s kind, kept for the life of the signer. */
static enum qerr gate_key(struct signer_state *st, EVP_PKEY *signing, EVP_PKEY **out,
                          struct qerr_info *ei)
{
        char kind[16];
        enum qerr rc = pki_key_describe(signing, kind, ei);
        if (rc != QERR_OK)
                return rc;
        int slot = !strncmp(kind, "rsa", 3) ? GATE_RSA
                   : !strcmp(kind, "ec256") ? GATE_EC256
                   : !strcmp(kind, "ec384") ? GATE_EC384
                                            : GATE_SM2;
        if (!st->gate_keys[slot] &&
            (rc = pki_lint_key_new(signing, &st->gate_keys[slot], ei)) != QERR_OK)
                return rc;
        *out = st->gate_keys[slot];
        return QERR_OK;
}

static struct crl_mark *crl_mark(struct signer_state *st, X509 *issuer, bool add)
{
        char id[65];
        EVP_PKEY *pub = X509_get0_pubkey(issuer);
        if (!pub || pki_key_id(pub, id, NULL) != QERR_OK)
                return NULL;
        for (size_t i = 0; i < st->ncrl_marks; i++)
                if (strcmp(st->crl_marks[i].id, id) == 0)
                        return &st->crl_marks[i];
        if (!add)
                return NULL;
        if (st->ncrl_marks == MAX_CACHED_KEYS) {
                memmove(st->crl_marks, st->crl_marks + 1,
                        (MAX_CACHED_KEYS - 1) * sizeof st->crl_marks[0]);
                st->ncrl_marks--;
        }
        struct crl_mark *m = &st->crl_marks[st->ncrl_marks++];
        memcpy(m->id, id, sizeof id);
        m->number = -1;
        return m;
}

static enum qerr do_create(struct signer_state *st, const struct signer_req *r, struct qbuf *out,
                           struct qerr_info *ei)
{
        char alg_s[16], subject[1025];
        enum key_alg alg;
        if (!sbytes_cstr(r->key_alg, alg_s, sizeof alg_s) || !key_alg_from_name(alg_s, &alg))
                return qerr_set(ei, QERR_KEY_UNSUPPORTED, NULL);
        if (!sbytes_cstr(r->subject, subject, sizeof subject))
                return qerr_set(ei, QERR_USAGE, "bad CA subject");
        X509 *issuer = NULL, *x = NULL;
        EVP_PKEY *ikey = NULL, *k = NULL;
        enum qerr rc = QERR_OK;
        qtime_t now = qtime_now();
        struct ca_params cp = {.subject = subject, .not_before = now - 60};
        char crl[SIGNER_MAX_URL + 1] = "", cai[SIGNER_MAX_URL + 1] = "";
        if (r->type == SMSG_CREATE_ISSUING) {
                if ((rc = load_issuer(r->issuer_der, &issuer, ei)) != QERR_OK)
                        goto out;
                if (!is_root(issuer)) {
                        rc = qerr_set(ei, QERR_SIGNER_REFUSED,
                                      "issuing CAs are signed by a root only");
                        goto out;
                }
                if ((rc = issuer_key(st, issuer, &ikey, ei)) != QERR_OK)
                        goto out;
                if (pki_key_is_sm2(ikey) != (alg == KEYALG_SM2)) {
                        rc = qerr_set(ei, QERR_SIGNER_REFUSED,
                                      "an SM2 chain is SM2 throughout: an SM2 issuing CA needs an "
                                      "SM2 root and the other way round");
                        goto out;
                }
                if (!sbytes_cstr(r->crl_url, crl, sizeof crl) ||
                    !sbytes_cstr(r->ca_issuers_url, cai, sizeof cai)) {
                        rc = qerr_set(ei, QERR_SIGNER_REFUSED, "bad URL");
                        goto out;
                }
                cp.issuer = issuer;
                cp.issuer_key = ikey;
                cp.crl_url = crl;
                cp.ca_issuers_url = cai;
                cp.not_after = now + ISSUING_YEARS * 365 * QTIME_DAY;
                if (cp.not_after > cert_not_after(issuer))
                        cp.not_after = cert_not_after(issuer);
        } else {
                cp.not_after = now + ROOT_YEARS * 365 * QTIME_DAY;
        }
        if ((rc = pki_key_generate(alg, &k, ei)) != QERR_OK)
                goto out;
        cp.key = k;
        /* CA rules; an SM2 chain serves the private profile only */
        struct lint_cert_opts lo = {
            .profile = alg == KEYALG_SM2 ? PROFILE_PRIVATE : PROFILE_DV,
            .role = issuer ? LINT_ROLE_ISSUING_CA : LINT_ROLE_ROOT_CA,
            .issuer_der = issuer ? r->issuer_der.p : NULL,
            .issuer_len = issuer ? r->issuer_der.len : 0,
        };
        struct pki_lint_gate gate = {.cert = &lo};
        if ((rc = gate_key(st, issuer ? ikey : k, &gate.lint_key, ei)) != QERR_OK)
                goto out;
        cp.lint = &gate;
        if ((rc = pki_issue_ca(&cp, &x, ei)) != QERR_OK)
                goto out;
        char id[65];
        if ((rc = store_new_key(st, k, id, ei)) != QERR_OK)
                goto out;
        rc = respond_cert(x, id, out, ei);
        qlog_info("CA created", "role=%s key=%s key_id=%s",
                  r->type == SMSG_CREATE_ROOT ? "root" : "issuing", alg_s, id);
out:
        X509_free(issuer);
        X509_free(x);
        EVP_PKEY_free(k);
        return rc;
}

/* The profile checks of ARCHITECTURE.md: defence in depth behind the
 * service, which made the same decisions before asking. */
static enum qerr check_ee(struct signer_state *st, const struct signer_req *r, X509 *issuer,
                          EVP_PKEY *ikey, EVP_PKEY *subj, enum cert_profile *profile,
                          char names[][QUILL_MAX_NAME_LEN + 1], struct qerr_info *ei)
{
        char prof[16], alg[16];
        if (!sbytes_cstr(r->profile, prof, sizeof prof) || !cert_profile_from_name(prof, profile))
                return qerr_set(ei, QERR_SIGNER_REFUSED, "unknown profile");
        enum qerr rc = pki_key_describe(subj, alg, ei);
        if (rc != QERR_OK)
                return rc;
        if (pki_key_is_sm2(subj) != pki_key_is_sm2(ikey))
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "SM2 keys are certified by the SM2 chain only, other keys by "
                                "the other chains");
        if (r->nnames == 0 || r->nnames > QUILL_MAX_NAMES)
                return qerr_set(ei, QERR_SIGNER_REFUSED, "between 1 and %d names are required",
                                QUILL_MAX_NAMES);
        for (size_t i = 0; i < r->nnames; i++) {
                char raw[QUILL_MAX_NAME_LEN + 1];
                if (!sbytes_cstr(r->names[i], raw, sizeof raw))
                        return qerr_set(ei, QERR_SIGNER_REFUSED, "name %zu is malformed", i);
                rc = policy_check_name_ex(raw, policy_name_flags(*profile == PROFILE_PRIVATE),
                                          names[i], QUILL_MAX_NAME_LEN + 1, ei);
                if (rc != QERR_OK)
                        return rc;
                /* the service sends normalised names; anything else is refused */
                if (strcmp(raw, names[i]) != 0)
                        return qerr_set(ei, QERR_SIGNER_REFUSED, "name %zu is not normalised", i);
                for (size_t j = 0; j < i; j++)
                        if (strcmp(names[j], names[i]) == 0)
                                return qerr_set(ei, QERR_SIGNER_REFUSED, "name %s repeated",
                                                names[i]);
        }
        qtime_t now = qtime_now();
        if (r->not_before < now - MAX_BACKDATE || r->not_before > now + MAX_FORWARD)
                return qerr_set(ei, QERR_SIGNER_REFUSED, "notBefore is too far from now");
        rc = policy_check_validity(*profile, r->not_before, r->not_after, st->public_max_days,
                                   st->private_max_days, ei);
        if (rc != QERR_OK)
                return rc;
        if (r->not_after > cert_not_after(issuer))
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "the certificate would outlive its issuing CA");
        /* BR 7.1: at least 64 bits from a CSPRNG, positive, at most 20 bytes */
        if (r->serial.len < 9 || r->serial.len > 20 || (r->serial.p[0] & 0x80) ||
            r->serial.p[0] == 0)
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "the serial must be 9-20 bytes, positive, without a leading "
                                "zero byte");
        return QERR_OK;
}

static enum qerr do_sign_cert(struct signer_state *st, const struct signer_req *r, struct qbuf *out,
                              struct qerr_info *ei)
{
        X509 *issuer = NULL, *x = NULL;
        EVP_PKEY *ikey = NULL, *subj = NULL;
        char(*names)[QUILL_MAX_NAME_LEN + 1] = calloc(QUILL_MAX_NAMES, sizeof *names);
        const char *nptr[QUILL_MAX_NAMES];
        enum cert_profile profile;
        char crl[SIGNER_MAX_URL + 1], ocsp[SIGNER_MAX_URL + 1], cai[SIGNER_MAX_URL + 1];
        if (!names)
                return qerr_set(ei, QERR_NOMEM, NULL);
        enum qerr rc = load_issuer(r->issuer_der, &issuer, ei);
        if (rc != QERR_OK)
                goto out;
        if (is_root(issuer)) {
                rc = qerr_set(ei, QERR_SIGNER_REFUSED,
                              "end-entity certificates are never signed by a root");
                goto out;
        }
        if ((rc = issuer_key(st, issuer, &ikey, ei)) != QERR_OK)
                goto out;
        const unsigned char *p = r->spki_der.p;
        subj = d2i_PUBKEY(NULL, &p, (long)r->spki_der.len);
        if (!subj || p != r->spki_der.p + r->spki_der.len) {
                ERR_clear_error();
                rc = qerr_set(ei, QERR_SIGNER_REFUSED, "the subject public key does not parse");
                goto out;
        }
        if ((rc = check_ee(st, r, issuer, ikey, subj, &profile, names, ei)) != QERR_OK)
                goto out;
        struct org_subject org;
        memset(&org, 0, sizeof org);
        bool org_profile = profile == PROFILE_OV || profile == PROFILE_EV;
        if (org_profile && (rc = signer_parse_org(r->org, &org, ei)) != QERR_OK)
                goto out;
        if (!org_profile && r->org.len) {
                rc = qerr_set(ei, QERR_SIGNER_REFUSED,
                              "only OV and EV certificates name an organisation");
                goto out;
        }
        if (!sbytes_cstr(r->crl_url, crl, sizeof crl) ||
            !sbytes_cstr(r->ocsp_url, ocsp, sizeof ocsp) ||
            !sbytes_cstr(r->ca_issuers_url, cai, sizeof cai)) {
                rc = qerr_set(ei, QERR_SIGNER_REFUSED, "bad URL");
                goto out;
        }
        for (size_t i = 0; i < r->nnames; i++)
                nptr[i] = names[i];
        struct ee_params ep = {
            .subject_key = subj,
            .names = nptr,
            .nnames = r->nnames,
            .not_before = r->not_before,
            .not_after = r->not_after,
            .serial = r->serial.p,
            .serial_len = r->serial.len,
            .profile = profile,
            .crl_url = crl,
            .ocsp_url = ocsp,
            .ca_issuers_url = cai,
            .org_o = org.o,
            .org_c = org.c,
            .org_st = org.st,
            .org_l = org.l,
        };
        struct lint_cert_opts lo = {
            .profile = profile,
            .role = LINT_ROLE_SUBSCRIBER,
            .public_max_days = st->public_max_days,
            .private_max_days = st->private_max_days,
            .issuer_der = r->issuer_der.p,
            .issuer_len = r->issuer_der.len,
        };
        struct pki_lint_gate gate = {.cert = &lo};
        if ((rc = gate_key(st, ikey, &gate.lint_key, ei)) != QERR_OK)
                goto out;
        ep.lint = &gate;
        if ((rc = pki_issue_ee(issuer, ikey, &ep, &x, ei)) != QERR_OK)
                goto out;
        rc = respond_cert(x, "", out, ei);
out:
        free(names);
        X509_free(issuer);
        X509_free(x);
        EVP_PKEY_free(subj);
        return rc;
}

static enum qerr do_sign_crl(struct signer_state *st, const struct signer_req *r, struct qbuf *out,
                             struct qerr_info *ei)
{
        X509 *issuer = NULL;
        X509_CRL *crl = NULL;
        EVP_PKEY *ikey = NULL;
        struct crl_item *items = NULL;
        enum qerr rc = load_issuer(r->issuer_der, &issuer, ei);
        if (rc != QERR_OK)
                return rc;
        if ((rc = issuer_key(st, issuer, &ikey, ei)) != QERR_OK)
                goto out;
        qtime_t now = qtime_now();
        if (r->crl_number < 1 || r->this_update < now - MAX_BACKDATE ||
            r->this_update > now + MAX_FORWARD || r->next_update <= r->this_update ||
            r->next_update - r->this_update > MAX_CRL_SPAN) {
                rc = qerr_set(ei, QERR_SIGNER_REFUSED,
                              "CRL number or update times outside the profile");
                goto out;
        }
        items = calloc(r->nentries ? r->nentries : 1, sizeof *items);
        if (!items) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto out;
        }
        for (size_t i = 0; i < r->nentries; i++) {
                int64_t reason = r->entries[i].reason;
                if (reason < 0 || reason > 10 || reason == 7) {
                        rc = qerr_set(ei, QERR_SIGNER_REFUSED, "bad CRL reason");
                        goto out;
                }
                items[i].serial = r->entries[i].serial.p;
                items[i].serial_len = r->entries[i].serial.len;
                items[i].revoked_at = r->entries[i].revoked_at;
                items[i].reason = (int)reason;
        }
        const struct crl_mark *mark = crl_mark(st, issuer, false);
        struct lint_crl_opts lo = {
            .prev_number = mark ? mark->number : -1,
            .private_ca = pki_key_is_sm2(ikey),
            .issuer_der = r->issuer_der.p,
            .issuer_len = r->issuer_der.len,
        };
        struct pki_lint_gate gate = {.crl = &lo};
        if ((rc = gate_key(st, ikey, &gate.lint_key, ei)) != QERR_OK)
                goto out;
        if ((rc = pki_issue_crl_gated(issuer, ikey, r->crl_number, r->this_update, r->next_update,
                                      items, r->nentries, &gate, &crl, ei)) != QERR_OK)
                goto out;
        unsigned char *der = NULL;
        int n = i2d_X509_CRL(crl, &der);
        if (n <= 0) {
                rc = qerr_set(ei, QERR_INTERNAL, "could not encode the CRL");
                goto out;
        }
        struct signer_resp resp = {.type = SMSG_OK};
        resp.der.p = der;
        resp.der.len = (size_t)n;
        if (!signer_encode_resp(&resp, out))
                rc = qerr_set(ei, QERR_INTERNAL, "CRL too large for one message");
        OPENSSL_free(der);
        /* the number is spent once a CRL with it leaves the signer */
        struct crl_mark *m = rc == QERR_OK ? crl_mark(st, issuer, true) : NULL;
        if (m && r->crl_number > m->number)
                m->number = r->crl_number;
out:
        free(items);
        X509_CRL_free(crl);
        X509_free(issuer);
        return rc;
}

void signer_handle(struct signer_state *st, const uint8_t *frame, size_t len, struct qbuf *out)
{
        struct signer_req r;
        struct qerr_info ei;
        qerr_clear(&ei);
        size_t start = out->len;
        enum qerr rc = signer_decode_req(frame, len, &r, &ei);
        if (rc == QERR_OK) {
                switch (r.type) {
                case SMSG_PING: {
                        struct signer_resp ok = {.type = SMSG_OK};
                        if (!signer_encode_resp(&ok, out))
                                rc = qerr_set(&ei, QERR_NOMEM, NULL);
                        break;
                }
                case SMSG_CREATE_ROOT:
                case SMSG_CREATE_ISSUING:
                        rc = do_create(st, &r, out, &ei);
                        break;
                case SMSG_SIGN_CERT:
                        rc = do_sign_cert(st, &r, out, &ei);
                        break;
                case SMSG_SIGN_CRL:
                        rc = do_sign_crl(st, &r, out, &ei);
                        break;
                default:
                        rc = qerr_set(&ei, QERR_PROTO, "unexpected message");
                }
        }
        signer_req_clear(&r);
        if (rc != QERR_OK) {
                out->len = start;
                struct signer_resp e = {.type = SMSG_ERROR, .code = rc};
                e.message = sbytes_str(qerr_message(&ei));
                if (e.message.len > 1000)
                        e.message.len = 1000;
                signer_encode_resp(&e, out);
                char esc[600];
                qlog_warn("signer refused", "code=%s why=%s", qerr_code(rc),
                          qlog_escape(qerr_message(&ei), esc, sizeof esc));
        }
}
