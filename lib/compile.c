/*
 * compile.c - freezing a builder into an immutable policy and the compile
 * entry points (the policy's lifetime is in policy.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "builder.h"
#include "domains.h"
#include "exposure.h"
#include "file.h"
#include "freeze.h"
#include "ipaddr.h"
#include "load.h"
#include "options.h"
#include "parse.h"
#include "policy.h"
#include "radix.h"
#include "relaypolicy.h"
#include "rp_regex.h"
#include "status.h"

/* ---- the freeze --------------------------------------------------------- */

static bool
copy_items(rp__freeze *f)
{
    const char *last_in = NULL;
    uint32_t last_out = 0;
    rp__item *items;

    items = rp__p_alloc(f, (f->b->n_items + 1) * sizeof(rp__item));
    if (items == NULL)
        return false;
    f->p->items = items;
    for (size_t i = 0; i < f->b->n_items; i++) {
        const rp__bitem *in = &f->b->items[i];
        rp__item *out = &items[i];

        if (in->file != last_in) {
            last_in = in->file;
            if ((last_out = rp__p_pstr(f, in->file)) == RP__NONE)
                return false;
        }
        out->file = last_out;
        out->line = in->line;
        out->column = in->column;
        if ((out->text = rp__p_pstr(f, in->text)) == RP__NONE)
            return false;
    }
    f->p->n_items = (uint32_t)f->b->n_items;
    return true;
}

static bool
copy_listeners(rp__freeze *f,
               const uint32_t *remote_ids,
               const uint32_t *rule_ids)
{
    rp_policy *p = f->p;
    size_t r = 0, n_all = 0;

    for (size_t i = 0; i < f->b->n_listeners; i++)
        n_all += f->b->listeners[i].n_rules;
    p->listeners =
        rp__p_alloc(f, (f->b->n_listeners + 1) * sizeof(rp__listener));
    if (p->listeners == NULL)
        return false;
    for (size_t i = 0; i < f->b->n_listeners; i++) {
        const rp__blistener *in = &f->b->listeners[i];
        rp__listener *out = &p->listeners[i];

        out->name = rp__p_str(f, in->name);
        out->item = in->item;
        out->binds = rp__p_alloc(f, (in->n_binds + 1) * sizeof(rp__bind));
        out->rules = rp__p_alloc(f, (in->n_rules + 1) * sizeof(rp__rule));
        if (out->name == NULL || out->binds == NULL || out->rules == NULL)
            return false;
        if (in->n_binds > 0)
            memcpy(out->binds, in->binds, in->n_binds * sizeof(rp__bind));
        out->n_binds = (uint32_t)in->n_binds;
        out->remote_list = remote_ids[i];
        out->require_auth = in->require_auth;
        out->require_cert_ok = in->require_cert_ok;
        out->require_auth_item = in->require_auth_item;
        for (size_t k = 0; k < in->n_rules; k++, r++) {
            const rp__brule *br = &in->rules[k];
            rp__rule *pr = &out->rules[k];

            pr->deny = br->deny;
            pr->principal = br->principal;
            pr->perms = br->perms;
            pr->item = br->item;
            pr->list = rule_ids[r];
            pr->from_list = rule_ids[n_all + r];
            pr->from_except = br->from_except;
            if (br->principal == RP_PRINCIPAL_INTERFACE)
                p->has_interface_rules = true;
            if (br->name != NULL) {
                if ((pr->name = rp__p_str(f, br->name)) == NULL)
                    return false;
                pr->name_len = strlen(br->name);
            }
        }
        out->n_rules = (uint32_t)in->n_rules;
    }
    p->n_listeners = (uint32_t)f->b->n_listeners;
    return true;
}

static const rp__reply default_replies[RP_REASON_COUNT] = {
    [RP_REASON_ACCEPTED] = {250, "2.1.5", "OK", RP__NONE},
    [RP_REASON_RELAYED] = {250, "2.1.5", "OK", RP__NONE},
    [RP_REASON_RELAY_DENIED] = {550, "5.7.1", "Relaying prohibited", RP__NONE},
    [RP_REASON_UNKNOWN_USER] = {550, "5.1.1", "User unknown", RP__NONE},
    [RP_REASON_NO_LISTENER] = {554, "5.7.1", "Access denied", RP__NONE},
    [RP_REASON_CLIENT_BLOCKED] = {554, "5.7.1", "Access denied", RP__NONE},
    [RP_REASON_SENDER_DENIED] = {550, "5.7.1", "Sender address rejected",
                                 RP__NONE},
    [RP_REASON_RECIPIENT_DENIED] = {550, "5.7.1", "Recipient address rejected",
                                    RP__NONE},
    [RP_REASON_AUTH_REQUIRED] = {530, "5.7.0", "Authentication required",
                                 RP__NONE},
    [RP_REASON_NOT_PERMITTED] = {550, "5.7.1", "Not authorized", RP__NONE},
    [RP_REASON_SENDER_SPOOF] = {553, "5.7.1",
                                "Sender address rejected: not "
                                "owned by user",
                                RP__NONE},
    [RP_REASON_SENDER_LOGIN_MISMATCH] = {553, "5.7.1",
                                         "Sender address "
                                         "rejected: not owned by user",
                                         RP__NONE},
    [RP_REASON_BAD_RECIPIENT_SYNTAX] = {501, "5.1.3",
                                        "Bad recipient address "
                                        "syntax",
                                        RP__NONE},
    [RP_REASON_BAD_SENDER_SYNTAX] = {501, "5.1.7",
                                     "Bad sender address "
                                     "syntax",
                                     RP__NONE},
    [RP_REASON_INTERNAL_ERROR] = {451, "4.3.0", "Temporary internal error",
                                  RP__NONE},
    [RP_REASON_SMTPUTF8_REQUIRED] = {553, "5.6.7", "SMTPUTF8 required",
                                     RP__NONE},
};

static bool
copy_settings(rp__freeze *f)
{
    rp_policy *p = f->p;

    for (int i = 1; i < RP_REASON_COUNT; i++) {
        p->replies[i] = f->b->replies[i].item != RP__NONE ? f->b->replies[i]
                                                          : default_replies[i];
        if ((p->replies[i].text = rp__p_str(f, p->replies[i].text)) == NULL)
            return false;
    }
    p->replies[0] = default_replies[RP_REASON_INTERNAL_ERROR];
    p->replies[0].text = p->replies[RP_REASON_INTERNAL_ERROR].text;
    p->soft_fail = f->b->soft_fail;
    p->allow_open_relay = f->b->allow_open_relay;
    if (f->b->qualify_domain != NULL &&
        (p->qualify_domain = rp__p_str(f, f->b->qualify_domain)) == NULL)
        return false;
    return true;
}

static rp_status
freeze_all(rp__freeze *f)
{
    uint32_t *remote_ids = NULL, *rule_ids = NULL;
    bool ok;

    ok = copy_items(f) && rp__freeze_domains(f) && rp__freeze_recipients(f) &&
         rp__freeze_lists(f, &remote_ids, &rule_ids) &&
         copy_listeners(f, remote_ids, rule_ids) && rp__freeze_certs(f) &&
         rp__freeze_scopes(f) && rp__freeze_self(f) && rp__freeze_groups(f) &&
         rp__freeze_addrsets(f) && rp__freeze_logins(f) && copy_settings(f) &&
         rp__check_safety(f) && rp__dump_build(f) == RP_OK &&
         rp__lint_build(f->b, f->p) == RP_OK;
    rp__free(&f->p->alloc, remote_ids);
    rp__free(&f->p->alloc, rule_ids);
    rp__free(&f->p->alloc, f->net_ids);
    rp__free(&f->p->alloc, f->deny_ids);
    if (!ok && f->st == RP_OK)
        f->st = RP_E_NOMEM;
    if (f->st == RP_E_NOMEM)
        rp__error_set(f->err, RP_E_NOMEM, NULL, 0, 0, 0, NULL, 0,
                      "out of memory");
    return f->st;
}

rp_status
rp_builder_build(rp_builder *b, rp_policy **out, rp_error *err)
{
    rp__freeze f;
    rp_status st;

    if (out != NULL)
        *out = NULL;
    if (b == NULL || out == NULL)
        return RP_E_ARG;
    if (b->failed != RP_OK) {
        rp__error_set(err, RP_E_STATE, b->file, 0, 0, 0, NULL, 0,
                      "an earlier builder call failed (%s)",
                      rp_strerror(b->failed));
        return RP_E_STATE;
    }
    memset(&f, 0, sizeof(f));
    f.b = b;
    f.err = err;
    f.p = rp__calloc(&b->alloc, 1, sizeof(*f.p));
    f.scratch = rp__malloc(&b->alloc, sizeof(*f.scratch));
    if (f.p == NULL || f.scratch == NULL) {
        rp__free(&b->alloc, f.p);
        rp__free(&b->alloc, f.scratch);
        rp__error_set(err, RP_E_NOMEM, NULL, 0, 0, 0, NULL, 0, "out of memory");
        return RP_E_NOMEM;
    }
    rp__scratch_init(f.scratch);
    f.p->alloc = b->alloc;
    f.p->opts = b->opts;
    atomic_init(&f.p->refs, 1);
    st = freeze_all(&f);
    rp__free(&b->alloc, f.scratch);
    if (st != RP_OK) {
        rp_policy_free(f.p);
        return st;
    }
    *out = f.p;
    return RP_OK;
}

/* ---- compile entry points ----------------------------------------------- */

static rp_status
compile_named(const char *text,
              size_t len,
              const rp_options *opts,
              const char *name,
              rp_policy **out,
              rp_error *err)
{
    rp_builder *b;
    rp_status st;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || (text == NULL && len != 0 && len != RP_NTS))
        return RP_E_ARG;
    if (text == NULL)
        len = 0;
    else if (len == RP_NTS)
        len = strlen(text);
    if ((st = rp__options_check(opts, err)) != RP_OK)
        return st;
    st = rp_builder_new(opts, &b);
    if (st != RP_OK) {
        rp__error_set(err, st, NULL, 0, 0, 0, NULL, 0, "%s", rp_strerror(st));
        return st;
    }
    if (len > b->opts.max_policy_bytes) {
        rp__error_set(err, RP_E_LIMIT, name, 0, 0, 0, NULL, 0,
                      "policy larger than %u bytes",
                      (unsigned)b->opts.max_policy_bytes);
        rp_builder_free(b);
        return RP_E_LIMIT;
    }
    st = rp__parse(b, &b->opts, name, text != NULL ? text : "", len, 0, err);
    if (st == RP_OK)
        st = rp_builder_build(b, out, err);
    rp_builder_free(b);
    return st;
}

rp_status
rp_policy_compile(const char *text,
                  size_t len,
                  const rp_options *opts,
                  rp_policy **out,
                  rp_error *err)
{
    return compile_named(text, len, opts, "<string>", out, err);
}

rp_status
rp__compile_text_file(const char *text,
                      size_t len,
                      const rp_options *merged,
                      const char *path,
                      rp_policy **out,
                      rp_error *err)
{
    rp_options o = *merged;
    char dir[4096];
    const char *slash;

    if (o.base_dir == NULL && (slash = strrchr(path, '/')) != NULL &&
        (size_t)(slash - path) < sizeof(dir)) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
        o.base_dir = slash == path ? "/" : dir;
    }
    return compile_named(text, len, &o, path, out, err);
}

rp_status
rp_policy_compile_file(const char *path,
                       const rp_options *opts,
                       rp_policy **out,
                       rp_error *err)
{
    rp_options o;
    rp__alloc a;
    char *text = NULL, why[160];
    size_t len = 0;
    rp_status st;

    if ((st = rp__options_enter(path, out, opts, &o, err)) != RP_OK)
        return st;
    rp__alloc_init(&a, o.allocator);
    st = rp__file_read(&a, path, o.max_policy_bytes, &text, &len, why,
                       sizeof(why));
    if (st != RP_OK) {
        rp__error_set(err, st, path, 0, 0, 0, NULL, 0, "cannot read: %s", why);
        return st;
    }
    st = rp__compile_text_file(text, len, &o, path, out, err);
    rp__free(&a, text);
    return st;
}

/* ---- listener introspection --------------------------------------------- */

size_t
rp_policy_listener_count(const rp_policy *policy)
{
    return policy != NULL ? policy->n_listeners : 0;
}

rp_status
rp_policy_listener(const rp_policy *policy,
                   size_t index,
                   rp_listener_info *info)
{
    const rp__listener *l;

    if (policy == NULL || info == NULL || index >= policy->n_listeners)
        return RP_E_ARG;
    l = &policy->listeners[index];
    memset(info, 0, sizeof(*info));
    info->name = l->name;
    info->file = rp__item_file(policy, l->item);
    info->line = rp__item_line(policy, l->item);
    info->n_binds = l->n_binds;
    info->require_auth = l->require_auth;
    info->bind_family = 4;
    for (uint32_t i = 0; i < l->n_binds; i++) {
        const rp__bind *bd = &l->binds[i];
        if (i == 0) {
            info->bind_port = bd->port;
            info->bind_family = bd->any == RP__BIND_ANY6    ? 6
                                : bd->any == RP__BIND_EXACT ? bd->ip.family
                                                            : 4;
        }
        if (bd->any == RP__BIND_EXACT && info->bind_ip[0] == '\0') {
            rp__ip_format(&bd->ip, info->bind_ip, sizeof(info->bind_ip));
            if (bd->port != 0)
                info->bind_port = bd->port;
        }
    }
    return RP_OK;
}
