/*
 * radix.c - which prefix lists contain an address: building.
 *
 * The builder collects (prefix, list) pairs.  Freezing sorts them and sweeps
 * the address space once, leaf-pushing every prefix: the space is cut into
 * ranges, each mapped to one "record", the per-list longest match for every
 * address in the range.  Records are deduplicated, so a record id stands
 * for a whole answer and a lookup only has to find the range.
 * radix_compile.c turns the ranges into the compiled form that
 * radix_lookup.c reads.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "radix.h"
#include "radix_table.h"
#include "relaypolicy.h"
#include "text.h"

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
rp__radix_add(rp__radix_builder *b,
              const uint8_t key[16],
              unsigned plen,
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
    rs->slot[rp__hash_bytes(rs->data, n_lists) & rs->slot_mask] = 1;
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
        uint32_t i = rp__hash_bytes(p, rs->n_lists) & mask;

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
    uint32_t i = rp__hash_bytes(cand, nl) & rs->slot_mask;

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
recs_step(
    rx_recs *rs, uint32_t from, uint32_t list, uint32_t plen, uint32_t *to)
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
    p = rp__grow(rs->a, rs->data, &rs->data_cap, ((size_t)rs->n + 1) * nl, 1);
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

/* Byte @p i of a prefix's sort key, least significant first: the list
 * (bytes 0-3), the length (4), the low half (5-12), the high half
 * (13-20); pfx_cmp's order. */
#define RX_SORT_DIGITS 21

static inline unsigned
pfx_digit(const rx_pfx *p, unsigned i)
{
    if (i < 4)
        return (p->list >> (8 * i)) & 0xff;
    if (i == 4)
        return p->plen & 0xff; /* at most 128 */
    if (i < 13)
        return (unsigned)(p->lo >> (8 * (i - 5))) & 0xff;
    return (unsigned)(p->hi >> (8 * (i - 13))) & 0xff;
}

/* Sorts @p v in pfx_cmp's order: a radix sort, least significant byte
 * first, that skips the bytes every key shares (IPv4 prefixes have 16 of
 * 21 alike), one counting pass for all of them.  qsort when short or out
 * of memory. */
static void
pfx_sort(const rp__alloc *a, rx_pfx *v, size_t n)
{
    size_t(*cnt)[256] = NULL;
    rx_pfx *tmp = NULL, *src = v, *dst;

    if (n >= 256) {
        cnt = rp__calloc(a, RX_SORT_DIGITS, sizeof(*cnt));
        tmp = rp__malloc(a, n * sizeof(*tmp));
    }
    if (cnt == NULL || tmp == NULL) {
        rp__free(a, cnt);
        rp__free(a, tmp);
        if (n > 1)
            qsort(v, n, sizeof(*v), pfx_cmp);
        return;
    }
    for (size_t i = 0; i < n; i++)
        for (unsigned d = 0; d < RX_SORT_DIGITS; d++)
            cnt[d][pfx_digit(&v[i], d)]++;
    dst = tmp;
    for (unsigned d = 0; d < RX_SORT_DIGITS; d++) {
        size_t at = 0;

        if (cnt[d][pfx_digit(&v[0], d)] == n)
            continue; /* every key has this byte */
        for (unsigned b = 0; b < 256; b++) {
            size_t c = cnt[d][b];

            cnt[d][b] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[cnt[d][pfx_digit(&src[i], d)]++] = src[i];
        dst = src;
        src = dst == v ? tmp : v;
    }
    if (src != v)
        memcpy(v, src, n * sizeof(*v));
    rp__free(a, cnt);
    rp__free(a, tmp);
}

/* An open prefix during the sweep: its last address and record. */
typedef struct rx_open {
    uint64_t ehi;
    uint64_t elo;
    uint32_t rid;
} rx_open;

/* Closes every open prefix that ends before (hi, lo). */
static int
sweep_close(const rp__alloc *a,
            rp__rx_ranges *out,
            rx_open *st,
            int *depth,
            uint64_t hi,
            uint64_t lo)
{
    while (*depth > 0) {
        const rx_open *top = &st[*depth];
        uint64_t nhi, nlo;

        if (top->ehi > hi || (top->ehi == hi && top->elo >= lo))
            break;
        nlo = top->elo + 1;
        nhi = top->ehi + (nlo == 0);
        (*depth)--;
        if (rp__rx_ranges_emit(a, out, nhi, nlo, st[*depth].rid) < 0)
            return -1;
    }
    return 0;
}

/* Sweeps the sorted prefixes into leaf-pushed ranges.  Hosts (/128) do
 * not cut ranges: they go to @p hosts with their final record. */
static int
sweep(const rp__alloc *a,
      const rx_pfx *v,
      size_t n,
      rx_recs *rs,
      rp__rx_ranges *out,
      rp__rx_ranges *hosts)
{
    rx_open st[131];
    int depth = 0;
    size_t i = 0;

    st[0] = (rx_open){~0ull, ~0ull, 0};
    if (rp__rx_ranges_emit(a, out, 0, 0, 0) < 0)
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
            if (rp__rx_ranges_push(a, hosts, p->hi, p->lo, rid) < 0)
                return -1;
            continue;
        }
        if (rp__rx_ranges_emit(a, out, p->hi, p->lo, rid) < 0)
            return -1;
        host_mask(p->plen, &mhi, &mlo);
        depth++;
        st[depth] = (rx_open){p->hi | mhi, p->lo | mlo, rid};
    }
    return sweep_close(a, out, st, &depth, ~0ull, ~0ull);
}
/* ------------------------------------------------------------------------
 * Freezing
 * ------------------------------------------------------------------------ */

/* Moves the prefixes inside ::ffff:0:0/96 (the IPv4 ones) out of the
 * sorted @p b->v into *v4 (*n4 of them), keeping the rest in order.  No
 * prefix shorter than /96 starts inside the block, so they are one run.
 * Returns 0, -1 on no memory. */
static int
split_v4(rp__radix_builder *b, rx_pfx **v4, size_t *n4)
{
    size_t i0 = 0, i1;

    while (i0 < b->n && b->v[i0].hi == 0 && b->v[i0].lo < RP__RX_V4_LO)
        i0++;
    for (i1 = i0;
         i1 < b->n && b->v[i1].hi == 0 && b->v[i1].lo <= RP__RX_V4_END;)
        i1++;
    *n4 = i1 - i0;
    *v4 = NULL;
    if (*n4 == 0)
        return 0;
    *v4 = rp__malloc(&b->alloc, *n4 * sizeof(**v4));
    if (*v4 == NULL)
        return -1;
    memcpy(*v4, b->v + i0, *n4 * sizeof(**v4));
    memmove(b->v + i0, b->v + i1, (b->n - i1) * sizeof(*b->v));
    b->n -= *n4;
    return 0;
}

/* Address families (relaypolicy(7) §2): IPv4 clients are looked up in the
 * ranges of the IPv4 prefixes alone, so an IPv6 prefix containing the
 * whole of ::ffff:0:0/96 (::/8, ::/64, ::/0) never matches them; IPv6
 * clients (never inside the block) in the ranges of the others. */
static int
freeze_into(rp__radix *r, rp__radix_builder *b, rx_recs *rs)
{
    rp__rx_ranges rg = {NULL, 0, 0}, hosts = {NULL, 0, 0};
    rp__rx_ranges rg4 = {NULL, 0, 0}, hosts4 = {NULL, 0, 0};
    rx_pfx *v4 = NULL;
    size_t n4 = 0;
    int rc = -1;

    pfx_sort(&b->alloc, b->v, b->n);
    if (split_v4(b, &v4, &n4) == 0 &&
        sweep(&r->alloc, b->v, b->n, rs, &rg, &hosts) == 0 &&
        sweep(&r->alloc, v4, n4, rs, &rg4, &hosts4) == 0) {
        rp__free(&b->alloc, b->v);
        b->v = NULL;
        r->n_recs = rs->n;
        rc = rp__rx_compile(r, &rg, &hosts, &rg4, &hosts4);
    }
    rp__free(&r->alloc, v4);
    rp__free(&r->alloc, rg.v);
    rp__free(&r->alloc, hosts.v);
    rp__free(&r->alloc, rg4.v);
    rp__free(&r->alloc, hosts4.v);
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
