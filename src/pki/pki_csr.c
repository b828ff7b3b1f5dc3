/*
 * pki_csr.c - PKCS#10 parsing and building; see pki_csr.h.
 */
#include "pki_csr.h"

#include <arpa/inet.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "pki_key.h"
#include "pki_pem.h"

static bool push(struct csr_info *c, const char *s, size_t len)
{
        if (len == 0 || memchr(s, 0, len))
                return true; /* ignored: empty or embedded NUL never matches */
        for (size_t i = 0; i < c->nnames; i++)
                if (strlen(c->names[i]) == len && strncasecmp(c->names[i], s, len) == 0)
                        return true;
        if (c->nnames >= 1000)
                return false;
        char **nn = realloc(c->names, (c->nnames + 1) * sizeof *nn);
        if (!nn)
                return false;
        c->names = nn;
        if (!(nn[c->nnames] = strndup(s, len)))
                return false;
        c->nnames++;
        return true;
}

static bool collect_names(struct csr_info *c)
{
        bool ok = true;
        STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(c->req);
        GENERAL_NAMES *gens = NULL;
        int idx = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
        if (idx >= 0)
                gens = X509V3_EXT_d2i(sk_X509_EXTENSION_value(exts, idx));
        for (int i = 0; ok && gens && i < sk_GENERAL_NAME_num(gens); i++) {
                GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
                if (g->type == GEN_DNS) {
                        ok = push(c, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
                                  (size_t)ASN1_STRING_length(g->d.dNSName));
                } else if (g->type == GEN_IPADD) {
                        char t[INET6_ADDRSTRLEN] = "";
                        int l = ASN1_STRING_length(g->d.iPAddress);
                        const unsigned char *d = ASN1_STRING_get0_data(g->d.iPAddress);
                        if (l == 4)
                                inet_ntop(AF_INET, d, t, sizeof t);
                        else if (l == 16)
                                inet_ntop(AF_INET6, d, t, sizeof t);
                        if (t[0])
                                ok = push(c, t, strlen(t));
                }
        }
        GENERAL_NAMES_free(gens);
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        X509_NAME *subj = X509_REQ_get_subject_name(c->req);
        int ci = subj ? X509_NAME_get_index_by_NID(subj, NID_commonName, -1) : -1;
        if (ok && ci >= 0) {
                unsigned char *u = NULL;
                int l = ASN1_STRING_to_UTF8(
                    &u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, ci)));
                if (l > 0) {
                        /* CN first when SAN is empty; otherwise it must be one of the
                         * SANs (push dedupes) */
                        ok = push(c, (const char *)u, (size_t)l);
                }
                OPENSSL_free(u);
        }
        ERR_clear_error();
        return ok;
}

enum qerr pki_csr_parse(const void *data, size_t len, struct csr_info *out, struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        if (len == 0 || len > MAX_CSR_BYTES)
                return qerr_set(ei, QERR_CSR_INVALID, "the CSR is empty or larger than %u bytes",
                                MAX_CSR_BYTES);
        ERR_clear_error();
        if (memmem(data, len, "-----BEGIN", 10)) {
                BIO *b = BIO_new_mem_buf(data, (int)len);
                if (b)
                        out->req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
                BIO_free(b);
        } else {
                const unsigned char *p = data;
                out->req = d2i_X509_REQ(NULL, &p, (long)len);
                if (out->req && p != (const unsigned char *)data + len) {
                        X509_REQ_free(out->req);
                        out->req = NULL;
                }
        }
        ERR_clear_error();
        if (!out->req)
                return qerr_set(ei, QERR_CSR_INVALID, NULL);
        enum qerr rc;
        out->key = X509_REQ_get0_pubkey(out->req);
        if (!out->key) {
                rc = qerr_set(ei, QERR_CSR_INVALID, "the CSR's public key could not be read");
                goto fail;
        }
        if (EVP_PKEY_is_a(out->key, "SM2")) {
                ASN1_OCTET_STRING *id = ASN1_OCTET_STRING_new();
                if (id && ASN1_OCTET_STRING_set(id, (const unsigned char *)PKI_SM2_ID,
                                                (int)strlen(PKI_SM2_ID)))
                        X509_REQ_set0_distinguishing_id(out->req, id);
                else
                        ASN1_OCTET_STRING_free(id);
        }
        int v = X509_REQ_verify(out->req, out->key);
        if (v != 1 && EVP_PKEY_is_a(out->key, "SM2")) {
                /* `openssl req` without -sigopt distid: signs with OpenSSL's
                 * empty default ID; that proves possession of the key just as
                 * well, so accept it too */
                ERR_clear_error();
                X509_REQ_set0_distinguishing_id(out->req, NULL);
                v = X509_REQ_verify(out->req, out->key);
        }
        if (v != 1) {
                ERR_clear_error();
                rc = qerr_set(ei, QERR_CSR_SIGNATURE, NULL);
                goto fail;
        }
        rc = pki_key_describe(out->key, out->key_algorithm, ei);
        if (rc != QERR_OK)
                goto fail;
        if (!collect_names(out)) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto fail;
        }
        if (out->nnames == 0) {
                rc = qerr_set(ei, QERR_NAME_INVALID,
                              "the CSR names no domain (no subjectAltName and no common name)");
                goto fail;
        }
        return QERR_OK;
fail:
        csr_info_clear(out);
        return rc;
}

void csr_info_clear(struct csr_info *c)
{
        for (size_t i = 0; i < c->nnames; i++)
                free(c->names[i]);
        free(c->names);
        X509_REQ_free(c->req);
        memset(c, 0, sizeof *c);
}

enum qerr pki_csr_build(EVP_PKEY *key, const char *const *names, size_t n, struct qbuf *out,
                        struct qerr_info *ei)
{
        X509_REQ *req = X509_REQ_new();
        X509_NAME *subj = X509_NAME_new();
        STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
        GENERAL_NAMES *gens = NULL;
        bool ok = req && subj && exts && n > 0;
        ok = ok && X509_REQ_set_version(req, X509_REQ_VERSION_1);
        if (ok && strlen(names[0]) <= 64)
                ok = X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_ASC,
                                                (const unsigned char *)names[0], -1, -1, 0);
        ok = ok && X509_REQ_set_subject_name(req, subj) && X509_REQ_set_pubkey(req, key);
        if (ok && !(gens = pki_general_names(names, n)))
                ok = false;
        ok = ok && X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
        ok = ok && X509_REQ_add_extensions(req, exts);
        if (ok) {
                if (EVP_PKEY_is_a(key, "SM2")) {
                        ASN1_OCTET_STRING *id = ASN1_OCTET_STRING_new();
                        if (id && ASN1_OCTET_STRING_set(id, (const unsigned char *)PKI_SM2_ID,
                                                        (int)strlen(PKI_SM2_ID)))
                                X509_REQ_set0_distinguishing_id(req, id);
                        else
                                ASN1_OCTET_STRING_free(id);
                }
                EVP_MD_CTX *ctx = pki_sign_ctx(key);
                ok = ctx && X509_REQ_sign_ctx(req, ctx) > 0;
                EVP_MD_CTX_free(ctx);
        }
        ok = ok && pki_csr_pem(req, out, NULL) == QERR_OK;
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        GENERAL_NAMES_free(gens);
        X509_NAME_free(subj);
        X509_REQ_free(req);
        ERR_clear_error();
        return ok ? QERR_OK : qerr_set(ei, QERR_INTERNAL, "could not build the CSR");
}
