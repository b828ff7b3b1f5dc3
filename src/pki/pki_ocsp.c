/*
 * pki_ocsp.c - signing OCSP responses and the issuer hashes; see
 * pki_ocsp.h.
 */
#include "pki_ocsp.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/sha.h>
#include <string.h>
#include <time.h>

#include "../base/hex.h"
#include "lint.h"
#include "pki_key.h"
#include "pki_pem.h"

/* Lints the BasicOCSPResponse of `bs`. */
static enum qerr lint_basic(OCSP_BASICRESP *bs, bool private_ca, struct qerr_info *ei)
{
        unsigned char *der = NULL;
        int n = i2d_OCSP_BASICRESP(bs, &der);
        if (n <= 0)
                return qerr_set(ei, QERR_INTERNAL, "could not encode the OCSP response to lint it");
        struct lint_report r;
        lint_report_init(&r);
        struct lint_ocsp_opts o = {.now = (int64_t)time(NULL), .private_ca = private_ca};
        enum qerr rc = lint_ocsp_response(der, (size_t)n, &o, &r, ei);
        if (rc == QERR_PEM_INVALID)
                rc = qerr_set(ei, QERR_INTERNAL,
                              "the linter could not read back the OCSP "
                              "response: %s",
                              qerr_message(ei));
        if (rc == QERR_OK && r.errors)
                rc = lint_refusal(&r, "OCSP response", ei);
        lint_report_free(&r);
        OPENSSL_free(der);
        return rc;
}

static ASN1_INTEGER *serial_int(const uint8_t *s, size_t n)
{
        BIGNUM *bn = BN_bin2bn(s, (int)n, NULL);
        ASN1_INTEGER *ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
        BN_free(bn);
        return ai;
}

enum qerr pki_ocsp_sign(X509 *issuer, X509 *responder, EVP_PKEY *key, int64_t this_update,
                        int64_t next_update, const struct pki_ocsp_item *it, bool private_ca,
                        struct qbuf *out, struct qerr_info *ei)
{
        if (!it->serial_len || it->serial_len > 20 || (it->serial[0] & 0x80))
                return qerr_set(ei, QERR_INTERNAL, "bad serial for an OCSP response");
        OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
        OCSP_RESPONSE *resp = NULL;
        ASN1_INTEGER *sn = serial_int(it->serial, it->serial_len);
        OCSP_CERTID *cid = NULL;
        ASN1_GENERALIZEDTIME *tu = ASN1_GENERALIZEDTIME_set(NULL, (time_t)this_update);
        ASN1_GENERALIZEDTIME *nu = ASN1_GENERALIZEDTIME_set(NULL, (time_t)next_update);
        ASN1_GENERALIZEDTIME *rt =
            it->revoked ? ASN1_GENERALIZEDTIME_set(NULL, (time_t)it->revoked_at) : NULL;
        EVP_MD_CTX *ctx = NULL;
        unsigned char *der = NULL;
        enum qerr rc = QERR_OK;
        bool ok = bs && sn && tu && nu && (!it->revoked || rt);
        if (ok)
                cid = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(issuer),
                                       X509_get0_pubkey_bitstr(issuer), sn);
        ok = ok && cid;
        /* RFC 5019 2.2.3 wants no reason for "unspecified"; like the CRL
         * entries (BR 7.2.2), the field is left out then */
        int reason = it->revoked && it->reason > 0 ? it->reason : OCSP_REVOKED_STATUS_NOSTATUS;
        ok = ok && OCSP_basic_add1_status(
                       bs, cid, it->revoked ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD,
                       reason, rt, tu, nu) != NULL;
        ok = ok && (ctx = pki_sign_ctx(key)) != NULL;
        ok = ok && OCSP_basic_sign_ctx(bs, responder, ctx, NULL, OCSP_RESPID_KEY) == 1;
        if (!ok) {
                unsigned long e = ERR_get_error();
                char es[200] = "";
                if (e)
                        ERR_error_string_n(e, es, sizeof es);
                rc = qerr_set(ei, QERR_INTERNAL, "could not sign the OCSP response %s", es);
                goto out;
        }
        if ((rc = lint_basic(bs, private_ca, ei)) != QERR_OK)
                goto out;
        resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
        int n = resp ? i2d_OCSP_RESPONSE(resp, &der) : -1;
        if (n <= 0) {
                rc = qerr_set(ei, QERR_INTERNAL, "could not encode the OCSP response");
                goto out;
        }
        if (!qbuf_append(out, der, (size_t)n))
                rc = qerr_set(ei, QERR_INTERNAL, "the OCSP response does not fit its buffer");
out:
        ERR_clear_error();
        OPENSSL_free(der);
        OCSP_RESPONSE_free(resp);
        EVP_MD_CTX_free(ctx);
        OCSP_CERTID_free(cid);
        ASN1_INTEGER_free(sn);
        ASN1_GENERALIZEDTIME_free(tu);
        ASN1_GENERALIZEDTIME_free(nu);
        ASN1_GENERALIZEDTIME_free(rt);
        OCSP_BASICRESP_free(bs);
        return rc;
}

enum qerr pki_ocsp_issuer_hashes(const void *cert, size_t len, uint8_t name_hash[20],
                                 uint8_t key_hash[20], struct qerr_info *ei)
{
        X509 *x = NULL;
        enum qerr rc = pki_cert_read(cert, len, &x, ei);
        if (rc != QERR_OK)
                return rc;
        unsigned int nl = 0, kl = 0;
        if (!X509_NAME_digest(X509_get_subject_name(x), EVP_sha1(), name_hash, &nl) ||
            !X509_pubkey_digest(x, EVP_sha1(), key_hash, &kl) || nl != 20 || kl != 20)
                rc = qerr_set(ei, QERR_INTERNAL, "could not hash the issuer for OCSP");
        ERR_clear_error();
        X509_free(x);
        return rc;
}

void pki_ocsp_etag(const uint8_t *der, size_t len, char out[65])
{
        unsigned char md[SHA256_DIGEST_LENGTH];
        unsigned int n = 0;
        if (!EVP_Digest(der, len, md, &n, EVP_sha256(), NULL) || n != sizeof md) {
                ERR_clear_error();
                memset(md, 0, sizeof md);
        }
        hex_encode(md, sizeof md, out, 65);
}
