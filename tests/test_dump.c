/*
 * test_dump.c - the dump is a policy: for every valid test policy, every
 * example policy and every fuzz_parse seed that compiles, the dump
 * compiles again and dumps to itself (a fixed point).
 */
#include "relaypolicy.h"
#include "write_buf.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALID RP_TEST_DATA "/parse/valid"
#define SEEDS RP_TEST_DATA "/../../fuzz/seeds/fuzz_parse"
#define EXAMPLES RP_TEST_DATA "/../../examples/policies"

static char *
dump(const rp_policy *p)
{
    write_buf b = {NULL, 0, 0};

    cr_assert_eq(rp_policy_dump(p, write_buf_put, &b), RP_OK);
    return b.s != NULL ? b.s : strdup("");
}

/* @p p compiled from @p what: its dump recompiles and is a fixed point.
 * Returns false (after reporting) when it is not. */
static bool
round_trip(const rp_policy *p, const char *what)
{
    rp_options o;
    rp_policy *q = NULL;
    rp_error err;
    char *d1 = dump(p), *d2;
    bool ok;

    rp_options_init(&o);
    o.flags = RP_OPT_NO_FILES;
    if (rp_policy_compile(d1, RP_NTS, &o, &q, &err) != RP_OK) {
        cr_log_error("%s: the dump does not compile: %s\n%s", what, err.message,
                     d1);
        free(d1);
        return false;
    }
    d2 = dump(q);
    ok = strcmp(d1, d2) == 0;
    if (!ok)
        cr_log_error("%s: the dump of the dump differs:\n%s\n--\n%s", what, d1,
                     d2);
    free(d1);
    free(d2);
    rp_policy_free(q);
    return ok;
}

/* @p text compiles, its dump holds the lines @p want in one block, and
 * the dump round-trips. */
static void
expect_block(const char *text, const char *want, const char *what)
{
    rp_policy *p = NULL;
    rp_error err;
    char *d;

    cr_assert_eq(rp_policy_compile(text, RP_NTS, NULL, &p, &err), RP_OK,
                 "%s: %s", what, err.message);
    d = dump(p);
    cr_expect(strstr(d, want) != NULL, "%s: %s", what, d);
    cr_expect(round_trip(p, what));
    free(d);
    rp_policy_free(p);
}

/* Every file @p name in the subdirectories of @p dir (or, with @p name
 * NULL, every file of @p dir) that compiles must round-trip. */
static void
each(const char *dir,
     const char *name,
     bool no_files,
     size_t *tried,
     size_t *bad)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    cr_assert_not_null(d, "cannot open %s", dir);
    while ((e = readdir(d)) != NULL) {
        char path[1024];
        rp_options o;
        rp_policy *p = NULL;

        if (e->d_name[0] == '.')
            continue;
        if (name != NULL)
            snprintf(path, sizeof(path), "%s/%s/%s", dir, e->d_name, name);
        else
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        rp_options_init(&o);
        o.flags = no_files ? RP_OPT_NO_FILES : 0;
        if (rp_policy_compile_file(path, &o, &p, NULL) != RP_OK)
            continue;
        (*tried)++;
        *bad += !round_trip(p, path);
        rp_policy_free(p);
    }
    closedir(d);
}

Test(dump, valid_and_example_policies_round_trip)
{
    size_t tried = 0, bad = 0;

    each(VALID, "policy", false, &tried, &bad);
    each(EXAMPLES, NULL, false, &tried, &bad);
    cr_expect_gt(tried, 15u, "only %zu policies compiled", tried);
    cr_expect_eq(bad, 0u, "%zu of %zu policies do not round-trip", bad, tried);
}

Test(dump, fuzz_parse_seeds_round_trip, .timeout = 120)
{
    size_t tried = 0, bad = 0;

    each(SEEDS, NULL, true, &tried, &bad);
    cr_expect_gt(tried, 100u, "only %zu seeds compiled", tried);
    cr_expect_eq(bad, 0u, "%zu of %zu seeds do not round-trip", bad, tried);
}

/* The cases the fuzzer and a review found. */
Test(dump, long_regex_and_slash_local_parts)
{
    static const char head[] =
        "domain local.example local\n"
        "listener mx {\n    bind *:25\n    role gateway\n}\n";
    char text[4096];
    char re[1021];
    rp_policy *p = NULL;
    rp_error err;

    memset(re, 'a', sizeof(re) - 1);
    re[sizeof(re) - 1] = '\0';
    snprintf(text, sizeof(text), "%sdeny recipient /%s/\n", head, re);
    cr_assert_eq(rp_policy_compile(text, RP_NTS, NULL, &p, &err), RP_OK, "%s",
                 err.message);
    cr_expect(round_trip(p, "1020-byte regex"));
    rp_policy_free(p);
}

/* An empty recipient list keeps validation on; its dump says `()`, which
 * compiles back to an empty list, not to no list. */
Test(dump, empty_recipient_list_round_trips)
{
    static const char *const texts[] = {
        "domain closed.example local recipients ()\n",
        "domain closed.example local\nrecipients closed.example ()\n",
    };
    static const char tail[] =
        "listener mx {\n    bind *:25\n    role gateway\n}\n";

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char text[512];
        rp_policy *p = NULL;
        rp_error err;
        char *d;

        snprintf(text, sizeof(text), "%s%s", texts[i], tail);
        cr_assert_eq(rp_policy_compile(text, RP_NTS, NULL, &p, &err), RP_OK,
                     "%s", err.message);
        d = dump(p);
        cr_expect(strstr(d, "\nrecipients closed.example ()\n") != NULL, "%s",
                  d);
        cr_expect(round_trip(p, texts[i]));
        free(d);
        rp_policy_free(p);
    }
}

/* Network entries are rendered when the dump is asked for: by list name,
 * then address (IPv4 first), then length, whatever order they came in. */
Test(dump, network_lines_sorted_by_list_then_address)
{
    static const char text[] =
        "network zeta 2001:db8::/32 10.0.0.0/8\n"
        "network alpha 192.0.2.1 10.1.0.0/16 10.0.0.0/8\n"
        "network zeta 10.0.0.0/16 ::ffff:198.51.100.0/120\n"
        "listener mx {\n    bind *:25\n    role gateway\n"
        "    allow network zeta submit\n}\n"
        "deny client alpha\n";
    static const char want[] = "network alpha 10.0.0.0/8\n"
                               "network alpha 10.1.0.0/16\n"
                               "network alpha 192.0.2.1/32\n"
                               "network zeta 10.0.0.0/8\n"
                               "network zeta 10.0.0.0/16\n"
                               "network zeta 198.51.100.0/24\n"
                               "network zeta 2001:db8::/32\n";

    expect_block(text, want, "network lists");
}

/* `deny client` lines are rendered when the dump is asked for too, sorted
 * as text whether they name a list or give a network, and they stay
 * between the certificate and trusted-proxy lines and the deny sender
 * lines. */
Test(dump, deny_client_lines_sorted_as_text)
{
    static const char text[] =
        "network blocked 203.0.113.0/24\n"
        "listener mx {\n    bind *:25\n    role gateway\n}\n"
        "trusted-proxy 192.0.2.9\n"
        "deny client 10.0.0.0/8 fe80::/10 blocked\n"
        "deny client 2001:db8::/32 9.9.9.9\n"
        "deny sender @spam.example\n";
    static const char want[] = "trusted-proxy 192.0.2.9/32\n"
                               "deny client 10.0.0.0/8\n"
                               "deny client 2001:db8::/32\n"
                               "deny client 9.9.9.9/32\n"
                               "deny client blocked\n"
                               "deny client fe80::/10\n"
                               "deny sender @spam.example\n";

    expect_block(text, want, "deny client");
}
