/*
 * test_compile.c - freezing policies: cross-reference errors, reroute
 * chains, the open-relay safety check, the builder API used directly,
 * reference counting and listener introspection.
 */
#include "vectors.h"
#include "test_ws.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define GATEWAY "listener mx {\n    bind *:25\n    role gateway\n}\n"

static rp_status
compile(const char *text, rp_error *err)
{
    rp_policy *p = NULL;
    rp_status st = rp_policy_compile(text, RP_NTS, NULL, &p, err);

    if (st == RP_OK)
        cr_assert_not_null(p);
    else
        cr_assert_null(p, "a failed compile must not hand out a policy");
    rp_policy_free(p);
    return st;
}

static void
expect_error(const char *text,
             rp_status want,
             unsigned line,
             const char *needle)
{
    rp_error err;
    rp_status st = compile(text, &err);

    cr_expect_eq(st, want, "got %s: %s", rp_status_name(st), err.message);
    cr_expect_eq(err.status, want);
    if (line > 0)
        cr_expect_eq(err.line, line, "line %u: %s", err.line, err.message);
    cr_expect_not_null(strstr(err.message, needle), "message: %s", err.message);
}

Test(compile, duplicate_domain_kinds)
{
    expect_error("domain a.example local\n\ndomain A.EXAMPLE. relay\n",
                 RP_E_POLICY, 3, "already declared differently at <string>:1");
    cr_expect_eq(
        compile("domain a.example local\ndomain a.example local\n", NULL),
        RP_OK);
}

Test(compile, reroute_chains)
{
    char text[2048];
    size_t n = 0;

    expect_error("domain a.example reroute b.example\n"
                 "domain b.example reroute a.example\n",
                 RP_E_POLICY, 1, "loops back");
    for (int i = 0; i < 9; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "domain d%d.example reroute d%d.example\n", i,
                              i + 1);
    expect_error(text, RP_E_POLICY, 1, "longer than 8 steps");
    n = 0;
    for (int i = 0; i < 8; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "domain d%d.example reroute d%d.example\n", i,
                              i + 1);
    snprintf(text + n, sizeof(text) - n, "domain d8.example local\n");
    cr_expect_eq(compile(text, NULL), RP_OK);
}

Test(compile, unknown_names)
{
    expect_error("listener mx {\n    bind *:25\n"
                 "    allow network nowhere relay\n}\n",
                 RP_E_POLICY, 3, "unknown network list 'nowhere'");
    expect_error("deny client blocklist\n", RP_E_POLICY, 1,
                 "unknown network list");
    expect_error("domain relay.example relay\n"
                 "recipients relay.example alice\n",
                 RP_E_POLICY, 2, "no local domain");
}

Test(compile, host_bits_are_an_error)
{
    expect_error("network lan 127.0.0.1/8\n", RP_E_ARG, 1, "host bits");
    expect_error("deny client 10.1/16\n", RP_E_ARG, 1, "not a valid network");
}

Test(compile, open_relays_do_not_compile)
{
    expect_error("listener mx {\n    bind *:25\n    allow anonymous relay\n}\n",
                 RP_E_UNSAFE, 3, "open relay");
    expect_error("listener mx {\n    bind *:25\n"
                 "    allow network 0.0.0.0/0 relay\n}\n",
                 RP_E_UNSAFE, 3, "open relay");
    expect_error("network all ::/0\nlistener mx {\n    bind *:25\n"
                 "    allow interface all relay\n}\n",
                 RP_E_UNSAFE, 4, "open relay");
    cr_expect_eq(compile("allow open-relay\nlistener mx {\n    bind *:25\n"
                         "    allow anonymous relay\n}\n",
                         NULL),
                 RP_OK);
    /* A deny of relay to everybody is not a grant. */
    cr_expect_eq(compile("listener mx {\n    bind *:25\n"
                         "    deny anonymous relay\n}\n",
                         NULL),
                 RP_OK);
}

Test(compile, reply_overrides_keep_their_class)
{
    expect_error("reply relay-denied 450 4.7.1 \"later\"\n", RP_E_ARG, 1,
                 "must be 5xx");
    expect_error("reply accepted 550 5.7.1 \"no\"\n", RP_E_ARG, 1,
                 "must be 2xx");
    expect_error("reply relay-denied 554 4.7.1 \"x\"\n", RP_E_ARG, 1,
                 "enhanced");
}

Test(compile, empty_policy_rejects_everything)
{
    rp_policy *p;
    rp_query q;
    rp_decision d;

    cr_assert_eq(rp_policy_compile(NULL, 0, NULL, &p, NULL), RP_OK);
    vec_fill(&q, "192.0.2.1", "192.0.2.2", 25, "a@b.example");
    cr_assert_eq(rp_decide(p, &q, test_ws(), &d), RP_OK);
    cr_expect_eq(d.reason, RP_REASON_NO_LISTENER);
    cr_expect_eq(d.code, 554);
    rp_policy_free(p);
}

Test(compile, bad_arguments)
{
    rp_policy *p = (rp_policy *)1;

    cr_expect_eq(rp_policy_compile("x", 1, NULL, NULL, NULL), RP_E_ARG);
    cr_expect_eq(rp_policy_compile(NULL, 5, NULL, &p, NULL), RP_E_ARG);
    cr_expect_null(p);
    cr_expect_eq(rp_policy_compile_file(NULL, NULL, &p, NULL), RP_E_ARG);
    cr_expect_eq(
        rp_policy_compile_file("/nonexistent/policy.conf", NULL, &p, NULL),
        RP_E_IO);
    rp_policy_free(NULL);
    cr_expect_null(rp_policy_ref(NULL));
}

Test(compile, text_need_not_be_terminated)
{
    const char text[] = GATEWAY "garbage that is not part of the policy";
    rp_policy *p;

    cr_expect_eq(rp_policy_compile(text, strlen(GATEWAY), NULL, &p, NULL),
                 RP_OK);
    rp_policy_free(p);
}

static rp_decision
decide(const rp_policy *p, const char *client, unsigned port, const char *rcpt)
{
    rp_query q;
    rp_decision d;

    vec_fill(&q, client, "192.0.2.25", port, rcpt);
    cr_assert_eq(rp_decide(p, &q, test_ws(), &d), RP_OK, "%s", d.detail);
    return d;
}

Test(compile, builder_api_directly)
{
    rp_builder *b;
    rp_policy *p;
    rp_error err;
    uint32_t mx;
    rp_decision d;

    cr_assert_eq(rp_builder_new(NULL, &b), RP_OK);
    cr_assert_eq(rp_builder_set_source(b, "api.c", 10, 1), RP_OK);
    cr_assert_eq(
        rp_builder_domain(b, "local.example", RP_DOMAIN_LOCAL, NULL, &err),
        RP_OK);
    cr_assert_eq(rp_builder_recipient(b, "local.example", "alice", &err),
                 RP_OK);
    cr_assert_eq(rp_builder_network(b, "devices", "10.1.2.3", &err), RP_OK);
    cr_assert_eq(rp_builder_listener(b, "mx", &mx, &err), RP_OK);
    cr_assert_eq(rp_builder_bind(b, mx, "0.0.0.0:25", &err), RP_OK);
    cr_assert_eq(rp_builder_role(b, mx, RP_ROLE_GATEWAY, &err), RP_OK);
    cr_assert_eq(rp_builder_set_source(b, NULL, 12, 5), RP_OK);
    cr_assert_eq(rp_builder_rule(b, mx, false, RP_PRINCIPAL_NETWORK, "devices",
                                 RP_PERM_RELAY, &err),
                 RP_OK);
    /* A bad call reports where and poisons the build. */
    cr_expect_eq(rp_builder_bind(b, mx, "0.0.0.0:99999", &err), RP_E_ARG);
    cr_expect_str_eq(err.file, "api.c");
    cr_expect_eq(err.line, 12);
    cr_expect_eq(rp_builder_build(b, &p, &err), RP_E_STATE);
    cr_expect_null(p);
    rp_builder_free(b);

    cr_assert_eq(rp_builder_new(NULL, &b), RP_OK);
    rp_builder_domain(b, "local.example", RP_DOMAIN_LOCAL, NULL, NULL);
    rp_builder_network(b, "devices", "10.1.2.3", NULL);
    rp_builder_listener(b, "mx", &mx, NULL);
    rp_builder_bind(b, mx, "*:25", NULL);
    rp_builder_role(b, mx, RP_ROLE_GATEWAY, NULL);
    cr_assert_eq(rp_builder_rule(b, mx, false, RP_PRINCIPAL_NETWORK, "devices",
                                 RP_PERM_RELAY, NULL),
                 RP_OK);
    cr_assert_eq(rp_builder_build(b, &p, &err), RP_OK, "%s", err.message);
    rp_builder_free(b);
    d = decide(p, "10.1.2.3", 25, "x@remote.example");
    cr_expect_eq(d.verdict, RP_RELAY);
    d = decide(p, "10.1.2.4", 25, "x@remote.example");
    cr_expect_eq(d.verdict, RP_REJECT);
    rp_policy_free(p);
}

/* relaypolicy(7) §4.1: a recipient list declared through the builder and
 * left empty keeps validation on; a list for a domain that is not local
 * is refused. */
Test(compile, builder_empty_recipient_list)
{
    rp_builder *b;
    rp_policy *p;
    rp_error err;
    uint32_t mx;
    rp_decision d;

    cr_assert_eq(rp_builder_recipient_list(NULL, "x.example", NULL), RP_E_ARG);
    cr_assert_eq(rp_builder_new(NULL, &b), RP_OK);
    cr_assert_eq(rp_builder_recipient_list(b, "local.example", &err), RP_OK);
    cr_assert_eq(
        rp_builder_domain(b, "local.example", RP_DOMAIN_LOCAL, NULL, &err),
        RP_OK);
    rp_builder_domain(b, "open.example", RP_DOMAIN_LOCAL, NULL, NULL);
    rp_builder_listener(b, "mx", &mx, NULL);
    rp_builder_bind(b, mx, "0.0.0.0:25", NULL);
    rp_builder_role(b, mx, RP_ROLE_GATEWAY, NULL);
    cr_assert_eq(rp_builder_build(b, &p, &err), RP_OK, "%s", err.message);
    rp_builder_free(b);
    d = decide(p, "203.0.113.5", 25, "alice@local.example");
    cr_expect_eq(d.code, 550, "%s", d.reply);
    cr_expect_eq(d.reason, RP_REASON_UNKNOWN_USER, "%s", d.reply);
    d = decide(p, "203.0.113.5", 25, "postmaster@local.example");
    cr_expect_eq(d.verdict, RP_ACCEPT, "%s", d.reply);
    d = decide(p, "203.0.113.5", 25, "alice@open.example");
    cr_expect_eq(d.verdict, RP_ACCEPT, "%s", d.reply);
    rp_policy_free(p);

    cr_assert_eq(rp_builder_new(NULL, &b), RP_OK);
    rp_builder_domain(b, "relay.example", RP_DOMAIN_RELAY, NULL, NULL);
    cr_assert_eq(rp_builder_recipient_list(b, "relay.example", &err), RP_OK);
    cr_expect_eq(rp_builder_build(b, &p, &err), RP_E_POLICY);
    cr_expect_null(p);
    rp_builder_free(b);
}

Test(compile, reference_counting)
{
    rp_policy *p, *q;
    rp_decision d;

    cr_assert_eq(rp_policy_compile(GATEWAY "domain l.example local\n", RP_NTS,
                                   NULL, &p, NULL),
                 RP_OK);
    q = rp_policy_ref(p);
    cr_assert_eq(q, p);
    rp_policy_free(p);
    /* Still alive through the second reference (ASan checks this). */
    d = decide(q, "203.0.113.1", 25, "a@l.example");
    cr_expect_eq(d.verdict, RP_ACCEPT);
    cr_expect_str_eq(d.listener, "mx");
    rp_policy_free(q);
}

Test(compile, listener_introspection)
{
    rp_policy *p;
    rp_listener_info info;

    cr_assert_eq(rp_policy_compile("listener a {\n    bind 192.0.2.7:2525\n"
                                   "    require auth\n}\n"
                                   "listener b {\n    bind [::]:25\n}\n",
                                   RP_NTS, NULL, &p, NULL),
                 RP_OK);
    cr_assert_eq(rp_policy_listener_count(p), 2);
    cr_assert_eq(rp_policy_listener(p, 0, &info), RP_OK);
    cr_expect_str_eq(info.name, "a");
    cr_expect_str_eq(info.bind_ip, "192.0.2.7");
    cr_expect_eq(info.bind_port, 2525);
    cr_expect(info.require_auth);
    cr_expect_eq(info.line, 1);
    cr_assert_eq(rp_policy_listener(p, 1, &info), RP_OK);
    cr_expect_eq(info.bind_family, 6);
    cr_expect_str_eq(info.bind_ip, "");
    cr_expect_eq(rp_policy_listener(p, 2, &info), RP_E_ARG);
    cr_expect_eq(rp_policy_listener_count(NULL), 0);
    rp_policy_free(p);
}

static int
collect(void *ctx, const char *data, size_t len)
{
    char *buf = ctx;
    size_t have = strlen(buf);

    if (have + len >= 4096)
        return 1;
    memcpy(buf + have, data, len);
    buf[have + len] = '\0';
    return 0;
}

Test(compile, dump_is_normalised_and_recompiles)
{
    static const char a[] = "domain B.example. local recipients Zed alice\n"
                            "network devices 10.1.2.4 10.1.2.3\n"
                            "listener mx {\n    bind *:25\n    role gateway\n"
                            "    allow network devices relay\n}\n";
    static const char b[] =
        "network devices 10.1.2.3\nnetwork devices 10.1.2.4\n"
        "domain b.example local\nrecipients b.example alice zed\n"
        "listener mx {\n    bind *:25\n    allow network devices relay\n"
        "    allow anonymous submit\n}\n";
    char da[4096] = "", db[4096] = "", dc[4096] = "";
    rp_policy *pa, *pb, *pc;

    cr_assert_eq(rp_policy_compile(a, RP_NTS, NULL, &pa, NULL), RP_OK);
    cr_assert_eq(rp_policy_compile(b, RP_NTS, NULL, &pb, NULL), RP_OK);
    cr_assert_eq(rp_policy_dump(pa, collect, da), RP_OK);
    cr_assert_eq(rp_policy_dump(pb, collect, db), RP_OK);
    cr_expect_str_eq(da, db);
    cr_expect_not_null(strstr(da, "domain b.example local\n"), "%s", da);
    cr_expect_not_null(strstr(da, "recipients b.example zed\n"));
    cr_expect_not_null(strstr(da, "allow anonymous submit\n"));
    /* The dump is itself a policy with the same dump. */
    cr_assert_eq(rp_policy_compile(da, RP_NTS, NULL, &pc, NULL), RP_OK);
    cr_assert_eq(rp_policy_dump(pc, collect, dc), RP_OK);
    cr_expect_str_eq(da, dc);
    cr_expect_eq(rp_policy_dump(NULL, collect, dc), RP_E_ARG);
    rp_policy_free(pa);
    rp_policy_free(pb);
    rp_policy_free(pc);
}

Test(compile, slot_swaps_policies)
{
    rp_policy *a, *b, *got;
    rp_policy_slot *slot;
    rp_decision d;

    cr_assert_eq(rp_policy_compile(GATEWAY "domain a.example local\n", RP_NTS,
                                   NULL, &a, NULL),
                 RP_OK);
    cr_assert_eq(rp_policy_compile(GATEWAY "domain b.example local\n", RP_NTS,
                                   NULL, &b, NULL),
                 RP_OK);
    cr_assert_eq(rp_slot_new(a, NULL, &slot), RP_OK);
    got = rp_slot_acquire(slot);
    cr_assert_eq(got, a);
    cr_assert_eq(rp_slot_swap(slot, b), RP_OK);
    /* The acquired reference outlives the swap. */
    d = decide(got, "203.0.113.1", 25, "x@a.example");
    cr_expect_eq(d.verdict, RP_ACCEPT);
    rp_policy_free(got);
    got = rp_slot_acquire(slot);
    d = decide(got, "203.0.113.1", 25, "x@a.example");
    cr_expect_eq(d.verdict, RP_REJECT);
    rp_policy_free(got);
    cr_expect_eq(rp_slot_swap(NULL, NULL), RP_E_ARG);
    cr_expect_null(rp_slot_acquire(NULL));
    rp_slot_free(slot);
    rp_slot_free(NULL);
}

Test(compile, dump_escapes_reply_text)
{
    static const char text[] = "reply sender-denied 550 5.7.1 \"Quote "
                               "\\\"this\\\" and a back\\\\slash\"\n";
    char d1[4096] = "", d2[4096] = "";
    rp_policy *p, *q;
    rp_error err;

    cr_assert_eq(rp_policy_compile(text, RP_NTS, NULL, &p, &err), RP_OK, "%s",
                 err.message);
    cr_assert_eq(rp_policy_dump(p, collect, d1), RP_OK);
    cr_expect_not_null(strstr(d1, text), "%s", d1);
    cr_assert_eq(rp_policy_compile(d1, RP_NTS, NULL, &q, &err), RP_OK, "%s",
                 err.message);
    cr_assert_eq(rp_policy_dump(q, collect, d2), RP_OK);
    cr_expect_str_eq(d1, d2);
    rp_policy_free(p);
    rp_policy_free(q);
}
