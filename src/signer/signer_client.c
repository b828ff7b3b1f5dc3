/*
 * signer_client.c - forking the signer and talking to it; see signer.h.
 */
#include "signer.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/log.h"

struct signer {
        int fd;
        pid_t pid;
        pthread_mutex_t mu;
};

/* The child: serve frames until the parent closes the channel. */
static void child_main(int fd, const char *data_dir, const struct qconfig *cfg)
{
        prctl(PR_SET_DUMPABLE, 0); /* no core dumps or ptrace of key memory */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        signal(SIGINT, SIG_IGN); /* the parent decides when we stop */
        signal(SIGPIPE, SIG_IGN);
        struct signer_state *st = signer_state_new(data_dir, cfg);
        struct qbuf in, out;
        qbuf_init(&in, MAX_SIGNER_MSG_BYTES);
        qbuf_init(&out, MAX_SIGNER_MSG_BYTES + 8);
        int status = st ? 0 : 1;
        while (st) {
                struct qerr_info ei;
                enum qerr rc = signer_read_frame(fd, &in, &ei);
                if (rc == QERR_SIGNER_UNAVAILABLE)
                        break; /* parent closed: normal end */
                if (rc != QERR_OK) {
                        qlog_error("signer: bad frame, closing", "code=%s", qerr_code(rc));
                        status = 1;
                        break;
                }
                qbuf_reset(&out);
                signer_handle(st, in.data, in.len, &out);
                if (signer_write_frame(fd, &out, &ei) != QERR_OK)
                        break;
        }
        qbuf_free(&in);
        qbuf_free(&out);
        signer_state_free(st);
        close(fd);
        _exit(status);
}

enum qerr signer_start(const char *data_dir, const struct qconfig *cfg, struct signer **out,
                       struct qerr_info *ei)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE, "socketpair: %s", strerror(errno));
        struct signer *s = calloc(1, sizeof *s);
        if (!s) {
                close(sv[0]);
                close(sv[1]);
                return qerr_set(ei, QERR_NOMEM, NULL);
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                close(sv[0]);
                close(sv[1]);
                free(s);
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE, "fork: %s", strerror(errno));
        }
        if (pid == 0) {
                close(sv[0]);
                child_main(sv[1], data_dir, cfg);
        }
        close(sv[1]);
        s->fd = sv[0];
        s->pid = pid;
        pthread_mutex_init(&s->mu, NULL);
        *out = s;
        return QERR_OK;
}

enum qerr signer_call(struct signer *s, const struct signer_req *req, struct qbuf *frame,
                      struct signer_resp *resp, struct qerr_info *ei)
{
        struct qbuf msg;
        qbuf_init(&msg, MAX_SIGNER_MSG_BYTES + 8);
        if (!signer_encode_req(req, &msg)) {
                qbuf_free(&msg);
                return qerr_set(ei, QERR_POLICY_DENIED,
                                "the request is too large for the signer (too many names or "
                                "entries)");
        }
        pthread_mutex_lock(&s->mu);
        enum qerr rc = signer_write_frame(s->fd, &msg, ei);
        if (rc == QERR_OK)
                rc = signer_read_frame(s->fd, frame, ei);
        pthread_mutex_unlock(&s->mu);
        qbuf_free(&msg);
        if (rc != QERR_OK)
                return rc;
        rc = signer_decode_resp(frame->data, frame->len, resp, ei);
        if (rc != QERR_OK)
                return rc;
        if (resp->type == SMSG_ERROR) {
                char m[QERR_MSG_MAX];
                if (!sbytes_cstr(resp->message, m, sizeof m))
                        m[0] = 0;
                return qerr_set(ei, (enum qerr)resp->code, "%s", m);
        }
        return QERR_OK;
}

void signer_stop(struct signer *s)
{
        if (!s)
                return;
        close(s->fd);
        int st;
        while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
                ;
        pthread_mutex_destroy(&s->mu);
        free(s);
}
