/*
 * lint.c - `relaypolicy lint`: print the audit findings of a policy
 * (relaypolicy(7) §7) as text or JSON; exit 1 when any is critical.
 */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char lint_usage[] =
    "usage: relaypolicy lint FILE [--format text|json]\n"
    "\n"
    "Audit a policy: open-relay exposures, risky grants, rules and\n"
    "listeners that can never take effect, domains without recipient\n"
    "validation.  Each finding has a file:line, a severity (critical,\n"
    "warning, info), a stable code and one line of advice.\n"
    "\n"
    "Exit status 0 when there is no critical finding, 1 when there is,\n"
    "2 when the policy does not compile, 64 on a usage error.\n";

static const char *const sev_names[] = {"", "info", "warning", "critical"};

typedef struct tally {
    size_t n[4];
    json_t *array; /* JSON format; NULL for text */
} tally;

static const char *
sev_name(rp_severity s)
{
    return s >= RP_SEV_INFO && s <= RP_SEV_CRITICAL ? sev_names[s] : "info";
}

static int
report(void *ctx, const rp_finding *f)
{
    tally *t = ctx;
    json_t *o;

    if (f->severity >= RP_SEV_INFO && f->severity <= RP_SEV_CRITICAL)
        t->n[f->severity]++;
    if (t->array == NULL) {
        if (f->line > 0)
            printf("%s:%u: %s: [%s] %s\n", f->file, (unsigned)f->line,
                   sev_name(f->severity), f->code, f->message);
        else
            printf("%s: %s: [%s] %s\n", f->file, sev_name(f->severity), f->code,
                   f->message);
        printf("    advice: %s\n", f->advice);
        return 0;
    }
    o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s}", "severity",
                  sev_name(f->severity), "code", f->code, "file", f->file,
                  "line", (json_int_t)f->line, "message", f->message, "advice",
                  f->advice);
    if (o == NULL || json_array_append_new(t->array, o) != 0)
        return 1;
    return 0;
}

/* Parse the command line; returns -1 to go on, or an exit code. */
static int
parse_args(int argc, char **argv, const char **path, bool *json)
{
    static const opt_spec specs[] = {{"format", true}, {"help", false}};
    opt_state st = {argc, argv, 0, NULL};
    int k;

    *path = NULL;
    *json = false;
    while ((k = opt_next(&st, specs, 2, "lint")) != -2) {
        if (k == -3)
            return EXIT_USAGE;
        if (k == 1) {
            fputs(lint_usage, stdout);
            return 0;
        }
        if (k == 0) {
            if (strcmp(st.value, "json") != 0 && strcmp(st.value, "text"))
                return usage_error("lint",
                                   "--format is text or json, not "
                                   "'%s'",
                                   st.value);
            *json = strcmp(st.value, "json") == 0;
            continue;
        }
        if (*path != NULL)
            return usage_error("lint", "only one FILE, please");
        *path = st.value;
    }
    if (*path == NULL)
        return usage_error("lint", "missing policy FILE");
    return -1;
}

int
cmd_lint(int argc, char **argv)
{
    const char *path;
    bool json;
    tally t;
    rp_policy *p;
    size_t count = 0;
    int rc = parse_args(argc, argv, &path, &json);

    if (rc >= 0)
        return rc;
    if ((p = load_policy(path)) == NULL)
        return EXIT_POLICY;
    memset(&t, 0, sizeof(t));
    if (json && (t.array = json_array()) == NULL) {
        rp_policy_free(p);
        return EXIT_POLICY;
    }
    rp_policy_lint(p, report, &t, &count);
    if (json) {
        json_dumpf(t.array, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(t.array);
    } else {
        printf("%s: %zu finding%s: %zu critical, %zu warning%s, %zu info\n",
               path, count, count == 1 ? "" : "s", t.n[RP_SEV_CRITICAL],
               t.n[RP_SEV_WARNING], t.n[RP_SEV_WARNING] == 1 ? "" : "s",
               t.n[RP_SEV_INFO]);
    }
    rp_policy_free(p);
    return t.n[RP_SEV_CRITICAL] > 0 ? EXIT_FINDING : 0;
}
