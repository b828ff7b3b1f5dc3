/*
 * config.c - schema table and INI loading; see config.h.
 */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "email.h"
#include "fsutil.h"
#include "log.h"
#include "netaddr.h"

enum ctype { CT_STRING, CT_INT, CT_ENUM, CT_URL, CT_BOOL, CT_NETS, CT_DAYS, CT_SMTP, CT_EMAIL };

struct setting {
        const char *section;
        const char *key;
        enum ctype type;
        size_t off;
        const char *def;
        long min, max;      /* CT_INT */
        const char *values; /* CT_ENUM: '|' separated */
        const char *doc;
};

#define OFF(f) offsetof(struct qconfig, f)

static const struct setting schema[] = {
    {"server", "listen", CT_STRING, OFF(server_listen), "127.0.0.1:8080", 0, 0, NULL,
     "Address and port `quill serve` listens on for plain HTTP: what relying parties fetch "
     "(CA certificates, CRLs, OCSP), `/healthz` and `/metrics`. Restart to change."},
    {"server", "base_url", CT_URL, OFF(server_base_url), "http://127.0.0.1:8080", 0, 0, NULL,
     "Public URL prefix of this server, written into certificates as the CRL distribution "
     "point (`/crl/<ca>/<shard>.crl`), OCSP (`/ocsp`) and caIssuers (`/ca/<ca>.der`) URLs. Use "
     "http://: the Baseline Requirements want these URLs over http, and the signer's linter "
     "refuses https ones in CA and publicly trusted certificates (private ones get a "
     "warning)."},
    {"server", "user", CT_STRING, OFF(server_user), "", 0, 0, NULL,
     "When quill starts as root: the user the main process (database, HTTP, jobs) switches to "
     "right after the signer has started, before any thread exists. Empty: quill keeps running "
     "as the user that started it (and warns when that is root)."},
    {"signer", "user", CT_STRING, OFF(signer_user), "", 0, 0, NULL,
     "When quill starts as root: the user the signer process runs as. quill makes the key "
     "directory `<data>/ca` (and the files in it) this user's, mode 0700, so that it alone "
     "can read the CA keys. Empty: the signer runs as the user of the main process."},
    {"ca", "passphrase_file", CT_STRING, OFF(ca_passphrase_file), "", 0, 0, NULL,
     "File holding the passphrase that encrypts CA private keys at rest. The environment "
     "variable QUILL_CA_PASSPHRASE takes precedence."},
    {"ca", "crl_hours", CT_INT, OFF(ca_crl_hours), "168", 1, 240, NULL,
     "Hours between a CRL's thisUpdate and nextUpdate (at most 10 days, as the CA/B Forum "
     "requires)."},
    {"crl", "shards", CT_INT, OFF(crl_shards), "16", 1, 256, NULL,
     "How many CRLs (shards) each issuing CA publishes. A certificate's shard is fixed when it "
     "is issued (from its serial, with the count in force then) and named in its CRL "
     "distribution point (`/crl/<ca>/<shard>.crl`); changing the count later never moves "
     "existing certificates, and shards once used keep being published."},
    {"keys", "data_key_file", CT_STRING, OFF(keys_data_key_file), "", 0, 0, NULL,
     "File with the 32-byte data key (64 hex digits) that encrypts subscriber keys the "
     "service generated. Empty: `<data>/secrets/data.key`, created on first use. "
     "QUILL_DATA_KEY (64 hex digits) takes precedence."},
    {"profile", "private_max_days", CT_INT, OFF(private_max_days), "365", 1, 3650, NULL,
     "Longest validity, in days, of a certificate under the private profile."},
    {"profile", "public_max_days", CT_INT, OFF(public_max_days), "0", 0, 398, NULL,
     "Longest validity, in days, of a publicly trusted certificate. 0 follows the CA/B "
     "Forum schedule on the issue date (200 days from 2026-03-15, 100 from 2027-03-15, 47 "
     "from 2029-03-15); a value only ever lowers that limit."},
    {"log", "level", CT_ENUM, OFF(log_level), "info", 0, 0, "debug|info|warn|error",
     "Lowest level that is logged."},
    {"store", "busy_ms", CT_INT, OFF(store_busy_ms), "15000", 10, 600000, NULL,
     "How long a command waits for another quill process holding the database lock."},
    {"dns", "resolver", CT_STRING, OFF(dns_resolver), "", 0, 0, NULL,
     "HOST:PORT of a DNS server to send every query to (forwarding), special-use names such "
     "as .test and .internal included. Empty: full recursion from the root."},
    {"dns", "timeout_ms", CT_INT, OFF(dns_timeout_ms), "5000", 100, 60000, NULL,
     "How long one DNS lookup may take before it counts as a timeout (dns_error)."},
    {"dns", "retries", CT_INT, OFF(dns_retries), "1", 0, 5, NULL,
     "How many times a lookup that timed out or failed with SERVFAIL is asked again."},
    {"dns", "trust_anchor_file", CT_STRING, OFF(dns_trust_anchor_file), "/usr/share/dns/root.key",
     0, 0, NULL,
     "DNSSEC trust anchors (DS or DNSKEY records in zone-file form). Answers that fail "
     "validation are dns_error, never permission. Empty: no DNSSEC validation."},
    {"caa", "identities", CT_STRING, OFF(caa_identities), "quill.invalid", 0, 0, NULL,
     "Comma-separated issuer domain names of this CA, as CAA `issue` records name it (compared "
     "case-insensitively)."},
    {"caa", "climb_past_inapplicable", CT_BOOL, OFF(caa_climb_past_inapplicable), "true", 0, 1,
     NULL,
     "true: a CAA set with nothing that applies to the request (e.g. only `issuewild` for a "
     "non-wildcard name) does not stop the climb to the parent (stricter). false: the first "
     "non-empty set decides (RFC 8659 as written)."},
    {"validation", "http_port", CT_INT, OFF(validation_http_port), "80", 1, 65535, NULL,
     "Port of file validation over http. For tests only: the Baseline Requirements allow 80 "
     "only."},
    {"validation", "https_port", CT_INT, OFF(validation_https_port), "443", 1, 65535, NULL,
     "Port that redirects to https may use. For tests only: the Baseline Requirements allow 443 "
     "only."},
    {"validation", "tls_alpn_port", CT_INT, OFF(validation_tls_alpn_port), "443", 1, 65535, NULL,
     "Port the ACME tls-alpn-01 validation connects to (RFC 8737). For tests only: the Baseline "
     "Requirements allow 443 only."},
    {"validation", "timeout_ms", CT_INT, OFF(validation_timeout_ms), "10000", 100, 120000, NULL,
     "How long one file fetch (file method, http-01) or one tls-alpn-01 connection and handshake "
     "may take."},
    {"validation", "source_addresses", CT_STRING, OFF(validation_source_addresses), "", 0, 0, NULL,
     "The addresses validation requests come from, listed in file_unreachable messages so that "
     "users can let them through a firewall."},
    {"validation", "deadline_seconds", CT_INT, OFF(validation_deadline_seconds), "259200", 5,
     2592000, NULL,
     "How long an order waits for its records (259200 s = 72 hours) before it fails with "
     "the last attempt's code (validation_timeout, validation_mismatch, file_unreachable or "
     "dns_error). Revocation proofs always have 3 days."},
    {"validation", "token_days", CT_INT, OFF(validation_token_days), "30", 1, 30, NULL,
     "How long a validation value stays usable (at most 30 days, as the Baseline Requirements "
     "require)."},
    {"validation", "reuse_days", CT_INT, OFF(validation_reuse_days), "0", 0, 398, NULL,
     "How long, in days, a tenant's successful domain validation of a name is reused by its "
     "later orders (and lets a reissue with the original CSR skip validation), counted to the "
     "day of issuance. 0 follows the CA/B Forum schedule on that day (398 days before "
     "2026-03-15, 200 from then, 100 from 2027-03-15, 10 from 2029-03-15); a value only ever "
     "lowers that limit."},
    {"validation", "allow_private_addresses", CT_BOOL, OFF(validation_allow_private_addresses),
     "false", 0, 1, NULL,
     "For tests only (logged as a warning at start): true lets file validation (and ACME "
     "http-01 and tls-alpn-01) connect to "
     "loopback, private and every other special-purpose address, and lets public certificates "
     "carry a [server] base_url on such an address. false (production): validation connects "
     "only to public addresses, and dv, ov and ev certificates are refused while base_url is "
     "loopback, private or localhost (base_url_private)."},
    {"validation", "allow_addresses", CT_NETS, OFF(validation_allow_addresses), "", 0, 0, NULL,
     "For tests only (logged as a warning at start): address blocks (e.g. `127.0.0.1/32, "
     "::1/128`) that file validation treats as public although they are special-purpose, so a "
     "test can let the first request reach its loopback web server and still see every other "
     "special-purpose address refused. Empty in production."},
    {"risk", "words_file", CT_STRING, OFF(risk_words_file), "", 0, 0, NULL,
     "File of sensitive words and brand names, one per line (# comments). An order with a name "
     "whose label contains one (case-insensitively, also with digits and hyphens removed) waits "
     "for manual review."},
    {"jobs", "workers", CT_INT, OFF(jobs_workers), "2", 1, 32, NULL,
     "Worker threads of `quill serve` that run validation, CAA, issuance and CRL jobs."},
    {"api", "rate_per_second", CT_INT, OFF(api_rate_per_second), "50", 0, 1000000, NULL,
     "REST API requests per second each tenant may make on average (a token bucket per "
     "tenant, shared by all its keys); more are answered 429 with Retry-After. 0: no limit."},
    {"api", "burst", CT_INT, OFF(api_burst), "100", 1, 1000000, NULL,
     "How many REST API requests a tenant may make at once above its rate (the bucket's "
     "size)."},
    {"server", "api_listen", CT_STRING, OFF(server_api_listen), "127.0.0.1:8443", 0, 0, NULL,
     "Address and port of the HTTPS listener of `quill serve` (REST API, later ACME and the "
     "console). Restart to change."},
    {"server", "api_names", CT_STRING, OFF(server_api_names), "localhost,127.0.0.1", 0, 0, NULL,
     "Comma-separated names (DNS names, `localhost`, IP addresses) of the certificate quill "
     "issues itself, with its own CA, for the HTTPS listener when no `tls_cert_file` is set. "
     "A change takes effect on SIGHUP (a new certificate is issued)."},
    {"server", "api_cert_days", CT_INT, OFF(server_api_cert_days), "90", 1, 3650, NULL,
     "Validity in days of that certificate (at most `[profile] private_max_days`). It is issued "
     "again when less than a third of its validity is left, checked at start, every few "
     "minutes and on SIGHUP."},
    {"server", "tls_cert_file", CT_STRING, OFF(server_tls_cert_file), "", 0, 0, NULL,
     "PEM certificate chain (leaf first, then the issuing CAs) of the HTTPS listener, instead "
     "of one issued by quill. Read again on SIGHUP without dropping connections."},
    {"server", "tls_key_file", CT_STRING, OFF(server_tls_key_file), "", 0, 0, NULL,
     "Unencrypted PEM private key (RSA or ECDSA) of `tls_cert_file`. Read again on SIGHUP."},
    {"server", "threads", CT_INT, OFF(server_threads), "0", 0, 256, NULL,
     "Request threads per listener, each with its own service handle. 0: one per CPU core. "
     "Restart to change."},
    {"server", "metrics_loopback_only", CT_BOOL, OFF(server_metrics_loopback_only), "true", 0, 1,
     NULL,
     "true: `/metrics` answers only clients on a loopback address (others get 404). Restart "
     "to change."},
    {"server", "max_connections", CT_INT, OFF(server_max_connections), "1024", 16, 100000, NULL,
     "Open connections each listener accepts at most; more are refused. Restart to change."},
    {"server", "timeout_seconds", CT_INT, OFF(server_timeout_seconds), "30", 1, 3600, NULL,
     "A connection that sends nothing for this long (idle between requests, or stalled in "
     "one) is closed. Restart to change."},
    {"server", "stop_grace_seconds", CT_INT, OFF(server_stop_grace_seconds), "10", 0, 300, NULL,
     "On SIGTERM or SIGINT, how long requests in flight may take to finish before the "
     "listeners close."},
    {"notify", "workers", CT_INT, OFF(notify_workers), "2", 1, 16, NULL,
     "Threads of `quill serve` that deliver notifications (webhooks and email) from the "
     "outbox in the database. Restart to change."},
    {"notify", "timeout_ms", CT_INT, OFF(notify_timeout_ms), "10000", 100, 120000, NULL,
     "How long one delivery attempt may take (connecting, sending, the answer's status "
     "line); longer counts as a failed attempt."},
    {"notify", "max_attempts", CT_INT, OFF(notify_max_attempts), "10", 1, 30, NULL,
     "Attempts per delivery before it is given up (state `failed` in the delivery log)."},
    {"notify", "retry_base_seconds", CT_INT, OFF(notify_retry_base_seconds), "60", 1, 3600, NULL,
     "The first wait before a failed delivery is tried again; later waits grow from it "
     "(1, 5, 15, 30, 60, 120, 240, 360 and 600 times it, plus up to 10% jitter): with 60, "
     "ten attempts span about a day."},
    {"notify", "allow_private_addresses", CT_BOOL, OFF(notify_allow_private_addresses), "false", 0,
     1, NULL,
     "true lets webhooks go to loopback, private and other special-purpose addresses (for "
     "organisations whose receivers live inside their network; logged as a warning at "
     "start). false: webhook URLs whose host is, or resolves to, such an address are refused "
     "when registered, and every delivery connects only to public addresses."},
    {"acme", "terms_url", CT_STRING, OFF(acme_terms_url), "", 0, 0, NULL,
     "URL of the terms of service shown to ACME clients (`meta.termsOfService` of "
     "`/acme/directory`); empty: none, and newAccount does not ask for agreement."},
    {"acme", "website", CT_STRING, OFF(acme_website), "", 0, 0, NULL,
     "URL of a page about this CA for ACME clients (`meta.website`); empty: none."},
    {"acme", "eab_required", CT_BOOL, OFF(acme_eab_required), "false", 0, 1, NULL,
     "true: every new ACME account needs an external account binding (`quill eab create`), "
     "and belongs to the EAB key's tenant (`meta.externalAccountRequired`). false: accounts "
     "without one belong to [acme] tenant."},
    {"acme", "tenant", CT_STRING, OFF(acme_tenant), "acme", 0, 0, NULL,
     "The tenant of ACME accounts created without an external account binding (created on "
     "first use)."},
    {"acme", "orders_per_hour", CT_INT, OFF(acme_orders_per_hour), "300", 0, 1000000, NULL,
     "New ACME orders one account may create per hour (answered `rateLimited` with "
     "Retry-After beyond it); replacement orders (`replaces`) do not count. 0: no limit."},
    {"acme", "failed_validations_per_hour", CT_INT, OFF(acme_failed_validations_per_hour), "60", 0,
     1000000, NULL,
     "Failed ACME challenge validations one account may have per hour before new challenge "
     "requests are answered `rateLimited`. 0: no limit."},
    {"acme", "nonce_seconds", CT_INT, OFF(acme_nonce_seconds), "300", 10, 86400, NULL,
     "How long an ACME Replay-Nonce stays usable (each once)."},
    {"notify", "expiry_days", CT_DAYS, OFF(notify_expiry_days), "30,7,1", 0, 0, NULL,
     "Days before not-after at which the owning tenant is warned that a certificate expires "
     "(event `certificate.expiring`), each threshold once per certificate."},
    {"notify", "expiry_scan_seconds", CT_INT, OFF(notify_expiry_scan_seconds), "300", 1, 86400,
     NULL,
     "How often `quill serve` looks for certificates that crossed an expiry threshold (each "
     "look reads only the certificates that crossed one since the last)."},
    {"smtp", "url", CT_SMTP, OFF(smtp_url), "", 0, 0, NULL,
     "The mail server notifications are sent through, e.g. `smtp://127.0.0.1:25` (or "
     "`smtps://` for TLS from the start). Empty: no email; webhooks only."},
    {"smtp", "from", CT_EMAIL, OFF(smtp_from), "quill@localhost", 0, 0, NULL,
     "The sender address of notification email."},
    {"ocsp", "response_hours", CT_INT, OFF(ocsp_response_hours), "96", 8, 240, NULL,
     "Validity of a pre-signed OCSP response (nextUpdate - thisUpdate), in hours: at least 8 "
     "and at most 240 (10 days), as the Baseline Requirements (4.9.10) require. Responses are "
     "signed again when half of it has passed, and at once when their certificate is issued "
     "or revoked."},
    {"ocsp", "responder_days", CT_INT, OFF(ocsp_responder_days), "7", 1, 30, NULL,
     "Validity in days of the delegated OCSP responder certificate of each issuing CA (its key "
     "never leaves the signer process; id-pkix-ocsp-nocheck makes it unrevocable, so it is "
     "short-lived). A new one is made when less than response_hours plus an hour of it is "
     "left, and whenever the signer process starts; it must therefore last at least "
     "response_hours plus two hours."},
    {"ocsp", "max_age_seconds", CT_INT, OFF(ocsp_max_age_seconds), "3600", 0, 864000, NULL,
     "Upper bound of the Cache-Control max-age of OCSP answers (RFC 5019 6.2); the answer's "
     "own nextUpdate bounds it too. Lower it to make HTTP caches between quill and relying "
     "parties pass revocations on sooner."},
};

#define NSETTINGS (sizeof schema / sizeof schema[0])

static char **str_at(struct qconfig *c, const struct setting *s)
{
        return (char **)((char *)c + s->off);
}

static long *long_at(struct qconfig *c, const struct setting *s)
{
        return (long *)((char *)c + s->off);
}

static bool enum_ok(const char *values, const char *v)
{
        size_t n = strlen(v);
        const char *p = values;
        while (*p) {
                const char *bar = strchr(p, '|');
                size_t len = bar ? (size_t)(bar - p) : strlen(p);
                if (len == n && strncmp(p, v, n) == 0)
                        return true;
                if (!bar)
                        break;
                p = bar + 1;
        }
        return false;
}

/* Sets one value; returns NULL or a static reason. */
static const char *set_value(struct qconfig *c, const struct setting *s, const char *v)
{
        if (s->type == CT_BOOL) {
                if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
                        *long_at(c, s) = 1;
                else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
                        *long_at(c, s) = 0;
                else
                        return "is not true or false";
                return NULL;
        }
        if (s->type == CT_INT) {
                char *end;
                errno = 0;
                long x = strtol(v, &end, 10);
                if (errno || end == v || *end)
                        return "is not a whole number";
                if (x < s->min || x > s->max)
                        return "is out of range";
                *long_at(c, s) = x;
                return NULL;
        }
        if (s->type == CT_NETS) {
                struct netaddr_list l;
                if (netaddr_list_parse(v, &l, NULL) != QERR_OK)
                        return "is not a list of IP address blocks (such as 127.0.0.1/32, "
                               "::1/128; no bits set after the prefix)";
        }
        if (s->type == CT_DAYS) {
                int d[CONFIG_MAX_EXPIRY_DAYS];
                size_t n = 0;
                if (!config_parse_days(v, d, CONFIG_MAX_EXPIRY_DAYS, &n))
                        return "is not a list of whole days from 1 to 3650 (such as 30,7,1; at "
                               "most 8)";
        }
        if (s->type == CT_SMTP && *v &&
            ((strncmp(v, "smtp://", 7) != 0 && strncmp(v, "smtps://", 8) != 0) ||
             strpbrk(v, " \t\r\n\"") || strlen(v) > 400))
                return "must be empty or an smtp:// or smtps:// URL without spaces";
        if (s->type == CT_EMAIL && !email_addr_valid(v))
                return "is not a plain email address (local@domain)";
        if (s->type == CT_ENUM && !enum_ok(s->values, v))
                return "is not one of the allowed values";
        /* written into certificates: an http(s) URL without spaces or commas */
        if (s->type == CT_URL &&
            ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) ||
             strpbrk(v, " ,;\t\r\n\"") || strlen(v) > 400))
                return "must be an http:// or https:// URL without spaces or commas";
        if (strlen(v) > 4096)
                return "is too long";
        char *dup = strdup(v);
        if (!dup)
                return "could not be stored (out of memory)";
        free(*str_at(c, s));
        *str_at(c, s) = dup;
        return NULL;
}

void config_defaults(struct qconfig *c)
{
        memset(c, 0, sizeof *c);
        for (size_t i = 0; i < NSETTINGS; i++) {
                const char *why = set_value(c, &schema[i], schema[i].def);
                (void)why; /* defaults are valid by construction (unit-tested) */
        }
}

void config_free(struct qconfig *c)
{
        for (size_t i = 0; i < NSETTINGS; i++)
                if (schema[i].type != CT_INT && schema[i].type != CT_BOOL) {
                        free(*str_at(c, &schema[i]));
                        *str_at(c, &schema[i]) = NULL;
                }
}

struct parse_ctx {
        struct qconfig *c;
        struct qerr_info *ei;
        const char *name;
        bool failed;
        int err_line; /* line of our own first error */
        /* the reader's position, so the handler knows its line */
        const char *pos;
        int line;
        bool at_line_start;
};

static int on_line(void *user, const char *section, const char *key, const char *value)
{
        struct parse_ctx *pc = user;
        if (pc->failed)
                return 0;
        for (size_t i = 0; i < NSETTINGS; i++) {
                const struct setting *s = &schema[i];
                if (strcasecmp(s->section, section) || strcasecmp(s->key, key))
                        continue;
                const char *why = set_value(pc->c, s, value);
                if (why) {
                        pc->err_line = pc->line;
                        qerr_set(pc->ei, QERR_CONFIG, "%s.%s %s (%s)", s->section, s->key, why,
                                 s->type == CT_ENUM ? s->values : "see docs/configuration.md");
                        pc->failed = true;
                        return 0;
                }
                return 1;
        }
        pc->err_line = pc->line;
        qerr_set(pc->ei, QERR_CONFIG, "unknown setting [%.64s] %.64s", section, key);
        pc->failed = true;
        return 0;
}

/* inih reader over a string: one line per call, counting lines. */
static char *read_line(char *buf, int num, void *stream)
{
        struct parse_ctx *pc = stream;
        if (!*pc->pos || num < 2)
                return NULL;
        if (pc->at_line_start)
                pc->line++;
        int n = 0;
        while (pc->pos[0] && n < num - 1) {
                char ch = *pc->pos++;
                buf[n++] = ch;
                if (ch == '\n')
                        break;
        }
        buf[n] = 0;
        pc->at_line_start = n > 0 && buf[n - 1] == '\n';
        return buf;
}

enum qerr config_parse(const char *text, const char *name, struct qconfig *c, struct qerr_info *ei)
{
        struct parse_ctx pc = {.c = c, .ei = ei, .name = name, .pos = text, .at_line_start = true};
        int rc = ini_parse_stream(read_line, &pc, on_line, &pc);
        if (pc.failed || rc != 0) {
                /* inih returns the line of the first error, its own or ours; it
                 * goes on after a syntax error, so ours may come later */
                if (!pc.failed || (rc > 0 && rc < pc.err_line)) {
                        qerr_set(ei, QERR_CONFIG,
                                 "%s:%d: syntax error (expected [section] or key = value)", name,
                                 rc);
                } else {
                        char why[QERR_MSG_MAX];
                        snprintf(why, sizeof why, "%s", ei ? ei->msg : "");
                        qerr_set(ei, QERR_CONFIG, "%s:%d: %s", name, pc.err_line, why);
                }
                config_free(c);
                config_defaults(c);
                return QERR_CONFIG;
        }
        /* settings that depend on each other */
        if (c->ocsp_responder_days * 24 < c->ocsp_response_hours + 2) {
                qerr_set(ei, QERR_CONFIG,
                         "%s: ocsp.responder_days (%ld) must outlast ocsp.response_hours (%ld) "
                         "by at least two hours: a response must never outlive the responder "
                         "certificate that signed it; raise responder_days or lower "
                         "response_hours",
                         name, c->ocsp_responder_days, c->ocsp_response_hours);
                config_free(c);
                config_defaults(c);
                return QERR_CONFIG;
        }
        return QERR_OK;
}

enum qerr config_load(const char *path, struct qconfig *c, struct qerr_info *ei)
{
        struct qbuf b;
        qbuf_init(&b, MAX_CONFIG_BYTES);
        enum qerr rc = fs_read_file(path, &b, ei);
        if (rc == QERR_OK) {
                if (memchr(b.data ? b.data : (const uint8_t *)"", 0, b.len))
                        rc = qerr_set(ei, QERR_CONFIG, "%s: contains a NUL byte", path);
                else
                        rc = config_parse(qbuf_str(&b), path, c, ei);
        } else {
                char why[QERR_MSG_MAX]; /* qerr_set writes into ei->msg: copy first */
                snprintf(why, sizeof why, "%s", qerr_message(ei));
                rc = qerr_set(ei, QERR_CONFIG, "%s", why);
        }
        qbuf_free(&b);
        return rc;
}

void config_warn_test_only(const struct qconfig *c)
{
        if (c->validation_allow_private_addresses)
                qlog_warn("test-only setting on: validation may connect to loopback and private "
                          "addresses, and public certificates may carry a private base_url",
                          "setting=validation.allow_private_addresses");
        if (c->notify_allow_private_addresses)
                qlog_warn("webhooks may go to loopback and private addresses",
                          "setting=notify.allow_private_addresses");
        if (c->validation_allow_addresses && c->validation_allow_addresses[0]) {
                char esc[300];
                qlog_warn("test-only setting on: validation treats these special-purpose "
                          "addresses as public",
                          "setting=validation.allow_addresses blocks=%s",
                          qlog_escape(c->validation_allow_addresses, esc, sizeof esc));
        }
}

bool config_parse_days(const char *text, int *out, size_t max, size_t *n)
{
        *n = 0;
        const char *p = text;
        while (p && *p) {
                while (*p == ' ' || *p == ',' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                long v = 0;
                int digits = 0;
                while (*p >= '0' && *p <= '9' && digits < 5) {
                        v = v * 10 + (*p++ - '0');
                        digits++;
                }
                if (digits == 0 || (*p && *p != ' ' && *p != ',' && *p != '\t') || v < 1 ||
                    v > 3650)
                        return false;
                bool seen = false;
                for (size_t i = 0; i < *n; i++)
                        seen = seen || out[i] == (int)v;
                if (seen)
                        continue;
                if (*n >= max)
                        return false;
                /* keep them sorted, largest first */
                size_t at = *n;
                while (at > 0 && out[at - 1] < (int)v) {
                        out[at] = out[at - 1];
                        at--;
                }
                out[at] = (int)v;
                (*n)++;
        }
        return *n > 0;
}

void config_each_change(const struct qconfig *a, const struct qconfig *b,
                        void (*fn)(void *arg, const char *section, const char *key), void *arg)
{
        for (size_t i = 0; i < NSETTINGS; i++) {
                const struct setting *s = &schema[i];
                const char *pa = (const char *)a + s->off, *pb = (const char *)b + s->off;
                bool differ;
                if (s->type == CT_INT || s->type == CT_BOOL) {
                        differ = *(const long *)(const void *)pa != *(const long *)(const void *)pb;
                } else {
                        const char *x = *(char *const *)(const void *)pa;
                        const char *y = *(char *const *)(const void *)pb;
                        differ = strcmp(x ? x : "", y ? y : "") != 0;
                }
                if (differ)
                        fn(arg, s->section, s->key);
        }
}

void config_write_doc(FILE *out)
{
        fprintf(out, "# Configuration reference\n\n"
                     "Generated by `quill config doc` from the schema in `src/base/config.c`; "
                     "do not edit by hand.\n\n"
                     "quill reads an INI file: `--config FILE`, else `<data>/quill.conf` when it "
                     "exists. Unknown settings are errors. Check a file with `quill config check "
                     "FILE`.\n\n"
                     "| setting | type | default | allowed | meaning |\n"
                     "| --- | --- | --- | --- | --- |\n");
        for (size_t i = 0; i < NSETTINGS; i++) {
                const struct setting *s = &schema[i];
                char allowed[128] = "any";
                if (s->type == CT_INT)
                        snprintf(allowed, sizeof allowed, "%ld to %ld", s->min, s->max);
                else if (s->type == CT_ENUM) {
                        /* one value per code span: a bare '|' would split the table cell */
                        size_t o = 0;
                        for (const char *v = s->values; *v && o + 8 < sizeof allowed; v++) {
                                if (v == s->values)
                                        allowed[o++] = '`';
                                if (*v == '|') {
                                        memcpy(allowed + o, "`, `", 4);
                                        o += 4;
                                } else
                                        allowed[o++] = *v;
                        }
                        allowed[o++] = '`';
                        allowed[o] = 0;
                } else if (s->type == CT_URL)
                        snprintf(allowed, sizeof allowed, "http(s) URL");
                else if (s->type == CT_BOOL)
                        snprintf(allowed, sizeof allowed, "`true`, `false`");
                else if (s->type == CT_NETS)
                        snprintf(allowed, sizeof allowed, "IP address blocks");
                else if (s->type == CT_DAYS)
                        snprintf(allowed, sizeof allowed, "days, 1 to 3650, comma-separated");
                else if (s->type == CT_SMTP)
                        snprintf(allowed, sizeof allowed, "empty, smtp:// or smtps:// URL");
                else if (s->type == CT_EMAIL)
                        snprintf(allowed, sizeof allowed, "email address");
                fprintf(out, "| `[%s] %s` | %s | `%s` | %s | %s |\n", s->section, s->key,
                        s->type == CT_INT   ? "integer"
                        : s->type == CT_URL ? "URL"
                                            : "string",
                        s->def, allowed, s->doc);
        }
}
