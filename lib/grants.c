/*
 * grants.c - the builder calls of the narrower grants (relaypolicy(7)
 * §4.2): certificate lists and trusted proxies.  Rules that use them are
 * made in listener.c.
 */

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "builder.h"
#include "certfp.h"
#include "relaypolicy.h"

rp_status
rp_builder_certificate(rp_builder *b,
                       const char *name,
                       const char *fingerprint,
                       rp_error *err)
{
    rp__bcert *c;
    uint8_t fp[RP__FP_LEN];
    const char *why = "";

    if (b == NULL)
        return RP_E_ARG;
    if (!rp__is_name(name) || strchr(name, ':') != NULL) {
        rp__b_fail(b, err, RP_E_ARG, name,
                   "a certificate list name must be a word without colons");
        return RP_E_ARG;
    }
    if (fingerprint == NULL ||
        rp__fp_parse(fingerprint, strlen(fingerprint), fp, &why) != 0) {
        rp__b_fail(b, err, RP_E_ARG, fingerprint,
                   "'%.24s%s' is not a SHA-256 fingerprint: %s",
                   fingerprint != NULL ? fingerprint : "",
                   fingerprint != NULL && strlen(fingerprint) > 24 ? "..." : "",
                   why);
        return RP_E_ARG;
    }
    if (!rp__count_entry(b, err))
        return b->last;
    c = B_PUSH(b, certs);
    if (c == NULL)
        return rp__b_nomem(b, err);
    c->name = b->n_certs > 1 && strcmp(c[-1].name, name) == 0
                  ? c[-1].name
                  : rp__b_str(b, name);
    if (c->name == NULL) {
        b->n_certs--;
        return rp__b_nomem(b, err);
    }
    memcpy(c->fp, fp, sizeof(fp));
    return RP_OK;
}

rp_status
rp_builder_trusted_proxy(rp_builder *b, const char *cidr_or_list, rp_error *err)
{
    if (b == NULL)
        return RP_E_ARG;
    return B_ADD_CLIENT_REF(b, err, "trusted-proxy", cidr_or_list, proxies);
}

const char *
rp__scope_text(const rp__brule *r, char *buf, size_t size)
{
    size_t n = 0;

    buf[0] = '\0';
    if (r->n_scope == 0)
        return buf;
    n = (size_t)snprintf(buf, size, " to");
    for (size_t i = 0; i < r->n_scope && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, " %s", r->scope[i]);
    return buf;
}
