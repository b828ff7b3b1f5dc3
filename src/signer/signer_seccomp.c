/*
 * signer_seccomp.c - the signer's system call filter (libseccomp).
 *
 * Installed by signer_main() once the process has what it needs at start
 * (OpenSSL initialised, its configuration read, the random generator
 * seeded, the key directory checked). From then on the signer may read and
 * write its socket and stderr, open, write, fsync, rename, link and remove
 * files (key files, CRL number records, its journal; flock tells a live
 * signer's journal file from a dead one's), allocate
 * memory, read the clock and the kernel's random generator, and exit.
 * Anything else - a socket, a connect, exec, fork, ptrace, executable
 * memory - kills the process (SECCOMP_RET_KILL_PROCESS): the main process
 * sees it die and starts a new one.
 *
 * Not thread-safe (one call, in the single-threaded signer process).
 */
#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>

#include "signer_internal.h"

static const char *const allowed[] = {
    /* the socket, stderr, files */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "close", "lseek", "openat", "open",
    "fstat", "newfstatat", "stat", "lstat", "statx", "access", "faccessat", "faccessat2", "fcntl",
    "fsync", "fdatasync", "rename", "renameat", "renameat2", "link", "linkat", "unlink", "unlinkat",
    "mkdir", "mkdirat", "fchmod", "getdents64", "flock",
    /* memory (mmap and mprotect below, without PROT_EXEC) */
    "brk", "munmap", "mremap", "madvise", "mlock", "munlock",
    /* time, randomness, identity */
    "clock_gettime", "clock_getres", "gettimeofday", "time", "getrandom", "getpid", "gettid",
    "getuid", "geteuid", "getgid", "getegid",
    /* glibc's qsort asks sysconf(_SC_PHYS_PAGES), i.e. sysinfo, once it
     * sorts 1 kB or more: OpenSSL sorting a CRL of 128 entries or more, the
     * journal's file list (without it the signer died on the 128th
     * revocation of a CA); the sanitizers' qsort asks sigaltstack, which
     * only says where this thread's signal handlers run */
    "sysinfo", "sigaltstack",
    /* locks and signals the C library uses on its own */
    "futex", "sched_yield", "rt_sigreturn", "rt_sigprocmask",
    /* the end */
    "exit", "exit_group"};

enum qerr signer_sandbox(struct qerr_info *ei)
{
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
        if (!ctx)
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE,
                                "the signer could not set up its system call filter");
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < sizeof allowed / sizeof allowed[0]; i++) {
                int nr = seccomp_syscall_resolve_name(allowed[i]);
                if (nr == __NR_SCMP_ERROR)
                        continue; /* not on this architecture (e.g. open on arm64) */
                rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        }
        /* memory yes, executable memory no */
        if (rc == 0)
                rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
                                      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
        if (rc == 0)
                rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                                      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
        if (rc == 0)
                rc = seccomp_load(ctx); /* sets no_new_privs first */
        seccomp_release(ctx);
        if (rc != 0)
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE,
                                "the signer could not install its system call filter: %s",
                                strerror(-rc));
        return QERR_OK;
}
