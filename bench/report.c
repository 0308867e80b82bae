/*
 * report.c - clocks, memory, the scratch directory and the result table
 * (printed for people, written as JSON for tools).
 */
#define _GNU_SOURCE
#include "bench.h"

#include <dirent.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- timing and memory ---------------------------------------------------- */

double
bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t
bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

size_t
bench_rss(void)
{
    FILE *f;
    unsigned long size = 0, rss = 0;

    malloc_trim(0);
    f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &rss) != 2)
        rss = 0;
    fclose(f);
    return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

/* ---- scratch directory ---------------------------------------------------- */

int
bench_tmp_open(bench_tmp *t)
{
    const char *base = getenv("TMPDIR");

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    snprintf(t->dir, sizeof(t->dir), "%s/rp_bench.XXXXXX", base);
    return mkdtemp(t->dir) != NULL ? 0 : -1;
}

void
bench_tmp_path(const bench_tmp *t, const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", t->dir, name);
}

void
bench_tmp_close(bench_tmp *t)
{
    DIR *d;
    struct dirent *e;
    char path[512];

    if (t->dir[0] == '\0' || (d = opendir(t->dir)) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        bench_tmp_path(t, e->d_name, path, sizeof(path));
        unlink(path);
    }
    closedir(d);
    rmdir(t->dir);
    t->dir[0] = '\0';
}

/* ---- machine --------------------------------------------------------------- */

const char *
bench_cpu_model(void)
{
    static char model[128];
    char line[256];
    FILE *f;

    if (model[0] != '\0')
        return model;
    snprintf(model, sizeof(model), "unknown");
    if ((f = fopen("/proc/cpuinfo", "r")) == NULL)
        return model;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *c = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || c == NULL)
            continue;
        c += 1 + strspn(c + 1, " \t");
        c[strcspn(c, "\n")] = '\0';
        snprintf(model, sizeof(model), "%s", c);
        break;
    }
    fclose(f);
    return model;
}

long
bench_ncpu(void)
{
    return sysconf(_SC_NPROCESSORS_ONLN);
}

/* ---- results ---------------------------------------------------------------- */

#define MAX_RESULTS 128

typedef struct result {
    char key[48];
    char label[80];
    char unit[16];
    double value;
    bench_goal goal;
    double target;
} result;

static result results[MAX_RESULTS];
static size_t n_results;

void
bench_report(const char *key, const char *label, double value,
             const char *unit, bench_goal goal, double target)
{
    result *r;

    if (n_results == MAX_RESULTS)
        return;
    r = &results[n_results++];
    snprintf(r->key, sizeof(r->key), "%s", key);
    snprintf(r->label, sizeof(r->label), "%s", label);
    snprintf(r->unit, sizeof(r->unit), "%s", unit);
    r->value = value;
    r->goal = goal;
    r->target = target;
}

static bool
met(const result *r)
{
    return r->goal == GOAL_MIN ? r->value >= r->target
                               : r->value <= r->target;
}

/* A value with a metric suffix when it is large: 52.3M, 4.51k, 0.731. */
static void
human(double v, char *buf, size_t size)
{
    if (v >= 1e9)
        snprintf(buf, size, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, size, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, size, "%.1fk", v / 1e3);
    else if (v >= 100)
        snprintf(buf, size, "%.0f", v);
    else
        snprintf(buf, size, "%.3g", v);
}

void
bench_print_table(FILE *out)
{
    char v[32], t[40];
    size_t n_goal = 0, n_met = 0;

    fprintf(out, "\n%-52s %10s %-8s %-12s %s\n", "measure", "value", "unit",
            "target", "met");
    for (size_t i = 0; i < 92; i++)
        fputc('-', out);
    fputc('\n', out);
    for (size_t i = 0; i < n_results; i++) {
        const result *r = &results[i];
        human(r->value, v, sizeof(v));
        t[0] = '\0';
        if (r->goal != GOAL_NONE) {
            human(r->target, t + 3, sizeof(t) - 3);
            memcpy(t, r->goal == GOAL_MIN ? ">= " : "<= ", 3);
            n_goal++;
            n_met += met(r);
        }
        fprintf(out, "%-52s %10s %-8s %-12s %s\n", r->label, v, r->unit, t,
                r->goal == GOAL_NONE ? "" : met(r) ? "yes" : "NO");
    }
    fprintf(out, "\ntargets met: %zu of %zu\n", n_met, n_goal);
}

/* Write @p s as a JSON string (the labels hold no control characters). */
static void
json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int
bench_write_json(const char *path, const char *mode, uint64_t seed,
                 double total_seconds)
{
    FILE *f = fopen(path, "w");
    char date[32];
    time_t now = time(NULL);

    if (f == NULL)
        return -1;
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    fprintf(f, "{\n  \"machine\": {\"cpu\": ");
    json_str(f, bench_cpu_model());
    fprintf(f, ", \"nproc\": %ld},\n  \"date\": \"%s\",\n  \"mode\": ",
            bench_ncpu(), date);
    json_str(f, mode);
    fprintf(f, ",\n  \"seed\": %llu,\n  \"seconds\": %.2f,\n"
            "  \"results\": [\n", (unsigned long long)seed, total_seconds);
    for (size_t i = 0; i < n_results; i++) {
        const result *r = &results[i];
        fprintf(f, "    {\"key\": ");
        json_str(f, r->key);
        fprintf(f, ", \"label\": ");
        json_str(f, r->label);
        fprintf(f, ", \"value\": %.6g, \"unit\": ", r->value);
        json_str(f, r->unit);
        if (r->goal != GOAL_NONE)
            fprintf(f, ", \"target\": \"%s %.6g\", \"met\": %s",
                    r->goal == GOAL_MIN ? ">=" : "<=", r->target,
                    met(r) ? "true" : "false");
        fprintf(f, "}%s\n", i + 1 < n_results ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    return fclose(f) == 0 ? 0 : -1;
}
