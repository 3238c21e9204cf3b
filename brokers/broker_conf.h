/*
 * broker_conf: the exec-broker config table (te_broker_worker_conf_t, broker_worker.h).
 * It is the only place a default of the adapters' settings is set: code that builds an
 * adapter without the process applies it to a zeroed conf (te_cfg_defaults), then
 * te_adapter_*_cfg (broker_adapter.h).
 */
#ifndef TE_BROKER_CONF_H
#define TE_BROKER_CONF_H

#include <stddef.h>

#include "broker_worker.h"
#include "te_config.h"

/* The table and its length. */
extern const te_cfg_item_t te_broker_conf_items[];
extern const size_t te_broker_conf_n_items;

#endif
