/*
 * broker_adapter: the broker worker's adapter, built from its settings
 * (broker_adapter.h).
 */
#include "broker_adapter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_faulty.h"
#include "broker_ibkr.h"
#include "broker_fix.h"
#include "broker_sim.h"
#include "broker_worker.h"
#include "te_buf.h"
#include "te_log.h"

const char *const te_adapter_names[] = {"sim", "ibkr", "fix", NULL};

int te_adapter_sim_cfg(const te_broker_worker_conf_t *c, te_sim_cfg_t *sc, char *errstr,
                       size_t errsz)
{
        char why[256];
        *sc = c->sim;
        te_strlcpy(sc->broker_name, c->broker_name, sizeof sc->broker_name);
        te_strlcpy(sc->account, c->account, sizeof sc->account);
        if (te_sim_parse_ticks(sc, c->price_increments, why, sizeof why) != 0) {
                snprintf(errstr, errsz, "sim.price_increments: %s", why);
                return -1;
        }
        return 0;
}

void te_adapter_ibkr_cfg(const te_broker_worker_conf_t *c, te_ibkr_cfg_t *ic)
{
        *ic = c->ibkr;
        te_strlcpy(ic->db_conninfo, c->common.db_conninfo, sizeof ic->db_conninfo);
        te_strlcpy(ic->broker_name,
                   strcmp(c->broker_name, "sim") ? c->broker_name : "ibkr",
                   sizeof ic->broker_name);
}

void te_adapter_fix_cfg(const te_broker_worker_conf_t *c, te_fix_cfg_t *fc)
{
        *fc = c->fix;
        if (!fc->tifs) { /* fix.tifs empty: every TimeInForce the version has */
                fc->tifs = (1u << TE_TIF__CNT) - 1;
                if (strcmp(fc->begin_string, TE_FIX_BEGIN42) == 0)
                        fc->tifs &= ~(1u << TE_TIF_CLS);
        }
        te_strlcpy(fc->db_conninfo, c->common.db_conninfo, sizeof fc->db_conninfo);
        te_strlcpy(fc->broker_name,
                   strcmp(c->broker_name, "sim") ? c->broker_name : "fix",
                   sizeof fc->broker_name);
}

/* The simulator over its bars (broker_sim.h, fill_model.h). */
static te_adapter_err_t make_sim(const te_broker_worker_conf_t *c, te_adapter_t *a,
                                 char *errstr, size_t errsz)
{
        if (!c->bars_csv[0] && !c->bars_db) {
                snprintf(errstr, errsz,
                         "sim.bars_csv or sim.bars_db: required for adapter sim");
                return TE_ADAPTER_ERR_CONFIG;
        }
        a->bars = te_bars_open(c->bars_db ? NULL : c->bars_csv, c->common.db_conninfo,
                               c->bars_from, c->bars_to, errstr, errsz);
        if (!a->bars)
                return TE_ADAPTER_ERR_INIT;
        te_sim_cfg_t sc;
        if (te_adapter_sim_cfg(c, &sc, errstr, errsz) != 0)
                return TE_ADAPTER_ERR_CONFIG;
        a->broker = a->sim = te_sim_new(&sc, a->bars);
        if (!a->broker) {
                snprintf(errstr, errsz, "out of memory");
                return TE_ADAPTER_ERR_INIT;
        }
        return TE_ADAPTER_OK;
}

/* The ibkr adapter from its settings (broker_ibkr.h). */
static te_adapter_err_t make_ibkr(const te_broker_worker_conf_t *c,
                                  te_adapter_alert_fn alert, void *alert_ctx,
                                  te_adapter_t *a, char *errstr, size_t errsz)
{
        te_ibkr_cfg_t ic;
        te_adapter_ibkr_cfg(c, &ic);
        ic.alert = alert;
        ic.alert_ctx = alert_ctx;
        char why[512];
        a->broker = te_ibkr_new(&ic, why, sizeof why);
        if (!a->broker) {
                snprintf(errstr, errsz, "ibkr: %s", why);
                return TE_ADAPTER_ERR_CONFIG;
        }
        return TE_ADAPTER_OK;
}

/* The fix adapter from its settings (broker_fix.h); the password from fix.password_file
 * or $TE_FIX_PASSWORD, wiped once the adapter has it. */
static te_adapter_err_t build_fix(const te_broker_worker_conf_t *c,
                                  te_adapter_alert_fn alert, void *alert_ctx,
                                  te_adapter_t *a, char *errstr, size_t errsz)
{
        te_fix_cfg_t fc;
        te_adapter_fix_cfg(c, &fc);
        if (c->fix_password_file[0]) {
                FILE *f = fopen(c->fix_password_file, "r");
                if (!f || !fgets(fc.password, sizeof fc.password, f)) {
                        snprintf(errstr, errsz, "fix.password_file: cannot read it");
                        if (f)
                                fclose(f);
                        return TE_ADAPTER_ERR_CONFIG;
                }
                fclose(f);
                fc.password[strcspn(fc.password, "\r\n")] = '\0';
        } else if (getenv("TE_FIX_PASSWORD")) {
                te_strlcpy(fc.password, getenv("TE_FIX_PASSWORD"), sizeof fc.password);
        }
        fc.alert = alert;
        fc.alert_ctx = alert_ctx;
        a->broker = te_fix_new(&fc, errstr, errsz);
        memset(fc.password, 0, sizeof fc.password);
        return a->broker ? TE_ADAPTER_OK : TE_ADAPTER_ERR_CONFIG;
}

/* build_fix with the adapter named in errstr, as for ibkr. */
static te_adapter_err_t make_fix(const te_broker_worker_conf_t *c,
                                 te_adapter_alert_fn alert, void *alert_ctx,
                                 te_adapter_t *a, char *errstr, size_t errsz)
{
        char why[512];
        te_adapter_err_t rc = build_fix(c, alert, alert_ctx, a, why, sizeof why);
        if (rc != TE_ADAPTER_OK)
                snprintf(errstr, errsz, "fix: %s", why);
        return rc;
}

te_adapter_err_t te_adapter_make(const te_broker_worker_conf_t *conf,
                                 te_adapter_alert_fn alert, void *alert_ctx,
                                 te_adapter_t *out, char *errstr, size_t errsz)
{
        te_adapter_err_t rc;
        memset(out, 0, sizeof *out);
        switch (conf->adapter) {
        case TE_ADAPTER_SIM:
                rc = make_sim(conf, out, errstr, errsz);
                break;
        case TE_ADAPTER_IBKR:
                rc = make_ibkr(conf, alert, alert_ctx, out, errstr, errsz);
                break;
        case TE_ADAPTER_FIX:
                rc = make_fix(conf, alert, alert_ctx, out, errstr, errsz);
                break;
        default:
                snprintf(errstr, errsz, "adapter: unknown (%d)", conf->adapter);
                rc = TE_ADAPTER_ERR_CONFIG;
                break;
        }
        if (rc != TE_ADAPTER_OK)
                goto err;
        out->name = te_adapter_names[conf->adapter];
        if (conf->fault_script[0]) {
                /* the decorator owns the adapter from here, also on failure */
                out->broker =
                    te_faulty_new(out->broker, conf->fault_script, NULL, errstr, errsz);
                if (!out->broker) {
                        rc = TE_ADAPTER_ERR_CONFIG;
                        goto err;
                }
                TE_LOG(TE_LOG_WARN, NULL, "broker.fault_injection", "fault.script=%s",
                       conf->fault_script);
        }
        return TE_ADAPTER_OK;
err:
        te_adapter_term(out);
        return rc;
}

void te_adapter_term(te_adapter_t *a)
{
        te_broker_destroy(a->broker);
        te_bars_destroy(a->bars);
        memset(a, 0, sizeof *a);
}
