/*
 * decide_sender.c - the sender rules of relaypolicy(7) §4.4, applied in step 7
 * of a decision: a local sender from an unauthenticated client needs the
 * local-sender permission, and the sender-login map (Postfix's
 * reject_sender_login_mismatch) ties senders to the users that own them.
 */
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "decide.h"
#include "domains.h"
#include "policy.h"
#include "relaypolicy.h"
#include "text.h"

#define NAME_MAX_LEN 255

static bool
login_owns(rp__ctx *c, const char *pattern, size_t n)
{
    char key[RP_ADDR_MAX + NAME_MAX_LEN + 2];
    uint32_t hit;

    if (c->user == NULL || n + 1 + c->user_len > sizeof(key))
        return false;
    memcpy(key, pattern, n);
    key[n] = '\n';
    rp__lower(key + n + 1, c->user, c->user_len);
    return rp__strmap_get(c->p->login_owner, key, n + 1 + c->user_len, &hit) ==
           1;
}

/* The sender-login map (Postfix reject_sender_login_mismatch). */
static rp_reason
login_check(rp__ctx *c, uint32_t *item)
{
    char key[RP_ADDR_MAX + 2];
    size_t n = rp__addr_format(&c->sender, true, key, sizeof(key));
    bool mapped = rp__strmap_get(c->p->login_mapped, key, n, item) == 1;

    if (!mapped && c->sender.dom_type == RP__DOM_NAME) {
        n = (size_t)snprintf(key, sizeof(key), "@%s", c->sender.domain);
        mapped = n < sizeof(key) &&
                 rp__strmap_get(c->p->login_mapped, key, n, item) == 1;
    }
    if (c->user == NULL) {
        if (!mapped)
            return RP_REASON_NONE;
        rp__explain(c,
                    "   sender-login: <%s> belongs to a user; the client "
                    "is not authenticated",
                    c->sender.local);
        return RP_REASON_SENDER_LOGIN_MISMATCH;
    }
    if (mapped && login_owns(c, key, n))
        return RP_REASON_NONE;
    if (!mapped)
        *item = RP__NONE;
    rp__explain(c, "   sender-login: user '%.*s' does not own this sender",
                (int)c->user_len, c->user);
    return RP_REASON_SENDER_LOGIN_MISMATCH;
}

/* relaypolicy(7) §4.4: spoofing and the login map.  RP_REASON_NONE to go on. */
rp_reason
rp__sender_rules(rp__ctx *c, uint32_t *item)
{
    rp__class cls;
    uint32_t dom;
    bool local;

    *item = RP__NONE;
    if (c->sender.is_null)
        return RP_REASON_NONE;
    if (rp__classify(c, &c->sender, &cls, &dom) != RP__RES_OK)
        return RP_REASON_INTERNAL_ERROR;
    local = cls == RP__CLASS_LOCAL || cls == RP__CLASS_SELF;
    if (local && c->user == NULL &&
        !(c->perms & (RP_PERM_LOCAL_SENDER | RP_PERM_RELAY))) {
        *item = c->deny_item[3];
        rp__explain(c, "   sender rules: local sender from an "
                       "unauthenticated client without local-sender");
        return RP_REASON_SENDER_SPOOF;
    }
    if (c->p->has_login_map)
        return login_check(c, item);
    return RP_REASON_NONE;
}
