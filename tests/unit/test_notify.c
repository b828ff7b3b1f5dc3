/*
 * test_notify.c - src/notify: the signature (HMAC-SHA256 against RFC 4231),
 * the retry schedule, webhook URLs (parsing, and the refusal of
 * special-purpose hosts), contact addresses, [notify] expiry_days, what is
 * sent (the webhook body's shape, the email's subject, text and message),
 * and one real POST each way to a little HTTP server on 127.0.0.1 run by
 * the test: delivered, answered 500, refused before connecting, and timed
 * out.
 *
 * The HTTP server is a thread of this test accepting on a loopback port
 * it picked; it answers each connection as told and records what it read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/config.h"
#include "base/email.h"
#include "notify/notify.h"

/* ---- the signature ---- */

static void test_sign_rfc4231(void **state)
{
        (void)state;
        char sig[NOTIFY_SIG_MAX];
        struct qerr_info ei;
        /* RFC 4231 test case 2 */
        const char *key = "Jefe", *data = "what do ya want for nothing?";
        assert_int_equal(notify_sign((const uint8_t *)key, strlen(key), (const uint8_t *)data,
                                     strlen(data), sig, sizeof sig, &ei),
                         QERR_OK);
        assert_string_equal(
            sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        /* one byte of the body changed: another signature */
        char other[NOTIFY_SIG_MAX];
        assert_int_equal(notify_sign((const uint8_t *)key, strlen(key),
                                     (const uint8_t *)"what do ya want for nothing!", strlen(data),
                                     other, sizeof other, &ei),
                         QERR_OK);
        assert_string_not_equal(sig, other);
        /* a buffer too small is refused, not overrun */
        char tiny[16];
        assert_int_equal(
            notify_sign((const uint8_t *)key, 4, (const uint8_t *)data, 4, tiny, sizeof tiny, &ei),
            QERR_INTERNAL);
}

/* ---- the retry schedule ---- */

static void test_backoff_schedule(void **state)
{
        (void)state;
        const long want[] = {60, 300, 900, 1800, 3600, 7200, 14400, 21600, 36000, 36000, 36000};
        long total = 0;
        for (int a = 1; a <= 11; a++) {
                assert_int_equal(notify_backoff(a, 60, 0), want[a - 1]);
                if (a <= 9)
                        total += notify_backoff(a, 60, 0);
        }
        /* ten attempts (nine waits) span about a day */
        assert_true(total > 22 * 3600 && total < 26 * 3600);
        /* jitter adds at most 10% */
        for (int a = 1; a <= 9; a++) {
                long j = notify_backoff(a, 60, 0.999);
                assert_true(j >= want[a - 1] && j <= want[a - 1] + want[a - 1] / 10);
        }
        assert_int_equal(notify_backoff(0, 60, 0), 60); /* nonsense counts as the first */
        assert_int_equal(notify_backoff(3, 0, 0), 15);  /* base at least 1 */
        assert_int_equal(notify_backoff(1, 1, 0.5), 1); /* small waits stay whole seconds */
        assert_int_equal(notify_backoff(2, 1, 1.5), 5); /* jitter out of range: none */
}

/* ---- webhook URLs ---- */

static void test_url_parse(void **state)
{
        (void)state;
        static const struct {
                const char *url, *scheme, *host;
                long port;
                bool literal;
        } good[] = {
            {"https://hooks.example.com/quill", "https", "hooks.example.com", 443, false},
            {"HTTP://Hooks.Example.COM:8080/a?b=c#d", "http", "hooks.example.com", 8080, false},
            {"http://192.0.2.7/x", "http", "192.0.2.7", 80, true},
            {"https://[2001:db8::1]:8443/", "https", "2001:db8::1", 8443, true},
            {"http://under_score.example.com/", "http", "under_score.example.com", 80, false},
            {"http://trailing.example.com./", "http", "trailing.example.com.", 80, false},
        };
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
                struct notify_url u;
                struct qerr_info ei;
                if (notify_url_parse(good[i].url, &u, &ei) != QERR_OK)
                        fail_msg("%s: %s", good[i].url, qerr_message(&ei));
                assert_string_equal(u.scheme, good[i].scheme);
                assert_string_equal(u.host, good[i].host);
                assert_int_equal(u.port, good[i].port);
                assert_int_equal(u.literal, good[i].literal);
        }
        char longurl[QUILL_WEBHOOK_URL_MAX + 16];
        memset(longurl, 'a', sizeof longurl - 1);
        memcpy(longurl, "http://x.example/", 17);
        longurl[sizeof longurl - 1] = 0;
        static const struct {
                const char *url, *says;
        } bad[] = {
            {"", "empty"},
            {"hooks.example.com/quill", "not a URL"},
            {"ftp://hooks.example.com/", "http:// or https://"},
            {"file:///etc/passwd", "http:// or https://"},
            {"gopher://hooks.example.com/", "http:// or https://"},
            {"https://user:pw@hooks.example.com/", "user name or password"},
            {"https://user@hooks.example.com/", "user name or password"},
            {"https://hooks example.com/", "space"},
            {"https://hooks.example.com/\r\nX-Evil: 1", "control"},
            {"https://h\xc3\xa9.example.com/", "non-ASCII"},
            {"https://[fe80::1%25eth0]/", "zone"},
            {"https://a..b.example/", "not"},
            {"https://hooks.example.com:0/", "port"},
            {"https://hooks.example.com:70000/", "URL"},
            {"https://:8080/", "host"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct notify_url u;
                struct qerr_info ei;
                qerr_clear(&ei);
                enum qerr rc = notify_url_parse(bad[i].url, &u, &ei);
                if (rc != QERR_WEBHOOK_URL_INVALID)
                        fail_msg("%s: accepted (%s)", bad[i].url, qerr_code(rc));
                if (!strstr(qerr_message(&ei), bad[i].says))
                        fail_msg("%s: \"%s\" does not say %s", bad[i].url, qerr_message(&ei),
                                 bad[i].says);
        }
        struct notify_url u;
        struct qerr_info ei;
        assert_int_equal(notify_url_parse(longurl, &u, &ei), QERR_WEBHOOK_URL_INVALID);
        assert_non_null(strstr(qerr_message(&ei), "at most 2048"));
}

static enum qerr check(const char *url, bool allow, struct qerr_info *ei)
{
        struct notify_url u;
        enum qerr rc = notify_url_parse(url, &u, ei);
        if (rc != QERR_OK)
                return rc;
        struct notify_net n = {.dns = NULL, .timeout_ms = 1000, .allow_private = allow};
        return notify_url_check(&n, &u, ei);
}

static void test_url_private_hosts_refused(void **state)
{
        (void)state;
        static const char *const refused[] = {
            "http://127.0.0.1:8080/",    "http://127.1.2.3/",
            "http://10.0.0.5/",          "http://172.16.0.1/",
            "http://192.168.1.1/",       "http://169.254.169.254/",
            "http://100.64.0.1/",        "http://[::1]/",
            "http://[fd00::1]/",         "http://[fe80::1]/",
            "http://[::ffff:10.0.0.5]/", "http://0.0.0.0/",
            "http://localhost/",         "http://localhost.:9/",
            "http://a.b.localhost/",     "http://192.0.2.7/",
            "http://[2001:db8::1]/",     "http://224.0.0.1/",
        };
        for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
                struct qerr_info ei;
                qerr_clear(&ei);
                if (check(refused[i], false, &ei) != QERR_WEBHOOK_URL_INVALID)
                        fail_msg("%s was not refused", refused[i]);
                assert_non_null(strstr(qerr_message(&ei), "not a public address"));
                assert_non_null(strstr(qerr_message(&ei), "allow_private_addresses"));
                /* the switch lets the organisation's own receivers in */
                if (check(refused[i], true, &ei) != QERR_OK)
                        fail_msg("%s refused with allow_private_addresses: %s", refused[i],
                                 qerr_message(&ei));
        }
        struct qerr_info ei;
        /* a public literal passes without any lookup */
        assert_int_equal(check("https://93.184.215.14/hook", false, &ei), QERR_OK);
        assert_int_equal(check("https://[2606:4700::1111]/hook", false, &ei), QERR_OK);
        /* a name that cannot be looked up now passes: each delivery checks again */
        assert_int_equal(check("https://hooks.example.com/", false, &ei), QERR_OK);
        /* and the refusal names the block */
        assert_int_equal(check("http://10.0.0.5/", false, &ei), QERR_WEBHOOK_URL_INVALID);
        assert_non_null(strstr(qerr_message(&ei), "RFC 1918"));
}

/* ---- contacts and expiry days ---- */

static void test_email_addresses(void **state)
{
        (void)state;
        static const char *const good[] = {
            "ops@example.com",    "a.b+c@sub-domain.example.org",    "x@localhost",
            "O'Brien@example.ie", "!#$%&'*+-/=?^_`{|}~@example.com",
        };
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
                if (!email_addr_valid(good[i]))
                        fail_msg("%s refused", good[i]);
        char local65[80], domain[300];
        memset(local65, 'a', 65);
        snprintf(local65 + 65, sizeof local65 - 65, "@example.com");
        memset(domain, 'a', sizeof domain);
        memcpy(domain, "x@", 2);
        domain[sizeof domain - 1] = 0;
        static const char *const bad[] = {
            "",
            "ops",
            "@example.com",
            "ops@",
            "ops@@example.com",
            "a@b@example.com",
            "Ops <ops@example.com>",
            "ops@example.com, evil@example.com",
            "ops@example.com\r\nBcc: evil@example.com",
            "ops @example.com",
            ".ops@example.com",
            "ops.@example.com",
            "o..ps@example.com",
            "\"quoted\"@example.com",
            "ops@-example.com",
            "ops@example-.com",
            "ops@example..com",
            "ops@[192.0.2.1]",
            "op\xc3\xa9s@example.com",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                if (email_addr_valid(bad[i]))
                        fail_msg("\"%s\" accepted", bad[i]);
        assert_false(email_addr_valid(local65));
        assert_false(email_addr_valid(domain));
        assert_false(email_addr_valid(NULL));
}

static void test_expiry_days(void **state)
{
        (void)state;
        int d[CONFIG_MAX_EXPIRY_DAYS];
        size_t n = 0;
        assert_true(config_parse_days("30,7,1", d, CONFIG_MAX_EXPIRY_DAYS, &n));
        assert_int_equal(n, 3);
        assert_int_equal(d[0], 30);
        assert_int_equal(d[1], 7);
        assert_int_equal(d[2], 1);
        /* any order, spaces, repeats: sorted, each once */
        assert_true(config_parse_days(" 1, 7 30,7 ", d, CONFIG_MAX_EXPIRY_DAYS, &n));
        assert_int_equal(n, 3);
        assert_int_equal(d[0], 30);
        assert_int_equal(d[2], 1);
        assert_true(config_parse_days("3650", d, CONFIG_MAX_EXPIRY_DAYS, &n));
        assert_int_equal(n, 1);
        static const char *const bad[] = {
            "", "0", "3651", "-1", "7d", "1.5", ",,", "1,2,3,4,5,6,7,8,9", "100000", "x"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                if (config_parse_days(bad[i], d, CONFIG_MAX_EXPIRY_DAYS, &n))
                        fail_msg("\"%s\" accepted", bad[i]);
        /* and the configuration refuses them */
        struct qconfig c;
        struct qerr_info ei;
        config_defaults(&c);
        assert_string_equal(c.notify_expiry_days, "30,7,1");
        assert_int_equal(config_parse("[notify]\nexpiry_days = 30,0\n", "t", &c, &ei), QERR_CONFIG);
        assert_int_equal(config_parse("[smtp]\nurl = http://mail.example\n", "t", &c, &ei),
                         QERR_CONFIG);
        assert_int_equal(config_parse("[smtp]\nfrom = Quill <q@example.com>\n", "t", &c, &ei),
                         QERR_CONFIG);
        assert_int_equal(config_parse("[smtp]\nurl = smtp://127.0.0.1:2525\nfrom = "
                                      "pki@example.com\n[notify]\nexpiry_days = 14,3\n",
                                      "t", &c, &ei),
                         QERR_OK);
        assert_string_equal(c.smtp_url, "smtp://127.0.0.1:2525");
        assert_string_equal(c.notify_expiry_days, "14,3");
        config_free(&c);
}

/* ---- what is sent ---- */

static struct cert_rec *sample_cert(void)
{
        struct cert_rec *c = calloc(1, sizeof *c);
        c->id = 12;
        c->tenant_id = 3;
        snprintf(c->tenant, sizeof c->tenant, "team-a");
        snprintf(c->serial, sizeof c->serial, "3f00aa");
        c->names = calloc(2, sizeof *c->names);
        c->names[0] = strdup("www.example.com");
        c->names[1] = strdup("example.com");
        c->nnames = 2;
        c->not_before = qtime_from_ymd(2026, 6, 1);
        c->not_after = qtime_from_ymd(2026, 7, 1);
        snprintf(c->key_algorithm, sizeof c->key_algorithm, "ec256");
        c->ca_id = 2;
        c->issuer = strdup("CN=Quill Local CA");
        c->revoke_reason = -1;
        return c;
}

static struct order_rec *sample_order(const char *method)
{
        struct order_rec *o = calloc(1, sizeof *o);
        o->id = 7;
        snprintf(o->tenant, sizeof o->tenant, "team-a");
        snprintf(o->purpose, sizeof o->purpose, "issue");
        o->profile = PROFILE_DV;
        snprintf(o->key_algorithm, sizeof o->key_algorithm, "ec256");
        o->deadline = qtime_from_ymd(2026, 6, 4);
        o->names = calloc(1, sizeof *o->names);
        o->nnames = 1;
        struct order_name_rec *n = &o->names[0];
        snprintf(n->name, sizeof n->name, "www.example.com");
        snprintf(n->method, sizeof n->method, "%s", method);
        snprintf(n->token, sizeof n->token, "TOKEN123");
        snprintf(n->value, sizeof n->value, "VALUE-abcdefghijklmnopqrstuvwxyz0123456789_");
        snprintf(n->validation_status, sizeof n->validation_status, "pending");
        snprintf(n->caa_status, sizeof n->caa_status, "pending");
        n->value_expires = qtime_from_ymd(2026, 7, 1);
        return o;
}

static void test_payload(void **state)
{
        (void)state;
        struct cert_rec *c = sample_cert();
        struct notify_event e = {.type = NOTIFY_CERT_EXPIRING,
                                 .tenant = "team-a",
                                 .at = qtime_from_ymd(2026, 6, 24),
                                 .cert = c,
                                 .threshold_days = 7,
                                 .detail = "expires soon"};
        json_t *p = notify_payload(&e);
        assert_non_null(p);
        assert_string_equal(json_string_value(json_object_get(p, "type")), "certificate.expiring");
        assert_string_equal(json_string_value(json_object_get(p, "tenant")), "team-a");
        assert_string_equal(json_string_value(json_object_get(p, "at")), "2026-06-24T00:00:00Z");
        json_t *jc = json_object_get(p, "certificate");
        assert_int_equal(json_integer_value(json_object_get(jc, "id")), 12);
        assert_int_equal(json_integer_value(json_object_get(jc, "days_left")), 7);
        assert_int_equal(json_integer_value(json_object_get(p, "threshold_days")), 7);
        assert_null(json_object_get(p, "order"));
        assert_null(json_object_get(p, "review"));
        json_decref(p);
        /* every listed event is known; nothing else */
        static const char *const types[] = {NOTIFY_CERT_ISSUED,
                                            NOTIFY_ORDER_VALIDATION_NEEDED,
                                            NOTIFY_ORDER_VALIDATION_FAILED,
                                            NOTIFY_REVIEW_DECIDED,
                                            NOTIFY_CERT_REVOCATION_REQUESTED,
                                            NOTIFY_CERT_REVOKED,
                                            NOTIFY_CERT_REVOCATION_FAILED,
                                            NOTIFY_CERT_REISSUED,
                                            NOTIFY_CERT_EXPIRING};
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
                assert_true(notify_event_known(types[i]));
        assert_false(notify_event_known("certificate.exploded"));
        cert_rec_free(c);
}

static void test_email_text(void **state)
{
        (void)state;
        struct qbuf subject, text;
        /* validation needed: the exact record and the exact file */
        for (int m = 0; m < 2; m++) {
                struct order_rec *o = sample_order(m ? "file" : "dns");
                struct notify_event e = {.type = NOTIFY_ORDER_VALIDATION_NEEDED,
                                         .tenant = "team-a",
                                         .at = qtime_from_ymd(2026, 6, 1),
                                         .order = o};
                qbuf_init(&subject, 1024);
                qbuf_init(&text, 65536);
                assert_true(notify_email_text(&e, &subject, &text));
                assert_non_null(strstr(qbuf_str(&subject), "www.example.com"));
                assert_non_null(strstr(qbuf_str(&subject), "order 7"));
                assert_non_null(strstr(qbuf_str(&text), o->names[0].value));
                if (m)
                        assert_non_null(strstr(
                            qbuf_str(&text),
                            "http://www.example.com/.well-known/pki-validation/TOKEN123.txt"));
                else
                        assert_non_null(strstr(qbuf_str(&text), "_acme-challenge.www.example.com"));
                assert_null(strchr(qbuf_str(&subject), '\n'));
                qbuf_free(&subject);
                qbuf_free(&text);
                order_rec_free(o);
        }
        /* validation failed: the reason and how to fix it */
        struct order_rec *o = sample_order("dns");
        o->status = ORDER_FAILED;
        snprintf(o->failure_code, sizeof o->failure_code, "caa_forbidden");
        o->failure_message = strdup("www.example.com: at example.com: 0 issue \"other.ca\"");
        struct notify_event e = {.type = NOTIFY_ORDER_VALIDATION_FAILED,
                                 .tenant = "team-a",
                                 .at = qtime_from_ymd(2026, 6, 1),
                                 .order = o};
        qbuf_init(&subject, 1024);
        qbuf_init(&text, 65536);
        assert_true(notify_email_text(&e, &subject, &text));
        assert_non_null(strstr(qbuf_str(&subject), "caa_forbidden"));
        assert_non_null(strstr(qbuf_str(&text), "0 issue \"other.ca\""));
        assert_non_null(strstr(qbuf_str(&text), "How to fix it: "));
        assert_non_null(strstr(qbuf_str(&text), qerr_default_msg(QERR_CAA_FORBIDDEN)));
        qbuf_free(&subject);
        qbuf_free(&text);
        order_rec_free(o);
        /* a certificate event names the certificate */
        struct cert_rec *c = sample_cert();
        struct notify_event ce = {
            .type = NOTIFY_CERT_ISSUED, .tenant = "team-a", .at = c->not_before, .cert = c};
        qbuf_init(&subject, 1024);
        qbuf_init(&text, 65536);
        assert_true(notify_email_text(&ce, &subject, &text));
        assert_string_equal(qbuf_str(&subject),
                            "[quill] Certificate issued: www.example.com (certificate 12)");
        assert_non_null(strstr(qbuf_str(&text), "3f00aa"));
        assert_non_null(strstr(qbuf_str(&text), "www.example.com, example.com"));
        qbuf_free(&subject);
        qbuf_free(&text);
        cert_rec_free(c);
}

static void test_smtp_message(void **state)
{
        (void)state;
        struct notify_smtp sm = {.url = "smtp://127.0.0.1:25", .from = "pki@example.com"};
        struct qbuf m;
        qbuf_init(&m, 1 << 20);
        /* a subject trying to add a header becomes one harmless line */
        assert_true(notify_smtp_message(&sm, "a@example.com,b@example.com",
                                        "hello\r\nBcc: evil@example.com", "line one\nline two\n",
                                        42, qtime_from_ymd(2026, 6, 1), &m));
        const char *s = qbuf_str(&m);
        assert_non_null(strstr(s, "From: pki@example.com\r\n"));
        assert_non_null(strstr(s, "To: a@example.com, b@example.com\r\n"));
        assert_non_null(strstr(s, "Subject: hello??Bcc: evil@example.com\r\n"));
        assert_null(strstr(s, "\r\nBcc:"));
        assert_non_null(strstr(s, "Date: Mon, 01 Jun 2026 00:00:00 +0000\r\n"));
        assert_non_null(strstr(s, "Message-ID: <quill.42."));
        assert_non_null(strstr(s, "\r\n\r\nline one\r\nline two\r\n"));
        /* every line ends with CRLF, none is longer than the RFC allows */
        for (const char *p = s; *p;) {
                const char *nl = strchr(p, '\n');
                assert_non_null(nl);
                assert_true(nl > p && nl[-1] == '\r');
                assert_true(nl - p <= 998);
                p = nl + 1;
        }
        qbuf_free(&m);
        /* a very long line is broken */
        char *big = malloc(5000);
        memset(big, 'x', 4999);
        big[4999] = 0;
        qbuf_init(&m, 1 << 20);
        assert_true(notify_smtp_message(&sm, "a@example.com", "s", big, 1, 0, &m));
        for (const char *p = qbuf_str(&m); *p;) {
                const char *nl = strchr(p, '\n');
                assert_true(nl - p <= 998);
                p = nl + 1;
        }
        qbuf_free(&m);
        /* twenty long recipients: the To header is folded, never too long */
        char to[20 * 70];
        size_t o = 0;
        for (int i = 0; i < 20; i++)
                o += (size_t)snprintf(to + o, sizeof to - o, "%s%s-%02d@example.com", i ? "," : "",
                                      "a-rather-long-local-part-for-a-mailbox-name", i);
        qbuf_init(&m, 1 << 20);
        assert_true(notify_smtp_message(&sm, to, "s", "x", 1, 0, &m));
        for (const char *p = qbuf_str(&m); *p;) {
                const char *nl = strchr(p, '\n');
                assert_true(nl - p <= 998);
                p = nl + 1;
        }
        assert_non_null(strstr(qbuf_str(&m), ",\r\n a-rather-long"));
        assert_non_null(strstr(qbuf_str(&m), "-19@example.com\r\n"));
        qbuf_free(&m);
        free(big);
}

/* ---- a real POST to a receiver on 127.0.0.1 ---- */

struct receiver {
        int fd;
        int port;
        int status;      /* what to answer; 0: never answer */
        int connections; /* accepted */
        char request[8192];
        size_t len;
        pthread_t thread;
};

static void *receiver_main(void *arg)
{
        struct receiver *r = arg;
        struct pollfd p = {.fd = r->fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
                return NULL;
        int c = accept(r->fd, NULL, NULL);
        if (c < 0)
                return NULL;
        r->connections++;
        /* headers, then Content-Length bytes */
        for (;;) {
                struct pollfd q = {.fd = c, .events = POLLIN};
                if (poll(&q, 1, 3000) <= 0)
                        break;
                ssize_t n = read(c, r->request + r->len, sizeof r->request - 1 - r->len);
                if (n <= 0)
                        break;
                r->len += (size_t)n;
                r->request[r->len] = 0;
                char *end = strstr(r->request, "\r\n\r\n");
                char *cl = strcasestr(r->request, "Content-Length:");
                if (end && cl && r->len >= (size_t)(end + 4 - r->request) + (size_t)atol(cl + 15))
                        break;
        }
        if (r->status) {
                char resp[128];
                int n = snprintf(resp, sizeof resp,
                                 "HTTP/1.1 %d X\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
                                 "hello",
                                 r->status);
                if (write(c, resp, (size_t)n) < 0)
                        r->status = -1;
        } else {
                sleep(2); /* the client's timeout is shorter */
        }
        close(c);
        return NULL;
}

static void receiver_start(struct receiver *r, int status)
{
        memset(r, 0, sizeof *r);
        r->status = status;
        r->fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(r->fd, (struct sockaddr *)&a, sizeof a), 0);
        assert_int_equal(listen(r->fd, 4), 0);
        socklen_t len = sizeof a;
        getsockname(r->fd, (struct sockaddr *)&a, &len);
        r->port = ntohs(a.sin_port);
        assert_int_equal(pthread_create(&r->thread, NULL, receiver_main, r), 0);
}

static void receiver_stop(struct receiver *r)
{
        shutdown(r->fd, SHUT_RDWR);
        pthread_join(r->thread, NULL);
        close(r->fd);
}

static void post(struct receiver *r, bool allow, long timeout_ms, struct notify_result *res)
{
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/hook?x=1", r->port);
        struct notify_net n = {.dns = NULL, .timeout_ms = timeout_ms, .allow_private = allow};
        const char *body = "{\"type\":\"certificate.issued\"}";
        notify_http_post(&n, url, "certificate.issued", 99, "sha256=abc", (const uint8_t *)body,
                         strlen(body), res);
}

static void test_post_delivered(void **state)
{
        (void)state;
        struct receiver r;
        struct notify_result res;
        receiver_start(&r, 204);
        post(&r, true, 3000, &res);
        receiver_stop(&r);
        assert_true(res.ok);
        assert_int_equal(res.status, 204);
        assert_int_equal(r.connections, 1);
        assert_non_null(strstr(r.request, "POST /hook?x=1 HTTP/1.1\r\n"));
        assert_non_null(strstr(r.request, "X-Quill-Signature: sha256=abc\r\n"));
        assert_non_null(strstr(r.request, "X-Quill-Event: certificate.issued\r\n"));
        assert_non_null(strstr(r.request, "X-Quill-Delivery: 99\r\n"));
        assert_non_null(strstr(r.request, "Content-Type: application/json\r\n"));
        assert_non_null(strstr(r.request, "\r\n\r\n{\"type\":\"certificate.issued\"}"));
}

static void test_post_server_error(void **state)
{
        (void)state;
        struct receiver r;
        struct notify_result res;
        receiver_start(&r, 500);
        post(&r, true, 3000, &res);
        receiver_stop(&r);
        assert_false(res.ok);
        assert_int_equal(res.status, 500);
        assert_non_null(strstr(res.error, "HTTP 500"));
        assert_null(strstr(res.error, "hello")); /* the answer's body is never repeated */
        /* a redirect is an answer, not followed */
        receiver_start(&r, 302);
        post(&r, true, 3000, &res);
        receiver_stop(&r);
        assert_false(res.ok);
        assert_int_equal(res.status, 302);
        assert_int_equal(r.connections, 1);
}

static void test_post_refused_before_connecting(void **state)
{
        (void)state;
        struct receiver r;
        struct notify_result res;
        receiver_start(&r, 200);
        post(&r, false, 3000, &res);
        receiver_stop(&r);
        assert_false(res.ok);
        assert_int_equal(res.status, 0);
        assert_int_equal(r.connections, 0); /* nothing reached the receiver */
        assert_non_null(strstr(res.error, "127.0.0.1 (loopback"));
}

static void test_post_timeout(void **state)
{
        (void)state;
        struct receiver r;
        struct notify_result res;
        receiver_start(&r, 0);
        post(&r, true, 500, &res);
        receiver_stop(&r);
        assert_false(res.ok);
        assert_int_equal(res.status, 0);
        assert_non_null(strstr(res.error, "no answer within 500 ms"));
        assert_true(res.duration_ms >= 400 && res.duration_ms < 1900);
}

static void test_post_connection_refused(void **state)
{
        (void)state;
        struct receiver r;
        receiver_start(&r, 200);
        int port = r.port;
        receiver_stop(&r); /* nobody listens there any more */
        r.port = port;
        struct notify_result res;
        post(&r, true, 3000, &res);
        assert_false(res.ok);
        assert_int_equal(res.status, 0);
        assert_true(res.error[0] != 0);
}

int main(void)
{
        curl_global_init(CURL_GLOBAL_DEFAULT);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_sign_rfc4231),
            cmocka_unit_test(test_backoff_schedule),
            cmocka_unit_test(test_url_parse),
            cmocka_unit_test(test_url_private_hosts_refused),
            cmocka_unit_test(test_email_addresses),
            cmocka_unit_test(test_expiry_days),
            cmocka_unit_test(test_payload),
            cmocka_unit_test(test_email_text),
            cmocka_unit_test(test_smtp_message),
            cmocka_unit_test(test_post_delivered),
            cmocka_unit_test(test_post_server_error),
            cmocka_unit_test(test_post_refused_before_connecting),
            cmocka_unit_test(test_post_timeout),
            cmocka_unit_test(test_post_connection_refused),
        };
        int rc = cmocka_run_group_tests(tests, NULL, NULL);
        curl_global_cleanup();
        return rc;
}
