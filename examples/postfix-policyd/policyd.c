/*
 * policyd.c - relaypolicy-policyd, a Postfix SMTPD policy delegation server.
 *
 *   relaypolicy-policyd -p /etc/relaypolicy.conf -l inet:127.0.0.1:10040
 *   relaypolicy-policyd -p /etc/relaypolicy.conf -l unix:/run/rp/policyd
 *
 * Postfix asks it at RCPT time (smtpd_relay_restrictions =
 * check_policy_service ...) and it answers with the policy's decision:
 * `action=OK` for accept and relay, the full 4xx/5xx reply otherwise.
 *
 * One thread serves each Postfix connection, up to a cap; when the cap is
 * reached, new connections wait in the listen backlog.  Every request
 * takes its own reference to the current policy, so SIGHUP can compile a
 * new policy and swap it in while requests are being answered: those keep
 * the old one, which is freed when the last of them releases it.  A policy
 * that does not compile is logged and the old one stays.  SIGTERM and
 * SIGINT stop the server.
 */
#define _GNU_SOURCE /* accept4, pipe2 */

#include "request.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Bytes read from a connection at once. */
#define READ_CHUNK 4096

typedef struct config {
    const char *policy_path;
    const char *listen;
    pd_style style;
    const char *pid_file;
    unsigned max_conns;
    int idle_timeout; /* seconds */
    mode_t socket_mode;
    bool verbose;
} config;

static config cfg = {
    NULL, NULL, {"OK", false}, NULL, 256, 300, 0666, false,
};

/* The policy in use, swapped on SIGHUP. */
static pthread_mutex_t policy_lock = PTHREAD_MUTEX_INITIALIZER;
static rp_policy *current;

/* Connections being served, bounded by cfg.max_conns. */
static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned n_conns;

/* Signals are turned into bytes on this pipe for the main loop. */
static int sig_pipe[2] = {-1, -1};

static void
logmsg(const char *fmt, ...)
{
    char when[32];
    char line[1024];
    time_t now = time(NULL);
    struct tm tm;
    va_list ap;

    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S",
             localtime_r(&now, &tm));
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s relaypolicy-policyd[%ld]: %s\n", when,
            (long)getpid(), line);
}

/* ---- the policy --------------------------------------------------------- */

static rp_policy *
policy_get(void)
{
    rp_policy *p;

    pthread_mutex_lock(&policy_lock);
    p = rp_policy_ref(current);
    pthread_mutex_unlock(&policy_lock);
    return p;
}

static rp_policy *
policy_load(void)
{
    rp_policy *p = NULL;
    rp_error err;

    if (rp_policy_compile_file(cfg.policy_path, NULL, &p, &err) != RP_OK) {
        logmsg("%s:%s", err.file[0] != '\0' ? err.file : cfg.policy_path,
               err.message);
        return NULL;
    }
    return p;
}

static void
policy_reload(void)
{
    rp_policy *p = policy_load();
    rp_policy *old;

    if (p == NULL) {
        logmsg("reload failed; still using the previous policy");
        return;
    }
    pthread_mutex_lock(&policy_lock);
    old = current;
    current = p;
    pthread_mutex_unlock(&policy_lock);
    rp_policy_free(old);
    logmsg("policy reloaded from %s", cfg.policy_path);
}

/* ---- one connection ----------------------------------------------------- */

typedef struct conn {
    int fd;
    char peer[64];
    char line[PD_MAX_LINE + 1];
    size_t n_line;
    bool discarding; /* skipping the rest of an over-long line */
    pd_request req;
    rp_decision d;
    char out[PD_MAX_ACTION];
} conn;

static bool
send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static bool
answer(conn *c)
{
    rp_policy *p = policy_get();
    const char *why = NULL;
    pd_outcome o;

    o = pd_request_answer(&c->req, p, &cfg.style, &c->d, c->out, &why);
    if (o == PD_MALFORMED)
        logmsg("%s: malformed request (%s): answered 451 4.3.0", c->peer,
               why);
    else if (o == PD_DECIDED && cfg.verbose)
        logmsg("%s: client=%s server=%s:%s user=%s from=<%s> to=<%s>: %s "
               "(%s)", c->peer, c->req.client_address,
               c->req.server_address, c->req.server_port,
               c->req.sasl_username, c->req.sender, c->req.recipient,
               c->d.reply, rp_reason_name(c->d.reason));
    rp_policy_free(p);
    pd_request_init(&c->req);
    return send_all(c->fd, c->out, strlen(c->out));
}

/* Feed one complete line (without '\n') to the request. */
static bool
take_line(conn *c)
{
    if (c->n_line == 0 || (c->n_line == 1 && c->line[0] == '\r'))
        return answer(c);
    pd_request_line(&c->req, c->line, c->n_line);
    return true;
}

static bool
consume(conn *c, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            bool ok = c->discarding || take_line(c);

            c->discarding = false;
            c->n_line = 0;
            if (!ok)
                return false;
        } else if (c->discarding) {
            continue;
        } else if (c->n_line == PD_MAX_LINE) {
            pd_request_fail(&c->req, "line too long");
            c->discarding = true;
        } else {
            c->line[c->n_line++] = buf[i];
        }
    }
    return true;
}

static void
serve(conn *c)
{
    char buf[READ_CHUNK];
    struct pollfd pfd = {c->fd, POLLIN, 0};

    for (;;) {
        int r = poll(&pfd, 1, cfg.idle_timeout * 1000);
        ssize_t n;

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return; /* idle timeout or error */
        n = recv(c->fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || !consume(c, buf, (size_t)n))
            return;
    }
}

static void *
conn_thread(void *arg)
{
    conn *c = arg;

    serve(c);
    close(c->fd);
    free(c);
    pthread_mutex_lock(&conn_lock);
    n_conns--;
    pthread_mutex_unlock(&conn_lock);
    return NULL;
}

/* ---- listening ---------------------------------------------------------- */

static int
listen_unix(const char *path)
{
    struct sockaddr_un sa;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        logmsg("socket path too long: %s", path);
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        chmod(path, cfg.socket_mode) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* "HOST:PORT" or "[V6]:PORT"; port 0 picks a free port. */
static int
listen_inet(const char *spec, char *shown, size_t shown_len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[64];
    const char *colon = strrchr(spec, ':');
    size_t hl;
    int fd, one = 1;
    long port;
    char *end;

    if (colon == NULL)
        return -1;
    hl = (size_t)(colon - spec);
    if (spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']')
        spec++, hl -= 2;
    if (hl == 0 || hl >= sizeof(host))
        return -1;
    memcpy(host, spec, hl);
    host[hl] = '\0';
    port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535)
        return -1;
    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr)) {
        ss.ss_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
        sl = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, host,
                         &((struct sockaddr_in6 *)&ss)->sin6_addr)) {
        ss.ss_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
        sl = sizeof(struct sockaddr_in6);
    } else {
        return -1;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        close(fd);
        return -1;
    }
    port = ntohs(ss.ss_family == AF_INET
                     ? ((struct sockaddr_in *)&ss)->sin_port
                     : ((struct sockaddr_in6 *)&ss)->sin6_port);
    snprintf(shown, shown_len, "inet:%s%s%s:%ld",
             ss.ss_family == AF_INET6 ? "[" : "", host,
             ss.ss_family == AF_INET6 ? "]" : "", port);
    return fd;
}

static int
open_listener(char *shown, size_t shown_len)
{
    const char *spec = cfg.listen;
    int fd;

    if (strncmp(spec, "unix:", 5) == 0) {
        fd = listen_unix(spec + 5);
        snprintf(shown, shown_len, "%s", spec);
    } else {
        fd = listen_inet(strncmp(spec, "inet:", 5) == 0 ? spec + 5 : spec,
                         shown, shown_len);
    }
    if (fd >= 0 && listen(fd, 128) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void
on_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    int saved = errno;

    if (write(sig_pipe[1], &b, 1) < 0) {
        /* The pipe is full: a signal is already pending. */
    }
    errno = saved;
}

static void
setup_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

static void
start_conn(int fd)
{
    pthread_attr_t attr;
    pthread_t t;
    conn *c = calloc(1, sizeof(*c));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);

    if (c == NULL) {
        close(fd);
        return;
    }
    c->fd = fd;
    pd_request_init(&c->req);
    snprintf(c->peer, sizeof(c->peer), "local");
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 &&
        ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->peer,
                  sizeof(c->peer));
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_mutex_lock(&conn_lock);
    n_conns++;
    pthread_mutex_unlock(&conn_lock);
    if (pthread_create(&t, &attr, conn_thread, c) != 0) {
        logmsg("cannot start a thread: closing a connection");
        close(fd);
        free(c);
        pthread_mutex_lock(&conn_lock);
        n_conns--;
        pthread_mutex_unlock(&conn_lock);
    }
    pthread_attr_destroy(&attr);
}

static bool
at_capacity(void)
{
    bool full;

    pthread_mutex_lock(&conn_lock);
    full = n_conns >= cfg.max_conns;
    pthread_mutex_unlock(&conn_lock);
    return full;
}

/* Returns false when the server should stop. */
static bool
handle_signals(void)
{
    unsigned char b;

    while (read(sig_pipe[0], &b, 1) == 1) {
        if (b == SIGHUP)
            policy_reload();
        else
            return false;
    }
    return true;
}

static void
run(int lfd)
{
    struct pollfd pfd[2] = {{lfd, POLLIN, 0}, {sig_pipe[0], POLLIN, 0}};

    for (;;) {
        /* At the cap, new connections wait in the backlog; signals are
         * still handled, and the cap is looked at again shortly. */
        bool full = at_capacity();

        pfd[0].events = full ? 0 : POLLIN;
        pfd[0].revents = 0;
        if (poll(pfd, 2, full ? 50 : -1) < 0) {
            if (errno == EINTR)
                continue;
            logmsg("poll: %s", strerror(errno));
            return;
        }
        if ((pfd[1].revents & POLLIN) && !handle_signals())
            return;
        if (pfd[0].revents & POLLIN) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

            if (fd >= 0)
                start_conn(fd);
            else if (errno == EMFILE || errno == ENFILE) {
                logmsg("accept: %s", strerror(errno));
                poll(NULL, 0, 100);
            }
        }
    }
}

/* ---- main --------------------------------------------------------------- */

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: relaypolicy-policyd -p POLICY -l LISTEN [options]\n"
            "  -p FILE    the relaypolicy policy file\n"
            "  -l LISTEN  unix:/path/to/socket, inet:127.0.0.1:PORT or\n"
            "             inet:[::1]:PORT (port 0: pick a free one)\n"
            "  -m N       most concurrent connections (default 256)\n"
            "  -t SEC     close connections idle this long (default 300)\n"
            "  -a ACTION  action for accepted recipients: OK (default)\n"
            "             or DUNNO (let later restrictions run)\n"
            "  -R         send the library's whole reply line, \"<rcpt>: \"\n"
            "             included (Postfix adds that itself by default)\n"
            "  -M MODE    unix socket permissions, octal (default 0666)\n"
            "  -P FILE    write the process id to FILE\n"
            "  -v         log every decision\n"
            "SIGHUP reloads the policy; SIGTERM stops the server.\n");
}

static bool
parse_args(int argc, char **argv)
{
    int ch;
    char *end;

    while ((ch = getopt(argc, argv, "p:l:m:t:a:RM:P:vh")) != -1) {
        switch (ch) {
        case 'p': cfg.policy_path = optarg; break;
        case 'l': cfg.listen = optarg; break;
        case 'm': cfg.max_conns = (unsigned)strtoul(optarg, &end, 10); break;
        case 't': cfg.idle_timeout = (int)strtol(optarg, &end, 10); break;
        case 'a': cfg.style.accept = optarg; break;
        case 'R': cfg.style.full_reply = true; break;
        case 'M': cfg.socket_mode = (mode_t)strtoul(optarg, &end, 8); break;
        case 'P': cfg.pid_file = optarg; break;
        case 'v': cfg.verbose = true; break;
        case 'h': usage(stdout); exit(0);
        default: return false;
        }
    }
    return cfg.policy_path != NULL && cfg.listen != NULL &&
           cfg.max_conns > 0 && cfg.idle_timeout > 0 && optind == argc &&
           (strcmp(cfg.style.accept, "OK") == 0 ||
            strcmp(cfg.style.accept, "DUNNO") == 0);
}

static void
write_pid(void)
{
    FILE *f;

    if (cfg.pid_file == NULL)
        return;
    f = fopen(cfg.pid_file, "w");
    if (f != NULL) {
        fprintf(f, "%ld\n", (long)getpid());
        fclose(f);
    }
}

int
main(int argc, char **argv)
{
    char shown[128];
    int lfd;

    if (!parse_args(argc, argv)) {
        usage(stderr);
        return 2;
    }
    current = policy_load();
    if (current == NULL)
        return 1;
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return 1;
    setup_signals();
    lfd = open_listener(shown, sizeof(shown));
    if (lfd < 0) {
        logmsg("cannot listen on %s: %s", cfg.listen, strerror(errno));
        return 1;
    }
    write_pid();
    logmsg("listening on %s, policy %s, relaypolicy %s", shown,
           cfg.policy_path, rp_version_string());
    run(lfd);
    close(lfd);
    if (strncmp(cfg.listen, "unix:", 5) == 0)
        unlink(cfg.listen + 5);
    logmsg("stopped");
    pthread_mutex_lock(&policy_lock);
    rp_policy_free(current);
    current = NULL;
    pthread_mutex_unlock(&policy_lock);
    return 0;
}
