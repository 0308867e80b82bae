/*
 * gen.c - deterministic synthetic data for the benchmark: prefixes with
 * realistic length mixes, queries, domain names, local parts and regex
 * rules, all derived from one seed.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* ---- random numbers ------------------------------------------------------ */

uint64_t
bench_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void
bench_rng_seed(bench_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = seed = bench_mix(seed);
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t
bench_rng_next(bench_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

uint32_t
bench_rng_below(bench_rng *r, uint32_t n)
{
    return (uint32_t)(((bench_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* ---- prefix length mixes ------------------------------------------------- */

/* Non-host IPv4 lengths /8../24, in parts per 100000, shaped like the
 * global BGP table: about 55% /24, then /22, /23, /21, /20, /19. */
static const uint32_t v4_mix[17] = {
    2, 2, 4, 10, 30, 60, 110, 190,             /* /8 .. /15 */
    1300, 800, 1400, 2600, 4500, 5500, 12000,   /* /16 .. /22 */
    11000, 60492                               /* /23, /24 */
};

/* The share of IPv4 entries that are /32 hosts, in percent. */
#define V4_HOST_PCT 40

static unsigned
v4_len(bench_rng *r)
{
    uint32_t x;

    if (bench_rng_below(r, 100) < V4_HOST_PCT)
        return 32;
    x = bench_rng_below(r, 100000);
    for (unsigned i = 0; i < 17; i++) {
        if (x < v4_mix[i])
            return 8 + i;
        x -= v4_mix[i];
    }
    return 24;
}

/* IPv6: /32 allocations, /33-/47 sub-allocations, /48 sites, /49-/63,
 * /56 customers, /64 subnets and /128 hosts. */
static unsigned
v6_len(bench_rng *r)
{
    uint32_t x = bench_rng_below(r, 100);

    if (x < 8)
        return 32;
    if (x < 15)
        return 33 + bench_rng_below(r, 15);
    if (x < 50)
        return 48;
    if (x < 55)
        return 49 + bench_rng_below(r, 15);
    if (x < 60)
        return 56;
    if (x < 70)
        return 64;
    return 128;
}

/* The top 16 bits of a global unicast address: 2001::/16 or one of the
 * regional /12 blocks. */
static uint64_t
v6_top(bench_rng *r)
{
    static const uint16_t blocks[] = {0x2001, 0x2001, 0x2400, 0x2600,
                                      0x2800, 0x2a00, 0x2c00};
    uint64_t top = blocks[bench_rng_below(r, 7)];

    if (top != 0x2001)
        top |= bench_rng_below(r, 16);
    return top << 48;
}

static void
mask128(uint64_t *hi, uint64_t *lo, unsigned plen)
{
    if (plen == 0) {
        *hi = *lo = 0;
    } else if (plen < 64) {
        *hi &= ~0ull << (64 - plen);
        *lo = 0;
    } else if (plen < 128) {
        *lo &= plen == 64 ? 0 : ~0ull << (128 - plen);
    }
}

/* ---- a set of prefixes, for uniqueness and coverage tests ----------------- */

struct bench_set {
    bench_pfx *slot;
    size_t mask;
};

static uint64_t
pfx_hash(const bench_pfx *p)
{
    return bench_mix(p->hi ^ bench_mix(p->lo ^ p->plen ^
                                       ((uint64_t)p->family << 8)));
}

static bench_set *
set_new(size_t n)
{
    bench_set *s = malloc(sizeof(*s));
    size_t cap = 16;

    while (cap < 2 * n)
        cap <<= 1;
    if (s == NULL || (s->slot = calloc(cap, sizeof(*s->slot))) == NULL) {
        free(s);
        return NULL;
    }
    s->mask = cap - 1;
    return s;
}

/* Insert @p p; false when it was already there. */
static bool
set_add(bench_set *s, const bench_pfx *p)
{
    size_t i = pfx_hash(p) & s->mask;

    while (s->slot[i].family != 0) {
        const bench_pfx *q = &s->slot[i];
        if (q->hi == p->hi && q->lo == p->lo && q->plen == p->plen &&
            q->family == p->family)
            return false;
        i = (i + 1) & s->mask;
    }
    s->slot[i] = *p;
    return true;
}

static bool
set_has(const bench_set *s, const bench_pfx *p)
{
    size_t i = pfx_hash(p) & s->mask;

    for (; s->slot[i].family != 0; i = (i + 1) & s->mask) {
        const bench_pfx *q = &s->slot[i];
        if (q->hi == p->hi && q->lo == p->lo && q->plen == p->plen &&
            q->family == p->family)
            return true;
    }
    return false;
}

void
bench_set_free(bench_set *s)
{
    if (s != NULL)
        free(s->slot);
    free(s);
}

bench_set *
bench_set_of(const bench_pfx *v, size_t n)
{
    bench_set *s = set_new(n);

    for (size_t i = 0; s != NULL && i < n; i++)
        set_add(s, &v[i]);
    return s;
}

static uint64_t
get_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

bool
bench_set_covers(const bench_set *s, int family, const uint8_t key[16],
                 uint32_t v4)
{
    bench_pfx p;
    unsigned max = family == 4 ? 32 : 128;

    for (unsigned len = 0; len <= max; len++) {
        memset(&p, 0, sizeof(p));
        p.family = (uint8_t)family;
        p.plen = (uint8_t)len;
        if (family == 4) {
            p.hi = (uint64_t)(len ? v4 & ~0u << (32 - len) : 0) << 32;
        } else {
            p.hi = get_be64(key);
            p.lo = get_be64(key + 8);
            mask128(&p.hi, &p.lo, len);
        }
        if (set_has(s, &p))
            return true;
    }
    return false;
}

static bench_pfx *
gen_unique(uint64_t seed, size_t n, int family)
{
    bench_pfx *v = calloc(n ? n : 1, sizeof(*v)), p;
    bench_set *s = set_new(n);
    bench_rng r;

    if (v == NULL || s == NULL) {
        free(v);
        bench_set_free(s);
        return NULL;
    }
    bench_rng_seed(&r, seed);
    for (size_t i = 0; i < n;) {
        memset(&p, 0, sizeof(p));
        p.family = (uint8_t)family;
        if (family == 4) {
            uint64_t a = 1 + bench_rng_below(&r, 223);
            a = (a << 24) | (bench_rng_next(&r) >> 40);
            p.plen = (uint8_t)v4_len(&r);
            p.hi = (a & (~0ull << (32 - p.plen)) & 0xffffffffull) << 32;
        } else {
            p.hi = v6_top(&r) | (bench_rng_next(&r) >> 16);
            p.lo = bench_rng_next(&r);
            p.plen = (uint8_t)v6_len(&r);
            mask128(&p.hi, &p.lo, p.plen);
        }
        if (set_add(s, &p))
            v[i++] = p;
    }
    bench_set_free(s);
    return v;
}

bench_pfx *
bench_gen_v4(uint64_t seed, size_t n)
{
    return gen_unique(seed ^ 0x4444, n, 4);
}

bench_pfx *
bench_gen_v6(uint64_t seed, size_t n)
{
    return gen_unique(seed ^ 0x6666, n, 6);
}

uint32_t
bench_inside_v4(bench_rng *r, const bench_pfx *p)
{
    uint32_t x = (uint32_t)(bench_rng_next(r) >> 32);
    uint32_t host = p->plen >= 32 ? 0 : ~0u >> p->plen;

    return (uint32_t)(p->hi >> 32) | (x & host);
}

uint32_t
bench_query_v4(bench_rng *r, const bench_pfx *v, size_t n)
{
    if (n > 0 && (bench_rng_next(r) & 1))
        return bench_inside_v4(r, &v[bench_rng_below(r, (uint32_t)n)]);
    return ((1 + bench_rng_below(r, 223)) << 24) |
           (uint32_t)(bench_rng_next(r) >> 40);
}

static void
put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

void
bench_inside_v6(bench_rng *r, const bench_pfx *p, uint8_t out[16])
{
    uint64_t hi = bench_rng_next(r), lo = bench_rng_next(r);
    uint64_t mh = ~0ull, ml = ~0ull;

    mask128(&mh, &ml, p->plen);
    put_be64(out, p->hi | (hi & ~mh));
    put_be64(out + 8, p->lo | (lo & ~ml));
}

void
bench_query_v6(bench_rng *r, const bench_pfx *v, size_t n, uint8_t out[16])
{
    if (n > 0 && (bench_rng_next(r) & 1)) {
        bench_inside_v6(r, &v[bench_rng_below(r, (uint32_t)n)], out);
        return;
    }
    put_be64(out, v6_top(r) | (bench_rng_next(r) >> 16));
    put_be64(out + 8, bench_rng_next(r));
}

/* ---- text ---------------------------------------------------------------- */

void
bench_v4_text(uint32_t a, char *buf, size_t size)
{
    snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
             (a >> 8) & 255, a & 255);
}

void
bench_v6_text(const uint8_t a[16], char *buf, size_t size)
{
    if (inet_ntop(AF_INET6, a, buf, (socklen_t)size) == NULL && size > 0)
        buf[0] = '\0';
}

size_t
bench_pfx_text(const bench_pfx *p, char *buf, size_t size)
{
    size_t n;

    if (p->family == 4) {
        bench_v4_text((uint32_t)(p->hi >> 32), buf, size);
    } else {
        uint8_t k[16];
        put_be64(k, p->hi);
        put_be64(k + 8, p->lo);
        bench_v6_text(k, buf, size);
    }
    n = strlen(buf);
    if (p->plen != (p->family == 4 ? 32 : 128))
        n += (size_t)snprintf(buf + n, size - n, "/%u", p->plen);
    return n;
}

int
bench_write_prefixes(const char *path, const bench_pfx *v, size_t n,
                     const char *suffix)
{
    FILE *f = fopen(path, "w");
    char line[80];

    if (f == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        bench_pfx_text(&v[i], line, sizeof(line));
        fputs(line, f);
        if (suffix != NULL)
            fputs(suffix, f);
        fputc('\n', f);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* ---- names --------------------------------------------------------------- */

static const char *const syll[32] = {
    "blue", "stone", "north", "mail", "net",  "tech", "river", "sun",
    "green", "data", "cloud", "star", "west", "bright", "fox",  "hill",
    "lake", "media", "soft", "link", "core", "alpha", "nova", "peak",
    "metro", "delta", "pine", "global", "web", "smart", "iron", "wave",
};

static const char *const tlds[16] = {
    "com", "com", "com", "net", "org", "de", "co.uk", "fr",
    "nl", "io", "com.au", "it", "es", "ca", "ch", "info",
};

static const char *const firsts[32] = {
    "james", "mary", "john", "anna", "robert", "linda", "michael", "sarah",
    "david", "laura", "peter", "julia", "thomas", "emma", "daniel", "sofia",
    "paul", "nina", "mark", "olga", "jan", "eva", "luca", "marie",
    "ahmed", "yuki", "chen", "priya", "carlos", "ines", "omar", "lena",
};

static const char *const lasts[32] = {
    "smith", "jones", "brown", "miller", "davis", "garcia", "wilson",
    "moore", "taylor", "martin", "lee", "walker", "hall", "young", "king",
    "wright", "lopez", "hill", "scott", "green", "adams", "baker", "nelson",
    "muller", "schmidt", "rossi", "dubois", "kowalski", "tanaka", "wang",
    "singh", "novak",
};

/* Base-36 digits of @p v (at least one). */
static size_t
b36(uint64_t v, char *buf, size_t size)
{
    char t[16];
    size_t n = 0, i;

    do {
        t[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
        v /= 36;
    } while (v != 0 && n < sizeof(t));
    for (i = 0; i < n && i + 1 < size; i++)
        buf[i] = t[n - 1 - i];
    buf[i] = '\0';
    return i;
}

size_t
bench_domain(uint64_t seed, size_t i, char *buf, size_t size)
{
    uint64_t h = bench_mix(seed ^ (0xd0d0ull + i * 0x9e3779b97f4a7c15ull));
    char id[16];

    b36(i, id, sizeof(id));
    return (size_t)snprintf(buf, size, "%s%s%s.%s", syll[h & 31],
                            syll[(h >> 5) & 31], id, tlds[(h >> 10) & 15]);
}

size_t
bench_external_domain(uint64_t h, char *buf, size_t size)
{
    static const char *const hosts[4] = {"", "mail.", "mx1.", "smtp."};
    char id[16];

    b36((h >> 20) & 0xfffff, id, sizeof(id));
    return (size_t)snprintf(buf, size, "%s%s-%s%s.%s", hosts[h & 3],
                            syll[(h >> 2) & 31], syll[(h >> 7) & 31], id,
                            tlds[(h >> 12) & 15]);
}

size_t
bench_local_part(uint64_t seed, size_t i, size_t j, char *buf, size_t size)
{
    static const char seps[3] = {'.', '_', '-'};
    uint64_t h = bench_mix(seed ^ (i * 0x2545f4914f6cdd1dull) ^ (j << 1));
    char id[16] = "";

    if (j >= 1024)
        b36(j >> 10, id, sizeof(id));
    return (size_t)snprintf(buf, size, "%s%c%s%s", firsts[j & 31],
                            seps[h % 3], lasts[(j >> 5) & 31], id);
}

size_t
bench_regex(uint64_t seed, size_t k, bool sender, char *buf, size_t size)
{
    static const char *const forms[8] = {
        "^[a-z]{2,8}\\.[a-z]+[0-9]{2,4}@%s\\.(com|net|info)$",
        "@([a-z0-9-]+\\.)*%s\\.(xyz|top|click|biz)$",
        "^(info|sales|promo|news)[-.]%s@",
        "^%s[0-9]*@",
        "%s.*\\.(ru|cn|su)$",
        "^[^@]+@mail[0-9]+\\.%s\\.",
        "(viagra|casino|loan)-%s",
        "^bounce-[0-9a-f]{8,}@%s\\.",
    };
    uint64_t h = bench_mix(seed ^ (k * 0x51afd7ed558ccd ^ (sender ? 1 : 2)));
    char w[48], id[16];
    size_t n;

    b36(k, id, sizeof(id));
    snprintf(w, sizeof(w), "%s%sq%s", syll[h & 31], syll[(h >> 5) & 31], id);
    n = (size_t)snprintf(buf, size, "/");
    n += (size_t)snprintf(buf + n, size - n, forms[(h >> 10) & 7], w);
    n += (size_t)snprintf(buf + n, size - n, "/");
    return n;
}
