/*
 * alloc.c - the per-policy allocator.
 *
 * Every allocation of a builder or policy goes through an rp__alloc, so a
 * caller-supplied allocator (rp_options.allocator) sees all of them and
 * allocation-failure tests can fail any one.
 */
#include "rp_internal.h"

#include <stdlib.h>
#include <string.h>

static void *
libc_malloc(size_t size, void *ctx)
{
    (void)ctx;
    return malloc(size);
}

static void *
libc_realloc(void *ptr, size_t size, void *ctx)
{
    (void)ctx;
    return realloc(ptr, size);
}

static void
libc_free(void *ptr, void *ctx)
{
    (void)ctx;
    free(ptr);
}

void
rp__alloc_init(rp__alloc *a, const rp_allocator *user)
{
    if (user != NULL && user->malloc != NULL && user->realloc != NULL &&
        user->free != NULL) {
        a->malloc = user->malloc;
        a->realloc = user->realloc;
        a->free = user->free;
        a->ctx = user->ctx;
        return;
    }
    a->malloc = libc_malloc;
    a->realloc = libc_realloc;
    a->free = libc_free;
    a->ctx = NULL;
}

void *
rp__malloc(const rp__alloc *a, size_t size)
{
    return a->malloc(size == 0 ? 1 : size, a->ctx);
}

void *
rp__calloc(const rp__alloc *a, size_t n, size_t size)
{
    void *p;

    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    p = rp__malloc(a, n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

void *
rp__grow(const rp__alloc *a, void *ptr, size_t *cap, size_t need, size_t size)
{
    size_t ncap;
    void *p;

    if (need <= *cap)
        return ptr;
    ncap = *cap < 8 ? 8 : *cap;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return NULL;
        ncap *= 2;
    }
    if (size != 0 && ncap > SIZE_MAX / size)
        return NULL;
    p = a->realloc(ptr, ncap * size, a->ctx);
    if (p == NULL)
        return NULL;
    *cap = ncap;
    return p;
}

void
rp__free(const rp__alloc *a, void *ptr)
{
    if (ptr != NULL)
        a->free(ptr, a->ctx);
}

char *
rp__strndup(const rp__alloc *a, const char *s, size_t len)
{
    char *p;

    if (len == SIZE_MAX)
        return NULL;
    p = rp__malloc(a, len + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
