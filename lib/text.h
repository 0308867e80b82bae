/*
 * text.h - text and byte helpers every layer shares (text.c): ASCII case
 * folding and comparison, the LDH rules of domain names, and a byte-string
 * hash.  Independent of the locale; never allocate.
 */
#ifndef RP_TEXT_H
#define RP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* @p c lowercased when it is an ASCII capital letter, else unchanged. */
static inline int
rp__ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Lowercase @p len bytes of ASCII from @p in into @p out (which may be
 * @p in).  Bytes outside A-Z are copied unchanged. */
void rp__lower(char *out, const char *in, size_t len);

/* Are the two byte strings equal, ASCII letters compared without case? */
bool rp__ci_equal(const char *a, size_t an, const char *b, size_t bn);

/* A lowercase letter, a digit or a hyphen. */
static inline bool
rp__is_ldh(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Check one lowercase label: 1..63 LDH octets, no hyphen at either end.
 * NULL when valid, else a static message. */
const char *rp__label_check(const char *s, size_t len);

/* Check a lowercase domain name without trailing dot: labels as
 * rp__label_check() has them, at most 255 octets in all.  NULL when
 * valid, else a static message. */
const char *rp__domain_check(const char *s, size_t len);

/* A 32-bit hash of @p n bytes (FNV-1a style, 64-bit state folded), for
 * the hash tables built at compile time. */
uint32_t rp__hash_bytes(const uint8_t *p, size_t n);

#endif /* RP_TEXT_H */
