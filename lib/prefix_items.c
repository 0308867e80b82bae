/*
 * prefix_items.c - the statement behind a hit in a shared prefix list
 * (see prefix_items.h).
 */
#include <string.h>

#include "prefix_items.h"
#include "radix.h"

/* Tag, length, then the address bytes the prefix covers: from byte 12
 * for a prefix inside ::ffff:0:0/96 (an IPv4 entry), so that one is at
 * most 6 bytes; the lengths keep the two forms apart. */
#define KEY_MAX (2 + 16)

static const uint8_t v4_block[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static size_t
make_key(char tag, const uint8_t addr[16], unsigned plen, char out[KEY_MAX])
{
    uint8_t b[16];
    size_t from = 0, to;

    if (plen > 128)
        plen = 128;
    memcpy(b, addr, 16);
    for (unsigned i = 0; i < 16; i++) {
        unsigned bits = plen > i * 8 ? plen - i * 8 : 0;
        if (bits < 8)
            b[i] &= (uint8_t)(0xff00u >> bits);
    }
    to = (plen + 7) / 8;
    if (plen >= 96 && memcmp(b, v4_block, 12) == 0)
        from = 12;
    out[0] = tag;
    out[1] = (char)plen;
    memcpy(out + 2, b + from, to - from);
    return 2 + to - from;
}

int
rp__pitem_add(rp__strmap_builder *mb,
              char tag,
              const uint8_t key[16],
              unsigned plen,
              uint32_t item)
{
    char k[KEY_MAX];
    size_t n = make_key(tag, key, plen, k);

    return rp__strmap_add(mb, k, n, item) < 0 ? -1 : 0;
}

uint32_t
rp__pitem_find(const rp_policy *p,
               char tag,
               const uint8_t addr[16],
               uint8_t plen,
               uint32_t fallback)
{
    char k[KEY_MAX];
    uint32_t item = RP__NONE;
    size_t n;

    if (p->prefix_items == NULL || plen > 128)
        return fallback;
    n = make_key(tag, addr, plen, k);
    if (rp__strmap_get(p->prefix_items, k, n, &item) != 1 || item >= p->n_items)
        return fallback;
    return item;
}

uint32_t
rp__deny_client_item(const rp_policy *p,
                     const uint8_t *crec,
                     const uint8_t addr[16],
                     uint32_t i)
{
    uint32_t list = p->deny_client_lists[i];

    if (list != p->deny_literal_list)
        return p->deny_client_items[i];
    return rp__pitem_find(p, RP__PITEM_DENY, addr, crec[list],
                          p->deny_client_items[i]);
}
