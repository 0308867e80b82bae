/*
 * listener.c - the builder calls that describe a listener: binds, remote
 * ranges, role presets, require-auth and permission rules.
 */
#include <stdio.h>
#include <string.h>

#include "builder.h"
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
        const rp__item *it = &b->items[b->listeners[prev].item];
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

rp_status
rp_builder_require_auth(rp_builder *b,
                        uint32_t listener,
                        bool on,
                        rp_error *err)
{
    rp__blistener *l;

    if (b == NULL)
        return RP_E_ARG;
    if ((l = get_listener(b, listener, err)) == NULL)
        return RP_E_ARG;
    l->require_auth = on;
    l->require_auth_item =
        rp__b_item(b, on ? "require auth" : "no require auth");
    if (l->require_auth_item == RP__NONE) {
        return rp__b_nomem(b, err);
    }
    return RP_OK;
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

const char *
rp__principal_text(const rp__brule *r, char *buf, size_t size)
{
    char ref[80];

    switch (r->principal) {
    case RP_PRINCIPAL_ANONYMOUS:
        return "anonymous";
    case RP_PRINCIPAL_AUTHENTICATED:
        return "authenticated";
    case RP_PRINCIPAL_USER:
        snprintf(buf, size, "user %s", r->name);
        return buf;
    case RP_PRINCIPAL_GROUP:
        snprintf(buf, size, "group %s", r->name);
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
    }
    rp__b_fail(b, err, RP_E_ARG, NULL, "unknown principal %d", (int)p);
    return false;
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
    rp__blistener *l;
    rp__brule r;
    char text[300], pbuf[120], permbuf[64];

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
    if (!fill_principal(b, err, principal, arg, &r))
        return b->last;
    snprintf(text, sizeof(text), "%s %s %s", deny ? "deny" : "allow",
             rp__principal_text(&r, pbuf, sizeof(pbuf)),
             rp__perm_text(perms, permbuf, sizeof(permbuf)));
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
