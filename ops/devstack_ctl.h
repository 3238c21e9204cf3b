/*
 * devstack_ctl: the control protocol of exec-devstack's unix socket, both sides.
 *
 * A request is one line of at most TE_DSCTL_LINE_MAX bytes before its newline: a
 * command and its arguments separated by spaces or tabs, printable ASCII only (a CR
 * before the newline is dropped). Every request line gets one reply line, "ok ..." or
 * "err ...". The command set is one table, te_dsctl_cmds (name, argument kinds, usage):
 *   ping | help
 *   broker_down <id> | broker_up <id> | rtt <id> <ms>
 *   request_errors <api_key> <err> <count>     (err: number or name, e.g. NOT_LEADER_...)
 *   topic_error <topic> <err>                  (0 / NO_ERROR clears it)
 *   create_topic <name> <partitions>
 *
 * The server (exec-devstack) cuts its byte stream into lines (te_dsctl_line_t: a line
 * too long is answered once and skipped up to its newline) and turns a line into a
 * checked, typed request (te_dsctl_parse), or the "err" reply that says what is wrong.
 * Clients (exec-devstack-ctl, exec-backtest) join words into a request line
 * (te_dsctl_format), read reply lines with a deadline (te_dsctl_conn_t) and classify
 * them (te_dsctl_reply_ok); te_dsctl_call does one request on a fresh connection.
 */
#ifndef TE_DEVSTACK_CTL_H
#define TE_DEVSTACK_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>

#define TE_DSCTL_LINE_MAX     256  /* a request line, without its newline */
#define TE_DSCTL_REPLY_MAX    512  /* a reply line the server sends, with its newline */
#define TE_DSCTL_TOPIC_MAX    249  /* Kafka's limit on a topic name */
#define TE_DSCTL_MAX_PARTS    1024 /* partitions of a topic */
#define TE_DSCTL_MAX_ERR_PUSH 1000 /* request_errors <count> */
#define TE_DSCTL_RTT_MAX_MS   60000
#define TE_DSCTL_MAX_WORDS    5    /* the command and its arguments */
#define TE_DSCTL_CLIENT_REPLY 1024 /* a reply line a client accepts */

typedef enum {
        TE_DSCTL_PING,
        TE_DSCTL_HELP,
        TE_DSCTL_BROKER_DOWN,
        TE_DSCTL_BROKER_UP,
        TE_DSCTL_RTT,
        TE_DSCTL_REQUEST_ERRORS,
        TE_DSCTL_TOPIC_ERROR,
        TE_DSCTL_CREATE_TOPIC,
        TE_DSCTL__CNT
} te_dsctl_cmd_t;

/* A command: its name, the kinds of its arguments (one letter each: b broker id,
 * m round-trip ms, a API key, e error code, c count, T a topic of the cluster's,
 * t a new topic's name, p partitions) and its usage line. */
typedef struct te_dsctl_def_s {
        const char *name;
        const char *args;
        const char *usage;
} te_dsctl_def_t;

extern const te_dsctl_def_t te_dsctl_cmds[TE_DSCTL__CNT];

/* A checked request; each field is set by the commands that take it. */
typedef struct te_dsctl_req_s {
        te_dsctl_cmd_t cmd;
        int broker, ms, api_key, count, partitions;
        rd_kafka_resp_err_t err;
        const char *topic; /* points into the parsed line */
} te_dsctl_req_t;

/** Parse request line[0..len) (no newline; line[len] must be writable: the line is
 *  cut into words in place). Broker ids are 1..n_brokers. @returns 0 with *req, or
 *  -1 with the "err ..." reply in `reply`. */
int te_dsctl_parse(char *line, size_t len, int n_brokers, te_dsctl_req_t *req,
                   char *reply, size_t replysz);

/** The reply to help: "ok " and the usage lines joined by "; ". */
void te_dsctl_help(char *reply, size_t replysz);

/** A whole decimal integer in [min, max] (no sign '+', no blanks).
 *  @returns 0, or -1 if `s` is not one. */
int te_dsctl_parse_long(const char *s, long min, long max, long *out);

/** @returns 1 if `s` is a legal Kafka topic name, else 0. */
int te_dsctl_topic_name_ok(const char *s);

/* ---- the server's line assembly ---- */

typedef struct te_dsctl_line_s {
        size_t len;
        int overflow; /* the line passed TE_DSCTL_LINE_MAX: skipped to its newline */
        char buf[TE_DSCTL_LINE_MAX + 1];
} te_dsctl_line_t;

/** Add one received byte. @returns 1 when `ch` ends a line (a newline): the line is
 *  buf[0..len) unless overflow; the caller answers it, then te_dsctl_line_reset. */
int te_dsctl_line_feed(te_dsctl_line_t *l, char ch);

void te_dsctl_line_reset(te_dsctl_line_t *l);

/* ---- clients ---- */

/** Join words[0..n) with single spaces and a newline into out.
 *  @returns the length, or -1 if it does not fit in outsz - 1 bytes. */
int te_dsctl_format(char *out, size_t outsz, int n, const char *const *words);

/** @returns 1 for an "ok" reply ("ok" or "ok ..."), 0 for any other. */
int te_dsctl_reply_ok(const char *reply);

typedef struct te_dsctl_conn_s {
        int fd;
        int timeout_ms;                 /* for each reply */
        char in[TE_DSCTL_CLIENT_REPLY]; /* received, not yet returned */
        size_t in_len;
} te_dsctl_conn_t;

/** Connect to the socket at `path`. @returns 0, or -1 with errstr. */
int te_dsctl_connect(te_dsctl_conn_t *c, const char *path, int timeout_ms, char *errstr,
                     size_t errsz);

/** Send n bytes. @returns 0, or -1 with errstr. */
int te_dsctl_send(te_dsctl_conn_t *c, const char *p, size_t n, char *errstr,
                  size_t errsz);

/** Read one reply line (without its newline) into out.
 *  @returns 0, or -1 with errstr: no reply within the timeout, the connection
 *  closed first, or a line longer than outsz - 1 (or than the receive buffer). */
int te_dsctl_read_line(te_dsctl_conn_t *c, char *out, size_t outsz, char *errstr,
                       size_t errsz);

void te_dsctl_close(te_dsctl_conn_t *c);

/** One request on a fresh connection: send `words` as a line, read the reply into
 *  reply. @returns 1 for an ok reply, 0 for an err reply, -1 with errstr when there is
 *  no reply (connection, timeout, a request too long). */
int te_dsctl_call(const char *path, int timeout_ms, int n, const char *const *words,
                  char *reply, size_t replysz, char *errstr, size_t errsz);

#endif
