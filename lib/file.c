/*
 * file.c - the one reader of policy files, included files and list files.
 *
 * Only regular files are read.  The file is opened without blocking
 * (O_NONBLOCK), so a FIFO or a device named as a policy fails at once
 * instead of waiting for a writer; /dev/null is refused like any other
 * device, wherever it is named.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "file.h"
#include "relaypolicy.h"

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

static rp_status
why_errno(char *why, size_t why_size, const char *what, int errnum)
{
    char msg[128];

    if (strerror_r(errnum, msg, sizeof(msg)) != 0)
        snprintf(msg, sizeof(msg), "error %d", errnum);
    if (what != NULL)
        snprintf(why, why_size, "%s: %s", what, msg);
    else
        snprintf(why, why_size, "%s", msg);
    return errnum == ENOMEM ? RP_E_NOMEM : RP_E_IO;
}

/* Read all of @p fd into *@p out (of at most @p max bytes). */
static rp_status
read_all(const rp__alloc *a,
         int fd,
         uint32_t max,
         char **out,
         size_t *len,
         char *why,
         size_t why_size)
{
    size_t cap = 0, got = 0;
    char *buf = NULL;

    for (;;) {
        char *nb = rp__grow(a, buf, &cap, got + 4097, 1);
        ssize_t r;

        if (nb == NULL) {
            rp__free(a, buf);
            snprintf(why, why_size, "out of memory");
            return RP_E_NOMEM;
        }
        buf = nb;
        r = read(fd, buf + got, cap - got - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rp__free(a, buf);
            return why_errno(why, why_size, "cannot read", errno);
        }
        got += (size_t)r;
        if (got > max) {
            rp__free(a, buf);
            snprintf(why, why_size, "larger than %u bytes", (unsigned)max);
            return RP_E_LIMIT;
        }
        if (r == 0)
            break;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return RP_OK;
}

/*
 * Read the regular file open on @p fd whole, from its current offset, at
 * most @p max bytes, into a new NUL-terminated buffer from @p a (free it
 * with rp__free()).  Returns RP_OK; RP_E_IO when it cannot be read or is
 * not a regular file; RP_E_LIMIT when it is too large; RP_E_NOMEM.  On
 * failure @p why says what happened (without the file name).  The caller
 * keeps @p fd.
 */
rp_status
rp__file_read_fd(const rp__alloc *a,
                 int fd,
                 uint32_t max,
                 char **out,
                 size_t *len,
                 char *why,
                 size_t why_size)
{
    struct stat sb;

    *out = NULL;
    *len = 0;
    if (fstat(fd, &sb) != 0)
        return why_errno(why, why_size, "cannot read", errno);
    if (!S_ISREG(sb.st_mode)) {
        snprintf(why, why_size, "not a regular file");
        return RP_E_IO;
    }
    if ((uint64_t)sb.st_size > max) {
        snprintf(why, why_size, "larger than %u bytes", (unsigned)max);
        return RP_E_LIMIT;
    }
    return read_all(a, fd, max, out, len, why, why_size);
}

/*
 * Read the regular file @p path whole, as rp__file_read_fd().  Returns as
 * it does, and RP_E_IO when the file cannot be opened.  Never blocks on a
 * FIFO.
 */
rp_status
rp__file_read(const rp__alloc *a,
              const char *path,
              uint32_t max,
              char **out,
              size_t *len,
              char *why,
              size_t why_size)
{
    rp_status st;
    int fd;

    *out = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return why_errno(why, why_size, NULL, errno);
    st = rp__file_read_fd(a, fd, max, out, len, why, why_size);
    close(fd);
    return st;
}
