/*
 * import_pfdomains.c - the Postfix importer's domains (mydestination,
 * virtual_mailbox_domains, virtual_alias_domains, relay_domains), their
 * recipient validation (local_recipient_maps, virtual_mailbox_maps,
 * virtual_alias_maps), mynetworks and the sender-login map.
 */
#include "import_postfix.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DOMAINS 4096
/* A local domain no mail is addressed to (RFC 2606), carrying the
 * validation of user@[own address] when myhostname is not local. */
#define SELF_PLACEHOLDER "self.invalid"

enum { D_LOCAL, D_RELAY };

typedef struct dom {
    char name[256];
    bool exact, sub; /* the domain itself, its subdomains */
    int kind;
    const char *param;
    bool validate;    /* recipient validation on */
    bool placeholder; /* stands for the server's own address literals */
    sbuf rcpts;       /* blank-separated recipients */
} dom;

typedef struct domset {
    dom *v;
    size_t n;
    bool lrm_ok; /* local_recipient_maps fully read */
    bool lrm_on; /* ... and non-empty */
    char **lrm;  /* its keys */
    size_t n_lrm;
    char **va; /* virtual_alias_maps keys */
    size_t n_va;
    bool va_ok;
} domset;

static void
lower(char *s)
{
    for (; *s != '\0'; s++)
        *s = (char)tolower((unsigned char)*s);
}

static dom *
find_dom(domset *d, const char *name)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->v[i].name, name) == 0)
            return &d->v[i];
    return NULL;
}

/* Record one domain word of @p param. */
static void
add_dom(import *im,
        domset *d,
        const char *param,
        const char *word,
        int kind,
        bool parent_matches)
{
    char name[256];
    bool sub_only = word[0] == '.';
    dom *x;

    snprintf(name, sizeof(name), "%s", sub_only ? word + 1 : word);
    lower(name);
    if (name[0] != '\0' && name[strlen(name) - 1] == '.')
        name[strlen(name) - 1] = '\0';
    if (name[0] == '\0' || strchr(name, '/') || strchr(name, '['))
        return;
    if ((x = find_dom(d, name)) != NULL && x->kind != kind) {
        imp_finding(im, param, "'%s' is also in %s: kept there", name,
                    x->param);
        return;
    }
    if (x == NULL) {
        if (d->n >= MAX_DOMAINS)
            return;
        d->v = realloc(d->v, (d->n + 1) * sizeof(dom));
        if (d->v == NULL)
            exit(EXIT_POLICY);
        x = &d->v[d->n++];
        memset(x, 0, sizeof(*x));
        snprintf(x->name, sizeof(x->name), "%s", name);
        x->kind = kind;
        x->param = param;
    }
    x->exact |= !sub_only;
    x->sub |= sub_only || parent_matches;
}

static bool
in_list(const char *list, const char *word)
{
    char **w;
    size_t n = pf_words(list, &w);
    bool found = false;

    for (size_t i = 0; i < n; i++)
        found |= strcmp(w[i], word) == 0;
    pf_words_free(w, n);
    return found;
}

/* The domains of one parameter: names, tables, files. */
static void
domain_param(import *im, pf_conf *c, domset *d, const char *param, int kind)
{
    bool parent = in_list(pf_get(c, "parent_domain_matches_subdomains"), param);
    char **w, **k, **v;
    size_t n = pf_words(pf_get(c, param), &w), nk;

    for (size_t i = 0; i < n; i++) {
        if (strchr(w[i], ':') != NULL) {
            if (pf_table(im, c, param, w[i], &k, &v, &nk)) {
                for (size_t j = 0; j < nk; j++)
                    add_dom(im, d, param, k[j], kind, parent);
                pf_words_free(k, nk);
                pf_words_free(v, nk);
            }
        } else if (w[i][0] == '/') {
            imp_finding(im, param,
                        "the file '%s' is not read: list its "
                        "domains in main.cf or a table",
                        w[i]);
        } else {
            add_dom(im, d, param, w[i], kind, parent);
        }
    }
    pf_words_free(w, n);
}

/* Read every table of a map list; false (with findings) when one cannot
 * be read or is not a plain table. */
static bool
map_keys(import *im, pf_conf *c, const char *param, char ***keys, size_t *nk)
{
    char **w, **k, **v;
    size_t n = pf_words(pf_get(c, param), &w), m;
    bool ok = true;

    *keys = NULL;
    *nk = 0;
    for (size_t i = 0; i < n; i++) {
        if (!pf_table(im, c, param, w[i], &k, &v, &m)) {
            ok = false;
            continue;
        }
        *keys = realloc(*keys, (*nk + m + 1) * sizeof(char *));
        if (*keys == NULL)
            exit(EXIT_POLICY);
        for (size_t j = 0; j < m; j++) {
            lower(k[j]);
            (*keys)[(*nk)++] = strdup(k[j]);
        }
        pf_words_free(k, m);
        pf_words_free(v, m);
    }
    pf_words_free(w, n);
    return ok;
}

/* Add the keys that name a mailbox of @p x ("u@dom"; "u" when
 * @p local_parts); an "@dom" key turns validation off (catch-all). */
static void
add_keys(dom *x, char **keys, size_t n, bool local_parts)
{
    size_t dl = strlen(x->name);

    for (size_t i = 0; i < n; i++) {
        const char *at = strrchr(keys[i], '@');
        if (at == NULL) {
            if (local_parts)
                sb_printf(&x->rcpts, " %s", keys[i]);
            continue;
        }
        if (strlen(at + 1) != dl || strcmp(at + 1, x->name) != 0)
            continue;
        if (at == keys[i])
            x->validate = false; /* "@domain": every address exists */
        else
            sb_printf(&x->rcpts, " %s", keys[i]);
    }
}

static void
validation(import *im, pf_conf *c, domset *d)
{
    char **vm = NULL;
    size_t n_vm = 0;
    bool vm_ok = map_keys(im, c, "virtual_mailbox_maps", &vm, &n_vm);
    bool on =
        strcasecmp(pf_get(c, "smtpd_reject_unlisted_recipient"), "no") != 0;

    d->va_ok = map_keys(im, c, "virtual_alias_maps", &d->va, &d->n_va);
    d->lrm_on = *pf_get(c, "local_recipient_maps") != '\0';
    d->lrm_ok = map_keys(im, c, "local_recipient_maps", &d->lrm, &d->n_lrm);
    for (size_t i = 0; i < d->n; i++) {
        dom *x = &d->v[i];
        bool mydest = strcmp(x->param, "mydestination") == 0;
        bool vmbox = strcmp(x->param, "virtual_mailbox_domains") == 0;
        if (x->kind != D_LOCAL || !on || !d->va_ok)
            continue;
        if ((mydest && (!d->lrm_on || !d->lrm_ok)) || (vmbox && !vm_ok))
            continue;
        x->validate = true;
        add_keys(x, d->va, d->n_va, false);
        if (mydest)
            add_keys(x, d->lrm, d->n_lrm, true);
        if (vmbox)
            add_keys(x, vm, n_vm, false);
    }
    if (!on)
        imp_note(im, "smtpd_reject_unlisted_recipient",
                 "'no': recipients are not validated");
    pf_words_free(vm, n_vm);
}

static void
emit_domain(import *im, const dom *x)
{
    const char *kind = x->kind == D_LOCAL ? "local" : "relay";
    char pat[600];

    if (x->exact && x->sub)
        snprintf(pat, sizeof(pat), ".%s", x->name);
    else if (x->exact)
        snprintf(pat, sizeof(pat), "%s", x->name);
    else {
        size_t j = 0;
        pat[j++] = '/';
        for (const char *p = "\\."; *p; p++)
            pat[j++] = *p;
        for (const char *p = x->name; *p && j + 4 < sizeof(pat); p++) {
            if (*p == '.')
                pat[j++] = '\\';
            pat[j++] = *p;
        }
        snprintf(pat + j, sizeof(pat) - j, "$/");
    }
    sb_printf(&im->policy, "# %s%s\n",
              x->placeholder ? "placeholder for the server's own address "
                               "literals (self-domain below)"
                             : x->param,
              x->validate ? " (recipients: the keys of its maps)" : "");
    if (!x->validate) {
        sb_printf(&im->policy, "domain %s %s\n", pat, kind);
        return;
    }
    {
        char **w;
        size_t n = pf_words(x->rcpts.s ? x->rcpts.s : "postmaster", &w);
        char lead[700];
        snprintf(lead, sizeof(lead), "domain %s %s recipients", pat, kind);
        if (n == 0)
            n = pf_words("postmaster", &w);
        imp_words(im, lead, (const char *const *)w, n);
        pf_words_free(w, n);
    }
}

/* ---- self addresses and unqualified recipients ------------------------- */

/* Does some service refuse unqualified recipients (reject_non_fqdn_
 * recipient)?  Then the policy gets no qualify-domain and refuses them
 * too; on only some services, that is a finding. */
static bool
non_fqdn_refused(import *im, pf_conf *c)
{
    static const char *const lists[] = {
        "smtpd_client_restrictions", "smtpd_helo_restrictions",
        "smtpd_sender_restrictions", "smtpd_relay_restrictions",
        "smtpd_recipient_restrictions"};
    size_t with = 0;

    for (size_t i = 0; i < c->n_svc; i++) {
        bool found = false;
        for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
            found |= in_list(pf_svc_get(c, &c->svc[i], lists[l]),
                             "reject_non_fqdn_recipient");
        with += found;
    }
    if (with > 0 && with < c->n_svc)
        imp_finding(im, "reject_non_fqdn_recipient",
                    "on only some services: the policy refuses unqualified "
                    "recipients on every listener");
    return with > 0;
}

static void
self_and_qualify(import *im, pf_conf *c, domset *d)
{
    const char *host = pf_get(c, "myhostname");
    const char *proxy = pf_get(c, "proxy_interfaces");
    dom *x = find_dom(d, host);

    if (x == NULL || x->kind != D_LOCAL || !x->exact)
        x = find_dom(d, SELF_PLACEHOLDER);
    if (x != NULL)
        sb_printf(&im->policy,
                  "# Postfix delivers user@[its own address] locally, "
                  "validated like\n# the mydestination domains\n"
                  "self-domain %s\n",
                  x->name);
    if (*proxy != '\0')
        sb_printf(&im->policy, "# proxy_interfaces\nself %s\n", proxy);
    if (strcasecmp(pf_get(c, "append_at_myorigin"), "yes") == 0 &&
        *pf_get(c, "myorigin") != '\0' && !non_fqdn_refused(im, c))
        sb_printf(&im->policy,
                  "# myorigin (append_at_myorigin = yes): an "
                  "unqualified recipient is in this domain\n"
                  "qualify-domain %s\n",
                  pf_get(c, "myorigin"));
}

void
pf_domains(import *im, pf_conf *c)
{
    domset d;
    dom *x;

    memset(&d, 0, sizeof(d));
    domain_param(im, c, &d, "mydestination", D_LOCAL);
    domain_param(im, c, &d, "virtual_alias_domains", D_LOCAL);
    domain_param(im, c, &d, "virtual_mailbox_domains", D_LOCAL);
    domain_param(im, c, &d, "relay_domains", D_RELAY);
    if (*pf_get(c, "relay_recipient_maps") != '\0')
        imp_finding(im, "relay_recipient_maps",
                    "recipients of relay "
                    "domains are not validated by the policy");
    if ((x = find_dom(&d, pf_get(c, "myhostname"))) == NULL ||
        x->kind != D_LOCAL || !x->exact) {
        add_dom(im, &d, "mydestination", SELF_PLACEHOLDER, D_LOCAL, false);
        if ((x = find_dom(&d, SELF_PLACEHOLDER)) != NULL)
            x->placeholder = true;
    }
    validation(im, c, &d);
    if (*pf_get(c, "recipient_delimiter") != '\0') {
        bool any = false;
        for (size_t i = 0; i < d.n; i++)
            any |= d.v[i].validate;
        if (any)
            imp_finding(im, "recipient_delimiter",
                        "'%s': an address with "
                        "an extension (user+ext) must be listed whole",
                        pf_get(c, "recipient_delimiter"));
    }
    sb_add(&im->policy, "\n# ---- domains ----\n");
    for (size_t i = 0; i < d.n; i++) {
        emit_domain(im, &d.v[i]);
        c->have_local |= d.v[i].kind == D_LOCAL;
        c->have_relay |= d.v[i].kind == D_RELAY;
        sb_free(&d.v[i].rcpts);
    }
    self_and_qualify(im, c, &d);
    free(d.v);
    pf_words_free(d.lrm, d.n_lrm);
    pf_words_free(d.va, d.n_va);
}

/* ---- mynetworks --------------------------------------------------------- */

void
pf_mynetworks(import *im, pf_conf *c)
{
    char **w;
    size_t n = pf_words(pf_get(c, "mynetworks"), &w);
    sbuf list = {0};

    for (size_t i = 0; i < n; i++) {
        pfx p;
        bool host_bits = false;
        if (!pfx_parse(w[i], &p, &host_bits)) {
            imp_finding(im, "mynetworks",
                        "'%s' is not a network (hostnames, "
                        "files and tables are not translated)",
                        w[i]);
            continue;
        }
        if (host_bits)
            imp_note(im, "mynetworks",
                     "'%s' has host bits set: read as its "
                     "network, as Postfix does",
                     w[i]);
        pset_add(&c->mynetworks, &p);
    }
    pf_words_free(w, n);
    pset_norm(&c->mynetworks);
    if (c->mynetworks.n == 0)
        return;
    pset_write(&list, &c->mynetworks);
    sb_printf(&im->policy, "# mynetworks%s (mynetworks_style = %s)\n",
              strstr(c->set.s ? c->set.s : "", "\nmynetworks =") ||
                      strncmp(c->set.s ? c->set.s : "", "mynetworks =", 12) == 0
                  ? ""
                  : ", computed by Postfix",
              pf_get(c, "mynetworks_style"));
    {
        char **lw;
        size_t ln = pf_words(list.s, &lw);
        imp_words(im, "network mynetworks", (const char *const *)lw, ln);
        pf_words_free(lw, ln);
    }
    sb_free(&list);
}

/* ---- sender-login map --------------------------------------------------- */

void
pf_sender_login(import *im, pf_conf *c)
{
    char **w, **k, **v;
    size_t n, nk;

    if (!c->login_map_used)
        return;
    if (!c->login_map_everywhere)
        imp_finding(im, "reject_sender_login_mismatch",
                    "not on every smtpd "
                    "service (or after a permit): the policy's sender-login "
                    "map applies to every listener and client");
    n = pf_words(pf_get(c, "smtpd_sender_login_maps"), &w);
    sb_add(&im->policy, "\n# smtpd_sender_login_maps "
                        "(reject_sender_login_mismatch)\n");
    for (size_t i = 0; i < n; i++) {
        if (!pf_table(im, c, "smtpd_sender_login_maps", w[i], &k, &v, &nk))
            continue;
        for (size_t j = 0; j < nk; j++) {
            char **users;
            size_t nu = pf_words(v[j], &users);
            if (strchr(k[j], '@') == NULL) {
                imp_finding(im, "smtpd_sender_login_maps",
                            "key '%s' is not "
                            "an address or @domain",
                            k[j]);
                nu = 0;
            }
            for (size_t u = 0; u < nu; u++)
                sb_printf(&im->policy, "sender-login %s %s\n", users[u], k[j]);
            pf_words_free(users, nu);
        }
        pf_words_free(k, nk);
        pf_words_free(v, nk);
    }
    pf_words_free(w, n);
}
