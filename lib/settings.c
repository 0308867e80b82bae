/*
 * settings.c - the builder calls for policy-wide settings: global deny
 * lists, the sender-login map, the server's own addresses, qualification,
 * reply overrides and the safety switches.
 */
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "builder.h"
#include "ipaddr.h"
#include "policy.h"
#include "relaypolicy.h"

static rp_status
nomem(rp_builder *b, rp_error *err)
{
    return rp__b_nomem(b, err);
}

rp_status
rp__b_add_client_ref(rp_builder *b,
                     rp_error *err,
                     const char *keyword,
                     const char *cidr_or_list,
                     void **vec,
                     size_t *n,
                     size_t *cap)
{
    rp__bref ref, *slot;
    char text[300];

    if (b == NULL)
        return RP_E_ARG;
    if (!rp__parse_ref(b, err, cidr_or_list, true, &ref) ||
        !rp__count_entry(b, err))
        return b->last;
    snprintf(text, sizeof(text), "%s %s", keyword, cidr_or_list);
    slot = rp__b_push(b, vec, n, cap, sizeof(*slot));
    if (slot == NULL)
        return nomem(b, err);
    *slot = ref;
    if ((slot->item = rp__b_item(b, text)) == RP__NONE)
        return nomem(b, err);
    return RP_OK;
}

rp_status
rp_builder_deny_client(rp_builder *b, const char *cidr_or_list, rp_error *err)
{
    if (b == NULL)
        return RP_E_ARG;
    return B_ADD_CLIENT_REF(b, err, "deny client", cidr_or_list, deny_clients);
}

/* Normalise an address pattern: "/re/", "@d", ".d" / "@.d" or an
 * address; writes the canonical form to @p out. */
static bool
norm_addr_pattern(
    rp_builder *b, rp_error *err, const char *pat, char *out, size_t size)
{
    size_t n = pat != NULL ? strlen(pat) : 0;
    char dom[RP__DOMAIN_MAX + 2];
    rp__addr a;

    if (n > 0 && pat[0] == '/')
        return rp__norm_domain(b, err, pat, out, size);
    if (n > 1 && (pat[0] == '@' || pat[0] == '.')) {
        const char *d = pat[0] == '@' ? pat + 1 : pat;
        if (!rp__norm_domain(b, err, d, dom, sizeof(dom)))
            return false;
        if (dom[0] == '/') {
            rp__b_fail(b, err, RP_E_ARG, pat, "write a regex as /.../");
            return false;
        }
        snprintf(out, size, "%s%s", dom[0] == '.' ? "" : "@", dom);
        return true;
    }
    if (n == 0 || rp__addr_parse(pat, n, false, &a) != RP__ADDR_OK ||
        a.dom_type == RP__DOM_NONE) {
        rp__b_fail(b, err, RP_E_ARG, pat,
                   "'%s' is not an address pattern (use "
                   "user@domain, @domain, .domain or /regex/)",
                   pat != NULL ? pat : "");
        return false;
    }
    rp__addr_format(&a, true, out, size);
    return true;
}

static rp_status
add_pair(rp_builder *b,
         rp_error *err,
         rp__bpair **vec,
         size_t *n,
         size_t *cap,
         const char *a,
         const char *user,
         const char *text)
{
    rp__bpair *slot = rp__b_push(b, (void **)vec, n, cap, sizeof(**vec));

    if (slot == NULL || (slot->a = rp__b_str(b, a)) == NULL ||
        (user != NULL && (slot->b = rp__b_lower(b, user)) == NULL) ||
        (slot->item = rp__b_item(b, text)) == RP__NONE)
        return nomem(b, err);
    return RP_OK;
}

static rp_status
deny_address(rp_builder *b,
             const char *what,
             const char *pattern,
             rp_error *err,
             bool sender)
{
    char norm[RP__PATTERN_BUF], text[RP__PATTERN_BUF + 32];

    if (b == NULL)
        return RP_E_ARG;
    if (!norm_addr_pattern(b, err, pattern, norm, sizeof(norm)) ||
        !rp__count_entry(b, err))
        return b->last;
    snprintf(text, sizeof(text), "deny %s %s", what, norm);
    if (sender)
        return add_pair(b, err, &b->deny_senders, &b->n_deny_senders,
                        &b->cap_deny_senders, norm, NULL, text);
    return add_pair(b, err, &b->deny_recipients, &b->n_deny_recipients,
                    &b->cap_deny_recipients, norm, NULL, text);
}

rp_status
rp_builder_deny_sender(rp_builder *b, const char *pattern, rp_error *err)
{
    return deny_address(b, "sender", pattern, err, true);
}

rp_status
rp_builder_deny_recipient(rp_builder *b, const char *pattern, rp_error *err)
{
    return deny_address(b, "recipient", pattern, err, false);
}

rp_status
rp_builder_sender_login(rp_builder *b,
                        const char *sender,
                        const char *user,
                        rp_error *err)
{
    char norm[RP__PATTERN_BUF], text[RP__PATTERN_BUF + 300];

    if (b == NULL)
        return RP_E_ARG;
    if (!rp__is_name(user)) {
        rp__b_fail(b, err, RP_E_ARG, user, "a user name must be a word");
        return RP_E_ARG;
    }
    if (!norm_addr_pattern(b, err, sender, norm, sizeof(norm)) ||
        !rp__count_entry(b, err))
        return b->last;
    if (norm[0] == '/' || norm[0] == '.') {
        rp__b_fail(b, err, RP_E_ARG, sender,
                   "a sender-login entry is an "
                   "address or @domain");
        return RP_E_ARG;
    }
    snprintf(text, sizeof(text), "sender-login %s %s", user, norm);
    return add_pair(b, err, &b->logins, &b->n_logins, &b->cap_logins, norm,
                    user, text);
}

rp_status
rp_builder_self(rp_builder *b, const char *ip, rp_error *err)
{
    rp__ip addr, *slot;

    if (b == NULL)
        return RP_E_ARG;
    if (ip == NULL || rp__ip_parse(ip, strlen(ip), &addr) != 0) {
        rp__b_fail(b, err, RP_E_ARG, ip, "'%s' is not an IP address",
                   ip != NULL ? ip : "");
        return RP_E_ARG;
    }
    slot = B_PUSH(b, selfs);
    if (slot == NULL)
        return nomem(b, err);
    *slot = addr;
    return RP_OK;
}

static rp_status
set_domain(rp_builder *b,
           rp_error *err,
           const char *domain,
           const char **dst,
           uint32_t *item,
           const char *what)
{
    char norm[RP__DOMAIN_MAX + 2], text[300];

    if (b == NULL)
        return RP_E_ARG;
    if (!rp__norm_domain(b, err, domain, norm, sizeof(norm)))
        return b->last;
    if (norm[0] == '/' || norm[0] == '.') {
        rp__b_fail(b, err, RP_E_ARG, domain, "%s takes one domain name", what);
        return RP_E_ARG;
    }
    snprintf(text, sizeof(text), "%s %s", what, norm);
    if ((*dst = rp__b_str(b, norm)) == NULL ||
        (*item = rp__b_item(b, text)) == RP__NONE)
        return nomem(b, err);
    return RP_OK;
}

rp_status
rp_builder_self_domain(rp_builder *b, const char *domain, rp_error *err)
{
    return set_domain(b, err, domain, b ? &b->self_domain : NULL,
                      b ? &b->self_domain_item : NULL, "self-domain");
}

rp_status
rp_builder_qualify_domain(rp_builder *b, const char *domain, rp_error *err)
{
    return set_domain(b, err, domain, b ? &b->qualify_domain : NULL,
                      b ? &b->qualify_item : NULL, "qualify-domain");
}

/* The reply class a reason's code must keep: 2, 4 or 5. */
static int
reason_class(rp_reason r)
{
    if (r == RP_REASON_ACCEPTED || r == RP_REASON_RELAYED)
        return 2;
    return r == RP_REASON_INTERNAL_ERROR ? 4 : 5;
}

static bool
valid_enhanced(const char *e, int cls)
{
    size_t i = 0, parts = 0, digits = 0;

    if (e == NULL || e[0] != (char)('0' + cls) || strlen(e) > 15)
        return false;
    for (i = 0; e[i] != '\0'; i++) {
        if (e[i] == '.') {
            if (digits == 0)
                return false;
            parts++;
            digits = 0;
        } else if (e[i] >= '0' && e[i] <= '9' && digits < 3) {
            digits++;
        } else {
            return false;
        }
    }
    return parts == 2 && digits > 0;
}

static bool
valid_text(const char *t)
{
    size_t n = 0;

    if (t == NULL)
        return false;
    for (; *t != '\0'; t++, n++)
        if ((unsigned char)*t < 0x20 || (unsigned char)*t >= 0x7f || n > 200)
            return false;
    return n > 0;
}

rp_status
rp_builder_reply(rp_builder *b,
                 rp_reason reason,
                 uint32_t code,
                 const char *enhanced,
                 const char *text,
                 rp_error *err)
{
    char item[300];
    rp__reply *r;
    int cls;

    if (b == NULL)
        return RP_E_ARG;
    if (reason <= RP_REASON_NONE || reason >= RP_REASON_COUNT) {
        rp__b_fail(b, err, RP_E_ARG, NULL, "unknown reason %d", (int)reason);
        return RP_E_ARG;
    }
    cls = reason_class(reason);
    if (code / 100 != (uint32_t)cls || code % 100 > 59) {
        rp__b_fail(b, err, RP_E_ARG, NULL, "reply code %u for %s must be %dxx",
                   (unsigned)code, rp_reason_name(reason), cls);
        return RP_E_ARG;
    }
    if (!valid_enhanced(enhanced, cls) || !valid_text(text)) {
        rp__b_fail(
            b, err, RP_E_ARG, enhanced, "%s",
            !valid_text(text)
                ? "reply text must be 1-200 printable ASCII characters"
                : "enhanced status code must be x.y.z with the code's class");
        return RP_E_ARG;
    }
    r = &b->replies[reason];
    r->code = code;
    snprintf(r->enhanced, sizeof(r->enhanced), "%s", enhanced);
    snprintf(item, sizeof(item), "reply %s %u %s \"%s\"",
             rp_reason_name(reason), (unsigned)code, enhanced, text);
    if ((r->text = rp__b_str(b, text)) == NULL ||
        (r->item = rp__b_item(b, item)) == RP__NONE)
        return nomem(b, err);
    return RP_OK;
}

rp_status
rp_builder_soft_fail(rp_builder *b, bool on)
{
    if (b == NULL)
        return RP_E_ARG;
    b->soft_fail = on;
    b->soft_fail_item = on ? rp__b_item(b, "soft-fail") : RP__NONE;
    return RP_OK;
}

rp_status
rp_builder_allow_open_relay(rp_builder *b, bool on)
{
    if (b == NULL)
        return RP_E_ARG;
    b->allow_open_relay = on;
    b->open_relay_item = on ? rp__b_item(b, "allow open-relay") : RP__NONE;
    return RP_OK;
}
