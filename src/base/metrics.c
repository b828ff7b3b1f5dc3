/*
 * metrics.c - the Prometheus registry; see metrics.h.
 *
 * Layout: a singly linked list of families in registration order (appended
 * under the lock); each family has a small chained hash of its series by
 * label values plus a list in creation order for rendering. Values are
 * atomics: counters keep an integer part (metrics_inc: one fetch_add) and a
 * fractional part (a double in a uint64_t, updated by compare-and-swap);
 * gauges a double; histograms one counter per bucket (not cumulative; the
 * render sums them, so `_count` always equals the +Inf bucket) and a double
 * sum. Relaxed ordering everywhere: a scrape may see one update and not
 * another, which Prometheus tolerates.
 */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define SERIES_HASH 64

struct metric_series {
        struct metric_series *hash_next, *next;
        const struct metric_family *fam; /* its bounds and type never change */
        char **values;
        atomic_uint_fast64_t ival;     /* counters: integer increments */
        atomic_uint_fast64_t dbits;    /* a double: counter fraction, gauge value, histogram sum */
        atomic_uint_fast64_t *buckets; /* histograms: nbuckets + 1 (the last is +Inf) */
};

struct metric_family {
        struct metric_family *next;
        enum metric_type type;
        char *name, *help;
        size_t nlabels;
        char *labels[METRICS_MAX_LABELS];
        size_t nbuckets;
        double bounds[METRICS_MAX_BUCKETS];
        struct metric_series *hash[SERIES_HASH];
        struct metric_series *first, *last;
        size_t nseries;
        metrics_collect_fn fn; /* computed gauges */
        void *fn_arg;
        bool warned_full;
};

struct metrics_emitter {
        struct metric_family *f;
        struct qbuf *out;
        bool ok;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct metric_family *families, *families_last;

static const double default_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                         0.1,    0.25,  0.5,    1,     2.5,  5,     10};

/* ---- doubles in atomics ---- */

static uint64_t dbl_bits(double v)
{
        uint64_t u;
        memcpy(&u, &v, sizeof u);
        return u;
}

static double bits_dbl(uint64_t u)
{
        double v;
        memcpy(&v, &u, sizeof v);
        return v;
}

static void atomic_dbl_add(atomic_uint_fast64_t *a, double v)
{
        uint_fast64_t old = atomic_load_explicit(a, memory_order_relaxed);
        for (;;) {
                uint_fast64_t nw = dbl_bits(bits_dbl(old) + v);
                if (atomic_compare_exchange_weak_explicit(a, &old, nw, memory_order_relaxed,
                                                          memory_order_relaxed))
                        return;
        }
}

/* ---- names ---- */

static bool valid_name(const char *s, bool label)
{
        if (!s || !*s)
                return false;
        for (const char *p = s; *p; p++) {
                char c = *p;
                bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                             (!label && c == ':');
                if (!alpha && !(p != s && c >= '0' && c <= '9'))
                        return false;
        }
        return !(label && strncmp(s, "__", 2) == 0);
}

static void family_free(struct metric_family *f)
{
        struct metric_series *s = f->first;
        while (s) {
                struct metric_series *n = s->next;
                for (size_t i = 0; i < f->nlabels; i++)
                        free(s->values[i]);
                free(s->values);
                free(s->buckets);
                free(s);
                s = n;
        }
        for (size_t i = 0; i < f->nlabels; i++)
                free(f->labels[i]);
        free(f->name);
        free(f->help);
        free(f);
}

static size_t count_labels(const char *const *labels)
{
        size_t n = 0;
        while (labels && labels[n])
                n++;
        return n;
}

static bool same_shape(const struct metric_family *f, enum metric_type type,
                       const char *const *labels)
{
        if (f->type != type || f->nlabels != count_labels(labels))
                return false;
        for (size_t i = 0; i < f->nlabels; i++)
                if (strcmp(f->labels[i], labels[i]) != 0)
                        return false;
        return true;
}

static struct metric_family *find_family(const char *name)
{
        for (struct metric_family *f = families; f; f = f->next)
                if (strcmp(f->name, name) == 0)
                        return f;
        return NULL;
}

/* Registers or finds a family; the caller holds reg_lock. */
static struct metric_family *family_locked(enum metric_type type, const char *name,
                                           const char *help, const char *const *labels,
                                           const double *buckets, size_t nbuckets)
{
        struct metric_family *f = find_family(name);
        if (f) {
                if (same_shape(f, type, labels))
                        return f;
                qlog_warn("metric family conflict", "name=%.100s", name);
                return NULL;
        }
        size_t nl = count_labels(labels);
        bool ok = valid_name(name, false) && nl <= METRICS_MAX_LABELS;
        for (size_t i = 0; ok && i < nl; i++)
                ok = valid_name(labels[i], true) &&
                     !(type == METRIC_HISTOGRAM && strcmp(labels[i], "le") == 0);
        if (type == METRIC_HISTOGRAM && !buckets) {
                buckets = default_buckets;
                nbuckets = sizeof default_buckets / sizeof default_buckets[0];
        }
        if (type != METRIC_HISTOGRAM)
                nbuckets = 0;
        ok = ok && nbuckets <= METRICS_MAX_BUCKETS;
        for (size_t i = 0; ok && i < nbuckets; i++)
                ok = isfinite(buckets[i]) && (i == 0 || buckets[i] > buckets[i - 1]);
        if (!ok) {
                qlog_warn("metric family refused", "name=%.100s why=%s", name ? name : "",
                          "invalid name, label or buckets");
                return NULL;
        }
        f = calloc(1, sizeof *f);
        if (!f)
                return NULL;
        f->type = type;
        f->name = strdup(name);
        f->help = strdup(help ? help : "");
        f->nlabels = nl;
        ok = f->name && f->help;
        for (size_t i = 0; i < nl; i++)
                ok = (f->labels[i] = strdup(labels[i])) != NULL && ok;
        f->nbuckets = nbuckets;
        if (nbuckets)
                memcpy(f->bounds, buckets, nbuckets * sizeof *buckets);
        if (!ok) {
                family_free(f);
                return NULL;
        }
        if (families_last)
                families_last->next = f;
        else
                families = f;
        families_last = f;
        return f;
}

struct metric_family *metrics_family(enum metric_type type, const char *name, const char *help,
                                     const char *const *labels, const double *buckets,
                                     size_t nbuckets)
{
        pthread_mutex_lock(&reg_lock);
        struct metric_family *f = family_locked(type, name, help, labels, buckets, nbuckets);
        pthread_mutex_unlock(&reg_lock);
        return f;
}

/* ---- series ---- */

static uint64_t hash_values(const char *const *values, size_t n)
{
        uint64_t h = 1469598103934665603ull; /* FNV-1a, with a separator per value */
        for (size_t i = 0; i < n; i++) {
                for (const unsigned char *p = (const unsigned char *)values[i]; *p; p++)
                        h = (h ^ *p) * 1099511628211ull;
                h = (h ^ 0xff) * 1099511628211ull;
        }
        return h;
}

/* Label values as stored: NULL becomes "", long ones are cut. */
static void norm_values(const struct metric_family *f, const char *const *in, const char **out,
                        char cut[][METRICS_MAX_VALUE_LEN + 1])
{
        for (size_t i = 0; i < f->nlabels; i++) {
                const char *v = in && in[i] ? in[i] : "";
                if (strlen(v) > METRICS_MAX_VALUE_LEN) {
                        memcpy(cut[i], v, METRICS_MAX_VALUE_LEN);
                        cut[i][METRICS_MAX_VALUE_LEN] = 0;
                        v = cut[i];
                }
                out[i] = v;
        }
}

static struct metric_series *series_locked(struct metric_family *f, const char *const *in)
{
        const char *values[METRICS_MAX_LABELS];
        char cut[METRICS_MAX_LABELS][METRICS_MAX_VALUE_LEN + 1];
        norm_values(f, in, values, cut);
        uint64_t h = hash_values(values, f->nlabels) % SERIES_HASH;
        for (struct metric_series *s = f->hash[h]; s; s = s->hash_next) {
                size_t i = 0;
                while (i < f->nlabels && strcmp(s->values[i], values[i]) == 0)
                        i++;
                if (i == f->nlabels)
                        return s;
        }
        if (f->nseries >= METRICS_MAX_SERIES) {
                if (!f->warned_full)
                        qlog_warn("metric family full", "name=%s series=%zu", f->name, f->nseries);
                f->warned_full = true;
                return NULL;
        }
        struct metric_series *s = calloc(1, sizeof *s);
        if (!s)
                return NULL;
        bool ok = true;
        if (f->nlabels && !(s->values = calloc(f->nlabels, sizeof *s->values)))
                ok = false;
        for (size_t i = 0; ok && i < f->nlabels; i++)
                ok = (s->values[i] = strdup(values[i])) != NULL;
        if (ok && f->type == METRIC_HISTOGRAM)
                ok = (s->buckets = calloc(f->nbuckets + 1, sizeof *s->buckets)) != NULL;
        if (!ok) {
                for (size_t i = 0; s->values && i < f->nlabels; i++)
                        free(s->values[i]);
                free(s->values);
                free(s->buckets);
                free(s);
                return NULL;
        }
        s->fam = f;
        atomic_init(&s->ival, 0);
        atomic_init(&s->dbits, dbl_bits(0.0));
        for (size_t i = 0; s->buckets && i <= f->nbuckets; i++)
                atomic_init(&s->buckets[i], 0);
        s->hash_next = f->hash[h];
        f->hash[h] = s;
        if (f->last)
                f->last->next = s;
        else
                f->first = s;
        f->last = s;
        f->nseries++;
        return s;
}

struct metric_series *metrics_series(struct metric_family *f, const char *const *values)
{
        if (!f || f->fn)
                return NULL;
        pthread_mutex_lock(&reg_lock);
        struct metric_series *s = series_locked(f, values);
        pthread_mutex_unlock(&reg_lock);
        return s;
}

/* ---- updates ---- */

void metrics_inc(struct metric_series *s)
{
        if (s)
                atomic_fetch_add_explicit(&s->ival, 1, memory_order_relaxed);
}

void metrics_add(struct metric_series *s, double v)
{
        if (!s || !isfinite(v) || s->fam->type == METRIC_HISTOGRAM ||
            (v < 0 && s->fam->type == METRIC_COUNTER))
                return;
        if (v == 1.0)
                atomic_fetch_add_explicit(&s->ival, 1, memory_order_relaxed);
        else
                atomic_dbl_add(&s->dbits, v);
}

void metrics_set(struct metric_series *s, double v)
{
        if (!s || s->fam->type != METRIC_GAUGE)
                return;
        atomic_store_explicit(&s->ival, 0, memory_order_relaxed);
        atomic_store_explicit(&s->dbits, dbl_bits(v), memory_order_relaxed);
}

void metrics_observe(struct metric_series *s, double v)
{
        if (!s || !s->buckets || isnan(v))
                return;
        const struct metric_family *f = s->fam;
        size_t i = 0;
        while (i < f->nbuckets && v > f->bounds[i])
                i++;
        atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
        atomic_dbl_add(&s->dbits, v);
}

/* ---- by name ---- */

/* Collects the NULL-terminated name/value pairs of a va_list. */
static size_t take_pairs(va_list ap, const char **names, const char **values)
{
        size_t n = 0;
        for (;;) {
                const char *k = va_arg(ap, const char *);
                if (!k)
                        break;
                const char *v = va_arg(ap, const char *);
                if (n < METRICS_MAX_LABELS) {
                        names[n] = k;
                        values[n] = v ? v : "";
                }
                n++;
                if (!v)
                        break;
        }
        if (n > METRICS_MAX_LABELS)
                n = METRICS_MAX_LABELS + 1; /* refused by the family check */
        names[n < METRICS_MAX_LABELS ? n : METRICS_MAX_LABELS] = NULL;
        return n;
}

static struct metric_series *named(enum metric_type t, const char *name, const char *help,
                                   va_list ap)
{
        const char *names[METRICS_MAX_LABELS + 1], *values[METRICS_MAX_LABELS];
        size_t n = take_pairs(ap, names, values);
        if (n > METRICS_MAX_LABELS) {
                qlog_warn("metric refused", "name=%.100s why=%s", name, "too many labels");
                return NULL;
        }
        pthread_mutex_lock(&reg_lock);
        struct metric_family *f = family_locked(t, name, help, names, NULL, 0);
        struct metric_series *s = f && !f->fn ? series_locked(f, values) : NULL;
        pthread_mutex_unlock(&reg_lock);
        return s;
}

void metrics_count(const char *name, const char *help, double n, ...)
{
        va_list ap;
        va_start(ap, n);
        struct metric_series *s = named(METRIC_COUNTER, name, help, ap);
        va_end(ap);
        metrics_add(s, n);
}

void metrics_gauge_set(const char *name, const char *help, double v, ...)
{
        va_list ap;
        va_start(ap, v);
        struct metric_series *s = named(METRIC_GAUGE, name, help, ap);
        va_end(ap);
        metrics_set(s, v);
}

struct metric_family *metrics_gauge_fn(const char *name, const char *help,
                                       const char *const *labels, metrics_collect_fn fn, void *arg)
{
        pthread_mutex_lock(&reg_lock);
        struct metric_family *f = family_locked(METRIC_GAUGE, name, help, labels, NULL, 0);
        if (f && f->nseries == 0) {
                f->fn = fn;
                f->fn_arg = arg;
                /* a family with no callback and no series renders nothing */
        } else if (f) {
                qlog_warn("metric family conflict", "name=%.100s why=%s", name,
                          "already has series");
                f = NULL;
        }
        pthread_mutex_unlock(&reg_lock);
        return f;
}

/* ---- rendering ---- */

/* A label value or help text with \, newline (and for values ") escaped. */
static bool put_escaped(struct qbuf *out, const char *s, bool quote)
{
        for (const char *p = s; *p; p++) {
                const char *rep = NULL;
                if (*p == '\\')
                        rep = "\\\\";
                else if (*p == '\n')
                        rep = "\\n";
                else if (quote && *p == '"')
                        rep = "\\\"";
                if (rep ? !qbuf_append_str(out, rep) : !qbuf_append(out, p, 1))
                        return false;
        }
        return true;
}

/* v as text: integers plainly, other numbers in the shortest form that
 * reads back as v (0.1, not 0.10000000000000001). */
static void fmt_number(double v, char *buf, size_t sz)
{
        if (isnan(v)) {
                snprintf(buf, sz, "NaN");
                return;
        }
        if (isinf(v)) {
                snprintf(buf, sz, "%s", v > 0 ? "+Inf" : "-Inf");
                return;
        }
        if (v > -1e15 && v < 1e15 && v == (double)(long long)v) {
                snprintf(buf, sz, "%lld", (long long)v);
                return;
        }
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, sz, "%.*g", prec, v);
                if (strtod(buf, NULL) == v)
                        return;
        }
}

static bool put_number(struct qbuf *out, double v)
{
        char buf[40];
        fmt_number(v, buf, sizeof buf);
        return qbuf_append_str(out, buf);
}

/* name{l1="v1",...,extra_name="extra"} value\n */
static bool put_sample(struct qbuf *out, const struct metric_family *f, const char *suffix,
                       const char *const *values, const char *extra_name, const char *extra,
                       double v)
{
        bool ok = qbuf_append_str(out, f->name) && qbuf_append_str(out, suffix);
        size_t n = 0;
        for (size_t i = 0; ok && i < f->nlabels; i++, n++)
                ok = qbuf_append_str(out, n ? "," : "{") && qbuf_append_str(out, f->labels[i]) &&
                     qbuf_append_str(out, "=\"") &&
                     put_escaped(out, values && values[i] ? values[i] : "", true) &&
                     qbuf_append_str(out, "\"");
        if (ok && extra_name) {
                ok = qbuf_append_str(out, n ? "," : "{") && qbuf_printf(out, "%s=\"", extra_name) &&
                     put_escaped(out, extra, true) && qbuf_append_str(out, "\"");
                n++;
        }
        if (ok && n)
                ok = qbuf_append_str(out, "}");
        return ok && qbuf_append_str(out, " ") && put_number(out, v) && qbuf_append_str(out, "\n");
}

static bool put_histogram(struct qbuf *out, const struct metric_family *f,
                          const struct metric_series *s)
{
        const char *const *values = (const char *const *)s->values;
        uint64_t cum = 0;
        bool ok = true;
        for (size_t i = 0; ok && i <= f->nbuckets; i++) {
                cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
                char le[40];
                if (i == f->nbuckets)
                        snprintf(le, sizeof le, "+Inf");
                else
                        fmt_number(f->bounds[i], le, sizeof le);
                ok = put_sample(out, f, "_bucket", values, "le", le, (double)cum);
        }
        double sum = bits_dbl(atomic_load_explicit(&s->dbits, memory_order_relaxed));
        return ok && put_sample(out, f, "_sum", values, NULL, NULL, sum) &&
               put_sample(out, f, "_count", values, NULL, NULL, (double)cum);
}

void metrics_emit(struct metrics_emitter *e, double v, const char *const *values)
{
        if (!e || !e->ok)
                return;
        const char *norm[METRICS_MAX_LABELS];
        char cut[METRICS_MAX_LABELS][METRICS_MAX_VALUE_LEN + 1];
        norm_values(e->f, values, norm, cut);
        e->ok = put_sample(e->out, e->f, "", norm, NULL, NULL, v);
}

static const char *type_name(enum metric_type t)
{
        return t == METRIC_COUNTER ? "counter" : t == METRIC_GAUGE ? "gauge" : "histogram";
}

bool metrics_render(struct qbuf *out)
{
        bool ok = true;
        pthread_mutex_lock(&reg_lock);
        for (struct metric_family *f = families; ok && f; f = f->next) {
                if (!f->first && !f->fn)
                        continue; /* nothing recorded yet */
                ok = qbuf_printf(out, "# HELP %s ", f->name) && put_escaped(out, f->help, false) &&
                     qbuf_printf(out, "\n# TYPE %s %s\n", f->name, type_name(f->type));
                if (ok && f->fn) {
                        struct metrics_emitter e = {.f = f, .out = out, .ok = true};
                        f->fn(f->fn_arg, &e);
                        ok = e.ok;
                }
                for (struct metric_series *s = f->first; ok && s; s = s->next) {
                        if (f->type == METRIC_HISTOGRAM) {
                                ok = put_histogram(out, f, s);
                                continue;
                        }
                        double v = (double)atomic_load_explicit(&s->ival, memory_order_relaxed) +
                                   bits_dbl(atomic_load_explicit(&s->dbits, memory_order_relaxed));
                        ok = put_sample(out, f, "", (const char *const *)s->values, NULL, NULL, v);
                }
        }
        pthread_mutex_unlock(&reg_lock);
        return ok;
}

void metrics_shutdown(void)
{
        pthread_mutex_lock(&reg_lock);
        struct metric_family *f = families;
        families = families_last = NULL;
        pthread_mutex_unlock(&reg_lock);
        while (f) {
                struct metric_family *n = f->next;
                family_free(f);
                f = n;
        }
}
