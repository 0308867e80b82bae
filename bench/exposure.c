/*
 * exposure.c - the cost of the exact exposure analysis (relaypolicy(7)
 * §7) next to the compile it is part of: the policy is parsed and frozen
 * as rp_policy_compile_file() would, then the analysis alone is run again
 * on the frozen policy from the same builder.
 */
#include "bench.h"
#include "exposure.h"
#include "parse.h"
#include "builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file, NUL-terminated; NULL on failure. */
static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL &&
        fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    if (f != NULL)
        fclose(f);
    return buf;
}

void
bench_exposure(const char *conf, const char *tag, const char *what)
{
    rp_options o;
    rp_builder *b = NULL;
    rp_policy *p = NULL;
    rp_error err;
    rp__xcuts c;
    char *text = NULL, key[64], label[96];
    size_t len = 0, n;
    double t0, t_parse, t_build, t_cuts, t_an;

    rp_options_init(&o);
    if ((text = slurp(conf, &len)) == NULL || rp_builder_new(&o, &b) != RP_OK)
        goto out;
    t0 = bench_now();
    if (rp__parse(b, &o, conf, text, len, 0, &err) != RP_OK)
        goto out;
    t_parse = bench_now() - t0;
    t0 = bench_now();
    if (rp_builder_build(b, &p, &err) != RP_OK)
        goto out;
    t_build = bench_now() - t0;
    memset(&c, 0, sizeof(c));
    c.a = &p->alloc;
    t0 = bench_now();
    if (rp__exposure_cuts(b, &c) != 0)
        goto out;
    t_cuts = bench_now() - t0;
    rp__exposure_free(p->exposure);
    p->exposure = NULL;
    t0 = bench_now();
    if (rp__exposure_build(p, &c) != RP_OK)
        goto out;
    t_an = bench_now() - t0;
    n = p->exposure->n;
    rp__xcuts_free(&c);
    snprintf(key, sizeof(key), "%s_compile_s", tag);
    snprintf(label, sizeof(label), "%s: compile (parse + freeze)", what);
    bench_report(key, label, t_parse + t_build, "s", GOAL_NONE, 0);
    snprintf(key, sizeof(key), "%s_exposure_s", tag);
    snprintf(label, sizeof(label), "%s: exposure analysis (in freeze)", what);
    bench_report(key, label, t_cuts + t_an, "s", GOAL_NONE, 0);
    snprintf(key, sizeof(key), "%s_exposure_share", tag);
    snprintf(label, sizeof(label), "%s: exposure share of compile", what);
    bench_report(key, label, 100.0 * (t_cuts + t_an) / (t_parse + t_build), "%",
                 GOAL_MAX, 25);
    snprintf(key, sizeof(key), "%s_exposure_ranges", tag);
    snprintf(label, sizeof(label), "%s: exposed ranges", what);
    bench_report(key, label, (double)n, "ranges", GOAL_NONE, 0);
out:
    rp_policy_free(p);
    rp_builder_free(b);
    free(text);
}
