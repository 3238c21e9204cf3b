/*
 * te_msg: enum symbol tables and the targets array of TargetPortfolio.
 *
 * The symbol arrays are the Avro enum symbols of the .avsc files, in schema order;
 * te_codec checks at start-up that the compiled-in schemas agree with them.
 */
#include "te_msg.h"

#include <stdlib.h>
#include <string.h>

const char *const te_mode_names[TE_MODE__CNT] = {"PRODUCTION", "TRAINING"};
const char *const te_unit_names[TE_UNIT__CNT] = {"WEIGHT", "QUANTITY"};
const char *const te_level_names[TE_LEVEL__CNT] = {"NORMAL", "REDUCE_ONLY", "EMERGENCY",
                                                   "HALT"};
const char *const te_command_names[TE_CMD__CNT] = {"NEW", "CANCEL", "REPLACE", "CLOCK"};
const char *const te_side_names[TE_SIDE__CNT] = {"BUY", "SELL"};
const char *const te_order_type_names[TE_OT__CNT] = {"MARKET", "LIMIT", "STOP",
                                                     "STOP_LIMIT"};
const char *const te_tif_names[TE_TIF__CNT] = {"DAY", "GTC", "IOC", "FOK", "OPG", "CLS"};
const char *const te_aggr_names[TE_AGGR__CNT] = {"NORMAL", "EMERGENCY"};
const char *const te_intent_names[TE_INTENT__CNT] = {"OPEN", "CLOSE", "INCREASE",
                                                     "REDUCE"};
const char *const te_exec_type_names[TE_EXEC__CNT] = {
    "ACK",      "PARTIAL_FILL", "FILL",      "CANCELED",    "REPLACED",
    "REJECTED", "EXPIRED",      "CLOCK_ACK", "BROKER_STATE"};
const char *const te_order_status_names[TE_OS__CNT] = {
    "PENDING_NEW",    "NEW",      "PARTIALLY_FILLED", "FILLED",
    "PENDING_CANCEL", "CANCELED", "PENDING_REPLACE",  "REPLACED",
    "REJECTED",       "EXPIRED"};
const char *const te_severity_names[TE_SEV__CNT] = {"INFO", "WARNING", "CRITICAL"};

static const char *enum_name(const char *const *names, int n, int v)
{
        return v >= 0 && v < n ? names[v] : "?";
}

const char *te_mode_name(te_mode_t v)
{
        return enum_name(te_mode_names, TE_MODE__CNT, (int)v);
}

const char *te_unit_name(te_unit_t v)
{
        return enum_name(te_unit_names, TE_UNIT__CNT, (int)v);
}

const char *te_level_name(te_level_t v)
{
        return enum_name(te_level_names, TE_LEVEL__CNT, (int)v);
}

const char *te_command_name(te_command_t v)
{
        return enum_name(te_command_names, TE_CMD__CNT, (int)v);
}

const char *te_side_name(te_side_t v)
{
        return enum_name(te_side_names, TE_SIDE__CNT, (int)v);
}

const char *te_order_type_name(te_order_type_t v)
{
        return enum_name(te_order_type_names, TE_OT__CNT, (int)v);
}

const char *te_tif_name(te_tif_t v)
{
        return enum_name(te_tif_names, TE_TIF__CNT, (int)v);
}

const char *te_aggr_name(te_aggr_t v)
{
        return enum_name(te_aggr_names, TE_AGGR__CNT, (int)v);
}

const char *te_intent_name(te_intent_t v)
{
        return enum_name(te_intent_names, TE_INTENT__CNT, (int)v);
}

const char *te_exec_type_name(te_exec_type_t v)
{
        return enum_name(te_exec_type_names, TE_EXEC__CNT, (int)v);
}

const char *te_order_status_name(te_order_status_t v)
{
        return enum_name(te_order_status_names, TE_OS__CNT, (int)v);
}

const char *te_severity_name(te_severity_t v)
{
        return enum_name(te_severity_names, TE_SEV__CNT, (int)v);
}

int te_enum_parse(const char *const *names, int n, const char *s)
{
        if (!names || !s)
                return -1;
        for (int i = 0; i < n; i++)
                if (strcmp(names[i], s) == 0)
                        return i;
        return -1;
}

void te_target_portfolio_free(te_target_portfolio_t *tp)
{
        if (!tp)
                return;
        free(tp->targets);
        tp->targets = NULL;
        tp->n_targets = 0;
        tp->cap_targets = 0;
}

int te_target_portfolio_add(te_target_portfolio_t *tp, const te_target_t *t)
{
        if (tp->n_targets >= TE_TARGETS_MAX)
                return -1;
        if (tp->n_targets >= tp->cap_targets) {
                size_t ncap = tp->cap_targets ? tp->cap_targets * 2 : 16;
                if (ncap > TE_TARGETS_MAX)
                        ncap = TE_TARGETS_MAX;
                te_target_t *nt = realloc(tp->targets, ncap * sizeof *nt);
                if (!nt)
                        return -1;
                tp->targets = nt;
                tp->cap_targets = ncap;
        }
        tp->targets[tp->n_targets++] = *t;
        return 0;
}
