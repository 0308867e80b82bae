/*
 * fuzz_common.h - helpers shared by the fuzz targets: cutting an input
 * into fields and the realistic policy the decision targets run against.
 *
 * Every helper is static and works on the caller's buffers, so each target
 * stays a single translation unit that links only the library objects.
 */
#ifndef RP_FUZZ_COMMON_H
#define RP_FUZZ_COMMON_H

#include "relaypolicy.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Entry points every target defines (libFuzzer's names). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One field of an input: a pointer into the input and a length. */
typedef struct fz_field {
    const char *p;
    size_t n;
} fz_field;

/*
 * Cut @p data into at most @p max fields separated by @p sep; the last
 * field takes the rest of the input, separators included.  Missing fields
 * are empty.  Returns the number of fields present.
 */
static inline size_t
fz_split(const uint8_t *data, size_t size, char sep, fz_field *out, size_t max)
{
    size_t k = 0, start = 0;

    for (size_t i = 0; i < max; i++)
        out[i].p = "", out[i].n = 0;
    if (max == 0)
        return 0;
    for (size_t i = 0; i < size && k + 1 < max; i++) {
        if (data[i] != (uint8_t)sep)
            continue;
        out[k].p = (const char *)data + start;
        out[k].n = i - start;
        k++;
        start = i + 1;
    }
    out[k].p = (const char *)data + start;
    out[k].n = size - start;
    return k + 1;
}

/*
 * The fixed policy of the decision targets: local domains with and without
 * recipient validation, relay domains (exact and regex), reroutes to a
 * local and to an external target, own addresses, three listeners, deny
 * lists of every form and a sender-login map.
 */
#define FZ_UNUSED __attribute__((unused))

static const char fz_policy_text[] FZ_UNUSED =
    "domain local.example local recipients alice bob carol postmaster\n"
    "domain .corp.example local\n"
    "domain relay.example relay\n"
    "domain /^mx[0-9]+\\.partner\\.example$/ relay\n"
    "domain old.example reroute local.example\n"
    "domain fwd.example reroute target.example\n"
    /* домен.рф as a U-label, bücher.example and .日本.example as A-labels */
    "domain \xd0\xb4\xd0\xbe\xd0\xbc\xd0\xb5\xd0\xbd.\xd1\x80\xd1\x84 local "
    "recipients \xd0\xb0\xd0\xbb\xd0\xb8\xd1\x81\xd0\xb0 bob\n"
    "domain xn--bcher-kva.example reroute local.example\n"
    "domain .xn--wgv71a.example relay\n"
    "network office 10.0.0.0/8 2001:db8:10::/48\n"
    "network devices 192.168.1.10 192.168.1.11\n"
    "network guests 10.99.0.0/16\n"
    "group admins root\n"
    "self 192.0.2.1 2001:db8::25\n"
    "self-domain local.example\n"
    "qualify-domain local.example\n"
    "listener internet {\n"
    "    bind 0.0.0.0:25 [::]:25\n"
    "    role gateway\n"
    "    allow network devices relay\n"
    "    allow network office relay\n"
    "    allow group admins relay\n"
    "    deny network guests relay\n"
    "}\n"
    "listener submission {\n"
    "    bind *:587\n"
    "    require auth\n"
    "    allow authenticated submit relay\n"
    "}\n"
    "listener legacy {\n"
    "    bind 192.0.2.1:2525\n"
    "    remote office\n"
    "    allow network office relay routing\n"
    "}\n"
    "deny client 198.51.100.0/24\n"
    "deny sender /@spam\\.example$/ @bad.example .worse.example\n"
    "deny recipient trap@local.example /^x+y@/ .blocked.example\n"
    "deny recipient @\xd1\x81\xd0\xbf\xd0\xb0\xd0\xbc.example\n"
    "sender-login alice alice@local.example @alice.example\n"
    "reply relay-denied 554 5.7.1 \"Relay access denied\"\n";

/* Compile the fixed policy or stop the process: a target without its
 * policy would test nothing. */
static inline rp_policy *
fz_policy(void)
{
    rp_policy *p = NULL;
    rp_error err;
    rp_options o;

    rp_options_init(&o);
    o.flags = RP_OPT_NO_FILES;
    if (rp_policy_compile(fz_policy_text, sizeof(fz_policy_text) - 1, &o, &p,
                          &err) != RP_OK)
        abort();
    return p;
}

/* Clients no rule of the fixed policy grants anything beyond submit. */
static const char *const fz_untrusted[] FZ_UNUSED = {
    "203.0.113.9", "2001:db8:ffff::1",     "192.168.1.12",
    "172.16.5.5",  "::ffff:203.0.113.200", "198.18.0.1",
};
/* Every client address worth trying, trusted or not. */
static const char *const fz_clients[] FZ_UNUSED = {
    "203.0.113.9",  "10.1.2.3",       "192.168.1.10", "10.99.3.4",
    "198.51.100.7", "2001:db8:10::5", "::1",          "192.0.2.1",
};
/* Local addresses and ports that select each listener (or none). */
static const char *const fz_locals[] FZ_UNUSED = {
    "192.0.2.1", "192.0.2.2", "2001:db8::25", "::ffff:192.0.2.1"};
static const uint32_t fz_ports[] FZ_UNUSED = {25, 587, 2525, 26};

#define FZ_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The target's workspace for rp_decide(), made on first use and kept for
 * the life of the process. */
static inline rp_workspace *
fz_ws(void)
{
    static rp_workspace *ws;

    if (ws == NULL && rp_workspace_new(NULL, &ws) != RP_OK)
        abort();
    return ws;
}

#endif /* RP_FUZZ_COMMON_H */
