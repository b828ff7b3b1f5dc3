/*
 * signer_internal.h - what the signer process's files share (signer.c,
 * signer_keys.c, signer_crl.c, signer_main.c): the handler state and the
 * key directory helpers. Not for other modules. Single-threaded: the
 * signer process runs one request at a time.
 */
#ifndef QUILL_SIGNER_INTERNAL_H
#define QUILL_SIGNER_INTERNAL_H

#include <limits.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "signer.h"

#define MAX_CACHED_KEYS 16
#define MAX_BACKDATE (QTIME_DAY)      /* not_before may lie at most a day back */
#define MAX_FORWARD ((qtime_t)3600)   /* and at most an hour ahead */
#define MAX_CRL_SPAN (10 * QTIME_DAY) /* BR 4.9.7 */
#define MIN_CA_PASSPHRASE 12

struct cached_key {
        char id[65];
        EVP_PKEY *key;
};

/* A CRL being signed, between CRL_BEGIN and CRL_FINISH (signer_crl.c). */
struct crl_session {
        bool active;
        bool root_issuer; /* its entries are CA certificates */
        EVP_MD_CTX *md;   /* the real key's signature over the TBSCertList */
        struct qbuf head, tail, sigalg;
        int64_t number, this_update, next_update;
        char key_id[65];               /* the issuer's, for the CRL number mark */
        uint64_t want_len, want_count; /* announced by CRL_BEGIN */
        uint64_t got_len, got_count;
};
/* Delegated OCSP responder keys (issue 6): made here, kept in this
 * process's memory only, never written anywhere; a new signer makes new
 * responders. The oldest goes when the table is full. */
#define MAX_RESPONDER_KEYS 16

/* The lint gate's throwaway keys (issue 7), one per key kind. */
enum { GATE_RSA, GATE_EC256, GATE_EC384, GATE_SM2, GATE__COUNT };

/* The journal file this signer appends to (signer_journal.c): opened at
 * the first certificate, one per signer process, locked (flock) for its
 * life so that other signers can tell it from a dead signer's file. */
struct signer_journal {
        int fd;             /* -1: none open */
        char name[64];      /* its name in <key_dir>/journal */
        uint64_t seq;       /* records written to it */
        uint64_t end;       /* its length */
        uint32_t name_salt; /* makes names unique within one process (tests) */
};

/* An issuer certificate as the main process sends it, parsed once: the
 * decoding (public key through OpenSSL's decoders) was a tenth of the
 * CPU of an ACME order. Compared by the whole DER. */
#define MAX_CACHED_ISSUERS 16
struct cached_issuer {
        unsigned char *der;
        size_t len;
        X509 *x;
        char key_id[65]; /* of its public key; "" until first needed */
};

struct signer_state {
        char data_dir[PATH_MAX];
        char key_dir[PATH_MAX + 8]; /* <data>/ca */
        long private_max_days, public_max_days;
        bool allow_private_ips; /* tests only: see struct signer_config */
        char *passphrase;       /* in a locked, non-dumpable page; NULL: none */
        size_t pass_map;        /* its mapping's length */
        char note[QERR_MSG_MAX];
        struct cached_key keys[MAX_CACHED_KEYS];
        size_t nkeys;
        int64_t err_crl_number;           /* for the error answer of the request in hand */
        EVP_PKEY *gate_keys[GATE__COUNT]; /* made on first need, kept for life */
        struct crl_session crl;           /* at most one open CRL session */
        struct signer_journal journal;
        struct cached_key responders[MAX_RESPONDER_KEYS]; /* id: of the public key */
        size_t nresponders;
        struct cached_issuer issuers[MAX_CACHED_ISSUERS];
        size_t nissuers;
};

/* ---- signer.c ---- */
/* The throwaway key of `signing`'s kind that the lint gate signs with first
 * (pki_issue.h: the certificate or CRL is linted as DER before the real
 * signature). *out is borrowed (kept in st). */
enum qerr signer_gate_key(struct signer_state *st, EVP_PKEY *signing, EVP_PKEY **out,
                          struct qerr_info *ei);

/* ---- signer_keys.c ---- */
/* The passphrase, checked (present, at least MIN_CA_PASSPHRASE characters). */
enum qerr signer_passphrase(struct signer_state *st, const char **out, struct qerr_info *ei);
/* Loads (or finds cached) the private key for `issuer` and checks that it
 * matches the issuer's public key; a key file encrypted with older
 * parameters is re-encrypted on this first load. *out is borrowed (cache). */
enum qerr signer_issuer_key(struct signer_state *st, X509 *issuer, EVP_PKEY **out,
                            struct qerr_info *ei);
/* Writes a new CA key into the key directory; id receives its key id. */
enum qerr signer_store_new_key(struct signer_state *st, EVP_PKEY *k, char id[65],
                               struct qerr_info *ei);
/* true when `k` is the public key of a CA key in the key directory (its
 * file is named by the SHA-256 of the SPKI, taken in uncompressed form). */
bool signer_is_ca_key(struct signer_state *st, EVP_PKEY *k);
/* Parses a certificate given by the main process (or finds it parsed
 * already); refuses non-CA ones. *out is the caller's reference
 * (X509_free it). */
enum qerr signer_load_issuer(struct signer_state *st, struct sbytes der, X509 **out,
                             struct qerr_info *ei);
void signer_issuers_free(struct signer_state *st);

/* ---- signer_crl.c: the CRL session (signer_proto.h) ---- */
enum qerr signer_crl_begin(struct signer_state *st, const struct signer_req *r, struct qbuf *out,
                           struct qerr_info *ei);
enum qerr signer_crl_entries(struct signer_state *st, const struct signer_req *r, struct qbuf *out,
                             struct qerr_info *ei);
enum qerr signer_crl_finish(struct signer_state *st, struct qbuf *out, struct qerr_info *ei);
/* Ends the open session, if any (a refusal, a new BEGIN, the end). */
void signer_crl_end(struct signer_state *st);
/* The CRL number high-water mark file of a CA (tests read it). */
void signer_crl_mark_path(const struct signer_state *st, const char *key_id, char *out,
                          size_t outsz);

/* ---- signer_journal.c ---- */
/* Appends the certificate `der` (serial, issuer key id) to this signer's
 * journal and fsyncs it; the certificate may leave the signer only when
 * this succeeded. */
enum qerr signer_journal_append(struct signer_state *st, const uint8_t *serial, size_t serial_len,
                                const char *key_id, const uint8_t *der, size_t der_len,
                                struct qerr_info *ei);
/* SMSG_JOURNAL_READ and SMSG_JOURNAL_TRIM: answer frames into `out`. */
enum qerr signer_journal_read(struct signer_state *st, const struct signer_req *r, struct qbuf *out,
                              struct qerr_info *ei);
enum qerr signer_journal_trim(struct signer_state *st, const struct signer_req *r, struct qbuf *out,
                              struct qerr_info *ei);
/* <key_dir>/journal */
void signer_journal_dir(const struct signer_state *st, char *out, size_t outsz);
void signer_journal_close(struct signer_state *st);
/* Refuses reason codes the BR forbid (certificateHold, removeFromCRL) and
 * values that are no CRLReason (OCSP responses; CRLs check cACompromise
 * too). */
enum qerr signer_check_reason(int64_t reason, struct qerr_info *ei);

/* ---- signer_ocsp.c ---- */
/* SMSG_CREATE_RESPONDER: a new responder key and its certificate. */
enum qerr signer_create_responder(struct signer_state *st, const struct signer_req *r,
                                  struct qbuf *out, struct qerr_info *ei);
/* SMSG_SIGN_OCSP: one OCSPResponse per entry, signed by a responder key. */
enum qerr signer_sign_ocsp(struct signer_state *st, const struct signer_req *r, struct qbuf *out,
                           struct qerr_info *ei);
/* Whether `id` (pki_key_id) is one of the responder keys held here. */
bool signer_is_responder_key(const struct signer_state *st, const char *id);

/* ---- signer_seccomp.c ---- */
/* Installs the signer's system call filter (kill on anything else). */
enum qerr signer_sandbox(struct qerr_info *ei);

#endif
