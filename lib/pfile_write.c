/*
 * pfile_write.c - writing a compiled policy as a file (see pfile.h for
 * the layout).  The small structures go to the record stream, strings to
 * the string pool, and the big tables (the prefix table, every string
 * map) to sections of their own, little-endian, that a reader on a
 * little-endian host uses in place.
 *
 * The record stream holds, in this order (u32 unless said otherwise; a
 * string is a u32 pool offset, UINT32_MAX for none; a section is a u32
 * section number; a map is its slot section, its key section and a u64
 * count):
 *   options: 0 (reserved), match limit, depth limit, budget;
 *   u64 the length of the pool's start that the items and domains
 *   point into;
 *   items: n, a section of n rp__item (file, line, column, text);
 *   domains: n, a section of n rp__domain (pattern, kind, item, target,
 *            target_dom, flags, n_recipients, 0);
 *   (the strings of both are offsets into the pool, which begins with
 *   the policy's own pool);
 *   the domain table; recipients map, has_addr_recipients,
 *   has_interface_rules;
 *   the prefix table; list names (n, then each: the named lists);
 *   deny client lists (n; list, item each), the literal entries' list,
 *   the prefix -> item records of shared lists (n4, a section of n4
 *   IPv4 records, n6, a section of n6 others);
 *   listeners: n, then name, item, remote_list, require_auth,
 *              require_auth_item, require_cert_ok, binds (n; 16 key
 *              bytes, family, any, port each), rules (n; deny, principal,
 *              perms, list, name, item, from_list, from_except, then the
 *              relay scope: n patterns, the patterns, its text, each;
 *              the scope's domain table is built from the patterns at
 *              open, so that no section is written per rule or per
 *              listener);
 *   the narrower grants: certificate map, trusted-proxy list and item;
 *   groups and self address maps, self_domain, qualify_domain;
 *   deny sender and deny recipient sets; has_login_map, login maps;
 *   replies (count, then code, 16 enhanced bytes, text, item each);
 *   soft_fail, allow_open_relay; source, u64 source_split;
 *   findings (n, a section of n rp__lintrec); the exposure analysis (its
 * entries a section of their own, then per listener sums, then classes with
 * their local ranges).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "domains.h"
#include "dump.h"
#include "exposure.h"
#include "pfile.h"
#include "policy.h"
#include "radix_table.h"
#include "relaypolicy.h"
#include "rp_regex.h"
#include "status.h"

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

typedef struct wbuf {
    uint8_t *p;
    size_t n;
    size_t cap;
} wbuf;

typedef struct sect {
    const void *data;
    size_t len;
    size_t zeros; /* zero bytes after data, part of the section */
} sect;

typedef struct pw {
    const rp_policy *p;
    const rp__alloc *a;
    wbuf pool;
    rp__strmap_builder *pool_idx;
    wbuf st;
    sect *s;
    size_t n_s, cap_s;
    void **owned; /* converted copies, freed at the end */
    size_t n_owned, cap_owned;
    rp_status fail;
} pw;

static void
w_fail(pw *w, rp_status st)
{
    if (w->fail == RP_OK)
        w->fail = st;
}

static void
buf_put(pw *w, wbuf *b, const void *data, size_t len)
{
    uint8_t *q;

    if (w->fail != RP_OK)
        return;
    q = rp__grow(w->a, b->p, &b->cap, b->n + len, 1);
    if (q == NULL) {
        w_fail(w, RP_E_NOMEM);
        return;
    }
    b->p = q;
    memcpy(b->p + b->n, data, len);
    b->n += len;
}

static void
w_u32(pw *w, uint32_t v)
{
    uint8_t b[4];

    rp__rx_st_le(b, v, 4);
    buf_put(w, &w->st, b, 4);
}

static void
w_u64(pw *w, uint64_t v)
{
    uint8_t b[8];

    rp__rx_st_le(b, v, 8);
    buf_put(w, &w->st, b, 8);
}

static void
w_bytes(pw *w, const void *data, size_t len)
{
    buf_put(w, &w->st, data, len);
}

/* A string: its offset in the pool, shared with earlier equal strings. */
static void
w_str(pw *w, const char *s)
{
    size_t len;
    uint32_t off;

    if (s == NULL) {
        w_u32(w, RP__NONE);
        return;
    }
    len = strlen(s);
    if (len < 4096 && rp__strmap_builder_get(w->pool_idx, s, len, &off)) {
        w_u32(w, off);
        return;
    }
    if (w->pool.n + len + 1 >= UINT32_MAX) {
        w_fail(w, RP_E_LIMIT);
        return;
    }
    off = (uint32_t)w->pool.n;
    buf_put(w, &w->pool, s, len + 1);
    if (len < 4096 && w->fail == RP_OK &&
        rp__strmap_add(w->pool_idx, s, len, off) < 0)
        w_fail(w, RP_E_NOMEM);
    w_u32(w, off);
}

/* A section of @p len bytes at @p data and @p zeros zero bytes; its
 * number goes to the stream. */
static void
w_sect(pw *w, const void *data, size_t len, size_t zeros)
{
    sect *s;

    if (w->fail != RP_OK)
        return;
    if (w->n_s >= RP__PF_MAX_SECTIONS) {
        w_fail(w, RP_E_LIMIT);
        return;
    }
    s = rp__grow(w->a, w->s, &w->cap_s, w->n_s + 1, sizeof(*s));
    if (s == NULL) {
        w_fail(w, RP_E_NOMEM);
        return;
    }
    w->s = s;
    s[w->n_s] = (sect){data, len, zeros};
    w_u32(w, (uint32_t)w->n_s++);
}

#if !defined(RP__RX_LE) || !RP__RX_LE
/* Keep @p q to free at the end; NULL (no memory) fails the write. */
static void *
own(pw *w, void *q)
{
    void **v;

    if (q == NULL) {
        w_fail(w, RP_E_NOMEM);
        return NULL;
    }
    v = rp__grow(w->a, w->owned, &w->cap_owned, w->n_owned + 1, sizeof(*v));
    if (v == NULL) {
        rp__free(w->a, q);
        w_fail(w, RP_E_NOMEM);
        return NULL;
    }
    w->owned = v;
    v[w->n_owned++] = q;
    return q;
}
#endif

/* A section of @p n host-order uint32: in place on a little-endian host,
 * else a converted copy. */
static void
w_sect32(pw *w, const uint32_t *v, size_t n)
{
#if defined(RP__RX_LE) && RP__RX_LE
    w_sect(w, v, n * 4, 0);
#else
    uint8_t *q = n > 0 ? own(w, rp__calloc(w->a, n, 4)) : NULL;

    for (size_t i = 0; q != NULL && i < n; i++)
        rp__rx_st_le(q + 4 * i, v[i], 4);
    w_sect(w, q, n * 4, 0);
#endif
}

static void
w_map(pw *w, const rp__strmap *m)
{
    rp__strmap_parts pt;

    rp__strmap_parts_get(m, &pt);
    w_sect32(w, pt.slots, pt.n_slots * 4);
    w_sect(w, pt.keys, pt.keys_len, 0);
    w_u64(w, pt.count);
}

static void
w_domtab(pw *w, const rp__domtab *t)
{
    rp__domtab_parts pt;

    rp__domtab_parts_get(t, &pt);
    w_u32(w, t != NULL);
    w_map(w, pt.exact);
    w_map(w, pt.suffix);
    w_u64(w, pt.exact_labels);
    w_u64(w, pt.suffix_labels);
    w_u32(w, (uint32_t)pt.n_regex);
    for (size_t i = 0; i < pt.n_regex; i++) {
        size_t len;

        w_str(w, rp__regex_source(pt.regex[i], &len));
        w_u32(w, pt.regex_value[i]);
    }
}

/* The items and the domains: each a section of fixed-size records, the
 * policy's own rp__item and rp__domain (all uint32, their strings offsets
 * into the pool, whose start is the policy's pool), used in place by a
 * reader on a little-endian host. */
static void
w_items(pw *w)
{
    const rp_policy *p = w->p;

    _Static_assert(sizeof(rp__item) == 16 && sizeof(rp__domain) == 32,
                   "rp__item and rp__domain are the file's records");
    w_u64(w, p->pool_len > 0 ? p->pool_len : 1);
    w_u32(w, p->n_items);
    w_sect32(w, (const uint32_t *)(const void *)p->items,
             (size_t)p->n_items * 4);
    w_u32(w, p->n_domains);
    w_sect32(w, (const uint32_t *)(const void *)p->domains,
             (size_t)p->n_domains * 8);
}

static void
w_listeners(pw *w)
{
    const rp_policy *p = w->p;

    w_u32(w, p->n_listeners);
    for (uint32_t i = 0; i < p->n_listeners; i++) {
        const rp__listener *l = &p->listeners[i];

        w_str(w, l->name);
        w_u32(w, l->item);
        w_u32(w, l->remote_list);
        w_u32(w, l->require_auth);
        w_u32(w, l->require_auth_item);
        w_u32(w, l->require_cert_ok);
        w_u32(w, l->n_binds);
        for (uint32_t k = 0; k < l->n_binds; k++) {
            w_bytes(w, l->binds[k].ip.b, 16);
            w_u32(w, (uint32_t)l->binds[k].ip.family);
            w_u32(w, (uint32_t)l->binds[k].any);
            w_u32(w, l->binds[k].port);
        }
        w_u32(w, l->n_rules);
        for (uint32_t k = 0; k < l->n_rules; k++) {
            const rp__rule *r = &l->rules[k];

            w_u32(w, r->deny);
            w_u32(w, (uint32_t)r->principal);
            w_u32(w, r->perms);
            w_u32(w, r->list);
            w_str(w, r->name);
            w_u32(w, r->item);
            w_u32(w, r->from_list);
            w_u32(w, r->from_except);
            w_u32(w, r->n_scope);
            /* The scope's table is built again from its patterns at
             * open: sections of its own per rule would bound the number
             * of rules a file can hold. */
            for (uint32_t j = 0; j < r->n_scope; j++)
                w_str(w, r->scope_pats[j]);
            w_str(w, r->scope_text);
        }
    }
    w_map(w, p->certs);
    w_u32(w, p->proxy_list);
    w_u32(w, p->proxy_item);
}

static void
w_trie(pw *w, const rp__rx_trie *t)
{
    w_u32(w, t->dir != NULL);
    if (t->dir != NULL)
        w_sect32(w, t->dir, t->wn);
    w_u64(w, t->w0);
    w_u64(w, t->wn);
    w_u32(w, t->below);
    w_u32(w, t->above);
    w_u32(w, t->root);
    w_u32(w, t->bits);
}

static void
w_radix(pw *w)
{
    const rp__radix *r = w->p->radix;
    uint32_t named = 0;

    w_u32(w, r->n_lists);
    w_u32(w, r->n_recs);
    w_u32(w, r->vw);
    w_sect(w, r->recs, (size_t)r->n_recs * r->n_lists, 0);
    w_u64(w, r->heap_len);
    w_sect(w, r->heap, r->heap_len, RP__RX_PAD);
    w_trie(w, &r->t4);
    w_trie(w, &r->t6);
    w_u32(w, r->n_lo);
    w_sect32(w, r->lo_root, r->n_lo);
    w_u32(w, r->h6.nb);
    w_u32(w, r->h6.n);
    w_u32(w, r->h6.probes);
    w_u32(w, r->h6.slots);
    w_u32(w, r->h6.rw);
    w_sect(w, r->h6.b, r->h6.b != NULL ? (size_t)r->h6.nb * 64 : 0, 0);
    /* Named lists come first; their names end with a NULL. */
    while (named < w->p->n_lists && w->p->list_names != NULL &&
           w->p->list_names[named] != NULL)
        named++;
    w_u32(w, named);
    for (uint32_t i = 0; i < named; i++)
        w_str(w, w->p->list_names[i]);
    w_u32(w, w->p->n_deny_client);
    for (uint32_t i = 0; i < w->p->n_deny_client; i++) {
        w_u32(w, w->p->deny_client_lists[i]);
        w_u32(w, w->p->deny_client_items[i]);
    }
    w_u32(w, w->p->deny_literal_list);
    w_u32(w, w->p->prefix_items.n4);
    w_sect32(w, w->p->prefix_items.v4, (size_t)w->p->prefix_items.n4 * 3);
    w_u32(w, w->p->prefix_items.n6);
    w_sect32(w, w->p->prefix_items.v6, (size_t)w->p->prefix_items.n6 * 6);
}

static void
w_addrset(pw *w, const rp__addrset *s)
{
    w_map(w, s->exact);
    w_domtab(w, s->domains);
    w_u32(w, s->n_regex);
    for (uint32_t i = 0; i < s->n_regex; i++) {
        size_t len;

        w_str(w, rp__regex_source(s->regex[i], &len));
        w_u32(w, s->regex_item[i]);
    }
    w_u32(w, s->n_entries);
}

static void
w_settings(pw *w)
{
    const rp_policy *p = w->p;
    char *source = NULL;
    rp_status st;

    w_map(w, p->groups);
    w_map(w, p->self_ips);
    w_u32(w, p->self_domain);
    w_str(w, p->qualify_domain);
    w_addrset(w, &p->deny_sender);
    w_addrset(w, &p->deny_recipient);
    w_u32(w, p->has_login_map);
    w_map(w, p->login_owner);
    w_map(w, p->login_mapped);
    w_u32(w, RP_REASON_COUNT);
    for (unsigned i = 0; i < RP_REASON_COUNT; i++) {
        w_u32(w, p->replies[i].code);
        w_bytes(w, p->replies[i].enhanced, 16);
        w_str(w, p->replies[i].text);
        w_u32(w, p->replies[i].item);
    }
    w_u32(w, p->soft_fail);
    w_u32(w, p->allow_open_relay);
    /* The network lines are made here: the file keeps the dump as text. */
    if ((st = rp__dump_source(p, &source)) != RP_OK)
        w_fail(w, st);
    w_str(w, source != NULL ? source : p->source);
    rp__free(w->a, source);
    w_u64(w, p->source_split);
    /* Like the items: rp__lintrec as it is, its strings in the pool. */
    _Static_assert(sizeof(rp__lintrec) == 24, "rp__lintrec is the file's");
    w_u32(w, p->n_findings);
    w_sect32(w, (const uint32_t *)(const void *)p->findings,
             (size_t)p->n_findings * 6);
}

static void
w_range(pw *w, const rp_exposure_range *r)
{
    w_u32(w, (uint32_t)r->family);
    w_bytes(w, r->first, 16);
    w_bytes(w, r->last, 16);
    w_u32(w, (uint32_t)r->prefix_len);
    w_bytes(w, r->text, sizeof(r->text));
}

/* The exposure's entries: a section of 48-byte records, four u64 (first
 * and last, high half first) and four u32 (listener, class, item,
 * family): rp__xent itself on a little-endian host. */
static void
w_xents(pw *w, const rp__xent *v, size_t n)
{
    _Static_assert(sizeof(rp__xent) == 48 &&
                       offsetof(rp__xent, listener) == 32 &&
                       offsetof(rp__xent, family) == 44,
                   "rp__xent is the file's record");
#if defined(RP__RX_LE) && RP__RX_LE
    w_sect(w, v, n * sizeof(*v), 0);
#else
    uint8_t *q = n > 0 ? own(w, rp__calloc(w->a, n, 48)) : NULL;

    for (size_t i = 0; q != NULL && i < n; i++) {
        uint8_t *e = q + 48 * i;
        rp__rx_st_le(e, v[i].first.hi, 8);
        rp__rx_st_le(e + 8, v[i].first.lo, 8);
        rp__rx_st_le(e + 16, v[i].last.hi, 8);
        rp__rx_st_le(e + 24, v[i].last.lo, 8);
        rp__rx_st_le(e + 32, v[i].listener, 4);
        rp__rx_st_le(e + 36, v[i].cls, 4);
        rp__rx_st_le(e + 40, v[i].item, 4);
        rp__rx_st_le(e + 44, v[i].family, 4);
    }
    w_sect(w, q, n * 48, 0);
#endif
}

static void
w_exposure(pw *w)
{
    const rp__exposure *x = w->p->exposure;

    w_u32(w, x != NULL);
    if (x == NULL)
        return;
    w_xents(w, x->v, x->n);
    w_u32(w, x->n_listeners);
    for (uint32_t i = 0; i < x->n_listeners; i++) {
        const rp__xsum *s = &x->sum[i];

        w_u64(w, s->pub4);
        w_u64(w, s->pub6.hi);
        w_u64(w, s->pub6.lo);
        w_u64(w, s->sel_pub4);
        w_u64(w, s->sel_pub6.hi);
        w_u64(w, s->sel_pub6.lo);
        w_u64(w, s->first);
        w_u64(w, s->end);
        w_u32(w, s->widest4);
        w_u32(w, s->widest6);
    }
    w_u32(w, x->n_cls);
    for (uint32_t c = 0; c < x->n_cls; c++) {
        w_u32(w, x->cls[c].n);
        for (uint32_t k = 0; k < x->cls[c].n; k++) {
            w_range(w, &x->cls[c].locals[k].range);
            w_u32(w, x->cls[c].locals[k].port);
        }
    }
}

static void
w_policy(pw *w)
{
    const rp_policy *p = w->p;

    w_u32(w, 0); /* reserved: the opener's flags apply */
    w_u32(w, p->opts.regex_match_limit);
    w_u32(w, p->opts.regex_depth_limit);
    w_u32(w, p->opts.regex_budget);
    w_items(w);
    w_domtab(w, p->domtab);
    w_map(w, p->recipients);
    w_u32(w, p->has_addr_recipients);
    w_u32(w, p->has_interface_rules);
    w_radix(w);
    w_listeners(w);
    w_settings(w);
    w_exposure(w);
}

static size_t
align_up(size_t n)
{
    return (n + RP__PF_ALIGN - 1) & ~(size_t)(RP__PF_ALIGN - 1);
}

/* Every section's offset, and the file's size; the header and the table
 * in @p head (n bytes).  Checksum field zero. */
static int
lay_out(pw *w, uint8_t *head, size_t hlen, uint64_t *offs)
{
    size_t at = align_up(hlen);

    memset(head, 0, hlen);
    memcpy(head, RP__PF_MAGIC, 8);
    rp__rx_st_le(head + RP__PFH_VERSION, RP__PF_VERSION, 4);
    rp__rx_st_le(head + RP__PFH_HSIZE, RP__PF_HEADER, 4);
    rp__rx_st_le(head + RP__PFH_LIBVER, RP_VERSION_NUM, 4);
    rp__rx_st_le(head + RP__PFH_BOM, RP__PF_BOM, 4);
    rp__rx_st_le(head + RP__PFH_NSECT, w->n_s, 4);
    rp__rx_st_le(head + RP__PFH_TABLE, RP__PF_HEADER, 4);
    for (size_t i = 0; i < w->n_s; i++) {
        uint8_t *e = head + RP__PF_HEADER + RP__PF_ENTRY * i;
        size_t len = w->s[i].len + w->s[i].zeros;

        offs[i] = at;
        rp__rx_st_le(e, i, 4);
        rp__rx_st_le(e + 8, at, 8);
        rp__rx_st_le(e + 16, len, 8);
        at = align_up(at + len);
    }
    rp__rx_st_le(head + RP__PFH_SIZE, at, 8);
    return 0;
}

static const uint8_t zero_pad[RP__PF_ALIGN + RP__RX_PAD];

/* Feed (to a checksum or a sink) the bytes of the file after the head. */
typedef int (*feed_fn)(void *ctx, const void *data, size_t len);

static int
feed_body(pw *w, size_t hlen, feed_fn feed, void *ctx)
{
    size_t at = hlen;

    for (size_t i = 0; i < w->n_s; i++) {
        const sect *s = &w->s[i];
        size_t pad = align_up(at) - at, z = s->zeros;

        if (pad > 0 && feed(ctx, zero_pad, pad) != 0)
            return -1;
        at += pad;
        if (s->len > 0 && feed(ctx, s->data, s->len) != 0)
            return -1;
        for (; z > 0; z -= z < RP__RX_PAD ? z : RP__RX_PAD)
            if (feed(ctx, zero_pad, z < RP__RX_PAD ? z : RP__RX_PAD) != 0)
                return -1;
        at += s->len + s->zeros;
    }
    if (align_up(at) > at && feed(ctx, zero_pad, align_up(at) - at) != 0)
        return -1;
    return 0;
}

static int
feed_sum(void *ctx, const void *data, size_t len)
{
    rp__pf_sum_add(ctx, data, len);
    return 0;
}

typedef struct sink {
    rp_write_fn write;
    void *ctx;
} sink;

static int
feed_sink(void *ctx, const void *data, size_t len)
{
    const sink *k = ctx;

    return k->write(k->ctx, data, len);
}

static rp_status
emit(pw *w, rp_write_fn write, void *ctx)
{
    size_t hlen = RP__PF_HEADER + RP__PF_ENTRY * w->n_s;
    uint8_t *head = rp__malloc(w->a, hlen);
    uint64_t *offs = rp__calloc(w->a, w->n_s + 1, sizeof(*offs));
    rp__pf_sum sum;
    sink k = {write, ctx};
    rp_status st = RP_OK;

    if (head == NULL || offs == NULL) {
        st = RP_E_NOMEM;
        goto out;
    }
    lay_out(w, head, hlen, offs);
    rp__pf_sum_init(&sum);
    rp__pf_sum_add(&sum, head, hlen);
    feed_body(w, hlen, feed_sum, &sum);
    rp__rx_st_le(head + RP__PFH_SUM, rp__pf_sum_final(&sum), 8);
    if (write(ctx, (const char *)head, hlen) != 0 ||
        feed_body(w, hlen, feed_sink, &k) != 0)
        st = RP_E_IO;
out:
    rp__free(w->a, head);
    rp__free(w->a, offs);
    return st;
}

rp_status
rp__pfile_write(const rp_policy *p, rp_write_fn write, void *ctx, char *why)
{
    pw w;
    rp_status st;

    memset(&w, 0, sizeof(w));
    w.p = p;
    w.a = &p->alloc;
    if ((w.pool_idx = rp__strmap_builder_new(w.a)) == NULL)
        return RP_E_NOMEM;
    /* The pool starts with the policy's own, which its items and domains
     * point into; the other strings follow. */
    if (p->pool_len > 0)
        buf_put(&w, &w.pool, p->pool, p->pool_len);
    else
        buf_put(&w, &w.pool, "", 1);
    w_sect(&w, NULL, 0, 0); /* the pool, filled in below */
    w_sect(&w, NULL, 0, 0); /* the stream, likewise */
    w.st.n = 0;
    w_policy(&w);
    st = w.fail;
    if (st == RP_OK) {
        w.s[RP__PF_POOL] = (sect){w.pool.p, w.pool.n, 0};
        w.s[RP__PF_STREAM] = (sect){w.st.p, w.st.n, 0};
        st = emit(&w, write, ctx);
    }
    if (st != RP_OK && why != NULL)
        snprintf(why, 160, "%s",
                 st == RP_E_IO ? "cannot write the file" : rp_strerror(st));
    for (size_t i = 0; i < w.n_owned; i++)
        rp__free(w.a, w.owned[i]);
    rp__free(w.a, w.owned);
    rp__free(w.a, w.s);
    rp__free(w.a, w.pool.p);
    rp__free(w.a, w.st.p);
    rp__strmap_builder_free(w.pool_idx);
    return st;
}

rp_status
rp_policy_write(const rp_policy *policy, rp_write_fn write, void *ctx)
{
    if (policy == NULL || write == NULL)
        return RP_E_ARG;
    return rp__pfile_write(policy, write, ctx, NULL);
}

/* ---- rp_policy_save: write, sync, check, rename, sync the directory ---- */

typedef struct fdsink {
    int fd;
    int err; /* errno of a failed write */
} fdsink;

static int
fd_write(void *ctx, const char *data, size_t len)
{
    fdsink *k = ctx;

    while (len > 0) {
        ssize_t n = write(k->fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            k->err = n < 0 ? errno : EIO;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static rp_status
save_fail(rp_error *err, const char *path, const char *what, int errnum)
{
    char msg[128];

    if (strerror_r(errnum, msg, sizeof(msg)) != 0)
        snprintf(msg, sizeof(msg), "error %d", errnum);
    rp__error_set(err, RP_E_IO, path, 0, 0, 0, NULL, 0, "%s: %s", what, msg);
    return RP_E_IO;
}

/* Read the written file back through a mapping and check its checksum. */
static bool
sum_ok(int fd)
{
    struct stat sb;
    const uint8_t *m;
    bool ok;

    if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_size < RP__PF_HEADER ||
        (uint64_t)sb.st_size > SIZE_MAX)
        return false;
    m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        return false;
    ok = rp__pf_checksum(m, (size_t)sb.st_size) == rp__pf_ld64(m + RP__PFH_SUM);
    munmap((void *)(uintptr_t)m, (size_t)sb.st_size);
    return ok;
}

/* Sync the directory holding @p path, so that the rename is durable. */
static int
sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
    int fd, rc;

    if (n >= sizeof(dir))
        return -1;
    memcpy(dir, slash == NULL ? "." : path, n);
    dir[n] = '\0';
    fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

rp_status
rp_policy_save(const rp_policy *policy, const char *path, rp_error *err)
{
    char tmp[4096];
    fdsink k = {-1, 0};
    rp_status st;
    int n;

    if (policy == NULL || path == NULL)
        return RP_E_ARG;
    n = snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return save_fail(err, path, "cannot write", ENAMETOOLONG);
    if ((k.fd = mkstemp(tmp)) < 0)
        return save_fail(err, path, "cannot create a temporary file", errno);
    st = rp__pfile_write(policy, fd_write, &k, NULL);
    if (st == RP_E_IO)
        save_fail(err, tmp, "cannot write", k.err);
    else if (st != RP_OK)
        rp__error_set(err, st, path, 0, 0, 0, NULL, 0, "%s", rp_strerror(st));
    else if (fchmod(k.fd, 0644) != 0 || fsync(k.fd) != 0)
        st = save_fail(err, tmp, "cannot sync", errno);
    else if (!sum_ok(k.fd)) {
        rp__error_set(err, RP_E_IO, tmp, 0, 0, 0, NULL, 0,
                      "the file read back does not match its checksum");
        st = RP_E_IO;
    }
    if (close(k.fd) != 0 && st == RP_OK)
        st = save_fail(err, tmp, "cannot write", errno);
    if (st == RP_OK && rename(tmp, path) != 0)
        st = save_fail(err, path, "cannot rename the new file into place",
                       errno);
    if (st != RP_OK) {
        unlink(tmp);
        return st;
    }
    if (sync_dir(path) != 0)
        return save_fail(err, path, "cannot sync the directory", errno);
    return RP_OK;
}
