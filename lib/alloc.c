/*
 * alloc.c - the per-policy allocator.
 *
 * Every allocation of a builder or policy goes through an rp__alloc, so a
 * caller-supplied allocator (rp_options.allocator) sees all of them and
 * allocation-failure tests can fail any one.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "relaypolicy.h"

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

/* ---- arena: many small blocks, freed at once ---------------------------- */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
} arena_chunk;

#define ARENA_CHUNK 65536

/* Zeroes the rounding after a block: strings live in the arena, and a
 * JIT-compiled regex may read a word past a subject's end (harmless, but
 * valgrind would report it as a use of uninitialised memory). */
static void *
arena_pad(unsigned char *p, size_t size, size_t need)
{
    memset(p + size, 0, need - size);
    return p;
}

void *
rp__arena_alloc(void **arena, const rp__alloc *a, size_t size)
{
    arena_chunk *c = *arena;
    size_t need = (size + 15) & ~(size_t)15;

    if (need < size)
        return NULL;
    if (c == NULL || c->size - c->used < need) {
        size_t csize = need > ARENA_CHUNK / 4 ? need : ARENA_CHUNK;
        if (csize > SIZE_MAX - sizeof(*c))
            return NULL;
        c = rp__malloc(a, sizeof(*c) + csize);
        if (c == NULL)
            return NULL;
        c->size = csize;
        c->used = 0;
        if (need > ARENA_CHUNK / 4 && *arena != NULL) {
            /* A big block: keep the current chunk in front for reuse. */
            arena_chunk *head = *arena;
            c->next = head->next;
            head->next = c;
            c->used = need;
            return arena_pad(c->data, size, need);
        }
        c->next = *arena;
        *arena = c;
    }
    c->used += need;
    return arena_pad(c->data + c->used - need, size, need);
}

void
rp__arena_free(void **arena, const rp__alloc *a)
{
    arena_chunk *c = *arena;

    while (c != NULL) {
        arena_chunk *next = c->next;
        rp__free(a, c);
        c = next;
    }
    *arena = NULL;
}
