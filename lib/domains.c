/*
 * domains.c - string maps and domain pattern tables.
 *
 * rp__strmap is an open-addressing hash map from byte strings to uint32
 * values.  The builder and the frozen map share one layout: a power-of-two
 * table of 16-byte slots (a 32-bit hash, the value, and the key's offset
 * and length in one key arena).  Freezing only trims the arena, so a map of
 * millions of keys costs a handful of allocations.  Probing is linear and
 * every probe loop is bounded by the table size.
 *
 * rp__domtab classifies domain patterns into an exact map, a suffix map
 * (".example.com" is stored as "example.com") and a list of regexes, and
 * answers with the most specific match: exact, then the longest suffix,
 * then the first regex in insertion order.  The regexes are searched
 * through a regex set, whose literal prefilter runs only those that can
 * match.
 */
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "alloc.h"
#include "domains.h"
#include "radix_table.h"
#include "relaypolicy.h"
#include "rp_regex.h"
#include "text.h"

/* ------------------------------------------------------------------------
 * Hashing
 * ------------------------------------------------------------------------ */

#define HASH_K1 0x9E3779B97F4A7C15ull
#define HASH_K2 0xBF58476D1CE4E5B9ull
#define HASH_K3 0x94D049BB133111EBull

static inline uint64_t
rotl64(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

/* The bytes of a word equal to '.', as the top bit of each byte (exact:
 * no false positives), and their number. */
static inline unsigned
dots_in(uint64_t w)
{
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7full;
    uint64_t t = w ^ 0x2e2e2e2e2e2e2e2eull;
    uint64_t m = ~(((t & low7) + low7) | t | low7);

    return (unsigned)(((m >> 7) * 0x0101010101010101ull) >> 56);
}

/* The last @p n (1 to 7) bytes before @p end as a little-endian word, the
 * first of them lowest: one load when @p whole, the key's length, has
 * eight bytes before @p end. */
static inline uint64_t
tail_word(const unsigned char *end, size_t n, size_t whole)
{
    const unsigned char *p = end - n;
    uint64_t w = 0;

    if (whole >= 8)
        return rp__rx_ld_le64(end - 8) >> (8 * (8 - n));
    for (size_t i = n; i-- > 0;)
        w = w << 8 | p[i];
    return w;
}

static inline uint64_t
hash_final(uint64_t h)
{
    h ^= h >> 31;
    h *= HASH_K3;
    h ^= h >> 29;
    return (uint32_t)(h ^ (h >> 32));
}

/* A multiply-rotate hash over 8-byte words with a final avalanche, folded
 * to 32 bits.  Keys come from the policy, not from the client, so it needs
 * no secret seed.  Words are read little-endian on every host, so that a
 * compiled policy file's table answers alike everywhere. */
static uint32_t
hash_bytes(const char *key, size_t len)
{
    const unsigned char *p = (const unsigned char *)key;
    uint64_t h = HASH_K1 ^ ((uint64_t)len * HASH_K2);
    size_t n = len;

    for (; n >= 8; p += 8, n -= 8)
        h = (rotl64(h, 29) ^ rp__rx_ld_le64(p)) * HASH_K1;
    if (n > 0)
        h = (rotl64(h, 29) ^ tail_word(p + n, n, len)) * HASH_K1;
    return (uint32_t)hash_final(h);
}

/* hash_bytes() of a domain and its number of labels, in one pass. */
void
rp__domkey_make(rp__domkey *k, const char *domain, size_t len)
{
    const unsigned char *p = (const unsigned char *)domain;
    uint64_t h = HASH_K1 ^ ((uint64_t)len * HASH_K2), w;
    size_t n = len, dots = 0;

    for (; n >= 8; p += 8, n -= 8) {
        w = rp__rx_ld_le64(p);
        h = (rotl64(h, 29) ^ w) * HASH_K1;
        dots += dots_in(w);
    }
    if (n > 0) {
        w = tail_word(p + n, n, len); /* zero above the key: no dot */
        h = (rotl64(h, 29) ^ w) * HASH_K1;
        dots += dots_in(w);
    }
    k->name = domain;
    k->len = len;
    k->hash = (uint32_t)hash_final(h);
    k->labels = dots + 1;
}

/* ------------------------------------------------------------------------
 * rp__strmap
 * ------------------------------------------------------------------------ */

#define SLOT_EMPTY UINT32_MAX /* in slot.off */
#define MAP_MIN_SLOTS 16
#define MAP_MAX_SLOTS ((size_t)1 << 31)

typedef struct slot {
    uint32_t hash;
    uint32_t value;
    uint32_t off; /* into the key arena; SLOT_EMPTY when unused */
    uint32_t len;
} slot;

/* The builder and the frozen map are the same structure. */
struct rp__strmap {
    rp__alloc alloc;
    slot *slots;
    size_t mask; /* number of slots - 1 */
    size_t count;
    char *keys;
    size_t keys_len;
    size_t keys_cap;
    bool borrowed; /* slots and keys belong to someone else */
};

struct rp__strmap_builder {
    rp__strmap map;
};

static slot *
slots_new(const rp__alloc *a, size_t n)
{
    slot *s = rp__calloc(a, n, sizeof(*s));

    for (size_t i = 0; s != NULL && i < n; i++)
        s[i].off = SLOT_EMPTY;
    return s;
}

/* Find the slot holding @p key, or the empty slot where it would go. */
static slot *
map_find(const rp__strmap *m, const char *key, size_t len, uint32_t h)
{
    size_t i = h & m->mask;

    for (size_t n = 0; n <= m->mask; n++, i = (i + 1) & m->mask) {
        slot *s = &m->slots[i];
        if (s->off == SLOT_EMPTY)
            return s;
        if (s->hash == h && s->len == len && s->off <= m->keys_len &&
            len <= m->keys_len - s->off &&
            (len == 0 || memcmp(m->keys + s->off, key, len) == 0))
            return s;
    }
    return NULL;
}

/* Double the table, re-placing every slot by its stored hash. */
static int
map_grow(rp__strmap *m)
{
    size_t n = (m->mask + 1) * 2;
    slot *old = m->slots;
    slot *s;

    if (n > MAP_MAX_SLOTS || (s = slots_new(&m->alloc, n)) == NULL)
        return -1;
    for (size_t i = 0; i <= m->mask; i++) {
        size_t j;
        if (old[i].off == SLOT_EMPTY)
            continue;
        for (j = old[i].hash & (n - 1); s[j].off != SLOT_EMPTY;
             j = (j + 1) & (n - 1))
            ;
        s[j] = old[i];
    }
    m->slots = s;
    m->mask = n - 1;
    rp__free(&m->alloc, old);
    return 0;
}

/* Append @p key to the key arena; its offset goes to *off. */
static int
keys_append(rp__strmap *m, const char *key, size_t len, uint32_t *off)
{
    char *k;

    if (len >= UINT32_MAX || m->keys_len + len >= UINT32_MAX)
        return -1;
    *off = (uint32_t)m->keys_len;
    if (len == 0)
        return 0;
    k = rp__grow(&m->alloc, m->keys, &m->keys_cap, m->keys_len + len, 1);
    if (k == NULL)
        return -1;
    m->keys = k;
    memcpy(m->keys + m->keys_len, key, len);
    m->keys_len += len;
    return 0;
}

/* Create an empty map builder using @p a (copied).  NULL on no memory. */
rp__strmap_builder *
rp__strmap_builder_new(const rp__alloc *a)
{
    rp__strmap_builder *b = rp__calloc(a, 1, sizeof(*b));

    if (b == NULL)
        return NULL;
    b->map.alloc = *a;
    b->map.slots = slots_new(a, MAP_MIN_SLOTS);
    if (b->map.slots == NULL) {
        rp__free(a, b);
        return NULL;
    }
    b->map.mask = MAP_MIN_SLOTS - 1;
    return b;
}

/*
 * Add @p key (@p len bytes, compared exactly) with @p value.  Returns 0
 * when added, 1 when the key was already there (the first value is kept),
 * -1 on no memory (the builder stays usable).
 */
int
rp__strmap_add(rp__strmap_builder *b,
               const char *key,
               size_t len,
               uint32_t value)
{
    rp__strmap *m = &b->map;
    uint32_t h = hash_bytes(key, len);
    slot *s = map_find(m, key, len, h);
    uint32_t off;

    if (s != NULL && s->off != SLOT_EMPTY)
        return 1;
    /* Keep the load factor at or below 5/8. */
    if ((m->count + 1) * 8 > (m->mask + 1) * 5) {
        if (map_grow(m) != 0)
            return -1;
        s = map_find(m, key, len, h);
    }
    if (s == NULL || keys_append(m, key, len, &off) != 0)
        return -1;
    s->hash = h;
    s->value = value;
    s->off = off;
    s->len = (uint32_t)len;
    m->count++;
    return 0;
}

/* Call @p fn for every key (in no particular order) until it returns
 * non-zero, which is then returned; 0 when every key was seen. */
int
rp__strmap_each(
    const rp__strmap *m,
    int (*fn)(void *ctx, const char *key, size_t len, uint32_t value),
    void *ctx)
{
    if (m == NULL)
        return 0;
    for (size_t i = 0; i <= m->mask; i++) {
        const slot *s = &m->slots[i];
        int r;

        if (s->off == SLOT_EMPTY || s->off > m->keys_len ||
            s->len > m->keys_len - s->off)
            continue;
        if ((r = fn(ctx, m->keys + s->off, s->len, s->value)) != 0)
            return r;
    }
    return 0;
}

/* A lookup in a map still being built: 1 and *value on a hit, else 0. */
int
rp__strmap_builder_get(const rp__strmap_builder *b,
                       const char *key,
                       size_t len,
                       uint32_t *value)
{
    return rp__strmap_get(&b->map, key, len, value);
}

/* Free a builder that was not frozen; NULL is a no-op. */
void
rp__strmap_builder_free(rp__strmap_builder *b)
{
    rp__alloc a;

    if (b == NULL)
        return;
    a = b->map.alloc;
    rp__free(&a, b->map.slots);
    rp__free(&a, b->map.keys);
    rp__free(&a, b);
}

/* Freeze @p b into an immutable map; the builder is consumed either way.
 * Returns NULL on no memory. */
rp__strmap *
rp__strmap_freeze(rp__strmap_builder *b)
{
    rp__alloc a;
    rp__strmap *m;

    if (b == NULL)
        return NULL;
    a = b->map.alloc;
    m = rp__malloc(&a, sizeof(*m));
    if (m == NULL) {
        rp__strmap_builder_free(b);
        return NULL;
    }
    *m = b->map;
    rp__free(&a, b);
    /* Give back the arena's slack; failing to shrink is harmless. */
    if (m->keys != NULL && m->keys_cap > m->keys_len + 64) {
        char *k = a.realloc(m->keys, m->keys_len + 1, a.ctx);
        if (k != NULL) {
            m->keys = k;
            m->keys_cap = m->keys_len + 1;
        }
    }
    return m;
}

/* The lookup for a key whose hash @p h is already known. */
static int
map_get_hashed(const rp__strmap *m,
               const char *key,
               size_t len,
               uint32_t h,
               uint32_t *value)
{
    const slot *s = map_find(m, key, len, h);

    if (s == NULL || s->off == SLOT_EMPTY)
        return 0;
    if (value != NULL)
        *value = s->value;
    return 1;
}

/* Hint that the home slot of hash @p h is about to be read. */
static inline void
map_prefetch(const rp__strmap *m, uint32_t h)
{
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(&m->slots[h & m->mask]);
#else
    (void)m;
    (void)h;
#endif
}

/* Look @p key up: 1 and *value (when not NULL) on a hit, 0 on a miss or a
 * NULL map.  Never allocates; safe from any number of threads. */
int
rp__strmap_get(const rp__strmap *m,
               const char *key,
               size_t len,
               uint32_t *value)
{
    if (m == NULL || m->count == 0)
        return 0;
    return map_get_hashed(m, key, len, hash_bytes(key, len), value);
}

/* The hash rp__strmap_get() computes for @p key, for callers that look the
 * same key up later (rp__strmap_get_hashed) or prefetch its slot. */
uint32_t
rp__strmap_hash(const char *key, size_t len)
{
    return hash_bytes(key, len);
}

/* Hint that the slot of @p hash in @p m is about to be read, so that its
 * cache miss overlaps other work.  NULL or empty map: nothing. */
void
rp__strmap_prefetch(const rp__strmap *m, uint32_t hash)
{
    if (m != NULL && m->count != 0)
        map_prefetch(m, hash);
}

/* The second stage of a prefetch: once the slot of @p hash is in the
 * cache, start the miss on the key bytes a lookup compares.  Reads at most
 * a few slots of the probe sequence; the map is unchanged. */
void
rp__strmap_prefetch_key(const rp__strmap *m, uint32_t hash)
{
    size_t i;

    if (m == NULL || m->count == 0)
        return;
    i = hash & m->mask;
    for (size_t n = 0; n < 4 && n <= m->mask; n++, i = (i + 1) & m->mask) {
        const slot *s = &m->slots[i];
        if (s->off == SLOT_EMPTY)
            return;
        if (s->hash == hash && s->off < m->keys_len) {
#if defined(__GNUC__) || defined(__clang__)
            __builtin_prefetch(m->keys + s->off);
#endif
            return;
        }
    }
}

/* rp__strmap_get() for a key whose rp__strmap_hash() is @p hash. */
int
rp__strmap_get_hashed(const rp__strmap *m,
                      const char *key,
                      size_t len,
                      uint32_t hash,
                      uint32_t *value)
{
    if (m == NULL || m->count == 0)
        return 0;
    return map_get_hashed(m, key, len, hash, value);
}

/* The number of keys; 0 for NULL. */
size_t
rp__strmap_count(const rp__strmap *m)
{
    return m != NULL ? m->count : 0;
}

/* Free a frozen map; NULL is a no-op. */
void
rp__strmap_free(rp__strmap *m)
{
    rp__alloc a;

    if (m == NULL)
        return;
    a = m->alloc;
    if (!m->borrowed) {
        rp__free(&a, m->slots);
        rp__free(&a, m->keys);
    }
    rp__free(&a, m);
}

/* The table of @p m (an empty one for NULL), as rp__strmap_parts says. */
void
rp__strmap_parts_get(const rp__strmap *m, rp__strmap_parts *out)
{
    static const uint32_t empty[4] = {0, 0, SLOT_EMPTY, 0};

    _Static_assert(sizeof(slot) == 16, "a slot is four uint32");
    memset(out, 0, sizeof(*out));
    out->slots = empty;
    out->n_slots = 1;
    if (m == NULL)
        return;
    out->slots = (const uint32_t *)(const void *)m->slots;
    out->n_slots = m->mask + 1;
    out->count = m->count;
    out->keys = m->keys;
    out->keys_len = m->keys_len;
}

/* A map reading the caller's table in place (see domains.h). */
rp__strmap *
rp__strmap_borrow(const rp__alloc *a, const rp__strmap_parts *in)
{
    rp__strmap *m;

    if (in->n_slots == 0 || (in->n_slots & (in->n_slots - 1)) != 0 ||
        in->n_slots > MAP_MAX_SLOTS || in->count >= in->n_slots ||
        ((uintptr_t)in->slots & 3) != 0 || in->keys_len >= UINT32_MAX)
        return NULL;
    if ((m = rp__calloc(a, 1, sizeof(*m))) == NULL)
        return NULL;
    m->alloc = *a;
    m->slots = (slot *)(uintptr_t)in->slots;
    m->mask = in->n_slots - 1;
    m->count = in->count;
    m->keys = (char *)(uintptr_t)in->keys;
    m->keys_len = in->keys_len;
    m->keys_cap = in->keys_len;
    m->borrowed = true;
    return m;
}

/* ------------------------------------------------------------------------
 * rp__domtab
 * ------------------------------------------------------------------------ */

/* Patterns are also indexed by their number of labels (bit n for n labels,
 * bit 63 for 63 or more), so a lookup probes only the names, among the
 * domain and its parents, whose label count some pattern has. */
#define LABELS_BIT(n) ((uint64_t)1 << ((n) < 63 ? (n) : 63))

static size_t
count_labels(const char *s, size_t len)
{
    size_t n = 1;

    for (size_t i = 0; i < len; i++)
        n += s[i] == '.';
    return n;
}

struct rp__domtab {
    rp__alloc alloc;
    rp__strmap *exact;
    rp__strmap *suffix;     /* ".example.com" stored as "example.com" */
    uint64_t exact_labels;  /* LABELS_BIT of every exact pattern */
    uint64_t suffix_labels; /* LABELS_BIT of every suffix pattern */
    rp__regex **regex;      /* in insertion order */
    uint32_t *regex_value;
    size_t n_regex;
    rp__regex_set *regex_set; /* over regex[] */
};

struct rp__domtab_builder {
    rp__alloc alloc;
    uint32_t opt_flags;
    uint32_t match_limit;
    uint32_t depth_limit;
    rp__strmap_builder *exact;
    rp__strmap_builder *suffix;
    rp__strmap_builder *regex_text; /* regex source -> value, for duplicates */
    uint64_t exact_labels;
    uint64_t suffix_labels;
    rp__regex **regex;
    uint32_t *regex_value;
    size_t n_regex;
    size_t cap_regex;
    size_t cap_value;
    rp__regex_take_fn take; /* regexes compiled already, or NULL */
    void *take_ctx;
};

/* Create an empty table builder.  Regexes are compiled with @p opt_flags
 * (RP_OPT_NO_JIT) and the given PCRE2 limits.  NULL on no memory. */
rp__domtab_builder *
rp__domtab_builder_new(const rp__alloc *a,
                       uint32_t opt_flags,
                       uint32_t match_limit,
                       uint32_t depth_limit)
{
    rp__domtab_builder *b = rp__calloc(a, 1, sizeof(*b));

    if (b == NULL)
        return NULL;
    b->alloc = *a;
    b->opt_flags = opt_flags;
    b->match_limit = match_limit;
    b->depth_limit = depth_limit;
    b->exact = rp__strmap_builder_new(a);
    b->suffix = rp__strmap_builder_new(a);
    b->regex_text = rp__strmap_builder_new(a);
    if (b->exact == NULL || b->suffix == NULL || b->regex_text == NULL) {
        rp__domtab_builder_free(b);
        return NULL;
    }
    return b;
}

void
rp__domtab_builder_take(rp__domtab_builder *b,
                        rp__regex_take_fn take,
                        void *ctx)
{
    if (b != NULL) {
        b->take = take;
        b->take_ctx = ctx;
    }
}

/* Free a builder that was not frozen, with its regexes; NULL is a no-op. */
void
rp__domtab_builder_free(rp__domtab_builder *b)
{
    rp__alloc a;

    if (b == NULL)
        return;
    a = b->alloc;
    rp__strmap_builder_free(b->exact);
    rp__strmap_builder_free(b->suffix);
    rp__strmap_builder_free(b->regex_text);
    for (size_t i = 0; i < b->n_regex; i++)
        rp__regex_free(b->regex[i]);
    rp__free(&a, b->regex);
    rp__free(&a, b->regex_value);
    rp__free(&a, b);
}

static int
fail(char *why, size_t why_size, const char *msg)
{
    if (why != NULL && why_size > 0)
        snprintf(why, why_size, "%s", msg);
    return RP__DOMTAB_BAD;
}

static int
fail_nomem(char *why, size_t why_size)
{
    fail(why, why_size, "out of memory");
    return RP__DOMTAB_NOMEM;
}

/* Record @p value under @p key in @p map; 1 and *existing on a duplicate. */
static int
add_key(rp__strmap_builder *map,
        const char *key,
        size_t len,
        uint32_t value,
        uint32_t *existing,
        char *why,
        size_t why_size)
{
    int r = rp__strmap_add(map, key, len, value);

    if (r < 0)
        return fail_nomem(why, why_size);
    if (r == 1 && existing != NULL)
        rp__strmap_get(&map->map, key, len, existing);
    return r;
}

/* Add "/regex/" (@p len counts both slashes). */
static int
add_regex(rp__domtab_builder *b,
          const char *pattern,
          size_t len,
          uint32_t value,
          uint32_t *existing,
          char *why,
          size_t why_size)
{
    char msg[160];
    size_t off = 0;
    rp__regex **v;
    uint32_t *val;
    rp__regex *re;
    rp_status st;

    if (len < 2 || pattern[len - 1] != '/')
        return fail(why, why_size, "a regex pattern must end with '/'");
    if (len == 2)
        return fail(why, why_size, "empty regex pattern");
    if (rp__strmap_get(&b->regex_text->map, pattern, len, existing))
        return 1;
    re = b->take != NULL ? b->take(b->take_ctx, pattern, len) : NULL;
    st = re != NULL
             ? RP_OK
             : rp__regex_compile(&b->alloc, pattern + 1, len - 2, b->opt_flags,
                                 b->match_limit, b->depth_limit, &re, msg,
                                 sizeof(msg), &off);
    if (st != RP_OK) {
        if (why != NULL && why_size > 0)
            snprintf(why, why_size, "bad regex at offset %zu: %s", off, msg);
        return st == RP_E_NOMEM ? RP__DOMTAB_NOMEM : RP__DOMTAB_BAD;
    }
    v = rp__grow(&b->alloc, b->regex, &b->cap_regex, b->n_regex + 1,
                 sizeof(*v));
    if (v != NULL)
        b->regex = v;
    val = rp__grow(&b->alloc, b->regex_value, &b->cap_value, b->n_regex + 1,
                   sizeof(*val));
    if (val != NULL)
        b->regex_value = val;
    if (v == NULL || val == NULL || b->n_regex >= UINT32_MAX ||
        rp__strmap_add(b->regex_text, pattern, len, value) < 0) {
        rp__regex_free(re);
        return fail_nomem(why, why_size);
    }
    b->regex[b->n_regex] = re;
    b->regex_value[b->n_regex] = value;
    b->n_regex++;
    return 0;
}

/*
 * Add @p pattern with @p value: "/regex/", ".suffix" (the domain and every
 * subdomain) or an exact name.  Names are lowercased, lose one trailing dot
 * and must be valid LDH domain names.  Returns 0 when added, 1 when the
 * same pattern is already there (its value in *existing, when not NULL),
 * -1 with a message in @p why for a bad pattern or no memory.
 */
int
rp__domtab_add(rp__domtab_builder *b,
               const char *pattern,
               size_t len,
               uint32_t value,
               uint32_t *existing,
               char *why,
               size_t why_size)
{
    char name[RP__DOMAIN_MAX + 2];
    bool suffix;
    const char *msg;
    int r;

    if (len == 0 || pattern == NULL)
        return fail(why, why_size, "empty domain pattern");
    if (pattern[0] == '/')
        return add_regex(b, pattern, len, value, existing, why, why_size);
    suffix = pattern[0] == '.';
    if (suffix) {
        pattern++;
        len--;
    }
    if (len > 0 && pattern[len - 1] == '.')
        len--;
    if (len == 0)
        return fail(why, why_size,
                    suffix ? "pattern matches every domain"
                           : "empty domain pattern");
    if (len > RP__DOMAIN_MAX)
        return fail(why, why_size, "domain name is longer than 255 octets");
    rp__lower(name, pattern, len);
    if ((msg = rp__domain_check(name, len)) != NULL)
        return fail(why, why_size, msg);
    r = add_key(suffix ? b->suffix : b->exact, name, len, value, existing, why,
                why_size);
    if (r == 0)
        *(suffix ? &b->suffix_labels : &b->exact_labels) |=
            LABELS_BIT(count_labels(name, len));
    return r;
}

/* Freeze @p b into an immutable table; the builder is consumed either way.
 * Returns NULL on no memory. */
rp__domtab *
rp__domtab_freeze(rp__domtab_builder *b)
{
    rp__domtab *t;

    if (b == NULL)
        return NULL;
    t = rp__calloc(&b->alloc, 1, sizeof(*t));
    if (t == NULL) {
        rp__domtab_builder_free(b);
        return NULL;
    }
    t->alloc = b->alloc;
    t->exact = rp__strmap_freeze(b->exact);
    t->suffix = rp__strmap_freeze(b->suffix);
    t->exact_labels = b->exact_labels;
    t->suffix_labels = b->suffix_labels;
    b->exact = b->suffix = NULL;
    t->regex = b->regex;
    t->regex_value = b->regex_value;
    t->n_regex = b->n_regex;
    b->regex = NULL;
    b->regex_value = NULL;
    b->n_regex = 0;
    rp__domtab_builder_free(b);
    if (t->n_regex > 0)
        t->regex_set =
            rp__regex_set_new(&t->alloc, NULL, t->regex, (uint32_t)t->n_regex);
    if (t->exact == NULL || t->suffix == NULL ||
        (t->n_regex > 0 && t->regex_set == NULL)) {
        rp__domtab_free(t);
        return NULL;
    }
    return t;
}

/* Probe up to this many parent names at once. */
#define SUFFIX_BATCH 8

/* The longest suffix pattern covering the domain of @p k: the domain
 * itself (whose hash the key holds), then each parent.  Only label counts
 * some suffix pattern has are probed; a batch of hashes is computed and
 * their slots prefetched first, so the cache misses of several probes
 * overlap. */
static int
lookup_suffix(const rp__domtab *t, const rp__domkey *k, uint32_t *value)
{
    const char *d = k->name;
    size_t len = k->len, labels = k->labels;
    size_t off[SUFFIX_BATCH];
    uint32_t hash[SUFFIX_BATCH];
    size_t i = 0;

    if (rp__strmap_count(t->suffix) == 0)
        return 0;
    while (i < len && labels > 0) {
        size_t n = 0;
        for (; i < len && labels > 0 && n < SUFFIX_BATCH; labels--) {
            uint64_t bit = LABELS_BIT(labels);
            if ((t->suffix_labels & (bit | (bit - 1))) == 0) {
                labels = 0;
                break;
            }
            if ((t->suffix_labels & bit) != 0) {
                off[n] = i;
                hash[n] = i == 0 ? k->hash : hash_bytes(d + i, len - i);
                map_prefetch(t->suffix, hash[n++]);
            }
            while (i < len && d[i] != '.')
                i++;
            i++;
        }
        for (size_t m = 0; m < n; m++)
            if (map_get_hashed(t->suffix, d + off[m], len - off[m], hash[m],
                               value))
                return 1;
    }
    return 0;
}

/* The first regex, in insertion order, that matches; -1 on a failure. */
static int
lookup_regex(const rp__domtab *t,
             const char *d,
             size_t len,
             rp__scratch *scratch,
             uint32_t *value)
{
    uint32_t i = 0;
    int r = rp__regex_set_first(t->regex_set, d, len, scratch, &i);

    if (r == 1)
        *value = t->regex_value[i];
    return r;
}

/* The regex scan with a scratch of its own, for callers that passed none. */
static int
lookup_regex_local(const rp__domtab *t,
                   const char *d,
                   size_t len,
                   uint32_t *value)
{
    rp__scratch scratch;

    rp__scratch_init(&scratch);
    return lookup_regex(t, d, len, &scratch, value);
}

/*
 * Look up @p domain (lowercased, no trailing dot): an exact pattern wins,
 * then the longest suffix pattern, then the first regex (in insertion
 * order) that matches.  Returns 1 with *value and *kind (either may be
 * NULL), 0 on a miss, -1 when a tried regex failed (a limit was hit).
 * @p scratch may be NULL (a temporary one is used).  Never allocates; safe
 * from any number of threads, each with its own scratch.
 */
int
rp__domtab_lookup(const rp__domtab *t,
                  const char *domain,
                  size_t len,
                  rp__scratch *scratch,
                  uint32_t *value,
                  rp__dompat *kind)
{
    rp__domkey k;

    if (t == NULL)
        return 0;
    rp__domkey_make(&k, domain, len);
    return rp__domtab_lookup_key(t, &k, scratch, value, kind);
}

int
rp__domtab_lookup_key(const rp__domtab *t,
                      const rp__domkey *key,
                      rp__scratch *scratch,
                      uint32_t *value,
                      rp__dompat *kind)
{
    uint32_t v = 0;
    rp__dompat k;
    int r;

    if (t == NULL)
        return 0;
    if ((t->exact_labels & LABELS_BIT(key->labels)) != 0 &&
        rp__strmap_get_hashed(t->exact, key->name, key->len, key->hash, &v))
        k = RP__DOMPAT_EXACT;
    else if (lookup_suffix(t, key, &v))
        k = RP__DOMPAT_SUFFIX;
    else if (t->n_regex == 0)
        return 0;
    else {
        r = scratch != NULL ? lookup_regex(t, key->name, key->len, scratch, &v)
                            : lookup_regex_local(t, key->name, key->len, &v);
        if (r <= 0)
            return r;
        k = RP__DOMPAT_REGEX;
    }
    if (value != NULL)
        *value = v;
    if (kind != NULL)
        *kind = k;
    return 1;
}

/* Hint that the domain of @p k is about to be looked up in @p t: prefetch
 * the slot of its exact pattern when one of its label count exists, and
 * return 1 (rp__domtab_prefetch_key() with k->hash is the second stage);
 * else 0.  Never allocates; the answer of a lookup is unchanged. */
int
rp__domtab_prefetch(const rp__domtab *t, const rp__domkey *k)
{
    if (t == NULL || rp__strmap_count(t->exact) == 0 ||
        (t->exact_labels & LABELS_BIT(k->labels)) == 0)
        return 0;
    map_prefetch(t->exact, k->hash);
    return 1;
}

/* The second stage of rp__domtab_prefetch(), once the exact slot of
 * @p hash is cached: prefetch the key bytes an exact hit compares. */
void
rp__domtab_prefetch_key(const rp__domtab *t, uint32_t hash)
{
    if (t != NULL)
        rp__strmap_prefetch_key(t->exact, hash);
}

size_t
rp__domtab_regex_count(const rp__domtab *t)
{
    return t != NULL ? t->n_regex : 0;
}

const rp__regex *
rp__domtab_regex(const rp__domtab *t, size_t i, uint32_t *value)
{
    *value = t->regex_value[i];
    return t->regex[i];
}

/* Free @p t and its regexes; NULL is a no-op. */
void
rp__domtab_free(rp__domtab *t)
{
    rp__alloc a;

    if (t == NULL)
        return;
    a = t->alloc;
    rp__strmap_free(t->exact);
    rp__strmap_free(t->suffix);
    rp__regex_set_free(t->regex_set);
    for (size_t i = 0; i < t->n_regex; i++)
        rp__regex_free(t->regex[i]);
    rp__free(&a, t->regex);
    rp__free(&a, t->regex_value);
    rp__free(&a, t);
}

/* The pieces of @p t, still owned by it. */
void
rp__domtab_parts_get(const rp__domtab *t, rp__domtab_parts *out)
{
    memset(out, 0, sizeof(*out));
    if (t == NULL)
        return;
    out->exact = t->exact;
    out->suffix = t->suffix;
    out->exact_labels = t->exact_labels;
    out->suffix_labels = t->suffix_labels;
    out->regex = t->regex;
    out->regex_value = t->regex_value;
    out->n_regex = t->n_regex;
}

/* A table made of @p in's pieces, which it owns from now on. */
rp__domtab *
rp__domtab_assemble(const rp__alloc *a, const rp__domtab_parts *in)
{
    rp__domtab *t = rp__calloc(a, 1, sizeof(*t));

    if (t == NULL) {
        rp__strmap_free(in->exact);
        rp__strmap_free(in->suffix);
        for (size_t i = 0; i < in->n_regex; i++)
            rp__regex_free(in->regex[i]);
        rp__free(a, in->regex);
        rp__free(a, in->regex_value);
        return NULL;
    }
    t->alloc = *a;
    t->exact = in->exact;
    t->suffix = in->suffix;
    t->exact_labels = in->exact_labels;
    t->suffix_labels = in->suffix_labels;
    t->regex = in->regex;
    t->regex_value = in->regex_value;
    t->n_regex = in->n_regex;
    if (t->n_regex > 0)
        t->regex_set =
            rp__regex_set_new(&t->alloc, NULL, t->regex, (uint32_t)t->n_regex);
    if (t->exact == NULL || t->suffix == NULL ||
        (t->n_regex > 0 && t->regex_set == NULL)) {
        rp__domtab_free(t);
        return NULL;
    }
    return t;
}
