/*
 * test_parse.c - the policy language (lib/parse.c), tested end to end
 * through rp_policy_compile() and rp_decide(), plus the data-driven vectors:
 * tests/data/parse/invalid/<case>/{policy,error} for errors and
 * tests/data/parse/valid/<case>/{policy,expected} for the normalised dump.
 */
#include "relaypolicy.h"
#include "test_ws.h"
#include "write_buf.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILES RP_TEST_DATA "/parse/files"
#define INVALID RP_TEST_DATA "/parse/invalid"
#define VALID RP_TEST_DATA "/parse/valid"

/* Compile @p text from an exact-size heap copy (no NUL after it), so a
 * read past the end is caught by AddressSanitizer. */
static rp_status
compile_n(const char *text,
          size_t len,
          const rp_options *opts,
          rp_policy **out,
          rp_error *err)
{
    char *copy = malloc(len ? len : 1);
    rp_status st;

    cr_assert_not_null(copy);
    memcpy(copy, text, len);
    memset(err, 0, sizeof(*err));
    st = rp_policy_compile(copy, len, opts, out, err);
    free(copy);
    return st;
}

static rp_policy *
compile_ok(const char *text)
{
    rp_policy *p = NULL;
    rp_error err;
    rp_options o;

    rp_options_init(&o);
    o.base_dir = FILES;
    rp_status st = compile_n(text, strlen(text), &o, &p, &err);
    cr_assert_eq(st, RP_OK, "compile failed: %s: %s (%s)", rp_status_name(st),
                 err.message, err.file);
    cr_assert_not_null(p);
    return p;
}

/* Expect a compile error with this status, location and message. */
static void
expect_error(const char *text,
             const rp_options *opts,
             rp_status want,
             unsigned line,
             unsigned col,
             const char *msg)
{
    rp_policy *p = (rp_policy *)1;
    rp_error err;
    char full[200];
    rp_status st = compile_n(text, strlen(text), opts, &p, &err);

    cr_assert_eq(st, want, "status %s, want %s (%s)", rp_status_name(st),
                 rp_status_name(want), err.message);
    cr_assert_null(p);
    cr_assert_eq(err.status, want);
    if (line != 0)
        snprintf(full, sizeof(full), "%u:%u: %s", line, col, msg);
    else
        snprintf(full, sizeof(full), "%s", msg);
    cr_assert_str_eq(err.message, full);
    cr_assert_eq(err.line, line);
    cr_assert_eq(err.column, col);
}

typedef struct facts {
    const char *client, *local;
    uint32_t port;
    const char *user, *sender, *rcpt;
} facts;

static rp_decision
decide(const rp_policy *p, facts f)
{
    rp_query q;
    rp_decision d;

    memset(&q, 0, sizeof(q));
    q.client_ip = f.client;
    q.client_ip_len = RP_NTS;
    q.local_ip = f.local != NULL ? f.local : "192.0.2.1";
    q.local_ip_len = RP_NTS;
    q.local_port = f.port != 0 ? f.port : 25;
    q.user = f.user;
    q.user_len = RP_NTS;
    q.sender = f.sender != NULL ? f.sender : "someone@outside.example";
    q.sender_len = RP_NTS;
    q.recipient = f.rcpt;
    q.recipient_len = RP_NTS;
    cr_assert_eq(rp_decide(p, &q, test_ws(), &d), RP_OK, "rp_decide failed: %s",
                 d.detail);
    return d;
}

#define OUTSIDE "203.0.113.9"

static char *slurp(const char *path, size_t *len);

/* The relaypolicy(7) §8 policy, in the final grammar. */
static const char spec_policy[] =
    "# The relaypolicy(7) §8 example.\n"
    "domain example.com     local  recipients \"users.txt\"\n"
    "domain .example.net    local\n"
    "domain partner.org     relay\n"
    "domain dec.com         reroute compaq.com\n"
    "\n"
    "network guests   10.9.0.0/16\n"
    "network devices  10.1.2.3 \\\n"
    "                 10.1.2.4      # two devices\n"
    "group   helpdesk alice bob\n"
    "\n"
    "listener internet {\n"
    "    bind 0.0.0.0:25 [::]:25\n"
    "    role gateway\n"
    "    allow network devices relay\n"
    "    allow group helpdesk relay\n"
    "    deny  network guests relay       # never route\n"
    "}\n"
    "listener submission {\n"
    "    bind 0.0.0.0:587\n"
    "    require auth\n"
    "    allow authenticated submit relay\n"
    "}\n"
    "\n"
    "deny client    198.51.100.0/24\n"
    "deny sender    /@spam\\.example$/ /a b#c/\n"
    "deny recipient trap@example.com\n"
    "reply relay-denied 554 5.7.1 \"Relay access denied\"\n";

Test(parse, spec_example)
{
    rp_policy *p = compile_ok(spec_policy);
    rp_decision d;

    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "alice@example.com"});
    cr_expect_eq(d.verdict, RP_ACCEPT);
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "mallory@example.com"});
    cr_expect_eq(d.reason, RP_REASON_UNKNOWN_USER);
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "x@sub.example.net"});
    cr_expect_eq(d.verdict, RP_ACCEPT);
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "x@partner.org"});
    cr_expect_eq(d.verdict, RP_RELAY);
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "x@dec.com"});
    cr_expect_eq(d.verdict, RP_RELAY);
    cr_expect_str_eq(d.rewritten, "x@compaq.com");
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "x@elsewhere.org"});
    cr_expect_eq(d.reason, RP_REASON_RELAY_DENIED);
    cr_expect_eq(d.code, 554u);
    cr_expect_str_eq(d.text, "Relay access denied");
    d = decide(p, (facts){"10.1.2.4", 0, 0, 0, 0, "x@elsewhere.org"});
    cr_expect_eq(d.verdict, RP_RELAY);
    cr_expect_eq(d.rule_line, 15u, "rule line %u", d.rule_line);
    cr_expect_str_eq(d.rule_file, "<string>");
    d = decide(p, (facts){"10.9.1.1", 0, 0, "alice", 0, "x@elsewhere.org"});
    cr_expect_eq(d.verdict, RP_REJECT, "deny network guests beats group");
    d = decide(p, (facts){"10.8.1.1", 0, 0, "Bob", 0, "x@elsewhere.org"});
    cr_expect_eq(d.verdict, RP_RELAY);
    d = decide(p, (facts){OUTSIDE, 0, 587, 0, 0, "x@elsewhere.org"});
    cr_expect_eq(d.reason, RP_REASON_AUTH_REQUIRED);
    d = decide(p, (facts){OUTSIDE, 0, 587, "carol", 0, "x@elsewhere.org"});
    cr_expect_eq(d.verdict, RP_RELAY);
    d = decide(p, (facts){"198.51.100.7", 0, 0, 0, 0, "alice@example.com"});
    cr_expect_eq(d.reason, RP_REASON_CLIENT_BLOCKED);
    d = decide(
        p, (facts){OUTSIDE, 0, 0, 0, "x@spam.example", "alice@example.com"});
    cr_expect_eq(d.reason, RP_REASON_SENDER_DENIED);
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, "\"xa b#cx\"@o.example",
                          "alice@example.com"});
    cr_expect_eq(d.reason, RP_REASON_SENDER_DENIED, "regex with blanks");
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "trap@example.com"});
    cr_expect_eq(d.reason, RP_REASON_RECIPIENT_DENIED);
    rp_policy_free(p);
}

/* The complete example in doc/relaypolicy.conf.5.md compiles, and means
 * what the test above checks for the same policy. */
Test(parse, doc_example)
{
    size_t len;
    char *doc = slurp(RP_TEST_DATA "/../../doc/relaypolicy.conf.5.md", &len);
    char *start, *end;
    rp_policy *p;
    rp_decision d;

    cr_assert_not_null(doc);
    start = strstr(doc, "## EXAMPLES");
    cr_assert_not_null(start);
    start = strstr(start, "```\n");
    cr_assert_not_null(start);
    start += 4;
    end = strstr(start, "```\n");
    cr_assert_not_null(end);
    *end = '\0';
    p = compile_ok(start);
    d = decide(p, (facts){"10.1.2.4", 0, 0, 0, 0, "x@elsewhere.org"});
    cr_expect_eq(d.verdict, RP_RELAY);
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "x@elsewhere.org"});
    cr_expect_eq(d.code, 554u);
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "eve@example.com"});
    cr_expect_eq(d.reason, RP_REASON_UNKNOWN_USER);
    rp_policy_free(p);
    free(doc);
}

/* Includes and list files, relative to the file that names them. */
Test(parse, files_and_includes)
{
    rp_policy *p = NULL;
    rp_error err;
    rp_decision d;
    rp_status st;

    memset(&err, 0, sizeof(err));
    st = rp_policy_compile_file(FILES "/main.conf", NULL, &p, &err);
    cr_assert_eq(st, RP_OK, "%s: %s", err.file, err.message);
    /* users.txt, next to main.conf. */
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "alice@example.com"});
    cr_expect_eq(d.verdict, RP_ACCEPT);
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "dave@example.com"});
    cr_expect_eq(d.verdict, RP_ACCEPT, "entry after a comment and blanks");
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "eve@example.com"});
    cr_expect_eq(d.reason, RP_REASON_UNKNOWN_USER);
    /* sub/extra.conf, and sub/devices.txt relative to it. */
    d = decide(p, (facts){"10.1.2.3", 0, 0, 0, 0, "x@elsewhere.org"});
    cr_expect_eq(d.verdict, RP_RELAY);
    cr_expect(strstr(d.rule_file, "sub/extra.conf") != NULL, "rule file %s",
              d.rule_file);
    cr_expect_eq(d.rule_line, 4u);
    /* sub/nested.conf, included by sub/extra.conf as "nested.conf". */
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "x@nested.example"});
    cr_expect_eq(d.verdict, RP_RELAY);
    rp_policy_free(p);
}

Test(parse, base_dir_for_text)
{
    rp_policy *p = compile_ok("include \"sub/extra.conf\"\n");
    rp_decision d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "x@nested.example"});

    cr_expect_eq(d.verdict, RP_RELAY);
    rp_policy_free(p);
}

Test(parse, list_file_error_location)
{
    rp_options o;
    rp_error err;
    rp_policy *p = NULL;
    const char *text = "domain example.com local recipients \"bad.txt\"\n";

    rp_options_init(&o);
    o.base_dir = FILES;
    cr_assert_neq(compile_n(text, strlen(text), &o, &p, &err), RP_OK);
    cr_expect_str_eq(err.file, FILES "/bad.txt");
    cr_expect_eq(err.line, 3u);
    cr_expect_eq(err.column, 3u);
    cr_expect_eq(err.offset, 12u);
    cr_expect_str_eq(err.snippet, "not valid");
}

Test(parse, no_files_option)
{
    rp_options o;

    rp_options_init(&o);
    o.flags = RP_OPT_NO_FILES;
    o.base_dir = FILES;
    expect_error("include \"main.conf\"\n", &o, RP_E_POLICY, 1, 9,
                 "includes are disabled");
    expect_error("domain a.example local recipients x \"users.txt\"\n", &o,
                 RP_E_POLICY, 1, 37, "list files are disabled");
}

Test(parse, include_depth)
{
    rp_options o;

    rp_options_init(&o);
    o.base_dir = FILES;
    o.max_include_depth = 1;
    /* main.conf includes sub/extra.conf, which includes nested.conf. */
    rp_error err;
    rp_policy *p = NULL;
    const char *text = "include \"main.conf\"\n";
    cr_assert_eq(compile_n(text, strlen(text), &o, &p, &err), RP_E_LIMIT);
    cr_expect_str_eq(err.file, FILES "/main.conf");
    cr_expect_str_eq(err.message, "5:9: includes nested more than 1 deep");
    /* A huge option is capped: a self-include loop still ends. */
    o.max_include_depth = 1000000;
    text = "include \"loop.conf\"\n";
    cr_assert_eq(compile_n(text, strlen(text), &o, &p, &err), RP_E_POLICY);
    cr_expect_str_eq(err.message,
                     "1:9: include loop: 'loop.conf' is already being read");
}

Test(parse, limits)
{
    rp_options o;
    char line[200];

    rp_options_init(&o);
    o.max_line_length = 20;
    memset(line, 'x', sizeof(line));
    expect_error("self 192.0.2.1\nnetwork lan 10.0.0.0/8 10.1.0.0/16\n", &o,
                 RP_E_LIMIT, 2, 21, "line longer than 20 bytes");
    /* A line of exactly the limit is fine. */
    rp_policy_free(compile_ok("network lan 10.0.0.0/8\n"));
    rp_options_init(&o);
    o.max_policy_bytes = 16;
    expect_error("network lan 10.0.0.0/8\n", &o, RP_E_LIMIT, 0, 0,
                 "policy larger than 16 bytes");
    o.max_policy_bytes = 40;
    o.base_dir = FILES;
    expect_error("include \"main.conf\"\n", &o, RP_E_LIMIT, 1, 9,
                 "'main.conf' is larger than 40 bytes");
    (void)line;
}

Test(parse, nul_and_control_bytes)
{
    rp_error err;
    rp_policy *p = NULL;
    static const char nul[] = "domain a.example local\n# x\0y\n";

    cr_assert_eq(compile_n(nul, sizeof(nul) - 1, NULL, &p, &err), RP_E_SYNTAX);
    cr_expect_str_eq(err.message, "2:4: NUL byte in the policy");
    cr_expect_eq(err.offset, 26u);
    expect_error("domain a\x01.example local\n", NULL, RP_E_SYNTAX, 1, 9,
                 "control character 0x01 in the policy");
    /* A form feed in a comment is harmless, and so is a byte order mark,
     * which still counts in byte columns. */
    rp_policy_free(compile_ok("# page\f\ndomain a.example local\n"));
    rp_policy_free(compile_ok("\xEF\xBB\xBF"
                              "domain a.example local\n"));
    expect_error("\xEF\xBB\xBF  bogus\n", NULL, RP_E_SYNTAX, 1, 6,
                 "unknown statement 'bogus'");
}

Test(parse, lexical_forms)
{
    /* CRLF line ends, tabs, comments glued to words, continuations with
     * comments, a continuation at the very end, and no final newline. */
    rp_policy *p =
        compile_ok("domain\ta.example\tlocal recipients bob#comment\r\n"
                   "listener mx { # the MX\r\n"
                   "  bind *:25 \\ # first\r\n"
                   "       *:26\r\n"
                   "  role gateway\r\n"
                   "}\r\n"
                   "deny sender /x\\\\y/ \\");
    rp_decision d = decide(p, (facts){OUTSIDE, 0, 26, 0, 0, "bob@a.example"});

    cr_expect_eq(d.verdict, RP_ACCEPT);
    rp_policy_free(p);
}

Test(parse, quoted_list_file_name_with_escapes)
{
    rp_policy *p = compile_ok("domain a.example local recipients "
                              "\"odd \\\"name\\\\.txt\"\n"
                              "listener mx {\n  bind *:25\n  role gateway\n"
                              "}\n");
    rp_decision d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "zed@a.example"});

    cr_expect_eq(d.verdict, RP_ACCEPT);
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "alice@a.example"});
    cr_expect_eq(d.reason, RP_REASON_UNKNOWN_USER);
    rp_policy_free(p);
}

/* A list file saved with a UTF-8 byte order mark. */
Test(parse, list_file_with_bom)
{
    rp_policy *p = compile_ok("domain a.example local recipients "
                              "\"bom.txt\"\n"
                              "listener mx {\n  bind *:25\n  role gateway\n"
                              "}\n");
    rp_decision d =
        decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "bom-user@a.example"});

    cr_expect_eq(d.verdict, RP_ACCEPT);
    rp_policy_free(p);
}

Test(parse, listener_statements)
{
    rp_policy *p = compile_ok("domain example.com local\n"
                              "network office 10.0.0.0/8\n"
                              "group admins root\n"
                              "listener inside {\n"
                              "  bind 192.0.2.1:25\n"
                              "  remote office 172.16.0.0/12\n"
                              "  allow interface 192.0.2.1 submit\n"
                              "  allow user carol relay\n"
                              "  allow group admins relay routing\n"
                              "  allow network all-except 10.66.0.0/16 relay\n"
                              "  deny  network 10.99.0.0/16 relay\n"
                              "  allow anonymous local-sender\n"
                              "}\n"
                              "listener outside {\n"
                              "  bind *\n"
                              "  role all-in-one\n"
                              "  deny anonymous submit\n"
                              "}\n");
    rp_decision d;

    d = decide(p, (facts){"10.1.1.1", 0, 0, 0, 0, "x@elsewhere.org"});
    cr_expect_eq(d.verdict, RP_RELAY);
    cr_expect_str_eq(d.listener, "inside");
    d = decide(p, (facts){"10.66.1.1", 0, 0, 0, 0, "x@elsewhere.org"});
    cr_expect_eq(d.verdict, RP_REJECT, "all-except");
    d = decide(p, (facts){"10.99.1.1", 0, 0, 0, 0, "x@elsewhere.org"});
    cr_expect_eq(d.verdict, RP_REJECT, "deny network");
    d = decide(p, (facts){"10.66.1.1", 0, 0, "carol", 0, "x@else.org"});
    cr_expect_eq(d.verdict, RP_RELAY, "allow user");
    d = decide(p, (facts){"10.66.1.1", 0, 0, "root", 0, "x@else.org"});
    cr_expect_eq(d.verdict, RP_RELAY, "allow group");
    d = decide(p, (facts){"10.66.1.1", 0, 0, 0, 0, "x@example.com"});
    cr_expect_eq(d.verdict, RP_ACCEPT, "allow interface");
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "x@example.com"});
    cr_expect_str_eq(d.listener, "outside");
    cr_expect_eq(d.verdict, RP_REJECT, "deny anonymous submit");
    cr_expect_eq(rp_policy_listener_count(p), 2u);
    rp_policy_free(p);
}

Test(parse, roles_and_require_auth)
{
    static const char *const roles[] = {"gateway", "all-in-one", "mailbox",
                                        "frontend", "submission"};
    static const bool auth[] = {false, false, true, true, true};

    for (size_t i = 0; i < 5; i++) {
        char text[200];
        rp_listener_info info;
        snprintf(text, sizeof(text),
                 "listener l {\n  bind *:25\n"
                 "  role %s\n}\n",
                 roles[i]);
        rp_policy *p = compile_ok(text);
        cr_assert_eq(rp_policy_listener(p, 0, &info), RP_OK);
        cr_expect_eq(info.require_auth, auth[i], "role %s", roles[i]);
        cr_expect_eq(info.line, 1u);
        rp_policy_free(p);
    }
    rp_policy *p = compile_ok("listener l {\n  bind *:25\n  require auth\n"
                              "}\n");
    rp_listener_info info;
    cr_assert_eq(rp_policy_listener(p, 0, &info), RP_OK);
    cr_expect(info.require_auth);
    rp_policy_free(p);
}

Test(parse, global_settings)
{
    rp_policy *p =
        compile_ok("domain example.com local recipients alice\n"
                   "recipients example.com bob \"users.txt\"\n"
                   "self 198.51.100.25\n"
                   "self-domain example.com\n"
                   "qualify-domain example.com\n"
                   "sender-login alice alice@example.com @alice.example\n"
                   "soft-fail\n"
                   "reply unknown-user 550 5.1.1 \"No such user here\"\n"
                   "listener mx {\n  bind *:25\n  role gateway\n"
                   "  allow authenticated submit\n}\n");
    rp_decision d;

    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "bob@example.com"});
    cr_expect_eq(d.verdict, RP_ACCEPT, "recipients statement");
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "carol@example.com"});
    cr_expect_eq(d.verdict, RP_ACCEPT, "recipients list file");
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "nobody@example.com"});
    cr_expect_eq(d.verdict, RP_TEMPFAIL, "soft-fail");
    cr_expect_eq(d.code, 450u);
    cr_expect_str_eq(d.text, "No such user here");
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "alice@[198.51.100.25]"});
    cr_expect_eq(d.verdict, RP_ACCEPT, "self and self-domain");
    d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "alice"});
    cr_expect_eq(d.verdict, RP_ACCEPT, "qualify-domain");
    d = decide(p, (facts){OUTSIDE, 0, 0, "bob", "x@alice.example",
                          "alice@example.com"});
    cr_expect_eq(d.reason, RP_REASON_SENDER_LOGIN_MISMATCH);
    d = decide(p, (facts){OUTSIDE, 0, 0, "alice", "x@alice.example",
                          "alice@example.com"});
    cr_expect_eq(d.verdict, RP_ACCEPT);
    rp_policy_free(p);
}

Test(parse, open_relay_needs_allow)
{
    static const char text[] = "listener mx {\n  bind *:25\n"
                               "  allow anonymous relay\n}\n";
    rp_policy *p = NULL;
    rp_error err;

    cr_expect_eq(compile_n(text, strlen(text), NULL, &p, &err), RP_E_UNSAFE);
    p = compile_ok("allow open-relay\nlistener \\\nmx {\n  bind *:25\n"
                   "  allow anonymous relay\n}\n");
    rp_decision d = decide(p, (facts){OUTSIDE, 0, 0, 0, 0, "x@else.org"});
    cr_expect_eq(d.verdict, RP_RELAY);
    rp_policy_free(p);
}

Test(parse, builder_errors_keep_location)
{
    rp_policy *p = NULL;
    rp_error err;
    static const char text[] = "network lan 10.0.0.0/8 \\\n"
                               "    10.1.2.3/8\n";

    cr_assert_neq(compile_n(text, sizeof(text) - 1, NULL, &p, &err), RP_OK);
    cr_expect_eq(err.line, 2u);
    cr_expect_eq(err.column, 5u);
    cr_expect_eq(err.offset, 29u);
    cr_expect_str_eq(err.file, "<string>");
    cr_expect_str_eq(err.snippet, "10.1.2.3/8");
    cr_expect(strncmp(err.message, "2:5: ", 5) == 0, "%s", err.message);
}

Test(parse, empty_and_comment_only)
{
    rp_policy *p = NULL;
    rp_error err;

    cr_expect_eq(compile_n("", 0, NULL, &p, &err), RP_OK);
    rp_policy_free(p);
    cr_expect_eq(rp_policy_compile(NULL, 0, NULL, &p, &err), RP_OK);
    rp_policy_free(p);
    rp_policy_free(compile_ok("# nothing\n\n   \n\\\n"));
}

/* Hostile inputs: many tokens, long continued statements, deep junk. */
Test(parse, hostile_inputs)
{
    size_t n = 200000, i;
    char *t = malloc(n);
    rp_policy *p = NULL;
    rp_error err;

    cr_assert_not_null(t);
    for (i = 0; i < n; i++)
        t[i] = "{}\"\\/#\n a"[i % 10];
    (void)compile_n(t, n, NULL, &p, &err);
    rp_policy_free(p);
    for (i = 0; i < n; i++)
        t[i] = i % 3 == 2 ? '\n' : i % 3 == 1 ? '\\' : 'x';
    (void)compile_n(t, n, NULL, &p, &err);
    rp_policy_free(p);
    for (i = 0; i < n; i++)
        t[i] = (char)((i * 7919u) % 251u + 1u);
    cr_expect_neq(compile_n(t, n, NULL, &p, &err), RP_OK);
    free(t);
}

/* An allocator that fails after a given number of allocations. */
typedef struct budget {
    long left;
    long used;
} budget;

static void *
b_malloc(size_t n, void *ctx)
{
    budget *b = ctx;

    if (b->left-- <= 0)
        return NULL;
    b->used++;
    return malloc(n);
}

static void *
b_realloc(void *ptr, size_t n, void *ctx)
{
    budget *b = ctx;

    if (b->left-- <= 0)
        return NULL;
    b->used++;
    return realloc(ptr, n);
}

static void
b_free(void *ptr, void *ctx)
{
    (void)ctx;
    free(ptr);
}

/* Every allocation failure ends in RP_E_NOMEM, never a crash or a leak
 * (AddressSanitizer reports leaks), and enough memory compiles. */
Test(parse, out_of_memory)
{
    budget bud;
    rp_allocator a = {b_malloc, b_realloc, b_free, &bud};
    rp_options o;
    rp_policy *p = NULL;
    rp_error err;
    rp_status st = RP_E_NOMEM;
    long n;

    rp_options_init(&o);
    o.allocator = &a;
    o.base_dir = FILES;
    for (n = 0; n < 100000 && st == RP_E_NOMEM; n++) {
        bud.left = n;
        bud.used = 0;
        st = compile_n(spec_policy, sizeof(spec_policy) - 1, &o, &p, &err);
        cr_assert(st == RP_OK || st == RP_E_NOMEM, "%ld: %s %s", n,
                  rp_status_name(st), err.message);
    }
    cr_expect_eq(st, RP_OK);
    cr_expect_gt(n, 10);
    rp_policy_free(p);
}

/* ---- data-driven error vectors ------------------------------------------ */

/* Read a whole file into a new buffer; NULL when it does not exist. */
static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL)
        return NULL;
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    cr_assert(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Check one case; returns false (after reporting) on a mismatch. */
static bool
check_case(const char *name)
{
    char dir[512], path[600], msg[200];
    unsigned line, col;
    unsigned long long off;
    size_t plen, elen;
    char *policy, *expect, *nl;
    rp_options o;
    rp_policy *p = NULL;
    rp_error err;
    bool ok;

    snprintf(dir, sizeof(dir), "%s/%s", INVALID, name);
    snprintf(path, sizeof(path), "%s/policy", dir);
    policy = slurp(path, &plen);
    snprintf(path, sizeof(path), "%s/error", dir);
    expect = slurp(path, &elen);
    cr_assert(policy != NULL && expect != NULL, "case %s is incomplete", name);
    cr_assert_eq(sscanf(expect, "%u %u %llu", &line, &col, &off), 3,
                 "case %s: bad error file", name);
    nl = strchr(expect, '\n');
    cr_assert_not_null(nl, "case %s: no message line", name);
    snprintf(msg, sizeof(msg), "%u:%u: %.*s", line, col,
             (int)strcspn(nl + 1, "\n"), nl + 1);
    rp_options_init(&o);
    o.base_dir = dir;
    rp_status st = compile_n(policy, plen, &o, &p, &err);
    ok = st != RP_OK && err.status == st && err.line == line &&
         err.column == col && err.offset == off &&
         strcmp(err.message, msg) == 0;
    cr_expect(ok,
              "case %s: got %s %u %u %llu \"%s\", want %u %u %llu "
              "\"%s\"",
              name, rp_status_name(st), err.line, err.column,
              (unsigned long long)err.offset, err.message, line, col, off, msg);
    rp_policy_free(p);
    free(policy);
    free(expect);
    return ok;
}

Test(parse, invalid_vectors)
{
    DIR *d = opendir(INVALID);
    struct dirent *de;
    size_t n = 0, bad = 0;

    cr_assert_not_null(d, "cannot open %s", INVALID);
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        n++;
        if (!check_case(de->d_name))
            bad++;
    }
    closedir(d);
    cr_expect_geq(n, 25u, "only %zu cases", n);
    cr_expect_eq(bad, 0u, "%zu of %zu cases failed", bad, n);
}

/* ---- data-driven valid vectors ------------------------------------------ */

/* The dump of @p p, NUL-terminated; the caller frees it. */
static write_buf
dump_of(const rp_policy *p)
{
    write_buf t = {NULL, 0, 0};

    cr_assert_eq(rp_policy_dump(p, write_buf_put, &t), RP_OK);
    cr_assert_not_null(t.s);
    return t;
}

/* Check one valid case; returns false (after reporting) on a mismatch. */
static bool
check_valid_case(const char *name)
{
    char path[600];
    size_t elen;
    char *expect;
    rp_policy *p = NULL, *again = NULL;
    rp_error err;
    rp_status st;
    write_buf first, second;
    bool ok;

    snprintf(path, sizeof(path), "%s/%s/expected", VALID, name);
    expect = slurp(path, &elen);
    cr_assert_not_null(expect, "case %s has no expected file", name);
    snprintf(path, sizeof(path), "%s/%s/policy", VALID, name);
    memset(&err, 0, sizeof(err));
    st = rp_policy_compile_file(path, NULL, &p, &err);
    cr_assert_eq(st, RP_OK, "case %s: %s %s: %s", name, rp_status_name(st),
                 err.file, err.message);
    first = dump_of(p);
    ok = first.n == elen && memcmp(first.s, expect, elen) == 0;
    cr_expect(ok, "case %s: the dump differs from expected:\n%s", name,
              first.s);
    /* The dump is itself a policy, and it dumps the same again. */
    st = compile_n(first.s, first.n, NULL, &again, &err);
    cr_expect_eq(st, RP_OK, "case %s: the dump does not compile: %s %s", name,
                 rp_status_name(st), err.message);
    if (st == RP_OK) {
        second = dump_of(again);
        cr_expect(second.n == first.n &&
                      memcmp(second.s, first.s, first.n) == 0,
                  "case %s: the dump of the dump differs:\n%s", name, second.s);
        ok = ok && second.n == first.n &&
             memcmp(second.s, first.s, first.n) == 0;
        free(second.s);
    }
    rp_policy_free(again);
    rp_policy_free(p);
    free(first.s);
    free(expect);
    return ok && st == RP_OK;
}

Test(parse, valid_vectors)
{
    DIR *d = opendir(VALID);
    struct dirent *de;
    size_t n = 0, bad = 0;

    cr_assert_not_null(d, "cannot open %s", VALID);
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        n++;
        if (!check_valid_case(de->d_name))
            bad++;
    }
    closedir(d);
    cr_expect_geq(n, 10u, "only %zu cases", n);
    cr_expect_eq(bad, 0u, "%zu of %zu cases failed", bad, n);
}
