/*
 * ocsp_cache.h - the in-memory OCSP answers of `quill serve`: a hash table
 * from (issuing CA, serial number) to a pre-signed OCSPResponse, plus the
 * table of issuing CAs by the hashes a CertID names them with.
 *
 * Who does what: the OCSP refresher (src/service/svc_ocsp.c, one thread)
 * fills it from the database and replaces answers when it signs new ones;
 * the HTTP worker threads look answers up and send their bytes without a
 * copy (http_response.static_body). No crypto here: the refresher computes
 * the hashes and the ETag.
 *
 * Memory: an answer is a `struct ocsp_blob`, immutable once made and
 * reference counted. The table holds one reference; a lookup takes another
 * for the caller, who drops it with ocsp_blob_unref() when the bytes have
 * been sent (the HTTP server's release callback). So a refresh that
 * replaces or sweeps an answer never frees bytes that are being sent.
 *
 * Threads: any thread may call any function. Lookups take a read lock (a
 * pthread rwlock that prefers writers, so a stream of lookups never starves
 * the refresher); put, sweep and set_issuers take the write lock for a
 * table update only (never while signing). The counters behind
 * `quill_ocsp_requests_total` are atomics, so are the values behind the
 * gauges `quill_ocsp_cache_responses` and `quill_ocsp_cache_oldest_age_seconds`
 * (computed when /metrics is rendered; they follow the newest cache made).
 */
#ifndef QUILL_OCSP_CACHE_H
#define QUILL_OCSP_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/qtime.h"
#include "ocsp_req.h"

#define OCSP_MAX_ISSUERS 64
#define OCSP_HTTP_DATE 32 /* "Sun, 06 Nov 1994 08:49:37 GMT" and its NUL */
#define OCSP_ETAG_MAX 72

/* One pre-signed answer (immutable after ocsp_blob_new). */
struct ocsp_blob {
        atomic_uint refs;
        int64_t ca_id;
        uint8_t serial[OCSP_MAX_SERIAL];
        size_t serial_len;
        bool revoked;
        qtime_t this_update, next_update;
        char etag[OCSP_ETAG_MAX];           /* quoted, ready for the ETag header */
        char last_modified[OCSP_HTTP_DATE]; /* thisUpdate (RFC 5019 6.2) */
        char expires[OCSP_HTTP_DATE];       /* nextUpdate */
        size_t len;
        uint8_t der[]; /* the OCSPResponse */
};

/* A new answer with one reference (the caller's); NULL when out of memory
 * or when an argument is out of range. `etag_hex`: a hex digest of `der`. */
struct ocsp_blob *ocsp_blob_new(int64_t ca_id, const uint8_t *serial, size_t serial_len,
                                bool revoked, qtime_t this_update, qtime_t next_update,
                                const char *etag_hex, const uint8_t *der, size_t len);
void ocsp_blob_ref(struct ocsp_blob *b);
/* Drops a reference; the last one frees. Takes void * so that it can be the
 * HTTP server's release callback. NULL is a no-op. */
void ocsp_blob_unref(void *b);

/* An issuing CA as CertIDs name it (SHA-1 of its subject DER and of its
 * public key's BIT STRING content, RFC 6960 4.1.1). */
struct ocsp_issuer {
        int64_t ca_id;
        uint8_t name_hash[OCSP_SHA1_LEN];
        uint8_t key_hash[OCSP_SHA1_LEN];
};

/* What the front door answers, for quill_ocsp_requests_total{status}. */
enum ocsp_answer {
        OCSP_ANSWER_GOOD = 0,
        OCSP_ANSWER_REVOKED,
        OCSP_ANSWER_UNAUTHORIZED, /* not our issuer, a serial never issued, another hash */
        OCSP_ANSWER_MALFORMED,
        OCSP_ANSWER_TRY_LATER, /* ours, but the stored answer has passed its nextUpdate */
        OCSP_ANSWER__COUNT
};

struct ocsp_cache;

/* A new, empty cache, with its metric families registered. NULL when out of
 * memory. */
struct ocsp_cache *ocsp_cache_new(void);
/* Frees the table and drops its references (answers still being sent stay
 * alive until released). NULL is a no-op. */
void ocsp_cache_free(struct ocsp_cache *c);

/* Replaces the issuer table (at most OCSP_MAX_ISSUERS; more are ignored). */
void ocsp_cache_set_issuers(struct ocsp_cache *c, const struct ocsp_issuer *v, size_t n);
/* Puts `b` in place of the answer for its (ca, serial), taking the caller's
 * reference. false when out of memory (the reference is dropped). */
bool ocsp_cache_put(struct ocsp_cache *c, struct ocsp_blob *b);

enum ocsp_lookup {
        OCSP_LOOKUP_FOUND = 0, /* *out holds a reference: ocsp_blob_unref it */
        OCSP_LOOKUP_STALE,     /* ours, but past its nextUpdate at `now` */
        OCSP_LOOKUP_UNKNOWN,   /* another issuer, another hash algorithm, or no answer */
};
enum ocsp_lookup ocsp_cache_lookup(struct ocsp_cache *c, const struct ocsp_certid *id, qtime_t now,
                                   struct ocsp_blob **out);

/* Removes the answers whose nextUpdate is at or before `now` (a certificate
 * that expired is no longer re-signed: its last answer ages out). Returns
 * how many went, and finds the oldest thisUpdate again for the age gauge. */
size_t ocsp_cache_sweep(struct ocsp_cache *c, qtime_t now);
/* The number of answers and the oldest thisUpdate (0 when empty). */
void ocsp_cache_stats(struct ocsp_cache *c, size_t *count, qtime_t *oldest_this_update);

/* Counts one answer of the front door. */
void ocsp_cache_count(struct ocsp_cache *c, enum ocsp_answer a);

#endif
