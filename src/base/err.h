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

/* X(name, "stable_code", http_status, exit_class, "acme_type", "default sentence")
 *
 * acme_type is the ACME problem type (RFC 8555 section 6.7) a front door
 * answers with: "urn:ietf:params:acme:error:" followed by it ("" for OK). */
#define QERR_TABLE(X)                                                                              \
        X(OK, "ok", 200, QEXIT_OK, "", "Done.")                                                    \
        X(USAGE, "usage", 400, QEXIT_USAGE, "malformed",                                           \
          "The command line is not valid; see 'quill help'.")                                      \
        X(INTERNAL, "internal", 500, QEXIT_INTERNAL, "serverInternal",                             \
          "An internal error happened; the logs have the details. Nothing was changed.")           \
        X(NOMEM, "out_of_memory", 500, QEXIT_INTERNAL, "serverInternal",                           \
          "Out of memory; nothing was changed.")                                                   \
        X(IO, "io_error", 500, QEXIT_INTERNAL, "serverInternal",                                   \
          "A file could not be read or written; check permissions and free space.")                \
        X(DISK_FULL, "disk_full", 507, QEXIT_INTERNAL, "serverInternal",                           \
          "The disk is full (or a size limit was hit); free some space and try again. Nothing "    \
          "was changed.")                                                                          \
        X(BUSY, "busy", 503, QEXIT_INTERNAL, "serverInternal",                                     \
          "The data directory is busy with another quill process; try again in a moment.")         \
        X(STORE, "store_error", 500, QEXIT_INTERNAL, "serverInternal",                             \
          "The database reported an error; nothing was changed. See the logs.")                    \
        X(DATA_DIR, "data_dir_missing", 400, QEXIT_INTERNAL, "malformed",                          \
          "The data directory does not exist or is not usable; create it or pass --data DIR.")     \
        X(CONFIG, "config_invalid", 400, QEXIT_USAGE, "malformed",                                 \
          "The configuration is not valid; run 'quill config check FILE' for details.")            \
        X(NOT_FOUND, "not_found", 404, QEXIT_REFUSED, "malformed",                                 \
          "No such object; check the id with 'quill cert list'.")                                  \
        X(CA_EXISTS, "ca_exists", 409, QEXIT_REFUSED, "malformed",                                 \
          "An issuing CA with this key type already exists; use it, or choose another --key.")     \
        X(CA_MISSING, "ca_not_initialised", 409, QEXIT_REFUSED, "malformed",                       \
          "No issuing CA fits this request; run 'quill ca init' (with a matching --key) first.")   \
        X(CA_PASSPHRASE_MISSING, "ca_passphrase_missing", 400, QEXIT_USAGE, "malformed",           \
          "No CA passphrase: set QUILL_CA_PASSPHRASE or name a file in ca.passphrase_file.")       \
        X(CA_PASSPHRASE_WRONG, "ca_passphrase_wrong", 403, QEXIT_REFUSED, "malformed",             \
          "The CA key could not be decrypted: the CA passphrase is wrong.")                        \
        X(PEM_INVALID, "pem_malformed", 400, QEXIT_REFUSED, "malformed",                           \
          "The file is not valid PEM (or DER); check that it is complete and not truncated.")      \
        X(CSR_INVALID, "csr_malformed", 400, QEXIT_REFUSED, "badCSR",                              \
          "The CSR could not be parsed; provide a PKCS#10 request in PEM or DER form.")            \
        X(CSR_SIGNATURE, "csr_bad_signature", 400, QEXIT_REFUSED, "badCSR",                        \
          "The CSR's self-signature does not verify; generate the CSR again with its own key.")    \
        X(KEY_WEAK, "key_weak", 400, QEXIT_REFUSED, "badCSR",                                      \
          "The key is too weak; use RSA 2048 bits or more, ECDSA P-256 or P-384, or SM2.")         \
        X(KEY_UNSUPPORTED, "key_unsupported", 400, QEXIT_REFUSED, "badCSR",                        \
          "This key type is not supported; use rsa2048, rsa3072, rsa4096, ec256, ec384 or sm2.")   \
        X(KEY_INVALID, "key_malformed", 400, QEXIT_REFUSED, "badCSR",                              \
          "The private key could not be read; provide a PEM private key (PKCS#8 or "               \
          "traditional).")                                                                         \
        X(KEY_PASSWORD, "key_password_wrong", 403, QEXIT_REFUSED, "malformed",                     \
          "The private key password is wrong (or a password is needed); try again with the "       \
          "right one.")                                                                            \
        X(KEY_NOT_HELD, "key_not_held", 409, QEXIT_REFUSED, "malformed",                           \
          "The service does not hold this certificate's private key; this format needs it. "       \
          "Use --format pem, or build the bundle with your own key.")                              \
        X(NAME_INVALID, "name_invalid", 400, QEXIT_REFUSED, "rejectedIdentifier",                  \
          "A name is not a valid DNS name (letters, digits, hyphens; labels up to 63 bytes; "      \
          "253 in all; a wildcard only as the whole first label).")                                \
        X(POLICY_DENIED, "policy_denied", 403, QEXIT_REFUSED, "rejectedIdentifier",                \
          "The request breaks issuance policy; see the message for the rule.")                     \
        X(REVOKE_UPLOADED, "revoke_uploaded", 409, QEXIT_REFUSED, "unauthorized",                  \
          "Uploaded certificates cannot be revoked here; ask the CA that issued it.")              \
        X(REVOKE_REISSUED, "revoke_reissued_certificate", 409, QEXIT_REFUSED, "malformed",         \
          "A reissued certificate cannot be revoked on its own; revoke the original, which "       \
          "revokes every certificate reissued from it.")                                           \
        X(REVOKE_RENEWAL, "revoke_renewal_in_progress", 409, QEXIT_REFUSED, "malformed",           \
          "The certificate expires within 30 days and a renewal is in progress; finish or cancel " \
          "the renewal first.")                                                                    \
        X(REVOKE_ALREADY, "revoke_already_requested", 409, QEXIT_REFUSED, "alreadyRevoked",        \
          "A revocation was already submitted for this certificate; it cannot be cancelled or "    \
          "repeated.")                                                                             \
        X(REVOKE_REASON, "revoke_reason_invalid", 400, QEXIT_USAGE, "badRevocationReason",         \
          "Unknown revocation reason; use unspecified, keyCompromise, affiliationChanged, "        \
          "superseded, cessationOfOperation or privilegeWithdrawn.")                               \
        X(REVOKE_STATUS, "revoke_not_allowed", 409, QEXIT_REFUSED, "malformed",                    \
          "Only an issued, unexpired certificate can be revoked.")                                 \
        X(DOWNLOAD_REVOKED, "download_revoked", 409, QEXIT_REFUSED, "malformed",                   \
          "The certificate is revoked (or its revocation is pending) and can no longer be "        \
          "downloaded.")                                                                           \
        X(DOWNLOAD_STATUS, "download_not_allowed", 409, QEXIT_REFUSED, "malformed",                \
          "The certificate is not issued yet (or was deleted); nothing to download.")              \
        X(FORMAT_INVALID, "format_invalid", 400, QEXIT_USAGE, "malformed",                         \
          "Unknown download format; use pem, nginx, apache, iis or tomcat.")                       \
        X(PASSWORD_REQUIRED, "password_required", 400, QEXIT_USAGE, "malformed",                   \
          "This format needs a password (--password) to protect the PKCS#12 file.")                \
        X(REISSUE_STATUS, "reissue_not_allowed", 409, QEXIT_REFUSED, "malformed",                  \
          "Only an issued certificate can be reissued.")                                           \
        X(REISSUE_TOO_LATE, "reissue_validity_too_short", 409, QEXIT_REFUSED, "malformed",         \
          "The certificate has 30 days or less of validity left; apply for a new certificate "     \
          "instead.")                                                                              \
        X(REISSUE_LIMIT, "reissue_limit_reached", 409, QEXIT_REFUSED, "malformed",                 \
          "A free DV certificate can be reissued only once; apply for a new certificate.")         \
        X(REISSUE_IN_PROGRESS, "reissue_in_progress", 409, QEXIT_REFUSED, "malformed",             \
          "A reissue of this certificate is already in progress; wait for it to finish.")          \
        X(REISSUE_DOMAIN_LOCKED, "reissue_domain_locked", 409, QEXIT_REFUSED, "malformed",         \
          "Another certificate under the same registered domain is being reissued; wait for it "   \
          "to finish.")                                                                            \
        X(REISSUE_UPLOADED, "reissue_uploaded", 409, QEXIT_REFUSED, "malformed",                   \
          "Uploaded certificates cannot be reissued here; upload the new one instead.")            \
        X(DELETE_NOT_REVOKED, "delete_requires_revocation", 409, QEXIT_REFUSED, "malformed",       \
          "An unexpired certificate can be deleted only after it is revoked; revoke it first.")    \
        X(UPLOAD_CERT, "upload_cert_invalid", 400, QEXIT_REFUSED, "malformed",                     \
          "The uploaded certificate could not be read; provide it in PEM form.")                   \
        X(UPLOAD_KEY_MISMATCH, "upload_key_mismatch", 400, QEXIT_REFUSED, "malformed",             \
          "The private key does not belong to the certificate; upload the matching key.")          \
        X(UPLOAD_CHAIN, "upload_chain_invalid", 400, QEXIT_REFUSED, "malformed",                   \
          "The chain does not verify the certificate; include every intermediate up to a "         \
          "trusted root.")                                                                         \
        X(UPLOAD_DUPLICATE, "upload_duplicate", 409, QEXIT_REFUSED, "malformed",                   \
          "This certificate is already stored here.")                                              \
        X(SIGNER_REFUSED, "signer_refused", 403, QEXIT_REFUSED, "rejectedIdentifier",              \
          "The signer refused the request because it is outside the issuing profile.")             \
        X(SIGNER_UNAVAILABLE, "signer_unavailable", 503, QEXIT_INTERNAL, "serverInternal",         \
          "The signer process is not available; check the logs and restart quill.")                \
        X(CAA_FORBIDDEN, "caa_forbidden", 403, QEXIT_REFUSED, "caa",                               \
          "A CAA record forbids this CA for the name; add this CA's identity to the record, or "   \
          "remove the record.")                                                                    \
        X(VALIDATION_TIMEOUT, "validation_timeout", 409, QEXIT_REFUSED, "incorrectResponse",       \
          "The validation record was not seen before the deadline; publish it and apply again.")   \
        X(VALIDATION_MISMATCH, "validation_mismatch", 409, QEXIT_REFUSED, "incorrectResponse",     \
          "A validation record was found but holds the wrong value; publish the value shown for "  \
          "the order and apply again.")                                                            \
        X(FILE_UNREACHABLE, "file_unreachable", 409, QEXIT_REFUSED, "connection",                  \
          "The validation file could not be fetched over http on port 80 (or https on 443); "      \
          "check the web server and that the validation addresses may reach it.")                  \
        X(DNS_ERROR, "dns_error", 409, QEXIT_REFUSED, "dns",                                       \
          "A DNS lookup failed (SERVFAIL, DNSSEC failure or timeout); fix the DNS servers of the " \
          "domain and apply again. A failed lookup is never taken as permission.")                 \
        X(REVIEW_REJECTED, "review_rejected", 403, QEXIT_REFUSED, "rejectedIdentifier",            \
          "A reviewer rejected the order; the reason says why.")                                   \
        X(ORDER_STATE, "order_not_allowed", 409, QEXIT_REFUSED, "orderNotReady",                   \
          "The order is not in a state that allows this; see 'quill order show'.")                 \
        X(LETTER_INVALID, "revocation_letter_invalid", 400, QEXIT_REFUSED, "malformed",            \
          "An OV/EV revocation needs the signed letter as a JPG, PNG or PDF file of at most 1.4 "  \
          "MB "                                                                                    \
          "(checked by its content); pass it with --letter FILE.")                                 \
        X(PROTO, "signer_protocol", 500, QEXIT_INTERNAL, "serverInternal",                         \
          "A malformed message crossed the signer channel; this is a bug, see the logs.")          \
        X(TENANT_EXISTS, "tenant_exists", 409, QEXIT_REFUSED, "malformed",                         \
          "A tenant with this name already exists; choose another name.")                          \
        X(TENANT_UNKNOWN, "tenant_unknown", 404, QEXIT_REFUSED, "malformed",                       \
          "No such tenant; see 'quill tenant list' (or create it with 'quill tenant create').")    \
        X(TENANT_INVALID, "tenant_name_invalid", 400, QEXIT_USAGE, "malformed",                    \
          "A tenant name has 1 to 63 characters: lower-case letters, digits, '-', '_' and '.', "   \
          "starting with a letter or digit.")                                                      \
        X(UNAUTHORIZED, "unauthorized", 401, QEXIT_REFUSED, "unauthorized",                        \
          "No valid API key: send 'Authorization: Bearer <token>' with a key that is not "         \
          "revoked (an admin creates keys with 'quill key create').")                              \
        X(FORBIDDEN, "forbidden", 403, QEXIT_REFUSED, "unauthorized",                              \
          "This key's role may not do this; ask an admin for a key with the right role.")          \
        X(REVIEW_OWN, "review_own_order", 403, QEXIT_REFUSED, "unauthorized",                      \
          "A principal cannot decide a review of an order it created; another reviewer must "      \
          "decide it.")                                                                            \
        X(RATE_LIMITED, "rate_limited", 429, QEXIT_REFUSED, "rateLimited",                         \
          "Too many requests for this tenant; wait for the time in Retry-After and try again.")    \
        X(DATA_KEY_WRONG, "data_key_wrong", 500, QEXIT_INTERNAL, "serverInternal",                 \
          "A stored private key could not be opened with this data key (QUILL_DATA_KEY or "        \
          "[keys] data_key_file): give the data key it was stored with.")                          \
        X(MALFORMED, "malformed_request", 400, QEXIT_USAGE, "malformed",                           \
          "The request body is not valid: send a JSON object with the documented fields and "      \
          "types (see docs/api.md).")                                                              \
        X(BASE_URL_PRIVATE, "base_url_private", 409, QEXIT_REFUSED, "malformed",                   \
          "[server] base_url is a loopback or private address (or localhost), and it would be "    \
          "written into a publicly trusted certificate where relying parties cannot reach it; "    \
          "set base_url in quill.conf to this server's public URL (e.g. "                          \
          "http://pki.example.com) and restart.")                                                  \
        X(BODY_TOO_LARGE, "body_too_large", 413, QEXIT_REFUSED, "malformed",                       \
          "The request body is larger than this route accepts; send a smaller body.")              \
        X(URI_TOO_LONG, "uri_too_long", 414, QEXIT_REFUSED, "malformed",                           \
          "The request path and query are too long; shorten them.")                                \
        X(HEADERS_TOO_LARGE, "headers_too_large", 431, QEXIT_REFUSED, "malformed",                 \
          "The request has too many headers or they are too large; send fewer or smaller "         \
          "headers.")                                                                              \
        X(METHOD_NOT_ALLOWED, "method_not_allowed", 405, QEXIT_REFUSED, "malformed",               \
          "This path does not answer this method; use one of the methods listed in the Allow "     \
          "header.")                                                                               \
        X(UNAVAILABLE, "server_unavailable", 503, QEXIT_INTERNAL, "serverInternal",                \
          "The server cannot answer this request right now (it is starting, stopping or short of " \
          "a resource); try again in a moment.")                                                   \
        X(TLS_INVALID, "tls_invalid", 400, QEXIT_USAGE, "malformed",                               \
          "The TLS certificate or key could not be used: give a PEM certificate chain (leaf "      \
          "first) and the matching unencrypted PEM private key.")                                  \
        X(LINT_FAILED, "lint_failed", 422, QEXIT_REFUSED, "badCSR",                                \
          "The certificate or CRL would break a rule of RFC 5280 or the Baseline Requirements, "   \
          "so the signer refused to sign it; the message names the check (see "                    \
          "docs/internals/lint.md). Fix the request or the setting it comes from.")                \
        X(CA_PASSPHRASE_WEAK, "ca_passphrase_weak", 400, QEXIT_USAGE, "malformed",                 \
          "The CA passphrase is shorter than 12 characters; choose a longer one (CA keys "         \
          "encrypted under a short one must be re-encrypted, see docs/operations.md).")            \
        X(KEY_PASSWORD_WEAK, "key_password_weak", 400, QEXIT_USAGE, "malformed",                   \
          "A private-key password needs at least 8 characters; choose a longer one.")              \
        X(CRL_NUMBER_STALE, "crl_number_not_increasing", 500, QEXIT_INTERNAL, "serverInternal",    \
          "The signer refused a CRL number that is not above the last one it signed for this "     \
          "CA; the database is older than the key directory (restored from a backup?). See the "   \
          "logs.")                                                                                 \
        X(KEY_BLOCKED, "key_blocked", 409, QEXIT_REFUSED, "badCSR",                                \
          "This public key was reported compromised (a revocation with reason keyCompromise, or "  \
          "an operator's block), so no certificate may carry it any more; generate a new key "     \
          "pair (and a new CSR) and try again.")                                                   \
        X(VALIDATION_EXPIRED, "validation_expired", 409, QEXIT_REFUSED, "unauthorized",            \
          "A domain validation of this order is older than the reuse period the Baseline "         \
          "Requirements allow on the day of issuance (the order waited too long, e.g. in "         \
          "review); apply again so that the names are validated anew.")                            \
        X(KEY_PROOF_INVALID, "key_proof_invalid", 403, QEXIT_REFUSED, "unauthorized",              \
          "The proof of possession does not hold: sign the current key-compromise statement "      \
          "(see docs/rules.md) with the private key of the reported public key.")                  \
        X(WEBHOOK_URL_INVALID, "webhook_url_invalid", 400, QEXIT_REFUSED, "malformed",             \
          "The webhook URL cannot be used: give an http:// or https:// URL of at most 2048 "       \
          "characters, without a user name or password, whose host is a public address "           \
          "(loopback and private addresses are refused unless [notify] "                           \
          "allow_private_addresses = true).")                                                      \
        X(WEBHOOK_SECRET_INVALID, "webhook_secret_invalid", 400, QEXIT_REFUSED, "malformed",       \
          "A webhook secret has 16 to 256 characters; choose a long random one (it signs every "   \
          "delivery in X-Quill-Signature).")                                                       \
        X(WEBHOOK_LIMIT, "webhook_limit_reached", 409, QEXIT_REFUSED, "malformed",                 \
          "This tenant already has the most webhooks allowed (20); delete one first.")             \
        X(CONTACT_INVALID, "contact_email_invalid", 400, QEXIT_REFUSED, "invalidContact",          \
          "A contact must be a plain email address (local@domain.example, at most 254 "            \
          "characters, no display name); give at most 20.")                                        \
        X(JWS_INVALID, "jws_malformed", 400, QEXIT_REFUSED, "malformed",                           \
          "The request is not a valid flattened JWS (RFC 7515) of JSON: send protected, payload "  \
          "and signature as base64url strings, with Content-Type application/jose+json.")          \
        X(JWS_ALGORITHM, "jws_bad_algorithm", 400, QEXIT_REFUSED, "badSignatureAlgorithm",         \
          "The JWS algorithm is not accepted; sign with ES256, ES384, RS256 (RSA of 2048 bits or " \
          "more) or EdDSA (Ed25519).")                                                             \
        X(JWS_SIGNATURE, "jws_bad_signature", 403, QEXIT_REFUSED, "malformed",                     \
          "The JWS signature does not verify with the account key; sign the request with the "     \
          "key the account was created with.")                                                     \
        X(JWS_URL, "jws_url_mismatch", 400, QEXIT_REFUSED, "unauthorized",                         \
          "The protected header's url is not the URL the request was sent to; sign the exact "     \
          "request URL.")                                                                          \
        X(ACME_BAD_NONCE, "acme_bad_nonce", 400, QEXIT_REFUSED, "badNonce",                        \
          "The nonce is missing, unknown, expired or already used; take the fresh one from the "   \
          "Replay-Nonce header of this answer and send the request again.")                        \
        X(ACME_PUBLIC_KEY, "acme_bad_public_key", 400, QEXIT_REFUSED, "badPublicKey",              \
          "The account key is not acceptable: use an ECDSA P-256 or P-384 key, an RSA key of "     \
          "2048 to 8192 bits, or an Ed25519 key that is not blocked.")                             \
        X(ACME_ACCOUNT_MISSING, "acme_account_does_not_exist", 400, QEXIT_REFUSED,                 \
          "accountDoesNotExist",                                                                   \
          "No ACME account exists for this key (or kid); create one with newAccount.")             \
        X(ACME_ACCOUNT_INACTIVE, "acme_account_deactivated", 401, QEXIT_REFUSED, "unauthorized",   \
          "The ACME account is deactivated; create a new account with a new key.")                 \
        X(ACME_EAB_REQUIRED, "acme_eab_required", 400, QEXIT_REFUSED, "externalAccountRequired",   \
          "This server needs an external account binding: ask the operator for an EAB kid and "    \
          "HMAC key ('quill eab create') and pass them to your ACME client.")                      \
        X(ACME_EAB_INVALID, "acme_eab_invalid", 401, QEXIT_REFUSED, "unauthorized",                \
          "The external account binding does not hold (unknown, revoked, expired or used-up kid, " \
          "a wrong MAC, or it binds another key); ask the operator for a new EAB key.")            \
        X(ACME_IDENTIFIER, "acme_identifier_unsupported", 400, QEXIT_REFUSED,                      \
          "unsupportedIdentifier",                                                                 \
          "This identifier type is not supported here; order DNS names (type \"dns\").")           \
        X(ACME_CSR_NAMES, "acme_csr_names_mismatch", 400, QEXIT_REFUSED, "badCSR",                 \
          "The CSR must name exactly the order's identifiers (no more, no fewer); make a new CSR " \
          "with those names.")                                                                     \
        X(ACME_NOT_READY, "acme_order_not_ready", 403, QEXIT_REFUSED, "orderNotReady",             \
          "The order is not ready to be finalized: every authorization must be valid first (or "   \
          "it was finalized already); look at the order's status.")                                \
        X(ACME_MEDIA_TYPE, "acme_bad_content_type", 415, QEXIT_REFUSED, "malformed",               \
          "ACME requests are POSTs with Content-Type application/jose+json.")                      \
        X(ACME_UNAUTHORIZED, "acme_unauthorized", 403, QEXIT_REFUSED, "unauthorized",              \
          "This account may not act on this object (it belongs to another account, or the key "    \
          "does not match); use the account that made it.")                                        \
        X(ACME_ALREADY_REVOKED, "acme_already_revoked", 400, QEXIT_REFUSED, "alreadyRevoked",      \
          "The certificate is already revoked.")                                                   \
        X(ISSUE_IN_PROGRESS, "issuance_in_progress", 409, QEXIT_REFUSED, "serverInternal",         \
          "Another quill process is signing the certificate of this order (or reissue) right "     \
          "now; wait a moment and look at the order again.")                                       \
        X(SERIAL_TAKEN, "serial_taken", 500, QEXIT_INTERNAL, "serverInternal",                     \
          "The serial number drawn for this certificate was used before; nothing was signed. "     \
          "Try again (a new one is drawn).")                                                       \
        X(CERT_RECOVERED, "certificate_recovered", 409, QEXIT_REFUSED, "serverInternal",           \
          "This certificate was signed, then stored by another quill process's recovery while "    \
          "this request was stalled (past its reservation lease); find it with 'quill cert "       \
          "list' or GET /api/v1/certificates.")                                                    \
        X(TLS_ALPN_UNREACHABLE, "tls_alpn_unreachable", 409, QEXIT_REFUSED, "connection",          \
          "The tls-alpn-01 validation could not connect to the name's TLS server on port 443 "     \
          "(connection refused, timeout, or no public address); check that the server answers "    \
          "on port 443 at the name's public addresses and that the validation addresses may "      \
          "reach it.")                                                                             \
        X(TLS_ALPN_HANDSHAKE, "tls_alpn_handshake_failed", 409, QEXIT_REFUSED, "tls",              \
          "The TLS handshake of the tls-alpn-01 validation failed; the server must speak TLS 1.2 " \
          "or later and answer the ALPN protocol acme-tls/1 with the validation certificate "      \
          "(RFC 8737).")                                                                           \
        X(TLS_ALPN_NOT_NEGOTIATED, "tls_alpn_not_negotiated", 409, QEXIT_REFUSED, "tls",           \
          "The TLS server did not select the ALPN protocol acme-tls/1; configure it (or your "     \
          "ACME client's tls-alpn-01 responder) to answer acme-tls/1 with the validation "         \
          "certificate (RFC 8737).")                                                               \
        X(TLS_ALPN_CERT_INVALID, "tls_alpn_certificate_invalid", 409, QEXIT_REFUSED,               \
          "incorrectResponse",                                                                     \
          "The tls-alpn-01 validation certificate is not what RFC 8737 asks for: exactly one "     \
          "subjectAltName, the name (or IP address) being validated, and a critical "              \
          "acmeIdentifier extension (1.3.6.1.5.5.7.1.31) holding the SHA-256 digest of the key "   \
          "authorization as an OCTET STRING. Let your ACME client make it.")                       \
        X(ACME_PROFILE, "acme_profile_unknown", 400, QEXIT_REFUSED, "invalidProfile",              \
          "The order names a profile this server does not offer; choose one of the profiles "      \
          "listed in meta.profiles of the ACME directory (or name none for classic).")             \
        X(ACME_REPLACES, "acme_replaces_unknown", 400, QEXIT_REFUSED, "malformed",                 \
          "The order's replaces field must be the ARI certificate identifier (RFC 9773: "          \
          "keyIdentifier.serial in base64url) of a certificate this account ordered here; "        \
          "send the identifier of the certificate being renewed, or leave replaces out.")          \
        X(ACME_ALREADY_REPLACED, "acme_already_replaced", 409, QEXIT_REFUSED, "alreadyReplaced",   \
          "The certificate named in replaces is already being replaced by another order of "       \
          "this account; finish that order, or leave replaces out.")

enum qerr {
#define QERR_ENUM(name, code, http, exitc, acme, msg) QERR_##name,
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
/* The ACME problem type without its "urn:ietf:params:acme:error:" prefix
 * ("malformed", "badNonce", ...); "" for QERR_OK. Static, do not free. */
const char *qerr_acme_type(enum qerr e);
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
