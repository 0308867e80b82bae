/*
 * certfp.c - certificate fingerprints: text to 32 bytes and back.
 */
#include "certfp.h"

static int
hex_value(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int
rp__fp_parse(const char *s,
             size_t len,
             uint8_t out[RP__FP_LEN],
             const char **why)
{
    size_t digits = 0;
    const char *dummy;

    if (why == NULL)
        why = &dummy;
    if (s == NULL || len == 0) {
        *why = "it is empty";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        int v;

        if (s[i] == ':')
            continue;
        if ((v = hex_value((unsigned char)s[i])) < 0) {
            *why = "a character is neither a hex digit nor a colon";
            return -1;
        }
        if (digits >= 2 * RP__FP_LEN) {
            *why = "more than 64 hex digits";
            return -1;
        }
        if (digits % 2 == 0)
            out[digits / 2] = (uint8_t)(v << 4);
        else
            out[digits / 2] |= (uint8_t)v;
        digits++;
    }
    if (digits != 2 * RP__FP_LEN) {
        *why = "fewer than 64 hex digits";
        return -1;
    }
    return 0;
}

void
rp__fp_format(const uint8_t fp[RP__FP_LEN], char *buf)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < RP__FP_LEN; i++) {
        buf[2 * i] = hex[fp[i] >> 4];
        buf[2 * i + 1] = hex[fp[i] & 15];
    }
    buf[2 * RP__FP_LEN] = '\0';
}
