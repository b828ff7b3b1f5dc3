/*
 * cmd_routes.c - `quill routes` (not listed in help): the route tables
 * `quill serve` serves, as one JSON object
 * {"routes":[{"listener":"http"|"https","method":"GET","pattern":"/..."}]}.
 * The contract tests compare it with docs/openapi.yaml, so the list comes
 * from the very tables the listeners are given. Main thread only.
 */
#include <stdio.h>

#include "../api/api.h"
#include "../api/publish.h"
#include "cli.h"

static void add(json_t *a, const char *listener, const struct http_route *r, size_t n)
{
        for (size_t i = 0; i < n; i++)
                json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "listener", listener, "method",
                                                   r[i].method, "pattern", r[i].pattern));
}

int cmd_routes(struct cli_ctx *ctx, int argc, char **argv)
{
        (void)argv;
        if (argc != 1)
                return cli_usage(ctx, "usage: quill routes");
        json_t *a = json_array();
        size_t n = 0;
        const struct http_route *r = publish_routes(&n);
        add(a, "http", r, n);
        r = publish_health_routes(&n);
        add(a, "https", r, n);
        r = api_routes(&n);
        add(a, "https", r, n);
        if (ctx->json)
                return cli_print_json(json_pack("{s:o}", "routes", a));
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v)
        {
                printf("%-6s %-7s %s\n", json_string_value(json_object_get(v, "listener")),
                       json_string_value(json_object_get(v, "method")),
                       json_string_value(json_object_get(v, "pattern")));
        }
        json_decref(a);
        return 0;
}
