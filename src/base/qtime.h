/*
 * qtime.h - time as int64 seconds since the Unix epoch (UTC), and RFC 3339.
 *
 * Pure conversions; any thread. `now` is always passed in by callers of the
 * policy layer, so rules can be tested at any date; qtime_now() is for the
 * edges (CLI, server, service).
 */
#ifndef QUILL_QTIME_H
#define QUILL_QTIME_H

#include <stdbool.h>
#include <stdint.h>

typedef int64_t qtime_t;

#define QTIME_DAY ((qtime_t)86400)

qtime_t qtime_now(void);
/* Writes "YYYY-MM-DDTHH:MM:SSZ" into out (at least 21 bytes); returns out. */
const char *qtime_fmt(qtime_t t, char *out, unsigned long outsz);
/* Writes the HTTP date (RFC 9110 5.6.7 IMF-fixdate, "Sun, 06 Nov 1994
 * 08:49:37 GMT") into out (at least 30 bytes; names in English whatever the
 * locale); returns out. */
const char *qtime_http_date(qtime_t t, char *out, unsigned long outsz);
/* Parses exactly "YYYY-MM-DDTHH:MM:SSZ"; false on anything else. */
bool qtime_parse(const char *s, qtime_t *out);
/* Days-from-civil for a UTC calendar date. */
qtime_t qtime_from_ymd(int y, int m, int d);

#endif
