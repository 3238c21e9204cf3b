/*
 * fix_qf_acceptor: the scripted FIX 4.4 counterparty of the fault tests
 * (tests/integration/test_fix_faults_qf.sh). The session layer is QuickFIX's own
 * (libquickfix: ThreadedSocketAcceptor, FileStore, its Logon / resend / gap-fill
 * rules); only the order handling below is ours, and it is chosen per order by the
 * prefix of its Symbol, so one acceptor serves every scenario of a test in turn:
 *
 *   FILL*   (and any other symbol) filled at once, all of it
 *   PART*   acknowledged, then filled in three parts 150 ms apart
 *   SLOW*   acknowledged, then filled in six parts 600 ms apart
 *   REJ*    rejected (ExecType 8)
 *   RACE*   rests; a cancel is met by a fill of half first, then the cancel of the rest
 *   RACEF*  rests; a cancel is met by a fill of all of it, then OrderCancelReject 35=9
 *   NOREP*  rests; a replace is refused (35=9, CxlRejResponseTo 2); a cancel works
 *   OUT*    acknowledged; 100 ms later the connection is dropped and the order filled
 *           in two parts while the initiator is away (QuickFIX stores those reports
 *           and resends them when asked)
 *   OUTH*   the same, but the fill is silent: only an OrderStatusRequest shows it
 *   MREST*  acknowledged, then rests (filled only by an OUTM* drop)
 *   OUTM*   acknowledged; 100 ms later the connection is dropped, half of it is filled
 *           silently (it stays live) and every live MREST* order is filled silently;
 *           the rest of it is filled 300 ms after an OrderMassStatusRequest answered
 *   GAP*    acknowledged; then three outgoing MsgSeqNums are skipped (Session API)
 *           and the fill is sent after the gap
 *   DUP*    filled, then the same fill report (same ExecID) sent again with
 *           PossDupFlag=Y and OrigSendingTime
 *   DUPX*   the same, the second copy without OrigSendingTime (a malformed duplicate)
 *   GARB*   filled; the pass-through proxy in front of QuickFIX writes garbage bytes
 *           to the initiator right before that fill report
 *   RESET*  acknowledged; then QuickFIX sends a Logon with ResetSeqNumFlag=Y in the
 *           running session (both its numbers restart at 1), and 300 ms later the
 *           order is filled
 * An OrderStatusRequest (35=H) is answered with ExecType I and the order's state
 * (OrdStatus 8 for an order it does not know). An OrderMassStatusRequest (35=AF) is
 * answered, while the file CTLDIR/mass_status exists, with one ExecutionReport
 * (ExecType I, MassStatusReqID echoed, TotNumReports) per live order, the last with
 * LastRptRequested=Y (one with ClOrdID NONE when no order is live); without that file
 * it is refused with a BusinessMessageReject (unsupported message type). While the
 * file CTLDIR/refuse_logon exists, every Logon is refused (FIX::RejectLogon with the
 * file's first line).
 *
 *   fix_qf_acceptor CFG LOG CTLDIR PROXY_PORT QF_PORT
 *
 * CFG is a QuickFIX settings file for an acceptor on QF_PORT; the initiator connects
 * to PROXY_PORT (loopback), which forwards to QF_PORT. LOG gets one line per
 * observable action (flushed at once), read by the tests:
 *   READY
 *   LOGON / LOGOUT                        the session's state changes
 *   IN <type> <seq> [k=v ...]             an admin message received (2: 7/16, A: 141)
 *   OUT <type> <seq> [text]               an admin message sent (5 with its Text)
 *   REFUSE_LOGON <text>
 *   RECV <type> <ClOrdID> <OrigClOrdID> <Symbol>
 *   ER <ExecID> <ClOrdID> <ExecType> <OrdStatus> <LastQty> <LastPx> <CumQty>
 *   DUP <ExecID> <ClOrdID> <with|without>  the same report again, PossDupFlag=Y
 *   SILENT_FILL <ClOrdID> <qty> <px>
 *   MASS <MassStatusReqID> <orders listed>  / MASS_REFUSED <MassStatusReqID>
 *   CXLREJ <ClOrdID> <OrigClOrdID> <CxlRejResponseTo>
 *   DROP / SKIP <n> / GARBAGE <bytes> / RESET
 * Runs until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Message.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/ThreadedSocketAcceptor.h>

namespace
{

std::mutex log_mu;
FILE *log_fp;

void logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void logf(const char *fmt, ...)
{
        std::lock_guard<std::mutex> g(log_mu);
        va_list ap;
        va_start(ap, fmt);
        vfprintf(log_fp, fmt, ap);
        va_end(ap);
        fputc('\n', log_fp);
        fflush(log_fp);
}

std::string get(const FIX::FieldMap &m, int tag, const char *dflt = "-")
{
        return m.isSetField(tag) ? m.getField(tag) : std::string(dflt);
}

int64_t now_ms()
{
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
}

std::string num(double v)
{
        char b[64];
        snprintf(b, sizeof b, "%.10g", v);
        return b;
}

/* One thread runs every scripted action in time order, so the book needs no lock and
 * no QuickFIX callback ever sends. */
class Scheduler
{
      public:
        void at(int64_t delay_ms, std::function<void()> fn)
        {
                std::lock_guard<std::mutex> g(mu_);
                q_.emplace(std::make_pair(now_ms() + delay_ms, n_++), std::move(fn));
                cv_.notify_one();
        }
        void run()
        {
                std::unique_lock<std::mutex> l(mu_);
                for (;;) {
                        if (q_.empty()) {
                                cv_.wait(l);
                                continue;
                        }
                        auto it = q_.begin();
                        int64_t wait = it->first.first - now_ms();
                        if (wait > 0) {
                                cv_.wait_for(l, std::chrono::milliseconds(wait));
                                continue;
                        }
                        auto fn = std::move(it->second);
                        q_.erase(it);
                        l.unlock();
                        fn();
                        l.lock();
                }
        }

      private:
        std::mutex mu_;
        std::condition_variable cv_;
        std::map<std::pair<int64_t, uint64_t>, std::function<void()>> q_;
        uint64_t n_ = 0;
};

struct Order {
        std::string order_id, clordid, symbol, side, scen;
        double qty = 0, px = 10, cum = 0, value = 0;
        char status = '0';
};

class App : public FIX::Application
{
      public:
        explicit App(const std::string &ctl) : ctl_(ctl)
        {
        }
        Scheduler sched;

        void onCreate(const FIX::SessionID &sid)
        {
                sid_ = sid;
        }
        void onLogon(const FIX::SessionID &)
        {
                logf("LOGON");
        }
        void onLogout(const FIX::SessionID &)
        {
                logf("LOGOUT");
        }
        void toAdmin(FIX::Message &m, const FIX::SessionID &)
        {
                const FIX::Header &h = m.getHeader();
                logf("OUT %s %s %s", get(h, 35).c_str(), get(h, 34).c_str(),
                     m.isSetField(58) ? m.getField(58).c_str() : "");
        }
        void toApp(FIX::Message &m, const FIX::SessionID &) throw(FIX::DoNotSend)
        {
                int mode = dup_mode_.load();
                if (!mode)
                        return;
                FIX::Header &h = m.getHeader();
                h.setField(43, "Y");
                if (mode == 1)
                        h.setField(122, h.getField(52));
        }
        void fromAdmin(const FIX::Message &m,
                       const FIX::SessionID &) throw(FIX::FieldNotFound,
                                                     FIX::IncorrectDataFormat,
                                                     FIX::IncorrectTagValue,
                                                     FIX::RejectLogon)
        {
                const FIX::Header &h = m.getHeader();
                std::string t = get(h, 35);
                std::string extra;
                if (t == "2")
                        extra = " 7=" + get(m, 7) + " 16=" + get(m, 16);
                else if (t == "A")
                        extra = " 141=" + get(m, 141, "N");
                else if (t == "3")
                        extra = " 45=" + get(m, 45) + " 373=" + get(m, 373) +
                                " 371=" + get(m, 371);
                else if (t == "4")
                        extra = " 123=" + get(m, 123, "N") + " 36=" + get(m, 36);
                logf("IN %s %s%s", t.c_str(), get(h, 34).c_str(), extra.c_str());
                if (t == "A") {
                        std::ifstream f(ctl_ + "/refuse_logon");
                        if (f) {
                                std::string why;
                                std::getline(f, why);
                                if (why.empty())
                                        why = "logon refused";
                                logf("REFUSE_LOGON %s", why.c_str());
                                throw FIX::RejectLogon(why);
                        }
                }
        }
        void fromApp(const FIX::Message &m,
                     const FIX::SessionID &) throw(FIX::FieldNotFound,
                                                   FIX::IncorrectDataFormat,
                                                   FIX::IncorrectTagValue,
                                                   FIX::UnsupportedMessageType)
        {
                if (get(m.getHeader(), 35) == "AF" &&
                    !std::ifstream(ctl_ + "/mass_status")) {
                        logf("MASS_REFUSED %s", get(m, 584).c_str());
                        throw FIX::UnsupportedMessageType();
                }
                FIX::Message copy(m);
                sched.at(0, [this, copy]() { on_app(copy); });
        }

      private:
        std::string ctl_;
        FIX::SessionID sid_;
        std::atomic<int> dup_mode_{0};             /* 1: PossDup with 122, 2: without */
        std::map<std::string, Order> book_;        /* by OrderID */
        std::map<std::string, std::string> by_cl_; /* live or old ClOrdID -> OrderID */
        int n_ord_ = 0, n_exec_ = 0;
        std::vector<std::pair<int, std::string>> extra_; /* on the next report only */

        FIX::Session *session()
        {
                return FIX::Session::lookupSession(sid_);
        }

        void send(FIX::Message &m)
        {
                try {
                        FIX::Session::sendToTarget(m, sid_);
                } catch (FIX::SessionNotFound &) {
                        logf("ERROR session not found");
                }
        }

        /* An ExecutionReport for o; last_qty > 0 makes it a fill. */
        std::string report(const Order &o, const std::string &clordid,
                           const std::string &orig, char exec_type, double last_qty,
                           const char *text = nullptr, int dup = 0,
                           std::string exec_id = "")
        {
                if (exec_id.empty())
                        exec_id =
                            (exec_type == 'I' ? "S" : "E") + std::to_string(++n_exec_);
                FIX::Message m;
                m.getHeader().setField(35, "8");
                m.setField(37, o.order_id);
                m.setField(11, clordid);
                if (!orig.empty())
                        m.setField(41, orig);
                m.setField(17, exec_id);
                m.setField(150, std::string(1, exec_type));
                m.setField(39, std::string(1, o.status));
                m.setField(55, o.symbol);
                m.setField(54, o.side);
                m.setField(38, num(o.qty));
                bool open = o.status == '0' || o.status == '1';
                m.setField(151, num(open ? o.qty - o.cum : 0));
                m.setField(14, num(o.cum));
                m.setField(6, num(o.cum > 0 ? o.value / o.cum : 0));
                if (last_qty > 0) {
                        m.setField(32, num(last_qty));
                        m.setField(31, num(o.px));
                }
                if (text)
                        m.setField(58, text);
                for (auto &f : extra_)
                        m.setField(f.first, f.second);
                extra_.clear();
                if (dup) {
                        logf("DUP %s %s %s", exec_id.c_str(), clordid.c_str(),
                             dup == 1 ? "with" : "without");
                        dup_mode_ = dup;
                        send(m);
                        dup_mode_ = 0;
                        return exec_id;
                }
                logf("ER %s %s %c %c %s %s %s", exec_id.c_str(), clordid.c_str(),
                     exec_type, o.status, num(last_qty).c_str(),
                     num(last_qty > 0 ? o.px : 0).c_str(), num(o.cum).c_str());
                send(m);
                return exec_id;
        }

        void book_fill(Order &o, double q)
        {
                if (q > o.qty - o.cum)
                        q = o.qty - o.cum;
                o.cum += q;
                o.value += q * o.px;
                o.status = o.cum >= o.qty ? '2' : '1';
        }

        /* Fill q of the order (if still open) and report it. */
        std::string fill(const std::string &oid, double q)
        {
                Order &o = book_[oid];
                if (o.status != '0' && o.status != '1')
                        return "";
                book_fill(o, q);
                return report(o, o.clordid, "", 'F', q);
        }

        void cxl_reject(const Order *o, const std::string &cl, const std::string &orig,
                        char to, const char *text)
        {
                FIX::Message m;
                m.getHeader().setField(35, "9");
                m.setField(37, o ? o->order_id : "NONE");
                m.setField(11, cl);
                m.setField(41, orig);
                m.setField(39, std::string(1, o ? o->status : '8'));
                m.setField(434, std::string(1, to));
                m.setField(102, o ? "0" : "1");
                m.setField(58, text);
                logf("CXLREJ %s %s %c", cl.c_str(), orig.c_str(), to);
                send(m);
        }

        Order *find(const std::string &cl)
        {
                auto it = by_cl_.find(cl);
                return it == by_cl_.end() ? nullptr : &book_[it->second];
        }

        static bool starts(const std::string &s, const char *p)
        {
                return s.compare(0, strlen(p), p) == 0;
        }

        void on_app(const FIX::Message &m)
        {
                std::string t = get(m.getHeader(), 35), cl = get(m, 11),
                            orig = get(m, 41), sym = get(m, 55);
                logf("RECV %s %s %s %s", t.c_str(), cl.c_str(), orig.c_str(),
                     sym.c_str());
                if (t == "D")
                        on_new(m, cl, sym);
                else if (t == "F")
                        on_cancel(cl, orig);
                else if (t == "G")
                        on_replace(m, cl, orig);
                else if (t == "H")
                        on_status(cl);
                else if (t == "AF")
                        on_mass(get(m, 584));
        }

        /* An OrderMassStatusRequest: one status per live order, the last flagged. */
        void on_mass(const std::string &id)
        {
                std::vector<std::string> live;
                for (auto &kv : book_)
                        if (kv.second.status == '0' || kv.second.status == '1')
                                live.push_back(kv.first);
                logf("MASS %s %zu", id.c_str(), live.size());
                std::string tot = std::to_string(live.size());
                if (live.empty()) {
                        Order u;
                        u.order_id = "NONE";
                        u.symbol = "X";
                        u.side = "1";
                        u.status = '8';
                        extra_ = {{584, id}, {911, tot}, {912, "Y"}};
                        report(u, "NONE", "", 'I', 0);
                        return;
                }
                for (size_t i = 0; i < live.size(); i++) {
                        Order &o = book_[live[i]];
                        extra_ = {{584, id}, {911, tot}};
                        if (i + 1 == live.size())
                                extra_.push_back({912, "Y"});
                        report(o, o.clordid, "", 'I', 0);
                        if (o.scen == "OUTM") {
                                std::string oid = o.order_id;
                                sched.at(300, [this, oid]() {
                                        fill(oid, book_[oid].qty - book_[oid].cum);
                                });
                        }
                }
        }

        void on_new(const FIX::Message &m, const std::string &cl, const std::string &sym)
        {
                Order n;
                n.order_id = "Q" + std::to_string(++n_ord_);
                n.clordid = cl;
                n.symbol = sym;
                n.side = get(m, 54);
                n.qty = strtod(get(m, 38, "0").c_str(), nullptr);
                if (m.isSetField(44))
                        n.px = strtod(m.getField(44).c_str(), nullptr);
                static const char *scen[] = {"OUTH",  "OUTM", "OUT",   "DUPX",  "DUP",
                                             "RACEF", "RACE", "NOREP", "PART",  "SLOW",
                                             "GAP",   "GARB", "REJ",   "RESET", "MREST"};
                n.scen = "FILL";
                for (const char *p : scen)
                        if (starts(sym, p)) {
                                n.scen = p;
                                break;
                        }
                if (by_cl_.count(cl)) {
                        logf("DUPLICATE_ORDER %s", cl.c_str());
                        return;
                }
                by_cl_[cl] = n.order_id;
                book_[n.order_id] = n;
                Order &b = book_[n.order_id];
                std::string oid = b.order_id, s = b.scen;
                if (s == "REJ") {
                        b.status = '8';
                        report(b, cl, "", '8', 0, "scripted reject");
                        return;
                }
                report(b, cl, "", '0', 0);
                double q = b.qty;
                if (s == "FILL" || s == "GARB") {
                        fill(oid, q);
                } else if (s == "DUP" || s == "DUPX") {
                        std::string x = fill(oid, q);
                        int mode = s == "DUP" ? 1 : 2;
                        sched.at(100, [this, oid, x, mode]() {
                                Order &o = book_[oid];
                                report(o, o.clordid, "", 'F', o.qty, nullptr, mode, x);
                        });
                } else if (s == "PART" || s == "SLOW") {
                        int parts = s == "PART" ? 3 : 6, gap = s == "PART" ? 150 : 600;
                        double each = q >= parts ? (double)(long)(q / parts) : q;
                        for (int i = 1; i <= parts; i++)
                                sched.at((int64_t)gap * i, [this, oid, each, i, parts]() {
                                        Order &o = book_[oid];
                                        fill(oid, i == parts ? o.qty - o.cum : each);
                                });
                } else if (s == "OUT" || s == "OUTH") {
                        bool silent = s == "OUTH";
                        sched.at(100, [this, oid, silent]() {
                                FIX::Session *ss = session();
                                if (ss)
                                        ss->disconnect();
                                logf("DROP");
                                Order &o = book_[oid];
                                if (silent) {
                                        book_fill(o, o.qty);
                                        logf("SILENT_FILL %s %s %s", o.clordid.c_str(),
                                             num(o.qty).c_str(), num(o.px).c_str());
                                        return;
                                }
                                double half = (double)(long)(o.qty / 2);
                                fill(oid, half > 0 ? half : o.qty);
                                fill(oid, o.qty - o.cum);
                        });
                } else if (s == "OUTM") {
                        sched.at(100, [this, oid]() {
                                FIX::Session *ss = session();
                                if (ss)
                                        ss->disconnect();
                                logf("DROP");
                                Order &o = book_[oid];
                                double half = (double)(long)(o.qty / 2);
                                book_fill(o, half);
                                logf("SILENT_FILL %s %s %s", o.clordid.c_str(),
                                     num(half).c_str(), num(o.px).c_str());
                                for (auto &kv : book_) {
                                        Order &r = kv.second;
                                        if (r.scen != "MREST" ||
                                            (r.status != '0' && r.status != '1'))
                                                continue;
                                        double rq = r.qty - r.cum;
                                        book_fill(r, rq);
                                        logf("SILENT_FILL %s %s %s", r.clordid.c_str(),
                                             num(rq).c_str(), num(r.px).c_str());
                                }
                        });
                } else if (s == "RESET") {
                        sched.at(100, [this]() {
                                FIX::Message lo;
                                lo.getHeader().setField(35, "A");
                                lo.setField(98, "0");
                                lo.setField(108, "30");
                                lo.setField(141, "Y");
                                logf("RESET");
                                send(lo);
                        });
                        sched.at(400, [this, oid]() { fill(oid, book_[oid].qty); });
                } else if (s == "GAP") {
                        sched.at(100, [this, oid]() {
                                FIX::Session *ss = session();
                                if (ss)
                                        ss->setNextSenderMsgSeqNum(
                                            ss->getExpectedSenderNum() + 3);
                                logf("SKIP 3");
                                fill(oid, book_[oid].qty);
                        });
                }
        }

        void on_cancel(const std::string &cl, const std::string &orig)
        {
                Order *o = find(orig);
                if (!o || (o->status != '0' && o->status != '1')) {
                        cxl_reject(o, cl, orig, '1', "too late to cancel");
                        return;
                }
                if (o->scen == "RACEF") {
                        fill(o->order_id, o->qty - o->cum);
                        cxl_reject(o, cl, orig, '1', "too late to cancel: filled");
                        return;
                }
                if (o->scen == "RACE") {
                        double half = (double)(long)(o->qty / 2);
                        fill(o->order_id, half > 0 ? half : o->qty);
                }
                o->status = '4';
                by_cl_[cl] = o->order_id;
                o->clordid = cl;
                report(*o, cl, orig, '4', 0);
        }

        void on_replace(const FIX::Message &m, const std::string &cl,
                        const std::string &orig)
        {
                Order *o = find(orig);
                if (!o || (o->status != '0' && o->status != '1') || o->scen == "NOREP") {
                        cxl_reject(o, cl, orig, '2', "replace refused");
                        return;
                }
                o->qty = strtod(get(m, 38, "0").c_str(), nullptr);
                if (m.isSetField(44))
                        o->px = strtod(m.getField(44).c_str(), nullptr);
                by_cl_[cl] = o->order_id;
                o->clordid = cl;
                report(*o, cl, orig, '5', 0);
        }

        void on_status(const std::string &cl)
        {
                Order *o = find(cl);
                if (!o) {
                        Order u;
                        u.order_id = "NONE";
                        u.symbol = "X";
                        u.side = "1";
                        u.status = '8';
                        report(u, cl, "", 'I', 0, "unknown order");
                        return;
                }
                report(*o, cl, "", 'I', 0);
        }
};

/* ---- the pass-through proxy ------------------------------------------------ */

int listen_on(int port)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = htons((uint16_t)port);
        if (fd < 0 || bind(fd, (sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 8) != 0)
                return -1;
        return fd;
}

int connect_to(int port)
{
        for (int i = 0; i < 100; i++) {
                int fd = socket(AF_INET, SOCK_STREAM, 0);
                sockaddr_in sa{};
                sa.sin_family = AF_INET;
                sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                sa.sin_port = htons((uint16_t)port);
                if (connect(fd, (sockaddr *)&sa, sizeof sa) == 0)
                        return fd;
                close(fd);
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
}

bool write_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
                if (w <= 0)
                        return false;
                p += w;
                n -= (size_t)w;
        }
        return true;
}

/* The length of the whole frame at the start of buf, 0 if incomplete, -1 if it does
 * not start like a FIX frame. */
long frame_len(const std::string &buf)
{
        static const std::string pre = "8=FIX.4.4\0019=";
        if (buf.size() < pre.size())
                return 0;
        if (buf.compare(0, pre.size(), pre) != 0)
                return -1;
        size_t soh = buf.find('\001', pre.size());
        if (soh == std::string::npos)
                return buf.size() > pre.size() + 8 ? -1 : 0;
        long body = strtol(buf.c_str() + pre.size(), nullptr, 10);
        long total = (long)soh + 1 + body + 7;
        return (long)buf.size() >= total ? total : 0;
}

/* The garbage written before a GARB* fill: junk bytes, then a frame whose CheckSum
 * is wrong. */
const char garbage[] =
    "\x00\x7f\xff GARBAGE \001\0018=FIX.4.4\0019=5\00135=0\00110=000\001";

void pump(int client, int upstream)
{
        std::string down;
        pollfd p[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
        char b[65536];
        for (;;) {
                if (poll(p, 2, -1) < 0)
                        break;
                if (p[0].revents) {
                        ssize_t n = recv(client, b, sizeof b, 0);
                        if (n <= 0 || !write_all(upstream, b, (size_t)n))
                                break;
                }
                if (p[1].revents) {
                        ssize_t n = recv(upstream, b, sizeof b, 0);
                        if (n <= 0)
                                break;
                        down.append(b, (size_t)n);
                        bool ok = true;
                        for (;;) {
                                long l = frame_len(down);
                                if (l < 0)
                                        l = (long)down.size(); /* not ours to judge */
                                if (l == 0)
                                        break;
                                std::string f = down.substr(0, (size_t)l);
                                down.erase(0, (size_t)l);
                                if (f.find("\00135=8\001") != std::string::npos &&
                                    f.find("\00155=GARB") != std::string::npos &&
                                    f.find("\001150=F\001") != std::string::npos &&
                                    f.find("\00143=Y\001") == std::string::npos) {
                                        logf("GARBAGE %zu", sizeof garbage - 1);
                                        ok = write_all(client, garbage,
                                                       sizeof garbage - 1);
                                }
                                if (!ok || !write_all(client, f.data(), f.size())) {
                                        ok = false;
                                        break;
                                }
                                if (down.empty())
                                        break;
                        }
                        if (!ok)
                                break;
                }
        }
        close(client);
        close(upstream);
}

void proxy(int lfd, int qf_port)
{
        for (;;) {
                int c = accept(lfd, nullptr, nullptr);
                if (c < 0)
                        continue;
                int u = connect_to(qf_port);
                if (u < 0) {
                        close(c);
                        continue;
                }
                std::thread(pump, c, u).detach();
        }
}

} // namespace

int main(int argc, char **argv)
{
        if (argc != 6) {
                fprintf(stderr,
                        "usage: fix_qf_acceptor CFG LOG CTLDIR PROXY_PORT QF_PORT\n");
                return 2;
        }
        log_fp = fopen(argv[2], "a");
        if (!log_fp) {
                perror(argv[2]);
                return 1;
        }
        sigset_t sigs;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        pthread_sigmask(SIG_BLOCK, &sigs, nullptr); /* every thread inherits it */
        int lfd = listen_on((int)strtol(argv[4], nullptr, 10));
        if (lfd < 0) {
                perror("fix_qf_acceptor: proxy port");
                return 1;
        }
        try {
                FIX::SessionSettings settings(argv[1]);
                App app(argv[3]);
                FIX::FileStoreFactory store(settings);
                FIX::FileLogFactory logs(settings);
                FIX::ThreadedSocketAcceptor acceptor(app, store, settings, logs);
                acceptor.start();
                std::thread(&Scheduler::run, &app.sched).detach();
                std::thread(proxy, lfd, (int)strtol(argv[5], nullptr, 10)).detach();
                logf("READY");
                int sig = 0;
                sigwait(&sigs, &sig);
                acceptor.stop(true);
                logf("STOPPED");
                _exit(0); /* detached threads still block in accept/poll */
        } catch (std::exception &e) {
                fprintf(stderr, "fix_qf_acceptor: %s\n", e.what());
                return 1;
        }
}
