/*
 * query.h - the facts of one recipient, given as text, turned into an
 * rp_query and decided with the calling thread's workspace.
 *
 * The one source relaypolicyd (daemon/request.c) and the MTA filters
 * (mta/common/ask.c) share: every surface fills its query and calls
 * rp_decide() the same way, so a change of either is made once.
 */
#ifndef MTA_QUERY_H
#define MTA_QUERY_H

#include <relaypolicy.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The facts as an MTA hands them over; every string NUL-terminated. */
typedef struct mta_text_facts {
    const char *client_ip;
    const char *local_ip;
    uint32_t local_port;
    const char *user;   /* NULL or "": not authenticated. */
    const char *helo;   /* NULL or "": none given. */
    const char *sender; /* NULL: no MAIL FROM. */
    const char *recipient;
    bool tls;
    bool smtputf8; /* SMTPUTF8 on MAIL FROM. */
} mta_text_facts;

/** Fill @p q from @p t (borrowing its strings). */
void mta_query_fill(const mta_text_facts *t, rp_query *q);

/**
 * rp_decide() with the calling thread's workspace, made on its first
 * decision and freed when the thread ends.  Without one (no memory) the
 * library answers RP_E_ARG, which every caller turns into 451.
 */
rp_status
mta_query_decide(const rp_policy *policy, const rp_query *q, rp_decision *d);

/** Parse a decimal port 1-65535 without sign, spaces or leading zeros. */
bool mta_port_parse(const char *in, uint32_t *out);

/**
 * Copy @p src into @p dst (@p size bytes, NUL included), cut to fit, with
 * every byte outside printable ASCII replaced by '?': a reply can never
 * break the protocol it is sent in.  Returns the length written.
 */
size_t mta_copy_printable(char *dst, size_t size, const char *src);

#endif /* MTA_QUERY_H */
