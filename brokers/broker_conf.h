/*
 * broker_conf: the exec-broker config table (te_broker_worker_conf_t, broker_worker.h)
 * and the adapters' configs with its defaults, for tests, tools and benchmarks that
 * build an adapter without a process: the table is the only place a default is set.
 */
#ifndef TE_BROKER_CONF_H
#define TE_BROKER_CONF_H

#include <stddef.h>

#include "broker_worker.h"
#include "te_config.h"

/* The table and its length. */
extern const te_cfg_item_t te_broker_conf_items[];
extern const size_t te_broker_conf_n_items;
/** Zero `conf` and apply the table's defaults. @returns 0, or -1 with errstr (a
 *  default that does not parse: a programming error). */
int te_broker_conf_defaults(te_broker_worker_conf_t *conf, char *errstr,
                            size_t errstr_size);

/* An adapter's config as exec-broker builds it from the defaults (te_adapter_*_cfg of
 * broker_adapter.h: broker.name, broker.account and db.conninfo filled in).
 * @returns 0, or -1 (logged; the struct is then zeroed). */
int te_sim_cfg_defaults(te_sim_cfg_t *cfg);
int te_fill_cfg_defaults(te_fill_cfg_t *cfg);
int te_ibkr_cfg_defaults(te_ibkr_cfg_t *cfg);
int te_fix_cfg_defaults(te_fix_cfg_t *cfg);

#endif
