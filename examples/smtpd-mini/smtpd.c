/*
 * smtpd.c - smtpd-mini, a minimal single-process SMTP server whose every
 * RCPT is answered by relaypolicy.  Accepted messages are discarded.
 *
 *   smtpd-mini -p policy.conf -l 127.0.0.1:2525 -l 127.0.0.1:2587 \
 *       -u users.txt
 *
 * It exists so that the classic telnet relay test can be typed on a real
 * socket, and so that scanners' open-relay patterns can be run over one.
 * It listens on loopback addresses only, serves many clients from one
 * poll() loop, and offers AUTH PLAIN (without TLS: test use only) against
 * a file of `user:password` lines.
 */
#define _GNU_SOURCE /* accept4 */

#include "session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTENERS 8
#define MAX_CLIENTS 128
#define MAX_USERS 64
#define IDLE_SECONDS 300

typedef struct client {
    int fd;
    time_t last;
    char line[SM_MAX_COMMAND + 1];
    size_t n_line;
    bool discarding;
    sm_session session;
} client;

static int listeners[MAX_LISTENERS];
static size_t n_listeners;
static client *clients[MAX_CLIENTS];
static sm_user users[MAX_USERS];
static sm_server server = {NULL, NULL, "smtpd-mini.localhost", users, 0, false};
static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

static void
client_write(void *ctx, const char *data, size_t len)
{
    client *c = ctx;

    while (len > 0) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            c->session.state = SM_QUIT; /* the peer is gone */
            return;
        }
        data += n;
        len -= (size_t)n;
    }
}

/* Text form of a socket address; IPv4-mapped IPv6 becomes IPv4. */
static unsigned
addr_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

        inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)len);
        return ntohs(in->sin_port);
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

    inet_ntop(AF_INET6, &in6->sin6_addr, out, (socklen_t)len);
    return ntohs(in6->sin6_port);
}

static void
accept_client(int lfd)
{
    struct sockaddr_storage peer, local;
    socklen_t pl = sizeof(peer), ll = sizeof(local);
    char peer_ip[64], local_ip[64];
    unsigned port;
    int fd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
    size_t i;

    if (fd < 0)
        return;
    for (i = 0; i < MAX_CLIENTS && clients[i] != NULL; i++)
        continue;
    if (i == MAX_CLIENTS ||
        getsockname(fd, (struct sockaddr *)&local, &ll) != 0 ||
        (clients[i] = calloc(1, sizeof(client))) == NULL) {
        static const char busy[] = "421 4.3.2 Too many connections\r\n";

        if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL) < 0) {
            /* Nothing more to do for this client. */
        }
        close(fd);
        return;
    }
    addr_text(&peer, peer_ip, sizeof(peer_ip));
    port = addr_text(&local, local_ip, sizeof(local_ip));
    clients[i]->fd = fd;
    clients[i]->last = time(NULL);
    sm_session_start(&clients[i]->session, &server, peer_ip, local_ip, port,
                     client_write, clients[i]);
}

static void
drop_client(size_t i)
{
    close(clients[i]->fd);
    free(clients[i]);
    clients[i] = NULL;
}

/* Split input into lines (LF or CRLF), bounded in length. */
static void
feed(client *c, const char *buf, size_t len)
{
    for (size_t i = 0; i < len && c->session.state != SM_QUIT; i++) {
        if (buf[i] == '\n') {
            size_t n = c->n_line;

            if (n > 0 && c->line[n - 1] == '\r')
                n--;
            if (!c->discarding)
                sm_session_line(&c->session, c->line, n);
            c->discarding = false;
            c->n_line = 0;
        } else if (c->discarding) {
            continue;
        } else if (c->n_line == SM_MAX_COMMAND) {
            c->discarding = true;
            sm_session_overflow(&c->session);
        } else {
            c->line[c->n_line++] = buf[i];
        }
    }
}

static void
read_client(size_t i)
{
    char buf[4096];
    ssize_t n = recv(clients[i]->fd, buf, sizeof(buf), 0);

    if (n < 0 && errno == EINTR)
        return;
    if (n <= 0) {
        drop_client(i);
        return;
    }
    clients[i]->last = time(NULL);
    feed(clients[i], buf, (size_t)n);
    if (clients[i]->session.state == SM_QUIT)
        drop_client(i);
}

static void
loop(void)
{
    struct pollfd pfd[MAX_LISTENERS + MAX_CLIENTS];
    size_t map[MAX_CLIENTS];

    while (!stopping) {
        size_t n = 0, k = 0;
        time_t now = time(NULL);

        for (size_t i = 0; i < n_listeners; i++)
            pfd[n++] = (struct pollfd){listeners[i], POLLIN, 0};
        for (size_t i = 0; i < MAX_CLIENTS; i++) {
            if (clients[i] != NULL && now - clients[i]->last > IDLE_SECONDS)
                drop_client(i);
            if (clients[i] != NULL) {
                map[k++] = i;
                pfd[n++] = (struct pollfd){clients[i]->fd, POLLIN, 0};
            }
        }
        if (poll(pfd, n, 1000) < 0)
            continue; /* EINTR: check `stopping` */
        for (size_t i = 0; i < n_listeners; i++)
            if (pfd[i].revents & POLLIN)
                accept_client(listeners[i]);
        for (size_t j = 0; j < k; j++)
            if (pfd[n_listeners + j].revents & (POLLIN | POLLHUP | POLLERR))
                read_client(map[j]);
    }
}

/* "127.0.0.1:PORT" or "[::1]:PORT"; loopback only; port 0 is any. */
static int
open_listener(const char *spec)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    socklen_t sl;
    const char *colon = strrchr(spec, ':');
    char host[64], shown[64];
    int fd, one = 1;

    if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
        return -1;
    snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        ss.ss_family = AF_INET;
        in->sin_port = htons((uint16_t)atoi(colon + 1));
        sl = sizeof(*in);
        if ((ntohl(in->sin_addr.s_addr) >> 24) != 127)
            return -1;
    } else if (host[0] == '[' && strlen(host) > 2 &&
               (host[strlen(host) - 1] = '\0',
                inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1)) {
        ss.ss_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)atoi(colon + 1));
        sl = sizeof(*in6);
        if (!IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return -1;
    } else {
        return -1;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        close(fd);
        return -1;
    }
    unsigned port = addr_text(&ss, shown, sizeof(shown));
    fprintf(stderr, "smtpd-mini: listening on %s%s%s:%u\n",
            ss.ss_family == AF_INET6 ? "[" : "", shown,
            ss.ss_family == AF_INET6 ? "]" : "", port);
    return fd;
}

static bool
load_users(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];

    if (f == NULL)
        return false;
    while (fgets(line, sizeof(line), f) != NULL && server.n_users < MAX_USERS) {
        char *colon = strchr(line, ':');

        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || colon == NULL || colon == line)
            continue;
        *colon = '\0';
        users[server.n_users].name = strdup(line);
        users[server.n_users].password = strdup(colon + 1);
        if (users[server.n_users].name == NULL ||
            users[server.n_users].password == NULL)
            break;
        server.n_users++;
    }
    fclose(f);
    return true;
}

static rp_policy *
load_policy(const char *path)
{
    rp_policy *p = NULL;
    rp_error err;

    if (rp_policy_compile_file(path, NULL, &p, &err) != RP_OK)
        fprintf(stderr, "smtpd-mini: %s:%s\n", err.file, err.message);
    return p;
}

static int
usage(void)
{
    fprintf(stderr,
            "usage: smtpd-mini -p POLICY -l 127.0.0.1:PORT [-l ...] "
            "[-u USERFILE] [-n HOSTNAME] [-v]\n"
            "  -l  a loopback address and port (port 0: any free port);\n"
            "      repeat for several listeners (at most %d)\n"
            "  -u  user:password lines for AUTH PLAIN (no TLS: tests "
            "only)\n",
            MAX_LISTENERS);
    return 2;
}

int
main(int argc, char **argv)
{
    rp_policy *policy = NULL;
    int ch, fd;

    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    while ((ch = getopt(argc, argv, "p:l:u:n:v")) != -1) {
        switch (ch) {
        case 'p':
            rp_policy_free(policy);
            if ((policy = load_policy(optarg)) == NULL)
                return 1;
            break;
        case 'l':
            if (n_listeners == MAX_LISTENERS ||
                (fd = open_listener(optarg)) < 0) {
                fprintf(stderr,
                        "smtpd-mini: cannot listen on %s (loopback "
                        "only)\n",
                        optarg);
                return 1;
            }
            listeners[n_listeners++] = fd;
            break;
        case 'u':
            if (!load_users(optarg)) {
                fprintf(stderr, "smtpd-mini: cannot read %s\n", optarg);
                return 1;
            }
            break;
        case 'n':
            server.hostname = optarg;
            break;
        case 'v':
            server.verbose = true;
            break;
        default:
            return usage();
        }
    }
    if (policy == NULL || n_listeners == 0 || optind != argc)
        return usage();
    server.policy = policy;
    if (rp_workspace_new(NULL, &server.ws) != RP_OK) {
        fprintf(stderr, "smtpd-mini: out of memory\n");
        return 1;
    }
    fprintf(stderr, "smtpd-mini: ready\n");
    loop();
    for (size_t i = 0; i < MAX_CLIENTS; i++)
        if (clients[i] != NULL)
            drop_client(i);
    for (size_t i = 0; i < server.n_users; i++) {
        free(users[i].name);
        free(users[i].password);
    }
    rp_workspace_free(server.ws);
    rp_policy_free(policy);
    return 0;
}
