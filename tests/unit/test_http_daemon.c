/*
 * test_http_daemon.c - the server as a daemon part (src/http/): per-thread
 * contexts (thread_init once per worker thread, thread_fini for each at
 * stop), a pool of threads serving concurrent requests, silent and
 * dribbling (slowloris) clients that do not hold a worker while others are
 * served, the idle timeout, and the graceful stop: a request in flight
 * finishes, new connections are not accepted.
 *
 * Each test starts its own server on 127.0.0.1 port 0 and stops it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "base/log.h"
#include "base/metrics.h"
#include "http/http.h"
#include "http_test_client.h"

static atomic_int inits, finis;
static atomic_int slow_started;

struct tctx {
        int id;
        pthread_t thread;
};

static void *t_init(void *user)
{
        int *fail_first = user;
        if (fail_first && atomic_exchange((atomic_int *)fail_first, 0))
                return NULL; /* the first call fails: 503, then a retry */
        struct tctx *c = calloc(1, sizeof *c);
        c->id = atomic_fetch_add(&inits, 1) + 1;
        c->thread = pthread_self();
        return c;
}

static void t_fini(void *ctx)
{
        atomic_fetch_add(&finis, 1);
        free(ctx);
}

static void h_ctx(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        struct tctx *c = req->thread_ctx;
        resp->content_type = "text/plain";
        /* the context belongs to the thread running the handler */
        qbuf_printf(&resp->body, "%d %d", c ? c->id : -1,
                    c ? pthread_equal(c->thread, pthread_self()) != 0 : 0);
}

static void h_slow(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        (void)req;
        atomic_fetch_add(&slow_started, 1);
        struct timespec ts = {1, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
        resp->content_type = "text/plain";
        qbuf_append_str(&resp->body, "slow done");
}

static void h_fast(void *user, const struct http_request *req, struct http_response *resp)
{
        (void)user;
        (void)req;
        resp->content_type = "text/plain";
        qbuf_append_str(&resp->body, "fast");
}

static const struct http_route routes[] = {
    {.method = "GET", .pattern = "/ctx", .fn = h_ctx},
    {.method = "GET", .pattern = "/slow", .fn = h_slow},
    {.method = "GET", .pattern = "/fast", .fn = h_fast},
};

static struct http_server *start(int threads, unsigned timeout_s, void *user)
{
        struct http_listener_opts o = {
            .listen = "127.0.0.1:0",
            .routes = routes,
            .nroutes = sizeof routes / sizeof routes[0],
            .user = user,
            .threads = threads,
            .thread_init = t_init,
            .thread_fini = t_fini,
            .timeout_s = timeout_s,
            .name = "daemon",
        };
        struct http_server *s = NULL;
        struct qerr_info ei;
        qerr_clear(&ei);
        if (http_server_start(&o, &s, &ei) != QERR_OK)
                fail_msg("start: %s", qerr_message(&ei));
        return s;
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- thread contexts and the pool ---- */

struct client_arg {
        int port;
        int id;   /* context id seen */
        int same; /* it was the running thread's */
        int status;
};

static void *client_main(void *arg)
{
        struct client_arg *a = arg;
        struct reply r;
        request_on(a->port, "GET", "/ctx", &r);
        a->status = r.status;
        if (r.body)
                sscanf(r.body, "%d %d", &a->id, &a->same);
        reply_free(&r);
        return NULL;
}

static void test_thread_contexts(void **st)
{
        (void)st;
        atomic_store(&inits, 0);
        atomic_store(&finis, 0);
        const int threads = 4;
        struct http_server *s = start(threads, 0, NULL);
        int port = http_server_port(s);
        enum { N = 48 };
        pthread_t t[N];
        struct client_arg a[N];
        for (int i = 0; i < N; i++) {
                a[i] = (struct client_arg){.port = port};
                assert_int_equal(pthread_create(&t[i], NULL, client_main, &a[i]), 0);
        }
        for (int i = 0; i < N; i++)
                pthread_join(t[i], NULL);
        for (int i = 0; i < N; i++) {
                assert_int_equal(a[i].status, 200);
                assert_true(a[i].id >= 1 && a[i].id <= threads);
                assert_int_equal(a[i].same, 1);
        }
        /* at most one context per worker thread, made on first use */
        int made = atomic_load(&inits);
        assert_true(made >= 1 && made <= threads);
        assert_int_equal(atomic_load(&finis), 0);
        http_server_stop(s, 1000);
        assert_int_equal(atomic_load(&finis), made); /* each one finished at stop */
}

static void test_thread_init_failure_is_503(void **st)
{
        (void)st;
        atomic_int fail_first = 1;
        struct http_server *s = start(1, 0, &fail_first);
        int port = http_server_port(s);
        struct reply r;
        request_on(port, "GET", "/ctx", &r);
        assert_int_equal(r.status, 503);
        assert_non_null(strstr(r.body, "\"server_unavailable\""));
        reply_free(&r);
        request_on(port, "GET", "/ctx", &r); /* the next request tries again */
        assert_int_equal(r.status, 200);
        reply_free(&r);
        http_server_stop(s, 1000);
}

/* ---- slow and silent clients ---- */

struct dribble {
        int fd;
        atomic_bool stop;
};

/* Sends a request one byte every 100 ms, never finishing its headers. */
static void *dribble_main(void *arg)
{
        struct dribble *d = arg;
        const char text[] = "GET /fast HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaa"
                            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        for (size_t i = 0; i < sizeof text - 1 && !atomic_load(&d->stop); i++) {
                if (send(d->fd, text + i, 1, MSG_NOSIGNAL) != 1)
                        break;
                usleep(100 * 1000);
        }
        return NULL;
}

static void test_slow_clients_do_not_block(void **st)
{
        (void)st;
        /* 2 threads, 6 silent connections and 2 dribbling ones: more than
         * the threads; normal requests are still answered meanwhile */
        struct http_server *s = start(2, 30, NULL);
        int port = http_server_port(s);
        int silent[6];
        for (int i = 0; i < 6; i++)
                silent[i] = connect_to(port, 10);
        struct dribble d[2];
        pthread_t dt[2];
        for (int i = 0; i < 2; i++) {
                d[i].fd = connect_to(port, 10);
                atomic_init(&d[i].stop, false);
                assert_int_equal(pthread_create(&dt[i], NULL, dribble_main, &d[i]), 0);
        }
        usleep(300 * 1000);
        for (int i = 0; i < 10; i++) {
                struct reply r;
                request_on(port, "GET", "/fast", &r); /* 10 s socket timeout: never hit */
                assert_int_equal(r.status, 200);
                assert_string_equal(r.body, "fast");
                reply_free(&r);
        }
        /* the silent ones are still open: nothing was answered or closed */
        for (int i = 0; i < 6; i++) {
                struct pollfd p = {.fd = silent[i], .events = POLLIN};
                assert_int_equal(poll(&p, 1, 0), 0);
                close(silent[i]);
        }
        for (int i = 0; i < 2; i++) {
                atomic_store(&d[i].stop, true);
                pthread_join(dt[i], NULL);
                close(d[i].fd);
        }
        http_server_stop(s, 1000);
}

static void test_idle_timeout_closes(void **st)
{
        (void)st;
        struct http_server *s = start(1, 1, NULL); /* 1 s */
        int port = http_server_port(s);
        int fd = connect_to(port, 10);
        /* half a request, then silence: the server hangs up */
        send_all(fd, "GET /fast HTTP/1.1\r\n", 20);
        double t0 = now_s();
        char buf[256];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        double took = now_s() - t0;
        assert_true(n <= 0);     /* closed, no answer */
        assert_true(took < 9.0); /* by the server, not by our 10 s timeout */
        close(fd);
        /* an idle keep-alive connection too */
        fd = connect_to(port, 10);
        send_all(fd, "GET /fast HTTP/1.1\r\nHost: t\r\n\r\n", 31);
        struct reply r;
        assert_int_equal(read_one(fd, &r), 0);
        assert_int_equal(r.status, 200);
        reply_free(&r);
        n = recv(fd, buf, sizeof buf, 0);
        assert_true(n <= 0);
        close(fd);
        http_server_stop(s, 1000);
}

/* ---- graceful stop ---- */

struct slow_client {
        int port;
        struct reply r;
        int rc;
};

static void *slow_client_main(void *arg)
{
        struct slow_client *c = arg;
        const char req[] = "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n";
        c->rc = exchange_on(c->port, req, sizeof req - 1, &c->r);
        return NULL;
}

static void test_graceful_stop_finishes_in_flight(void **st)
{
        (void)st;
        atomic_store(&slow_started, 0);
        struct http_server *s = start(2, 30, NULL);
        struct slow_client c = {.port = http_server_port(s)};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, slow_client_main, &c), 0);
        for (int i = 0; i < 500 && atomic_load(&slow_started) == 0; i++)
                usleep(10 * 1000);
        assert_int_equal(atomic_load(&slow_started), 1);
        assert_int_equal(http_server_inflight(s), 1);
        double t0 = now_s();
        http_server_quiesce(s);
        /* no new connection is served any more */
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c.port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        struct timeval tv = {.tv_sec = 0, .tv_usec = 300 * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
                send_all(fd, "GET /fast HTTP/1.1\r\nHost: t\r\n\r\n", 31);
                char buf[64];
                assert_true(recv(fd, buf, sizeof buf, 0) <= 0); /* queued at most, not answered */
        }
        close(fd);
        http_server_stop(s, 5000);
        double took = now_s() - t0;
        pthread_join(t, NULL);
        /* the request in flight got its whole answer, told to close */
        assert_int_equal(c.rc, 0);
        assert_int_equal(c.r.status, 200);
        assert_string_equal(c.r.body, "slow done");
        char v[16];
        assert_true(header(&c.r, "Connection", v, sizeof v));
        assert_string_equal(v, "close");
        reply_free(&c.r);
        assert_true(took < 5.0); /* it did not wait for the whole grace */
}

static void test_stop_with_nothing_in_flight(void **st)
{
        (void)st;
        struct http_server *s = start(3, 30, NULL);
        int port = http_server_port(s);
        int idle = connect_to(port, 10); /* an idle keep-alive connection does not delay it */
        double t0 = now_s();
        http_server_stop(s, 5000);
        assert_true(now_s() - t0 < 2.0);
        char buf[8];
        assert_true(recv(idle, buf, sizeof buf, 0) <= 0);
        close(idle);
        http_server_stop(NULL, 0); /* no-op */
}

int main(void)
{
        qlog_set_level(QLOG_OFF);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_thread_contexts),
            cmocka_unit_test(test_thread_init_failure_is_503),
            cmocka_unit_test(test_slow_clients_do_not_block),
            cmocka_unit_test(test_idle_timeout_closes),
            cmocka_unit_test(test_graceful_stop_finishes_in_flight),
            cmocka_unit_test(test_stop_with_nothing_in_flight),
        };
        int rc = cmocka_run_group_tests(tests, NULL, NULL);
        metrics_shutdown();
        return rc;
}
