/*
 * request.h - one Postfix SMTPD policy delegation request, parsed line by
 * line, and the action that answers it.
 *
 * The protocol (Postfix SMTPD_POLICY_README): the client sends `name=value`
 * lines and an empty line; the server answers `action=...` and an empty
 * line, and the connection may carry further requests.
 */
#ifndef PD_REQUEST_H
#define PD_REQUEST_H

#include <relaypolicy.h>

#include <stdbool.h>
#include <stddef.h>

/* Longest request line accepted, without its newline. */
#define PD_MAX_LINE 2048
/* Most attribute lines in one request. */
#define PD_MAX_ATTRS 128
/* Room for the `action=...` line, its newline and the empty line. */
#define PD_MAX_ACTION (RP_REPLY_MAX + 16)

/* The attributes relaypolicy needs; others are accepted and ignored. */
typedef struct pd_request {
    char request[32];
    char protocol_state[32];
    char client_address[64];
    char server_address[64];
    char server_port[8];
    char sasl_username[256];
    char sender[PD_MAX_LINE];
    char recipient[PD_MAX_LINE];
    char helo_name[256];
    char smtputf8[8]; /* "yes"/"no" from the Exim ACL; Postfix sends none */
    /* The client certificate's public-key fingerprint (Postfix 2.9+), in
     * the digest of smtpd_tls_fingerprint_digest; "" without one. */
    char ccert_pubkey_fingerprint[160];
    unsigned n_attrs;
    const char *bad; /* why the request is malformed, or NULL */
} pd_request;

/* Start an empty request. */
void pd_request_init(pd_request *r);

/*
 * Add one line (without its newline; a trailing CR is ignored).  A line
 * that is not `name=value`, a value too long for its field or too many
 * lines mark the request as malformed; parsing continues so that the
 * request can be answered once its empty line arrives.
 */
void pd_request_line(pd_request *r, const char *line, size_t len);

/* Mark the request malformed (e.g. a line longer than PD_MAX_LINE). */
void pd_request_fail(pd_request *r, const char *why);

/* How a complete request was answered. */
typedef enum pd_outcome {
    PD_DECIDED = 0,   /* the library decided; `d` is filled */
    PD_NOT_RCPT = 1,  /* not a RCPT-stage request: DUNNO */
    PD_MALFORMED = 2, /* bad request or bad facts: 451 4.3.0 */
} pd_outcome;

/* How a complete request is answered. */
typedef struct pd_style {
    const char *accept; /* action for ACCEPT and RELAY: "OK" or "DUNNO" */
    bool full_reply;    /* send rp_decision.reply as is, "<rcpt>: " too */
} pd_style;

/*
 * Decide a complete request and write the reply (`action=...\n\n`) into
 * @p out (PD_MAX_ACTION bytes).  A refusal is sent as "CODE ENHANCED
 * TEXT": Postfix itself prefixes the text with "<rcpt>: Recipient address
 * rejected: ", so the library's "<rcpt>: " is left out unless
 * style->full_reply asks for it.  @p why receives a static reason when the
 * outcome is PD_MALFORMED.
 */
pd_outcome pd_request_answer(const pd_request *r,
                             const rp_policy *policy,
                             const pd_style *style,
                             rp_decision *d,
                             char *out,
                             const char **why);

/*
 * The one place relaypolicyd calls rp_decide(): every decision (requests
 * and the start-up listener probe) goes through here.
 */
rp_status
pd_decide(const rp_policy *policy, const rp_query *query, rp_decision *d);

#endif /* PD_REQUEST_H */
