/*
 * svc_boot.c - the start of every command that opens the data directory
 * (service_boot_open, service.h): directories, users, the signer, then the
 * store, in the order privilege separation needs.
 *
 * 1. As root, look up [server] user and [signer] user (getpwnam reads
 *    /etc/passwd: before any thread).
 * 2. Make the data directory (when asked to) and, as root, hand it to the
 *    server user, and the key directory <data>/ca to the signer's user
 *    (mode 0700, its files 0600). Only what root owns (a fresh directory,
 *    an install that ran as root before) or what the server user owns (the
 *    key directory of an install without a signer user) changes hands;
 *    anything else is an error to fix by hand. With a separate signer user
 *    the data directory becomes 0711, so that the signer can reach its key
 *    directory without being able to list the data directory.
 * 3. Start the signer (fork + exec, as the signer's user) and hand it the
 *    passphrase; wipe our copy unless this process may start it again.
 *    Commands that never sign (lists, downloads) start none.
 * 4. As root with [server] user: drop to it for good (groups, gid, uid),
 *    before any thread exists. As root without it: warn (quill serve).
 * 5. Open the store, as the user that will own its files.
 * 6. With a signer: recover (service_recover), unless told not to.
 *
 * Main thread only, before any thread exists.
 */
#include "service_internal.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/fsutil.h"
#include "../base/log.h"
#include "../signer/signer_secret.h"

struct who {
        bool set;
        uid_t uid;
        gid_t gid;
        char name[64];
};

static enum qerr lookup(const char *setting, const char *name, struct who *w, struct qerr_info *ei)
{
        memset(w, 0, sizeof *w);
        if (!name || !*name)
                return QERR_OK;
        errno = 0;
        struct passwd *pw = getpwnam(name);
        if (!pw)
                return qerr_set(ei, QERR_CONFIG,
                                "%s names the user '%.64s', which does not exist on this system; "
                                "create it (useradd --system %.64s) or change the setting",
                                setting, name, name);
        w->set = true;
        w->uid = pw->pw_uid;
        w->gid = pw->pw_gid;
        snprintf(w->name, sizeof w->name, "%s", name);
        return QERR_OK;
}

/* Hands `path` to uid/gid when root or `also` owns it; refuses a path that
 * belongs to anyone else. */
static enum qerr hand_over(const char *path, uid_t also, uid_t uid, gid_t gid, mode_t mode,
                           struct qerr_info *ei)
{
        struct stat sb;
        if (lstat(path, &sb) != 0)
                return errno == ENOENT
                           ? QERR_OK
                           : qerr_set(ei, QERR_IO, "cannot inspect %s: %s", path, strerror(errno));
        if (S_ISLNK(sb.st_mode))
                return qerr_set(ei, QERR_IO,
                                "%s is a symbolic link; quill will not hand it to "
                                "another user",
                                path);
        if (sb.st_uid != uid && sb.st_uid != 0 && sb.st_uid != also)
                return qerr_set(ei, QERR_IO,
                                "%s belongs to uid %ld, not to the configured user (uid %ld); "
                                "change its owner (chown) or the setting",
                                path, (long)sb.st_uid, (long)uid);
        if ((sb.st_uid != uid || sb.st_gid != gid) && chown(path, uid, gid) != 0)
                return qerr_set(ei, QERR_IO, "cannot hand %s to uid %ld: %s", path, (long)uid,
                                strerror(errno));
        if (mode && (sb.st_mode & 07777) != mode && chmod(path, mode) != 0)
                return qerr_set(ei, QERR_IO, "cannot set the mode of %s: %s", path,
                                strerror(errno));
        return QERR_OK;
}

/* The key directory and every regular file in it (keys, CRL number
 * records), and its journal directory and the journal's files (two-phase
 * issuance), to the signer's user. */
static enum qerr hand_over_keys(const char *dir, uid_t also, const struct who *sg, int depth,
                                struct qerr_info *ei)
{
        enum qerr rc = fs_mkdirs(dir, 0700, ei);
        if (rc == QERR_OK)
                rc = hand_over(dir, also, sg->uid, sg->gid, 0700, ei);
        DIR *d = rc == QERR_OK ? opendir(dir) : NULL;
        if (rc == QERR_OK && !d)
                return qerr_set(ei, QERR_IO, "cannot list %s: %s", dir, strerror(errno));
        struct dirent *e;
        while (d && rc == QERR_OK && (e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                char p[PATH_MAX + 300];
                struct stat sb;
                if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
                        rc = qerr_set(ei, QERR_IO, "path too long in %s", dir);
                else if (depth == 0 && strcmp(e->d_name, "journal") == 0 && lstat(p, &sb) == 0 &&
                         S_ISDIR(sb.st_mode))
                        rc = hand_over_keys(p, also, sg, depth + 1, ei);
                else
                        rc = hand_over(p, also, sg->uid, sg->gid, 0600, ei);
        }
        if (d)
                closedir(d);
        return rc;
}

/* Step 2 for a root start with users configured. */
static enum qerr prepare_dirs(const char *data, const struct who *srv, const struct who *sg,
                              struct qerr_info *ei)
{
        static const char *const owned[] = {"quill.db", "quill.db-wal", "quill.db-shm", "secrets",
                                            "secrets/data.key"};
        char p[PATH_MAX + 64];
        enum qerr rc = QERR_OK;
        if (srv->set) {
                bool separate = sg->set && sg->uid != srv->uid;
                rc = hand_over(data, 0, srv->uid, srv->gid, separate ? 0711 : 0700, ei);
                for (size_t i = 0; rc == QERR_OK && i < sizeof owned / sizeof owned[0]; i++) {
                        snprintf(p, sizeof p, "%s/%s", data, owned[i]);
                        rc = hand_over(p, 0, srv->uid, srv->gid, 0, ei);
                }
        } else if (sg->set) {
                /* the main process stays root: the signer still needs to reach
                 * its directory */
                struct stat sb;
                if (stat(data, &sb) == 0 && (sb.st_mode & 0111) != 0111)
                        chmod(data, (sb.st_mode & 07777) | 0111);
        }
        const struct who *keys = sg->set ? sg : srv;
        if (rc == QERR_OK && keys->set) {
                snprintf(p, sizeof p, "%s/ca", data);
                rc = hand_over_keys(p, srv->set ? srv->uid : 0, keys, 0, ei);
        }
        return rc;
}

static enum qerr drop_to(const struct who *w, struct qerr_info *ei)
{
        if (setgroups(1, &w->gid) != 0 || setresgid(w->gid, w->gid, w->gid) != 0 ||
            setresuid(w->uid, w->uid, w->uid) != 0)
                return qerr_set(ei, QERR_INTERNAL, "cannot switch to the user %s: %s", w->name,
                                strerror(errno));
        if (w->uid != 0 && setuid(0) == 0)
                return qerr_set(ei, QERR_INTERNAL, "switching to %s did not drop root", w->name);
        qlog_info("switched user", "user=%s uid=%ld", w->name, (long)w->uid);
        return QERR_OK;
}

struct ca_secret *service_secret_take(const struct qconfig *cfg)
{
        return ca_secret_take(cfg);
}

void service_secret_free(struct ca_secret *s)
{
        ca_secret_free(s);
}

enum qerr service_boot_open(const struct service_boot *b, struct service **out,
                            struct qerr_info *ei)
{
        const char *dir = b->data_dir;
        if (!fs_is_dir(dir)) {
                if (fs_exists(dir))
                        return qerr_set(ei, QERR_DATA_DIR,
                                        "data directory %s exists but is not a directory", dir);
                if (!b->create)
                        return qerr_set(ei, QERR_DATA_DIR,
                                        "data directory %s does not exist; run 'quill ca init "
                                        "--data %s' first",
                                        dir, dir);
                enum qerr rc = fs_mkdirs(dir, 0700, ei);
                if (rc != QERR_OK)
                        return rc;
        }
        bool root = geteuid() == 0;
        struct who srv, sg;
        memset(&srv, 0, sizeof srv);
        memset(&sg, 0, sizeof sg);
        if (root) {
                enum qerr rc = lookup("[server] user", b->cfg->server_user, &srv, ei);
                if (rc == QERR_OK)
                        rc = lookup("[signer] user", b->cfg->signer_user, &sg, ei);
                if (rc == QERR_OK && (srv.set || sg.set))
                        rc = prepare_dirs(dir, &srv, &sg, ei);
                if (rc != QERR_OK)
                        return rc;
        }
        /* the signer's user: [signer] user, else the main process's final one */
        const struct who *signer_as = sg.set ? &sg : &srv;
        uid_t final_uid = srv.set ? srv.uid : geteuid();
        bool restartable = !signer_as->set || signer_as->uid == final_uid;
        struct signer_launch l = {.data_dir = dir,
                                  .cfg = b->cfg,
                                  .secret = b->secret,
                                  .keep_for_restart = b->keep_for_restart && restartable,
                                  .switch_user = root && signer_as->set,
                                  .uid = signer_as->uid,
                                  .gid = signer_as->gid};
        struct signer *signer = NULL;
        enum qerr rc = b->no_signer ? QERR_OK : signer_start(&l, &signer, ei);
        if (b->no_signer)
                l.keep_for_restart = false;
        if (!l.keep_for_restart)
                ca_secret_wipe(b->secret); /* handed over: our copy goes */
        if (rc != QERR_OK)
                return rc;
        if (root && srv.set)
                rc = drop_to(&srv, ei);
        else if (root && b->warn_root)
                qlog_warn("running as root",
                          "hint=\"set [server] user (and [signer] user) so that the network-facing "
                          "process does not run as root\"");
        struct service_opts o = {.data_dir = dir, .cfg = b->cfg, .actor = b->actor};
        if (rc == QERR_OK)
                rc = service_open(&o, out, ei);
        if (rc != QERR_OK) {
                signer_stop(signer);
                return rc;
        }
        (*out)->signer = signer;
        if (signer && !b->no_recover) {
                /* every command that signs first stores what a killed one
                 * left in the signer's journal (two-phase issuance) */
                struct qerr_info re;
                qerr_clear(&re);
                if (service_recover(*out, &re) != QERR_OK) {
                        char esc[600];
                        qlog_warn("start-up reconciliation failed", "code=%s why=%s",
                                  qerr_code(re.code),
                                  qlog_escape(qerr_message(&re), esc, sizeof esc));
                }
        }
        return QERR_OK;
}

bool service_signer_check(struct service *s)
{
        return s->borrowed_signer || signer_check(s->signer);
}
