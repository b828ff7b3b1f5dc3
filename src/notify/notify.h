/*
 * notify.h - the parts of notifications that do not need the database:
 * what a webhook URL may be, what is sent for an event (the signed JSON
 * body of a webhook, the subject and text of an email), how long to wait
 * before the next attempt, and the two transports (an HTTP POST pinned to
 * checked addresses, an SMTP submission), both through libcurl.
 *
 * Webhook URLs: http or https, a host, an optional port, at most
 * QUILL_WEBHOOK_URL_MAX characters, no user name or password (libcurl's URL
 * API, CURLU, does the parsing). A host that is, or resolves to, a
 * special-purpose address (src/base/netaddr.h: loopback, RFC 1918, link
 * local with 169.254.169.254, ...) is refused, at registration and at every
 * delivery, unless the organisation allowed it ([notify]
 * allow_private_addresses). Deliveries never use the system resolver: the
 * host's A and AAAA records come from quill's resolver (src/dns), the
 * refused ones are dropped, the rest are pinned with CURLOPT_RESOLVE, and
 * the open-socket callback checks the address actually connected to.
 * Redirects are not followed (an answer is its status: 2xx delivered,
 * anything else a failed attempt); the response body is never read.
 *
 * Memory: results are plain values or caller-owned buffers (qbuf, json_t).
 * Threads: any thread, one call at a time per resolver; each transfer has
 * its own curl easy handle (curl_global_init is done at program start by
 * service_global_init).
 */
#ifndef QUILL_NOTIFY_H
#define QUILL_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/model.h"
#include "../base/netaddr.h"

struct dns_resolver;

#define NOTIFY_SECRET_MIN 16
#define NOTIFY_SECRET_MAX 256
#define NOTIFY_MAX_WEBHOOKS 20 /* per tenant */
#define NOTIFY_MAX_CONTACTS 20 /* per tenant */
#define NOTIFY_SIG_MAX 80      /* "sha256=" + 64 hex digits + NUL */

/* The events that notify (docs/internals/notify.md). */
#define NOTIFY_CERT_ISSUED "certificate.issued"
#define NOTIFY_ORDER_VALIDATION_NEEDED "order.validation_needed"
#define NOTIFY_ORDER_VALIDATION_FAILED "order.validation_failed"
#define NOTIFY_REVIEW_DECIDED "review.decided"
#define NOTIFY_CERT_REVOCATION_REQUESTED "certificate.revocation_requested"
#define NOTIFY_CERT_REVOKED "certificate.revoked"
#define NOTIFY_CERT_REVOCATION_FAILED "certificate.revocation_failed"
#define NOTIFY_CERT_REISSUED "certificate.reissued"
#define NOTIFY_CERT_EXPIRING "certificate.expiring"

/* ---- webhook URLs ---- */

struct notify_url {
        char scheme[8]; /* "http" or "https" */
        char host[256]; /* lower-case; an IPv6 literal without its brackets */
        long port;      /* the explicit port, else the scheme's */
        bool literal;   /* the host is an IP address (then in `addr`) */
        struct netaddr addr;
};

/* Parses a webhook URL. WEBHOOK_URL_INVALID with a sentence saying what is
 * wrong (never repeating more than a short, escaped part of the URL). */
enum qerr notify_url_parse(const char *url, struct notify_url *out, struct qerr_info *ei);

/* What the network side may do. */
struct notify_net {
        struct dns_resolver *dns; /* quill's resolver, for host names */
        long timeout_ms;          /* per attempt */
        bool allow_private;       /* [notify] allow_private_addresses */
};

/* At registration: WEBHOOK_URL_INVALID when the host is a special-purpose
 * address, a localhost name, or a name any of whose addresses is one
 * (unless n->allow_private). A name that does not resolve (yet) passes:
 * every delivery checks again. */
enum qerr notify_url_check(const struct notify_net *n, const struct notify_url *u,
                           struct qerr_info *ei);

/* ---- transports ---- */

struct notify_result {
        bool ok;          /* HTTP 2xx; SMTP accepted */
        int status;       /* HTTP status or SMTP reply code; 0: no answer */
        char error[256];  /* why not ok (no response bytes, no secrets) */
        long duration_ms; /* the attempt */
};

/* POSTs `body` to `url` with Content-Type: application/json and the headers
 * X-Quill-Event, X-Quill-Delivery and X-Quill-Signature. */
void notify_http_post(const struct notify_net *n, const char *url, const char *event,
                      int64_t delivery_id, const char *signature, const uint8_t *body, size_t len,
                      struct notify_result *out);

struct notify_smtp {
        const char *url;  /* [smtp] url */
        const char *from; /* [smtp] from */
        long timeout_ms;
};

/* Sends a text/plain message to `recipients` (addresses separated by
 * commas) through the relay. */
void notify_smtp_send(const struct notify_smtp *c, const char *recipients, const char *subject,
                      const char *text, int64_t delivery_id, struct notify_result *out);

/* The whole message (headers, blank line, text with CRLF line ends) as
 * sent; exposed for tests. false when it does not fit `out`. */
bool notify_smtp_message(const struct notify_smtp *c, const char *recipients, const char *subject,
                         const char *text, int64_t delivery_id, qtime_t now, struct qbuf *out);

/* ---- rules ---- */

/* Seconds to wait after failed attempt number `attempts` (1-based): base
 * times 1, 5, 15, 30, 60, 120, 240, 360, 600 (the last for every later
 * attempt), plus jitter01 (0 <= jitter01 < 1) times 10% of it. */
long notify_backoff(int attempts, long base, double jitter01);

/* "sha256=" + lower-case hex of HMAC-SHA256(secret, body) into out. */
enum qerr notify_sign(const uint8_t *secret, size_t slen, const uint8_t *body, size_t len,
                      char *out, size_t outsz, struct qerr_info *ei);

/* ---- what is sent ---- */

/* An event and the objects it is about (borrowed). */
struct notify_event {
        const char *type;   /* NOTIFY_* */
        const char *tenant; /* the owning tenant's name */
        qtime_t at;
        const struct cert_rec *cert;     /* or NULL */
        const struct order_rec *order;   /* or NULL */
        const struct review_rec *review; /* review.decided */
        int threshold_days;              /* certificate.expiring */
        const char *detail;              /* a sentence (what happened, why), or NULL */
};

bool notify_event_known(const char *type);

/* The webhook body: {"type","tenant","at", "certificate"/"order" as the API
 * returns them, "review", "threshold_days", "detail" when they apply}.
 * NULL only when memory ran out; the caller owns it. */
json_t *notify_payload(const struct notify_event *e);

/* A short human text: the subject (one line, ASCII) and the body (what
 * happened, the object, and what to do: for order.validation_needed the
 * exact record or file to publish, for order.validation_failed the reason
 * and how to fix it). false when memory ran out. */
bool notify_email_text(const struct notify_event *e, struct qbuf *subject, struct qbuf *text);

#endif
