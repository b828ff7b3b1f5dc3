/*
 * testhook.c - the pause points of the test build; see testhook.h. Without
 * -DQUILL_TEST_HOOKS this file compiles to nothing.
 */
#include "testhook.h"

#ifdef QUILL_TEST_HOOKS

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAUSE_ENV "QUILL_TEST_PAUSE"
#define PAUSE_SECONDS_ENV "QUILL_TEST_PAUSE_SECONDS"
#define PAUSE_DEFAULT_SECONDS 60
#define POLL_NS (5 * 1000 * 1000)

/* Does the comma-separated list [list, end) name `point`? */
static bool names_point(const char *list, const char *end, const char *point)
{
        size_t plen = strlen(point);
        while (list < end) {
                const char *comma = memchr(list, ',', (size_t)(end - list));
                const char *stop = comma ? comma : end;
                if ((size_t)(stop - list) == plen && memcmp(list, point, plen) == 0)
                        return true;
                list = stop + 1;
        }
        return false;
}

static long pause_seconds(void)
{
        const char *v = getenv(PAUSE_SECONDS_ENV);
        if (!v || !*v)
                return PAUSE_DEFAULT_SECONDS;
        char *end = NULL;
        long n = strtol(v, &end, 10);
        return (end && !*end && n > 0 && n <= 3600) ? n : PAUSE_DEFAULT_SECONDS;
}

static void fail_loudly(const char *point, const char *path, const char *what)
{
        fprintf(stderr, "quill test build: pause point %s (%s): %s; aborting\n", point, path, what);
        abort();
}

void testhook_pause(const char *point)
{
        const char *spec = getenv(PAUSE_ENV);
        const char *colon = spec ? strchr(spec, ':') : NULL;
        if (!colon || !colon[1] || !names_point(spec, colon, point))
                return;
        char path[PATH_MAX];
        int n = snprintf(path, sizeof path, "%s/%s.%ld.%ld", colon + 1, point, (long)getpid(),
                         (long)gettid());
        if (n < 0 || (size_t)n >= sizeof path)
                fail_loudly(point, colon + 1, "the marker path is too long");
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                fail_loudly(point, path, strerror(errno));
        char line[128];
        int len =
            snprintf(line, sizeof line, "%s %ld %ld\n", point, (long)getpid(), (long)gettid());
        bool written = len > 0 && write(fd, line, (size_t)len) == (ssize_t)len;
        close(fd);
        if (!written)
                fail_loudly(point, path, "cannot write the marker");
        fprintf(stderr, "quill test build: paused at %s until %s is removed\n", point, path);
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        const long limit = pause_seconds();
        for (;;) {
                struct stat st;
                if (stat(path, &st) != 0 && errno == ENOENT)
                        return;
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec - start.tv_sec >= limit)
                        fail_loudly(point, path, "not released in time");
                struct timespec ts = {0, POLL_NS};
                nanosleep(&ts, NULL);
        }
}

#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int testhook_unused;
#endif
