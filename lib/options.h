/*
 * options.h - checking and merging rp_options (options.c).
 */
#ifndef RP_OPTIONS_H
#define RP_OPTIONS_H

#include "relaypolicy.h"

rp_status rp__options_check(const rp_options *opts, rp_error *err);
void rp__options_merge(rp_options *out, const rp_options *in);
/* How every public call that makes a policy from a path starts: clears
 * *@p out, refuses a NULL @p path or @p out (RP_E_ARG), checks @p opts
 * and merges them with the defaults into @p o. */
rp_status rp__options_enter(const char *path,
                            rp_policy **out,
                            const rp_options *opts,
                            rp_options *o,
                            rp_error *err);

#endif /* RP_OPTIONS_H */
