/*
 * te_codec_fields: the mapping between our Avro schemas and the C structs of
 * te_msg.h, one table per record (field order, names, kinds, offsets, C sizes, enum
 * symbols). The readers and the encoder walk these tables; te_codec_new checks each
 * parsed schema against its table (te_codec_check_record), so a schema edit that breaks
 * the mapping fails at start-up, not on the wire.
 */
#include "te_codec_int.h"

#include <string.h>

_Static_assert(sizeof(te_mode_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_unit_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_level_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_command_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_side_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_order_type_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_tif_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_aggr_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_intent_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_exec_type_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_order_status_t) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(te_severity_t) == sizeof(int), "enums are stored as int");

#define MEMBER_SIZE(T, m) sizeof(((T *)0)->m)
#define F_STR(T, m)                                                                      \
        {                                                                                \
#m, FD_STR, offsetof(T, m), MEMBER_SIZE(T, m), 0, NULL                   \
        }
#define F_ID(T, m)                                                                       \
        {                                                                                \
#m, FD_STR, offsetof(T, ids.m), MEMBER_SIZE(T, ids.m), 0, NULL           \
        }
#define F_ENUM(T, m, names, cnt)                                                         \
        {                                                                                \
#m, FD_ENUM, offsetof(T, m), cnt, 0, names                               \
        }
#define F_TS(T, m)                                                                       \
        {                                                                                \
#m, FD_TS, offsetof(T, m), 0, 0, NULL                                    \
        }
#define F_DBL(T, m)                                                                      \
        {                                                                                \
#m, FD_DOUBLE, offsetof(T, m), 0, 0, NULL                                \
        }
#define F_OPT(T, m)                                                                      \
        {                                                                                \
#m, FD_OPT_DOUBLE, offsetof(T, m), 0, offsetof(T, has_##m), NULL         \
        }
#define F_BOOL(T, m)                                                                     \
        {                                                                                \
#m, FD_BOOL, offsetof(T, m), 0, 0, NULL                                  \
        }
#define F_IDS(T)                                                                         \
        F_ID(T, decision_id), F_ID(T, portfolio_id), F_ID(T, strategy_id),               \
            F_ID(T, profile_version_id), F_ID(T, regime_id), F_ID(T, universe_id)

static const fd_t fd_target[] = {
    F_STR(te_target_t, ticker),
    F_DBL(te_target_t, value),
    F_OPT(te_target_t, ref_price),
};

static const fd_t fd_tp[] = {
    F_IDS(te_target_portfolio_t),
    F_ENUM(te_target_portfolio_t, mode, te_mode_names, TE_MODE__CNT),
    F_TS(te_target_portfolio_t, as_of),
    F_ENUM(te_target_portfolio_t, unit, te_unit_names, TE_UNIT__CNT),
    F_OPT(te_target_portfolio_t, nav),
    F_BOOL(te_target_portfolio_t, full_replace),
    {"targets", FD_TARGETS, offsetof(te_target_portfolio_t, targets), 0, 0, NULL},
};

static const fd_t fd_mode[] = {
    F_STR(te_exec_mode_t, scope),
    F_ENUM(te_exec_mode_t, level, te_level_names, TE_LEVEL__CNT),
    F_TS(te_exec_mode_t, effective_from),
    F_STR(te_exec_mode_t, reason),
};

static const fd_t fd_order[] = {
    F_ENUM(te_order_cmd_t, command, te_command_names, TE_CMD__CNT),
    F_STR(te_order_cmd_t, order_id),
    F_IDS(te_order_cmd_t),
    F_STR(te_order_cmd_t, ticker),
    F_ENUM(te_order_cmd_t, side, te_side_names, TE_SIDE__CNT),
    F_DBL(te_order_cmd_t, quantity),
    F_ENUM(te_order_cmd_t, order_type, te_order_type_names, TE_OT__CNT),
    F_OPT(te_order_cmd_t, limit_price),
    F_OPT(te_order_cmd_t, stop_price),
    F_ENUM(te_order_cmd_t, tif, te_tif_names, TE_TIF__CNT),
    F_ENUM(te_order_cmd_t, aggressiveness, te_aggr_names, TE_AGGR__CNT),
    F_ENUM(te_order_cmd_t, intent, te_intent_names, TE_INTENT__CNT),
    F_ENUM(te_order_cmd_t, mode, te_mode_names, TE_MODE__CNT),
    F_STR(te_order_cmd_t, route),
    F_TS(te_order_cmd_t, event_time),
    F_OPT(te_order_cmd_t, ref_price),
};

static const fd_t fd_report[] = {
    F_STR(te_exec_report_t, report_id),
    F_STR(te_exec_report_t, order_id),
    F_ENUM(te_exec_report_t, exec_type, te_exec_type_names, TE_EXEC__CNT),
    F_ENUM(te_exec_report_t, order_status, te_order_status_names, TE_OS__CNT),
    F_STR(te_exec_report_t, ticker),
    F_ENUM(te_exec_report_t, side, te_side_names, TE_SIDE__CNT),
    F_DBL(te_exec_report_t, last_qty),
    F_DBL(te_exec_report_t, last_price),
    F_DBL(te_exec_report_t, cum_qty),
    F_DBL(te_exec_report_t, leaves_qty),
    F_DBL(te_exec_report_t, avg_price),
    F_DBL(te_exec_report_t, commission),
    F_STR(te_exec_report_t, reason),
    F_STR(te_exec_report_t, broker),
    F_STR(te_exec_report_t, account),
    F_TS(te_exec_report_t, event_time),
    F_IDS(te_exec_report_t),
    F_ENUM(te_exec_report_t, mode, te_mode_names, TE_MODE__CNT),
};

static const fd_t fd_alert[] = {
    F_ENUM(te_alert_t, severity, te_severity_names, TE_SEV__CNT),
    F_STR(te_alert_t, source),
    F_STR(te_alert_t, code),
    F_STR(te_alert_t, message),
    F_TS(te_alert_t, event_time),
    F_STR(te_alert_t, decision_id),
    F_STR(te_alert_t, portfolio_id),
    F_STR(te_alert_t, order_id),
};

const fd_table_t te_codec_target_fd = {fd_target, NFD(fd_target)};

const fd_table_t te_codec_msg_fd[TE_MSG__CNT] = {
    {fd_tp, NFD(fd_tp)},         {fd_mode, NFD(fd_mode)},   {fd_order, NFD(fd_order)},
    {fd_report, NFD(fd_report)}, {fd_alert, NFD(fd_alert)},
};

/* ------------------------------------------------------------------ schema check */

static avro_schema_t resolve(avro_schema_t s)
{
        return s && is_avro_link(s) ? avro_schema_link_target(s) : s;
}

/* Check that `rec` matches the table and set the walker caps below `node`. */
int te_codec_check_record(avro_schema_t rec, const fd_t *fd, size_t n, te_avro_walk_t *w,
                          int node, const char *where, char *errstr, size_t errsz)
{
        if (!is_avro_record(rec) || avro_schema_record_size(rec) != n) {
                te_codec_seterr(errstr, errsz, "%s: expected a record of %zu fields",
                                where, n);
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
                const fd_t *f = &fd[i];
                const char *name = avro_schema_record_field_name(rec, (int)i);
                avro_schema_t fs =
                    resolve(avro_schema_record_field_get_by_index(rec, (int)i));
                int fnode = te_avro_walk_child(w, node, i);
                int ok = name && fs && fnode >= 0 && strcmp(name, f->name) == 0;
                if (ok) {
                        switch (f->kind) {
                        case FD_STR:
                                ok = is_avro_string(fs) &&
                                     te_avro_walk_set_max(w, fnode, f->size - 1) == 0;
                                break;
                        case FD_ENUM:
                                ok = is_avro_enum(fs) &&
                                     avro_schema_enum_number_of_symbols(fs) ==
                                         (int)f->size;
                                for (size_t k = 0; ok && k < f->size; k++) {
                                        const char *sym =
                                            avro_schema_enum_get(fs, (int)k);
                                        ok = sym && strcmp(sym, f->syms[k]) == 0;
                                }
                                break;
                        case FD_TS:
                                ok = is_avro_int64(fs);
                                break;
                        case FD_DOUBLE:
                                ok = is_avro_double(fs);
                                break;
                        case FD_OPT_DOUBLE:
                                ok = is_avro_union(fs) &&
                                     avro_schema_union_size(fs) == 2 &&
                                     is_avro_null(
                                         resolve(avro_schema_union_branch(fs, 0))) &&
                                     is_avro_double(
                                         resolve(avro_schema_union_branch(fs, 1)));
                                break;
                        case FD_BOOL:
                                ok = is_avro_boolean(fs);
                                break;
                        case FD_TARGETS:
                                ok = is_avro_array(fs) &&
                                     te_avro_walk_set_max(w, fnode, TE_TARGETS_MAX) == 0;
                                if (ok && te_codec_check_record(
                                              resolve(avro_schema_array_items(fs)),
                                              fd_target, NFD(fd_target), w,
                                              te_avro_walk_child(w, fnode, 0), "Target",
                                              errstr, errsz))
                                        return -1;
                                break;
                        }
                }
                if (!ok) {
                        te_codec_seterr(
                            errstr, errsz,
                            "%s: field %zu is '%s', expected '%s' matching te_msg.h",
                            where, i, name ? name : "?", f->name);
                        return -1;
                }
        }
        return 0;
}
