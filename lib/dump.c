/*
 * dump.c - the compiled policy in normalised policy-language form.
 *
 * The text is made once, when the policy is frozen, from what the builder
 * recorded: role presets expanded into the rules they stand for, one list
 * entry per line, every section sorted, so that two policies that mean the
 * same thing dump the same and differences show up in diff.  The output is
 * itself a valid policy.  The two big parts, recipients and network
 * entries, are rendered only when the dump is asked for: from the compiled
 * recipient map and from the compact network records freeze.c keeps.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "builder.h"
#include "certfp.h"
#include "domains.h"
#include "dump.h"
#include "freeze.h"
#include "idn.h"
#include "ipaddr.h"
#include "policy.h"
#include "relaypolicy.h"

typedef struct lines {
    const rp__alloc *a;
    void *arena; /* the text of every line, freed at once */
    char **v;
    size_t n, cap;
    size_t split;      /* the line before which the recipients go */
    size_t deny_split; /* ... and the deny client lines */
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

/* "  # U-label form" for a pattern or target holding A-labels, else "". */
static const char *
unicode_note(const char *pat, const char *target, char *buf, size_t size)
{
    char u[2][RP_ADDR_MAX];
    const char *s[2] = {pat, target};
    bool any = false;

    for (int k = 0; k < 2; k++) {
        const char *d = s[k] != NULL && s[k][0] == '.' ? s[k] + 1 : s[k];
        size_t n = d != NULL && d[0] != '/'
                       ? rp__idn_to_unicode(d, strlen(d), u[k], sizeof(u[k]))
                       : 0;
        any |= n > 0;
        if (n == 0)
            snprintf(u[k], sizeof(u[k]), "%s", d != NULL ? d : "");
    }
    if (!any)
        return "";
    snprintf(buf, size, "  # %s%s%s%s", pat[0] == '.' ? "." : "", u[0],
             target != NULL ? " -> " : "", target != NULL ? u[1] : "");
    return buf;
}

/* A declared but empty recipient list has no entry line: it is written
 * `recipients DOMAIN ()`, which keeps validation on when the dump is
 * compiled again (relaypolicy(7) §4.1). */
static void
dump_empty_lists(lines *L, const rp_builder *b, const rp_policy *p)
{
    size_t from = L->n;

    for (size_t i = 0; i < b->n_domains; i++)
        if (rp__domain_has_recipients(&p->domains[i]) &&
            p->domains[i].n_recipients == 0)
            add(L, "recipients %s ()", b->domains[i].pattern);
    sort_from(L, from);
}

static void
dump_domains(lines *L, const rp_builder *b, const rp_policy *p)
{
    size_t from = L->n;
    char note[2 * RP_ADDR_MAX + 16];

    for (size_t i = 0; i < b->n_domains; i++) {
        const rp__bdomain *d = &b->domains[i];
        const char *parts[] = {
            "domain ",
            d->pattern,
            " ",
            kind_names[d->kind],
            d->target ? " " : "",
            d->target ? d->target : "",
            unicode_note(d->pattern, d->target, note, sizeof(note))};
        /* Regexes reach max_regex_length: no printf buffer cuts them. */
        add_cat(L, parts, 7);
    }
    sort_from(L, from);
    dump_empty_lists(L, b, p);
    L->split = L->n; /* the recipients and networks go here, on demand */
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

/* One line of @p head and then @p n words, without a fixed buffer: a
 * scope or a certificate list may be long. */
static void
add_words(lines *L, const char *head, const char *const *words, size_t n)
{
    const char **parts;

    if (L->failed)
        return;
    parts = rp__calloc(L->a, 2 * n + 1, sizeof(*parts));
    if (parts == NULL) {
        L->failed = true;
        return;
    }
    parts[0] = head;
    for (size_t i = 0; i < n; i++) {
        parts[1 + 2 * i] = " ";
        parts[2 + 2 * i] = words[i];
    }
    add_cat(L, parts, 2 * n + 1);
    rp__free(L->a, (void *)parts);
}

/* A rule with `relay to LIST`. */
static void
dump_scoped(lines *L, const rp__brule *r)
{
    char head[300], pbuf[200], perms[64];

    rp__perm_text(r->perms & ~(uint32_t)RP_PERM_RELAY, perms, sizeof(perms));
    snprintf(head, sizeof(head), "    %s %s %s%srelay to",
             r->deny ? "deny " : "allow",
             rp__principal_text(r, pbuf, sizeof(pbuf)), perms,
             perms[0] ? " " : "");
    add_words(L, head, r->scope, r->n_scope);
}

/* Certificate lists, one line per list, and the trusted proxies. */
static void
dump_grants(lines *L, const rp_builder *b)
{
    char head[300], text[128];
    size_t from = L->n;
    char(*fps)[2 * RP__FP_LEN + 1];
    const char **words;

    fps = rp__calloc(L->a, b->n_certs + 1, sizeof(*fps));
    words = rp__calloc(L->a, b->n_certs + 1, sizeof(*words));
    for (size_t i = 0; fps != NULL && words != NULL && i < b->n_certs; i++) {
        size_t n = 0;
        bool first = true;

        for (size_t k = 0; k < i && first; k++)
            first = strcmp(b->certs[k].name, b->certs[i].name) != 0;
        for (size_t k = i; first && k < b->n_certs; k++)
            if (strcmp(b->certs[k].name, b->certs[i].name) == 0) {
                rp__fp_format(b->certs[k].fp, fps[k]);
                words[n++] = fps[k];
            }
        snprintf(head, sizeof(head), "certificate %s", b->certs[i].name);
        if (first)
            add_words(L, head, words, n);
    }
    if (fps == NULL || words == NULL)
        L->failed = true;
    rp__free(L->a, fps);
    rp__free(L->a, (void *)words);
    sort_from(L, from);
    from = L->n;
    for (size_t i = 0; i < b->n_proxies; i++) {
        rp__bref_text(&b->proxies[i], text, sizeof(text));
        add(L, "trusted-proxy %s", text);
    }
    sort_from(L, from);
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
        add(L, "    require auth%s",
            l->require_cert_ok ? " or certificate" : "");
    from = L->n;
    for (size_t k = 0; k < l->n_rules; k++) {
        const rp__brule *r = &l->rules[k];
        if (r->n_scope > 0) {
            dump_scoped(L, r);
            continue;
        }
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
    size_t from;

    dump_grants(L, b);
    L->deny_split = L->n; /* the deny client lines go here, on demand */
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
        if (i == L->split)
            p->source_split = (size_t)(w - out);
        if (i == L->deny_split)
            p->deny_split = (size_t)(w - out);
        memcpy(w, L->v[i], n);
        w[n] = '\n';
        w += n + 1;
    }
    if (L->split >= L->n)
        p->source_split = (size_t)(w - out);
    if (L->deny_split >= L->n)
        p->deny_split = (size_t)(w - out);
    *w = '\0';
    p->source = out;
    return RP_OK;
}

/* The compact records of the network and deny client entries, made
 * last so that they do not add to the compile's peak. */
static bool
keep_records(const rp__freeze *f)
{
    const rp_builder *b = f->b;
    rp_policy *p = f->p;
    size_t nn = f->net_ids != NULL ? b->n_nets : 0;
    size_t nd = f->deny_ids != NULL ? b->n_deny_clients : 0;
    rp__dnet *dn =
        rp__arena_alloc(&p->arena, &p->alloc, (nn + nd + 1) * sizeof(*dn));

    if (dn == NULL)
        return false;
    for (size_t i = 0; i < nn; i++) {
        const rp__bnet *net = &b->nets[i];
        memcpy(dn[i].key, net->ip.b, 16);
        dn[i].list = f->net_ids[i];
        dn[i].plen = (uint8_t)net->plen;
        dn[i].family = (uint8_t)net->ip.family;
    }
    for (size_t i = 0; i < nd; i++) {
        const rp__bref *ref = &b->deny_clients[i];
        rp__dnet *d = &dn[nn + i];
        memcpy(d->key, ref->ip.b, 16);
        d->list = f->deny_ids[i];
        d->plen = (uint8_t)ref->plen;
        d->family = (uint8_t)ref->ip.family;
    }
    p->dump_nets = dn;
    p->n_dump_nets = nn;
    p->dump_deny = dn + nn;
    p->n_dump_deny = nd;
    return true;
}

rp_status
rp__dump_build(const rp__freeze *f)
{
    const rp_builder *b = f->b;
    rp_policy *p = f->p;
    lines L = {.a = &p->alloc};
    rp_status st = RP_E_NOMEM;

    if (!keep_records(f))
        return RP_E_NOMEM;
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

/* ---- recipients, made when the dump is asked for --------------------- */

/* One recipient of the policy's map: its domain index and its key text
 * (the local part or the whole address). */
typedef struct recip {
    const char *dom; /* the domain's pattern */
    const char *key;
    size_t len;
} recip;

typedef struct recips {
    const rp_policy *p;
    recip *v;
    size_t n;
    size_t cap;
} recips;

static int
collect(void *ctx, const char *key, size_t len, uint32_t value)
{
    recips *R = ctx;
    const char *colon = memchr(key, ':', len);
    size_t skip = colon != NULL ? (size_t)(colon - key) + 1 : len;

    /* A map read from a compiled file is not trusted to agree with its
     * count or the domains. */
    if (R->n >= R->cap || value >= R->p->n_domains)
        return R->n >= R->cap;
    R->v[R->n].dom = rp__domain_pattern(R->p, &R->p->domains[value]);
    R->v[R->n].key = key + skip;
    R->v[R->n].len = len - skip;
    R->n++;
    return 0;
}

/* By domain pattern, then key: the order the builder's records had. */
static int
cmp_recip(const void *x, const void *y)
{
    const recip *a = x, *b = y;
    int c = a->dom == b->dom ? 0 : strcmp(a->dom, b->dom);
    size_t n = a->len < b->len ? a->len : b->len;

    if (c == 0 && (c = memcmp(a->key, b->key, n)) == 0)
        c = (a->len > b->len) - (a->len < b->len);
    return c;
}

/* Write "recipients DOMAIN KEY" lines through @p write, 64 KiB at a time. */
static rp_status
write_recipients(const recips *R, rp_write_fn write, void *ctx)
{
    char buf[65536];
    size_t at = 0;

    for (size_t i = 0; i < R->n; i++) {
        const recip *r = &R->v[i];
        const char *dom = r->dom;
        size_t dl = strlen(dom), need = 11 + dl + 1 + r->len + 1;

        if (at + need > sizeof(buf)) {
            if (write(ctx, buf, at) != 0)
                return RP_E_IO;
            at = 0;
        }
        memcpy(buf + at, "recipients ", 11);
        memcpy(buf + at + 11, dom, dl);
        buf[at + 11 + dl] = ' ';
        memcpy(buf + at + 12 + dl, r->key, r->len);
        buf[at + need - 1] = '\n';
        at += need;
    }
    return at > 0 && write(ctx, buf, at) != 0 ? RP_E_IO : RP_OK;
}

/* The recipient lines, from the compiled map, sorted. */
static rp_status
dump_recipients(const rp_policy *p, rp_write_fn write, void *ctx)
{
    size_t n = rp__strmap_count(p->recipients);
    recips R = {p, NULL, 0, n};
    rp_status st;

    if (n == 0)
        return RP_OK;
    R.v = rp__calloc(&p->alloc, n, sizeof(*R.v));
    if (R.v == NULL)
        return RP_E_NOMEM;
    rp__strmap_each(p->recipients, collect, &R);
    qsort(R.v, R.n, sizeof(*R.v), cmp_recip);
    st = write_recipients(&R, write, ctx);
    rp__free(&p->alloc, R.v);
    return st;
}

/* ---- network entries, made when the dump is asked for ----------------- */

/* One entry to sort: its list's rank by name, then address and length,
 * the order the lines would have as text.  The address is two host-order
 * words so that comparing is cheap. */
typedef struct snet {
    uint64_t hi, lo;
    uint32_t rank;
    uint8_t plen;
    uint8_t family;
} snet;

static int
cmp_snet(const void *x, const void *y)
{
    const snet *a = x, *b = y;

    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return (a->plen > b->plen) - (a->plen < b->plen);
}

static uint64_t
be64(const uint8_t *b)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

static void
put_be64(uint8_t *b, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
}

typedef struct named {
    const char *name;
    uint32_t id;
} named;

static int
cmp_named(const void *x, const void *y)
{
    return strcmp(((const named *)x)->name, ((const named *)y)->name);
}

/* rank[id] for the named lists 0 .. @p n - 1, by name, and then
 * rank[n + r], the list of rank r. */
static uint32_t *
name_ranks(const rp_policy *p, uint32_t n)
{
    uint32_t *rank = rp__calloc(&p->alloc, 2 * (size_t)n + 1, sizeof(*rank));
    named *v = rp__calloc(&p->alloc, (size_t)n + 1, sizeof(*v));

    if (rank == NULL || v == NULL) {
        rp__free(&p->alloc, rank);
        rp__free(&p->alloc, v);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        v[i].name = p->list_names[i];
        v[i].id = i;
    }
    qsort(v, n, sizeof(*v), cmp_named);
    for (uint32_t i = 0; i < n; i++) {
        rank[v[i].id] = i;
        rank[n + i] = v[i].id;
    }
    rp__free(&p->alloc, v);
    return rank;
}

/* Write "network NAME PREFIX" lines, sorted, 64 KiB at a time. */
static rp_status
dump_networks(const rp_policy *p, rp_write_fn write, void *ctx)
{
    size_t n = p->n_dump_nets, at = 0;
    uint32_t n_names = 0, *rank;
    char buf[65536], ip[80];
    rp_status st = RP_OK;
    snet *v;

    if (n == 0)
        return RP_OK;
    for (size_t i = 0; i < n; i++)
        if (p->dump_nets[i].list >= n_names)
            n_names = p->dump_nets[i].list + 1;
    rank = name_ranks(p, n_names);
    v = rp__calloc(&p->alloc, n, sizeof(*v));
    if (rank == NULL || v == NULL) {
        rp__free(&p->alloc, rank);
        rp__free(&p->alloc, v);
        return RP_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const rp__dnet *d = &p->dump_nets[i];
        v[i].hi = be64(d->key);
        v[i].lo = be64(d->key + 8);
        v[i].rank = rank[d->list];
        v[i].plen = d->plen;
        v[i].family = d->family;
    }
    qsort(v, n, sizeof(*v), cmp_snet);
    for (size_t i = 0; i < n; i++)
        v[i].rank = rank[n_names + v[i].rank];
    for (size_t i = 0; i < n && st == RP_OK; i++) {
        const char *name = p->list_names[v[i].rank];
        rp__bref r = {NULL, {{0}, v[i].family}, v[i].plen, 0};
        size_t nl = strlen(name), il, need;

        put_be64(r.ip.b, v[i].hi);
        put_be64(r.ip.b + 8, v[i].lo);
        il = rp__bref_text(&r, ip, sizeof(ip));
        need = 8 + nl + 1 + il + 1;
        if (at + need > sizeof(buf)) {
            if (write(ctx, buf, at) != 0)
                st = RP_E_IO;
            at = 0;
        }
        memcpy(buf + at, "network ", 8);
        memcpy(buf + at + 8, name, nl);
        buf[at + 8 + nl] = ' ';
        memcpy(buf + at + 9 + nl, ip, il);
        buf[at + need - 1] = '\n';
        at += need;
    }
    if (st == RP_OK && at > 0 && write(ctx, buf, at) != 0)
        st = RP_E_IO;
    rp__free(&p->alloc, rank);
    rp__free(&p->alloc, v);
    return st;
}

/* ---- deny client entries, made when the dump is asked for ------------- */

/* Write "deny client X" lines, sorted as text. */
static rp_status
dump_deny(const rp_policy *p, rp_write_fn write, void *ctx)
{
    size_t n = p->n_dump_deny, used = 0, cap = 0;
    size_t *off = NULL;
    const char **v = NULL;
    char *buf = NULL, text[300], out[16384];
    rp_status st = RP_OK;

    if (n == 0)
        return RP_OK;
    off = rp__calloc(&p->alloc, n, sizeof(*off));
    for (size_t i = 0; off != NULL && i < n; i++) {
        const rp__dnet *d = &p->dump_deny[i];
        rp__bref r = {NULL, {{0}, d->family}, d->plen, 0};
        size_t len;
        char *q;

        memcpy(r.ip.b, d->key, 16);
        if (d->list != RP__NONE)
            len = (size_t)snprintf(text, sizeof(text), "%s",
                                   p->list_names[d->list]);
        else
            len = rp__bref_text(&r, text, sizeof(text));
        if (len >= sizeof(text))
            len = sizeof(text) - 1;
        if ((q = rp__grow(&p->alloc, buf, &cap, used + len + 1, 1)) == NULL) {
            st = RP_E_NOMEM;
            break;
        }
        buf = q;
        memcpy(buf + used, text, len + 1);
        off[i] = used;
        used += len + 1;
    }
    if (off == NULL)
        st = RP_E_NOMEM;
    if (st == RP_OK && (v = rp__calloc(&p->alloc, n, sizeof(*v))) == NULL)
        st = RP_E_NOMEM;
    for (size_t i = 0; st == RP_OK && i < n; i++)
        v[i] = buf + off[i];
    if (st == RP_OK)
        qsort(v, n, sizeof(*v), cmp_str);
    for (size_t i = 0, at = 0; st == RP_OK && i < n; i++) {
        size_t k = strlen(v[i]), need = 12 + k + 1;
        if (at + need > sizeof(out)) {
            if (write(ctx, out, at) != 0)
                st = RP_E_IO;
            at = 0;
        }
        memcpy(out + at, "deny client ", 12);
        memcpy(out + at + 12, v[i], k);
        out[at + need - 1] = '\n';
        at += need;
        if (st == RP_OK && i + 1 == n && write(ctx, out, at) != 0)
            st = RP_E_IO;
    }
    rp__free(&p->alloc, (void *)v);
    rp__free(&p->alloc, buf);
    rp__free(&p->alloc, off);
    return st;
}

/* The whole dump through @p write; the recipients only when asked. */
static rp_status
render(const rp_policy *p, bool recipients, rp_write_fn write, void *ctx)
{
    const char *s = p->source != NULL ? p->source : "";
    size_t len = strlen(s), split = p->source_split, deny = len;
    rp_status st;

    if (p->n_dump_deny > 0 && p->deny_split >= split && p->deny_split <= len)
        deny = p->deny_split;
    if (split > 0 && write(ctx, s, split) != 0)
        return RP_E_IO;
    if ((recipients && (st = dump_recipients(p, write, ctx)) != RP_OK) ||
        (st = dump_networks(p, write, ctx)) != RP_OK)
        return st;
    if (deny > split && write(ctx, s + split, deny - split) != 0)
        return RP_E_IO;
    if ((st = dump_deny(p, write, ctx)) != RP_OK)
        return st;
    return deny < len && write(ctx, s + deny, len - deny) != 0 ? RP_E_IO
                                                               : RP_OK;
}

rp_status
rp_policy_dump(const rp_policy *policy, rp_write_fn write, void *ctx)
{
    if (policy == NULL || write == NULL)
        return RP_E_ARG;
    return render(policy, true, write, ctx);
}

/* ---- the stored text of a compiled policy file -------------------------- */

typedef struct textbuf {
    const rp__alloc *a;
    char *p;
    size_t n, cap;
} textbuf;

static int
text_put(void *ctx, const char *s, size_t len)
{
    textbuf *t = ctx;
    char *q = rp__grow(t->a, t->p, &t->cap, t->n + len + 1, 1);

    if (q == NULL)
        return -1;
    t->p = q;
    memcpy(t->p + t->n, s, len);
    t->n += len;
    t->p[t->n] = '\0';
    return 0;
}

rp_status
rp__dump_source(const rp_policy *p, char **out)
{
    textbuf t = {&p->alloc, NULL, 0, 0};
    rp_status st;

    *out = NULL;
    if (p->n_dump_nets == 0 && p->n_dump_deny == 0)
        return RP_OK;
    if ((st = render(p, false, text_put, &t)) != RP_OK) {
        rp__free(&p->alloc, t.p);
        return st == RP_E_IO ? RP_E_NOMEM : st;
    }
    *out = t.p;
    return RP_OK;
}
