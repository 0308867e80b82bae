/*
 * log.c - relaypolicyd's rate-limited log.
 *
 * Lines go to standard error.  Under systemd (JOURNAL_STREAM is set) the
 * journal adds the time and the process id itself; elsewhere each line
 * starts with them.  Lines are buffered and written out once per
 * event-loop round, so a busy daemon makes one write per round, not one
 * per decision.
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "relaypolicyd";
static unsigned rate; /* lines per second; 0: unlimited */
static int to_journal;

/* Everything below is shared by the event loop and the reload thread. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static double tokens;
static double last_fill;
static unsigned long dropped;

static char stderr_buf[1 << 16];

static double
now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
rpd_log_init(const char *ident, unsigned per_second)
{
    log_ident = ident;
    rate = per_second;
    tokens = 2.0 * per_second;
    last_fill = now_seconds();
    to_journal = getenv("JOURNAL_STREAM") != NULL;
    setvbuf(stderr, stderr_buf, _IOFBF, sizeof(stderr_buf));
}

/* Called with log_lock held. */
static void
emit(const char *fmt, va_list ap)
{
    char line[2048];
    char when[32];
    time_t t;
    struct tm tm;

    if (vsnprintf(line, sizeof(line), fmt, ap) < 0)
        return;
    if (to_journal) {
        fprintf(stderr, "%s\n", line);
        return;
    }
    t = time(NULL);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime_r(&t, &tm));
    fprintf(stderr, "%s %s[%ld]: %s\n", when, log_ident, (long)getpid(), line);
}

static void
emit_line(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit(fmt, ap);
    va_end(ap);
}

void
rpd_log(const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&log_lock);
    va_start(ap, fmt);
    emit(fmt, ap);
    va_end(ap);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

/* Refill the bucket; true when one more line may be written. */
static bool
take_token(void)
{
    double now = now_seconds();

    tokens += (now - last_fill) * rate;
    last_fill = now;
    if (tokens > 2.0 * rate)
        tokens = 2.0 * rate;
    if (tokens < 1.0)
        return false;
    tokens -= 1.0;
    return true;
}

void
rpd_log_limited(const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&log_lock);
    if (rate != 0 && !take_token()) {
        dropped++;
        pthread_mutex_unlock(&log_lock);
        return;
    }
    if (dropped > 0) {
        emit_line("log rate limit (-L %u lines/s): %lu lines suppressed", rate,
                  dropped);
        dropped = 0;
    }
    va_start(ap, fmt);
    emit(fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&log_lock);
}

void
rpd_log_flush(void)
{
    pthread_mutex_lock(&log_lock);
    if (dropped > 0 && take_token()) {
        emit_line("log rate limit (-L %u lines/s): %lu lines suppressed", rate,
                  dropped);
        dropped = 0;
    }
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

const char *
rpd_log_safe(const char *in, char *out, unsigned size)
{
    unsigned n = 0;

    for (; *in != '\0' && n + 1 < size; in++, n++)
        out[n] = (*in >= 0x20 && *in < 0x7f) ? *in : '?';
    out[n] = '\0';
    return out;
}
