/*
 * standalone.h - a minimal stand-in for the Criterion macros that
 * test_threads.c uses, for builds where Criterion cannot run: under
 * ThreadSanitizer Criterion's process arena cannot be mapped.  Tests run
 * one after another in one process; a failed assertion ends the test at
 * once, a failed expectation marks it failed and goes on.
 */
#ifndef RP_STANDALONE_H
#define RP_STANDALONE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The Criterion test options this stand-in honours (.init, .fini) or
 * accepts (.timeout); "unused" lets an empty option list compile. */
typedef struct sa_opts {
    int unused;
    void (*init)(void);
    void (*fini)(void);
    double timeout;
} sa_opts;

typedef struct sa_test {
    const char *name;
    void (*fn)(void);
    const sa_opts *opts;
} sa_test;

static sa_test sa_tests[64];
static size_t sa_n_tests;
static bool sa_failed;
static jmp_buf sa_abort;

static void
sa_register(const char *name, void (*fn)(void), const sa_opts *opts)
{
    if (sa_n_tests < sizeof(sa_tests) / sizeof(sa_tests[0]))
        sa_tests[sa_n_tests++] = (sa_test){name, fn, opts};
}

static void __attribute__((format(printf, 4, 5)))
sa_check(bool ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    if (ok)
        return;
    fprintf(stderr, "%s:%d: check failed", file, line);
    /* The format starts with a '-' so that it is never empty. */
    if (fmt[1] != '\0') {
        fputs(": ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt + 1, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
    sa_failed = true;
}

#define SA_EXPECT(ok, ...) sa_check((ok), __FILE__, __LINE__, "-" __VA_ARGS__)
#define SA_ASSERT(ok, ...)                                                     \
    do {                                                                       \
        bool sa_ok_ = (ok);                                                    \
        sa_check(sa_ok_, __FILE__, __LINE__, "-" __VA_ARGS__);                 \
        if (!sa_ok_)                                                           \
            longjmp(sa_abort, 1);                                              \
    } while (0)

#define cr_expect(c, ...) SA_EXPECT((c), __VA_ARGS__)
#define cr_expect_eq(a, b, ...) SA_EXPECT((a) == (b), __VA_ARGS__)
#define cr_expect_gt(a, b, ...) SA_EXPECT((a) > (b), __VA_ARGS__)
#define cr_assert(c, ...) SA_ASSERT((c), __VA_ARGS__)
#define cr_assert_eq(a, b, ...) SA_ASSERT((a) == (b), __VA_ARGS__)
#define cr_assert_gt(a, b, ...) SA_ASSERT((a) > (b), __VA_ARGS__)
#define cr_assert_not_null(p, ...) SA_ASSERT((p) != NULL, __VA_ARGS__)
#define cr_assert_null(p, ...) SA_ASSERT((p) == NULL, __VA_ARGS__)
#define cr_assert_leq(a, b, ...) SA_ASSERT((a) <= (b), __VA_ARGS__)
#define cr_assert_neq(a, b, ...) SA_ASSERT((a) != (b), __VA_ARGS__)
#define cr_expect_neq(a, b, ...) SA_EXPECT((a) != (b), __VA_ARGS__)
#define cr_expect_null(p, ...) SA_EXPECT((p) == NULL, __VA_ARGS__)
#define cr_expect_not_null(p, ...) SA_EXPECT((p) != NULL, __VA_ARGS__)
#define cr_expect_str_eq(a, b, ...) SA_EXPECT(strcmp((a), (b)) == 0, __VA_ARGS__)

/* Test(suite, name, options...): .init and .fini run around the test. */
#define Test(suite, name, ...)                                                 \
    static void suite##_##name(void);                                          \
    static const sa_opts sa_opts_##suite##_##name = {0, __VA_ARGS__};          \
    __attribute__((constructor)) static void sa_reg_##suite##_##name(void)     \
    {                                                                          \
        sa_register(#suite "::" #name, suite##_##name,                         \
                    &sa_opts_##suite##_##name);                                \
    }                                                                          \
    static void suite##_##name(void)

/* Runs every test, or those whose "suite::name" holds one of the
 * arguments. */
int
main(int argc, char **argv)
{
    /* volatile: both live across setjmp/longjmp. */
    volatile size_t failures = 0, run = 0;

    for (volatile size_t i = 0; i < sa_n_tests; i++) {
        const sa_opts *o = sa_tests[i].opts;
        bool wanted = argc < 2;

        for (int a = 1; a < argc; a++)
            wanted |= strstr(sa_tests[i].name, argv[a]) != NULL;
        if (!wanted)
            continue;
        run++;

        sa_failed = false;
        if (o->init != NULL)
            o->init();
        if (setjmp(sa_abort) == 0)
            sa_tests[i].fn();
        if (o->fini != NULL)
            o->fini();
        printf("[%s] %s\n", sa_failed ? "FAIL" : "PASS", sa_tests[i].name);
        failures += sa_failed;
    }
    printf("%zu tests, %zu failed\n", (size_t)run, (size_t)failures);
    return failures == 0 && run > 0 ? 0 : 1;
}

#endif /* RP_STANDALONE_H */
