/*
 * signer_crl.c - signing CRLs in the signer process: a session of frames
 * (signer_proto.h, docs/internals/crl.md) that never holds the CRL, with the
 * checks the signer makes whatever the main process asks (BR 4.9.7, 7.2):
 *
 *  - CRL_BEGIN: the issuer is a CA whose key is here; the CRL number is at
 *    least 1 and above the signer's own high-water mark for that CA (kept in
 *    <key_dir>/<key-id>.crlnumber, decimal); thisUpdate near now, nextUpdate
 *    after it and at most 10 days later; the distribution point a plain
 *    http(s) URL; an announced size that can exist. The signer builds the
 *    TBSCertList head (version, algorithm, issuer, times, list header) and
 *    tail (AKI, cRLNumber, the critical IDP) itself, lints them (the lint
 *    gate: the same bytes on a CRL without entries, signed with a throwaway
 *    key, through the full CRL linter) and starts the real signature over
 *    the head.
 *  - CRL_ENTRIES: each entry in exactly the canonical DER
 *    (pki_crl_entry_parse), with a reason the BR allow (never
 *    certificateHold (6) or removeFromCRL (8); cACompromise only on a
 *    root's CRL), a revocation date not after thisUpdate, and the linter's
 *    entry rules; then the frame is hashed as it is.
 *  - CRL_FINISH: what was announced arrived; the mark is checked again, the
 *    tail hashed, the CRL signed once, and the mark written and fsync'd
 *    (file and directory) before the answer leaves the signer.
 *
 * A number at or below the mark is refused with crl_number_not_increasing,
 * the mark travelling back in the answer so that the service can move its
 * own counter past it (a rolled-back transaction must not wedge CRLs). Any
 * refusal ends the session: nothing is signed.
 *
 * Single-threaded (the signer process).
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "../base/fsutil.h"
#include "../base/log.h"
#include "../base/qtime.h"
#include "../pki/pki_crl.h"
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

/* The number must pass the mark on disk (*mark receives it). */
static enum qerr check_mark(struct signer_state *st, const char *key_id, int64_t number,
                            int64_t *mark, struct qerr_info *ei)
{
        char path[PATH_MAX + 160];
        signer_crl_mark_path(st, key_id, path, sizeof path);
        enum qerr rc = read_mark(path, mark, ei);
        if (rc == QERR_OK && number <= *mark) {
                st->err_crl_number = *mark;
                rc = qerr_set(ei, QERR_CRL_NUMBER_STALE,
                              "CRL number %lld is not above %lld, the last one this signer "
                              "signed for CA key %.16s...",
                              (long long)number, (long long)*mark, key_id);
        }
        return rc;
}

/* BR 7.2.2 (RFC 5280 5.3.1 narrowed): never certificateHold or
 * removeFromCRL, only CRLReason values, and cACompromise only on a root's
 * CRL (its entries are CA certificates). 0: no reasonCode (unspecified is
 * left out). The linter's entry rules stand behind this. */
static enum qerr check_reason(int reason, bool root_issuer, struct qerr_info *ei)
{
        if (reason == 6)
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "the CRL reason certificateHold (6) is not allowed (BR 7.2.2)");
        if (reason == 8)
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "the CRL reason removeFromCRL (8) is not allowed (BR 7.2.2)");
        if (reason < 0 || reason > 10 || reason == 7)
                return qerr_set(ei, QERR_SIGNER_REFUSED, "CRL reason %d is not a CRLReason",
                                reason);
        if (reason == 2 && !root_issuer)
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "the CRL reason cACompromise (2) belongs on a root's CRL only "
                                "(BR 7.2.2)");
        return QERR_OK;
}

enum qerr signer_check_reason(int64_t reason, struct qerr_info *ei)
{
        if (reason < 0 || reason > 10)
                return qerr_set(ei, QERR_SIGNER_REFUSED, "CRL reason %lld is not a CRLReason",
                                (long long)reason);
        return check_reason((int)reason, true, ei);
}

void signer_crl_end(struct signer_state *st)
{
        struct crl_session *c = &st->crl;
        EVP_MD_CTX_free(c->md);
        qbuf_free(&c->head);
        qbuf_free(&c->tail);
        qbuf_free(&c->sigalg);
        memset(c, 0, sizeof *c);
}

static bool is_root(X509 *x)
{
        return X509_check_issued(x, x) == X509_V_OK;
}

static enum qerr ok_answer(struct qbuf *out, struct qerr_info *ei)
{
        struct signer_resp ok = {.type = SMSG_OK};
        return signer_encode_resp(&ok, out) ? QERR_OK : qerr_set(ei, QERR_NOMEM, NULL);
}

enum qerr signer_crl_begin(struct signer_state *st, const struct signer_req *r, struct qbuf *out,
                           struct qerr_info *ei)
{
        struct crl_session *c = &st->crl;
        signer_crl_end(st); /* a session left open by a failed client ends here */
        X509 *issuer = NULL;
        EVP_PKEY *ikey = NULL;
        char idp[SIGNER_MAX_URL + 1] = "";
        enum qerr rc = signer_load_issuer(st, r->issuer_der, &issuer, ei);
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
        /* an entry takes at least 17 bytes (SEQUENCE, INTEGER, UTCTime) */
        if (r->entry_count < 0 || r->entries_len < 0 || r->entries_len < 17 * r->entry_count ||
            r->entries_len > (int64_t)1 << 40 || (r->entry_count == 0) != (r->entries_len == 0)) {
                rc = qerr_set(ei, QERR_SIGNER_REFUSED, "the announced CRL size is impossible");
                goto out;
        }
        if (!sbytes_cstr(r->crl_url, idp, sizeof idp)) {
                rc = qerr_set(ei, QERR_SIGNER_REFUSED, "bad distribution point URL");
                goto out;
        }
        if ((rc = signer_issuer_key(st, issuer, &ikey, ei)) != QERR_OK)
                goto out;
        int64_t mark = 0;
        if ((rc = pki_key_id(X509_get0_pubkey(issuer), c->key_id, ei)) != QERR_OK ||
            (rc = check_mark(st, c->key_id, r->crl_number, &mark, ei)) != QERR_OK)
                goto out;
        qbuf_init(&c->head, 32 * 1024);
        qbuf_init(&c->tail, 4096);
        qbuf_init(&c->sigalg, 256);
        c->md = pki_sign_ctx(ikey);
        if (!c->md) {
                rc = qerr_set(ei, QERR_INTERNAL, "could not start the CRL signature");
                goto out;
        }
        struct pki_crl_params p = {.number = r->crl_number,
                                   .this_update = r->this_update,
                                   .next_update = r->next_update,
                                   .idp_url = idp,
                                   .entries_len = (uint64_t)r->entries_len};
        if ((rc = pki_crl_tbs_parts(issuer, c->md, &p, &c->head, &c->tail, &c->sigalg, ei)) !=
            QERR_OK)
                goto out;
        /* the lint gate (issue 7): the header and trailer as DER through the
         * CRL linter, the number above the mark */
        struct lint_crl_opts lo = {
            .prev_number = mark > 0 ? mark : -1,
            .private_ca = pki_key_is_sm2(ikey),
            .issuer_der = r->issuer_der.p,
            .issuer_len = r->issuer_der.len,
        };
        struct pki_lint_gate gate = {.crl = &lo};
        if ((rc = signer_gate_key(st, ikey, &gate.lint_key, ei)) != QERR_OK ||
            (rc = pki_crl_gate_header(issuer, &gate, &p, &c->head, &c->tail, &c->sigalg, ei)) !=
                QERR_OK)
                goto out;
        if (EVP_DigestSignUpdate(c->md, c->head.data, c->head.len) != 1) {
                rc = qerr_set(ei, QERR_INTERNAL, "could not hash the CRL");
                goto out;
        }
        c->active = true;
        c->root_issuer = is_root(issuer);
        c->number = r->crl_number;
        c->this_update = r->this_update;
        c->next_update = r->next_update;
        c->want_len = (uint64_t)r->entries_len;
        c->want_count = (uint64_t)r->entry_count;
        rc = ok_answer(out, ei);
out:
        X509_free(issuer);
        ERR_clear_error();
        if (rc != QERR_OK)
                signer_crl_end(st);
        return rc;
}

enum qerr signer_crl_entries(struct signer_state *st, const struct signer_req *r, struct qbuf *out,
                             struct qerr_info *ei)
{
        struct crl_session *c = &st->crl;
        if (!c->active)
                return qerr_set(ei, QERR_PROTO, "CRL entries outside a CRL session");
        enum qerr rc = QERR_OK;
        size_t off = 0;
        while (rc == QERR_OK && off < r->entries.len) {
                struct pki_crl_entry e;
                size_t used = 0;
                rc = pki_crl_entry_parse(r->entries.p + off, r->entries.len - off, &used, &e, ei);
                if (rc != QERR_OK)
                        break;
                if ((rc = check_reason(e.reason, c->root_issuer, ei)) != QERR_OK)
                        break;
                if (e.revoked_at > c->this_update + MAX_FORWARD)
                        rc = qerr_set(ei, QERR_SIGNER_REFUSED,
                                      "a revocation date lies after the CRL's thisUpdate");
                else if (++c->got_count > c->want_count)
                        rc = qerr_set(ei, QERR_SIGNER_REFUSED, "more CRL entries than announced");
                else
                        rc = pki_crl_gate_entry(&e, ei); /* the linter's entry rules */
                off += used;
        }
        c->got_len += r->entries.len;
        if (rc == QERR_OK && c->got_len > c->want_len)
                rc = qerr_set(ei, QERR_SIGNER_REFUSED, "more CRL entry bytes than announced");
        if (rc == QERR_OK && EVP_DigestSignUpdate(c->md, r->entries.p, r->entries.len) != 1)
                rc = qerr_set(ei, QERR_INTERNAL, "could not hash the CRL");
        if (rc == QERR_OK)
                rc = ok_answer(out, ei);
        if (rc != QERR_OK)
                signer_crl_end(st);
        return rc;
}

enum qerr signer_crl_finish(struct signer_state *st, struct qbuf *out, struct qerr_info *ei)
{
        struct crl_session *c = &st->crl;
        if (!c->active)
                return qerr_set(ei, QERR_PROTO, "CRL finish outside a CRL session");
        enum qerr rc = QERR_OK;
        unsigned char sig[1024];
        size_t siglen = sizeof sig;
        char path[PATH_MAX + 160];
        int64_t mark = 0;
        signer_crl_mark_path(st, c->key_id, path, sizeof path);
        if (c->got_len != c->want_len || c->got_count != c->want_count)
                rc = qerr_set(ei, QERR_SIGNER_REFUSED,
                              "the CRL entries received differ from those announced");
        /* again: another process's signer may have signed for this CA since
         * BEGIN (the service's write lock makes that rare, not impossible) */
        else if ((rc = check_mark(st, c->key_id, c->number, &mark, ei)) != QERR_OK)
                ;
        else if (EVP_DigestSignUpdate(c->md, c->tail.data, c->tail.len) != 1 ||
                 EVP_DigestSignFinal(c->md, sig, &siglen) != 1)
                rc = qerr_set(ei, QERR_INTERNAL, "could not sign the CRL");
        /* the mark is on disk before the CRL leaves the signer */
        else
                rc = write_mark(path, c->number, ei);
        if (rc == QERR_OK) {
                struct signer_resp resp = {.type = SMSG_OK};
                resp.crl_head.p = c->head.data;
                resp.crl_head.len = c->head.len;
                resp.crl_tail.p = c->tail.data;
                resp.crl_tail.len = c->tail.len;
                resp.sig_alg.p = c->sigalg.data;
                resp.sig_alg.len = c->sigalg.len;
                resp.signature.p = sig;
                resp.signature.len = siglen;
                if (!signer_encode_resp(&resp, out))
                        rc = qerr_set(ei, QERR_INTERNAL, "CRL answer too large");
                else
                        qlog_info("CRL signed", "number=%lld entries=%llu bytes=%llu",
                                  (long long)c->number, (unsigned long long)c->got_count,
                                  (unsigned long long)c->got_len);
        }
        ERR_clear_error();
        signer_crl_end(st);
        return rc;
}
