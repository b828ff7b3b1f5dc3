/*
 * metrics.h - a small thread-safe Prometheus registry: counters, gauges and
 * histograms with label sets, rendered in the text exposition format
 * (version 0.0.4) for `GET /metrics`.
 *
 * One registry per process. Like the logger it is a sink: code writes
 * numbers into it and nothing ever reads them back to decide anything, so
 * the "no global mutable state" rule's reasons (hidden coupling, order of
 * initialisation) do not apply; passing a registry through every module
 * would buy nothing. A one-shot CLI command records into it and never
 * renders: harmless.
 *
 * Shape: a family (name, help, type, label names) holds series, one per
 * tuple of label values. Hot paths resolve a series handle once
 * (metrics_series) and then update it with atomics only (metrics_inc,
 * metrics_add, metrics_set, metrics_observe): no lock, no allocation.
 * Registration, lookup, the by-name helpers (metrics_count,
 * metrics_gauge_set) and rendering take the registry's mutex. Families and
 * series are never removed before metrics_shutdown(), so handles stay valid
 * for the life of the process. A gauge family may instead be computed when
 * rendered (metrics_gauge_fn), for values that live elsewhere (queue depth,
 * cache age).
 *
 * Memory: the registry copies every string it keeps. Threads: any thread may
 * call any function, except metrics_shutdown (once, when no other thread
 * uses the registry) and, from inside a collect callback, anything but
 * metrics_emit (the registry lock is held).
 */
#ifndef QUILL_METRICS_H
#define QUILL_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

#define METRICS_MAX_LABELS 6
#define METRICS_MAX_BUCKETS 24
#define METRICS_MAX_VALUE_LEN 256 /* longer label values are cut */
#define METRICS_MAX_SERIES 10000  /* per family: beyond it, new series are refused */

struct metric_family;
struct metric_series;

/* Registers a family, or returns the one already registered under `name`
 * when type and label names agree (NULL, with a warning logged once, when
 * they do not, or when a name is not valid Prometheus). `labels` is a
 * NULL-terminated list of label names (NULL: none). Histograms take their
 * bucket upper bounds in increasing order (+Inf is implicit); NULL takes
 * the default latency buckets (0.5 ms to 10 s). */
struct metric_family *metrics_family(enum metric_type type, const char *name, const char *help,
                                     const char *const *labels, const double *buckets,
                                     size_t nbuckets);
/* The series of `f` for `values` (one per label name, in order; NULL when
 * the family has no labels), created on first use. NULL when f is NULL, the
 * family is full or memory ran out: every update function accepts NULL. */
struct metric_series *metrics_series(struct metric_family *f, const char *const *values);

/* Hot-path updates: atomics only. Counters only go up (negative adds are
 * ignored); metrics_set is for gauges, metrics_observe for histograms. */
void metrics_inc(struct metric_series *s);
void metrics_add(struct metric_series *s, double v);
void metrics_set(struct metric_series *s, double v);
void metrics_observe(struct metric_series *s, double v);

/* Cold-path helpers: register the family on first use, find the series and
 * update it in one call. The variable part is label name/value pairs ended
 * by NULL: metrics_count("quill_certificates_issued_total", "Certificates
 * issued.", 1, "profile", "private", NULL). */
void metrics_count(const char *name, const char *help, double n, ...) __attribute__((sentinel));
void metrics_gauge_set(const char *name, const char *help, double v, ...) __attribute__((sentinel));

/* A gauge family computed at render time: `fn(arg, e)` is called while
 * /metrics is rendered and reports each sample with metrics_emit. Calling
 * it again with the same name replaces fn/arg (fn NULL: no samples, e.g.
 * when the owner of `arg` goes away). */
struct metrics_emitter;
typedef void (*metrics_collect_fn)(void *arg, struct metrics_emitter *e);
struct metric_family *metrics_gauge_fn(const char *name, const char *help,
                                       const char *const *labels, metrics_collect_fn fn, void *arg);
/* One sample of the family being collected (`values` as for metrics_series). */
void metrics_emit(struct metrics_emitter *e, double v, const char *const *values);

/* Appends the text exposition of every family (# HELP, # TYPE, samples) to
 * `out`; false when `out` is full (what fitted stays). */
bool metrics_render(struct qbuf *out);

/* Frees every family and series (end of the process, tests). */
void metrics_shutdown(void);

#endif
