/*
 * lint_responder.c - the checks of a delegated OCSP responder certificate
 * (RFC 6960 4.2.2.2, the Baseline Requirements' OCSP responder profile,
 * BR 7.1.2.8): extKeyUsage id-kp-OCSPSigning alone, id-pkix-ocsp-nocheck,
 * keyUsage digitalSignature alone and critical, never a CA, none of the
 * extensions a responder has no use for, and a short validity (the nocheck
 * extension makes the key unrevocable). The checks every certificate gets
 * (encoding, serial, signature, key, AKI ...) run as well; lint_cert.c
 * calls this instead of the subscriber and CA usage checks.
 *
 * Decoded extensions are freed before returning. Any thread.
 */
#include "lint_internal.h"

#include <openssl/err.h>

#define MAX_RESPONDER_DAYS 30

static int ext_crit(X509 *x, int nid)
{
        int idx = X509_get_ext_by_NID(x, nid, -1);
        return idx < 0 ? -1 : X509_EXTENSION_get_critical(X509_get_ext(x, idx));
}

static void check_eku(struct lint_cert_ctx *c)
{
        EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(c->x, NID_ext_key_usage, NULL, NULL);
        ERR_clear_error();
        if (!eku) {
                lint_add(c->r, LC_RESP_EKU,
                         "the responder certificate has no (decodable) "
                         "extKeyUsage");
                return;
        }
        bool ocsp = false;
        char other[80] = "";
        for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
                const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
                if (OBJ_obj2nid(o) == NID_OCSP_sign)
                        ocsp = true;
                else if (!other[0])
                        OBJ_obj2txt(other, sizeof other, o, 0);
        }
        EXTENDED_KEY_USAGE_free(eku);
        if (!ocsp)
                lint_add(c->r, LC_RESP_EKU, "extKeyUsage does not hold id-kp-OCSPSigning");
        if (other[0])
                lint_add(c->r, LC_RESP_EKU,
                         "extKeyUsage holds %s besides id-kp-OCSPSigning (a responder key signs "
                         "OCSP responses only)",
                         other);
}

static void check_nocheck(struct lint_cert_ctx *c)
{
        int idx = X509_get_ext_by_NID(c->x, NID_id_pkix_OCSP_noCheck, -1);
        if (idx < 0) {
                lint_add(c->r, LC_RESP_NOCHECK,
                         "id-pkix-ocsp-nocheck is missing: relying parties would have to check "
                         "the responder's own status, which it cannot answer");
                return;
        }
        X509_EXTENSION *e = X509_get_ext(c->x, idx);
        const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(e);
        if (X509_EXTENSION_get_critical(e))
                lint_add(c->r, LC_RESP_NOCHECK, "id-pkix-ocsp-nocheck is critical");
        if (ASN1_STRING_length(v) != 2 || ASN1_STRING_get0_data(v)[0] != 0x05 ||
            ASN1_STRING_get0_data(v)[1] != 0x00)
                lint_add(c->r, LC_RESP_NOCHECK, "id-pkix-ocsp-nocheck's value is not NULL");
}

static void check_ku(struct lint_cert_ctx *c)
{
        int crit = ext_crit(c->x, NID_key_usage);
        ASN1_BIT_STRING *ku = X509_get_ext_d2i(c->x, NID_key_usage, NULL, NULL);
        ERR_clear_error();
        if (crit < 0 || !ku) {
                lint_add(c->r, LC_RESP_KU,
                         "the responder certificate has no (decodable) "
                         "keyUsage");
                ASN1_BIT_STRING_free(ku);
                return;
        }
        if (!crit)
                lint_add(c->r, LC_RESP_KU, "keyUsage is not critical");
        if (!ASN1_BIT_STRING_get_bit(ku, 0))
                lint_add(c->r, LC_RESP_KU, "keyUsage lacks digitalSignature");
        for (int b = 1; b < 9; b++)
                if (ASN1_BIT_STRING_get_bit(ku, b)) {
                        lint_add(c->r, LC_RESP_KU, "keyUsage has bit %d besides digitalSignature",
                                 b);
                        break;
                }
        ASN1_BIT_STRING_free(ku);
}

static void check_bc(struct lint_cert_ctx *c)
{
        BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(c->x, NID_basic_constraints, NULL, NULL);
        ERR_clear_error();
        if (bc && bc->ca)
                lint_add(c->r, LC_RESP_CA, "basicConstraints says cA TRUE");
        BASIC_CONSTRAINTS_free(bc);
}

static void check_other_exts(struct lint_cert_ctx *c)
{
        static const struct {
                int nid;
                const char *name;
        } unwanted[] = {{NID_subject_alt_name, "subjectAltName"},
                        {NID_certificate_policies, "certificatePolicies"},
                        {NID_crl_distribution_points, "cRLDistributionPoints"},
                        {NID_info_access, "authorityInfoAccess"}};
        for (size_t i = 0; i < sizeof unwanted / sizeof unwanted[0]; i++)
                if (ext_crit(c->x, unwanted[i].nid) >= 0)
                        lint_add(c->r, LC_RESP_EXT, "the responder certificate has %s",
                                 unwanted[i].name);
}

static void check_validity(struct lint_cert_ctx *c)
{
        int64_t b, a;
        if (!lint_time(X509_get0_notBefore(c->x), &b) || !lint_time(X509_get0_notAfter(c->x), &a))
                return; /* e_validity_time_encoding says so */
        if (a > b && (a - b) + 1 > (int64_t)MAX_RESPONDER_DAYS * 86400)
                lint_add(c->r, LC_RESP_VALIDITY,
                         "the responder certificate is valid for %.1f days (at most %d advised)",
                         (double)(a - b + 1) / 86400.0, MAX_RESPONDER_DAYS);
}

void lint_cert_responder(struct lint_cert_ctx *c)
{
        check_eku(c);
        check_nocheck(c);
        check_ku(c);
        check_bc(c);
        check_other_exts(c);
        check_validity(c);
}

bool lint_is_responder(X509 *x)
{
        EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
        bool found = false;
        for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku) && !found; i++)
                found = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) == NID_OCSP_sign;
        EXTENDED_KEY_USAGE_free(eku);
        ERR_clear_error();
        return found;
}
