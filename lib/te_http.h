/*
 * te_http: the small HTTP server each process runs for monitoring (libmicrohttpd, one
 * internal thread). Endpoints, GET only:
 *
 *   /metrics  the registry in the Prometheus text format (200)
 *   /healthz  200 "ok" while the process runs its loop
 *   /readyz   200 "ready" when the readiness callback says so, else 503 with the
 *             reason (a process is ready when its partitions are assigned and its
 *             broker/DB connections are up: see te_obs.h)
 *
 * Anything else is 404, a method other than GET/HEAD is 405. The server binds to
 * 127.0.0.1 unless configured otherwise; there is no authentication, so only bind to
 * an address reachable by the monitoring network.
 */
#ifndef TE_HTTP_H
#define TE_HTTP_H

#include <stddef.h>

#include "te_buf.h"
#include "te_metrics.h"

typedef struct te_http_s te_http_t;

/** Readiness: @returns 1 when ready, 0 when not, appending the reason to `why`.
 *  Called on the server's thread. */
typedef int(te_http_ready_fn)(void *arg, te_buf_t *why);

/** Serve `reg` (and `ready`, which may be NULL = always ready) on listen:port.
 *  `listen` is an IPv4 or IPv6 literal address ("127.0.0.1", "0.0.0.0", "::1").
 *  @returns the server, or NULL with errstr (bad address, port in use, ...). */
te_http_t *te_http_start(const char *listen, int port, te_metrics_t *reg,
                         te_http_ready_fn *ready, void *ready_arg, char *errstr,
                         size_t errsz);
/** The port the server is bound to. */
int te_http_port(const te_http_t *h);
/** Stop the server thread and free it. Accepts NULL. */
void te_http_stop(te_http_t *h);

#endif
