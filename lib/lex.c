/*
 * lex.c - the lexical side of the policy language: error reports,
 * spelling suggestions, cutting the text into statements and tokens, and
 * reading included and list files.  parse.c turns the statements into
 * builder calls; parse.h holds what the two share.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "file.h"
#include "lex.h"
#include "relaypolicy.h"
#include "status.h"

/* Words longer than this get no spelling suggestion. */
#define P_SUGGEST_MAX 32

/* ---- errors ------------------------------------------------------------- */

/* Copy at most P_SHOW bytes of @p s for a message, replacing anything
 * unprintable and marking a cut with "...". */
const char *
rp__lex_show(const char *s, size_t n, char out[P_SHOW + 4])
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
rp_status
rp__lex_fail_at(parser *p, rp_status st, const loc *at, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    st = vfail(p, st, at, NULL, 0, fmt, ap);
    va_end(ap);
    return st;
}

/* Report an error at token @p i, which is also the snippet. */
rp_status
rp__lex_fail_tok(parser *p, rp_status st, size_t i, const char *fmt, ...)
{
    const tok *t = &p->toks[i];
    va_list ap;

    va_start(ap, fmt);
    st = vfail(p, st, &t->at, p->buf + t->text, t->len, fmt, ap);
    va_end(ap);
    return st;
}

rp_status
rp__lex_no_memory(parser *p, const loc *at)
{
    return rp__lex_fail_at(p, RP_E_NOMEM, at, "out of memory");
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
const char *
rp__lex_suggest(const char *w, const char *const *names, size_t n)
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
        return rp__lex_no_memory(p, &t->at);
    t->len = p->n_buf - 1 - t->text;
    return RP_OK;
}

/* A token made of the bytes [from, to) of the text. */
static rp_status
add_tok(parser *p, tok_type type, size_t from, size_t to)
{
    loc at = here(p, from);

    if (start_tok(p, type, from) == NULL)
        return rp__lex_no_memory(p, &at);
    for (size_t i = from; i < to; i++)
        if (!put(p, p->text[i]))
            return rp__lex_no_memory(p, &at);
    return end_tok(p);
}

static rp_status
bad_control(parser *p, size_t i)
{
    loc at = here(p, i);

    return rp__lex_fail_at(p, RP_E_SYNTAX, &at,
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
        return rp__lex_no_memory(p, &at);
    for (; j < end && t[j] != '"'; j++) {
        if (t[j] == '\\') {
            if (j + 1 >= end || (t[j + 1] != '"' && t[j + 1] != '\\')) {
                char c = j + 1 < end ? t[j + 1] : ' ';
                loc e = here(p, j);
                return rp__lex_fail_at(
                    p, RP_E_SYNTAX, &e,
                    "unknown escape '\\%c' "
                    "in a string (only \\\" and \\\\ are allowed)",
                    is_ctl((unsigned char)c) ? '?' : c);
            }
            j++;
        } else if (is_ctl((unsigned char)t[j])) {
            return bad_control(p, j);
        }
        if (!put(p, t[j]))
            return rp__lex_no_memory(p, &at);
    }
    if (j >= end)
        return rp__lex_fail_at(p, RP_E_SYNTAX, &at,
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
        return rp__lex_fail_at(p, RP_E_SYNTAX, &at,
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
        return rp__lex_fail_at(p, RP_E_LIMIT, &at, "line longer than %u bytes",
                               (unsigned)p->opts->max_line_length);
    }
    if (nul != NULL) {
        at.col += (uint32_t)(nul - (text + start));
        at.off += (uint64_t)(nul - (text + start));
        return rp__lex_fail_at(p, RP_E_SYNTAX, &at, "NUL byte in the policy");
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
rp_status
rp__lex_statement(parser *p)
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
rp_status
rp__lex_resolve(parser *p, size_t i, char *out, size_t size)
{
    const char *name = T(p, i), *dir = NULL, *slash;
    size_t dlen = 0;
    int n;

    if (*name == '\0')
        return rp__lex_fail_tok(p, RP_E_SYNTAX, i, "empty file name");
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
        return rp__lex_fail_tok(p, RP_E_LIMIT, i,
                                "file name longer than %u bytes",
                                (unsigned)size - 1);
    return RP_OK;
}

/* Read the whole file @p path, named by token @p i, into a new buffer
 * (NUL-terminated, freed with rp__free) of at most max_policy_bytes. */
rp_status
rp__lex_read_file(parser *p, size_t i, const char *path, char **out, size_t *n)
{
    char why[160], s[P_SHOW + 4];
    rp_status st = rp__file_read(&p->alloc, path, p->opts->max_policy_bytes,
                                 out, n, why, sizeof(why));

    if (st == RP_E_NOMEM)
        return rp__lex_no_memory(p, &p->toks[i].at);
    if (st == RP_E_LIMIT)
        return rp__lex_fail_tok(p, st, i, "'%s' is larger than %u bytes",
                                S(p, i, s),
                                (unsigned)p->opts->max_policy_bytes);
    if (st != RP_OK)
        return rp__lex_fail_tok(p, st, i, "cannot read '%s': %s", S(p, i, s),
                                why);
    return RP_OK;
}

/* ---- list files --------------------------------------------------------- */

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

/* Check the list-file line [at->off, end) of @p buf and find its entry,
 * as [*s, *e); it may be empty. */
rp_status
rp__lex_list_line(
    parser *p, const loc *at, const char *buf, size_t end, size_t *s, size_t *e)
{
    size_t off = (size_t)at->off;
    rp_status st = check_line(p, at, buf, off, end);

    if (st != RP_OK)
        return st;
    entry_bounds(buf, off, end, s, e);
    for (size_t j = *s; j < *e; j++)
        if (is_ctl((unsigned char)buf[j])) {
            loc c = {at->file, at->line, (uint32_t)(j - off + 1), j};
            return rp__lex_fail_at(p, RP_E_SYNTAX, &c,
                                   "control character 0x%02x "
                                   "in a list file",
                                   (unsigned)(unsigned char)buf[j]);
        }
    return RP_OK;
}
