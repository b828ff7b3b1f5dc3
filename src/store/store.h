/*
 * store.h - the one storage interface: a small table of function pointers
 * with one backend per database (store_sqlite.c now; PostgreSQL later), the
 * way curl hides TLS libraries behind vtls.
 *
 * Rules every backend keeps:
 *  - Writes happen only between begin() and commit(); the service writes a
 *    state change and its event row in the same transaction. begin() takes
 *    the write lock at once (SQLite BEGIN IMMEDIATE) and waits up to
 *    store.busy_ms for another process; QERR_BUSY after that.
 *  - Records returned are owned by the caller (cert_rec_free, ca_rec_free,
 *    event_rec_clear + free for arrays; store_free_* helpers below).
 *  - Disk full maps to QERR_DISK_FULL; the transaction is rolled back and
 *    nothing is half-written.
 *  - A handle is used by one thread at a time; threads open their own.
 */
#ifndef QUILL_STORE_H
#define QUILL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/model.h"

struct store;

struct crl_row {
        char serial[41];
        qtime_t revoked_at;
        int reason;
};

struct reissue_rec {
        int64_t id;
        int64_t certificate_id;
        int64_t new_certificate_id;
        char status[16];     /* in_progress, done, failed */
        char csr_source[16]; /* original, pasted, generated */
        char *reason;
        char *registered_domains; /* JSON array text */
        qtime_t created_at;
        char owner[128]; /* process running it, "" when none */
};

struct store_ops {
        const char *name;
        void (*close)(struct store *s);
        enum qerr (*begin)(struct store *s, struct qerr_info *ei);
        enum qerr (*commit)(struct store *s, struct qerr_info *ei);
        void (*rollback)(struct store *s);

        /* CAs */
        enum qerr (*ca_insert)(struct store *s, struct ca_rec *ca, struct qerr_info *ei);
        enum qerr (*ca_list)(struct store *s, struct ca_rec ***out, size_t *n,
                             struct qerr_info *ei);
        enum qerr (*ca_get)(struct store *s, int64_t id, struct ca_rec **out, struct qerr_info *ei);
        /* increments and returns the CA's CRL number (inside a transaction) */
        enum qerr (*ca_next_crl_number)(struct store *s, int64_t ca_id, int64_t *out,
                                        struct qerr_info *ei);

        /* certificates; cert_list leaves out deleted ones */
        enum qerr (*cert_insert)(struct store *s, struct cert_rec *c, struct qerr_info *ei);
        enum qerr (*cert_get)(struct store *s, int64_t id, struct cert_rec **out,
                              struct qerr_info *ei);
        enum qerr (*cert_list)(struct store *s, struct cert_rec ***out, size_t *n,
                               struct qerr_info *ei);
        /* writes status, revoked_at, revoke_reason, key_blob/protection */
        enum qerr (*cert_update)(struct store *s, const struct cert_rec *c, struct qerr_info *ei);
        enum qerr (*cert_serial_exists)(struct store *s, const char *serial, bool *out,
                                        struct qerr_info *ei);
        /* ids of every certificate reissued from `id`, at any depth */
        enum qerr (*cert_descendants)(struct store *s, int64_t id, int64_t **ids, size_t *n,
                                      struct qerr_info *ei);
        /* the number of completed reissues in the lineage of `id` */
        enum qerr (*cert_lineage_reissues)(struct store *s, int64_t id, int *out,
                                           struct qerr_info *ei);
        /* revoked certificates of a CA not yet expired at `now` (CRL input) */
        enum qerr (*crl_entries)(struct store *s, int64_t ca_id, qtime_t now, struct crl_row **rows,
                                 size_t *n, struct qerr_info *ei);

        /* reissue and revocation requests */
        enum qerr (*reissue_insert)(struct store *s, struct reissue_rec *r, struct qerr_info *ei);
        enum qerr (*reissue_finish)(struct store *s, int64_t id, const char *status,
                                    int64_t new_cert_id, const char *failure, qtime_t at,
                                    struct qerr_info *ei);
        /* every in_progress reissue */
        enum qerr (*reissue_active)(struct store *s, struct reissue_rec **out, size_t *n,
                                    struct qerr_info *ei);
        enum qerr (*revocation_insert)(struct store *s, int64_t cert_id, int reason,
                                       int64_t cascade_from, const char *status, qtime_t at,
                                       int64_t *id, struct qerr_info *ei);

        /* events */
        enum qerr (*event_add)(struct store *s, const struct event_rec *e, struct qerr_info *ei);
        enum qerr (*event_list)(struct store *s, const char *object_type, int64_t object_id,
                                struct event_rec **out, size_t *n, struct qerr_info *ei);

        /* CRLs */
        enum qerr (*crl_put)(struct store *s, int64_t ca_id, int64_t number, qtime_t this_update,
                             qtime_t next_update, const uint8_t *der, size_t len,
                             struct qerr_info *ei);
        /* latest CRL of a CA; QERR_NOT_FOUND when none */
        enum qerr (*crl_latest)(struct store *s, int64_t ca_id, struct qbuf *der, int64_t *number,
                                struct qerr_info *ei);
};

struct store {
        const struct store_ops *ops;
};

/* Opens (creating when missing) <data_dir>/quill.db and runs pending
 * migrations. busy_ms: how long to wait for other processes. */
enum qerr store_open_sqlite(const char *data_dir, long busy_ms, struct store **out,
                            struct qerr_info *ei);

void store_free_certs(struct cert_rec **v, size_t n);
void store_free_cas(struct ca_rec **v, size_t n);
void store_free_events(struct event_rec *v, size_t n);
void store_free_reissues(struct reissue_rec *v, size_t n);

#endif
