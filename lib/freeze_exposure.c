/*
 * freeze_exposure.c - at freeze time, hand the exposure analysis the
 * prefixes that cut the address space (from the builder's records: the
 * compiled prefix table answers memberships, not which prefixes it holds),
 * run it, and refuse a policy that relays for the Internet without
 * `allow open-relay` (relaypolicy(7) §7).
 */
#include <stdio.h>
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
    for (size_t k = 0; k < l->n_remotes; k++)
        if (add_ref(c, b, &l->remotes[k], false) < 0)
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
    return true;
}
