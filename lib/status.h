/*
 * status.h - filling an rp_error (status.c).
 */
#ifndef RP_STATUS_H
#define RP_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "relaypolicy.h"

/* Fill @p err (if not NULL) with a status, location and formatted text. */
void rp__error_set(rp_error *err,
                   rp_status status,
                   const char *file,
                   uint32_t line,
                   uint32_t column,
                   uint64_t offset,
                   const char *snippet,
                   size_t snippet_len,
                   const char *fmt,
                   ...) __attribute__((format(printf, 9, 10)));

#endif /* RP_STATUS_H */
