/*
 * conn.h - one client connection of relaypolicyd: its buffers, its
 * deadlines and the parsing of its requests.  The event loop (server.c)
 * owns every connection; nothing here blocks.
 */
#ifndef RPD_CONN_H
#define RPD_CONN_H

#include "request.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes read from a client at once, and kept when its answers back up. */
#define RPD_IN_MAX 4096
/* Answers waiting for a client to read them. */
#define RPD_OUT_MAX 8192

typedef struct conn {
    int fd;
    bool inet;                   /* per-client caps apply to inet peers */
    char peer[INET6_ADDRSTRLEN]; /* the client's address, or "unix" */
    double since;                /* when it became idle, or when it stalled */
    double idle_at;              /* last time it had nothing pending */
    uint64_t idle_seq;           /* order in which connections became idle */
    double req_start;            /* first byte of the current request, or 0 */
    double out_since;            /* oldest unsent answer, or 0 */
    bool paused;                 /* not reading: its answers back up */
    bool eof;                    /* the client closed its side */
    uint32_t events;             /* what epoll watches for */
    /* Input not yet parsed. */
    char in[RPD_IN_MAX];
    size_t in_off, in_len;
    /* The current line and request. */
    char line[PD_MAX_LINE + 1];
    size_t n_line;
    bool discarding; /* skipping the rest of an over-long line */
    uint64_t n_malformed; /* malformed requests; only the first is logged */
    pd_request req;
    /* Answers not yet sent. */
    char out[RPD_OUT_MAX];
    size_t out_off, out_len;
} conn;

/* True while a request is partly read or an answer waits to be sent. */
static inline bool
conn_busy(const conn *c)
{
    return c->req_start != 0 || c->out_len > c->out_off;
}

/*
 * Parse buffered input, answering each complete request into the output
 * buffer, until the input is used up or the output has no room for
 * another answer.  @p now stamps the start of a request.
 */
void conn_parse(conn *c, double now);

/* Send what can be sent without blocking.  False on a dead connection. */
bool conn_flush(conn *c);

#endif /* RPD_CONN_H */
