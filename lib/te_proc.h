/*
 * te_proc: process plumbing shared by every main(): signals, clocks, argv.
 */
#ifndef TE_PROC_H
#define TE_PROC_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

/** Set by SIGINT/SIGTERM; the main loop polls it. */
extern volatile sig_atomic_t te_proc_stop;

/** Install SIGINT/SIGTERM handlers that only set te_proc_stop; ignore SIGPIPE. */
void te_proc_install_signals(void);
/** Wall-clock milliseconds since the epoch (for logs and metrics, never for
 *  simulation time). */
int64_t te_proc_wall_ms(void);
/** Monotonic milliseconds (for deadlines and latency). */
int64_t te_proc_mono_ms(void);
/** Monotonic nanoseconds (for benchmarks). */
int64_t te_proc_mono_ns(void);

/** The project version and the build's commit (`git describe` at configure time, or
 *  "unknown"). */
const char *te_proc_version(void);
const char *te_proc_commit(void);
/** "<proc> <version> (commit <commit>)\n" on fp (what --version prints). */
void te_proc_print_version(FILE *fp, const char *proc);

#endif
