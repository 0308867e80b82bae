/*
 * exposure.h - the exact unauthenticated relay exposure of a compiled
 * policy (relaypolicy(7) §7), shared by exposure.c (the analysis and its
 * public replay), freeze_exposure.c (which feeds it the prefixes that cut
 * the address space and refuses unsafe policies) and lint.c (which words
 * its findings from it).  Private to lib/.
 *
 * Addresses are 128-bit keys held as two host-order halves; an IPv4
 * address is its ::ffff:a.b.c.d key.  The IPv6 space of the analysis is
 * every key outside ::ffff:0:0/96, which is the IPv4 space.
 */
#ifndef RP_EXPOSURE_H
#define RP_EXPOSURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "policy.h"
#include "relaypolicy.h"

typedef struct rp__u128 {
    uint64_t hi;
    uint64_t lo;
} rp__u128;

/* ::ffff:0.0.0.0, and one past ::ffff:255.255.255.255. */
#define RP__MAPPED_FIRST ((rp__u128){0, 0x0000ffff00000000ull})
#define RP__MAPPED_END ((rp__u128){0, 0x0001000000000000ull})

static inline int
rp__u_cmp(rp__u128 a, rp__u128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    return (a.lo > b.lo) - (a.lo < b.lo);
}

static inline rp__u128
rp__u_inc(rp__u128 a)
{
    rp__u128 r = {a.hi + (a.lo == UINT64_MAX), a.lo + 1};

    return r;
}

static inline rp__u128
rp__u_dec(rp__u128 a)
{
    rp__u128 r = {a.hi - (a.lo == 0), a.lo - 1};

    return r;
}

static inline rp__u128
rp__u_add(rp__u128 a, rp__u128 b)
{
    rp__u128 r = {a.hi + b.hi, a.lo + b.lo};

    r.hi += r.lo < a.lo;
    return r;
}

static inline rp__u128
rp__u_sub(rp__u128 a, rp__u128 b)
{
    rp__u128 r = {a.hi - b.hi - (a.lo < b.lo), a.lo - b.lo};

    return r;
}

static inline rp__u128
rp__u_load(const uint8_t b[16])
{
    rp__u128 r = {0, 0};

    for (int i = 0; i < 8; i++) {
        r.hi = r.hi << 8 | b[i];
        r.lo = r.lo << 8 | b[8 + i];
    }
    return r;
}

static inline void
rp__u_store(rp__u128 x, uint8_t b[16])
{
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(x.hi >> (56 - 8 * i));
        b[8 + i] = (uint8_t)(x.lo >> (56 - 8 * i));
    }
}

/* Do ranges ending at @p last and starting at @p next touch?  The IPv4
 * block inside the IPv6 space does not separate two IPv6 ranges. */
static inline bool
rp__xadjacent(rp__u128 last, rp__u128 next, int family)
{
    if (rp__u_cmp(rp__u_inc(last), next) == 0)
        return true;
    return family == 6 && rp__u_cmp(rp__u_inc(last), RP__MAPPED_FIRST) == 0 &&
           rp__u_cmp(next, RP__MAPPED_END) == 0;
}

/* A prefix that cuts the space: a 16-byte key and a length in IPv6 terms
 * (IPv4 /n is 96 + n). */
typedef struct rp__xpfx {
    uint8_t key[16];
    uint32_t plen;
} rp__xpfx;

/* The prefixes the analysis cuts at: every entry of the lists it reads
 * for clients (remote ranges, network and all-except relay rules, deny
 * client) and for local addresses (binds, interface relay rules). */
typedef struct rp__xcuts {
    const rp__alloc *a;
    rp__xpfx *client;
    size_t n_client, cap_client;
    rp__xpfx *local;
    size_t n_local, cap_local;
    /* Per listener (file order): its remote prefixes are
     * client[remote[2i] .. remote[2i+1]).  NULL when not known: then
     * every class is analysed in every client piece. */
    size_t *remote;
    size_t n_remote, cap_remote;
} rp__xcuts;

/* One exposed range: clients first..last (one family) relay without
 * credentials through @p listener on every local address and port of
 * class @p cls, by the relay grant @p item. */
typedef struct rp__xent {
    rp__u128 first;
    rp__u128 last;
    uint32_t listener;
    uint32_t cls;
    uint32_t item;
    uint32_t family; /* 4 or 6 */
} rp__xent;

/* Per listener: how many public addresses relay (each counted once,
 * whatever the local address), how many public addresses select it at
 * all, and its widest entries of each family (by public addresses). */
typedef struct rp__xsum {
    uint64_t pub4;
    rp__u128 pub6;
    uint64_t sel_pub4; /* public IPv4 clients it serves (not blocked) */
    rp__u128 sel_pub6;
    size_t first, end;         /* its entries: v[first .. end) */
    uint32_t widest4, widest6; /* entry index, or RP__NONE */
} rp__xsum;

/* The local addresses and ports of one class, as delivered. */
typedef struct rp__xcls {
    rp_exposure_local *locals;
    uint32_t n;
} rp__xcls;

struct rp__exposure {
    rp__alloc alloc;
    rp__xent *v; /* sorted: listener, family, first, class */
    size_t n, cap;
    rp__xsum *sum; /* per listener */
    uint32_t n_listeners;
    rp__xcls *cls;
    uint32_t n_cls;
    rp_exposure_local *locals; /* every class's, one block */
    /* v lies in a compiled policy file (pfile_read.c): not freed, and
     * each entry's indexes are checked where they are read. */
    bool v_borrowed;
};

/* exposure_cuts.c: add a cutting prefix (client side, or local side when
 * @p local); free them. */
int
rp__xcuts_add(rp__xcuts *c, bool local, const uint8_t key[16], unsigned plen);
void rp__xcuts_free(rp__xcuts *c);
/* Record that the client prefixes added since @p first are the remote
 * prefixes of the next listener. */
int rp__xcuts_remote(rp__xcuts *c, size_t first);

/* The starts of the pieces of one family's space, sorted and unique. */
typedef struct rp__cuts {
    rp__u128 *v;
    size_t n, cap;
} rp__cuts;

/* Cut @p family's space (4 or 6) at the start and the end of every prefix
 * of that family in @p v.  The IPv6 space holds one piece starting at
 * RP__MAPPED_FIRST, the IPv4 block, which IPv6 callers skip.  Returns 0,
 * -1 on no memory (free c->v either way). */
int rp__xcuts_make(
    const rp__alloc *a, const rp__xpfx *v, size_t n, int family, rp__cuts *c);
/* The last key of piece @p i of @p c. */
rp__u128 rp__xcuts_last(const rp__cuts *c, size_t i, int family);

/* freeze_exposure.c: gather into @p c (whose allocator is set) the
 * prefixes of builder @p b that cut the space.  0, or -1 on no memory. */
int rp__exposure_cuts(const rp_builder *b, rp__xcuts *c);

/* Run the analysis over the frozen listeners, lists and radix table of
 * @p p; stores the result in p->exposure.  RP_OK or RP_E_NOMEM. */
rp_status rp__exposure_build(rp_policy *p, const rp__xcuts *cuts);
void rp__exposure_free(rp__exposure *x);

/* The first and last key of prefix @p ip/@p plen (IPv6 terms: IPv4 /n
 * is 96 + n). */
void rp__prefix_range(const rp__ip *ip,
                      unsigned plen,
                      rp__u128 *first,
                      rp__u128 *last);
/* Public addresses in first..last of @p family (relaypolicy(7) §7). */
rp__u128 rp__public_count(int family, rp__u128 first, rp__u128 last);
/* Fill @p r (text included) from a range of the analysis. */
void rp__exposure_range(int family,
                        rp__u128 first,
                        rp__u128 last,
                        rp_exposure_range *r);
double rp__u128_double(rp__u128 x);

#endif /* RP_EXPOSURE_H */
