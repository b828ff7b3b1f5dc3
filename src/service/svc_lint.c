/*
 * svc_lint.c - the linter for front doors (issue 7): `quill lint FILE`
 * (service_lint_cert) and the findings of an upload (svc_lint_upload). The
 * signer's own lint gate is in src/pki/pki_issue.c and src/signer/signer.c.
 *
 * Stateless: the configuration gives the profile maxima (RULES.md §8).
 * Reports are the caller's. Any thread.
 */
#include "service_internal.h"

#include <openssl/x509.h>
#include <string.h>

#include "../pki/pki_pem.h"

enum qerr service_lint_cert(const struct qconfig *cfg, const struct lint_req *r,
                            struct lint_report *out, enum cert_profile *profile_used,
                            struct qerr_info *ei)
{
        struct lint_cert_opts o = {
            .profile = r->profile,
            .guess_profile = r->guess_profile,
            .role = LINT_ROLE_AUTO,
            .public_max_days = cfg->public_max_days,
            .private_max_days = cfg->private_max_days,
            /* the signer's test switch (a shortlived certificate for a
             * loopback address, issued in tests) is the linter's too */
            .allow_reserved_ip = cfg->validation_allow_private_addresses != 0,
        };
        return lint_cert_input(r->data, r->len, &o, out, profile_used, ei);
}

enum qerr svc_lint_upload(struct service *s, const char *cert_pem, size_t cert_len,
                          const char *chain_pem, struct lint_report *out)
{
        /* the issuer is the first certificate of the verified chain */
        STACK_OF(X509) *chain = NULL;
        struct qbuf issuer;
        qbuf_init(&issuer, MAX_PEM_BYTES);
        if (chain_pem && *chain_pem &&
            pki_certs_read(chain_pem, strlen(chain_pem), &chain, NULL) == QERR_OK)
                pki_cert_der(sk_X509_value(chain, 0), &issuer, NULL);
        sk_X509_pop_free(chain, X509_free);
        struct lint_cert_opts o = {
            .guess_profile = true,
            .role = LINT_ROLE_AUTO,
            .public_max_days = s->cfg->public_max_days,
            .private_max_days = s->cfg->private_max_days,
            .issuer_der = issuer.len ? issuer.data : NULL,
            .issuer_len = issuer.len,
        };
        struct qerr_info ei;
        enum qerr rc = lint_cert_input(cert_pem, cert_len, &o, out, NULL, &ei);
        qbuf_free(&issuer);
        return rc;
}
