/*
 * unit_netns.h - for unit tests that name special-purpose addresses which
 * are not loopback (test_validate.c): the private network namespace of
 * scripts/netns-run.sh (only lo, holding those addresses, no route; make
 * unit runs every unit binary in one), and a check, sending nothing, that
 * the process is inside it. Outside it, such a test must not run: a broken
 * address check would send packets off this machine
 * (docs/internals/testing.md, "Network isolation").
 *
 * Memory: nothing is kept. Threads: any.
 */
#ifndef QUILL_TEST_UNIT_NETNS_H
#define QUILL_TEST_UNIT_NETNS_H

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The addresses test_validate.c uses that are neither loopback nor
 * unspecified: they exist only on lo of the namespace (ADDRESSES in
 * scripts/netns-run.sh; keep the two in step). */
static const char *const ns_addresses[] = {"10.0.0.1",        "10.0.0.5", "100.64.0.1",
                                           "169.254.169.254", "fd00::1",  "fe80::1"};
/* Not set up in the namespace: nothing can reach it. */
#define NS_UNBOUND "10.0.0.99"
#define NS_UNBOUND6 "2001:db8::99"

/* ip:port as a socket address (fe80::/10 scoped to lo); false if ip is not
 * an address. */
static bool sockaddr_of(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *len)
{
        memset(ss, 0, sizeof *ss);
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
                a4->sin_family = AF_INET;
                a4->sin_port = htons((uint16_t)port);
                *len = sizeof *a4;
                return true;
        }
        if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
                a6->sin6_family = AF_INET6;
                a6->sin6_port = htons((uint16_t)port);
                if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr))
                        a6->sin6_scope_id = if_nametoindex("lo");
                *len = sizeof *a6;
                return true;
        }
        return false;
}

/* A socket of type `type` connect()ed to ip:port: 0, or the errno. */
static int connect_to(const char *ip, int port, int type)
{
        struct sockaddr_storage ss;
        socklen_t len;
        if (!sockaddr_of(ip, port, &ss, &len))
                return EINVAL;
        int fd = socket(ss.ss_family, type, 0);
        if (fd < 0)
                return errno;
        int rc = connect(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : errno;
        close(fd);
        return rc;
}

/* Whether this process is inside the namespace, without sending anything:
 * lo is the only device, an address not set up has no route (a UDP
 * connect() only looks the route up), and every address of ns_addresses
 * can be bound. Otherwise says what is wrong in `why`. */
static bool netns_isolated(char *why, size_t n)
{
        struct if_nameindex *ifs = if_nameindex();
        if (!ifs) {
                snprintf(why, n, "if_nameindex: %s", strerror(errno));
                return false;
        }
        bool only_lo = true;
        for (struct if_nameindex *i = ifs; i->if_index != 0; i++)
                if (strcmp(i->if_name, "lo") != 0) {
                        snprintf(why, n, "it has the network device %s", i->if_name);
                        only_lo = false;
                        break;
                }
        if_freenameindex(ifs);
        if (!only_lo)
                return false;
        int rc = connect_to(NS_UNBOUND, 9, SOCK_DGRAM);
        if (rc != ENETUNREACH) {
                snprintf(why, n, "%s is not unreachable (%s)", NS_UNBOUND,
                         rc ? strerror(rc) : "it has a route");
                return false;
        }
        for (size_t i = 0; i < sizeof ns_addresses / sizeof ns_addresses[0]; i++) {
                struct sockaddr_storage ss;
                socklen_t len;
                if (!sockaddr_of(ns_addresses[i], 0, &ss, &len))
                        return false;
                int fd = socket(ss.ss_family, SOCK_STREAM, 0);
                rc = fd >= 0 && bind(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : errno;
                if (fd >= 0)
                        close(fd);
                if (rc != 0) {
                        snprintf(why, n, "%s is not on lo (%s)", ns_addresses[i], strerror(rc));
                        return false;
                }
        }
        return true;
}

#endif
