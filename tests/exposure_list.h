/*
 * exposure_list.h - rp_policy_exposure()'s ranges collected into an array,
 * whether they list an unauthenticated (client, local address, port), and
 * the binds random test policies pick from.
 *
 * Shared by tests/test_exposure.c and fuzz/fuzz_exposure.c, which both
 * hold the analysis against rp_decide().  Static helpers with no test
 * framework, so that a fuzz target can include it as it is.  Define
 * EXPOSURE_LIST_MAX before including it for another capacity.
 */
#ifndef RP_EXPOSURE_LIST_H
#define RP_EXPOSURE_LIST_H

#include "relaypolicy.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The binds the random policies of both pick from: the address and port
 * as written, the explicit address (NULL for a wildcard) and the port (0
 * for any port). */
#define EXPOSURE_N_BINDS 10
static const char *const exposure_binds[EXPOSURE_N_BINDS]
    __attribute__((unused)) = {"0.0.0.0:25",
                               "[::]:25",
                               "*:25",
                               "*:587",
                               "*",
                               "10.9.9.9:25",
                               "[2001:db8::1]:25",
                               "192.0.2.1:*",
                               "0.0.0.0:*",
                               "10.9.9.9:587"};
static const char *const exposure_bind_ips[EXPOSURE_N_BINDS]
    __attribute__((unused)) = {NULL, NULL,       NULL,          NULL,
                               NULL, "10.9.9.9", "2001:db8::1", "192.0.2.1",
                               NULL, "10.9.9.9"};
static const unsigned exposure_bind_ports[EXPOSURE_N_BINDS]
    __attribute__((unused)) = {25, 25, 25, 587, 0, 25, 25, 0, 0, 587};

#ifndef EXPOSURE_LIST_MAX
#define EXPOSURE_LIST_MAX 4096
#endif

typedef struct exposure_list {
    rp_exposure v[EXPOSURE_LIST_MAX];
    size_t n;
    bool full; /* a range came when v was full: the walk stopped there */
} exposure_list;

/* An rp_exposure_fn: append the range to the exposure_list @p ctx; stop the
 * walk when it is full. */
static inline int
exposure_keep(void *ctx, const rp_exposure *e)
{
    exposure_list *g = ctx;

    if (g->n == EXPOSURE_LIST_MAX) {
        g->full = true;
        return 1;
    }
    g->v[g->n++] = *e;
    return 0;
}

/* The bytes of an address text into @p b: 4 for IPv4 (an IPv4-mapped
 * IPv6 address too, as its IPv4 bytes), 6 for IPv6 (16 bytes), 0 when
 * @p text is no address. */
static inline int
exposure_addr(const char *text, uint8_t b[16])
{
    if (inet_pton(AF_INET, text, b) == 1)
        return 4;
    if (inet_pton(AF_INET6, text, b) != 1)
        return 0;
    if (memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
        memmove(b, b + 12, 4);
        return 4;
    }
    return 6;
}

/* Is the address @p b of @p family (4 or 6) inside @p r? */
static inline bool
exposure_inside(const rp_exposure_range *r, const uint8_t *b, int family)
{
    size_t n = family == 4 ? 4 : 16;

    return r->family == family && memcmp(r->first, b, n) <= 0 &&
           memcmp(b, r->last, n) <= 0;
}

/* Does @p g list a client at @p client connected to @p local:@p port?
 * @p other: @p port is one that no bind names, which a local range's port
 * 0 stands for.  Both addresses must be address texts (abort otherwise:
 * the callers make them). */
static inline bool
exposure_lists(const exposure_list *g,
               const char *client,
               const char *local,
               unsigned port,
               bool other)
{
    uint8_t c[16], l[16];
    int cf = exposure_addr(client, c), lf = exposure_addr(local, l);

    if (cf == 0 || lf == 0)
        abort();
    for (size_t i = 0; i < g->n; i++) {
        if (!exposure_inside(&g->v[i].client, c, cf))
            continue;
        for (size_t k = 0; k < g->v[i].n_locals; k++) {
            const rp_exposure_local *x = &g->v[i].locals[k];
            if (exposure_inside(&x->range, l, lf) &&
                (x->port == port || (x->port == 0 && other)))
                return true;
        }
    }
    return false;
}

#endif /* RP_EXPOSURE_LIST_H */
