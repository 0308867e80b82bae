/*
 * test_load.c - rp_policy_load_path() (lib/load.c): one open of a path
 * that holds policy text or a compiled policy file, the reader chosen by
 * the file's first bytes; a damaged compiled file is refused, never
 * compiled as text.
 */
#include "policy.h"
#include "write_buf.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define GATEWAY "listener mx {\n    bind *:25\n    role gateway\n}\n"

static char dir[64];

static void
make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/rp-test-load.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void
remove_dir(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(load, .init = make_dir, .fini = remove_dir);

/* The path of @p name in the test's directory (a static buffer each). */
static const char *
path_of(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

static void
write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

static write_buf
dump_of(const rp_policy *p)
{
    write_buf t = {NULL, 0, 0};

    cr_assert_eq(rp_policy_dump(p, write_buf_put, &t), RP_OK);
    return t;
}

static write_buf
image_of(const rp_policy *p)
{
    write_buf t = {NULL, 0, 0};

    cr_assert_eq(rp_policy_write(p, write_buf_put, &t), RP_OK);
    return t;
}

/* Text is compiled as rp_policy_compile_file() compiles it: the same
 * policy, includes resolved against the file's directory. */
/* @p p and @p q dump the same text; both are freed. */
static void
same_dump_then_free(rp_policy *p, rp_policy *q)
{
    write_buf a = dump_of(p), b = dump_of(q);

    cr_assert_str_eq(a.s, b.s);
    free(a.s);
    free(b.s);
    rp_policy_free(p);
    rp_policy_free(q);
}

Test(load, text_path_is_compiled_with_relative_includes)
{
    char main_conf[128], inner[128];
    rp_policy *p = NULL, *q = NULL;
    rp_error err;

    write_file(path_of("inner.conf", inner, sizeof(inner)), GATEWAY,
               strlen(GATEWAY));
    write_file(path_of("main.conf", main_conf, sizeof(main_conf)),
               "domain local.example local\ninclude \"inner.conf\"\n", 48);
    cr_assert_eq(rp_policy_load_path(main_conf, NULL, &p, &err), RP_OK, "%s",
                 err.message);
    cr_assert_null(p->file, "text must be compiled, not mapped");
    cr_assert_eq(rp_policy_listener_count(p), 1);
    cr_assert_eq(rp_policy_compile_file(main_conf, NULL, &q, &err), RP_OK);
    same_dump_then_free(p, q);
}

/* Errors in text name the file, line and column, as compile_file's do. */
Test(load, text_errors_name_file_line_and_column)
{
    static const char text[] = GATEWAY "domain local.example nowhere\n";
    char path[128], inner[128];
    rp_policy *p = (rp_policy *)1;
    rp_error e1, e2;

    write_file(path_of("bad.conf", path, sizeof(path)), text, strlen(text));
    cr_assert_eq(rp_policy_load_path(path, NULL, &p, &e1), RP_E_SYNTAX);
    cr_assert_null(p);
    cr_assert_str_eq(e1.file, path);
    cr_assert_eq(e1.line, 5);
    cr_assert_gt(e1.column, 0);
    cr_assert_eq(rp_policy_compile_file(path, NULL, &p, &e2), RP_E_SYNTAX);
    cr_assert_eq(e1.line, e2.line);
    cr_assert_eq(e1.column, e2.column);
    cr_assert_str_eq(e1.message, e2.message);
    /* An error inside an include names the included file. */
    write_file(path_of("inner.conf", inner, sizeof(inner)), text, strlen(text));
    write_file(path, "include \"inner.conf\"\n", 21);
    cr_assert_eq(rp_policy_load_path(path, NULL, &p, &e1), RP_E_SYNTAX);
    cr_assert(strstr(e1.file, "inner.conf") != NULL, "%s", e1.file);
    cr_assert_eq(e1.line, 5);
}

/* The text limits apply to text. */
Test(load, text_limits_apply)
{
    char path[128];
    rp_policy *p = NULL;
    rp_options o;
    rp_error err;

    write_file(path_of("gw.conf", path, sizeof(path)), GATEWAY,
               strlen(GATEWAY));
    rp_options_init(&o);
    o.max_policy_bytes = 16;
    cr_assert_eq(rp_policy_load_path(path, &o, &p, &err), RP_E_LIMIT);
    cr_assert_null(p);
    o.max_policy_bytes = 0;
    o.flags = RP_OPT_NO_FILES;
    write_file(path, "include \"x.conf\"\n", 17);
    cr_assert_neq(rp_policy_load_path(path, &o, &p, &err), RP_OK);
    cr_assert_null(p);
}

/* A compiled policy file is opened (mapped), and is the same policy. */
Test(load, compiled_path_is_opened)
{
    char path[128];
    rp_policy *p = NULL, *q = NULL;
    rp_options o;
    rp_error err;

    cr_assert_eq(rp_policy_compile_file(RP_TEST_DATA "/decide/main.conf", NULL,
                                        &p, &err),
                 RP_OK);
    cr_assert_eq(
        rp_policy_save(p, path_of("main.rpc", path, sizeof(path)), &err),
        RP_OK);
    rp_options_init(&o);
    o.flags = RP_OPT_VERIFY;
    o.max_policy_bytes = 16; /* a text limit: does not apply to a mapping */
    cr_assert_eq(rp_policy_load_path(path, &o, &q, &err), RP_OK, "%s",
                 err.message);
    cr_assert_not_null(q->file, "a compiled file must be mapped");
    same_dump_then_free(p, q);
}

/* Load @p len bytes of @p data written to a file; the status. */
static rp_status
load_written(const void *data, size_t len, uint32_t flags, rp_error *err)
{
    char path[128];
    rp_policy *p = (rp_policy *)1;
    rp_options o;
    rp_status st;

    write_file(path_of("x.rpc", path, sizeof(path)), data, len);
    rp_options_init(&o);
    o.flags = flags;
    memset(err, 0, sizeof(*err));
    st = rp_policy_load_path(path, &o, &p, err);
    cr_assert_eq(st == RP_OK, p != NULL);
    rp_policy_free(p);
    if (st != RP_OK)
        cr_assert_str_eq(err->file, path);
    return st;
}

/* A file with the magic that is damaged, cut short or of another format
 * version is refused with RP_E_FORMAT: never compiled as text. */
Test(load, damaged_compiled_file_is_refused_not_compiled)
{
    rp_policy *p = NULL;
    rp_error err;
    write_buf a;
    char *b;

    cr_assert_eq(rp_policy_compile(GATEWAY, RP_NTS, NULL, &p, &err), RP_OK);
    a = image_of(p);
    rp_policy_free(p);
    b = malloc(a.n);
    cr_assert_eq(load_written(a.s, a.n, 0, &err), RP_OK);

    memcpy(b, a.s, a.n);
    b[8] = RP_POLICY_FILE_VERSION + 1;
    cr_assert_eq(load_written(b, a.n, 0, &err), RP_E_FORMAT);
    cr_assert(strstr(err.message, "format version") != NULL, "%s", err.message);
    cr_assert_eq(load_written(a.s, a.n - 1, 0, &err), RP_E_FORMAT);
    cr_assert_eq(load_written(a.s, 8, 0, &err), RP_E_FORMAT);
    cr_assert(strstr(err.message, "compiled policy file") != NULL, "%s",
              err.message);
    /* The magic followed by valid policy text is still no policy text. */
    memcpy(b, RP_POLICY_FILE_MAGIC, 8);
    memcpy(b + 8, GATEWAY, strlen(GATEWAY));
    cr_assert_eq(load_written(b, 8 + strlen(GATEWAY), 0, &err), RP_E_FORMAT);
    /* A byte of a section flipped: found by the checksum. */
    memcpy(b, a.s, a.n);
    b[a.n - 1] ^= 0x5a;
    cr_assert_eq(load_written(b, a.n, RP_OPT_VERIFY, &err), RP_E_FORMAT);
    free(b);
    free(a.s);
}

/* A short file, or one starting with part of the magic, is text. */
Test(load, short_files_are_text)
{
    rp_error err;

    cr_assert_eq(load_written("", 0, 0, &err), RP_OK);
    cr_assert_eq(load_written("\x89RPC", 4, 0, &err), RP_E_SYNTAX);
    cr_assert_eq(err.line, 1);
}

Test(load, missing_file)
{
    char path[128];
    rp_policy *p = (rp_policy *)1;
    rp_error err;

    path_of("missing.conf", path, sizeof(path));
    cr_assert_eq(rp_policy_load_path(path, NULL, &p, &err), RP_E_IO);
    cr_assert_null(p);
    cr_assert_str_eq(err.file, path);
    cr_assert(strstr(err.message, "No such file") != NULL, "%s", err.message);
}

Test(load, null_arguments)
{
    char path[128];
    rp_policy *p = (rp_policy *)1;
    rp_options o;

    write_file(path_of("gw.conf", path, sizeof(path)), GATEWAY,
               strlen(GATEWAY));
    cr_assert_eq(rp_policy_load_path(NULL, NULL, &p, NULL), RP_E_ARG);
    cr_assert_null(p);
    cr_assert_eq(rp_policy_load_path(path, NULL, NULL, NULL), RP_E_ARG);
    rp_options_init(&o);
    o.reserved[0] = 1;
    p = (rp_policy *)1;
    cr_assert_eq(rp_policy_load_path(path, &o, &p, NULL), RP_E_ARG);
    cr_assert_null(p);
    /* err is optional. */
    cr_assert_eq(rp_policy_load_path(path, NULL, &p, NULL), RP_OK);
    rp_policy_free(p);
}

/* A directory, a FIFO and a device are refused, without blocking. */
Test(load, directory_fifo_and_device_are_refused)
{
    char fifo[128];
    rp_policy *p = (rp_policy *)1;
    rp_error err;

    cr_assert_eq(rp_policy_load_path(dir, NULL, &p, &err), RP_E_IO);
    cr_assert_null(p);
    cr_assert(strstr(err.message, "not a regular file") != NULL, "%s",
              err.message);
    cr_assert_eq(mkfifo(path_of("fifo", fifo, sizeof(fifo)), 0600), 0);
    cr_assert_eq(rp_policy_load_path(fifo, NULL, &p, &err), RP_E_IO);
    cr_assert_eq(rp_policy_load_path("/dev/null", NULL, &p, &err), RP_E_IO);
    cr_assert_null(p);
}
