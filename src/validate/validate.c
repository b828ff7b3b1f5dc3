/*
 * validate.c - domain control validation (BR 3.2.2.4.7 DNS change and
 * 3.2.2.4.18 agreed-upon change to website v2): the random values, the TXT
 * check at _acme-challenge.<name> and the file check at
 * http://<name>/.well-known/pki-validation/<token>.txt.
 *
 * The file check never lets libcurl resolve a name: every host it fetches
 * from (the name, then each redirect target) is looked up through the
 * caller's resolver and handed to libcurl as CURLOPT_RESOLVE entries, and an
 * open-socket callback refuses any address that did not come from that
 * lookup. Redirects are followed by hand, one transfer per hop, so that each
 * target's scheme and port can be checked before we connect to it. The
 * whole fetch (all hops) shares one deadline of cfg->timeout_ms. Bodies are
 * kept only for 200 answers and only up to VALIDATE_MAX_BODY bytes.
 *
 * A name that is an IP literal (for IP address certificates) is fetched
 * from that address directly; no lookup is needed.
 *
 * Every outcome goes into a struct validate_result: the RULES.md §2 code,
 * whether retrying can help, and a sentence naming the name and what was
 * seen (untrusted bytes escaped and cut at 80 characters).
 *
 * Memory: results are plain values; everything allocated here (curl
 * handles, URL strings, bodies) is freed before returning. Threads: any
 * thread, one call at a time per resolver; each call has its own curl easy
 * handles. validate_global_init (curl_global_init) must run once at start,
 * before threads.
 */
#include "validate.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "../dns/dns.h"

#define SHOW_MAX 80      /* characters of a found value (TXT, body) shown in a sentence */
#define URL_SHOW 300     /* characters of a URL or name shown in a sentence */
#define MAX_ADDRS 16     /* addresses of one host handed to libcurl */
#define MAX_TXT 65536    /* one TXT rdata joined (rdata is at most 64 KiB) */
#define NAME_MAX_LEN 253 /* a DNS name without the trailing dot */
#define TOKEN_MAX_LEN 64

/* ---------------------------------------------------------------- sentences */

static void vset_result(struct validate_result *out, size_t room, enum qerr code, bool final,
                        const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void vset_result(struct validate_result *out, size_t room, enum qerr code, bool final,
                        const char *fmt, va_list ap)
{
        out->code = code;
        out->final = final;
        if (room > sizeof out->msg)
                room = sizeof out->msg;
        vsnprintf(out->msg, room, fmt, ap);
}

static void set_result(struct validate_result *out, enum qerr code, bool final, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));

static void set_result(struct validate_result *out, enum qerr code, bool final, const char *fmt,
                       ...)
{
        va_list ap;
        va_start(ap, fmt);
        vset_result(out, sizeof out->msg, code, final, fmt, ap);
        va_end(ap);
}

/* FILE_UNREACHABLE with the sentence followed by where validation requests
 * come from; the sentence is shortened if needed so that the addresses always
 * fit (RULES.md §2 requires them). */
static void set_unreachable(struct validate_result *out, const struct validate_cfg *c, bool final,
                            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set_unreachable(struct validate_result *out, const struct validate_cfg *c, bool final,
                            const char *fmt, ...)
{
        char sfx[QERR_MSG_MAX] = "";
        if (c->source_addresses && c->source_addresses[0])
                snprintf(sfx, sizeof sfx,
                         " Validation requests come from %s; allow them through your firewall.",
                         c->source_addresses);
        size_t sl = strlen(sfx);
        va_list ap;
        va_start(ap, fmt);
        vset_result(out, sizeof out->msg - (sl < sizeof out->msg / 2 ? sl : sizeof out->msg / 2),
                    QERR_FILE_UNREACHABLE, final, fmt, ap);
        va_end(ap);
        size_t ml = strlen(out->msg);
        snprintf(out->msg + ml, sizeof out->msg - ml, "%s", sfx);
}

/* Untrusted bytes for a sentence: printable ASCII as is (quote and backslash
 * escaped), everything else as \xNN, at most outsz - 4 characters, "..."
 * when cut. */
static const char *show_bytes(const uint8_t *p, size_t n, char *out, size_t outsz)
{
        size_t o = 0;
        size_t i;
        for (i = 0; i < n; i++) {
                char piece[5];
                uint8_t ch = p[i];
                if (ch == '"' || ch == '\\')
                        snprintf(piece, sizeof piece, "\\%c", ch);
                else if (ch >= 0x20 && ch < 0x7f)
                        snprintf(piece, sizeof piece, "%c", ch);
                else
                        snprintf(piece, sizeof piece, "\\x%02x", ch);
                size_t pl = strlen(piece);
                if (o + pl + 4 > outsz)
                        break;
                memcpy(out + o, piece, pl);
                o += pl;
        }
        if (i < n && o + 4 <= outsz) {
                memcpy(out + o, "...", 3);
                o += 3;
        }
        out[o] = '\0';
        return out;
}

static const char *show_str(const char *s, char *out, size_t outsz)
{
        return show_bytes((const uint8_t *)s, strlen(s), out, outsz);
}

/* ---------------------------------------------------------------- values */

enum qerr validate_global_init(struct qerr_info *ei)
{
        CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (rc != CURLE_OK)
                return qerr_set(ei, QERR_INTERNAL, "libcurl could not be initialised: %s.",
                                curl_easy_strerror(rc));
        return QERR_OK;
}

static void base64url(const uint8_t *in, size_t n, char *out)
{
        static const char abc[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        size_t o = 0;
        uint32_t acc = 0;
        int bits = 0;
        for (size_t i = 0; i < n; i++) {
                acc = (acc << 8) | in[i];
                bits += 8;
                while (bits >= 6) {
                        bits -= 6;
                        out[o++] = abc[(acc >> bits) & 63];
                }
        }
        if (bits > 0)
                out[o++] = abc[(acc << (6 - bits)) & 63];
        out[o] = '\0';
}

enum qerr validate_new_value(char *value, char *token, struct qerr_info *ei)
{
        uint8_t v[32], t[16];
        if (RAND_bytes(v, sizeof v) != 1 || RAND_bytes(t, sizeof t) != 1) {
                OPENSSL_cleanse(v, sizeof v);
                return qerr_set(ei, QERR_INTERNAL,
                                "The random number generator failed; no validation value made.");
        }
        base64url(v, sizeof v, value);
        base64url(t, sizeof t, token);
        OPENSSL_cleanse(v, sizeof v);
        OPENSSL_cleanse(t, sizeof t);
        return QERR_OK;
}

static bool is_trailing_space(uint8_t ch)
{
        return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static size_t trimmed_len(const uint8_t *body, size_t len)
{
        while (len > 0 && is_trailing_space(body[len - 1]))
                len--;
        return len;
}

/* Whole-value comparison in constant time for a given length. An empty
 * value never matches (it would mean a bug upstream). */
static bool value_equals(const uint8_t *got, size_t len, const char *value)
{
        size_t vl = strlen(value);
        if (vl == 0 || len != vl)
                return false;
        return CRYPTO_memcmp(got, value, vl) == 0;
}

bool validate_body_matches(const uint8_t *body, size_t len, const char *value)
{
        if (!value || (!body && len > 0))
                return false;
        return value_equals(body, trimmed_len(body, len), value);
}

/* ---------------------------------------------------------------- DNS method */

/* "*.x" -> "_acme-challenge.x"; false when the result would be too long. */
static bool challenge_name(const char *name, char *out, size_t outsz)
{
        const char *base = strncmp(name, "*.", 2) == 0 ? name + 2 : name;
        size_t bl = strlen(base);
        if (bl > 0 && base[bl - 1] == '.')
                bl--;
        int n = snprintf(out, outsz, "_acme-challenge.%.*s", (int)bl, base);
        return bl > 0 && n > 0 && (size_t)n < outsz && (size_t)n <= NAME_MAX_LEN;
}

void validate_dns(const struct validate_cfg *c, const char *name, const char *value,
                  struct validate_result *out)
{
        char rname[NAME_MAX_LEN + 2], shown[URL_SHOW + 4];
        memset(out, 0, sizeof *out);
        if (!challenge_name(name, rname, sizeof rname)) {
                set_result(out, QERR_NAME_INVALID, true,
                           "\"%s\" is not a name whose _acme-challenge record can be looked up.",
                           show_str(name, shown, sizeof shown));
                return;
        }

        struct dns_result res;
        struct qerr_info ei;
        memset(&res, 0, sizeof res);
        qerr_clear(&ei);
        if (dns_lookup(c->dns, rname, DNS_TYPE_TXT, &res, &ei) != QERR_OK) {
                set_result(out, QERR_NAME_INVALID, true, "The TXT record name %s is not valid: %s",
                           show_str(rname, shown, sizeof shown), qerr_message(&ei));
                dns_result_clear(&res);
                return;
        }

        char via[URL_SHOW + 32] = "";
        if (res.canonical[0] && strcasecmp(res.canonical, rname) != 0)
                snprintf(via, sizeof via, " (through a CNAME to %s)",
                         show_str(res.canonical, shown, sizeof shown));

        switch (res.status) {
        case DNS_OK:
                break;
        case DNS_NODATA:
        case DNS_NXDOMAIN:
                set_result(out, QERR_VALIDATION_TIMEOUT, false,
                           "No TXT record at %s%s yet (%s); publish the value shown for the "
                           "order there.",
                           rname, via,
                           res.status == DNS_NXDOMAIN ? "the name does not exist"
                                                      : "the name has no TXT record");
                dns_result_clear(&res);
                return;
        default: {
                char why[300];
                dns_result_describe(&res, why, sizeof why);
                set_result(out, QERR_DNS_ERROR, false, "The TXT lookup of %s%s failed: %s.", rname,
                           via, why);
                dns_result_clear(&res);
                return;
        }
        }
        if (res.nrrs == 0) {
                set_result(out, QERR_VALIDATION_TIMEOUT, false,
                           "No TXT record at %s%s yet; publish the value shown for the order "
                           "there.",
                           rname, via);
                dns_result_clear(&res);
                return;
        }

        struct qbuf txt;
        bool found = false;
        char first[SHOW_MAX + 4] = "";
        qbuf_init(&txt, MAX_TXT);
        for (size_t i = 0; i < res.nrrs; i++) {
                qbuf_reset(&txt);
                bool ok = dns_txt_join(res.rrs[i].data, res.rrs[i].len, &txt);
                if (ok && value_equals(txt.data, txt.len, value))
                        found = true; /* keep going: same time for every record */
                if (i == 0) {
                        if (ok)
                                show_bytes(txt.data, txt.len, first, sizeof first);
                        else
                                snprintf(first, sizeof first, "(a malformed record)");
                }
        }
        qbuf_free(&txt);

        if (found)
                set_result(out, QERR_OK, true, "The TXT record at %s%s holds the value.", rname,
                           via);
        else if (res.nrrs == 1)
                set_result(out, QERR_VALIDATION_MISMATCH, true,
                           "The TXT record at %s%s holds \"%s\", not the value shown for the "
                           "order; publish that value.",
                           rname, via, first);
        else
                set_result(out, QERR_VALIDATION_MISMATCH, true,
                           "None of the %zu TXT records at %s%s holds the value shown for the "
                           "order (the first holds \"%s\"); publish that value.",
                           res.nrrs, rname, via, first);
        dns_result_clear(&res);
}

/* ---------------------------------------------------------------- file method */

/* The addresses one host may be reached at. */
struct addrset {
        size_t n;
        int family[MAX_ADDRS];
        uint8_t addr[MAX_ADDRS][16];
};

static void addrset_add(struct addrset *s, int family, const uint8_t *a)
{
        if (s->n >= MAX_ADDRS)
                return;
        s->family[s->n] = family;
        memset(s->addr[s->n], 0, 16);
        memcpy(s->addr[s->n], a, family == AF_INET ? 4 : 16);
        s->n++;
}

/* An IP literal host ("192.0.2.1", "2001:db8::1" or "[2001:db8::1]") into
 * `s`; false when `host` is a name. */
static bool literal_addr(const char *host, struct addrset *s)
{
        char tmp[64];
        uint8_t a[16];
        size_t hl = strlen(host);
        if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
                if (hl - 2 >= sizeof tmp)
                        return false;
                memcpy(tmp, host + 1, hl - 2);
                tmp[hl - 2] = '\0';
                host = tmp;
        }
        s->n = 0;
        if (inet_pton(AF_INET, host, a) == 1)
                addrset_add(s, AF_INET, a);
        else if (inet_pton(AF_INET6, host, a) == 1)
                addrset_add(s, AF_INET6, a);
        return s->n > 0;
}

/* Looks up A and AAAA of `host` through the caller's resolver. On failure
 * fills `out` (`what`, already escaped, names what we were trying to fetch)
 * and returns false. */
static bool resolve_host(const struct validate_cfg *c, const char *host, const char *what,
                         struct addrset *s, struct validate_result *out)
{
        static const uint16_t types[2] = {DNS_TYPE_A, DNS_TYPE_AAAA};
        char why[300] = "";
        bool failed = false, nx = false;
        s->n = 0;
        for (int t = 0; t < 2; t++) {
                struct dns_result res;
                struct qerr_info ei;
                memset(&res, 0, sizeof res);
                qerr_clear(&ei);
                if (dns_lookup(c->dns, host, types[t], &res, &ei) != QERR_OK) {
                        char h[URL_SHOW + 4];
                        set_unreachable(out, c, true,
                                        "%s cannot be fetched: \"%s\" is not a valid host name.",
                                        what, show_str(host, h, sizeof h));
                        dns_result_clear(&res);
                        return false;
                }
                if (res.status == DNS_OK) {
                        size_t want = types[t] == DNS_TYPE_A ? 4 : 16;
                        for (size_t i = 0; i < res.nrrs; i++)
                                if (res.rrs[i].len == want)
                                        addrset_add(s, want == 4 ? AF_INET : AF_INET6,
                                                    res.rrs[i].data);
                } else if (res.status == DNS_NXDOMAIN) {
                        nx = true;
                } else if (res.status != DNS_NODATA && !failed) {
                        failed = true;
                        char d[256];
                        dns_result_describe(&res, d, sizeof d);
                        snprintf(why, sizeof why, "the %s lookup failed: %s",
                                 types[t] == DNS_TYPE_A ? "A" : "AAAA", d);
                }
                dns_result_clear(&res);
        }
        if (s->n > 0)
                return true;
        char hs[URL_SHOW + 4];
        host = show_str(host, hs, sizeof hs);
        if (failed)
                set_result(out, QERR_DNS_ERROR, false,
                           "The address of %s could not be looked up to fetch %s: %s.", host, what,
                           why);
        else
                set_unreachable(out, c, false,
                                "%s cannot be fetched: %s %s; publish an A or AAAA record for "
                                "it.",
                                what, host,
                                nx ? "does not exist in DNS" : "has no A or AAAA record");
        return false;
}

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
        const struct addrset *allowed;
        bool blocked; /* libcurl wanted an address we did not resolve */
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

static long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

/* The file URL of `name` and `token` (port shown only when it is not 80). */
static bool file_url(const struct validate_cfg *c, const char *name, bool v6, const char *token,
                     char *out, size_t outsz)
{
        char port[16] = "";
        if (c->http_port != 80)
                snprintf(port, sizeof port, ":%ld", c->http_port);
        int n = snprintf(out, outsz, "http://%s%s%s%s/.well-known/pki-validation/%s.txt",
                         v6 ? "[" : "", name, v6 ? "]" : "", port, token);
        return n > 0 && (size_t)n < outsz;
}

static bool name_chars_ok(const char *s, size_t max, bool token)
{
        size_t n = strlen(s);
        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)s[i];
                bool ok = isalnum(ch) || ch == '-' || ch == '_' || (!token && ch == '.');
                if (!ok)
                        return false;
        }
        return true;
}

/* What one transfer ended with, turned into a result (or a redirect). */
static bool hop_outcome(const struct validate_cfg *c, struct hop *hp, CURLcode rc,
                        const char *errbuf, const char *url, const char *first_url,
                        const char *value, long timeout_ms, long *status, char **next,
                        struct validate_result *out)
{
        char first[URL_SHOW + 4], cur[URL_SHOW + 4], body[SHOW_MAX + 4];
        char shown[2 * URL_SHOW + 32]; /* what the sentence is about */
        *next = NULL;
        show_str(first_url, first, sizeof first);
        if (strcmp(url, first_url) == 0)
                snprintf(shown, sizeof shown, "%s", first);
        else
                snprintf(shown, sizeof shown, "%s (redirected to %s)", first,
                         show_str(url, cur, sizeof cur));
        if (rc == CURLE_WRITE_ERROR && hp->too_big) {
                set_result(out, QERR_VALIDATION_MISMATCH, true,
                           "%s answered with more than %d bytes; the file must hold only the "
                           "value shown for the order.",
                           shown, VALIDATE_MAX_BODY);
                return false;
        }
        if (hp->blocked) {
                set_unreachable(out, c, false,
                                "%s could not be fetched: libcurl tried an address our resolver "
                                "did not return.",
                                shown);
                return false;
        }
        if (rc == CURLE_OPERATION_TIMEDOUT) {
                set_unreachable(out, c, false,
                                "%s did not answer within %ld ms; check that the web server is "
                                "up and reachable.",
                                shown, timeout_ms);
                return false;
        }
        if (rc == CURLE_COULDNT_CONNECT) {
                set_unreachable(out, c, false,
                                "%s could not be fetched: the connection failed (%s); check that "
                                "the web server is up and reachable.",
                                shown, errbuf[0] ? errbuf : curl_easy_strerror(rc));
                return false;
        }
        if (rc != CURLE_OK) {
                set_unreachable(out, c, false, "%s could not be fetched: %s.", shown,
                                errbuf[0] ? errbuf : curl_easy_strerror(rc));
                return false;
        }

        curl_easy_getinfo(hp->h, CURLINFO_RESPONSE_CODE, status);
        if (*status >= 300 && *status < 400) {
                char *loc = NULL;
                curl_easy_getinfo(hp->h, CURLINFO_REDIRECT_URL, &loc);
                if (loc && loc[0]) {
                        *next = strdup(loc);
                        if (!*next) {
                                set_result(out, QERR_NOMEM, false, "Out of memory.");
                                return false;
                        }
                        return true;
                }
                set_unreachable(out, c, false,
                                "%s answered HTTP %ld without a usable Location; it must answer "
                                "200 with the file.",
                                shown, *status);
                return false;
        }
        if (*status != 200) {
                set_unreachable(out, c, false,
                                "%s answered HTTP %ld; it must answer 200 with the file holding "
                                "the value shown for the order.",
                                shown, *status);
                return false;
        }

        if (validate_body_matches(hp->body.data, hp->body.len, value)) {
                set_result(out, QERR_OK, true, "%s holds the value.", shown);
        } else {
                size_t tl = trimmed_len(hp->body.data, hp->body.len);
                show_bytes(hp->body.data, tl, body, sizeof body);
                set_result(out, QERR_VALIDATION_MISMATCH, true,
                           "%s holds \"%s\", not the value shown for the order; put exactly "
                           "that value in the file.",
                           shown, body);
        }
        return false;
}

void validate_file(const struct validate_cfg *c, const char *name, const char *token,
                   const char *value, struct validate_result *out)
{
        char shown[URL_SHOW + 4];
        memset(out, 0, sizeof *out);
        if (strncmp(name, "*.", 2) == 0) {
                set_result(out, QERR_POLICY_DENIED, true,
                           "%s is a wildcard name: wildcard names can only be validated by the "
                           "DNS method (a TXT record at _acme-challenge.<name>).",
                           show_str(name, shown, sizeof shown));
                return;
        }
        struct addrset addrs;
        bool literal = literal_addr(name, &addrs);
        if (!literal && !name_chars_ok(name, NAME_MAX_LEN, false)) {
                set_result(out, QERR_NAME_INVALID, true,
                           "\"%s\" is not a host name a validation file can be fetched from.",
                           show_str(name, shown, sizeof shown));
                return;
        }
        if (!name_chars_ok(token, TOKEN_MAX_LEN, true)) {
                set_result(out, QERR_INTERNAL, true, "The validation token is malformed.");
                return;
        }

        char first_url[NAME_MAX_LEN + TOKEN_MAX_LEN + 64];
        if (!file_url(c, name, literal && strchr(name, ':'), token, first_url, sizeof first_url)) {
                set_result(out, QERR_NAME_INVALID, true, "The name %s is too long.",
                           show_str(name, shown, sizeof shown));
                return;
        }
        char *url = strdup(first_url);
        if (!url) {
                set_result(out, QERR_NOMEM, false, "Out of memory.");
                return;
        }
        char resolved_host[NAME_MAX_LEN + 3] = "";
        long deadline = now_ms() + c->timeout_ms;

        for (int hopno = 0;; hopno++) {
                struct url_parts u;
                if (!url_split(url, &u)) {
                        set_unreachable(out, c, true, "%s is not a URL that can be fetched.",
                                        show_str(url, shown, sizeof shown));
                        break;
                }
                if (strcmp(u.host, resolved_host) != 0) {
                        literal = literal_addr(u.host, &addrs);
                        char what[2 * URL_SHOW + 32], a[URL_SHOW + 4], b[URL_SHOW + 4];
                        show_str(first_url, a, sizeof a);
                        if (hopno == 0)
                                snprintf(what, sizeof what, "%s", a);
                        else
                                snprintf(what, sizeof what, "%s (redirected to %s)", a,
                                         show_str(url, b, sizeof b));
                        if (!literal && !resolve_host(c, u.host, what, &addrs, out))
                                break;
                        snprintf(resolved_host, sizeof resolved_host, "%s", u.host);
                }
                long left = deadline - now_ms();
                if (left <= 0) {
                        set_unreachable(out, c, false,
                                        "%s could not be fetched within %ld ms (after %d "
                                        "redirects).",
                                        show_str(first_url, shown, sizeof shown), c->timeout_ms,
                                        hopno);
                        break;
                }

                struct hop hp = {.allowed = &addrs};
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
                bool more = hop_outcome(c, &hp, rc, errbuf, url, first_url, value, c->timeout_ms,
                                        &status, &next, out);
                qbuf_free(&hp.body);
                curl_slist_free_all(resolve);
                curl_easy_cleanup(hp.h);
                if (!more)
                        break;

                /* a redirect: check it before following */
                struct url_parts nu;
                char from[URL_SHOW + 4];
                show_str(url, from, sizeof from);
                show_str(next, shown, sizeof shown);
                if (hopno + 1 > VALIDATE_MAX_REDIRECTS) {
                        set_unreachable(out, c, false,
                                        "%s redirects more than %d times (a redirect loop?); the "
                                        "file must be reachable in at most %d redirects.",
                                        show_str(first_url, from, sizeof from),
                                        VALIDATE_MAX_REDIRECTS, VALIDATE_MAX_REDIRECTS);
                        free(next);
                        break;
                }
                if (!url_split(next, &nu)) {
                        set_unreachable(out, c, true,
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
                        set_unreachable(out, c, true,
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
