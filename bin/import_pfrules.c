/*
 * import_pfrules.c - Postfix restriction lists become listeners.
 *
 * For every smtpd service, the five lists Postfix evaluates at RCPT TO
 * (smtpd_client, _helo, _sender, _relay and _recipient_restrictions, each
 * with the service's -o overrides) are walked in order, for an
 * unauthenticated and an authenticated client and for each class of
 * recipient (local domain, relay domain, elsewhere), with sets of client
 * networks: what each restriction permits or rejects among the clients
 * still undecided in that list.  A client is refused when any list
 * rejects it.  The sets that remain are written as grants: `anonymous`,
 * `network mynetworks`, a named network, `authenticated`.
 */
#include "import_postfix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { ACT_PERMIT, ACT_REJECT };
#define K_ALL 7u

/* One step of a restriction list. */
typedef struct op {
    pset set;         /* the clients it applies to */
    int act;          /* ACT_* */
    bool need_auth;   /* only for logged-in clients */
    unsigned classes; /* 1 << K_* it applies to */
    char label[400];  /* "param: restriction" */
} op;

typedef struct prog {
    op *v;
    size_t n;
} prog;

static const char *const lists[] = {
    "smtpd_client_restrictions", "smtpd_helo_restrictions",
    "smtpd_sender_restrictions", "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions"};

/* Restrictions without an effect on which recipients are accepted, or
 * whose effect the policy has on its own. */
static const char *const no_effect[] = {
    "reject_unauth_pipelining", "reject_unlisted_recipient",
    "reject_non_fqdn_recipient", "reject_sender_login_mismatch", NULL};

/* Restrictions that take one argument. */
static bool
takes_arg(const char *w)
{
    static const char *const one[] = {"reject_rbl_client",
                                      "reject_rhsbl_client",
                                      "reject_rhsbl_sender",
                                      "reject_rhsbl_helo",
                                      "reject_rhsbl_recipient",
                                      "reject_rhsbl_reverse_client",
                                      "permit_dnswl_client",
                                      "permit_rhswl_client",
                                      "sleep",
                                      NULL};

    if (strncmp(w, "check_", 6) == 0)
        return true;
    for (size_t i = 0; one[i] != NULL; i++)
        if (strcmp(w, one[i]) == 0)
            return true;
    return false;
}

static op *
new_op(prog *p, const char *label, int act, unsigned classes)
{
    op *o;

    p->v = realloc(p->v, (p->n + 1) * sizeof(op));
    if (p->v == NULL)
        exit(EXIT_POLICY);
    o = &p->v[p->n++];
    memset(o, 0, sizeof(*o));
    o->act = act;
    o->classes = classes;
    snprintf(o->label, sizeof(o->label), "%s", label);
    pset_all(&o->set);
    return o;
}

/* Report once, whatever the number of services sharing the setting. */
void
finding_once(import *im, const char *param, const char *msg)
{
    char line[600];

    /* A key to look for, cut to fit: a long message still matches. */
    snprintf(line, sizeof(line), "%.200s: %.380s\n", param, msg);
    if (im->findings.s == NULL || strstr(im->findings.s, line) == NULL)
        imp_finding(im, param, "%s", msg);
}

static void
note_once(import *im, const char *param, const char *msg)
{
    char line[600];

    /* A key to look for, cut to fit: a long message still matches. */
    snprintf(line, sizeof(line), "%.200s: %.380s\n", param, msg);
    if (im->notes.s == NULL || strstr(im->notes.s, line) == NULL)
        imp_note(im, param, "%s", msg);
}

/* ---- check_client_access tables ----------------------------------------- */

/* The action of a table value: ACT_*, -1 for DUNNO, -2 for the rest. */
static int
table_action(const char *v)
{
    size_t n = strcspn(v, " \t");

    if ((n == 2 && strncasecmp(v, "OK", 2) == 0) ||
        (n == 6 && strncasecmp(v, "PERMIT", 6) == 0))
        return ACT_PERMIT;
    if ((n == 6 && strncasecmp(v, "REJECT", 6) == 0) ||
        (n == 3 && v[0] == '5' && strspn(v, "0123456789") == 3))
        return ACT_REJECT;
    if (n == 5 && strncasecmp(v, "DUNNO", 5) == 0)
        return -1;
    if (n > 0 && strspn(v, "0123456789") == n && v[0] != '4')
        return ACT_PERMIT; /* an all-numerical value means OK */
    return -2;
}

/* A client-access key: an address or a partial address (octets, or
 * IPv6 16-bit groups) as a prefix. */
static bool
key_prefix(const char *k, bool partial, pfx *p)
{
    char tmp[80];
    size_t dots = 0, colons = 0;

    if (pfx_parse(k, p, NULL))
        return strchr(k, '/') == NULL || !partial;
    if (!partial || strlen(k) > 40)
        return false;
    for (const char *s = k; *s; s++) {
        dots += *s == '.';
        colons += *s == ':';
    }
    if (colons == 0 && dots < 3 && strspn(k, "0123456789.") == strlen(k)) {
        snprintf(tmp, sizeof(tmp), "%s%s/%zu", k,
                 dots == 0   ? ".0.0.0"
                 : dots == 1 ? ".0.0"
                             : ".0",
                 (dots + 1) * 8);
        return pfx_parse(tmp, p, NULL);
    }
    if (colons > 0 && colons < 7) {
        snprintf(tmp, sizeof(tmp), "%s::/%zu", k, (colons + 1) * 16);
        return pfx_parse(tmp, p, NULL);
    }
    return false;
}

typedef struct entry {
    pfx p;
    int act;
} entry;

static int
by_specificity(const void *x, const void *y)
{
    return ((const entry *)y)->p.len - ((const entry *)x)->p.len;
}

/* The entries of a cidr: table, in file order. */
static bool
cidr_entries(
    import *im, const char *param, const char *path, entry **e, size_t *n)
{
    FILE *f = fopen(path, "r");
    char line[1024];

    *n = 0;
    *e = NULL;
    if (f == NULL) {
        finding_once(im, param, "cannot read the cidr: table");
        return false;
    }
    while (fgets(line, sizeof(line), f) != NULL && *n < 100000) {
        char key[256], *v = line;
        pfx p;
        int act;
        v += strspn(v, " \t");
        if (*v == '#' || *v == '\n' || *v == '\0' || line[0] == ' ' ||
            line[0] == '\t')
            continue;
        if (sscanf(v, "%255s", key) != 1)
            continue;
        v += strlen(key);
        v += strspn(v, " \t");
        v[strcspn(v, "\r\n")] = '\0';
        act = table_action(v);
        if (key[0] == '!' || strcasecmp(key, "if") == 0 ||
            !pfx_parse(key, &p, NULL) || act == -2) {
            char msg[400];
            snprintf(msg, sizeof(msg),
                     "%s: the entry '%s %s' is not "
                     "translated",
                     path, key, v);
            finding_once(im, param, msg);
            continue;
        }
        if (act < 0)
            continue;
        *e = realloc(*e, (*n + 1) * sizeof(entry));
        if (*e == NULL)
            exit(EXIT_POLICY);
        (*e)[(*n)++] = (entry){p, act};
    }
    fclose(f);
    return true;
}

/* The entries of a hash-like table, most specific first (Postfix looks
 * up the address, then ever shorter parts of it). */
static bool
keyed_entries(import *im,
              pf_conf *c,
              const char *param,
              const char *table,
              entry **e,
              size_t *n)
{
    char **k, **v;
    size_t nk;

    *n = 0;
    *e = NULL;
    if (!pf_table(im, c, param, table, &k, &v, &nk))
        return false;
    *e = calloc(nk + 1, sizeof(entry));
    if (*e == NULL)
        exit(EXIT_POLICY);
    for (size_t i = 0; i < nk; i++) {
        pfx p;
        int act = table_action(v[i]);
        if (!key_prefix(k[i], true, &p) || act == -2) {
            char msg[400];
            snprintf(msg, sizeof(msg),
                     "%s: the entry '%s %s' is not "
                     "translated (client names and these actions are not)",
                     table, k[i], v[i]);
            finding_once(im, param, msg);
            continue;
        }
        if (act >= 0)
            (*e)[(*n)++] = (entry){p, act};
    }
    pf_words_free(k, nk);
    pf_words_free(v, nk);
    qsort(*e, *n, sizeof(entry), by_specificity);
    return true;
}

static void
client_access(
    import *im, pf_conf *c, prog *p, const char *param, const char *table)
{
    entry *e = NULL;
    size_t n = 0;
    char label[400];
    bool ok = strncmp(table, "cidr:", 5) == 0
                  ? cidr_entries(im, param, table + 5, &e, &n)
                  : keyed_entries(im, c, param, table, &e, &n);

    snprintf(label, sizeof(label), "%s: check_client_access %s", param, table);
    for (size_t i = 0; ok && i < n; i++) {
        op *o = new_op(p, label, e[i].act, K_ALL);
        o->set.n = 0;
        pset_add(&o->set, &e[i].p);
    }
    free(e);
}

/* ---- sender and recipient access tables --------------------------------- */

/* Remember a check_sender_access / check_recipient_access table: it
 * becomes a global deny list when every service checks it before any
 * permit (pf_access_denies). */
static void
access_table(pf_conf *c,
             const prog *p,
             const char *param,
             const char *kind,
             const char *table)
{
    struct pf_access *a = NULL;
    bool first = true;

    for (size_t i = 0; i < p->n; i++)
        first &= p->v[i].act != ACT_PERMIT;
    for (size_t i = 0; i < c->n_access && a == NULL; i++)
        if (strcmp(c->access[i].table, table) == 0 &&
            strcmp(c->access[i].kind, kind) == 0)
            a = &c->access[i];
    if (a == NULL) {
        if (c->n_access >= sizeof(c->access) / sizeof(c->access[0]))
            return;
        a = &c->access[c->n_access++];
        memset(a, 0, sizeof(*a));
        snprintf(a->kind, sizeof(a->kind), "%s", kind);
        snprintf(a->table, sizeof(a->table), "%s", table);
        snprintf(a->param, sizeof(a->param), "%.*s", (int)strcspn(param, " "),
                 param);
    }
    a->seen++;
    a->first += first;
}

/* ---- one restriction list ----------------------------------------------- */

static void
untranslated(import *im, const char *param, const char *w, const char *arg)
{
    char msg[400];

    snprintf(msg, sizeof(msg), "'%s%s%s' is not translated (%s)", w,
             arg ? " " : "", arg ? arg : "",
             strncmp(w, "check_policy", 12) == 0 ? "a policy service"
             : strstr(w, "rbl") || strstr(w, "dnswl") || strstr(w, "rhswl")
                 ? "a DNS list"
             : strstr(w, "unknown") || strstr(w, "_mx_") || strstr(w, "_ns_")
                 ? "needs DNS"
                 : "not supported");
    finding_once(im, param, msg);
}

/* Add the ops of one restriction word (and its argument). */
static void
one_restriction(import *im,
                pf_conf *c,
                const pf_service *s,
                prog *p,
                const char *param,
                char **w,
                size_t n,
                size_t *i)
{
    const char *r = w[*i], *arg = NULL;
    char label[400];

    if (takes_arg(r) && *i + 1 < n)
        arg = w[++*i];
    snprintf(label, sizeof(label), "%s: %s", param, r);
    for (size_t k = 0; no_effect[k] != NULL; k++)
        if (strcmp(r, no_effect[k]) == 0)
            return;
    if (strcmp(r, "permit_mynetworks") == 0)
        pset_copy(&new_op(p, label, ACT_PERMIT, K_ALL)->set, &c->mynetworks);
    else if (strcmp(r, "permit_sasl_authenticated") == 0)
        new_op(p, label, ACT_PERMIT, K_ALL)->need_auth = true;
    else if (strcmp(r, "reject_unauth_destination") == 0)
        new_op(p, label, ACT_REJECT, 1u << K_EXT);
    else if (strcmp(r, "defer_unauth_destination") == 0) {
        new_op(p, label, ACT_REJECT, 1u << K_EXT);
        note_once(im, param,
                  "defer_unauth_destination (4xx) is imported as "
                  "a permanent refusal of relaying (5xx)");
    } else if (strcmp(r, "permit_auth_destination") == 0)
        new_op(p, label, ACT_PERMIT, (1u << K_LOCAL) | (1u << K_RELAYDOM));
    else if (strcmp(r, "permit") == 0)
        new_op(p, label, ACT_PERMIT, K_ALL);
    else if (strcmp(r, "reject") == 0)
        new_op(p, label, ACT_REJECT, K_ALL);
    else if (strcmp(r, "check_client_access") == 0 && arg != NULL)
        client_access(im, c, p, param, arg);
    else if ((strcmp(r, "check_sender_access") == 0 ||
              strcmp(r, "check_recipient_access") == 0) &&
             arg != NULL)
        access_table(c, p, param, r[6] == 's' ? "sender" : "recipient", arg);
    else if (strcmp(r, "warn_if_reject") == 0) {
        if (*i + 1 >= n || strncmp(w[*i + 1], "permit", 6) == 0)
            return; /* a permit after it still permits */
        ++*i;       /* the next restriction only logs what it refuses */
        if (takes_arg(w[*i]) && *i + 1 < n)
            ++*i;
    } else
        untranslated(im, param, r, arg);
    (void)s;
}

/* The name a finding uses for a service's setting. */
static void
param_name(const pf_service *s, const char *param, char *out, size_t size)
{
    for (size_t i = 0; i < s->n_ov; i++)
        if (strcmp(s->ov[i].name, param) == 0) {
            snprintf(out, size, "%s (master.cf %s -o)", param, s->name);
            return;
        }
    snprintf(out, size, "%s", param);
}

/* Walk @p p for auth state @p a and class @p k; add its refusals. */
static void
walk(const prog *p, int a, int k, verdicts *v)
{
    pset und = {0}, rej = {0}, newly = {0}, tmp = {0};

    pset_all(&und);
    for (size_t i = 0; i < p->n; i++) {
        const op *o = &p->v[i];
        if ((o->need_auth && !a) || !(o->classes & (1u << k)))
            continue;
        pset_inter(&newly, &und, &o->set);
        if (newly.n == 0)
            continue;
        if (o->act == ACT_REJECT) {
            pset_union(&tmp, &rej, &newly);
            pset_copy(&rej, &tmp);
        } else if (v->why[a][k].s == NULL ||
                   strstr(v->why[a][k].s, o->label) == NULL) {
            sb_printf(&v->why[a][k], "%s%s", v->why[a][k].n ? ", " : "",
                      o->label);
        }
        pset_minus(&tmp, &und, &newly);
        pset_copy(&und, &tmp);
    }
    pset_union(&tmp, &v->rej[a][k], &rej);
    pset_copy(&v->rej[a][k], &tmp);
    pset_free(&und);
    pset_free(&rej);
    pset_free(&newly);
    pset_free(&tmp);
}

/* Does the list check the sender-login map before any permit? */
static bool
login_check_first(char **w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(w[i], "reject_sender_login_mismatch") == 0)
            return true;
        if (strncmp(w[i], "permit", 6) == 0 || strncmp(w[i], "check_", 6) == 0)
            return false;
    }
    return false;
}

void
service_verdicts(import *im, pf_conf *c, const pf_service *s, verdicts *v)
{
    bool login_here = false;

    memset(v, 0, sizeof(*v));
    v->sasl =
        strcasecmp(pf_svc_get(c, s, "smtpd_sasl_auth_enable"), "yes") == 0;
    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
        char param[200], **w;
        size_t n = pf_words(pf_svc_get(c, s, lists[l]), &w);
        prog p = {0};
        param_name(s, lists[l], param, sizeof(param));
        for (size_t i = 0; i < n; i++) {
            c->login_map_used |=
                strcmp(w[i], "reject_sender_login_mismatch") == 0;
            if (strcmp(w[i], "permit_sasl_authenticated") == 0 && !v->sasl)
                continue; /* no login without smtpd_sasl_auth_enable */
            one_restriction(im, c, s, &p, param, w, n, &i);
        }
        login_here |= login_check_first(w, n);
        for (int a = 0; a < 2; a++)
            for (int k = 0; k < K_N; k++)
                walk(&p, a, k, v);
        for (size_t i = 0; i < p.n; i++)
            pset_free(&p.v[i].set);
        free(p.v);
        pf_words_free(w, n);
    }
    if (!login_here)
        c->login_map_everywhere = false;
}

void
verdicts_free(verdicts *v)
{
    for (int a = 0; a < 2; a++)
        for (int k = 0; k < K_N; k++) {
            pset_free(&v->rej[a][k]);
            sb_free(&v->why[a][k]);
        }
}
