/*
 * prefix_items.c - the statement behind a hit in a shared prefix list
 * (see prefix_items.h).
 *
 * An entry inside ::ffff:0:0/96 with a length of 96 or more (an IPv4
 * entry) is a record of 3 uint32: the address, tag << 8 | length, item;
 * any other one of 6: the four words of the key, tag << 8 | length, item.
 * Keys are cut to their length; records are sorted by key, then tag and
 * length, one per (key, tag, length).
 */
#include <stdlib.h>
#include <string.h>

#include "prefix_items.h"

typedef struct entry {
    uint32_t w[4]; /* the key cut to its length, big-endian words */
    uint32_t tl;   /* tag << 8 | length */
    uint32_t item;
    uint32_t seq; /* order of addition */
    uint32_t v4;
} entry;

struct rp__pitems_builder {
    rp__alloc alloc;
    entry *e;
    size_t n, cap;
};

/* The key of @p addr / @p plen: its words, and whether it is IPv4. */
static int
make_key(char tag, const uint8_t addr[16], unsigned plen, entry *out)
{
    uint8_t b[16];

    if (plen > 128)
        plen = 128;
    memcpy(b, addr, 16);
    for (unsigned i = 0; i < 16; i++) {
        unsigned bits = plen > i * 8 ? plen - i * 8 : 0;
        if (bits < 8)
            b[i] &= (uint8_t)(0xff00u >> bits);
    }
    for (unsigned i = 0; i < 4; i++)
        out->w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
                    (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
    out->tl = (uint32_t)(uint8_t)tag << 8 | plen;
    out->v4 =
        plen >= 96 && out->w[0] == 0 && out->w[1] == 0 && out->w[2] == 0xffffu;
    return (int)out->v4;
}

rp__pitems_builder *
rp__pitems_builder_new(const rp__alloc *a)
{
    rp__pitems_builder *b = rp__calloc(a, 1, sizeof(*b));

    if (b != NULL)
        b->alloc = *a;
    return b;
}

void
rp__pitems_builder_free(rp__pitems_builder *b)
{
    rp__alloc a;

    if (b == NULL)
        return;
    a = b->alloc;
    rp__free(&a, b->e);
    rp__free(&a, b);
}

int
rp__pitems_add(rp__pitems_builder *b,
               char tag,
               const uint8_t key[16],
               unsigned plen,
               uint32_t item)
{
    entry *e;

    if (b->n >= UINT32_MAX)
        return -1;
    e = rp__grow(&b->alloc, b->e, &b->cap, b->n + 1, sizeof(*e));
    if (e == NULL)
        return -1;
    b->e = e;
    make_key(tag, key, plen, &e[b->n]);
    e[b->n].item = item;
    e[b->n].seq = (uint32_t)b->n;
    b->n++;
    return 0;
}

static int
cmp_key(const entry *a, const entry *b)
{
    if (a->v4 != b->v4)
        return a->v4 < b->v4 ? -1 : 1;
    for (unsigned i = 0; i < 4; i++)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    if (a->tl != b->tl)
        return a->tl < b->tl ? -1 : 1;
    return 0;
}

static int
cmp_entry(const void *x, const void *y)
{
    const entry *a = x, *b = y;
    int c = cmp_key(a, b);

    if (c != 0)
        return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

int
rp__pitems_freeze(rp__pitems_builder *b, rp_policy *p)
{
    size_t n4 = 0, n6 = 0;
    uint32_t *v4, *v6;
    int rc = -1;

    qsort(b->e, b->n, sizeof(entry), cmp_entry);
    for (size_t i = 0; i < b->n; i++)
        if (i == 0 || cmp_key(&b->e[i - 1], &b->e[i]) != 0)
            *(b->e[i].v4 ? &n4 : &n6) += 1;
    v4 = rp__arena_alloc(&p->arena, &p->alloc, (n4 * 3 + 1) * 4);
    v6 = rp__arena_alloc(&p->arena, &p->alloc, (n6 * 6 + 1) * 4);
    if (v4 != NULL && v6 != NULL) {
        p->prefix_items.v4 = v4;
        p->prefix_items.n4 = (uint32_t)n4;
        p->prefix_items.v6 = v6;
        p->prefix_items.n6 = (uint32_t)n6;
        for (size_t i = 0; i < b->n; i++) {
            const entry *e = &b->e[i];
            if (i > 0 && cmp_key(&b->e[i - 1], e) == 0)
                continue; /* the first statement keeps it */
            if (e->v4) {
                v4[0] = e->w[3];
                v4[1] = e->tl;
                v4[2] = e->item;
                v4 += 3;
            } else {
                memcpy(v6, e->w, sizeof(e->w));
                v6[4] = e->tl;
                v6[5] = e->item;
                v6 += 6;
            }
        }
        rc = 0;
    }
    rp__pitems_builder_free(b);
    return rc;
}

/* Binary search of @p n records of @p w words, each key then tl, item. */
static uint32_t
search(const uint32_t *rec, uint32_t n, unsigned w, const uint32_t *key)
{
    uint32_t lo = 0, hi = n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const uint32_t *r = rec + (size_t)mid * w;
        int c = 0;

        for (unsigned i = 0; c == 0 && i + 1 < w; i++)
            if (r[i] != key[i])
                c = r[i] < key[i] ? -1 : 1;
        if (c == 0)
            return r[w - 1];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return RP__NONE;
}

uint32_t
rp__pitem_find(const rp_policy *p,
               char tag,
               const uint8_t addr[16],
               uint8_t plen,
               uint32_t fallback)
{
    const rp__pitems *t = &p->prefix_items;
    uint32_t key[5], item;
    entry e;

    if (plen > 128)
        return fallback;
    if (make_key(tag, addr, plen, &e)) {
        key[0] = e.w[3];
        key[1] = e.tl;
        item = t->v4 != NULL ? search(t->v4, t->n4, 3, key) : RP__NONE;
    } else {
        memcpy(key, e.w, sizeof(e.w));
        key[4] = e.tl;
        item = t->v6 != NULL ? search(t->v6, t->n6, 6, key) : RP__NONE;
    }
    return item < p->n_items ? item : fallback;
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
