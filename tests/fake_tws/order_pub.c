/*
 * order_pub: test helper that publishes OrderCommands (Avro, Confluent framing) to a
 * topic, keyed by portfolio_id, the way exec-planner does. One command per input
 * line (whitespace separated, '#' comments):
 *
 *   NEW    ORDER_ID PORTFOLIO TICKER BUY|SELL QTY MARKET|LIMIT|STOP|STOP_LIMIT
 *          LIMIT_PRICE STOP_PRICE TIF [MODE] [ROUTE]      (prices: '-' = none)
 *   REPLACE  (the fields of NEW: the order's new terms)
 *   CANCEL ORDER_ID PORTFOLIO TICKER BUY|SELL QTY
 *
 *   order_pub BOOTSTRAP TOPIC < commands.txt
 *
 * decision_id is "d-" + ORDER_ID; the other attribution ids are fixed test values.
 * Exits 0 once every message is delivered, 1 on any error.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"
#include "te_codec.h"
#include "te_msg.h"

static int parse_enum(const char *const *names, int n, const char *s, int *out)
{
        int v = te_enum_parse(names, n, s);
        if (v < 0)
                return -1;
        *out = v;
        return 0;
}

static int parse_line(char *line, te_order_cmd_t *c)
{
        char *tok[12];
        int n = 0;
        for (char *save = NULL, *t = strtok_r(line, " \t\r\n", &save); t && n < 12;
             t = strtok_r(NULL, " \t\r\n", &save))
                tok[n++] = t;
        if (n == 0 || tok[0][0] == '#')
                return 1;
        if (n < 6)
                return -1;
        memset(c, 0, sizeof *c);
        int v;
        if (!strcmp(tok[0], "NEW"))
                c->command = TE_CMD_NEW;
        else if (!strcmp(tok[0], "REPLACE"))
                c->command = TE_CMD_REPLACE;
        else if (!strcmp(tok[0], "CANCEL"))
                c->command = TE_CMD_CANCEL;
        else
                return -1;
        te_strlcpy(c->order_id, tok[1], sizeof c->order_id);
        snprintf(c->ids.decision_id, sizeof c->ids.decision_id, "d-%s", tok[1]);
        te_strlcpy(c->ids.portfolio_id, tok[2], sizeof c->ids.portfolio_id);
        te_strlcpy(c->ids.strategy_id, "s-ibkr", sizeof c->ids.strategy_id);
        te_strlcpy(c->ids.profile_version_id, "pv1", sizeof c->ids.profile_version_id);
        te_strlcpy(c->ids.regime_id, "r1", sizeof c->ids.regime_id);
        te_strlcpy(c->ids.universe_id, "u1", sizeof c->ids.universe_id);
        te_strlcpy(c->ticker, tok[3], sizeof c->ticker);
        if (parse_enum(te_side_names, TE_SIDE__CNT, tok[4], &v) != 0)
                return -1;
        c->side = (te_side_t)v;
        c->quantity = strtod(tok[5], NULL);
        c->mode = TE_MODE_PRODUCTION;
        te_strlcpy(c->route, "ibkr", sizeof c->route);
        c->event_time = 1735800000000;
        if (c->command == TE_CMD_CANCEL)
                return 0;
        if (n < 10 || parse_enum(te_order_type_names, TE_OT__CNT, tok[6], &v) != 0)
                return -1;
        c->order_type = (te_order_type_t)v;
        if (strcmp(tok[7], "-")) {
                c->has_limit_price = 1;
                c->limit_price = strtod(tok[7], NULL);
        }
        if (strcmp(tok[8], "-")) {
                c->has_stop_price = 1;
                c->stop_price = strtod(tok[8], NULL);
        }
        if (parse_enum(te_tif_names, TE_TIF__CNT, tok[9], &v) != 0)
                return -1;
        c->tif = (te_tif_t)v;
        if (n > 10 && parse_enum(te_mode_names, TE_MODE__CNT, tok[10], &v) == 0)
                c->mode = (te_mode_t)v;
        if (n > 11)
                te_strlcpy(c->route, tok[11], sizeof c->route);
        return 0;
}

int main(int argc, char **argv)
{
        char errstr[512];
        if (argc != 3) {
                fprintf(stderr, "usage: order_pub BOOTSTRAP TOPIC < commands\n");
                return 2;
        }
        te_codec_t *codec = te_codec_new(errstr, sizeof errstr);
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (!codec ||
            rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], errstr,
                              sizeof errstr) ||
            rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr,
                              sizeof errstr) ||
            rd_kafka_conf_set(conf, "linger.ms", "0", errstr, sizeof errstr)) {
                fprintf(stderr, "order_pub: %s\n", errstr);
                return 1;
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        if (!rk) {
                fprintf(stderr, "order_pub: %s\n", errstr);
                return 1;
        }
        te_buf_t buf;
        te_buf_init(&buf, TE_CODEC_MAX_MESSAGE);
        char line[1024];
        int rc = 0, lineno = 0, n = 0;
        while (fgets(line, sizeof line, stdin)) {
                te_order_cmd_t c;
                lineno++;
                int p = parse_line(line, &c);
                if (p == 1)
                        continue;
                if (p != 0 || te_codec_encode_order_cmd(codec, &c, &buf, errstr,
                                                        sizeof errstr) != TE_CODEC_OK) {
                        fprintf(stderr, "order_pub: line %d: invalid command\n", lineno);
                        rc = 1;
                        break;
                }
                if (rd_kafka_producev(
                        rk, RD_KAFKA_V_TOPIC(argv[2]),
                        RD_KAFKA_V_KEY(c.ids.portfolio_id, strlen(c.ids.portfolio_id)),
                        RD_KAFKA_V_VALUE(buf.data, buf.len),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_END) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                        fprintf(stderr, "order_pub: produce failed\n");
                        rc = 1;
                        break;
                }
                n++;
                rd_kafka_poll(rk, 0);
        }
        if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                fprintf(stderr, "order_pub: flush timed out\n");
                rc = 1;
        }
        rd_kafka_destroy(rk);
        te_buf_free(&buf);
        te_codec_destroy(codec);
        if (rc == 0)
                fprintf(stderr, "order_pub: %d commands published\n", n);
        return rc;
}
