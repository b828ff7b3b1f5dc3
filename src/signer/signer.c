/*
 * signer.c - the signer's request handler: state, CA creation, certificate
 * signing; see signer.h. CRLs (a session of frames) are in signer_crl.c,
 * the key directory in signer_keys.c, the process around it in
 * signer_main.c, and the client half (start, call, restart, stop) in
 * signer_client.c.
 *
 * The handler trusts nothing the main process sends: it decodes with the
 * strict decoder, reloads the issuer from the DER it was given, proves it
 * holds that issuer's key (the key file is named by the SHA-256 of the
 * issuer's public key and must match it), and applies the profile checks
 * below before any signature is made: never a subscriber key that is a CA
 * key of this signer. Runs single-threaded in the signer process.
 */
#include "signer_internal.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../base/fsutil.h"
#include "../base/log.h"
#include "../base/qtime.h"
#include "../pki/pki_issue.h"
#include "../pki/pki_key.h"
#include "../pki/pki_pem.h"
#include "../policy/policy.h"
#include "../policy/profile.h"

#define ROOT_YEARS 10
#define ISSUING_YEARS 5

/* The passphrase gets a page of its own: locked (never swapped) and never
 * in a core dump (the process is not dumpable either). */
static bool keep_passphrase(struct signer_state *st, const char *p)
{
        long pg = sysconf(_SC_PAGESIZE);
        size_t page = pg > 0 ? (size_t)pg : 4096;
        size_t len = strlen(p);
        st->pass_map = (len + 1 + page - 1) / page * page;
        void *m =
            mmap(NULL, st->pass_map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
                return false;
        (void)mlock(m, st->pass_map); /* best effort (RLIMIT_MEMLOCK) */
        madvise(m, st->pass_map, MADV_DONTDUMP);
        memcpy(m, p, len + 1);
        st->passphrase = m;
        return true;
}

struct signer_state *signer_state_new(const struct signer_config *c)
{
        struct signer_state *st = calloc(1, sizeof *st);
        if (!st)
                return NULL;
        snprintf(st->data_dir, sizeof st->data_dir, "%s", c->data_dir);
        snprintf(st->key_dir, sizeof st->key_dir, "%s/ca", c->data_dir);
        st->private_max_days = c->private_max_days;
        st->public_max_days = c->public_max_days;
        st->allow_private_ips = c->allow_private_ips;
        snprintf(st->note, sizeof st->note, "%s", c->note ? c->note : "");
        st->journal.fd = -1;
        if (c->passphrase && *c->passphrase && !keep_passphrase(st, c->passphrase)) {
                free(st);
                return NULL;
        }
        return st;
}

void signer_state_free(struct signer_state *st)
{
        if (!st)
                return;
        signer_crl_end(st);
        signer_journal_close(st);
        for (size_t i = 0; i < st->nkeys; i++)
                EVP_PKEY_free(st->keys[i].key);
        for (size_t i = 0; i < GATE__COUNT; i++)
                EVP_PKEY_free(st->gate_keys[i]);
        for (size_t i = 0; i < st->nresponders; i++)
                EVP_PKEY_free(st->responders[i].key);
        signer_issuers_free(st);
        if (st->passphrase) {
                OPENSSL_cleanse(st->passphrase, st->pass_map);
                munmap(st->passphrase, st->pass_map);
        }
        free(st);
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

/* Two-phase issuance (issue 7): the certificate goes into the journal,
 * fsync'd, before it leaves the signer; when that fails it never leaves. */
static enum qerr journal_and_respond(struct signer_state *st, X509 *issuer, X509 *x,
                                     struct sbytes serial, struct qbuf *out, struct qerr_info *ei)
{
        char key_id[65];
        struct qbuf der;
        qbuf_init(&der, 200000);
        enum qerr rc = pki_key_id(X509_get0_pubkey(issuer), key_id, ei);
        if (rc == QERR_OK)
                rc = pki_cert_der(x, &der, ei);
        if (rc == QERR_OK)
                rc = signer_journal_append(st, serial.p, serial.len, key_id, der.data, der.len, ei);
        if (rc == QERR_OK) {
                struct signer_resp r = {.type = SMSG_OK};
                r.der.p = der.data;
                r.der.len = der.len;
                r.key_id = sbytes_str("");
                if (!signer_encode_resp(&r, out))
                        rc = qerr_set(ei, QERR_INTERNAL, "response too large");
        }
        qbuf_free(&der);
        return rc;
}

/* ---- the lint gate (issue 7; pki_issue.h) ---- */

/* The throwaway key of `signing`'s kind, kept for the life of the signer. */
enum qerr signer_gate_key(struct signer_state *st, EVP_PKEY *signing, EVP_PKEY **out,
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
                if ((rc = signer_load_issuer(st, r->issuer_der, &issuer, ei)) != QERR_OK)
                        goto out;
                if (!is_root(issuer)) {
                        rc = qerr_set(ei, QERR_SIGNER_REFUSED,
                                      "issuing CAs are signed by a root only");
                        goto out;
                }
                if ((rc = signer_issuer_key(st, issuer, &ikey, ei)) != QERR_OK)
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
        if ((rc = signer_gate_key(st, issuer ? ikey : k, &gate.lint_key, ei)) != QERR_OK)
                goto out;
        cp.lint = &gate;
        if ((rc = pki_issue_ca(&cp, &x, ei)) != QERR_OK)
                goto out;
        char id[65];
        if ((rc = signer_store_new_key(st, k, id, ei)) != QERR_OK)
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
 * service, which made the same decisions before asking. `variant` gets the
 * issuance profile (src/policy/profile.h) named by the request, or NULL for
 * a plain certificate type. */
static enum qerr check_ee(struct signer_state *st, const struct signer_req *r, X509 *issuer,
                          EVP_PKEY *ikey, EVP_PKEY *subj, enum cert_profile *profile,
                          const struct issue_profile **variant,
                          char names[][QUILL_MAX_NAME_LEN + 1], struct qerr_info *ei)
{
        char prof[16], alg[16];
        if (!sbytes_cstr(r->profile, prof, sizeof prof) ||
            !policy_profile_from_wire(prof, profile, variant))
                return qerr_set(ei, QERR_SIGNER_REFUSED, "unknown profile");
        const unsigned flags = *variant ? policy_profile_name_flags(*variant)
                                        : policy_name_flags(*profile == PROFILE_PRIVATE);
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
                rc = *variant
                         ? policy_profile_check_name(*variant, raw, st->allow_private_ips, names[i],
                                                     QUILL_MAX_NAME_LEN + 1, ei)
                         : policy_check_name_ex(raw, flags, names[i], QUILL_MAX_NAME_LEN + 1, ei);
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
        if (rc == QERR_OK && *variant)
                rc = policy_profile_check_validity(*variant, r->not_before, r->not_after,
                                                   st->public_max_days, ei);
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
        const struct issue_profile *variant = NULL;
        char crl[SIGNER_MAX_URL + 1], ocsp[SIGNER_MAX_URL + 1], cai[SIGNER_MAX_URL + 1];
        if (!names)
                return qerr_set(ei, QERR_NOMEM, NULL);
        enum qerr rc = signer_load_issuer(st, r->issuer_der, &issuer, ei);
        if (rc != QERR_OK)
                goto out;
        if (is_root(issuer)) {
                rc = qerr_set(ei, QERR_SIGNER_REFUSED,
                              "end-entity certificates are never signed by a root");
                goto out;
        }
        if ((rc = signer_issuer_key(st, issuer, &ikey, ei)) != QERR_OK)
                goto out;
        const unsigned char *p = r->spki_der.p;
        subj = d2i_PUBKEY(NULL, &p, (long)r->spki_der.len);
        if (!subj || p != r->spki_der.p + r->spki_der.len) {
                ERR_clear_error();
                rc = qerr_set(ei, QERR_SIGNER_REFUSED, "the subject public key does not parse");
                goto out;
        }
        /* BR 6.1.1.3: a subscriber key is never a CA's key */
        if (EVP_PKEY_eq(subj, X509_get0_pubkey(issuer)) == 1 || signer_is_ca_key(st, subj)) {
                rc = qerr_set(ei, QERR_SIGNER_REFUSED,
                              "the subject public key is the key of a CA of this signer; a "
                              "subscriber certificate needs a key of its own (BR 6.1.1.3)");
                goto out;
        }
        if ((rc = check_ee(st, r, issuer, ikey, subj, &profile, &variant, names, ei)) != QERR_OK)
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
            .max_validity_seconds = variant ? variant->max_seconds : 0,
            .allow_reserved_ip = variant && variant->ip_identifiers && st->allow_private_ips,
            .issuer_der = r->issuer_der.p,
            .issuer_len = r->issuer_der.len,
        };
        struct pki_lint_gate gate = {.cert = &lo};
        if ((rc = signer_gate_key(st, ikey, &gate.lint_key, ei)) != QERR_OK)
                goto out;
        ep.lint = &gate;
        if ((rc = pki_issue_ee(issuer, ikey, &ep, &x, ei)) != QERR_OK)
                goto out;
        rc = journal_and_respond(st, issuer, x, r->serial, out, ei);
out:
        free(names);
        X509_free(issuer);
        X509_free(x);
        EVP_PKEY_free(subj);
        return rc;
}

void signer_handle(struct signer_state *st, const uint8_t *frame, size_t len, struct qbuf *out)
{
        struct signer_req r;
        struct qerr_info ei;
        qerr_clear(&ei);
        size_t start = out->len;
        st->err_crl_number = 0;
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
                case SMSG_CRL_BEGIN:
                        rc = signer_crl_begin(st, &r, out, &ei);
                        break;
                case SMSG_CRL_ENTRIES:
                        rc = signer_crl_entries(st, &r, out, &ei);
                        break;
                case SMSG_CRL_FINISH:
                        rc = signer_crl_finish(st, out, &ei);
                        break;
                case SMSG_JOURNAL_READ:
                        rc = signer_journal_read(st, &r, out, &ei);
                        break;
                case SMSG_JOURNAL_TRIM:
                        rc = signer_journal_trim(st, &r, out, &ei);
                        break;
                case SMSG_CREATE_RESPONDER:
                        rc = signer_create_responder(st, &r, out, &ei);
                        break;
                case SMSG_SIGN_OCSP:
                        rc = signer_sign_ocsp(st, &r, out, &ei);
                        break;
                default:
                        rc = qerr_set(&ei, QERR_PROTO, "unexpected message");
                }
        }
        signer_req_clear(&r);
        if (rc != QERR_OK) {
                signer_crl_end(st); /* any refusal ends a CRL session */
                out->len = start;
                struct signer_resp e = {
                    .type = SMSG_ERROR, .code = rc, .crl_number = st->err_crl_number};
                e.message = sbytes_str(qerr_message(&ei));
                if (e.message.len > 1000)
                        e.message.len = 1000;
                signer_encode_resp(&e, out);
                char esc[600];
                qlog_warn("signer refused", "code=%s why=%s", qerr_code(rc),
                          qlog_escape(qerr_message(&ei), esc, sizeof esc));
        }
}
