/*
 * ask.c - session facts to one relaypolicy decision, for the MTA surfaces.
 */
#define _GNU_SOURCE

#include "ask.h"
#include "query.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

void
mta_facts_init(mta_facts *f)
{
    memset(f, 0, sizeof(*f));
}

void
mta_facts_reset_tx(mta_facts *f)
{
    f->sender[0] = '\0';
    f->have_sender = false;
    f->smtputf8 = false;
}

bool
mta_param_smtputf8(const char *param)
{
    return param != NULL && strcasecmp(param, "SMTPUTF8") == 0;
}

void
mta_copy(char *dst, size_t size, const char *src, size_t len)
{
    if (len == RP_NTS)
        len = strlen(src);
    if (len >= size)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

bool
mta_ip_parse(const char *in, char *out, size_t out_len)
{
    char buf[MTA_IP_MAX + 8];
    unsigned char bin[16];
    size_t n;

    if (in == NULL)
        return false;
    n = strlen(in);
    if (n >= 2 && in[0] == '[' && in[n - 1] == ']')
        in++, n -= 2;
    if (n > 5 && strncasecmp(in, "IPv6:", 5) == 0)
        in += 5, n -= 5;
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, in, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, bin) == 1)
        return inet_ntop(AF_INET, bin, out, (socklen_t)out_len) != NULL;
    if (inet_pton(AF_INET6, buf, bin) == 1)
        return inet_ntop(AF_INET6, bin, out, (socklen_t)out_len) != NULL;
    return false;
}

bool
mta_ip_unspecified(const char *ip)
{
    return strcmp(ip, "0.0.0.0") == 0 || strcmp(ip, "::") == 0;
}

/* ---- deciding ----------------------------------------------------------- */

static const char *
facts_missing(const mta_facts *f)
{
    if (f->missing != NULL)
        return f->missing;
    if (f->client_ip[0] == '\0')
        return "no client address";
    if (f->local_ip[0] == '\0')
        return "no local address (configure the MTA to pass it)";
    if (f->local_port == 0)
        return "no local port (configure the MTA to pass it)";
    if (f->user_too_long)
        return "login name too long";
    return NULL;
}

static void
fill_query(const mta_facts *f, const char *rcpt, rp_query *q)
{
    mta_text_facts t = {
        .client_ip = f->client_ip,
        .local_ip = f->local_ip,
        .local_port = f->local_port,
        .user = f->user,
        .helo = f->helo,
        .sender = f->have_sender ? f->sender : NULL,
        .recipient = rcpt,
        .tls = f->tls,
        .smtputf8 = f->smtputf8,
    };

    mta_query_fill(&t, q);
}

static void
reply_fail(mta_reply *out, const char *why)
{
    out->answer = MTA_TEMPFAIL;
    memcpy(out->code, "451", 4);
    memcpy(out->enhanced, "4.3.0", 6);
    snprintf(out->text, sizeof(out->text), "Policy service unavailable");
    snprintf(out->line, sizeof(out->line), "451 4.3.0 %s", out->text);
    out->why = why;
}

/*
 * Split the decision's reply line ("550 5.7.1 <r>: text") so that the MTA
 * sends exactly that line: code, enhanced code, and the rest as text.
 */
static void
reply_from(const rp_decision *d, mta_reply *out)
{
    const char *line = d->reply;
    const char *rest;

    out->why = NULL;
    snprintf(out->code, sizeof(out->code), "%03u", (unsigned)d->code % 1000);
    mta_copy_printable(out->enhanced, sizeof(out->enhanced), d->enhanced);
    rest = line;
    if (strncmp(rest, out->code, 3) == 0 && rest[3] == ' ') {
        rest += 4;
        if (strncmp(rest, out->enhanced, strlen(out->enhanced)) == 0 &&
            rest[strlen(out->enhanced)] == ' ')
            rest += strlen(out->enhanced) + 1;
    } else {
        rest = d->text != NULL ? d->text : "";
    }
    mta_copy_printable(out->text, sizeof(out->text), rest);
    snprintf(out->line, sizeof(out->line), "%s %s %s", out->code, out->enhanced,
             out->text);
}

void
mta_decide(const rp_policy *policy,
           const mta_facts *f,
           const char *rcpt,
           rp_decision *d,
           mta_reply *out)
{
    const char *why = facts_missing(f);
    rp_query q;

    d->verdict = RP_VERDICT_NONE;
    if (why == NULL && policy == NULL)
        why = "no policy loaded";
    if (why == NULL && rcpt == NULL)
        why = "no recipient";
    if (why != NULL) {
        reply_fail(out, why);
        return;
    }
    fill_query(f, rcpt, &q);
    if (mta_query_decide(policy, &q, d) != RP_OK) {
        d->verdict = RP_VERDICT_NONE;
        reply_fail(out, d->detail != NULL && d->detail[0] != '\0'
                            ? d->detail
                            : "bad facts");
        return;
    }
    reply_from(d, out);
    switch (d->verdict) {
    case RP_ACCEPT:
    case RP_RELAY:
        out->answer = MTA_PROCEED;
        break;
    case RP_REJECT:
        out->answer = out->code[0] == '5' ? MTA_REFUSE : MTA_TEMPFAIL;
        break;
    default:
        out->answer = MTA_TEMPFAIL;
        if (out->code[0] != '4')
            reply_fail(out, "decision without a usable reply");
    }
}

/* ---- logging ------------------------------------------------------------ */

static const char *log_prog = "relaypolicy";
static bool log_syslog;

void
mta_log_init(const char *prog, bool use_syslog)
{
    log_prog = prog;
    log_syslog = use_syslog;
    if (use_syslog)
        openlog(prog, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

static void
log_line(const char *line)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;

    if (log_syslog) {
        syslog(LOG_INFO, "%s", line);
        return;
    }
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
    fprintf(stderr, "%s %s[%ld]: %s\n", when, log_prog, (long)getpid(), line);
}

void
mta_log(const char *fmt, ...)
{
    char line[3072];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    log_line(line);
}

/*
 * Copy for a log line: printable ASCII only, so a client cannot forge
 * lines; one pair of angle brackets around a path is left out.
 */
static const char *
shown(char *buf, size_t size, const char *s)
{
    size_t n;

    mta_copy_printable(buf, size, s != NULL ? s : "");
    n = strlen(buf);
    if (n >= 2 && buf[0] == '<' && buf[n - 1] == '>') {
        memmove(buf, buf + 1, n - 2);
        buf[n - 2] = '\0';
    }
    return buf;
}

void
mta_log_decision(const char *session,
                 const mta_facts *f,
                 const char *rcpt,
                 const rp_decision *d,
                 const mta_reply *r)
{
    char helo[64], user[MTA_NAME_MAX], from[MTA_PATH_MAX], to[MTA_PATH_MAX];
    char cert[MTA_NAME_MAX];
    char rule[320];

    if (d->verdict == RP_VERDICT_NONE) {
        mta_log("%s: client=%s server=%s:%u to=<%s>: %s (%s)", session,
                f->client_ip, f->local_ip, (unsigned)f->local_port,
                shown(to, sizeof(to), rcpt), r->line, r->why);
        return;
    }
    if (d->rule_file != NULL && d->rule_file[0] != '\0')
        snprintf(rule, sizeof(rule), "%s:%u", d->rule_file,
                 (unsigned)d->rule_line);
    else
        snprintf(rule, sizeof(rule), "-");
    mta_log(
        "%s: client=%s server=%s:%u helo=%s user=%s from=<%s> to=<%s>: "
        "%s %s (%s) listener=%s rule=%s%s%s",
        session, f->client_ip, f->local_ip, (unsigned)f->local_port,
        shown(helo, sizeof(helo), f->helo), shown(user, sizeof(user), f->user),
        shown(from, sizeof(from), f->sender), shown(to, sizeof(to), rcpt),
        rp_verdict_name(d->verdict), r->answer == MTA_PROCEED ? "250" : r->line,
        rp_reason_name(d->reason),
        d->listener != NULL && d->listener[0] != '\0' ? d->listener : "-", rule,
        f->cert_subject[0] != '\0' ? " cert=" : "",
        shown(cert, sizeof(cert), f->cert_subject));
}

/* ---- the policy --------------------------------------------------------- */

rp_policy *
mta_policy_load(const char *path)
{
    rp_policy *p = NULL;
    rp_error err;

    /* A compiled policy file (relaypolicy compile) is opened, not
     * compiled: the library reads the magic of the file it opens. */
    if (rp_policy_load_path(path, NULL, &p, &err) != RP_OK) {
        mta_log("%s:%s", err.file[0] != '\0' ? err.file : path, err.message);
        return NULL;
    }
    return p;
}

void
mta_policy_reload(rp_policy_slot *slot, const char *path)
{
    rp_policy *p = mta_policy_load(path);

    if (p == NULL) {
        mta_log("reload failed; still using the previous policy");
        return;
    }
    rp_slot_swap(slot, p);
    mta_log("policy reloaded from %s", path);
}

/* ---- start-up ----------------------------------------------------------- */

bool
mta_opt(mta_opts *o, int ch, const char *arg)
{
    switch (ch) {
    case 'p':
        o->policy_path = arg;
        return true;
    case 'q':
        o->quiet = true;
        return true;
    case 's':
        o->syslog = true;
        return true;
    case 'n':
        o->check_only = true;
        return true;
    default:
        return false;
    }
}

int
mta_start(const char *prog, const mta_opts *o, rp_policy_slot **slot)
{
    rp_policy *policy;

    mta_log_init(prog, o->syslog);
    if ((policy = mta_policy_load(o->policy_path)) == NULL)
        return 1;
    if (o->check_only) {
        printf("%s: OK\n", o->policy_path);
        rp_policy_free(policy);
        return 0;
    }
    if (rp_slot_new(policy, NULL, slot) != RP_OK) {
        mta_log("no memory for the policy slot");
        rp_policy_free(policy);
        return 1;
    }
    return -1;
}
