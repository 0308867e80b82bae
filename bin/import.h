/*
 * import.h - shared pieces of `relaypolicy import`: the text being
 * written, the findings (what could not be translated), and sets of
 * network prefixes with the operations the importers need.
 */
#ifndef RP_IMPORT_H
#define RP_IMPORT_H

#include "cli.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable NUL-terminated string. */
typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf;

void sb_add(sbuf *b, const char *s);
void sb_addn(sbuf *b, const char *s, size_t n);
void sb_printf(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sb_free(sbuf *b);

/* One network prefix; family 4 or 6, address in network order (IPv4 in
 * the first 4 bytes), host bits zero. */
typedef struct pfx {
    int fam;
    uint8_t a[16];
    int len;
} pfx;

/* A set of prefixes, kept normalised (no prefix inside another, sorted,
 * adjacent halves merged) by pset_norm(). */
typedef struct pset {
    pfx *v;
    size_t n, cap;
} pset;

void pset_add(pset *s, const pfx *p);
void pset_free(pset *s);
void pset_norm(pset *s);
void pset_copy(pset *dst, const pset *src);
/* The whole IPv4 and IPv6 address space. */
void pset_all(pset *s);
bool pset_is_all(const pset *s);
/* dst = a OP b; dst may not be a or b. */
void pset_union(pset *dst, const pset *a, const pset *b);
void pset_minus(pset *dst, const pset *a, const pset *b);
void pset_inter(pset *dst, const pset *a, const pset *b);
bool pset_equal(const pset *a, const pset *b);
/* Parse "a.b.c.d", "a.b.c.d/n", "v6", "[v6]/n", "v6/n"; host bits are
 * cleared (*had_host_bits says so); ::ffff:a.b.c.d/n (n >= 96) becomes
 * its IPv4 prefix.  False when malformed. */
bool pfx_parse(const char *text, pfx *out, bool *had_host_bits);
/* Add the minimal prefixes covering the range lo..hi (same family). */
bool pset_add_range(pset *s, const char *lo, const char *hi);
/* Append the set as blank-separated words ("10.0.0.0/8 192.0.2.1"). */
void pset_write(sbuf *b, const pset *s);

/* An import in progress. */
typedef struct import {
    const char *what; /* "postfix" or "exchange" */
    sbuf policy;      /* the statements */
    sbuf findings;    /* "PARAM: message\n" lines: not translated */
    sbuf notes;       /* deliberate differences, also "PARAM: message" */
    size_t n_findings, n_notes;
} import;

void imp_finding(import *im, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void imp_note(import *im, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write a LIST of words, folding long lines with `\` continuations after
 * @p lead (the statement's first words). */
void imp_words(import *im, const char *lead, const char *const *w, size_t n);

/* Finish: prepend the header and the findings as comments, write the
 * policy to @p out_path (or stdout), compile it, print the findings and
 * the lint report on stderr, and return the exit status: 0 complete,
 * 1 incomplete (findings), 2 error. */
int imp_finish(import *im, const char *source, const char *out_path);
void imp_free(import *im);

/* A name usable as a policy word: letters, digits, '-', '_' and '.';
 * anything else becomes '-'.  Lowercased. */
void imp_name(char *dst, size_t size, const char *src);

int cmd_import(int argc, char **argv);
int import_postfix(int argc, char **argv);
int import_exchange(int argc, char **argv);

#endif /* RP_IMPORT_H */
