/*
 * test_ipaddr.c - strict IP address and CIDR parsing (lib/ipaddr.c).
 */
#include "ipaddr.h"

#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse @p text from an exact-size heap copy, so that any read past the
 * length is caught by AddressSanitizer. */
static int
parse(const char *text, rp__ip *ip)
{
    size_t len = strlen(text);
    char *copy = malloc(len ? len : 1);
    int rc;

    cr_assert_not_null(copy);
    memcpy(copy, text, len);
    rc = rp__ip_parse(copy, len, ip);
    free(copy);
    return rc;
}

static int
cidr(const char *text, rp__ip *ip, unsigned *plen, const char **why)
{
    size_t len = strlen(text);
    char *copy = malloc(len ? len : 1);
    int rc;

    cr_assert_not_null(copy);
    memcpy(copy, text, len);
    *why = NULL;
    rc = rp__cidr_parse(copy, len, ip, plen, why);
    free(copy);
    return rc;
}

/* The canonical text of @p text, which must parse. */
static const char *
canon(const char *text, char *buf, size_t size)
{
    rp__ip ip;

    cr_assert_eq(parse(text, &ip), 0, "\"%s\" should parse", text);
    rp__ip_format(&ip, buf, size);
    return buf;
}

Test(ipaddr, v4_valid)
{
    static const struct {
        const char *text;
        uint8_t b[4];
    } cases[] = {
        {"0.0.0.0", {0, 0, 0, 0}},
        {"192.0.2.1", {192, 0, 2, 1}},
        {"255.255.255.255", {255, 255, 255, 255}},
        {"10.0.0.10", {10, 0, 0, 10}},
        {"1.20.100.200", {1, 20, 100, 200}},
    };
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0,    0,
                                       0, 0, 0, 0, 0xff, 0xff};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rp__ip ip;

        cr_assert_eq(parse(cases[i].text, &ip), 0, "%s", cases[i].text);
        cr_assert_eq(ip.family, 4, "%s", cases[i].text);
        cr_assert_arr_eq(ip.b, prefix, 12, "%s", cases[i].text);
        cr_assert_arr_eq(ip.b + 12, cases[i].b, 4, "%s", cases[i].text);
    }
}

Test(ipaddr, v4_invalid)
{
    static const char *const bad[] = {
        "",          "010.1.1.1",  "1.1.1.01",        "00.1.1.1",   "10.1",
        "10.1.1",    "10",         "167772161",       "0x0a.0.0.1", "0xa000001",
        "1.2.3.4.5", "256.1.1.1",  "1.1.1.256",       "1.1.1.1000", " 1.2.3.4",
        "1.2.3.4 ",  "1.2 .3.4",   "1..2.3",          ".1.2.3.4",   "1.2.3.4.",
        "[1.2.3.4]", "1.2.3.4/32", "-1.2.3.4",        "+1.2.3.4",   "1.2.3.a",
        "1.2.3.4\n", "１.2.3.4",   "999.999.999.999",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rp__ip ip;

        cr_expect_eq(parse(bad[i], &ip), -1, "\"%s\" should fail", bad[i]);
    }
}

Test(ipaddr, v6_valid_and_canonical)
{
    static const char *const cases[][2] = {
        {"::", "::"},
        {"::1", "::1"},
        {"1::", "1::"},
        {"2001:db8::1", "2001:db8::1"},
        {"2001:DB8::1", "2001:db8::1"},
        {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
        {"1:0:0:2:0:0:0:3", "1:0:0:2::3"},
        {"1:0:0:2:0:0:3:4", "1::2:0:0:3:4"},
        {"0:0:1:0:0:0:0:0", "0:0:1::"},
        {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
        {"::1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7"},
        {"fe80::", "fe80::"},
        {"00::1", "::1"},
        {"0001:02:003:0004::", "1:2:3:4::"},
        {"ABCD:EF01:2345:6789:abcd:ef01:2345:6789",
         "abcd:ef01:2345:6789:abcd:ef01:2345:6789"},
        {"64:ff9b::192.0.2.1", "64:ff9b::c000:201"},
        {"::1.2.3.4", "::102:304"},
        {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
        {"1::1.2.3.4", "1::102:304"},
        {"::ffff:0:0:1", "::ffff:0:0:1"},
    };
    char buf[64];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rp__ip ip;

        cr_assert_eq(parse(cases[i][0], &ip), 0, "%s", cases[i][0]);
        cr_expect_eq(ip.family, 6, "%s", cases[i][0]);
        cr_expect_str_eq(canon(cases[i][0], buf, sizeof(buf)), cases[i][1]);
    }
}

Test(ipaddr, v6_invalid)
{
    static const char *const bad[] = {
        ":",
        ":::",
        ":1::",
        "1:",
        "1::2::3",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7",
        "1:2:3:4::5:6:7:8",
        "::1:2:3:4:5:6:7:8",
        "12345::",
        "g::1",
        "fe80::1%eth0",
        "fe80::1%1",
        "[::1]",
        " ::1",
        "::1 ",
        "::ffff:010.1.1.1",
        "::1.2.3.04",
        "::1.2.3",
        "::1.2.3.4:5",
        "::1.2.3.4.5",
        "1:2:3:4:5:6:7:1.2.3.4",
        "1.2.3.4::",
        "::12a.1.1.1",
        "::256.1.1.1",
        "1:::2",
        "1:2:3:4:5:6:7:8::",
        "::ffff:1.2.3.4/128",
        "0000:0000:0000:0000:0000:0000:0000:0000:0",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rp__ip ip;

        cr_expect_eq(parse(bad[i], &ip), -1, "\"%s\" should fail", bad[i]);
    }
}

Test(ipaddr, v4_mapped_is_family_4)
{
    static const char *const mapped[] = {
        "::ffff:192.0.2.1",
        "::FFFF:192.0.2.1",
        "::ffff:c000:201",
        "::FFFF:C000:0201",
        "0:0:0:0:0:ffff:192.0.2.1",
        "0::ffff:c000:201",
        "0000:0000:0000:0000:0000:ffff:c000:0201",
    };
    rp__ip v4, ip;
    char buf[64];

    cr_assert_eq(parse("192.0.2.1", &v4), 0);
    for (size_t i = 0; i < sizeof(mapped) / sizeof(mapped[0]); i++) {
        cr_assert_eq(parse(mapped[i], &ip), 0, "%s", mapped[i]);
        cr_expect_eq(ip.family, 4, "%s", mapped[i]);
        cr_expect_arr_eq(ip.b, v4.b, 16, "%s", mapped[i]);
        cr_expect_str_eq(canon(mapped[i], buf, sizeof(buf)), "192.0.2.1");
    }
    /* Neighbours of the mapped range stay IPv6. */
    cr_assert_eq(parse("::fffe:c000:201", &ip), 0);
    cr_expect_eq(ip.family, 6);
    cr_assert_eq(parse("::1:ffff:c000:201", &ip), 0);
    cr_expect_eq(ip.family, 6);
    cr_assert_eq(parse("::192.0.2.1", &ip), 0);
    cr_expect_eq(ip.family, 6);
}

Test(ipaddr, length_is_respected)
{
    const char text[] = "192.0.2.123";
    rp__ip ip;
    char buf[64];

    cr_assert_eq(rp__ip_parse(text, 9, &ip), 0); /* "192.0.2.1" */
    rp__ip_format(&ip, buf, sizeof(buf));
    cr_expect_str_eq(buf, "192.0.2.1");
    cr_expect_eq(rp__ip_parse("::1:2", 3, &ip), 0); /* "::1" */
    cr_expect_eq(ip.b[15], 1);
    cr_expect_eq(rp__ip_parse("1.2.3.4", 0, &ip), -1);
    cr_expect_eq(rp__ip_parse(NULL, 0, &ip), -1);
}

Test(ipaddr, format_truncates_and_terminates)
{
    rp__ip ip;
    char buf[8];

    cr_assert_eq(parse("2001:db8::1", &ip), 0);
    cr_expect_eq(rp__ip_format(&ip, buf, sizeof(buf)), 7);
    cr_expect_str_eq(buf, "2001:db");
    cr_expect_eq(rp__ip_format(&ip, buf, 1), 0);
    cr_expect_str_eq(buf, "");
    cr_assert_eq(parse("255.255.255.255", &ip), 0);
    cr_expect_eq(rp__ip_format(&ip, buf, 4), 3);
    cr_expect_str_eq(buf, "255");
}

Test(ipaddr, format_round_trips_through_inet_ntop)
{
    static const char *const cases[] = {
        "::",
        "1::",
        "::1",
        "1:2:3:4:5:6:7:8",
        "1:0:2:0:3:0:4:0",
        "0:0:0:1:0:0:0:0",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:db8:85a3::8a2e:370:7334",
        "1:0:0:0:1:0:0:1",
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rp__ip ip;
        char ours[64], theirs[INET6_ADDRSTRLEN];

        cr_assert_eq(parse(cases[i], &ip), 0, "%s", cases[i]);
        rp__ip_format(&ip, ours, sizeof(ours));
        cr_assert_not_null(inet_ntop(AF_INET6, ip.b, theirs, sizeof(theirs)));
        cr_expect_str_eq(ours, theirs, "%s", cases[i]);
    }
}

/* The accepted set and the bytes must be exactly those of inet_pton(). */
static void
check_against_inet_pton(const char *text)
{
    uint8_t b6[16], b4[4];
    int v4 = inet_pton(AF_INET, text, b4) == 1;
    int v6 = !v4 && inet_pton(AF_INET6, text, b6) == 1;
    rp__ip ip;
    int ours = parse(text, &ip) == 0;

    cr_assert_eq(ours, v4 || v6, "\"%s\": ours %d, inet_pton %d", text, ours,
                 v4 || v6);
    if (v4) {
        cr_assert_arr_eq(ip.b + 12, b4, 4, "%s", text);
        cr_assert_eq(ip.family, 4, "%s", text);
    } else if (v6) {
        cr_assert_arr_eq(ip.b, b6, 16, "%s", text);
    }
}

static uint32_t
next_random(uint32_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state;
}

/* Strings built from address-like pieces, valid ones among them. */
Test(ipaddr, agrees_with_inet_pton_on_pieces)
{
    static const char *const pieces[] = {
        "0",   "1",    "00",   "01",      "10",      "99",       "255",
        "256", "999",  "ffff", "FFFF",    "abcd",    "12345",    "a",
        "",    "c000", "0000", "1.2.3.4", "0.0.0.0", "01.2.3.4",
    };
    static const char *const seps[] = {".", ".", ".", ":", ":", "::"};
    const size_t np = sizeof(pieces) / sizeof(pieces[0]);
    const size_t ns = sizeof(seps) / sizeof(seps[0]);
    uint32_t state = 88172645u;
    int valid = 0;

    for (int round = 0; round < 100000; round++) {
        char text[128] = "";
        size_t count = 1 + next_random(&state) % 9, n = 0;

        for (size_t k = 0; k < count; k++) {
            const char *p = pieces[next_random(&state) % np];
            const char *sep = seps[next_random(&state) % ns];

            if (k > 0) {
                n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", sep);
            }
            n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", p);
        }
        check_against_inet_pton(text);
        valid += parse(text, &(rp__ip){0}) == 0;
    }
    /* The walk must reach a fair number of valid addresses to mean much. */
    cr_expect_gt(valid, 1000, "only %d valid strings", valid);
}

Test(ipaddr, agrees_with_inet_pton)
{
    static const char *const fixed[] = {
        "0.0.0.0",          "010.1.1.1",       "10.1",
        "167772161",        "0x7f.1",          "::",
        "1:2:3:4::5:6:7:8", "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7",
        "fe80::1%eth0",     "::ffff:1.2.3.4",  "::ffff:01.2.3.4",
        "1::2::3",          "12345::",         "::00000",
        "1:2:3:4:5:6:7:8",  "1.2.3.4.",        "a::b:1.2.3.4",
    };
    static const char alphabet[] = "0123456789abfAF:::...";
    uint32_t state = 2463534242u;
    char text[32];

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        check_against_inet_pton(fixed[i]);
    }
    /* A deterministic random walk over strings of address characters. */
    for (int round = 0; round < 200000; round++) {
        size_t len = next_random(&state) % 24;

        for (size_t k = 0; k < len; k++) {
            text[k] = alphabet[next_random(&state) % (sizeof(alphabet) - 1)];
        }
        text[len] = '\0';
        check_against_inet_pton(text);
    }
}

Test(ipaddr, cidr_valid)
{
    static const struct {
        const char *text;
        const char *addr;
        unsigned plen;
        int family;
    } cases[] = {
        {"10.0.0.0/8", "10.0.0.0", 104, 4},
        {"0.0.0.0/0", "0.0.0.0", 96, 4},
        {"192.0.2.1", "192.0.2.1", 128, 4},
        {"192.0.2.1/32", "192.0.2.1", 128, 4},
        {"192.0.2.0/24", "192.0.2.0", 120, 4},
        {"::/0", "::", 0, 6},
        {"2001:db8::/32", "2001:db8::", 32, 6},
        {"2001:DB8::/48", "2001:db8::", 48, 6},
        {"2001:db8::1", "2001:db8::1", 128, 6},
        {"2001:db8::1/128", "2001:db8::1", 128, 6},
        {"::ffff:10.0.0.0/104", "10.0.0.0", 104, 4},
        {"::ffff:0:0/96", "0.0.0.0", 96, 4},
        {"::ffff:192.0.2.1", "192.0.2.1", 128, 4},
        {"::/95", "::", 95, 6},
        {"64:ff9b::/96", "64:ff9b::", 96, 6},
        {"0000:0000:0000:0000:0000:0000:255.255.255.255/128",
         "::255.255.255.255", 128, 6},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rp__ip ip, want;
        unsigned plen = 999;
        const char *why;

        cr_assert_eq(cidr(cases[i].text, &ip, &plen, &why), 0, "%s: %s",
                     cases[i].text, why ? why : "");
        cr_assert_eq(parse(cases[i].addr, &want), 0);
        cr_expect_arr_eq(ip.b, want.b, 16, "%s", cases[i].text);
        cr_expect_eq(plen, cases[i].plen, "%s: %u", cases[i].text, plen);
        cr_expect_eq(ip.family, cases[i].family, "%s", cases[i].text);
    }
}

Test(ipaddr, cidr_invalid)
{
    static const struct {
        const char *text;
        const char *why;
    } cases[] = {
        {"127.0.0.1/8", "host bits set in network address"},
        {"10.0.0.1/31", "host bits set in network address"},
        {"2001:db8::1/64", "host bits set in network address"},
        {"::ffff:10.0.0.0/80", "host bits set in network address"},
        {"::ffff:0:0/95", "host bits set in network address"},
        {"10.0.0.0/08", "leading zero in prefix length"},
        {"10.0.0.0/00", "leading zero in prefix length"},
        {"10.0.0.0/", "missing prefix length after '/'"},
        {"10.0.0.0/33", "prefix length above 32 for an IPv4 network"},
        {"10.0.0.0/4294967304", "prefix length above 32 for an IPv4 network"},
        {"::/129", "prefix length above 128 for an IPv6 network"},
        {"10.0.0.0/255.0.0.0", "prefix length is not a decimal number"},
        {"10.0.0.0/-1", "prefix length is not a decimal number"},
        {"10.0.0.0/+8", "prefix length is not a decimal number"},
        {"10.0.0.0/8/8", "prefix length is not a decimal number"},
        {"10.1/16", "invalid IP address in network"},
        {"10/8", "invalid IP address in network"},
        {"010.0.0.0/8", "invalid IP address in network"},
        {"167772160/8", "invalid IP address in network"},
        {"1::2::3/64", "invalid IP address in network"},
        {"1:2:3:4:5:6:7:8:9/64", "invalid IP address in network"},
        {"fe80::1%eth0/64", "invalid IP address in network"},
        {"[::1]/128", "invalid IP address in network"},
        {"/8", "invalid IP address in network"},
        {"", "empty network"},
        {" 10.0.0.0/8", "whitespace, control or non-ASCII byte in network"},
        {"10.0.0.0/8 ", "whitespace, control or non-ASCII byte in network"},
        {"10.0.0.0 /8", "whitespace, control or non-ASCII byte in network"},
        {"10.0.0.0/\t8", "whitespace, control or non-ASCII byte in network"},
        {"0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/8",
         "network text too long"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rp__ip ip;
        unsigned plen;
        const char *why;

        cr_expect_eq(cidr(cases[i].text, &ip, &plen, &why), -1, "%s",
                     cases[i].text);
        cr_expect_str_eq(why ? why : "(null)", cases[i].why, "%s",
                         cases[i].text);
    }
}

Test(ipaddr, cidr_null_why_and_length)
{
    rp__ip ip;
    unsigned plen;

    cr_expect_eq(rp__cidr_parse("10.0.0.1/8", 10, &ip, &plen, NULL), -1);
    /* Only the first 10 bytes count: "10.0.0.0/8" of "10.0.0.0/88". */
    cr_expect_eq(rp__cidr_parse("10.0.0.0/88", 10, &ip, &plen, NULL), 0);
    cr_expect_eq(plen, 104);
}
