/*
 * builder.h - the builder's record of a policy: builder.c, listener.c and
 * settings.c fill it, one public call at a time; compile.c and freeze.c
 * freeze it.  Private to lib/.
 */
#ifndef RP_BUILDER_H
#define RP_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "domains.h"
#include "ipaddr.h"
#include "policy.h"
#include "relaypolicy.h"

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

/* A source item as the builder records it (the policy's rp__item holds
 * pool offsets instead). */
typedef struct rp__bitem {
    const char *file;
    uint32_t line;
    uint32_t column;
    const char *text; /* normalised statement text */
} rp__bitem;

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

/* A certificate list entry: `certificate NAME FINGERPRINT...`. */
typedef struct rp__bcert {
    const char *name;
    uint8_t fp[32];
} rp__bcert;

typedef struct rp__brule {
    bool deny;
    rp_principal principal;
    uint32_t perms;
    const char *name; /* user or group, lowercased; certificate list name */
    rp__bref ref;     /* network / interface */
    uint32_t item;
    /* user, group, authenticated `from network [all-except] NETWORK`. */
    bool has_from;
    bool from_except;
    rp__bref from;
    /* certificate: one fingerprint given in the rule (name NULL). */
    uint8_t cert_fp[32];
    /* `relay to LIST`: normalised domain patterns; relay only there. */
    const char **scope;
    size_t n_scope;
} rp__brule;

typedef struct rp__blistener {
    const char *name;
    uint32_t item;
    rp__bind *binds;
    size_t n_binds, cap_binds;
    rp__bref *remotes;
    size_t n_remotes, cap_remotes;
    bool require_auth;
    bool require_cert_ok; /* `require auth or certificate` */
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

    RP__VEC(rp__bitem, items);
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
    RP__VEC(rp__bcert, certs);
    RP__VEC(rp__bref, proxies); /* trusted-proxy entries */
    size_t n_entries;           /* every list entry, against max_entries */
    /* Regexes compiled while their patterns were checked, by "/.../"
     * text; the freeze takes them so that each is compiled once. */
    rp__strmap_builder *regex_index;
    RP__VEC(rp__regex *, regexes);
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
void rp__b_fail(rp_builder *b,
                rp_error *err,
                rp_status st,
                const char *tok,
                const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));
const char *rp__b_str(rp_builder *b, const char *s);
const char *rp__b_lower(rp_builder *b, const char *s);
uint32_t rp__b_item(rp_builder *b, const char *text);
rp_status rp__b_nomem(rp_builder *b, rp_error *err);
void *
rp__b_push(rp_builder *b, void **vec, size_t *n, size_t *cap, size_t size);
#define B_PUSH(b, vec)                                                         \
    rp__b_push((b), (void **)&(b)->vec, &(b)->n_##vec, &(b)->cap_##vec,        \
               sizeof(*(b)->vec))
/* Add the client reference @p cidr_or_list of a top-level statement
 * ("deny client X", "trusted-proxy X") to a vector of rp__bref, with the
 * statement's text as its item. */
rp_status rp__b_add_client_ref(rp_builder *b,
                               rp_error *err,
                               const char *keyword,
                               const char *cidr_or_list,
                               void **vec,
                               size_t *n,
                               size_t *cap);
#define B_ADD_CLIENT_REF(b, err, keyword, s, vec)                              \
    rp__b_add_client_ref((b), (err), (keyword), (s), (void **)&(b)->vec,       \
                         &(b)->n_##vec, &(b)->cap_##vec)
bool rp__norm_domain(
    rp_builder *b, rp_error *err, const char *pat, char *out, size_t size);
/* The regex compiled for "/.../" @p pattern, now the caller's, or NULL
 * (not compiled here, or taken already).  Fits rp__regex_take_fn. */
rp__regex *rp__b_regex_take(void *b, const char *pattern, size_t len);
bool rp__parse_ref(
    rp_builder *b, rp_error *err, const char *s, bool names_ok, rp__bref *out);
bool rp__count_entry(rp_builder *b, rp_error *err);
const char *rp__perm_text(uint32_t perms, char *buf, size_t size);
const char *rp__principal_text(const rp__brule *r, char *buf, size_t size);
const char *rp__rule_perm_text(const rp__brule *r, char *buf, size_t size);
/* " to P1 P2 ..." for a scoped rule, else ""; cut to @p size. */
const char *rp__scope_text(const rp__brule *r, char *buf, size_t size);
size_t rp__bref_text(const rp__bref *r, char *buf, size_t size);
bool rp__is_name(const char *s);

#endif /* RP_BUILDER_H */
