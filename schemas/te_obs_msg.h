/*
 * te_obs_msg: the metrics counted per message of the wire contract, on top of the
 * process registry (te_obs.h, which knows nothing of te_msg.h).
 */
#ifndef TE_OBS_MSG_H
#define TE_OBS_MSG_H

#include <stdint.h>

#include "te_msg.h"
#include "te_obs.h"

/** Create te_orders_final_total{state} at 0 for every final order state, so that
 *  rate() sees the first increase of each (a broker, once at start). */
void te_obs_msg_declare(void);

/** A broker worker published report `r` while handling command `cmd` (Kafka message
 *  timestamp `cmd_ts_ms`, ms since the epoch). Counts final order states; when `cmd` is
 *  the NEW command of this order, observes order -> ACK and order -> first fill and,
 *  for fills when the order carries a reference (arrival) price, the slippage in bps.
 *  `cmd` may be NULL (events not caused by a command). */
void te_obs_report_sent(const te_exec_report_t *r, const te_order_cmd_t *cmd,
                        int64_t cmd_ts_ms);

#endif
