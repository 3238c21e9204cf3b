/*
 * te_log: JSON lines on stderr.
 *
 * Each call builds the whole line in a bounded buffer and hands it to the kernel with
 * one write(2) under a mutex, so lines from different threads never interleave. A
 * message that would make the line longer than TE_LOG_LINE_MAX is cut (at a UTF-8
 * boundary) and the line carries "truncated":true.
 */
#include "te_log.h"

#include "te_buf.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Hard bound of one line, newline included. */
#define TE_LOG_LINE_MAX 8192
/* Bound of the formatted message before escaping. */
#define TE_LOG_MSG_MAX 4096
/* Bound of the process name. */
#define TE_LOG_PROC_MAX 64

te_log_level_t te_log_min_level = TE_LOG_INFO;

static pthread_mutex_t te_log_lock = PTHREAD_MUTEX_INITIALIZER;
static char te_log_proc[TE_LOG_PROC_MAX] = "";

static const char *const te_log_level_names[] = {"debug", "info", "warn", "error"};

void te_log_init(const char *proc_name, te_log_level_t min_level)
{
        pthread_mutex_lock(&te_log_lock);
        te_strlcpy(te_log_proc, proc_name ? proc_name : "", sizeof te_log_proc);
        te_log_min_level = min_level;
        pthread_mutex_unlock(&te_log_lock);
}

/* "2026-11-25T17:00:00.123Z" into ts (size >= 25). */
static void te_log_timestamp(char *ts, size_t tssz)
{
        struct timespec now;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        size_t n = strftime(ts, tssz, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(ts + n, tssz - n, ".%03ldZ", (long)(now.tv_nsec / 1000000));
}

/* Append ,"key":"value" when value is non-empty. */
static int te_log_put_id(te_buf_t *b, const char *key, const char *value)
{
        if (!value || !*value)
                return 0;
        if (te_buf_printf(b, ",\"%s\":", key) != 0)
                return -1;
        return te_buf_json_str(b, value);
}

/* Length of the longest prefix of s[0..n) that does not end inside a UTF-8 sequence. */
static size_t te_log_utf8_cut(const char *s, size_t n)
{
        size_t cut = n;
        /* step back over continuation bytes to the lead byte, then drop it too
         * unless the sequence it starts is complete within n */
        while (cut > 0 && ((unsigned char)s[cut - 1] & 0xc0) == 0x80)
                cut--;
        if (cut == 0)
                return n;
        unsigned char lead = (unsigned char)s[cut - 1];
        size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
        if (n - (cut - 1) >= need)
                return n;
        return cut - 1;
}

/* Write the whole buffer with one write(2); loop only on EINTR or a short write. */
static void te_log_emit(const char *p, size_t n)
{
        pthread_mutex_lock(&te_log_lock);
        while (n > 0) {
                ssize_t w = write(STDERR_FILENO, p, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                p += w;
                n -= (size_t)w;
        }
        pthread_mutex_unlock(&te_log_lock);
}

/* Last-resort line when even the fixed part of a line does not fit. */
static void te_log_emit_overflow(const char *ts, const char *lvl)
{
        char line[256];
        int n = snprintf(line, sizeof line,
                         "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"log.overflow\","
                         "\"msg\":\"\",\"truncated\":true}\n",
                         ts, lvl);
        if (n > 0 && (size_t)n < sizeof line)
                te_log_emit(line, (size_t)n);
}

void te_log_write(te_log_level_t lvl, const te_log_ids_t *ids, const char *event,
                  const char *fmt, ...)
{
        char ts[32];
        char proc[TE_LOG_PROC_MAX];
        char msg[TE_LOG_MSG_MAX];
        int truncated = 0;
        te_buf_t b;

        if ((int)lvl < TE_LOG_DEBUG || lvl > TE_LOG_ERROR)
                lvl = TE_LOG_ERROR;
        const char *lname = te_log_level_names[lvl];
        te_log_timestamp(ts, sizeof ts);

        va_list ap;
        va_start(ap, fmt);
        int mlen = vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        size_t msglen;
        if (mlen < 0) {
                msg[0] = '\0';
                msglen = 0;
        } else if ((size_t)mlen >= sizeof msg) {
                msglen = te_log_utf8_cut(msg, sizeof msg - 1);
                msg[msglen] = '\0';
                truncated = 1;
        } else {
                msglen = (size_t)mlen;
        }

        pthread_mutex_lock(&te_log_lock);
        memcpy(proc, te_log_proc, sizeof proc);
        pthread_mutex_unlock(&te_log_lock);

        /* room for ,"truncated":true}\n is kept out of the bound used for the body */
        static const char tail_trunc[] = ",\"truncated\":true}\n";
        te_buf_init(&b, TE_LOG_LINE_MAX - (sizeof tail_trunc - 1));
        if (te_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"proc\":", ts, lname) !=
                0 ||
            te_buf_json_str(&b, proc) != 0 || te_buf_puts(&b, ",\"event\":") != 0 ||
            te_buf_json_str(&b, event ? event : "") != 0)
                goto overflow;
        if (ids && (te_log_put_id(&b, "decision_id", ids->decision_id) != 0 ||
                    te_log_put_id(&b, "portfolio_id", ids->portfolio_id) != 0 ||
                    te_log_put_id(&b, "order_id", ids->order_id) != 0 ||
                    te_log_put_id(&b, "report_id", ids->report_id) != 0))
                goto overflow;
        if (te_buf_puts(&b, ",\"msg\":") != 0)
                goto overflow;

        /* escaping can grow the message up to six times: shrink until it fits */
        size_t mark = b.len;
        while (te_buf_json_str(&b, msg) != 0) {
                b.len = mark;
                if (msglen == 0)
                        goto overflow;
                msglen = te_log_utf8_cut(msg, msglen / 2);
                msg[msglen] = '\0';
                truncated = 1;
        }
        b.max += sizeof tail_trunc - 1;
        if (te_buf_puts(&b, truncated ? tail_trunc : "}\n") != 0)
                goto overflow;
        te_log_emit((const char *)b.data, b.len);
        te_buf_free(&b);
        return;

overflow:
        te_buf_free(&b);
        te_log_emit_overflow(ts, lname);
}
