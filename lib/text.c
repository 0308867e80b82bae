/*
 * text.c - text and byte helpers: ASCII case folding and comparison, the
 * LDH rules of domain names (RFC 1035 section 2.3.1, RFC 5321 section
 * 4.1.2) and a byte-string hash.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text.h"

#define LABEL_MAX 63
#define DOMAIN_MAX 255

void
rp__lower(char *out, const char *in, size_t len)
{
    for (size_t i = 0; i < len; i++)
        out[i] = (char)rp__ascii_lower((unsigned char)in[i]);
}

bool
rp__ci_equal(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (rp__ascii_lower((unsigned char)a[i]) !=
            rp__ascii_lower((unsigned char)b[i]))
            return false;
    return true;
}

const char *
rp__label_check(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!rp__is_ldh((unsigned char)s[i]))
            return "domain name may only hold letters, digits, hyphens "
                   "and dots";
        if (i == 0 && s[i] == '-')
            return "domain label starts with a hyphen";
    }
    if (len == 0)
        return "domain name has an empty label";
    if (len > LABEL_MAX)
        return "domain label is longer than 63 octets";
    if (s[len - 1] == '-')
        return "domain label ends with a hyphen";
    return NULL;
}

const char *
rp__domain_check(const char *s, size_t len)
{
    size_t start = 0;

    if (len > DOMAIN_MAX)
        return "domain name is longer than 255 octets";
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        const char *why = rp__label_check(s + start, i - start);
        if (why != NULL)
            return why;
        start = i + 1;
    }
    return NULL;
}

uint32_t
rp__hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return (uint32_t)(h ^ (h >> 29));
}
