/*
 * te_net: the start of a non-blocking TCP connection, for the adapters that talk to a
 * broker over a socket of their own (ibkr, fix). Each keeps its own connection state
 * machine; this is the part they share: resolve, socket, TCP_NODELAY, connect.
 */
#ifndef TE_NET_H
#define TE_NET_H

#include <stddef.h>

/** Resolve host:port and start connecting a non-blocking, close-on-exec TCP socket with
 *  TCP_NODELAY to its first address. @returns the socket (connected, or connecting:
 *  wait for it to become writable and read SO_ERROR), or -1 with errstr (resolution,
 *  socket or connect failed; nothing left open). */
int te_net_connect_start(const char *host, int port, char *errstr, size_t errsz);

#endif
