/*
 * te_http: /metrics, /healthz and /readyz over libmicrohttpd (see te_http.h).
 */
#include "te_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define TE_HTTP_METRICS_MAX  (8u << 20) /* bound on one exposition */
#define TE_HTTP_CONN_TIMEOUT 10         /* seconds */
#define TE_HTTP_MAX_CONNS    32

struct te_http_s {
        struct MHD_Daemon *d;
        te_metrics_t *reg;
        te_http_ready_fn *ready;
        void *ready_arg;
        int port;
};

static enum MHD_Result te_http_reply(struct MHD_Connection *conn, unsigned status,
                                     const char *ctype, const void *body, size_t len)
{
        struct MHD_Response *r = MHD_create_response_from_buffer(
            len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
        if (!r)
                return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        enum MHD_Result rc = MHD_queue_response(conn, status, r);
        MHD_destroy_response(r);
        return rc;
}

static enum MHD_Result te_http_text(struct MHD_Connection *conn, unsigned status,
                                    const char *text)
{
        return te_http_reply(conn, status, "text/plain; charset=utf-8", text,
                             strlen(text));
}

static enum MHD_Result te_http_handler(void *cls, struct MHD_Connection *conn,
                                       const char *url, const char *method,
                                       const char *version, const char *upload_data,
                                       size_t *upload_data_size, void **con_cls)
{
        te_http_t *h = cls;
        (void)version;
        (void)upload_data;
        (void)con_cls;
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
            strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
                return te_http_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                                    "method not allowed\n");
        if (*upload_data_size)
                return te_http_text(conn, MHD_HTTP_BAD_REQUEST, "unexpected body\n");

        if (strcmp(url, "/metrics") == 0) {
                te_buf_t b;
                te_buf_init(&b, TE_HTTP_METRICS_MAX);
                enum MHD_Result rc;
                if (te_metrics_render(h->reg, &b) != 0)
                        rc = te_http_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                          "exposition too large\n");
                else
                        rc = te_http_reply(conn, MHD_HTTP_OK,
                                           "text/plain; version=0.0.4; charset=utf-8",
                                           b.data ? (const void *)b.data : "", b.len);
                te_buf_free(&b);
                return rc;
        }
        if (strcmp(url, "/healthz") == 0)
                return te_http_text(conn, MHD_HTTP_OK, "ok\n");
        if (strcmp(url, "/readyz") == 0) {
                te_buf_t why;
                te_buf_init(&why, 4096);
                int ok = !h->ready || h->ready(h->ready_arg, &why);
                te_buf_t body;
                te_buf_init(&body, 4200);
                te_buf_printf(&body, "%s\n", ok ? "ready" : "not ready");
                if (why.len)
                        te_buf_append(&body, why.data, why.len);
                enum MHD_Result rc =
                    te_http_reply(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                                  "text/plain; charset=utf-8",
                                  body.data ? (const void *)body.data : "", body.len);
                te_buf_free(&why);
                te_buf_free(&body);
                return rc;
        }
        return te_http_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

te_http_t *te_http_start(const char *listen, int port, te_metrics_t *reg,
                         te_http_ready_fn *ready, void *ready_arg, char *errstr,
                         size_t errsz)
{
        struct sockaddr_storage ss;
        unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
        memset(&ss, 0, sizeof ss);
        if (port <= 0 || port > 65535) {
                snprintf(errstr, errsz, "metrics port %d out of range", port);
                return NULL;
        }
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, listen, &s4->sin_addr) == 1) {
                s4->sin_family = AF_INET;
                s4->sin_port = htons((uint16_t)port);
        } else if (inet_pton(AF_INET6, listen, &s6->sin6_addr) == 1) {
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons((uint16_t)port);
                flags |= MHD_USE_IPv6;
        } else {
                snprintf(errstr, errsz,
                         "metrics listen address %s: not an IPv4/IPv6 address", listen);
                return NULL;
        }
        te_http_t *h = calloc(1, sizeof *h);
        if (!h) {
                snprintf(errstr, errsz, "out of memory");
                return NULL;
        }
        h->reg = reg;
        h->ready = ready;
        h->ready_arg = ready_arg;
        h->d = MHD_start_daemon(
            flags, (uint16_t)port, NULL, NULL, te_http_handler, h, MHD_OPTION_SOCK_ADDR,
            (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned int)TE_HTTP_CONN_TIMEOUT, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned int)TE_HTTP_MAX_CONNS, MHD_OPTION_END);
        if (!h->d) {
                snprintf(errstr, errsz,
                         "cannot serve metrics on %s port %d (address in use?)", listen,
                         port);
                free(h);
                return NULL;
        }
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
        h->port = info && info->port ? info->port : port;
        return h;
}

int te_http_port(const te_http_t *h)
{
        return h->port;
}

void te_http_stop(te_http_t *h)
{
        if (!h)
                return;
        MHD_stop_daemon(h->d);
        free(h);
}
