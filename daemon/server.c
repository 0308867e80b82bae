/*
 * server.c - relaypolicyd's event loops: epoll, non-blocking sockets and a
 * buffer per client, so no client can hold up another.  -w loops run on
 * their own threads, each with its share of the connections; every loop
 * watches every listening socket (EPOLLEXCLUSIVE: one is woken per new
 * connection).
 *
 * Every connection is in one of two states: idle (nothing of a request
 * read, nothing left to send) or busy (a request partly read, or answers
 * the client has not taken yet).  A busy connection must finish within
 * -t seconds (the request and its answer, however slowly the bytes come);
 * an idle one is closed after -i seconds.  When a new connection would
 * exceed the per-client cap (-c) or the global cap (-m), the oldest idle
 * connection (of that client, or of all) is closed to make room, and only
 * when none is idle the longest-stalled busy one: idle clients never
 * starve new ones.  A client that sends without reading fills its output
 * buffer; it is then no longer read until it drains, and closed when its
 * answers wait longer than -t.
 */

#include "conn.h"
#include "log.h"
#include "rpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* epoll tags above every connection index. */
#define TAG_SIGNAL UINT32_MAX
#define TAG_WAKE (UINT32_MAX - 1)
#define TAG_LISTEN (UINT32_MAX - RPD_MAX_LISTEN - 1)
/* How often deadlines are looked at, in seconds. */
#define SWEEP_EVERY 0.1
/* Connections accepted per wake-up of one listener. */
#define ACCEPT_BURST 64

/* Each event loop (-w) runs on its own thread with its own share of the
 * connections: these are per thread. */
static _Thread_local int ep = -1;
static _Thread_local conn **conns; /* n_slots slots; NULL when free */
static _Thread_local unsigned n_slots;
static _Thread_local unsigned per_client; /* this loop's share of -c */
static _Thread_local unsigned n_conns;    /* slots in use */
static _Thread_local unsigned *free_slots;
static _Thread_local unsigned n_free;
/* Orders idle connections: many become idle within one clock tick. */
static _Thread_local uint64_t idle_counter;

/* Set by the loop that receives SIGTERM; the wake descriptor tells the
 * others. */
static atomic_bool stopping;
static int wake_fd = -1;

static double
now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Tell epoll what this connection waits for, when that changed.  A paused
 * connection waits to be able to send: its answers, or room for more. */
static void
conn_watch(unsigned i, int op)
{
    conn *c = conns[i];
    struct epoll_event ev = {0};

    ev.data.u32 = i;
    if (!c->paused && !c->eof)
        ev.events |= EPOLLIN | EPOLLRDHUP;
    if (c->out_len > c->out_off || c->paused)
        ev.events |= EPOLLOUT;
    if (op == EPOLL_CTL_MOD && ev.events == c->events)
        return;
    c->events = ev.events;
    epoll_ctl(ep, op, c->fd, &ev);
}

static void
conn_close(unsigned i, const char *why)
{
    conn *c = conns[i];

    if (c->n_malformed > 1)
        rpd_log_limited("%s: %llu more malformed requests answered 451 4.3.0",
                        c->peer, (unsigned long long)(c->n_malformed - 1));
    if (why != NULL)
        rpd_log_limited("%s: closed: %s", c->peer, why);
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
    conns[i] = NULL;
    free_slots[n_free++] = i;
    n_conns--;
}

/* After reading or sending: parse what can be parsed, send what can be
 * sent, and decide whether to keep reading.  Input left over means the
 * output had no room: the client is paused until it reads. */
static void
conn_progress(unsigned i, double now)
{
    conn *c = conns[i];

    for (int round = 0; round < 8; round++) {
        conn_parse(c, now);
        if (!conn_flush(c)) {
            conn_close(i, NULL);
            return;
        }
        c->paused = c->in_len > c->in_off;
        if (!c->paused || c->out_len > c->out_off)
            break;
    }
    /* After the client's end of input, only answers owed keep it open. */
    if (c->eof && c->in_len == 0 && c->out_len == c->out_off) {
        conn_close(i, NULL);
        return;
    }
    if (!conn_busy(c) && c->idle_at == 0) {
        c->idle_at = now;
        c->idle_seq = ++idle_counter;
    } else if (conn_busy(c))
        c->idle_at = 0;
    conn_watch(i, EPOLL_CTL_MOD);
}

static void
on_readable(unsigned i, double now)
{
    conn *c = conns[i];
    ssize_t n;

    if (c->paused)
        return;
    n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n < 0) {
        conn_close(i, NULL);
        return;
    }
    if (n == 0)
        c->eof = true; /* half-closed: answer what was asked, then close */
    c->in_len += (size_t)n;
    conn_progress(i, now);
}

/* ---- shedding ----------------------------------------------------------- */

/* The connection to close for room: the oldest idle one, else the one
 * busy the longest; only among @p peer's when it is not NULL. */
static int
pick_victim(const char *peer, unsigned *count)
{
    int idle = -1, busy = -1;
    uint64_t idle_seq = 0;
    double busy_t = 0;

    *count = 0;
    for (unsigned i = 0; i < n_slots; i++) {
        conn *c = conns[i];

        if (c == NULL ||
            (peer != NULL && (!c->inet || strcmp(c->peer, peer) != 0)))
            continue;
        (*count)++;
        if (!conn_busy(c)) {
            if (idle < 0 || c->idle_seq < idle_seq)
                idle = (int)i, idle_seq = c->idle_seq;
        } else {
            double t = c->req_start != 0 ? c->req_start : c->out_since;

            if (busy < 0 || t < busy_t)
                busy = (int)i, busy_t = t;
        }
    }
    return idle >= 0 ? idle : busy;
}

/* Make room for a new connection from @p peer. */
static void
make_room(const char *peer, bool inet)
{
    unsigned count;
    int v;

    if (inet && per_client > 0) {
        v = pick_victim(peer, &count);
        if (count >= per_client && v >= 0) {
            rpd_log_limited("%s: %u connections (-c %u): closing its %s one",
                            peer, count, rpd_cfg.max_per_client,
                            conn_busy(conns[v]) ? "longest-stalled"
                                                : "oldest idle");
            conn_close((unsigned)v, NULL);
        }
    }
    if (n_conns < n_slots)
        return;
    v = pick_victim(NULL, &count);
    if (v >= 0) {
        rpd_log_limited("%u connections (-m): closing the %s one, from %s",
                        count,
                        conn_busy(conns[v]) ? "longest-stalled" : "oldest idle",
                        conns[v]->peer);
        conn_close((unsigned)v, NULL);
    }
}

/* ---- accepting ---------------------------------------------------------- */

static void
peer_name(int fd, char *out, size_t len, bool *inet)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    const void *a = NULL;

    *inet = false;
    snprintf(out, len, "unix");
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
        return;
    if (ss.ss_family == AF_INET)
        a = &((struct sockaddr_in *)&ss)->sin_addr;
    else if (ss.ss_family == AF_INET6)
        a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
    if (a != NULL && inet_ntop(ss.ss_family, a, out, (socklen_t)len))
        *inet = true;
}

static void
add_conn(int fd, double now)
{
    char peer[INET6_ADDRSTRLEN];
    int sock_buf = 64 * 1024;
    bool inet;
    conn *c;
    unsigned i;

    /* Answers are small: a modest kernel buffer bounds what a client
     * that never reads can make the kernel hold for it. */
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sock_buf, sizeof(sock_buf));
    peer_name(fd, peer, sizeof(peer), &inet);
    make_room(peer, inet);
    c = calloc(1, sizeof(*c));
    if (c == NULL || n_free == 0) {
        free(c);
        close(fd);
        rpd_log_limited("out of memory: refused a connection from %s", peer);
        return;
    }
    c->fd = fd;
    c->inet = inet;
    memcpy(c->peer, peer, sizeof(peer));
    c->idle_at = now;
    c->idle_seq = ++idle_counter;
    pd_request_init(&c->req);
    i = free_slots[--n_free];
    conns[i] = c;
    n_conns++;
    conn_watch(i, EPOLL_CTL_ADD);
}

static void
accept_some(int lfd, double now)
{
    for (int k = 0; k < ACCEPT_BURST; k++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (fd >= 0) {
            add_conn(fd, now);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if ((errno == EMFILE || errno == ENFILE) && n_conns > 0) {
            unsigned count;
            int v = pick_victim(NULL, &count);

            rpd_log_limited("accept: %s: closing one connection",
                            strerror(errno));
            if (v >= 0)
                conn_close((unsigned)v, NULL);
            continue;
        }
        return; /* EAGAIN, or an error worth no busy loop */
    }
}

/* ---- deadlines ---------------------------------------------------------- */

static void
sweep(double now)
{
    double t = rpd_cfg.request_timeout;

    for (unsigned i = 0; i < n_slots; i++) {
        conn *c = conns[i];

        if (c == NULL)
            continue;
        /* Answers first: a client that does not read is paused, and its
         * half-parsed request waits on it, not the other way round. */
        if (c->out_since != 0 && now - c->out_since > t)
            conn_close(i, "answers not read within the deadline (-t)");
        else if (c->req_start != 0 && now - c->req_start > t)
            conn_close(i, "request not complete within the deadline (-t)");
        else if (!conn_busy(c) && c->idle_at != 0 &&
                 now - c->idle_at > rpd_cfg.idle_timeout)
            conn_close(i, NULL);
    }
}

/* ---- signals and the loop ----------------------------------------------- */

/* Returns false when the server should stop. */
static bool
on_signals(int sig_fd)
{
    struct signalfd_siginfo si;

    while (read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP)
            rpd_reload_request();
        else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            uint64_t one = 1;

            atomic_store(&stopping, true);
            if (write(wake_fd, &one, sizeof(one)) < 0) {
                /* The counter is full: the others are being woken. */
            }
            return false;
        }
    }
    return true;
}

/* This loop's share of the caps: -m and -c divided among the -w loops. */
static void
share_caps(void)
{
    unsigned w = rpd_cfg.workers;

    n_slots = (rpd_cfg.max_conns + w - 1) / w;
    per_client =
        rpd_cfg.max_per_client == 0 ? 0 : (rpd_cfg.max_per_client + w - 1) / w;
}

static bool
watch(int fd, uint32_t tag, uint32_t events)
{
    struct epoll_event ev = {0};

    ev.events = events;
    ev.data.u32 = tag;
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
}

static bool
setup(const int *listen_fds, int n_listen, int sig_fd)
{
    share_caps();
    conns = calloc(n_slots, sizeof(*conns));
    free_slots = calloc(n_slots, sizeof(*free_slots));
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (conns == NULL || free_slots == NULL || ep < 0)
        return false;
    for (unsigned i = 0; i < n_slots; i++)
        free_slots[i] = n_slots - 1 - i;
    n_free = n_slots;
    if ((sig_fd >= 0 && !watch(sig_fd, TAG_SIGNAL, EPOLLIN)) ||
        !watch(wake_fd, TAG_WAKE, EPOLLIN))
        return false;
    /* Every loop watches every listener; the kernel wakes one of them
     * per new connection. */
    for (int l = 0; l < n_listen; l++) {
        if (!watch(listen_fds[l], TAG_LISTEN + (uint32_t)l,
                   EPOLLIN | EPOLLEXCLUSIVE))
            return false;
    }
    return true;
}

static void
teardown(void)
{
    for (unsigned i = 0; conns != NULL && i < n_slots; i++) {
        if (conns[i] != NULL)
            conn_close(i, NULL);
    }
    free(conns);
    free(free_slots);
    conns = NULL;
    free_slots = NULL;
    if (ep >= 0)
        close(ep);
    ep = -1;
}

static bool
dispatch(const struct epoll_event *ev,
         const int *listen_fds,
         int sig_fd,
         double now)
{
    uint32_t tag = ev->data.u32;

    if (tag == TAG_SIGNAL)
        return on_signals(sig_fd);
    if (tag == TAG_WAKE)
        return !atomic_load(&stopping);
    if (tag >= TAG_LISTEN) {
        accept_some(listen_fds[tag - TAG_LISTEN], now);
        return true;
    }
    if (conns[tag] == NULL)
        return true; /* closed earlier in this round */
    if (ev->events & EPOLLOUT) {
        if (!conn_flush(conns[tag])) {
            conn_close(tag, NULL);
            return true;
        }
        conn_progress(tag, now);
    }
    if (conns[tag] != NULL &&
        (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        on_readable(tag, now);
    return true;
}

/* One event loop; the first also handles the signals (sig_fd >= 0). */
static int
run_loop(const int *listen_fds, int n_listen, int sig_fd)
{
    struct epoll_event evs[128];
    double next_sweep = now_seconds() + SWEEP_EVERY;
    bool running = true;

    if (!setup(listen_fds, n_listen, sig_fd)) {
        rpd_log("cannot set up an event loop: %s", strerror(errno));
        teardown();
        return 1;
    }
    while (running && !atomic_load(&stopping)) {
        double now = now_seconds();
        int wait_ms = (int)((next_sweep - now) * 1000) + 1;
        int n = epoll_wait(ep, evs, 128, wait_ms < 0 ? 0 : wait_ms);

        if (n < 0 && errno != EINTR) {
            rpd_log("epoll_wait: %s", strerror(errno));
            break;
        }
        now = now_seconds();
        for (int k = 0; k < n && running; k++)
            running = dispatch(&evs[k], listen_fds, sig_fd, now);
        if (now >= next_sweep) {
            sweep(now);
            next_sweep = now + SWEEP_EVERY;
        }
        rpd_log_flush();
    }
    teardown();
    return 0;
}

typedef struct loop_args {
    const int *listen_fds;
    int n_listen;
} loop_args;

static void *
loop_thread(void *arg)
{
    const loop_args *a = arg;

    run_loop(a->listen_fds, a->n_listen, -1);
    return NULL;
}

int
rpd_serve(const int *listen_fds, int n_listen, int sig_fd)
{
    pthread_t threads[RPD_MAX_WORKERS];
    loop_args args = {listen_fds, n_listen};
    unsigned started = 0;
    int rc;

    wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd < 0)
        return 1;
    for (unsigned i = 1; i < rpd_cfg.workers; i++) {
        if (pthread_create(&threads[started], NULL, loop_thread, &args) != 0)
            break;
        started++;
    }
    rc = run_loop(listen_fds, n_listen, sig_fd);
    /* However the first loop ended, the others stop too. */
    {
        uint64_t one = 1;

        atomic_store(&stopping, true);
        if (write(wake_fd, &one, sizeof(one)) < 0) {
            /* Already woken. */
        }
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    close(wake_fd);
    return rc;
}
