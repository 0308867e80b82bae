/*
 * lint.h - network prefix helpers shared by lint.c and lint_net.c.
 * Private to those files.
 */
#ifndef RP_LINT_H
#define RP_LINT_H

#include "builder.h"

typedef struct pfx {
    const rp__ip *ip;
    unsigned plen; /* IPv6 terms: IPv4 /n is 96 + n */
} pfx;

/* What a scan over a reference's prefixes found. */
typedef struct scan {
    const rp_builder *b;
    const rp__bref *other; /* for coverage: the covering reference */
    bool hit;
    bool found;    /* coverage: the current prefix is inside @p other */
    char text[80]; /* the prefix that hit */
} scan;

#define ref_has rp__lint_ref_has
#define ref_covers rp__lint_ref_covers
#define find_everything rp__lint_find_everything
#define find_wide rp__lint_find_wide
#define find_public rp__lint_find_public

/* Does any prefix of @p ref satisfy @p fn?  (fn fills the scan.) */
bool ref_has(const rp_builder *b,
             const rp__bref *ref,
             bool (*fn)(const pfx *, void *),
             scan *s);
/* Is every prefix of @p inner inside some prefix of @p outer? */
bool
ref_covers(const rp_builder *b, const rp__bref *outer, const rp__bref *inner);
bool find_everything(const pfx *x, void *ctx);
bool find_wide(const pfx *x, void *ctx);
bool find_public(const pfx *x, void *ctx);

#endif /* RP_LINT_H */
