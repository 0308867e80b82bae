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
/* Input kept while a client's replies back up, and replies not yet sent. */
#define IN_MAX 4096
#define OUT_MAX 16384
/* Room one reply (the longest is EHLO's) always finds in the buffer. */
#define REPLY_ROOM 2048

/*
 * A client.  Replies go to its output buffer and are sent without
 * blocking, so one client that never reads cannot stall the others; while
 * its replies back up it is not read.  Every command line must arrive
 * within -t seconds of its first byte, a whole message within 10 times
 * that, and replies must be read within -t seconds.
 */
typedef struct client {
    int fd;
    time_t idle_since; /* nothing pending since, or 0 */
    time_t line_start; /* first byte of the current line, or 0 */
    time_t data_start; /* start of the message being read, or 0 */
    time_t out_since;  /* oldest unsent reply, or 0 */
    char in[IN_MAX];
    size_t in_off, in_len;
    char line[SM_MAX_COMMAND + 1];
    size_t n_line;
    bool discarding;
    bool prev_crlf; /* the previous line ended with CR LF */
    bool dead;      /* a send failed */
    char out[OUT_MAX];
    size_t out_len;
    sm_session session;
} client;

static int listeners[MAX_LISTENERS];
static size_t n_listeners;
static client *clients[MAX_CLIENTS];
static sm_user users[MAX_USERS];
static sm_server server = {NULL, NULL, "smtpd-mini.localhost", users, 0, false};
static int deadline = 30; /* -t */
static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

/* The session's replies: appended to the client's buffer, sent later. */
static void
client_write(void *ctx, const char *data, size_t len)
{
    client *c = ctx;

    if (len > OUT_MAX - c->out_len) {
        c->dead = true; /* cannot happen while reading pauses in time */
        return;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    if (c->out_since == 0)
        c->out_since = time(NULL);
}

/* Send what the socket takes now; false when the client is gone. */
static bool
flush_client(client *c)
{
    size_t off = 0;

    while (off < c->out_len) {
        ssize_t n = send(c->fd, c->out + off, c->out_len - off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0)
            return false;
        off += (size_t)n;
    }
    memmove(c->out, c->out + off, c->out_len - off);
    c->out_len -= off;
    if (c->out_len == 0)
        c->out_since = 0;
    else if (off > 0)
        c->out_since = time(NULL);
    return !c->dead;
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
drop_client(size_t i)
{
    close(clients[i]->fd);
    free(clients[i]);
    clients[i] = NULL;
}

/* A slot for a new client: a free one, else the one idle the longest,
 * else the one stalled the longest (a slow client cannot keep others out). */
static size_t
free_slot(void)
{
    size_t idle = MAX_CLIENTS, busy = MAX_CLIENTS;

    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        client *c = clients[i];

        if (c == NULL)
            return i;
        if (c->idle_since != 0) {
            if (idle == MAX_CLIENTS ||
                c->idle_since < clients[idle]->idle_since)
                idle = i;
        } else if (busy == MAX_CLIENTS ||
                   c->line_start < clients[busy]->line_start) {
            busy = i;
        }
    }
    idle = idle < MAX_CLIENTS ? idle : busy;
    drop_client(idle);
    return idle;
}

static void
accept_client(int lfd)
{
    struct sockaddr_storage peer, local;
    socklen_t pl = sizeof(peer), ll = sizeof(local);
    char peer_ip[64], local_ip[64];
    unsigned port;
    int fd = accept4(lfd, (struct sockaddr *)&peer, &pl,
                     SOCK_CLOEXEC | SOCK_NONBLOCK);
    int sock_buf = 64 * 1024;
    size_t i;

    if (fd < 0)
        return;
    /* Replies are small: a modest kernel buffer bounds what a client that
     * never reads can make the kernel hold for it. */
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sock_buf, sizeof(sock_buf));
    i = free_slot();
    if (getsockname(fd, (struct sockaddr *)&local, &ll) != 0 ||
        (clients[i] = calloc(1, sizeof(client))) == NULL) {
        close(fd);
        return;
    }
    addr_text(&peer, peer_ip, sizeof(peer_ip));
    port = addr_text(&local, local_ip, sizeof(local_ip));
    clients[i]->fd = fd;
    clients[i]->idle_since = time(NULL);
    clients[i]->prev_crlf = true;
    sm_session_start(&clients[i]->session, &server, peer_ip, local_ip, port,
                     client_write, clients[i]);
    if (!flush_client(clients[i]))
        drop_client(i);
}

/* One complete line: CR LF or a bare LF ended it. */
static void
take_line(client *c, bool crlf)
{
    size_t n = c->n_line - (crlf ? 1 : 0);
    bool was_data = c->session.state == SM_DATA;

    if (!c->discarding)
        sm_session_line(&c->session, c->line, n, crlf && c->prev_crlf);
    c->prev_crlf = crlf;
    c->discarding = false;
    c->n_line = 0;
    c->line_start = 0;
    if (!was_data && c->session.state == SM_DATA)
        c->data_start = time(NULL);
    else if (c->session.state != SM_DATA)
        c->data_start = 0;
}

/* Split buffered input into lines while replies have room. */
static void
feed(client *c, time_t now)
{
    while (c->in_off < c->in_len && c->session.state != SM_QUIT &&
           OUT_MAX - c->out_len > REPLY_ROOM) {
        char ch = c->in[c->in_off++];

        if (c->line_start == 0)
            c->line_start = now;
        if (ch == '\n') {
            take_line(c, c->n_line > 0 && c->line[c->n_line - 1] == '\r');
        } else if (c->discarding) {
            continue;
        } else if (c->n_line == SM_MAX_COMMAND) {
            c->discarding = true;
            sm_session_overflow(&c->session);
        } else {
            c->line[c->n_line++] = ch;
        }
    }
    if (c->in_off == c->in_len)
        c->in_off = c->in_len = 0;
}

static bool
paused(const client *c)
{
    return c->in_len > c->in_off;
}

/* After reading or when the socket can take more: parse, reply, send. */
static void
progress(size_t i, time_t now)
{
    client *c = clients[i];

    feed(c, now);
    if (!flush_client(c) || (c->session.state == SM_QUIT && c->out_len == 0)) {
        drop_client(i);
        return;
    }
    c->idle_since = (c->line_start == 0 && c->out_len == 0 && !paused(c) &&
                     c->data_start == 0)
                        ? (c->idle_since != 0 ? c->idle_since : now)
                        : 0;
}

static void
read_client(size_t i, time_t now)
{
    client *c = clients[i];
    ssize_t n;

    if (paused(c) || c->session.state == SM_QUIT) {
        progress(i, now);
        return;
    }
    n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        drop_client(i);
        return;
    }
    c->in_len += (size_t)n;
    progress(i, now);
}

/* Deadlines: a line, a message, unread replies, an idle client. */
static void
sweep(time_t now)
{
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        client *c = clients[i];

        if (c == NULL)
            continue;
        if ((c->line_start != 0 && now - c->line_start > deadline) ||
            (c->out_since != 0 && now - c->out_since > deadline) ||
            (c->data_start != 0 && now - c->data_start > 10 * deadline) ||
            (c->idle_since != 0 && now - c->idle_since > IDLE_SECONDS))
            drop_client(i);
    }
}

static void
loop(void)
{
    struct pollfd pfd[MAX_LISTENERS + MAX_CLIENTS];
    size_t map[MAX_CLIENTS];

    while (!stopping) {
        size_t n = 0, k = 0;
        time_t now = time(NULL);

        sweep(now);
        for (size_t i = 0; i < n_listeners; i++)
            pfd[n++] = (struct pollfd){listeners[i], POLLIN, 0};
        for (size_t i = 0; i < MAX_CLIENTS; i++) {
            client *c = clients[i];

            if (c == NULL)
                continue;
            map[k++] = i;
            pfd[n++] = (struct pollfd){
                c->fd,
                (short)((paused(c) ? 0 : POLLIN) |
                        (c->out_len > 0 || paused(c) ? POLLOUT : 0)),
                0};
        }
        if (poll(pfd, n, 500) < 0)
            continue; /* EINTR: check `stopping` */
        now = time(NULL);
        for (size_t j = 0; j < k; j++) {
            short ev = pfd[n_listeners + j].revents;

            if (clients[map[j]] == NULL || ev == 0)
                continue;
            if (ev & POLLOUT)
                progress(map[j], now);
            if (clients[map[j]] != NULL && (ev & (POLLIN | POLLHUP | POLLERR)))
                read_client(map[j], now);
        }
        for (size_t i = 0; i < n_listeners; i++)
            if (pfd[i].revents & POLLIN)
                accept_client(listeners[i]);
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

/*
 * Warn when no listener of the policy matches the address a socket
 * listens on: every recipient would be refused 554 no-listener.  Probed
 * with a few typical clients, since listeners may serve some only.
 */
static void
check_listener(int fd)
{
    static const char *const probes[] = {"127.0.0.1", "10.0.0.1", "203.0.113.1",
                                         "::1", "2001:db8::1"};
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char ip[64];
    unsigned port;

    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return;
    port = addr_text(&ss, ip, sizeof(ip));
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        rp_query q;
        rp_decision d;

        if ((strchr(probes[i], ':') != NULL) != (ss.ss_family == AF_INET6))
            continue;
        memset(&q, 0, sizeof(q));
        q.client_ip = probes[i];
        q.client_ip_len = RP_NTS;
        q.local_ip = ip;
        q.local_ip_len = RP_NTS;
        q.local_port = port;
        q.recipient = "postmaster";
        q.recipient_len = RP_NTS;
        if (sm_decide(&server, &q, &d) == RP_OK &&
            d.reason != RP_REASON_NO_LISTENER)
            return;
    }
    fprintf(stderr,
            "smtpd-mini: warning: no listener of the policy matches %s%s%s:%u;"
            " every recipient there will be refused 554 (no-listener)\n",
            ss.ss_family == AF_INET6 ? "[" : "", ip,
            ss.ss_family == AF_INET6 ? "]" : "", port);
}

static int
usage(void)
{
    fprintf(stderr,
            "usage: smtpd-mini -p POLICY -l 127.0.0.1:PORT [-l ...] "
            "[-u USERFILE] [-n HOSTNAME] [-t SEC] [-v]\n"
            "  -l  a loopback address and port (port 0: any free port);\n"
            "      repeat for several listeners (at most %d)\n"
            "  -u  user:password lines for AUTH PLAIN (no TLS: tests "
            "only)\n"
            "  -t  seconds a command line may take to arrive, and replies "
            "to be read\n      (30; a message may take 10 times that)\n",
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
    while ((ch = getopt(argc, argv, "p:l:u:n:t:v")) != -1) {
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
        case 't':
            deadline = atoi(optarg);
            if (deadline <= 0)
                return usage();
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
    for (size_t i = 0; i < n_listeners; i++)
        check_listener(listeners[i]);
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
