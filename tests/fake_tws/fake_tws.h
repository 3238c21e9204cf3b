/*
 * fake_tws.h: state shared by the two halves of the scripted TWS used in tests
 * (fake_tws.c: options, the socket and the client's requests; fake_tws_ib.c: "IB",
 * where orders rest, fill and are reported, by scenario). See fake_tws.c for usage.
 */
#ifndef TE_FAKE_TWS_H
#define TE_FAKE_TWS_H

#include <stdint.h>

#include "te_buf.h"
#include "tws_server.h"

#define MAX_ORDERS 20000
#define MAX_EXECS  60000
#define MAX_SCHED  60000

typedef struct order_s {
        te_tws_order_t o;
        int64_t client_id;
        double filled;
        int open; /* resting at "IB" */
        int cancelled;
        int pending_race_qty_x10; /* unused marker */
} order_t;

typedef struct exec_s {
        int64_t order_idx;
        char exec_id[32];
        double qty, price, commission;
        double cum;
} exec_t;

enum {
        SCHED_EXEC = 0,        /* execute qty of order_idx */
        SCHED_RACE_TAIL = 1,   /* cancel_race: the late execution, then the order ends */
        SCHED_IB_RESTORED = 2, /* ib_lost: error 1102 */
        SCHED_SEND_EXEC = 3,   /* modify: send execution order_idx (an execs index) */
        SCHED_SEND_COMMISSION = 4, /* the commissionReport of execution order_idx */
};

typedef struct sched_s {
        int64_t due;
        int order_idx;
        double qty;
        int kind; /* SCHED_* */
} sched_t;

#define MAX_POS_ADJ 16

typedef struct fake_opt_s {
        char scenario[32];
        char accounts[256];
        char malformed[16];
        double price, commission;
        int pace_limit;
        int64_t fill_delay_ms, outage_ms, commission_delay_ms;
        int drop_after;
        struct {
                char account[32], symbol[32];
                double qty;
        } pos_adj[MAX_POS_ADJ];
        int n_pos_adj;
} fake_opt_t;

extern fake_opt_t opt;
extern order_t orders[MAX_ORDERS];
extern int n_orders;
extern exec_t execs[MAX_EXECS];
extern int n_execs;
extern sched_t sched[MAX_SCHED];
extern int n_sched;
extern int64_t next_id;
extern int cfd;           /* the client's socket, -1 when none */
extern int64_t client_id; /* from START_API */
extern int started;
extern te_buf_t wbuf; /* what goes to the client next */
extern int64_t outage_until;
extern int n_places, n_cancels, malformed_sent;

int64_t mono_ms(void);
/** The scenario is `s`. */
int is(const char *s);
void drop_client(const char *why);

/* fake_tws_ib.c: the client's requests, and time passing at "IB" */
void ib_on_place(const te_tws_order_t *o);
void ib_on_cancel(int64_t id);
void ib_on_req_open_orders(void);
void ib_on_req_executions(int64_t req_id, int64_t filter_client);
void ib_on_req_positions(void);
void ib_run_sched(void);

#endif
