/*
 * status.c - status codes, reason and verdict names, error records.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "relaypolicy.h"
#include "status.h"

/* The counts are derived from the maps; these check that the values run
 * 0, 1, 2... without gaps, so that a count is one past the largest value
 * and arrays indexed by reason or status cover every one. */
enum { N_REASONS = RP_REASON_COUNT, N_STATUSES = RP_STATUS_COUNT };
#define RP__IN_REASONS(name, value, text) +((value) < N_REASONS)
#define RP__IN_STATUSES(name, value, text) +((value) < N_STATUSES)
_Static_assert((0 RP_REASON_MAP(RP__IN_REASONS)) == N_REASONS,
               "rp_reason values must be 0..RP_REASON_COUNT-1");
_Static_assert((0 RP_STATUS_MAP(RP__IN_STATUSES)) == N_STATUSES,
               "rp_status values must be 0..RP_STATUS_COUNT-1");
#undef RP__IN_REASONS
#undef RP__IN_STATUSES

const char *
rp_strerror(rp_status status)
{
    switch (status) {
#define RP__STATUS_TEXT(name, value, text)                                     \
    case RP_##name:                                                            \
        return text;
        RP_STATUS_MAP(RP__STATUS_TEXT)
#undef RP__STATUS_TEXT
    }
    return "unknown status";
}

const char *
rp_status_name(rp_status status)
{
    switch (status) {
#define RP__STATUS_NAME(name, value, text)                                     \
    case RP_##name:                                                            \
        return "RP_" #name;
        RP_STATUS_MAP(RP__STATUS_NAME)
#undef RP__STATUS_NAME
    }
    return "RP_E_UNKNOWN";
}

const char *
rp_reason_name(rp_reason reason)
{
    switch (reason) {
#define RP__REASON_TEXT(name, value, text)                                     \
    case RP_REASON_##name:                                                     \
        return text;
        RP_REASON_MAP(RP__REASON_TEXT)
#undef RP__REASON_TEXT
    }
    return "unknown";
}

rp_status
rp_reason_from_name(const char *name, rp_reason *out)
{
    if (name == NULL || out == NULL)
        return RP_E_ARG;
#define RP__REASON_FIND(id, value, text)                                       \
    if (strcmp(name, text) == 0 && value != 0) {                               \
        *out = RP_REASON_##id;                                                 \
        return RP_OK;                                                          \
    }
    RP_REASON_MAP(RP__REASON_FIND)
#undef RP__REASON_FIND
    return RP_E_ARG;
}

const char *
rp_verdict_name(rp_verdict verdict)
{
    switch (verdict) {
    case RP_ACCEPT:
        return "ACCEPT";
    case RP_RELAY:
        return "RELAY";
    case RP_REJECT:
        return "REJECT";
    case RP_TEMPFAIL:
        return "TEMPFAIL";
    case RP_VERDICT_NONE:
        break;
    }
    return "NONE";
}

static void
copy_cut(char *dst, size_t size, const char *src, size_t len)
{
    size_t n = len < size - 1 ? len : size - 1;
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    dst[n] = '\0';
}

void
rp__error_set(rp_error *err,
              rp_status status,
              const char *file,
              uint32_t line,
              uint32_t column,
              uint64_t offset,
              const char *snippet,
              size_t snippet_len,
              const char *fmt,
              ...)
{
    char text[160];
    va_list ap;

    if (err == NULL)
        return;
    memset(err, 0, sizeof(*err));
    err->status = status;
    err->line = line;
    err->column = column;
    err->offset = offset;
    if (file == NULL)
        file = "<string>";
    copy_cut(err->file, sizeof(err->file), file, strlen(file));
    if (snippet != NULL)
        copy_cut(err->snippet, sizeof(err->snippet), snippet, snippet_len);
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    {
        size_t n = 0, t = strlen(text);
        int k = 0;

        if (line > 0)
            k = snprintf(err->message, sizeof(err->message),
                         "%u:%u: ", (unsigned)line, (unsigned)column);
        if (k > 0)
            n = (size_t)k;
        if (t > sizeof(err->message) - 1 - n)
            t = sizeof(err->message) - 1 - n;
        memcpy(err->message + n, text, t);
        err->message[n + t] = '\0';
    }
}
