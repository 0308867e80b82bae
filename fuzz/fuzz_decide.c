/*
 * fuzz_decide.c - rp_decide() on a fixed, realistic policy with fuzzed
 * session facts.
 *
 * Input layout: two selector bytes, then fields separated by '\n':
 *   recipient, sender, user, client IP, helo.
 * Byte 0: bits 0-2 pick the client, bit 3 picks it from the untrusted
 * clients instead of all clients, bits 4-5 the local address, bits 6-7 the
 * port.  Byte 1: bit 0 authenticates as the user field, bit 1 asks for an
 * explanation, bit 2 takes the client IP from its field, bit 3 passes the
 * caller-resolved group "admins".
 *
 * Invariants checked on every decision (abort on violation):
 *   1. an unauthenticated client without the relay permission never gets
 *      RELAY unless the effective destination is in a relay domain (or is
 *      the target of a reroute domain) and holds no routing characters;
 *      an untrusted client never holds the relay permission;
 *   2. ACCEPT only ever goes to a local destination;
 *   3. a recipient that is not a valid path (bad syntax, control or 8-bit
 *      bytes, longer than 256 octets with its brackets) is never accepted
 *      or relayed;
 *   4. the reply is consistent: 2xx for ACCEPT and RELAY, 4xx for
 *      TEMPFAIL, 5xx for REJECT, and the reply line starts with the code;
 *   5. only bad facts (a fuzzed client IP or user name, groups without a
 *      user) give an error status, and then with no verdict.
 */
#include "fuzz_common.h"
#include "address.h"

#include <stdio.h>

static rp_policy *policy;

static void
fail(const char *what, const rp_query *q, const rp_decision *d)
{
    fprintf(stderr,
            "invariant broken: %s\n  client %.*s user %s recipient <%.*s>\n"
            "  verdict %s reason %s reply \"%s\" destination <%s> "
            "rewritten <%s> permissions 0x%x\n",
            what, (int)q->client_ip_len, q->client_ip,
            q->user != NULL ? "(set)" : "(none)", (int)q->recipient_len,
            q->recipient, rp_verdict_name(d->verdict),
            rp_reason_name(d->reason), d->reply, d->destination, d->rewritten,
            (unsigned)d->permissions);
    abort();
}

/* Does @p dom match /^mx[0-9]+\.partner\.example$/? */
static bool
partner_mx(const char *dom)
{
    const char *s = dom + 2;

    if (strncmp(dom, "mx", 2) != 0 || *s < '0' || *s > '9')
        return false;
    while (*s >= '0' && *s <= '9')
        s++;
    return strcmp(s, ".partner.example") == 0;
}

/* The domain of canonical text "local@domain", or NULL. */
static const char *
domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');

    return at != NULL ? at + 1 : NULL;
}

static void
check_relay(const rp_query *q, const rp_decision *d)
{
    const char *dom = domain_of(d->destination);
    const char *at = strrchr(d->destination, '@');

    if (dom == NULL)
        fail("RELAY without a destination domain", q, d);
    for (const char *s = d->destination; s < at; s++)
        if (*s == '%' || *s == '!' || *s == '@')
            fail("RELAY to a destination holding routing characters", q, d);
    if (strcmp(dom, "relay.example") == 0 || partner_mx(dom))
        return;
    if (d->rewritten[0] != '\0' && strcmp(dom, "target.example") == 0)
        return;
    fail("RELAY to a domain outside the relay domains", q, d);
}

static void
check_accept(const rp_query *q, const rp_decision *d)
{
    const char *dom = domain_of(d->destination);
    size_t n;

    if (dom == NULL) {
        if (strcmp(d->destination, "postmaster") != 0)
            fail("ACCEPT without a destination domain", q, d);
        return;
    }
    n = strlen(dom);
    if (strcmp(dom, "local.example") == 0 || strcmp(dom, "corp.example") == 0 ||
        (n > 13 && strcmp(dom + n - 13, ".corp.example") == 0) || dom[0] == '[')
        return;
    fail("ACCEPT to a domain that is not local", q, d);
}

/* Is the recipient something no decision may accept or relay? */
static bool
invalid_recipient(const rp_query *q)
{
    const char *s = q->recipient;
    size_t n = q->recipient_len;
    rp__addr a;

    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            return true;
    if ((n > 0 && s[0] == '<' ? n : n + 2) > RP__PATH_MAX)
        return true;
    return rp__addr_parse(s, n, false, &a) != RP__ADDR_OK;
}

static void
check_reply(const rp_query *q, const rp_decision *d)
{
    char code[8];
    unsigned cls = d->code / 100;
    int n = snprintf(code, sizeof(code), "%u ", (unsigned)d->code);

    if (strlen(d->reply) != d->reply_len ||
        strlen(d->destination) != d->destination_len ||
        strlen(d->rewritten) != d->rewritten_len ||
        strlen(d->explanation) != d->explanation_len)
        fail("unterminated string in the decision", q, d);
    if (strncmp(d->reply, code, (size_t)n) != 0 ||
        d->enhanced[0] != (char)('0' + cls))
        fail("reply line does not match its code", q, d);
    switch (d->verdict) {
    case RP_ACCEPT:
    case RP_RELAY:
        if (cls != 2)
            fail("positive verdict without a 2xx code", q, d);
        break;
    case RP_REJECT:
        if (cls != 5)
            fail("REJECT without a 5xx code", q, d);
        break;
    case RP_TEMPFAIL:
        if (cls != 4)
            fail("TEMPFAIL without a 4xx code", q, d);
        break;
    default:
        fail("RP_OK without a verdict", q, d);
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    policy = fz_policy();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const groups[] = {"admins"};
    fz_field f[5];
    rp_query q;
    rp_decision d;
    rp_status st;
    uint8_t s0, s1;
    bool untrusted, own_ip;

    if (size < 2)
        return 0;
    s0 = data[0];
    s1 = data[1];
    fz_split(data + 2, size - 2, '\n', f, 5);
    memset(&q, 0, sizeof(q));
    untrusted = (s0 & 8) != 0;
    q.client_ip = untrusted ? fz_untrusted[(s0 & 7) % FZ_COUNT(fz_untrusted)]
                            : fz_clients[s0 & 7];
    q.client_ip_len = RP_NTS;
    own_ip = (s1 & 4) != 0;
    if (own_ip) {
        q.client_ip = f[3].p;
        q.client_ip_len = f[3].n;
    }
    q.local_ip = fz_locals[(s0 >> 4) & 3];
    q.local_ip_len = RP_NTS;
    q.local_port = fz_ports[(s0 >> 6) & 3];
    q.flags = (s1 & 2) ? RP_QUERY_EXPLAIN : 0;
    if (s1 & 1) {
        q.user = f[2].p;
        q.user_len = f[2].n;
    }
    if (s1 & 8) {
        q.groups = groups;
        q.n_groups = 1;
    }
    q.recipient = f[0].p;
    q.recipient_len = f[0].n;
    q.sender = f[1].p;
    q.sender_len = f[1].n;
    q.helo = f[4].p;
    q.helo_len = f[4].n;

    st = rp_decide(policy, &q, fz_ws(), &d);
    if (st != RP_OK) {
        if (st != RP_E_ARG || d.verdict != RP_VERDICT_NONE ||
            (!own_ip && q.user == NULL && q.n_groups == 0))
            fail("error status for good facts", &q, &d);
        return 0;
    }
    check_reply(&q, &d);
    if (untrusted && !own_ip && q.user == NULL &&
        (d.permissions & RP_PERM_RELAY))
        fail("an untrusted client holds the relay permission", &q, &d);
    if (d.verdict == RP_RELAY && q.user == NULL &&
        !(d.permissions & RP_PERM_RELAY))
        check_relay(&q, &d);
    if (d.verdict == RP_ACCEPT)
        check_accept(&q, &d);
    if ((d.verdict == RP_ACCEPT || d.verdict == RP_RELAY) &&
        invalid_recipient(&q))
        fail("a syntax-invalid recipient was accepted", &q, &d);
    return 0;
}
