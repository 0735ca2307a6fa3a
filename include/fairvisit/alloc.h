/*
 * fairvisit/alloc.h - the replaceable allocator and checked size arithmetic.
 *
 * Every allocation in fairvisit goes through fv_malloc/fv_free so that tests can replace the
 * allocator and fail the Nth allocation (out-of-memory paths are tested, not hoped for). Sizes that
 * come from outside (files, images, requests) are combined with fv_size_mul/fv_size_add, which
 * report overflow instead of wrapping.
 *
 *     size_t n;
 *     if (!fv_size_mul(w, h, &n) || !fv_size_mul(n, 4, &n)) return FV_ERR_LIMIT;
 *     float *buf = fv_malloc(n);
 *
 * Thread safety: fv_malloc and friends are as thread-safe as the installed allocator (the default
 * is the C library's). fv_set_allocator must be called before any other thread uses fairvisit.
 */
#ifndef FAIRVISIT_ALLOC_H
#define FAIRVISIT_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fv_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
} fv_allocator;

/* Installs `a` (copied). NULL restores the C library's allocator. */
void fv_set_allocator(const fv_allocator *a);

/* Like malloc/calloc/realloc/free; fv_malloc(0) returns a unique pointer or NULL. */
void *fv_malloc(size_t size);
void *fv_calloc(size_t count, size_t size);
void *fv_realloc(void *ptr, size_t size);
void fv_free(void *ptr);

/* 64-byte aligned allocation (for SIMD buffers); free with fv_aligned_free. */
void *fv_aligned_alloc(size_t size);
void fv_aligned_free(void *ptr);

/* Overwrites n bytes at p with zeros in a way the compiler may not optimise away (for buffers
 * that held pixels, templates or keys). NULL is fine. */
void fv_wipe(void *p, size_t n);

/* Copies `s` (borrowed) into a new fv_malloc'd string; NULL when out of memory. */
char *fv_strdup(const char *s);

/* *out = a * b or a + b; false (and *out untouched) on overflow. */
static inline bool fv_size_mul(size_t a, size_t b, size_t *out) {
    if (b != 0 && a > (size_t)-1 / b) return false;
    *out = a * b;
    return true;
}
static inline bool fv_size_add(size_t a, size_t b, size_t *out) {
    if (a > (size_t)-1 - b) return false;
    *out = a + b;
    return true;
}

#ifdef __cplusplus
}
#endif
#endif
