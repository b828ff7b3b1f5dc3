/*
 * svc_ca.c - creating CAs (root + issuing, through the signer). Their CRLs
 * are queued with them (svc_crl.c makes them after the commit).
 */
#include "service_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509.h>

#include "../base/log.h"
#include "../pki/pki_pem.h"

enum qerr service_ca_list(struct service *s, struct ca_rec ***out, size_t *n, struct qerr_info *ei)
{
        return ST(s)->ops->ca_list(ST(s), out, n, ei);
}

enum qerr service_ca_get(struct service *s, int64_t id, struct ca_rec **out, struct qerr_info *ei)
{
        return ST(s)->ops->ca_get(ST(s), id, out, ei);
}

/* DER of a CA's certificate into `der`. */
static enum qerr ca_der(const struct ca_rec *ca, struct qbuf *der, struct qerr_info *ei)
{
        X509 *x = NULL;
        enum qerr rc = pki_cert_read(ca->cert_pem, strlen(ca->cert_pem), &x, ei);
        if (rc == QERR_OK)
                rc = pki_cert_der(x, der, ei);
        X509_free(x);
        return rc;
}

/* Turns the signer's answer into a CA row and stores it with its event. */
static enum qerr store_ca(struct service *s, const struct signer_resp *resp, const char *alg,
                          int64_t parent_id, struct ca_rec **out, struct qerr_info *ei)
{
        X509 *x = NULL;
        struct qbuf pem;
        qbuf_init(&pem, 64 * 1024);
        char key_id[65];
        struct ca_rec *ca = calloc(1, sizeof *ca);
        enum qerr rc = ca ? QERR_OK : qerr_set(ei, QERR_NOMEM, NULL);
        if (rc == QERR_OK && !sbytes_cstr(resp->key_id, key_id, sizeof key_id))
                rc = qerr_set(ei, QERR_PROTO, "bad key id from the signer");
        if (rc == QERR_OK)
                rc = pki_cert_read(resp->der.p, resp->der.len, &x, ei);
        if (rc == QERR_OK)
                rc = pki_cert_pem(x, &pem, ei);
        if (rc != QERR_OK)
                goto out;
        ca->parent_id = parent_id;
        ca->is_root = parent_id == 0;
        snprintf(ca->key_algorithm, sizeof ca->key_algorithm, "%s", alg);
        ca->subject = pki_name_oneline(X509_get_subject_name(x));
        ca->cert_pem = strdup(qbuf_str(&pem));
        if (asprintf(&ca->key_file, "ca/%s.key", key_id) < 0)
                ca->key_file = NULL;
        ca->not_before = pki_time_to_unix(X509_get0_notBefore(x));
        ca->not_after = pki_time_to_unix(X509_get0_notAfter(x));
        if (!ca->subject || !ca->cert_pem || !ca->key_file) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto out;
        }
        ca->crl_shards = ca->is_root ? 0 : (int)s->cfg->crl_shards;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                goto out;
        rc = ST(s)->ops->ca_insert(ST(s), ca, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, 1, "ca", ca->id, NULL, "active", "%s CA created (%s): %s",
                               ca->is_root ? "root" : "issuing", alg, ca->subject);
        /* its CRLs: the unsharded one, and the shards of an issuing CA */
        for (int k = CRL_SHARD_NONE; rc == QERR_OK && k < ca->crl_shards; k++)
                rc = svc_crl_queue(s, ca->id, k, ei);
        if (rc == QERR_OK)
                rc = svc_commit(s, ei);
        else
                svc_abort(s, rc);
out:
        X509_free(x);
        qbuf_free(&pem);
        if (rc != QERR_OK) {
                ca_rec_free(ca);
                return rc;
        }
        *out = ca;
        return QERR_OK;
}

/* The subject with " <suffix>" added to its CN only ("CN=Acme CA,O=Acme" ->
 * "CN=Acme CA Root ec384,O=Acme"), so root and issuing CA differ and the
 * other attributes stay as given. Without a CN, one is put first. Returns
 * false when the result does not fit. */
static bool role_subject(const char *subject, const char *suffix, char *out, size_t outsz)
{
        const char sep = subject[0] == '/' ? '/' : ',';
        const char *cn = NULL;
        for (const char *p = subject; p && *p; p = strchr(p, sep)) {
                if (*p == sep)
                        p++;
                while (*p == ' ')
                        p++;
                if (strncasecmp(p, "CN=", 3) == 0) {
                        cn = p;
                        break;
                }
        }
        int n;
        if (cn) {
                const char *end = strchr(cn, sep);
                size_t upto = (size_t)((end ? end : cn + strlen(cn)) - subject);
                n = snprintf(out, outsz, "%.*s %s%s", (int)upto, subject, suffix, end ? end : "");
        } else if (sep == '/') {
                n = snprintf(out, outsz, "/CN=Quill %s%s", suffix, subject);
        } else {
                n = snprintf(out, outsz, "CN=Quill %s,%s", suffix, subject);
        }
        return n > 0 && (size_t)n < outsz;
}

static struct ca_rec *find_ca(struct ca_rec **cas, size_t n, bool root, const char *alg)
{
        for (size_t i = 0; i < n; i++)
                if (cas[i]->is_root == root && strcmp(cas[i]->key_algorithm, alg) == 0)
                        return cas[i];
        return NULL;
}

static bool is_root_alg(const char *a)
{
        return strcmp(a, "ec384") == 0 || strcmp(a, "rsa4096") == 0 || strcmp(a, "sm2") == 0;
}

enum qerr service_ca_init(struct service *s, const struct ca_init_req *r, struct ca_rec **out,
                          struct qerr_info *ei)
{
        const char *ialg = r->issuing_alg ? r->issuing_alg : "ec256";
        const char *ralg = r->root_alg ? r->root_alg : strcmp(ialg, "sm2") == 0 ? "sm2" : "ec384";
        const char *subject = r->subject ? r->subject : "CN=Quill Local CA";
        enum key_alg ka;
        enum qerr arc = svc_require(s, SVC_ADMIN, "create CAs", ei);
        if (arc != QERR_OK)
                return arc;
        if (!key_alg_from_name(ialg, &ka))
                return qerr_set(ei, QERR_USAGE,
                                "unknown --key %s; use ec256, ec384, rsa2048, "
                                "rsa3072, rsa4096 or sm2",
                                ialg);
        if (!is_root_alg(ralg))
                return qerr_set(ei, QERR_USAGE, "unknown --root-key %s; use ec384, rsa4096 or sm2",
                                ralg);
        if ((strcmp(ralg, "sm2") == 0) != (strcmp(ialg, "sm2") == 0))
                return qerr_set(ei, QERR_USAGE,
                                "an SM2 chain is SM2 throughout: use --root-key sm2 with --key "
                                "sm2, and a non-SM2 root with any other --key");
        if (strlen(subject) > 900 || !strchr(subject, '='))
                return qerr_set(ei, QERR_USAGE, "--subject must look like \"CN=Example CA\"");

        struct ca_rec **cas = NULL, *root = NULL, *issuing = NULL;
        size_t n = 0;
        struct signer *sg;
        struct qbuf frame, rootder;
        qbuf_init(&frame, MAX_SIGNER_MSG_BYTES);
        qbuf_init(&rootder, 64 * 1024);
        enum qerr rc = ST(s)->ops->ca_list(ST(s), &cas, &n, ei);
        if (rc != QERR_OK)
                goto out;
        if (find_ca(cas, n, false, ialg)) {
                rc = qerr_set(ei, QERR_CA_EXISTS,
                              "an issuing CA with key type %s already exists; use it, or add "
                              "another with a different --key",
                              ialg);
                goto out;
        }
        if ((rc = svc_signer(s, &sg, ei)) != QERR_OK)
                goto out;
        struct ca_rec *existing = find_ca(cas, n, true, ralg);
        char cn[1024];
        if (!existing) {
                char suffix[32];
                snprintf(suffix, sizeof suffix, "Root %s", ralg);
                if (!role_subject(subject, suffix, cn, sizeof cn)) {
                        rc = qerr_set(ei, QERR_USAGE, "--subject is too long");
                        goto out;
                }
                struct signer_req req = {.type = SMSG_CREATE_ROOT};
                struct signer_resp resp;
                req.key_alg = sbytes_str(ralg);
                req.subject = sbytes_str(cn);
                if ((rc = signer_call(sg, &req, &frame, &resp, ei)) != QERR_OK)
                        goto out;
                if ((rc = store_ca(s, &resp, ralg, 0, &root, ei)) != QERR_OK)
                        goto out;
                existing = root;
        }
        if ((rc = ca_der(existing, &rootder, ei)) != QERR_OK)
                goto out;
        char isuffix[32];
        snprintf(isuffix, sizeof isuffix, "Issuing %s", ialg);
        if (!role_subject(subject, isuffix, cn, sizeof cn)) {
                rc = qerr_set(ei, QERR_USAGE, "--subject is too long");
                goto out;
        }
        char crl[600], cai[600];
        svc_urls(s, existing->id, CRL_SHARD_NONE, crl, NULL, cai, sizeof crl);
        struct signer_req req = {.type = SMSG_CREATE_ISSUING};
        struct signer_resp resp;
        req.key_alg = sbytes_str(ialg);
        req.subject = sbytes_str(cn);
        req.issuer_der.p = rootder.data;
        req.issuer_der.len = rootder.len;
        req.crl_url = sbytes_str(crl);
        req.ca_issuers_url = sbytes_str(cai);
        if ((rc = signer_call(sg, &req, &frame, &resp, ei)) != QERR_OK)
                goto out;
        rc = store_ca(s, &resp, ialg, existing->id, &issuing, ei);
out:
        store_free_cas(cas, n);
        ca_rec_free(root);
        qbuf_free(&frame);
        qbuf_free(&rootder);
        if (rc != QERR_OK)
                return rc;
        *out = issuing;
        return QERR_OK;
}
