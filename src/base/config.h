/*
 * config.h - the configuration: a schema table and the loaded values.
 *
 * Every setting is one row of the schema (section, key, type, default, range,
 * a sentence of documentation); the INI reader (libinih) only accepts what the
 * schema names, so a typo is an error, not a silently ignored line. The
 * reference page docs/configuration.md is generated from the same table
 * (`quill config doc`).
 *
 * The loaded `struct qconfig` is the one piece of global state besides the
 * logger: filled once at start by the main thread, read-only afterwards, so any
 * thread may read it. A reload (`quill serve` on SIGHUP) fills a second struct
 * and never frees or changes one another thread may read. Strings in it are
 * owned by the struct (config_free).
 */
#ifndef QUILL_CONFIG_H
#define QUILL_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"

struct qconfig {
        char *server_listen;      /* "127.0.0.1:8080" */
        char *server_base_url;    /* URL prefix written into certificates */
        char *server_user;        /* "" = stay the invoking user */
        char *signer_user;        /* "" = the main process's user */
        char *ca_passphrase_file; /* "" = only QUILL_CA_PASSPHRASE */
        long ca_crl_hours;        /* CRL nextUpdate - thisUpdate */
        long crl_shards;          /* CRLs per issuing CA for new certificates */
        char *keys_data_key_file; /* "" = <data>/secrets/data.key */
        long private_max_days;
        long public_max_days; /* 0 = the CA/B Forum schedule */
        char *log_level;
        long store_busy_ms;
        /* domain control (issue 3) */
        char *dns_resolver; /* "" = full recursion, else HOST:PORT forwarder */
        long dns_timeout_ms;
        long dns_retries;
        char *dns_trust_anchor_file;      /* "" = no DNSSEC validation */
        char *caa_identities;             /* comma-separated issuer domains */
        long caa_climb_past_inapplicable; /* bool */
        long validation_http_port;
        long validation_https_port;
        long validation_tls_alpn_port; /* ACME tls-alpn-01 (issue 8) */
        long validation_timeout_ms;
        char *validation_source_addresses; /* shown in file_unreachable */
        long validation_deadline_seconds;
        long validation_token_days;
        long validation_reuse_days;              /* 0 = the CA/B Forum schedule; only lowers it */
        long validation_allow_private_addresses; /* bool, tests only */
        char *validation_allow_addresses;        /* CIDR list treated as public, tests only */
        char *risk_words_file;
        long jobs_workers;
        /* REST API (issue 6) */
        long api_rate_per_second; /* per tenant; 0: no limit */
        long api_burst;
        /* the daemon (issue 6) */
        char *server_api_listen; /* HTTPS listener */
        char *server_api_names;  /* names of its own certificate */
        long server_api_cert_days;
        long server_threads;        /* 0: one per core */
        char *server_tls_cert_file; /* "" = issued by quill */
        char *server_tls_key_file;
        long server_metrics_loopback_only; /* bool */
        long server_max_connections;
        long server_timeout_seconds;
        long server_stop_grace_seconds;
        /* notifications (issue 6) */
        long notify_workers;
        long notify_timeout_ms;
        long notify_max_attempts;
        long notify_retry_base_seconds;
        long notify_allow_private_addresses; /* bool */
        char *notify_expiry_days;            /* "30,7,1" */
        long notify_expiry_scan_seconds;
        char *smtp_url;  /* "" = no email */
        char *smtp_from; /* the sender address */
        /* ACME (issue 8) */
        char *acme_terms_url;   /* "" = none */
        char *acme_website;     /* "" = none */
        long acme_eab_required; /* bool */
        char *acme_tenant;      /* tenant of accounts made without EAB */
        long acme_orders_per_hour;
        long acme_failed_validations_per_hour;
        long acme_nonce_seconds;
        /* OCSP (issue 6) */
        long ocsp_response_hours;  /* nextUpdate - thisUpdate of a response */
        long ocsp_responder_days;  /* validity of a delegated responder certificate */
        long ocsp_max_age_seconds; /* Cache-Control max-age cap */
};

/* The thresholds of [notify] expiry_days ("30,7,1": whole days, 1 to 3650,
 * separated by commas and/or spaces) into out[max], largest first, each
 * once; *n how many. false when the text is not such a list (or empty, or
 * has more than `max`). Pure; any thread. */
#define CONFIG_MAX_EXPIRY_DAYS 8
bool config_parse_days(const char *text, int *out, size_t max, size_t *n);

/* Defaults for every setting. */
void config_defaults(struct qconfig *c);
/* Loads `path` over the defaults. QERR_CONFIG with "file:line: ..." on any
 * unknown key, bad value or syntax error; `c` then holds defaults only. */
enum qerr config_load(const char *path, struct qconfig *c, struct qerr_info *ei);
/* Parses config text from memory (used by config_load and the fuzzer). */
enum qerr config_parse(const char *text, const char *name, struct qconfig *c, struct qerr_info *ei);
void config_free(struct qconfig *c);
/* Logs a warning for each test-only setting that is on ([validation]
 * allow_private_addresses, allow_addresses); call once at start. */
void config_warn_test_only(const struct qconfig *c);
/* Calls fn(arg, section, key) for every setting whose value differs
 * between a and b (a configuration reload reports what changed). */
void config_each_change(const struct qconfig *a, const struct qconfig *b,
                        void (*fn)(void *arg, const char *section, const char *key), void *arg);
/* Writes the Markdown reference of the schema. */
void config_write_doc(FILE *out);

#endif
