/*
 * decide.c - evaluating one query: the steps of relaypolicy(7) §5, in order.
 *
 * Nothing here allocates: the context, the regex scratch and the decision's
 * text live in the caller's workspace, the rest in the caller's
 * rp_decision.  Any internal failure ends in TEMPFAIL 451 4.3.0, never in
 * an accept or a relay.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "decide.h"
#include "domains.h"
#include "idn.h"
#include "ipaddr.h"
#include "policy.h"
#include "prefix_items.h"
#include "radix.h"
#include "relaypolicy.h"
#include "rp_regex.h"
#include "text.h"

static const char *const step_names[] = {
    "",           "listener",     "deny client", "syntax",
    "deny lists", "require auth", "destination", "class"};

/* " (domain U-LABEL)" when @p a's domain holds A-labels, else "", in
 * @p buf: both forms of a domain in explanations. */
static const char *
explain_idn(const rp__addr *a, char *buf, size_t size)
{
    char u[RP_ADDR_MAX];
    size_t n;

    if (a->dom_type != RP__DOM_NAME ||
        (n = rp__idn_to_unicode(a->domain, a->domain_len, u, sizeof(u))) == 0)
        return "";
    snprintf(buf, size, " (domain %.*s)", (int)n, u);
    return buf;
}

/* ---- the reply ---------------------------------------------------------- */

static bool
is_policy_rejection(rp_reason r)
{
    return r != RP_REASON_ACCEPTED && r != RP_REASON_RELAYED &&
           r != RP_REASON_AUTH_REQUIRED && r != RP_REASON_INTERNAL_ERROR &&
           r != RP_REASON_BAD_RECIPIENT_SYNTAX &&
           r != RP_REASON_BAD_SENDER_SYNTAX && r != RP_REASON_SMTPUTF8_REQUIRED;
}

/* Which address the reply names, if any. */
static const rp__addr *
reply_subject(const rp__ctx *c, rp_reason r)
{
    switch (r) {
    case RP_REASON_RELAY_DENIED:
    case RP_REASON_UNKNOWN_USER:
    case RP_REASON_RECIPIENT_DENIED:
    case RP_REASON_NOT_PERMITTED:
        return &c->rcpt;
    case RP_REASON_SENDER_DENIED:
    case RP_REASON_SENDER_SPOOF:
    case RP_REASON_SENDER_LOGIN_MISMATCH:
        return c->sender.is_null ? NULL : &c->sender;
    default:
        return NULL;
    }
}

static void
set_rule(rp__ctx *c, uint32_t item)
{
    if (item == RP__NONE || item >= c->p->n_items)
        return;
    c->d->rule = (int32_t)item;
    c->d->rule_file = rp__item_file(c->p, item);
    c->d->rule_line = rp__item_line(c->p, item);
}

/* Append @p n bytes to the reply, cutting at its end.  @p s is never the
 * reply itself. */
static inline size_t
put(rp__ctx *c, size_t at, const char *s, size_t n)
{
    if (at + n > sizeof(c->reply) - 1)
        n = sizeof(c->reply) - 1 - at;
    memcpy(c->reply + at, s, n);
    return at + n;
}

/* "CODE ENH <addr>: text" or "CODE ENH text", without printf. */
static void
build_reply(rp__ctx *c, const char *addr, size_t addr_len)
{
    const rp_decision *d = c->d;
    char code[4] = {(char)('0' + d->code / 100 % 10),
                    (char)('0' + d->code / 10 % 10), (char)('0' + d->code % 10),
                    ' '};
    size_t at = put(c, 0, code, 4);

    at = put(c, at, d->enhanced, strlen(d->enhanced));
    at = put(c, at, " ", 1);
    if (addr != NULL) {
        at = put(c, at, "<", 1);
        at = put(c, at, addr, addr_len);
        at = put(c, at, ">: ", 3);
    }
    at = put(c, at, d->text, strlen(d->text));
    c->reply[at] = '\0';
    c->reply_len = at;
}

/* Finish the decision with @p reason at @p step, decided by @p item. */
static rp_status
finish(rp__ctx *c, rp_reason reason, rp_step step, uint32_t item)
{
    rp_decision *d = c->d;
    const rp__reply *r = &c->p->replies[reason];
    const rp__addr *subj = reply_subject(c, reason);
    char addr[RP_ADDR_MAX];
    const char *text = NULL;
    size_t len = 0;
    bool soft = c->p->soft_fail && is_policy_rejection(reason);

    d->reason = reason;
    d->step = step;
    d->code = r->code;
    d->text = r->text;
    memcpy(d->enhanced, r->enhanced, sizeof(d->enhanced));
    set_rule(c, item);
    if (reason == RP_REASON_ACCEPTED)
        d->verdict = RP_ACCEPT;
    else if (reason == RP_REASON_RELAYED)
        d->verdict = RP_RELAY;
    else if (reason == RP_REASON_INTERNAL_ERROR || soft)
        d->verdict = RP_TEMPFAIL;
    else
        d->verdict = RP_REJECT;
    if (soft) {
        d->code -= 100;
        d->enhanced[0] = '4';
    }
    if (subj != NULL && rp__is_dest_text(c, subj)) {
        text = c->destination;
        len = c->dest_len;
    } else if (subj != NULL) {
        text = addr;
        len = rp__addr_format(subj, false, addr, sizeof(addr));
    }
    build_reply(c, text, len);
    if (item != RP__NONE && item < c->p->n_items)
        rp__explain(c, "decided by %s:%u: %s", d->rule_file,
                    (unsigned)d->rule_line, rp__item_text(c->p, item));
    rp__explain(c, "result at step %d (%s): %s %s: %s", (int)step,
                step_names[step], rp_verdict_name(d->verdict),
                rp_reason_name(reason), c->reply);
    return RP_OK;
}

static rp_status
fail_safe(rp__ctx *c, rp_step step)
{
    if (c->scratch->spent)
        c->fail = "the decision's regex budget (regex_budget match steps) "
                  "was spent";
    c->d->detail = c->fail != NULL ? c->fail : "internal error";
    rp__explain(c, "internal failure: %s", c->d->detail);
    return finish(c, RP_REASON_INTERNAL_ERROR, step, RP__NONE);
}

/* ---- step 1: the listener, and the permissions it grants ---------------- */

static int
bind_score(const rp__ctx *c, const rp__bind *b)
{
    int score = b->port != 0 ? 1 : 0;

    if (b->port != 0 && b->port != c->q->local_port)
        return -1;
    switch (b->any) {
    case RP__BIND_EXACT:
        return memcmp(b->ip.b, c->local.b, 16) == 0 ? score + 2 : -1;
    case RP__BIND_ANY4:
        return c->local.family == 4 ? score : -1;
    case RP__BIND_ANY6:
        return c->local.family == 6 ? score : -1;
    case RP__BIND_ANY:
        break;
    }
    return score;
}

static int32_t
remote_plen(const rp__ctx *c, const rp__listener *l)
{
    if (l->remote_list == RP__NONE)
        return 0;
    return rp__family_plen(c, c->crec[l->remote_list]);
}

static const rp__listener *
select_listener(rp__ctx *c)
{
    const rp__listener *best = NULL;
    int32_t best_plen = -1;
    int best_score = -1;

    for (uint32_t i = 0; i < c->p->n_listeners; i++) {
        const rp__listener *l = &c->p->listeners[i];
        int32_t plen = remote_plen(c, l);
        int score = -1;

        for (uint32_t k = 0; k < l->n_binds; k++) {
            int s = bind_score(c, &l->binds[k]);
            score = s > score ? s : score;
        }
        if (score < 0 || plen < 0)
            continue;
        if (plen > best_plen || (plen == best_plen && score > best_score)) {
            best = l;
            best_plen = plen;
            best_score = score;
        }
    }
    if (best != NULL)
        c->d->prefix_len = best_plen;
    return best;
}

/* relay implies submit and local-sender, but only while relay itself is
 * held (relaypolicy(7) §5 step 7): a deny of relay that matches the client
 * also takes away what relay implied, and counts as the deny of it.
 * Grants of those in their own right stay, and a deny of them still wins
 * over what relay implied. */
static void
imply_from_relay(rp__ctx *c, uint32_t *granted)
{
    static const int implied[2] = {0, 3}; /* submit, local-sender */
    bool relay_denied = (c->denied & RP_PERM_RELAY) != 0;

    for (int i = 0; i < 2; i++) {
        int bit = implied[i];

        if (c->grant_item[bit] != RP__NONE)
            continue; /* granted in its own right */
        if (relay_denied) {
            if (c->deny_item[bit] == RP__NONE) {
                c->deny_item[bit] = c->deny_item[1];
                c->deny_plen[bit] = c->deny_plen[1];
            }
            c->denied |= 1u << bit;
            continue;
        }
        c->grant_item[bit] = c->grant_item[1];
        c->grant_plen[bit] = c->grant_plen[1];
        *granted |= 1u << bit;
    }
}

static void
compute_perms(rp__ctx *c)
{
    uint32_t granted = 0;

    for (int i = 0; i < 4; i++) {
        c->grant_item[i] = c->deny_item[i] = RP__NONE;
        c->grant_plen[i] = c->deny_plen[i] = -1;
    }
    for (uint32_t i = 0; i < c->l->n_rules; i++) {
        const rp__rule *r = &c->l->rules[i];
        uint32_t *items = r->deny ? c->deny_item : c->grant_item;
        int32_t *plens = r->deny ? c->deny_plen : c->grant_plen;
        int32_t plen;

        /* A scoped relay is decided at step 7, towards its destination. */
        uint32_t perms =
            r->scope != NULL ? r->perms & ~(uint32_t)RP_PERM_RELAY : r->perms;

        if (!rp__principal_matches(c, r, &plen))
            continue;
        for (int bit = 0; bit < 4; bit++)
            if ((perms & (1u << bit)) && items[bit] == RP__NONE) {
                items[bit] = r->item;
                plens[bit] = plen;
            }
        if (r->deny)
            c->denied |= perms;
        else
            granted |= perms;
    }
    if (granted & RP_PERM_RELAY)
        imply_from_relay(c, &granted);
    c->perms = granted & ~c->denied;
    c->d->permissions = c->perms;
}

/* ---- steps 2 to 5 ------------------------------------------------------- */

/* Step 3's parse, done before step 1 so that the domains' cache misses
 * overlap the client lookup: RP_REASON_NONE, or the syntax error step 3
 * reports (after steps 1 and 2, as relaypolicy(7) §5 orders them). */
static rp_reason
parse_addresses(rp__ctx *c)
{
    const rp_query *q = c->q;
    rp__addr_err e;

    e = rp__addr_parse(q->sender != NULL ? q->sender : "",
                       rp__span_len(q->sender, q->sender_len), true,
                       &c->sender);
    if (e == RP__ADDR_OK && !c->sender.is_null &&
        c->sender.dom_type == RP__DOM_NONE) {
        if (c->p->qualify_domain == NULL) {
            e = RP__ADDR_SYNTAX;
        } else {
            size_t n = strlen(c->p->qualify_domain);
            memcpy(c->sender.domain, c->p->qualify_domain, n + 1);
            c->sender.domain_len = n;
            c->sender.dom_type = RP__DOM_NAME;
        }
    }
    if (e != RP__ADDR_OK)
        return RP_REASON_BAD_SENDER_SYNTAX;
    e = rp__addr_parse(q->recipient,
                       rp__span_len(q->recipient, q->recipient_len), false,
                       &c->rcpt);
    if (e != RP__ADDR_OK)
        return RP_REASON_BAD_RECIPIENT_SYNTAX;
    /* RFC 6531: a non-ASCII address needs SMTPUTF8 on MAIL FROM. */
    if ((c->sender.utf8 || c->rcpt.utf8) && !(q->flags & RP_QUERY_SMTPUTF8))
        return RP_REASON_SMTPUTF8_REQUIRED;
    /* Steps 4, 6 and 7 look both domains up: hash them once, and start
     * their misses in the domain table now. */
    if (c->rcpt.dom_type == RP__DOM_NAME) {
        rp__domkey_make(&c->rkey, c->rcpt.domain, c->rcpt.domain_len);
        c->has_rkey = true;
        c->pf_rcpt = rp__domtab_prefetch(c->p->domtab, &c->rkey);
    }
    if (!c->sender.is_null && c->sender.dom_type == RP__DOM_NAME) {
        rp__domkey_make(&c->skey, c->sender.domain, c->sender.domain_len);
        c->has_skey = true;
        c->pf_sender = rp__domtab_prefetch(c->p->domtab, &c->skey);
    }
    return RP_REASON_NONE;
}

/* Step 3: report the outcome of parse_addresses(). */
static rp_status
syntax_step(rp__ctx *c, rp_reason bad, bool *done)
{
    *done = true;
    if (bad == RP_REASON_BAD_SENDER_SYNTAX) {
        rp__explain(c, "step 3 (syntax): the sender is not a valid "
                       "reverse-path");
        return finish(c, bad, RP_STEP_SYNTAX, RP__NONE);
    }
    if (bad == RP_REASON_BAD_RECIPIENT_SYNTAX) {
        rp__explain(c, "step 3 (syntax): the recipient is not a valid "
                       "forward-path");
        return finish(c, bad, RP_STEP_SYNTAX, RP__NONE);
    }
    if (bad == RP_REASON_SMTPUTF8_REQUIRED) {
        rp__explain(c, "step 3 (syntax): a non-ASCII %s without SMTPUTF8",
                    c->sender.utf8 ? "sender" : "recipient");
        return finish(c, bad, RP_STEP_SYNTAX, RP__NONE);
    }
    *done = false;
    if (c->q->flags & RP_QUERY_EXPLAIN) {
        char s[RP_ADDR_MAX], r[RP_ADDR_MAX], su[RP_ADDR_MAX], ru[RP_ADDR_MAX];
        rp__addr_format(&c->sender, false, s, sizeof(s));
        rp__addr_format(&c->rcpt, false, r, sizeof(r));
        rp__explain(c, "step 3 (syntax): sender <%s>%s, recipient <%s>%s%s", s,
                    explain_idn(&c->sender, su, sizeof(su)), r,
                    explain_idn(&c->rcpt, ru, sizeof(ru)),
                    c->rcpt.had_route ? " (source route ignored)" : "");
    }
    return RP_OK;
}

static rp_status
deny_lists(rp__ctx *c, bool dest_ok, bool *done)
{
    bool failed = false;
    uint32_t item;

    *done = true;
    if (!c->sender.is_null) {
        item = rp__addrset_match(c, &c->p->deny_sender, &c->sender, &failed);
        if (failed)
            return fail_safe(c, RP_STEP_DENY_ADDRESS);
        if (item != RP__NONE)
            return finish(c, RP_REASON_SENDER_DENIED, RP_STEP_DENY_ADDRESS,
                          item);
    }
    item = rp__addrset_match(c, &c->p->deny_recipient, &c->rcpt, &failed);
    if (item == RP__NONE && !failed && dest_ok &&
        (c->routed || c->rcpt.dom_type == RP__DOM_NONE))
        item = rp__addrset_match(c, &c->p->deny_recipient, &c->pre, &failed);
    if (item == RP__NONE && !failed && dest_ok && c->rewritten[0])
        item = rp__addrset_match(c, &c->p->deny_recipient, &c->dest, &failed);
    if (failed)
        return fail_safe(c, RP_STEP_DENY_ADDRESS);
    if (item != RP__NONE)
        return finish(c, RP_REASON_RECIPIENT_DENIED, RP_STEP_DENY_ADDRESS,
                      item);
    rp__explain(c, "step 4 (deny lists): sender and recipient not listed");
    *done = false;
    return RP_OK;
}

/* ---- step 7 ------------------------------------------------------------- */

static rp_status
after_sender_rules(rp__ctx *c, rp_reason ok_reason, uint32_t ok_item)
{
    uint32_t item;
    rp_reason r = rp__sender_rules(c, &item);

    if (r == RP_REASON_INTERNAL_ERROR)
        return fail_safe(c, RP_STEP_CLASS);
    if (r != RP_REASON_NONE)
        return finish(c, r, RP_STEP_CLASS, item);
    return finish(c, ok_reason, RP_STEP_CLASS, ok_item);
}

static bool
validate(rp__ctx *c)
{
    if (c->bare_postmaster ||
        rp__ci_equal(c->dest.local, c->dest.local_len, "postmaster", 10))
        return true;
    if (c->cls == RP__CLASS_SELF && c->valid_dom == RP__NONE)
        return false;
    return rp__recipient_known(c) == 1;
}

static rp_status
accept_local(rp__ctx *c, uint32_t ok_item)
{
    uint32_t item;
    rp_reason r = rp__sender_rules(c, &item);

    if (r == RP_REASON_INTERNAL_ERROR)
        return fail_safe(c, RP_STEP_CLASS);
    if (r != RP_REASON_NONE)
        return finish(c, r, RP_STEP_CLASS, item);
    if (!validate(c)) {
        rp__explain(c,
                    "   recipient validation: <%s> is not a known "
                    "recipient",
                    c->destination);
        return finish(c, RP_REASON_UNKNOWN_USER, RP_STEP_CLASS,
                      c->valid_dom != RP__NONE
                          ? rp__domain_item(c->p, c->valid_dom)
                          : RP__NONE);
    }
    return finish(c, RP_REASON_ACCEPTED, RP_STEP_CLASS, ok_item);
}

static rp_status
decide_local(rp__ctx *c)
{
    rp__explain(c, "step 7 (class): local; needs submit (%s)",
                c->perms & RP_PERM_SUBMIT ? "held" : "not held");
    if (!(c->perms & RP_PERM_SUBMIT)) {
        if (c->user == NULL && !(c->denied & RP_PERM_SUBMIT))
            return finish(c, RP_REASON_AUTH_REQUIRED, RP_STEP_CLASS, RP__NONE);
        return finish(c, RP_REASON_NOT_PERMITTED, RP_STEP_CLASS,
                      c->deny_item[0]);
    }
    return accept_local(c, c->grant_item[0]);
}

static rp_status
decide_class(rp__ctx *c)
{
    const rp__domain *d = c->dom != RP__NONE ? &c->p->domains[c->dom] : NULL;

    switch (c->cls) {
    case RP__CLASS_LOCAL:
    case RP__CLASS_SELF:
        return decide_local(c);
    case RP__CLASS_RELAY:
        rp__explain(c,
                    "step 7 (class): relay domain %s; no permission "
                    "needed",
                    rp__domain_pattern(c->p, d));
        return after_sender_rules(c, RP_REASON_RELAYED, d->item);
    case RP__CLASS_REROUTE:
        rp__explain(c,
                    "step 7 (class): reroute domain %s; no permission "
                    "needed",
                    rp__domain_pattern(c->p, d));
        if (rp__domain_target_local(d))
            return accept_local(c, d->item);
        return after_sender_rules(c, RP_REASON_RELAYED, d->item);
    case RP__CLASS_EXTERNAL:
        break;
    }
    if (rp__scoped_relay(c) < 0)
        return fail_safe(c, RP_STEP_CLASS);
    rp__explain(c, "step 7 (class): external%s; needs relay (%s)",
                c->routed ? " (routing attempt)" : "",
                c->perms & RP_PERM_RELAY ? "held" : "not held");
    if (c->scope_item != RP__NONE && c->deny_item[1] == c->scope_item)
        rp__explain_scope(c, c->scope_item, "is inside it");
    else if (c->scope_item != RP__NONE && !(c->perms & RP_PERM_RELAY))
        rp__explain_scope(c, c->scope_item, "is outside it");
    else if (c->scope_item != RP__NONE)
        rp__explain_scope(c, c->scope_item, "is inside it");
    if (!(c->perms & RP_PERM_RELAY)) {
        if (c->deny_item[1] == RP__NONE)
            rp__explain(c,
                        "   no rule of listener '%s' grants relay to this "
                        "client",
                        c->l->name);
        if (c->deny_plen[1] >= 0)
            c->d->prefix_len = c->deny_plen[1];
        return finish(c, RP_REASON_RELAY_DENIED, RP_STEP_CLASS,
                      c->deny_item[1]);
    }
    if (c->grant_plen[1] >= 0)
        c->d->prefix_len = c->grant_plen[1];
    return after_sender_rules(c, RP_REASON_RELAYED, c->grant_item[1]);
}

/* ---- the procedure ------------------------------------------------------ */

/* "client 203.0.113.5 (helo mx.example) to 192.0.2.1:25 as alice"; the
 * HELO name is the client's text, so only printable bytes are shown. */
static void
explain_client(rp__ctx *c)
{
    const rp_query *q = c->q;
    char client[48], local[48], helo[68] = "";
    size_t n = rp__span_len(q->helo, q->helo_len), k = 0;

    rp__ip_format(&c->client, client, sizeof(client));
    rp__ip_format(&c->local, local, sizeof(local));
    for (size_t i = 0; i < n && k < sizeof(helo) - 4; i++) {
        unsigned char ch = (unsigned char)q->helo[i];
        helo[k++] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    helo[k] = '\0';
    rp__explain(c, "client %s%s%s%s to %s port %u, %s%.*s", client,
                k ? " (helo " : "", helo, k ? ")" : "", local,
                (unsigned)q->local_port,
                c->user ? "authenticated as " : "not authenticated",
                c->user ? (int)c->user_len : 0, c->user ? c->user : "");
}

static rp_status
early_steps(rp__ctx *c, bool *done)
{
    *done = true;
    if (c->crec == NULL)
        c->crec = rp__radix_lookup(c->p->radix, c->client.b);
    if (c->p->has_interface_rules && c->lrec == NULL)
        c->lrec = rp__radix_lookup(c->p->radix, c->local.b);
    c->l = select_listener(c);
    if (c->l == NULL) {
        rp__explain(c, "step 1 (listener): no listener serves this client "
                       "on this address and port");
        return finish(c, RP_REASON_NO_LISTENER, RP_STEP_LISTENER, RP__NONE);
    }
    c->d->listener_index = (int32_t)(c->l - c->p->listeners);
    c->d->listener = c->l->name;
    if (c->q->flags & RP_QUERY_EXPLAIN) {
        explain_client(c);
        rp__explain_proxy(c);
    }
    rp__explain(c, "step 1 (listener): '%s' (%s:%u), remote prefix /%d",
                c->l->name, rp__item_file(c->p, c->l->item),
                (unsigned)rp__item_line(c->p, c->l->item), c->d->prefix_len);
    compute_perms(c);
    for (uint32_t i = 0; i < c->p->n_deny_client; i++) {
        uint8_t v = c->crec[c->p->deny_client_lists[i]];
        if (v != RP__NOMATCH) {
            c->d->prefix_len = rp__family_plen(c, v);
            return finish(c, RP_REASON_CLIENT_BLOCKED, RP_STEP_DENY_CLIENT,
                          rp__deny_client_item(c->p, c->crec, c->client.b, i));
        }
    }
    rp__explain(c, "step 2 (deny client): not listed");
    *done = false;
    return RP_OK;
}

/* Steps 1 to 4 and the resolution of step 6 on a checked query: true
 * when one of them decided (with *st). */
static bool
steps_first(rp__ctx *c, rp_status *st)
{
    const rp_policy *policy = c->p;
    bool done;

    *st = early_steps(c, &done);
    if (done)
        return true;
    if (c->pf_rcpt)
        rp__domtab_prefetch_key(policy->domtab, c->rkey.hash);
    if (c->pf_sender)
        rp__domtab_prefetch_key(policy->domtab, c->skey.hash);
    *st = syntax_step(c, c->bad, &done);
    if (done)
        return true;
    c->dres = rp__resolve_destination(c);
    if (c->dres == RP__RES_ERROR) {
        *st = fail_safe(c, RP_STEP_DESTINATION);
        return true;
    }
    *st = deny_lists(c, c->dres == RP__RES_OK, &done);
    return done;
}

/* Steps 5 to 7, after steps_first() left the decision open. */
static rp_status
steps_last(rp__ctx *c)
{
    /* Validation compares the recipient key: its slot is cached by now. */
    if (c->lkey_len > 0)
        rp__strmap_prefetch_key(c->p->recipients, c->lkey_hash);
    if (c->l->require_auth && c->user == NULL && !rp__cert_passes(c))
        return finish(c, RP_REASON_AUTH_REQUIRED, RP_STEP_REQUIRE_AUTH,
                      c->l->require_auth_item);
    rp__explain(c, "step 5 (require auth): %s",
                !c->l->require_auth ? "not required"
                : c->user != NULL   ? "authenticated"
                                    : "a certificate this listener grants to");
    if (c->dres == RP__RES_SYNTAX) {
        rp__explain(c, "step 6 (destination): routing or unqualified "
                       "form that cannot be resolved");
        return finish(c, RP_REASON_BAD_RECIPIENT_SYNTAX, RP_STEP_DESTINATION,
                      RP__NONE);
    }
    if (c->q->flags & RP_QUERY_EXPLAIN)
        rp__addr_format(&c->rcpt, false, c->routed_from,
                        sizeof(c->routed_from));
    rp__explain(c, "step 6 (destination): <%s>%s%s%s", c->destination,
                c->routed ? " (routing attempt in <" : "",
                c->routed ? c->routed_from : "", c->routed ? ">)" : "");
    return decide_class(c);
}

/* Point the decision's strings at the workspace's buffers. */
static void
publish(rp__ctx *c, rp_decision *d)
{
    d->reply = c->reply;
    d->reply_len = c->reply_len;
    d->destination = c->destination;
    d->destination_len = c->dest_len > 0
                             ? c->dest_len
                             : strnlen(c->destination, sizeof(c->destination));
    d->rewritten = c->rewritten;
    d->rewritten_len = c->rewritten[0] == '\0'
                           ? 0
                           : strnlen(c->rewritten, sizeof(c->rewritten));
    d->explanation = c->explanation;
    d->explanation_len = c->xlen;
    if (c->truncated)
        d->flags |= RP_DECISION_TRUNCATED;
}

rp_status
rp__decide_begin(rp__ctx *c,
                 const rp_policy *policy,
                 const rp_query *query,
                 rp_decision *decision)
{
    rp_status st;

    memset(c, 0, offsetof(rp__ctx, explanation));
    c->reply[0] = c->destination[0] = c->rewritten[0] = '\0';
    c->explanation[0] = '\0';
    c->p = policy;
    c->q = query;
    c->d = decision;
    st = rp__query_check(c);
    if (st == RP_OK) {
        /* The client is settled before anything looks it up. */
        rp__resolve_proxy(c);
        c->bad = parse_addresses(c);
    }
    return st;
}

void
rp__decide_first(rp__ctx *c, rp_status begun)
{
    const rp_policy *policy = c->p;
    rp__scratch *sc = c->scratch;

    c->st = begun;
    c->decided = true;
    if (begun != RP_OK)
        return;
    rp__scratch_begin(sc, policy->opts.regex_match_limit,
                      policy->opts.regex_depth_limit,
                      policy->opts.regex_budget);
    c->decided = steps_first(c, &c->st);
    c->budget = sc->budget;
    c->spent = sc->spent;
}

rp_status
rp__decide_last(rp__ctx *c)
{
    if (!c->decided) {
        /* The scratch may have served other slots meanwhile: this
         * decision goes on with what is left of its own budget. */
        c->scratch->budget = c->budget;
        c->scratch->spent = c->spent;
        c->st = steps_last(c);
    }
    publish(c, c->d);
    return c->st;
}

rp_status
rp__decide_finish(rp__ctx *c, rp_status begun)
{
    rp__decide_first(c, begun);
    return rp__decide_last(c);
}

rp_status
rp_decide(const rp_policy *policy,
          const rp_query *query,
          rp_workspace *ws,
          rp_decision *decision)
{
    rp__ctx *c;

    if (decision == NULL)
        return RP_E_ARG;
    rp__decision_clear(decision);
    if (policy == NULL || query == NULL || ws == NULL) {
        decision->detail = "policy, query and workspace must not be NULL";
        return RP_E_ARG;
    }
    c = &ws->slots[0];
    return rp__decide_finish(c, rp__decide_begin(c, policy, query, decision));
}
