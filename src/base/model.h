/*
 * model.h - the objects of RULES.md §1 as plain C structs.
 *
 * These are values passed between the store, the policy rules and the
 * service. A struct returned by a store or service function is owned by the
 * caller and released with its *_free function (which accepts NULL). Strings
 * inside are owned by the struct. No behaviour lives here beyond
 * name<->enum tables; any thread.
 */
#ifndef QUILL_MODEL_H
#define QUILL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qtime.h"

#define QUILL_MAX_NAMES 100
#define QUILL_MAX_NAME_LEN 253
/* CRL partitions of a CA (docs/internals/crl.md): shards 0..n-1 publish at
 * /crl/<ca>/<shard>.crl; CRL_SHARD_NONE is the CA's one unsharded CRL at
 * /crl/<ca>.crl (a root's complete CRL; for an issuing CA, the certificates
 * issued before sharding). */
#define CRL_SHARD_NONE (-1)
#define QUILL_MAX_CRL_SHARDS 256

enum cert_origin { ORIGIN_ISSUED = 0, ORIGIN_UPLOADED = 1 };

/* Stored status. `expired` is never stored: it is derived when reading
 * (cert_effective_status). */
enum cert_status {
        CERT_ISSUED = 0,
        CERT_REISSUING,          /* a reissue of it is in progress */
        CERT_REVOCATION_PENDING, /* revocation submitted, not yet done */
        CERT_REVOKED,
        CERT_DELETED,
        CERT_EXPIRED, /* derived only */
        CERT_STATUS__COUNT
};

/* Profiles: private (operator-trusted) and the public validation types. */
enum cert_profile { PROFILE_PRIVATE = 0, PROFILE_DV, PROFILE_OV, PROFILE_EV, PROFILE__COUNT };

enum key_protection { KEYPROT_NONE = 0, KEYPROT_DATA_KEY, KEYPROT_PASSWORD };

/* RFC 5280 CRLReason values that a user may ask for. */
enum revoke_reason {
        REASON_UNSPECIFIED = 0,
        REASON_KEY_COMPROMISE = 1,
        REASON_AFFILIATION_CHANGED = 3,
        REASON_SUPERSEDED = 4,
        REASON_CESSATION = 5,
        REASON_PRIVILEGE_WITHDRAWN = 9,
};

struct cert_rec {
        int64_t id;
        int64_t tenant_id;
        char tenant[64];   /* its name (filled when read) */
        int64_t ca_id;     /* 0 for uploaded */
        int64_t parent_id; /* 0 unless a reissue */
        char serial[41];   /* lower-case hex */
        char **names;
        size_t nnames;
        qtime_t not_before, not_after;
        char key_algorithm[16];
        enum cert_profile profile;
        enum cert_origin origin;
        enum cert_status status;
        bool free_cert;    /* a free (not paid) certificate */
        int reissue_count; /* completed reissues from this certificate */
        qtime_t created_at;
        qtime_t revoked_at; /* 0 unless revoked */
        int revoke_reason;  /* -1 unless revoked */
        char *issuer;       /* issuer DN, one line */
        char *cert_pem;
        char *chain_pem; /* issuing CA up to the root (uploads: as given) */
        char *csr_pem;   /* NULL for uploads */
        uint8_t *key_blob;
        size_t key_blob_len;
        enum key_protection key_protection;
        /* issue 7: lower-case hex SHA-256 of the DER SubjectPublicKeyInfo
         * (blocked keys are looked up by it); "" while unknown (rows made
         * before migration 009, until the service fills them) */
        char spki_sha256[65];
        int crl_shard; /* the CRL listing it when revoked; CRL_SHARD_NONE for
                          uploads and certificates issued before sharding */
};

struct ca_rec {
        int64_t id;
        int64_t parent_id; /* 0 for a root */
        bool is_root;
        char key_algorithm[16];
        char *subject;
        char *cert_pem;
        char *key_file; /* path relative to the data dir */
        qtime_t not_before, not_after;
        int64_t crl_number; /* last CRL number used (one sequence for all its CRLs) */
        int crl_shards;     /* shard CRLs it publishes (0..crl_shards-1) */
};

/* What is known of a stored CRL without its bytes. */
struct crl_info {
        int64_t ca_id;
        int shard; /* CRL_SHARD_NONE or 0..QUILL_MAX_CRL_SHARDS-1 */
        int64_t number;
        qtime_t this_update, next_update;
        int64_t entries; /* -1 when unknown (stored before sharding) */
        size_t der_len;
};

struct event_rec {
        int64_t id;
        int64_t tenant_id;
        char tenant[64];      /* its name (filled when read) */
        char object_type[16]; /* "certificate", "ca", "revocation", "reissue" */
        int64_t object_id;
        char actor[64];
        qtime_t at;
        char from_status[32];
        char to_status[32];
        char *reason;
};

/* ---- orders (issue 3) ---- */
enum order_status {
        ORDER_PENDING_VALIDATION = 0,
        ORDER_VALIDATING,
        ORDER_MANUAL_REVIEW,
        ORDER_ISSUING,
        ORDER_ISSUED,
        ORDER_FAILED,
        ORDER_CANCELLED,
        ORDER_STATUS__COUNT
};

struct order_name_rec {
        int64_t id;
        char name[QUILL_MAX_NAME_LEN + 1];
        char method[8]; /* "dns" or "file" */
        char token[32]; /* file name stem (file method) */
        char value[64]; /* the random value to publish */
        qtime_t value_expires;
        char validation_status[16]; /* pending, valid, invalid */
        char caa_status[16];        /* pending, allowed, forbidden, error */
        qtime_t caa_checked_at;
        char *caa_detail;      /* where + records + reason of the last check */
        char failure_code[40]; /* "" when none */
        char *failure_message;
        qtime_t validated_at; /* when control was proved (for a reused one: back then) */
        /* issue 7, validation reuse: the earlier validation this name reuses
         * (0 when validated by this order), the order that made it and its
         * method; filled when read */
        int64_t reused_from;
        int64_t reused_order;
        char reused_method[8];
};

struct order_rec {
        int64_t id;
        int64_t tenant_id;
        char tenant[64];     /* its name (filled when read) */
        char created_by[64]; /* the principal that applied ("key:12:ci", "cli:alice") */
        char purpose[16];    /* issue, revoke, reissue */
        int64_t subject_id;  /* revoke: certificate; reissue: reissue row */
        enum order_status status;
        enum cert_profile profile;
        char key_algorithm[16];
        char *csr_pem;
        uint8_t *key_blob; /* service-generated key, sealed like certificate keys */
        size_t key_blob_len;
        enum key_protection key_protection;
        char *org_info; /* JSON, OV/EV */
        char org_hash[65];
        bool free_cert;
        long days;
        int64_t certificate_id;
        char failure_code[40];
        char *failure_message;
        qtime_t deadline, created_at, updated_at;
        struct order_name_rec *names;
        size_t nnames;
};

struct job_rec {
        int64_t id;
        char kind[16];    /* validate, issue (an order's); crl (a CA's CRL) */
        int64_t order_id; /* validate, issue; 0 otherwise */
        int64_t ca_id;    /* crl: the CA and its partition; 0 otherwise */
        int shard;
        char state[16];
        qtime_t run_at;
        int attempts;
        char owner[128];
};

struct review_rec {
        int64_t id;
        int64_t tenant_id; /* the tenant whose order or revocation is reviewed */
        char tenant[64];
        int64_t reviewer_key;  /* the deciding API key, 0 when none */
        char requested_by[64]; /* who applied or asked to revoke (four-eyes rule) */
        int64_t order_id;      /* 0 for a revocation review */
        int64_t revocation_id; /* 0 for an order review */
        char kind[16];         /* risk, organization */
        char status[16];       /* pending, approved, rejected */
        char *detail;
        char reviewer[64];
        char *reason;
        qtime_t created_at, decided_at;
};

/* ---- validation reuse and blocked keys (issue 7, migration 009) ---- */
/* One successful domain validation: `name` as validated ("*.x" for a
 * wildcard, which only DNS validates), by `tenant_id`, in order `order_id`. */
struct validation_rec {
        int64_t id;
        int64_t tenant_id;
        char name[QUILL_MAX_NAME_LEN + 1];
        char method[8]; /* dns, file */
        qtime_t validated_at;
        int64_t order_id;
};

/* A public key no certificate may carry any more. */
#define BLOCKED_REASON_MAX 200
struct blocked_key_rec {
        int64_t id;
        char spki_sha256[65]; /* lower-case hex SHA-256 of the DER SubjectPublicKeyInfo */
        qtime_t blocked_at;
        char source[16];       /* revocation, manual, key_proof */
        int64_t revocation_id; /* source revocation: the keyCompromise revocation; else 0 */
        int64_t tenant_id;     /* source revocation: its tenant; else 0 */
        char blocked_by[64];   /* the principal */
        char reason[BLOCKED_REASON_MAX + 1]; /* "" when none given */
};

/* ---- tenants, roles, principals (issue 6) ---- */
#define QUILL_TENANT_MAX 63
/* Every database has these two (migration 005): 'default', where existing
 * objects went and the CLI acts unless told otherwise, and 'system', which
 * holds the service's own certificates (its HTTPS listener's). */
#define QUILL_TENANT_DEFAULT 1
#define QUILL_TENANT_SYSTEM 2

/* What a principal may do: `user` the tenant's own certificates and
 * orders; `reviewer` the review queue of every tenant; `admin` everything
 * (tenants, keys, CA operations) in every tenant. */
enum role { ROLE_USER = 0, ROLE_REVIEWER, ROLE_ADMIN, ROLE__COUNT };

struct tenant_rec {
        int64_t id;
        char name[QUILL_TENANT_MAX + 1];
        qtime_t created_at;
};

/* An API key as stored: never the secret itself. */
struct apikey_rec {
        int64_t id;
        int64_t tenant_id;
        char tenant[QUILL_TENANT_MAX + 1];
        enum role role;
        char label[128];
        uint8_t secret_hash[32];
        qtime_t created_at;
        char created_by[64];
        qtime_t revoked_at; /* 0 while valid */
};

/* Who acts. Every service call is made on behalf of one principal: it is
 * scoped to `tenant_id` (new objects belong there; reads and changes see
 * only that tenant's objects) unless `all_tenants` (admin keys, job
 * workers), and allowed by `role`. `name` is what events record. */
struct principal {
        int64_t tenant_id;
        char tenant[QUILL_TENANT_MAX + 1];
        enum role role;
        bool all_tenants;
        char name[64];  /* "key:12:ci-bot", "cli:alice", "worker:0" */
        int64_t key_id; /* 0 unless an API key */
        bool local;     /* the local operator (CLI) or the service's own workers: may
                           read stored private keys of any tenant it acts in */
};

/* ---- notifications (issue 6) ---- */
#define QUILL_WEBHOOK_URL_MAX 2048

/* A webhook as stored: the secret only sealed under the data key (never
 * returned by the API, never logged). */
struct webhook_rec {
        int64_t id;
        int64_t tenant_id;
        char tenant[QUILL_TENANT_MAX + 1];
        char *url;
        uint8_t *secret_blob; /* pki_seal blob, bound to "quill-webhook-secret:<id>" */
        size_t secret_len;
        qtime_t created_at;
        char created_by[64];
        qtime_t deleted_at; /* 0 while active */
};

/* One attempt to deliver. */
struct delivery_try {
        int attempt;
        qtime_t at;
        int status; /* HTTP status or SMTP reply code; 0: no answer */
        char error[256];
        long duration_ms;
};

/* An outbox row: one event for one recipient (a webhook, or the tenant's
 * contacts by email), with the exact bytes to send. */
struct delivery_rec {
        int64_t id;
        int64_t tenant_id;
        char event[40];       /* "certificate.issued", ... */
        char object_type[16]; /* "certificate" or "order" */
        int64_t object_id;
        char channel[8];    /* "webhook" or "email" */
        int64_t webhook_id; /* webhook: its id; email: 0 */
        char *recipients;   /* email: addresses separated by commas */
        char *subject;      /* email */
        uint8_t *body;      /* webhook: the JSON signed; email: the text */
        size_t body_len;
        char state[12]; /* pending, sending, delivered, failed, cancelled */
        int attempts;
        qtime_t next_attempt_at; /* 0: due at once (a new one) */
        qtime_t created_at, finished_at;
        int last_status;
        char *last_error;
        char owner[128];
        struct delivery_try *tries; /* filled by listings only */
        size_t ntries;
};

void webhook_rec_clear(struct webhook_rec *w);
void delivery_rec_clear(struct delivery_rec *d);

const char *role_name(enum role r);
bool role_from_name(const char *s, enum role *out);
/* A tenant name: 1-63 of [a-z0-9-_.], starting with a letter or digit. */
bool tenant_name_valid(const char *s);

void order_rec_free(struct order_rec *o);
void review_rec_clear(struct review_rec *r);
const char *order_status_name(enum order_status s);
bool order_status_from_name(const char *s, enum order_status *out);

void cert_rec_free(struct cert_rec *c);
void ca_rec_free(struct ca_rec *c);
void event_rec_clear(struct event_rec *e);

const char *cert_status_name(enum cert_status s);
bool cert_status_from_name(const char *s, enum cert_status *out);
/* expired when not_after < now and the stored status is issued/reissuing */
enum cert_status cert_effective_status(const struct cert_rec *c, qtime_t now);
const char *cert_profile_name(enum cert_profile p);
bool cert_profile_from_name(const char *s, enum cert_profile *out);
bool cert_profile_is_public(enum cert_profile p);
const char *cert_origin_name(enum cert_origin o);
const char *revoke_reason_name(int reason);
/* false when `s` is not one of the names the CLI accepts */
bool revoke_reason_from_name(const char *s, int *out);

#endif
