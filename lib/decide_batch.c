/*
 * decide_batch.c - rp_decide_batch(): several decisions with their cache
 * misses overlapped.  Each query is checked and parsed into its own slot
 * of the workspace (which prefetches its domains' hash slots), the client
 * (and, for interface rules, local) addresses of all are looked up in one
 * batch walk of the prefix table, the domains' key bytes are prefetched
 * for all, the first steps of each are taken (up to the destination, whose
 * recipient-list slot is prefetched), that slot's key bytes are prefetched
 * for all, and then each decision is finished as rp_decide() finishes it.
 * The answers are rp_decide()'s; nothing here allocates.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decide.h"
#include "domains.h"
#include "ipaddr.h"
#include "policy.h"
#include "radix.h"
#include "relaypolicy.h"

/* Looks up, in batches, the client or (@p local) local address of every
 * slot that @p ok marks, and stores the records in the slots. */
static void
lookup_addresses(rp__ctx *slots,
                 const rp_status *ok,
                 size_t n,
                 bool local,
                 const rp__radix *radix)
{
    enum { CHUNK = 64 };
    uint32_t v4[CHUNK];
    const uint8_t *v6[CHUNK], *rec4[CHUNK], *rec6[CHUNK];
    size_t at4[CHUNK], at6[CHUNK];

    for (size_t base = 0; base < n; base += CHUNK) {
        size_t end = n - base < CHUNK ? n : base + CHUNK, n4 = 0, n6 = 0;
        for (size_t i = base; i < end; i++) {
            const rp__ip *ip = local ? &slots[i].local : &slots[i].client;
            if (ok[i] != RP_OK)
                continue;
            if (ip->family == 4) {
                at4[n4] = i;
                v4[n4++] = (uint32_t)ip->b[12] << 24 |
                           (uint32_t)ip->b[13] << 16 |
                           (uint32_t)ip->b[14] << 8 | ip->b[15];
            } else {
                at6[n6] = i;
                v6[n6++] = ip->b;
            }
        }
        rp__radix_lookup4_batch(radix, v4, n4, rec4);
        rp__radix_lookup_batch(radix, v6, n6, rec6);
        for (size_t k = 0; k < n4; k++)
            *(local ? &slots[at4[k]].lrec : &slots[at4[k]].crec) = rec4[k];
        for (size_t k = 0; k < n6; k++)
            *(local ? &slots[at6[k]].lrec : &slots[at6[k]].crec) = rec6[k];
    }
}

/* The second stage of the domains' prefetch, for every parsed slot. */
static void
prefetch_domains(rp__ctx *slots, const rp_status *ok, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const rp__ctx *c = &slots[i];
        if (ok[i] != RP_OK)
            continue;
        if (c->pf_rcpt)
            rp__domtab_prefetch_key(c->p->domtab, c->rkey.hash);
        if (c->pf_sender)
            rp__domtab_prefetch_key(c->p->domtab, c->skey.hash);
    }
}

/* Decides up to 64 queries: the stages above, then each finished. */
static rp_status
decide_chunk(const rp_policy *policy,
             const rp_query *queries,
             size_t n,
             rp__ctx *slots,
             rp_decision *decisions,
             rp_status *statuses)
{
    rp_status st[64], all = RP_OK;

    for (size_t i = 0; i < n; i++) {
        rp__decision_clear(&decisions[i]);
        st[i] = rp__decide_begin(&slots[i], policy, &queries[i], &decisions[i]);
    }
    lookup_addresses(slots, st, n, false, policy->radix);
    if (policy->has_interface_rules)
        lookup_addresses(slots, st, n, true, policy->radix);
    prefetch_domains(slots, st, n);
    for (size_t i = 0; i < n; i++)
        rp__decide_first(&slots[i], st[i]);
    /* The recipient lists' key bytes, for every decision still open. */
    for (size_t i = 0; i < n; i++)
        if (!slots[i].decided && slots[i].lkey_len > 0)
            rp__strmap_prefetch_key(policy->recipients, slots[i].lkey_hash);
    for (size_t i = 0; i < n; i++) {
        st[i] = rp__decide_last(&slots[i]);
        if (statuses != NULL)
            statuses[i] = st[i];
        if (st[i] != RP_OK && all == RP_OK)
            all = st[i];
    }
    return all;
}

rp_status
rp_decide_batch(const rp_policy *policy,
                const rp_query *queries,
                size_t n,
                rp_workspace *ws,
                rp_decision *decisions,
                rp_status *statuses)
{
    rp_status all = RP_OK;

    if (n == 0)
        return policy != NULL && ws != NULL ? RP_OK : RP_E_ARG;
    if (policy == NULL || queries == NULL || ws == NULL || decisions == NULL)
        return RP_E_ARG;
    if (n > ws->n_slots)
        return RP_E_LIMIT;
    for (size_t i = 0; i < n; i += 64) {
        size_t k = n - i < 64 ? n - i : 64;
        rp_status st =
            decide_chunk(policy, queries + i, k, ws->slots + i, decisions + i,
                         statuses != NULL ? statuses + i : NULL);
        if (all == RP_OK)
            all = st;
    }
    return all;
}
