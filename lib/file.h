/*
 * file.h - the one file reader (file.c): regular files only, never blocks.
 */
#ifndef RP_FILE_H
#define RP_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "relaypolicy.h"

rp_status rp__file_read(const rp__alloc *a,
                        const char *path,
                        uint32_t max,
                        char **out,
                        size_t *len,
                        char *why,
                        size_t why_size);
/* The same from a file the caller has open (and keeps). */
rp_status rp__file_read_fd(const rp__alloc *a,
                           int fd,
                           uint32_t max,
                           char **out,
                           size_t *len,
                           char *why,
                           size_t why_size);

#endif /* RP_FILE_H */
