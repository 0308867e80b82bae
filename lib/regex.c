/*
 * regex.c - the PCRE2 wrapper: bounded matching without heap at match time.
 *
 * A pattern is compiled once, with the policy's allocator, into an
 * rp__regex that owns its pcre2_code and a match context holding the match,
 * depth and heap limits.  Both are immutable afterwards and shared by every
 * thread.
 *
 * Matching never touches the heap.  The caller passes an rp__scratch that
 * lives on its stack; on first use a PCRE2 general context whose allocator
 * is a bump allocator over scratch->buf is created inside the scratch, and
 * the match data is created from it.  Since PCRE2 10.41 the interpreter
 * keeps its backtracking frames in the match data and allocates them
 * through the match data's allocator, so they come from the scratch too.
 * The heap limit (in KiB) is what is left of the scratch.  PCRE2 10.42
 * allocates the frame vector at min(20 KiB, heap limit) and never beyond
 * the limit, so with the default scratch it is allocated once and never
 * grows; deeper backtracking fails with PCRE2_ERROR_HEAPLIMIT.  Should the
 * vector ever outgrow the scratch, the bump allocator returns NULL and the
 * match fails with PCRE2_ERROR_NOMEMORY: the heap is never used.  JIT code
 * runs on a 32 KiB machine stack that PCRE2 keeps on the C stack.
 *
 * PCRE2 before 10.41 grew the interpreter frames through the match context
 * instead; with such a version the interpreter could allocate at match
 * time, which is why 10.41 or later is expected.  JIT-compiled code is
 * placed in executable memory that PCRE2 maps itself, outside the
 * allocator.
 */
#include "rp_internal.h"

#include <pcre2.h>
#include <stdio.h>
#include <string.h>

/* Bytes of the scratch kept for the general context, the match data and
 * block headers; the rest, in whole KiB, is the interpreter's heap limit. */
#define SCRATCH_RESERVE 4096
#define HEAP_LIMIT_KIB ((RP__SCRATCH_BYTES - SCRATCH_RESERVE) / 1024)

_Static_assert(HEAP_LIMIT_KIB >= 1, "scratch too small for PCRE2 frames");

/* Every bump block is preceded by a header so that freeing the most recent
 * block gives its space back (PCRE2 frees an old frame vector right before
 * allocating a larger one). */
#define BLOCK_ALIGN 16

typedef struct block_header {
    size_t start; /* scratch->used before this block was carved */
    size_t end;   /* scratch->used after it */
} block_header;

_Static_assert(sizeof(block_header) <= BLOCK_ALIGN, "header too large");

struct rp__regex {
    rp__alloc alloc;
    pcre2_code *code;
    pcre2_match_context *mcontext;
};

void
rp__scratch_init(rp__scratch *s)
{
    s->used = 0;
    s->match_data = NULL;
    s->gcontext = NULL;
    s->mcontext = NULL;
}

/* The bump allocator behind the scratch's general context.  Returns NULL
 * when the scratch is exhausted; it never falls back to the heap. */
static void *
scratch_malloc(size_t size, void *ctx)
{
    rp__scratch *s = ctx;
    size_t start = s->used;
    size_t need;

    if (size > RP__SCRATCH_BYTES)
        return NULL;
    need = (size + BLOCK_ALIGN - 1) & ~(size_t)(BLOCK_ALIGN - 1);
    need += BLOCK_ALIGN;
    if (need > RP__SCRATCH_BYTES - start)
        return NULL;
    block_header h = {start, start + need};
    memcpy(s->buf + start, &h, sizeof(h));
    s->used = start + need;
    return s->buf + start + BLOCK_ALIGN;
}

/* Frees are no-ops, except that the most recent block is given back. */
static void
scratch_free(void *ptr, void *ctx)
{
    rp__scratch *s = ctx;
    block_header h;

    if (ptr == NULL)
        return;
    memcpy(&h, (unsigned char *)ptr - BLOCK_ALIGN, sizeof(h));
    if (h.end == s->used)
        s->used = h.start;
}

/* Create the general context and match data inside the scratch. */
static int
scratch_prepare(rp__scratch *s)
{
    pcre2_general_context *g;
    pcre2_match_data *md;

    if (s->match_data != NULL)
        return 0;
    g = pcre2_general_context_create(scratch_malloc, scratch_free, s);
    if (g == NULL) {
        s->used = 0;
        return -1;
    }
    md = pcre2_match_data_create(1, g);
    if (md == NULL) {
        s->used = 0;
        return -1;
    }
    s->gcontext = g;
    s->match_data = md;
    return 0;
}

/* Write a PCRE2 error message into @p why. */
static void
set_why(char *why, size_t why_size, int errcode)
{
    PCRE2_UCHAR msg[160];

    if (why == NULL || why_size == 0)
        return;
    if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0 &&
        msg[0] == '\0')
        snprintf((char *)msg, sizeof(msg), "PCRE2 error %d", errcode);
    snprintf(why, why_size, "%s", (const char *)msg);
}

/* Build the match context owned by @p re, from @p g. */
static int
make_mcontext(rp__regex *re, pcre2_general_context *g, uint32_t match_limit,
              uint32_t depth_limit)
{
    re->mcontext = pcre2_match_context_create(g);
    if (re->mcontext == NULL)
        return -1;
    pcre2_set_match_limit(re->mcontext, match_limit);
    pcre2_set_depth_limit(re->mcontext, depth_limit);
    pcre2_set_heap_limit(re->mcontext, HEAP_LIMIT_KIB);
    return 0;
}

/* Compile @p pattern into re->code with a compile context from @p g. */
static int
compile_code(rp__regex *re, pcre2_general_context *g, const char *pattern,
             size_t len, int *errcode, size_t *erroffset)
{
    pcre2_compile_context *cc;
    PCRE2_SIZE off = 0;

    cc = pcre2_compile_context_create(g);
    if (cc == NULL) {
        *errcode = PCRE2_ERROR_NOMEMORY;
        return -1;
    }
    re->code = pcre2_compile((PCRE2_SPTR)(pattern != NULL ? pattern : ""),
                             len, PCRE2_CASELESS | PCRE2_NEVER_UTF, errcode,
                             &off, cc);
    pcre2_compile_context_free(cc);
    *erroffset = off;
    return re->code == NULL ? -1 : 0;
}

/*
 * Compile @p pattern (@p len bytes, need not be NUL-terminated) to match
 * case-insensitively, without UTF.  Memory comes from @p a, which is copied.
 * The code is JIT-compiled unless @p opt_flags has RP_OPT_NO_JIT; a JIT
 * failure is not an error (the interpreter is used).  On failure returns
 * NULL, writes a message to @p why (when not NULL) and the pattern offset
 * to @p erroffset (when not NULL; 0 when not tied to an offset).
 */
rp__regex *
rp__regex_compile(const rp__alloc *a, const char *pattern, size_t len,
                  uint32_t opt_flags, uint32_t match_limit,
                  uint32_t depth_limit, char *why, size_t why_size,
                  size_t *erroffset)
{
    pcre2_general_context *g;
    rp__regex *re;
    int errcode = PCRE2_ERROR_NOMEMORY;
    size_t off = 0;

    re = rp__calloc(a, 1, sizeof(*re));
    g = pcre2_general_context_create(a->malloc, a->free, a->ctx);
    if (re == NULL || g == NULL)
        goto fail;
    re->alloc = *a;
    if (compile_code(re, g, pattern, len, &errcode, &off) != 0)
        goto fail;
    errcode = PCRE2_ERROR_NOMEMORY;
    if (make_mcontext(re, g, match_limit, depth_limit) != 0)
        goto fail;
    if ((opt_flags & RP_OPT_NO_JIT) == 0)
        (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
    pcre2_general_context_free(g);
    if (erroffset != NULL)
        *erroffset = 0;
    return re;

fail:
    set_why(why, why_size, errcode);
    if (erroffset != NULL)
        *erroffset = off;
    pcre2_general_context_free(g);
    if (re != NULL) {
        pcre2_code_free(re->code);
        rp__free(a, re);
    }
    return NULL;
}

/*
 * Match @p subject (@p len bytes) against @p re, without touching the heap.
 * @p scratch must have been set up with rp__scratch_init(); it may be
 * reused for any number of matches (of any regexes) by one thread.
 * Returns 1 on a match, 0 on no match and -1 on any error, including the
 * match, depth and heap limits and scratch exhaustion.
 */
int
rp__regex_match(const rp__regex *re, const char *subject, size_t len,
                rp__scratch *scratch)
{
    int rc;

    if (re == NULL || scratch == NULL || scratch_prepare(scratch) != 0)
        return -1;
    if (subject == NULL) {
        if (len != 0)
            return -1;
        subject = "";
    }
    rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0,
                     scratch->match_data, re->mcontext);
    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/* Free @p re and everything it owns; NULL is a no-op. */
void
rp__regex_free(rp__regex *re)
{
    rp__alloc a;

    if (re == NULL)
        return;
    a = re->alloc;
    pcre2_match_context_free(re->mcontext);
    pcre2_code_free(re->code);
    rp__free(&a, re);
}
