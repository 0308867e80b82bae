/*
 * address.h - RFC 5321 mailboxes (address.c).
 */
#ifndef RP_ADDRESS_H
#define RP_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "ipaddr.h"

#define RP__LOCAL_MAX 64   /* octets of a local part (quoted form) */
#define RP__DOMAIN_MAX 255 /* octets of a domain */
#define RP__PATH_MAX 256   /* octets of a path, angle brackets included */

typedef enum rp__dom_type {
    RP__DOM_NONE = 0, /* unqualified ("postmaster") or null sender */
    RP__DOM_NAME = 1, /* a domain name */
    RP__DOM_IPV4 = 2, /* [192.0.2.1] or [IPv6:::ffff:192.0.2.1] */
    RP__DOM_IPV6 = 3  /* [IPv6:2001:db8::1] */
} rp__dom_type;

typedef enum rp__addr_err {
    RP__ADDR_OK = 0,
    RP__ADDR_SYNTAX = 1, /* anything malformed */
    RP__ADDR_TOO_LONG = 2,
    RP__ADDR_NON_ASCII = 3, /* bytes that are not UTF-8 */
    RP__ADDR_CONTROL = 4    /* NUL, CR, LF or other control bytes */
} rp__addr_err;

typedef struct rp__addr {
    bool is_null;    /* <> or empty: the null sender */
    bool had_route;  /* a source route was present (and dropped) */
    bool was_quoted; /* the local part was quoted; when not, it is a
                      * dot-atom (every writer keeps this true) */
    bool utf8;       /* the path held non-ASCII (SMTPUTF8 needed) */
    /* The local part's content: quotes and escapes removed ("a b"). */
    char local[RP__LOCAL_MAX + 1];
    size_t local_len;
    /* Lowercased domain without trailing dot; for literals the canonical
     * text without brackets ("192.0.2.1", "IPv6:2001:db8::1"). */
    char domain[RP__DOMAIN_MAX + 1];
    size_t domain_len;
    rp__dom_type dom_type;
    rp__ip literal; /* for RP__DOM_IPV4 / RP__DOM_IPV6 */
} rp__addr;

/* Parse a reverse- or forward-path, with or without angle brackets, with
 * an optional source route.  Never reads past @p len.  @p allow_null lets
 * "<>" and "" parse as the null sender. */
rp__addr_err
rp__addr_parse(const char *s, size_t len, bool allow_null, rp__addr *out);
/* The canonical text of the address (no brackets, local part quoted only
 * when its content is not a dot-atom, domain lowercased, literal in
 * brackets).  @p lower_local lowercases the local part (for comparisons).
 * Returns the length written (always NUL-terminated, cut to fit). */
size_t
rp__addr_format(const rp__addr *a, bool lower_local, char *buf, size_t size);

typedef enum rp__route {
    RP__ROUTE_NONE = 0,  /* no quoted @, ! or % in the local part */
    RP__ROUTE_SPLIT = 1, /* *out holds the routed-to mailbox */
    RP__ROUTE_ERROR = 2  /* empty mailbox or domain, or a bad domain */
} rp__route;

/* One routing split of relaypolicy(7) §5 step 6: a quoted @ at its rightmost @
 * ("u@R" -> u@R), else a ! at its leftmost ! (R!u -> u@R), else a % at its
 * rightmost % (u%R -> u@R).  Looks only at in->local. */
rp__route rp__addr_route_split(const rp__addr *in, rp__addr *out);

#endif /* RP_ADDRESS_H */
