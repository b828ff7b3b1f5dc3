/*
 * notify_url.c - webhook URLs: parsing (libcurl's URL API), and the
 * addresses a host may be reached at (notify.h, notify_int.h).
 */
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../dns/dns.h"
#include "notify_int.h"

#define SHOW 80 /* characters of a URL shown in a sentence */

/* Untrusted text for a sentence: printable ASCII, at most SHOW characters. */
static const char *shown(const char *s, char *out, size_t outsz)
{
        size_t o = 0;
        for (; s && *s && o + 4 < outsz && o < SHOW; s++)
                out[o++] = (*s >= 0x20 && *s < 0x7f && *s != '"') ? *s : '?';
        if (s && *s && o + 4 < outsz) {
                memcpy(out + o, "...", 3);
                o += 3;
        }
        out[o] = 0;
        return out;
}

/* A DNS name: labels of 1 to 63 letters, digits, '-' and '_' (seen in
 * the wild), 253 characters at most, one trailing dot allowed. */
static bool host_chars_ok(const char *h)
{
        size_t n = strlen(h), label = 0;
        if (n > 1 && h[n - 1] == '.')
                n--;
        if (n == 0 || n > 253)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)h[i];
                if (c == '.') {
                        if (label == 0)
                                return false;
                        label = 0;
                } else if ((isalnum(c) || c == '-' || c == '_') && ++label <= 63) {
                        continue;
                } else {
                        return false;
                }
        }
        return label > 0;
}

enum qerr notify_url_parse(const char *url, struct notify_url *out, struct qerr_info *ei)
{
        char sh[SHOW + 8];
        memset(out, 0, sizeof *out);
        if (!url || !*url)
                return qerr_set(ei, QERR_WEBHOOK_URL_INVALID, "the webhook URL is empty");
        size_t len = strlen(url);
        if (len > QUILL_WEBHOOK_URL_MAX)
                return qerr_set(ei, QERR_WEBHOOK_URL_INVALID,
                                "the webhook URL has %zu characters; at most %d are allowed", len,
                                QUILL_WEBHOOK_URL_MAX);
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
                        return qerr_set(ei, QERR_WEBHOOK_URL_INVALID,
                                        "the webhook URL holds a space, control or non-ASCII "
                                        "character at position %zu; percent-encode it",
                                        i + 1);
        CURLU *h = curl_url();
        char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *pass = NULL;
        enum qerr rc = QERR_OK;
        if (!h)
                return qerr_set(ei, QERR_NOMEM, NULL);
        CURLUcode uc = curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
        if (uc != CURLUE_OK) {
                rc = qerr_set(ei, QERR_WEBHOOK_URL_INVALID,
                              "\"%s\" is not a URL (%s); give one such as "
                              "https://hooks.example.com/quill",
                              shown(url, sh, sizeof sh), curl_url_strerror(uc));
                goto out;
        }
        if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
                rc = qerr_set(ei, QERR_WEBHOOK_URL_INVALID,
                              "a webhook URL starts with http:// or https://, not \"%s\"",
                              shown(scheme ? scheme : "", sh, sizeof sh));
                goto out;
        }
        if (curl_url_get(h, CURLUPART_USER, &user, 0) == CURLUE_OK ||
            curl_url_get(h, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK) {
                rc = qerr_set(ei, QERR_WEBHOOK_URL_INVALID,
                              "the webhook URL holds a user name or password; leave them out "
                              "(deliveries are signed with the webhook's secret instead)");
                goto out;
        }
        char *zone = NULL;
        bool zoned = curl_url_get(h, CURLUPART_ZONEID, &zone, 0) == CURLUE_OK;
        curl_free(zone);
        if (zoned) {
                rc = qerr_set(ei, QERR_WEBHOOK_URL_INVALID,
                              "the webhook URL's host has an IPv6 zone id; quill accepts none");
                goto out;
        }
        if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
                rc = qerr_set(ei, QERR_WEBHOOK_URL_INVALID, "the webhook URL has no host");
                goto out;
        }
        snprintf(out->scheme, sizeof out->scheme, "%s", scheme);
        for (char *q = out->scheme; *q; q++)
                *q = (char)tolower((unsigned char)*q);
        size_t hl = strlen(host);
        const char *hp = host;
        if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
                hp = host + 1;
                hl -= 2;
        }
        if (hl >= sizeof out->host) {
                rc = qerr_set(ei, QERR_WEBHOOK_URL_INVALID, "the webhook URL's host is too long");
                goto out;
        }
        memcpy(out->host, hp, hl);
        out->host[hl] = 0;
        for (char *q = out->host; *q; q++)
                *q = (char)tolower((unsigned char)*q);
        out->literal = netaddr_parse(out->host, &out->addr);
        if (!out->literal && (strchr(out->host, ':') || strchr(out->host, '%'))) {
                rc = qerr_set(ei, QERR_WEBHOOK_URL_INVALID,
                              "the webhook URL's host \"%s\" is not an address quill accepts "
                              "(no zone ids)",
                              shown(out->host, sh, sizeof sh));
                goto out;
        }
        if (!out->literal && !host_chars_ok(out->host)) {
                rc = qerr_set(ei, QERR_WEBHOOK_URL_INVALID,
                              "the webhook URL's host \"%s\" is not a DNS name (letters, digits, "
                              "hyphens; use the A-label form of an internationalised name)",
                              shown(out->host, sh, sizeof sh));
                goto out;
        }
        out->port = -1;
        if (curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
                char *end;
                out->port = strtol(port, &end, 10);
                if (*end || out->port <= 0 || out->port > 65535)
                        out->port = -1;
        }
        if (out->port < 0)
                rc = qerr_set(ei, QERR_WEBHOOK_URL_INVALID, "the webhook URL's port is not valid");
out:
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
        curl_free(user);
        curl_free(pass);
        curl_url_cleanup(h);
        return rc;
}

bool notify_localhost_name(const char *host)
{
        size_t n = strlen(host);
        while (n && host[n - 1] == '.')
                n--;
        if (n == 9 && strncmp(host, "localhost", 9) == 0)
                return true;
        return n > 10 && strncmp(host + n - 10, ".localhost", 10) == 0;
}

bool notify_addr_allowed(const struct notify_net *n, const struct netaddr *a, char *why,
                         size_t whysz)
{
        if (n->allow_private)
                return true;
        struct netaddr_verdict v;
        netaddr_classify(a, &v);
        if (!v.special)
                return true;
        netaddr_describe(a, &v, why, whysz);
        return false;
}

static void add_addr(struct notify_addrs *s, const struct netaddr *a)
{
        for (size_t i = 0; i < s->n; i++)
                if (s->a[i].family == a->family && memcmp(s->a[i].b, a->b, 16) == 0)
                        return;
        if (s->n < NOTIFY_MAX_ADDRS)
                s->a[s->n++] = *a;
}

/* A and AAAA of `host` through the resolver into `s`. false with `why`
 * when neither gave an address. */
static bool lookup(const struct notify_net *n, const char *host, struct notify_addrs *s, char *why,
                   size_t whysz)
{
        static const uint16_t types[2] = {DNS_TYPE_A, DNS_TYPE_AAAA};
        char first[200] = "";
        for (int t = 0; t < 2; t++) {
                struct dns_result res;
                struct qerr_info ei;
                memset(&res, 0, sizeof res);
                if (!n->dns || dns_lookup(n->dns, host, types[t], &res, &ei) != QERR_OK) {
                        snprintf(first, sizeof first, "it is not a name that can be looked up");
                        dns_result_clear(&res);
                        break;
                }
                if (res.status == DNS_OK) {
                        size_t want = types[t] == DNS_TYPE_A ? 4 : 16;
                        for (size_t i = 0; i < res.nrrs; i++) {
                                if (res.rrs[i].len != want)
                                        continue;
                                struct netaddr a;
                                memset(&a, 0, sizeof a);
                                a.family = want == 4 ? NETADDR_V4 : NETADDR_V6;
                                memcpy(a.b, res.rrs[i].data, want);
                                add_addr(s, &a);
                        }
                } else if (!first[0]) {
                        char d[160];
                        if (res.status == DNS_NXDOMAIN)
                                snprintf(d, sizeof d, "it does not exist in DNS");
                        else if (res.status == DNS_NODATA)
                                snprintf(d, sizeof d, "it has no A or AAAA record");
                        else
                                dns_result_describe(&res, d, sizeof d);
                        snprintf(first, sizeof first, "%s", d);
                }
                dns_result_clear(&res);
        }
        if (s->n > 0)
                return true;
        snprintf(why, whysz, "no address for %s: %s", host, first[0] ? first : "no answer");
        return false;
}

bool notify_addrs_for(const struct notify_net *n, const struct notify_url *u,
                      struct notify_addrs *out, bool *refused, char *why, size_t whysz)
{
        memset(out, 0, sizeof *out);
        *refused = false;
        struct notify_addrs found = {0};
        if (u->literal) {
                add_addr(&found, &u->addr);
        } else if (notify_localhost_name(u->host)) {
                /* RFC 6761: always loopback, never asked of DNS */
                struct netaddr a;
                netaddr_parse("127.0.0.1", &a);
                add_addr(&found, &a);
                netaddr_parse("::1", &a);
                add_addr(&found, &a);
        } else if (!lookup(n, u->host, &found, why, whysz)) {
                return false;
        }
        char first[NETADDR_WHY_MAX] = "";
        size_t dropped = 0;
        for (size_t i = 0; i < found.n; i++) {
                char w[NETADDR_WHY_MAX];
                if (notify_addr_allowed(n, &found.a[i], w, sizeof w))
                        out->a[out->n++] = found.a[i];
                else if (dropped++ == 0)
                        snprintf(first, sizeof first, "%s", w);
        }
        if (dropped == 0)
                return true;
        /* one refused address refuses the host: a name that resolves to a
         * private address among public ones is still a way inside */
        *refused = true;
        out->n = 0;
        char more[48] = "";
        if (dropped > 1)
                snprintf(more, sizeof more, " (and %zu more)", dropped - 1);
        snprintf(why, whysz,
                 "%s%s is not a public address: webhooks go only to public addresses unless "
                 "[notify] allow_private_addresses = true",
                 first, more);
        return false;
}

enum qerr notify_url_check(const struct notify_net *n, const struct notify_url *u,
                           struct qerr_info *ei)
{
        struct notify_addrs a;
        bool refused = false;
        char why[NETADDR_WHY_MAX + 200];
        if (notify_addrs_for(n, u, &a, &refused, why, sizeof why) || !refused)
                return QERR_OK; /* no address yet: every delivery checks again */
        char sh[SHOW + 8];
        return qerr_set(ei, QERR_WEBHOOK_URL_INVALID, "the webhook host %s is refused: %s",
                        shown(u->host, sh, sizeof sh), why);
}
