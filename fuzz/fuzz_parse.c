/*
 * fuzz_parse.c - the policy compiler: text -> policy -> free.
 *
 * The input is policy text, compiled with RP_OPT_NO_FILES (no include or
 * list file is ever opened).  Beyond "no crash, no leak", a policy that
 * compiles must dump to text that compiles again and dumps identically:
 * the dump is documented to be a valid, normalised policy.  A failed
 * compile must fill the error and return no policy.
 *
 * The dump writes names and list entries without quoting, so a policy
 * whose words came from quoted strings, backslashes or odd white space
 * cannot round-trip yet; the dump check is limited to policies written
 * without '"', '\\' and control characters other than tab and newline.
 */
#include "../tests/write_buf.h"
#include "fuzz_common.h"

#include <stdio.h>

static int
count_finding(void *ctx, const rp_finding *f)
{
    size_t *n = ctx;

    if (f->code == NULL || f->message == NULL || f->file == NULL)
        abort();
    ++*n;
    return 0;
}

/* May the dump of a policy compiled from @p text be required to round-trip?
 * (See the note at the top.) */
static bool
plain_text(const uint8_t *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = text[i];
        if (c == '"' || c == '\\' || c == 0x7f ||
            (c < 0x20 && c != '\t' && c != '\n'))
            return false;
    }
    return true;
}

/* Dump @p p, recompile the dump, dump again: both dumps must match. */
static void
check_dump(const rp_policy *p, const rp_options *o)
{
    write_buf a = {0}, b = {0};
    rp_policy *q = NULL;
    rp_error err;
    rp_status st;

    if (rp_policy_dump(p, write_buf_put, &a) != RP_OK)
        abort();
    st = rp_policy_compile(a.s, a.n, o, &q, &err);
    if (st != RP_OK) {
        fprintf(stderr, "dump does not compile: %s\n--- dump\n%s---\n",
                err.message, a.s != NULL ? a.s : "");
        abort();
    }
    if (rp_policy_dump(q, write_buf_put, &b) != RP_OK || a.n != b.n ||
        (a.n > 0 && memcmp(a.s, b.s, a.n) != 0)) {
        fprintf(stderr, "dump is not stable\n--- first\n%s--- second\n%s",
                a.s != NULL ? a.s : "", b.s != NULL ? b.s : "");
        abort();
    }
    rp_policy_free(q);
    free(a.s);
    free(b.s);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rp_policy *p = (rp_policy *)&p;
    rp_error err;
    rp_options o;
    rp_status st;
    size_t findings = 0;

    rp_options_init(&o);
    o.flags = RP_OPT_NO_FILES;
    memset(&err, 0, sizeof(err));
    st = rp_policy_compile(size == 0 ? NULL : (const char *)data, size, &o, &p,
                           &err);
    if (st != RP_OK) {
        if (p != NULL || err.status != st || err.message[0] == '\0' ||
            memchr(err.message, '\0', sizeof(err.message)) == NULL)
            abort();
        return 0;
    }
    if (p == NULL)
        abort();
    if (rp_policy_lint(p, count_finding, &findings, NULL) != RP_OK)
        abort();
    if (plain_text(data, size))
        check_dump(p, &o);
    rp_policy_free(p);
    return 0;
}
