/*
 * import.c - `relaypolicy import`: the entry point, and what both
 * importers share: the policy text, the findings, the final compile and
 * lint of what was written.
 */
#include "import.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char import_usage[] =
    "usage: relaypolicy import postfix [--config-dir DIR] [-o FILE]\n"
    "       relaypolicy import exchange CONNECTORS.json DOMAINS.json\n"
    "                                   [PERMISSIONS.json] [-o FILE]\n"
    "\n"
    "Translate an existing relay configuration into a policy, with a\n"
    "comment per statement naming what it came from.  What cannot be\n"
    "translated is listed as a finding, never dropped.  The result is\n"
    "compiled and linted.\n"
    "\n"
    "Exit status 0 when the import is complete, 1 when there are findings\n"
    "(the policy is written, but something was not translated), 2 on an\n"
    "error (unreadable input, a result that does not compile), 64 on a\n"
    "usage error.\n";

/* ---- strings ------------------------------------------------------------ */

static void
sb_reserve(sbuf *b, size_t more)
{
    if (b->n + more + 1 <= b->cap)
        return;
    while (b->n + more + 1 > b->cap)
        b->cap = b->cap ? b->cap * 2 : 256;
    if ((b->s = realloc(b->s, b->cap)) == NULL) {
        fprintf(stderr, "relaypolicy import: out of memory\n");
        exit(EXIT_POLICY);
    }
}

void
sb_addn(sbuf *b, const char *s, size_t n)
{
    sb_reserve(b, n);
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

void
sb_add(sbuf *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

void
sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sb_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

void
sb_free(sbuf *b)
{
    free(b->s);
    memset(b, 0, sizeof(*b));
}

/* ---- findings ----------------------------------------------------------- */

static void
add_line(sbuf *b, const char *param, const char *fmt, va_list ap)
{
    char msg[1024];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    for (char *p = msg; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    sb_printf(b, "%s: %s\n", param, msg);
}

void
imp_finding(import *im, const char *param, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add_line(&im->findings, param, fmt, ap);
    va_end(ap);
    im->n_findings++;
}

void
imp_note(import *im, const char *param, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add_line(&im->notes, param, fmt, ap);
    va_end(ap);
    im->n_notes++;
}

void
imp_words(import *im, const char *lead, const char *const *w, size_t n)
{
    size_t col = strlen(lead), indent = strlen(lead);

    sb_add(&im->policy, lead);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(w[i]);
        if (i > 0 && col + len + 1 > 76) {
            sb_printf(&im->policy, " \\\n%*s", (int)indent, "");
            col = indent;
        }
        sb_printf(&im->policy, " %s", w[i]);
        col += len + 1;
    }
    sb_add(&im->policy, "\n");
}

void
imp_name(char *dst, size_t size, const char *src)
{
    size_t i = 0;

    for (; *src != '\0' && i + 1 < size; src++) {
        unsigned char c = (unsigned char)*src;
        dst[i++] = isalnum(c) || c == '-' || c == '_' || c == '.'
                       ? (char)tolower(c)
                       : '-';
    }
    dst[i] = '\0';
    if (i == 0)
        snprintf(dst, size, "unnamed");
}

/* Every line of @p text, each prefixed by @p prefix, into @p b. */
static void
comment_lines(sbuf *b, const char *prefix, const char *text)
{
    const char *p = text;

    while (p != NULL && *p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        sb_add(b, prefix);
        sb_addn(b, p, n);
        sb_add(b, "\n");
        p = nl ? nl + 1 : NULL;
    }
}

/* ---- the end: write, compile, lint -------------------------------------- */

static int
lint_report(void *ctx, const rp_finding *f)
{
    static const char *const sev[] = {"", "info", "warning", "critical"};
    const char *s = f->severity >= RP_SEV_INFO && f->severity <= RP_SEV_CRITICAL
                        ? sev[f->severity]
                        : "info";

    (void)ctx;
    if (f->line > 0)
        fprintf(stderr, "  %s:%u: %s: [%s] %s\n", f->file, (unsigned)f->line, s,
                f->code, f->message);
    else
        fprintf(stderr, "  %s: %s: [%s] %s\n", f->file, s, f->code, f->message);
    return 0;
}

static int
exposure_report(void *ctx, const rp_exposure *e)
{
    size_t *n = ctx;

    (*n)++;
    fprintf(stderr,
            "  listener '%s': %s relays without credentials (%s:%u: %s)\n",
            e->listener, e->client.text, e->rule_file, (unsigned)e->rule_line,
            e->rule_text ? e->rule_text : "");
    return 0;
}

/* The exact unauthenticated relay exposure of every listener. */
static void
print_exposure(const rp_policy *p)
{
    size_t n = 0;

    fprintf(stderr, "exposure (relay without credentials):\n");
    rp_policy_exposure(p, exposure_report, &n);
    if (n == 0)
        fprintf(stderr, "  none: no client relays without a login\n");
}

static bool
write_text(const char *path, const sbuf *text)
{
    FILE *f = path != NULL ? fopen(path, "w") : stdout;
    bool ok;

    if (f == NULL) {
        perror(path);
        return false;
    }
    ok = fwrite(text->s, 1, text->n, f) == text->n;
    ok = (path != NULL ? fclose(f) == 0 : fflush(f) == 0) && ok;
    if (!ok)
        fprintf(stderr, "relaypolicy import: cannot write %s\n",
                path ? path : "the output");
    return ok;
}

/* The whole file: header, findings and notes as comments, statements. */
static void
assemble(const import *im, const char *source, sbuf *all)
{
    sb_printf(all, "# Imported by 'relaypolicy import %s' from %s.\n", im->what,
              source);
    sb_add(all, "# Each statement's comment names where it came from.\n");
    if (im->n_findings > 0) {
        sb_add(all, "#\n# NOT TRANSLATED (review by hand):\n");
        comment_lines(all, "#   ", im->findings.s);
    }
    if (im->n_notes > 0) {
        sb_add(all, "#\n# Deliberate differences (see relaypolicy(1)):\n");
        comment_lines(all, "#   ", im->notes.s);
    }
    sb_add(all, "\n");
    sb_addn(all, im->policy.s ? im->policy.s : "", im->policy.n);
}

static void
print_list(const char *title, const sbuf *lines)
{
    fprintf(stderr, "%s:\n", title);
    if (lines->n > 0) {
        sbuf tmp = {0};
        comment_lines(&tmp, "  ", lines->s);
        fputs(tmp.s, stderr);
        sb_free(&tmp);
    }
}

int
imp_finish(import *im, const char *source, const char *out_path)
{
    sbuf all = {0};
    rp_policy *p = NULL;
    rp_error err;
    rp_options opts;
    size_t count = 0;
    int rc;

    assemble(im, source, &all);
    if (!write_text(out_path, &all)) {
        sb_free(&all);
        return EXIT_POLICY;
    }
    if (im->n_findings > 0)
        print_list("findings (not translated)", &im->findings);
    if (im->n_notes > 0)
        print_list("notes (deliberate differences)", &im->notes);
    rp_options_init(&opts);
    opts.flags |= RP_OPT_NO_FILES;
    memset(&err, 0, sizeof(err));
    if (rp_policy_compile(all.s, all.n, &opts, &p, &err) != RP_OK) {
        snprintf(err.file, sizeof(err.file), "%s",
                 out_path ? out_path : "<output>");
        fprintf(stderr, "the imported policy does not compile:\n  ");
        print_error(&err, err.file);
        sb_free(&all);
        return EXIT_POLICY;
    }
    fprintf(stderr, "lint:\n");
    rp_policy_lint(p, lint_report, NULL, &count);
    fprintf(stderr, "  %zu lint finding%s\n", count, count == 1 ? "" : "s");
    print_exposure(p);
    rp_policy_free(p);
    rc = im->n_findings > 0 ? EXIT_FINDING : 0;
    fprintf(stderr, "import %s: %zu finding%s, %zu note%s\n",
            rc == 0 ? "complete" : "INCOMPLETE", im->n_findings,
            im->n_findings == 1 ? "" : "s", im->n_notes,
            im->n_notes == 1 ? "" : "s");
    sb_free(&all);
    return rc;
}

void
imp_free(import *im)
{
    sb_free(&im->policy);
    sb_free(&im->findings);
    sb_free(&im->notes);
}

int
cmd_import(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(import_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (strcmp(argv[1], "postfix") == 0)
        return import_postfix(argc - 1, argv + 1);
    if (strcmp(argv[1], "exchange") == 0)
        return import_exchange(argc - 1, argv + 1);
    return usage_error("import", "unknown source '%s' (postfix or exchange)",
                       argv[1]);
}
