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

struct service {
        char data_dir[PATH_MAX];
        const struct qconfig *cfg;
        char actor[64];
        struct store *st;
        struct signer *signer; /* started on first need */
        bool have_data_key;
        uint8_t data_key[SEAL_KEY_BYTES];
};

#define ST(s) ((s)->st)

/* Starts the signer if it is not running. */
enum qerr svc_signer(struct service *s, struct signer **out, struct qerr_info *ei);
/* Appends an event row (inside the caller's transaction). */
enum qerr svc_event(struct service *s, const char *type, int64_t id, const char *from,
                    const char *to, const char *reason_fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* The data key that seals subscriber keys (env, file, or created). */
enum qerr svc_data_key(struct service *s, const uint8_t **key, struct qerr_info *ei);
/* The issuing CA for a key of type `key_alg` ("sm2" -> the SM2 CA; RSA keys
 * prefer an RSA CA, EC keys an EC CA; otherwise any non-SM2 issuing CA). */
enum qerr svc_pick_issuer(struct service *s, const char *key_alg, struct ca_rec **out,
                          struct qerr_info *ei);
/* Signs and stores a new CRL for `ca` (inside the caller's transaction). */
enum qerr svc_crl_publish(struct service *s, const struct ca_rec *ca, struct qerr_info *ei);
/* URLs written into certificates issued by CA `ca_id`. */
void svc_urls(const struct service *s, int64_t ca_id, char *crl, char *ocsp, char *cai, size_t sz);
/* Rolls back and returns rc (for `return svc_abort(s, rc)`). */
enum qerr svc_abort(struct service *s, enum qerr rc);
/* Seals a private key PEM for certificate storage, or encrypts it under
 * password. Fills c->key_blob / key_protection. */
enum qerr svc_store_key(struct service *s, EVP_PKEY *key, const char *password, struct cert_rec *c,
                        struct qerr_info *ei);
/* Opens a stored key (NULL *out when the certificate holds none). */
enum qerr svc_open_key(struct service *s, const struct cert_rec *c, const char *password,
                       EVP_PKEY **out, struct qerr_info *ei);

/* The identity of this process as a work owner, and whether an owner
 * recorded earlier is still running (svc_recover.c). */
void svc_owner_self(char *out, size_t sz);
bool svc_owner_alive(const char *owner);
/* Marks one certificate revoked inside the caller's transaction; `cascade`
 * is the revocation it follows from (0 for none). */
enum qerr svc_revoke_one(struct service *s, struct cert_rec *c, int reason, int64_t cascade,
                         qtime_t now, int64_t *rid_out, struct qerr_info *ei);

#endif
