/*
 * fuzz_pfile.c - the compiled policy file reader: rp_policy_load() on
 * bytes that are meant to be a compiled policy file but may be anything.
 *
 * Invariants, for any input:
 *   - loading never reads outside the input (ASan sees the exact copy),
 *     never crashes, and either succeeds or says RP_E_FORMAT (or
 *     RP_E_NOMEM);
 *   - a policy that loads answers decisions (any answer), dumps, lints
 *     and replays its exposure without reading outside what it holds;
 *   - with RP_OPT_VERIFY, an input whose checksum does not match is
 *     refused;
 *   - what a loaded policy writes, once it loads, writes the same bytes.
 *
 * The checksum is not checked by default, so mutated seeds reach every
 * structural check of the reader.
 */
#include "../tests/write_buf.h"
#include "fuzz_common.h"
#include "pfile.h"

#include <stdio.h>

static rp_workspace *ws;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (rp_workspace_new(NULL, &ws) != RP_OK)
        abort();
    return 0;
}

static int
drop(void *ctx, const char *data, size_t len)
{
    volatile unsigned *sum = ctx;

    for (size_t i = 0; i < len; i++)
        *sum += (unsigned char)data[i];
    return 0;
}

static int
each_finding(void *ctx, const rp_finding *f)
{
    (void)ctx;
    return f->code[0] == '\0' && f->message[0] == '\0';
}

static int
each_range(void *ctx, const rp_exposure *e)
{
    (void)ctx;
    return e->listener[0] == '\0' && e->rule_text[0] == '\0' &&
           e->n_locals == 0;
}

static void
decide_some(const rp_policy *p, const uint8_t *data, size_t size)
{
    static const char *const rcpt[] = {"postmaster", "a@example.com",
                                       "b@[192.0.2.7]", "c%d@e.example",
                                       "x@sub.example.net"};
    rp_decision d;
    rp_query q;

    for (unsigned i = 0; i < 10; i++) {
        memset(&q, 0, sizeof(q));
        q.client.family = i % 2 ? 6 : 4;
        for (unsigned k = 0; k < 16; k++)
            q.client.addr[k] = size > 0 ? data[(i * 16 + k) % size] : 0;
        q.local.family = 4;
        q.local.addr[0] = 192;
        q.local.addr[3] = (uint8_t)i;
        q.local_port = i % 3 ? 25 : 587;
        q.recipient = rcpt[i % 5];
        q.recipient_len = strlen(q.recipient);
        q.sender = "s@example.org";
        q.sender_len = 13;
        q.user = i % 4 == 1 ? "alice" : NULL;
        q.user_len = q.user != NULL ? 5 : 0;
        q.flags = RP_QUERY_EXPLAIN;
        rp_decide(p, &q, ws, &d);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rp_options o;
    rp_policy *p = NULL, *again = NULL;
    rp_status st;
    write_buf a = {NULL, 0, 0}, b = {NULL, 0, 0};
    unsigned dumped = 0;

    rp_options_init(&o);
    o.flags = RP_OPT_NO_JIT;
    st = rp_policy_load(data, size, &o, &p, NULL);
    if (st != RP_OK) {
        if (st != RP_E_FORMAT && st != RP_E_NOMEM)
            abort();
        return 0;
    }
    if (size < RP__PF_HEADER)
        abort();
    decide_some(p, data, size);
    rp_policy_dump(p, drop, &dumped);
    rp_policy_lint(p, each_finding, NULL, NULL);
    rp_policy_exposure(p, each_range, NULL);
    for (size_t i = 0; i < rp_policy_listener_count(p); i++) {
        rp_exposure_summary s;
        rp_policy_exposure_summary(p, i, &s);
    }
    o.flags |= RP_OPT_VERIFY;
    if (rp__pf_checksum(data, size) != rp__pf_ld64(data + RP__PFH_SUM) &&
        rp_policy_load(data, size, &o, &again, NULL) != RP_E_FORMAT)
        abort();
    rp_policy_free(again);
    again = NULL;
    /* What loads writes a file; when that loads (a damaged input may
     * hold what the writer does not reproduce, such as a NUL inside the
     * dump text), it writes the same bytes again. */
    if (rp_policy_write(p, write_buf_put, &a) == RP_OK &&
        rp_policy_load(a.s, a.n, &o, &again, NULL) == RP_OK &&
        (rp_policy_write(again, write_buf_put, &b) != RP_OK || a.n != b.n ||
         memcmp(a.s, b.s, a.n) != 0)) {
        fprintf(stderr, "a written policy does not write itself back\n");
        abort();
    }
    free(a.s);
    free(b.s);
    rp_policy_free(again);
    rp_policy_free(p);
    return 0;
}
