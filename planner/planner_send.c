/*
 * planner_send: commands on exec.orders, recorded in the book first; used by the
 * targets, the modes and the re-plans alike, and uses none of the other planner files.
 */
#include <stdio.h>
#include <string.h>

#include "planner_int.h"
#include "te_log.h"
#include "te_proc.h"

int te_planner_send_cmd(te_planner_t *pl, const te_order_cmd_t *o)
{
        char errstr[256];
        if (te_codec_encode_order_cmd(pl->codec, o, &pl->buf, errstr, sizeof errstr) !=
            TE_CODEC_OK) {
                te_planner_fail(pl, "encode order", errstr);
                return -1;
        }
        if (te_producer_send(pl->producer, pl->conf.topic_orders, o->ids.portfolio_id,
                             strlen(o->ids.portfolio_id), pl->buf.data, pl->buf.len, NULL,
                             0, errstr, sizeof errstr) != 0) {
                te_planner_fail(pl, "send order", errstr);
                return -1;
        }
        return 0;
}

/* Send planned commands, recording them in the book. A NEW whose id the book already
 * knows was sent before (a target consumed again): it is not sent twice. */
int te_planner_send_all(te_planner_t *pl, const te_order_cmd_t *cmds, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const te_order_cmd_t *o = &cmds[i];
                if (o->command == TE_CMD_NEW) {
                        /* into the book first (a known id is not sent again); a failed
                         * send stops the planner, so the book never outlives it */
                        int r = te_book_add_new_order(
                            pl->book, o->order_id, o->ids.portfolio_id, o->ticker,
                            o->side, o->quantity, 0.0, TE_OS_PENDING_NEW);
                        if (r < 0) {
                                te_planner_fail(pl, "book", "out of memory");
                                return -1;
                        }
                        if (r == 1) {
                                pl->st.skipped_known++;
                                continue;
                        }
                        if (te_planner_send_cmd(pl, o) != 0)
                                return -1;
                        pl->st.orders++;
                } else {
                        if (te_planner_send_cmd(pl, o) != 0)
                                return -1;
                        if (o->command == TE_CMD_CANCEL || o->command == TE_CMD_REPLACE) {
                                /* in doubt until the broker confirms (book.h) */
                                int64_t now =
                                    pl->now_ns ? pl->now_ns / 1000000 : te_proc_mono_ms();
                                te_book_mark_pending(pl->book, o->order_id, o->command,
                                                     o->quantity, now);
                                if (o->command == TE_CMD_CANCEL)
                                        pl->st.cancels++;
                                else
                                        pl->st.replaces++;
                        }
                }
                te_log_ids_t oids = {.decision_id = o->ids.decision_id,
                                     .portfolio_id = o->ids.portfolio_id,
                                     .order_id = o->order_id};
                TE_LOG(TE_LOG_DEBUG, &oids, "order.sent", "%s %s %s %.10g %s",
                       te_command_name(o->command), te_side_name(o->side), o->ticker,
                       o->quantity, te_intent_name(o->intent));
        }
        return 0;
}
