/*
 * slot.c - the policy currently in force, swapped on reload.
 *
 * Taking a reference must not race with the swap that drops the slot's own
 * reference: a reader that loaded the pointer could otherwise increment the
 * count of a policy whose last reference was just released.  So reading
 * the pointer and taking the reference happen under the slot's mutex, and
 * so does replacing the pointer.  The mutex covers one load, one atomic
 * increment or one store; nothing that can block or allocate runs while it
 * is held.  The old policy is released after the mutex is let go.
 */
#include <pthread.h>

#include "alloc.h"
#include "options.h"
#include "relaypolicy.h"

struct rp_policy_slot {
    rp__alloc alloc;
    pthread_mutex_t lock;
    rp_policy *current;
};

rp_status
rp_slot_new(rp_policy *initial, const rp_options *opts, rp_policy_slot **out)
{
    rp_policy_slot *s;
    rp__alloc a;

    if (out == NULL)
        return RP_E_ARG;
    *out = NULL;
    if (rp__options_check(opts, NULL) != RP_OK)
        return RP_E_ARG;
    rp__alloc_init(&a, opts != NULL ? opts->allocator : NULL);
    s = rp__calloc(&a, 1, sizeof(*s));
    if (s == NULL)
        return RP_E_NOMEM;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        rp__free(&a, s);
        return RP_E_NOMEM;
    }
    s->alloc = a;
    s->current = initial;
    *out = s;
    return RP_OK;
}

rp_policy *
rp_slot_acquire(rp_policy_slot *s)
{
    rp_policy *p;

    if (s == NULL)
        return NULL;
    pthread_mutex_lock(&s->lock);
    p = rp_policy_ref(s->current);
    pthread_mutex_unlock(&s->lock);
    return p;
}

rp_status
rp_slot_swap(rp_policy_slot *s, rp_policy *next)
{
    rp_policy *old;

    if (s == NULL)
        return RP_E_ARG;
    pthread_mutex_lock(&s->lock);
    old = s->current;
    s->current = next;
    pthread_mutex_unlock(&s->lock);
    rp_policy_free(old);
    return RP_OK;
}

void
rp_slot_free(rp_policy_slot *s)
{
    rp__alloc a;

    if (s == NULL)
        return;
    a = s->alloc;
    rp_policy_free(s->current);
    pthread_mutex_destroy(&s->lock);
    rp__free(&a, s);
}
