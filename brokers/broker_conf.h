/*
 * broker_conf: the exec-broker config table (te_broker_worker_conf_t, broker_worker.h).
 * It is the only place a default of the adapters' settings is set: code that builds an
 * adapter without the process takes te_broker_conf_defaults, then te_adapter_*_cfg
 * (broker_adapter.h).
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
int te_broker_conf_defaults(te_broker_worker_conf_t *conf, char *errstr, size_t errsz);

#endif
