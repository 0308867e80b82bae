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
 * allocator.  JIT code is entered with pcre2_jit_match(), which honours
 * the match limit of the match context (the depth and heap limits do not
 * apply to JIT code).
 *
 * An rp__regex_set (at the end of this file) searches an ordered list of
 * patterns for the first that matches, with a literal prefilter so that
 * only the patterns that can match are run.
 */
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "relaypolicy.h"
#include "rp_regex.h"
#include "text.h"

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

/* Bytes of a required literal kept per pattern: any part of a required
 * literal is itself required, so longer ones are cut. */
#define LIT_MAX 16

struct rp__regex {
    rp__alloc alloc;
    pcre2_code *code;
    pcre2_match_context *mcontext;
    bool jit;                   /* JIT-compiled: run with pcre2_jit_match() */
    uint8_t lit_len;            /* 0: no literal is known to be required */
    unsigned char lit[LIT_MAX]; /* lowercased */
    char *src;                  /* the pattern as given, NUL-terminated */
    size_t src_len;
};

/* Match steps a regex gets on its first try in a budgeted decision: most
 * finish within them; one that does not is run again with the full limit,
 * and charged both. */
#define PROBE_STEPS 1000u
/* The JIT stack of a workspace: grown on demand up to the maximum. */
#define JIT_STACK_START 32768
#define JIT_STACK_MAX 262144

void
rp__scratch_init(rp__scratch *s)
{
    s->used = 0;
    s->match_data = NULL;
    s->gcontext = NULL;
    s->mcontext = NULL;
    s->hcontext = NULL;
    s->jit_stack = NULL;
    s->match_limit = 0;
    s->spent = false;
    s->budget = UINT64_MAX;
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

int
rp__scratch_setup(rp__scratch *s, const rp__alloc *a)
{
    uint32_t jit = 0;

    rp__scratch_init(s);
    if (scratch_prepare(s) != 0)
        return -1;
    s->hcontext = pcre2_general_context_create(a->malloc, a->free, a->ctx);
    if (s->hcontext == NULL)
        return -1;
    s->mcontext = pcre2_match_context_create(s->hcontext);
    if (s->mcontext == NULL)
        return -1;
    pcre2_set_heap_limit(s->mcontext, HEAP_LIMIT_KIB);
    if (pcre2_config(PCRE2_CONFIG_JIT, &jit) < 0 || jit == 0)
        return 0;
    s->jit_stack =
        pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX, s->hcontext);
    if (s->jit_stack == NULL)
        return -1;
    pcre2_jit_stack_assign(s->mcontext, NULL, s->jit_stack);
    return 0;
}

void
rp__scratch_release(rp__scratch *s, const rp__alloc *a)
{
    (void)a;
    pcre2_jit_stack_free(s->jit_stack);
    pcre2_match_context_free(s->mcontext);
    pcre2_general_context_free(s->hcontext);
    s->jit_stack = s->mcontext = s->hcontext = NULL;
}

void
rp__scratch_begin(rp__scratch *s,
                  uint32_t match_limit,
                  uint32_t depth_limit,
                  uint32_t budget)
{
    s->match_limit = match_limit;
    s->budget = budget;
    s->spent = false;
    if (s->mcontext != NULL)
        pcre2_set_depth_limit(s->mcontext, depth_limit);
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
make_mcontext(rp__regex *re,
              pcre2_general_context *g,
              uint32_t match_limit,
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
compile_code(rp__regex *re,
             pcre2_general_context *g,
             const char *pattern,
             size_t len,
             int *errcode,
             size_t *erroffset)
{
    pcre2_compile_context *cc;
    PCRE2_SIZE off = 0;

    cc = pcre2_compile_context_create(g);
    if (cc == NULL) {
        *errcode = PCRE2_ERROR_NOMEMORY;
        return -1;
    }
    re->code =
        pcre2_compile((PCRE2_SPTR)(pattern != NULL ? pattern : ""), len,
                      PCRE2_CASELESS | PCRE2_NEVER_UTF, errcode, &off, cc);
    pcre2_compile_context_free(cc);
    *erroffset = off;
    return re->code == NULL ? -1 : 0;
}

/* Record in @p re the literal every match needs, if one is certain. */
static void
find_literal(rp__regex *re, const char *pattern, size_t len)
{
    static const uint32_t what[2][2] = {
        {PCRE2_INFO_LASTCODETYPE, PCRE2_INFO_LASTCODEUNIT},
        {PCRE2_INFO_FIRSTCODETYPE, PCRE2_INFO_FIRSTCODEUNIT}};
    uint32_t type, unit;

    re->lit_len =
        (uint8_t)rp__regex_text_literal(pattern, len, re->lit, LIT_MAX);
    for (int k = 0; re->lit_len == 0 && k < 2; k++) {
        if (pcre2_pattern_info(re->code, what[k][0], &type) == 0 && type == 1 &&
            pcre2_pattern_info(re->code, what[k][1], &unit) == 0 &&
            unit < 0x80) {
            re->lit[0] = (unsigned char)rp__ascii_lower((unsigned char)unit);
            re->lit_len = 1;
        }
    }
}

/* The literal that @p re needs in any subject it matches, lowercased, into
 * @p buf (cut to @p size).  Returns its length; 0 when none is known. */
size_t
rp__regex_literal(const rp__regex *re, char *buf, size_t size)
{
    size_t n = re != NULL ? re->lit_len : 0;

    if (n > size)
        n = size;
    if (n > 0)
        memcpy(buf, re->lit, n);
    return n;
}

/* The status of a failed compile: PCRE2's allocation failures are
 * RP_E_NOMEM, its compile errors (codes 100 and up) RP_E_REGEX. */
static rp_status
compile_status(int errcode)
{
    if (errcode == PCRE2_ERROR_NOMEMORY || errcode == PCRE2_ERROR_HEAP_FAILED)
        return RP_E_NOMEM;
    return errcode >= 100 ? RP_E_REGEX : RP_E_INTERNAL;
}

/*
 * Compile @p pattern (@p len bytes, need not be NUL-terminated) to match
 * case-insensitively, without UTF, into *@p out.  Memory comes from @p a,
 * which is copied.  The code is JIT-compiled unless @p opt_flags has
 * RP_OPT_NO_JIT; a JIT failure is not an error (the interpreter is used).
 * Returns RP_OK, RP_E_REGEX (a bad pattern), RP_E_NOMEM or RP_E_INTERNAL;
 * on failure *@p out is NULL, a message is written to @p why (when not
 * NULL) and the pattern offset to @p erroffset (when not NULL; 0 when not
 * tied to an offset).
 */
rp_status
rp__regex_compile(const rp__alloc *a,
                  const char *pattern,
                  size_t len,
                  uint32_t opt_flags,
                  uint32_t match_limit,
                  uint32_t depth_limit,
                  rp__regex **out,
                  char *why,
                  size_t why_size,
                  size_t *erroffset)
{
    pcre2_general_context *g;
    rp__regex *re;
    int errcode = PCRE2_ERROR_NOMEMORY;
    size_t off = 0;

    *out = NULL;
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
        re->jit = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0;
    find_literal(re, pattern != NULL ? pattern : "", len);
    pcre2_general_context_free(g);
    g = NULL;
    errcode = PCRE2_ERROR_NOMEMORY;
    if ((re->src = rp__strndup(a, pattern != NULL ? pattern : "", len)) == NULL)
        goto fail;
    re->src_len = len;
    if (erroffset != NULL)
        *erroffset = 0;
    *out = re;
    return RP_OK;

fail:
    set_why(why, why_size, errcode);
    if (erroffset != NULL)
        *erroffset = off;
    pcre2_general_context_free(g);
    if (re != NULL) {
        pcre2_match_context_free(re->mcontext);
        pcre2_code_free(re->code);
        rp__free(a, re);
    }
    return compile_status(errcode);
}

/* One match with prepared match data and the match context @p mc.  JIT
 * code is entered directly, which skips pcre2_match()'s checks; it honours
 * the match limit of the match context and runs on the context's JIT
 * stack (a workspace's) or on 32 KiB that PCRE2 keeps on the C stack.
 * Returns PCRE2's code. */
static inline int
run_code(const rp__regex *re,
         const char *subject,
         size_t len,
         void *match_data,
         pcre2_match_context *mc)
{
    if (re->jit)
        return pcre2_jit_match(re->code, (PCRE2_SPTR)subject, len, 0, 0,
                               match_data, mc);
    return pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, match_data,
                       mc);
}

static inline int
result(int rc)
{
    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/* Run with at most @p steps of the budget: charged in full. */
static int
run_charged(const rp__regex *re,
            const char *subject,
            size_t len,
            rp__scratch *s,
            uint32_t steps)
{
    s->budget -= steps;
    pcre2_set_match_limit(s->mcontext, steps);
    return run_code(re, subject, len, s->match_data, s->mcontext);
}

/* A run on a workspace's scratch: a short probe, then, only for a regex
 * that needs more, the full match limit, each charged to the decision's
 * budget.  A run the budget cannot pay for fails and marks it spent. */
static int
budgeted_match(const rp__regex *re,
               const char *subject,
               size_t len,
               rp__scratch *s)
{
    uint32_t full = s->match_limit, probe = full;
    int rc;

    if (probe > PROBE_STEPS)
        probe = PROBE_STEPS;
    if (s->budget < probe) {
        s->spent = true;
        return -1;
    }
    rc = run_charged(re, subject, len, s, probe);
    if (rc != PCRE2_ERROR_MATCHLIMIT || probe == full)
        return result(rc);
    if (s->budget < full) {
        s->spent = true;
        return -1;
    }
    return result(run_charged(re, subject, len, s, full));
}

/* One match on a prepared scratch: budgeted on a workspace's. */
static inline int
match_prepared(const rp__regex *re,
               const char *subject,
               size_t len,
               rp__scratch *scratch)
{
    if (scratch->mcontext != NULL)
        return budgeted_match(re, subject, len, scratch);
    return result(
        run_code(re, subject, len, scratch->match_data, re->mcontext));
}

/*
 * Match @p subject (@p len bytes) against @p re, without touching the heap.
 * @p scratch must have been set up with rp__scratch_init() or, for a
 * budgeted decision, rp__scratch_setup() and rp__scratch_begin(); it may be
 * reused for any number of matches (of any regexes) by one thread.
 * Returns 1 on a match, 0 on no match and -1 on any error, including the
 * match, depth and heap limits, the budget and scratch exhaustion.
 */
int
rp__regex_match(const rp__regex *re,
                const char *subject,
                size_t len,
                rp__scratch *scratch)
{
    if (re == NULL || scratch == NULL || scratch_prepare(scratch) != 0)
        return -1;
    if (subject == NULL) {
        if (len != 0)
            return -1;
        subject = "";
    }
    return match_prepared(re, subject, len, scratch);
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
    rp__free(&a, re->src);
    rp__free(&a, re);
}

/* The pattern @p re was compiled from (NUL-terminated; its length in
 * *len), for writing a compiled policy file. */
const char *
rp__regex_source(const rp__regex *re, size_t *len)
{
    *len = re->src_len;
    return re->src;
}

/* ---- sets -----------------------------------------------------------------
 *
 * A set answers "which is the first of these patterns, in order, that
 * matches" while running only the patterns that can match.  Patterns with
 * a required literal of two or more bytes are grouped by literal; every
 * distinct literal sits in a hash table keyed by its first four bytes (or
 * two, for literals of two or three).  One pass over the lowercased
 * subject probes the table at every offset and collects the literals
 * present.  The other patterns (no literal, or a single required byte) are
 * always candidates, those with a byte only when the subject holds it.
 * The candidates are then run in index order, merged from the sorted
 * lists, and the first answer other than "no match" stops the scan, as
 * the plain loop would.  A pattern is skipped only when it cannot match,
 * so an error (a limit) in any pattern the loop would have reached before
 * the first match still yields -1, unless that pattern could not match.
 *
 * The frozen set is one block, so a policy can place it in its arena.  It
 * borrows the compiled patterns, which must outlive it.
 */

#define SET_NONE UINT32_MAX
#define SET_HASH 0x9E3779B1u
#define SET_SHORT_TAG 0x80000000u /* in keys of 2- and 3-byte literals */
/* Longer subjects, or more distinct literals present, run every pattern. */
#define SET_SUBJECT_MAX 1024
#define SET_FOUND_MAX 32

typedef struct set_plain {
    uint32_t index;
    int32_t byte; /* a byte the subject must hold, or -1 */
} set_plain;

typedef struct set_group {
    uint32_t key;  /* first bytes of the literal, see lit_key() */
    uint32_t next; /* the next group in the bucket, or SET_NONE */
    uint32_t lit;  /* offset of the literal in lits */
    uint32_t lit_len;
    uint32_t list; /* offset of its patterns (ascending) in lists */
    uint32_t n_list;
} set_group;

struct rp__regex_set {
    rp__alloc alloc;
    bool in_arena;
    bool has_short; /* some literal has 2 or 3 bytes */
    bool has_long;  /* some literal has 4 or more */
    unsigned bucket_bits;
    uint32_t n;
    uint32_t n_plain;
    uint32_t n_groups;
    const rp__regex **re;
    set_plain *plain;
    set_group *groups;
    uint32_t *buckets;
    uint32_t *lists;
    unsigned char *lits;
};

/* The table key of the literal at @p s, of which @p len >= 2 bytes are
 * readable: four bytes, or two tagged (literals are ASCII, so four-byte
 * keys never have the tag bit). */
static inline uint32_t
lit_key(const unsigned char *s, size_t len)
{
    if (len >= 4)
        return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 |
               (uint32_t)s[3] << 24;
    return (uint32_t)s[0] | (uint32_t)s[1] << 8 | SET_SHORT_TAG;
}

static inline uint32_t
set_bucket(const rp__regex_set *s, uint32_t key)
{
    return (key * SET_HASH) >> (32 - s->bucket_bits);
}

/* A pattern with a literal of two or more bytes, while building. */
typedef struct set_entry {
    const rp__regex *re;
    uint32_t index;
} set_entry;

static int
entry_cmp(const void *x, const void *y)
{
    const set_entry *a = x, *b = y;
    size_t n =
        a->re->lit_len < b->re->lit_len ? a->re->lit_len : b->re->lit_len;
    int c = memcmp(a->re->lit, b->re->lit, n);

    if (c != 0)
        return c;
    if (a->re->lit_len != b->re->lit_len)
        return a->re->lit_len < b->re->lit_len ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

static bool
same_literal(const rp__regex *a, const rp__regex *b)
{
    return a->lit_len == b->lit_len && memcmp(a->lit, b->lit, a->lit_len) == 0;
}

/* Sizes of the parts of a set's block. */
typedef struct set_plan {
    uint32_t n_entries; /* patterns with a literal of two or more bytes */
    uint32_t n_groups;
    size_t lit_bytes;
    unsigned bucket_bits;
    size_t off[6]; /* re, plain, groups, buckets, lists, lits */
    size_t total;
} set_plan;

static size_t
align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Lay the block out, given the sorted entries. */
static void
plan_layout(set_plan *pl, const set_entry *e, uint32_t n)
{
    size_t size[6];

    pl->n_groups = 0;
    pl->lit_bytes = 0;
    for (uint32_t i = 0; i < pl->n_entries; i++) {
        if (i == 0 || !same_literal(e[i - 1].re, e[i].re)) {
            pl->n_groups++;
            pl->lit_bytes += e[i].re->lit_len;
        }
    }
    pl->bucket_bits = 6;
    while (((size_t)1 << pl->bucket_bits) < (size_t)pl->n_groups * 8 &&
           pl->bucket_bits < 30)
        pl->bucket_bits++;
    size[0] = (size_t)n * sizeof(rp__regex *);
    size[1] = (size_t)(n - pl->n_entries) * sizeof(set_plain);
    size[2] = (size_t)pl->n_groups * sizeof(set_group);
    size[3] = ((size_t)1 << pl->bucket_bits) * sizeof(uint32_t);
    size[4] = (size_t)pl->n_entries * sizeof(uint32_t);
    size[5] = pl->lit_bytes;
    pl->total = align8(sizeof(rp__regex_set));
    for (int k = 0; k < 6; k++) {
        pl->off[k] = pl->total;
        pl->total += align8(size[k]);
    }
}

/* Fill the groups, their lists and literals, and the hash table. */
static void
fill_groups(rp__regex_set *s, const set_entry *e, uint32_t n_entries)
{
    size_t lit = 0;
    uint32_t g = 0;

    for (uint32_t b = 0; b < (1u << s->bucket_bits); b++)
        s->buckets[b] = SET_NONE;
    for (uint32_t i = 0; i < n_entries; i++) {
        const rp__regex *re = e[i].re;
        set_group *gr;

        s->lists[i] = e[i].index;
        if (i > 0 && same_literal(e[i - 1].re, re)) {
            s->groups[g - 1].n_list++;
            continue;
        }
        gr = &s->groups[g];
        gr->key = lit_key(re->lit, re->lit_len);
        gr->lit = (uint32_t)lit;
        gr->lit_len = re->lit_len;
        gr->list = i;
        gr->n_list = 1;
        memcpy(s->lits + lit, re->lit, re->lit_len);
        lit += re->lit_len;
        gr->next = s->buckets[set_bucket(s, gr->key)];
        s->buckets[set_bucket(s, gr->key)] = g++;
        *(re->lit_len >= 4 ? &s->has_long : &s->has_short) = true;
    }
}

/* Place the block, zeroed, in the arena or on the heap. */
static rp__regex_set *
set_place(const rp__alloc *a, void **arena, size_t total)
{
    rp__regex_set *s;

    s = arena != NULL ? rp__arena_alloc(arena, a, total) : rp__malloc(a, total);
    if (s != NULL) {
        memset(s, 0, total);
        s->alloc = *a;
        s->in_arena = arena != NULL;
    }
    return s;
}

/* Point the parts of @p s into its block and fill them. */
static void
set_fill(rp__regex_set *s,
         const set_plan *pl,
         rp__regex *const *re,
         uint32_t n,
         const set_entry *e)
{
    unsigned char *base = (unsigned char *)s;
    uint32_t p = 0;

    s->n = n;
    s->n_plain = n - pl->n_entries;
    s->n_groups = pl->n_groups;
    s->bucket_bits = pl->bucket_bits;
    s->re = (const rp__regex **)(void *)(base + pl->off[0]);
    s->plain = (set_plain *)(void *)(base + pl->off[1]);
    s->groups = (set_group *)(void *)(base + pl->off[2]);
    s->buckets = (uint32_t *)(void *)(base + pl->off[3]);
    s->lists = (uint32_t *)(void *)(base + pl->off[4]);
    s->lits = base + pl->off[5];
    for (uint32_t i = 0; i < n; i++) {
        s->re[i] = re[i];
        if (re[i]->lit_len >= 2)
            continue;
        s->plain[p].index = i;
        s->plain[p++].byte = re[i]->lit_len == 1 ? re[i]->lit[0] : -1;
    }
    fill_groups(s, e, pl->n_entries);
}

/*
 * Build a set over the compiled patterns @p re[0..n) (borrowed: they must
 * outlive the set).  With @p arena not NULL the set is carved from that
 * policy arena (see rp__arena_alloc) and goes away with it; otherwise it
 * comes from @p a and is freed with rp__regex_set_free().  Temporary
 * memory comes from @p a.  Returns NULL on no memory.
 */
rp__regex_set *
rp__regex_set_new(const rp__alloc *a,
                  void **arena,
                  rp__regex *const *re,
                  uint32_t n)
{
    set_entry *e;
    set_plan pl;
    rp__regex_set *s = NULL;

    if ((uint64_t)n * 64 > SIZE_MAX || (n > 0 && re == NULL))
        return NULL;
    e = rp__calloc(a, n > 0 ? n : 1, sizeof(*e));
    if (e == NULL)
        return NULL;
    pl.n_entries = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (re[i] == NULL)
            goto out;
        if (re[i]->lit_len >= 2)
            e[pl.n_entries++] = (set_entry){re[i], i};
    }
    qsort(e, pl.n_entries, sizeof(*e), entry_cmp);
    plan_layout(&pl, e, n);
    if ((s = set_place(a, arena, pl.total)) != NULL)
        set_fill(s, &pl, re, n, e);
out:
    rp__free(a, e);
    return s;
}

/* Free a set made without an arena; NULL and arena sets are no-ops.  The
 * patterns are not freed. */
void
rp__regex_set_free(rp__regex_set *s)
{
    rp__alloc a;

    if (s == NULL || s->in_arena)
        return;
    a = s->alloc;
    rp__free(&a, s);
}

/* Record every distinct literal of the table that occurs at @p at in the
 * lowercased subject; -1 when more than SET_FOUND_MAX are present. */
static int
probe(const rp__regex_set *s,
      uint32_t key,
      const unsigned char *low,
      size_t len,
      size_t at,
      uint32_t *found,
      size_t *n_found)
{
    for (uint32_t g = s->buckets[set_bucket(s, key)]; g != SET_NONE;
         g = s->groups[g].next) {
        const set_group *gr = &s->groups[g];
        size_t k = 0;

        if (gr->key != key || gr->lit_len > len - at ||
            memcmp(s->lits + gr->lit, low + at, gr->lit_len) != 0)
            continue;
        while (k < *n_found && found[k] != g)
            k++;
        if (k < *n_found)
            continue;
        if (*n_found == SET_FOUND_MAX)
            return -1;
        found[(*n_found)++] = g;
    }
    return 0;
}

/* One pass over the lowercased subject; -1 when too many literals hit. */
static int
scan_literals(const rp__regex_set *s,
              const unsigned char *low,
              size_t len,
              uint32_t *found,
              size_t *n_found)
{
    *n_found = 0;
    for (size_t i = 0; i + 2 <= len; i++) {
        if (s->has_long && i + 4 <= len &&
            probe(s, lit_key(low + i, 4), low, len, i, found, n_found) != 0)
            return -1;
        if (s->has_short &&
            probe(s, lit_key(low + i, 2), low, len, i, found, n_found) != 0)
            return -1;
    }
    return 0;
}

/* Every pattern in order: the answer for subjects the filter cannot take. */
static int
run_all(const rp__regex_set *s,
        const char *subject,
        size_t len,
        rp__scratch *scratch,
        uint32_t *index)
{
    for (uint32_t i = 0; i < s->n; i++) {
        int r = match_prepared(s->re[i], subject, len, scratch);
        if (r != 0) {
            *index = i;
            return r;
        }
    }
    return 0;
}

static inline bool
has_byte(const uint64_t present[4], int32_t byte)
{
    return byte < 0 || (present[byte >> 6] >> (byte & 63) & 1) != 0;
}

/* The candidates in index order: the plain patterns whose byte is present
 * merged with the lists of the literals found. */
static int
run_candidates(const rp__regex_set *s,
               const char *subject,
               size_t len,
               const uint64_t present[4],
               const uint32_t *found,
               size_t n_found,
               rp__scratch *scratch,
               uint32_t *index)
{
    const uint32_t *head[SET_FOUND_MAX], *end[SET_FOUND_MAX];
    uint32_t p = 0;

    for (size_t k = 0; k < n_found; k++) {
        head[k] = s->lists + s->groups[found[k]].list;
        end[k] = head[k] + s->groups[found[k]].n_list;
    }
    for (;;) {
        uint32_t best = UINT32_MAX;
        size_t from = SIZE_MAX;
        int r;

        while (p < s->n_plain && !has_byte(present, s->plain[p].byte))
            p++;
        if (p < s->n_plain) {
            best = s->plain[p].index;
            from = n_found;
        }
        for (size_t k = 0; k < n_found; k++) {
            if (head[k] < end[k] && *head[k] < best) {
                best = *head[k];
                from = k;
            }
        }
        if (from == SIZE_MAX)
            return 0;
        if (from == n_found)
            p++;
        else
            head[from]++;
        if ((r = match_prepared(s->re[best], subject, len, scratch)) != 0) {
            *index = best;
            return r;
        }
    }
}

/*
 * Find the first pattern of @p s, in order, that matches @p subject (@p len
 * bytes), without touching the heap.  Returns 1 with its index in *index,
 * 0 when none matches, -1 when a pattern that had to be tried failed (a
 * limit, scratch exhaustion) or on bad arguments (a NULL set included):
 * exactly what running rp__regex_match() over the patterns in order and
 * stopping at the first non-zero answer gives, except that a pattern
 * whose required literal is absent is not run, so it cannot fail.
 */
int
rp__regex_set_first(const rp__regex_set *s,
                    const char *subject,
                    size_t len,
                    rp__scratch *scratch,
                    uint32_t *index)
{
    unsigned char low[SET_SUBJECT_MAX];
    uint64_t present[4] = {0, 0, 0, 0};
    uint32_t found[SET_FOUND_MAX], dummy;
    size_t n_found;

    if (index == NULL)
        index = &dummy;
    if (s == NULL || scratch == NULL || scratch_prepare(scratch) != 0)
        return -1;
    if (subject == NULL) {
        if (len != 0)
            return -1;
        subject = "";
    }
    if (s->n == 0)
        return 0;
    if (len > SET_SUBJECT_MAX)
        return run_all(s, subject, len, scratch, index);
    for (size_t i = 0; i < len; i++) {
        unsigned char c =
            (unsigned char)rp__ascii_lower((unsigned char)subject[i]);
        low[i] = c;
        present[c >> 6] |= (uint64_t)1 << (c & 63);
    }
    if (scan_literals(s, low, len, found, &n_found) != 0)
        return run_all(s, subject, len, scratch, index);
    return run_candidates(s, subject, len, present, found, n_found, scratch,
                          index);
}
