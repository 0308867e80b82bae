/*
 * replay.c - `relaypolicy replay OLD NEW`: every decision that would change
 * between two policies, over recorded session facts (the JSON lines of
 * `check --batch`, or a Postfix mail log; see replay_log.c for what a log
 * line gives).  Impact analysis before a policy is deployed.
 *
 * Both policies decide the same queries, BATCH_LINES at a time with
 * rp_decide_batch().  A change is a different verdict, reason, reply code
 * or reply line; each is printed with its input line number, then a
 * summary.  Exit 0: no change; 1: changes; 2: an error (a policy does not
 * compile, a fact that cannot be used or decided, no facts at all, I/O).
 */
#include "cli.h"
#include "replay_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One fact waiting to be decided. */
typedef struct item {
    fact f;        /* the query; for a JSON line, also its parsed text */
    pflog_fact pf; /* the strings of a log line's facts */
} item;

typedef struct tally {
    unsigned long facts, json, log, changed, refused, allowed, other;
    unsigned long errors, unknown_client;
} tally;

typedef struct replay {
    const rp_policy *old, *new;
    rp_workspace *ws_old, *ws_new;
    locals L;
    item items[BATCH_LINES];
    size_t n;
    tally t;
} replay;

static const char usage[] =
    "usage: relaypolicy replay [--listener NAME] OLD NEW < FACTS\n\n"
    "Decide recorded facts with two policies and print every decision that\n"
    "changes, then a summary.  FACTS: the JSON lines of `check --batch`,\n"
    "or Postfix log lines (NOQUEUE rejections and accepted mail), mixed\n"
    "freely; other lines are ignored.  Exit 0: no change; 1: changes;\n"
    "2: an error.\n\n"
    "  --listener NAME  default local address from this listener of OLD\n";

/* The local address of a log fact: the first listener of @p p that binds
 * the fact's port explicitly, else the default of its family. */
static void
log_local(const replay *r, item *it)
{
    const pflog_fact *pf = &it->pf;
    bool six = ip_family(pf->client) == 6;
    rp_listener_info info;

    it->f.q.local_ip = six ? r->L.ip6 : r->L.ip4;
    it->f.q.local_port = six ? r->L.port6 : r->L.port4;
    if (pf->port == 0)
        return;
    it->f.q.local_port = pf->port;
    for (size_t i = 0; i < rp_policy_listener_count(r->old); i++)
        if (rp_policy_listener(r->old, i, &info) == RP_OK &&
            info.bind_port == pf->port && info.bind_ip[0] != '\0') {
            snprintf(it->f.lip, sizeof(it->f.lip), "%s", info.bind_ip);
            it->f.q.local_ip = it->f.lip;
            return;
        }
}

static void
log_query(const replay *r, item *it, unsigned long line)
{
    rp_query *q = &it->f.q;

    memset(&it->f, 0, sizeof(it->f));
    it->f.line = line;
    q->client_ip = it->pf.client;
    q->client_ip_len = RP_NTS;
    log_local(r, it);
    q->local_ip_len = RP_NTS;
    q->user = it->pf.user[0] != '\0' ? it->pf.user : NULL;
    q->user_len = RP_NTS;
    q->sender = it->pf.from;
    q->sender_len = RP_NTS;
    q->recipient = it->pf.to;
    q->recipient_len = RP_NTS;
    q->helo = it->pf.helo[0] != '\0' ? it->pf.helo : NULL;
    q->helo_len = RP_NTS;
}

static bool
changed(const rp_decision *a, const rp_decision *b)
{
    return a->verdict != b->verdict || a->reason != b->reason ||
           a->code != b->code || strcmp(a->enhanced, b->enhanced) != 0 ||
           strcmp(a->reply, b->reply) != 0;
}

static bool
allows(const rp_decision *d)
{
    return d->verdict == RP_ACCEPT || d->verdict == RP_RELAY;
}

/* The text of an optional query string. */
static const char *
txt(const char *s)
{
    return s != NULL ? s : "";
}

static void
print_change(const item *it, const rp_decision *a, const rp_decision *b)
{
    const rp_query *q = &it->f.q;

    printf("line %lu: client %.*s port %u%s%.*s from <%s> to <%s>: "
           "%s %s \"%s\" -> %s %s \"%s\"\n",
           it->f.line, (int)strlen(txt(q->client_ip)), txt(q->client_ip),
           (unsigned)q->local_port, q->user != NULL ? " user " : "",
           q->user != NULL ? (int)strlen(q->user) : 0, txt(q->user),
           txt(q->sender), txt(q->recipient), rp_verdict_name(a->verdict),
           rp_reason_name(a->reason), a->reply, rp_verdict_name(b->verdict),
           rp_reason_name(b->reason), b->reply);
}

static void
count_change(tally *t, const rp_decision *a, const rp_decision *b)
{
    t->changed++;
    if (allows(a) && !allows(b))
        t->refused++;
    else if (!allows(a) && allows(b))
        t->allowed++;
    else
        t->other++;
}

/* Decide the waiting facts with both policies and report the changes. */
static void
flush(replay *r)
{
    rp_query q[BATCH_LINES];
    rp_decision a[BATCH_LINES], b[BATCH_LINES];
    rp_status sa[BATCH_LINES], sb[BATCH_LINES];

    if (r->n == 0)
        return;
    for (size_t i = 0; i < r->n; i++)
        q[i] = r->items[i].f.q;
    rp_decide_batch(r->old, q, r->n, r->ws_old, a, sa);
    rp_decide_batch(r->new, q, r->n, r->ws_new, b, sb);
    for (size_t i = 0; i < r->n; i++) {
        const item *it = &r->items[i];
        if (sa[i] != RP_OK || sb[i] != RP_OK) {
            fprintf(stderr, "relaypolicy replay: line %lu: %s\n", it->f.line,
                    sa[i] != RP_OK ? a[i].detail : b[i].detail);
            r->t.errors++;
        } else if (changed(&a[i], &b[i])) {
            print_change(it, &a[i], &b[i]);
            count_change(&r->t, &a[i], &b[i]);
        }
        r->t.facts += sa[i] == RP_OK && sb[i] == RP_OK;
    }
    for (size_t i = 0; i < r->n; i++)
        fact_release(&r->items[i].f);
    r->n = 0;
}

/* Take one input line: a JSON fact, a Postfix log line, or neither. */
static void
take_line(replay *r, pflog *lg, unsigned long no, const char *s, size_t n)
{
    item *it = &r->items[r->n];
    size_t i = 0;

    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i < n && s[i] == '{') {
        fact_from_json(&it->f, &r->L, no, s, n);
        if (it->f.error != NULL) {
            fprintf(stderr, "relaypolicy replay: line %lu: %s\n", no,
                    it->f.error);
            r->t.errors++;
            fact_release(&it->f);
            return;
        }
        r->t.json++;
    } else if (pflog_line(lg, s, n, &it->pf, &r->t.unknown_client) == 1) {
        log_query(r, it, no);
        r->t.log++;
    } else {
        return;
    }
    if (++r->n == BATCH_LINES)
        flush(r);
}

static void
summary(const tally *t)
{
    printf("replay: %lu facts (%lu JSON, %lu from the log): %lu changed "
           "(%lu newly refused, %lu newly accepted or relayed, %lu other)",
           t->facts, t->json, t->log, t->changed, t->refused, t->allowed,
           t->other);
    if (t->errors > 0)
        printf(", %lu errors", t->errors);
    if (t->unknown_client > 0)
        printf("; %lu logged deliveries without their connection in the "
               "log not replayed",
               t->unknown_client);
    printf("\n");
}

static int
run(replay *r)
{
    pflog *lg = pflog_new();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long no = 0;

    if (lg == NULL)
        return EXIT_POLICY;
    while ((n = getline(&line, &cap, stdin)) > 0)
        take_line(r, lg, ++no, line, (size_t)n);
    flush(r);
    free(line);
    pflog_free(lg);
    summary(&r->t);
    if (ferror(stdin) || fflush(stdout) != 0) {
        fprintf(stderr, "relaypolicy replay: I/O error\n");
        return EXIT_POLICY;
    }
    if (r->t.facts == 0 && r->t.errors == 0)
        fprintf(stderr, "relaypolicy replay: no facts in the input\n");
    if (r->t.errors > 0 || r->t.facts == 0)
        return EXIT_POLICY;
    return r->t.changed > 0 ? EXIT_FINDING : 0;
}

static rp_workspace *
batch_workspace(void)
{
    rp_options o;
    rp_workspace *ws = NULL;

    rp_options_init(&o);
    o.batch_capacity = BATCH_LINES;
    return rp_workspace_new(&o, &ws) == RP_OK ? ws : NULL;
}

/* Parse the command line into @p paths and @p listener; -1 to go on, or
 * an exit status. */
static int
parse_args(int argc, char **argv, const char *paths[2], const char **listener)
{
    static const opt_spec specs[] = {{"help", false}, {"listener", true}};
    opt_state st = {argc, argv, 0, NULL};
    int k, n = 0;

    while ((k = opt_next(&st, specs, 2, "replay")) != -2) {
        if (k == -3)
            return EXIT_USAGE;
        if (k == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (k == 1)
            *listener = st.value;
        else if (n == 2)
            return usage_error("replay", "two policies, OLD and NEW, please");
        else
            paths[n++] = st.value;
    }
    if (n < 2)
        return usage_error("replay", "missing policy %s",
                           n == 0 ? "OLD and NEW" : "NEW");
    return -1;
}

int
cmd_replay(int argc, char **argv)
{
    const char *paths[2] = {NULL, NULL}, *listener = NULL;
    replay *r;
    long li;
    int rc = parse_args(argc, argv, paths, &listener);

    if (rc >= 0)
        return rc;
    if ((r = calloc(1, sizeof(*r))) == NULL)
        return EXIT_POLICY;
    rc = EXIT_POLICY;
    r->old = load_policy(paths[0]);
    r->new = r->old != NULL ? load_policy(paths[1]) : NULL;
    r->ws_old = batch_workspace();
    r->ws_new = batch_workspace();
    if (r->old == NULL || r->new == NULL || r->ws_old == NULL ||
        r->ws_new == NULL)
        goto done;
    if ((li = find_listener(r->old, listener)) == -2) {
        rc = usage_error("replay", "the OLD policy has no listener '%s'",
                         listener);
        goto done;
    }
    locals_init(&r->L, r->old, li);
    rc = run(r);
done:
    rp_workspace_free(r->ws_old);
    rp_workspace_free(r->ws_new);
    rp_policy_free((rp_policy *)r->old);
    rp_policy_free((rp_policy *)r->new);
    free(r);
    return rc;
}
