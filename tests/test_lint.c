/*
 * test_lint.c - the audit of lib/lint.c: every finding is triggered by a
 * small policy, at the right line and severity, and a clean policy has
 * none.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relaypolicy.h"

#define MAX_FOUND 64

typedef struct found {
    size_t n;
    rp_severity sev[MAX_FOUND];
    char code[MAX_FOUND][40];
    uint32_t line[MAX_FOUND];
    char file[MAX_FOUND][64];
    bool has_text[MAX_FOUND];
} found;

static int
collect(void *ctx, const rp_finding *f)
{
    found *F = ctx;

    if (F->n >= MAX_FOUND)
        return 1;
    F->sev[F->n] = f->severity;
    snprintf(F->code[F->n], sizeof(F->code[0]), "%s", f->code);
    snprintf(F->file[F->n], sizeof(F->file[0]), "%s", f->file);
    F->line[F->n] = f->line;
    F->has_text[F->n] = f->message != NULL && f->message[0] != '\0' &&
                        f->advice != NULL && f->advice[0] != '\0';
    F->n++;
    return 0;
}

/* Compile @p text and collect its findings. */
static void
lint_text(const char *text, found *F)
{
    rp_policy *p = NULL;
    rp_error err;
    size_t count = 99;

    memset(F, 0, sizeof(*F));
    memset(&err, 0, sizeof(err));
    cr_assert_eq(rp_policy_compile(text, RP_NTS, NULL, &p, &err), RP_OK,
                 "compile failed: %s", err.message);
    cr_assert_eq(rp_policy_lint(p, collect, F, &count), RP_OK);
    cr_assert_eq(count, F->n);
    rp_policy_free(p);
}

/* The index of finding @p code at @p line (0: any line), or -1. */
static int
find(const found *F, const char *code, uint32_t line)
{
    for (size_t i = 0; i < F->n; i++)
        if (strcmp(F->code[i], code) == 0 && (line == 0 || F->line[i] == line))
            return (int)i;
    return -1;
}

static void
expect(const char *text, const char *code, uint32_t line, rp_severity sev)
{
    found F;
    int i;

    lint_text(text, &F);
    i = find(&F, code, line);
    cr_assert_geq(i, 0, "no %s at line %u", code, (unsigned)line);
    cr_assert_eq(F.sev[i], sev, "%s: severity %d", code, (int)F.sev[i]);
    cr_assert(F.has_text[i], "%s: message and advice must be set", code);
    cr_assert_str_eq(F.file[i], "<string>");
}

static void
expect_none(const char *text, const char *code)
{
    found F;

    lint_text(text, &F);
    cr_assert_lt(find(&F, code, 0), 0, "unexpected %s", code);
}

/* A clean gateway plus submission policy. */
static const char clean[] = "domain example.com local recipients alice bob\n"
                            "domain partner.example relay\n"
                            "network devices 192.0.2.10 192.0.2.11\n"
                            "listener internet {\n"
                            "    bind 0.0.0.0:25\n"
                            "    role gateway\n"
                            "    allow network devices relay\n"
                            "    deny network 192.0.2.128/25 relay\n"
                            "}\n"
                            "listener submission {\n"
                            "    bind 0.0.0.0:587\n"
                            "    role submission\n"
                            "}\n"
                            "sender-login alice alice@example.com\n";

Test(lint, clean_policy_has_no_findings)
{
    found F;

    lint_text(clean, &F);
    cr_assert_eq(F.n, 0, "first finding: %s at line %u", F.n ? F.code[0] : "",
                 F.n ? (unsigned)F.line[0] : 0);
}

Test(lint, bad_arguments)
{
    rp_policy *p = NULL;
    size_t count = 7;

    cr_assert_eq(rp_policy_lint(NULL, collect, NULL, &count), RP_E_ARG);
    cr_assert_eq(count, 0);
    cr_assert_eq(rp_policy_compile(clean, RP_NTS, NULL, &p, NULL), RP_OK);
    cr_assert_eq(rp_policy_lint(p, NULL, NULL, NULL), RP_E_ARG);
    rp_policy_free(p);
}

Test(lint, anonymous_relay_is_critical)
{
    const char *t = "allow open-relay\n"
                    "domain example.com local recipients a\n"
                    "listener x {\n"
                    "    bind 0.0.0.0:25\n"
                    "    allow anonymous relay\n"
                    "}\n";
    expect(t, "open-relay", 5, RP_SEV_CRITICAL);
    expect_none(t, "open-relay-switch");
    /* On a listener only private clients reach it is not the Internet. */
    expect("listener x {\n    bind 0.0.0.0:25\n    remote 10.0.0.0/8\n"
           "    allow anonymous relay\n}\n",
           "anonymous-relay", 4, RP_SEV_WARNING);
    expect_none("listener x {\n    bind 0.0.0.0:25\n    remote 10.0.0.0/8\n"
                "    allow anonymous relay\n}\n",
                "open-relay");
    expect_none(clean, "open-relay");
}

Test(lint, relay_to_everything_is_critical)
{
    expect("allow open-relay\nnetwork all ::/0\n"
           "listener x {\n    bind [::]:25\n    allow network all relay\n}\n",
           "open-relay", 5, RP_SEV_CRITICAL);
    expect("allow open-relay\n"
           "listener x {\n    bind *:25\n"
           "    allow interface 0.0.0.0/0 relay\n}\n",
           "open-relay", 4, RP_SEV_CRITICAL);
}

Test(lint, wide_relay_ranges)
{
    expect("listener x {\n    bind 0.0.0.0:25\n"
           "    allow network 10.0.0.0/23 relay\n}\n",
           "wide-relay-range", 3, RP_SEV_WARNING);
    expect("listener x {\n    bind [::]:25\n"
           "    allow network 2001:db8::/47 relay\n}\n",
           "wide-relay-range", 3, RP_SEV_WARNING);
    expect_none("listener x {\n    bind 0.0.0.0:25\n"
                "    allow network 10.0.0.0/24 relay\n"
                "    allow network 2001:db8::/48 relay\n}\n",
                "wide-relay-range");
    /* A wide range granted only submit is not a relay exposure. */
    expect_none("listener x {\n    bind 0.0.0.0:25\n"
                "    allow network 10.0.0.0/8 submit\n}\n",
                "wide-relay-range");
}

Test(lint, all_except_relay)
{
    const char *internet = "allow open-relay\n"
                           "network lan 10.0.0.0/8\n"
                           "listener x {\n    bind 0.0.0.0:25\n"
                           "    allow network all-except lan relay\n}\n";
    const char *inside = "network lan 10.0.0.0/8\n"
                         "listener x {\n    bind 0.0.0.0:25\n"
                         "    remote 10.0.0.0/8\n"
                         "    allow network all-except 10.1.0.0/16 relay\n"
                         "}\n";
    expect(internet, "all-except-relay", 5, RP_SEV_CRITICAL);
    expect(inside, "all-except-relay", 5, RP_SEV_WARNING);
    expect_none(clean, "all-except-relay");
}

Test(lint, authenticated_relay_on_internet_port25)
{
    const char *t = "listener x {\n    bind 0.0.0.0:25\n"
                    "    allow authenticated submit relay\n}\n";
    expect(t, "auth-relay-internet", 3, RP_SEV_WARNING);
    /* Port 587, or port 25 serving only private ranges, is fine. */
    expect_none(clean, "auth-relay-internet");
    expect_none("listener x {\n    bind 0.0.0.0:25\n    remote 10.0.0.0/8\n"
                "    allow authenticated relay\n}\n",
                "auth-relay-internet");
    /* Public remote ranges make a listener Internet-facing. */
    expect("listener x {\n    bind *:*\n    remote 10.0.0.0/8 192.0.2.0/24\n"
           "    allow authenticated relay\n}\n",
           "auth-relay-internet", 4, RP_SEV_WARNING);
}

Test(lint, listener_without_binds)
{
    expect("listener x {\n    role gateway\n}\n", "listener-unreachable", 1,
           RP_SEV_WARNING);
}

Test(lint, listener_shadowed_by_an_earlier_one)
{
    const char *t = "listener a {\n    bind 0.0.0.0:25 0.0.0.0:587\n"
                    "    remote 10.0.0.0/8\n}\n"
                    "listener b {\n    bind 0.0.0.0:25\n"
                    "    remote 10.0.0.0/8\n}\n";
    expect(t, "listener-shadowed", 5, RP_SEV_WARNING);
    /* Different remote ranges or binds: both can be selected. */
    expect_none("listener a {\n    bind 0.0.0.0:25\n}\n"
                "listener b {\n    bind 0.0.0.0:25\n"
                "    remote 10.0.0.0/8\n}\n",
                "listener-shadowed");
    expect_none(clean, "listener-shadowed");
}

/* @p n listeners, 4 lines each: listener i binds 10.<i/256>.<i%256>.1:25
 * (l1 also 10.255.255.1:587), or all 0.0.0.0:25 when @p shared, with
 * remote 172.<16+i/256>.<i%256>.0/24; then "late", with one of l1's binds and
 * its remote range. */
static char *
many_listeners(size_t n, bool shared)
{
    size_t cap = n * 120 + 400, k = 0;
    char *t = malloc(cap);

    cr_assert_not_null(t);
    for (size_t i = 0; i < n; i++) {
        char bind[64];
        if (shared)
            snprintf(bind, sizeof(bind), "0.0.0.0:25");
        else
            snprintf(bind, sizeof(bind), "10.%zu.%zu.1:25%s", i / 256 % 256,
                     i % 256, i == 1 ? " 10.255.255.1:587" : "");
        k += (size_t)snprintf(t + k, cap - k,
                              "listener l%zu {\n    bind %s\n    remote "
                              "172.%zu.%zu.0/24\n}\n",
                              i, bind, 16 + i / 256, i % 256);
    }
    snprintf(t + k, cap - k,
             "listener late {\n    bind 10.0.1.1:25\n    remote "
             "172.16.1.0/24\n}\n");
    return t;
}

Test(lint, listener_shadowed_among_thousands)
{
    /* 3,000 listeners on their own addresses: every one is still
     * compared with all that could shadow it, so "late" (bound to a
     * subset of l1's binds) is found and nothing is skipped. */
    char *t = many_listeners(3000, false);
    found F;
    int i;

    lint_text(t, &F);
    i = find(&F, "listener-shadowed", 3000 * 4 + 1);
    cr_assert_geq(i, 0, "late is shadowed by l1");
    cr_assert_lt(find(&F, "lint-partial", 0), 0);
    free(t);
}

Test(lint, listener_shadow_check_says_what_it_skips)
{
    /* 3,000 listeners sharing 0.0.0.0:25 are more pairs than compared:
     * a finding says so. */
    char *t = many_listeners(3000, true);
    found F;

    lint_text(t, &F);
    cr_assert_geq(find(&F, "lint-partial", 0), 0);
    free(t);
}

Test(lint, allow_shadowed_by_a_wider_deny)
{
    const char *t = "network lan 10.0.0.0/24\n"
                    "listener x {\n    bind 0.0.0.0:25\n"
                    "    allow network 10.0.0.7 relay\n"
                    "    deny network lan relay\n}\n";
    expect(t, "rule-shadowed", 4, RP_SEV_WARNING);
    expect("listener x {\n    bind 0.0.0.0:25\n"
           "    allow user bob relay\n    deny authenticated relay\n}\n",
           "rule-shadowed", 3, RP_SEV_WARNING);
    /* A deny of a narrower principal leaves the grant in force. */
    expect_none("network lan 10.0.0.0/24\n"
                "listener x {\n    bind 0.0.0.0:25\n"
                "    allow network lan relay\n"
                "    deny network 10.0.0.7 relay\n}\n",
                "rule-shadowed");
}

Test(lint, redundant_grants)
{
    /* A duplicate rule: the later one is reported. */
    expect("listener x {\n    bind 0.0.0.0:25\n"
           "    allow user bob relay\n    allow user bob relay\n}\n",
           "rule-redundant", 4, RP_SEV_INFO);
    /* Submit to a principal that also has relay. */
    expect("listener x {\n    bind 0.0.0.0:25\n"
           "    allow group ops relay\n    allow group ops submit\n}\n",
           "rule-redundant", 4, RP_SEV_INFO);
    /* Something anonymous already has. */
    expect("listener x {\n    bind 0.0.0.0:25\n    role gateway\n"
           "    allow network 192.0.2.1 submit\n}\n",
           "rule-redundant", 4, RP_SEV_INFO);
    /* A group member covered by the group's grant. */
    expect("group ops alice\nlistener x {\n    bind 0.0.0.0:25\n"
           "    allow group ops relay\n    allow user alice relay\n}\n",
           "rule-redundant", 5, RP_SEV_INFO);
    expect_none(clean, "rule-redundant");
    /* A deny of relay takes away what relay implied (relaypolicy(7) §5
     * step 7): the explicit submit is what keeps it. */
    expect_none("group ops alice\nlistener x {\n    bind 0.0.0.0:25\n"
                "    allow group ops relay\n    allow group ops submit\n"
                "    deny user alice relay\n}\n",
                "rule-redundant");
}

Test(lint, deny_of_a_permission_nobody_grants)
{
    expect("listener x {\n    bind 0.0.0.0:25\n    role gateway\n"
           "    deny network 10.0.0.0/8 relay\n}\n",
           "deny-unused", 4, RP_SEV_INFO);
    expect_none(clean, "deny-unused");
}

Test(lint, domain_both_local_and_relay)
{
    expect("domain example.com local recipients a\n"
           "domain .example.com relay\n",
           "domain-local-and-relay", 1, RP_SEV_WARNING);
    expect("domain .example.com local recipients a\n"
           "domain shop.example.com relay\n",
           "domain-local-and-relay", 2, RP_SEV_WARNING);
    expect("domain a.example.com reroute b.example.com\n"
           "domain b.example.com local recipients x\n"
           "domain /^a\\./ local\n",
           "domain-local-and-relay", 1, RP_SEV_WARNING);
    expect_none("domain example.com local recipients a\n"
                "domain example.net relay\n"
                "domain .example.org relay\n",
                "domain-local-and-relay");
}

Test(lint, local_domain_without_recipients)
{
    expect("domain example.com local\n", "no-recipient-validation", 1,
           RP_SEV_WARNING);
    expect_none(clean, "no-recipient-validation");
}

/* relaypolicy(7) §4.1 and §7: an empty recipient list (an empty list
 * file) keeps validation on, and lint says so. */
Test(lint, empty_recipient_list)
{
    char text[1024];

    snprintf(text, sizeof(text),
             "domain example.com local\n"
             "recipients example.com \"%s/decide/empty-users.txt\"\n",
             RP_TEST_DATA);
    expect(text, "recipient-list-empty", 1, RP_SEV_WARNING);
    expect_none(text, "no-recipient-validation");
    snprintf(text, sizeof(text),
             "domain example.com local recipients alice \"%s/decide/"
             "empty-users.txt\"\n",
             RP_TEST_DATA);
    expect_none(text, "recipient-list-empty");
    expect_none(clean, "recipient-list-empty");
}

Test(lint, require_auth_on_internet_port25)
{
    expect("domain example.com local recipients a\n"
           "listener x {\n    bind 0.0.0.0:25\n    require auth\n}\n",
           "auth-on-port25", 4, RP_SEV_WARNING);
    expect_none(clean, "auth-on-port25");
}

Test(lint, routing_for_everyone)
{
    expect("listener x {\n    bind 0.0.0.0:25\n"
           "    allow anonymous submit routing\n}\n",
           "routing-granted", 3, RP_SEV_WARNING);
    expect_none("listener x {\n    bind 0.0.0.0:25\n"
                "    allow network 10.0.0.9 routing\n}\n",
                "routing-granted");
}

Test(lint, policy_wide_switches)
{
    expect("allow open-relay\n", "open-relay-switch", 1, RP_SEV_INFO);
    expect("soft-fail\n", "soft-fail", 0, RP_SEV_WARNING);
    expect("domain example.com local recipients a\n", "no-listener", 0,
           RP_SEV_WARNING);
    expect_none(clean, "soft-fail");
    expect_none(clean, "no-listener");
}

Test(lint, findings_are_sorted_by_line)
{
    found F;

    lint_text("domain b.example local\n"
              "listener x {\n    bind 0.0.0.0:25\n"
              "    allow network 192.0.2.0/23 relay\n}\n"
              "domain a.example local\n",
              &F);
    cr_assert_eq(F.n, 3);
    cr_assert_eq(F.line[0], 1);
    cr_assert_eq(F.line[1], 4);
    cr_assert_eq(F.line[2], 6);
}

Test(lint, interface_relay_on_a_listener_open_to_the_internet)
{
    /* Behind NAT every Internet client arrives on 10.9.9.9: the analysis
     * makes it unsafe, so critical (it needs allow open-relay). */
    expect("allow open-relay\n"
           "listener x {\n    bind 0.0.0.0:25\n"
           "    allow interface 10.9.9.9 relay\n}\n",
           "interface-relay-internet", 4, RP_SEV_CRITICAL);
    expect_none("allow open-relay\n"
                "listener x {\n    bind 0.0.0.0:25\n"
                "    allow interface 10.9.9.9 relay\n}\n",
                "open-relay-switch");
    /* A few public clients only: a warning. */
    expect("listener x {\n    bind 0.0.0.0:25\n    remote 192.0.2.0/24\n"
           "    allow interface 10.9.9.9 relay\n}\n",
           "interface-relay-internet", 4, RP_SEV_WARNING);
    /* Private clients only, or no bind on that address: nothing. */
    expect_none("listener x {\n    bind 0.0.0.0:25\n    remote 10.0.0.0/8\n"
                "    allow interface 10.9.9.9 relay\n}\n",
                "interface-relay-internet");
    expect_none("listener x {\n    bind 192.0.2.1:25\n"
                "    allow interface 10.9.9.9 relay\n}\n",
                "interface-relay-internet");
    expect_none("listener x {\n    bind 192.0.2.1:25\n"
                "    allow interface 10.9.9.9 relay\n}\n",
                "private-relay-nat");
}

Test(lint, private_range_relay_on_a_public_listener)
{
    expect("listener x {\n    bind 0.0.0.0:25\n"
           "    allow network 10.1.0.0/24 relay\n}\n",
           "private-relay-nat", 3, RP_SEV_WARNING);
    expect("listener x {\n    bind [::]:25\n"
           "    allow network fd00::/64 relay\n}\n",
           "private-relay-nat", 3, RP_SEV_WARNING);
    /* Only private clients reach it, a public range, or no relay. */
    expect_none("listener x {\n    bind 0.0.0.0:25\n    remote 10.0.0.0/8\n"
                "    allow network 10.1.0.0/24 relay\n}\n",
                "private-relay-nat");
    expect_none("listener x {\n    bind 0.0.0.0:25\n"
                "    allow network 192.0.2.0/24 relay\n}\n",
                "private-relay-nat");
    expect_none("listener x {\n    bind 0.0.0.0:25\n"
                "    allow network 10.1.0.0/24 submit\n}\n",
                "private-relay-nat");
    expect_none(clean, "private-relay-nat");
}

Test(lint, narrower_grants)
{
    const char *fp =
        "04eee26dfc453b87d5127d23d953cf0ae8bc1ec1d79858ad68264bb13c1d20e8";
    char t[1024];

    /* A declared proxy is decided as the proxy: no NAT warning. */
    expect_none("trusted-proxy 10.0.0.7\n"
                "listener x {\n    bind 0.0.0.0:25\n"
                "    allow network 10.1.0.0/24 relay\n}\n",
                "private-relay-nat");
    expect("trusted-proxy 10.0.0.7 192.0.2.0/24\n", "trusted-proxy-public", 1,
           RP_SEV_CRITICAL);
    expect_none("trusted-proxy 10.0.0.7 fd00::/64\n", "trusted-proxy-public");
    snprintf(t, sizeof(t),
             "listener x {\n    bind *:587\n    require auth\n"
             "    allow certificate %s relay\n}\n",
             fp);
    expect(t, "certificate-behind-auth", 4, RP_SEV_WARNING);
    snprintf(t, sizeof(t),
             "listener x {\n    bind *:587\n    require auth or certificate\n"
             "    allow certificate %s relay\n}\n",
             fp);
    expect_none(t, "certificate-behind-auth");
    /* A login bound to a network is not every password on the Internet. */
    expect_none("listener x {\n    bind *:25\n"
                "    allow authenticated from network 10.0.0.0/8 relay\n}\n",
                "auth-relay-internet");
}

Test(lint, ipv6_entry_covering_the_ipv4_block)
{
    const char *t = "network v6lan ::/64\n"
                    "listener x {\n    bind *:25\n    remote ::/8\n"
                    "    allow network v6lan relay\n}\n"
                    "deny client ::/0\n";

    expect(t, "ipv6-covers-ipv4", 4, RP_SEV_WARNING);
    expect(t, "ipv6-covers-ipv4", 5, RP_SEV_INFO);
    expect(t, "ipv6-covers-ipv4", 7, RP_SEV_WARNING);
    /* Inside ::ffff:0:0/96 it is IPv4; beside it, it is plain IPv6. */
    expect_none("network m ::ffff:10.0.0.0/104\n"
                "listener x {\n    bind *:25\n    remote ::/97\n"
                "    allow network m relay\n}\n"
                "deny client 2001:db8::/32\n",
                "ipv6-covers-ipv4");
}

Test(lint, an_ipv6_entry_does_not_cover_ipv4_grants)
{
    /* ::/64 never matches 10.1.0.0/24 (relaypolicy(7) §2). */
    expect_none("network v6lan ::/64\n"
                "listener x {\n    bind *:25\n    remote 10.0.0.0/8 ::/64\n"
                "    allow network 10.1.0.0/24 relay\n"
                "    allow network v6lan relay\n}\n",
                "rule-redundant");
}

static int
stop_after_one(void *ctx, const rp_finding *f)
{
    (void)f;
    ++*(int *)ctx;
    return 1;
}

Test(lint, stop_early)
{
    rp_policy *p = NULL;
    size_t count = 0;
    int calls = 0;

    cr_assert_eq(rp_policy_compile("domain a.example local\n"
                                   "domain b.example local\n",
                                   RP_NTS, NULL, &p, NULL),
                 RP_OK);
    cr_assert_eq(rp_policy_lint(p, stop_after_one, &calls, &count), RP_OK);
    cr_assert_eq(calls, 1);
    cr_assert_eq(count, 1);
    rp_policy_free(p);
}
