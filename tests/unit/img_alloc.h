/*
 * img_alloc.h - a test allocator for the image tests, installed with fv_set_allocator: counts
 * allocations and live blocks, records the largest request, fails the Nth allocation on demand,
 * and can check on free that a block was wiped (all zero) before it was released.
 *
 * Single-threaded (tests only). Blocks carry a 16-byte header with their size.
 */
#ifndef FAIRVISIT_TEST_IMG_ALLOC_H
#define FAIRVISIT_TEST_IMG_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

typedef struct img_alloc_stats {
    long count;          /* allocations so far (malloc and realloc) */
    long live;           /* blocks not yet freed */
    size_t max_request;  /* largest size asked for */
    long fail_at;        /* > 0: the fail_at-th allocation returns NULL (once) */
    bool check_wiped;    /* free checks the block is all zero */
    size_t wipe_min;     /* ... for blocks of at least this many bytes */
    long unwiped;        /* frees that found non-zero bytes */
    size_t unwiped_size; /* size of the last such block */
} img_alloc_stats;

/* Installs the allocator with fresh statistics; returns them (static storage). */
img_alloc_stats *img_alloc_install(void);
/* Restores the C library's allocator. Every block must have been freed first. */
void img_alloc_remove(void);

#endif
