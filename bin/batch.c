/*
 * batch.c - `relaypolicy check --batch`: one JSON object of session facts
 * per input line, one JSON object per output line, in the same order.
 *
 * Built for volume: the policy is compiled once, the input and output
 * buffers are reused, decisions are made without the explanation and
 * BATCH_LINES lines at a time with rp_decide_batch(), and the output is written
 * by hand into one buffer instead of through a JSON tree.  A line that cannot
 * be used yields {"line":N,"error":"..."} and processing continues.
 */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GROUPS FACT_MAX_GROUPS

/* A growable output buffer. */
typedef struct out {
    char *buf;
    size_t n, cap;
} out;

static void
out_reserve(out *o, size_t more)
{
    if (o->n + more <= o->cap)
        return;
    while (o->n + more > o->cap)
        o->cap = o->cap ? o->cap * 2 : 4096;
    o->buf = realloc(o->buf, o->cap);
    if (o->buf == NULL) {
        fprintf(stderr, "relaypolicy check: out of memory\n");
        exit(EXIT_POLICY);
    }
}

static void
out_raw(out *o, const char *s, size_t n)
{
    out_reserve(o, n);
    memcpy(o->buf + o->n, s, n);
    o->n += n;
}

#define OUT_LIT(o, s) out_raw((o), (s), sizeof(s) - 1)

/* The length of the well-formed UTF-8 sequence starting at @p s (a byte
 * above 0x7f), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
    size_t k = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    unsigned cp;

    if (k == 0 || k > n || s[0] > 0xf4)
        return 0;
    cp = s[0] & (0x7f >> k);
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) ||
        (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return k;
}

/* A JSON string literal; control bytes and bytes that are not UTF-8 are
 * escaped so that the output is always valid JSON, whatever the input
 * held; UTF-8 (an SMTPUTF8 address) is written as it is. */
static void
out_str(out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t k;

    out_reserve(o, n * 6 + 2);
    o->buf[o->n++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            o->buf[o->n++] = '\\';
            o->buf[o->n++] = (char)c;
        } else if (c >= 0x80 &&
                   (k = utf8_seq((const unsigned char *)s + i, n - i)) > 0) {
            memcpy(o->buf + o->n, s + i, k);
            o->n += k;
            i += k - 1;
        } else if (c < 0x20 || c >= 0x7f) {
            memcpy(o->buf + o->n, "\\u00", 4);
            o->buf[o->n + 4] = hex[c >> 4];
            o->buf[o->n + 5] = hex[c & 15];
            o->n += 6;
        } else {
            o->buf[o->n++] = (char)c;
        }
    }
    o->buf[o->n++] = '"';
}

static void
out_cstr(out *o, const char *s)
{
    out_str(o, s, strlen(s));
}

static void
out_uint(out *o, unsigned long v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%lu", v);

    out_raw(o, tmp, (size_t)n);
}

/* The facts of one line, pointing into the parsed JSON. */
typedef struct facts {
    const char *client, *local, *user, *from, *to, *helo, *peer, *cert;
    size_t client_len, user_len, from_len, to_len, helo_len, peer_len;
    size_t cert_len;
    const char *groups[MAX_GROUPS];
    size_t n_groups;
    bool smtputf8;
    json_t *id;
} facts;

/* A string member, or NULL for absent or null; *bad names a member of
 * the wrong type. */
static const char *
get_str(json_t *obj, const char *key, size_t *len, const char **bad)
{
    json_t *v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = key;
        return NULL;
    }
    if (len != NULL)
        *len = json_string_length(v);
    return json_string_value(v);
}

static const char *
get_groups(json_t *obj, facts *f)
{
    json_t *g = json_object_get(obj, "groups"), *v;
    size_t i;

    if (g == NULL || json_is_null(g))
        return NULL;
    if (!json_is_array(g))
        return "\"groups\" must be an array of strings";
    if (json_array_size(g) > MAX_GROUPS)
        return "too many groups (at most 64)";
    json_array_foreach(g, i, v)
    {
        if (!json_is_string(v))
            return "\"groups\" must be an array of strings";
        f->groups[f->n_groups++] = json_string_value(v);
    }
    return NULL;
}

/* Fill @p f from @p obj; NULL or a static message. */
static const char *
get_facts(json_t *obj, facts *f)
{
    const char *bad = NULL;
    static char msg[80];

    memset(f, 0, sizeof(*f));
    if (!json_is_object(obj))
        return "a line must be one JSON object";
    f->client = get_str(obj, "client", &f->client_len, &bad);
    f->local = get_str(obj, "local", NULL, &bad);
    f->user = get_str(obj, "user", &f->user_len, &bad);
    f->from = get_str(obj, "from", &f->from_len, &bad);
    f->to = get_str(obj, "to", &f->to_len, &bad);
    f->helo = get_str(obj, "helo", &f->helo_len, &bad);
    f->peer = get_str(obj, "peer", &f->peer_len, &bad);
    f->cert = get_str(obj, "cert", &f->cert_len, &bad);
    f->id = json_object_get(obj, "id");
    if (json_object_get(obj, "smtputf8") != NULL) {
        json_t *u = json_object_get(obj, "smtputf8");
        if (!json_is_boolean(u) && !json_is_null(u))
            return "\"smtputf8\" must be true or false";
        f->smtputf8 = json_is_true(u);
    }
    if (bad != NULL) {
        snprintf(msg, sizeof(msg), "\"%s\" must be a string", bad);
        return msg;
    }
    if (f->client == NULL && f->peer == NULL)
        return "\"client\" is missing";
    if (f->to == NULL)
        return "\"to\" is missing";
    if ((bad = get_groups(obj, f)) != NULL)
        return bad;
    if (f->n_groups > 0 && f->user == NULL)
        return "\"groups\" needs \"user\"";
    return NULL;
}

/* Echo a string or integer "id" so callers can match answers. */
static void
out_id(out *o, void *idp)
{
    json_t *id = idp;

    if (id == NULL)
        return;
    if (json_is_string(id)) {
        OUT_LIT(o, "\"id\":");
        out_str(o, json_string_value(id), json_string_length(id));
        OUT_LIT(o, ",");
    } else if (json_is_integer(id)) {
        char tmp[32];
        int n = snprintf(tmp, sizeof(tmp), "\"id\":%lld,",
                         (long long)json_integer_value(id));
        out_raw(o, tmp, (size_t)n);
    }
}

static void
out_error(out *o, unsigned long line, void *id, const char *why)
{
    OUT_LIT(o, "{");
    out_id(o, id);
    OUT_LIT(o, "\"line\":");
    out_uint(o, line);
    OUT_LIT(o, ",\"error\":");
    out_cstr(o, why);
    OUT_LIT(o, "}\n");
}

/* The members of a decision and the closing brace; the caller wrote the
 * opening one and the id. */
static void
out_decision(out *o, const rp_decision *d)
{
    OUT_LIT(o, "\"verdict\":");
    out_cstr(o, rp_verdict_name(d->verdict));
    OUT_LIT(o, ",\"code\":");
    out_uint(o, d->code);
    OUT_LIT(o, ",\"enhanced\":");
    out_cstr(o, d->enhanced);
    OUT_LIT(o, ",\"text\":");
    out_cstr(o, d->text);
    OUT_LIT(o, ",\"reason\":");
    out_cstr(o, rp_reason_name(d->reason));
    OUT_LIT(o, ",\"rule\":");
    if (d->rule_line > 0) {
        char tmp[300];
        int n = snprintf(tmp, sizeof(tmp), "%s:%u", d->rule_file,
                         (unsigned)d->rule_line);
        out_str(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
    } else {
        OUT_LIT(o, "null");
    }
    OUT_LIT(o, ",\"listener\":");
    if (d->listener[0] != '\0')
        out_cstr(o, d->listener);
    else
        OUT_LIT(o, "null");
    OUT_LIT(o, ",\"destination\":");
    out_cstr(o, d->destination);
    OUT_LIT(o, ",\"rewritten\":");
    if (d->rewritten[0] != '\0')
        out_cstr(o, d->rewritten);
    else
        OUT_LIT(o, "null");
    OUT_LIT(o, "}\n");
}

void
locals_init(locals *L, const rp_policy *p, long listener)
{
    default_local(p, listener, 4, L->ip4, sizeof(L->ip4), &L->port4);
    default_local(p, listener, 6, L->ip6, sizeof(L->ip6), &L->port6);
}

/* Fill @p f's query from the facts of @p ff. */
static void
fact_query(fact *f, const facts *ff, const locals *L)
{
    rp_query *q = &f->q;

    memset(q, 0, sizeof(*q));
    if (ff->local != NULL) {
        if (!split_hostport(ff->local, f->lip, sizeof(f->lip),
                            &q->local_port)) {
            f->error = "\"local\" is not IP:PORT";
            return;
        }
        q->local_ip = f->lip;
        if (q->local_port == 0)
            q->local_port = 25;
    } else {
        bool six = ip_family(ff->client != NULL ? ff->client : ff->peer) == 6;
        q->local_ip = six ? L->ip6 : L->ip4;
        q->local_port = six ? L->port6 : L->port4;
    }
    q->local_ip_len = RP_NTS;
    q->client_ip = ff->client;
    q->client_ip_len = ff->client_len;
    q->user = ff->user;
    q->user_len = ff->user_len;
    memcpy(f->groups, ff->groups, ff->n_groups * sizeof(ff->groups[0]));
    q->groups = f->groups;
    q->n_groups = ff->n_groups;
    q->sender = ff->from;
    q->sender_len = ff->from_len;
    q->recipient = ff->to;
    q->recipient_len = ff->to_len;
    q->helo = ff->helo;
    q->helo_len = ff->helo_len;
    q->peer_ip = ff->peer;
    q->peer_ip_len = ff->peer_len;
    q->cert_fingerprint = ff->cert;
    q->cert_fingerprint_len = ff->cert_len;
    if (ff->smtputf8)
        q->flags |= RP_QUERY_SMTPUTF8;
}

void
fact_from_json(
    fact *f, const locals *L, unsigned long line, const char *s, size_t n)
{
    json_error_t jerr;
    json_t *obj;
    facts ff;
    const char *why;

    memset(f, 0, sizeof(*f));
    f->line = line;
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    obj = json_loadb(s, n, JSON_ALLOW_NUL, &jerr);
    if (obj == NULL) {
        snprintf(f->why, sizeof(f->why), "invalid JSON at column %d: %s",
                 jerr.column, jerr.text);
        f->error = f->why;
        return;
    }
    f->json = obj;
    why = get_facts(obj, &ff);
    f->id = json_is_object(obj) ? ff.id : NULL;
    if (why != NULL) {
        snprintf(f->why, sizeof(f->why), "%s", why);
        f->error = f->why;
        return;
    }
    fact_query(f, &ff, L);
}

void
fact_release(fact *f)
{
    json_decref(f->json);
    f->json = NULL;
}

/* Decide the usable facts of @p fs with one batch call and write every
 * answer, in input order. */
static void
decide_facts(const rp_policy *p, rp_workspace *ws, fact *fs, size_t n, out *o)
{
    rp_query q[BATCH_LINES];
    rp_decision d[BATCH_LINES];
    rp_status st[BATCH_LINES];
    size_t m = 0;

    for (size_t i = 0; i < n; i++)
        if (fs[i].error == NULL)
            q[m++] = fs[i].q;
    if (m > 0 && rp_decide_batch(p, q, m, ws, d, st) == RP_E_LIMIT)
        for (size_t k = 0; k < m; k++) {
            st[k] = RP_E_LIMIT;
            d[k].detail = rp_strerror(RP_E_LIMIT);
        }
    for (size_t i = 0, k = 0; i < n; i++) {
        const fact *f = &fs[i];
        if (f->error != NULL) {
            out_error(o, f->line, f->id, f->error);
            continue;
        }
        if (st[k] != RP_OK)
            out_error(o, f->line, f->id, d[k].detail);
        else {
            OUT_LIT(o, "{");
            out_id(o, f->id);
            out_decision(o, &d[k]);
        }
        k++;
    }
}

int
cmd_batch(const rp_policy *p, long listener)
{
    static char obuf[1 << 16];
    static fact fs[BATCH_LINES];
    rp_options opts;
    rp_workspace *ws = NULL;
    locals L;
    out o = {NULL, 0, 0};
    char *line = NULL;
    size_t cap = 0, n_fs = 0;
    ssize_t n = 1;
    unsigned long no = 0;
    int rc = 0;

    rp_options_init(&opts);
    opts.batch_capacity = BATCH_LINES;
    if (rp_workspace_new(&opts, &ws) != RP_OK) {
        fprintf(stderr, "relaypolicy check: out of memory\n");
        return EXIT_POLICY;
    }
    locals_init(&L, p, listener);
    setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
    while (n > 0) {
        n = getline(&line, &cap, stdin);
        if (n > 0)
            fact_from_json(&fs[n_fs++], &L, ++no, line, (size_t)n);
        if (n_fs == BATCH_LINES || (n <= 0 && n_fs > 0)) {
            decide_facts(p, ws, fs, n_fs, &o);
            for (size_t i = 0; i < n_fs; i++)
                fact_release(&fs[i]);
            n_fs = 0;
        }
        if (o.n >= 32768) {
            if (fwrite(o.buf, 1, o.n, stdout) != o.n)
                break;
            o.n = 0;
        }
    }
    if ((o.n > 0 && fwrite(o.buf, 1, o.n, stdout) != o.n) ||
        fflush(stdout) != 0 || ferror(stdin)) {
        fprintf(stderr, "relaypolicy check: I/O error\n");
        rc = EXIT_POLICY;
    }
    for (size_t i = 0; i < n_fs; i++)
        fact_release(&fs[i]);
    rp_workspace_free(ws);
    free(line);
    free(o.buf);
    return rc;
}
