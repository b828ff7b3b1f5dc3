/*
 * log.h - the process logger: one line per event, key=value, to stderr.
 *
 * Lines look like `ts=... level=info msg="cert issued" cert=42 serial=ab..`.
 * Values passed through qlog_kv() are escaped, so untrusted bytes cannot forge
 * lines. The level is process-global (set at start, changed again only by a
 * configuration reload; an atomic); any thread may log (each line is one
 * write(2)).
 */
#ifndef QUILL_LOG_H
#define QUILL_LOG_H

#include <stdbool.h>

enum qlog_level { QLOG_DEBUG, QLOG_INFO, QLOG_WARN, QLOG_ERROR, QLOG_OFF };

void qlog_set_level(enum qlog_level lvl);
/* "debug", "info", "warn", "error", "off" (any case); QLOG_INFO otherwise. */
enum qlog_level qlog_level_from_name(const char *s);
/* Whether a line at `lvl` would be written (to skip formatting work). */
bool qlog_enabled(enum qlog_level lvl);
enum qlog_level qlog_get_level(void);
/* `kv` is a preformatted list of key=value pairs (may be NULL); build it with
 * qlog_escape() for untrusted values. */
void qlog(enum qlog_level lvl, const char *msg, const char *fmt_kv, ...)
    __attribute__((format(printf, 3, 4)));
/* Escapes `in` into `out` (quoted when it has spaces or specials), truncating
 * to outsz. Returns out. */
const char *qlog_escape(const char *in, char *out, unsigned long outsz);

#define qlog_debug(msg, ...) qlog(QLOG_DEBUG, msg, __VA_ARGS__)
#define qlog_info(msg, ...) qlog(QLOG_INFO, msg, __VA_ARGS__)
#define qlog_warn(msg, ...) qlog(QLOG_WARN, msg, __VA_ARGS__)
#define qlog_error(msg, ...) qlog(QLOG_ERROR, msg, __VA_ARGS__)

#endif
