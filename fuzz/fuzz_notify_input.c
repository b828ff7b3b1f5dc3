/*
 * fuzz_notify_input.c - libFuzzer target for what notifications take from
 * outside: webhook URLs (notify_url_parse, on libcurl's URL API), contact
 * addresses (email_addr_valid) and [notify] expiry_days
 * (config_parse_days).
 *
 * Checks, aborting on any disagreement: a parsed URL has scheme http or
 * https, a non-empty lower-case host without brackets and a port in
 * 1..65535, and a literal host parses as an address; an accepted address
 * has one '@', no byte outside printable ASCII and at most 254 characters;
 * parsed days are strictly decreasing and within 1..3650.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/email.h"
#include "notify/notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;

        struct notify_url u;
        struct qerr_info ei;
        if (notify_url_parse(s, &u, &ei) == QERR_OK) {
                if (strcmp(u.scheme, "http") && strcmp(u.scheme, "https"))
                        abort();
                if (!u.host[0] || strchr(u.host, '[') || u.port < 1 || u.port > 65535)
                        abort();
                for (const char *p = u.host; *p; p++)
                        if (*p >= 'A' && *p <= 'Z')
                                abort();
                struct netaddr a;
                if (u.literal && !netaddr_parse(u.host, &a))
                        abort();
        } else if (ei.code != QERR_WEBHOOK_URL_INVALID && ei.code != QERR_NOMEM) {
                abort();
        }

        if (email_addr_valid(s)) {
                size_t n = strlen(s);
                const char *at = strchr(s, '@');
                if (n > EMAIL_MAX || !at || strchr(at + 1, '@'))
                        abort();
                for (const char *p = s; *p; p++)
                        if (*p <= 0x20 || *p >= 0x7f || *p == '<' || *p == '>' || *p == ',')
                                abort();
        }

        int days[CONFIG_MAX_EXPIRY_DAYS];
        size_t nd = 0;
        if (config_parse_days(s, days, CONFIG_MAX_EXPIRY_DAYS, &nd)) {
                if (nd == 0 || nd > CONFIG_MAX_EXPIRY_DAYS)
                        abort();
                for (size_t i = 0; i < nd; i++)
                        if (days[i] < 1 || days[i] > 3650 || (i && days[i] >= days[i - 1]))
                                abort();
        }
        free(s);
        return 0;
}
