/*
 * pki_csr.h - PKCS#10 requests: read and check one from outside (PEM or
 * DER), or build one for a key the service generated.
 *
 * Returned objects and strings are owned by the caller. Any thread.
 */
#ifndef QUILL_PKI_CSR_H
#define QUILL_PKI_CSR_H

#include <openssl/x509.h>
#include <stddef.h>

#include "../base/buf.h"
#include "../base/err.h"

struct csr_info {
        X509_REQ *req;
        EVP_PKEY *key;          /* borrowed from req: do not free */
        char key_algorithm[16]; /* pki_key_describe name */
        char **names;           /* SAN dNSName/iPAddress, then CN if not among them */
        size_t nnames;
};

/* Parses (PEM or DER, at most MAX_CSR_BYTES), verifies the self-signature
 * and the key strength, and collects the names. Errors: CSR_INVALID,
 * CSR_SIGNATURE, KEY_WEAK, KEY_UNSUPPORTED, NAME_INVALID (no name at all). */
enum qerr pki_csr_parse(const void *data, size_t len, struct csr_info *out, struct qerr_info *ei);
void csr_info_clear(struct csr_info *c);

/* Builds and signs a CSR (CN = first name, SAN = all names) for `key`;
 * appends its PEM to out. */
enum qerr pki_csr_build(EVP_PKEY *key, const char *const *names, size_t n, struct qbuf *out,
                        struct qerr_info *ei);

#endif
