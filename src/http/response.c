/*
 * response.c - what handlers call: request headers and query parameters,
 * response headers, and the JSON error bodies; see http.h.
 *
 * Threads: each function touches only its arguments (and, for
 * http_header, the MHD connection of the request, on its own thread).
 */
#include "http_int.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *http_header(const struct http_request *r, const char *name)
{
        const struct req_state *st = r ? r->impl : NULL;
        if (!st || !name)
                return NULL;
        return MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_request *r, const char *name, char *buf, size_t bufsz,
                       bool *too_long)
{
        if (too_long)
                *too_long = false;
        if (!r || !buf || bufsz == 0)
                return NULL;
        switch (http_query_find(r->query, name, buf, bufsz)) {
        case HTTP_QUERY_FOUND:
                return buf;
        case HTTP_QUERY_TOO_LONG:
                if (too_long)
                        *too_long = true;
                return NULL;
        default:
                return NULL;
        }
}

/* A token of RFC 9110 (header names). */
static bool header_name_ok(const char *n)
{
        if (!n || !*n)
                return false;
        for (const unsigned char *p = (const unsigned char *)n; *p; p++) {
                if (*p <= 0x20 || *p >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", *p))
                        return false;
        }
        return true;
}

bool http_set_header(struct http_response *r, const char *name, const char *fmt, ...)
{
        if (!r || !header_name_ok(name) || !fmt)
                return false;
        char value[4096];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(value, sizeof value, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof value)
                return false;
        for (const char *p = value; *p; p++)
                if (*p == '\r' || *p == '\n')
                        return false;
        /* vsnprintf stops at an embedded NUL of a %s argument: the value is
         * whatever came before it, which cannot split a header line */
        return qbuf_printf(&r->headers, "%s: %s\n", name, value);
}

bool http_set_header_str(struct http_response *r, const char *name, const char *value)
{
        if (!r || !header_name_ok(name) || !value)
                return false;
        size_t n = strlen(value);
        if (n >= 4096 || strpbrk(value, "\r\n"))
                return false;
        size_t start = r->headers.len;
        bool ok = qbuf_append_str(&r->headers, name) && qbuf_append(&r->headers, ": ", 2) &&
                  qbuf_append(&r->headers, value, n) && qbuf_append(&r->headers, "\n", 1);
        if (!ok)
                r->headers.len = start;
        return ok;
}

/* Copies `in` with every byte that is not printable ASCII replaced by '?',
 * so that jansson accepts it whatever the handler put into a message. */
static void ascii_copy(const char *in, char *out, size_t outsz)
{
        size_t o = 0;
        for (const unsigned char *p = (const unsigned char *)in; *p && o + 1 < outsz; p++)
                out[o++] = (*p >= 0x20 && *p < 0x7f) ? (char)*p : '?';
        out[o] = 0;
}

void http_error_body(struct http_response *resp, int status, const char *code, const char *msg)
{
        resp->status = status;
        resp->content_type = "application/json";
        if (resp->release)
                resp->release(resp->release_arg);
        resp->static_body = NULL;
        resp->static_len = 0;
        resp->release = NULL;
        qbuf_reset(&resp->body);
        json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code ? code : "internal", "message",
                              msg ? msg : "");
        if (!o) { /* not UTF-8: send the message with its odd bytes masked */
                char clean[QERR_MSG_MAX];
                ascii_copy(msg ? msg : "", clean, sizeof clean);
                o = json_pack("{s:{s:s,s:s}}", "error", "code", code ? code : "internal", "message",
                              clean);
        }
        char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        json_decref(o);
        if (!text || !qbuf_append_str(&resp->body, text)) {
                qbuf_reset(&resp->body);
                resp->status = 500;
                qbuf_append_str(&resp->body, "{\"error\":{\"code\":\"out_of_memory\",\"message\":"
                                             "\"Out of memory.\"}}");
        }
        free(text);
}

void http_problem_body(struct http_response *resp, int status, const char *type, const char *code,
                       const char *msg)
{
        http_error_body(resp, status, code, msg); /* the fallback when packing fails */
        char clean[QERR_MSG_MAX];
        ascii_copy(msg ? msg : "", clean, sizeof clean);
        json_t *o = json_pack("{s:s,s:s,s:i,s:s}", "type", type, "detail", clean, "status", status,
                              "code", code ? code : "internal");
        char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        json_decref(o);
        if (text) {
                qbuf_reset(&resp->body);
                if (qbuf_append_str(&resp->body, text))
                        resp->content_type = "application/problem+json";
                else
                        http_error_body(resp, status, code, msg);
        }
        free(text);
}

void http_error(struct http_response *resp, const struct qerr_info *ei)
{
        http_error_body(resp, qerr_http_status(ei->code), qerr_code(ei->code), qerr_message(ei));
}

void http_error_status(struct http_response *resp, int status, const char *code, const char *msg)
{
        http_error_body(resp, status, code, msg);
}
