/*
 * domains.h - string maps and domain pattern tables (domains.c).
 */
#ifndef RP_DOMAINS_H
#define RP_DOMAINS_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "rp_regex.h"

/* An immutable hash map from byte strings to uint32 values.  Keys are
 * compared exactly: callers lowercase before adding and looking up. */
typedef struct rp__strmap rp__strmap;
typedef struct rp__strmap_builder rp__strmap_builder;

rp__strmap_builder *rp__strmap_builder_new(const rp__alloc *a);
/* Adds or, when the key exists, keeps the first value and returns 1.
 * Returns 0 when added, -1 on no memory. */
int rp__strmap_add(rp__strmap_builder *b,
                   const char *key,
                   size_t len,
                   uint32_t value);
/* Consumes the builder; NULL on no memory. */
rp__strmap *rp__strmap_freeze(rp__strmap_builder *b);
void rp__strmap_builder_free(rp__strmap_builder *b);
/* Every key and value, until @p fn returns non-zero (returned). */
int rp__strmap_each(
    const rp__strmap *m,
    int (*fn)(void *ctx, const char *key, size_t len, uint32_t value),
    void *ctx);
/* A lookup in a map still being built (same answer as rp__strmap_get). */
int rp__strmap_builder_get(const rp__strmap_builder *b,
                           const char *key,
                           size_t len,
                           uint32_t *value);
/* 1 and *value on a hit, 0 on a miss.  NULL map: miss. */
int rp__strmap_get(const rp__strmap *m,
                   const char *key,
                   size_t len,
                   uint32_t *value);
size_t rp__strmap_count(const rp__strmap *m);
/* The hash of @p key as rp__strmap_get() computes it; a prefetch of its
 * slot, and a lookup with the hash already known (same answer). */
uint32_t rp__strmap_hash(const char *key, size_t len);
void rp__strmap_prefetch(const rp__strmap *m, uint32_t hash);
/* Once the slot is cached: prefetch the key bytes a lookup compares. */
void rp__strmap_prefetch_key(const rp__strmap *m, uint32_t hash);
int rp__strmap_get_hashed(const rp__strmap *m,
                          const char *key,
                          size_t len,
                          uint32_t hash,
                          uint32_t *value);

void rp__strmap_free(rp__strmap *m);

/* A map's table as it lies in memory, for the compiled policy file: n
 * slots of four host-order uint32 (hash, value, key offset, key length;
 * offset UINT32_MAX: empty), and the key bytes. */
typedef struct rp__strmap_parts {
    const uint32_t *slots;
    size_t n_slots; /* a power of two */
    size_t count;
    const char *keys;
    size_t keys_len;
} rp__strmap_parts;
void rp__strmap_parts_get(const rp__strmap *m, rp__strmap_parts *out);
/* A map over parts kept by the caller for the map's life (a mapped
 * file); rp__strmap_free() frees only the map itself.  Lookups check
 * every key's bounds, so damaged parts give wrong answers, never a read
 * outside them.  NULL on no memory or parts that are not a table. */
rp__strmap *rp__strmap_borrow(const rp__alloc *a, const rp__strmap_parts *in);

/* A domain pattern table: exact names, ".suffix" (the domain and every
 * subdomain) and "/regex/" patterns, each with a uint32 value.  A lookup
 * takes the most specific match: exact, then the longest suffix, then the
 * first regex in insertion order. */
typedef struct rp__domtab rp__domtab;
typedef struct rp__domtab_builder rp__domtab_builder;

typedef enum rp__dompat {
    RP__DOMPAT_EXACT = 1,
    RP__DOMPAT_SUFFIX = 2,
    RP__DOMPAT_REGEX = 3
} rp__dompat;

rp__domtab_builder *rp__domtab_builder_new(const rp__alloc *a,
                                           uint32_t opt_flags,
                                           uint32_t match_limit,
                                           uint32_t depth_limit);
/* Where a regex pattern is taken from already compiled, before it is
 * compiled here: @p take returns the regex for "/.../" (which the table
 * then owns) or NULL. */
typedef rp__regex *(*rp__regex_take_fn)(void *ctx,
                                        const char *pattern,
                                        size_t len);
void rp__domtab_builder_take(rp__domtab_builder *b,
                             rp__regex_take_fn take,
                             void *ctx);
/* Adds @p pattern (classified by its syntax; lowercased, one trailing dot
 * dropped).  Returns 0 added, 1 duplicate pattern (existing value in
 * *existing), RP__DOMTAB_BAD with a message in @p why for a bad pattern,
 * RP__DOMTAB_NOMEM for no memory. */
#define RP__DOMTAB_BAD (-1)
#define RP__DOMTAB_NOMEM (-2)
int rp__domtab_add(rp__domtab_builder *b,
                   const char *pattern,
                   size_t len,
                   uint32_t value,
                   uint32_t *existing,
                   char *why,
                   size_t why_size);
rp__domtab *rp__domtab_freeze(rp__domtab_builder *b);
void rp__domtab_builder_free(rp__domtab_builder *b);
/* A domain (lowercased, no trailing dot) ready for lookups: its hash, the
 * one every map computes for the whole name, and its number of labels.
 * Made once, it serves every table the domain is looked up in. */
typedef struct rp__domkey {
    const char *name;
    size_t len;
    uint32_t hash;
    size_t labels;
} rp__domkey;
void rp__domkey_make(rp__domkey *k, const char *domain, size_t len);

/* Look up a lowercased domain without trailing dot.  1 hit (*value, and
 * *kind the kind of pattern that matched), 0 miss, -1 regex failure. */
int rp__domtab_lookup(const rp__domtab *t,
                      const char *domain,
                      size_t len,
                      rp__scratch *scratch,
                      uint32_t *value,
                      rp__dompat *kind);
/* rp__domtab_lookup() of a domain key (same answer). */
int rp__domtab_lookup_key(const rp__domtab *t,
                          const rp__domkey *key,
                          rp__scratch *scratch,
                          uint32_t *value,
                          rp__dompat *kind);
/* Prefetch the exact-pattern slot a lookup of @p k reads: 1 when there is
 * one, for the second stage (rp__domtab_prefetch_key() with k->hash) that
 * prefetches the key bytes once the slot is cached. */
int rp__domtab_prefetch(const rp__domtab *t, const rp__domkey *k);
void rp__domtab_prefetch_key(const rp__domtab *t, uint32_t hash);
/* The regex patterns of @p t in insertion order: how many, and the
 * @p i-th with its value in *@p value (the one compile of each, for lint
 * to reuse). */
size_t rp__domtab_regex_count(const rp__domtab *t);
const rp__regex *
rp__domtab_regex(const rp__domtab *t, size_t i, uint32_t *value);
void rp__domtab_free(rp__domtab *t);
/* A frozen table's pieces, for the compiled policy file. */
typedef struct rp__domtab_parts {
    rp__strmap *exact;
    rp__strmap *suffix;
    uint64_t exact_labels;
    uint64_t suffix_labels;
    rp__regex **regex;
    uint32_t *regex_value;
    size_t n_regex;
} rp__domtab_parts;
void rp__domtab_parts_get(const rp__domtab *t, rp__domtab_parts *out);
/* A table from pieces (allocated with @p a), which it takes over whether
 * it succeeds or not.  NULL on no memory. */
rp__domtab *rp__domtab_assemble(const rp__alloc *a, const rp__domtab_parts *in);

#endif /* RP_DOMAINS_H */
