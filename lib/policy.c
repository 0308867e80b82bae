/*
 * policy.c - a compiled policy's lifetime (its reference count and its
 * release) and the string pool its per-statement records point into.
 *
 * Whoever made the policy depends on this file, not the other way round:
 * a policy opened from a compiled file carries the file's release
 * function (pfile_read.c sets it), so this file needs no reader.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "domains.h"
#include "exposure.h"
#include "policy.h"
#include "radix.h"
#include "relaypolicy.h"
#include "rp_regex.h"

uint32_t
rp__pool_add(rp_policy *p, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0, at;
    char *q;

    if (p->pool_owned == NULL) {
        /* Offset 0 is "", what a bad offset reads as. */
        q = rp__grow(&p->alloc, NULL, &p->pool_cap, 1, 1);
        if (q == NULL)
            return RP__NONE;
        q[0] = '\0';
        p->pool_owned = q;
        p->pool = q;
        p->pool_len = 1;
    }
    at = p->pool_len;
    if (n >= UINT32_MAX - 1 - at)
        return RP__NONE;
    q = rp__grow(&p->alloc, p->pool_owned, &p->pool_cap, at + n + 1, 1);
    if (q == NULL)
        return RP__NONE;
    memcpy(q + at, s != NULL ? s : "", n);
    q[at + n] = '\0';
    p->pool_owned = q;
    p->pool = q;
    p->pool_len = at + n + 1;
    return (uint32_t)at;
}

rp_policy *
rp_policy_ref(const rp_policy *policy)
{
    rp_policy *p = (rp_policy *)policy;

    if (p != NULL)
        atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

static void
free_addrset(rp__addrset *s)
{
    rp__strmap_free(s->exact);
    rp__domtab_free(s->domains);
    for (uint32_t i = 0; i < s->n_regex; i++)
        rp__regex_free(s->regex[i]);
}

void
rp_policy_free(rp_policy *p)
{
    rp__alloc a;

    if (p == NULL ||
        atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
        return;
    a = p->alloc;
    rp__domtab_free(p->domtab);
    for (uint32_t i = 0; i < p->n_listeners; i++)
        for (uint32_t k = 0; k < p->listeners[i].n_rules; k++)
            rp__domtab_free(p->listeners[i].rules[k].scope);
    rp__strmap_free(p->certs);
    rp__strmap_free(p->recipients);
    if (p->file == NULL)
        rp__radix_free(p->radix); /* else it lives in the arena */
    rp__strmap_free(p->groups);
    rp__strmap_free(p->self_ips);
    free_addrset(&p->deny_sender);
    free_addrset(&p->deny_recipient);
    rp__strmap_free(p->login_owner);
    rp__strmap_free(p->login_mapped);
    rp__exposure_free(p->exposure);
    if (p->file != NULL && p->file_close != NULL)
        p->file_close(p->file);
    rp__free(&a, p->pool_owned);
    rp__arena_free(&p->arena, &a);
    rp__free(&a, p);
}
