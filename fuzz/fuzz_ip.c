/*
 * fuzz_ip.c - strict IP and CIDR text: rp__ip_parse() and rp__cidr_parse()
 * against glibc's inet_pton().
 *
 * The documented contract of rp__ip_parse() is "exactly what inet_pton()
 * accepts for AF_INET or AF_INET6, with the same bytes", so the two must
 * agree on every input that holds no NUL byte (inet_pton stops at a NUL;
 * ours must then reject).  For networks the reference is built from the
 * same pieces: an address inet_pton accepts, '/', a decimal prefix length
 * without leading zeros within the family's width, and no host bits set.
 * Formatting an accepted address must give text that parses back to the
 * same bytes.
 */
#include "fuzz_common.h"
#include "ipaddr.h"

#include <arpa/inet.h>
#include <stdio.h>

#define TEXT_MAX 128

static void
fail(const char *what, const char *text)
{
    fprintf(stderr, "invariant broken: %s: \"%s\"\n", what, text);
    abort();
}

/* inet_pton() into a 16-byte key; 4 or 6 for the family, 0 if rejected. */
static int
reference_ip(const char *text, uint8_t key[16])
{
    uint8_t b4[4];

    memset(key, 0, 16);
    if (inet_pton(AF_INET, text, b4) == 1) {
        key[10] = key[11] = 0xff;
        memcpy(key + 12, b4, 4);
        return 4;
    }
    if (inet_pton(AF_INET6, text, key) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
                                           0, 0, 0, 0, 0xff, 0xff};
        return memcmp(key, mapped, 12) == 0 ? 4 : 6;
    }
    return 0;
}

static void
check_ip(const char *text, size_t n)
{
    uint8_t key[16];
    int fam = reference_ip(text, key);
    rp__ip ip;
    int r = rp__ip_parse(text, n, &ip);

    if ((r == 0) != (fam != 0))
        fail(r == 0 ? "accepted what inet_pton rejects"
                    : "rejected what inet_pton accepts",
             text);
    if (r != 0)
        return;
    if (memcmp(ip.b, key, 16) != 0 || ip.family != fam)
        fail("bytes or family differ from inet_pton", text);
    {
        char out[64];
        rp__ip back;
        size_t m = rp__ip_format(&ip, out, sizeof(out));

        if (m != strlen(out) || rp__ip_parse(out, m, &back) != 0 ||
            memcmp(back.b, ip.b, 16) != 0 || back.family != ip.family)
            fail("formatted address does not parse back", text);
    }
}

/* The reference network parse; returns 0 and fills key/plen, or -1. */
static int
reference_cidr(const char *text, uint8_t key[16], unsigned *plen)
{
    const char *slash = strrchr(text, '/');
    char addr[TEXT_MAX];
    unsigned bits = 0, width;
    int fam;
    bool v6_text;

    if (slash == NULL) {
        fam = reference_ip(text, key);
        *plen = 128;
        return fam != 0 ? 0 : -1;
    }
    if ((size_t)(slash - text) >= sizeof(addr))
        return -1;
    memcpy(addr, text, (size_t)(slash - text));
    addr[slash - text] = '\0';
    fam = reference_ip(addr, key);
    if (fam == 0)
        return -1;
    v6_text = strchr(addr, ':') != NULL;
    width = v6_text ? 128 : 32;
    if (slash[1] == '\0' || (slash[1] == '0' && slash[2] != '\0'))
        return -1;
    for (const char *d = slash + 1; *d != '\0'; d++) {
        if (*d < '0' || *d > '9' || bits > 1000)
            return -1;
        bits = bits * 10 + (unsigned)(*d - '0');
    }
    if (bits > width)
        return -1;
    *plen = v6_text ? bits : 96 + bits;
    for (unsigned i = *plen; i < 128; i++)
        if (key[i / 8] & (0x80u >> (i % 8)))
            return -1;
    return 0;
}

static void
check_cidr(const char *text, size_t n)
{
    uint8_t key[16];
    unsigned ref_plen = 0, plen = 0;
    const char *why = NULL;
    rp__ip ip;
    int ref = reference_cidr(text, key, &ref_plen);
    int r = rp__cidr_parse(text, n, &ip, &plen, &why);

    if (r != 0 && (why == NULL || why[0] == '\0'))
        fail("network rejected without a reason", text);
    if ((r == 0) != (ref == 0))
        fail(r == 0 ? "network accepted, reference rejects"
                    : "network rejected, reference accepts",
             text);
    if (r == 0 && (memcmp(ip.b, key, 16) != 0 || plen != ref_plen))
        fail("network bytes or prefix differ", text);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[TEXT_MAX];
    rp__ip ip;
    unsigned plen;
    const char *why;

    /* Any bytes at all: no crash, no read past the input. */
    (void)rp__ip_parse((const char *)data, size, &ip);
    (void)rp__cidr_parse((const char *)data, size, &ip, &plen, &why);
    if (size >= sizeof(text))
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (memchr(data, '\0', size) != NULL) {
        if (rp__ip_parse((const char *)data, size, &ip) == 0 ||
            rp__cidr_parse((const char *)data, size, &ip, &plen, &why) == 0)
            fail("accepted a NUL byte", text);
        return 0;
    }
    check_ip(text, size);
    check_cidr(text, size);
    return 0;
}
