/*
 * signer_client.c - starting the signer (fork and exec of the quill binary
 * itself), talking to it, starting it again when it died, stopping it; see
 * signer.h.
 *
 * Between fork and exec the child calls only async-signal-safe functions
 * (raw system calls: dup2, setgroups/setresgid/setresuid, prctl,
 * sigprocmask, close_range, execveat), because a restart may happen on a
 * worker thread of `quill serve`: the argument and environment arrays, the
 * /dev/null descriptor and the descriptor of our own executable are made
 * before the fork.
 *
 * Restarts: a dead signer is noticed before a request is sent (waitpid
 * WNOHANG) or when its socket closes mid-request (that request fails with
 * signer_unavailable). A new one is started at once the first time, then
 * after 1, 2, 4 ... 30 s while it keeps dying within a minute, and never
 * more than SIGNER_MAX_RESTARTS times in 60 s. Every death and start is
 * logged.
 */
#include "signer.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/metrics.h"
#include "signer_secret.h"

#define INIT_TIMEOUT_MS 30000
#define RESTART_WINDOW 60 /* seconds */
#define BACKOFF_MAX 30

#define MAX_TEST_ENV 8

struct signer {
        int fd;    /* -1 while down */
        pid_t pid; /* 0 while down */
        pthread_mutex_t mu;
        int exe_fd, null_fd;          /* made once, before any fork */
        char *envp[MAX_TEST_ENV + 1]; /* normally empty; see test_clock_env */
        /* what a (re)start needs */
        char data_dir[PATH_MAX];
        long private_max_days, public_max_days;
        bool allow_private;       /* [validation] allow_private_addresses (tests only) */
        struct ca_secret *secret; /* NULL: cannot start again */
        bool switch_user;
        uid_t uid;
        gid_t gid;
        /* restart bookkeeping (monotonic seconds) */
        long long started_at, next_try, starts[SIGNER_MAX_RESTARTS];
        int nstarts, quick_deaths;
};

static long long mono_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec;
}

/* ---- the child, between fork and exec: async-signal-safe only ---- */

static void child_exec(const struct signer *s, int sock, pid_t parent, char *const argv[],
                       char *const envp[])
{
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL); /* serve blocks SIGTERM in its threads */
        if (dup2(s->null_fd, 0) < 0 || dup2(s->null_fd, 1) < 0)
                _exit(127);
        /* the socket becomes fd 3, without FD_CLOEXEC */
        if (sock == SIGNER_FD) {
                if (fcntl(sock, F_SETFD, 0) < 0)
                        _exit(127);
        } else if (dup2(sock, SIGNER_FD) < 0) {
                _exit(127);
        }
        if (s->switch_user) {
                gid_t g = s->gid;
                if (syscall(SYS_setgroups, 1, &g) != 0 ||
                    syscall(SYS_setresgid, s->gid, s->gid, s->gid) != 0 ||
                    syscall(SYS_setresuid, s->uid, s->uid, s->uid) != 0)
                        _exit(126);
        }
        /* after the user change, which would clear it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
                _exit(0);
        /* nothing but 0-3 crosses the exec (the exe descriptor, above
         * them, is close-on-exec) */
        if (syscall(SYS_close_range, SIGNER_FD + 1, (unsigned)s->exe_fd - 1, 0) != 0 ||
            syscall(SYS_close_range, (unsigned)s->exe_fd + 1, ~0U, 0) != 0) {
                for (int fd = SIGNER_FD + 1; fd < 4096; fd++)
                        if (fd != s->exe_fd)
                                close(fd);
        }
        syscall(SYS_execveat, s->exe_fd, "", argv, envp, AT_EMPTY_PATH);
        _exit(127);
}

/* ---- the parent ---- */

static void describe_status(int st, char *out, size_t sz)
{
        if (WIFSIGNALED(st))
                snprintf(out, sz, "killed by signal %d", WTERMSIG(st));
        else if (WIFEXITED(st))
                snprintf(out, sz, "exited with status %d", WEXITSTATUS(st));
        else
                snprintf(out, sz, "stopped");
}

/* How long to wait before the next start, after `d` deaths in a row of
 * signers that did not live a minute: 0 (the first), 1, 2, 4 ... 30 s. */
static int backoff_for(int d)
{
        if (d <= 0)
                return 0;
        return d > 5 ? BACKOFF_MAX : (1 << (d - 1)) > BACKOFF_MAX ? BACKOFF_MAX : 1 << (d - 1);
}

/* Marks the signer down after it died (status `st`, reaped). */
static void note_death(struct signer *s, int st, char *why, size_t whysz)
{
        describe_status(st, why, whysz);
        qlog_error("signer died", "pid=%d status=\"%s\"", (int)s->pid, why);
        if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
        s->pid = 0;
        long long now = mono_now();
        /* one that lived a minute starts again at once; one that keeps
         * dying waits longer each time */
        if (now - s->started_at >= RESTART_WINDOW)
                s->quick_deaths = 0;
        s->next_try = now + backoff_for(s->quick_deaths++);
}

/* Blocks until the (dying) signer is reaped. */
static void reap(struct signer *s, char *why, size_t whysz)
{
        int st = 0;
        pid_t r;
        while ((r = waitpid(s->pid, &st, 0)) < 0 && errno == EINTR)
                ;
        if (r == s->pid)
                note_death(s, st, why, whysz);
        else {
                snprintf(why, whysz, "lost");
                if (s->fd >= 0)
                        close(s->fd);
                s->fd = -1;
                s->pid = 0;
        }
}

/* Sends INIT and waits for its answer. */
static enum qerr send_init(struct signer *s, struct qerr_info *ei)
{
        struct signer_req r = {.type = SMSG_INIT};
        r.data_dir = sbytes_str(s->data_dir);
        r.private_max_days = s->private_max_days;
        r.public_max_days = s->public_max_days;
        r.allow_private = s->allow_private ? 1 : 0;
        r.log_level = (int64_t)qlog_get_level();
        size_t plen = 0;
        const char *pass = ca_secret_reveal(s->secret, &plen);
        r.passphrase.p = (const uint8_t *)pass;
        r.passphrase.len = plen;
        r.note = sbytes_str(ca_secret_note(s->secret));
        struct qbuf msg;
        qbuf_init(&msg, MAX_SIGNER_MSG_BYTES + 8);
        bool ok = signer_encode_req(&r, &msg);
        ca_secret_conceal(s->secret);
        enum qerr rc = ok ? signer_write_frame(s->fd, &msg, ei)
                          : qerr_set(ei, QERR_INTERNAL, "the signer's INIT does not encode");
        qbuf_free(&msg); /* wipes */
        if (rc != QERR_OK)
                return rc;
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        int n;
        while ((n = poll(&p, 1, INIT_TIMEOUT_MS)) < 0 && errno == EINTR)
                ;
        if (n == 0)
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE,
                                "the signer did not answer within %d s of its start",
                                INIT_TIMEOUT_MS / 1000);
        struct qbuf frame;
        qbuf_init(&frame, MAX_SIGNER_MSG_BYTES);
        struct signer_resp resp;
        rc = signer_read_frame(s->fd, &frame, ei);
        if (rc == QERR_OK)
                rc = signer_decode_resp(frame.data, frame.len, &resp, ei);
        if (rc == QERR_OK && resp.type == SMSG_ERROR) {
                char m[QERR_MSG_MAX];
                if (!sbytes_cstr(resp.message, m, sizeof m))
                        m[0] = 0;
                rc = qerr_set(ei, (enum qerr)resp.code, "%s", m);
        }
        qbuf_free(&frame);
        return rc;
}

/* The signer's environment is empty, with one exception for tests that
 * move the clock with Debian's libfaketime (LD_PRELOAD + FAKETIME*): when
 * the main process runs under it, so does the signer, or the two would
 * disagree about "now". LD_PRELOAD is passed on only when every library it
 * names is libfaketime. No secret is among these variables, and whoever
 * sets the main process's environment at start already controls both
 * processes. */
static void test_clock_env(struct signer *s)
{
        extern char **environ;
        size_t n = 0;
        for (char **e = environ; e && *e && n < MAX_TEST_ENV; e++) {
                bool take = strncmp(*e, "FAKETIME=", 9) == 0 || strncmp(*e, "FAKETIME_", 9) == 0;
                if (strncmp(*e, "LD_PRELOAD=", 11) == 0) {
                        char list[1024];
                        snprintf(list, sizeof list, "%s", *e + 11);
                        take = list[0] != 0;
                        char *save = NULL;
                        for (char *lib = strtok_r(list, ": ", &save); lib;
                             lib = strtok_r(NULL, ": ", &save))
                                if (!strstr(lib, "/libfaketime"))
                                        take = false;
                }
                if (take && (s->envp[n] = strdup(*e)) != NULL)
                        n++;
        }
        s->envp[n] = NULL;
        bool preload = false, fake = false;
        for (size_t i = 0; i < n; i++) {
                preload = preload || strncmp(s->envp[i], "LD_PRELOAD=", 11) == 0;
                fake = fake || strncmp(s->envp[i], "FAKETIME", 8) == 0;
        }
        if (!preload || !fake) { /* all or nothing */
                for (size_t i = 0; i < n; i++) {
                        free(s->envp[i]);
                        s->envp[i] = NULL;
                }
        } else {
                qlog_warn("signer runs under libfaketime", "hint=\"tests only\"");
        }
}

/* Starts a signer process; on success s->fd and s->pid are set. */
static enum qerr spawn(struct signer *s, struct qerr_info *ei)
{
        static char *const argv[] = {"quill", "signer", NULL};
        char *const *envp = s->envp;
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE, "socketpair: %s", strerror(errno));
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(sv[0]);
                close(sv[1]);
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE, "fork: %s", strerror(e));
        }
        if (pid == 0)
                child_exec(s, sv[1], parent, argv, envp);
        close(sv[1]);
        s->fd = sv[0];
        s->pid = pid;
        enum qerr rc = send_init(s, ei);
        if (rc != QERR_OK) {
                char why[64];
                close(s->fd);
                s->fd = -1;
                reap(s, why, sizeof why);
                if (rc == QERR_SIGNER_UNAVAILABLE && !ei->msg[0])
                        qerr_set(ei, rc, "the signer process did not start (%s)", why);
                return rc;
        }
        long long now = mono_now();
        s->started_at = now;
        if (s->nstarts == SIGNER_MAX_RESTARTS) {
                memmove(s->starts, s->starts + 1, (SIGNER_MAX_RESTARTS - 1) * sizeof s->starts[0]);
                s->nstarts--;
        }
        s->starts[s->nstarts++] = now;
        qlog_info("signer started", "pid=%d user=%s", (int)pid, s->switch_user ? "signer" : "same");
        return QERR_OK;
}

/* Moves a descriptor above the ones the child arranges (0-3), keeping
 * FD_CLOEXEC. */
static int high_fd(int fd)
{
        if (fd < 0 || fd > SIGNER_FD)
                return fd;
        int h = fcntl(fd, F_DUPFD_CLOEXEC, SIGNER_FD + 1);
        int e = errno;
        close(fd);
        errno = e;
        return h;
}

enum qerr signer_start(const struct signer_launch *l, struct signer **out, struct qerr_info *ei)
{
        struct signer *s = calloc(1, sizeof *s);
        if (!s)
                return qerr_set(ei, QERR_NOMEM, NULL);
        s->fd = -1;
        snprintf(s->data_dir, sizeof s->data_dir, "%s", l->data_dir);
        s->private_max_days = l->cfg->private_max_days;
        s->public_max_days = l->cfg->public_max_days;
        s->allow_private = l->cfg->validation_allow_private_addresses != 0;
        s->secret = l->secret;
        s->switch_user = l->switch_user;
        s->uid = l->uid;
        s->gid = l->gid;
        s->exe_fd = high_fd(open("/proc/self/exe", O_PATH | O_CLOEXEC));
        s->null_fd = high_fd(open("/dev/null", O_RDWR | O_CLOEXEC));
        if (s->exe_fd < 0 || s->null_fd < 0) {
                int e = errno;
                if (s->exe_fd >= 0)
                        close(s->exe_fd);
                if (s->null_fd >= 0)
                        close(s->null_fd);
                free(s);
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE,
                                "cannot open the quill executable (/proc/self/exe) or /dev/null "
                                "to start the signer: %s",
                                strerror(e));
        }
        pthread_mutex_init(&s->mu, NULL);
        test_clock_env(s);
        enum qerr rc = spawn(s, ei);
        if (!l->keep_for_restart)
                s->secret = NULL; /* the caller wipes it: no restarts */
        if (rc != QERR_OK) {
                signer_stop(s);
                return rc;
        }
        *out = s;
        return QERR_OK;
}

/* Under s->mu: makes sure a signer runs, starting one when allowed. */
static enum qerr ensure_running(struct signer *s, struct qerr_info *ei)
{
        char why[64] = "";
        if (s->pid > 0) {
                int st;
                pid_t r = waitpid(s->pid, &st, WNOHANG);
                if (r == 0)
                        return QERR_OK;
                if (r == s->pid)
                        note_death(s, st, why, sizeof why);
                else
                        reap(s, why, sizeof why);
        }
        if (!s->secret)
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE,
                                "the signer process is gone and this process cannot start it "
                                "again (%s); run the command again, or restart quill serve",
                                s->switch_user ? "it runs as another user"
                                               : "it no longer holds the passphrase");
        long long now = mono_now();
        while (s->nstarts && now - s->starts[0] >= RESTART_WINDOW) {
                memmove(s->starts, s->starts + 1, (size_t)(s->nstarts - 1) * sizeof s->starts[0]);
                s->nstarts--;
        }
        long long wait = s->next_try - now;
        if (s->nstarts >= SIGNER_MAX_RESTARTS && s->starts[0] + RESTART_WINDOW - now > wait)
                wait = s->starts[0] + RESTART_WINDOW - now;
        if (wait > 0)
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE,
                                "the signer process died and is started again in %lld s "
                                "(it died %d times within a minute); the work is retried",
                                wait, s->nstarts);
        enum qerr rc = spawn(s, ei);
        if (rc != QERR_OK) {
                int b = backoff_for(++s->quick_deaths);
                s->next_try = mono_now() + b;
                qlog_error("signer restart failed", "code=%s retry_in=%d", qerr_code(rc), b);
        }
        return rc;
}

static enum qerr signer_call_once(struct signer *s, const struct signer_req *req,
                                  struct qbuf *frame, struct signer_resp *resp,
                                  struct qerr_info *ei);

static struct metric_family *fam;

static void register_family(void)
{
        static const char *const labels[] = {"type", "result", NULL};
        fam = metrics_family(METRIC_HISTOGRAM, "quill_signer_request_duration_seconds",
                             "Round trip of one request to the signer process, by message type "
                             "and result.",
                             labels, NULL, 0);
}

/* quill_signer_request_duration_seconds{type}: the round trip of one
 * request (waiting for the channel included), for /metrics. */
static void observe(enum signer_msg type, const struct timespec *t0, enum qerr rc)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, register_family);
        const char *name = type == SMSG_SIGN_CERT        ? "sign_cert"
                           : type == SMSG_CRL_BEGIN      ? "sign_crl"
                           : type == SMSG_CREATE_ROOT    ? "create_root"
                           : type == SMSG_CREATE_ISSUING ? "create_issuing"
                           : type == SMSG_PING           ? "ping"
                                                         : "other";
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
        const char *values[] = {name, rc == QERR_OK ? "ok" : qerr_code(rc)};
        metrics_observe(metrics_series(fam, values), secs);
}

enum qerr signer_call(struct signer *s, const struct signer_req *req, struct qbuf *frame,
                      struct signer_resp *resp, struct qerr_info *ei)
{
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        enum qerr out = signer_call_once(s, req, frame, resp, ei);
        observe(req->type, &t0, out);
        return out;
}

/* Under s->mu, the signer running: one frame out, one in. A signer that
 * dies mid-request is reaped here (the next request starts a new one). */
static enum qerr roundtrip_locked(void *ctx, const struct qbuf *request, struct qbuf *answer,
                                  struct qerr_info *ei)
{
        struct signer *s = ctx;
        enum qerr rc = signer_write_frame(s->fd, request, ei);
        if (rc == QERR_OK)
                rc = signer_read_frame(s->fd, answer, ei);
        if (rc == QERR_SIGNER_UNAVAILABLE) {
                /* it died with the request in its hands: this request fails
                 * (it may or may not have been signed); the next one starts a
                 * new signer */
                char why[64];
                reap(s, why, sizeof why);
                rc = qerr_set(ei, QERR_SIGNER_UNAVAILABLE,
                              "the signer process died while handling this request (%s); it is "
                              "started again and the work can be retried",
                              why);
        }
        return rc;
}

enum qerr signer_sign_crl(struct signer *s, struct signer_req *begin, const uint8_t *entries,
                          size_t entries_len, size_t count, struct qbuf *frame,
                          struct signer_resp *resp, struct qerr_info *ei)
{
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        memset(resp, 0, sizeof *resp);
        /* the whole session under the mutex: no other request in between */
        pthread_mutex_lock(&s->mu);
        enum qerr rc = ensure_running(s, ei);
        if (rc == QERR_OK)
                rc = signer_crl_drive(roundtrip_locked, s, begin, entries, entries_len, count,
                                      frame, resp, ei);
        pthread_mutex_unlock(&s->mu);
        observe(SMSG_CRL_BEGIN, &t0, rc);
        return rc;
}

static enum qerr signer_call_once(struct signer *s, const struct signer_req *req,
                                  struct qbuf *frame, struct signer_resp *resp,
                                  struct qerr_info *ei)
{
        memset(resp, 0, sizeof *resp);
        struct qbuf msg;
        qbuf_init(&msg, MAX_SIGNER_MSG_BYTES + 8);
        if (!signer_encode_req(req, &msg)) {
                qbuf_free(&msg);
                return qerr_set(ei, QERR_POLICY_DENIED,
                                "the request is too large for the signer (too many names or "
                                "entries)");
        }
        pthread_mutex_lock(&s->mu);
        enum qerr rc = ensure_running(s, ei);
        if (rc == QERR_OK)
                rc = roundtrip_locked(s, &msg, frame, ei);
        pthread_mutex_unlock(&s->mu);
        qbuf_free(&msg);
        if (rc != QERR_OK)
                return rc;
        rc = signer_decode_resp(frame->data, frame->len, resp, ei);
        if (rc != QERR_OK)
                return rc;
        return signer_resp_error(resp, ei);
}

bool signer_check(struct signer *s)
{
        if (!s)
                return true;
        struct qerr_info ei;
        pthread_mutex_lock(&s->mu);
        enum qerr rc = ensure_running(s, &ei);
        bool can = rc == QERR_OK || s->secret != NULL;
        pthread_mutex_unlock(&s->mu);
        return can;
}

pid_t signer_pid(struct signer *s)
{
        pthread_mutex_lock(&s->mu);
        pid_t p = s->pid;
        pthread_mutex_unlock(&s->mu);
        return p;
}

void signer_stop(struct signer *s)
{
        if (!s)
                return;
        if (s->fd >= 0)
                close(s->fd); /* the signer reads EOF and exits */
        s->fd = -1;
        if (s->pid > 0) {
                int st;
                while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
                        ;
        }
        close(s->exe_fd);
        close(s->null_fd);
        for (size_t i = 0; s->envp[i]; i++)
                free(s->envp[i]);
        pthread_mutex_destroy(&s->mu);
        free(s);
}
