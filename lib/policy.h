/*
 * policy.h - the compiled policy: builder.c and freeze.c build it,
 * compile.c freezes it; decide.c, dump.c, lint.c and exposure.c read it.
 * Immutable once rp_builder_build() returns.
 */
#ifndef RP_POLICY_H
#define RP_POLICY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"
#include "domains.h"
#include "ipaddr.h"
#include "radix.h"
#include "relaypolicy.h"
#include "rp_regex.h"

#define RP__NONE UINT32_MAX

/* Strings of the per-statement records are uint32 offsets into the
 * policy's string pool (p->pool, p->pool_len bytes, ending in NUL, "" at
 * offset 0), so that a compiled policy file holds these records as they
 * are and open reads them in place (pfile.h).  The records are all
 * uint32, little-endian in the file.  Nothing checks them at open: the
 * accessors below check each offset and index where it is read, so a
 * damaged file gives "" or no record, never a read outside the file. */

/* A source item: one statement or builder call, for explanations. */
typedef struct rp__item {
    uint32_t file; /* pool offset */
    uint32_t line;
    uint32_t column;
    uint32_t text; /* pool offset: normalised statement text */
} rp__item;

/* rp__domain.flags */
#define RP__DOMF_TARGET_LOCAL 1u /* reroute: the final target is local */
#define RP__DOMF_RECIPIENTS 2u   /* local: recipient validation is on */

typedef struct rp__domain {
    uint32_t pattern; /* pool offset: "example.com", ".x.org", "/re/" */
    uint32_t kind;    /* rp_domain_kind; see rp__domain_kind() */
    uint32_t item;
    uint32_t target;       /* reroute: pool offset of the final target,
                              or RP__NONE */
    uint32_t target_dom;   /* reroute: domain index of the final target */
    uint32_t flags;        /* RP__DOMF_* */
    uint32_t n_recipients; /* local: entries in its list (may be 0) */
    uint32_t reserved;     /* 0 */
} rp__domain;

typedef enum rp__bind_any {
    RP__BIND_EXACT = 0, /* one address */
    RP__BIND_ANY4 = 4,  /* 0.0.0.0 */
    RP__BIND_ANY6 = 6,  /* [::] */
    RP__BIND_ANY = 46   /* '*' */
} rp__bind_any;

typedef struct rp__bind {
    rp__ip ip;
    rp__bind_any any;
    uint32_t port; /* 0: any port */
} rp__bind;

typedef struct rp__rule {
    bool deny;
    rp_principal principal;
    uint32_t perms;
    uint32_t list;    /* network / interface: the radix list id;
                         certificate: the certificate set id */
    const char *name; /* user or group, lowercased */
    size_t name_len;
    uint32_t item;
    uint32_t from_list; /* `from network`: radix list id, or RP__NONE */
    bool from_except;   /* `from network all-except` */
    /* `relay to LIST`: relay (only) towards these domains; NULL: none. */
    rp__domtab *scope;
    const char *scope_text;        /* " to P1 P2", for explanations */
    const char *const *scope_pats; /* the patterns, for the exposure */
    uint32_t n_scope;
} rp__rule;

typedef struct rp__listener {
    const char *name;
    uint32_t item;
    rp__bind *binds;
    uint32_t n_binds;
    uint32_t remote_list; /* radix list id, or RP__NONE: every client */
    bool require_auth;
    bool require_cert_ok; /* `require auth or certificate` */
    uint32_t require_auth_item;
    rp__rule *rules;
    uint32_t n_rules;
} rp__listener;

/* An address pattern set: exact addresses, domains, regexes. */
typedef struct rp__addrset {
    rp__strmap *exact;   /* lowercased canonical address -> item */
    rp__domtab *domains; /* "@d" / ".d" forms -> item */
    rp__regex **regex;
    uint32_t *regex_item;
    uint32_t n_regex;
    rp__regex_set *regex_set; /* over regex[], in the policy arena */
    uint32_t n_entries;       /* 0: nothing to match, skip the lookups */
} rp__addrset;

typedef struct rp__reply {
    uint32_t code;
    char enhanced[16];
    const char *text;
    uint32_t item; /* RP__NONE: the default */
} rp__reply;

/* A lint finding kept in the policy (lint.c computes them at freeze):
 * like rp__item, uint32 only, its strings pool offsets, read in place
 * from a compiled file. */
typedef struct rp__lintrec {
    uint32_t severity; /* rp_severity */
    uint32_t code;     /* pool offset */
    uint32_t file;     /* pool offset, or RP__NONE */
    uint32_t line;
    uint32_t message; /* pool offset */
    uint32_t advice;  /* pool offset */
} rp__lintrec;

/* A network list entry, kept compact for the dump (dump.c renders the
 * lines, sorted, only when asked). */
typedef struct rp__dnet {
    uint8_t key[16];
    uint32_t list; /* the named list's id (list_names) */
    uint8_t plen;  /* in IPv6 terms */
    uint8_t family;
} rp__dnet;

/* Sorted (prefix, length) -> item records (prefix_items.c): n4 IPv4 ones
 * of 3 uint32, n6 others of 6; in place when opened from a file. */
typedef struct rp__pitems {
    const uint32_t *v4;
    const uint32_t *v6;
    uint32_t n4;
    uint32_t n6;
} rp__pitems;

/* The relay exposure analysis (exposure.h). */
typedef struct rp__exposure rp__exposure;

struct rp_policy {
    rp__alloc alloc;
    atomic_uint refs;
    rp_options opts;
    void *arena; /* every block below lives in the arena */

    /* The string pool of items and domains (see rp__item): in the
     * compiled file when opened from one, else owned (pool_owned). */
    const char *pool;
    size_t pool_len;
    char *pool_owned;
    size_t pool_cap;

    const rp__item *items; /* in place in the file when opened from one */
    uint32_t n_items;

    const rp__domain *domains; /* likewise */
    uint32_t n_domains;
    rp__domtab *domtab;       /* pattern -> domain index */
    rp__strmap *recipients;   /* "L<dom>:<local>" / "A:<address>" -> 1 */
    bool has_addr_recipients; /* any "A:" keys at all */
    bool has_interface_rules; /* any rule looks at the local address */

    rp__listener *listeners;
    uint32_t n_listeners;

    rp__radix *radix;
    uint32_t n_lists;
    const char **list_names;     /* per list id, for dump and lint */
    uint32_t *deny_client_lists; /* radix list ids to check (step 2) */
    uint32_t *deny_client_items; /* the statement named for each */
    uint32_t n_deny_client;
    uint32_t deny_literal_list; /* the literal entries' list, or RP__NONE */
    /* Which item each entry of the literal `deny client` list and of the
     * `trusted-proxy` list came from (prefix_items.h); empty when each
     * holds at most one entry. */
    rp__pitems prefix_items;

    /* Certificate sets: 4-byte set id (little-endian) and the 32-byte
     * fingerprint -> 1. */
    rp__strmap *certs;
    uint32_t proxy_list; /* trusted-proxy radix list id, or RP__NONE */
    uint32_t proxy_item; /* its first statement */

    rp__strmap *groups;   /* "<group>\n<user>" -> 1 */
    rp__strmap *self_ips; /* 16-byte keys of our own addresses */
    uint32_t self_domain; /* domain index, or RP__NONE */
    const char *qualify_domain;

    rp__addrset deny_sender;
    rp__addrset deny_recipient;

    bool has_login_map;
    rp__strmap *login_owner;  /* "<pattern>\n<user>" -> item */
    rp__strmap *login_mapped; /* "<address>" or "@<domain>" -> item */

    rp__reply replies[RP_REASON_COUNT];
    bool soft_fail;
    bool allow_open_relay;

    const char *source;  /* the normalised dump text (dump.c) ... */
    size_t source_split; /* ... where the recipients and networks, made
                            on demand, go */
    /* The network entries for the dump; none in a policy opened from a
     * file, whose source holds them as text. */
    rp__dnet *dump_nets;
    size_t n_dump_nets;
    /* Likewise the `deny client` entries (list: the named list, or
     * RP__NONE for a literal), whose lines go at deny_split. */
    rp__dnet *dump_deny;
    size_t n_dump_deny;
    size_t deny_split;
    const rp__lintrec *findings; /* lint findings (lint.c) */
    uint32_t n_findings;
    rp__exposure *exposure; /* unauthenticated relay exposure */
    /* Opened from a compiled policy file (pfile.h): the big tables are
     * read in place from it, the rest lives in the arena.  rp_policy_free()
     * releases it through file_close, set by the file's reader. */
    struct rp__pfile *file;
    void (*file_close)(struct rp__pfile *file);
};

/* ---- accessors: each offset and index checked where it is read ---------- */

/* The pool string at @p off: "" when it lies outside the pool. */
static inline const char *
rp__pstr(const rp_policy *p, uint32_t off)
{
    return off < p->pool_len ? p->pool + off : "";
}

/* The same, NULL for RP__NONE (or outside the pool). */
static inline const char *
rp__pstr_opt(const rp_policy *p, uint32_t off)
{
    return off < p->pool_len ? p->pool + off : NULL;
}

/* Item @p i, or NULL when out of range. */
static inline const rp__item *
rp__item_at(const rp_policy *p, uint32_t i)
{
    return i < p->n_items ? &p->items[i] : NULL;
}

static inline const char *
rp__item_text(const rp_policy *p, uint32_t i)
{
    return i < p->n_items ? rp__pstr(p, p->items[i].text) : "";
}

static inline const char *
rp__item_file(const rp_policy *p, uint32_t i)
{
    return i < p->n_items ? rp__pstr(p, p->items[i].file) : "";
}

static inline uint32_t
rp__item_line(const rp_policy *p, uint32_t i)
{
    return i < p->n_items ? p->items[i].line : 0;
}

static inline uint32_t
rp__item_column(const rp_policy *p, uint32_t i)
{
    return i < p->n_items ? p->items[i].column : 0;
}

/* The item of domain @p i, or RP__NONE. */
static inline uint32_t
rp__domain_item(const rp_policy *p, uint32_t i)
{
    return i < p->n_domains ? p->domains[i].item : RP__NONE;
}

static inline const char *
rp__domain_pattern(const rp_policy *p, const rp__domain *d)
{
    return rp__pstr(p, d->pattern);
}

/* The reroute's final target, NULL when it has none. */
static inline const char *
rp__domain_target(const rp_policy *p, const rp__domain *d)
{
    return rp__pstr_opt(p, d->target);
}

/* The local domain a reroute ends in, or RP__NONE. */
static inline uint32_t
rp__domain_target_dom(const rp_policy *p, const rp__domain *d)
{
    return (d->flags & RP__DOMF_TARGET_LOCAL) && d->target_dom < p->n_domains
               ? d->target_dom
               : RP__NONE;
}

static inline bool
rp__domain_target_local(const rp__domain *d)
{
    return (d->flags & RP__DOMF_TARGET_LOCAL) != 0;
}

static inline bool
rp__domain_has_recipients(const rp__domain *d)
{
    return (d->flags & RP__DOMF_RECIPIENTS) != 0;
}

/* The domain's kind as decisions rely on it, 0 when the record is not
 * one a freeze makes (a damaged file): a reroute has a target, and a
 * local target names a domain. */
static inline uint32_t
rp__domain_kind(const rp_policy *p, const rp__domain *d)
{
    switch (d->kind) {
    case RP_DOMAIN_LOCAL:
    case RP_DOMAIN_RELAY:
        return d->kind;
    case RP_DOMAIN_REROUTE:
        if (d->target >= p->pool_len || ((d->flags & RP__DOMF_TARGET_LOCAL) &&
                                         d->target_dom >= p->n_domains))
            return 0;
        return d->kind;
    default:
        return 0;
    }
}

/* The same for domain index @p i: 0 when it is out of range. */
static inline uint32_t
rp__domain_kind_at(const rp_policy *p, uint32_t i)
{
    return i < p->n_domains ? rp__domain_kind(p, &p->domains[i]) : 0;
}

/* policy.c: append @p s to the owned pool of a policy being frozen;
 * its offset, or RP__NONE when out of memory or the pool is full. */
uint32_t rp__pool_add(rp_policy *p, const char *s);

#endif /* RP_POLICY_H */
