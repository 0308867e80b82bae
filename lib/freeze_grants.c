/*
 * freeze_grants.c - the compiled form of the narrower grants
 * (relaypolicy(7) §4.2): certificate sets and the destinations of scoped
 * relay rules.  Trusted proxies and `from network` lists are radix lists,
 * made with the others in freeze.c.
 */

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "builder.h"
#include "certfp.h"
#include "domains.h"
#include "freeze.h"
#include "policy.h"
#include "relaypolicy.h"

static bool
nomem(rp__freeze *f)
{
    f->st = RP_E_NOMEM;
    return false;
}

/* Add fingerprint @p fp to certificate set @p id. */
static bool
add_cert(rp__freeze *f, rp__strmap_builder *mb, uint32_t id, const uint8_t *fp)
{
    char key[4 + RP__FP_LEN];

    key[0] = (char)(id & 0xff);
    key[1] = (char)(id >> 8 & 0xff);
    key[2] = (char)(id >> 16 & 0xff);
    key[3] = (char)(id >> 24 & 0xff);
    memcpy(key + 4, fp, RP__FP_LEN);
    return rp__strmap_add(mb, key, sizeof(key), 1) >= 0 || nomem(f);
}

/* The set id of a certificate rule: its named list's, or a new set of the
 * one fingerprint it gives. */
static bool
rule_set(rp__freeze *f,
         rp__strmap_builder *mb,
         const rp__strmap_builder *names,
         uint32_t *next,
         const rp__brule *in,
         rp__rule *out)
{
    if (in->name == NULL) {
        out->list = (*next)++;
        return add_cert(f, mb, out->list, in->cert_fp);
    }
    if (rp__strmap_builder_get(names, in->name, strlen(in->name), &out->list) !=
        1) {
        rp__f_fail(f, RP_E_POLICY, in->item, "unknown certificate list '%s'",
                   in->name);
        return false;
    }
    return true;
}

static bool
cert_rules(rp__freeze *f, rp__strmap_builder *mb, rp__strmap_builder *names)
{
    uint32_t next = 0;
    bool ok = true;

    /* Named lists first: set ids 0.. in order of first appearance. */
    for (size_t i = 0; ok && i < f->b->n_certs; i++) {
        const rp__bcert *c = &f->b->certs[i];
        uint32_t id = next;
        int r = rp__strmap_builder_get(names, c->name, strlen(c->name), &id);
        if (r != 1 && rp__strmap_add(names, c->name, strlen(c->name), id) < 0)
            return nomem(f);
        if (r != 1)
            next++;
        ok = add_cert(f, mb, id, c->fp);
    }
    for (size_t i = 0; ok && i < f->b->n_listeners; i++) {
        const rp__blistener *l = &f->b->listeners[i];
        for (size_t k = 0; ok && k < l->n_rules; k++)
            if (l->rules[k].principal == RP_PRINCIPAL_CERTIFICATE)
                ok = rule_set(f, mb, names, &next, &l->rules[k],
                              &f->p->listeners[i].rules[k]);
    }
    return ok;
}

bool
rp__freeze_certs(rp__freeze *f)
{
    rp__strmap_builder *mb = rp__strmap_builder_new(&f->p->alloc);
    rp__strmap_builder *names = rp__strmap_builder_new(&f->p->alloc);
    bool ok;

    if (mb == NULL || names == NULL) {
        rp__strmap_builder_free(mb);
        rp__strmap_builder_free(names);
        return nomem(f);
    }
    ok = cert_rules(f, mb, names);
    rp__strmap_builder_free(names);
    if (!ok) {
        rp__strmap_builder_free(mb);
        return false;
    }
    f->p->certs = rp__strmap_freeze(mb);
    return f->p->certs != NULL || nomem(f);
}

/* One rule's destinations as a domain table (values: pattern index). */
static bool
scope_table(rp__freeze *f, const rp__brule *in, rp__rule *out)
{
    rp__domtab_builder *tb;
    char why[160], text[400];
    const char **pats;
    size_t n = 0;

    tb = rp__domtab_builder_new(&f->p->alloc, f->p->opts.flags,
                                f->p->opts.regex_match_limit,
                                f->p->opts.regex_depth_limit);
    if (tb == NULL)
        return nomem(f);
    rp__domtab_builder_take(tb, rp__b_regex_take, f->b);
    for (size_t i = 0; i < in->n_scope; i++) {
        uint32_t prev;
        int r = rp__domtab_add(tb, in->scope[i], strlen(in->scope[i]),
                               (uint32_t)i, &prev, why, sizeof(why));
        if (r < 0) {
            rp__domtab_builder_free(tb);
            rp__f_fail(f, r == RP__DOMTAB_NOMEM ? RP_E_NOMEM : RP_E_POLICY,
                       in->item, "%s", why);
            return false;
        }
    }
    if ((out->scope = rp__domtab_freeze(tb)) == NULL)
        return nomem(f);
    pats = rp__p_alloc(f, in->n_scope * sizeof(*pats));
    for (size_t i = 0; pats != NULL && i < in->n_scope; i++)
        if ((pats[i] = rp__p_str(f, in->scope[i])) == NULL)
            return false;
    if (pats == NULL)
        return false;
    out->scope_pats = pats;
    out->n_scope = (uint32_t)in->n_scope;
    rp__scope_text(in, text, sizeof(text));
    n = strlen(text);
    if (n + 1 >= sizeof(text))
        memcpy(text + sizeof(text) - 5, " ...", 5);
    return (out->scope_text = rp__p_str(f, text)) != NULL;
}

bool
rp__freeze_scopes(rp__freeze *f)
{
    for (size_t i = 0; i < f->b->n_listeners; i++) {
        const rp__blistener *l = &f->b->listeners[i];
        for (size_t k = 0; k < l->n_rules; k++)
            if (l->rules[k].n_scope > 0 &&
                !scope_table(f, &l->rules[k], &f->p->listeners[i].rules[k]))
                return false;
    }
    return true;
}
