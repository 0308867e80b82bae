/*
 * filter.c - relaypolicy-opensmtpd: relaypolicy decisions for OpenSMTPD, a
 * filter process speaking smtpd-filters(7) on standard input and output.
 *
 * In smtpd.conf:
 *   filter "relaypolicy" proc-exec "relaypolicy-opensmtpd -p /etc/rp.conf"
 *   listen on 192.0.2.1 port 25 filter "relaypolicy"
 *
 * One thread, one poll() loop over standard input and a signal pipe: the
 * filter waits for nothing else (no DNS, no files but the policy), lines
 * are bounded (OSF_LINE_MAX), and end of input ends the filter.  SIGHUP
 * compiles the policy again and swaps it in; a policy that does not
 * compile leaves the old one.  On any protocol error the filter exits
 * non-zero, and smtpd, having lost a filter, stops: a session never goes
 * on unfiltered.
 */
#define _GNU_SOURCE

#include "proto.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct config {
    mta_opts opts;
    size_t max_sessions;
} config;

static config cfg = {.max_sessions = 65536};

static int sig_pipe[2] = {-1, -1};

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

static bool
setup_signals(void)
{
    struct sigaction sa;

    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return false;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    return true;
}

/* Standard output is smtpd's: whole lines, retried until written. */
static bool
write_out(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, line, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = {STDOUT_FILENO, POLLOUT, 0};

            poll(&p, 1, 1000);
            continue;
        }
        if (n <= 0)
            return false;
        line += n;
        len -= (size_t)n;
    }
    return true;
}

/* ---- the input loop ----------------------------------------------------- */

typedef struct input {
    char *line; /* OSF_LINE_MAX + 1 bytes */
    size_t n;
    bool cut;
} input;

static bool
feed(osf_state *st, input *in, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            bool ok;

            in->line[in->n] = '\0';
            ok = memchr(in->line, '\0', in->n) != NULL
                     ? (mta_log("NUL byte in a line from smtpd"), false)
                     : osf_line(st, in->line, in->n, in->cut);
            in->n = 0;
            in->cut = false;
            if (!ok)
                return false;
        } else if (in->n == OSF_LINE_MAX) {
            in->cut = true;
        } else {
            in->line[in->n++] = buf[i];
        }
    }
    return true;
}

/* Returns false to stop: SIGTERM or SIGINT. */
static bool
handle_signals(osf_state *st)
{
    unsigned char b;

    while (read(sig_pipe[0], &b, 1) == 1) {
        if (b != SIGHUP)
            return false;
        mta_policy_reload(st->slot, cfg.opts.policy_path);
    }
    return true;
}

/* 0: end of input; 1: protocol error or read error; 2: signal to stop. */
static int
run(osf_state *st, input *in)
{
    struct pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {sig_pipe[0], POLLIN, 0}};
    char buf[8192];

    for (;;) {
        ssize_t n;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if ((p[1].revents & POLLIN) && !handle_signals(st))
            return 2;
        if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        n = read(STDIN_FILENO, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return n == 0 ? 0 : 1;
        if (!feed(st, in, buf, (size_t)n))
            return 1;
    }
}

/* ---- main --------------------------------------------------------------- */

static void
usage(FILE *f)
{
    fprintf(f, "usage: relaypolicy-opensmtpd -p POLICY [-m SESSIONS] "
               "[-q] [-s] [-n]\n"
               "  -p FILE      the relaypolicy policy file\n"
               "  -m SESSIONS  most sessions tracked (default 65536); the\n"
               "               recipients of any further one are tempfailed\n"
               "  -q           log refusals only (default: every decision)\n"
               "  -s           log to syslog (mail facility), not stderr\n"
               "  -n           compile the policy, report, and exit\n"
               "Run by smtpd (proc-exec); SIGHUP reloads the policy.\n");
}

static bool
parse_args(int argc, char **argv)
{
    int ch;
    char *end = NULL;

    while ((ch = getopt(argc, argv, "p:m:qsnh")) != -1) {
        switch (ch) {
        case 'm':
            cfg.max_sessions = strtoul(optarg, &end, 10);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            if (!mta_opt(&cfg.opts, ch, optarg))
                return false;
        }
        if (end != NULL && *end != '\0')
            return false;
    }
    return cfg.opts.policy_path != NULL && optind == argc &&
           cfg.max_sessions > 0;
}

int
main(int argc, char **argv)
{
    rp_policy_slot *slot = NULL;
    osf_state st;
    input in = {NULL, 0, false};
    int rc;

    if (!parse_args(argc, argv)) {
        usage(stderr);
        return 2;
    }
    if ((rc = mta_start("relaypolicy-opensmtpd", &cfg.opts, &slot)) >= 0)
        return rc;
    if (!osf_init(&st, slot, cfg.max_sessions) || !setup_signals() ||
        (in.line = malloc(OSF_LINE_MAX + 1)) == NULL)
        return 1;
    st.quiet = cfg.opts.quiet;
    st.write = write_out;
    mta_log("started, policy %s, relaypolicy %s", cfg.opts.policy_path,
            rp_version_string());
    rc = run(&st, &in);
    mta_log(rc == 0   ? "end of input: stopping"
            : rc == 2 ? "stopped by a signal"
                      : "protocol or read error: stopping");
    osf_free(&st);
    free(in.line);
    rp_slot_free(slot);
    /* Only the end of input (smtpd going away) is a clean exit: smtpd
     * takes any other exit as a lost filter and stops, failing closed. */
    return rc == 0 ? 0 : 1;
}
