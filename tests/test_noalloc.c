/*
 * test_noalloc.c - rp_decide() never allocates (relaypolicy(7) §3).
 *
 * The test executable counts every heap call made by the deciding thread
 * while a flag is set.  In a plain build it defines malloc, calloc,
 * realloc, free and friends itself, forwarding to glibc's __libc_*
 * functions; under AddressSanitizer or ThreadSanitizer, whose runtimes own
 * those symbols, it installs the sanitizer's allocation hooks instead.
 * Decisions cover every reason, both regex engines (JIT and interpreter),
 * explanations on and off, and the API errors.
 */
#include "relaypolicy.h"
#include "test_ws.h"
#include "write_buf.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RP_SANITIZED 1
#endif
#endif

/* Set while the decisions under test run, on their thread only. */
static _Thread_local int counting;
/* Heap calls seen while counting. */
static _Thread_local size_t heap_calls;

#ifdef RP_SANITIZED

/* From <sanitizer/allocator_interface.h>, which GCC does not install. */
int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void *, size_t),
    void (*free_hook)(const volatile void *));

static void
hook_malloc(const volatile void *ptr, size_t size)
{
    (void)ptr;
    (void)size;
    if (counting)
        heap_calls++;
}

static void
hook_free(const volatile void *ptr)
{
    (void)ptr;
    if (counting)
        heap_calls++;
}

static void
start_counting(void)
{
    static int installed;

    if (!installed)
        installed =
            __sanitizer_install_malloc_and_free_hooks(hook_malloc, hook_free);
    cr_assert(installed, "cannot install the sanitizer allocation hooks");
    heap_calls = 0;
    counting = 1;
}

#else

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *ptr, size_t size);
void *__libc_memalign(size_t align, size_t size);
void __libc_free(void *ptr);

static void
seen(void)
{
    if (counting)
        heap_calls++;
}

void *
malloc(size_t size)
{
    seen();
    return __libc_malloc(size);
}

void *
calloc(size_t n, size_t size)
{
    seen();
    return __libc_calloc(n, size);
}

void *
realloc(void *ptr, size_t size)
{
    seen();
    return __libc_realloc(ptr, size);
}

void
free(void *ptr)
{
    if (ptr != NULL)
        seen();
    __libc_free(ptr);
}

void *
aligned_alloc(size_t align, size_t size)
{
    seen();
    return __libc_memalign(align, size);
}

int
posix_memalign(void **out, size_t align, size_t size)
{
    void *p;

    seen();
    p = __libc_memalign(align, size);
    if (p == NULL)
        return 12; /* ENOMEM */
    *out = p;
    return 0;
}

static void
start_counting(void)
{
    heap_calls = 0;
    counting = 1;
}

#endif

static size_t
stop_counting(void)
{
    counting = 0;
    return heap_calls;
}

/* ---- the policy and the queries --------------------------------------- */

#define FP1 "04eee26dfc453b87d5127d23d953cf0ae8bc1ec1d79858ad68264bb13c1d20e8"
#define FP1C                                                                   \
    "04:EE:E2:6D:FC:45:3B:87:D5:12:7D:23:D9:53:CF:0A:E8:BC:1E:C1:D7:98:58:AD:" \
    "68:26:4B:B1:3C:1D:20:E8"

static const char policy_text[] =
    "domain local.example local recipients alice bob postmaster\n"
    "domain .corp.example local\n"
    "domain /^mx[0-9]+\\.partner\\.example$/ relay\n"
    "domain relay.example relay\n"
    "domain old.example reroute local.example\n"
    "domain fwd.example reroute target.example\n"
    "domain \xd0\xb4\xd0\xbe\xd0\xbc\xd0\xb5\xd0\xbd.\xd1\x80\xd1\x84 local "
    "recipients \xd0\xb0\xd0\xbb\xd0\xb8\xd1\x81\xd0\xb0 j\xc3\xb6ran\n"
    "deny recipient @xn--80ake7afn.example\n"
    "domain \xd1\x81\xd1\x82\xd0\xb0\xd1\x80\xd1\x8b\xd0\xb9.example reroute "
    "\xd0\xb4\xd0\xbe\xd0\xbc\xd0\xb5\xd0\xbd.\xd1\x80\xd1\x84\n"
    "deny sender @\xd1\x81\xd0\xbf\xd0\xb0\xd0\xbc.example\n"
    "network office 10.0.0.0/8\n"
    "group admins root\n"
    "self 192.0.2.1\n"
    "self-domain local.example\n"
    "listener mx {\n"
    "    bind 0.0.0.0:25 [::]:25\n"
    "    role gateway\n"
    "    allow network office relay\n"
    "    allow group admins relay\n"
    "    deny network 10.9.0.0/16 submit\n"
    "}\n"
    "listener submission {\n"
    "    bind *:587\n"
    "    require auth\n"
    "    allow authenticated submit relay\n"
    "    deny user mallory submit\n"
    "}\n"
    "deny client 198.51.100.0/24\n"
    "deny client 198.51.100.128/25 2001:db8:bad::/48\n"
    "deny sender /@spam\\.example$/ @bad.example\n"
    "deny recipient /^trap[0-9]*@/ .blocked.example\n"
    "deny recipient /(a+)+$/\n"
    "sender-login alice alice@local.example "
    "alice@\xd0\xb4\xd0\xbe\xd0\xbc\xd0\xb5\xd0\xbd.\xd1\x80\xd1\x84\n"
    /* The narrower grants of relaypolicy(7) §4.2. */
    "trusted-proxy 10.0.0.7\n"
    "trusted-proxy 10.7.0.0/16\n"
    "certificate rw " FP1 "\n"
    "listener devices {\n"
    "    bind *:2525\n"
    "    allow network 10.1.2.0/24 relay to .vendor.example /^mx[0-9]+\\.v2$/\n"
    "    deny network 10.1.2.66 relay to support.vendor.example\n"
    "    allow user carol from network all-except 10.9.0.0/16 relay\n"
    "}\n"
    "listener certs {\n"
    "    bind *:465\n"
    "    require auth or certificate\n"
    "    allow certificate rw submit relay\n"
    "}\n";

#define OUT "203.0.113.9"
#define A60 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

typedef struct fact {
    const char *client;
    uint32_t port;
    const char *user;
    const char *sender;
    const char *rcpt;
    rp_reason want;
    uint32_t flags;   /* more RP_QUERY_* bits */
    const char *peer; /* the peer that claimed the client IP, or NULL */
    const char *cert; /* a certificate fingerprint, or NULL */
} fact;

#define UTF8 RP_QUERY_SMTPUTF8
/* домен.рф, and the same in capitals */
#define DOM "\xd0\xb4\xd0\xbe\xd0\xbc\xd0\xb5\xd0\xbd.\xd1\x80\xd1\x84"
#define DOM_UP "\xd0\x94\xd0\x9e\xd0\x9c\xd0\x95\xd0\x9d.\xd0\xa0\xd0\xa4"
#define MARKS5 "\xcc\x81\xcc\x81\xcc\x81\xcc\x81\xcc\x81"
#define FDFA3 "\xef\xb7\xba\xef\xb7\xba\xef\xb7\xba"

static const fact facts[] = {
    {OUT, 25, NULL, "x@outside.example", "alice@local.example",
     RP_REASON_ACCEPTED, 0, NULL, NULL},
    {OUT, 25, NULL, "", "x@old.example", RP_REASON_UNKNOWN_USER, 0, NULL, NULL},
    {OUT, 25, NULL, "", "postmaster", RP_REASON_ACCEPTED, 0, NULL, NULL},
    {OUT, 25, NULL, "", "postmaster@[192.0.2.1]", RP_REASON_ACCEPTED, 0, NULL,
     NULL},
    {OUT, 25, NULL, "", "x@a.corp.example", RP_REASON_ACCEPTED, 0, NULL, NULL},
    {"10.1.1.1", 25, NULL, "", "x@elsewhere.example", RP_REASON_RELAYED, 0,
     NULL, NULL},
    {OUT, 25, NULL, "<>", "x@mx12.partner.example", RP_REASON_RELAYED, 0, NULL,
     NULL},
    {OUT, 25, NULL, "", "x@fwd.example", RP_REASON_RELAYED, 0, NULL, NULL},
    {"2001:db8::9", 25, "root", "", "x@elsewhere.example", RP_REASON_RELAYED, 0,
     NULL, NULL},
    {OUT, 25, NULL, "", "x@elsewhere.example", RP_REASON_RELAY_DENIED, 0, NULL,
     NULL},
    {OUT, 25, NULL, "", "u%elsewhere.example@local.example",
     RP_REASON_RELAY_DENIED, 0, NULL, NULL},
    {OUT, 25, NULL, "", "elsewhere.example!u@local.example",
     RP_REASON_RELAY_DENIED, 0, NULL, NULL},
    {OUT, 25, NULL, "", "\"u@elsewhere.example\"@local.example",
     RP_REASON_RELAY_DENIED, 0, NULL, NULL},
    {OUT, 25, NULL, "", "@local.example:u@elsewhere.example",
     RP_REASON_RELAY_DENIED, 0, NULL, NULL},
    {OUT, 25, NULL, "", "nobody@local.example", RP_REASON_UNKNOWN_USER, 0, NULL,
     NULL},
    {OUT, 26, NULL, "", "alice@local.example", RP_REASON_NO_LISTENER, 0, NULL,
     NULL},
    {"198.51.100.7", 25, NULL, "", "alice@local.example",
     RP_REASON_CLIENT_BLOCKED, 0, NULL, NULL},
    /* Blocked by a later literal statement: its entry is looked up. */
    {"198.51.100.200", 25, NULL, "", "alice@local.example",
     RP_REASON_CLIENT_BLOCKED, 0, NULL, NULL},
    {"2001:db8:bad::1", 25, NULL, "", "alice@local.example",
     RP_REASON_CLIENT_BLOCKED, 0, NULL, NULL},
    {OUT, 25, NULL, "x@spam.example", "alice@local.example",
     RP_REASON_SENDER_DENIED, 0, NULL, NULL},
    {OUT, 25, NULL, "x@bad.example", "alice@local.example",
     RP_REASON_SENDER_DENIED, 0, NULL, NULL},
    {OUT, 25, NULL, "", "trap7@local.example", RP_REASON_RECIPIENT_DENIED, 0,
     NULL, NULL},
    {OUT, 25, NULL, "", "x@a.blocked.example", RP_REASON_RECIPIENT_DENIED, 0,
     NULL, NULL},
    {OUT, 587, NULL, "", "alice@local.example", RP_REASON_AUTH_REQUIRED, 0,
     NULL, NULL},
    {"10.9.1.1", 25, NULL, "", "alice@local.example", RP_REASON_NOT_PERMITTED,
     0, NULL, NULL},
    {OUT, 587, "mallory", "", "alice@local.example", RP_REASON_NOT_PERMITTED, 0,
     NULL, NULL},
    {OUT, 25, NULL, "bob@local.example", "alice@local.example",
     RP_REASON_SENDER_SPOOF, 0, NULL, NULL},
    {OUT, 587, "bob", "alice@local.example", "x@elsewhere.example",
     RP_REASON_SENDER_LOGIN_MISMATCH, 0, NULL, NULL},
    {OUT, 25, NULL, "", "a@@b.example", RP_REASON_BAD_RECIPIENT_SYNTAX, 0, NULL,
     NULL},
    {OUT, 25, NULL, "", "u%@local.example", RP_REASON_BAD_RECIPIENT_SYNTAX, 0,
     NULL, NULL},
    {OUT, 25, NULL, "bad@", "alice@local.example", RP_REASON_BAD_SENDER_SYNTAX,
     0, NULL, NULL},
    {OUT, 25, NULL, "", A60 "!@local.example", RP_REASON_INTERNAL_ERROR, 0,
     NULL, NULL},
    /* IDN and SMTPUTF8: U-labels mapped, folded and encoded, A-labels
     * checked, on the decision path. */
    {OUT, 25, NULL, "", "\xd0\x90\xd0\x9b\xd0\x98\xd0\xa1\xd0\x90@" DOM_UP,
     RP_REASON_ACCEPTED, UTF8, NULL, NULL},
    {OUT, 25, NULL, "", "JO\xcc\x88RAN@" DOM, RP_REASON_ACCEPTED, UTF8, NULL,
     NULL},
    {OUT, 25, NULL, "", "x@" DOM, RP_REASON_SMTPUTF8_REQUIRED, 0, NULL, NULL},
    {OUT, 25, NULL, "", "x@xn--d1acufc.xn--p1ai", RP_REASON_UNKNOWN_USER, 0,
     NULL, NULL},
    {OUT, 25, NULL, "", "x@xn--zz.example", RP_REASON_BAD_RECIPIENT_SYNTAX, 0,
     NULL, NULL},
    {OUT, 25, NULL, "", "x@\xe2\x98\x83.example",
     RP_REASON_BAD_RECIPIENT_SYNTAX, UTF8, NULL, NULL},
    {OUT, 25, NULL, "", "x@" FDFA3 FDFA3 ".example",
     RP_REASON_BAD_RECIPIENT_SYNTAX, UTF8, NULL, NULL},
    {OUT, 25, NULL, "", "x@a" MARKS5 MARKS5 MARKS5 MARKS5 MARKS5 ".example",
     RP_REASON_BAD_RECIPIENT_SYNTAX, UTF8, NULL, NULL},
    {OUT, 25, NULL, "", "x@\xc3\xa9" MARKS5 MARKS5 ".example",
     RP_REASON_RELAY_DENIED, UTF8, NULL, NULL},
    {OUT, 25, NULL, "", "u%\xd0\xb2\xd0\xbd.example@" DOM,
     RP_REASON_RELAY_DENIED, UTF8, NULL, NULL},
    {OUT, 25, NULL, "",
     "x@\xd0\x97\xd0\x90\xd0\x9f\xd0\xa0\xd0\x95\xd0\xa2.example",
     RP_REASON_RECIPIENT_DENIED, UTF8, NULL, NULL},
    /* The IDN spellings through every domain kind: senders (deny list,
     * spoofing, the sender-login map), reroutes, regex subjects, relaying
     * and the routing forms. */
    {OUT, 25, NULL, "x@xn--80ayhh.example", "alice@local.example",
     RP_REASON_SENDER_DENIED, 0, NULL, NULL},
    {OUT, 25, NULL, "j\xc3\xb6ran@" DOM_UP, "alice@local.example",
     RP_REASON_SENDER_SPOOF, UTF8, NULL, NULL},
    {OUT, 25, NULL, "j\xc3\xb6ran@" DOM, "alice@local.example",
     RP_REASON_SMTPUTF8_REQUIRED, 0, NULL, NULL},
    {OUT, 587, "alice", "ALICE@" DOM_UP, "x@elsewhere.example",
     RP_REASON_RELAYED, UTF8, NULL, NULL},
    {OUT, 587, "bob", "alice@xn--d1acufc.xn--p1ai", "x@elsewhere.example",
     RP_REASON_SENDER_LOGIN_MISMATCH, 0, NULL, NULL},
    {OUT, 25, NULL, "",
     "\xd0\x90\xd0\x9b\xd0\x98\xd0\xa1\xd0\x90@xn--80asucf0d.example",
     RP_REASON_ACCEPTED, UTF8, NULL, NULL},
    {OUT, 25, NULL, "",
     "x@\xd0\xa1\xd0\xa2\xd0\x90\xd0\xa0\xd0\xab\xd0\x99.example",
     RP_REASON_UNKNOWN_USER, UTF8, NULL, NULL},
    {OUT, 25, NULL, "", "trap1@" DOM, RP_REASON_RECIPIENT_DENIED, UTF8, NULL,
     NULL},
    {"10.1.1.1", 25, NULL, "",
     "x@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.example",
     RP_REASON_RELAYED, UTF8, NULL, NULL},
    {OUT, 25, NULL, "",
     "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.example!u@" DOM,
     RP_REASON_RELAY_DENIED, UTF8, NULL, NULL},
    {OUT, 25, NULL, "", "@" DOM ":u@xn--e1afmkfd.example",
     RP_REASON_RELAY_DENIED, UTF8, NULL, NULL},
    /* Scoped relay, its deny, a login bound to a network, certificates,
     * a claim from a trusted proxy and from another peer. */
    {"10.1.2.5", 2525, NULL, "", "x@a.vendor.example", RP_REASON_RELAYED, 0,
     NULL, NULL},
    {"10.1.2.5", 2525, NULL, "", "x@mx7.v2", RP_REASON_RELAYED, 0, NULL, NULL},
    {"10.1.2.5", 2525, NULL, "", "x@elsewhere.example", RP_REASON_RELAY_DENIED,
     0, NULL, NULL},
    {"10.1.2.66", 2525, NULL, "", "x@support.vendor.example",
     RP_REASON_RELAY_DENIED, 0, NULL, NULL},
    {OUT, 2525, "carol", "", "x@elsewhere.example", RP_REASON_RELAYED, 0, NULL,
     NULL},
    {"10.9.0.1", 2525, "carol", "", "x@elsewhere.example",
     RP_REASON_RELAY_DENIED, 0, NULL, NULL},
    {OUT, 465, NULL, "", "x@elsewhere.example", RP_REASON_RELAYED, 0, NULL,
     FP1C},
    {OUT, 465, NULL, "", "x@elsewhere.example", RP_REASON_AUTH_REQUIRED, 0,
     NULL, NULL},
    {"10.1.2.5", 2525, NULL, "", "x@a.vendor.example", RP_REASON_RELAYED, 0,
     "10.0.0.7", NULL},
    {"10.1.2.5", 2525, NULL, "", "x@a.vendor.example", RP_REASON_RELAYED, 0,
     "10.7.0.9", NULL},
    {"10.1.2.5", 2525, NULL, "", "x@a.vendor.example", RP_REASON_RELAY_DENIED,
     0, OUT, NULL},
};

#define N_FACTS (sizeof(facts) / sizeof(facts[0]))

static rp_query
query(const fact *f, uint32_t flags)
{
    rp_query q;

    memset(&q, 0, sizeof(q));
    q.client_ip = f->client;
    q.client_ip_len = RP_NTS;
    q.local_ip = strchr(f->client, ':') != NULL ? "2001:db8::25" : "192.0.2.1";
    q.local_ip_len = RP_NTS;
    q.local_port = f->port;
    q.user = f->user;
    q.user_len = RP_NTS;
    q.sender = f->sender;
    q.sender_len = RP_NTS;
    q.recipient = f->rcpt;
    q.recipient_len = RP_NTS;
    q.helo = "client.example";
    q.helo_len = RP_NTS;
    q.flags = flags | f->flags;
    q.peer_ip = f->peer;
    q.peer_ip_len = RP_NTS;
    q.cert_fingerprint = f->cert;
    q.cert_fingerprint_len = RP_NTS;
    return q;
}

/* The test policy, compiled; with @p opened, written as a compiled policy
 * file and opened from it (rp_policy_load). */
static rp_policy *
compile(uint32_t flags, bool opened)
{
    rp_options o;
    rp_policy *p = NULL, *q = NULL;
    rp_error err;
    write_buf m = {NULL, 0, 0};

    rp_options_init(&o);
    o.flags = flags;
    cr_assert_eq(rp_policy_compile(policy_text, RP_NTS, &o, &p, &err), RP_OK,
                 "%s", err.message);
    if (!opened)
        return p;
    cr_assert_eq(rp_policy_write(p, write_buf_put, &m), RP_OK);
    cr_assert_eq(rp_policy_load(m.s, m.n, &o, &q, &err), RP_OK, "%s",
                 err.message);
    free(m.s);
    rp_policy_free(p);
    return q;
}

/* Decide every fact (with and without explanations) many times while
 * counting; check the reasons and that nothing touched the heap. */
static void
decide_all(uint32_t compile_flags, bool opened)
{
    rp_policy *p = compile(compile_flags, opened);
    rp_decision d[N_FACTS][2];
    rp_status st[N_FACTS][2];
    bool reached[RP_REASON_COUNT] = {false};
    size_t calls;

    /* Warm-up outside the counted window: anything lazily set up once
     * per process (PCRE2's JIT stack, stdio locale) is not a decision's
     * allocation. */
    for (size_t i = 0; i < N_FACTS; i++) {
        rp_query q = query(&facts[i], RP_QUERY_EXPLAIN);
        rp_decide(p, &q, test_ws(), &d[i][0]);
    }
    start_counting();
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < N_FACTS; i++) {
            for (int e = 0; e < 2; e++) {
                rp_query q = query(&facts[i], e ? RP_QUERY_EXPLAIN : 0);
                st[i][e] = rp_decide(p, &q, test_ws(), &d[i][e]);
            }
        }
    }
    calls = stop_counting();
    cr_expect_eq(calls, 0u, "%zu heap calls during %zu decisions", calls,
                 (size_t)50 * N_FACTS * 2);
    for (size_t i = 0; i < N_FACTS; i++) {
        for (int e = 0; e < 2; e++) {
            cr_assert_eq(st[i][e], RP_OK, "fact %zu: %s", i, d[i][e].detail);
            cr_expect_eq(d[i][e].reason, facts[i].want,
                         "fact %zu <%s>: reason %s, want %s", i, facts[i].rcpt,
                         rp_reason_name(d[i][e].reason),
                         rp_reason_name(facts[i].want));
        }
        cr_expect(d[i][1].explanation_len > 0, "fact %zu: no explanation", i);
        reached[d[i][0].reason] = true;
    }
    for (int r = 1; r < RP_REASON_COUNT; r++)
        cr_expect(reached[r], "reason %s not covered",
                  rp_reason_name((rp_reason)r));
    rp_policy_free(p);
}

Test(noalloc, decide_with_jit)
{
    decide_all(0, false);
}

Test(noalloc, decide_without_jit)
{
    decide_all(RP_OPT_NO_JIT, false);
}

/* A policy opened from its compiled file decides on the same code. */
Test(noalloc, decide_on_an_opened_file)
{
    decide_all(0, true);
}

/* rp_decide_batch() over every fact at once (with and without
 * explanations), on a workspace with room for them: no heap either, and
 * the reasons of rp_decide(). */
static void
decide_batch_all(uint32_t compile_flags)
{
    rp_policy *p = compile(compile_flags, false);
    rp_options o;
    rp_workspace *ws = NULL;
    rp_query q[2 * N_FACTS];
    rp_decision d[2 * N_FACTS];
    rp_status st[2 * N_FACTS], all = RP_E_INTERNAL;
    size_t calls;

    rp_options_init(&o);
    o.batch_capacity = 2 * N_FACTS;
    cr_assert_eq(rp_workspace_new(&o, &ws), RP_OK);
    for (size_t i = 0; i < 2 * N_FACTS; i++)
        q[i] = query(&facts[i / 2], i % 2 ? RP_QUERY_EXPLAIN : 0);
    rp_decide_batch(p, q, 2 * N_FACTS, ws, d, st); /* warm-up */
    start_counting();
    for (int round = 0; round < 50; round++)
        all = rp_decide_batch(p, q, 2 * N_FACTS, ws, d, st);
    calls = stop_counting();
    cr_expect_eq(calls, 0u, "%zu heap calls during %zu batched decisions",
                 calls, (size_t)50 * N_FACTS * 2);
    cr_expect_eq(all, RP_OK);
    for (size_t i = 0; i < 2 * N_FACTS; i++) {
        cr_assert_eq(st[i], RP_OK, "fact %zu: %s", i / 2, d[i].detail);
        cr_expect_eq(d[i].reason, facts[i / 2].want,
                     "fact %zu <%s>: reason %s, want %s", i / 2,
                     facts[i / 2].rcpt, rp_reason_name(d[i].reason),
                     rp_reason_name(facts[i / 2].want));
    }
    rp_workspace_free(ws);
    rp_policy_free(p);
}

Test(noalloc, decide_batch_with_jit)
{
    decide_batch_all(0);
}

Test(noalloc, decide_batch_without_jit)
{
    decide_batch_all(RP_OPT_NO_JIT);
}

/* Bad facts are answered without the heap too. */
Test(noalloc, api_errors)
{
    rp_policy *p = compile(0, false);
    static const char *const groups[] = {"admins", ""};
    rp_query q = query(&facts[0], RP_QUERY_EXPLAIN);
    rp_decision d;
    size_t calls;
    int errors = 0;

    (void)test_ws(); /* made once, outside the counted window */
    start_counting();
    for (int round = 0; round < 20; round++) {
        rp_query b = q;
        b.client_ip = "010.1.1.1";
        errors += rp_decide(p, &b, test_ws(), &d) == RP_E_ARG;
        b = q;
        b.local_port = 0;
        errors += rp_decide(p, &b, test_ws(), &d) == RP_E_ARG;
        b = q;
        b.user = "";
        errors += rp_decide(p, &b, test_ws(), &d) == RP_E_ARG;
        b = q;
        b.user = "root";
        b.groups = groups;
        b.n_groups = 2;
        errors += rp_decide(p, &b, test_ws(), &d) == RP_E_ARG;
        b = q;
        b.recipient = NULL;
        errors += rp_decide(p, &b, test_ws(), &d) == RP_E_ARG;
        errors += rp_decide(NULL, &q, test_ws(), &d) == RP_E_ARG;
        b = q;
        b.peer_ip = "10.0.0.07";
        errors += rp_decide(p, &b, test_ws(), &d) == RP_E_ARG;
        b = q;
        b.cert_fingerprint = "04:ee:e2";
        errors += rp_decide(p, &b, test_ws(), &d) == RP_E_ARG;
    }
    calls = stop_counting();
    cr_expect_eq(errors, 20 * 8, "only %d API errors", errors);
    cr_expect_eq(calls, 0u, "%zu heap calls", calls);
    rp_policy_free(p);
}

/* The counter itself works: a test that can see an allocation. */
Test(noalloc, counter_sees_allocations)
{
    /* Called through volatile pointers so the optimiser cannot drop the
     * malloc/free pair. */
    void *(*volatile alloc)(size_t) = malloc;
    void (*volatile release)(void *) = free;
    void *volatile v;
    size_t calls;

    start_counting();
    v = alloc(32);
    release(v);
    calls = stop_counting();
    cr_assert_geq(calls, 1u, "the allocation counter saw nothing");
}
