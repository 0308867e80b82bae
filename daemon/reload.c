/*
 * reload.c - compiling the policy off the serving thread (or opening it,
 * when the policy file is a compiled policy file: relaypolicy compile).
 *
 * SIGHUP only sets a flag and wakes this thread; the event loop goes on
 * answering from the policy in the slot.  Requests that arrive while a
 * compile runs are merged into a single further compile, so a burst of
 * SIGHUPs costs at most two compiles.  A policy that does not compile is
 * logged and never replaces the one in force (relaypolicy(7) §8).
 */
#include "log.h"
#include "rpd.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

rp_policy_slot *rpd_slot;

static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reload_cond = PTHREAD_COND_INITIALIZER;
static bool pending;
static bool stopping;
static bool started;
static bool exited;
static pthread_t reload_thread;

rp_policy *
rpd_policy_load(void)
{
    rp_policy *p = NULL;
    rp_error err;
    struct stat st;

    /* The library refuses what is not a regular file; checking first
     * (stat never blocks) gives the operator the plainest message. */
    if (stat(rpd_cfg.policy_path, &st) != 0) {
        rpd_log("%s: %s", rpd_cfg.policy_path, strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        rpd_log("%s: not a regular file; refusing to read it",
                rpd_cfg.policy_path);
        return NULL;
    }
    memset(&err, 0, sizeof(err));
    /* A compiled policy file is opened (mapped), not compiled: a reload
     * costs milliseconds.  The library reads the magic of the file it
     * opens, so a file renamed over the path meanwhile cannot reach the
     * wrong reader. */
    if (rp_policy_load_path(rpd_cfg.policy_path, NULL, &p, &err) != RP_OK) {
        rpd_log("%s:%s", err.file[0] != '\0' ? err.file : rpd_cfg.policy_path,
                err.message);
        return NULL;
    }
    return p;
}

static double
seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
reload_once(unsigned long n)
{
    struct timespec t0;
    rp_policy *p;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    rpd_log("reload %lu: loading %s", n, rpd_cfg.policy_path);
    p = rpd_policy_load();
    if (p == NULL) {
        rpd_log("reload failed; still using the previous policy (reload %lu)",
                n);
        return;
    }
    rpd_check_host_addresses(p);
    rp_slot_swap(rpd_slot, p);
    rpd_log("policy reloaded from %s (reload %lu, %.3f s)", rpd_cfg.policy_path,
            n, seconds_since(&t0));
}

static void *
reload_main(void *arg)
{
    unsigned long n = 0;

    (void)arg;
    pthread_mutex_lock(&reload_lock);
    for (;;) {
        while (!pending && !stopping)
            pthread_cond_wait(&reload_cond, &reload_lock);
        if (stopping)
            break;
        pending = false;
        pthread_mutex_unlock(&reload_lock);
        reload_once(++n);
        pthread_mutex_lock(&reload_lock);
    }
    exited = true;
    pthread_cond_broadcast(&reload_cond);
    pthread_mutex_unlock(&reload_lock);
    return NULL;
}

bool
rpd_reload_start(void)
{
    pthread_attr_t attr;
    bool ok;

    /* The compiler and PCRE2's JIT want a normal-sized stack. */
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 8u << 20);
    ok = pthread_create(&reload_thread, &attr, reload_main, NULL) == 0;
    pthread_attr_destroy(&attr);
    started = ok;
    return ok;
}

void
rpd_reload_request(void)
{
    pthread_mutex_lock(&reload_lock);
    pending = true;
    pthread_cond_signal(&reload_cond);
    pthread_mutex_unlock(&reload_lock);
}

void
rpd_reload_stop(void)
{
    struct timespec until;

    if (!started)
        return;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&reload_lock);
    stopping = true;
    pthread_cond_broadcast(&reload_cond);
    while (!exited &&
           pthread_cond_timedwait(&reload_cond, &reload_lock, &until) == 0)
        ;
    pthread_mutex_unlock(&reload_lock);
    /* A compile that does not finish in time is left to the exit. */
    if (exited)
        pthread_join(reload_thread, NULL);
    else
        rpd_log("a reload is still compiling; stopping without it");
    started = false;
}
