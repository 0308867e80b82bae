/*
 * regex_literal.c - the literal a regular expression cannot match without.
 *
 * A regex set (regex.c) skips a pattern only when a literal the pattern
 * cannot match without is absent from the subject.  The literal is read
 * from the pattern text by a deliberately narrow parser: the top level
 * must be a plain sequence (no '|'), and any construct it is unsure of
 * (most backslash sequences, option settings, verbs, callouts, named
 * groups, POSIX classes, odd braces, non-printable or non-ASCII bytes)
 * means no literal.  Groups and classes are skipped whole.  A literal
 * byte counts only when no quantifier follows it; the longest run of such
 * bytes is required in every match.  (Failing that, regex.c asks PCRE2
 * for the code unit it requires.)
 */
#include <string.h>

#include "relaypolicy.h"
#include "rp_regex.h"
#include "text.h"

/* Bytes kept of the current and the best literal run. */
#define RUN_MAX 64

/* Escapes that stand for one non-literal item and take no argument. */
static bool
plain_escape(char c)
{
    return c != '\0' && strchr("dDwWsShHvVRbBAzZGK", c) != NULL;
}

static bool
is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* An escape inside a skipped group or class: 2, or 0 when it could hide a
 * bracket (\Q...\E quoting, \cX) or ends the pattern. */
static size_t
skip_escape(const char *p, size_t n, size_t i)
{
    if (i + 1 >= n || p[i + 1] == 'Q' || p[i + 1] == 'E' || p[i + 1] == 'c')
        return 0;
    return 2;
}

/* The end of the class opening at p[i] == '[', or 0 when unsure. */
static size_t
skip_class(const char *p, size_t n, size_t i)
{
    size_t j = i + 1;

    if (j < n && p[j] == '^')
        j++;
    if (j < n && p[j] == ']')
        j++;
    while (j < n) {
        if (p[j] == '\\') {
            size_t k = skip_escape(p, n, j);
            if (k == 0)
                return 0;
            j += k;
        } else if (p[j] == '[') {
            return 0; /* A POSIX class or a nested bracket. */
        } else if (p[j] == ']') {
            return j + 1;
        } else {
            j++;
        }
    }
    return 0;
}

/* True when the group opening at p[i] == '(' is one that only groups or
 * looks around: "(", "(?:", "(?=", "(?!", "(?>", "(?<=", "(?<!". */
static bool
plain_group(const char *p, size_t n, size_t i)
{
    if (i + 1 < n && p[i + 1] == '*')
        return false;
    if (i + 1 >= n || p[i + 1] != '?')
        return true;
    if (i + 2 >= n)
        return false;
    switch (p[i + 2]) {
    case ':':
    case '=':
    case '!':
    case '>':
        return true;
    case '<':
        return i + 3 < n && (p[i + 3] == '=' || p[i + 3] == '!');
    default:
        return false;
    }
}

/* The end of the group opening at p[i] == '(', or 0 when unsure. */
static size_t
skip_group(const char *p, size_t n, size_t i)
{
    size_t depth = 0, j = i, k;

    while (j < n) {
        switch (p[j]) {
        case '\\':
            if ((k = skip_escape(p, n, j)) == 0)
                return 0;
            j += k;
            break;
        case '[':
            if ((j = skip_class(p, n, j)) == 0)
                return 0;
            break;
        case '(':
            if (!plain_group(p, n, j))
                return 0;
            depth++;
            j++;
            break;
        case ')':
            j++;
            if (--depth == 0)
                return j;
            break;
        default:
            j++;
        }
    }
    return 0;
}

/* The length of a quantifier at p[i] (with a lazy or possessive mark), 0
 * when there is none, -1 for a brace that may or may not be one. */
static int
quantifier_len(const char *p, size_t n, size_t i)
{
    size_t j = i + 1;

    if (i >= n)
        return 0;
    if (p[i] == '{') {
        if (j >= n || !is_digit(p[j]))
            return -1;
        while (j < n && is_digit(p[j]))
            j++;
        if (j < n && p[j] == ',')
            for (j++; j < n && is_digit(p[j]); j++)
                ;
        if (j >= n || p[j] != '}' || j - i > 16)
            return -1;
        j++;
    } else if (p[i] != '*' && p[i] != '+' && p[i] != '?') {
        return 0;
    }
    if (j < n && (p[j] == '?' || p[j] == '+'))
        j++;
    return (int)(j - i);
}

/* A literal run: its first RUN_MAX bytes and its full length. */
typedef struct lit_run {
    unsigned char b[RUN_MAX];
    size_t len;
} lit_run;

static void
run_end(lit_run *run, lit_run *best)
{
    if (run->len > best->len)
        *best = *run;
    run->len = 0;
}

/* One top-level item at p[i]: its end in *next and its literal byte (or
 * -1).  Returns false when the pattern is beyond this parser. */
static bool
read_item(const char *p, size_t n, size_t i, size_t *next, int *lit)
{
    unsigned char c = (unsigned char)p[i];

    *lit = -1;
    *next = i + 1;
    if (c >= 0x7f || c < 0x20)
        return false;
    switch (c) {
    case '\\':
        if (i + 1 >= n || (unsigned char)p[i + 1] >= 0x7f ||
            (unsigned char)p[i + 1] < 0x20)
            return false;
        if (is_alnum(p[i + 1]) && !plain_escape(p[i + 1]))
            return false;
        if (!is_alnum(p[i + 1]))
            *lit = (unsigned char)p[i + 1];
        *next = i + 2;
        return true;
    case '[':
        return (*next = skip_class(p, n, i)) != 0;
    case '(':
        return plain_group(p, n, i) && (*next = skip_group(p, n, i)) != 0;
    case '.':
    case '^':
    case '$':
        return true;
    case ')':
    case '|':
    case '*':
    case '+':
    case '?':
    case '{':
        return false;
    default:
        *lit = c;
        return true;
    }
}

/*
 * The longest literal that every match of the pattern @p p (@p n bytes,
 * compiled caseless and without UTF) contains, lowercased, cut to @p max
 * bytes into @p out.  Returns its length; 0 when no literal is certain.
 */
size_t
rp__regex_text_literal(const char *p, size_t n, unsigned char *out, size_t max)
{
    lit_run run = {{0}, 0}, best = {{0}, 0};
    size_t i = 0, next;
    int lit, q;

    while (i < n) {
        if (!read_item(p, n, i, &next, &lit))
            return 0;
        if ((q = quantifier_len(p, n, next)) < 0)
            return 0;
        if (q > 0 || lit < 0) {
            run_end(&run, &best);
        } else {
            if (run.len < RUN_MAX)
                run.b[run.len] =
                    (unsigned char)rp__ascii_lower((unsigned char)lit);
            run.len++;
        }
        i = next + (size_t)q;
    }
    run_end(&run, &best);
    n = best.len < RUN_MAX ? best.len : RUN_MAX;
    n = n < max ? n : max;
    memcpy(out, best.b, n);
    return n;
}
