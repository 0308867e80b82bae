/*
 * exposure_report.c - the address arithmetic of the exposure analysis:
 * 128-bit keys, public address counts (relaypolicy(7) §7) and ranges as
 * the public API delivers them; the replay of the analysis through
 * rp_policy_exposure() and rp_policy_exposure_summary().
 */
#include <stdio.h>
#include <string.h>

#include "exposure.h"
#include "ipaddr.h"
#include "policy.h"
#include "relaypolicy.h"

/* IPv4 special-purpose blocks (relaypolicy(7) §7), sorted, disjoint; the
 * documentation blocks are not here: they count as public. */
static const uint32_t special4[][2] = {
    {0x00000000u, 0x00FFFFFFu}, /* 0.0.0.0/8 */
    {0x0A000000u, 0x0AFFFFFFu}, /* 10.0.0.0/8 */
    {0x64400000u, 0x647FFFFFu}, /* 100.64.0.0/10 */
    {0x7F000000u, 0x7FFFFFFFu}, /* 127.0.0.0/8 */
    {0xA9FE0000u, 0xA9FEFFFFu}, /* 169.254.0.0/16 */
    {0xAC100000u, 0xAC1FFFFFu}, /* 172.16.0.0/12 */
    {0xC0000000u, 0xC00000FFu}, /* 192.0.0.0/24 */
    {0xC0A80000u, 0xC0A8FFFFu}, /* 192.168.0.0/16 */
    {0xC6120000u, 0xC613FFFFu}, /* 198.18.0.0/15 */
    {0xE0000000u, 0xFFFFFFFFu}, /* 224.0.0.0/4 and 240.0.0.0/4 */
};

/* Public IPv6 is 2000::/3: every special block of the registry (::/128,
 * ::1, ::ffff:0:0/96, 64:ff9b::/96, 100::/64, fc00::/7, fe80::/10,
 * ff00::/8) lies outside it, and 2001:db8::/32 inside counts as public. */
#define PUBLIC6_FIRST 0x2000000000000000ull
#define PUBLIC6_LAST 0x3fffffffffffffffull

double
rp__u128_double(rp__u128 x)
{
    return (double)x.hi * 18446744073709551616.0 + (double)x.lo;
}

static uint64_t
count4(uint32_t a, uint32_t b)
{
    uint64_t n = (uint64_t)b - a + 1;

    for (size_t i = 0; i < sizeof(special4) / sizeof(special4[0]); i++) {
        uint32_t lo = a > special4[i][0] ? a : special4[i][0];
        uint32_t hi = b < special4[i][1] ? b : special4[i][1];
        if (lo <= hi)
            n -= (uint64_t)hi - lo + 1;
    }
    return n;
}

void
rp__prefix_range(const rp__ip *ip,
                 unsigned plen,
                 rp__u128 *first,
                 rp__u128 *last)
{
    rp__u128 a = rp__u_load(ip->b), m = {0, 0};

    if (plen > 128)
        plen = 128;
    if (plen < 64) {
        m.hi = plen == 0 ? UINT64_MAX : UINT64_MAX >> plen;
        m.lo = UINT64_MAX;
    } else if (plen < 128) {
        m.lo = UINT64_MAX >> (plen - 64);
    }
    first->hi = a.hi & ~m.hi;
    first->lo = a.lo & ~m.lo;
    last->hi = first->hi | m.hi;
    last->lo = first->lo | m.lo;
}

rp__u128
rp__public_count(int family, rp__u128 first, rp__u128 last)
{
    rp__u128 r = {0, 0}, lo, hi;

    if (family == 4) {
        r.lo = count4((uint32_t)first.lo, (uint32_t)last.lo);
        return r;
    }
    lo = first;
    if (lo.hi < PUBLIC6_FIRST) {
        lo.hi = PUBLIC6_FIRST;
        lo.lo = 0;
    }
    hi = last;
    if (hi.hi > PUBLIC6_LAST) {
        hi.hi = PUBLIC6_LAST;
        hi.lo = UINT64_MAX;
    }
    if (lo.hi > hi.hi || (lo.hi == hi.hi && lo.lo > hi.lo))
        return r;
    return rp__u_inc(rp__u_sub(hi, lo));
}

static unsigned
ctz128(rp__u128 x)
{
    unsigned n = 0;

    if (x.lo == 0 && x.hi == 0)
        return 128;
    if (x.lo == 0) {
        n = 64;
        x.lo = x.hi;
    }
    while ((x.lo & 1) == 0) {
        x.lo >>= 1;
        n++;
    }
    return n;
}

/* The prefix length when first..last is exactly one prefix, else -1. */
static int32_t
prefix_of(int family, rp__u128 first, rp__u128 last)
{
    rp__u128 size = rp__u_inc(rp__u_sub(last, first)); /* 0: all 2^128 */
    unsigned k = ctz128(size), bits = family == 4 ? 32 : 128;

    if (size.hi != 0 || size.lo != 0) {
        rp__u128 rest = size;
        if (k >= 64)
            rest.hi &= ~(1ull << (k - 64));
        else
            rest.lo &= ~(1ull << k);
        if (rest.hi != 0 || rest.lo != 0)
            return -1; /* not a power of two */
    }
    if (family == 4)
        k = k > 32 ? 32 : k;
    if (k < 128 && ctz128(first) < k)
        return -1; /* not aligned */
    return (int32_t)(bits - k);
}

void
rp__exposure_range(int family,
                   rp__u128 first,
                   rp__u128 last,
                   rp_exposure_range *r)
{
    rp__ip a, b;
    char ta[48], tb[48];

    memset(r, 0, sizeof(*r));
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.family = b.family = family;
    rp__u_store(first, a.b);
    rp__u_store(last, b.b);
    r->family = family;
    memcpy(r->first, family == 4 ? a.b + 12 : a.b, family == 4 ? 4 : 16);
    memcpy(r->last, family == 4 ? b.b + 12 : b.b, family == 4 ? 4 : 16);
    r->prefix_len = prefix_of(family, first, last);
    rp__ip_format(&a, ta, sizeof(ta));
    rp__ip_format(&b, tb, sizeof(tb));
    if (r->prefix_len >= 0)
        snprintf(r->text, sizeof(r->text), "%s/%d", ta, (int)r->prefix_len);
    else
        snprintf(r->text, sizeof(r->text), "%s-%s", ta, tb);
}

/* ---- the public replay -------------------------------------------------- */

static bool
unsafe(const rp__xsum *s)
{
    return s->pub4 >= (1ull << 24) || s->pub6.hi >= (1ull << 32);
}

/* A range that relays by a scoped grant (`relay to LIST`) relays towards
 * its destinations only: report them. */
static void
set_destinations(const rp__listener *l, uint32_t item, rp_exposure *out)
{
    for (uint32_t k = 0; k < l->n_rules; k++) {
        const rp__rule *r = &l->rules[k];
        if (r->item != item || r->deny || r->scope == NULL)
            continue;
        out->destinations = RP_EXPOSURE_DOMAINS;
        out->dest_patterns = r->scope_pats;
        out->n_dest_patterns = r->n_scope;
        return;
    }
}

rp_status
rp_policy_exposure(const rp_policy *policy, rp_exposure_fn report, void *ctx)
{
    const rp__exposure *x;

    if (policy == NULL || report == NULL)
        return RP_E_ARG;
    if ((x = policy->exposure) == NULL)
        return RP_OK;
    for (size_t i = 0; i < x->n; i++) {
        const rp__xent *e = &x->v[i];
        rp__u128 pub;
        rp_exposure out;

        /* Entries read from a compiled policy file are checked here, not
         * all at open (pfile_read.c): a damaged one is left out. */
        if (e->item >= policy->n_items || e->listener >= policy->n_listeners ||
            e->cls >= x->n_cls || (e->family != 4 && e->family != 6))
            continue;
        pub = rp__public_count((int)e->family, e->first, e->last);
        memset(&out, 0, sizeof(out));
        out.listener_index = e->listener;
        out.listener = policy->listeners[e->listener].name;
        rp__exposure_range((int)e->family, e->first, e->last, &out.client);
        out.locals = x->cls[e->cls].locals;
        out.n_locals = x->cls[e->cls].n;
        out.destinations = RP_EXPOSURE_EVERY_EXTERNAL;
        set_destinations(&policy->listeners[e->listener], e->item, &out);
        out.public_hi = pub.hi;
        out.public_lo = pub.lo;
        out.public_count = rp__u128_double(pub);
        out.rule_file = rp__item_file(policy, e->item);
        out.rule_line = rp__item_line(policy, e->item);
        out.rule_column = rp__item_column(policy, e->item);
        out.rule_text = rp__item_text(policy, e->item);
        if (report(ctx, &out) != 0)
            break;
    }
    return RP_OK;
}

rp_status
rp_policy_exposure_summary(const rp_policy *policy,
                           size_t index,
                           rp_exposure_summary *summary)
{
    const rp__xsum *s;

    if (policy == NULL || summary == NULL || index >= policy->n_listeners)
        return RP_E_ARG;
    memset(summary, 0, sizeof(*summary));
    if (policy->exposure == NULL)
        return RP_OK;
    s = &policy->exposure->sum[index];
    summary->public4 = s->pub4;
    summary->public6_hi = s->pub6.hi;
    summary->public6_lo = s->pub6.lo;
    summary->public6 = rp__u128_double(s->pub6);
    summary->served4 = s->sel_pub4;
    summary->served6 = rp__u128_double(s->sel_pub6);
    summary->n_ranges = s->end - s->first;
    summary->unsafe = unsafe(s);
    return RP_OK;
}
