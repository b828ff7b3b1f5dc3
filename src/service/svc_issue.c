/*
 * svc_issue.c - issuing certificates: from a pasted CSR (sign), from a key
 * the service generates (apply), and reissue (RULES.md §6).
 *
 * Every path ends in issue_one(): check the names and the validity against
 * policy, pick the issuing CA, draw a serial, ask the signer, and turn its
 * answer into a cert_rec that the caller stores together with its events.
 */
#include "service_internal.h"

#include "../notify/notify.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/hex.h"
#include "../base/log.h"
#include "../base/metrics.h"
#include "../base/testhook.h"
#include "../pki/pki_csr.h"
#include "../pki/pki_pem.h"
#include "../policy/policy.h"

struct issue_input {
        int64_t tenant_id;  /* the owner of the new certificate */
        const char *tenant; /* and its name */
        EVP_PKEY *pub;
        const char *key_alg;
        char **names; /* normalised */
        size_t nnames;
        enum cert_profile profile;
        long days;
        qtime_t not_after; /* reissue: the original's not-after; 0 otherwise */
        int64_t parent_id;
        const char *csr_pem;
        bool validated; /* a public profile's names passed validation (orders) */
        bool free_cert;
        const char *org; /* OV/EV: "O=..\nC=..\nST=..\nL=.." for the signer */
};

static void free_names(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* Checks and normalises the requested names; refuses duplicates. */
static enum qerr normalise_names(const char *const *in, size_t n, enum cert_profile profile,
                                 char ***out, size_t *nout, struct qerr_info *ei)
{
        if (n == 0)
                return qerr_set(ei, QERR_USAGE, "at least one name is required (--name)");
        if (n > QUILL_MAX_NAMES)
                return qerr_set(ei, QERR_POLICY_DENIED,
                                "at most %d names per certificate (%zu "
                                "asked)",
                                QUILL_MAX_NAMES, n);
        char **v = calloc(n, sizeof *v);
        if (!v)
                return qerr_set(ei, QERR_NOMEM, NULL);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                char norm[QUILL_MAX_NAME_LEN + 1];
                enum qerr rc = policy_check_name_ex(
                    in[i], policy_name_flags(profile == PROFILE_PRIVATE), norm, sizeof norm, ei);
                /* issue 7: internal names stay private, refused before any
                 * validation */
                if (rc == QERR_OK && cert_profile_is_public(profile))
                        rc = policy_check_public_name(norm, ei);
                if (rc != QERR_OK) {
                        free_names(v, k);
                        return rc;
                }
                bool dup = false;
                for (size_t j = 0; j < k; j++)
                        dup = dup || strcmp(v[j], norm) == 0;
                if (dup)
                        continue;
                if (!(v[k] = strdup(norm))) {
                        free_names(v, k);
                        return qerr_set(ei, QERR_NOMEM, NULL);
                }
                k++;
        }
        *out = v;
        *nout = k;
        return QERR_OK;
}

static enum qerr check_profile(enum cert_profile p, struct qerr_info *ei)
{
        if (p == PROFILE_PRIVATE)
                return QERR_OK;
        return qerr_set(ei, QERR_POLICY_DENIED,
                        "the %s profile needs domain validation, which this version does not "
                        "offer yet; use --profile private (operator-trusted names)",
                        cert_profile_name(p));
}

static enum qerr new_serial(struct service *s, uint8_t serial[16], char hex[41],
                            struct qerr_info *ei)
{
        for (int tries = 0; tries < 4; tries++) {
                /* 16 bytes from the CSPRNG; the top bit is cleared (positive) and
                 * the next set (no leading zero byte): 126 random bits, well above
                 * the 64 of BR 7.1. */
                if (RAND_bytes(serial, 16) != 1)
                        return qerr_set(ei, QERR_INTERNAL, "no randomness for a serial");
                serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);
                hex_encode(serial, 16, hex, 41);
                bool used = false;
                enum qerr rc = ST(s)->ops->cert_serial_exists(ST(s), hex, &used, ei);
                if (rc != QERR_OK)
                        return rc;
                if (!used)
                        return QERR_OK;
        }
        return qerr_set(ei, QERR_INTERNAL, "could not draw an unused serial");
}

static enum qerr chain_of(struct service *s, const struct ca_rec *issuing, char **out,
                          struct qerr_info *ei)
{
        struct ca_rec *root = NULL;
        enum qerr rc = QERR_OK;
        if (issuing->parent_id &&
            (rc = ST(s)->ops->ca_get(ST(s), issuing->parent_id, &root, ei)) != QERR_OK)
                return rc;
        if (asprintf(out, "%s%s", issuing->cert_pem, root ? root->cert_pem : "") < 0) {
                *out = NULL;
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        }
        ca_rec_free(root);
        return rc;
}

/* Signs one certificate; the caller stores the returned record. */
static enum qerr issue_one(struct service *s, const struct issue_input *in, struct cert_rec **out,
                           struct qerr_info *ei)
{
        struct ca_rec *ca = NULL;
        struct cert_rec *c = NULL;
        X509 *x = NULL;
        struct qbuf spki, cader, frame, pem;
        qbuf_init(&spki, 8192);
        qbuf_init(&cader, 64 * 1024);
        qbuf_init(&frame, MAX_SIGNER_MSG_BYTES);
        qbuf_init(&pem, 64 * 1024);
        uint8_t serial[16];
        char hex[41];
        qtime_t now = qtime_now();
        char spki_hash[65] = "";
        enum qerr rc = in->validated ? QERR_OK : check_profile(in->profile, ei);
        if (rc == QERR_OK) /* issue 6: checked again right before signing */
                rc = policy_base_url_ok(in->profile, s->cfg->server_base_url,
                                        s->cfg->validation_allow_private_addresses, ei);
        /* issue 7: never a key reported compromised, whoever's CSR (or our
         * own generated key) it is */
        if (rc == QERR_OK)
                rc = svc_key_check(s, in->pub, spki_hash, ei);
        if (rc != QERR_OK)
                goto out;
        long max_days = policy_max_validity_days(in->profile, now, s->cfg->public_max_days,
                                                 s->cfg->private_max_days);
        long days = in->days ? in->days : max_days;
        if (in->days < 0 || in->days > 100000) {
                rc = qerr_set(ei, QERR_USAGE, "--days must be between 1 and %ld", max_days);
                goto out;
        }
        qtime_t not_before = now;
        qtime_t not_after = not_before + days * QTIME_DAY - 1;
        if (in->not_after) {
                /* a reissue keeps the original's not-after, shortened only if the
                 * limit in force today is shorter (never extended) */
                not_after = in->not_after;
                if (not_after > not_before + max_days * QTIME_DAY - 1)
                        not_after = not_before + max_days * QTIME_DAY - 1;
        }
        rc = policy_check_validity(in->profile, not_before, not_after, s->cfg->public_max_days,
                                   s->cfg->private_max_days, ei);
        if (rc != QERR_OK)
                goto out;
        if ((rc = svc_pick_issuer(s, in->key_alg, &ca, ei)) != QERR_OK)
                goto out;
        if (not_after > ca->not_after) {
                rc = qerr_set(ei, QERR_POLICY_DENIED,
                              "the certificate would outlive its issuing CA (which expires "
                              "sooner); ask for fewer --days");
                goto out;
        }
        if ((rc = new_serial(s, serial, hex, ei)) != QERR_OK)
                goto out;
        if ((rc = pki_key_spki_der(in->pub, &spki, ei)) != QERR_OK)
                goto out;
        X509 *cax = NULL;
        if ((rc = pki_cert_read(ca->cert_pem, strlen(ca->cert_pem), &cax, ei)) != QERR_OK)
                goto out;
        rc = pki_cert_der(cax, &cader, ei);
        X509_free(cax);
        if (rc != QERR_OK)
                goto out;
        /* the CRL shard is fixed now, with the count in force, and named in
         * the certificate (docs/internals/crl.md) */
        int shard = policy_crl_shard(hex, (int)s->cfg->crl_shards);
        if (shard < 0) {
                rc = qerr_set(ei, QERR_INTERNAL, "no CRL shard for serial %s", hex);
                goto out;
        }
        char crl[600], ocsp[600], cai[600];
        svc_urls(s, ca->id, shard, crl, ocsp, cai, sizeof crl);
        struct signer_req req = {.type = SMSG_SIGN_CERT};
        req.issuer_der.p = cader.data;
        req.issuer_der.len = cader.len;
        req.spki_der.p = spki.data;
        req.spki_der.len = spki.len;
        for (size_t i = 0; i < in->nnames; i++)
                req.names[i] = sbytes_str(in->names[i]);
        req.nnames = in->nnames;
        req.not_before = not_before;
        req.not_after = not_after;
        req.serial.p = serial;
        req.serial.len = sizeof serial;
        req.profile = sbytes_str(cert_profile_name(in->profile));
        req.crl_url = sbytes_str(crl);
        req.ocsp_url = sbytes_str(ocsp);
        req.ca_issuers_url = sbytes_str(cai);
        req.org = sbytes_str(in->org ? in->org : "");
        struct signer *sg;
        struct signer_resp resp;
        if ((rc = svc_signer(s, &sg, ei)) != QERR_OK)
                goto out;
        if ((rc = signer_call(sg, &req, &frame, &resp, ei)) != QERR_OK)
                goto out;
        if ((rc = pki_cert_read(resp.der.p, resp.der.len, &x, ei)) != QERR_OK)
                goto out;
        if ((rc = pki_cert_pem(x, &pem, ei)) != QERR_OK)
                goto out;
        c = calloc(1, sizeof *c);
        if (!c || !(c->names = calloc(in->nnames, sizeof *c->names))) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto out;
        }
        for (size_t i = 0; i < in->nnames; i++) {
                if (!(c->names[i] = strdup(in->names[i]))) {
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                        goto out;
                }
                c->nnames++;
        }
        c->ca_id = ca->id;
        c->tenant_id = in->tenant_id;
        snprintf(c->tenant, sizeof c->tenant, "%s", in->tenant ? in->tenant : "");
        c->crl_shard = shard;
        c->parent_id = in->parent_id;
        memcpy(c->serial, hex, sizeof c->serial);
        c->not_before = not_before;
        c->not_after = not_after;
        snprintf(c->key_algorithm, sizeof c->key_algorithm, "%s", in->key_alg);
        c->profile = in->profile;
        c->free_cert = in->free_cert;
        c->origin = ORIGIN_ISSUED;
        c->status = CERT_ISSUED;
        c->created_at = now;
        c->revoke_reason = -1;
        snprintf(c->spki_sha256, sizeof c->spki_sha256, "%s", spki_hash);
        c->issuer = pki_name_oneline(X509_get_issuer_name(x));
        c->cert_pem = strdup(qbuf_str(&pem));
        c->csr_pem = in->csr_pem ? strdup(in->csr_pem) : NULL;
        rc = chain_of(s, ca, &c->chain_pem, ei);
        if (rc == QERR_OK && (!c->issuer || !c->cert_pem || (in->csr_pem && !c->csr_pem)))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
out:
        if (rc == QERR_OK)
                metrics_count("quill_certificates_signed_total",
                              "Certificates the signer signed, by profile.", 1, "profile",
                              cert_profile_name(in->profile), NULL);
        else
                metrics_count("quill_issuance_failures_total",
                              "Issuances that failed before or at the signer, by error code.", 1,
                              "code", qerr_code(rc), NULL);
        X509_free(x);
        ca_rec_free(ca);
        qbuf_free(&spki);
        qbuf_free(&cader);
        qbuf_free(&frame);
        qbuf_free(&pem);
        if (rc != QERR_OK) {
                cert_rec_free(c);
                return rc;
        }
        *out = c;
        return QERR_OK;
}

enum qerr svc_insert_cert(struct service *s, struct cert_rec *c, const char *why,
                          struct qerr_info *ei)
{
        enum qerr rc = ST(s)->ops->cert_insert(ST(s), c, ei);
        if (rc == QERR_OK)
                rc = svc_crl_note_issued(s, c, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, c->tenant_id, "certificate", c->id, NULL, "issued",
                               "%s; serial %s; profile %s", why, c->serial,
                               cert_profile_name(c->profile));
        if (rc == QERR_OK)
                rc = svc_notify_cert(s, NOTIFY_CERT_ISSUED, c->tenant_id, c->id, ei);
        return rc;
}

/* A private-profile order, issued at once (the REST API's orders): the
 * record of what was asked, with its names marked as needing neither
 * validation nor CAA. Caller frees. */
static struct order_rec *private_order(struct service *s, const struct cert_rec *c)
{
        struct order_rec *o = calloc(1, sizeof *o);
        if (!o || !(o->names = calloc(c->nnames ? c->nnames : 1, sizeof *o->names))) {
                free(o);
                return NULL;
        }
        qtime_t now = qtime_now();
        snprintf(o->purpose, sizeof o->purpose, "issue");
        o->tenant_id = c->tenant_id;
        snprintf(o->tenant, sizeof o->tenant, "%s", c->tenant);
        snprintf(o->created_by, sizeof o->created_by, "%s", s->who.name);
        o->status = ORDER_ISSUED;
        o->profile = c->profile;
        snprintf(o->key_algorithm, sizeof o->key_algorithm, "%s", c->key_algorithm);
        o->deadline = o->created_at = o->updated_at = now;
        for (size_t i = 0; i < c->nnames; i++) {
                struct order_name_rec *n = &o->names[o->nnames++];
                snprintf(n->name, sizeof n->name, "%s", c->names[i]);
                snprintf(n->method, sizeof n->method, "none");
                snprintf(n->validation_status, sizeof n->validation_status, "not_required");
                snprintf(n->caa_status, sizeof n->caa_status, "not_checked");
                n->value_expires = now;
        }
        return o;
}

/* Stores a freshly issued certificate and its event in one transaction;
 * with `order`, also a private order that records it (returned there). */
static enum qerr store_new(struct service *s, struct cert_rec *c, const char *why,
                           struct order_rec **order, struct qerr_info *ei)
{
        enum qerr rc = ST(s)->ops->begin(ST(s), ei);
        if (rc != QERR_OK)
                return rc;
        bool blocked = false;
        rc = svc_insert_cert(s, c, why, ei);
        /* issue 7: signed outside this transaction; its key may have been
         * blocked meanwhile: then it is stored revoked, and refused */
        if (rc == QERR_OK)
                rc = svc_key_recheck_tx(s, c, &blocked, ei);
        if (rc == QERR_OK && blocked) {
                if ((rc = ST(s)->ops->commit(ST(s), ei)) != QERR_OK)
                        return rc;
                return qerr_set(ei, QERR_KEY_BLOCKED,
                                "the key was reported compromised while the certificate was "
                                "being signed; certificate %lld was revoked at once "
                                "(keyCompromise). Use a new key",
                                (long long)c->id);
        }
        struct order_rec *o = NULL;
        if (rc == QERR_OK && order && !(o = private_order(s, c)))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        if (rc == QERR_OK && o) {
                o->certificate_id = c->id;
                rc = ST(s)->ops->order_insert(ST(s), o, ei);
                if (rc == QERR_OK)
                        rc = ST(s)->ops->order_update(ST(s), o, ei);
                if (rc == QERR_OK)
                        rc = svc_event(s, o->tenant_id, "order", o->id, NULL, "issued",
                                       "private order for %zu name(s): certificate %lld issued "
                                       "at once",
                                       o->nnames, (long long)c->id);
        }
        if (rc != QERR_OK) {
                order_rec_free(o);
                return svc_abort(s, rc);
        }
        rc = svc_commit(s, ei);
        if (rc == QERR_OK && order)
                *order = o;
        else
                order_rec_free(o);
        return rc;
}

/* The order's canonical organisation text ("organization=..\ncountry=..")
 * in the signer's form ("O=..\nC=..\nST=..\nL=.."); OU is not carried (BR
 * 7.1.2.7.4 forbids it). */
static void org_for_signer(const char *canon, char *out, size_t sz)
{
        static const struct {
                const char *key, *attr;
        } map[] = {{"organization", "O"}, {"country", "C"}, {"state", "ST"}, {"locality", "L"}};
        size_t o = 0;
        out[0] = 0;
        for (size_t m = 0; canon && m < sizeof map / sizeof map[0]; m++) {
                size_t kl = strlen(map[m].key);
                for (const char *p = canon; p && *p;) {
                        const char *nl = strchr(p, '\n');
                        if (!strncmp(p, map[m].key, kl) && p[kl] == '=') {
                                const char *v = p + kl + 1;
                                int len = nl ? (int)(nl - v) : (int)strlen(v);
                                if (len > 0 && o < sz)
                                        o += (size_t)snprintf(out + o, sz - o, "%s%s=%.*s",
                                                              o ? "\n" : "", map[m].attr, len, v);
                                break;
                        }
                        p = nl ? nl + 1 : NULL;
                }
        }
}

/* The organisation of an OV/EV certificate, read from its subject, in the
 * signer's form (for reissues). */
static void org_of_cert(const struct cert_rec *c, char *out, size_t sz)
{
        static const struct {
                int nid;
                const char *attr;
        } map[] = {{NID_organizationName, "O"},
                   {NID_countryName, "C"},
                   {NID_stateOrProvinceName, "ST"},
                   {NID_localityName, "L"}};
        X509 *x = NULL;
        size_t o = 0;
        out[0] = 0;
        if (pki_cert_read(c->cert_pem, strlen(c->cert_pem), &x, NULL) != QERR_OK)
                return;
        X509_NAME *nm = X509_get_subject_name(x);
        for (size_t m = 0; m < sizeof map / sizeof map[0]; m++) {
                int idx = X509_NAME_get_index_by_NID(nm, map[m].nid, -1);
                unsigned char *u = NULL;
                int len = -1;
                if (idx >= 0)
                        len = ASN1_STRING_to_UTF8(
                            &u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, idx)));
                if (len > 0 && o < sz)
                        o += (size_t)snprintf(out + o, sz - o, "%s%s=%.*s", o ? "\n" : "",
                                              map[m].attr, len, (const char *)u);
                OPENSSL_free(u);
        }
        X509_free(x);
}

enum qerr svc_issue_order(struct service *s, const struct order_rec *o, struct cert_rec **out,
                          struct qerr_info *ei)
{
        struct csr_info csr;
        struct cert_rec *c = NULL;
        EVP_PKEY *key = NULL;
        char **names = calloc(o->nnames ? o->nnames : 1, sizeof *names);
        if (!names)
                return qerr_set(ei, QERR_NOMEM, NULL);
        for (size_t i = 0; i < o->nnames; i++)
                names[i] = (char *)o->names[i].name; /* borrowed */
        struct cert_rec *orig = NULL;
        enum qerr rc = pki_csr_parse(o->csr_pem, o->csr_pem ? strlen(o->csr_pem) : 0, &csr, ei);
        if (rc == QERR_OK && !strcmp(o->purpose, "reissue"))
                rc = ST(s)->ops->cert_get(ST(s), o->tenant_id, o->subject_id, &orig, ei);
        if (rc == QERR_OK) {
                struct issue_input in = {.tenant_id = o->tenant_id,
                                         .tenant = o->tenant,
                                         .pub = csr.key,
                                         .key_alg = csr.key_algorithm,
                                         .names = names,
                                         .nnames = o->nnames,
                                         .profile = o->profile,
                                         .days = o->days,
                                         .csr_pem = o->csr_pem,
                                         .validated = true,
                                         .free_cert = o->free_cert};
                char org[520];
                if (orig) {
                        /* a reissue keeps the original's not-after (and its
                         * organisation) */
                        in.parent_id = orig->id;
                        in.not_after = orig->not_after;
                        org_of_cert(orig, org, sizeof org);
                } else {
                        org_for_signer(o->org_info, org, sizeof org);
                }
                in.org = org[0] ? org : NULL;
                rc = issue_one(s, &in, &c, ei);
        }
        cert_rec_free(orig);
        if (rc == QERR_OK && o->key_blob) {
                /* the order's key becomes the certificate's: re-bound to it */
                if (o->key_protection == KEYPROT_PASSWORD) {
                        c->key_blob = malloc(o->key_blob_len);
                        if (!c->key_blob) {
                                rc = qerr_set(ei, QERR_NOMEM, NULL);
                        } else {
                                memcpy(c->key_blob, o->key_blob, o->key_blob_len);
                                c->key_blob_len = o->key_blob_len;
                                c->key_protection = KEYPROT_PASSWORD;
                        }
                } else {
                        char aad[64];
                        svc_order_key_aad(o->id, aad, sizeof aad);
                        rc = svc_unseal_key(s, o->key_blob, o->key_blob_len, o->key_protection, aad,
                                            NULL, &key, ei);
                        if (rc == QERR_OK)
                                rc = svc_store_key(s, key, NULL, c, ei);
                }
        }
        EVP_PKEY_free(key);
        csr_info_clear(&csr);
        free(names);
        if (rc != QERR_OK) {
                cert_rec_free(c);
                return rc;
        }
        *out = c;
        return QERR_OK;
}

enum qerr service_cert_sign(struct service *s, const struct sign_req *r, struct cert_rec **out,
                            struct qerr_info *ei)
{
        struct csr_info csr;
        char **names = NULL;
        size_t n = 0;
        struct cert_rec *c = NULL;
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "issue certificates", ei);
        if (rc == QERR_OK)
                rc = pki_csr_parse(r->csr, r->csr_len, &csr, ei);
        if (rc != QERR_OK)
                return rc;
        /* the names first: an internal name under a public profile gets its
         * own sentence (issue 7) */
        rc =
            normalise_names((const char *const *)csr.names, csr.nnames, r->profile, &names, &n, ei);
        if (rc == QERR_OK)
                rc = check_profile(r->profile, ei);
        struct qbuf pem;
        qbuf_init(&pem, MAX_CSR_BYTES * 2);
        /* store the CSR as PEM whatever form it came in */
        if (rc == QERR_OK)
                rc = pki_csr_pem(csr.req, &pem, ei);
        if (rc == QERR_OK) {
                struct issue_input in = {.tenant_id = s->who.tenant_id,
                                         .tenant = s->who.tenant,
                                         .pub = csr.key,
                                         .key_alg = csr.key_algorithm,
                                         .names = names,
                                         .nnames = n,
                                         .profile = r->profile,
                                         .days = r->days,
                                         .csr_pem = qbuf_str(&pem)};
                rc = issue_one(s, &in, &c, ei);
        }
        if (rc == QERR_OK)
                rc = store_new(s, c, "signed from a CSR", r->order, ei);
        csr_info_clear(&csr);
        free_names(names, n);
        qbuf_free(&pem);
        if (rc != QERR_OK) {
                cert_rec_free(c);
                return rc;
        }
        *out = c;
        return QERR_OK;
}

/* Generates a key of `alg` and a CSR for `names`. */
static enum qerr new_key_and_csr(const char *alg, char **names, size_t n, EVP_PKEY **key,
                                 struct qbuf *csr, struct qerr_info *ei)
{
        enum key_alg ka;
        if (!alg || !key_alg_from_name(alg, &ka))
                return qerr_set(ei, QERR_KEY_UNSUPPORTED,
                                "unknown key type %s; use ec256, ec384, "
                                "rsa2048, rsa3072, rsa4096 or sm2",
                                alg ? alg : "(none)");
        enum qerr rc = pki_key_generate(ka, key, ei);
        if (rc == QERR_OK)
                rc = pki_csr_build(*key, (const char *const *)names, n, csr, ei);
        if (rc != QERR_OK) {
                EVP_PKEY_free(*key);
                *key = NULL;
        }
        return rc;
}

static enum qerr check_key_password(const char *pw, struct qerr_info *ei)
{
        return svc_check_key_password(pw, ei);
}

enum qerr service_cert_apply(struct service *s, const struct apply_req *r, struct cert_rec **out,
                             struct qerr_info *ei)
{
        char **names = NULL;
        size_t n = 0;
        EVP_PKEY *key = NULL;
        struct cert_rec *c = NULL;
        struct qbuf csr;
        qbuf_init(&csr, MAX_CSR_BYTES);
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "issue certificates", ei);
        if (rc == QERR_OK)
                rc = check_profile(r->profile, ei);
        if (rc == QERR_OK)
                rc = check_key_password(r->key_password, ei);
        if (rc == QERR_OK)
                rc = normalise_names(r->names, r->nnames, r->profile, &names, &n, ei);
        if (rc == QERR_OK)
                rc = new_key_and_csr(r->key_alg, names, n, &key, &csr, ei);
        if (rc == QERR_OK) {
                struct issue_input in = {.tenant_id = s->who.tenant_id,
                                         .tenant = s->who.tenant,
                                         .pub = key,
                                         .key_alg = r->key_alg,
                                         .names = names,
                                         .nnames = n,
                                         .profile = r->profile,
                                         .days = r->days,
                                         .csr_pem = qbuf_str(&csr)};
                rc = issue_one(s, &in, &c, ei);
        }
        if (rc == QERR_OK)
                rc = svc_store_key(s, key, r->key_password, c, ei);
        if (rc == QERR_OK)
                rc = store_new(s, c,
                               r->key_password ? "key generated by the service, stored under the "
                                                 "applicant's password"
                                               : "key generated by the service, sealed under the "
                                                 "data key",
                               r->order, ei);
        EVP_PKEY_free(key);
        free_names(names, n);
        qbuf_free(&csr);
        if (rc != QERR_OK) {
                cert_rec_free(c);
                return rc;
        }
        *out = c;
        return QERR_OK;
}

/* ---- reissue ---- */

/* JSON array of the registered domains of `c`'s names. */
static char *registered_domains(const struct cert_rec *c)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < c->nnames; i++) {
                char rd[QUILL_MAX_NAME_LEN + 1];
                if (!policy_registered_domain(c->names[i], rd, sizeof rd))
                        continue; /* IP literals and the like: no registered domain */
                bool seen = false;
                size_t j;
                json_t *v;
                json_array_foreach(a, j, v) seen = seen || strcmp(json_string_value(v), rd) == 0;
                if (!seen)
                        json_array_append_new(a, json_string(rd));
        }
        char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
        json_decref(a);
        return s;
}

/* Is another certificate under one of `mine`'s registered domains being
 * reissued? Fills the facts for policy_may_reissue. */
static enum qerr domain_lock(struct service *s, const struct cert_rec *c, const char *mine,
                             int64_t *locked_by, bool *other_tenant, char *domain, size_t dsz,
                             struct qerr_info *ei)
{
        struct reissue_rec *act = NULL;
        size_t n = 0;
        *locked_by = 0;
        *other_tenant = false;
        enum qerr rc = ST(s)->ops->reissue_active(ST(s), &act, &n, ei);
        if (rc != QERR_OK)
                return rc;
        json_t *a = json_loads(mine, 0, NULL);
        for (size_t i = 0; i < n && !*locked_by; i++) {
                if (act[i].certificate_id == c->id)
                        continue; /* the certificate's own reissue: REISSUE_IN_PROGRESS */
                json_t *b = json_loads(act[i].registered_domains, 0, NULL);
                size_t x, y;
                json_t *va, *vb;
                json_array_foreach(a, x, va) json_array_foreach(b, y, vb)
                {
                        if (!*locked_by &&
                            strcmp(json_string_value(va), json_string_value(vb)) == 0) {
                                /* the lock is global (it protects the domain);
                                 * who holds it is told only to its own tenant */
                                *locked_by = act[i].certificate_id;
                                *other_tenant = act[i].tenant_id != c->tenant_id;
                                snprintf(domain, dsz, "%s", json_string_value(va));
                        }
                }
                json_decref(b);
        }
        json_decref(a);
        store_free_reissues(act, n);
        return QERR_OK;
}

static bool same_names(char **a, size_t na, char **b, size_t nb)
{
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++) {
                bool found = false;
                for (size_t j = 0; j < nb && !found; j++)
                        found = strcmp(a[i], b[j]) == 0;
                if (!found)
                        return false;
        }
        return true;
}

static const char *csr_source_name(enum reissue_csr c)
{
        return c == REISSUE_SAME_CSR     ? "original"
               : c == REISSUE_PASTED_CSR ? "pasted"
                                         : "generated";
}

/* Marks the reissue failed and the original issued again (unless it moved on
 * meanwhile, e.g. was revoked); keeps `rc`. */
static enum qerr reissue_failed(struct service *s, int64_t tenant_id, int64_t cert_id, int64_t rid,
                                enum qerr rc, const struct qerr_info *why)
{
        struct qerr_info ei2;
        struct cert_rec *fresh = NULL;
        if (ST(s)->ops->begin(ST(s), &ei2) != QERR_OK)
                return rc;
        enum qerr r2 =
            ST(s)->ops->reissue_finish(ST(s), rid, "failed", 0, qerr_code(rc), qtime_now(), &ei2);
        if (r2 == QERR_OK)
                r2 = svc_event(s, tenant_id, "reissue", rid, "in_progress", "failed", "%s: %s",
                               qerr_code(rc), qerr_message(why));
        if (r2 == QERR_OK)
                r2 = ST(s)->ops->cert_get(ST(s), tenant_id, cert_id, &fresh, &ei2);
        if (r2 == QERR_OK && fresh->status == CERT_REISSUING)
                r2 = svc_cert_move(s, fresh, CERT_ISSUED, &ei2, "reissue %lld failed",
                                   (long long)rid);
        cert_rec_free(fresh);
        if (r2 == QERR_OK)
                svc_commit(s, &ei2);
        else
                svc_abort(s, r2);
        return rc;
}

/* Stores the reissued certificate `c` and closes reissue `rid`, in one
 * transaction. The original is read again first: if it was revoked while
 * the reissue ran, the new certificate is revoked with it (revoking the
 * original revokes every certificate reissued from it) and its CRL is
 * queued in the same transaction. */
static enum qerr reissue_complete_tx(struct service *s, int64_t orig_id, int64_t rid,
                                     struct cert_rec *c, bool *key_blocked, struct qerr_info *ei)
{
        struct cert_rec *fresh = NULL;
        struct revoke_run run;
        memset(&run, 0, sizeof run);
        bool blocked = false;
        enum qerr rc = ST(s)->ops->cert_get(ST(s), c->tenant_id, orig_id, &fresh, ei);
        bool revoked = rc == QERR_OK &&
                       (fresh->status == CERT_REVOKED || fresh->status == CERT_REVOCATION_PENDING);
        if (rc == QERR_OK)
                rc = ST(s)->ops->cert_insert(ST(s), c, ei);
        if (rc == QERR_OK)
                rc = svc_crl_note_issued(s, c, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->reissue_finish(ST(s), rid, "done", c->id, NULL, qtime_now(), ei);
        if (rc == QERR_OK)
                rc = svc_event(s, c->tenant_id, "certificate", c->id, NULL, "issued",
                               "reissue %lld of certificate %lld; serial %s", (long long)rid,
                               (long long)orig_id, c->serial);
        if (rc == QERR_OK)
                rc = svc_event(s, c->tenant_id, "reissue", rid, "in_progress", "done",
                               "new certificate %lld", (long long)c->id);
        if (rc == QERR_OK) {
                char detail[160];
                snprintf(detail, sizeof detail, "certificate %lld was reissued as certificate %lld",
                         (long long)orig_id, (long long)c->id);
                struct svc_notice n = {.type = NOTIFY_CERT_REISSUED,
                                       .tenant_id = c->tenant_id,
                                       .cert_id = c->id,
                                       .detail = detail};
                rc = svc_notify(s, &n, ei);
        }
        if (rc == QERR_OK && revoked) {
                rc = svc_revoke_into(s, c, fresh->revoke_reason >= 0 ? fresh->revoke_reason : 0, 0,
                                     0, NULL, &run, ei);
                if (rc == QERR_OK)
                        rc = svc_revoke_finish(s, &run, ei);
        } else if (rc == QERR_OK) {
                /* issue 7: signed outside this transaction; its key may have
                 * been blocked meanwhile */
                rc = svc_key_recheck_tx(s, c, &blocked, ei);
        }
        if (rc == QERR_OK && fresh->status == CERT_REISSUING)
                rc = svc_cert_move(s, fresh, CERT_ISSUED, ei, "reissued as certificate %lld",
                                   (long long)c->id);
        if (key_blocked)
                *key_blocked = blocked;
        svc_revoke_run_free(&run);
        cert_rec_free(fresh);
        return rc;
}

/* reissue_complete_tx in its own transaction. */
static enum qerr reissue_complete(struct service *s, int64_t orig_id, int64_t rid,
                                  struct cert_rec *c, bool *key_blocked, struct qerr_info *ei)
{
        enum qerr rc = ST(s)->ops->begin(ST(s), ei);
        if (rc != QERR_OK)
                return rc;
        rc = reissue_complete_tx(s, orig_id, rid, c, key_blocked, ei);
        if (rc != QERR_OK)
                return svc_abort(s, rc);
        return svc_commit(s, ei);
}

enum qerr svc_reissue_complete_tx(struct service *s, int64_t orig_id, struct cert_rec *c,
                                  struct qerr_info *ei)
{
        struct reissue_rec *act = NULL;
        size_t n = 0;
        int64_t rid = 0;
        enum qerr rc = ST(s)->ops->reissue_active(ST(s), &act, &n, ei);
        for (size_t i = 0; rc == QERR_OK && i < n; i++)
                if (act[i].certificate_id == orig_id)
                        rid = act[i].id;
        store_free_reissues(act, n);
        if (rc == QERR_OK && !rid)
                rc = qerr_set(ei, QERR_ORDER_STATE,
                              "certificate %lld has no reissue in progress any more",
                              (long long)orig_id);
        if (rc == QERR_OK)
                rc = reissue_complete_tx(s, orig_id, rid, c, NULL, ei);
        return rc;
}

/* The CSR (and new key) of a reissue that validates again: a pasted CSR
 * naming exactly the certificate's names, a new key, or (issue 7: its
 * validation too old to reuse) the original CSR. */
static enum qerr revalidation_csr(const struct reissue_req *r, const struct cert_rec *orig,
                                  struct qbuf *csr_pem, EVP_PKEY **key, struct qerr_info *ei)
{
        if (r->csr_source == REISSUE_NEW_KEY)
                return new_key_and_csr(r->key_alg, orig->names, orig->nnames, key, csr_pem, ei);
        if (r->csr_source == REISSUE_SAME_CSR && !orig->csr_pem)
                return qerr_set(ei, QERR_POLICY_DENIED,
                                "no original CSR is stored for this certificate; use --csr or "
                                "--key");
        const uint8_t *in =
            r->csr_source == REISSUE_SAME_CSR ? (const uint8_t *)orig->csr_pem : r->csr;
        size_t inlen = r->csr_source == REISSUE_SAME_CSR ? strlen(orig->csr_pem) : r->csr_len;
        struct csr_info csr;
        char **nn = NULL;
        size_t nc = 0;
        enum qerr rc = pki_csr_parse(in, inlen, &csr, ei);
        if (rc != QERR_OK)
                return rc;
        rc = normalise_names((const char *const *)csr.names, csr.nnames, orig->profile, &nn, &nc,
                             ei);
        if (rc == QERR_OK && !same_names(nn, nc, orig->names, orig->nnames))
                rc = qerr_set(ei, QERR_POLICY_DENIED,
                              "a reissue keeps the certificate's names; the CSR names others. "
                              "Apply for a new certificate to change names");
        if (rc == QERR_OK)
                rc = pki_csr_pem(csr.req, csr_pem, ei);
        free_names(nn, nc);
        csr_info_clear(&csr);
        return rc;
}

enum qerr service_cert_reissue(struct service *s, const struct reissue_req *r,
                               struct cert_rec **out, int64_t *proof_order, struct qerr_info *ei)
{
        if (proof_order)
                *proof_order = 0;
        if (out)
                *out = NULL;
        struct cert_rec *orig = NULL, *c = NULL;
        struct csr_info csr;
        memset(&csr, 0, sizeof csr);
        EVP_PKEY *newkey = NULL, *pub = NULL;
        char *domains = NULL;
        struct qbuf newcsr;
        qbuf_init(&newcsr, MAX_CSR_BYTES);
        int64_t rid = 0;
        if (!r->reason || !*r->reason)
                return qerr_set(ei, QERR_USAGE, "a reissue needs a reason (--reason TEXT)");
        if (strlen(r->reason) > 500)
                return qerr_set(ei, QERR_USAGE, "the reason is longer than 500 characters");
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "reissue certificates", ei);
        if (rc == QERR_OK)
                rc = check_key_password(r->key_password, ei);
        if (rc == QERR_OK)
                rc = svc_visible(s, "certificate", r->id, ei);
        if (rc != QERR_OK)
                return rc;
        /* a reissue left behind by a dead process must not lock this one out */
        if ((rc = service_recover(s, ei)) != QERR_OK)
                return rc;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                return rc;
        /* facts and the in-progress mark, under the write lock */
        rc = ST(s)->ops->cert_get(ST(s), svc_scope(s), r->id, &orig, ei);
        if (rc == QERR_OK && orig->status == CERT_DELETED)
                rc = qerr_set(ei, QERR_NOT_FOUND, "certificate %lld was deleted", (long long)r->id);
        if (rc == QERR_OK)
                rc = policy_base_url_ok(orig->profile, s->cfg->server_base_url,
                                        s->cfg->validation_allow_private_addresses, ei);
        int lineage = 0;
        int64_t locked_by = 0;
        bool locked_elsewhere = false;
        char locked_domain[QUILL_MAX_NAME_LEN + 1] = "";
        if (rc == QERR_OK && !(domains = registered_domains(orig)))
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        if (rc == QERR_OK)
                rc = ST(s)->ops->cert_lineage_reissues(ST(s), orig->id, &lineage, ei);
        if (rc == QERR_OK)
                rc = domain_lock(s, orig, domains, &locked_by, &locked_elsewhere, locked_domain,
                                 sizeof locked_domain, ei);
        if (rc == QERR_OK) {
                struct reissue_facts f = {.cert = orig,
                                          .now = qtime_now(),
                                          .lineage_reissues = lineage,
                                          .locked_by_cert = locked_by,
                                          .locked_domain = locked_domain,
                                          .locked_by_other_tenant = locked_elsewhere};
                rc = policy_may_reissue(&f, ei);
        }
        /* issue 7: a public certificate names public names only; one made
         * before that rule (under .test, say) is not reissued or validated
         * again */
        for (size_t i = 0;
             rc == QERR_OK && cert_profile_is_public(orig->profile) && i < orig->nnames; i++)
                rc = policy_check_public_name(orig->names[i], ei);
        /* §6: a public certificate is validated again unless the CSR is the
         * original or the certificate is less than 3 days old, and (issue 7,
         * BR 4.2.1) in any case once its names' validation is older than the
         * reuse period in force today */
        qtime_t validated_at = 0;
        if (rc == QERR_OK && cert_profile_is_public(orig->profile))
                rc = svc_names_validated_at(s, orig->tenant_id, orig->names, orig->nnames,
                                            &validated_at, ei);
        bool revalidate = rc == QERR_OK && cert_profile_is_public(orig->profile) &&
                          policy_reissue_needs_validation(
                              r->csr_source == REISSUE_SAME_CSR, orig->not_before, validated_at,
                              s->cfg->validation_reuse_days, qtime_now());
        if (revalidate && r->method && strcmp(r->method, "dns") && strcmp(r->method, "file"))
                rc = qerr_set(ei, QERR_USAGE, "--method must be dns or file");
        if (revalidate && rc == QERR_OK)
                rc = revalidation_csr(r, orig, &newcsr, &newkey, ei);
        /* issue 7: a blocked key is refused before anything is recorded (a
         * key the service generates is checked when it signs) */
        if (rc == QERR_OK && revalidate && newcsr.len)
                rc = svc_csr_key_check(s, newcsr.data, newcsr.len, ei);
        else if (rc == QERR_OK && r->csr_source == REISSUE_SAME_CSR && orig->csr_pem)
                rc = svc_csr_key_check(s, orig->csr_pem, strlen(orig->csr_pem), ei);
        else if (rc == QERR_OK && r->csr_source == REISSUE_PASTED_CSR)
                rc = svc_csr_key_check(s, r->csr, r->csr_len, ei);
        struct reissue_rec rr;
        memset(&rr, 0, sizeof rr);
        if (rc == QERR_OK) {
                rr.certificate_id = orig->id;
                rr.tenant_id = orig->tenant_id;
                snprintf(rr.csr_source, sizeof rr.csr_source, "%s", csr_source_name(r->csr_source));
                rr.reason = (char *)r->reason;
                rr.registered_domains = domains;
                rr.created_at = qtime_now();
                /* done here and now: this process owns it; validating again:
                 * the job queue does (no owner to outlive) */
                if (!revalidate)
                        svc_owner_self(rr.owner, sizeof rr.owner);
                rc = ST(s)->ops->reissue_insert(ST(s), &rr, ei);
                rid = rr.id;
        }
        if (rc == QERR_OK)
                rc = svc_event(s, orig->tenant_id, "reissue", rid, NULL, "in_progress",
                               "reissue of certificate %lld (%s CSR): %s", (long long)orig->id,
                               rr.csr_source, r->reason);
        if (rc == QERR_OK)
                rc = svc_cert_move(s, orig, CERT_REISSUING, ei, "reissue %lld requested: %s",
                                   (long long)rid, r->reason);
        if (rc == QERR_OK && revalidate) {
                struct order_rec *po = NULL;
                /* the original CSR (issue 7): the reissue keeps the stored key,
                 * sealed to the proof order (or, under the applicant's
                 * password, copied as it is) */
                bool same = r->csr_source == REISSUE_SAME_CSR && orig->key_blob;
                bool pw = same && orig->key_protection == KEYPROT_PASSWORD;
                EVP_PKEY *kept = NULL;
                if (same && !pw)
                        rc = svc_open_key(s, orig, NULL, &kept, ei);
                if (rc == QERR_OK)
                        rc = svc_proof_order(s, "reissue", orig, r->method ? r->method : "dns",
                                             qtime_now() + s->cfg->validation_deadline_seconds,
                                             qbuf_str(&newcsr), newkey ? newkey : kept,
                                             r->key_password, &po, ei);
                if (rc == QERR_OK && pw) {
                        if (!(po->key_blob = malloc(orig->key_blob_len))) {
                                rc = qerr_set(ei, QERR_NOMEM, NULL);
                        } else {
                                memcpy(po->key_blob, orig->key_blob, orig->key_blob_len);
                                po->key_blob_len = orig->key_blob_len;
                                po->key_protection = KEYPROT_PASSWORD;
                                rc = ST(s)->ops->order_update(ST(s), po, ei);
                        }
                }
                if (rc == QERR_OK && proof_order)
                        *proof_order = po->id;
                EVP_PKEY_free(kept);
                order_rec_free(po);
        }
        if (rc != QERR_OK) {
                svc_abort(s, rc);
                goto out;
        }
        if ((rc = svc_commit(s, ei)) != QERR_OK || revalidate)
                goto out;

        /* the CSR choice */
        const char *csr_pem = NULL;
        const char *alg = orig->key_algorithm;
        if (r->csr_source == REISSUE_SAME_CSR) {
                if (!orig->csr_pem) {
                        rc = qerr_set(ei, QERR_POLICY_DENIED,
                                      "no original CSR is stored for "
                                      "this certificate; use --csr or "
                                      "--key");
                } else if ((rc = pki_csr_parse(orig->csr_pem, strlen(orig->csr_pem), &csr, ei)) ==
                           QERR_OK) {
                        pub = csr.key;
                        csr_pem = orig->csr_pem;
                }
        } else if (r->csr_source == REISSUE_PASTED_CSR) {
                rc = pki_csr_parse(r->csr, r->csr_len, &csr, ei);
                if (rc == QERR_OK) {
                        char **nn = NULL;
                        size_t nc = 0;
                        rc = normalise_names((const char *const *)csr.names, csr.nnames,
                                             orig->profile, &nn, &nc, ei);
                        if (rc == QERR_OK && !same_names(nn, nc, orig->names, orig->nnames))
                                rc = qerr_set(ei, QERR_POLICY_DENIED,
                                              "a reissue keeps the certificate's names; the CSR "
                                              "names others. Apply for a new certificate to "
                                              "change names");
                        free_names(nn, nc);
                        pub = csr.key;
                        alg = csr.key_algorithm;
                        csr_pem = NULL; /* stored below in PEM form */
                }
        } else {
                alg = r->key_alg;
                rc = new_key_and_csr(r->key_alg, orig->names, orig->nnames, &newkey, &newcsr, ei);
                pub = newkey;
                csr_pem = qbuf_str(&newcsr);
        }
        if (rc == QERR_OK && r->csr_source == REISSUE_PASTED_CSR) {
                rc = pki_csr_pem(csr.req, &newcsr, ei);
                csr_pem = qbuf_str(&newcsr);
        }
        /* The private profile trusts the operator; a public certificate got
         * here only when §6 lets the reissue skip validation (checked above):
         * its names stand validated. */
        if (rc == QERR_OK) {
                struct issue_input in = {.tenant_id = orig->tenant_id,
                                         .tenant = orig->tenant,
                                         .pub = pub,
                                         .key_alg = alg,
                                         .names = orig->names,
                                         .nnames = orig->nnames,
                                         .profile = orig->profile,
                                         .not_after = orig->not_after,
                                         .parent_id = orig->id,
                                         .csr_pem = csr_pem,
                                         .validated = true,
                                         .free_cert = orig->free_cert};
                char org[520];
                org_of_cert(orig, org, sizeof org);
                in.org = org[0] ? org : NULL;
                rc = issue_one(s, &in, &c, ei);
        }
        if (rc == QERR_OK && newkey)
                rc = svc_store_key(s, newkey, r->key_password, c, ei);
        if (rc == QERR_OK && !newkey && r->csr_source == REISSUE_SAME_CSR && orig->key_blob) {
                /* same CSR, same key: the new certificate keeps the stored key */
                c->key_protection = orig->key_protection;
                if (orig->key_protection == KEYPROT_PASSWORD) {
                        c->key_blob = malloc(orig->key_blob_len);
                        if (c->key_blob) {
                                memcpy(c->key_blob, orig->key_blob, orig->key_blob_len);
                                c->key_blob_len = orig->key_blob_len;
                        }
                } else {
                        EVP_PKEY *k = NULL;
                        rc = svc_open_key(s, orig, NULL, &k, ei);
                        if (rc == QERR_OK)
                                rc = svc_store_key(s, k, NULL, c, ei);
                        EVP_PKEY_free(k);
                }
        }
        if (rc != QERR_OK) {
                struct qerr_info why = *ei;
                rc = reissue_failed(s, orig->tenant_id, orig->id, rid, rc, &why);
                goto out;
        }
        QUILL_TEST_PAUSE("reissue_signed");
        bool key_blocked = false;
        rc = reissue_complete(s, orig->id, rid, c, &key_blocked, ei);
        if (rc != QERR_OK) {
                struct qerr_info why = *ei;
                rc = reissue_failed(s, orig->tenant_id, orig->id, rid, rc, &why);
        } else if (key_blocked) {
                rc = qerr_set(ei, QERR_KEY_BLOCKED,
                              "the key was reported compromised while this reissue ran; the "
                              "reissued certificate %lld was revoked at once (keyCompromise). "
                              "Reissue again with a new key (--key ALG or a new CSR)",
                              (long long)c->id);
        } else if (c->status == CERT_REVOKED) {
                /* A revocation of the original won the race: the new
                 * certificate is stored (nothing signed is lost) and revoked
                 * with it, and this reissue reports that it lost. */
                rc = qerr_set(ei, QERR_REISSUE_STATUS,
                              "certificate %lld was revoked while this reissue ran; the reissued "
                              "certificate %lld was revoked with it (revoking the original "
                              "revokes every certificate reissued from it)",
                              (long long)orig->id, (long long)c->id);
        }
out:
        csr_info_clear(&csr);
        EVP_PKEY_free(newkey);
        free(domains);
        qbuf_free(&newcsr);
        cert_rec_free(orig);
        if (rc != QERR_OK) {
                cert_rec_free(c);
                return rc;
        }
        *out = c;
        return QERR_OK;
}
