/*
 * decide_grants.c - who a rule applies to (its principal: anyone, a
 * login, a group, a certificate, a network or an interface) and the
 * narrower grants on the decision path (relaypolicy(7) §4.2):
 * certificates, logins bound to a network, scoped relay at step 7, and
 * claims of a client address from trusted proxies.
 * Nothing here allocates.
 */

#include <string.h>

#include "certfp.h"
#include "decide.h"
#include "domains.h"
#include "ipaddr.h"
#include "policy.h"
#include "prefix_items.h"
#include "radix.h"
#include "relaypolicy.h"
#include "text.h"

#define NAME_MAX_LEN 255

/* Is the client's certificate in certificate set @p id? */
static bool
has_cert_in(const rp__ctx *c, uint32_t id)
{
    char key[4 + RP__FP_LEN];
    uint32_t hit;

    if (!c->has_cert)
        return false;
    key[0] = (char)(id & 0xff);
    key[1] = (char)(id >> 8 & 0xff);
    key[2] = (char)(id >> 16 & 0xff);
    key[3] = (char)(id >> 24 & 0xff);
    memcpy(key + 4, c->cert, RP__FP_LEN);
    return rp__strmap_get(c->p->certs, key, sizeof(key), &hit) == 1;
}

/* A login rule's `from network [all-except] NETWORK`: is the client
 * address where the rule wants it? */
bool
from_ok(const rp__ctx *c, const rp__rule *r)
{
    if (r->from_list == RP__NONE)
        return true;
    return (c->crec[r->from_list] != RP__NOMATCH) != r->from_except;
}

static bool
in_group(const rp__ctx *c, const rp__rule *r)
{
    char key[NAME_MAX_LEN * 2 + 2];
    uint32_t hit;

    for (size_t i = 0; i < c->q->n_groups; i++) {
        const char *g = c->q->groups[i];
        if (rp__ci_equal(g, strnlen(g, 256), r->name, r->name_len))
            return true;
    }
    memcpy(key, r->name, r->name_len);
    key[r->name_len] = '\n';
    rp__lower(key + r->name_len + 1, c->user, c->user_len);
    return rp__strmap_get(c->p->groups, key, r->name_len + 1 + c->user_len,
                          &hit) == 1;
}

/* Does @p r apply to this client?  *plen gets a matched network prefix. */
bool
rp__principal_matches(const rp__ctx *c, const rp__rule *r, int32_t *plen)
{
    *plen = -1;
    switch (r->principal) {
    case RP_PRINCIPAL_ANONYMOUS:
        return true;
    case RP_PRINCIPAL_AUTHENTICATED:
        return c->user != NULL && from_ok(c, r);
    case RP_PRINCIPAL_USER:
        return c->user != NULL &&
               rp__ci_equal(c->user, c->user_len, r->name, r->name_len) &&
               from_ok(c, r);
    case RP_PRINCIPAL_GROUP:
        return c->user != NULL && in_group(c, r) && from_ok(c, r);
    case RP_PRINCIPAL_CERTIFICATE:
        return has_cert_in(c, r->list);
    case RP_PRINCIPAL_NETWORK:
        *plen = rp__family_plen(c, c->crec[r->list]);
        return *plen >= 0;
    case RP_PRINCIPAL_NETWORK_EXCEPT:
        return c->crec[r->list] == RP__NOMATCH;
    case RP_PRINCIPAL_INTERFACE:
        return c->lrec[r->list] != RP__NOMATCH;
    }
    return false;
}

/* The scoped rule @p item of the listener, for explanations. */
static const rp__rule *
rule_of(const rp__ctx *c, uint32_t item)
{
    for (uint32_t i = 0; i < c->l->n_rules; i++)
        if (c->l->rules[i].item == item)
            return &c->l->rules[i];
    return NULL;
}

/* "relay to vendor.example only: remote.example is outside it". */
void
rp__explain_scope(rp__ctx *c, uint32_t item, const char *where)
{
    const rp__rule *r = rule_of(c, item);

    if (r == NULL || !(c->q->flags & RP_QUERY_EXPLAIN))
        return;
    rp__explain(c, "   relay%s %s (%s:%u): %.*s %s", r->scope_text,
                r->deny ? "refused" : "only", rp__item_file(c->p, item),
                (unsigned)rp__item_line(c->p, item), (int)c->dest.domain_len,
                c->dest.domain, where);
}

/* Is the destination's domain in scoped rule @p r's list?  1, 0, or -1
 * for a regex failure. */
static int
in_scope(rp__ctx *c, const rp__rule *r)
{
    rp__domkey tmp;
    uint32_t v;
    rp__dompat kind;

    if (c->dest.dom_type != RP__DOM_NAME)
        return 0; /* an address literal is in no domain list */
    return rp__domtab_lookup_key(r->scope, rp__addr_key(c, &c->dest, &tmp),
                                 c->scratch, &v, &kind);
}

/* Scoped relay rules towards this destination (relaypolicy(7) §4.2): a
 * matching deny takes relay away, a matching grant gives it (a deny of
 * relay beats it).  c->scope_item names the scoped rule that decided, or
 * the first grant whose scope left the destination out.  -1 on a regex
 * failure. */
int
rp__scoped_relay(rp__ctx *c)
{
    uint32_t grant = RP__NONE, outside = RP__NONE;
    int32_t grant_plen = -1;

    c->scope_item = RP__NONE;
    for (uint32_t i = 0; i < c->l->n_rules; i++) {
        const rp__rule *r = &c->l->rules[i];
        int32_t plen;
        int in;

        if (r->scope == NULL || !rp__principal_matches(c, r, &plen))
            continue;
        if ((in = in_scope(c, r)) < 0)
            return -1;
        if (in && r->deny) {
            c->scope_item = r->item;
            if (c->deny_item[1] == RP__NONE) {
                c->deny_item[1] = r->item;
                c->deny_plen[1] = plen;
            }
            c->denied |= RP_PERM_RELAY;
            c->perms &= ~(uint32_t)RP_PERM_RELAY;
            return 0;
        }
        if (in && !r->deny && grant == RP__NONE) {
            grant = r->item;
            grant_plen = plen;
        } else if (!in && !r->deny && outside == RP__NONE) {
            outside = r->item;
        }
    }
    if (grant != RP__NONE && !(c->denied & RP_PERM_RELAY) &&
        !(c->perms & RP_PERM_RELAY)) {
        c->scope_item = c->grant_item[1] = grant;
        c->grant_plen[1] = grant_plen;
        c->perms |= RP_PERM_RELAY;
        c->d->permissions = c->perms;
    } else if (grant == RP__NONE && !(c->perms & RP_PERM_RELAY)) {
        c->scope_item = outside;
    }
    return 0;
}

/* `require auth or certificate`: does the client present a certificate
 * that a certificate grant of this listener names? */
bool
rp__cert_passes(const rp__ctx *c)
{
    if (!c->l->require_cert_ok || !c->has_cert)
        return false;
    for (uint32_t i = 0; i < c->l->n_rules; i++) {
        const rp__rule *r = &c->l->rules[i];
        if (!r->deny && r->principal == RP_PRINCIPAL_CERTIFICATE &&
            has_cert_in(c, r->list))
            return true;
    }
    return false;
}

/* A claimed client IP is believed only from a trusted proxy
 * (relaypolicy(7) §4.2); otherwise the peer is the client. */
void
rp__resolve_proxy(rp__ctx *c)
{
    const uint8_t *rec;

    if (c->proxy != RP__PROXY_IGNORED)
        return;
    if (c->p->proxy_list != RP__NONE) {
        rec = rp__radix_lookup(c->p->radix, c->peer.b);
        if (rec[c->p->proxy_list] != RP__NOMATCH) {
            c->proxy = RP__PROXY_BELIEVED;
            return;
        }
    }
    c->claim = c->client;
    c->client = c->peer;
}

void
rp__explain_proxy(rp__ctx *c)
{
    char peer[48], claim[48];

    rp__ip_format(&c->peer, peer, sizeof(peer));
    if (c->proxy == RP__PROXY_BELIEVED) {
        const uint8_t *rec = rp__radix_lookup(c->p->radix, c->peer.b);
        uint32_t it = rp__pitem_find(c->p, RP__PITEM_PROXY, c->peer.b,
                                     rec[c->p->proxy_list], c->p->proxy_item);
        rp__explain(c, "   claimed by trusted proxy %s (%s:%u: %s): believed",
                    peer, rp__item_file(c->p, it),
                    (unsigned)rp__item_line(c->p, it), rp__item_text(c->p, it));
    } else if (c->proxy == RP__PROXY_IGNORED) {
        rp__ip_format(&c->claim, claim, sizeof(claim));
        rp__explain(c,
                    "   claim of client %s by peer %s ignored: the peer is "
                    "not a trusted-proxy; deciding for the peer",
                    claim, peer);
    }
}
