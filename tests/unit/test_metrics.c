/*
 * test_metrics.c - the Prometheus registry (src/base/metrics.c): families,
 * series, updates from many threads, and the text exposition parsed back
 * line by line (every line a comment of the two known kinds or a sample
 * `name{label="value",...} number`).
 *
 * The registry is process-wide: each test uses its own metric names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/metrics.h"

/* ---- a parser of the exposition ---- */

struct sample {
        char name[128];
        char labels[512]; /* as written, between the braces, unescaped kept */
        double value;
};

struct parsed {
        struct sample s[512];
        size_t n;
        char help[64][128], type[64][128];
        size_t nhelp, ntype;
};

/* Parses `text`; fails the test on any line that is not well formed. */
static void parse(const char *text, struct parsed *p)
{
        memset(p, 0, sizeof *p);
        const char *line = text;
        while (*line) {
                const char *nl = strchr(line, '\n');
                assert_non_null(nl); /* every line ends with \n */
                size_t len = (size_t)(nl - line);
                char buf[1024];
                assert_true(len < sizeof buf);
                memcpy(buf, line, len);
                buf[len] = 0;
                if (strncmp(buf, "# HELP ", 7) == 0) {
                        assert_true(p->nhelp < 64);
                        sscanf(buf + 7, "%127s", p->help[p->nhelp++]);
                } else if (strncmp(buf, "# TYPE ", 7) == 0) {
                        char name[128], type[32];
                        assert_int_equal(sscanf(buf + 7, "%127s %31s", name, type), 2);
                        assert_true(!strcmp(type, "counter") || !strcmp(type, "gauge") ||
                                    !strcmp(type, "histogram"));
                        assert_true(p->ntype < 64);
                        snprintf(p->type[p->ntype++], 128, "%s", name);
                } else {
                        assert_true(p->n < 512);
                        struct sample *s = &p->s[p->n++];
                        size_t i = 0;
                        while (buf[i] && buf[i] != '{' && buf[i] != ' ')
                                i++;
                        assert_true(i > 0 && i < sizeof s->name);
                        memcpy(s->name, buf, i);
                        s->name[i] = 0;
                        if (buf[i] == '{') {
                                /* the closing brace is the first '}' outside quotes */
                                size_t j = i + 1;
                                bool q = false;
                                for (; buf[j] && (q || buf[j] != '}'); j++) {
                                        if (buf[j] == '\\' && q) {
                                                j++;
                                                continue;
                                        }
                                        if (buf[j] == '"')
                                                q = !q;
                                }
                                assert_int_equal(buf[j], '}');
                                memcpy(s->labels, buf + i + 1, j - i - 1);
                                s->labels[j - i - 1] = 0;
                                i = j + 1;
                        }
                        assert_int_equal(buf[i], ' ');
                        char *end;
                        const char *num = buf + i + 1;
                        if (!strcmp(num, "+Inf"))
                                s->value = INFINITY;
                        else if (!strcmp(num, "NaN"))
                                s->value = NAN;
                        else {
                                s->value = strtod(num, &end);
                                assert_true(end != num && *end == 0);
                        }
                }
                line = nl + 1;
        }
}

static const struct sample *find(const struct parsed *p, const char *name, const char *labels)
{
        for (size_t i = 0; i < p->n; i++)
                if (!strcmp(p->s[i].name, name) && !strcmp(p->s[i].labels, labels))
                        return &p->s[i];
        return NULL;
}

static double value_of(const char *name, const char *labels)
{
        struct qbuf out;
        qbuf_init(&out, 1 << 20);
        assert_true(metrics_render(&out));
        static struct parsed p;
        parse(qbuf_str(&out), &p);
        qbuf_free(&out);
        const struct sample *s = find(&p, name, labels);
        if (!s)
                fail_msg("no sample %s{%s}", name, labels);
        return s->value;
}

/* ---- tests ---- */

static void test_counter_and_labels(void **st)
{
        (void)st;
        static const char *const labels[] = {"route", "status", NULL};
        struct metric_family *f =
            metrics_family(METRIC_COUNTER, "t_requests_total", "Requests.", labels, NULL, 0);
        assert_non_null(f);
        /* registering again with the same shape gives the same family */
        assert_ptr_equal(metrics_family(METRIC_COUNTER, "t_requests_total", "x", labels, NULL, 0),
                         f);
        const char *v1[] = {"/a", "200"}, *v2[] = {"/a", "404"};
        struct metric_series *a = metrics_series(f, v1), *b = metrics_series(f, v2);
        assert_non_null(a);
        assert_non_null(b);
        assert_ptr_equal(metrics_series(f, v1), a);
        metrics_inc(a);
        metrics_inc(a);
        metrics_add(a, 0.5);
        metrics_add(a, -3); /* counters never go down */
        metrics_inc(b);
        assert_true(value_of("t_requests_total", "route=\"/a\",status=\"200\"") == 2.5);
        assert_true(value_of("t_requests_total", "route=\"/a\",status=\"404\"") == 1);
}

static void test_escaping(void **st)
{
        (void)st;
        static const char *const labels[] = {"v", NULL};
        struct metric_family *f =
            metrics_family(METRIC_GAUGE, "t_escape", "Help with \\ and\nnewline.", labels, NULL, 0);
        const char *v[] = {"a\"b\\c\nd"};
        metrics_set(metrics_series(f, v), -1.25);
        assert_true(value_of("t_escape", "v=\"a\\\"b\\\\c\\nd\"") == -1.25);
        struct qbuf out;
        qbuf_init(&out, 1 << 20);
        assert_true(metrics_render(&out));
        assert_non_null(strstr(qbuf_str(&out), "# HELP t_escape Help with \\\\ and\\nnewline.\n"));
        assert_non_null(strstr(qbuf_str(&out), "# TYPE t_escape gauge\n"));
        qbuf_free(&out);
}

static void test_gauge(void **st)
{
        (void)st;
        struct metric_family *f = metrics_family(METRIC_GAUGE, "t_depth", "Depth.", NULL, NULL, 0);
        struct metric_series *s = metrics_series(f, NULL);
        metrics_set(s, 7);
        metrics_add(s, -2);
        assert_true(value_of("t_depth", "") == 5);
        metrics_set(s, 0.125);
        assert_true(value_of("t_depth", "") == 0.125);
        metrics_gauge_set("t_named_gauge", "A gauge by name.", 42, "queue", "validate", NULL);
        metrics_gauge_set("t_named_gauge", "A gauge by name.", 43, "queue", "validate", NULL);
        assert_true(value_of("t_named_gauge", "queue=\"validate\"") == 43);
}

static void test_histogram(void **st)
{
        (void)st;
        static const double b[] = {0.1, 1, 10};
        static const char *const labels[] = {"op", NULL};
        struct metric_family *f =
            metrics_family(METRIC_HISTOGRAM, "t_latency_seconds", "Latency.", labels, b, 3);
        assert_non_null(f);
        const char *v[] = {"sign"};
        struct metric_series *s = metrics_series(f, v);
        double obs[] = {0.05, 0.1, 0.5, 2, 20, 30};
        for (size_t i = 0; i < 6; i++)
                metrics_observe(s, obs[i]);
        metrics_observe(s, NAN); /* ignored */
        assert_true(value_of("t_latency_seconds_bucket", "op=\"sign\",le=\"0.1\"") == 2);
        assert_true(value_of("t_latency_seconds_bucket", "op=\"sign\",le=\"1\"") == 3);
        assert_true(value_of("t_latency_seconds_bucket", "op=\"sign\",le=\"10\"") == 4);
        assert_true(value_of("t_latency_seconds_bucket", "op=\"sign\",le=\"+Inf\"") == 6);
        assert_true(value_of("t_latency_seconds_count", "op=\"sign\"") == 6);
        assert_true(fabs(value_of("t_latency_seconds_sum", "op=\"sign\"") - 52.65) < 1e-9);
        /* default buckets */
        struct metric_family *d =
            metrics_family(METRIC_HISTOGRAM, "t_default_seconds", "D.", NULL, NULL, 0);
        metrics_observe(metrics_series(d, NULL), 0.003);
        assert_true(value_of("t_default_seconds_bucket", "le=\"0.005\"") == 1);
        assert_true(value_of("t_default_seconds_bucket", "le=\"0.0025\"") == 0);
        /* bad buckets, "le" as a label */
        static const double bad[] = {1, 0.5};
        assert_null(metrics_family(METRIC_HISTOGRAM, "t_bad_buckets", "x", NULL, bad, 2));
        static const char *const le[] = {"le", NULL};
        assert_null(metrics_family(METRIC_HISTOGRAM, "t_bad_le", "x", le, NULL, 0));
}

static void test_refusals(void **st)
{
        (void)st;
        static const char *const l1[] = {"a", NULL}, *const l2[] = {"b", NULL};
        static const char *const bad_label[] = {"__x", NULL}, *const bad_label2[] = {"1x", NULL};
        assert_non_null(metrics_family(METRIC_COUNTER, "t_shape", "x", l1, NULL, 0));
        assert_null(metrics_family(METRIC_GAUGE, "t_shape", "x", l1, NULL, 0));
        assert_null(metrics_family(METRIC_COUNTER, "t_shape", "x", l2, NULL, 0));
        assert_null(metrics_family(METRIC_COUNTER, "t_shape", "x", NULL, NULL, 0));
        assert_null(metrics_family(METRIC_COUNTER, "9starts_with_digit", "x", NULL, NULL, 0));
        assert_null(metrics_family(METRIC_COUNTER, "has space", "x", NULL, NULL, 0));
        assert_null(metrics_family(METRIC_COUNTER, "", "x", NULL, NULL, 0));
        assert_null(metrics_family(METRIC_COUNTER, "t_bad_label", "x", bad_label, NULL, 0));
        assert_null(metrics_family(METRIC_COUNTER, "t_bad_label2", "x", bad_label2, NULL, 0));
        /* NULL handles are no-ops */
        assert_null(metrics_series(NULL, NULL));
        metrics_inc(NULL);
        metrics_add(NULL, 1);
        metrics_set(NULL, 1);
        metrics_observe(NULL, 1);
        /* a counter cannot be set, a histogram cannot be added to */
        struct metric_series *c =
            metrics_series(metrics_family(METRIC_COUNTER, "t_noset", "x", NULL, NULL, 0), NULL);
        metrics_inc(c);
        metrics_set(c, 100);
        assert_true(value_of("t_noset", "") == 1);
        /* a long label value is cut, not refused */
        char longv[METRICS_MAX_VALUE_LEN + 50];
        memset(longv, 'v', sizeof longv - 1);
        longv[sizeof longv - 1] = 0;
        metrics_count("t_long_value_total", "x", 1, "a", longv, NULL);
        char want[METRICS_MAX_VALUE_LEN + 8];
        snprintf(want, sizeof want, "a=\"%.*s\"", METRICS_MAX_VALUE_LEN, longv);
        assert_true(value_of("t_long_value_total", want) == 1);
}

static void test_count_by_name(void **st)
{
        (void)st;
        metrics_count("t_issued_total", "Issued.", 1, "profile", "private", "outcome", "ok", NULL);
        metrics_count("t_issued_total", "Issued.", 2, "profile", "private", "outcome", "ok", NULL);
        metrics_count("t_issued_total", "Issued.", 1, "profile", "dv", "outcome", "failed", NULL);
        /* other label names: refused, the family keeps its shape */
        metrics_count("t_issued_total", "Issued.", 1, "kind", "x", NULL);
        assert_true(value_of("t_issued_total", "profile=\"private\",outcome=\"ok\"") == 3);
        assert_true(value_of("t_issued_total", "profile=\"dv\",outcome=\"failed\"") == 1);
        metrics_count("t_plain_total", "Plain.", 1, NULL);
        assert_true(value_of("t_plain_total", "") == 1);
}

static void collect(void *arg, struct metrics_emitter *e)
{
        const int *base = arg;
        const char *a[] = {"validate"}, *b[] = {"issue"};
        metrics_emit(e, *base, a);
        metrics_emit(e, *base + 1, b);
}

static void test_gauge_fn(void **st)
{
        (void)st;
        static int depth = 10;
        static const char *const labels[] = {"kind", NULL};
        assert_non_null(
            metrics_gauge_fn("t_queue_depth", "Jobs waiting.", labels, collect, &depth));
        assert_true(value_of("t_queue_depth", "kind=\"validate\"") == 10);
        depth = 20;
        assert_true(value_of("t_queue_depth", "kind=\"issue\"") == 21);
        /* no series of its own */
        assert_null(metrics_series(
            metrics_family(METRIC_GAUGE, "t_queue_depth", "x", labels, NULL, 0), NULL));
        /* detached: the family renders its header only */
        assert_non_null(metrics_gauge_fn("t_queue_depth", "Jobs waiting.", labels, NULL, NULL));
        struct qbuf out;
        qbuf_init(&out, 1 << 20);
        assert_true(metrics_render(&out));
        assert_null(strstr(qbuf_str(&out), "t_queue_depth{"));
        qbuf_free(&out);
}

struct hammer {
        struct metric_series *s;
        struct metric_series *h;
};

static void *hammer_main(void *arg)
{
        struct hammer *h = arg;
        for (int i = 0; i < 100000; i++) {
                metrics_inc(h->s);
                metrics_observe(h->h, 0.001);
        }
        return NULL;
}

static void test_threads(void **st)
{
        (void)st;
        struct hammer h = {
            .s = metrics_series(
                metrics_family(METRIC_COUNTER, "t_threads_total", "x", NULL, NULL, 0), NULL),
            .h = metrics_series(
                metrics_family(METRIC_HISTOGRAM, "t_threads_seconds", "x", NULL, NULL, 0), NULL),
        };
        pthread_t t[4];
        for (int i = 0; i < 4; i++)
                assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &h), 0);
        for (int i = 0; i < 4; i++)
                pthread_join(t[i], NULL);
        assert_true(value_of("t_threads_total", "") == 400000);
        assert_true(value_of("t_threads_seconds_count", "") == 400000);
        assert_true(fabs(value_of("t_threads_seconds_sum", "") - 400.0) < 1e-6);
}

static void test_render_shape_and_limits(void **st)
{
        (void)st;
        struct qbuf out;
        qbuf_init(&out, 1 << 20);
        assert_true(metrics_render(&out));
        struct parsed *p = calloc(1, sizeof *p);
        assert_non_null(p);
        parse(qbuf_str(&out), p);
        /* every family has one HELP and one TYPE; every sample belongs to one */
        assert_int_equal(p->nhelp, p->ntype);
        for (size_t i = 0; i < p->n; i++) {
                bool known = false;
                for (size_t k = 0; k < p->ntype && !known; k++)
                        known = strncmp(p->s[i].name, p->type[k], strlen(p->type[k])) == 0;
                assert_true(known);
        }
        free(p);
        /* a buffer too small: false, and what fitted is whole lines only up to it */
        struct qbuf small;
        qbuf_init(&small, 64);
        assert_false(metrics_render(&small));
        qbuf_free(&small);
        qbuf_free(&out);
}

int main(void)
{
        qlog_set_level(QLOG_OFF);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_counter_and_labels),
            cmocka_unit_test(test_escaping),
            cmocka_unit_test(test_gauge),
            cmocka_unit_test(test_histogram),
            cmocka_unit_test(test_refusals),
            cmocka_unit_test(test_count_by_name),
            cmocka_unit_test(test_gauge_fn),
            cmocka_unit_test(test_threads),
            cmocka_unit_test(test_render_shape_and_limits),
        };
        int rc = cmocka_run_group_tests(tests, NULL, NULL);
        metrics_shutdown();
        return rc;
}
