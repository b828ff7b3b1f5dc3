/*
 * pki_issue.c - certificate and CRL construction; see pki_issue.h.
 */
#include "pki_issue.h"

#include <arpa/inet.h>
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
         * ub-common-name); otherwise an empty subject and a critical SAN. */
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
                     add_san(x, p->names, p->nnames, !cn);
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
        ok = ok && sign(x, issuer_key);
        X509_NAME_free(subj);
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
                } else {
                        ok = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") &&
                             add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") &&
                             add_ext(x, &ctx, NID_subject_key_identifier, "hash");
                }
        }
        ok = ok && sign(x, p->issuer ? p->issuer_key : p->key);
        X509_NAME_free(subj);
        if (!ok) {
                ERR_clear_error();
                X509_free(x);
                return qerr_set(ei, QERR_INTERNAL, "could not build the CA certificate");
        }
        *out = x;
        return QERR_OK;
}

enum qerr pki_issue_crl(X509 *issuer, EVP_PKEY *issuer_key, int64_t crl_number, int64_t this_update,
                        int64_t next_update, const struct crl_item *items, size_t nitems,
                        X509_CRL **out, struct qerr_info *ei)
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
        if (ok) {
                EVP_MD_CTX *mctx = pki_sign_ctx(issuer_key);
                ok = mctx && X509_CRL_sign_ctx(crl, mctx) > 0;
                EVP_MD_CTX_free(mctx);
        }
        ASN1_TIME_free(tu);
        ASN1_TIME_free(nu);
        ASN1_INTEGER_free(num);
        if (!ok) {
                ERR_clear_error();
                X509_CRL_free(crl);
                return qerr_set(ei, QERR_INTERNAL, "could not build the CRL");
        }
        *out = crl;
        return QERR_OK;
}
