/*
 * test_decide.c - the decision procedure (relaypolicy(7) §5), its replies
 * (section 4.5) and the classic open-relay tricks (section 6).
 *
 * The data-driven vectors in tests/data/decide/ walk every step; the tests
 * below add what a text line cannot express.
 */
#include "vectors.h"
#include "test_ws.h"

#ifdef RP_STANDALONE_TEST
#include "standalone.h" /* valgrind: one process, no Criterion */
#else
#include <criterion/criterion.h>
#endif

static rp_policy *
load(const char *name)
{
    char path[1024];
    rp_policy *p = NULL;
    rp_error err;
    rp_status st;

    snprintf(path, sizeof(path), "%s/decide/%s", RP_TEST_DATA, name);
    st = rp_policy_compile_file(path, NULL, &p, &err);
    cr_assert_eq(st, RP_OK, "%s: %s:%s", name, err.file, err.message);
    return p;
}

/* Run every case of a vector file; each failing line is reported. */
static void
run_vectors(const char *file)
{
    char path[1024], line[2048], policy[256] = "";
    rp_policy *p = NULL;
    unsigned lineno = 0, cases = 0;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/decide/%s", RP_TEST_DATA, file);
    fp = fopen(path, "r");
    cr_assert_not_null(fp, "cannot open %s", path);
    while (fgets(line, sizeof(line), fp) != NULL) {
        vec_case c;
        rp_query q;
        rp_decision d;
        char why[512];

        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "policy %255s", policy) == 1) {
            rp_policy_free(p);
            p = load(policy);
            continue;
        }
        cr_assert_not_null(p, "%s:%u: no policy line yet", file, lineno);
        cr_assert_eq(vec_parse(line, &c), 0, "%s:%u: malformed", file, lineno);
        vec_query(&c, &q);
        cr_assert_eq(rp_decide(p, &q, test_ws(), &d), RP_OK, "%s:%u: %s", file,
                     lineno, d.detail);
        cr_expect_eq(vec_check(&c, &d, why, sizeof(why)), 0,
                     "%s:%u: %s -> %s\n%s", file, lineno, c.recipient, why,
                     d.explanation);
        cases++;
    }
    fclose(fp);
    rp_policy_free(p);
    cr_assert_gt(cases, 0, "%s holds no cases", file);
}

Test(decide, vectors_main)
{
    run_vectors("main.txt");
}
Test(decide, vectors_login)
{
    run_vectors("login.txt");
}
Test(decide, vectors_replies)
{
    run_vectors("replies.txt");
}
Test(decide, vectors_qualify)
{
    run_vectors("qualify.txt");
}
Test(decide, vectors_postmaster)
{
    run_vectors("postmaster.txt");
}
Test(decide, vectors_implied)
{
    run_vectors("implied.txt");
}
Test(decide, vectors_families)
{
    run_vectors("families.txt");
}
Test(decide, vectors_deny_client)
{
    run_vectors("deny-client.txt");
}
Test(decide, vectors_empty_recipient_list)
{
    run_vectors("empty.txt");
}

Test(decide, vectors_grants)
{
    run_vectors("grants.txt");
}

Test(decide, idn_vectors)
{
    run_vectors("idn.txt");
}

/* ---- relaypolicy(7) §6: one test per trick ------------------------------ */

static rp_policy *tricks;

static void
tricks_setup(void)
{
    tricks = load("main.conf");
}

static void
tricks_teardown(void)
{
    rp_policy_free(tricks);
}

/* From an outside, unauthenticated client on the gateway listener. */
static rp_decision
outside(const char *sender, const char *rcpt)
{
    rp_query q;
    rp_decision d;

    vec_fill(&q, "203.0.113.5", "192.0.2.9", 25, rcpt);
    q.sender = sender;
    q.sender_len = RP_NTS;
    cr_assert_eq(rp_decide(tricks, &q, test_ws(), &d), RP_OK, "%s", d.detail);
    return d;
}

static void
refused(const char *rcpt, unsigned code, rp_reason reason)
{
    rp_decision d = outside("spammer@remote.example", rcpt);

    cr_expect_eq(d.verdict, RP_REJECT, "%s: %s", rcpt, d.reply);
    cr_expect_eq(d.code, code, "%s: %s", rcpt, d.reply);
    cr_expect_eq(d.reason, reason, "%s: %s", rcpt, d.reply);
}

#define TRICK(name, rcpt, code, reason)                                        \
    Test(tricks, name, .init = tricks_setup, .fini = tricks_teardown)          \
    {                                                                          \
        refused(rcpt, code, RP_REASON_##reason);                               \
    }

TRICK(plain_external, "user@remote.example", 550, RELAY_DENIED)
TRICK(percent_hack, "user%remote.example@local.example", 550, RELAY_DENIED)
TRICK(bang_path, "remote.example!user@local.example", 550, RELAY_DENIED)
TRICK(double_at, "user@remote.example@local.example", 501, BAD_RECIPIENT_SYNTAX)
TRICK(quoted_at, "\"user@remote.example\"@local.example", 550, RELAY_DENIED)
TRICK(quoted_percent,
      "\"user%remote.example\"@local.example",
      550,
      RELAY_DENIED)
TRICK(source_route, "@local.example:user@remote.example", 550, RELAY_DENIED)
TRICK(source_route_two_hops,
      "@local.example,@x:user@remote.example",
      550,
      RELAY_DENIED)
TRICK(outside_literal, "user@[203.0.113.77]", 550, RELAY_DENIED)
TRICK(percent_at_own_literal,
      "user%remote.example@[192.0.2.9]",
      550,
      RELAY_DENIED)
TRICK(unqualified_quoted_percent, "\"user%remote.example\"", 550, RELAY_DENIED)
TRICK(unqualified_bang, "remote.example!user", 550, RELAY_DENIED)
TRICK(empty_final_domain, "user@remote.example@", 501, BAD_RECIPIENT_SYNTAX)
TRICK(mixed_case_trailing_dot, "user@REMOTE.EXAMPLE.", 550, RELAY_DENIED)
TRICK(bracketed, "<user@remote.example>", 550, RELAY_DENIED)
TRICK(percent_in_brackets,
      "<user%remote.example@local.example>",
      550,
      RELAY_DENIED)
TRICK(nested_percent,
      "user%remote.example%local.example@local.example",
      550,
      RELAY_DENIED)
TRICK(bang_then_percent,
      "local.example!user%remote.example@local.example",
      550,
      RELAY_DENIED)
TRICK(percent_trailing_dot,
      "\"user%REMOTE.example.\"@local.example",
      550,
      RELAY_DENIED)
TRICK(percent_to_outside_literal,
      "\"user%[203.0.113.77]\"@local.example",
      550,
      RELAY_DENIED)
TRICK(unquoted_literal_in_local_part,
      "user%[203.0.113.77]@local.example",
      501,
      BAD_RECIPIENT_SYNTAX)

Test(tricks,
     spoofed_local_sender,
     .init = tricks_setup,
     .fini = tricks_teardown)
{
    rp_decision d = outside("admin@local.example", "user@remote.example");

    cr_expect_eq(d.verdict, RP_REJECT);
    cr_expect_eq(d.reason, RP_REASON_RELAY_DENIED);
}

Test(tricks, own_literal_sender, .init = tricks_setup, .fini = tricks_teardown)
{
    rp_decision d = outside("postmaster@[192.0.2.9]", "user@remote.example");

    cr_expect_eq(d.verdict, RP_REJECT);
    cr_expect_eq(d.reason, RP_REASON_RELAY_DENIED);
}

Test(tricks, null_sender, .init = tricks_setup, .fini = tricks_teardown)
{
    rp_decision d = outside("<>", "user@remote.example");

    cr_expect_eq(d.verdict, RP_REJECT);
    cr_expect_eq(d.reason, RP_REASON_RELAY_DENIED);
    d = outside("", "user%remote.example@local.example");
    cr_expect_eq(d.reason, RP_REASON_RELAY_DENIED);
}

/* ---- what a text vector cannot say ------------------------------------- */

Test(decide,
     reply_names_the_recipient,
     .init = tricks_setup,
     .fini = tricks_teardown)
{
    rp_decision d = outside("a@b.example", "<bob@Elsewhere.ORG>");

    cr_expect_str_eq(d.reply, "550 5.7.1 <bob@elsewhere.org>: Relaying "
                              "prohibited");
    cr_expect_eq(d.rule, -1);
    cr_expect_str_eq(d.destination, "bob@elsewhere.org");
}

Test(decide,
     control_bytes_are_syntax_errors,
     .init = tricks_setup,
     .fini = tricks_teardown)
{
    static const char *bad[] = {"a\r\n@local.example", "ali\0ce@local.example",
                                "al\xc3@local.example",
                                "alice@local.example\r\nRCPT TO:<x@y.example>"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rp_query q;
        rp_decision d;
        vec_fill(&q, "203.0.113.5", "192.0.2.9", 25, bad[i]);
        q.recipient_len = i == 1 ? 20 : strlen(bad[i]);
        cr_assert_eq(rp_decide(tricks, &q, test_ws(), &d), RP_OK);
        cr_expect_eq(d.code, 501, "case %zu: %s", i, d.reply);
        cr_expect_eq(d.reason, RP_REASON_BAD_RECIPIENT_SYNTAX);
        cr_expect_null(strchr(d.reply, '\r'));
    }
}

Test(decide,
     overlong_path_counts_brackets,
     .init = tricks_setup,
     .fini = tricks_teardown)
{
    char rcpt[400];
    rp_decision d;

    /* 64 + 1 + 189 = 254 octets, 256 with brackets: the limit. */
    memset(rcpt, 'a', 64);
    rcpt[64] = '@';
    memset(rcpt + 65, 'b', 189);
    for (int i = 65 + 60; i < 65 + 189; i += 61)
        rcpt[i] = '.';
    rcpt[65 + 189] = '\0';
    d = outside("a@b.example", rcpt);
    cr_expect_eq(d.reason, RP_REASON_RELAY_DENIED, "%s", d.reply);
    rcpt[65 + 189] = 'c';
    rcpt[65 + 190] = '\0';
    d = outside("a@b.example", rcpt);
    cr_expect_eq(d.reason, RP_REASON_BAD_RECIPIENT_SYNTAX, "%s", d.reply);
}

Test(decide,
     explanation_names_steps_and_rule,
     .init = tricks_setup,
     .fini = tricks_teardown)
{
    rp_query q;
    rp_decision d;

    vec_fill(&q, "10.9.3.3", "192.0.2.9", 25,
             "user%remote.example@local.example");
    q.flags = RP_QUERY_EXPLAIN;
    cr_assert_eq(rp_decide(tricks, &q, test_ws(), &d), RP_OK);
    cr_expect_eq(d.reason, RP_REASON_RELAY_DENIED);
    cr_expect_not_null(strstr(d.explanation, "'internet'"), "%s",
                       d.explanation);
    cr_expect_not_null(strstr(d.explanation, "routing attempt"));
    cr_expect_not_null(strstr(d.explanation, "main.conf:24"));
    cr_expect_not_null(strstr(d.explanation, "deny network guests relay"));
    cr_expect_str_eq(d.listener, "internet");
    cr_expect_eq(d.rule_line, 24);
    cr_expect_eq(d.prefix_len, 16);
    /* Without the flag no trace is written. */
    q.flags = 0;
    cr_assert_eq(rp_decide(tricks, &q, test_ws(), &d), RP_OK);
    cr_expect_str_eq(d.explanation, "");
}

Test(decide, api_errors)
{
    rp_policy *p = load("main.conf");
    static const char *ips[] = {"10.1",      "010.1.2.3",    "167772161",
                                " 10.1.2.3", "fe80::1%eth0", "[::1]",
                                "",          "1.2.3.4 "};
    rp_query q;
    rp_decision d;

    vec_fill(&q, "203.0.113.5", "192.0.2.9", 25, "alice@local.example");
    cr_assert_eq(rp_decide(p, &q, test_ws(), &d), RP_OK);
    cr_expect_eq(rp_decide(NULL, &q, test_ws(), &d), RP_E_ARG);
    cr_expect_eq(d.verdict, RP_VERDICT_NONE);
    cr_expect_eq(rp_decide(p, NULL, test_ws(), &d), RP_E_ARG);
    cr_expect_eq(rp_decide(p, &q, test_ws(), NULL), RP_E_ARG);
    cr_expect_eq(rp_decide(p, &q, NULL, &d), RP_E_ARG);
    cr_expect_eq(d.verdict, RP_VERDICT_NONE);
    q.flags = 1u << 31;
    cr_expect_eq(rp_decide(p, &q, test_ws(), &d), RP_E_ARG);
    q.flags = 0;
    q.reserved[3] = 1;
    cr_expect_eq(rp_decide(p, &q, test_ws(), &d), RP_E_ARG);
    cr_expect_neq(d.detail[0], '\0');
    q.reserved[3] = 0;
    q.client.family = 4; /* given twice: binary and text */
    cr_expect_eq(rp_decide(p, &q, test_ws(), &d), RP_E_ARG);
    q.client.family = 0;
    for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
        q.client_ip = ips[i];
        cr_expect_eq(rp_decide(p, &q, test_ws(), &d), RP_E_ARG, "%s", ips[i]);
        cr_expect_eq(d.verdict, RP_VERDICT_NONE);
        cr_expect_neq(d.detail[0], '\0');
    }
    q.client_ip = "203.0.113.5";
    q.local_port = 0;
    cr_expect_eq(rp_decide(p, &q, test_ws(), &d), RP_E_ARG);
    q.local_port = 65536;
    cr_expect_eq(rp_decide(p, &q, test_ws(), &d), RP_E_ARG);
    q.local_port = 25;
    q.user = "";
    cr_expect_eq(rp_decide(p, &q, test_ws(), &d), RP_E_ARG);
    q.user = "bad\nuser";
    cr_expect_eq(rp_decide(p, &q, test_ws(), &d), RP_E_ARG);
    q.user = NULL;
    q.recipient = NULL;
    cr_expect_eq(rp_decide(p, &q, test_ws(), &d), RP_E_ARG);
    rp_policy_free(p);
}

Test(decide, regex_limit_fails_safe)
{
    static const char policy[] =
        "domain local.example local\n"
        "listener all {\n    bind *\n    allow network 10.0.0.0/8 relay\n"
        "    role gateway\n}\n"
        "deny recipient /(a|aa)+$/\n";
    char rcpt[200];
    rp_policy *p;
    rp_error err;
    rp_query q;
    rp_decision d;

    cr_assert_eq(rp_policy_compile(policy, RP_NTS, NULL, &p, &err), RP_OK, "%s",
                 err.message);
    memset(rcpt, 'a', 60);
    snprintf(rcpt + 60, sizeof(rcpt) - 60, "!@remote.example");
    vec_fill(&q, "10.1.1.1", "192.0.2.9", 25, rcpt);
    cr_assert_eq(rp_decide(p, &q, test_ws(), &d), RP_OK);
    cr_expect_eq(d.verdict, RP_TEMPFAIL, "%s", d.reply);
    cr_expect_str_eq(d.reply, "451 4.3.0 Temporary internal error");
    cr_expect_eq(d.reason, RP_REASON_INTERNAL_ERROR);
    cr_expect_neq(d.detail[0], '\0');
    rp_policy_free(p);
}

/* Bytes that are not UTF-8 are a syntax error with or without SMTPUTF8
 * (the vector files are UTF-8 text, so these cases live here). */
Test(decide, invalid_utf8_is_syntax)
{
    rp_policy *p = load("idn.conf");
    static const char *bad[] = {"x@\xd0.example", "x\xff@xn--d1acufc.xn--p1ai",
                                "x@\xed\xa0\x80.example",
                                "\xc0\xafx@b.example"};
    rp_query q;
    rp_decision d;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (int flag = 0; flag < 2; flag++) {
            vec_fill(&q, "203.0.113.5", "192.0.2.9", 25, bad[i]);
            q.flags = flag ? RP_QUERY_SMTPUTF8 : 0;
            cr_assert_eq(rp_decide(p, &q, test_ws(), &d), RP_OK);
            cr_expect_eq(d.reason, RP_REASON_BAD_RECIPIENT_SYNTAX,
                         "case %zu flag %d: %s", i, flag, d.reply);
        }
        vec_fill(&q, "203.0.113.5", "192.0.2.9", 25,
                 "bob@xn--d1acufc.xn--p1ai");
        q.sender = bad[i];
        q.sender_len = RP_NTS;
        q.flags = RP_QUERY_SMTPUTF8;
        cr_assert_eq(rp_decide(p, &q, test_ws(), &d), RP_OK);
        cr_expect_eq(d.reason, RP_REASON_BAD_SENDER_SYNTAX, "sender %zu: %s", i,
                     d.reply);
    }
    rp_policy_free(p);
}

/* ---- scoped relay against a reference ------------------------------------ */

/* Random listeners of network and anonymous relay rules, scoped or not,
 * granted or denied, decided for every client and destination and
 * compared with a few lines that say relaypolicy(7) §4.2: a deny that
 * matches the client and the destination beats every grant. */
static const char *const ref_nets[] = {"anonymous", "network 10.0.0.0/24",
                                       "network 10.0.0.1",
                                       "network 10.0.1.0/24"};
static const char *const ref_clients[] = {"10.0.0.1", "10.0.0.2", "10.0.1.1",
                                          "192.0.2.9"};
static const char *const ref_pats[] = {"a.example", ".a.example", "b.example"};
static const char *const ref_doms[] = {"a.example", "x.a.example", "b.example",
                                       "c.example"};

typedef struct ref_rule {
    bool deny;
    unsigned net;   /* index in ref_nets */
    unsigned scope; /* bit set of ref_pats; 0: unscoped */
} ref_rule;

static bool
ref_in_net(unsigned net, unsigned client)
{
    static const bool in[4][4] = {
        {1, 1, 1, 1}, {1, 1, 0, 0}, {1, 0, 0, 0}, {0, 0, 1, 0}};
    return in[net][client];
}

static bool
ref_in_scope(unsigned scope, unsigned dom)
{
    static const bool in[3][4] = {{1, 0, 0, 0}, {1, 1, 0, 0}, {0, 0, 1, 0}};
    for (unsigned k = 0; k < 3; k++)
        if ((scope & (1u << k)) && in[k][dom])
            return true;
    return false;
}

static bool
ref_relays(const ref_rule *r, size_t n, unsigned client, unsigned dom)
{
    bool granted = false;

    for (size_t i = 0; i < n; i++) {
        bool hits = ref_in_net(r[i].net, client) &&
                    (r[i].scope == 0 || ref_in_scope(r[i].scope, dom));
        if (hits && r[i].deny)
            return false;
        granted = granted || hits;
    }
    return granted;
}

Test(decide, scoped_relay_matches_a_reference)
{
    unsigned seed = 12345;
    char text[2048];

    for (int round = 0; round < 300; round++) {
        ref_rule rules[4];
        size_t n = 1 + (seed = seed * 1103515245u + 12345u) % 4, at;
        rp_policy *p = NULL;
        rp_error err;

        at = (size_t)snprintf(text, sizeof(text),
                              "allow open-relay\nlistener l {\n"
                              "    bind *:25\n");
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            rules[i].deny = (seed >> 8) % 3 == 0;
            rules[i].net = (seed >> 12) % 4;
            rules[i].scope = (seed >> 16) % 8;
            at += (size_t)snprintf(
                text + at, sizeof(text) - at, "    %s %s relay%s",
                rules[i].deny ? "deny" : "allow", ref_nets[rules[i].net],
                rules[i].scope ? " to" : "");
            for (unsigned k = 0; k < 3; k++)
                if (rules[i].scope & (1u << k))
                    at += (size_t)snprintf(text + at, sizeof(text) - at, " %s",
                                           ref_pats[k]);
            at += (size_t)snprintf(text + at, sizeof(text) - at, "\n");
        }
        snprintf(text + at, sizeof(text) - at, "}\n");
        cr_assert_eq(rp_policy_compile(text, RP_NTS, NULL, &p, &err), RP_OK,
                     "%s\n%s", err.message, text);
        for (unsigned c = 0; c < 4; c++)
            for (unsigned dm = 0; dm < 4; dm++) {
                char rcpt[64];
                rp_query q;
                rp_decision d;
                bool want = ref_relays(rules, n, c, dm);

                snprintf(rcpt, sizeof(rcpt), "u@%s", ref_doms[dm]);
                vec_fill(&q, ref_clients[c], "192.0.2.1", 25, rcpt);
                cr_assert_eq(rp_decide(p, &q, test_ws(), &d), RP_OK);
                cr_assert_eq(d.verdict == RP_RELAY, want,
                             "%s from %s: %s, want %s\n%s", rcpt,
                             ref_clients[c], d.reply,
                             want ? "relay" : "refusal", text);
            }
        rp_policy_free(p);
    }
}
