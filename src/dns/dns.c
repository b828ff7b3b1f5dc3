/*
 * dns.c - the resolver of src/dns on libunbound (see dns.h for the contract).
 *
 * One `struct dns_resolver` holds one libunbound context, set up once:
 *  - forwarding: ub_ctx_set_fwd to [dns] resolver ("HOST:PORT", "[v6]:PORT"
 *    or a bare address for port 53), with do-not-query-localhost off so a
 *    loopback forwarder works, and libunbound's built-in local zones
 *    (localhost, test, invalid, onion, home.arpa, the RFC 1918 and other
 *    private reverse zones) switched off, so those names are asked of the
 *    forwarder too (RULES.md §3, forwarder paragraph). The special-use zones
 *    are also made domain-insecure when forwarding: the signed root proves
 *    they do not exist, so a root trust anchor would otherwise call every
 *    answer for them bogus. A trust anchor configured at or below one of
 *    them still validates (the closest anchor wins).
 *  - without a forwarder: full recursion from the root hints.
 *  - DNSSEC: the anchors of [dns] trust_anchor_file; the context is
 *    finalised at creation so a bad file is a QERR_CONFIG then, not a
 *    failure at the first lookup.
 *  - threads, not a forked process, for asynchronous queries
 *    (ub_ctx_async 1): quill's server must not fork behind sqlite's back.
 * Each lookup is ub_resolve_async + poll(ub_fd) until the deadline, then
 * ub_cancel; retried after a timeout or SERVFAIL.
 *
 * Memory: the resolver owns its libunbound context and a /dev/null stream
 * that takes libunbound's log lines (they would otherwise go to stderr of
 * a CLI that promised one JSON object); results own their rdata copies.
 * Threads: one thread at a time per resolver (libunbound's own worker
 * thread is internal to the context).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unbound.h>

#include "dns.h"

struct dns_resolver {
        struct ub_ctx *ctx;
        FILE *log;
        long timeout_ms;
        long retries;
        char forwarder[80]; /* "HOST:PORT" as configured, "" when recursing */
};

/* Zones libunbound answers locally by default (localzone.c of unbound
 * 1.17, plus later additions so a newer library behaves the same). */
static const char *const default_zones[] = {
    "localhost.",
    "127.in-addr.arpa.",
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
    "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
    "home.arpa.",
    "resolver.arpa.",
    "service.arpa.",
    "onion.",
    "test.",
    "invalid.",
    "10.in-addr.arpa.",
    "16.172.in-addr.arpa.",
    "17.172.in-addr.arpa.",
    "18.172.in-addr.arpa.",
    "19.172.in-addr.arpa.",
    "20.172.in-addr.arpa.",
    "21.172.in-addr.arpa.",
    "22.172.in-addr.arpa.",
    "23.172.in-addr.arpa.",
    "24.172.in-addr.arpa.",
    "25.172.in-addr.arpa.",
    "26.172.in-addr.arpa.",
    "27.172.in-addr.arpa.",
    "28.172.in-addr.arpa.",
    "29.172.in-addr.arpa.",
    "30.172.in-addr.arpa.",
    "31.172.in-addr.arpa.",
    "168.192.in-addr.arpa.",
    "0.in-addr.arpa.",
    "254.169.in-addr.arpa.",
    "2.0.192.in-addr.arpa.",
    "100.51.198.in-addr.arpa.",
    "113.0.203.in-addr.arpa.",
    "255.255.255.255.in-addr.arpa.",
    "d.f.ip6.arpa.",
    "8.e.f.ip6.arpa.",
    "9.e.f.ip6.arpa.",
    "a.e.f.ip6.arpa.",
    "b.e.f.ip6.arpa.",
    "8.b.d.0.1.0.0.2.ip6.arpa.",
};

/* Special-use names that the signed root says do not exist: insecure when a
 * forwarder serves them (see the header comment). */
static const char *const insecure_zones[] = {
    "test.", "internal.", "localhost.", "invalid.", "home.arpa.", "lan.", "local.",
};

/* ---- setup ---- */

static enum qerr ub_fail(struct qerr_info *ei, const char *what, int err)
{
        return qerr_set(ei, QERR_CONFIG, "DNS resolver: %s: %s", what, ub_strerror(err));
}

/* "HOST:PORT", "[V6]:PORT", "V4", "V6" -> "ADDR@PORT" for ub_ctx_set_fwd. */
static enum qerr parse_forwarder(const char *s, char *out, size_t outsz, struct qerr_info *ei)
{
        char host[64];
        const char *port = NULL;
        size_t hl;
        if (s[0] == '[') {
                const char *end = strchr(s, ']');
                if (!end)
                        goto bad;
                hl = (size_t)(end - s - 1);
                if (hl == 0 || hl >= sizeof host)
                        goto bad;
                memcpy(host, s + 1, hl);
                host[hl] = '\0';
                if (end[1] == ':')
                        port = end + 2;
                else if (end[1] != '\0')
                        goto bad;
        } else {
                const char *c = strchr(s, ':');
                if (c && strchr(c + 1, ':'))
                        c = NULL; /* a bare IPv6 address */
                hl = c ? (size_t)(c - s) : strlen(s);
                if (hl == 0 || hl >= sizeof host)
                        goto bad;
                memcpy(host, s, hl);
                host[hl] = '\0';
                if (c)
                        port = c + 1;
        }
        unsigned char addr[16];
        if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1)
                return qerr_set(ei, QERR_CONFIG,
                                "[dns] resolver '%s': the host must be an IP address "
                                "(HOST:PORT, [IPv6]:PORT)",
                                s);
        long p = 53;
        if (port) {
                char *end = NULL;
                errno = 0;
                p = strtol(port, &end, 10);
                if (errno || !end || *end || port[0] < '0' || port[0] > '9' || p < 1 || p > 65535)
                        goto bad;
        }
        int n = snprintf(out, outsz, "%s@%ld", host, p);
        if (n < 0 || (size_t)n >= outsz)
                goto bad;
        return QERR_OK;
bad:
        return qerr_set(ei, QERR_CONFIG,
                        "[dns] resolver '%s' is not HOST:PORT (IPv4 1.2.3.4:53, IPv6 [::1]:53)", s);
}

static enum qerr set_option(struct ub_ctx *ctx, const char *opt, const char *val,
                            struct qerr_info *ei)
{
        int err = ub_ctx_set_option(ctx, opt, val);
        if (err != 0) {
                char what[160];
                snprintf(what, sizeof what, "option %s %s", opt, val);
                return ub_fail(ei, what, err);
        }
        return QERR_OK;
}

static enum qerr setup_forwarding(struct dns_resolver *r, const char *fwd, struct qerr_info *ei)
{
        char at[80];
        enum qerr rc = parse_forwarder(fwd, at, sizeof at, ei);
        if (rc != QERR_OK)
                return rc;
        int err = ub_ctx_set_fwd(r->ctx, at);
        if (err != 0)
                return ub_fail(ei, "forwarder", err);
        snprintf(r->forwarder, sizeof r->forwarder, "%s", fwd);
        if ((rc = set_option(r->ctx, "do-not-query-localhost:", "no", ei)) != QERR_OK)
                return rc;
        if ((rc = set_option(r->ctx, "unblock-lan-zones:", "yes", ei)) != QERR_OK)
                return rc;
        if ((rc = set_option(r->ctx, "insecure-lan-zones:", "yes", ei)) != QERR_OK)
                return rc;
        for (size_t i = 0; i < sizeof insecure_zones / sizeof insecure_zones[0]; i++)
                if ((rc = set_option(r->ctx, "domain-insecure:", insecure_zones[i], ei)) != QERR_OK)
                        return rc;
        return QERR_OK;
}

/* After the context is final: drops libunbound's built-in local zones so
 * the forwarder is asked. (Not "local-zone: X nodefault" through
 * ub_ctx_set_option: libunbound 1.17 stores the whole "X nodefault" string
 * as the zone name there, so the option never matches.) */
static enum qerr drop_default_zones(struct dns_resolver *r, struct qerr_info *ei)
{
        for (size_t i = 0; i < sizeof default_zones / sizeof default_zones[0]; i++) {
                int err = ub_ctx_zone_remove(r->ctx, default_zones[i]);
                if (err != 0)
                        return ub_fail(ei, default_zones[i], err);
        }
        return QERR_OK;
}

/* Reads the trust anchor file ourselves first, for a clear sentence (the
 * library only says "initialization failed"). */
static enum qerr setup_anchors(struct dns_resolver *r, const char *file, struct qerr_info *ei)
{
        FILE *f = fopen(file, "r");
        if (!f)
                return qerr_set(ei, QERR_CONFIG, "[dns] trust_anchor_file '%s': %s", file,
                                strerror(errno));
        fclose(f);
        int err = ub_ctx_add_ta_file(r->ctx, file);
        if (err != 0)
                return ub_fail(ei, "trust anchor file", err);
        return QERR_OK;
}

enum qerr dns_resolver_new(const struct dns_opts *o, struct dns_resolver **out,
                           struct qerr_info *ei)
{
        *out = NULL;
        struct dns_resolver *r = calloc(1, sizeof *r);
        if (!r)
                return qerr_set(ei, QERR_NOMEM, NULL);
        enum qerr rc = QERR_OK;
        r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
        r->retries = o->retries > 0 ? o->retries : 0;
        r->ctx = ub_ctx_create();
        if (!r->ctx) {
                rc = qerr_set(ei, QERR_NOMEM, "could not create a DNS resolver context");
                goto out;
        }
        r->log = fopen("/dev/null", "we");
        if (r->log)
                ub_ctx_debugout(r->ctx, r->log);
        ub_ctx_debuglevel(r->ctx, 0);
        int err = ub_ctx_async(r->ctx, 1);
        if (err != 0) {
                rc = ub_fail(ei, "threads", err);
                goto out;
        }
        if (o->forwarder && o->forwarder[0] &&
            (rc = setup_forwarding(r, o->forwarder, ei)) != QERR_OK)
                goto out;
        if (o->trust_anchor_file && o->trust_anchor_file[0] &&
            (rc = setup_anchors(r, o->trust_anchor_file, ei)) != QERR_OK)
                goto out;
        /* Extended DNS Errors in answers, where the library supports it. */
        (void)ub_ctx_set_option(r->ctx, "ede:", "yes");
        /* Finalise now (removing data that is not there forces it), so a
         * trust anchor file that does not parse is reported here. */
        err = ub_ctx_data_remove(r->ctx, "quill-finalise.invalid.");
        if (err != 0) {
                rc = qerr_set(ei, QERR_CONFIG,
                              "DNS resolver could not start (%s); check [dns] "
                              "trust_anchor_file '%s'",
                              ub_strerror(err), o->trust_anchor_file ? o->trust_anchor_file : "");
                goto out;
        }
        if (r->forwarder[0])
                rc = drop_default_zones(r, ei);
out:
        if (rc != QERR_OK) {
                dns_resolver_free(r);
                return rc;
        }
        *out = r;
        return QERR_OK;
}

void dns_resolver_free(struct dns_resolver *r)
{
        if (!r)
                return;
        if (r->ctx)
                ub_ctx_delete(r->ctx);
        if (r->log)
                fclose(r->log);
        free(r);
}

/* ---- raw packets (answer_packet of libunbound) ---- */

struct packet_info {
        bool truncated;
        int ede; /* -1: none */
};

static uint16_t rd16(const uint8_t *p)
{
        return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

/* Skips a (possibly compressed) name at *off; false when it runs past the
 * end. A pointer ends the name, so nothing loops. */
static bool skip_name(const uint8_t *p, size_t len, size_t *off)
{
        size_t i = *off;
        for (int labels = 0; labels < 128; labels++) {
                if (i >= len)
                        return false;
                uint8_t l = p[i];
                if ((l & 0xC0) == 0xC0) {
                        if (len - i < 2)
                                return false;
                        *off = i + 2;
                        return true;
                }
                if ((l & 0xC0) != 0)
                        return false;
                i += 1u + l;
                if (l == 0) {
                        *off = i;
                        return true;
                }
        }
        return false;
}

/* Skips one resource record, giving its type and rdata position. */
static bool skip_rr(const uint8_t *p, size_t len, size_t *off, uint16_t *type, size_t *rdoff,
                    size_t *rdlen)
{
        if (!skip_name(p, len, off) || *off > len || len - *off < 10)
                return false;
        *type = rd16(p + *off);
        size_t rl = rd16(p + *off + 8);
        *off += 10;
        if (rl > len - *off)
                return false;
        *rdoff = *off;
        *rdlen = rl;
        *off += rl;
        return true;
}

/* The TC flag and the first EDE info-code of the OPT record, if any. */
static void packet_info(const uint8_t *p, size_t len, struct packet_info *out)
{
        out->truncated = false;
        out->ede = -1;
        if (!p || len < 12)
                return;
        out->truncated = (p[2] & 0x02) != 0;
        size_t qd = rd16(p + 4), rrs = (size_t)rd16(p + 6) + rd16(p + 8), ar = rd16(p + 10);
        size_t off = 12;
        for (size_t i = 0; i < qd; i++) {
                if (!skip_name(p, len, &off) || off > len || len - off < 4)
                        return;
                off += 4;
        }
        uint16_t type;
        size_t rdoff, rdlen;
        for (size_t i = 0; i < rrs; i++)
                if (!skip_rr(p, len, &off, &type, &rdoff, &rdlen))
                        return;
        for (size_t i = 0; i < ar; i++) {
                if (!skip_rr(p, len, &off, &type, &rdoff, &rdlen))
                        return;
                if (type != 41)
                        continue;
                for (size_t o = rdoff; rdoff + rdlen - o >= 4;) {
                        size_t code = rd16(p + o), olen = rd16(p + o + 2);
                        if (olen > rdoff + rdlen - (o + 4))
                                return;
                        if (code == 15 && olen >= 2) {
                                out->ede = rd16(p + o + 4);
                                return;
                        }
                        o += 4 + olen;
                }
        }
}

/* An EDE info-code for a bogus answer when the packet carried none, from
 * the validator's words (RFC 8914: 6 DNSSEC Bogus, 7 Signature Expired,
 * 8 Signature Not Yet Valid, 9 DNSKEY Missing, 10 RRSIGs Missing). */
static int ede_from_why(const char *why)
{
        if (strstr(why, "expired"))
                return 7;
        if (strstr(why, "before inception") || strstr(why, "not yet valid"))
                return 8;
        if (strstr(why, "no signatures") || strstr(why, "RRSIG"))
                return 10;
        if (strstr(why, "DNSKEY") || strstr(why, "DS "))
                return 9;
        return 6;
}

/* ---- lookups ---- */

/* Checks and copies `name` into `out` as a fully qualified name with the
 * trailing dot. Allows what may stand in a DNS name that we look up
 * (LDH, underscore, and '*'), refusing what libunbound would treat as
 * escapes or garbage. */
static bool fqdn(const char *name, char *out, size_t outsz)
{
        size_t n = strlen(name);
        if (n > 0 && name[n - 1] == '.')
                n--;
        if (n == 0 || n > 253 || n + 2 > outsz)
                return false;
        size_t label = 0;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)name[i];
                if (c == '.') {
                        if (label == 0)
                                return false;
                        label = 0;
                        continue;
                }
                bool okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*';
                if (!okc || ++label > 63)
                        return false;
        }
        if (label == 0)
                return false;
        memcpy(out, name, n);
        out[n] = '.';
        out[n + 1] = '\0';
        return true;
}

struct pending {
        bool done;
        int err;
        struct ub_result *res;
};

static void on_result(void *arg, int err, struct ub_result *res)
{
        struct pending *p = arg;
        p->done = true;
        p->err = err;
        p->res = res;
}

static long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void copy_name(char *dst, size_t dsz, const char *src)
{
        size_t n = strlen(src);
        if (n > 1 && src[n - 1] == '.')
                n--;
        if (n >= dsz)
                n = dsz - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
}

static enum qerr fill_from(struct dns_resolver *r, const struct ub_result *u,
                           struct dns_result *out, struct qerr_info *ei)
{
        struct packet_info pi;
        packet_info(u->answer_packet, u->answer_len > 0 ? (size_t)u->answer_len : 0, &pi);
        out->rcode = u->rcode;
        out->secure = u->secure != 0;
        out->ede = pi.ede;
        if (u->canonname && u->canonname[0])
                copy_name(out->canonical, sizeof out->canonical, u->canonname);
        if (u->bogus) {
                out->status = DNS_BOGUS;
                copy_name(out->why, sizeof out->why, u->why_bogus ? u->why_bogus : "");
                if (out->ede < 0)
                        out->ede = ede_from_why(out->why);
                return QERR_OK;
        }
        if (pi.truncated) {
                out->status = DNS_TRUNCATED;
                snprintf(out->why, sizeof out->why, "the answer did not fit, even over TCP");
                return QERR_OK;
        }
        if (u->nxdomain || u->rcode == 3) {
                out->status = DNS_NXDOMAIN;
                return QERR_OK;
        }
        if (u->rcode != 0) {
                out->status = DNS_SERVFAIL;
                if (r->forwarder[0])
                        snprintf(out->why, sizeof out->why, "from forwarder %s", r->forwarder);
                return QERR_OK;
        }
        if (!u->havedata) {
                out->status = DNS_NODATA;
                return QERR_OK;
        }
        size_t n = 0;
        while (u->data && u->data[n])
                n++;
        out->rrs = calloc(n ? n : 1, sizeof *out->rrs);
        if (!out->rrs)
                return qerr_set(ei, QERR_NOMEM, NULL);
        for (size_t i = 0; i < n; i++) {
                size_t len = u->len[i] > 0 ? (size_t)u->len[i] : 0;
                out->rrs[i].data = malloc(len ? len : 1);
                if (!out->rrs[i].data)
                        return qerr_set(ei, QERR_NOMEM, NULL);
                if (len)
                        memcpy(out->rrs[i].data, u->data[i], len);
                out->rrs[i].len = len;
                out->nrrs = i + 1;
        }
        out->status = DNS_OK;
        return QERR_OK;
}

static void result_init(struct dns_result *out)
{
        memset(out, 0, sizeof *out);
        out->status = DNS_FAILURE;
        out->rcode = -1;
        out->ede = -1;
}

/* One attempt: QERR_OK with `out` filled (any status), or a local error. */
static enum qerr attempt(struct dns_resolver *r, const char *q, uint16_t qtype,
                         struct dns_result *out, struct qerr_info *ei)
{
        struct pending p = {false, 0, NULL};
        int id = 0;
        int err = ub_resolve_async(r->ctx, q, qtype, 1 /* IN */, &p, on_result, &id);
        if (err != 0) {
                out->status = DNS_FAILURE;
                snprintf(out->why, sizeof out->why, "%s", ub_strerror(err));
                return QERR_OK;
        }
        long deadline = now_ms() + r->timeout_ms;
        int fd = ub_fd(r->ctx);
        while (!p.done) {
                long left = deadline - now_ms();
                if (left <= 0)
                        break;
                struct pollfd pfd = {.fd = fd, .events = POLLIN, .revents = 0};
                int pr = poll(&pfd, 1, (int)left);
                if (pr < 0 && errno != EINTR)
                        break;
                if (pr > 0) {
                        err = ub_process(r->ctx);
                        if (err != 0) {
                                p.done = true;
                                p.err = err;
                        }
                }
        }
        if (!p.done) {
                ub_cancel(r->ctx, id);
                out->status = DNS_TIMEOUT;
                return QERR_OK;
        }
        if (p.err != 0 || !p.res) {
                if (p.res)
                        ub_resolve_free(p.res);
                out->status = DNS_FAILURE;
                snprintf(out->why, sizeof out->why, "%s", ub_strerror(p.err));
                return QERR_OK;
        }
        enum qerr rc = fill_from(r, p.res, out, ei);
        ub_resolve_free(p.res);
        return rc;
}

enum qerr dns_lookup(struct dns_resolver *r, const char *name, uint16_t qtype,
                     struct dns_result *out, struct qerr_info *ei)
{
        result_init(out);
        char q[258];
        if (!name || !fqdn(name, q, sizeof q)) {
                snprintf(out->why, sizeof out->why, "not a valid DNS name");
                return qerr_set(ei, QERR_USAGE, "'%s' is not a valid DNS name to look up",
                                name ? name : "");
        }
        if (!r) {
                snprintf(out->why, sizeof out->why, "no resolver");
                return qerr_set(ei, QERR_INTERNAL, "no DNS resolver");
        }
        long attempts = 1 + r->retries;
        for (long i = 0; i < attempts; i++) {
                if (i > 0) {
                        dns_result_clear(out);
                        result_init(out);
                }
                enum qerr rc = attempt(r, q, qtype, out, ei);
                if (rc != QERR_OK) {
                        dns_result_clear(out);
                        return rc;
                }
                if (out->status != DNS_TIMEOUT && out->status != DNS_SERVFAIL)
                        break;
        }
        if (out->status == DNS_TIMEOUT) {
                if (attempts > 1)
                        snprintf(out->why, sizeof out->why,
                                 "after %ld ms per attempt, %ld attempts", r->timeout_ms, attempts);
                else
                        snprintf(out->why, sizeof out->why, "after %ld ms", r->timeout_ms);
        }
        if (!out->canonical[0])
                copy_name(out->canonical, sizeof out->canonical, q);
        return QERR_OK;
}

void dns_result_clear(struct dns_result *res)
{
        if (!res)
                return;
        for (size_t i = 0; i < res->nrrs; i++)
                free(res->rrs[i].data);
        free(res->rrs);
        res->rrs = NULL;
        res->nrrs = 0;
}
