/*
 * idn.h - internationalised domain names and UTF-8 local parts
 * (relaypolicy(7) §2, "SMTPUTF8 and IDN").
 *
 * Domains are compared in one form: the lowercase IDNA2008 A-label.  The
 * decision path converts U-labels with rp__idn_to_ascii(), which maps as
 * UTS #46 non-transitional processing does (case folding, NFKC, the four
 * deviation characters kept), checks the IDNA2008 rules (RFC 5891, 5892,
 * 5893) and encodes with Punycode (RFC 3492), all in caller buffers: it
 * never allocates.  Policy domains are converted at compile time with
 * libidn2 (rp__idn_policy_domain()), which may allocate.
 */
#ifndef RP_IDN_H
#define RP_IDN_H

#include <stdbool.h>
#include <stddef.h>

#include "address.h"

typedef enum rp__idn_err {
    RP__IDN_OK = 0,
    RP__IDN_INVALID = 1, /* not UTF-8, or not a valid IDNA2008 name */
    RP__IDN_TOO_LONG = 2 /* the A-label form is over 255 octets */
} rp__idn_err;

/* Bytes a caller's buffer for a whole A-label domain needs. */
#define RP__IDN_DOMAIN_BUF (RP__DOMAIN_MAX + 1)

/* True when @p s holds @p len bytes of well-formed UTF-8 (no surrogates,
 * no overlong forms).  Never allocates. */
bool rp__utf8_valid(const char *s, size_t len);

/*
 * Convert a domain name (UTF-8, no trailing dot, labels separated by '.'
 * or an ideographic full stop) to its lowercase A-label form in @p out
 * (@p size >= RP__IDN_DOMAIN_BUF), NUL-terminated; *out_len is its length.
 * ASCII labels must be LDH; "xn--" labels must be valid A-labels.  Never
 * allocates; safe from any thread.
 */
rp__idn_err rp__idn_to_ascii(
    const char *in, size_t len, char *out, size_t size, size_t *out_len);

/* Check every "xn--" label of a lowercase ASCII domain name: 0 when they
 * are all valid A-labels (or there are none), -1 otherwise. */
int rp__idn_check_alabels(const char *d, size_t len);

/* True when some label of the lowercase ASCII name @p d starts "xn--". */
bool rp__idn_has_alabel(const char *d, size_t len);

/* The U-label form of an A-label domain, for display: its length, or 0
 * when @p d holds no A-label or it does not fit @p size. */
size_t rp__idn_to_unicode(const char *d, size_t len, char *out, size_t size);

/* A UTF-8 local part after case folding and NFC, for comparisons: its
 * length in @p out (NUL-terminated), or 0 when it does not fit or is not
 * UTF-8.  ASCII is lowercased.  Never allocates. */
size_t rp__utf8_fold(const char *s, size_t len, char *out, size_t size);

/*
 * Compile time: the canonical A-label form of a policy domain name (no
 * leading '.', no trailing dot) through libidn2 (UTS #46
 * non-transitional), lowercased.  Returns 0, or -1 with a static message
 * in *why.  May allocate (through libidn2).
 */
int rp__idn_policy_domain(
    const char *in, size_t len, char *out, size_t size, const char **why);

/* Lint: the first label of A-label domain @p d whose U-label mixes
 * scripts (Common and Inherited characters aside), written to @p label;
 * false when there is none. */
bool rp__idn_mixed_script(const char *d, char *label, size_t size);

#endif /* RP_IDN_H */
