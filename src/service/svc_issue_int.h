/*
 * svc_issue_int.h - what the issuing files share (svc_issue.c,
 * svc_reissue.c, svc_serial.c, svc_reconcile.c, svc_jobs.c): the input of
 * one issuance, the two-phase steps around the signer, and helpers. Not
 * for front doors. Same threading rules as service.h (one thread per
 * service handle).
 *
 * Two-phase issuance (issue 7, docs/internals/store.md "Serials"):
 *  1. svc_issue_one() draws a serial and commits a reservation row
 *     (serials, state reserved, with everything storing the certificate
 *     later needs: tenant, CA, order or reissue, names, CSR, the key sealed
 *     for the certificate) BEFORE the signer is asked;
 *  2. the signer journals the certificate (fsync) before it answers;
 *  3. the caller stores the certificate, which marks the serial issued in
 *     the same transaction (a trigger).
 * A process that dies between 1 and 3 leaves a reservation and perhaps a
 * journal record; svc_reconcile() (at every start of a command that signs,
 * and every minute in `quill serve`) stores what the signer journaled and
 * voids what it never signed.
 */
#ifndef QUILL_SVC_ISSUE_INT_H
#define QUILL_SVC_ISSUE_INT_H

#include "../policy/profile.h"
#include "service_internal.h"

struct issue_input {
        int64_t tenant_id;  /* the owner of the new certificate */
        const char *tenant; /* and its name */
        EVP_PKEY *pub;
        const char *key_alg;
        char **names; /* normalised */
        size_t nnames;
        enum cert_profile profile;
        /* an issuance profile of profile.h (ACME newOrder's profile), or
         * NULL: the type's own rules. When set, `profile` must be its type;
         * the validity comes from policy_profile_not_after (days ignored),
         * and the signer gets its wire name. */
        const struct issue_profile *variant;
        long days;
        qtime_t not_after; /* reissue: the original's not-after; 0 otherwise */
        int64_t parent_id;
        const char *csr_pem;
        bool validated; /* a public profile's names passed validation (orders) */
        bool free_cert;
        const char *org; /* OV/EV: "O=..\nC=..\nST=..\nL=.." for the signer */
        /* what the reservation records: "certificate" (NULL), "private_order",
         * "order" (order_id) or "reissue" (reissue_id) */
        const char *purpose;
        int64_t order_id;
        int64_t reissue_id;
        /* the private key the service keeps for the certificate: sealed for
         * it (under the data key, or encrypted under key_password) into the
         * reservation before signing, then moved to the certificate; or a
         * key already encrypted under the applicant's password, copied */
        EVP_PKEY *key;
        const char *key_password;
        const uint8_t *key_pem_pw;
        size_t key_pem_pw_len;
};

/* Reserves a serial, asks the signer, and turns its answer into a
 * cert_rec (key included) that the caller stores with its events. On a
 * signer failure the reservation is voided (refused) or handed to
 * reconciliation (the signer died); nothing is returned. Pause points:
 * issue_reserved (reservation committed, signer not asked), issue_signed
 * (the signer answered, nothing stored). */
enum qerr svc_issue_one(struct service *s, const struct issue_input *in, struct cert_rec **out,
                        struct qerr_info *ei);
/* After a signed certificate could not be stored: hands its reservation to
 * reconciliation (best effort), which stores it from the journal. */
void svc_issue_store_failed(struct service *s, const char *serial, int64_t tenant_id);

/* svc_serial.c: the reservation (its own transaction; checks that the
 * order is still issuing or the reissue still in progress) and its end
 * when nothing was signed. */
enum qerr svc_serial_reserve(struct service *s, struct serial_rec *r, struct qerr_info *ei);
void svc_serial_not_signed(struct service *s, const struct serial_rec *r, enum qerr why,
                           const struct qerr_info *why_info);

/* The stored chain of an issuing CA (issuing, then root); caller frees. */
enum qerr svc_chain_of(struct service *s, const struct ca_rec *issuing, char **out,
                       struct qerr_info *ei);
/* A private-profile order recording certificate `c` (the REST API's
 * POST /orders), inserted with its event inside the caller's transaction;
 * returned when `out` is non-NULL (caller frees). */
enum qerr svc_private_order(struct service *s, const struct cert_rec *c, struct order_rec **out,
                            struct qerr_info *ei);
/* Stores certificate `c` and revokes it at once with `reason` (inside the
 * caller's transaction, CRL published): a certificate whose order or
 * reissue no longer wants it. `event` is the first event's to-status
 * ("issued" or "recovered"). */
enum qerr svc_store_revoked(struct service *s, struct cert_rec *c, int reason, const char *event,
                            const char *why, struct qerr_info *ei);
/* Completes reissue `rid` of certificate `orig_id` with `c` (inside the
 * caller's transaction); `event` as above. *key_blocked (may be NULL): the
 * key was blocked meanwhile and `c` was revoked at once. */
enum qerr svc_reissue_complete_rid(struct service *s, int64_t orig_id, int64_t rid,
                                   struct cert_rec *c, const char *event, bool *key_blocked,
                                   struct qerr_info *ei);

void svc_free_names(char **v, size_t n);
enum qerr svc_normalise_names(const char *const *in, size_t n, enum cert_profile profile,
                              char ***out, size_t *nout, struct qerr_info *ei);
enum qerr svc_new_key_and_csr(const char *alg, char **names, size_t n, EVP_PKEY **key,
                              struct qbuf *csr, struct qerr_info *ei);
void svc_org_of_cert(const struct cert_rec *c, char *out, size_t sz);

#endif
