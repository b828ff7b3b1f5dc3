/*
 * test_config.c - the configuration schema and INI loading (src/base/config.c).
 *
 * Text cases go through config_parse (name "t.conf"); file cases through
 * config_load on files in a temporary directory (mkdtemp under /tmp, removed
 * at the end). Every refusal asserts QERR_CONFIG, the "file:LINE:" prefix of
 * the first bad line, a word naming what was wrong, and that the struct then
 * holds the defaults and nothing from the file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/config.h"

/* ---- helpers ---- */

/* The config under test; every test's teardown frees it, so a failing
 * assertion does not also report a leak. */
static struct qconfig g_cfg;

static int teardown_cfg(void **state)
{
        (void)state;
        config_free(&g_cfg);
        return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void rm_rf(const char *dir)
{
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup_dir(void **state)
{
        char *dir = malloc(64);
        if (!dir)
                return -1;
        snprintf(dir, 64, "/tmp/quill-config-XXXXXX");
        if (!mkdtemp(dir)) {
                free(dir);
                return -1;
        }
        *state = dir;
        return 0;
}

static int teardown_dir(void **state)
{
        config_free(&g_cfg);
        rm_rf(*state);
        free(*state);
        return 0;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(p, 1, n, f), n);
        assert_int_equal(fclose(f), 0);
}

static void assert_str_field(const char *name, const char *got, const char *want)
{
        if (!got || strcmp(got, want) != 0)
                fail_msg("%s: got \"%s\", want \"%s\"", name, got ? got : "(null)", want);
}

/* The defaults, spelled out from the schema in config.c. */
static void assert_defaults(const struct qconfig *c)
{
        assert_str_field("server.listen", c->server_listen, "127.0.0.1:8080");
        assert_str_field("server.base_url", c->server_base_url, "http://127.0.0.1:8080");
        assert_str_field("ca.passphrase_file", c->ca_passphrase_file, "");
        assert_int_equal(c->ca_crl_hours, 168);
        assert_int_equal(c->crl_shards, 16);
        assert_str_field("keys.data_key_file", c->keys_data_key_file, "");
        assert_int_equal(c->private_max_days, 365);
        assert_int_equal(c->public_max_days, 0);
        assert_str_field("log.level", c->log_level, "info");
        assert_int_equal(c->store_busy_ms, 15000);
        /* production: public addresses only */
        assert_int_equal(c->validation_allow_private_addresses, 0);
        assert_str_field("validation.allow_addresses", c->validation_allow_addresses, "");
        assert_str_field("server.api_listen", c->server_api_listen, "127.0.0.1:8443");
        assert_str_field("server.api_names", c->server_api_names, "localhost,127.0.0.1");
        assert_int_equal(c->server_api_cert_days, 90);
        assert_str_field("server.tls_cert_file", c->server_tls_cert_file, "");
        assert_str_field("server.tls_key_file", c->server_tls_key_file, "");
        assert_int_equal(c->server_threads, 0);
        assert_int_equal(c->server_metrics_loopback_only, 1);
        assert_int_equal(c->server_max_connections, 1024);
        assert_int_equal(c->server_timeout_seconds, 30);
        assert_int_equal(c->server_stop_grace_seconds, 10);
        assert_str_field("server.user", c->server_user, "");
        assert_str_field("signer.user", c->signer_user, "");
}

static void assert_msg_has(const struct qerr_info *ei, const char *must)
{
        const char *msg = qerr_message(ei);
        if (!strstr(msg, must))
                fail_msg("message \"%s\" does not contain \"%s\"", msg, must);
}

/* ---- defaults and valid files ---- */

static void test_defaults_match_schema(void **state)
{
        (void)state;
        struct qconfig *c = &g_cfg;
        config_defaults(c);
        assert_defaults(c);
        config_free(c);
        assert_null(c->server_listen);
        assert_null(c->log_level);
        config_free(c); /* twice is harmless */
}

static const char full_file[] = "; quill configuration\n"
                                "# every setting, none at its default\n"
                                "\n"
                                "[server]\n"
                                "listen = 0.0.0.0:8443\n"
                                "base_url = https://ca.example.com/quill\n"
                                "\n"
                                "[ca]\n"
                                "passphrase_file = /etc/quill/ca.pass\n"
                                "crl_hours = 240\n"
                                "\n"
                                "[keys]\n"
                                "data_key_file = /etc/quill/data.key\n"
                                "\n"
                                "[profile]\n"
                                "private_max_days = 3650\n"
                                "public_max_days = 398\n"
                                "\n"
                                "[log]\n"
                                "level = debug\n"
                                "\n"
                                "[store]\n"
                                "busy_ms = 10\n";

static void assert_full(const struct qconfig *c)
{
        assert_str_field("server.listen", c->server_listen, "0.0.0.0:8443");
        assert_str_field("server.base_url", c->server_base_url, "https://ca.example.com/quill");
        assert_str_field("ca.passphrase_file", c->ca_passphrase_file, "/etc/quill/ca.pass");
        assert_int_equal(c->ca_crl_hours, 240);
        assert_str_field("keys.data_key_file", c->keys_data_key_file, "/etc/quill/data.key");
        assert_int_equal(c->private_max_days, 3650);
        assert_int_equal(c->public_max_days, 398);
        assert_str_field("log.level", c->log_level, "debug");
        assert_int_equal(c->store_busy_ms, 10);
}

static void test_full_file_parses(void **state)
{
        (void)state;
        struct qconfig *c = &g_cfg;
        struct qerr_info ei = {0};
        config_defaults(c);
        assert_int_equal(config_parse(full_file, "t.conf", c, &ei), QERR_OK);
        assert_full(c);
        config_free(c);
}

static void test_empty_file_keeps_defaults(void **state)
{
        (void)state;
        struct qconfig *c = &g_cfg;
        struct qerr_info ei = {0};
        config_defaults(c);
        assert_int_equal(config_parse("", "t.conf", c, &ei), QERR_OK);
        assert_defaults(c);
        assert_int_equal(config_parse("; only a comment\n\n", "t.conf", c, &ei), QERR_OK);
        assert_defaults(c);
        config_free(c);
}

enum field {
        F_LISTEN,
        F_BASE_URL,
        F_CRL_HOURS,
        F_PRIVATE,
        F_PUBLIC,
        F_LEVEL,
        F_BUSY,
        F_ALLOW_PRIVATE,
        F_ALLOW_ADDRS,
        F_SHARDS
};

struct ok_case {
        const char *name;
        const char *text;
        enum field field;
        long want;
        const char *swant;
};

/* Boundary values of every range, and every enum value. */
static const struct ok_case ok_cases[] = {
    {"crl_hours_min", "[ca]\ncrl_hours = 1\n", F_CRL_HOURS, 1, NULL},
    {"crl_hours_max", "[ca]\ncrl_hours = 240\n", F_CRL_HOURS, 240, NULL},
    {"shards_min", "[crl]\nshards = 1\n", F_SHARDS, 1, NULL},
    {"shards_max", "[crl]\nshards = 256\n", F_SHARDS, 256, NULL},
    {"private_min", "[profile]\nprivate_max_days = 1\n", F_PRIVATE, 1, NULL},
    {"private_max", "[profile]\nprivate_max_days = 3650\n", F_PRIVATE, 3650, NULL},
    {"public_zero", "[profile]\npublic_max_days = 0\n", F_PUBLIC, 0, NULL},
    {"public_max", "[profile]\npublic_max_days = 398\n", F_PUBLIC, 398, NULL},
    {"busy_min", "[store]\nbusy_ms = 10\n", F_BUSY, 10, NULL},
    {"busy_max", "[store]\nbusy_ms = 600000\n", F_BUSY, 600000, NULL},
    {"level_debug", "[log]\nlevel = debug\n", F_LEVEL, 0, "debug"},
    {"level_info", "[log]\nlevel = info\n", F_LEVEL, 0, "info"},
    {"level_warn", "[log]\nlevel = warn\n", F_LEVEL, 0, "warn"},
    {"level_error", "[log]\nlevel = error\n", F_LEVEL, 0, "error"},
    {"base_url_https", "[server]\nbase_url = https://ca.example.com:8443/q\n", F_BASE_URL, 0,
     "https://ca.example.com:8443/q"},
    {"spaces_around", "  [server]  \n   listen   =   [::1]:9000   \n", F_LISTEN, 0, "[::1]:9000"},
    {"later_value_wins", "[ca]\ncrl_hours = 5\ncrl_hours = 6\n", F_CRL_HOURS, 6, NULL},
    {"allow_private_on", "[validation]\nallow_private_addresses = true\n", F_ALLOW_PRIVATE, 1,
     NULL},
    {"allow_private_off", "[validation]\nallow_private_addresses = no\n", F_ALLOW_PRIVATE, 0, NULL},
    {"allow_addresses", "[validation]\nallow_addresses = 127.0.0.1/32, ::1/128 10.0.0.0/8\n",
     F_ALLOW_ADDRS, 0, "127.0.0.1/32, ::1/128 10.0.0.0/8"},
    {"allow_addresses_empty", "[validation]\nallow_addresses =\n", F_ALLOW_ADDRS, 0, ""},
};

static void test_valid_row(void **state)
{
        const struct ok_case *k = *state;
        struct qconfig *c = &g_cfg;
        struct qerr_info ei = {0};
        config_defaults(c);
        enum qerr rc = config_parse(k->text, "t.conf", c, &ei);
        if (rc != QERR_OK)
                fail_msg("%s: %s", k->name, qerr_message(&ei));
        long got = 0;
        const char *sgot = NULL;
        switch (k->field) {
        case F_LISTEN:
                sgot = c->server_listen;
                break;
        case F_BASE_URL:
                sgot = c->server_base_url;
                break;
        case F_CRL_HOURS:
                got = c->ca_crl_hours;
                break;
        case F_PRIVATE:
                got = c->private_max_days;
                break;
        case F_PUBLIC:
                got = c->public_max_days;
                break;
        case F_LEVEL:
                sgot = c->log_level;
                break;
        case F_BUSY:
                got = c->store_busy_ms;
                break;
        case F_ALLOW_PRIVATE:
                got = c->validation_allow_private_addresses;
                break;
        case F_ALLOW_ADDRS:
                sgot = c->validation_allow_addresses;
                break;
        case F_SHARDS:
                got = c->crl_shards;
                break;
        }
        if (k->swant)
                assert_str_field(k->name, sgot, k->swant);
        else if (got != k->want)
                fail_msg("%s: got %ld, want %ld", k->name, got, k->want);
        config_free(c);
}

/* ---- refusals ---- */

struct bad_case {
        const char *name;
        const char *text;
        int line;         /* of the first bad line */
        const char *must; /* a word of the message */
};

/* Each file first sets [server] listen, so a leftover value would show. */
#define PRE "[server]\nlisten = 0.0.0.0:1\n"

static const struct bad_case bad_cases[] = {
    {"unknown_key", PRE "\n[ca]\ncrl_hourz = 5\n", 5, "crl_hourz"},
    {"unknown_key_known_section", PRE "port = 80\n", 3, "port"},
    {"unknown_section", PRE "[serverx]\nlisten = 1.2.3.4:5\n", 4, "serverx"},
    {"key_before_any_section", "listen = 0.0.0.0:1\n", 1, "listen"},
    {"key_in_wrong_section", PRE "[log]\nlisten = 0.0.0.0:2\n", 4, "listen"},
    {"crl_hours_241", PRE "[ca]\ncrl_hours = 241\n", 4, "crl_hours"},
    {"crl_hours_0", PRE "[ca]\ncrl_hours = 0\n", 4, "out of range"},
    {"crl_hours_negative", PRE "[ca]\ncrl_hours = -1\n", 4, "out of range"},
    {"crl_hours_huge", PRE "[ca]\ncrl_hours = 99999999999999999999999\n", 4, "crl_hours"},
    {"private_3651", PRE "[profile]\nprivate_max_days = 3651\n", 4, "private_max_days"},
    {"public_399", PRE "[profile]\npublic_max_days = 399\n", 4, "public_max_days"},
    {"busy_9", PRE "[store]\nbusy_ms = 9\n", 4, "busy_ms"},
    {"shards_0", PRE "[crl]\nshards = 0\n", 4, "crl.shards"},
    {"shards_257", PRE "[crl]\nshards = 257\n", 4, "out of range"},
    {"shards_in_ca", PRE "[ca]\nshards = 16\n", 4, "shards"},
    {"busy_600001", PRE "[store]\nbusy_ms = 600001\n", 4, "busy_ms"},
    {"not_a_number", PRE "[ca]\ncrl_hours = 12abc\n", 4, "whole number"},
    {"fraction", PRE "[ca]\ncrl_hours = 1.5\n", 4, "whole number"},
    {"empty_number", PRE "[ca]\ncrl_hours =\n", 4, "whole number"},
    {"bad_enum", PRE "[log]\nlevel = loud\n", 4, "debug|info|warn|error"},
    {"enum_prefix", PRE "[log]\nlevel = inf\n", 4, "log.level"},
    {"enum_longer", PRE "[log]\nlevel = infos\n", 4, "log.level"},
    {"base_url_not_http", PRE "base_url = ca.example.com/quill\n", 3, "server.base_url"},
    {"base_url_ftp", PRE "base_url = ftp://ca.example.com\n", 3, "server.base_url"},
    {"base_url_comma", PRE "base_url = https://a.example,https://b.example\n", 3,
     "server.base_url"},
    {"allow_private_maybe", PRE "[validation]\nallow_private_addresses = maybe\n", 4,
     "true or false"},
    {"allow_addresses_bad_len", PRE "[validation]\nallow_addresses = 127.0.0.1/33\n", 4,
     "validation.allow_addresses"},
    {"allow_addresses_host_bits", PRE "[validation]\nallow_addresses = 10.0.0.1/8\n", 4,
     "IP address blocks"},
    {"allow_addresses_name", PRE "[validation]\nallow_addresses = localhost\n", 4,
     "IP address blocks"},
    {"syntax_no_equals", PRE "[log]\nlevel = warn\nthis line has no equals sign\n", 5, "syntax"},
    {"syntax_open_section", PRE "[log\nlevel = warn\n", 3, "syntax"},
    {"first_error_wins", PRE "[ca]\ncrl_hours = 0\nbogus = 1\nno equals\n", 4, "crl_hours"},
    {"error_after_valid_lines", PRE "[log]\nlevel = warn\n[store]\nbusy_ms = 1\n", 6, "busy_ms"},
    {"threads_257", PRE "threads = 257\n", 3, "server.threads"},
    {"api_cert_days_0", PRE "api_cert_days = 0\n", 3, "server.api_cert_days"},
    {"metrics_loopback_maybe", PRE "metrics_loopback_only = maybe\n", 3, "true or false"},
    {"max_connections_15", PRE "max_connections = 15\n", 3, "server.max_connections"},
    {"timeout_0", PRE "timeout_seconds = 0\n", 3, "server.timeout_seconds"},
    {"grace_301", PRE "stop_grace_seconds = 301\n", 3, "server.stop_grace_seconds"},
    {"ocsp_response_hours_7", PRE "[ocsp]\nresponse_hours = 7\n", 4, "ocsp.response_hours"},
    {"ocsp_response_hours_241", PRE "[ocsp]\nresponse_hours = 241\n", 4, "ocsp.response_hours"},
    {"ocsp_responder_days_31", PRE "[ocsp]\nresponder_days = 31\n", 4, "ocsp.responder_days"},
    {"ocsp_max_age_negative", PRE "[ocsp]\nmax_age_seconds = -1\n", 4, "ocsp.max_age_seconds"},
};

/* A responder certificate must outlast every response it signs (the
 * settings depend on each other: checked after the whole file). */
static void test_ocsp_responder_outlasts_responses(void **state)
{
        (void)state;
        struct qconfig *c = &g_cfg;
        struct qerr_info ei = {0};
        config_defaults(c);
        assert_int_equal(c->ocsp_response_hours, 96);
        assert_int_equal(c->ocsp_responder_days, 7);
        assert_int_equal(
            config_parse("[ocsp]\nresponder_days = 4\nresponse_hours = 94\n", "t.conf", c, &ei),
            QERR_OK);
        assert_int_equal(c->ocsp_responder_days, 4);
        config_free(c);
        config_defaults(c);
        assert_int_equal(
            config_parse("[ocsp]\nresponder_days = 4\nresponse_hours = 95\n", "t.conf", c, &ei),
            QERR_CONFIG);
        assert_non_null(strstr(qerr_message(&ei), "responder_days"));
        assert_non_null(strstr(qerr_message(&ei), "t.conf"));
        assert_defaults(c);
        config_free(c);
}

static void test_refusal_row(void **state)
{
        const struct bad_case *k = *state;
        struct qconfig *c = &g_cfg;
        struct qerr_info ei = {0};
        config_defaults(c);
        enum qerr rc = config_parse(k->text, "t.conf", c, &ei);
        if (rc != QERR_CONFIG)
                fail_msg("%s: got %s, want config_invalid", k->name, qerr_code(rc));
        assert_int_equal(ei.code, QERR_CONFIG);
        char where[32];
        snprintf(where, sizeof where, "t.conf:%d:", k->line);
        const char *msg = qerr_message(&ei);
        if (strncmp(msg, where, strlen(where)) != 0)
                fail_msg("%s: message \"%s\" does not start with \"%s\"", k->name, msg, where);
        if (!strstr(msg, k->must))
                fail_msg("%s: message \"%s\" does not contain \"%s\"", k->name, msg, k->must);
        /* defaults only: nothing from the lines before the error */
        assert_defaults(c);
        config_free(c);
}

/* ---- files ---- */

static void test_load_valid_file(void **state)
{
        const char *dir = *state;
        char path[128];
        snprintf(path, sizeof path, "%s/quill.conf", dir);
        write_bytes(path, full_file, strlen(full_file));
        struct qconfig *c = &g_cfg;
        struct qerr_info ei = {0};
        config_defaults(c);
        enum qerr rc = config_load(path, c, &ei);
        if (rc != QERR_OK)
                fail_msg("config_load: %s", qerr_message(&ei));
        assert_full(c);
        config_free(c);
}

static void test_load_unknown_key_names_file_and_line(void **state)
{
        const char *dir = *state;
        char path[128];
        snprintf(path, sizeof path, "%s/quill.conf", dir);
        static const char text[] = "[server]\n"
                                   "listen = 0.0.0.0:1\n"
                                   "\n"
                                   "# comment\n"
                                   "[ca]\n"
                                   "crl_hours = 24\n"
                                   "crl_hourss = 24\n"
                                   "[log]\n"
                                   "level = debug\n";
        write_bytes(path, text, strlen(text));
        struct qconfig *c = &g_cfg;
        struct qerr_info ei = {0};
        config_defaults(c);
        assert_int_equal(config_load(path, c, &ei), QERR_CONFIG);
        assert_int_equal(ei.code, QERR_CONFIG);
        char where[160];
        snprintf(where, sizeof where, "%s:7:", path);
        assert_msg_has(&ei, where);
        assert_msg_has(&ei, "crl_hourss");
        assert_defaults(c);
        config_free(c);
}

static void test_load_missing_file(void **state)
{
        const char *dir = *state;
        char path[128];
        snprintf(path, sizeof path, "%s/absent.conf", dir);
        struct qconfig *c = &g_cfg;
        struct qerr_info ei = {0};
        config_defaults(c);
        assert_int_equal(config_load(path, c, &ei), QERR_CONFIG);
        assert_int_equal(ei.code, QERR_CONFIG);
        /* the sentence says which file could not be read */
        assert_msg_has(&ei, path);
        assert_defaults(c);
        config_free(c);
}

static void test_load_nul_byte(void **state)
{
        const char *dir = *state;
        char path[128];
        snprintf(path, sizeof path, "%s/nul.conf", dir);
        static const char text[] = "[log]\nlevel = debug\0\n[store]\nbusy_ms = 10\n";
        write_bytes(path, text, sizeof text - 1);
        struct qconfig *c = &g_cfg;
        struct qerr_info ei = {0};
        config_defaults(c);
        assert_int_equal(config_load(path, c, &ei), QERR_CONFIG);
        assert_int_equal(ei.code, QERR_CONFIG);
        assert_msg_has(&ei, path);
        assert_msg_has(&ei, "NUL");
        assert_defaults(c);
        config_free(c);
}

static void test_load_too_large(void **state)
{
        const char *dir = *state;
        char path[128];
        snprintf(path, sizeof path, "%s/big.conf", dir);
        size_t n = MAX_CONFIG_BYTES + 1;
        char *text = malloc(n);
        assert_non_null(text);
        memset(text, '\n', n);
        memcpy(text, "; big\n", 6);
        write_bytes(path, text, n);
        free(text);
        struct qconfig *c = &g_cfg;
        struct qerr_info ei = {0};
        config_defaults(c);
        assert_int_equal(config_load(path, c, &ei), QERR_CONFIG);
        assert_int_equal(ei.code, QERR_CONFIG);
        assert_msg_has(&ei, path);
        assert_defaults(c);
        config_free(c);
}

/* ---- documentation ---- */

struct changes {
        char seen[8][64];
        size_t n;
};

static void on_change(void *arg, const char *section, const char *key)
{
        struct changes *ch = arg;
        assert_true(ch->n < 8);
        snprintf(ch->seen[ch->n++], 64, "%s.%s", section, key);
}

static void test_each_change(void **state)
{
        (void)state;
        struct qconfig a, b;
        struct qerr_info ei = {0};
        config_defaults(&a);
        config_defaults(&b);
        struct changes ch = {.n = 0};
        config_each_change(&a, &b, on_change, &ch);
        assert_int_equal(ch.n, 0);
        assert_int_equal(config_parse("[log]\nlevel = debug\n[server]\ntls_cert_file = /x\n"
                                      "threads = 3\nmetrics_loopback_only = false\n",
                                      "t.conf", &b, &ei),
                         QERR_OK);
        config_each_change(&a, &b, on_change, &ch);
        assert_int_equal(ch.n, 4);
        assert_string_equal(ch.seen[0], "log.level");
        const char *want[] = {"server.tls_cert_file", "server.threads",
                              "server.metrics_loopback_only"};
        for (size_t i = 0; i < 3; i++) {
                bool found = false;
                for (size_t j = 0; j < ch.n; j++)
                        found = found || !strcmp(ch.seen[j], want[i]);
                if (!found)
                        fail_msg("no change reported for %s", want[i]);
        }
        config_free(&a);
        config_free(&b);
}

static void test_write_doc_lists_every_setting(void **state)
{
        (void)state;
        char *doc = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&doc, &len);
        assert_non_null(f);
        config_write_doc(f);
        assert_int_equal(fclose(f), 0);
        assert_non_null(doc);

        static const char *const rows[] = {
            "[server] listen",
            "[server] base_url",
            "[ca] passphrase_file",
            "[ca] crl_hours",
            "[crl] shards",
            "[keys] data_key_file",
            "[profile] private_max_days",
            "[profile] public_max_days",
            "[log] level",
            "[store] busy_ms",
            "[dns] resolver",
            "[dns] timeout_ms",
            "[dns] retries",
            "[dns] trust_anchor_file",
            "[caa] identities",
            "[caa] climb_past_inapplicable",
            "[validation] http_port",
            "[validation] https_port",
            "[validation] tls_alpn_port",
            "[validation] timeout_ms",
            "[validation] source_addresses",
            "[validation] deadline_seconds",
            "[validation] token_days",
            "[validation] reuse_days",
            "[validation] allow_private_addresses",
            "[validation] allow_addresses",
            "[risk] words_file",
            "[jobs] workers",
            "[api] rate_per_second",
            "[api] burst",
            "[server] api_listen",
            "[server] api_names",
            "[server] api_cert_days",
            "[server] tls_cert_file",
            "[server] tls_key_file",
            "[server] threads",
            "[server] metrics_loopback_only",
            "[server] max_connections",
            "[server] timeout_seconds",
            "[server] stop_grace_seconds",
            "[server] user",
            "[signer] user",
            "[notify] workers",
            "[notify] timeout_ms",
            "[notify] max_attempts",
            "[notify] retry_base_seconds",
            "[notify] allow_private_addresses",
            "[notify] expiry_days",
            "[notify] expiry_scan_seconds",
            "[smtp] url",
            "[smtp] from",
            "[acme] terms_url",
            "[acme] website",
            "[acme] eab_required",
            "[acme] tenant",
            "[acme] orders_per_hour",
            "[acme] failed_validations_per_hour",
            "[acme] nonce_seconds",
            "[ocsp] response_hours",
            "[ocsp] responder_days",
            "[ocsp] max_age_seconds",
        };
        const size_t nrows = sizeof rows / sizeof rows[0];
        for (size_t i = 0; i < nrows; i++) {
                char want[64];
                snprintf(want, sizeof want, "| `%s` |", rows[i]);
                if (!strstr(doc, want))
                        fail_msg("the reference has no row %s", want);
        }
        /* one table row per setting, no more */
        size_t count = 0;
        for (const char *p = doc; (p = strstr(p, "\n| `[")) != NULL; p++)
                count++;
        assert_int_equal(count, nrows);
        /* ranges and defaults come from the same table */
        assert_non_null(strstr(doc, "| `[ca] crl_hours` | integer | `168` | 1 to 240 |"));
        assert_non_null(strstr(doc, "| `[crl] shards` | integer | `16` | 1 to 256 |"));
        const char *lvl = strstr(doc, "| `[log] level` |");
        assert_non_null(lvl);
        const char *eol = strchr(lvl, '\n');
        assert_non_null(eol);
        static const char *const levels[] = {"debug", "info", "warn", "error"};
        for (size_t i = 0; i < 4; i++) {
                const char *p = strstr(lvl, levels[i]);
                if (!p || p > eol)
                        fail_msg("the [log] level row does not name \"%s\"", levels[i]);
        }
        /* every table row has exactly five cells: no bare '|' inside a cell */
        for (const char *p = doc; (p = strstr(p, "\n|")) != NULL;) {
                p++;
                const char *end = strchr(p, '\n');
                size_t bars = 0;
                for (const char *q = p; q < (end ? end : p + strlen(p)); q++)
                        bars += *q == '|';
                if (bars != 6)
                        fail_msg("table row with %zu '|': %.*s", bars,
                                 (int)(end ? (size_t)(end - p) : strlen(p)), p);
        }
        free(doc);
}

struct table {
        const void *rows;
        size_t n, rowsz;
        CMUnitTestFunction fn;
};

#define TABLE(a, f)                                                                                \
        {                                                                                          \
                a, sizeof a / sizeof a[0], sizeof a[0], f                                          \
        }

int main(void)
{
        const struct table tables[] = {
            TABLE(ok_cases, test_valid_row),
            TABLE(bad_cases, test_refusal_row),
        };
        const struct CMUnitTest singles[] = {
            cmocka_unit_test_teardown(test_defaults_match_schema, teardown_cfg),
            cmocka_unit_test_teardown(test_full_file_parses, teardown_cfg),
            cmocka_unit_test_teardown(test_empty_file_keeps_defaults, teardown_cfg),
            cmocka_unit_test(test_each_change),
            cmocka_unit_test(test_ocsp_responder_outlasts_responses),
            cmocka_unit_test_setup_teardown(test_load_valid_file, setup_dir, teardown_dir),
            cmocka_unit_test_setup_teardown(test_load_unknown_key_names_file_and_line, setup_dir,
                                            teardown_dir),
            cmocka_unit_test_setup_teardown(test_load_missing_file, setup_dir, teardown_dir),
            cmocka_unit_test_setup_teardown(test_load_nul_byte, setup_dir, teardown_dir),
            cmocka_unit_test_setup_teardown(test_load_too_large, setup_dir, teardown_dir),
            cmocka_unit_test_teardown(test_write_doc_lists_every_setting, teardown_cfg),
        };
        const size_t nsingles = sizeof singles / sizeof singles[0];
        size_t total = nsingles;
        for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
                total += tables[t].n;
        struct CMUnitTest *tests = calloc(total, sizeof *tests);
        if (!tests)
                return 1;
        size_t k = 0;
        for (size_t i = 0; i < nsingles; i++)
                tests[k++] = singles[i];
        for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
                for (size_t i = 0; i < tables[t].n; i++) {
                        const void *row = (const char *)tables[t].rows + i * tables[t].rowsz;
                        tests[k].name = *(const char *const *)row;
                        tests[k].test_func = tables[t].fn;
                        tests[k].initial_state = (void *)row;
                        tests[k].teardown_func = teardown_cfg;
                        k++;
                }
        const int failed = _cmocka_run_group_tests("config", tests, total, NULL, NULL);
        free(tests);
        return failed;
}
