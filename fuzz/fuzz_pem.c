/*
 * fuzz_pem.c - libFuzzer target for the PEM/DER readers of outside input:
 * certificate bundles (pki_certs_read), single certificates (pki_cert_read,
 * then name and serial extraction), private keys (pki_key_from_pem, with
 * and without a password) and public keys (pki_pubkey_read: PEM PUBLIC KEY
 * or DER SubjectPublicKeyInfo, as `quill blocked-keys add --key` and a
 * proof of possession take them). The first byte picks the reader.
 */
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "pki/pki_key.h"
#include "pki/pki_pem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct qerr_info ei;
        if (size < 1)
                return 0;
        uint8_t sel = data[0] % 5;
        data++;
        size--;
        if (sel == 0) {
                STACK_OF(X509) *sk = NULL;
                if (pki_certs_read(data, size, &sk, &ei) == QERR_OK)
                        sk_X509_pop_free(sk, X509_free);
        } else if (sel == 1) {
                X509 *x = NULL;
                if (pki_cert_read(data, size, &x, &ei) == QERR_OK) {
                        char **names = NULL, serial[64];
                        size_t n = 0;
                        pki_cert_serial_hex(x, serial, sizeof serial);
                        if (pki_cert_names(x, &names, &n, &ei) == QERR_OK) {
                                for (size_t i = 0; i < n; i++)
                                        free(names[i]);
                                free(names);
                        }
                        free(pki_name_oneline(X509_get_subject_name(x)));
                        X509_free(x);
                }
        } else if (sel == 4) {
                EVP_PKEY *k = NULL;
                if (pki_pubkey_read(data, size, &k, &ei) == QERR_OK) {
                        char id[65];
                        pki_key_id(k, id, &ei);
                        EVP_PKEY_free(k);
                }
        } else {
                EVP_PKEY *k = NULL;
                if (pki_key_from_pem(data, size, sel == 2 ? NULL : "fuzz-password", &k, &ei) ==
                    QERR_OK) {
                        char name[16];
                        pki_key_describe(k, name, &ei);
                        EVP_PKEY_free(k);
                }
        }
        return 0;
}
