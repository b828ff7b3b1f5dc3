/*
 * lint_cert.c - linting one certificate: parsing, the role and profile it
 * is judged by, encoding, version, serial number, signature algorithm,
 * validity and subject key. The extension and name checks are in
 * lint_cert_ext.c. See lint.h.
 *
 * The certificate and the optional issuer are parsed here and freed before
 * returning; findings go to the caller's report. Any thread.
 */
#include "lint_internal.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policy/policy.h"

#define MAX_CERT_DER (1u << 20)

static bool has_policy(X509 *x, const char *oid)
{
        CERTIFICATEPOLICIES *pols = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
        bool found = false;
        for (int i = 0; pols && i < sk_POLICYINFO_num(pols) && !found; i++) {
                char txt[80];
                OBJ_obj2txt(txt, sizeof txt, sk_POLICYINFO_value(pols, i)->policyid, 1);
                found = strcmp(txt, oid) == 0;
        }
        CERTIFICATEPOLICIES_free(pols);
        ERR_clear_error();
        return found;
}

static bool is_ca(X509 *x)
{
        BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
        bool ca = bc && bc->ca;
        BASIC_CONSTRAINTS_free(bc);
        ERR_clear_error();
        return ca;
}

/* Self-issued: subject equals issuer, and the AKI, when present, names the
 * certificate's own key. */
static bool self_issued(X509 *x)
{
        if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) != 0)
                return false;
        const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
        const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
        return !aki || (ski && ASN1_OCTET_STRING_cmp(aki, ski) == 0);
}

/* Without --profile: the CA/B policy OID says dv, ov or ev; otherwise the
 * private rules. A CA certificate asserting anyPolicy or a CA/B OID is
 * judged by the public rules. An SM2 key or signature always means private
 * (SM2 chains serve the private profile only). */
static enum cert_profile guess_profile(X509 *x, enum lint_role role, enum lint_key_kind key)
{
        if (key == LK_SM2 || X509_get_signature_nid(x) == NID_SM2_with_SM3)
                return PROFILE_PRIVATE;
        if (has_policy(x, LINT_OID_EV))
                return PROFILE_EV;
        if (has_policy(x, LINT_OID_OV))
                return PROFILE_OV;
        if (has_policy(x, LINT_OID_DV))
                return PROFILE_DV;
        if (role != LINT_ROLE_SUBSCRIBER && has_policy(x, "2.5.29.32.0"))
                return PROFILE_DV;
        return PROFILE_PRIVATE;
}

static void check_encoding(struct lint_cert_ctx *c, const uint8_t *der, size_t len,
                           const struct der_signed *ds)
{
        if (X509_get_version(c->x) != X509_VERSION_3)
                lint_add(c->r, LC_CERT_VERSION, "the certificate is version %ld, not 3",
                         X509_get_version(c->x) + 1);
        if (!ds->inner || ds->inner_len != ds->alg_len ||
            memcmp(ds->inner, ds->alg, ds->alg_len) != 0)
                lint_add(c->r, LC_SIG_ALG_MISMATCH,
                         "the outer signatureAlgorithm differs from the signature field of "
                         "tbsCertificate");
        unsigned char *out = NULL;
        int n = i2d_X509(c->x, &out);
        bool same = n > 0 && (size_t)n == len && memcmp(out, der, len) == 0;
        OPENSSL_free(out);
        out = NULL;
        /* the TBS itself, encoded again from its parsed fields */
        n = same ? i2d_re_X509_tbs(c->x, &out) : 0;
        same = same && n > 0 && (size_t)n == ds->tbs_len && memcmp(out, ds->tbs, ds->tbs_len) == 0;
        OPENSSL_free(out);
        if (!same)
                lint_add(c->r, LC_CERT_DER,
                         "the certificate is not DER-encoded: encoding its parsed fields again "
                         "gives other bytes (BER lengths, default values written out, or a "
                         "non-canonical BOOLEAN)");
}

static void check_serial(struct lint_cert_ctx *c)
{
        const ASN1_INTEGER *s = X509_get0_serialNumber(c->x);
        BIGNUM *bn = s ? ASN1_INTEGER_to_BN(s, NULL) : NULL;
        if (!bn) {
                lint_add(c->r, LC_SERIAL_POSITIVE, "the serial number does not decode");
                ERR_clear_error();
                return;
        }
        if (BN_is_negative(bn) || BN_is_zero(bn))
                lint_add(c->r, LC_SERIAL_POSITIVE, "the serial number is %s",
                         BN_is_zero(bn) ? "zero" : "negative");
        /* DER content octets: the magnitude plus a sign octet when its top
         * bit is set (for positive numbers) */
        int bytes = BN_num_bytes(bn);
        int octets = bytes + (!BN_is_negative(bn) && BN_num_bits(bn) % 8 == 0 && bytes > 0);
        if (BN_is_zero(bn))
                octets = 1;
        if (octets > 20)
                lint_add(c->r, LC_SERIAL_TOO_LONG, "the serial number has %d octets (at most 20)",
                         octets);
        if (octets < 8)
                lint_add(c->r, LC_SERIAL_TOO_SHORT,
                         "the serial number has %d octets, too few for 64 random bits (at least "
                         "8)",
                         octets);
        BN_free(bn);
}

static void check_validity(struct lint_cert_ctx *c)
{
        const ASN1_TIME *nb = X509_get0_notBefore(c->x), *na = X509_get0_notAfter(c->x);
        char why[96];
        if (!lint_time_encoding_ok(nb, false, why))
                lint_add(c->r, LC_VALIDITY_ENCODING, "notBefore: %s", why);
        if (!lint_time_encoding_ok(na, false, why))
                lint_add(c->r, LC_VALIDITY_ENCODING, "notAfter: %s", why);
        int64_t b, a;
        if (!lint_time(nb, &b) || !lint_time(na, &a))
                return;
        if (a <= b) {
                lint_add(c->r, LC_VALIDITY_ORDER, "notAfter is not later than notBefore");
                return;
        }
        if (c->role != LINT_ROLE_SUBSCRIBER)
                return;
        long max = policy_max_validity_days(c->profile, (qtime_t)b, c->o->public_max_days,
                                            c->o->private_max_days);
        if (max <= 0)
                return;
        /* both ends count (RFC 5280 4.1.2.5, BR 1.6.1) */
        uint64_t span = (uint64_t)(a - b) + 1, allowed = (uint64_t)max * 86400u;
        if (span > allowed) {
                char from[32];
                lint_fmt_time(b, from);
                lint_add(c->r, LC_VALIDITY_TOO_LONG,
                         "the validity is %llu seconds (%.2f days); a %s certificate issued on "
                         "%.10s may last at most %ld days",
                         (unsigned long long)span, (double)span / 86400.0,
                         cert_profile_name(c->profile), from, max);
        } else if (c->o->max_validity_seconds > 0 && span > (uint64_t)c->o->max_validity_seconds) {
                lint_add(c->r, LC_VALIDITY_TOO_LONG,
                         "the validity is %llu seconds; the issuance profile allows at most "
                         "%lld seconds",
                         (unsigned long long)span, (long long)c->o->max_validity_seconds);
        }
}

static void check_rsa(struct lint_cert_ctx *c, const X509_ALGOR *alg)
{
        int ptype = 0;
        X509_ALGOR_get0(NULL, &ptype, NULL, alg);
        if (ptype != V_ASN1_NULL)
                lint_add(c->r, LC_RSA_SPKI_PARAMS,
                         "the RSA key's AlgorithmIdentifier does not carry NULL parameters");
        EVP_PKEY *k = X509_get0_pubkey(c->x);
        BIGNUM *e = NULL;
        if (!k || !EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e)) {
                ERR_clear_error();
                lint_add(c->r, LC_SPKI_ALGORITHM, "the RSA public key does not decode");
                return;
        }
        int bits = EVP_PKEY_get_bits(k);
        if (bits < 2048 || bits % 8)
                lint_add(c->r, LC_RSA_KEY_SIZE,
                         "the RSA modulus has %d bits (at least 2048, a multiple of 8)", bits);
        if (!BN_is_odd(e) || BN_num_bits(e) < 17)
                lint_add(c->r, LC_RSA_EXPONENT,
                         "the RSA public exponent is %s (it must be odd and at least 65537)",
                         BN_is_odd(e) ? "below 65537" : "even");
        BN_free(e);
}

static void check_key(struct lint_cert_ctx *c)
{
        X509_PUBKEY *pk = X509_get_X509_PUBKEY(c->x);
        ASN1_OBJECT *obj = NULL;
        X509_ALGOR *alg = NULL;
        if (!pk || !X509_PUBKEY_get0_param(&obj, NULL, NULL, &alg, pk) || !obj) {
                lint_add(c->r, LC_SPKI_ALGORITHM, "the subject public key does not decode");
                return;
        }
        char name[64];
        OBJ_obj2txt(name, sizeof name, obj, 0);
        switch (c->key) {
        case LK_RSA:
                check_rsa(c, alg);
                break;
        case LK_P256:
        case LK_P384:
                if (!X509_get0_pubkey(c->x)) {
                        ERR_clear_error();
                        lint_add(c->r, LC_SPKI_ALGORITHM,
                                 "the EC public key does not decode (a point off the curve?)");
                }
                break;
        case LK_SM2:
                if (c->pub)
                        lint_add(c->r, LC_SM2_PRIVATE_ONLY,
                                 "the subject key is an SM2 key, which only the private profile "
                                 "allows");
                break;
        case LK_OTHER_EC:
                lint_add(c->r, LC_EC_CURVE,
                         "the EC key is not on the named curve P-256 or P-384 (another curve, or "
                         "explicit parameters)");
                break;
        case LK_OTHER:
        case LK_NONE:
        default:
                lint_add(c->r, LC_SPKI_ALGORITHM,
                         "the subject key algorithm %s is not RSA, ECDSA or SM2", name);
        }
}

static const struct lint_sig_ids cert_sig_ids = {LC_SIG_SHA1, LC_SIG_ALG_NOT_ALLOWED,
                                                 LC_SIG_ALG_ISSUER_KEY};

static X509 *parse_der(const uint8_t *der, size_t len)
{
        const unsigned char *p = der;
        X509 *x = len <= MAX_CERT_DER ? d2i_X509(NULL, &p, (long)len) : NULL;
        if (x && p != der + len) {
                X509_free(x);
                x = NULL;
        }
        ERR_clear_error();
        return x;
}

enum qerr lint_cert_der(const uint8_t *der, size_t len, const struct lint_cert_opts *o,
                        struct lint_report *out, enum cert_profile *profile_used,
                        struct qerr_info *ei)
{
        struct der_signed ds;
        if (!der || len == 0)
                return qerr_set(ei, QERR_PEM_INVALID,
                                "There is no certificate (the input is empty); give one X.509 "
                                "certificate in PEM or DER form.");
        if (len > MAX_CERT_DER)
                return qerr_set(ei, QERR_PEM_INVALID,
                                "The certificate is larger than %u bytes; give one X.509 "
                                "certificate in PEM or DER form.",
                                MAX_CERT_DER);
        if (!lint_der_signed(der, len, false, &ds) || ds.total != len)
                return qerr_set(ei, QERR_PEM_INVALID,
                                "The input is not one DER-encoded certificate (it is truncated, "
                                "has bytes after the end, or is another kind of object); give "
                                "one X.509 certificate in PEM or DER form.");
        X509 *x = parse_der(der, len);
        if (!x)
                return qerr_set(ei, QERR_PEM_INVALID,
                                "The input does not parse as an X.509 certificate (truncated or "
                                "damaged); give the complete certificate in PEM or DER form.");
        X509 *issuer = o->issuer_der ? parse_der(o->issuer_der, o->issuer_len) : NULL;
        struct lint_cert_ctx c = {.x = x, .r = out, .o = o, .role = o->role};
        c.key = lint_key_kind(X509_get_X509_PUBKEY(x));
        if (c.role == LINT_ROLE_AUTO)
                c.role = is_ca(x) ? (self_issued(x) ? LINT_ROLE_ROOT_CA : LINT_ROLE_ISSUING_CA)
                         : lint_is_responder(x) ? LINT_ROLE_OCSP_RESPONDER
                                                : LINT_ROLE_SUBSCRIBER;
        c.profile = o->guess_profile ? guess_profile(x, c.role, c.key) : o->profile;
        if ((unsigned)c.profile >= PROFILE__COUNT)
                c.profile = PROFILE_PRIVATE;
        c.pub = cert_profile_is_public(c.profile);
        c.issuer = issuer ? issuer : self_issued(x) ? x : NULL;
        enum lint_key_kind ik = c.issuer ? lint_key_kind(X509_get_X509_PUBKEY(c.issuer)) : LK_NONE;

        check_serial(&c);
        const X509_ALGOR *sigalg = NULL;
        X509_get0_signature(NULL, &sigalg, x);
        lint_check_sigalg(out, sigalg, !c.pub, ik, &cert_sig_ids, "certificate");
        check_validity(&c);
        check_key(&c);
        lint_cert_exts(&c);
        lint_cert_names(&c);
        lint_cert_subject(&c);
        if (c.role == LINT_ROLE_OCSP_RESPONDER)
                lint_cert_responder(&c);
        else
                lint_cert_usage(&c);
        lint_cert_ids(&c);
        lint_cert_urls(&c);
        lint_cert_policies(&c);
        check_encoding(&c, der, len, &ds); /* last: it re-encodes the TBS */
        ERR_clear_error();
        if (profile_used)
                *profile_used = c.profile;
        X509_free(issuer);
        X509_free(x);
        return QERR_OK;
}

enum qerr lint_cert_input(const void *data, size_t len, const struct lint_cert_opts *o,
                          struct lint_report *out, enum cert_profile *profile_used,
                          struct qerr_info *ei)
{
        static const char begin[] = "-----BEGIN CERTIFICATE-----";
        if (!data || len == 0)
                return qerr_set(ei, QERR_PEM_INVALID,
                                "The file is empty; give one X.509 certificate in PEM or DER "
                                "form.");
        if (len > MAX_CERT_DER * 2)
                return qerr_set(ei, QERR_PEM_INVALID,
                                "The file is too large for a certificate; give one X.509 "
                                "certificate in PEM or DER form.");
        if (!memmem(data, len, begin, sizeof begin - 1)) {
                if (memmem(data, len, "-----BEGIN ", 11))
                        return qerr_set(ei, QERR_PEM_INVALID,
                                        "The PEM file holds no CERTIFICATE block (a CSR or a "
                                        "key is not linted); give a certificate.");
                return lint_cert_der(data, len, o, out, profile_used, ei);
        }
        BIO *b = BIO_new_mem_buf(data, (int)len);
        char *name = NULL, *header = NULL;
        unsigned char *der = NULL;
        long dlen = 0;
        enum qerr rc = QERR_OK;
        if (!b)
                return qerr_set(ei, QERR_NOMEM, NULL);
        /* the first CERTIFICATE block: skip others (a key before it) */
        for (;;) {
                if (PEM_read_bio(b, &name, &header, &der, &dlen) != 1) {
                        rc = qerr_set(ei, QERR_PEM_INVALID,
                                      "The CERTIFICATE block is not valid PEM (truncated, or "
                                      "its base64 is damaged); give the complete certificate.");
                        break;
                }
                if (strcmp(name, "CERTIFICATE") == 0)
                        break;
                OPENSSL_free(name);
                OPENSSL_free(header);
                OPENSSL_free(der);
                name = header = NULL;
                der = NULL;
        }
        ERR_clear_error();
        BIO_free(b);
        if (rc == QERR_OK)
                rc = lint_cert_der(der, (size_t)dlen, o, out, profile_used, ei);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(der);
        return rc;
}
