/*
 * parse.c - the policy language (relaypolicy.conf(5)) to builder calls.
 *
 * The text is read one statement at a time: a statement is one line, or
 * several joined by a trailing backslash.  lex.c cuts each statement into
 * tokens (bare words, quoted strings, '{' and '}'); this file turns them
 * into calls of the public builder API, each preceded by
 * rp_builder_set_source() so the compiled policy can say which line
 * decided.  The parser stops at the first error.  Nothing recurses except
 * `include`, whose depth is bounded, and every buffer grows only with the
 * input, which is bounded.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "lex.h"
#include "parse.h"
#include "relaypolicy.h"

/* Includes never nest deeper than this, whatever the options say. */
#define P_INCLUDE_HARD_MAX 32

/* What a list entry is added to: one builder call per entry. */
typedef enum entry_kind {
    E_RECIPIENT,
    E_NETWORK,
    E_GROUP,
    E_SELF,
    E_DENY_CLIENT,
    E_DENY_SENDER,
    E_DENY_RECIPIENT,
    E_LOGIN,
    E_BIND,
    E_REMOTE,
    E_CERT,
    E_PROXY
} entry_kind;

typedef struct target {
    entry_kind kind;
    const char *arg; /* the domain, list, group or user the entries go to */
} target;

static rp_status parse_text(const parser *parent,
                            rp_builder *b,
                            const rp_options *opts,
                            const char *file,
                            const char *text,
                            size_t len,
                            unsigned depth,
                            rp_error *err);

/* ---- builder calls ------------------------------------------------------ */

/* Turn a failed builder call into the parser's error: the builder filled
 * @p e with the location given to rp_builder_set_source(). */
static rp_status
builder_failed(parser *p, rp_status st, rp_error *e, const loc *at)
{
    if (e->status == RP_OK)
        return rp__lex_fail_at(p, st, at, "%s", rp_strerror(st));
    e->offset = at->off;
    snprintf(e->file, sizeof(e->file), "%s", at->file);
    if (p->err != NULL)
        *p->err = *e;
    return st;
}

static rp_status
set_source(parser *p, const loc *at)
{
    if (rp_builder_set_source(p->b, at->file, at->line, at->col) != RP_OK)
        return rp__lex_no_memory(p, at);
    return RP_OK;
}

/* Add one list entry to what @p t names. */
static rp_status
add_entry(parser *p, const target *t, const loc *at, const char *v)
{
    rp_builder *b = p->b;
    rp_error e;
    rp_status st = set_source(p, at);

    if (st != RP_OK)
        return st;
    memset(&e, 0, sizeof(e));
    switch (t->kind) {
    case E_RECIPIENT:
        st = rp_builder_recipient(b, t->arg, v, &e);
        break;
    case E_NETWORK:
        st = rp_builder_network(b, t->arg, v, &e);
        break;
    case E_GROUP:
        st = rp_builder_group(b, t->arg, v, &e);
        break;
    case E_SELF:
        st = rp_builder_self(b, v, &e);
        break;
    case E_DENY_CLIENT:
        st = rp_builder_deny_client(b, v, &e);
        break;
    case E_DENY_SENDER:
        st = rp_builder_deny_sender(b, v, &e);
        break;
    case E_DENY_RECIPIENT:
        st = rp_builder_deny_recipient(b, v, &e);
        break;
    case E_LOGIN:
        st = rp_builder_sender_login(b, v, t->arg, &e);
        break;
    case E_BIND:
        st = rp_builder_bind(b, p->listener, v, &e);
        break;
    case E_REMOTE:
        st = rp_builder_remote(b, p->listener, v, &e);
        break;
    case E_CERT:
        st = rp_builder_certificate(b, t->arg, v, &e);
        break;
    case E_PROXY:
        st = rp_builder_trusted_proxy(b, v, &e);
        break;
    }
    return st == RP_OK ? RP_OK : builder_failed(p, st, &e, at);
}

/* Add the entries of a list file, one per line. */
static rp_status
list_entries(parser *p, const target *t, const char *path, char *buf, size_t n)
{
    loc at = {path, 1, 1, 0};
    size_t off, end, s, e;
    rp_status st = RP_OK;

    for (off = 0; st == RP_OK && off < n; off = end + 1, at.line++) {
        const char *nl = memchr(buf + off, '\n', n - off);
        end = nl != NULL ? (size_t)(nl - buf) : n;
        at.col = 1;
        at.off = off;
        st = rp__lex_list_line(p, &at, buf, end, &s, &e);
        if (st == RP_OK && s < e) {
            char keep = buf[e];
            loc c = {path, at.line, (uint32_t)(s - off + 1), s};
            buf[e] = '\0';
            st = add_entry(p, t, &c, buf + s);
            buf[e] = keep;
        }
    }
    return st;
}

/* The quoted string at token @p i names a list file: add its entries. */
static rp_status
list_file(parser *p, size_t i, const target *t)
{
    char path[P_PATH_MAX], *buf = NULL;
    size_t n = 0;
    rp_status st;

    if (p->opts->flags & RP_OPT_NO_FILES)
        return rp__lex_fail_tok(p, RP_E_POLICY, i, "list files are disabled");
    st = rp__lex_resolve(p, i, path, sizeof(path));
    if (st == RP_OK)
        st = rp__lex_read_file(p, i, path, &buf, &n);
    if (st == RP_OK)
        st = list_entries(p, t, path, buf, n);
    rp__free(&p->alloc, buf);
    return st;
}

/* The LIST from token @p first on: words are entries, strings list
 * files.  @p what names one entry, for the message when there is none. */
static rp_status
each_entry(parser *p, size_t first, const char *what, const target *t)
{
    bool deny = strcmp(T(p, 0), "deny") == 0;
    rp_status st = RP_OK;

    if (first >= p->n_toks)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 0,
                                "'%s%s%s' needs at least one %s "
                                "or a quoted list file",
                                T(p, 0), deny ? " " : "", deny ? T(p, 1) : "",
                                what);
    for (size_t i = first; st == RP_OK && i < p->n_toks; i++) {
        if (p->toks[i].type == T_STRING)
            st = list_file(p, i, t);
        else
            st = add_entry(p, t, &p->toks[i].at, T(p, i));
    }
    return st;
}

/* ---- statement helpers -------------------------------------------------- */

/* A recipient LIST that is exactly `()`: a declared list with no entries.
 * No recipient can be written so (parentheses are not atext). */
static bool
empty_list(const parser *p, size_t first)
{
    return first + 1 == p->n_toks && p->toks[first].type == T_WORD &&
           strcmp(T(p, first), "()") == 0;
}

/* Token @p i must be a bare word: @p what, which token @p who needs. */
static rp_status
want_word(parser *p, size_t i, size_t who, const char *what, const char **out)
{
    *out = "";
    if (i >= p->n_toks)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, who, "'%s' needs %s", T(p, who),
                                what);
    if (p->toks[i].type != T_WORD)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, i,
                                "expected %s, not a quoted "
                                "string",
                                what);
    *out = T(p, i);
    return RP_OK;
}

/* The statement must end before token @p i. */
static rp_status
no_more(parser *p, size_t i)
{
    char s[P_SHOW + 4];

    if (i >= p->n_toks)
        return RP_OK;
    return rp__lex_fail_tok(p, RP_E_SYNTAX, i,
                            "unexpected '%s' at the end of the "
                            "'%s' statement",
                            S(p, i, s), T(p, 0));
}

/* Index of @p w in @p names, or -1. */
static int
lookup(const char *w, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(w, names[i]) == 0)
            return (int)i;
    return -1;
}

/* Call a builder function taking one word at token @p i. */
#define CALL(p, i, call)                                                       \
    do {                                                                       \
        rp_error e_;                                                           \
        rp_status st_ = set_source((p), &(p)->toks[i].at);                     \
        memset(&e_, 0, sizeof(e_));                                            \
        if (st_ == RP_OK && (st_ = (call)) != RP_OK)                           \
            st_ = builder_failed((p), st_, &e_, &(p)->toks[i].at);             \
        if (st_ != RP_OK)                                                      \
            return st_;                                                        \
    } while (0)

#define TRY(x)                                                                 \
    do {                                                                       \
        rp_status st_ = (x);                                                   \
        if (st_ != RP_OK)                                                      \
            return st_;                                                        \
    } while (0)

/* ---- top-level statements ----------------------------------------------- */

static rp_status
st_include(parser *p)
{
    char path[P_PATH_MAX], *buf = NULL, s[P_SHOW + 4];
    unsigned max = p->opts->max_include_depth;
    size_t n = 0;
    rp_status st;

    if (p->n_toks < 2)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 0,
                                "'include' needs a file name in "
                                "double quotes");
    if (p->toks[1].type != T_STRING)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 1,
                                "the file name after 'include' "
                                "must be in double quotes");
    TRY(no_more(p, 2));
    if (p->opts->flags & RP_OPT_NO_FILES)
        return rp__lex_fail_tok(p, RP_E_POLICY, 1, "includes are disabled");
    if (max > P_INCLUDE_HARD_MAX)
        max = P_INCLUDE_HARD_MAX;
    if (p->depth >= max)
        return rp__lex_fail_tok(p, RP_E_LIMIT, 1,
                                "includes nested more than %u "
                                "deep",
                                max);
    TRY(rp__lex_resolve(p, 1, path, sizeof(path)));
    for (const parser *q = p; q != NULL; q = q->parent)
        if (strcmp(q->file, path) == 0)
            return rp__lex_fail_tok(p, RP_E_POLICY, 1,
                                    "include loop: '%s' is "
                                    "already being read",
                                    S(p, 1, s));
    st = rp__lex_read_file(p, 1, path, &buf, &n);
    if (st == RP_OK)
        st = parse_text(p, p->b, p->opts, path, buf, n, p->depth + 1, p->err);
    rp__free(&p->alloc, buf);
    return st;
}

static rp_status
st_domain(parser *p)
{
    static const char *const kinds[] = {"local", "relay", "reroute"};
    const char *pat, *kind, *tgt = NULL;
    char s[P_SHOW + 4];
    target t = {E_RECIPIENT, NULL};
    int k;

    TRY(want_word(p, 1, 0, "a pattern", &pat));
    TRY(want_word(p, 2, 0, "a kind (local, relay or reroute)", &kind));
    if ((k = lookup(kind, kinds, 3)) < 0)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 2,
                                "unknown domain kind '%s' "
                                "(expected local, relay or reroute)",
                                S(p, 2, s));
    if (k == 2)
        TRY(want_word(p, 3, 2, "a target domain", &tgt));
    if (k != 0)
        TRY(no_more(p, k == 2 ? 4 : 3));
    if (k == 0 && p->n_toks > 3 &&
        (p->toks[3].type != T_WORD || strcmp(T(p, 3), "recipients") != 0))
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 3,
                                "expected 'recipients' after "
                                "'local', not '%s'",
                                S(p, 3, s));
    CALL(p, 1, rp_builder_domain(p->b, pat, (rp_domain_kind)(k + 1), tgt, &e_));
    if (k != 0 || p->n_toks <= 3)
        return RP_OK;
    t.arg = pat;
    if (p->n_toks == 4)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 3,
                                "'recipients' needs at least one "
                                "recipient or a quoted list file");
    CALL(p, 3, rp_builder_recipient_list(p->b, pat, &e_));
    return empty_list(p, 4) ? RP_OK : each_entry(p, 4, "recipient", &t);
}

/* `recipients DOMAIN LIST`, `network NAME LIST`, `group NAME USER...`,
 * `sender-login USER ADDRESS...`: a name, then a list. */
static rp_status
st_named_list(parser *p)
{
    static const struct {
        const char *kw, *name, *entry;
        entry_kind kind;
    } forms[] = {
        {"recipients", "a domain", "recipient", E_RECIPIENT},
        {"network", "a list name", "address", E_NETWORK},
        {"group", "a group name", "user", E_GROUP},
        {"sender-login", "a user name", "address", E_LOGIN},
        {"certificate", "a certificate list name", "fingerprint", E_CERT},
    };
    int f = 0;
    target t;

    while (strcmp(T(p, 0), forms[f].kw) != 0)
        f++;
    t.kind = forms[f].kind;
    TRY(want_word(p, 1, 0, forms[f].name, &t.arg));
    /* An empty list, as () or an empty list file, still turns validation
     * on (relaypolicy(7) §4.1). */
    if (t.kind == E_RECIPIENT && p->n_toks > 2) {
        CALL(p, 0, rp_builder_recipient_list(p->b, t.arg, &e_));
        if (empty_list(p, 2))
            return RP_OK;
    }
    return each_entry(p, 2, forms[f].entry, &t);
}

/* `self LIST`, `deny client|sender|recipient LIST`, `bind LIST` and
 * `remote LIST`. */
static rp_status
st_list(parser *p, size_t first, entry_kind kind, const char *what)
{
    target t = {kind, NULL};

    return each_entry(p, first, what, &t);
}

/* `self-domain DOMAIN` and `qualify-domain DOMAIN`. */
static rp_status
st_one_domain(parser *p)
{
    const char *d;
    bool self = strcmp(T(p, 0), "self-domain") == 0;

    TRY(want_word(p, 1, 0, "a domain", &d));
    TRY(no_more(p, 2));
    if (self)
        CALL(p, 1, rp_builder_self_domain(p->b, d, &e_));
    else
        CALL(p, 1, rp_builder_qualify_domain(p->b, d, &e_));
    return RP_OK;
}

static rp_status
st_reply(parser *p)
{
    const char *names[RP_REASON_COUNT], *r, *code, *enh, *hint;
    char s[P_SHOW + 4];
    rp_reason reason;
    uint32_t num;

    TRY(want_word(p, 1, 0, "a reason", &r));
    if (rp_reason_from_name(r, &reason) != RP_OK) {
        for (int i = 1; i < RP_REASON_COUNT; i++)
            names[i - 1] = rp_reason_name((rp_reason)i);
        hint = rp__lex_suggest(r, names, RP_REASON_COUNT - 1);
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 1, "unknown reason '%s'%s%s%s",
                                S(p, 1, s), hint ? " (did you mean '" : "",
                                hint ? hint : "", hint ? "'?)" : "");
    }
    TRY(want_word(p, 2, 0, "a reply code", &code));
    if (strlen(code) != 3 || strspn(code, "0123456789") != 3)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 2,
                                "a reply code is three digits, "
                                "not '%s'",
                                S(p, 2, s));
    TRY(want_word(p, 3, 0, "an enhanced status code", &enh));
    if (p->n_toks < 5)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 0,
                                "'reply' needs a text in double "
                                "quotes");
    if (p->toks[4].type != T_STRING)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 4,
                                "the reply text must be in "
                                "double quotes");
    TRY(no_more(p, 5));
    num = (uint32_t)((code[0] - '0') * 100 + (code[1] - '0') * 10 +
                     (code[2] - '0'));
    CALL(p, 1, rp_builder_reply(p->b, reason, num, enh, T(p, 4), &e_));
    return RP_OK;
}

static rp_status
st_soft_fail(parser *p)
{
    TRY(no_more(p, 1));
    CALL(p, 0, rp_builder_soft_fail(p->b, true));
    return RP_OK;
}

/* ---- listener blocks ---------------------------------------------------- */

static const char *const principals[] = {
    "anonymous", "authenticated", "user",        "group",
    "network",   "interface",     "certificate",
};
#define N_PRINCIPALS (sizeof(principals) / sizeof(principals[0]))

static rp_status
st_listener(parser *p)
{
    const char *name;
    char s[P_SHOW + 4];

    if (p->in_listener)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 0,
                                "listener blocks cannot be "
                                "nested (is the '}' of listener '%s' missing?)",
                                p->open_name);
    if (p->n_toks < 2 || p->toks[1].type == T_LBRACE)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 0, "'listener' needs a name");
    TRY(want_word(p, 1, 0, "a listener name", &name));
    if (p->n_toks < 3)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 1,
                                "expected '{' after the listener "
                                "name, on the same line");
    if (p->toks[2].type != T_LBRACE)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 2,
                                "expected '{' after the listener "
                                "name, not '%s'",
                                S(p, 2, s));
    CALL(p, 1, rp_builder_listener(p->b, name, &p->listener, &e_));
    p->in_listener = true;
    p->open_at = p->toks[0].at;
    rp__lex_show(name, p->toks[1].len, p->open_name);
    return RP_OK;
}

static rp_status
st_role(parser *p)
{
    static const char *const roles[] = {
        "gateway", "all-in-one", "mailbox", "frontend", "submission",
    };
    const char *r;
    char s[P_SHOW + 4];
    int k;

    TRY(want_word(p, 1, 0,
                  "a role (gateway, all-in-one, mailbox, frontend "
                  "or submission)",
                  &r));
    if ((k = lookup(r, roles, 5)) < 0)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 1,
                                "unknown role '%s' (expected "
                                "gateway, all-in-one, mailbox, frontend or "
                                "submission)",
                                S(p, 1, s));
    TRY(no_more(p, 2));
    CALL(p, 1, rp_builder_role(p->b, p->listener, (rp_role)(k + 1), &e_));
    return RP_OK;
}

static rp_status
st_require(parser *p)
{
    const char *w;
    char s[P_SHOW + 4];

    TRY(want_word(p, 1, 0, "'auth'", &w));
    if (strcmp(w, "auth") != 0)
        return rp__lex_fail_tok(
            p, RP_E_SYNTAX, 1,
            "unknown requirement '%s' (expected "
            "'require auth' or 'require auth or certificate')",
            S(p, 1, s));
    if (p->n_toks == 2) {
        CALL(p, 1, rp_builder_require_auth(p->b, p->listener, true, &e_));
        return RP_OK;
    }
    if (p->toks[2].type != T_WORD || strcmp(T(p, 2), "or") != 0 ||
        p->n_toks < 4 || p->toks[3].type != T_WORD ||
        strcmp(T(p, 3), "certificate") != 0)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 2,
                                "expected 'require auth' or 'require auth or "
                                "certificate'");
    TRY(no_more(p, 4));
    CALL(p, 1,
         rp_builder_require_auth_or_certificate(p->b, p->listener, true, &e_));
    return RP_OK;
}

/* Is token @p i the bare word @p w? */
static bool
is_word_at(const parser *p, size_t i, const char *w)
{
    return i < p->n_toks && p->toks[i].type == T_WORD &&
           strcmp(T(p, i), w) == 0;
}

/* `from network [all-except] NETWORK` after a login principal at token
 * @p i: *from gets "NETWORK" or "!NETWORK" in @p buf, *next the token
 * after it. */
static rp_status
from_network(parser *p, size_t i, char *buf, size_t size, size_t *next)
{
    const char *w;
    bool except;

    if (!is_word_at(p, i + 1, "network"))
        return rp__lex_fail_tok(p, RP_E_SYNTAX, i,
                                "expected 'from network NETWORK'");
    except = is_word_at(p, i + 2, "all-except");
    TRY(want_word(p, i + 2 + except, i + 1 + except, "a network name or CIDR",
                  &w));
    snprintf(buf, size, "%s%s", except ? "!" : "", w);
    *next = i + 3 + except;
    return RP_OK;
}

/* The PRINCIPAL of `allow`/`deny` at token 1; *next is the first token
 * after it (and after `from network ...`, put in @p from). */
static rp_status
principal(parser *p,
          rp_principal *pr,
          const char **arg,
          char *from,
          size_t from_size,
          size_t *next)
{
    static const char *const needs[] = {
        "",
        "",
        "a user name",
        "a group name",
        "a network name or CIDR",
        "a network name or CIDR",
        "a certificate list name or fingerprint",
    };
    const char *w;
    char s[P_SHOW + 4];
    size_t i = 2;
    int k;

    TRY(want_word(p, 1, 0,
                  "a principal (anonymous, authenticated, user, "
                  "group, network, interface or certificate)",
                  &w));
    if ((k = lookup(w, principals, N_PRINCIPALS)) < 0)
        return rp__lex_fail_tok(
            p, RP_E_SYNTAX, 1,
            "unknown principal '%s' (expected "
            "anonymous, authenticated, user, group, network, "
            "interface or certificate)",
            S(p, 1, s));
    *pr = k == 5   ? RP_PRINCIPAL_INTERFACE
          : k == 6 ? RP_PRINCIPAL_CERTIFICATE
                   : (rp_principal)(k + 1);
    *arg = NULL;
    if (k == 4 && is_word_at(p, i, "all-except")) {
        *pr = RP_PRINCIPAL_NETWORK_EXCEPT;
        i++;
    }
    if (k >= 2)
        TRY(want_word(p, i, i - 1, needs[k], arg));
    *next = k >= 2 ? i + 1 : i;
    from[0] = '\0';
    if (k >= 1 && k <= 3 && is_word_at(p, *next, "from"))
        TRY(from_network(p, *next, from, from_size, next));
    return RP_OK;
}

/* `relay to LIST` from token @p i (just after `to`) to the end: the
 * destinations, bare words. */
static rp_status
relay_to(parser *p, size_t i, const char ***out, size_t *n)
{
    const char **v;

    if (i >= p->n_toks)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, i - 1,
                                "'relay to' needs at least one domain pattern");
    v = rp__calloc(&p->alloc, p->n_toks - i, sizeof(*v));
    if (v == NULL)
        return rp__lex_no_memory(p, &p->toks[i].at);
    for (size_t k = i; k < p->n_toks; k++) {
        if (p->toks[k].type != T_WORD) {
            rp__free(&p->alloc, v);
            return rp__lex_fail_tok(
                p, RP_E_SYNTAX, k,
                "expected a domain pattern after 'relay to', "
                "not a quoted string");
        }
        v[k - i] = T(p, k);
    }
    *out = v;
    *n = p->n_toks - i;
    return RP_OK;
}

/* A rule's builder call failed on one of its words (a destination, a
 * `from` network, a fingerprint): point at that word, not at the rule. */
static rp_status
rule_failed(parser *p, rp_status st, rp_error *e)
{
    size_t n = strnlen(e->snippet, sizeof(e->snippet));
    const char *text = strstr(e->message, ": ");

    for (size_t i = 2; n > 0 && text != NULL && i < p->n_toks; i++)
        if (p->toks[i].len >= n && strncmp(T(p, i), e->snippet, n) == 0)
            return rp__lex_fail_tok(p, st, i, "%s", text + 2);
    return builder_failed(p, st, e, &p->toks[1].at);
}

/* `allow PRINCIPAL PERM...` and `deny PRINCIPAL PERM...` in a listener. */
static rp_status
st_rule(parser *p, bool deny)
{
    static const char *const perms[] = {
        "submit",
        "relay",
        "routing",
        "local-sender",
    };
    rp_principal pr = RP_PRINCIPAL_ANONYMOUS;
    const char *arg = NULL, *w, **to = NULL;
    char s[P_SHOW + 4], from[300];
    uint32_t bits = 0;
    size_t i = 0, n_to = 0;
    int k;

    TRY(principal(p, &pr, &arg, from, sizeof(from), &i));
    if (i >= p->n_toks)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 0,
                                "'%s' needs at least one "
                                "permission (submit, relay, routing or "
                                "local-sender)",
                                T(p, 0));
    for (; i < p->n_toks && to == NULL; i++) {
        TRY(want_word(p, i, 0, "a permission", &w));
        if (strcmp(w, "to") == 0 && i > 0 && strcmp(T(p, i - 1), "relay") == 0)
            TRY(relay_to(p, i + 1, &to, &n_to));
        else if ((k = lookup(w, perms, 4)) < 0)
            return rp__lex_fail_tok(
                p, RP_E_SYNTAX, i,
                "unknown permission '%s' "
                "(expected submit, relay, routing or "
                "local-sender%s)",
                S(p, i, s), strcmp(w, "to") == 0 ? "; 'to' follows relay" : "");
        else
            bits |= 1u << k;
    }
    {
        rp_error e_;
        rp_status st_ = set_source(p, &p->toks[1].at);
        memset(&e_, 0, sizeof(e_));
        if (st_ == RP_OK &&
            (st_ = rp_builder_rule_ex(p->b, p->listener, deny, pr, arg,
                                      from[0] ? from : NULL, bits, to, n_to,
                                      &e_)) != RP_OK)
            st_ = rule_failed(p, st_, &e_);
        rp__free(&p->alloc, to);
        return st_;
    }
}

/* `allow` and `deny`: listener rules inside a block, `allow open-relay`
 * and the global deny lists at the top. */
static rp_status
st_allow_deny(parser *p)
{
    static const char *const lists[] = {"client", "sender", "recipient"};
    static const entry_kind kinds[] = {E_DENY_CLIENT, E_DENY_SENDER,
                                       E_DENY_RECIPIENT};
    bool deny = T(p, 0)[0] == 'd';
    const char *w;
    char s[P_SHOW + 4];
    int k;

    TRY(want_word(p, 1, 0,
                  p->in_listener
                      ? "a principal (anonymous, "
                        "authenticated, user, group, network, interface or "
                        "certificate)"
                  : deny ? "client, sender or recipient"
                         : "'open-relay'",
                  &w));
    k = deny ? lookup(w, lists, 3) : strcmp(w, "open-relay") == 0 ? 0 : -1;
    if (k >= 0 && p->in_listener)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 1,
                                "'%s %s' is only valid at top "
                                "level, not inside a listener block",
                                T(p, 0), w);
    if (p->in_listener)
        return st_rule(p, deny);
    if (k < 0 && lookup(w, principals, N_PRINCIPALS) >= 0)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 1,
                                "'%s %s' is only valid inside a "
                                "listener block",
                                T(p, 0), w);
    if (k < 0)
        return rp__lex_fail_tok(
            p, RP_E_SYNTAX, 1,
            deny ? "unknown deny list '%s' "
                   "(expected client, sender or recipient)"
                 : "expected 'open-relay' after 'allow', not '%s'",
            S(p, 1, s));
    if (deny)
        return st_list(p, 2, kinds[k], k == 0 ? "network" : "address");
    TRY(no_more(p, 2));
    CALL(p, 1, rp_builder_allow_open_relay(p->b, true));
    return RP_OK;
}

static rp_status
st_close(parser *p)
{
    char s[P_SHOW + 4];

    if (p->n_toks > 1)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 1, "unexpected '%s' after '}'",
                                S(p, 1, s));
    if (!p->in_listener)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 0,
                                "'}' without an open listener "
                                "block");
    p->in_listener = false;
    return RP_OK;
}

/* ---- dispatch ----------------------------------------------------------- */

static rp_status
st_self(parser *p)
{
    return st_list(p, 1, E_SELF, "address");
}

static rp_status
st_bind(parser *p)
{
    return st_list(p, 1, E_BIND, "address");
}

static rp_status
st_remote(parser *p)
{
    return st_list(p, 1, E_REMOTE, "network");
}

static rp_status
st_trusted_proxy(parser *p)
{
    return st_list(p, 1, E_PROXY, "network");
}

enum { W_TOP = 1, W_BLOCK = 2, W_BOTH = 3 };

static const struct keyword {
    const char *name;
    int where; /* W_TOP, W_BLOCK or both */
    rp_status (*run)(parser *p);
} keywords[] = {
    {"include", W_TOP, st_include},
    {"domain", W_TOP, st_domain},
    {"recipients", W_TOP, st_named_list},
    {"network", W_TOP, st_named_list},
    {"group", W_TOP, st_named_list},
    {"self", W_TOP, st_self},
    {"self-domain", W_TOP, st_one_domain},
    {"qualify-domain", W_TOP, st_one_domain},
    {"deny", W_BOTH, st_allow_deny},
    {"allow", W_BOTH, st_allow_deny},
    {"sender-login", W_TOP, st_named_list},
    {"certificate", W_TOP, st_named_list},
    {"trusted-proxy", W_TOP, st_trusted_proxy},
    {"reply", W_TOP, st_reply},
    {"soft-fail", W_TOP, st_soft_fail},
    {"listener", W_BOTH, st_listener}, /* nesting gets its own message */
    {"bind", W_BLOCK, st_bind},
    {"remote", W_BLOCK, st_remote},
    {"role", W_BLOCK, st_role},
    {"require", W_BLOCK, st_require},
};
#define N_KEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

static rp_status
unknown(parser *p)
{
    const char *names[N_KEYWORDS], *hint;
    char s[P_SHOW + 4];

    for (size_t i = 0; i < N_KEYWORDS; i++)
        names[i] = keywords[i].name;
    hint = rp__lex_suggest(T(p, 0), names, N_KEYWORDS);
    return rp__lex_fail_tok(p, RP_E_SYNTAX, 0, "unknown statement '%s'%s%s%s",
                            S(p, 0, s), hint ? " (did you mean '" : "",
                            hint ? hint : "", hint ? "'?)" : "");
}

/* '{' ends a listener line only; '}' stands alone. */
static rp_status
check_braces(parser *p)
{
    for (size_t i = 0; i < p->n_toks; i++) {
        tok_type ty = p->toks[i].type;
        if (ty == T_LBRACE &&
            (i + 1 != p->n_toks || i == 0 || strcmp(T(p, 0), "listener") != 0))
            return rp__lex_fail_tok(p, RP_E_SYNTAX, i,
                                    "'{' is only valid at the "
                                    "end of a 'listener' line");
        if (ty == T_RBRACE && i > 0)
            return rp__lex_fail_tok(p, RP_E_SYNTAX, i,
                                    "'}' must be on a line of its "
                                    "own");
    }
    return RP_OK;
}

static rp_status
statement(parser *p)
{
    const char *w;
    int k, where = p->in_listener ? W_BLOCK : W_TOP;

    TRY(check_braces(p));
    if (p->toks[0].type == T_RBRACE)
        return st_close(p);
    if (p->toks[0].type != T_WORD)
        return rp__lex_fail_tok(p, RP_E_SYNTAX, 0,
                                "expected a statement, not a "
                                "quoted string");
    w = T(p, 0);
    for (k = 0; k < (int)N_KEYWORDS; k++)
        if (strcmp(w, keywords[k].name) == 0)
            break;
    if (k == (int)N_KEYWORDS)
        return unknown(p);
    if ((keywords[k].where & where) == 0)
        return rp__lex_fail_tok(
            p, RP_E_SYNTAX, 0,
            where == W_TOP ? "'%s' is only valid inside a listener block"
                           : "'%s' is only valid at top level, not inside a "
                             "listener block",
            w);
    return keywords[k].run(p);
}

/* ---- entry points ------------------------------------------------------- */

static rp_status
parse_text(const parser *parent,
           rp_builder *b,
           const rp_options *opts,
           const char *file,
           const char *text,
           size_t len,
           unsigned depth,
           rp_error *err)
{
    parser p;
    rp_status st = RP_OK;

    memset(&p, 0, sizeof(p));
    p.b = b;
    p.opts = opts;
    rp__alloc_init(&p.alloc, p.opts->allocator);
    p.parent = parent;
    p.file = file != NULL ? file : "<string>";
    p.text = text;
    p.len = len;
    p.line = 1;
    p.depth = depth;
    p.err = err;
    if (len > p.opts->max_policy_bytes) {
        loc at = {p.file, 0, 0, 0};
        st = rp__lex_fail_at(&p, RP_E_LIMIT, &at, "policy larger than %u bytes",
                             (unsigned)p.opts->max_policy_bytes);
    }
    while (st == RP_OK && (st = rp__lex_statement(&p)) == RP_OK && p.n_toks > 0)
        st = statement(&p);
    if (st == RP_OK && p.in_listener)
        st = rp__lex_fail_at(&p, RP_E_SYNTAX, &p.open_at,
                             "listener '%s' is not "
                             "closed: '}' is missing",
                             p.open_name);
    rp__free(&p.alloc, p.toks);
    rp__free(&p.alloc, p.buf);
    return st;
}

rp_status
rp__parse(rp_builder *b,
          const rp_options *opts,
          const char *file,
          const char *text,
          size_t len,
          unsigned depth,
          rp_error *err)
{
    if (b == NULL || opts == NULL || (text == NULL && len != 0))
        return RP_E_ARG;
    if (text == NULL)
        text = "";
    else if (len == RP_NTS)
        len = strlen(text);
    return parse_text(NULL, b, opts, file, text, len, depth, err);
}
