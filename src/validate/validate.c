/*
 * validate.c - domain control validation (BR 3.2.2.4.7 DNS change and
 * 3.2.2.4.18 agreed-upon change to website v2): the random values, the
 * sentences every outcome is told with, and the TXT check at
 * _acme-challenge.<name>. The file check is in validate_file.c.
 *
 * Every outcome goes into a struct validate_result: the RULES.md §2 code,
 * whether retrying can help, and a sentence naming the name and what was
 * seen. What a TXT record holds is never repeated in the sentence (the
 * record is whatever the name's DNS, perhaps through a CNAME to someone
 * else's zone, serves): only how many records there are, their lengths,
 * and whether one has the form of a validation value (an earlier order's).
 *
 * Memory: results are plain values; nothing allocated here outlives a
 * call. Threads: any thread, one call at a time per resolver.
 * validate_global_init (curl_global_init) must run once at start, before
 * threads.
 */
#include "validate.h"
#include "validate_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "../base/config.h"
#include "../base/netaddr.h"
#include "../dns/dns.h"

#define MAX_TXT 65536 /* one TXT rdata joined (rdata is at most 64 KiB) */
#define LENS_SHOWN 8  /* record lengths listed in a mismatch sentence */

/* ---------------------------------------------------------------- sentences */

static void vset_result(struct validate_result *out, size_t room, enum qerr code, bool final,
                        const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void vset_result(struct validate_result *out, size_t room, enum qerr code, bool final,
                        const char *fmt, va_list ap)
{
        out->code = code;
        out->final = final;
        if (room > sizeof out->msg)
                room = sizeof out->msg;
        vsnprintf(out->msg, room, fmt, ap);
}

void val_set_result(struct validate_result *out, enum qerr code, bool final, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vset_result(out, sizeof out->msg, code, final, fmt, ap);
        va_end(ap);
}

static void vset_unreachable(struct validate_result *out, const struct validate_cfg *c,
                             enum qerr code, bool final, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void vset_unreachable(struct validate_result *out, const struct validate_cfg *c,
                             enum qerr code, bool final, const char *fmt, va_list ap)
{
        char sfx[QERR_MSG_MAX] = "";
        if (c->source_addresses && c->source_addresses[0])
                snprintf(sfx, sizeof sfx,
                         " Validation requests come from %s; allow them through your firewall.",
                         c->source_addresses);
        size_t sl = strlen(sfx);
        vset_result(out, sizeof out->msg - (sl < sizeof out->msg / 2 ? sl : sizeof out->msg / 2),
                    code, final, fmt, ap);
        size_t ml = strlen(out->msg);
        snprintf(out->msg + ml, sizeof out->msg - ml, "%s", sfx);
}

void val_set_unreachable(struct validate_result *out, const struct validate_cfg *c, bool final,
                         const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vset_unreachable(out, c, QERR_FILE_UNREACHABLE, final, fmt, ap);
        va_end(ap);
}

void val_set_unreachable_as(struct validate_result *out, const struct validate_cfg *c,
                            enum qerr code, bool final, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vset_unreachable(out, c, code, final, fmt, ap);
        va_end(ap);
}

const char *val_show_bytes(const uint8_t *p, size_t n, char *out, size_t outsz)
{
        size_t o = 0;
        size_t i;
        for (i = 0; i < n; i++) {
                char piece[5];
                uint8_t ch = p[i];
                if (ch == '"' || ch == '\\')
                        snprintf(piece, sizeof piece, "\\%c", ch);
                else if (ch >= 0x20 && ch < 0x7f)
                        snprintf(piece, sizeof piece, "%c", ch);
                else
                        snprintf(piece, sizeof piece, "\\x%02x", ch);
                size_t pl = strlen(piece);
                if (o + pl + 4 > outsz)
                        break;
                memcpy(out + o, piece, pl);
                o += pl;
        }
        if (i < n && o + 4 <= outsz) {
                memcpy(out + o, "...", 3);
                o += 3;
        }
        out[o] = '\0';
        return out;
}

const char *val_show_str(const char *s, char *out, size_t outsz)
{
        return val_show_bytes((const uint8_t *)s, strlen(s), out, outsz);
}

/* ---------------------------------------------------------------- settings */

void validate_cfg_from_config(const struct qconfig *q, struct dns_resolver *dns,
                              struct netaddr_list *allow, struct validate_cfg *out)
{
        struct qerr_info ei;
        if (netaddr_list_parse(q->validation_allow_addresses, allow, &ei) != QERR_OK)
                allow->n = 0;
        *out = (struct validate_cfg){.dns = dns,
                                     .http_port = q->validation_http_port,
                                     .https_port = q->validation_https_port,
                                     .tls_alpn_port = q->validation_tls_alpn_port,
                                     .timeout_ms = q->validation_timeout_ms,
                                     .source_addresses = q->validation_source_addresses,
                                     .allow_private = q->validation_allow_private_addresses,
                                     .allow = allow};
}

/* ---------------------------------------------------------------- values */

enum qerr validate_global_init(struct qerr_info *ei)
{
        CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (rc != CURLE_OK)
                return qerr_set(ei, QERR_INTERNAL, "libcurl could not be initialised: %s.",
                                curl_easy_strerror(rc));
        return QERR_OK;
}

static void base64url(const uint8_t *in, size_t n, char *out)
{
        static const char abc[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        size_t o = 0;
        uint32_t acc = 0;
        int bits = 0;
        for (size_t i = 0; i < n; i++) {
                acc = (acc << 8) | in[i];
                bits += 8;
                while (bits >= 6) {
                        bits -= 6;
                        out[o++] = abc[(acc >> bits) & 63];
                }
        }
        if (bits > 0)
                out[o++] = abc[(acc << (6 - bits)) & 63];
        out[o] = '\0';
}

enum qerr validate_new_value(char *value, char *token, struct qerr_info *ei)
{
        uint8_t v[32], t[16];
        if (RAND_bytes(v, sizeof v) != 1 || RAND_bytes(t, sizeof t) != 1) {
                OPENSSL_cleanse(v, sizeof v);
                return qerr_set(ei, QERR_INTERNAL,
                                "The random number generator failed; no validation value made.");
        }
        base64url(v, sizeof v, value);
        base64url(t, sizeof t, token);
        OPENSSL_cleanse(v, sizeof v);
        OPENSSL_cleanse(t, sizeof t);
        return QERR_OK;
}

static bool is_trailing_space(uint8_t ch)
{
        return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

size_t val_trimmed_len(const uint8_t *body, size_t len)
{
        while (len > 0 && is_trailing_space(body[len - 1]))
                len--;
        return len;
}

/* Whole-value comparison in constant time for a given length. An empty
 * value never matches (it would mean a bug upstream). */
static bool value_equals(const uint8_t *got, size_t len, const char *value)
{
        size_t vl = strlen(value);
        if (vl == 0 || len != vl)
                return false;
        return CRYPTO_memcmp(got, value, vl) == 0;
}

bool validate_body_matches(const uint8_t *body, size_t len, const char *value)
{
        if (!value || (!body && len > 0))
                return false;
        return value_equals(body, val_trimmed_len(body, len), value);
}

bool val_value_shaped(const uint8_t *p, size_t n)
{
        if (n != VALIDATE_VALUE_LEN)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum(p[i]) || p[i] >= 0x80) {
                        if (p[i] != '-' && p[i] != '_')
                                return false;
                }
        return true;
}

/* ---------------------------------------------------------------- DNS method */

/* "*.x" -> "_acme-challenge.x"; false when the result would be too long. */
static bool challenge_name(const char *name, char *out, size_t outsz)
{
        const char *base = strncmp(name, "*.", 2) == 0 ? name + 2 : name;
        size_t bl = strlen(base);
        if (bl > 0 && base[bl - 1] == '.')
                bl--;
        int n = snprintf(out, outsz, "_acme-challenge.%.*s", (int)bl, base);
        return bl > 0 && n > 0 && (size_t)n < outsz && (size_t)n <= NAME_MAX_LEN;
}

void validate_dns(const struct validate_cfg *c, const char *name, const char *value,
                  struct validate_result *out)
{
        char rname[NAME_MAX_LEN + 2], shown[URL_SHOW + 4];
        memset(out, 0, sizeof *out);
        if (!challenge_name(name, rname, sizeof rname)) {
                val_set_result(
                    out, QERR_NAME_INVALID, true,
                    "\"%s\" is not a name whose _acme-challenge record can be looked up.",
                    val_show_str(name, shown, sizeof shown));
                return;
        }

        struct dns_result res;
        struct qerr_info ei;
        memset(&res, 0, sizeof res);
        qerr_clear(&ei);
        if (dns_lookup(c->dns, rname, DNS_TYPE_TXT, &res, &ei) != QERR_OK) {
                val_set_result(out, QERR_NAME_INVALID, true,
                               "The TXT record name %s is not valid: %s",
                               val_show_str(rname, shown, sizeof shown), qerr_message(&ei));
                dns_result_clear(&res);
                return;
        }

        char via[URL_SHOW + 32] = "";
        if (res.canonical[0] && strcasecmp(res.canonical, rname) != 0)
                snprintf(via, sizeof via, " (through a CNAME to %s)",
                         val_show_str(res.canonical, shown, sizeof shown));

        switch (res.status) {
        case DNS_OK:
                break;
        case DNS_NODATA:
        case DNS_NXDOMAIN:
                val_set_result(out, QERR_VALIDATION_TIMEOUT, false,
                               "No TXT record at %s%s yet (%s); publish the value shown for the "
                               "order there.",
                               rname, via,
                               res.status == DNS_NXDOMAIN ? "the name does not exist"
                                                          : "the name has no TXT record");
                dns_result_clear(&res);
                return;
        default: {
                char why[300];
                dns_result_describe(&res, why, sizeof why);
                val_set_result(out, QERR_DNS_ERROR, false, "The TXT lookup of %s%s failed: %s.",
                               rname, via, why);
                dns_result_clear(&res);
                return;
        }
        }
        if (res.nrrs == 0) {
                val_set_result(out, QERR_VALIDATION_TIMEOUT, false,
                               "No TXT record at %s%s yet; publish the value shown for the order "
                               "there.",
                               rname, via);
                dns_result_clear(&res);
                return;
        }

        /* what the records hold is not repeated: their lengths, and
         * whether one looks like a validation value, say enough */
        struct qbuf txt;
        bool found = false, shaped = false;
        char lens[LENS_SHOWN * 24 + 8] = "";
        size_t lo = 0;
        qbuf_init(&txt, MAX_TXT);
        for (size_t i = 0; i < res.nrrs; i++) {
                qbuf_reset(&txt);
                bool ok = dns_txt_join(res.rrs[i].data, res.rrs[i].len, &txt);
                if (ok && value_equals(txt.data, txt.len, value))
                        found = true; /* keep going: same time for every record */
                shaped = shaped || (ok && val_value_shaped(txt.data, txt.len));
                if (i < LENS_SHOWN && lo < sizeof lens) {
                        int n = ok ? snprintf(lens + lo, sizeof lens - lo, "%s%zu characters",
                                              i ? ", " : "", txt.len)
                                   : snprintf(lens + lo, sizeof lens - lo, "%sa malformed record",
                                              i ? ", " : "");
                        lo += n > 0 ? (size_t)n : 0;
                } else if (i == LENS_SHOWN && lo < sizeof lens) {
                        snprintf(lens + lo, sizeof lens - lo, ", ...");
                        lo = sizeof lens;
                }
        }
        qbuf_free(&txt);

        const char *form = shaped ? " (one has the form of a validation value: perhaps an "
                                    "earlier order's)"
                                  : "";
        if (found)
                val_set_result(out, QERR_OK, true, "The TXT record at %s%s holds the value.", rname,
                               via);
        else if (res.nrrs == 1)
                val_set_result(out, QERR_VALIDATION_MISMATCH, true,
                               "The TXT record at %s%s holds %s, not the %zu-character value "
                               "shown for the order%s; publish that value (what the record holds "
                               "is not repeated here).",
                               rname, via, lens, strlen(value),
                               shaped ? " (it has the form of a validation value: perhaps an "
                                        "earlier order's)"
                                      : "");
        else
                val_set_result(out, QERR_VALIDATION_MISMATCH, true,
                               "None of the %zu TXT records at %s%s holds the %zu-character value "
                               "shown for the order (they hold %s)%s; publish that value (what "
                               "the records hold is not repeated here).",
                               res.nrrs, rname, via, strlen(value), lens, form);
        dns_result_clear(&res);
}
