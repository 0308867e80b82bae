/*
 * test_file.c - the one file reader: regular files only, never blocking.
 * A FIFO or a device as a policy, an include or a list file fails at once
 * with RP_E_IO and "not a regular file"; /dev/null the same everywhere.
 */
#include "alloc.h"
#include "file.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/rp_test_file.XXXXXX";

static void
make_dir(void)
{
    cr_assert_not_null(mkdtemp(dir));
}

static void
remove_dir(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(file, .init = make_dir, .fini = remove_dir);

static void
write_file(const char *name, const char *text)
{
    char path[256];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static double
now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Compile @p path: it must fail with RP_E_IO, saying why, and at once. */
static void
expect_refused(const char *path, const char *needle)
{
    rp_policy *p = NULL;
    rp_error err;
    double t0 = now();
    rp_status st = rp_policy_compile_file(path, NULL, &p, &err);

    cr_expect_lt(now() - t0, 2.0, "%s: the reader blocked", path);
    cr_expect_eq(st, RP_E_IO, "%s: %s", path, rp_status_name(st));
    cr_expect_null(p);
    cr_expect(strstr(err.message, needle) != NULL, "%s: message '%s'", path,
              err.message);
    rp_policy_free(p);
}

Test(file, fifo_policy_fails_fast)
{
    char fifo[256];

    snprintf(fifo, sizeof(fifo), "%s/policy.fifo", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    expect_refused(fifo, "not a regular file");
}

Test(file, fifo_include_and_list_fail_fast)
{
    char fifo[256], main[256];

    snprintf(fifo, sizeof(fifo), "%s/part.fifo", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    write_file("inc.conf", "include \"part.fifo\"\n");
    snprintf(main, sizeof(main), "%s/inc.conf", dir);
    expect_refused(main, "not a regular file");
    write_file("list.conf", "network lan \"part.fifo\"\n");
    snprintf(main, sizeof(main), "%s/list.conf", dir);
    expect_refused(main, "not a regular file");
}

/* /dev/null is a device wherever it is named: policy, include, list. */
Test(file, dev_null_is_refused_everywhere)
{
    char main[256];

    expect_refused("/dev/null", "not a regular file");
    write_file("null-inc.conf", "include \"/dev/null\"\n");
    snprintf(main, sizeof(main), "%s/null-inc.conf", dir);
    expect_refused(main, "not a regular file");
    write_file("null-list.conf", "network lan \"/dev/null\"\n");
    snprintf(main, sizeof(main), "%s/null-list.conf", dir);
    expect_refused(main, "not a regular file");
}

Test(file, directory_and_missing_file)
{
    char path[256];

    expect_refused(dir, "not a regular file");
    snprintf(path, sizeof(path), "%s/missing.conf", dir);
    expect_refused(path, "No such file");
}

/* The reader itself: size limit before reading, and the whole text. */
Test(file, reader_limits_and_reads_whole)
{
    char path[256], why[160], *text = NULL;
    size_t len = 0;
    rp__alloc a;

    rp__alloc_init(&a, NULL);
    write_file("ten.txt", "0123456789");
    snprintf(path, sizeof(path), "%s/ten.txt", dir);
    cr_expect_eq(rp__file_read(&a, path, 9, &text, &len, why, sizeof(why)),
                 RP_E_LIMIT);
    cr_expect_null(text);
    cr_assert_eq(rp__file_read(&a, path, 10, &text, &len, why, sizeof(why)),
                 RP_OK);
    cr_expect_eq(len, 10u);
    cr_expect_str_eq(text, "0123456789");
    rp__free(&a, text);
}
