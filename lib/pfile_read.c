/*
 * pfile_read.c - opening a compiled policy file (see pfile.h).
 *
 * The file is mapped read-only and shared: the items, the domains, the
 * lint findings, the string pool, the prefix table and every string map
 * are used in place, so processes opening the same file share those
 * pages.  The small structures (listeners, rules, replies, the exposure's
 * summaries) are rebuilt from the record stream into the policy's arena,
 * and regexes are compiled again.
 *
 * The file may be damaged or hostile.  Open checks the header and the
 * bounds of every section; every offset, length, count and index read
 * from the stream is checked before use; those in the items, domains and
 * findings are checked where they are read (policy.h); the prefix table's
 * geometry is checked (rp__radix_check: its lookups bound their own
 * reads); the values of the small maps a decision uses as indexes are
 * checked, the domain table's where a decision reads one; string maps
 * check key bounds at each lookup.  Only the
 * checksum is left to rp_policy_check_file() (or RP_OPT_VERIFY), as it
 * reads every byte.
 */
#define _DEFAULT_SOURCE /* madvise() and its Linux advice values */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address.h"
#include "alloc.h"
#include "domains.h"
#include "exposure.h"
#include "options.h"
#include "pfile.h"
#include "policy.h"
#include "radix.h"
#include "radix_table.h"
#include "relaypolicy.h"
#include "rp_regex.h"
#include "status.h"

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

struct rp__pfile {
    rp__alloc alloc;
    const uint8_t *base;
    size_t len;
    bool mapped; /* munmap, else a private copy to free */
};

/* ---- the checksum ------------------------------------------------------- */

#define SUM_P1 0x9E3779B185EBCA87ull
#define SUM_P2 0xC2B2AE3D27D4EB4Full

static uint64_t
rotl(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

void
rp__pf_sum_init(rp__pf_sum *s)
{
    memset(s, 0, sizeof(*s));
    for (unsigned i = 0; i < 4; i++)
        s->v[i] = SUM_P1 * (i + 1);
}

static void
sum_stripe(rp__pf_sum *s, const uint8_t *p)
{
    for (unsigned i = 0; i < 4; i++)
        s->v[i] =
            rotl(s->v[i] + rp__rx_ld_le64(p + 8 * i) * SUM_P2, 31) * SUM_P1;
}

void
rp__pf_sum_add(rp__pf_sum *s, const void *data, size_t len)
{
    const uint8_t *p = data;

    s->total += len;
    if (s->n > 0) {
        size_t take = 32 - s->n < len ? 32 - s->n : len;
        memcpy(s->buf + s->n, p, take);
        s->n += take;
        p += take;
        len -= take;
        if (s->n < 32)
            return;
        sum_stripe(s, s->buf);
        s->n = 0;
    }
    for (; len >= 32; p += 32, len -= 32)
        sum_stripe(s, p);
    memcpy(s->buf, p, len);
    s->n = len;
}

uint64_t
rp__pf_sum_final(rp__pf_sum *s)
{
    uint64_t h = s->total * SUM_P1;

    memset(s->buf + s->n, 0, 32 - s->n);
    sum_stripe(s, s->buf);
    for (unsigned i = 0; i < 4; i++)
        h = rotl(h ^ s->v[i], 27) * SUM_P1 + SUM_P2;
    h ^= h >> 33;
    h *= SUM_P2;
    return h ^ (h >> 29);
}

uint64_t
rp__pf_checksum(const uint8_t *file, size_t len)
{
    static const uint8_t zero[8];
    rp__pf_sum s;

    rp__pf_sum_init(&s);
    rp__pf_sum_add(&s, file, RP__PFH_SUM);
    rp__pf_sum_add(&s, zero, 8);
    rp__pf_sum_add(&s, file + RP__PFH_SUM + 8, len - RP__PFH_SUM - 8);
    return rp__pf_sum_final(&s);
}

/* ---- the reader's state ------------------------------------------------- */

typedef struct span {
    const uint8_t *p;
    size_t len;
} span;

typedef struct pr {
    rp_policy *p;
    const rp__alloc *a;
    span *sec;
    uint32_t n_sec;
    const char *pool;
    size_t pool_len;
    const uint8_t *st;
    size_t st_len, at;
    rp_status fail;
    const char *why; /* static */
} pr;

static bool
bad(pr *r, const char *why)
{
    if (r->fail == RP_OK) {
        r->fail = RP_E_FORMAT;
        r->why = why;
    }
    return false;
}

static bool
nomem(pr *r)
{
    if (r->fail == RP_OK) {
        r->fail = RP_E_NOMEM;
        r->why = "out of memory";
    }
    return false;
}

static const uint8_t *
take(pr *r, size_t n)
{
    const uint8_t *q;

    if (r->fail != RP_OK)
        return NULL;
    if (r->st_len - r->at < n) {
        bad(r, "the record stream is cut short");
        return NULL;
    }
    q = r->st + r->at;
    r->at += n;
    return q;
}

static uint32_t
r_u32(pr *r)
{
    const uint8_t *q = take(r, 4);

    return q != NULL ? rp__pf_ld32(q) : 0;
}

static uint64_t
r_u64(pr *r)
{
    const uint8_t *q = take(r, 8);

    return q != NULL ? rp__pf_ld64(q) : 0;
}

static bool
r_bool(pr *r)
{
    uint32_t v = r_u32(r);

    if (v > 1)
        bad(r, "a flag is neither 0 nor 1");
    return v == 1;
}

static void
r_bytes(pr *r, void *out, size_t n)
{
    const uint8_t *q = take(r, n);

    if (q != NULL)
        memcpy(out, q, n);
    else
        memset(out, 0, n);
}

/* An index below @p n, or RP__NONE when @p none_ok. */
static uint32_t
r_idx(pr *r, uint32_t n, bool none_ok)
{
    uint32_t v = r_u32(r);

    if (v < n || (none_ok && v == RP__NONE))
        return v;
    bad(r, "an index is out of range");
    return none_ok ? RP__NONE : 0;
}

/* A count of records of at least @p min_bytes each in the stream left. */
static uint32_t
r_count(pr *r, size_t min_bytes)
{
    uint32_t n = r_u32(r);

    if ((uint64_t)n * min_bytes > r->st_len - r->at) {
        bad(r, "a count is larger than the record stream");
        return 0;
    }
    return n;
}

/* A string of the pool (NULL for none unless @p need). */
static const char *
r_str(pr *r, bool need)
{
    uint32_t off = r_u32(r);

    if (off == RP__NONE && !need)
        return NULL;
    if (off >= r->pool_len) {
        bad(r, "a string is outside the string pool");
        return "";
    }
    return r->pool + off;
}

/* A section, checked to hold @p len bytes (at least, when @p at_least). */
static const uint8_t *
r_sect(pr *r, size_t len, bool at_least)
{
    uint32_t i = r_u32(r);
    const span *s;

    if (r->fail != RP_OK)
        return NULL;
    if (i < 2 || i >= r->n_sec) {
        bad(r, "a section number is out of range");
        return NULL;
    }
    s = &r->sec[i];
    if (at_least ? s->len < len : s->len != len) {
        bad(r, "a section has the wrong size");
        return NULL;
    }
    return s->p;
}

#define HUGE_PAGE ((size_t)2 << 20)

/* Arena memory for @p n records of @p size bytes.  A big block (on a
 * big-endian host, the converted items, domains and findings of a policy
 * with many domains) is placed on huge-page boundaries, advised as such
 * and faulted in with one call where the system can: open writes all of
 * it at once, and faulting it in 4 KiB at a time costs more than the
 * rest of open. */
static void *
r_alloc(pr *r, size_t n, size_t size)
{
    size_t len, span;
    uint8_t *q;

    if (r->fail != RP_OK)
        return NULL;
    if (size != 0 && n > SIZE_MAX / size)
        return nomem(r), NULL;
    len = n * size > 0 ? n * size : 1;
    if (len < HUGE_PAGE || len > SIZE_MAX / 2) {
        if ((q = rp__arena_alloc(&r->p->arena, r->a, len)) == NULL)
            nomem(r);
        return q;
    }
    span = (len + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    if ((q = rp__arena_alloc(&r->p->arena, r->a, span + HUGE_PAGE)) == NULL)
        return nomem(r), NULL;
    q += (HUGE_PAGE - (uintptr_t)q % HUGE_PAGE) % HUGE_PAGE;
#if defined(MADV_HUGEPAGE) && defined(MADV_POPULATE_WRITE)
    /* Hints: failing either costs only time. */
    madvise(q, span, MADV_HUGEPAGE);
    madvise(q, span, MADV_POPULATE_WRITE);
#endif
    return q;
}

/* A zeroed array of *n records that rp_policy_free() walks (a listener's
 * rules and their tables): on failure *n is 0, so a policy left half
 * read is freed safely. */
static void *
r_zalloc(pr *r, uint32_t *n, size_t size)
{
    void *q = r_alloc(r, *n, size);

    if (q == NULL)
        *n = 0;
    else
        memset(q, 0, (size_t)*n * size);
    return q;
}

/* n little-endian uint32 as host-order ones: in place when they are. */
static const uint32_t *
host32(pr *r, const uint8_t *q, size_t n)
{
#if defined(RP__RX_LE) && RP__RX_LE
    (void)r;
    (void)n;
    return (const uint32_t *)(const void *)q;
#else
    uint32_t *v = r_alloc(r, n, 4);

    for (size_t i = 0; v != NULL && i < n; i++)
        v[i] = rp__pf_ld32(q + 4 * i);
    return v;
#endif
}

/* ---- maps and tables ---------------------------------------------------- */

/* A string map; its values, when @p limit is not 0, must be below it. */
static rp__strmap *
r_map(pr *r, uint32_t limit)
{
    rp__strmap_parts pt;
    uint32_t si = r_u32(r), ki;
    const uint8_t *slots;
    rp__strmap *m;

    r->at -= r->fail == RP_OK ? 4 : 0;
    if (si < r->n_sec && r->sec[si].len % 16 == 0)
        pt.n_slots = r->sec[si].len / 16;
    else
        pt.n_slots = 0;
    slots = r_sect(r, pt.n_slots * 16, false);
    ki = r_u32(r);
    r->at -= r->fail == RP_OK ? 4 : 0;
    pt.keys_len = ki < r->n_sec ? r->sec[ki].len : 0;
    pt.keys = (const char *)r_sect(r, pt.keys_len, false);
    pt.count = r_u64(r);
    if (r->fail != RP_OK)
        return NULL;
    pt.slots = host32(r, slots, pt.n_slots * 4);
    if (pt.slots == NULL)
        return NULL;
    for (size_t i = 0; limit != 0 && i < pt.n_slots; i++)
        if (pt.slots[4 * i + 2] != UINT32_MAX && pt.slots[4 * i + 1] >= limit)
            return bad(r, "a map value is out of range"), NULL;
    if (pt.n_slots == 0 || pt.count >= pt.n_slots)
        return bad(r, "a map has no room"), NULL;
    if ((m = rp__strmap_borrow(r->a, &pt)) == NULL)
        bad(r, "a map is not a hash table");
    return m;
}

static rp__regex *
r_regex(pr *r, const char *pat)
{
    const rp_policy *p = r->p;
    char why[160];
    size_t off = 0;
    rp__regex *re = NULL;
    rp_status st;

    if (r->fail != RP_OK)
        return NULL;
    st = rp__regex_compile(r->a, pat, strlen(pat), p->opts.flags,
                           p->opts.regex_match_limit, p->opts.regex_depth_limit,
                           &re, why, sizeof(why), &off);
    if (st == RP_E_NOMEM)
        nomem(r);
    else if (st != RP_OK)
        bad(r, "a regex does not compile");
    return re;
}

/* A domain table whose values are below @p limit (NULL when absent);
 * its maps' values are checked here unless @p at_use (the caller's reader
 * checks each value it reads). */
static rp__domtab *
r_domtab(pr *r, uint32_t limit, bool at_use)
{
    rp__domtab_parts pt;
    bool present = r_bool(r);
    uint32_t n;
    rp__domtab *t;

    memset(&pt, 0, sizeof(pt));
    pt.exact = r_map(r, at_use ? 0 : limit);
    pt.suffix = r_map(r, at_use ? 0 : limit);
    pt.exact_labels = r_u64(r);
    pt.suffix_labels = r_u64(r);
    n = r_count(r, 8);
    if (r->fail == RP_OK && n > 0) {
        pt.regex = rp__calloc(r->a, n, sizeof(*pt.regex));
        pt.regex_value = rp__calloc(r->a, n, sizeof(*pt.regex_value));
        if (pt.regex == NULL || pt.regex_value == NULL)
            nomem(r);
    }
    for (uint32_t i = 0; r->fail == RP_OK && i < n; i++) {
        const char *pat = r_str(r, true);

        pt.regex_value[i] = r_idx(r, limit, false);
        if ((pt.regex[i] = r_regex(r, pat)) != NULL)
            pt.n_regex++;
    }
    if (r->fail != RP_OK || !present) {
        t = rp__domtab_assemble(r->a, &pt);
        rp__domtab_free(t);
        return NULL;
    }
    if ((t = rp__domtab_assemble(r->a, &pt)) == NULL)
        nomem(r);
    return t;
}

/* ---- the policy's pieces ------------------------------------------------ */

/* The items and the domains, in place on a little-endian host (a
 * converted copy else), and the string pool's start their strings are
 * in.  Nothing in them is checked here: the accessors
 * of policy.h check every offset and index where it is read, so open
 * costs the same for 10 domains or 100k. */
static void
r_items(pr *r)
{
    rp_policy *p = r->p;
    uint64_t len = r_u64(r);
    uint32_t n;
    const uint8_t *q;

    /* Their strings: the start of the pool, ending in NUL. */
    if (r->fail == RP_OK &&
        (len == 0 || len > r->pool_len || r->pool[len - 1] != '\0'))
        bad(r, "the items' strings are outside the string pool");
    p->pool = r->pool;
    p->pool_len = r->fail == RP_OK ? (size_t)len : 0;
    n = r_u32(r);
    q = r_sect(r, (size_t)n * sizeof(rp__item), false);
    if (q != NULL && (p->items = (const rp__item *)(const void *)host32(
                          r, q, (size_t)n * 4)) != NULL)
        p->n_items = n;
    n = r_u32(r);
    q = r_sect(r, (size_t)n * sizeof(rp__domain), false);
    if (q != NULL && (p->domains = (const rp__domain *)(const void *)host32(
                          r, q, (size_t)n * 8)) != NULL)
        p->n_domains = n;
}

static void
r_bind(pr *r, rp__bind *b)
{
    uint32_t fam, any;

    r_bytes(r, b->ip.b, 16);
    fam = r_u32(r);
    any = r_u32(r);
    b->port = r_u32(r);
    if ((fam != 4 && fam != 6 && (fam != 0 || any == RP__BIND_EXACT)) ||
        (any != RP__BIND_EXACT && any != RP__BIND_ANY4 &&
         any != RP__BIND_ANY6 && any != RP__BIND_ANY) ||
        b->port > 65535)
        bad(r, "a bind is malformed");
    b->ip.family = (int)fam;
    b->any = (rp__bind_any)any;
}

/* A relay scope's domain table (values: pattern index), built from its
 * @p n patterns as the compiler built it; NULL when there are none.  The
 * file holds no table per rule: sections of their own would bound the
 * number of rules (and so of listeners) a file can hold. */
static rp__domtab *
r_scope(pr *r, const char **pats, uint32_t n)
{
    rp__domtab_builder *tb;
    rp__domtab *t;
    char why[160];

    if (r->fail != RP_OK || n == 0)
        return NULL;
    tb = rp__domtab_builder_new(r->a, r->p->opts.flags,
                                r->p->opts.regex_match_limit,
                                r->p->opts.regex_depth_limit);
    if (tb == NULL)
        return nomem(r), NULL;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t prev;
        int rc = rp__domtab_add(tb, pats[i], strlen(pats[i]), i, &prev, why,
                                sizeof(why));

        if (rc < 0) {
            rp__domtab_builder_free(tb);
            if (rc == RP__DOMTAB_NOMEM)
                return nomem(r), NULL;
            return bad(r, "a relay scope's pattern is malformed"), NULL;
        }
    }
    if ((t = rp__domtab_freeze(tb)) == NULL)
        nomem(r);
    return t;
}

/* A rule's narrower parts (relaypolicy(7) §4.2): `from network` and the
 * destinations of a scoped relay. */
static void
r_rule_grants(pr *r, rp__rule *ru, uint32_t n_lists)
{
    const char **pats;

    ru->from_list = r_idx(r, n_lists, true);
    ru->from_except = r_bool(r);
    ru->n_scope = r_count(r, 4);
    pats = r_alloc(r, ru->n_scope, sizeof(*pats));
    for (uint32_t j = 0; r->fail == RP_OK && j < ru->n_scope; j++)
        pats[j] = r_str(r, true);
    ru->scope_pats = pats;
    ru->scope = r_scope(r, pats, ru->n_scope);
    ru->scope_text = r_str(r, false);
    if (r->fail == RP_OK && (ru->scope != NULL) != (ru->n_scope > 0))
        bad(r, "a relay scope is malformed");
    if (r->fail == RP_OK && ru->scope != NULL &&
        (ru->scope_text == NULL || !(ru->perms & RP_PERM_RELAY)))
        bad(r, "a relay scope is malformed");
}

static void
r_rule(pr *r, rp__rule *ru, uint32_t n_lists)
{
    const rp_policy *p = r->p;
    uint32_t pr_;

    ru->deny = r_bool(r);
    pr_ = r_u32(r);
    ru->perms = r_u32(r);
    ru->list = r_u32(r);
    ru->name = r_str(r, false);
    ru->item = r_idx(r, p->n_items, false);
    if (pr_ < RP_PRINCIPAL_ANONYMOUS || pr_ > RP_PRINCIPAL_CERTIFICATE)
        bad(r, "a rule has an unknown principal");
    ru->principal = (rp_principal)pr_;
    if (pr_ >= RP_PRINCIPAL_NETWORK && pr_ <= RP_PRINCIPAL_INTERFACE &&
        ru->list >= n_lists)
        bad(r, "a rule names a list out of range");
    r_rule_grants(r, ru, n_lists);
    if (pr_ == RP_PRINCIPAL_USER || pr_ == RP_PRINCIPAL_GROUP) {
        if (ru->name == NULL || (ru->name_len = strlen(ru->name)) == 0 ||
            ru->name_len > 255)
            bad(r, "a rule's name is malformed");
    } else if (ru->name != NULL) {
        ru->name_len = strnlen(ru->name, 256);
    }
}

static void
r_listeners(pr *r, uint32_t n_lists)
{
    rp_policy *p = r->p;

    p->n_listeners = r_count(r, 28);
    p->listeners = r_zalloc(r, &p->n_listeners, sizeof(*p->listeners));
    for (uint32_t i = 0; r->fail == RP_OK && i < p->n_listeners; i++) {
        rp__listener *l = &p->listeners[i];

        l->name = r_str(r, true);
        l->item = r_idx(r, p->n_items, false);
        l->remote_list = r_idx(r, n_lists, true);
        l->require_auth = r_bool(r);
        l->require_auth_item = r_idx(r, p->n_items, true);
        l->require_cert_ok = r_bool(r);
        l->n_binds = r_count(r, 28);
        l->binds = r_alloc(r, l->n_binds, sizeof(*l->binds));
        for (uint32_t k = 0; r->fail == RP_OK && k < l->n_binds; k++)
            r_bind(r, &l->binds[k]);
        l->n_rules = r_count(r, 24);
        l->rules = r_zalloc(r, &l->n_rules, sizeof(*l->rules));
        for (uint32_t k = 0; r->fail == RP_OK && k < l->n_rules; k++)
            r_rule(r, &l->rules[k], n_lists);
    }
    p->certs = r_map(r, 0);
    p->proxy_list = r_idx(r, n_lists, true);
    p->proxy_item = r_idx(r, p->n_items, true);
    if (r->fail == RP_OK &&
        (p->proxy_list == RP__NONE) != (p->proxy_item == RP__NONE))
        bad(r, "the trusted proxies are malformed");
}

static void
r_trie(pr *r, rp__rx_trie *t)
{
    bool has_dir = r_bool(r);
    uint32_t si = 0;

    if (has_dir) {
        si = r_u32(r);
        r->at -= r->fail == RP_OK ? 4 : 0;
    }
    t->w0 = 0;
    if (has_dir) {
        size_t len = si < r->n_sec ? r->sec[si].len : 0;
        const uint8_t *q = r_sect(r, len - len % 4, false);
        t->dir =
            q != NULL ? (uint32_t *)(uintptr_t)host32(r, q, len / 4) : NULL;
        t->wn = len / 4;
    }
    t->w0 = r_u64(r);
    if (r_u64(r) != t->wn && has_dir)
        bad(r, "a first stride has the wrong size");
    t->below = r_u32(r);
    t->above = r_u32(r);
    t->root = r_u32(r);
    t->bits = r_u32(r);
}

static void
r_radix(pr *r)
{
    rp_policy *p = r->p;
    rp__radix *x = r_alloc(r, 1, sizeof(*x));
    const uint8_t *q;
    int rc;

    if (x == NULL)
        return;
    memset(x, 0, sizeof(*x));
    x->alloc = *r->a;
    x->n_lists = r_u32(r);
    x->n_recs = r_u32(r);
    x->vw = r_u32(r);
    x->recs =
        (uint8_t *)(uintptr_t)r_sect(r, (size_t)x->n_recs * x->n_lists, false);
    x->heap_len = r_u64(r);
    if (x->heap_len >= RP__RX_PAYLOAD)
        bad(r, "the prefix heap is too large");
    x->heap = (uint8_t *)(uintptr_t)r_sect(r, x->heap_len + RP__RX_PAD, false);
    r_trie(r, &x->t4);
    r_trie(r, &x->t6);
    x->n_lo = r_u32(r);
    q = r_sect(r, (size_t)x->n_lo * 4, false);
    x->lo_root =
        q != NULL ? (uint32_t *)(uintptr_t)host32(r, q, x->n_lo) : NULL;
    x->h6.nb = r_u32(r);
    x->h6.n = r_u32(r);
    x->h6.probes = r_u32(r);
    x->h6.slots = r_u32(r);
    x->h6.rw = r_u32(r);
    x->h6.b = (uint8_t *)(uintptr_t)r_sect(r, (size_t)x->h6.nb * 64, false);
    if (r->fail != RP_OK)
        return;
    if ((rc = rp__radix_check(x, r->a)) != 0) {
        rc == -2 ? nomem(r) : bad(r, "the prefix table is damaged");
        return;
    }
    p->radix = x;
    p->n_lists = x->n_lists;
}

/* The prefix -> item records: sized here, their items checked where
 * they are read (prefix_items.c). */
static void
r_pitems(pr *r, rp__pitems *t)
{
    const uint8_t *q;

    t->n4 = r_u32(r);
    q = r_sect(r, (size_t)t->n4 * 12, false);
    t->v4 = q != NULL ? host32(r, q, (size_t)t->n4 * 3) : NULL;
    t->n6 = r_u32(r);
    q = r_sect(r, (size_t)t->n6 * 24, false);
    t->v6 = q != NULL ? host32(r, q, (size_t)t->n6 * 6) : NULL;
    if (r->fail != RP_OK)
        t->n4 = t->n6 = 0;
}

static void
r_lists(pr *r)
{
    rp_policy *p = r->p;

    uint32_t named = r_idx(r, p->n_lists + 1, false);

    /* The named lists, then NULL for the rest (literals' lists). */
    p->list_names = r_alloc(r, p->n_lists + 1, sizeof(*p->list_names));
    for (uint32_t i = 0; r->fail == RP_OK && i <= p->n_lists; i++)
        p->list_names[i] = i < named ? r_str(r, true) : NULL;
    p->n_deny_client = r_count(r, 8);
    p->deny_client_lists = r_alloc(r, p->n_deny_client, 4);
    p->deny_client_items = r_alloc(r, p->n_deny_client, 4);
    for (uint32_t i = 0; r->fail == RP_OK && i < p->n_deny_client; i++) {
        p->deny_client_lists[i] = r_idx(r, p->n_lists, false);
        p->deny_client_items[i] = r_idx(r, p->n_items, false);
    }
    p->deny_literal_list = r_idx(r, p->n_lists, true);
    r_pitems(r, &p->prefix_items);
}

static void
r_addrset(pr *r, rp__addrset *s)
{
    rp_policy *p = r->p;
    uint32_t n;

    s->exact = r_map(r, p->n_items);
    s->domains = r_domtab(r, p->n_items, false);
    if (s->domains == NULL && r->fail == RP_OK)
        bad(r, "an address set has no domain table");
    n = r_count(r, 8);
    s->regex = r_alloc(r, n + 1, sizeof(*s->regex));
    s->regex_item = r_alloc(r, n + 1, sizeof(*s->regex_item));
    for (uint32_t i = 0; r->fail == RP_OK && i < n; i++) {
        const char *pat = r_str(r, true);

        s->regex_item[i] = r_idx(r, p->n_items, false);
        if ((s->regex[i] = r_regex(r, pat)) != NULL)
            s->n_regex = i + 1; /* freed with the policy */
    }
    if (r->fail != RP_OK)
        return;
    s->n_entries = r_u32(r);
    s->regex_set = rp__regex_set_new(r->a, &p->arena, s->regex, s->n_regex);
    if (s->regex_set == NULL)
        nomem(r);
}

static void
r_settings(pr *r)
{
    rp_policy *p = r->p;
    const uint8_t *q;
    uint32_t n;

    p->groups = r_map(r, 0);
    p->self_ips = r_map(r, 0);
    p->self_domain = r_idx(r, p->n_domains, true);
    p->qualify_domain = r_str(r, false);
    /* Decisions copy it into a domain buffer. */
    if (p->qualify_domain != NULL &&
        strnlen(p->qualify_domain, RP__DOMAIN_MAX + 1) > RP__DOMAIN_MAX)
        bad(r, "the qualify domain is too long");
    r_addrset(r, &p->deny_sender);
    r_addrset(r, &p->deny_recipient);
    p->has_login_map = r_bool(r);
    p->login_owner = r_map(r, p->n_items);
    p->login_mapped = r_map(r, p->n_items);
    if (r_u32(r) != RP_REASON_COUNT)
        bad(r, "the file has another set of reasons");
    for (unsigned i = 0; r->fail == RP_OK && i < RP_REASON_COUNT; i++) {
        rp__reply *y = &p->replies[i];

        y->code = r_u32(r);
        r_bytes(r, y->enhanced, 16);
        y->enhanced[15] = '\0';
        y->text = r_str(r, true);
        y->item = r_idx(r, p->n_items, true);
    }
    p->soft_fail = r_bool(r);
    p->allow_open_relay = r_bool(r);
    p->source = r_str(r, false);
    p->source_split = r_u64(r);
    if (p->source_split > 0 &&
        (p->source == NULL ||
         p->source_split > r->pool_len - (size_t)(p->source - r->pool) - 1))
        bad(r, "the dump text is cut short");
    /* The findings, in place like the items (rp_policy_lint() checks
     * what it reads). */
    n = r_u32(r);
    q = r_sect(r, (size_t)n * sizeof(rp__lintrec), false);
    if (q != NULL && (p->findings = (const rp__lintrec *)(const void *)host32(
                          r, q, (size_t)n * 6)) != NULL)
        p->n_findings = n;
}

static void
r_range(pr *r, rp_exposure_range *g)
{
    uint32_t fam = r_u32(r);

    r_bytes(r, g->first, 16);
    r_bytes(r, g->last, 16);
    g->prefix_len = (int32_t)r_u32(r);
    r_bytes(r, g->text, sizeof(g->text));
    g->text[sizeof(g->text) - 1] = '\0';
    if (fam != 4 && fam != 6)
        bad(r, "an exposure range has no family");
    g->family = (int32_t)fam;
}

static rp__u128
r_u128(pr *r)
{
    rp__u128 v;

    v.hi = r_u64(r);
    v.lo = r_u64(r);
    return v;
}

static void
r_sums(pr *r, rp__exposure *x)
{
    x->n_listeners = r_u32(r);
    if (x->n_listeners != r->p->n_listeners)
        bad(r, "the exposure has another number of listeners");
    if (r->fail != RP_OK || (x->sum = rp__calloc(r->a, x->n_listeners + 1,
                                                 sizeof(*x->sum))) == NULL) {
        nomem(r);
        return;
    }
    for (uint32_t i = 0; r->fail == RP_OK && i < x->n_listeners; i++) {
        rp__xsum *s = &x->sum[i];

        s->pub4 = r_u64(r);
        s->pub6 = r_u128(r);
        s->sel_pub4 = r_u64(r);
        s->sel_pub6 = r_u128(r);
        s->first = r_u64(r);
        s->end = r_u64(r);
        s->widest4 = r_idx(r, (uint32_t)x->n, true);
        s->widest6 = r_idx(r, (uint32_t)x->n, true);
        if (s->first > s->end || s->end > x->n)
            bad(r, "an exposure summary is out of range");
    }
}

static void
r_classes(pr *r, rp__exposure *x)
{
    size_t at = r->at, total = 0, k = 0;

    x->n_cls = r_count(r, 4);
    /* Count the locals first, to make them one block. */
    for (uint32_t c = 0; r->fail == RP_OK && c < x->n_cls; c++) {
        uint32_t n = r_count(r, 144);

        total += n;
        take(r, (size_t)n * 144);
    }
    if (r->fail != RP_OK)
        return;
    r->at = at;
    x->cls = rp__calloc(r->a, x->n_cls + 1, sizeof(*x->cls));
    x->locals = rp__calloc(r->a, total + 1, sizeof(*x->locals));
    if (x->cls == NULL || x->locals == NULL) {
        nomem(r);
        return;
    }
    r_u32(r);
    for (uint32_t c = 0; r->fail == RP_OK && c < x->n_cls; c++) {
        x->cls[c].n = r_u32(r);
        x->cls[c].locals = x->locals + k;
        for (uint32_t i = 0; r->fail == RP_OK && i < x->cls[c].n; i++, k++) {
            r_range(r, &x->locals[k].range);
            x->locals[k].port = r_u32(r);
        }
    }
}

/* The exposure's entries (see w_xents): used in place on a
 * little-endian host.  Their indexes are checked where they are read
 * (rp_policy_exposure()), so that open does not read them all. */
static void
r_xents(pr *r, rp__exposure *x)
{
    uint32_t si = r_u32(r);
    size_t len;
    const uint8_t *q;

    r->at -= r->fail == RP_OK ? 4 : 0;
    len = si < r->n_sec ? r->sec[si].len : 0;
    q = r_sect(r, len - len % 48, false);
    if (q == NULL)
        return;
    x->n = x->cap = len / 48;
#if defined(RP__RX_LE) && RP__RX_LE
    if (((uintptr_t)q & 7) != 0) {
        bad(r, "the exposure entries are not aligned");
        return;
    }
    x->v = (rp__xent *)(uintptr_t)q;
    x->v_borrowed = true;
#else
    if ((x->v = rp__calloc(r->a, x->n + 1, sizeof(*x->v))) == NULL) {
        nomem(r);
        return;
    }
    for (size_t i = 0; i < x->n; i++) {
        const uint8_t *e = q + 48 * i;
        x->v[i].first.hi = rp__pf_ld64(e);
        x->v[i].first.lo = rp__pf_ld64(e + 8);
        x->v[i].last.hi = rp__pf_ld64(e + 16);
        x->v[i].last.lo = rp__pf_ld64(e + 24);
        x->v[i].listener = rp__pf_ld32(e + 32);
        x->v[i].cls = rp__pf_ld32(e + 36);
        x->v[i].item = rp__pf_ld32(e + 40);
        x->v[i].family = rp__pf_ld32(e + 44);
    }
#endif
}

static void
r_exposure(pr *r)
{
    rp_policy *p = r->p;
    rp__exposure *x;

    if (!r_bool(r) || r->fail != RP_OK)
        return;
    if ((x = rp__calloc(r->a, 1, sizeof(*x))) == NULL) {
        nomem(r);
        return;
    }
    x->alloc = *r->a;
    p->exposure = x;
    r_xents(r, x);
    r_sums(r, x);
    r_classes(r, x);
}

static void
r_policy(pr *r)
{
    rp_policy *p = r->p;

    if (r_u32(r) != 0) /* reserved; the opener's flags apply */
        bad(r, "a reserved field is not zero");
    p->opts.regex_match_limit = r_u32(r);
    p->opts.regex_depth_limit = r_u32(r);
    p->opts.regex_budget = r_u32(r);
    if (p->opts.regex_match_limit == 0 || p->opts.regex_depth_limit == 0 ||
        p->opts.regex_budget == 0)
        bad(r, "a regex limit is zero");
    r_items(r);
    /* The domain table's values are domain indexes, checked where a
     * decision reads one (rp__domain_kind_at()): its maps are the size of
     * the domains, too big to scan at open. */
    p->domtab = r_domtab(r, p->n_domains, true);
    if (p->domtab == NULL && r->fail == RP_OK)
        bad(r, "the domain table is missing");
    p->recipients = r_map(r, 0);
    p->has_addr_recipients = r_bool(r);
    p->has_interface_rules = r_bool(r);
    r_radix(r);
    r_lists(r);
    r_listeners(r, p->n_lists);
    r_settings(r);
    r_exposure(r);
    if (r->fail == RP_OK && r->at != r->st_len)
        bad(r, "the record stream has bytes left over");
}

/* ---- the header --------------------------------------------------------- */

/* Check the header and the section table of @p len bytes at @p b; fill
 * the sections of @p r.  @p verify also checks the checksum. */
static rp_status
read_header(pr *r, const uint8_t *b, size_t len, bool verify)
{
    uint32_t n;
    size_t table_end;

    if (len < RP__PF_HEADER || memcmp(b, RP__PF_MAGIC, 8) != 0)
        return bad(r, "not a compiled policy file (no magic)"), r->fail;
    if (rp__pf_ld32(b + RP__PFH_VERSION) != RP__PF_VERSION)
        return bad(r, "a compiled policy file of another format version"),
               r->fail;
    if (rp__pf_ld32(b + RP__PFH_BOM) != RP__PF_BOM)
        return bad(r, "the byte-order mark is wrong"), r->fail;
    if (rp__pf_ld32(b + RP__PFH_HSIZE) != RP__PF_HEADER ||
        rp__pf_ld32(b + RP__PFH_TABLE) != RP__PF_HEADER)
        return bad(r, "the header is malformed"), r->fail;
    if (rp__pf_ld64(b + RP__PFH_SIZE) != len)
        return bad(r, "the file size is not the one written (cut short?)"),
               r->fail;
    n = rp__pf_ld32(b + RP__PFH_NSECT);
    table_end = RP__PF_HEADER + (size_t)RP__PF_ENTRY * n;
    if (n < 2 || n > RP__PF_MAX_SECTIONS || table_end > len)
        return bad(r, "the section table is malformed"), r->fail;
    if (verify && rp__pf_checksum(b, len) != rp__pf_ld64(b + RP__PFH_SUM))
        return bad(r, "the checksum does not match (damaged file)"), r->fail;
    r->sec = rp__calloc(r->a, n, sizeof(*r->sec));
    if (r->sec == NULL)
        return nomem(r), r->fail;
    r->n_sec = n;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = b + RP__PF_HEADER + RP__PF_ENTRY * i;
        uint64_t off = rp__pf_ld64(e + 8), sl = rp__pf_ld64(e + 16);

        if (rp__pf_ld32(e) != i || rp__pf_ld32(e + 4) != 0 ||
            off % RP__PF_ALIGN != 0 || off < table_end || off > len ||
            sl > len - off)
            return bad(r, "a section lies outside the file"), r->fail;
        r->sec[i].p = b + off;
        r->sec[i].len = (size_t)sl;
    }
    r->pool = (const char *)r->sec[RP__PF_POOL].p;
    r->pool_len = r->sec[RP__PF_POOL].len;
    if (r->pool_len == 0 || r->pool[r->pool_len - 1] != '\0')
        return bad(r, "the string pool is not terminated"), r->fail;
    r->st = r->sec[RP__PF_STREAM].p;
    r->st_len = r->sec[RP__PF_STREAM].len;
    return RP_OK;
}

/* ---- opening ------------------------------------------------------------ */

static void
pfile_close(rp__pfile *f)
{
    rp__alloc a;

    if (f == NULL)
        return;
    a = f->alloc;
    if (f->mapped)
        munmap((void *)(uintptr_t)f->base, f->len);
    else
        rp__free(&a, (void *)(uintptr_t)f->base);
    rp__free(&a, f);
}

/* Build a policy from the image of @p f (taken over: closed on failure). */
static rp_status
from_image(rp__pfile *f,
           const rp_options *o,
           const char *name,
           rp_policy **out,
           rp_error *err)
{
    pr r;
    rp_policy *p = rp__calloc(&f->alloc, 1, sizeof(*p));

    memset(&r, 0, sizeof(r));
    if (p == NULL) {
        pfile_close(f);
        rp__error_set(err, RP_E_NOMEM, name, 0, 0, 0, NULL, 0, "out of memory");
        return RP_E_NOMEM;
    }
    p->alloc = f->alloc;
    p->opts = *o;
    p->opts.allocator = NULL;
    p->opts.base_dir = NULL;
    atomic_init(&p->refs, 1);
    p->file = f;
    p->file_close = pfile_close;
    r.p = p;
    r.a = &p->alloc;
    if (read_header(&r, f->base, f->len, (o->flags & RP_OPT_VERIFY) != 0) ==
        RP_OK)
        r_policy(&r);
    rp__free(r.a, r.sec);
    if (r.fail != RP_OK) {
        rp__error_set(err, r.fail, name, 0, 0, r.at, NULL, 0, "%s", r.why);
        rp_policy_free(p);
        return r.fail;
    }
    *out = p;
    return RP_OK;
}

static rp_status
open_fail(rp_error *err, const char *path, const char *what, int errnum)
{
    char msg[128];

    if (strerror_r(errnum, msg, sizeof(msg)) != 0)
        snprintf(msg, sizeof(msg), "error %d", errnum);
    rp__error_set(err, errnum == ENOMEM ? RP_E_NOMEM : RP_E_IO, path, 0, 0, 0,
                  NULL, 0, "%s: %s", what, msg);
    return errnum == ENOMEM ? RP_E_NOMEM : RP_E_IO;
}

/* Map the file open on @p fd (named @p path) read-only into a new
 * rp__pfile; the caller keeps @p fd. */
static rp_status
map_fd(const rp__alloc *a,
       int fd,
       const char *path,
       rp__pfile **out,
       rp_error *err)
{
    struct stat sb;
    rp__pfile *f;
    void *m;

    if (fstat(fd, &sb) != 0)
        return open_fail(err, path, "cannot read", errno);
    if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size < RP__PF_HEADER ||
        (uint64_t)sb.st_size > SIZE_MAX) {
        bool reg = S_ISREG(sb.st_mode);
        rp__error_set(err, reg ? RP_E_FORMAT : RP_E_IO, path, 0, 0, 0, NULL, 0,
                      "%s",
                      reg ? "too short for a compiled policy file"
                          : "not a regular file");
        return reg ? RP_E_FORMAT : RP_E_IO;
    }
    m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        return open_fail(err, path, "cannot map", errno);
    if ((f = rp__calloc(a, 1, sizeof(*f))) == NULL) {
        munmap(m, (size_t)sb.st_size);
        rp__error_set(err, RP_E_NOMEM, path, 0, 0, 0, NULL, 0, "out of memory");
        return RP_E_NOMEM;
    }
    f->alloc = *a;
    f->base = m;
    f->len = (size_t)sb.st_size;
    f->mapped = true;
    *out = f;
    return RP_OK;
}

/* Map @p path read-only into a new rp__pfile. */
static rp_status
map_file(const rp__alloc *a, const char *path, rp__pfile **out, rp_error *err)
{
    rp_status st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

    if (fd < 0)
        return open_fail(err, path, "cannot open", errno);
    st = map_fd(a, fd, path, out, err);
    close(fd);
    return st;
}

rp_status
rp__pfile_open_fd(int fd,
                  const char *path,
                  const rp_options *o,
                  rp_policy **out,
                  rp_error *err)
{
    rp__alloc a;
    rp__pfile *f = NULL;
    rp_status st;

    rp__alloc_init(&a, o->allocator);
    if ((st = map_fd(&a, fd, path, &f, err)) != RP_OK)
        return st;
    return from_image(f, o, path, out, err);
}

rp_status
rp_policy_open(const char *path,
               const rp_options *opts,
               rp_policy **out,
               rp_error *err)
{
    rp_options o;
    rp__alloc a;
    rp__pfile *f = NULL;
    rp_status st;

    if ((st = rp__options_enter(path, out, opts, &o, err)) != RP_OK)
        return st;
    rp__alloc_init(&a, o.allocator);
    if ((st = map_file(&a, path, &f, err)) != RP_OK)
        return st;
    return from_image(f, &o, path, out, err);
}

rp_status
rp_policy_load(const void *data,
               size_t len,
               const rp_options *opts,
               rp_policy **out,
               rp_error *err)
{
    rp_options o;
    rp__alloc a;
    rp__pfile *f;
    void *copy;
    rp_status st;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || (data == NULL && len != 0))
        return RP_E_ARG;
    if ((st = rp__options_check(opts, err)) != RP_OK)
        return st;
    rp__options_merge(&o, opts);
    rp__alloc_init(&a, o.allocator);
    f = rp__calloc(&a, 1, sizeof(*f));
    copy = rp__malloc(&a, len > 0 ? len : 1);
    if (f == NULL || copy == NULL) {
        rp__free(&a, f);
        rp__free(&a, copy);
        rp__error_set(err, RP_E_NOMEM, "<memory>", 0, 0, 0, NULL, 0,
                      "out of memory");
        return RP_E_NOMEM;
    }
    if (len > 0)
        memcpy(copy, data, len);
    f->alloc = a;
    f->base = copy;
    f->len = len;
    return from_image(f, &o, "<memory>", out, err);
}
