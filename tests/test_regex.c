/*
 * test_regex.c - the PCRE2 wrapper: compile errors, case-insensitive
 * unanchored matching, limits, scratch reuse and no heap at match time.
 */
#include "alloc.h"
#include "rp_regex.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#define MATCH_LIMIT 100000
#define DEPTH_LIMIT 1000

/* An allocator that counts every call made through it. */
typedef struct counter {
    size_t mallocs;
    size_t reallocs;
    size_t frees;
} counter;

/* rp__regex_compile() as a pointer-returning call, for brevity; the
 * status is checked by regex_compile_statuses. */
static rp__regex *
re_compile(const rp__alloc *a,
           const char *pattern,
           size_t len,
           uint32_t flags,
           uint32_t match_limit,
           uint32_t depth_limit,
           char *why,
           size_t why_size,
           size_t *off)
{
    rp__regex *re = NULL;
    rp_status st = rp__regex_compile(a, pattern, len, flags, match_limit,
                                     depth_limit, &re, why, why_size, off);

    cr_assert_eq(st == RP_OK, re != NULL);
    return re;
}

Test(regex, compile_statuses)
{
    rp__alloc a;
    rp__regex *re = (rp__regex *)1;

    rp__alloc_init(&a, NULL);
    cr_expect_eq(
        rp__regex_compile(&a, "a(", 2, 0, 1000, 100, &re, NULL, 0, NULL),
        RP_E_REGEX);
    cr_expect_null(re);
    cr_expect_eq(
        rp__regex_compile(&a, "ab", 2, 0, 1000, 100, &re, NULL, 0, NULL),
        RP_OK);
    cr_expect_not_null(re);
    rp__regex_free(re);
}

static void *
count_malloc(size_t size, void *ctx)
{
    ((counter *)ctx)->mallocs++;
    return malloc(size);
}

static void *
count_realloc(void *ptr, size_t size, void *ctx)
{
    ((counter *)ctx)->reallocs++;
    return realloc(ptr, size);
}

static void
count_free(void *ptr, void *ctx)
{
    ((counter *)ctx)->frees++;
    free(ptr);
}

static rp__alloc
libc_alloc(void)
{
    rp__alloc a;

    rp__alloc_init(&a, NULL);
    return a;
}

static rp__regex *
compile(const char *pattern, uint32_t flags)
{
    rp__alloc a = libc_alloc();
    char why[128] = "";
    size_t off = 99;
    rp__regex *re = re_compile(&a, pattern, strlen(pattern), flags, MATCH_LIMIT,
                               DEPTH_LIMIT, why, sizeof(why), &off);

    cr_assert_not_null(re, "compile '%s': %s", pattern, why);
    cr_assert_eq(off, 0);
    return re;
}

static int
match(const rp__regex *re, const char *subject, rp__scratch *s)
{
    return rp__regex_match(re, subject, strlen(subject), s);
}

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const uint32_t modes[2] = {0, RP_OPT_NO_JIT};

Test(regex, compile_error_reports_message_and_offset)
{
    rp__alloc a = libc_alloc();
    char why[128] = "";
    size_t off = 0;
    rp__regex *re = re_compile(&a, "ab(c", 4, 0, MATCH_LIMIT, DEPTH_LIMIT, why,
                               sizeof(why), &off);

    cr_assert_null(re);
    cr_assert_str_neq(why, "");
    cr_assert(strstr(why, "parenthes") != NULL, "message: %s", why);
    cr_assert_eq(off, 4);

    re = re_compile(&a, "a[b", 3, RP_OPT_NO_JIT, MATCH_LIMIT, DEPTH_LIMIT, why,
                    sizeof(why), NULL);
    cr_assert_null(re);
    cr_assert(strstr(why, "]") != NULL || strstr(why, "class") != NULL,
              "message: %s", why);
}

Test(regex, compile_error_with_tiny_message_buffer)
{
    rp__alloc a = libc_alloc();
    char why[8];
    size_t off = 0;

    memset(why, 'x', sizeof(why));
    cr_assert_null(re_compile(&a, "(", 1, 0, MATCH_LIMIT, DEPTH_LIMIT, why,
                              sizeof(why), &off));
    cr_assert(memchr(why, '\0', sizeof(why)) != NULL);
    cr_assert_null(
        re_compile(&a, "(", 1, 0, MATCH_LIMIT, DEPTH_LIMIT, NULL, 0, NULL));
}

Test(regex, utf_is_refused)
{
    rp__alloc a = libc_alloc();
    char why[128] = "";

    cr_assert_null(re_compile(&a, "(*UTF)a", 7, 0, MATCH_LIMIT, DEPTH_LIMIT,
                              why, sizeof(why), NULL));
}

Test(regex, pattern_need_not_be_nul_terminated)
{
    rp__alloc a = libc_alloc();
    rp__scratch s;
    /* Only "abc" is the pattern; the ")" after it must not be read. */
    rp__regex *re =
        re_compile(&a, "abc)", 3, 0, MATCH_LIMIT, DEPTH_LIMIT, NULL, 0, NULL);

    cr_assert_not_null(re);
    rp__scratch_init(&s);
    cr_assert_eq(match(re, "xabcx", &s), 1);
    rp__regex_free(re);
}

Test(regex, caseless_and_unanchored)
{
    for (int m = 0; m < 2; m++) {
        rp__regex *re = compile("spam\\.example$", modes[m]);
        rp__regex *anch = compile("^mail\\.", modes[m]);
        rp__scratch s;

        rp__scratch_init(&s);
        cr_assert_eq(match(re, "a.spam.example", &s), 1);
        cr_assert_eq(match(re, "A.SPAM.Example", &s), 1);
        cr_assert_eq(match(re, "spam.example.org", &s), 0);
        cr_assert_eq(match(re, "spamxexample", &s), 0);
        cr_assert_eq(match(anch, "MAIL.example.com", &s), 1);
        cr_assert_eq(match(anch, "xmail.example.com", &s), 0);
        rp__regex_free(re);
        rp__regex_free(anch);
    }
}

Test(regex, subject_is_length_bounded)
{
    rp__regex *re = compile("^abc$", 0);
    rp__scratch s;

    rp__scratch_init(&s);
    cr_assert_eq(rp__regex_match(re, "abcdef", 3, &s), 1);
    cr_assert_eq(rp__regex_match(re, "abcdef", 4, &s), 0);
    rp__regex_free(re);

    re = compile("^$", 0);
    cr_assert_eq(rp__regex_match(re, NULL, 0, &s), 1);
    cr_assert_eq(rp__regex_match(re, NULL, 1, &s), -1);
    rp__regex_free(re);
}

Test(regex, bad_arguments_fail)
{
    rp__regex *re = compile("a", 0);

    cr_assert_eq(rp__regex_match(re, "a", 1, NULL), -1);
    cr_assert_eq(rp__regex_match(NULL, "a", 1, NULL), -1);
    rp__regex_free(re);
    rp__regex_free(NULL);
}

/* The classic exponential pattern must hit the match limit quickly, with
 * and without JIT, and report -1. */
Test(regex, catastrophic_pattern_fails_promptly)
{
    const char *subject = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!";

    for (int m = 0; m < 2; m++) {
        rp__regex *re = compile("(a+)+$", modes[m]);
        rp__scratch s;
        double t0, t1;

        rp__scratch_init(&s);
        t0 = now();
        cr_assert_eq(match(re, subject, &s), -1, "mode %d", m);
        t1 = now();
        cr_assert_lt(t1 - t0, 2.0, "took %.3f s", t1 - t0);
        /* The scratch is still usable after a failure. */
        cr_assert_eq(match(re, "aaa", &s), 1);
        rp__regex_free(re);
    }
}

/* The configured match limit is the one applied, with and without JIT. */
Test(regex, match_limit_applies)
{
    rp__alloc a = libc_alloc();
    const char *pat = "^(?:a|b)*\\d";
    const char *subject = "abababababababababababababababababababab!";

    for (int m = 0; m < 2; m++) {
        rp__regex *tight = re_compile(&a, pat, strlen(pat), modes[m], 10,
                                      DEPTH_LIMIT, NULL, 0, NULL);
        rp__regex *loose = re_compile(&a, pat, strlen(pat), modes[m],
                                      MATCH_LIMIT, DEPTH_LIMIT, NULL, 0, NULL);
        rp__scratch s;

        cr_assert_not_null(tight);
        cr_assert_not_null(loose);
        rp__scratch_init(&s);
        cr_assert_eq(match(loose, subject, &s), 0, "mode %d", m);
        cr_assert_eq(match(loose, "abab1", &s), 1, "mode %d", m);
        cr_assert_eq(match(tight, subject, &s), -1, "mode %d", m);
        cr_assert_eq(match(tight, "1", &s), 1, "mode %d", m);
        rp__regex_free(tight);
        rp__regex_free(loose);
    }
}

Test(regex, depth_limit_applies_to_interpreter)
{
    rp__alloc a = libc_alloc();
    rp__regex *re = re_compile(&a, "^(a|b)*\\d", 9, RP_OPT_NO_JIT, MATCH_LIMIT,
                               10, NULL, 0, NULL);
    rp__scratch s;

    cr_assert_not_null(re);
    rp__scratch_init(&s);
    cr_assert_eq(match(re, "ab1", &s), 1);
    cr_assert_eq(match(re, "ababababababababababababababab", &s), -1);
    rp__regex_free(re);
}

/* Interpreter frames beyond what fits in the scratch are a failure (the
 * heap limit), never a heap allocation. */
Test(regex, deep_interpreter_backtracking_is_bounded_by_scratch)
{
    rp__alloc a = libc_alloc();
    rp__regex *re = re_compile(&a, "^(a|b)*\\d", 9, RP_OPT_NO_JIT, UINT32_MAX,
                               UINT32_MAX, NULL, 0, NULL);
    char subject[1001];
    rp__scratch s;

    cr_assert_not_null(re);
    memset(subject, 'a', 1000);
    subject[1000] = '\0';
    rp__scratch_init(&s);
    cr_assert_eq(match(re, subject, &s), -1);
    cr_assert_leq(s.used, (size_t)RP__SCRATCH_BYTES);
    cr_assert_eq(match(re, "aaa7", &s), 1);
    rp__regex_free(re);
}

/* One scratch serves many matches of several regexes; after the first
 * interpreter match the scratch does not grow any more. */
Test(regex, scratch_is_reused)
{
    rp__regex *re[4];
    rp__scratch s;
    size_t used;

    re[0] = compile("^a", 0);
    re[1] = compile("b$", RP_OPT_NO_JIT);
    re[2] = compile("(x|y)+z", RP_OPT_NO_JIT);
    re[3] = compile("q", 0);
    rp__scratch_init(&s);
    cr_assert_eq(s.used, 0);
    cr_assert_null(s.match_data);
    cr_assert_eq(match(re[1], "ab", &s), 1);
    cr_assert_not_null(s.match_data);
    used = s.used;
    /* The interpreter's frames were carved from the scratch. */
    cr_assert_gt(used, (size_t)16384);
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(match(re[0], "abc", &s), 1);
        cr_assert_eq(match(re[1], "abc", &s), 0);
        cr_assert_eq(match(re[2], "xyxyxz", &s), 1);
        cr_assert_eq(match(re[3], "abc", &s), 0);
    }
    cr_assert_eq(s.used, used);
    rp__scratch_init(&s);
    cr_assert_eq(s.used, 0);
    cr_assert_null(s.match_data);
    for (int i = 0; i < 4; i++)
        rp__regex_free(re[i]);
}

/* Everything the regex allocates goes through its rp__alloc at compile
 * time; matching makes no call through it at all. */
Test(regex, no_allocation_at_match_time)
{
    counter c = {0, 0, 0};
    rp__alloc a = {count_malloc, count_realloc, count_free, &c};

    for (int m = 0; m < 2; m++) {
        rp__regex *re = re_compile(&a, "(foo|bar)+\\.example$", 20, modes[m],
                                   MATCH_LIMIT, DEPTH_LIMIT, NULL, 0, NULL);
        rp__regex *bad = re_compile(&a, "(a+)+$", 6, modes[m], MATCH_LIMIT,
                                    DEPTH_LIMIT, NULL, 0, NULL);
        counter before;
        rp__scratch s;

        cr_assert_not_null(re);
        cr_assert_not_null(bad);
        cr_assert_gt(c.mallocs, 0);
        before = c;
        rp__scratch_init(&s);
        for (int i = 0; i < 2000; i++) {
            cr_assert_eq(match(re, "foobarfoo.example", &s), 1);
            cr_assert_eq(match(re, "foobarfoo.example.org", &s), 0);
        }
        cr_assert_eq(match(bad, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", &s), -1);
        cr_assert_eq(c.mallocs, before.mallocs);
        cr_assert_eq(c.reallocs, before.reallocs);
        cr_assert_eq(c.frees, before.frees);
        rp__regex_free(re);
        rp__regex_free(bad);
    }
    cr_assert_eq(c.mallocs, c.frees);
}

#ifdef __GLIBC__
/* The process heap does not change across matches either (the scratch is
 * prepared first, outside the measured region). */
Test(regex, process_heap_unchanged_by_matching)
{
    rp__regex *re = compile("(foo|bar)+\\.example$", RP_OPT_NO_JIT);
    rp__regex *jit = compile("(foo|bar)+\\.example$", 0);
    struct mallinfo2 m0, m1;
    rp__scratch s;
    int hits = 0;

    rp__scratch_init(&s);
    hits += match(re, "foo.example", &s);
    m0 = mallinfo2();
    for (int i = 0; i < 5000; i++) {
        hits += match(re, "barfoo.example", &s);
        hits += match(jit, "barfoo.example", &s);
    }
    m1 = mallinfo2();
    cr_assert_eq(hits, 10001);
    cr_assert_eq(m1.uordblks, m0.uordblks);
    cr_assert_eq(m1.hblkhd, m0.hblkhd);
    rp__regex_free(re);
    rp__regex_free(jit);
}
#endif

typedef struct worker {
    const rp__regex *re;
    int hits;
    int errors;
} worker;

static void *
work(void *arg)
{
    worker *w = arg;
    rp__scratch s;

    rp__scratch_init(&s);
    for (int i = 0; i < 2000; i++) {
        int r = match(w->re, (i & 1) ? "mx.spam.example" : "ok.example", &s);
        if (r < 0)
            w->errors++;
        else
            w->hits += r;
    }
    return NULL;
}

/* One compiled regex is shared by threads, each with its own scratch. */
Test(regex, shared_between_threads)
{
    for (int m = 0; m < 2; m++) {
        rp__regex *re = compile("\\.spam\\.example$", modes[m]);
        pthread_t t[4];
        worker w[4];

        for (int i = 0; i < 4; i++) {
            w[i] = (worker){re, 0, 0};
            cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(t[i], NULL);
            cr_assert_eq(w[i].hits, 1000);
            cr_assert_eq(w[i].errors, 0);
        }
        rp__regex_free(re);
    }
}

/* ---- regex sets ---------------------------------------------------------- */

static rp__regex *
compile_limit(const char *pattern, uint32_t flags, uint32_t match_limit)
{
    rp__alloc a = libc_alloc();
    char why[128] = "";
    rp__regex *re = re_compile(&a, pattern, strlen(pattern), flags, match_limit,
                               DEPTH_LIMIT, why, sizeof(why), NULL);

    cr_assert_not_null(re, "compile '%s': %s", pattern, why);
    return re;
}

/* The answer a set must give: every pattern in order, the first non-zero
 * result wins. */
static int
naive_first(rp__regex *const *re,
            uint32_t n,
            const char *subject,
            size_t len,
            rp__scratch *s,
            uint32_t *index)
{
    for (uint32_t i = 0; i < n; i++) {
        int r = rp__regex_match(re[i], subject, len, s);
        if (r != 0) {
            *index = i;
            return r;
        }
    }
    return 0;
}

static rp__regex_set *
set_of(rp__regex *const *re, uint32_t n)
{
    rp__alloc a = libc_alloc();
    rp__regex_set *set = rp__regex_set_new(&a, NULL, re, n);

    cr_assert_not_null(set);
    return set;
}

static void
free_all(rp__regex **re, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        rp__regex_free(re[i]);
}

static const char *
literal_of(const char *pattern)
{
    static char buf[32];
    rp__regex *re = compile(pattern, RP_OPT_NO_JIT);
    size_t n = rp__regex_literal(re, buf, sizeof(buf) - 1);

    buf[n] = '\0';
    rp__regex_free(re);
    return buf;
}

/* The literal comes from plain top-level sequences only; anything the
 * parser is unsure of gives none from the text (PCRE2's own required code
 * unit may still be used). */
Test(regex, required_literal_extraction)
{
    static const char *const cases[][2] = {
        {"spam\\.Example$", "spam.example"},
        {"^[a-z]{2,8}\\.[a-z]+[0-9]{2,4}@Word\\.(com|net)$", "@word."},
        {"^(info|sales)[-.]bakoq1@", "bakoq1@"},
        {"@([a-z0-9-]+\\.)*abc\\.(xyz|top)$", "abc."},
        {"foo{2}barx", "barx"},
        {"ab*cd", "cd"},
        {"ab?c+d", "a"},
        {"[ab]cde[f]", "cde"},
        {"x(?=yy)zz", "zz"},
        {"(?:q|r)-(?<!s)tt", "tt"},
        {"verylongliteralthatiscut", "verylongliteralt"},
        {"\\d+-\\w\\.", "-"},
        {"[]x]ab[^]]", "ab"},
        /* Unsure: no literal from the text, PCRE2's last unit or none. */
        {"abc|def", ""},
        {"(a+)+$", "a"},
        {"\\x41bcd", "d"},
        {"(?i)abcd", "d"},
        {"x{,3}yz", "z"},
        {"a\\Q(b\\E", "b"},
        {"[[:alpha:]]xy", "y"},
        {"(?x) a b", "b"},
        {"a{1, 2}bc", "c"},
        {".*", ""},
        {"", ""},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_assert_str_eq(literal_of(cases[i][0]), cases[i][1], "pattern '%s'",
                         cases[i][0]);
}

static uint64_t
rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* One random item of a pattern: literals (some upper-case), escapes,
 * classes, groups with alternation, lookarounds, with quantifiers. */
static void
random_item(uint64_t *x, char *p, size_t *n)
{
    static const char *const atoms[] = {
        "a",     "b",    "c",    "A",   "B",   "@",      "-",      "\\.",
        ".",     "[ab]", "[^a]", "\\d", "\\w", "(ab|c)", "(?:ba)", "(?=a)",
        "(?!b)", "x",    "ab",   "Ca",  "a@b", "(a|)",   "\\x61",  "[.@]",
    };
    static const char *const quants[] = {"",  "",      "",    "*", "+",
                                         "?", "{1,2}", "{2}", "+?"};
    const char *a = atoms[rng_next(x) % (sizeof(atoms) / sizeof(*atoms))];
    const char *q = quants[rng_next(x) % (sizeof(quants) / sizeof(*quants))];

    *n += (size_t)snprintf(p + *n, 64, "%s%s", a, q);
}

static void
random_pattern(uint64_t *x, char *p, size_t size)
{
    size_t n = 0, items = 1 + rng_next(x) % 5;

    cr_assert_gt(size, 512);
    if (rng_next(x) % 4 == 0)
        p[n++] = '^';
    for (size_t i = 0; i < items; i++) {
        random_item(x, p, &n);
        if (rng_next(x) % 12 == 0)
            p[n++] = '|';
    }
    if (rng_next(x) % 4 == 0)
        p[n++] = '$';
    p[n] = '\0';
    if (n > 0 && p[n - 1] == '|')
        p[n - 1] = '\0';
}

static void
random_subject(uint64_t *x, char *s, size_t *len)
{
    static const char alphabet[] = "abcABCx@.-1";

    *len = rng_next(x) % 14;
    for (size_t i = 0; i < *len; i++)
        s[i] = alphabet[rng_next(x) % (sizeof(alphabet) - 1)];
    s[*len] = '\0';
}

/* Random sets against random subjects: the set gives exactly the in-order
 * loop's answer, with and without JIT, and the prefilter did filter. */
Test(regex, set_matches_in_order_loop)
{
    enum { SETS = 120, MAX_N = 40, SUBJECTS = 150 };
    uint64_t x = 0x9e3779b97f4a7c15ull;
    size_t with_literal = 0, hits = 0, misses = 0;

    for (int round = 0; round < SETS; round++) {
        uint32_t n = 1 + (uint32_t)(rng_next(&x) % MAX_N);
        uint32_t flags = modes[round & 1];
        rp__regex *re[MAX_N];
        rp__regex_set *set;
        rp__scratch s;
        char pat[600], subj[32];

        for (uint32_t i = 0; i < n; i++) {
            random_pattern(&x, pat, sizeof(pat));
            re[i] = compile_limit(pat, flags, 10000000);
            with_literal += rp__regex_literal(re[i], subj, 16) >= 2;
        }
        set = set_of(re, n);
        rp__scratch_init(&s);
        for (int k = 0; k < SUBJECTS; k++) {
            uint32_t want_i = UINT32_MAX, got_i = UINT32_MAX;
            size_t len;
            int want, got;

            random_subject(&x, subj, &len);
            want = naive_first(re, n, subj, len, &s, &want_i);
            got = rp__regex_set_first(set, subj, len, &s, &got_i);
            cr_assert_eq(got, want, "round %d subject '%s'", round, subj);
            if (want == 1)
                cr_assert_eq(got_i, want_i, "round %d subject '%s'", round,
                             subj);
            hits += want == 1;
            misses += want == 0;
        }
        rp__regex_set_free(set);
        free_all(re, n);
    }
    cr_assert_gt(with_literal, 200);
    cr_assert_gt(hits, 1000);
    cr_assert_gt(misses, 1000);
}

/* Many patterns sharing literals and prefixes of literals, a subject that
 * holds more distinct literals than the scan records, and subjects longer
 * than the filter takes: still the in-order answer. */
Test(regex, set_overflow_paths_match_loop)
{
    enum { N = 80 };
    rp__regex *re[N];
    rp__regex_set *set;
    char pat[64], subj[3000];
    uint32_t want_i = 0, got_i = 0;
    size_t len = 0;
    rp__scratch s;

    for (int i = 0; i < N; i++) {
        snprintf(pat, sizeof(pat), i % 3 == 0 ? "lit%02d-z$" : "lit%02dq",
                 i % 50);
        re[i] = compile(pat, modes[i & 1]);
    }
    set = set_of(re, N);
    rp__scratch_init(&s);
    for (int i = 49; i >= 0; i--)
        len += (size_t)snprintf(subj + len, sizeof(subj) - len, "LIT%02dQ", i);
    cr_assert_eq(naive_first(re, N, subj, len, &s, &want_i), 1);
    cr_assert_eq(rp__regex_set_first(set, subj, len, &s, &got_i), 1);
    cr_assert_eq(got_i, want_i);
    cr_assert_eq(got_i, 1);
    while (len < 2500)
        subj[len++] = '.';
    memcpy(subj + len, "lit03-z", 7);
    len += 7;
    cr_assert_eq(rp__regex_set_first(set, subj, len, &s, &got_i), 1);
    cr_assert_eq(got_i, 1);
    cr_assert_eq(rp__regex_set_first(set, subj + 400, len - 400, &s, &got_i),
                 1);
    cr_assert_eq(got_i, 3, "only lit03-z$ is left in the long tail");
    cr_assert_eq(rp__regex_set_first(set, "lit2", 4, &s, &got_i), 0);
    rp__regex_set_free(set);
    free_all(re, N);
}

/* A pattern that hits its limit fails the whole search when the loop
 * would have reached it before a match, whether or not it has a literal;
 * it is skipped only when its literal is absent. */
Test(regex, set_error_propagates)
{
    const char *bad = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!";

    for (int m = 0; m < 2; m++) {
        rp__regex *re[5] = {
            compile("zz", modes[m]),
            compile("(a+)+$", modes[m]), /* no literal */
            compile("qq(a+)+$|aaaa(a+)+$", modes[m]),
            compile("!", modes[m]),
            compile("aaaa(a+)+$", modes[m]), /* literal "aaaa" */
        };
        rp__regex_set *all = set_of(re, 5), *late = set_of(re + 2, 3);
        rp__regex_set *lit = set_of(re + 4, 1);
        rp__regex *first[2] = {re[3], re[4]};
        rp__regex_set *ok = set_of(first, 2);
        rp__scratch s;
        uint32_t i = 99;

        rp__scratch_init(&s);
        cr_assert_eq(rp__regex_set_first(all, bad, strlen(bad), &s, &i), -1);
        cr_assert_eq(rp__regex_set_first(late, bad, strlen(bad), &s, &i), -1);
        cr_assert_eq(rp__regex_set_first(lit, bad, strlen(bad), &s, &i), -1);
        /* A match before the failing pattern wins. */
        cr_assert_eq(rp__regex_set_first(ok, bad, strlen(bad), &s, &i), 1);
        cr_assert_eq(i, 0);
        /* The literal "aaaa" is absent: no failure, no match. */
        cr_assert_eq(rp__regex_set_first(lit, "aaa!", 4, &s, &i), 0);
        cr_assert_eq(rp__regex_set_first(all, "zz", 2, &s, &i), 1);
        cr_assert_eq(i, 0);
        rp__regex_set_free(all);
        rp__regex_set_free(late);
        rp__regex_set_free(lit);
        rp__regex_set_free(ok);
        free_all(re, 5);
    }
}

Test(regex, set_edge_cases)
{
    rp__regex *re[2] = {compile("^$", 0), compile("a", 0)};
    rp__alloc a = libc_alloc();
    rp__regex_set *empty = rp__regex_set_new(&a, NULL, re, 0);
    rp__regex_set *set = set_of(re, 2);
    rp__regex *holes[2] = {re[0], NULL};
    rp__scratch s;
    uint32_t i = 7;

    cr_assert_not_null(empty);
    rp__scratch_init(&s);
    cr_assert_eq(rp__regex_set_first(empty, "a", 1, &s, &i), 0);
    cr_assert_eq(rp__regex_set_first(NULL, "a", 1, &s, &i), -1);
    cr_assert_eq(rp__regex_set_first(set, "a", 1, NULL, &i), -1);
    cr_assert_eq(rp__regex_set_first(set, NULL, 1, &s, &i), -1);
    cr_assert_eq(rp__regex_set_first(set, NULL, 0, &s, &i), 1);
    cr_assert_eq(i, 0);
    cr_assert_eq(rp__regex_set_first(set, "xA", 2, &s, &i), 1);
    cr_assert_eq(i, 1);
    cr_assert_eq(rp__regex_set_first(set, "xa", 2, &s, NULL), 1);
    cr_assert_null(rp__regex_set_new(&a, NULL, holes, 2));
    rp__regex_set_free(empty);
    rp__regex_set_free(set);
    rp__regex_set_free(NULL);
    free_all(re, 2);
}

/* A set in a policy arena goes away with the arena. */
Test(regex, set_in_arena)
{
    rp__alloc a = libc_alloc();
    rp__regex *re[2] = {compile("spam", 0), compile("ham$", 0)};
    void *arena = NULL;
    rp__regex_set *set = rp__regex_set_new(&a, &arena, re, 2);
    rp__scratch s;
    uint32_t i = 0;

    cr_assert_not_null(set);
    cr_assert_not_null(arena);
    rp__scratch_init(&s);
    cr_assert_eq(rp__regex_set_first(set, "x.HAM", 5, &s, &i), 1);
    cr_assert_eq(i, 1);
    rp__regex_set_free(set); /* a no-op for an arena set */
    cr_assert_eq(rp__regex_set_first(set, "spam", 4, &s, &i), 1);
    cr_assert_eq(i, 0);
    rp__arena_free(&arena, &a);
    free_all(re, 2);
}

/* Building a set allocates through its allocator only; searching it
 * makes no call at all, including when a pattern fails. */
Test(regex, set_no_allocation_at_match_time)
{
    counter c = {0, 0, 0};
    rp__alloc a = {count_malloc, count_realloc, count_free, &c};
    const char *pats[4] = {"(foo|bar)+\\.example$", "(a+)+$", "spam",
                           "x[0-9]+y"};

    for (int m = 0; m < 2; m++) {
        rp__regex *re[4];
        rp__regex_set *set;
        counter before;
        rp__scratch s;
        uint32_t i;

        for (int k = 0; k < 4; k++) {
            re[k] = re_compile(&a, pats[k], strlen(pats[k]), modes[m],
                               MATCH_LIMIT, DEPTH_LIMIT, NULL, 0, NULL);
            cr_assert_not_null(re[k]);
        }
        set = rp__regex_set_new(&a, NULL, re, 4);
        cr_assert_not_null(set);
        before = c;
        rp__scratch_init(&s);
        for (int k = 0; k < 2000; k++) {
            cr_assert_eq(rp__regex_set_first(set, "foobar.example", 14, &s, &i),
                         1);
            cr_assert_eq(rp__regex_set_first(set, "x12y", 4, &s, &i), 1);
            cr_assert_eq(i, 3);
            cr_assert_eq(rp__regex_set_first(set, "zzz", 3, &s, &i), 0);
        }
        cr_assert_eq(
            rp__regex_set_first(set, "aaaaaaaaaaaaaaaaaaaaaaaaa!", 26, &s, &i),
            -1);
        cr_assert_eq(c.mallocs, before.mallocs);
        cr_assert_eq(c.reallocs, before.reallocs);
        cr_assert_eq(c.frees, before.frees);
        rp__regex_set_free(set);
        for (int k = 0; k < 4; k++)
            rp__regex_free(re[k]);
    }
    cr_assert_eq(c.mallocs, c.frees);
}
