/*
 * ipaddr.c - strict IP address and CIDR text parsing.
 *
 * Addresses are held as 16-byte keys in network order: IPv6 as is, IPv4 as
 * the IPv4-mapped address ::ffff:a.b.c.d.  The accepted text is exactly what
 * glibc's inet_pton() accepts for AF_INET or AF_INET6: a dotted quad of four
 * decimal parts without leading zeros, or an RFC 4291 IPv6 text form (with
 * an optional dotted-quad tail).  Short forms, integers, hexadecimal IPv4,
 * whitespace, brackets and zone identifiers are all rejected.
 *
 * Nothing in this file allocates.
 */
#include <stdbool.h>
#include <string.h>

#include "ipaddr.h"
#include "relaypolicy.h"

/* The longest valid address text: six IPv6 groups and a dotted quad. */
#define IP_TEXT_MAX 45
/* The longest valid network text: an address, "/" and three digits. */
#define CIDR_TEXT_MAX (IP_TEXT_MAX + 4)

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0,    0,
                                             0, 0, 0, 0, 0xff, 0xff};

/* The value of hexadecimal digit @p c, or -1. */
static int
hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/*
 * Parse a dotted quad filling all of @p len into @p out.  Each part is one
 * to three decimal digits, at most 255, with no leading zero.
 */
static int
parse_v4(const char *s, size_t len, uint8_t out[4])
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    for (int part = 0; part < 4; part++) {
        unsigned value, d;

        if (part > 0) {
            if (p == end || *p != '.') {
                return -1;
            }
            p++;
        }
        if (p == end || (value = (unsigned)*p - '0') > 9) {
            return -1;
        }
        p++;
        if (p != end && (d = (unsigned)*p - '0') <= 9) {
            if (value == 0) {
                return -1; /* A leading zero. */
            }
            value = value * 10 + d;
            p++;
            if (p != end && (d = (unsigned)*p - '0') <= 9) {
                value = value * 10 + d;
                p++;
                /* Above 255, or a fourth digit. */
                if (value > 255 || (p != end && (unsigned)*p - '0' <= 9)) {
                    return -1;
                }
            }
        }
        out[part] = (uint8_t)value;
    }
    return p == end ? 0 : -1;
}

/*
 * Read one group of one to four hexadecimal digits at s[*i].  Returns the
 * number of digits read (0 when none; 5 means too many) and the value.
 */
static int
read_group(const char *s, size_t len, size_t *i, unsigned *value)
{
    int digits = 0;

    *value = 0;
    while (*i < len && digits < 5) {
        int v = hex_value((unsigned char)s[*i]);

        if (v < 0) {
            break;
        }
        *value = (*value << 4) | (unsigned)v;
        digits++;
        (*i)++;
    }
    return digits;
}

/*
 * Move the groups written after a "::" (from @p gap to @p n) to the end of
 * the address and zero the bytes they leave behind.
 */
static void
expand_gap(uint8_t b[16], size_t gap, size_t n)
{
    size_t tail = n - gap;

    memmove(b + 16 - tail, b + gap, tail);
    memset(b + gap, 0, 16 - n);
}

/*
 * Parse an RFC 4291 text form filling all of @p len.  At most one "::",
 * which must stand for at least one group; a dotted-quad tail may take the
 * place of the last two groups.
 */
static int
parse_v6(const char *s, size_t len, uint8_t b[16])
{
    size_t i = 0, n = 0, gap = SIZE_MAX;

    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    }
    while (i < len) {
        size_t start = i;
        unsigned value;
        int digits = read_group(s, len, &i, &value);

        if (i < len && s[i] == '.') {
            /* The dotted-quad tail runs to the end of the text. */
            if (n + 4 > 16 || parse_v4(s + start, len - start, b + n) != 0) {
                return -1;
            }
            n += 4;
            break;
        }
        if (digits == 0 || digits > 4 || n + 2 > 16) {
            return -1;
        }
        b[n++] = (uint8_t)(value >> 8);
        b[n++] = (uint8_t)value;
        if (i == len) {
            break;
        }
        if (s[i] != ':' || ++i == len) {
            return -1; /* Not a separator, or a trailing single colon. */
        }
        if (s[i] == ':') {
            if (gap != SIZE_MAX) {
                return -1; /* A second "::". */
            }
            gap = n;
            i++;
        }
    }
    if (gap == SIZE_MAX) {
        return n == 16 ? 0 : -1;
    }
    if (n == 16) {
        return -1; /* "::" standing for no group at all. */
    }
    expand_gap(b, gap, n);
    return 0;
}

/*
 * Parse an IPv4 or IPv6 address in strict inet_pton() form.  IPv4 is stored
 * as ::ffff:a.b.c.d with family 4; an IPv6 text naming an IPv4-mapped
 * address, in any spelling, is normalised to family 4 as well.  Reads at
 * most @p len bytes; @p s need not be NUL-terminated.  Returns 0, or -1 on
 * malformed input (then *out is unspecified).
 */
int
rp__ip_parse(const char *s, size_t len, rp__ip *out)
{
    if (s == NULL || out == NULL || len == 0 || len > IP_TEXT_MAX) {
        return -1;
    }
    memset(out->b, 0, sizeof(out->b));
    /* A dotted quad holds only digits and dots, so one that parses has no
     * colon: the IPv4 parser may go first. */
    if (parse_v4(s, len, out->b + 12) == 0) {
        out->b[10] = 0xff;
        out->b[11] = 0xff;
        out->family = 4;
        return 0;
    }
    if (memchr(s, ':', len) == NULL) {
        return -1;
    }
    memset(out->b + 12, 0, 4);
    if (parse_v6(s, len, out->b) != 0) {
        return -1;
    }
    out->family =
        memcmp(out->b, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0 ? 4 : 6;
    return 0;
}

/* Append @p value in lowercase hexadecimal without leading zeros. */
static size_t
put_hex(char *p, unsigned value)
{
    static const char digits[] = "0123456789abcdef";
    size_t n = 0;

    for (int shift = 12; shift >= 0; shift -= 4) {
        unsigned d = (value >> shift) & 0xf;

        if (d != 0 || n > 0 || shift == 0) {
            p[n++] = digits[d];
        }
    }
    return n;
}

/* Append @p value (0..255) in decimal. */
static size_t
put_dec(char *p, unsigned value)
{
    size_t n = 0;

    if (value >= 100) {
        p[n++] = (char)('0' + value / 100);
    }
    if (value >= 10) {
        p[n++] = (char)('0' + value / 10 % 10);
    }
    p[n++] = (char)('0' + value % 10);
    return n;
}

static size_t
format_v4(const uint8_t b[4], char *p)
{
    size_t n = 0;

    for (int i = 0; i < 4; i++) {
        if (i > 0) {
            p[n++] = '.';
        }
        n += put_dec(p + n, b[i]);
    }
    return n;
}

/*
 * Find the longest run of at least two zero groups, the leftmost on a tie
 * (RFC 5952 section 4.2).  Sets *start to 8 when there is none.
 */
static void
longest_zero_run(const unsigned g[8], int *start, int *count)
{
    int best = 8, best_len = 1;

    for (int i = 0; i < 8;) {
        int j = i;

        while (j < 8 && g[j] == 0) {
            j++;
        }
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    *start = best;
    *count = best == 8 ? 0 : best_len;
}

static size_t
format_v6(const uint8_t b[16], char *p)
{
    unsigned g[8];
    int run, run_len;
    size_t n = 0;

    for (int i = 0; i < 8; i++) {
        g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
    }
    longest_zero_run(g, &run, &run_len);
    for (int i = 0; i < 8; i++) {
        if (i == run) {
            p[n++] = ':';
            p[n++] = ':';
            i += run_len - 1;
            continue;
        }
        if (i > 0 && i != run + run_len) {
            p[n++] = ':';
        }
        n += put_hex(p + n, g[i]);
    }
    return n;
}

/*
 * Format @p ip as a dotted quad (family 4) or in the RFC 5952 canonical
 * IPv6 form (lowercase, the longest run of two or more zero groups
 * compressed, the leftmost on a tie).  The text is cut to fit @p size and
 * always NUL-terminated when @p size > 0.  Returns the length written, not
 * counting the NUL; 46 bytes always suffice.
 */
size_t
rp__ip_format(const rp__ip *ip, char *buf, size_t size)
{
    char text[IP_TEXT_MAX + 1];
    size_t n;

    if (buf == NULL || size == 0) {
        return 0;
    }
    if (ip == NULL) {
        buf[0] = '\0';
        return 0;
    }
    n = ip->family == 4 ? format_v4(ip->b + 12, text) : format_v6(ip->b, text);
    if (n >= size) {
        n = size - 1;
    }
    memcpy(buf, text, n);
    buf[n] = '\0';
    return n;
}

/*
 * Parse a prefix length: decimal, no sign, no leading zero, at most @p max.
 * Returns the value, or -1 with the reason in *why.
 */
static int
parse_plen(const char *s, size_t len, unsigned max, const char **why)
{
    unsigned value = 0;

    if (len == 0) {
        *why = "missing prefix length after '/'";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            *why = "prefix length is not a decimal number";
            return -1;
        }
    }
    if (len > 1 && s[0] == '0') {
        *why = "leading zero in prefix length";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        value = value * 10 + (unsigned)(s[i] - '0');
        if (value > max) {
            *why = max == 32 ? "prefix length above 32 for an IPv4 network"
                             : "prefix length above 128 for an IPv6 network";
            return -1;
        }
    }
    return (int)value;
}

/* True when any bit of @p b beyond the first @p plen is set. */
static bool
host_bits_set(const uint8_t b[16], unsigned plen)
{
    unsigned i = plen / 8;

    if (plen % 8 != 0 && (b[i++] & (0xffu >> (plen % 8))) != 0) {
        return true;
    }
    for (; i < 16; i++) {
        if (b[i] != 0) {
            return true;
        }
    }
    return false;
}

/*
 * Parse "a.b.c.d/n" (n 0..32), "ipv6/n" (n 0..128) or a bare address (a
 * host prefix).  The address is read strictly with rp__ip_parse() and the
 * length as decimal digits, in place: no copy, no allocation (compiling a
 * million-entry list calls this a million times).
 * *plen is in IPv6 terms: an IPv4 /n is 96 + n, and "::ffff:10.0.0.0/104"
 * is the IPv4 network 10.0.0.0/8.  A network with host bits set is an
 * error.  Returns 0, or -1 with a static message in *why.
 */
int
rp__cidr_parse(
    const char *s, size_t len, rp__ip *out, unsigned *plen, const char **why)
{
    const char *slash;
    const char *unused;
    size_t alen;
    bool v4_text;
    int n;

    if (why == NULL) {
        why = &unused;
    }
    if (s == NULL || out == NULL || plen == NULL || len == 0) {
        *why = "empty network";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) {
            *why = "whitespace, control or non-ASCII byte in network";
            return -1;
        }
    }
    if (len > CIDR_TEXT_MAX) {
        *why = "network text too long";
        return -1;
    }
    slash = memchr(s, '/', len);
    alen = slash != NULL ? (size_t)(slash - s) : len;
    if (rp__ip_parse(s, alen, out) != 0) {
        *why = "invalid IP address in network";
        return -1;
    }
    v4_text = memchr(s, ':', alen) == NULL;
    n = v4_text ? 32 : 128;
    if (slash != NULL) {
        n = parse_plen(slash + 1, len - alen - 1, v4_text ? 32 : 128, why);
        if (n < 0) {
            return -1;
        }
    }
    *plen = v4_text ? 96 + (unsigned)n : (unsigned)n;
    if (host_bits_set(out->b, *plen)) {
        *why = "host bits set in network address";
        return -1;
    }
    return 0;
}
