/*
 * request.c - parsing a Postfix policy request and answering it with a
 * relaypolicy decision.
 */
#include "request.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "query.h"

/* Where each attribute we use is stored. */
typedef struct field {
    const char *name;
    size_t offset;
    size_t size;
} field;

#define FIELD(f)                                                               \
    {                                                                          \
#f, offsetof(pd_request, f), sizeof(((pd_request *)0)->f)              \
    }

static const field fields[] = {
    FIELD(request),
    FIELD(protocol_state),
    FIELD(client_address),
    FIELD(server_address),
    FIELD(server_port),
    FIELD(sasl_username),
    FIELD(sender),
    FIELD(recipient),
    FIELD(helo_name),
    FIELD(smtputf8),
    FIELD(ccert_pubkey_fingerprint),
};

void
pd_request_init(pd_request *r)
{
    memset(r, 0, sizeof(*r));
}

void
pd_request_fail(pd_request *r, const char *why)
{
    if (r->bad == NULL)
        r->bad = why;
}

static const field *
find_field(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (strlen(fields[i].name) == len &&
            memcmp(fields[i].name, name, len) == 0)
            return &fields[i];
    }
    return NULL;
}

void
pd_request_line(pd_request *r, const char *line, size_t len)
{
    const char *eq;
    const field *f;
    char *dst;

    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (++r->n_attrs > PD_MAX_ATTRS) {
        pd_request_fail(r, "too many attributes");
        return;
    }
    eq = memchr(line, '=', len);
    if (eq == NULL || eq == line) {
        pd_request_fail(r, "attribute line without name=value");
        return;
    }
    if (memchr(line, '\0', len) != NULL) {
        pd_request_fail(r, "NUL byte in an attribute");
        return;
    }
    f = find_field(line, (size_t)(eq - line));
    if (f == NULL)
        return;
    len -= (size_t)(eq + 1 - line);
    if (len >= f->size) {
        pd_request_fail(r, "attribute value too long");
        return;
    }
    dst = (char *)r + f->offset;
    memcpy(dst, eq + 1, len);
    dst[len] = '\0';
}

/*
 * Copy a reply into an action line.  Anything outside printable ASCII is
 * replaced, so that a reply can never break the line protocol.
 */
static void
put_action(char *out, const char *action)
{
    size_t n;

    memcpy(out, "action=", 7);
    n = 7 + mta_copy_printable(out + 7, PD_MAX_ACTION - 3 - 7 + 1, action);
    out[n++] = '\n';
    out[n++] = '\n';
    out[n] = '\0';
}

static const char *
check_required(const pd_request *r)
{
    if (r->client_address[0] == '\0')
        return "no client_address";
    if (r->server_address[0] == '\0' || r->server_port[0] == '\0')
        return "no server_address or server_port (Postfix 3.2 or later "
               "sends them)";
    if (r->recipient[0] == '\0')
        return "no recipient";
    return NULL;
}

static bool
non_ascii(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s >= 0x80)
            return true;
    return false;
}

/*
 * Whether the client gave SMTPUTF8 on MAIL FROM.  Postfix's requests have
 * no attribute for it; with strict_smtputf8 = yes Postfix itself refuses a
 * non-ASCII address unless the client gave SMTPUTF8, and with the default
 * (no) it lets such an address through as it always did, so a non-ASCII
 * sender or recipient is taken as SMTPUTF8 given.  A caller that knows
 * (the Exim ACL) says so with smtputf8=yes or smtputf8=no.
 */
static bool
smtputf8_given(const pd_request *r)
{
    if (strcmp(r->smtputf8, "yes") == 0)
        return true;
    if (r->smtputf8[0] != '\0')
        return false;
    return non_ascii(r->sender) || non_ascii(r->recipient);
}

/* Hex digits in a fingerprint, colons not counted. */
static size_t
hex_digits(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += *s != ':';
    return n;
}

/*
 * The certificate fingerprint to pass, or NULL.  Certificate grants are
 * SHA-256 fingerprints: Postfix sends one with smtpd_tls_fingerprint_digest
 * = sha256 (the default from Postfix 3.6).  An MD5 or SHA-1 one (32 or 40
 * hex digits) can match no grant: it is left out, as if no certificate had
 * been presented, and the log says once how to fix the configuration.
 * Anything else goes to the library, whose answer to a malformed one is a
 * malformed request.
 */
static const char *
certificate(const pd_request *r)
{
    static _Atomic bool warned;
    size_t n = hex_digits(r->ccert_pubkey_fingerprint);

    if (r->ccert_pubkey_fingerprint[0] == '\0')
        return NULL;
    if (n != 32 && n != 40)
        return r->ccert_pubkey_fingerprint;
    if (!atomic_exchange(&warned, true))
        rpd_log("ccert_pubkey_fingerprint is not SHA-256: certificate "
                "grants cannot match; set smtpd_tls_fingerprint_digest = "
                "sha256 in Postfix's main.cf");
    return NULL;
}

static void
fill_query(const pd_request *r, uint32_t port, rp_query *q)
{
    mta_text_facts t = {
        .client_ip = r->client_address,
        .local_ip = r->server_address,
        .local_port = port,
        .user = r->sasl_username,
        .helo = r->helo_name,
        .sender = r->sender,
        .recipient = r->recipient,
        .smtputf8 = smtputf8_given(r),
    };

    mta_query_fill(&t, q);
    /* client_address is the client Postfix believes: with XCLIENT or the
     * PROXY protocol, the one it accepted from its own authorised hosts
     * (smtpd_authorized_xclient_hosts, smtpd_upstream_proxy_protocol).
     * The request does not name the peer, so no claim is made here and
     * a policy's trusted-proxy list has nothing to judge. */
    q->cert_fingerprint = certificate(r);
    q->cert_fingerprint_len = RP_NTS;
}

rp_status
pd_decide(const rp_policy *policy, const rp_query *query, rp_decision *d)
{
    return mta_query_decide(policy, query, d);
}

pd_outcome
pd_request_answer(const pd_request *r,
                  const rp_policy *policy,
                  const pd_style *style,
                  rp_decision *d,
                  char *out,
                  const char **why)
{
    rp_query q;
    uint32_t port = 0;

    *why = r->bad;
    if (*why == NULL && strcmp(r->request, "smtpd_access_policy") != 0)
        *why = "not an smtpd_access_policy request";
    if (*why == NULL && strcmp(r->protocol_state, "RCPT") != 0 &&
        r->protocol_state[0] != '\0') {
        put_action(out, "DUNNO");
        return PD_NOT_RCPT;
    }
    if (*why == NULL)
        *why = check_required(r);
    if (*why == NULL && !mta_port_parse(r->server_port, &port))
        *why = "server_port is not a port number";
    if (*why == NULL) {
        fill_query(r, port, &q);
        if (pd_decide(policy, &q, d) != RP_OK)
            *why = d->detail[0] != '\0' ? d->detail : "bad facts";
    }
    if (*why != NULL) {
        put_action(out, "451 4.3.0 Policy service: malformed request");
        return PD_MALFORMED;
    }
    if (d->verdict == RP_ACCEPT || d->verdict == RP_RELAY) {
        put_action(out, style->accept);
    } else if (style->full_reply) {
        put_action(out, d->reply);
    } else {
        char reply[RP_REPLY_MAX];

        snprintf(reply, sizeof(reply), "%03u %s %s", (unsigned)d->code,
                 d->enhanced, d->text);
        put_action(out, reply);
    }
    return PD_DECIDED;
}
