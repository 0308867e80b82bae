/*
 * libcidr_scan.c - the straightforward way to match a client against a
 * prefix list with libcidr: parse every prefix once, then test each query
 * against the list in order until one contains it (first match, as a
 * Postfix cidr: table does).  bench/compare.sh runs it.
 *
 *   rp_libcidr_scan PREFIXES QUERIES
 *
 * Prints libcidr_load_s, libcidr_matched and libcidr_lps (lookups/s).
 */
#include <libcidr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Every line of @p path parsed with cidr_from_str; exits on failure. */
static CIDR **
load(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    char line[128];
    size_t cap = 1024;
    CIDR **v = malloc(cap * sizeof(*v));

    *n = 0;
    if (f == NULL || v == NULL) {
        fprintf(stderr, "rp_libcidr_scan: cannot read %s\n", path);
        exit(1);
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        if (*n == cap && (v = realloc(v, (cap *= 2) * sizeof(*v))) == NULL)
            exit(1);
        if ((v[*n] = cidr_from_str(line)) == NULL) {
            fprintf(stderr, "rp_libcidr_scan: bad entry '%s'\n", line);
            exit(1);
        }
        (*n)++;
    }
    fclose(f);
    return v;
}

int
main(int argc, char **argv)
{
    CIDR **pfx, **q;
    size_t n_pfx, n_q, matched = 0;
    double t0, t1, t2;

    if (argc != 3) {
        fprintf(stderr, "usage: rp_libcidr_scan PREFIXES QUERIES\n");
        return 2;
    }
    t0 = now();
    pfx = load(argv[1], &n_pfx);
    t1 = now();
    q = load(argv[2], &n_q);
    t2 = now();
    for (size_t i = 0; i < n_q; i++) {
        for (size_t j = 0; j < n_pfx; j++) {
            if (cidr_contains(pfx[j], q[i]) == 0) {
                matched++;
                break;
            }
        }
    }
    t2 = now() - t2;
    printf("libcidr_load_s=%.3f\n", t1 - t0);
    printf("libcidr_matched=%zu\n", matched);
    printf("libcidr_lps=%.0f\n", (double)n_q / t2);
    for (size_t i = 0; i < n_pfx; i++)
        cidr_free(pfx[i]);
    for (size_t i = 0; i < n_q; i++)
        cidr_free(q[i]);
    free(pfx);
    free(q);
    return 0;
}
