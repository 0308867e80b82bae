/*
 * dump.h - the normalised dump (dump.c) beyond rp_policy_dump().
 * Private to lib/.
 */
#ifndef RP_DUMP_H
#define RP_DUMP_H

#include "policy.h"
#include "relaypolicy.h"

/* The dump text without the recipients, as a compiled policy file stores
 * it: the stored source with the network lines, which a compiled policy
 * keeps as compact records, put in at source_split.  *out is NULL (use
 * p->source) when there are none; otherwise free it with p's allocator. */
rp_status rp__dump_source(const rp_policy *p, char **out);

#endif /* RP_DUMP_H */
