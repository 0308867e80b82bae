/*
 * session.h - the SMTP dialogue of smtpd-mini, independent of sockets.
 *
 * A session is fed complete lines (CRLF or LF stripped) and writes its
 * replies through a callback.  Every RCPT is decided by relaypolicy with
 * the session's facts; accepted messages are read and discarded.
 */
#ifndef SM_SESSION_H
#define SM_SESSION_H

#include <relaypolicy.h>

#include <stdbool.h>
#include <stddef.h>

/* Longest command line accepted (RFC 5321 4.5.3.1.4: 512 with CRLF). */
#define SM_MAX_COMMAND 1000
/* Longest path kept from MAIL FROM. */
#define SM_MAX_PATH 1000
/* Most recipients per message (RFC 5321 4.5.3.1.8). */
#define SM_MAX_RCPTS 100
/* The largest message accepted, as advertised by EHLO's SIZE. */
#define SM_MAX_SIZE 10485760

/* One account of the AUTH PLAIN user file. */
typedef struct sm_user {
    char *name;
    char *password;
} sm_user;

/* What every session shares. */
typedef struct sm_server {
    const rp_policy *policy;
    rp_workspace *ws; /* the (single) serving thread's workspace */
    const char *hostname;
    const sm_user *users;
    size_t n_users;
    bool verbose;
} sm_server;

typedef enum sm_state {
    SM_GREETING = 0, /* before HELO/EHLO */
    SM_READY = 1,    /* after HELO/EHLO, no transaction */
    SM_MAIL = 2,     /* after MAIL FROM */
    SM_DATA = 3,     /* reading the message */
    SM_AUTH = 4,     /* waiting for the AUTH PLAIN response */
    SM_QUIT = 5      /* the session is over */
} sm_state;

typedef void (*sm_write_fn)(void *ctx, const char *data, size_t len);

typedef struct sm_session {
    const sm_server *server;
    sm_write_fn write;
    void *ctx;
    char client_ip[64];
    char local_ip[64];
    unsigned local_port;
    sm_state state;
    char helo[256];
    char user[256]; /* "" when not authenticated */
    char sender[SM_MAX_PATH + 1];
    bool smtputf8; /* MAIL FROM gave SMTPUTF8 (RFC 6531) */
    unsigned n_rcpts;
    size_t data_bytes;
} sm_session;

/* Start a session and send the greeting. */
void sm_session_start(sm_session *s,
                      const sm_server *server,
                      const char *client_ip,
                      const char *local_ip,
                      unsigned local_port,
                      sm_write_fn write,
                      void *ctx);

/*
 * Handle one line; @p len excludes the line end.  @p crlf_framed says the
 * line ended with CR LF and so did the line before it: only then can a
 * lone "." end a message (<CRLF>.<CRLF>, RFC 5321 4.1.1.4).  A "." framed
 * by bare LFs is message text, so that no other server on the path can be
 * made to see a different end of message (SMTP smuggling).
 */
void
sm_session_line(sm_session *s, const char *line, size_t len, bool crlf_framed);

/* The one place smtpd-mini calls rp_decide(). */
rp_status sm_decide(const sm_server *server, const rp_query *q, rp_decision *d);

/* Tell the session that a line was too long and has been dropped. */
void sm_session_overflow(sm_session *s);

#endif /* SM_SESSION_H */
