/*
 * lint.h - the certificate, CRL and OCSP linter (issue 7, "Lint before
 * signing"; docs/internals/lint.md has the checks table and the reasons).
 *
 * The signer lints every to-be-signed certificate and CRL before the real
 * signature (pki_issue.h, "lint gate"): an error-level finding refuses the
 * signature with QERR_LINT_FAILED. `quill lint FILE` and uploads lint
 * certificates made elsewhere and only report.
 *
 * Every check has a stable id (e_... error, w_... warning, n_... notice: the
 * prefix is the severity), a severity, the rule it comes from (RFC 5280
 * section or Baseline Requirements section) and a one-line summary; they are
 * listed once, in LINT_CHECKS below. A finding names its check and says what
 * was found, in a sentence of at most LINT_MSG_MAX bytes.
 *
 * The inputs are DER bytes from anywhere (the entry points are fuzzed:
 * fuzz/fuzz_lint.c); the functions never trust them. This header needs no
 * OpenSSL type, so the service can hand reports to front doors.
 *
 * Memory: a `struct lint_report` is owned by its declarer; lint_report_free
 * releases its findings. Findings point to static strings (id, source) and
 * own their message. Stateless apart from OpenSSL's own thread-safe state and
 * the public suffix list (read-only): any thread.
 */
#ifndef QUILL_LINT_H
#define QUILL_LINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "../base/model.h"

enum lint_severity { LINT_NOTICE = 0, LINT_WARNING = 1, LINT_ERROR = 2 };

/* What a check looks at (for the documentation table). */
#define LINT_CERT "certificate"
#define LINT_SUB "subscriber certificate"
#define LINT_PUB "public subscriber certificate"
#define LINT_CA "CA certificate"
#define LINT_CRL "CRL"
#define LINT_OCSP "OCSP response"
#define LINT_RESP "OCSP responder certificate"

/* X(NAME, "id", severity, applies to, "source", "what must hold") */
#define LINT_CHECKS(X)                                                                             \
        X(CERT_DER, "e_cert_der_encoding", LINT_ERROR, LINT_CERT, "RFC 5280 4.1",                  \
          "the certificate is DER: encoding it again gives the same bytes")                        \
        X(CERT_VERSION, "e_cert_version_3", LINT_ERROR, LINT_CERT, "RFC 5280 4.1.2.1",             \
          "the certificate is version 3")                                                          \
        X(EXT_MALFORMED, "e_ext_malformed", LINT_ERROR, LINT_CERT, "RFC 5280 4.2",                 \
          "every extension the linter knows decodes")                                              \
        X(EXT_DUPLICATE, "e_ext_duplicate", LINT_ERROR, LINT_CERT, "RFC 5280 4.2",                 \
          "no extension appears twice")                                                            \
        X(EXT_UNKNOWN_CRITICAL, "e_ext_unknown_critical", LINT_ERROR, LINT_CERT, "RFC 5280 4.2",   \
          "no extension marked critical is one the linter does not know")                          \
        X(EXT_NOT_IN_PROFILE, "w_ext_not_in_profile", LINT_WARNING, LINT_PUB, "BR 7.1.2.7.6",      \
          "only the extensions of the BR subscriber profile are present")                          \
        X(SERIAL_POSITIVE, "e_serial_positive", LINT_ERROR, LINT_CERT, "RFC 5280 4.1.2.2; BR 7.1", \
          "the serial number is greater than zero")                                                \
        X(SERIAL_TOO_LONG, "e_serial_too_long", LINT_ERROR, LINT_CERT, "RFC 5280 4.1.2.2",         \
          "the serial number is at most 20 octets long")                                           \
        X(SERIAL_TOO_SHORT, "e_serial_too_short", LINT_ERROR, LINT_CERT, "BR 7.1",                 \
          "the serial number has at least 8 octets (room for 64 random bits)")                     \
        X(SIG_ALG_MISMATCH, "e_sig_alg_mismatch", LINT_ERROR, LINT_CERT, "RFC 5280 4.1.1.2",       \
          "signatureAlgorithm equals the signature field inside tbsCertificate")                   \
        X(SIG_SHA1, "e_sig_sha1", LINT_ERROR, LINT_CERT, "BR 7.1.3.2",                             \
          "no SHA-1 in the signature algorithm (RSA-PSS hash and mask included)")                  \
        X(SIG_ALG_NOT_ALLOWED, "e_sig_alg_not_allowed", LINT_ERROR, LINT_CERT, "BR 7.1.3.2",       \
          "the signature algorithm is RSA (PKCS#1 v1.5 or PSS) with SHA-256/384/512, ECDSA with "  \
          "SHA-256/384, or SM2 with SM3 (private profile)")                                        \
        X(SIG_ALG_ISSUER_KEY, "e_sig_alg_issuer_key", LINT_ERROR, LINT_CERT, "BR 7.1.3.2.2",       \
          "the signature algorithm matches the issuer's key (P-256 with SHA-256, P-384 with "      \
          "SHA-384, RSA with RSA, SM2 with SM3)")                                                  \
        X(VALIDITY_ORDER, "e_validity_order", LINT_ERROR, LINT_CERT, "RFC 5280 4.1.2.5",           \
          "notBefore is before notAfter")                                                          \
        X(VALIDITY_ENCODING, "e_validity_time_encoding", LINT_ERROR, LINT_CERT,                    \
          "RFC 5280 4.1.2.5.1, 4.1.2.5.2",                                                         \
          "times are UTCTime through 2049 and GeneralizedTime from 2050, in seconds, ending in Z") \
        X(VALIDITY_TOO_LONG, "e_validity_too_long", LINT_ERROR, LINT_SUB, "BR 6.3.2; RULES.md 8",  \
          "the validity (both ends counted) is within the profile's maximum on the notBefore "     \
          "day")                                                                                   \
        X(SPKI_ALGORITHM, "e_spki_algorithm", LINT_ERROR, LINT_CERT, "BR 6.1.5; BR 7.1.3.1",       \
          "the subject key is RSA (rsaEncryption) or ECDSA (id-ecPublicKey), or SM2 for the "      \
          "private profile, and decodes")                                                          \
        X(RSA_SPKI_PARAMS, "e_rsa_spki_params", LINT_ERROR, LINT_CERT, "BR 7.1.3.1.1",             \
          "an RSA key's AlgorithmIdentifier has NULL parameters")                                  \
        X(RSA_KEY_SIZE, "e_rsa_key_size", LINT_ERROR, LINT_CERT, "BR 6.1.5",                       \
          "an RSA modulus has at least 2048 bits, a multiple of 8")                                \
        X(RSA_EXPONENT, "e_rsa_exponent", LINT_ERROR, LINT_CERT, "BR 6.1.6",                       \
          "an RSA public exponent is odd and at least 65537")                                      \
        X(EC_CURVE, "e_ec_curve", LINT_ERROR, LINT_CERT, "BR 6.1.5; BR 7.1.3.1.2",                 \
          "an EC key is on the named curve P-256 or P-384 (SM2 for the private profile)")          \
        X(SM2_PRIVATE_ONLY, "e_sm2_private_only", LINT_ERROR, LINT_CERT,                           \
          "BR 6.1.5; docs/internals/lint.md",                                                      \
          "SM2 keys and SM2-with-SM3 signatures appear only under the private profile")            \
        X(SAN_MISSING, "e_san_missing", LINT_ERROR, LINT_SUB, "BR 7.1.2.7.12",                     \
          "a subscriber certificate has a subjectAltName extension")                               \
        X(SAN_EMPTY, "e_san_empty", LINT_ERROR, LINT_CERT, "RFC 5280 4.2.1.6",                     \
          "subjectAltName holds at least one name")                                                \
        X(SAN_CRITICALITY, "e_san_criticality", LINT_ERROR, LINT_CERT,                             \
          "RFC 5280 4.2.1.6; BR 7.1.2.7.12",                                                       \
          "subjectAltName is critical exactly when the subject is empty")                          \
        X(SAN_TYPE, "e_san_type", LINT_ERROR, LINT_SUB, "BR 7.1.2.7.12",                           \
          "subjectAltName holds only dNSName and iPAddress entries")                               \
        X(DNS_EMPTY_LABEL, "e_dnsname_empty_label", LINT_ERROR, LINT_CERT,                         \
          "RFC 5280 4.2.1.6; RFC 1034 3.5",                                                        \
          "a dNSName has no empty label (no leading, doubled or trailing dot)")                    \
        X(DNS_UNDERSCORE, "e_dnsname_underscore", LINT_ERROR, LINT_CERT, "BR 7.1.2.7.12",          \
          "a dNSName has no underscore")                                                           \
        X(DNS_BAD_CHAR, "e_dnsname_bad_character", LINT_ERROR, LINT_CERT,                          \
          "RFC 5280 4.2.1.6; RFC 1123 2.1",                                                        \
          "a dNSName has only letters, digits, hyphens and dots (and a leading \"*\" label)")      \
        X(DNS_HYPHEN, "e_dnsname_hyphen", LINT_ERROR, LINT_CERT, "RFC 1123 2.1",                   \
          "no dNSName label starts or ends with a hyphen")                                         \
        X(DNS_LABEL_TOO_LONG, "e_dnsname_label_too_long", LINT_ERROR, LINT_CERT, "RFC 1035 2.3.4", \
          "every dNSName label has at most 63 octets")                                             \
        X(DNS_TOO_LONG, "e_dnsname_too_long", LINT_ERROR, LINT_CERT, "RFC 1035 2.3.4",             \
          "a dNSName has at most 253 octets")                                                      \
        X(DNS_WILDCARD, "e_dnsname_wildcard", LINT_ERROR, LINT_CERT,                               \
          "BR 7.1.2.7.12; RFC 6125 6.4.3",                                                         \
          "a \"*\" appears only as the whole leftmost label, with at least two labels after it")   \
        X(DNS_ALABEL, "e_dnsname_alabel", LINT_ERROR, LINT_CERT,                                   \
          "RFC 5890 2.3.2.1; BR 7.1.2.7.12",                                                       \
          "an xn-- label is a valid A-label (Punycode that decodes to non-ASCII); no other "       \
          "label has \"--\" in positions 3 and 4")                                                 \
        X(DNS_INTERNAL, "e_dnsname_internal", LINT_ERROR, LINT_PUB, "BR 7.1.2.7.12; BR 4.2.2",     \
          "a dNSName ends in a top-level domain of the ICANN section of the public suffix list "   \
          "(not .test, .local, .internal, .onion, .arpa ...)")                                     \
        X(DNS_PUBLIC_SUFFIX, "e_dnsname_public_suffix", LINT_ERROR, LINT_PUB, "BR 3.2.2.6",        \
          "no dNSName (or the part after \"*.\") is itself a public suffix such as com or co.uk")  \
        X(IP_LENGTH, "e_ip_length", LINT_ERROR, LINT_CERT, "RFC 5280 4.2.1.6",                     \
          "an iPAddress has 4 or 16 octets")                                                       \
        X(IP_RESERVED, "e_ip_reserved", LINT_ERROR, LINT_PUB, "BR 7.1.2.7.12; BR 1.6.1",           \
          "no iPAddress is in an IANA special-purpose (reserved) range")                           \
        X(CN_MULTIPLE, "e_cn_multiple", LINT_ERROR, LINT_SUB, "BR 7.1.4.3",                        \
          "the subject has at most one commonName")                                                \
        X(CN_NOT_IN_SAN, "e_cn_not_in_san", LINT_ERROR, LINT_SUB, "BR 7.1.4.3",                    \
          "a commonName, when present, equals one of the subjectAltName entries")                  \
        X(SUBJECT_DV, "e_subject_dv", LINT_ERROR, LINT_PUB, "BR 7.1.2.7.2",                        \
          "a DV subject holds only commonName and countryName")                                    \
        X(SUBJECT_OV, "e_subject_ov", LINT_ERROR, LINT_PUB, "BR 7.1.2.7.4",                        \
          "an OV or EV subject holds organizationName, countryName, and localityName or "          \
          "stateOrProvinceName")                                                                   \
        X(SUBJECT_OU, "e_subject_ou", LINT_ERROR, LINT_PUB, "BR 7.1.2.7.4",                        \
          "the subject has no organizationalUnitName")                                             \
        X(SUBJECT_EV, "w_subject_ev", LINT_WARNING, LINT_PUB, "EV Guidelines 9.2.4-9.2.8",         \
          "an EV subject holds businessCategory, jurisdictionCountryName and serialNumber")        \
        X(SUB_CA, "e_subscriber_ca", LINT_ERROR, LINT_SUB, "BR 7.1.2.7.8",                         \
          "a subscriber certificate's basicConstraints, when present, says cA FALSE")              \
        X(CA_BC, "e_ca_basic_constraints", LINT_ERROR, LINT_CA, "RFC 5280 4.2.1.9; BR 7.1.2.10.4", \
          "a CA certificate has critical basicConstraints with cA TRUE")                           \
        X(SUB_KU, "e_subscriber_key_usage", LINT_ERROR, LINT_SUB, "BR 7.1.2.7.11",                 \
          "a subscriber keyUsage has no keyCertSign or cRLSign, and only what the key type "       \
          "allows (RSA: digitalSignature, keyEncipherment; EC: digitalSignature, keyAgreement)")   \
        X(SUB_KU_MISSING, "w_subscriber_key_usage_missing", LINT_WARNING, LINT_SUB,                \
          "BR 7.1.2.7.11", "a subscriber certificate has a keyUsage extension")                    \
        X(CA_KU, "e_ca_key_usage", LINT_ERROR, LINT_CA, "RFC 5280 4.2.1.3; BR 7.1.2.10.7",         \
          "a CA certificate has critical keyUsage with keyCertSign and cRLSign")                   \
        X(EKU_MISSING, "e_eku_missing", LINT_ERROR, LINT_SUB, "BR 7.1.2.7.10",                     \
          "a subscriber certificate has extKeyUsage")                                              \
        X(EKU_SERVER_AUTH, "e_eku_server_auth", LINT_ERROR, LINT_SUB, "BR 7.1.2.7.10",             \
          "extKeyUsage holds id-kp-serverAuth")                                                    \
        X(EKU_ANY, "e_eku_any", LINT_ERROR, LINT_CERT, "BR 7.1.2.7.10; BR 7.1.2.10.6",             \
          "extKeyUsage has no anyExtendedKeyUsage")                                                \
        X(EKU_OTHER, "e_eku_other", LINT_ERROR, LINT_PUB, "BR 7.1.2.7.10; BR 7.1.2.10.6",          \
          "extKeyUsage of a public certificate holds only serverAuth and clientAuth")              \
        X(EKU_OTHER_PRIVATE, "w_eku_other", LINT_WARNING, LINT_CERT, "BR 7.1.2.7.10",              \
          "extKeyUsage of a private certificate holds only serverAuth and clientAuth")             \
        X(CA_EKU, "e_ca_eku", LINT_ERROR, LINT_CA, "BR 7.1.2.10.6",                                \
          "an issuing CA certificate has extKeyUsage with serverAuth")                             \
        X(ROOT_EKU, "e_root_eku", LINT_ERROR, LINT_CA, "BR 7.1.2.1.2",                             \
          "a root certificate has no extKeyUsage")                                                 \
        X(AKI_MISSING, "e_aki_missing", LINT_ERROR, LINT_CERT, "RFC 5280 4.2.1.1; BR 7.1.2.7.5",   \
          "every certificate but a self-signed root has authorityKeyIdentifier with a "            \
          "keyIdentifier")                                                                         \
        X(AKI_ISSUER, "e_aki_issuer", LINT_ERROR, LINT_CERT, "RFC 5280 4.2.1.1",                   \
          "the authorityKeyIdentifier equals the issuer's subjectKeyIdentifier (when the issuer "  \
          "is known)")                                                                             \
        X(SKI_MISSING_CA, "e_ski_missing", LINT_ERROR, LINT_CA, "RFC 5280 4.2.1.2",                \
          "a CA certificate has subjectKeyIdentifier")                                             \
        X(SKI_MISSING, "w_ski_missing", LINT_WARNING, LINT_SUB, "RFC 5280 4.2.1.2",                \
          "a subscriber certificate has subjectKeyIdentifier")                                     \
        X(CRLDP_HTTP, "e_crldp_http", LINT_ERROR, LINT_PUB, "BR 7.1.2.11.2",                       \
          "every cRLDistributionPoints name of a public certificate is an http:// URI")            \
        X(CRLDP_HTTP_PRIVATE, "w_crldp_http", LINT_WARNING, LINT_CERT, "RFC 5280 4.2.1.13",        \
          "every cRLDistributionPoints name of a private certificate is an http:// URI")           \
        X(AIA_HTTP, "e_aia_http", LINT_ERROR, LINT_PUB, "BR 7.1.2.7.7; BR 7.1.2.10.3",             \
          "every authorityInfoAccess location (OCSP, caIssuers) of a public certificate is an "    \
          "http:// URI")                                                                           \
        X(AIA_HTTP_PRIVATE, "w_aia_http", LINT_WARNING, LINT_CERT, "RFC 5280 4.2.2.1",             \
          "every authorityInfoAccess location of a private certificate is an http:// URI")         \
        X(POLICIES_MISSING, "e_policies_missing", LINT_ERROR, LINT_PUB, "BR 7.1.2.7.9",            \
          "a public subscriber certificate has certificatePolicies")                               \
        X(POLICIES_RESERVED, "e_policies_reserved", LINT_ERROR, LINT_PUB, "BR 7.1.6.1",            \
          "exactly one CA/B Forum reserved policy, the one of the profile (DV 2.23.140.1.2.1, OV " \
          "2.23.140.1.2.2, EV 2.23.140.1.1)")                                                      \
        X(POLICIES_ANY, "e_policies_any", LINT_ERROR, LINT_SUB, "BR 7.1.2.7.9",                    \
          "a subscriber certificate does not assert anyPolicy")                                    \
        X(POLICIES_PRIVATE, "e_policies_private", LINT_ERROR, LINT_SUB, "BR 7.1.6.1",              \
          "a private certificate asserts no CA/B Forum reserved policy")                           \
        X(CA_POLICIES, "e_ca_policies", LINT_ERROR, LINT_CA, "BR 7.1.2.10.5",                      \
          "an issuing CA certificate has certificatePolicies: anyPolicy alone, or CA/B Forum "     \
          "reserved policies")                                                                     \
        X(ROOT_POLICIES, "w_root_policies", LINT_WARNING, LINT_CA, "BR 7.1.2.1.2",                 \
          "a root certificate has no certificatePolicies")                                         \
        X(CRL_DER, "e_crl_der_encoding", LINT_ERROR, LINT_CRL, "RFC 5280 5.1",                     \
          "the CRL is DER: encoding it again gives the same bytes")                                \
        X(CRL_VERSION, "e_crl_version_2", LINT_ERROR, LINT_CRL, "RFC 5280 5.1.2.1",                \
          "the CRL is version 2")                                                                  \
        X(CRL_SIG_ALG_MISMATCH, "e_crl_sig_alg_mismatch", LINT_ERROR, LINT_CRL,                    \
          "RFC 5280 5.1.1.2", "signatureAlgorithm equals the signature field inside tbsCertList")  \
        X(CRL_SIG_SHA1, "e_crl_sig_sha1", LINT_ERROR, LINT_CRL, "BR 7.1.3.2",                      \
          "no SHA-1 in the CRL's signature algorithm")                                             \
        X(CRL_SIG_ALG_NOT_ALLOWED, "e_crl_sig_alg_not_allowed", LINT_ERROR, LINT_CRL,              \
          "BR 7.1.3.2",                                                                            \
          "the CRL's signature algorithm is one the BR allow (SM2 with SM3: private CAs)")         \
        X(CRL_SIG_ALG_ISSUER_KEY, "e_crl_sig_alg_issuer_key", LINT_ERROR, LINT_CRL,                \
          "BR 7.1.3.2.2", "the CRL's signature algorithm matches the issuer's key")                \
        X(CRL_ISSUER, "e_crl_issuer", LINT_ERROR, LINT_CRL, "RFC 5280 5.1.2.3",                    \
          "the CRL issuer equals the issuing CA's subject (when the issuer is known)")             \
        X(CRL_TIME_ENCODING, "e_crl_time_encoding", LINT_ERROR, LINT_CRL, "RFC 5280 5.1.2.4",      \
          "thisUpdate, nextUpdate and revocation dates are UTCTime through 2049, "                 \
          "GeneralizedTime from 2050")                                                             \
        X(CRL_NEXT_UPDATE, "e_crl_next_update_missing", LINT_ERROR, LINT_CRL,                      \
          "RFC 5280 5.1.2.5; BR 4.9.7", "the CRL has nextUpdate")                                  \
        X(CRL_UPDATE_ORDER, "e_crl_update_order", LINT_ERROR, LINT_CRL, "RFC 5280 5.1.2.5",        \
          "nextUpdate is after thisUpdate")                                                        \
        X(CRL_UPDATE_SPAN, "e_crl_update_span", LINT_ERROR, LINT_CRL, "BR 4.9.7",                  \
          "nextUpdate is at most 10 days after thisUpdate")                                        \
        X(CRL_NUMBER_MISSING, "e_crl_number_missing", LINT_ERROR, LINT_CRL,                        \
          "RFC 5280 5.2.3; BR 7.2.2", "the CRL has a cRLNumber")                                   \
        X(CRL_NUMBER_RANGE, "e_crl_number_range", LINT_ERROR, LINT_CRL, "RFC 5280 5.2.3",          \
          "the cRLNumber is not negative and at most 20 octets long")                              \
        X(CRL_NUMBER_INCREASING, "e_crl_number_increasing", LINT_ERROR, LINT_CRL,                  \
          "RFC 5280 5.2.3", "the cRLNumber is greater than the previous CRL's (when known)")       \
        X(CRL_AKI, "e_crl_aki_missing", LINT_ERROR, LINT_CRL, "RFC 5280 5.2.1; BR 7.2.2",          \
          "the CRL has authorityKeyIdentifier with a keyIdentifier")                               \
        X(CRL_AKI_ISSUER, "e_crl_aki_issuer", LINT_ERROR, LINT_CRL, "RFC 5280 5.2.1",              \
          "the CRL's authorityKeyIdentifier equals the issuer's subjectKeyIdentifier (when "       \
          "known)")                                                                                \
        X(CRL_EXT, "e_crl_extensions", LINT_ERROR, LINT_CRL, "RFC 5280 5.2; RFC 5280 5.3",         \
          "CRL and entry extensions decode, none appears twice, none unknown is critical")         \
        X(CRL_ENTRY_SERIAL, "e_crl_entry_serial", LINT_ERROR, LINT_CRL, "RFC 5280 5.1.2.6",        \
          "every revoked serial number is positive and at most 20 octets long")                    \
        X(CRL_REASON_UNSPECIFIED, "e_crl_reason_unspecified", LINT_ERROR, LINT_CRL, "BR 7.2.2",    \
          "no entry has an explicit reasonCode unspecified (0): the extension is left out")        \
        X(CRL_REASON_HOLD, "e_crl_reason_certificate_hold", LINT_ERROR, LINT_CRL, "BR 7.2.2",      \
          "no entry has reasonCode certificateHold (6)")                                           \
        X(CRL_REASON_REMOVE, "e_crl_reason_remove_from_crl", LINT_ERROR, LINT_CRL,                 \
          "BR 7.2.2; RFC 5280 5.3.1", "no entry has reasonCode removeFromCRL (8)")                 \
        X(CRL_REASON_OTHER, "e_crl_reason_not_allowed", LINT_ERROR, LINT_CRL, "BR 7.2.2",          \
          "every reasonCode is one of keyCompromise, cACompromise, affiliationChanged, "           \
          "superseded, cessationOfOperation, privilegeWithdrawn")                                  \
        X(RESP_EKU, "e_ocsp_responder_eku", LINT_ERROR, LINT_RESP, "RFC 6960 4.2.2.2; BR 7.1.2.8", \
          "extKeyUsage is present and holds id-kp-OCSPSigning and nothing else")                   \
        X(RESP_NOCHECK, "e_ocsp_responder_nocheck", LINT_ERROR, LINT_RESP,                         \
          "RFC 6960 4.2.2.2.1; BR 7.1.2.8",                                                        \
          "id-pkix-ocsp-nocheck is present, not critical, and NULL")                               \
        X(RESP_KU, "e_ocsp_responder_key_usage", LINT_ERROR, LINT_RESP, "BR 7.1.2.8",              \
          "keyUsage is present, critical, and holds digitalSignature and nothing else")            \
        X(RESP_CA, "e_ocsp_responder_ca", LINT_ERROR, LINT_RESP, "BR 7.1.2.8",                     \
          "basicConstraints, when present, says cA FALSE")                                         \
        X(RESP_EXT, "w_ocsp_responder_extensions", LINT_WARNING, LINT_RESP, "BR 7.1.2.8",          \
          "no subjectAltName, certificatePolicies, cRLDistributionPoints or authorityInfoAccess "  \
          "(they have no use in a responder certificate)")                                         \
        X(RESP_VALIDITY, "w_ocsp_responder_validity", LINT_WARNING, LINT_RESP,                     \
          "RFC 6960 4.2.2.2.1",                                                                    \
          "the validity is at most 30 days: with id-pkix-ocsp-nocheck the key cannot be revoked, " \
          "so it should be short-lived")                                                           \
        X(OCSP_SIG_SHA1, "e_ocsp_sig_sha1", LINT_ERROR, LINT_OCSP, "BR 7.1.3.2",                   \
          "no SHA-1 in the response's signature algorithm")                                        \
        X(OCSP_SIG_ALG_NOT_ALLOWED, "e_ocsp_sig_alg_not_allowed", LINT_ERROR, LINT_OCSP,           \
          "BR 7.1.3.2", "the response's signature algorithm is one the BR allow")                  \
        X(OCSP_NO_RESPONSES, "e_ocsp_no_responses", LINT_ERROR, LINT_OCSP, "RFC 6960 4.2.1",       \
          "the response holds at least one SingleResponse")                                        \
        X(OCSP_TIME_ENCODING, "e_ocsp_time_encoding", LINT_ERROR, LINT_OCSP, "RFC 6960 4.2.2.1",   \
          "producedAt, thisUpdate and nextUpdate are GeneralizedTime in seconds, ending in Z")     \
        X(OCSP_NEXT_UPDATE, "e_ocsp_next_update_missing", LINT_ERROR, LINT_OCSP,                   \
          "BR 4.9.10; RFC 5019 2.2.4", "every SingleResponse has nextUpdate")                      \
        X(OCSP_UPDATE_ORDER, "e_ocsp_update_order", LINT_ERROR, LINT_OCSP, "RFC 6960 4.2.2.1",     \
          "nextUpdate is after thisUpdate")                                                        \
        X(OCSP_VALIDITY_LONG, "e_ocsp_validity_too_long", LINT_ERROR, LINT_OCSP, "BR 4.9.10",      \
          "the validity interval (nextUpdate - thisUpdate, both ends counted) is at most 10 days") \
        X(OCSP_VALIDITY_SHORT, "e_ocsp_validity_too_short", LINT_ERROR, LINT_OCSP, "BR 4.9.10",    \
          "the validity interval is at least 8 hours")                                             \
        X(OCSP_PRODUCED_AT, "e_ocsp_produced_at", LINT_ERROR, LINT_OCSP, "RFC 6960 4.2.2.1",       \
          "producedAt is not earlier than any thisUpdate, and not in the future (when the time "   \
          "is known)")                                                                             \
        X(OCSP_RESPONDER_ID, "e_ocsp_responder_id", LINT_ERROR, LINT_OCSP, "RFC 6960 4.2.2.3",     \
          "the responder id is a 20-octet key hash or a non-empty name, and names the signing "    \
          "certificate when one is included")                                                      \
        X(OCSP_REASON, "e_ocsp_reason_not_allowed", LINT_ERROR, LINT_OCSP, "BR 7.2.2; BR 4.9.10",  \
          "no revoked status has reason certificateHold (6), removeFromCRL (8) or a value "        \
          "outside RFC 5280")                                                                      \
        X(OCSP_EXT, "e_ocsp_extensions", LINT_ERROR, LINT_OCSP, "RFC 6960 4.4",                    \
          "no response or single-response extension appears twice or is unknown and critical")

enum lint_check_id {
#define LINT_ENUM(name, id, sev, applies, src, what) LC_##name,
        LINT_CHECKS(LINT_ENUM)
#undef LINT_ENUM
            LC__COUNT
};

struct lint_check {
        const char *id;
        enum lint_severity severity;
        const char *applies; /* LINT_CERT, LINT_SUB, ... */
        const char *source;
        const char *summary;
};

/* The table (LC__COUNT rows), static: do not free. */
const struct lint_check *lint_checks(size_t *n);
const char *lint_severity_name(enum lint_severity s); /* "error", "warning", "notice" */

#define LINT_MSG_MAX 320
#define LINT_MAX_FINDINGS 200 /* more are counted in `dropped`, not kept */

struct lint_finding {
        const char *id; /* static */
        enum lint_severity severity;
        const char *source; /* static */
        char message[LINT_MSG_MAX];
};

struct lint_report {
        struct lint_finding *items;
        size_t n, cap;
        size_t dropped; /* findings past LINT_MAX_FINDINGS */
        size_t errors;  /* error-level findings, dropped ones included */
};

void lint_report_init(struct lint_report *r);
void lint_report_free(struct lint_report *r);
/* The first error-level finding, or NULL. Borrowed. */
const struct lint_finding *lint_report_first_error(const struct lint_report *r);
/* QERR_LINT_FAILED with the first error-level finding of `r` (id, source,
 * message) and the ids of the next ones, in one sentence about `what` ("the
 * certificate", "the CRL"). */
enum qerr lint_refusal(const struct lint_report *r, const char *what, struct qerr_info *ei);

/* ---- certificates ---- */

enum lint_role {
        LINT_ROLE_AUTO = 0,       /* from basicConstraints and self-issuance */
        LINT_ROLE_SUBSCRIBER,     /* an end-entity (TLS server) certificate */
        LINT_ROLE_ISSUING_CA,     /* a subordinate CA */
        LINT_ROLE_ROOT_CA,        /* a self-signed root */
        LINT_ROLE_OCSP_RESPONDER, /* a delegated OCSP responder (RFC 6960 4.2.2.2): EKU
                                     id-kp-OCSPSigning, not a CA (AUTO finds it by its EKU) */
};

struct lint_cert_opts {
        enum cert_profile profile; /* the rules to apply */
        bool guess_profile;        /* true: ignore `profile`, guess (lint_guess_profile) */
        enum lint_role role;
        /* the profile maxima of RULES.md §8 (policy_max_validity_days):
         * public_max_days 0 follows the BR schedule alone */
        long public_max_days, private_max_days;
        /* an issuance profile's own lifetime in seconds, both ends counted
         * (src/policy/profile.h: 45 days, 160 hours), checked on top of the
         * above by e_validity_too_long; 0: none */
        int64_t max_validity_seconds;
        /* tests only ([validation] allow_private_addresses, under a profile
         * that allows IP addresses): e_ip_reserved is not applied */
        bool allow_reserved_ip;
        /* the issuer certificate (DER), when known: the signature algorithm
         * must fit its key and the AKI its SKI. NULL: a self-signed
         * certificate is its own issuer; for others these checks are skipped. */
        const uint8_t *issuer_der;
        size_t issuer_len;
};

/* Lints one DER certificate into `out` (appended). QERR_OK when it was
 * linted (whatever the findings); PEM_INVALID when the bytes are not one
 * DER certificate (the sentence says why); NOMEM. `profile_used` (may be
 * NULL) receives the profile whose rules applied. */
enum qerr lint_cert_der(const uint8_t *der, size_t len, const struct lint_cert_opts *o,
                        struct lint_report *out, enum cert_profile *profile_used,
                        struct qerr_info *ei);
/* The same for a PEM ("-----BEGIN CERTIFICATE-----", the first block) or DER
 * file's bytes, as `quill lint` and uploads read them. */
enum qerr lint_cert_input(const void *data, size_t len, const struct lint_cert_opts *o,
                          struct lint_report *out, enum cert_profile *profile_used,
                          struct qerr_info *ei);

/* ---- CRLs ---- */

struct lint_crl_opts {
        int64_t prev_number;       /* the previous CRL's number; < 0: unknown */
        int64_t max_span_seconds;  /* 0: 10 days (BR 4.9.7) */
        bool private_ca;           /* SM2 allowed (the SM2 chain serves the private profile) */
        const uint8_t *issuer_der; /* the issuing CA (DER), or NULL */
        size_t issuer_len;
};
/* Lints a DER CRL. Entries in the canonical form quill writes
 * (pki_crl_entry_parse) are read one by one without OpenSSL objects and the
 * rest of the CRL through OpenSSL without them, so a CRL of a million
 * entries costs a pass over its bytes; any other CRL is parsed whole by
 * OpenSSL (at most 64 MiB). The findings are the same either way. */
enum qerr lint_crl_der(const uint8_t *der, size_t len, const struct lint_crl_opts *o,
                       struct lint_report *out, struct qerr_info *ei);
/* The entry rules of lint_crl_der for one entry in the canonical form quill
 * writes (DER; a Time in RFC 5280's encoding; no extension but a
 * non-critical reasonCode): its serial (`serial`: big-endian magnitude, 1..20
 * octets, not zero; e_crl_entry_serial) and its reason code (0: none;
 * e_crl_reason_...). The first check it fails, or LC__COUNT. */
enum lint_check_id lint_crl_entry_check(const uint8_t *serial, size_t len, int reason);

/* ---- OCSP ---- */

struct lint_ocsp_opts {
        int64_t now;     /* Unix seconds for the producedAt check; 0: not checked */
        bool private_ca; /* SM2 allowed */
};
/* Lints a DER BasicOCSPResponse (RFC 6960 4.2.1). */
enum qerr lint_ocsp_response(const uint8_t *der, size_t len, const struct lint_ocsp_opts *o,
                             struct lint_report *out, struct qerr_info *ei);

#endif
