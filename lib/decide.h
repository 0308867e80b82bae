/*
 * decide.h - the state of one decision, shared by decide.c (the steps of
 * relaypolicy(7) §5), decide_grants.c (who a rule applies to, and the
 * narrower grants), decide_sender.c (the sender rules), destination.c
 * (step 6, the effective destination), explain.c (the explanation) and
 * workspace.c (the state's home).  Calls point one way: decide.c calls
 * the others, decide_sender.c calls destination.c, and every one of them
 * may call explain.c, which calls none; nothing calls back into
 * decide.c.  Everything lives in the caller's workspace.
 */
#ifndef RP_DECIDE_H
#define RP_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "address.h"
#include "alloc.h"
#include "domains.h"
#include "ipaddr.h"
#include "policy.h"
#include "relaypolicy.h"
#include "rp_regex.h"
/* A claimed client IP (rp_query.peer given): none, believed from a
 * trusted proxy, or ignored (the peer is the client). */
enum { RP__PROXY_NONE = 0, RP__PROXY_BELIEVED = 1, RP__PROXY_IGNORED = 2 };

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
    RP__RES_SYNTAX = 1, /* a syntax error (501) */
    RP__RES_ERROR = -1  /* an internal failure: fail safe */
} rp__res;

typedef struct rp__ctx {
    const rp_policy *p;
    const rp_query *q;
    rp_decision *d;
    rp__ip client, local;
    const char *user; /* NULL: unauthenticated */
    size_t user_len;
    rp__ip peer;         /* the host that connected, when given */
    rp__ip claim;        /* an ignored claim, for the explanation */
    int proxy;           /* RP__PROXY_*: what became of a claimed client IP */
    bool has_cert;       /* a client certificate fingerprint was given */
    uint8_t cert[32];    /* its SHA-256 public-key fingerprint */
    uint32_t scope_item; /* a scoped relay rule that decided, or RP__NONE */
    const rp__listener *l;
    const uint8_t *crec; /* radix record of the client */
    const uint8_t *lrec; /* radix record of the local address */
    uint32_t perms;      /* effective permissions */
    uint32_t denied;     /* permissions a matching deny took away */
    uint32_t grant_item[4], deny_item[4];
    int32_t grant_plen[4], deny_plen[4];
    rp__class cls;
    uint32_t dom;       /* domain index of the destination, or RP__NONE */
    uint32_t valid_dom; /* domain whose recipient list applies */
    bool routed;        /* a routing attempt was resolved */
    bool bare_postmaster;
    const char *fail;   /* detail of an internal failure */
    size_t xlen;        /* explanation length */
    size_t dest_len;    /* length of d->destination; 0: not formatted */
    size_t dkey_len;    /* length of the text in dkey; 0: not built */
    size_t lkey_len;    /* length of lkey; 0: not built */
    uint32_t lkey_hash; /* rp__strmap_hash() of lkey */
    /* has_*: the recipient's and the sender's domains are names whose
     * keys (rkey, skey) are made; pf_*: their exact slots in the domain
     * table were prefetched. */
    bool has_rkey, has_skey;
    bool pf_rcpt, pf_sender;
    bool truncated;   /* an explanation line did not fit */
    size_t reply_len; /* length of reply */
    rp_reason bad;    /* the syntax error step 3 reports, or NONE */
    rp__res dres;     /* the outcome of step 6's resolution */
    bool decided;     /* rp__decide_first() reached the decision */
    rp_status st;     /* the decision's status so far */
    uint64_t budget;  /* the regex budget left after the first half */
    bool spent;       /* and whether it ran out */
    /* Everything below is written before it is read, or set once when the
     * workspace is made, so rp_decide() does not clear it.  The addresses
     * are set by the parser. */
    char *explanation;  /* the workspace's buffer ... */
    size_t explain_cap; /* ... of this many bytes, NUL included */
    char reply[RP_REPLY_MAX];
    char destination[RP_ADDR_MAX];
    char rewritten[RP_ADDR_MAX];
    rp__addr sender, rcpt, dest;
    /* The domain keys of the recipient and the sender, made once for
     * every table (read only when has_rkey / has_skey). */
    rp__domkey rkey, skey;
    rp__addr pre; /* the destination after routing, before reroute */
    char routed_from[RP_ADDR_MAX];
    char idn_note[RP_ADDR_MAX]; /* the U-label form, for explanations */
    /* "A:" and the lowercased canonical destination (dkey + 2), and the
     * recipient-map key "L<dom>:<local part>" of the destination. */
    char dkey[RP_ADDR_MAX + 2];
    char lkey[16 + 2 * RP__LOCAL_MAX + 3];
    rp__scratch *scratch; /* the workspace's, shared by its slots */
    /* The last local IP text this slot parsed and what it parsed to: an
     * MTA asks again and again for the same few local addresses. */
    char local_text[48];
    size_t local_text_len; /* 0: none yet */
    rp__ip local_parsed;
} rp__ctx;

/* The query flags this version knows; others are refused. */
#define RP__QUERY_FLAGS (RP_QUERY_EXPLAIN | RP_QUERY_TLS | RP_QUERY_SMTPUTF8)

/* A workspace, made once per thread: the state of batch_capacity
 * decisions (slot 0 is rp_decide()'s), each with its own explanation
 * buffer, and one regex scratch they share (decisions are finished one
 * after another). */
struct rp_workspace {
    rp__alloc alloc;
    size_t n_slots;
    rp__ctx *slots;
    char *explain; /* n_slots buffers of slots[0].explain_cap bytes */
    rp__scratch scratch;
};

/* The length of an optional (pointer, length or RP_NTS) string. */
static inline size_t
rp__span_len(const char *s, size_t len)
{
    return s == NULL ? 0 : len == RP_NTS ? strlen(s) : len;
}

/* workspace.c: the checks of the facts (API errors), and the decision's
 * fields as they are before a decision. */
rp_status rp__query_check(rp__ctx *c);
void rp__decision_clear(rp_decision *d);

/* decide.c: a decision in parts, so that a batch can overlap the cache
 * misses of several.  begin clears slot @p c, checks the facts and parses
 * the addresses (prefetching their domains' slots).  first takes steps 1
 * to 4 and resolves the destination (prefetching the recipient list's
 * slot), using c->crec and c->lrec when already looked up; last takes the
 * remaining steps, if any, and points the decision's strings at the slot.
 * finish is first and last.  The regex scratch may serve other slots
 * between first and last: each decision keeps its own budget. */
rp_status rp__decide_begin(rp__ctx *c,
                           const rp_policy *policy,
                           const rp_query *query,
                           rp_decision *decision);
void rp__decide_first(rp__ctx *c, rp_status begun);
rp_status rp__decide_last(rp__ctx *c);
rp_status rp__decide_finish(rp__ctx *c, rp_status begun);

/* explain.c: append a line to the explanation.  rp__explain() calls it
 * only when the query asks for one, so that a decision without an
 * explanation neither calls nor evaluates the arguments. */
void rp__explain_line(rp__ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define rp__explain(c, ...)                                                    \
    ((c)->q->flags & RP_QUERY_EXPLAIN ? rp__explain_line((c), __VA_ARGS__)     \
                                      : (void)0)

/* The client's prefix length in its own family's terms, or -1. */
static inline int32_t
rp__family_plen(const rp__ctx *c, uint8_t v)
{
    if (v == RP__NOMATCH)
        return -1;
    if (c->client.family == 4)
        return v < 96 ? 0 : v - 96;
    return v;
}

/* decide_grants.c: who a rule applies to, and the narrower grants of
 * relaypolicy(7) §4.2.  Does rule @p r apply to this client?  *plen gets
 * a matched network prefix. */
bool rp__principal_matches(const rp__ctx *c, const rp__rule *r, int32_t *plen);
/* Scoped relay towards the destination: adjusts perms, the relay grant and
 * deny, and sets c->scope_item; -1 on a regex failure. */
int rp__scoped_relay(rp__ctx *c);
void rp__explain_scope(rp__ctx *c, uint32_t item, const char *where);
bool rp__cert_passes(const rp__ctx *c);
void rp__resolve_proxy(rp__ctx *c);
void rp__explain_proxy(rp__ctx *c);

/* decide_sender.c: the sender rules of relaypolicy(7) §4.4, RP_REASON_NONE
 * to go on (*item names the deciding statement otherwise). */
rp_reason rp__sender_rules(rp__ctx *c, uint32_t *item);

/* destination.c */
rp__res rp__resolve_destination(rp__ctx *c);
/* Classify a parsed, qualified address: sets *cls and *dom. */
rp__res
rp__classify(rp__ctx *c, const rp__addr *a, rp__class *cls, uint32_t *dom);
/* The domain key of @p a, a domain name: the recipient's or the sender's
 * when @p a has the same domain, else made in @p tmp. */
const rp__domkey *
rp__addr_key(const rp__ctx *c, const rp__addr *a, rp__domkey *tmp);
/* Is the destination known (recipient validation of c->valid_dom)?
 * 1 yes, 0 no. */
int rp__recipient_known(const rp__ctx *c);
/* Does @p a format to the text in d->destination (c->dest_len bytes,
 * never cut), so that dkey holds its lowercased form? */
bool rp__is_dest_text(const rp__ctx *c, const rp__addr *a);
/* Match an address against a deny set: the item, RP__NONE, or -1 via
 * *failed for a regex failure. */
uint32_t rp__addrset_match(rp__ctx *c,
                           const rp__addrset *set,
                           const rp__addr *a,
                           bool *failed);

#endif /* RP_DECIDE_H */
