/*
 * broker_faulty: a fault-injection decorator over any adapter (te_broker_t), for tests
 * and drills of the broker worker's fault handling. It leaves the
 * adapter untouched and is selected by the worker's `fault.script` setting.
 *
 * Script: comma-separated key=value items (all optional):
 *   down_after=N      after the N-th NEW order the broker goes down ...
 *   down_ms=M         ... for M ms of monotonic time (default 2000); while down,
 *                     connected() is 0 and every command returns
 *                     TE_BROKER_ERR_RETRIABLE without reaching the adapter
 *   up_file=PATH      ... or until the file PATH exists, whichever comes first (a
 *                     test ends the outage once it has checked what it needed)
 *   reject_every=K    every K-th NEW order is rejected by "the broker" (REJECTED report,
 *                     reason "fault: rejected by broker (every K-th order)")
 *   reject_ticker=T   every NEW order for ticker T is rejected (a partial reject of the
 *                     orders of one target)
 *   cancel_delay_ms=M every CANCEL reaches the adapter M ms after it arrived (released
 *                     by poll, in arrival order): its confirmation comes late, as from
 *                     a real broker. A delayed CANCEL is held in memory only: if the
 *                     worker stops meanwhile it is lost and its order keeps working.
 *   fill_before_cancel=1  when a CANCEL reaches the adapter, the order's remaining
 *                     quantity fills first — a FILL report at the order's reference
 *                     price (else its last fill price), commission 0 — and the
 *                     adapter's CANCELED is not published: the cancel came too late,
 *                     the way a fill races a cancel at a real broker. Orders without
 *                     any price are cancelled as usual.
 * Counting is by NEW orders seen while up, so a script is deterministic for a given
 * order stream (down_ms, up_file and cancel_delay_ms aside, which are wall time by
 * nature).
 */
#ifndef TE_BROKER_FAULTY_H
#define TE_BROKER_FAULTY_H

#include <stddef.h>
#include <stdint.h>

#include "broker.h"

/** Wrap `inner` (ownership passes to the decorator, also on failure). `now_ms` is the
 *  clock used for down_ms (NULL: te_proc_mono_ms). @returns NULL with errstr on a bad
 *  script (file:key: why) or OOM. */
te_broker_t *te_faulty_new(te_broker_t *inner, const char *script,
                           int64_t (*now_ms)(void), char *errstr, size_t errsz);

#endif
