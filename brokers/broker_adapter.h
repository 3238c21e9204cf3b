/*
 * broker_adapter: builds the adapter the broker worker runs (broker.h) from its
 * settings: the simulator over its bars, the ibkr or the fix adapter, wrapped by the
 * fault decorator when fault.script is set (broker_faulty.h). A new adapter is one more
 * te_adapter_kind_t, its name in te_adapter_names and one case in te_adapter_make.
 */
#ifndef TE_BROKER_ADAPTER_H
#define TE_BROKER_ADAPTER_H

#include <stddef.h>

#include "bars.h"
#include "broker.h"

struct te_broker_worker_conf_s; /* broker_worker.h */

/* An alert an adapter raises, for the worker to publish on exec.alerts: severity, a
 * stable code, the related ids ("" when none) and a message for humans (the shape of
 * te_ibkr_alert_fn and te_fix_alert_fn). */
typedef void (*te_adapter_alert_fn)(void *ctx, te_severity_t sev, const char *code,
                                    const char *decision_id, const char *portfolio_id,
                                    const char *order_id, const char *message);

/* The `adapter` setting, indexing te_adapter_names. */
typedef enum {
        TE_ADAPTER_SIM = 0,
        TE_ADAPTER_IBKR = 1,
        TE_ADAPTER_FIX = 2
} te_adapter_kind_t;
/** The adapters' names ("sim", "ibkr", "fix"), NULL-terminated. */
extern const char *const te_adapter_names[];

/* An adapter and what it needs kept alive. */
typedef struct te_adapter_s {
        te_broker_t *broker; /* owned: the adapter, inside any fault decorator */
        /* the same adapter without the decorator when it rebuilds by replay (the
         * simulator: te_sim_reset), else NULL; owned through `broker` */
        te_broker_t *sim;
        te_bars_t *bars;  /* owned: the simulator's bars, or NULL */
        const char *name; /* the setting's name of the adapter, for metrics */
} te_adapter_t;

typedef enum {
        TE_ADAPTER_OK = 0,
        TE_ADAPTER_ERR_CONFIG = 1, /* a bad or missing setting */
        TE_ADAPTER_ERR_INIT = 2,   /* bars, DB or memory */
} te_adapter_err_t;

/** Build the adapter `conf` selects into `out` (zeroed first). Alerts a live adapter
 *  (ibkr, fix) raises go to alert(alert_ctx, ...). @returns TE_ADAPTER_OK, or an error
 * with errstr (and `out` empty). */
te_adapter_err_t te_adapter_make(const struct te_broker_worker_conf_s *conf,
                                 te_adapter_alert_fn alert, void *alert_ctx,
                                 te_adapter_t *out, char *errstr, size_t errsz);
/* Each adapter's config from the worker's: its own struct from the table (conf->sim,
 * ->ibkr, ->fix) with the settings it shares filled in: broker.name ("sim" becomes
 * "ibkr" / "fix" for those), broker.account (sim), db.conninfo (ibkr, fix) and
 * sim.price_increments parsed into the sim's ticks (@returns 0, or -1 with errstr). */
struct te_sim_cfg_s;
struct te_ibkr_cfg_s;
struct te_fix_cfg_s;
int te_adapter_sim_cfg(const struct te_broker_worker_conf_s *conf,
                       struct te_sim_cfg_s *out, char *errstr, size_t errsz);
void te_adapter_ibkr_cfg(const struct te_broker_worker_conf_s *conf,
                         struct te_ibkr_cfg_s *out);
void te_adapter_fix_cfg(const struct te_broker_worker_conf_s *conf,
                        struct te_fix_cfg_s *out);
/** Destroy the adapter and its bars; `a` is left empty. Accepts an empty one. */
void te_adapter_term(te_adapter_t *a);

#endif
