/*
 * lint.c - auditing a policy (relaypolicy(7) §7).
 *
 * The audit runs once, when the policy is frozen, over what the builder
 * recorded (rules keep their principal and network references there), and
 * stores its findings in the policy; rp_policy_lint() only replays them.
 * Findings are sorted by their place in the policy.  Every finding has a
 * stable code, a severity and one line of advice:
 *
 *   critical  the policy relays for the whole Internet (only possible with
 *             `allow open-relay`, or through an "all except" grant);
 *   warning   a risky grant, or something that cannot work as written;
 *   info      redundant or ineffective statements.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "builder.h"
#include "domains.h"
#include "exposure.h"
#include "freeze.h"
#include "idn.h"
#include "lint.h"
#include "policy.h"
#include "relaypolicy.h"
#include "rp_regex.h"

/* A finding before it is sorted into the policy. */
typedef struct rec {
    rp_severity severity;
    const char *code; /* static */
    const char *file; /* the builder's */
    uint32_t line;
    uint32_t message;   /* in the policy's pool */
    const char *advice; /* static or the builder's */
    uint32_t item;      /* RP__NONE for policy-wide findings */
    uint32_t seq;
} rec;

/* Strings already in the pool, by address (the codes, advice and file
 * names repeat across findings). */
#define POOLED 64

typedef struct lint {
    const rp_builder *b;
    rp_policy *p;
    rec *v;
    size_t n, cap;
    bool failed;
    const char *pooled[POOLED];
    uint32_t pooled_off[POOLED];
    unsigned n_pooled, next_pooled;
} lint;

/* ---- recording findings ------------------------------------------------- */

/* @p s in the policy's pool, once per address as far as the cache goes. */
static uint32_t
pool_str(lint *L, const char *s)
{
    uint32_t off;

    for (unsigned i = 0; i < L->n_pooled; i++)
        if (L->pooled[i] == s)
            return L->pooled_off[i];
    if ((off = rp__pool_add(L->p, s)) == RP__NONE) {
        L->failed = true;
        return RP__NONE;
    }
    L->pooled[L->next_pooled] = s;
    L->pooled_off[L->next_pooled] = off;
    L->next_pooled = (L->next_pooled + 1) % POOLED;
    if (L->n_pooled < POOLED)
        L->n_pooled++;
    return off;
}

static void finding(lint *L,
                    rp_severity sev,
                    const char *code,
                    uint32_t item,
                    const char *advice,
                    const char *fmt,
                    ...) __attribute__((format(printf, 6, 7)));

static void
finding(lint *L,
        rp_severity sev,
        const char *code,
        uint32_t item,
        const char *advice,
        const char *fmt,
        ...)
{
    const rp_builder *b = L->b;
    char msg[512];
    va_list ap;
    rec *r;

    if (L->failed)
        return;
    r = rp__grow(&L->p->alloc, L->v, &L->cap, L->n + 1, sizeof(*L->v));
    if (r == NULL) {
        L->failed = true;
        return;
    }
    L->v = r;
    r = &L->v[L->n];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->item = item < b->n_items ? item : RP__NONE;
    r->seq = (uint32_t)L->n;
    r->severity = sev;
    r->code = code;
    r->line = r->item != RP__NONE ? b->items[item].line : 0;
    r->file = r->item != RP__NONE ? b->items[item].file
              : b->n_items > 0    ? b->items[0].file
                                  : b->file;
    if ((r->message = rp__pool_add(L->p, msg)) == RP__NONE)
        L->failed = true;
    r->advice = advice;
    if (!L->failed)
        L->n++;
}

/* The statement text of an item, for messages. */
static const char *
item_text(const lint *L, uint32_t item)
{
    return item < L->b->n_items ? L->b->items[item].text : "";
}

static unsigned
item_line(const lint *L, uint32_t item)
{
    return item < L->b->n_items ? (unsigned)L->b->items[item].line : 0;
}

/* ---- listeners ---------------------------------------------------------- */

/* Serves clients from the Internet: every client by default, or a remote
 * range holding public addresses. */
static bool
internet_facing(const rp_builder *b, const rp__blistener *l)
{
    scan s;

    if (l->n_remotes == 0)
        return true;
    for (size_t i = 0; i < l->n_remotes; i++)
        if (rp__lint_ref_has(b, &l->remotes[i], rp__lint_find_public, &s))
            return true;
    return false;
}

static bool
binds_port25(const rp__blistener *l)
{
    for (size_t i = 0; i < l->n_binds; i++)
        if (l->binds[i].port == 25 || l->binds[i].port == 0)
            return true;
    return false;
}

static bool
same_bind(const rp__bind *x, const rp__bind *y)
{
    return x->any == y->any && x->port == y->port &&
           (x->any != RP__BIND_EXACT ||
            memcmp(x->ip.b, y->ip.b, sizeof(x->ip.b)) == 0);
}

/* Every bind of @p l is also a bind of @p by. */
static bool
binds_within(const rp__blistener *l, const rp__blistener *by)
{
    for (size_t i = 0; i < l->n_binds; i++) {
        bool found = false;
        for (size_t k = 0; k < by->n_binds && !found; k++)
            found = same_bind(&l->binds[i], &by->binds[k]);
        if (!found)
            return false;
    }
    return true;
}

/* Every remote range of @p x is covered by one of @p y's. */
static bool
remotes_within(const rp_builder *b,
               const rp__blistener *x,
               const rp__blistener *y)
{
    for (size_t i = 0; i < x->n_remotes; i++) {
        bool found = false;
        for (size_t k = 0; k < y->n_remotes && !found; k++)
            found = rp__lint_ref_covers(b, &y->remotes[k], &x->remotes[i]);
        if (!found)
            return false;
    }
    return true;
}

static bool
same_remotes(const rp_builder *b,
             const rp__blistener *x,
             const rp__blistener *y)
{
    if ((x->n_remotes == 0) != (y->n_remotes == 0))
        return false;
    return remotes_within(b, x, y) && remotes_within(b, y, x);
}

static bool
has_local_domain(const rp_builder *b)
{
    for (size_t i = 0; i < b->n_domains; i++)
        if (b->domains[i].kind == RP_DOMAIN_LOCAL)
            return true;
    return false;
}

/* A listener is compared with the earlier listeners that have its
 * rarest bind (only those can hold all its binds), at most this many
 * comparisons in all; beyond, only listeners with the very same binds and
 * remote ranges are found (by a map of their signatures), and a finding
 * says so. */
#define LINT_MAX_LISTENER_PAIRS 4000000u

/* One bind of one listener, for finding the listeners that have a bind. */
typedef struct bind_ent {
    unsigned char key[24];
    uint32_t listener;
} bind_ent;

/* The binds of every listener, sorted by bind, then by listener. */
typedef struct bind_index {
    bind_ent *v;
    size_t n;
    size_t pairs; /* comparisons made so far */
} bind_index;

static void
report_shadowed(lint *L, const rp__blistener *l, const rp__blistener *o)
{
    finding(L, RP_SEV_WARNING, "listener-shadowed", l->item,
            "give it its own bind address or port, or narrower remote "
            "ranges, or merge it into the earlier listener",
            "listener '%s' can never be selected: listener '%s' (line "
            "%u) has the same binds and remote ranges and is defined "
            "first",
            l->name, o->name, item_line(L, o->item));
}

static int
cmp_bind_key(const void *x, const void *y)
{
    return memcmp(x, y, 24);
}

static void
bind_key(const rp__bind *bd, unsigned char out[24])
{
    memset(out, 0, 24);
    if (bd->any == RP__BIND_EXACT)
        memcpy(out, bd->ip.b, 16);
    out[16] = (unsigned char)bd->any;
    memcpy(out + 17, &bd->port, sizeof(bd->port));
}

static int
cmp_bind_ent(const void *x, const void *y)
{
    const bind_ent *a = x, *b = y;
    int c = memcmp(a->key, b->key, 24);

    if (c != 0)
        return c;
    return (a->listener > b->listener) - (a->listener < b->listener);
}

/* The first entry of @p ix with bind @p key. */
static size_t
bind_first(const bind_index *ix, const unsigned char key[24])
{
    size_t lo = 0, hi = ix->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(ix->v[mid].key, key, 24) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int
cmp_text(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The signature of @p l: its binds and remote ranges, each sorted, so
 * that listeners with the same sets have the same signature.  Returns its
 * length, 0 when it does not fit @p size (that listener is not
 * compared). */
static size_t
listener_key(const rp_builder *b,
             const rp__blistener *l,
             char *out,
             size_t size)
{
    unsigned char binds[32][24];
    char texts[32][80];
    const char *rem[32];
    size_t n = 0;

    (void)b;
    if (l->n_binds > 32 || l->n_remotes > 32 || size < 32 * 24 + 32 * 81)
        return 0;
    for (size_t i = 0; i < l->n_binds; i++)
        bind_key(&l->binds[i], binds[i]);
    qsort(binds, l->n_binds, 24, cmp_bind_key);
    for (size_t i = 0; i < l->n_remotes; i++) {
        rp__bref_text(&l->remotes[i], texts[i], sizeof(texts[i]));
        rem[i] = texts[i];
    }
    qsort(rem, l->n_remotes, sizeof(rem[0]), cmp_text);
    memcpy(out, binds, l->n_binds * 24);
    n = l->n_binds * 24;
    for (size_t i = 0; i < l->n_remotes; i++) {
        size_t k = strlen(rem[i]) + 1;
        memcpy(out + n, rem[i], k);
        n += k;
    }
    return n + 1; /* never 0, even with no remotes */
}

/* Past LINT_MAX_LISTENER_PAIRS: @p l is shadowed by the first listener
 * with the same signature. */
/* File listener @p index under its signature unless one is there. */
static void
shadow_key_add(lint *L, size_t index, rp__strmap_builder *keys)
{
    const rp__blistener *l = &L->b->listeners[index];
    char key[32 * 24 + 32 * 81 + 8];
    size_t n = listener_key(L->b, l, key, sizeof(key));
    uint32_t first;

    key[n > 0 ? n - 1 : 0] = '\0';
    if (n > 0 && rp__strmap_builder_get(keys, key, n, &first) != 1 &&
        rp__strmap_add(keys, key, n, (uint32_t)index) < 0)
        L->failed = true;
}

static void
shadow_by_key(lint *L, size_t index, rp__strmap_builder *keys)
{
    const rp__blistener *l = &L->b->listeners[index];
    char key[32 * 24 + 32 * 81 + 8];
    size_t n = listener_key(L->b, l, key, sizeof(key));
    uint32_t first;

    key[n > 0 ? n - 1 : 0] = '\0';
    if (n == 0)
        return;
    if (rp__strmap_builder_get(keys, key, n, &first) == 1)
        report_shadowed(L, l, &L->b->listeners[first]);
    else if (rp__strmap_add(keys, key, n, (uint32_t)index) < 0)
        L->failed = true;
}

/* The earlier listeners that have every bind of listener @p index are
 * among those that have its rarest bind: compare with those, in file
 * order, and report the first that shadows it.  False when the
 * comparisons would pass LINT_MAX_LISTENER_PAIRS (nothing compared). */
static bool
shadow_by_index(lint *L, size_t index, bind_index *ix)
{
    const rp_builder *b = L->b;
    const rp__blistener *l = &b->listeners[index];
    size_t best = 0, best_n = SIZE_MAX;
    unsigned char key[24];

    for (size_t i = 0; i < l->n_binds; i++) {
        size_t at, end;
        bind_key(&l->binds[i], key);
        at = bind_first(ix, key);
        for (end = at; end < ix->n && ix->v[end].listener < index &&
                       memcmp(ix->v[end].key, key, 24) == 0;
             end++)
            ;
        if (end - at < best_n) {
            best = at;
            best_n = end - at;
        }
    }
    if (ix->pairs + best_n > LINT_MAX_LISTENER_PAIRS)
        return false;
    ix->pairs += best_n;
    for (size_t k = best; k < best + best_n; k++) {
        const rp__blistener *o = &b->listeners[ix->v[k].listener];
        if (k > best && ix->v[k].listener == ix->v[k - 1].listener)
            continue;
        if (!binds_within(l, o) || !same_remotes(b, l, o))
            continue;
        report_shadowed(L, l, o);
        break;
    }
    return true;
}

static void
lint_listener(lint *L, size_t index, bind_index *ix, rp__strmap_builder **keys)
{
    const rp_builder *b = L->b;
    const rp__blistener *l = &b->listeners[index];

    if (l->n_binds == 0) {
        finding(L, RP_SEV_WARNING, "listener-unreachable", l->item,
                "add a bind (e.g. 'bind 0.0.0.0:25') or remove the listener",
                "listener '%s' has no bind address: no connection can ever "
                "select it",
                l->name);
        return;
    }
    if (*keys == NULL && !shadow_by_index(L, index, ix)) {
        /* Too many listeners share binds: from here on, only the same
         * signature is found.  The earlier listeners go in the map. */
        if ((*keys = rp__strmap_builder_new(&L->p->alloc)) == NULL) {
            L->failed = true;
            return;
        }
        finding(L, RP_SEV_INFO, "lint-partial", l->item,
                "split the policy, or compare the listeners by hand",
                "%zu listeners share binds too widely to compare them all "
                "(more than %u pairs): from listener '%s' on, a listener "
                "is reported as shadowed only by one with exactly the same "
                "binds and remote ranges",
                b->n_listeners, (unsigned)LINT_MAX_LISTENER_PAIRS, l->name);
        for (size_t k = 0; k < index; k++)
            if (b->listeners[k].n_binds > 0)
                shadow_key_add(L, k, *keys);
    }
    if (*keys != NULL)
        shadow_by_key(L, index, *keys);
    if (l->require_auth && binds_port25(l) && internet_facing(b, l) &&
        has_local_domain(b))
        finding(L, RP_SEV_WARNING, "auth-on-port25", l->require_auth_item,
                "Internet mail servers never authenticate: serve port 25 "
                "with a gateway listener and require auth on 587 instead",
                "listener '%s' requires authentication on port 25 facing the "
                "Internet: mail from other domains to your local domains "
                "gets 530",
                l->name);
}

/* ---- rules -------------------------------------------------------------- */

/* Permissions a grant of @p perms gives: relay implies submit and
 * local-sender. */
static uint32_t
effective(uint32_t perms)
{
    return perms & RP_PERM_RELAY ? perms | RP_PERM_SUBMIT | RP_PERM_LOCAL_SENDER
                                 : perms;
}

/* Is user @p user a member of the policy group @p group? */
static bool
in_group(const rp_builder *b, const char *group, const char *user)
{
    for (size_t i = 0; i < b->n_groups; i++)
        if (strcmp(b->groups[i].a, group) == 0 && b->groups[i].b != NULL &&
            strcmp(b->groups[i].b, user) == 0)
            return true;
    return false;
}

/* Does principal @p q apply to every client principal @p r applies to? */
/* Do @p q and @p r name the same `from network`? */
static bool
same_from(const rp__brule *q, const rp__brule *r)
{
    char a[80], c[80];

    if (!r->has_from || q->from_except != r->from_except)
        return false;
    rp__bref_text(&q->from, a, sizeof(a));
    rp__bref_text(&r->from, c, sizeof(c));
    return strcmp(a, c) == 0;
}

static bool
principal_covers(const rp_builder *b, const rp__brule *q, const rp__brule *r)
{
    /* Narrower grants are compared only with the same narrowing. */
    if ((q->has_from && !same_from(q, r)) || (q->n_scope > 0) ||
        (r->principal == RP_PRINCIPAL_CERTIFICATE &&
         q->principal != RP_PRINCIPAL_ANONYMOUS &&
         q->principal != RP_PRINCIPAL_CERTIFICATE))
        return false;
    switch (q->principal) {
    case RP_PRINCIPAL_CERTIFICATE:
        if (r->principal != RP_PRINCIPAL_CERTIFICATE)
            return false;
        if (q->name != NULL || r->name != NULL)
            return q->name != NULL && r->name != NULL &&
                   strcmp(q->name, r->name) == 0;
        return memcmp(q->cert_fp, r->cert_fp, sizeof(q->cert_fp)) == 0;
    case RP_PRINCIPAL_ANONYMOUS:
        return true;
    case RP_PRINCIPAL_AUTHENTICATED:
        return r->principal == RP_PRINCIPAL_AUTHENTICATED ||
               r->principal == RP_PRINCIPAL_USER ||
               r->principal == RP_PRINCIPAL_GROUP;
    case RP_PRINCIPAL_USER:
    case RP_PRINCIPAL_GROUP:
        if (r->principal == q->principal)
            return strcmp(q->name, r->name) == 0;
        return q->principal == RP_PRINCIPAL_GROUP &&
               r->principal == RP_PRINCIPAL_USER &&
               in_group(b, q->name, r->name);
    case RP_PRINCIPAL_NETWORK:
    case RP_PRINCIPAL_INTERFACE:
        return r->principal == q->principal &&
               rp__lint_ref_covers(b, &q->ref, &r->ref);
    case RP_PRINCIPAL_NETWORK_EXCEPT:
        /* "all except L" covers "all except M" when L lies inside M. */
        return r->principal == q->principal &&
               rp__lint_ref_covers(b, &r->ref, &q->ref);
    }
    return false;
}

/* An allow rule whose every permission a deny of a wider principal takes
 * away. */
static bool
lint_denied(lint *L, const rp__blistener *l, const rp__brule *r)
{
    uint32_t first = RP__NONE;

    for (unsigned bit = 0; bit < 4; bit++) {
        bool denied = false;
        if (!(r->perms & (1u << bit)))
            continue;
        for (size_t k = 0; k < l->n_rules && !denied; k++) {
            const rp__brule *q = &l->rules[k];
            denied = q->deny && (q->perms & (1u << bit)) &&
                     principal_covers(L->b, q, r);
            if (denied && first == RP__NONE)
                first = q->item;
        }
        if (!denied)
            return false;
    }
    finding(L, RP_SEV_WARNING, "rule-shadowed", r->item,
            "remove the allow, or narrow the deny if this grant is wanted",
            "'%s' never takes effect: '%s' (line %u) denies the same to a "
            "principal that includes it",
            item_text(L, r->item), item_text(L, first), item_line(L, first));
    return true;
}

/* Does the listener deny relay to anyone?  Then what relay implies may
 * fall (relaypolicy(7) §5 step 7) and an explicit grant of it matters. */
static bool
denies_relay(const rp__blistener *l)
{
    for (size_t k = 0; k < l->n_rules; k++)
        if (l->rules[k].deny && (l->rules[k].perms & RP_PERM_RELAY))
            return true;
    return false;
}

/* An allow rule every permission of which another grant already gives. */
static void
lint_redundant(lint *L, const rp__blistener *l, size_t index)
{
    const rp__brule *r = &l->rules[index];
    uint32_t by = RP__NONE;
    bool implied_ok = !denies_relay(l);

    for (unsigned bit = 0; bit < 4; bit++) {
        bool given = false;
        if (!(r->perms & (1u << bit)))
            continue;
        for (size_t k = 0; k < l->n_rules && !given; k++) {
            const rp__brule *q = &l->rules[k];
            bool mutual;
            uint32_t gives = implied_ok ? effective(q->perms) : q->perms;
            if (k == index || q->deny || !(gives & (1u << bit)) ||
                !principal_covers(L->b, q, r))
                continue;
            /* Of two rules for the same principal, the later is reported. */
            mutual = principal_covers(L->b, r, q);
            given = !mutual || k < index;
            if (given && by == RP__NONE)
                by = q->item;
        }
        if (!given)
            return;
    }
    finding(L, RP_SEV_INFO, "rule-redundant", r->item,
            "remove it: it changes no decision (relay already implies "
            "submit and local-sender)",
            "'%s' grants nothing new: '%s' (line %u) already gives it%s",
            item_text(L, r->item), item_text(L, by), item_line(L, by),
            strncmp(item_text(L, by), "allow anonymous", 15) == 0 ||
                    strcmp(item_text(L, by), "role gateway") == 0 ||
                    strcmp(item_text(L, by), "role all-in-one") == 0
                ? " to every client"
                : "");
}

/* A deny of permissions that no rule of the listener grants. */
static void
lint_deny_unused(lint *L, const rp__blistener *l, const rp__brule *r)
{
    uint32_t granted = 0;
    char perms[64];

    if (r->perms & RP_PERM_SUBMIT)
        return; /* a deny of submit also changes 530 into 550 */
    for (size_t k = 0; k < l->n_rules; k++)
        if (!l->rules[k].deny)
            granted |= effective(l->rules[k].perms);
    if (granted & r->perms)
        return;
    finding(L, RP_SEV_INFO, "deny-unused", r->item,
            "keep it only as a deliberate safety net; it has no effect today",
            "'%s' denies %s, which no rule of listener '%s' grants",
            item_text(L, r->item),
            rp__perm_text(r->perms, perms, sizeof(perms)), l->name);
}

/* The exact exposure of a builder listener (exposure.h), computed at
 * freeze before the audit. */
static const rp__xsum *
listener_sum(const lint *L, const rp__blistener *l)
{
    static const rp__xsum none;
    size_t i = (size_t)(l - L->b->listeners);

    if (L->p->exposure == NULL || i >= L->p->exposure->n_listeners)
        return &none;
    return &L->p->exposure->sum[i];
}

/* Does the listener relay for the Internet (relaypolicy(7) §7)? */
static bool
listener_unsafe(const lint *L, const rp__blistener *l)
{
    const rp__xsum *s = listener_sum(L, l);

    return s->pub4 >= (1ull << 24) || s->pub6.hi >= (1ull << 32);
}

/* Does the listener serve public clients (the analysis's sel_pub)? */
static bool
serves_public(const lint *L, const rp__blistener *l)
{
    const rp__xsum *s = listener_sum(L, l);

    return s->sel_pub4 > 0 || s->sel_pub6.hi > 0 || s->sel_pub6.lo > 0;
}

/* Is rule @p item behind some range of the listener's exposure? */
static bool
rule_exposes(const lint *L, const rp__blistener *l, uint32_t item)
{
    const rp__xsum *s = listener_sum(L, l);

    for (size_t i = s->first; i < s->end && L->p->exposure != NULL; i++)
        if (L->p->exposure->v[i].item == item)
            return true;
    return false;
}

/* Relay by local address on a listener public clients reach, or relay to
 * a private range there: behind NAT or a container proxy the Internet
 * arrives on (or from) those addresses (relaypolicy(7) §7). */
static void
lint_nat(lint *L, const rp__blistener *l, const rp__brule *r)
{
    const char *text = item_text(L, r->item);
    bool unsafe;
    scan s;

    if (!serves_public(L, l))
        return;
    if (r->principal == RP_PRINCIPAL_INTERFACE) {
        if (!rp__lint_ref_reached(L->b, &r->ref, l, &s))
            return; /* no bind takes connections there */
        unsafe = listener_unsafe(L, l) && rule_exposes(L, l, r->item);
        finding(L, unsafe ? RP_SEV_CRITICAL : RP_SEV_WARNING,
                "interface-relay-internet", r->item,
                "grant relay by client network or by login instead: the "
                "local address says nothing about who the client is",
                "'%s': listener '%s' takes connections from public clients "
                "on %s, and behind NAT every Internet client arrives on "
                "that address and relays%s",
                text, l->name, s.text,
                unsafe ? " (the listener is an open relay)" : "");
        return;
    }
    /* A declared proxy's claims are believed; any other peer is decided
     * as itself (relaypolicy(7) §4.2), so NAT no longer hides it. */
    if (L->b->n_proxies == 0 &&
        rp__lint_ref_has(L->b, &r->ref, rp__lint_find_private, &s))
        finding(L, RP_SEV_WARNING, "private-relay-nat", r->item,
                "declare the proxy with trusted-proxy or narrow the grant",
                "'%s': relay granted to private range %s on listener '%s', "
                "which also serves public clients: behind NAT or a "
                "container proxy every Internet client may arrive from "
                "this range",
                text, s.text, l->name);
}

/* Relay (and routing) grants that expose the listener. */
static void
lint_exposure(lint *L, const rp__blistener *l, const rp__brule *r)
{
    const rp_builder *b = L->b;
    const char *text = item_text(L, r->item);
    bool relay = (r->perms & RP_PERM_RELAY) != 0, net;
    scan s;

    net = r->principal == RP_PRINCIPAL_NETWORK ||
          r->principal == RP_PRINCIPAL_INTERFACE;
    if (relay && r->principal == RP_PRINCIPAL_ANONYMOUS &&
        listener_unsafe(L, l))
        finding(L, RP_SEV_CRITICAL, "open-relay", r->item,
                "grant relay only to the networks, users or groups that need "
                "it, and remove 'allow open-relay'",
                "'%s': listener '%s' relays for every client on the "
                "Internet",
                text, l->name);
    else if (relay && r->principal == RP_PRINCIPAL_ANONYMOUS)
        finding(L, RP_SEV_WARNING, "anonymous-relay", r->item,
                "grant relay only to the hosts that need it; any compromised "
                "client of this listener can relay spam",
                "'%s': listener '%s' relays for every client it serves "
                "without login (%llu public IPv4, %.3g public IPv6 "
                "addresses; see 'relaypolicy exposure')",
                text, l->name, (unsigned long long)listener_sum(L, l)->pub4,
                rp__u128_double(listener_sum(L, l)->pub6));
    else if (relay && net &&
             rp__lint_ref_has(b, &r->ref, rp__lint_find_everything, &s))
        finding(L, RP_SEV_CRITICAL, "open-relay", r->item,
                "grant relay only to the hosts that need it, and remove "
                "'allow open-relay'",
                "'%s': relay granted to %s, every address: listener '%s' is "
                "an open relay",
                text, s.text, l->name);
    else if (relay && net &&
             rp__lint_ref_has(b, &r->ref, rp__lint_find_wide, &s))
        finding(L, RP_SEV_WARNING, "wide-relay-range", r->item,
                "list the hosts that need to relay (or a /24 or narrower); "
                "let people authenticate on a submission listener instead",
                "'%s': relay granted to %s, wider than /24 (IPv4) or /48 "
                "(IPv6): any compromised host there can relay spam",
                text, s.text);
    if (relay && net &&
        !rp__lint_ref_has(b, &r->ref, rp__lint_find_everything, &s))
        lint_nat(L, l, r);
    if (relay && r->principal == RP_PRINCIPAL_NETWORK_EXCEPT)
        finding(L, internet_facing(b, l) ? RP_SEV_CRITICAL : RP_SEV_WARNING,
                "all-except-relay", r->item,
                "grant relay to the networks that need it instead of to "
                "everything except a list",
                "'%s': \"all except\" relay grants relay to every address "
                "not listed%s",
                text,
                internet_facing(b, l) ? ", including the whole Internet" : "");
    if (relay && r->principal == RP_PRINCIPAL_AUTHENTICATED && !r->has_from &&
        binds_port25(l) && internet_facing(b, l))
        finding(L, RP_SEV_WARNING, "auth-relay-internet", r->item,
                "move authenticated relay to a submission listener (port "
                "587, require auth) with a sender-login map",
                "'%s' on Internet-facing port-25 listener '%s': any stolen "
                "or guessed password relays spam (SMTP AUTH abuse)%s",
                text, l->name,
                b->n_logins == 0 ? ", and no sender-login map "
                                   "limits the senders"
                                 : "");
    if ((r->perms & RP_PERM_ROUTING) &&
        (r->principal <= RP_PRINCIPAL_AUTHENTICATED ||
         r->principal == RP_PRINCIPAL_NETWORK_EXCEPT ||
         (net && rp__lint_ref_has(b, &r->ref, rp__lint_find_wide, &s))))
        finding(L, RP_SEV_WARNING, "routing-granted", r->item,
                "grant routing only to legacy hosts, and only if no later "
                "hop honours '%' or '!'",
                "'%s': these clients' %%-hacks and bang paths are taken "
                "literally; if a later hop honours them this is an open "
                "relay",
                text);
}

/* An IPv6 entry holding the whole of ::ffff:0:0/96 never matches an
 * IPv4 client (relaypolicy(7) §2): harmless in a grant, a hole in a deny
 * or a remote range. */
static void
lint_mapped(lint *L, const rp__bref *ref, uint32_t item, bool grant)
{
    scan s;

    if (rp__lint_ref_has(L->b, ref, rp__lint_find_covers_mapped, &s))
        finding(L, grant ? RP_SEV_INFO : RP_SEV_WARNING, "ipv6-covers-ipv4",
                item, "write the IPv4 range if IPv4 is meant",
                "'%s': IPv6 entry %s contains all of ::ffff:0:0/96 and "
                "never matches IPv4 clients (relaypolicy(7) §2)",
                item_text(L, item), s.text);
}

static void
lint_mapped_all(lint *L)
{
    const rp_builder *b = L->b;

    for (size_t i = 0; i < b->n_listeners; i++) {
        const rp__blistener *l = &b->listeners[i];
        for (size_t k = 0; k < l->n_remotes; k++)
            lint_mapped(L, &l->remotes[k], l->remotes[k].item, false);
        for (size_t k = 0; k < l->n_rules; k++) {
            const rp__brule *r = &l->rules[k];
            if (r->principal == RP_PRINCIPAL_NETWORK ||
                r->principal == RP_PRINCIPAL_INTERFACE ||
                r->principal == RP_PRINCIPAL_NETWORK_EXCEPT)
                lint_mapped(L, &r->ref, r->item,
                            !r->deny &&
                                r->principal != RP_PRINCIPAL_NETWORK_EXCEPT);
        }
    }
    for (size_t k = 0; k < b->n_deny_clients; k++)
        lint_mapped(L, &b->deny_clients[k], b->deny_clients[k].item, false);
}

static void
lint_rules(lint *L, const rp__blistener *l)
{
    for (size_t k = 0; k < l->n_rules; k++) {
        const rp__brule *r = &l->rules[k];
        if (r->deny) {
            lint_deny_unused(L, l, r);
            continue;
        }
        lint_exposure(L, l, r);
        if (!lint_denied(L, l, r))
            lint_redundant(L, l, k);
    }
}

/* ---- domains ------------------------------------------------------------ */

static bool
is_local(rp_domain_kind k)
{
    return k == RP_DOMAIN_LOCAL;
}

static void
report_overlap(lint *L, const rp__bdomain *x, const rp__bdomain *y)
{
    const rp__bdomain *loc = is_local(x->kind) ? x : y;
    const rp__bdomain *rel = is_local(x->kind) ? y : x;

    finding(L, RP_SEV_WARNING, "domain-local-and-relay", x->item,
            "declare each domain once: make the relay (or local) pattern "
            "exclude the other, or remove one",
            "'%s' (line %u) is local and '%s' (line %u) is %s: mail to "
            "the overlap is judged by the more specific entry, not by the "
            "intent",
            loc->pattern, item_line(L, loc->item), rel->pattern,
            item_line(L, rel->item),
            rel->kind == RP_DOMAIN_RELAY ? "relay" : "reroute");
}

/* Regexes are matched against names for at most this many pairs. */
#define LINT_MAX_PAIRS 4000000u

/* Is @p x local and @p y relay or reroute, or the other way round? */
static bool
opposite(const rp__bdomain *x, const rp__bdomain *y)
{
    return is_local(x->kind) != is_local(y->kind);
}

/* Name and suffix patterns: every suffix pattern ".d" is in a map by "d";
 * each pattern looks up its own name (an exact name is covered by the
 * suffix of the same name) and every parent name, one map probe per
 * label, so the check is linear in the number of patterns. */
static void
lint_suffix_overlaps(lint *L, rp__strmap_builder *sfx)
{
    const rp_builder *b = L->b;

    for (size_t i = 0; i < b->n_domains; i++) {
        const rp__bdomain *x = &b->domains[i];
        const char *name = x->pattern[0] == '.' ? x->pattern + 1 : x->pattern;
        const char *at = x->pattern[0] == '.' ? strchr(name, '.') : name;
        uint32_t j;

        if (x->pattern[0] == '/')
            continue;
        for (; at != NULL; at = strchr(at, '.')) {
            if (*at == '.')
                at++;
            if (rp__strmap_builder_get(sfx, at, strlen(at), &j) == 1 &&
                j != i && opposite(x, &b->domains[j]))
                report_overlap(L, x, &b->domains[j]);
        }
    }
}

/* Regex patterns against names: each regex of the policy's domain table
 * (compiled once, at freeze) runs on every name or suffix of the other
 * kind.  Beyond LINT_MAX_PAIRS pairs
 * this is skipped, and a finding says so. */
static void
lint_regex_overlaps(lint *L, rp__scratch *sc, size_t n_regex, size_t n_name)
{
    const rp_builder *b = L->b;

    if ((double)n_regex * (double)n_name > LINT_MAX_PAIRS) {
        finding(L, RP_SEV_INFO, "lint-partial", RP__NONE,
                "check regex domains against the others by hand, or use "
                "fewer regexes",
                "%zu domain regexes and %zu names are more than %u pairs: "
                "overlaps between a regex and a name were not checked",
                n_regex, n_name, (unsigned)LINT_MAX_PAIRS);
        return;
    }
    for (size_t k = 0; k < rp__domtab_regex_count(L->p->domtab); k++) {
        uint32_t i;
        const rp__regex *rx = rp__domtab_regex(L->p->domtab, k, &i);
        const rp__bdomain *re = &b->domains[i];

        for (size_t j = 0; j < b->n_domains; j++) {
            const rp__bdomain *o = &b->domains[j];
            const char *name =
                o->pattern[0] == '.' ? o->pattern + 1 : o->pattern;

            if (o->pattern[0] != '/' && opposite(re, o) &&
                rp__regex_match(rx, name, strlen(name), sc) == 1)
                report_overlap(L, o, re);
        }
    }
}

/* A local domain whose recipient list is declared but empty (an empty
 * list file): validation stays on, so every recipient but postmaster is
 * refused (relaypolicy(7) §4.1).  Reported at the domain, naming the
 * first place the list was declared. */
static void
lint_empty_list(lint *L, size_t dom)
{
    const rp_builder *b = L->b;
    const rp__bdomain *d = &b->domains[dom];
    const rp__brecip *r = NULL;
    char where[300] = "";

    for (size_t k = 0; k < b->n_recip_lists && r == NULL; k++)
        if (strcmp(b->recip_lists[k].domain, d->pattern) == 0)
            r = &b->recip_lists[k];
    if (r != NULL && r->file != NULL && r->line != item_line(L, d->item))
        snprintf(where, sizeof(where), " (%s:%u)", r->file, (unsigned)r->line);
    finding(L, RP_SEV_WARNING, "recipient-list-empty", d->item,
            "fill the list (or remove it, if any local part should be "
            "accepted)",
            "local domain '%s' has an empty recipient list%s: every "
            "recipient but postmaster is refused with 550 5.1.1",
            d->pattern, where);
}

/* relaypolicy(7) §2 and §7: a label mixing scripts (a look-alike of
 * another name), and a regex that can never match the A-label form its
 * subject always has. */
static void
lint_idn(lint *L, const rp__bdomain *d)
{
    char label[RP_ADDR_MAX];
    const char *p = d->pattern;

    if (p[0] == '/') {
        for (const char *c = p; *c != '\0'; c++)
            if ((unsigned char)*c >= 0x80) {
                finding(L, RP_SEV_WARNING, "regex-non-ascii", d->item,
                        "write the domain in its A-label (xn--) form in the "
                        "regex, or use a name or .name pattern",
                        "the regex '%s' holds non-ASCII characters: domains "
                        "are matched in their A-label form, so it can never "
                        "match",
                        p);
                return;
            }
        return;
    }
    if (rp__idn_mixed_script(p[0] == '.' ? p + 1 : p, label, sizeof(label)))
        finding(L, RP_SEV_WARNING, "mixed-script-label", d->item,
                "check that the name is the one intended: a label mixing "
                "scripts is a classic look-alike of another name",
                "the label '%s' of '%s' mixes scripts", label, p);
}

/* Local domains without recipient lists or with empty ones, and patterns
 * of one kind that overlap patterns of the other. */
static void
lint_domains(lint *L)
{
    const rp_builder *b = L->b;
    size_t n = b->n_domains, n_regex = 0;
    rp__strmap_builder *sfx;
    rp__scratch *sc;

    for (size_t i = 0; i < n; i++)
        if (rp__domain_has_recipients(&L->p->domains[i]) &&
            L->p->domains[i].n_recipients == 0)
            lint_empty_list(L, i);
    for (size_t i = 0; i < n; i++)
        if (b->domains[i].kind == RP_DOMAIN_LOCAL &&
            !rp__domain_has_recipients(&L->p->domains[i]))
            finding(L, RP_SEV_WARNING, "no-recipient-validation",
                    b->domains[i].item,
                    "add 'recipients' so unknown users are refused at RCPT "
                    "time (550 5.1.1)",
                    "local domain '%s' has no recipient list: mail to any "
                    "user is accepted and unknown ones bounce later "
                    "(backscatter)",
                    b->domains[i].pattern);
    for (size_t i = 0; i < n; i++)
        lint_idn(L, &b->domains[i]);
    sfx = rp__strmap_builder_new(&L->p->alloc);
    sc = rp__malloc(&L->p->alloc, sizeof(*sc));
    for (size_t i = 0; sfx != NULL && i < n; i++) {
        const char *pat = b->domains[i].pattern;
        n_regex += pat[0] == '/';
        if (pat[0] == '.' &&
            rp__strmap_add(sfx, pat + 1, strlen(pat + 1), (uint32_t)i) < 0)
            L->failed = true;
    }
    if (sfx == NULL || sc == NULL) {
        L->failed = true;
    } else {
        rp__scratch_init(sc);
        lint_suffix_overlaps(L, sfx);
        if (n_regex > 0)
            lint_regex_overlaps(L, sc, n_regex, n - n_regex);
    }
    rp__strmap_builder_free(sfx);
    rp__free(&L->p->alloc, sc);
}

/* ---- policy-wide -------------------------------------------------------- */

/* Would the safety check refuse this rule without `allow open-relay`? */
static bool
needs_open_relay(const rp_builder *b, const rp__brule *r)
{
    scan s;

    if (r->deny || !(r->perms & RP_PERM_RELAY))
        return false;
    if (r->principal == RP_PRINCIPAL_ANONYMOUS)
        return true;
    return (r->principal == RP_PRINCIPAL_NETWORK ||
            r->principal == RP_PRINCIPAL_INTERFACE) &&
           rp__lint_ref_has(b, &r->ref, rp__lint_find_everything, &s);
}

static void
lint_global(lint *L)
{
    const rp_builder *b = L->b;
    bool needed = false;

    for (size_t i = 0; i < b->n_listeners; i++) {
        needed = needed || listener_unsafe(L, &b->listeners[i]);
        for (size_t k = 0; k < b->listeners[i].n_rules; k++)
            needed = needed || needs_open_relay(b, &b->listeners[i].rules[k]);
    }
    if (b->allow_open_relay && !needed)
        finding(L, RP_SEV_INFO, "open-relay-switch", b->open_relay_item,
                "remove it so an unsafe grant added later fails to compile",
                "'allow open-relay' is not needed by any rule");
    if (b->soft_fail)
        finding(L, RP_SEV_WARNING, "soft-fail", b->soft_fail_item,
                "remove 'soft-fail' once the roll-out is checked; until "
                "then spam is retried instead of refused",
                "soft-fail is on: every policy rejection is sent as a 4xx "
                "temporary failure");
    if (b->n_listeners == 0)
        finding(L, RP_SEV_WARNING, "no-listener", RP__NONE,
                "add a listener block (e.g. 'listener internet { bind "
                "0.0.0.0:25 ... role gateway }')",
                "the policy has no listener: every connection is refused "
                "(554 no-listener)");
}

/* ---- sorting and storing ------------------------------------------------ */

static int
cmp_rec(const void *x, const void *y)
{
    const rec *a = x, *b = y;
    uint64_t ka = a->item == RP__NONE ? 0 : (uint64_t)a->item + 1;
    uint64_t kb = b->item == RP__NONE ? 0 : (uint64_t)b->item + 1;

    if (ka != kb)
        return ka < kb ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static rp_status
store(lint *L)
{
    rp__lintrec *out;

    if (L->n == 0)
        return RP_OK;
    qsort(L->v, L->n, sizeof(*L->v), cmp_rec);
    out = rp__arena_alloc(&L->p->arena, &L->p->alloc, L->n * sizeof(*out));
    if (out == NULL)
        return RP_E_NOMEM;
    for (size_t i = 0; i < L->n; i++) {
        const rec *r = &L->v[i];

        out[i].severity = (uint32_t)r->severity;
        out[i].code = pool_str(L, r->code);
        out[i].file = r->file != NULL ? pool_str(L, r->file) : RP__NONE;
        out[i].line = r->line;
        out[i].message = r->message;
        out[i].advice = pool_str(L, r->advice != NULL ? r->advice : "");
    }
    if (L->failed)
        return RP_E_NOMEM;
    L->p->findings = out;
    L->p->n_findings = (uint32_t)L->n;
    return RP_OK;
}

/* The narrower grants: proxies whose claims anyone on the Internet could
 * make, and certificate grants a plain `require auth` never lets in. */
static void
lint_grants(lint *L)
{
    const rp_builder *b = L->b;
    scan s;

    for (size_t i = 0; i < b->n_proxies; i++) {
        const rp__bref *ref = &b->proxies[i];
        memset(&s, 0, sizeof(s));
        if (rp__lint_ref_has(b, ref, rp__lint_find_public, &s))
            finding(L, RP_SEV_CRITICAL, "trusted-proxy-public", ref->item,
                    "list only the proxies' own addresses",
                    "'%s': %s holds public addresses: any host there may "
                    "claim to be any client, a trusted network or a "
                    "listener's own range, and relay as it",
                    item_text(L, ref->item), s.text);
    }
    for (size_t i = 0; i < b->n_listeners; i++) {
        const rp__blistener *l = &b->listeners[i];
        for (size_t k = 0; k < l->n_rules; k++)
            if (l->require_auth && !l->require_cert_ok && !l->rules[k].deny &&
                l->rules[k].principal == RP_PRINCIPAL_CERTIFICATE)
                finding(L, RP_SEV_WARNING, "certificate-behind-auth",
                        l->rules[k].item,
                        "write 'require auth or certificate' to let "
                        "certificates in",
                        "'%s': listener '%s' says 'require auth', so a "
                        "client with only this certificate never gets past "
                        "it",
                        item_text(L, l->rules[k].item), l->name);
    }
}

static void
lint_listeners(lint *L)
{
    const rp_builder *b = L->b;
    rp__strmap_builder *keys = NULL;
    bind_index ix = {NULL, 0, 0};
    size_t n = 0;

    for (size_t i = 0; i < b->n_listeners; i++)
        n += b->listeners[i].n_binds;
    if ((ix.v = rp__calloc(&L->p->alloc, n + 1, sizeof(*ix.v))) == NULL) {
        L->failed = true;
        return;
    }
    for (size_t i = 0; i < b->n_listeners; i++)
        for (size_t k = 0; k < b->listeners[i].n_binds; k++) {
            bind_key(&b->listeners[i].binds[k], ix.v[ix.n].key);
            ix.v[ix.n++].listener = (uint32_t)i;
        }
    qsort(ix.v, ix.n, sizeof(*ix.v), cmp_bind_ent);
    for (size_t i = 0; i < b->n_listeners; i++) {
        lint_listener(L, i, &ix, &keys);
        lint_rules(L, &b->listeners[i]);
    }
    rp__strmap_builder_free(keys);
    rp__free(&L->p->alloc, ix.v);
}

rp_status
rp__lint_build(const rp_builder *b, rp_policy *p)
{
    lint L;
    rp_status st;

    memset(&L, 0, sizeof(L));
    L.b = b;
    L.p = p;
    lint_listeners(&L);
    lint_grants(&L);
    lint_mapped_all(&L);
    lint_domains(&L);
    lint_global(&L);
    st = L.failed ? RP_E_NOMEM : store(&L);
    rp__free(&p->alloc, L.v);
    return st;
}

rp_status
rp_policy_lint(const rp_policy *policy,
               rp_finding_fn report,
               void *ctx,
               size_t *count)
{
    size_t n = 0;

    if (count != NULL)
        *count = 0;
    if (policy == NULL || report == NULL)
        return RP_E_ARG;
    for (uint32_t i = 0; i < policy->n_findings; i++) {
        const rp__lintrec *r = &policy->findings[i];
        rp_finding f;

        memset(&f, 0, sizeof(f));
        /* Read in place from a compiled file, unchecked at open: a
         * severity out of range (a damaged file) is reported as the
         * gravest rather than dropped. */
        f.severity =
            r->severity >= RP_SEV_INFO && r->severity <= RP_SEV_CRITICAL
                ? (rp_severity)r->severity
                : RP_SEV_CRITICAL;
        f.code = rp__pstr(policy, r->code);
        f.file = rp__pstr_opt(policy, r->file);
        f.line = r->line;
        f.message = rp__pstr(policy, r->message);
        f.advice = rp__pstr(policy, r->advice);
        n++;
        if (report(ctx, &f) != 0)
            break;
    }
    if (count != NULL)
        *count = n;
    return RP_OK;
}
