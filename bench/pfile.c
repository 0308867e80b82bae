/*
 * pfile.c - the compiled policy file: how long rp_policy_save() and
 * rp_policy_open() take, how much memory two processes that open the same
 * file use and share, and decisions on the opened policy next to the
 * compiled one (the same answers over the benchmark's queries, and the
 * rate of each, measured in turn in one run).
 */
#define _GNU_SOURCE /* mallinfo2 */
#include "bench.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void
die(const char *what)
{
    fprintf(stderr, "rp_bench: %s\n", what);
    exit(2);
}

static rp_workspace *
ws(void)
{
    static rp_workspace *w;

    if (w == NULL && rp_workspace_new(NULL, &w) != RP_OK)
        die("cannot make a workspace");
    return w;
}

/* Every query of the pool decided alike on @p a and @p b. */
static void
differential(const rp_policy *a,
             const rp_policy *b,
             const rp_query *pool,
             size_t n)
{
    char reply[RP_REPLY_MAX + 1];

    for (size_t i = 0; i < n; i++) {
        rp_decision x, y;

        if (rp_decide(a, &pool[i], ws(), &x) != RP_OK)
            die("rp_decide failed");
        snprintf(reply, sizeof(reply), "%s", x.reply);
        if (rp_decide(b, &pool[i], ws(), &y) != RP_OK)
            die("rp_decide failed on the opened policy");
        if (x.verdict != y.verdict || x.reason != y.reason ||
            x.rule != y.rule || x.code != y.code || x.step != y.step ||
            x.prefix_len != y.prefix_len ||
            x.listener_index != y.listener_index ||
            x.permissions != y.permissions || strcmp(reply, y.reply) != 0) {
            fprintf(stderr, "query %zu: %s vs %s\n", i, reply, y.reply);
            die("the opened policy decides differently");
        }
    }
}

static double
rate(const rp_policy *p, const rp_query *pool, size_t n, double min_time)
{
    rp_decision d;
    size_t done = 0;
    double t0 = bench_now(), t;

    do {
        for (size_t i = 0; i < n; i++)
            if (rp_decide(p, &pool[i], ws(), &d) != RP_OK)
                die("rp_decide failed");
        done += n;
        t = bench_now() - t0;
    } while (t < min_time);
    return (double)done / t;
}

/* The median of @p reps opens of @p path, in seconds. */
static double
open_time(const char *path, int reps)
{
    double v[16];

    for (int i = 0; i < reps && i < 16; i++) {
        rp_policy *p = NULL;
        rp_error err;
        double t0 = bench_now();

        if (rp_policy_open(path, NULL, &p, &err) != RP_OK) {
            fprintf(stderr, "%s: %s\n", path, err.message);
            die("cannot open the compiled policy");
        }
        v[i] = bench_now() - t0;
        rp_policy_free(p);
    }
    return bench_median(v, (size_t)(reps < 16 ? reps : 16));
}

/* What one process that opened the file uses: the file's pages it has
 * mapped (rss), its proportional share of them (pss) and the heap open
 * allocated, in bytes. */
typedef struct usage {
    double rss, pss, heap;
} usage;

/* Rss and Pss of the mapping of @p path in /proc/self/smaps. */
static void
file_pages(const char *path, usage *u)
{
    char line[4096];
    FILE *f = fopen("/proc/self/smaps", "r");
    size_t pl = strlen(path);
    unsigned long a, b, kb;
    bool in = false;

    u->rss = u->pss = 0;
    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t n = strcspn(line, "\n");

        line[n] = '\0';
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2)
            in = n >= pl && strcmp(line + n - pl, path) == 0;
        else if (in && sscanf(line, "Rss: %lu kB", &kb) == 1)
            u->rss += (double)kb * 1024;
        else if (in && sscanf(line, "Pss: %lu kB", &kb) == 1)
            u->pss += (double)kb * 1024;
    }
    fclose(f);
}

/* A child: open @p path, decide the pool once, say so on @p ready, wait
 * for @p go, then report its usage on @p out. */
static void
child(const char *path,
      const rp_query *pool,
      size_t n,
      int ready,
      int go,
      int out)
{
    usage u;
    size_t h0 = mallinfo2().uordblks;
    rp_policy *p = NULL;
    rp_error err;
    rp_decision d;
    char c;

    if (rp_policy_open(path, NULL, &p, &err) != RP_OK)
        _exit(3);
    u.heap = (double)mallinfo2().uordblks - (double)h0;
    for (size_t i = 0; i < n; i++)
        rp_decide(p, &pool[i], ws(), &d);
    if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
        _exit(4);
    file_pages(path, &u);
    if (write(out, &u, sizeof(u)) != (ssize_t)sizeof(u))
        _exit(5);
    rp_policy_free(p);
    _exit(0);
}

/* Two processes open @p path at once; their usage in @p u[0..1]. */
static void
two_processes(const char *path, const rp_query *pool, size_t n, usage u[2])
{
    int ready[2], go[2], out[2];
    pid_t pid[2];
    char c;

    if (pipe(ready) != 0 || pipe(go) != 0 || pipe(out) != 0)
        die("pipe");
    for (int k = 0; k < 2; k++) {
        if ((pid[k] = fork()) < 0)
            die("fork");
        if (pid[k] == 0)
            child(path, pool, n, ready[1], go[0], out[1]);
    }
    for (int k = 0; k < 2; k++)
        if (read(ready[0], &c, 1) != 1)
            die("a child failed to open the file");
    if (write(go[1], "gg", 2) != 2)
        die("pipe");
    for (int k = 0; k < 2; k++)
        if (read(out[0], &u[k], sizeof(u[k])) != (ssize_t)sizeof(u[k]))
            die("a child failed to measure");
    for (int k = 0; k < 2; k++)
        waitpid(pid[k], NULL, 0);
    for (int i = 0; i < 2; i++) {
        close(ready[i]);
        close(go[i]);
        close(out[i]);
    }
}

void
bench_pfile(const bench_tmp *tmp,
            const rp_policy *p,
            const rp_query *pool,
            size_t n,
            double min_time,
            const char *tag,
            const char *what,
            bool goals)
{
    char path[512], key[64], label[96];
    rp_policy *q = NULL;
    rp_error err;
    double t0, save, open, r_text, r_file;
    usage u[2];
    FILE *f;
    long size = 0;

    snprintf(key, sizeof(key), "%s.rpc", tag);
    bench_tmp_path(tmp, key, path, sizeof(path));
    t0 = bench_now();
    if (rp_policy_save(p, path, &err) != RP_OK) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        die("cannot save the compiled policy");
    }
    save = bench_now() - t0;
    if ((f = fopen(path, "rb")) != NULL) {
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fclose(f);
    }
    open = open_time(path, 9);
    if (rp_policy_open(path, NULL, &q, &err) != RP_OK)
        die("cannot open the compiled policy");
    differential(p, q, pool, n);
    /* Each rate twice, in turn, the better of each kept. */
    r_text = rate(p, pool, n, min_time);
    r_file = rate(q, pool, n, min_time);
    t0 = rate(p, pool, n, min_time);
    r_text = t0 > r_text ? t0 : r_text;
    t0 = rate(q, pool, n, min_time);
    r_file = t0 > r_file ? t0 : r_file;
    rp_policy_free(q);
    two_processes(path, pool, n, u);

    snprintf(key, sizeof(key), "%s_file_save_s", tag);
    snprintf(label, sizeof(label), "%s: compiled file, save", what);
    bench_report(key, label, save, "s", GOAL_NONE, 0);
    snprintf(key, sizeof(key), "%s_file_mib", tag);
    snprintf(label, sizeof(label), "%s: compiled file, size", what);
    bench_report(key, label, (double)size / 1048576.0, "MiB", GOAL_NONE, 0);
    snprintf(key, sizeof(key), "%s_file_open_ms", tag);
    snprintf(label, sizeof(label), "%s: compiled file, open (median)", what);
    bench_report(key, label, open * 1e3, "ms", goals ? GOAL_MAX : GOAL_NONE, 5);
    snprintf(key, sizeof(key), "%s_file_same_answers", tag);
    snprintf(label, sizeof(label), "%s: opened = compiled, queries", what);
    bench_report(key, label, (double)n, "", GOAL_NONE, 0);
    snprintf(key, sizeof(key), "%s_text_per_s", tag);
    snprintf(label, sizeof(label), "%s: decisions/s, compiled (same run)",
             what);
    bench_report(key, label, r_text, "/s", GOAL_NONE, 0);
    snprintf(key, sizeof(key), "%s_file_per_s", tag);
    snprintf(label, sizeof(label), "%s: decisions/s, opened file", what);
    bench_report(key, label, r_file, "/s", GOAL_NONE, 0);
    snprintf(key, sizeof(key), "%s_file_rss_mib", tag);
    snprintf(label, sizeof(label), "%s: file pages resident, per process",
             what);
    bench_report(key, label, u[0].rss / 1048576.0, "MiB", GOAL_NONE, 0);
    snprintf(key, sizeof(key), "%s_file_pss_mib", tag);
    snprintf(label, sizeof(label), "%s: their share per process (of 2)", what);
    bench_report(key, label, u[0].pss / 1048576.0, "MiB", GOAL_NONE, 0);
    snprintf(key, sizeof(key), "%s_file_heap_mib", tag);
    snprintf(label, sizeof(label), "%s: private heap of open, per process",
             what);
    bench_report(key, label, u[0].heap / 1048576.0, "MiB", GOAL_NONE, 0);
}
