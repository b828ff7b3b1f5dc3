/*
 * log.c - see log.h. The only global is the level: set at start and again
 * when `quill serve` reloads its configuration (SIGHUP), so it is an atomic
 * read with relaxed ordering by every thread that logs.
 */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static atomic_int level = QLOG_INFO;

void qlog_set_level(enum qlog_level lvl)
{
        atomic_store_explicit(&level, (int)lvl, memory_order_relaxed);
}

bool qlog_enabled(enum qlog_level lvl)
{
        return (int)lvl >= atomic_load_explicit(&level, memory_order_relaxed) && lvl < QLOG_OFF;
}

enum qlog_level qlog_level_from_name(const char *s)
{
        static const char *const names[] = {"debug", "info", "warn", "error", "off"};
        for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
                if (strcasecmp(s, names[i]) == 0)
                        return (enum qlog_level)i;
        return QLOG_INFO;
}

enum qlog_level qlog_get_level(void)
{
        return level;
}

const char *qlog_escape(const char *in, char *out, unsigned long outsz)
{
        unsigned long o = 0;
        if (outsz < 4) {
                if (outsz)
                        out[0] = 0;
                return out;
        }
        out[o++] = '"';
        for (const unsigned char *p = (const unsigned char *)in; p && *p; p++) {
                char tmp[5];
                int n;
                if (*p == '"' || *p == '\\')
                        n = snprintf(tmp, sizeof tmp, "\\%c", *p);
                else if (*p < 0x20 || *p >= 0x7f)
                        n = snprintf(tmp, sizeof tmp, "\\x%02x", *p);
                else
                        n = snprintf(tmp, sizeof tmp, "%c", *p);
                if (o + (unsigned long)n + 2 > outsz)
                        break;
                memcpy(out + o, tmp, (size_t)n);
                o += (unsigned long)n;
        }
        out[o++] = '"';
        out[o] = 0;
        return out;
}

void qlog(enum qlog_level lvl, const char *msg, const char *fmt_kv, ...)
{
        static const char *names[] = {"debug", "info", "warn", "error"};
        if (!qlog_enabled(lvl))
                return;
        char line[2048], ts[32], emsg[512];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        int n = snprintf(line, sizeof line, "ts=%s level=%s pid=%d msg=%s", ts, names[lvl],
                         (int)getpid(), qlog_escape(msg, emsg, sizeof emsg));
        if (n < 0)
                return;
        if (fmt_kv && (size_t)n < sizeof line - 2) {
                line[n++] = ' ';
                va_list ap;
                va_start(ap, fmt_kv);
                int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt_kv, ap);
                va_end(ap);
                if (m > 0)
                        n += m;
                if ((size_t)n >= sizeof line - 1)
                        n = (int)sizeof line - 2;
        }
        line[n++] = '\n';
        ssize_t w = write(STDERR_FILENO, line, (size_t)n);
        (void)w;
}
