/*
 * api.c - STUB: an empty REST API route table until the real one lands;
 * see api.h.
 */
#include "api.h"

const struct http_route *api_routes(size_t *n)
{
        *n = 0;
        return NULL;
}
