/*
 * test_address.c - RFC 5321 paths, canonical text and routing splits
 * (lib/address.c).
 */
#include "address.h"
#include "ipaddr.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse @p len bytes of @p text from an exact-size heap copy, so that any
 * read past the length is caught by AddressSanitizer. */
static rp__addr_err
parse_n(const char *text, size_t len, bool allow_null, rp__addr *a)
{
    char *copy = malloc(len ? len : 1);
    rp__addr_err err;

    cr_assert_not_null(copy);
    memcpy(copy, text, len);
    err = rp__addr_parse(copy, len, allow_null, a);
    free(copy);
    return err;
}

static rp__addr_err
parse(const char *text, bool allow_null, rp__addr *a)
{
    return parse_n(text, strlen(text), allow_null, a);
}

/* @p text must parse; its canonical text must be @p want. */
static void
expect_canon(const char *text, const char *want)
{
    rp__addr a;
    char buf[RP__PATH_MAX + 1];
    rp__addr_err err = parse(text, false, &a);

    cr_assert_eq(err, RP__ADDR_OK, "\"%s\": error %d", text, err);
    cr_expect_eq(rp__addr_format(&a, false, buf, sizeof(buf)), strlen(want));
    cr_expect_str_eq(buf, want, "\"%s\"", text);
}

static void
expect_err(const char *text, rp__addr_err want)
{
    rp__addr a;
    rp__addr_err err = parse(text, true, &a);

    cr_expect_eq(err, want, "\"%s\": got %d, want %d", text, err, want);
}

/* A string of @p n copies of @p c (n < 600). */
static const char *
repeat(char *buf, char c, size_t n)
{
    memset(buf, c, n);
    buf[n] = '\0';
    return buf;
}

/* A valid domain name of exactly @p n octets (n >= 1): labels of up to 63
 * letters joined by dots. */
static const char *
domain_of(char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        buf[i] = (i % 64 == 63 && i + 1 < n) ? '.' : 'd';
    }
    buf[n] = '\0';
    return buf;
}

Test(address, typical_path)
{
    rp__addr a;

    cr_assert_eq(parse("<john.smith@example.com>", false, &a), RP__ADDR_OK);
    cr_expect_str_eq(a.local, "john.smith");
    cr_expect_eq(a.local_len, 10);
    cr_expect_str_eq(a.domain, "example.com");
    cr_expect_eq(a.domain_len, 11);
    cr_expect_eq(a.dom_type, RP__DOM_NAME);
    cr_expect(!a.is_null && !a.had_route && !a.was_quoted);

    cr_assert_eq(parse("john.smith@example.com", false, &a), RP__ADDR_OK);
    cr_expect_str_eq(a.local, "john.smith");
    cr_expect_str_eq(a.domain, "example.com");
}

Test(address, null_sender)
{
    rp__addr a;
    char buf[16] = "junk";

    cr_assert_eq(parse("<>", true, &a), RP__ADDR_OK);
    cr_expect(a.is_null);
    cr_expect_eq(rp__addr_format(&a, false, buf, sizeof(buf)), 0);
    cr_expect_str_eq(buf, "");
    cr_assert_eq(parse("", true, &a), RP__ADDR_OK);
    cr_expect(a.is_null);
    cr_expect_eq(rp__addr_parse(NULL, 0, true, &a), RP__ADDR_OK);
    cr_expect(a.is_null);

    cr_expect_eq(parse("<>", false, &a), RP__ADDR_SYNTAX);
    cr_expect(!a.is_null);
    cr_expect_eq(parse("", false, &a), RP__ADDR_SYNTAX);
    cr_expect_eq(parse("< >", true, &a), RP__ADDR_SYNTAX);
    cr_expect_eq(parse("<<>>", true, &a), RP__ADDR_SYNTAX);
    cr_expect_eq(parse("\"\"", true, &a), RP__ADDR_OK);
    cr_expect(!a.is_null, "an empty quoted local part is not <>");
}

Test(address, brackets_and_whitespace)
{
    static const char *const bad[] = {
        " <a@b.example>",
        "<a@b.example> ",
        "< a@b.example>",
        "<a@b.example >",
        "a@b.example ",
        " a@b.example",
        "<a@b.example",
        "a@b.example>",
        "<",
        ">",
        "<<a@b.example>>",
        "<a@b.example>>",
        "a @b.example",
        "a@ b.example",
        "<a@b.example><c@d.example>",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_err(bad[i], RP__ADDR_SYNTAX);
    }
    /* Tabs and line ends are control bytes, reported as such. */
    expect_err("\t<a@b.example>", RP__ADDR_CONTROL);
    expect_err("<a@b.example>\r\n", RP__ADDR_CONTROL);
}

Test(address, unqualified)
{
    rp__addr a;

    cr_assert_eq(parse("postmaster", false, &a), RP__ADDR_OK);
    cr_expect_eq(a.dom_type, RP__DOM_NONE);
    cr_expect_str_eq(a.domain, "");
    cr_expect_eq(a.domain_len, 0);
    cr_expect_str_eq(a.local, "postmaster");
    cr_assert_eq(parse("<PostMaster>", false, &a), RP__ADDR_OK);
    cr_expect_eq(a.dom_type, RP__DOM_NONE);
    cr_expect_str_eq(a.local, "PostMaster");
    expect_canon("<postmaster>", "postmaster");
    expect_canon("\"a b\"", "\"a b\"");
}

Test(address, source_routes)
{
    rp__addr a;

    cr_assert_eq(parse("@a.example,@b.example:user@dom.example", false, &a),
                 RP__ADDR_OK);
    cr_expect(a.had_route);
    cr_expect_str_eq(a.local, "user");
    cr_expect_str_eq(a.domain, "dom.example");
    cr_expect_eq(a.dom_type, RP__DOM_NAME);

    cr_assert_eq(parse("<@[192.0.2.1]:u@dom.example>", false, &a), RP__ADDR_OK);
    cr_expect(a.had_route);
    cr_expect_eq(a.dom_type, RP__DOM_NAME);
    cr_expect_eq(a.literal.family, 0, "the route's literal must not leak");

    expect_canon("<@a.example,@b.example:user@dom.example>",
                 "user@dom.example");
    expect_canon("@[IPv6:::1],@B.Example.:\"x y\"@Dom.Example",
                 "\"x y\"@dom.example");
    expect_canon("@a:u@[192.0.2.7]", "u@[192.0.2.7]");

    static const char *const bad[] = {
        "@a.example:user",
        "@:u@d.example",
        "@a,:u@d.example",
        "@a,b:u@d.example",
        "@a;u@d.example",
        "@bad_dom:u@d.example",
        "@a.example",
        "@a.example:",
        "@-a:u@d.example",
        "@a..b:u@d.example",
        "@[1.2.3]:u@d.example",
        "@[1.2.3.4:u@d.example",
        "@a,@:u@d.example",
        "@a:@b:u@d.example",
        "@a@b:u@d.example",
        "@a,@b:u@R@L",
        "@a: u@d.example",
        "@d.example",
        "@[2001:db8::1]:u@d.example",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_err(bad[i], RP__ADDR_SYNTAX);
    }
}

Test(address, dot_atom_local_parts)
{
    rp__addr a;

    cr_assert_eq(parse("!#$%&'*+-/=?^_`{|}~.Az09@x.example", false, &a),
                 RP__ADDR_OK);
    cr_expect_str_eq(a.local, "!#$%&'*+-/=?^_`{|}~.Az09");
    cr_expect(!a.was_quoted);

    static const char *const bad[] = {
        ".a@x.example",
        "a.@x.example",
        "a..b@x.example",
        "a b@x.example",
        "a\"b@x.example",
        "a(b)@x.example",
        "a,b@x.example",
        "a[b@x.example",
        "a:b@x.example",
        "a;b@x.example",
        "a<b@x.example",
        "a\\b@x.example",
        ".@x.example",
        "..",
        "a.",
        ".a",
        "a]@x.example",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_err(bad[i], RP__ADDR_SYNTAX);
    }
}

Test(address, quoted_local_parts)
{
    rp__addr a;

    cr_assert_eq(parse("\"a\\\"b\"@x.example", false, &a), RP__ADDR_OK);
    cr_expect_str_eq(a.local, "a\"b");
    cr_expect_eq(a.local_len, 3);
    cr_expect(a.was_quoted);
    expect_canon("\"a\\\"b\"@x.example", "\"a\\\"b\"@x.example");

    cr_assert_eq(parse("\"a\\\\b\"@x.example", false, &a), RP__ADDR_OK);
    cr_expect_str_eq(a.local, "a\\b");
    expect_canon("\"a\\\\b\"@x.example", "\"a\\\\b\"@x.example");

    cr_assert_eq(parse("\"a b\"@x.example", false, &a), RP__ADDR_OK);
    cr_expect_str_eq(a.local, "a b");
    expect_canon("\"a b\"@x.example", "\"a b\"@x.example");

    /* Content that is a dot-atom loses its quotes and needless escapes. */
    expect_canon("\"bob\"@X.COM.", "bob@x.com");
    expect_canon("\"\\b\\o\\b\"@x.example", "bob@x.example");
    expect_canon("\"a.b\"@x.example", "a.b@x.example");
    expect_canon("\"a..b\"@x.example", "\"a..b\"@x.example");
    expect_canon("\"\\ \"@x.example", "\" \"@x.example");
    expect_canon("\"(),:;<>@[]\"@x.example", "\"(),:;<>@[]\"@x.example");

    /* An empty quoted string is a (strange) valid local part. */
    cr_assert_eq(parse("\"\"@x.example", false, &a), RP__ADDR_OK);
    cr_expect_eq(a.local_len, 0);
    cr_expect(a.was_quoted);
    expect_canon("\"\"@x.example", "\"\"@x.example");

    static const char *const bad[] = {
        "\"abc@x.example",
        "\"a\"b@x.example",
        "\"a\"\"b\"@x.example",
        "\"a\\\"",
        "\"a\\",
        "a\"b\"@x.example",
        "\"a\".b@x.example",
        "\"a\"@",
        "\"",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_err(bad[i], RP__ADDR_SYNTAX);
    }
}

Test(address, unquoted_at_and_empty_domain)
{
    expect_err("u@R@L", RP__ADDR_SYNTAX);
    expect_err("u@remote.example@local.example", RP__ADDR_SYNTAX);
    expect_err("user@remote.example@", RP__ADDR_SYNTAX);
    expect_err("u@R@", RP__ADDR_SYNTAX);
    expect_err("u@", RP__ADDR_SYNTAX);
    expect_err("<u@>", RP__ADDR_SYNTAX);
    expect_err("u@@d.example", RP__ADDR_SYNTAX);
    expect_err("@", RP__ADDR_SYNTAX);
    expect_err("<@>", RP__ADDR_SYNTAX);
}

Test(address, domain_names)
{
    rp__addr a;
    char label[80], buf[300];

    expect_canon("u@Mixed.CASE.Example", "u@mixed.case.example");
    expect_canon("u@x-y.example.", "u@x-y.example");
    expect_canon("u@a", "u@a");
    expect_canon("u@123", "u@123");
    cr_assert_eq(parse("u@1.2.3.4", false, &a), RP__ADDR_OK);
    cr_expect_eq(a.dom_type, RP__DOM_NAME);
    cr_expect_str_eq(a.domain, "1.2.3.4");

    snprintf(buf, sizeof(buf), "u@%s.example", repeat(label, 'l', 63));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_OK);
    snprintf(buf, sizeof(buf), "u@%s.example", repeat(label, 'l', 64));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_SYNTAX);

    static const char *const bad[] = {
        "u@-a.example",  "u@a-.example", "u@a..example", "u@.a.example",
        "u@a.example..", "u@.",          "u@..",         "u@a_b.example",
        "u@a b.example", "u@a.example-", "u@a/b",        "u@a!b",
        "u@a%b",         "u@\"a\"",      "u@a]",         "u@a[1.2.3.4]",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_err(bad[i], RP__ADDR_SYNTAX);
    }
}

Test(address, address_literals)
{
    rp__addr a;
    char buf[64];

    cr_assert_eq(parse("u@[192.0.2.1]", false, &a), RP__ADDR_OK);
    cr_expect_eq(a.dom_type, RP__DOM_IPV4);
    cr_expect_str_eq(a.domain, "192.0.2.1");
    cr_expect_eq(a.domain_len, 9);
    cr_expect_eq(a.literal.family, 4);
    cr_expect_eq(a.literal.b[10], 0xff);
    cr_expect_eq(a.literal.b[12], 192);
    cr_expect_eq(a.literal.b[15], 1);
    expect_canon("u@[192.0.2.1]", "u@[192.0.2.1]");

    cr_assert_eq(parse("u@[IPv6:2001:DB8:0:0::1]", false, &a), RP__ADDR_OK);
    cr_expect_eq(a.dom_type, RP__DOM_IPV6);
    cr_expect_str_eq(a.domain, "IPv6:2001:db8::1");
    cr_expect_eq(a.literal.family, 6);
    rp__ip_format(&a.literal, buf, sizeof(buf));
    cr_expect_str_eq(buf, "2001:db8::1");
    expect_canon("u@[ipv6:2001:db8::1]", "u@[IPv6:2001:db8::1]");
    expect_canon("u@[IPV6:::1]", "u@[IPv6:::1]");

    cr_assert_eq(parse("u@[IPv6:::ffff:1.2.3.4]", false, &a), RP__ADDR_OK);
    cr_expect_eq(a.dom_type, RP__DOM_IPV4);
    cr_expect_str_eq(a.domain, "1.2.3.4");
    cr_expect_eq(a.literal.family, 4);
    expect_canon("u@[IPv6:::ffff:1.2.3.4]", "u@[1.2.3.4]");
    expect_canon("u@[IPv6:0:0:0:0:0:FFFF:c000:201]", "u@[192.0.2.1]");

    static const char *const bad[] = {
        "u@[2001:db8::1]",
        "u@[::ffff:1.2.3.4]",
        "u@[192.0.2.01]",
        "u@[010.0.0.1]",
        "u@[1.2.3]",
        "u@[1.2.3.4.5]",
        "u@[256.0.0.1]",
        "u@[IPv6:1.2.3.4]",
        "u@[tag:stuff]",
        "u@[x-tag:stuff]",
        "u@[]",
        "u@[IPv6:]",
        "u@[ 1.2.3.4]",
        "u@[1.2.3.4 ]",
        "u@[1.2.3.4",
        "u@1.2.3.4]",
        "u@[1.2.3.4]x",
        "u@[IPv6:fe80::1%eth0]",
        "u@[[1.2.3.4]]",
        "u@[IPv6 :::1]",
        "u@[IPv4:1.2.3.4]",
        "u@[IPv6:1::2::3]",
        "u@[0x7f.0.0.1]",
        "u@[127.1]",
        "u@[2130706433]",
        "u@[IPv6:[::1]]",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_err(bad[i], RP__ADDR_SYNTAX);
    }
}

Test(address, local_part_length)
{
    char local[80], buf[300];
    rp__addr a;

    snprintf(buf, sizeof(buf), "%s@x.example", repeat(local, 'l', 64));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_OK);
    cr_expect_eq(a.local_len, 64);
    snprintf(buf, sizeof(buf), "%s@x.example", repeat(local, 'l', 65));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_TOO_LONG);
    snprintf(buf, sizeof(buf), "<%s>", repeat(local, 'l', 65));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_TOO_LONG);

    /* Quoted: 64 octets as written, quotes included. */
    snprintf(buf, sizeof(buf), "\"%s\"@x.example", repeat(local, 'q', 62));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_OK);
    cr_expect_eq(a.local_len, 62);
    snprintf(buf, sizeof(buf), "\"%s\"@x.example", repeat(local, 'q', 63));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_TOO_LONG);

    /* Escapes count as written: 1 + 60 + 2 + 1 = 64, then 65. */
    snprintf(buf, sizeof(buf), "\"%s\\\"\"@x.example", repeat(local, 'q', 60));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_OK);
    cr_expect_eq(a.local_len, 61);
    cr_expect_eq(a.local[60], '"');
    snprintf(buf, sizeof(buf), "\"%s\\\"\"@x.example", repeat(local, 'q', 61));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_TOO_LONG);
    snprintf(buf, sizeof(buf), "\"%s\\\"\"", repeat(local, 'q', 61));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_TOO_LONG);
}

Test(address, path_and_domain_length)
{
    char dom[300], buf[600];
    rp__addr a;

    /* With brackets: "<a@" + 252 + ">" is 256 octets. */
    snprintf(buf, sizeof(buf), "<a@%s>", domain_of(dom, 252));
    cr_assert_eq(strlen(buf), 256);
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_OK);
    cr_expect_eq(a.domain_len, 252);
    snprintf(buf, sizeof(buf), "<a@%s>", domain_of(dom, 253));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_TOO_LONG);

    /* Without brackets the same limits apply: they are counted anyway. */
    snprintf(buf, sizeof(buf), "a@%s", domain_of(dom, 252));
    cr_assert_eq(strlen(buf), 254);
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_OK);
    snprintf(buf, sizeof(buf), "a@%s", domain_of(dom, 253));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_TOO_LONG);

    /* The trailing dot is part of the path as written. */
    snprintf(buf, sizeof(buf), "<a@%s.>", domain_of(dom, 251));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_OK);
    cr_expect_eq(a.domain_len, 251);
    snprintf(buf, sizeof(buf), "<a@%s.>", domain_of(dom, 252));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_TOO_LONG);

    /* A 255-octet domain (the RFC 5321 limit) and one over cannot fit in a
     * 256-octet path with a local part. */
    snprintf(buf, sizeof(buf), "a@%s", domain_of(dom, 255));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_TOO_LONG);
    snprintf(buf, sizeof(buf), "<a@%s>", domain_of(dom, 256));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_TOO_LONG);

    /* A source route counts towards the path. */
    snprintf(buf, sizeof(buf), "<@r.example:a@%s>", domain_of(dom, 241));
    cr_assert_eq(strlen(buf), 256);
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_OK);
    snprintf(buf, sizeof(buf), "<@r.example:a@%s>", domain_of(dom, 242));
    cr_expect_eq(parse(buf, false, &a), RP__ADDR_TOO_LONG);
}

Test(address, control_and_non_ascii)
{
    static const char nul[] = "a\0b@x.example";
    rp__addr a;
    char buf[400];

    cr_expect_eq(parse_n(nul, sizeof(nul) - 1, false, &a), RP__ADDR_CONTROL);
    cr_expect_eq(parse_n("<\0>", 3, true, &a), RP__ADDR_CONTROL);
    expect_err("a@x.example\r\n", RP__ADDR_CONTROL);
    expect_err("<a@x.example>\n", RP__ADDR_CONTROL);
    expect_err("a\r@x.example", RP__ADDR_CONTROL);
    expect_err("a\x7f@x.example", RP__ADDR_CONTROL);
    expect_err("a\x01@x.example", RP__ADDR_CONTROL);
    expect_err("a\x1f@x.example", RP__ADDR_CONTROL);
    expect_err("\"a\tb\"@x.example", RP__ADDR_CONTROL);
    expect_err("\"a\\\rb\"@x.example", RP__ADDR_CONTROL);

    /* UTF-8 is valid (RFC 6531); bytes that are not UTF-8 are not. */
    expect_err("j\xc3hn@x.example", RP__ADDR_NON_ASCII);
    expect_err("a@ex\xe4mple.example", RP__ADDR_NON_ASCII);
    expect_err("\"\xed\xa0\x80\"@x.example", RP__ADDR_NON_ASCII);
    expect_err("a@x.example\xff", RP__ADDR_NON_ASCII);
    expect_err("\x80", RP__ADDR_NON_ASCII);

    /* These are reported before syntax and length; the first byte decides
     * between the two kinds. */
    expect_err("a b\r@x@y", RP__ADDR_CONTROL);
    expect_err(" \xc3 ", RP__ADDR_NON_ASCII);
    expect_err("\xc3\r", RP__ADDR_NON_ASCII);
    expect_err("\r\xc3", RP__ADDR_CONTROL);
    memset(buf, 'a', 300);
    buf[299] = '\n';
    cr_expect_eq(parse_n(buf, 300, false, &a), RP__ADDR_CONTROL);
    buf[299] = (char)0xe9;
    cr_expect_eq(parse_n(buf, 300, false, &a), RP__ADDR_NON_ASCII);
    buf[299] = 'a';
    cr_expect_eq(parse_n(buf, 300, false, &a), RP__ADDR_TOO_LONG);
}

Test(address, reads_only_len_bytes)
{
    rp__addr a;

    cr_assert_eq(rp__addr_parse("a@b.cde", 5, false, &a), RP__ADDR_OK);
    cr_expect_str_eq(a.domain, "b.c");
    cr_expect_eq(rp__addr_parse("<a@b.c>", 6, false, &a), RP__ADDR_SYNTAX);
    cr_expect_eq(rp__addr_parse("\"ab\"", 3, false, &a), RP__ADDR_SYNTAX);
    cr_expect_eq(rp__addr_parse("u@[1.2.3.4]", 10, false, &a), RP__ADDR_SYNTAX);
}

/* relaypolicy(7) §6: how each classic relay trick parses. */
Test(address, spec_section_6_tricks)
{
    rp__addr a, r;

    cr_assert_eq(parse("user@remote.example", false, &a), RP__ADDR_OK);
    cr_expect_str_eq(a.domain, "remote.example");
    cr_expect_eq(rp__addr_route_split(&a, &r), RP__ROUTE_NONE);

    static const char *const routed[] = {
        "user%remote.example@local.example",
        "remote.example!user@local.example",
        "\"user@remote.example\"@local.example",
        "\"user%remote.example\"@local.example",
        "user%remote.example@[192.0.2.1]",
        "\"user%remote.example\"",
        "remote.example!user",
        "<\"user%REMOTE.Example.\"@local.example>",
        "<user%REMOTE.Example@local.example>",
        "\"remote.example!user\"@local.example",
    };

    for (size_t i = 0; i < sizeof(routed) / sizeof(routed[0]); i++) {
        char buf[RP__PATH_MAX + 1];

        cr_assert_eq(parse(routed[i], false, &a), RP__ADDR_OK, "%s", routed[i]);
        cr_assert_eq(rp__addr_route_split(&a, &r), RP__ROUTE_SPLIT, "%s",
                     routed[i]);
        rp__addr_format(&r, false, buf, sizeof(buf));
        cr_expect_str_eq(buf, "user@remote.example", "%s", routed[i]);
        cr_expect_eq(rp__addr_route_split(&r, &r), RP__ROUTE_NONE);
    }

    cr_assert_eq(parse("user%remote.example@[192.0.2.1]", false, &a),
                 RP__ADDR_OK);
    cr_expect_eq(a.dom_type, RP__DOM_IPV4);

    cr_assert_eq(parse("@local.example:user@remote.example", false, &a),
                 RP__ADDR_OK);
    cr_expect(a.had_route);
    expect_canon("@local.example:user@remote.example", "user@remote.example");
    expect_canon("@local.example,@x:user@remote.example",
                 "user@remote.example");
    expect_canon("user@[192.0.2.99]", "user@[192.0.2.99]");
    expect_canon("user@REMOTE.EXAMPLE.", "user@remote.example");
    expect_canon("User@Remote.Example", "User@remote.example");
    expect_canon("<admin@local.example>", "admin@local.example");

    expect_err("user@remote.example@local.example", RP__ADDR_SYNTAX);
    expect_err("user@remote.example@", RP__ADDR_SYNTAX);

    cr_assert_eq(parse("<>", true, &a), RP__ADDR_OK);
    cr_expect(a.is_null);
}

/* Split @p local (content) once; compare with @p want ("" for no split,
 * NULL for an error). */
static void
expect_split(const char *local, const char *want)
{
    rp__addr in, out;
    char buf[RP__PATH_MAX + 1];
    rp__route rc;

    memset(&in, 0, sizeof(in));
    cr_assert_lt(strlen(local), sizeof(in.local));
    memcpy(in.local, local, strlen(local) + 1);
    in.local_len = strlen(local);
    in.dom_type = RP__DOM_NAME;
    memcpy(in.domain, "local.example", 14);
    in.domain_len = 13;
    memset(&out, 0x5a, sizeof(out));
    rc = rp__addr_route_split(&in, &out);
    if (want == NULL) {
        cr_expect_eq(rc, RP__ROUTE_ERROR, "%s: %d", local, rc);
    } else if (want[0] == '\0') {
        cr_expect_eq(rc, RP__ROUTE_NONE, "%s: %d", local, rc);
    } else {
        cr_assert_eq(rc, RP__ROUTE_SPLIT, "%s: %d", local, rc);
        rp__addr_format(&out, false, buf, sizeof(buf));
        cr_expect_str_eq(buf, want, "%s", local);
        cr_expect_eq(strlen(out.local), out.local_len);
        cr_expect_eq(strlen(out.domain), out.domain_len);
    }
}

Test(address, route_split_examples)
{
    expect_split("user%remote.example", "user@remote.example");
    expect_split("remote.example!user", "user@remote.example");
    expect_split("user@remote.example", "user@remote.example");
    expect_split("a%b%c", "a%b@c");
    expect_split("x!y%z", "y%z@x");
    expect_split("a%b@c", "a%b@c");
    expect_split("a@b%c!d", NULL);
    expect_split("user%REMOTE.Example.", "user@remote.example");
    expect_split("user%[192.0.2.1]", "user@[192.0.2.1]");
    expect_split("user%[IPv6:2001:DB8::1]", "user@[IPv6:2001:db8::1]");
    expect_split("user%[IPv6:::ffff:192.0.2.1]", "user@[192.0.2.1]");
    expect_split("a b%c.example", "\"a b\"@c.example");
    expect_split("x!.y", "\".y\"@x");
    expect_split("q\"x%d.example", "\"q\\\"x\"@d.example");
    expect_split("user", "");
    expect_split("first.last", "");
    expect_split("", "");

    expect_split("u%", NULL);
    expect_split("%d", NULL);
    expect_split("%", NULL);
    expect_split("!", NULL);
    expect_split("!u", NULL);
    expect_split("d!", NULL);
    expect_split("u@", NULL);
    expect_split("@d", NULL);
    expect_split("u%bad domain", NULL);
    expect_split("u%bad_domain", NULL);
    expect_split("u%-bad.example", NULL);
    expect_split("u%[2001:db8::1]", NULL);
    expect_split("u%[192.0.2.01]", NULL);
    expect_split("u%a..b", NULL);
    expect_split("u%a%", NULL);
}

Test(address, route_split_details)
{
    rp__addr a, r;

    /* '@' beats '!', which beats '%'. */
    cr_assert_eq(parse("\"a!b@c.example\"@l.example", false, &a), RP__ADDR_OK);
    cr_assert_eq(rp__addr_route_split(&a, &r), RP__ROUTE_SPLIT);
    cr_expect_str_eq(r.local, "a!b");
    cr_expect_str_eq(r.domain, "c.example");
    cr_expect(!r.was_quoted);
    cr_assert_eq(rp__addr_route_split(&r, &r), RP__ROUTE_SPLIT);
    cr_expect_str_eq(r.local, "b");
    cr_expect_str_eq(r.domain, "a");

    /* The split can be taken in place and keeps had_route. */
    cr_assert_eq(parse("@r.example:a%b%c.example@l.example", false, &a),
                 RP__ADDR_OK);
    cr_assert_eq(rp__addr_route_split(&a, &a), RP__ROUTE_SPLIT);
    cr_expect_str_eq(a.local, "a%b");
    cr_expect_str_eq(a.domain, "c.example");
    cr_expect_eq(a.dom_type, RP__DOM_NAME);
    cr_expect(a.had_route);
    cr_assert_eq(rp__addr_route_split(&a, &a), RP__ROUTE_SPLIT);
    cr_expect_str_eq(a.local, "a");
    cr_expect_str_eq(a.domain, "b");
    cr_expect_eq(rp__addr_route_split(&a, &a), RP__ROUTE_NONE);

    /* Nothing is written on NONE or ERROR. */
    cr_assert_eq(parse("u%@l.example", false, &a), RP__ADDR_OK);
    memset(&r, 0x5a, sizeof(r));
    cr_expect_eq(rp__addr_route_split(&a, &r), RP__ROUTE_ERROR);
    cr_expect_eq(r.local[0], 0x5a);
    cr_assert_eq(parse("%@l.example", false, &a), RP__ADDR_OK);
    cr_expect_eq(rp__addr_route_split(&a, &r), RP__ROUTE_ERROR);
    cr_assert_eq(parse("!@l.example", false, &a), RP__ADDR_OK);
    cr_expect_eq(rp__addr_route_split(&a, &r), RP__ROUTE_ERROR);

    /* A literal domain sets the address. */
    cr_assert_eq(parse("\"u%[192.0.2.5]\"@l.example", false, &a), RP__ADDR_OK);
    cr_assert_eq(rp__addr_route_split(&a, &r), RP__ROUTE_SPLIT);
    cr_expect_eq(r.dom_type, RP__DOM_IPV4);
    cr_expect_eq(r.literal.family, 4);
    cr_expect_eq(r.literal.b[15], 5);
    cr_expect(!r.is_null);
}

Test(address, format_options)
{
    rp__addr a;
    char buf[RP__PATH_MAX + 1], small[6];

    cr_assert_eq(parse("John.Smith@Example.COM", false, &a), RP__ADDR_OK);
    cr_expect_eq(rp__addr_format(&a, false, buf, sizeof(buf)), 22);
    cr_expect_str_eq(buf, "John.Smith@example.com");
    rp__addr_format(&a, true, buf, sizeof(buf));
    cr_expect_str_eq(buf, "john.smith@example.com");
    cr_expect_str_eq(a.local, "John.Smith", "parse keeps the case");

    cr_assert_eq(parse("\"A B\"@X.example", false, &a), RP__ADDR_OK);
    rp__addr_format(&a, true, buf, sizeof(buf));
    cr_expect_str_eq(buf, "\"a b\"@x.example");

    cr_assert_eq(parse("u@[IPv6:2001:db8::1]", false, &a), RP__ADDR_OK);
    rp__addr_format(&a, true, buf, sizeof(buf));
    cr_expect_str_eq(buf, "u@[IPv6:2001:db8::1]", "the tag keeps its case");

    /* Cut to fit, always terminated. */
    cr_assert_eq(parse("abcdef@x.example", false, &a), RP__ADDR_OK);
    cr_expect_eq(rp__addr_format(&a, false, small, sizeof(small)), 5);
    cr_expect_str_eq(small, "abcde");
    cr_expect_eq(rp__addr_format(&a, false, small, 1), 0);
    cr_expect_str_eq(small, "");
    cr_expect_eq(rp__addr_format(&a, false, small, 0), 0);
}

/* The canonical text of any accepted path fits RP__PATH_MAX + 1 bytes and
 * parses back to itself. */
Test(address, canonical_text_is_stable)
{
    static const char *const inputs[] = {
        "<john.smith@example.com>",
        "\"bob\"@X.COM.",
        "\"a b\"@x",
        "\"a\\\"b\"@x",
        "\"\\\\\"@x",
        "@a,@b:u@[IPv6:::ffff:1.2.3.4]",
        "u@[IPv6:0:0:0:0:0:0:0:1]",
        "postmaster",
        "\"\"@x",
        "\"x\\y\"@[192.0.2.1]",
    };
    char dom[300], long_path[400];

    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        rp__addr a, b;
        char one[RP__PATH_MAX + 1], two[RP__PATH_MAX + 1];

        cr_assert_eq(parse(inputs[i], false, &a), RP__ADDR_OK, "%s", inputs[i]);
        rp__addr_format(&a, false, one, sizeof(one));
        cr_assert_eq(parse(one, false, &b), RP__ADDR_OK, "%s", one);
        rp__addr_format(&b, false, two, sizeof(two));
        cr_expect_str_eq(one, two);
    }

    /* The longest path: its canonical form is no longer. */
    snprintf(long_path, sizeof(long_path), "\"%s\"@%s",
             "0123456789012345678901234567890123456789012345678901234567\\\"",
             domain_of(dom, 191));
    cr_assert_eq(strlen(long_path), 254);
    {
        rp__addr a;
        char out[RP__PATH_MAX + 1];

        cr_assert_eq(parse(long_path, false, &a), RP__ADDR_OK);
        cr_expect_eq(rp__addr_format(&a, false, out, sizeof(out)), 254);
        cr_expect_str_eq(out, long_path);
    }
}
