/*
 * import_postfix.c - `relaypolicy import postfix`: the configuration is
 * read through Postfix's own postconf (main.cf values expanded with -x,
 * master.cf services with -M and their -o overrides with -P) and lookup
 * tables through postmap -s, never by parsing main.cf by hand.  This file
 * reads the configuration and writes the domains, networks and
 * sender-login map; import_pfrules.c turns restriction lists into
 * listeners.
 */
#include "import_postfix.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PF_OUT_MAX (64u << 20) /* bound what a helper may print */
#define PF_TIMEOUT_MS 30000

/* ---- running postconf and postmap --------------------------------------- */

static const char *
prog_path(const char *prog, char *buf, size_t size)
{
    const char *env =
        strcmp(prog, "postconf") == 0 ? "RP_POSTCONF" : "RP_POSTMAP";
    const char *v = getenv(env);

    if (v != NULL && *v != '\0')
        return v;
    snprintf(buf, size, "/usr/sbin/%s", prog);
    return access(buf, X_OK) == 0 ? buf : prog;
}

static void
child(const pf_conf *c, const char *prog, const char *const *args, int fd)
{
    const char *argv[64];
    char path[256];
    size_t n = 0;

    argv[n++] = prog;
    if (c->dir != NULL && strcmp(prog, "postconf") == 0) {
        argv[n++] = "-c";
        argv[n++] = c->dir;
    }
    for (size_t i = 0; args[i] != NULL && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    dup2(fd, 1);
    close(fd);
    if (c->dir != NULL)
        setenv("MAIL_CONFIG", c->dir, 1);
    execvp(prog_path(prog, path, sizeof(path)), (char *const *)argv);
    _exit(127);
}

/* Read the child's output until EOF, a limit or the deadline. */
static bool
drain(int fd, sbuf *out)
{
    char buf[8192];
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        long ms;
        ssize_t r;
        clock_gettime(CLOCK_MONOTONIC, &t);
        ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms > PF_TIMEOUT_MS || poll(&p, 1, (int)(PF_TIMEOUT_MS - ms)) <= 0)
            return false;
        r = read(fd, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r == 0;
        if (out->n + (size_t)r > PF_OUT_MAX)
            return false;
        sb_addn(out, buf, (size_t)r);
    }
}

bool
pf_run(const pf_conf *c, const char *prog, const char *const *args, sbuf *out)
{
    int fds[2], status = 0;
    pid_t pid;
    bool ok;

    out->n = 0;
    sb_add(out, "");
    if (pipe(fds) != 0)
        return false;
    fflush(NULL);
    if ((pid = fork()) < 0) {
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0) {
        close(fds[0]);
        child(c, prog, args, fds[1]);
    }
    close(fds[1]);
    ok = drain(fds[0], out);
    close(fds[0]);
    if (!ok)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* ---- parameters --------------------------------------------------------- */

static void
remember(pf_conf *c, const char *name, const char *value)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->names = realloc(c->names, c->cap * sizeof(char *));
        c->values = realloc(c->values, c->cap * sizeof(char *));
        if (c->names == NULL || c->values == NULL)
            exit(EXIT_POLICY);
    }
    c->names[c->n] = strdup(name);
    c->values[c->n++] = strdup(value);
}

const char *
pf_get(pf_conf *c, const char *name)
{
    const char *args[] = {"-h", "-x", name, NULL};
    sbuf out = {0};
    size_t n;

    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->names[i], name) == 0)
            return c->values[i];
    if (!pf_run(c, "postconf", args, &out))
        out.n = 0;
    n = out.n;
    while (n > 0 && (out.s[n - 1] == '\n' || out.s[n - 1] == '\r'))
        n--;
    if (out.s != NULL)
        out.s[n] = '\0';
    remember(c, name, n > 0 ? out.s : "");
    sb_free(&out);
    return c->values[c->n - 1];
}

/* Fetch the parameters the importer reads in one postconf call. */
static void
prefetch(pf_conf *c)
{
    static const char *const names[] = {"mydestination",
                                        "virtual_alias_domains",
                                        "virtual_mailbox_domains",
                                        "relay_domains",
                                        "relay_recipient_maps",
                                        "local_recipient_maps",
                                        "virtual_mailbox_maps",
                                        "virtual_alias_maps",
                                        "mynetworks",
                                        "mynetworks_style",
                                        "inet_interfaces",
                                        "inet_protocols",
                                        "proxy_interfaces",
                                        "myhostname",
                                        "myorigin",
                                        "append_at_myorigin",
                                        "parent_domain_matches_subdomains",
                                        "smtpd_reject_unlisted_recipient",
                                        "recipient_delimiter",
                                        "smtpd_sasl_auth_enable",
                                        "smtpd_client_restrictions",
                                        "smtpd_helo_restrictions",
                                        "smtpd_sender_restrictions",
                                        "smtpd_relay_restrictions",
                                        "smtpd_recipient_restrictions",
                                        "smtpd_sender_login_maps",
                                        "allow_untrusted_routing",
                                        "smtpd_delay_reject",
                                        "smtpd_milters",
                                        "smtpd_restriction_classes",
                                        "smtpd_command_filter",
                                        "smtpd_client_event_limit_exceptions",
                                        "smtpd_null_access_lookup_key",
                                        NULL};
    const char *args[64];
    size_t n = 0;
    sbuf out = {0};

    args[n++] = "-x";
    for (size_t i = 0; names[i] != NULL && n < 62; i++)
        args[n++] = names[i];
    args[n] = NULL;
    if (!pf_run(c, "postconf", args, &out)) {
        sb_free(&out);
        return;
    }
    for (char *p = out.s, *nl; p != NULL && *p != '\0';
         p = nl ? nl + 1 : NULL) {
        char *eq;
        if ((nl = strchr(p, '\n')) != NULL)
            *nl = '\0';
        eq = strstr(p, " = ");
        if (eq == NULL) {
            size_t len = strlen(p);
            if (len > 2 && strcmp(p + len - 2, " =") == 0) {
                p[len - 2] = '\0';
                remember(c, p, "");
            }
            continue;
        }
        *eq = '\0';
        remember(c, p, eq + 3);
    }
    sb_free(&out);
}

/* Expand $name, ${name} and $(name) in an override value. */
static char *
expand(pf_conf *c, const char *v, int depth)
{
    sbuf b = {0};

    sb_add(&b, "");
    while (*v != '\0') {
        char name[128];
        size_t n = 0;
        const char *p = v + 1;
        char close = 0;
        if (*v != '$' || depth > 8) {
            sb_addn(&b, v++, 1);
            continue;
        }
        if (*p == '{' || *p == '(') {
            close = *p == '{' ? '}' : ')';
            p++;
        }
        while ((isalnum((unsigned char)p[n]) || p[n] == '_') &&
               n + 1 < sizeof(name))
            n++;
        memcpy(name, p, n);
        name[n] = '\0';
        p += n;
        if (n == 0 || (close && *p != close)) {
            sb_addn(&b, v++, 1);
            continue;
        }
        sb_add(&b, pf_get(c, name));
        v = p + (close ? 1 : 0);
    }
    return b.s;
}

const char *
pf_svc_get(pf_conf *c, const pf_service *s, const char *name)
{
    for (size_t i = 0; i < s->n_ov; i++)
        if (strcmp(s->ov[i].name, name) == 0)
            return s->ov[i].value;
    return pf_get(c, name);
}

size_t
pf_words(const char *v, char ***out)
{
    size_t n = 0, cap = 8;
    char **w = malloc(cap * sizeof(char *));

    while (w != NULL && *v != '\0' && n < 100000) {
        size_t len;
        v += strspn(v, " \t\r\n,");
        if (*v == '\0')
            break;
        if (*v == '{') {
            const char *end = strchr(v, '}');
            len = end ? (size_t)(end - v) + 1 : strlen(v);
        } else {
            len = strcspn(v, " \t\r\n,");
        }
        if (n == cap && (w = realloc(w, (cap *= 2) * sizeof(char *))) == NULL)
            break;
        w[n++] = strndup(v, len);
        v += len;
    }
    if (w == NULL)
        exit(EXIT_POLICY);
    *out = w;
    return n;
}

void
pf_words_free(char **w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(w[i]);
    free(w);
}

/* ---- lookup tables ------------------------------------------------------ */

/* Split "key value..." lines (postmap -s output or a source file). */
static void
table_lines(
    const char *text, bool source, char ***keys, char ***values, size_t *n)
{
    size_t cap = 0;

    *n = 0;
    *keys = *values = NULL;
    for (const char *p = text; p != NULL && *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = strndup(p, len), *k = line, *val;
        p = nl ? nl + 1 : NULL;
        k += strspn(k, " \t");
        if (*k == '\0' || *k == '#' ||
            (source && isspace((unsigned char)*line))) {
            free(line);
            continue;
        }
        val = k + strcspn(k, " \t");
        if (*val != '\0')
            *val++ = '\0';
        val += strspn(val, " \t");
        val[strcspn(val, "\r")] = '\0';
        if (k[0] != '\0' && k[strlen(k) - 1] == ':')
            k[strlen(k) - 1] = '\0'; /* aliases(5) "name: value" */
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *keys = realloc(*keys, cap * sizeof(char *));
            *values = realloc(*values, cap * sizeof(char *));
            if (*keys == NULL || *values == NULL)
                exit(EXIT_POLICY);
        }
        (*keys)[*n] = strdup(k);
        (*values)[(*n)++] = strdup(val);
        free(line);
    }
}

static bool
read_file(const char *path, sbuf *out)
{
    FILE *f = fopen(path, "r");
    char buf[8192];
    size_t r;

    if (f == NULL)
        return false;
    sb_add(out, "");
    while ((r = fread(buf, 1, sizeof(buf), f)) > 0 && out->n < PF_OUT_MAX)
        sb_addn(out, buf, r);
    fclose(f);
    return true;
}

bool
pf_table(import *im,
         pf_conf *c,
         const char *param,
         const char *table,
         char ***keys,
         char ***values,
         size_t *n)
{
    static const char *const plain[] = {"hash", "btree", "lmdb",     "cdb",
                                        "dbm",  "sdbm",  "texthash", NULL};
    const char *t = table, *colon;
    const char *args[] = {"-s", NULL, NULL};
    sbuf out = {0};
    bool ok = false;

    *n = 0;
    if (strncmp(t, "proxy:", 6) == 0)
        t += 6;
    colon = strchr(t, ':');
    for (size_t i = 0; colon && plain[i] != NULL && !ok; i++)
        ok = strlen(plain[i]) == (size_t)(colon - t) &&
             strncmp(t, plain[i], (size_t)(colon - t)) == 0;
    if (!ok) {
        imp_finding(im, param,
                    "'%s' is not a plain table (hash, btree, "
                    "lmdb, cdb, texthash) and is not translated",
                    table);
        return false;
    }
    args[1] = t;
    if (pf_run(c, "postmap", args, &out)) {
        table_lines(out.s, false, keys, values, n);
    } else if (read_file(colon + 1, &out)) {
        table_lines(out.s, true, keys, values, n);
    } else {
        imp_finding(im, param,
                    "cannot read table '%s' (postmap -s failed "
                    "and there is no source file)",
                    table);
        sb_free(&out);
        return false;
    }
    sb_free(&out);
    return true;
}

/* ---- master.cf ---------------------------------------------------------- */

/* The port of a service name: smtp, submission(s), smtps, a number. */
static unsigned
service_port(const char *p)
{
    static const struct {
        const char *name;
        unsigned port;
    } known[] = {{"smtp", 25},
                 {"submission", 587},
                 {"smtps", 465},
                 {"submissions", 465}};
    char *end;
    unsigned long v;

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(p, known[i].name) == 0)
            return known[i].port;
    v = strtoul(p, &end, 10);
    return *p != '\0' && *end == '\0' && v > 0 && v < 65536 ? (unsigned)v : 0;
}

/* "name" or "host:name" / "[v6]:name" into the service. */
static bool
service_address(pf_service *s, const char *name)
{
    const char *colon = strrchr(name, ':');
    size_t hn;

    s->host[0] = '\0';
    if (colon == NULL) {
        s->port = service_port(name);
        return s->port != 0;
    }
    hn = (size_t)(colon - name);
    if (name[0] == '[' && hn >= 2 && name[hn - 1] == ']') {
        name++;
        hn -= 2;
    }
    if (hn >= sizeof(s->host))
        return false;
    memcpy(s->host, name, hn);
    s->host[hn] = '\0';
    if (strcmp(s->host, "localhost") == 0)
        snprintf(s->host, sizeof(s->host), "127.0.0.1");
    s->port = service_port(colon + 1);
    return s->port != 0;
}

/* Attach the -o overrides (postconf -P) to their services. */
static void
overrides(pf_conf *c, const char *text, const char *type)
{
    for (const char *p = text; p != NULL && *p != '\0';) {
        const char *nl = strchr(p, '\n');
        char *line = strndup(p, nl ? (size_t)(nl - p) : strlen(p));
        char *s1 = strchr(line, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        char *eq = s2 ? strstr(s2, " = ") : NULL;
        size_t len = strlen(line);
        p = nl ? nl + 1 : NULL;
        if (eq == NULL && s2 != NULL && len > 2 &&
            strcmp(line + len - 2, " =") == 0) {
            eq = line + len - 2; /* an empty value: "name =" */
            eq[2] = ' ';
            eq[3] = '\0';
        }
        if (eq != NULL) {
            *s1 = *s2 = *eq = '\0';
            for (size_t i = 0; i < c->n_svc; i++) {
                pf_service *s = &c->svc[i];
                if (strcmp(s->name, line) != 0 || strcmp(s1 + 1, type) != 0 ||
                    s->n_ov >= PF_MAX_OVERRIDES)
                    continue;
                s->ov[s->n_ov].name = strdup(s2 + 1);
                s->ov[s->n_ov++].value = expand(c, eq + 3, 0);
            }
        }
        free(line);
    }
}

/* One postconf -M line: an smtpd (or postscreen) inet service. */
static void
master_line(import *im, pf_conf *c, char *line, bool *postscreen)
{
    char name[128], type[16], cmd[64];
    pf_service *s;

    if (sscanf(line, "%127s %15s %*s %*s %*s %*s %*s %63s", name, type, cmd) !=
            3 ||
        strcmp(type, "inet") != 0)
        return;
    if (strcmp(cmd, "postscreen") == 0)
        *postscreen = true;
    else if (strcmp(cmd, "smtpd") != 0)
        return;
    if (c->n_svc >= PF_MAX_SERVICES)
        return;
    s = &c->svc[c->n_svc];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", name);
    imp_name(s->lname, sizeof(s->lname), name);
    if (!isalpha((unsigned char)s->lname[0])) {
        /* Room for the prefix, so that a cut name is caught, not made. */
        char tmp[sizeof(s->lname) + 8];
        int n = snprintf(tmp, sizeof(tmp), "smtpd-%s", s->lname);

        if (n < 0 || (size_t)n >= sizeof(s->lname)) {
            imp_finding(im, "master.cf", "service '%s': name too long", name);
            return;
        }
        memcpy(s->lname, tmp, (size_t)n + 1);
    }
    if (!service_address(s, name)) {
        imp_finding(im, "master.cf", "service '%s': cannot tell its port",
                    name);
        return;
    }
    c->n_svc++;
}

static bool
services(import *im, pf_conf *c)
{
    const char *m_args[] = {"-M", NULL}, *p_args[] = {"-P", NULL};
    sbuf out = {0};
    bool postscreen = false;

    if (!pf_run(c, "postconf", m_args, &out)) {
        sb_free(&out);
        return false;
    }
    for (char *p = out.s, *nl; p != NULL && *p != '\0';
         p = nl ? nl + 1 : NULL) {
        if ((nl = strchr(p, '\n')) != NULL)
            *nl = '\0';
        master_line(im, c, p, &postscreen);
    }
    if (postscreen)
        imp_finding(im, "master.cf",
                    "postscreen is not translated: its "
                    "smtpd (pass) service's restrictions are not imported "
                    "for the port postscreen serves");
    if (pf_run(c, "postconf", p_args, &out))
        overrides(c, out.s, "inet");
    sb_free(&out);
    return true;
}

/* ---- the command -------------------------------------------------------- */

/* Was @p name set in main.cf (postconf -n)? */
static bool
is_set(const pf_conf *c, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = c->set.s; p != NULL && *p != '\0';) {
        if (strncmp(p, name, n) == 0 && p[n] == ' ')
            return true;
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return false;
}

/* Parameters that change which recipients are accepted and that the
 * importer does not translate, when they are set. */
static void
unsupported(import *im, pf_conf *c)
{
    static const char *const params[] = {"smtpd_milters",
                                         "smtpd_restriction_classes",
                                         "smtpd_command_filter",
                                         "smtpd_client_event_limit_exceptions",
                                         "smtpd_null_access_lookup_key",
                                         NULL};

    for (size_t i = 0; params[i] != NULL; i++)
        if (is_set(c, params[i]) && *pf_get(c, params[i]) != '\0')
            imp_finding(im, params[i], "'%s' is not translated",
                        pf_get(c, params[i]));
    if (strcasecmp(pf_get(c, "allow_untrusted_routing"), "yes") == 0)
        imp_note(im, "allow_untrusted_routing",
                 "'yes' is not imported: the policy judges a relay domain "
                 "recipient with routing (user%%host@domain) by where it "
                 "would go");
    if (strcasecmp(pf_get(c, "smtpd_delay_reject"), "no") == 0)
        imp_note(im, "smtpd_delay_reject",
                 "'no': Postfix refuses before "
                 "RCPT TO; the policy refuses at RCPT TO");
}

static void
replies(import *im)
{
    sb_add(&im->policy,
           "\n# Postfix's wording for refused relaying and unknown users\n"
           "reply relay-denied 554 5.7.1 \"Relay access denied\"\n"
           "reply unknown-user 550 5.1.1 \"Recipient address rejected: User "
           "unknown\"\n");
}

static int
parse_args(int argc, char **argv, const char **dir, const char **out)
{
    *dir = *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ||
             strcmp(a, "--config-dir") == 0 || strcmp(a, "-c") == 0) &&
            i + 1 >= argc)
            return usage_error("import", "%s needs a value", a);
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
            *out = argv[++i];
        else if (strcmp(a, "--config-dir") == 0 || strcmp(a, "-c") == 0)
            *dir = argv[++i];
        else if (strncmp(a, "--config-dir=", 13) == 0)
            *dir = a + 13;
        else if (strcmp(a, "--help") == 0) {
            printf("usage: relaypolicy import postfix [--config-dir DIR] "
                   "[-o FILE]\n");
            return 0;
        } else
            return usage_error("import", "unexpected argument '%s'", a);
    }
    return -1;
}

static void
conf_free(pf_conf *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->names[i]);
        free(c->values[i]);
    }
    free(c->names);
    free(c->values);
    for (size_t i = 0; i < c->n_svc; i++)
        for (size_t j = 0; j < c->svc[i].n_ov; j++) {
            free(c->svc[i].ov[j].name);
            free(c->svc[i].ov[j].value);
        }
    sb_free(&c->set);
    pset_free(&c->mynetworks);
}

int
import_postfix(int argc, char **argv)
{
    static pf_conf c;
    const char *out, *n_args[] = {"-n", NULL};
import im = {.what = "postfix" };
    char source[600];
    int rc = parse_args(argc, argv, &c.dir, &out);

    if (rc >= 0)
        return rc;
    if (!pf_run(&c, "postconf", n_args, &c.set) || !services(&im, &c)) {
        fprintf(stderr,
                "relaypolicy import: postconf%s%s failed: is this a "
                "Postfix configuration directory?\n",
                c.dir ? " -c " : "", c.dir ? c.dir : "");
        conf_free(&c);
        return EXIT_POLICY;
    }
    prefetch(&c);
    unsupported(&im, &c);
    pf_mynetworks(&im, &c);
    pf_domains(&im, &c);
    pf_listeners(&im, &c);
    pf_access_denies(&im, &c);
    pf_sender_login(&im, &c);
    replies(&im);
    snprintf(source, sizeof(source), "postconf -n -c %s",
             c.dir ? c.dir : "/etc/postfix");
    rc = imp_finish(&im, source, out);
    imp_free(&im);
    conf_free(&c);
    return rc;
}
