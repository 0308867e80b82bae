/*
 * milter.c - relaypolicy-milter: relaypolicy decisions for Sendmail and
 * Postfix through the milter protocol (libmilter).
 *
 *   relaypolicy-milter -p /etc/relaypolicy.conf -l inet:8894@127.0.0.1
 *
 * The connect, HELO and MAIL FROM callbacks collect the session facts
 * (client address, the local address and port the client reached, the
 * login, TLS); the RCPT TO callback asks the policy and answers with the
 * library's exact reply (smfi_setreply) or lets the MTA go on.  A milter
 * only narrows what the MTA already allows, so the MTA must leave relay
 * decisions on the guarded listener to it and fail closed when it is not
 * there (see relaypolicy-milter(8)).
 *
 * Threads: libmilter runs one thread per MTA connection.  Each recipient
 * takes its own reference to the policy in the slot; SIGHUP compiles the
 * policy again on a thread of its own and swaps it in, so decisions in
 * flight finish with the policy they started with.  SIGTERM and SIGINT
 * stop the milter (libmilter's own signal thread).
 */
#define _GNU_SOURCE

#include "../common/ask.h"

#include <libmilter/mfapi.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How the reply text is passed: see strip_recipient(). */
typedef enum reply_style { STYLE_AUTO, STYLE_FULL, STYLE_SHORT } reply_style;

typedef struct config {
    mta_opts opts;
    const char *conn;
    const char *pid_file;
    int timeout;
    mode_t socket_mode;
    reply_style style;
} config;

static config cfg = {.timeout = 30, .socket_mode = 0666, .style = STYLE_AUTO};

/* The policy in force; SIGHUP swaps in a new one. */
static rp_policy_slot *slot;

/* Facts of one MTA connection (smfi_setpriv). */
typedef struct session {
    mta_facts facts;
    char id[32];
    bool short_text; /* leave out the library's "<rcpt>: " */
} session;

/*
 * libmilter's signal thread sigwait()s for SIGHUP, SIGTERM and SIGINT and
 * stops the milter on any of them.  SIGHUP is ours (reload): the static
 * libmilter is linked with --wrap=sigwait, so its thread waits for the
 * other two only, and the reload thread alone receives SIGHUP.
 */
int __real_sigwait(const sigset_t *set, int *sig);
int __wrap_sigwait(const sigset_t *set, int *sig);

int
__wrap_sigwait(const sigset_t *set, int *sig)
{
    sigset_t without_hup = *set;

    sigdelset(&without_hup, SIGHUP);
    return __real_sigwait(&without_hup, sig);
}

/* ---- facts from macros ---------------------------------------------------
 */

static const char *
macro(SMFICTX *ctx, const char *name)
{
    const char *v = smfi_getsymval(ctx, (char *)name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

static void
client_from(SMFICTX *ctx, struct sockaddr *sa, mta_facts *f)
{
    const void *bin = NULL;
    int family = 0;

    if (sa != NULL && sa->sa_family == AF_INET) {
        family = AF_INET;
        bin = &((struct sockaddr_in *)sa)->sin_addr;
        f->client_port = ntohs(((struct sockaddr_in *)sa)->sin_port);
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        family = AF_INET6;
        bin = &((struct sockaddr_in6 *)sa)->sin6_addr;
        f->client_port = ntohs(((struct sockaddr_in6 *)sa)->sin6_port);
    }
    if (bin != NULL) {
        char text[MTA_IP_MAX];

        if (inet_ntop(family, bin, text, sizeof(text)) != NULL &&
            mta_ip_parse(text, f->client_ip, sizeof(f->client_ip)))
            return;
    }
    /* No socket address (a local or unknown client): the macro, if any. */
    if (!mta_ip_parse(macro(ctx, "{client_addr}"), f->client_ip,
                      sizeof(f->client_ip)))
        f->client_ip[0] = '\0';
}

/*
 * The address the client reached: {if_addr} where the MTA gives it (Sendmail
 * leaves it out for loopback connections), else {daemon_addr} unless that
 * is a wildcard bind (0.0.0.0 or ::), which says nothing about the address.
 */
static void
local_from(SMFICTX *ctx, mta_facts *f)
{
    const char *port = macro(ctx, "{daemon_port}");

    if (!mta_ip_parse(macro(ctx, "{if_addr}"), f->local_ip,
                      sizeof(f->local_ip)) &&
        (!mta_ip_parse(macro(ctx, "{daemon_addr}"), f->local_ip,
                       sizeof(f->local_ip)) ||
         mta_ip_unspecified(f->local_ip)))
        f->local_ip[0] = '\0';
    if (!mta_port_parse(port, &f->local_port))
        f->local_port = 0;
}

/*
 * Sendmail writes a refused recipient itself ("<bob@x>... text"); Postfix
 * passes a milter's reply on unchanged.  With -r auto (the default), the
 * library's "<rcpt>: " is left out for every MTA but Postfix (macro v).
 */
static bool
short_text_for(const char *mta_version)
{
    if (cfg.style != STYLE_AUTO)
        return cfg.style == STYLE_SHORT;
    return mta_version == NULL || strncmp(mta_version, "Postfix", 7) != 0;
}

static const char *
strip_recipient(const char *text)
{
    const char *end;

    if (text[0] != '<' || (end = strstr(text, ">: ")) == NULL)
        return text;
    return end + 3;
}

static session *
get_session(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

/* ---- callbacks ----------------------------------------------------------
 */

static sfsistat
on_negotiate(SMFICTX *ctx,
             unsigned long f0,
             unsigned long f1,
             unsigned long f2,
             unsigned long f3,
             unsigned long *pf0,
             unsigned long *pf1,
             unsigned long *pf2,
             unsigned long *pf3)
{
    unsigned long skip = SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH |
                         SMFIP_NOUNKNOWN | SMFIP_NODATA;

    (void)f2, (void)f3;
    *pf0 = 0; /* no message changes */
    *pf1 = f1 & skip;
    *pf2 = 0;
    *pf3 = 0;
    /* Ask for the macros the facts come from, where the MTA lets us. */
    if (f0 & SMFIF_SETSYMLIST) {
        smfi_setsymlist(ctx, SMFIM_CONNECT,
                        "j v {client_addr} {client_port} {daemon_addr} "
                        "{daemon_port} {if_addr}");
        smfi_setsymlist(ctx, SMFIM_HELO,
                        "{tls_version} {cert_subject} {cert_issuer}");
        smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_type} {auth_authen}");
    }
    return SMFIS_CONTINUE;
}

static sfsistat
on_connect(SMFICTX *ctx, char *hostname, struct sockaddr *sa)
{
    session *s = get_session(ctx);
    static unsigned long next_id;
    unsigned long id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);

    (void)hostname;
    if (s == NULL) {
        s = calloc(1, sizeof(*s));
        if (s == NULL || smfi_setpriv(ctx, s) != MI_SUCCESS) {
            free(s);
            mta_log("out of memory: session refused");
            return SMFIS_TEMPFAIL;
        }
    }
    mta_facts_init(&s->facts);
    snprintf(s->id, sizeof(s->id), "m%lu", id);
    client_from(ctx, sa, &s->facts);
    local_from(ctx, &s->facts);
    s->short_text = short_text_for(macro(ctx, "v"));
    return SMFIS_CONTINUE;
}

static sfsistat
on_helo(SMFICTX *ctx, char *helo)
{
    session *s = get_session(ctx);
    const char *subject;

    if (s == NULL)
        return SMFIS_TEMPFAIL;
    mta_copy(s->facts.helo, sizeof(s->facts.helo), helo ? helo : "", RP_NTS);
    s->facts.tls = macro(ctx, "{tls_version}") != NULL;
    subject = macro(ctx, "{cert_subject}");
    mta_copy(s->facts.cert_subject, sizeof(s->facts.cert_subject),
             subject != NULL ? subject : "", RP_NTS);
    mta_facts_reset_tx(&s->facts);
    return SMFIS_CONTINUE;
}

static sfsistat
on_envfrom(SMFICTX *ctx, char **argv)
{
    session *s = get_session(ctx);
    const char *user = macro(ctx, "{auth_authen}");

    if (s == NULL)
        return SMFIS_TEMPFAIL;
    mta_facts_reset_tx(&s->facts);
    s->facts.user[0] = '\0';
    s->facts.user_too_long = false;
    if (user != NULL) {
        s->facts.user_too_long = strlen(user) >= sizeof(s->facts.user);
        mta_copy(s->facts.user, sizeof(s->facts.user), user, RP_NTS);
    }
    if (argv != NULL && argv[0] != NULL) {
        mta_copy(s->facts.sender, sizeof(s->facts.sender), argv[0], RP_NTS);
        s->facts.have_sender = true;
        /* argv[1...]: MAIL FROM's ESMTP parameters, as the client sent them */
        for (char **p = argv + 1; *p != NULL; p++)
            if (mta_param_smtputf8(*p))
                s->facts.smtputf8 = true;
    }
    return SMFIS_CONTINUE;
}

/*
 * smfi_setreply() takes '%' as the start of a format escape (Sendmail
 * drops a reply with a lone '%'): double every '%' of the text.
 */
static void
escape_percent(const char *in, char *out, size_t size)
{
    size_t n = 0;

    for (; *in != '\0' && n + 2 < size; in++) {
        out[n++] = *in;
        if (*in == '%')
            out[n++] = '%';
    }
    out[n] = '\0';
}

static sfsistat
answer(SMFICTX *ctx, const session *s, const mta_reply *r)
{
    char text[2 * MTA_REPLY_MAX];

    if (r->answer == MTA_PROCEED)
        return SMFIS_CONTINUE;
    escape_percent(s->short_text ? strip_recipient(r->text) : r->text, text,
                   sizeof(text));
    if (smfi_setreply(ctx, (char *)r->code, (char *)r->enhanced, text) !=
        MI_SUCCESS)
        mta_log("smfi_setreply refused \"%s\"", r->line);
    return r->answer == MTA_REFUSE ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

static sfsistat
on_envrcpt(SMFICTX *ctx, char **argv)
{
    session *s = get_session(ctx);
    const char *rcpt = argv != NULL ? argv[0] : NULL;
    rp_policy *policy;
    rp_decision d;
    mta_reply r;

    if (s == NULL)
        return SMFIS_TEMPFAIL;
    policy = rp_slot_acquire(slot);
    mta_decide(policy, &s->facts, rcpt, &d, &r);
    if (!cfg.opts.quiet || r.answer != MTA_PROCEED)
        mta_log_decision(s->id, &s->facts, rcpt != NULL ? rcpt : "", &d, &r);
    rp_policy_free(policy);
    return answer(ctx, s, &r);
}

static sfsistat
on_abort(SMFICTX *ctx)
{
    session *s = get_session(ctx);

    if (s != NULL)
        mta_facts_reset_tx(&s->facts);
    return SMFIS_CONTINUE;
}

static sfsistat
on_close(SMFICTX *ctx)
{
    free(get_session(ctx));
    smfi_setpriv(ctx, NULL);
    return SMFIS_CONTINUE;
}

static struct smfiDesc filter = {
    .xxfi_name = "relaypolicy",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = 0,
    .xxfi_connect = on_connect,
    .xxfi_helo = on_helo,
    .xxfi_envfrom = on_envfrom,
    .xxfi_envrcpt = on_envrcpt,
    .xxfi_abort = on_abort,
    .xxfi_close = on_close,
    .xxfi_negotiate = on_negotiate,
};

/* ---- reloading ----------------------------------------------------------
 */

static void *
reload_thread(void *arg)
{
    sigset_t set;

    (void)arg;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    for (;;) {
        siginfo_t info;

        if (sigwaitinfo(&set, &info) == SIGHUP)
            mta_policy_reload(slot, cfg.opts.policy_path);
    }
    return NULL;
}

/* ---- main ---------------------------------------------------------------
 */

static void
usage(FILE *f)
{
    fprintf(f, "usage: relaypolicy-milter -p POLICY -l SOCKET [options]\n"
               "  -p FILE    the relaypolicy policy file\n"
               "  -l SOCKET  unix:/path, inet:PORT@127.0.0.1 or "
               "inet6:PORT@[::1]\n"
               "  -t SEC     MTA read/write timeout (default 30)\n"
               "  -r STYLE   reply text: full (the library's whole reply),\n"
               "             short (without \"<rcpt>: \", which Sendmail\n"
               "             writes itself) or auto (full for Postfix only;\n"
               "             the default)\n"
               "  -M MODE    unix socket permissions, octal (default 0666)\n"
               "  -P FILE    write the process id to FILE\n"
               "  -q         log refusals only (default: every decision)\n"
               "  -s         log to syslog (mail facility), not stderr\n"
               "  -n         compile the policy, report, and exit\n"
               "SIGHUP reloads the policy; SIGTERM stops the milter.\n");
}

static bool
parse_args(int argc, char **argv)
{
    int ch;
    char *end = NULL;

    while ((ch = getopt(argc, argv, "p:l:t:r:M:P:qsnh")) != -1) {
        switch (ch) {
        case 'l':
            cfg.conn = optarg;
            break;
        case 't':
            cfg.timeout = (int)strtol(optarg, &end, 10);
            break;
        case 'M':
            cfg.socket_mode = (mode_t)strtoul(optarg, &end, 8);
            break;
        case 'P':
            cfg.pid_file = optarg;
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
    return cfg.opts.policy_path != NULL && optind == argc && cfg.timeout > 0 &&
           (cfg.conn != NULL || cfg.opts.check_only);
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

static bool
open_socket(void)
{
    if (smfi_setconn((char *)cfg.conn) != MI_SUCCESS ||
        smfi_settimeout(cfg.timeout) != MI_SUCCESS ||
        smfi_register(filter) != MI_SUCCESS ||
        smfi_opensocket(true) != MI_SUCCESS) {
        mta_log("cannot listen on %s", cfg.conn);
        return false;
    }
    if (strncmp(cfg.conn, "unix:", 5) == 0 ||
        strncmp(cfg.conn, "local:", 6) == 0) {
        const char *path = strchr(cfg.conn, ':') + 1;

        if (chmod(path, cfg.socket_mode) != 0)
            mta_log("chmod %s: %s", path, strerror(errno));
    }
    return true;
}

static bool
start_reload_thread(void)
{
    sigset_t set;
    pthread_t t;

    /* Every thread, libmilter's included, inherits SIGHUP blocked. */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    return pthread_create(&t, NULL, reload_thread, NULL) == 0 &&
           pthread_detach(t) == 0;
}

int
main(int argc, char **argv)
{
    int rc;

    if (!parse_args(argc, argv)) {
        usage(stderr);
        return 2;
    }
    if ((rc = mta_start("relaypolicy-milter", &cfg.opts, &slot)) >= 0)
        return rc;
    if (!start_reload_thread() || !open_socket())
        return 1;
    write_pid();
    mta_log("listening on %s, policy %s, relaypolicy %s", cfg.conn,
            cfg.opts.policy_path, rp_version_string());
    rc = smfi_main();
    mta_log("stopped");
    return rc == MI_SUCCESS ? 0 : 1;
}
