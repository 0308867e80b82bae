/*
 * replay_log.c - the session facts a Postfix mail log gives, for `relaypolicy
 * replay`.
 *
 * Two kinds of line carry recipients:
 *
 *  - smtpd's rejections, one line per refused recipient:
 *      postfix/smtpd[9]: NOQUEUE: reject: RCPT from host[192.0.2.7]: 554
 *      5.7.1 <c@d>: Relay access denied; from=<a@b> to=<c@d> proto=ESMTP
 *      helo=<mx.example>
 *    (a queue id instead of NOQUEUE once the message has one);
 *  - accepted mail, over several lines joined by queue id: smtpd's
 *    "QID: client=host[ip]" (with sasl_username= when the client logged
 *    in, orig_client= after a content filter), qmgr's "QID: from=<a@b>",
 *    then one delivery line per recipient, "QID: to=<c@d>" (with
 *    orig_to=<...> when the address was rewritten after RCPT TO, which is
 *    then the recipient), and qmgr's "QID: removed".
 *
 * The local port is read from the smtpd service name (postfix/submission/
 * smtpd is 587, smtps and submissions 465, plain smtpd 25).  Not in the
 * log: the local address (the caller picks the listener's), the login of
 * a refused client, the groups, SMTPUTF8, and the HELO name of accepted
 * mail (it only feeds explanations).  Mail submitted locally (pickup) has
 * no smtpd line and is not a fact.
 */
#include "replay_log.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define QID_MAX 32
#define BUCKETS 4096

/* A recipient already reported for a queue id. */
typedef struct seen {
    struct seen *next;
    char to[];
} seen;

/* What the log said so far about one queued message. */
typedef struct entry {
    struct entry *next;
    char qid[QID_MAX];
    char client[64];
    char user[256];
    char from[PFLOG_ADDR];
    bool from_set;
    uint32_t port;
    seen *rcpts;
} entry;

struct pflog {
    entry *b[BUCKETS];
};

/* A span of the line. */
typedef struct span {
    const char *s;
    size_t n;
} span;

pflog *
pflog_new(void)
{
    return calloc(1, sizeof(pflog));
}

static void
entry_free(entry *e)
{
    while (e->rcpts != NULL) {
        seen *s = e->rcpts;
        e->rcpts = s->next;
        free(s);
    }
    free(e);
}

void
pflog_free(pflog *lg)
{
    if (lg == NULL)
        return;
    for (size_t i = 0; i < BUCKETS; i++)
        while (lg->b[i] != NULL) {
            entry *e = lg->b[i];
            lg->b[i] = e->next;
            entry_free(e);
        }
    free(lg);
}

static size_t
bucket(span qid)
{
    size_t h = 5381;

    for (size_t i = 0; i < qid.n; i++)
        h = h * 33 + (unsigned char)qid.s[i];
    return h % BUCKETS;
}

/* The entry of @p qid, made when @p make; NULL when absent (or no
 * memory). */
static entry *
find(pflog *lg, span qid, bool make, bool unlink)
{
    entry **pp = &lg->b[bucket(qid)], *e;

    if (qid.n == 0 || qid.n >= QID_MAX)
        return NULL;
    for (; (e = *pp) != NULL; pp = &e->next)
        if (strlen(e->qid) == qid.n && memcmp(e->qid, qid.s, qid.n) == 0) {
            if (unlink)
                *pp = e->next;
            return e;
        }
    if (!make || (e = calloc(1, sizeof(*e))) == NULL)
        return NULL;
    memcpy(e->qid, qid.s, qid.n);
    e->next = *pp;
    *pp = e;
    return e;
}

static void
copy(char *dst, size_t size, span v)
{
    size_t n = v.n < size - 1 ? v.n : size - 1;

    memcpy(dst, v.s, n);
    dst[n] = '\0';
}

static const char *
find_str(span in, const char *pat)
{
    size_t k = strlen(pat);

    for (size_t i = 0; i + k <= in.n; i++)
        if (memcmp(in.s + i, pat, k) == 0)
            return in.s + i;
    return NULL;
}

/* The value of "key=<...>" in @p in (without the brackets). */
static bool
bracketed(span in, const char *key, span *out)
{
    const char *p = find_str(in, key), *end = in.s + in.n, *q;

    if (p == NULL)
        return false;
    p += strlen(key);
    if (p >= end || *p != '<')
        return false;
    for (q = ++p; q < end && *q != '>'; q++)
        ;
    if (q >= end)
        return false;
    out->s = p;
    out->n = (size_t)(q - p);
    return true;
}

/* The IP of "host[ip]" (ignoring a ":port" after it) at the value of
 * @p key. */
static bool
client_ip(span in, const char *key, char *ip, size_t size)
{
    const char *p = find_str(in, key), *end = in.s + in.n, *q;

    if (p == NULL)
        return false;
    for (p += strlen(key); p < end && *p != '[' && *p != ' ' && *p != ','; p++)
        ;
    if (p >= end || *p != '[')
        return false;
    for (q = ++p; q < end && *q != ']'; q++)
        ;
    if (q >= end || q == p || (size_t)(q - p) >= size)
        return false;
    copy(ip, size, (span){p, (size_t)(q - p)});
    return true;
}

/* "sasl_username=alice" up to a comma or the end. */
static bool
plain_value(span in, const char *key, char *out, size_t size)
{
    const char *p = find_str(in, key), *end = in.s + in.n, *q;

    if (p == NULL)
        return false;
    p += strlen(key);
    for (q = p; q < end && *q != ',' && *q != ' '; q++)
        ;
    copy(out, size, (span){p, (size_t)(q - p)});
    return q > p;
}

/* Splits "... prog/daemon[pid]: message" into the program's service
 * port, its daemon and the message. */
static bool
split_line(span in, span *daemon, uint32_t *port, span *msg)
{
    const char *m = find_str(in, "]: "), *p, *slash, *start;

    if (m == NULL)
        return false;
    for (p = m; p > in.s && *p != '['; p--)
        ;
    for (start = p; start > in.s && start[-1] != ' '; start--)
        ;
    for (slash = p; slash > start && slash[-1] != '/'; slash--)
        ;
    if (slash == start)
        return false;
    daemon->s = slash;
    daemon->n = (size_t)(p - slash);
    *port = 25;
    {
        span prog = {start, (size_t)(slash - start)};
        if (find_str(prog, "/submission/") != NULL)
            *port = 587;
        else if (find_str(prog, "/smtps/") != NULL ||
                 find_str(prog, "/submissions/") != NULL)
            *port = 465;
    }
    msg->s = m + 3;
    msg->n = (size_t)(in.s + in.n - msg->s);
    return true;
}

int
pflog_is_postfix(const char *s, size_t n)
{
    span d, m;
    uint32_t port;

    return split_line((span){s, n}, &d, &port, &m) &&
           find_str((span){s, n}, "postfix") != NULL;
}

static bool
is(span d, const char *name)
{
    return d.n == strlen(name) && memcmp(d.s, name, d.n) == 0;
}

/* "NOQUEUE: reject: RCPT from host[ip]: ...; from=<> to=<> helo=<>". */
static int
reject_line(span msg, uint32_t port, pflog_fact *out)
{
    const char *tail = find_str(msg, "; from=<");
    span v, facts;

    memset(out, 0, sizeof(*out));
    if (tail == NULL)
        return 0;
    /* The reply text comes before "; from=": only look after it. */
    facts = (span){tail + 1, (size_t)(msg.s + msg.n - tail - 1)};
    if (!client_ip(msg, "reject: RCPT from ", out->client,
                   sizeof(out->client)) ||
        !bracketed(facts, " to=", &v))
        return 0;
    copy(out->to, sizeof(out->to), v);
    if (bracketed(facts, " from=", &v))
        copy(out->from, sizeof(out->from), v);
    if (bracketed(facts, " helo=", &v))
        copy(out->helo, sizeof(out->helo), v);
    out->port = port;
    return 1;
}

/* A delivery line: a fact the first time a recipient of a message whose
 * connection and sender are known is seen. */
static int
delivery_line(
    pflog *lg, span qid, span rest, pflog_fact *out, unsigned long *unknown)
{
    entry *e = find(lg, qid, false, false);
    span to;
    seen *s;

    if (!bracketed(rest, "orig_to=", &to) && !bracketed(rest, "to=", &to))
        return 0;
    if (e == NULL || !e->from_set) {
        if (unknown != NULL)
            (*unknown)++;
        return 0;
    }
    for (s = e->rcpts; s != NULL; s = s->next)
        if (strlen(s->to) == to.n && memcmp(s->to, to.s, to.n) == 0)
            return 0;
    if ((s = malloc(sizeof(*s) + to.n + 1)) != NULL) {
        copy(s->to, to.n + 1, to);
        s->next = e->rcpts;
        e->rcpts = s;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->client, e->client, sizeof(out->client));
    memcpy(out->user, e->user, sizeof(out->user));
    memcpy(out->from, e->from, sizeof(out->from));
    copy(out->to, sizeof(out->to), to);
    out->port = e->port;
    out->accepted = 1;
    return 1;
}

/* smtpd's "QID: client=host[ip], sasl_username=u" (orig_client= wins). */
static void
client_line(pflog *lg, span qid, span rest, uint32_t port)
{
    entry *e;
    char ip[64];

    if (client_ip(rest, "orig_client=", ip, sizeof(ip)))
        port = 0;
    else if (!client_ip(rest, "client=", ip, sizeof(ip)))
        return;
    if ((e = find(lg, qid, true, false)) == NULL)
        return;
    memcpy(e->client, ip, sizeof(ip));
    e->port = port;
    if (!plain_value(rest, "sasl_username=", e->user, sizeof(e->user)))
        e->user[0] = '\0';
}

int
pflog_line(
    pflog *lg, const char *s, size_t n, pflog_fact *out, unsigned long *unknown)
{
    span daemon, msg, qid, rest, from;
    uint32_t port;
    const char *colon;
    entry *e;

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    if (!split_line((span){s, n}, &daemon, &port, &msg) ||
        (colon = find_str(msg, ": ")) == NULL)
        return 0;
    qid = (span){msg.s, (size_t)(colon - msg.s)};
    rest = (span){colon + 2, (size_t)(msg.s + msg.n - colon - 2)};
    if (rest.n > 8 && memcmp(rest.s, "reject: ", 8) == 0 && is(daemon, "smtpd"))
        return reject_line(msg, port, out);
    if (is(qid, "NOQUEUE"))
        return 0;
    if (is(daemon, "smtpd")) {
        client_line(lg, qid, rest, port);
        return 0;
    }
    if (is(daemon, "qmgr") && rest.n >= 7 &&
        memcmp(rest.s, "removed", 7) == 0) {
        if ((e = find(lg, qid, false, true)) != NULL)
            entry_free(e);
        return 0;
    }
    if (is(daemon, "qmgr") && rest.n > 5 && memcmp(rest.s, "from=", 5) == 0) {
        if ((e = find(lg, qid, false, false)) != NULL &&
            bracketed(rest, "from=", &from)) {
            copy(e->from, sizeof(e->from), from);
            e->from_set = true;
        }
        return 0;
    }
    if (rest.n > 3 && memcmp(rest.s, "to=", 3) == 0)
        return delivery_line(lg, qid, rest, out, unknown);
    return 0;
}
