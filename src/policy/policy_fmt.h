/*
 * policy_fmt.h - small helpers shared by the policy rules (internal to
 * src/policy/): overflow-safe time differences and the date/span sentences
 * that go into error messages.
 *
 * The formatters use their own UTC calendar arithmetic (no gmtime, so no
 * timezone file is ever read): the policy layer stays free of I/O. Output
 * goes into caller buffers; nothing is allocated. Pure; any thread.
 */
#ifndef QUILL_POLICY_FMT_H
#define QUILL_POLICY_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/qtime.h"

/* Big enough for any qtime_t ("-292277026596-12-04T15:30:08Z" and the like). */
#define POLICY_FMT_LEN 48

/* "YYYY-MM-DDTHH:MM:SSZ" */
const char *policy_fmt_time(qtime_t t, char out[POLICY_FMT_LEN]);
/* "YYYY-MM-DD" */
const char *policy_fmt_date(qtime_t t, char out[POLICY_FMT_LEN]);
/* A duration in seconds as "30 days", "1 day" or "30 days and 1 second". */
const char *policy_fmt_span(uint64_t secs, char out[POLICY_FMT_LEN]);

/* true when later - now <= secs, computed without signed overflow (a `later`
 * at or before `now` is always within). */
bool policy_within(qtime_t later, qtime_t now, qtime_t secs);
/* later - now as an unsigned span; 0 when later <= now. */
uint64_t policy_span(qtime_t later, qtime_t now);

#endif
