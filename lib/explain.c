/*
 * explain.c - the decision's explanation: lines appended to the
 * workspace's buffer by every step, cut whole when they do not fit.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "decide.h"
#include "relaypolicy.h"

/* Append one line to the explanation.  A line that does not fit whole is
 * cut, and so are all that follow: the decision says so (truncated).
 * Reached through rp__explain(), which only calls when asked. */
void
rp__explain_line(rp__ctx *c, const char *fmt, ...)
{
    size_t cap = c->explain_cap;
    va_list ap;
    int n;

    if (!(c->q->flags & RP_QUERY_EXPLAIN) || c->truncated)
        return;
    if (c->xlen + 2 >= cap) {
        c->truncated = true;
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(c->explanation + c->xlen, cap - c->xlen, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n + 1 >= cap - c->xlen) {
        c->truncated = true;
        c->xlen = n < 0 ? c->xlen : cap - 1;
        c->explanation[c->xlen] = '\0';
        return;
    }
    c->xlen += (size_t)n;
    c->explanation[c->xlen++] = '\n';
    c->explanation[c->xlen] = '\0';
}
