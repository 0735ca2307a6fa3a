/*
 * alloc.c - the replaceable allocator behind fv_malloc/fv_free.
 *
 * Aligned blocks are carved from an fv_malloc'd block with room for alignment; the original
 * pointer is stored just before the aligned address so fv_aligned_free can return it.
 * Invariant: the installed allocator is never NULL (defaults to the C library's).
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "fairvisit/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static fv_allocator g_alloc = {malloc, realloc, free};

void fv_set_allocator(const fv_allocator *a) {
    if (a == NULL) {
        g_alloc.malloc_fn = malloc;
        g_alloc.realloc_fn = realloc;
        g_alloc.free_fn = free;
        return;
    }
    g_alloc = *a;
}

void *fv_malloc(size_t size) {
    return g_alloc.malloc_fn(size ? size : 1);
}

void *fv_calloc(size_t count, size_t size) {
    size_t n;
    if (!fv_size_mul(count, size, &n)) return NULL;
    void *p = fv_malloc(n);
    if (p != NULL) memset(p, 0, n);
    return p;
}

void *fv_realloc(void *ptr, size_t size) {
    return g_alloc.realloc_fn(ptr, size ? size : 1);
}

void fv_free(void *ptr) {
    if (ptr != NULL) g_alloc.free_fn(ptr);
}

#define FV__ALIGN 64

void *fv_aligned_alloc(size_t size) {
    size_t total;
    if (!fv_size_add(size, FV__ALIGN + sizeof(void *), &total)) return NULL;
    unsigned char *raw = fv_malloc(total);
    if (raw == NULL) return NULL;
    unsigned char *p = raw + sizeof(void *);
    size_t mis = (size_t)((uintptr_t)p % FV__ALIGN);
    p += mis ? FV__ALIGN - mis : 0;
    memcpy(p - sizeof(void *), &raw, sizeof raw);
    return p;
}

void fv_aligned_free(void *ptr) {
    if (ptr == NULL) return;
    void *raw;
    memcpy(&raw, (unsigned char *)ptr - sizeof(void *), sizeof raw);
    fv_free(raw);
}

char *fv_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = fv_malloc(n);
    if (d != NULL) memcpy(d, s, n);
    return d;
}

void fv_wipe(void *p, size_t n) {
    if (p != NULL && n > 0) explicit_bzero(p, n);
}
