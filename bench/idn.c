/*
 * idn.c - the decision-time cost of internationalised addresses.
 *
 * Times rp_decide() over four kinds of recipient on one policy: plain
 * ASCII, A-label (xn--) domains, U-label domains and UTF-8 local parts
 * (with SMTPUTF8).  Uses the public API only, so bench/idn_compare.sh can
 * build the same program against an older library (without SMTPUTF8 the
 * IDN rows are skipped) and compare the ASCII rows in one run.
 *
 *   rp_bench_idn [ROUNDS]
 *
 * Each row is timed five times (rounds / 5 decisions each); the best is
 * printed.
 */
#define _POSIX_C_SOURCE 200809L
#include "relaypolicy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A library without SMTPUTF8 takes no UTF-8 local part in a policy: the
 * before-IDN build gets the same policy without the one UTF-8 name. */
#ifdef RP_QUERY_SMTPUTF8
#define UTF8_NAME "\xd0\xb0\xd0\xbb\xd0\xb8\xd1\x81\xd0\xb0 "
#else
#define UTF8_NAME ""
#endif

static const char policy[] =
    "domain example.com local recipients alice bob carol\n"
    "domain .example.net relay\n"
    "domain xn--d1acufc.xn--p1ai local recipients " UTF8_NAME "bob\n"
    "domain xn--bcher-kva.example local\n"
    "listener mx {\n    bind 0.0.0.0:25\n    role gateway\n}\n"
    "deny recipient @spam.example .xn--80ayhh.example\n";

typedef struct row {
    const char *name;
    const char *rcpt[4];
    bool utf8;
} row;

static const row rows[] = {
    {"ascii",
     {"alice@example.com", "bob@mail.example.net", "x@elsewhere.org",
      "Carol@Example.COM"},
     false},
    {"a-label",
     {"bob@xn--d1acufc.xn--p1ai", "x@xn--bcher-kva.example",
      "x@mail.xn--80ayhh.example", "y@xn--b1agjerb0f.example"},
     false},
    {"u-label",
     {"bob@\xd0\xb4\xd0\xbe\xd0\xbc\xd0\xb5\xd0\xbd.\xd1\x80\xd1\x84",
      "x@b\xc3\xbc"
      "cher.example",
      "x@mail.\xd1\x81\xd0\xbf\xd0\xb0\xd0\xbc.example",
      "y@\xd0\x92\xd0\x9d\xd0\x95\xd0\xa8\xd0\x9d\xd0\x98\xd0\x99.example"},
     true},
    {"utf8-local",
     {"\xd0\x90\xd0\x9b\xd0\x98\xd0\xa1\xd0\x90@xn--d1acufc.xn--p1ai",
      "j\xc3\xb6ran@xn--bcher-kva.example", "\xc3\xa9t\xc3\xa9@example.com",
      "\xe7\x94\xb0\xe4\xb8\xad@example.com"},
     true},
};

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The one place that calls rp_decide(), with this thread's workspace. */
static rp_status
decide(const rp_policy *p, const rp_query *q, rp_decision *d)
{
    static rp_workspace *ws;

    if (ws == NULL && rp_workspace_new(NULL, &ws) != RP_OK)
        abort();
    return rp_decide(p, q, ws, d);
}

/* Nanoseconds per decision over @p rounds rounds of the row's four.  Not
 * inlined: idn_compare.sh --instructions counts each call's instructions
 * (callgrind --dump-after=time_row). */
static double __attribute__((noinline))
time_row(const rp_policy *p, const row *r, long rounds, unsigned *sink)
{
    rp_query q;
    rp_decision d;
    double t0;

    memset(&q, 0, sizeof(q));
    q.client_ip = "203.0.113.9";
    q.client_ip_len = RP_NTS;
    q.local_ip = "192.0.2.1";
    q.local_ip_len = RP_NTS;
    q.local_port = 25;
    q.sender = "someone@sender.example";
    q.sender_len = RP_NTS;
#ifdef RP_QUERY_SMTPUTF8
    q.flags = r->utf8 ? RP_QUERY_SMTPUTF8 : 0;
#endif
    t0 = now();
    for (long i = 0; i < rounds; i++) {
        q.recipient = r->rcpt[i & 3];
        q.recipient_len = RP_NTS;
        if (decide(p, &q, &d) != RP_OK)
            abort();
        *sink += (unsigned)d.reason;
    }
    return (now() - t0) * 1e9 / (double)rounds;
}

int
main(int argc, char **argv)
{
    long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 2000000;
    rp_policy *p = NULL;
    rp_error err;
    unsigned sink = 0;

    if (rp_policy_compile(policy, RP_NTS, NULL, &p, &err) != RP_OK) {
        fprintf(stderr, "policy: %s\n", err.message);
        return 1;
    }
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        double best = 1e18;
#ifndef RP_QUERY_SMTPUTF8
        if (rows[i].utf8)
            continue;
#endif
        /* The best of five runs: the least disturbed by other load. */
        for (int k = 0; k < 5; k++) {
            double ns = time_row(p, &rows[i], rounds / 5, &sink);
            best = ns < best ? ns : best;
        }
        printf("%-12s %8.1f ns/decision\n", rows[i].name, best);
    }
    rp_policy_free(p);
    return sink == 0xffffffffu;
}
