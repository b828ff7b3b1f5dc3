/*
 * pki_bundle.h - the download formats of RULES.md §7: PEM files, nginx and
 * Apache layouts, PKCS#12 for IIS and Tomcat.
 *
 * Writes files into a directory the caller names; private key files are
 * created 0600 with O_EXCL (an existing file is never overwritten: the
 * caller chooses an empty or new directory). Borrowed inputs are const and
 * not freed. Any thread.
 */
#ifndef QUILL_PKI_BUNDLE_H
#define QUILL_PKI_BUNDLE_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/filebag.h"

enum bundle_format {
        BUNDLE_PEM,
        BUNDLE_NGINX,
        BUNDLE_APACHE,
        BUNDLE_IIS,
        BUNDLE_TOMCAT,
        BUNDLE__COUNT
};

const char *bundle_format_name(enum bundle_format f);
bool bundle_format_from_name(const char *s, enum bundle_format *out);
/* Does this format need the private key / a password? */
bool bundle_needs_key(enum bundle_format f);
bool bundle_needs_password(enum bundle_format f);

struct bundle_input {
        const char *cert_pem;      /* the leaf certificate */
        const char *chain_pem;     /* issuing CA up to the root, leaf-most first */
        EVP_PKEY *key;             /* borrowed; NULL when the service holds no key */
        const char *password;      /* PKCS#12 password; NULL for other formats */
        const char *basename;      /* file name stem for nginx/apache/iis/tomcat, e.g.
                                      "www.example.com" (already safe: [a-z0-9.-]) */
        const char *friendly_name; /* PKCS#12 friendlyName / keytool alias */
};

/* Writes the files of format `f` into `outdir` (created 0755 if missing) and
 * appends each written path, one per line, to `written`.
 *   pem:    cert.pem, chain.pem, fullchain.pem (cert + chain), key.pem (when key)
 *   nginx:  <base>.crt (cert + intermediates, no self-signed root), <base>.key
 *   apache: <base>.crt (cert), <base>.chain.crt (intermediates), <base>.key
 *   iis:    <base>.pfx (PKCS#12: key, cert, chain)
 *   tomcat: <base>.p12 (PKCS#12: key, cert, chain; alias = friendly_name)
 * KEY_NOT_HELD when the format needs a key and there is none;
 * PASSWORD_REQUIRED when it needs a password (at least 4 characters);
 * IO / DISK_FULL on write failures (files already written by this call are
 * removed again). */
enum qerr pki_bundle_write(enum bundle_format f, const struct bundle_input *in, const char *outdir,
                           struct qbuf *written, struct qerr_info *ei);

/* The same files in memory (the REST API sends them instead of writing
 * them): names as above, without a directory. The caller frees `out` with
 * filebag_free (which wipes private key bytes). */
enum qerr pki_bundle_build(enum bundle_format f, const struct bundle_input *in, struct filebag *out,
                           struct qerr_info *ei);

#endif
