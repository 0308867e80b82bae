/*
 * workload.c - the decision workload: a policy with large allow and deny
 * network lists, many hosted domains and known recipients (and optionally
 * regex deny rules), a pool of realistic SMTP queries, and the timings of
 * domain lookups, address parses and whole decisions on it.
 */
#include "bench.h"
#include "address.h"
#include "domains.h"
#include "policy.h"
#include "rp_regex.h"

#include <stdlib.h>
#include <string.h>

/* What hosted domain i is: the first rdomains carry recipient lists. */
typedef enum dkind { D_RCPT, D_EXACT, D_SUFFIX, D_RELAY } dkind;

typedef struct work {
    const bench_tmp *tmp;
    uint64_t seed;
    const bench_sizes *sz;
    bench_pfx *allow, *deny; /* networks, IPv4 then IPv6 */
    size_t n_allow, n_deny;
    bench_set *denied; /* the deny list, to draw clients outside it */
    rp_query *pool;
    char *text; /* the strings of the pool */
    size_t text_used, text_cap;
} work;

static void
fail(const char *what)
{
    fprintf(stderr, "rp_bench: %s\n", what);
    exit(1);
}

static dkind
kind_of(const work *w, size_t i)
{
    uint64_t h = bench_mix(w->seed ^ (i * 0x7f4a7c15ull) ^ 0xd1);

    if (i < w->sz->rdomains)
        return D_RCPT;
    h %= 10;
    return h < 7 ? D_EXACT : h < 9 ? D_SUFFIX : D_RELAY;
}

/* ---- the policy text
 * ---------------------------------------------------------- */

/* IPv4 and IPv6 entries in a 9:1 mix, as one array. */
static bench_pfx *
mixed_list(uint64_t seed, size_t n)
{
    size_t n4 = n - n / 10, n6 = n / 10;
    bench_pfx *v = malloc(n * sizeof(*v)), *a, *b;

    a = bench_gen_v4(seed, n4);
    b = bench_gen_v6(seed, n6);
    if (v == NULL || a == NULL || b == NULL)
        fail("out of memory");
    memcpy(v, a, n4 * sizeof(*v));
    memcpy(v + n4, b, n6 * sizeof(*v));
    free(a);
    free(b);
    return v;
}

static void
write_recipients(const work *w, size_t i, const char *path)
{
    size_t per = w->sz->recipients / w->sz->rdomains;
    char lp[80];
    FILE *f = fopen(path, "w");

    if (f == NULL)
        fail("cannot write a recipient list");
    for (size_t j = 0; j < per; j++) {
        bench_local_part(w->seed, i, j, lp, sizeof(lp));
        fprintf(f, "%s\n", lp);
    }
    if (fclose(f) != 0)
        fail("cannot write a recipient list");
}

static void
write_domains(const work *w, FILE *f)
{
    char d[128], path[512], name[64];

    for (size_t i = 0; i < w->sz->domains; i++) {
        bench_domain(w->seed, i, d, sizeof(d));
        switch (kind_of(w, i)) {
        case D_RCPT:
            snprintf(name, sizeof(name), "rcpt%zu.txt", i);
            bench_tmp_path(w->tmp, name, path, sizeof(path));
            write_recipients(w, i, path);
            fprintf(f, "domain %s local recipients \"%s\"\n", d, path);
            break;
        case D_EXACT:
            fprintf(f, "domain %s local\n", d);
            break;
        case D_SUFFIX:
            fprintf(f, "domain .%s local\n", d);
            break;
        case D_RELAY:
            fprintf(f, "domain %s relay\n", d);
            break;
        }
    }
}

/* The whole policy, with @p regex regex deny rules. */
static void
write_policy(const work *w, const char *path, size_t regex)
{
    char allow[512], deny[512], d[128], re[200];
    FILE *f = fopen(path, "w");

    if (f == NULL)
        fail("cannot write the policy");
    bench_tmp_path(w->tmp, "allow.txt", allow, sizeof(allow));
    bench_tmp_path(w->tmp, "deny.txt", deny, sizeof(deny));
    fprintf(f, "# Synthetic benchmark policy (seed %llu).\n",
            (unsigned long long)w->seed);
    write_domains(w, f);
    /* The random "trusted" networks hold far more than a /8 of public
     * addresses: without the switch the policy would not compile. */
    fprintf(f,
            "allow open-relay\nnetwork trusted \"%s\"\n\n"
            "listener internet {\n    bind 0.0.0.0:25 [::]:25\n"
            "    role gateway\n    allow network trusted relay\n}\n"
            "listener submission {\n    bind *:587\n"
            "    role submission\n}\n\nnetwork blocked \"%s\"\n"
            "deny client blocked\n",
            allow, deny);
    for (size_t k = 0; k < 50; k++) {
        bench_external_domain(bench_mix(w->seed ^ (k + 0xbad)), d, sizeof(d));
        fprintf(f, "deny sender @%s\ndeny recipient abuse-trap%zu@%s\n", d, k,
                d);
    }
    for (size_t k = 0; k < regex; k++) {
        bench_regex(w->seed, k, k % 2 == 0, re, sizeof(re));
        fprintf(f, "deny %s %s\n", k % 2 == 0 ? "sender" : "recipient", re);
    }
    if (fclose(f) != 0)
        fail("cannot write the policy");
}

/* ---- the query pool
 * ----------------------------------------------------------- */

static const char *
keep(work *w, const char *s)
{
    size_t n = strlen(s) + 1;
    char *at;

    if (w->text_used + n > w->text_cap)
        fail("query text arena too small");
    at = w->text + w->text_used;
    memcpy(at, s, n);
    w->text_used += n;
    return at;
}

/* A client: 20% inside the deny list, 25% inside the trusted list, the
 * rest anywhere outside the deny list (IPv4 nine times in ten). */
static void
client_ip(work *w, bench_rng *r, char *buf, size_t size, bool *v6)
{
    uint32_t x = bench_rng_below(r, 100), a4;
    const bench_pfx *p = NULL;
    uint8_t a[16];

    if (x < 20)
        p = &w->deny[bench_rng_below(r, (uint32_t)w->n_deny)];
    else if (x < 45)
        p = &w->allow[bench_rng_below(r, (uint32_t)w->n_allow)];
    *v6 = p != NULL ? p->family == 6 : bench_rng_below(r, 10) == 0;
    if (!*v6) {
        do
            a4 = p != NULL ? bench_inside_v4(r, p) : bench_query_v4(r, NULL, 0);
        while (p == NULL && bench_set_covers(w->denied, 4, NULL, a4));
        bench_v4_text(a4, buf, size);
        return;
    }
    do {
        if (p != NULL)
            bench_inside_v6(r, p, a);
        else
            bench_query_v6(r, NULL, 0, a);
    } while (p == NULL && bench_set_covers(w->denied, 6, a, 0));
    bench_v6_text(a, buf, size);
}

/* A hosted domain of kind @p k (any kind when k is negative). */
static size_t
hosted(const work *w, bench_rng *r, int k)
{
    size_t i;

    do
        i = bench_rng_below(r, (uint32_t)w->sz->domains);
    while (k >= 0 && kind_of(w, i) != (dkind)k);
    return i;
}

/* A recipient domain as it appears in a query: a suffix domain is asked
 * for through a subdomain. */
static void
query_domain(const work *w, bench_rng *r, size_t i, char *buf, size_t size)
{
    static const char *const subs[4] = {"mail.", "eu.mx.", "a.b.c.", "lists."};
    char d[128];

    bench_domain(w->seed, i, d, sizeof(d));
    if (kind_of(w, i) == D_SUFFIX && bench_rng_below(r, 4) != 0)
        snprintf(buf, size, "%s%s", subs[bench_rng_below(r, 4)], d);
    else
        snprintf(buf, size, "%s", d);
}

static void
recipient(work *w, bench_rng *r, char *buf, size_t size)
{
    uint32_t x = bench_rng_below(r, 100);
    size_t per = w->sz->recipients / w->sz->rdomains, i;
    char lp[80], d[160];

    bench_local_part(w->seed, bench_rng_below(r, 1000),
                     bench_rng_below(r, 4096), lp, sizeof(lp));
    if (x < 45) {
        i = bench_rng_below(r, (uint32_t)w->sz->rdomains);
        if (x < 35)
            bench_local_part(w->seed, i, bench_rng_below(r, (uint32_t)per), lp,
                             sizeof(lp));
        bench_domain(w->seed, i, d, sizeof(d));
    } else if (x < 65) {
        query_domain(w, r,
                     hosted(w, r, bench_rng_below(r, 2) ? D_EXACT : D_SUFFIX),
                     d, sizeof(d));
    } else if (x < 75) {
        query_domain(w, r, hosted(w, r, D_RELAY), d, sizeof(d));
    } else {
        bench_external_domain(bench_rng_next(r), d, sizeof(d));
    }
    snprintf(buf, size, "<%s@%s>", lp, d);
}

static void
sender(work *w, bench_rng *r, char *buf, size_t size)
{
    uint32_t x = bench_rng_below(r, 100);
    char lp[80], d[160];

    bench_local_part(w->seed, bench_rng_below(r, 1000),
                     bench_rng_below(r, 4096), lp, sizeof(lp));
    if (x < 5) {
        snprintf(buf, size, "<>");
        return;
    }
    if (x < 20)
        bench_domain(w->seed, hosted(w, r, -1), d, sizeof(d));
    else
        bench_external_domain(bench_rng_next(r), d, sizeof(d));
    snprintf(buf, size, "<%s@%s>", lp, d);
}

static void
make_pool(work *w)
{
    size_t n = w->sz->pool;
    bench_rng r;
    char ip[64], s[400];
    bool v6;

    w->pool = calloc(n, sizeof(*w->pool));
    w->text_cap = n * 512;
    w->text = malloc(w->text_cap);
    if (w->pool == NULL || w->text == NULL)
        fail("out of memory");
    bench_rng_seed(&r, w->seed ^ 0x9e);
    for (size_t i = 0; i < n; i++) {
        rp_query *q = &w->pool[i];
        bool sub = bench_rng_below(&r, 10) == 0;
        client_ip(w, &r, ip, sizeof(ip), &v6);
        q->client_ip = keep(w, ip);
        q->client_ip_len = RP_NTS;
        q->local_ip = v6 ? "2001:db8::25" : "192.0.2.25";
        q->local_ip_len = RP_NTS;
        q->local_port = sub ? 587 : 25;
        if (sub && bench_rng_below(&r, 10) < 7) {
            bench_local_part(w->seed, 0, bench_rng_below(&r, 4096), s,
                             sizeof(s));
            q->user = keep(w, s);
            q->user_len = RP_NTS;
        }
        sender(w, &r, s, sizeof(s));
        q->sender = keep(w, s);
        q->sender_len = RP_NTS;
        recipient(w, &r, s, sizeof(s));
        q->recipient = keep(w, s);
        q->recipient_len = RP_NTS;
    }
}

/* ---- domain lookups and address parses
 * ----------------------------------------- */

/* @p subdomains: only names below a hosted domain (parent fallback);
 * else a mix of exact names, subdomains and unknown domains. */
static char **
domain_queries(const work *w, size_t n, bool subdomains)
{
    static const char *const subs[4] = {"mail.", "eu.mx.", "a.b.c.", "www."};
    char **v = malloc(n * sizeof(*v)), d[128], s[200];
    bench_rng r;

    if (v == NULL)
        fail("out of memory");
    bench_rng_seed(&r, w->seed ^ (subdomains ? 0x5d : 0xd5));
    for (size_t i = 0; i < n; i++) {
        uint32_t x = bench_rng_below(&r, 3);
        if (subdomains || x == 1) {
            size_t k =
                hosted(w, &r, bench_rng_below(&r, 2) ? D_SUFFIX : D_EXACT);
            bench_domain(w->seed, k, d, sizeof(d));
            snprintf(s, sizeof(s), "%s%s", subs[bench_rng_below(&r, 4)], d);
        } else if (x == 0) {
            bench_domain(w->seed, hosted(w, &r, -1), s, sizeof(s));
        } else {
            bench_external_domain(bench_rng_next(&r), s, sizeof(s));
        }
        if ((v[i] = strdup(s)) == NULL)
            fail("out of memory");
    }
    return v;
}

/* Nanoseconds per domain lookup, best of three passes; *hits counts. */
static double
time_domains(const rp_policy *p, char **q, size_t n, double *hit_share)
{
    static rp__scratch scratch;
    size_t *len = malloc(n * sizeof(*len)), hits = 0;
    double best = 1e30;

    if (len == NULL)
        fail("out of memory");
    rp__scratch_init(&scratch);
    for (size_t i = 0; i < n; i++)
        len[i] = strlen(q[i]);
    for (int k = 0; k < 3; k++) {
        uint32_t v;
        rp__dompat kind;
        double t0 = bench_now();
        hits = 0;
        for (size_t i = 0; i < n; i++)
            hits += rp__domtab_lookup(p->domtab, q[i], len[i], &scratch, &v,
                                      &kind) == 1;
        double t = bench_now() - t0;
        if (t < best)
            best = t;
    }
    free(len);
    *hit_share = (double)hits / (double)n;
    return best * 1e9 / (double)n;
}

static void
domains(const work *w, const rp_policy *p, bool goals)
{
    size_t n = w->sz->pool * 4;
    char **mix = domain_queries(w, n, false);
    char **sub = domain_queries(w, n, true);
    double hm, hs, ns_mix = time_domains(p, mix, n, &hm);
    double ns_sub = time_domains(p, sub, n, &hs);
    char label[128];

    snprintf(label, sizeof(label), "domains %zuk: ns/lookup, mixed",
             w->sz->domains / 1000);
    bench_report("domain_ns_mixed", label, ns_mix, "ns",
                 goals ? GOAL_MAX : GOAL_NONE, 100);
    snprintf(label, sizeof(label),
             "domains %zuk: ns/lookup, subdomain "
             "(parent fallback)",
             w->sz->domains / 1000);
    bench_report("domain_ns_subdomain", label, ns_sub, "ns",
                 goals ? GOAL_MAX : GOAL_NONE, 100);
    bench_report("domain_hit_share_mixed", "domains: share of mixed hits", hm,
                 "", GOAL_NONE, 0);
    for (size_t i = 0; i < n; i++) {
        free(mix[i]);
        free(sub[i]);
    }
    free(mix);
    free(sub);
}

static void
addresses(const work *w, bool goals)
{
    size_t n = w->sz->pool, ok = 0;
    double best = 1e30;
    rp__addr a;

    for (int k = 0; k < 3; k++) {
        double t0 = bench_now();
        ok = 0;
        for (size_t i = 0; i < n; i++) {
            const rp_query *q = &w->pool[i];
            ok += rp__addr_parse(q->sender, strlen(q->sender), true, &a) ==
                  RP__ADDR_OK;
            ok += rp__addr_parse(q->recipient, strlen(q->recipient), false,
                                 &a) == RP__ADDR_OK;
        }
        double t = bench_now() - t0;
        if (t < best)
            best = t;
    }
    if (ok != 2 * n)
        fail("an address of the pool did not parse");
    bench_report("addr_parse_ns", "address parse: ns/address",
                 best * 1e9 / (double)(2 * n), "ns",
                 goals ? GOAL_MAX : GOAL_NONE, 50);
}

/* ---- decisions
 * ------------------------------------------------------------------- */

/* The benchmark's workspace, made once and kept for the process. */
static rp_workspace *
bench_ws(void)
{
    static rp_workspace *ws;

    if (ws == NULL && rp_workspace_new(NULL, &ws) != RP_OK)
        fail("cannot make a workspace");
    return ws;
}

/* Queries per rp_decide_batch() call in the batched figure. */
#define DECIDE_BATCH 64

/* Seconds for one pass over the pool with rp_decide(); the verdicts are
 * counted into @p counts. */
static double
pass_single(const work *w, const rp_policy *p, size_t counts[5])
{
    static rp_decision d;
    double t0 = bench_now();

    for (size_t i = 0; i < w->sz->pool; i++) {
        if (rp_decide(p, &w->pool[i], bench_ws(), &d) != RP_OK)
            fail("rp_decide failed on a pool query");
        counts[d.verdict]++;
    }
    return bench_now() - t0;
}

/* The same pass with rp_decide_batch(). */
static double
pass_batch(const work *w, const rp_policy *p, size_t counts[5])
{
    static rp_decision d[DECIDE_BATCH];
    static rp_workspace *ws;
    rp_options o;
    double t0;

    rp_options_init(&o);
    o.batch_capacity = DECIDE_BATCH;
    if (ws == NULL && rp_workspace_new(&o, &ws) != RP_OK)
        fail("cannot make a batch workspace");
    t0 = bench_now();
    for (size_t i = 0; i < w->sz->pool; i += DECIDE_BATCH) {
        size_t n =
            w->sz->pool - i < DECIDE_BATCH ? w->sz->pool - i : DECIDE_BATCH;
        if (rp_decide_batch(p, &w->pool[i], n, ws, d, NULL) != RP_OK)
            fail("rp_decide_batch failed on a pool query");
        for (size_t k = 0; k < n; k++)
            counts[d[k].verdict]++;
    }
    return bench_now() - t0;
}

/* Decisions per second one by one (@p single) and batched (@p batch),
 * passes of each alternating for at least min_time seconds in all, so
 * that the load of a shared machine weighs on both alike.  The verdicts
 * of both must be the same. */
static void
rates(const work *w,
      const rp_policy *p,
      size_t counts[5],
      double *single,
      double *batch)
{
    size_t bcounts[5] = {0};
    double ts = 0, tb = 0;
    size_t passes = 0;

    memset(counts, 0, 5 * sizeof(*counts));
    do {
        ts += pass_single(w, p, counts);
        tb += pass_batch(w, p, bcounts);
        passes++;
    } while (ts + tb < w->sz->min_time * 2);
    if (memcmp(counts, bcounts, sizeof(bcounts)) != 0)
        fail("batched and single decisions differ");
    *single = (double)(passes * w->sz->pool) / ts;
    *batch = (double)(passes * w->sz->pool) / tb;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Per-call latency percentiles in nanoseconds: p[0] p50, p[1] p99,
 * p[2] p99.9, p[3] the clock's own cost. */
static void
latency(const work *w, const rp_policy *p, size_t n, double pct[4])
{
    static rp_decision d;
    uint32_t *ns = malloc(n * sizeof(*ns));

    if (ns == NULL)
        fail("out of memory");
    for (size_t i = 0; i < n; i++) {
        uint64_t t0 = bench_now_ns();
        ns[i] = (uint32_t)(bench_now_ns() - t0);
    }
    qsort(ns, n, sizeof(*ns), cmp_u32);
    pct[3] = ns[n / 2];
    for (size_t i = 0; i < n; i++) {
        const rp_query *q = &w->pool[i % w->sz->pool];
        uint64_t t0 = bench_now_ns();
        rp_decide(p, q, bench_ws(), &d);
        ns[i] = (uint32_t)(bench_now_ns() - t0);
    }
    qsort(ns, n, sizeof(*ns), cmp_u32);
    pct[0] = ns[n / 2];
    pct[1] = ns[n * 99 / 100];
    pct[2] = ns[n * 999 / 1000];
    free(ns);
}

static void
report_decisions(const char *tag,
                 const char *what,
                 double per_s,
                 const double pct[4],
                 bool goals,
                 double min_rate)
{
    char key[48], label[64];

#define KEY(s) (snprintf(key, sizeof(key), "%s_%s", tag, s), key)
#define LBL(s) (snprintf(label, sizeof(label), "%s: %s", what, s), label)
    bench_report(KEY("per_s"), LBL("decisions/s"), per_s, "/s",
                 goals ? GOAL_MIN : GOAL_NONE, min_rate);
    bench_report(KEY("p50_us"), LBL("p50 latency"), pct[0] / 1000, "us",
                 GOAL_NONE, 0);
    bench_report(KEY("p99_us"), LBL("p99 latency"), pct[1] / 1000, "us",
                 goals && min_rate > 1e6 ? GOAL_MAX : GOAL_NONE, 2);
    bench_report(KEY("p999_us"), LBL("p99.9 latency"), pct[2] / 1000, "us",
                 GOAL_NONE, 0);
#undef KEY
#undef LBL
}

static void
report_verdicts(const size_t counts[5])
{
    static const char *const names[5] = {"none", "accept", "relay", "reject",
                                         "tempfail"};
    size_t total = 0;
    char key[48], label[64];

    for (int i = 0; i < 5; i++)
        total += counts[i];
    for (int i = 1; i < 5; i++) {
        snprintf(key, sizeof(key), "verdict_share_%s", names[i]);
        snprintf(label, sizeof(label), "decide: share of %s", names[i]);
        bench_report(key, label, (double)counts[i] / (double)total, "",
                     GOAL_NONE, 0);
    }
}

/* Compile @p conf, report its build, and time decisions on it. */
static rp_policy *
decide_on(const work *w,
          const char *conf,
          const char *tag,
          const char *what,
          bool goals,
          double min_rate)
{
    size_t rss0 = bench_rss(), counts[5];
    double build, pct[4];
    rp_policy *p = bench_compile(conf, &build);
    double mib = ((double)bench_rss() - (double)rss0) / 1048576.0;
    char key[48], label[64];

    snprintf(key, sizeof(key), "%s_build_s", tag);
    snprintf(label, sizeof(label), "%s: build from text", what);
    bench_report(key, label, build, "s", GOAL_NONE, 0);
    snprintf(key, sizeof(key), "%s_rss_mib", tag);
    snprintf(label, sizeof(label), "%s: policy RSS", what);
    bench_report(key, label, mib, "MiB", GOAL_NONE, 0);
    double per_s, batch_s;
    rates(w, p, counts, &per_s, &batch_s);
    latency(w, p, w->sz->latency_n, pct);
    report_decisions(tag, what, per_s, pct, goals, min_rate);
    snprintf(key, sizeof(key), "%s_batch_per_s", tag);
    snprintf(label, sizeof(label), "%s: decisions/s, batches of %d", what,
             DECIDE_BATCH);
    bench_report(key, label, batch_s, "/s", goals ? GOAL_MIN : GOAL_NONE,
                 min_rate * 1.5);
    snprintf(key, sizeof(key), "%s_batch_speedup", tag);
    snprintf(label, sizeof(label), "%s: batch speed-up", what);
    bench_report(key, label, batch_s / per_s, "x", GOAL_NONE, 0);
    if (strcmp(tag, "decide") == 0) {
        report_verdicts(counts);
        bench_report("clock_ns", "clock_gettime pair (in latencies)", pct[3],
                     "ns", GOAL_NONE, 0);
    }
    return p;
}

int
bench_workload(const bench_tmp *tmp,
               uint64_t seed,
               const bench_sizes *sz,
               bool goals)
{
    work w = {tmp,          seed, sz,   NULL, NULL, sz->networks,
              sz->networks, NULL, NULL, NULL, 0,    0};
    char path[512], allow[512], deny[512];
    rp_policy *p;

    w.allow = mixed_list(seed + 1, w.n_allow);
    w.deny = mixed_list(seed + 2, w.n_deny);
    if ((w.denied = bench_set_of(w.deny, w.n_deny)) == NULL)
        fail("out of memory");
    bench_tmp_path(tmp, "allow.txt", allow, sizeof(allow));
    bench_tmp_path(tmp, "deny.txt", deny, sizeof(deny));
    if (bench_write_prefixes(allow, w.allow, w.n_allow, NULL) != 0 ||
        bench_write_prefixes(deny, w.deny, w.n_deny, NULL) != 0)
        fail("cannot write the network lists");
    make_pool(&w);
    addresses(&w, goals);
    bench_tmp_path(tmp, "decide.conf", path, sizeof(path));
    write_policy(&w, path, 0);
    p = decide_on(&w, path, "decide", "decide, no regex", goals, 2e6);
    bench_pfile(tmp, p, w.pool, sz->pool, sz->min_time, "decide",
                "decide, no regex", goals);
    bench_exposure(path, "decide", "decide, no regex");
    domains(&w, p, goals);
    rp_policy_free(p);
    fprintf(stderr, "  workload: decisions without regex done\n");
    bench_tmp_path(tmp, "decide_regex.conf", path, sizeof(path));
    write_policy(&w, path, sz->regex);
    p = decide_on(&w, path, "decide_regex", "decide, regex rules", goals, 2e5);
    bench_pfile(tmp, p, w.pool, sz->pool, sz->min_time, "decide_regex",
                "decide, regex rules", false);
    rp_policy_free(p);
    free(w.pool);
    free(w.text);
    free(w.allow);
    free(w.deny);
    bench_set_free(w.denied);
    return 0;
}
