/*
 * load.c - a policy from a path that holds either a compiled policy file
 * or policy text (rp_policy_load_path()).
 *
 * The file is opened once.  Its first bytes decide the reader, and the
 * reader then uses the same open file: a file renamed over the path
 * between the check and the read cannot be handed to the wrong one.  A
 * file that starts with the magic goes to the compiled-file reader and
 * nowhere else: when it is damaged, or of another format version, that
 * is the error (RP_E_FORMAT), never a text compile of its bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "file.h"
#include "load.h"
#include "options.h"
#include "pfile.h"
#include "relaypolicy.h"
#include "status.h"

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

static rp_status
io_fail(rp_error *err, const char *path, int errnum)
{
    char msg[128];
    rp_status st = errnum == ENOMEM ? RP_E_NOMEM : RP_E_IO;

    if (strerror_r(errnum, msg, sizeof(msg)) != 0)
        snprintf(msg, sizeof(msg), "error %d", errnum);
    rp__error_set(err, st, path, 0, 0, 0, NULL, 0, "cannot read: %s", msg);
    return st;
}

/* Does the file open on @p fd start with the compiled-file magic?  Reads
 * at offset 0 without moving the file offset. */
static rp_status
has_magic(int fd, bool *yes)
{
    char head[8];
    size_t got = 0;

    while (got < sizeof(head)) {
        ssize_t r = pread(fd, head + got, sizeof(head) - got, (off_t)got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return RP_E_IO;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    *yes = got == sizeof(head) && memcmp(head, RP__PF_MAGIC, 8) == 0;
    return RP_OK;
}

/* The text on @p fd, compiled as rp_policy_compile_file() does. */
static rp_status
compile_fd(int fd,
           const char *path,
           const rp_options *o,
           rp_policy **out,
           rp_error *err)
{
    rp__alloc a;
    char *text = NULL, why[160];
    size_t len = 0;
    rp_status st;

    rp__alloc_init(&a, o->allocator);
    st = rp__file_read_fd(&a, fd, o->max_policy_bytes, &text, &len, why,
                          sizeof(why));
    if (st != RP_OK) {
        rp__error_set(err, st, path, 0, 0, 0, NULL, 0, "cannot read: %s", why);
        return st;
    }
    st = rp__compile_text_file(text, len, o, path, out, err);
    rp__free(&a, text);
    return st;
}

rp_status
rp_policy_load_path(const char *path,
                    const rp_options *opts,
                    rp_policy **out,
                    rp_error *err)
{
    rp_options o;
    struct stat sb;
    rp_status st;
    bool compiled = false;
    int fd;

    if ((st = rp__options_enter(path, out, opts, &o, err)) != RP_OK)
        return st;
    /* Without blocking: a FIFO is refused below, not waited on. */
    fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return io_fail(err, path, errno);
    if (fstat(fd, &sb) != 0) {
        st = io_fail(err, path, errno);
    } else if (!S_ISREG(sb.st_mode)) {
        rp__error_set(err, RP_E_IO, path, 0, 0, 0, NULL, 0,
                      "cannot read: not a regular file");
        st = RP_E_IO;
    } else if (has_magic(fd, &compiled) != RP_OK) {
        st = io_fail(err, path, errno);
    } else if (compiled) {
        st = rp__pfile_open_fd(fd, path, &o, out, err);
    } else {
        st = compile_fd(fd, path, &o, out, err);
    }
    close(fd);
    return st;
}
