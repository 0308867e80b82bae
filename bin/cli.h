/*
 * cli.h - shared pieces of the relaypolicy command.
 *
 * The command uses only the public API (relaypolicy.h).  Each subcommand
 * lives in its own file and is entered through a cmd_* function taking
 * the arguments after the subcommand name.
 */
#ifndef RP_CLI_H
#define RP_CLI_H

#include "relaypolicy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes (see relaypolicy(1)). */
#define EXIT_FINDING 1 /* a rejection, a critical finding, an open relay */
#define EXIT_POLICY 2  /* the policy does not compile, or an I/O error */
#define EXIT_USAGE 64  /* bad command line (sysexits EX_USAGE) */

/* A minimal long-option parser: "--name VALUE", "--name=VALUE", flags and
 * positional arguments, in any order. */
typedef struct opt_spec {
    const char *name; /* without the leading "--" */
    bool takes_value;
} opt_spec;

typedef struct opt_state {
    int argc;
    char **argv;
    int i;
    const char *value; /* of the last option, or the positional argument */
} opt_state;

/* Returns the index of the option in @p specs, -1 for a positional
 * argument (in st->value), -2 at the end, -3 after printing a usage error
 * for an unknown option or a missing value. */
int opt_next(opt_state *st, const opt_spec *specs, size_t n, const char *cmd);

/* Print "relaypolicy CMD: message" to stderr and return EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Compile @p path, or open it when it is a compiled policy file
 * (rp_policy_load_path()); on failure
 * print "file:line:col: message" to stderr and return NULL. */
rp_policy *load_policy(const char *path);

/* The policy's dump (rp_policy_dump()) as one string, for the
 * subcommands that read its rule lines; free() it.  NULL when nothing
 * could be collected; cut short when memory ran out. */
char *dump_text(const rp_policy *p);

/* rp_decide() with the command's one workspace (made on first use, freed
 * at exit).  The decision's strings stay valid until the next call. */
rp_status cli_decide(const rp_policy *p, const rp_query *q, rp_decision *d);

/* Print an rp_error as "file:line:col: message". */
void print_error(const rp_error *err, const char *path);

/* Split "IP:PORT", "[IPv6]:PORT" or a bare IP into @p ip and @p port
 * (0 when absent).  Returns false when malformed. */
bool split_hostport(const char *s, char *ip, size_t ip_size, uint32_t *port);

/* The index of the listener named @p name (--listener): -1 when @p name
 * is NULL, -2 when the policy has no such listener. */
long find_listener(const rp_policy *p, const char *name);

/* The local address and port a query uses when none is given: the first
 * explicit bind of listener @p index (or of the first listener), whatever
 * the client's family; else a documentation address of @p family.  The
 * port is the listener's first explicit port, else 25. */
void default_local(const rp_policy *p,
                   long index,
                   int family,
                   char *ip,
                   size_t ip_size,
                   uint32_t *port);

/* The family (4 or 6) of an IP text, by its form; 0 if unsure. */
int ip_family(const char *ip);

/* Default local addresses per family, as default_local() gives them. */
typedef struct locals {
    char ip4[64], ip6[64];
    uint32_t port4, port6;
} locals;

void locals_init(locals *L, const rp_policy *p, long listener);

/* Lines decided with one rp_decide_batch() call. */
#define BATCH_LINES 64
#define FACT_MAX_GROUPS 64

/* One line of session facts made into a query (check --batch, replay).
 * The query's strings point into the parsed line, kept until
 * fact_release(). */
typedef struct fact {
    rp_query q;
    unsigned long line;
    const char *error; /* NULL, or why the line cannot be used */
    char why[200];
    char lip[64];
    const char *groups[FACT_MAX_GROUPS];
    void *json; /* the parsed line */
    void *id;   /* its "id" member, or NULL */
} fact;

/* A JSON line of the batch format (@p n bytes at @p s, newline allowed);
 * the local address defaults to @p L. */
void fact_from_json(
    fact *f, const locals *L, unsigned long line, const char *s, size_t n);
void fact_release(fact *f);

int cmd_check(int argc, char **argv);
/* `check --batch`: JSON lines from stdin to stdout.  @p listener is the
 * index of --listener, or -1. */
int cmd_batch(const rp_policy *p, long listener);
int cmd_lint(int argc, char **argv);
int cmd_relaytest(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_exposure(int argc, char **argv);
int cmd_replay(int argc, char **argv);

#endif /* RP_CLI_H */
