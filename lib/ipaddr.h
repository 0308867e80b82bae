/*
 * ipaddr.h - strict IP and CIDR text parsing (ipaddr.c).
 *
 * Addresses are 16-byte keys: IPv6 as is, IPv4 as ::ffff:a.b.c.d.  The
 * family is 4 or 6; "::ffff:a.b.c.d" parses as family 4.
 */
#ifndef RP_IPADDR_H
#define RP_IPADDR_H

#include <stddef.h>
#include <stdint.h>

typedef struct rp__ip {
    uint8_t b[16]; /* network order; IPv4 in b[12..15] under ::ffff:0:0/96 */
    int family;    /* 4 or 6 */
} rp__ip;

/* Strict inet_pton-style parse: no leading zeros, no short forms, no
 * whitespace, no zone id.  Returns 0 on success, -1 on malformed input. */
int rp__ip_parse(const char *s, size_t len, rp__ip *out);
/* Format as text (IPv4 dotted quad or RFC 5952 IPv6); returns length. */
size_t rp__ip_format(const rp__ip *ip, char *buf, size_t size);
/* Parse "a.b.c.d/n", "v6/n" or a bare address (host prefix).  The prefix
 * length is returned in IPv6 terms (IPv4 /n is 96 + n).  Host bits set is
 * an error.  Returns 0, or -1 with a static message in *why. */
int rp__cidr_parse(
    const char *s, size_t len, rp__ip *out, unsigned *plen, const char **why);

#endif /* RP_IPADDR_H */
