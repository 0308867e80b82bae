/*
 * fuzz_exposure.c - policy and facts together: the exposure invariant.
 *
 * The input builds a small policy (networks, listeners with binds, remote
 * ranges, grants and denies of every network principal, deny client, over
 * IPv4 and IPv6 prefixes that overlap on purpose), then names decisions.
 * For each decision (an unauthenticated client at A connected to L on a
 * port, to an external recipient), rp_decide() relays exactly when
 * rp_policy_exposure() lists (A, L, port); and the first address of every
 * listed client range, at the first address of its first local range,
 * relays.  Any disagreement aborts.
 *
 * Input layout: a byte stream read left to right; every choice takes one
 * byte (0 once the input is used up).  The policy comes first, the
 * decisions take the rest.
 */
#define EXPOSURE_LIST_MAX 2048
#include "../tests/exposure_list.h"
#include "fuzz_common.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#define OTHER_PORT 65000 /* no bind names it */

typedef struct in {
    const uint8_t *p;
    size_t n, at;
} in;

static unsigned
pick(in *s, unsigned n)
{
    return s->at < s->n ? s->p[s->at++] % n : 0;
}

typedef struct text {
    char buf[4096];
    size_t n;
} text;

static void put(text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(text *t, const char *fmt, ...)
{
    va_list ap;
    int k;

    va_start(ap, fmt);
    k = vsnprintf(t->buf + t->n, sizeof(t->buf) - t->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        t->n += (size_t)k < sizeof(t->buf) - t->n ? (size_t)k
                                                  : sizeof(t->buf) - 1 - t->n;
}

static const char *const anchors4[] = {"0.0.0.0",   "10.0.0.0",   "10.9.9.9",
                                       "192.0.2.0", "192.0.2.77", "8.8.8.8",
                                       "128.0.0.0", "203.0.113.9"};
static const unsigned plens4[] = {0, 1, 8, 12, 16, 24, 25, 31, 32};
static const char *const anchors6[] = {
    "2001:db8::", "2001:db8::1",     "2001:db8:1::", "fe80::",
    "2000::",     "::ffff:10.0.0.0", "::",           "64:ff9b::"};
static const unsigned plens6[] = {0, 3, 8, 32, 48, 64, 96, 104, 120, 128};

static void
mask(uint8_t *b, unsigned bytes, unsigned plen)
{
    for (unsigned i = plen; i < bytes * 8; i++)
        b[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

/* An address near one of the anchors: @p v6 picks the family. */
static void
address(in *s, bool v6, char *out, size_t size)
{
    uint8_t b[16];

    if (!v6) {
        inet_pton(AF_INET, anchors4[pick(s, 8)], b);
        b[pick(s, 4)] ^= (uint8_t)pick(s, 256);
        inet_ntop(AF_INET, b, out, (socklen_t)size);
    } else {
        inet_pton(AF_INET6, anchors6[pick(s, 8)], b);
        b[pick(s, 16)] ^= (uint8_t)pick(s, 256);
        inet_ntop(AF_INET6, b, out, (socklen_t)size);
    }
}

static void
prefix(in *s, text *t)
{
    uint8_t b[16];
    char a[64];
    unsigned plen;

    if (pick(s, 3) != 0) {
        inet_pton(AF_INET, anchors4[pick(s, 8)], b);
        plen = plens4[pick(s, 9)];
        if (pick(s, 3) == 0)
            b[pick(s, 4)] ^= (uint8_t)(1u << pick(s, 8));
        mask(b, 4, plen);
        inet_ntop(AF_INET, b, a, sizeof(a));
    } else {
        inet_pton(AF_INET6, anchors6[pick(s, 8)], b);
        plen = plens6[pick(s, 10)];
        mask(b, 16, plen);
        inet_ntop(AF_INET6, b, a, sizeof(a));
    }
    put(t, "%s/%u", a, plen);
}

/* The ports the policy's binds name (port 0 of a local range of the
 * analysis is every other port). */
static bool named25, named587;

static void
rule(in *s, text *t, unsigned nets)
{
    static const char *const perms[] = {"relay", "submit relay", "submit"};
    unsigned k = pick(s, 8);

    put(t, "    %s ", pick(s, 3) == 0 ? "deny" : "allow");
    if (k == 0)
        put(t, "anonymous");
    else if (k == 1)
        put(t, "user bob");
    else if (k <= 3 && nets > 0)
        put(t, "network n%u", pick(s, nets));
    else if (k <= 3)
        put(t, "network "), prefix(s, t);
    else if (k == 4 && nets > 0)
        put(t, "network all-except n%u", pick(s, nets));
    else if (k == 4)
        put(t, "network all-except "), prefix(s, t);
    else
        put(t, "interface "), prefix(s, t);
    put(t, " %s\n", perms[pick(s, 3)]);
}

static void
policy(in *s, text *t)
{
    unsigned nets = pick(s, 3);

    put(t, "allow open-relay\n");
    for (unsigned i = 0; i < nets; i++)
        for (unsigned k = pick(s, 3) + 1; k > 0; k--)
            put(t, "network n%u ", i), prefix(s, t), put(t, "\n");
    for (unsigned i = pick(s, 3) + 1; i > 0; i--) {
        put(t, "listener l%u {\n", i);
        if (pick(s, 5) != 0) {
            put(t, "    bind");
            for (unsigned k = pick(s, 2) + 1; k > 0; k--) {
                unsigned b = pick(s, EXPOSURE_N_BINDS);
                put(t, " %s", exposure_binds[b]);
                named25 = named25 || exposure_bind_ports[b] == 25;
                named587 = named587 || exposure_bind_ports[b] == 587;
            }
            put(t, "\n");
        }
        if (pick(s, 3) == 0)
            put(t, "    remote "), prefix(s, t), put(t, "\n");
        if (pick(s, 8) == 0)
            put(t, "    require auth\n");
        for (unsigned k = pick(s, 4); k > 0; k--)
            rule(s, t, nets);
        put(t, "}\n");
    }
    for (unsigned i = pick(s, 3); i > 0; i--)
        put(t, "deny client "), prefix(s, t), put(t, "\n");
}

/* ---- the invariant ------------------------------------------------------ */

/* Does the analysis list (client, local, port)? */
static bool
listed(const exposure_list *g,
       const char *client,
       const char *local,
       unsigned port)
{
    bool other = (port != 25 || !named25) && (port != 587 || !named587);

    return exposure_lists(g, client, local, port, other);
}

static bool
relays(const rp_policy *p, const char *client, const char *local, unsigned port)
{
    rp_query q;
    rp_decision d;

    memset(&q, 0, sizeof(q));
    q.client_ip = client;
    q.client_ip_len = RP_NTS;
    q.local_ip = local;
    q.local_ip_len = RP_NTS;
    q.local_port = port;
    q.sender = "<s@elsewhere.example>";
    q.sender_len = RP_NTS;
    q.recipient = "<victim@remote.example>";
    q.recipient_len = RP_NTS;
    if (rp_decide(p, &q, fz_ws(), &d) != RP_OK)
        abort();
    return d.verdict == RP_RELAY;
}

static void
check(const rp_policy *p,
      const exposure_list *g,
      const char *policy_text,
      const char *client,
      const char *local,
      unsigned port,
      bool must_relay)
{
    bool d = relays(p, client, local, port);
    bool a = must_relay || listed(g, client, local, port);

    if (d == a)
        return;
    fprintf(stderr,
            "exposure invariant broken: client %s local %s port %u: "
            "decide %s, analysis %s\n%s",
            client, local, port, d ? "relays" : "refuses",
            a ? "lists it" : "does not", policy_text);
    abort();
}

/* The witness of every listed range relays. */
static void
check_witnesses(const rp_policy *p,
                const exposure_list *g,
                const char *policy_text)
{
    for (size_t i = 0; i < g->n; i++) {
        const rp_exposure *e = &g->v[i];
        const rp_exposure_local *l = &e->locals[0];
        char c[64], a[64];
        inet_ntop(e->client.family == 4 ? AF_INET : AF_INET6, e->client.first,
                  c, sizeof(c));
        inet_ntop(l->range.family == 4 ? AF_INET : AF_INET6, l->range.first, a,
                  sizeof(a));
        check(p, g, policy_text, c, a, l->port ? l->port : OTHER_PORT, true);
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned ports[] = {25, 587, OTHER_PORT};
    static text t;
    static exposure_list g;
    in s = {data, size, 0};
    rp_policy *p = NULL;

    t.n = 0;
    t.buf[0] = '\0';
    g.n = 0;
    g.full = false;
    named25 = named587 = false;
    policy(&s, &t);
    if (rp_policy_compile(t.buf, t.n, NULL, &p, NULL) != RP_OK)
        return 0;
    rp_policy_exposure(p, exposure_keep, &g);
    if (g.n < EXPOSURE_LIST_MAX)
        check_witnesses(p, &g, t.buf);
    for (unsigned k = 0; k < 64 && s.at < s.n && g.n < EXPOSURE_LIST_MAX; k++) {
        char client[64], local[64];
        address(&s, pick(&s, 3) == 0, client, sizeof(client));
        address(&s, pick(&s, 3) == 0, local, sizeof(local));
        check(p, &g, t.buf, client, local, ports[pick(&s, 3)], false);
    }
    rp_policy_free(p);
    return 0;
}
