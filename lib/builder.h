/*
 * builder.h - the builder's record of a policy, shared by builder.c (which
 * fills it, one public call at a time) and compile.c (which freezes it).
 * Private to those two files.
 */
#ifndef RP_BUILDER_H
#define RP_BUILDER_H

#include "rp_internal.h"

/* Room for a normalised pattern: a regex may be up to max_regex_length
 * (default 1024) bytes; longer ones are refused as RP_E_LIMIT. */
#define RP__PATTERN_BUF 4100

/* A reference to client addresses: a literal prefix or a list name. */
typedef struct rp__bref {
    const char *name; /* network list name, or NULL for a literal */
    rp__ip ip;
    unsigned plen;
    uint32_t item;
} rp__bref;

typedef struct rp__bdomain {
    const char *pattern;
    rp_domain_kind kind;
    const char *target; /* normalised reroute target */
    uint32_t item;
} rp__bdomain;

typedef struct rp__brecip {
    const char *domain; /* normalised domain pattern */
    const char *key;    /* lowercased local part or address */
    bool is_addr;
    const char *file; /* where it was given, for errors */
    uint32_t line, column;
} rp__brecip;

typedef struct rp__bnet {
    const char *name;
    rp__ip ip;
    unsigned plen;
} rp__bnet;

typedef struct rp__bpair {
    const char *a; /* group / sender pattern / address pattern */
    const char *b; /* user (may be NULL) */
    uint32_t item;
} rp__bpair;

typedef struct rp__brule {
    bool deny;
    rp_principal principal;
    uint32_t perms;
    const char *name; /* user or group, lowercased */
    rp__bref ref;     /* network / interface */
    uint32_t item;
} rp__brule;

typedef struct rp__blistener {
    const char *name;
    uint32_t item;
    rp__bind *binds;
    size_t n_binds, cap_binds;
    rp__bref *remotes;
    size_t n_remotes, cap_remotes;
    bool require_auth;
    uint32_t require_auth_item;
    rp__brule *rules;
    size_t n_rules, cap_rules;
} rp__blistener;

/* A growable array of fixed-size records. */
#define RP__VEC(type, name)                                                    \
    type *name;                                                                \
    size_t n_##name, cap_##name

struct rp_builder {
    rp__alloc alloc;
    rp_options opts;
    void *arena;      /* strings and small records */
    rp_status failed; /* first failure of a call, RP_OK if none */
    rp_status last;   /* the latest failure, for the call that failed */
    bool item_limit;  /* the latest b_item() hit the item limit */

    const char *file;     /* current source location */
    const char *files[8]; /* recently used file names, interned */
    uint32_t line, column;

    RP__VEC(rp__item, items);
    RP__VEC(rp__bdomain, domains);
    RP__VEC(rp__brecip, recips);
    /* Declared recipient lists, key NULL: validation is on for their
     * domain even when no entry follows (relaypolicy(7) §4.1). */
    RP__VEC(rp__brecip, recip_lists);
    RP__VEC(rp__bnet, nets);
    RP__VEC(rp__bpair, groups);
    RP__VEC(rp__blistener, listeners);
    rp__strmap_builder *listener_names; /* name -> index, made on demand */
    RP__VEC(rp__bref, deny_clients);
    RP__VEC(rp__bpair, deny_senders);
    RP__VEC(rp__bpair, deny_recipients);
    RP__VEC(rp__bpair, logins);
    RP__VEC(rp__ip, selfs);
    size_t n_entries; /* every list entry, against max_entries */
    const char *self_domain;
    uint32_t self_domain_item;
    const char *qualify_domain;
    uint32_t qualify_item;
    rp__reply replies[RP_REASON_COUNT];
    bool soft_fail;
    uint32_t soft_fail_item;
    bool allow_open_relay;
    uint32_t open_relay_item;
};

/* builder.c: helpers shared by the builder's files. */
#define b_fail rp__b_fail
#define b_str rp__b_str
#define b_item rp__b_item
#define b_push rp__b_push
#define b_lower rp__b_lower
#define norm_domain rp__norm_domain
#define parse_ref rp__parse_ref
#define count_entry rp__count_entry
void b_fail(rp_builder *b,
            rp_error *err,
            rp_status st,
            const char *tok,
            const char *fmt,
            ...) __attribute__((format(printf, 5, 6)));
const char *b_str(rp_builder *b, const char *s);
const char *b_lower(rp_builder *b, const char *s);
uint32_t b_item(rp_builder *b, const char *text);
rp_status rp__b_nomem(rp_builder *b, rp_error *err);
void *b_push(rp_builder *b, void **vec, size_t *n, size_t *cap, size_t size);
#define B_PUSH(b, vec)                                                         \
    b_push((b), (void **)&(b)->vec, &(b)->n_##vec, &(b)->cap_##vec,            \
           sizeof(*(b)->vec))
bool norm_domain(
    rp_builder *b, rp_error *err, const char *pat, char *out, size_t size);
bool parse_ref(
    rp_builder *b, rp_error *err, const char *s, bool names_ok, rp__bref *out);
bool count_entry(rp_builder *b, rp_error *err);
const char *rp__perm_text(uint32_t perms, char *buf, size_t size);
const char *rp__principal_text(const rp__brule *r, char *buf, size_t size);
size_t rp__bref_text(const rp__bref *r, char *buf, size_t size);
bool rp__is_name(const char *s);

/* compile.c: the state of one freeze, shared with freeze.c. */
typedef struct rp__freeze {
    rp_builder *b;
    rp_policy *p;
    rp_error *err;
    rp_status st;
    rp__scratch *scratch;
} rp__freeze;
typedef rp__freeze freeze;
#define p_alloc rp__p_alloc
#define p_str rp__p_str
#define f_fail rp__f_fail
void *p_alloc(freeze *f, size_t size);
const char *p_str(freeze *f, const char *s);
void f_fail(freeze *f, rp_status st, uint32_t item, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* freeze.c */
bool rp__freeze_domains(freeze *f);
bool rp__freeze_recipients(freeze *f);
bool rp__freeze_lists(freeze *f, uint32_t **remote_ids, uint32_t **rule_ids);
bool rp__freeze_self(freeze *f);
bool rp__freeze_groups(freeze *f);
bool rp__freeze_addrsets(freeze *f);
bool rp__freeze_logins(freeze *f);
bool rp__check_safety(freeze *f);

/* dump.c and lint.c: computed once, at freeze time. */
rp_status rp__dump_build(const rp_builder *b, rp_policy *p);
rp_status rp__lint_build(const rp_builder *b, rp_policy *p);

#endif /* RP_BUILDER_H */
