/*
 * check.c - warning the operator when the policy's listeners cannot match
 * the addresses the daemon will be asked about.
 *
 * Postfix names, in every request, the address and port the client
 * connected to; the policy selects a listener by them (relaypolicy(7)
 * §4.2), and when none matches, every recipient gets `554 5.7.1`
 * (no-listener).  The daemon cannot know Postfix's addresses in advance,
 * but it knows the host's: at start and after each reload it probes the
 * policy with every local address on the mail ports, and warns when no
 * listener matches any of them.  At run time it warns, once per address
 * and port, about requests that matched no listener.
 */

#include "log.h"
#include "rpd.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const uint32_t mail_ports[] = {25, 465, 587};
static const char *const clients_v4[] = {"127.0.0.1", "10.0.0.1", "192.168.1.1",
                                         "203.0.113.1"};
static const char *const clients_v6[] = {"::1", "fd00::1", "2001:db8::1"};

/* True when some client reaching @p ip:@p port finds a listener. */
static bool
address_matches(const rp_policy *policy, const char *ip, bool v6)
{
    const char *const *clients = v6 ? clients_v6 : clients_v4;
    size_t n = v6 ? 3 : 4;
    rp_decision d;
    rp_query q;

    for (size_t p = 0; p < sizeof(mail_ports) / sizeof(mail_ports[0]); p++) {
        for (size_t c = 0; c < n; c++) {
            memset(&q, 0, sizeof(q));
            q.client_ip = clients[c];
            q.client_ip_len = RP_NTS;
            q.local_ip = ip;
            q.local_ip_len = RP_NTS;
            q.local_port = mail_ports[p];
            q.recipient = "postmaster";
            q.recipient_len = RP_NTS;
            if (pd_decide(policy, &q, &d) == RP_OK &&
                d.reason != RP_REASON_NO_LISTENER)
                return true;
        }
    }
    return false;
}

bool
rpd_check_host_addresses(const rp_policy *policy)
{
    struct ifaddrs *ifs, *i;
    char ip[INET6_ADDRSTRLEN];
    char seen[512] = "";
    size_t used = 0;
    bool any = false, matched = false;

    if (getifaddrs(&ifs) != 0)
        return true; /* cannot know: say nothing */
    for (i = ifs; i != NULL && !matched; i = i->ifa_next) {
        int fam = i->ifa_addr != NULL ? i->ifa_addr->sa_family : AF_UNSPEC;
        const void *a;

        if (fam == AF_INET)
            a = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
        else if (fam == AF_INET6)
            a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
        else
            continue;
        if (inet_ntop(fam, a, ip, sizeof(ip)) == NULL ||
            strchr(ip, '%') != NULL)
            continue;
        any = true;
        matched = address_matches(policy, ip, fam == AF_INET6);
        if (used + strlen(ip) + 2 < sizeof(seen))
            used += (size_t)snprintf(seen + used, sizeof(seen) - used, "%s%s",
                                     used > 0 ? " " : "", ip);
    }
    freeifaddrs(ifs);
    if (!any || matched)
        return true;
    rpd_log("warning: no listener of %s matches any address of this host "
            "(%s) on ports 25, 465 or 587: requests naming them will be "
            "answered 554 no-listener; check the listeners' bind lines",
            rpd_cfg.policy_path, seen);
    return false;
}

/* Addresses already warned about (a small ring: a bounded memory). */
#define NOTED_MAX 32
static char noted[NOTED_MAX][80];
static unsigned noted_next;
static pthread_mutex_t noted_lock = PTHREAD_MUTEX_INITIALIZER;

void
rpd_note_no_listener(const char *server_address, const char *port)
{
    char key[80];
    char safe[80];

    snprintf(key, sizeof(key), "%s:%s", server_address, port);
    pthread_mutex_lock(&noted_lock);
    for (unsigned k = 0; k < NOTED_MAX; k++) {
        if (strcmp(noted[k], key) == 0) {
            pthread_mutex_unlock(&noted_lock);
            return;
        }
    }
    memcpy(noted[noted_next], key, sizeof(key));
    noted_next = (noted_next + 1) % NOTED_MAX;
    pthread_mutex_unlock(&noted_lock);
    rpd_log_limited("warning: no listener of %s matches server address %s; "
                    "its recipients are answered 554 no-listener",
                    rpd_cfg.policy_path, rpd_log_safe(key, safe, sizeof(safe)));
}
