/*
 * te_net: see te_net.h.
 */
#include "te_net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "te_buf.h"

int te_net_connect_start(const char *host, int port, char *errstr, size_t errsz)
{
        char portstr[16];
        struct addrinfo hints, *ai = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;
        snprintf(portstr, sizeof portstr, "%d", port);
        int gai = getaddrinfo(host, portstr, &hints, &ai);
        if (gai != 0 || !ai) {
                te_errf(errstr, errsz, "%s", gai ? gai_strerror(gai) : "no address");
                if (ai)
                        freeaddrinfo(ai);
                return -1;
        }
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                freeaddrinfo(ai);
                te_errf(errstr, errsz, "socket failed");
                return -1;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        freeaddrinfo(ai);
        if (rc != 0 && errno != EINPROGRESS) {
                te_errf(errstr, errsz, "%s", strerror(errno));
                close(fd);
                return -1;
        }
        return fd;
}
