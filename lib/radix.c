/*
 * radix.c - which prefix lists contain an address.
 *
 * The builder collects (prefix, list) pairs.  Freezing sorts them and sweeps
 * the address space once, leaf-pushing every prefix: the space is cut into
 * ranges, each mapped to one "record", the per-list longest match for every
 * address in the range.  Records are deduplicated, so a record id stands
 * for a whole answer and a lookup only has to find the range.
 */
#include "rp_internal.h"

#include <stdlib.h>
#include <string.h>

/* One added prefix; the key is held as two host-order halves. */
typedef struct rx_pfx {
    uint64_t hi;
    uint64_t lo;
    uint32_t list;
    uint32_t plen;
} rx_pfx;

struct rp__radix_builder {
    rp__alloc alloc;
    rx_pfx *v;
    size_t n;
    size_t cap;
};

/* A range of the leaf-pushed space: from its start to the next start. */
typedef struct rx_range {
    uint64_t hi;
    uint64_t lo;
    uint32_t rid;
} rx_range;

typedef struct rx_ranges {
    rx_range *v;
    size_t n;
    size_t cap;
} rx_ranges;

/* One cached record transition: "from" with "list" set to "plen". */
typedef struct rx_trans {
    uint32_t from;
    uint32_t list;
    uint32_t plen;
    uint32_t to;
} rx_trans;

/* The record set under construction, with its two hash tables. */
typedef struct rx_recs {
    const rp__alloc *a;
    uint32_t n_lists;
    uint8_t *data;
    size_t data_cap;
    uint32_t n;
    uint32_t *slot; /* record hash: rid + 1, or 0 when free */
    uint32_t slot_mask;
    rx_trans *tr; /* transition cache: from == UINT32_MAX when free */
    uint32_t tr_mask;
    uint32_t tr_n;
} rx_recs;

/* Exact-match table for IPv6 hosts: 64-byte buckets of keys, then records;
 * the last byte of a bucket is set when a key went on to the next one. */
typedef struct rx_hash {
    uint8_t *b;
    void *raw;      /* the allocation b was aligned in */
    uint32_t nb;    /* buckets */
    uint32_t n;     /* hosts */
    uint32_t probes; /* most buckets any lookup visits */
    unsigned slots;
    unsigned rw; /* bytes per record id */
} rx_hash;

/* A compiled range table over 64-bit keys: a 16-bit first stride when it
 * is large, else a single root entry. */
typedef struct rx_trie {
    uint32_t *dir;
    uint32_t root;
} rx_trie;

struct rp__radix {
    rp__alloc alloc;
    uint32_t n_lists;
    uint32_t n_recs;
    uint8_t *recs; /* n_recs * n_lists bytes, at least one */
    uint8_t *heap; /* blobs and nodes of both tries */
    size_t heap_len;
    unsigned vw; /* bytes per value in the heap */
    rx_trie t4;
    rx_trie t6;         /* the high halves of IPv6 keys */
    uint32_t *lo_root;  /* per /64 with longer prefixes: its low-half trie */
    uint32_t n_lo;
    rx_hash h6;
};

/* The IPv4-mapped block ::ffff:0:0/96 as the low half of a key. */
#define RX_V4_LO 0x0000ffff00000000ull
#define RX_V4_END 0x0000ffffffffffffull

/* ------------------------------------------------------------------------
 * Builder
 * ------------------------------------------------------------------------ */

static uint64_t
load_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* The host bits of a prefix length, as a mask over each half. */
static void
host_mask(unsigned plen, uint64_t *mhi, uint64_t *mlo)
{
    if (plen >= 128) {
        *mhi = 0;
        *mlo = 0;
    } else if (plen >= 64) {
        *mhi = 0;
        *mlo = ~0ull >> (plen - 64);
    } else {
        *mhi = ~0ull >> plen;
        *mlo = ~0ull;
    }
}

rp__radix_builder *
rp__radix_builder_new(const rp__alloc *a)
{
    rp__radix_builder *b = rp__calloc(a, 1, sizeof(*b));

    if (b != NULL)
        b->alloc = *a;
    return b;
}

int
rp__radix_add(rp__radix_builder *b, const uint8_t key[16], unsigned plen,
              uint32_t list)
{
    uint64_t mhi, mlo;
    rx_pfx *v;

    if (plen > 128)
        plen = 128;
    v = rp__grow(&b->alloc, b->v, &b->cap, b->n + 1, sizeof(*v));
    if (v == NULL)
        return -1;
    b->v = v;
    host_mask(plen, &mhi, &mlo);
    v[b->n].hi = load_be64(key) & ~mhi;
    v[b->n].lo = load_be64(key + 8) & ~mlo;
    v[b->n].list = list;
    v[b->n].plen = plen;
    b->n++;
    return 0;
}

void
rp__radix_builder_free(rp__radix_builder *b)
{
    if (b == NULL)
        return;
    rp__free(&b->alloc, b->v);
    rp__free(&b->alloc, b);
}

/* ------------------------------------------------------------------------
 * Records
 * ------------------------------------------------------------------------ */

static uint32_t
hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return (uint32_t)(h ^ (h >> 29));
}

static uint32_t
hash_trans(uint32_t from, uint32_t list, uint32_t plen)
{
    uint64_t h = ((uint64_t)from << 32 | list) * 0x9e3779b97f4a7c15ull;

    h ^= plen * 0xc2b2ae3d27d4eb4full;
    return (uint32_t)(h >> 32);
}

static int
recs_init(rx_recs *rs, const rp__alloc *a, uint32_t n_lists)
{
    memset(rs, 0, sizeof(*rs));
    rs->a = a;
    rs->n_lists = n_lists;
    rs->slot_mask = 1023;
    rs->tr_mask = 1023;
    rs->slot = rp__calloc(a, rs->slot_mask + 1, sizeof(*rs->slot));
    rs->tr = rp__malloc(a, (rs->tr_mask + 1) * sizeof(*rs->tr));
    rs->data = rp__grow(a, NULL, &rs->data_cap, (size_t)n_lists + 1, 1);
    if (rs->slot == NULL || rs->tr == NULL || rs->data == NULL)
        return -1;
    memset(rs->tr, 0xff, (rs->tr_mask + 1) * sizeof(*rs->tr));
    /* Record 0 is "no list matches". */
    memset(rs->data, RP__NOMATCH, n_lists);
    rs->slot[hash_bytes(rs->data, n_lists) & rs->slot_mask] = 1;
    rs->n = 1;
    return 0;
}

static void
recs_free(rx_recs *rs)
{
    rp__free(rs->a, rs->slot);
    rp__free(rs->a, rs->tr);
    rp__free(rs->a, rs->data);
}

/* Doubles the record hash table. */
static int
recs_rehash(rx_recs *rs)
{
    uint32_t mask = rs->slot_mask * 2 + 1;
    uint32_t *slot = rp__calloc(rs->a, (size_t)mask + 1, sizeof(*slot));

    if (slot == NULL)
        return -1;
    for (uint32_t rid = 0; rid < rs->n; rid++) {
        const uint8_t *p = rs->data + (size_t)rid * rs->n_lists;
        uint32_t i = hash_bytes(p, rs->n_lists) & mask;

        while (slot[i] != 0)
            i = (i + 1) & mask;
        slot[i] = rid + 1;
    }
    rp__free(rs->a, rs->slot);
    rs->slot = slot;
    rs->slot_mask = mask;
    return 0;
}

/* Interns the candidate record written just past the last one. */
static int
recs_intern(rx_recs *rs, uint32_t *rid)
{
    size_t nl = rs->n_lists;
    const uint8_t *cand = rs->data + (size_t)rs->n * nl;
    uint32_t i = hash_bytes(cand, nl) & rs->slot_mask;

    for (; rs->slot[i] != 0; i = (i + 1) & rs->slot_mask) {
        const uint8_t *p = rs->data + (size_t)(rs->slot[i] - 1) * nl;

        if (memcmp(p, cand, nl) == 0) {
            *rid = rs->slot[i] - 1;
            return 0;
        }
    }
    if (rs->n == UINT32_MAX - 1)
        return -1;
    rs->slot[i] = rs->n + 1;
    *rid = rs->n++;
    if (rs->n * 2 > rs->slot_mask)
        return recs_rehash(rs);
    return 0;
}

static int
trans_grow(rx_recs *rs)
{
    uint32_t mask = rs->tr_mask * 2 + 1;
    rx_trans *tr = rp__malloc(rs->a, ((size_t)mask + 1) * sizeof(*tr));

    if (tr == NULL)
        return -1;
    memset(tr, 0xff, ((size_t)mask + 1) * sizeof(*tr));
    for (uint32_t j = 0; j <= rs->tr_mask; j++) {
        const rx_trans *t = &rs->tr[j];
        uint32_t i;

        if (t->from == UINT32_MAX)
            continue;
        i = hash_trans(t->from, t->list, t->plen) & mask;
        while (tr[i].from != UINT32_MAX)
            i = (i + 1) & mask;
        tr[i] = *t;
    }
    rp__free(rs->a, rs->tr);
    rs->tr = tr;
    rs->tr_mask = mask;
    return 0;
}

/* The record equal to @p from except that @p list is set to @p plen. */
static int
recs_step(rx_recs *rs, uint32_t from, uint32_t list, uint32_t plen,
          uint32_t *to)
{
    size_t nl = rs->n_lists;
    uint32_t i = hash_trans(from, list, plen) & rs->tr_mask;
    uint8_t *p;

    for (; rs->tr[i].from != UINT32_MAX; i = (i + 1) & rs->tr_mask) {
        const rx_trans *t = &rs->tr[i];

        if (t->from == from && t->list == list && t->plen == plen) {
            *to = t->to;
            return 0;
        }
    }
    p = rp__grow(rs->a, rs->data, &rs->data_cap, ((size_t)rs->n + 1) * nl,
                 1);
    if (p == NULL)
        return -1;
    rs->data = p;
    memcpy(p + (size_t)rs->n * nl, p + (size_t)from * nl, nl);
    p[(size_t)rs->n * nl + list] = (uint8_t)plen;
    if (recs_intern(rs, to) < 0)
        return -1;
    rs->tr[i] = (rx_trans){from, list, plen, *to};
    if (++rs->tr_n * 2 > rs->tr_mask)
        return trans_grow(rs);
    return 0;
}

/* ------------------------------------------------------------------------
 * Leaf pushing
 * ------------------------------------------------------------------------ */

static int
pfx_cmp(const void *pa, const void *pb)
{
    const rx_pfx *a = pa, *b = pb;

    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    if (a->plen != b->plen)
        return a->plen < b->plen ? -1 : 1;
    return (a->list > b->list) - (a->list < b->list);
}

static int
ranges_push(const rp__alloc *a, rx_ranges *r, uint64_t hi, uint64_t lo,
            uint32_t rid)
{
    rx_range *v = rp__grow(a, r->v, &r->cap, r->n + 1, sizeof(*v));

    if (v == NULL)
        return -1;
    r->v = v;
    v[r->n++] = (rx_range){hi, lo, rid};
    return 0;
}

/* Appends a range start, replacing one at the same start and merging
 * neighbours that map to the same record. */
static int
ranges_emit(const rp__alloc *a, rx_ranges *r, uint64_t hi, uint64_t lo,
            uint32_t rid)
{
    if (r->n > 0 && r->v[r->n - 1].hi == hi && r->v[r->n - 1].lo == lo)
        r->n--;
    if (r->n > 0 && r->v[r->n - 1].rid == rid)
        return 0;
    return ranges_push(a, r, hi, lo, rid);
}

/* An open prefix during the sweep: its last address and record. */
typedef struct rx_open {
    uint64_t ehi;
    uint64_t elo;
    uint32_t rid;
} rx_open;

/* Closes every open prefix that ends before (hi, lo). */
static int
sweep_close(const rp__alloc *a, rx_ranges *out, rx_open *st, int *depth,
            uint64_t hi, uint64_t lo)
{
    while (*depth > 0) {
        const rx_open *top = &st[*depth];
        uint64_t nhi, nlo;

        if (top->ehi > hi || (top->ehi == hi && top->elo >= lo))
            break;
        nlo = top->elo + 1;
        nhi = top->ehi + (nlo == 0);
        (*depth)--;
        if (ranges_emit(a, out, nhi, nlo, st[*depth].rid) < 0)
            return -1;
    }
    return 0;
}

/* Sweeps the sorted prefixes into leaf-pushed ranges.  Hosts (/128) do
 * not cut ranges: they go to @p hosts with their final record. */
static int
sweep(const rp__alloc *a, const rx_pfx *v, size_t n, rx_recs *rs,
      rx_ranges *out, rx_ranges *hosts)
{
    rx_open st[131];
    int depth = 0;
    size_t i = 0;

    st[0] = (rx_open){~0ull, ~0ull, 0};
    if (ranges_emit(a, out, 0, 0, 0) < 0)
        return -1;
    while (i < n) {
        const rx_pfx *p = &v[i];
        uint32_t rid;
        uint64_t mhi, mlo;

        if (sweep_close(a, out, st, &depth, p->hi, p->lo) < 0)
            return -1;
        rid = st[depth].rid;
        for (; i < n && v[i].hi == p->hi && v[i].lo == p->lo &&
               v[i].plen == p->plen;
             i++) {
            if (v[i].list < rs->n_lists &&
                recs_step(rs, rid, v[i].list, p->plen, &rid) < 0)
                return -1;
        }
        if (p->plen == 128) {
            if (ranges_push(a, hosts, p->hi, p->lo, rid) < 0)
                return -1;
            continue;
        }
        if (ranges_emit(a, out, p->hi, p->lo, rid) < 0)
            return -1;
        host_mask(p->plen, &mhi, &mlo);
        depth++;
        st[depth] = (rx_open){p->hi | mhi, p->lo | mlo, rid};
    }
    return sweep_close(a, out, st, &depth, ~0ull, ~0ull);
}


/* ------------------------------------------------------------------------
 * The compiled form
 *
 * A trie maps a 64-bit key to a value through 32-bit entries: a value, a
 * blob (a sorted run of at most RX_BLOB_MAX ranges, keys cut to the bytes
 * they need) or a node (the next 8 bits, children compressed with a bitmap
 * as in Poptrie).  Values below n_recs are record ids; the others, in the
 * IPv6 high-half trie, name a low-half trie for a /64 with longer prefixes.
 * ------------------------------------------------------------------------ */

#define RX_TAG_VAL 0u
#define RX_TAG_BLOB 1u
#define RX_TAG_NODE 2u
#define RX_PAYLOAD 0x3fffffffu
#define RX_BLOB_MAX 24  /* ranges in a blob that could still be a node */
#define RX_BLOB_MAX4 48 /* the same in the IPv4 trie, where keys are short */
#define RX_SCAN 32      /* keys a blob search counts without bisecting */
#define RX_DIR_MIN 8192 /* ranges from which a 16-bit first stride pays */
#define RX_NODE_HDR 36  /* bitmap (32 bytes) and four prefix counts */
#define RX_PAD 8        /* readable slack after the heap */
#define RX_LOAD 80      /* most percent of host slots used */

static inline uint64_t
ld64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint32_t
ld32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

/* Stores the low @p w bytes of @p v, little-endian. */
static void
st_le(uint8_t *p, uint64_t v, unsigned w)
{
    for (unsigned i = 0; i < w; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Reads a @p w-byte little-endian value (the slack covers the over-read). */
static inline uint32_t
ld_val(const uint8_t *p, unsigned w)
{
    uint32_t v = ld32(p);

    return w >= 4 ? v : v & ((1u << (8 * w)) - 1);
}

static inline unsigned
popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

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

/* Appends like ranges_emit: same start replaces, equal neighbours merge. */
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
    unsigned vw;
    unsigned kbits;    /* significant key bits of the trie being built */
    unsigned blob_max; /* most ranges in a blob that could be a node */
} rx_build;

/* Reserves @p size bytes of heap at a multiple of @p align. */
static int
heap_take(rx_build *bd, size_t size, size_t align, size_t *off)
{
    size_t at = (bd->len + align - 1) & ~(align - 1);
    uint8_t *p;

    if (at + size + RX_PAD > RX_PAYLOAD)
        return -1;
    p = rp__grow(bd->a, bd->heap, &bd->cap, at + size + RX_PAD, 1);
    if (p == NULL)
        return -1;
    bd->heap = p;
    memset(p + bd->len, 0, at + size + RX_PAD - bd->len);
    bd->len = at + size;
    *off = at;
    return 0;
}

/* A blob: u16 key count, u8 key width, keys, then one value per range. */
static int
put_blob(rx_build *bd, const rx_kv *kv, size_t i0, size_t i1, unsigned d,
         uint32_t *entry)
{
    size_t m = i1 - i0 - 1, off;
    uint64_t bits = 0;
    unsigned kw, tz = 0;
    uint8_t *p;

    for (size_t i = i0 + 1; i < i1; i++)
        bits |= kv->k[i] << d;
    while (tz < 63 && ((bits >> tz) & 1) == 0)
        tz++;
    kw = (64 - tz + 7) / 8;
    if (heap_take(bd, 3 + m * kw + (m + 1) * bd->vw, 1, &off) < 0)
        return -1;
    p = bd->heap + off;
    st_le(p, m, 2);
    p[2] = (uint8_t)kw;
    for (size_t i = 0; i < m; i++)
        st_le(p + 3 + i * kw, (kv->k[i0 + 1 + i] << d) >> (64 - 8 * kw), kw);
    for (size_t i = 0; i <= m; i++)
        st_le(p + 3 + m * kw + i * bd->vw, kv->v[i0 + i], bd->vw);
    *entry = RX_TAG_BLOB << 30 | (uint32_t)off;
    return 0;
}

static int build_entry(rx_build *bd, const rx_kv *kv, size_t i0, size_t i1,
                       uint64_t base, unsigned d, uint32_t *entry);

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
    if (heap_take(bd, RX_NODE_HDR + 4 * (size_t)cnt, 8, &off) < 0)
        return -1;
    p = bd->heap + off;
    memcpy(p, bm, sizeof(bm));
    p[32] = 0;
    for (unsigned w = 1; w < 4; w++)
        p[32 + w] = (uint8_t)(p[31 + w] + popcount64(bm[w - 1]));
    cnt = 0;
    for (unsigned j = 0; j < 256; j++) {
        if (j == 0 || child[j] != child[j - 1])
            memcpy(p + RX_NODE_HDR + 4 * cnt++, &child[j], 4);
    }
    *entry = RX_TAG_NODE << 30 | (uint32_t)off;
    return 0;
}

/* Builds the children of [base, base + 2^(64-d)) over 8 more bits. */
static int
build_node(rx_build *bd, const rx_kv *kv, size_t i0, size_t i1,
           uint64_t base, unsigned d, uint32_t *entry)
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
build_entry(rx_build *bd, const rx_kv *kv, size_t i0, size_t i1,
            uint64_t base, unsigned d, uint32_t *entry)
{
    if (i1 - i0 == 1) {
        if (kv->v[i0] > RX_PAYLOAD)
            return -1;
        *entry = kv->v[i0];
        return 0;
    }
    if (i1 - i0 <= bd->blob_max || d + 8 >= bd->kbits)
        return put_blob(bd, kv, i0, i1, d, entry);
    return build_node(bd, kv, i0, i1, base, d, entry);
}

/* Builds a whole trie over @p kv, with a first stride when it is big. */
static int
build_trie(rx_build *bd, const rp__alloc *a, const rx_kv *kv,
           unsigned kbits, rx_trie *t)
{
    size_t i = 0;

    bd->kbits = kbits;
    bd->blob_max = kbits == 32 ? RX_BLOB_MAX4 : RX_BLOB_MAX;
    if (kv->n < RX_DIR_MIN)
        return build_entry(bd, kv, 0, kv->n, 0, 0, &t->root);
    t->dir = rp__malloc(a, 65536 * sizeof(*t->dir));
    if (t->dir == NULL)
        return -1;
    for (uint32_t c = 0; c < 65536; c++) {
        uint64_t lo = (uint64_t)c << 48, next = lo + (1ull << 48);
        size_t e;

        while (i + 1 < kv->n && kv->k[i + 1] <= lo)
            i++;
        e = i + 1;
        while (e < kv->n && (c == 65535 || kv->k[e] < next))
            e++;
        if (build_entry(bd, kv, i, e, lo, 16, &t->dir[c]) < 0)
            return -1;
        i = e - 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Host tables
 * ------------------------------------------------------------------------ */

static inline uint32_t
hash6(uint64_t hi, uint64_t lo)
{
    uint64_t h = (hi ^ (lo * 0xc2b2ae3d27d4eb4full)) * 0x9e3779b97f4a7c15ull;

    return (uint32_t)(h >> 32);
}

/* Maps a 32-bit hash onto the buckets without a power-of-two size. */
static inline uint32_t
bucket_of(const rx_hash *h, uint32_t hash)
{
    return (uint32_t)(((uint64_t)hash * h->nb) >> 32);
}

static void
hash_put(rx_hash *h, uint8_t *fill, const rx_range *host)
{
    uint32_t b = bucket_of(h, hash6(host->hi, host->lo));
    uint32_t probes = 1;
    uint8_t *q;

    while (fill[b] == h->slots) {
        h->b[(size_t)b * 64 + 63] = 1; /* a key went on past this bucket */
        b = b + 1 == h->nb ? 0 : b + 1;
        probes++;
    }
    q = h->b + (size_t)b * 64;
    memcpy(q + 16 * fill[b], &host->hi, 8);
    memcpy(q + 16 * fill[b] + 8, &host->lo, 8);
    st_le(q + 16 * h->slots + h->rw * fill[b], host->rid, h->rw);
    fill[b]++;
    if (probes > h->probes)
        h->probes = probes;
}

/* Fills every key slot with the "no host" key. */
static void
hash_clear(rx_hash *h, size_t nb)
{
    uint64_t ehi = 0, elo = RX_V4_LO; /* mapped: never an IPv6 host */

    memset(h->b, 0, nb * 64);
    for (size_t b = 0; b < nb; b++) {
        for (unsigned s = 0; s < h->slots; s++) {
            uint8_t *q = h->b + b * 64 + 16 * (size_t)s;

            memcpy(q, &ehi, 8);
            memcpy(q + 8, &elo, 8);
        }
    }
}

/* Builds the IPv6 host table: every host but the IPv4 ones, which are
 * hosts[i0..i1) and go into the IPv4 trie instead. */
static int
build_hash(const rp__alloc *a, rx_hash *h, const rx_ranges *hosts,
           size_t i0, size_t i1, uint32_t n_recs)
{
    size_t nb, n = hosts->n - (i1 - i0);
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
    for (size_t i = 0; i < hosts->n; i++) {
        if (i < i0 || i >= i1)
            hash_put(h, fill, &hosts->v[i]);
    }
    rp__free(a, fill);
    return 0;
}

static inline unsigned
scan6(const rx_hash *h, const uint8_t *q, uint64_t hi, uint64_t lo)
{
    unsigned hit = 0;

    for (unsigned s = 0; s < h->slots; s++) {
        uint64_t d = (ld64(q + 16 * s) ^ hi) | (ld64(q + 16 * s + 8) ^ lo);

        hit = d == 0 ? s + 1 : hit;
    }
    return hit;
}

/* 1 and *rid when the key is a host.  The home bucket and the next are
 * read unconditionally (no branch waits on the first); later ones only
 * when both overflowed, for at most the longest probe of the build. */
static inline int
hash_find(const rx_hash *h, uint64_t hi, uint64_t lo, uint32_t *rid)
{
    uint32_t b = bucket_of(h, hash6(hi, lo));

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
 * From ranges to tries
 * ------------------------------------------------------------------------ */

/* The IPv4 part of the ranges: those meeting ::ffff:0:0/96, rebased. */
static int
extract_v4(const rp__alloc *a, const rx_ranges *rg, rx_kv *kv)
{
    size_t i = 0;

    while (i + 1 < rg->n && rg->v[i + 1].hi == 0 &&
           rg->v[i + 1].lo <= RX_V4_LO)
        i++;
    if (kv_emit(a, kv, 0, rg->v[i].rid) < 0)
        return -1;
    for (i++; i < rg->n && rg->v[i].hi == 0 && rg->v[i].lo <= RX_V4_END; i++) {
        if (kv_emit(a, kv, rg->v[i].lo << 32, rg->v[i].rid) < 0)
            return -1;
    }
    return 0;
}

/* Cuts the IPv4 hosts hosts[h0..h1) into the IPv4 ranges: a host gets
 * its own one-address range, then the range it was in resumes. */
static int
merge_hosts4(const rp__alloc *a, const rx_kv *in, const rx_ranges *hosts,
             size_t h0, size_t h1, rx_kv *out)
{
    size_t i = 0;

    for (size_t h = h0; h < h1; h++) {
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
drop_mapped(const rp__alloc *a, const rx_ranges *rg, rx_ranges *out)
{
    uint32_t cur = 0;
    size_t i = 0;

    for (; i < rg->n && rg->v[i].hi == 0 && rg->v[i].lo < RX_V4_LO; i++) {
        if (ranges_emit(a, out, 0, rg->v[i].lo, rg->v[i].rid) < 0)
            return -1;
    }
    cur = rg->v[i - 1].rid;
    for (; i < rg->n && rg->v[i].hi == 0 && rg->v[i].lo <= RX_V4_END; i++)
        cur = rg->v[i].rid;
    if (ranges_emit(a, out, 0, RX_V4_END + 1, cur) < 0)
        return -1;
    for (; i < rg->n; i++) {
        if (ranges_emit(a, out, rg->v[i].hi, rg->v[i].lo, rg->v[i].rid) < 0)
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
split_v6(const rp__alloc *a, const rx_ranges *rg, uint32_t n_recs,
         rx_split *sp)
{
    for (size_t i = 0; i < rg->n;) {
        uint64_t h = rg->v[i].hi;
        size_t j = i + 1;
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
        if (lo == NULL || sp->n_lo >= RX_PAYLOAD - n_recs)
            return -1;
        sp->lo = lo;
        lo[sp->n_lo].cover = rg->v[i].lo == 0 ? rg->v[i].rid
                                               : rg->v[i - 1].rid;
        lo[sp->n_lo].first = rg->v[i].lo == 0 ? i + 1 : i;
        lo[sp->n_lo].end = j;
        if (kv_emit(a, &sp->hi, h, n_recs + (uint32_t)sp->n_lo++) < 0 ||
            (h != ~0ull && kv_emit(a, &sp->hi, h + 1, rg->v[j - 1].rid) < 0))
            return -1;
        i = j;
    }
    return 0;
}

/* Builds the low-half trie of every /64 with longer prefixes. */
static int
build_lo(rx_build *bd, rp__radix *r, const rx_ranges *rg,
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

/* Index of the first IPv4 host and of the first host after them. */
static void
hosts_v4_span(const rx_ranges *hosts, size_t *i0, size_t *i1)
{
    size_t i = 0;

    while (i < hosts->n && hosts->v[i].hi == 0 && hosts->v[i].lo < RX_V4_LO)
        i++;
    *i0 = i;
    while (i < hosts->n && hosts->v[i].hi == 0 && hosts->v[i].lo <= RX_V4_END)
        i++;
    *i1 = i;
}

/* Everything after the sweep: the two tries and the two host tables. */
static int
compile(rp__radix *r, const rx_ranges *rg, const rx_ranges *hosts)
{
    const rp__alloc *a = &r->alloc;
    rx_build bd = {a, NULL, 0, 0, 0, 0, 0};
    rx_kv kv4 = {0}, all4 = {0};
    rx_ranges rg6 = {NULL, 0, 0};
    rx_split sp = {{0}, NULL, 0, 0};
    size_t h0, h1;
    int rc = -1;

    hosts_v4_span(hosts, &h0, &h1);
    if (extract_v4(a, rg, &kv4) < 0 ||
        merge_hosts4(a, &kv4, hosts, h0, h1, &all4) < 0 ||
        drop_mapped(a, rg, &rg6) < 0 || split_v6(a, &rg6, r->n_recs, &sp) < 0)
        goto out;
    bd.vw = bytes_for(r->n_recs + sp.n_lo - 1);
    if (build_trie(&bd, a, &all4, 32, &r->t4) < 0 ||
        build_trie(&bd, a, &sp.hi, 64, &r->t6) < 0 ||
        build_lo(&bd, r, &rg6, &sp) < 0 ||
        build_hash(a, &r->h6, hosts, h0, h1, r->n_recs) < 0)
        goto out;
    if (heap_take(&bd, 0, 1, &h0) < 0) /* the heap exists even when empty */
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

static int
freeze_into(rp__radix *r, rp__radix_builder *b, rx_recs *rs)
{
    rx_ranges rg = {NULL, 0, 0}, hosts = {NULL, 0, 0};
    int rc = -1;

    if (b->n > 1)
        qsort(b->v, b->n, sizeof(*b->v), pfx_cmp);
    if (sweep(&r->alloc, b->v, b->n, rs, &rg, &hosts) == 0) {
        rp__free(&b->alloc, b->v);
        b->v = NULL;
        r->n_recs = rs->n;
        rc = compile(r, &rg, &hosts);
    }
    rp__free(&r->alloc, rg.v);
    rp__free(&r->alloc, hosts.v);
    if (rc == 0) {
        r->recs = rs->data;
        rs->data = NULL;
    }
    return rc;
}

rp__radix *
rp__radix_freeze(rp__radix_builder *b, uint32_t n_lists)
{
    rp__radix *r;
    rx_recs rs;
    int rc = -1;

    if (b == NULL)
        return NULL;
    r = rp__calloc(&b->alloc, 1, sizeof(*r));
    if (r != NULL) {
        r->alloc = b->alloc;
        r->n_lists = n_lists;
        if (recs_init(&rs, &r->alloc, n_lists) == 0)
            rc = freeze_into(r, b, &rs);
        recs_free(&rs);
    }
    rp__radix_builder_free(b);
    if (rc < 0) {
        rp__radix_free(r);
        return NULL;
    }
    return r;
}

/* ------------------------------------------------------------------------
 * Lookup
 * ------------------------------------------------------------------------ */

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
            c += (ld64(k + i * kw) & (~0ull >> (64 - 8 * kw))) <= xt;
        return c;
    }
}

/* The range of a blob holding @p x (keys compared past the top @p d bits):
 * binary search down to a short window, then a branch-free count. */
static inline uint32_t
blob_find(const uint8_t *p, uint64_t x, unsigned d, unsigned vw)
{
    size_t m = (size_t)p[0] | (size_t)p[1] << 8, b = 0, len = m + 1;
    unsigned kw = p[2];
    uint64_t xt = (x << d) >> (64 - 8 * kw), km = ~0ull >> (64 - 8 * kw);
    const uint8_t *k = p + 3;

    while (len > RX_SCAN + 1) {
        size_t half = len / 2;

        b = (ld64(k + (b + half - 1) * kw) & km) <= xt ? b + half : b;
        len -= half;
    }
    b += count_le(k + b * kw, len - 1, kw, xt);
    return ld_val(k + m * kw + b * vw, vw);
}

/* The child of a node for the 8 bits of @p x after the top @p d. */
static inline uint32_t
node_child(const uint8_t *p, uint64_t x, unsigned d)
{
    unsigned j = (unsigned)((x << d) >> 56), w = j >> 6;
    uint64_t bits = ld64(p + 8 * w) & (~0ull >> (63 - (j & 63)));

    return ld32(p + RX_NODE_HDR + 4 * (p[32 + w] + popcount64(bits) - 1));
}

/* Walks a trie from entry @p e at depth @p d to the value for @p x. */
static inline uint32_t
walk(const rp__radix *r, uint32_t e, uint64_t x, unsigned d)
{
    for (; d <= 64; d += 8) {
        const uint8_t *p = r->heap + (e & RX_PAYLOAD);

        if (e >> 30 == RX_TAG_BLOB)
            return blob_find(p, x, d, r->vw);
        if (e >> 30 != RX_TAG_NODE || d > 48)
            break;
        e = node_child(p, x, d);
    }
    return e & RX_PAYLOAD;
}

static inline uint32_t
walk_trie(const rp__radix *r, const rx_trie *t, uint64_t x)
{
    if (t->dir != NULL)
        return walk(r, t->dir[x >> 48], x, 16);
    return walk(r, t->root, x, 0);
}

const uint8_t *
rp__radix_lookup4(const rp__radix *r, uint32_t addr)
{
    uint32_t rid = walk_trie(r, &r->t4, (uint64_t)addr << 32);

    if (rid >= r->n_recs)
        rid = 0;
    return r->recs + (size_t)rid * r->n_lists;
}

const uint8_t *
rp__radix_lookup(const rp__radix *r, const uint8_t key[16])
{
    uint64_t hi = load_be64(key), lo = load_be64(key + 8);
    uint32_t rid;

    if (hi == 0 && (lo >> 32) == 0xffff)
        return rp__radix_lookup4(r, (uint32_t)lo);
    if (r->h6.n == 0 || !hash_find(&r->h6, hi, lo, &rid)) {
        rid = walk_trie(r, &r->t6, hi);
        if (rid >= r->n_recs && rid - r->n_recs < r->n_lo)
            rid = walk(r, r->lo_root[rid - r->n_recs], lo, 0);
    }
    if (rid >= r->n_recs)
        rid = 0;
    return r->recs + (size_t)rid * r->n_lists;
}

static size_t
hash_memory(const rx_hash *h)
{
    return h->n == 0 ? 0 : (size_t)h->nb * 64;
}

size_t
rp__radix_memory(const rp__radix *r)
{
    size_t dirs = 0;

    if (r == NULL)
        return 0;
    dirs += r->t4.dir != NULL ? 65536 * sizeof(uint32_t) : 0;
    dirs += r->t6.dir != NULL ? 65536 * sizeof(uint32_t) : 0;
    return sizeof(*r) + (size_t)r->n_recs * r->n_lists + r->heap_len + dirs +
           (size_t)r->n_lo * sizeof(uint32_t) + hash_memory(&r->h6);
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
