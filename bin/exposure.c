/*
 * exposure.c - `relaypolicy exposure`: who can relay through the server.
 * Per listener, the exact client ranges that relay without credentials
 * (from rp_policy_exposure(), relaypolicy(7) §7), the local addresses
 * they connect to, the destinations and the rule; then the principals
 * that relay once logged in (users, groups, authenticated), read from the
 * normalised dump.
 */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char exposure_usage[] =
    "usage: relaypolicy exposure FILE [--format text|json] [--listener NAME]\n"
    "\n"
    "Print who can relay through the server: for every listener, the exact\n"
    "client address ranges from which an unauthenticated client holds\n"
    "relay, the local addresses and ports they connect to, the\n"
    "destinations and the rule responsible, with the number of public\n"
    "addresses; then the users, groups and 'authenticated' grants that\n"
    "relay after logging in.\n"
    "\n"
    "Exit status 0, 2 when the policy does not compile, 64 on a usage\n"
    "error.\n";

typedef struct ctx {
    const rp_policy *p;
    size_t listener;
    json_t *ranges; /* JSON: this listener's ranges */
    size_t n;
} ctx;

/* "0.0.0.0/0 port 25, ::/0 port 25"; port 0 is any port no bind names. */
static void
locals_text(const rp_exposure *e, char *buf, size_t size)
{
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < e->n_locals && n + 1 < size; i++) {
        const rp_exposure_local *l = &e->locals[i];
        char port[16];
        if (l->port != 0)
            snprintf(port, sizeof(port), "%u", (unsigned)l->port);
        else
            snprintf(port, sizeof(port), "*");
        n += (size_t)snprintf(buf + n, size - n, "%s%s port %s",
                              i > 0 ? ", " : "", l->range.text, port);
    }
}

static json_t *
locals_json(const rp_exposure *e)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < e->n_locals; i++)
        json_array_append_new(a, json_pack("{s:s, s:i}", "range",
                                           e->locals[i].range.text, "port",
                                           (json_int_t)e->locals[i].port));
    return a;
}

static void
public_text(const rp_exposure *e, char *buf, size_t size)
{
    if (e->public_hi == 0)
        snprintf(buf, size, "%llu", (unsigned long long)e->public_lo);
    else
        snprintf(buf, size, "%.3g", e->public_count);
}

static int
one_range(void *arg, const rp_exposure *e)
{
    ctx *c = arg;
    char locals[1024], pub[32], dests[1024] = "every external domain";
    json_t *dest;

    if (e->listener_index != c->listener)
        return 0;
    c->n++;
    public_text(e, pub, sizeof(pub));
    if (e->destinations == RP_EXPOSURE_DOMAINS) {
        size_t n = (size_t)snprintf(dests, sizeof(dests), "only");
        for (size_t i = 0; i < e->n_dest_patterns && n < sizeof(dests); i++)
            n += (size_t)snprintf(dests + n, sizeof(dests) - n, " %s",
                                  e->dest_patterns[i]);
    }
    if (c->ranges == NULL) {
        locals_text(e, locals, sizeof(locals));
        printf("    %s (%s public)\n      on %s\n      to %s, by %s:%u: "
               "%s\n",
               e->client.text, pub, locals, dests, e->rule_file,
               (unsigned)e->rule_line, e->rule_text);
        return 0;
    }
    if (e->destinations == RP_EXPOSURE_DOMAINS) {
        dest = json_array();
        for (size_t i = 0; i < e->n_dest_patterns; i++)
            json_array_append_new(dest, json_string(e->dest_patterns[i]));
    } else {
        dest = json_string("every external domain");
    }
    json_array_append_new(
        c->ranges,
        json_pack("{s:s, s:i, s:i, s:s, s:o, s:o, s:{s:s, s:i, s:i, s:s}}",
                  "client", e->client.text, "family",
                  (json_int_t)e->client.family, "prefix_len",
                  (json_int_t)e->client.prefix_len, "public", pub, "locals",
                  locals_json(e), "destinations", dest, "rule", "file",
                  e->rule_file, "line", (json_int_t)e->rule_line, "column",
                  (json_int_t)e->rule_column, "text", e->rule_text));
    return 0;
}

/* ---- principals that relay once logged in, from the dump ---------------- */

/* Does a dumped rule line grant or deny relay to a login? */
static bool
login_relay_rule(const char *line)
{
    const char *p = line;

    while (*p == ' ')
        p++;
    if (strncmp(p, "allow ", 6) != 0 && strncmp(p, "deny ", 5) != 0)
        return false;
    p = strchr(p, ' ') + 1;
    if (strncmp(p, "user ", 5) != 0 && strncmp(p, "group ", 6) != 0 &&
        strncmp(p, "authenticated", 13) != 0 &&
        strncmp(p, "certificate ", 12) != 0)
        return false;
    return strstr(p, " relay") != NULL;
}

/* Print (or add to @p out) listener @p name's login relay rules. */
static void
login_rules(const char *dump, const char *name, json_t *out)
{
    char head[300];
    const char *s = dump, *end;
    size_t n = 0;

    snprintf(head, sizeof(head), "listener %s {\n", name);
    if (dump == NULL || (s = strstr(dump, head)) == NULL)
        return;
    s += strlen(head);
    for (; *s != '\0' && *s != '}'; s = *end ? end + 1 : end) {
        char line[512];
        size_t len;
        end = strchr(s, '\n');
        if (end == NULL)
            end = s + strlen(s);
        len = (size_t)(end - s) < sizeof(line) ? (size_t)(end - s)
                                               : sizeof(line) - 1;
        memcpy(line, s, len);
        line[len] = '\0';
        if (!login_relay_rule(line))
            continue;
        if (out != NULL)
            json_array_append_new(out, json_string(line + 4));
        else
            printf("    %s\n", line + 4);
        n++;
    }
    if (n == 0 && out == NULL)
        printf("    none\n");
}

/* ---- per listener ------------------------------------------------------- */

static void
text_listener(ctx *c, const rp_listener_info *info, const char *dump)
{
    rp_exposure_summary s;

    rp_policy_exposure_summary(c->p, c->listener, &s);
    printf("listener %s (%s:%u)\n", info->name, info->file,
           (unsigned)info->line);
    printf("  without login: %llu public IPv4 and %.3g public IPv6 "
           "addresses relay%s\n",
           (unsigned long long)s.public4, s.public6,
           s.unsafe ? " (UNSAFE: allowed by 'allow open-relay')" : "");
    c->n = 0;
    rp_policy_exposure(c->p, one_range, c);
    if (c->n == 0)
        printf("    no client relays without logging in%s\n",
               info->require_auth ? " (require auth)" : "");
    printf("  after login:\n");
    login_rules(dump, info->name, NULL);
}

static json_t *
json_listener(ctx *c, const rp_listener_info *info, const char *dump)
{
    rp_exposure_summary s;
    json_t *o, *logins = json_array();

    rp_policy_exposure_summary(c->p, c->listener, &s);
    c->ranges = json_array();
    rp_policy_exposure(c->p, one_range, c);
    login_rules(dump, info->name, logins);
    o = json_pack("{s:s, s:s, s:i, s:b, s:{s:I, s:f, s:b, s:o}, s:o}", "name",
                  info->name, "file", info->file, "line",
                  (json_int_t)info->line, "require_auth", info->require_auth,
                  "unauthenticated", "public_ipv4", (json_int_t)s.public4,
                  "public_ipv6", s.public6, "unsafe", s.unsafe, "ranges",
                  c->ranges, "authenticated", logins);
    c->ranges = NULL;
    return o;
}

static int
parse_args(
    int argc, char **argv, const char **path, const char **only, bool *json)
{
    static const opt_spec specs[] = {
        {"format", true}, {"listener", true}, {"help", false}};
    opt_state st = {argc, argv, 0, NULL};
    int k;

    *path = *only = NULL;
    *json = false;
    while ((k = opt_next(&st, specs, 3, "exposure")) != -2) {
        if (k == -3)
            return EXIT_USAGE;
        if (k == 2) {
            fputs(exposure_usage, stdout);
            return 0;
        }
        if (k == 0 && strcmp(st.value, "json") != 0 &&
            strcmp(st.value, "text") != 0)
            return usage_error("exposure", "--format is text or json, not '%s'",
                               st.value);
        if (k == 0)
            *json = strcmp(st.value, "json") == 0;
        else if (k == 1)
            *only = st.value;
        else if (*path != NULL)
            return usage_error("exposure", "only one FILE, please");
        else
            *path = st.value;
    }
    if (*path == NULL)
        return usage_error("exposure", "missing policy FILE");
    return -1;
}

int
cmd_exposure(int argc, char **argv)
{
    const char *path, *only;
    bool json;
    char *dump;
    json_t *all = NULL;
    size_t shown = 0;
    ctx c;
    int rc = parse_args(argc, argv, &path, &only, &json);

    if (rc >= 0)
        return rc;
    memset(&c, 0, sizeof(c));
    if ((c.p = load_policy(path)) == NULL)
        return EXIT_POLICY;
    dump = dump_text(c.p);
    if (json)
        all = json_array();
    for (c.listener = 0; c.listener < rp_policy_listener_count(c.p);
         c.listener++) {
        rp_listener_info info;
        rp_policy_listener(c.p, c.listener, &info);
        if (only != NULL && strcmp(only, info.name) != 0)
            continue;
        shown++;
        if (json)
            json_array_append_new(all, json_listener(&c, &info, dump));
        else
            text_listener(&c, &info, dump);
    }
    if (json) {
        json_t *doc = json_pack("{s:s, s:o}", "policy", path, "listeners", all);
        json_dumpf(doc, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(doc);
    }
    free(dump);
    rp_policy_free((rp_policy *)c.p);
    if (only != NULL && shown == 0)
        return usage_error("exposure", "the policy has no listener '%s'", only);
    return 0;
}
