/*
 * testhook.h - pause points for race tests, compiled only into the test
 * build (build/quill-test, made with -DQUILL_TEST_HOOKS in its own object
 * directory). The normal build/quill holds no trace of them: there the
 * macro expands to nothing and testhook.c compiles to an empty object.
 *
 * QUILL_TEST_PAUSE("point") marks a place where a system test may stop the
 * calling thread to set up a race deterministically (e.g. between the two
 * transactions of a reissue). In the test build, when the environment
 * variable QUILL_TEST_PAUSE is "POINT[,POINT...]:DIR" and names this point,
 * the thread creates the marker file DIR/POINT.PID.TID (mode 0600, O_EXCL)
 * and waits until the test removes it. A marker left in place longer than
 * QUILL_TEST_PAUSE_SECONDS (default 60) aborts the process with a message
 * on stderr: a test that forgets to release never hangs. The points are
 * listed in docs/internals/testing.md.
 *
 * Put pause points only where a test needs one, never while a store
 * transaction is open (a paused writer would hold the database lock).
 * Any thread; no state (the environment is read at each call).
 */
#ifndef QUILL_TESTHOOK_H
#define QUILL_TESTHOOK_H

#ifdef QUILL_TEST_HOOKS
void testhook_pause(const char *point);
#define QUILL_TEST_PAUSE(point) testhook_pause(point)
#else
#define QUILL_TEST_PAUSE(point) ((void)0)
#endif

#endif
