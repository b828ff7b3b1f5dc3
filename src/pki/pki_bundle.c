/*
 * pki_bundle.c - writes the download formats of RULES.md §7 (see
 * pki_bundle.h): plain PEM files, the nginx and Apache layouts and PKCS#12
 * files for IIS (.pfx) and Tomcat (.p12).
 *
 * The certificates are parsed from the caller's PEM and written back
 * re-encoded, so every file holds clean PEM whatever the input looked like.
 * nginx and Apache get the intermediates only: a self-signed root in the
 * chain is left out (servers must not send it). PKCS#12 files use OpenSSL 3's
 * defaults (AES-256-CBC, PBKDF2, SHA-256 MAC), which `openssl pkcs12`, Java 17
 * keytool and current Windows read.
 *
 * Every file is created with O_EXCL (an existing file is never overwritten);
 * files holding a private key are 0600, certificate files 0644 (both less the
 * umask). When any step fails, the files this call already wrote are removed
 * and `written` is put back as it was.
 *
 * Memory: the inputs are borrowed; everything allocated here (parsed
 * certificates, PEM and PKCS#12 bytes, the latter wiped before release) is
 * freed before returning. No global state; any thread.
 */
#include "pki_bundle.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/fsutil.h"
#include "pki_key.h"
#include "pki_pem.h"

#define MODE_KEY 0600
#define MODE_CERT 0644
#define MODE_DIR 0755
#define MIN_P12_PASSWORD 4
#define MAX_FILES 4

static const char *const format_names[BUNDLE__COUNT] = {"pem", "nginx", "apache", "iis", "tomcat"};

const char *bundle_format_name(enum bundle_format f)
{
        return (unsigned)f < BUNDLE__COUNT ? format_names[f] : "unknown";
}

bool bundle_format_from_name(const char *s, enum bundle_format *out)
{
        if (!s)
                return false;
        for (int i = 0; i < BUNDLE__COUNT; i++)
                if (strcmp(s, format_names[i]) == 0) {
                        *out = (enum bundle_format)i;
                        return true;
                }
        return false;
}

bool bundle_needs_key(enum bundle_format f)
{
        return f == BUNDLE_NGINX || f == BUNDLE_APACHE || f == BUNDLE_IIS || f == BUNDLE_TOMCAT;
}

bool bundle_needs_password(enum bundle_format f)
{
        return f == BUNDLE_IIS || f == BUNDLE_TOMCAT;
}

/* The files written so far by one call, to be removed again on failure. */
struct outset {
        const char *dir;
        struct filebag *mem; /* in-memory mode: files go here, dir is NULL */
        struct qbuf *written;
        size_t written_len0;
        char *paths[MAX_FILES];
        int n;
};

static enum qerr put_file(struct outset *o, const char *name, const void *data, size_t len,
                          mode_t mode, struct qerr_info *ei)
{
        if (o->n >= MAX_FILES)
                return qerr_set(ei, QERR_INTERNAL,
                                "Too many files for one bundle; this is a bug, please report it.");
        if (o->mem)
                return filebag_add(o->mem, name, data, len, mode == MODE_KEY)
                           ? QERR_OK
                           : qerr_set(ei, QERR_NOMEM, NULL);
        char path[PATH_MAX];
        int pn = snprintf(path, sizeof path, "%s/%s", o->dir, name);
        if (pn < 0 || (size_t)pn >= sizeof path)
                return qerr_set(ei, QERR_IO,
                                "The output path %s/%s is too long; choose a shorter directory.",
                                o->dir, name);
        char *dup = strdup(path);
        if (!dup)
                return qerr_set(ei, QERR_NOMEM, NULL);
        struct qerr_info fe = {0};
        enum qerr rc = fs_write_file(path, data, len, mode, true, &fe);
        if (rc != QERR_OK) {
                free(dup);
                if (rc == QERR_DISK_FULL)
                        return qerr_set(ei, rc,
                                        "The disk is full while writing %s (%s); free some space "
                                        "and download again.",
                                        path, qerr_message(&fe));
                return qerr_set(ei, rc,
                                "Could not write %s (%s); choose an empty or new output "
                                "directory that is writable.",
                                path, qerr_message(&fe));
        }
        o->paths[o->n++] = dup;
        if (!qbuf_printf(o->written, "%s\n", path))
                return qerr_set(ei, QERR_NOMEM, NULL);
        return QERR_OK;
}

/* On failure: removes what was written and restores `written`. Always frees. */
static void outset_finish(struct outset *o, bool failed)
{
        for (int i = 0; i < o->n; i++) {
                if (failed)
                        unlink(o->paths[i]);
                free(o->paths[i]);
        }
        o->n = 0;
        if (failed && o->written) {
                o->written->len = o->written_len0;
                if (o->written->data)
                        o->written->data[o->written->len] = 0;
        }
}

/* A root: names itself as issuer and its signature verifies with its own
 * key (the certificate's SM2 id, if any, is already set by pki_certs_read). */
static bool is_self_signed(X509 *x)
{
        return X509_self_signed(x, 1) == 1;
}

static enum qerr append_certs(struct qbuf *b, STACK_OF(X509) * sk, bool skip_roots,
                              struct qerr_info *ei)
{
        for (int i = 0; i < sk_X509_num(sk); i++) {
                X509 *x = sk_X509_value(sk, i);
                if (skip_roots && is_self_signed(x))
                        continue;
                enum qerr rc = pki_cert_pem(x, b, ei);
                if (rc != QERR_OK)
                        return rc;
        }
        return QERR_OK;
}

static bool blank(const char *s)
{
        return !s || s[strspn(s, " \t\r\n")] == '\0';
}

static bool safe_basename(const char *s)
{
        return s && s[0] && s[0] != '.' && !strchr(s, '/') && strlen(s) <= 200;
}

static enum qerr write_pkcs12(struct outset *o, const char *name, const struct bundle_input *in,
                              X509 *leaf, STACK_OF(X509) * chain, struct qerr_info *ei)
{
        unsigned char *der = NULL;
        int n = 0;
        enum qerr rc = QERR_OK;
        /* nid_key/nid_cert/iter/mac_iter 0: OpenSSL 3 defaults (AES-256-CBC
         * with PBKDF2-HMAC-SHA256, SHA-256 MAC, 2048 iterations). */
        PKCS12 *p12 = PKCS12_create_ex(in->password, in->friendly_name, in->key, leaf, chain, 0, 0,
                                       0, 0, 0, NULL, NULL);
        if (!p12) {
                rc = qerr_set(ei, QERR_INTERNAL,
                              "Could not build the PKCS#12 file; download the pem format "
                              "and build it with 'openssl pkcs12 -export' meanwhile.");
                goto out;
        }
        n = i2d_PKCS12(p12, &der);
        if (n <= 0) {
                rc = qerr_set(ei, QERR_INTERNAL,
                              "Could not encode the PKCS#12 file; download the pem format "
                              "and build it with 'openssl pkcs12 -export' meanwhile.");
                goto out;
        }
        rc = put_file(o, name, der, (size_t)n, MODE_KEY, ei);
out:
        if (der) {
                OPENSSL_cleanse(der, (size_t)n);
                OPENSSL_free(der);
        }
        PKCS12_free(p12);
        return rc;
}

static enum qerr bundle_make(enum bundle_format f, const struct bundle_input *in,
                             const char *outdir, struct qbuf *written, struct filebag *mem,
                             struct qerr_info *ei)
{
        enum qerr rc = QERR_OK;
        X509 *leaf = NULL;
        STACK_OF(X509) *chain = NULL;
        struct qbuf cert, chainb, full, key;
        char name[PATH_MAX];
        struct qerr_info pe = {0};
        const char *base = NULL;
        struct outset o = {.dir = outdir, .written = written, .mem = mem};

        qbuf_init(&cert, MAX_PEM_BYTES);
        qbuf_init(&chainb, MAX_PEM_BYTES);
        qbuf_init(&full, 2 * MAX_PEM_BYTES);
        qbuf_init(&key, MAX_PEM_BYTES);
        if (written)
                o.written_len0 = written->len;

        if ((unsigned)f >= BUNDLE__COUNT) {
                rc = qerr_set(ei, QERR_FORMAT_INVALID, NULL);
                goto out;
        }
        if (!in || !in->cert_pem || ((!outdir || !written) && !o.mem)) {
                rc = qerr_set(ei, QERR_INTERNAL,
                              "The bundle writer was called without a "
                              "certificate or output directory; this is a "
                              "bug, please report it.");
                goto out;
        }
        if (bundle_needs_key(f) && !in->key) {
                rc = qerr_set(ei, QERR_KEY_NOT_HELD,
                              "The %s format holds the private key, but this service does not "
                              "hold it for this certificate. Use --format pem, or build the "
                              "bundle with your own key.",
                              format_names[f]);
                goto out;
        }
        if (bundle_needs_password(f) &&
            (!in->password || strlen(in->password) < MIN_P12_PASSWORD)) {
                rc = qerr_set(ei, QERR_PASSWORD_REQUIRED,
                              "The %s format is a password-protected PKCS#12 file; give a "
                              "password of at least %d characters with --password.",
                              format_names[f], MIN_P12_PASSWORD);
                goto out;
        }
        if (f != BUNDLE_PEM && !safe_basename(in->basename)) {
                rc = qerr_set(ei, QERR_INTERNAL,
                              "The bundle file name is missing or unsafe; this is a bug, please "
                              "report it.");
                goto out;
        }

        if (pki_cert_read(in->cert_pem, strlen(in->cert_pem), &leaf, &pe) != QERR_OK) {
                rc = qerr_set(ei, QERR_INTERNAL,
                              "The stored certificate could not be read (%s); this is a bug, "
                              "please report it.",
                              qerr_message(&pe));
                goto out;
        }
        if (blank(in->chain_pem))
                chain = sk_X509_new_null();
        else if (pki_certs_read(in->chain_pem, strlen(in->chain_pem), &chain, &pe) != QERR_OK) {
                rc = qerr_set(ei, QERR_INTERNAL,
                              "The stored chain could not be read (%s); this is a bug, please "
                              "report it.",
                              qerr_message(&pe));
                goto out;
        }
        if (!chain) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto out;
        }
        if (in->key && !pki_key_matches(in->key, X509_get0_pubkey(leaf))) {
                rc = qerr_set(ei, QERR_INTERNAL,
                              "The stored private key does not belong to this certificate; "
                              "nothing was written. This is a bug, please report it.");
                goto out;
        }

        if (!o.mem && (rc = fs_mkdirs(outdir, MODE_DIR, ei)) != QERR_OK)
                goto out;

        base = in->basename;
        switch (f) {
        case BUNDLE_PEM:
                if ((rc = pki_cert_pem(leaf, &cert, ei)) != QERR_OK ||
                    (rc = append_certs(&chainb, chain, false, ei)) != QERR_OK)
                        goto out;
                if (!qbuf_append(&full, cert.data, cert.len) ||
                    !qbuf_append(&full, chainb.data, chainb.len)) {
                        rc = qerr_set(ei, QERR_NOMEM, NULL);
                        goto out;
                }
                if ((rc = put_file(&o, "cert.pem", cert.data, cert.len, MODE_CERT, ei)) !=
                        QERR_OK ||
                    (rc = put_file(&o, "chain.pem", chainb.data, chainb.len, MODE_CERT, ei)) !=
                        QERR_OK ||
                    (rc = put_file(&o, "fullchain.pem", full.data, full.len, MODE_CERT, ei)) !=
                        QERR_OK)
                        goto out;
                if (in->key) {
                        if ((rc = pki_key_to_pem(in->key, NULL, &key, ei)) != QERR_OK ||
                            (rc = put_file(&o, "key.pem", key.data, key.len, MODE_KEY, ei)) !=
                                QERR_OK)
                                goto out;
                }
                break;
        case BUNDLE_NGINX:
                if ((rc = pki_cert_pem(leaf, &full, ei)) != QERR_OK ||
                    (rc = append_certs(&full, chain, true, ei)) != QERR_OK ||
                    (rc = pki_key_to_pem(in->key, NULL, &key, ei)) != QERR_OK)
                        goto out;
                snprintf(name, sizeof name, "%s.crt", base);
                if ((rc = put_file(&o, name, full.data, full.len, MODE_CERT, ei)) != QERR_OK)
                        goto out;
                snprintf(name, sizeof name, "%s.key", base);
                if ((rc = put_file(&o, name, key.data, key.len, MODE_KEY, ei)) != QERR_OK)
                        goto out;
                break;
        case BUNDLE_APACHE:
                if ((rc = pki_cert_pem(leaf, &cert, ei)) != QERR_OK ||
                    (rc = append_certs(&chainb, chain, true, ei)) != QERR_OK ||
                    (rc = pki_key_to_pem(in->key, NULL, &key, ei)) != QERR_OK)
                        goto out;
                snprintf(name, sizeof name, "%s.crt", base);
                if ((rc = put_file(&o, name, cert.data, cert.len, MODE_CERT, ei)) != QERR_OK)
                        goto out;
                snprintf(name, sizeof name, "%s.chain.crt", base);
                if ((rc = put_file(&o, name, chainb.data, chainb.len, MODE_CERT, ei)) != QERR_OK)
                        goto out;
                snprintf(name, sizeof name, "%s.key", base);
                if ((rc = put_file(&o, name, key.data, key.len, MODE_KEY, ei)) != QERR_OK)
                        goto out;
                break;
        case BUNDLE_IIS:
        case BUNDLE_TOMCAT:
                snprintf(name, sizeof name, "%s.%s", base, f == BUNDLE_IIS ? "pfx" : "p12");
                rc = write_pkcs12(&o, name, in, leaf, chain, ei);
                break;
        default:
                rc = qerr_set(ei, QERR_FORMAT_INVALID, NULL);
                break;
        }
out:
        outset_finish(&o, rc != QERR_OK);
        qbuf_free(&cert);
        qbuf_free(&chainb);
        qbuf_free(&full);
        qbuf_free(&key);
        sk_X509_pop_free(chain, X509_free);
        X509_free(leaf);
        return rc;
}

enum qerr pki_bundle_write(enum bundle_format f, const struct bundle_input *in, const char *outdir,
                           struct qbuf *written, struct qerr_info *ei)
{
        return bundle_make(f, in, outdir, written, NULL, ei);
}

enum qerr pki_bundle_build(enum bundle_format f, const struct bundle_input *in, struct filebag *out,
                           struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        enum qerr rc = bundle_make(f, in, NULL, NULL, out, ei);
        if (rc != QERR_OK)
                filebag_free(out);
        return rc;
}
