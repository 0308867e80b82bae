/*
 * bench.h - shared pieces of the relaypolicy benchmark: a seeded random
 * generator, synthetic policy data, timing and the result table.
 *
 * Everything the benchmark builds is a pure function of the seed, so two
 * runs with the same seed compile the same policies and ask the same
 * questions.
 */
#ifndef RP_BENCH_H
#define RP_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "relaypolicy.h"

/* ---- random numbers (xoshiro256**, seeded through splitmix64) ---------- */

typedef struct bench_rng {
    uint64_t s[4];
} bench_rng;

void bench_rng_seed(bench_rng *r, uint64_t seed);
uint64_t bench_rng_next(bench_rng *r);
/* Uniform in [0, n); n must be non-zero. */
uint32_t bench_rng_below(bench_rng *r, uint32_t n);
/* A stateless 64-bit mix, for names that are a function of an index. */
uint64_t bench_mix(uint64_t x);

/* ---- timing and memory -------------------------------------------------- */

double bench_now(void);      /* seconds, CLOCK_MONOTONIC */
uint64_t bench_now_ns(void); /* nanoseconds, CLOCK_MONOTONIC */
/* Resident set size in bytes, after giving free heap back to the system. */
size_t bench_rss(void);

/* ---- synthetic data ------------------------------------------------------ */

/* A prefix: IPv4 in the top 32 bits of hi (family 4) or a full 128-bit
 * IPv6 key (family 6); plen in the family's own terms (0..32, 0..128). */
typedef struct bench_pfx {
    uint64_t hi;
    uint64_t lo;
    uint8_t plen;
    uint8_t family;
} bench_pfx;

/* @p n distinct prefixes with a BGP-like length mix and about 40% /32
 * hosts (IPv4), or /32../64 networks and /128 hosts (IPv6).  The caller
 * frees the array. */
bench_pfx *bench_gen_v4(uint64_t seed, size_t n);
bench_pfx *bench_gen_v6(uint64_t seed, size_t n);
/* A set of prefixes: does any of them contain an address?  @p key is the
 * IPv6 address (family 6), @p v4 the IPv4 one (family 4). */
typedef struct bench_set bench_set;
bench_set *bench_set_of(const bench_pfx *v, size_t n);
bool bench_set_covers(const bench_set *s,
                      int family,
                      const uint8_t key[16],
                      uint32_t v4);
void bench_set_free(bench_set *s);
/* A random address: half of them inside a random prefix of @p v, half
 * uniform over the family's unicast space. */
uint32_t bench_inside_v4(bench_rng *r, const bench_pfx *p);
void bench_inside_v6(bench_rng *r, const bench_pfx *p, uint8_t out[16]);
uint32_t bench_query_v4(bench_rng *r, const bench_pfx *v, size_t n);
void
bench_query_v6(bench_rng *r, const bench_pfx *v, size_t n, uint8_t out[16]);
/* The text of a prefix ("192.0.2.0/24", "2001:db8::/32", hosts bare). */
size_t bench_pfx_text(const bench_pfx *p, char *buf, size_t size);
void bench_v4_text(uint32_t a, char *buf, size_t size);
void bench_v6_text(const uint8_t a[16], char *buf, size_t size);
/* Write one prefix per line (with @p suffix appended when not NULL). */
int bench_write_prefixes(const char *path,
                         const bench_pfx *v,
                         size_t n,
                         const char *suffix);

/* Names that depend only on (seed, indices): domain i of the hosted set,
 * an external domain, local part j of domain i, a regex rule k. */
size_t bench_domain(uint64_t seed, size_t i, char *buf, size_t size);
size_t bench_external_domain(uint64_t h, char *buf, size_t size);
size_t
bench_local_part(uint64_t seed, size_t i, size_t j, char *buf, size_t size);
size_t
bench_regex(uint64_t seed, size_t k, bool sender, char *buf, size_t size);

/* ---- scratch directory --------------------------------------------------- */

/* A private directory made with mkdtemp; bench_tmp_path joins a name. */
typedef struct bench_tmp {
    char dir[256];
} bench_tmp;

int bench_tmp_open(bench_tmp *t);
void
bench_tmp_path(const bench_tmp *t, const char *name, char *buf, size_t size);
/* Remove every file made in the directory, then the directory. */
void bench_tmp_close(bench_tmp *t);

/* ---- results ------------------------------------------------------------- */

typedef enum bench_goal {
    GOAL_NONE = 0, /* informational */
    GOAL_MIN = 1,  /* value must be at least the target */
    GOAL_MAX = 2   /* value must be at most the target */
} bench_goal;

/* Record one figure.  @p key is the JSON name, @p label the table text. */
void bench_report(const char *key,
                  const char *label,
                  double value,
                  const char *unit,
                  bench_goal goal,
                  double target);
void bench_print_table(FILE *out);
int bench_write_json(const char *path,
                     const char *mode,
                     uint64_t seed,
                     double total_seconds);
/* Machine facts for the labels. */
const char *bench_cpu_model(void);
long bench_ncpu(void);

/* ---- workloads (workload.c) ---------------------------------------------- */

/* Sizes of the decision workload. */
typedef struct bench_sizes {
    size_t networks;   /* entries in each of the allow and deny lists */
    size_t domains;    /* hosted domains */
    size_t recipients; /* known recipients, over the first domains */
    size_t rdomains;   /* domains that carry recipient lists */
    size_t regex;      /* regex deny rules (half sender, half recipient) */
    size_t pool;       /* distinct queries */
    double min_time;   /* seconds each throughput run lasts at least */
    size_t latency_n;  /* decisions timed one by one */
} bench_sizes;

/* The exposure analysis next to the compile of policy @p conf
 * (exposure.c); figures are keyed "<tag>_...". */
void bench_exposure(const char *conf, const char *tag, const char *what);

/* Domain lookups, address parses and full decisions. */
int bench_workload(const bench_tmp *tmp,
                   uint64_t seed,
                   const bench_sizes *sz,
                   bool goals);

/* Compile a policy file, timing it; exits with a message on failure. */
struct rp_policy *bench_compile(const char *path, double *seconds);
/* The compiled policy file of @p p (pfile.c): save and open times, file
 * pages and heap of two processes that open it, and decisions on it next
 * to @p p over @p pool; figures keyed "<tag>_file_...". */
void bench_pfile(const bench_tmp *tmp,
                 const struct rp_policy *p,
                 const rp_query *pool,
                 size_t n,
                 double min_time,
                 const char *tag,
                 const char *what,
                 bool goals);
/* Median of @p n doubles (sorts them). */
double bench_median(double *v, size_t n);

#endif /* RP_BENCH_H */
