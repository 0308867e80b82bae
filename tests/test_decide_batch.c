/*
 * test_decide_batch.c - rp_decide_batch() gives rp_decide()'s answers.
 *
 * A differential test: every decision vector of tests/data/decide and
 * thousands of random queries on a policy with large prefix and domain
 * tables are decided one by one and in batches of several sizes, and every
 * field and string of each decision must be equal.  Then the calling
 * conventions: capacity, NULL arguments, a bad query inside a batch.
 */
#include "vectors.h"
#include "test_ws.h"

#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A decision with its strings copied out of the workspace. */
typedef struct snap {
    rp_status st;
    rp_decision d;
    char *text, *listener, *rule_file, *detail, *reply, *destination,
        *rewritten, *explanation;
} snap;

static char *
dup_str(const char *s)
{
    char *c = strdup(s != NULL ? s : "(null)");

    cr_assert_not_null(c);
    return c;
}

static void
snap_take(snap *s, rp_status st, const rp_decision *d)
{
    s->st = st;
    s->d = *d;
    s->text = dup_str(d->text);
    s->listener = dup_str(d->listener);
    s->rule_file = dup_str(d->rule_file);
    s->detail = dup_str(d->detail);
    s->reply = dup_str(d->reply);
    s->destination = dup_str(d->destination);
    s->rewritten = dup_str(d->rewritten);
    s->explanation = dup_str(d->explanation);
}

static void
snap_free(snap *s)
{
    free(s->text);
    free(s->listener);
    free(s->rule_file);
    free(s->detail);
    free(s->reply);
    free(s->destination);
    free(s->rewritten);
    free(s->explanation);
}

#define SAME_STR(f)                                                            \
    cr_expect_str_eq(d->f != NULL ? d->f : "(null)", want->f,                  \
                     "%s: " #f " differs", what)
#define SAME_NUM(f)                                                            \
    cr_expect_eq(d->f, want->d.f, "%s: " #f " %lld, one by one %lld", what,    \
                 (long long)d->f, (long long)want->d.f)

/* Every field of @p d (from a batch) equals the one-by-one @p want. */
static void
expect_same(const char *what,
            rp_status st,
            const rp_decision *d,
            const snap *want)
{
    cr_expect_eq(st, want->st, "%s: status %s, one by one %s", what,
                 rp_status_name(st), rp_status_name(want->st));
    SAME_NUM(verdict);
    SAME_NUM(reason);
    SAME_NUM(step);
    SAME_NUM(code);
    SAME_NUM(listener_index);
    SAME_NUM(rule);
    SAME_NUM(rule_line);
    SAME_NUM(prefix_len);
    SAME_NUM(permissions);
    SAME_NUM(flags);
    SAME_NUM(reply_len);
    SAME_NUM(destination_len);
    SAME_NUM(rewritten_len);
    SAME_NUM(explanation_len);
    cr_expect_str_eq(d->enhanced, want->d.enhanced, "%s: enhanced", what);
    SAME_STR(text);
    SAME_STR(listener);
    SAME_STR(rule_file);
    SAME_STR(detail);
    SAME_STR(reply);
    SAME_STR(destination);
    SAME_STR(rewritten);
    SAME_STR(explanation);
}

static rp_workspace *
batch_ws(uint32_t capacity)
{
    rp_options o;
    rp_workspace *ws = NULL;

    rp_options_init(&o);
    o.batch_capacity = capacity;
    cr_assert_eq(rp_workspace_new(&o, &ws), RP_OK);
    return ws;
}

/* Decides @p q[0..n) one by one, then in batches of each size of
 * @p sizes, and compares. */
static void
differential(const rp_policy *p, const rp_query *q, size_t n, const char *name)
{
    static const size_t sizes[] = {1, 2, 7, 16, 64, 100, 1024};
    rp_workspace *ws = batch_ws(RP_BATCH_MAX);
    rp_decision *d = calloc(RP_BATCH_MAX, sizeof(*d));
    rp_status st[RP_BATCH_MAX];
    snap *want = calloc(n, sizeof(*want));
    char what[128];

    cr_assert(d != NULL && want != NULL);
    for (size_t i = 0; i < n; i++) {
        rp_decision one;
        rp_status s = rp_decide(p, &q[i], test_ws(), &one);
        snap_take(&want[i], s, &one);
    }
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        for (size_t at = 0; at < n; at += sizes[k]) {
            size_t m = n - at < sizes[k] ? n - at : sizes[k];
            rp_status all = rp_decide_batch(p, q + at, m, ws, d, st);
            rp_status first = RP_OK;
            for (size_t i = 0; i < m; i++) {
                snprintf(what, sizeof(what), "%s query %zu (batches of %zu)",
                         name, at + i, sizes[k]);
                expect_same(what, st[i], &d[i], &want[at + i]);
                if (first == RP_OK)
                    first = st[i];
            }
            cr_expect_eq(all, first, "%s: batch status", name);
        }
    }
    for (size_t i = 0; i < n; i++)
        snap_free(&want[i]);
    free(want);
    free(d);
    rp_workspace_free(ws);
}

/* ---- the decision vectors ----------------------------------------------- */

static rp_policy *
load(const char *name)
{
    char path[1024];
    rp_policy *p = NULL;
    rp_error err;

    snprintf(path, sizeof(path), "%s/decide/%s", RP_TEST_DATA, name);
    cr_assert_eq(rp_policy_compile_file(path, NULL, &p, &err), RP_OK, "%s: %s",
                 name, err.message);
    return p;
}

/* The cases of a vector file under one policy line, batched together;
 * returns the number of cases. */
static size_t
vector_file(const char *file)
{
    char path[1024], line[2048], policy[256] = "";
    vec_case *cases = calloc(4096, sizeof(*cases));
    rp_query *q = calloc(4096, sizeof(*q));
    rp_policy *p = NULL;
    size_t n = 0, total = 0;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/decide/%s", RP_TEST_DATA, file);
    fp = fopen(path, "r");
    cr_assert(fp != NULL && cases != NULL && q != NULL, "%s", path);
    for (;;) {
        bool eof = fgets(line, sizeof(line), fp) == NULL;
        bool next = !eof && sscanf(line, "policy %255s", policy) == 1;
        if ((eof || next) && p != NULL && n > 0) {
            for (size_t i = 0; i < n; i++)
                vec_query(&cases[i], &q[i]);
            differential(p, q, n, file);
            total += n;
            n = 0;
        }
        if (eof)
            break;
        if (next) {
            rp_policy_free(p);
            p = load(policy);
        } else if (line[0] != '#' && line[0] != '\n' && n < 4096 &&
                   vec_parse(line, &cases[n]) == 0) {
            n++;
        }
    }
    fclose(fp);
    rp_policy_free(p);
    free(q);
    free(cases);
    return total;
}

Test(decide_batch, equals_decide_on_every_vector)
{
    static const char *const files[] = {
        "main.txt",       "login.txt",      "replies.txt",  "qualify.txt",
        "postmaster.txt", "implied.txt",    "families.txt", "empty.txt",
        "idn.txt",        "deny-client.txt"};
    size_t total = 0;

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        total += vector_file(files[i]);
    cr_assert_gt(total, 100, "only %zu vector cases", total);
}

/* ---- random queries ----------------------------------------------------- */

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t
rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32) % n;
}

/* A policy with enough prefixes and domains for the batch walks to leave
 * the first directory level, and every kind of rule the steps look at. */
static rp_policy *
random_policy(void)
{
    size_t cap = 1u << 20, len = 0;
    char *t = malloc(cap);
    rp_policy *p = NULL;
    rp_error err;

#define PUT(...) (len += (size_t)snprintf(t + len, cap - len, __VA_ARGS__))
    cr_assert_not_null(t);
    PUT("domain local.example local recipients alice bob postmaster\n");
    PUT("domain .corp.example local\ndomain relay.example relay\n");
    PUT("domain old.example reroute local.example\n");
    PUT("domain /^mx[0-9]+\\.partner\\.example$/ relay\n");
    for (int i = 0; i < 3000; i++)
        PUT("domain d%d.example %s\n", i, i % 3 ? "local" : "relay");
    for (int i = 0; i < 6000; i++)
        if (i % 2)
            PUT("network trusted %u.%u.%u.0/24\n", 11 + rnd(200), rnd(256),
                rnd(256));
        else
            PUT("network trusted %u.%u.0.0/16\n", 11 + rnd(200), rnd(256));
    for (int i = 0; i < 500; i++)
        PUT("network trusted 2001:db8:%x::/48\n", rnd(65536));
    for (int i = 0; i < 6000; i++)
        PUT("network blocked %u.%u.%u.%u\n", 11 + rnd(200), rnd(256), rnd(256),
            rnd(256));
    for (int i = 0; i < 500; i++)
        PUT("network blocked 2001:db8:%x::%x\n", rnd(65536), rnd(65536));
    PUT("network inside 10.0.0.0/8 2001:db8:ffff::/48\n");
    PUT("group admins root\nself 192.0.2.1\nallow open-relay\n");
    PUT("listener mx {\n  bind 0.0.0.0:25 [::]:25\n  role gateway\n"
        "  allow network trusted relay\n  allow group admins relay\n"
        "  allow interface 10.0.0.0/8 relay\n}\n");
    PUT("listener submission {\n  bind *:587\n  require auth\n"
        "  allow authenticated submit relay\n  deny user mallory submit\n"
        "}\n");
    PUT("deny client blocked\ndeny sender /@spam\\.example$/ @bad.example\n");
    PUT("deny recipient /^trap[0-9]*@/ .blocked.example\n");
    PUT("sender-login alice alice@local.example\n");
#undef PUT
    cr_assert_lt(len, cap);
    cr_assert_eq(rp_policy_compile(t, len, NULL, &p, &err), RP_OK, "%s",
                 err.message);
    free(t);
    return p;
}

/* Query @p i's strings live in @p buf (at least 512 bytes). */
static void
random_query(rp_query *q, char *buf)
{
    static const char *const users[] = {NULL,   NULL,      "alice",
                                        "root", "mallory", "bob"};
    static const char *const senders[] = {"",
                                          "<>",
                                          "x@outside.example",
                                          "alice@local.example",
                                          "x@spam.example",
                                          "bob@local.example",
                                          "y@d7.example",
                                          NULL,
                                          "bad@"};
    static const char *const locals[] = {"alice",  "bob",   "postmaster",
                                         "nobody", "trap3", "u%x.example"};
    static const char *const domains[] = {
        "local.example",     "a.corp.example",      "relay.example",
        "old.example",       "mx7.partner.example", "elsewhere.example",
        "x.blocked.example", "d17.example",         "d18.example",
        "d2999.example",     "[192.0.2.1]"};
    char *client = buf, *local = buf + 64, *rcpt = buf + 128;
    uint32_t kind = rnd(4);

    memset(q, 0, sizeof(*q));
    if (kind == 0)
        snprintf(client, 64, "2001:db8:%x::%x", rnd(65536), rnd(65536));
    else if (kind == 1)
        snprintf(client, 64, "10.%u.%u.%u", rnd(256), rnd(256), rnd(256));
    else
        snprintf(client, 64, "%u.%u.%u.%u", 11 + rnd(200), rnd(256), rnd(256),
                 rnd(256));
    snprintf(local, 64, "%s", kind == 0 ? "2001:db8:ffff::1" : "192.0.2.1");
    if (rnd(8) == 0)
        snprintf(local, 64, "%s", kind == 0 ? "2001:db8::25" : "10.0.0.1");
    snprintf(rcpt, 256, "%s@%s", locals[rnd(6)], domains[rnd(11)]);
    q->client_ip = client;
    q->client_ip_len = RP_NTS;
    q->local_ip = local;
    q->local_ip_len = RP_NTS;
    q->local_port = rnd(10) == 0 ? 587 : rnd(50) == 0 ? 26 : 25;
    q->user = users[rnd(6)];
    q->user_len = RP_NTS;
    q->sender = senders[rnd(9)];
    q->sender_len = RP_NTS;
    q->recipient = rcpt;
    q->recipient_len = RP_NTS;
    q->flags = rnd(2) ? RP_QUERY_EXPLAIN : 0;
    if (rnd(200) == 0)
        q->local_port = 0; /* a bad query among good ones */
}

Test(decide_batch, equals_decide_on_random_queries)
{
    enum { N = 3000 };
    rp_policy *p = random_policy();
    rp_query *q = calloc(N, sizeof(*q));
    char *buf = calloc(N, 512);

    cr_assert(q != NULL && buf != NULL);
    for (size_t i = 0; i < N; i++)
        random_query(&q[i], buf + 512 * i);
    differential(p, q, N, "random");
    free(buf);
    free(q);
    rp_policy_free(p);
}

/* ---- calling conventions ------------------------------------------------ */

Test(decide_batch, capacity_and_null_arguments)
{
    rp_policy *p = NULL;
    rp_workspace *ws = batch_ws(4);
    rp_query q[5];
    rp_decision d[5];
    rp_status st[5];

    cr_assert_eq(rp_policy_compile("", 0, NULL, &p, NULL), RP_OK);
    for (int i = 0; i < 5; i++)
        vec_fill(&q[i], "192.0.2.9", "192.0.2.1", 25, "a@b.example");
    cr_expect_eq(rp_decide_batch(p, q, 5, ws, d, st), RP_E_LIMIT);
    cr_expect_eq(rp_decide_batch(p, q, 4, ws, d, st), RP_OK);
    cr_expect_eq(rp_decide_batch(p, q, 4, ws, d, NULL), RP_OK);
    cr_expect_eq(d[3].verdict, RP_REJECT);
    cr_expect_eq(rp_decide_batch(p, q, 2, test_ws(), d, st), RP_E_LIMIT);
    cr_expect_eq(rp_decide_batch(p, q, 1, test_ws(), d, st), RP_OK);
    cr_expect_eq(rp_decide_batch(NULL, q, 1, ws, d, st), RP_E_ARG);
    cr_expect_eq(rp_decide_batch(p, NULL, 1, ws, d, st), RP_E_ARG);
    cr_expect_eq(rp_decide_batch(p, q, 1, NULL, d, st), RP_E_ARG);
    cr_expect_eq(rp_decide_batch(p, q, 1, ws, NULL, st), RP_E_ARG);
    cr_expect_eq(rp_decide_batch(p, NULL, 0, ws, NULL, NULL), RP_OK);
    rp_workspace_free(ws);
    rp_policy_free(p);
}

Test(decide_batch, bad_query_inside_a_batch)
{
    rp_policy *p = NULL;
    rp_workspace *ws = batch_ws(3);
    rp_query q[3];
    rp_decision d[3];
    rp_status st[3];

    cr_assert_eq(rp_policy_compile("domain b.example local\n"
                                   "listener mx {\n bind *:25\n"
                                   " role gateway\n}\n",
                                   RP_NTS, NULL, &p, NULL),
                 RP_OK);
    for (int i = 0; i < 3; i++)
        vec_fill(&q[i], "192.0.2.9", "192.0.2.1", 25, "a@b.example");
    q[1].local_port = 70000;
    cr_expect_eq(rp_decide_batch(p, q, 3, ws, d, st), RP_E_ARG);
    cr_expect_eq(st[0], RP_OK);
    cr_expect_eq(st[1], RP_E_ARG);
    cr_expect_eq(st[2], RP_OK);
    cr_expect_eq(d[0].verdict, RP_ACCEPT);
    cr_expect_eq(d[1].verdict, RP_VERDICT_NONE);
    cr_expect_neq(d[1].detail[0], '\0');
    cr_expect_eq(d[2].verdict, RP_ACCEPT);
    /* Each decision's reply is its own slot's. */
    cr_expect_neq(d[0].reply, d[2].reply);
    cr_expect_str_eq(d[0].reply, d[2].reply);
    rp_workspace_free(ws);
    rp_policy_free(p);
}
