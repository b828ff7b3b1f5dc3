/*
 * fuzz_http_route.c - libFuzzer target for the router's parsers of outside
 * input (src/http/route.c): the path pattern matcher with its captures, the
 * percent-decoder (paths and query strings) and the query-string lookup.
 *
 * The input is split at newlines: a pattern, a request path, a query
 * string, a parameter name. Fixed patterns are tried too, so that paths are
 * fuzzed against the shapes the real route tables use.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_match(const struct http_pattern *p, const char *path)
{
        size_t bufsz = strlen(path) + HTTP_MAX_PARAMS + 1;
        char *buf = malloc(bufsz);
        if (!buf)
                return;
        const char *params[HTTP_MAX_PARAMS];
        size_t np = 0;
        if (http_pattern_match(p, path, buf, bufsz, params, &np)) {
                if (np > HTTP_MAX_PARAMS)
                        abort();
                for (size_t i = 0; i < np; i++)
                        if (params[i] < buf || params[i] + strlen(params[i]) >= buf + bufsz)
                                abort(); /* every capture inside the buffer */
        }
        free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        char *part[4] = {text, (char *)"", (char *)"", (char *)""};
        for (int i = 1; i < 4; i++) {
                char *nl = strchr(part[i - 1], '\n');
                if (!nl)
                        break;
                *nl = 0;
                part[i] = nl + 1;
        }
        struct http_pattern p;
        if (http_pattern_compile(part[0], &p))
                try_match(&p, part[1]);
        static const char *const fixed[] = {"/healthz", "/ca/{file}", "/crl/{ca}/{file}", "/ocsp/*",
                                            "/api/v1/certificates/{id}/revoke"};
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
                if (http_pattern_compile(fixed[i], &p))
                        try_match(&p, part[1]);

        char out[256];
        long n = http_pct_decode(part[1], strlen(part[1]), out, sizeof out, false);
        if (n >= 0 && ((size_t)n >= sizeof out || strlen(out) != (size_t)n))
                abort(); /* decoded text never holds a NUL */
        http_pct_decode(part[2], strlen(part[2]), out, sizeof out, true);

        char value[64];
        enum http_query_result r = http_query_find(part[2], part[3], value, sizeof value);
        if (r == HTTP_QUERY_FOUND && strlen(value) >= sizeof value)
                abort();
        free(text);
        return 0;
}
