/*
 * replay_log.h - session facts recovered from Postfix logs, for `relaypolicy
 * replay` (see replay_log.c for what a log line tells and what it does not).
 */
#ifndef RP_REPLAY_LOG_H
#define RP_REPLAY_LOG_H

#include <stddef.h>
#include <stdint.h>

#define PFLOG_ADDR 512

/* The facts of one recipient as a Postfix log gives them.  Strings are
 * NUL-terminated; from_set is false when the sender is unknown. */
typedef struct pflog_fact {
    char client[64];
    char from[PFLOG_ADDR];
    char to[PFLOG_ADDR];
    char helo[256];
    char user[256]; /* "" when not logged in (or not logged) */
    uint32_t port;  /* from the smtpd service name; 0: not known */
    int accepted;   /* 1: from a delivery, 0: from a reject line */
} pflog_fact;

typedef struct pflog pflog;

pflog *pflog_new(void);
void pflog_free(pflog *lg);

/* Reads one log line.  Returns 1 with *out filled when the line completes
 * the facts of a recipient, 0 when it is not such a line (other log lines,
 * or a delivery whose connection was not in the log: counted in
 * *unknown_client when not NULL). */
int pflog_line(pflog *lg,
               const char *s,
               size_t n,
               pflog_fact *out,
               unsigned long *unknown_client);

/* Does the line look like a Postfix log line at all? */
int pflog_is_postfix(const char *s, size_t n);

#endif /* RP_REPLAY_LOG_H */
