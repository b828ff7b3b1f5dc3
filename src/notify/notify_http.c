/*
 * notify_http.c - one webhook delivery: a POST through libcurl to checked,
 * pinned addresses (notify.h). Nothing of the answer but its status is
 * kept; redirects are not followed; the secret never reaches this file
 * (only the signature computed from it).
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "notify_int.h"

struct transfer {
        const struct notify_net *net;
        const struct notify_addrs *pinned;
        bool blocked; /* libcurl wanted an address we did not pin */
        bool refused; /* ... or one that is not allowed */
        char refused_why[NETADDR_WHY_MAX];
};

static bool sockaddr_to_netaddr(const struct sockaddr *sa, struct netaddr *a)
{
        memset(a, 0, sizeof *a);
        if (sa->sa_family == AF_INET) {
                a->family = NETADDR_V4;
                memcpy(a->b, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
                return true;
        }
        if (sa->sa_family == AF_INET6) {
                a->family = NETADDR_V6;
                memcpy(a->b, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
                return true;
        }
        return false;
}

static curl_socket_t on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *ca)
{
        struct transfer *t = ud;
        struct netaddr a;
        bool pinned = false;
        if (purpose == CURLSOCKTYPE_IPCXN && sockaddr_to_netaddr(&ca->addr, &a))
                for (size_t i = 0; i < t->pinned->n && !pinned; i++)
                        pinned = t->pinned->a[i].family == a.family &&
                                 memcmp(t->pinned->a[i].b, a.b, 16) == 0;
        if (!pinned) {
                t->blocked = true;
                return CURL_SOCKET_BAD;
        }
        /* the address actually connected to, checked again */
        if (!notify_addr_allowed(t->net, &a, t->refused_why, sizeof t->refused_why)) {
                t->refused = true;
                return CURL_SOCKET_BAD;
        }
        return socket(ca->family, ca->socktype | SOCK_CLOEXEC, ca->protocol);
}

static size_t discard(char *p, size_t size, size_t nmemb, void *ud)
{
        (void)p;
        (void)ud;
        return size * nmemb; /* the answer's body is not read */
}

static long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "host:port:addr,[addr6],..." for CURLOPT_RESOLVE. */
static bool resolve_entry(const struct notify_url *u, const struct notify_addrs *s, char *out,
                          size_t outsz)
{
        int n = snprintf(out, outsz, "%s:%ld:", u->host, u->port);
        if (n < 0 || (size_t)n >= outsz)
                return false;
        size_t o = (size_t)n;
        for (size_t i = 0; i < s->n; i++) {
                char a[NETADDR_TEXT_MAX];
                netaddr_format(&s->a[i], a, sizeof a);
                n = snprintf(out + o, outsz - o, s->a[i].family == NETADDR_V6 ? "%s[%s]" : "%s%s",
                             i ? "," : "", a);
                if (n < 0 || (size_t)n >= outsz - o)
                        return false;
                o += (size_t)n;
        }
        return true;
}

void notify_http_post(const struct notify_net *n, const char *url, const char *event,
                      int64_t delivery_id, const char *signature, const uint8_t *body, size_t len,
                      struct notify_result *out)
{
        memset(out, 0, sizeof *out);
        long t0 = now_ms();
        struct notify_url u;
        struct qerr_info ei;
        if (notify_url_parse(url, &u, &ei) != QERR_OK) {
                snprintf(out->error, sizeof out->error, "%s", qerr_message(&ei));
                return;
        }
        struct notify_addrs addrs;
        bool refused = false;
        if (!notify_addrs_for(n, &u, &addrs, &refused, out->error, sizeof out->error)) {
                out->duration_ms = now_ms() - t0;
                return;
        }
        CURL *h = curl_easy_init();
        struct curl_slist *headers = NULL, *resolve = NULL;
        char entry[300 + NOTIFY_MAX_ADDRS * (NETADDR_TEXT_MAX + 3)];
        char errbuf[CURL_ERROR_SIZE] = "";
        char line[160];
        struct transfer t = {.net = n, .pinned = &addrs};
        CURLcode rc = h ? CURLE_OK : CURLE_FAILED_INIT;
        if (rc == CURLE_OK && !u.literal) {
                if (!resolve_entry(&u, &addrs, entry, sizeof entry) ||
                    !(resolve = curl_slist_append(NULL, entry)))
                        rc = CURLE_OUT_OF_MEMORY;
        }
        const char *fixed[] = {"Content-Type: application/json", "User-Agent: quill-webhook/1",
                               "Expect:", "Accept:"};
        for (size_t i = 0; rc == CURLE_OK && i < sizeof fixed / sizeof fixed[0]; i++)
                if (!(headers = curl_slist_append(headers, fixed[i])))
                        rc = CURLE_OUT_OF_MEMORY;
        if (rc == CURLE_OK) {
                snprintf(line, sizeof line, "X-Quill-Event: %s", event);
                if (!(headers = curl_slist_append(headers, line)))
                        rc = CURLE_OUT_OF_MEMORY;
        }
        if (rc == CURLE_OK) {
                snprintf(line, sizeof line, "X-Quill-Delivery: %lld", (long long)delivery_id);
                if (!(headers = curl_slist_append(headers, line)))
                        rc = CURLE_OUT_OF_MEMORY;
        }
        if (rc == CURLE_OK) {
                snprintf(line, sizeof line, "X-Quill-Signature: %s", signature);
                if (!(headers = curl_slist_append(headers, line)))
                        rc = CURLE_OUT_OF_MEMORY;
        }
#define SET(opt, val)                                                                              \
        do {                                                                                       \
                if (rc == CURLE_OK)                                                                \
                        rc = curl_easy_setopt(h, opt, val);                                        \
        } while (0)
        SET(CURLOPT_URL, url);
        SET(CURLOPT_RESOLVE, resolve);
        SET(CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
        SET(CURLOPT_OPENSOCKETDATA, &t);
        SET(CURLOPT_HTTPHEADER, headers);
        SET(CURLOPT_POST, 1L);
        SET(CURLOPT_POSTFIELDS, (const char *)body);
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        SET(CURLOPT_WRITEFUNCTION, discard);
        SET(CURLOPT_ERRORBUFFER, errbuf);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_TIMEOUT_MS, n->timeout_ms);
        SET(CURLOPT_CONNECTTIMEOUT_MS, n->timeout_ms);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_PROXY, "");
        SET(CURLOPT_FORBID_REUSE, 1L);
#undef SET
        if (rc == CURLE_OK)
                rc = curl_easy_perform(h);
        long status = 0;
        if (h)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        out->status = (int)status;
        out->duration_ms = now_ms() - t0;
        if (t.refused)
                snprintf(out->error, sizeof out->error,
                         "refused to connect to %.180s (webhooks go only to public addresses)",
                         t.refused_why);
        else if (t.blocked)
                snprintf(out->error, sizeof out->error,
                         "libcurl tried an address quill's resolver did not return");
        else if (rc == CURLE_OPERATION_TIMEDOUT)
                snprintf(out->error, sizeof out->error, "no answer within %ld ms", n->timeout_ms);
        else if (rc != CURLE_OK) /* libcurl's sentence names host and port, never the body */
                snprintf(out->error, sizeof out->error, "%s",
                         errbuf[0] ? errbuf : curl_easy_strerror(rc));
        else if (status >= 200 && status < 300)
                out->ok = true;
        else
                snprintf(out->error, sizeof out->error, "the receiver answered HTTP %ld", status);
        curl_slist_free_all(headers);
        curl_slist_free_all(resolve);
        if (h)
                curl_easy_cleanup(h);
}
