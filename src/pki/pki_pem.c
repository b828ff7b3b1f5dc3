/*
 * pki_pem.c - certificates from and to PEM/DER; see pki_pem.h.
 */
#include "pki_pem.h"

#include <arpa/inet.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "pki_key.h"

static BIO *mem_bio(const void *data, size_t len)
{
        if (len > INT_MAX)
                return NULL;
        return BIO_new_mem_buf(data, (int)len);
}

static bool looks_pem(const void *data, size_t len)
{
        return memmem(data, len, "-----BEGIN", 10) != NULL;
}

enum qerr pki_cert_read(const void *data, size_t len, X509 **out, struct qerr_info *ei)
{
        X509 *x = NULL;
        ERR_clear_error();
        if (looks_pem(data, len)) {
                BIO *b = mem_bio(data, len);
                if (b)
                        x = PEM_read_bio_X509(b, NULL, NULL, NULL);
                BIO_free(b);
        } else if (len <= LONG_MAX) {
                const unsigned char *p = data;
                x = d2i_X509(NULL, &p, (long)len);
                if (x && p != (const unsigned char *)data + len) {
                        X509_free(x);
                        x = NULL;
                }
        }
        ERR_clear_error();
        if (!x)
                return qerr_set(ei, QERR_PEM_INVALID,
                                "the certificate is not valid PEM or DER "
                                "(truncated or damaged?)");
        pki_cert_set_sm2_id(x);
        *out = x;
        return QERR_OK;
}

enum qerr pki_certs_read(const void *data, size_t len, STACK_OF(X509) * *out, struct qerr_info *ei)
{
        STACK_OF(X509) *sk = sk_X509_new_null();
        BIO *b = mem_bio(data, len);
        enum qerr rc = QERR_OK;
        if (!sk || !b) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto out;
        }
        ERR_clear_error();
        for (;;) {
                X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
                if (!x)
                        break;
                pki_cert_set_sm2_id(x);
                if (!sk_X509_push(sk, x)) {
                        X509_free(x);
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                        goto out;
                }
                if (sk_X509_num(sk) > 16) {
                        rc = qerr_set(ei, QERR_PEM_INVALID,
                                      "more than 16 certificates in one "
                                      "bundle");
                        goto out;
                }
        }
        unsigned long e = ERR_peek_last_error();
        ERR_clear_error();
        /* A clean end of input is PEM_R_NO_START_LINE; anything else is a
         * broken block. */
        if (e && ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
                rc = qerr_set(ei, QERR_PEM_INVALID,
                              "certificate %d in the bundle is damaged or truncated",
                              sk_X509_num(sk) + 1);
                goto out;
        }
        if (sk_X509_num(sk) == 0) {
                rc = qerr_set(ei, QERR_PEM_INVALID, "no certificate found in the PEM text");
                goto out;
        }
out:
        BIO_free(b);
        if (rc != QERR_OK) {
                sk_X509_pop_free(sk, X509_free);
                return rc;
        }
        *out = sk;
        return QERR_OK;
}

enum qerr pki_cert_pem(X509 *x, struct qbuf *out, struct qerr_info *ei)
{
        BIO *b = BIO_new(BIO_s_mem());
        enum qerr rc = QERR_OK;
        char *p;
        if (!b || !PEM_write_bio_X509(b, x))
                rc = qerr_set(ei, QERR_INTERNAL, "could not encode a certificate");
        else {
                long n = BIO_get_mem_data(b, &p);
                if (n <= 0 || !qbuf_append(out, p, (size_t)n))
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
        }
        BIO_free(b);
        return rc;
}

enum qerr pki_der_pem(const void *der, size_t len, const char *label, struct qbuf *out,
                      struct qerr_info *ei)
{
        if (len > LONG_MAX)
                return qerr_set(ei, QERR_INTERNAL, "DER too large to encode");
        BIO *b = BIO_new(BIO_s_mem());
        enum qerr rc = QERR_OK;
        char *p;
        if (!b || PEM_write_bio(b, label, "", der, (long)len) <= 0)
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        else {
                long n = BIO_get_mem_data(b, &p);
                if (n <= 0 || !qbuf_append(out, p, (size_t)n))
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
        }
        BIO_free(b);
        return rc;
}

enum qerr pki_cert_der(X509 *x, struct qbuf *out, struct qerr_info *ei)
{
        unsigned char *der = NULL;
        int n = i2d_X509(x, &der);
        if (n <= 0)
                return qerr_set(ei, QERR_INTERNAL, "could not encode a certificate");
        bool ok = qbuf_append(out, der, (size_t)n);
        OPENSSL_free(der);
        return ok ? QERR_OK : qerr_set(ei, QERR_NOMEM, NULL);
}

void pki_cert_serial_hex(X509 *x, char *out, size_t outsz)
{
        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        char *h = bn ? BN_bn2hex(bn) : NULL;
        if (!h) {
                snprintf(out, outsz, "0");
        } else {
                const char *p = h;
                if (*p == '-')
                        p++;
                while (*p == '0' && p[1])
                        p++;
                size_t i = 0;
                for (; p[i] && i + 1 < outsz; i++)
                        out[i] = (char)(p[i] >= 'A' && p[i] <= 'F' ? p[i] + 32 : p[i]);
                out[i] = 0;
        }
        OPENSSL_free(h);
        BN_free(bn);
}

static bool push_name(char ***names, size_t *n, const char *s, size_t len)
{
        if (*n >= 1000)
                return false;
        for (size_t i = 0; i < *n; i++)
                if (strlen((*names)[i]) == len && strncasecmp((*names)[i], s, len) == 0)
                        return true;
        char **nn = realloc(*names, (*n + 1) * sizeof *nn);
        if (!nn)
                return false;
        *names = nn;
        nn[*n] = strndup(s, len);
        if (!nn[*n])
                return false;
        (*n)++;
        return true;
}

enum qerr pki_cert_names(X509 *x, char ***names, size_t *n, struct qerr_info *ei)
{
        *names = NULL;
        *n = 0;
        GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
        bool ok = true;
        for (int i = 0; ok && gens && i < sk_GENERAL_NAME_num(gens); i++) {
                GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
                if (g->type == GEN_DNS) {
                        ok = push_name(names, n, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
                                       (size_t)ASN1_STRING_length(g->d.dNSName));
                } else if (g->type == GEN_IPADD) {
                        char txt[INET6_ADDRSTRLEN] = "";
                        int len = ASN1_STRING_length(g->d.iPAddress);
                        const unsigned char *d = ASN1_STRING_get0_data(g->d.iPAddress);
                        if (len == 4)
                                inet_ntop(AF_INET, d, txt, sizeof txt);
                        else if (len == 16)
                                inet_ntop(AF_INET6, d, txt, sizeof txt);
                        if (txt[0])
                                ok = push_name(names, n, txt, strlen(txt));
                }
        }
        GENERAL_NAMES_free(gens);
        X509_NAME *subj = X509_get_subject_name(x);
        int idx = subj ? X509_NAME_get_index_by_NID(subj, NID_commonName, -1) : -1;
        if (ok && idx >= 0) {
                ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
                unsigned char *utf8 = NULL;
                int len = ASN1_STRING_to_UTF8(&utf8, cn);
                if (len > 0 && !memchr(utf8, 0, (size_t)len))
                        ok = push_name(names, n, (const char *)utf8, (size_t)len);
                OPENSSL_free(utf8);
        }
        if (!ok) {
                for (size_t i = 0; i < *n; i++)
                        free((*names)[i]);
                free(*names);
                *names = NULL;
                *n = 0;
                return qerr_set(ei, QERR_NOMEM, NULL);
        }
        return QERR_OK;
}

char *pki_name_oneline(const X509_NAME *nm)
{
        BIO *b = BIO_new(BIO_s_mem());
        char *out = NULL, *p;
        if (b && X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253) >= 0) {
                long n = BIO_get_mem_data(b, &p);
                out = strndup(n > 0 ? p : "", n > 0 ? (size_t)n : 0);
        }
        BIO_free(b);
        return out;
}

long long pki_time_to_unix(const ASN1_TIME *t)
{
        struct tm tm;
        if (!t || !ASN1_TIME_to_tm(t, &tm))
                return 0;
        return (long long)timegm(&tm);
}

void pki_cert_set_sm2_id(X509 *x)
{
        EVP_PKEY *k = X509_get0_pubkey(x);
        /* The ID belongs to the signer's key, but OpenSSL looks it up on the
         * certificate being verified; every SM2 chain here is SM2 all along. */
        int nid = X509_get_signature_nid(x);
        if ((k && EVP_PKEY_is_a(k, "SM2")) || nid == NID_SM2_with_SM3) {
                ASN1_OCTET_STRING *id = ASN1_OCTET_STRING_new();
                if (id && ASN1_OCTET_STRING_set(id, (const unsigned char *)PKI_SM2_ID,
                                                (int)strlen(PKI_SM2_ID)))
                        X509_set0_distinguishing_id(x, id);
                else
                        ASN1_OCTET_STRING_free(id);
        }
}

void pki_certs_set_sm2_id(STACK_OF(X509) * sk)
{
        for (int i = 0; i < sk_X509_num(sk); i++)
                pki_cert_set_sm2_id(sk_X509_value(sk, i));
}

GENERAL_NAMES *pki_general_names(const char *const *names, size_t n)
{
        GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
        bool ok = gens != NULL;
        for (size_t i = 0; ok && i < n; i++) {
                GENERAL_NAME *g = GENERAL_NAME_new();
                unsigned char ip[16];
                bool v4 = inet_pton(AF_INET, names[i], ip) == 1;
                bool v6 = !v4 && inet_pton(AF_INET6, names[i], ip) == 1;
                if (v4 || v6) {
                        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
                        ok = g && os && ASN1_OCTET_STRING_set(os, ip, v4 ? 4 : 16);
                        if (ok)
                                GENERAL_NAME_set0_value(g, GEN_IPADD, os);
                        else
                                ASN1_OCTET_STRING_free(os);
                } else {
                        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
                        ok = g && s && ASN1_STRING_set(s, names[i], -1);
                        if (ok)
                                GENERAL_NAME_set0_value(g, GEN_DNS, s);
                        else
                                ASN1_IA5STRING_free(s);
                }
                if (!ok || !sk_GENERAL_NAME_push(gens, g)) {
                        GENERAL_NAME_free(g);
                        ok = false;
                }
        }
        if (!ok) {
                GENERAL_NAMES_free(gens);
                return NULL;
        }
        return gens;
}

enum qerr pki_csr_pem(X509_REQ *req, struct qbuf *out, struct qerr_info *ei)
{
        BIO *b = BIO_new(BIO_s_mem());
        char *p;
        long l = 0;
        if (b && PEM_write_bio_X509_REQ(b, req))
                l = BIO_get_mem_data(b, &p);
        bool ok = l > 0 && qbuf_append(out, p, (size_t)l);
        BIO_free(b);
        return ok ? QERR_OK : qerr_set(ei, QERR_INTERNAL, "could not encode the CSR");
}
