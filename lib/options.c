/*
 * options.c - rp_options: the defaults, the checks of what a caller
 * passed, and the merge of a caller's options over the defaults.
 */
#include <stdint.h>
#include <string.h>

#include "options.h"
#include "relaypolicy.h"
#include "status.h"

#define OPT_FLAGS (RP_OPT_NO_FILES | RP_OPT_NO_JIT | RP_OPT_VERIFY)

void
rp_options_init(rp_options *opts)
{
    if (opts == NULL)
        return;
    memset(opts, 0, sizeof(*opts));
    opts->max_policy_bytes = 64u << 20;
    opts->max_line_length = 8192;
    opts->max_entries = 16u << 20;
    opts->max_rules = 65536;
    opts->max_regex_length = 1024;
    opts->max_include_depth = 8;
    opts->regex_match_limit = 100000;
    opts->regex_depth_limit = 1000;
    opts->regex_budget = 1000000;
    opts->explain_capacity = RP_EXPLAIN_DEFAULT;
    opts->batch_capacity = 1;
}

/*
 * Refuse unknown flags and non-zero reserved fields, which later versions
 * may give a meaning.  NULL options are fine.  Returns RP_OK or RP_E_ARG
 * (with a message in @p err when not NULL).
 */
rp_status
rp__options_check(const rp_options *opts, rp_error *err)
{
    const char *why = NULL;

    if (opts == NULL)
        return RP_OK;
    if (opts->flags & ~(uint32_t)OPT_FLAGS)
        why = "unknown option flag bits";
    for (size_t i = 0; i < sizeof(opts->reserved) / sizeof(opts->reserved[0]);
         i++)
        if (opts->reserved[i] != 0)
            why = "non-zero reserved option field";
    if (why == NULL)
        return RP_OK;
    rp__error_set(err, RP_E_ARG, NULL, 0, 0, 0, NULL, 0, "%s", why);
    return RP_E_ARG;
}

/* A non-zero @p v, else the default @p d. */
static uint32_t
pick(uint32_t v, uint32_t d)
{
    return v != 0 ? v : d;
}

/* @p out = the defaults with every non-zero field of @p in (may be NULL)
 * laid over them, member by member. */
void
rp__options_merge(rp_options *out, const rp_options *in)
{
    rp_options_init(out);
    if (in == NULL)
        return;
    out->allocator = in->allocator;
    out->flags = in->flags;
    out->max_policy_bytes = pick(in->max_policy_bytes, out->max_policy_bytes);
    out->max_line_length = pick(in->max_line_length, out->max_line_length);
    out->max_entries = pick(in->max_entries, out->max_entries);
    out->max_rules = pick(in->max_rules, out->max_rules);
    out->max_regex_length = pick(in->max_regex_length, out->max_regex_length);
    out->max_include_depth =
        pick(in->max_include_depth, out->max_include_depth);
    out->regex_match_limit =
        pick(in->regex_match_limit, out->regex_match_limit);
    out->regex_depth_limit =
        pick(in->regex_depth_limit, out->regex_depth_limit);
    out->regex_budget = pick(in->regex_budget, out->regex_budget);
    out->explain_capacity = pick(in->explain_capacity, out->explain_capacity);
    out->batch_capacity = pick(in->batch_capacity, out->batch_capacity);
    out->base_dir = in->base_dir;
}

rp_status
rp__options_enter(const char *path,
                  rp_policy **out,
                  const rp_options *opts,
                  rp_options *o,
                  rp_error *err)
{
    rp_status st;

    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL)
        return RP_E_ARG;
    if ((st = rp__options_check(opts, err)) != RP_OK)
        return st;
    rp__options_merge(o, opts);
    return RP_OK;
}
