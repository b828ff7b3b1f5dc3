/*
 * notify_smtp.c - one notification email: an RFC 5322 text/plain message
 * handed to the [smtp] url relay through libcurl's SMTP (notify.h).
 *
 * The relay is the operator's own, so no address rule applies to it; TLS
 * is `smtps://` (certificate verified). Every address is checked again
 * (src/base/email.h) and the subject is one line of printable ASCII, so no
 * value can add a header or a recipient. libcurl dot-stuffs the body.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/email.h"
#include "notify_int.h"

#define MAX_MESSAGE (256u * 1024u)
#define MAX_LINE 900 /* RFC 5322 allows 998 octets; longer lines are broken */

/* "user@domain" -> "domain" (for the Message-ID). */
static const char *domain_of(const char *addr)
{
        const char *at = strrchr(addr, '@');
        return at ? at + 1 : "localhost";
}

/* One header-safe line: printable ASCII, at most `max` characters. */
static bool append_safe(struct qbuf *b, const char *s, size_t max)
{
        size_t n = 0;
        for (; s && *s && n < max; s++, n++) {
                char c = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
                if (!qbuf_append(b, &c, 1))
                        return false;
        }
        return true;
}

bool notify_smtp_message(const struct notify_smtp *c, const char *recipients, const char *subject,
                         const char *text, int64_t delivery_id, qtime_t now, struct qbuf *out)
{
        char date[64];
        time_t t = (time_t)now;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
        bool ok = qbuf_printf(out, "Date: %s\r\nFrom: %s\r\nTo: ", date, c->from);
        /* the recipients as a list (checked by the caller), folded before a
         * line grows past MAX_LINE */
        size_t line = 4;
        for (const char *p = recipients; ok && p && *p;) {
                size_t len = strcspn(p, ",");
                if (p != recipients && line + len + 2 > MAX_LINE) {
                        ok = qbuf_append_str(out, ",\r\n ");
                        line = 1;
                } else if (p != recipients) {
                        ok = qbuf_append_str(out, ", ");
                        line += 2;
                }
                ok = ok && qbuf_append(out, p, len);
                line += len;
                p += len + (p[len] ? 1 : 0);
        }
        ok = ok && qbuf_append_str(out, "\r\nSubject: ") && append_safe(out, subject, 200) &&
             qbuf_printf(out,
                         "\r\nMessage-ID: <quill.%lld.%lld@%s>\r\nMIME-Version: 1.0\r\n"
                         "Content-Type: text/plain; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n"
                         "X-Quill-Delivery: %lld\r\n\r\n",
                         (long long)delivery_id, (long long)now, domain_of(c->from),
                         (long long)delivery_id);
        /* the text with CRLF line ends, long lines broken */
        size_t col = 0;
        for (const char *p = text; ok && p && *p; p++) {
                if (*p == '\r')
                        continue;
                if (*p == '\n') {
                        ok = qbuf_append_str(out, "\r\n");
                        col = 0;
                        continue;
                }
                if (col >= MAX_LINE) {
                        ok = qbuf_append_str(out, "\r\n");
                        col = 0;
                }
                ok = ok && qbuf_append(out, p, 1);
                col++;
        }
        if (ok && col)
                ok = qbuf_append_str(out, "\r\n");
        return ok;
}

struct reader {
        const struct qbuf *msg;
        size_t off;
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
        struct reader *r = ud;
        size_t room = size * nitems, left = r->msg->len - r->off;
        size_t n = left < room ? left : room;
        memcpy(buf, r->msg->data + r->off, n);
        r->off += n;
        return n;
}

static long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void notify_smtp_send(const struct notify_smtp *c, const char *recipients, const char *subject,
                      const char *text, int64_t delivery_id, struct notify_result *out)
{
        memset(out, 0, sizeof *out);
        long t0 = now_ms();
        struct qbuf msg;
        qbuf_init(&msg, MAX_MESSAGE);
        struct curl_slist *rcpt = NULL;
        CURL *h = NULL;
        char from[EMAIL_MAX + 3], one[EMAIL_MAX + 3], errbuf[CURL_ERROR_SIZE] = "";
        if (!c->url || !*c->url) {
                snprintf(out->error, sizeof out->error,
                         "no mail server: set [smtp] url (e.g. smtp://127.0.0.1:25)");
                goto out;
        }
        if (!email_addr_valid(c->from)) {
                snprintf(out->error, sizeof out->error, "[smtp] from is not an email address");
                goto out;
        }
        for (const char *p = recipients; p && *p;) {
                size_t len = strcspn(p, ",");
                char addr[EMAIL_MAX + 1];
                snprintf(addr, sizeof addr, "%.*s", (int)(len < EMAIL_MAX ? len : EMAIL_MAX), p);
                if (len > EMAIL_MAX || !email_addr_valid(addr)) {
                        snprintf(out->error, sizeof out->error, "a recipient is not an address");
                        goto out;
                }
                snprintf(one, sizeof one, "<%s>", addr);
                struct curl_slist *nl = curl_slist_append(rcpt, one);
                if (!nl) {
                        snprintf(out->error, sizeof out->error, "out of memory");
                        goto out;
                }
                rcpt = nl;
                p += len + (p[len] ? 1 : 0);
        }
        if (!rcpt) {
                snprintf(out->error, sizeof out->error, "no recipient");
                goto out;
        }
        if (!notify_smtp_message(c, recipients, subject, text, delivery_id, (qtime_t)time(NULL),
                                 &msg)) {
                snprintf(out->error, sizeof out->error, "the message is too large");
                goto out;
        }
        snprintf(from, sizeof from, "<%s>", c->from);
        struct reader r = {.msg = &msg};
        h = curl_easy_init();
        CURLcode rc = h ? CURLE_OK : CURLE_FAILED_INIT;
#define SET(opt, val)                                                                              \
        do {                                                                                       \
                if (rc == CURLE_OK)                                                                \
                        rc = curl_easy_setopt(h, opt, val);                                        \
        } while (0)
        SET(CURLOPT_URL, c->url);
        SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        SET(CURLOPT_MAIL_FROM, from);
        SET(CURLOPT_MAIL_RCPT, rcpt);
        SET(CURLOPT_READFUNCTION, on_read);
        SET(CURLOPT_READDATA, &r);
        SET(CURLOPT_UPLOAD, 1L);
        SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg.len);
        SET(CURLOPT_ERRORBUFFER, errbuf);
        SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
        SET(CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_PROXY, "");
#undef SET
        if (rc == CURLE_OK)
                rc = curl_easy_perform(h);
        long code = 0;
        if (h)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        out->status = (int)code;
        if (rc == CURLE_OK)
                out->ok = true;
        else if (rc == CURLE_OPERATION_TIMEDOUT)
                snprintf(out->error, sizeof out->error,
                         "the mail server did not answer within %ld ms", c->timeout_ms);
        else
                snprintf(out->error, sizeof out->error, "%s",
                         errbuf[0] ? errbuf : curl_easy_strerror(rc));
out:
        out->duration_ms = now_ms() - t0;
        curl_slist_free_all(rcpt);
        if (h)
                curl_easy_cleanup(h);
        qbuf_free(&msg);
}
