/*
 * parse.c - the policy language (relaypolicy.conf(5)) to builder calls.
 *
 * The text is read one statement at a time: a statement is one line, or
 * several joined by a trailing backslash.  Each statement is cut into
 * tokens (bare words, quoted strings, '{' and '}') and then turned into
 * calls of the public builder API, each preceded by rp_builder_set_source()
 * so the compiled policy can say which line decided.  The parser stops at
 * the first error.  Nothing recurses except `include`, whose depth is
 * bounded, and every buffer grows only with the input, which is bounded.
 */
#include "rp_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Includes never nest deeper than this, whatever the options say. */
#define P_INCLUDE_HARD_MAX 32
/* Longest resolved file name. */
#define P_PATH_MAX 4096
/* Bytes of a token quoted in a message. */
#define P_SHOW 40
/* Words longer than this get no spelling suggestion. */
#define P_SUGGEST_MAX 32

typedef enum tok_type {
    T_WORD = 1,
    T_STRING = 2,
    T_LBRACE = 3,
    T_RBRACE = 4
} tok_type;

/* A position in a file: 1-based line and byte column, 0-based offset. */
typedef struct loc {
    const char *file;
    uint32_t line;
    uint32_t col;
    uint64_t off;
} loc;

typedef struct tok {
    tok_type type;
    loc at;
    size_t text; /* offset of the NUL-terminated text in parser.buf */
    size_t len;
} tok;

typedef struct parser parser;
struct parser {
    rp_builder *b;
    const rp_options *opts;
    rp__alloc alloc;
    const parser *parent; /* the file that included this one */
    const char *file;
    const char *text;
    size_t len;
    size_t pos;        /* start of the next physical line */
    size_t line_start; /* start of the line being read */
    uint32_t line;
    unsigned depth;
    rp_error *err;
    tok *toks; /* the current statement */
    size_t n_toks, cap_toks;
    char *buf; /* token texts */
    size_t n_buf, cap_buf;
    bool in_listener; /* inside `listener NAME {` */
    uint32_t listener;
    loc open_at;
    char open_name[P_SHOW + 4];
};

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
    E_REMOTE
} entry_kind;

typedef struct target {
    entry_kind kind;
    const char *arg; /* the domain, list, group or user the entries go to */
} target;

static rp_status parse_text(const parser *parent,
                            rp_builder *b,
                            const char *file,
                            const char *text,
                            size_t len,
                            unsigned depth,
                            rp_error *err);

/* ---- errors ------------------------------------------------------------- */

/* Copy at most P_SHOW bytes of @p s for a message, replacing anything
 * unprintable and marking a cut with "...". */
static const char *
show(const char *s, size_t n, char out[P_SHOW + 4])
{
    size_t i, m = n > P_SHOW ? P_SHOW : n;

    for (i = 0; i < m; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    if (m < n)
        memcpy(out + m, "...", 3), m += 3;
    out[m] = '\0';
    return out;
}

static rp_status
vfail(parser *p,
      rp_status st,
      const loc *at,
      const char *snip,
      size_t sn,
      const char *fmt,
      va_list ap)
{
    char text[160];

    vsnprintf(text, sizeof(text), fmt, ap);
    rp__error_set(p->err, st, at->file, at->line, at->col, at->off, snip, sn,
                  "%s", text);
    return st;
}

/* Report an error at @p at; returns @p st. */
static rp_status __attribute__((format(printf, 4, 5)))
fail_at(parser *p, rp_status st, const loc *at, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    st = vfail(p, st, at, NULL, 0, fmt, ap);
    va_end(ap);
    return st;
}

/* Report an error at token @p i, which is also the snippet. */
static rp_status __attribute__((format(printf, 4, 5)))
fail_tok(parser *p, rp_status st, size_t i, const char *fmt, ...)
{
    const tok *t = &p->toks[i];
    va_list ap;

    va_start(ap, fmt);
    st = vfail(p, st, &t->at, p->buf + t->text, t->len, fmt, ap);
    va_end(ap);
    return st;
}

static rp_status
no_memory(parser *p, const loc *at)
{
    return fail_at(p, RP_E_NOMEM, at, "out of memory");
}

/* The text of token @p i. */
static const char *
T(const parser *p, size_t i)
{
    return p->buf + p->toks[i].text;
}

/* The text of token @p i, cut for a message. */
static const char *
S(const parser *p, size_t i, char out[P_SHOW + 4])
{
    return show(T(p, i), p->toks[i].len, out);
}

/* ---- spelling suggestions ----------------------------------------------- */

/* Levenshtein distance of two short words. */
static size_t
distance(const char *a, const char *b)
{
    size_t row[P_SUGGEST_MAX + 1], la = strlen(a), lb = strlen(b);

    if (la > P_SUGGEST_MAX || lb > P_SUGGEST_MAX)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

/* The name closest to @p w, when it is close enough to be a typo. */
static const char *
suggest(const char *w, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t best_d = strlen(w) <= 4 ? 2 : 3;

    for (size_t i = 0; i < n; i++) {
        size_t d = distance(w, names[i]);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best;
}

/* ---- the tokenizer ------------------------------------------------------ */

static bool
is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static bool
is_ctl(unsigned char c)
{
    return (c < 0x20 && c != '\t' && c != '\r') || c == 0x7f;
}

/* The location of byte @p i of the line being read. */
static loc
here(const parser *p, size_t i)
{
    loc at = {p->file, p->line, (uint32_t)(i - p->line_start + 1), i};
    return at;
}

/* Only blanks, and perhaps a comment, from @p i to the end of the line. */
static bool
rest_blank(const char *t, size_t i, size_t end)
{
    while (i < end && is_blank((unsigned char)t[i]))
        i++;
    return i == end || t[i] == '#';
}

static bool
put(parser *p, char c)
{
    char *nb = rp__grow(&p->alloc, p->buf, &p->cap_buf, p->n_buf + 1, 1);

    if (nb == NULL)
        return false;
    p->buf = nb;
    p->buf[p->n_buf++] = c;
    return true;
}

/* Start a token at byte @p i; its text follows in p->buf. */
static tok *
start_tok(parser *p, tok_type type, size_t i)
{
    tok *t = rp__grow(&p->alloc, p->toks, &p->cap_toks, p->n_toks + 1,
                      sizeof(*p->toks));

    if (t == NULL)
        return NULL;
    p->toks = t;
    t = &p->toks[p->n_toks++];
    t->type = type;
    t->at = here(p, i);
    t->text = p->n_buf;
    t->len = 0;
    return t;
}

/* Finish the last token: terminate its text. */
static rp_status
end_tok(parser *p)
{
    tok *t = &p->toks[p->n_toks - 1];

    if (!put(p, '\0'))
        return no_memory(p, &t->at);
    t->len = p->n_buf - 1 - t->text;
    return RP_OK;
}

/* A token made of the bytes [from, to) of the text. */
static rp_status
add_tok(parser *p, tok_type type, size_t from, size_t to)
{
    loc at = here(p, from);

    if (start_tok(p, type, from) == NULL)
        return no_memory(p, &at);
    for (size_t i = from; i < to; i++)
        if (!put(p, p->text[i]))
            return no_memory(p, &at);
    return end_tok(p);
}

static rp_status
bad_control(parser *p, size_t i)
{
    loc at = here(p, i);

    return fail_at(p, RP_E_SYNTAX, &at,
                   "control character 0x%02x in the "
                   "policy",
                   (unsigned)(unsigned char)p->text[i]);
}

/* A double-quoted string starting at *i; only \" and \\ are escapes. */
static rp_status
lex_string(parser *p, size_t *i, size_t end)
{
    const char *t = p->text;
    size_t j = *i + 1;
    loc at = here(p, *i);

    if (start_tok(p, T_STRING, *i) == NULL)
        return no_memory(p, &at);
    for (; j < end && t[j] != '"'; j++) {
        if (t[j] == '\\') {
            if (j + 1 >= end || (t[j + 1] != '"' && t[j + 1] != '\\')) {
                char c = j + 1 < end ? t[j + 1] : ' ';
                loc e = here(p, j);
                return fail_at(p, RP_E_SYNTAX, &e,
                               "unknown escape '\\%c' "
                               "in a string (only \\\" and \\\\ are allowed)",
                               is_ctl((unsigned char)c) ? '?' : c);
            }
            j++;
        } else if (is_ctl((unsigned char)t[j])) {
            return bad_control(p, j);
        }
        if (!put(p, t[j]))
            return no_memory(p, &at);
    }
    if (j >= end)
        return fail_at(p, RP_E_SYNTAX, &at,
                       "unterminated string: the "
                       "closing '\"' is missing");
    *i = j + 1;
    return end_tok(p);
}

/* A /regex/ starting at *i: it ends at the first unescaped '/' that is
 * followed by a blank or the end of the line, so it may hold blanks. */
static rp_status
lex_regex(parser *p, size_t *i, size_t end)
{
    const char *t = p->text;
    size_t j;

    for (j = *i + 1; j < end; j++) {
        if (is_ctl((unsigned char)t[j]))
            return bad_control(p, j);
        if (t[j] == '\\' && j + 1 < end && !is_ctl((unsigned char)t[j + 1]))
            j++;
        else if (t[j] == '/' &&
                 (j + 1 == end || is_blank((unsigned char)t[j + 1])))
            break;
    }
    if (j >= end) {
        loc at = here(p, *i);
        return fail_at(p, RP_E_SYNTAX, &at,
                       "unterminated regular "
                       "expression: it must end with '/' and a blank");
    }
    j++;
    rp_status st = add_tok(p, T_WORD, *i, j);
    *i = j;
    return st;
}

/* A bare word: anything up to a blank, '#', '{', '}', '"' or a line
 * continuation. */
static rp_status
lex_word(parser *p, size_t *i, size_t end)
{
    const char *t = p->text;
    size_t j = *i;

    while (j < end) {
        unsigned char c = (unsigned char)t[j];
        if (is_blank(c) || is_ctl(c) || c == '#' || c == '{' || c == '}' ||
            c == '"' || (c == '\\' && rest_blank(t, j + 1, end)))
            break;
        j++;
    }
    rp_status st = add_tok(p, T_WORD, *i, j);
    *i = j;
    return st;
}

static rp_status
lex_token(parser *p, size_t *i, size_t end)
{
    unsigned char c = (unsigned char)p->text[*i];

    if (c == '{' || c == '}') {
        (*i)++;
        return add_tok(p, c == '{' ? T_LBRACE : T_RBRACE, *i - 1, *i);
    }
    if (c == '"')
        return lex_string(p, i, end);
    if (is_ctl(c))
        return bad_control(p, *i);
    if (c == '/')
        return lex_regex(p, i, end);
    return lex_word(p, i, end);
}

/* Check a physical line [start, end) of @p text: its length and NULs. */
static rp_status
check_line(
    parser *p, const loc *line_at, const char *text, size_t start, size_t end)
{
    const char *nul = memchr(text + start, '\0', end - start);
    loc at = *line_at;

    if (end - start > p->opts->max_line_length) {
        at.col = p->opts->max_line_length + 1;
        at.off += at.col - 1;
        return fail_at(p, RP_E_LIMIT, &at, "line longer than %u bytes",
                       (unsigned)p->opts->max_line_length);
    }
    if (nul != NULL) {
        at.col += (uint32_t)(nul - (text + start));
        at.off += (uint64_t)(nul - (text + start));
        return fail_at(p, RP_E_SYNTAX, &at, "NUL byte in the policy");
    }
    return RP_OK;
}

/* Tokenize one physical line; *cont says it ends with a backslash. */
static rp_status
lex_line(parser *p, bool *cont)
{
    const char *t = p->text;
    const char *nl = memchr(t + p->pos, '\n', p->len - p->pos);
    size_t end = nl != NULL ? (size_t)(nl - t) : p->len;
    size_t i = p->pos;
    loc at;
    rp_status st;

    p->line_start = p->pos;
    at = here(p, i);
    st = check_line(p, &at, t, i, end);
    *cont = false;
    if (i == 0 && end >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0)
        i = 3; /* a UTF-8 byte order mark */
    while (st == RP_OK && i < end) {
        unsigned char c = (unsigned char)t[i];
        if (is_blank(c)) {
            i++;
        } else if (c == '#') {
            break;
        } else if (c == '\\' && rest_blank(t, i + 1, end)) {
            *cont = true;
            break;
        } else {
            st = lex_token(p, &i, end);
        }
    }
    p->pos = end < p->len ? end + 1 : end;
    p->line++;
    return st;
}

/* Read the next statement; p->n_toks is 0 at the end of the text. */
static rp_status
lex_statement(parser *p)
{
    bool cont = false;
    rp_status st = RP_OK;

    p->n_toks = 0;
    p->n_buf = 0;
    while (st == RP_OK && p->pos < p->len && (cont || p->n_toks == 0))
        st = lex_line(p, &cont);
    return st;
}

/* ---- files -------------------------------------------------------------- */

/* Resolve @p name (as written at token @p i) into @p out: absolute names
 * as they are; at the top, relative to opts->base_dir; in an included
 * file, relative to that file's directory. */
static rp_status
resolve(parser *p, size_t i, char *out, size_t size)
{
    const char *name = T(p, i), *dir = NULL, *slash;
    size_t dlen = 0;
    int n;

    if (*name == '\0')
        return fail_tok(p, RP_E_SYNTAX, i, "empty file name");
    if (name[0] != '/' && p->depth == 0 && p->opts->base_dir != NULL) {
        dir = p->opts->base_dir;
        dlen = strlen(dir);
    } else if (name[0] != '/' && p->depth > 0 &&
               (slash = strrchr(p->file, '/')) != NULL) {
        dir = p->file;
        dlen = (size_t)(slash - p->file);
    }
    if (dir != NULL && dlen > 0 && dir[dlen - 1] == '/')
        dlen--;
    if (dir != NULL && dlen == 0 && dir[0] == '/')
        n = snprintf(out, size, "/%s", name);
    else if (dir != NULL && dlen > 0)
        n = snprintf(out, size, "%.*s/%s", (int)dlen, dir, name);
    else
        n = snprintf(out, size, "%s", name);
    if (n < 0 || (size_t)n >= size)
        return fail_tok(p, RP_E_LIMIT, i, "file name longer than %u bytes",
                        (unsigned)size - 1);
    return RP_OK;
}

static rp_status
io_error(parser *p, size_t i, int errnum)
{
    char why[128], s[P_SHOW + 4];

    if (strerror_r(errnum, why, sizeof(why)) != 0)
        snprintf(why, sizeof(why), "error %d", errnum);
    return fail_tok(p, RP_E_IO, i, "cannot read '%s': %s", S(p, i, s), why);
}

/* Read the whole file @p path, named by token @p i, into a new buffer
 * (NUL-terminated, freed with rp__free) of at most max_policy_bytes. */
static rp_status
read_file(parser *p, size_t i, const char *path, char **out, size_t *n)
{
    uint32_t max = p->opts->max_policy_bytes;
    FILE *fp = fopen(path, "rb");
    struct stat sb;
    size_t cap = 0, got = 0;
    char *buf = NULL, s[P_SHOW + 4];
    rp_status st = RP_OK;

    if (fp == NULL)
        return io_error(p, i, errno);
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode))
        st = fail_tok(p, RP_E_IO, i, "cannot read '%s': not a regular file",
                      S(p, i, s));
    while (st == RP_OK) {
        size_t r;
        char *nb = rp__grow(&p->alloc, buf, &cap, got + 4097, 1);
        if (nb == NULL) {
            st = no_memory(p, &p->toks[i].at);
            break;
        }
        buf = nb;
        r = fread(buf + got, 1, cap - got - 1, fp);
        got += r;
        if (got > max)
            st = fail_tok(p, RP_E_LIMIT, i, "'%s' is larger than %u bytes",
                          S(p, i, s), (unsigned)max);
        else if (r == 0 && ferror(fp))
            st = io_error(p, i, errno != 0 ? errno : EIO);
        else if (r == 0)
            break;
    }
    fclose(fp);
    if (st != RP_OK) {
        rp__free(&p->alloc, buf);
        return st;
    }
    *out = buf;
    *n = got;
    if (buf != NULL)
        buf[got] = '\0';
    return RP_OK;
}

/* ---- builder calls ------------------------------------------------------ */

/* Turn a failed builder call into the parser's error: the builder filled
 * @p e with the location given to rp_builder_set_source(). */
static rp_status
builder_failed(parser *p, rp_status st, rp_error *e, const loc *at)
{
    if (e->status == RP_OK)
        return fail_at(p, st, at, "%s", rp_strerror(st));
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
        return no_memory(p, at);
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
    }
    return st == RP_OK ? RP_OK : builder_failed(p, st, &e, at);
}

/* The entry on the list-file line [off, end) of @p buf, as [*s, *e):
 * a byte order mark, a comment ('#' at the start or after a blank) and
 * surrounding blanks are dropped. */
static void
entry_bounds(const char *buf, size_t off, size_t end, size_t *s, size_t *e)
{
    size_t a = off, b;

    if (off == 0 && end >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        a = 3;
    for (b = a; b < end; b++)
        if (buf[b] == '#' && (b == a || is_blank((unsigned char)buf[b - 1])))
            break;
    while (a < b && is_blank((unsigned char)buf[a]))
        a++;
    while (b > a && is_blank((unsigned char)buf[b - 1]))
        b--;
    *s = a;
    *e = b;
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
        if ((st = check_line(p, &at, buf, off, end)) != RP_OK)
            break;
        entry_bounds(buf, off, end, &s, &e);
        for (size_t j = s; st == RP_OK && j < e; j++)
            if (is_ctl((unsigned char)buf[j])) {
                loc c = {path, at.line, (uint32_t)(j - off + 1), j};
                st = fail_at(p, RP_E_SYNTAX, &c,
                             "control character 0x%02x "
                             "in a list file",
                             (unsigned)(unsigned char)buf[j]);
            }
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
        return fail_tok(p, RP_E_POLICY, i, "list files are disabled");
    st = resolve(p, i, path, sizeof(path));
    if (st == RP_OK)
        st = read_file(p, i, path, &buf, &n);
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
        return fail_tok(p, RP_E_SYNTAX, 0,
                        "'%s%s%s' needs at least one %s "
                        "or a quoted list file",
                        T(p, 0), deny ? " " : "", deny ? T(p, 1) : "", what);
    for (size_t i = first; st == RP_OK && i < p->n_toks; i++) {
        if (p->toks[i].type == T_STRING)
            st = list_file(p, i, t);
        else
            st = add_entry(p, t, &p->toks[i].at, T(p, i));
    }
    return st;
}

/* ---- statement helpers -------------------------------------------------- */

/* Token @p i must be a bare word: @p what, which token @p who needs. */
static rp_status
want_word(parser *p, size_t i, size_t who, const char *what, const char **out)
{
    *out = "";
    if (i >= p->n_toks)
        return fail_tok(p, RP_E_SYNTAX, who, "'%s' needs %s", T(p, who), what);
    if (p->toks[i].type != T_WORD)
        return fail_tok(p, RP_E_SYNTAX, i,
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
    return fail_tok(p, RP_E_SYNTAX, i,
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
        return fail_tok(p, RP_E_SYNTAX, 0,
                        "'include' needs a file name in "
                        "double quotes");
    if (p->toks[1].type != T_STRING)
        return fail_tok(p, RP_E_SYNTAX, 1,
                        "the file name after 'include' "
                        "must be in double quotes");
    TRY(no_more(p, 2));
    if (p->opts->flags & RP_OPT_NO_FILES)
        return fail_tok(p, RP_E_POLICY, 1, "includes are disabled");
    if (max > P_INCLUDE_HARD_MAX)
        max = P_INCLUDE_HARD_MAX;
    if (p->depth >= max)
        return fail_tok(p, RP_E_LIMIT, 1,
                        "includes nested more than %u "
                        "deep",
                        max);
    TRY(resolve(p, 1, path, sizeof(path)));
    for (const parser *q = p; q != NULL; q = q->parent)
        if (strcmp(q->file, path) == 0)
            return fail_tok(p, RP_E_POLICY, 1,
                            "include loop: '%s' is "
                            "already being read",
                            S(p, 1, s));
    st = read_file(p, 1, path, &buf, &n);
    if (st == RP_OK)
        st = parse_text(p, p->b, path, buf, n, p->depth + 1, p->err);
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
        return fail_tok(p, RP_E_SYNTAX, 2,
                        "unknown domain kind '%s' "
                        "(expected local, relay or reroute)",
                        S(p, 2, s));
    if (k == 2)
        TRY(want_word(p, 3, 2, "a target domain", &tgt));
    if (k != 0)
        TRY(no_more(p, k == 2 ? 4 : 3));
    if (k == 0 && p->n_toks > 3 &&
        (p->toks[3].type != T_WORD || strcmp(T(p, 3), "recipients") != 0))
        return fail_tok(p, RP_E_SYNTAX, 3,
                        "expected 'recipients' after "
                        "'local', not '%s'",
                        S(p, 3, s));
    CALL(p, 1, rp_builder_domain(p->b, pat, (rp_domain_kind)(k + 1), tgt, &e_));
    if (k != 0 || p->n_toks <= 3)
        return RP_OK;
    t.arg = pat;
    if (p->n_toks == 4)
        return fail_tok(p, RP_E_SYNTAX, 3,
                        "'recipients' needs at least one "
                        "recipient or a quoted list file");
    return each_entry(p, 4, "recipient", &t);
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
    };
    int f = 0;
    target t;

    while (strcmp(T(p, 0), forms[f].kw) != 0)
        f++;
    t.kind = forms[f].kind;
    TRY(want_word(p, 1, 0, forms[f].name, &t.arg));
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
        hint = suggest(r, names, RP_REASON_COUNT - 1);
        return fail_tok(p, RP_E_SYNTAX, 1, "unknown reason '%s'%s%s%s",
                        S(p, 1, s), hint ? " (did you mean '" : "",
                        hint ? hint : "", hint ? "'?)" : "");
    }
    TRY(want_word(p, 2, 0, "a reply code", &code));
    if (strlen(code) != 3 || strspn(code, "0123456789") != 3)
        return fail_tok(p, RP_E_SYNTAX, 2,
                        "a reply code is three digits, "
                        "not '%s'",
                        S(p, 2, s));
    TRY(want_word(p, 3, 0, "an enhanced status code", &enh));
    if (p->n_toks < 5)
        return fail_tok(p, RP_E_SYNTAX, 0,
                        "'reply' needs a text in double "
                        "quotes");
    if (p->toks[4].type != T_STRING)
        return fail_tok(p, RP_E_SYNTAX, 4,
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
    "anonymous", "authenticated", "user", "group", "network", "interface",
};

static rp_status
st_listener(parser *p)
{
    const char *name;
    char s[P_SHOW + 4];

    if (p->in_listener)
        return fail_tok(p, RP_E_SYNTAX, 0,
                        "listener blocks cannot be "
                        "nested (is the '}' of listener '%s' missing?)",
                        p->open_name);
    if (p->n_toks < 2 || p->toks[1].type == T_LBRACE)
        return fail_tok(p, RP_E_SYNTAX, 0, "'listener' needs a name");
    TRY(want_word(p, 1, 0, "a listener name", &name));
    if (p->n_toks < 3)
        return fail_tok(p, RP_E_SYNTAX, 1,
                        "expected '{' after the listener "
                        "name, on the same line");
    if (p->toks[2].type != T_LBRACE)
        return fail_tok(p, RP_E_SYNTAX, 2,
                        "expected '{' after the listener "
                        "name, not '%s'",
                        S(p, 2, s));
    CALL(p, 1, rp_builder_listener(p->b, name, &p->listener, &e_));
    p->in_listener = true;
    p->open_at = p->toks[0].at;
    show(name, p->toks[1].len, p->open_name);
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
        return fail_tok(p, RP_E_SYNTAX, 1,
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
        return fail_tok(p, RP_E_SYNTAX, 1,
                        "unknown requirement '%s' (the "
                        "only one is 'require auth')",
                        S(p, 1, s));
    TRY(no_more(p, 2));
    CALL(p, 1, rp_builder_require_auth(p->b, p->listener, true, &e_));
    return RP_OK;
}

/* The PRINCIPAL of `allow`/`deny` at token 1; *next is the first token
 * after it. */
static rp_status
principal(parser *p, rp_principal *pr, const char **arg, size_t *next)
{
    static const char *const needs[] = {
        "",
        "",
        "a user name",
        "a group name",
        "a network name or CIDR",
        "a network name or CIDR",
    };
    const char *w;
    char s[P_SHOW + 4];
    size_t i = 2;
    int k;

    TRY(want_word(p, 1, 0,
                  "a principal (anonymous, authenticated, user, "
                  "group, network or interface)",
                  &w));
    if ((k = lookup(w, principals, 6)) < 0)
        return fail_tok(p, RP_E_SYNTAX, 1,
                        "unknown principal '%s' (expected "
                        "anonymous, authenticated, user, group, network or "
                        "interface)",
                        S(p, 1, s));
    *pr = k == 5 ? RP_PRINCIPAL_INTERFACE : (rp_principal)(k + 1);
    *arg = NULL;
    if (k == 4 && i < p->n_toks && p->toks[i].type == T_WORD &&
        strcmp(T(p, i), "all-except") == 0) {
        *pr = RP_PRINCIPAL_NETWORK_EXCEPT;
        i++;
    }
    if (k >= 2)
        TRY(want_word(p, i, i - 1, needs[k], arg));
    *next = k >= 2 ? i + 1 : i;
    return RP_OK;
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
    const char *arg = NULL, *w;
    char s[P_SHOW + 4];
    uint32_t bits = 0;
    size_t i = 0;
    int k;

    TRY(principal(p, &pr, &arg, &i));
    if (i >= p->n_toks)
        return fail_tok(p, RP_E_SYNTAX, 0,
                        "'%s' needs at least one "
                        "permission (submit, relay, routing or "
                        "local-sender)",
                        T(p, 0));
    for (; i < p->n_toks; i++) {
        TRY(want_word(p, i, 0, "a permission", &w));
        if ((k = lookup(w, perms, 4)) < 0)
            return fail_tok(p, RP_E_SYNTAX, i,
                            "unknown permission '%s' "
                            "(expected submit, relay, routing or "
                            "local-sender)",
                            S(p, i, s));
        bits |= 1u << k;
    }
    CALL(p, 1, rp_builder_rule(p->b, p->listener, deny, pr, arg, bits, &e_));
    return RP_OK;
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
                        "authenticated, user, group, network or interface)"
                  : deny ? "client, sender or recipient"
                         : "'open-relay'",
                  &w));
    k = deny ? lookup(w, lists, 3) : strcmp(w, "open-relay") == 0 ? 0 : -1;
    if (k >= 0 && p->in_listener)
        return fail_tok(p, RP_E_SYNTAX, 1,
                        "'%s %s' is only valid at top "
                        "level, not inside a listener block",
                        T(p, 0), w);
    if (p->in_listener)
        return st_rule(p, deny);
    if (k < 0 && lookup(w, principals, 6) >= 0)
        return fail_tok(p, RP_E_SYNTAX, 1,
                        "'%s %s' is only valid inside a "
                        "listener block",
                        T(p, 0), w);
    if (k < 0)
        return fail_tok(p, RP_E_SYNTAX, 1,
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
        return fail_tok(p, RP_E_SYNTAX, 1, "unexpected '%s' after '}'",
                        S(p, 1, s));
    if (!p->in_listener)
        return fail_tok(p, RP_E_SYNTAX, 0,
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
    hint = suggest(T(p, 0), names, N_KEYWORDS);
    return fail_tok(p, RP_E_SYNTAX, 0, "unknown statement '%s'%s%s%s",
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
            return fail_tok(p, RP_E_SYNTAX, i,
                            "'{' is only valid at the "
                            "end of a 'listener' line");
        if (ty == T_RBRACE && i > 0)
            return fail_tok(p, RP_E_SYNTAX, i,
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
        return fail_tok(p, RP_E_SYNTAX, 0,
                        "expected a statement, not a "
                        "quoted string");
    w = T(p, 0);
    for (k = 0; k < (int)N_KEYWORDS; k++)
        if (strcmp(w, keywords[k].name) == 0)
            break;
    if (k == (int)N_KEYWORDS)
        return unknown(p);
    if ((keywords[k].where & where) == 0)
        return fail_tok(p, RP_E_SYNTAX, 0,
                        where == W_TOP
                            ? "'%s' is only valid inside a listener block"
                            : "'%s' is only valid at top level, not inside a "
                              "listener block",
                        w);
    return keywords[k].run(p);
}

/* ---- entry points ------------------------------------------------------- */

static rp_status
parse_text(const parser *parent,
           rp_builder *b,
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
    p.opts = rp__builder_options(b);
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
        st = fail_at(&p, RP_E_LIMIT, &at, "policy larger than %u bytes",
                     (unsigned)p.opts->max_policy_bytes);
    }
    while (st == RP_OK && (st = lex_statement(&p)) == RP_OK && p.n_toks > 0)
        st = statement(&p);
    if (st == RP_OK && p.in_listener)
        st = fail_at(&p, RP_E_SYNTAX, &p.open_at,
                     "listener '%s' is not "
                     "closed: '}' is missing",
                     p.open_name);
    rp__free(&p.alloc, p.toks);
    rp__free(&p.alloc, p.buf);
    return st;
}

rp_status
rp__parse(rp_builder *b,
          const char *file,
          const char *text,
          size_t len,
          unsigned depth,
          rp_error *err)
{
    if (b == NULL || (text == NULL && len != 0))
        return RP_E_ARG;
    if (text == NULL)
        text = "";
    else if (len == RP_NTS)
        len = strlen(text);
    return parse_text(NULL, b, file, text, len, depth, err);
}
