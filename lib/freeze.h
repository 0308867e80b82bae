/*
 * freeze.h - the state of one freeze (builder records to a compiled
 * policy), shared by compile.c, freeze.c and freeze_exposure.c.  Private
 * to those files.
 */
#ifndef RP_FREEZE_H
#define RP_FREEZE_H

#include <stdbool.h>
#include <stdint.h>

#include "builder.h"
#include "policy.h"
#include "rp_regex.h"

typedef struct rp__freeze {
    rp_builder *b;
    rp_policy *p;
    rp_error *err;
    rp_status st;
    rp__scratch *scratch;
    /* For the dump's records, made last (rp__dump_build): per network
     * entry its list id, per deny client entry its named list's id or
     * RP__NONE.  Freed by compile.c. */
    uint32_t *net_ids;
    uint32_t *deny_ids;
} rp__freeze;

/* freeze.c: zeroed blocks and strings in the policy's arena (no memory
 * sets f->st), and failing at an item's location. */
void *rp__p_alloc(rp__freeze *f, size_t size);
const char *rp__p_str(rp__freeze *f, const char *s);
/* A string of the policy's pool (rp__item, rp__domain): its offset, or
 * RP__NONE (f->st set) when out of memory. */
uint32_t rp__p_pstr(rp__freeze *f, const char *s);
void
rp__f_fail(rp__freeze *f, rp_status st, uint32_t item, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* freeze.c */
bool rp__freeze_domains(rp__freeze *f);
bool rp__freeze_recipients(rp__freeze *f);
bool
rp__freeze_lists(rp__freeze *f, uint32_t **remote_ids, uint32_t **rule_ids);
bool rp__freeze_self(rp__freeze *f);
bool rp__freeze_groups(rp__freeze *f);
bool rp__freeze_addrsets(rp__freeze *f);
bool rp__freeze_logins(rp__freeze *f);
/* freeze_grants.c: certificate sets and relay scopes. */
bool rp__freeze_certs(rp__freeze *f);
bool rp__freeze_scopes(rp__freeze *f);
bool rp__check_safety(rp__freeze *f);

/* dump.c and lint.c: computed once, at freeze time. */
rp_status rp__dump_build(const rp__freeze *f);
rp_status rp__lint_build(const rp_builder *b, rp_policy *p);

#endif /* RP_FREEZE_H */
