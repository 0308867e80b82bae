/*
 * radix_check.c - checking a prefix table read from a file before any
 * lookup runs on it.
 *
 * A table from a compiled policy file may be damaged or hostile.  Its
 * nodes and blobs are not visited here (that would be a cache miss per
 * blob on every open): radix_lookup.c bounds what it reads from them
 * instead (radix_table.h: offsets past the heap read offset 0, node
 * indexes are masked, blob key counts and widths capped, the slack after
 * the heap covers the largest reach), its walks have a fixed depth, and
 * record ids are bounded by n_recs.  What the lookups take as given is
 * checked here, in time independent of the table's size: the value width
 * they shift by, the geometry of the first strides (their sizes against
 * the parts were checked by the reader) and of the host table, whose
 * probe count bounds its loop.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "radix.h"
#include "radix_table.h"

static bool
trie_ok(const rp__rx_trie *t)
{
    if (t->dir == NULL)
        return true;
    return t->bits >= 1 && t->bits <= 32 && t->wn != 0 &&
           t->wn <= ((uint64_t)1 << t->bits) &&
           t->w0 <= ((uint64_t)1 << t->bits) - t->wn;
}

static bool
hash_ok(const rp__radix *r)
{
    const rp__rx_hash *h = &r->h6;

    if (h->nb == 0)
        return h->probes == 0;
    return h->b != NULL && h->slots >= 1 && h->rw >= 1 && h->rw <= 4 &&
           16 * h->slots + h->rw * (h->slots - 1) + 4 <= 64 &&
           h->probes <= h->nb + 2;
}

/*
 * Check a table whose parts come from a file: 0 when every lookup stays
 * inside them, -1 when it is damaged.  The caller has checked the sizes
 * of the parts: recs holds n_recs * n_lists bytes, the heap heap_len plus
 * RP__RX_PAD readable bytes, each first stride wn entries, lo_root n_lo
 * entries, the host table nb buckets of 64 bytes.  Nothing is allocated
 * (@p a is kept for the callers).
 */
int
rp__radix_check(const rp__radix *r, const rp__alloc *a)
{
    (void)a;
    if (r->n_recs == 0 || r->vw < 1 || r->vw > 4 || r->heap == NULL ||
        r->heap_len >= RP__RX_PAYLOAD || (r->n_lo != 0 && r->lo_root == NULL))
        return -1;
    return trie_ok(&r->t4) && trie_ok(&r->t6) && hash_ok(r) ? 0 : -1;
}
