/*
 * listener.c - the builder calls that describe a listener: binds, remote
 * ranges, role presets, require-auth and permission rules.
 */
#include <stdio.h>
#include <string.h>

#include "builder.h"
#include "certfp.h"
#include "domains.h"
#include "ipaddr.h"
#include "policy.h"
#include "relaypolicy.h"

static rp__blistener *
get_listener(rp_builder *b, uint32_t index, rp_error *err)
{
    if (index < b->n_listeners)
        return &b->listeners[index];
    rp__b_fail(b, err, RP_E_ARG, NULL, "no listener with index %u",
               (unsigned)index);
    return NULL;
}

rp_status
rp_builder_listener(rp_builder *b,
                    const char *name,
                    uint32_t *index,
                    rp_error *err)
{
    rp__blistener *l;
    uint32_t prev;
    char text[300];

    if (b == NULL || index == NULL)
        return RP_E_ARG;
    if (!rp__is_name(name)) {
        rp__b_fail(b, err, RP_E_ARG, name, "a listener name must be a word");
        return RP_E_ARG;
    }
    if (b->listener_names == NULL &&
        (b->listener_names = rp__strmap_builder_new(&b->alloc)) == NULL)
        return rp__b_nomem(b, err);
    if (rp__strmap_builder_get(b->listener_names, name, strlen(name), &prev) ==
        1) {
        const rp__bitem *it = &b->items[b->listeners[prev].item];
        rp__b_fail(b, err, RP_E_POLICY, name,
                   "listener '%s' is already "
                   "defined at %s:%u",
                   name, it->file, (unsigned)it->line);
        return RP_E_POLICY;
    }
    if (b->n_listeners >= b->opts.max_rules) {
        rp__b_fail(b, err, RP_E_LIMIT, name, "too many listeners");
        return RP_E_LIMIT;
    }
    snprintf(text, sizeof(text), "listener %s", name);
    l = B_PUSH(b, listeners);
    if (l == NULL || (l->item = rp__b_item(b, text)) == RP__NONE ||
        (l->name = rp__b_str(b, name)) == NULL) {
        if (l != NULL)
            b->n_listeners--;
        return rp__b_nomem(b, err);
    }
    /* Names are compared exactly, as the loop this replaces did. */
    if (rp__strmap_add(b->listener_names, name, strlen(name),
                       (uint32_t)(b->n_listeners - 1)) < 0) {
        b->n_listeners--;
        return rp__b_nomem(b, err);
    }
    *index = (uint32_t)(b->n_listeners - 1);
    return RP_OK;
}

/* Parse "PORT" or "*" (0 = any); -1 when malformed. */
static long
parse_port(const char *s)
{
    long v = 0;

    if (strcmp(s, "*") == 0)
        return 0;
    if (*s == '\0' || *s == '0' || strlen(s) > 5)
        return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v >= 1 && v <= 65535 ? v : -1;
}

/* Split "HOST[:PORT]" where HOST is *, IPv4 or [IPv6]. */
static int
parse_bind(const char *s, rp__bind *out)
{
    char host[64];
    const char *port = NULL, *end;
    size_t hn;
    long p = 0;
    bool bracketed = s[0] == '[';

    memset(out, 0, sizeof(*out));
    if (bracketed) {
        end = strchr(s, ']');
        if (end == NULL)
            return -1;
        hn = (size_t)(end - s - 1);
        if (end[1] == ':')
            port = end + 2;
        else if (end[1] != '\0')
            return -1;
        s++;
    } else {
        end = strchr(s, ':');
        hn = end != NULL ? (size_t)(end - s) : strlen(s);
        if (end != NULL)
            port = end + 1;
    }
    if (hn == 0 || hn >= sizeof(host))
        return -1;
    memcpy(host, s, hn);
    host[hn] = '\0';
    if (port != NULL && (p = parse_port(port)) < 0)
        return -1;
    out->port = (uint32_t)p;
    if (strcmp(host, "*") == 0) {
        out->any = RP__BIND_ANY;
        return 0;
    }
    if (rp__ip_parse(host, hn, &out->ip) != 0)
        return -1;
    if ((out->ip.family == 4) == bracketed)
        return -1;
    if (strcmp(host, "0.0.0.0") == 0)
        out->any = RP__BIND_ANY4;
    else if (out->ip.family == 6 && memcmp(out->ip.b,
                                           "\0\0\0\0\0\0\0\0"
                                           "\0\0\0\0\0\0\0\0",
                                           16) == 0)
        out->any = RP__BIND_ANY6;
    return 0;
}

rp_status
rp_builder_bind(rp_builder *b,
                uint32_t listener,
                const char *bind,
                rp_error *err)
{
    rp__blistener *l;
    rp__bind bd, *slot;

    if (b == NULL)
        return RP_E_ARG;
    if ((l = get_listener(b, listener, err)) == NULL)
        return RP_E_ARG;
    if (bind == NULL || strlen(bind) > 60 || parse_bind(bind, &bd) != 0) {
        rp__b_fail(b, err, RP_E_ARG, bind,
                   "'%s' is not a bind address: use "
                   "IP:PORT, [IPv6]:PORT, 0.0.0.0:PORT, [::]:PORT or *:PORT "
                   "(PORT may be *)",
                   bind != NULL ? bind : "");
        return RP_E_ARG;
    }
    slot = rp__b_push(b, (void **)&l->binds, &l->n_binds, &l->cap_binds,
                      sizeof(*l->binds));
    if (slot == NULL) {
        return rp__b_nomem(b, err);
    }
    *slot = bd;
    return RP_OK;
}

rp_status
rp_builder_remote(rp_builder *b,
                  uint32_t listener,
                  const char *cidr_or_list,
                  rp_error *err)
{
    rp__blistener *l;
    rp__bref ref, *slot;

    if (b == NULL)
        return RP_E_ARG;
    if ((l = get_listener(b, listener, err)) == NULL ||
        !rp__parse_ref(b, err, cidr_or_list, true, &ref))
        return b->last;
    slot = rp__b_push(b, (void **)&l->remotes, &l->n_remotes, &l->cap_remotes,
                      sizeof(*l->remotes));
    if (slot == NULL) {
        return rp__b_nomem(b, err);
    }
    *slot = ref;
    slot->item = rp__b_item(b, "remote");
    return RP_OK;
}

static rp_status
set_require(
    rp_builder *b, uint32_t listener, bool on, bool cert_ok, rp_error *err)
{
    rp__blistener *l;

    if (b == NULL)
        return RP_E_ARG;
    if ((l = get_listener(b, listener, err)) == NULL)
        return RP_E_ARG;
    l->require_auth = on;
    l->require_cert_ok = on && cert_ok;
    l->require_auth_item =
        rp__b_item(b, !on       ? "no require auth"
                      : cert_ok ? "require auth or certificate"
                                : "require auth");
    if (l->require_auth_item == RP__NONE) {
        return rp__b_nomem(b, err);
    }
    return RP_OK;
}

rp_status
rp_builder_require_auth(rp_builder *b,
                        uint32_t listener,
                        bool on,
                        rp_error *err)
{
    return set_require(b, listener, on, false, err);
}

rp_status
rp_builder_require_auth_or_certificate(rp_builder *b,
                                       uint32_t listener,
                                       bool on,
                                       rp_error *err)
{
    return set_require(b, listener, on, true, err);
}

/* Add a rule with an already-recorded item. */
static rp_status
add_rule(rp_builder *b, rp__blistener *l, const rp__brule *r, rp_error *err)
{
    rp__brule *slot;

    if (l->n_rules >= b->opts.max_rules) {
        rp__b_fail(b, err, RP_E_LIMIT, NULL, "too many rules in one listener");
        return RP_E_LIMIT;
    }
    slot = rp__b_push(b, (void **)&l->rules, &l->n_rules, &l->cap_rules,
                      sizeof(*l->rules));
    if (slot == NULL) {
        return rp__b_nomem(b, err);
    }
    *slot = *r;
    return RP_OK;
}

const char *
rp__perm_text(uint32_t perms, char *buf, size_t size)
{
    static const char *const names[] = {"submit", "relay", "routing",
                                        "local-sender"};
    size_t n = 0;

    buf[0] = '\0';
    for (unsigned i = 0; i < 4; i++)
        if ((perms & (1u << i)) && n < size)
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? " " : "",
                                  names[i]);
    return buf;
}

/* The permissions of @p r as the language writes them: a scoped relay
 * last, with its destinations ("submit relay to a.example .b.example"). */
const char *
rp__rule_perm_text(const rp__brule *r, char *buf, size_t size)
{
    char scope[200];
    size_t n;

    if (r->n_scope == 0)
        return rp__perm_text(r->perms, buf, size);
    rp__perm_text(r->perms & ~(uint32_t)RP_PERM_RELAY, buf, size);
    n = strlen(buf);
    snprintf(buf + n, size - n, "%srelay%s", n ? " " : "",
             rp__scope_text(r, scope, sizeof(scope)));
    return buf;
}

/* " from network [all-except] NETWORK" of a login rule, or "". */
static const char *
from_text(const rp__brule *r, char *buf, size_t size)
{
    char ref[64];

    buf[0] = '\0';
    if (!r->has_from)
        return buf;
    rp__bref_text(&r->from, ref, sizeof(ref));
    snprintf(buf, size, " from network %s%s",
             r->from_except ? "all-except " : "", ref);
    return buf;
}

const char *
rp__principal_text(const rp__brule *r, char *buf, size_t size)
{
    char ref[80], from[100], fp[2 * RP__FP_LEN + 1];

    switch (r->principal) {
    case RP_PRINCIPAL_ANONYMOUS:
        return "anonymous";
    case RP_PRINCIPAL_AUTHENTICATED:
        if (!r->has_from)
            return "authenticated";
        snprintf(buf, size, "authenticated%s",
                 from_text(r, from, sizeof(from)));
        return buf;
    case RP_PRINCIPAL_USER:
    case RP_PRINCIPAL_GROUP:
        snprintf(buf, size, "%s %s%s",
                 r->principal == RP_PRINCIPAL_USER ? "user" : "group", r->name,
                 from_text(r, from, sizeof(from)));
        return buf;
    case RP_PRINCIPAL_CERTIFICATE:
        if (r->name == NULL)
            rp__fp_format(r->cert_fp, fp);
        snprintf(buf, size, "certificate %s", r->name ? r->name : fp);
        return buf;
    default:
        break;
    }
    rp__bref_text(&r->ref, ref, sizeof(ref));
    snprintf(buf, size, "%s %s",
             r->principal == RP_PRINCIPAL_NETWORK     ? "network"
             : r->principal == RP_PRINCIPAL_INTERFACE ? "interface"
                                                      : "network all-except",
             ref);
    return buf;
}

/* A certificate rule names a certificate list or gives one fingerprint:
 * a word with a colon, or of 64 hex digits, is taken as a fingerprint. */
static bool
cert_arg(rp_builder *b, rp_error *err, const char *arg, rp__brule *r)
{
    const char *why = "";
    size_t n = arg != NULL ? strlen(arg) : 0;

    if (n > 0 && strchr(arg, ':') == NULL &&
        !(n == 2 * RP__FP_LEN && strspn(arg, "0123456789abcdefABCDEF") == n)) {
        if (!rp__is_name(arg)) {
            rp__b_fail(b, err, RP_E_ARG, arg,
                       "a certificate list name must be a word");
            return false;
        }
        if ((r->name = rp__b_str(b, arg)) == NULL) {
            rp__b_nomem(b, err);
            return false;
        }
        return true;
    }
    if (rp__fp_parse(arg, n, r->cert_fp, &why) == 0)
        return true;
    rp__b_fail(b, err, RP_E_ARG, arg,
               "'%.24s%s' is not a SHA-256 fingerprint or list name: %s",
               arg != NULL ? arg : "", n > 24 ? "..." : "", why);
    return false;
}

static bool
fill_principal(
    rp_builder *b, rp_error *err, rp_principal p, const char *arg, rp__brule *r)
{
    r->principal = p;
    switch (p) {
    case RP_PRINCIPAL_ANONYMOUS:
    case RP_PRINCIPAL_AUTHENTICATED:
        if (arg == NULL)
            return true;
        rp__b_fail(b, err, RP_E_ARG, arg, "this principal takes no argument");
        return false;
    case RP_PRINCIPAL_USER:
    case RP_PRINCIPAL_GROUP:
        if (!rp__is_name(arg)) {
            rp__b_fail(b, err, RP_E_ARG, arg, "a %s name must be a word",
                       p == RP_PRINCIPAL_USER ? "user" : "group");
            return false;
        }
        r->name = rp__b_lower(b, arg);
        return r->name != NULL;
    case RP_PRINCIPAL_NETWORK:
    case RP_PRINCIPAL_NETWORK_EXCEPT:
    case RP_PRINCIPAL_INTERFACE:
        return rp__parse_ref(b, err, arg, true, &r->ref);
    case RP_PRINCIPAL_CERTIFICATE:
        return cert_arg(b, err, arg, r);
    }
    rp__b_fail(b, err, RP_E_ARG, NULL, "unknown principal %d", (int)p);
    return false;
}

/* `from network [all-except] NETWORK` of a login rule ("!" for
 * all-except in the builder call). */
static bool
fill_from(rp_builder *b, rp_error *err, const char *from, rp__brule *r)
{
    if (from == NULL)
        return true;
    if (r->principal != RP_PRINCIPAL_USER &&
        r->principal != RP_PRINCIPAL_GROUP &&
        r->principal != RP_PRINCIPAL_AUTHENTICATED) {
        rp__b_fail(b, err, RP_E_ARG, from,
                   "only user, group and authenticated rules take 'from "
                   "network'");
        return false;
    }
    r->has_from = true;
    r->from_except = from[0] == '!';
    return rp__parse_ref(b, err, from + (from[0] == '!'), true, &r->from);
}

/* `relay to LIST`: normalised patterns, in the builder's arena. */
static bool
fill_scope(
    rp_builder *b, rp_error *err, const char *const *to, size_t n, rp__brule *r)
{
    char pat[RP__PATTERN_BUF];

    if (to == NULL || n == 0)
        return to == NULL || n == 0;
    if (!(r->perms & RP_PERM_RELAY)) {
        rp__b_fail(
            b, err, RP_E_ARG, NULL,
            "destinations ('to') narrow relay: the rule must hold relay");
        return false;
    }
    if (n > b->opts.max_rules) {
        rp__b_fail(b, err, RP_E_LIMIT, NULL,
                   "too many destinations in one rule");
        return false;
    }
    r->scope = rp__arena_alloc(&b->arena, &b->alloc, n * sizeof(char *));
    if (r->scope == NULL) {
        rp__b_nomem(b, err);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!rp__norm_domain(b, err, to[i], pat, sizeof(pat)) ||
            !rp__count_entry(b, err))
            return false;
        if ((r->scope[i] = rp__b_str(b, pat)) == NULL) {
            rp__b_nomem(b, err);
            return false;
        }
    }
    r->n_scope = n;
    return true;
}

rp_status
rp_builder_rule(rp_builder *b,
                uint32_t listener,
                bool deny,
                rp_principal principal,
                const char *arg,
                uint32_t perms,
                rp_error *err)
{
    return rp_builder_rule_ex(b, listener, deny, principal, arg, NULL, perms,
                              NULL, 0, err);
}

rp_status
rp_builder_rule_ex(rp_builder *b,
                   uint32_t listener,
                   bool deny,
                   rp_principal principal,
                   const char *arg,
                   const char *from,
                   uint32_t perms,
                   const char *const *relay_to,
                   size_t n_relay_to,
                   rp_error *err)
{
    rp__blistener *l;
    rp__brule r;
    char text[300], pbuf[200], permbuf[260];

    if (b == NULL)
        return RP_E_ARG;
    if ((l = get_listener(b, listener, err)) == NULL)
        return RP_E_ARG;
    if (perms == 0 || (perms & ~(uint32_t)RP_PERM_ALL) != 0) {
        rp__b_fail(b, err, RP_E_ARG, NULL,
                   "a rule needs one or more of submit, "
                   "relay, routing, local-sender");
        return RP_E_ARG;
    }
    memset(&r, 0, sizeof(r));
    r.deny = deny;
    r.perms = perms;
    if (!fill_principal(b, err, principal, arg, &r) ||
        !fill_from(b, err, from, &r) ||
        !fill_scope(b, err, relay_to, n_relay_to, &r))
        return b->last;
    snprintf(text, sizeof(text), "%s %s %s", deny ? "deny" : "allow",
             rp__principal_text(&r, pbuf, sizeof(pbuf)),
             rp__rule_perm_text(&r, permbuf, sizeof(permbuf)));
    if ((r.item = rp__b_item(b, text)) == RP__NONE) {
        return rp__b_nomem(b, err);
    }
    r.ref.item = r.item;
    return add_rule(b, l, &r, err);
}

rp_status
rp_builder_role(rp_builder *b, uint32_t listener, rp_role role, rp_error *err)
{
    static const char *const names[] = {"",        "gateway",  "all-in-one",
                                        "mailbox", "frontend", "submission"};
    rp__blistener *l;
    rp__brule r;
    char text[64];

    if (b == NULL)
        return RP_E_ARG;
    if ((l = get_listener(b, listener, err)) == NULL)
        return RP_E_ARG;
    if (role < RP_ROLE_GATEWAY || role > RP_ROLE_SUBMISSION) {
        rp__b_fail(b, err, RP_E_ARG, NULL, "unknown role %d", (int)role);
        return RP_E_ARG;
    }
    memset(&r, 0, sizeof(r));
    snprintf(text, sizeof(text), "role %s", names[role]);
    if ((r.item = rp__b_item(b, text)) == RP__NONE) {
        return rp__b_nomem(b, err);
    }
    if (role == RP_ROLE_GATEWAY || role == RP_ROLE_ALL_IN_ONE) {
        r.principal = RP_PRINCIPAL_ANONYMOUS;
        r.perms = RP_PERM_SUBMIT;
        return add_rule(b, l, &r, err);
    }
    l->require_auth = true;
    l->require_auth_item = r.item;
    if (role == RP_ROLE_SUBMISSION) {
        r.principal = RP_PRINCIPAL_AUTHENTICATED;
        r.perms = RP_PERM_SUBMIT | RP_PERM_RELAY;
        return add_rule(b, l, &r, err);
    }
    return RP_OK;
}
