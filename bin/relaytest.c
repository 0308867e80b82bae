/*
 * relaytest.c - `relaypolicy relaytest`: the open-relay tricks of
 * relaypolicy(7) §6 (the patterns of nmap smtp-open-relay, Metasploit
 * smtp_relay, Microsoft KB Q304897 and the MAPS relay test), played against
 * every listener, printed as a telnet-style transcript with one verdict
 * line per listener.  Which clients to play them from is not guessed: the
 * exact exposure analysis (rp_policy_exposure(), relaypolicy(7) §7) lists
 * every public range that relays without login, the tricks run from a
 * witness inside each, and once more from a client outside every grant.
 * Every trick that names a domain is played again with an internationalised
 * domain in its U-label spelling (with SMTPUTF8) and in its A-label one.
 */
#include "cli.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char relaytest_usage[] =
    "usage: relaypolicy relaytest FILE [--listener NAME] [--wide-ipv4 N]\n"
    "                             [--wide-ipv6 N]\n"
    "\n"
    "For every listener of the policy (or only NAME), list every public\n"
    "address range from which an unauthenticated client can relay, with\n"
    "the rule that lets it (the exact analysis, not samples), and run the\n"
    "classic open-relay tricks (nmap smtp-open-relay, Metasploit\n"
    "smtp_relay, Microsoft KB Q304897, the MAPS relay test) from a witness\n"
    "address inside each range and from a client outside every grant.\n"
    "The tricks are played again with an internationalised external\n"
    "domain, as U-label (with SMTPUTF8) and as A-label, and with the local\n"
    "domain's U-label spelling when it is internationalised.\n"
    "Prints each RCPT TO and the reply, then one verdict line per listener.\n"
    "\n"
    "A listener fails when it is an open relay (an outside client relays,\n"
    "or it relays for 2^24 public IPv4 or 2^96 public IPv6 addresses), or\n"
    "when it relays without login for more public addresses than a /N:\n"
    "--wide-ipv4 N (default 24) and --wide-ipv6 N (default 48).  Narrower\n"
    "grants, such as a partner's /32, are reported and pass.\n"
    "\n"
    "Exit status 0 when every listener passes, 1 when one fails, 2 when\n"
    "the policy does not compile, 64 on a usage error.\n";

/* What the tests are made of. */
typedef struct env {
    const rp_policy *p;
    char decl[256];    /* a local domain the policy declares, or "" */
    char local[256];   /* that domain, or the server's literal */
    char relay[256];   /* a relay domain, or "" */
    char ext[64];      /* an external domain */
    char ext_up[72];   /* the same in capitals with a trailing dot */
    char ext_cap[72];  /* the same in capitals */
    char loc_up[256];  /* the local domain in capitals */
    char decl_u[256];  /* the U-label spelling of decl, or "" */
    char local_u[256]; /* that of local, or "" */
    char ext_u[64];    /* an external IDN domain, U-label spelling */
    char ext_a[64];    /* its A-label spelling */
    char ext_u_up[72]; /* the U-label in capitals with a trailing dot */
    char self[80];     /* the listener's address literal, "[...]" */
    char client[64];
    char lip[64];
    uint32_t port;
    uint32_t named[64]; /* ports the binds name */
    size_t n_named;
    unsigned wide4, wide6; /* fail above a /wide4 or /wide6 of public */
    bool inside;           /* the client is a witness inside a grant */
} env;

/* One trick: a MAIL FROM and a RCPT TO template.  In templates, %L is the
 * local domain, %M the same in capitals, %R the external domain, %U the
 * same in capitals with a trailing dot, %V in capitals without it, %D a
 * relay domain, %S the
 * listener's address literal and %O an outside address literal; %I is an
 * external IDN domain as U-label, %A the same as A-label, %J the U-label
 * in capitals with a trailing dot, %K the local domain as U-label. */
typedef struct trick {
    const char *name;
    const char *from;
    const char *rcpt;
    unsigned flags; /* T_RELAY_DOMAIN | T_UTF8 | T_IDN_LOCAL */
} trick;

enum {
    T_RELAY_DOMAIN = 1, /* needs a relay domain (%D) */
    T_UTF8 = 2,         /* sent with SMTPUTF8 */
    T_IDN_LOCAL = 4,    /* needs an IDN local domain (%K) */
};

static const trick tricks[] = {
    {"external recipient", "relaytest@%R", "user@%R", 0},
    {"percent hack", "relaytest@%R", "user%%%R@%L", 0},
    {"bang path", "relaytest@%R", "%R!user@%L", 0},
    {"double at", "relaytest@%R", "user@%R@%L", 0},
    {"quoted at", "relaytest@%R", "\"user@%R\"@%L", 0},
    {"quoted percent hack", "relaytest@%R", "\"user%%%R\"@%L", 0},
    {"source route", "relaytest@%R", "@%L:user@%R", 0},
    {"source route list", "relaytest@%R", "@%L,@mx.%R:user@%R", 0},
    {"outside address literal", "relaytest@%R", "user@%O", 0},
    {"percent hack at own literal", "relaytest@%R", "user%%%R@%S", 0},
    {"unqualified quoted percent", "relaytest@%R", "\"user%%%R\"", 0},
    {"unqualified quoted at", "relaytest@%R", "\"user@%R\"", 0},
    {"unqualified bang path", "relaytest@%R", "%R!user", 0},
    {"empty final domain", "relaytest@%R", "user@%R@", 0},
    {"mixed case, trailing dot", "relaytest@%R", "user@%U", 0},
    {"mixed case percent hack", "relaytest@%R", "USER%%%V@%M", 0},
    {"postmaster percent hack", "relaytest@%R", "postmaster%%%R@%L", 0},
    {"spoofed local sender", "admin@%L", "user@%R", 0},
    {"sender at own literal", "postmaster@%S", "user@%R", 0},
    {"null sender", "", "user@%R", 0},
    {"local sender and percent hack", "admin@%L", "user%%%R@%L", 0},
    {"percent hack via relay domain", "relaytest@%R", "user%%%R@%D",
     T_RELAY_DOMAIN},
    {"bang path via relay domain", "relaytest@%R", "%R!user@%D",
     T_RELAY_DOMAIN},
    /* relaypolicy(7) §2: one domain, two spellings, the same answers. */
    {"IDN external recipient", "relaytest@%I", "user@%I", T_UTF8},
    {"IDN external recipient, A-label", "relaytest@%A", "user@%A", 0},
    {"IDN percent hack", "relaytest@%I", "user%%%I@%L", T_UTF8},
    {"IDN percent hack, A-label", "relaytest@%A", "user%%%A@%L", 0},
    {"IDN bang path", "relaytest@%I", "%I!user@%L", T_UTF8},
    {"IDN quoted at", "relaytest@%I", "\"user@%I\"@%L", T_UTF8},
    {"IDN quoted percent hack", "relaytest@%I", "\"user%%%I\"@%L", T_UTF8},
    {"IDN source route", "relaytest@%I", "@%L:user@%I", T_UTF8},
    {"IDN percent hack at own literal", "relaytest@%I", "user%%%I@%S", T_UTF8},
    {"IDN unqualified quoted percent", "relaytest@%I", "\"user%%%I\"", T_UTF8},
    {"IDN unqualified bang path", "relaytest@%I", "%I!user", T_UTF8},
    {"IDN capitals, trailing dot", "relaytest@%I", "user@%J", T_UTF8},
    {"IDN null sender", "", "user@%I", T_UTF8},
    {"IDN percent hack via relay domain", "relaytest@%I", "user%%%I@%D",
     T_RELAY_DOMAIN | T_UTF8},
    {"percent hack, local U-label", "relaytest@%R", "user%%%R@%K",
     T_UTF8 | T_IDN_LOCAL},
    {"IDN percent hack, local U-label", "relaytest@%I", "user%%%I@%K",
     T_UTF8 | T_IDN_LOCAL},
    {"IDN bang path, local U-label", "relaytest@%I", "%I!user@%K",
     T_UTF8 | T_IDN_LOCAL},
};
#define N_TRICKS (sizeof(tricks) / sizeof(tricks[0]))

/* The index of the trick named @p name. */
static size_t
trick_index(const char *name)
{
    size_t i = 0;

    while (i + 1 < N_TRICKS && strcmp(tricks[i].name, name) != 0)
        i++;
    return i;
}

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
            case 'I':
                sub = e->ext_u;
                break;
            case 'A':
                sub = e->ext_a;
                break;
            case 'J':
                sub = e->ext_u_up;
                break;
            case 'K':
                sub = e->local_u;
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

/* External IDN domains: U-label, A-label, U-label in capitals with a
 * trailing dot (пример and испытание are the IANA test labels). */
static const char *const idn_exts[][3] = {
    {"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.invalid",
     "xn--e1afmkfd.invalid",
     "\xd0\x9f\xd0\xa0\xd0\x98\xd0\x9c\xd0\x95\xd0\xa0.INVALID."},
    {"relaytest.\xd0\xb8\xd1\x81\xd0\xbf\xd1\x8b\xd1\x82\xd0\xb0\xd0"
     "\xbd\xd0\xb8\xd0\xb5",
     "relaytest.xn--80akhbyknj4f",
     "RELAYTEST.\xd0\x98\xd0\xa1\xd0\x9f\xd0\xab\xd0\xa2\xd0\x90\xd0"
     "\x9d\xd0\x98\xd0\x95."},
};

/* Read the "domain PATTERN KIND" lines of the dump: pick a local and a
 * relay domain, and an external domain (and an external IDN domain) that
 * no pattern covers.  The dump writes an IDN domain as A-label with its
 * U-label as a comment: "domain xn--d1acufc.xn--p1ai local  # домен.рф". */
static void
pick_domains(env *e, const char *dump)
{
    static const char *const exts[] = {"relaytest.invalid", "remote.example",
                                       "relaytest.example.net"};
    char pat[256], kind[16], ulabel[256];
    bool exact[2] = {false, false}; /* [0] relay, [1] local */
    size_t pick = 0, pick_idn = 0;
    const size_t n_idn = sizeof(idn_exts) / sizeof(idn_exts[0]);

    for (const char *s = dump; s != NULL && *s != '\0';) {
        const char *nl = strchr(s, '\n');
        if (sscanf(s, "domain %255s %15s", pat, kind) == 2 && pat[0] != '/') {
            const char *name = pat[0] == '.' ? pat + 1 : pat;
            char *dst = strcmp(kind, "local") == 0   ? e->decl
                        : strcmp(kind, "relay") == 0 ? e->relay
                                                     : NULL;
            const char *hash = strstr(s, "  # ");
            bool has_u = hash != NULL && (nl == NULL || hash < nl) &&
                         sscanf(hash + 4, "%255s", ulabel) == 1;
            /* The first exact name wins; a suffix only when none. */
            if (dst != NULL &&
                (dst[0] == '\0' || (pat[0] != '.' && !exact[dst == e->decl]))) {
                snprintf(dst, 256, "%s", name);
                if (dst == e->decl)
                    snprintf(e->decl_u, sizeof(e->decl_u), "%s",
                             !has_u             ? ""
                             : ulabel[0] == '.' ? ulabel + 1
                                                : ulabel);
            }
            if (dst != NULL && pat[0] != '.')
                exact[dst == e->decl] = true;
            while (pick + 1 < sizeof(exts) / sizeof(exts[0]) &&
                   covers(pat, exts[pick]))
                pick++;
            while (pick_idn + 1 < n_idn && covers(pat, idn_exts[pick_idn][1]))
                pick_idn++;
        }
        s = nl != NULL ? nl + 1 : NULL;
    }
    snprintf(e->ext, sizeof(e->ext), "%s", exts[pick]);
    snprintf(e->ext_u, sizeof(e->ext_u), "%s", idn_exts[pick_idn][0]);
    snprintf(e->ext_a, sizeof(e->ext_a), "%s", idn_exts[pick_idn][1]);
    snprintf(e->ext_u_up, sizeof(e->ext_u_up), "%s", idn_exts[pick_idn][2]);
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
    size_t n = strlen(e->ext), na = strlen(e->ext_a);

    if (d->verdict == RP_RELAY)
        return true;
    if (d->verdict != RP_ACCEPT)
        return false;
    /* The destination is in canonical form: the IDN one as A-label. */
    for (const char *s = d->destination; *s != '\0'; s++)
        if (strncasecmp(s, e->ext, n) == 0 || strncasecmp(s, e->ext_a, na) == 0)
            return true;
    return false;
}

/* Play one trick; returns true when it was relayed. */
static bool
play(const env *e, const trick *t, char *last_from, size_t size)
{
    char from[400], rcpt[400], fb[420], rb[404];
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
    if (t->flags & T_UTF8) {
        q.flags |= RP_QUERY_SMTPUTF8;
        snprintf(fb + strlen(fb), sizeof(fb) - strlen(fb), " SMTPUTF8");
        q.sender_len = strlen(fb) - 9;
    }
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
    printf("%s%s\n", d.reply,
           !bad        ? ""
           : e->inside ? "    <== relayed (granted)"
                       : "    <== RELAYED");
    return bad;
}

/* Run every trick from the client in @p e; returns the number relayed and
 * lists their names in @p bad; @p out (N_TRICKS entries, or NULL) says
 * which. */
static size_t
run_tricks(const env *e, size_t *n_run, char *bad, size_t size, bool *out)
{
    char last_from[420] = "";
    size_t n_bad = 0, used = 0;

    *n_run = 0;
    bad[0] = '\0';
    for (size_t i = 0; i < N_TRICKS; i++) {
        if (((tricks[i].flags & T_RELAY_DOMAIN) && e->relay[0] == '\0') ||
            ((tricks[i].flags & T_IDN_LOCAL) && e->local_u[0] == '\0'))
            continue;
        (*n_run)++;
        if (!play(e, &tricks[i], last_from, sizeof(last_from)))
            continue;
        if (out != NULL)
            out[i] = true;
        n_bad++;
        if (used < size)
            used += (size_t)snprintf(bad + used, size - used, "%s%s",
                                     n_bad > 1 ? ", " : "", tricks[i].name);
    }
    return n_bad;
}

/* ---- the exposure analysis ---------------------------------------------- */

/* At most this many ranges get a transcript each; all are listed. */
#define MAX_TRANSCRIPTS 32

typedef struct ranges {
    rp_exposure *v;
    size_t n, cap;
    size_t listener;
} ranges;

static int
keep_range(void *ctx, const rp_exposure *x)
{
    ranges *r = ctx;

    if (x->listener_index != r->listener)
        return 0;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        rp_exposure *v = realloc(r->v, cap * sizeof(*v));
        if (v == NULL)
            return 1;
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = *x;
    return 0;
}

static bool
in_range(const rp_exposure_range *r, const char *ip)
{
    uint8_t b[16];
    int fam = ip_family(ip);
    size_t n = fam == 4 ? 4 : 16;

    if (fam != r->family ||
        inet_pton(fam == 4 ? AF_INET : AF_INET6, ip, b) != 1)
        return false;
    return memcmp(r->first, b, n) <= 0 && memcmp(b, r->last, n) <= 0;
}

/* A public address inside @p r when there is one (relaypolicy(7) §7), else
 * its first address, as text. */
static void
witness(const rp_exposure_range *r, char *out, size_t size)
{
    static const uint32_t special[][2] = {
        {0x00000000u, 0x00FFFFFFu}, {0x0A000000u, 0x0AFFFFFFu},
        {0x64400000u, 0x647FFFFFu}, {0x7F000000u, 0x7FFFFFFFu},
        {0xA9FE0000u, 0xA9FEFFFFu}, {0xAC100000u, 0xAC1FFFFFu},
        {0xC0000000u, 0xC00000FFu}, {0xC0A80000u, 0xC0A8FFFFu},
        {0xC6120000u, 0xC613FFFFu}, {0xE0000000u, 0xFFFFFFFFu}};
    uint8_t b[16];

    memcpy(b, r->first, 16);
    if (r->family == 4) {
        uint32_t a = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                     (uint32_t)b[2] << 8 | b[3];
        uint32_t last = (uint32_t)r->last[0] << 24 |
                        (uint32_t)r->last[1] << 16 | (uint32_t)r->last[2] << 8 |
                        r->last[3];
        for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
            if (a >= special[i][0] && a <= special[i][1] &&
                special[i][1] < last)
                a = special[i][1] + 1;
        for (int i = 0; i < 4; i++)
            b[i] = (uint8_t)(a >> (24 - 8 * i));
        inet_ntop(AF_INET, b, out, (socklen_t)size);
        return;
    }
    /* Public IPv6 is 2000::/3. */
    if ((b[0] & 0xe0) != 0x20 && b[0] < 0x20 && r->last[0] >= 0x20) {
        memset(b, 0, 16);
        b[0] = 0x20;
    }
    inet_ntop(AF_INET6, b, out, (socklen_t)size);
}

/* The ports the policy's binds name, from the dump's bind lines. */
static void
named_ports(env *e, const char *dump)
{
    for (const char *s = dump; s != NULL && *s != '\0';) {
        const char *nl = strchr(s, '\n');
        size_t len = nl != NULL ? (size_t)(nl - s) : strlen(s);
        char line[512], *save = NULL;

        if (len > 9 && len < sizeof(line) && strncmp(s, "    bind ", 9) == 0) {
            memcpy(line, s, len);
            line[len] = '\0';
            for (char *t = strtok_r(line + 9, " ", &save); t != NULL;
                 t = strtok_r(NULL, " ", &save)) {
                char *c = strrchr(t, ':');
                if (c == NULL || !isdigit((unsigned char)c[1]) ||
                    (t[0] == '[' && c < strchr(t, ']')) ||
                    e->n_named == sizeof(e->named) / sizeof(e->named[0]))
                    continue;
                e->named[e->n_named++] = (uint32_t)strtoul(c + 1, NULL, 10);
            }
        }
        s = nl != NULL ? nl + 1 : NULL;
    }
}

/* A port that no bind names: what port 0 of a local range stands for. */
static uint32_t
other_port(const env *e)
{
    for (uint32_t p = 25;; p = p == 65535 ? 1 : p + 1) {
        bool named = false;
        for (size_t i = 0; i < e->n_named; i++)
            named = named || e->named[i] == p;
        if (!named || e->n_named >= 65535)
            return p;
    }
}

/* Connect the witness of range @p x: a public client inside it, on the
 * listener's own address, or a documentation address, when that is one
 * of the range's local addresses, else on the first of them. */
static void
set_witness(env *e, const rp_exposure *x, const rp_listener_info *info)
{
    const char *const want[] = {info->bind_ip, "192.0.2.1", "2001:db8::1"};
    const rp_exposure_local *l = &x->locals[0];
    bool found = false;

    witness(&x->client, e->client, sizeof(e->client));
    for (size_t w = 0; w < 3 && !found; w++)
        for (size_t i = 0; i < x->n_locals && !found; i++)
            if (want[w][0] != '\0' && in_range(&x->locals[i].range, want[w])) {
                l = &x->locals[i];
                snprintf(e->lip, sizeof(e->lip), "%s", want[w]);
                found = true;
            }
    if (!found)
        inet_ntop(l->range.family == 4 ? AF_INET : AF_INET6, l->range.first,
                  e->lip, sizeof(e->lip));
    e->port = l->port != 0 ? l->port : other_port(e);
    snprintf(e->self, sizeof(e->self),
             ip_family(e->lip) == 6 ? "[IPv6:%s]" : "[%s]", e->lip);
    snprintf(e->local, sizeof(e->local), "%s", e->decl[0] ? e->decl : e->self);
    upper(e->loc_up, sizeof(e->loc_up), e->local, "");
    snprintf(e->local_u, sizeof(e->local_u), "%s", e->decl[0] ? e->decl_u : "");
}

/* List the ranges that relay without login; run the tricks from a witness
 * in each public one.  Returns the number of witnesses that did NOT relay
 * the plain external recipient (the analysis and the decisions disagree). */
static size_t
test_ranges(env *e, const ranges *r, const rp_listener_info *info)
{
    size_t n_public = 0, wrong = 0, shown = 0;

    for (size_t i = 0; i < r->n; i++) {
        const rp_exposure *x = &r->v[i];
        printf("# %s range %s (%.*g public) relays without login%s, by "
               "%s:%u: %s\n",
               x->public_count > 0 ? "public" : "private", x->client.text,
               x->public_count < 1e15 ? 15 : 3, x->public_count,
               x->destinations == RP_EXPOSURE_DOMAINS
                   ? " towards the listed domains only"
                   : "",
               x->rule_file, (unsigned)x->rule_line, x->rule_text);
        n_public += x->public_count > 0;
    }
    for (size_t i = 0; i < r->n; i++) {
        const rp_exposure *x = &r->v[i];
        char bad[2048];
        size_t n_run;
        if (x->public_count <= 0)
            continue;
        if (shown++ == MAX_TRANSCRIPTS) {
            printf("# (transcripts for the first %d public ranges only)\n",
                   MAX_TRANSCRIPTS);
            break;
        }
        set_witness(e, x, info);
        printf("# witness %s (unauthenticated) in %s connects to %s port "
               "%u\n",
               e->client, x->client.text, e->lip, (unsigned)e->port);
        e->inside = true;
        bool out[N_TRICKS] = {false};
        run_tricks(e, &n_run, bad, sizeof(bad), out);
        e->inside = false;
        /* "to every external domain": an IDN one too, in both spellings.
         * A scoped grant relays only towards its domains, which the
         * tricks do not aim at: it must refuse the plain one. */
        if (x->destinations == RP_EXPOSURE_DOMAINS) {
            if (out[0]) {
                printf("# ERROR: the witness relayed outside the grant's "
                       "destinations\n");
                wrong++;
            }
        } else if (!out[0] || !out[trick_index("IDN external recipient")] ||
                   !out[trick_index("IDN external recipient, A-label")]) {
            printf("# ERROR: the witness did not relay as the analysis "
                   "says\n");
            wrong++;
        }
    }
    (void)n_public;
    return wrong;
}

/* ---- per listener ------------------------------------------------------- */

/* Does the exposure exceed the --wide-ipv4 / --wide-ipv6 thresholds? */
static bool
too_wide(const env *e, const rp_exposure_summary *s)
{
    double max6 = 1.0;

    for (unsigned i = e->wide6; i < 128; i++)
        max6 *= 2.0;
    return s->public4 > (1ull << (32 - e->wide4)) || s->public6 > max6;
}

/* The tricks from a client outside every grant: the number relayed. */
static size_t
test_outside(env *e,
             size_t index,
             const rp_listener_info *info,
             bool *ran,
             char *bad,
             size_t size)
{
    size_t n_run, n_bad;

    bad[0] = '\0';
    *ran = info->n_binds > 0 &&
           (choose_client(e, index, info, info->bind_family) ||
            choose_client(e, index, info, info->bind_family == 6 ? 4 : 6));
    if (!*ran) {
        printf("# no outside client reaches it\n");
        return 0;
    }
    snprintf(e->local, sizeof(e->local), "%s", e->decl[0] ? e->decl : e->self);
    upper(e->loc_up, sizeof(e->loc_up), e->local, "");
    snprintf(e->local_u, sizeof(e->local_u), "%s", e->decl[0] ? e->decl_u : "");
    printf("# client %s (unauthenticated) connects to %s port %u\n", e->client,
           e->lip, (unsigned)e->port);
    printf("# local domain %s, external domain %s\n", e->local, e->ext);
    n_bad = run_tricks(e, &n_run, bad, size, NULL);
    if (n_bad > 0)
        printf("# OPEN RELAY from outside every grant: relayed %zu of %zu "
               "patterns: %s\n",
               n_bad, n_run, bad);
    else
        printf("# refused all %zu patterns\n", n_run);
    return n_bad;
}

/* Test listener @p index; returns true when it fails. */
static bool
test_listener(env *e, size_t index)
{
    rp_listener_info info;
    rp_exposure_summary s;
    ranges r = {NULL, 0, 0, index};
    char bad[2048];
    size_t wrong, outside;
    bool ran, wide, fail;

    rp_policy_listener(e->p, index, &info);
    rp_policy_exposure_summary(e->p, index, &s);
    printf("== listener %s (%s:%u)\n", info.name, info.file,
           (unsigned)info.line);
    printf("# without login, %llu public IPv4 and %.3g public IPv6 addresses "
           "can relay\n",
           (unsigned long long)s.public4, s.public6);
    rp_policy_exposure(e->p, keep_range, &r);
    wrong = test_ranges(e, &r, &info);
    free(r.v);
    outside = test_outside(e, index, &info, &ran, bad, sizeof(bad));
    wide = too_wide(e, &s);
    fail = s.unsafe || wide || outside > 0 || wrong > 0;
    printf("verdict: listener %s: ", info.name);
    if (outside > 0)
        printf("OPEN RELAY: an outside client relayed %zu patterns: %s\n\n",
               outside, bad);
    else if (s.unsafe)
        printf("OPEN RELAY: relays for the Internet without login\n\n");
    else if (wide)
        printf("FAIL: relays without login for more than a /%u of public "
               "IPv4 or a /%u of public IPv6\n\n",
               e->wide4, e->wide6);
    else if (wrong > 0)
        printf("FAIL: %zu witness%s did not relay as the analysis says\n\n",
               wrong, wrong == 1 ? "" : "es");
    else if (s.public4 > 0 || s.public6 > 0)
        printf("not an open relay; relays without login for %llu public "
               "IPv4 and %.3g public IPv6 addresses (narrow grants, "
               "reported)\n\n",
               (unsigned long long)s.public4, s.public6);
    else if (!ran)
        printf("not an open relay (no outside client reaches it)\n\n");
    else
        printf("not an open relay (no public client relays without "
               "login)\n\n");
    return fail;
}

static int
prefix_arg(const char *v, unsigned max, unsigned *out)
{
    char *end;
    unsigned long n = strtoul(v, &end, 10);

    if (*v < '0' || *v > '9' || *end != '\0' || n > max)
        return usage_error("relaytest", "a prefix length 0-%u, not '%s'", max,
                           v);
    *out = (unsigned)n;
    return -1;
}

static int
parse_args(int argc, char **argv, const char **path, const char **only, env *e)
{
    static const opt_spec specs[] = {{"listener", true},
                                     {"help", false},
                                     {"wide-ipv4", true},
                                     {"wide-ipv6", true}};
    opt_state st = {argc, argv, 0, NULL};
    int k, rc;

    *path = *only = NULL;
    e->wide4 = 24;
    e->wide6 = 48;
    while ((k = opt_next(&st, specs, 4, "relaytest")) != -2) {
        if (k == -3)
            return EXIT_USAGE;
        if (k == 1) {
            fputs(relaytest_usage, stdout);
            return 0;
        }
        if (k == 0)
            *only = st.value;
        else if (k == 2 && (rc = prefix_arg(st.value, 32, &e->wide4)) >= 0)
            return rc;
        else if (k == 3 && (rc = prefix_arg(st.value, 128, &e->wide6)) >= 0)
            return rc;
        else if (k == -1 && *path != NULL)
            return usage_error("relaytest", "only one FILE, please");
        else if (k == -1)
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
    size_t n = rp_policy_listener_count(e->p), failed = 0, tested = 0;

    for (size_t i = 0; i < n; i++) {
        rp_policy_listener(e->p, i, &info);
        if (only != NULL && strcmp(only, info.name) != 0)
            continue;
        tested++;
        failed += test_listener(e, i);
    }
    if (only != NULL && tested == 0)
        return usage_error("relaytest", "the policy has no listener '%s'",
                           only);
    if (tested == 0)
        printf("no listeners: every connection is refused (not an open "
               "relay)\n");
    else if (failed == 0)
        printf("result: not an open relay (%zu listener%s tested)\n", tested,
               tested == 1 ? "" : "s");
    else
        printf("result: FAILED on %zu of %zu listener%s\n", failed, tested,
               tested == 1 ? "" : "s");
    return failed > 0 ? EXIT_FINDING : 0;
}

int
cmd_relaytest(int argc, char **argv)
{
    const char *path, *only;
    char *dump;
    env e;
    int rc;

    memset(&e, 0, sizeof(e));
    if ((rc = parse_args(argc, argv, &path, &only, &e)) >= 0)
        return rc;
    if ((e.p = load_policy(path)) == NULL)
        return EXIT_POLICY;
    dump = dump_text(e.p);
    pick_domains(&e, dump);
    named_ports(&e, dump);
    free(dump);
    upper(e.ext_up, sizeof(e.ext_up), e.ext, ".");
    upper(e.ext_cap, sizeof(e.ext_cap), e.ext, "");
    rc = run_all(&e, only);
    rp_policy_free((rp_policy *)e.p);
    return rc;
}
