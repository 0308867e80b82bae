/*
 * proto.c - OpenSMTPD's filter protocol: reports build each session's
 * facts, rcpt-to filter requests are answered from the policy.
 *
 *   report|0.6|TIME|smtp-in|link-connect|SESSION|rdns|fcrdns|SRC|DEST
 *   report|0.6|TIME|smtp-in|link-auth|SESSION|USER|pass    (0.7: pass|USER)
 *   report|0.6|TIME|smtp-in|tx-mail|SESSION|MSGID|ok|ADDR  (0.5: ADDR|ok)
 *   report|0.6|TIME|smtp-in|protocol-client|SESSION|MAIL FROM:<a> SMTPUTF8
 *   filter|0.6|TIME|smtp-in|rcpt-to|SESSION|TOKEN|ADDRESS
 *   -> filter-result|SESSION|TOKEN|proceed
 *   -> filter-result|SESSION|TOKEN|reject|550 5.7.1 <r>: Relaying prohibited
 */
#include "proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct osf_session {
    uint64_t id;
    mta_facts facts;
    bool mail_smtputf8; /* the last MAIL FROM command gave SMTPUTF8 */
    struct osf_session *next;
};

#define N_BUCKETS 4096

bool
osf_init(osf_state *st, rp_policy_slot *slot, size_t max_sessions)
{
    memset(st, 0, sizeof(*st));
    st->slot = slot;
    st->max_sessions = max_sessions;
    st->n_buckets = N_BUCKETS;
    st->buckets = calloc(N_BUCKETS, sizeof(*st->buckets));
    return st->buckets != NULL;
}

void
osf_free(osf_state *st)
{
    for (size_t i = 0; i < st->n_buckets; i++) {
        while (st->buckets[i] != NULL) {
            osf_session *s = st->buckets[i];

            st->buckets[i] = s->next;
            free(s);
        }
    }
    free(st->buckets);
    st->buckets = NULL;
}

/* ---- sessions ----------------------------------------------------------- */

static osf_session **
slot_of(osf_state *st, uint64_t id)
{
    osf_session **p = &st->buckets[(id ^ (id >> 29)) % st->n_buckets];

    while (*p != NULL && (*p)->id != id)
        p = &(*p)->next;
    return p;
}

static osf_session *
session_find(osf_state *st, uint64_t id)
{
    return *slot_of(st, id);
}

static osf_session *
session_new(osf_state *st, uint64_t id)
{
    osf_session **p = slot_of(st, id);
    osf_session *s = *p;

    if (s != NULL) {
        mta_facts_init(&s->facts);
        return s;
    }
    if (st->n_sessions >= st->max_sessions) {
        mta_log("%016llx: more than %zu sessions: this one will be "
                "tempfailed",
                (unsigned long long)id, st->max_sessions);
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        mta_log("out of memory: session %016llx will be tempfailed",
                (unsigned long long)id);
        return NULL;
    }
    s->id = id;
    *p = s;
    st->n_sessions++;
    return s;
}

static void
session_end(osf_state *st, uint64_t id)
{
    osf_session **p = slot_of(st, id);
    osf_session *s = *p;

    if (s != NULL) {
        *p = s->next;
        free(s);
        st->n_sessions--;
    }
}

/* ---- parsing ------------------------------------------------------------ */

/* Split @p s at '|' into at most @p max fields; the last keeps the rest. */
static int
split(char *s, char **f, int max)
{
    int n = 0;

    f[n++] = s;
    while (n < max && (s = strchr(s, '|')) != NULL) {
        *s++ = '\0';
        f[n++] = s;
    }
    return n;
}

static bool
parse_id(const char *s, uint64_t *out)
{
    char *end;

    if (s[0] == '\0' || strlen(s) > 16)
        return false;
    *out = strtoull(s, &end, 16);
    return *end == '\0';
}

/* "0.6" -> 6; anything but 0.x -> -1. */
static int
minor_version(const char *v)
{
    char *end;
    long minor;

    if (strncmp(v, "0.", 2) != 0)
        return -1;
    minor = strtol(v + 2, &end, 10);
    return *end == '\0' && minor >= 0 && minor < 1000 ? (int)minor : -1;
}

/* "192.0.2.1:25", "[2001:db8::1]:25": address and port. */
static bool
parse_endpoint(const char *s, char *ip, size_t ip_len, uint32_t *port)
{
    const char *colon = strrchr(s, ':');
    char host[MTA_IP_MAX + 8];
    size_t n;

    if (colon == NULL || (n = (size_t)(colon - s)) >= sizeof(host))
        return false;
    memcpy(host, s, n);
    host[n] = '\0';
    return mta_ip_parse(host, ip, ip_len) && mta_port_parse(colon + 1, port);
}

void
osf_rcpt_path(const char *arg, char *out, size_t size)
{
    size_t n = 0;
    bool angle = arg[0] == '<', quoted = false;

    for (const char *p = arg; *p != '\0' && n + 1 < size; p++) {
        if (quoted && *p == '\\' && p[1] != '\0') {
            out[n++] = *p++;
            if (n + 1 < size)
                out[n++] = *p;
            continue;
        }
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted && !angle && *p == ' ')
            break;
        out[n++] = *p;
        if (!quoted && angle && *p == '>')
            break;
    }
    out[n] = '\0';
}

/* ---- reports ------------------------------------------------------------ */

static void
on_connect(osf_state *st, uint64_t id, char *params)
{
    char *f[4];
    osf_session *s = session_new(st, id);

    if (s == NULL)
        return;
    if (split(params, f, 4) != 4) {
        s->facts.missing = "malformed link-connect report";
        return;
    }
    if (strncmp(f[2], "unix:", 5) == 0) {
        s->facts.missing = "a local (unix socket) session";
        return;
    }
    if (!parse_endpoint(f[2], s->facts.client_ip, sizeof(s->facts.client_ip),
                        &s->facts.client_port))
        s->facts.missing = "no client address in link-connect";
    else if (!parse_endpoint(f[3], s->facts.local_ip, sizeof(s->facts.local_ip),
                             &s->facts.local_port))
        s->facts.missing = "no local address in link-connect";
}

static void
on_auth(osf_session *s, char *params, int minor)
{
    char *user, *result, *bar;

    if (minor >= 7) { /* result|username */
        result = params;
        if ((bar = strchr(params, '|')) == NULL)
            return;
        *bar = '\0';
        user = bar + 1;
    } else { /* username|result; the name may hold '|' */
        user = params;
        if ((bar = strrchr(params, '|')) == NULL)
            return;
        *bar = '\0';
        result = bar + 1;
    }
    if (strcmp(result, "pass") != 0)
        return;
    s->facts.user_too_long = strlen(user) >= sizeof(s->facts.user);
    mta_copy(s->facts.user, sizeof(s->facts.user), user, RP_NTS);
}

static void
on_tx_mail(osf_session *s, char *params, int minor)
{
    char *f[2], *bar;
    const char *result, *address;

    mta_facts_reset_tx(&s->facts);
    if (split(params, f, 2) != 2)
        return;
    if (minor >= 6) { /* msgid|result|address */
        if ((bar = strchr(f[1], '|')) == NULL)
            return;
        *bar = '\0';
        result = f[1];
        address = bar + 1;
    } else { /* msgid|address|result */
        if ((bar = strrchr(f[1], '|')) == NULL)
            return;
        *bar = '\0';
        address = f[1];
        result = bar + 1;
    }
    if (strcmp(result, "ok") != 0)
        return;
    mta_copy(s->facts.sender, sizeof(s->facts.sender), address, RP_NTS);
    s->facts.have_sender = true;
    s->facts.smtputf8 = s->mail_smtputf8;
}

/*
 * tx-mail gives the address without MAIL FROM's parameters, so SMTPUTF8 is
 * read from the command itself (protocol-client, reported before tx-mail):
 * "MAIL FROM:<path> PARAM ...", the path possibly quoted with spaces.
 */
static void
on_client_command(osf_session *s, const char *cmd)
{
    const char *p = cmd + 10;
    bool quoted = false;

    if (strncasecmp(cmd, "MAIL FROM:", 10) != 0)
        return;
    s->mail_smtputf8 = false;
    while (*p == ' ')
        p++;
    for (bool angle = *p == '<'; *p != '\0'; p++) {
        if (quoted && *p == '\\' && p[1] != '\0')
            p++;
        else if (*p == '"')
            quoted = !quoted;
        else if (!quoted && angle && *p == '>') {
            p++;
            break;
        } else if (!quoted && !angle && *p == ' ')
            break;
    }
    while (*p != '\0') {
        char param[16];
        size_t n = strcspn(p, " ");

        if (n > 0 && n < sizeof(param)) {
            memcpy(param, p, n);
            param[n] = '\0';
            if (mta_param_smtputf8(param))
                s->mail_smtputf8 = true;
        }
        p += n;
        p += strspn(p, " ");
    }
}

static void
on_identify(osf_session *s, char *params, int minor)
{
    char *name = params, *bar;

    if (minor >= 6 && (bar = strchr(params, '|')) != NULL)
        name = bar + 1;
    mta_copy(s->facts.helo, sizeof(s->facts.helo), name, RP_NTS);
}

static bool
on_report(osf_state *st, char **f, int minor)
{
    const char *event = f[4];
    uint64_t id;
    osf_session *s;

    if (!parse_id(f[5], &id)) {
        mta_log("report with a bad session id: %s", f[5]);
        return true;
    }
    if (strcmp(event, "link-connect") == 0) {
        on_connect(st, id, f[6]);
        return true;
    }
    if (strcmp(event, "link-disconnect") == 0) {
        session_end(st, id);
        return true;
    }
    if ((s = session_find(st, id)) == NULL)
        return true;
    if (strcmp(event, "link-auth") == 0)
        on_auth(s, f[6], minor);
    else if (strcmp(event, "tx-mail") == 0)
        on_tx_mail(s, f[6], minor);
    else if (strcmp(event, "tx-reset") == 0)
        mta_facts_reset_tx(&s->facts);
    else if (strcmp(event, "protocol-client") == 0)
        on_client_command(s, f[6]);
    else if (strcmp(event, "link-identify") == 0)
        on_identify(s, f[6], minor);
    else if (strcmp(event, "link-tls") == 0)
        s->facts.tls = true;
    return true;
}

/* ---- filter requests ---------------------------------------------------- */

static bool
emit(osf_state *st, const char *session, const char *token, const char *what)
{
    char line[MTA_REPLY_MAX + 128];
    int n = snprintf(line, sizeof(line), "filter-result|%s|%s|%s\n", session,
                     token, what);

    if (n < 0 || (size_t)n >= sizeof(line))
        return false;
    return st->write(st->write_ctx, line, (size_t)n);
}

static bool
on_rcpt(osf_state *st, char **f, bool cut)
{
    char rcpt[MTA_PATH_MAX];
    char reject[MTA_REPLY_MAX + 48];
    static const mta_facts none = {.missing = "no link-connect report seen"};
    uint64_t id;
    osf_session *s = NULL;
    rp_policy *policy;
    rp_decision d;
    mta_reply r;
    const mta_facts *facts = &none;

    if (parse_id(f[5], &id) && (s = session_find(st, id)) != NULL)
        facts = &s->facts;
    osf_rcpt_path(f[7], rcpt, sizeof(rcpt));
    policy = rp_slot_acquire(st->slot);
    mta_decide(policy, cut ? &(mta_facts){.missing = "over-long line"} : facts,
               rcpt, &d, &r);
    rp_policy_free(policy);
    if (!st->quiet || r.answer != MTA_PROCEED)
        mta_log_decision(f[5], facts, rcpt, &d, &r);
    if (r.answer == MTA_PROCEED)
        return emit(st, f[5], f[6], "proceed");
    snprintf(reject, sizeof(reject), "reject|%s", r.line);
    return emit(st, f[5], f[6], reject);
}

static bool
on_filter(osf_state *st, char **f, int n, bool cut)
{
    if (n < 7)
        return false;
    if (strcmp(f[4], "rcpt-to") == 0 && n == 8)
        return on_rcpt(st, f, cut);
    /* A phase we did not register: let it through, the policy has no say. */
    mta_log("unexpected filter request %s: proceeding", f[4]);
    return emit(st, f[5], f[6], "proceed");
}

/* ---- lines -------------------------------------------------------------- */

static bool
register_hooks(osf_state *st)
{
    static const char *const lines[] = {
        "register|report|smtp-in|link-connect\n",
        "register|report|smtp-in|link-disconnect\n",
        "register|report|smtp-in|link-identify\n",
        "register|report|smtp-in|link-auth\n",
        "register|report|smtp-in|link-tls\n",
        "register|report|smtp-in|tx-mail\n",
        "register|report|smtp-in|tx-reset\n",
        "register|report|smtp-in|protocol-client\n",
        "register|filter|smtp-in|rcpt-to\n",
        "register|ready\n",
    };

    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        if (!st->write(st->write_ctx, lines[i], strlen(lines[i])))
            return false;
    st->ready = true;
    return true;
}

bool
osf_line(osf_state *st, char *line, size_t len, bool cut)
{
    char *f[8];
    int n, minor;

    if (strncmp(line, "config|", 7) == 0)
        return strcmp(line, "config|ready") != 0 || register_hooks(st);
    /* type|version|time|subsystem|event|rest */
    n = split(line, f, 6);
    if (n < 6 || strcmp(f[3], "smtp-in") != 0) {
        mta_log("unexpected line from smtpd (%s)", f[0]);
        return strcmp(f[0], "filter") != 0;
    }
    if ((minor = minor_version(f[1])) < 5) {
        mta_log("filter protocol %s is not supported (0.5 or later)", f[1]);
        return false;
    }
    if (strcmp(f[0], "report") == 0) {
        /* session|parameters */
        if (split(f[5], f + 5, 2) != 2)
            f[6] = line + len; /* no parameters: "" */
        return on_report(st, f, minor);
    }
    if (strcmp(f[0], "filter") == 0) {
        /* session|token|parameters */
        n = 5 + split(f[5], f + 5, 3);
        return on_filter(st, f, n, cut);
    }
    mta_log("unexpected line from smtpd (%s)", f[0]);
    return true;
}
