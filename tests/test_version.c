/*
 * test_version.c - the header and the library agree on the version.
 */
#include "relaypolicy.h"

#include <criterion/criterion.h>
#include <stdio.h>

Test(version, header_matches_library)
{
    char text[32];

    cr_expect_eq(rp_version(), (uint32_t)RP_VERSION_NUM);
    cr_expect_str_eq(rp_version_string(), RP_VERSION_STRING);
    snprintf(text, sizeof(text), "%d.%d.%d", RP_VERSION_MAJOR,
             RP_VERSION_MINOR, RP_VERSION_PATCH);
    cr_expect_str_eq(text, RP_VERSION_STRING);
    cr_expect(RP_VERSION_AT_LEAST(0, 0, 1));
    cr_expect(RP_VERSION_AT_LEAST(RP_VERSION_MAJOR, RP_VERSION_MINOR,
                                  RP_VERSION_PATCH));
    cr_expect(!RP_VERSION_AT_LEAST(RP_VERSION_MAJOR + 1, 0, 0));
}
