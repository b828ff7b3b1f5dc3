/*
 * policy_fmt.c - see policy_fmt.h. Civil-from-days is Howard Hinnant's
 * algorithm, the inverse of qtime_from_ymd(); no libc time functions, so no
 * timezone state or file is touched. Writes only into the caller's buffer;
 * pure, any thread.
 */
#include "policy_fmt.h"

#include <inttypes.h>
#include <stdio.h>

struct civil {
        int64_t y;
        unsigned m, d, hh, mm, ss;
};

static struct civil to_civil(qtime_t t)
{
        struct civil c;
        int64_t days = t / QTIME_DAY;
        int64_t rem = t % QTIME_DAY;
        if (rem < 0) {
                rem += QTIME_DAY;
                days--;
        }
        c.hh = (unsigned)(rem / 3600);
        c.mm = (unsigned)(rem / 60 % 60);
        c.ss = (unsigned)(rem % 60);

        const int64_t z = days + 719468;
        const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        const unsigned doe = (unsigned)(z - era * 146097);
        const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        const unsigned mp = (5 * doy + 2) / 153;
        c.d = doy - (153 * mp + 2) / 5 + 1;
        c.m = mp < 10 ? mp + 3 : mp - 9;
        c.y = (int64_t)yoe + era * 400 + (c.m <= 2);
        return c;
}

const char *policy_fmt_time(qtime_t t, char out[POLICY_FMT_LEN])
{
        const struct civil c = to_civil(t);
        snprintf(out, POLICY_FMT_LEN, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02uZ", c.y, c.m, c.d,
                 c.hh, c.mm, c.ss);
        return out;
}

const char *policy_fmt_date(qtime_t t, char out[POLICY_FMT_LEN])
{
        const struct civil c = to_civil(t);
        snprintf(out, POLICY_FMT_LEN, "%04" PRId64 "-%02u-%02u", c.y, c.m, c.d);
        return out;
}

const char *policy_fmt_span(uint64_t secs, char out[POLICY_FMT_LEN])
{
        const uint64_t days = secs / (uint64_t)QTIME_DAY;
        const uint64_t rem = secs % (uint64_t)QTIME_DAY;
        const char *ds = days == 1 ? "" : "s";
        if (rem == 0)
                snprintf(out, POLICY_FMT_LEN, "%" PRIu64 " day%s", days, ds);
        else
                snprintf(out, POLICY_FMT_LEN, "%" PRIu64 " day%s and %" PRIu64 " second%s", days,
                         ds, rem, rem == 1 ? "" : "s");
        return out;
}

uint64_t policy_span(qtime_t later, qtime_t now)
{
        return later > now ? (uint64_t)later - (uint64_t)now : 0;
}

bool policy_within(qtime_t later, qtime_t now, qtime_t secs)
{
        return later <= now || policy_span(later, now) <= (uint64_t)secs;
}
