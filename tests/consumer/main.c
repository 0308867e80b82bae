/* A tiny program that uses an installed relaypolicy to reach a decision. */
#include <relaypolicy.h>

#include <stdio.h>
#include <string.h>

int
main(void)
{
    static const char policy[] = "domain local.example local\n"
                                 "listener mx {\n"
                                 "    bind 0.0.0.0:25\n"
                                 "    role gateway\n"
                                 "}\n";
    rp_policy *p;
    rp_error err;
    rp_workspace *ws;
    rp_query q;
    rp_decision d;
    int rc = 0;

    if (rp_policy_compile(policy, sizeof(policy) - 1, NULL, &p, &err) !=
        RP_OK) {
        fprintf(stderr, "%s:%s\n", err.file, err.message);
        return 1;
    }
    memset(&q, 0, sizeof(q));
    q.client_ip = "203.0.113.5";
    q.client_ip_len = RP_NTS;
    q.local_ip = "192.0.2.1";
    q.local_ip_len = RP_NTS;
    q.local_port = 25;
    q.recipient = "user@remote.example";
    q.recipient_len = RP_NTS;
    if (rp_workspace_new(NULL, &ws) != RP_OK) {
        rp_policy_free(p);
        return 1;
    }
    if (rp_decide(p, &q, ws, &d) != RP_OK || d.verdict != RP_REJECT ||
        d.code != 550) {
        fprintf(stderr, "unexpected decision: %s\n", d.reply);
        rc = 1;
    } else {
        printf("relaypolicy %s: %s\n", rp_version_string(), d.reply);
    }
    rp_workspace_free(ws);
    rp_policy_free(p);
    return rc;
}
