/*
 * relaypolicyd.c - a Postfix SMTPD policy delegation server answering with
 * relaypolicy's decisions (and, through the same protocol, Exim's
 * ${readsocket}).
 *
 *   relaypolicyd -p /etc/relaypolicy/relaypolicy.conf -l inet:127.0.0.1:10040
 *   relaypolicyd -n -p /etc/relaypolicy/relaypolicy.conf     (config test)
 *
 * Postfix asks at RCPT time (smtpd_relay_restrictions = check_policy_service
 * ...) and gets `action=OK` for accept and relay, the full 4xx/5xx reply
 * otherwise.  See relaypolicyd(8).
 *
 * The parts: server.c (the event loop), conn.c (one client), request.c (the
 * protocol), reload.c (SIGHUP, off the serving thread), listen.c (sockets),
 * check.c (listener warnings), log.c (rate-limited log).
 */

#include "log.h"
#include "rpd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

rpd_config rpd_cfg = {
    .style = {"OK", false},
    .max_conns = 1024,
    .max_per_client = 256,
    .workers = 0, /* 0: one per processor, at most 4 */
    .request_timeout = 10,
    .idle_timeout = 300,
    .log_rate = 1000,
    .socket_mode = 0666,
};

static void
usage(FILE *f)
{
    fprintf(
        f,
        "usage: relaypolicyd -p POLICY [-l LISTEN]... [options]\n"
        "       relaypolicyd -n -p POLICY\n"
        "  -p FILE    the relaypolicy policy file\n"
        "  -l LISTEN  unix:/path, inet:127.0.0.1:PORT or inet:[::1]:PORT\n"
        "             (port 0 picks a free one); up to 8; none: the\n"
        "             sockets systemd passes (relaypolicyd.socket)\n"
        "  -n         check the policy (compile and lint) and exit\n"
        "  -t SEC     deadline for a whole request and its answer (10)\n"
        "  -i SEC     close connections idle this long (300)\n"
        "  -m N       most connections in all (1024); beyond it the\n"
        "             oldest idle connection is closed\n"
        "  -c N       most connections from one IP address (256; 0: no\n"
        "             limit); beyond it its oldest idle one is closed\n"
        "  -w N       event loops, each on its own thread (one per\n"
        "             processor, at most 4); -m and -c are shared out\n"
        "  -a ACTION  action for accepted recipients: OK (default) or\n"
        "             DUNNO (let later restrictions decide)\n"
        "  -R         send the library's whole reply, \"<rcpt>: \" included\n"
        "  -L N       lines per second clients may cause in the log (1000;\n"
        "             0: no limit)\n"
        "  -q         no log line per decision\n"
        "  -M MODE    unix socket permissions, octal (0666)\n"
        "  -P FILE    write the process id to FILE\n"
        "SIGHUP reloads the policy; SIGTERM stops the server.\n");
}

static bool
number(const char *s, int base, long lo, long hi, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(s, &end, base);
    return errno == 0 && end != s && *end == '\0' && *out >= lo && *out <= hi;
}

static bool
parse_option(int ch, const char *arg)
{
    long v = 0;

    switch (ch) {
    case 'p':
        rpd_cfg.policy_path = arg;
        return true;
    case 'l':
        if (rpd_cfg.n_listen == RPD_MAX_LISTEN)
            return false;
        rpd_cfg.listen[rpd_cfg.n_listen++] = arg;
        return true;
    case 'n':
        rpd_cfg.config_test = true;
        return true;
    case 'R':
        rpd_cfg.style.full_reply = true;
        return true;
    case 'q':
        rpd_cfg.quiet = true;
        return true;
    case 'P':
        rpd_cfg.pid_file = arg;
        return true;
    case 'a':
        rpd_cfg.style.accept = arg;
        return strcmp(arg, "OK") == 0 || strcmp(arg, "DUNNO") == 0;
    case 'v':
        return true; /* decisions are always logged; kept for -v */
    default:
        break;
    }
    if (!number(arg, ch == 'M' ? 8 : 10, 0, 1000000, &v))
        return false;
    switch (ch) {
    case 't':
        rpd_cfg.request_timeout = (int)v;
        return v > 0;
    case 'i':
        rpd_cfg.idle_timeout = (int)v;
        return v > 0;
    case 'm':
        rpd_cfg.max_conns = (unsigned)v;
        return v > 0;
    case 'c':
        rpd_cfg.max_per_client = (unsigned)v;
        return true;
    case 'w':
        rpd_cfg.workers = (unsigned)v;
        return v > 0 && v <= RPD_MAX_WORKERS;
    case 'L':
        rpd_cfg.log_rate = (unsigned)v;
        return true;
    case 'M':
        rpd_cfg.socket_mode = (mode_t)v;
        return v <= 0777;
    default:
        return false;
    }
}

static bool
parse_args(int argc, char **argv)
{
    int ch;

    while ((ch = getopt(argc, argv, "p:l:nt:i:m:c:w:a:RL:qM:P:vh")) != -1) {
        if (ch == 'h') {
            usage(stdout);
            exit(0);
        }
        if (ch == '?' || !parse_option(ch, optarg)) {
            if (ch != '?')
                fprintf(stderr, "relaypolicyd: bad value for -%c: %s\n", ch,
                        optarg);
            return false;
        }
    }
    return rpd_cfg.policy_path != NULL && optind == argc;
}

/* ---- -n: the configuration test ----------------------------------------- */

static int
print_finding(void *ctx, const rp_finding *f)
{
    static const char *const sev[] = {"", "info", "warning", "critical"};

    (void)ctx;
    printf("%s:%u: %s: %s: %s\n", f->file, (unsigned)f->line,
           (unsigned)f->severity <= 3 ? sev[f->severity] : "?", f->code,
           f->message);
    return 0;
}

static int
config_test(void)
{
    rp_policy *p = rpd_policy_load();
    size_t count = 0;

    if (p == NULL) {
        fflush(stderr);
        printf("%s: does not compile\n", rpd_cfg.policy_path);
        return 1;
    }
    rp_policy_lint(p, print_finding, NULL, &count);
    rpd_check_host_addresses(p);
    rp_policy_free(p);
    fflush(stderr);
    printf("%s: compiles; %zu lint finding%s\n", rpd_cfg.policy_path, count,
           count == 1 ? "" : "s");
    return 0;
}

/* ---- start and stop ----------------------------------------------------- */

/* Signals arrive on a descriptor the event loop watches; every thread
 * (the reload thread too) has them blocked. */
static int
block_signals(void)
{
    sigset_t set;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Room for every connection, the listeners and the policy's files. */
static void
raise_fd_limit(void)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)rpd_cfg.max_conns + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < want)
        rpd_log("warning: only %lu file descriptors for -m %u connections",
                (unsigned long)rl.rlim_cur, rpd_cfg.max_conns);
}

static void
write_pid(void)
{
    FILE *f;

    if (rpd_cfg.pid_file == NULL)
        return;
    f = fopen(rpd_cfg.pid_file, "w");
    if (f != NULL) {
        fprintf(f, "%ld\n", (long)getpid());
        fclose(f);
    }
}

static int
serve(void)
{
    int fds[RPD_MAX_LISTEN];
    char shown[RPD_MAX_LISTEN][128];
    int sig_fd = block_signals();
    int n, rc;

    if (sig_fd < 0 || !rpd_reload_start()) {
        rpd_log("cannot start: %s", strerror(errno));
        return 1;
    }
    raise_fd_limit();
    n = rpd_listen_open(fds, shown);
    if (n < 0) {
        rpd_reload_stop();
        return 1;
    }
    write_pid();
    for (int i = 0; i < n; i++)
        rpd_log("listening on %s, policy %s, relaypolicy %s", shown[i],
                rpd_cfg.policy_path, rp_version_string());
    rc = rpd_serve(fds, n, sig_fd);
    for (int i = 0; i < n; i++)
        close(fds[i]);
    rpd_listen_cleanup();
    rpd_reload_stop();
    close(sig_fd);
    rpd_log("stopped");
    return rc;
}

int
main(int argc, char **argv)
{
    rp_policy *p;
    int rc;

    if (!parse_args(argc, argv)) {
        usage(stderr);
        return 2;
    }
    rpd_log_init("relaypolicyd", rpd_cfg.log_rate);
    if (rpd_cfg.workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        rpd_cfg.workers = n < 1 ? 1 : n > 4 ? 4 : (unsigned)n;
    }
    if (rpd_cfg.workers > rpd_cfg.max_conns)
        rpd_cfg.workers = rpd_cfg.max_conns;
    if (rpd_cfg.config_test)
        return config_test();
    p = rpd_policy_load();
    if (p == NULL)
        return 1;
    rpd_check_host_addresses(p);
    if (rp_slot_new(p, NULL, &rpd_slot) != RP_OK) {
        rp_policy_free(p);
        return 1;
    }
    rc = serve();
    rp_slot_free(rpd_slot);
    return rc;
}
