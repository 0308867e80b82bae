/*
 * destination.c - relaypolicy(7) §5 step 6: where the mail would really go.
 *
 * A source route is already gone (the parser drops it).  Routing syntax in
 * the local part of a recipient in one of our domains (a quoted @, a ! or
 * a %) is resolved as a later hop would, until nothing is left to split or
 * the destination is external; then reroute rules apply and the domain
 * table classifies the result.
 */
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "decide.h"
#include "domains.h"
#include "policy.h"
#include "relaypolicy.h"
#include "rp_regex.h"
#include "text.h"

/* More splits than a 64-octet local part can hold routing characters. */
#define ROUTE_MAX_SPLITS 64

static bool
is_postmaster(const rp__addr *a)
{
    return rp__ci_equal(a->local, a->local_len, "postmaster", 10);
}

/* Is @p a's domain the one of @p b, whose key @p k is? */
static bool
same_domain(const rp__addr *a, const rp__addr *b, const rp__domkey *k)
{
    return a->domain_len == k->len && b->dom_type == RP__DOM_NAME &&
           memcmp(a->domain, k->name, k->len) == 0;
}

const rp__domkey *
rp__addr_key(const rp__ctx *c, const rp__addr *a, rp__domkey *tmp)
{
    if (c->has_rkey && (a == &c->rcpt || same_domain(a, &c->rcpt, &c->rkey)))
        return &c->rkey;
    if (c->has_skey &&
        (a == &c->sender || same_domain(a, &c->sender, &c->skey)))
        return &c->skey;
    rp__domkey_make(tmp, a->domain, a->domain_len);
    return tmp;
}

rp__res
rp__classify(rp__ctx *c, const rp__addr *a, rp__class *cls, uint32_t *dom)
{
    rp__domkey tmp;
    rp__dompat kind;
    uint32_t v = RP__NONE;
    int r;

    *dom = RP__NONE;
    if (a->dom_type == RP__DOM_IPV4 || a->dom_type == RP__DOM_IPV6) {
        bool own =
            memcmp(a->literal.b, c->local.b, 16) == 0 ||
            rp__strmap_get(c->p->self_ips, (const char *)a->literal.b, 16, &v);
        *cls = own ? RP__CLASS_SELF : RP__CLASS_EXTERNAL;
        return RP__RES_OK;
    }
    r = rp__domtab_lookup_key(c->p->domtab, rp__addr_key(c, a, &tmp),
                              c->scratch, &v, &kind);
    if (r < 0) {
        c->fail = "a domain regular expression hit its match limit";
        return RP__RES_ERROR;
    }
    if (r == 0) {
        *cls = RP__CLASS_EXTERNAL;
        return RP__RES_OK;
    }
    switch (rp__domain_kind_at(c->p, v)) {
    case RP_DOMAIN_LOCAL:
        *cls = RP__CLASS_LOCAL;
        break;
    case RP_DOMAIN_RELAY:
        *cls = RP__CLASS_RELAY;
        break;
    case RP_DOMAIN_REROUTE:
        *cls = RP__CLASS_REROUTE;
        break;
    default:
        c->fail = "a domain's record is damaged";
        return RP__RES_ERROR;
    }
    *dom = v;
    return RP__RES_OK;
}

/* Unqualified recipients: routing, bare postmaster or qualify-domain. */
static rp__res
resolve_unqualified(rp__ctx *c, bool literal_routing)
{
    rp__addr next;
    rp__route r = literal_routing ? RP__ROUTE_NONE
                                  : rp__addr_route_split(&c->dest, &next);

    if (r == RP__ROUTE_ERROR)
        return RP__RES_SYNTAX;
    if (r == RP__ROUTE_SPLIT) {
        c->routed = true;
        c->dest = next;
        return RP__RES_OK;
    }
    if (c->p->qualify_domain != NULL) {
        size_t n = strlen(c->p->qualify_domain);
        memcpy(c->dest.domain, c->p->qualify_domain, n + 1);
        c->dest.domain_len = n;
        c->dest.dom_type = RP__DOM_NAME;
        return RP__RES_OK;
    }
    if (is_postmaster(&c->dest)) {
        c->bare_postmaster = true;
        return RP__RES_OK;
    }
    return RP__RES_SYNTAX;
}

/* Apply a reroute to the destination: user@TARGET. */
static rp__res
apply_reroute(rp__ctx *c)
{
    const rp__domain *d = &c->p->domains[c->dom];
    const char *t = rp__pstr(c->p, d->target);
    size_t n = strlen(t);

    if (n > RP__DOMAIN_MAX)
        return RP__RES_SYNTAX;
    memcpy(c->dest.domain, t, n + 1);
    c->dest.domain_len = n;
    c->dest.dom_type = RP__DOM_NAME;
    c->valid_dom = rp__domain_target_dom(c->p, d);
    rp__addr_format(&c->dest, false, c->rewritten, sizeof(c->rewritten));
    rp__explain(c, "   reroute: %s -> %s (%s)", rp__domain_pattern(c->p, d),
                c->rewritten,
                rp__domain_target_local(d) ? "local" : "relayed on");
    return RP__RES_OK;
}

static rp__res
resolve_routing(rp__ctx *c, bool literal_routing)
{
    rp__addr next;
    rp__res res;

    for (unsigned i = 0; i <= ROUTE_MAX_SPLITS; i++) {
        rp__route r;

        res = rp__classify(c, &c->dest, &c->cls, &c->dom);
        if (res != RP__RES_OK || c->cls == RP__CLASS_EXTERNAL ||
            literal_routing)
            return res;
        r = rp__addr_route_split(&c->dest, &next);
        if (r == RP__ROUTE_NONE)
            return RP__RES_OK;
        if (r == RP__ROUTE_ERROR)
            return RP__RES_SYNTAX;
        c->routed = true;
        c->dest = next;
    }
    return RP__RES_SYNTAX;
}

/* Write the decimal digits of @p v at @p out; returns their number. */
static size_t
put_uint(char *out, uint32_t v)
{
    char tmp[10];
    size_t n = 0, k = 0;

    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0)
        out[k++] = tmp[--n];
    return k;
}

/* The recipient-map key "L<dom>:<lowercased local part>" of the
 * destination, and a prefetch of its slot (validation reads it later). */
static void
local_key(rp__ctx *c, size_t local_len)
{
    size_t n;

    c->lkey[0] = 'L';
    n = 1 + put_uint(c->lkey + 1, c->valid_dom);
    c->lkey[n++] = ':';
    if (n + c->dest.local_len + 3 >= RP__PATH_MAX + 32 ||
        n + local_len > sizeof(c->lkey))
        return;
    memcpy(c->lkey + n, c->dkey + 2, local_len);
    c->lkey_len = n + local_len;
    c->lkey_hash = rp__strmap_hash(c->lkey, c->lkey_len);
    rp__strmap_prefetch(c->p->recipients, c->lkey_hash);
}

/* From c->destination (when it was not cut): dkey, the lowercased
 * canonical text behind "A:" (only the local part can hold capitals), and
 * the local-part key of recipient validation. */
static void
dest_keys(rp__ctx *c)
{
    const rp__addr *a = &c->dest;
    size_t local_len = c->dest_len;

    if (c->dest_len + 1 >= sizeof(c->destination) || c->dest_len == 0)
        return;
    if (a->dom_type != RP__DOM_NONE)
        local_len -= 1 + a->domain_len + (a->dom_type != RP__DOM_NAME ? 2 : 0);
    if (local_len > c->dest_len)
        return;
    /* A UTF-8 local part is folded, not lowercased: the slow paths
     * format it (rp__addr_format).  The destination's local part is a
     * piece of the recipient's, so only a UTF-8 recipient needs the look. */
    if (c->rcpt.utf8)
        for (size_t i = 0; i < local_len; i++)
            if ((unsigned char)c->destination[i] >= 0x80)
                return;
    c->dkey[0] = 'A';
    c->dkey[1] = ':';
    rp__lower(c->dkey + 2, c->destination, local_len);
    memcpy(c->dkey + 2 + local_len, c->destination + local_len,
           c->dest_len - local_len + 1);
    c->dkey_len = c->dest_len;
    if (c->valid_dom != RP__NONE &&
        rp__domain_has_recipients(&c->p->domains[c->valid_dom]))
        local_key(c, local_len);
}

bool
rp__is_dest_text(const rp__ctx *c, const rp__addr *a)
{
    if (c->dkey_len == 0)
        return false;
    if (a == &c->dest)
        return true;
    if (c->rewritten[0] != '\0')
        return false;
    if (a == &c->pre)
        return true;
    return a == &c->rcpt && !c->routed && a->dom_type != RP__DOM_NONE;
}

rp__res
rp__resolve_destination(rp__ctx *c)
{
    bool literal_routing = (c->perms & RP_PERM_ROUTING) != 0;
    rp__res res;

    c->dest = c->rcpt;
    c->dom = RP__NONE;
    c->valid_dom = RP__NONE;
    if (c->dest.dom_type == RP__DOM_NONE) {
        res = resolve_unqualified(c, literal_routing);
        if (res != RP__RES_OK)
            return res;
        if (c->bare_postmaster) {
            /* Step 4 checks the deny lists against c->pre too. */
            c->pre = c->dest;
            c->cls = RP__CLASS_LOCAL;
            snprintf(c->destination, sizeof(c->destination), "%s",
                     "postmaster");
            return RP__RES_OK;
        }
    }
    res = resolve_routing(c, literal_routing);
    if (res != RP__RES_OK)
        return res;
    /* Step 4 reads it only for a routed or an unqualified recipient. */
    if (c->routed || c->rcpt.dom_type == RP__DOM_NONE)
        c->pre = c->dest;
    if (c->cls == RP__CLASS_LOCAL)
        c->valid_dom = c->dom;
    if (c->cls == RP__CLASS_SELF)
        c->valid_dom = c->p->self_domain;
    if (c->cls == RP__CLASS_REROUTE && (res = apply_reroute(c)) != RP__RES_OK)
        return res;
    c->dest_len = rp__addr_format(&c->dest, false, c->destination,
                                  sizeof(c->destination));
    dest_keys(c);
    return RP__RES_OK;
}

/* The "L<dom>:<local>" key of @p a in @p key, without the precomputed
 * one (a destination too long for the decision).  Returns its length, 0
 * when it does not fit. */
static size_t
slow_local_key(const rp__addr *a, uint32_t dom, char *key, size_t size)
{
    rp__addr local = *a;
    int n = snprintf(key, size, "L%u:", (unsigned)dom);

    if (n < 0 || (size_t)n + a->local_len + 3 >= size)
        return 0;
    local.dom_type = RP__DOM_NONE;
    local.domain_len = 0;
    local.domain[0] = '\0';
    return (size_t)n + rp__addr_format(&local, true, key + n, size - n);
}

int
rp__recipient_known(const rp__ctx *c)
{
    char key[RP__PATH_MAX + 32], addr[RP_ADDR_MAX];
    const rp__addr *a = &c->dest;
    uint32_t dom = c->valid_dom, hit;
    size_t n;

    if (dom == RP__NONE || !rp__domain_has_recipients(&c->p->domains[dom]))
        return 1;
    if (c->lkey_len > 0) {
        if (rp__strmap_get_hashed(c->p->recipients, c->lkey, c->lkey_len,
                                  c->lkey_hash, &hit))
            return 1;
    } else if (c->dkey_len == 0) {
        n = slow_local_key(a, dom, key, sizeof(key));
        if (n == 0)
            return 0;
        if (rp__strmap_get(c->p->recipients, key, n, &hit))
            return 1;
    } else {
        return 0; /* the key did not fit */
    }
    if (!c->p->has_addr_recipients)
        return 0;
    if (c->dkey_len > 0)
        return c->dkey_len + 2 < sizeof(key) &&
               rp__strmap_get(c->p->recipients, c->dkey, c->dkey_len + 2, &hit);
    rp__addr_format(a, true, addr, sizeof(addr));
    n = (size_t)snprintf(key, sizeof(key), "A:%s", addr);
    return n < sizeof(key) && rp__strmap_get(c->p->recipients, key, n, &hit);
}

/* The lowercased canonical text of @p a: dkey when it is the same text,
 * else formatted into @p buf (RP_ADDR_MAX bytes). */
static const char *
addr_text(const rp__ctx *c, const rp__addr *a, char *buf, size_t *n)
{
    if (rp__is_dest_text(c, a)) {
        *n = c->dkey_len;
        return c->dkey + 2;
    }
    *n = rp__addr_format(a, true, buf, RP_ADDR_MAX);
    return buf;
}

uint32_t
rp__addrset_match(rp__ctx *c,
                  const rp__addrset *set,
                  const rp__addr *a,
                  bool *failed)
{
    char buf[RP_ADDR_MAX];
    const char *text = NULL;
    uint32_t v = RP__NONE;
    rp__dompat kind;
    size_t n = 0;
    int r;

    if (set->n_entries == 0)
        return RP__NONE;
    /* The text is only needed by the exact map and the regexes. */
    if (rp__strmap_count(set->exact) > 0) {
        text = addr_text(c, a, buf, &n);
        if (rp__strmap_get(set->exact, text, n, &v))
            return v;
    }
    if (a->dom_type == RP__DOM_NAME) {
        rp__domkey tmp;
        r = rp__domtab_lookup_key(set->domains, rp__addr_key(c, a, &tmp),
                                  c->scratch, &v, &kind);
        if (r > 0)
            return v;
        if (r < 0)
            *failed = true;
    }
    if (!*failed && set->n_regex > 0) {
        uint32_t i = 0;

        if (text == NULL)
            text = addr_text(c, a, buf, &n);
        /* The first regex in file order that matches; only those whose
         * required literal the address holds are run. */
        r = rp__regex_set_first(set->regex_set, text, n, c->scratch, &i);
        if (r > 0)
            return set->regex_item[i];
        if (r < 0)
            *failed = true;
    }
    if (*failed)
        c->fail = "a deny-list regular expression hit its match limit";
    return RP__NONE;
}
