/*
 * slot.c - the policy currently in force, swapped atomically on reload.
 *
 * Taking a reference must not race with the swap that drops the slot's own
 * reference, so reading the pointer and incrementing the count happen
 * under a spin lock.  The lock covers two memory operations; nothing that
 * can block or allocate runs while it is held.
 */
#include "rp_internal.h"

#include <sched.h>
#include <stdlib.h>

struct rp_policy_slot {
    rp_policy *current;
    int lock; /* 0 free, 1 held */
};

static void
slot_lock(rp_policy_slot *s)
{
    unsigned spins = 0;

    while (__atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE) != 0) {
        while (__atomic_load_n(&s->lock, __ATOMIC_RELAXED) != 0)
            if (++spins % 1024 == 0)
                sched_yield();
    }
}

static void
slot_unlock(rp_policy_slot *s)
{
    __atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
}

rp_status
rp_slot_new(rp_policy *initial, rp_policy_slot **out)
{
    rp_policy_slot *s;

    if (out == NULL)
        return RP_E_ARG;
    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return RP_E_NOMEM;
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
    slot_lock(s);
    p = rp_policy_ref(s->current);
    slot_unlock(s);
    return p;
}

rp_status
rp_slot_swap(rp_policy_slot *s, rp_policy *next)
{
    rp_policy *old;

    if (s == NULL)
        return RP_E_ARG;
    slot_lock(s);
    old = s->current;
    s->current = next;
    slot_unlock(s);
    rp_policy_free(old);
    return RP_OK;
}

void
rp_slot_free(rp_policy_slot *s)
{
    if (s == NULL)
        return;
    rp_policy_free(s->current);
    free(s);
}
