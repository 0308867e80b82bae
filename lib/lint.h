/*
 * lint.h - network prefix helpers shared by lint.c and lint_net.c.
 * Private to those files.
 */
#ifndef RP_LINT_H
#define RP_LINT_H

#include <stdbool.h>

#include "builder.h"
#include "ipaddr.h"

typedef struct pfx {
    const rp__ip *ip;
    unsigned plen; /* IPv6 terms: IPv4 /n is 96 + n */
} pfx;

/* What a scan over a reference's prefixes found. */
typedef struct scan {
    const rp_builder *b;
    const rp__bref *other;         /* for coverage: the covering reference */
    const rp__blistener *listener; /* for ref_reached */
    int family;                    /* of the prefix that hit: 4 or 6 */
    bool hit;
    bool found;    /* coverage: the current prefix is inside @p other */
    char text[80]; /* the prefix that hit */
} scan;

/* Does any prefix of @p ref satisfy @p fn?  (fn fills the scan.) */
bool rp__lint_ref_has(const rp_builder *b,
                      const rp__bref *ref,
                      bool (*fn)(const pfx *, void *),
                      scan *s);
/* Is every prefix of @p inner inside some prefix of @p outer? */
bool rp__lint_ref_covers(const rp_builder *b,
                         const rp__bref *outer,
                         const rp__bref *inner);
bool rp__lint_find_everything(const pfx *x, void *ctx);
bool rp__lint_find_wide(const pfx *x, void *ctx);
bool rp__lint_find_public(const pfx *x, void *ctx);
/* No public address (the exposure analysis's table, relaypolicy(7) §7). */
bool rp__lint_find_private(const pfx *x, void *ctx);
/* An IPv6 prefix holding the whole of ::ffff:0:0/96. */
bool rp__lint_find_covers_mapped(const pfx *x, void *ctx);
/* Does a bind of @p l listen on some address of @p ref?  (s->text and
 * s->family: the first such prefix.) */
bool rp__lint_ref_reached(const rp_builder *b,
                          const rp__bref *ref,
                          const rp__blistener *l,
                          scan *s);

#endif /* RP_LINT_H */
