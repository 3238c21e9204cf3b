/*
 * te_msg: the messages on our topics as C structs (see docs/DESIGN.md "Topics and keys"
 * and the .avsc files beside this header, which are the wire contract).
 *
 * Strings are fixed-size, NUL-terminated arrays: a decoder refuses a wire string that
 * does not fit. Optional Avro fields (["null", T]) carry a has_<field> flag.
 * The only heap-owning message is te_target_portfolio_t (its targets array): free it
 * with te_target_portfolio_free().
 */
#ifndef TE_MSG_H
#define TE_MSG_H

#include <stddef.h>
#include <stdint.h>

#define TE_ID_MAX      64  /* ids: decision_id, order_id, report_id, ... (63 chars max) */
#define TE_TICKER_MAX  24  /* ticker symbols (23 chars max) */
#define TE_NAME_MAX    64  /* route, broker, account, source, code */
#define TE_TEXT_MAX    512 /* reason, message */
#define TE_TARGETS_MAX 100000 /* targets in one TargetPortfolio */

/* Value bounds of what the service accepts from its topics and computes
 * (te_codec_check_bounds, te_codec.h; README "Value bounds"). Well inside what the DB's
 * numeric columns and their float8 reads hold, and small enough that sums of many of
 * them and products quantity x price stay finite doubles. */
#define TE_QTY_MAX      1e12 /* |quantity| of a target, an order, a report */
#define TE_PRICE_MAX    1e9  /* a price: ref, limit, stop, fill, average */
#define TE_NOTIONAL_MAX 1e15 /* nav, commission, quantity x price of an order */
#define TE_WEIGHT_MAX   1000 /* |weight| of a WEIGHT target (x nav) */

/* Enums: the numeric values are the Avro enum symbol indexes, in schema order. */
typedef enum { TE_MODE_PRODUCTION = 0, TE_MODE_TRAINING = 1, TE_MODE__CNT } te_mode_t;
typedef enum { TE_UNIT_WEIGHT = 0, TE_UNIT_QUANTITY = 1, TE_UNIT__CNT } te_unit_t;
typedef enum {
        TE_LEVEL_NORMAL = 0,
        TE_LEVEL_REDUCE_ONLY = 1,
        TE_LEVEL_EMERGENCY = 2,
        TE_LEVEL_HALT = 3,
        TE_LEVEL__CNT
} te_level_t;
typedef enum {
        TE_CMD_NEW = 0,
        TE_CMD_CANCEL = 1,
        TE_CMD_REPLACE = 2,
        TE_CMD_CLOCK = 3,
        TE_CMD__CNT
} te_command_t;
typedef enum { TE_SIDE_BUY = 0, TE_SIDE_SELL = 1, TE_SIDE__CNT } te_side_t;
typedef enum {
        TE_OT_MARKET = 0,
        TE_OT_LIMIT = 1,
        TE_OT_STOP = 2,
        TE_OT_STOP_LIMIT = 3,
        TE_OT__CNT
} te_order_type_t;
typedef enum {
        TE_TIF_DAY = 0,
        TE_TIF_GTC = 1,
        TE_TIF_IOC = 2,
        TE_TIF_FOK = 3,
        TE_TIF_OPG = 4,
        TE_TIF_CLS = 5,
        TE_TIF__CNT
} te_tif_t;
typedef enum { TE_AGGR_NORMAL = 0, TE_AGGR_EMERGENCY = 1, TE_AGGR__CNT } te_aggr_t;
typedef enum {
        TE_INTENT_OPEN = 0,
        TE_INTENT_CLOSE = 1,
        TE_INTENT_INCREASE = 2,
        TE_INTENT_REDUCE = 3,
        TE_INTENT__CNT
} te_intent_t;
typedef enum {
        TE_EXEC_ACK = 0,
        TE_EXEC_PARTIAL_FILL = 1,
        TE_EXEC_FILL = 2,
        TE_EXEC_CANCELED = 3,
        TE_EXEC_REPLACED = 4,
        TE_EXEC_REJECTED = 5,
        TE_EXEC_EXPIRED = 6,
        TE_EXEC_CLOCK_ACK = 7,
        TE_EXEC_BROKER_STATE = 8,
        TE_EXEC__CNT
} te_exec_type_t;
typedef enum {
        TE_OS_PENDING_NEW = 0,
        TE_OS_NEW = 1,
        TE_OS_PARTIALLY_FILLED = 2,
        TE_OS_FILLED = 3,
        TE_OS_PENDING_CANCEL = 4,
        TE_OS_CANCELED = 5,
        TE_OS_PENDING_REPLACE = 6,
        TE_OS_REPLACED = 7,
        TE_OS_REJECTED = 8,
        TE_OS_EXPIRED = 9,
        TE_OS__CNT
} te_order_status_t;
typedef enum {
        TE_SEV_INFO = 0,
        TE_SEV_WARNING = 1,
        TE_SEV_CRITICAL = 2,
        TE_SEV__CNT
} te_severity_t;

/** Symbol text for an enum value (as in the schema), or "?" when out of range. */
const char *te_mode_name(te_mode_t v);
const char *te_unit_name(te_unit_t v);
const char *te_level_name(te_level_t v);
const char *te_command_name(te_command_t v);
const char *te_side_name(te_side_t v);
const char *te_order_type_name(te_order_type_t v);
const char *te_tif_name(te_tif_t v);
const char *te_aggr_name(te_aggr_t v);
const char *te_intent_name(te_intent_t v);
const char *te_exec_type_name(te_exec_type_t v);
const char *te_order_status_name(te_order_status_t v);
const char *te_severity_name(te_severity_t v);
/** Reverse lookup by symbol text. @returns the index, or -1 if unknown.
 *  `names` is one of the te_*_names arrays below. */
int te_enum_parse(const char *const *names, int n, const char *s);
extern const char *const te_mode_names[TE_MODE__CNT];
extern const char *const te_unit_names[TE_UNIT__CNT];
extern const char *const te_level_names[TE_LEVEL__CNT];
extern const char *const te_command_names[TE_CMD__CNT];
extern const char *const te_side_names[TE_SIDE__CNT];
extern const char *const te_order_type_names[TE_OT__CNT];
extern const char *const te_tif_names[TE_TIF__CNT];
extern const char *const te_aggr_names[TE_AGGR__CNT];
extern const char *const te_intent_names[TE_INTENT__CNT];
extern const char *const te_exec_type_names[TE_EXEC__CNT];
extern const char *const te_order_status_names[TE_OS__CNT];
extern const char *const te_severity_names[TE_SEV__CNT];

/* The attribution ids a target carries and every order/report copies. */
typedef struct te_attrib_s {
        char decision_id[TE_ID_MAX];
        char portfolio_id[TE_ID_MAX];
        char strategy_id[TE_ID_MAX];
        char profile_version_id[TE_ID_MAX];
        char regime_id[TE_ID_MAX];
        char universe_id[TE_ID_MAX];
} te_attrib_t;

typedef struct te_target_s {
        char ticker[TE_TICKER_MAX];
        double value; /* weight (fraction of NAV) or quantity, per unit */
        int has_ref_price;
        double ref_price;
} te_target_t;

/* exec.targets: TargetPortfolio */
typedef struct te_target_portfolio_s {
        te_attrib_t ids;
        te_mode_t mode;
        int64_t as_of; /* event time, ms since epoch (UTC) */
        te_unit_t unit;
        int has_nav;
        double nav;
        int full_replace;     /* tickers absent from targets mean 0 */
        te_target_t *targets; /* owned; n_targets valid entries, cap_targets allocated */
        size_t n_targets;
        size_t cap_targets;
} te_target_portfolio_t;

/** Release the targets array (and zero the counts). Accepts NULL. */
void te_target_portfolio_free(te_target_portfolio_t *tp);
/** Append a target, growing the array (up to TE_TARGETS_MAX). @returns 0 or -1. */
int te_target_portfolio_add(te_target_portfolio_t *tp, const te_target_t *t);

/* exec.mode: ExecutionMode */
typedef struct te_exec_mode_s {
        char scope[TE_ID_MAX]; /* a portfolio_id, or "*" */
        te_level_t level;
        int64_t effective_from; /* ms */
        char reason[TE_TEXT_MAX];
} te_exec_mode_t;

/* exec.orders: OrderCommand */
typedef struct te_order_cmd_s {
        te_command_t command;
        char order_id[TE_ID_MAX];
        te_attrib_t ids;
        char ticker[TE_TICKER_MAX];
        te_side_t side;
        double quantity; /* > 0 */
        te_order_type_t order_type;
        int has_limit_price;
        double limit_price;
        int has_stop_price;
        double stop_price;
        te_tif_t tif;
        te_aggr_t aggressiveness;
        te_intent_t intent;
        te_mode_t mode;
        char route[TE_NAME_MAX];
        int64_t event_time; /* ms; for CLOCK, the clock time t */
        int has_ref_price;  /* arrival/reference price the planner used */
        double ref_price;
} te_order_cmd_t;

/* exec.reports: ExecutionReport */
typedef struct te_exec_report_s {
        char report_id[TE_ID_MAX];
        char order_id[TE_ID_MAX];
        te_exec_type_t exec_type;
        te_order_status_t order_status;
        char ticker[TE_TICKER_MAX];
        te_side_t side;
        double last_qty;
        double last_price;
        double cum_qty;
        double leaves_qty;
        double avg_price;
        double commission;
        char reason[TE_TEXT_MAX];
        char broker[TE_NAME_MAX];
        char account[TE_NAME_MAX];
        int64_t event_time; /* ms; for CLOCK_ACK, the clock time t acknowledged */
        te_attrib_t ids;
        te_mode_t mode;
} te_exec_report_t;

/* exec.alerts: Alert */
typedef struct te_alert_s {
        te_severity_t severity;
        char source[TE_NAME_MAX];
        char code[TE_NAME_MAX];
        char message[TE_TEXT_MAX];
        int64_t event_time;          /* ms */
        char decision_id[TE_ID_MAX]; /* related ids, "" when none */
        char portfolio_id[TE_ID_MAX];
        char order_id[TE_ID_MAX];
} te_alert_t;

#endif
