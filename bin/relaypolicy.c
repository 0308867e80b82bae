/*
 * relaypolicy.c - the command's entry point, option parsing and the
 * helpers every subcommand shares; `dump` is small enough to live here.
 */
#include "cli.h"
#include "import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char main_usage[] =
    "usage: relaypolicy COMMAND [ARGS]\n"
    "\n"
    "Ask a relay policy questions and audit it.\n"
    "\n"
    "commands:\n"
    "  check      decide one recipient, or JSON lines with --batch\n"
    "  lint       audit a policy for open-relay and other risks\n"
    "  relaytest  run the classic open-relay tricks against every listener\n"
    "  exposure   list who can relay through the server, and from where\n"
    "  dump       print the compiled policy in normalised form\n"
    "  replay     show the decisions that change between two policies\n"
    "  compile    write a policy as a compiled file that opens at once\n"
    "  import     translate a Postfix or Exchange configuration into a policy\n"
    "\n"
    "Run 'relaypolicy COMMAND --help' for the options of a command.\n"
    "Exit codes: 0 success, 1 rejection / critical finding / open relay,\n"
    "2 policy or I/O error, 64 usage error.\n";

int
usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "relaypolicy %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'relaypolicy %s --help')\n", cmd);
    return EXIT_USAGE;
}

int
opt_next(opt_state *st, const opt_spec *specs, size_t n, const char *cmd)
{
    const char *arg, *eq;
    size_t len;

    if (++st->i >= st->argc)
        return -2;
    arg = st->argv[st->i];
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
        st->value = arg;
        return -1;
    }
    arg += 2;
    eq = strchr(arg, '=');
    len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    for (size_t k = 0; k < n; k++) {
        if (strlen(specs[k].name) != len ||
            strncmp(specs[k].name, arg, len) != 0)
            continue;
        st->value = NULL;
        if (!specs[k].takes_value && eq != NULL) {
            usage_error(cmd, "option --%s takes no value", specs[k].name);
            return -3;
        }
        if (specs[k].takes_value) {
            if (eq != NULL)
                st->value = eq + 1;
            else if (st->i + 1 < st->argc)
                st->value = st->argv[++st->i];
            else {
                usage_error(cmd, "option --%s needs a value", specs[k].name);
                return -3;
            }
        }
        return (int)k;
    }
    usage_error(cmd, "unknown option '--%.*s'", (int)len, arg);
    return -3;
}

void
print_error(const rp_error *err, const char *path)
{
    const char *file = err->file[0] != '\0' ? err->file : path;

    if (err->message[0] == '\0')
        fprintf(stderr, "%s: %s\n", file, rp_strerror(err->status));
    else if (err->line == 0)
        fprintf(stderr, "%s: %s\n", file, err->message);
    else
        fprintf(stderr, "%s:%s\n", file, err->message);
}

static rp_workspace *cli_ws;

static void
free_workspace(void)
{
    rp_workspace_free(cli_ws);
    cli_ws = NULL;
}

rp_status
cli_decide(const rp_policy *p, const rp_query *q, rp_decision *d)
{
    if (cli_ws == NULL) {
        rp_status st = rp_workspace_new(NULL, &cli_ws);
        if (st != RP_OK) {
            memset(d, 0, sizeof(*d));
            d->detail = rp_strerror(st);
            return st;
        }
        atexit(free_workspace);
    }
    return rp_decide(p, q, cli_ws, d);
}

rp_policy *
load_policy(const char *path)
{
    rp_policy *p = NULL;
    rp_error err;
    rp_status st;

    memset(&err, 0, sizeof(err));
    st = rp_policy_load_path(path, NULL, &p, &err);
    if (st != RP_OK) {
        if (err.status == RP_OK)
            err.status = st;
        print_error(&err, path);
        return NULL;
    }
    return p;
}

int
ip_family(const char *ip)
{
    if (strchr(ip, ':') != NULL)
        return strncmp(ip, "::ffff:", 7) == 0 && strchr(ip, '.') ? 4 : 6;
    return strchr(ip, '.') != NULL ? 4 : 0;
}

/* Parse a decimal port 1-65535. */
static bool
parse_port(const char *s, uint32_t *port)
{
    unsigned long v = 0;

    if (*s == '\0' || strlen(s) > 5)
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
    }
    if (v < 1 || v > 65535)
        return false;
    *port = (uint32_t)v;
    return true;
}

bool
split_hostport(const char *s, char *ip, size_t ip_size, uint32_t *port)
{
    const char *host = s, *colon = NULL;
    size_t hn;

    *port = 0;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL || (end[1] != '\0' && end[1] != ':'))
            return false;
        host = s + 1;
        hn = (size_t)(end - host);
        colon = end[1] == ':' ? end + 1 : NULL;
    } else {
        colon = strchr(s, ':');
        if (colon != NULL && strchr(colon + 1, ':') != NULL)
            colon = NULL; /* a bare IPv6 address */
        hn = colon != NULL ? (size_t)(colon - s) : strlen(s);
    }
    if (hn == 0 || hn >= ip_size)
        return false;
    memcpy(ip, host, hn);
    ip[hn] = '\0';
    return colon == NULL || parse_port(colon + 1, port);
}

long
find_listener(const rp_policy *p, const char *name)
{
    rp_listener_info info;

    if (name == NULL)
        return -1;
    for (size_t i = 0; i < rp_policy_listener_count(p); i++)
        if (rp_policy_listener(p, i, &info) == RP_OK &&
            strcmp(info.name, name) == 0)
            return (long)i;
    return -2;
}

void
default_local(const rp_policy *p,
              long index,
              int family,
              char *ip,
              size_t ip_size,
              uint32_t *port)
{
    rp_listener_info info;

    memset(&info, 0, sizeof(info));
    if (index < 0)
        index = 0;
    if (rp_policy_listener(p, (size_t)index, &info) != RP_OK)
        info.bind_port = 0;
    if (info.bind_ip[0] != '\0')
        snprintf(ip, ip_size, "%s", info.bind_ip);
    else
        snprintf(ip, ip_size, "%s", family == 6 ? "2001:db8::1" : "192.0.2.1");
    *port = info.bind_port != 0 ? info.bind_port : 25;
}

/* ---- dump --------------------------------------------------------------- */

static int
write_stdout(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    return fwrite(data, 1, len, stdout) == len ? 0 : 1;
}

typedef struct text {
    char *buf;
    size_t n;
} text;

static int
collect(void *ctx, const char *data, size_t len)
{
    text *t = ctx;
    char *nb = realloc(t->buf, t->n + len + 1);

    if (nb == NULL)
        return 1;
    memcpy(nb + t->n, data, len);
    t->n += len;
    nb[t->n] = '\0';
    t->buf = nb;
    return 0;
}

char *
dump_text(const rp_policy *p)
{
    text t = {NULL, 0};

    rp_policy_dump(p, collect, &t);
    return t.buf;
}

int
cmd_dump(int argc, char **argv)
{
    static const opt_spec specs[] = {{"help", false}};
    opt_state st = {argc, argv, 0, NULL};
    const char *path = NULL;
    rp_policy *p;
    int k, rc = 0;

    while ((k = opt_next(&st, specs, 1, "dump")) != -2) {
        if (k == -3)
            return EXIT_USAGE;
        if (k == 0) {
            printf("usage: relaypolicy dump FILE\n\n"
                   "Print the compiled policy in normalised form: role "
                   "presets expanded,\nlists sorted, one entry per line, so "
                   "that two policies can be compared\nwith diff.  The "
                   "output is itself a valid policy.\n");
            return 0;
        }
        if (path != NULL)
            return usage_error("dump", "only one FILE, please");
        path = st.value;
    }
    if (path == NULL)
        return usage_error("dump", "missing policy FILE");
    if ((p = load_policy(path)) == NULL)
        return EXIT_POLICY;
    if (rp_policy_dump(p, write_stdout, NULL) != RP_OK || fflush(stdout) != 0) {
        fprintf(stderr, "relaypolicy dump: cannot write the output\n");
        rc = EXIT_POLICY;
    }
    rp_policy_free(p);
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"check", cmd_check},         {"lint", cmd_lint},
        {"relaytest", cmd_relaytest}, {"dump", cmd_dump},
        {"import", cmd_import},       {"exposure", cmd_exposure},
        {"replay", cmd_replay},       {"compile", cmd_compile},
    };

    if (argc < 2) {
        fputs(main_usage, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(main_usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("relaypolicy %s\n", rp_version_string());
        return 0;
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "relaypolicy: unknown command '%s'\n\n", argv[1]);
    fputs(main_usage, stderr);
    return EXIT_USAGE;
}
