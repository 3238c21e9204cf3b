/*
 * fix_acceptor: a small scripted FIX 4.4 acceptor (SenderCompID EXECUTOR, TargetCompID
 * TE) for test_fix_restart.sh: orders rest until cancelled, so an adapter can be
 * restarted with open orders. One connection at a time; its own sequence numbers
 * live as long as the process.
 *
 *   fix_acceptor PORTFILE      listen on a free loopback port, write it to PORTFILE
 *
 * Logon and TestRequest are answered; a NewOrderSingle is acknowledged (ExecType 0)
 * and rests (one whose ClOrdID starts with F is then filled 1 at 10, ExecID
 * F-<ClOrdID>, and that fill is sent again after every later Logon, as a
 * counterparty resending what it had); an OrderCancelRequest cancels the order named by
 * OrigClOrdID (ExecType 4) or is refused (35=9) when there is none; an OrderStatusRequest
 * is answered with ExecType I and the order's status (OrdStatus 8 for an order it does
 * not know); a Logout is answered and the connection closed. Every message received is
 * printed as "RECV <MsgType> <ClOrdID> <OrigClOrdID>" on stdout. Runs until killed.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fix_proto.h"
#include "te_buf.h"
#include "te_proc.h"

#define MAX_ORD 256

typedef struct {
        char clordid[80], symbol[32], side[4], qty[32];
        int canceled, filled;
} ord_t;

static ord_t ords[MAX_ORD];
static int n_ord, fd = -1;
static int64_t seq_out, exec_n;

static void sendf(const char *type, const char *body)
{
        char tmp[1024], buf[2048];
        snprintf(tmp, sizeof tmp, "%s", body);
        te_fix_hdr_t h = {type, "EXECUTOR", "TE", ++seq_out, te_proc_wall_ms(), 0, 0};
        te_fix_enc_t e;
        te_fix_enc_begin_v(&e, buf, sizeof buf, &h, NULL);
        char *sv;
        for (char *p = strtok_r(tmp, "|", &sv); p; p = strtok_r(NULL, "|", &sv))
                te_fix_enc_str(&e, (int)strtol(p, NULL, 10), strchr(p, '=') + 1);
        long n = te_fix_enc_end(&e);
        if (n > 0 && send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
                fprintf(stderr, "fix_acceptor: send failed\n");
}

static ord_t *find(const char *clordid)
{
        for (int i = 0; i < n_ord; i++)
                if (strcmp(ords[i].clordid, clordid) == 0)
                        return &ords[i];
        return NULL;
}

static void report(const ord_t *o, const char *clordid, const char *orig, char et,
                   char st)
{
        char b[512];
        long qty = strtol(o->qty, NULL, 10);
        long leaves = st == '0' || st == '1' ? qty - o->filled : 0;
        if (st == '0' && o->filled)
                st = '1';
        te_errf(
            b, sizeof b,
            "37=B%s|11=%s|%s%s%s17=X%lld|150=%c|39=%c|55=%s|54=%s|38=%s|151=%ld|14=%d|"
            "6=%s",
            o->clordid, clordid, orig ? "41=" : "", orig ? orig : "", orig ? "|" : "",
            (long long)++exec_n, et, st, o->symbol, o->side, o->qty, leaves, o->filled,
            o->filled ? "10" : "0");
        sendf("8", b);
}

/* The fill of an order whose ClOrdID starts with F: 1 at 10, ExecID F-<ClOrdID>. */
static void fill_report(const ord_t *o)
{
        char b[512];
        te_errf(b, sizeof b,
                "37=B%s|11=%s|17=F-%s|150=F|39=1|55=%s|54=%s|38=%s|151=%ld|14=1|6=10|"
                "32=1|31=10",
                o->clordid, o->clordid, o->clordid, o->symbol, o->side, o->qty,
                strtol(o->qty, NULL, 10) - 1);
        sendf("8", b);
        printf("SENT F-%s\n", o->clordid);
        fflush(stdout);
}

static void on_msg(const te_fix_msg_t *m)
{
        char cl[80] = "-", orig[80] = "-", b[256];
        (void)te_fix_get_str(m, 11, cl, sizeof cl);
        (void)te_fix_get_str(m, 41, orig, sizeof orig);
        printf("RECV %s %s %s\n", m->msg_type, cl, orig);
        fflush(stdout);
        if (strcmp(m->msg_type, "A") == 0) {
                sendf("A", "98=0|108=30");
                /* resend the fills of open orders, as after a lost connection */
                for (int i = 0; i < n_ord; i++)
                        if (ords[i].filled && !ords[i].canceled)
                                fill_report(&ords[i]);
        } else if (strcmp(m->msg_type, "1") == 0) {
                char id[64] = "x";
                (void)te_fix_get_str(m, 112, id, sizeof id);
                snprintf(b, sizeof b, "112=%s", id);
                sendf("0", b);
        } else if (strcmp(m->msg_type, "5") == 0) {
                sendf("5", "58=bye");
                close(fd);
                fd = -1;
        } else if (strcmp(m->msg_type, "D") == 0 && n_ord < MAX_ORD) {
                ord_t *o = &ords[n_ord++];
                memset(o, 0, sizeof *o);
                te_strlcpy(o->clordid, cl, sizeof o->clordid);
                (void)te_fix_get_str(m, 55, o->symbol, sizeof o->symbol);
                (void)te_fix_get_str(m, 54, o->side, sizeof o->side);
                (void)te_fix_get_str(m, 38, o->qty, sizeof o->qty);
                report(o, cl, NULL, '0', '0');
                if (cl[0] == 'F') {
                        o->filled = 1;
                        fill_report(o);
                }
        } else if (strcmp(m->msg_type, "F") == 0) {
                ord_t *o = find(orig);
                if (!o || o->canceled) {
                        snprintf(b, sizeof b, "37=NONE|11=%s|41=%s|39=8|434=1|102=1", cl,
                                 orig);
                        sendf("9", b);
                        return;
                }
                o->canceled = 1;
                report(o, cl, orig, '4', '4');
        } else if (strcmp(m->msg_type, "H") == 0) {
                ord_t *o = find(cl);
                if (!o) {
                        snprintf(b, sizeof b,
                                 "37=NONE|11=%s|17=X%lld|150=I|39=8|55=X|54=1|151=0|14=0|"
                                 "6=0|58=unknown order",
                                 cl, (long long)++exec_n);
                        sendf("8", b);
                        return;
                }
                report(o, cl, NULL, 'I', o->canceled ? '4' : '0');
        }
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: fix_acceptor PORTFILE\n");
                return 2;
        }
        int lfd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t l = sizeof sa;
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
            listen(lfd, 4) != 0 || getsockname(lfd, (struct sockaddr *)&sa, &l) != 0) {
                perror("fix_acceptor");
                return 1;
        }
        FILE *pf = fopen(argv[1], "w");
        if (!pf)
                return 1;
        fprintf(pf, "%d\n", ntohs(sa.sin_port));
        fclose(pf);
        static char rbuf[65536];
        static te_fix_msg_t m;
        size_t rlen = 0;
        for (;;) {
                if (fd < 0) {
                        fd = accept(lfd, NULL, NULL);
                        rlen = 0;
                        continue;
                }
                ssize_t n = recv(fd, rbuf + rlen, sizeof rbuf - rlen, 0);
                if (n <= 0) {
                        close(fd);
                        fd = -1;
                        continue;
                }
                rlen += (size_t)n;
                size_t flen;
                char err[128];
                while (fd >= 0 &&
                       te_fix_frame_next_v((const uint8_t *)rbuf, rlen, NULL, &flen, err,
                                           sizeof err) == TE_FIX_OK) {
                        if (te_fix_parse(rbuf, flen, &m) == TE_FIX_OK)
                                on_msg(&m);
                        memmove(rbuf, rbuf + flen, rlen - flen);
                        rlen -= flen;
                }
        }
}
