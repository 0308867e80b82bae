/*
 * query.c - text facts to one rp_query and one decision (query.h).
 */
#include "query.h"

#include <pthread.h>
#include <string.h>

void
mta_query_fill(const mta_text_facts *t, rp_query *q)
{
    memset(q, 0, sizeof(*q));
    q->client_ip = t->client_ip;
    q->client_ip_len = RP_NTS;
    q->local_ip = t->local_ip;
    q->local_ip_len = RP_NTS;
    q->local_port = t->local_port;
    if (t->user != NULL && t->user[0] != '\0') {
        q->user = t->user;
        q->user_len = RP_NTS;
    }
    q->sender = t->sender;
    q->sender_len = RP_NTS;
    q->recipient = t->recipient;
    q->recipient_len = RP_NTS;
    if (t->helo != NULL && t->helo[0] != '\0') {
        q->helo = t->helo;
        q->helo_len = RP_NTS;
    }
    if (t->tls)
        q->flags |= RP_QUERY_TLS;
    if (t->smtputf8)
        q->flags |= RP_QUERY_SMTPUTF8;
}

/* The calling thread's workspace: made on its first decision, freed when
 * the thread ends (pthread key destructor). */
static pthread_key_t ws_key;
static pthread_once_t ws_once = PTHREAD_ONCE_INIT;
static bool ws_key_ok;

static void
free_ws(void *ws)
{
    rp_workspace_free(ws);
}

static void
make_key(void)
{
    ws_key_ok = pthread_key_create(&ws_key, free_ws) == 0;
}

static rp_workspace *
thread_ws(void)
{
    rp_workspace *ws;

    pthread_once(&ws_once, make_key);
    if (!ws_key_ok)
        return NULL;
    ws = pthread_getspecific(ws_key);
    if (ws == NULL && rp_workspace_new(NULL, &ws) == RP_OK &&
        pthread_setspecific(ws_key, ws) != 0) {
        rp_workspace_free(ws);
        ws = NULL;
    }
    return ws;
}

rp_status
mta_query_decide(const rp_policy *policy, const rp_query *q, rp_decision *d)
{
    return rp_decide(policy, q, thread_ws(), d);
}

bool
mta_port_parse(const char *s, uint32_t *out)
{
    uint32_t v = 0;

    if (s == NULL || s[0] == '\0' || s[0] == '0' || strlen(s) > 5)
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (uint32_t)(*s - '0');
    }
    if (v > 65535)
        return false;
    *out = v;
    return true;
}

size_t
mta_copy_printable(char *dst, size_t size, const char *src)
{
    size_t n = 0;

    for (; *src != '\0' && n + 1 < size; src++)
        dst[n++] = (*src >= 0x20 && *src < 0x7f) ? *src : '?';
    dst[n] = '\0';
    return n;
}
