/*
 * bt_params: the parameters of a backtest run as the tear sheet shows them and as
 * backtest_runs stores them — the effective options (every key of exec-backtest with
 * its value, secrets masked), the targets source, the bars source, the starting
 * capital and where it came from, the risk-free rate of the ratios and the build
 * commit of the binary.
 */
#ifndef TE_BT_PARAMS_H
#define TE_BT_PARAMS_H

#include "backtest.h"
#include "te_config.h"

typedef struct te_bt_params_s {
        char run_id[64];
        double capital;
        char capital_source[64];
        double risk_free; /* annual rate, e.g. 0.02 */
        char source[1200];
        char bars_source[1100];
        char build_commit[64];
        char *options; /* "key = value" lines (malloc'd; NULL if unavailable) */
} te_bt_params_t;

/** Fill p from the run's configuration (cfg may be NULL: no options). The capital is
 *  set later by te_bt_params_capital. @returns 0, or -1 out of memory. */
int te_bt_params_init(te_bt_params_t *p, const te_bt_conf_t *c, const te_cfg_t *cfg);

/** The capital the report starts from and where it came from. */
void te_bt_params_capital(te_bt_params_t *p, double capital, const char *why);

/** The parameters as one JSON object (malloc'd, caller frees), or NULL. */
char *te_bt_params_json(const te_bt_params_t *p);

void te_bt_params_free(te_bt_params_t *p);

/** A copy of "key = value" lines with the secrets a dump of the configuration may
 *  still carry masked as "***": any value mentioning a password (a conninfo's
 *  password=...), and user:secret@ in a URI. malloc'd, or NULL (out of memory). */
char *te_bt_params_masked(const char *lines);

/** The commit the binaries were built from ("unknown" outside a git tree). */
const char *te_bt_build_commit(void);

#endif
