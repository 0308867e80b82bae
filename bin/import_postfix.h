/*
 * import_postfix.h - what the Postfix importer's files share: the
 * configuration as Postfix itself reports it (postconf), the smtpd
 * services of master.cf, and the translation of restriction lists.
 */
#ifndef RP_IMPORT_POSTFIX_H
#define RP_IMPORT_POSTFIX_H

#include "import.h"

#define PF_MAX_SERVICES 32
#define PF_MAX_OVERRIDES 64

/* One `-o name=value` of a master.cf service. */
typedef struct pf_override {
    char *name, *value; /* value with $parameters expanded */
} pf_override;

/* An smtpd service of master.cf: a listener. */
typedef struct pf_service {
    char name[128];  /* master.cf service name, e.g. "submission" */
    char lname[128]; /* the listener's name in the policy */
    char host[64];   /* "" unless the service is HOST:PORT */
    unsigned port;
    pf_override ov[PF_MAX_OVERRIDES];
    size_t n_ov;
} pf_service;

/* The configuration: main.cf values through postconf, the services. */
typedef struct pf_conf {
    const char *dir; /* --config-dir, or NULL for the default */
    char **names;    /* parameters fetched so far */
    char **values;   /* their expanded values */
    size_t n, cap;
    sbuf set; /* `postconf -n`: the explicitly set parameters */
    pf_service svc[PF_MAX_SERVICES];
    size_t n_svc;
    pset mynetworks;             /* main.cf mynetworks, parsed */
    bool have_local, have_relay; /* the policy has such domains */
    bool login_map_everywhere;   /* reject_sender_login_mismatch on all */
    bool login_map_used;
    /* check_sender_access / check_recipient_access tables seen, with the
     * number of services that check them before any permit. */
    struct pf_access {
        char kind[12]; /* "sender" or "recipient" */
        char table[256];
        char param[64];
        size_t first; /* services checking it before any permit */
        size_t seen;  /* services checking it at all */
    } access[16];
    size_t n_access;
} pf_conf;

/* Run postconf (or postmap) with @p args after "-c DIR"; the output in
 * @p out.  False when it cannot be run or fails. */
bool
pf_run(const pf_conf *c, const char *prog, const char *const *args, sbuf *out);
/* The expanded main.cf value of @p name ("" when unknown). */
const char *pf_get(pf_conf *c, const char *name);
/* A service's value: its -o override (expanded) or the main.cf value. */
const char *pf_svc_get(pf_conf *c, const pf_service *s, const char *name);
/* Split a Postfix list (blanks and commas) into words; free with
 * pf_words_free.  "{ ... }" groups are kept as one word. */
size_t pf_words(const char *value, char ***out);
void pf_words_free(char **w, size_t n);
/* The keys and values of a lookup table "type:name" (postmap -s, or the
 * source file beside a missing .db); false with a finding when the
 * table cannot be read. */
bool pf_table(import *im,
              pf_conf *c,
              const char *param,
              const char *table,
              char ***keys,
              char ***values,
              size_t *n);

/* Write `network mynetworks`, the domains with their recipients, self
 * addresses, the sender-login map (import_pfdomains.c). */
void pf_mynetworks(import *im, pf_conf *c);
void pf_domains(import *im, pf_conf *c);
void pf_sender_login(import *im, pf_conf *c);

/* Recipient classes: a local domain, a relay domain, elsewhere. */
enum { K_LOCAL, K_RELAYDOM, K_EXT, K_N };

/* What one service allows: the refused sets per auth state and class,
 * and which restrictions permitted. */
typedef struct verdicts {
    pset rej[2][K_N];
    sbuf why[2][K_N];
    bool sasl;
} verdicts;

/* Evaluate a service's restriction lists (import_pfrules.c). */
void service_verdicts(import *im, pf_conf *c, const pf_service *s, verdicts *v);
void verdicts_free(verdicts *v);
/* A finding, reported once whatever the number of services sharing it. */
void finding_once(import *im, const char *param, const char *msg);

/* Write the deny lists of check_sender_access / check_recipient_access
 * tables that every service checks before any permit (import_pfaccess.c). */
void pf_access_denies(import *im, pf_conf *c);

/* Translate the restriction lists of every service into listeners. */
void pf_listeners(import *im, pf_conf *c);

#endif /* RP_IMPORT_POSTFIX_H */
