/*
 * policy.h - the certificate life-cycle rules of RULES.md §5-§8 as pure
 * functions.
 *
 * Given objects and "now", each function says whether a transition may
 * happen and, if not, which stable error (with a sentence naming the facts
 * that decided it). No I/O, no clock, no allocation that outlives a call: the
 * caller gathers the facts (from the store) and passes them in, so every rule
 * is tested by a table in tests/unit/test_policy.c. Any thread.
 *
 * The one outside data source is the public suffix list behind
 * policy_registered_domain(): libpsl's built-in list (read-only data).
 */
#ifndef QUILL_POLICY_H
#define QUILL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "../base/model.h"
#include "../base/qtime.h"

/* Days that decide the windows of §5 and §6. */
#define POLICY_RENEWAL_WINDOW_DAYS 30
#define POLICY_REISSUE_MIN_DAYS_LEFT 30
#define POLICY_REISSUE_NO_REVALIDATION_DAYS 3
#define POLICY_FREE_DV_REISSUES 1

/* ---- §5 revocation ---- */
struct revoke_facts {
        const struct cert_rec *cert;
        qtime_t now;
        /* a renewal (a new order or reissue for the same names) is under way;
         * its description, for the message, e.g. "reissue 7" */
        bool renewal_in_progress;
        const char *renewal_label;
};
/* QERR_OK, or one of REVOKE_UPLOADED, REVOKE_REISSUED, REVOKE_ALREADY,
 * REVOKE_STATUS (expired or deleted), REVOKE_RENEWAL. */
enum qerr policy_may_revoke(const struct revoke_facts *f, struct qerr_info *ei);

/* ---- §5 and §7 download ---- */
/* QERR_OK, DOWNLOAD_REVOKED (revoked or revocation pending) or DOWNLOAD_STATUS
 * (deleted). Expired certificates may still be downloaded. */
enum qerr policy_may_download(const struct cert_rec *c, qtime_t now, struct qerr_info *ei);

/* ---- §6 reissue ---- */
struct reissue_facts {
        const struct cert_rec *cert; /* the certificate to reissue */
        qtime_t now;
        /* completed reissues in this certificate's lineage (original + its
         * reissues) */
        int lineage_reissues;
        /* another certificate under the same registered domain is being
         * reissued: its id and the registered domain; 0/NULL when free */
        int64_t locked_by_cert;
        const char *locked_domain;
        /* the locking certificate belongs to another tenant: the refusal
         * names the domain only, never that tenant's certificate */
        bool locked_by_other_tenant;
};
/* QERR_OK, or REISSUE_UPLOADED, REISSUE_IN_PROGRESS, REISSUE_STATUS,
 * REISSUE_TOO_LATE, REISSUE_LIMIT, REISSUE_DOMAIN_LOCKED. */
enum qerr policy_may_reissue(const struct reissue_facts *f, struct qerr_info *ei);
/* §6 and BR 4.2.1 (issue 7): validation is skipped when the CSR is the
 * original one, or when the reissue comes less than 3 days after the
 * original was issued, and in both cases only while the names' validation
 * is within the reuse period in force today (policy_validation_fresh).
 * `validated_at` is the oldest of the names' newest validations (0 when a
 * name has none); `reuse_cap_days` is [validation] reuse_days. */
bool policy_reissue_needs_validation(bool same_csr, qtime_t original_issued_at,
                                     qtime_t validated_at, long reuse_cap_days, qtime_t now);

/* ---- §7 delete ---- */
/* QERR_OK when revoked, or expired; DELETE_NOT_REVOKED for an unexpired
 * certificate that is not revoked (a pending revocation is not enough);
 * NOT_FOUND when already deleted. Uploaded certificates cannot be revoked
 * here, so they may be deleted at any time. */
enum qerr policy_may_delete(const struct cert_rec *c, qtime_t now, struct qerr_info *ei);

/* ---- §8 validity ---- */
/* Longest validity in days allowed for `profile` on `issue_date`. For public
 * profiles: the CA/B Forum schedule (398 before 2026-03-15, 200 from then, 100
 * from 2027-03-15, 47 from 2029-03-15), lowered by `public_cap_days` when that
 * is > 0. For the private profile: `private_max_days`. */
long policy_max_validity_days(enum cert_profile profile, qtime_t issue_date, long public_cap_days,
                              long private_max_days);
/* QERR_OK or POLICY_DENIED. The validity period counts both ends (RFC 5280,
 * BR 1.6.1): not_after - not_before + 1 second must be at most max days. */
enum qerr policy_check_validity(enum cert_profile profile, qtime_t not_before, qtime_t not_after,
                                long public_cap_days, long private_max_days, struct qerr_info *ei);

/* ---- validation reuse (BR 4.2.1, issue 7) ---- */
/* How many days a domain validation may be reused for a certificate issued
 * on `day`: the CA/B Forum schedule (398 before 2026-03-15, 200 from then,
 * 100 from 2027-03-15, 10 from 2029-03-15), lowered by `cap_days` when that
 * is > 0, never raised. */
long policy_validation_reuse_days(qtime_t day, long cap_days);
/* May a validation made at `validated_at` still be used for an issuance at
 * `now`? True when it is at most policy_validation_reuse_days(now) days old
 * (one made "after" now, by a clock a little ahead, counts as fresh); false
 * for 0 (no validation). */
bool policy_validation_fresh(qtime_t validated_at, qtime_t now, long cap_days);

/* ---- names ---- */
/* Checks one requested name and writes its normalised (lower-case, no
 * trailing dot) form to `out`. DNS names: LDH labels of 1-63 bytes, at most
 * 253 bytes, at least two labels, no leading/trailing hyphen, a wildcard only
 * as the whole leftmost label of a name with at least 3 labels when
 * `allow_wildcard`; IP literals only when `allow_ip` (v4 dotted quad or v6).
 * QERR_OK, NAME_INVALID, or POLICY_DENIED (IP literal / wildcard not allowed,
 * or a public suffix itself such as "co.uk" or "*.com"). */
enum qerr policy_check_name(const char *name, bool allow_wildcard, bool allow_ip, char *out,
                            size_t outsz, struct qerr_info *ei);
/* The same with flags; POLICY_NAME_LOCALHOST also accepts the single name
 * "localhost" (RFC 6761: it always means the loopback host), which only the
 * private profile certifies (e.g. quill's own HTTPS listener). */
enum { POLICY_NAME_WILDCARD = 1, POLICY_NAME_IP = 2, POLICY_NAME_LOCALHOST = 4 };
/* The flags of a profile: private allows wildcards, IPs and localhost;
 * public profiles wildcards only. */
unsigned policy_name_flags(bool private_profile);
enum qerr policy_check_name_ex(const char *name, unsigned flags, char *out, size_t outsz,
                               struct qerr_info *ei);
/* Internal names (issue 7): is the top-level label of `name` (a DNS name,
 * any case, an optional trailing dot and a leading "*." ignored) outside the
 * public DNS? True when it is not in the ICANN section of the public suffix
 * list (".test", ".local", ".internal", ".example", ".invalid", ".lan" ...),
 * or is one of the special-use domains the list names but no publicly
 * trusted certificate may (".onion", RFC 7686, which needs the BR's
 * Appendix B methods; ".arpa", infrastructure). Single-label names are
 * internal too. */
bool policy_name_is_internal(const char *name);
/* Is `name` itself a suffix of the ICANN section of the public suffix list
 * ("com", "co.uk")? Case-insensitive; no wildcard handling. */
bool policy_name_is_public_suffix(const char *name);
/* The rule of the public profiles (dv, ov, ev) applied before any
 * validation: IP literals and internal names (policy_name_is_internal) are
 * refused with POLICY_DENIED and a sentence naming the name and the way out
 * (the private profile). `name` is one that policy_check_name accepted. */
enum qerr policy_check_public_name(const char *name, struct qerr_info *ei);
/* Registered domain of a DNS name by the public suffix list ("a.b.example.co.uk"
 * -> "example.co.uk"); a leading "*." is ignored. false when the name is a
 * public suffix itself or has no registrable part. */
bool policy_registered_domain(const char *name, char *out, size_t outsz);

/* ---- issue 6: the URL written into public certificates ---- */
/* QERR_OK for the private profile or when `allow_private` ([validation]
 * allow_private_addresses, tests only); else BASE_URL_PRIVATE when the host
 * of `base_url` is localhost (or under .localhost), or an IP address (any
 * spelling URL parsers accept) that is not public (src/base/netaddr.h), or
 * missing. Host names are not looked up. */
enum qerr policy_base_url_ok(enum cert_profile profile, const char *base_url, bool allow_private,
                             struct qerr_info *ei);

/* ---- §5 OV/EV revocation letters ---- */
#define POLICY_LETTER_MAX_BYTES 1400000 /* 1.4 MB */
/* The signed letter of an OV/EV revocation: JPG, PNG or PDF, at most 1.4 MB,
 * recognised by its content (structure markers), never by a file name.
 * Writes "jpg", "png" or "pdf" to type[4]. QERR_OK or LETTER_INVALID. */
enum qerr policy_check_letter(const uint8_t *p, size_t len, char type[4], struct qerr_info *ei);

/* ---- §4 risk control ---- */
/* Does any label of `name` contain one of `words` (lower-case), compared
 * case-insensitively, on the label as written and again with digits and
 * hyphens removed ("pay-pal1" matches "paypal")? Substring matching: a brand
 * inside a longer label ("paypal-login") is exactly what review is for.
 * Writes the first matching word and label into `why`. */
bool policy_risk_match(const char *name, const char *const *words, size_t nwords, char *why,
                       size_t whysz);

/* ---- CRL shards (docs/internals/crl.md) ---- */
/* The shard, 0..shards-1, of the certificate with serial `serial_hex` (hex
 * digits, either case, leading zeros ignored) when `shards` CRLs are in
 * force: FNV-1a (32 bits) over the serial's big-endian magnitude bytes,
 * modulo `shards`. Spreads random and sequential serials alike; stable (it
 * is part of every certificate's CRL distribution point). -1 when the
 * serial is not hex (or longer than 20 bytes) or shards is not 1..256. */
int policy_crl_shard(const char *serial_hex, int shards);

#endif
