/*
 * service.h - the application core: the only place where state changes.
 *
 * Front doors (CLI, HTTP) decode a request, call one function here, and
 * encode what it returns. Each function gathers facts from the store, asks
 * src/policy whether the change may happen, asks the signer for signatures,
 * and writes the change together with its event rows in one store
 * transaction. Nothing here parses HTTP or JSON.
 *
 * A `struct service` owns one store handle and (started on first need) one
 * signer process; it is used by one thread at a time. Records returned are
 * owned by the caller (cert_rec_free, ca_rec_free, store_free_*).
 */
#ifndef QUILL_SERVICE_H
#define QUILL_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/config.h"
#include "../base/err.h"
#include "../base/filebag.h"
#include "../base/model.h"
#include "../caa/caa.h"
#include "../pki/lint.h"
#include "../store/store.h"

struct service;

struct service_opts {
        const char *data_dir;
        const struct qconfig *cfg;
        const char *actor; /* who acts, for events: "cli:alice", "http" */
        /* on whose behalf; NULL: the local operator in tenant 'default' (an
         * admin of every tenant, with access to stored keys) */
        const struct principal *who;
};

/* Process-wide set-up of the libraries the service uses (libcurl); call
 * once from main() before any thread starts. */
enum qerr service_global_init(struct qerr_info *ei);

/* ---- start-up (main thread, before any thread exists) ---- */
/* The CA passphrase: read from $QUILL_CA_PASSPHRASE (else [ca]
 * passphrase_file) into a locked page, and scrubbed from the environment
 * block (/proc/<pid>/environ) at once. Call from main() right after the
 * configuration is loaded. NULL only when memory ran out. The caller frees
 * it (wiping it) with service_secret_free. */
struct ca_secret;
struct ca_secret *service_secret_take(const struct qconfig *cfg);
/* Takes QUILL_DATA_KEY (when set) out of the environment into the
 * process's memory, for every service handle; call once in main() before
 * any thread exists. A malformed value is reported when the key is used. */
void service_take_env_data_key(void);
void service_secret_free(struct ca_secret *s);

struct service_boot {
        const char *data_dir;
        const struct qconfig *cfg;
        const char *actor;
        struct ca_secret *secret; /* borrowed; wiped once handed over, unless kept */
        bool create;              /* make the data directory when it is missing */
        bool keep_for_restart;    /* keep the passphrase (locked) to restart the signer */
        bool warn_root;           /* log a warning when running as root without [server] user */
        bool no_signer;           /* a command that never signs: no signer process */
        bool no_recover;          /* skip the start-up reconciliation (serve and `quill recover`
                                     run it themselves) */
};
/* Every command that opens the data directory: makes it (with `create`),
 * gives the data and key directories to [server] user and [signer] user
 * when started as root, starts the signer process and hands it the
 * passphrase, drops to [server] user, then opens the store (svc_boot.c).
 * A command with a signer then recovers (service_recover: two-phase
 * issuance's reconciliation, abandoned reissues) unless `no_recover`; a
 * failure there is logged, not fatal (the next command tries again). */
enum qerr service_boot_open(const struct service_boot *b, struct service **out,
                            struct qerr_info *ei);
/* quill serve's main loop: restarts a dead signer when allowed; false when
 * it is dead and cannot be started again (user separation: the process
 * that could start it dropped its privileges). */
bool service_signer_check(struct service *s);

/* Opens the store in data_dir (which must exist), without a signer: for
 * handles that never sign or borrow a signer (workers). */
enum qerr service_open(const struct service_opts *o, struct service **out, struct qerr_info *ei);
void service_close(struct service *s);
/* Acts on behalf of `p` from now on (a request thread sets this per request). */
void service_set_principal(struct service *s, const struct principal *p);
const struct principal *service_principal(const struct service *s);

/* ---- tenants and API keys (issue 6) ---- */
/* The principal of a bearer token: a valid (not revoked) API key, the
 * secret compared in constant time. QERR_UNAUTHORIZED otherwise, with one
 * sentence for every failure (which part was wrong is not told). */
enum qerr service_authenticate(struct service *s, const char *token, struct principal *out,
                               struct qerr_info *ei);
/* The local operator acting in tenant `name` (the CLI's --tenant). */
enum qerr service_local_principal(struct service *s, const char *tenant, const char *actor,
                                  struct principal *out, struct qerr_info *ei);
enum qerr service_tenant_create(struct service *s, const char *name, struct tenant_rec *out,
                                struct qerr_info *ei);
enum qerr service_tenant_list(struct service *s, struct tenant_rec **out, size_t *n,
                              struct qerr_info *ei);
#define QUILL_TOKEN_MAX 96
/* Creates a key for tenant `tenant` (NULL: the principal's own) with
 * `role`; `token` receives the secret token, shown once (wipe it after use). */
enum qerr service_key_create(struct service *s, const char *tenant, enum role role,
                             const char *label, struct apikey_rec *out, char token[QUILL_TOKEN_MAX],
                             struct qerr_info *ei);
/* tenant NULL: every key (admin) */
enum qerr service_key_list(struct service *s, const char *tenant, struct apikey_rec **out,
                           size_t *n, struct qerr_info *ei);
enum qerr service_key_revoke(struct service *s, int64_t id, struct apikey_rec *out,
                             struct qerr_info *ei);

/* The audit log: a page of events of the principal's tenant (admin: all). */
enum qerr service_event_list(struct service *s, const struct event_query *q, struct event_rec **out,
                             size_t *n, bool *more, struct qerr_info *ei);
/* Checks that this handle has its signer (service_boot_open started it). */
enum qerr service_start_signer(struct service *s, struct qerr_info *ei);

/* Two-phase issuance (issue 7, svc_reconcile.c): makes the signer's
 * journal and the store agree. Every journaled certificate the store lacks
 * (and no live process is storing) is stored where its reservation says,
 * with the event "recovered" (revoked at once when what it was for no
 * longer wants it: docs/rules.md); every abandoned reservation the journal
 * does not hold is made void; journal files whose certificates are all
 * stored are deleted. Needs the handle's signer (a handle without one has
 * nothing to do). `out` (may be NULL) receives the counts. */
struct reconcile_stats {
        size_t journaled;       /* records in the signer's journal */
        size_t recovered;       /* stored from the journal */
        size_t revoked;         /* of those, stored revoked */
        size_t voided;          /* reservations never signed, made void */
        size_t pending;         /* reserved or journaled by live processes, left to them */
        size_t trimmed;         /* journal files handed back for deletion */
        size_t reissues_failed; /* abandoned reissues failed (service_recover) */
};
enum qerr service_reconcile(struct service *s, struct reconcile_stats *out, struct qerr_info *ei);

/* Reconciles (service_reconcile), then fails work that a dead process left
 * in progress (see svc_recover.c). `out` may be NULL. */
enum qerr service_recover_stats(struct service *s, struct reconcile_stats *out,
                                struct qerr_info *ei);
enum qerr service_recover(struct service *s, struct qerr_info *ei);

/* ---- CAs ---- */
struct ca_init_req {
        const char *root_alg;    /* NULL: ec384, or sm2 when issuing_alg is sm2 */
        const char *issuing_alg; /* NULL: ec256 */
        const char *subject;     /* NULL: "CN=Quill Local CA" */
};
/* Creates a root (or reuses the one of that key type) and an issuing CA,
 * and their first CRLs. `out` receives the issuing CA record. */
enum qerr service_ca_init(struct service *s, const struct ca_init_req *r, struct ca_rec **out,
                          struct qerr_info *ei);
enum qerr service_ca_list(struct service *s, struct ca_rec ***out, size_t *n, struct qerr_info *ei);
enum qerr service_ca_get(struct service *s, int64_t id, struct ca_rec **out, struct qerr_info *ei);

/* ---- issuing ---- */
struct sign_req {
        const uint8_t *csr;
        size_t csr_len;
        enum cert_profile profile;
        long days; /* 0: the longest the profile allows today */
        /* non-NULL: also record a private order for the certificate (the
         * REST API's POST /orders) and return it here */
        struct order_rec **order;
};
enum qerr service_cert_sign(struct service *s, const struct sign_req *r, struct cert_rec **out,
                            struct qerr_info *ei);

struct apply_req {
        const char *const *names;
        size_t nnames;
        const char *key_alg;      /* "ec256", ... */
        const char *key_password; /* NULL: stored under the data key */
        enum cert_profile profile;
        long days;
        struct order_rec **order; /* as in sign_req */
};
enum qerr service_cert_apply(struct service *s, const struct apply_req *r, struct cert_rec **out,
                             struct qerr_info *ei);

/* A page of certificates (q->tenant is replaced by the principal's scope). */
enum qerr service_cert_list(struct service *s, const struct cert_query *q, struct cert_rec ***out,
                            size_t *n, bool *more, struct qerr_info *ei);
/* A certificate and its events (events may be NULL when not wanted). */
enum qerr service_cert_get(struct service *s, int64_t id, struct cert_rec **out,
                           struct event_rec **events, size_t *nevents, struct qerr_info *ei);

/* ---- life cycle ---- */
/* Revokes `id` and every certificate reissued from it in one transaction
 * that also queues the CRL jobs of their partitions (service_crl_flush or
 * the workers make the CRLs after the commit). A DV certificate is first proved again
 * (RULES.md §5): the revocation stays pending, with a proof order
 * (`proof_order`) whose names must be validated within 3 days. An OV/EV
 * certificate needs its signed letter and a reviewer's approval
 * (`review_id`). */
struct revoke_req {
        int64_t id;
        int reason;
        const char *method;    /* DV proof: "dns" (default) or "file" */
        const uint8_t *letter; /* OV/EV: the signed letter (JPG, PNG, PDF) */
        size_t letter_len;
};
struct revoke_out {
        int64_t *revoked; /* caller frees */
        size_t nrevoked;
        int64_t proof_order; /* DV: the order to validate; 0 otherwise */
        int64_t review_id;   /* OV/EV: the review of the letter; 0 otherwise */
};
enum qerr service_cert_revoke(struct service *s, const struct revoke_req *r, struct revoke_out *out,
                              struct qerr_info *ei);

enum reissue_csr { REISSUE_SAME_CSR, REISSUE_PASTED_CSR, REISSUE_NEW_KEY };
struct reissue_req {
        int64_t id;
        enum reissue_csr csr_source;
        const uint8_t *csr; /* REISSUE_PASTED_CSR */
        size_t csr_len;
        const char *key_alg;      /* REISSUE_NEW_KEY */
        const char *key_password; /* REISSUE_NEW_KEY, optional */
        const char *reason;
        const char *method; /* when the names must be validated again: dns|file */
};
/* A reissue that must validate the names again (a public certificate, a new
 * CSR, more than 3 days old) does not finish at once: `out` is NULL and
 * `*proof_order` names the order to validate. */
enum qerr service_cert_reissue(struct service *s, const struct reissue_req *r,
                               struct cert_rec **out, int64_t *proof_order, struct qerr_info *ei);

enum qerr service_cert_delete(struct service *s, int64_t id, struct qerr_info *ei);

struct upload_req {
        const char *cert_pem;
        size_t cert_len;
        const char *key_pem;
        size_t key_len;
        const char *key_password;
        const char *chain_pem; /* may be NULL */
        size_t chain_len;
        /* out, optional: the lint findings of the uploaded certificate
         * (issue 7). They never refuse an upload (a third-party certificate
         * is its owner's business); front doors show them as warnings.
         * Initialised and freed by the caller (lint_report_init/free). */
        struct lint_report *lint;
};
enum qerr service_cert_upload(struct service *s, const struct upload_req *r, struct cert_rec **out,
                              struct qerr_info *ei);

struct download_req {
        int64_t id;
        const char *format; /* pem, nginx, apache, iis, tomcat */
        const char *outdir;
        const char *password;     /* PKCS#12 password */
        const char *key_password; /* to open a key stored under the user's password */
        struct filebag *bag;      /* non-NULL: the files go here, not to outdir */
};
/* Writes the files (or fills r->bag); `written` receives their paths, one
 * per line (unused with a bag). The private key is included only for the
 * local operator and user keys of the owning tenant. */
enum qerr service_cert_download(struct service *s, const struct download_req *r,
                                struct qbuf *written, struct qerr_info *ei);

/* ---- orders: public (DV/OV/EV) applications (RULES.md §2-§4) ---- */
struct org_fields { /* OV/EV organisation details, as the applicant gives them */
        const char *organization, *unit, *country, *state, *locality;
};

struct order_apply_req {
        const char *const *names; /* may be empty when csr is given: the CSR's names */
        size_t nnames;
        enum cert_profile profile; /* dv, ov, ev */
        const char *method;        /* "dns" or "file" */
        const char *key_alg;       /* generate the key ... */
        const char *key_password;
        const uint8_t *csr; /* ... or use this CSR */
        size_t csr_len;
        const struct org_fields *org; /* OV/EV */
        long days;
        bool paid; /* a paid certificate (free DV certificates reissue once) */
};
/* Creates an order in pending_validation with a challenge per name and
 * queues its validation. */
enum qerr service_order_apply(struct service *s, const struct order_apply_req *r,
                              struct order_rec **out, struct qerr_info *ei);
enum qerr service_order_get(struct service *s, int64_t id, struct order_rec **out,
                            struct qerr_info *ei);
enum qerr service_order_list(struct service *s, const struct order_query *q,
                             struct order_rec ***out, size_t *n, bool *more, struct qerr_info *ei);
enum qerr service_order_cancel(struct service *s, int64_t id, struct order_rec **out,
                               struct qerr_info *ei);
/* Runs the order's work once in the foreground (validation and CAA of each
 * name, then review or issuance), as a worker would; returns the order as
 * it stands afterwards. */
enum qerr service_order_validate(struct service *s, int64_t id, struct order_rec **out,
                                 struct qerr_info *ei);

/* ---- reviews (RULES.md §4) ---- */
/* status NULL: all reviews; "pending" for the queue */
enum qerr service_review_list(struct service *s, const char *status, struct review_rec **out,
                              size_t *n, struct qerr_info *ei);
enum qerr service_review_decide(struct service *s, int64_t id, bool approve, const char *reason,
                                struct review_rec *out, struct qerr_info *ei);

/* ---- workers of `quill serve` ---- */
struct workers;
/* Starts n threads that run due jobs; each opens its own store handle and
 * resolver and signs through `signer_owner`'s signer (start it first). */
enum qerr service_workers_start(const char *data_dir, const struct qconfig *cfg,
                                struct service *signer_owner, int n, struct workers **out,
                                struct qerr_info *ei);
/* Asks the workers to stop after their current job and joins them. */
void service_workers_stop(struct workers *w);
/* Wakes idle workers to look for due jobs now (any thread; a
 * service_set_job_wake function: pass the pool as its argument). */
void service_workers_wake(void *w);

/* ---- the daemon (issue 6) ---- */
/* Makes `dst` sign through `src`'s signer (start it first; `src` must
 * outlive `dst`): each request thread of `quill serve` opens its own handle
 * and shares the one signer process (its channel is locked per call). */
void service_borrow_signer(struct service *dst, struct service *src);

/* The certificate of the HTTPS listener, issued by this CA (svc_tls.c). */
struct api_tls_req {
        const char *const *names; /* [server] api_names: DNS names, localhost, IPs */
        size_t nnames;
        long days; /* validity of a new one (at most [profile] private_max_days) */
};
struct api_tls {
        char *chain_pem; /* leaf, then the issuing CA */
        char *key_pem;   /* PKCS#8 PEM, unencrypted */
        int64_t cert_id; /* the certificate row, when issued by this call */
        qtime_t not_after;
        qtime_t renew_at; /* when a third of the validity is left */
        bool issued;      /* issued now (else the files were reused) */
};
/* The pair in <data>/tls/api.pem and api.key, reused when it still fits
 * (our CA, these names, more than a third of its validity left), else
 * issued anew under the private profile (stored with its event, actor
 * "quill-serve:api-tls") and written there. QERR_CONFIG for names that may
 * not be certified. Clear `out` with api_tls_clear. */
enum qerr service_api_tls_get(struct service *s, const struct api_tls_req *r, struct api_tls *out,
                              struct qerr_info *ei);
void api_tls_clear(struct api_tls *t);
/* The same, with [server] api_cert_days; the caller frees both strings. */
enum qerr service_api_tls(struct service *s, const char *const *names, size_t n, char **chain_pem,
                          char **key_pem, struct qerr_info *ei);
/* Not-after of the first certificate of a PEM chain (for operator-given
 * certificates, to warn before they expire). */
enum qerr service_tls_chain_expiry(const char *chain_pem, qtime_t *not_after, struct qerr_info *ei);

/* ---- CAA (stateless: needs the configuration only, no data directory) ---- */
struct caa_check_req {
        const char *const *names;
        size_t nnames;
        const char *const *identities; /* NULL: [caa] identities */
        size_t nidentities;
        const char *account_uri; /* may be NULL */
        const char *method;      /* dns-01|http-01|tls-alpn-01|dns|file, or NULL */
        const char *resolver;    /* HOST:PORT override of [dns] resolver, or NULL */
};
/* Checks every name (out[i] for names[i]). QERR_OK when every check ran
 * (whatever the outcomes); QERR_USAGE/QERR_CONFIG for bad arguments. */
enum qerr service_caa_check(const struct qconfig *cfg, const struct caa_check_req *r,
                            struct caa_decision *out, struct qerr_info *ei);

/* ---- lint (issue 7; stateless: the configuration's profile maxima only) ---- */
struct lint_req {
        const uint8_t *data; /* a certificate, PEM (the first CERTIFICATE block) or DER */
        size_t len;
        bool guess_profile;        /* true: from its policy OIDs (lint.h) */
        enum cert_profile profile; /* when not guessed */
};
/* Lints the certificate into `out` (caller-initialised; free with
 * lint_report_free) and says which profile's rules applied. QERR_OK when it
 * was linted, whatever the findings; PEM_INVALID for bytes that are not a
 * certificate (truncated, another object). */
enum qerr service_lint_cert(const struct qconfig *cfg, const struct lint_req *r,
                            struct lint_report *out, enum cert_profile *profile_used,
                            struct qerr_info *ei);

/* ---- notifications (issue 6; docs/internals/notify.md) ---- */
/* Registers a webhook for the principal's tenant (user and admin keys).
 * The URL must be http(s) and its host public (WEBHOOK_URL_INVALID, unless
 * [notify] allow_private_addresses); the secret has 16 to 256 characters
 * (WEBHOOK_SECRET_INVALID) and is stored sealed under the data key. `out`
 * never holds the secret; clear it with webhook_rec_clear. */
enum qerr service_webhook_create(struct service *s, const char *url, const char *secret,
                                 struct webhook_rec *out, struct qerr_info *ei);
/* The active webhooks of the principal's tenant (admin: every tenant's),
 * without their secrets; free with store_free_webhooks. */
enum qerr service_webhook_list(struct service *s, struct webhook_rec **out, size_t *n,
                               struct qerr_info *ei);
/* Deletes a webhook (what was still to be sent to it is cancelled);
 * another tenant's is NOT_FOUND. `out` (optional) receives it. */
enum qerr service_webhook_delete(struct service *s, int64_t id, struct webhook_rec *out,
                                 struct qerr_info *ei);
/* A page of a webhook's delivery log (q->tenant is the principal's scope);
 * free with store_free_deliveries. */
enum qerr service_webhook_deliveries(struct service *s, const struct delivery_query *q,
                                     struct delivery_rec **out, size_t *n, bool *more,
                                     struct qerr_info *ei);
/* The email contacts of a tenant (NULL: the principal's; another one
 * needs an admin key): replaced by `emails` (at most 20 plain addresses,
 * CONTACT_INVALID), or read. `t` receives the tenant; the caller frees
 * the addresses with store_free_strings. */
enum qerr service_contacts_set(struct service *s, const char *tenant, const char *const *emails,
                               size_t n, struct tenant_rec *t, struct qerr_info *ei);
enum qerr service_contacts_get(struct service *s, const char *tenant, char ***emails, size_t *n,
                               struct tenant_rec *t, struct qerr_info *ei);

/* The notifier of `quill serve`: n threads, each with its own store handle
 * and resolver, that claim due deliveries from the outbox, send them
 * (webhook POST or email) and record each attempt, retrying with backoff;
 * one of them also runs the expiry scan every [notify]
 * expiry_scan_seconds. Deliveries a dead process held are taken back at
 * start (and any whose lease ended, every 30 s). */
struct notifier;
enum qerr service_notifier_start(const char *data_dir, const struct qconfig *cfg, int n,
                                 struct notifier **out, struct qerr_info *ei);
/* Asks the threads to stop after the delivery in hand and joins them. */
void service_notifier_stop(struct notifier *nt);
/* One expiry scan now (the notifier runs it periodically); *sent: how many
 * warnings were queued. */
enum qerr service_expiry_scan(struct service *s, qtime_t now, int *sent, struct qerr_info *ei);

/* ---- figures for /metrics ---- */
struct service_stats {
        int64_t jobs_queued, jobs_running;
};
enum qerr service_stats(struct service *s, struct service_stats *out, struct qerr_info *ei);

/* ---- blocked keys (issue 7, svc_keys.c) ---- */
/* A key reported compromised: a revocation with reason keyCompromise blocks
 * its key for every tenant (and revokes the tenant's other certificates
 * with it); these calls block a key by hand and list the blocked ones. */
struct block_key_req {
        /* exactly one of: */
        const char *spki_sha256; /* 64 hex digits: SHA-256 of the DER SubjectPublicKeyInfo */
        const uint8_t *cert;     /* a certificate (PEM or DER) */
        size_t cert_len;
        const uint8_t *key; /* a private key (PEM, key_password if encrypted) or public key */
        size_t key_len;
        const char *key_password;
        const char *reason; /* optional, at most BLOCKED_REASON_MAX characters */
};
/* Admin only (the local operator, admin keys). Blocks the key for every
 * tenant; certificates here that carry it are not revoked (that takes
 * their owner's revocation, or a proof of possession) but each owner gets
 * an event "key_compromised" on the certificate. Already blocked: QERR_OK,
 * *added false, `out` the existing row. `told` (may be NULL): how many
 * certificates' owners were told. */
enum qerr service_blocked_key_add(struct service *s, const struct block_key_req *r,
                                  struct blocked_key_rec *out, bool *added, size_t *told,
                                  struct qerr_info *ei);
/* Admin only: a page of blocked keys, newest first (before_id 0: from the
 * newest; limit 0: 100). Caller frees *out. */
enum qerr service_blocked_key_list(struct service *s, int64_t before_id, size_t limit,
                                   struct blocked_key_rec **out, size_t *n, bool *more,
                                   struct qerr_info *ei);

/* A revocation by proof of possession of a key (what an ACME revokeCert
 * signed with the certificate's key will call): whoever proves they hold
 * the private key has every unexpired certificate with that key revoked
 * (reason keyCompromise), in every tenant, and the key blocked. The proof
 * is a signature by the key over the statement
 *     "quill key-compromise v1\n<spki sha256 hex>\n<unix seconds>\n"
 * made within KEY_PROOF_WINDOW seconds of now (DER ECDSA/SM2 signatures
 * with SHA-256 for P-256, SHA-384 for P-384, SM3 for SM2; RSA PKCS#1 v1.5
 * with SHA-256). */
#define KEY_PROOF_PREFIX "quill key-compromise v1\n"
#define KEY_PROOF_WINDOW 300
struct key_proof_req {
        const uint8_t *spki_der; /* the key's SubjectPublicKeyInfo (DER or PEM) */
        size_t spki_len;
        const uint8_t *statement;
        size_t statement_len;
        const uint8_t *signature;
        size_t signature_len;
};
struct key_proof_out {
        size_t nrevoked;    /* certificates revoked (every tenant) */
        size_t ntold;       /* uploaded certificates whose owners were told */
        bool newly_blocked; /* false: the key was blocked already */
        char spki_sha256[65];
};
/* QERR_KEY_PROOF_INVALID when the signature or statement does not hold;
 * KEY_INVALID for a public key that does not parse. */
enum qerr service_revoke_by_key_proof(struct service *s, const struct key_proof_req *r,
                                      struct key_proof_out *out, struct qerr_info *ei);

/* ---- CRLs (docs/internals/crl.md) ---- */
/* Makes a fresh CRL for every partition of CA `ca_id` (0: of every CA):
 * the root's complete CRL, an issuing CA's unsharded CRL and each of its
 * shard CRLs. `out` (may be NULL; caller frees) describes each one. */
enum qerr service_crl_refresh_all(struct service *s, int64_t ca_id, struct crl_info **out,
                                  size_t *n, struct qerr_info *ei);
/* Makes the CRLs of the partitions this handle's revocations queued jobs
 * for (a command calls it after its commit and before it exits; jobs that
 * fail stay queued for `quill serve`). */
enum qerr service_crl_flush(struct service *s, struct qerr_info *ei);
/* Queues CRL jobs for every partition past half its CRL's lifetime (or
 * without a CRL), for the workers (quill serve's main loop). */
enum qerr service_crl_schedule_stale(struct service *s, struct qerr_info *ei);
/* The stored CRL of a partition (DER into `der` when not NULL; `info` when
 * not NULL). QERR_NOT_FOUND when there is none. */
enum qerr service_crl_get(struct service *s, int64_t ca_id, int shard, struct qbuf *der,
                          struct crl_info *info, struct qerr_info *ei);
/* The stored CRL of every partition of `ca_id` (0: every CA); caller frees. */
enum qerr service_crl_list(struct service *s, int64_t ca_id, struct crl_info **out, size_t *n,
                           struct qerr_info *ei);
/* The URL a partition is published at (as written into certificates). */
void service_crl_url(const struct service *s, int64_t ca_id, int shard, char *out, size_t sz);
/* HTTP caching of a served CRL: Cache-Control "public, max-age=<max_age>"
 * (bounded by nextUpdate), ETag, Last-Modified (thisUpdate), Expires
 * (nextUpdate). */
struct crl_http {
        long max_age;
        char etag[32];
        qtime_t last_modified, expires;
};
void service_crl_http(const struct crl_info *info, qtime_t now, struct crl_http *out);

/* A function the service calls (from the committing thread) after a
 * transaction that queued jobs commits: `quill serve` wakes its workers
 * with it instead of letting them find the jobs at their next poll. */
void service_set_job_wake(struct service *s, void (*fn)(void *arg), void *arg);

/* ---- OCSP (issue 6; svc_ocsp.c, docs/internals/ocsp.md) ---- */
struct ocsp_cache;
struct ocsp_refresher;
/* Starts the OCSP refresher of `quill serve` on its own service handle
 * (signing through `signer_owner`'s signer). Before it returns, the issuing
 * CAs are in `cache`, stored answers of revoked certificates that still
 * say good are signed again, and every stored answer is loaded; then a
 * thread keeps every unexpired certificate's answer fresh (new and changed
 * certificates within POLL_MS plus a signature, the rest before half their
 * validity). QERR_CONFIG when [ocsp] responder_days does not outlast
 * response_hours. `cache` must outlive the refresher. */
enum qerr service_ocsp_start(const char *data_dir, const struct qconfig *cfg,
                             struct service *signer_owner, struct ocsp_cache *cache,
                             struct ocsp_refresher **out, struct qerr_info *ei);
/* Stops the thread (after its current batch) and frees it. NULL: no-op. */
void service_ocsp_stop(struct ocsp_refresher *r);
/* Does in one go on handle `s` what the refresher does over time: signs
 * every answer that is missing, changed or due, and loads them into
 * `cache` (tests and tools; the handle needs its signer). */
enum qerr service_ocsp_sync(struct service *s, struct ocsp_cache *cache, struct qerr_info *ei);

#endif
