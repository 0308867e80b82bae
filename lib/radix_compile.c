/*
 * radix_compile.c - the compiled form of the prefix table, built from the
 * ranges of the sweep in radix.c.
 *
 * A trie maps a 64-bit key to a value through 32-bit entries: a value, a
 * blob (a sorted run of at most RX_BLOB_MAX ranges, keys cut to the bytes
 * they need) or a node (the next 8 bits, children compressed with a bitmap
 * as in Poptrie).  IPv4 values are record ids.  An IPv6 value is twice a
 * record id or, in the high-half trie, twice (n_recs + i) for low-half trie
 * i of a /64 with longer prefixes; plus one when a host of the exact-match
 * table lies in the range.
 * IPv4 keys live in their own trie (the /96 of ::ffff:0:0 rebased), IPv4
 * hosts cut its ranges like any prefix, and IPv6 hosts go to an exact-match
 * table.  radix_lookup.c reads what is built here.  Every multi-byte
 * value in the heap and the host tables is little-endian, whatever the
 * host (rp__rx_st_le).
 */
#include <string.h>

#include "alloc.h"
#include "radix.h"
#include "radix_table.h"
#include "relaypolicy.h"

#define RX_BLOB_MAX 24     /* ranges in a blob that could still be a node */
#define RX_BLOB_MAX4 48    /* the same in the IPv4 trie, where keys are short */
#define RX_DIR_MIN 8192    /* ranges from which a first stride pays */
#define RX_DIR_KEYS 4      /* fewest keys per first-stride entry */
#define RX_DIR_BITS_MAX 24 /* longest first stride */
#define RX_LOAD 80         /* most percent of host slots used */

static unsigned
bytes_for(uint64_t max)
{
    unsigned w = 1;

    while (w < 8 && (max >> (8 * w)) != 0)
        w++;
    return w;
}

/* A sorted range list over 64-bit keys; k[0] is 0. */
typedef struct rx_kv {
    uint64_t *k;
    uint32_t *v;
    size_t n;
    size_t cap;
    size_t vcap;
} rx_kv;

/* ---- range lists, which the sweep (radix.c) and the merge below fill --- */

int
rp__rx_ranges_push(const rp__alloc *a,
                   rp__rx_ranges *r,
                   uint64_t hi,
                   uint64_t lo,
                   uint32_t rid)
{
    rp__rx_range *v = rp__grow(a, r->v, &r->cap, r->n + 1, sizeof(*v));

    if (v == NULL)
        return -1;
    r->v = v;
    v[r->n++] = (rp__rx_range){hi, lo, rid};
    return 0;
}

int
rp__rx_ranges_emit(const rp__alloc *a,
                   rp__rx_ranges *r,
                   uint64_t hi,
                   uint64_t lo,
                   uint32_t rid)
{
    if (r->n > 0 && r->v[r->n - 1].hi == hi && r->v[r->n - 1].lo == lo)
        r->n--;
    if (r->n > 0 && r->v[r->n - 1].rid == rid)
        return 0;
    return rp__rx_ranges_push(a, r, hi, lo, rid);
}

/* Appends like rp__rx_ranges_emit: same start replaces, equal neighbours
 * merge. */
static int
kv_emit(const rp__alloc *a, rx_kv *kv, uint64_t k, uint32_t v)
{
    uint64_t *nk;
    uint32_t *nv;

    if (kv->n > 0 && kv->k[kv->n - 1] == k)
        kv->n--;
    if (kv->n > 0 && kv->v[kv->n - 1] == v)
        return 0;
    nk = rp__grow(a, kv->k, &kv->cap, kv->n + 1, sizeof(*nk));
    if (nk == NULL)
        return -1;
    kv->k = nk;
    nv = rp__grow(a, kv->v, &kv->vcap, kv->n + 1, sizeof(*nv));
    if (nv == NULL)
        return -1;
    kv->v = nv;
    nk[kv->n] = k;
    nv[kv->n++] = v;
    return 0;
}

static void
kv_free(const rp__alloc *a, rx_kv *kv)
{
    rp__free(a, kv->k);
    rp__free(a, kv->v);
    memset(kv, 0, sizeof(*kv));
}

/* Trie construction state. */
typedef struct rx_build {
    const rp__alloc *a;
    uint8_t *heap;
    size_t len;
    size_t cap;
    size_t zeroed; /* the heap's bytes up to here are written or zero */
    unsigned vw;
    unsigned kbits;    /* significant key bits of the trie being built */
    unsigned blob_max; /* most ranges in a blob that could be a node */
    int hosts;         /* the IPv4 trie: blobs mark host ranges */
} rx_build;

/* Reserves @p size bytes of heap at a multiple of @p align. */
static int
heap_take(rx_build *bd, size_t size, size_t align, size_t *off)
{
    size_t at = (bd->len + align - 1) & ~(align - 1);
    size_t need = at + size + RP__RX_PAD;
    uint8_t *p;

    if (need > RP__RX_PAYLOAD)
        return -1;
    p = rp__grow(bd->a, bd->heap, &bd->cap, need, 1);
    if (p == NULL)
        return -1;
    bd->heap = p;
    if (need > bd->zeroed) {
        memset(p + bd->zeroed, 0, need - bd->zeroed);
        bd->zeroed = need;
    }
    bd->len = at + size;
    *off = at;
    return 0;
}

/* The ranges of a blob as stored: in the IPv4 trie a host range followed
 * by a return to the value before it is kept as one range, its value
 * marked (doubled plus one; other values doubled), and the range after it
 * dropped.  Fills @p k and @p v (at most @p n each); returns the count. */
static size_t
blob_ranges(const rx_build *bd,
            const rx_kv *kv,
            size_t i0,
            size_t i1,
            uint64_t *k,
            uint32_t *v)
{
    size_t n = 0;

    for (size_t i = i0; i < i1; i++) {
        int host = bd->hosts && i > i0 && i + 1 < i1 &&
                   kv->k[i + 1] - kv->k[i] == 1ull << 32 &&
                   kv->v[i + 1] << 1 == v[n - 1];

        k[n] = kv->k[i];
        v[n++] = bd->hosts ? kv->v[i] << 1 | (uint32_t)host : kv->v[i];
        i += (size_t)host;
    }
    return n;
}

/* A blob: u16 key count, u8 key width, keys, then one value per range.
 * The key width covers every range start, kept or dropped; in the IPv4
 * trie it is at least two bytes wherever more than 8 key bits remain, and
 * never three, so that radix_lookup.c compares keys in vector lanes and
 * its branch on the width, which follows from the depth, is predicted. */
static int
put_blob(rx_build *bd,
         const rx_kv *kv,
         size_t i0,
         size_t i1,
         unsigned d,
         uint32_t *entry)
{
    size_t n = i1 - i0, m, off;
    uint64_t bits = 0, *k;
    uint32_t *v;
    unsigned kw, tz = 0;
    uint8_t *p;
    int rc = -1;

    for (size_t i = i0 + 1; i < i1; i++)
        bits |= kv->k[i] << d;
    while (tz < 63 && ((bits >> tz) & 1) == 0)
        tz++;
    kw = (64 - tz + 7) / 8;
    if (bd->hosts && kw < 2 && bd->kbits - d > 8)
        kw = 2;
    if (bd->hosts && kw == 3)
        kw = 4;
    k = rp__malloc(bd->a, n * sizeof(*k));
    v = rp__malloc(bd->a, n * sizeof(*v));
    if (k == NULL || v == NULL)
        goto out;
    m = blob_ranges(bd, kv, i0, i1, k, v) - 1;
    if (m > RP__RX_BLOB_KEYS) /* not from a node's 256 children or less */
        goto out;
    if (heap_take(bd, 3 + m * kw + (m + 1) * bd->vw, 1, &off) < 0)
        goto out;
    p = bd->heap + off;
    rp__rx_st_le(p, m, 2);
    p[2] = (uint8_t)kw;
    for (size_t i = 0; i < m; i++)
        rp__rx_st_le(p + 3 + i * kw, (k[1 + i] << d) >> (64 - 8 * kw), kw);
    for (size_t i = 0; i <= m; i++)
        rp__rx_st_le(p + 3 + m * kw + i * bd->vw, v[i], bd->vw);
    *entry = RP__RX_TAG_BLOB << 30 | (uint32_t)off;
    rc = 0;
out:
    rp__free(bd->a, k);
    rp__free(bd->a, v);
    return rc;
}

/* An empty blob at heap offset 0: IPv4 lookups read it for value entries
 * so that they need not branch on the entry's kind. */
static int
put_empty_blob(rx_build *bd)
{
    size_t off;

    if (heap_take(bd, 3 + bd->vw, 1, &off) < 0)
        return -1;
    bd->heap[off + 2] = 1;
    return 0;
}

static int build_entry(rx_build *bd,
                       const rx_kv *kv,
                       size_t i0,
                       size_t i1,
                       uint64_t base,
                       unsigned d,
                       uint32_t *entry);

/* Writes a node from its 256 children, keeping one per run of equals. */
static int
put_node(rx_build *bd, const uint32_t child[256], uint32_t *entry)
{
    uint64_t bm[4] = {0, 0, 0, 0};
    unsigned cnt = 0;
    size_t off;
    uint8_t *p;

    for (unsigned j = 0; j < 256; j++) {
        if (j == 0 || child[j] != child[j - 1]) {
            bm[j >> 6] |= 1ull << (j & 63);
            cnt++;
        }
    }
    if (heap_take(bd, RP__RX_NODE_HDR + 4 * (size_t)cnt, 8, &off) < 0)
        return -1;
    p = bd->heap + off;
    for (unsigned w = 0; w < 4; w++)
        rp__rx_st_le(p + 8 * w, bm[w], 8);
    p[32] = 0;
    for (unsigned w = 1; w < 4; w++)
        p[32 + w] = (uint8_t)(p[31 + w] + rp__rx_popcount64(bm[w - 1]));
    cnt = 0;
    for (unsigned j = 0; j < 256; j++) {
        if (j == 0 || child[j] != child[j - 1])
            rp__rx_st_le(p + RP__RX_NODE_HDR + 4 * cnt++, child[j], 4);
    }
    *entry = RP__RX_TAG_NODE << 30 | (uint32_t)off;
    return 0;
}

/* Builds the children of [base, base + 2^(64-d)) over 8 more bits. */
static int
build_node(rx_build *bd,
           const rx_kv *kv,
           size_t i0,
           size_t i1,
           uint64_t base,
           unsigned d,
           uint32_t *entry)
{
    uint32_t child[256];
    unsigned shift = 56 - d;
    size_t i = i0;

    for (unsigned j = 0; j < 256; j++) {
        uint64_t lo = base + ((uint64_t)j << shift);
        uint64_t next = lo + (1ull << shift);
        size_t e;

        while (i + 1 < i1 && kv->k[i + 1] <= lo)
            i++;
        e = i + 1;
        while (e < i1 && (j == 255 || kv->k[e] < next))
            e++;
        if (build_entry(bd, kv, i, e, lo, d + 8, &child[j]) < 0)
            return -1;
        i = e - 1;
    }
    return put_node(bd, child, entry);
}

/* The entry for ranges i0..i1-1, the first covering @p base, under the
 * block of keys sharing @p base's top @p d bits. */
static int
build_entry(rx_build *bd,
            const rx_kv *kv,
            size_t i0,
            size_t i1,
            uint64_t base,
            unsigned d,
            uint32_t *entry)
{
    if (i1 - i0 == 1) {
        if (kv->v[i0] > RP__RX_PAYLOAD)
            return -1;
        *entry = kv->v[i0];
        return 0;
    }
    if (i1 - i0 <= bd->blob_max || d + 8 >= bd->kbits)
        return put_blob(bd, kv, i0, i1, d, entry);
    return build_node(bd, kv, i0, i1, base, d, entry);
}

/* The first stride for @p kv: the most bits whose window (the indexes
 * from the first key's to the last key's) has at most one entry per
 * RX_DIR_KEYS keys, and at least 16; 0 when the trie is small. */
static unsigned
dir_bits(const rx_kv *kv, unsigned kbits)
{
    unsigned bits = 16;

    if (kv->n < RX_DIR_MIN)
        return 0;
    while (bits < RX_DIR_BITS_MAX && bits + 8 < kbits) {
        unsigned b = bits + 1;
        uint64_t wn = (kv->k[kv->n - 1] >> (64 - b)) - (kv->k[1] >> (64 - b));

        if (wn + 1 > kv->n / RX_DIR_KEYS)
            break;
        bits = b;
    }
    return bits;
}

/* Builds the first-stride entries of @p t over its window. */
static int
build_dir(rx_build *bd, const rx_kv *kv, rp__rx_trie *t)
{
    unsigned shift = 64 - t->bits;
    size_t i = 0;

    for (uint64_t c = 0; c < t->wn; c++) {
        uint64_t lo = (t->w0 + c) << shift, next = lo + (1ull << shift);
        size_t e;

        while (i + 1 < kv->n && kv->k[i + 1] <= lo)
            i++;
        e = i + 1;
        while (e < kv->n && (c + 1 == t->wn || kv->k[e] < next))
            e++;
        if (build_entry(bd, kv, i, e, lo, t->bits, &t->dir[c]) < 0)
            return -1;
        i = e - 1;
    }
    return 0;
}

/* Builds a whole trie over @p kv, with a first stride when it is big.
 * Keys outside the stride's window fall in the first or last range. */
static int
build_trie(rx_build *bd,
           const rp__alloc *a,
           const rx_kv *kv,
           unsigned kbits,
           rp__rx_trie *t)
{
    bd->kbits = kbits;
    bd->blob_max = kbits == 32 ? RX_BLOB_MAX4 : RX_BLOB_MAX;
    bd->hosts = kbits == 32;
    t->bits = dir_bits(kv, kbits);
    if (t->bits == 0)
        return build_entry(bd, kv, 0, kv->n, 0, 0, &t->root);
    t->w0 = kv->k[1] >> (64 - t->bits);
    t->wn = (kv->k[kv->n - 1] >> (64 - t->bits)) - t->w0 + 1;
    t->below = kv->v[0];
    t->above = kv->v[kv->n - 1];
    if (t->below > RP__RX_PAYLOAD || t->above > RP__RX_PAYLOAD)
        return -1;
    t->dir = rp__malloc(a, t->wn * sizeof(*t->dir));
    if (t->dir == NULL)
        return -1;
    return build_dir(bd, kv, t);
}

/* ------------------------------------------------------------------------
 * Host tables
 * ------------------------------------------------------------------------ */

static void
hash_put(rp__rx_hash *h, uint8_t *fill, const rp__rx_range *host)
{
    uint32_t b = rp__rx_bucket(h->nb, host->hi, host->lo);
    uint32_t probes = 1;
    uint8_t *q;

    while (fill[b] == h->slots) {
        h->b[(size_t)b * 64 + 63] = 1; /* a key went on past this bucket */
        b = b + 1 == h->nb ? 0 : b + 1;
        probes++;
    }
    q = h->b + (size_t)b * 64;
    rp__rx_st_le(q + 16 * fill[b], host->hi, 8);
    rp__rx_st_le(q + 16 * fill[b] + 8, host->lo, 8);
    rp__rx_st_le(q + 16 * h->slots + h->rw * fill[b], host->rid, h->rw);
    fill[b]++;
    if (probes > h->probes)
        h->probes = probes;
}

/* Fills every key slot with the "no host" key. */
static void
hash_clear(rp__rx_hash *h, size_t nb)
{
    uint64_t ehi = 0, elo = RP__RX_V4_LO; /* mapped: never an IPv6 host */

    memset(h->b, 0, nb * 64);
    for (size_t b = 0; b < nb; b++) {
        for (unsigned s = 0; s < h->slots; s++) {
            uint8_t *q = h->b + b * 64 + 16 * (size_t)s;

            rp__rx_st_le(q, ehi, 8);
            rp__rx_st_le(q + 8, elo, 8);
        }
    }
}

/* Builds the IPv6 host table (IPv4 hosts go into the IPv4 trie). */
static int
build_hash(const rp__alloc *a,
           rp__rx_hash *h,
           const rp__rx_ranges *hosts,
           uint32_t n_recs)
{
    size_t nb, n = hosts->n;
    uint8_t *fill;

    h->rw = bytes_for(n_recs - 1);
    h->slots = 60 / (16 + h->rw);
    h->n = (uint32_t)n;
    if (n == 0)
        return 0;
    nb = (n * 100 + h->slots * RX_LOAD - 1) / (h->slots * RX_LOAD);
    if (nb > UINT32_MAX || (h->raw = rp__malloc(a, nb * 64 + 64)) == NULL)
        return -1;
    h->b = (uint8_t *)h->raw + (64 - ((uintptr_t)h->raw & 63)) % 64;
    h->nb = (uint32_t)nb;
    hash_clear(h, nb);
    fill = rp__calloc(a, nb, 1);
    if (fill == NULL)
        return -1;
    for (size_t i = 0; i < hosts->n; i++)
        hash_put(h, fill, &hosts->v[i]);
    rp__free(a, fill);
    return 0;
}
/* ------------------------------------------------------------------------
 * From ranges to tries
 * ------------------------------------------------------------------------ */

/* The IPv4 part of the ranges: those meeting ::ffff:0:0/96, rebased. */
static int
extract_v4(const rp__alloc *a, const rp__rx_ranges *rg, rx_kv *kv)
{
    size_t i = 0;

    while (i + 1 < rg->n && rg->v[i + 1].hi == 0 &&
           rg->v[i + 1].lo <= RP__RX_V4_LO)
        i++;
    if (kv_emit(a, kv, 0, rg->v[i].rid) < 0)
        return -1;
    for (i++; i < rg->n && rg->v[i].hi == 0 && rg->v[i].lo <= RP__RX_V4_END;
         i++) {
        if (kv_emit(a, kv, rg->v[i].lo << 32, rg->v[i].rid) < 0)
            return -1;
    }
    return 0;
}

/* Cuts the IPv4 hosts into the IPv4 ranges: a host gets its own
 * one-address range, then the range it was in resumes. */
static int
merge_hosts4(const rp__alloc *a,
             const rx_kv *in,
             const rp__rx_ranges *hosts,
             rx_kv *out)
{
    size_t i = 0;

    for (size_t h = 0; h < hosts->n; h++) {
        uint32_t addr = (uint32_t)hosts->v[h].lo, cover;
        uint64_t key = (uint64_t)addr << 32;

        for (; i < in->n && in->k[i] < key; i++) {
            if (kv_emit(a, out, in->k[i], in->v[i]) < 0)
                return -1;
        }
        cover = i < in->n && in->k[i] == key ? in->v[i++] : in->v[i - 1];
        if (kv_emit(a, out, key, hosts->v[h].rid) < 0 ||
            (addr != UINT32_MAX &&
             kv_emit(a, out, key + (1ull << 32), cover) < 0))
            return -1;
    }
    for (; i < in->n; i++) {
        if (kv_emit(a, out, in->k[i], in->v[i]) < 0)
            return -1;
    }
    return 0;
}

/* The ranges without the mapped block (IPv4 lookups never get there). */
static int
drop_mapped(const rp__alloc *a, const rp__rx_ranges *rg, rp__rx_ranges *out)
{
    uint32_t cur = 0;
    size_t i = 0;

    for (; i < rg->n && rg->v[i].hi == 0 && rg->v[i].lo < RP__RX_V4_LO; i++) {
        if (rp__rx_ranges_emit(a, out, 0, rg->v[i].lo, rg->v[i].rid) < 0)
            return -1;
    }
    cur = rg->v[i - 1].rid;
    for (; i < rg->n && rg->v[i].hi == 0 && rg->v[i].lo <= RP__RX_V4_END; i++)
        cur = rg->v[i].rid;
    if (rp__rx_ranges_emit(a, out, 0, RP__RX_V4_END + 1, cur) < 0)
        return -1;
    for (; i < rg->n; i++) {
        const rp__rx_range *g = &rg->v[i];

        if (rp__rx_ranges_emit(a, out, g->hi, g->lo, g->rid) < 0)
            return -1;
    }
    return 0;
}

/* A /64 whose ranges start below it: ranges [first, end) of the list. */
typedef struct rx_lo {
    uint32_t cover; /* the value at offset 0 of the /64 */
    size_t first;
    size_t end;
} rx_lo;

typedef struct rx_split {
    rx_kv hi;
    rx_lo *lo;
    size_t n_lo;
    size_t lo_cap;
} rx_split;

/* Splits IPv6 ranges into the high-half list and per-/64 low lists. */
static int
split_v6(const rp__alloc *a,
         const rp__rx_ranges *rg,
         uint32_t n_recs,
         rx_split *sp)
{
    for (size_t i = 0; i < rg->n;) {
        uint64_t h = rg->v[i].hi;
        size_t j = i + 1;
        uint32_t ref;
        rx_lo *lo;

        while (j < rg->n && rg->v[j].hi == h)
            j++;
        if (j == i + 1 && rg->v[i].lo == 0) {
            if (kv_emit(a, &sp->hi, h, rg->v[i].rid) < 0)
                return -1;
            i = j;
            continue;
        }
        lo = rp__grow(a, sp->lo, &sp->lo_cap, sp->n_lo + 1, sizeof(*lo));
        if (lo == NULL || sp->n_lo >= (RP__RX_PAYLOAD >> 1) - n_recs)
            return -1;
        sp->lo = lo;
        lo[sp->n_lo].cover = rg->v[i].lo == 0 ? rg->v[i].rid : rg->v[i - 1].rid;
        lo[sp->n_lo].first = rg->v[i].lo == 0 ? i + 1 : i;
        lo[sp->n_lo].end = j;
        ref = (n_recs + (uint32_t)sp->n_lo++) << 1;
        if (kv_emit(a, &sp->hi, h, ref) < 0 ||
            (h != ~0ull && kv_emit(a, &sp->hi, h + 1, rg->v[j - 1].rid) < 0))
            return -1;
        i = j;
    }
    return 0;
}

/* Turns the record ids of the IPv6 ranges into trie values: twice the
 * record, plus one when an IPv6 host lies in the range, so that lookups
 * elsewhere skip the host table. */
static int
mark_hosts(rp__rx_ranges *rg, const rp__rx_ranges *hosts, uint32_t n_recs)
{
    size_t i = 0;

    if (n_recs > (RP__RX_PAYLOAD >> 1))
        return -1;
    for (size_t j = 0; j < rg->n; j++)
        rg->v[j].rid <<= 1;
    for (size_t h = 0; h < hosts->n; h++) {
        const rp__rx_range *x = &hosts->v[h];

        while (i + 1 < rg->n &&
               (rg->v[i + 1].hi < x->hi ||
                (rg->v[i + 1].hi == x->hi && rg->v[i + 1].lo <= x->lo)))
            i++;
        rg->v[i].rid |= 1;
    }
    return 0;
}

/* Builds the low-half trie of every /64 with longer prefixes. */
static int
build_lo(rx_build *bd,
         rp__radix *r,
         const rp__rx_ranges *rg,
         const rx_split *sp)
{
    rx_kv kv = {0};
    int rc = 0;

    r->lo_root = rp__calloc(&r->alloc, sp->n_lo + 1, sizeof(uint32_t));
    if (r->lo_root == NULL)
        return -1;
    r->n_lo = (uint32_t)sp->n_lo;
    bd->kbits = 64;
    bd->blob_max = RX_BLOB_MAX;
    bd->hosts = 0;
    for (size_t l = 0; l < sp->n_lo && rc == 0; l++) {
        const rx_lo *lo = &sp->lo[l];

        kv.n = 0;
        rc = kv_emit(bd->a, &kv, 0, lo->cover);
        for (size_t i = lo->first; i < lo->end && rc == 0; i++)
            rc = kv_emit(bd->a, &kv, rg->v[i].lo, rg->v[i].rid);
        if (rc == 0)
            rc = build_entry(bd, &kv, 0, kv.n, 0, 0, &r->lo_root[l]);
    }
    kv_free(bd->a, &kv);
    return rc;
}

/* Everything after the sweeps: the two tries and the two host tables.
 * @p rg and @p hosts come from the IPv6 prefixes (what they say inside
 * ::ffff:0:0/96 is never read), @p rg4 and @p hosts4 from the IPv4 ones
 * (only what they say inside the block is read). */
int
rp__rx_compile(rp__radix *r,
               const rp__rx_ranges *rg,
               const rp__rx_ranges *hosts,
               const rp__rx_ranges *rg4,
               const rp__rx_ranges *hosts4)
{
    const rp__alloc *a = &r->alloc;
    rx_build bd = {a, NULL, 0, 0, 0, 0, 0, 0, 0};
    rx_kv kv4 = {0}, all4 = {0};
    rp__rx_ranges rg6 = {NULL, 0, 0};
    rx_split sp = {{0}, NULL, 0, 0};
    size_t end;
    int rc = -1;

    if (extract_v4(a, rg4, &kv4) < 0 ||
        merge_hosts4(a, &kv4, hosts4, &all4) < 0 ||
        drop_mapped(a, rg, &rg6) < 0 ||
        mark_hosts(&rg6, hosts, r->n_recs) < 0 ||
        split_v6(a, &rg6, r->n_recs, &sp) < 0)
        goto out;
    bd.vw = bytes_for(((r->n_recs + sp.n_lo) << 1) - 1);
    if (put_empty_blob(&bd) < 0)
        goto out;
    if (build_trie(&bd, a, &all4, 32, &r->t4) < 0 ||
        build_trie(&bd, a, &sp.hi, 64, &r->t6) < 0 ||
        build_lo(&bd, r, &rg6, &sp) < 0 ||
        build_hash(a, &r->h6, hosts, r->n_recs) < 0)
        goto out;
    if (heap_take(&bd, 0, 1, &end) < 0) /* the heap exists even when empty */
        goto out;
    rc = 0;
out:
    r->heap = bd.heap;
    r->heap_len = bd.len;
    r->vw = bd.vw;
    kv_free(a, &kv4);
    kv_free(a, &all4);
    kv_free(a, &sp.hi);
    rp__free(a, sp.lo);
    rp__free(a, rg6.v);
    return rc;
}

void
rp__radix_free(rp__radix *r)
{
    if (r == NULL)
        return;
    rp__free(&r->alloc, r->recs);
    rp__free(&r->alloc, r->heap);
    rp__free(&r->alloc, r->t4.dir);
    rp__free(&r->alloc, r->t6.dir);
    rp__free(&r->alloc, r->lo_root);
    rp__free(&r->alloc, r->h6.raw);
    rp__free(&r->alloc, r);
}
