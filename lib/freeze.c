/*
 * freeze.c - turning the builder's records into the policy's lookup
 * structures: the domain table and reroute chains, recipient lists,
 * network lists in one radix table, groups, the server's own addresses,
 * deny lists and the sender-login map.  The open-relay safety check is in
 * freeze_exposure.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "alloc.h"
#include "builder.h"
#include "domains.h"
#include "freeze.h"
#include "policy.h"
#include "prefix_items.h"
#include "radix.h"
#include "relaypolicy.h"
#include "rp_regex.h"
#include "status.h"

#define REROUTE_MAX_STEPS 8

/* ---- the freeze state's helpers ------------------------------------------ */

void *
rp__p_alloc(rp__freeze *f, size_t size)
{
    void *m = rp__arena_alloc(&f->p->arena, &f->p->alloc, size);

    if (m == NULL)
        f->st = RP_E_NOMEM;
    else
        memset(m, 0, size);
    return m;
}

const char *
rp__p_str(rp__freeze *f, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    char *m = rp__p_alloc(f, n + 1);

    if (m != NULL && n > 0)
        memcpy(m, s, n);
    return m;
}

uint32_t
rp__p_pstr(rp__freeze *f, const char *s)
{
    uint32_t off = rp__pool_add(f->p, s);

    if (off == RP__NONE)
        f->st = RP_E_NOMEM;
    return off;
}

/* Fail at an item's location. */
void
rp__f_fail(rp__freeze *f, rp_status st, uint32_t item, const char *fmt, ...)
{
    const rp__bitem *it = item < f->b->n_items ? &f->b->items[item] : NULL;
    char text[160];
    va_list ap;

    f->st = st;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    rp__error_set(f->err, st, it ? it->file : NULL, it ? it->line : 0,
                  it ? it->column : 0, 0, NULL, 0, "%s", text);
}

static bool
nomem(rp__freeze *f)
{
    f->st = RP_E_NOMEM;
    return false;
}

static bool
add_domains(rp__freeze *f, rp__domtab_builder *tb)
{
    char why[160];

    for (size_t i = 0; i < f->b->n_domains; i++) {
        const rp__bdomain *d = &f->b->domains[i];
        uint32_t prev = 0;
        int r = rp__domtab_add(tb, d->pattern, strlen(d->pattern), (uint32_t)i,
                               &prev, why, sizeof(why));
        if (r < 0) {
            rp__f_fail(f, r == RP__DOMTAB_NOMEM ? RP_E_NOMEM : RP_E_POLICY,
                       d->item, "%s", why);
            return false;
        }
        if (r == 1) {
            const rp__bdomain *o = &f->b->domains[prev];
            const rp__bitem *it = &f->b->items[o->item];
            bool same =
                o->kind == d->kind &&
                (d->target == NULL || strcmp(d->target, o->target) == 0);
            if (!same) {
                rp__f_fail(f, RP_E_POLICY, d->item,
                           "domain '%s' is already "
                           "declared differently at %s:%u",
                           d->pattern, it->file, (unsigned)it->line);
                return false;
            }
        }
    }
    return true;
}

/* Follow one reroute chain to its final target. */
static bool
resolve_reroute(rp__freeze *f, rp__domain *doms, uint32_t start)
{
    rp__domain *d = &doms[start];
    const char *t = f->b->domains[start].target;
    uint32_t seen[REROUTE_MAX_STEPS + 1];

    seen[0] = start;
    for (unsigned step = 1;; step++) {
        uint32_t v = RP__NONE;
        rp__dompat kind;
        int r = rp__domtab_lookup(f->p->domtab, t, strlen(t), f->scratch, &v,
                                  &kind);
        if (r < 0) {
            rp__f_fail(f, RP_E_POLICY, d->item, "a domain regex failed on '%s'",
                       t);
            return false;
        }
        if (r == 0 || doms[v].kind != RP_DOMAIN_REROUTE) {
            d->target = rp__p_pstr(f, t);
            d->target_dom = r == 0 ? RP__NONE : v;
            if (r != 0 && doms[v].kind == RP_DOMAIN_LOCAL)
                d->flags |= RP__DOMF_TARGET_LOCAL;
            return d->target != RP__NONE || nomem(f);
        }
        for (unsigned k = 0; k < step; k++)
            if (seen[k] == v) {
                rp__f_fail(f, RP_E_POLICY, d->item,
                           "reroute of '%s' loops "
                           "back to '%s'",
                           f->b->domains[start].pattern,
                           f->b->domains[v].pattern);
                return false;
            }
        if (step >= REROUTE_MAX_STEPS) {
            rp__f_fail(f, RP_E_POLICY, d->item,
                       "reroute chain from '%s' is "
                       "longer than %d steps",
                       f->b->domains[start].pattern, REROUTE_MAX_STEPS);
            return false;
        }
        seen[step] = v;
        t = f->b->domains[v].target;
    }
}

bool
rp__freeze_domains(rp__freeze *f)
{
    rp_policy *p = f->p;
    rp__domtab_builder *tb;
    rp__domain *doms;

    tb = rp__domtab_builder_new(&p->alloc, p->opts.flags,
                                p->opts.regex_match_limit,
                                p->opts.regex_depth_limit);
    if (tb == NULL)
        return nomem(f);
    rp__domtab_builder_take(tb, rp__b_regex_take, f->b);
    if (!add_domains(f, tb)) {
        rp__domtab_builder_free(tb);
        return false;
    }
    if ((p->domtab = rp__domtab_freeze(tb)) == NULL)
        return nomem(f);
    doms = rp__p_alloc(f, (f->b->n_domains + 1) * sizeof(rp__domain));
    if (doms == NULL)
        return false;
    p->domains = doms;
    for (size_t i = 0; i < f->b->n_domains; i++) {
        doms[i].pattern = rp__p_pstr(f, f->b->domains[i].pattern);
        doms[i].kind = (uint32_t)f->b->domains[i].kind;
        doms[i].item = f->b->domains[i].item;
        doms[i].target = RP__NONE;
        doms[i].target_dom = RP__NONE;
        if (doms[i].pattern == RP__NONE)
            return false;
    }
    p->n_domains = (uint32_t)f->b->n_domains;
    for (uint32_t i = 0; i < p->n_domains; i++)
        if (doms[i].kind == RP_DOMAIN_REROUTE && !resolve_reroute(f, doms, i))
            return false;
    return true;
}

/* The policy's domains, to fill in while freezing. */
static rp__domain *
own_domains(rp__freeze *f)
{
    return (rp__domain *)(uintptr_t)f->p->domains;
}

/* A map from domain pattern text to its first index. */
static rp__strmap *
pattern_map(rp__freeze *f)
{
    rp__strmap_builder *mb = rp__strmap_builder_new(&f->p->alloc);

    if (mb == NULL)
        return NULL;
    for (size_t i = 0; i < f->b->n_domains; i++) {
        const char *pat = f->b->domains[i].pattern;
        if (rp__strmap_add(mb, pat, strlen(pat), (uint32_t)i) < 0) {
            rp__strmap_builder_free(mb);
            return NULL;
        }
    }
    return rp__strmap_freeze(mb);
}

/* The local domain a recipient entry or list names, or RP__NONE (and
 * the error set). */
static uint32_t
recipient_domain(rp__freeze *f, const rp__strmap *pats, const rp__brecip *r)
{
    uint32_t d = RP__NONE;

    if (!rp__strmap_get(pats, r->domain, strlen(r->domain), &d) ||
        f->p->domains[d].kind != RP_DOMAIN_LOCAL) {
        f->st = RP_E_POLICY;
        rp__error_set(f->err, RP_E_POLICY, r->file, r->line, r->column, 0,
                      r->domain, strlen(r->domain),
                      "recipients for '%s': "
                      "no local domain of that name is declared",
                      r->domain);
        return RP__NONE;
    }
    own_domains(f)[d].flags |= RP__DOMF_RECIPIENTS;
    return d;
}

static bool
add_recipient(rp__freeze *f,
              rp__strmap_builder *mb,
              const rp__strmap *pats,
              const rp__brecip *r)
{
    char key[RP__PATH_MAX + 32];
    uint32_t d = recipient_domain(f, pats, r);
    int n;

    if (d == RP__NONE)
        return false;
    own_domains(f)[d].n_recipients++;
    f->p->has_addr_recipients |= r->is_addr;
    if (r->is_addr)
        n = snprintf(key, sizeof(key), "A:%s", r->key);
    else
        n = snprintf(key, sizeof(key), "L%u:%s", (unsigned)d, r->key);
    if (n < 0 || (size_t)n >= sizeof(key) ||
        rp__strmap_add(mb, key, (size_t)n, d) < 0)
        return nomem(f);
    return true;
}

bool
rp__freeze_recipients(rp__freeze *f)
{
    rp__strmap_builder *mb;
    rp__strmap *pats;
    bool ok = true;

    if (f->b->n_recips == 0 && f->b->n_recip_lists == 0)
        return true;
    pats = pattern_map(f);
    mb = rp__strmap_builder_new(&f->p->alloc);
    if (pats == NULL || mb == NULL) {
        rp__strmap_free(pats);
        rp__strmap_builder_free(mb);
        return nomem(f);
    }
    /* A declared list turns validation on even when it stays empty. */
    for (size_t i = 0; ok && i < f->b->n_recip_lists; i++)
        ok = recipient_domain(f, pats, &f->b->recip_lists[i]) != RP__NONE;
    for (size_t i = 0; ok && i < f->b->n_recips; i++)
        ok = add_recipient(f, mb, pats, &f->b->recips[i]);
    rp__strmap_free(pats);
    if (!ok) {
        rp__strmap_builder_free(mb);
        return false;
    }
    f->p->recipients = rp__strmap_freeze(mb);
    return f->p->recipients != NULL || nomem(f);
}

/* ---- network lists ------------------------------------------------------ */

typedef struct lists {
    rp__strmap *names; /* name -> list id */
    uint32_t *first;   /* per named list: first net index */
    uint32_t *next;    /* per net: next net of the same name */
    uint32_t *ids;     /* per net: its list's id */
    uint32_t n_named;
    uint32_t n; /* list ids handed out */
    rp__radix_builder *rb;
    rp__pitems_builder *items; /* prefix -> item (prefix_items.h), or NULL */
} lists;

static bool
index_names(rp__freeze *f, lists *L)
{
    rp__strmap_builder *mb = rp__strmap_builder_new(&f->p->alloc);
    const rp__bnet *nets = f->b->nets;
    size_t n = f->b->n_nets;

    L->next = rp__calloc(&f->p->alloc, n + 1, sizeof(uint32_t));
    L->first = rp__calloc(&f->p->alloc, n + 1, sizeof(uint32_t));
    L->ids = rp__calloc(&f->p->alloc, n + 1, sizeof(uint32_t));
    if (mb == NULL || L->next == NULL || L->first == NULL || L->ids == NULL) {
        rp__strmap_builder_free(mb);
        return nomem(f);
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t id = L->n_named;
        int r;

        /* Names are interned: a run of one list's entries shares one. */
        if (i > 0 && nets[i].name == nets[i - 1].name) {
            L->ids[i] = L->ids[i - 1];
            continue;
        }
        r = rp__strmap_add(mb, nets[i].name, strlen(nets[i].name), id);
        if (r < 0) {
            rp__strmap_builder_free(mb);
            return nomem(f);
        }
        if (r == 0)
            L->first[L->n_named++] = RP__NONE;
        else
            rp__strmap_builder_get(mb, nets[i].name, strlen(nets[i].name), &id);
        L->ids[i] = id;
    }
    L->names = rp__strmap_freeze(mb);
    if (L->names == NULL)
        return nomem(f);
    /* Walk backwards so each name's chain is in file order. */
    for (size_t i = n; i-- > 0;) {
        L->next[i] = L->first[L->ids[i]];
        L->first[L->ids[i]] = (uint32_t)i;
    }
    L->n = L->n_named;
    return true;
}

static size_t count_rules(const rp_builder *b);
static bool
add_ref_items(rp__freeze *f, lists *L, const rp__bref *ref, char tag);

/* Add a reference (literal or named) to list @p id. */
static bool
add_ref(rp__freeze *f, lists *L, const rp__bref *ref, uint32_t id)
{
    uint32_t named = 0;

    if (ref->name == NULL)
        return rp__radix_add(L->rb, ref->ip.b, ref->plen, id) == 0 || nomem(f);
    if (!rp__strmap_get(L->names, ref->name, strlen(ref->name), &named)) {
        rp__f_fail(f, RP_E_POLICY, ref->item, "unknown network list '%s'",
                   ref->name);
        return false;
    }
    for (uint32_t i = L->first[named]; i != RP__NONE; i = L->next[i])
        if (rp__radix_add(L->rb, f->b->nets[i].ip.b, f->b->nets[i].plen, id) !=
            0)
            return nomem(f);
    return true;
}

/* Record which item each prefix of @p ref (literal or named) came from,
 * in a list shared by several statements of kind @p tag: the first
 * statement of a prefix keeps it. */
static bool
add_ref_items(rp__freeze *f, lists *L, const rp__bref *ref, char tag)
{
    uint32_t named = 0;

    if (L->items == NULL &&
        (L->items = rp__pitems_builder_new(&f->p->alloc)) == NULL)
        return nomem(f);
    if (ref->name == NULL)
        return rp__pitems_add(L->items, tag, ref->ip.b, ref->plen, ref->item) ==
                   0 ||
               nomem(f);
    if (!rp__strmap_get(L->names, ref->name, strlen(ref->name), &named))
        return true; /* add_ref() has failed on it already */
    for (uint32_t i = L->first[named]; i != RP__NONE; i = L->next[i])
        if (rp__pitems_add(L->items, tag, f->b->nets[i].ip.b,
                           f->b->nets[i].plen, ref->item) != 0)
            return nomem(f);
    return true;
}

static bool
add_named_lists(rp__freeze *f, lists *L)
{
    const char **names;

    names = rp__p_alloc(f, (L->n_named + 1) * sizeof(char *));
    if (names == NULL)
        return false;
    for (size_t i = 0; i < f->b->n_nets; i++) {
        uint32_t id = L->ids[i];
        const rp__bnet *net = &f->b->nets[i];
        if (names[id] == NULL && (names[id] = rp__p_str(f, net->name)) == NULL)
            return false;
        if (rp__radix_add(L->rb, net->ip.b, net->plen, id) != 0)
            return nomem(f);
    }
    f->p->list_names = names;
    return true;
}

/* The list id of a reference: a named list's own, or a new list for a
 * literal. */
static bool
ref_id(rp__freeze *f, lists *L, const rp__bref *ref, uint32_t *id)
{
    if (ref->name == NULL) {
        *id = L->n++;
        return add_ref(f, L, ref, *id);
    }
    if (!rp__strmap_get(L->names, ref->name, strlen(ref->name), id)) {
        rp__f_fail(f, RP_E_POLICY, ref->item, "unknown network list '%s'",
                   ref->name);
        return false;
    }
    return true;
}

/* `trusted-proxy` entries: one list of them all. */
static bool
build_proxies(rp__freeze *f, lists *L)
{
    const rp_builder *b = f->b;

    f->p->proxy_list = RP__NONE;
    f->p->proxy_item = RP__NONE;
    if (b->n_proxies == 0)
        return true;
    f->p->proxy_list = L->n++;
    f->p->proxy_item = b->proxies[0].item;
    for (size_t i = 0; i < b->n_proxies; i++)
        if (!add_ref(f, L, &b->proxies[i], f->p->proxy_list) ||
            (b->n_proxies > 1 &&
             !add_ref_items(f, L, &b->proxies[i], RP__PITEM_PROXY)))
            return false;
    return true;
}

/* rule_ids holds, per rule, its network list id and then (at
 * rule_ids + n_rules) its `from network` list id. */
static bool
add_listener_lists(rp__freeze *f,
                   lists *L,
                   uint32_t *remote_ids,
                   uint32_t *rule_ids)
{
    size_t r = 0;
    uint32_t *from_ids = rule_ids + count_rules(f->b);

    for (size_t i = 0; i < f->b->n_listeners; i++) {
        const rp__blistener *l = &f->b->listeners[i];

        /* A remote that is one named list is that list, as `allow network
         * NAME` is: a list of its own per listener would cost every
         * record of the prefix table a byte per listener. */
        if (l->n_remotes == 1 && l->remotes[0].name != NULL) {
            if (!ref_id(f, L, &l->remotes[0], &remote_ids[i]))
                return false;
        } else {
            remote_ids[i] = l->n_remotes > 0 ? L->n++ : RP__NONE;
            for (size_t k = 0; k < l->n_remotes; k++)
                if (!add_ref(f, L, &l->remotes[k], remote_ids[i]))
                    return false;
        }
        for (size_t k = 0; k < l->n_rules; k++, r++) {
            const rp__brule *rule = &l->rules[k];
            uint32_t id = RP__NONE;

            if (rule->has_from && !ref_id(f, L, &rule->from, &from_ids[r]))
                return false;
            if (rule->principal >= RP_PRINCIPAL_NETWORK &&
                rule->principal <= RP_PRINCIPAL_INTERFACE) {
                if (rule->ref.name != NULL &&
                    !rp__strmap_get(L->names, rule->ref.name,
                                    strlen(rule->ref.name), &id)) {
                    rp__f_fail(f, RP_E_POLICY, rule->item,
                               "unknown network "
                               "list '%s'",
                               rule->ref.name);
                    return false;
                }
                if (rule->ref.name == NULL) {
                    id = L->n++;
                    if (!add_ref(f, L, &rule->ref, id))
                        return false;
                }
            }
            rule_ids[r] = id;
            if (!rule->has_from)
                from_ids[r] = RP__NONE;
        }
    }
    return true;
}

static size_t
count_rules(const rp_builder *b)
{
    size_t n = 0;

    for (size_t i = 0; i < b->n_listeners; i++)
        n += b->listeners[i].n_rules;
    return n;
}

/* Deny-client lists: every literal entry goes into one list, and the
 * prefix -> item records name the statement of the entry that matched
 * (the first literal statement when they have no such entry); a network list
 * named by "deny client NAME" is used as it is, with its own statement. */
static bool
build_deny_client(rp__freeze *f, lists *L)
{
    const rp_builder *b = f->b;
    uint32_t *ids, *items, n = 0, literal = RP__NONE;
    size_t n_literal = 0;
    uint32_t *named;

    for (size_t i = 0; i < b->n_deny_clients; i++)
        n_literal += b->deny_clients[i].name == NULL;

    ids = rp__p_alloc(f, (b->n_deny_clients + 1) * sizeof(uint32_t));
    items = rp__p_alloc(f, (b->n_deny_clients + 1) * sizeof(uint32_t));
    named = rp__calloc(&f->p->alloc, b->n_deny_clients + 1, sizeof(uint32_t));
    if (named != NULL)
        f->deny_ids = named; /* for the dump's records */
    if (ids == NULL || items == NULL || named == NULL)
        return nomem(f);
    for (size_t i = 0; i < b->n_deny_clients; i++) {
        const rp__bref *ref = &b->deny_clients[i];
        uint32_t id = RP__NONE;

        named[i] = RP__NONE;
        if (ref->name == NULL) {
            if (literal == RP__NONE) {
                literal = L->n++;
                ids[n] = literal;
                items[n++] = ref->item;
            }
            if (!add_ref(f, L, ref, literal) ||
                (n_literal > 1 && !add_ref_items(f, L, ref, RP__PITEM_DENY)))
                return false;
            continue;
        }
        if (!rp__strmap_get(L->names, ref->name, strlen(ref->name), &id)) {
            rp__f_fail(f, RP_E_POLICY, ref->item, "unknown network list '%s'",
                       ref->name);
            return false;
        }
        ids[n] = id;
        items[n++] = ref->item;
        named[i] = id;
    }
    f->p->deny_client_lists = ids;
    f->p->deny_client_items = items;
    f->p->n_deny_client = n;
    f->p->deny_literal_list = literal;
    return true;
}

static bool
build_lists(rp__freeze *f, lists *L, uint32_t *remote_ids, uint32_t *rule_ids)
{
    if (!index_names(f, L) || !add_named_lists(f, L) ||
        !add_listener_lists(f, L, remote_ids, rule_ids))
        return false;
    return build_deny_client(f, L) && build_proxies(f, L);
}

bool
rp__freeze_lists(rp__freeze *f, uint32_t **remote_ids, uint32_t **rule_ids)
{
    lists L;
    bool ok;

    memset(&L, 0, sizeof(L));
    *remote_ids =
        rp__calloc(&f->p->alloc, f->b->n_listeners + 1, sizeof(uint32_t));
    *rule_ids =
        rp__calloc(&f->p->alloc, 2 * count_rules(f->b) + 1, sizeof(uint32_t));
    L.rb = rp__radix_builder_new(&f->p->alloc);
    if (*remote_ids == NULL || *rule_ids == NULL || L.rb == NULL) {
        rp__radix_builder_free(L.rb);
        return nomem(f);
    }
    ok = build_lists(f, &L, *remote_ids, *rule_ids);
    rp__free(&f->p->alloc, L.first);
    rp__free(&f->p->alloc, L.next);
    if (ok && L.items != NULL) {
        ok = rp__pitems_freeze(L.items, f->p) == 0 || nomem(f);
        L.items = NULL;
    }
    rp__pitems_builder_free(L.items);
    if (!ok) {
        rp__strmap_free(L.names);
        rp__free(&f->p->alloc, L.ids);
        rp__radix_builder_free(L.rb);
        return false;
    }
    f->p->n_lists = L.n;
    f->p->radix = rp__radix_freeze(L.rb, L.n);
    ok = f->p->radix != NULL || nomem(f);
    rp__strmap_free(L.names);
    f->net_ids = L.ids; /* for the dump's records; compile.c frees it */
    return ok;
}

/* ---- own addresses and groups ------------------------------------------- */

bool
rp__freeze_self(rp__freeze *f)
{
    rp__strmap_builder *mb = rp__strmap_builder_new(&f->p->alloc);
    bool ok = mb != NULL;

    for (size_t i = 0; ok && i < f->b->n_selfs; i++)
        ok = rp__strmap_add(mb, (const char *)f->b->selfs[i].b, 16, 1) >= 0;
    for (size_t i = 0; ok && i < f->b->n_listeners; i++) {
        const rp__blistener *l = &f->b->listeners[i];
        for (size_t k = 0; ok && k < l->n_binds; k++)
            if (l->binds[k].any == RP__BIND_EXACT)
                ok = rp__strmap_add(mb, (const char *)l->binds[k].ip.b, 16,
                                    1) >= 0;
    }
    if (!ok || (f->p->self_ips = rp__strmap_freeze(mb)) == NULL) {
        if (!ok)
            rp__strmap_builder_free(mb);
        return nomem(f);
    }
    f->p->self_domain = RP__NONE;
    if (f->b->self_domain != NULL) {
        const char *d = f->b->self_domain;
        uint32_t v = RP__NONE;
        rp__dompat kind;
        if (rp__domtab_lookup(f->p->domtab, d, strlen(d), f->scratch, &v,
                              &kind) != 1 ||
            f->p->domains[v].kind != RP_DOMAIN_LOCAL) {
            rp__f_fail(f, RP_E_POLICY, f->b->self_domain_item,
                       "self-domain "
                       "'%s' is not a local domain",
                       d);
            return false;
        }
        f->p->self_domain = v;
    }
    return true;
}

bool
rp__freeze_groups(rp__freeze *f)
{
    rp__strmap_builder *mb = rp__strmap_builder_new(&f->p->alloc);
    char key[600];
    bool ok = mb != NULL;

    for (size_t i = 0; ok && i < f->b->n_groups; i++) {
        int n = snprintf(key, sizeof(key), "%s\n%s", f->b->groups[i].a,
                         f->b->groups[i].b);
        ok = n > 0 && (size_t)n < sizeof(key) &&
             rp__strmap_add(mb, key, (size_t)n, 1) >= 0;
    }
    if (!ok || (f->p->groups = rp__strmap_freeze(mb)) == NULL) {
        if (!ok)
            rp__strmap_builder_free(mb);
        return nomem(f);
    }
    return true;
}

/* ---- deny lists and the sender-login map -------------------------------- */

static bool
addrset_add(rp__freeze *f,
            rp__strmap_builder *exact,
            rp__domtab_builder *doms,
            rp__addrset *set,
            const rp__bpair *e)
{
    const char *pat = e->a;
    size_t n = strlen(pat);
    char why[160];
    uint32_t prev;

    if (pat[0] == '/') {
        size_t off = 0;
        rp__regex *re = rp__b_regex_take(f->b, pat, n);
        rp_status st = re != NULL
                           ? RP_OK
                           : rp__regex_compile(&f->p->alloc, pat + 1, n - 2,
                                               f->p->opts.flags,
                                               f->p->opts.regex_match_limit,
                                               f->p->opts.regex_depth_limit,
                                               &re, why, sizeof(why), &off);
        if (st != RP_OK) {
            rp__f_fail(f, st, e->item, "bad regex: %s", why);
            return false;
        }
        set->regex[set->n_regex] = re;
        set->regex_item[set->n_regex++] = e->item;
        return true;
    }
    if (pat[0] == '@' || pat[0] == '.') {
        const char *d = pat[0] == '@' ? pat + 1 : pat;
        int r = rp__domtab_add(doms, d, strlen(d), e->item, &prev, why,
                               sizeof(why));
        if (r < 0) {
            rp__f_fail(f, r == RP__DOMTAB_NOMEM ? RP_E_NOMEM : RP_E_POLICY,
                       e->item, "%s", why);
            return false;
        }
        return true;
    }
    return rp__strmap_add(exact, pat, n, e->item) >= 0 || nomem(f);
}

static bool
build_addrset(rp__freeze *f, rp__addrset *set, const rp__bpair *v, size_t n)
{
    rp__strmap_builder *exact = rp__strmap_builder_new(&f->p->alloc);
    rp__domtab_builder *doms = rp__domtab_builder_new(
        &f->p->alloc, f->p->opts.flags, f->p->opts.regex_match_limit,
        f->p->opts.regex_depth_limit);
    bool ok = exact != NULL && doms != NULL;

    set->regex = rp__p_alloc(f, (n + 1) * sizeof(rp__regex *));
    set->regex_item = rp__p_alloc(f, (n + 1) * sizeof(uint32_t));
    ok = ok && set->regex != NULL && set->regex_item != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = addrset_add(f, exact, doms, set, &v[i]);
    if (!ok) {
        rp__strmap_builder_free(exact);
        rp__domtab_builder_free(doms);
        return f->st != RP_OK ? false : nomem(f);
    }
    set->n_entries = (uint32_t)n;
    set->exact = rp__strmap_freeze(exact);
    set->domains = rp__domtab_freeze(doms);
    /* The set borrows the regexes (freed with the policy) and lives in
     * the policy arena. */
    set->regex_set =
        rp__regex_set_new(&f->p->alloc, &f->p->arena, set->regex, set->n_regex);
    return (set->exact != NULL && set->domains != NULL &&
            set->regex_set != NULL) ||
           nomem(f);
}

bool
rp__freeze_addrsets(rp__freeze *f)
{
    return build_addrset(f, &f->p->deny_sender, f->b->deny_senders,
                         f->b->n_deny_senders) &&
           build_addrset(f, &f->p->deny_recipient, f->b->deny_recipients,
                         f->b->n_deny_recipients);
}

bool
rp__freeze_logins(rp__freeze *f)
{
    rp__strmap_builder *owner = rp__strmap_builder_new(&f->p->alloc);
    rp__strmap_builder *mapped = rp__strmap_builder_new(&f->p->alloc);
    char key[RP__PATH_MAX + 300];
    bool ok = owner != NULL && mapped != NULL;

    for (size_t i = 0; ok && i < f->b->n_logins; i++) {
        const rp__bpair *e = &f->b->logins[i];
        int n = snprintf(key, sizeof(key), "%s\n%s", e->a, e->b);
        ok = n > 0 && (size_t)n < sizeof(key) &&
             rp__strmap_add(owner, key, (size_t)n, e->item) >= 0 &&
             rp__strmap_add(mapped, e->a, strlen(e->a), e->item) >= 0;
    }
    if (!ok) {
        rp__strmap_builder_free(owner);
        rp__strmap_builder_free(mapped);
        return nomem(f);
    }
    f->p->has_login_map = f->b->n_logins > 0;
    f->p->login_owner = rp__strmap_freeze(owner);
    f->p->login_mapped = rp__strmap_freeze(mapped);
    return (f->p->login_owner != NULL && f->p->login_mapped != NULL) ||
           nomem(f);
}
