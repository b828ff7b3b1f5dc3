/*
 * service_internal.h - what the service's files share: the service struct
 * and small helpers (events, the signer, the data key, issuer lookup). Not
 * for front doors. Same threading rules as service.h.
 */
#ifndef QUILL_SERVICE_INTERNAL_H
#define QUILL_SERVICE_INTERNAL_H

#include <limits.h>

#include "../pki/pki_key.h"
#include "../pki/pki_seal.h"
#include "../signer/signer.h"
#include "service.h"

/* CRL partitions touched by this handle's transactions, for
 * service_crl_flush (more than this: every CRL is made again). */
#define SVC_MAX_DIRTY_CRLS 64

struct service {
        char data_dir[PATH_MAX];
        const struct qconfig *cfg;
        char actor[64];       /* who.name: what events record */
        struct principal who; /* on whose behalf the calls are made */
        struct store *st;
        struct signer *signer; /* started by service_boot_open, or borrowed */
        bool borrowed_signer;  /* a worker's: owned by another service handle */
        bool have_data_key;
        uint8_t data_key[SEAL_KEY_BYTES];
        void *acme_cache; /* svc_acme.c: parsed account keys, by thumbprint */
        /* svc_issue.c: issuing CAs' DER and subject, parsed once per handle
         * (decoding a certificate costs more than the rest of issuing) */
        struct svc_ca_memo {
                int64_t id;
                char *pem; /* what it was made from: a changed row is parsed again */
                uint8_t *der;
                size_t der_len;
                char *subject;
        } ca_memo[4];
        size_t nca_memo;
        /* CRL jobs this handle queued (svc_crl.c) */
        struct {
                int64_t ca_id;
                int shard;
        } crl_dirty[SVC_MAX_DIRTY_CRLS];
        size_t ncrl_dirty;
        size_t crl_dirty_tx; /* entries from here on: the open transaction's */
        bool crl_dirty_all;
        bool jobs_queued; /* in the open transaction: wake workers at commit */
        void (*wake)(void *arg);
        void *wake_arg;
};

#define ST(s) ((s)->st)

/* An order whose every name is validated (and CAA-checked): the review
 * gates, then issuing with its job queued (svc_jobs.c), in the caller's
 * transaction. */
enum qerr svc_order_gate(struct service *s, struct order_rec *o, struct qerr_info *ei);

/* Frees the handle's CA memo (svc_issue.c). */
void svc_ca_memo_free(struct service *s);

/* The handle's signer (QERR_SIGNER_UNAVAILABLE when it has none). */
enum qerr svc_signer(struct service *s, struct signer **out, struct qerr_info *ei);
/* Moves a certificate to status `to`: writes the row and its event (from
 * the status it had) inside the caller's transaction. */
enum qerr svc_cert_move(struct service *s, struct cert_rec *c, enum cert_status to,
                        struct qerr_info *ei, const char *reason_fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Appends an event row of tenant `tenant_id` (the object's owner) inside
 * the caller's transaction. */
enum qerr svc_event(struct service *s, int64_t tenant_id, const char *type, int64_t id,
                    const char *from, const char *to, const char *reason_fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* The tenant filter of store reads for this principal: 0 (every tenant)
 * or its own tenant. */
int64_t svc_scope(const struct service *s);
/* Role bits for svc_require. */
#define SVC_USER (1u << ROLE_USER)
#define SVC_REVIEWER (1u << ROLE_REVIEWER)
#define SVC_ADMIN (1u << ROLE_ADMIN)
/* QERR_FORBIDDEN unless the principal's role is one of `roles`; checked
 * first in every public function, before any object is looked at. */
enum qerr svc_require(struct service *s, unsigned roles, const char *what, struct qerr_info *ei);
/* QERR_OK when object `type` `id` exists in the principal's scope;
 * QERR_NOT_FOUND with the same sentence whether it does not exist or
 * belongs to another tenant, and in the second case an audit event is
 * written (in its own transaction, to the owner's log). Call it outside
 * any transaction, before the transaction that works on the object. */
enum qerr svc_visible(struct service *s, const char *type, int64_t id, struct qerr_info *ei);
/* The sentence of a missing object ("no certificate with id 7"). */
enum qerr svc_not_found(const char *type, int64_t id, struct qerr_info *ei);
/* The data key that seals subscriber keys (env, file, or created). */
enum qerr svc_data_key(struct service *s, const uint8_t **key, struct qerr_info *ei);
/* The issuing CA for a key of type `key_alg` ("sm2" -> the SM2 CA; RSA keys
 * prefer an RSA CA, EC keys an EC CA; otherwise any non-SM2 issuing CA). */
enum qerr svc_pick_issuer(struct service *s, const char *key_alg, struct ca_rec **out,
                          struct qerr_info *ei);
/* ---- CRLs (svc_crl.c) ---- */
/* Queues a CRL job for partition (ca_id, shard) inside the caller's
 * transaction and remembers it for service_crl_flush. */
enum qerr svc_crl_queue(struct service *s, int64_t ca_id, int shard, struct qerr_info *ei);
/* After inserting an issued certificate (same transaction): makes sure its
 * CA publishes the certificate's shard, queueing CRLs for new shards. */
enum qerr svc_crl_note_issued(struct service *s, const struct cert_rec *c, struct qerr_info *ei);
/* Makes, signs and stores the CRL of one partition in its own transaction
 * (never call it inside one). `out` (may be NULL) describes it. */
enum qerr svc_crl_make(struct service *s, const struct ca_rec *ca, int shard, struct crl_info *out,
                       struct qerr_info *ei);
/* Runs a "crl" job. */
enum qerr svc_crl_job(struct service *s, const struct job_rec *j, struct qerr_info *ei);
/* The URL of a CRL partition: <base>/crl/<ca>/<shard>.crl, or
 * <base>/crl/<ca>.crl for CRL_SHARD_NONE. */
void svc_crl_url(const struct service *s, int64_t ca_id, int shard, char *out, size_t sz);
/* Commits, then wakes the job workers when the transaction queued jobs.
 * Every service transaction ends with svc_commit or svc_abort. */
enum qerr svc_commit(struct service *s, struct qerr_info *ei);
/* Forgets the CRLs the open transaction queued (it is rolled back). */
void svc_crl_forget_tx(struct service *s);
/* URLs written into certificates issued by CA `ca_id`; the CRL one for
 * `crl_shard` (CRL_SHARD_NONE: the CA's unsharded CRL). */
void svc_urls(const struct service *s, int64_t ca_id, int crl_shard, char *crl, char *ocsp,
              char *cai, size_t sz);
/* Rolls back and returns rc (for `return svc_abort(s, rc)`). */
enum qerr svc_abort(struct service *s, enum qerr rc);
/* Seals a private key PEM for certificate storage, or encrypts it under
 * password. Fills c->key_blob / key_protection. */
enum qerr svc_store_key(struct service *s, EVP_PKEY *key, const char *password, struct cert_rec *c,
                        struct qerr_info *ei);
/* The general forms: seal under the data key bound to `aad` (or encrypt
 * under `password`), and open again. */
enum qerr svc_seal_key(struct service *s, EVP_PKEY *key, const char *password, const char *aad,
                       uint8_t **blob, size_t *len, enum key_protection *prot,
                       struct qerr_info *ei);
enum qerr svc_unseal_key(struct service *s, const uint8_t *blob, size_t len,
                         enum key_protection prot, const char *aad, const char *password,
                         EVP_PKEY **out, struct qerr_info *ei);
/* Moves an order to a final state (inside the caller's transaction): closes
 * its jobs and records the event with the failure code, if any. */
enum qerr svc_order_finish(struct service *s, struct order_rec *o, enum order_status to,
                           enum qerr code, const char *msg, struct qerr_info *ei);
/* Stores a reissued certificate `c` of certificate `orig_id` and closes the
 * reissue in progress, inside the caller's transaction (svc_issue.c). */
enum qerr svc_reissue_complete_tx(struct service *s, int64_t orig_id, struct cert_rec *c,
                                  struct qerr_info *ei);
/* Revokes `c` and its reissues and queues their CRLs, inside the caller's
 * transaction; `existing` is a pending revocation row to complete. */
enum qerr svc_revoke_tree(struct service *s, struct cert_rec *c, int reason, int64_t existing,
                          int64_t **ids_out, size_t *n_out, struct qerr_info *ei);
/* An order that proves control of `c`'s names again, for purpose "revoke"
 * or "reissue" (inside the caller's transaction, with its validate job).
 * For a reissue, `csr_pem` and `key` are the new CSR and key (key may be
 * NULL). */
enum qerr svc_proof_order(struct service *s, const char *purpose, const struct cert_rec *c,
                          const char *method, qtime_t deadline, const char *csr_pem, EVP_PKEY *key,
                          const char *key_password, struct order_rec **out, struct qerr_info *ei);
/* The data-key binding of a key held by an order before its certificate. */
void svc_order_key_aad(int64_t order_id, char *out, size_t sz);
/* Workers sign through the signer of the handle that started it. */
void svc_share_signer(struct service *dst, struct service *src);
/* Issues the certificate of a validated order (svc_issue.c); the caller
 * stores it. */
enum qerr svc_issue_order(struct service *s, const struct order_rec *o, struct cert_rec **out,
                          struct qerr_info *ei);
/* Stores a new certificate with its event inside the caller's transaction. */
enum qerr svc_insert_cert(struct service *s, struct cert_rec *c, const char *why,
                          struct qerr_info *ei);
/* Runs one job (svc_jobs.c) with the caller's resolver. */
struct job_rec;
enum qerr svc_run_job(struct service *s, struct dns_resolver *dns, const struct job_rec *j,
                      struct qerr_info *ei);
/* A password for a key the service generates: at least 8 characters
 * (QERR_KEY_PASSWORD_WEAK); NULL (no password) is fine. */
#define MIN_KEY_PASSWORD 8
enum qerr svc_check_key_password(const char *pw, struct qerr_info *ei);
/* Opens a stored key (NULL *out when the certificate holds none). */
enum qerr svc_open_key(struct service *s, const struct cert_rec *c, const char *password,
                       EVP_PKEY **out, struct qerr_info *ei);

/* A resolver from the configuration ([dns] ...), with an optional
 * HOST:PORT forwarder override (svc_caa.c). Caller frees it. */
struct dns_resolver;
enum qerr svc_dns_new(const struct qconfig *cfg, const char *resolver_override,
                      struct dns_resolver **out, struct qerr_info *ei);
/* [caa] identities split at commas into at most `max` entries of `buf`. */
size_t svc_caa_identities(const struct qconfig *cfg, char buf[][CAA_MAX_NAME], size_t max);

/* The identity of this process as a work owner, and whether an owner
 * recorded earlier is still running (svc_recover.c). */
void svc_owner_self(char *out, size_t sz);
bool svc_owner_alive(const char *owner);
/* ---- one revocation transaction (svc_certs.c, svc_keys.c) ---- */
/* What a revocation transaction revoked: each certificate with its tenant,
 * key hash and revocation row, and the CAs whose CRLs must be signed again.
 * Zero-initialise; svc_revoke_run_free releases it. */
struct revoked_item {
        int64_t cert_id, tenant_id, rev_id;
        int reason;
        char spki[65]; /* "" when unknown */
};
/* A key whose consequences were drawn in this run, and for whom: the
 * tenant whose certificates with it were revoked (0: every tenant's, -1:
 * nobody's). */
struct compromised_key {
        char spki[65];
        int64_t scope;
};
struct revoke_run {
        struct revoked_item *v;
        size_t n, cap;
        int64_t cas[64];
        size_t ncas;
        struct compromised_key *keys; /* svc_keys.c */
        size_t nkeys, capkeys;
        size_t kc_done; /* items of v already looked at for keyCompromise */
};
void svc_revoke_run_free(struct revoke_run *run);
/* Revokes `c` and every certificate reissued from it into `run`, inside the
 * caller's transaction, without the CRLs: `existing` is a pending
 * revocation row of c to complete (0: a new row), `cascade` the revocation
 * this one follows from (0: none), `why` the sentence of c's event (NULL:
 * the usual one). */
enum qerr svc_revoke_into(struct service *s, struct cert_rec *c, int reason, int64_t existing,
                          int64_t cascade, const char *why, struct revoke_run *run,
                          struct qerr_info *ei);
/* Ends a revocation transaction: the keyCompromise consequences
 * (svc_key_compromise_tx), then a new CRL of every CA in the run. */
enum qerr svc_revoke_finish(struct service *s, struct revoke_run *run, struct qerr_info *ei);

/* ---- blocked keys (issue 7, svc_keys.c) ---- */
/* For every certificate of the run revoked with reason keyCompromise (the
 * run grows while this works through it): its key is blocked for every
 * tenant; every other unexpired certificate of the same tenant with that
 * key is revoked with it (and its reissues); the owners of other tenants'
 * certificates with that key, and of the tenant's uploaded ones, get an
 * event saying so. Inside the caller's transaction. */
enum qerr svc_key_compromise_tx(struct service *s, struct revoke_run *run, struct qerr_info *ei);
/* QERR_KEY_BLOCKED (with a sentence) when the key with SPKI hash `spki` is
 * blocked; QERR_OK when not. */
enum qerr svc_key_blocked(struct service *s, const char *spki, struct qerr_info *ei);
/* The same for a key: writes its hash to spki (may be NULL). */
enum qerr svc_key_check(struct service *s, EVP_PKEY *k, char *spki, struct qerr_info *ei);
/* The same for the key of a CSR (PEM or DER); a CSR that does not parse is
 * QERR_OK here (its own refusal comes where it is used). */
enum qerr svc_csr_key_check(struct service *s, const void *csr, size_t len, struct qerr_info *ei);
/* Inside the caller's transaction, right after a certificate signed
 * outside it was stored: when its key was blocked meanwhile (a revocation
 * for key compromise committed between the check and now), the certificate
 * is revoked at once (reason keyCompromise, with its CRL) and *blocked set;
 * the caller commits and reports QERR_KEY_BLOCKED. */
/* The holder of the key `spki` proved possession and reports it
 * compromised (a key proof, or an ACME revokeCert signed with the
 * certificate's key): blocks it and revokes every certificate with it in
 * every tenant, publishing the CRLs, in one transaction. */
struct key_proof_out;
enum qerr svc_key_proved_compromised(struct service *s, const char *spki, struct key_proof_out *out,
                                     struct qerr_info *ei);
enum qerr svc_key_recheck_tx(struct service *s, struct cert_rec *c, bool *blocked,
                             struct qerr_info *ei);
/* Fills certificates.spki_sha256 of rows made before migration 009 (all of
 * them, in batches). own_tx: in transactions of its own (at open), else
 * inside the caller's. */
enum qerr svc_spki_backfill(struct service *s, bool own_tx, struct qerr_info *ei);

/* ---- validation reuse (issue 7, svc_reuse.c) ---- */
/* The days a validation may be reused for an issuance now ([validation]
 * reuse_days and the BR schedule). */
long svc_reuse_days(const struct service *s, qtime_t now);
/* Marks each name of a new issue order (before it is stored) that the
 * tenant validated within the reuse period as valid, reusing that
 * validation; returns how many. */
enum qerr svc_reuse_validations(struct service *s, struct order_rec *o, qtime_t now, size_t *reused,
                                struct qerr_info *ei);
/* Records a name an order validated just now (inside the caller's
 * transaction), for later reuse. */
enum qerr svc_record_validation(struct service *s, const struct order_rec *o,
                                const struct order_name_rec *n, struct qerr_info *ei);
/* QERR_OK when every name's validation may still be used at `now`, else
 * QERR_VALIDATION_EXPIRED naming the first that may not. */
enum qerr svc_validations_fresh(struct service *s, const struct order_rec *o, qtime_t now,
                                struct qerr_info *ei);
/* The oldest of the newest validations of `names` by `tenant` (0 when one
 * has none), for policy_reissue_needs_validation. */
enum qerr svc_names_validated_at(struct service *s, int64_t tenant, char *const *names, size_t n,
                                 qtime_t *out, struct qerr_info *ei);

/* A notification of `type` (notify.h's NOTIFY_*) to the owning tenant's
 * webhooks and contacts, written to the outbox inside the caller's
 * transaction (svc_notify.c): nothing is queued when the tenant has no
 * webhook and no contact (or no [smtp] url). The objects are read from the
 * store as they stand in the transaction. */
struct svc_notice {
        const char *type;
        int64_t tenant_id;
        int64_t cert_id;  /* 0: none */
        int64_t order_id; /* 0: none */
        const struct review_rec *review;
        int threshold_days;
        const char *detail; /* a sentence, or NULL */
};
enum qerr svc_notify(struct service *s, const struct svc_notice *n, struct qerr_info *ei);
/* Shorthands: a certificate event, an order event. */
enum qerr svc_notify_cert(struct service *s, const char *type, int64_t tenant_id, int64_t cert_id,
                          struct qerr_info *ei);
enum qerr svc_notify_order(struct service *s, const char *type, int64_t tenant_id, int64_t order_id,
                           struct qerr_info *ei);

/* Lints an uploaded certificate (its verified chain's first certificate is
 * the issuer) into `out`; the findings only inform (svc_lint.c). */
enum qerr svc_lint_upload(struct service *s, const char *cert_pem, size_t cert_len,
                          const char *chain_pem, struct lint_report *out);

#endif
