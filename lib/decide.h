/*
 * decide.h - the state of one decision, shared by decide.c (the steps of
 * SPEC section 5) and destination.c (step 6, the effective destination).
 * Private to those files.  Everything lives on the caller's stack.
 */
#ifndef RP_DECIDE_H
#define RP_DECIDE_H

#include "rp_internal.h"

/* Recipient classes of step 7. */
typedef enum rp__class {
    RP__CLASS_LOCAL = 1,   /* a local domain (or bare postmaster) */
    RP__CLASS_SELF = 2,    /* one of our own address literals */
    RP__CLASS_RELAY = 3,   /* a relay domain */
    RP__CLASS_REROUTE = 4, /* a reroute domain */
    RP__CLASS_EXTERNAL = 5 /* anything else */
} rp__class;

/* Result of a step helper. */
typedef enum rp__res {
    RP__RES_OK = 0,
    RP__RES_SYNTAX = 1,  /* a syntax error (501) */
    RP__RES_ERROR = -1   /* an internal failure: fail safe */
} rp__res;

typedef struct rp__ctx {
    const rp_policy *p;
    const rp_query *q;
    rp_decision *d;
    rp__ip client, local;
    const char *user; /* NULL: unauthenticated */
    size_t user_len;
    const rp__listener *l;
    const uint8_t *crec; /* radix record of the client */
    const uint8_t *lrec; /* radix record of the local address */
    uint32_t perms;      /* effective permissions */
    uint32_t denied;     /* permissions a matching deny took away */
    uint32_t grant_item[4], deny_item[4];
    int32_t grant_plen[4], deny_plen[4];
    rp__addr sender, rcpt, dest;
    rp__addr pre; /* the destination after routing, before reroute */
    rp__class cls;
    uint32_t dom;        /* domain index of the destination, or RP__NONE */
    uint32_t valid_dom;  /* domain whose recipient list applies */
    bool routed;         /* a routing attempt was resolved */
    bool bare_postmaster;
    char routed_from[RP_ADDR_MAX];
    const char *fail;    /* detail of an internal failure */
    size_t xlen;         /* explanation length */
    rp__scratch scratch;
} rp__ctx;

/* decide.c */
void rp__explain(rp__ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int rp__perm_bit(uint32_t perm);

/* destination.c */
rp__res rp__resolve_destination(rp__ctx *c);
/* Classify a parsed, qualified address: sets *cls and *dom. */
rp__res rp__classify(rp__ctx *c, const rp__addr *a, rp__class *cls,
                     uint32_t *dom);
/* Is the recipient known (recipient validation)? 1 yes, 0 no. */
int rp__recipient_known(const rp__ctx *c, const rp__addr *a, uint32_t dom);
/* Match an address against a deny set: the item, RP__NONE, or -1 via
 * *failed for a regex failure. */
uint32_t rp__addrset_match(rp__ctx *c, const rp__addrset *set,
                           const rp__addr *a, bool *failed);
bool rp__ci_equal(const char *a, size_t an, const char *b, size_t bn);

#endif /* RP_DECIDE_H */
