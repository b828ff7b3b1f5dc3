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

/* The lint gate's throwaway keys (issue 7), one per key kind. */
enum { GATE_RSA, GATE_EC256, GATE_EC384, GATE_SM2, GATE__COUNT };

struct signer_state {
        char data_dir[PATH_MAX];
        char key_dir[PATH_MAX + 8]; /* <data>/ca */
        long private_max_days, public_max_days;
        bool allow_private_ips; /* tests only: see struct signer_config */
        char *passphrase; /* in a locked, non-dumpable page; NULL: none */
        size_t pass_map;  /* its mapping's length */
        char note[QERR_MSG_MAX];
        struct cached_key keys[MAX_CACHED_KEYS];
        size_t nkeys;
        int64_t err_crl_number; /* for the error answer of the request in hand */
        EVP_PKEY *gate_keys[GATE__COUNT]; /* made on first need, kept for life */
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
/* Parses a certificate given by the main process; refuses non-CA ones. */
enum qerr signer_load_issuer(struct sbytes der, X509 **out, struct qerr_info *ei);

/* ---- signer_crl.c ---- */
enum qerr signer_sign_crl(struct signer_state *st, const struct signer_req *r, struct qbuf *out,
                          struct qerr_info *ei);
/* The CRL number high-water mark file of a CA (tests read it). */
void signer_crl_mark_path(const struct signer_state *st, const char *key_id, char *out,
                          size_t outsz);

/* ---- signer_seccomp.c ---- */
/* Installs the signer's system call filter (kill on anything else). */
enum qerr signer_sandbox(struct qerr_info *ei);

#endif
