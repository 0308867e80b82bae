/*
 * test_ws.h - one workspace per test process, for tests that decide on
 * the main thread.  It stays reachable until the process ends.
 */
#ifndef RP_TEST_WS_H
#define RP_TEST_WS_H

#include "relaypolicy.h"

#include <stdlib.h>

static rp_workspace *test_ws_;

/* The test's workspace, made on first use. */
static inline rp_workspace *
test_ws(void)
{
    if (test_ws_ == NULL && rp_workspace_new(NULL, &test_ws_) != RP_OK)
        abort();
    return test_ws_;
}

#endif /* RP_TEST_WS_H */
