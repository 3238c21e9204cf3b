/*
 * te_sdnotify: one datagram to $NOTIFY_SOCKET (te_sdnotify.h).
 */
#include "te_sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int te_sd_notify(const char *state, char *errstr, size_t errsz)
{
        const char *path = getenv("NOTIFY_SOCKET");
        if (!path || !*path)
                return 0;
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        size_t n = strlen(path);
        if ((path[0] != '/' && path[0] != '@') || n >= sizeof sa.sun_path) {
                snprintf(errstr, errsz,
                         "NOTIFY_SOCKET: not an absolute path or @abstract name (or "
                         "longer than %zu bytes): %s",
                         sizeof sa.sun_path - 1, path);
                return -1;
        }
        memcpy(sa.sun_path, path, n);
        if (path[0] == '@')
                sa.sun_path[0] = '\0'; /* abstract namespace: no terminating NUL */
        socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
                                    (path[0] == '@' ? 0 : 1));
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                snprintf(errstr, errsz, "NOTIFY_SOCKET: socket: %s", strerror(errno));
                return -1;
        }
        ssize_t sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
                              (const struct sockaddr *)&sa, len);
        int err = errno;
        close(fd);
        if (sent < 0 || (size_t)sent != strlen(state)) {
                snprintf(errstr, errsz, "NOTIFY_SOCKET %s: %s", path,
                         sent < 0 ? strerror(err) : "short write");
                return -1;
        }
        return 1;
}
