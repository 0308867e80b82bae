/*
 * test_faults.c - failures and limits: every allocation of a compile
 * failing in turn, the compile-time limits, regex match limits at decision
 * time and the RFC 5321 length limits of addresses.
 *
 * The allocation tests count through rp_options.allocator; the sanitizer
 * build (RP_SANITIZE=address,undefined) also runs them under
 * LeakSanitizer.
 */
#include "relaypolicy.h"
#include "test_ws.h"
#include "vectors.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A realistic policy: domains of every kind and pattern form, lists,
 * groups, three listeners with roles and rules, deny lists with regexes,
 * a sender-login map and reply overrides. */
static const char policy_text[] =
    "domain local.example local recipients alice bob carol dave\n"
    "recipients local.example erin frank postmaster\n"
    "domain .corp.example local\n"
    "domain relay.example relay\n"
    "domain /^mx[0-9]+\\.partner\\.example$/ relay\n"
    "domain old.example reroute local.example\n"
    "domain fwd.example reroute target.example\n"
    "network office 10.0.0.0/8 2001:db8:10::/48 172.16.0.0/12\n"
    "network devices 192.168.1.10 192.168.1.11 192.168.1.12\n"
    "network guests 10.99.0.0/16\n"
    "group admins root alice\n"
    "self 192.0.2.1 2001:db8::25\n"
    "self-domain local.example\n"
    "qualify-domain local.example\n"
    "listener internet {\n"
    "    bind 0.0.0.0:25 [::]:25\n"
    "    role gateway\n"
    "    allow network devices relay\n"
    "    allow group admins relay\n"
    "    deny network guests relay\n"
    "}\n"
    "listener submission {\n"
    "    bind *:587\n"
    "    role submission\n"
    "    deny user mallory relay\n"
    "}\n"
    "listener legacy {\n"
    "    bind 192.0.2.1:2525\n"
    "    remote office\n"
    "    allow network office relay routing\n"
    "    allow interface 192.0.2.1 submit\n"
    "}\n"
    "deny client 198.51.100.0/24 203.0.113.128/25\n"
    "deny sender /@spam\\.example$/ @bad.example .worse.example\n"
    "deny recipient trap@local.example /^x+y@/ .blocked.example\n"
    "sender-login alice alice@local.example @alice.example\n"
    "sender-login bob bob@local.example\n"
    "reply relay-denied 554 5.7.1 \"Relay access denied\"\n"
    "reply unknown-user 550 5.1.1 \"No such user here\"\n";

/* ---- a counting allocator that fails on request ------------------------ */

typedef struct counter {
    size_t calls;    /* malloc and realloc calls so far */
    size_t fail_at;  /* fail this call (1-based); 0: never */
    bool fail_after; /* also fail every later call */
    size_t allocs;   /* blocks handed out */
    size_t frees;    /* blocks given back */
    size_t failed;   /* calls that failed */
} counter;

static bool
should_fail(counter *c)
{
    c->calls++;
    if (c->fail_at == 0)
        return false;
    if (c->calls == c->fail_at || (c->fail_after && c->calls > c->fail_at)) {
        c->failed++;
        return true;
    }
    return false;
}

static void *
c_malloc(size_t size, void *ctx)
{
    counter *c = ctx;
    void *p;

    if (should_fail(c))
        return NULL;
    p = malloc(size);
    if (p != NULL)
        c->allocs++;
    return p;
}

static void *
c_realloc(void *ptr, size_t size, void *ctx)
{
    counter *c = ctx;
    void *p;

    if (should_fail(c))
        return NULL;
    p = realloc(ptr, size);
    if (p != NULL && ptr == NULL)
        c->allocs++;
    return p;
}

static void
c_free(void *ptr, void *ctx)
{
    counter *c = ctx;

    if (ptr != NULL)
        c->frees++;
    free(ptr);
}

static rp_options
counted_options(counter *c, rp_allocator *a, uint32_t flags)
{
    rp_options o;

    rp_options_init(&o);
    a->malloc = c_malloc;
    a->realloc = c_realloc;
    a->free = c_free;
    a->ctx = c;
    o.allocator = a;
    o.flags = flags;
    return o;
}

/* ---- deciding ------------------------------------------------------------ */

static rp_decision
decide(const rp_policy *p, const char *client, uint32_t port, const char *rcpt)
{
    rp_query q;
    rp_decision d;

    vec_fill(&q, client, "192.0.2.1", port, rcpt);
    q.sender = "someone@outside.example";
    q.sender_len = RP_NTS;
    cr_assert_eq(rp_decide(p, &q, test_ws(), &d), RP_OK, "rp_decide: %s",
                 d.detail);
    return d;
}

/* A few decisions that use every part of the policy. */
static void
check_policy_works(const rp_policy *p)
{
    rp_decision d = decide(p, "203.0.113.9", 25, "alice@local.example");

    cr_expect_eq(d.verdict, RP_ACCEPT);
    d = decide(p, "203.0.113.9", 25, "x@mx3.partner.example");
    cr_expect_eq(d.verdict, RP_RELAY);
    d = decide(p, "203.0.113.9", 25, "x@elsewhere.example");
    cr_expect_eq(d.reason, RP_REASON_RELAY_DENIED);
    cr_expect_eq(d.code, 554u);
    d = decide(p, "192.168.1.11", 25, "x@elsewhere.example");
    cr_expect_eq(d.verdict, RP_RELAY);
    d = decide(p, "203.0.113.9", 25, "xxxy@local.example");
    cr_expect_eq(d.reason, RP_REASON_RECIPIENT_DENIED);
    d = decide(p, "203.0.113.9", 25, "zed@local.example");
    cr_expect_str_eq(d.text, "No such user here");
}

/* ---- allocation failure injection ------------------------------------- */

typedef struct text {
    char buf[16384];
    size_t n;
} text;

static int
to_text(void *ctx, const char *data, size_t len)
{
    text *t = ctx;

    if (t->n + len >= sizeof(t->buf))
        return 1;
    memcpy(t->buf + t->n, data, len);
    t->n += len;
    t->buf[t->n] = '\0';
    return 0;
}

static int
count_findings(void *ctx, const rp_finding *f)
{
    (void)ctx;
    (void)f;
    return 0;
}

/* A policy compiled despite a failed allocation must be the whole policy:
 * same dump, same lint findings, same decisions as one compiled without
 * failures. */
static void
check_complete(const rp_policy *p)
{
    static text want, got;
    rp_policy *ref = NULL;
    size_t nwant = 0, ngot = 0;

    cr_assert_eq(rp_policy_compile(policy_text, RP_NTS, NULL, &ref, NULL),
                 RP_OK);
    want.n = got.n = 0;
    cr_assert_eq(rp_policy_dump(ref, to_text, &want), RP_OK);
    cr_assert_eq(rp_policy_dump(p, to_text, &got), RP_OK);
    cr_assert_str_eq(got.buf, want.buf, "the dump differs");
    rp_policy_lint(ref, count_findings, NULL, &nwant);
    rp_policy_lint(p, count_findings, NULL, &ngot);
    cr_assert_eq(ngot, nwant, "lint findings: %zu, want %zu", ngot, nwant);
    rp_policy_free(ref);
    check_policy_works(p);
}

/* Compile the policy failing call N (and every later one, with
 * @p fail_after) for N = 1, 2, ... until a compile succeeds. */
static void
every_failure(uint32_t flags, bool fail_after)
{
    size_t attempts = 0, jit_fallbacks = 0;

    for (size_t n = 1;; n++) {
        counter c = {0};
        rp_allocator a;
        rp_options o = counted_options(&c, &a, flags);
        rp_policy *p = (rp_policy *)&p;
        rp_error err;
        rp_status st;

        c.fail_at = n;
        c.fail_after = fail_after;
        memset(&err, 0, sizeof(err));
        st = rp_policy_compile(policy_text, RP_NTS, &o, &p, &err);
        if (c.failed == 0) {
            /* Nothing failed: every allocation has been tried. */
            cr_assert_eq(st, RP_OK, "compile: %s", err.message);
            c.fail_at = 0; /* the dump allocates too: not under test here */
            check_complete(p);
            rp_policy_free(p);
            cr_assert_eq(c.allocs, c.frees, "leak after success");
            break;
        }
        attempts++;
        if (st == RP_OK && !(flags & RP_OPT_NO_JIT)) {
            /* A failed JIT compile falls back to the interpreter: the
             * policy must then be complete and decide as usual. */
            c.fail_at = 0;
            check_complete(p);
            rp_policy_free(p);
            cr_assert_eq(c.allocs, c.frees, "allocation %zu: leak", n);
            jit_fallbacks++;
            continue;
        }
        cr_assert_eq(st, RP_E_NOMEM,
                     "allocation %zu failed: status %s (%s), want "
                     "RP_E_NOMEM",
                     n, rp_status_name(st), err.message);
        cr_assert_null(p, "allocation %zu failed but a policy came back", n);
        cr_assert_eq(err.status, RP_E_NOMEM, "allocation %zu: err.status", n);
        cr_assert_eq(c.allocs, c.frees,
                     "allocation %zu failed: %zu blocks allocated, %zu freed",
                     n, c.allocs, c.frees);
        cr_assert_lt(n, 200000u, "the compile never stops allocating");
    }
    cr_expect_gt(attempts, 50u, "only %zu allocations: is the allocator used?",
                 attempts);
    cr_expect_lt(jit_fallbacks, attempts / 4, "%zu of %zu failures ignored",
                 jit_fallbacks, attempts);
}

Test(faults, compile_fails_each_allocation_in_turn)
{
    every_failure(0, false);
}

Test(faults, compile_fails_from_each_allocation_on)
{
    every_failure(0, true);
}

Test(faults, compile_fails_each_allocation_without_jit)
{
    every_failure(RP_OPT_NO_JIT, false);
}

/* The builder's own calls and build() fail cleanly too. */
Test(faults, builder_fails_each_allocation_in_turn)
{
    for (size_t n = 1;; n++) {
        counter c = {0};
        rp_allocator a;
        rp_options o = counted_options(&c, &a, 0);
        rp_builder *b = NULL;
        rp_policy *p = NULL;
        rp_status st;
        uint32_t l;

        c.fail_at = n;
        st = rp_builder_new(&o, &b);
        if (st == RP_OK) {
            rp_builder_domain(b, "example.com", RP_DOMAIN_LOCAL, NULL, NULL);
            rp_builder_domain(b, "/^r[0-9]+\\.example$/", RP_DOMAIN_RELAY, NULL,
                              NULL);
            rp_builder_recipient(b, "example.com", "alice", NULL);
            rp_builder_network(b, "lan", "10.0.0.0/8", NULL);
            rp_builder_deny_sender(b, "/@spam\\.example$/", NULL);
            if (rp_builder_listener(b, "mx", &l, NULL) == RP_OK) {
                rp_builder_bind(b, l, "*:25", NULL);
                rp_builder_role(b, l, RP_ROLE_GATEWAY, NULL);
                rp_builder_rule(b, l, false, RP_PRINCIPAL_NETWORK, "lan",
                                RP_PERM_RELAY, NULL);
            }
            st = rp_builder_build(b, &p, NULL);
            rp_builder_free(b);
        }
        if (c.failed == 0 || st == RP_OK) {
            /* Done, or a JIT compile failed and fell back: either way the
             * policy must work. */
            rp_decision d = decide(p, "10.1.1.1", 25, "x@r7.example");
            cr_assert_eq(d.verdict, RP_RELAY, "allocation %zu", n);
            d = decide(p, "10.1.1.1", 25, "alice@example.com");
            cr_assert_eq(d.verdict, RP_ACCEPT, "allocation %zu", n);
            rp_policy_free(p);
            cr_assert_eq(c.allocs, c.frees, "leak after success");
            if (c.failed == 0)
                break;
            continue;
        }
        /* A failed builder call makes build() refuse with RP_E_STATE. */
        cr_assert(st == RP_E_NOMEM || st == RP_E_STATE, "allocation %zu: %s", n,
                  rp_status_name(st));
        cr_assert_null(p, "allocation %zu: a policy came back", n);
        cr_assert_eq(c.allocs, c.frees, "allocation %zu: %zu allocs, %zu frees",
                     n, c.allocs, c.frees);
        cr_assert_lt(n, 100000u);
    }
}

/* Allocation counts balance over many compiles and frees. */
Test(faults, allocations_balance)
{
    counter c = {0};
    rp_allocator a;
    rp_options o = counted_options(&c, &a, 0);

    for (int i = 0; i < 20; i++) {
        rp_policy *p = NULL;
        rp_policy *extra;

        cr_assert_eq(rp_policy_compile(policy_text, RP_NTS, &o, &p, NULL),
                     RP_OK);
        extra = rp_policy_ref(p);
        rp_policy_free(p);
        check_policy_works(extra);
        rp_policy_free(extra);
    }
    cr_expect_gt(c.allocs, 0u);
    cr_expect_eq(c.allocs, c.frees);
}

/* ---- compile-time limits --------------------------------------------- */

static void
expect_limit(const char *text, const rp_options *o, const char *msg)
{
    rp_policy *p = (rp_policy *)&p;
    rp_error err;
    rp_status st;

    memset(&err, 0, sizeof(err));
    st = rp_policy_compile(text, RP_NTS, o, &p, &err);
    cr_assert_eq(st, RP_E_LIMIT, "status %s (%s), want RP_E_LIMIT",
                 rp_status_name(st), err.message);
    cr_expect_null(p);
    cr_expect(strstr(err.message, msg) != NULL, "message \"%s\" lacks \"%s\"",
              err.message, msg);
}

Test(faults, limit_policy_size)
{
    rp_options o;

    rp_options_init(&o);
    o.max_policy_bytes = 64;
    expect_limit(policy_text, &o, "larger than 64 bytes");
    o.max_policy_bytes = (uint32_t)strlen(policy_text);
    {
        rp_policy *p = NULL;
        cr_expect_eq(rp_policy_compile(policy_text, RP_NTS, &o, &p, NULL),
                     RP_OK, "exactly the limit is allowed");
        rp_policy_free(p);
    }
}

Test(faults, limit_line_length)
{
    rp_options o;

    rp_options_init(&o);
    o.max_line_length = 40;
    expect_limit("domain a.example local\n"
                 "network lan 10.0.0.0/8 10.1.0.0/16 10.2.0.0/16\n",
                 &o, "line longer than 40 bytes");
}

Test(faults, limit_list_entries)
{
    rp_options o;

    rp_options_init(&o);
    o.max_entries = 4;
    expect_limit("network lan 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 "
                 "192.0.2.0/24 198.51.100.0/24\n",
                 &o, "more than 4 list entries");
}

Test(faults, limit_regex_length)
{
    rp_options o;

    rp_options_init(&o);
    o.max_regex_length = 8;
    expect_limit("deny sender /@spam\\.example$/\n", &o,
                 "regex longer than 8 bytes");
    o.max_regex_length = 100;
    {
        char text[400];
        memcpy(text, "deny recipient /", 16);
        memset(text + 16, 'a', 200);
        memcpy(text + 216, "/\n", 3);
        expect_limit(text, &o, "regex longer than 100 bytes");
        o.max_regex_length = 0; /* the default, 1024 */
        memcpy(text + 200, "/\n", 3);
        {
            rp_policy *p = NULL;
            cr_expect_eq(rp_policy_compile(text, RP_NTS, &o, &p, NULL), RP_OK,
                         "a 184-byte regex is within the default");
            rp_policy_free(p);
        }
    }
    {
        /* Far beyond the default: refused as a limit, whatever check
         * catches it first. */
        char text[2200];
        rp_policy *p = (rp_policy *)&p;
        memcpy(text, "deny sender /", 13);
        memset(text + 13, 'a', 1100);
        memcpy(text + 1113, "/\n", 3);
        cr_expect_eq(rp_policy_compile(text, RP_NTS, &o, &p, NULL), RP_E_LIMIT);
        cr_expect_null(p);
    }
}

Test(faults, limit_listeners_and_rules)
{
    rp_options o;

    rp_options_init(&o);
    o.max_rules = 2;
    expect_limit("listener a {\n}\nlistener b {\n}\nlistener c {\n}\n", &o,
                 "too many listeners");
}

/* ---- regex limits at decision time ----------------------------------- */

static double
seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A catastrophic pattern against a long subject gives TEMPFAIL 451 4.3.0
 * internal-error, quickly, with and without JIT. */
static void
catastrophic(const char *policy, const char *rcpt, uint32_t flags)
{
    rp_options o;
    rp_policy *p = NULL;
    rp_error err;
    struct timespec t0;
    rp_decision d;

    rp_options_init(&o);
    o.flags = flags;
    cr_assert_eq(rp_policy_compile(policy, RP_NTS, &o, &p, &err), RP_OK, "%s",
                 err.message);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 5; i++) {
        d = decide(p, "203.0.113.9", 25, rcpt);
        cr_assert_eq(d.verdict, RP_TEMPFAIL, "verdict %s reason %s",
                     rp_verdict_name(d.verdict), rp_reason_name(d.reason));
        cr_assert_eq(d.reason, RP_REASON_INTERNAL_ERROR);
        cr_assert_eq(d.code, 451u);
        cr_assert_str_eq(d.enhanced, "4.3.0");
        cr_assert(strncmp(d.reply, "451 4.3.0", 9) == 0, "%s", d.reply);
        cr_assert(d.detail != NULL && d.detail[0] != '\0');
    }
    cr_expect_lt(seconds_since(&t0), 2.0, "five decisions took %.2f s",
                 seconds_since(&t0));
    rp_policy_free(p);
}

#define LISTENER "listener mx {\n  bind *:25\n  role gateway\n}\n"
#define A40 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A60 A40 "aaaaaaaaaaaaaaaaaaaa"

Test(faults, catastrophic_recipient_regex)
{
    const char *policy = "domain local.example local\n"
                         "deny recipient /(a+)+$/\n" LISTENER;
    const char *rcpt = A60 "!@local.example";

    catastrophic(policy, rcpt, 0);
    catastrophic(policy, rcpt, RP_OPT_NO_JIT);
}

Test(faults, catastrophic_sender_regex)
{
    const char *policy = "domain local.example local\n"
                         "deny sender /^(a|aa)+$/\n" LISTENER;
    rp_options o;
    rp_policy *p = NULL;
    rp_query q;
    rp_decision d;

    rp_options_init(&o);
    o.flags = RP_OPT_NO_JIT;
    cr_assert_eq(rp_policy_compile(policy, RP_NTS, &o, &p, NULL), RP_OK);
    vec_fill(&q, "203.0.113.9", "192.0.2.1", 25, "alice@local.example");
    q.sender = A60 "@x.example";
    q.sender_len = RP_NTS;
    cr_assert_eq(rp_decide(p, &q, test_ws(), &d), RP_OK);
    cr_expect_eq(d.verdict, RP_TEMPFAIL);
    cr_expect_eq(d.reason, RP_REASON_INTERNAL_ERROR);
    cr_expect_eq(d.code, 451u);
    rp_policy_free(p);
}

Test(faults, catastrophic_domain_regex)
{
    const char *policy = "domain /^(a+)+\\.example$/ local\n" LISTENER;
    const char *rcpt = "x@" A60 "b.example";

    catastrophic(policy, rcpt, 0);
    catastrophic(policy, rcpt, RP_OPT_NO_JIT);
}

/* A tight match limit from the options applies too. */
Test(faults, regex_match_limit_option)
{
    rp_options o;
    rp_policy *p = NULL;
    rp_decision d;

    rp_options_init(&o);
    o.regex_match_limit = 10;
    o.flags = RP_OPT_NO_JIT;
    cr_assert_eq(rp_policy_compile("domain local.example local\n"
                                   "deny recipient /^(a|b)*c/\n" LISTENER,
                                   RP_NTS, &o, &p, NULL),
                 RP_OK);
    d = decide(p, "203.0.113.9", 25, "abababababababababab@local.example");
    cr_expect_eq(d.verdict, RP_TEMPFAIL);
    cr_expect_eq(d.reason, RP_REASON_INTERNAL_ERROR);
    d = decide(p, "203.0.113.9", 25, "alice@local.example");
    cr_expect_eq(d.verdict, RP_ACCEPT, "a short subject stays in the limit");
    rp_policy_free(p);
}

/* ---- RFC 5321 length limits ------------------------------------------- */

/* "L@D" with a local part of @p local_len and a domain of @p dom_len
 * ending in ".corp.example", in labels of at most 63 octets. */
static char *
address(size_t local_len, size_t dom_len, size_t label_max)
{
    static const char tail[] = ".corp.example";
    size_t t = sizeof(tail) - 1, pos, head = dom_len - t;
    char *s = malloc(local_len + dom_len + 2);

    cr_assert_not_null(s);
    memset(s, 'u', local_len);
    s[local_len] = '@';
    pos = local_len + 1;
    /* head octets of labels of label_max octets separated by dots; a dot
     * that would end the head moves one octet to the left. */
    for (size_t i = 0, run = 0; i < head; i++) {
        if (run == label_max) {
            s[pos++] = '.';
            run = 0;
        } else {
            s[pos++] = 'd';
            run++;
        }
    }
    if (head > 2 && s[pos - 1] == '.') {
        s[pos - 2] = '.';
        s[pos - 1] = 'd';
    }
    memcpy(s + pos, tail, t + 1);
    return s;
}

static rp_policy *
length_policy(void)
{
    rp_policy *p = NULL;

    cr_assert_eq(rp_policy_compile("domain .corp.example local\n" LISTENER,
                                   RP_NTS, NULL, &p, NULL),
                 RP_OK);
    return p;
}

Test(faults, local_part_length)
{
    rp_policy *p = length_policy();
    char *ok = address(64, 20, 63), *bad = address(65, 20, 63);
    rp_decision d;

    d = decide(p, "203.0.113.9", 25, ok);
    cr_expect_eq(d.verdict, RP_ACCEPT, "64-octet local part: %s", d.reply);
    d = decide(p, "203.0.113.9", 25, bad);
    cr_expect_eq(d.reason, RP_REASON_BAD_RECIPIENT_SYNTAX);
    cr_expect_eq(d.code, 501u);
    free(ok);
    free(bad);
    rp_policy_free(p);
}

Test(faults, label_length)
{
    rp_policy *p = length_policy();
    char *ok = address(4, 63 + 13, 63), *bad = address(4, 64 + 13, 64);
    rp_decision d;

    d = decide(p, "203.0.113.9", 25, ok);
    cr_expect_eq(d.verdict, RP_ACCEPT, "63-octet label: %s", d.reply);
    d = decide(p, "203.0.113.9", 25, bad);
    cr_expect_eq(d.reason, RP_REASON_BAD_RECIPIENT_SYNTAX, "64-octet label");
    free(ok);
    free(bad);
    rp_policy_free(p);
}

/* The path is at most 256 octets counted with its angle brackets, whether
 * or not the client sent them: 254 octets of address fit, 255 do not. */
Test(faults, path_length)
{
    rp_policy *p = length_policy();
    char *ok = address(64, 254 - 65, 63), *bad = address(64, 255 - 65, 63);
    char bracketed[300];
    rp_decision d;

    cr_assert_eq(strlen(ok), 254u);
    cr_assert_eq(strlen(bad), 255u);
    d = decide(p, "203.0.113.9", 25, ok);
    cr_expect_eq(d.verdict, RP_ACCEPT, "254 octets: %s", d.reply);
    snprintf(bracketed, sizeof(bracketed), "<%s>", ok);
    d = decide(p, "203.0.113.9", 25, bracketed);
    cr_expect_eq(d.verdict, RP_ACCEPT, "256 octets with brackets");
    d = decide(p, "203.0.113.9", 25, bad);
    cr_expect_eq(d.reason, RP_REASON_BAD_RECIPIENT_SYNTAX, "255 octets");
    snprintf(bracketed, sizeof(bracketed), "<%s>", bad);
    d = decide(p, "203.0.113.9", 25, bracketed);
    cr_expect_eq(d.reason, RP_REASON_BAD_RECIPIENT_SYNTAX, "257 octets");
    free(ok);
    free(bad);
    rp_policy_free(p);
}

/* An over-long sender is a sender syntax error, 501 5.1.7. */
Test(faults, sender_length)
{
    rp_policy *p = length_policy();
    char *bad = address(65, 20, 63);
    rp_query q;
    rp_decision d;

    vec_fill(&q, "203.0.113.9", "192.0.2.1", 25, "x@a.corp.example");
    q.sender = bad;
    q.sender_len = RP_NTS;
    cr_assert_eq(rp_decide(p, &q, test_ws(), &d), RP_OK);
    cr_expect_eq(d.reason, RP_REASON_BAD_SENDER_SYNTAX);
    cr_expect_eq(d.code, 501u);
    cr_expect_str_eq(d.enhanced, "5.1.7");
    free(bad);
    rp_policy_free(p);
}

/* A domain name is at most 255 octets; with the path limit a longer one
 * cannot arrive in a recipient, but a policy pattern can be written. */
Test(faults, domain_pattern_length)
{
    char text[600];
    char *addr = address(1, 256, 63);
    rp_policy *p = (rp_policy *)&p;
    rp_error err;
    rp_status st;

    snprintf(text, sizeof(text), "domain %s local\n", addr + 2);
    st = rp_policy_compile(text, RP_NTS, NULL, &p, &err);
    cr_expect_neq(st, RP_OK, "a 256-octet domain compiled");
    cr_expect_null(p);
    free(addr);
}
