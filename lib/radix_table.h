/*
 * radix_table.h - the compiled prefix table's layout, shared by radix.c
 * (builder and sweep), radix_compile.c (the compiled form, built from the
 * sweep's ranges) and radix_lookup.c.  Private to those three files.
 */
#ifndef RP_RADIX_TABLE_H
#define RP_RADIX_TABLE_H

#include <stdint.h>
#include <string.h>

#include "radix.h"

/* A range of the leaf-pushed space: from its start to the next start. */
typedef struct rp__rx_range {
    uint64_t hi;
    uint64_t lo;
    uint32_t rid;
} rp__rx_range;

typedef struct rp__rx_ranges {
    rp__rx_range *v;
    size_t n;
    size_t cap;
} rp__rx_ranges;

/* radix_compile.c: append a range start (push), or append one replacing
 * a range at the same start and merging neighbours that map to the same
 * record (emit).  Both return 0, -1 on no memory. */
int rp__rx_ranges_push(const rp__alloc *a,
                       rp__rx_ranges *r,
                       uint64_t hi,
                       uint64_t lo,
                       uint32_t rid);
int rp__rx_ranges_emit(const rp__alloc *a,
                       rp__rx_ranges *r,
                       uint64_t hi,
                       uint64_t lo,
                       uint32_t rid);

/* Exact-match table for IPv6 hosts: 64-byte buckets of keys, then records;
 * the last byte of a bucket is set when a key went on to the next one. */
typedef struct rp__rx_hash {
    uint8_t *b;
    void *raw;       /* the allocation b was aligned in */
    uint32_t nb;     /* buckets */
    uint32_t n;      /* hosts */
    uint32_t probes; /* most buckets any lookup visits */
    unsigned slots;
    unsigned rw; /* bytes per record id */
} rp__rx_hash;

/* A compiled range table over 64-bit keys: when it is large, a first
 * stride of @p bits bits over the window of indexes [w0, w0 + wn) where
 * keys lie (values @p below and @p above outside); else one root entry. */
typedef struct rp__rx_trie {
    uint32_t *dir;
    uint64_t w0;
    uint64_t wn;
    uint32_t below;
    uint32_t above;
    uint32_t root;
    unsigned bits;
} rp__rx_trie;

struct rp__radix {
    rp__alloc alloc;
    uint32_t n_lists;
    uint32_t n_recs;
    uint8_t *recs; /* n_recs * n_lists bytes, at least one */
    uint8_t *heap; /* blobs and nodes of every trie */
    size_t heap_len;
    unsigned vw; /* bytes per value in the heap */
    rp__rx_trie t4;
    rp__rx_trie t6;    /* the high halves of IPv6 keys */
    uint32_t *lo_root; /* per /64 with longer prefixes: its low-half trie */
    uint32_t n_lo;
    rp__rx_hash h6;
};

/* The IPv4-mapped block ::ffff:0:0/96 as the low half of a key. */
#define RP__RX_V4_LO 0x0000ffff00000000ull
#define RP__RX_V4_END 0x0000ffffffffffffull

/* Trie entries: a value, a blob (a sorted run of ranges) or a node (the
 * next 8 bits, children compressed with a bitmap).
 *
 * The heap's layout (compiled policy file format 2, radix_compile.c):
 *   node  8-aligned: a 256-bit child bitmap (four little-endian u64), four
 *         u8 counts of the set bits before each u64, then one u32 entry
 *         per set bit (a run of equal children is kept once);
 *   blob  u16 key count m (at most RP__RX_BLOB_KEYS), u8 key width kw, m
 *         keys of kw bytes (the bits after the blob's depth, top-aligned),
 *         m + 1 values of vw bytes.  In the IPv4 trie kw is never 3 and
 *         is at least 2 where more than 8 key bits remain, so that it
 *         follows from the depth and keys compare in 8-, 16- or 32-bit
 *         vector lanes (format 1 used the narrowest width, any of 1..8);
 *   offset 0 holds an empty blob, RP__RX_PAD bytes of slack follow the
 *   heap (format 1: 80 bytes).
 * Opening a file does not walk this (radix_check.c): lookups bound their
 * reads as below. */
#define RP__RX_TAG_VAL 0u
#define RP__RX_TAG_BLOB 1u
#define RP__RX_TAG_NODE 2u
#define RP__RX_PAYLOAD 0x3fffffffu
#define RP__RX_NODE_HDR 36   /* bitmap (32 bytes) and four prefix counts */
#define RP__RX_BLOB_KEYS 255 /* most keys in a blob (a node's 256 children) */
/* Readable slack after the heap.  Lookups read ahead (up to 32 bytes of
 * keys at once), and bound what they read so that a damaged table
 * cannot make them leave the heap and its slack: an entry's offset past
 * the heap reads offset 0, a node's child index is masked to 0..255, a
 * blob's key count is capped at RP__RX_BLOB_KEYS and its key width taken
 * as 1..8 (value widths, 1..4, are checked once when a table is read).
 * The largest reach from an offset inside the heap is then a blob's:
 * 3 + 255 * 8 keys, 256 * 4 value bytes, an 8-byte over-read. */
#define RP__RX_PAD 4096

/* Builds the compiled form of @p r (whose n_recs is set) from the ranges
 * and hosts of two sweeps: one over the IPv6 prefixes (@p rg, @p hosts),
 * one over the IPv4 ones, those inside ::ffff:0:0/96 (@p rg4, @p hosts4).
 * Returns 0, -1 on no memory; @p r is freeable then. */
int rp__rx_compile(rp__radix *r,
                   const rp__rx_ranges *rg,
                   const rp__rx_ranges *hosts,
                   const rp__rx_ranges *rg4,
                   const rp__rx_ranges *hosts4);

/* The compiled table's bytes (blobs, nodes, host tables) are
 * little-endian on every host: radix_compile.c writes them with
 * rp__rx_st_le(), radix_lookup.c reads them with these, which are plain
 * loads on a little-endian host and a load and a byte swap elsewhere. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define RP__RX_LE 1
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define RP__RX_LE 0
#endif

static inline uint64_t
rp__rx_ld_le64(const uint8_t *p)
{
#ifdef RP__RX_LE
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return RP__RX_LE ? v : __builtin_bswap64(v);
#else
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
#endif
}

static inline uint32_t
rp__rx_ld_le32(const uint8_t *p)
{
#ifdef RP__RX_LE
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return RP__RX_LE ? v : __builtin_bswap32(v);
#else
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
#endif
}

/* Stores the low @p w bytes of @p v at @p p, little-endian. */
static inline void
rp__rx_st_le(uint8_t *p, uint64_t v, unsigned w)
{
    for (unsigned i = 0; i < w; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The set bits of @p x (a node's child bitmap). */
static inline unsigned
rp__rx_popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

/* The home bucket of an IPv6 host in a table of @p nb buckets. */
static inline uint32_t
rp__rx_bucket(uint32_t nb, uint64_t hi, uint64_t lo)
{
    uint64_t h = (hi ^ (lo * 0xc2b2ae3d27d4eb4full)) * 0x9e3779b97f4a7c15ull;

    return (uint32_t)(((h >> 32) * nb) >> 32);
}

#endif /* RP_RADIX_TABLE_H */
