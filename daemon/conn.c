/*
 * conn.c - parsing a client's requests, answering them and sending the
 * answers, without ever blocking.
 */
#include "conn.h"

#include "log.h"
#include "rpd.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* Log one decision: the facts, the reply, and the rule that decided
 * (file:line), for permits too. */
static void
log_decision(const conn *c, const rp_decision *d)
{
    char from[128], to[128], user[64], helo[64], client[64], server[80];
    const pd_request *r = &c->req;

    if (d->reason == RP_REASON_NO_LISTENER)
        rpd_note_no_listener(r->server_address, r->server_port);
    if (rpd_cfg.quiet)
        return;
    rpd_log_limited(
        "%s: client=%s server=%s:%s helo=%s user=%s from=<%s> to=<%s>: "
        "%s (%s) listener=%s rule=%s:%u",
        c->peer, rpd_log_safe(r->client_address, client, sizeof(client)),
        rpd_log_safe(r->server_address, server, sizeof(server)), r->server_port,
        rpd_log_safe(r->helo_name, helo, sizeof(helo)),
        r->sasl_username[0] != '\0'
            ? rpd_log_safe(r->sasl_username, user, sizeof(user))
            : "-",
        rpd_log_safe(r->sender, from, sizeof(from)),
        rpd_log_safe(r->recipient, to, sizeof(to)), d->reply,
        rp_reason_name(d->reason),
        d->listener != NULL && d->listener[0] != '\0' ? d->listener : "-",
        d->rule_file != NULL && d->rule_file[0] != '\0' ? d->rule_file : "-",
        (unsigned)d->rule_line);
}

/* Answer the request just completed into the output buffer. */
static void
answer(conn *c)
{
    rp_policy *p = rp_slot_acquire(rpd_slot);
    const char *why = NULL;
    rp_decision d;
    pd_outcome o;
    char *out = c->out + c->out_len;

    o = pd_request_answer(&c->req, p, &rpd_cfg.style, &d, out, &why);
    /* A client can send malformed requests as fast as it can write: log
     * the first one, count the rest and say how many when it leaves, so a
     * flood costs two log lines whatever its size or speed. */
    if (o == PD_MALFORMED && c->n_malformed++ == 0)
        rpd_log_limited("%s: malformed request (%s): answered 451 4.3.0",
                        c->peer, why);
    else if (o == PD_DECIDED)
        log_decision(c, &d);
    rp_policy_free(p);
    c->out_len += strlen(out);
    pd_request_init(&c->req);
    c->req_start = 0;
}

/* One complete line (without '\n'): an attribute, or the request's end. */
static void
take_line(conn *c)
{
    if (c->n_line == 0 || (c->n_line == 1 && c->line[0] == '\r'))
        answer(c);
    else
        pd_request_line(&c->req, c->line, c->n_line);
}

static bool
out_has_room(const conn *c)
{
    return RPD_OUT_MAX - c->out_len > PD_MAX_ACTION;
}

void
conn_parse(conn *c, double now)
{
    /* Compact the output buffer so that answers can be appended. */
    if (c->out_off > 0) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
    }
    while (c->in_off < c->in_len && out_has_room(c)) {
        char ch = c->in[c->in_off++];

        if (c->req_start == 0)
            c->req_start = now;
        if (ch == '\n') {
            if (!c->discarding)
                take_line(c);
            c->discarding = false;
            c->n_line = 0;
        } else if (c->discarding) {
            continue;
        } else if (c->n_line == PD_MAX_LINE) {
            pd_request_fail(&c->req, "line too long");
            c->discarding = true;
        } else {
            c->line[c->n_line++] = ch;
        }
    }
    if (c->in_off == c->in_len)
        c->in_off = c->in_len = 0;
    if (c->out_len > c->out_off && c->out_since == 0)
        c->out_since = now;
}

bool
conn_flush(conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n <= 0)
            return false;
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    c->out_since = 0;
    return true;
}
