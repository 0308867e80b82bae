/*
 * alloc.h - the allocator every builder and policy allocates through, and
 * the arena that holds a compiled policy's many small blocks.
 */
#ifndef RP_ALLOC_H
#define RP_ALLOC_H

#include <stddef.h>

#include "relaypolicy.h"

typedef struct rp__alloc {
    void *(*malloc)(size_t size, void *ctx);
    void *(*realloc)(void *ptr, size_t size, void *ctx);
    void (*free)(void *ptr, void *ctx);
    void *ctx;
} rp__alloc;

/* Fill @a from an optional public allocator (NULL: libc). */
void rp__alloc_init(rp__alloc *a, const rp_allocator *user);
void *rp__malloc(const rp__alloc *a, size_t size);
/* Zeroed; fails (NULL) when n * size overflows. */
void *rp__calloc(const rp__alloc *a, size_t n, size_t size);
/* Grows an array of @p size-byte elements to hold @p need; NULL on failure
 * (the old block is then untouched). *cap is updated on success. */
void *
rp__grow(const rp__alloc *a, void *ptr, size_t *cap, size_t need, size_t size);
void rp__free(const rp__alloc *a, void *ptr);
char *rp__strndup(const rp__alloc *a, const char *s, size_t len);

/* Many small blocks, freed at once: rp__arena_alloc() returns @p size bytes
 * (16-byte aligned, the rounding zeroed) from the chunks at *@p arena, NULL
 * on no memory; rp__arena_free() frees every chunk and sets *@p arena NULL. */
void *rp__arena_alloc(void **arena, const rp__alloc *a, size_t size);
void rp__arena_free(void **arena, const rp__alloc *a);

#endif /* RP_ALLOC_H */
