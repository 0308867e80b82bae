/*
 * dump.c - the compiled policy in normalised policy-language form.
 *
 * The text is made once, when the policy is frozen, from what the builder
 * recorded: role presets expanded into the rules they stand for, one list
 * entry per line, every section sorted, so that two policies that mean the
 * same thing dump the same and differences show up in diff.  The output is
 * itself a valid policy.
 */
#include "builder.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lines {
    const rp__alloc *a;
    void *arena; /* the text of every line, freed at once */
    char **v;
    size_t n, cap;
    bool failed;
} lines;

static void add(lines *L, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add(lines *L, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    void *p;
    int n;

    if (L->failed)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    p = rp__grow(L->a, L->v, &L->cap, L->n + 1, sizeof(char *));
    if (n < 0 || p == NULL) {
        L->failed = true;
        return;
    }
    L->v = p;
    if ((size_t)n >= sizeof(buf))
        n = (int)sizeof(buf) - 1;
    L->v[L->n] = rp__arena_alloc(&L->arena, L->a, (size_t)n + 1);
    if (L->v[L->n] == NULL) {
        L->failed = true;
        return;
    }
    memcpy(L->v[L->n++], buf, (size_t)n + 1);
}

/* Add the concatenation of @p n strings, without printf: the big lists
 * (recipients, networks) can hold millions of lines. */
static void
add_cat(lines *L, const char *const *parts, size_t n)
{
    size_t len = 0, at = 0;
    void *p;
    char *line;

    for (size_t i = 0; i < n; i++)
        len += strlen(parts[i]);
    p = L->failed ? NULL
                  : rp__grow(L->a, L->v, &L->cap, L->n + 1, sizeof(char *));
    line = p != NULL ? rp__arena_alloc(&L->arena, L->a, len + 1) : NULL;
    if (line == NULL) {
        L->failed = true;
        return;
    }
    L->v = p;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(parts[i]);
        memcpy(line + at, parts[i], k);
        at += k;
    }
    line[at] = '\0';
    L->v[L->n++] = line;
}

/* Names are interned per run, so equal pointers are the common case. */
static int
cmp_name(const char *a, const char *b)
{
    return a == b ? 0 : strcmp(a, b);
}

static int
cmp_net(const void *x, const void *y)
{
    const rp__bnet *a = *(const rp__bnet *const *)x;
    const rp__bnet *b = *(const rp__bnet *const *)y;
    int c = cmp_name(a->name, b->name);

    if (c == 0)
        c = memcmp(a->ip.b, b->ip.b, 16);
    if (c == 0)
        c = (a->plen > b->plen) - (a->plen < b->plen);
    return c;
}

static int
cmp_recip(const void *x, const void *y)
{
    const rp__brecip *a = *(const rp__brecip *const *)x;
    const rp__brecip *b = *(const rp__brecip *const *)y;
    int c = cmp_name(a->domain, b->domain);

    return c != 0 ? c : strcmp(a->key, b->key);
}

/* Sort pointers to @p n records of @p size bytes; NULL on no memory. */
static const void **
sorted(lines *L,
       const void *base,
       size_t n,
       size_t size,
       int (*cmp)(const void *, const void *))
{
    const void **v = rp__calloc(L->a, n + 1, sizeof(*v));

    if (v == NULL) {
        L->failed = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = (const char *)base + i * size;
    qsort(v, n, sizeof(*v), cmp);
    return v;
}

/* Networks in address order within each list (IPv4 first). */
static void
dump_networks(lines *L, const rp_builder *b)
{
    const void **v = sorted(L, b->nets, b->n_nets, sizeof(*b->nets), cmp_net);
    char ip[80];

    for (size_t i = 0; v != NULL && i < b->n_nets && !L->failed; i++) {
        const rp__bnet *net = v[i];
        rp__bref r = {NULL, net->ip, net->plen, 0};
        const char *parts[] = {"network ", net->name, " ", ip};

        rp__bref_text(&r, ip, sizeof(ip));
        add_cat(L, parts, 4);
    }
    rp__free(L->a, v);
}

static void
dump_recipients(lines *L, const rp_builder *b)
{
    const void **v =
        sorted(L, b->recips, b->n_recips, sizeof(*b->recips), cmp_recip);

    for (size_t i = 0; v != NULL && i < b->n_recips && !L->failed; i++) {
        const rp__brecip *r = v[i];
        const char *parts[] = {"recipients ", r->domain, " ", r->key};

        add_cat(L, parts, 4);
    }
    rp__free(L->a, v);
}

static int
cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Sort the lines added since @p from. */
static void
sort_from(lines *L, size_t from)
{
    if (!L->failed && L->n > from + 1)
        qsort(L->v + from, L->n - from, sizeof(char *), cmp_str);
}

static const char *const kind_names[] = {"", "local", "relay", "reroute"};

static void
dump_header(lines *L, const rp_builder *b)
{
    char ip[64];
    size_t from;

    add(L, "# relaypolicy normalised policy");
    if (b->soft_fail)
        add(L, "soft-fail");
    if (b->allow_open_relay)
        add(L, "allow open-relay");
    if (b->qualify_domain != NULL)
        add(L, "qualify-domain %s", b->qualify_domain);
    if (b->self_domain != NULL)
        add(L, "self-domain %s", b->self_domain);
    from = L->n;
    for (size_t i = 0; i < b->n_selfs; i++) {
        rp__ip_format(&b->selfs[i], ip, sizeof(ip));
        add(L, "self %s", ip);
    }
    sort_from(L, from);
}

/* A declared but empty recipient list has no entry line to show: a
 * comment says that validation is on (relaypolicy(7) §4.1).  The grammar
 * has no spelling for an empty list other than an empty list file, so a
 * recompiled dump has no validation for that domain (lint says so). */
static void
dump_empty_lists(lines *L, const rp_builder *b, const rp_policy *p)
{
    size_t from = L->n;

    for (size_t i = 0; i < b->n_domains; i++)
        if (p->domains[i].has_recipients && p->domains[i].n_recipients == 0)
            add(L,
                "# recipients %s: an empty list, every recipient but "
                "postmaster is unknown",
                b->domains[i].pattern);
    sort_from(L, from);
}

static void
dump_domains(lines *L, const rp_builder *b, const rp_policy *p)
{
    size_t from = L->n;

    for (size_t i = 0; i < b->n_domains; i++) {
        const rp__bdomain *d = &b->domains[i];
        const char *parts[] = {"domain ",
                               d->pattern,
                               " ",
                               kind_names[d->kind],
                               d->target ? " " : "",
                               d->target ? d->target : ""};
        /* Regexes reach max_regex_length: no printf buffer cuts them. */
        add_cat(L, parts, 6);
    }
    sort_from(L, from);
    dump_empty_lists(L, b, p);
    dump_recipients(L, b);
    dump_networks(L, b);
    from = L->n;
    for (size_t i = 0; i < b->n_groups; i++)
        add(L, "group %s %s", b->groups[i].a, b->groups[i].b);
    sort_from(L, from);
}

static void
bind_text(const rp__bind *bd, char *buf, size_t size)
{
    char ip[64], port[12];

    if (bd->port != 0)
        snprintf(port, sizeof(port), "%u", (unsigned)bd->port);
    else
        snprintf(port, sizeof(port), "*");
    if (bd->any == RP__BIND_ANY) {
        snprintf(buf, size, "*:%s", port);
    } else if (bd->any == RP__BIND_ANY4) {
        snprintf(buf, size, "0.0.0.0:%s", port);
    } else if (bd->any == RP__BIND_ANY6) {
        snprintf(buf, size, "[::]:%s", port);
    } else {
        rp__ip_format(&bd->ip, ip, sizeof(ip));
        snprintf(buf, size, bd->ip.family == 6 ? "[%s]:%s" : "%s:%s", ip, port);
    }
}

static void
dump_listener(lines *L, const rp__blistener *l)
{
    char text[128], pbuf[128], perms[64];
    size_t from;

    add(L, "listener %s {", l->name);
    for (size_t k = 0; k < l->n_binds; k++) {
        bind_text(&l->binds[k], text, sizeof(text));
        add(L, "    bind %s", text);
    }
    from = L->n;
    for (size_t k = 0; k < l->n_remotes; k++) {
        rp__bref_text(&l->remotes[k], text, sizeof(text));
        add(L, "    remote %s", text);
    }
    sort_from(L, from);
    if (l->require_auth)
        add(L, "    require auth");
    from = L->n;
    for (size_t k = 0; k < l->n_rules; k++) {
        const rp__brule *r = &l->rules[k];
        add(L, "    %s %s %s", r->deny ? "deny " : "allow",
            rp__principal_text(r, pbuf, sizeof(pbuf)),
            rp__perm_text(r->perms, perms, sizeof(perms)));
    }
    sort_from(L, from);
    add(L, "}");
}

/* Write @p s as a policy-language string: in double quotes, with quotes
 * and backslashes escaped. */
static void
quote(const char *s, char *out, size_t size)
{
    size_t n = 0;

    out[n++] = '"';
    for (; *s != '\0' && n + 4 < size; s++) {
        if (*s == '"' || *s == '\\')
            out[n++] = '\\';
        out[n++] = *s;
    }
    out[n++] = '"';
    out[n] = '\0';
}

static void
dump_global(lines *L, const rp_builder *b)
{
    char text[128];
    size_t from = L->n;

    for (size_t i = 0; i < b->n_deny_clients; i++) {
        rp__bref_text(&b->deny_clients[i], text, sizeof(text));
        add(L, "deny client %s", text);
    }
    sort_from(L, from);
    from = L->n;
    for (size_t i = 0; i < b->n_deny_senders; i++) {
        const char *parts[] = {"deny sender ", b->deny_senders[i].a};
        add_cat(L, parts, 2);
    }
    sort_from(L, from);
    from = L->n;
    for (size_t i = 0; i < b->n_deny_recipients; i++) {
        const char *parts[] = {"deny recipient ", b->deny_recipients[i].a};
        add_cat(L, parts, 2);
    }
    sort_from(L, from);
    from = L->n;
    for (size_t i = 0; i < b->n_logins; i++) {
        const char *parts[] = {"sender-login ", b->logins[i].b, " ",
                               b->logins[i].a};
        add_cat(L, parts, 4);
    }
    sort_from(L, from);
    for (int r = 1; r < RP_REASON_COUNT; r++) {
        char text[420];
        if (b->replies[r].item == RP__NONE)
            continue;
        quote(b->replies[r].text, text, sizeof(text));
        add(L, "reply %s %u %s %s", rp_reason_name((rp_reason)r),
            (unsigned)b->replies[r].code, b->replies[r].enhanced, text);
    }
}

/* Join the lines into one arena string. */
static rp_status
join(lines *L, rp_policy *p)
{
    size_t total = 1;
    char *out, *w;

    for (size_t i = 0; i < L->n; i++)
        total += strlen(L->v[i]) + 1;
    out = rp__arena_alloc(&p->arena, &p->alloc, total);
    if (out == NULL)
        return RP_E_NOMEM;
    w = out;
    for (size_t i = 0; i < L->n; i++) {
        size_t n = strlen(L->v[i]);
        memcpy(w, L->v[i], n);
        w[n] = '\n';
        w += n + 1;
    }
    *w = '\0';
    p->source = out;
    return RP_OK;
}

rp_status
rp__dump_build(const rp_builder *b, rp_policy *p)
{
    lines L = {&p->alloc, NULL, NULL, 0, 0, false};
    rp_status st = RP_E_NOMEM;

    dump_header(&L, b);
    dump_domains(&L, b, p);
    for (size_t i = 0; i < b->n_listeners; i++)
        dump_listener(&L, &b->listeners[i]);
    dump_global(&L, b);
    if (!L.failed)
        st = join(&L, p);
    rp__arena_free(&L.arena, &p->alloc);
    rp__free(&p->alloc, L.v);
    return st;
}

rp_status
rp_policy_dump(const rp_policy *policy, rp_write_fn write, void *ctx)
{
    const char *s;

    if (policy == NULL || write == NULL)
        return RP_E_ARG;
    s = policy->source != NULL ? policy->source : "";
    return write(ctx, s, strlen(s)) == 0 ? RP_OK : RP_E_IO;
}
