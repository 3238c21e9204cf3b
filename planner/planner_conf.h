/*
 * planner_conf: the exec-planner config table (te_planner_conf_t, planner.h). It is the
 * only place a default of the order planner's settings is set: code that plans without
 * the process applies it to a zeroed te_planner_conf_t (te_cfg_defaults) and takes .plan.
 */
#ifndef TE_PLANNER_CONF_H
#define TE_PLANNER_CONF_H

#include <stddef.h>

#include "planner.h"
#include "te_config.h"

/* The table and its length. */
extern const te_cfg_item_t te_planner_conf_items[];
extern const size_t te_planner_conf_n_items;

#endif
