/*
 * test_exposure.c - the exact relay exposure analysis (relaypolicy(7)
 * §7): the reproductions of the open-relay tricks that used to compile,
 * the public API, and a property test comparing the analysis with
 * rp_decide() on every elementary region of random policies.
 */
#include "exposure_list.h"
#include "test_ws.h"
#include "vectors.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one place the tests call rp_decide(): does an unauthenticated
 * client at @p client, connected to @p local:@p port, get a relay to an
 * external domain? */
static bool
relays(const rp_policy *p, const char *client, const char *local, unsigned port)
{
    rp_query q;
    rp_decision d;

    vec_fill(&q, client, local, port, "<victim@remote.example>");
    q.sender = "<sender@elsewhere.example>";
    q.sender_len = RP_NTS;
    cr_assert_eq(rp_decide(p, &q, test_ws(), &d), RP_OK,
                 "decide %s -> %s:%u: %s", client, local, port, d.detail);
    return d.verdict == RP_RELAY;
}

static rp_policy *
must_compile(const char *text)
{
    rp_policy *p = NULL;
    rp_error err;
    rp_status st = rp_policy_compile(text, RP_NTS, NULL, &p, &err);

    cr_assert_eq(st, RP_OK, "%s: %s\n%s", rp_status_name(st), err.message,
                 text);
    return p;
}

static void
expect_unsafe(const char *text, unsigned line, const char *range)
{
    rp_policy *p = NULL;
    rp_error err;
    rp_status st = rp_policy_compile(text, RP_NTS, NULL, &p, &err);
    char with[4096];

    cr_expect_eq(st, RP_E_UNSAFE, "%s: %s\n%s", rp_status_name(st), err.message,
                 text);
    cr_expect_null(p);
    rp_policy_free(p);
    if (st != RP_E_UNSAFE)
        return;
    cr_expect_eq(err.line, line, "line %u: %s", err.line, err.message);
    cr_expect_gt(err.column, 0, "%s", err.message);
    cr_expect_not_null(strstr(err.message, "open relay"), "%s", err.message);
    cr_expect_not_null(strstr(err.message, range), "want %s in: %s", range,
                       err.message);
    snprintf(with, sizeof(with), "allow open-relay\n%s", text);
    p = must_compile(with);
    rp_policy_free(p);
}

/* ---- collecting the analysis -------------------------------------------- */

/* The whole walk, in a list the test frees. */
static exposure_list *
exposure_of(const rp_policy *p)
{
    exposure_list *g = calloc(1, sizeof(*g));

    cr_assert_not_null(g);
    cr_assert_eq(rp_policy_exposure(p, exposure_keep, g), RP_OK);
    cr_assert_not(g->full, "too many ranges");
    return g;
}

/* Does the analysis list (client, local, port)?  @p named: the ports the
 * policy's binds name (port 0 of a local range is every other port). */
static bool
listed(const exposure_list *g,
       const char *client,
       const char *local,
       unsigned port,
       const unsigned *named,
       size_t n_named)
{
    bool other = true;

    for (size_t i = 0; i < n_named; i++)
        other = other && named[i] != port;
    return exposure_lists(g, client, local, port, other);
}

/* ---- issue reproductions ------------------------------------------------ */

Test(exposure, interface_grant_on_a_wildcard_bind)
{
    const char *text = "domain local.example local\n"
                       "listener mx {\n    bind 0.0.0.0:25\n"
                       "    role gateway\n"
                       "    allow interface 10.9.9.9 relay\n}\n";
    rp_policy *p;
    exposure_list *g;

    expect_unsafe(text, 5, "0.0.0.0/0");
    {
        char with[512];
        snprintf(with, sizeof(with), "allow open-relay\n%s", text);
        p = must_compile(with);
    }
    cr_expect(relays(p, "8.8.8.8", "10.9.9.9", 25));
    cr_expect_not(relays(p, "8.8.8.8", "10.9.9.8", 25));
    g = exposure_of(p);
    /* Every IPv4 client, and every IPv6 one whose address a proxy claims
     * (the local address stays the IPv4 one it reached). */
    cr_assert_eq(g->n, 2);
    cr_expect_str_eq(g->v[0].client.text, "0.0.0.0/0");
    cr_expect_str_eq(g->v[1].client.text, "::/0");
    cr_expect_eq(g->v[0].n_locals, 1);
    cr_expect_str_eq(g->v[0].locals[0].range.text, "10.9.9.9/32");
    cr_expect_eq(g->v[0].locals[0].port, 25);
    cr_expect_eq(g->v[0].rule_line, 6);
    cr_expect(listed(g, "8.8.8.8", "10.9.9.9", 25, (unsigned[]){25}, 1));
    free(g);
    rp_policy_free(p);
}

Test(exposure, all_except_the_documentation_blocks)
{
    expect_unsafe("network docs 192.0.2.0/24 198.51.100.0/24 "
                  "203.0.113.0/24\n"
                  "listener mx {\n    bind *:25\n    role gateway\n"
                  "    allow network all-except docs relay\n}\n",
                  5, "relay without login");
}

Test(exposure, two_halves_of_the_internet)
{
    expect_unsafe("network a 0.0.0.0/1 128.0.0.0/1\n"
                  "listener mx {\n    bind *:25\n    role gateway\n"
                  "    allow network a relay\n}\n",
                  5, "0.0.0.0/0 (3702259456 public IPv4");
    /* Two grants of a /9 each: neither is a /8, together they are. */
    expect_unsafe("listener mx {\n    bind 0.0.0.0:25\n"
                  "    allow network 8.0.0.0/9 relay\n"
                  "    allow network 9.0.0.0/9 relay\n}\n",
                  3, "8.0.0.0/9");
}

Test(exposure, one_range_over_two_remote_ranges)
{
    /* The listener is looked at only inside its remote ranges; where one
     * ends and the next begins, its range goes on. */
    rp_policy *p = must_compile("listener mx {\n    bind 0.0.0.0:25\n"
                                "    remote 10.0.0.0/25 10.0.0.128/25\n"
                                "    allow network 10.0.0.0/24 relay\n}\n");
    exposure_list *g = exposure_of(p);

    cr_assert_eq(g->n, 1);
    cr_expect_str_eq(g->v[0].client.text, "10.0.0.0/24");
    free(g);
    rp_policy_free(p);
}

Test(exposure, anonymous_relay_inside_a_public_remote_range)
{
    expect_unsafe("listener mx {\n    bind *:25\n    remote 8.0.0.0/8\n"
                  "    allow anonymous relay\n}\n",
                  4, "8.0.0.0/8");
    /* The same on private remote ranges only is not an open relay. */
    rp_policy *p = must_compile("listener mx {\n    bind *:25\n"
                                "    remote 10.0.0.0/8\n"
                                "    allow anonymous relay\n}\n");
    rp_exposure_summary s;

    cr_assert_eq(rp_policy_exposure_summary(p, 0, &s), RP_OK);
    cr_expect_eq(s.public4, 0);
    cr_expect_eq(s.n_ranges, 1);
    cr_expect_not(s.unsafe);
    rp_policy_free(p);
}

Test(exposure, ipv6_entry_covering_the_ipv4_block)
{
    rp_policy *p = must_compile("network v6lan ::/64\n"
                                "listener mx {\n    bind *:25\n"
                                "    role gateway\n"
                                "    allow network v6lan relay\n}\n");
    rp_exposure_summary s;
    exposure_list *g = exposure_of(p);

    cr_assert_eq(rp_policy_exposure_summary(p, 0, &s), RP_OK);
    cr_expect_eq(s.public4, 0, "an IPv6 entry never holds IPv4 clients");
    cr_expect_eq(s.public6, 0.0);
    cr_assert_eq(g->n, 1);
    cr_expect_eq(g->v[0].client.family, 6);
    cr_expect_str_eq(g->v[0].client.text, "::/64");
    cr_expect_not(relays(p, "8.8.8.8", "192.0.2.1", 25));
    cr_expect_not(relays(p, "0.0.0.1", "192.0.2.1", 25));
    cr_expect(relays(p, "::8", "2001:db8::1", 25));
    free(g);
    rp_policy_free(p);
}

Test(exposure, a_listener_that_steals_clients)
{
    /* The open listener relays for 192.0.2.0/24 but the more specific
     * listener takes 192.0.2.128/25 on the same bind and does not. */
    rp_policy *p = must_compile("listener open {\n    bind *:25\n"
                                "    allow network 192.0.2.0/24 relay\n}\n"
                                "listener closed {\n    bind *:25\n"
                                "    remote 192.0.2.128/25\n"
                                "    role gateway\n}\n");
    exposure_list *g = exposure_of(p);

    cr_assert_eq(g->n, 1);
    cr_expect_str_eq(g->v[0].client.text, "192.0.2.0/25");
    cr_expect_str_eq(g->v[0].listener, "open");
    cr_expect_eq(g->v[0].public_lo, 128);
    free(g);
    rp_policy_free(p);
}

Test(exposure, public_counts)
{
    rp_policy *p = must_compile("allow open-relay\n"
                                "listener mx {\n    bind *:25\n"
                                "    allow anonymous relay\n"
                                "    deny network 2001:db8::/32 relay\n}\n");
    rp_exposure_summary s;

    cr_assert_eq(rp_policy_exposure_summary(p, 0, &s), RP_OK);
    cr_expect_eq(s.public4, 3702259456ull,
                 "every address but the special blocks");
    cr_expect(s.unsafe);
    /* 2000::/3 minus 2001:db8::/32: 2^125 - 2^96. */
    cr_expect_eq(s.public6_hi, (1ull << 61) - (1ull << 32));
    cr_expect_eq(s.public6_lo, 0);
    cr_expect_eq(rp_policy_exposure_summary(p, 1, &s), RP_E_ARG);
    cr_expect_eq(rp_policy_exposure_summary(NULL, 0, &s), RP_E_ARG);
    cr_expect_eq(rp_policy_exposure(p, NULL, NULL), RP_E_ARG);
    cr_expect_eq(rp_policy_exposure(NULL, exposure_keep, NULL), RP_E_ARG);
    rp_policy_free(p);
}

/* ---- the property test -------------------------------------------------- */

/* Random policies over a small set of overlapping prefixes, binds and
 * rules; for each, every elementary region (client piece x local piece x
 * port, cut at every prefix and bind of the policy, both ends of each
 * piece as witnesses) is decided with rp_decide() and must relay exactly
 * when the analysis lists it. */

typedef struct rng {
    uint64_t s;
} rng;

static uint32_t
rnd(rng *r, uint32_t n)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (uint32_t)((r->s >> 11) % n);
}

/* A prefix as 16 bytes (IPv4 mapped) and a length in IPv6 terms. */
typedef struct pfx {
    uint8_t b[16];
    unsigned plen;
} pfx;

#define MAXP 64

typedef struct gen {
    rng r;
    char text[8192];
    size_t n;
    pfx p[MAXP]; /* every prefix and bind address written */
    size_t np;
    unsigned ports[8];
    size_t nports;
    bool covering; /* also IPv6 entries that cover ::ffff:0:0/96 */
} gen;

static const char *const anchors4[] = {"0.0.0.0",   "10.0.0.0",   "10.9.9.9",
                                       "192.0.2.0", "192.0.2.77", "8.8.8.8",
                                       "128.0.0.0", "203.0.113.9"};
static const unsigned plens4[] = {0, 1, 8, 12, 16, 24, 25, 31, 32};
static const char *const anchors6[] = {
    "2001:db8::", "2001:db8::1",     "2001:db8:1::", "fe80::",
    "2000::",     "::ffff:10.0.0.0", "::",           "64:ff9b::"};
static const unsigned plens6[] = {0, 3, 8, 32, 48, 64, 96, 104, 120, 128};

static void put(gen *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(gen *g, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g->n += (size_t)vsnprintf(g->text + g->n, sizeof(g->text) - g->n, fmt, ap);
    va_end(ap);
    cr_assert_lt(g->n, sizeof(g->text));
}

static void
mask(uint8_t b[16], unsigned plen)
{
    for (unsigned i = 0; i < 128; i++)
        if (i >= plen)
            b[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

static bool
covers_mapped(const pfx *x)
{
    static const uint8_t m[16] = {0, 0, 0,    0,    0, 0, 0, 0,
                                  0, 0, 0xff, 0xff, 0, 0, 0, 0};
    pfx y = *x;

    if (x->plen > 96)
        return false;
    memcpy(y.b, m, 16);
    mask(y.b, x->plen);
    return memcmp(y.b, x->b, 16) == 0;
}

/* Write a random prefix into the policy text and remember it. */
static void
prefix(gen *g)
{
    pfx x;
    char t[64];
    bool v4 = rnd(&g->r, 3) != 0;

    for (;;) {
        memset(&x, 0, sizeof(x));
        if (v4) {
            x.b[10] = x.b[11] = 0xff;
            inet_pton(AF_INET, anchors4[rnd(&g->r, 8)], x.b + 12);
            x.plen = 96 + plens4[rnd(&g->r, 9)];
            if (rnd(&g->r, 3) == 0) /* a neighbour */
                x.b[12 + rnd(&g->r, 4)] ^= (uint8_t)(1u << rnd(&g->r, 8));
        } else {
            inet_pton(AF_INET6, anchors6[rnd(&g->r, 8)], x.b);
            x.plen = plens6[rnd(&g->r, 10)];
        }
        mask(x.b, x.plen);
        if (g->covering || v4 || !covers_mapped(&x))
            break;
    }
    if (v4) {
        inet_ntop(AF_INET, x.b + 12, t, sizeof(t));
        put(g, "%s/%u", t, x.plen - 96);
    } else {
        inet_ntop(AF_INET6, x.b, t, sizeof(t));
        put(g, "%s/%u", t, x.plen);
    }
    cr_assert_lt(g->np, MAXP);
    g->p[g->np++] = x;
}

static void
add_bind(gen *g)
{
    unsigned k = rnd(&g->r, EXPOSURE_N_BINDS);

    put(g, " %s", exposure_binds[k]);
    if (exposure_bind_ips[k] != NULL) {
        pfx x;
        memset(&x, 0, sizeof(x));
        cr_assert_neq(exposure_addr(exposure_bind_ips[k], x.b), 0);
        if (strchr(exposure_bind_ips[k], ':') == NULL) {
            memmove(x.b + 12, x.b, 4);
            memset(x.b, 0, 12);
            x.b[10] = x.b[11] = 0xff;
        }
        x.plen = 128;
        g->p[g->np++] = x;
    }
    if (exposure_bind_ports[k] != 0 && g->nports < 8)
        g->ports[g->nports++] = exposure_bind_ports[k];
}

static void
rule(gen *g, int nets)
{
    static const char *const perms[] = {"relay", "submit relay", "submit",
                                        "relay local-sender"};
    unsigned k = rnd(&g->r, 9);

    put(g, "    %s ", rnd(&g->r, 3) == 0 ? "deny" : "allow");
    if (k == 0)
        put(g, "anonymous");
    else if (k == 1)
        put(g, "authenticated");
    else if (k == 2)
        put(g, "user bob");
    else if (k <= 4 && nets > 0)
        put(g, "network n%u", rnd(&g->r, (uint32_t)nets));
    else if (k <= 4)
        put(g, "network "), prefix(g);
    else if (k == 5 && nets > 0)
        put(g, "network all-except n%u", rnd(&g->r, (uint32_t)nets));
    else if (k == 5)
        put(g, "network all-except "), prefix(g);
    else
        put(g, "interface "), prefix(g);
    put(g, " %s\n", perms[rnd(&g->r, 4)]);
}

static void
listener(gen *g, unsigned i, int nets)
{
    unsigned n;

    put(g, "listener l%u {\n", i);
    if ((n = rnd(&g->r, 3)) > 0) {
        put(g, "    bind");
        while (n-- > 0)
            add_bind(g);
        put(g, "\n");
    }
    if (rnd(&g->r, 3) == 0)
        put(g, "    remote "), prefix(g), put(g, "\n");
    if (rnd(&g->r, 8) == 0)
        put(g, "    require auth\n");
    else if (rnd(&g->r, 4) == 0)
        put(g, "    role gateway\n");
    for (n = rnd(&g->r, 4); n > 0; n--)
        rule(g, nets);
    put(g, "}\n");
}

static void
policy(gen *g)
{
    int nets = (int)rnd(&g->r, 3);

    g->n = g->np = g->nports = 0;
    put(g, "allow open-relay\n");
    for (int i = 0; i < nets; i++)
        for (unsigned k = rnd(&g->r, 3) + 1; k > 0; k--)
            put(g, "network n%d ", i), prefix(g), put(g, "\n");
    for (unsigned i = rnd(&g->r, 3) + 1; i > 0; i--)
        listener(g, i, nets);
    for (unsigned i = rnd(&g->r, 3); i > 0; i--)
        put(g, "deny client "), prefix(g), put(g, "\n");
}

__extension__ typedef unsigned __int128 u128;

static const u128 M0 = (u128)0xffff << 32;  /* ::ffff:0.0.0.0 */
static const u128 M1 = (u128)0x10000 << 32; /* one past the IPv4 block */

static u128
key_of(const uint8_t b[16])
{
    u128 k = 0;

    for (int i = 0; i < 16; i++)
        k = k << 8 | b[i];
    return k;
}

static void
key_text(u128 k, char *t, size_t size)
{
    uint8_t b[16];

    for (int i = 15; i >= 0; i--, k >>= 8)
        b[i] = (uint8_t)k;
    if (memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
        inet_ntop(AF_INET, b + 12, t, (socklen_t)size);
    else
        inet_ntop(AF_INET6, b, t, (socklen_t)size);
}

static int
cmp_u128(const void *a, const void *b)
{
    u128 x = *(const u128 *)a, y = *(const u128 *)b;

    return (x > y) - (x < y);
}

/* Witnesses (first and last key) of every piece of both spaces. */
static size_t
witnesses(const gen *g, u128 *out, size_t max)
{
    u128 cut[2 * MAXP + 4];
    size_t n = 0, k = 0, m = 0;

    cut[n++] = 0;
    cut[n++] = M0;
    cut[n++] = M1;
    for (size_t i = 0; i < g->np; i++) {
        u128 s = key_of(g->p[i].b);
        bool v4 = g->p[i].plen >= 96 && s >= M0 && s < M1;
        cut[n++] = s;
        if (g->p[i].plen > 0) {
            u128 e = s + ((u128)1 << (128 - g->p[i].plen));
            if (e != 0 && (!v4 || e < M1))
                cut[n++] = e;
        }
    }
    qsort(cut, n, sizeof(*cut), cmp_u128);
    for (size_t i = 0; i < n; i++)
        if (k == 0 || cut[i] != cut[k - 1])
            cut[k++] = cut[i];
    for (size_t i = 0; i < k; i++) {
        u128 last = i + 1 < k ? cut[i + 1] - 1 : ~(u128)0;
        cr_assert_lt(m + 2, max);
        out[m++] = cut[i];
        if (last != cut[i])
            out[m++] = last;
    }
    return m;
}

static size_t
check_policy(gen *g)
{
    u128 w[8 * MAXP + 16];
    size_t nw = witnesses(g, w, sizeof(w) / sizeof(w[0])), n = 0;
    unsigned ports[9];
    size_t np = g->nports;
    rp_policy *p = must_compile(g->text);
    exposure_list *x = exposure_of(p);

    memcpy(ports, g->ports, np * sizeof(*ports));
    ports[np++] = 65000; /* a port no bind names */
    for (size_t c = 0; c < nw; c++) {
        char ct[64];
        key_text(w[c], ct, sizeof(ct));
        for (size_t l = 0; l < nw; l++) {
            char lt[64];
            key_text(w[l], lt, sizeof(lt));
            for (size_t k = 0; k < np; k++, n++) {
                bool d = relays(p, ct, lt, ports[k]);
                bool a = listed(x, ct, lt, ports[k], g->ports, g->nports);
                cr_assert_eq(d, a,
                             "client %s local %s port %u: decide %s, "
                             "analysis %s\n%s",
                             ct, lt, ports[k], d ? "relays" : "refuses",
                             a ? "lists it" : "does not", g->text);
            }
        }
    }
    free(x);
    rp_policy_free(p);
    return n;
}

static void
property(uint64_t seed, unsigned rounds, bool covering)
{
    gen *g = calloc(1, sizeof(*g));
    size_t n = 0;

    cr_assert_not_null(g);
    g->r.s = seed;
    g->covering = covering;
    for (unsigned i = 0; i < rounds; i++) {
        policy(g);
        n += check_policy(g);
    }
    cr_log_info("%u policies, %zu regions decided", rounds, n);
    cr_expect_gt(n, rounds);
    free(g);
}

Test(exposure, agrees_with_decide_on_every_region, .timeout = 120)
{
    property(0x9e3779b97f4a7c15ull, getenv("RP_TEST_QUICK") ? 150 : 400, false);
}

Test(exposure, agrees_with_decide_with_ipv6_entries_covering_ipv4)
{
    property(0x2545f4914f6cdd1dull, getenv("RP_TEST_QUICK") ? 100 : 300, true);
}

/* ---- narrower grants (relaypolicy(7) §4.2) ------------------------------ */

Test(exposure, scoped_relay_is_reported_with_its_destinations)
{
    rp_policy *p = must_compile(
        "listener mx {\n    bind *:25\n"
        "    allow network 192.0.2.0/28 relay to vendor.example .v.example\n"
        "    allow network 198.51.100.0/28 relay\n"
        "    allow network 198.51.100.0/28 relay to other.example\n"
        "    deny network 192.0.2.8/29 relay to vendor.example\n"
        "    allow certificate "
        "04eee26dfc453b87d5127d23d953cf0ae8bc1ec1d79858ad68264bb13c1d20e8 "
        "relay\n"
        "    allow user carol from network 0.0.0.0/0 relay\n}\n");
    exposure_list *g = exposure_of(p);
    size_t scoped = 0, every = 0;

    for (size_t i = 0; i < g->n; i++) {
        const rp_exposure *e = &g->v[i];
        if (e->destinations == RP_EXPOSURE_DOMAINS) {
            scoped++;
            cr_expect_eq(e->rule_line, 3);
            cr_assert_eq(e->n_dest_patterns, 2);
            cr_expect_str_eq(e->dest_patterns[0], "vendor.example");
            cr_expect_str_eq(e->dest_patterns[1], ".v.example");
            /* A scoped deny leaves the range relaying elsewhere. */
            cr_expect_str_eq(e->client.text, "192.0.2.0/28");
        } else {
            every++;
            cr_expect_eq(e->destinations, RP_EXPOSURE_EVERY_EXTERNAL);
            cr_expect_null(e->dest_patterns);
            /* The unscoped grant wins over the scoped one. */
            cr_expect_eq(e->rule_line, 4);
        }
    }
    /* Certificates and logins are not unauthenticated exposure. */
    cr_expect_eq(scoped, 1);
    cr_expect_eq(every, 1);
    cr_expect(relays(p, "198.51.100.3", "192.0.2.200", 25));
    cr_expect_not(relays(p, "192.0.2.3", "192.0.2.200", 25));
    free(g);
    rp_policy_free(p);
}

Test(exposure, scoped_relay_for_the_internet_is_unsafe)
{
    /* Relay towards one domain for everyone is still an open relay for
     * spam to it; a relay domain is the way to say that. */
    expect_unsafe("listener mx {\n    bind *:25\n"
                  "    allow anonymous relay to partner.example\n}\n",
                  3, "0.0.0.0/0");
}

/* A trusted proxy's claim is believed: a host of the trusted-proxy list
 * may claim the address of a network granted relay.  A list holding
 * 2^24 public addresses makes every grant of relay, a private one too,
 * a grant to the Internet. */
Test(exposure, trusted_proxy_of_the_internet_is_unsafe)
{
    expect_unsafe("trusted-proxy 0.0.0.0/0\n"
                  "listener mx {\n    bind 0.0.0.0:25\n"
                  "    allow network 10.0.0.0/8 relay\n}\n",
                  1, "3702259456 public IPv4");
    /* Two halves of a /8, one through a named list. */
    expect_unsafe("network lb 8.128.0.0/9\n"
                  "trusted-proxy 8.0.0.0/9 lb\n"
                  "listener mx {\n    bind 0.0.0.0:25\n"
                  "    allow network 192.168.1.0/24 relay\n}\n",
                  2, "16777216 public IPv4");
    expect_unsafe("trusted-proxy 2000::/3\n"
                  "listener mx {\n    bind *:25\n"
                  "    allow network fd00::/8 relay\n}\n",
                  1, "public IPv6");
}

Test(exposure, trusted_proxy_that_is_safe_compiles)
{
    rp_policy *p;

    /* The proxies' own addresses. */
    p = must_compile("trusted-proxy 10.0.0.1 192.168.0.0/16\n"
                     "listener mx {\n    bind 0.0.0.0:25\n"
                     "    allow network 10.0.0.0/8 relay\n}\n");
    rp_policy_free(p);
    /* The same /9 twice is counted once: 2^23 public addresses. */
    p = must_compile("trusted-proxy 8.0.0.0/9 8.0.0.0/9 8.1.0.0/16\n"
                     "listener mx {\n    bind 0.0.0.0:25\n"
                     "    allow network 10.0.0.0/8 relay\n}\n");
    rp_policy_free(p);
    /* A wide proxy list with no relay grant: a claim wins nothing. */
    p = must_compile("trusted-proxy 0.0.0.0/0\n"
                     "listener mx {\n    bind 0.0.0.0:25\n"
                     "    allow anonymous submit\n}\n");
    rp_policy_free(p);
}
