/*
 * te_sdnotify: the service manager's readiness protocol without libsystemd. When
 * systemd starts a Type=notify unit it sets NOTIFY_SOCKET to a datagram socket (a path,
 * or "@name" in the abstract namespace); the service sends "READY=1" there once it
 * serves, "STOPPING=1" when it begins to shut down, "STATUS=..." for humans.
 */
#ifndef TE_SDNOTIFY_H
#define TE_SDNOTIFY_H

#include <stddef.h>

/** Send `state` (e.g. "READY=1\nSTATUS=serving") to $NOTIFY_SOCKET.
 *  @returns 1 when sent, 0 when NOTIFY_SOCKET is unset or empty (not under a service
 *  manager), -1 with errstr when it is set but the datagram could not be sent (bad
 *  address, no listener). */
int te_sd_notify(const char *state, char *errstr, size_t errsz);

#endif
