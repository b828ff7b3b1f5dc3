/*
 * http_test_client.h - a raw HTTP/1.1 client over real loopback sockets for
 * the server's unit tests (test_http.c, test_http_daemon.c): no client
 * library, so every byte on the wire is what the test wrote. Static helpers
 * only; included by one test file each.
 */
#ifndef QUILL_HTTP_TEST_CLIENT_H
#define QUILL_HTTP_TEST_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct reply {
        char *raw; /* whole response, NUL-terminated */
        size_t len;
        int status;
        const char *body; /* inside raw */
        size_t body_len;
};

static __attribute__((unused)) void reply_free(struct reply *r)
{
        free(r->raw);
        memset(r, 0, sizeof *r);
}

/* A connected socket to 127.0.0.1:p with 10 s timeouts (or `timeout_s`). */
static __attribute__((unused)) int connect_to(int p, int timeout_s)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        struct timeval tv = {.tv_sec = timeout_s, .tv_usec = 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        return fd;
}

static __attribute__((unused)) void send_all(int fd, const char *req, size_t len)
{
        size_t off = 0;
        while (off < len) {
                ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
                if (n <= 0)
                        break; /* the server may answer and close early */
                off += (size_t)n;
        }
}

/* Parses status and body of r->raw; -1 when it is not an HTTP answer. */
static __attribute__((unused)) int parse_reply(struct reply *r)
{
        if (sscanf(r->raw, "HTTP/1.%*1d %3d", &r->status) != 1)
                return -1;
        char *sep = strstr(r->raw, "\r\n\r\n");
        if (!sep)
                return -1;
        r->body = sep + 4;
        r->body_len = r->len - (size_t)(r->body - r->raw);
        return 0;
}

/* Reads until the server closes (or the timeout). */
static __attribute__((unused)) void read_all(int fd, struct reply *r)
{
        size_t cap = 4096;
        r->raw = malloc(cap);
        assert_non_null(r->raw);
        for (;;) {
                if (r->len + 1024 > cap) {
                        cap *= 2;
                        r->raw = realloc(r->raw, cap);
                        assert_non_null(r->raw);
                }
                ssize_t n = recv(fd, r->raw + r->len, cap - r->len - 1, 0);
                if (n <= 0)
                        break;
                r->len += (size_t)n;
        }
        r->raw[r->len] = 0;
}

/* Sends `req` and reads until the server closes. 0, or -1 when the server
 * closed without a parsable answer. */
static __attribute__((unused)) int exchange_on(int p, const char *req, size_t len, struct reply *r)
{
        memset(r, 0, sizeof *r);
        int fd = connect_to(p, 10);
        send_all(fd, req, len);
        read_all(fd, r);
        close(fd);
        return parse_reply(r);
}

/* Reads exactly one answer with a Content-Length body from a kept-alive
 * connection. 0 or -1. */
static __attribute__((unused)) int read_one(int fd, struct reply *r)
{
        memset(r, 0, sizeof *r);
        size_t cap = 65536;
        r->raw = calloc(1, cap);
        assert_non_null(r->raw);
        size_t want = 0;
        for (;;) {
                ssize_t n = recv(fd, r->raw + r->len, 1, 0); /* byte by byte: never past it */
                if (n <= 0)
                        return -1;
                r->len++;
                if (r->len + 1 >= cap)
                        return -1;
                char *sep = strstr(r->raw, "\r\n\r\n");
                if (sep && !want) {
                        const char *cl = strcasestr(r->raw, "\r\nContent-Length:");
                        if (!cl || cl > sep)
                                return -1;
                        want = (size_t)(sep + 4 - r->raw) + strtoul(cl + 17, NULL, 10);
                }
                if (want && r->len == want)
                        break;
        }
        r->raw[r->len] = 0;
        return parse_reply(r);
}

static __attribute__((unused)) void request_on(int p, const char *method, const char *path,
                                               struct reply *r)
{
        char buf[8192];
        int n = snprintf(buf, sizeof buf,
                         "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", method, path);
        assert_true(n > 0 && (size_t)n < sizeof buf);
        assert_int_equal(exchange_on(p, buf, (size_t)n, r), 0);
}

/* The value of header `name` (case-insensitive) in the head of `r`, copied
 * into out; 0 when absent. */
static __attribute__((unused)) int header(const struct reply *r, const char *name, char *out,
                                          size_t outsz)
{
        size_t nl = strlen(name);
        const char *end = r->body ? r->body : r->raw + r->len;
        for (const char *p = strstr(r->raw, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n")) {
                const char *line = p + 2;
                if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
                        const char *v = line + nl + 1;
                        while (*v == ' ')
                                v++;
                        const char *e = strstr(v, "\r\n");
                        size_t vl = (size_t)(e - v);
                        if (vl >= outsz)
                                vl = outsz - 1;
                        memcpy(out, v, vl);
                        out[vl] = 0;
                        return 1;
                }
        }
        return 0;
}

#endif
