/*
 * fuzz_differential.c - equivalent spellings of an address must get the
 * same decision.
 *
 * Input layout: one selector byte (as byte 0 of fuzz_decide: client,
 * local address and port), then "recipient\nsender\nuser".  The recipient
 * and the sender are each decided as given and in variants that
 * relaypolicy(7) §2 says mean the same address:
 *   - every ASCII letter's case flipped (domains are case-insensitive, local
 *     parts compare case-insensitively, regexes match case-insensitively);
 *   - one trailing dot after a domain name (when the address parses with a
 *     domain name and does not already end in a dot);
 *   - angle brackets added (when there are none), or removed (when the
 *     address is exactly "<...>");
 *   - a dot-atom local part quoted ("bob"@x is bob@x);
 *   - a source route put in front (it is ignored);
 *   - the domain in its other IDN spelling: U-labels as A-labels and
 *     A-labels as U-labels (both decided with SMTPUTF8, which the U-label
 *     form needs).
 * Every variant must give the same status, verdict and reason.
 */
#include "fuzz_common.h"
#include "address.h"
#include "idn.h"

#include <stdio.h>

#define VAR_MAX (RP__PATH_MAX * 4)

static rp_policy *policy;

typedef struct outcome {
    rp_status st;
    rp_verdict verdict;
    rp_reason reason;
} outcome;

static outcome
decide(const rp_query *q)
{
    rp_decision d;
    outcome o;

    o.st = rp_decide(policy, q, fz_ws(), &d);
    o.verdict = d.verdict;
    o.reason = d.reason;
    return o;
}

static void
compare(const char *what,
        const char *orig,
        size_t on,
        const char *var,
        size_t vn,
        outcome a,
        outcome b)
{
    if (a.st == b.st && a.verdict == b.verdict && a.reason == b.reason)
        return;
    fprintf(stderr,
            "%s variant decided differently:\n  <%.*s>: %s %s %s\n"
            "  <%.*s>: %s %s %s\n",
            what, (int)on, orig, rp_status_name(a.st),
            rp_verdict_name(a.verdict), rp_reason_name(a.reason), (int)vn, var,
            rp_status_name(b.st), rp_verdict_name(b.verdict),
            rp_reason_name(b.reason));
    abort();
}

static size_t
flip_case(const char *s, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        else if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        out[i] = c;
    }
    return n;
}

/* The address with one trailing dot after its domain name, or 0. */
static size_t
trailing_dot(const char *s, size_t n, char *out)
{
    rp__addr a;
    bool br = n >= 2 && s[0] == '<' && s[n - 1] == '>';
    size_t end = br ? n - 1 : n;

    if (rp__addr_parse(s, n, false, &a) != RP__ADDR_OK ||
        a.dom_type != RP__DOM_NAME || end == 0 || s[end - 1] == '.' ||
        (br ? n : n + 2) + 1 > RP__PATH_MAX)
        return 0;
    memcpy(out, s, end);
    out[end] = '.';
    if (br)
        out[end + 1] = '>';
    return n + 1;
}

/* The address with angle brackets added or removed, or 0. */
static size_t
brackets(const char *s, size_t n, char *out)
{
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
        /* "<>" and "" are both the null path, and "<<x>>" is not "<x>". */
        if (n == 2 || s[1] == '<' || s[n - 2] == '>')
            return 0;
        memcpy(out, s + 1, n - 2);
        return n - 2;
    }
    if (n > 0 && (s[0] == '<' || s[n - 1] == '>'))
        return 0;
    out[0] = '<';
    memcpy(out + 1, s, n);
    out[n + 1] = '>';
    return n + 2;
}

/* The address with its dot-atom local part quoted, or 0: "bob"@x is
 * bob@x (relaypolicy(7) §2). */
static size_t
quoted(const char *s, size_t n, char *out)
{
    rp__addr a;
    bool br = n >= 2 && s[0] == '<' && s[n - 1] == '>';
    const char *body = br ? s + 1 : s;
    size_t bn = br ? n - 2 : n;

    if (rp__addr_parse(s, n, false, &a) != RP__ADDR_OK || a.had_route ||
        a.was_quoted || a.local_len == 0 || a.dom_type == RP__DOM_NONE ||
        bn < a.local_len + 1 || memcmp(body, a.local, a.local_len) != 0 ||
        body[a.local_len] != '@' || (br ? n : n + 2) + 2 > RP__PATH_MAX ||
        a.local_len + 2 > RP__LOCAL_MAX) /* the limit counts the quotes */
        return 0;
    for (size_t i = 0; i < a.local_len; i++)
        if (a.local[i] == '"' || a.local[i] == '\\')
            return 0;
    out[0] = '"';
    memcpy(out + 1, body, a.local_len);
    out[a.local_len + 1] = '"';
    memcpy(out + a.local_len + 2, body + a.local_len, bn - a.local_len);
    return bn + 2;
}

/* The path with a source route in front, or 0: a route is ignored
 * (RFC 5321 section 3.3). */
static size_t
routed(const char *s, size_t n, char *out)
{
    static const char route[] = "@hop.example:";
    size_t r = sizeof(route) - 1;
    bool br = n >= 2 && s[0] == '<' && s[n - 1] == '>';
    const char *body = br ? s + 1 : s;
    size_t bn = br ? n - 2 : n;
    rp__addr a;

    if (rp__addr_parse(s, n, false, &a) != RP__ADDR_OK || a.had_route ||
        a.dom_type == RP__DOM_NONE || bn + 2 + r > RP__PATH_MAX)
        return 0;
    memcpy(out, route, r);
    memcpy(out + r, body, bn);
    return r + bn;
}

/* The mailbox with its domain name in the other IDN spelling (A-labels
 * for U-labels, or the reverse), or 0 when it has none or the result would
 * pass the path limit. */
static size_t
other_spelling(const char *s, size_t n, char *out)
{
    rp__addr a;
    bool br = n >= 2 && s[0] == '<' && s[n - 1] == '>';
    const char *body = br ? s + 1 : s, *at;
    size_t bn = br ? n - 2 : n, head, dn;
    char u[RP__PATH_MAX * 2];
    const char *dom;
    bool utf8;

    if (rp__addr_parse(s, n, false, &a) != RP__ADDR_OK || a.had_route ||
        a.dom_type != RP__DOM_NAME)
        return 0;
    for (at = body + bn; at > body && at[-1] != '@'; at--)
        ;
    if (at == body)
        return 0;
    head = (size_t)(at - body);
    utf8 = false;
    for (size_t i = head; i < bn; i++)
        utf8 |= (unsigned char)body[i] >= 0x80;
    if (utf8) {
        dn = a.domain_len;
        dom = a.domain;
    } else {
        dn = rp__idn_to_unicode(a.domain, a.domain_len, u, sizeof(u));
        dom = u;
    }
    if (dn == 0 || head + dn + 2 > RP__PATH_MAX)
        return 0;
    memcpy(out, body, head);
    memcpy(out + head, dom, dn);
    return head + dn;
}

/* Decide @p q with the field at @p p / @p n replaced by each variant. */
static void
variants(rp_query *q, const char **p, size_t *n, const char *what)
{
    static char buf[VAR_MAX];
    const char *orig = *p;
    size_t on = *n, vn;
    outcome base = decide(q);

    if (on + 2 > VAR_MAX)
        return;
    vn = flip_case(orig, on, buf);
    *p = buf, *n = vn;
    compare(what, orig, on, buf, vn, base, decide(q));
    if ((vn = trailing_dot(orig, on, buf)) > 0) {
        *p = buf, *n = vn;
        compare(what, orig, on, buf, vn, base, decide(q));
    }
    if ((vn = brackets(orig, on, buf)) > 0) {
        *p = buf, *n = vn;
        compare(what, orig, on, buf, vn, base, decide(q));
    }
    if ((vn = quoted(orig, on, buf)) > 0) {
        *p = buf, *n = vn;
        compare(what, orig, on, buf, vn, base, decide(q));
    }
    if ((vn = routed(orig, on, buf)) > 0) {
        *p = buf, *n = vn;
        compare(what, orig, on, buf, vn, base, decide(q));
    }
    if ((vn = other_spelling(orig, on, buf)) > 0) {
        uint32_t flags = q->flags;
        outcome u;

        q->flags |= RP_QUERY_SMTPUTF8;
        *p = orig, *n = on;
        u = decide(q);
        *p = buf, *n = vn;
        compare(what, orig, on, buf, vn, u, decide(q));
        q->flags = flags;
    }
    *p = orig, *n = on;
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
    fz_field f[3];
    rp_query q;
    uint8_t s0;

    if (size < 1)
        return 0;
    s0 = data[0];
    fz_split(data + 1, size - 1, '\n', f, 3);
    memset(&q, 0, sizeof(q));
    q.client_ip = fz_clients[s0 & 7];
    q.client_ip_len = RP_NTS;
    q.local_ip = fz_locals[(s0 >> 4) & 3];
    q.local_ip_len = RP_NTS;
    q.local_port = fz_ports[(s0 >> 6) & 3];
    if (s0 & 8) {
        q.user = f[2].p;
        q.user_len = f[2].n;
    }
    q.recipient = f[0].p;
    q.recipient_len = f[0].n;
    q.sender = f[1].p;
    q.sender_len = f[1].n;
    /* Bit 2 also picks the client: SMTPUTF8 on for half of them. */
    if (s0 & 4)
        q.flags |= RP_QUERY_SMTPUTF8;
    variants(&q, &q.recipient, &q.recipient_len, "recipient");
    variants(&q, &q.sender, &q.sender_len, "sender");
    return 0;
}
