/*
 * service_acme.h - the service core's ACME functions (issue 8): accounts
 * (with external account binding), orders, authorizations and their
 * challenges, finalize, certificate download and revocation, and the
 * workers' challenge validation. The ACME front door (src/acme) decodes the
 * JWS and the payload, then calls one of these; every state change is
 * written here with its event in one store transaction.
 *
 * An ACME order is its own row until it is finalized; then it is linked to
 * an ordinary order (purpose issue, profile dv) whose names are already
 * validated, so review, CAA re-checks, issuance, events and notifications
 * are the same as for every other front door.
 *
 * Memory: records filled here are the caller's (acme_*_clear). Threads: one
 * service handle per thread, as service.h says; each handle keeps a small
 * cache of parsed account keys (by thumbprint, so a key change is seen at
 * once by every handle: the account row is read on every request).
 */
#ifndef QUILL_SERVICE_ACME_H
#define QUILL_SERVICE_ACME_H

#include "../base/model_acme.h"
#include "../pki/jws.h"
#include "service.h"

struct dns_resolver;

/* Challenge types; tls-alpn-01 plugs in here (acme-val helper). */
enum acme_chall { ACME_HTTP01 = 0, ACME_DNS01, ACME_TLSALPN01, ACME_CHALL__COUNT };
const char *acme_chall_name(enum acme_chall c);
bool acme_chall_from_name(const char *s, enum acme_chall *out);
/* Whether an identifier is an IP address (RFC 8738 "ip"), not a DNS name. */
bool acme_name_is_ip(const char *name);
/* Whether challenge `c` is offered for an authorization (http-01 is not
 * for wildcards). */
bool acme_chall_offered(enum acme_chall c, const struct acme_authz_rec *z);

/* Verifies `j` (a kid request) with the key of account `id` and acts as the
 * account from now on (its tenant, role user). ACME_ACCOUNT_MISSING,
 * ACME_ACCOUNT_INACTIVE, JWS_SIGNATURE, JWS_ALGORITHM. */
enum qerr service_acme_auth(struct service *s, int64_t id, const struct jws *j,
                            struct acme_account_rec *out, struct qerr_info *ei);

struct acme_new_account_req {
        const struct jws *jws; /* the request, with its jwk (verified here) */
        const char *const *contacts;
        size_t ncontacts;
        bool only_existing;
        bool tos_agreed;
        const struct jws *eab; /* the inner JWS of externalAccountBinding, or NULL */
};
/* newAccount: *created false when the key has an account already (returned).
 * ACME_EAB_REQUIRED, ACME_EAB_INVALID, ACME_ACCOUNT_MISSING (only_existing),
 * CONTACT_INVALID, ACME_PUBLIC_KEY (blocked key). */
enum qerr service_acme_account_new(struct service *s, const struct acme_new_account_req *r,
                                   struct acme_account_rec *out, bool *created,
                                   struct qerr_info *ei);
/* Account update: new contacts (when set_contacts) and/or deactivation. */
enum qerr service_acme_account_update(struct service *s, struct acme_account_rec *a,
                                      bool set_contacts, const char *const *contacts, size_t n,
                                      bool deactivate, struct qerr_info *ei);
/* keyChange: `inner` is the inner JWS (its jwk the new key, verified here);
 * old_jwk the payload's oldKey. A key that belongs to another account:
 * QERR_CONFLICT-like ACME_UNAUTHORIZED with *other set to that account. */
enum qerr service_acme_key_change(struct service *s, struct acme_account_rec *a,
                                  const struct jws *inner, json_t *old_jwk, int64_t *other,
                                  struct qerr_info *ei);

/* An order as the client sees it. */
struct acme_order_view {
        struct acme_order_rec o;
        char status[16]; /* pending, ready, processing, valid, invalid */
        int64_t cert_id;
        char error_code[40];
        char error_detail[QERR_MSG_MAX];
};
void acme_order_view_clear(struct acme_order_view *v);

struct acme_new_order_req {
        const char *const *names; /* "*.x" for wildcards */
        const bool *ip;           /* per name: an identifier of type ip (RFC 8738); NULL: none */
        size_t n;
        const char *profile; /* NULL: the default */
        const char *replaces;
};
/* newOrder: `profile` one of policy_profiles (profile.h; unknown:
 * ACME_PROFILE); IP identifiers only where the profile allows them;
 * `replaces` an ARI certID of a certificate of this account not replaced
 * already (ACME_REPLACES, ACME_ALREADY_REPLACED), exempt from the rate
 * limits. Reuses valid authorizations of the account (BR reuse period),
 * makes new ones for the rest. RATE_LIMITED (*retry_after seconds),
 * NAME_INVALID, POLICY_DENIED, MALFORMED (unknown profile). */
enum qerr service_acme_order_new(struct service *s, const struct acme_account_rec *a,
                                 const struct acme_new_order_req *r, struct acme_order_view *out,
                                 long *retry_after, struct qerr_info *ei);
enum qerr service_acme_order_get(struct service *s, const struct acme_account_rec *a, int64_t id,
                                 struct acme_order_view *out, struct qerr_info *ei);
/* The order ids of the account, newest first (caller frees *ids). */
enum qerr service_acme_order_list(struct service *s, const struct acme_account_rec *a,
                                  int64_t before_id, size_t limit, int64_t **ids, size_t *n,
                                  struct qerr_info *ei);
/* finalize: the CSR (DER) must name exactly the identifiers with a good,
 * unblocked key. ACME_NOT_READY, ACME_CSR_NAMES, CSR_*, KEY_*. */
enum qerr service_acme_finalize(struct service *s, const struct acme_account_rec *a, int64_t id,
                                const uint8_t *csr_der, size_t len, struct acme_order_view *out,
                                struct qerr_info *ei);
/* The certificate of an order as a PEM chain (leaf first); caller frees. */
enum qerr service_acme_cert(struct service *s, const struct acme_account_rec *a, int64_t order_id,
                            char **pem, struct qerr_info *ei);

enum qerr service_acme_authz_get(struct service *s, const struct acme_account_rec *a, int64_t id,
                                 struct acme_authz_rec *out, struct qerr_info *ei);
enum qerr service_acme_authz_deactivate(struct service *s, const struct acme_account_rec *a,
                                        int64_t id, struct acme_authz_rec *out,
                                        struct qerr_info *ei);
/* The client says the challenge is ready: the authorization goes to the
 * workers. account_uri: the account URL (CAA accounturi). */
enum qerr service_acme_challenge(struct service *s, const struct acme_account_rec *a, int64_t id,
                                 enum acme_chall type, const char *account_uri,
                                 struct acme_authz_rec *out, long *retry_after,
                                 struct qerr_info *ei);
/* The key authorization of a token for an account ("token.thumbprint"). */
void acme_key_authorization(const char *token, const char *thumbprint, char *out, size_t sz);

/* revokeCert: cert (DER) signed by the account that owns it (a != NULL) or
 * by its key (certkey). keyCompromise by the key blocks it and revokes every
 * certificate with it (every tenant). ACME_UNAUTHORIZED, ACME_ALREADY_REVOKED,
 * REVOKE_REASON. */
enum qerr service_acme_revoke(struct service *s, const struct acme_account_rec *a,
                              const struct jws_key *certkey, const uint8_t *der, size_t len,
                              int reason, struct qerr_info *ei);

/* ARI (RFC 9773): the suggested renewal window of the certificate named
 * by `certid` (keyIdentifier.serial, base64url). MALFORMED (a bad certID),
 * NOT_FOUND (no such certificate here). Needs no account. */
struct ari_window;
enum qerr service_acme_renewal_info(struct service *s, const char *certid, struct ari_window *out,
                                    struct qerr_info *ei);
/* newOrder's replaces (svc_acme_ari.c). */
enum qerr svc_acme_check_replaces(struct service *s, const struct acme_account_rec *a,
                                  const char *certid, struct qerr_info *ei);

/* Workers: validates one due challenge; QERR_NOT_FOUND when none is due. */
enum qerr service_acme_work(struct service *s, struct dns_resolver *dns, const char *owner,
                            struct qerr_info *ei);

/* ---- external account binding keys (the CLI) ---- */
#define EAB_HMAC_BYTES 32
struct eab_create_req {
        const char *tenant;
        const char *label;
        int max_accounts; /* 0: 1 */
        int expires_days; /* 0: never */
};
/* Admin only. hmac_b64 receives the key (base64url, no padding; wipe it). */
enum qerr service_eab_create(struct service *s, const struct eab_create_req *r, struct eab_rec *out,
                             char hmac_b64[64], struct qerr_info *ei);
enum qerr service_eab_list(struct service *s, struct eab_rec **out, size_t *n,
                           struct qerr_info *ei);
enum qerr service_eab_revoke(struct service *s, const char *kid, struct qerr_info *ei);

/* the per-handle key cache (service_close frees it) */
void svc_acme_cache_free(void *cache);

#endif
