/*
 * idn.c - internationalised domain names without allocation.
 *
 * A U-label domain becomes its A-label form in four steps, each in a
 * caller buffer: the UTS #46 mapping (full case folding and NFKC through
 * libunistring, with the deviation characters sharp s, final sigma, ZWJ
 * and ZWNJ kept as non-transitional processing keeps them, default
 * ignorable code points dropped, the ideographic full stops read as
 * dots), the IDNA2008 checks of each label (RFC 5891 section 5.4: hyphens,
 * leading combining marks, the code point properties of RFC 5892, the
 * CONTEXTJ rules of its appendix A, the Bidi rule of RFC 5893), then
 * Punycode (RFC 3492).  libunistring only allocates when a caller buffer is
 * too small or a run of combining marks is very long; both are bounded
 * here before it is called.
 */
#include <idn2.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "address.h"
#include "idn.h"
#include "relaypolicy.h"
#include "text.h"

#define LABEL_MAX 63
/* Mapped text is refused beyond this (its A-label could never fit). */
#define MAP_MAX 1024
/* Input is mapped in pieces of at most this many bytes, so that the
 * libunistring work buffers (2 KiB) never overflow: NFKD grows a code
 * point at most 18-fold, about 12-fold in bytes. */
#define CHUNK_MAX 64
/* Work buffer: MAP_MAX plus one worst-case mapped chunk. */
#define MAP_BUF 4096
/* A run of combining marks longer than this (weighted) is refused: the
 * NFC sort buffer of libunistring holds 64 before it allocates. */
#define MARK_RUN_MAX 60
#define CP_MAX 256 /* code points of one label */

/* ---- UTF-8 -------------------------------------------------------------- */

bool
rp__utf8_valid(const char *s, size_t len)
{
    return u8_check((const uint8_t *)s, len) == NULL;
}

/* Decode @p len bytes of valid UTF-8 into at most @p max code points;
 * returns their number, or SIZE_MAX when there are more. */
static size_t
decode(const uint8_t *s, size_t len, ucs4_t *cp, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < len;) {
        if (n == max)
            return SIZE_MAX;
        i += (size_t)u8_mbtouc(&cp[n++], s + i, len - i);
    }
    return n;
}

/* ---- Punycode (RFC 3492) ------------------------------------------------ */

enum { P_BASE = 36, P_TMIN = 1, P_TMAX = 26, P_SKEW = 38, P_DAMP = 700 };

static uint32_t
adapt(uint32_t delta, uint32_t points, bool first)
{
    uint32_t k = 0;

    delta = first ? delta / P_DAMP : delta / 2;
    delta += delta / points;
    while (delta > ((P_BASE - P_TMIN) * P_TMAX) / 2) {
        delta /= P_BASE - P_TMIN;
        k += P_BASE;
    }
    return k + (P_BASE - P_TMIN + 1) * delta / (delta + P_SKEW);
}

static char
digit_char(uint32_t d)
{
    return (char)(d < 26 ? 'a' + d : '0' + d - 26);
}

static uint32_t
char_digit(char c)
{
    if (c >= '0' && c <= '9')
        return (uint32_t)(c - '0' + 26);
    if (c >= 'a' && c <= 'z')
        return (uint32_t)(c - 'a');
    if (c >= 'A' && c <= 'Z')
        return (uint32_t)(c - 'A');
    return P_BASE;
}

/* Encode @p n code points; returns the length written, 0 on overflow. */
static size_t
puny_encode(const ucs4_t *cp, size_t n, char *out, size_t size)
{
    uint32_t code = 0x80, delta = 0, bias = 72, h, b = 0;
    size_t o = 0;

    for (size_t i = 0; i < n; i++)
        if (cp[i] < 0x80) {
            if (o + 1 >= size)
                return 0;
            out[o++] = (char)cp[i];
        }
    h = b = (uint32_t)o;
    if (b > 0) {
        if (o + 1 >= size)
            return 0;
        out[o++] = '-';
    }
    while (h < n) {
        uint32_t m = UINT32_MAX;
        for (size_t i = 0; i < n; i++)
            if (cp[i] >= code && cp[i] < m)
                m = cp[i];
        if ((uint64_t)(m - code) * (h + 1) > UINT32_MAX - delta)
            return 0;
        delta += (m - code) * (h + 1);
        code = m;
        for (size_t i = 0; i < n; i++) {
            if (cp[i] < code && ++delta == 0)
                return 0;
            if (cp[i] != code)
                continue;
            uint32_t q = delta;
            for (uint32_t k = P_BASE;; k += P_BASE) {
                uint32_t t = k <= bias            ? P_TMIN
                             : k >= bias + P_TMAX ? P_TMAX
                                                  : k - bias;
                if (q < t)
                    break;
                if (o + 1 >= size)
                    return 0;
                out[o++] = digit_char(t + (q - t) % (P_BASE - t));
                q = (q - t) / (P_BASE - t);
            }
            if (o + 1 >= size)
                return 0;
            out[o++] = digit_char(q);
            bias = adapt(delta, h + 1, h == b);
            delta = 0;
            h++;
        }
        delta++;
        code++;
    }
    return o;
}

/* Decode the Punycode of @p in; returns the number of code points, or
 * SIZE_MAX for bad input or more than @p max of them. */
static size_t
puny_decode(const char *in, size_t len, ucs4_t *cp, size_t max)
{
    uint32_t code = 0x80, i = 0, bias = 72;
    size_t n = 0, b = 0, j;

    for (j = 0; j < len; j++)
        if (in[j] == '-')
            b = j;
    if (b > max)
        return SIZE_MAX;
    for (j = 0; j < b; j++) {
        if ((unsigned char)in[j] >= 0x80)
            return SIZE_MAX;
        cp[n++] = (ucs4_t)in[j];
    }
    for (j = b > 0 ? b + 1 : 0; j < len;) {
        uint32_t old = i, w = 1;
        for (uint32_t k = P_BASE;; k += P_BASE) {
            uint32_t d, t;
            if (j >= len || (d = char_digit(in[j++])) >= P_BASE)
                return SIZE_MAX;
            if (d > (UINT32_MAX - i) / w)
                return SIZE_MAX;
            i += d * w;
            t = k <= bias ? P_TMIN : k >= bias + P_TMAX ? P_TMAX : k - bias;
            if (d < t)
                break;
            if (w > UINT32_MAX / (P_BASE - t))
                return SIZE_MAX;
            w *= P_BASE - t;
        }
        bias = adapt(i - old, (uint32_t)n + 1, old == 0);
        if (i / (n + 1) > 0x10FFFF - code || n == max)
            return SIZE_MAX;
        code += i / (uint32_t)(n + 1);
        i %= (uint32_t)(n + 1);
        memmove(cp + i + 1, cp + i, (n - i) * sizeof(*cp));
        cp[i++] = code;
        n++;
    }
    return n;
}

/* ---- the UTS #46 mapping ------------------------------------------------ */

static bool
is_dot(ucs4_t c)
{
    return c == '.' || c == 0x3002 || c == 0xFF0E || c == 0xFF61;
}

/* Dropped by the UTS #46 mapping ("ignored"); other default ignorable
 * code points stay, and are then disallowed. */
static bool
is_ignored(ucs4_t c)
{
    return c == 0xAD || c == 0x34F || (c >= 0x180B && c <= 0x180D) ||
           c == 0x180F || c == 0x200B || c == 0x2060 || c == 0x2064 ||
           (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF ||
           (c >= 0x1BCA0 && c <= 0x1BCA3) || (c >= 0xE0100 && c <= 0xE01EF);
}

/* Capitals UTS #46 disallows although their lowercase is valid (it
 * keeps the IDNA2003 status of characters it could not map then). */
static bool
disallowed_capital(ucs4_t c)
{
    return c == 0x2132 || c == 0x2183 || c == 0x4C0 ||
           (c >= 0x10A0 && c <= 0x10C5);
}

/* Kept as they are by non-transitional processing. */
static bool
is_deviation(ucs4_t c)
{
    return c == 0xDF || c == 0x3C2 || c == 0x200C || c == 0x200D;
}

/* Weight of a code point in a run of marks NFC has to sort: a mark may
 * decompose into three, a decomposing starter leaves up to two behind. */
static unsigned
mark_weight(ucs4_t c, unsigned run)
{
    if (c < 0x300)
        return 0;
    if (uc_combining_class(c) != 0)
        return run + 3;
    return 2;
}

/* Case fold and NFKC @p n bytes into @p out at *o (room: MAP_BUF). */
static bool
fold_chunk(const uint8_t *s, size_t n, uint8_t *out, size_t *o)
{
    size_t room = MAP_BUF - *o;
    uint8_t *r;

    if (n == 0)
        return true;
    r = u8_casefold(s, n, "", UNINORM_NFKC, out + *o, &room);
    if (r != out + *o) {
        /* Cannot happen with the bounds above; never keep a heap block. */
        if (r != NULL)
            free(r);
        return false;
    }
    /* Full stops were cut out before: a dot here came from a character
     * such as U+2024 or U+2488, which UTS #46 disallows. */
    if (memchr(out + *o, '.', room) != NULL)
        return false;
    *o += room;
    return *o <= MAP_MAX;
}

/* Map the domain @p s (valid UTF-8) into @p out (MAP_BUF bytes, then NFC
 * into @p nfc); returns the mapped length, or SIZE_MAX when invalid. */
static size_t
map_domain(const uint8_t *s, size_t len, uint8_t *out, uint8_t *nfc)
{
    size_t o = 0, start = 0, n = MAP_BUF;
    unsigned run = 0;

    for (size_t i = 0; i < len;) {
        ucs4_t c;
        int k = u8_mbtouc(&c, s + i, len - i);
        bool special =
            is_dot(c) || is_deviation(c) || is_ignored(c) || c == 0x345;

        run = mark_weight(c, run);
        if (run > MARK_RUN_MAX || disallowed_capital(c))
            return SIZE_MAX;
        /* Cut before a starter only: canonical reordering never crosses
         * one, and the final NFC composes across the cut. */
        if (special || (i - start >= CHUNK_MAX / 2 &&
                        (c < 0x300 || uc_combining_class(c) == 0))) {
            if (!fold_chunk(s + start, i - start, out, &o))
                return SIZE_MAX;
            start = i;
        }
        if (special) {
            if (is_dot(c))
                out[o++] = '.';
            else if (is_deviation(c))
                o += (size_t)u8_uctomb(out + o, c, 4);
            else if (c == 0x345) /* a mark that folds to a starter */
                o += (size_t)u8_uctomb(out + o, 0x3B9, 4);
            start = i + (size_t)k;
        }
        i += (size_t)k;
    }
    if (!fold_chunk(s + start, len - start, out, &o))
        return SIZE_MAX;
    if (u8_normalize(UNINORM_NFC, out, o, nfc, &n) != nfc)
        return SIZE_MAX;
    return n;
}

/* ---- IDNA2008 checks ---------------------------------------------------- */

typedef enum { CP_PVALID, CP_CONTEXTJ, CP_CONTEXTO, CP_DISALLOWED } cp_prop;

/* RFC 5892 section 2.6, Exceptions (F). */
static int
exception(ucs4_t c)
{
    switch (c) {
    case 0xDF:
    case 0x3C2:
    case 0x6FD:
    case 0x6FE:
    case 0xF0B:
    case 0x3007:
        return CP_PVALID;
    case 0xB7:
    case 0x375:
    case 0x5F3:
    case 0x5F4:
    case 0x30FB:
        return CP_CONTEXTO;
    case 0x640:
    case 0x7FA:
    case 0x302E:
    case 0x302F:
    case 0x3031:
    case 0x3032:
    case 0x3033:
    case 0x3034:
    case 0x3035:
    case 0x303B:
        return CP_DISALLOWED;
    }
    return -1;
}

/* Blocks and jamo of RFC 5892 sections 2.4 (D) and 2.9 (I). */
static bool
ignorable_block(ucs4_t c)
{
    return (c >= 0x20D0 && c <= 0x20FF) || (c >= 0x1D100 && c <= 0x1D24F) ||
           (c >= 0x1100 && c <= 0x11FF) || (c >= 0xA960 && c <= 0xA97F) ||
           (c >= 0xD7B0 && c <= 0xD7FF);
}

/* The derived property of RFC 5892 section 3 (the Unstable rule is met
 * by mapping first). */
static cp_prop
property(ucs4_t c)
{
    int e = exception(c);

    if (e >= 0)
        return (cp_prop)e;
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
                   ? CP_PVALID
                   : CP_DISALLOWED;
    if (c >= 0x660 && c <= 0x669)
        return CP_CONTEXTO;
    if (c >= 0x6F0 && c <= 0x6F9)
        return CP_CONTEXTO;
    if (c == 0x200C || c == 0x200D)
        return CP_CONTEXTJ;
    if (uc_is_general_category(c, UC_CATEGORY_Cn) ||
        uc_is_property_default_ignorable_code_point(c) ||
        uc_is_property_white_space(c) || uc_is_property_not_a_character(c) ||
        ignorable_block(c))
        return CP_DISALLOWED;
    if (uc_is_general_category(c, UC_CATEGORY_Ll) ||
        uc_is_general_category(c, UC_CATEGORY_Lo) ||
        uc_is_general_category(c, UC_CATEGORY_Lm) ||
        uc_is_general_category(c, UC_CATEGORY_Nd) ||
        uc_is_general_category(c, UC_CATEGORY_Mn) ||
        uc_is_general_category(c, UC_CATEGORY_Mc))
        return CP_PVALID;
    return CP_DISALLOWED;
}

/* RFC 5892 appendix A.1: ZWNJ after a virama, or between joining
 * letters (L or D, any T, ZWNJ, any T, R or D). */
static bool
zwnj_ok(const ucs4_t *cp, size_t n, size_t i)
{
    size_t j;

    if (i > 0 && uc_combining_class(cp[i - 1]) == UC_CCC_VR)
        return true;
    for (j = i; j-- > 0 && uc_joining_type(cp[j]) == UC_JOINING_TYPE_T;)
        ;
    if (j == SIZE_MAX || (uc_joining_type(cp[j]) != UC_JOINING_TYPE_L &&
                          uc_joining_type(cp[j]) != UC_JOINING_TYPE_D))
        return false;
    for (j = i + 1; j < n && uc_joining_type(cp[j]) == UC_JOINING_TYPE_T; j++)
        ;
    return j < n && (uc_joining_type(cp[j]) == UC_JOINING_TYPE_R ||
                     uc_joining_type(cp[j]) == UC_JOINING_TYPE_D);
}

/* RFC 5893 section 2, for a label holding right-to-left characters. */
static bool
bidi_ok(const ucs4_t *cp, size_t n)
{
    int first = uc_bidi_category(cp[0]), last = -1;
    bool rtl = first == UC_BIDI_R || first == UC_BIDI_AL, en = false,
         an = false, any_rtl = false;

    for (size_t i = 0; i < n; i++) {
        int b = uc_bidi_category(cp[i]);
        any_rtl |= b == UC_BIDI_R || b == UC_BIDI_AL || b == UC_BIDI_AN;
    }
    if (!any_rtl)
        return true;
    if (!rtl && first != UC_BIDI_L)
        return false;
    for (size_t i = 0; i < n; i++) {
        int b = uc_bidi_category(cp[i]);
        bool common = b == UC_BIDI_EN || b == UC_BIDI_ES || b == UC_BIDI_CS ||
                      b == UC_BIDI_ET || b == UC_BIDI_ON || b == UC_BIDI_BN ||
                      b == UC_BIDI_NSM;
        if (rtl ? !(common || b == UC_BIDI_R || b == UC_BIDI_AL ||
                    b == UC_BIDI_AN)
                : !(common || b == UC_BIDI_L))
            return false;
        en |= b == UC_BIDI_EN;
        an |= b == UC_BIDI_AN;
        if (b != UC_BIDI_NSM)
            last = b;
    }
    if (rtl)
        return !(en && an) && (last == UC_BIDI_R || last == UC_BIDI_AL ||
                               last == UC_BIDI_EN || last == UC_BIDI_AN);
    return last == UC_BIDI_L || last == UC_BIDI_EN;
}

/* RFC 5891 section 5.4 for a mapped, NFC U-label of @p n code points. */
static bool
ulabel_ok(const ucs4_t *cp, size_t n)
{
    if (n == 0 || cp[0] == '-' || cp[n - 1] == '-' ||
        (n >= 4 && cp[2] == '-' && cp[3] == '-') ||
        uc_is_general_category(cp[0], UC_CATEGORY_M))
        return false;
    for (size_t i = 0; i < n; i++) {
        switch (property(cp[i])) {
        case CP_PVALID:
            break;
        case CP_CONTEXTJ:
            if (cp[i] == 0x200D
                    ? !(i > 0 && uc_combining_class(cp[i - 1]) == UC_CCC_VR)
                    : !zwnj_ok(cp, n, i))
                return false;
            break;
        case CP_CONTEXTO:
            /* Lookup only needs a rule to exist (RFC 5891 section
             * 5.4), and every CONTEXTO code point has one. */
            break;
        case CP_DISALLOWED:
            return false;
        }
    }
    return bidi_ok(cp, n);
}

/* ---- labels ------------------------------------------------------------- */

static bool
has_xn(const char *s, size_t len)
{
    return len >= 4 && (s[0] | 0x20) == 'x' && (s[1] | 0x20) == 'n' &&
           s[2] == '-' && s[3] == '-';
}

/* True when the UTS #46 mapping leaves @p c as it is (status "valid" or
 * "deviation"): an A-label may hold only such code points, or it would
 * name a label that no U-label spelling maps to.  NFKC case folding of one
 * code point yields at most 18, so the buffer never makes libunistring
 * allocate. */
static bool
mapping_keeps(ucs4_t c)
{
    uint32_t out[32];
    size_t n = sizeof(out) / sizeof(out[0]);
    uint32_t *r;

    if (is_deviation(c))
        return true;
    if (is_ignored(c) || disallowed_capital(c))
        return false;
    r = u32_casefold(&c, 1, NULL, UNINORM_NFKC, out, &n);
    return r == out && n == 1 && out[0] == c;
}

/* A lowercase ASCII label: LDH rules, and an "xn--" label must decode to
 * a valid U-label, already in mapped form, that encodes back to the same
 * text. */
static bool
ascii_label_ok(const char *s, size_t len)
{
    ucs4_t cp[CP_MAX];
    char again[LABEL_MAX + 1];
    size_t n;

    if (rp__label_check(s, len) != NULL)
        return false;
    if (!has_xn(s, len))
        return true;
    n = puny_decode(s + 4, len - 4, cp, CP_MAX);
    if (n == SIZE_MAX || n == 0 || !ulabel_ok(cp, n))
        return false;
    /* The same limit on runs of marks as a U-label spelling meets in the
     * mapping, so that both spellings of a label are refused alike. */
    for (size_t i = 0, run = 0; i < n; i++) {
        run = mark_weight(cp[i], (unsigned)run);
        if (run > MARK_RUN_MAX || !mapping_keeps(cp[i]))
            return false;
    }
    for (size_t i = 0; i < n; i++)
        if (cp[i] >= 0x80)
            return puny_encode(cp, n, again, sizeof(again)) == len - 4 &&
                   memcmp(again, s + 4, len - 4) == 0;
    return false; /* an all-ASCII "A-label" */
}

/* Append the A-label of the mapped label @p s (@p len bytes of UTF-8) to
 * @p out at *o (room @p size).  RP__IDN_OK or the error. */
static rp__idn_err
put_label(const uint8_t *s, size_t len, char *out, size_t size, size_t *o)
{
    ucs4_t cp[CP_MAX];
    char enc[LABEL_MAX + 1];
    size_t n, e;
    bool ascii = true;

    for (size_t i = 0; i < len; i++)
        ascii &= s[i] < 0x80;
    if (ascii) {
        if (!ascii_label_ok((const char *)s, len))
            return RP__IDN_INVALID;
        if (*o + len + 1 > size)
            return RP__IDN_TOO_LONG;
        memcpy(out + *o, s, len);
        *o += len;
        return RP__IDN_OK;
    }
    n = decode(s, len, cp, CP_MAX);
    if (n == SIZE_MAX)
        return RP__IDN_TOO_LONG;
    if (!ulabel_ok(cp, n))
        return RP__IDN_INVALID;
    e = puny_encode(cp, n, enc, sizeof(enc) - 4);
    if (e == 0)
        return RP__IDN_TOO_LONG;
    if (*o + 4 + e + 1 > size)
        return RP__IDN_TOO_LONG;
    memcpy(out + *o, "xn--", 4);
    memcpy(out + *o + 4, enc, e);
    *o += 4 + e;
    return RP__IDN_OK;
}

rp__idn_err
rp__idn_to_ascii(
    const char *in, size_t len, char *out, size_t size, size_t *out_len)
{
    uint8_t map[MAP_BUF], nfc[MAP_BUF];
    size_t n, o = 0, start = 0;

    if (size > RP__IDN_DOMAIN_BUF)
        size = RP__IDN_DOMAIN_BUF;
    if (len == 0 || !rp__utf8_valid(in, len))
        return RP__IDN_INVALID;
    n = map_domain((const uint8_t *)in, len, map, nfc);
    if (n == SIZE_MAX)
        return RP__IDN_INVALID;
    /* A mapped full stop at the end is the root, as an ASCII dot is. */
    if (n > 1 && nfc[n - 1] == '.' && in[len - 1] != '.')
        n--;
    for (size_t i = 0; i <= n; i++) {
        rp__idn_err e;
        if (i < n && nfc[i] != '.')
            continue;
        if (start > 0) {
            if (o + 2 > size)
                return RP__IDN_TOO_LONG;
            out[o++] = '.';
        }
        e = put_label(nfc + start, i - start, out, size, &o);
        if (e != RP__IDN_OK)
            return e;
        start = i + 1;
    }
    out[o] = '\0';
    *out_len = o;
    return RP__IDN_OK;
}

bool
rp__idn_has_alabel(const char *d, size_t len)
{
    for (size_t i = 0; i + 4 <= len; i++)
        if ((i == 0 || d[i - 1] == '.') && has_xn(d + i, len - i))
            return true;
    return false;
}

int
rp__idn_check_alabels(const char *d, size_t len)
{
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && d[i] != '.')
            continue;
        if (has_xn(d + start, i - start) &&
            !ascii_label_ok(d + start, i - start))
            return -1;
        start = i + 1;
    }
    return 0;
}

size_t
rp__idn_to_unicode(const char *d, size_t len, char *out, size_t size)
{
    ucs4_t cp[CP_MAX];
    size_t o = 0, start = 0;

    if (!rp__idn_has_alabel(d, len) || size == 0)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        size_t n;
        if (i < len && d[i] != '.')
            continue;
        n = has_xn(d + start, i - start)
                ? puny_decode(d + start + 4, i - start - 4, cp, CP_MAX)
                : decode((const uint8_t *)d + start, i - start, cp, CP_MAX);
        if (n == SIZE_MAX)
            return 0;
        for (size_t k = 0; k < n; k++) {
            int w = o + 5 < size ? u8_uctomb((uint8_t *)out + o, cp[k], 4) : -1;
            if (w < 0)
                return 0;
            o += (size_t)w;
        }
        if (i < len) {
            if (o + 2 > size)
                return 0;
            out[o++] = '.';
        }
        start = i + 1;
    }
    out[o] = '\0';
    return o;
}

/* ---- local parts -------------------------------------------------------- */

size_t
rp__utf8_fold(const char *s, size_t len, char *out, size_t size)
{
    uint8_t buf[MAP_BUF];
    size_t n = sizeof(buf);
    unsigned run = 0;

    if (size == 0 || len > RP__LOCAL_MAX || !rp__utf8_valid(s, len))
        return 0;
    for (size_t i = 0; i < len;) {
        ucs4_t c;
        i += (size_t)u8_mbtouc(&c, (const uint8_t *)s + i, len - i);
        run = mark_weight(c, run);
        if (run > MARK_RUN_MAX)
            return 0;
    }
    if (u8_casefold((const uint8_t *)s, len, "", UNINORM_NFC, buf, &n) != buf)
        return 0;
    if (n + 1 > size)
        return 0;
    memcpy(out, buf, n);
    out[n] = '\0';
    return n;
}

/* ---- compile time ------------------------------------------------------- */

int
rp__idn_policy_domain(
    const char *in, size_t len, char *out, size_t size, const char **why)
{
    char tmp[MAP_MAX];
    char *res = NULL;
    size_t n;
    int rc;

    *why = "not a valid internationalised domain name";
    if (len >= sizeof(tmp) || !rp__utf8_valid(in, len)) {
        *why = len >= sizeof(tmp) ? "domain name is too long"
                                  : "domain name is not valid UTF-8";
        return -1;
    }
    memcpy(tmp, in, len);
    tmp[len] = '\0';
    rc = idn2_lookup_u8((const uint8_t *)tmp, (uint8_t **)&res,
                        IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    if (rc != IDN2_OK) {
        *why = rc == IDN2_TOO_BIG_DOMAIN || rc == IDN2_TOO_BIG_LABEL
                   ? "domain name is longer than 255 octets as an A-label"
                   : idn2_strerror(rc);
        return -1;
    }
    n = strlen(res);
    if (n > 0 && res[n - 1] == '.')
        n--;
    if (n > RP__DOMAIN_MAX || n + 1 > size) {
        idn2_free(res);
        *why = "domain name is longer than 255 octets as an A-label";
        return -1;
    }
    rp__lower(out, res, n);
    out[n] = '\0';
    idn2_free(res);
    if (rp__idn_check_alabels(out, n) != 0) {
        *why = "not a valid A-label";
        return -1;
    }
    return 0;
}

/* ---- lint --------------------------------------------------------------- */

/* Does the code point list mix scripts (Common and Inherited aside)? */
static bool
mixes_scripts(const ucs4_t *cp, size_t n)
{
    const uc_script_t *first = NULL;

    for (size_t i = 0; i < n; i++) {
        const uc_script_t *s = uc_script(cp[i]);
        if (s == NULL || strcmp(s->name, "Common") == 0 ||
            strcmp(s->name, "Inherited") == 0)
            continue;
        if (first == NULL)
            first = s;
        else if (s != first)
            return true;
    }
    return false;
}

bool
rp__idn_mixed_script(const char *d, char *label, size_t size)
{
    ucs4_t cp[CP_MAX];
    size_t len = strlen(d), start = 0;

    for (size_t i = 0; i <= len; i++) {
        size_t n;
        if (i < len && d[i] != '.')
            continue;
        if (has_xn(d + start, i - start) &&
            (n = puny_decode(d + start + 4, i - start - 4, cp, CP_MAX)) !=
                SIZE_MAX &&
            mixes_scripts(cp, n)) {
            size_t o = 0;
            for (size_t k = 0; k < n; k++) {
                int w = o + 5 < size ? u8_uctomb((uint8_t *)label + o, cp[k], 4)
                                     : -1;
                if (w < 0)
                    break;
                o += (size_t)w;
            }
            if (size > 0)
                label[o < size ? o : size - 1] = '\0';
            return true;
        }
        start = i + 1;
    }
    return false;
}
