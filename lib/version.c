/*
 * version.c - the library's version at run time.
 */
#include "relaypolicy.h"

uint32_t
rp_version(void)
{
    return RP_VERSION_NUM;
}

const char *
rp_version_string(void)
{
    return RP_VERSION_STRING;
}
