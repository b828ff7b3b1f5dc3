/*
 * svc_ocsp_sign.c - the OCSP refresher's signing half: delegated responder
 * certificates (made by the signer, recorded with their event) and batches
 * of responses (signed by the signer, stored in one transaction per batch).
 *
 * A batch is as many responses as fit one signer message: its answer holds
 * one OCSPResponse per entry, each carrying the responder certificate, so
 * the count follows the certificate's size (at most
 * SIGNER_MAX_OCSP_ENTRIES).
 *
 * Threads: the engine's thread only (see svc_ocsp_int.h).
 */
#include "svc_ocsp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/hex.h"
#include "../base/log.h"
#include "../base/metrics.h"
#include "../pki/pki_pem.h"

#define RESPONSE_OVERHEAD 1024 /* a response beside its responder certificate, generously */

bool svc_ocsp_responder_due(qtime_t now, qtime_t not_after, qtime_t validity)
{
        /* every response signed now must end before the responder does */
        return now + validity + OCSP_RESPONDER_MARGIN > not_after;
}

void svc_ocsp_ca_clear(struct ocsp_ca *ca)
{
        free(ca->der);
        free(ca->responder_der);
        memset(ca, 0, sizeof *ca);
}

static pid_t signer_now(struct service *s)
{
        struct signer *sg;
        struct qerr_info ei;
        return svc_signer(s, &sg, &ei) == QERR_OK ? signer_pid(sg) : 0;
}

/* Records a new responder: its row and its event, in one transaction. */
static enum qerr store_responder(struct ocsp_engine *e, struct ocsp_ca *ca,
                                 const struct signer_resp *resp, struct qerr_info *ei)
{
        struct service *s = e->svc;
        X509 *x = NULL;
        enum qerr rc = pki_cert_read(resp->der.p, resp->der.len, &x, ei);
        if (rc != QERR_OK)
                return rc;
        struct ocsp_responder_row row = {.ca_id = ca->id, .created_at = qtime_now()};
        pki_cert_serial_hex(x, row.serial, sizeof row.serial);
        row.not_before = pki_time_to_unix(X509_get0_notBefore(x));
        row.not_after = pki_time_to_unix(X509_get0_notAfter(x));
        X509_free(x);
        row.der = (uint8_t *)resp->der.p;
        row.der_len = resp->der.len;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                return rc;
        rc = ST(s)->ops->ocsp_responder_insert(ST(s), &row, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, QUILL_TENANT_SYSTEM, "ocsp_responder", row.id, NULL, "issued",
                               "OCSP responder of CA %lld, serial %s, valid until %lld",
                               (long long)ca->id, row.serial, (long long)row.not_after);
        if (rc == QERR_OK)
                rc = ST(s)->ops->commit(ST(s), ei);
        else
                svc_abort(s, rc);
        if (rc != QERR_OK)
                return rc;
        uint8_t *copy = malloc(resp->der.len);
        if (!copy)
                return qerr_set(ei, QERR_NOMEM, NULL);
        memcpy(copy, resp->der.p, resp->der.len);
        free(ca->responder_der);
        ca->responder_der = copy;
        ca->responder_len = resp->der.len;
        ca->responder_id = row.id;
        ca->responder_not_after = row.not_after;
        ca->responder_broken = false;
        qlog_info("OCSP responder ready", "ca=%lld responder=%lld serial=%s not_after=%lld",
                  (long long)ca->id, (long long)row.id, row.serial, (long long)row.not_after);
        metrics_count("quill_ocsp_responders_created_total",
                      "Delegated OCSP responder certificates made.", 1, NULL);
        return QERR_OK;
}

enum qerr svc_ocsp_responder_ready(struct ocsp_engine *e, struct ocsp_ca *ca, qtime_t now,
                                   struct qerr_info *ei)
{
        pid_t pid = signer_now(e->svc);
        if (ca->responder_id && !ca->responder_broken && pid && pid == ca->responder_pid &&
            !svc_ocsp_responder_due(now, ca->responder_not_after, e->validity))
                return QERR_OK;
        struct signer *sg;
        enum qerr rc = svc_signer(e->svc, &sg, ei);
        if (rc != QERR_OK)
                return rc;
        struct qbuf frame;
        qbuf_init(&frame, MAX_SIGNER_MSG_BYTES);
        struct signer_req req = {.type = SMSG_CREATE_RESPONDER};
        struct signer_resp resp;
        req.issuer_der.p = ca->der;
        req.issuer_der.len = ca->der_len;
        req.not_before = now - OCSP_RESPONDER_BACKDATE;
        req.not_after = now + e->responder_span;
        rc = signer_call(sg, &req, &frame, &resp, ei);
        if (rc == QERR_OK) {
                ca->responder_pid = signer_pid(sg);
                rc = store_responder(e, ca, &resp, ei);
        }
        qbuf_free(&frame);
        return rc;
}

/* ---- batches ---- */

static bool serial_bytes(const char *hex, uint8_t out[20], size_t *len)
{
        char tmp[42];
        if (strlen(hex) % 2) {
                snprintf(tmp, sizeof tmp, "0%s", hex);
                hex = tmp;
        }
        return hex_decode(hex, out, 20, len) && *len > 0;
}

static bool row_revoked(const struct ocsp_cert_row *r)
{
        return r->revoked_at > 0 && (r->status == CERT_REVOKED || r->status == CERT_DELETED);
}

/* Whether the row gets an answer at all at `now`. */
static bool row_answered(const struct ocsp_cert_row *r, qtime_t now)
{
        return r->not_after > now && (r->status != CERT_DELETED || row_revoked(r));
}

static size_t batch_size(const struct ocsp_ca *ca)
{
        size_t per = ca->responder_len + RESPONSE_OVERHEAD;
        size_t n = (MAX_SIGNER_MSG_BYTES - 4096) / per;
        if (n > SIGNER_MAX_OCSP_ENTRIES)
                n = SIGNER_MAX_OCSP_ENTRIES;
        return n ? n : 1;
}

/* Signs rows[0..n) (all of CA `ca`, all answered) and stores the
 * responses in one transaction. */
static enum qerr sign_batch(struct ocsp_engine *e, struct ocsp_ca *ca,
                            const struct ocsp_cert_row *const *rows, size_t n, qtime_t now,
                            struct qerr_info *ei)
{
        struct service *s = e->svc;
        struct signer *sg;
        enum qerr rc = svc_signer(s, &sg, ei);
        if (rc != QERR_OK)
                return rc;
        struct ocsp_entry_wire *w = calloc(n, sizeof *w);
        uint8_t(*serials)[20] = calloc(n, sizeof *serials);
        struct qbuf frame;
        qbuf_init(&frame, MAX_SIGNER_MSG_BYTES);
        struct signer_resp resp; /* 4 KiB: the OCSP answers' pointers */
        if (!w || !serials) {
                rc = qerr_set(ei, QERR_NOMEM, NULL);
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                size_t len;
                if (!serial_bytes(rows[i]->serial, serials[i], &len)) {
                        rc = qerr_set(ei, QERR_STORE, "stored serial %s is not hex",
                                      rows[i]->serial);
                        goto out;
                }
                w[i].serial.p = serials[i];
                w[i].serial.len = len;
                if (row_revoked(rows[i])) {
                        w[i].status = OCSP_WIRE_REVOKED;
                        w[i].revoked_at = rows[i]->revoked_at;
                        w[i].reason = rows[i]->revoke_reason > 0 ? rows[i]->revoke_reason : 0;
                }
        }
        struct signer_req req = {.type = SMSG_SIGN_OCSP, .ocsp = w, .nocsp = n};
        req.issuer_der.p = ca->der;
        req.issuer_der.len = ca->der_len;
        req.responder_der.p = ca->responder_der;
        req.responder_der.len = ca->responder_len;
        req.this_update = now;
        req.next_update = now + e->validity;
        rc = signer_call(sg, &req, &frame, &resp, ei);
        req.ocsp = NULL; /* ours */
        if (rc == QERR_SIGNER_REFUSED || rc == QERR_SIGNER_UNAVAILABLE)
                ca->responder_broken = true; /* a new signer, or a responder it does not know */
        if (rc == QERR_OK && resp.nocsp != n)
                rc = qerr_set(ei, QERR_PROTO, "the signer answered %zu OCSP responses for %zu",
                              resp.nocsp, n);
        if (rc != QERR_OK)
                goto out;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                goto out;
        for (size_t i = 0; rc == QERR_OK && i < n; i++) {
                struct ocsp_response_row row = {
                    .ca_id = ca->id,
                    .cert_id = rows[i]->cert_id,
                    .revoked = w[i].status == OCSP_WIRE_REVOKED,
                    .responder_id = ca->responder_id,
                    .this_update = req.this_update,
                    .next_update = req.next_update,
                    .refresh_at = req.this_update + e->validity / 2,
                    .der = (uint8_t *)resp.ocsp[i].p,
                    .der_len = resp.ocsp[i].len,
                };
                snprintf(row.serial, sizeof row.serial, "%s", rows[i]->serial);
                bool stored;
                rc = ST(s)->ops->ocsp_response_put(ST(s), &row, &stored, ei);
        }
        if (rc == QERR_OK)
                rc = ST(s)->ops->commit(ST(s), ei);
        else
                svc_abort(s, rc);
        if (rc == QERR_OK) {
                e->signed_total += n;
                metrics_count("quill_ocsp_responses_signed_total",
                              "OCSP responses signed (new, changed and refreshed).", (double)n,
                              NULL);
        }
out:
        qbuf_free(&frame);
        free(w);
        free(serials);
        return rc;
}

static struct ocsp_ca *find_ca(struct ocsp_engine *e, int64_t id)
{
        for (size_t i = 0; i < e->ncas; i++)
                if (e->cas[i].id == id)
                        return &e->cas[i];
        return NULL;
}

/* Deletes the stored answers of rows that get none any more. */
static enum qerr drop_unanswered(struct ocsp_engine *e, const struct ocsp_cert_row *rows, size_t n,
                                 qtime_t now, struct qerr_info *ei)
{
        struct store *st = ST(e->svc);
        bool any = false;
        for (size_t i = 0; i < n && !any; i++)
                any = !row_answered(&rows[i], now);
        if (!any)
                return QERR_OK;
        enum qerr rc = st->ops->begin(st, ei);
        for (size_t i = 0; rc == QERR_OK && i < n; i++)
                if (!row_answered(&rows[i], now))
                        rc = st->ops->ocsp_response_delete(st, rows[i].ca_id, rows[i].serial, ei);
        if (rc == QERR_OK)
                return st->ops->commit(st, ei);
        return svc_abort(e->svc, rc);
}

/* A CA's signing failed: log it (once per run of failures) and wait. */
static void ca_failed(struct ocsp_ca *ca, qtime_t now, enum qerr rc, const struct qerr_info *ei)
{
        if (ca->failures++ == 0) {
                char emsg[QERR_MSG_MAX + 8];
                qlog_error("OCSP signing failed", "ca=%lld code=%s detail=%s", (long long)ca->id,
                           qerr_code(rc), qlog_escape(qerr_message(ei), emsg, sizeof emsg));
        }
        qtime_t wait = (qtime_t)1 << (ca->failures < 9 ? ca->failures : 9);
        ca->retry_at = now + (wait < OCSP_CA_BACKOFF_MAX ? wait : OCSP_CA_BACKOFF_MAX);
        ca->rescan = true;
}

/* The rows of one CA (all answered), in batches that fit one signer
 * message. */
static enum qerr sign_ca(struct ocsp_engine *e, struct ocsp_ca *ca,
                         const struct ocsp_cert_row **pick, size_t k, qtime_t now,
                         struct qerr_info *ei)
{
        enum qerr rc = svc_ocsp_responder_ready(e, ca, now, ei);
        size_t per = batch_size(ca);
        for (size_t off = 0; rc == QERR_OK && off < k; off += per)
                rc = sign_batch(e, ca, pick + off, k - off < per ? k - off : per, now, ei);
        return rc;
}

void svc_ocsp_rotate_due(struct ocsp_engine *e, qtime_t now)
{
        for (size_t i = 0; i < e->ncas; i++) {
                struct ocsp_ca *ca = &e->cas[i];
                if (!ca->responder_id || now < ca->retry_at)
                        continue;
                struct qerr_info ei;
                qerr_clear(&ei);
                enum qerr rc = svc_ocsp_responder_ready(e, ca, now, &ei);
                if (rc != QERR_OK)
                        ca_failed(ca, now, rc, &ei);
        }
}

void svc_ocsp_responders_ready(struct ocsp_engine *e, qtime_t now)
{
        for (size_t i = 0; i < e->ncas; i++) {
                struct qerr_info ei;
                qerr_clear(&ei);
                enum qerr rc = svc_ocsp_responder_ready(e, &e->cas[i], now, &ei);
                if (rc != QERR_OK)
                        ca_failed(&e->cas[i], now, rc, &ei);
        }
}

enum qerr svc_ocsp_sign_rows(struct ocsp_engine *e, const struct ocsp_cert_row *rows, size_t n,
                             qtime_t now, size_t *done, struct qerr_info *ei)
{
        *done = 0;
        if (n == 0)
                return QERR_OK;
        enum qerr rc = drop_unanswered(e, rows, n, now, ei);
        const struct ocsp_cert_row **pick = calloc(n, sizeof *pick);
        if (rc == QERR_OK && !pick)
                rc = qerr_set(ei, QERR_NOMEM, NULL);
        for (size_t c = 0; rc == QERR_OK && c < e->ncas; c++) {
                struct ocsp_ca *ca = &e->cas[c];
                size_t k = 0;
                for (size_t i = 0; i < n; i++)
                        if (rows[i].ca_id == ca->id && row_answered(&rows[i], now))
                                pick[k++] = &rows[i];
                if (k == 0)
                        continue;
                if (now < ca->retry_at) {
                        ca->rescan = true; /* waiting: the scan brings these back */
                        continue;
                }
                struct qerr_info cei;
                qerr_clear(&cei);
                enum qerr crc = sign_ca(e, ca, pick, k, now, &cei);
                if (crc != QERR_OK) {
                        ca_failed(ca, now, crc, &cei);
                        continue;
                }
                if (ca->failures)
                        qlog_info("OCSP signing works again", "ca=%lld after=%d", (long long)ca->id,
                                  ca->failures);
                ca->failures = 0;
                ca->retry_at = 0;
                if (ca->rescan) {
                        ca->rescan = false;
                        e->scan_done = false; /* what it missed meanwhile */
                        e->scan_cursor = 0;
                }
        }
        free(pick);
        if (rc == QERR_OK) {
                /* rows of CAs this engine does not know (made after its last
                 * look) wait for the next CA check */
                size_t unknown = 0;
                for (size_t i = 0; i < n; i++)
                        unknown += !find_ca(e, rows[i].ca_id) && row_answered(&rows[i], now);
                if (unknown)
                        e->next_ca_check = 0;
                *done = n - unknown;
        }
        return rc;
}
