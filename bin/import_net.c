/*
 * import_net.c - sets of network prefixes for the importers: Postfix's
 * restriction lists become unions and differences of client networks,
 * Exchange's address ranges become minimal prefix sets.
 */
#include "import.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PSET_MAX 100000 /* bound the work on hostile input */

static int
fam_bits(int fam)
{
    return fam == 4 ? 32 : 128;
}

static int
bit_at(const uint8_t *a, int i)
{
    return (a[i / 8] >> (7 - i % 8)) & 1;
}

static void
set_bit(uint8_t *a, int i, int v)
{
    if (v)
        a[i / 8] |= (uint8_t)(1u << (7 - i % 8));
    else
        a[i / 8] &= (uint8_t) ~(1u << (7 - i % 8));
}

/* Clear the host bits; true when some were set. */
static bool
mask_host(pfx *p)
{
    bool had = false;

    for (int i = p->len; i < fam_bits(p->fam); i++) {
        had |= bit_at(p->a, i) != 0;
        set_bit(p->a, i, 0);
    }
    return had;
}

void
pset_add(pset *s, const pfx *p)
{
    if (s->n >= PSET_MAX)
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
        if (s->v == NULL) {
            fprintf(stderr, "relaypolicy import: out of memory\n");
            exit(EXIT_POLICY);
        }
    }
    s->v[s->n++] = *p;
}

void
pset_free(pset *s)
{
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* a contains b */
static bool
contains(const pfx *a, const pfx *b)
{
    if (a->fam != b->fam || a->len > b->len)
        return false;
    for (int i = 0; i < a->len; i++)
        if (bit_at(a->a, i) != bit_at(b->a, i))
            return false;
    return true;
}

static int
pfx_cmp(const void *x, const void *y)
{
    const pfx *a = x, *b = y;
    int c;

    if (a->fam != b->fam)
        return a->fam - b->fam;
    if ((c = memcmp(a->a, b->a, 16)) != 0)
        return c;
    return a->len - b->len;
}

/* Merge two sibling halves into their parent; true when something merged. */
static bool
merge_pass(pset *s)
{
    bool merged = false;
    size_t w = 0;

    for (size_t i = 0; i < s->n; i++) {
        pfx *a = &s->v[i];
        if (w > 0) {
            pfx *prev = &s->v[w - 1];
            if (prev->fam == a->fam && prev->len == a->len && a->len > 0) {
                pfx parent = *prev;
                parent.len--;
                mask_host(&parent);
                if (contains(&parent, a) && !bit_at(prev->a, a->len - 1)) {
                    *prev = parent;
                    merged = true;
                    continue;
                }
            }
        }
        s->v[w++] = *a;
    }
    s->n = w;
    return merged;
}

void
pset_norm(pset *s)
{
    do {
        size_t w = 0;
        qsort(s->v, s->n, sizeof(*s->v), pfx_cmp);
        for (size_t i = 0; i < s->n; i++) {
            if (w > 0 && contains(&s->v[w - 1], &s->v[i]))
                continue;
            s->v[w++] = s->v[i];
        }
        s->n = w;
    } while (merge_pass(s));
}

void
pset_copy(pset *dst, const pset *src)
{
    dst->n = 0;
    for (size_t i = 0; i < src->n; i++)
        pset_add(dst, &src->v[i]);
}

void
pset_all(pset *s)
{
    pfx p;

    memset(&p, 0, sizeof(p));
    s->n = 0;
    p.fam = 4;
    pset_add(s, &p);
    p.fam = 6;
    pset_add(s, &p);
}

bool
pset_is_all(const pset *s)
{
    return s->n == 2 && s->v[0].len == 0 && s->v[1].len == 0;
}

void
pset_union(pset *dst, const pset *a, const pset *b)
{
    pset_copy(dst, a);
    for (size_t i = 0; i < b->n; i++)
        pset_add(dst, &b->v[i]);
    pset_norm(dst);
}

/* Add to @p dst the part of @p p not covered by @p b. */
static void
minus_one(pset *dst, const pfx *p, const pset *b, int depth)
{
    bool overlap = false;

    for (size_t i = 0; i < b->n; i++) {
        if (contains(&b->v[i], p))
            return;
        overlap |= contains(p, &b->v[i]);
    }
    if (!overlap || depth > 128 || p->len >= fam_bits(p->fam)) {
        pset_add(dst, p);
        return;
    }
    for (int half = 0; half < 2; half++) {
        pfx q = *p;
        q.len++;
        set_bit(q.a, p->len, half);
        minus_one(dst, &q, b, depth + 1);
    }
}

void
pset_minus(pset *dst, const pset *a, const pset *b)
{
    dst->n = 0;
    for (size_t i = 0; i < a->n; i++)
        minus_one(dst, &a->v[i], b, 0);
    pset_norm(dst);
}

void
pset_inter(pset *dst, const pset *a, const pset *b)
{
    dst->n = 0;
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j < b->n; j++) {
            if (contains(&a->v[i], &b->v[j]))
                pset_add(dst, &b->v[j]);
            else if (contains(&b->v[j], &a->v[i]))
                pset_add(dst, &a->v[i]);
        }
    pset_norm(dst);
}

bool
pset_equal(const pset *a, const pset *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (pfx_cmp(&a->v[i], &b->v[i]) != 0)
            return false;
    return true;
}

/* An IPv4-mapped IPv6 prefix becomes its IPv4 prefix. */
static void
unmap_v4(pfx *p)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255};

    if (p->fam != 6 || p->len < 96 || memcmp(p->a, mapped, 12) != 0)
        return;
    memmove(p->a, p->a + 12, 4);
    memset(p->a + 4, 0, 12);
    p->fam = 4;
    p->len -= 96;
}

/* Parse an address (brackets allowed around IPv6) into @p p, len full. */
static bool
parse_addr(const char *s, size_t n, pfx *p)
{
    char tmp[64];

    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof(tmp))
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    memset(p, 0, sizeof(*p));
    if (inet_pton(AF_INET, tmp, p->a) == 1)
        p->fam = 4;
    else if (inet_pton(AF_INET6, tmp, p->a) == 1)
        p->fam = 6;
    else
        return false;
    p->len = fam_bits(p->fam);
    return true;
}

bool
pfx_parse(const char *text, pfx *out, bool *had_host_bits)
{
    const char *slash = strrchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    bool had;

    if (!parse_addr(text, n, out))
        return false;
    if (slash != NULL) {
        char *end;
        long len = strtol(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || len < 0 ||
            len > fam_bits(out->fam))
            return false;
        out->len = (int)len;
    }
    had = mask_host(out);
    if (had_host_bits != NULL)
        *had_host_bits = had;
    unmap_v4(out);
    return true;
}

/* Add one to the address; false on overflow. */
static bool
addr_inc(uint8_t *a, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        if (++a[i] != 0)
            return true;
    return false;
}

bool
pset_add_range(pset *s, const char *lo, const char *hi)
{
    pfx a, b;
    int bytes, guard = 0;

    if (!parse_addr(lo, strlen(lo), &a) || !parse_addr(hi, strlen(hi), &b) ||
        a.fam != b.fam)
        return false;
    bytes = fam_bits(a.fam) / 8;
    if (memcmp(a.a, b.a, (size_t)bytes) > 0)
        return false;
    for (;;) {
        pfx p = a;
        /* The largest aligned block starting at a that ends by b. */
        for (p.len = 0; p.len <= fam_bits(a.fam); p.len++) {
            pfx top = p;
            mask_host(&top);
            if (memcmp(top.a, a.a, 16) != 0)
                continue;
            for (int i = p.len; i < fam_bits(a.fam); i++)
                set_bit(top.a, i, 1);
            if (memcmp(top.a, b.a, (size_t)bytes) <= 0) {
                pset_add(s, &p);
                a = top;
                break;
            }
        }
        if (memcmp(a.a, b.a, (size_t)bytes) == 0 || ++guard > 512 ||
            !addr_inc(a.a, bytes))
            break;
    }
    for (size_t i = 0; i < s->n; i++)
        unmap_v4(&s->v[i]);
    pset_norm(s);
    return true;
}

/* An IPv6 prefix holding all of ::ffff:0:0/96 (the IPv4 clients) is
 * written without that block: IPv4 clients are the IPv4 entries' business
 * (relaypolicy(7) §2), and such an entry must not reach them. */
static void
without_mapped(const pset *s, pset *out)
{
    static const uint8_t mapped[16] = {0, 0, 0,   0,   0, 0, 0, 0,
                                       0, 0, 255, 255, 0, 0, 0, 0};
    pset block = {0};
    pfx m;

    memset(&m, 0, sizeof(m));
    m.fam = 6;
    memcpy(m.a, mapped, 16);
    m.len = 96;
    pset_add(&block, &m);
    for (size_t i = 0; i < s->n; i++) {
        if (contains(&s->v[i], &m))
            minus_one(out, &s->v[i], &block, 0);
        else
            pset_add(out, &s->v[i]);
    }
    pset_free(&block);
}

void
pset_write(sbuf *b, const pset *in)
{
    char tmp[INET6_ADDRSTRLEN];
    pset w = {0}, *s = &w;

    without_mapped(in, &w);
    for (size_t i = 0; i < s->n; i++) {
        const pfx *p = &s->v[i];
        inet_ntop(p->fam == 4 ? AF_INET : AF_INET6, p->a, tmp, sizeof(tmp));
        if (i > 0)
            sb_add(b, " ");
        if (p->len == fam_bits(p->fam))
            sb_add(b, tmp);
        else
            sb_printf(b, "%s/%d", tmp, p->len);
    }
    pset_free(&w);
}
