/*
 * freeze_exposure.c - at freeze time, hand the exposure analysis the
 * prefixes that cut the address space (from the builder's records: the
 * compiled prefix table answers memberships, not which prefixes it holds),
 * run it, and refuse a policy that relays for the Internet without
 * `allow open-relay` (relaypolicy(7) §7).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "exposure.h"
#include "freeze.h"
#include "policy.h"
#include "relaypolicy.h"

/* Add every prefix a reference stands for. */
static int
add_ref(rp__xcuts *c, const rp_builder *b, const rp__bref *ref, bool local)
{
    if (ref->name == NULL)
        return rp__xcuts_add(c, local, ref->ip.b, ref->plen);
    for (size_t i = 0; i < b->n_nets; i++)
        if (strcmp(b->nets[i].name, ref->name) == 0 &&
            rp__xcuts_add(c, local, b->nets[i].ip.b, b->nets[i].plen) < 0)
            return -1;
    return 0;
}

static int
add_listener(rp__xcuts *c, const rp_builder *b, const rp__blistener *l)
{
    size_t first = c->n_client;

    for (size_t k = 0; k < l->n_remotes; k++)
        if (add_ref(c, b, &l->remotes[k], false) < 0)
            return -1;
    /* Outside these the listener serves no client: the analysis looks
     * at its classes only inside them. */
    if (rp__xcuts_remote(c, first) < 0)
        return -1;
    for (size_t k = 0; k < l->n_binds; k++)
        if (l->binds[k].any == RP__BIND_EXACT &&
            rp__xcuts_add(c, true, l->binds[k].ip.b, 128) < 0)
            return -1;
    for (size_t k = 0; k < l->n_rules; k++) {
        const rp__brule *r = &l->rules[k];
        if (!(r->perms & RP_PERM_RELAY) || (r->deny && r->n_scope > 0))
            continue;
        if ((r->principal == RP_PRINCIPAL_NETWORK ||
             r->principal == RP_PRINCIPAL_NETWORK_EXCEPT) &&
            add_ref(c, b, &r->ref, false) < 0)
            return -1;
        if (r->principal == RP_PRINCIPAL_INTERFACE &&
            add_ref(c, b, &r->ref, true) < 0)
            return -1;
    }
    return 0;
}

int
rp__exposure_cuts(const rp_builder *b, rp__xcuts *c)
{
    int rc = 0;

    for (size_t i = 0; i < b->n_listeners && rc == 0; i++)
        rc = add_listener(c, b, &b->listeners[i]);
    for (size_t i = 0; i < b->n_deny_clients && rc == 0; i++)
        rc = add_ref(c, b, &b->deny_clients[i], false);
    return rc;
}

static bool
build(rp__freeze *f)
{
    rp__xcuts c;
    int rc;

    memset(&c, 0, sizeof(c));
    c.a = &f->p->alloc;
    rc = rp__exposure_cuts(f->b, &c);
    if (rc == 0 && rp__exposure_build(f->p, &c) != RP_OK)
        rc = -1;
    rp__xcuts_free(&c);
    if (rc < 0)
        f->st = RP_E_NOMEM;
    return rc == 0;
}

/* The exponent of the highest power of two in @p x (x > 0). */
static int
log2_floor(rp__u128 x)
{
    int n = x.hi != 0 ? 127 : 63;
    uint64_t w = x.hi != 0 ? x.hi : x.lo;

    while (n > 0 && (w >> (n & 63)) == 0)
        n--;
    return n;
}

/* Refuse listener @p l: name its widest relaying range and the rule. */
static void
refuse(rp__freeze *f, uint32_t l, int family)
{
    const rp__exposure *x = f->p->exposure;
    const rp__xsum *s = &x->sum[l];
    const rp__xent *e = &x->v[family == 4 ? s->widest4 : s->widest6];
    rp_exposure_range r;
    char count[48];

    rp__exposure_range(family, e->first, e->last, &r);
    if (family == 4)
        snprintf(count, sizeof(count), "%llu public IPv4 addresses",
                 (unsigned long long)s->pub4);
    else
        snprintf(count, sizeof(count), "about 2^%d public IPv6 addresses",
                 log2_floor(s->pub6));
    rp__f_fail(f, RP_E_UNSAFE, e->item,
               "listener '%s' is an open relay: %s (%s) relay without login; "
               "add 'allow open-relay' if intended",
               f->p->listeners[l].name, r.text, count);
}

/* An interval of 128-bit keys, and its family (4: inside ::ffff:0:0/96). */
typedef struct xiv {
    rp__u128 first, last;
    int family;
} xiv;

static int
cmp_iv(const void *a, const void *b)
{
    const xiv *x = a, *y = b;

    if (x->family != y->family)
        return x->family - y->family;
    return rp__u_cmp(x->first, y->first);
}

/* The first and last key of prefix @p ip/@p plen (IPv6 terms), and the
 * family it matches: an IPv4 prefix is one inside ::ffff:0:0/96. */
static xiv
prefix_iv(const rp__ip *ip, unsigned plen)
{
    xiv v;

    rp__prefix_range(ip, plen, &v.first, &v.last);
    v.family = plen >= 96 && rp__u_cmp(v.first, RP__MAPPED_FIRST) >= 0 &&
                       rp__u_cmp(v.first, RP__MAPPED_END) < 0
                   ? 4
                   : 6;
    return v;
}

static int
add_iv(xiv **v, size_t *n, size_t *cap, const rp__alloc *a, xiv x)
{
    xiv *g = rp__grow(a, *v, cap, *n + 1, sizeof(**v));

    if (g == NULL)
        return -1;
    *v = g;
    g[(*n)++] = x;
    return 0;
}

/* The public addresses of the trusted-proxy entries, each counted once:
 * in @p pub4 the IPv4 ones, in @p pub6 the IPv6 ones.  0, -1 on no
 * memory. */
static int
proxy_public(const rp_builder *b,
             const rp__alloc *a,
             uint64_t *pub4,
             rp__u128 *pub6)
{
    xiv *v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    *pub4 = 0;
    *pub6 = (rp__u128){0, 0};
    for (size_t i = 0; i < b->n_proxies && rc == 0; i++) {
        const rp__bref *ref = &b->proxies[i];
        if (ref->name == NULL) {
            rc = add_iv(&v, &n, &cap, a, prefix_iv(&ref->ip, ref->plen));
            continue;
        }
        for (size_t k = 0; k < b->n_nets && rc == 0; k++)
            if (strcmp(b->nets[k].name, ref->name) == 0)
                rc = add_iv(&v, &n, &cap, a,
                            prefix_iv(&b->nets[k].ip, b->nets[k].plen));
    }
    if (rc == 0 && n > 0)
        qsort(v, n, sizeof(*v), cmp_iv);
    /* Merge overlapping prefixes (nested or equal: prefixes never
     * partly overlap), then count the public addresses of each run. */
    for (size_t i = 0; rc == 0 && i < n;) {
        xiv run = v[i++];
        while (i < n && v[i].family == run.family &&
               rp__u_cmp(v[i].first, run.last) <= 0) {
            if (rp__u_cmp(v[i].last, run.last) > 0)
                run.last = v[i].last;
            i++;
        }
        rp__u128 c = rp__public_count(run.family, run.first, run.last);
        if (run.family == 4)
            *pub4 += c.lo;
        else
            *pub6 = rp__u_add(*pub6, c);
    }
    rp__free(a, v);
    return rc;
}

/* A trusted proxy's claim is believed: a host in the trusted-proxy list
 * may claim any client address, a network granted relay included.  So
 * where some listener relays for unauthenticated clients at all (even a
 * private range only), every public address of the list can relay too.
 * Refuse that, as a wide grant, from 2^24 public IPv4 or 2^96 IPv6
 * addresses (below, lint's trusted-proxy-public names it). */
static bool
check_proxies(rp__freeze *f)
{
    const rp__exposure *x = f->p->exposure;
    uint32_t relaying = RP__NONE;
    uint64_t pub4;
    rp__u128 pub6;
    char count[64];

    if (f->b->n_proxies == 0)
        return true;
    for (uint32_t l = 0; l < x->n_listeners && relaying == RP__NONE; l++)
        if (x->sum[l].end > x->sum[l].first)
            relaying = l;
    if (relaying == RP__NONE)
        return true;
    if (proxy_public(f->b, &f->p->alloc, &pub4, &pub6) < 0) {
        f->st = RP_E_NOMEM;
        return false;
    }
    if (pub4 >= (1ull << 24))
        snprintf(count, sizeof(count), "%llu public IPv4 addresses",
                 (unsigned long long)pub4);
    else if (pub6.hi >= (1ull << 32))
        snprintf(count, sizeof(count), "about 2^%d public IPv6 addresses",
                 log2_floor(pub6));
    else
        return true;
    rp__f_fail(f, RP_E_UNSAFE, f->b->proxies[0].item,
               "'%.40s' is an open relay: %s may claim a client '%.24s' "
               "relays for; list only proxies or 'allow open-relay'",
               f->b->items[f->b->proxies[0].item].text, count,
               f->p->listeners[relaying].name);
    return false;
}

bool
rp__check_safety(rp__freeze *f)
{
    const rp__exposure *x;

    if (!build(f))
        return false;
    x = f->p->exposure;
    if (f->b->allow_open_relay)
        return true;
    for (uint32_t l = 0; l < x->n_listeners; l++) {
        if (x->sum[l].pub4 >= (1ull << 24)) {
            refuse(f, l, 4);
            return false;
        }
        if (x->sum[l].pub6.hi >= (1ull << 32)) {
            refuse(f, l, 6);
            return false;
        }
    }
    return check_proxies(f);
}
