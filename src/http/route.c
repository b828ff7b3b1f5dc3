/*
 * route.c - path patterns, percent-decoding and query strings; see route.h.
 */
#include "route.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

bool http_pattern_compile(const char *pattern, struct http_pattern *p)
{
        memset(p, 0, sizeof *p);
        if (!pattern || pattern[0] != '/')
                return false;
        const char *pos = pattern + 1;
        for (;;) {
                const char *end = strchr(pos, '/');
                size_t len = end ? (size_t)(end - pos) : strlen(pos);
                if (p->nsegs == HTTP_PATTERN_MAX_SEGS)
                        return false;
                enum http_seg_kind kind = HTTP_SEG_LITERAL;
                if (len == 1 && pos[0] == '*') {
                        if (end)
                                return false; /* '*' only as the last segment */
                        kind = HTTP_SEG_REST;
                } else if (len >= 1 && pos[0] == '{') {
                        if (len < 3 || pos[len - 1] != '}' || memchr(pos + 1, '{', len - 2) ||
                            memchr(pos + 1, '}', len - 2))
                                return false;
                        kind = HTTP_SEG_PARAM;
                } else if (memchr(pos, '{', len) || memchr(pos, '}', len) ||
                           memchr(pos, '*', len)) {
                        return false;
                }
                if (kind != HTTP_SEG_LITERAL && ++p->nparams > HTTP_MAX_PARAMS)
                        return false;
                p->segs[p->nsegs].kind = kind;
                p->segs[p->nsegs].text = pos;
                p->segs[p->nsegs].len = len;
                p->nsegs++;
                if (!end)
                        return true;
                pos = end + 1;
        }
}

static int hex_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

long http_pct_decode(const char *in, size_t len, char *out, size_t outsz, bool plus_space)
{
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                char c = in[i];
                if (c == '%') {
                        if (len - i < 3)
                                return -1;
                        int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
                        if (hi < 0 || lo < 0)
                                return -1;
                        c = (char)(hi * 16 + lo);
                        if (c == 0)
                                return -1;
                        i += 2;
                } else if (c == 0) {
                        return -1;
                } else if (plus_space && c == '+') {
                        c = ' ';
                }
                if (o + 1 >= outsz)
                        return -2;
                out[o++] = c;
        }
        if (o >= outsz)
                return -2;
        out[o] = 0;
        return (long)o;
}

bool http_pattern_match(const struct http_pattern *p, const char *path, char *buf, size_t bufsz,
                        const char **params, size_t *nparams)
{
        *nparams = 0;
        if (!path || path[0] != '/' || p->nsegs == 0)
                return false;
        const char *pos = path + 1;
        size_t used = 0;
        for (size_t i = 0; i < p->nsegs; i++) {
                const bool last = i + 1 == p->nsegs;
                size_t len;
                const char *end;
                if (p->segs[i].kind == HTTP_SEG_REST) {
                        len = strlen(pos);
                        end = pos + len;
                } else {
                        end = strchr(pos, '/');
                        if (!end)
                                end = pos + strlen(pos);
                        len = (size_t)(end - pos);
                }
                if (p->segs[i].kind == HTTP_SEG_LITERAL) {
                        if (len != p->segs[i].len || memcmp(pos, p->segs[i].text, len) != 0)
                                return false;
                } else {
                        if (p->segs[i].kind == HTTP_SEG_PARAM && len == 0)
                                return false;
                        if (used >= bufsz)
                                return false;
                        long n = http_pct_decode(pos, len, buf + used, bufsz - used, false);
                        if (n < 0)
                                return false;
                        params[(*nparams)++] = buf + used;
                        used += (size_t)n + 1;
                }
                if (last)
                        return *end == 0;
                if (*end != '/')
                        return false;
                pos = end + 1;
        }
        return false;
}

enum http_query_result http_query_find(const char *query, const char *name, char *buf, size_t bufsz)
{
        if (!query || !name)
                return HTTP_QUERY_ABSENT;
        const size_t name_len = strlen(name);
        char key[256];
        const char *pos = query;
        while (*pos) {
                const char *amp = strchr(pos, '&');
                const char *pair_end = amp ? amp : pos + strlen(pos);
                const char *eq = memchr(pos, '=', (size_t)(pair_end - pos));
                const char *key_end = eq ? eq : pair_end;
                long kl = http_pct_decode(pos, (size_t)(key_end - pos), key, sizeof key, true);
                if (kl >= 0 && (size_t)kl == name_len && memcmp(key, name, name_len) == 0) {
                        const char *v = eq ? eq + 1 : pair_end;
                        long vl = http_pct_decode(v, (size_t)(pair_end - v), buf, bufsz, true);
                        if (vl == -2)
                                return HTTP_QUERY_TOO_LONG;
                        return vl < 0 ? HTTP_QUERY_ABSENT : HTTP_QUERY_FOUND;
                }
                if (!amp)
                        break;
                pos = amp + 1;
        }
        return HTTP_QUERY_ABSENT;
}

bool http_addr_is_loopback(const struct sockaddr *sa)
{
        if (!sa)
                return false;
        if (sa->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
                return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        }
        if (sa->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
                if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
                        return true;
                return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
        }
        return false;
}
