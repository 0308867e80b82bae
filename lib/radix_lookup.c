/*
 * radix_lookup.c - reading the compiled prefix table built by
 * radix_compile.c.  Nothing here allocates or writes.  The table's bytes
 * are little-endian on every host and are read with rp__rx_ld_le64() and
 * rp__rx_ld_le32(), plain loads on little-endian hosts.
 */
#include <string.h>

#include "radix.h"
#include "radix_table.h"
#include "relaypolicy.h"

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#define RX_SSE2 1
#endif

#if defined(__GNUC__) || defined(__clang__)
#define RX_INLINE static inline __attribute__((always_inline))
#else
#define RX_INLINE static inline
#endif

#define RX_SCAN 32 /* keys a blob search counts without bisecting */
#define RX_SHORT 4 /* keys a short IPv6 blob search compares, all of them */

static inline uint64_t
load_be64(const uint8_t *p)
{
    uint64_t v = 0;

#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                            \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, p, sizeof(v));
    v = __builtin_bswap64(v);
#else
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
#endif
    return v;
}

/* Reads a @p w-byte little-endian value (the slack covers the over-read). */
static inline uint32_t
ld_val(const uint8_t *p, unsigned w)
{
    return rp__rx_ld_le32(p) & (~0u >> (32 - 8 * w)); /* w is 1..4 */
}

static inline unsigned
scan6(const rp__rx_hash *h, const uint8_t *q, uint64_t hi, uint64_t lo)
{
    unsigned hit = 0;

    for (unsigned s = 0; s < h->slots; s++) {
        uint64_t d = (rp__rx_ld_le64(q + 16 * s) ^ hi) |
                     (rp__rx_ld_le64(q + 16 * s + 8) ^ lo);

        hit = d == 0 ? s + 1 : hit;
    }
    return hit;
}

/* 1 and *rid when the key is a host.  The home bucket and the next are
 * read unconditionally (no branch waits on the first); later ones only
 * when both overflowed, for at most the longest probe of the build. */
static inline int
hash_find(const rp__rx_hash *h, uint64_t hi, uint64_t lo, uint32_t *rid)
{
    uint32_t b = rp__rx_bucket(h->nb, hi, lo);

    for (uint32_t p = 0; p < h->probes; p += 2) {
        uint32_t b2 = b + 1 == h->nb ? 0 : b + 1;
        const uint8_t *q = h->b + (size_t)b * 64;
        const uint8_t *q2 = h->b + (size_t)b2 * 64;
        unsigned hit, hit2;

        hit = scan6(h, q, hi, lo);
        hit2 = scan6(h, q2, hi, lo);
        if (hit2 != 0) {
            hit = hit2;
            q = q2;
        }
        if (hit != 0) {
            *rid = ld_val(q + 16 * h->slots + h->rw * (hit - 1), h->rw);
            return 1;
        }
        if ((q[63] & q2[63]) == 0)
            return 0;
        b = b2 + 1 == h->nb ? 0 : b2 + 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Lookup
 * ------------------------------------------------------------------------ */

/* A heap entry's bytes.  An offset past the heap (a damaged table) reads
 * offset 0 instead: with the node index, the blob key count and the key
 * width bounded below, no walk reads past the slack after the heap. */
static inline const uint8_t *
at(const rp__radix *r, uint32_t e)
{
    size_t off = e & RP__RX_PAYLOAD;

    return r->heap + (off < r->heap_len ? off : 0);
}

/* How many of the @p m sorted @p kw-byte keys at @p k are <= @p xt. */
static inline size_t
count_le(const uint8_t *k, size_t m, unsigned kw, uint64_t xt)
{
    size_t c = 0;

    switch (kw) {
    case 1:
        for (size_t i = 0; i < m; i++)
            c += k[i] <= xt;
        return c;
    case 2:
        for (size_t i = 0; i < m; i++)
            c += (uint64_t)(k[2 * i] | k[2 * i + 1] << 8) <= xt;
        return c;
    default:
        for (size_t i = 0; i < m; i++)
            c += (rp__rx_ld_le64(k + i * kw) & (~0ull >> (64 - 8 * kw))) <= xt;
        return c;
    }
}

/* A blob: its key count, key width and keys, and the search key. */
typedef struct blob {
    size_t m;
    unsigned kw;
    uint64_t xt;
    const uint8_t *k;
} blob;

/* Reads a blob's header, its count and width bounded as radix_table.h
 * says (a valid blob is within the bounds already). */
static inline void
blob_head(const uint8_t *p, uint64_t x, unsigned d, blob *bl)
{
    size_t m = (size_t)p[0] | (size_t)p[1] << 8;

    bl->m = m < RP__RX_BLOB_KEYS ? m : RP__RX_BLOB_KEYS;
    bl->kw = ((p[2] - 1u) & 7) + 1;
    bl->xt = (x << d) >> (64 - 8 * bl->kw);
    bl->k = p + 3;
}

/* The index of the range of a blob holding @p x (keys compared past the
 * top @p d bits): binary search down to a short window, then a
 * branch-free count. */
static inline size_t
blob_index(const uint8_t *p, uint64_t x, unsigned d, blob *bl)
{
    size_t b = 0, len;
    uint64_t km;

    blob_head(p, x, d, bl);
    km = ~0ull >> (64 - 8 * bl->kw);
    len = bl->m + 1;
    while (len > RX_SCAN + 1) {
        size_t half = len / 2;

        b = (rp__rx_ld_le64(bl->k + (b + half - 1) * bl->kw) & km) <= bl->xt
                ? b + half
                : b;
        len -= half;
    }
    return b + count_le(bl->k + b * bl->kw, len - 1, bl->kw, bl->xt);
}

/* The value of the range of a blob holding @p x. */
static inline uint32_t
blob_find(const uint8_t *p, uint64_t x, unsigned d, unsigned vw)
{
    blob bl;
    size_t b;

    blob_head(p, x, d, &bl);
    if (bl.m <= RX_SHORT) {
        /* Most IPv6 blobs: every slot compared, none of it branching on
         * the key width or count (keys past m read the blob's values or
         * what follows, inside the slack, and are not counted). */
        uint64_t km = ~0ull >> (64 - 8 * bl.kw);

        b = 0;
        for (size_t i = 0; i < RX_SHORT; i++)
            b +=
                (i < bl.m) & ((rp__rx_ld_le64(bl.k + i * bl.kw) & km) <= bl.xt);
    } else {
        b = blob_index(p, x, d, &bl);
    }
    return ld_val(bl.k + bl.m * bl.kw + b * vw, vw);
}

/* IPv4 blobs: the value of range @p b, where a marked host range stands
 * for its one address only and gives way to the range before it; @p eq
 * is 1 when the search key equals the start of range @p b (or b is 0).
 * Both values are read and one is chosen without a branch. */
RX_INLINE uint32_t
host_val(const uint8_t *vals, unsigned vw, size_t b, unsigned eq)
{
    uint32_t v = ld_val(vals + b * vw, vw);
    uint32_t prev = ld_val(vals + (b - (b != 0)) * vw, vw);
    uint32_t use_prev = -(v & ~eq & 1u);

    return ((prev & use_prev) | (v & ~use_prev)) >> 1;
}

/* blob_find for the IPv4 trie, where host ranges are marked: any size and
 * key width (kept out of line, off the common path). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
static uint32_t
blob_find4_any(const uint8_t *p, uint64_t x, unsigned d, unsigned vw)
{
    blob bl;
    size_t b = blob_index(p, x, d, &bl);
    unsigned eq = 1;

    if (b != 0)
        eq = (rp__rx_ld_le64(bl.k + (b - 1) * bl.kw) &
              (~0ull >> (64 - 8 * bl.kw))) == bl.xt;
    return host_val(bl.k + bl.m * bl.kw, vw, b, eq);
}

#ifdef RX_SSE2
/* Bit i of *gt: key i > @p xv (lanes of 8, 16 or 32 bits, @p sign their
 * top bit), of *eq: key i == @p xv; a 16-key mask from lanes packed. */
RX_INLINE __m128i
rx_gt(__m128i k, __m128i xs, __m128i sign, unsigned lane)
{
    k = _mm_xor_si128(k, sign);
    return lane == 1   ? _mm_cmpgt_epi8(k, xs)
           : lane == 2 ? _mm_cmpgt_epi16(k, xs)
                       : _mm_cmpgt_epi32(k, xs);
}

RX_INLINE __m128i
rx_eq(__m128i k, __m128i xv, unsigned lane)
{
    return lane == 1   ? _mm_cmpeq_epi8(k, xv)
           : lane == 2 ? _mm_cmpeq_epi16(k, xv)
                       : _mm_cmpeq_epi32(k, xv);
}

static inline __m128i
rx_ld(const uint8_t *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* The compare masks of 16 keys of @p kw (1, 2 or 4) bytes at @p k with
 * @p xt: bit i of *gt when key i > xt, of *eq when key i == xt.  Keys
 * are little-endian: on a big-endian host this is not compiled. */
RX_INLINE void
rx_masks16(
    const uint8_t *k, unsigned kw, uint32_t xt, unsigned *gt, unsigned *eq)
{
    if (kw == 1) {
        __m128i a = rx_ld(k), xv = _mm_set1_epi8((char)xt);
        __m128i sign = _mm_set1_epi8((char)-0x80);

        *gt = (unsigned)_mm_movemask_epi8(
            rx_gt(a, _mm_xor_si128(xv, sign), sign, 1));
        *eq = (unsigned)_mm_movemask_epi8(rx_eq(a, xv, 1));
    } else if (kw == 2) {
        __m128i a = rx_ld(k), c = rx_ld(k + 16);
        __m128i xv = _mm_set1_epi16((short)xt);
        __m128i sign = _mm_set1_epi16(-0x8000), xs = _mm_xor_si128(xv, sign);

        *gt = (unsigned)_mm_movemask_epi8(
            _mm_packs_epi16(rx_gt(a, xs, sign, 2), rx_gt(c, xs, sign, 2)));
        *eq = (unsigned)_mm_movemask_epi8(
            _mm_packs_epi16(rx_eq(a, xv, 2), rx_eq(c, xv, 2)));
    } else {
        __m128i a = rx_ld(k), b = rx_ld(k + 16), c = rx_ld(k + 32),
                e = rx_ld(k + 48);
        __m128i xv = _mm_set1_epi32((int)xt);
        __m128i sign = _mm_set1_epi32((int)0x80000000u);
        __m128i xs = _mm_xor_si128(xv, sign);

        *gt = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(
            _mm_packs_epi32(rx_gt(a, xs, sign, 4), rx_gt(b, xs, sign, 4)),
            _mm_packs_epi32(rx_gt(c, xs, sign, 4), rx_gt(e, xs, sign, 4))));
        *eq = (unsigned)_mm_movemask_epi8(
            _mm_packs_epi16(_mm_packs_epi32(rx_eq(a, xv, 4), rx_eq(b, xv, 4)),
                            _mm_packs_epi32(rx_eq(c, xv, 4), rx_eq(e, xv, 4))));
    }
}
#endif

/* The same for blobs of at most 16 keys of one, two or four bytes, the
 * common case: every key is compared at once and nothing branches on the
 * data, so that the processor overlaps independent lookups.  The key
 * width follows from the depth in the IPv4 trie (radix_table.h), so the
 * branch on it is predicted. */
RX_INLINE uint32_t
blob_find4(const uint8_t *p, uint64_t x, unsigned d, unsigned vw)
{
#if defined(RX_SSE2) && defined(RP__RX_LE) && RP__RX_LE
    unsigned m = (unsigned)p[0] | (unsigned)p[1] << 8, kw = p[2], gt, eq;
    const uint8_t *k = p + 3;
    size_t b;

    if (m > 16 || (kw != 1 && kw != 2 && kw != 4))
        return blob_find4_any(p, x, d, vw);
    rx_masks16(k, kw, (uint32_t)((x << d) >> (64 - 8 * kw)), &gt, &eq);
    b = (size_t)__builtin_ctz(gt | 1u << m);
    return host_val(k + m * kw, vw, b, ((eq << 1 | 1u) >> b) & 1);
#else
    return blob_find4_any(p, x, d, vw);
#endif
}

/* The child of a node for the 8 bits of @p x after the top @p d (the
 * index is masked to a node's 256 children). */
static inline uint32_t
node_child(const uint8_t *p, uint64_t x, unsigned d)
{
    unsigned j = (unsigned)((x << d) >> 56), w = j >> 6;
    uint64_t bits = rp__rx_ld_le64(p + 8 * w) & (~0ull >> (63 - (j & 63)));

    return rp__rx_ld_le32(
        p + RP__RX_NODE_HDR +
        4 * ((p[32 + w] + rp__rx_popcount64(bits) - 1) & 255));
}

/* Walks a trie from entry @p e at depth @p d to the value for @p x. */
static inline uint32_t
walk(const rp__radix *r, uint32_t e, uint64_t x, unsigned d)
{
    for (; d <= 64; d += 8) {
        const uint8_t *p = at(r, e);

        if (e >> 30 == RP__RX_TAG_BLOB)
            return blob_find(p, x, d, r->vw);
        if (e >> 30 != RP__RX_TAG_NODE || d > 48)
            break;
        e = node_child(p, x, d);
    }
    return e & RP__RX_PAYLOAD;
}

static inline uint32_t
walk_trie(const rp__radix *r, const rp__rx_trie *t, uint64_t x)
{
    uint64_t i;

    if (t->dir == NULL)
        return walk(r, t->root, x, 0);
    i = (x >> (64 - t->bits)) - t->w0;
    if (i >= t->wn)
        return (x >> (64 - t->bits)) < t->w0 ? t->below : t->above;
    return walk(r, t->dir[i], x, t->bits);
}

/* walk for the IPv4 trie. */
static uint32_t
walk4(const rp__radix *r, uint32_t e, uint64_t x, unsigned d)
{
    for (; d <= 24; d += 8) {
        if (e >> 30 != RP__RX_TAG_NODE)
            break;
        e = node_child(at(r, e), x, d);
    }
    if (e >> 30 == RP__RX_TAG_BLOB)
        return blob_find4(at(r, e), x, d, r->vw);
    return e & RP__RX_PAYLOAD;
}

static inline const uint8_t *
rx_record(const rp__radix *r, uint32_t rid)
{
    if (rid >= r->n_recs)
        rid = 0;
    return r->recs + (size_t)rid * r->n_lists;
}

/* A value entry reads the empty blob at offset 0 and keeps its own value,
 * a blob entry its blob's: the choice is made without a branch. */
const uint8_t *
rp__radix_lookup4(const rp__radix *r, uint32_t addr)
{
    const rp__rx_trie *t = &r->t4;
    uint64_t x = (uint64_t)addr << 32, i = 0;
    uint32_t e, rid, blob;

    if (t->dir != NULL)
        i = (x >> (64 - t->bits)) - t->w0;
    if (t->dir == NULL)
        rid = walk4(r, t->root, x, 0);
    else if (i >= t->wn)
        rid = (x >> (64 - t->bits)) < t->w0 ? t->below : t->above;
    else if ((e = t->dir[i]) >> 30 == RP__RX_TAG_NODE)
        rid = walk4(r, e, x, t->bits);
    else {
        blob = -(e >> 30 == RP__RX_TAG_BLOB);
        rid = blob_find4(at(r, e & blob), x, t->bits, r->vw);
        rid = (rid & blob) | (e & RP__RX_PAYLOAD & ~blob);
    }
    return rx_record(r, rid);
}

/* IPv6 trie values are twice a record id or low-half trie, plus one when
 * the range holds a host of the exact-match table. */
const uint8_t *
rp__radix_lookup(const rp__radix *r, const uint8_t key[16])
{
    uint64_t hi = load_be64(key), lo = load_be64(key + 8);
    uint32_t v, rid;

    if (hi == 0 && (lo >> 32) == 0xffff)
        return rp__radix_lookup4(r, (uint32_t)lo);
    v = walk_trie(r, &r->t6, hi);
    if ((v >> 1) - r->n_recs < r->n_lo)
        v = walk(r, r->lo_root[(v >> 1) - r->n_recs], lo, 0);
    rid = v >> 1;
    if ((v & 1) != 0 && !hash_find(&r->h6, hi, lo, &rid))
        rid = v >> 1;
    return rx_record(r, rid);
}

static size_t
hash_memory(const rp__rx_hash *h)
{
    return h->n == 0 ? 0 : (size_t)h->nb * 64;
}

size_t
rp__radix_memory(const rp__radix *r)
{
    size_t dirs = 0;

    if (r == NULL)
        return 0;
    dirs += r->t4.dir != NULL ? r->t4.wn * sizeof(uint32_t) : 0;
    dirs += r->t6.dir != NULL ? r->t6.wn * sizeof(uint32_t) : 0;
    return sizeof(*r) + (size_t)r->n_recs * r->n_lists + r->heap_len + dirs +
           (size_t)r->n_lo * sizeof(uint32_t) + hash_memory(&r->h6);
}

/* ------------------------------------------------------------------------
 * Batch lookup
 *
 * Each query's walk is a short chain of dependent loads (directory entry,
 * nodes, blob); one query at a time, each load waits for the memory.  A
 * batch walks RX_LANES queries in lock step: every round takes one step in
 * every unfinished walk and prefetches the line the next step reads, so
 * the misses of the lanes overlap.  The answers are those of the one-query
 * functions above.
 * ------------------------------------------------------------------------ */

#define RX_LANES 16

static inline void
rx_prefetch(const void *p)
{
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p);
#else
    (void)p;
#endif
}

/* Prefetches what reading entry @p e will touch: a node's bitmap or the
 * keys and values of a blob (two lines).  The offset is not bounded as
 * at() bounds it: a prefetch reads nothing and cannot fault, and with the
 * bound gcc 12 drops the prefetches altogether. */
static inline void
rx_prefetch_entry(const rp__radix *r, uint32_t e)
{
    const uint8_t *p = r->heap + (e & RP__RX_PAYLOAD);

    if (e >> 30 == RP__RX_TAG_VAL)
        return;
    rx_prefetch(p);
    rx_prefetch(p + 64);
}

/* One walk in progress: the key (the address in x for IPv4; the halves
 * for IPv6, x the half being walked), the entry to read next and its
 * depth, the stage, and for IPv6 the value of the high-half walk. */
typedef struct lane {
    uint64_t hi, lo, x;
    uint32_t e, v;
    unsigned d, stage;
} lane;

/* Stages: the directory slot is on its way (its index in e), the walk of
 * a trie (the IPv4 one, or IPv6's high half), of a low-half trie, the
 * host table. */
enum { RX_DIR, RX_TRIE, RX_LOW, RX_HOST };

/* Up to RX_LANES queries of a batch: the unfinished lanes and where the
 * answers go.  Both families share it and lanes_run(). */
typedef struct lanes {
    lane l[RX_LANES];
    uint8_t live[RX_LANES];
    size_t n_live;
    const uint8_t **out;
} lanes;

/* Lane @p i has started: its answer when it has one already (@p done),
 * else it joins the unfinished lanes. */
RX_INLINE void
lanes_add(const rp__radix *r, lanes *b, size_t i, int done, uint32_t rid)
{
    if (done)
        b->out[i] = rx_record(r, rid);
    else
        b->live[b->n_live++] = (uint8_t)i;
}

/* Rounds of one @p step per unfinished lane until every lane is done. */
RX_INLINE void
lanes_run(const rp__radix *r,
          lanes *b,
          int (*step)(const rp__radix *, lane *, uint32_t *))
{
    while (b->n_live > 0) {
        size_t kept = 0;

        for (size_t k = 0; k < b->n_live; k++) {
            uint32_t rid;

            if (step(r, &b->l[b->live[k]], &rid))
                b->out[b->live[k]] = rx_record(r, rid);
            else
                b->live[kept++] = b->live[k];
        }
        b->n_live = kept;
    }
}

/* Starts the walk of trie @p t for @p x in lane @p l: 1 when the key lies
 * outside the first stride's window (its value in *v), else the first
 * entry, or the directory slot, is prefetched. */
static inline int
lane_start(
    const rp__radix *r, const rp__rx_trie *t, lane *l, uint64_t x, uint32_t *v)
{
    uint64_t i;

    l->x = x;
    if (t->dir == NULL) {
        l->e = t->root;
        l->d = 0;
        l->stage = RX_TRIE;
        rx_prefetch_entry(r, l->e);
        return 0;
    }
    i = (x >> (64 - t->bits)) - t->w0;
    if (i >= t->wn) {
        *v = (x >> (64 - t->bits)) < t->w0 ? t->below : t->above;
        return 1;
    }
    rx_prefetch(&t->dir[i]);
    l->e = (uint32_t)i;
    l->d = t->bits;
    l->stage = RX_DIR;
    return 0;
}

/* The directory stage of lane @p l in trie @p t: read the slot. */
static inline void
lane_dir(const rp__radix *r, const rp__rx_trie *t, lane *l)
{
    l->e = t->dir[l->e];
    l->stage = RX_TRIE;
    rx_prefetch_entry(r, l->e);
}

/* One step of walk4() for lane @p l: 1 with *rid when it is done. */
static inline int
lane4_step(const rp__radix *r, lane *l, uint32_t *rid)
{
    uint32_t e = l->e;

    if (l->stage == RX_DIR) {
        lane_dir(r, &r->t4, l);
        return 0;
    }
    if (e >> 30 == RP__RX_TAG_NODE && l->d <= 24) {
        l->e = node_child(at(r, e), l->x, l->d);
        l->d += 8;
        rx_prefetch_entry(r, l->e);
        return 0;
    }
    if (e >> 30 == RP__RX_TAG_BLOB)
        *rid = blob_find4(at(r, e), l->x, l->d, r->vw);
    else
        *rid = e & RP__RX_PAYLOAD;
    return 1;
}

void
rp__radix_lookup4_batch(const rp__radix *r,
                        const uint32_t *addrs,
                        size_t n,
                        const uint8_t **out)
{
    lanes b;

    for (size_t i0 = 0; i0 < n; i0 += RX_LANES) {
        size_t m = n - i0 < RX_LANES ? n - i0 : RX_LANES;

        b.n_live = 0;
        b.out = out + i0;
        for (size_t i = 0; i < m; i++) {
            uint32_t rid = 0;
            int done = lane_start(r, &r->t4, &b.l[i],
                                  (uint64_t)addrs[i0 + i] << 32, &rid);

            lanes_add(r, &b, i, done, rid);
        }
        lanes_run(r, &b, lane4_step);
    }
}

/* One step of walk() for lane @p l: 1 with *v when the trie is done. */
static inline int
lane6_walk(const rp__radix *r, lane *l, uint32_t *v)
{
    uint32_t e = l->e;
    const uint8_t *p = at(r, e);

    if (l->d <= 64 && e >> 30 == RP__RX_TAG_BLOB) {
        *v = blob_find(p, l->x, l->d, r->vw);
        return 1;
    }
    if (l->d > 64 || e >> 30 != RP__RX_TAG_NODE || l->d > 48) {
        *v = e & RP__RX_PAYLOAD;
        return 1;
    }
    l->e = node_child(p, l->x, l->d);
    l->d += 8;
    rx_prefetch_entry(r, l->e);
    return 0;
}

/* After the high-half walk gave @p v: go on with the low half, the host
 * table, or finish with *rid (returns 1). */
static inline int
lane6_next(const rp__radix *r, lane *l, uint32_t v, uint32_t *rid)
{
    if (l->stage != RX_LOW && (v >> 1) - r->n_recs < r->n_lo) {
        l->stage = RX_LOW;
        l->e = r->lo_root[(v >> 1) - r->n_recs];
        l->x = l->lo;
        l->d = 0;
        rx_prefetch_entry(r, l->e);
        return 0;
    }
    l->v = v;
    if ((v & 1) != 0) {
        l->stage = RX_HOST;
        rx_prefetch(r->h6.b +
                    (size_t)rp__rx_bucket(r->h6.nb, l->hi, l->lo) * 64);
        return 0;
    }
    *rid = v >> 1;
    return 1;
}

static inline int
lane6_step(const rp__radix *r, lane *l, uint32_t *rid)
{
    uint32_t v;

    if (l->stage == RX_DIR) {
        lane_dir(r, &r->t6, l);
        return 0;
    }
    if (l->stage == RX_HOST) {
        *rid = l->v >> 1;
        if (!hash_find(&r->h6, l->hi, l->lo, rid))
            *rid = l->v >> 1;
        return 1;
    }
    if (!lane6_walk(r, l, &v))
        return 0;
    return lane6_next(r, l, v, rid);
}

/* Starts lane @p l: 1 when it has its answer (*rid). */
static inline int
lane6_start(const rp__radix *r, lane *l, const uint8_t *key, uint32_t *rid)
{
    uint32_t v;

    l->hi = load_be64(key);
    l->lo = load_be64(key + 8);
    if (!lane_start(r, &r->t6, l, l->hi, &v))
        return 0;
    l->stage = RX_TRIE;
    return lane6_next(r, l, v, rid);
}

void
rp__radix_lookup_batch(const rp__radix *r,
                       const uint8_t *const *keys,
                       size_t n,
                       const uint8_t **out)
{
    lanes b;

    for (size_t i0 = 0; i0 < n; i0 += RX_LANES) {
        size_t m = n - i0 < RX_LANES ? n - i0 : RX_LANES;

        b.n_live = 0;
        b.out = out + i0;
        for (size_t i = 0; i < m; i++) {
            const uint8_t *k = keys[i0 + i];
            uint64_t lo = load_be64(k + 8);
            uint32_t rid = 0;

            /* An IPv4 key (rare here) takes the one-query path. */
            if (load_be64(k) == 0 && (lo >> 32) == 0xffff)
                out[i0 + i] = rp__radix_lookup4(r, (uint32_t)lo);
            else
                lanes_add(r, &b, i, lane6_start(r, &b.l[i], k, &rid), rid);
        }
        lanes_run(r, &b, lane6_step);
    }
}
