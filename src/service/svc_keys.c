/*
 * svc_keys.c - blocked keys (issue 7): a key reported compromised is never
 * certified again, for any tenant.
 *
 * A key is named by the SHA-256 of its DER SubjectPublicKeyInfo (lower-case
 * hex), kept on every certificate row (certificates.spki_sha256, indexed) so
 * that the certificates of a key are found at once. A key gets blocked:
 *  - by a revocation with reason keyCompromise (svc_key_compromise_tx, at
 *    the end of every revocation transaction): every other unexpired
 *    certificate of the same tenant with that key is revoked with it (and
 *    its reissues), in the same transaction, onto the same new CRLs; the
 *    tenant's uploaded certificates with it (not ours to revoke) and other
 *    tenants' certificates with it get an event in their owner's log
 *    ("key_compromised" / "key_compromised_elsewhere"): another tenant's
 *    word does not revoke a certificate, only its owner or a proof of
 *    possession of the key does;
 *  - by a proof of possession of the key (service_revoke_by_key_proof, for
 *    ACME's revokeCert signed with the certificate key): every tenant's
 *    certificates with it are revoked;
 *  - by the operator (service_blocked_key_add, `quill blocked-keys add`):
 *    nothing is revoked, every owner of a certificate with it is told.
 * A blocked key is refused with key_blocked wherever a key enters: a CSR
 * (sign, orders, reissue), an upload, a key the service generates (checked
 * in issue_one, svc_issue.c); a certificate signed outside the transaction
 * that stores it is checked again inside it (svc_key_recheck_tx) and, when
 * its key was blocked meanwhile, stored revoked.
 *
 * The signer refuses only CA keys as subscriber keys (its own check); the
 * blocked list lives in the database and is checked here, before the
 * signer is asked.
 *
 * Certificates stored before migration 009 have no hash (NULL): SQLite
 * cannot hash a PEM, so svc_spki_backfill() computes them, at open and
 * inside every key-compromise transaction before a lookup by key ('-'
 * marks a row whose certificate cannot be read).
 *
 * Same threading rules as service.h.
 */
#include "service_internal.h"

#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/hex.h"
#include "../base/log.h"
#include "../pki/pki_csr.h"
#include "../pki/pki_pem.h"

#define BACKFILL_BATCH 200

static bool spki_ok(const char *spki)
{
        return spki && strlen(spki) == 64;
}

/* ---- checks ---- */

enum qerr svc_key_blocked(struct service *s, const char *spki, struct qerr_info *ei)
{
        struct blocked_key_rec k;
        struct qerr_info le;
        if (!spki_ok(spki))
                return QERR_OK;
        enum qerr rc = ST(s)->ops->blocked_key_get(ST(s), spki, &k, &le);
        if (rc == QERR_NOT_FOUND)
                return QERR_OK;
        if (rc != QERR_OK)
                return qerr_set(ei, rc, "%s", qerr_message(&le));
        char when[40];
        qtime_fmt(k.blocked_at, when, sizeof when);
        /* who reported it is not told: it may be another tenant */
        return qerr_set(ei, QERR_KEY_BLOCKED,
                        "this public key (SHA-256 of its SubjectPublicKeyInfo %s) was reported "
                        "compromised on %s, and no certificate may carry it any more; generate a "
                        "new key pair (and a new CSR) and try again",
                        spki, when);
}

enum qerr svc_key_check(struct service *s, EVP_PKEY *k, char *spki, struct qerr_info *ei)
{
        char h[65];
        enum qerr rc = pki_key_id(k, h, ei);
        if (rc != QERR_OK)
                return rc;
        if (spki)
                memcpy(spki, h, sizeof h);
        return svc_key_blocked(s, h, ei);
}

enum qerr svc_csr_key_check(struct service *s, const void *csr, size_t len, struct qerr_info *ei)
{
        struct csr_info ci;
        memset(&ci, 0, sizeof ci);
        if (!csr || pki_csr_parse(csr, len, &ci, NULL) != QERR_OK) {
                csr_info_clear(&ci);
                return QERR_OK; /* refused where it is used, with its own code */
        }
        enum qerr rc = svc_key_check(s, ci.key, NULL, ei);
        csr_info_clear(&ci);
        return rc;
}

/* ---- certificates' key hashes ---- */

/* The hash of a stored certificate's key, or "-" when it cannot be read. */
static void cert_spki(const char *pem, char out[65])
{
        X509 *x = NULL;
        snprintf(out, 65, "-");
        if (pem && pki_cert_read(pem, strlen(pem), &x, NULL) == QERR_OK) {
                EVP_PKEY *k = X509_get0_pubkey(x);
                if (!k || pki_key_id(k, out, NULL) != QERR_OK)
                        snprintf(out, 65, "-");
        }
        X509_free(x);
}

enum qerr svc_spki_backfill(struct service *s, bool own_tx, struct qerr_info *ei)
{
        size_t total = 0;
        for (;;) {
                int64_t *ids = NULL;
                size_t n = 0;
                enum qerr rc = ST(s)->ops->cert_spki_missing(ST(s), BACKFILL_BATCH, &ids, &n, ei);
                if (rc != QERR_OK || n == 0) {
                        free(ids);
                        if (total)
                                qlog_info("certificate key hashes filled in", "certificates=%zu",
                                          total);
                        return rc;
                }
                if (own_tx && (rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK) {
                        free(ids);
                        return rc;
                }
                for (size_t i = 0; rc == QERR_OK && i < n; i++) {
                        struct cert_rec *c = NULL;
                        char h[65] = "-";
                        struct qerr_info ge;
                        if (ST(s)->ops->cert_get(ST(s), 0, ids[i], &c, &ge) == QERR_OK)
                                cert_spki(c->cert_pem, h);
                        cert_rec_free(c);
                        rc = ST(s)->ops->cert_set_spki(ST(s), ids[i], h, ei);
                }
                free(ids);
                if (own_tx)
                        rc = rc == QERR_OK ? ST(s)->ops->commit(ST(s), ei) : svc_abort(s, rc);
                if (rc != QERR_OK)
                        return rc;
                total += n;
        }
}

/* ---- a key compromised: block, revoke, tell ---- */

static bool key_seen(const struct revoke_run *run, const char *spki, int64_t scope)
{
        for (size_t i = 0; i < run->nkeys; i++)
                if (!strcmp(run->keys[i].spki, spki) &&
                    (run->keys[i].scope == scope || run->keys[i].scope == 0))
                        return true;
        return false;
}

static enum qerr key_mark(struct revoke_run *run, const char *spki, int64_t scope,
                          struct qerr_info *ei)
{
        if (run->nkeys == run->capkeys) {
                size_t cap = run->capkeys ? run->capkeys * 2 : 4;
                struct compromised_key *v = realloc(run->keys, cap * sizeof *v);
                if (!v)
                        return qerr_set(ei, QERR_NOMEM, NULL);
                run->keys = v;
                run->capkeys = cap;
        }
        snprintf(run->keys[run->nkeys].spki, sizeof run->keys[0].spki, "%s", spki);
        run->keys[run->nkeys++].scope = scope;
        return QERR_OK;
}

/* A pending revocation of `c` (DV proof of control, OV/EV letter review)
 * that a key compromise overtakes: it fails as superseded, its proof order
 * is cancelled and its review closed, so that `c` can be revoked now. */
static enum qerr supersede_pending(struct service *s, struct cert_rec *c, const char *why,
                                   struct qerr_info *ei)
{
        int64_t rev = 0, order = 0, review = 0;
        qtime_t now = qtime_now();
        enum qerr rc = ST(s)->ops->revocation_pending_of(ST(s), c->id, &rev, &order, ei);
        if (rc == QERR_NOT_FOUND)
                return QERR_OK;
        if (rc == QERR_OK)
                rc = ST(s)->ops->revocation_finish(ST(s), rev, "failed", now, ei);
        if (rc == QERR_OK)
                rc = svc_event(s, c->tenant_id, "revocation", rev, "pending", "failed",
                               "superseded: %s", why);
        if (rc == QERR_OK && order) {
                struct order_rec *o = NULL;
                rc = ST(s)->ops->order_get(ST(s), 0, order, &o, ei);
                if (rc == QERR_OK && o->status != ORDER_ISSUED && o->status != ORDER_FAILED &&
                    o->status != ORDER_CANCELLED) {
                        char msg[300];
                        snprintf(msg, sizeof msg, "superseded: %s", why);
                        rc = svc_order_finish(s, o, ORDER_CANCELLED, QERR_OK, msg, ei);
                }
                order_rec_free(o);
        }
        char reason[300];
        snprintf(reason, sizeof reason, "superseded: %s", why);
        if (rc == QERR_OK)
                rc = ST(s)->ops->review_close_revocation(ST(s), rev, "rejected", s->who.name,
                                                         reason, now, &review, ei);
        if (rc == QERR_OK && review)
                rc = svc_event(s, c->tenant_id, "review", review, "pending", "rejected", "%s",
                               reason);
        return rc;
}

/* What a compromised key does, inside the caller's transaction: blocks it
 * (`blk`, its source), then for every certificate that carries it: revokes
 * it when it was issued here and its tenant is `scope` (0: any tenant; -1:
 * none), else tells its owner. `why` says what happened, for the events. */
static enum qerr compromise_key(struct service *s, struct revoke_run *run,
                                struct blocked_key_rec *blk, int64_t scope, const char *why,
                                bool *added, size_t *told, struct qerr_info *ei)
{
        bool add = false;
        struct cert_rec **v = NULL;
        size_t n = 0;
        /* the revocation this follows from (blocked_key_add may fill blk with
         * an older row of the same key) */
        const int64_t trigger = blk->revocation_id;
        enum qerr rc = key_mark(run, blk->spki_sha256, scope, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->blocked_key_add(ST(s), blk, &add, ei);
        if (rc == QERR_OK && add)
                rc = svc_event(s, blk->tenant_id ? blk->tenant_id : s->who.tenant_id, "blocked_key",
                               blk->id, NULL, "blocked", "key %s blocked for every tenant: %s",
                               blk->spki_sha256, blk->reason[0] ? blk->reason : why);
        if (added)
                *added = add;
        /* every certificate row must have its hash before the lookup */
        if (rc == QERR_OK)
                rc = svc_spki_backfill(s, false, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->cert_by_spki(ST(s), blk->spki_sha256, qtime_now(), &v, &n, ei);
        for (size_t i = 0; rc == QERR_OK && i < n; i++) {
                struct cert_rec *c = v[i];
                const char *from = cert_status_name(c->status);
                bool ours = scope == 0 || c->tenant_id == scope;
                if (c->origin == ORIGIN_ISSUED && scope >= 0 && ours) {
                        if (c->status == CERT_REVOCATION_PENDING)
                                rc = supersede_pending(s, c, why, ei);
                        if (rc == QERR_OK)
                                rc = svc_revoke_into(s, c, REASON_KEY_COMPROMISE, 0, trigger, why,
                                                     run, ei);
                        continue;
                }
                if (told)
                        (*told)++;
                if (scope > 0 && !ours)
                        /* another tenant's word: its owner decides (or a
                         * proof of possession); who reported it stays
                         * unnamed */
                        rc = svc_event(s, c->tenant_id, "certificate", c->id, from,
                                       "key_compromised_elsewhere",
                                       "a certificate of another account with the same key was "
                                       "revoked for key compromise; new certificates with this "
                                       "key are refused. Revoke this one (reason keyCompromise) "
                                       "and move to a new key");
                else
                        rc = svc_event(s, c->tenant_id, "certificate", c->id, from,
                                       "key_compromised",
                                       "the private key of this certificate was reported "
                                       "compromised (%s); new certificates with this key are "
                                       "refused. %s",
                                       why,
                                       c->origin == ORIGIN_UPLOADED
                                           ? "Ask its issuer to revoke it, and move to a new key"
                                           : "Revoke it (reason keyCompromise) and move to a new "
                                             "key");
        }
        store_free_certs(v, n);
        return rc;
}

/* Fills the key hash of run items stored before migration 009. */
static enum qerr run_spki(struct service *s, struct revoked_item *it, struct qerr_info *ei)
{
        if (it->spki[0])
                return QERR_OK;
        struct cert_rec *c = NULL;
        enum qerr rc = svc_spki_backfill(s, false, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->cert_get(ST(s), 0, it->cert_id, &c, ei);
        if (rc == QERR_OK)
                snprintf(it->spki, sizeof it->spki, "%s", c->spki_sha256);
        cert_rec_free(c);
        return rc;
}

enum qerr svc_key_compromise_tx(struct service *s, struct revoke_run *run, struct qerr_info *ei)
{
        enum qerr rc = QERR_OK;
        /* the run grows while this works through it (cascades revoke more) */
        for (; rc == QERR_OK && run->kc_done < run->n; run->kc_done++) {
                struct revoked_item it = run->v[run->kc_done];
                if (it.reason != REASON_KEY_COMPROMISE)
                        continue;
                if ((rc = run_spki(s, &it, ei)) != QERR_OK)
                        break;
                if (!spki_ok(it.spki) || key_seen(run, it.spki, it.tenant_id))
                        continue;
                char why[200];
                snprintf(why, sizeof why,
                         "certificate %lld with the same key was revoked for key compromise "
                         "(revocation %lld)",
                         (long long)it.cert_id, (long long)it.rev_id);
                struct blocked_key_rec blk = {.blocked_at = qtime_now(),
                                              .revocation_id = it.rev_id,
                                              .tenant_id = it.tenant_id};
                snprintf(blk.spki_sha256, sizeof blk.spki_sha256, "%s", it.spki);
                snprintf(blk.source, sizeof blk.source, "revocation");
                snprintf(blk.blocked_by, sizeof blk.blocked_by, "%s", s->who.name);
                snprintf(blk.reason, sizeof blk.reason,
                         "certificate %lld revoked for key compromise", (long long)it.cert_id);
                rc = compromise_key(s, run, &blk, it.tenant_id, why, NULL, NULL, ei);
        }
        return rc;
}

enum qerr svc_key_recheck_tx(struct service *s, struct cert_rec *c, bool *blocked,
                             struct qerr_info *ei)
{
        *blocked = false;
        struct blocked_key_rec k;
        struct qerr_info le;
        if (!spki_ok(c->spki_sha256) || c->origin != ORIGIN_ISSUED)
                return QERR_OK;
        enum qerr rc = ST(s)->ops->blocked_key_get(ST(s), c->spki_sha256, &k, &le);
        if (rc == QERR_NOT_FOUND)
                return QERR_OK;
        if (rc != QERR_OK)
                return qerr_set(ei, rc, "%s", qerr_message(&le));
        struct revoke_run run;
        memset(&run, 0, sizeof run);
        rc = svc_revoke_into(s, c, REASON_KEY_COMPROMISE, 0, 0,
                             "revoked at once: its key was reported compromised while it was "
                             "being signed",
                             &run, ei);
        if (rc == QERR_OK)
                rc = svc_revoke_finish(s, &run, ei);
        svc_revoke_run_free(&run);
        if (rc == QERR_OK) {
                *blocked = true;
                qlog_warn("certificate revoked at once: its key was blocked while it was signed",
                          "cert=%lld spki=%s", (long long)c->id, c->spki_sha256);
        }
        return rc;
}

/* ---- the operator's block ---- */

static bool text_ok(const char *t, size_t max)
{
        if (!t)
                return true;
        if (strlen(t) > max)
                return false;
        for (const char *p = t; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

/* The key hash of what the request names. */
static enum qerr request_spki(const struct block_key_req *r, char out[65], struct qerr_info *ei)
{
        int given = !!r->spki_sha256 + !!r->cert + !!r->key;
        if (given != 1)
                return qerr_set(ei, QERR_USAGE,
                                "give exactly one of --spki-sha256 HEX, --cert FILE and --key "
                                "FILE");
        if (r->spki_sha256) {
                if (!hex_sha256_parse(r->spki_sha256, out))
                        return qerr_set(ei, QERR_USAGE,
                                        "--spki-sha256 takes the SHA-256 of the key's DER "
                                        "SubjectPublicKeyInfo as exactly 64 hex digits (%zu "
                                        "characters were given, or a character is not a hex "
                                        "digit)",
                                        strlen(r->spki_sha256));
                return QERR_OK;
        }
        EVP_PKEY *k = NULL;
        X509 *x = NULL;
        enum qerr rc;
        if (r->cert) {
                rc = pki_cert_read(r->cert, r->cert_len, &x, ei);
                if (rc == QERR_OK && !(k = X509_get_pubkey(x)))
                        rc = qerr_set(ei, QERR_PEM_INVALID,
                                      "the certificate's public key could "
                                      "not be read");
        } else {
                rc = pki_key_from_pem(r->key, r->key_len, r->key_password, &k, ei);
                if (rc == QERR_KEY_INVALID &&
                    pki_pubkey_read(r->key, r->key_len, &k, NULL) == QERR_OK)
                        rc = QERR_OK;
                else if (rc == QERR_KEY_INVALID)
                        rc = qerr_set(ei, QERR_KEY_INVALID,
                                      "the file is not a private key (PEM: PKCS#8, encrypted "
                                      "PKCS#8 or traditional) nor a public key (PEM PUBLIC KEY "
                                      "or DER SubjectPublicKeyInfo)");
        }
        if (rc == QERR_OK)
                rc = pki_key_id(k, out, ei);
        EVP_PKEY_free(k);
        X509_free(x);
        return rc;
}

enum qerr service_blocked_key_add(struct service *s, const struct block_key_req *r,
                                  struct blocked_key_rec *out, bool *added, size_t *told,
                                  struct qerr_info *ei)
{
        char spki[65];
        bool add = false;
        size_t n_told = 0;
        enum qerr rc = svc_require(s, SVC_ADMIN, "block keys", ei);
        if (rc == QERR_OK && !text_ok(r->reason, BLOCKED_REASON_MAX))
                rc = qerr_set(ei, QERR_USAGE,
                              "the reason has at most %d characters and no control characters",
                              BLOCKED_REASON_MAX);
        if (rc == QERR_OK)
                rc = request_spki(r, spki, ei);
        if (rc != QERR_OK)
                return rc;
        struct blocked_key_rec blk = {.blocked_at = qtime_now()};
        snprintf(blk.spki_sha256, sizeof blk.spki_sha256, "%s", spki);
        snprintf(blk.source, sizeof blk.source, "manual");
        snprintf(blk.blocked_by, sizeof blk.blocked_by, "%s", s->who.name);
        snprintf(blk.reason, sizeof blk.reason, "%s", r->reason ? r->reason : "");
        char why[300];
        snprintf(why, sizeof why, "the operator blocked the key%s%s", r->reason ? ": " : "",
                 r->reason ? r->reason : "");
        struct revoke_run run;
        memset(&run, 0, sizeof run);
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                return rc;
        rc = compromise_key(s, &run, &blk, -1, why, &add, &n_told, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->commit(ST(s), ei);
        else
                svc_abort(s, rc);
        svc_revoke_run_free(&run);
        if (rc != QERR_OK)
                return rc;
        qlog_info("key blocked", "spki=%s by=%s new=%d told=%zu", spki, s->who.name, add, n_told);
        if (out)
                *out = blk;
        if (added)
                *added = add;
        if (told)
                *told = n_told;
        return QERR_OK;
}

enum qerr service_blocked_key_list(struct service *s, int64_t before_id, size_t limit,
                                   struct blocked_key_rec **out, size_t *n, bool *more,
                                   struct qerr_info *ei)
{
        enum qerr rc = svc_require(s, SVC_ADMIN, "list blocked keys", ei);
        if (rc != QERR_OK)
                return rc;
        return ST(s)->ops->blocked_key_page(ST(s), before_id, limit, out, n, more, ei);
}

/* ---- a proof of possession ---- */

/* The statement must be KEY_PROOF_PREFIX, the key's hash, and a time within
 * KEY_PROOF_WINDOW seconds of now, each line ended by "\n". */
static enum qerr check_statement(const struct key_proof_req *r, const char *spki, qtime_t now,
                                 struct qerr_info *ei)
{
        char text[256];
        if (!r->statement || r->statement_len >= sizeof text ||
            memchr(r->statement, 0, r->statement_len))
                return qerr_set(ei, QERR_KEY_PROOF_INVALID,
                                "the statement is missing, too long or holds a NUL byte");
        memcpy(text, r->statement, r->statement_len);
        text[r->statement_len] = 0;
        size_t pl = strlen(KEY_PROOF_PREFIX);
        if (strncmp(text, KEY_PROOF_PREFIX, pl) != 0 || strncmp(text + pl, spki, 64) != 0 ||
            text[pl + 64] != '\n')
                return qerr_set(ei, QERR_KEY_PROOF_INVALID,
                                "the statement is not \"quill key-compromise v1\", then the "
                                "SHA-256 of this key's SubjectPublicKeyInfo (%s), each on a line "
                                "of its own",
                                spki);
        const char *t = text + pl + 65;
        long long when = 0;
        int digits = 0;
        for (; *t >= '0' && *t <= '9' && digits < 15; t++, digits++)
                when = when * 10 + (*t - '0');
        if (digits == 0 || strcmp(t, "\n") != 0)
                return qerr_set(ei, QERR_KEY_PROOF_INVALID,
                                "the statement's third line must be the time of signing in Unix "
                                "seconds");
        if (when < now - KEY_PROOF_WINDOW || when > now + KEY_PROOF_WINDOW)
                return qerr_set(ei, QERR_KEY_PROOF_INVALID,
                                "the statement was signed for %lld, more than %d seconds from "
                                "now (%lld); sign a fresh one",
                                when, KEY_PROOF_WINDOW, (long long)now);
        return QERR_OK;
}

enum qerr service_revoke_by_key_proof(struct service *s, const struct key_proof_req *r,
                                      struct key_proof_out *out, struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        EVP_PKEY *k = NULL;
        char spki[65];
        qtime_t now = qtime_now();
        enum qerr rc = svc_require(s, SVC_USER | SVC_ADMIN, "report a key compromise", ei);
        if (rc == QERR_OK)
                rc = pki_pubkey_read(r->spki_der, r->spki_len, &k, ei);
        if (rc == QERR_OK)
                rc = pki_key_id(k, spki, ei);
        if (rc == QERR_OK)
                rc = check_statement(r, spki, now, ei);
        if (rc == QERR_OK && (!r->signature || !pki_verify(k, r->statement, r->statement_len,
                                                           r->signature, r->signature_len)))
                rc = qerr_set(ei, QERR_KEY_PROOF_INVALID,
                              "the signature does not verify with this key (ECDSA and SM2: DER "
                              "signatures; RSA: PKCS#1 v1.5 with SHA-256)");
        EVP_PKEY_free(k);
        if (rc != QERR_OK)
                return rc;
        return svc_key_proved_compromised(s, spki, out, ei);
}

enum qerr svc_key_proved_compromised(struct service *s, const char *spki, struct key_proof_out *out,
                                     struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        qtime_t now = qtime_now();
        enum qerr rc;
        struct blocked_key_rec blk = {.blocked_at = now};
        snprintf(blk.spki_sha256, sizeof blk.spki_sha256, "%s", spki);
        snprintf(blk.source, sizeof blk.source, "key_proof");
        snprintf(blk.blocked_by, sizeof blk.blocked_by, "%s", s->who.name);
        snprintf(blk.reason, sizeof blk.reason, "the key holder proved possession");
        struct revoke_run run;
        memset(&run, 0, sizeof run);
        bool added = false;
        size_t told = 0;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                return rc;
        rc = compromise_key(s, &run, &blk, 0,
                            "the holder of its private key proved possession of it and reported "
                            "it compromised",
                            &added, &told, ei);
        if (rc == QERR_OK)
                rc = svc_revoke_finish(s, &run, ei);
        if (rc == QERR_OK)
                rc = ST(s)->ops->commit(ST(s), ei);
        else
                svc_abort(s, rc);
        if (rc == QERR_OK) {
                out->nrevoked = run.n;
                out->ntold = told;
                out->newly_blocked = added;
                snprintf(out->spki_sha256, sizeof out->spki_sha256, "%s", spki);
                qlog_info("key compromise proved", "spki=%s revoked=%zu by=%s", spki, run.n,
                          s->who.name);
        }
        svc_revoke_run_free(&run);
        return rc;
}
