/*
 * pki_issue.c - certificate and CRL construction; see pki_issue.h.
 */
#include "pki_issue.h"

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "pki_key.h"
#include "pki_pem.h"

/* CA/B Forum policy identifiers (BR 7.1.6.1). */
#define OID_CABF_DV "2.23.140.1.2.1"
#define OID_CABF_OV "2.23.140.1.2.2"
#define OID_CABF_EV "2.23.140.1.1"
#define OID_ANY_POLICY "2.5.29.32.0"

X509_NAME *pki_parse_dn(const char *s)
{
        if (!s || !*s || strlen(s) > 1024)
                return NULL;
        X509_NAME *n = X509_NAME_new();
        char buf[1025];
        snprintf(buf, sizeof buf, "%s", s);
        char sep = buf[0] == '/' ? '/' : ',';
        char *save = NULL;
        int count = 0;
        for (char *tok = strtok_r(buf, sep == '/' ? "/" : ",", &save); n && tok;
             tok = strtok_r(NULL, sep == '/' ? "/" : ",", &save)) {
                while (*tok == ' ')
                        tok++;
                char *eq = strchr(tok, '=');
                if (!eq || eq == tok || !eq[1]) {
                        X509_NAME_free(n);
                        return NULL;
                }
                *eq = 0;
                if (!X509_NAME_add_entry_by_txt(n, tok, MBSTRING_UTF8,
                                                (const unsigned char *)(eq + 1), -1, -1, 0)) {
                        X509_NAME_free(n);
                        ERR_clear_error();
                        return NULL;
                }
                count++;
        }
        if (n && count == 0) {
                X509_NAME_free(n);
                return NULL;
        }
        return n;
}

static bool set_time(ASN1_TIME *t, int64_t when)
{
        /* ASN1_TIME_set picks UTCTime before 2050, GeneralizedTime after, as
         * RFC 5280 4.1.2.5 requires. */
        return ASN1_TIME_set(t, (time_t)when) != NULL;
}

static bool add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
        if (!e)
                return false;
        bool ok = X509_add_ext(x, e, -1) == 1;
        X509_EXTENSION_free(e);
        return ok;
}

static bool url_ok(const char *u)
{
        /* Config-supplied, but they go into the X509V3 config syntax: refuse
         * anything that could inject another value. */
        return u && *u && strlen(u) < 512 && !strpbrk(u, ", \t\r\n") &&
               (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0);
}

static bool add_san(X509 *x, const char *const *names, size_t n, bool critical)
{
        GENERAL_NAMES *gens = pki_general_names(names, n);
        bool ok = gens && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, critical ? 1 : 0,
                                            X509V3_ADD_DEFAULT) == 1;
        GENERAL_NAMES_free(gens);
        return ok;
}

/* certificatePolicies with one policy OID and no qualifiers (BR 7.1.6). */
static bool add_policy(X509 *x, const char *oid)
{
        CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
        POLICYINFO *pi = POLICYINFO_new();
        bool ok = pols && pi;
        if (ok) {
                ASN1_OBJECT_free(pi->policyid);
                pi->policyid = OBJ_txt2obj(oid, 1);
                ok = pi->policyid && sk_POLICYINFO_push(pols, pi);
        }
        if (ok)
                pi = NULL;
        ok = ok && X509_add1_ext_i2d(x, NID_certificate_policies, pols, 0, X509V3_ADD_DEFAULT) == 1;
        POLICYINFO_free(pi);
        CERTIFICATEPOLICIES_free(pols);
        return ok;
}

static bool sign(X509 *x, EVP_PKEY *key)
{
        EVP_MD_CTX *ctx = pki_sign_ctx(key);
        bool ok = ctx && X509_sign_ctx(x, ctx) > 0;
        EVP_MD_CTX_free(ctx);
        return ok;
}

static bool sign_crl(X509_CRL *crl, EVP_PKEY *key)
{
        EVP_MD_CTX *ctx = pki_sign_ctx(key);
        bool ok = ctx && X509_CRL_sign_ctx(crl, ctx) > 0;
        EVP_MD_CTX_free(ctx);
        return ok;
}

enum qerr pki_lint_key_new(EVP_PKEY *like, EVP_PKEY **out, struct qerr_info *ei)
{
        EVP_PKEY *k = NULL;
        char group[64] = "";
        size_t glen = 0;
        if (EVP_PKEY_is_a(like, "SM2"))
                k = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
        else if (EVP_PKEY_is_a(like, "RSA"))
                /* the signature algorithm does not depend on the modulus size,
                 * and this signature is thrown away: a small key costs a
                 * tenth of a 2048-bit one to make */
                k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
        else if (EVP_PKEY_is_a(like, "EC") &&
                 EVP_PKEY_get_utf8_string_param(like, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                                sizeof group, &glen))
                k = strcmp(group, "SM2") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "SM2")
                                              : EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
        else
                return qerr_set(ei, QERR_KEY_UNSUPPORTED,
                                "the signing key is of a kind the lint gate cannot imitate");
        ERR_clear_error();
        if (!k)
                return qerr_set(ei, QERR_INTERNAL, "could not make the lint key");
        *out = k;
        return QERR_OK;
}

/* Lints `der` by the gate's rules; QERR_LINT_FAILED on an error finding. */
static enum qerr gate_lint(const struct pki_lint_gate *g, const unsigned char *der, int n, bool crl,
                           struct qerr_info *ei)
{
        struct lint_report local, *r = g->report ? g->report : &local;
        lint_report_init(&local);
        size_t before = r->errors;
        enum qerr rc = crl ? lint_crl_der(der, (size_t)n, g->crl, r, ei)
                           : lint_cert_der(der, (size_t)n, g->cert, r, NULL, ei);
        if (rc == QERR_PEM_INVALID) /* we made it: a bug, not the user's doing */
                rc = qerr_set(ei, QERR_INTERNAL, "the lint gate could not read back the %s: %s",
                              crl ? "CRL" : "certificate", qerr_message(ei));
        if (rc == QERR_OK && r->errors > before)
                rc = lint_refusal(r, crl ? "CRL" : "certificate", ei);
        lint_report_free(&local);
        return rc;
}

/* Signs x with `key`, through the gate when there is one. */
static enum qerr sign_gated(X509 *x, EVP_PKEY *key, const struct pki_lint_gate *g,
                            struct qerr_info *ei)
{
        if (!g)
                return sign(x, key) ? QERR_OK : qerr_set(ei, QERR_INTERNAL, "signing failed");
        if (!g->lint_key || !g->cert)
                return qerr_set(ei, QERR_INTERNAL, "the lint gate has no key or rules");
        unsigned char *der = NULL, *tbs1 = NULL, *tbs2 = NULL;
        int n = 0, t1 = 0, t2 = 0;
        enum qerr rc = QERR_OK;
        if (!sign(x, g->lint_key) || (n = i2d_X509(x, &der)) <= 0 ||
            (t1 = i2d_re_X509_tbs(x, &tbs1)) <= 0)
                rc = qerr_set(ei, QERR_INTERNAL, "could not encode the certificate to lint it");
        if (rc == QERR_OK)
                rc = gate_lint(g, der, n, false, ei);
        if (rc == QERR_OK && (!sign(x, key) || (t2 = i2d_re_X509_tbs(x, &tbs2)) <= 0))
                rc = qerr_set(ei, QERR_INTERNAL, "signing failed");
        if (rc == QERR_OK && (t1 != t2 || memcmp(tbs1, tbs2, (size_t)t1) != 0))
                rc = qerr_set(ei, QERR_INTERNAL,
                              "the signed certificate differs from the linted one");
        OPENSSL_free(der);
        OPENSSL_free(tbs1);
        OPENSSL_free(tbs2);
        ERR_clear_error();
        return rc;
}

static enum qerr sign_crl_gated(X509_CRL *crl, EVP_PKEY *key, const struct pki_lint_gate *g,
                                struct qerr_info *ei)
{
        if (!g)
                return sign_crl(crl, key) ? QERR_OK : qerr_set(ei, QERR_INTERNAL, "signing failed");
        if (!g->lint_key || !g->crl)
                return qerr_set(ei, QERR_INTERNAL, "the lint gate has no key or rules");
        unsigned char *der = NULL, *tbs1 = NULL, *tbs2 = NULL;
        int n = 0, t1 = 0, t2 = 0;
        enum qerr rc = QERR_OK;
        if (!sign_crl(crl, g->lint_key) || (n = i2d_X509_CRL(crl, &der)) <= 0 ||
            (t1 = i2d_re_X509_CRL_tbs(crl, &tbs1)) <= 0)
                rc = qerr_set(ei, QERR_INTERNAL, "could not encode the CRL to lint it");
        if (rc == QERR_OK)
                rc = gate_lint(g, der, n, true, ei);
        if (rc == QERR_OK && (!sign_crl(crl, key) || (t2 = i2d_re_X509_CRL_tbs(crl, &tbs2)) <= 0))
                rc = qerr_set(ei, QERR_INTERNAL, "signing the CRL failed");
        if (rc == QERR_OK && (t1 != t2 || memcmp(tbs1, tbs2, (size_t)t1) != 0))
                rc = qerr_set(ei, QERR_INTERNAL, "the signed CRL differs from the linted one");
        OPENSSL_free(der);
        OPENSSL_free(tbs1);
        OPENSSL_free(tbs2);
        ERR_clear_error();
        return rc;
}

static bool set_serial(X509 *x, const uint8_t *s, size_t len)
{
        BIGNUM *bn = BN_bin2bn(s, (int)len, NULL);
        ASN1_INTEGER *ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
        bool ok = ai && X509_set_serialNumber(x, ai);
        ASN1_INTEGER_free(ai);
        BN_free(bn);
        return ok;
}

enum qerr pki_issue_ee(X509 *issuer, EVP_PKEY *issuer_key, const struct ee_params *p, X509 **out,
                       struct qerr_info *ei)
{
        X509 *x = X509_new();
        X509_NAME *subj = X509_NAME_new();
        bool ok = x && subj;
        if (p->nnames == 0 || p->serial_len == 0 || p->serial_len > 20 || (p->serial[0] & 0x80))
                ok = false;
        ok = ok && X509_set_version(x, X509_VERSION_3);
        ok = ok && set_serial(x, p->serial, p->serial_len);
        ok = ok && X509_set_issuer_name(x, X509_get_subject_name(issuer));
        ok = ok && set_time(X509_getm_notBefore(x), p->not_before) &&
             set_time(X509_getm_notAfter(x), p->not_after);
        /* CN = first name when it fits the 64-byte upper bound (RFC 5280
         * ub-common-name); otherwise no CN (and, for DV/private, an empty
         * subject with a critical SAN). */
        bool cn = strlen(p->names[0]) <= 64;
        /* OV/EV: countryName, stateOrProvinceName, localityName,
         * organizationName before the CN (BR 7.1.2.7.4; no OU) */
        const struct {
                int nid;
                const char *v;
        } org[] = {{NID_countryName, p->org_c},
                   {NID_stateOrProvinceName, p->org_st},
                   {NID_localityName, p->org_l},
                   {NID_organizationName, p->org_o}};
        for (size_t i = 0; ok && i < sizeof org / sizeof org[0]; i++)
                if (org[i].v && *org[i].v)
                        ok = X509_NAME_add_entry_by_NID(subj, org[i].nid, MBSTRING_UTF8,
                                                        (const unsigned char *)org[i].v, -1, -1, 0);
        if (ok && cn)
                ok = X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_ASC,
                                                (const unsigned char *)p->names[0], -1, -1, 0);
        ok = ok && X509_set_subject_name(x, subj);
        ok = ok && X509_set_pubkey(x, p->subject_key);
        /* SAN critical exactly when the subject is empty (RFC 5280 4.2.1.6,
         * BR 7.1.2.7.12): an OV name too long for the CN keeps O, C ... */
        bool empty_subject = X509_NAME_entry_count(subj) == 0;
        X509V3_CTX ctx;
        if (ok) {
                X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
                bool rsa = EVP_PKEY_is_a(p->subject_key, "RSA");
                ok = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
                     add_ext(x, &ctx, NID_key_usage,
                             rsa ? "critical,digitalSignature,keyEncipherment"
                                 : "critical,digitalSignature") &&
                     add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") &&
                     add_ext(x, &ctx, NID_subject_key_identifier, "hash") &&
                     add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") &&
                     add_san(x, p->names, p->nnames, empty_subject);
        }
        char v[600];
        if (ok && p->crl_url && *p->crl_url) {
                ok = url_ok(p->crl_url);
                snprintf(v, sizeof v, "URI:%s", p->crl_url);
                ok = ok && add_ext(x, &ctx, NID_crl_distribution_points, v);
        }
        if (ok && ((p->ocsp_url && *p->ocsp_url) || (p->ca_issuers_url && *p->ca_issuers_url))) {
                char a[1100] = "";
                if (p->ocsp_url && *p->ocsp_url) {
                        ok = url_ok(p->ocsp_url);
                        snprintf(a, sizeof a, "OCSP;URI:%s", p->ocsp_url);
                }
                if (ok && p->ca_issuers_url && *p->ca_issuers_url) {
                        ok = url_ok(p->ca_issuers_url);
                        size_t l = strlen(a);
                        snprintf(a + l, sizeof a - l, "%scaIssuers;URI:%s", l ? "," : "",
                                 p->ca_issuers_url);
                }
                ok = ok && add_ext(x, &ctx, NID_info_access, a);
        }
        if (ok && p->profile != PROFILE_PRIVATE) {
                const char *oid = p->profile == PROFILE_EV   ? OID_CABF_EV
                                  : p->profile == PROFILE_OV ? OID_CABF_OV
                                                             : OID_CABF_DV;
                ok = add_policy(x, oid);
        }
        X509_NAME_free(subj);
        if (ok) {
                enum qerr rc = sign_gated(x, issuer_key, p->lint, ei);
                if (rc != QERR_OK) {
                        X509_free(x);
                        return rc;
                }
        }
        if (!ok) {
                unsigned long e = ERR_get_error();
                char es[256] = "";
                if (e)
                        ERR_error_string_n(e, es, sizeof es);
                ERR_clear_error();
                X509_free(x);
                return qerr_set(ei, QERR_INTERNAL, "could not build the certificate %s", es);
        }
        *out = x;
        return QERR_OK;
}

enum qerr pki_issue_ca(const struct ca_params *p, X509 **out, struct qerr_info *ei)
{
        X509 *x = X509_new();
        X509_NAME *subj = pki_parse_dn(p->subject);
        if (!subj) {
                X509_free(x);
                return qerr_set(ei, QERR_USAGE,
                                "the subject \"%.100s\" is not a distinguished name like "
                                "\"CN=Example CA,O=Example\"",
                                p->subject);
        }
        unsigned char serial[16];
        bool ok = x && RAND_bytes(serial, sizeof serial) == 1;
        serial[0] = (serial[0] & 0x7f) | 0x40;
        ok = ok && X509_set_version(x, X509_VERSION_3) && set_serial(x, serial, sizeof serial);
        ok = ok && X509_set_subject_name(x, subj);
        ok = ok && X509_set_issuer_name(x, p->issuer ? X509_get_subject_name(p->issuer) : subj);
        ok = ok && set_time(X509_getm_notBefore(x), p->not_before) &&
             set_time(X509_getm_notAfter(x), p->not_after);
        ok = ok && X509_set_pubkey(x, p->key);
        X509V3_CTX ctx;
        if (ok) {
                X509V3_set_ctx(&ctx, p->issuer ? p->issuer : x, x, NULL, NULL, 0);
                if (p->issuer) {
                        ok =
                            add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
                            add_ext(x, &ctx, NID_key_usage,
                                    "critical,digitalSignature,keyCertSign,cRLSign") &&
                            add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") &&
                            add_ext(x, &ctx, NID_subject_key_identifier, "hash") &&
                            add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
                        char v[600];
                        if (ok && p->crl_url && *p->crl_url) {
                                ok = url_ok(p->crl_url);
                                snprintf(v, sizeof v, "URI:%s", p->crl_url);
                                ok = ok && add_ext(x, &ctx, NID_crl_distribution_points, v);
                        }
                        if (ok && p->ca_issuers_url && *p->ca_issuers_url) {
                                ok = url_ok(p->ca_issuers_url);
                                snprintf(v, sizeof v, "caIssuers;URI:%s", p->ca_issuers_url);
                                ok = ok && add_ext(x, &ctx, NID_info_access, v);
                        }
                        /* BR 7.1.2.10.5: an issuing CA operated by the root's
                         * own operator may assert anyPolicy, alone; its
                         * subscriber certificates then carry the CA/B OIDs */
                        ok = ok && add_policy(x, OID_ANY_POLICY);
                } else {
                        ok = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") &&
                             add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") &&
                             add_ext(x, &ctx, NID_subject_key_identifier, "hash");
                }
        }
        X509_NAME_free(subj);
        if (ok) {
                enum qerr rc = sign_gated(x, p->issuer ? p->issuer_key : p->key, p->lint, ei);
                if (rc != QERR_OK) {
                        X509_free(x);
                        return rc;
                }
        }
        if (!ok) {
                ERR_clear_error();
                X509_free(x);
                return qerr_set(ei, QERR_INTERNAL, "could not build the CA certificate");
        }
        *out = x;
        return QERR_OK;
}

/* The issuer's subject with " OCSP Responder" after its CN (cut to the
 * 64-character bound), or a CN of that alone when it has none. */
static X509_NAME *responder_subject(X509 *issuer)
{
        X509_NAME *n = X509_NAME_dup(X509_get_subject_name(issuer));
        if (!n)
                return NULL;
        static const char suffix[] = " OCSP Responder";
        char cn[65] = "Quill";
        int idx = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
        if (idx >= 0) {
                unsigned char *u = NULL;
                int len =
                    ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, idx)));
                if (len > 0) {
                        int keep = len > 64 - (int)(sizeof suffix - 1)
                                       ? 64 - (int)(sizeof suffix - 1)
                                       : len;
                        snprintf(cn, sizeof cn, "%.*s", keep, (const char *)u);
                }
                OPENSSL_free(u);
                X509_NAME_ENTRY_free(X509_NAME_delete_entry(n, idx));
        }
        size_t l = strlen(cn);
        snprintf(cn + l, sizeof cn - l, "%s", suffix);
        if (!X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8, (const unsigned char *)cn,
                                        -1, idx, 0)) {
                X509_NAME_free(n);
                n = NULL;
        }
        ERR_clear_error();
        return n;
}

enum qerr pki_issue_responder(X509 *issuer, EVP_PKEY *issuer_key, const struct responder_params *p,
                              X509 **out, struct qerr_info *ei)
{
        X509 *x = X509_new();
        X509_NAME *subj = responder_subject(issuer);
        unsigned char serial[16];
        bool ok = x && subj && RAND_bytes(serial, sizeof serial) == 1;
        serial[0] = (serial[0] & 0x7f) | 0x40;
        ok = ok && X509_set_version(x, X509_VERSION_3) && set_serial(x, serial, sizeof serial);
        ok = ok && X509_set_issuer_name(x, X509_get_subject_name(issuer)) &&
             X509_set_subject_name(x, subj);
        ok = ok && set_time(X509_getm_notBefore(x), p->not_before) &&
             set_time(X509_getm_notAfter(x), p->not_after);
        ok = ok && X509_set_pubkey(x, p->key);
        X509V3_CTX ctx;
        if (ok) {
                X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
                ok = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
                     add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") &&
                     add_ext(x, &ctx, NID_ext_key_usage, "OCSPSigning") &&
                     add_ext(x, &ctx, NID_subject_key_identifier, "hash") &&
                     add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") &&
                     add_ext(x, &ctx, NID_id_pkix_OCSP_noCheck, "yes");
        }
        X509_NAME_free(subj);
        if (ok) {
                enum qerr rc = sign_gated(x, issuer_key, p->lint, ei);
                if (rc != QERR_OK) {
                        X509_free(x);
                        return rc;
                }
        }
        if (!ok) {
                ERR_clear_error();
                X509_free(x);
                return qerr_set(ei, QERR_INTERNAL,
                                "could not build the OCSP responder certificate");
        }
        *out = x;
        return QERR_OK;
}

enum qerr pki_issue_crl(X509 *issuer, EVP_PKEY *issuer_key, int64_t crl_number, int64_t this_update,
                        int64_t next_update, const struct crl_item *items, size_t nitems,
                        X509_CRL **out, struct qerr_info *ei)
{
        return pki_issue_crl_gated(issuer, issuer_key, crl_number, this_update, next_update, items,
                                   nitems, NULL, out, ei);
}

enum qerr pki_issue_crl_gated(X509 *issuer, EVP_PKEY *issuer_key, int64_t crl_number,
                              int64_t this_update, int64_t next_update,
                              const struct crl_item *items, size_t nitems,
                              const struct pki_lint_gate *gate, X509_CRL **out,
                              struct qerr_info *ei)
{
        X509_CRL *crl = X509_CRL_new();
        ASN1_TIME *tu = ASN1_TIME_new(), *nu = ASN1_TIME_new();
        ASN1_INTEGER *num = ASN1_INTEGER_new();
        bool ok = crl && tu && nu && num && set_time(tu, this_update) && set_time(nu, next_update);
        ok = ok && X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
             X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) &&
             X509_CRL_set1_lastUpdate(crl, tu) && X509_CRL_set1_nextUpdate(crl, nu);
        for (size_t i = 0; ok && i < nitems; i++) {
                X509_REVOKED *r = X509_REVOKED_new();
                ASN1_TIME *rt = ASN1_TIME_new();
                BIGNUM *bn = BN_bin2bn(items[i].serial, (int)items[i].serial_len, NULL);
                ASN1_INTEGER *sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
                ok = r && rt && sn && set_time(rt, items[i].revoked_at) &&
                     X509_REVOKED_set_serialNumber(r, sn) && X509_REVOKED_set_revocationDate(r, rt);
                if (ok && items[i].reason != 0) {
                        ASN1_ENUMERATED *re = ASN1_ENUMERATED_new();
                        ok = re && ASN1_ENUMERATED_set(re, items[i].reason) &&
                             X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, re, 0, 0) == 1;
                        ASN1_ENUMERATED_free(re);
                }
                if (ok && X509_CRL_add0_revoked(crl, r))
                        r = NULL;
                else
                        ok = false;
                X509_REVOKED_free(r);
                ASN1_TIME_free(rt);
                ASN1_INTEGER_free(sn);
                BN_free(bn);
        }
        ok = ok && ASN1_INTEGER_set_int64(num, crl_number) &&
             X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1;
        if (ok) {
                X509V3_CTX ctx;
                X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
                X509_EXTENSION *e =
                    X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
                ok = e && X509_CRL_add_ext(crl, e, -1);
                X509_EXTENSION_free(e);
        }
        ok = ok && X509_CRL_sort(crl);
        ASN1_TIME_free(tu);
        ASN1_TIME_free(nu);
        ASN1_INTEGER_free(num);
        if (ok) {
                enum qerr rc = sign_crl_gated(crl, issuer_key, gate, ei);
                if (rc != QERR_OK) {
                        X509_CRL_free(crl);
                        return rc;
                }
        }
        if (!ok) {
                ERR_clear_error();
                X509_CRL_free(crl);
                return qerr_set(ei, QERR_INTERNAL, "could not build the CRL");
        }
        *out = crl;
        return QERR_OK;
}
