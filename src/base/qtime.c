/*
 * qtime.c - see qtime.h. The calendar arithmetic is Howard Hinnant's
 * days_from_civil, so no timezone or locale state is involved.
 */
#include "qtime.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

qtime_t qtime_now(void)
{
        return (qtime_t)time(NULL);
}

qtime_t qtime_from_ymd(int y, int m, int d)
{
        y -= m <= 2;
        const int64_t era = (y >= 0 ? y : y - 399) / 400;
        const int64_t yoe = y - era * 400;
        const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return (era * 146097 + doe - 719468) * QTIME_DAY;
}

const char *qtime_fmt(qtime_t t, char *out, unsigned long outsz)
{
        time_t tt = (time_t)t;
        struct tm tm;
        if (!gmtime_r(&tt, &tm) || strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
                if (outsz)
                        out[0] = 0;
        }
        return out;
}

const char *qtime_http_date(qtime_t t, char *out, unsigned long outsz)
{
        static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        time_t tt = (time_t)t;
        struct tm tm;
        if (!gmtime_r(&tt, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
            tm.tm_mon > 11 ||
            snprintf(out, outsz, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                     tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                     tm.tm_sec) >= (int)outsz) {
                if (outsz)
                        out[0] = 0;
        }
        return out;
}

static bool digits(const char *s, int n, int *out)
{
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return true;
}

static int days_in_month(int y, int m)
{
        static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        return m == 2 && leap ? 29 : d[m - 1];
}

bool qtime_parse(const char *s, qtime_t *out)
{
        /* exactly YYYY-MM-DDTHH:MM:SSZ, every field digits only */
        int y, mo, d, h, mi, se;
        if (!s || strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
            s[16] != ':' || s[19] != 'Z')
                return false;
        if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
            !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
                return false;
        if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59)
                return false;
        *out = qtime_from_ymd(y, mo, d) + h * 3600 + mi * 60 + se;
        return true;
}
