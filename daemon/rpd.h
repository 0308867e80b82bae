/*
 * rpd.h - what the parts of relaypolicyd share: its settings and the
 * policy slot.
 */
#ifndef RPD_H
#define RPD_H

#include "request.h"

#include <relaypolicy.h>

#include <stdbool.h>
#include <sys/types.h>

/* Most listening sockets (-l options or sockets passed by systemd). */
#define RPD_MAX_LISTEN 8
/* Most event loops (-w). */
#define RPD_MAX_WORKERS 16

typedef struct rpd_config {
    const char *policy_path;
    const char *listen[RPD_MAX_LISTEN];
    unsigned n_listen;
    pd_style style;
    const char *pid_file;
    unsigned max_conns;      /* -m: every client together */
    unsigned max_per_client; /* -c: one client address (inet only) */
    unsigned workers;        /* -w: event loops, each on its own thread */
    int request_timeout;     /* -t: a whole request, and its answer */
    int idle_timeout;        /* -i: between requests */
    unsigned log_rate;       /* -L: client-caused log lines per second */
    mode_t socket_mode;
    bool quiet;       /* -q: no line per decision */
    bool config_test; /* -n */
} rpd_config;

extern rpd_config rpd_cfg;

/* The policy in force; the event loop acquires it per request. */
extern rp_policy_slot *rpd_slot;

/* ---- reload.c ---- */

/* Compile the policy file; logs and returns NULL on failure. */
rp_policy *rpd_policy_load(void);
/* Start the reload thread. */
bool rpd_reload_start(void);
/* Ask for a reload; requests made while one compiles are merged into one
 * more.  Never blocks. */
void rpd_reload_request(void);
/* Stop the reload thread (waits for a compile in progress). */
void rpd_reload_stop(void);

/* ---- check.c ---- */

/* Warn when no listener of @p policy matches any address of this host on
 * the usual mail ports.  Returns false when it warned. */
bool rpd_check_host_addresses(const rp_policy *policy);
/* Warn, once per address and port, that a request named an address no
 * listener matches. */
void rpd_note_no_listener(const char *server_address, const char *port);

/* ---- listen.c ---- */

/* Open the -l sockets, or take those systemd passed.  Fills @p fds and
 * @p shown (printable names); returns the count, or -1. */
int rpd_listen_open(int *fds, char shown[][128]);
/* Remove the unix sockets this process created. */
void rpd_listen_cleanup(void);

/* ---- server.c ---- */

/* Serve until SIGTERM or SIGINT.  @p sig_fd carries signal numbers. */
int rpd_serve(const int *listen_fds, int n_listen, int sig_fd);

#endif /* RPD_H */
