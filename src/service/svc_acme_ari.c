/*
 * svc_acme_ari.c - ACME Renewal Information (RFC 9773) in the service
 * core: the suggested renewal window of a certificate named by its ARI
 * certID (service_acme_renewal_info), and the checks of newOrder's
 * `replaces` (svc_acme_check_replaces). The window itself is computed by
 * the pure src/policy/ari.c; a revoked certificate gets a window in the
 * past (renew at once).
 *
 * Reads only; same threading as service.h (one thread per handle).
 */
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pki/pki_pem.h"
#include "../policy/ari.h"
#include "service_acme.h"
#include "service_internal.h"

/* The certificate (and its CA key id) that an ARI certID names. */
static enum qerr cert_of_certid(struct service *s, const char *certid, struct cert_rec **out,
                                int64_t *account, struct qerr_info *ei)
{
        struct ari_certid id;
        char serial[41];
        *out = NULL;
        enum qerr rc = ari_certid_parse(certid, strlen(certid), &id, ei);
        if (rc != QERR_OK)
                return rc;
        ari_certid_serial_hex(&id, serial);
        int64_t cert_id = 0, tenant = 0;
        rc = ST(s)->ops->acme_cert_owner(ST(s), serial, &cert_id, &tenant, account, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->cert_get(ST(s), 0, cert_id, out, ei);
        if (rc != QERR_OK)
                return rc;
        /* the serial must be the one issued by the CA with that key id */
        X509 *x = NULL;
        bool same = false;
        if (pki_cert_read((*out)->cert_pem, strlen((*out)->cert_pem), &x, NULL) == QERR_OK) {
                const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
                same = aki && (size_t)ASN1_STRING_length(aki) == id.keyid_len &&
                       !memcmp(ASN1_STRING_get0_data(aki), id.keyid, id.keyid_len);
        }
        X509_free(x);
        if (!same) {
                cert_rec_free(*out);
                *out = NULL;
                return qerr_set(ei, QERR_NOT_FOUND,
                                "no certificate with this serial was issued here by a CA with "
                                "this key identifier");
        }
        return QERR_OK;
}

/* newOrder's replaces (RFC 9773 section 5): a certificate this account
 * ordered, not already replaced by a finalized order that did not fail. */
enum qerr svc_acme_check_replaces(struct service *s, const struct acme_account_rec *a,
                                  const char *certid, struct qerr_info *ei)
{
        struct cert_rec *c = NULL;
        int64_t owner = 0, n = 0;
        enum qerr rc = cert_of_certid(s, certid, &c, &owner, ei);
        cert_rec_free(c);
        if (rc == QERR_MALFORMED || rc == QERR_NOT_FOUND) {
                char why[QERR_MSG_MAX];
                snprintf(why, sizeof why, "%s", qerr_message(ei));
                return qerr_set(ei, QERR_ACME_REPLACES, "replaces: %s", why);
        }
        if (rc == QERR_OK && owner != a->id)
                return qerr_set(ei, QERR_ACME_REPLACES,
                                "replaces names a certificate that another account ordered");
        if (rc == QERR_OK)
                rc = ST(s)->ops->acme_replacing(ST(s), a->id, certid, &n, ei);
        if (rc == QERR_OK && n > 0)
                rc = qerr_set(ei, QERR_ACME_ALREADY_REPLACED, NULL);
        return rc;
}

enum qerr service_acme_renewal_info(struct service *s, const char *certid, struct ari_window *out,
                                    struct qerr_info *ei)
{
        struct cert_rec *c = NULL;
        int64_t owner = 0;
        enum qerr rc = cert_of_certid(s, certid, &c, &owner, ei);
        if (rc != QERR_OK)
                return rc;
        struct ari_facts f = {.not_before = c->not_before,
                              .not_after = c->not_after,
                              .now = qtime_now(),
                              .revoked = c->status == CERT_REVOKED ||
                                         c->status == CERT_REVOCATION_PENDING};
        ari_window(&f, out);
        cert_rec_free(c);
        return QERR_OK;
}
