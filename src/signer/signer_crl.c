/*
 * signer_crl.c - signing CRLs in the signer process, with the checks the
 * signer makes whatever the main process asks (BR 4.9.7, 7.2):
 *
 *  - nextUpdate at most 10 days after thisUpdate; thisUpdate near now;
 *  - reason codes are CRLReason values other than certificateHold (6),
 *    removeFromCRL (8) and the unused 7 (BR 7.2.2 forbids the first two);
 *  - the CRL number increases: the signer keeps its own high-water mark per
 *    issuing CA in <key_dir>/<key-id>.crlnumber (decimal), written and
 *    fsync'd (file and directory) before the CRL leaves the signer. A number
 *    at or below the mark is refused with crl_number_not_increasing, the
 *    mark travelling back in the answer so that the service can move its
 *    own counter past it (a rolled-back transaction must not wedge CRLs).
 *
 * Single-threaded (the signer process).
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "../base/fsutil.h"
#include "../base/qtime.h"
#include "../pki/pki_issue.h"
#include "../pki/pki_key.h"
#include "signer_internal.h"

void signer_crl_mark_path(const struct signer_state *st, const char *key_id, char *out,
                          size_t outsz)
{
        snprintf(out, outsz, "%s/%s.crlnumber", st->key_dir, key_id);
}

/* The high-water mark (0 when there is none yet). */
static enum qerr read_mark(const char *path, int64_t *out, struct qerr_info *ei)
{
        *out = 0;
        if (!fs_exists(path))
                return QERR_OK;
        struct qbuf b;
        qbuf_init(&b, 64);
        enum qerr rc = fs_read_file(path, &b, ei);
        if (rc == QERR_OK) {
                char *end = NULL;
                errno = 0;
                long long v = b.len ? strtoll(qbuf_str(&b), &end, 10) : -1;
                if (errno || v < 0 || !end || (*end && strcmp(end, "\n") != 0))
                        rc = qerr_set(ei, QERR_IO,
                                      "the CRL number record %s is damaged; it must hold the "
                                      "last CRL number signed for this CA",
                                      path);
                else
                        *out = (int64_t)v;
        }
        qbuf_free(&b);
        return rc;
}

static enum qerr write_mark(const char *path, int64_t n, struct qerr_info *ei)
{
        char text[32];
        int len = snprintf(text, sizeof text, "%lld\n", (long long)n);
        return fs_write_file(path, text, (size_t)len, 0600, false, ei);
}

enum qerr signer_check_reason(int64_t reason, struct qerr_info *ei)
{
        if (reason == 6)
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "the CRL reason certificateHold (6) is not allowed (BR 7.2.2)");
        if (reason == 8)
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "the CRL reason removeFromCRL (8) is not allowed (BR 7.2.2)");
        if (reason < 0 || reason > 10 || reason == 7)
                return qerr_set(ei, QERR_SIGNER_REFUSED, "CRL reason %lld is not a CRLReason",
                                (long long)reason);
        return QERR_OK;
}

static enum qerr encode_crl(X509_CRL *crl, struct qbuf *out, struct qerr_info *ei)
{
        unsigned char *der = NULL;
        int n = i2d_X509_CRL(crl, &der);
        if (n <= 0)
                return qerr_set(ei, QERR_INTERNAL, "could not encode the CRL");
        struct signer_resp resp = {.type = SMSG_OK};
        resp.der.p = der;
        resp.der.len = (size_t)n;
        enum qerr rc = QERR_OK;
        if (!signer_encode_resp(&resp, out))
                rc = qerr_set(ei, QERR_INTERNAL, "CRL too large for one message");
        OPENSSL_free(der);
        return rc;
}

enum qerr signer_sign_crl(struct signer_state *st, const struct signer_req *r, struct qbuf *out,
                          struct qerr_info *ei)
{
        X509 *issuer = NULL;
        X509_CRL *crl = NULL;
        EVP_PKEY *ikey = NULL;
        struct crl_item *items = NULL;
        enum qerr rc = signer_load_issuer(r->issuer_der, &issuer, ei);
        if (rc != QERR_OK)
                return rc;
        qtime_t now = qtime_now();
        if (r->crl_number < 1 || r->this_update < now - MAX_BACKDATE ||
            r->this_update > now + MAX_FORWARD || r->next_update <= r->this_update ||
            r->next_update - r->this_update > MAX_CRL_SPAN) {
                rc = qerr_set(ei, QERR_SIGNER_REFUSED,
                              "CRL number or update times outside the profile");
                goto out;
        }
        for (size_t i = 0; i < r->nentries; i++)
                if ((rc = signer_check_reason(r->entries[i].reason, ei)) != QERR_OK)
                        goto out;
        if ((rc = signer_issuer_key(st, issuer, &ikey, ei)) != QERR_OK)
                goto out;
        char id[65], mark_path[PATH_MAX + 160];
        if ((rc = pki_key_id(X509_get0_pubkey(issuer), id, ei)) != QERR_OK)
                goto out;
        signer_crl_mark_path(st, id, mark_path, sizeof mark_path);
        int64_t mark = 0;
        if ((rc = read_mark(mark_path, &mark, ei)) != QERR_OK)
                goto out;
        if (r->crl_number <= mark) {
                st->err_crl_number = mark;
                rc = qerr_set(ei, QERR_CRL_NUMBER_STALE,
                              "CRL number %lld is not above %lld, the last one this signer "
                              "signed for CA key %.16s...",
                              (long long)r->crl_number, (long long)mark, id);
                goto out;
        }
        items = calloc(r->nentries ? r->nentries : 1, sizeof *items);
        if (!items) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto out;
        }
        for (size_t i = 0; i < r->nentries; i++) {
                items[i].serial = r->entries[i].serial.p;
                items[i].serial_len = r->entries[i].serial.len;
                items[i].revoked_at = r->entries[i].revoked_at;
                items[i].reason = (int)r->entries[i].reason;
        }
        /* linted as DER before the real signature (issue 7); the number must
         * pass the on-disk mark, which the linter checks too */
        struct lint_crl_opts lo = {
            .prev_number = mark > 0 ? mark : -1,
            .private_ca = pki_key_is_sm2(ikey),
            .issuer_der = r->issuer_der.p,
            .issuer_len = r->issuer_der.len,
        };
        struct pki_lint_gate gate = {.crl = &lo};
        if ((rc = signer_gate_key(st, ikey, &gate.lint_key, ei)) != QERR_OK)
                goto out;
        if ((rc = pki_issue_crl_gated(issuer, ikey, r->crl_number, r->this_update, r->next_update,
                                      items, r->nentries, &gate, &crl, ei)) != QERR_OK)
                goto out;
        /* the mark is on disk before the CRL leaves the signer */
        if ((rc = write_mark(mark_path, r->crl_number, ei)) != QERR_OK)
                goto out;
        rc = encode_crl(crl, out, ei);
out:
        free(items);
        X509_CRL_free(crl);
        X509_free(issuer);
        return rc;
}
