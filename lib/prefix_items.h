/*
 * prefix_items.h - which statement an entry of a shared prefix list came
 * from (prefix_items.c).
 *
 * Every literal `deny client` entry goes into one radix list, and every
 * `trusted-proxy` entry into another, so that the prefix table does not
 * grow with the number of statements.  A hit gives the longest matching
 * prefix of the list; the client's address cut to that length and the
 * length find the entry's item in sorted arrays (policy.h, rp__pitems).
 * They are searched only on a hit, and built only when a list holds two
 * or more entries.
 */
#ifndef RP_PREFIX_ITEMS_H
#define RP_PREFIX_ITEMS_H

#include <stdint.h>

#include "alloc.h"
#include "policy.h"

/* The kind of list an entry is in: part of the key. */
#define RP__PITEM_DENY 'd'
#define RP__PITEM_PROXY 'p'

typedef struct rp__pitems_builder rp__pitems_builder;

rp__pitems_builder *rp__pitems_builder_new(const rp__alloc *a);
/* Add the entry @p key / @p plen (IPv6 terms) of a @p tag list with its
 * @p item; of two equal entries the first added is kept.  0, or -1 on no
 * memory. */
int rp__pitems_add(rp__pitems_builder *b,
                   char tag,
                   const uint8_t key[16],
                   unsigned plen,
                   uint32_t item);
/* The sorted arrays into @p p's arena (p->prefix_items).  Consumes the
 * builder; 0, or -1 on no memory. */
int rp__pitems_freeze(rp__pitems_builder *b, rp_policy *p);
void rp__pitems_builder_free(rp__pitems_builder *b);

/* The item of the entry of a @p tag list that @p addr matched with the
 * prefix length @p plen (IPv6 terms, as the radix record has it);
 * @p fallback when there is none or it names an item out of range (a
 * damaged file).  Never allocates. */
uint32_t rp__pitem_find(const rp_policy *p,
                        char tag,
                        const uint8_t addr[16],
                        uint8_t plen,
                        uint32_t fallback);

/* Step 2: the statement that blocked the client whose radix record is
 * @p crec, deny-client list @p i having matched. */
uint32_t rp__deny_client_item(const rp_policy *p,
                              const uint8_t *crec,
                              const uint8_t addr[16],
                              uint32_t i);

#endif /* RP_PREFIX_ITEMS_H */
