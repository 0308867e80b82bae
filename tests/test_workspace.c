/*
 * test_workspace.c - deciding with a workspace: the decision's strings
 * live in it, the explanation is cut only with a flag, addresses may come
 * in binary, and one decision's regex work is bounded by its budget.
 */
#include "vectors.h"

#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define GATEWAY                                                                \
    "domain local.example local recipients alice\n"                            \
    "listener mx {\n    bind *:25\n    role gateway\n"                         \
    "    allow network 10.0.0.0/8 relay\n}\n"

static rp_policy *
compile(const char *text, const rp_options *o)
{
    rp_policy *p = NULL;
    rp_error err;

    cr_assert_eq(rp_policy_compile(text, RP_NTS, o, &p, &err), RP_OK, "%s",
                 err.message);
    return p;
}

static rp_workspace *
workspace(uint32_t explain_capacity)
{
    rp_options o;
    rp_workspace *ws = NULL;

    rp_options_init(&o);
    o.explain_capacity = explain_capacity;
    cr_assert_eq(rp_workspace_new(&o, &ws), RP_OK);
    return ws;
}

Test(workspace, strings_live_in_the_workspace)
{
    rp_policy *p = compile(GATEWAY, NULL);
    rp_workspace *ws = workspace(0);
    rp_query q;
    rp_decision d;

    vec_fill(&q, "203.0.113.5", "192.0.2.1", 25, "bob@remote.example");
    q.flags = RP_QUERY_EXPLAIN;
    cr_assert_eq(rp_decide(p, &q, ws, &d), RP_OK, "%s", d.detail);
    cr_expect_eq(d.verdict, RP_REJECT);
    cr_expect_str_eq(d.reply,
                     "550 5.7.1 <bob@remote.example>: Relaying prohibited");
    cr_expect_eq(strlen(d.reply), d.reply_len);
    cr_expect_str_eq(d.destination, "bob@remote.example");
    cr_expect_eq(strlen(d.destination), d.destination_len);
    cr_expect_str_eq(d.rewritten, "");
    cr_expect_eq(d.rewritten_len, 0u);
    cr_expect_gt(d.explanation_len, 0u);
    cr_expect_eq(strlen(d.explanation), d.explanation_len);
    cr_expect_eq(d.flags & RP_DECISION_TRUNCATED, 0u);
    for (size_t i = 0; i < sizeof(d.reserved) / sizeof(d.reserved[0]); i++)
        cr_expect_eq(d.reserved[i], 0u);
    rp_workspace_free(ws);
    rp_policy_free(p);
}

/* A small explanation buffer: the trace is cut and the decision says so;
 * the decision itself is unchanged. */
Test(workspace, explanation_cut_is_flagged)
{
    rp_policy *p = compile(GATEWAY, NULL);
    rp_workspace *small = workspace(256), *big = workspace(0);
    rp_query q;
    rp_decision a, b;

    vec_fill(&q, "10.1.2.3", "192.0.2.1", 25, "bob@remote.example");
    q.flags = RP_QUERY_EXPLAIN;
    cr_assert_eq(rp_decide(p, &q, small, &a), RP_OK);
    cr_assert_eq(rp_decide(p, &q, big, &b), RP_OK);
    cr_expect(a.flags & RP_DECISION_TRUNCATED);
    cr_expect_eq(b.flags & RP_DECISION_TRUNCATED, 0u);
    cr_expect_lt(a.explanation_len, 256u);
    cr_expect_eq(strlen(a.explanation), a.explanation_len);
    cr_expect_gt(b.explanation_len, a.explanation_len);
    cr_expect_eq(strncmp(a.explanation, b.explanation, a.explanation_len), 0);
    cr_expect_eq(a.verdict, RP_RELAY);
    cr_expect_str_eq(a.reply, b.reply);
    rp_workspace_free(small);
    rp_workspace_free(big);
    rp_policy_free(p);
}

Test(workspace, binary_addresses_decide_as_text)
{
    static const char *const clients[] = {"10.1.2.3", "203.0.113.5",
                                          "::ffff:10.9.9.9", "2001:db8::5"};
    rp_policy *p = compile(GATEWAY, NULL);
    rp_workspace *ws = workspace(0);

    for (size_t i = 0; i < 4; i++) {
        rp_query t, b;
        rp_decision dt, db;

        vec_fill(&t, clients[i], "192.0.2.1", 25, "bob@remote.example");
        b = t;
        b.client_ip = b.local_ip = NULL;
        cr_assert_eq(rp_ip_parse(clients[i], RP_NTS, &b.client), RP_OK);
        cr_assert_eq(rp_ip_parse("192.0.2.1", 9, &b.local), RP_OK);
        cr_assert_eq(rp_decide(p, &t, ws, &dt), RP_OK);
        cr_assert_eq(rp_decide(p, &b, ws, &db), RP_OK, "%s", db.detail);
        cr_expect_eq(dt.verdict, db.verdict, "%s", clients[i]);
        cr_expect_eq(dt.reason, db.reason, "%s", clients[i]);
    }
    {
        rp_ip ip;
        cr_expect_eq(rp_ip_parse("::ffff:10.9.9.9", RP_NTS, &ip), RP_OK);
        cr_expect_eq(ip.family, 4u);
        cr_expect_eq(ip.addr[0], 10);
        cr_expect_eq(rp_ip_parse("10.1", RP_NTS, &ip), RP_E_ARG);
        cr_expect_eq(rp_ip_parse(NULL, 0, &ip), RP_E_ARG);
    }
    rp_workspace_free(ws);
    rp_policy_free(p);
}

/* A slot reuses its parse of an unchanged local IP: the text, not the
 * pointer, decides, so a buffer rewritten in place between decisions is
 * parsed again, and a bad local IP after a good one is still refused. */
Test(workspace, local_ip_reuse_follows_the_text)
{
    rp_policy *p = compile("listener a {\n    bind 192.0.2.1:25\n"
                           "    role gateway\n}\n"
                           "listener b {\n    bind 192.0.2.2:25\n"
                           "    role gateway\n}\n",
                           NULL);
    rp_workspace *ws = workspace(0);
    char local[16] = "192.0.2.1";
    rp_query q;
    rp_decision d;

    vec_fill(&q, "203.0.113.5", local, 25, "bob@remote.example");
    cr_assert_eq(rp_decide(p, &q, ws, &d), RP_OK, "%s", d.detail);
    cr_expect_str_eq(d.listener, "a");
    cr_assert_eq(rp_decide(p, &q, ws, &d), RP_OK, "%s", d.detail);
    cr_expect_str_eq(d.listener, "a");
    local[8] = '2';
    cr_assert_eq(rp_decide(p, &q, ws, &d), RP_OK, "%s", d.detail);
    cr_expect_str_eq(d.listener, "b");
    local[8] = 'x';
    cr_expect_eq(rp_decide(p, &q, ws, &d), RP_E_ARG);
    local[8] = '2';
    q.local_ip_len = 8; /* "192.0.2." */
    cr_expect_eq(rp_decide(p, &q, ws, &d), RP_E_ARG);
    q.local_ip_len = RP_NTS;
    cr_assert_eq(rp_decide(p, &q, ws, &d), RP_OK, "%s", d.detail);
    cr_expect_str_eq(d.listener, "b");
    rp_workspace_free(ws);
    rp_policy_free(p);
}

Test(workspace, sockaddr_conversion)
{
    struct sockaddr_in s4;
    struct sockaddr_in6 s6;
    struct sockaddr_storage unk;
    rp_ip ip;

    memset(&s4, 0, sizeof(s4));
    s4.sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.7", &s4.sin_addr);
    cr_assert_eq(rp_ip_from_sockaddr((struct sockaddr *)&s4, &ip), RP_OK);
    cr_expect_eq(ip.family, 4u);
    cr_expect_eq(ip.addr[3], 7);
    memset(&s6, 0, sizeof(s6));
    s6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:192.0.2.8", &s6.sin6_addr);
    cr_assert_eq(rp_ip_from_sockaddr((struct sockaddr *)&s6, &ip), RP_OK);
    cr_expect_eq(ip.family, 4u, "a mapped address is IPv4");
    cr_expect_eq(ip.addr[3], 8);
    inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr);
    cr_assert_eq(rp_ip_from_sockaddr((struct sockaddr *)&s6, &ip), RP_OK);
    cr_expect_eq(ip.family, 6u);
    cr_expect_eq(ip.addr[15], 1);
    memset(&unk, 0, sizeof(unk));
    unk.ss_family = AF_UNIX;
    cr_expect_eq(rp_ip_from_sockaddr((struct sockaddr *)&unk, &ip), RP_E_ARG);
    cr_expect_eq(rp_ip_from_sockaddr(NULL, &ip), RP_E_ARG);
}

/* Bad binary facts are API errors. */
Test(workspace, bad_binary_addresses)
{
    rp_policy *p = compile(GATEWAY, NULL);
    rp_workspace *ws = workspace(0);
    rp_query q;
    rp_decision d;

    vec_fill(&q, NULL, "192.0.2.1", 25, "bob@remote.example");
    q.client.family = 5;
    cr_expect_eq(rp_decide(p, &q, ws, &d), RP_E_ARG);
    q.client.family = 0;
    cr_expect_eq(rp_decide(p, &q, ws, &d), RP_E_ARG, "no client address");
    rp_workspace_free(ws);
    rp_policy_free(p);
}

/* Many deny regexes that each run close to the match limit (about 45,000
 * JIT steps, 61,000 interpreted, on twelve a's and a domain; the limit is
 * 100,000): one decision stops when its budget is spent and fails safe,
 * quickly. */
#define N_SLOW 400

static char *
slow_policy(void)
{
    size_t cap = N_SLOW * 64 + 512, n = 0;
    char *text = malloc(cap);

    cr_assert_not_null(text);
    n += (size_t)snprintf(text + n, cap - n, "%s", GATEWAY);
    for (int i = 0; i < N_SLOW; i++)
        n += (size_t)snprintf(text + n, cap - n,
                              "deny recipient /^(a|a?)+(%d)?$/\n", i);
    return text;
}

static double
now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

Test(workspace, regex_budget_fails_safe, .timeout = 60)
{
    char *text = slow_policy();
    char rcpt[64];
    rp_options o;
    rp_policy *p;
    rp_workspace *ws = workspace(0);
    rp_query q;
    rp_decision d;
    double t0;

    rp_options_init(&o);
    p = compile(text, &o);
    memset(rcpt, 'a', 12);
    snprintf(rcpt + 12, sizeof(rcpt) - 12, "@local.example");
    vec_fill(&q, "10.1.2.3", "192.0.2.1", 25, rcpt);
    t0 = now();
    cr_assert_eq(rp_decide(p, &q, ws, &d), RP_OK);
    printf("regex budget: %d slow regexes, decided in %.4f s: %s (%s)\n",
           N_SLOW, now() - t0, d.reply, d.detail);
    cr_expect_eq(d.verdict, RP_TEMPFAIL);
    cr_expect_eq(d.reason, RP_REASON_INTERNAL_ERROR);
    cr_expect_str_eq(d.reply, "451 4.3.0 Temporary internal error");
    cr_expect(strstr(d.detail, "budget") != NULL, "%s", d.detail);
    rp_policy_free(p);
    free(text);
    rp_workspace_free(ws);
}

/* The same policy with cheap subjects stays within the default budget. */
Test(workspace, cheap_regexes_fit_the_default_budget)
{
    char *text = slow_policy();
    rp_policy *p = compile(text, NULL);
    rp_workspace *ws = workspace(0);
    rp_query q;
    rp_decision d;

    vec_fill(&q, "10.1.2.3", "192.0.2.1", 25, "alice@local.example");
    cr_assert_eq(rp_decide(p, &q, ws, &d), RP_OK);
    cr_expect_eq(d.verdict, RP_ACCEPT, "%s %s", d.reply, d.detail);
    rp_policy_free(p);
    free(text);
    rp_workspace_free(ws);
}
