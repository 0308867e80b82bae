/*
 * bench.c - the relaypolicy benchmark.
 *
 * Builds synthetic policies from a seed, compiles them from text and times
 * the parts of a decision: network lookups (independent and dependent),
 * domain lookups, address parsing and whole decisions.  Results go to a
 * table on stdout and, with --json FILE, to a JSON file.
 *
 *   rp_bench [--quick] [--seed N] [--json FILE] [--only networks|workload]
 *   rp_bench --compare DIR [--prefixes N] [--queries N] [--first N]
 *                          [--scan N]
 *
 * --compare writes the prefix and query files bench/compare.sh feeds to
 * Postfix's cidr: table (the first --first queries) and to a libcidr scan
 * (the first --scan of those), and times this library on the same data:
 * on the first --first queries, repeated, and on all --queries.
 */
#include "bench.h"
#include "ipaddr.h"
#include "policy.h"
#include "radix.h"

#include <stdlib.h>
#include <string.h>

/* Read through a volatile so the compiler cannot fold it: a zero that
 * makes each query depend on the previous answer. */
static volatile uint32_t zero;
static volatile uint64_t sink;
/* The scratch directory, removed at exit whatever happens. */
static bench_tmp *scratch_dir;

typedef struct cfg {
    bool quick;
    uint64_t seed;
    const char *json;
    const char *compare_dir;
    const char *part; /* NULL: everything; "networks" or "workload" */
    size_t cmp_prefixes, cmp_queries, cmp_first, cmp_scan;
} cfg;

/* ---- helpers ----------------------------------------------------------------
 */

struct rp_policy *
bench_compile(const char *path, double *seconds)
{
    rp_policy *p = NULL;
    rp_error err;
    double t0 = bench_now();
    rp_status st = rp_policy_compile_file(path, NULL, &p, &err);

    *seconds = bench_now() - t0;
    if (st != RP_OK) {
        fprintf(stderr, "rp_bench: %s: %s: %s\n", path, rp_status_name(st),
                err.message);
        exit(1);
    }
    return p;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double
bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return v[n / 2];
}

static _Noreturn void
die(const char *what)
{
    fprintf(stderr, "rp_bench: %s\n", what);
    exit(1);
}

/* A network-only policy: a gateway listener and one deny client list,
 * given as a named network list (one radix list for every entry). */
static rp_policy *
net_policy(const bench_tmp *tmp,
           const char *name,
           const bench_pfx *v,
           size_t n,
           double *secs)
{
    char list[512], conf[512], file[600];
    FILE *f;

    snprintf(file, sizeof(file), "%s.txt", name);
    bench_tmp_path(tmp, file, list, sizeof(list));
    snprintf(file, sizeof(file), "%s.conf", name);
    bench_tmp_path(tmp, file, conf, sizeof(conf));
    if (bench_write_prefixes(list, v, n, NULL) != 0)
        die("cannot write the prefix list");
    f = fopen(conf, "w");
    if (f == NULL)
        die("cannot write the policy file");
    fprintf(f,
            "listener mx {\n    bind *:25\n    role gateway\n}\n"
            "network blocked \"%s\"\ndeny client blocked\n",
            list);
    if (fclose(f) != 0)
        die("cannot write the policy file");
    return bench_compile(conf, secs);
}

/* ---- lookups
 * ------------------------------------------------------------------ */

/* Nanoseconds per IPv4 lookup, best of @p reps passes over @p q. */
static double
time_v4(const rp__radix *r, const uint32_t *q, size_t nq, int reps, bool chain)
{
    double best = 1e30;

    for (int k = 0; k < reps; k++) {
        uint64_t acc = 0;
        uint32_t z = zero, dep = 0;
        double t0 = bench_now();
        if (chain) {
            for (size_t i = 0; i < nq; i++) {
                const uint8_t *m = rp__radix_lookup4(r, q[i] ^ dep);
                dep = m[0] & z;
                acc += m[0];
            }
        } else {
            for (size_t i = 0; i < nq; i++)
                acc += rp__radix_lookup4(r, q[i])[0];
        }
        double t = bench_now() - t0;
        sink += acc;
        if (t < best)
            best = t;
    }
    return best * 1e9 / (double)nq;
}

static double
time_v6(const rp__radix *r, const uint8_t *q, size_t nq, int reps, bool chain)
{
    double best = 1e30;

    for (int k = 0; k < reps; k++) {
        uint64_t acc = 0;
        uint32_t z = zero;
        uint8_t key[16], dep = 0;
        double t0 = bench_now();
        for (size_t i = 0; i < nq; i++) {
            const uint8_t *m;
            if (chain) {
                memcpy(key, q + 16 * i, 16);
                key[15] ^= dep;
                m = rp__radix_lookup(r, key);
                dep = (uint8_t)(m[0] & z);
            } else {
                m = rp__radix_lookup(r, q + 16 * i);
            }
            acc += m[0];
        }
        double t = bench_now() - t0;
        sink += acc;
        if (t < best)
            best = t;
    }
    return best * 1e9 / (double)nq;
}

/* Queries per batch call in the bulk figures. */
#define BULK 64

/* Nanoseconds per IPv4 lookup through the batch call, best of @p reps. */
static double
time_v4_bulk(const rp__radix *r, const uint32_t *q, size_t nq, int reps)
{
    double best = 1e30;
    const uint8_t *out[BULK];

    for (int k = 0; k < reps; k++) {
        uint64_t acc = 0;
        double t0 = bench_now();
        for (size_t i = 0; i < nq; i += BULK) {
            size_t n = nq - i < BULK ? nq - i : BULK;
            rp__radix_lookup4_batch(r, q + i, n, out);
            for (size_t j = 0; j < n; j++)
                acc += out[j][0];
        }
        double t = bench_now() - t0;
        sink += acc;
        if (t < best)
            best = t;
    }
    return best * 1e9 / (double)nq;
}

static double
time_v6_bulk(const rp__radix *r, const uint8_t *q, size_t nq, int reps)
{
    double best = 1e30;
    const uint8_t *keys[BULK], *out[BULK];

    for (int k = 0; k < reps; k++) {
        uint64_t acc = 0;
        double t0 = bench_now();
        for (size_t i = 0; i < nq; i += BULK) {
            size_t n = nq - i < BULK ? nq - i : BULK;
            for (size_t j = 0; j < n; j++)
                keys[j] = q + 16 * (i + j);
            rp__radix_lookup_batch(r, keys, n, out);
            for (size_t j = 0; j < n; j++)
                acc += out[j][0];
        }
        double t = bench_now() - t0;
        sink += acc;
        if (t < best)
            best = t;
    }
    return best * 1e9 / (double)nq;
}

typedef struct net_result {
    double build_s, bytes, rss_bytes, ns_rand, ns_chain, ns_bulk;
    double hit_share;
} net_result;

static void
net_v4(
    const bench_tmp *tmp, uint64_t seed, size_t n, size_t nq, net_result *out)
{
    bench_pfx *v = bench_gen_v4(seed, n);
    uint32_t *q = malloc(nq * sizeof(*q));
    bench_rng r;
    size_t rss0, hits = 0;
    rp_policy *p;

    if (v == NULL || q == NULL)
        die("out of memory");
    bench_rng_seed(&r, seed ^ 0x44);
    for (size_t i = 0; i < nq; i++)
        q[i] = bench_query_v4(&r, v, n);
    rss0 = bench_rss();
    p = net_policy(tmp, "v4", v, n, &out->build_s);
    out->rss_bytes = (double)bench_rss() - (double)rss0;
    out->bytes = (double)rp__radix_memory(p->radix);
    for (size_t i = 0; i < nq; i++)
        hits += rp__radix_lookup4(p->radix, q[i])[p->deny_client_lists[0]] !=
                RP__NOMATCH;
    out->hit_share = (double)hits / (double)nq;
    out->ns_rand = time_v4(p->radix, q, nq, 3, false);
    out->ns_bulk = time_v4_bulk(p->radix, q, nq, 3);
    out->ns_chain = time_v4(p->radix, q, nq, 3, true);
    rp_policy_free(p);
    free(q);
    free(v);
}

static void
net_v6(
    const bench_tmp *tmp, uint64_t seed, size_t n, size_t nq, net_result *out)
{
    bench_pfx *v = bench_gen_v6(seed, n);
    uint8_t *q = malloc(nq * 16);
    bench_rng r;
    size_t rss0, hits = 0;
    rp_policy *p;

    if (v == NULL || q == NULL)
        die("out of memory");
    bench_rng_seed(&r, seed ^ 0x66);
    for (size_t i = 0; i < nq; i++)
        bench_query_v6(&r, v, n, q + 16 * i);
    rss0 = bench_rss();
    p = net_policy(tmp, "v6", v, n, &out->build_s);
    out->rss_bytes = (double)bench_rss() - (double)rss0;
    out->bytes = (double)rp__radix_memory(p->radix);
    for (size_t i = 0; i < nq; i++)
        hits +=
            rp__radix_lookup(p->radix, q + 16 * i)[p->deny_client_lists[0]] !=
            RP__NOMATCH;
    out->hit_share = (double)hits / (double)nq;
    out->ns_rand = time_v6(p->radix, q, nq, 3, false);
    out->ns_bulk = time_v6_bulk(p->radix, q, nq, 3);
    out->ns_chain = time_v6(p->radix, q, nq, 3, true);
    rp_policy_free(p);
    free(q);
    free(v);
}

/* Report one family at one size; goals apply at 1M prefixes. */
static void
report_net(int family, size_t n, const net_result *r, bool goals)
{
    char key[48], label[64], sz[16];
    bool g = goals && n == 1000000;
    bench_goal min = g ? GOAL_MIN : GOAL_NONE, max = g ? GOAL_MAX : GOAL_NONE;
    double per = (double)n;

    if (n >= 1000000)
        snprintf(sz, sizeof(sz), "%zuM", n / 1000000);
    else
        snprintf(sz, sizeof(sz), "%zuk", n / 1000);
#define KEY(s) (snprintf(key, sizeof(key), "v%d_%s_%s", family, s, sz), key)
#define LBL(...) (snprintf(label, sizeof(label), __VA_ARGS__), label)
    bench_report(KEY("build_s"),
                 LBL("IPv%d %s prefixes: build from text", family, sz),
                 r->build_s, "s", family == 4 ? max : GOAL_NONE, 1.0);
    bench_report(KEY("bytes_per_prefix"),
                 LBL("IPv%d %s: radix bytes/prefix", family, sz),
                 r->bytes / per, "B", max, family == 4 ? 8 : 24);
    bench_report(KEY("rss_per_prefix"),
                 LBL("IPv%d %s: RSS bytes/prefix, all "
                     "in",
                     family, sz),
                 r->rss_bytes / per, "B", max, 48);
    bench_report(KEY("lookups_per_s"),
                 LBL("IPv%d %s: lookups/s, random", family, sz),
                 1e9 / r->ns_rand, "/s", min, family == 4 ? 50e6 : 20e6);
    bench_report(KEY("bulk_per_s"),
                 LBL("IPv%d %s: lookups/s, batches of %d", family, sz, BULK),
                 1e9 / r->ns_bulk, "/s", min, family == 4 ? 100e6 : 20e6);
    bench_report(KEY("bulk_over_random"),
                 LBL("IPv%d %s: batch speed-up", family, sz),
                 r->ns_rand / r->ns_bulk, "x", GOAL_NONE, 0);
    bench_report(KEY("ns_random"),
                 LBL("IPv%d %s: ns/lookup, random", family, sz), r->ns_rand,
                 "ns", GOAL_NONE, 0);
    bench_report(KEY("ns_chain"),
                 LBL("IPv%d %s: ns/lookup, dependent chain", family, sz),
                 r->ns_chain, "ns", family == 4 ? max : GOAL_NONE, 40);
    bench_report(KEY("hit_share"),
                 LBL("IPv%d %s: share of queries matched", family, sz),
                 r->hit_share, "", GOAL_NONE, 0);
#undef KEY
#undef LBL
}

static void
networks(const bench_tmp *tmp, const cfg *c)
{
    static const size_t full[] = {1000, 100000, 1000000};
    static const size_t quick[] = {1000, 10000};
    const size_t *sizes = c->quick ? quick : full;
    size_t n_sizes = c->quick ? 2 : 3, nq = c->quick ? 1u << 16 : 1u << 21;
    net_result first[2], last[2];

    for (int fam = 0; fam < 2; fam++) {
        for (size_t i = 0; i < n_sizes; i++) {
            net_result r;
            if (fam == 0)
                net_v4(tmp, c->seed, sizes[i], nq, &r);
            else
                net_v6(tmp, c->seed, sizes[i], nq, &r);
            report_net(fam == 0 ? 4 : 6, sizes[i], &r, !c->quick);
            if (i == 0)
                first[fam] = r;
            last[fam] = r;
            fprintf(stderr, "  networks: IPv%d %zu done\n", fam ? 6 : 4,
                    sizes[i]);
        }
    }
    bench_report("v4_scaling_random", "IPv4 scaling: ns random, largest/1k",
                 last[0].ns_rand / first[0].ns_rand, "x",
                 c->quick ? GOAL_NONE : GOAL_MAX, 2);
    bench_report("v4_scaling_chain", "IPv4 scaling: ns chain, largest/1k",
                 last[0].ns_chain / first[0].ns_chain, "x",
                 c->quick ? GOAL_NONE : GOAL_MAX, 2);
    bench_report("v6_scaling_random", "IPv6 scaling: ns random, largest/1k",
                 last[1].ns_rand / first[1].ns_rand, "x", GOAL_NONE, 2);
}

/* ---- comparison data
 * ------------------------------------------------------------ */

static uint32_t *
read_v4_queries(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    char line[64];
    size_t cap = 1024;
    uint32_t *q = malloc(cap * sizeof(*q));
    rp__ip ip;

    *n = 0;
    if (f == NULL || q == NULL)
        die("cannot read the queries");
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t len = strcspn(line, "\r\n");
        if (rp__ip_parse(line, len, &ip) != 0 || ip.family != 4)
            continue;
        if (*n == cap && (q = realloc(q, (cap *= 2) * sizeof(*q))) == NULL)
            die("out of memory");
        q[(*n)++] = (uint32_t)ip.b[12] << 24 | (uint32_t)ip.b[13] << 16 |
                    (uint32_t)ip.b[14] << 8 | ip.b[15];
    }
    fclose(f);
    return q;
}

/* Lookups per second over @p q, repeated to last about 0.3 s. */
static double
rate_v4(const rp__radix *r, const uint32_t *q, size_t n)
{
    size_t rounds = 1 + 3000000 / n;
    double t0 = bench_now();
    uint64_t acc = 0;

    for (size_t k = 0; k < rounds; k++)
        for (size_t i = 0; i < n; i++)
            acc += rp__radix_lookup4(r, q[i])[0];
    sink += acc;
    return (double)(rounds * n) / (bench_now() - t0);
}

/* Text parse plus lookup, as a server holding the client IP as text. */
static double
rate_v4_text(const rp__radix *r, char (*text)[16], size_t n)
{
    size_t rounds = 1 + 1000000 / n;
    double t0 = bench_now();
    uint64_t acc = 0;
    rp__ip ip;

    for (size_t k = 0; k < rounds; k++)
        for (size_t i = 0; i < n; i++)
            if (rp__ip_parse(text[i], strlen(text[i]), &ip) == 0)
                acc += rp__radix_lookup(r, ip.b)[0];
    sink += acc;
    return (double)(rounds * n) / (bench_now() - t0);
}

static void
write_queries(const char *path, const uint32_t *q, size_t n)
{
    FILE *f = fopen(path, "w");
    char t[16];

    if (f == NULL)
        die("cannot write the queries");
    for (size_t i = 0; i < n; i++) {
        bench_v4_text(q[i], t, sizeof(t));
        fprintf(f, "%s\n", t);
    }
    if (fclose(f) != 0)
        die("cannot write the queries");
}

/* Write DIR/prefixes.txt, DIR/postfix.cidr, DIR/queries.txt (all) and
 * DIR/queries_first.txt (the first cmp_first), then time this library. */
static int
compare(const cfg *c)
{
    char pfx[512], cidr[512], qall[512], qfirst[512], conf[512];
    bench_pfx *v = bench_gen_v4(c->seed, c->cmp_prefixes);
    uint32_t *q = malloc(c->cmp_queries * sizeof(*q));
    char(*text)[16] = malloc(c->cmp_first * sizeof(*text));
    size_t nf = c->cmp_first, matched = 0, scanned = 0, nq;
    bench_rng r;
    rp_policy *p;
    double build;
    FILE *f;

    if (v == NULL || q == NULL || text == NULL || nf > c->cmp_queries)
        die("bad --compare sizes or out of memory");
    snprintf(pfx, sizeof(pfx), "%s/prefixes.txt", c->compare_dir);
    snprintf(cidr, sizeof(cidr), "%s/postfix.cidr", c->compare_dir);
    snprintf(qall, sizeof(qall), "%s/queries.txt", c->compare_dir);
    snprintf(qfirst, sizeof(qfirst), "%s/queries_first.txt", c->compare_dir);
    snprintf(conf, sizeof(conf), "%s/policy.conf", c->compare_dir);
    bench_rng_seed(&r, c->seed ^ 0xc0);
    for (size_t i = 0; i < c->cmp_queries; i++)
        q[i] = bench_query_v4(&r, v, c->cmp_prefixes);
    if (bench_write_prefixes(pfx, v, c->cmp_prefixes, NULL) != 0 ||
        bench_write_prefixes(cidr, v, c->cmp_prefixes, "\tREJECT") != 0)
        die("cannot write the comparison files");
    f = fopen(conf, "w");
    if (f == NULL)
        die("cannot write the comparison policy");
    write_queries(qall, q, c->cmp_queries);
    write_queries(qfirst, q, nf);
    fprintf(f,
            "listener mx {\n    bind *:25\n    role gateway\n}\n"
            "network blocked \"%s\"\ndeny client blocked\n",
            pfx);
    if (fclose(f) != 0)
        die("cannot write the comparison policy");
    free(q);
    /* Time on the queries as read back from the files. */
    q = read_v4_queries(qall, &nq);
    p = bench_compile(conf, &build);
    for (size_t i = 0; i < nf; i++) {
        bench_v4_text(q[i], text[i], sizeof(text[i]));
        bool hit = rp__radix_lookup4(p->radix, q[i])[p->deny_client_lists[0]] !=
                   RP__NOMATCH;
        matched += hit;
        scanned += hit && i < c->cmp_scan;
    }
    printf("rp_build_s=%.3f\n", build);
    printf("rp_first_matched=%zu\n", matched);
    printf("rp_scan_matched=%zu\n", scanned);
    printf("rp_first_lps=%.0f\n", rate_v4(p->radix, q, nf));
    printf("rp_all_lps=%.0f\n", rate_v4(p->radix, q, nq));
    printf("rp_text_lps=%.0f\n", rate_v4_text(p->radix, text, nf));
    rp_policy_free(p);
    free(text);
    free(q);
    free(v);
    return 0;
}

static void
remove_scratch(void)
{
    if (scratch_dir != NULL)
        bench_tmp_close(scratch_dir);
}

/* ---- main
 * ------------------------------------------------------------------------ */

static size_t
size_arg(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);

    if (end == s || *end != '\0' || v == 0)
        die("expected a positive number");
    return (size_t)v;
}

static void
parse_args(int argc, char **argv, cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->seed = 20261123;
    c->cmp_prefixes = 100000;
    c->cmp_queries = 200000;
    c->cmp_first = 2000;
    c->cmp_scan = 500;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0) {
            c->quick = true;
            continue;
        }
        if (next == NULL)
            die("usage: rp_bench [--quick] [--seed N] [--json FILE] "
                "[--only networks|workload] "
                "[--compare DIR [--prefixes N] [--queries N] [--first N] "
                "[--scan N]]");
        i++;
        if (strcmp(a, "--seed") == 0)
            c->seed = size_arg(next);
        else if (strcmp(a, "--json") == 0)
            c->json = next;
        else if (strcmp(a, "--only") == 0)
            c->part = next;
        else if (strcmp(a, "--compare") == 0)
            c->compare_dir = next;
        else if (strcmp(a, "--prefixes") == 0)
            c->cmp_prefixes = size_arg(next);
        else if (strcmp(a, "--queries") == 0)
            c->cmp_queries = size_arg(next);
        else if (strcmp(a, "--first") == 0)
            c->cmp_first = size_arg(next);
        else if (strcmp(a, "--scan") == 0)
            c->cmp_scan = size_arg(next);
        else
            die("unknown option");
    }
}

int
main(int argc, char **argv)
{
    static const bench_sizes quick = {10000, 10000, 10000, 10,
                                      100,   4096,  0.05,  4096};
    static const bench_sizes full = {1000000, 100000, 1000000, 100,
                                     1000,    65536,  0.5,     100000};
    bench_tmp tmp;
    cfg c;
    double t0 = bench_now();
    int rc = 0;

    parse_args(argc, argv, &c);
    if (c.compare_dir != NULL)
        return compare(&c);
    if (bench_tmp_open(&tmp) != 0)
        die("cannot make a scratch directory");
    scratch_dir = &tmp;
    atexit(remove_scratch);
    printf("relaypolicy benchmark (%s mode, seed %llu)\n",
           c.quick ? "quick" : "full", (unsigned long long)c.seed);
    printf("machine: %s, %ld CPUs\n", bench_cpu_model(), bench_ncpu());
    fflush(stdout);
    if (c.part == NULL || strcmp(c.part, "networks") == 0)
        networks(&tmp, &c);
    if (c.part == NULL || strcmp(c.part, "workload") == 0)
        rc = bench_workload(&tmp, c.seed, c.quick ? &quick : &full, !c.quick);
    bench_tmp_close(&tmp);
    scratch_dir = NULL;
    bench_print_table(stdout);
    printf("total %.1f s\n", bench_now() - t0);
    if (c.json != NULL && bench_write_json(c.json, c.quick ? "quick" : "full",
                                           c.seed, bench_now() - t0) != 0)
        die("cannot write the JSON file");
    return rc;
}
