/*
 * builder.c - the public builder API: a policy assembled call by call.
 *
 * Each call checks its own arguments at once, so errors carry the source
 * location set by rp_builder_set_source(), and records what it was given.
 * Cross-references (network names, reroute chains, duplicate domains) are
 * checked when the builder is frozen, in compile.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "alloc.h"
#include "builder.h"
#include "domains.h"
#include "idn.h"
#include "ipaddr.h"
#include "options.h"
#include "policy.h"
#include "relaypolicy.h"
#include "rp_regex.h"
#include "status.h"
#include "text.h"

#define B_FILE_DEFAULT "<builder>"

void
rp__b_fail(rp_builder *b,
           rp_error *err,
           rp_status st,
           const char *tok,
           const char *fmt,
           ...)
{
    char text[160];
    va_list ap;

    if (b->failed == RP_OK)
        b->failed = st;
    b->last = st;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    rp__error_set(err, st, b->file, b->line, b->column, 0, tok,
                  tok != NULL ? strlen(tok) : 0, "%s", text);
}

const char *
rp__b_str(rp_builder *b, const char *s)
{
    size_t n = strlen(s);
    char *p = rp__arena_alloc(&b->arena, &b->alloc, n + 1);

    if (p != NULL)
        memcpy(p, s, n + 1);
    return p;
}

/* Copy @p s, or reuse @p prev when it is the same text: list entries
 * come in runs that share their list or domain name. */
static const char *
b_intern(rp_builder *b, const char *prev, const char *s)
{
    if (prev != NULL && strcmp(prev, s) == 0)
        return prev;
    return rp__b_str(b, s);
}

/* The failure of a call whose rp__b_item(), rp__b_push() or copy failed: the
 * item limit when rp__b_item() hit it, else no memory. */
rp_status
rp__b_nomem(rp_builder *b, rp_error *err)
{
    if (b->item_limit) {
        b->item_limit = false;
        rp__b_fail(b, err, RP_E_LIMIT, NULL,
                   "more than %u statements (16 per max_rules)",
                   (unsigned)b->opts.max_rules * 16u);
        return RP_E_LIMIT;
    }
    rp__b_fail(b, err, RP_E_NOMEM, NULL, "out of memory");
    return RP_E_NOMEM;
}

/* Record an item at the current source location; RP__NONE on failure
 * (see rp__b_nomem()). */
uint32_t
rp__b_item(rp_builder *b, const char *text)
{
    rp__bitem *it;
    void *p;

    b->item_limit = b->n_items >= (size_t)b->opts.max_rules * 16u;
    if (b->item_limit)
        return RP__NONE;
    p = rp__grow(&b->alloc, b->items, &b->cap_items, b->n_items + 1,
                 sizeof(*b->items));
    if (p == NULL)
        return RP__NONE;
    b->items = p;
    it = &b->items[b->n_items];
    it->file = b->file;
    it->line = b->line;
    it->column = b->column;
    it->text = rp__b_str(b, text);
    if (it->text == NULL)
        return RP__NONE;
    return (uint32_t)b->n_items++;
}

/* Grow a vector by one zeroed element; NULL on no memory. */
void *
rp__b_push(rp_builder *b, void **vec, size_t *n, size_t *cap, size_t size)
{
    void *p = rp__grow(&b->alloc, *vec, cap, *n + 1, size);

    if (p == NULL)
        return NULL;
    *vec = p;
    p = (char *)p + *n * size;
    memset(p, 0, size);
    (*n)++;
    return p;
}

rp_status
rp_builder_new(const rp_options *opts, rp_builder **out)
{
    rp__alloc a;
    rp_builder *b;

    if (out == NULL)
        return RP_E_ARG;
    *out = NULL;
    if (rp__options_check(opts, NULL) != RP_OK)
        return RP_E_ARG;
    rp__alloc_init(&a, opts != NULL ? opts->allocator : NULL);
    b = rp__calloc(&a, 1, sizeof(*b));
    if (b == NULL)
        return RP_E_NOMEM;
    b->alloc = a;
    rp__options_merge(&b->opts, opts);
    b->file = B_FILE_DEFAULT;
    for (size_t i = 0; i < RP_REASON_COUNT; i++)
        b->replies[i].item = RP__NONE;
    *out = b;
    return RP_OK;
}

void
rp_builder_free(rp_builder *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n_listeners; i++) {
        rp__free(&b->alloc, b->listeners[i].binds);
        rp__free(&b->alloc, b->listeners[i].remotes);
        rp__free(&b->alloc, b->listeners[i].rules);
    }
    rp__free(&b->alloc, b->items);
    rp__free(&b->alloc, b->domains);
    rp__free(&b->alloc, b->recips);
    rp__free(&b->alloc, b->recip_lists);
    rp__free(&b->alloc, b->nets);
    rp__free(&b->alloc, b->groups);
    rp__free(&b->alloc, b->listeners);
    rp__strmap_builder_free(b->listener_names);
    rp__free(&b->alloc, b->deny_clients);
    rp__free(&b->alloc, b->deny_senders);
    rp__free(&b->alloc, b->deny_recipients);
    rp__free(&b->alloc, b->logins);
    rp__free(&b->alloc, b->selfs);
    rp__free(&b->alloc, b->certs);
    rp__free(&b->alloc, b->proxies);
    for (size_t i = 0; i < b->n_regexes; i++)
        rp__regex_free(b->regexes[i]);
    rp__free(&b->alloc, b->regexes);
    rp__strmap_builder_free(b->regex_index);
    rp__arena_free(&b->arena, &b->alloc);
    rp__free(&b->alloc, b);
}

rp_status
rp_builder_set_source(rp_builder *b,
                      const char *file,
                      uint32_t line,
                      uint32_t column)
{
    if (b == NULL)
        return RP_E_ARG;
    if (file != NULL && strcmp(file, b->file) != 0) {
        /* Policies switch between a main file and list files: reuse the
         * names already copied instead of copying each switch. */
        const char *f = NULL;
        size_t i, n = sizeof(b->files) / sizeof(b->files[0]);

        for (i = 0; i < n && b->files[i] != NULL && f == NULL; i++)
            if (strcmp(b->files[i], file) == 0)
                f = b->files[i];
        if (f == NULL && (f = rp__b_str(b, file)) == NULL)
            return RP_E_NOMEM;
        if (i < n && b->files[i] == NULL)
            b->files[i] = f;
        b->file = f;
    }
    b->line = line;
    b->column = column;
    return RP_OK;
}

/* ---- argument checks ---------------------------------------------------- */

/* A printable, non-empty word without blanks or control bytes. */
static bool
is_word(const char *s, size_t max)
{
    size_t n = 0;

    if (s == NULL || *s == '\0')
        return false;
    for (; *s != '\0'; s++, n++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || n >= max)
            return false;
    /* A trailing backslash would continue the line in a dump. */
    return s[-1] != '\\';
}

bool
rp__is_name(const char *s)
{
    return is_word(s, 255);
}

static bool
check_name(rp_builder *b, rp_error *err, const char *what, const char *s)
{
    if (rp__is_name(s))
        return true;
    rp__b_fail(b, err, RP_E_ARG, s,
               "%s must be a word of 1-255 printable "
               "characters, not ending in a backslash",
               what);
    return false;
}

/* Lowercase copy into the arena. */
const char *
rp__b_lower(rp_builder *b, const char *s)
{
    size_t n = strlen(s);
    char *p = rp__arena_alloc(&b->arena, &b->alloc, n + 1);

    if (p != NULL) {
        rp__lower(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* A name pattern holding UTF-8 ("домен.рф", ".домен.рф") in its A-label
 * form (relaypolicy(7) §2), through libidn2, into @p out. */
static bool
idn_pattern(
    rp_builder *b, rp_error *err, const char *pat, char *out, size_t size)
{
    size_t n = strlen(pat), lead = pat[0] == '.';
    const char *why = NULL;

    if (n > lead && pat[n - 1] == '.')
        n--;
    out[0] = '.';
    if (n <= lead || rp__idn_policy_domain(pat + lead, n - lead, out + lead,
                                           size - lead, &why) != 0) {
        rp__b_fail(b, err, RP_E_ARG, pat, "'%s' is not a valid domain name: %s",
                   pat, why != NULL ? why : "empty");
        return false;
    }
    return true;
}

static bool
has_utf8(const char *s)
{
    for (; s != NULL && *s != '\0'; s++)
        if ((unsigned char)*s >= 0x80)
            return true;
    return false;
}

/* Normalise a domain pattern into @p out: regexes are checked by
 * compiling them, names are lowercased with one trailing dot dropped and
 * U-labels turned into A-labels. */
/* Compile "/.../" @p pat (@p n bytes) once, as the policy will use it,
 * and keep it for the freeze; a pattern seen before is not compiled
 * again. */
static bool
keep_regex(rp_builder *b, rp_error *err, const char *pat, size_t n)
{
    char why[128];
    size_t off = 0;
    uint32_t at;
    rp__regex *re, **slot;
    rp_status st;

    if (b->regex_index == NULL &&
        (b->regex_index = rp__strmap_builder_new(&b->alloc)) == NULL) {
        rp__b_nomem(b, err);
        return false;
    }
    if (rp__strmap_builder_get(b->regex_index, pat, n, &at))
        return true;
    st = rp__regex_compile(&b->alloc, pat + 1, n - 2, b->opts.flags,
                           b->opts.regex_match_limit, b->opts.regex_depth_limit,
                           &re, why, sizeof(why), &off);
    if (st != RP_OK) {
        rp__b_fail(b, err, st, pat, "bad regex at offset %zu: %s", off, why);
        return false;
    }
    slot = B_PUSH(b, regexes);
    if (slot == NULL || b->n_regexes > UINT32_MAX ||
        rp__strmap_add(b->regex_index, pat, n, (uint32_t)(b->n_regexes - 1)) <
            0) {
        if (slot != NULL)
            *slot = NULL;
        rp__regex_free(re);
        rp__b_nomem(b, err);
        return false;
    }
    *slot = re;
    return true;
}

rp__regex *
rp__b_regex_take(void *ctx, const char *pattern, size_t len)
{
    rp_builder *b = ctx;
    uint32_t at;
    rp__regex *re;

    if (b->regex_index == NULL ||
        !rp__strmap_builder_get(b->regex_index, pattern, len, &at) ||
        at >= b->n_regexes)
        return NULL;
    re = b->regexes[at];
    b->regexes[at] = NULL;
    return re;
}

bool
rp__norm_domain(
    rp_builder *b, rp_error *err, const char *pat, char *out, size_t size)
{
    size_t n = pat != NULL ? strlen(pat) : 0;
    char alabel[RP__DOMAIN_MAX + 3];

    if (n > 0 && pat[0] != '/' && has_utf8(pat)) {
        if (!idn_pattern(b, err, pat, alabel, sizeof(alabel)))
            return false;
        pat = alabel;
        n = strlen(pat);
    }

    if (n > 2 && pat[0] == '/' && n - 2 > b->opts.max_regex_length) {
        rp__b_fail(b, err, RP_E_LIMIT, pat, "regex longer than %u bytes",
                   (unsigned)b->opts.max_regex_length);
        return false;
    }
    if (n == 0 || n >= size) {
        rp__b_fail(b, err, n == 0 ? RP_E_ARG : RP_E_LIMIT, pat,
                   "domain pattern %s", n == 0 ? "is empty" : "is too long");
        return false;
    }
    if (pat[0] == '/') {
        if (n < 3 || pat[n - 1] != '/') {
            rp__b_fail(b, err, RP_E_REGEX, pat,
                       "a regex pattern is written "
                       "/.../ and must not be empty");
            return false;
        }
        if (!keep_regex(b, err, pat, n))
            return false;
        memcpy(out, pat, n + 1);
        return true;
    }
    rp__lower(out, pat, n);
    if (n > 1 && out[n - 1] == '.')
        n--;
    out[n] = '\0';
    {
        const char *s = out[0] == '.' ? out + 1 : out;
        rp__addr probe;
        char tmp[RP__DOMAIN_MAX + 8];
        int len = snprintf(tmp, sizeof(tmp), "x@%s", s);

        if (*s == '\0' || len < 0 || (size_t)len >= sizeof(tmp) ||
            rp__addr_parse(tmp, (size_t)len, false, &probe) != RP__ADDR_OK ||
            probe.dom_type != RP__DOM_NAME ||
            probe.domain_len != (size_t)len - 2) {
            /* The last test refuses a second trailing dot ("a.."), which
             * the address parser would have dropped as the first. */
            rp__b_fail(b, err, RP_E_ARG, pat,
                       "'%s' is not a valid domain "
                       "pattern (name, .name or /regex/)",
                       pat);
            return false;
        }
    }
    return true;
}

/* ---- domains ------------------------------------------------------------ */

rp_status
rp_builder_domain(rp_builder *b,
                  const char *pattern,
                  rp_domain_kind kind,
                  const char *target,
                  rp_error *err)
{
    char pat[RP__PATTERN_BUF], tgt[RP__DOMAIN_MAX + 2];
    char text[RP__PATTERN_BUF + RP__DOMAIN_MAX + 32];
    rp__bdomain *d;
    uint32_t item;

    if (b == NULL)
        return RP_E_ARG;
    if (kind < RP_DOMAIN_LOCAL || kind > RP_DOMAIN_REROUTE) {
        rp__b_fail(b, err, RP_E_ARG, NULL, "unknown domain kind %d", (int)kind);
        return RP_E_ARG;
    }
    if (!rp__norm_domain(b, err, pattern, pat, sizeof(pat)))
        return b->last;
    if (kind == RP_DOMAIN_REROUTE) {
        if (!rp__norm_domain(b, err, target, tgt, sizeof(tgt)))
            return b->last;
        if (tgt[0] == '/' || tgt[0] == '.') {
            rp__b_fail(b, err, RP_E_ARG, target,
                       "a reroute target must be "
                       "one domain name");
            return RP_E_ARG;
        }
    } else if (target != NULL) {
        rp__b_fail(b, err, RP_E_ARG, target,
                   "only reroute domains take a "
                   "target");
        return RP_E_ARG;
    }
    snprintf(text, sizeof(text), "domain %s %s%s%s", pat,
             kind == RP_DOMAIN_LOCAL   ? "local"
             : kind == RP_DOMAIN_RELAY ? "relay"
                                       : "reroute",
             kind == RP_DOMAIN_REROUTE ? " " : "",
             kind == RP_DOMAIN_REROUTE ? tgt : "");
    item = rp__b_item(b, text);
    d = item != RP__NONE ? B_PUSH(b, domains) : NULL;
    if (d == NULL || (d->pattern = rp__b_str(b, pat)) == NULL ||
        (kind == RP_DOMAIN_REROUTE &&
         (d->target = rp__b_str(b, tgt)) == NULL)) {
        return rp__b_nomem(b, err);
    }
    d->kind = kind;
    d->item = item;
    return RP_OK;
}

bool
rp__count_entry(rp_builder *b, rp_error *err)
{
    if (b->n_entries >= b->opts.max_entries) {
        rp__b_fail(b, err, RP_E_LIMIT, NULL, "more than %u list entries",
                   (unsigned)b->opts.max_entries);
        return false;
    }
    b->n_entries++;
    return true;
}

rp_status
rp_builder_recipient(rp_builder *b,
                     const char *domain,
                     const char *recipient,
                     rp_error *err)
{
    char pat[RP__DOMAIN_MAX + 2], key[RP__PATH_MAX + 8];
    rp__addr a;
    rp__brecip *r;
    size_t n = recipient != NULL ? strlen(recipient) : 0;

    if (b == NULL)
        return RP_E_ARG;
    if (!rp__norm_domain(b, err, domain, pat, sizeof(pat)) ||
        !rp__count_entry(b, err))
        return b->last;
    if (n == 0 || rp__addr_parse(recipient, n, false, &a) != RP__ADDR_OK) {
        rp__b_fail(b, err, RP_E_ARG, recipient,
                   "'%s' is not a valid recipient "
                   "(a local part or an address)",
                   recipient ? recipient : "");
        return RP_E_ARG;
    }
    rp__addr_format(&a, true, key, sizeof(key));
    r = B_PUSH(b, recips);
    if (r == NULL ||
        (r->domain = b_intern(b, b->n_recips > 1 ? r[-1].domain : NULL, pat)) ==
            NULL ||
        (r->key = rp__b_str(b, key)) == NULL) {
        return rp__b_nomem(b, err);
    }
    r->is_addr = a.dom_type != RP__DOM_NONE;
    r->file = b->file;
    r->line = b->line;
    r->column = b->column;
    return RP_OK;
}

rp_status
rp_builder_recipient_list(rp_builder *b, const char *domain, rp_error *err)
{
    char pat[RP__DOMAIN_MAX + 2];
    rp__brecip *r;

    if (b == NULL)
        return RP_E_ARG;
    if (!rp__norm_domain(b, err, domain, pat, sizeof(pat)))
        return b->failed;
    r = B_PUSH(b, recip_lists);
    if (r == NULL || (r->domain = rp__b_str(b, pat)) == NULL) {
        rp__b_fail(b, err, RP_E_NOMEM, NULL, "out of memory");
        return RP_E_NOMEM;
    }
    r->key = NULL;
    r->is_addr = false;
    r->file = b->file;
    r->line = b->line;
    r->column = b->column;
    return RP_OK;
}

/* ---- networks and groups ------------------------------------------------ */

/* Parse a CIDR, or accept a list name when @p names_ok. */
bool
rp__parse_ref(
    rp_builder *b, rp_error *err, const char *s, bool names_ok, rp__bref *out)
{
    const char *why = "empty";
    size_t n = s != NULL ? strlen(s) : 0;

    memset(out, 0, sizeof(*out));
    if (n > 0 && rp__cidr_parse(s, n, &out->ip, &out->plen, &why) == 0)
        return true;
    if (names_ok && n > 0 && strchr(s, '/') == NULL && strchr(s, ':') == NULL &&
        !(s[0] >= '0' && s[0] <= '9') && rp__is_name(s)) {
        out->name = rp__b_str(b, s);
        if (out->name != NULL)
            return true;
        rp__b_nomem(b, err);
        return false;
    }
    rp__b_fail(b, err, RP_E_ARG, s, "'%s' is not a valid network%s: %s",
               s != NULL ? s : "", names_ok ? " or list name" : "", why);
    return false;
}

size_t
rp__bref_text(const rp__bref *r, char *buf, size_t size)
{
    size_t n;

    if (r->name != NULL)
        return (size_t)snprintf(buf, size, "%s", r->name);
    n = rp__ip_format(&r->ip, buf, size);
    if (n + 5 < size) {
        unsigned plen = r->ip.family == 4 ? r->plen - 96 : r->plen;
        n += (size_t)snprintf(buf + n, size - n, "/%u", plen);
    }
    return n;
}

rp_status
rp_builder_network(rp_builder *b,
                   const char *name,
                   const char *cidr,
                   rp_error *err)
{
    rp__bref ref;
    rp__bnet *net;

    if (b == NULL)
        return RP_E_ARG;
    if (!check_name(b, err, "a network list name", name) ||
        !rp__parse_ref(b, err, cidr, false, &ref) || !rp__count_entry(b, err))
        return b->last;
    net = B_PUSH(b, nets);
    if (net == NULL ||
        (net->name = b_intern(b, b->n_nets > 1 ? net[-1].name : NULL, name)) ==
            NULL) {
        return rp__b_nomem(b, err);
    }
    net->ip = ref.ip;
    net->plen = ref.plen;
    return RP_OK;
}

rp_status
rp_builder_group(rp_builder *b,
                 const char *group,
                 const char *user,
                 rp_error *err)
{
    rp__bpair *g;

    if (b == NULL)
        return RP_E_ARG;
    if (!check_name(b, err, "a group name", group) ||
        !check_name(b, err, "a user name", user) || !rp__count_entry(b, err))
        return b->last;
    g = B_PUSH(b, groups);
    if (g == NULL || (g->a = rp__b_lower(b, group)) == NULL ||
        (g->b = rp__b_lower(b, user)) == NULL) {
        return rp__b_nomem(b, err);
    }
    g->item = RP__NONE;
    return RP_OK;
}
