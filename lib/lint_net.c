/*
 * lint_net.c - the audit's view of network references: which prefixes a
 * literal or a named list stands for, whether any is the whole Internet,
 * wider than a /24 or /48, or public, and whether one reference covers
 * another.
 */
#include <stdio.h>
#include <string.h>

#include "builder.h"
#include "exposure.h"
#include "ipaddr.h"
#include "lint.h"
#include "policy.h"
#include "relaypolicy.h"

/* ---- address prefixes --------------------------------------------------- */

/* Call @p fn for every prefix a reference stands for. */
static bool
each_prefix(const rp_builder *b,
            const rp__bref *ref,
            bool (*fn)(const pfx *, void *),
            void *ctx)
{
    pfx x;

    if (ref->name == NULL) {
        x.ip = &ref->ip;
        x.plen = ref->plen;
        return fn(&x, ctx);
    }
    for (size_t i = 0; i < b->n_nets; i++) {
        if (strcmp(b->nets[i].name, ref->name) != 0)
            continue;
        x.ip = &b->nets[i].ip;
        x.plen = b->nets[i].plen;
        if (!fn(&x, ctx))
            return false;
    }
    return true;
}

/* Is prefix @p in inside prefix @p out? */
static bool
pfx_inside(const pfx *in, const rp__ip *out_ip, unsigned out_plen)
{
    unsigned full = out_plen / 8, rest = out_plen % 8;

    if (in->plen < out_plen)
        return false;
    /* An IPv6 prefix holding all of ::ffff:0:0/96 holds no IPv4
     * address (relaypolicy(7) §2). */
    if (in->ip->family == 4 && out_ip->family == 6 && out_plen < 96)
        return false;
    if (memcmp(in->ip->b, out_ip->b, full) != 0)
        return false;
    return rest == 0 || ((in->ip->b[full] ^ out_ip->b[full]) &
                         (0xFF00u >> rest) & 0xFF) == 0;
}

static bool
is_v4(const pfx *x)
{
    return x->ip->family == 4;
}

static bool
pfx_everything(const pfx *x)
{
    return x->plen == 0 || (is_v4(x) && x->plen == 96);
}

/* Wider than /24 for IPv4 or /48 for IPv6. */
static bool
pfx_wide(const pfx *x)
{
    return is_v4(x) ? x->plen < 96 + 24 : x->plen < 48;
}

/* Inside private, loopback, link-local or shared address space. */
static bool
pfx_private(const pfx *x)
{
    static const char *const ranges[] = {
        "10.0.0.0/8",  "172.16.0.0/12",  "192.168.0.0/16",
        "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10",
        "fc00::/7",    "fe80::/10",      "::1/128",
    };

    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        rp__ip ip;
        unsigned plen;
        const char *why, *t = ranges[i];
        if (rp__cidr_parse(t, strlen(t), &ip, &plen, &why) == 0 &&
            pfx_inside(x, &ip, plen))
            return true;
    }
    return false;
}

static bool
note(scan *s, const pfx *x)
{
    rp__bref r;

    s->hit = true;
    s->family = x->ip->family;
    memset(&r, 0, sizeof(r));
    r.ip = *x->ip;
    r.plen = x->plen;
    rp__bref_text(&r, s->text, sizeof(s->text));
    return false;
}

bool
rp__lint_find_everything(const pfx *x, void *ctx)
{
    return pfx_everything(x) ? note(ctx, x) : true;
}

bool
rp__lint_find_wide(const pfx *x, void *ctx)
{
    return pfx_wide(x) ? note(ctx, x) : true;
}

bool
rp__lint_find_public(const pfx *x, void *ctx)
{
    return !pfx_private(x) ? note(ctx, x) : true;
}

/* First and last key of a prefix (lengths in IPv6 terms). */
static void
pfx_range(const pfx *x, rp__u128 *first, rp__u128 *last)
{
    rp__prefix_range(x->ip, x->plen, first, last);
}

/* Holds no public address: private, shared, loopback, link-local or other
 * special space, by the table of the exposure analysis (relaypolicy(7)
 * §7).  An IPv6 prefix reaching into ::ffff:0:0/96 is not "private". */
bool
rp__lint_find_private(const pfx *x, void *ctx)
{
    rp__u128 first, last, n;

    pfx_range(x, &first, &last);
    if (!is_v4(x) && rp__u_cmp(first, RP__MAPPED_END) < 0 &&
        rp__u_cmp(last, RP__MAPPED_FIRST) >= 0)
        return true;
    n = rp__public_count(is_v4(x) ? 4 : 6, first, last);
    return n.hi == 0 && n.lo == 0 ? note(ctx, x) : true;
}

/* An IPv6 prefix holding the whole of ::ffff:0:0/96 (relaypolicy(7) §2):
 * it never matches an IPv4 client. */
bool
rp__lint_find_covers_mapped(const pfx *x, void *ctx)
{
    rp__u128 first, last;

    if (is_v4(x) || x->plen > 96)
        return true;
    pfx_range(x, &first, &last);
    return rp__u_cmp(first, RP__MAPPED_FIRST) <= 0 &&
                   rp__u_cmp(last, rp__u_dec(RP__MAPPED_END)) >= 0
               ? note(ctx, x)
               : true;
}

/* Does a bind of listener s->listener take connections on an address of
 * prefix @p x? */
static bool
bind_reaches(const pfx *x, void *ctx)
{
    scan *s = ctx;
    const rp__blistener *l = s->listener;

    for (size_t i = 0; i < l->n_binds; i++) {
        const rp__bind *d = &l->binds[i];
        pfx one = {&d->ip, 128};
        bool hit =
            d->any == RP__BIND_ANY || (d->any == RP__BIND_ANY4 && is_v4(x)) ||
            (d->any == RP__BIND_ANY6 && !is_v4(x)) ||
            (d->any == RP__BIND_EXACT && pfx_inside(&one, x->ip, x->plen));
        if (hit)
            return note(s, x);
    }
    return true;
}

/* The first prefix of @p ref on which a bind of @p l listens. */
bool
rp__lint_ref_reached(const rp_builder *b,
                     const rp__bref *ref,
                     const rp__blistener *l,
                     scan *s)
{
    memset(s, 0, sizeof(*s));
    s->b = b;
    s->listener = l;
    each_prefix(b, ref, bind_reaches, s);
    return s->hit;
}

/* The first prefix of @p ref that @p pred finds, in s->text. */
bool
rp__lint_ref_has(const rp_builder *b,
                 const rp__bref *ref,
                 bool (*pred)(const pfx *, void *),
                 scan *s)
{
    memset(s, 0, sizeof(*s));
    s->b = b;
    each_prefix(b, ref, pred, s);
    return s->hit;
}

static bool
inside_one(const pfx *x, void *ctx)
{
    scan *s = ctx;

    if (s->other->name == NULL) {
        s->found = s->found || pfx_inside(x, &s->other->ip, s->other->plen);
        return true;
    }
    for (size_t i = 0; i < s->b->n_nets; i++)
        if (strcmp(s->b->nets[i].name, s->other->name) == 0 &&
            pfx_inside(x, &s->b->nets[i].ip, s->b->nets[i].plen))
            s->found = true;
    return true;
}

static bool
covered_by(const pfx *x, void *ctx)
{
    scan *s = ctx;

    s->found = false;
    inside_one(x, ctx);
    if (!s->found)
        s->hit = false;
    return s->found;
}

/* Does reference @p outer cover every address of @p inner? */
bool
rp__lint_ref_covers(const rp_builder *b,
                    const rp__bref *outer,
                    const rp__bref *inner)
{
    scan s;

    if (outer->name != NULL && inner->name != NULL &&
        strcmp(outer->name, inner->name) == 0)
        return true;
    memset(&s, 0, sizeof(s));
    s.b = b;
    s.other = outer;
    s.hit = true;
    each_prefix(b, inner, covered_by, &s);
    return s.hit;
}
