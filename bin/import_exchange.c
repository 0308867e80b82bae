/*
 * import_exchange.c - `relaypolicy import exchange`: receive connectors
 * (Get-ReceiveConnector | ConvertTo-Json), accepted domains
 * (Get-AcceptedDomain | ConvertTo-Json) and, optionally, the connectors'
 * extended rights (Get-ADPermission | ConvertTo-Json) become a policy.
 *
 * ConvertTo-Json writes one object for one result and an array for
 * several; enums as numbers (Windows PowerShell) or as names (with
 * -EnumsAsStrings, or through remote PowerShell); IP ranges and domains as
 * strings or as objects.  Every shape is accepted.
 */
#include "import.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Flag enums, in the order Microsoft documents their members (bit n is
 * the n-th member after None). */
static const char *const perm_groups[] = {"AnonymousUsers",
                                          "ExchangeUsers",
                                          "ExchangeServers",
                                          "ExchangeLegacyServers",
                                          "Partners",
                                          "Custom",
                                          NULL};
static const char *const auth_mechs[] = {"Tls",
                                         "Integrated",
                                         "BasicAuth",
                                         "BasicAuthRequireTLS",
                                         "ExchangeServer",
                                         "ExternalAuthoritative",
                                         NULL};
enum {
    PG_ANON = 1,
    PG_USERS = 2,
    PG_SERVERS = 4,
    PG_LEGACY = 8,
    PG_PARTNERS = 16,
    PG_CUSTOM = 32
};
enum {
    AM_TLS = 1,
    AM_INTEGRATED = 2,
    AM_BASIC = 4,
    AM_BASIC_TLS = 8,
    AM_EXSERVER = 16,
    AM_EXTERNAL = 32
};

/* A text value: a string, or an object's usual text member. */
static const char *
text_of(json_t *v)
{
    static const char *const keys[] = {
        "RawIdentity", "Expression", "Address", "Domain", "IPAddressToString",
        "Name",        "Value",      "value",   NULL};

    if (json_is_string(v))
        return json_string_value(v);
    if (!json_is_object(v))
        return NULL;
    for (size_t i = 0; keys[i] != NULL; i++) {
        json_t *m = json_object_get(v, keys[i]);
        if (json_is_string(m))
            return json_string_value(m);
    }
    return NULL;
}

/* A flags enum given as a number, "A, B" names, an array, or {"value":N}. */
static bool
flags_of(json_t *v, const char *const *names, unsigned *out)
{
    *out = 0;
    if (v == NULL || json_is_null(v))
        return true;
    if (json_is_integer(v)) {
        *out = (unsigned)json_integer_value(v);
        return true;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            unsigned f;
            if (!flags_of(e, names, &f))
                return false;
            *out |= f;
        }
        return true;
    }
    if (json_is_object(v)) {
        json_t *m = json_object_get(v, "value");
        return flags_of(m ? m : json_object_get(v, "Value"), names, out);
    }
    if (!json_is_string(v))
        return false;
    for (const char *p = json_string_value(v); *p != '\0';) {
        size_t n = strcspn(p, ", ");
        bool known = n == 0 || (n == 4 && strncasecmp(p, "None", 4) == 0);
        for (size_t k = 0; names[k] != NULL && !known; k++)
            if (strlen(names[k]) == n && strncasecmp(p, names[k], n) == 0) {
                *out |= 1u << k;
                known = true;
            }
        if (!known)
            return false;
        p += n;
        p += strspn(p, ", ");
    }
    return true;
}

/* The list of objects in a ConvertTo-Json document. */
static json_t *
load_list(const char *path)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_DECODE_ANY, &jerr), *arr;

    if (doc == NULL) {
        fprintf(stderr, "%s:%d:%d: %s\n", path, jerr.line, jerr.column,
                jerr.text);
        return NULL;
    }
    if (json_is_array(doc))
        return doc;
    arr = json_array();
    if (json_is_object(doc))
        json_array_append(arr, doc);
    json_decref(doc);
    return arr;
}

/* ---- accepted domains --------------------------------------------------- */

static void
one_domain(import *im, json_t *d)
{
    json_t *name = json_object_get(d, "DomainName"), *type;
    const char *text = text_of(name), *kind;
    bool sub = false;
    unsigned t = 0;
    static const char *const types[] = {"ExternalRelay", "InternalRelay", NULL};

    if (json_is_object(name) &&
        json_is_true(json_object_get(name, "IncludeSubDomains")))
        sub = true;
    if (text != NULL && strncmp(text, "*.", 2) == 0) {
        text += 2;
        sub = true;
    }
    if (text == NULL || *text == '\0' || strchr(text, ' ') != NULL) {
        imp_finding(im, "DomainName",
                    "an accepted domain without a usable "
                    "name was skipped");
        return;
    }
    type = json_object_get(d, "DomainType");
    /* AcceptedDomainType: Authoritative 0, ExternalRelay 1, InternalRelay 2. */
    if (json_is_integer(type))
        t = (unsigned)json_integer_value(type);
    else if (type != NULL && !json_is_null(type)) {
        const char *s = text_of(type);
        if (s != NULL && strcasecmp(s, "Authoritative") == 0)
            t = 0;
        else if (!flags_of(type, types, &t) || t == 0) {
            imp_finding(im, "DomainType", "'%s': unknown type '%s', skipped",
                        text, s ? s : "?");
            return;
        }
    }
    if (t > 2) {
        imp_finding(im, "DomainType", "'%s': unknown type %u, skipped", text,
                    t);
        return;
    }
    kind = t == 0 ? "local" : "relay";
    sb_printf(&im->policy, "# accepted domain %s%s, DomainType %s\n",
              sub ? "*." : "", text,
              t == 0   ? "Authoritative"
              : t == 1 ? "ExternalRelay"
                       : "InternalRelay");
    sb_printf(&im->policy, "domain %s%s %s\n", sub ? "." : "", text, kind);
}

static void
domains(import *im, json_t *list)
{
    size_t i;
    json_t *d;

    sb_add(&im->policy, "# ---- Get-AcceptedDomain ----\n");
    json_array_foreach(list, i, d)
    {
        if (json_is_object(d))
            one_domain(im, d);
    }
    sb_add(&im->policy,
           "# Authoritative domains have no recipient list here: add the\n"
           "# GAL's addresses with 'recipients DOMAIN \"file\"' (recipient\n"
           "# filtering, RecipientValidationEnabled).\n\n");
}

/* ---- receive connectors ------------------------------------------------- */

typedef struct conn {
    char name[128];
    const char *display, *identity;
    bool all_remote; /* RemoteIPRanges covers everything */
    bool any_anon;   /* an unauthenticated client holds something */
    unsigned groups, auth;
    sbuf rules; /* allow/deny lines */
} conn;

static bool
bind_word(json_t *b, char *out, size_t size)
{
    const char *s =
        json_is_object(b) ? text_of(json_object_get(b, "Address")) : text_of(b);
    json_t *port;

    if (s != NULL && strchr(s, ':') != NULL && s[strlen(s) - 1] != ':' &&
        (s[0] == '[' || strchr(s, ':') == strrchr(s, ':'))) {
        snprintf(out, size, "%s", s);
        return true;
    }
    port = json_object_get(b, "Port");
    if (s == NULL || !json_is_integer(port))
        return false;
    snprintf(out, size, strchr(s, ':') ? "[%s]:%lld" : "%s:%lld", s,
             (long long)json_integer_value(port));
    return true;
}

static void
conn_binds(import *im, conn *c, json_t *o)
{
    json_t *b = json_object_get(o, "Bindings"), *e;
    const char *words[64];
    char buf[64][80];
    size_t i, n = 0;

    if (json_is_object(b) || json_is_string(b)) {
        json_t *one = json_array();
        json_array_append(one, b);
        b = one;
    } else {
        json_incref(b);
    }
    json_array_foreach(b, i, e)
    {
        if (n < 64 && bind_word(e, buf[n], sizeof(buf[n]))) {
            words[n] = buf[n];
            n++;
        } else {
            imp_finding(im, "Bindings", "'%s': a binding that is not IP:PORT",
                        c->display);
        }
    }
    json_decref(b);
    sb_add(&im->policy, "    # Bindings\n");
    if (n > 0)
        imp_words(im, "    bind", words, n);
}

/* One RemoteIPRanges entry into @p s: "a-b", CIDR, single IP, or an
 * object with Expression or LowerBound/UpperBound. */
static bool
range_entry(json_t *e, pset *s)
{
    const char *expr = json_is_object(e)
                           ? text_of(json_object_get(e, "Expression"))
                           : text_of(e);
    char lo[64], hi[64];
    const char *dash;
    pfx p;

    if (expr == NULL && json_is_object(e)) {
        const char *l = text_of(json_object_get(e, "LowerBound"));
        const char *u = text_of(json_object_get(e, "UpperBound"));
        return l != NULL && u != NULL && pset_add_range(s, l, u);
    }
    if (expr == NULL)
        return false;
    if ((dash = strchr(expr, '-')) != NULL) {
        size_t n = (size_t)(dash - expr);
        if (n >= sizeof(lo) || strlen(dash + 1) >= sizeof(hi))
            return false;
        memcpy(lo, expr, n);
        lo[n] = '\0';
        snprintf(hi, sizeof(hi), "%s", dash + 1);
        return pset_add_range(s, lo, hi);
    }
    if (!pfx_parse(expr, &p, NULL))
        return false;
    pset_add(s, &p);
    pset_norm(s);
    return true;
}

static void
conn_remote(import *im, conn *c, json_t *o)
{
    json_t *r = json_object_get(o, "RemoteIPRanges"), *e;
    pset s = {0};
    size_t i;

    if (r != NULL && !json_is_array(r)) {
        json_t *one = json_array();
        json_array_append(one, r);
        r = one;
    } else {
        json_incref(r);
    }
    json_array_foreach(r, i, e)
    {
        if (!range_entry(e, &s))
            imp_finding(im, "RemoteIPRanges",
                        "'%s': entry %zu is not an "
                        "address, a CIDR or a range",
                        c->display, i + 1);
    }
    json_decref(r);
    c->all_remote = s.n == 0 || pset_is_all(&s);
    if (!c->all_remote) {
        sbuf w = {0};
        sb_printf(&im->policy, "# RemoteIPRanges of '%s'\n", c->display);
        pset_write(&w, &s);
        sb_printf(&im->policy, "network %s-clients %s\n", c->name, w.s);
        sb_free(&w);
    }
    pset_free(&s);
}

/* The principal for "every client this connector serves". */
static void
everyone(const conn *c, char *out, size_t size)
{
    if (c->all_remote)
        snprintf(out, size, "anonymous");
    else
        snprintf(out, size, "network %s-clients", c->name);
}

static void
rule(conn *c,
     const char *comment,
     const char *verb,
     const char *who,
     const char *perms)
{
    sb_printf(&c->rules, "    # %s\n    %s %s %s\n", comment, verb, who, perms);
}

static void
conn_groups(import *im, conn *c)
{
    char all[160];

    everyone(c, all, sizeof(all));
    if (c->groups & PG_ANON) {
        rule(c,
             "PermissionGroups AnonymousUsers: ms-Exch-SMTP-Submit, "
             "ms-Exch-SMTP-Accept-Authoritative-Domain-Sender",
             "allow", all, "submit local-sender");
        c->any_anon = true;
    }
    if (c->groups & PG_USERS)
        rule(c,
             "PermissionGroups ExchangeUsers: ms-Exch-SMTP-Submit, "
             "ms-Exch-SMTP-Accept-Any-Recipient",
             "allow", "authenticated", "submit relay");
    if ((c->groups & PG_SERVERS) && (c->auth & AM_EXTERNAL)) {
        rule(c,
             "AuthMechanism ExternalAuthoritative + ExchangeServers: "
             "every client of the connector is a trusted server",
             "allow", all, "submit relay");
        c->any_anon = true;
    } else if (c->groups & PG_SERVERS) {
        rule(c,
             "PermissionGroups ExchangeServers (the server passes this "
             "group for Exchange server logins)",
             "allow", "group exchange-servers", "submit relay");
    }
    if (c->groups & PG_LEGACY)
        rule(c, "PermissionGroups ExchangeLegacyServers", "allow",
             "group exchange-legacy-servers", "submit relay");
    if (c->groups & PG_PARTNERS)
        rule(c,
             "PermissionGroups Partners: ms-Exch-SMTP-Submit (the server "
             "passes this group for a domain-secured partner)",
             "allow", "group partners", "submit");
    if ((c->auth & AM_EXTERNAL) && !(c->groups & PG_SERVERS))
        imp_finding(im, "AuthMechanism",
                    "'%s': ExternalAuthoritative "
                    "without ExchangeServers grants nothing",
                    c->display);
}

/* Does an ADPermission entry name this connector? */
static bool
names_conn(json_t *e, const conn *c)
{
    const char *id = text_of(json_object_get(e, "Identity"));
    const char *tail;

    if (id == NULL)
        return false;
    if (c->identity != NULL && strcasecmp(id, c->identity) == 0)
        return true;
    tail = strrchr(id, '\\');
    return strcasecmp(tail ? tail + 1 : id, c->display) == 0;
}

/* The permissions an ExtendedRights value grants; *other counts rights
 * without effect on the decision. */
static void
rights_of(json_t *v, sbuf *perms, size_t *other)
{
    json_t *e;
    size_t i;

    if (!json_is_array(v)) {
        const char *s = text_of(v);
        if (s == NULL)
            return;
        if (strcasecmp(s, "ms-Exch-SMTP-Accept-Any-Recipient") == 0)
            sb_add(perms, " relay");
        else if (strcasecmp(s, "ms-Exch-SMTP-Submit") == 0)
            sb_add(perms, " submit");
        else if (strcasecmp(s, "ms-Exch-SMTP-Accept-Authoritative-Domain-"
                               "Sender") == 0)
            sb_add(perms, " local-sender");
        else
            (*other)++;
        return;
    }
    json_array_foreach(v, i, e) rights_of(e, perms, other);
}

static void
one_permission(import *im, conn *c, json_t *e)
{
    const char *user = text_of(json_object_get(e, "User"));
    bool deny = json_is_true(json_object_get(e, "Deny"));
    sbuf perms = {0};
    size_t other = 0;
    char who[200], note[300];

    rights_of(json_object_get(e, "ExtendedRights"), &perms, &other);
    if (user == NULL || perms.n == 0) {
        sb_free(&perms);
        return;
    }
    if (strcasecmp(user, "NT AUTHORITY\\ANONYMOUS LOGON") == 0) {
        everyone(c, who, sizeof(who));
        c->any_anon |= !deny;
    } else if (strcasecmp(user, "NT AUTHORITY\\Authenticated Users") == 0) {
        snprintf(who, sizeof(who), "authenticated");
    } else if (strncasecmp(user, "MS Exchange\\", 12) == 0) {
        sb_free(&perms); /* covered by PermissionGroups */
        return;
    } else {
        const char *bs = strrchr(user, '\\');
        char name[128];
        imp_name(name, sizeof(name), bs ? bs + 1 : user);
        snprintf(who, sizeof(who), "user %s", name);
        imp_note(im, "Get-ADPermission",
                 "'%s': '%s' is imported as a user "
                 "name; if it is a group, change 'user' to 'group'",
                 c->display, user);
    }
    snprintf(note, sizeof(note), "Get-ADPermission: %s%s", user,
             deny ? " (Deny)" : "");
    rule(c, note, deny ? "deny" : "allow", who, perms.s + 1);
    sb_free(&perms);
}

static void
conn_permissions(import *im, conn *c, json_t *perms)
{
    size_t i;
    json_t *e;

    if (perms == NULL) {
        if (c->groups & PG_CUSTOM)
            imp_finding(im, "PermissionGroups",
                        "'%s': Custom permissions "
                        "live in Active Directory: give Get-ADPermission's "
                        "output as the third file",
                        c->display);
        return;
    }
    json_array_foreach(perms, i, e)
    {
        if (json_is_object(e) && names_conn(e, c) &&
            !json_is_true(json_object_get(e, "IsInherited")))
            one_permission(im, c, e);
    }
}

static void
conn_flags(import *im, conn *c, json_t *o)
{
    if (!flags_of(json_object_get(o, "PermissionGroups"), perm_groups,
                  &c->groups))
        imp_finding(im, "PermissionGroups",
                    "'%s': unknown value, no "
                    "permission group imported",
                    c->display);
    if (!flags_of(json_object_get(o, "AuthMechanism"), auth_mechs, &c->auth))
        imp_finding(im, "AuthMechanism", "'%s': unknown value", c->display);
    if (json_is_true(json_object_get(o, "RequireTLS")))
        imp_finding(im, "RequireTLS",
                    "'%s': the policy does not see TLS; "
                    "the server must still require it",
                    c->display);
}

static void
one_connector(import *im, json_t *o, json_t *perms)
{
    conn c;
    const char *role = text_of(json_object_get(o, "TransportRole"));

    memset(&c, 0, sizeof(c));
    c.display = text_of(json_object_get(o, "Name"));
    c.identity = text_of(json_object_get(o, "Identity"));
    if (c.display == NULL)
        c.display = c.identity ? c.identity : "unnamed";
    imp_name(c.name, sizeof(c.name), c.display);
    if (json_is_false(json_object_get(o, "Enabled"))) {
        imp_note(im, "Enabled", "'%s' is disabled and was not imported",
                 c.display);
        return;
    }
    conn_flags(im, &c, o);
    conn_remote(im, &c, o);
    conn_groups(im, &c);
    conn_permissions(im, &c, perms);
    sb_printf(&im->policy, "# receive connector '%s'%s%s\n", c.display,
              role ? ", " : "", role ? role : "");
    sb_printf(&im->policy, "listener %s {\n", c.name);
    conn_binds(im, &c, o);
    if (!c.all_remote)
        sb_printf(&im->policy, "    # RemoteIPRanges\n    remote %s-clients\n",
                  c.name);
    if (!c.any_anon)
        sb_add(&im->policy, "    # no permission for anonymous sessions: "
                            "Exchange answers 530 5.7.1\n    require auth\n");
    if (c.auth & (AM_BASIC | AM_BASIC_TLS | AM_INTEGRATED))
        sb_add(&im->policy, "    # AuthMechanism offers AUTH: logins "
                            "reach the rules below\n");
    sb_addn(&im->policy, c.rules.s ? c.rules.s : "", c.rules.n);
    sb_add(&im->policy, "}\n\n");
    sb_free(&c.rules);
}

/* ---- the command -------------------------------------------------------- */

static const char *
base(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

static int
parse_args(
    int argc, char **argv, const char **files, size_t *n, const char **out)
{
    *n = 0;
    *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
            if (++i >= argc)
                return usage_error("import", "-o needs a FILE");
            *out = argv[i];
        } else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: relaypolicy import exchange CONNECTORS.json "
                   "DOMAINS.json [PERMISSIONS.json] [-o FILE]\n");
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage_error("import", "unknown option '%s'", argv[i]);
        } else if (*n < 3) {
            files[(*n)++] = argv[i];
        } else {
            return usage_error("import", "at most three files");
        }
    }
    if (*n < 2)
        return usage_error("import", "needs CONNECTORS.json and DOMAINS.json");
    return -1;
}

int
import_exchange(int argc, char **argv)
{
    const char *files[3], *out;
    size_t n, i;
    json_t *conns, *doms, *perms = NULL, *o;
import im = {.what = "exchange" };
    char source[512];
    int rc = parse_args(argc, argv, files, &n, &out);

    if (rc >= 0)
        return rc;
    conns = load_list(files[0]);
    doms = load_list(files[1]);
    if (n == 3)
        perms = load_list(files[2]);
    if (conns == NULL || doms == NULL || (n == 3 && perms == NULL)) {
        json_decref(conns);
        json_decref(doms);
        json_decref(perms);
        return EXIT_POLICY;
    }
    domains(&im, doms);
    sb_add(&im.policy, "# ---- Get-ReceiveConnector ----\n");
    json_array_foreach(conns, i, o)
    {
        if (json_is_object(o))
            one_connector(&im, o, perms);
    }
    snprintf(source, sizeof(source), "%s, %s%s%s", base(files[0]),
             base(files[1]), n == 3 ? ", " : "", n == 3 ? base(files[2]) : "");
    rc = imp_finish(&im, source, out);
    imp_free(&im);
    json_decref(conns);
    json_decref(doms);
    json_decref(perms);
    return rc;
}
