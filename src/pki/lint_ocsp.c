/*
 * lint_ocsp.c - linting one BasicOCSPResponse (RFC 6960 4.2.1, the RFC 5019
 * profile, BR 4.9.10): signature algorithm, responder id, producedAt, and
 * for every SingleResponse the update times, the validity interval and the
 * revocation reason; extensions. quill does not answer OCSP yet; the
 * responder that issue 6 brings lints its responses with this.
 *
 * SHA-1 is not an error where the RFCs fix it: the CertID hash (RFC 5019
 * 2.1.1) and the responder's key hash (RFC 6960 4.2.2.3) are identifiers,
 * not signatures.
 *
 * The response is parsed here and freed before returning. Any thread.
 */
#include "lint_internal.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#define MAX_OCSP_DER (1u << 20)
#define OCSP_MAX_INTERVAL (10 * 86400) /* BR 4.9.10, both ends counted */
#define OCSP_MIN_INTERVAL (8 * 3600)
#define FUTURE_SLACK 300

static const int ocsp_critical_ok[] = {NID_id_pkix_OCSP_Nonce};

static void check_responder(struct lint_report *r, OCSP_BASICRESP *bs)
{
        const ASN1_OCTET_STRING *kh = NULL;
        const X509_NAME *nm = NULL;
        if (!OCSP_resp_get0_id(bs, &kh, &nm) || (!kh && !nm)) {
                lint_add(r, LC_OCSP_RESPONDER_ID, "the responder id does not decode");
                return;
        }
        if (kh && ASN1_STRING_length(kh) != SHA_DIGEST_LENGTH) {
                lint_add(r, LC_OCSP_RESPONDER_ID,
                         "the responder id byKey has %d octets, not the 20 of a SHA-1 key hash",
                         ASN1_STRING_length(kh));
                return;
        }
        if (nm && X509_NAME_entry_count(nm) == 0) {
                lint_add(r, LC_OCSP_RESPONDER_ID, "the responder id byName is an empty name");
                return;
        }
        const STACK_OF(X509) *certs = OCSP_resp_get0_certs(bs);
        if (sk_X509_num(certs) == 0)
                return; /* the issuing CA signed it: nothing here to compare with */
        bool found = false;
        for (int i = 0; i < sk_X509_num(certs) && !found; i++) {
                X509 *x = sk_X509_value(certs, i);
                if (nm) {
                        found = X509_NAME_cmp(nm, X509_get_subject_name(x)) == 0;
                } else {
                        unsigned char md[SHA_DIGEST_LENGTH];
                        unsigned int mdlen = 0;
                        found = X509_pubkey_digest(x, EVP_sha1(), md, &mdlen) &&
                                mdlen == SHA_DIGEST_LENGTH &&
                                memcmp(md, ASN1_STRING_get0_data(kh), mdlen) == 0;
                }
        }
        ERR_clear_error();
        if (!found)
                lint_add(r, LC_OCSP_RESPONDER_ID,
                         "the responder id names none of the certificates in the response");
}

static void check_single(struct lint_report *r, OCSP_SINGLERESP *sr, int idx, int64_t produced,
                         bool have_produced)
{
        static const struct lint_ext_ids ids = {LC_OCSP_EXT, LC_OCSP_EXT, LC_OCSP_EXT};
        int reason = -1;
        ASN1_GENERALIZEDTIME *rev = NULL, *tu = NULL, *nu = NULL;
        int status = OCSP_single_get0_status(sr, &reason, &rev, &tu, &nu);
        char why[96];
        if (!lint_time_encoding_ok(tu, true, why))
                lint_add(r, LC_OCSP_TIME_ENCODING, "response %d thisUpdate: %s", idx, why);
        if (nu && !lint_time_encoding_ok(nu, true, why))
                lint_add(r, LC_OCSP_TIME_ENCODING, "response %d nextUpdate: %s", idx, why);
        int64_t t = 0, n = 0;
        bool have_t = lint_time(tu, &t);
        if (!nu)
                lint_add(r, LC_OCSP_NEXT_UPDATE, "response %d has no nextUpdate", idx);
        else if (have_t && lint_time(nu, &n)) {
                if (n <= t)
                        lint_add(r, LC_OCSP_UPDATE_ORDER,
                                 "response %d: nextUpdate is not after thisUpdate", idx);
                else if (n - t + 1 > OCSP_MAX_INTERVAL)
                        lint_add(r, LC_OCSP_VALIDITY_LONG,
                                 "response %d is valid for %.2f days (at most 10)", idx,
                                 (double)(n - t + 1) / 86400.0);
                else if (n - t + 1 < OCSP_MIN_INTERVAL)
                        lint_add(r, LC_OCSP_VALIDITY_SHORT,
                                 "response %d is valid for %.2f hours (at least 8)", idx,
                                 (double)(n - t + 1) / 3600.0);
        }
        if (have_t && have_produced && produced < t)
                lint_add(r, LC_OCSP_PRODUCED_AT,
                         "producedAt is earlier than the thisUpdate of response %d", idx);
        if (status == V_OCSP_CERTSTATUS_REVOKED && reason != -1 &&
            lint_reason_check(reason, false) != LC__COUNT)
                lint_add(r, LC_OCSP_REASON,
                         "response %d is revoked with reason %d, which the BR "
                         "do not allow",
                         idx, reason);
        STACK_OF(X509_EXTENSION) *exts = NULL;
        int next = OCSP_SINGLERESP_get_ext_count(sr);
        for (int i = 0; i < next; i++) {
                if (!exts && !(exts = sk_X509_EXTENSION_new_null()))
                        break;
                sk_X509_EXTENSION_push(exts, OCSP_SINGLERESP_get_ext(sr, i));
        }
        if (exts)
                lint_check_exts(r, exts, NULL, 0, &ids, "single response");
        sk_X509_EXTENSION_free(exts); /* the extensions belong to the response */
}

enum qerr lint_ocsp_response(const uint8_t *der, size_t len, const struct lint_ocsp_opts *o,
                             struct lint_report *out, struct qerr_info *ei)
{
        if (!der || len == 0 || len > MAX_OCSP_DER)
                return qerr_set(ei, QERR_PEM_INVALID,
                                "There is no OCSP response (the input is empty or too "
                                "large).");
        const unsigned char *p = der;
        OCSP_BASICRESP *bs = d2i_OCSP_BASICRESP(NULL, &p, (long)len);
        if (!bs || p != der + len) {
                OCSP_BASICRESP_free(bs);
                ERR_clear_error();
                return qerr_set(ei, QERR_PEM_INVALID,
                                "The input is not one DER-encoded BasicOCSPResponse (truncated, "
                                "bytes after the end, or another kind of object).");
        }
        static const struct lint_sig_ids sig_ids = {LC_OCSP_SIG_SHA1, LC_OCSP_SIG_ALG_NOT_ALLOWED,
                                                    LC_OCSP_SIG_ALG_NOT_ALLOWED};
        lint_check_sigalg(out, OCSP_resp_get0_tbs_sigalg(bs), o->private_ca, LK_NONE, &sig_ids,
                          "OCSP response");
        check_responder(out, bs);
        const ASN1_GENERALIZEDTIME *pa = OCSP_resp_get0_produced_at(bs);
        char why[96];
        if (!lint_time_encoding_ok(pa, true, why))
                lint_add(out, LC_OCSP_TIME_ENCODING, "producedAt: %s", why);
        int64_t produced = 0;
        bool have_produced = lint_time(pa, &produced);
        if (have_produced && o->now > 0 && produced > o->now + FUTURE_SLACK)
                lint_add(out, LC_OCSP_PRODUCED_AT, "producedAt lies in the future");
        int count = OCSP_resp_count(bs);
        if (count <= 0)
                lint_add(out, LC_OCSP_NO_RESPONSES, "the response holds no SingleResponse");
        for (int i = 0; i < count; i++)
                check_single(out, OCSP_resp_get0(bs, i), i + 1, produced, have_produced);
        static const struct lint_ext_ids ids = {LC_OCSP_EXT, LC_OCSP_EXT, LC_OCSP_EXT};
        STACK_OF(X509_EXTENSION) *exts = NULL;
        for (int i = 0; i < OCSP_BASICRESP_get_ext_count(bs); i++) {
                if (!exts && !(exts = sk_X509_EXTENSION_new_null()))
                        break;
                sk_X509_EXTENSION_push(exts, OCSP_BASICRESP_get_ext(bs, i));
        }
        if (exts)
                lint_check_exts(out, exts, ocsp_critical_ok,
                                sizeof ocsp_critical_ok / sizeof ocsp_critical_ok[0], &ids,
                                "OCSP response");
        sk_X509_EXTENSION_free(exts);
        ERR_clear_error();
        OCSP_BASICRESP_free(bs);
        return QERR_OK;
}
