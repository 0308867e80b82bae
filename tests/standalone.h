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

typedef struct sa_test {
    const char *name;
    void (*fn)(void);
} sa_test;

static sa_test sa_tests[64];
static size_t sa_n_tests;
static bool sa_failed;
static jmp_buf sa_abort;

static void
sa_register(const char *name, void (*fn)(void))
{
    if (sa_n_tests < sizeof(sa_tests) / sizeof(sa_tests[0]))
        sa_tests[sa_n_tests++] = (sa_test){name, fn};
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

/* Test(suite, name, options...): the options are ignored. */
#define Test(suite, name, ...)                                                 \
    static void suite##_##name(void);                                          \
    __attribute__((constructor)) static void sa_reg_##suite##_##name(void)     \
    {                                                                          \
        sa_register(#suite "::" #name, suite##_##name);                        \
    }                                                                          \
    static void suite##_##name(void)

int
main(void)
{
    /* volatile: both live across setjmp/longjmp. */
    volatile size_t failures = 0;

    for (volatile size_t i = 0; i < sa_n_tests; i++) {
        sa_failed = false;
        if (setjmp(sa_abort) == 0)
            sa_tests[i].fn();
        printf("[%s] %s\n", sa_failed ? "FAIL" : "PASS", sa_tests[i].name);
        failures += sa_failed;
    }
    printf("%zu tests, %zu failed\n", sa_n_tests, failures);
    return failures == 0 && sa_n_tests > 0 ? 0 : 1;
}

#endif /* RP_STANDALONE_H */
