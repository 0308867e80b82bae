/*
 * check.c - `relaypolicy check`: decide one set of session facts and print
 * the reply a server would send, optionally with the full explanation.
 * `--batch` hands over to batch.c.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#define MAX_GROUPS 64

static const char check_usage[] =
    "usage: relaypolicy check --policy FILE --client IP [--local IP:PORT]\n"
    "                         [--listener NAME] [--user NAME [--group G]...]\n"
    "                         [--from ADDR] [--helo NAME] --to ADDR "
    "[--smtputf8]\n"
    "                         [--peer IP] [--cert FINGERPRINT] [--explain]\n"
    "       relaypolicy check --policy FILE --batch [--listener NAME]\n"
    "\n"
    "Decide one recipient as a mail server would at RCPT TO and print the\n"
    "SMTP reply.  Exit status 0 when the recipient is accepted or relayed,\n"
    "1 when it is refused, 2 when the policy does not compile, 64 on a\n"
    "usage error.\n"
    "\n"
    "  --policy FILE     the policy to ask (may also be given as FILE)\n"
    "  --client IP       the connecting client's address\n"
    "  --local IP:PORT   the address and port it reached (default: the\n"
    "                    first listener's bind, or 192.0.2.1 / 2001:db8::1\n"
    "                    and port 25 for a wildcard bind)\n"
    "  --listener NAME   take the default local address from this listener\n"
    "  --user NAME       the client authenticated as NAME\n"
    "  --group G         a group of the user (repeatable)\n"
    "  --from ADDR       MAIL FROM (default: the null sender <>)\n"
    "  --helo NAME       HELO/EHLO name (for the explanation only)\n"
    "  --to ADDR         RCPT TO\n"
    "  --smtputf8        the client gave SMTPUTF8 on MAIL FROM: UTF-8 local\n"
    "                    parts and U-label domains are valid (RFC 6531)\n"
    "  --peer IP         the host that connected, when --client is the\n"
    "                    address it claimed (XCLIENT, PROXY); believed only\n"
    "                    from a trusted-proxy.  --client may then be left out\n"
    "  --cert FP         the client certificate's public-key SHA-256\n"
    "                    fingerprint (64 hex digits, colons allowed)\n"
    "  --explain         print the listener, every step of the decision, the\n"
    "                    rule (file:line) that decided and the destination\n"
    "  --batch           read JSON lines on stdin, write JSON lines on "
    "stdout:\n"
    "                    in  {\"client\",\"local\",\"user\",\"groups\","
    "\"from\",\"to\",\"helo\",\"smtputf8\",\"peer\",\n"
    "                         \"cert\",\"id\"}\n"
    "                    out {\"verdict\",\"code\",\"enhanced\",\"text\","
    "\"reason\",\"rule\",\n"
    "                         \"listener\",\"destination\",\"rewritten\"} or "
    "{\"error\"}\n";

typedef struct check_args {
    const char *policy, *client, *local, *listener, *user, *from, *to, *helo;
    const char *peer, *cert;
    const char *groups[MAX_GROUPS];
    size_t n_groups;
    bool explain, batch, smtputf8;
} check_args;

enum {
    O_POLICY,
    O_CLIENT,
    O_LOCAL,
    O_LISTENER,
    O_USER,
    O_GROUP,
    O_FROM,
    O_TO,
    O_HELO,
    O_EXPLAIN,
    O_BATCH,
    O_SMTPUTF8,
    O_PEER,
    O_CERT,
    O_HELP
};

static const opt_spec check_specs[] = {
    {"policy", true}, {"client", true},   {"local", true},  {"listener", true},
    {"user", true},   {"group", true},    {"from", true},   {"to", true},
    {"helo", true},   {"explain", false}, {"batch", false}, {"smtputf8", false},
    {"peer", true},   {"cert", true},     {"help", false},
};

/* Store option @p k; returns 0, or an exit code. */
static int
store(check_args *a, int k, const char *v)
{
    const char **slots[] = {&a->policy, &a->client, &a->local, &a->listener,
                            &a->user,   NULL,       &a->from,  &a->to,
                            &a->helo,   NULL,       NULL,      NULL,
                            &a->peer,   &a->cert};

    if (k == O_GROUP) {
        if (a->n_groups >= MAX_GROUPS)
            return usage_error("check", "at most %d --group options",
                               MAX_GROUPS);
        a->groups[a->n_groups++] = v;
    } else if (k == O_EXPLAIN) {
        a->explain = true;
    } else if (k == O_BATCH) {
        a->batch = true;
    } else if (k == O_SMTPUTF8) {
        a->smtputf8 = true;
    } else {
        *slots[k] = v;
    }
    return 0;
}

/* Parse the command line; returns -1 to go on, or an exit code. */
static int
parse_args(int argc, char **argv, check_args *a)
{
    opt_state st = {argc, argv, 0, NULL};
    int k, rc;

    memset(a, 0, sizeof(*a));
    while ((k = opt_next(&st, check_specs, O_HELP + 1, "check")) != -2) {
        if (k == -3)
            return EXIT_USAGE;
        if (k == O_HELP) {
            fputs(check_usage, stdout);
            return 0;
        }
        if (k == -1 && a->policy != NULL)
            return usage_error("check", "unexpected argument '%s'", st.value);
        if ((rc = store(a, k < 0 ? O_POLICY : k, st.value)) != 0)
            return rc;
    }
    if (a->policy == NULL)
        return usage_error("check", "missing --policy FILE");
    if (a->batch &&
        (a->client || a->to || a->local || a->user || a->from || a->explain ||
         a->smtputf8 || a->n_groups || a->peer || a->cert))
        return usage_error("check", "--batch takes the facts from stdin; "
                                    "only --policy and --listener go with it");
    if (!a->batch && ((a->client == NULL && a->peer == NULL) || a->to == NULL))
        return usage_error("check", "--client IP (or --peer IP) and --to "
                                    "ADDR are needed");
    if (a->n_groups > 0 && a->user == NULL)
        return usage_error("check", "--group needs --user");
    return -1;
}

static void
print_explained(const rp_decision *d)
{
    printf("reply:       %s\n", d->reply);
    printf("verdict:     %s (%s)\n", rp_verdict_name(d->verdict),
           rp_reason_name(d->reason));
    printf("listener:    %s\n", d->listener[0] ? d->listener : "(none)");
    if (d->rule_line > 0)
        printf("rule:        %s:%u\n", d->rule_file, (unsigned)d->rule_line);
    else
        printf("rule:        (none: the default of the step)\n");
    printf("destination: %s\n", d->destination[0] ? d->destination : "-");
    if (d->rewritten[0] != '\0')
        printf("rewritten:   %s\n", d->rewritten);
    printf("explanation:\n");
    for (const char *s = d->explanation; *s != '\0';) {
        const char *nl = strchr(s, '\n');
        size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);
        printf("  %.*s\n", (int)n, s);
        s += n + (nl != NULL);
    }
    if (d->flags & RP_DECISION_TRUNCATED)
        printf("  (explanation truncated)\n");
}

static int
check_one(const rp_policy *p, const check_args *a, long listener)
{
    char lip[64];
    uint32_t lport = 0;
    rp_query q;
    rp_decision d;
    rp_status st;

    if (a->local != NULL) {
        if (!split_hostport(a->local, lip, sizeof(lip), &lport))
            return usage_error("check", "--local '%s' is not IP:PORT",
                               a->local);
        if (lport == 0)
            lport = 25;
    } else {
        default_local(p, listener,
                      ip_family(a->client != NULL ? a->client : a->peer), lip,
                      sizeof(lip), &lport);
    }
    memset(&q, 0, sizeof(q));
    q.client_ip = a->client;
    q.client_ip_len = RP_NTS;
    q.local_ip = lip;
    q.local_ip_len = RP_NTS;
    q.local_port = lport;
    q.flags = (a->explain ? RP_QUERY_EXPLAIN : 0) |
              (a->smtputf8 ? RP_QUERY_SMTPUTF8 : 0);
    q.user = a->user;
    q.user_len = RP_NTS;
    q.groups = a->groups;
    q.n_groups = a->n_groups;
    q.sender = a->from;
    q.sender_len = RP_NTS;
    q.recipient = a->to;
    q.recipient_len = RP_NTS;
    q.helo = a->helo;
    q.helo_len = RP_NTS;
    q.peer_ip = a->peer;
    q.peer_ip_len = RP_NTS;
    q.cert_fingerprint = a->cert;
    q.cert_fingerprint_len = RP_NTS;
    st = cli_decide(p, &q, &d);
    if (st != RP_OK)
        return usage_error("check", "%s (local %s port %u)", d.detail, lip,
                           (unsigned)lport);
    if (a->explain)
        print_explained(&d);
    else
        printf("%s\n", d.reply);
    return d.verdict == RP_ACCEPT || d.verdict == RP_RELAY ? 0 : EXIT_FINDING;
}

int
cmd_check(int argc, char **argv)
{
    check_args a;
    rp_policy *p;
    long listener;
    int rc = parse_args(argc, argv, &a);

    if (rc >= 0)
        return rc;
    if ((p = load_policy(a.policy)) == NULL)
        return EXIT_POLICY;
    listener = find_listener(p, a.listener);
    if (listener == -2) {
        rp_policy_free(p);
        return usage_error("check", "the policy has no listener '%s'",
                           a.listener);
    }
    if (a.batch)
        rc = cmd_batch(p, listener);
    else
        rc = check_one(p, &a, listener);
    rp_policy_free(p);
    return rc;
}
