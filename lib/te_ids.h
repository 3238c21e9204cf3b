/*
 * te_ids: deterministic identifiers (docs/DESIGN.md invariant 1).
 *
 * An id is a fixed-length hex digest of its inputs, so re-running any step yields the
 * same id and every consumer can drop duplicates. Inputs are joined with a 0x1f
 * separator before hashing so ("ab","c") and ("a","bc") differ.
 */
#ifndef TE_IDS_H
#define TE_IDS_H

#include <stddef.h>
#include <stdint.h>

#define TE_ID_HEX_LEN 32 /* 128-bit digest as lower-case hex */

/** 128-bit digest (two FNV-1a-64 lanes with different offsets, finalised with a
 *  64-bit mixer) of the `n` strings, written as 32 hex chars plus NUL into `out`
 *  (outsz >= 33). */
void te_id_digest(char *out, size_t outsz, const char *const *parts, size_t n);

/* order_id = "o" + digest(decision_id, portfolio_id, ticker, leg as decimal text),
 * made in two steps so that the order ids of one plan hash only their own ticker and
 * leg. */
/** The digest state after a plan's common parts (decision_id, portfolio_id). */
typedef struct te_id_prefix_s {
        uint64_t h1, h2;
} te_id_prefix_t;
void te_id_order_prefix(te_id_prefix_t *pre, const char *decision_id,
                        const char *portfolio_id);
/** The order_id of (decision_id, portfolio_id, ticker, leg) with `pre` from
 *  te_id_order_prefix(pre, decision_id, portfolio_id). outsz >= 34. */
void te_id_order_from(char *out, size_t outsz, const te_id_prefix_t *pre,
                      const char *ticker, int leg);
/** Clock command id = "c" + digest(portfolio_id, t). outsz >= 34. */
void te_id_clock(char *out, size_t outsz, const char *portfolio_id, int64_t t_ms);
/** Simulator report id = "r" + digest(order_id, kind, seq). `kind` is a short tag such
 *  as "ack", "fill", "cancel". outsz >= 34. */
void te_id_sim_report(char *out, size_t outsz, const char *order_id, const char *kind,
                      int seq);

#endif
