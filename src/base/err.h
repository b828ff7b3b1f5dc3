/*
 * err.h - errors as values.
 *
 * Every failure quill can report is one `enum qerr` value. The X-macro table
 * below gives, for each value, the stable code a user sees (CLI JSON, REST,
 * logs), the HTTP status a front door answers with, the CLI exit class and a
 * default sentence that says how to fix it. Codes are part of the public
 * contract: never rename one, only add.
 *
 * A `struct qerr_info` carries the code plus a specific human sentence. It is
 * a plain value owned by whoever declared it (usually on the stack); no heap.
 * Any thread may use these functions: they touch no shared state.
 */
#ifndef QUILL_ERR_H
#define QUILL_ERR_H

#include <stddef.h>

/* Exit classes of the CLI contract. */
enum qexit {
        QEXIT_OK = 0,
        QEXIT_REFUSED = 1, /* a rule or a check said no */
        QEXIT_USAGE = 2,   /* the command line is wrong */
        QEXIT_INTERNAL = 3 /* I/O, store, signer, bug */
};

/* X(name, "stable_code", http_status, exit_class, "default sentence") */
#define QERR_TABLE(X)                                                                              \
        X(OK, "ok", 200, QEXIT_OK, "Done.")                                                        \
        X(USAGE, "usage", 400, QEXIT_USAGE, "The command line is not valid; see 'quill help'.")    \
        X(INTERNAL, "internal", 500, QEXIT_INTERNAL,                                               \
          "An internal error happened; the logs have the details. Nothing was changed.")           \
        X(NOMEM, "out_of_memory", 500, QEXIT_INTERNAL, "Out of memory; nothing was changed.")      \
        X(IO, "io_error", 500, QEXIT_INTERNAL,                                                     \
          "A file could not be read or written; check permissions and free space.")                \
        X(DISK_FULL, "disk_full", 507, QEXIT_INTERNAL,                                             \
          "The disk is full (or a size limit was hit); free some space and try again. Nothing "    \
          "was changed.")                                                                          \
        X(BUSY, "busy", 503, QEXIT_INTERNAL,                                                       \
          "The data directory is busy with another quill process; try again in a moment.")         \
        X(STORE, "store_error", 500, QEXIT_INTERNAL,                                               \
          "The database reported an error; nothing was changed. See the logs.")                    \
        X(DATA_DIR, "data_dir_missing", 400, QEXIT_INTERNAL,                                       \
          "The data directory does not exist or is not usable; create it or pass --data DIR.")     \
        X(CONFIG, "config_invalid", 400, QEXIT_USAGE,                                              \
          "The configuration is not valid; run 'quill config check FILE' for details.")            \
        X(NOT_FOUND, "not_found", 404, QEXIT_REFUSED,                                              \
          "No such object; check the id with 'quill cert list'.")                                  \
        X(CA_EXISTS, "ca_exists", 409, QEXIT_REFUSED,                                              \
          "An issuing CA with this key type already exists; use it, or choose another --key.")     \
        X(CA_MISSING, "ca_not_initialised", 409, QEXIT_REFUSED,                                    \
          "No issuing CA fits this request; run 'quill ca init' (with a matching --key) first.")   \
        X(CA_PASSPHRASE_MISSING, "ca_passphrase_missing", 400, QEXIT_USAGE,                        \
          "No CA passphrase: set QUILL_CA_PASSPHRASE or name a file in ca.passphrase_file.")       \
        X(CA_PASSPHRASE_WRONG, "ca_passphrase_wrong", 403, QEXIT_REFUSED,                          \
          "The CA key could not be decrypted: the CA passphrase is wrong.")                        \
        X(PEM_INVALID, "pem_malformed", 400, QEXIT_REFUSED,                                        \
          "The file is not valid PEM (or DER); check that it is complete and not truncated.")      \
        X(CSR_INVALID, "csr_malformed", 400, QEXIT_REFUSED,                                        \
          "The CSR could not be parsed; provide a PKCS#10 request in PEM or DER form.")            \
        X(CSR_SIGNATURE, "csr_bad_signature", 400, QEXIT_REFUSED,                                  \
          "The CSR's self-signature does not verify; generate the CSR again with its own key.")    \
        X(KEY_WEAK, "key_weak", 400, QEXIT_REFUSED,                                                \
          "The key is too weak; use RSA 2048 bits or more, ECDSA P-256 or P-384, or SM2.")         \
        X(KEY_UNSUPPORTED, "key_unsupported", 400, QEXIT_REFUSED,                                  \
          "This key type is not supported; use rsa2048, rsa3072, rsa4096, ec256, ec384 or sm2.")   \
        X(KEY_INVALID, "key_malformed", 400, QEXIT_REFUSED,                                        \
          "The private key could not be read; provide a PEM private key (PKCS#8 or "               \
          "traditional).")                                                                         \
        X(KEY_PASSWORD, "key_password_wrong", 403, QEXIT_REFUSED,                                  \
          "The private key password is wrong (or a password is needed); try again with the "       \
          "right one.")                                                                            \
        X(KEY_NOT_HELD, "key_not_held", 409, QEXIT_REFUSED,                                        \
          "The service does not hold this certificate's private key; this format needs it. "       \
          "Use --format pem, or build the bundle with your own key.")                              \
        X(NAME_INVALID, "name_invalid", 400, QEXIT_REFUSED,                                        \
          "A name is not a valid DNS name (letters, digits, hyphens; labels up to 63 bytes; "      \
          "253 in all; a wildcard only as the whole first label).")                                \
        X(POLICY_DENIED, "policy_denied", 403, QEXIT_REFUSED,                                      \
          "The request breaks issuance policy; see the message for the rule.")                     \
        X(REVOKE_UPLOADED, "revoke_uploaded", 409, QEXIT_REFUSED,                                  \
          "Uploaded certificates cannot be revoked here; ask the CA that issued it.")              \
        X(REVOKE_REISSUED, "revoke_reissued_certificate", 409, QEXIT_REFUSED,                      \
          "A reissued certificate cannot be revoked on its own; revoke the original, which "       \
          "revokes every certificate reissued from it.")                                           \
        X(REVOKE_RENEWAL, "revoke_renewal_in_progress", 409, QEXIT_REFUSED,                        \
          "The certificate expires within 30 days and a renewal is in progress; finish or cancel " \
          "the renewal first.")                                                                    \
        X(REVOKE_ALREADY, "revoke_already_requested", 409, QEXIT_REFUSED,                          \
          "A revocation was already submitted for this certificate; it cannot be cancelled or "    \
          "repeated.")                                                                             \
        X(REVOKE_REASON, "revoke_reason_invalid", 400, QEXIT_USAGE,                                \
          "Unknown revocation reason; use unspecified, keyCompromise, affiliationChanged, "        \
          "superseded, cessationOfOperation or privilegeWithdrawn.")                               \
        X(REVOKE_STATUS, "revoke_not_allowed", 409, QEXIT_REFUSED,                                 \
          "Only an issued, unexpired certificate can be revoked.")                                 \
        X(DOWNLOAD_REVOKED, "download_revoked", 409, QEXIT_REFUSED,                                \
          "The certificate is revoked (or its revocation is pending) and can no longer be "        \
          "downloaded.")                                                                           \
        X(DOWNLOAD_STATUS, "download_not_allowed", 409, QEXIT_REFUSED,                             \
          "The certificate is not issued yet (or was deleted); nothing to download.")              \
        X(FORMAT_INVALID, "format_invalid", 400, QEXIT_USAGE,                                      \
          "Unknown download format; use pem, nginx, apache, iis or tomcat.")                       \
        X(PASSWORD_REQUIRED, "password_required", 400, QEXIT_USAGE,                                \
          "This format needs a password (--password) to protect the PKCS#12 file.")                \
        X(REISSUE_STATUS, "reissue_not_allowed", 409, QEXIT_REFUSED,                               \
          "Only an issued certificate can be reissued.")                                           \
        X(REISSUE_TOO_LATE, "reissue_validity_too_short", 409, QEXIT_REFUSED,                      \
          "The certificate has 30 days or less of validity left; apply for a new certificate "     \
          "instead.")                                                                              \
        X(REISSUE_LIMIT, "reissue_limit_reached", 409, QEXIT_REFUSED,                              \
          "A free DV certificate can be reissued only once; apply for a new certificate.")         \
        X(REISSUE_IN_PROGRESS, "reissue_in_progress", 409, QEXIT_REFUSED,                          \
          "A reissue of this certificate is already in progress; wait for it to finish.")          \
        X(REISSUE_DOMAIN_LOCKED, "reissue_domain_locked", 409, QEXIT_REFUSED,                      \
          "Another certificate under the same registered domain is being reissued; wait for it "   \
          "to finish.")                                                                            \
        X(REISSUE_UPLOADED, "reissue_uploaded", 409, QEXIT_REFUSED,                                \
          "Uploaded certificates cannot be reissued here; upload the new one instead.")            \
        X(DELETE_NOT_REVOKED, "delete_requires_revocation", 409, QEXIT_REFUSED,                    \
          "An unexpired certificate can be deleted only after it is revoked; revoke it first.")    \
        X(UPLOAD_CERT, "upload_cert_invalid", 400, QEXIT_REFUSED,                                  \
          "The uploaded certificate could not be read; provide it in PEM form.")                   \
        X(UPLOAD_KEY_MISMATCH, "upload_key_mismatch", 400, QEXIT_REFUSED,                          \
          "The private key does not belong to the certificate; upload the matching key.")          \
        X(UPLOAD_CHAIN, "upload_chain_invalid", 400, QEXIT_REFUSED,                                \
          "The chain does not verify the certificate; include every intermediate up to a "         \
          "trusted root.")                                                                         \
        X(UPLOAD_DUPLICATE, "upload_duplicate", 409, QEXIT_REFUSED,                                \
          "This certificate is already stored here.")                                              \
        X(SIGNER_REFUSED, "signer_refused", 403, QEXIT_REFUSED,                                    \
          "The signer refused the request because it is outside the issuing profile.")             \
        X(SIGNER_UNAVAILABLE, "signer_unavailable", 503, QEXIT_INTERNAL,                           \
          "The signer process is not available; check the logs and restart quill.")                \
        X(CAA_FORBIDDEN, "caa_forbidden", 403, QEXIT_REFUSED,                                      \
          "A CAA record forbids this CA for the name; add this CA's identity to the record, or "   \
          "remove the record.")                                                                    \
        X(VALIDATION_TIMEOUT, "validation_timeout", 409, QEXIT_REFUSED,                            \
          "The validation record was not seen before the deadline; publish it and apply again.")   \
        X(VALIDATION_MISMATCH, "validation_mismatch", 409, QEXIT_REFUSED,                          \
          "A validation record was found but holds the wrong value; publish the value shown for "  \
          "the order and apply again.")                                                            \
        X(FILE_UNREACHABLE, "file_unreachable", 409, QEXIT_REFUSED,                                \
          "The validation file could not be fetched over http on port 80 (or https on 443); "      \
          "check the web server and that the validation addresses may reach it.")                  \
        X(DNS_ERROR, "dns_error", 409, QEXIT_REFUSED,                                              \
          "A DNS lookup failed (SERVFAIL, DNSSEC failure or timeout); fix the DNS servers of the " \
          "domain and apply again. A failed lookup is never taken as permission.")                 \
        X(REVIEW_REJECTED, "review_rejected", 403, QEXIT_REFUSED,                                  \
          "A reviewer rejected the order; the reason says why.")                                   \
        X(ORDER_STATE, "order_not_allowed", 409, QEXIT_REFUSED,                                    \
          "The order is not in a state that allows this; see 'quill order show'.")                 \
        X(LETTER_INVALID, "revocation_letter_invalid", 400, QEXIT_REFUSED,                         \
          "An OV/EV revocation needs the signed letter as a JPG, PNG or PDF file of at most 1.4 "  \
          "MB "                                                                                    \
          "(checked by its content); pass it with --letter FILE.")                                 \
        X(PROTO, "signer_protocol", 500, QEXIT_INTERNAL,                                           \
          "A malformed message crossed the signer channel; this is a bug, see the logs.")          \
        X(TENANT_EXISTS, "tenant_exists", 409, QEXIT_REFUSED,                                      \
          "A tenant with this name already exists; choose another name.")                          \
        X(TENANT_UNKNOWN, "tenant_unknown", 404, QEXIT_REFUSED,                                    \
          "No such tenant; see 'quill tenant list' (or create it with 'quill tenant create').")    \
        X(TENANT_INVALID, "tenant_name_invalid", 400, QEXIT_USAGE,                                 \
          "A tenant name has 1 to 63 characters: lower-case letters, digits, '-', '_' and '.', "   \
          "starting with a letter or digit.")                                                      \
        X(UNAUTHORIZED, "unauthorized", 401, QEXIT_REFUSED,                                        \
          "No valid API key: send 'Authorization: Bearer <token>' with a key that is not "         \
          "revoked (an admin creates keys with 'quill key create').")                              \
        X(FORBIDDEN, "forbidden", 403, QEXIT_REFUSED,                                              \
          "This key's role may not do this; ask an admin for a key with the right role.")          \
        X(REVIEW_OWN, "review_own_order", 403, QEXIT_REFUSED,                                      \
          "A principal cannot decide a review of an order it created; another reviewer must "      \
          "decide it.")                                                                            \
        X(RATE_LIMITED, "rate_limited", 429, QEXIT_REFUSED,                                        \
          "Too many requests for this tenant; wait for the time in Retry-After and try again.")    \
        X(DATA_KEY_WRONG, "data_key_wrong", 500, QEXIT_INTERNAL,                                   \
          "A stored private key could not be opened with this data key (QUILL_DATA_KEY or "        \
          "[keys] data_key_file): give the data key it was stored with.")                          \
        X(MALFORMED, "malformed_request", 400, QEXIT_USAGE,                                        \
          "The request body is not valid: send a JSON object with the documented fields and "      \
          "types (see docs/api.md).")                                                              \
        X(BASE_URL_PRIVATE, "base_url_private", 409, QEXIT_REFUSED,                                \
          "[server] base_url is a loopback or private address (or localhost), and it would be "    \
          "written into a publicly trusted certificate where relying parties cannot reach it; "    \
          "set base_url in quill.conf to this server's public URL (e.g. "                          \
          "http://pki.example.com) and restart.") \
        X(BODY_TOO_LARGE, "body_too_large", 413, QEXIT_REFUSED,                                    \
          "The request body is larger than this route accepts; send a smaller body.")              \
        X(URI_TOO_LONG, "uri_too_long", 414, QEXIT_REFUSED,                                        \
          "The request path and query are too long; shorten them.")                                \
        X(HEADERS_TOO_LARGE, "headers_too_large", 431, QEXIT_REFUSED,                              \
          "The request has too many headers or they are too large; send fewer or smaller "         \
          "headers.")                                                                              \
        X(METHOD_NOT_ALLOWED, "method_not_allowed", 405, QEXIT_REFUSED,                            \
          "This path does not answer this method; use one of the methods listed in the Allow "     \
          "header.")                                                                               \
        X(UNAVAILABLE, "server_unavailable", 503, QEXIT_INTERNAL,                                  \
          "The server cannot answer this request right now (it is starting, stopping or short of " \
          "a resource); try again in a moment.")                                                   \
        X(TLS_INVALID, "tls_invalid", 400, QEXIT_USAGE,                                            \
          "The TLS certificate or key could not be used: give a PEM certificate chain (leaf "      \
          "first) and the matching unencrypted PEM private key.") \
        X(LINT_FAILED, "lint_failed", 422, QEXIT_REFUSED,                                          \
          "The certificate or CRL would break a rule of RFC 5280 or the Baseline Requirements, "   \
          "so the signer refused to sign it; the message names the check (see "                    \
          "docs/internals/lint.md). Fix the request or the setting it comes from.") \
        X(CA_PASSPHRASE_WEAK, "ca_passphrase_weak", 400, QEXIT_USAGE,                              \
          "The CA passphrase is shorter than 12 characters; choose a longer one (CA keys "         \
          "encrypted under a short one must be re-encrypted, see docs/operations.md).")            \
        X(KEY_PASSWORD_WEAK, "key_password_weak", 400, QEXIT_USAGE,                                \
          "A private-key password needs at least 8 characters; choose a longer one.")              \
        X(CRL_NUMBER_STALE, "crl_number_not_increasing", 500, QEXIT_INTERNAL,                      \
          "The signer refused a CRL number that is not above the last one it signed for this "     \
          "CA; the database is older than the key directory (restored from a backup?). See the "   \
          "logs.")                                                                                 \
        X(KEY_BLOCKED, "key_blocked", 409, QEXIT_REFUSED,                                          \
          "This public key was reported compromised (a revocation with reason keyCompromise, or "  \
          "an operator's block), so no certificate may carry it any more; generate a new key "     \
          "pair (and a new CSR) and try again.")                                                   \
        X(VALIDATION_EXPIRED, "validation_expired", 409, QEXIT_REFUSED,                            \
          "A domain validation of this order is older than the reuse period the Baseline "         \
          "Requirements allow on the day of issuance (the order waited too long, e.g. in "         \
          "review); apply again so that the names are validated anew.")                            \
        X(KEY_PROOF_INVALID, "key_proof_invalid", 403, QEXIT_REFUSED,                              \
          "The proof of possession does not hold: sign the current key-compromise statement "      \
          "(see docs/rules.md) with the private key of the reported public key.") \
        X(WEBHOOK_URL_INVALID, "webhook_url_invalid", 400, QEXIT_REFUSED,                          \
          "The webhook URL cannot be used: give an http:// or https:// URL of at most 2048 "       \
          "characters, without a user name or password, whose host is a public address "           \
          "(loopback and private addresses are refused unless [notify] "                           \
          "allow_private_addresses = true).")                                                      \
        X(WEBHOOK_SECRET_INVALID, "webhook_secret_invalid", 400, QEXIT_REFUSED,                    \
          "A webhook secret has 16 to 256 characters; choose a long random one (it signs every "   \
          "delivery in X-Quill-Signature).")                                                       \
        X(WEBHOOK_LIMIT, "webhook_limit_reached", 409, QEXIT_REFUSED,                              \
          "This tenant already has the most webhooks allowed (20); delete one first.")             \
        X(CONTACT_INVALID, "contact_email_invalid", 400, QEXIT_REFUSED,                            \
          "A contact must be a plain email address (local@domain.example, at most 254 "            \
          "characters, no display name); give at most 20.")                                        \
        X(TLS_ALPN_UNREACHABLE, "tls_alpn_unreachable", 409, QEXIT_REFUSED,                        \
          "The tls-alpn-01 validation could not connect to the name's TLS server on port 443 "     \
          "(connection refused, timeout, or no public address); check that the server answers "    \
          "on port 443 at the name's public addresses and that the validation addresses may "      \
          "reach it.")                                                                             \
        X(TLS_ALPN_HANDSHAKE, "tls_alpn_handshake_failed", 409, QEXIT_REFUSED,                     \
          "The TLS handshake of the tls-alpn-01 validation failed; the server must speak TLS 1.2 " \
          "or later and answer the ALPN protocol acme-tls/1 with the validation certificate "      \
          "(RFC 8737).")                                                                           \
        X(TLS_ALPN_NOT_NEGOTIATED, "tls_alpn_not_negotiated", 409, QEXIT_REFUSED,                  \
          "The TLS server did not select the ALPN protocol acme-tls/1; configure it (or your "     \
          "ACME client's tls-alpn-01 responder) to answer acme-tls/1 with the validation "         \
          "certificate (RFC 8737).")                                                               \
        X(TLS_ALPN_CERT_INVALID, "tls_alpn_certificate_invalid", 409, QEXIT_REFUSED,               \
          "The tls-alpn-01 validation certificate is not what RFC 8737 asks for: exactly one "     \
          "subjectAltName, the name (or IP address) being validated, and a critical "              \
          "acmeIdentifier extension (1.3.6.1.5.5.7.1.31) holding the SHA-256 digest of the key "   \
          "authorization as an OCTET STRING. Let your ACME client make it.")

enum qerr {
#define QERR_ENUM(name, code, http, exitc, msg) QERR_##name,
        QERR_TABLE(QERR_ENUM)
#undef QERR_ENUM
            QERR__COUNT
};

/* A code plus the sentence for this occurrence. `msg` is always a
 * NUL-terminated string; empty means "use the default sentence". */
#define QERR_MSG_MAX 512
struct qerr_info {
        enum qerr code;
        char msg[QERR_MSG_MAX];
};

/* Stable code string ("csr_malformed"); never NULL, static, do not free. */
const char *qerr_code(enum qerr e);
/* Default sentence; static, do not free. */
const char *qerr_default_msg(enum qerr e);
int qerr_http_status(enum qerr e);
enum qexit qerr_exit(enum qerr e);
/* Look up an error by its stable code; QERR__COUNT if unknown. */
enum qerr qerr_from_code(const char *code);

/* Set `ei` (may be NULL) to `e` with a printf-style sentence; returns `e`
 * so callers can write `return qerr_set(ei, QERR_X, "...")`. A NULL fmt
 * takes the default sentence. */
enum qerr qerr_set(struct qerr_info *ei, enum qerr e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The sentence to show: ei->msg, or the default when it is empty. */
const char *qerr_message(const struct qerr_info *ei);
void qerr_clear(struct qerr_info *ei);

#endif
