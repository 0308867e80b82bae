/*
 * workspace.c - the per-thread workspace of rp_decide(), the checks of the
 * facts of a query (API errors, relaypolicy(7) §2) and binary addresses.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "alloc.h"
#include "certfp.h"
#include "decide.h"
#include "ipaddr.h"
#include "options.h"
#include "relaypolicy.h"
#include "rp_regex.h"

#define NAME_MAX_LEN 255
#define EXPLAIN_MIN 256u
#define EXPLAIN_MAX (1u << 20)

/* The explanation capacity and batch capacity @p opts asks for: 0, or -1
 * when out of range. */
static int
workspace_sizes(const rp_options *opts, uint32_t *cap, uint32_t *slots)
{
    *cap = RP_EXPLAIN_DEFAULT;
    *slots = 1;
    if (rp__options_check(opts, NULL) != RP_OK)
        return -1;
    if (opts != NULL && opts->explain_capacity != 0)
        *cap = opts->explain_capacity;
    if (opts != NULL && opts->batch_capacity != 0)
        *slots = opts->batch_capacity;
    if (*cap < EXPLAIN_MIN || *cap > EXPLAIN_MAX || *slots > RP_BATCH_MAX)
        return -1;
    return 0;
}

rp_status
rp_workspace_new(const rp_options *opts, rp_workspace **out)
{
    uint32_t cap, slots;
    rp_workspace *ws;
    rp__alloc a;

    if (out == NULL)
        return RP_E_ARG;
    *out = NULL;
    if (workspace_sizes(opts, &cap, &slots) != 0)
        return RP_E_ARG;
    rp__alloc_init(&a, opts != NULL ? opts->allocator : NULL);
    ws = rp__calloc(&a, 1, sizeof(*ws));
    if (ws == NULL)
        return RP_E_NOMEM;
    ws->alloc = a;
    ws->slots = rp__calloc(&a, slots, sizeof(*ws->slots));
    ws->explain = rp__malloc(&a, (size_t)slots * cap);
    if (ws->slots == NULL || ws->explain == NULL ||
        rp__scratch_setup(&ws->scratch, &ws->alloc) != 0) {
        rp_workspace_free(ws);
        return RP_E_NOMEM;
    }
    ws->n_slots = slots;
    for (size_t i = 0; i < slots; i++) {
        rp__ctx *c = &ws->slots[i];
        c->explain_cap = cap;
        c->explanation = ws->explain + i * cap;
        c->explanation[0] = '\0';
        c->scratch = &ws->scratch;
    }
    *out = ws;
    return RP_OK;
}

void
rp_workspace_free(rp_workspace *ws)
{
    rp__alloc a;

    if (ws == NULL)
        return;
    a = ws->alloc;
    rp__scratch_release(&ws->scratch, &a);
    rp__free(&a, ws->explain);
    rp__free(&a, ws->slots);
    rp__free(&a, ws);
}

/* ---- binary addresses -----------------------------------------------------
 */

/* The internal form of a binary address: IPv4 under ::ffff:0:0/96. */
static int
from_binary(const rp_ip *in, rp__ip *out)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
                                       0, 0, 0, 0, 0xff, 0xff};

    memset(out, 0, sizeof(*out));
    if (in->family == 4) {
        memcpy(out->b, mapped, 12);
        memcpy(out->b + 12, in->addr, 4);
        out->family = 4;
        return 0;
    }
    if (in->family != 6)
        return -1;
    memcpy(out->b, in->addr, 16);
    out->family = memcmp(out->b, mapped, 12) == 0 ? 4 : 6;
    return 0;
}

static void
to_binary(const rp__ip *in, rp_ip *out)
{
    memset(out, 0, sizeof(*out));
    out->family = (uint32_t)in->family;
    if (in->family == 4)
        memcpy(out->addr, in->b + 12, 4);
    else
        memcpy(out->addr, in->b, 16);
}

rp_status
rp_ip_parse(const char *text, size_t len, rp_ip *out)
{
    rp__ip ip;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (text == NULL || out == NULL ||
        rp__ip_parse(text, rp__span_len(text, len), &ip) != 0)
        return RP_E_ARG;
    to_binary(&ip, out);
    return RP_OK;
}

rp_status
rp_ip_from_sockaddr(const struct sockaddr *sa, rp_ip *out)
{
    rp_ip ip;
    rp__ip norm;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (sa == NULL || out == NULL)
        return RP_E_ARG;
    memset(&ip, 0, sizeof(ip));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        ip.family = 4;
        memcpy(ip.addr, &s4->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        ip.family = 6;
        memcpy(ip.addr, &s6->sin6_addr, 16);
    } else {
        return RP_E_ARG;
    }
    from_binary(&ip, &norm);
    to_binary(&norm, out);
    return RP_OK;
}

/* ---- the facts ------------------------------------------------------------
 */

void
rp__decision_clear(rp_decision *d)
{
    memset(d, 0, sizeof(*d));
    d->verdict = RP_VERDICT_NONE;
    d->enhanced[0] = '\0';
    d->text = "";
    d->reply = "";
    d->listener_index = -1;
    d->listener = "";
    d->rule = -1;
    d->rule_file = "";
    d->prefix_len = -1;
    d->detail = "";
    d->destination = "";
    d->rewritten = "";
    d->explanation = "";
}

static rp_status
api_error(rp_decision *d, const char *why)
{
    d->verdict = RP_VERDICT_NONE;
    d->detail = why;
    return RP_E_ARG;
}

static bool
valid_name(const char *s, size_t n)
{
    if (s == NULL || n == 0 || n > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return false;
    return true;
}

/* One address, in binary or as text (exactly one of them). */
static bool
take_ip(const rp_ip *bin, const char *text, size_t len, rp__ip *out)
{
    if (bin->family != 0)
        return text == NULL && from_binary(bin, out) == 0;
    return text != NULL &&
           rp__ip_parse(text, rp__span_len(text, len), out) == 0;
}

/* take_ip() of the local IP, with the slot's last parse of the same
 * text reused. */
static bool
take_local(rp__ctx *c)
{
    const rp_query *q = c->q;
    size_t n;

    if (q->local.family != 0 || q->local_ip == NULL)
        return take_ip(&q->local, q->local_ip, q->local_ip_len, &c->local);
    n = rp__span_len(q->local_ip, q->local_ip_len);
    if (n != 0 && n == c->local_text_len &&
        memcmp(q->local_ip, c->local_text, n) == 0) {
        c->local = c->local_parsed;
        return true;
    }
    if (rp__ip_parse(q->local_ip, n, &c->local) != 0)
        return false;
    if (n < sizeof(c->local_text)) {
        memcpy(c->local_text, q->local_ip, n);
        c->local_text_len = n;
        c->local_parsed = c->local;
    }
    return true;
}

static bool
has_ip(const rp_ip *bin, const char *text)
{
    return bin->family != 0 || text != NULL;
}

/* The client, and the peer and certificate when given (relaypolicy(7)
 * §2): false with the reason in c->fail for bad facts. */
static bool
take_facts(rp__ctx *c)
{
    const rp_query *q = c->q;
    bool peer = has_ip(&q->peer, q->peer_ip);

    c->fail = "client IP is missing, given twice or not a strict IP address";
    if ((!peer || has_ip(&q->client, q->client_ip)) &&
        !take_ip(&q->client, q->client_ip, q->client_ip_len, &c->client))
        return false;
    c->fail = "peer IP is given twice or is not a strict IP address";
    if (peer && !take_ip(&q->peer, q->peer_ip, q->peer_ip_len, &c->peer))
        return false;
    c->fail = "the certificate fingerprint is not 64 hex digits (colons "
              "allowed)";
    if (q->cert_fingerprint != NULL &&
        rp__fp_parse(q->cert_fingerprint,
                     rp__span_len(q->cert_fingerprint, q->cert_fingerprint_len),
                     c->cert, NULL) != 0)
        return false;
    c->has_cert = q->cert_fingerprint != NULL;
    c->fail = NULL;
    if (peer && !has_ip(&q->client, q->client_ip))
        c->client = c->peer; /* no claim: the peer is the client */
    else if (peer)
        c->proxy = RP__PROXY_IGNORED; /* until the peer is found trusted */
    return true;
}

/* Flags this version knows and reserved fields left zero. */
static bool
query_shape_ok(const rp_query *q)
{
    if (q->flags & ~(uint32_t)RP__QUERY_FLAGS || q->reserved1 != 0)
        return false;
    for (size_t i = 0; i < sizeof(q->reserved) / sizeof(q->reserved[0]); i++)
        if (q->reserved[i] != 0)
            return false;
    return true;
}

rp_status
rp__query_check(rp__ctx *c)
{
    const rp_query *q = c->q;
    rp_decision *d = c->d;

    if (!query_shape_ok(q))
        return api_error(d, "unknown query flag or non-zero reserved field");
    if (!take_facts(c))
        return api_error(d, c->fail);
    if (!take_local(c))
        return api_error(d, "local IP is missing, given twice or not a "
                            "strict IP address");
    if (q->local_port < 1 || q->local_port > 65535)
        return api_error(d, "local port must be 1-65535");
    if (q->recipient == NULL)
        return api_error(d, "recipient is missing");
    if (q->user != NULL) {
        c->user = q->user;
        c->user_len = rp__span_len(q->user, q->user_len);
        if (!valid_name(c->user, c->user_len))
            return api_error(d, "user name is empty, too long or holds "
                                "control characters");
    }
    if (q->n_groups > 0 && (q->groups == NULL || q->user == NULL))
        return api_error(d, "groups need a group array and a user");
    for (size_t i = 0; i < q->n_groups; i++)
        if (q->groups[i] == NULL ||
            !valid_name(q->groups[i], strnlen(q->groups[i], 256)))
            return api_error(d, "group name is empty, too long or holds "
                                "control characters");
    return RP_OK;
}
