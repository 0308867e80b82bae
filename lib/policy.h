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

/* A source item: one statement or builder call, for explanations. */
typedef struct rp__item {
    const char *file;
    uint32_t line;
    uint32_t column;
    const char *text; /* normalised statement text */
} rp__item;

typedef struct rp__domain {
    const char *pattern; /* normalised: "example.com", ".x.org", "/re/" */
    rp_domain_kind kind;
    uint32_t item;
    const char *target;    /* reroute: final target after the chain */
    uint32_t target_dom;   /* reroute: domain index of the final target */
    bool target_local;     /* reroute: the final target is a local domain */
    bool has_recipients;   /* local: recipient validation is on */
    uint32_t n_recipients; /* local: entries in its list (may be 0) */
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

/* A lint finding kept in the policy (lint.c computes them at freeze). */
typedef struct rp__lintrec {
    rp_severity severity;
    const char *code; /* static */
    const char *file; /* arena */
    uint32_t line;
    const char *message; /* arena */
    const char *advice;  /* static or arena */
} rp__lintrec;

/* A network list entry, kept compact for the dump (dump.c renders the
 * lines, sorted, only when asked). */
typedef struct rp__dnet {
    uint8_t key[16];
    uint32_t list; /* the named list's id (list_names) */
    uint8_t plen;  /* in IPv6 terms */
    uint8_t family;
} rp__dnet;

/* The relay exposure analysis (exposure.h). */
typedef struct rp__exposure rp__exposure;

struct rp_policy {
    rp__alloc alloc;
    atomic_uint refs;
    rp_options opts;
    void *arena; /* every block below lives in the arena */

    rp__item *items;
    uint32_t n_items;

    rp__domain *domains;
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
    rp__lintrec *findings; /* lint findings (lint.c) */
    uint32_t n_findings;
    rp__exposure *exposure; /* unauthenticated relay exposure */
    /* Opened from a compiled policy file (pfile.h): the big tables are
     * read in place from it, the rest lives in the arena. */
    struct rp__pfile *file;
};

#endif /* RP_POLICY_H */
