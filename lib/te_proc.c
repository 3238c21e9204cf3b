/*
 * te_proc: signal flag and clocks.
 */
#include "te_proc.h"

#include <string.h>
#include <time.h>

volatile sig_atomic_t te_proc_stop = 0;

static void on_signal(int sig)
{
        (void)sig;
        te_proc_stop = 1;
}

void te_proc_install_signals(void)
{
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
}

int64_t te_proc_wall_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t te_proc_mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t te_proc_mono_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#ifndef TE_VERSION
#define TE_VERSION "unknown"
#endif
#ifndef TE_BUILD_COMMIT
#define TE_BUILD_COMMIT "unknown"
#endif

const char *te_proc_version(void)
{
        return TE_VERSION;
}

const char *te_proc_commit(void)
{
        return TE_BUILD_COMMIT[0] ? TE_BUILD_COMMIT : "unknown";
}

void te_proc_print_version(FILE *fp, const char *proc)
{
        fprintf(fp, "%s %s (commit %s)\n", proc, te_proc_version(), te_proc_commit());
}
