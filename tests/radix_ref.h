/*
 * radix_ref.h - what the prefix table's tests share: the key helpers and
 * two references that answer a lookup from the added prefixes alone (a
 * scan of all of them, and a binary search per prefix length).  Used by
 * test_radix.c (Criterion, or tests/standalone.h) and radix_crosscheck.c
 * (no test framework, for scripts/test-s390x.sh); nothing here depends on
 * either.
 *
 * Address families as relaypolicy(7) §2 has them: an IPv4 key (inside
 * ::ffff:0:0/96) is matched by the prefixes inside that block only, so a
 * prefix containing the whole block never matches it.
 */
#ifndef RP_TESTS_RADIX_REF_H
#define RP_TESTS_RADIX_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "radix.h"

/* A small deterministic generator (xorshift64*); seed rng_state. */
static uint64_t rng_state;

static inline uint64_t
rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static inline uint32_t
rng_below(uint32_t n)
{
    return (uint32_t)(rng() % n);
}

/* An added prefix: its key (host bits clear), length and list. */
typedef struct pfx {
    uint8_t key[16];
    unsigned plen;
    uint32_t list;
} pfx;

static inline void
key_v4(uint8_t key[16], uint32_t addr)
{
    memset(key, 0, 16);
    key[10] = 0xff;
    key[11] = 0xff;
    for (int i = 0; i < 4; i++)
        key[12 + i] = (uint8_t)(addr >> (24 - 8 * i));
}

/* Whether @p key is an IPv4 one, with the address in *addr. */
static inline bool
key_is_v4(const uint8_t key[16], uint32_t *addr)
{
    static const uint8_t pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (memcmp(key, pre, 12) != 0)
        return false;
    *addr = (uint32_t)key[12] << 24 | (uint32_t)key[13] << 16 |
            (uint32_t)key[14] << 8 | key[15];
    return true;
}

/* Clears the bits of @p key past @p plen. */
static inline void
key_mask(uint8_t key[16], unsigned plen)
{
    for (unsigned i = 0; i < 16; i++) {
        if (plen >= 8 * (i + 1))
            continue;
        if (plen <= 8 * i)
            key[i] = 0;
        else
            key[i] &= (uint8_t)(0xff << (8 - (plen - 8 * i)));
    }
}

/* Whether prefix @p p matches @p key (@p v4: the key is an IPv4 one). */
static inline bool
ref_matches(const pfx *p, const uint8_t key[16], bool v4)
{
    uint8_t k[16];

    if (v4 && p->plen < 96)
        return false;
    memcpy(k, key, 16);
    key_mask(k, p->plen);
    return memcmp(k, p->key, 16) == 0;
}

/* Keeps the longest match per list in @p out. */
static inline void
ref_note(uint8_t *out, uint32_t list, unsigned plen)
{
    if (out[list] == RP__NOMATCH || out[list] < plen)
        out[list] = (uint8_t)plen;
}

/* The answer for @p key over the @p nl lists, by a scan of every prefix
 * (prefixes of lists >= nl are ignored). */
static inline void
ref_scan(
    const pfx *v, size_t n, const uint8_t key[16], uint8_t *out, uint32_t nl)
{
    uint32_t addr;
    bool v4 = key_is_v4(key, &addr);

    memset(out, RP__NOMATCH, nl);
    for (size_t i = 0; i < n; i++)
        if (v[i].list < nl && ref_matches(&v[i], key, v4))
            ref_note(out, v[i].list, v[i].plen);
}

/* The order ref_search() needs: by length, then key. */
static inline int
ref_by_len(const void *x, const void *y)
{
    const pfx *p = x, *q = y;

    if (p->plen != q->plen)
        return p->plen < q->plen ? -1 : 1;
    return memcmp(p->key, q->key, 16);
}

/* The same answer as ref_scan(), for prefixes sorted with ref_by_len()
 * whose lengths are all among @p lens: a binary search per length. */
static inline void
ref_search(const pfx *v,
           size_t n,
           const unsigned *lens,
           size_t n_lens,
           const uint8_t key[16],
           uint8_t *out,
           uint32_t nl)
{
    uint32_t addr;
    bool v4 = key_is_v4(key, &addr);

    memset(out, RP__NOMATCH, nl);
    for (size_t l = 0; l < n_lens; l++) {
        pfx probe = {.plen = lens[l]};
        size_t lo = 0, hi = n;

        if (v4 && lens[l] < 96)
            continue;
        memcpy(probe.key, key, 16);
        key_mask(probe.key, lens[l]);
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (ref_by_len(&v[mid], &probe) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < n && ref_by_len(&v[lo], &probe) == 0; lo++)
            if (v[lo].list < nl)
                ref_note(out, v[lo].list, lens[l]);
    }
}

#endif /* RP_TESTS_RADIX_REF_H */
