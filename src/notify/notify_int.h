/*
 * notify_int.h - what the files of src/notify share: the addresses a host
 * may be reached at (checked, then pinned). Not for other modules. Any
 * thread, one call at a time per resolver.
 */
#ifndef QUILL_NOTIFY_INT_H
#define QUILL_NOTIFY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "notify.h"

#define NOTIFY_MAX_ADDRS 16

struct notify_addrs {
        size_t n;
        struct netaddr a[NOTIFY_MAX_ADDRS];
};

/* May a delivery connect to `a`? When not, `why` gets the address and its
 * block ("10.0.0.5 (private-use, 10.0.0.0/8, RFC 1918)"). */
bool notify_addr_allowed(const struct notify_net *n, const struct netaddr *a, char *why,
                         size_t whysz);

/* The addresses of u's host that a delivery may use: the literal, or the A
 * and AAAA records from n->dns (a localhost name: loopback), the refused
 * ones dropped. false when none is left, with the sentence in `why`;
 * *refused tells a refusal (an address that is not allowed) from a lookup
 * that found nothing. */
bool notify_addrs_for(const struct notify_net *n, const struct notify_url *u,
                      struct notify_addrs *out, bool *refused, char *why, size_t whysz);

/* "localhost" and names under ".localhost" (RFC 6761: always loopback). */
bool notify_localhost_name(const char *host);

#endif
