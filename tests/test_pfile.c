/*
 * test_pfile.c - compiled policy files (lib/pfile_write.c, pfile_read.c):
 * a policy opened from its file decides, dumps, lints and reports its
 * exposure exactly as the policy compiled from text, over every decision
 * vector; damaged and foreign files are refused, never trusted.
 */
#include "pfile.h"
#include "test_ws.h"
#include "vectors.h"
#include "write_buf.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static write_buf
image_of(const rp_policy *p)
{
    write_buf t = {NULL, 0, 0};

    cr_assert_eq(rp_policy_write(p, write_buf_put, &t), RP_OK);
    return t;
}

static write_buf
dump_of(const rp_policy *p)
{
    write_buf t = {NULL, 0, 0};

    cr_assert_eq(rp_policy_dump(p, write_buf_put, &t), RP_OK);
    return t;
}

static int
lint_line(void *ctx, const rp_finding *f)
{
    char line[2048];
    int n = snprintf(line, sizeof(line), "%u %s %s:%u %s | %s\n", f->severity,
                     f->code, f->file ? f->file : "-", f->line, f->message,
                     f->advice);

    return write_buf_put(ctx, line, (size_t)n);
}

static int
exposure_line(void *ctx, const rp_exposure *e)
{
    char line[2048];
    int n =
        snprintf(line, sizeof(line), "%u %s %s %zu %s:%u %s %.0f\n",
                 e->listener_index, e->listener, e->client.text, e->n_locals,
                 e->rule_file, e->rule_line, e->rule_text, e->public_count);

    for (size_t i = 0; i < e->n_locals; i++)
        n += snprintf(line + n, sizeof(line) - (size_t)n, " %s:%u",
                      e->locals[i].range.text, e->locals[i].port);
    return write_buf_put(ctx, line, strlen(line));
}

/* Everything but decisions a policy says about itself, as text. */
static write_buf
describe(const rp_policy *p)
{
    write_buf t = dump_of(p);
    size_t n = 0;

    cr_assert_eq(rp_policy_lint(p, lint_line, &t, &n), RP_OK);
    cr_assert_eq(rp_policy_exposure(p, exposure_line, &t), RP_OK);
    for (size_t i = 0; i < rp_policy_listener_count(p); i++) {
        rp_exposure_summary s;
        rp_listener_info li;
        char line[512];

        cr_assert_eq(rp_policy_exposure_summary(p, i, &s), RP_OK);
        cr_assert_eq(rp_policy_listener(p, i, &li), RP_OK);
        snprintf(line, sizeof(line), "%s %s:%u %u %s %u %llu %.0f %zu %d\n",
                 li.name, li.file, li.line, li.n_binds, li.bind_ip,
                 li.bind_port, (unsigned long long)s.public4, s.public6,
                 s.n_ranges, s.unsafe);
        write_buf_put(&t, line, strlen(line));
    }
    return t;
}

static rp_policy *
compile_data(const char *dir, const char *name)
{
    char path[1024];
    rp_policy *p = NULL;
    rp_error err;

    snprintf(path, sizeof(path), "%s/%s/%s", RP_TEST_DATA, dir, name);
    cr_assert_eq(rp_policy_compile_file(path, NULL, &p, &err), RP_OK, "%s: %s",
                 path, err.message);
    return p;
}

/* The policy through a file: saved, then opened (mapped). */
static rp_policy *
through_file(const rp_policy *p)
{
    char dir[] = "/tmp/rp-pfile-XXXXXX", path[256];
    rp_policy *q = NULL;
    rp_error err;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/policy.rpc", dir);
    cr_assert_eq(rp_policy_save(p, path, &err), RP_OK, "%s", err.message);
    cr_assert_eq(rp_policy_open(path, NULL, &q, &err), RP_OK, "%s",
                 err.message);
    unlink(path);
    rmdir(dir);
    return q;
}

static void
same_decision(const rp_decision *a, const rp_decision *b, const char *what)
{
    cr_expect_eq(a->verdict, b->verdict, "%s: verdict", what);
    cr_expect_eq(a->reason, b->reason, "%s: reason", what);
    cr_expect_eq(a->step, b->step, "%s: step", what);
    cr_expect_eq(a->code, b->code, "%s: code", what);
    cr_expect_str_eq(a->enhanced, b->enhanced, "%s: enhanced", what);
    cr_expect_eq(a->listener_index, b->listener_index, "%s", what);
    cr_expect_eq(a->rule, b->rule, "%s: rule", what);
    cr_expect_eq(a->rule_line, b->rule_line, "%s: rule line", what);
    cr_expect_eq(a->prefix_len, b->prefix_len, "%s: prefix", what);
    cr_expect_eq(a->permissions, b->permissions, "%s: permissions", what);
    cr_expect_eq(a->flags, b->flags, "%s: flags", what);
    cr_expect_str_eq(a->text, b->text, "%s: text", what);
    cr_expect_str_eq(a->listener, b->listener, "%s: listener", what);
    cr_expect_str_eq(a->rule_file, b->rule_file, "%s: rule file", what);
    cr_expect_str_eq(a->reply, b->reply, "%s: reply", what);
    cr_expect_str_eq(a->destination, b->destination, "%s", what);
    cr_expect_str_eq(a->rewritten, b->rewritten, "%s: rewritten", what);
    cr_expect_str_eq(a->explanation, b->explanation, "%s: explanation", what);
}

/* Copy what a decision points into the workspace, before the next one. */
typedef struct saved {
    rp_decision d;
    char reply[1024], dest[512], rew[512], expl[8192];
} saved;

static void
save_decision(saved *s, const rp_decision *d)
{
    s->d = *d;
    snprintf(s->reply, sizeof(s->reply), "%s", d->reply);
    snprintf(s->dest, sizeof(s->dest), "%s", d->destination);
    snprintf(s->rew, sizeof(s->rew), "%s", d->rewritten);
    snprintf(s->expl, sizeof(s->expl), "%s", d->explanation);
    s->d.reply = s->reply;
    s->d.destination = s->dest;
    s->d.rewritten = s->rew;
    s->d.explanation = s->expl;
}

/* Every case of vector file @p file, on the text-compiled policy and on
 * the one opened from its file; returns the number of cases. */
static unsigned
differential(const char *file)
{
    char path[1024], line[2048];
    rp_policy *p = NULL, *q = NULL;
    unsigned cases = 0, lineno = 0;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/decide/%s", RP_TEST_DATA, file);
    cr_assert_not_null(fp = fopen(path, "r"), "%s", path);
    while (fgets(line, sizeof(line), fp) != NULL) {
        char policy[256], what[64], why[512];
        vec_case c;
        rp_query qy;
        rp_decision d;
        saved a;

        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "policy %255s", policy) == 1) {
            write_buf t1, t2;

            rp_policy_free(p);
            rp_policy_free(q);
            p = compile_data("decide", policy);
            q = through_file(p);
            t1 = describe(p);
            t2 = describe(q);
            cr_expect_str_eq(t1.s, t2.s, "%s: dump, lint or exposure", policy);
            free(t1.s);
            free(t2.s);
            continue;
        }
        cr_assert_eq(vec_parse(line, &c), 0);
        vec_query(&c, &qy);
        qy.flags |= RP_QUERY_EXPLAIN;
        snprintf(what, sizeof(what), "%s:%u", file, lineno);
        cr_assert_eq(rp_decide(p, &qy, test_ws(), &d), RP_OK);
        save_decision(&a, &d);
        cr_assert_eq(rp_decide(q, &qy, test_ws(), &d), RP_OK);
        same_decision(&a.d, &d, what);
        cr_expect_eq(vec_check(&c, &d, why, sizeof(why)), 0, "%s: %s", what,
                     why);
        cases++;
    }
    fclose(fp);
    rp_policy_free(p);
    rp_policy_free(q);
    return cases;
}

/* ---- the same policy ---------------------------------------------------- */

Test(pfile, decision_vectors_agree)
{
    DIR *d = opendir(RP_TEST_DATA "/decide");
    struct dirent *e;
    unsigned files = 0, cases = 0;

    cr_assert_not_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".txt") == 0 &&
            strcmp(e->d_name, "empty-users.txt") != 0) {
            cases += differential(e->d_name);
            files++;
        }
    }
    closedir(d);
    cr_assert_gt(files, 5);
    cr_assert_gt(cases, 100);
}

Test(pfile, load_equals_open_and_rewrites_the_same_bytes)
{
    rp_policy *p = compile_data("decide", "main.conf"), *q = NULL, *r;
    write_buf a = image_of(p), b;
    rp_error err;

    cr_assert_eq(rp_policy_load(a.s, a.n, NULL, &q, &err), RP_OK, "%s",
                 err.message);
    b = image_of(q);
    cr_assert_eq(a.n, b.n);
    cr_assert(memcmp(a.s, b.s, a.n) == 0, "a reopened policy writes the "
                                          "same file");
    r = through_file(q);
    free(b.s);
    b = image_of(r);
    cr_assert(a.n == b.n && memcmp(a.s, b.s, a.n) == 0);
    cr_assert_eq(rp__pf_checksum((const uint8_t *)a.s, a.n),
                 rp__pf_ld64((const uint8_t *)a.s + RP__PFH_SUM));
    free(a.s);
    free(b.s);
    rp_policy_free(p);
    rp_policy_free(q);
    rp_policy_free(r);
}

Test(pfile, header_is_little_endian_and_versioned)
{
    rp_policy *p = compile_data("decide", "main.conf");
    write_buf a = image_of(p);
    const uint8_t *h = (const uint8_t *)a.s;

    cr_assert(memcmp(h, RP_POLICY_FILE_MAGIC, 8) == 0);
    cr_assert_eq(h[8], RP_POLICY_FILE_VERSION);
    cr_assert(h[20] == 4 && h[21] == 3 && h[22] == 2 && h[23] == 1);
    cr_assert_eq(rp__pf_ld64(h + RP__PFH_SIZE), a.n);
    free(a.s);
    rp_policy_free(p);
}

/* ---- refusing damaged and foreign files --------------------------------- */

static rp_status
load_bytes(const void *b, size_t n, uint32_t flags, rp_policy **out)
{
    rp_options o;
    rp_error err;

    rp_options_init(&o);
    o.flags = flags;
    return rp_policy_load(b, n, &o, out, &err);
}

Test(pfile, foreign_and_cut_files_are_refused)
{
    rp_policy *p = compile_data("decide", "main.conf"), *q = (rp_policy *)1;
    write_buf a = image_of(p);
    char *b = malloc(a.n);
    rp_error err;

    cr_assert_eq(load_bytes("hello", 5, 0, &q), RP_E_FORMAT);
    cr_assert_null(q);
    cr_assert_eq(load_bytes(NULL, 0, 0, &q), RP_E_FORMAT);
    cr_assert_eq(load_bytes(a.s, a.n - 1, 0, &q), RP_E_FORMAT);
    cr_assert_eq(load_bytes(a.s, RP__PF_HEADER, 0, &q), RP_E_FORMAT);
    memcpy(b, a.s, a.n);
    b[8] = RP_POLICY_FILE_VERSION + 1; /* another format version */
    cr_assert_eq(rp_policy_load(b, a.n, NULL, &q, &err), RP_E_FORMAT);
    cr_assert(strstr(err.message, "format version") != NULL, "%s", err.message);
    b[8] = 1; /* the first format, whose items and domains were records of
                 the stream */
    cr_assert_eq(rp_policy_load(b, a.n, NULL, &q, &err), RP_E_FORMAT);
    cr_assert(strstr(err.message, "format version") != NULL, "%s", err.message);
    memcpy(b, a.s, a.n);
    b[20] = 1, b[23] = 4; /* a big-endian header */
    cr_assert_eq(load_bytes(b, a.n, 0, &q), RP_E_FORMAT);
    cr_assert_eq(rp_policy_open("/nonexistent/x.rpc", NULL, &q, &err), RP_E_IO);
    cr_assert_eq(
        rp_policy_open(RP_TEST_DATA "/decide/main.conf", NULL, &q, &err),
        RP_E_FORMAT);
    cr_assert_eq(rp_policy_open("/dev/null", NULL, &q, &err), RP_E_IO);
    cr_assert_eq(rp_policy_open(NULL, NULL, &q, &err), RP_E_ARG);
    cr_assert_eq(rp_policy_load(a.s, a.n, NULL, NULL, &err), RP_E_ARG);
    free(b);
    free(a.s);
    rp_policy_free(p);
}

/* Decide a few queries on a policy that opened from a damaged file: the
 * answers may be anything, but nothing may crash. */
static void
exercise(const rp_policy *p)
{
    static const char *const rcpt[] = {"a@example.com", "postmaster",
                                       "x@[192.0.2.1]", "u%v@w.example"};
    rp_decision d;
    rp_query q;
    write_buf t = {NULL, 0, 0};

    for (unsigned i = 0; i < 8; i++) {
        memset(&q, 0, sizeof(q));
        q.client.family = i % 2 ? 6 : 4;
        q.client.addr[0] = (uint8_t)(i * 37);
        q.client.addr[15] = (uint8_t)i;
        q.local.family = 4;
        q.local.addr[0] = 192;
        q.local_port = 25;
        q.recipient = rcpt[i % 4];
        q.recipient_len = strlen(q.recipient);
        q.sender = "s@example.org";
        q.sender_len = 13;
        q.user = i % 3 == 0 ? "alice" : NULL;
        q.user_len = q.user != NULL ? 5 : 0;
        q.flags = RP_QUERY_EXPLAIN;
        rp_decide(p, &q, test_ws(), &d);
    }
    rp_policy_dump(p, write_buf_put, &t);
    rp_policy_lint(p, lint_line, &t, NULL);
    rp_policy_exposure(p, exposure_line, &t);
    free(t.s);
}

/* A string decisions copy into a fixed buffer is refused when too long:
 * the qualify domain run on into the bytes after it. */
Test(pfile, overlong_qualify_domain_is_refused)
{
    static const char src[] =
        "domain a.example reroute b.example\n"
        "qualify-domain q.example\n"
        "listener mx {\n bind 0.0.0.0:25\n role gateway\n}\n";
    rp_policy *p = NULL, *q = NULL;
    rp_error err;
    write_buf a;
    char *b, *at;

    cr_assert_eq(rp_policy_compile(src, RP_NTS, NULL, &p, &err), RP_OK, "%s",
                 err.message);
    a = image_of(p);
    cr_assert_eq(load_bytes(a.s, a.n, 0, &q), RP_OK);
    rp_policy_free(q);
    b = malloc(a.n);
    memcpy(b, a.s, a.n);
    at = NULL;
    /* The pool string itself, not the end of its statement's text. */
    for (size_t i = 0; at == NULL && i + 11 <= a.n; i++)
        if (memcmp(b + i, "\0q.example", 11) == 0)
            at = b + i + 1;
    cr_assert_not_null(at);
    cr_assert_gt((size_t)(b + a.n - at), 400);
    for (size_t i = 0; i < 300; i++)
        at[i] = at[i] == '\0' ? 'x' : at[i];
    cr_assert_eq(rp_policy_load(b, a.n, NULL, &q, &err), RP_E_FORMAT);
    cr_assert(strstr(err.message, "qualify") != NULL, "%s", err.message);
    free(b);
    free(a.s);
    rp_policy_free(p);
}

Test(pfile, every_damaged_byte_is_caught_or_harmless)
{
    rp_policy *p = compile_data("decide", "main.conf"), *q;
    write_buf a = image_of(p);
    char *b = malloc(a.n);
    size_t opened = 0;

    cr_assert_not_null(b);
    for (size_t i = 0; i < a.n; i++) {
        memcpy(b, a.s, a.n);
        b[i] ^= (char)(1u << (i % 8));
        q = NULL;
        cr_assert_eq(load_bytes(b, a.n, RP_OPT_VERIFY, &q), RP_E_FORMAT,
                     "byte %zu: the checksum misses it", i);
        if (load_bytes(b, a.n, 0, &q) == RP_OK) {
            exercise(q);
            rp_policy_free(q);
            opened++;
        }
    }
    /* Most bytes are the tables' contents, which no header check sees. */
    cr_assert_gt(opened, 0);
    free(b);
    free(a.s);
    rp_policy_free(p);
}

/* ---- records read in place, checked where they are read ----------------- */

/* Section @p i of file image @p a: its bytes, and its length in *len. */
static uint8_t *
section(const write_buf *a, uint32_t i, size_t *len)
{
    const uint8_t *e = (const uint8_t *)a->s + RP__PF_HEADER + RP__PF_ENTRY * i;

    cr_assert_lt(i, rp__pf_ld32((const uint8_t *)a->s + RP__PFH_NSECT));
    *len = (size_t)rp__pf_ld64(e + 16);
    return (uint8_t *)a->s + rp__pf_ld64(e + 8);
}

static void
st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static rp_decision
decide_rcpt(const rp_policy *p, const char *rcpt)
{
    rp_decision d;
    rp_query q;

    memset(&q, 0, sizeof(q));
    q.client.family = 4;
    q.client.addr[0] = 203;
    q.client.addr[2] = 113;
    q.client.addr[3] = 5;
    q.local.family = 4;
    q.local.addr[0] = 192;
    q.local.addr[3] = 1;
    q.local_port = 25;
    q.recipient = rcpt;
    q.recipient_len = strlen(rcpt);
    q.sender = "s@example.org";
    q.sender_len = 13;
    q.flags = RP_QUERY_EXPLAIN;
    cr_assert_eq(rp_decide(p, &q, test_ws(), &d), RP_OK);
    return d;
}

/* The items (section 2), the domains (3) and the lint findings are used
 * in place and not checked at open: a damaged record gives "" or a
 * temporary failure where it is read, never a read outside the file nor
 * an accept. */
Test(pfile, damaged_records_in_place_fail_safe)
{
    static const char src[] =
        "domain a.example local\n"
        "domain b.example reroute a.example\n"
        "domain c.example relay\n"
        "listener mx {\n bind 0.0.0.0:25\n role gateway\n}\n";
    rp_policy *p = NULL, *q = NULL;
    rp_decision d;
    rp_error err;
    size_t n_items, n_doms;
    uint8_t *items, *doms;
    write_buf a;

    cr_assert_eq(rp_policy_compile(src, RP_NTS, NULL, &p, &err), RP_OK, "%s",
                 err.message);
    cr_assert_eq(decide_rcpt(p, "u@a.example").verdict, RP_ACCEPT);
    cr_assert_eq(decide_rcpt(p, "u@b.example").verdict, RP_ACCEPT);
    cr_assert_eq(decide_rcpt(p, "u@c.example").verdict, RP_RELAY);
    a = image_of(p);
    items = section(&a, 2, &n_items);
    doms = section(&a, 3, &n_doms);
    cr_assert_eq(n_items % 16, 0);
    cr_assert_eq(n_doms, 3 * 32);

    /* Every item's strings outside the pool: the same decisions, their
     * rule's file "". */
    for (size_t i = 0; i < n_items; i += 16) {
        st32(items + i, 0xfffffff0u);
        st32(items + i + 12, UINT32_MAX);
    }
    cr_assert_eq(load_bytes(a.s, a.n, 0, &q), RP_OK);
    d = decide_rcpt(q, "u@a.example");
    cr_assert_eq(d.verdict, RP_ACCEPT);
    cr_assert_str_eq(d.rule_file, "");
    cr_assert_eq(decide_rcpt(q, "u@c.example").verdict, RP_RELAY);
    rp_policy_free(q);

    /* A domain of an unknown kind, a reroute whose target lies outside the
     * pool, a local target that is no domain: each a 4xx. */
    st32(doms + 4, 9);
    st32(doms + 32 + 12, 0xfffffff0u);
    st32(doms + 64 + 4, RP_DOMAIN_REROUTE);
    st32(doms + 64 + 12, 0);
    st32(doms + 64 + 16, 7);
    st32(doms + 64 + 20, RP__DOMF_TARGET_LOCAL);
    cr_assert_eq(load_bytes(a.s, a.n, 0, &q), RP_OK);
    for (unsigned i = 0; i < 3; i++) {
        char rcpt[16];

        snprintf(rcpt, sizeof(rcpt), "u@%c.example", 'a' + i);
        d = decide_rcpt(q, rcpt);
        cr_assert_eq(d.verdict, RP_TEMPFAIL, "%s: %s", rcpt, d.reply);
        cr_assert_eq(d.code, 451);
    }
    rp_policy_free(q);
    free(a.s);
    rp_policy_free(p);
}

/* The IPv4 prefix -> item records of policy @p p, found in its file
 * image @p a by their bytes; NULL when they are not there. */
static uint8_t *
prefix_item_records(const rp_policy *p, const write_buf *a, size_t *n)
{
    size_t len = (size_t)p->prefix_items.n4 * 12;
    uint8_t *le, *at = NULL;

    cr_assert_gt(p->prefix_items.n4, 1);
    cr_assert_not_null(le = malloc(len));
    for (size_t i = 0; i < len / 4; i++)
        st32(le + 4 * i, p->prefix_items.v4[i]);
    for (size_t off = 0; off + len <= a->n; off += 4)
        if (memcmp(a->s + off, le, len) == 0) {
            at = (uint8_t *)a->s + off;
            break;
        }
    free(le);
    *n = p->prefix_items.n4;
    return at;
}

static rp_decision
decide_client(const rp_policy *p, uint8_t a, uint8_t b)
{
    rp_decision d;
    rp_query q;

    memset(&q, 0, sizeof(q));
    q.client.family = 4;
    q.client.addr[0] = a;
    q.client.addr[1] = b;
    q.client.addr[3] = 9;
    q.local.family = 4;
    q.local.addr[0] = 192;
    q.local.addr[3] = 1;
    q.local_port = 25;
    q.recipient = "u@a.example";
    q.recipient_len = 11;
    q.flags = RP_QUERY_EXPLAIN;
    cr_assert_eq(rp_decide(p, &q, test_ws(), &d), RP_OK);
    return d;
}

/* A damaged deny-client prefix -> item record names the first literal
 * statement: the decision stays the rejection. */
Test(pfile, damaged_deny_client_map_names_the_first_statement)
{
    static const char src[] =
        "domain a.example local\n"
        "deny client 10.0.0.0/8\n"
        "deny client 10.1.0.0/16\n"
        "listener mx {\n bind 0.0.0.0:25\n role gateway\n}\n";
    rp_policy *p = NULL, *q = NULL;
    rp_decision d;
    rp_error err;
    uint8_t *recs, *good;
    size_t n;
    write_buf a;

    cr_assert_eq(rp_policy_compile(src, RP_NTS, NULL, &p, &err), RP_OK, "%s",
                 err.message);
    cr_assert_eq(decide_client(p, 10, 1).rule_line, 3);
    cr_assert_eq(decide_client(p, 10, 2).rule_line, 2);
    a = image_of(p);
    cr_assert_not_null(recs = prefix_item_records(p, &a, &n));
    cr_assert_eq(load_bytes(a.s, a.n, 0, &q), RP_OK);
    cr_assert_eq(decide_client(q, 10, 1).rule_line, 3);
    rp_policy_free(q);

    /* Items out of range, then keys that are not there. */
    cr_assert_not_null(good = malloc(n * 12));
    memcpy(good, recs, n * 12);
    for (int round = 0; round < 2; round++) {
        memcpy(recs, good, n * 12);
        for (size_t i = 0; i < n; i++)
            st32(recs + 12 * i + (round == 0 ? 8 : 0), 0xfffffff0u);
        cr_assert_eq(load_bytes(a.s, a.n, 0, &q), RP_OK);
        d = decide_client(q, 10, 1);
        cr_assert_eq(d.verdict, RP_REJECT, "%s", d.reply);
        cr_assert_eq(d.reason, RP_REASON_CLIENT_BLOCKED);
        cr_assert_eq(d.rule_line, 2, "round %d", round);
        cr_assert(strstr(d.explanation, "deny client 10.0.0.0/8") != NULL);
        cr_assert_eq(decide_client(q, 11, 1).verdict, RP_ACCEPT);
        rp_policy_free(q);
    }
    free(good);
    free(a.s);
    rp_policy_free(p);
}

/* A finding read from a file with a severity out of range is reported as
 * critical, and its strings outside the pool as "". */
Test(pfile, damaged_finding_is_reported_not_dropped)
{
    rp_policy *p = compile_data("decide", "main.conf"), *q = NULL;
    write_buf a = image_of(p), t = {NULL, 0, 0};
    size_t n = 0, len, found = 0;
    uint8_t *f = NULL;

    cr_assert_eq(rp_policy_lint(p, lint_line, &t, &n), RP_OK);
    cr_assert_gt(n, 0);
    free(t.s);
    /* The findings' section: n records of 24 bytes, severities 1..3. */
    for (uint32_t i = 4; f == NULL; i++) {
        uint8_t *s = section(&a, i, &len);
        if (len == n * 24 && s[0] >= 1 && s[0] <= 3 && s[24] >= 1 && s[24] <= 3)
            f = s;
    }
    st32(f, 77);
    st32(f + 4, 0xfffffff0u);
    cr_assert_eq(load_bytes(a.s, a.n, 0, &q), RP_OK);
    t = (write_buf){NULL, 0, 0};
    cr_assert_eq(rp_policy_lint(q, lint_line, &t, &found), RP_OK);
    cr_assert_eq(found, n);
    cr_assert(strncmp(t.s, "3  ", 3) == 0, "%.40s", t.s);
    free(t.s);
    rp_policy_free(q);
    free(a.s);
    rp_policy_free(p);
}

/* ---- many listeners ----------------------------------------------------- */

/* A policy of @p n listeners, each on its own address, with an unscoped
 * relay grant, a scoped one (every other listener) and a scoped deny
 * (every third), some regex scopes among them. */
static char *
many_listeners(unsigned n)
{
    write_buf t = {NULL, 0, 0};
    char line[512];
    static const char head[] = "domain example.com local recipients alice bob\n"
                               "domain partner.example relay\n"
                               "network office 192.168.0.0/24\n"
                               "network guests 192.168.0.128/26\n";

    write_buf_put(&t, head, strlen(head));
    for (unsigned i = 0; i < n; i++) {
        int k = snprintf(line, sizeof(line),
                         "listener l%u {\n"
                         "    bind 172.16.%u.%u:25\n"
                         "    role gateway\n"
                         "    allow network office relay\n",
                         i, i / 256, i % 256);
        write_buf_put(&t, line, (size_t)k);
        if (i % 2 == 0) {
            k = snprintf(line, sizeof(line),
                         "    allow network 10.%u.%u.0/24 relay to "
                         "v%u.example .v%u.example%s\n",
                         i / 256, i % 256, i % 50, i % 50,
                         i % 10 == 0 ? " /^x[0-9]+\\.example$/" : "");
            write_buf_put(&t, line, (size_t)k);
        }
        if (i % 3 == 0) {
            k = snprintf(line, sizeof(line),
                         "    deny network guests relay to .v%u.example\n",
                         i % 7);
            write_buf_put(&t, line, (size_t)k);
        }
        write_buf_put(&t, "}\n", 2);
    }
    return t.s;
}

static uint32_t
section_count(const write_buf *a)
{
    return rp__pf_ld32((const uint8_t *)a->s + RP__PFH_NSECT);
}

Test(pfile, sections_do_not_grow_with_listeners, .timeout = 120)
{
    char *s10 = many_listeners(10), *s2k = many_listeners(2000);
    rp_policy *p10 = NULL, *p = NULL, *q;
    write_buf a10, a, t1, t2;
    rp_error err;
    unsigned cases = 0;

    cr_assert_eq(rp_policy_compile(s10, RP_NTS, NULL, &p10, &err), RP_OK, "%s",
                 err.message);
    cr_assert_eq(rp_policy_compile(s2k, RP_NTS, NULL, &p, &err), RP_OK, "%s",
                 err.message);
    a10 = image_of(p10);
    a = image_of(p);
    cr_expect_eq(section_count(&a), section_count(&a10),
                 "2000 listeners: %u sections, 10 listeners: %u",
                 section_count(&a), section_count(&a10));
    q = through_file(p);
    cr_assert_eq(rp_policy_listener_count(q), 2000);
    t1 = describe(p);
    t2 = describe(q);
    cr_expect_str_eq(t1.s, t2.s, "dump, lint or exposure");
    /* Decisions on listeners with every mix of rules, from inside and
     * outside their networks, to scoped, unscoped and regex domains. */
    for (unsigned i = 0; i < 2000; i += 37) {
        static const char *const rcpt[] = {
            "alice@example.com", "x@partner.example", "y@elsewhere.example",
            "z@v0.example",      "z@a.v6.example",    "z@x17.example",
            "z@v10.example"};
        char local[32], inside[32], what[96];
        const char *clients[] = {inside, "192.168.0.5", "192.168.0.130",
                                 "198.51.100.1"};

        snprintf(local, sizeof(local), "172.16.%u.%u", i / 256, i % 256);
        snprintf(inside, sizeof(inside), "10.%u.%u.9", i / 256, i % 256);
        for (size_t c = 0; c < 4; c++)
            for (size_t r = 0; r < sizeof(rcpt) / sizeof(*rcpt); r++) {
                rp_query qy;
                rp_decision d;
                saved sv;

                vec_fill(&qy, clients[c], local, 25, rcpt[r]);
                qy.flags |= RP_QUERY_EXPLAIN;
                snprintf(what, sizeof(what), "l%u %s %s", i, clients[c],
                         rcpt[r]);
                cr_assert_eq(rp_decide(p, &qy, test_ws(), &d), RP_OK);
                save_decision(&sv, &d);
                cr_assert_eq(rp_decide(q, &qy, test_ws(), &d), RP_OK);
                same_decision(&sv.d, &d, what);
                cases++;
            }
    }
    cr_assert_gt(cases, 1000);
    free(t1.s);
    free(t2.s);
    free(a.s);
    free(a10.s);
    free(s10);
    free(s2k);
    rp_policy_free(p10);
    rp_policy_free(p);
    rp_policy_free(q);
}

/* A listener whose remote is one named list uses that list's id (no list
 * of its own, which would cost every prefix-table record a byte); one
 * with two remotes keeps its own.  Through a file it decides the same. */
Test(pfile, named_remote_is_the_named_list)
{
    write_buf t = {NULL, 0, 0};
    char line[256];
    rp_policy *p = NULL, *q;
    rp_error err;
    uint32_t named = 0;

    for (unsigned k = 0; k < 5; k++) {
        int m = snprintf(line, sizeof(line),
                         "network office%u 192.168.%u.0/24\n", k, k);
        write_buf_put(&t, line, (size_t)m);
    }
    for (unsigned i = 0; i < 40; i++) {
        int m = snprintf(line, sizeof(line),
                         "listener l%u {\n    bind 172.16.0.%u:25\n"
                         "    remote office%u%s\n    role gateway\n"
                         "    allow network office%u relay\n}\n",
                         i, i, i % 5, i == 7 ? " 10.0.0.0/8" : "", i % 5);
        write_buf_put(&t, line, (size_t)m);
    }
    cr_assert_eq(rp_policy_compile(t.s, RP_NTS, NULL, &p, &err), RP_OK, "%s",
                 err.message);
    while (named < p->n_lists && p->list_names[named] != NULL)
        named++;
    cr_assert_eq(named, 5);
    cr_expect_eq(p->n_lists, named + 1, "lists: %u", p->n_lists);
    for (unsigned i = 0; i < 40; i++) {
        const rp__listener *l = &p->listeners[i];

        char want[16];

        snprintf(want, sizeof(want), "office%u", i % 5);
        if (i == 7)
            cr_expect_geq(l->remote_list, named);
        else
            cr_expect(l->remote_list < named &&
                          strcmp(p->list_names[l->remote_list], want) == 0,
                      "l%u: list %u", i, l->remote_list);
    }
    q = through_file(p);
    for (unsigned i = 0; i < 40; i++)
        for (unsigned c = 0; c < 6; c++) {
            char local[32], client[32], what[64];
            rp_query qy;
            rp_decision d;
            saved sv;

            snprintf(local, sizeof(local), "172.16.0.%u", i);
            snprintf(client, sizeof(client),
                     c == 5 ? "10.1.2.3" : "192.168.%u.9", c);
            vec_fill(&qy, client, local, 25, "x@elsewhere.example");
            snprintf(what, sizeof(what), "l%u from %s", i, client);
            cr_assert_eq(rp_decide(p, &qy, test_ws(), &d), RP_OK);
            cr_expect_eq(d.verdict, c == i % 5 ? RP_RELAY : RP_REJECT, "%s",
                         what);
            save_decision(&sv, &d);
            cr_assert_eq(rp_decide(q, &qy, test_ws(), &d), RP_OK);
            same_decision(&sv.d, &d, what);
        }
    free(t.s);
    rp_policy_free(p);
    rp_policy_free(q);
}
