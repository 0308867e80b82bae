/*
 * exposure_cuts.c - cutting the address space for the exposure analysis:
 * the prefixes it is handed, and the sorted piece starts of each family.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "exposure.h"
#include "relaypolicy.h"

static int
cmp_key(const void *a, const void *b)
{
    return rp__u_cmp(*(const rp__u128 *)a, *(const rp__u128 *)b);
}

/* Sort @p n keys: a byte-wise radix sort over the bytes in which they
 * differ (four for IPv4 cuts), which a million cuts need instead of a
 * qsort with a comparison callback (kept for a few keys).  -1 when there
 * is no memory. */
static int
sort_keys(const rp__alloc *a, rp__u128 *v, size_t n)
{
    uint64_t dhi = 0, dlo = 0;
    rp__u128 *tmp, *src = v, *dst;
    size_t count[256];

    if (n < 2)
        return 0;
    for (size_t i = 1; i < n; i++) {
        dhi |= v[i].hi ^ v[0].hi;
        dlo |= v[i].lo ^ v[0].lo;
    }
    if (n < 8) {
        qsort(v, n, sizeof(*v), cmp_key);
        return 0;
    }
    if ((tmp = rp__calloc(a, n, sizeof(*tmp))) == NULL)
        return -1;
    dst = tmp;
    for (unsigned d = 0; d < 16; d++) {
        unsigned shift = 8 * (d % 8);
        bool lo = d < 8;
        size_t at = 0;

        if ((((lo ? dlo : dhi) >> shift) & 0xff) == 0)
            continue;
        memset(count, 0, sizeof(count));
        for (size_t i = 0; i < n; i++)
            count[((lo ? src[i].lo : src[i].hi) >> shift) & 0xff]++;
        for (unsigned b = 0; b < 256; b++) {
            size_t c = count[b];
            count[b] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[((lo ? src[i].lo : src[i].hi) >> shift) & 0xff]++] =
                src[i];
        src = dst;
        dst = src == v ? tmp : v;
    }
    if (src != v)
        memcpy(v, src, n * sizeof(*v));
    rp__free(a, tmp);
    return 0;
}

/* ---- cutting prefixes --------------------------------------------------- */

int
rp__xcuts_add(rp__xcuts *c, bool local, const uint8_t key[16], unsigned plen)
{
    rp__xpfx **v = local ? &c->local : &c->client;
    size_t *n = local ? &c->n_local : &c->n_client;
    size_t *cap = local ? &c->cap_local : &c->cap_client;
    rp__xpfx *nv = rp__grow(c->a, *v, cap, *n + 1, sizeof(**v));

    if (nv == NULL)
        return -1;
    *v = nv;
    memcpy(nv[*n].key, key, 16);
    nv[*n].plen = plen > 128 ? 128 : plen;
    (*n)++;
    return 0;
}

void
rp__xcuts_free(rp__xcuts *c)
{
    rp__free(c->a, c->client);
    rp__free(c->a, c->local);
    rp__free(c->a, c->remote);
    c->client = c->local = NULL;
    c->remote = NULL;
    c->n_client = c->n_local = c->n_remote = 0;
}

int
rp__xcuts_remote(rp__xcuts *c, size_t first)
{
    size_t *v =
        rp__grow(c->a, c->remote, &c->cap_remote, c->n_remote + 2, sizeof(*v));

    if (v == NULL)
        return -1;
    c->remote = v;
    v[c->n_remote++] = first;
    v[c->n_remote++] = c->n_client;
    return 0;
}

static int
cut(const rp__alloc *a, rp__cuts *c, rp__u128 k)
{
    rp__u128 *v = rp__grow(a, c->v, &c->cap, c->n + 1, sizeof(*v));

    if (v == NULL)
        return -1;
    c->v = v;
    v[c->n++] = k;
    return 0;
}

static bool
in_mapped(rp__u128 k)
{
    return rp__u_cmp(k, RP__MAPPED_FIRST) >= 0 &&
           rp__u_cmp(k, RP__MAPPED_END) < 0;
}

int
rp__xcuts_make(
    const rp__alloc *a, const rp__xpfx *v, size_t n, int family, rp__cuts *c)
{
    size_t k = 0;

    if (family == 4 ? cut(a, c, RP__MAPPED_FIRST) < 0
                    : cut(a, c, (rp__u128){0, 0}) < 0 ||
                          cut(a, c, RP__MAPPED_FIRST) < 0 ||
                          cut(a, c, RP__MAPPED_END) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        rp__u128 s = rp__u_load(v[i].key), size = {0, 0}, e;
        unsigned host = 128 - v[i].plen;
        bool v4 = v[i].plen >= 96 && in_mapped(s);

        if (v4 != (family == 4))
            continue;
        if (host >= 64) {
            s.lo = 0;
            s.hi = host == 128 ? 0 : s.hi & ~((1ull << (host - 64)) - 1);
            if (host < 128)
                size.hi = 1ull << (host - 64);
        } else {
            s.lo &= ~((1ull << host) - 1);
            size.lo = 1ull << host;
        }
        e = rp__u_add(s, size);
        if (cut(a, c, s) < 0)
            return -1;
        if (host < 128 && (e.hi != 0 || e.lo != 0) &&
            !(family == 4 && rp__u_cmp(e, RP__MAPPED_END) >= 0) &&
            cut(a, c, e) < 0)
            return -1;
    }
    if (sort_keys(a, c->v, c->n) != 0)
        return -1;
    for (size_t i = 0; i < c->n; i++)
        if (k == 0 || rp__u_cmp(c->v[i], c->v[k - 1]) != 0)
            c->v[k++] = c->v[i];
    c->n = k;
    return 0;
}

rp__u128
rp__xcuts_last(const rp__cuts *c, size_t i, int family)
{
    if (i + 1 < c->n)
        return rp__u_dec(c->v[i + 1]);
    if (family == 4)
        return rp__u_dec(RP__MAPPED_END);
    return (rp__u128){UINT64_MAX, UINT64_MAX};
}
