/*
 * http.h - the HTTP server (libmicrohttpd) and its router.
 *
 * http_server_start() listens on "HOST:PORT" and answers every request by
 * calling the matching route handler (exact method + path prefix). Handlers
 * run on the server's one internal polling thread, one request at a time, so
 * a handler may use a service handle owned by that thread without locking.
 * The server struct is owned by the caller (http_server_stop frees it).
 */
#ifndef QUILL_HTTP_H
#define QUILL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/err.h"

struct http_request {
        const char *method;
        const char *path; /* without query string */
};

struct http_response {
        int status;
        const char *content_type; /* static string */
        struct qbuf body;         /* initialised by the server with a 4 MiB max */
};

typedef void (*http_handler)(void *user, const struct http_request *req,
                             struct http_response *resp);

struct http_route {
        const char *method;
        const char *prefix; /* "/ca/" matches "/ca/1.pem"; "/healthz" matches exactly when
                               exact != 0 */
        int exact;
        http_handler fn;
};

struct http_server;

enum qerr http_server_start(const char *listen, const struct http_route *routes, size_t nroutes,
                            void *user, struct http_server **out, struct qerr_info *ei);
void http_server_stop(struct http_server *s);
/* Writes an error body {"error":{"code","message"}} with the status from the
 * error table. */
void http_error(struct http_response *resp, const struct qerr_info *ei);

#endif
