/*
 * test_threads.c - one policy shared by many deciding threads, and a
 * reload loop swapping policies under readers deciding at full speed.
 *
 * The reload scheme is the one the header recommends: the current policy
 * pointer is guarded by a mutex, a reader takes rp_policy_ref() under the
 * mutex and decides outside it, and the reloader swaps in a freshly
 * compiled policy and drops the old reference outside the lock.  The
 * tests/tsan.cmake ctest runs this file under ThreadSanitizer, built with
 * RP_STANDALONE_TEST against tests/standalone.h instead of Criterion.
 */
#include "rp_internal.h"

#ifdef RP_STANDALONE_TEST
#include "standalone.h"
#else
#include <criterion/criterion.h>
#endif

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define READERS 4

/* Two policies that answer the same questions recognisably differently:
 * other domains, other replies, other rules. */
#define COMMON                                                                 \
    "domain local.example local recipients alice bob postmaster\n"            \
    "domain .corp.example local\n"                                            \
    "domain relay.example relay\n"                                            \
    "domain /^mx[0-9]+\\.partner\\.example$/ relay\n"                         \
    "domain old.example reroute local.example\n"                              \
    "network office 10.0.0.0/8\n"                                             \
    "group admins root\n"                                                     \
    "self 192.0.2.1\n"                                                        \
    "deny client 198.51.100.0/24\n"                                           \
    "deny sender /@spam\\.example$/\n"                                        \
    "deny recipient trap@local.example\n"                                     \
    "sender-login alice alice@local.example\n"                                \
    "listener submission {\n  bind *:587\n  role submission\n}\n"

static const char policy_a[] =
    COMMON
    "domain a-only.example local\n"
    "domain fwd.example reroute a-target.example\n"
    "listener mx {\n  bind 0.0.0.0:25 [::]:25\n  role gateway\n"
    "  allow network office relay\n}\n"
    "reply relay-denied 554 5.7.1 \"Policy A: relaying denied\"\n"
    "reply unknown-user 550 5.1.1 \"Policy A: no such user\"\n";

static const char policy_b[] =
    COMMON
    "domain b-only.example local\n"
    "domain fwd.example reroute b-target.example\n"
    "listener mx {\n  bind 0.0.0.0:25 [::]:25\n  role gateway\n"
    "  allow group admins relay\n  deny network 10.9.0.0/16 submit\n}\n"
    "soft-fail\n"
    "reply relay-denied 550 5.7.1 \"Policy B: relaying denied\"\n";

/* ---- the query set ----------------------------------------------------- */

static const char *const clients[] = {"203.0.113.9", "10.1.2.3", "10.9.1.1",
                                      "198.51.100.7", "2001:db8::9"};
static const uint32_t ports[] = {25, 587, 2525};
static const char *const users[] = {NULL, "alice", "root"};
static const char *const senders[] = {"", "alice@local.example",
                                      "x@spam.example", "bob@outside.example"};
static const char *const recipients[] = {
    "alice@local.example", "nobody@local.example", "x@a-only.example",
    "x@b-only.example", "x@elsewhere.example", "x@relay.example",
    "x@mx3.partner.example", "x@fwd.example", "x@old.example",
    "trap@local.example", "u%elsewhere.example@local.example",
    "postmaster", "x@[192.0.2.1]", "bad@@syntax", "x@a.corp.example"};

#define N_QUERIES                                                              \
    (5 * 3 * 3 * 4 * (sizeof(recipients) / sizeof(recipients[0])))

/* Query number @p i of the set; the strings are static. */
static rp_query
query(size_t i)
{
    rp_query q;
    size_t n_r = sizeof(recipients) / sizeof(recipients[0]);

    memset(&q, 0, sizeof(q));
    q.recipient = recipients[i % n_r];
    q.recipient_len = RP_NTS;
    i /= n_r;
    q.sender = senders[i % 4];
    q.sender_len = RP_NTS;
    i /= 4;
    q.user = users[i % 3];
    q.user_len = RP_NTS;
    i /= 3;
    q.local_port = ports[i % 3];
    i /= 3;
    q.client_ip = clients[i % 5];
    q.client_ip_len = RP_NTS;
    q.local_ip = strchr(q.client_ip, ':') != NULL ? "2001:db8::25"
                                                  : "192.0.2.1";
    q.local_ip_len = RP_NTS;
    q.flags = (i % 2) ? RP_QUERY_EXPLAIN : 0;
    return q;
}

/* Everything a decision says that does not point into the policy. */
typedef struct outcome {
    rp_verdict verdict;
    rp_reason reason;
    rp_step step;
    uint32_t code;
    int32_t listener_index, rule, prefix_len;
    uint32_t rule_line, permissions;
    char enhanced[16];
    char reply[RP_REPLY_MAX];
    char destination[RP_ADDR_MAX];
    char rewritten[RP_ADDR_MAX];
    char explanation[RP_EXPLAIN_MAX];
} outcome;

/* Decide query @p i; returns false if rp_decide() failed. */
static bool
decide(const rp_policy *p, size_t i, outcome *o)
{
    rp_query q = query(i);
    rp_decision d;

    memset(o, 0, sizeof(*o));
    if (rp_decide(p, &q, &d) != RP_OK)
        return false;
    o->verdict = d.verdict;
    o->reason = d.reason;
    o->step = d.step;
    o->code = d.code;
    o->listener_index = d.listener_index;
    o->rule = d.rule;
    o->prefix_len = d.prefix_len;
    o->rule_line = d.rule_line;
    o->permissions = d.permissions;
    memcpy(o->enhanced, d.enhanced, sizeof(o->enhanced));
    memcpy(o->reply, d.reply, sizeof(o->reply));
    memcpy(o->destination, d.destination, sizeof(o->destination));
    memcpy(o->rewritten, d.rewritten, sizeof(o->rewritten));
    memcpy(o->explanation, d.explanation, sizeof(o->explanation));
    return true;
}

static bool
same(const outcome *a, const outcome *b)
{
    return a->verdict == b->verdict && a->reason == b->reason &&
           a->step == b->step && a->code == b->code &&
           a->listener_index == b->listener_index && a->rule == b->rule &&
           a->prefix_len == b->prefix_len && a->rule_line == b->rule_line &&
           a->permissions == b->permissions &&
           strcmp(a->enhanced, b->enhanced) == 0 &&
           strcmp(a->reply, b->reply) == 0 &&
           strcmp(a->destination, b->destination) == 0 &&
           strcmp(a->rewritten, b->rewritten) == 0 &&
           strcmp(a->explanation, b->explanation) == 0;
}

/* ---- a thread-safe counting allocator --------------------------------- */

typedef struct counts {
    atomic_size_t allocs, frees;
} counts;

static void *
c_malloc(size_t size, void *ctx)
{
    counts *c = ctx;
    void *p = malloc(size);

    if (p != NULL)
        atomic_fetch_add(&c->allocs, 1);
    return p;
}

static void *
c_realloc(void *ptr, size_t size, void *ctx)
{
    counts *c = ctx;
    void *p = realloc(ptr, size);

    if (p != NULL && ptr == NULL)
        atomic_fetch_add(&c->allocs, 1);
    return p;
}

static void
c_free(void *ptr, void *ctx)
{
    counts *c = ctx;

    if (ptr != NULL)
        atomic_fetch_add(&c->frees, 1);
    free(ptr);
}

static rp_policy *
compile(const char *text, const rp_allocator *a)
{
    rp_options o;
    rp_policy *p = NULL;
    rp_error err;

    rp_options_init(&o);
    o.allocator = a;
    cr_assert_eq(rp_policy_compile(text, RP_NTS, &o, &p, &err), RP_OK,
                 "%s", err.message);
    return p;
}

/* The single-threaded answers of @p p to the whole query set. */
static outcome *
reference(const rp_policy *p)
{
    outcome *v = calloc(N_QUERIES, sizeof(*v));

    cr_assert_not_null(v);
    for (size_t i = 0; i < N_QUERIES; i++)
        cr_assert(decide(p, i, &v[i]), "query %zu failed", i);
    return v;
}

/* ---- many threads, one policy ------------------------------------------ */

typedef struct shared_run {
    const rp_policy *p;
    const outcome *want;
    size_t first;      /* each thread starts at another query */
    size_t mismatches; /* written by its thread only */
    size_t done;
} shared_run;

static void *
shared_reader(void *arg)
{
    shared_run *r = arg;
    outcome got;

    for (size_t k = 0; k < 3 * N_QUERIES; k++) {
        size_t i = (r->first + k * 7) % N_QUERIES;
        if (!decide(r->p, i, &got) || !same(&got, &r->want[i]))
            r->mismatches++;
        r->done++;
    }
    return NULL;
}

Test(threads, shared_policy_equals_single_thread)
{
    rp_policy *p = compile(policy_a, NULL);
    outcome *want = reference(p);
    pthread_t t[READERS];
    shared_run runs[READERS];

    /* The reference itself is stable and recognisably policy A. */
    cr_assert(strstr(want[4].reply, "Policy A") != NULL ||
                  strstr(want[4 + 15].reply, "Policy A") != NULL,
              "query set does not reach the relay-denied reply");
    for (int i = 0; i < READERS; i++) {
        runs[i] = (shared_run){p, want, (size_t)i * 97, 0, 0};
        cr_assert_eq(pthread_create(&t[i], NULL, shared_reader, &runs[i]),
                     0);
    }
    for (int i = 0; i < READERS; i++) {
        pthread_join(t[i], NULL);
        cr_expect_eq(runs[i].mismatches, 0u, "thread %d: %zu mismatches", i,
                     runs[i].mismatches);
        cr_expect_eq(runs[i].done, 3 * N_QUERIES);
    }
    free(want);
    rp_policy_free(p);
}

/* ---- reload under load -------------------------------------------------- */

typedef struct holder {
    pthread_mutex_t lock;
    rp_policy *current; /* guarded by lock */
    unsigned generation; /* guarded by lock: even A, odd B */
    atomic_bool stop;
} holder;

/* Take a reference to the current policy and learn which one it is. */
static rp_policy *
acquire(holder *h, unsigned *generation)
{
    rp_policy *p;

    pthread_mutex_lock(&h->lock);
    p = rp_policy_ref(h->current);
    *generation = h->generation;
    pthread_mutex_unlock(&h->lock);
    return p;
}

typedef struct reader {
    holder *h;
    const outcome *want[2];
    size_t first;
    size_t decisions, mismatches, seen[2];
    size_t bad_query;
} reader;

static void *
reload_reader(void *arg)
{
    reader *r = arg;
    size_t i = r->first;
    outcome got;

    while (!atomic_load(&r->h->stop)) {
        unsigned gen;
        rp_policy *p = acquire(r->h, &gen);

        /* A short burst on one reference, as a server does per session. */
        for (int k = 0; k < 16; k++, i = (i + 13) % N_QUERIES) {
            if (!decide(p, i, &got) || !same(&got, &r->want[gen & 1][i])) {
                r->mismatches++;
                r->bad_query = i;
            }
            r->decisions++;
        }
        r->seen[gen & 1]++;
        rp_policy_free(p);
    }
    return NULL;
}

static double
now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

Test(threads, reload_under_load, .timeout = 120)
{
    counts c;
    rp_allocator a = {c_malloc, c_realloc, c_free, &c};
    holder h;
    reader r[READERS];
    pthread_t t[READERS];
    rp_policy *pa, *pb;
    outcome *want_a, *want_b;
    size_t reloads = 0, differ = 0;
    double end;

    atomic_init(&c.allocs, 0);
    atomic_init(&c.frees, 0);
    /* Reference answers, from policies outside the counted allocator. */
    pa = compile(policy_a, NULL);
    pb = compile(policy_b, NULL);
    want_a = reference(pa);
    want_b = reference(pb);
    rp_policy_free(pa);
    rp_policy_free(pb);
    for (size_t i = 0; i < N_QUERIES; i++)
        differ += !same(&want_a[i], &want_b[i]);
    cr_assert_gt(differ, N_QUERIES / 4, "the two policies are too alike");

    pthread_mutex_init(&h.lock, NULL);
    h.current = compile(policy_a, &a);
    h.generation = 0;
    atomic_init(&h.stop, false);
    for (int i = 0; i < READERS; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        r[i].h = &h;
        r[i].want[0] = want_a;
        r[i].want[1] = want_b;
        r[i].first = (size_t)i * 131;
        cr_assert_eq(pthread_create(&t[i], NULL, reload_reader, &r[i]), 0);
    }
    end = now() + 2.0;
    while (now() < end) {
        unsigned next = h.generation + 1; /* only this thread writes it */
        rp_policy *fresh = compile(next & 1 ? policy_b : policy_a, &a);
        rp_policy *old;

        pthread_mutex_lock(&h.lock);
        old = h.current;
        h.current = fresh;
        h.generation = next;
        pthread_mutex_unlock(&h.lock);
        rp_policy_free(old); /* readers may still hold it */
        reloads++;
    }
    atomic_store(&h.stop, true);
    for (int i = 0; i < READERS; i++) {
        pthread_join(t[i], NULL);
        cr_expect_eq(r[i].mismatches, 0u,
                     "reader %d: %zu of %zu decisions match neither policy "
                     "(last: query %zu)",
                     i, r[i].mismatches, r[i].decisions, r[i].bad_query);
        cr_expect_gt(r[i].decisions, 0u);
    }
    rp_policy_free(h.current);
    pthread_mutex_destroy(&h.lock);
    cr_expect_gt(reloads, 2u, "only %zu reloads", reloads);
    {
        size_t seen_a = 0, seen_b = 0, decisions = 0;
        for (int i = 0; i < READERS; i++) {
            seen_a += r[i].seen[0], seen_b += r[i].seen[1];
            decisions += r[i].decisions;
        }
        printf("reload_under_load: %zu reloads, %zu decisions by %d "
               "readers\n", reloads, decisions, READERS);
        cr_expect(seen_a > 0 && seen_b > 0, "readers saw A %zu, B %zu times",
                  seen_a, seen_b);
    }
    /* Every policy ever compiled has been freed: back to the baseline. */
    cr_expect_gt(atomic_load(&c.allocs), 0u);
    cr_expect_eq(atomic_load(&c.allocs), atomic_load(&c.frees),
                 "%zu blocks allocated, %zu freed", atomic_load(&c.allocs),
                 atomic_load(&c.frees));
    free(want_a);
    free(want_b);
}

/* References taken and dropped by many threads at once keep the policy
 * alive exactly as long as the last one. */
static void *
ref_churn(void *arg)
{
    rp_policy *p = arg;

    for (int i = 0; i < 20000; i++) {
        rp_policy *q = rp_policy_ref(p);
        outcome o;
        if ((i & 1023) == 0)
            decide(q, (size_t)i % N_QUERIES, &o);
        rp_policy_free(q);
    }
    rp_policy_free(p); /* this thread's own reference */
    return NULL;
}

Test(threads, concurrent_ref_and_free)
{
    counts c;
    rp_allocator a = {c_malloc, c_realloc, c_free, &c};
    pthread_t t[READERS];
    rp_policy *p;

    atomic_init(&c.allocs, 0);
    atomic_init(&c.frees, 0);
    p = compile(policy_b, &a);
    for (int i = 0; i < READERS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, ref_churn,
                                    rp_policy_ref(p)),
                     0);
    rp_policy_free(p);
    for (int i = 0; i < READERS; i++)
        pthread_join(t[i], NULL);
    cr_expect_eq(atomic_load(&c.allocs), atomic_load(&c.frees),
                 "%zu blocks allocated, %zu freed", atomic_load(&c.allocs),
                 atomic_load(&c.frees));
}
