/*
 * exposure.c - the exact unauthenticated relay exposure of a compiled
 * policy (relaypolicy(7) §7).
 *
 * The local side (address and port) is cut at every bind address, every
 * prefix of an interface relay rule and every bound port; the pieces that
 * every listener scores alike and every interface rule treats alike form
 * one "class".  The client side is cut, IPv4 and IPv6 apart, at every
 * prefix of the remote ranges, of the network and all-except relay rules
 * and of deny client.  In each client piece the compiled prefix table
 * gives one record (the piece lies inside or outside each of those
 * prefixes as a whole), so one lookup per piece decides, for each class,
 * which listener relaypolicy(7) §4.2 selects and whether an unauthenticated
 * client holds relay there (relaypolicy(7) §5 steps 1, 2, 5 and 7).
 * Neighbouring pieces with the same outcome merge into one range.
 *
 * The work stays near-linear in listeners: a local piece is scored only
 * against the binds that can match it (wildcard binds of its port, exact
 * binds at its address), a class's signature lists only the listeners
 * that score, and a class is looked at only in the client pieces inside
 * its candidates' remote ranges (elsewhere none of them serves the
 * client, which is the outcome "no listener").
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "exposure.h"
#include "ipaddr.h"
#include "policy.h"
#include "radix.h"
#include "relaypolicy.h"
#include "text.h"

/* ---- the analysis state ------------------------------------------------- */

/* A relay rule (grant or deny) of a listener. */
typedef struct xrule {
    uint32_t item;
    uint32_t list;
    uint32_t iface; /* interface rules: bit index in a class */
    rp_principal principal;
    bool deny;
    bool scoped; /* a grant of relay to some destinations only */
} xrule;

typedef struct xlis {
    uint32_t rule0, n_rules; /* its relay rules in the rule array */
    bool can_relay;          /* has a relay grant and no require auth */
} xlis;

/* A listener and its score for a local piece. */
typedef struct xpair {
    uint32_t listener;
    int32_t score;
} xpair;

/* A bind, for finding the binds that can match a local piece. */
typedef struct xbind {
    rp__u128 key; /* exact binds: the address */
    uint32_t listener;
    uint32_t bind;
    uint32_t port;
} xbind;

/* A class of local pieces: the same listener scores and interface
 * matches; its candidates are the listeners with a score.  Its signature
 * is its candidates (4-byte listener, 1-byte score, in file order), then
 * one byte per interface rule. */
typedef struct xclass {
    size_t sig;       /* offset of its signature in the signature array */
    uint32_t sig_len; /* bytes */
    uint32_t n_pairs; /* candidates in the signature */
    uint32_t cand0;   /* its candidates in the candidate array */
    uint32_t n_cand;
    bool active; /* some candidate can relay */
} xclass;

/* A class entering (+1) or leaving (-1) the remote range of one of its
 * candidates at client piece @p at. */
typedef struct xevent {
    size_t at;
    int32_t delta;
    uint32_t cls;
} xevent;

/* A local piece on a port, in the class it belongs to. */
typedef struct xloc {
    rp__u128 first, last;
    uint32_t family, port, cls;
} xloc;

/* The range under construction for one class. */
typedef struct xrun {
    bool on;
    uint32_t listener, item;
    rp__u128 first, last;
} xrun;

typedef struct xa {
    const rp_policy *p;
    rp__exposure *x;
    const rp__alloc *a;
    xlis *lis;
    xrule *rules;
    uint32_t n_rules, n_iface;
    uint32_t *iface_rule; /* per interface bit: its rule */
    xbind *wild;          /* wildcard binds, by port (0 first) */
    size_t n_wild;
    xbind *exact; /* exact binds, by address */
    size_t n_exact;
    xpair *pairs; /* scratch: one piece's candidates */
    size_t pairs_cap;
    uint8_t *sigs; /* the classes' signatures, one after another */
    size_t sigs_len, sigs_cap;
    xclass *cls;
    size_t n_cls, cls_cap;
    uint32_t *hash; /* class id + 1 per slot */
    size_t hash_mask;
    xpair *cand;
    size_t n_cand, cand_cap;
    uint32_t *act; /* the classes looked at in the current piece */
    size_t n_act;
    uint32_t *act_pos, *act_cnt; /* per class: index in act, cover count */
    xloc *locs;
    size_t n_locs, locs_cap;
    xrun *runs;
    uint32_t *stamp_relay, *stamp_sel; /* per listener: last piece seen */
    uint32_t piece;
} xa;

static int32_t
fam_plen(int family, uint8_t v)
{
    if (v == RP__NOMATCH)
        return -1;
    if (family == 4)
        return v >= 96 ? v - 96 : -1; /* an IPv6 entry never holds IPv4 */
    return v;
}

/* ---- listeners and their relay rules ------------------------------------ */

static int
collect_rules(xa *s)
{
    const rp_policy *p = s->p;
    uint32_t n = 0;
    size_t cap = 0;

    for (uint32_t i = 0; i < p->n_listeners; i++)
        n += p->listeners[i].n_rules;
    s->lis = rp__calloc(s->a, p->n_listeners + 1, sizeof(*s->lis));
    s->rules = rp__calloc(s->a, n + 1, sizeof(*s->rules));
    if (s->lis == NULL || s->rules == NULL)
        return -1;
    for (uint32_t i = 0; i < p->n_listeners; i++) {
        const rp__listener *l = &p->listeners[i];
        bool grant = false;

        s->lis[i].rule0 = s->n_rules;
        for (uint32_t k = 0; k < l->n_rules; k++) {
            const rp__rule *r = &l->rules[k];
            xrule *x = &s->rules[s->n_rules];
            /* A scoped deny refuses some destinations only: the range
             * still relays towards the others. */
            if (!(r->perms & RP_PERM_RELAY) || (r->deny && r->scope != NULL))
                continue;
            x->item = r->item;
            x->list = r->list;
            x->principal = r->principal;
            x->deny = r->deny;
            x->scoped = r->scope != NULL;
            if (r->principal == RP_PRINCIPAL_INTERFACE) {
                uint32_t *v = rp__grow(s->a, s->iface_rule, &cap,
                                       s->n_iface + 1, sizeof(*v));
                if (v == NULL)
                    return -1;
                s->iface_rule = v;
                v[s->n_iface] = s->n_rules;
                x->iface = s->n_iface++;
            }
            grant = grant || !r->deny;
            s->n_rules++;
        }
        s->lis[i].n_rules = s->n_rules - s->lis[i].rule0;
        s->lis[i].can_relay = grant && !l->require_auth;
    }
    return 0;
}

/* relaypolicy(7) §4.2: how well bind @p b fits a local address and port;
 * -1 when it does not. */
static int
bind_score(const rp__bind *b, const rp__ip *local, uint32_t port)
{
    int score = b->port != 0 ? 1 : 0;

    if (b->port != 0 && b->port != port)
        return -1;
    switch (b->any) {
    case RP__BIND_EXACT:
        return memcmp(b->ip.b, local->b, 16) == 0 ? score + 2 : -1;
    case RP__BIND_ANY4:
        return local->family == 4 ? score : -1;
    case RP__BIND_ANY6:
        return local->family == 6 ? score : -1;
    case RP__BIND_ANY:
        break;
    }
    return score;
}

/* ---- local classes ------------------------------------------------------ */

static int
class_rehash(xa *s)
{
    size_t mask = s->hash_mask ? s->hash_mask * 2 + 1 : 63;
    uint32_t *h = rp__calloc(s->a, mask + 1, sizeof(*h));

    if (h == NULL)
        return -1;
    for (size_t c = 0; c < s->n_cls; c++) {
        size_t i =
            rp__hash_bytes(s->sigs + s->cls[c].sig, s->cls[c].sig_len) & mask;
        while (h[i] != 0)
            i = (i + 1) & mask;
        h[i] = (uint32_t)c + 1;
    }
    rp__free(s->a, s->hash);
    s->hash = h;
    s->hash_mask = mask;
    return 0;
}

/* The class of the signature of @p len bytes (@p n_pairs candidates)
 * just past the last one, added if new. */
static int
class_of(xa *s, uint32_t len, uint32_t n_pairs, uint32_t *id)
{
    const uint8_t *sig = s->sigs + s->sigs_len;
    size_t i = rp__hash_bytes(sig, len) & s->hash_mask;
    xclass *c;

    for (; s->hash[i] != 0; i = (i + 1) & s->hash_mask) {
        const xclass *o = &s->cls[s->hash[i] - 1];
        if (o->sig_len == len && memcmp(s->sigs + o->sig, sig, len) == 0) {
            *id = s->hash[i] - 1;
            return 0;
        }
    }
    c = rp__grow(s->a, s->cls, &s->cls_cap, s->n_cls + 1, sizeof(*c));
    if (c == NULL)
        return -1;
    s->cls = c;
    c[s->n_cls] = (xclass){s->sigs_len, len, n_pairs, 0, 0, false};
    s->sigs_len += len;
    s->hash[i] = (uint32_t)s->n_cls + 1;
    *id = (uint32_t)s->n_cls++;
    if (s->n_cls * 2 > s->hash_mask)
        return class_rehash(s);
    return 0;
}

static int
cmp_pair(const void *a, const void *b)
{
    const xpair *x = a, *y = b;

    return (x->listener > y->listener) - (x->listener < y->listener);
}

static int
add_pair(xa *s, size_t *n, const xbind *wb, const rp__ip *local, uint32_t port)
{
    const rp__bind *b = &s->p->listeners[wb->listener].binds[wb->bind];
    int sc = bind_score(b, local, port);
    xpair *v;

    if (sc < 0)
        return 0;
    v = rp__grow(s->a, s->pairs, &s->pairs_cap, *n + 1, sizeof(*v));
    if (v == NULL)
        return -1;
    s->pairs = v;
    v[(*n)++] = (xpair){wb->listener, sc};
    return 0;
}

/* The first of the @p n binds at or after @p key (exact binds) or port
 * (wildcard binds: @p key.lo is the port). */
static size_t
bind_lower(const xbind *v, size_t n, rp__u128 key, bool by_port)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        bool before =
            by_port ? v[mid].port < key.lo : rp__u_cmp(v[mid].key, key) < 0;
        if (before)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* One local piece's candidates, sorted by listener, each with its best
 * score: the wildcard binds of any port or of @p port, the exact binds
 * at the piece's address (a bound address is a piece of its own). */
static int
piece_pairs(
    xa *s, const rp__ip *local, rp__u128 first, uint32_t port, size_t *np)
{
    size_t n = 0, k = 0, i;

    for (i = 0; i < s->n_wild && s->wild[i].port == 0; i++)
        if (add_pair(s, &n, &s->wild[i], local, port) < 0)
            return -1;
    if (port != 0)
        for (i = bind_lower(s->wild, s->n_wild, (rp__u128){0, port}, true);
             i < s->n_wild && s->wild[i].port == port; i++)
            if (add_pair(s, &n, &s->wild[i], local, port) < 0)
                return -1;
    for (i = bind_lower(s->exact, s->n_exact, first, false);
         i < s->n_exact && rp__u_cmp(s->exact[i].key, first) == 0; i++)
        if (add_pair(s, &n, &s->exact[i], local, port) < 0)
            return -1;
    if (n > 1)
        qsort(s->pairs, n, sizeof(*s->pairs), cmp_pair);
    for (i = 0; i < n; i++) {
        if (k > 0 && s->pairs[k - 1].listener == s->pairs[i].listener) {
            if (s->pairs[i].score > s->pairs[k - 1].score)
                s->pairs[k - 1].score = s->pairs[i].score;
            continue;
        }
        s->pairs[k++] = s->pairs[i];
    }
    *np = k;
    return 0;
}

/* Score every listener and interface rule for one local piece and port;
 * file the piece under its class. */
static int
classify(xa *s, int family, rp__u128 first, rp__u128 last, uint32_t port)
{
    const rp_policy *p = s->p;
    rp__ip local;
    const uint8_t *rec;
    uint8_t *sig;
    size_t np = 0, len;
    uint32_t id;
    xloc *lc;

    memset(&local, 0, sizeof(local));
    local.family = family;
    rp__u_store(first, local.b);
    if (piece_pairs(s, &local, first, port, &np) < 0)
        return -1;
    len = np * 5 + s->n_iface;
    sig = rp__grow(s->a, s->sigs, &s->sigs_cap, s->sigs_len + len + 1, 1);
    if (sig == NULL)
        return -1;
    s->sigs = sig;
    sig += s->sigs_len;
    for (size_t i = 0; i < np; i++) {
        uint32_t l = s->pairs[i].listener;
        sig[5 * i] = (uint8_t)l;
        sig[5 * i + 1] = (uint8_t)(l >> 8);
        sig[5 * i + 2] = (uint8_t)(l >> 16);
        sig[5 * i + 3] = (uint8_t)(l >> 24);
        sig[5 * i + 4] = (uint8_t)(int8_t)s->pairs[i].score;
    }
    rec = s->n_iface > 0 ? rp__radix_lookup(p->radix, local.b) : NULL;
    for (uint32_t j = 0; j < s->n_iface; j++)
        sig[np * 5 + j] =
            fam_plen(family, rec[s->rules[s->iface_rule[j]].list]) >= 0;
    if (class_of(s, (uint32_t)len, (uint32_t)np, &id) < 0)
        return -1;
    lc = rp__grow(s->a, s->locs, &s->locs_cap, s->n_locs + 1, sizeof(*lc));
    if (lc == NULL)
        return -1;
    s->locs = lc;
    lc[s->n_locs++] = (xloc){first, last, (uint32_t)family, port, id};
    return 0;
}

static int
cmp_wild(const void *a, const void *b)
{
    const xbind *x = a, *y = b;

    if (x->port != y->port)
        return x->port < y->port ? -1 : 1;
    return (x->listener > y->listener) - (x->listener < y->listener);
}

static int
cmp_exact(const void *a, const void *b)
{
    const xbind *x = a, *y = b;
    int c = rp__u_cmp(x->key, y->key);

    if (c != 0)
        return c;
    return (x->listener > y->listener) - (x->listener < y->listener);
}

/* File every bind: wildcard ones by port, exact ones by address. */
static int
index_binds(xa *s)
{
    const rp_policy *p = s->p;
    size_t n = 0;

    for (uint32_t i = 0; i < p->n_listeners; i++)
        n += p->listeners[i].n_binds;
    s->wild = rp__calloc(s->a, n + 1, sizeof(*s->wild));
    s->exact = rp__calloc(s->a, n + 1, sizeof(*s->exact));
    if (s->wild == NULL || s->exact == NULL)
        return -1;
    for (uint32_t i = 0; i < p->n_listeners; i++)
        for (uint32_t k = 0; k < p->listeners[i].n_binds; k++) {
            const rp__bind *b = &p->listeners[i].binds[k];
            xbind x = {rp__u_load(b->ip.b), i, k, b->port};
            if (b->any == RP__BIND_EXACT)
                s->exact[s->n_exact++] = x;
            else
                s->wild[s->n_wild++] = x;
        }
    qsort(s->wild, s->n_wild, sizeof(*s->wild), cmp_wild);
    qsort(s->exact, s->n_exact, sizeof(*s->exact), cmp_exact);
    return 0;
}

static int
cmp_port(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/* The ports binds name, sorted and unique, then 0 for every other port
 * (unless all 65535 are named). */
static uint32_t *
port_classes(xa *s, size_t *n)
{
    const rp_policy *p = s->p;
    size_t cap = 1, k = 0;
    uint32_t *v;

    for (uint32_t i = 0; i < p->n_listeners; i++)
        cap += p->listeners[i].n_binds;
    if ((v = rp__calloc(s->a, cap, sizeof(*v))) == NULL)
        return NULL;
    for (uint32_t i = 0; i < p->n_listeners; i++)
        for (uint32_t j = 0; j < p->listeners[i].n_binds; j++)
            if (p->listeners[i].binds[j].port != 0)
                v[k++] = p->listeners[i].binds[j].port;
    qsort(v, k, sizeof(*v), cmp_port);
    *n = 0;
    for (size_t i = 0; i < k; i++)
        if (*n == 0 || v[i] != v[*n - 1])
            v[(*n)++] = v[i];
    if (*n < 65535)
        v[(*n)++] = 0;
    return v;
}

/* The first port no bind names: the witness of port class 0. */
static uint32_t
other_port(const uint32_t *ports, size_t n)
{
    uint32_t w = 1;

    for (size_t i = 0; i < n && ports[i] != 0; i++)
        if (ports[i] == w)
            w++;
    return w;
}

static int
build_classes(xa *s, const rp__xcuts *xc)
{
    size_t n_ports = 0;
    uint32_t *ports = port_classes(s, &n_ports);
    int rc = ports == NULL ? -1 : 0;

    if (rc == 0)
        rc = index_binds(s);
    if (rc == 0)
        rc = class_rehash(s);
    for (int f = 4; f <= 6 && rc == 0; f += 2) {
        rp__cuts c = {NULL, 0, 0};
        rc = rp__xcuts_make(s->a, xc->local, xc->n_local, f, &c);
        for (size_t pi = 0; pi < n_ports && rc == 0; pi++) {
            uint32_t port =
                ports[pi] != 0 ? ports[pi] : other_port(ports, n_ports);
            for (size_t i = 0; i < c.n && rc == 0; i++) {
                if (f == 6 && rp__u_cmp(c.v[i], RP__MAPPED_FIRST) == 0)
                    continue;
                rc = classify(s, f, c.v[i], rp__xcuts_last(&c, i, f), port);
                if (rc == 0 && ports[pi] == 0)
                    s->locs[s->n_locs - 1].port = 0;
            }
        }
        rp__free(s->a, c.v);
    }
    rp__free(s->a, ports);
    return rc;
}

/* Each class's candidate listeners (file order) and whether any of them
 * can relay. */
static int
class_candidates(xa *s)
{
    for (size_t c = 0; c < s->n_cls; c++) {
        const uint8_t *sig = s->sigs + s->cls[c].sig;
        s->cls[c].cand0 = (uint32_t)s->n_cand;
        for (uint32_t k = 0; k < s->cls[c].n_pairs; k++) {
            const uint8_t *e = sig + 5 * k;
            uint32_t i = (uint32_t)e[0] | (uint32_t)e[1] << 8 |
                         (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24;
            xpair *v = rp__grow(s->a, s->cand, &s->cand_cap, s->n_cand + 1,
                                sizeof(*v));
            if (v == NULL)
                return -1;
            s->cand = v;
            v[s->n_cand++] = (xpair){i, (int8_t)e[4]};
            s->cls[c].active = s->cls[c].active || s->lis[i].can_relay;
        }
        s->cls[c].n_cand = (uint32_t)s->n_cand - s->cls[c].cand0;
    }
    return 0;
}

/* ---- the client sweep --------------------------------------------------- */

/* relaypolicy(7) §4.2: the listener class @p c selects for a client with
 * record @p rec, or RP__NONE. */
static uint32_t
select_listener(const xa *s, const xclass *c, const uint8_t *rec, int family)
{
    uint32_t best = RP__NONE;
    int32_t best_plen = -1;
    int best_score = -1;

    for (uint32_t k = 0; k < c->n_cand; k++) {
        uint32_t i = s->cand[c->cand0 + k].listener;
        int score = s->cand[c->cand0 + k].score;
        const rp__listener *l = &s->p->listeners[i];
        int32_t plen = l->remote_list == RP__NONE
                           ? 0
                           : fam_plen(family, rec[l->remote_list]);
        if (plen < 0)
            continue;
        if (plen > best_plen || (plen == best_plen && score > best_score)) {
            best = i;
            best_plen = plen;
            best_score = score;
        }
    }
    return best;
}

/* The relay grant an unauthenticated client holds on listener @p i
 * (relaypolicy(7) §5 step 7: the first matching grant, unless a deny
 * matches), or RP__NONE. */
static uint32_t
relay_item(
    const xa *s, uint32_t i, const xclass *c, const uint8_t *rec, int family)
{
    const uint8_t *iface = s->sigs + c->sig + 5 * (size_t)c->n_pairs;
    uint32_t grant = RP__NONE;
    bool scoped = false;

    if (!s->lis[i].can_relay)
        return RP__NONE;
    for (uint32_t k = 0; k < s->lis[i].n_rules; k++) {
        const xrule *r = &s->rules[s->lis[i].rule0 + k];
        bool m;
        switch (r->principal) {
        case RP_PRINCIPAL_ANONYMOUS:
            m = true;
            break;
        case RP_PRINCIPAL_NETWORK:
            m = fam_plen(family, rec[r->list]) >= 0;
            break;
        case RP_PRINCIPAL_NETWORK_EXCEPT:
            m = fam_plen(family, rec[r->list]) < 0;
            break;
        case RP_PRINCIPAL_INTERFACE:
            m = iface[r->iface] != 0;
            break;
        default: /* a login: never an unauthenticated client */
            m = false;
            break;
        }
        if (!m)
            continue;
        if (r->deny)
            return RP__NONE;
        /* An unscoped grant says more (every destination): it wins. */
        if (grant == RP__NONE || (scoped && !r->scoped)) {
            grant = r->item;
            scoped = r->scoped;
        }
    }
    return grant;
}

static int
emit(xa *s, uint32_t cls, int family)
{
    xrun *r = &s->runs[cls];
    rp__exposure *x = s->x;
    rp__xent *v;

    if (!r->on)
        return 0;
    r->on = false;
    v = rp__grow(s->a, x->v, &x->cap, x->n + 1, sizeof(*v));
    if (v == NULL)
        return -1;
    x->v = v;
    v[x->n++] = (rp__xent){r->first, r->last, r->listener,
                           cls,      r->item, (uint32_t)family};
    return 0;
}

/* Extend or restart class @p cls's range with one piece's outcome. */
static int
run_step(xa *s,
         uint32_t cls,
         uint32_t listener,
         uint32_t item,
         rp__u128 first,
         rp__u128 last,
         int family)
{
    xrun *r = &s->runs[cls];

    if (r->on && item != RP__NONE && r->listener == listener &&
        r->item == item && rp__xadjacent(r->last, first, family)) {
        r->last = last;
        return 0;
    }
    if (emit(s, cls, family) < 0)
        return -1;
    if (item != RP__NONE)
        *r = (xrun){true, listener, item, first, last};
    return 0;
}

static void
add_count(xa *s, uint32_t listener, bool relay, int family, rp__u128 n)
{
    rp__xsum *sum = &s->x->sum[listener];
    uint32_t *stamp = relay ? s->stamp_relay : s->stamp_sel;

    if (stamp[listener] == s->piece)
        return;
    stamp[listener] = s->piece;
    if (family == 4 && relay)
        sum->pub4 += n.lo;
    else if (family == 4)
        sum->sel_pub4 += n.lo;
    else if (relay)
        sum->pub6 = rp__u_add(sum->pub6, n);
    else
        sum->sel_pub6 = rp__u_add(sum->sel_pub6, n);
}

static bool
blocked(const rp_policy *p, const uint8_t *rec, int family)
{
    for (uint32_t i = 0; i < p->n_deny_client; i++)
        if (fam_plen(family, rec[p->deny_client_lists[i]]) >= 0)
            return true;
    return false;
}

/* One client piece: its outcome in every class looked at (the others
 * select no listener there). */
static int
client_piece(xa *s, rp__u128 first, rp__u128 last, int family)
{
    uint8_t key[16];
    const uint8_t *rec;
    rp__u128 pub = rp__public_count(family, first, last);
    bool no = false;

    rp__u_store(first, key);
    rec = rp__radix_lookup(s->p->radix, key);
    no = blocked(s->p, rec, family);
    s->piece++;
    for (size_t a = 0; a < s->n_act; a++) {
        uint32_t c = s->act[a];
        const xclass *k = &s->cls[c];
        uint32_t l = RP__NONE, item = RP__NONE;
        if (k->n_cand > 0 && !no)
            l = select_listener(s, k, rec, family);
        if (l != RP__NONE) {
            add_count(s, l, false, family, pub);
            if (k->active)
                item = relay_item(s, l, k, rec, family);
        }
        if (item != RP__NONE)
            add_count(s, l, true, family, pub);
        if (run_step(s, c, l, item, first, last, family) < 0)
            return -1;
    }
    return 0;
}

/* Class @p c enters (+1) or leaves (-1) one more cover. */
static int
cover(xa *s, uint32_t c, int32_t delta, int family)
{
    if (delta > 0) {
        if (s->act_cnt[c]++ == 0) {
            s->act_pos[c] = (uint32_t)s->n_act;
            s->act[s->n_act++] = c;
        }
        return 0;
    }
    if (--s->act_cnt[c] > 0)
        return 0;
    /* No candidate serves the pieces from here on: the outcome "no
     * listener", which ends the class's range. */
    s->act[s->act_pos[c]] = s->act[--s->n_act];
    s->act_pos[s->act[s->act_pos[c]]] = s->act_pos[c];
    return emit(s, c, family);
}

static int
cmp_event(const void *pa, const void *pb)
{
    const xevent *a = pa, *b = pb;

    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    if (a->delta != b->delta) /* enter before leave: ranges stay whole */
        return a->delta > b->delta ? -1 : 1;
    return (a->cls > b->cls) - (a->cls < b->cls);
}

/* The first piece of @p c starting after @p k. */
static size_t
piece_after(const rp__cuts *c, rp__u128 k)
{
    size_t lo = 0, hi = c->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rp__u_cmp(c->v[mid], k) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int
add_event(xevent **v, size_t *n, size_t *cap, const rp__alloc *a, xevent e)
{
    xevent *g = rp__grow(a, *v, cap, *n + 1, sizeof(**v));

    if (g == NULL)
        return -1;
    *v = g;
    g[(*n)++] = e;
    return 0;
}

/* The pieces in which each class is looked at: those inside the remote
 * range of one of its candidates, every piece when a candidate serves
 * every client (or the remote ranges are not known).  Classes without a
 * candidate are never looked at: they select no listener.  Events at
 * @p skip (the IPv4 block of the IPv6 space, never swept) move to the
 * next piece. */
static int
class_events(xa *s,
             const rp__xcuts *xc,
             const rp__cuts *c,
             int family,
             size_t skip,
             xevent **ev,
             size_t *n_ev)
{
    bool known = xc->remote != NULL && xc->n_remote == 2 * s->p->n_listeners;
    size_t cap = 0;

    for (uint32_t k = 0; k < s->n_cls; k++) {
        const xclass *cl = &s->cls[k];
        bool all = !known;
        for (uint32_t j = 0; j < cl->n_cand && !all; j++)
            all =
                s->p->listeners[s->cand[cl->cand0 + j].listener].remote_list ==
                RP__NONE;
        if (cl->n_cand == 0)
            continue;
        if (all) {
            if (add_event(ev, n_ev, &cap, s->a, (xevent){0, 1, k}) < 0)
                return -1;
            continue;
        }
        for (uint32_t j = 0; j < cl->n_cand; j++) {
            uint32_t l = s->cand[cl->cand0 + j].listener;
            for (size_t r = xc->remote[2 * l]; r < xc->remote[2 * l + 1]; r++) {
                rp__ip ip;
                rp__u128 first, last;
                size_t from, to;
                memset(&ip, 0, sizeof(ip));
                memcpy(ip.b, xc->client[r].key, 16);
                rp__prefix_range(&ip, xc->client[r].plen, &first, &last);
                if ((xc->client[r].plen >= 96 &&
                     rp__u_cmp(first, RP__MAPPED_FIRST) >= 0 &&
                     rp__u_cmp(first, RP__MAPPED_END) < 0) != (family == 4))
                    continue;
                from = piece_after(c, first) - 1;
                to = piece_after(c, last);
                from += from == skip;
                to += to == skip;
                if (add_event(ev, n_ev, &cap, s->a, (xevent){from, 1, k}) < 0 ||
                    add_event(ev, n_ev, &cap, s->a, (xevent){to, -1, k}) < 0)
                    return -1;
            }
        }
    }
    if (*n_ev > 1)
        qsort(*ev, *n_ev, sizeof(**ev), cmp_event);
    return 0;
}

static int
sweep_family(xa *s, const rp__xcuts *xc, int family)
{
    rp__cuts c = {NULL, 0, 0};
    int rc = rp__xcuts_make(s->a, xc->client, xc->n_client, family, &c);
    xevent *ev = NULL;
    size_t n_ev = 0, e = 0, skip = SIZE_MAX;

    if (rc == 0 && family == 6)
        skip = piece_after(&c, RP__MAPPED_FIRST) - 1;
    if (rc == 0)
        rc = class_events(s, xc, &c, family, skip, &ev, &n_ev);
    s->n_act = 0;
    memset(s->act_cnt, 0, (s->n_cls + 1) * sizeof(*s->act_cnt));
    for (size_t i = 0; i < c.n && rc == 0; i++) {
        for (; e < n_ev && ev[e].at == i && rc == 0; e++)
            rc = cover(s, ev[e].cls, ev[e].delta, family);
        if (rc != 0 || i == skip)
            continue;
        rc = client_piece(s, c.v[i], rp__xcuts_last(&c, i, family), family);
    }
    for (uint32_t k = 0; k < s->n_cls && rc == 0; k++)
        rc = emit(s, k, family);
    rp__free(s->a, ev);
    rp__free(s->a, c.v);
    return rc;
}

/* ---- the result --------------------------------------------------------- */

static int
cmp_ent(const void *pa, const void *pb)
{
    const rp__xent *a = pa, *b = pb;
    int c;

    if (a->listener != b->listener)
        return a->listener < b->listener ? -1 : 1;
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    if ((c = rp__u_cmp(a->first, b->first)) != 0)
        return c;
    return (a->cls > b->cls) - (a->cls < b->cls);
}

/* Sort the entries and find each listener's share and widest ranges. */
static void
finish_sums(rp__exposure *x)
{
    rp__u128 best[2];
    size_t i = 0;

    if (x->n > 1)
        qsort(x->v, x->n, sizeof(*x->v), cmp_ent);
    for (uint32_t l = 0; l < x->n_listeners; l++) {
        rp__xsum *sum = &x->sum[l];
        sum->widest4 = sum->widest6 = RP__NONE;
        best[0] = best[1] = (rp__u128){0, 0};
        sum->first = i;
        for (; i < x->n && x->v[i].listener == l; i++) {
            const rp__xent *e = &x->v[i];
            int f = e->family == 4 ? 0 : 1;
            rp__u128 n = rp__public_count((int)e->family, e->first, e->last);
            uint32_t *w = f == 0 ? &sum->widest4 : &sum->widest6;
            if (*w == RP__NONE || rp__u_cmp(n, best[f]) > 0) {
                *w = (uint32_t)i;
                best[f] = n;
            }
        }
        sum->end = i;
    }
}

/* Merge each class's local pieces (in cut order) and hand them out in
 * the public form. */
static int
finish_classes(xa *s)
{
    rp__exposure *x = s->x;
    rp_exposure_local *out;
    size_t k = 0, *at, *order;

    x->cls = rp__calloc(s->a, s->n_cls + 1, sizeof(*x->cls));
    out = rp__calloc(s->a, s->n_locs + 1, sizeof(*out));
    at = rp__calloc(s->a, s->n_cls + 2, sizeof(*at));
    order = rp__calloc(s->a, s->n_locs + 1, sizeof(*order));
    if (x->cls == NULL || out == NULL || at == NULL || order == NULL) {
        rp__free(s->a, out);
        rp__free(s->a, at);
        rp__free(s->a, order);
        return -1;
    }
    /* Each class's pieces, in cut order. */
    for (size_t i = 0; i < s->n_locs; i++)
        at[s->locs[i].cls + 2]++;
    for (size_t c = 2; c < s->n_cls + 2; c++)
        at[c] += at[c - 1];
    for (size_t i = 0; i < s->n_locs; i++)
        order[at[s->locs[i].cls + 1]++] = i;
    x->n_cls = (uint32_t)s->n_cls;
    x->locals = out;
    for (uint32_t c = 0; c < s->n_cls; c++) {
        const xloc *prev = NULL;
        rp__u128 run_first = {0, 0};
        x->cls[c].locals = out + k;
        for (size_t j = at[c]; j < at[c + 1]; j++) {
            const xloc *lc = &s->locs[order[j]];
            if (prev != NULL && prev->family == lc->family &&
                prev->port == lc->port &&
                rp__xadjacent(prev->last, lc->first, (int)lc->family)) {
                rp__exposure_range((int)lc->family, run_first, lc->last,
                                   &out[k - 1].range);
            } else {
                run_first = lc->first;
                rp__exposure_range((int)lc->family, lc->first, lc->last,
                                   &out[k].range);
                out[k++].port = lc->port;
            }
            prev = lc;
        }
        x->cls[c].n = (uint32_t)(out + k - x->cls[c].locals);
    }
    rp__free(s->a, at);
    rp__free(s->a, order);
    return 0;
}

static void
xa_free(xa *s)
{
    rp__free(s->a, s->lis);
    rp__free(s->a, s->rules);
    rp__free(s->a, s->sigs);
    rp__free(s->a, s->cls);
    rp__free(s->a, s->hash);
    rp__free(s->a, s->cand);
    rp__free(s->a, s->locs);
    rp__free(s->a, s->runs);
    rp__free(s->a, s->stamp_relay);
    rp__free(s->a, s->stamp_sel);
    rp__free(s->a, s->act);
    rp__free(s->a, s->act_pos);
    rp__free(s->a, s->act_cnt);
    rp__free(s->a, s->iface_rule);
    rp__free(s->a, s->wild);
    rp__free(s->a, s->exact);
    rp__free(s->a, s->pairs);
}

static int
analyse(xa *s, const rp__xcuts *cuts)
{
    uint32_t nl = s->p->n_listeners + 1;

    if (collect_rules(s) < 0 || build_classes(s, cuts) < 0 ||
        class_candidates(s) < 0)
        return -1;
    s->runs = rp__calloc(s->a, s->n_cls + 1, sizeof(*s->runs));
    s->act = rp__calloc(s->a, s->n_cls + 1, sizeof(*s->act));
    s->act_pos = rp__calloc(s->a, s->n_cls + 1, sizeof(*s->act_pos));
    s->act_cnt = rp__calloc(s->a, s->n_cls + 1, sizeof(*s->act_cnt));
    s->stamp_relay = rp__calloc(s->a, nl, sizeof(uint32_t));
    s->stamp_sel = rp__calloc(s->a, nl, sizeof(uint32_t));
    if (s->runs == NULL || s->stamp_relay == NULL || s->stamp_sel == NULL ||
        s->act == NULL || s->act_pos == NULL || s->act_cnt == NULL ||
        sweep_family(s, cuts, 4) < 0 || sweep_family(s, cuts, 6) < 0)
        return -1;
    finish_sums(s->x);
    return finish_classes(s);
}

rp_status
rp__exposure_build(rp_policy *p, const rp__xcuts *cuts)
{
    rp__exposure *x = rp__calloc(&p->alloc, 1, sizeof(*x));
    xa s;
    int rc;

    if (x == NULL)
        return RP_E_NOMEM;
    x->alloc = p->alloc;
    x->n_listeners = p->n_listeners;
    x->sum = rp__calloc(&p->alloc, p->n_listeners + 1, sizeof(*x->sum));
    memset(&s, 0, sizeof(s));
    s.p = p;
    s.x = x;
    s.a = &x->alloc;
    rc = x->sum == NULL ? -1 : analyse(&s, cuts);
    xa_free(&s);
    if (rc < 0) {
        rp__exposure_free(x);
        return RP_E_NOMEM;
    }
    p->exposure = x;
    return RP_OK;
}

void
rp__exposure_free(rp__exposure *x)
{
    rp__alloc a;

    if (x == NULL)
        return;
    a = x->alloc;
    if (!x->v_borrowed)
        rp__free(&a, x->v);
    rp__free(&a, x->sum);
    rp__free(&a, x->cls);
    rp__free(&a, x->locals);
    rp__free(&a, x);
}
