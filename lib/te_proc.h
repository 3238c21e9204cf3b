/*
 * te_proc: process plumbing shared by every main(): signals, clocks, argv.
 */
#ifndef TE_PROC_H
#define TE_PROC_H

#include <signal.h>
#include <stdint.h>

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

#endif
