/*
 * import_pfaccess.c - check_sender_access and check_recipient_access
 * tables whose entries only refuse (REJECT, 5NN) and that every smtpd
 * service checks before any permit become `deny sender` and `deny
 * recipient` (access(5) keys: user@domain, domain, .domain, user@).
 */
#include "import_postfix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Does the value refuse (REJECT, 5NN), pass (DUNNO), or something else? */
static int
refusal(const char *v)
{
    size_t n = strcspn(v, " \t");

    if ((n == 6 && strncasecmp(v, "REJECT", 6) == 0) ||
        (n == 3 && v[0] == '5' && strspn(v, "0123456789") == 3))
        return 1;
    if (n == 5 && strncasecmp(v, "DUNNO", 5) == 0)
        return 0;
    return -1;
}

/* An access(5) key as a deny-list pattern; false when it has no
 * equivalent. */
static bool
key_pattern(const char *k, bool parent, char *out, size_t size)
{
    const char *at = strchr(k, '@');
    sbuf re = {0};

    if (*k == '\0' || strchr(k, '/') != NULL || strchr(k, ' ') != NULL ||
        strcmp(k, "<>") == 0)
        return false;
    if (at != NULL && at[1] != '\0') {
        snprintf(out, size, "%s", k); /* user@domain, @domain */
        return true;
    }
    if (at != NULL) { /* "user@": that local part in every domain */
        sb_add(&re, "/^");
        for (const char *p = k; p < at; p++) {
            if (strchr(".+*?()[]{}|^$\\", *p))
                sb_add(&re, "\\");
            sb_addn(&re, p, 1);
        }
        sb_add(&re, "@/");
        snprintf(out, size, "%s", re.s);
        sb_free(&re);
        return true;
    }
    if (k[0] == '.') { /* subdomains only */
        sb_add(&re, "/@[^@]+");
        for (const char *p = k; *p; p++) {
            if (*p == '.')
                sb_add(&re, "\\");
            sb_addn(&re, p, 1);
        }
        sb_add(&re, "$/");
        snprintf(out, size, "%s", re.s);
        sb_free(&re);
        return true;
    }
    snprintf(out, size, parent ? ".%s" : "@%s", k);
    return true;
}

static void
one_table(import *im, pf_conf *c, const struct pf_access *a, bool parent)
{
    char **k, **v, pat[600], lead[64];
    size_t n;
    sbuf words = {0};

    if (!pf_table(im, c, a->param, a->table, &k, &v, &n))
        return;
    for (size_t i = 0; i < n; i++) {
        int r = refusal(v[i]);
        if (r == 0)
            continue;
        if (k[i][0] == '.' && parent)
            continue; /* Postfix ignores it too (access(5)) */
        if (r < 0 || !key_pattern(k[i], parent, pat, sizeof(pat))) {
            imp_finding(im, a->param,
                        "%s: the entry '%s %s' is not translated "
                        "(only refusals of addresses and domains are)",
                        a->table, k[i], v[i]);
            continue;
        }
        sb_printf(&words, "%s%s", words.n ? " " : "", pat);
    }
    if (words.n > 0) {
        char **w;
        size_t nw = pf_words(words.s, &w);
        sb_printf(&im->policy, "# %s: check_%s_access %s\n", a->param, a->kind,
                  a->table);
        snprintf(lead, sizeof(lead), "deny %s", a->kind);
        imp_words(im, lead, (const char *const *)w, nw);
        pf_words_free(w, nw);
    }
    sb_free(&words);
    pf_words_free(k, n);
    pf_words_free(v, n);
}

void
pf_access_denies(import *im, pf_conf *c)
{
    char **w;
    size_t nw = pf_words(pf_get(c, "parent_domain_matches_subdomains"), &w);
    bool parent = false;

    for (size_t i = 0; i < nw; i++)
        parent |= strcmp(w[i], "smtpd_access_maps") == 0;
    pf_words_free(w, nw);
    for (size_t i = 0; i < c->n_access; i++) {
        const struct pf_access *a = &c->access[i];
        if (a->first < c->n_svc) {
            imp_finding(im, a->param,
                        "'check_%s_access %s' is not translated: not "
                        "checked before every permit on every smtpd "
                        "service (a deny list applies to every client)",
                        a->kind, a->table);
            continue;
        }
        one_table(im, c, a, parent);
    }
}
