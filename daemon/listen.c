/*
 * listen.c - the sockets relaypolicyd answers on: `-l unix:PATH`,
 * `-l inet:HOST:PORT`, or those systemd passes (socket activation:
 * LISTEN_PID and LISTEN_FDS, descriptors from 3; sd_listen_fds(3)
 * without linking libsystemd).
 */

#include "log.h"
#include "rpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Unix sockets made here, removed at exit. */
static const char *made[RPD_MAX_LISTEN];
static unsigned n_made;

static int
listen_unix(const char *path)
{
    struct sockaddr_un sa;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        chmod(path, rpd_cfg.socket_mode) != 0) {
        int e = errno;

        close(fd);
        errno = e;
        return -1;
    }
    made[n_made++] = path;
    return fd;
}

/* Parse "HOST:PORT" or "[V6]:PORT" into @p ss. */
static bool
parse_inet(const char *spec, struct sockaddr_storage *ss, socklen_t *sl)
{
    char host[64];
    const char *colon = strrchr(spec, ':');
    size_t hl;
    long port;
    char *end;

    if (colon == NULL)
        return false;
    hl = (size_t)(colon - spec);
    if (spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']')
        spec++, hl -= 2;
    if (hl == 0 || hl >= sizeof(host))
        return false;
    memcpy(host, spec, hl);
    host[hl] = '\0';
    port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
        return false;
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr)) {
        ss->ss_family = AF_INET;
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
        *sl = sizeof(struct sockaddr_in);
        return true;
    }
    if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr)) {
        ss->ss_family = AF_INET6;
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
        *sl = sizeof(struct sockaddr_in6);
        return true;
    }
    return false;
}

/* Print a bound socket's address as "inet:HOST:PORT" / "inet:[V6]:PORT". */
static void
show_sockname(int fd, char *shown, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        snprintf(shown, len, "fd:%d", fd);
        return;
    }
    if (ss.ss_family == AF_UNIX) {
        snprintf(shown, len, "unix:%.*s", (int)(len - 6),
                 ((struct sockaddr_un *)&ss)->sun_path);
        return;
    }
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host,
                  sizeof(host));
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host,
                  sizeof(host));
        port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    snprintf(shown, len, "inet:%s%s%s:%u", ss.ss_family == AF_INET6 ? "[" : "",
             host, ss.ss_family == AF_INET6 ? "]" : "", port);
}

static int
listen_inet(const char *spec)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd, one = 1;

    if (!parse_inet(spec, &ss, &sl)) {
        errno = EINVAL;
        return -1;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
        int e = errno;

        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int
open_one(const char *spec)
{
    int fd;

    if (strncmp(spec, "unix:", 5) == 0)
        fd = listen_unix(spec + 5);
    else
        fd = listen_inet(strncmp(spec, "inet:", 5) == 0 ? spec + 5 : spec);
    if (fd >= 0 && listen(fd, 1024) != 0) {
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        rpd_log("cannot listen on %s: %s", spec, strerror(errno));
    return fd;
}

/* Sockets passed by systemd, or 0 when there are none. */
static int
systemd_fds(int *fds)
{
    const char *pid = getenv("LISTEN_PID");
    const char *n = getenv("LISTEN_FDS");
    long count;

    if (pid == NULL || n == NULL || strtol(pid, NULL, 10) != (long)getpid())
        return 0;
    count = strtol(n, NULL, 10);
    if (count <= 0 || count > RPD_MAX_LISTEN)
        return 0;
    for (long i = 0; i < count; i++) {
        int fd = 3 + (int)i;

        fcntl(fd, F_SETFD, FD_CLOEXEC);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fds[i] = fd;
    }
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return (int)count;
}

int
rpd_listen_open(int *fds, char shown[][128])
{
    int n = 0;

    if (rpd_cfg.n_listen == 0)
        n = systemd_fds(fds);
    for (unsigned i = 0; i < rpd_cfg.n_listen; i++) {
        int fd = open_one(rpd_cfg.listen[i]);

        if (fd < 0) {
            while (n > 0)
                close(fds[--n]);
            return -1;
        }
        fds[n++] = fd;
    }
    if (n == 0) {
        rpd_log("nothing to listen on: give -l, or start from the "
                "relaypolicyd.socket unit");
        return -1;
    }
    for (int i = 0; i < n; i++)
        show_sockname(fds[i], shown[i], 128);
    return n;
}

void
rpd_listen_cleanup(void)
{
    for (unsigned i = 0; i < n_made; i++)
        unlink(made[i]);
    n_made = 0;
}
