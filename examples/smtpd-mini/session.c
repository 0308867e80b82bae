/*
 * session.c - the SMTP commands of smtpd-mini: EHLO/HELO, MAIL, RCPT,
 * DATA, RSET, NOOP, QUIT and AUTH PLAIN.
 */
#include "session.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void
reply(sm_session *s, const char *fmt, ...)
{
    char buf[RP_REPLY_MAX + 512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(buf) - 3)
        n = (int)sizeof(buf) - 3;
    buf[n++] = '\r';
    buf[n++] = '\n';
    s->write(s->ctx, buf, (size_t)n);
}

static void
reset(sm_session *s)
{
    s->sender[0] = '\0';
    s->smtputf8 = false;
    s->n_rcpts = 0;
    s->data_bytes = 0;
    if (s->state == SM_MAIL || s->state == SM_DATA)
        s->state = SM_READY;
}

void
sm_session_start(sm_session *s,
                 const sm_server *server,
                 const char *client_ip,
                 const char *local_ip,
                 unsigned local_port,
                 sm_write_fn write,
                 void *ctx)
{
    memset(s, 0, sizeof(*s));
    s->server = server;
    s->write = write;
    s->ctx = ctx;
    snprintf(s->client_ip, sizeof(s->client_ip), "%s", client_ip);
    snprintf(s->local_ip, sizeof(s->local_ip), "%s", local_ip);
    s->local_port = local_port;
    reply(s, "220 %s ESMTP smtpd-mini (relaypolicy %s)", server->hostname,
          rp_version_string());
}

/* Does @p line start with the keyword @p kw (any case)? */
static bool
keyword(const char *line, size_t len, const char *kw)
{
    size_t n = strlen(kw);

    return len >= n && strncasecmp(line, kw, n) == 0;
}

/*
 * The path argument of MAIL FROM: / RCPT TO:, brackets included, up to
 * the closing bracket (quotes respected) or the first space.
 */
static bool
path_arg(const char *arg, size_t len, char *out, size_t out_len)
{
    size_t i = 0, end;
    bool quoted = false;

    while (i < len && arg[i] == ' ')
        i++;
    end = i;
    if (end < len && arg[end] == '<') {
        for (; end < len; end++) {
            if (arg[end] == '\\' && quoted && end + 1 < len)
                end++;
            else if (arg[end] == '"')
                quoted = !quoted;
            else if (arg[end] == '>' && !quoted)
                break;
        }
        if (end == len)
            return false;
        end++;
    } else {
        while (end < len && arg[end] != ' ')
            end++;
    }
    if (end == i || end - i >= out_len)
        return false;
    memcpy(out, arg + i, end - i);
    out[end - i] = '\0';
    return true;
}

static void
cmd_helo(sm_session *s, const char *arg, size_t len, bool ehlo)
{
    while (len > 0 && *arg == ' ')
        arg++, len--;
    if (len == 0) {
        reply(s, "501 5.5.4 Syntax: %s hostname", ehlo ? "EHLO" : "HELO");
        return;
    }
    snprintf(s->helo, sizeof(s->helo), "%.*s", (int)len, arg);
    reset(s);
    s->state = SM_READY;
    if (!ehlo) {
        reply(s, "250 %s", s->server->hostname);
        return;
    }
    /* A multi-line reply goes out in one write, as every reply does:
     * clients that read a reply per segment (nmap) stay in step. */
    reply(s,
          "250-%s\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
          "250-SMTPUTF8\r\n%s250 SIZE %u",
          s->server->hostname,
          s->server->n_users > 0 ? "250-AUTH PLAIN\r\n" : "",
          (unsigned)SM_MAX_SIZE);
}

/* Check MAIL FROM's parameters: SIZE=n (RFC 1870) is enforced; BODY= is
 * accepted; SMTPUTF8 (RFC 6531) marks the transaction's addresses as
 * possibly UTF-8; anything else is refused. */
static bool
mail_params(sm_session *s, const char *arg, size_t len)
{
    const char *p = memchr(arg, '>', len);
    const char *end = arg + len;

    p = p != NULL ? p + 1 : end;
    while (p < end) {
        const char *tok, *tok_end;
        unsigned long long v = 0;

        while (p < end && *p == ' ')
            p++;
        tok = p;
        while (p < end && *p != ' ')
            p++;
        tok_end = p;
        if (tok == tok_end)
            break;
        if (keyword(tok, (size_t)(tok_end - tok), "BODY="))
            continue;
        if (tok_end - tok == 8 && keyword(tok, 8, "SMTPUTF8")) {
            s->smtputf8 = true;
            continue;
        }
        if (!keyword(tok, (size_t)(tok_end - tok), "SIZE=") ||
            tok_end - tok < 6 || tok_end - tok > 5 + 20) {
            reply(s, "555 5.5.4 Unsupported MAIL parameter");
            return false;
        }
        for (tok += 5; tok < tok_end; tok++) {
            if (*tok < '0' || *tok > '9') {
                reply(s, "501 5.5.4 Bad SIZE value");
                return false;
            }
            v = v * 10 + (unsigned long long)(*tok - '0');
        }
        if (v > SM_MAX_SIZE) {
            reply(s, "552 5.3.4 Message size exceeds fixed limit");
            return false;
        }
    }
    return true;
}

static void
cmd_mail(sm_session *s, const char *arg, size_t len)
{
    if (s->state == SM_GREETING) {
        reply(s, "503 5.5.1 Send HELO or EHLO first");
        return;
    }
    if (s->state != SM_READY) {
        reply(s, "503 5.5.1 Nested MAIL command");
        return;
    }
    if (!path_arg(arg, len, s->sender, sizeof(s->sender))) {
        reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
        return;
    }
    s->smtputf8 = false;
    if (!mail_params(s, arg, len))
        return;
    s->state = SM_MAIL;
    reply(s, "250 2.1.0 OK");
}

static void
fill_query(const sm_session *s, const char *rcpt, rp_query *q)
{
    memset(q, 0, sizeof(*q));
    q->client_ip = s->client_ip;
    q->client_ip_len = RP_NTS;
    q->local_ip = s->local_ip;
    q->local_ip_len = RP_NTS;
    q->local_port = s->local_port;
    if (s->user[0] != '\0') {
        q->user = s->user;
        q->user_len = RP_NTS;
    }
    q->sender = s->sender;
    q->sender_len = RP_NTS;
    q->recipient = rcpt;
    q->recipient_len = RP_NTS;
    q->helo = s->helo;
    q->helo_len = RP_NTS;
    if (s->smtputf8)
        q->flags |= RP_QUERY_SMTPUTF8;
}

rp_status
sm_decide(const sm_server *server, const rp_query *q, rp_decision *d)
{
    return rp_decide(server->policy, q, server->ws, d);
}

static void
cmd_rcpt(sm_session *s, const char *arg, size_t len)
{
    char rcpt[SM_MAX_PATH + 1];
    rp_decision d;
    rp_query q;

    if (s->state != SM_MAIL) {
        reply(s, "503 5.5.1 Need MAIL before RCPT");
        return;
    }
    if (!path_arg(arg, len, rcpt, sizeof(rcpt))) {
        reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
        return;
    }
    if (s->n_rcpts >= SM_MAX_RCPTS) {
        reply(s, "452 4.5.3 Too many recipients");
        return;
    }
    fill_query(s, rcpt, &q);
    if (sm_decide(s->server, &q, &d) != RP_OK) {
        fprintf(stderr, "smtpd-mini: %s: %s\n", s->client_ip, d.detail);
        reply(s, "451 4.3.0 Policy error, try again later");
        return;
    }
    if (s->server->verbose)
        fprintf(stderr, "smtpd-mini: %s user=%s from=%s to=%s: %s (%s)\n",
                s->client_ip, s->user, s->sender, rcpt, d.reply,
                rp_reason_name(d.reason));
    if (d.verdict == RP_ACCEPT || d.verdict == RP_RELAY)
        s->n_rcpts++;
    reply(s, "%s", d.reply);
}

static void
cmd_data(sm_session *s)
{
    if (s->state != SM_MAIL) {
        reply(s, "503 5.5.1 Need MAIL command");
        return;
    }
    if (s->n_rcpts == 0) {
        reply(s, "554 5.5.1 No valid recipients");
        return;
    }
    s->state = SM_DATA;
    s->data_bytes = 0;
    reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void
data_line(sm_session *s, const char *line, size_t len, bool crlf_framed)
{
    if (len == 1 && line[0] == '.' && crlf_framed) {
        if (s->data_bytes > SM_MAX_SIZE)
            reply(s, "552 5.3.4 Message size exceeds fixed limit");
        else
            reply(s, "250 2.0.0 OK: %zu bytes for %u recipients discarded",
                  s->data_bytes, s->n_rcpts);
        reset(s);
        return;
    }
    s->data_bytes += len + 2;
}

/*
 * Decode strict base64 (RFC 4648: length a multiple of 4, padding only at
 * the end, nothing after it) into @p out; returns the length or -1.
 */
static long
base64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned long acc = 0;
    size_t n = 0, bits = 0, pad = 0;

    if (len == 0 || len % 4 != 0)
        return -1;
    while (pad < 2 && in[len - 1 - pad] == '=')
        pad++;
    for (size_t i = 0; i < len - pad; i++) {
        const char *p = in[i] != '\0' ? memchr(alphabet, in[i], 64) : NULL;

        if (p == NULL)
            return -1;
        acc = (acc << 6) | (unsigned long)(p - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    /* Bits left over by the padding must be zero (canonical form). */
    if ((acc & ((1ul << bits) - 1)) != 0)
        return -1;
    return (long)n;
}

/* Check a decoded PLAIN response (RFC 4616): authzid NUL authcid NUL
 * passwd, exactly two NULs, a non-empty authcid and password, and an
 * authzid that is empty or the authcid. */
static bool
plain_fields(const unsigned char *buf,
             long n,
             const char **authcid,
             const char **passwd)
{
    const unsigned char *nul1 = memchr(buf, '\0', (size_t)n);
    const unsigned char *nul2;
    size_t authz_len;

    if (nul1 == NULL)
        return false;
    nul2 = memchr(nul1 + 1, '\0', (size_t)(buf + n - (nul1 + 1)));
    if (nul2 == NULL || memchr(nul2 + 1, '\0', (size_t)(buf + n - (nul2 + 1))))
        return false;
    *authcid = (const char *)nul1 + 1;
    *passwd = (const char *)nul2 + 1;
    authz_len = (size_t)(nul1 - buf);
    if (nul2 == nul1 + 1 || nul2 + 1 == buf + n)
        return false; /* empty authcid or password */
    return authz_len == 0 || (authz_len == (size_t)(nul2 - nul1 - 1) &&
                              memcmp(buf, *authcid, authz_len) == 0);
}

static void
auth_plain(sm_session *s, const char *resp, size_t len)
{
    unsigned char buf[768];
    long n = base64_decode(resp, len, buf, sizeof(buf) - 1);
    const char *authcid, *passwd;
    size_t i;

    s->state = SM_READY;
    if (n < 0) {
        reply(s, "501 5.5.2 Cannot decode the AUTH PLAIN response");
        return;
    }
    buf[n] = '\0';
    if (!plain_fields(buf, n, &authcid, &passwd)) {
        reply(s, "501 5.5.2 Malformed AUTH PLAIN response");
        return;
    }
    for (i = 0; i < s->server->n_users; i++) {
        const sm_user *u = &s->server->users[i];
        size_t n_id = strlen(authcid);

        if (strcmp(u->name, authcid) == 0 && strcmp(u->password, passwd) == 0 &&
            n_id < sizeof(s->user)) {
            memcpy(s->user, authcid, n_id + 1);
            reply(s, "235 2.7.0 Authentication successful");
            return;
        }
    }
    reply(s, "535 5.7.8 Authentication credentials invalid");
}

static void
cmd_auth(sm_session *s, const char *arg, size_t len)
{
    while (len > 0 && *arg == ' ')
        arg++, len--;
    if (s->server->n_users == 0) {
        reply(s, "502 5.5.1 AUTH not available");
    } else if (s->state != SM_READY) {
        reply(s, "503 5.5.1 AUTH not allowed now");
    } else if (s->user[0] != '\0') {
        reply(s, "503 5.5.1 Already authenticated");
    } else if (!keyword(arg, len, "PLAIN") || (len > 5 && arg[5] != ' ')) {
        reply(s, "504 5.5.4 Unrecognized authentication type");
    } else if (len > 6) {
        auth_plain(s, arg + 6, len - 6);
    } else {
        s->state = SM_AUTH;
        reply(s, "334 ");
    }
}

void
sm_session_overflow(sm_session *s)
{
    if (s->state == SM_DATA) {
        s->data_bytes += SM_MAX_COMMAND;
        return;
    }
    if (s->state == SM_AUTH)
        s->state = SM_READY;
    reply(s, "500 5.5.2 Line too long");
}

static void
command(sm_session *s, const char *line, size_t len)
{
    if (keyword(line, len, "EHLO ") || keyword(line, len, "HELO "))
        cmd_helo(s, line + 5, len - 5, line[0] == 'E' || line[0] == 'e');
    else if (keyword(line, len, "MAIL FROM:"))
        cmd_mail(s, line + 10, len - 10);
    else if (keyword(line, len, "RCPT TO:"))
        cmd_rcpt(s, line + 8, len - 8);
    else if (len == 4 && keyword(line, len, "DATA"))
        cmd_data(s);
    else if (len == 4 && keyword(line, len, "RSET"))
        reset(s), reply(s, "250 2.0.0 OK");
    else if (keyword(line, len, "NOOP"))
        reply(s, "250 2.0.0 OK");
    else if (len == 4 && keyword(line, len, "QUIT"))
        reply(s, "221 2.0.0 Bye"), s->state = SM_QUIT;
    else if (keyword(line, len, "AUTH"))
        cmd_auth(s, line + 4, len - 4);
    else if (keyword(line, len, "VRFY"))
        reply(s, "252 2.5.2 Cannot VRFY user");
    else
        reply(s, "500 5.5.2 Command not recognized");
}

void
sm_session_line(sm_session *s, const char *line, size_t len, bool crlf_framed)
{
    if (s->state == SM_QUIT)
        return;
    if (s->state == SM_DATA) {
        data_line(s, line, len, crlf_framed);
    } else if (s->state == SM_AUTH) {
        if (len == 1 && line[0] == '*') {
            s->state = SM_READY;
            reply(s, "501 5.7.0 Authentication cancelled");
        } else {
            auth_plain(s, line, len);
        }
    } else if (memchr(line, '\0', len) != NULL) {
        reply(s, "500 5.5.2 NUL byte in command");
    } else {
        command(s, line, len);
    }
}
