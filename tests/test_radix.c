/*
 * test_radix.c - the IP prefix table.
 *
 * Fixed cases check the documented behaviour; randomized cases compare
 * every lookup against a reference that scans all added prefixes.
 */
#include "alloc.h"
#include "radix.h"
#include "radix_ref.h"
#include "radix_table.h"

#ifdef RP_STANDALONE_TEST
#include "standalone.h" /* scripts/test-s390x.sh: no Criterion there */
#else
#include <criterion/criterion.h>
#endif

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Keys and the reference
 * ------------------------------------------------------------------------ */

typedef struct ref {
    pfx *v;
    size_t n;
    size_t cap;
} ref;

/* Sets (fill = 1) or clears the host bits of a key. */
static void
key_host(uint8_t key[16], unsigned plen, int fill)
{
    uint8_t tmp[16];

    memcpy(tmp, key, 16);
    key_mask(tmp, plen);
    for (unsigned i = 0; i < 16; i++) {
        uint8_t host = (uint8_t)~0;

        if (plen >= 8 * (i + 1))
            host = 0;
        else if (plen > 8 * i)
            host = (uint8_t)(0xff >> (plen - 8 * i));
        key[i] = fill ? (tmp[i] | host) : tmp[i];
    }
}

/* Adds one to (+1) or subtracts one from (-1) a 128-bit key, wrapping. */
static void
key_step(uint8_t key[16], int dir)
{
    for (int i = 15; i >= 0; i--) {
        key[i] = (uint8_t)(key[i] + dir);
        if ((dir > 0 && key[i] != 0) || (dir < 0 && key[i] != 0xff))
            break;
    }
}

static void
ref_add(ref *r,
        rp__radix_builder *b,
        const uint8_t key[16],
        unsigned plen,
        uint32_t list)
{
    pfx *p;

    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->v = realloc(r->v, r->cap * sizeof(*r->v));
        cr_assert_not_null(r->v);
    }
    p = &r->v[r->n++];
    memcpy(p->key, key, 16);
    key_mask(p->key, plen);
    p->plen = plen;
    p->list = list;
    cr_assert_eq(rp__radix_add(b, p->key, plen, list), 0);
}

/* The reference answer: a scan of every prefix added. */
static void
ref_lookup(const ref *r, const uint8_t key[16], uint8_t *out, uint32_t nl)
{
    ref_scan(r->v, r->n, key, out, nl);
}

/* Checks one key through both entry points against the reference. */
static void
check_key(const rp__radix *t, const ref *r, const uint8_t key[16], uint32_t nl)
{
    uint8_t want[512];
    const uint8_t *got;
    uint32_t addr;

    cr_assert_leq(nl, sizeof(want));
    ref_lookup(r, key, want, nl);
    got = rp__radix_lookup(t, key);
    cr_assert_not_null(got);
    for (uint32_t i = 0; i < nl; i++) {
        cr_assert_eq(got[i], want[i],
                     "list %u: got %u want %u for key "
                     "%02x%02x:%02x%02x:..:%02x%02x:%02x%02x:%02x%02x",
                     i, got[i], want[i], key[0], key[1], key[2], key[3],
                     key[10], key[11], key[12], key[13], key[14], key[15]);
    }
    if (key_is_v4(key, &addr)) {
        const uint8_t *got4 = rp__radix_lookup4(t, addr);

        cr_assert_not_null(got4);
        cr_assert_eq(memcmp(got4, want, nl), 0, "lookup4 differs for %08x",
                     addr);
    }
}

/* Checks every prefix's edges and their neighbours, plus random keys. */
static void
check_all(const rp__radix *t,
          const ref *r,
          uint32_t nl,
          unsigned n_random,
          void (*random_key)(uint8_t key[16]))
{
    uint8_t key[16];

    for (size_t i = 0; i < r->n; i++) {
        for (int fill = 0; fill <= 1; fill++) {
            memcpy(key, r->v[i].key, 16);
            key_host(key, r->v[i].plen, fill);
            check_key(t, r, key, nl);
            key_step(key, fill ? 1 : -1);
            check_key(t, r, key, nl);
        }
    }
    for (unsigned i = 0; i < n_random; i++) {
        random_key(key);
        check_key(t, r, key, nl);
    }
}

static void
ref_free(ref *r)
{
    free(r->v);
    memset(r, 0, sizeof(*r));
}

static rp__alloc libc_alloc;

static void
setup(void)
{
    rp__alloc_init(&libc_alloc, NULL);
    rng_state = 0x853c49e6748fea9bull;
}

/* ------------------------------------------------------------------------
 * Fixed cases
 * ------------------------------------------------------------------------ */

Test(radix, empty_builder, .init = setup)
{
    rp__radix *t = rp__radix_freeze(rp__radix_builder_new(&libc_alloc), 3);
    uint8_t key[16] = {0x20, 0x01, 0x0d, 0xb8};
    const uint8_t *rec;

    cr_assert_not_null(t);
    rec = rp__radix_lookup(t, key);
    cr_assert_not_null(rec);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(rec[i], RP__NOMATCH);
    rec = rp__radix_lookup4(t, 0xc0000201);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(rec[i], RP__NOMATCH);
    cr_assert_gt(rp__radix_memory(t), 0);
    rp__radix_free(t);
}

Test(radix, zero_lists, .init = setup)
{
    rp__radix_builder *b = rp__radix_builder_new(&libc_alloc);
    uint8_t key[16];
    rp__radix *t;

    key_v4(key, 0x0a000000);
    cr_assert_eq(rp__radix_add(b, key, 104, 0), 0);
    t = rp__radix_freeze(b, 0);
    cr_assert_not_null(t);
    cr_assert_not_null(rp__radix_lookup(t, key));
    cr_assert_not_null(rp__radix_lookup4(t, 0x0a000001));
    rp__radix_free(t);
}

Test(radix, null_frees, .init = setup)
{
    rp__radix_free(NULL);
    rp__radix_builder_free(NULL);
    cr_assert_eq(rp__radix_memory(NULL), 0);
}

Test(radix, longest_prefix_v4, .init = setup)
{
    rp__radix_builder *b = rp__radix_builder_new(&libc_alloc);
    uint8_t key[16];
    const uint8_t *rec;
    rp__radix *t;

    key_v4(key, 0x0a000000); /* 10.0.0.0/8 in list 0 */
    rp__radix_add(b, key, 104, 0);
    key_v4(key, 0x0a010000); /* 10.1.0.0/16 in lists 0 and 1 */
    rp__radix_add(b, key, 112, 0);
    rp__radix_add(b, key, 112, 1);
    key_v4(key, 0x0a010203); /* 10.1.2.3/32 in list 1 */
    rp__radix_add(b, key, 128, 1);
    t = rp__radix_freeze(b, 2);
    cr_assert_not_null(t);

    rec = rp__radix_lookup4(t, 0x0a010203);
    cr_assert_eq(rec[0], 112);
    cr_assert_eq(rec[1], 128);
    rec = rp__radix_lookup4(t, 0x0a010204);
    cr_assert_eq(rec[0], 112);
    cr_assert_eq(rec[1], 112);
    rec = rp__radix_lookup4(t, 0x0a020000);
    cr_assert_eq(rec[0], 104);
    cr_assert_eq(rec[1], RP__NOMATCH);
    rec = rp__radix_lookup4(t, 0x0b000000);
    cr_assert_eq(rec[0], RP__NOMATCH);
    cr_assert_eq(rec[1], RP__NOMATCH);
    key_v4(key, 0x0a010203);
    cr_assert_eq(rp__radix_lookup(t, key)[1], 128);
    rp__radix_free(t);
}

Test(radix, longest_prefix_v6, .init = setup)
{
    rp__radix_builder *b = rp__radix_builder_new(&libc_alloc);
    uint8_t net[16] = {0x20, 0x01, 0x0d, 0xb8};
    uint8_t host[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1};
    const uint8_t *rec;
    rp__radix *t;

    host[15] = 1;
    rp__radix_add(b, net, 32, 0);
    rp__radix_add(b, host, 128, 0);
    rp__radix_add(b, host, 128, 2);
    t = rp__radix_freeze(b, 3);
    cr_assert_not_null(t);
    rec = rp__radix_lookup(t, host);
    cr_assert_eq(rec[0], 128);
    cr_assert_eq(rec[1], RP__NOMATCH);
    cr_assert_eq(rec[2], 128);
    host[15] = 2;
    rec = rp__radix_lookup(t, host);
    cr_assert_eq(rec[0], 32);
    cr_assert_eq(rec[2], RP__NOMATCH);
    net[3] = 0xb9;
    cr_assert_eq(rp__radix_lookup(t, net)[0], RP__NOMATCH);
    rp__radix_free(t);
}

Test(radix, mapped_boundary, .init = setup)
{
    rp__radix_builder *b = rp__radix_builder_new(&libc_alloc);
    uint8_t zero[16] = {0}, mapped[16] = {0}, other[16] = {0};
    uint8_t key[16];
    const uint8_t *rec;
    rp__radix *t;

    mapped[10] = mapped[11] = 0xff;
    other[10] = 0xff;
    other[11] = 0xfe;
    rp__radix_add(b, zero, 0, 0);    /* ::/0 */
    rp__radix_add(b, mapped, 96, 1); /* ::ffff:0:0/96 */
    rp__radix_add(b, other, 96, 2);  /* ::fffe:0:0/96 */
    rp__radix_add(b, zero, 80, 3);   /* ::/80 covers both */
    t = rp__radix_freeze(b, 4);
    cr_assert_not_null(t);

    /* ::/0 and ::/80 contain the whole block: IPv6 only. */
    rec = rp__radix_lookup4(t, 0);
    cr_assert_eq(rec[0], RP__NOMATCH);
    cr_assert_eq(rec[1], 96);
    cr_assert_eq(rec[2], RP__NOMATCH);
    cr_assert_eq(rec[3], RP__NOMATCH);
    rec = rp__radix_lookup4(t, 0xffffffff);
    cr_assert_eq(rec[1], 96);
    key_v4(key, 0xffffffff);
    key_step(key, 1); /* ::1:0:0:0, just past the block */
    rec = rp__radix_lookup(t, key);
    cr_assert_eq(rec[0], 0);
    cr_assert_eq(rec[1], RP__NOMATCH);
    cr_assert_eq(rec[3], RP__NOMATCH);
    other[15] = 7;
    rec = rp__radix_lookup(t, other);
    cr_assert_eq(rec[1], RP__NOMATCH);
    cr_assert_eq(rec[2], 96);
    rp__radix_free(t);
}

/* relaypolicy(7) §2: an IPv6 entry matches IPv4 clients only inside
 * ::ffff:0:0/96, where it is the IPv4 prefix it embeds; one containing the
 * whole block (::/8, ::/64, ::/0) never does, whatever else the table
 * holds.  Both lookup paths agree. */
Test(radix, address_families, .init = setup)
{
    rp__radix_builder *b = rp__radix_builder_new(&libc_alloc);
    uint8_t zero[16] = {0}, net10[16], v6[16] = {0}, key[16];
    static const unsigned wide[] = {0, 8, 64, 80}; /* lists 0..3 */
    const uint8_t *rec;
    rp__radix *t;

    for (unsigned i = 0; i < 4; i++)
        rp__radix_add(b, zero, wide[i], i);
    key_v4(net10, 0x0a000000);
    rp__radix_add(b, net10, 104, 4); /* ::ffff:10.0.0.0/104 = 10/8 */
    key_v4(key, 0);
    rp__radix_add(b, key, 96, 5); /* ::ffff:0:0/96 = 0.0.0.0/0 */
    key_v4(key, 0x0a010203);
    rp__radix_add(b, key, 128, 6); /* 10.1.2.3 */
    v6[15] = 1;
    rp__radix_add(b, v6, 128, 0); /* ::1 */
    t = rp__radix_freeze(b, 7);
    cr_assert_not_null(t);
    for (int n = 0; n < 2; n++) {
        uint32_t addr = n ? 0x0a010203 : 0xc0000201;

        key_v4(key, addr);
        for (int path = 0; path < 2; path++) {
            rec = path ? rp__radix_lookup4(t, addr) : rp__radix_lookup(t, key);
            for (unsigned i = 0; i < 4; i++)
                cr_expect_eq(rec[i], RP__NOMATCH, "::/%u matched IPv4 %08x",
                             wide[i], addr);
            cr_expect_eq(rec[4], n ? 104 : RP__NOMATCH);
            cr_expect_eq(rec[5], 96);
            cr_expect_eq(rec[6], n ? 128 : RP__NOMATCH);
        }
    }
    /* IPv6 clients still match the wide entries, and never the IPv4 ones. */
    rec = rp__radix_lookup(t, v6);
    cr_expect_eq(rec[0], 128);
    cr_expect_eq(rec[1], 8);
    cr_expect_eq(rec[2], 64);
    cr_expect_eq(rec[3], 80);
    cr_expect_eq(rec[4], RP__NOMATCH);
    cr_expect_eq(rec[5], RP__NOMATCH);
    v6[0] = 0x20;
    rec = rp__radix_lookup(t, v6);
    cr_expect_eq(rec[0], 0);
    cr_expect_eq(rec[1], RP__NOMATCH);
    rp__radix_free(t);
}

Test(radix, full_range_and_duplicates, .init = setup)
{
    rp__radix_builder *b = rp__radix_builder_new(&libc_alloc);
    uint8_t ones[16], zero[16] = {0};
    rp__radix *t;

    memset(ones, 0xff, sizeof(ones));
    for (int i = 0; i < 3; i++) {
        rp__radix_add(b, ones, 128, 0);
        rp__radix_add(b, zero, 128, 0);
        rp__radix_add(b, zero, 0, 1);
    }
    t = rp__radix_freeze(b, 2);
    cr_assert_not_null(t);
    cr_assert_eq(rp__radix_lookup(t, ones)[0], 128);
    cr_assert_eq(rp__radix_lookup(t, zero)[0], 128);
    cr_assert_eq(rp__radix_lookup(t, zero)[1], 0);
    zero[15] = 1;
    cr_assert_eq(rp__radix_lookup(t, zero)[0], RP__NOMATCH);
    ones[15] = 0xfe;
    cr_assert_eq(rp__radix_lookup(t, ones)[0], RP__NOMATCH);
    cr_assert_eq(rp__radix_lookup(t, ones)[1], 0);
    rp__radix_free(t);
}

/* ------------------------------------------------------------------------
 * Randomized comparison with the reference
 * ------------------------------------------------------------------------ */

/* A few clustered bases so that random prefixes overlap often. */
static uint32_t v4_base[8];
static uint8_t v6_base[8][16];

static void
random_v4_key(uint8_t key[16])
{
    uint32_t addr = v4_base[rng_below(8)];

    addr ^= (uint32_t)rng() >> rng_below(32);
    if (rng_below(8) == 0)
        addr = (uint32_t)rng();
    key_v4(key, addr);
}

static void
random_v6_key(uint8_t key[16])
{
    unsigned flip = rng_below(128);

    memcpy(key, v6_base[rng_below(8)], 16);
    for (unsigned i = flip; i < 128; i++) {
        if (rng_below(2))
            key[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
    }
    if (rng_below(8) == 0) {
        for (int i = 0; i < 16; i++)
            key[i] = (uint8_t)rng();
    }
}

static void
random_any_key(uint8_t key[16])
{
    if (rng_below(2))
        random_v4_key(key);
    else
        random_v6_key(key);
}

static void
random_bases(void)
{
    for (int i = 0; i < 8; i++) {
        v4_base[i] = (uint32_t)rng();
        for (int j = 0; j < 16; j++)
            v6_base[i][j] = (uint8_t)rng();
    }
    v4_base[0] = 0;
    v4_base[1] = 0xffffffff;
    memset(v6_base[0], 0, 16);
    memset(v6_base[1], 0xff, 16);
    v6_base[2][0] = 0x20;
}

/* A prefix length biased towards the ends and the usual values. */
static unsigned
random_plen(unsigned lo, unsigned hi)
{
    switch (rng_below(6)) {
    case 0:
        return lo;
    case 1:
        return hi;
    default:
        return lo + rng_below(hi - lo + 1);
    }
}

static void
add_random(
    ref *r, rp__radix_builder *b, unsigned n, uint32_t nl, int v4, int v6)
{
    uint8_t key[16];

    for (unsigned i = 0; i < n; i++) {
        int pick_v4 = v4 && (!v6 || rng_below(2));
        unsigned plen;

        if (pick_v4) {
            random_v4_key(key);
            plen = random_plen(96, 128);
        } else {
            random_v6_key(key);
            plen = random_plen(0, 128);
        }
        ref_add(r, b, key, plen, rng_below(nl));
        if (rng_below(16) == 0) /* the same prefix in another list */
            ref_add(r, b, key, plen, rng_below(nl));
    }
}

static void
run_random(unsigned rounds, unsigned n, uint32_t nl, int v4, int v6)
{
    void (*keys)(uint8_t *) =
        v4 && v6 ? random_any_key : (v4 ? random_v4_key : random_v6_key);

    for (unsigned round = 0; round < rounds; round++) {
        rp__radix_builder *b = rp__radix_builder_new(&libc_alloc);
        ref r = {0};
        rp__radix *t;

        random_bases();
        add_random(&r, b, 1 + rng_below(n), nl, v4, v6);
        t = rp__radix_freeze(b, nl);
        cr_assert_not_null(t);
        check_all(t, &r, nl, 2000, keys);
        rp__radix_free(t);
        ref_free(&r);
    }
}

Test(radix, random_v4, .init = setup)
{
    run_random(40, 600, 3, 1, 0);
}

Test(radix, random_v6, .init = setup)
{
    run_random(40, 600, 3, 0, 1);
}

Test(radix, random_mixed, .init = setup)
{
    run_random(40, 600, 5, 1, 1);
}

Test(radix, random_one_list, .init = setup)
{
    run_random(20, 2000, 1, 1, 1);
}

Test(radix, random_many_lists, .init = setup)
{
    run_random(10, 1500, 300, 1, 1);
}

/* Mapped-block edges: prefixes of every length around ::ffff:0:0/96. */
Test(radix, random_mapped_edges, .init = setup)
{
    for (unsigned round = 0; round < 40; round++) {
        rp__radix_builder *b = rp__radix_builder_new(&libc_alloc);
        ref r = {0};
        rp__radix *t;
        uint8_t key[16];

        random_bases();
        for (unsigned i = 0; i < 40; i++) {
            key_v4(key, rng_below(4) ? (uint32_t)rng() : 0);
            if (rng_below(3) == 0)
                key_step(key, rng_below(2) ? 1 : -1);
            ref_add(&r, b, key, random_plen(0, 128), rng_below(4));
        }
        add_random(&r, b, rng_below(200), 4, 1, 0);
        t = rp__radix_freeze(b, 4);
        cr_assert_not_null(t);
        check_all(t, &r, 4, 2000, random_any_key);
        rp__radix_free(t);
        ref_free(&r);
    }
}

/* A dense block of hosts and /24s, as a long list of /32s would give. */
Test(radix, dense_hosts, .init = setup)
{
    rp__radix_builder *b = rp__radix_builder_new(&libc_alloc);
    ref r = {0};
    rp__radix *t;
    uint8_t key[16];

    for (uint32_t i = 0; i < 3000; i++) {
        key_v4(key, 0xc6330000u + rng_below(65536));
        ref_add(&r, b, key, 128, rng_below(2));
    }
    for (uint32_t i = 0; i < 200; i++) {
        key_v4(key, 0xc6330000u + (rng_below(256) << 8));
        ref_add(&r, b, key, 120, 2);
    }
    key_v4(key, 0xc6330000u);
    ref_add(&r, b, key, 112, 2);
    t = rp__radix_freeze(b, 3);
    cr_assert_not_null(t);
    for (uint32_t a = 0xc632ff00u; a < 0xc6340100u; a += 1 + rng_below(7)) {
        key_v4(key, a);
        check_key(t, &r, key, 3);
    }
    rp__radix_free(t);
    ref_free(&r);
}

/* Hosts alone, in runs and at the edges of routes and of the space, every
 * address around them checked; with filler routes the table gets a first
 * stride, without it the hosts sit in the root blobs. */
Test(radix, host_runs_v4, .init = setup)
{
    static const uint32_t base[] = {0, 0x0a0000f0u, 0x0a0001feu, 0xfffffff0u};

    for (int filler = 0; filler <= 1; filler++) {
        rp__radix_builder *b = rp__radix_builder_new(&libc_alloc);
        ref r = {0};
        rp__radix *t;
        uint8_t key[16];

        key_v4(key, 0x0a000100u);
        ref_add(&r, b, key, 120, 0);
        for (uint32_t i = 0; filler && i < 20000; i++) {
            key_v4(key, (uint32_t)rng() & 0x3fffff00u);
            ref_add(&r, b, key, 120, 1);
        }
        for (unsigned i = 0; i < 4; i++) {
            for (uint32_t a = base[i]; a - base[i] < 16; a++) {
                key_v4(key, a);
                if (a % 5 != 2 && (a & 8) == 0)
                    ref_add(&r, b, key, 128, a % 3 == 0 ? 2 : 0);
            }
        }
        t = rp__radix_freeze(b, 3);
        cr_assert_not_null(t);
        for (unsigned i = 0; i < 4; i++) {
            for (uint32_t a = base[i] - 4; a - base[i] + 4 < 24; a++) {
                key_v4(key, a);
                check_key(t, &r, key, 3);
            }
        }
        rp__radix_free(t);
        ref_free(&r);
    }
}

/* ------------------------------------------------------------------------
 * Large tables, against a per-length exact-match reference
 * ------------------------------------------------------------------------ */

static void
check_sorted(const rp__radix *t,
             const ref *r,
             const unsigned *lens,
             unsigned n_lens,
             const uint8_t key[16],
             uint32_t nl)
{
    uint8_t want[8];
    uint32_t addr;

    ref_search(r->v, r->n, lens, n_lens, key, want, nl);
    cr_assert_eq(memcmp(rp__radix_lookup(t, key), want, nl), 0);
    if (key_is_v4(key, &addr))
        cr_assert_eq(memcmp(rp__radix_lookup4(t, addr), want, nl), 0);
}

/* Adds a BGP-like mix: clustered IPv4 routes and hosts, IPv6 routes,
 * hosts and a few long prefixes sharing /64s. */
static void
add_large(ref *r, rp__radix_builder *b, unsigned n, uint32_t nl)
{
    uint8_t key[16];

    for (unsigned i = 0; i < n; i++) {
        unsigned kind = rng_below(10);

        if (kind < 5) {
            uint32_t addr = (uint32_t)rng();

            if (rng_below(2))
                addr = (addr & 0x00ffffff) | 0xc6000000u;
            key_v4(key, addr);
            ref_add(r, b, key, kind < 2 ? 128 : 104 + rng_below(21), i % nl);
        } else {
            random_v6_key(key);
            if (kind == 9)
                memcpy(key, v6_base[rng_below(3)], 8);
            ref_add(r, b, key,
                    kind < 7
                        ? 128
                        : (kind == 9 ? 65 + rng_below(63) : 32 + rng_below(33)),
                    i % nl);
        }
    }
}

Test(radix, large_tables, .init = setup)
{
    static const uint32_t nl = 3;
    rp__radix_builder *b = rp__radix_builder_new(&libc_alloc);
    unsigned lens[129], n_lens = 0;
    uint8_t key[16];
    ref r = {0};
    rp__radix *t;

    random_bases();
    add_large(&r, b, 60000, nl);
    t = rp__radix_freeze(b, nl);
    cr_assert_not_null(t);
    qsort(r.v, r.n, sizeof(*r.v), ref_by_len);
    for (size_t i = 0; i < r.n; i++) {
        if (n_lens == 0 || lens[n_lens - 1] != r.v[i].plen)
            lens[n_lens++] = r.v[i].plen;
    }
    for (size_t i = 0; i < r.n; i += 1 + rng_below(3)) {
        for (int fill = 0; fill <= 1; fill++) {
            memcpy(key, r.v[i].key, 16);
            key_host(key, r.v[i].plen, fill);
            check_sorted(t, &r, lens, n_lens, key, nl);
            key_step(key, fill ? 1 : -1);
            check_sorted(t, &r, lens, n_lens, key, nl);
        }
    }
    for (unsigned i = 0; i < 50000; i++) {
        random_any_key(key);
        check_sorted(t, &r, lens, n_lens, key, nl);
    }
    rp__radix_free(t);
    ref_free(&r);
}

/* ------------------------------------------------------------------------
 * Damaged tables
 *
 * A table read from a file is not walked when it is opened
 * (rp__radix_check() looks at its geometry only): lookups bound what they
 * read themselves.  Here a table's parts are copied into allocations of
 * exactly the sizes a file gives them, then damaged the way a hostile
 * file could be: heap bytes (slack included) overwritten, trie entries
 * pointed anywhere with any tag.  Every lookup must stay inside the parts
 * (AddressSanitizer, in the asan build, stops a read past them) and
 * return a record of the table.
 * ------------------------------------------------------------------------ */

/* A copy of @p n bytes in an allocation of exactly that size. */
static void *
dup_exact(const void *p, size_t n)
{
    void *q = malloc(n != 0 ? n : 1);

    cr_assert_not_null(q);
    if (n != 0)
        memcpy(q, p, n);
    return q;
}

/* A random trie entry: any tag, an offset inside the heap, near its end
 * or anywhere. */
static uint32_t
random_entry(size_t heap_len)
{
    uint32_t off;

    switch (rng_below(3)) {
    case 0:
        off = (uint32_t)rng_below((uint32_t)heap_len + 1);
        break;
    case 1:
        off = (uint32_t)(heap_len - rng_below(heap_len < 64 ? 1 : 64));
        break;
    default:
        off = (uint32_t)rng() & RP__RX_PAYLOAD;
    }
    return (uint32_t)rng_below(4) << 30 | off;
}

/* Overwrites @p n random heap bytes, slack included; a third of them are
 * 0xff (largest counts, widths and prefix counts). */
static void
damage_heap(uint8_t *heap, size_t len, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        size_t at = rng() % len;

        heap[at] = rng_below(3) == 0 ? 0xff : (uint8_t)rng();
    }
}

static void
damage_entries(uint32_t *v, size_t n, size_t heap_len, unsigned k)
{
    for (unsigned i = 0; n != 0 && i < k; i++)
        v[rng() % n] = random_entry(heap_len);
}

/* Lookups of every kind on @p t: each record inside its record array. */
static void
lookups_stay_inside(const rp__radix *t, unsigned n)
{
    const uint8_t *lo = t->recs, *out[40], *keys[40];
    const uint8_t *hi = t->recs + (size_t)(t->n_recs - 1) * t->n_lists;
    uint8_t key[40][16];
    uint32_t addrs[40];

    for (unsigned i = 0; i < n; i += 40) {
        for (unsigned j = 0; j < 40; j++) {
            random_any_key(key[j]);
            keys[j] = key[j];
            addrs[j] = (uint32_t)rng();
        }
        rp__radix_lookup_batch(t, keys, 40, out);
        for (unsigned j = 0; j < 40; j++) {
            const uint8_t *one = rp__radix_lookup(t, key[j]);

            cr_assert(one >= lo && one <= hi);
            cr_assert_eq(out[j], one);
            one = rp__radix_lookup4(t, addrs[j]);
            cr_assert(one >= lo && one <= hi);
        }
        rp__radix_lookup4_batch(t, addrs, 40, out);
        for (unsigned j = 0; j < 40; j++)
            cr_assert_eq(out[j], rp__radix_lookup4(t, addrs[j]));
    }
}

Test(radix, damaged_tables, .init = setup)
{
    for (unsigned round = 0; round < 24; round++) {
        rp__radix_builder *b = rp__radix_builder_new(&libc_alloc);
        ref r = {0};
        rp__radix *t, saved;
        size_t heap_all;

        random_bases();
        /* Large rounds get first strides, low-half tries, a host table. */
        if (round % 2 == 0)
            add_large(&r, b, 30000, 3);
        else
            add_random(&r, b, 1 + rng_below(600), 3, 1, 1);
        t = rp__radix_freeze(b, 3);
        cr_assert_not_null(t);
        saved = *t;
        heap_all = t->heap_len + RP__RX_PAD;
        t->heap = dup_exact(saved.heap, heap_all);
        t->recs = dup_exact(saved.recs, (size_t)t->n_recs * t->n_lists);
        t->t4.dir =
            saved.t4.dir == NULL ? NULL : dup_exact(saved.t4.dir, t->t4.wn * 4);
        t->t6.dir =
            saved.t6.dir == NULL ? NULL : dup_exact(saved.t6.dir, t->t6.wn * 4);
        t->lo_root = dup_exact(saved.lo_root, (size_t)t->n_lo * 4);
        t->h6.b =
            t->h6.nb == 0 ? NULL : dup_exact(saved.h6.b, (size_t)t->h6.nb * 64);
        t->t4.root = random_entry(t->heap_len);
        t->t6.root = random_entry(t->heap_len);
        for (unsigned k = 0; k < 6; k++) {
            damage_heap(t->heap, heap_all, 1u << (2 * k));
            if (t->t4.dir != NULL)
                damage_entries(t->t4.dir, t->t4.wn, t->heap_len, 1u << k);
            if (t->t6.dir != NULL)
                damage_entries(t->t6.dir, t->t6.wn, t->heap_len, 1u << k);
            damage_entries(t->lo_root, t->n_lo, t->heap_len, 1u << k);
            if (t->h6.b != NULL)
                damage_heap(t->h6.b, (size_t)t->h6.nb * 64, 1u << k);
            cr_assert_eq(rp__radix_check(t, &libc_alloc), 0);
            lookups_stay_inside(t, 800);
        }
        free(t->heap);
        free(t->recs);
        free(t->t4.dir);
        free(t->t6.dir);
        free(t->lo_root);
        free(t->h6.b);
        *t = saved;
        rp__radix_free(t);
        ref_free(&r);
    }
}

/* ------------------------------------------------------------------------
 * Allocation failure
 * ------------------------------------------------------------------------ */

typedef struct fail_ctx {
    long left; /* allocations still allowed; negative: unlimited */
} fail_ctx;

static void *
fail_malloc(size_t size, void *ctx)
{
    fail_ctx *f = ctx;

    if (f->left == 0)
        return NULL;
    if (f->left > 0)
        f->left--;
    return malloc(size);
}

static void *
fail_realloc(void *ptr, size_t size, void *ctx)
{
    fail_ctx *f = ctx;

    if (f->left == 0)
        return NULL;
    if (f->left > 0)
        f->left--;
    return realloc(ptr, size);
}

static void
fail_free(void *ptr, void *ctx)
{
    (void)ctx;
    free(ptr);
}

Test(radix, allocation_failure, .init = setup)
{
    fail_ctx f;
    rp_allocator user = {fail_malloc, fail_realloc, fail_free, &f};
    rp__alloc a;
    bool finished = false;

    rp__alloc_init(&a, &user);
    for (long k = 0; k < 100000 && !finished; k++) {
        rp__radix_builder *b;
        rp__radix *t;
        ref r = {0};

        f.left = -1;
        b = rp__radix_builder_new(&a);
        cr_assert_not_null(b);
        rng_state = 42;
        random_bases();
        add_random(&r, b, 300, 3, 1, 1);
        f.left = k;
        t = rp__radix_freeze(b, 3);
        f.left = -1;
        if (t != NULL) {
            check_all(t, &r, 3, 100, random_any_key);
            finished = true;
        }
        rp__radix_free(t);
        ref_free(&r);
    }
    cr_assert(finished);
}

Test(radix, add_failure, .init = setup)
{
    fail_ctx f = {-1};
    rp_allocator user = {fail_malloc, fail_realloc, fail_free, &f};
    rp__alloc a;
    rp__radix_builder *b;
    uint8_t key[16] = {0};
    int rc = 0;

    rp__alloc_init(&a, &user);
    b = rp__radix_builder_new(&a);
    cr_assert_not_null(b);
    f.left = 3;
    for (int i = 0; i < 100000 && rc == 0; i++)
        rc = rp__radix_add(b, key, 128, 0);
    cr_assert_eq(rc, -1);
    rp__radix_builder_free(b);
}
