/*
 * test_domains.c - string maps and domain pattern tables.
 */
#include "alloc.h"
#include "domains.h"
#include "rp_regex.h"
#include "text.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rp__alloc
libc_alloc(void)
{
    rp__alloc a;

    rp__alloc_init(&a, NULL);
    return a;
}

/* An allocator that fails every call after a budget runs out. */
typedef struct budget {
    long left;
} budget;

static void *
budget_malloc(size_t size, void *ctx)
{
    budget *b = ctx;

    if (b->left-- <= 0)
        return NULL;
    return malloc(size);
}

static void *
budget_realloc(void *ptr, size_t size, void *ctx)
{
    budget *b = ctx;

    if (b->left-- <= 0)
        return NULL;
    return realloc(ptr, size);
}

static void
budget_free(void *ptr, void *ctx)
{
    (void)ctx;
    free(ptr);
}

static int
put(rp__strmap_builder *b, const char *key, uint32_t value)
{
    return rp__strmap_add(b, key, strlen(key), value);
}

static int
get(const rp__strmap *m, const char *key, uint32_t *value)
{
    return rp__strmap_get(m, key, strlen(key), value);
}

/* ------------------------------------------------------------------------
 * rp__strmap
 * ------------------------------------------------------------------------ */

Test(domains, strmap_many_keys_and_misses)
{
    rp__alloc a = libc_alloc();
    rp__strmap_builder *b = rp__strmap_builder_new(&a);
    rp__strmap *m;
    char key[64];
    uint32_t v;

    cr_assert_not_null(b);
    for (uint32_t i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "user%u@example.com", i);
        cr_assert_eq(put(b, key, i * 3), 0, "key %s", key);
    }
    m = rp__strmap_freeze(b);
    cr_assert_not_null(m);
    cr_assert_eq(rp__strmap_count(m), 100000);
    for (uint32_t i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "user%u@example.com", i);
        v = UINT32_MAX;
        cr_assert_eq(get(m, key, &v), 1, "key %s", key);
        cr_assert_eq(v, i * 3);
    }
    for (uint32_t i = 100000; i < 120000; i++) {
        snprintf(key, sizeof(key), "user%u@example.com", i);
        cr_assert_eq(get(m, key, &v), 0, "key %s", key);
    }
    cr_assert_eq(get(m, "user1@example.co", &v), 0);
    cr_assert_eq(get(m, "USER1@example.com", &v), 0);
    cr_assert_eq(get(m, "", &v), 0);
    cr_assert_eq(get(m, "user1@example.com", NULL), 1);
    rp__strmap_free(m);
}

Test(domains, strmap_duplicate_keeps_first_value)
{
    rp__alloc a = libc_alloc();
    rp__strmap_builder *b = rp__strmap_builder_new(&a);
    rp__strmap *m;
    uint32_t v = 0;

    cr_assert_eq(put(b, "example.com", 7), 0);
    cr_assert_eq(put(b, "example.org", 8), 0);
    cr_assert_eq(put(b, "example.com", 9), 1);
    cr_assert_eq(put(b, "example.com", 10), 1);
    m = rp__strmap_freeze(b);
    cr_assert_eq(rp__strmap_count(m), 2);
    cr_assert_eq(get(m, "example.com", &v), 1);
    cr_assert_eq(v, 7);
    cr_assert_eq(get(m, "example.org", &v), 1);
    cr_assert_eq(v, 8);
    rp__strmap_free(m);
}

Test(domains, strmap_binary_and_empty_keys)
{
    const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDE";
    rp__alloc a = libc_alloc();
    rp__strmap_builder *b = rp__strmap_builder_new(&a);
    rp__strmap *m;
    uint32_t v = 0;

    cr_assert_eq(rp__strmap_add(b, "a\0b", 3, 1), 0);
    cr_assert_eq(rp__strmap_add(b, "a\0c", 3, 2), 0);
    cr_assert_eq(rp__strmap_add(b, "a", 1, 3), 0);
    cr_assert_eq(rp__strmap_add(b, "", 0, 4), 0);
    cr_assert_eq(rp__strmap_add(b, "", 0, 5), 1);
    /* Keys of every length around the 8-byte word size. */
    for (size_t n = 1; n <= 40; n++)
        cr_assert_eq(rp__strmap_add(b, digits, n, (uint32_t)(100 + n)), 0);
    m = rp__strmap_freeze(b);
    cr_assert_eq(rp__strmap_get(m, "a\0b", 3, &v), 1);
    cr_assert_eq(v, 1);
    cr_assert_eq(rp__strmap_get(m, "a\0c", 3, &v), 1);
    cr_assert_eq(v, 2);
    cr_assert_eq(rp__strmap_get(m, "a\0d", 3, &v), 0);
    cr_assert_eq(rp__strmap_get(m, "a", 1, &v), 1);
    cr_assert_eq(v, 3);
    cr_assert_eq(rp__strmap_get(m, "", 0, &v), 1);
    cr_assert_eq(v, 4);
    for (size_t n = 1; n <= 40; n++) {
        cr_assert_eq(rp__strmap_get(m, digits, n, &v), 1);
        cr_assert_eq(v, 100 + n);
    }
    cr_assert_eq(rp__strmap_get(m, digits, 41, &v), 0);
    rp__strmap_free(m);
}

/* The empty key is a key like any other, even as the very first one. */
Test(domains, strmap_empty_key_first)
{
    rp__alloc a = libc_alloc();
    rp__strmap_builder *b = rp__strmap_builder_new(&a);
    rp__strmap *m;
    uint32_t v = 0;

    cr_assert_eq(rp__strmap_add(b, "", 0, 5), 0);
    cr_assert_eq(rp__strmap_add(b, NULL, 0, 6), 1);
    m = rp__strmap_freeze(b);
    cr_assert_eq(rp__strmap_count(m), 1);
    cr_assert_eq(rp__strmap_get(m, "", 0, &v), 1);
    cr_assert_eq(v, 5);
    cr_assert_eq(rp__strmap_get(m, "a", 1, &v), 0);
    rp__strmap_free(m);
}

Test(domains, strmap_empty_and_null)
{
    rp__alloc a = libc_alloc();
    rp__strmap *m = rp__strmap_freeze(rp__strmap_builder_new(&a));
    uint32_t v = 42;

    cr_assert_not_null(m);
    cr_assert_eq(rp__strmap_count(m), 0);
    cr_assert_eq(get(m, "x", &v), 0);
    cr_assert_eq(get(m, "", &v), 0);
    cr_assert_eq(get(NULL, "x", &v), 0);
    cr_assert_eq(v, 42);
    cr_assert_eq(rp__strmap_count(NULL), 0);
    rp__strmap_free(m);
    rp__strmap_free(NULL);
    rp__strmap_builder_free(NULL);
    cr_assert_null(rp__strmap_freeze(NULL));
}

Test(domains, strmap_million_keys)
{
    rp__alloc a = libc_alloc();
    rp__strmap_builder *b = rp__strmap_builder_new(&a);
    rp__strmap *m;
    char key[64];
    uint32_t v = 0;
    const uint32_t n = 1000000;

    for (uint32_t i = 0; i < n; i++) {
        int len =
            snprintf(key, sizeof(key), "Lexample%u.com:user%u", i % 97, i);
        cr_assert_eq(rp__strmap_add(b, key, (size_t)len, i), 0);
    }
    cr_assert_eq(rp__strmap_add(b, "Lexample5.com:user5", 19, 0), 1);
    m = rp__strmap_freeze(b);
    cr_assert_not_null(m);
    cr_assert_eq(rp__strmap_count(m), n);
    for (uint32_t i = 0; i < n; i += 997) {
        int len =
            snprintf(key, sizeof(key), "Lexample%u.com:user%u", i % 97, i);
        cr_assert_eq(rp__strmap_get(m, key, (size_t)len, &v), 1);
        cr_assert_eq(v, i);
        len = snprintf(key, sizeof(key), "Lexample%u.com:user%u", (i + 1) % 97,
                       i);
        cr_assert_eq(rp__strmap_get(m, key, (size_t)len, &v), 0);
    }
    rp__strmap_free(m);
}

/* Every allocation failure is reported and leaves the builder usable. */
Test(domains, strmap_allocation_failures)
{
    for (long limit = 0; limit < 12; limit++) {
        budget bud = {limit};
        rp__alloc a = {budget_malloc, budget_realloc, budget_free, &bud};
        rp__strmap_builder *b = rp__strmap_builder_new(&a);
        char key[32];
        uint32_t added = 0;

        if (b == NULL)
            continue;
        for (uint32_t i = 0; i < 200; i++) {
            snprintf(key, sizeof(key), "k%u", i);
            int r = put(b, key, i);
            cr_assert(r == 0 || r == -1);
            added += r == 0;
        }
        rp__strmap *m = rp__strmap_freeze(b);
        if (m != NULL) {
            cr_assert_eq(rp__strmap_count(m), added);
            rp__strmap_free(m);
        }
    }
}

Test(domains, lower)
{
    char out[32];
    const char in[] = "MiXeD.Example-01.COM\x80\xC9@[Z]";

    rp__lower(out, in, sizeof(in));
    cr_assert_str_eq(out, "mixed.example-01.com\x80\xC9@[z]");
    memcpy(out, "ABC", 4);
    rp__lower(out, out, 3);
    cr_assert_str_eq(out, "abc");
}

/* ------------------------------------------------------------------------
 * rp__domtab
 * ------------------------------------------------------------------------ */

static rp__domtab_builder *
tab_new(uint32_t flags)
{
    rp__alloc a = libc_alloc();
    rp__domtab_builder *b = rp__domtab_builder_new(&a, flags, 100000, 1000);

    cr_assert_not_null(b);
    return b;
}

static void
add_ok(rp__domtab_builder *b, const char *pattern, uint32_t value)
{
    char why[160] = "";
    uint32_t prev = 0;
    int r = rp__domtab_add(b, pattern, strlen(pattern), value, &prev, why,
                           sizeof(why));

    cr_assert_eq(r, 0, "add '%s': %d %s", pattern, r, why);
}

static void
add_bad(rp__domtab_builder *b, const char *pattern, const char *needle)
{
    char why[160] = "";
    int r =
        rp__domtab_add(b, pattern, strlen(pattern), 0, NULL, why, sizeof(why));

    cr_assert_eq(r, -1, "'%s' was accepted", pattern);
    cr_assert(strstr(why, needle) != NULL, "'%s': message '%s'", pattern, why);
}

/* 1 with value and kind, 0 on a miss (value and kind untouched). */
static int
look(const rp__domtab *t,
     const char *domain,
     rp__scratch *s,
     uint32_t *v,
     rp__dompat *k)
{
    *v = UINT32_MAX;
    *k = 0;
    return rp__domtab_lookup(t, domain, strlen(domain), s, v, k);
}

#define assert_hit(t, s, domain, value, kind)                                  \
    do {                                                                       \
        uint32_t v_;                                                           \
        rp__dompat k_;                                                         \
        cr_assert_eq(look(t, domain, s, &v_, &k_), 1, "%s", domain);           \
        cr_assert_eq(v_, value, "%s -> %u", domain, v_);                       \
        cr_assert_eq(k_, kind, "%s kind %d", domain, (int)k_);                 \
    } while (0)

#define assert_miss(t, s, domain)                                              \
    do {                                                                       \
        uint32_t v_;                                                           \
        rp__dompat k_;                                                         \
        cr_assert_eq(look(t, domain, s, &v_, &k_), 0, "%s", domain);           \
    } while (0)

Test(domains, precedence_exact_suffix_regex)
{
    rp__domtab_builder *b = tab_new(0);
    rp__domtab *t;
    rp__scratch s;

    add_ok(b, "/example/", 1);
    add_ok(b, "/^mail\\./", 2);
    add_ok(b, ".example.com", 3);
    add_ok(b, ".b.example.com", 4);
    add_ok(b, "x.b.example.com", 5);
    add_ok(b, "example.org", 6);
    t = rp__domtab_freeze(b);
    cr_assert_not_null(t);
    rp__scratch_init(&s);

    /* Exact beats every suffix. */
    assert_hit(t, &s, "x.b.example.com", 5, RP__DOMPAT_EXACT);
    /* The longest suffix wins, and a suffix covers the domain itself. */
    assert_hit(t, &s, "b.example.com", 4, RP__DOMPAT_SUFFIX);
    assert_hit(t, &s, "a.b.example.com", 4, RP__DOMPAT_SUFFIX);
    assert_hit(t, &s, "y.x.b.example.com", 4, RP__DOMPAT_SUFFIX);
    assert_hit(t, &s, "example.com", 3, RP__DOMPAT_SUFFIX);
    assert_hit(t, &s, "c.example.com", 3, RP__DOMPAT_SUFFIX);
    /* A suffix matches whole labels only. */
    assert_hit(t, &s, "notexample.com", 1, RP__DOMPAT_REGEX);
    /* Exact names match only themselves. */
    assert_hit(t, &s, "example.org", 6, RP__DOMPAT_EXACT);
    assert_hit(t, &s, "sub.example.org", 1, RP__DOMPAT_REGEX);
    /* Regexes in insertion order: both match, the first wins. */
    assert_hit(t, &s, "mail.example.net", 1, RP__DOMPAT_REGEX);
    assert_hit(t, &s, "mail.test", 2, RP__DOMPAT_REGEX);
    assert_miss(t, &s, "other.test");
    assert_miss(t, &s, "com");
    assert_miss(t, &s, "");
    rp__domtab_free(t);
}

Test(domains, regex_order_is_insertion_order)
{
    rp__domtab_builder *b = tab_new(0);
    rp__domtab *t;
    rp__scratch s;

    add_ok(b, "/^mail\\./", 2);
    add_ok(b, "/example/", 1);
    t = rp__domtab_freeze(b);
    rp__scratch_init(&s);
    assert_hit(t, &s, "mail.example.net", 2, RP__DOMPAT_REGEX);
    assert_hit(t, &s, "www.example.net", 1, RP__DOMPAT_REGEX);
    rp__domtab_free(t);
}

Test(domains, normalization_case_and_trailing_dot)
{
    rp__domtab_builder *b = tab_new(0);
    rp__domtab *t;
    rp__scratch s;
    uint32_t prev = 0;

    add_ok(b, "Example.COM.", 1);
    add_ok(b, ".Partner.ORG.", 2);
    add_ok(b, "/SPAM\\.test$/", 3);
    /* The same names written differently are duplicates. */
    cr_assert_eq(rp__domtab_add(b, "example.com", 11, 9, &prev, NULL, 0), 1);
    cr_assert_eq(prev, 1);
    cr_assert_eq(rp__domtab_add(b, "EXAMPLE.com.", 12, 9, &prev, NULL, 0), 1);
    cr_assert_eq(prev, 1);
    cr_assert_eq(rp__domtab_add(b, ".partner.org", 12, 9, &prev, NULL, 0), 1);
    cr_assert_eq(prev, 2);
    cr_assert_eq(rp__domtab_add(b, "/SPAM\\.test$/", 13, 9, &prev, NULL, 0), 1);
    cr_assert_eq(prev, 3);
    /* The same name as exact and as suffix are different patterns. */
    cr_assert_eq(rp__domtab_add(b, "partner.org", 11, 4, &prev, NULL, 0), 0);
    cr_assert_eq(rp__domtab_add(b, ".example.com", 12, 5, &prev, NULL, 0), 0);
    /* Regex text is kept as written: a different spelling is new. */
    cr_assert_eq(rp__domtab_add(b, "/spam\\.test$/", 13, 6, &prev, NULL, 0), 0);
    t = rp__domtab_freeze(b);
    rp__scratch_init(&s);
    assert_hit(t, &s, "example.com", 1, RP__DOMPAT_EXACT);
    assert_hit(t, &s, "www.example.com", 5, RP__DOMPAT_SUFFIX);
    assert_hit(t, &s, "partner.org", 4, RP__DOMPAT_EXACT);
    assert_hit(t, &s, "mx.partner.org", 2, RP__DOMPAT_SUFFIX);
    /* Regexes match case-insensitively and unanchored. */
    assert_hit(t, &s, "mx.spam.test", 3, RP__DOMPAT_REGEX);
    assert_miss(t, &s, "spam.test.org");
    rp__domtab_free(t);
}

Test(domains, invalid_patterns)
{
    rp__domtab_builder *b = tab_new(0);
    char label64[80];
    char long_name[300];

    add_bad(b, "", "empty");
    add_bad(b, ".", "every domain");
    add_bad(b, "..", "every domain");
    add_bad(b, "example..com", "empty label");
    add_bad(b, ".example.com..", "empty label");
    add_bad(b, "exa mple.com", "letters, digits");
    add_bad(b, "exa_mple.com", "letters, digits");
    add_bad(b, "[192.0.2.1]", "letters, digits");
    add_bad(b, "user@example.com", "letters, digits");
    add_bad(b, "-example.com", "starts with a hyphen");
    add_bad(b, "example-.com", "ends with a hyphen");
    add_bad(b, "caf\xC3\xA9.example", "letters, digits");
    add_bad(b, "/", "end with '/'");
    add_bad(b, "/abc", "end with '/'");
    add_bad(b, "//", "empty regex");
    add_bad(b, "/ab(c/", "bad regex at offset 4");
    memset(label64, 'a', 64);
    memcpy(label64 + 64, ".com", 5);
    add_bad(b, label64, "63 octets");
    for (size_t i = 0; i < 256; i += 2)
        memcpy(long_name + i, "a.", 2);
    memcpy(long_name + 256, "com", 4);
    add_bad(b, long_name, "255 octets");
    /* The edge cases that are valid. */
    add_ok(b, label64 + 1, 1); /* a 63-octet label */
    add_ok(b, "a", 2);
    add_ok(b, "xn--caf-dma.example", 3);
    add_ok(b, "1.2.3.4", 4);
    add_ok(b, ".com", 5);
    cr_assert_eq(rp__domtab_add(b, NULL, 0, 0, NULL, NULL, 0), -1);
    rp__domtab_free(rp__domtab_freeze(b));
}

/* A regex that hits its limit makes the lookup fail (-1) instead of
 * falling through to a later regex or to a miss. */
Test(domains, regex_failure_is_an_error)
{
    uint32_t modes[2] = {0, RP_OPT_NO_JIT};

    for (int m = 0; m < 2; m++) {
        rp__domtab_builder *b = tab_new(modes[m]);
        rp__domtab *t;
        rp__scratch s;
        uint32_t v = 0;
        rp__dompat k = 0;
        const char *d = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                        ".example";

        add_ok(b, "example.com", 1);
        add_ok(b, ".example.net", 2);
        add_ok(b, "/^(a+)+$/", 3);
        add_ok(b, "/example/", 4);
        t = rp__domtab_freeze(b);
        rp__scratch_init(&s);
        cr_assert_eq(rp__domtab_lookup(t, d, strlen(d), &s, &v, &k), -1);
        /* Exact and suffix hits never reach the regexes. */
        assert_hit(t, &s, "example.com", 1, RP__DOMPAT_EXACT);
        assert_hit(t, &s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.net", 2,
                   RP__DOMPAT_SUFFIX);
        assert_hit(t, &s, "aaaa", 3, RP__DOMPAT_REGEX);
        assert_hit(t, &s, "b.example", 4, RP__DOMPAT_REGEX);
        /* A NULL scratch works too (a temporary one is used). */
        cr_assert_eq(rp__domtab_lookup(t, d, strlen(d), NULL, &v, &k), -1);
        cr_assert_eq(rp__domtab_lookup(t, "b.example", 9, NULL, &v, &k), 1);
        cr_assert_eq(v, 4);
        rp__domtab_free(t);
    }
}

Test(domains, scratch_reused_across_lookups)
{
    rp__domtab_builder *b = tab_new(RP_OPT_NO_JIT);
    rp__domtab *t;
    rp__scratch s;
    char d[64];
    size_t used;
    int hits = 0;

    add_ok(b, "/^a/", 1);
    add_ok(b, "/b$/", 2);
    add_ok(b, "/(c|d)+\\.test/", 3);
    t = rp__domtab_freeze(b);
    rp__scratch_init(&s);
    assert_hit(t, &s, "cdcd.test", 3, RP__DOMPAT_REGEX);
    used = s.used;
    cr_assert_gt(used, 0);
    for (int i = 0; i < 3000; i++) {
        uint32_t v;
        rp__dompat k;
        snprintf(d, sizeof(d), "%c%d.%s", "abcx"[i % 4], i,
                 (i % 3) ? "cd.test" : "web");
        int r = look(t, d, &s, &v, &k);
        cr_assert_geq(r, 0);
        hits += r;
    }
    cr_assert_eq(s.used, used);
    cr_assert_gt(hits, 2000);
    rp__domtab_free(t);
}

Test(domains, many_domains_and_parent_fallback)
{
    rp__domtab_builder *b = tab_new(0);
    rp__domtab *t;
    char d[80];
    uint32_t v;
    rp__dompat k;

    for (uint32_t i = 0; i < 100000; i++) {
        snprintf(d, sizeof(d), "%sdomain%u.example", (i & 1) ? "." : "", i);
        add_ok(b, d, i);
    }
    t = rp__domtab_freeze(b);
    cr_assert_not_null(t);
    for (uint32_t i = 0; i < 100000; i += 7) {
        snprintf(d, sizeof(d), "mx.a.domain%u.example", i);
        int r = look(t, d, NULL, &v, &k);
        if (i & 1) {
            cr_assert_eq(r, 1, "%s", d);
            cr_assert_eq(v, i);
            cr_assert_eq(k, RP__DOMPAT_SUFFIX);
        } else {
            cr_assert_eq(r, 0, "%s", d);
        }
        snprintf(d, sizeof(d), "domain%u.example", i);
        cr_assert_eq(look(t, d, NULL, &v, &k), 1, "%s", d);
        cr_assert_eq(v, i);
        cr_assert_eq(k, (i & 1) ? RP__DOMPAT_SUFFIX : RP__DOMPAT_EXACT);
    }
    rp__domtab_free(t);
}

/* Domains with many labels: parent probing runs in batches, and label
 * counts of 63 and more share one bucket. */
Test(domains, many_labels)
{
    rp__domtab_builder *b = tab_new(0);
    rp__domtab *t;
    char deep[256];
    char query[300];
    size_t n = 0;

    /* 70 labels: "l.l.l. ... .l.com". */
    for (int i = 0; i < 69; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "l.");
    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "com");
    add_ok(b, ".example.com", 1);
    query[0] = '.';
    memcpy(query + 1, deep, n + 1);
    add_ok(b, query, 2);
    t = rp__domtab_freeze(b);

    /* 100 labels above example.com. */
    n = 0;
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(query + n, sizeof(query) - n, "x.");
    snprintf(query + n, sizeof(query) - n, "example.com");
    assert_hit(t, NULL, query, 1, RP__DOMPAT_SUFFIX);
    query[n + 1] = 'y';
    assert_miss(t, NULL, query);
    assert_hit(t, NULL, deep, 2, RP__DOMPAT_SUFFIX);
    snprintf(query, sizeof(query), "m.%s", deep);
    assert_hit(t, NULL, query, 2, RP__DOMPAT_SUFFIX);
    snprintf(query, sizeof(query), "%s", deep + 2);
    assert_miss(t, NULL, query);
    rp__domtab_free(t);
}

Test(domains, empty_and_null_tables)
{
    rp__domtab *t = rp__domtab_freeze(tab_new(0));
    uint32_t v = 0;
    rp__dompat k = 0;

    cr_assert_not_null(t);
    cr_assert_eq(rp__domtab_lookup(t, "example.com", 11, NULL, &v, &k), 0);
    cr_assert_eq(rp__domtab_lookup(NULL, "example.com", 11, NULL, &v, &k), 0);
    cr_assert_eq(rp__domtab_lookup(t, "example.com", 11, NULL, NULL, NULL), 0);
    rp__domtab_free(t);
    rp__domtab_free(NULL);
    rp__domtab_builder_free(NULL);
    cr_assert_null(rp__domtab_freeze(NULL));
}

/* A builder freed without freezing releases its compiled regexes. */
Test(domains, builder_free_releases_everything)
{
    rp__domtab_builder *b = tab_new(0);

    add_ok(b, "/a/", 1);
    add_ok(b, "/b/", 2);
    add_ok(b, "example.com", 3);
    add_ok(b, ".example.org", 4);
    rp__domtab_builder_free(b);
}

Test(domains, domtab_allocation_failures)
{
    for (long limit = 0; limit < 40; limit++) {
        budget bud = {limit};
        rp__alloc a = {budget_malloc, budget_realloc, budget_free, &bud};
        rp__domtab_builder *b = rp__domtab_builder_new(&a, 0, 1000, 100);
        const char *pats[] = {"example.com", ".example.org", "/x+y/", "/z/"};
        uint32_t v;
        rp__dompat k;
        rp__domtab *t;

        if (b == NULL)
            continue;
        for (int i = 0; i < 4; i++) {
            char why[64] = "";
            int r = rp__domtab_add(b, pats[i], strlen(pats[i]), (uint32_t)i,
                                   NULL, why, sizeof(why));
            cr_assert(r == 0 || (r == RP__DOMTAB_NOMEM && why[0] != '\0'));
        }
        t = rp__domtab_freeze(b);
        if (t != NULL)
            cr_assert_geq(
                rp__domtab_lookup(t, "a.example.org", 13, NULL, &v, &k), 0);
        rp__domtab_free(t);
    }
}

/* The map hash as first written, a byte at a time: compiled policy files
 * hold its values, so every faster form must give the same. */
static uint32_t
reference_hash(const char *key, size_t len)
{
    const unsigned char *p = (const unsigned char *)key;
    uint64_t h =
        0x9E3779B97F4A7C15ull ^ ((uint64_t)len * 0xBF58476D1CE4E5B9ull);
    uint64_t w;

    while (len > 0) {
        size_t n = len < 8 ? len : 8;
        w = 0;
        for (size_t i = n; i-- > 0;)
            w = w << 8 | p[i];
        h = ((h << 29) | (h >> 35)) ^ w;
        h *= 0x9E3779B97F4A7C15ull;
        p += n;
        len -= n;
    }
    h ^= h >> 31;
    h *= 0x94D049BB133111EBull;
    h ^= h >> 29;
    return (uint32_t)(h ^ (h >> 32));
}

/* A domain key holds what a map computes for the name, its hash, and its
 * label count, at every length and dot position (the word-wise pass reads
 * the tail in one load). */
Test(domtab, domain_key_matches_the_map_hash)
{
    char name[40];

    for (size_t len = 1; len < sizeof(name); len++) {
        for (size_t dot = 0; dot <= len; dot++) {
            rp__domkey k;
            size_t labels = 1;

            for (size_t i = 0; i < len; i++)
                name[i] = (char)('a' + i % 26);
            for (size_t i = dot; i < len; i += 3) {
                name[i] = '.';
                labels++;
            }
            rp__domkey_make(&k, name, len);
            cr_assert_eq(k.hash, reference_hash(name, len), "len %zu", len);
            cr_assert_eq(rp__strmap_hash(name, len), k.hash, "len %zu", len);
            cr_assert_eq(k.labels, labels, "len %zu dot %zu", len, dot);
            cr_assert_eq(k.len, len);
        }
    }
}
