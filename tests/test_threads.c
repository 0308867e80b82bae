/*
 * test_threads.c - one policy shared by many deciding threads, and a
 * reload loop swapping policies under readers deciding at full speed.
 *
 * The reload scheme is the one the header documents: an rp_policy_slot;
 * readers rp_slot_acquire() a policy for a burst of decisions while two
 * reloaders compile fresh policies and rp_slot_swap() them in.  Each thread
 * decides with its own workspace.  The tests/tsan.cmake ctest runs this
 * file under ThreadSanitizer, built with RP_STANDALONE_TEST against
 * tests/standalone.h instead of Criterion.
 */
#include "relaypolicy.h"
#include "vectors.h"

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
    "domain local.example local recipients alice bob postmaster\n"             \
    "domain .corp.example local\n"                                             \
    "domain relay.example relay\n"                                             \
    "domain /^mx[0-9]+\\.partner\\.example$/ relay\n"                          \
    "domain old.example reroute local.example\n"                               \
    "network office 10.0.0.0/8\n"                                              \
    "group admins root\n"                                                      \
    "self 192.0.2.1\n"                                                         \
    "deny client 198.51.100.0/24\n"                                            \
    "deny sender /@spam\\.example$/\n"                                         \
    "deny recipient trap@local.example\n"                                      \
    "sender-login alice alice@local.example\n"                                 \
    "listener submission {\n  bind *:587\n  role submission\n}\n"

static const char policy_a[] =
    COMMON "domain a-only.example local\n"
           "domain fwd.example reroute a-target.example\n"
           "listener mx {\n  bind 0.0.0.0:25 [::]:25\n  role gateway\n"
           "  allow network office relay\n}\n"
           "reply relay-denied 554 5.7.1 \"Policy A: relaying denied\"\n"
           "reply unknown-user 550 5.1.1 \"Policy A: no such user\"\n";

static const char policy_b[] =
    COMMON "domain b-only.example local\n"
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
static const char *const recipients[] = {"alice@local.example",
                                         "nobody@local.example",
                                         "x@a-only.example",
                                         "x@b-only.example",
                                         "x@elsewhere.example",
                                         "x@relay.example",
                                         "x@mx3.partner.example",
                                         "x@fwd.example",
                                         "x@old.example",
                                         "trap@local.example",
                                         "u%elsewhere.example@local.example",
                                         "postmaster",
                                         "x@[192.0.2.1]",
                                         "bad@@syntax",
                                         "x@a.corp.example"};

#define N_QUERIES (5 * 3 * 3 * 4 * (sizeof(recipients) / sizeof(recipients[0])))

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
    q.local_ip =
        strchr(q.client_ip, ':') != NULL ? "2001:db8::25" : "192.0.2.1";
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
    char explanation[RP_EXPLAIN_DEFAULT];
} outcome;

/* This thread's workspace, made on first use; thread_ws_done() frees it. */
static _Thread_local rp_workspace *tl_ws;

static rp_workspace *
thread_ws(void)
{
    if (tl_ws == NULL && rp_workspace_new(NULL, &tl_ws) != RP_OK)
        abort();
    return tl_ws;
}

static void
thread_ws_done(void)
{
    rp_workspace_free(tl_ws);
    tl_ws = NULL;
}

/* Copy a decision string, which lives in the workspace. */
static void
keep(char *out, size_t size, const char *s, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy(out, s, len);
    out[len] = '\0';
}

/* Decide query @p i; returns false if rp_decide() failed. */
static bool
decide(const rp_policy *p, size_t i, outcome *o)
{
    rp_query q = query(i);
    rp_decision d;

    memset(o, 0, sizeof(*o));
    if (rp_decide(p, &q, thread_ws(), &d) != RP_OK)
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
    keep(o->reply, sizeof(o->reply), d.reply, d.reply_len);
    keep(o->destination, sizeof(o->destination), d.destination,
         d.destination_len);
    keep(o->rewritten, sizeof(o->rewritten), d.rewritten, d.rewritten_len);
    keep(o->explanation, sizeof(o->explanation), d.explanation,
         d.explanation_len);
    return !(d.flags & RP_DECISION_TRUNCATED);
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
    cr_assert_eq(rp_policy_compile(text, RP_NTS, &o, &p, &err), RP_OK, "%s",
                 err.message);
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
    thread_ws_done();
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
        cr_assert_eq(pthread_create(&t[i], NULL, shared_reader, &runs[i]), 0);
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

/* ---- reload under load: the slot ------------------------------------- */

static double
now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

#define RELOADERS 2

typedef struct reload_run {
    rp_policy_slot *slot;
    const rp_allocator *alloc;
    const outcome *want[2]; /* A, B */
    atomic_bool stop;
    atomic_size_t reloads;
} reload_run;

typedef struct reader {
    reload_run *run;
    size_t first;
    size_t decisions, mismatches, mixed, seen[2];
    size_t bad_query;
} reader;

/* One burst of decisions on one acquired policy: every answer must be
 * policy A's or policy B's, and all of the burst from the same policy. */
static void
burst(reader *r, const rp_policy *p, size_t *i)
{
    bool a_only = false, b_only = false;
    outcome got;

    for (int k = 0; k < 16; k++, *i = (*i + 13) % N_QUERIES) {
        bool is_a, is_b;

        if (!decide(p, *i, &got)) {
            r->mismatches++;
            continue;
        }
        is_a = same(&got, &r->run->want[0][*i]);
        is_b = same(&got, &r->run->want[1][*i]);
        if (!is_a && !is_b) {
            r->mismatches++;
            r->bad_query = *i;
        }
        a_only |= is_a && !is_b;
        b_only |= is_b && !is_a;
        r->decisions++;
    }
    r->mixed += a_only && b_only;
    if (a_only)
        r->seen[0]++;
    if (b_only)
        r->seen[1]++;
}

static void *
reload_reader(void *arg)
{
    reader *r = arg;
    size_t i = r->first;

    while (!atomic_load(&r->run->stop)) {
        rp_policy *p = rp_slot_acquire(r->run->slot);

        if (p == NULL) {
            r->mismatches++;
            break;
        }
        burst(r, p, &i);
        rp_policy_free(p);
    }
    thread_ws_done();
    return NULL;
}

static void *
reloader(void *arg)
{
    reload_run *run = arg;
    unsigned n = 0;

    while (!atomic_load(&run->stop)) {
        rp_policy *fresh = NULL;
        rp_options o;

        rp_options_init(&o);
        o.allocator = run->alloc;
        if (rp_policy_compile(++n & 1 ? policy_b : policy_a, RP_NTS, &o, &fresh,
                              NULL) != RP_OK ||
            rp_slot_swap(run->slot, fresh) != RP_OK)
            break;
        atomic_fetch_add(&run->reloads, 1);
    }
    return NULL;
}

/* The reference answers of policies A and B; they must differ enough. */
static void
references(outcome **a, outcome **b)
{
    rp_policy *pa = compile(policy_a, NULL), *pb = compile(policy_b, NULL);
    size_t differ = 0;

    *a = reference(pa);
    *b = reference(pb);
    rp_policy_free(pa);
    rp_policy_free(pb);
    for (size_t i = 0; i < N_QUERIES; i++)
        differ += !same(&(*a)[i], &(*b)[i]);
    cr_assert_gt(differ, N_QUERIES / 4, "the two policies are too alike");
}

static void
check_readers(const reader *r, const reload_run *run)
{
    size_t seen_a = 0, seen_b = 0, decisions = 0;

    for (int i = 0; i < READERS; i++) {
        cr_expect_eq(r[i].mismatches, 0u,
                     "reader %d: %zu of %zu decisions match neither policy "
                     "(last: query %zu)",
                     i, r[i].mismatches, r[i].decisions, r[i].bad_query);
        cr_expect_eq(r[i].mixed, 0u, "reader %d: %zu bursts saw both", i,
                     r[i].mixed);
        seen_a += r[i].seen[0], seen_b += r[i].seen[1];
        decisions += r[i].decisions;
    }
    printf("reload_under_load: %zu reloads, %zu decisions by %d readers\n",
           atomic_load(&run->reloads), decisions, READERS);
    cr_expect_gt(decisions, 0u);
    cr_expect_gt(atomic_load(&run->reloads), 2u);
    cr_expect(seen_a > 0 && seen_b > 0, "readers saw A %zu, B %zu times",
              seen_a, seen_b);
}

Test(threads, reload_under_load, .timeout = 120)
{
    counts c;
    rp_allocator a = {c_malloc, c_realloc, c_free, &c};
    rp_options so;
    reload_run run;
    reader r[READERS];
    pthread_t t[READERS], w[RELOADERS];
    outcome *want_a, *want_b;
    double end;

    atomic_init(&c.allocs, 0);
    atomic_init(&c.frees, 0);
    references(&want_a, &want_b);
    memset(&run, 0, sizeof(run));
    run.alloc = &a;
    run.want[0] = want_a;
    run.want[1] = want_b;
    atomic_init(&run.stop, false);
    atomic_init(&run.reloads, 0);
    rp_options_init(&so);
    so.allocator = &a;
    cr_assert_eq(rp_slot_new(compile(policy_a, &a), &so, &run.slot), RP_OK);
    for (int i = 0; i < READERS; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        r[i].run = &run;
        r[i].first = (size_t)i * 131;
        cr_assert_eq(pthread_create(&t[i], NULL, reload_reader, &r[i]), 0);
    }
    for (int i = 0; i < RELOADERS; i++)
        cr_assert_eq(pthread_create(&w[i], NULL, reloader, &run), 0);
    end = now() + 2.0;
    while (now() < end)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    atomic_store(&run.stop, true);
    for (int i = 0; i < RELOADERS; i++)
        pthread_join(w[i], NULL);
    for (int i = 0; i < READERS; i++)
        pthread_join(t[i], NULL);
    check_readers(r, &run);
    rp_slot_free(run.slot);
    /* Every policy ever compiled, and the slot, have been freed. */
    cr_expect_gt(atomic_load(&c.allocs), 0u);
    cr_expect_eq(atomic_load(&c.allocs), atomic_load(&c.frees),
                 "%zu blocks allocated, %zu freed", atomic_load(&c.allocs),
                 atomic_load(&c.frees));
    free(want_a);
    free(want_b);
}

/* An empty slot answers NULL; NULL slots are refused or ignored. */
Test(threads, slot_edges)
{
    rp_policy_slot *s = NULL;

    cr_assert_eq(rp_slot_new(NULL, NULL, &s), RP_OK);
    cr_expect(rp_slot_acquire(s) == NULL);
    cr_expect(rp_slot_acquire(NULL) == NULL);
    cr_expect_eq(rp_slot_swap(NULL, NULL), RP_E_ARG);
    cr_expect_eq(rp_slot_new(NULL, NULL, NULL), RP_E_ARG);
    cr_expect_eq(rp_slot_swap(s, compile(policy_a, NULL)), RP_OK);
    {
        rp_policy *p = rp_slot_acquire(s);
        cr_expect(p != NULL);
        rp_policy_free(p);
    }
    rp_slot_free(s);
    rp_slot_free(NULL);
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
    thread_ws_done();
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
        cr_assert_eq(pthread_create(&t[i], NULL, ref_churn, rp_policy_ref(p)),
                     0);
    rp_policy_free(p);
    for (int i = 0; i < READERS; i++)
        pthread_join(t[i], NULL);
    cr_expect_eq(atomic_load(&c.allocs), atomic_load(&c.frees),
                 "%zu blocks allocated, %zu freed", atomic_load(&c.allocs),
                 atomic_load(&c.frees));
}

/* ---- a small stack ------------------------------------------------------ */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif

/* The stack rp_decide() is documented to run on (relaypolicy.h): 40 KiB,
 * four times that when sanitizers inflate every frame. */
#ifdef SANITIZED
#define SMALL_STACK (4 * 40 * 1024)
#else
#define SMALL_STACK (40 * 1024)
#endif

typedef struct small_run {
    const rp_policy *p;
    rp_status st;
    rp_reason reason[3];
} small_run;

static void *
small_decider(void *arg)
{
    static const char *const rcpts[3] = {
        "x@mx7.partner.example", "x@elsewhere.example", "alice@local.example"};
    small_run *r = arg;

    for (int i = 0; i < 3; i++) {
        rp_query q;
        rp_decision d;

        vec_fill(&q, "203.0.113.9", "192.0.2.1", 25, rcpts[i]);
        q.sender = "bob@spam.example.org";
        q.sender_len = RP_NTS;
        q.flags = RP_QUERY_EXPLAIN;
        r->st = rp_decide(r->p, &q, thread_ws(), &d);
        if (r->st != RP_OK)
            break;
        r->reason[i] = (rp_reason)d.reason;
    }
    thread_ws_done();
    return NULL;
}

/* A decision that runs JIT-compiled regexes (a domain regex, a deny
 * regex) on a thread with a 40 KiB stack. */
Test(threads, small_stack_with_jit_regexes)
{
    rp_policy *p = compile("domain local.example local recipients alice\n"
                           "domain /^mx[0-9]+\\.partner\\.example$/ relay\n"
                           "listener mx {\n  bind *:25\n  role gateway\n}\n"
                           "deny sender /^[a-z]+@(spam|junk)[.]example$/\n",
                           NULL);
    small_run r = {p, RP_E_INTERNAL, {0, 0, 0}};
    pthread_attr_t attr;
    pthread_t t;

    cr_assert_eq(pthread_attr_init(&attr), 0);
    cr_assert_eq(pthread_attr_setstacksize(&attr, SMALL_STACK), 0);
    cr_assert_eq(pthread_create(&t, &attr, small_decider, &r), 0);
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    cr_expect_eq(r.st, RP_OK);
    cr_expect_eq(r.reason[0], RP_REASON_RELAYED, "%s",
                 rp_reason_name(r.reason[0]));
    cr_expect_eq(r.reason[1], RP_REASON_RELAY_DENIED);
    cr_expect_eq(r.reason[2], RP_REASON_ACCEPTED);
    rp_policy_free(p);
}
