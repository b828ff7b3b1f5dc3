/*
 * email.c - see email.h.
 */
#include "email.h"

#include <string.h>

static bool atext(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool ldh(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-';
}

bool email_addr_valid(const char *s)
{
        if (!s)
                return false;
        size_t n = strlen(s);
        const char *at = strchr(s, '@');
        if (n < 3 || n > EMAIL_MAX || !at || strchr(at + 1, '@'))
                return false;
        size_t local = (size_t)(at - s);
        if (local < 1 || local > 64 || s[0] == '.' || s[local - 1] == '.')
                return false;
        for (size_t i = 0; i < local; i++) {
                if (s[i] == '.') {
                        if (s[i + 1] == '.')
                                return false;
                } else if (!atext((unsigned char)s[i])) {
                        return false;
                }
        }
        const char *d = at + 1;
        size_t dl = strlen(d);
        if (dl < 1 || dl > 253)
                return false;
        size_t label = 0;
        for (size_t i = 0; i <= dl; i++) {
                unsigned char c = (unsigned char)d[i];
                if (c == '.' || c == 0) {
                        if (label == 0 || label > 63 || d[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!ldh(c) || (label == 0 && c == '-'))
                        return false;
                label++;
        }
        return true;
}
