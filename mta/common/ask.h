/*
 * ask.h - what the MTA surfaces (relaypolicy-milter, relaypolicy-opensmtpd)
 * share: the session facts an MTA hands over, turning them into one
 * rp_decide() call, the reply to send back, logging and policy reloading.
 *
 * Every rp_decide() call of these programs goes through mta_decide(), so a
 * change of the library's signature is a one-line change here.
 */
#ifndef MTA_ASK_H
#define MTA_ASK_H

#include <relaypolicy.h>

#include "query.h" /* mta_port_parse(), mta_copy_printable() */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest IP address text, with room for the NUL. */
#define MTA_IP_MAX 46
/*
 * MAIL FROM is kept up to this many bytes.  A longer path is cut to
 * MTA_PATH_MAX - 1 bytes, which is still longer than RFC 5321 allows, so
 * the library refuses it exactly as it would the whole path (501 5.1.7).
 */
#define MTA_PATH_MAX 1024
/* Longest HELO name and login kept; a longer login is a bad fact. */
#define MTA_NAME_MAX 256
/* Longest reply text passed on (the library's replies are far shorter). */
#define MTA_REPLY_MAX 512

/** The facts of one SMTP session, filled as the MTA reports them. */
typedef struct mta_facts {
    char client_ip[MTA_IP_MAX]; /* "" until known. */
    uint32_t client_port;       /* 0 when not known (logged only). */
    char local_ip[MTA_IP_MAX];  /* "" until known. */
    uint32_t local_port;        /* 0 until known. */
    char helo[MTA_NAME_MAX];
    char user[MTA_NAME_MAX]; /* "" when not authenticated. */
    bool user_too_long;      /* a login we could not keep whole. */
    bool tls;
    char cert_subject[MTA_NAME_MAX]; /* logged only (see the man pages). */
    char sender[MTA_PATH_MAX];
    bool have_sender;
    bool smtputf8;       /* SMTPUTF8 on this transaction's MAIL FROM. */
    const char *missing; /* the first fact the MTA failed to give, or NULL. */
} mta_facts;

/** Clear every fact. */
void mta_facts_init(mta_facts *f);

/** Forget the transaction (sender, SMTPUTF8), keep the session. */
void mta_facts_reset_tx(mta_facts *f);

/**
 * True when @p param, one ESMTP parameter of MAIL FROM ("SMTPUTF8",
 * "BODY=8BITMIME"), is SMTPUTF8 (RFC 6531; any case, no value).
 */
bool mta_param_smtputf8(const char *param);

/**
 * Normalise an address as MTAs write it: "192.0.2.1", "IPv6:2001:db8::1",
 * "[2001:db8::1]", "[IPv6:2001:db8::1]".  Writes inet_ntop text.
 * @return false when @p in is not an IPv4 or IPv6 address.
 */
bool mta_ip_parse(const char *in, char *out, size_t out_len);

/** True for 0.0.0.0 and :: (a wildcard listener, not a local address). */
bool mta_ip_unspecified(const char *ip);

/** Copy @p src (up to @p len bytes, or RP_NTS) into @p dst, cut to fit. */
void mta_copy(char *dst, size_t size, const char *src, size_t len);

/** Outcome of asking the policy about one recipient. */
typedef enum mta_answer {
    MTA_PROCEED = 0,  /* ACCEPT or RELAY: let the MTA go on. */
    MTA_REFUSE = 1,   /* REJECT: send the 5xx reply. */
    MTA_TEMPFAIL = 2, /* TEMPFAIL, bad facts or an internal failure. */
} mta_answer;

/** The reply for one recipient, split as MTA interfaces want it. */
typedef struct mta_reply {
    mta_answer answer;
    char code[4];                  /* "550" */
    char enhanced[16];             /* "5.7.1" */
    char text[MTA_REPLY_MAX];      /* after code and enhanced code */
    char line[MTA_REPLY_MAX + 32]; /* "550 5.7.1 <bob@x>: Relaying ..." */
    const char *why;               /* for a failed call: what was wrong. */
} mta_reply;

/**
 * Decide one recipient: the only call of rp_decide() in the MTA surfaces.
 * Missing or bad facts, a NULL policy and a failed call give a 451 4.3.0
 * temporary failure (never a pass).  @p d is filled when a decision was
 * made (d->verdict != RP_VERDICT_NONE).
 */
void mta_decide(const rp_policy *policy,
                const mta_facts *f,
                const char *rcpt,
                rp_decision *d,
                mta_reply *out);

/* ---- logging ---------------------------------------------------------- */

/** Set the program name in log lines and where they go (syslog or not). */
void mta_log_init(const char *prog, bool use_syslog);

/** Log one line (printf format). */
void mta_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * Log one decision: the facts, the reply, the reason, the listener and
 * the rule file:line that decided.  @p session names the MTA session.
 */
void mta_log_decision(const char *session,
                      const mta_facts *f,
                      const char *rcpt,
                      const rp_decision *d,
                      const mta_reply *r);

/* ---- the policy in force ---------------------------------------------- */

/** Compile @p path; log the error and return NULL when it does not. */
rp_policy *mta_policy_load(const char *path);

/**
 * Compile @p path again and swap it into @p slot; a policy that does not
 * compile is logged and the old one stays.
 */
void mta_policy_reload(rp_policy_slot *slot, const char *path);

/* ---- start-up ----------------------------------------------------------- */

/** The options every MTA surface takes. */
typedef struct mta_opts {
    const char *policy_path; /* -p POLICY */
    bool quiet;              /* -q: log refusals only */
    bool syslog;             /* -s: log to syslog, not stderr */
    bool check_only;         /* -n: compile, report, exit */
} mta_opts;

/** Take option @p ch (argument @p arg) when it is one of mta_opts'. */
bool mta_opt(mta_opts *o, int ch, const char *arg);

/**
 * Start up as @p prog: set up logging, compile the policy and, with -n,
 * report and stop; otherwise put the policy in a new *@p slot.  Returns
 * -1 to go on, or the exit status to stop with.
 */
int mta_start(const char *prog, const mta_opts *o, rp_policy_slot **slot);

#endif /* MTA_ASK_H */
