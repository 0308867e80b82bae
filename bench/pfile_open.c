/*
 * pfile_open.c - open a compiled policy file N times in one process and
 * print the wall-clock time of each open and their median, through the
 * public API only.  For CPU time and page faults, run it under
 * `perf stat -e task-clock,page-faults` with N = 1 and N = 11 and take
 * the difference (the first open of a process pays for fresh memory).
 *
 *   rp_bench_open FILE [N]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "relaypolicy.h"

static double
now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
    double v[1000];
    int n = argc > 2 ? atoi(argv[2]) : 11;

    if (argc < 2 || n < 1 || n > 1000) {
        fprintf(stderr, "usage: rp_bench_open FILE [N (1..1000)]\n");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        rp_policy *p = NULL;
        rp_error err;
        double t0 = now();

        if (rp_policy_open(argv[1], NULL, &p, &err) != RP_OK) {
            fprintf(stderr, "%s: %s\n", argv[1], err.message);
            return 1;
        }
        v[i] = now() - t0;
        rp_policy_free(p);
    }
    printf("first open %.2f ms\n", v[0] * 1e3);
    qsort(v, (size_t)n, sizeof(v[0]), cmp);
    printf("median of %d opens %.2f ms (min %.2f, max %.2f)\n", n,
           v[n / 2] * 1e3, v[0] * 1e3, v[n - 1] * 1e3);
    return 0;
}
