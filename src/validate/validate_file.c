/*
 * validate_file.c - the file method of domain control validation (BR
 * 3.2.2.4.18): GET http://<name>/.well-known/pki-validation/<token>.txt,
 * and nothing else, from public addresses only; and ACME http-01 (RFC 8555
 * 8.3, BR 3.2.2.4.19), the same fetch of
 * http://<name>/.well-known/acme-challenge/<token> expecting the key
 * authorization, under the same address and redirect rules. An IP address
 * identifier (RFC 8738) is fetched from that address, never looked up.
 *
 * Addresses. libcurl never resolves a name: every host fetched from (the
 * name, then each redirect target) is looked up through the caller's
 * resolver, and the answers are checked, then pinned: the special-purpose
 * addresses of src/base/netaddr.h (loopback, RFC 1918, link-local with
 * 169.254.169.254, carrier-grade NAT, unique local, multicast,
 * documentation, IPv4-mapped forms of these, ...) are dropped, and only
 * what is left is handed to libcurl as CURLOPT_RESOLVE entries. The checked
 * answers are the ones used: no second lookup happens between the check and
 * the connection. An IP literal host (the name of an IP address
 * certificate, or a redirect to "http://169.254.169.254/" or
 * "http://[::1]/") is checked the same way. A host with no address left is
 * refused (file_unreachable, final) with a sentence naming the refused
 * address and its block. Belt and braces: the open-socket callback checks
 * the address libcurl actually connects to, refusing anything that is not
 * one of the pinned addresses or that is special-purpose, so even an
 * address libcurl found by itself is never connected to. [validation]
 * allow_private_addresses (tests only) turns the address check off;
 * [validation] allow_addresses (tests only) lists blocks treated as public.
 *
 * Redirects are followed by hand, one transfer per hop, so that each
 * target's status, scheme, port and address are checked before we connect:
 * only 301, 302, 307 and 308 (BR 3.2.2.4.18), only to http on port 80 or
 * https on 443, at most 10. The whole fetch (all hops) shares one deadline
 * of cfg->timeout_ms. Bodies are kept only for 200 answers and only up to
 * VALIDATE_MAX_BODY bytes, and a body is never repeated in a sentence:
 * a wrong file is described by its size, content type and form.
 *
 * Memory: results are plain values; everything allocated here (curl
 * handles, URL strings, bodies) is freed before returning. Threads: any
 * thread, one call at a time per resolver; each call has its own curl easy
 * handles.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "../base/netaddr.h"
#include "../dns/dns.h"
#include "validate.h"
#include "validate_int.h"

#define TOKEN_MAX_LEN 64
#define TYPE_SHOW 64 /* characters of a content type shown */

/* "host:port:addr1,[addr2],..." for CURLOPT_RESOLVE. */
static bool resolve_entry(const char *host, long port, const struct addrset *s, char *out,
                          size_t outsz)
{
        int n = snprintf(out, outsz, "%s:%ld:", host, port);
        if (n < 0 || (size_t)n >= outsz)
                return false;
        size_t o = (size_t)n;
        for (size_t i = 0; i < s->n; i++) {
                char a[INET6_ADDRSTRLEN];
                inet_ntop(s->family[i], s->addr[i], a, sizeof a);
                n = snprintf(out + o, outsz - o, s->family[i] == AF_INET6 ? "%s[%s]" : "%s%s",
                             i ? "," : "", a);
                if (n < 0 || (size_t)n >= outsz - o)
                        return false;
                o += (size_t)n;
        }
        return true;
}

/* One transfer: what the open-socket and write callbacks share. */
struct hop {
        CURL *h;
        const struct validate_cfg *cfg;
        const struct addrset *allowed;
        bool blocked; /* libcurl wanted an address we did not resolve */
        bool refused; /* ... or a special-purpose one (described in refused_why) */
        char refused_why[NETADDR_WHY_MAX];
        bool too_big; /* a 200 body past VALIDATE_MAX_BODY */
        bool nomem;
        struct qbuf body; /* kept only for 200 answers */
};

static bool addr_allowed(const struct addrset *s, const struct sockaddr *sa)
{
        for (size_t i = 0; i < s->n; i++) {
                if (sa->sa_family != s->family[i])
                        continue;
                if (sa->sa_family == AF_INET &&
                    memcmp(&((const struct sockaddr_in *)(const void *)sa)->sin_addr, s->addr[i],
                           4) == 0)
                        return true;
                if (sa->sa_family == AF_INET6 &&
                    memcmp(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, s->addr[i],
                           16) == 0)
                        return true;
        }
        return false;
}

static curl_socket_t on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
        struct hop *hp = ud;
        if (purpose != CURLSOCKTYPE_IPCXN || !addr_allowed(hp->allowed, &a->addr)) {
                hp->blocked = true;
                return CURL_SOCKET_BAD;
        }
        /* the address actually connected to, checked again */
        const void *b =
            a->addr.sa_family == AF_INET
                ? (const void *)&((const struct sockaddr_in *)(const void *)&a->addr)->sin_addr
                : (const void *)&((const struct sockaddr_in6 *)(const void *)&a->addr)->sin6_addr;
        if (!val_addr_public(hp->cfg, a->addr.sa_family, b, hp->refused_why,
                             sizeof hp->refused_why)) {
                hp->refused = true;
                return CURL_SOCKET_BAD;
        }
        return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
        struct hop *hp = ud;
        size_t n = size * nmemb;
        long status = 0;
        curl_easy_getinfo(hp->h, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200)
                return n; /* error pages and redirect bodies are not read */
        if (hp->body.len + n > VALIDATE_MAX_BODY) {
                hp->too_big = true;
                return 0;
        }
        if (!qbuf_append(&hp->body, p, n)) {
                hp->nomem = true;
                return 0;
        }
        return n;
}

/* The parts of a URL we check: scheme, host and effective port. */
struct url_parts {
        char scheme[16];
        char host[NAME_MAX_LEN + 3];
        long port;
};

static bool url_split(const char *url, struct url_parts *u)
{
        CURLU *h = curl_url();
        char *scheme = NULL, *host = NULL, *port = NULL;
        bool ok = false;
        if (!h)
                return false;
        if (curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
                goto out;
        if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK)
                goto out;
        if (strlen(scheme) >= sizeof u->scheme || strlen(host) >= sizeof u->host)
                goto out;
        snprintf(u->scheme, sizeof u->scheme, "%s", scheme);
        snprintf(u->host, sizeof u->host, "%s", host);
        for (char *q = u->scheme; *q; q++)
                *q = (char)tolower((unsigned char)*q);
        for (char *q = u->host; *q; q++)
                *q = (char)tolower((unsigned char)*q);
        /* the explicit port, else the scheme's default; -1 when neither */
        u->port = -1;
        if (curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
                char *end;
                u->port = strtol(port, &end, 10);
                if (*end || u->port <= 0 || u->port > 65535)
                        goto out;
        }
        ok = true;
out:
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
        curl_url_cleanup(h);
        return ok;
}

static bool redirect_allowed(const struct validate_cfg *c, const struct url_parts *u)
{
        return (strcmp(u->scheme, "http") == 0 && u->port == c->http_port) ||
               (strcmp(u->scheme, "https") == 0 && u->port == c->https_port);
}

/* Sets the options of one transfer of `url` to the addresses `s` of `u`. */
static CURLcode hop_setup(struct hop *hp, const char *url, const struct url_parts *u,
                          const struct addrset *s, bool literal, long timeout_ms, char *errbuf,
                          struct curl_slist **resolve)
{
        CURL *h = hp->h;
        CURLcode rc = CURLE_OK;
        if (!literal) {
                char entry[NAME_MAX_LEN + 16 + MAX_ADDRS * (INET6_ADDRSTRLEN + 3)];
                if (!resolve_entry(u->host, u->port, s, entry, sizeof entry))
                        return CURLE_URL_MALFORMAT;
                *resolve = curl_slist_append(NULL, entry);
                if (!*resolve)
                        return CURLE_OUT_OF_MEMORY;
        }
#define SET(opt, val)                                                                              \
        do {                                                                                       \
                if (rc == CURLE_OK)                                                                \
                        rc = curl_easy_setopt(h, opt, val);                                        \
        } while (0)
        SET(CURLOPT_URL, url);
        SET(CURLOPT_RESOLVE, *resolve);
        SET(CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
        SET(CURLOPT_OPENSOCKETDATA, hp);
        SET(CURLOPT_WRITEFUNCTION, on_body);
        SET(CURLOPT_WRITEDATA, hp);
        SET(CURLOPT_ERRORBUFFER, errbuf);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_TIMEOUT_MS, timeout_ms);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_PROXY, "");
        SET(CURLOPT_USERAGENT, "quill-validation/1");
        SET(CURLOPT_SSL_VERIFYPEER, 0L);
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
        SET(CURLOPT_FORBID_REUSE, 1L);
#undef SET
        return rc;
}

/* What is fetched: the file method's file, or http-01's resource. */
struct fetch_kind {
        const char *dir;    /* "/.well-known/pki-validation/" */
        const char *suffix; /* ".txt" */
        bool acme;          /* http-01: the value is a key authorization */
};

static const struct fetch_kind kind_file = {"/.well-known/pki-validation/", ".txt", false};
static const struct fetch_kind kind_http01 = {"/.well-known/acme-challenge/", "", true};

/* The URL of `name` and `token` (port shown only when it is not 80). */
static bool fetch_url(const struct validate_cfg *c, const struct fetch_kind *k, const char *name,
                      bool v6, const char *token, char *out, size_t outsz)
{
        char port[16] = "";
        if (c->http_port != 80)
                snprintf(port, sizeof port, ":%ld", c->http_port);
        int n = snprintf(out, outsz, "http://%s%s%s%s%s%s%s", v6 ? "[" : "", name, v6 ? "]" : "",
                         port, k->dir, token, k->suffix);
        return n > 0 && (size_t)n < outsz;
}

/* The content type of the answer for a sentence: "text/html" (parameters
 * dropped), "no content type", or "an unusual content type" when it is not
 * a plain type/subtype token pair (it comes from the server). */
static const char *content_type(CURL *h, char *out, size_t outsz)
{
        static const char tok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                  "!#$&^_.+-";
        char *ct = NULL;
        curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
        if (!ct || !*ct) {
                snprintf(out, outsz, "no content type");
                return out;
        }
        size_t n = strcspn(ct, ";");
        while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
                n--;
        size_t a = strspn(ct, tok);
        bool ok = n > 0 && n <= TYPE_SHOW && a > 0 && a < n && ct[a] == '/' &&
                  a + 1 + strspn(ct + a + 1, tok) == n && a + 1 < n;
        if (ok)
                snprintf(out, outsz, "%.*s", (int)n, ct);
        else
                snprintf(out, outsz, "an unusual content type");
        return out;
}

static bool followed_status(long status)
{
        return status == 301 || status == 302 || status == 307 || status == 308;
}

/* What one transfer ended with, turned into a result (or a redirect). */
static bool hop_outcome(const struct validate_cfg *c, struct hop *hp, CURLcode rc,
                        const char *errbuf, const char *url, const char *first_url,
                        const char *value, const char *noun, long timeout_ms, long *status,
                        char **next, struct validate_result *out)
{
        char first[URL_SHOW + 4], cur[URL_SHOW + 4], err[CURL_ERROR_SIZE + 8];
        char shown[2 * URL_SHOW + 32]; /* what the sentence is about */
        *next = NULL;
        val_show_str(first_url, first, sizeof first);
        if (strcmp(url, first_url) == 0)
                snprintf(shown, sizeof shown, "%s", first);
        else
                snprintf(shown, sizeof shown, "%s (redirected to %s)", first,
                         val_show_str(url, cur, sizeof cur));
        val_show_str(errbuf[0] ? errbuf : curl_easy_strerror(rc), err, sizeof err);
        if (hp->refused) {
                val_set_unreachable(out, c, true,
                                    "Refused to connect to %s: validation only connects to "
                                    "public addresses. It was to fetch %s.",
                                    hp->refused_why, shown);
                return false;
        }
        if (rc == CURLE_WRITE_ERROR && hp->too_big) {
                val_set_result(out, QERR_VALIDATION_MISMATCH, true,
                               "%s answered with more than %d bytes; the file must hold only %s.",
                               shown, VALIDATE_MAX_BODY, noun);
                return false;
        }
        if (hp->blocked) {
                val_set_unreachable(out, c, false,
                                    "%s could not be fetched: libcurl tried an address our "
                                    "resolver did not return.",
                                    shown);
                return false;
        }
        if (rc == CURLE_OPERATION_TIMEDOUT) {
                val_set_unreachable(out, c, false,
                                    "%s did not answer within %ld ms; check that the web server "
                                    "is up and reachable.",
                                    shown, timeout_ms);
                return false;
        }
        if (rc == CURLE_COULDNT_CONNECT) {
                val_set_unreachable(out, c, false,
                                    "%s could not be fetched: the connection failed (%s); check "
                                    "that the web server is up and reachable.",
                                    shown, err);
                return false;
        }
        if (rc != CURLE_OK) {
                val_set_unreachable(out, c, false, "%s could not be fetched: %s.", shown, err);
                return false;
        }

        curl_easy_getinfo(hp->h, CURLINFO_RESPONSE_CODE, status);
        if (*status >= 300 && *status < 400 && !followed_status(*status)) {
                val_set_unreachable(out, c, true,
                                    "%s answered HTTP %ld, a redirect validation does not follow: "
                                    "only 301, 302, 307 and 308 are followed (BR 3.2.2.4.18). "
                                    "Answer 200 with the file, or redirect with one of those.",
                                    shown, *status);
                return false;
        }
        if (*status >= 300 && *status < 400) {
                char *loc = NULL;
                curl_easy_getinfo(hp->h, CURLINFO_REDIRECT_URL, &loc);
                if (loc && loc[0]) {
                        *next = strdup(loc);
                        if (!*next) {
                                val_set_result(out, QERR_NOMEM, false, "Out of memory.");
                                return false;
                        }
                        return true;
                }
                val_set_unreachable(out, c, false,
                                    "%s answered HTTP %ld without a usable Location; it must "
                                    "answer 200 with the file.",
                                    shown, *status);
                return false;
        }
        if (*status != 200) {
                val_set_unreachable(out, c, false,
                                    "%s answered HTTP %ld; it must answer 200 with the file "
                                    "holding %s.",
                                    shown, *status, noun);
                return false;
        }

        if (validate_body_matches(hp->body.data, hp->body.len, value)) {
                val_set_result(out, QERR_OK, true, "%s holds the value.", shown);
        } else {
                /* the body is the server's: described, never repeated */
                char type[TYPE_SHOW + 32];
                size_t tl = val_trimmed_len(hp->body.data, hp->body.len);
                val_set_result(out, QERR_VALIDATION_MISMATCH, true,
                               "%s answered %zu bytes of %s, not %s%s; put exactly that value "
                               "in the file (what it holds is not repeated here).",
                               shown, hp->body.len, content_type(hp->h, type, sizeof type), noun,
                               val_value_shaped(hp->body.data, tl)
                                   ? " (it holds a value of the same form: perhaps an earlier "
                                     "order's)"
                                   : "");
        }
        return false;
}

/* The file method and http-01: fetch <dir><token><suffix> from `name`,
 * expect `value`. */
static void fetch_check(const struct validate_cfg *c, const struct fetch_kind *k, const char *name,
                        const char *token, const char *value, struct validate_result *out)
{
        char shown[URL_SHOW + 4], noun[96];
        memset(out, 0, sizeof *out);
        if (k->acme)
                snprintf(noun, sizeof noun, "the %zu-character key authorization of the challenge",
                         strlen(value));
        else
                snprintf(noun, sizeof noun, "the %zu-character value shown for the order",
                         strlen(value));
        if (strncmp(name, "*.", 2) == 0) {
                val_set_result(out, QERR_POLICY_DENIED, true,
                               "%s is a wildcard name: wildcard names can only be validated by the "
                               "DNS method (a TXT record at _acme-challenge.<name>).",
                               val_show_str(name, shown, sizeof shown));
                return;
        }
        struct addrset addrs;
        bool literal = val_literal_addr(name, &addrs);
        if (!literal && !val_name_chars_ok(name, NAME_MAX_LEN, false)) {
                val_set_result(out, QERR_NAME_INVALID, true,
                               "\"%s\" is not a host name a validation file can be fetched from.",
                               val_show_str(name, shown, sizeof shown));
                return;
        }
        if (!val_name_chars_ok(token, TOKEN_MAX_LEN, true)) {
                val_set_result(out, QERR_INTERNAL, true, "The validation token is malformed.");
                return;
        }

        char first_url[NAME_MAX_LEN + TOKEN_MAX_LEN + 64];
        if (!fetch_url(c, k, name, literal && strchr(name, ':'), token, first_url,
                       sizeof first_url)) {
                val_set_result(out, QERR_NAME_INVALID, true, "The name %s is too long.",
                               val_show_str(name, shown, sizeof shown));
                return;
        }
        char *url = strdup(first_url);
        if (!url) {
                val_set_result(out, QERR_NOMEM, false, "Out of memory.");
                return;
        }
        char resolved_host[NAME_MAX_LEN + 3] = "";
        long deadline = val_now_ms() + c->timeout_ms;

        for (int hopno = 0;; hopno++) {
                struct url_parts u;
                if (!url_split(url, &u)) {
                        val_set_unreachable(out, c, true, "%s is not a URL that can be fetched.",
                                            val_show_str(url, shown, sizeof shown));
                        break;
                }
                if (strcmp(u.host, resolved_host) != 0) {
                        literal = val_literal_addr(u.host, &addrs);
                        char what[2 * URL_SHOW + 32], a[URL_SHOW + 4], b[URL_SHOW + 4];
                        val_show_str(first_url, a, sizeof a);
                        if (hopno == 0)
                                snprintf(what, sizeof what, "%s", a);
                        else
                                snprintf(what, sizeof what, "%s (redirected to %s)", a,
                                         val_show_str(url, b, sizeof b));
                        if (!literal &&
                            !val_resolve_host(c, u.host, what, &addrs, QERR_FILE_UNREACHABLE, out))
                                break;
                        /* checked here, then pinned: these are the addresses used */
                        if (!val_keep_public(c, &addrs, what, hopno > 0, QERR_FILE_UNREACHABLE,
                                             out))
                                break;
                        snprintf(resolved_host, sizeof resolved_host, "%s", u.host);
                }
                long left = deadline - val_now_ms();
                if (left <= 0) {
                        val_set_unreachable(out, c, false,
                                            "%s could not be fetched within %ld ms (after %d "
                                            "redirects).",
                                            val_show_str(first_url, shown, sizeof shown),
                                            c->timeout_ms, hopno);
                        break;
                }

                struct hop hp = {.cfg = c, .allowed = &addrs};
                struct curl_slist *resolve = NULL;
                char errbuf[CURL_ERROR_SIZE] = "";
                qbuf_init(&hp.body, VALIDATE_MAX_BODY);
                hp.h = curl_easy_init();
                CURLcode rc = hp.h
                                  ? hop_setup(&hp, url, &u, &addrs, literal, left, errbuf, &resolve)
                                  : CURLE_FAILED_INIT;
                if (rc == CURLE_OK)
                        rc = curl_easy_perform(hp.h);
                long status = 0;
                char *next = NULL;
                bool more = hop_outcome(c, &hp, rc, errbuf, url, first_url, value, noun,
                                        c->timeout_ms, &status, &next, out);
                qbuf_free(&hp.body);
                curl_slist_free_all(resolve);
                curl_easy_cleanup(hp.h);
                if (!more)
                        break;

                /* a redirect: check it before following */
                struct url_parts nu;
                char from[URL_SHOW + 4];
                val_show_str(url, from, sizeof from);
                val_show_str(next, shown, sizeof shown);
                if (hopno + 1 > VALIDATE_MAX_REDIRECTS) {
                        val_set_unreachable(
                            out, c, false,
                            "%s redirects more than %d times (a redirect loop?); the "
                            "file must be reachable in at most %d redirects.",
                            val_show_str(first_url, from, sizeof from), VALIDATE_MAX_REDIRECTS,
                            VALIDATE_MAX_REDIRECTS);
                        free(next);
                        break;
                }
                if (!url_split(next, &nu)) {
                        val_set_unreachable(
                            out, c, true,
                            "%s answered HTTP %ld with a redirect to \"%s\", which is "
                            "not a valid URL.",
                            from, status, shown);
                        free(next);
                        break;
                }
                if (!redirect_allowed(c, &nu)) {
                        char what[48];
                        if (nu.port > 0)
                                snprintf(what, sizeof what, "%s on port %ld", nu.scheme, nu.port);
                        else
                                snprintf(what, sizeof what, "%s", nu.scheme);
                        val_set_unreachable(out, c, true,
                                            "%s redirects to %s (%s); validation follows redirects "
                                            "only to http on port %ld or https on port %ld.",
                                            from, shown, what, c->http_port, c->https_port);
                        free(next);
                        break;
                }
                free(url);
                url = next;
        }
        free(url);
}

void validate_file(const struct validate_cfg *c, const char *name, const char *token,
                   const char *value, struct validate_result *out)
{
        fetch_check(c, &kind_file, name, token, value, out);
}

void validate_http01(const struct validate_cfg *c, const char *name, const char *token,
                     const char *key_authz, struct validate_result *out)
{
        fetch_check(c, &kind_http01, name, token, key_authz, out);
}
