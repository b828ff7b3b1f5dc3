/*
 * lint_cert_ext.c - the certificate checks that read extensions and the
 * subject: subjectAltName and its names, the commonName, the subject of
 * each profile, basicConstraints, keyUsage, extKeyUsage, the key
 * identifiers, CRL distribution points and authorityInfoAccess, certificate
 * policies, and the extension list itself. Called by lint_cert.c with a
 * parsed certificate; decoded extensions are freed before each function
 * returns. Any thread.
 */
#include "lint_internal.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ANY_POLICY "2.5.29.32.0"

/* The first extension `nid`, decoded (caller frees with the matching
 * *_free); NULL when absent or undecodable. *crit: its critical flag, -1
 * when absent. */
static void *ext_d2i(X509 *x, int nid, int *crit)
{
        int idx = X509_get_ext_by_NID(x, nid, -1);
        if (crit)
                *crit = -1;
        if (idx < 0)
                return NULL;
        X509_EXTENSION *e = X509_get_ext(x, idx);
        if (crit)
                *crit = X509_EXTENSION_get_critical(e);
        void *v = X509V3_EXT_d2i(e);
        ERR_clear_error();
        return v;
}

/* Known extensions that may be critical (RFC 5280 4.2, RFC 6962 3.1). */
static const int cert_critical_ok[] = {
    NID_basic_constraints,    NID_key_usage,        NID_ext_key_usage,      NID_subject_alt_name,
    NID_issuer_alt_name,      NID_name_constraints, NID_policy_constraints, NID_inhibit_any_policy,
    NID_certificate_policies, NID_policy_mappings,  NID_ct_precert_poison,
};

/* The BR subscriber profile's extensions (BR 7.1.2.7.6). */
static const int br_subscriber_exts[] = {
    NID_info_access,       NID_authority_key_identifier, NID_certificate_policies,
    NID_ext_key_usage,     NID_subject_alt_name,         NID_key_usage,
    NID_basic_constraints, NID_crl_distribution_points,  NID_subject_key_identifier,
    NID_ct_precert_scts,   NID_ct_precert_poison,
};

void lint_cert_exts(struct lint_cert_ctx *c)
{
        static const struct lint_ext_ids ids = {LC_EXT_DUPLICATE, LC_EXT_UNKNOWN_CRITICAL,
                                                LC_EXT_MALFORMED};
        const STACK_OF(X509_EXTENSION) *exts = X509_get0_extensions(c->x);
        lint_check_exts(c->r, exts, cert_critical_ok,
                        sizeof cert_critical_ok / sizeof cert_critical_ok[0], &ids, "certificate");
        if (!c->pub || c->role != LINT_ROLE_SUBSCRIBER)
                return;
        for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
                const ASN1_OBJECT *obj =
                    X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, i));
                int nid = OBJ_obj2nid(obj);
                bool ok = false;
                for (size_t k = 0; k < sizeof br_subscriber_exts / sizeof br_subscriber_exts[0];
                     k++)
                        ok = ok || br_subscriber_exts[k] == nid;
                if (!ok) {
                        char oid[80];
                        OBJ_obj2txt(oid, sizeof oid, obj, 0);
                        lint_add(c->r, LC_EXT_NOT_IN_PROFILE,
                                 "the extension %s is not part of the BR subscriber profile", oid);
                }
        }
}

/* ---- names ---- */

static bool subject_empty(X509 *x)
{
        return X509_NAME_entry_count(X509_get_subject_name(x)) == 0;
}

/* The commonName values, compared with the SAN entries. */
static void check_cn(struct lint_cert_ctx *c, GENERAL_NAMES *san)
{
        X509_NAME *nm = X509_get_subject_name(c->x);
        int count = 0;
        for (int i = -1; (i = X509_NAME_get_index_by_NID(nm, NID_commonName, i)) >= 0;) {
                if (++count == 2)
                        lint_add(c->r, LC_CN_MULTIPLE, "the subject has more than one commonName");
                unsigned char *u = NULL;
                int n =
                    ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i)));
                ERR_clear_error();
                if (n < 0)
                        continue;
                bool found = false;
                for (int j = 0; san && j < sk_GENERAL_NAME_num(san) && !found; j++) {
                        GENERAL_NAME *g = sk_GENERAL_NAME_value(san, j);
                        if (g->type == GEN_DNS) {
                                const ASN1_STRING *s = g->d.dNSName;
                                found = ASN1_STRING_length(s) == n &&
                                        memcmp(ASN1_STRING_get0_data(s), u, (size_t)n) == 0;
                        } else if (g->type == GEN_IPADD) {
                                char ip[46] = "";
                                int il = ASN1_STRING_length(g->d.iPAddress);
                                if (il == 4 || il == 16)
                                        inet_ntop(il == 4 ? AF_INET : AF_INET6,
                                                  ASN1_STRING_get0_data(g->d.iPAddress), ip,
                                                  sizeof ip);
                                found = ip[0] && strlen(ip) == (size_t)n &&
                                        memcmp(ip, u, (size_t)n) == 0;
                        }
                }
                if (!found && c->role == LINT_ROLE_SUBSCRIBER) {
                        char show[80];
                        lint_printable(u, (size_t)n, show, sizeof show);
                        lint_add(c->r, LC_CN_NOT_IN_SAN,
                                 "the commonName \"%s\" is not one of the subjectAltName entries "
                                 "(byte for byte)",
                                 show);
                }
                OPENSSL_free(u);
        }
}

void lint_cert_names(struct lint_cert_ctx *c)
{
        int crit;
        GENERAL_NAMES *san = ext_d2i(c->x, NID_subject_alt_name, &crit);
        bool sub = c->role == LINT_ROLE_SUBSCRIBER;
        if (crit < 0 && sub)
                lint_add(c->r, LC_SAN_MISSING, "the certificate has no subjectAltName extension");
        if (crit >= 0 && san && sk_GENERAL_NAME_num(san) == 0)
                lint_add(c->r, LC_SAN_EMPTY, "the subjectAltName extension holds no name");
        if (crit >= 0 && (crit != 0) != subject_empty(c->x))
                lint_add(c->r, LC_SAN_CRITICALITY, "subjectAltName is %s while the subject is %s",
                         crit ? "critical" : "not critical",
                         subject_empty(c->x) ? "empty" : "not empty");
        bool bad_type = false;
        for (int i = 0; san && i < sk_GENERAL_NAME_num(san); i++) {
                GENERAL_NAME *g = sk_GENERAL_NAME_value(san, i);
                if (g->type == GEN_DNS) {
                        lint_dnsname(c->r, ASN1_STRING_get0_data(g->d.dNSName),
                                     (size_t)ASN1_STRING_length(g->d.dNSName), c->pub);
                } else if (g->type == GEN_IPADD) {
                        char ip[46];
                        lint_ipaddr(c->r, ASN1_STRING_get0_data(g->d.iPAddress),
                                    (size_t)ASN1_STRING_length(g->d.iPAddress),
                                    c->pub && !c->o->allow_reserved_ip, ip);
                } else if (sub && !bad_type) {
                        bad_type = true;
                        lint_add(c->r, LC_SAN_TYPE,
                                 "subjectAltName holds a name that is neither dNSName nor "
                                 "iPAddress (type %d)",
                                 g->type);
                }
        }
        check_cn(c, san);
        GENERAL_NAMES_free(san);
}

/* ---- subject by profile ---- */

void lint_cert_subject(struct lint_cert_ctx *c)
{
        if (!c->pub || c->role != LINT_ROLE_SUBSCRIBER)
                return;
        X509_NAME *nm = X509_get_subject_name(c->x);
        bool o = false, country = false, l_or_st = false, ou = false, other = false;
        bool bc = false, jc = false, sn = false;
        char other_name[64] = "";
        for (int i = 0; i < X509_NAME_entry_count(nm); i++) {
                int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(nm, i)));
                o = o || nid == NID_organizationName;
                country = country || nid == NID_countryName;
                l_or_st = l_or_st || nid == NID_localityName || nid == NID_stateOrProvinceName;
                ou = ou || nid == NID_organizationalUnitName;
                bc = bc || nid == NID_businessCategory;
                jc = jc || nid == NID_jurisdictionCountryName;
                sn = sn || nid == NID_serialNumber;
                if (nid != NID_commonName && nid != NID_countryName && !other) {
                        other = true;
                        OBJ_obj2txt(other_name, sizeof other_name,
                                    X509_NAME_ENTRY_get_object(X509_NAME_get_entry(nm, i)), 0);
                }
        }
        if (ou)
                lint_add(c->r, LC_SUBJECT_OU, "the subject has an organizationalUnitName");
        if (c->profile == PROFILE_DV && other)
                lint_add(c->r, LC_SUBJECT_DV,
                         "the DV subject holds %s; only commonName and countryName are allowed",
                         other_name);
        if ((c->profile == PROFILE_OV || c->profile == PROFILE_EV) && !(o && country && l_or_st))
                lint_add(c->r, LC_SUBJECT_OV, "the %s subject lacks %s",
                         cert_profile_name(c->profile),
                         !o         ? "organizationName"
                         : !country ? "countryName"
                                    : "localityName or stateOrProvinceName");
        if (c->profile == PROFILE_EV && !(bc && jc && sn))
                lint_add(c->r, LC_SUBJECT_EV, "the EV subject lacks %s",
                         !bc   ? "businessCategory"
                         : !jc ? "jurisdictionCountryName"
                               : "serialNumber");
}

/* ---- basicConstraints, keyUsage, extKeyUsage ---- */

static void check_ku(struct lint_cert_ctx *c)
{
        int crit;
        ASN1_BIT_STRING *ku = ext_d2i(c->x, NID_key_usage, &crit);
        bool sub = c->role == LINT_ROLE_SUBSCRIBER;
        if (crit < 0) {
                if (sub)
                        lint_add(c->r, LC_SUB_KU_MISSING, "the certificate has no keyUsage");
                else
                        lint_add(c->r, LC_CA_KU, "the CA certificate has no keyUsage");
                return;
        }
        if (!ku)
                return; /* e_ext_malformed says so */
        static const char *const bit_names[] = {
            "digitalSignature", "nonRepudiation", "keyEncipherment",
            "dataEncipherment", "keyAgreement",   "keyCertSign",
            "cRLSign",          "encipherOnly",   "decipherOnly"};
        if (sub) {
                unsigned allowed = c->key == LK_RSA ? (1u << 0) | (1u << 2) : (1u << 0) | (1u << 4);
                bool any = false;
                for (int b = 0; b < 9; b++) {
                        if (!ASN1_BIT_STRING_get_bit(ku, b))
                                continue;
                        any = true;
                        if (!(allowed & (1u << b)))
                                lint_add(c->r, LC_SUB_KU,
                                         "keyUsage has %s, which a %s subscriber key may not "
                                         "have",
                                         bit_names[b], lint_key_kind_name(c->key));
                }
                if (!any)
                        lint_add(c->r, LC_SUB_KU, "keyUsage has no bit set");
        } else {
                if (!crit)
                        lint_add(c->r, LC_CA_KU, "the CA certificate's keyUsage is not critical");
                if (!ASN1_BIT_STRING_get_bit(ku, 5) || !ASN1_BIT_STRING_get_bit(ku, 6))
                        lint_add(c->r, LC_CA_KU,
                                 "the CA certificate's keyUsage lacks keyCertSign or cRLSign");
        }
        ASN1_BIT_STRING_free(ku);
}

static void check_eku(struct lint_cert_ctx *c)
{
        int crit;
        EXTENDED_KEY_USAGE *eku = ext_d2i(c->x, NID_ext_key_usage, &crit);
        bool sub = c->role == LINT_ROLE_SUBSCRIBER;
        if (c->role == LINT_ROLE_ROOT_CA && crit >= 0)
                lint_add(c->r, LC_ROOT_EKU, "the root certificate has extKeyUsage");
        if (crit < 0) {
                if (sub)
                        lint_add(c->r, LC_EKU_MISSING, "the certificate has no extKeyUsage");
                else if (c->role == LINT_ROLE_ISSUING_CA && c->pub)
                        lint_add(c->r, LC_CA_EKU, "the issuing CA certificate has no extKeyUsage");
                return;
        }
        bool server = false, other = false;
        char other_name[80] = "";
        for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++) {
                const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
                int nid = OBJ_obj2nid(o);
                if (nid == NID_anyExtendedKeyUsage)
                        lint_add(c->r, LC_EKU_ANY, "extKeyUsage holds anyExtendedKeyUsage");
                else if (nid == NID_server_auth)
                        server = true;
                else if (nid != NID_client_auth && !other) {
                        other = true;
                        OBJ_obj2txt(other_name, sizeof other_name, o, 0);
                }
        }
        if (eku && !server && (sub || (c->role == LINT_ROLE_ISSUING_CA && c->pub)))
                lint_add(c->r, sub ? LC_EKU_SERVER_AUTH : LC_CA_EKU,
                         "extKeyUsage does not hold serverAuth");
        if (other && c->role != LINT_ROLE_ROOT_CA)
                lint_add(c->r, c->pub ? LC_EKU_OTHER : LC_EKU_OTHER_PRIVATE,
                         "extKeyUsage holds %s (only serverAuth and clientAuth belong in a TLS "
                         "certificate)",
                         other_name);
        EXTENDED_KEY_USAGE_free(eku);
}

void lint_cert_usage(struct lint_cert_ctx *c)
{
        int crit;
        BASIC_CONSTRAINTS *bc = ext_d2i(c->x, NID_basic_constraints, &crit);
        if (c->role == LINT_ROLE_SUBSCRIBER) {
                if (bc && bc->ca)
                        lint_add(c->r, LC_SUB_CA,
                                 "basicConstraints says cA TRUE on a subscriber certificate");
        } else if (crit < 0 || !bc || !bc->ca || !crit) {
                lint_add(c->r, LC_CA_BC, "the CA certificate's basicConstraints is %s",
                         crit < 0         ? "missing"
                         : !bc || !bc->ca ? "not cA TRUE"
                                          : "not critical");
        }
        BASIC_CONSTRAINTS_free(bc);
        check_ku(c);
        check_eku(c);
}

/* ---- key identifiers ---- */

void lint_cert_ids(struct lint_cert_ctx *c)
{
        int crit;
        AUTHORITY_KEYID *aki = ext_d2i(c->x, NID_authority_key_identifier, &crit);
        ASN1_OCTET_STRING *ski = ext_d2i(c->x, NID_subject_key_identifier, NULL);
        bool root = c->role == LINT_ROLE_ROOT_CA;
        if (!root && (!aki || !aki->keyid))
                lint_add(c->r, LC_AKI_MISSING, "authorityKeyIdentifier %s",
                         crit < 0 ? "is missing" : "has no keyIdentifier");
        if (aki && aki->keyid && c->issuer) {
                const ASN1_OCTET_STRING *iski = X509_get0_subject_key_id(c->issuer);
                if (iski && ASN1_OCTET_STRING_cmp(aki->keyid, iski) != 0)
                        lint_add(c->r, LC_AKI_ISSUER,
                                 "authorityKeyIdentifier does not equal the issuer's "
                                 "subjectKeyIdentifier");
        }
        if (!ski)
                lint_add(c->r,
                         c->role == LINT_ROLE_SUBSCRIBER || c->role == LINT_ROLE_OCSP_RESPONDER
                             ? LC_SKI_MISSING
                             : LC_SKI_MISSING_CA,
                         "the certificate has no subjectKeyIdentifier");
        AUTHORITY_KEYID_free(aki);
        ASN1_OCTET_STRING_free(ski);
}

/* ---- URLs ---- */

static bool http_uri(const GENERAL_NAME *g)
{
        if (g->type != GEN_URI)
                return false;
        const unsigned char *p = ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
        int n = ASN1_STRING_length(g->d.uniformResourceIdentifier);
        return n > 7 && strncasecmp((const char *)p, "http://", 7) == 0;
}

static void uri_text(const GENERAL_NAME *g, char *out, size_t sz)
{
        if (g->type != GEN_URI) {
                snprintf(out, sz, "(a name of type %d)", g->type);
                return;
        }
        lint_printable(ASN1_STRING_get0_data(g->d.uniformResourceIdentifier),
                       (size_t)ASN1_STRING_length(g->d.uniformResourceIdentifier), out, sz);
}

void lint_cert_urls(struct lint_cert_ctx *c)
{
        enum lint_check_id crl_id = c->pub ? LC_CRLDP_HTTP : LC_CRLDP_HTTP_PRIVATE;
        enum lint_check_id aia_id = c->pub ? LC_AIA_HTTP : LC_AIA_HTTP_PRIVATE;
        char u[120];
        CRL_DIST_POINTS *dps = ext_d2i(c->x, NID_crl_distribution_points, NULL);
        for (int i = 0; dps && i < sk_DIST_POINT_num(dps); i++) {
                DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
                if (!dp->distpoint || dp->distpoint->type != 0) {
                        lint_add(c->r, crl_id,
                                 "a CRL distribution point has no fullName with an http:// URI");
                        continue;
                }
                GENERAL_NAMES *full = dp->distpoint->name.fullname;
                if (sk_GENERAL_NAME_num(full) == 0)
                        lint_add(c->r, crl_id, "a CRL distribution point has an empty fullName");
                for (int j = 0; j < sk_GENERAL_NAME_num(full); j++) {
                        const GENERAL_NAME *g = sk_GENERAL_NAME_value(full, j);
                        if (!http_uri(g)) {
                                uri_text(g, u, sizeof u);
                                lint_add(c->r, crl_id,
                                         "the CRL distribution point %s is not an http:// URI", u);
                        }
                }
        }
        CRL_DIST_POINTS_free(dps);
        AUTHORITY_INFO_ACCESS *aia = ext_d2i(c->x, NID_info_access, NULL);
        for (int i = 0; aia && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
                ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
                if (!http_uri(ad->location)) {
                        uri_text(ad->location, u, sizeof u);
                        lint_add(c->r, aia_id,
                                 "the authorityInfoAccess location %s (%s) is not an http:// URI",
                                 u, OBJ_nid2sn(OBJ_obj2nid(ad->method)));
                }
        }
        AUTHORITY_INFO_ACCESS_free(aia);
}

/* ---- certificate policies ---- */

static const char *profile_oid(enum cert_profile p)
{
        return p == PROFILE_EV ? LINT_OID_EV : p == PROFILE_OV ? LINT_OID_OV : LINT_OID_DV;
}

static bool reserved_oid(const char *t)
{
        return !strcmp(t, LINT_OID_DV) || !strcmp(t, LINT_OID_OV) || !strcmp(t, LINT_OID_EV) ||
               !strcmp(t, LINT_OID_IV);
}

void lint_cert_policies(struct lint_cert_ctx *c)
{
        int crit;
        CERTIFICATEPOLICIES *pols = ext_d2i(c->x, NID_certificate_policies, &crit);
        int n = pols ? sk_POLICYINFO_num(pols) : 0, reserved = 0, any = 0;
        bool mine = false;
        for (int i = 0; i < n; i++) {
                char t[80];
                OBJ_obj2txt(t, sizeof t, sk_POLICYINFO_value(pols, i)->policyid, 1);
                reserved += reserved_oid(t);
                any += strcmp(t, ANY_POLICY) == 0;
                mine = mine || strcmp(t, profile_oid(c->profile)) == 0;
        }
        CERTIFICATEPOLICIES_free(pols);
        switch (c->role) {
        case LINT_ROLE_SUBSCRIBER:
                if (any)
                        lint_add(c->r, LC_POLICIES_ANY, "certificatePolicies holds anyPolicy");
                if (!c->pub) {
                        if (reserved)
                                lint_add(c->r, LC_POLICIES_PRIVATE,
                                         "a private certificate asserts a CA/B Forum reserved "
                                         "policy");
                } else if (crit < 0) {
                        lint_add(c->r, LC_POLICIES_MISSING,
                                 "the certificate has no certificatePolicies");
                } else if (reserved != 1 || !mine) {
                        lint_add(c->r, LC_POLICIES_RESERVED,
                                 "certificatePolicies holds %d CA/B Forum reserved policies; "
                                 "exactly one, %s for %s, is required",
                                 reserved, profile_oid(c->profile), cert_profile_name(c->profile));
                }
                break;
        case LINT_ROLE_ISSUING_CA:
                if (!c->pub)
                        break;
                if (crit < 0)
                        lint_add(c->r, LC_CA_POLICIES,
                                 "the issuing CA certificate has no certificatePolicies");
                else if (any && n > 1)
                        lint_add(c->r, LC_CA_POLICIES,
                                 "anyPolicy appears together with other policies");
                else if (!any && !reserved)
                        lint_add(c->r, LC_CA_POLICIES,
                                 "certificatePolicies holds neither anyPolicy nor a CA/B Forum "
                                 "reserved policy");
                break;
        case LINT_ROLE_ROOT_CA:
                if (crit >= 0)
                        lint_add(c->r, LC_ROOT_POLICIES,
                                 "the root certificate has "
                                 "certificatePolicies");
                break;
        case LINT_ROLE_AUTO:
        default:
                break;
        }
}
