/*
 * log.h - relaypolicyd's log: one line per event on standard error (the
 * journal under systemd), with a rate limit on what clients can cause.
 */
#ifndef RPD_LOG_H
#define RPD_LOG_H

#include <stdbool.h>

/* Lines a client can cause (decisions, malformed requests, timeouts) are
 * limited to @p per_second on average, in bursts of up to twice that; 0
 * means no limit.  Call once, before any other thread logs. */
void rpd_log_init(const char *ident, unsigned per_second);

/* An operator's line (start, reload, stop, errors): never limited. */
void rpd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A line a client caused: dropped beyond the rate limit; the number
 * dropped is logged once lines are allowed again. */
void rpd_log_limited(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Write buffered lines out (the event loop calls it once per round). */
void rpd_log_flush(void);

/* Copy @p in to @p out (of @p size bytes) with every byte outside printable
 * ASCII replaced by '?', so a client's text cannot forge log lines. */
const char *rpd_log_safe(const char *in, char *out, unsigned size);

#endif /* RPD_LOG_H */
