/*
 * radix_crosscheck.c - the prefix table against a reference, without
 * Criterion, so that it runs on any host: scripts/test-s390x.sh builds it
 * for big-endian s390x and runs it under qemu-user.
 *
 * Two tables, built from a fixed seed: a mixed one (IPv4 prefixes and
 * hosts, IPv6 prefixes of every length, wide ones holding ::ffff:0:0/96,
 * prefixes around that block) checked against a scan of every prefix, and
 * a large one (IPv4 and IPv6 routes and hosts, enough for the first
 * stride and the host table) checked against a search per prefix length.
 * Every lookup goes through rp__radix_lookup(), IPv4 keys also through
 * rp__radix_lookup4(), and in batches of BATCH keys through
 * rp__radix_lookup_batch() and rp__radix_lookup4_batch(); the answers must
 * equal the reference's, address families as relaypolicy(7) §2 has them.  The
 * digest of all answers is printed so that two hosts can be compared.  Exit 0
 * when all agree.
 */
#include "alloc.h"
#include "radix.h"
#include "radix_ref.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_LISTS 5

static uint64_t digest = 0xcbf29ce484222325ull;
static unsigned long n_lookups, n_bad;

static bool
is_v4(const uint8_t key[16])
{
    uint32_t addr;

    return key_is_v4(key, &addr);
}

/* A random key: IPv4 or IPv6, near one of a few bases so that keys and
 * prefixes meet often. */
static void
random_key(uint8_t key[16])
{
    static const uint8_t bases[3][2] = {{0x20, 0x01}, {0, 0}, {0xfe, 0x80}};
    unsigned k = rng_below(8);

    if (k < 4) {
        uint32_t a = (uint32_t)rng();
        if (k < 2)
            a = (a & 0x00ffffffu) | (k ? 0x0a000000u : 0xc0000000u);
        key_v4(key, a);
        return;
    }
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)rng();
    if (k < 7) {
        memset(key, 0, 4 + rng_below(8));
        memcpy(key, bases[k - 4], 2);
    }
}

static void
add(rp__radix_builder *b,
    pfx *v,
    size_t *n,
    const uint8_t key[16],
    unsigned plen)
{
    pfx *p = &v[(*n)++];

    memcpy(p->key, key, 16);
    key_mask(p->key, plen);
    p->plen = plen;
    p->list = rng_below(N_LISTS);
    if (rp__radix_add(b, p->key, plen, p->list) != 0) {
        fprintf(stderr, "rp__radix_add failed\n");
        exit(2);
    }
}

/* Compares one lookup with the reference answer @p want. */
static void
check(const rp__radix *t, const uint8_t key[16], const uint8_t *want)
{
    const uint8_t *got = rp__radix_lookup(t, key);

    n_lookups++;
    if (memcmp(got, want, N_LISTS) != 0 ||
        (is_v4(key) &&
         memcmp(rp__radix_lookup4(t, (uint32_t)key[12] << 24 |
                                         (uint32_t)key[13] << 16 |
                                         (uint32_t)key[14] << 8 | key[15]),
                want, N_LISTS) != 0)) {
        if (n_bad++ < 10)
            fprintf(stderr,
                    "mismatch for key %02x%02x:%02x%02x:..:%02x%02x:"
                    "%02x%02x:%02x%02x: list 0 got %u want %u\n",
                    key[0], key[1], key[2], key[3], key[10], key[11], key[12],
                    key[13], key[14], key[15], got[0], want[0]);
    }
    for (int i = 0; i < N_LISTS; i++)
        digest = (digest ^ got[i]) * 0x100000001b3ull;
}

/* Keys waiting for a batch lookup, with their reference answers; a batch
 * size that is not a multiple of the lanes of a batch walk. */
#define BATCH 37
static uint8_t pend_key[BATCH][16], pend_want[BATCH][N_LISTS];
static size_t n_pend;

/* Looks the waiting keys up in batches (IPv4 ones also through the IPv4
 * batch) and compares the answers with the reference. */
static void
flush(const rp__radix *t)
{
    const uint8_t *keys[BATCH] = {0}, *got[BATCH], *got4[BATCH];
    uint32_t addr[BATCH];
    size_t idx4[BATCH], n4 = 0;

    for (size_t i = 0; i < n_pend; i++) {
        keys[i] = pend_key[i];
        if (is_v4(keys[i])) {
            idx4[n4] = i;
            addr[n4++] = (uint32_t)keys[i][12] << 24 |
                         (uint32_t)keys[i][13] << 16 |
                         (uint32_t)keys[i][14] << 8 | keys[i][15];
        }
    }
    rp__radix_lookup_batch(t, keys, n_pend, got);
    rp__radix_lookup4_batch(t, addr, n4, got4);
    for (size_t i = 0; i < n_pend; i++) {
        n_lookups++;
        if (memcmp(got[i], pend_want[i], N_LISTS) != 0 && n_bad++ < 10)
            fprintf(stderr, "batch mismatch for key %02x%02x:...:%02x%02x\n",
                    keys[i][0], keys[i][1], keys[i][14], keys[i][15]);
    }
    for (size_t j = 0; j < n4; j++) {
        n_lookups++;
        if (memcmp(got4[j], pend_want[idx4[j]], N_LISTS) != 0 && n_bad++ < 10)
            fprintf(stderr, "IPv4 batch mismatch for %08x\n", addr[j]);
    }
    n_pend = 0;
}

static void
check_batched(const rp__radix *t, const uint8_t key[16], const uint8_t *want)
{
    check(t, key, want);
    memcpy(pend_key[n_pend], key, 16);
    memcpy(pend_want[n_pend], want, N_LISTS);
    if (++n_pend == BATCH)
        flush(t);
}

/* ---- the mixed table, against a scan of every prefix -------------------- */

static void
mixed(const rp__alloc *a, unsigned n_pfx, unsigned n_keys)
{
    rp__radix_builder *b = rp__radix_builder_new(a);
    pfx *v = malloc(n_pfx * sizeof(*v));
    uint8_t key[16], want[N_LISTS];
    size_t n = 0;
    rp__radix *t;

    while (n < n_pfx) {
        random_key(key);
        if (is_v4(key))
            add(b, v, &n, key, rng_below(3) ? 96 + rng_below(33) : 128);
        else if (rng_below(4) == 0)
            add(b, v, &n, (uint8_t[16]){0},
                rng_below(97)); /* holds the block */
        else
            add(b, v, &n, key, rng_below(3) ? rng_below(129) : 128);
    }
    t = rp__radix_freeze(b, N_LISTS);
    if (t == NULL) {
        fprintf(stderr, "freeze failed\n");
        exit(2);
    }
    for (unsigned i = 0; i < n_keys; i++) {
        if (i % 2 == 0) { /* an edge of a prefix, or just past it */
            const pfx *p = &v[rng_below((unsigned)n)];
            memcpy(key, p->key, 16);
            if (rng_below(2))
                for (unsigned bit = p->plen; bit < 128; bit++)
                    key[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
            if (rng_below(2))
                key[15] ^= 1;
        } else {
            random_key(key);
        }
        ref_scan(v, n, key, want, N_LISTS);
        check_batched(t, key, want);
    }
    flush(t);
    rp__radix_free(t);
    free(v);
}

/* ---- the large table, against a search per prefix length ---------------- */

static const unsigned large_lens[] = {104, 112, 120, 128, 32, 48, 64, 80};

static void
large(const rp__alloc *a, unsigned n_pfx, unsigned n_keys)
{
    rp__radix_builder *b = rp__radix_builder_new(a);
    pfx *v = malloc(n_pfx * sizeof(*v));
    uint8_t key[16], want[N_LISTS];
    size_t n = 0;
    rp__radix *t;

    while (n < n_pfx) {
        random_key(key);
        add(b, v, &n, key,
            is_v4(key) ? large_lens[rng_below(4)]
                       : large_lens[4 + rng_below(4)]);
        if (!is_v4(key) && rng_below(4) == 0)
            add(b, v, &n, key, 128);
    }
    t = rp__radix_freeze(b, N_LISTS);
    if (t == NULL) {
        fprintf(stderr, "freeze failed\n");
        exit(2);
    }
    qsort(v, n, sizeof(*v), ref_by_len);
    for (unsigned i = 0; i < n_keys; i++) {
        if (i % 2 == 0) {
            memcpy(key, v[rng_below((unsigned)n)].key, 16);
            key[15] ^= (uint8_t)rng_below(4);
        } else {
            random_key(key);
        }
        ref_search(v, n, large_lens, sizeof(large_lens) / sizeof(*large_lens),
                   key, want, N_LISTS);
        check_batched(t, key, want);
    }
    flush(t);
    rp__radix_free(t);
    free(v);
}

int
main(void)
{
    const uint16_t one = 1;
    rp__alloc a;

    rp__alloc_init(&a, NULL);
    rng_state = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 8; round++)
        mixed(&a, 60 + 40 * (unsigned)round, 8000);
    large(&a, 40000, 40000);
    printf("%s-endian: %lu lookups, %lu wrong, digest %016" PRIx64 "\n",
           *(const uint8_t *)&one ? "little" : "big", n_lookups, n_bad, digest);
    return n_bad == 0 && n_lookups > 0 ? 0 : 1;
}
