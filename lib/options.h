/*
 * options.h - checking and merging rp_options (options.c).
 */
#ifndef RP_OPTIONS_H
#define RP_OPTIONS_H

#include "relaypolicy.h"

rp_status rp__options_check(const rp_options *opts, rp_error *err);
void rp__options_merge(rp_options *out, const rp_options *in);

#endif /* RP_OPTIONS_H */
