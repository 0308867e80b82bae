/*
 * write_buf.h - a growing buffer that an rp_write_fn fills: what the tests
 * and fuzz targets collect rp_policy_dump() and rp_policy_write() output
 * into.  A static helper without the test framework, so that a fuzz
 * target can include it as it is.
 */
#ifndef RP_WRITE_BUF_H
#define RP_WRITE_BUF_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct write_buf {
    char *s;    /* NULL until the first write, then NUL-terminated */
    size_t n;   /* bytes written, the NUL not counted */
    size_t cap; /* bytes allocated at s */
} write_buf;

/* An rp_write_fn: append @p len bytes to the write_buf @p ctx.  Returns 1,
 * which stops the writer, when memory runs out. */
static inline int
write_buf_put(void *ctx, const char *data, size_t len)
{
    write_buf *b = ctx;

    if (b->n + len + 1 > b->cap) {
        size_t cap = (b->n + len + 1) * 2;
        char *s = realloc(b->s, cap);
        if (s == NULL)
            return 1;
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->n, data, len);
    b->n += len;
    b->s[b->n] = '\0';
    return 0;
}

#endif /* RP_WRITE_BUF_H */
