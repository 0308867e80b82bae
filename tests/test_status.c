/*
 * test_status.c - every status and reason has its own text and name.
 */
#include "relaypolicy.h"

#include <criterion/criterion.h>
#include <string.h>

static const rp_status all[] = {
#define XX(name, value, text) RP_##name,
    RP_STATUS_MAP(XX)
#undef XX
};

Test(status, every_code_has_its_own_message)
{
    size_t n = sizeof(all) / sizeof(all[0]);

    for (size_t i = 0; i < n; i++) {
        cr_expect_eq((int)all[i], (int)i, "status values are dense");
        cr_expect_str_neq(rp_strerror(all[i]), "unknown status");
        cr_expect_eq(strncmp(rp_status_name(all[i]), "RP_", 3), 0);
        for (size_t k = 0; k < i; k++) {
            cr_expect_str_neq(rp_strerror(all[i]), rp_strerror(all[k]));
            cr_expect_str_neq(rp_status_name(all[i]),
                              rp_status_name(all[k]));
        }
    }
    cr_expect_eq(RP_OK, 0);
    cr_expect_str_eq(rp_status_name(RP_E_SYNTAX), "RP_E_SYNTAX");
}

Test(status, unknown_values_are_safe)
{
    cr_expect_str_eq(rp_strerror((rp_status)9999), "unknown status");
    cr_expect_str_eq(rp_status_name((rp_status)-1), "RP_E_UNKNOWN");
    cr_expect_str_eq(rp_reason_name((rp_reason)77), "unknown");
    cr_expect_str_eq(rp_verdict_name((rp_verdict)9), "NONE");
}

Test(status, reason_names_round_trip)
{
    for (int r = 1; r < RP_REASON_COUNT; r++) {
        rp_reason back;
        const char *name = rp_reason_name((rp_reason)r);

        cr_expect_str_neq(name, "unknown");
        cr_expect_eq(rp_reason_from_name(name, &back), RP_OK, "%s", name);
        cr_expect_eq((int)back, r);
    }
    cr_expect_str_eq(rp_reason_name(RP_REASON_RELAY_DENIED), "relay-denied");
    cr_expect_eq(rp_reason_from_name("relay-denyed", &(rp_reason){0}),
                 RP_E_ARG);
    cr_expect_eq(rp_reason_from_name(NULL, &(rp_reason){0}), RP_E_ARG);
    cr_expect_eq(rp_reason_from_name("none", &(rp_reason){0}), RP_E_ARG);
}

Test(status, verdict_names)
{
    cr_expect_str_eq(rp_verdict_name(RP_ACCEPT), "ACCEPT");
    cr_expect_str_eq(rp_verdict_name(RP_RELAY), "RELAY");
    cr_expect_str_eq(rp_verdict_name(RP_REJECT), "REJECT");
    cr_expect_str_eq(rp_verdict_name(RP_TEMPFAIL), "TEMPFAIL");
}
