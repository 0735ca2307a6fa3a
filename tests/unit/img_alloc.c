/*
 * img_alloc.c - the counting, failing, wipe-checking test allocator (see img_alloc.h).
 */
#include "img_alloc.h"

#include <stdlib.h>
#include <string.h>

#include "fairvisit/alloc.h"

#define HDR 16

static img_alloc_stats g_stats;

static void *t_malloc(size_t size) {
    g_stats.count++;
    if (size > g_stats.max_request) g_stats.max_request = size;
    if (g_stats.fail_at > 0 && g_stats.count == g_stats.fail_at) return NULL;
    if (size > (size_t)-1 - HDR) return NULL;
    unsigned char *p = malloc(size + HDR);
    if (p == NULL) return NULL;
    memcpy(p, &size, sizeof size);
    g_stats.live++;
    return p + HDR;
}

static void t_free(void *ptr) {
    if (ptr == NULL) return;
    unsigned char *p = (unsigned char *)ptr - HDR;
    size_t size;
    memcpy(&size, p, sizeof size);
    if (g_stats.check_wiped && size >= g_stats.wipe_min) {
        const unsigned char *b = ptr;
        for (size_t i = 0; i < size; i++) {
            if (b[i] != 0) {
                g_stats.unwiped++;
                g_stats.unwiped_size = size;
                break;
            }
        }
    }
    g_stats.live--;
    free(p);
}

static void *t_realloc(void *ptr, size_t size) {
    if (ptr == NULL) return t_malloc(size);
    void *n = t_malloc(size);
    if (n == NULL) return NULL;
    size_t old;
    memcpy(&old, (unsigned char *)ptr - HDR, sizeof old);
    memcpy(n, ptr, old < size ? old : size);
    bool check = g_stats.check_wiped;
    g_stats.check_wiped = false; /* a realloc'd block moves; not a release */
    t_free(ptr);
    g_stats.check_wiped = check;
    return n;
}

img_alloc_stats *img_alloc_install(void) {
    memset(&g_stats, 0, sizeof g_stats);
    fv_allocator a = {t_malloc, t_realloc, t_free};
    fv_set_allocator(&a);
    return &g_stats;
}

void img_alloc_remove(void) {
    fv_set_allocator(NULL);
}
