/*
 * rp_regex.h - bounded PCRE2 matching without allocation at match time
 * (regex.c, regex_literal.c).  Not "regex.h": lib/ is on the include path
 * and <regex.h> is the C library's.
 */
#ifndef RP_REGEX_H
#define RP_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

typedef struct rp__regex rp__regex;

/* Per-call scratch memory: PCRE2 match data and any interpreter frames are
 * carved out of it, never from the heap.  A workspace's scratch also has
 * its own match context with a JIT stack, and a budget of match steps. */
#define RP__SCRATCH_BYTES 24576
typedef struct rp__scratch {
    size_t used;
    void *match_data; /* created on first use */
    void *gcontext;
    void *mcontext;  /* workspace only: limits, JIT stack */
    void *hcontext;  /* workspace only: heap context of the two */
    void *jit_stack; /* workspace only */
    uint32_t match_limit;
    bool spent;      /* the budget ran out in this decision */
    uint64_t budget; /* match steps left (workspace only) */
    _Alignas(16) unsigned char buf[RP__SCRATCH_BYTES];
} rp__scratch;

/* A scratch for one-off matching (compile, lint): no budget. */
void rp__scratch_init(rp__scratch *s);
/* A workspace's scratch: match data, match context and JIT stack made
 * once, with @p a.  Returns 0, -1 on no memory (release it either way). */
int rp__scratch_setup(rp__scratch *s, const rp__alloc *a);
void rp__scratch_release(rp__scratch *s, const rp__alloc *a);
/* Start a decision on a workspace's scratch: the policy's limits, and
 * @p budget match steps for every regex run of the decision together. */
void rp__scratch_begin(rp__scratch *s,
                       uint32_t match_limit,
                       uint32_t depth_limit,
                       uint32_t budget);

/* Compile case-insensitively (JIT unless RP_OPT_NO_JIT) into *@p out.
 * Returns RP_OK, RP_E_REGEX, RP_E_NOMEM or RP_E_INTERNAL; on failure
 * writes a message to @p why (and the pattern offset). */
rp_status rp__regex_compile(const rp__alloc *a,
                            const char *pattern,
                            size_t len,
                            uint32_t opt_flags,
                            uint32_t match_limit,
                            uint32_t depth_limit,
                            rp__regex **out,
                            char *why,
                            size_t why_size,
                            size_t *erroffset);
/* 1 match, 0 no match, -1 error (match limit, depth limit, no memory). */
int rp__regex_match(const rp__regex *re,
                    const char *subject,
                    size_t len,
                    rp__scratch *scratch);
void rp__regex_free(rp__regex *re);
/* The pattern text @p re was compiled from (NUL-terminated). */
const char *rp__regex_source(const rp__regex *re, size_t *len);
/* The literal every match of @p re holds (lowercased, cut to @p size);
 * returns its length, 0 when none is known. */
size_t rp__regex_literal(const rp__regex *re, char *buf, size_t size);

/* An ordered set of compiled regexes (borrowed) with a literal prefilter:
 * the first pattern that matches, running only those that can.  With
 * @p arena the set lives in that policy arena (see rp__arena_alloc);
 * otherwise free it with rp__regex_set_free().  NULL on no memory. */
typedef struct rp__regex_set rp__regex_set;
rp__regex_set *rp__regex_set_new(const rp__alloc *a,
                                 void **arena,
                                 rp__regex *const *re,
                                 uint32_t n);
/* 1 and the lowest matching index, 0 none, -1 error (as the in-order loop
 * of rp__regex_match would; a pattern whose literal is absent is skipped). */
int rp__regex_set_first(const rp__regex_set *s,
                        const char *subject,
                        size_t len,
                        rp__scratch *scratch,
                        uint32_t *index);
void rp__regex_set_free(rp__regex_set *s);

/* regex_literal.c: the longest literal every match of pattern @p p needs,
 * lowercased, cut to @p max bytes; 0 when none is certain. */
size_t
rp__regex_text_literal(const char *p, size_t n, unsigned char *out, size_t max);

#endif /* RP_REGEX_H */
