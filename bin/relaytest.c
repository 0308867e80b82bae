/*
 * relaytest.c - `relaypolicy relaytest`: the open-relay tricks of
 * relaypolicy(7) §6 (the patterns of nmap smtp-open-relay, Metasploit
 * smtp_relay, Microsoft KB Q304897 and the MAPS relay test), played against
 * every listener from an outside client the policy does not trust, printed
 * as a telnet-style transcript with one verdict line per listener.
 */
#include "cli.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char relaytest_usage[] =
    "usage: relaypolicy relaytest FILE [--listener NAME]\n"
    "\n"
    "Run the classic open-relay tricks (nmap smtp-open-relay, Metasploit\n"
    "smtp_relay, Microsoft KB Q304897, the MAPS relay test) against every\n"
    "listener of the policy, or only NAME, from an unauthenticated client\n"
    "at an outside address the policy does not trust.  Prints each RCPT TO\n"
    "and the reply, then one verdict line per listener.\n"
    "\n"
    "Exit status 0 when no listener relays, 1 when one does, 2 when the\n"
    "policy does not compile, 64 on a usage error.\n";

/* What the tests are made of. */
typedef struct env {
    const rp_policy *p;
    char decl[256];   /* a local domain the policy declares, or "" */
    char local[256];  /* that domain, or the server's literal */
    char relay[256];  /* a relay domain, or "" */
    char ext[64];     /* an external domain */
    char ext_up[72];  /* the same in capitals with a trailing dot */
    char ext_cap[72]; /* the same in capitals */
    char loc_up[256]; /* the local domain in capitals */
    char self[80];    /* the listener's address literal, "[...]" */
    char client[64];
    char lip[64];
    uint32_t port;
} env;

/* One trick: a MAIL FROM and a RCPT TO template.  In templates, %L is the
 * local domain, %M the same in capitals, %R the external domain, %U the
 * same in capitals with a trailing dot, %V in capitals without it, %D a
 * relay domain, %S the
 * listener's address literal and %O an outside address literal. */
typedef struct trick {
    const char *name;
    const char *from;
    const char *rcpt;
    bool needs_relay_domain;
} trick;

static const trick tricks[] = {
    {"external recipient", "relaytest@%R", "user@%R", false},
    {"percent hack", "relaytest@%R", "user%%%R@%L", false},
    {"bang path", "relaytest@%R", "%R!user@%L", false},
    {"double at", "relaytest@%R", "user@%R@%L", false},
    {"quoted at", "relaytest@%R", "\"user@%R\"@%L", false},
    {"quoted percent hack", "relaytest@%R", "\"user%%%R\"@%L", false},
    {"source route", "relaytest@%R", "@%L:user@%R", false},
    {"source route list", "relaytest@%R", "@%L,@mx.%R:user@%R", false},
    {"outside address literal", "relaytest@%R", "user@%O", false},
    {"percent hack at own literal", "relaytest@%R", "user%%%R@%S", false},
    {"unqualified quoted percent", "relaytest@%R", "\"user%%%R\"", false},
    {"unqualified quoted at", "relaytest@%R", "\"user@%R\"", false},
    {"unqualified bang path", "relaytest@%R", "%R!user", false},
    {"empty final domain", "relaytest@%R", "user@%R@", false},
    {"mixed case, trailing dot", "relaytest@%R", "user@%U", false},
    {"mixed case percent hack", "relaytest@%R", "USER%%%V@%M", false},
    {"postmaster percent hack", "relaytest@%R", "postmaster%%%R@%L", false},
    {"spoofed local sender", "admin@%L", "user@%R", false},
    {"sender at own literal", "postmaster@%S", "user@%R", false},
    {"null sender", "", "user@%R", false},
    {"local sender and percent hack", "admin@%L", "user%%%R@%L", false},
    {"percent hack via relay domain", "relaytest@%R", "user%%%R@%D", true},
    {"bang path via relay domain", "relaytest@%R", "%R!user@%D", true},
};
#define N_TRICKS (sizeof(tricks) / sizeof(tricks[0]))

/* Expand a template into @p out. */
static void
expand(const env *e, const char *t, char *out, size_t size)
{
    size_t n = 0;

    for (; *t != '\0' && n + 1 < size; t++) {
        const char *sub = NULL;
        if (*t == '%' && t[1] != '\0') {
            switch (*++t) {
            case 'L':
                sub = e->local;
                break;
            case 'M':
                sub = e->loc_up;
                break;
            case 'R':
                sub = e->ext;
                break;
            case 'U':
                sub = e->ext_up;
                break;
            case 'V':
                sub = e->ext_cap;
                break;
            case 'D':
                sub = e->relay;
                break;
            case 'S':
                sub = e->self;
                break;
            case 'O':
                sub = "[198.51.100.254]";
                break;
            default:
                out[n++] = *t;
                continue;
            }
            n += (size_t)snprintf(out + n, size - n, "%s", sub);
            if (n >= size)
                n = size - 1;
        } else {
            out[n++] = *t;
        }
    }
    out[n] = '\0';
}

/* ---- what the policy declares ------------------------------------------- */

typedef struct text {
    char *buf;
    size_t n;
} text;

static int
collect(void *ctx, const char *data, size_t len)
{
    text *t = ctx;
    char *nb = realloc(t->buf, t->n + len + 1);

    if (nb == NULL)
        return 1;
    memcpy(nb + t->n, data, len);
    t->n += len;
    nb[t->n] = '\0';
    t->buf = nb;
    return 0;
}

/* Does a dumped domain pattern cover @p name (exact or suffix form)? */
static bool
covers(const char *pat, const char *name)
{
    size_t pn = strlen(pat), nn = strlen(name);

    if (pat[0] != '.')
        return strcasecmp(pat, name) == 0;
    return strcasecmp(pat + 1, name) == 0 ||
           (nn > pn && strcasecmp(name + nn - pn, pat) == 0);
}

/* Read the "domain PATTERN KIND" lines of the dump: pick a local and a
 * relay domain, and an external domain that no pattern covers. */
static void
pick_domains(env *e, const char *dump)
{
    static const char *const exts[] = {"relaytest.invalid", "remote.example",
                                       "relaytest.example.net"};
    char pat[256], kind[16];
    bool exact[2] = {false, false}; /* [0] relay, [1] local */
    size_t pick = 0;

    for (const char *s = dump; s != NULL && *s != '\0';) {
        const char *nl = strchr(s, '\n');
        if (sscanf(s, "domain %255s %15s", pat, kind) == 2 && pat[0] != '/') {
            const char *name = pat[0] == '.' ? pat + 1 : pat;
            char *dst = strcmp(kind, "local") == 0   ? e->decl
                        : strcmp(kind, "relay") == 0 ? e->relay
                                                     : NULL;
            /* The first exact name wins; a suffix only when none. */
            if (dst != NULL &&
                (dst[0] == '\0' || (pat[0] != '.' && !exact[dst == e->decl])))
                snprintf(dst, 256, "%s", name);
            if (dst != NULL && pat[0] != '.')
                exact[dst == e->decl] = true;
            while (pick + 1 < sizeof(exts) / sizeof(exts[0]) &&
                   covers(pat, exts[pick]))
                pick++;
        }
        s = nl != NULL ? nl + 1 : NULL;
    }
    snprintf(e->ext, sizeof(e->ext), "%s", exts[pick]);
}

static void
upper(char *out, size_t size, const char *in, const char *suffix)
{
    size_t i;

    for (i = 0; in[i] != '\0' && i + 1 < size; i++)
        out[i] = (char)toupper((unsigned char)in[i]);
    out[i] = '\0';
    snprintf(out + i, size - i, "%s", suffix);
}

/* ---- choosing an outside client ----------------------------------------- */

static const char *const clients4[] = {
    "203.0.113.7",  "203.0.113.77",  "203.0.113.250",
    "198.51.100.7", "198.51.100.77", "198.51.100.250",
    "192.0.2.7",    "192.0.2.77",    "192.0.2.250",
};
static const char *const clients6[] = {
    "2001:db8:ffff::7",
    "2001:db8:beef::77",
    "2001:db8::7",
    "2001:db8:cafe::250",
};

/* Probe: which listener does @p client reach, and how?  Returns 3 for
 * listener @p index without relay permission, 2 for it with relay
 * permission (the policy trusts the client), 1 when the deny list blocks
 * the client there, 0 when another listener (or none) answers. */
static int
probe(env *e, size_t index, const char *client)
{
    char rcpt[160];
    rp_query q;
    rp_decision d;

    snprintf(rcpt, sizeof(rcpt), "<probe@%s>", e->ext);
    memset(&q, 0, sizeof(q));
    q.client_ip = client;
    q.client_ip_len = RP_NTS;
    q.local_ip = e->lip;
    q.local_ip_len = RP_NTS;
    q.local_port = e->port;
    q.recipient = rcpt;
    q.recipient_len = RP_NTS;
    if (cli_decide(e->p, &q, &d) != RP_OK || d.listener_index < 0 ||
        (size_t)d.listener_index != index)
        return 0;
    if (d.reason == RP_REASON_CLIENT_BLOCKED)
        return 1;
    return (d.permissions & RP_PERM_RELAY) != 0 ? 2 : 3;
}

/* Set the local address for @p family; then find a client. */
static bool
choose_client(env *e, size_t index, const rp_listener_info *info, int family)
{
    const char *const *c = family == 6 ? clients6 : clients4;
    size_t n = family == 6 ? sizeof(clients6) / sizeof(*clients6)
                           : sizeof(clients4) / sizeof(*clients4);
    const char *best = NULL;
    int best_score = 0;

    if (info->bind_ip[0] != '\0' && ip_family(info->bind_ip) == family)
        snprintf(e->lip, sizeof(e->lip), "%s", info->bind_ip);
    else
        snprintf(e->lip, sizeof(e->lip), "%s",
                 family == 6 ? "2001:db8::1" : "192.0.2.1");
    e->port = info->bind_port != 0 ? info->bind_port : 25;
    snprintf(e->self, sizeof(e->self), family == 6 ? "[IPv6:%s]" : "[%s]",
             e->lip);
    /* Prefer a client the policy does not trust; when every outside
     * address holds relay, any of them shows the open relay. */
    for (size_t i = 0; i < n && best_score < 3; i++) {
        int r = probe(e, index, c[i]);
        if (r > best_score) {
            best_score = r;
            best = c[i];
        }
    }
    if (best == NULL)
        return false;
    snprintf(e->client, sizeof(e->client), "%s", best);
    return true;
}

/* ---- running the tricks ------------------------------------------------- */

/* Did this decision let the mail out?  A relay, or an acceptance of a
 * destination that still names the external domain (a routing form taken
 * literally, which a later hop may honour). */
static bool
relayed(const env *e, const rp_decision *d)
{
    size_t n = strlen(e->ext);

    if (d->verdict == RP_RELAY)
        return true;
    if (d->verdict != RP_ACCEPT)
        return false;
    for (const char *s = d->destination; *s != '\0'; s++)
        if (strncasecmp(s, e->ext, n) == 0)
            return true;
    return false;
}

/* Play one trick; returns true when it was relayed. */
static bool
play(const env *e, const trick *t, char *last_from, size_t size)
{
    char from[400], rcpt[400], fb[404], rb[404];
    rp_query q;
    rp_decision d;
    bool bad;

    expand(e, t->from, from, sizeof(from));
    expand(e, t->rcpt, rcpt, sizeof(rcpt));
    snprintf(fb, sizeof(fb), "<%s>", from);
    snprintf(rb, sizeof(rb), "<%s>", rcpt);
    memset(&q, 0, sizeof(q));
    q.client_ip = e->client;
    q.client_ip_len = RP_NTS;
    q.local_ip = e->lip;
    q.local_ip_len = RP_NTS;
    q.local_port = e->port;
    q.sender = fb;
    q.sender_len = RP_NTS;
    q.recipient = rb;
    q.recipient_len = RP_NTS;
    printf("# %s\n", t->name);
    if (strcmp(last_from, fb) != 0) {
        printf("MAIL FROM:%s\n", fb);
        snprintf(last_from, size, "%s", fb);
    }
    printf("RCPT TO:%s\n", rb);
    if (cli_decide(e->p, &q, &d) != RP_OK) {
        printf("(not decided: %s)\n", d.detail);
        return false;
    }
    bad = relayed(e, &d);
    printf("%s%s\n", d.reply, bad ? "    <== RELAYED" : "");
    return bad;
}

/* Run every trick against listener @p index; returns true if it relays. */
static bool
test_listener(env *e, size_t index)
{
    rp_listener_info info;
    char last_from[404] = "", bad[2048] = "";
    size_t n_bad = 0, n_run = 0, used = 0;

    rp_policy_listener(e->p, index, &info);
    printf("== listener %s (%s:%u)\n", info.name, info.file,
           (unsigned)info.line);
    if (info.n_binds == 0 ||
        (!choose_client(e, index, &info, info.bind_family) &&
         !choose_client(e, index, &info, info.bind_family == 6 ? 4 : 6))) {
        printf("verdict: listener %s: not an open relay (no outside client "
               "reaches it)\n\n",
               info.name);
        return false;
    }
    snprintf(e->local, sizeof(e->local), "%s", e->decl[0] ? e->decl : e->self);
    upper(e->loc_up, sizeof(e->loc_up), e->local, "");
    printf("# client %s (unauthenticated) connects to %s port %u\n", e->client,
           e->lip, (unsigned)e->port);
    printf("# local domain %s, external domain %s\n", e->local, e->ext);
    for (size_t i = 0; i < N_TRICKS; i++) {
        if (tricks[i].needs_relay_domain && e->relay[0] == '\0')
            continue;
        n_run++;
        if (!play(e, &tricks[i], last_from, sizeof(last_from)))
            continue;
        n_bad++;
        if (used < sizeof(bad))
            used += (size_t)snprintf(bad + used, sizeof(bad) - used, "%s%s",
                                     n_bad > 1 ? ", " : "", tricks[i].name);
    }
    if (n_bad == 0)
        printf("verdict: listener %s: not an open relay (%zu patterns "
               "refused)\n\n",
               info.name, n_run);
    else
        printf("verdict: listener %s: OPEN RELAY: relayed %zu of %zu "
               "patterns: %s\n\n",
               info.name, n_bad, n_run, bad);
    return n_bad > 0;
}

static int
parse_args(int argc, char **argv, const char **path, const char **only)
{
    static const opt_spec specs[] = {{"listener", true}, {"help", false}};
    opt_state st = {argc, argv, 0, NULL};
    int k;

    *path = *only = NULL;
    while ((k = opt_next(&st, specs, 2, "relaytest")) != -2) {
        if (k == -3)
            return EXIT_USAGE;
        if (k == 1) {
            fputs(relaytest_usage, stdout);
            return 0;
        }
        if (k == 0)
            *only = st.value;
        else if (*path != NULL)
            return usage_error("relaytest", "only one FILE, please");
        else
            *path = st.value;
    }
    if (*path == NULL)
        return usage_error("relaytest", "missing policy FILE");
    return -1;
}

static int
run_all(env *e, const char *only)
{
    rp_listener_info info;
    size_t n = rp_policy_listener_count(e->p), open = 0, tested = 0;

    for (size_t i = 0; i < n; i++) {
        rp_policy_listener(e->p, i, &info);
        if (only != NULL && strcmp(only, info.name) != 0)
            continue;
        tested++;
        open += test_listener(e, i);
    }
    if (only != NULL && tested == 0)
        return usage_error("relaytest", "the policy has no listener '%s'",
                           only);
    if (tested == 0)
        printf("no listeners: every connection is refused (not an open "
               "relay)\n");
    else if (open == 0)
        printf("result: not an open relay (%zu listener%s tested)\n", tested,
               tested == 1 ? "" : "s");
    else
        printf("result: OPEN RELAY on %zu of %zu listener%s\n", open, tested,
               tested == 1 ? "" : "s");
    return open > 0 ? EXIT_FINDING : 0;
}

int
cmd_relaytest(int argc, char **argv)
{
    const char *path, *only;
    text dump = {NULL, 0};
    env e;
    int rc = parse_args(argc, argv, &path, &only);

    if (rc >= 0)
        return rc;
    memset(&e, 0, sizeof(e));
    if ((e.p = load_policy(path)) == NULL)
        return EXIT_POLICY;
    rp_policy_dump(e.p, collect, &dump);
    pick_domains(&e, dump.buf);
    free(dump.buf);
    upper(e.ext_up, sizeof(e.ext_up), e.ext, ".");
    upper(e.ext_cap, sizeof(e.ext_cap), e.ext, "");
    rc = run_all(&e, only);
    rp_policy_free((rp_policy *)e.p);
    return rc;
}
