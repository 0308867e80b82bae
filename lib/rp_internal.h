/*
 * rp_internal.h - interfaces shared between the files of lib/.
 *
 * Nothing here is API.  Every function is named rp__* and documented at its
 * definition; this header groups them by the file that defines them.
 */
#ifndef RP_INTERNAL_H
#define RP_INTERNAL_H

#include "relaypolicy.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * alloc.c - the per-policy allocator
 * ------------------------------------------------------------------------ */

typedef struct rp__alloc {
    void *(*malloc)(size_t size, void *ctx);
    void *(*realloc)(void *ptr, size_t size, void *ctx);
    void (*free)(void *ptr, void *ctx);
    void *ctx;
} rp__alloc;

/* Fill @a from an optional public allocator (NULL: libc). */
void rp__alloc_init(rp__alloc *a, const rp_allocator *user);
void *rp__malloc(const rp__alloc *a, size_t size);
/* Zeroed; fails (NULL) when n * size overflows. */
void *rp__calloc(const rp__alloc *a, size_t n, size_t size);
/* Grows an array of @p size-byte elements to hold @p need; NULL on failure
 * (the old block is then untouched). *cap is updated on success. */
void *
rp__grow(const rp__alloc *a, void *ptr, size_t *cap, size_t need, size_t size);
void rp__free(const rp__alloc *a, void *ptr);
char *rp__strndup(const rp__alloc *a, const char *s, size_t len);

/* ------------------------------------------------------------------------
 * options.c - checking and merging rp_options
 * ------------------------------------------------------------------------ */

rp_status rp__options_check(const rp_options *opts, rp_error *err);
void rp__options_merge(rp_options *out, const rp_options *in);

/* ------------------------------------------------------------------------
 * ipaddr.c - strict IP and CIDR text parsing
 *
 * Addresses are 16-byte keys: IPv6 as is, IPv4 as ::ffff:a.b.c.d.  The
 * family is 4 or 6; "::ffff:a.b.c.d" parses as family 4.
 * ------------------------------------------------------------------------ */

typedef struct rp__ip {
    uint8_t b[16]; /* network order; IPv4 in b[12..15] under ::ffff:0:0/96 */
    int family;    /* 4 or 6 */
} rp__ip;

/* Strict inet_pton-style parse: no leading zeros, no short forms, no
 * whitespace, no zone id.  Returns 0 on success, -1 on malformed input. */
int rp__ip_parse(const char *s, size_t len, rp__ip *out);
/* Format as text (IPv4 dotted quad or RFC 5952 IPv6); returns length. */
size_t rp__ip_format(const rp__ip *ip, char *buf, size_t size);
/* Parse "a.b.c.d/n", "v6/n" or a bare address (host prefix).  The prefix
 * length is returned in IPv6 terms (IPv4 /n is 96 + n).  Host bits set is
 * an error.  Returns 0, or -1 with a static message in *why. */
int rp__cidr_parse(
    const char *s, size_t len, rp__ip *out, unsigned *plen, const char **why);

/* ------------------------------------------------------------------------
 * radix.c - which prefix lists contain an address
 *
 * Prefixes are added with a list id; after freezing, a lookup answers, for
 * every list, the longest prefix of that list containing the address (or
 * RP__NOMATCH).  One walk answers every list at once.  Address families
 * as relaypolicy(7) §2 has them: an IPv4 address (a key inside
 * ::ffff:0:0/96) is matched by the prefixes inside that block only, so an
 * IPv6 prefix containing the whole block (::/8, ::/64, ::/0) never matches
 * it.
 * ------------------------------------------------------------------------ */

#define RP__NOMATCH 0xFF

typedef struct rp__radix_builder rp__radix_builder;
typedef struct rp__radix rp__radix;

rp__radix_builder *rp__radix_builder_new(const rp__alloc *a);
/* @plen is in 0..128 over the 16-byte key.  Returns 0, -1 on no memory. */
int rp__radix_add(rp__radix_builder *b,
                  const uint8_t key[16],
                  unsigned plen,
                  uint32_t list);
/* Freeze into an immutable table answering @p n_lists lists (every list id
 * added must be below it).  The builder is consumed (freed) either way.
 * Returns NULL on no memory. */
rp__radix *rp__radix_freeze(rp__radix_builder *b, uint32_t n_lists);
void rp__radix_builder_free(rp__radix_builder *b);
/* The per-list match record for @p key: an array of n_lists bytes, each the
 * longest matching prefix length (0..128, IPv6 terms) or RP__NOMATCH.
 * Never NULL for a non-NULL table.  Never allocates. */
const uint8_t *rp__radix_lookup(const rp__radix *r, const uint8_t key[16]);
/* Faster path for IPv4 (host order); same answer as the ::ffff: key. */
const uint8_t *rp__radix_lookup4(const rp__radix *r, uint32_t addr);
size_t rp__radix_memory(const rp__radix *r);
void rp__radix_free(rp__radix *r);

/*
 * Internals shared by radix.c (builder and sweep), radix_compile.c (the
 * compiled form, built from the sweep's ranges) and radix_lookup.c.
 */

/* A range of the leaf-pushed space: from its start to the next start. */
typedef struct rp__rx_range {
    uint64_t hi;
    uint64_t lo;
    uint32_t rid;
} rp__rx_range;

typedef struct rp__rx_ranges {
    rp__rx_range *v;
    size_t n;
    size_t cap;
} rp__rx_ranges;

/* Appends a range start, replacing one at the same start and merging
 * neighbours that map to the same record.  Returns 0, -1 on no memory. */
int rp__rx_ranges_emit(const rp__alloc *a,
                       rp__rx_ranges *r,
                       uint64_t hi,
                       uint64_t lo,
                       uint32_t rid);

/* Exact-match table for IPv6 hosts: 64-byte buckets of keys, then records;
 * the last byte of a bucket is set when a key went on to the next one. */
typedef struct rp__rx_hash {
    uint8_t *b;
    void *raw;       /* the allocation b was aligned in */
    uint32_t nb;     /* buckets */
    uint32_t n;      /* hosts */
    uint32_t probes; /* most buckets any lookup visits */
    unsigned slots;
    unsigned rw; /* bytes per record id */
} rp__rx_hash;

/* A compiled range table over 64-bit keys: when it is large, a first
 * stride of @p bits bits over the window of indexes [w0, w0 + wn) where
 * keys lie (values @p below and @p above outside); else one root entry. */
typedef struct rp__rx_trie {
    uint32_t *dir;
    uint64_t w0;
    uint64_t wn;
    uint32_t below;
    uint32_t above;
    uint32_t root;
    unsigned bits;
} rp__rx_trie;

struct rp__radix {
    rp__alloc alloc;
    uint32_t n_lists;
    uint32_t n_recs;
    uint8_t *recs; /* n_recs * n_lists bytes, at least one */
    uint8_t *heap; /* blobs and nodes of every trie */
    size_t heap_len;
    unsigned vw; /* bytes per value in the heap */
    rp__rx_trie t4;
    rp__rx_trie t6;    /* the high halves of IPv6 keys */
    uint32_t *lo_root; /* per /64 with longer prefixes: its low-half trie */
    uint32_t n_lo;
    rp__rx_hash h6;
};

/* Trie entries: a value, a blob (a sorted run of ranges) or a node (the
 * next 8 bits, children compressed with a bitmap). */
#define RP__RX_TAG_VAL 0u
#define RP__RX_TAG_BLOB 1u
#define RP__RX_TAG_NODE 2u
#define RP__RX_PAYLOAD 0x3fffffffu
#define RP__RX_NODE_HDR 36 /* bitmap (32 bytes) and four prefix counts */

/* Builds the compiled form of @p r (whose n_recs is set) from the ranges
 * and hosts of two sweeps: one over the IPv6 prefixes (@p rg, @p hosts),
 * one over the IPv4 ones, those inside ::ffff:0:0/96 (@p rg4, @p hosts4).
 * Returns 0, -1 on no memory; @p r is freeable then. */
int rp__rx_compile(rp__radix *r,
                   const rp__rx_ranges *rg,
                   const rp__rx_ranges *hosts,
                   const rp__rx_ranges *rg4,
                   const rp__rx_ranges *hosts4);

/* The compiled table's bytes (blobs, nodes, host tables) are
 * little-endian on every host: radix_compile.c writes them with
 * rp__rx_st_le(), radix_lookup.c reads them with these, which are plain
 * loads on a little-endian host and a load and a byte swap elsewhere. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define RP__RX_LE 1
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define RP__RX_LE 0
#endif

static inline uint64_t
rp__rx_ld_le64(const uint8_t *p)
{
#ifdef RP__RX_LE
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return RP__RX_LE ? v : __builtin_bswap64(v);
#else
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
#endif
}

static inline uint32_t
rp__rx_ld_le32(const uint8_t *p)
{
#ifdef RP__RX_LE
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return RP__RX_LE ? v : __builtin_bswap32(v);
#else
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
#endif
}

/* Stores the low @p w bytes of @p v at @p p, little-endian. */
static inline void
rp__rx_st_le(uint8_t *p, uint64_t v, unsigned w)
{
    for (unsigned i = 0; i < w; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The home bucket of an IPv6 host in a table of @p nb buckets. */
static inline uint32_t
rp__rx_bucket(uint32_t nb, uint64_t hi, uint64_t lo)
{
    uint64_t h = (hi ^ (lo * 0xc2b2ae3d27d4eb4full)) * 0x9e3779b97f4a7c15ull;

    return (uint32_t)(((h >> 32) * nb) >> 32);
}

/* ------------------------------------------------------------------------
 * address.c - RFC 5321 mailboxes
 * ------------------------------------------------------------------------ */

#define RP__LOCAL_MAX 64   /* octets of a local part (quoted form) */
#define RP__DOMAIN_MAX 255 /* octets of a domain */
#define RP__PATH_MAX 256   /* octets of a path, angle brackets included */

typedef enum rp__dom_type {
    RP__DOM_NONE = 0, /* unqualified ("postmaster") or null sender */
    RP__DOM_NAME = 1, /* a domain name */
    RP__DOM_IPV4 = 2, /* [192.0.2.1] or [IPv6:::ffff:192.0.2.1] */
    RP__DOM_IPV6 = 3  /* [IPv6:2001:db8::1] */
} rp__dom_type;

typedef enum rp__addr_err {
    RP__ADDR_OK = 0,
    RP__ADDR_SYNTAX = 1, /* anything malformed */
    RP__ADDR_TOO_LONG = 2,
    RP__ADDR_NON_ASCII = 3, /* bytes that are not UTF-8 */
    RP__ADDR_CONTROL = 4    /* NUL, CR, LF or other control bytes */
} rp__addr_err;

typedef struct rp__addr {
    bool is_null;    /* <> or empty: the null sender */
    bool had_route;  /* a source route was present (and dropped) */
    bool was_quoted; /* the local part was quoted */
    bool utf8;       /* the path held non-ASCII (SMTPUTF8 needed) */
    /* The local part's content: quotes and escapes removed ("a b"). */
    char local[RP__LOCAL_MAX + 1];
    size_t local_len;
    /* Lowercased domain without trailing dot; for literals the canonical
     * text without brackets ("192.0.2.1", "IPv6:2001:db8::1"). */
    char domain[RP__DOMAIN_MAX + 1];
    size_t domain_len;
    rp__dom_type dom_type;
    rp__ip literal; /* for RP__DOM_IPV4 / RP__DOM_IPV6 */
} rp__addr;

/* Parse a reverse- or forward-path, with or without angle brackets, with
 * an optional source route.  Never reads past @p len.  @p allow_null lets
 * "<>" and "" parse as the null sender. */
rp__addr_err
rp__addr_parse(const char *s, size_t len, bool allow_null, rp__addr *out);
/* The canonical text of the address (no brackets, local part quoted only
 * when its content is not a dot-atom, domain lowercased, literal in
 * brackets).  @p lower_local lowercases the local part (for comparisons).
 * Returns the length written (always NUL-terminated, cut to fit). */
size_t
rp__addr_format(const rp__addr *a, bool lower_local, char *buf, size_t size);

typedef enum rp__route {
    RP__ROUTE_NONE = 0,  /* no quoted @, ! or % in the local part */
    RP__ROUTE_SPLIT = 1, /* *out holds the routed-to mailbox */
    RP__ROUTE_ERROR = 2  /* empty mailbox or domain, or a bad domain */
} rp__route;

/* One routing split of relaypolicy(7) §5 step 6: a quoted @ at its rightmost @
 * ("u@R" -> u@R), else a ! at its leftmost ! (R!u -> u@R), else a % at its
 * rightmost % (u%R -> u@R).  Looks only at in->local. */
rp__route rp__addr_route_split(const rp__addr *in, rp__addr *out);

/* ------------------------------------------------------------------------
 * regex.c - bounded PCRE2 matching without allocation at match time
 * ------------------------------------------------------------------------ */

typedef struct rp__regex rp__regex;

/* Per-call scratch memory: PCRE2 match data and any interpreter frames are
 * carved out of it, never from the heap.  A workspace's scratch also has
 * its own match context with a JIT stack, and a budget of match steps. */
#define RP__SCRATCH_BYTES 24576
typedef struct rp__scratch {
    size_t used;
    void *match_data; /* created on first use */
    void *gcontext;
    void *mcontext;  /* workspace only: limits, JIT stack */
    void *hcontext;  /* workspace only: heap context of the two */
    void *jit_stack; /* workspace only */
    uint32_t match_limit;
    bool spent;      /* the budget ran out in this decision */
    uint64_t budget; /* match steps left (workspace only) */
    _Alignas(16) unsigned char buf[RP__SCRATCH_BYTES];
} rp__scratch;

/* A scratch for one-off matching (compile, lint): no budget. */
void rp__scratch_init(rp__scratch *s);
/* A workspace's scratch: match data, match context and JIT stack made
 * once, with @p a.  Returns 0, -1 on no memory (release it either way). */
int rp__scratch_setup(rp__scratch *s, const rp__alloc *a);
void rp__scratch_release(rp__scratch *s, const rp__alloc *a);
/* Start a decision on a workspace's scratch: the policy's limits, and
 * @p budget match steps for every regex run of the decision together. */
void rp__scratch_begin(rp__scratch *s,
                       uint32_t match_limit,
                       uint32_t depth_limit,
                       uint32_t budget);

/* Compile case-insensitively (JIT unless RP_OPT_NO_JIT) into *@p out.
 * Returns RP_OK, RP_E_REGEX, RP_E_NOMEM or RP_E_INTERNAL; on failure
 * writes a message to @p why (and the pattern offset). */
rp_status rp__regex_compile(const rp__alloc *a,
                            const char *pattern,
                            size_t len,
                            uint32_t opt_flags,
                            uint32_t match_limit,
                            uint32_t depth_limit,
                            rp__regex **out,
                            char *why,
                            size_t why_size,
                            size_t *erroffset);
/* 1 match, 0 no match, -1 error (match limit, depth limit, no memory). */
int rp__regex_match(const rp__regex *re,
                    const char *subject,
                    size_t len,
                    rp__scratch *scratch);
void rp__regex_free(rp__regex *re);
/* The literal every match of @p re holds (lowercased, cut to @p size);
 * returns its length, 0 when none is known. */
size_t rp__regex_literal(const rp__regex *re, char *buf, size_t size);

/* An ordered set of compiled regexes (borrowed) with a literal prefilter:
 * the first pattern that matches, running only those that can.  With
 * @p arena the set lives in that policy arena (see rp__arena_alloc);
 * otherwise free it with rp__regex_set_free().  NULL on no memory. */
typedef struct rp__regex_set rp__regex_set;
rp__regex_set *rp__regex_set_new(const rp__alloc *a,
                                 void **arena,
                                 rp__regex *const *re,
                                 uint32_t n);
/* 1 and the lowest matching index, 0 none, -1 error (as the in-order loop
 * of rp__regex_match would; a pattern whose literal is absent is skipped). */
int rp__regex_set_first(const rp__regex_set *s,
                        const char *subject,
                        size_t len,
                        rp__scratch *scratch,
                        uint32_t *index);
void rp__regex_set_free(rp__regex_set *s);

/* regex_literal.c: the longest literal every match of pattern @p p needs,
 * lowercased, cut to @p max bytes; 0 when none is certain. */
size_t
rp__regex_text_literal(const char *p, size_t n, unsigned char *out, size_t max);

/* ------------------------------------------------------------------------
 * domains.c - string maps and domain pattern tables
 * ------------------------------------------------------------------------ */

/* An immutable hash map from byte strings to uint32 values.  Keys are
 * compared exactly: callers lowercase before adding and looking up. */
typedef struct rp__strmap rp__strmap;
typedef struct rp__strmap_builder rp__strmap_builder;

rp__strmap_builder *rp__strmap_builder_new(const rp__alloc *a);
/* Adds or, when the key exists, keeps the first value and returns 1.
 * Returns 0 when added, -1 on no memory. */
int rp__strmap_add(rp__strmap_builder *b,
                   const char *key,
                   size_t len,
                   uint32_t value);
/* Consumes the builder; NULL on no memory. */
rp__strmap *rp__strmap_freeze(rp__strmap_builder *b);
void rp__strmap_builder_free(rp__strmap_builder *b);
/* Every key and value, until @p fn returns non-zero (returned). */
int rp__strmap_each(
    const rp__strmap *m,
    int (*fn)(void *ctx, const char *key, size_t len, uint32_t value),
    void *ctx);
/* A lookup in a map still being built (same answer as rp__strmap_get). */
int rp__strmap_builder_get(const rp__strmap_builder *b,
                           const char *key,
                           size_t len,
                           uint32_t *value);
/* 1 and *value on a hit, 0 on a miss.  NULL map: miss. */
int rp__strmap_get(const rp__strmap *m,
                   const char *key,
                   size_t len,
                   uint32_t *value);
size_t rp__strmap_count(const rp__strmap *m);
/* The hash of @p key as rp__strmap_get() computes it; a prefetch of its
 * slot, and a lookup with the hash already known (same answer). */
uint32_t rp__strmap_hash(const char *key, size_t len);
void rp__strmap_prefetch(const rp__strmap *m, uint32_t hash);
/* Once the slot is cached: prefetch the key bytes a lookup compares. */
void rp__strmap_prefetch_key(const rp__strmap *m, uint32_t hash);
int rp__strmap_get_hashed(const rp__strmap *m,
                          const char *key,
                          size_t len,
                          uint32_t hash,
                          uint32_t *value);

void rp__strmap_free(rp__strmap *m);

/* A domain pattern table: exact names, ".suffix" (the domain and every
 * subdomain) and "/regex/" patterns, each with a uint32 value.  A lookup
 * takes the most specific match: exact, then the longest suffix, then the
 * first regex in insertion order. */
typedef struct rp__domtab rp__domtab;
typedef struct rp__domtab_builder rp__domtab_builder;

typedef enum rp__dompat {
    RP__DOMPAT_EXACT = 1,
    RP__DOMPAT_SUFFIX = 2,
    RP__DOMPAT_REGEX = 3
} rp__dompat;

rp__domtab_builder *rp__domtab_builder_new(const rp__alloc *a,
                                           uint32_t opt_flags,
                                           uint32_t match_limit,
                                           uint32_t depth_limit);
/* Adds @p pattern (classified by its syntax; lowercased, one trailing dot
 * dropped).  Returns 0 added, 1 duplicate pattern (existing value in
 * *existing), RP__DOMTAB_BAD with a message in @p why for a bad pattern,
 * RP__DOMTAB_NOMEM for no memory. */
#define RP__DOMTAB_BAD (-1)
#define RP__DOMTAB_NOMEM (-2)
int rp__domtab_add(rp__domtab_builder *b,
                   const char *pattern,
                   size_t len,
                   uint32_t value,
                   uint32_t *existing,
                   char *why,
                   size_t why_size);
rp__domtab *rp__domtab_freeze(rp__domtab_builder *b);
void rp__domtab_builder_free(rp__domtab_builder *b);
/* Look up a lowercased domain without trailing dot.  1 hit (*value, and
 * *kind the kind of pattern that matched), 0 miss, -1 regex failure. */
int rp__domtab_lookup(const rp__domtab *t,
                      const char *domain,
                      size_t len,
                      rp__scratch *scratch,
                      uint32_t *value,
                      rp__dompat *kind);
/* Prefetch the exact-pattern slot a lookup of @p domain reads: 1 and its
 * hash when there is one, for the second stage that prefetches the key
 * bytes once the slot is cached. */
int rp__domtab_prefetch(const rp__domtab *t,
                        const char *domain,
                        size_t len,
                        uint32_t *hash);
void rp__domtab_prefetch_key(const rp__domtab *t, uint32_t hash);
void rp__domtab_free(rp__domtab *t);
/* Lowercase @p len bytes of ASCII into @p out. */
void rp__lower(char *out, const char *in, size_t len);

/* ------------------------------------------------------------------------
 * parse.c - policy text to builder calls
 * ------------------------------------------------------------------------ */

/* Parse @p text (named @p file in messages) into @p b.  @p depth counts
 * nested includes.  Returns RP_OK or fills @p err. */
rp_status rp__parse(rp_builder *b,
                    const char *file,
                    const char *text,
                    size_t len,
                    unsigned depth,
                    rp_error *err);

/* ------------------------------------------------------------------------
 * status.c
 * ------------------------------------------------------------------------ */

/* Fill @p err (if not NULL) with a status, location and formatted text. */
void rp__error_set(rp_error *err,
                   rp_status status,
                   const char *file,
                   uint32_t line,
                   uint32_t column,
                   uint64_t offset,
                   const char *snippet,
                   size_t snippet_len,
                   const char *fmt,
                   ...) __attribute__((format(printf, 9, 10)));

/* ------------------------------------------------------------------------
 * The compiled policy (builder.c builds it, compile.c freezes it; decide.c,
 * dump.c and lint.c read it)
 * ------------------------------------------------------------------------ */

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
    uint32_t list;    /* network / interface: the radix list id */
    const char *name; /* user or group, lowercased */
    size_t name_len;
    uint32_t item;
} rp__rule;

typedef struct rp__listener {
    const char *name;
    uint32_t item;
    rp__bind *binds;
    uint32_t n_binds;
    uint32_t remote_list; /* radix list id, or RP__NONE: every client */
    bool require_auth;
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

    const char *source;    /* the normalised dump text (dump.c) ... */
    size_t source_split;   /* ... where the recipients, made on demand, go */
    rp__lintrec *findings; /* lint findings (lint.c) */
    uint32_t n_findings;
    rp__exposure *exposure; /* unauthenticated relay exposure */
};

/* compile.c */
void *rp__arena_alloc(void **arena, const rp__alloc *a, size_t size);
void rp__arena_free(void **arena, const rp__alloc *a);
const rp_options *rp__builder_options(const rp_builder *b);
rp_status rp__compile_named(const char *text,
                            size_t len,
                            const rp_options *opts,
                            const char *name,
                            rp_policy **out,
                            rp_error *err);

/* file.c: the one file reader (regular files only, never blocks). */
rp_status rp__file_read(const rp__alloc *a,
                        const char *path,
                        uint32_t max,
                        char **out,
                        size_t *len,
                        char *why,
                        size_t why_size);

#endif /* RP_INTERNAL_H */
