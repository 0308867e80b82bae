/*
 * test_regex.c - the PCRE2 wrapper: compile errors, case-insensitive
 * unanchored matching, limits, scratch reuse and no heap at match time.
 */
#include "rp_internal.h"

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
    rp__regex *re = rp__regex_compile(&a, pattern, strlen(pattern), flags,
                                      MATCH_LIMIT, DEPTH_LIMIT, why,
                                      sizeof(why), &off);

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
    rp__regex *re = rp__regex_compile(&a, "ab(c", 4, 0, MATCH_LIMIT,
                                      DEPTH_LIMIT, why, sizeof(why), &off);

    cr_assert_null(re);
    cr_assert_str_neq(why, "");
    cr_assert(strstr(why, "parenthes") != NULL, "message: %s", why);
    cr_assert_eq(off, 4);

    re = rp__regex_compile(&a, "a[b", 3, RP_OPT_NO_JIT, MATCH_LIMIT,
                           DEPTH_LIMIT, why, sizeof(why), NULL);
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
    cr_assert_null(rp__regex_compile(&a, "(", 1, 0, MATCH_LIMIT, DEPTH_LIMIT,
                                     why, sizeof(why), &off));
    cr_assert(memchr(why, '\0', sizeof(why)) != NULL);
    cr_assert_null(rp__regex_compile(&a, "(", 1, 0, MATCH_LIMIT, DEPTH_LIMIT,
                                     NULL, 0, NULL));
}

Test(regex, utf_is_refused)
{
    rp__alloc a = libc_alloc();
    char why[128] = "";

    cr_assert_null(rp__regex_compile(&a, "(*UTF)a", 7, 0, MATCH_LIMIT,
                                     DEPTH_LIMIT, why, sizeof(why), NULL));
}

Test(regex, pattern_need_not_be_nul_terminated)
{
    rp__alloc a = libc_alloc();
    rp__scratch s;
    /* Only "abc" is the pattern; the ")" after it must not be read. */
    rp__regex *re = rp__regex_compile(&a, "abc)", 3, 0, MATCH_LIMIT,
                                      DEPTH_LIMIT, NULL, 0, NULL);

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
        rp__regex *tight = rp__regex_compile(&a, pat, strlen(pat), modes[m],
                                             10, DEPTH_LIMIT, NULL, 0, NULL);
        rp__regex *loose = rp__regex_compile(&a, pat, strlen(pat), modes[m],
                                             MATCH_LIMIT, DEPTH_LIMIT, NULL,
                                             0, NULL);
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
    rp__regex *re = rp__regex_compile(&a, "^(a|b)*\\d", 9, RP_OPT_NO_JIT,
                                      MATCH_LIMIT, 10, NULL, 0, NULL);
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
    rp__regex *re = rp__regex_compile(&a, "^(a|b)*\\d", 9, RP_OPT_NO_JIT,
                                      UINT32_MAX, UINT32_MAX, NULL, 0, NULL);
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
        rp__regex *re = rp__regex_compile(&a, "(foo|bar)+\\.example$", 20,
                                          modes[m], MATCH_LIMIT, DEPTH_LIMIT,
                                          NULL, 0, NULL);
        rp__regex *bad = rp__regex_compile(&a, "(a+)+$", 6, modes[m],
                                           MATCH_LIMIT, DEPTH_LIMIT, NULL, 0,
                                           NULL);
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
