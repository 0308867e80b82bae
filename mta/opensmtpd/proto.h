/*
 * proto.h - OpenSMTPD's filter protocol (smtpd-filters(7)), protocol
 * versions 0.5 to 0.7: the session facts from the reports, and the answer
 * to every rcpt-to filter request.
 */
#ifndef OSF_PROTO_H
#define OSF_PROTO_H

#include "ask.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Lines longer than this are cut; a cut filter request is tempfailed. */
#define OSF_LINE_MAX 65536

typedef struct osf_session osf_session;

/** Everything the filter keeps: sessions, the policy slot, the output. */
typedef struct osf_state {
    rp_policy_slot *slot;
    osf_session **buckets;
    size_t n_buckets;
    size_t n_sessions;
    size_t max_sessions;
    bool quiet; /* log refusals only */
    bool ready; /* config|ready seen and registered */
    /* Where answers go: called with one complete line (with '\n'). */
    bool (*write)(void *ctx, const char *line, size_t len);
    void *write_ctx;
} osf_state;

/** Set up @p st; false when out of memory. */
bool osf_init(osf_state *st, rp_policy_slot *slot, size_t max_sessions);

/** Free every session. */
void osf_free(osf_state *st);

/**
 * Handle one line from smtpd (without its newline, NUL-terminated; it is
 * split in place).  @p cut says the line was
 * longer than OSF_LINE_MAX and only its start is given.
 * @return false on a protocol error the filter cannot go on from (smtpd
 *         must then fail: the caller exits non-zero).
 */
bool osf_line(osf_state *st, char *line, size_t len, bool cut);

/**
 * Take the recipient's path out of the RCPT TO argument: "<a@b> NOTIFY=..."
 * gives "<a@b>"; quoted local parts may hold spaces and '>'.
 * Writes at most @p size - 1 bytes; an over-long path is cut (still
 * longer than RFC 5321 allows, so the library refuses it).
 */
void osf_rcpt_path(const char *arg, char *out, size_t size);

#endif /* OSF_PROTO_H */
