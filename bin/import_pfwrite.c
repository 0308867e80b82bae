/*
 * import_pfwrite.c - the Postfix importer writes what the restriction
 * lists allow (import_pfrules.c) as listeners: `anonymous`, `network
 * mynetworks`, named networks, `authenticated`, denies of the few networks
 * refused, `require auth`, and `deny client` or `remote` for the clients
 * every service refuses.
 */
#include "import_postfix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing the listeners ---------------------------------------------- */

typedef struct grant {
    char who[200];
    char perms[64];
    char why[600];
    bool deny;
} grant;

typedef struct block {
    sbuf pre;  /* top-level network statements */
    sbuf body; /* inside the listener */
    grant g[16];
    size_t n;
} block;

static void
add_grant(
    block *b, bool deny, const char *who, const char *perm, const char *why)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->g[i].deny == deny && strcmp(b->g[i].who, who) == 0) {
            size_t l = strlen(b->g[i].perms);
            snprintf(b->g[i].perms + l, sizeof(b->g[i].perms) - l, " %s", perm);
            if (why && *why && !strstr(b->g[i].why, why)) {
                l = strlen(b->g[i].why);
                snprintf(b->g[i].why + l, sizeof(b->g[i].why) - l, "; %s", why);
            }
            return;
        }
    if (b->n >= sizeof(b->g) / sizeof(b->g[0]))
        return;
    b->g[b->n].deny = deny;
    snprintf(b->g[b->n].who, sizeof(b->g[b->n].who), "%s", who);
    snprintf(b->g[b->n].perms, sizeof(b->g[b->n].perms), "%s", perm);
    snprintf(b->g[b->n].why, sizeof(b->g[b->n].why), "%s", why ? why : "");
    b->n++;
}

/* The principal for a set of unauthenticated clients ("" for none). */
static void
principal(pf_conf *c,
          const pf_service *s,
          const pset *set,
          const pset *dc,
          const char *tag,
          block *b,
          char *out,
          size_t size)
{
    pset u = {0}, m = {0};

    out[0] = '\0';
    pset_union(&u, set, dc);
    pset_minus(&m, &c->mynetworks, dc);
    if (pset_is_all(set) || (pset_is_all(&u) && strcmp(tag, "relay") != 0))
        snprintf(out, size, "anonymous");
    else if (set->n > 0 && pset_equal(set, &m))
        snprintf(out, size, "network mynetworks");
    else if (set->n > 0) {
        sbuf w = {0};
        char **words;
        size_t n;
        char lead[300];
        pset_write(&w, set);
        n = pf_words(w.s, &words);
        sb_printf(&b->pre, "# the clients service '%s' lets %s\n", s->name,
                  tag);
        snprintf(lead, sizeof(lead), "network %s-%s", s->lname, tag);
        {
            sbuf save = b->body;
import tmp = {.policy = b->pre };
            imp_words(&tmp, lead, (const char *const *)words, n);
            b->pre = tmp.policy;
            b->body = save;
        }
        snprintf(out, size, "network %s-%s", s->lname, tag);
        pf_words_free(words, n);
        sb_free(&w);
    }
    pset_free(&u);
    pset_free(&m);
}

/* When a service grants a permission to everyone but a few networks,
 * refused whether logged in or not, write `allow anonymous` and a `deny`
 * of those networks.  True when it did. */
static bool
few_refused(pf_conf *c,
            const pf_service *s,
            const pset *u,
            const pset *a,
            const pset *dc,
            const char *perm,
            const char *why,
            block *b)
{
    pset all = {0}, t = {0}, comp = {0}, both = {0};
    char who[200], tag[64];
    bool done = false;

    pset_all(&all);
    pset_minus(&t, &all, u);
    pset_minus(&comp, &t, dc);
    pset_inter(&both, &comp, a);
    if (comp.n > 0 && comp.n < u->n && both.n == 0 &&
        strcmp(perm, "relay") != 0) {
        snprintf(tag, sizeof(tag), "no-%s", perm);
        add_grant(b, false, "anonymous", perm, why);
        principal(c, s, &comp, dc, tag, b, who, sizeof(who));
        add_grant(b, true, who, perm, "refused these clients");
        done = true;
    }
    pset_free(&all);
    pset_free(&t);
    pset_free(&comp);
    pset_free(&both);
    return done;
}

/* Grants of one permission (class @p k) on one service. */
static void
grant_perm(import *im,
           pf_conf *c,
           const pf_service *s,
           const verdicts *v,
           const pset *dc,
           int k,
           block *b)
{
    const char *perm = k == K_LOCAL ? "submit" : "relay";
    pset all = {0}, u = {0}, a = {0}, t = {0};
    char who[200], tag[64];

    pset_all(&all);
    pset_minus(&t, &all, &v->rej[0][k]);
    pset_minus(&u, &t, dc);
    pset_minus(&t, &all, &v->rej[1][k]);
    pset_minus(&a, &t, dc);
    snprintf(tag, sizeof(tag), "%s", perm);
    if (few_refused(c, s, &u, &a, dc, perm, v->why[0][k].s, b)) {
        pset_free(&all);
        pset_free(&u);
        pset_free(&a);
        pset_free(&t);
        return;
    }
    principal(c, s, &u, dc, tag, b, who, sizeof(who));
    if (who[0] != '\0')
        add_grant(b, false, who, perm, v->why[0][k].s);
    if (v->sasl && !pset_equal(&a, &u) && strcmp(who, "anonymous") != 0) {
        pset_minus(&t, &u, &a);
        if (t.n > 0) {
            char msg[300];
            snprintf(msg, sizeof(msg),
                     "service '%s': logged-in clients are "
                     "refused %s where others are not",
                     s->name, perm);
            finding_once(im, "smtpd_sasl_auth_enable", msg);
        } else {
            pset rest = {0};
            add_grant(b, false, "authenticated", perm, v->why[1][k].s);
            pset_minus(&t, &all, &a);
            pset_minus(&rest, &t, dc);
            snprintf(tag, sizeof(tag), "no-%s", perm);
            principal(c, s, &rest, dc, tag, b, who, sizeof(who));
            if (who[0] != '\0' && strcmp(who, "anonymous") != 0)
                add_grant(b, true, who, perm, "refused even after login");
            pset_free(&rest);
        }
    }
    pset_free(&all);
    pset_free(&u);
    pset_free(&a);
    pset_free(&t);
}

/* The unauthenticated clients allowed class @p k, without @p dc. */
static bool
nobody(const verdicts *v, const pset *dc, int a, int k)
{
    pset all = {0}, t = {0}, u = {0};
    bool none;

    pset_all(&all);
    pset_minus(&t, &all, &v->rej[a][k]);
    pset_minus(&u, &t, dc);
    none = u.n == 0;
    pset_free(&all);
    pset_free(&t);
    pset_free(&u);
    return none;
}

static bool
everybody(const verdicts *v, const pset *dc, int a, int k)
{
    pset t = {0};
    bool all;

    pset_minus(&t, &v->rej[a][k], dc);
    all = t.n == 0;
    pset_free(&t);
    return all;
}

static void
bind_words(import *im, pf_conf *c, const pf_service *s, sbuf *out)
{
    const char *ifs = pf_get(c, "inet_interfaces");
    const char *proto = pf_get(c, "inet_protocols");
    bool v4 = strstr(proto, "all") || strstr(proto, "ipv4");
    bool v6 = strstr(proto, "all") || strstr(proto, "ipv6");
    char **w;
    size_t n;

    if (s->host[0] != '\0') {
        sb_printf(out, strchr(s->host, ':') ? " [%s]:%u" : " %s:%u", s->host,
                  s->port);
        return;
    }
    if (strcmp(ifs, "all") == 0) {
        sb_printf(out, "%s%s", v4 ? " 0.0.0.0:" : "", "");
        if (v4)
            sb_printf(out, "%u", s->port);
        if (v6)
            sb_printf(out, " [::]:%u", s->port);
        return;
    }
    n = pf_words(strcmp(ifs, "loopback-only") == 0 ? "127.0.0.1 ::1" : ifs, &w);
    for (size_t i = 0; i < n; i++) {
        pfx p;
        const char *a = strcmp(w[i], "localhost") == 0 ? "127.0.0.1" : w[i];
        if (!pfx_parse(a, &p, NULL)) {
            finding_once(im, "inet_interfaces",
                         "host names other than localhost are not "
                         "translated");
            continue;
        }
        if ((p.fam == 4 && v4) || (p.fam == 6 && v6))
            sb_printf(out, p.fam == 6 ? " [%s]:%u" : " %s:%u", a, s->port);
    }
    pf_words_free(w, n);
}

static void
relay_domains_check(import *im,
                    pf_conf *c,
                    const pf_service *s,
                    const verdicts *v,
                    const pset *dc,
                    bool req_auth)
{
    bool unauth_ok = everybody(v, dc, 0, K_RELAYDOM) ||
                     (req_auth && nobody(v, dc, 0, K_RELAYDOM));
    bool auth_ok = !v->sasl || everybody(v, dc, 1, K_RELAYDOM);
    char msg[300];

    if (!c->have_relay || (unauth_ok && auth_ok))
        return;
    snprintf(msg, sizeof(msg),
             "service '%s' refuses relay_domains "
             "recipients to some clients; the policy accepts them from "
             "every client it serves",
             s->name);
    finding_once(im, "relay_domains", msg);
}

static void
write_listener(import *im,
               pf_conf *c,
               const pf_service *s,
               const verdicts *v,
               const pset *dc,
               const char *remote)
{
    block b;
    sbuf binds = {0};
    bool req = nobody(v, dc, 0, K_EXT) &&
               (!c->have_local || nobody(v, dc, 0, K_LOCAL)) &&
               (!c->have_relay || nobody(v, dc, 0, K_RELAYDOM));

    memset(&b, 0, sizeof(b));
    grant_perm(im, c, s, v, dc, K_LOCAL, &b);
    grant_perm(im, c, s, v, dc, K_EXT, &b);
    relay_domains_check(im, c, s, v, dc, req);
    if (!req)
        add_grant(&b, false, "anonymous", "local-sender",
                  "Postfix does not refuse outside clients a local sender");
    bind_words(im, c, s, &binds);
    sb_addn(&im->policy, b.pre.s ? b.pre.s : "", b.pre.n);
    sb_printf(&im->policy,
              "# master.cf service '%s' (inet_interfaces = %s, "
              "smtpd_sasl_auth_enable = %s)\nlistener %s {\n",
              s->name, pf_get(c, "inet_interfaces"), v->sasl ? "yes" : "no",
              s->lname);
    sb_printf(&im->policy, "    bind%s\n", binds.s ? binds.s : " *");
    if (remote != NULL)
        sb_printf(&im->policy,
                  "    # the only clients any service accepts\n"
                  "    remote %s\n",
                  remote);
    if (req)
        sb_add(&im->policy, "    # nothing is accepted before login\n"
                            "    require auth\n");
    for (size_t i = 0; i < b.n; i++)
        sb_printf(&im->policy, "    # %s\n    %s %s %s\n",
                  b.g[i].why[0] ? b.g[i].why : "",
                  b.g[i].deny ? "deny" : "allow", b.g[i].who, b.g[i].perms);
    sb_add(&im->policy, "}\n\n");
    sb_free(&binds);
    sb_free(&b.pre);
    sb_free(&b.body);
}

/* When every service refuses all but a few networks, those networks are
 * the listeners' `remote` (refused clients find no listener: 554), which
 * reads better than a `deny client` of the rest of the address space.
 * Returns the network name, or NULL to write `deny client`. */
static const char *
served_clients(import *im, pf_conf *c, const pset *dc)
{
    pset all = {0}, served = {0};
    const char *name = NULL;

    pset_all(&all);
    pset_minus(&served, &all, dc);
    if (served.n > 0 && served.n < dc->n) {
        if (pset_equal(&served, &c->mynetworks)) {
            name = "mynetworks";
        } else {
            sbuf w = {0};
            char **words;
            size_t n;
            pset_write(&w, &served);
            n = pf_words(w.s, &words);
            sb_add(&im->policy, "# the only clients the restriction lists "
                                "of every service accept\n");
            imp_words(im, "network served-clients", (const char *const *)words,
                      n);
            pf_words_free(words, n);
            sb_free(&w);
            name = "served-clients";
        }
    }
    pset_free(&all);
    pset_free(&served);
    return name;
}

void
pf_listeners(import *im, pf_conf *c)
{
    verdicts *v = calloc(c->n_svc + 1, sizeof(verdicts));
    pset dc = {0}, t = {0};
    const char *remote;

    if (v == NULL)
        exit(EXIT_POLICY);
    c->login_map_everywhere = true;
    pset_all(&dc);
    for (size_t i = 0; i < c->n_svc; i++) {
        service_verdicts(im, c, &c->svc[i], &v[i]);
        for (int a = 0; a < 2; a++)
            for (int k = 0; k < K_N; k++) {
                pset_inter(&t, &dc, &v[i].rej[a][k]);
                pset_copy(&dc, &t);
            }
    }
    if (c->n_svc == 0)
        dc.n = 0;
    sb_add(&im->policy, "\n# ---- smtpd services (master.cf) ----\n");
    remote = served_clients(im, c, &dc);
    for (size_t i = 0; i < c->n_svc; i++)
        write_listener(im, c, &c->svc[i], &v[i], &dc, remote);
    if (dc.n > 0 && remote == NULL) {
        sbuf w = {0};
        char **words;
        size_t n;
        pset_write(&w, &dc);
        n = pf_words(w.s, &words);
        sb_add(&im->policy, "# refused by the restriction lists of every "
                            "smtpd service (check_client_access)\n");
        imp_words(im, "deny client", (const char *const *)words, n);
        pf_words_free(words, n);
        sb_free(&w);
    }
    for (size_t i = 0; i < c->n_svc; i++)
        verdicts_free(&v[i]);
    free(v);
    pset_free(&dc);
    pset_free(&t);
}
