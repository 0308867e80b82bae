/*
 * address.c - RFC 5321 mailboxes: parsing, canonical text and the routing
 * splits of relaypolicy(7) §5 step 6.
 *
 * These functions run for every recipient of every decision, so none of
 * them allocates, every loop is bounded by the input length, and no input
 * is assumed to be NUL-terminated.  UTF-8 (RFC 6531) is accepted
 * everywhere and marked (rp__addr.utf8); whether the query may use it is
 * the caller's decision.  A U-label domain is stored as its A-label.
 */
#include <stdint.h>
#include <string.h>

#include "address.h"
#include "idn.h"
#include "ipaddr.h"
#include "relaypolicy.h"
#include "text.h"

/* Character classes of the 7-bit bytes. */
#define A 1 /* atext (RFC 5321 section 4.1.2) */
#define L 2 /* letter, digit or hyphen */
#define Q 4 /* qtextSMTP: printable ASCII other than '"' and '\\' */
#define AQ (A | Q)
#define ALQ (A | L | Q)

static const uint8_t char_class[128] = {
    0,   0,   0,   0,   0,   0,   0,   0,   /* 00 */
    0,   0,   0,   0,   0,   0,   0,   0,   /* 08 */
    0,   0,   0,   0,   0,   0,   0,   0,   /* 10 */
    0,   0,   0,   0,   0,   0,   0,   0,   /* 18 */
    Q,   AQ,  0,   AQ,  AQ,  AQ,  AQ,  AQ,  /* 20  !"#$%&' */
    Q,   Q,   AQ,  AQ,  Q,   ALQ, Q,   AQ,  /* 28 ()*+,-./ */
    ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, /* 30 01234567 */
    ALQ, ALQ, Q,   Q,   Q,   AQ,  Q,   AQ,  /* 38 89:;<=>? */
    Q,   ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, /* 40 @ABCDEFG */
    ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, /* 48 HIJKLMNO */
    ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, /* 50 PQRSTUVW */
    ALQ, ALQ, ALQ, Q,   0,   Q,   AQ,  AQ,  /* 58 XYZ[\]^_ */
    AQ,  ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, /* 60 `abcdefg */
    ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, /* 68 hijklmno */
    ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, ALQ, /* 70 pqrstuvw */
    ALQ, ALQ, ALQ, AQ,  AQ,  AQ,  AQ,  0,   /* 78 xyz{|}~  */
};

#undef A
#undef L
#undef Q
#undef AQ
#undef ALQ

#define CLASS_ATEXT 1
#define CLASS_LDH 2
#define CLASS_QTEXT 4

#define LABEL_MAX 63

/* The class bits of byte @p c.  Bytes above 0x7f are parts of UTF-8
 * characters (the whole path is checked first): atext and qtext in a
 * local part (RFC 6531), never LDH. */
static inline unsigned
class_of(char c)
{
    unsigned char u = (unsigned char)c;

    return u < 128 ? char_class[u] : CLASS_ATEXT | CLASS_QTEXT;
}

/* scan_bytes() from the first non-ASCII byte, at @p first8, on. */
static rp__addr_err __attribute__((noinline))
scan_utf8(const char *s, size_t len, size_t first8)
{
    for (size_t i = first8; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == 0x7f) {
            return rp__utf8_valid(s + first8, i - first8) ? RP__ADDR_CONTROL
                                                          : RP__ADDR_NON_ASCII;
        }
    }
    return rp__utf8_valid(s + first8, len - first8) ? RP__ADDR_OK
                                                    : RP__ADDR_NON_ASCII;
}

/*
 * Reject bytes that no path may hold: control characters (NUL, CR, LF,
 * TAB, DEL...) and bytes that are not UTF-8; the first offending byte
 * decides which is reported.  *utf8 says whether any byte is non-ASCII.
 * An ASCII path takes the loop alone, as before SMTPUTF8.
 */
static rp__addr_err
scan_bytes(const char *s, size_t len, bool *utf8)
{
    *utf8 = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x80) {
            *utf8 = true;
            return scan_utf8(s, len, i);
        }
        if (c < 0x20 || c == 0x7f) {
            return RP__ADDR_CONTROL;
        }
    }
    return RP__ADDR_OK;
}

/* True when @p s is a dot-atom: atext runs joined by single dots. */
static bool
is_dot_atom(const char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || s[len - 1] == '.') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (s[i - 1] == '.') {
                return false;
            }
        } else if (!(class_of(s[i]) & CLASS_ATEXT)) {
            return false;
        }
    }
    return true;
}

static bool canonical_fits(const rp__addr *a);

/* A domain name holding UTF-8: stored as its A-label form, whose length
 * the 255-octet limit counts (relaypolicy(7) §2). */
static rp__addr_err
parse_idn(const char *s, size_t len, rp__addr *out)
{
    size_t n = 0;
    rp__idn_err e =
        rp__idn_to_ascii(s, len, out->domain, sizeof(out->domain), &n);

    if (e != RP__IDN_OK) {
        return e == RP__IDN_TOO_LONG ? RP__ADDR_TOO_LONG : RP__ADDR_SYNTAX;
    }
    out->domain_len = n;
    out->dom_type = RP__DOM_NAME;
    return RP__ADDR_OK;
}

/*
 * Check a domain name (LDH labels of 1 to 63 octets, no hyphen at either
 * end of a label, one optional trailing dot) and store it lowercased
 * without the trailing dot.
 */
static rp__addr_err
parse_name(const char *s, size_t len, rp__addr *out)
{
    if (len > 0 && s[len - 1] == '.') {
        len--;
    }
    if (len == 0) {
        return RP__ADDR_SYNTAX;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] >= 0x80) {
            return parse_idn(s, len, out);
        }
    }
    if (len > RP__DOMAIN_MAX) {
        return RP__ADDR_TOO_LONG;
    }
    rp__lower(out->domain, s, len);
    if (rp__domain_check(out->domain, len) != NULL) {
        return RP__ADDR_SYNTAX;
    }
    if (rp__idn_has_alabel(out->domain, len) &&
        rp__idn_check_alabels(out->domain, len) != 0) {
        return RP__ADDR_SYNTAX; /* not a valid A-label */
    }
    out->domain[len] = '\0';
    out->domain_len = len;
    out->dom_type = RP__DOM_NAME;
    return RP__ADDR_OK;
}

/* True when @p s starts with the address literal tag "IPv6:", any case. */
static bool
has_ipv6_tag(const char *s, size_t len)
{
    return len >= 5 && (s[0] == 'I' || s[0] == 'i') &&
           (s[1] == 'P' || s[1] == 'p') && (s[2] == 'V' || s[2] == 'v') &&
           s[3] == '6' && s[4] == ':';
}

/*
 * Check an address literal "[a.b.c.d]" or "[IPv6:...]" (brackets included
 * in @p s) and store its canonical text without brackets.  An untagged
 * IPv6 address and any other tag are syntax errors; an IPv4-mapped IPv6
 * literal is the IPv4 address.
 */
static rp__addr_err
parse_literal(const char *s, size_t len, rp__addr *out)
{
    const char *body = s + 1;
    size_t blen, n = 0;

    if (len < 2 || s[len - 1] != ']') {
        return RP__ADDR_SYNTAX;
    }
    blen = len - 2;
    if (has_ipv6_tag(body, blen)) {
        body += 5;
        blen -= 5;
        /* Every IPv6 text form holds a colon; a bare dotted quad does not. */
        if (memchr(body, ':', blen) == NULL) {
            return RP__ADDR_SYNTAX;
        }
    } else if (memchr(body, ':', blen) != NULL) {
        return RP__ADDR_SYNTAX;
    }
    if (rp__ip_parse(body, blen, &out->literal) != 0) {
        return RP__ADDR_SYNTAX;
    }
    if (out->literal.family == 6) {
        memcpy(out->domain, "IPv6:", 5);
        n = 5;
    }
    n += rp__ip_format(&out->literal, out->domain + n, sizeof(out->domain) - n);
    out->domain_len = n;
    out->dom_type = out->literal.family == 4 ? RP__DOM_IPV4 : RP__DOM_IPV6;
    return RP__ADDR_OK;
}

/* A domain name or an address literal, judged by its first byte. */
static rp__addr_err
parse_domain(const char *s, size_t len, rp__addr *out)
{
    if (len > 0 && s[0] == '[') {
        return len > RP__DOMAIN_MAX ? RP__ADDR_TOO_LONG
                                    : parse_literal(s, len, out);
    }
    return parse_name(s, len, out);
}

/*
 * Skip a source route "@a,@b:" at the start of @p s, checking each of its
 * domains.  On success *pos is the offset just after the colon.  The
 * domains are parsed into @p out, whose domain the mailbox overwrites.
 */
static rp__addr_err
skip_route(const char *s, size_t len, size_t *pos, rp__addr *out)
{
    size_t i = 0;

    while (i < len && s[i] == '@') {
        size_t start = ++i;
        rp__addr_err err;

        if (i < len && s[i] == '[') {
            const char *close = memchr(s + i, ']', len - i);

            i = close != NULL ? (size_t)(close - s) + 1 : len;
        } else {
            while (i < len && s[i] != ',' && s[i] != ':') {
                i++;
            }
        }
        err = parse_domain(s + start, i - start, out);
        if (err != RP__ADDR_OK) {
            return err;
        }
        if (i < len && s[i] == ':') {
            *pos = i + 1;
            return RP__ADDR_OK;
        }
        if (i >= len || s[i] != ',') {
            return RP__ADDR_SYNTAX;
        }
        i++;
    }
    return RP__ADDR_SYNTAX;
}

/* A dot-string local part up to the first '@' or the end. */
static rp__addr_err
parse_dot_string(const char *s, size_t len, size_t *pos, rp__addr *out)
{
    size_t i = 0;

    while (i < len && s[i] != '@') {
        if (i == RP__LOCAL_MAX) {
            return RP__ADDR_TOO_LONG;
        }
        if (s[i] == '.') {
            if (i == 0 || s[i - 1] == '.') {
                return RP__ADDR_SYNTAX;
            }
        } else if (!(class_of(s[i]) & CLASS_ATEXT)) {
            return RP__ADDR_SYNTAX;
        }
        out->local[i] = s[i];
        i++;
    }
    if (i == 0 || s[i - 1] == '.') {
        return RP__ADDR_SYNTAX;
    }
    out->local[i] = '\0';
    out->local_len = i;
    *pos = i;
    return RP__ADDR_OK;
}

/*
 * A quoted-string local part starting at s[0] == '"'.  The content, with
 * quotes and escapes removed, goes to out->local; the 64-octet limit
 * applies to the quoted form as written.
 */
static rp__addr_err
parse_quoted(const char *s, size_t len, size_t *pos, rp__addr *out)
{
    size_t i = 1, n = 0;

    while (i < len && s[i] != '"') {
        if (i + 1 >= RP__LOCAL_MAX) {
            return RP__ADDR_TOO_LONG; /* No room left for the close quote. */
        }
        if (s[i] == '\\') {
            /* Control bytes are already excluded: any byte may follow. */
            if (++i >= len) {
                return RP__ADDR_SYNTAX;
            }
            if (i + 1 >= RP__LOCAL_MAX) {
                return RP__ADDR_TOO_LONG;
            }
        } else if (!(class_of(s[i]) & CLASS_QTEXT)) {
            return RP__ADDR_SYNTAX;
        }
        out->local[n++] = s[i++];
    }
    if (i >= len) {
        return RP__ADDR_SYNTAX; /* Unterminated. */
    }
    out->local[n] = '\0';
    out->local_len = n;
    out->was_quoted = true;
    *pos = i + 1;
    return RP__ADDR_OK;
}

/* A mailbox: local part, then "@" and a domain, or nothing (unqualified). */
static rp__addr_err
parse_mailbox(const char *s, size_t len, rp__addr *out)
{
    size_t i = 0;
    rp__addr_err err;

    if (len > 0 && s[0] == '"') {
        err = parse_quoted(s, len, &i, out);
    } else {
        err = parse_dot_string(s, len, &i, out);
    }
    if (err != RP__ADDR_OK) {
        return err;
    }
    if (i == len) {
        out->domain[0] = '\0';
        out->domain_len = 0;
        out->dom_type = RP__DOM_NONE;
        return RP__ADDR_OK;
    }
    if (s[i] != '@' || i + 1 == len) {
        return RP__ADDR_SYNTAX; /* Junk after a quote, or "u@". */
    }
    return parse_domain(s + i + 1, len - i - 1, out);
}

static void
addr_clear(rp__addr *out)
{
    out->is_null = false;
    out->had_route = false;
    out->was_quoted = false;
    out->utf8 = false;
    out->local[0] = '\0';
    out->local_len = 0;
    out->domain[0] = '\0';
    out->domain_len = 0;
    out->dom_type = RP__DOM_NONE;
    memset(&out->literal, 0, sizeof(out->literal));
}

/*
 * The fast path: one pass over each part of the common form, a dot-string
 * local part and a domain name, with one table look-up per byte.  Every
 * byte it accepts is printable ASCII, so it can only succeed where the
 * full parser would; on anything else (a control or non-ASCII byte, a
 * limit, a quoted local part, a source route, an address literal or a
 * syntax error) it gives up and the full parser, which reports errors in
 * their order of precedence, starts over.
 */

#define F_ATEXT 1 /* atext other than the dot */

#define FA F_ATEXT

/* Bytes 0x80 and above are all zero. */
static const uint8_t fast_class[256] = {
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  /* 00 */
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  /* 10 */
    0,  FA, 0,  FA, FA, FA, FA, FA, 0,  0,  FA, FA, 0,  FA, 0,  FA, /* 20 */
    FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, 0,  0,  0,  FA, 0,  FA, /* 30 */
    0,  FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, /* 40 */
    FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, 0,  0,  0,  FA, FA, /* 50 */
    FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, /* 60 */
    FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, FA, 0,  /* 70 */
};

#undef FA

/* A letter or digit of a domain name, lowercased; 0 for any other byte
 * (the dot and the hyphen are looked at apart). */
static const uint8_t name_lower[256] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
    ['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
    ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e',
    ['f'] = 'f', ['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j',
    ['k'] = 'k', ['l'] = 'l', ['m'] = 'm', ['n'] = 'n', ['o'] = 'o',
    ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't',
    ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y',
    ['z'] = 'z', ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd',
    ['E'] = 'e', ['F'] = 'f', ['G'] = 'g', ['H'] = 'h', ['I'] = 'i',
    ['J'] = 'j', ['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n',
    ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r', ['S'] = 's',
    ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x',
    ['Y'] = 'y', ['Z'] = 'z',
};

/* A dot-string local part up to '@' or the end, copied to out->local;
 * *pos is where it ends.  False when the full parser must decide. */
static bool
fast_local(const unsigned char *s, size_t len, size_t *pos, rp__addr *out)
{
    size_t n = len < RP__LOCAL_MAX ? len : RP__LOCAL_MAX, i;

    for (i = 0; i < n; i++) {
        unsigned char c = s[i];

        if ((fast_class[c] & F_ATEXT) == 0) {
            if (c == '@')
                break;
            if (c != '.' || i == 0 || s[i - 1] == '.')
                return false;
        }
        out->local[i] = (char)c;
    }
    if (i == 0 || s[i - 1] == '.' || (i < len && s[i] != '@'))
        return false;
    out->local[i] = '\0';
    out->local_len = i;
    *pos = i;
    return true;
}

/* A domain name (one trailing dot allowed), lowercased into out->domain.
 * False when the full parser must decide. */
static bool
fast_name(const unsigned char *s, size_t len, rp__addr *out)
{
    size_t start = 0; /* of the current label */

    if (len > 0 && s[len - 1] == '.')
        len--;
    if (len == 0 || len > RP__DOMAIN_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i], l = name_lower[c];

        if (l == 0) {
            if (c == '.') {
                if (i == start || i - start > LABEL_MAX || s[i - 1] == '-')
                    return false;
                start = i + 1;
            } else if (c != '-' || i == start ||
                       (i == start + 3 && s[i - 1] == '-')) {
                /* "??--" labels (A-labels among them) take the slow path,
                 * which checks them; looked at on hyphens only. */
                return false;
            }
            l = c;
        }
        out->domain[i] = (char)l;
    }
    if (len == start || len - start > LABEL_MAX || s[len - 1] == '-')
        return false;
    out->domain[len] = '\0';
    out->domain_len = len;
    return true;
}

/* The whole path in its common form; false when the full parser must run.
 * @p len has passed the path limit. */
static bool
fast_parse(const unsigned char *s, size_t len, rp__addr *out)
{
    size_t at;

    if (len == 0 || s[0] == '@' || s[0] == '"' || !fast_local(s, len, &at, out))
        return false;
    out->is_null = false;
    out->had_route = false;
    out->was_quoted = false;
    out->utf8 = false;
    memset(&out->literal, 0, sizeof(out->literal));
    if (at == len) {
        out->domain[0] = '\0';
        out->domain_len = 0;
        out->dom_type = RP__DOM_NONE;
        return true;
    }
    /* An address literal starts with '[', which fast_name() refuses. */
    if (!fast_name(s + at + 1, len - at - 1, out))
        return false;
    out->dom_type = RP__DOM_NAME;
    return true;
}

/*
 * Parse a reverse- or forward-path (RFC 5321 section 4.1.2), with or
 * without angle brackets; surrounding whitespace is a syntax error.  A
 * source route is checked and dropped (out->had_route).  "<>" and "" are
 * the null sender when @p allow_null, else syntax errors.  An address
 * without '@' parses with dom_type RP__DOM_NONE; the caller decides whether
 * it may stand.  Non-ASCII and control bytes are reported before anything
 * else, then the 256-octet path limit (counted with angle brackets whether
 * or not they were sent), then syntax and the other limits.  Never reads
 * past @p len and never allocates.  On error *out is cleared or partial.
 */
rp__addr_err
rp__addr_parse(const char *s, size_t len, bool allow_null, rp__addr *out)
{
    size_t start = 0;
    rp__addr_err err;
    bool utf8;

    if (s != NULL) {
        const unsigned char *u = (const unsigned char *)s;
        size_t n = len;

        if (n >= 2 && u[0] == '<' && u[n - 1] == '>') {
            u++;
            n -= 2;
        }
        if (n + 2 <= RP__PATH_MAX && fast_parse(u, n, out))
            return RP__ADDR_OK;
    }
    addr_clear(out);
    if (s == NULL && len != 0) {
        return RP__ADDR_SYNTAX;
    }
    err = scan_bytes(s, len, &utf8);
    if (err != RP__ADDR_OK) {
        return err;
    }
    out->utf8 = utf8;
    if (len > 0 && s[0] == '<') {
        if (len < 2 || s[len - 1] != '>') {
            return RP__ADDR_SYNTAX;
        }
        s++;
        len -= 2;
    }
    /* The limit counts the angle brackets, sent or not. */
    if (len + 2 > RP__PATH_MAX) {
        return RP__ADDR_TOO_LONG;
    }
    if (len == 0) {
        out->is_null = allow_null;
        return allow_null ? RP__ADDR_OK : RP__ADDR_SYNTAX;
    }
    if (s[0] == '@') {
        err = skip_route(s, len, &start, out);
        if (err != RP__ADDR_OK) {
            return err;
        }
        out->had_route = true;
        memset(&out->literal, 0, sizeof(out->literal));
    }
    err = parse_mailbox(s + start, len - start, out);
    if (err == RP__ADDR_OK && out->had_route && out->dom_type == RP__DOM_NONE) {
        err = RP__ADDR_SYNTAX; /* A source route leads to a full mailbox. */
    }
    if (err == RP__ADDR_OK && utf8 && !canonical_fits(out)) {
        err = RP__ADDR_TOO_LONG;
    }
    return err;
}

/* Does the canonical text of @p a, its domain in A-label form, still fit
 * the path limit?  A U-label domain can grow as an A-label; everything
 * that compares addresses relies on the limit. */
static bool
canonical_fits(const rp__addr *a)
{
    char buf[RP__PATH_MAX + 8];

    return rp__addr_format(a, false, buf, sizeof(buf)) + 2 <= RP__PATH_MAX;
}

/* A bounded text writer: keeps the NUL terminator in reach. */
typedef struct writer {
    char *buf;
    size_t size;
    size_t n;
} writer;

static void
put_char(writer *w, char c)
{
    if (w->n + 1 < w->size) {
        w->buf[w->n++] = c;
    }
}

static void
put_text(writer *w, const char *s, size_t len, bool lower)
{
    for (size_t i = 0; i < len; i++) {
        put_char(w, lower ? (char)rp__ascii_lower((unsigned char)s[i]) : s[i]);
    }
}

/* put_local() and put_domain() are inlined into both rp__addr_format()
 * and format_folded(): the ASCII path keeps its pre-SMTPUTF8 shape. */
#define RP__INLINE static inline __attribute__((always_inline))

RP__INLINE void
put_local(writer *w, const char *s, size_t len, bool lower)
{
    if (is_dot_atom(s, len)) {
        put_text(w, s, len, lower);
        return;
    }
    put_char(w, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            put_char(w, '\\');
        }
        put_char(w, lower ? (char)rp__ascii_lower((unsigned char)s[i]) : s[i]);
    }
    put_char(w, '"');
}

/* "@" and the domain, an address literal in brackets, when there is one. */
RP__INLINE void
put_domain(writer *w, const rp__addr *a)
{
    if (a->dom_type != RP__DOM_NONE) {
        bool literal = a->dom_type != RP__DOM_NAME;

        put_char(w, '@');
        if (literal) {
            put_char(w, '[');
        }
        put_text(w, a->domain, a->domain_len, false);
        if (literal) {
            put_char(w, ']');
        }
    }
}

/* rp__addr_format() of an address whose local part holds UTF-8, which is
 * compared after case folding and NFC (relaypolicy(7) §2).  Out of line
 * and reached by a tail call, so that the ASCII path stays a leaf. */
static size_t __attribute__((noinline))
format_folded(const rp__addr *a, char *buf, size_t size)
{
    char fold[4 * RP__LOCAL_MAX + 1];
    size_t n = rp__utf8_fold(a->local, a->local_len, fold, sizeof(fold));
    writer w = {buf, size, 0};

    put_local(&w, n > 0 ? fold : a->local, n > 0 ? n : a->local_len, true);
    put_domain(&w, a);
    buf[w.n] = '\0';
    return w.n;
}

/* Does @p a, whose path held non-ASCII, have it in the local part? */
static bool
local_utf8(const rp__addr *a)
{
    for (size_t i = 0; i < a->local_len; i++) {
        if ((unsigned char)a->local[i] >= 0x80) {
            return true;
        }
    }
    return false;
}

/* rp__addr_format() of an address whose local part is a dot-atom (not
 * quoted) and whose text fits @p size whole: copied in one piece each.
 * 0 when it does not fit (the caller cuts it). */
static size_t
format_plain(const rp__addr *a, bool lower_local, char *buf, size_t size)
{
    bool literal = a->dom_type != RP__DOM_NAME;
    size_t n = a->local_len;
    size_t need = n + (a->dom_type == RP__DOM_NONE ? 0
                       : literal                   ? a->domain_len + 3
                                                   : a->domain_len + 1);

    if (need >= size) {
        return 0;
    }
    if (lower_local) {
        rp__lower(buf, a->local, n);
    } else {
        memcpy(buf, a->local, n);
    }
    if (a->dom_type != RP__DOM_NONE) {
        buf[n++] = '@';
        if (literal) {
            buf[n++] = '[';
        }
        memcpy(buf + n, a->domain, a->domain_len);
        n += a->domain_len;
        if (literal) {
            buf[n++] = ']';
        }
    }
    buf[n] = '\0';
    return n;
}

/*
 * Write the canonical text of @p a: no angle brackets or source route, the
 * local part bare when its content is a dot-atom and otherwise quoted with
 * '"' and '\' escaped, then "@" and the lowercased domain (an address
 * literal in brackets).  An unqualified address is its local part alone;
 * the null sender is the empty string.  @p lower_local lowercases the
 * local part (ASCII) or case-folds it (UTF-8).  The text is cut to fit
 * @p size and NUL-terminated when @p size > 0; RP__PATH_MAX + 1 bytes
 * always suffice.  Returns the length written, not counting the NUL.
 */
size_t
rp__addr_format(const rp__addr *a, bool lower_local, char *buf, size_t size)
{
    writer w = {buf, size, 0};

    if (buf == NULL || size == 0) {
        return 0;
    }
    if (a != NULL && !a->is_null) {
        /* a->utf8 also marks the pieces split from a UTF-8 path. */
        if (lower_local && a->utf8 && local_utf8(a)) {
            return format_folded(a, buf, size);
        }
        if (!a->was_quoted && a->local_len > 0) {
            size_t n = format_plain(a, lower_local, buf, size);
            if (n > 0) {
                return n;
            }
        }
        put_local(&w, a->local, a->local_len, lower_local);
        put_domain(&w, a);
    }
    buf[w.n] = '\0';
    return w.n;
}

/*
 * Find where a local part routes (relaypolicy(7) §5 step 6): the rightmost
 * '@', else the leftmost '!', else the rightmost '%'.  Returns false when
 * it holds none of them; *at is the separator and *bang whether the domain
 * is on its left.
 */
static bool
find_route(const char *s, size_t len, size_t *at, bool *bang)
{
    size_t last_at = SIZE_MAX, first_bang = SIZE_MAX, last_pct = SIZE_MAX;

    /* One pass: most local parts hold none of the three. */
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (c == '@') {
            last_at = i;
        } else if (c == '!') {
            first_bang = first_bang == SIZE_MAX ? i : first_bang;
        } else if (c == '%') {
            last_pct = i;
        }
    }
    *bang = last_at == SIZE_MAX && first_bang != SIZE_MAX;
    *at = last_at != SIZE_MAX ? last_at : *bang ? first_bang : last_pct;
    return *at != SIZE_MAX;
}

/*
 * One routing split of relaypolicy(7) §5 step 6, looking only at in->local
 * (the decoded content): "u@R" (a quoted '@', split at the rightmost),
 * "R!u" (split at the leftmost '!') and "u%R" (split at the rightmost '%')
 * all become the mailbox u@R.  R must be a domain name or an address
 * literal.  The new local part may itself hold routing characters; it is
 * marked quoted when its content is not a dot-atom.  @p in and @p out may
 * be the same object.  *out is written only on RP__ROUTE_SPLIT; an empty
 * mailbox, an empty domain or an invalid domain give RP__ROUTE_ERROR.
 */
rp__route
rp__addr_route_split(const rp__addr *in, rp__addr *out)
{
    size_t at, mlen, dlen;
    const char *mbox, *dom;
    bool bang;
    rp__addr t;

    if (!find_route(in->local, in->local_len, &at, &bang)) {
        return RP__ROUTE_NONE;
    }
    mbox = bang ? in->local + at + 1 : in->local;
    mlen = bang ? in->local_len - at - 1 : at;
    dom = bang ? in->local : in->local + at + 1;
    dlen = bang ? at : in->local_len - at - 1;
    addr_clear(&t);
    if (mlen == 0 || dlen == 0 || parse_domain(dom, dlen, &t) != RP__ADDR_OK) {
        return RP__ROUTE_ERROR;
    }
    /* The mailbox is a piece of a local part, so it always fits. */
    memcpy(t.local, mbox, mlen);
    t.local[mlen] = '\0';
    t.local_len = mlen;
    t.was_quoted = !is_dot_atom(mbox, mlen);
    t.had_route = in->had_route;
    t.utf8 = in->utf8; /* the mailbox is a piece of that local part */
    if (!canonical_fits(&t)) {
        return RP__ROUTE_ERROR; /* a U-label grew past the path limit */
    }
    *out = t;
    return RP__ROUTE_SPLIT;
}
