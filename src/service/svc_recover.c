/*
 * svc_recover.c - finding work that a dead process left half done.
 *
 * A reissue that runs in one go (no validation to wait for) is owned by the
 * process running it: the reissues row records "<boot id>/<pid>/<start
 * time>". If that process dies (SIGKILL, OOM, power loss) the row would stay
 * in_progress and lock the certificate and its registered domain for ever.
 * service_recover() finds rows whose owner is gone (another boot, no such
 * pid, or a pid reused by a younger process) and fails them, putting the
 * certificate back to issued, with events. It runs when `quill serve` starts,
 * at the start of every command that signs, and before every reissue, after
 * the reconciliation of two-phase issuance (svc_reconcile.c): a reissue whose
 * certificate the signer journaled is completed from the journal instead. The data directory must
 * be local (as SQLite requires anyway), so /proc describes every possible owner.
 */
#include "service_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"

static bool read_line(const char *path, char *out, size_t sz)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return false;
        bool ok = fgets(out, (int)sz, f) != NULL;
        fclose(f);
        if (ok)
                out[strcspn(out, "\n")] = 0;
        return ok;
}

/* Field 22 of /proc/<pid>/stat: start time in clock ticks since boot. The
 * command name (field 2) may hold spaces and parentheses: count from the
 * last ')'. */
static bool start_time(long pid, unsigned long long *out, char *state)
{
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        if (!read_line(path, buf, sizeof buf))
                return false;
        char *p = strrchr(buf, ')');
        if (!p)
                return false;
        p++;
        if (state)
                *state = p[0] == ' ' ? p[1] : '?';
        for (int field = 3; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return false;
        }
        char *end;
        *out = strtoull(p + 1, &end, 10);
        return end != p + 1;
}

void svc_owner_self(char *out, size_t sz)
{
        char boot[64] = "";
        unsigned long long st = 0;
        read_line("/proc/sys/kernel/random/boot_id", boot, sizeof boot);
        start_time((long)getpid(), &st, NULL);
        snprintf(out, sz, "%s/%ld/%llu", boot, (long)getpid(), st);
}

bool svc_owner_alive(const char *owner)
{
        char boot[64] = "", mine[64] = "";
        long pid = 0;
        unsigned long long st = 0, now_st = 0;
        if (sscanf(owner, "%63[^/]/%ld/%llu", boot, &pid, &st) != 3 || pid <= 0)
                return true; /* not ours to judge: keep it */
        read_line("/proc/sys/kernel/random/boot_id", mine, sizeof mine);
        if (strcmp(boot, mine) != 0)
                return false; /* the machine rebooted since */
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
                return false;
        char state = '?';
        if (!start_time(pid, &now_st, &state))
                return false;
        /* a zombie (killed, not yet reaped) does no more work */
        return now_st == st && state != 'Z' && state != 'X';
}

enum qerr service_recover(struct service *s, struct qerr_info *ei)
{
        return service_recover_stats(s, NULL, ei);
}

enum qerr service_recover_stats(struct service *s, struct reconcile_stats *out,
                                struct qerr_info *ei)
{
        struct reconcile_stats st;
        /* first what the signer journaled: a reissue killed after signing is
         * completed from the journal, not failed */
        enum qerr rc = service_reconcile(s, &st, ei);
        if (out)
                *out = st;
        if (rc != QERR_OK)
                return rc;
        struct reissue_rec *act = NULL;
        size_t n = 0;
        /* read first: most starts find nothing to do and take no lock */
        rc = ST(s)->ops->reissue_active(ST(s), &act, &n, ei);
        bool any = false;
        for (size_t i = 0; rc == QERR_OK && i < n; i++)
                any = any || (act[i].owner[0] && !svc_owner_alive(act[i].owner));
        store_free_reissues(act, n);
        act = NULL;
        n = 0;
        if (rc != QERR_OK || !any)
                return rc;
        if ((rc = ST(s)->ops->begin(ST(s), ei)) != QERR_OK)
                return rc;
        rc = ST(s)->ops->reissue_active(ST(s), &act, &n, ei);
        for (size_t i = 0; rc == QERR_OK && i < n; i++) {
                if (!act[i].owner[0] || svc_owner_alive(act[i].owner))
                        continue;
                if (out)
                        out->reissues_failed++;
                rc = ST(s)->ops->reissue_finish(ST(s), act[i].id, "failed", 0, "abandoned",
                                                qtime_now(), ei);
                if (rc == QERR_OK)
                        rc = svc_event(s, act[i].tenant_id, "reissue", act[i].id, "in_progress",
                                       "failed", "abandoned: the process running it (%s) stopped",
                                       act[i].owner);
                struct cert_rec *c = NULL;
                if (rc == QERR_OK)
                        rc = ST(s)->ops->cert_get(ST(s), act[i].tenant_id, act[i].certificate_id,
                                                  &c, ei);
                if (rc == QERR_OK && c->status == CERT_REISSUING)
                        rc = svc_cert_move(s, c, CERT_ISSUED, ei, "reissue %lld abandoned",
                                           (long long)act[i].id);
                if (rc == QERR_OK)
                        qlog_warn("abandoned reissue failed", "reissue=%lld cert=%lld",
                                  (long long)act[i].id, (long long)act[i].certificate_id);
                cert_rec_free(c);
        }
        store_free_reissues(act, n);
        if (rc == QERR_OK)
                return svc_commit(s, ei);
        return svc_abort(s, rc);
}
