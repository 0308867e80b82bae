/*
 * prefix_items.h - which statement an entry of a shared prefix list came
 * from (prefix_items.c).
 *
 * Every literal `deny client` entry goes into one radix list, and every
 * `trusted-proxy` entry into another, so that the prefix table does not
 * grow with the number of statements.  A hit gives the longest matching
 * prefix of the list; the client's address cut to that length and the
 * length are the key of a string map to the entry's item.  The map is
 * looked up only on a hit, and only when the list holds the entries of
 * two or more items.
 */
#ifndef RP_PREFIX_ITEMS_H
#define RP_PREFIX_ITEMS_H

#include <stdbool.h>
#include <stdint.h>

#include "domains.h"
#include "policy.h"

/* The kind of list an entry is in: part of the key. */
#define RP__PITEM_DENY 'd'
#define RP__PITEM_PROXY 'p'

/* Add the entry @p key / @p plen (IPv6 terms) of a @p tag list with its
 * @p item; an entry already there keeps its first item.  0, or -1 on no
 * memory. */
int rp__pitem_add(rp__strmap_builder *mb,
                  char tag,
                  const uint8_t key[16],
                  unsigned plen,
                  uint32_t item);

/* The item of the entry of a @p tag list that @p addr matched with the
 * prefix length @p plen (IPv6 terms, as the radix record has it);
 * @p fallback when the map has none or names an item out of range (a
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
