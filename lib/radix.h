/*
 * radix.h - which prefix lists contain an address (radix.c).
 *
 * Prefixes are added with a list id; after freezing, a lookup answers, for
 * every list, the longest prefix of that list containing the address (or
 * RP__NOMATCH).  One walk answers every list at once.  Address families
 * as relaypolicy(7) §2 has them: an IPv4 address (a key inside
 * ::ffff:0:0/96) is matched by the prefixes inside that block only, so an
 * IPv6 prefix containing the whole block (::/8, ::/64, ::/0) never matches
 * it.
 *
 * The table's layout is private to the radix files (radix_table.h).
 */
#ifndef RP_RADIX_H
#define RP_RADIX_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

#define RP__NOMATCH 0xFF

typedef struct rp__radix_builder rp__radix_builder;
typedef struct rp__radix rp__radix;

rp__radix_builder *rp__radix_builder_new(const rp__alloc *a);
/* @plen is in 0..128 over the 16-byte key.  Returns 0, -1 on no memory. */
int rp__radix_add(rp__radix_builder *b,
                  const uint8_t key[16],
                  unsigned plen,
                  uint32_t list);
/* Freeze into an immutable table answering @p n_lists lists (every list id
 * added must be below it).  The builder is consumed (freed) either way.
 * Returns NULL on no memory. */
rp__radix *rp__radix_freeze(rp__radix_builder *b, uint32_t n_lists);
void rp__radix_builder_free(rp__radix_builder *b);
/* The per-list match record for @p key: an array of n_lists bytes, each the
 * longest matching prefix length (0..128, IPv6 terms) or RP__NOMATCH.
 * Never NULL for a non-NULL table.  Never allocates. */
const uint8_t *rp__radix_lookup(const rp__radix *r, const uint8_t key[16]);
/* Faster path for IPv4 (host order); same answer as the ::ffff: key. */
const uint8_t *rp__radix_lookup4(const rp__radix *r, uint32_t addr);
/* The records of @p n addresses at once, into @p out[0..n): the same
 * answers as one call each, with the walks' cache misses overlapped. */
void rp__radix_lookup_batch(const rp__radix *r,
                            const uint8_t *const *keys,
                            size_t n,
                            const uint8_t **out);
void rp__radix_lookup4_batch(const rp__radix *r,
                             const uint32_t *addrs,
                             size_t n,
                             const uint8_t **out);
size_t rp__radix_memory(const rp__radix *r);
void rp__radix_free(rp__radix *r);
/* radix_check.c: 0 when every lookup in @p r (read from a file) stays in
 * its parts, -1 when damaged.  Constant time: lookups bound what they
 * read from the heap themselves (radix_table.h). */
int rp__radix_check(const rp__radix *r, const rp__alloc *a);

#endif /* RP_RADIX_H */
