/*
 * lex.h - the parser's state, shared by lex.c (which cuts the text into
 * statements and tokens, reads files and reports errors) and parse.c
 * (which turns each statement into builder calls).  Private to those two
 * files.
 */
#ifndef RP_LEX_H
#define RP_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "relaypolicy.h"

/* Longest resolved file name. */
#define P_PATH_MAX 4096
/* Bytes of a token quoted in a message. */
#define P_SHOW 40

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

/* lex.c: errors, spelling suggestions, the tokenizer and files. */
const char *rp__lex_show(const char *s, size_t n, char out[P_SHOW + 4]);
rp_status
rp__lex_fail_at(parser *p, rp_status st, const loc *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
rp_status
rp__lex_fail_tok(parser *p, rp_status st, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
rp_status rp__lex_no_memory(parser *p, const loc *at);
const char *rp__lex_suggest(const char *w, const char *const *names, size_t n);
rp_status rp__lex_statement(parser *p);
rp_status rp__lex_list_line(parser *p,
                            const loc *at,
                            const char *buf,
                            size_t end,
                            size_t *s,
                            size_t *e);
rp_status rp__lex_resolve(parser *p, size_t i, char *out, size_t size);
rp_status
rp__lex_read_file(parser *p, size_t i, const char *path, char **out, size_t *n);

/* The text of token @p i. */
static inline const char *
T(const parser *p, size_t i)
{
    return p->buf + p->toks[i].text;
}

/* The text of token @p i, cut for a message. */
static inline const char *
S(const parser *p, size_t i, char out[P_SHOW + 4])
{
    return rp__lex_show(T(p, i), p->toks[i].len, out);
}

#endif /* RP_LEX_H */
