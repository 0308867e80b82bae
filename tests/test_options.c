/*
 * test_options.c - rp_options: unknown flags and non-zero reserved fields
 * are refused by every call taking options; defaults are filled member by
 * member.
 */
#include "options.h"

#include <criterion/criterion.h>

#include <string.h>

Test(options, reserved_fields_and_unknown_flags_are_refused)
{
    rp_options bad[3];
    rp_policy *p = (rp_policy *)&p;
    rp_builder *b = (rp_builder *)&b;
    rp_workspace *ws = (rp_workspace *)&ws;
    rp_policy_slot *slot = (rp_policy_slot *)&slot;
    rp_error err;

    for (int i = 0; i < 3; i++)
        rp_options_init(&bad[i]);
    bad[0].flags |= 1u << 7;
    bad[1].reserved[0] = 1;
    bad[2].reserved[5] = 1;
    for (int i = 0; i < 3; i++) {
        memset(&err, 0, sizeof(err));
        cr_expect_eq(rp_policy_compile("", 0, &bad[i], &p, &err), RP_E_ARG);
        cr_expect_null(p);
        cr_expect_eq(err.status, RP_E_ARG);
        cr_expect_neq(err.message[0], '\0', "no message for case %d", i);
        cr_expect_eq(rp_builder_new(&bad[i], &b), RP_E_ARG);
        cr_expect_null(b);
        cr_expect_eq(rp_workspace_new(&bad[i], &ws), RP_E_ARG);
        cr_expect_null(ws);
        cr_expect_eq(rp_slot_new(NULL, &bad[i], &slot), RP_E_ARG);
        cr_expect_null(slot);
    }
}

Test(options, merge_keeps_defaults_for_zero_fields)
{
    rp_options in, out, def;

    memset(&in, 0, sizeof(in));
    in.max_rules = 7;
    in.regex_budget = 5000;
    rp__options_merge(&out, &in);
    rp_options_init(&def);
    cr_expect_eq(out.max_rules, 7u);
    cr_expect_eq(out.regex_budget, 5000u);
    cr_expect_eq(out.max_entries, def.max_entries);
    cr_expect_eq(out.regex_match_limit, def.regex_match_limit);
    cr_expect_eq(out.explain_capacity, def.explain_capacity);
    rp__options_merge(&out, NULL);
    cr_expect_eq(memcmp(&out, &def, sizeof(out)), 0);
}

Test(options, workspace_explain_capacity_range)
{
    rp_options o;
    rp_workspace *ws = NULL;

    rp_options_init(&o);
    o.explain_capacity = 100;
    cr_expect_eq(rp_workspace_new(&o, &ws), RP_E_ARG);
    o.explain_capacity = 2u << 20;
    cr_expect_eq(rp_workspace_new(&o, &ws), RP_E_ARG);
    o.explain_capacity = 256;
    cr_assert_eq(rp_workspace_new(&o, &ws), RP_OK);
    rp_workspace_free(ws);
    rp_workspace_free(NULL);
    cr_expect_eq(rp_workspace_new(NULL, NULL), RP_E_ARG);
}

Test(options, workspace_batch_capacity_range)
{
    rp_options o;
    rp_workspace *ws = NULL;

    rp_options_init(&o);
    cr_expect_eq(o.batch_capacity, 1);
    o.batch_capacity = RP_BATCH_MAX + 1;
    cr_expect_eq(rp_workspace_new(&o, &ws), RP_E_ARG);
    cr_expect_null(ws);
    o.batch_capacity = RP_BATCH_MAX;
    cr_assert_eq(rp_workspace_new(&o, &ws), RP_OK);
    rp_workspace_free(ws);
}
