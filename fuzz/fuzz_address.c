/*
 * fuzz_address.c - RFC 5321 paths: rp__addr_parse(), rp__addr_format()
 * and rp__addr_route_split().
 *
 * Invariants, for any input:
 *   - parsing never reads past the input (ASan sees the exact buffer);
 *   - a parsed address formats to canonical text that parses back to the
 *     same address, and formatting that again gives the same text;
 *   - the canonical text, with its angle brackets, fits the path limit;
 *   - the lowercased form differs only in the case of the local part;
 *   - formatting into any smaller buffer cuts and NUL-terminates;
 *   - a routing split gives a mailbox that formats and parses back, and
 *     its local part is shorter than the one it came from.
 */
#include "fuzz_common.h"
#include "address.h"
#include "idn.h"

#include <stdio.h>

#define BUF (RP__PATH_MAX * 2)

static void
fail(const char *what, const char *text)
{
    fprintf(stderr, "invariant broken: %s: <%s>\n", what, text);
    abort();
}

static bool
same_addr(const rp__addr *a, const rp__addr *b)
{
    return a->is_null == b->is_null && a->local_len == b->local_len &&
           memcmp(a->local, b->local, a->local_len) == 0 &&
           a->domain_len == b->domain_len &&
           memcmp(a->domain, b->domain, a->domain_len) == 0 &&
           a->dom_type == b->dom_type &&
           (a->dom_type < RP__DOM_IPV4 ||
            memcmp(a->literal.b, b->literal.b, 16) == 0);
}

/* Does @p s hold a byte above 0x7f? */
static bool
memchr_high(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return true;
    return false;
}

/* Canonical text of @p a must parse back to @p a and be stable. */
static void
round_trip(const rp__addr *a, bool allow_null)
{
    char text[BUF], again[BUF], lower[BUF];
    size_t n = rp__addr_format(a, false, text, sizeof(text));
    rp__addr b;

    if (n != strlen(text))
        fail("format length", text);
    if (!a->is_null && n + 2 > RP__PATH_MAX)
        fail("canonical text longer than a path", text);
    if (rp__addr_parse(text, n, allow_null, &b) != RP__ADDR_OK)
        fail("canonical text does not parse", text);
    if (!same_addr(a, &b) || b.had_route)
        fail("canonical text parses to another address", text);
    if (rp__addr_format(&b, false, again, sizeof(again)) != n ||
        memcmp(text, again, n) != 0)
        fail("canonical text is not stable", text);
    if (memchr_high(a->local, a->local_len)) {
        /* A UTF-8 local part is case folded and NFC normalised: folding
         * the folded form again changes nothing.  Folding may lengthen
         * it (U+023A is 2 bytes, its lower case 3) past what a local part
         * may hold: the folded form is a lookup key, not an address, so
         * that is checked on the local part itself. */
        char f1[4 * RP__LOCAL_MAX + 1], f2[sizeof(f1)];
        size_t m1 = rp__utf8_fold(a->local, a->local_len, f1, sizeof(f1));
        size_t m2 = m1 > 0 ? rp__utf8_fold(f1, m1, f2, sizeof(f2)) : 0;
        size_t m = rp__addr_format(a, true, lower, sizeof(lower));
        rp__addr f;
        int pr = m > 0 ? (int)rp__addr_parse(lower, m, allow_null, &f) : -1;
        if (m1 > 0 && (m2 != m1 || memcmp(f1, f2, m1) != 0))
            fail("folded local part is not stable", text);
        /* Longer than the local part may be only when folding grew it. */
        if (pr == RP__ADDR_TOO_LONG && m > n)
            pr = -1;
        if (pr != -1 && m + 2 <= RP__PATH_MAX &&
            (pr != RP__ADDR_OK ||
             rp__addr_format(&f, true, again, sizeof(again)) != m ||
             memcmp(lower, again, m) != 0))
            fail("folded form is not stable", text);
    } else if (rp__addr_format(a, true, lower, sizeof(lower)) != n) {
        fail("lowercased form has another length", text);
    }
    for (size_t i = 0; i < n && !memchr_high(a->local, a->local_len); i++) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (lower[i] != c && lower[i] != text[i])
            fail("lowercased form differs beyond case", text);
    }
    for (size_t size = 1; size <= n + 1; size++) {
        char cut[BUF];
        size_t m;

        memset(cut, 'Z', sizeof(cut));
        m = rp__addr_format(a, false, cut, size);
        if (m >= size || cut[m] != '\0' || memcmp(cut, text, m) != 0 ||
            cut[size] != 'Z')
            fail("cut format", text);
    }
}

/* Follow routing splits as step 6 does, checking each one. */
static void
splits(const rp__addr *a)
{
    rp__addr cur = *a, next;

    for (int i = 0; i < 300; i++) {
        rp__route r = rp__addr_route_split(&cur, &next);
        char text[BUF];

        if (r == RP__ROUTE_NONE || r == RP__ROUTE_ERROR)
            return;
        if (r != RP__ROUTE_SPLIT)
            fail("route split result", cur.local);
        rp__addr_format(&next, false, text, sizeof(text));
        if (next.local_len == 0 || next.domain_len == 0 ||
            next.local_len >= cur.local_len)
            fail("route split does not shrink", text);
        round_trip(&next, false);
        cur = next;
    }
    fail("route splits do not end", cur.local);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    rp__addr a, b;
    rp__addr_err e1 = rp__addr_parse(s, size, false, &a);
    rp__addr_err e2 = rp__addr_parse(s, size, true, &b);

    if (e1 > RP__ADDR_CONTROL || e2 > RP__ADDR_CONTROL)
        abort();
    /* Allowing the null path changes nothing but the null path. */
    if (e2 == RP__ADDR_OK && !b.is_null &&
        (e1 != RP__ADDR_OK || !same_addr(&a, &b)))
        abort();
    if (e1 == RP__ADDR_OK && a.is_null)
        abort();
    if (e1 == RP__ADDR_OK) {
        round_trip(&a, false);
        splits(&a);
    }
    if (e2 == RP__ADDR_OK && b.is_null)
        round_trip(&b, true);
    return 0;
}
