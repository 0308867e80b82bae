/*
 * vectors.h - reading the decision vectors of tests/data/decide (.txt).
 *
 * Each file names its policy ("policy FILE", relative to the file) and then
 * holds one query per line:
 *   CLIENT LOCAL:PORT USER[:GROUP,...]|- SENDER|<>|- RECIPIENT
 *       => VERDICT CODE ENHANCED REASON [step=N] [line=N] [listener=NAME]
 *          [rewritten=ADDR] [destination=ADDR] [smtputf8=yes]
 *          [peer=IP] [cert=FINGERPRINT] [explain=WORDS_WITH_UNDERSCORES]
 * LOCAL:PORT uses [v6]:PORT or v6:PORT (the last colon separates the port).
 * peer= and cert= are query facts (with peer=, CLIENT is the claimed
 * client IP, or "-" for none); explain= must appear in the explanation,
 * each '_' standing for a space.
 */
#ifndef RP_TEST_VECTORS_H
#define RP_TEST_VECTORS_H

#include "relaypolicy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEC_MAX_GROUPS 8

typedef struct vec_case {
    char buf[2048];
    char local_ip[64];
    const char *client, *user, *sender, *recipient;
    const char *groups[VEC_MAX_GROUPS];
    size_t n_groups;
    unsigned port;
    const char *verdict, *enhanced, *reason;
    unsigned code;
    const char *checks[8]; /* key=value */
    size_t n_checks;
    bool smtputf8; /* "smtputf8=yes": the query has RP_QUERY_SMTPUTF8 */
    const char *peer, *cert; /* "peer=IP", "cert=FP": query facts */
} vec_case;

/* Split @p line into a case; returns 0, or -1 for a malformed line. */
static inline int
vec_parse(const char *line, vec_case *c)
{
    char *tok[24], *save = NULL, *p;
    size_t n = 0;

    memset(c, 0, sizeof(*c));
    snprintf(c->buf, sizeof(c->buf), "%s", line);
    for (p = strtok_r(c->buf, " \t\r\n", &save); p != NULL && n < 24;
         p = strtok_r(NULL, " \t\r\n", &save))
        tok[n++] = p;
    if (n < 10 || strcmp(tok[5], "=>") != 0)
        return -1;
    c->client = tok[0];
    p = strrchr(tok[1], ':');
    if (p == NULL)
        return -1;
    *p = '\0';
    c->port = (unsigned)strtoul(p + 1, NULL, 10);
    snprintf(c->local_ip, sizeof(c->local_ip), "%s",
             tok[1][0] == '[' ? tok[1] + 1 : tok[1]);
    if ((p = strchr(c->local_ip, ']')) != NULL)
        *p = '\0';
    c->user = strcmp(tok[2], "-") == 0 ? NULL : tok[2];
    if (c->user != NULL && (p = strchr(tok[2], ':')) != NULL) {
        *p++ = '\0';
        for (char *g = strtok_r(p, ",", &save); g && c->n_groups < 8;
             g = strtok_r(NULL, ",", &save))
            c->groups[c->n_groups++] = g;
    }
    c->sender = strcmp(tok[3], "-") == 0 ? NULL : tok[3];
    c->recipient = tok[4];
    c->verdict = tok[6];
    c->code = (unsigned)strtoul(tok[7], NULL, 10);
    c->enhanced = tok[8];
    c->reason = tok[9];
    for (size_t i = 10; i < n && c->n_checks < 8; i++) {
        if (strcmp(tok[i], "smtputf8=yes") == 0)
            c->smtputf8 = true;
        else if (strncmp(tok[i], "peer=", 5) == 0)
            c->peer = tok[i] + 5;
        else if (strncmp(tok[i], "cert=", 5) == 0)
            c->cert = tok[i] + 5;
        else
            c->checks[c->n_checks++] = tok[i];
    }
    return 0;
}

/* A query with the connection facts and a recipient; the rest zero. */
static inline void
vec_fill(rp_query *q,
         const char *client,
         const char *local,
         unsigned port,
         const char *rcpt)
{
    memset(q, 0, sizeof(*q));
    q->client_ip = client;
    q->client_ip_len = RP_NTS;
    q->local_ip = local;
    q->local_ip_len = RP_NTS;
    q->local_port = port;
    q->recipient = rcpt;
    q->recipient_len = RP_NTS;
}

static inline void
vec_query(const vec_case *c, rp_query *q)
{
    memset(q, 0, sizeof(*q));
    q->client_ip = strcmp(c->client, "-") == 0 ? NULL : c->client;
    q->client_ip_len = RP_NTS;
    q->peer_ip = c->peer;
    q->peer_ip_len = RP_NTS;
    q->cert_fingerprint = c->cert;
    q->cert_fingerprint_len = RP_NTS;
    q->local_ip = c->local_ip;
    q->local_ip_len = RP_NTS;
    q->local_port = c->port;
    q->user = c->user;
    q->user_len = RP_NTS;
    q->groups = c->n_groups ? c->groups : NULL;
    q->n_groups = c->n_groups;
    q->sender = c->sender;
    q->sender_len = RP_NTS;
    q->recipient = c->recipient;
    q->recipient_len = RP_NTS;
    q->flags = RP_QUERY_EXPLAIN | (c->smtputf8 ? RP_QUERY_SMTPUTF8 : 0);
}

/* Compare a decision with the case; writes what differs to @p why. */
static inline int
vec_check(const vec_case *c, const rp_decision *d, char *why, size_t size)
{
    why[0] = '\0';
    if (strcmp(rp_verdict_name(d->verdict), c->verdict) != 0 ||
        d->code != c->code || strcmp(d->enhanced, c->enhanced) != 0 ||
        strcmp(rp_reason_name(d->reason), c->reason) != 0) {
        snprintf(why, size, "got %s %u %s %s", rp_verdict_name(d->verdict),
                 (unsigned)d->code, d->enhanced, rp_reason_name(d->reason));
        return -1;
    }
    for (size_t i = 0; i < c->n_checks; i++) {
        const char *k = c->checks[i], *v = strchr(k, '=');
        const char *got = "";
        char num[32];

        if (v == NULL)
            continue;
        v++;
        if (strncmp(k, "explain=", 8) == 0) {
            char want[256];
            size_t n = 0;

            for (; v[n] != '\0' && n + 1 < sizeof(want); n++)
                want[n] = v[n] == '_' ? ' ' : v[n];
            want[n] = '\0';
            if (strstr(d->explanation, want) != NULL)
                continue;
            snprintf(why, size, "explanation lacks '%.200s'", want);
            return -1;
        }
        if (strncmp(k, "step=", 5) == 0) {
            snprintf(num, sizeof(num), "%d", (int)d->step);
            got = num;
        } else if (strncmp(k, "line=", 5) == 0) {
            snprintf(num, sizeof(num), "%u", (unsigned)d->rule_line);
            got = num;
        } else if (strncmp(k, "listener=", 9) == 0) {
            got = d->listener;
        } else if (strncmp(k, "rewritten=", 10) == 0) {
            got = d->rewritten;
        } else if (strncmp(k, "destination=", 12) == 0) {
            got = d->destination;
        }
        if (strcmp(got, v) != 0) {
            snprintf(why, size, "%.*s: got '%.100s'", (int)(v - k - 1), k, got);
            return -1;
        }
    }
    return 0;
}

#endif /* RP_TEST_VECTORS_H */
