/*
 * radix_check.c - checking a prefix table read from a file before any
 * lookup runs on it.  radix_lookup.c trusts the table it walks (that is
 * what keeps it fast); a table from a compiled policy file may be damaged
 * or hostile, so every entry a lookup can reach is checked here once:
 * blobs and nodes lie inside the heap (with the readable slack after it),
 * key and value widths are ones the lookup can shift by, node prefix
 * counts agree with the bitmaps, first strides and host tables have sane
 * geometry.  The walk is iterative and visits each node once.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "radix.h"
#include "radix_table.h"

static bool
blob_ok(const rp__radix *r, uint32_t off)
{
    const uint8_t *p = r->heap + off;
    size_t m, kw;

    if (off > r->heap_len || r->heap_len - off < 3)
        return false;
    m = (size_t)p[0] | (size_t)p[1] << 8;
    kw = p[2];
    return kw >= 1 && kw <= 8 &&
           3 + m * kw + (m + 1) * r->vw <= r->heap_len - off;
}

/* A node's header: aligned, inside the heap, the first child present and
 * the prefix counts equal to the bitmap's.  Its child count in *cnt. */
static bool
node_ok(const rp__radix *r, uint32_t off, unsigned *cnt)
{
    const uint8_t *p = r->heap + off;
    unsigned sum = 0;

    if ((off & 7) != 0 || off > r->heap_len ||
        r->heap_len - off < RP__RX_NODE_HDR)
        return false;
    if ((rp__rx_ld_le64(p) & 1) == 0)
        return false;
    for (unsigned w = 0; w < 4; w++) {
        if (p[32 + w] != sum)
            return false;
        sum += rp__rx_popcount64(rp__rx_ld_le64(p + 8 * w));
    }
    *cnt = sum;
    return RP__RX_NODE_HDR + 4 * (size_t)sum <= r->heap_len - off;
}

typedef struct walk {
    const rp__alloc *a;
    const rp__radix *r;
    uint8_t *seen; /* one bit per 8 heap bytes: node pushed */
    uint32_t *stack;
    size_t n, cap;
    bool nomem;
} walk;

/* Check entry @p e; a node not seen yet goes on the stack. */
static bool
entry_ok(walk *w, uint32_t e)
{
    uint32_t off = e & RP__RX_PAYLOAD;
    uint32_t *s;

    switch (e >> 30) {
    case RP__RX_TAG_BLOB:
        return blob_ok(w->r, off);
    case RP__RX_TAG_NODE:
        if (off >= w->r->heap_len || (off & 7) != 0)
            return false;
        if ((w->seen[off >> 6] >> ((off >> 3) & 7)) & 1)
            return true;
        w->seen[off >> 6] |= (uint8_t)(1u << ((off >> 3) & 7));
        s = rp__grow(w->a, w->stack, &w->cap, w->n + 1, sizeof(*s));
        if (s == NULL) {
            w->nomem = true;
            return false;
        }
        w->stack = s;
        s[w->n++] = off;
        return true;
    default:
        return true; /* a value: lookups bound it by n_recs */
    }
}

/* Drain the stack: each node's header and children. */
static bool
drain(walk *w)
{
    while (w->n > 0) {
        uint32_t off = w->stack[--w->n];
        const uint8_t *kids = w->r->heap + off + RP__RX_NODE_HDR;
        unsigned cnt = 0;

        if (!node_ok(w->r, off, &cnt))
            return false;
        for (unsigned i = 0; i < cnt; i++)
            if (!entry_ok(w, rp__rx_ld_le32(kids + 4 * i)))
                return false;
    }
    return true;
}

static bool
trie_ok(walk *w, const rp__rx_trie *t)
{
    if (t->dir == NULL)
        return entry_ok(w, t->root) && drain(w);
    if (t->bits < 1 || t->bits > 32 || t->wn == 0 ||
        t->wn > ((uint64_t)1 << t->bits) ||
        t->w0 > ((uint64_t)1 << t->bits) - t->wn)
        return false;
    /* A first stride repeats its entries in runs: each is checked once,
     * with the header of the entry 16 ahead already on its way. */
    for (uint64_t i = 0; i < t->wn; i++) {
#if defined(__GNUC__) || defined(__clang__)
        if (i + 16 < t->wn &&
            (t->dir[i + 16] & RP__RX_PAYLOAD) < w->r->heap_len)
            __builtin_prefetch(w->r->heap + (t->dir[i + 16] & RP__RX_PAYLOAD));
#endif
        if ((i == 0 || t->dir[i] != t->dir[i - 1]) &&
            (!entry_ok(w, t->dir[i]) || !drain(w)))
            return false;
    }
    return true;
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
 * inside them, -1 when it is damaged, -2 on no memory.  The caller has
 * checked the sizes of the parts: recs holds n_recs * n_lists bytes, the
 * heap heap_len plus 80 readable bytes, each first stride wn entries,
 * lo_root n_lo entries, the host table nb buckets of 64 bytes.
 */
int
rp__radix_check(const rp__radix *r, const rp__alloc *a)
{
    walk w = {a, r, NULL, NULL, 0, 0, false};
    bool ok;

    if (r->n_recs == 0 || r->vw < 1 || r->vw > 4 || r->heap == NULL ||
        r->heap_len >= RP__RX_PAYLOAD || !blob_ok(r, 0) || !hash_ok(r))
        return -1;
    w.seen = rp__calloc(a, r->heap_len / 64 + 1, 1);
    if (w.seen == NULL)
        return -2;
    ok = trie_ok(&w, &r->t4) && trie_ok(&w, &r->t6);
    for (uint32_t i = 0; ok && i < r->n_lo; i++)
        ok = entry_ok(&w, r->lo_root[i]) && drain(&w);
    rp__free(a, w.seen);
    rp__free(a, w.stack);
    return ok ? 0 : w.nomem ? -2 : -1;
}
