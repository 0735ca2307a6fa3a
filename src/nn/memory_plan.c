/*
 * memory_plan.c - places every activation tensor in one arena so that tensors whose lifetimes
 * do not overlap share memory; a run then allocates nothing.
 *
 * A tensor lives from the node that writes it to the last node that reads it (graph outputs
 * live to the end; an output nobody reads lives during its node only). Tensors are placed
 * largest first, each at the lowest 64-byte aligned offset that does not overlap a placed tensor
 * with an overlapping lifetime (greedy by size, as in offline memory planners). Lifetimes are
 * inclusive, so no kernel's output aliases its input.
 * Also sizes the shared scratch buffer (the largest per-node need, once per thread).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nn-impl.h"

typedef struct item {
    int t;
    int start, end;
    size_t size;
    size_t offset;
} item;

static int by_size_desc(const void *a, const void *b) {
    const item *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->t - y->t;
}

static size_t align64(size_t x) {
    return (x + 63) & ~(size_t)63;
}

/*
 * The arena is large and walked with long strides (1x1 convs read one row per input channel),
 * so it asks for transparent huge pages where the kernel offers them: fewer TLB misses, and
 * run times that no longer depend on where the allocator happened to place the block.
 */
#define FV__HUGE ((size_t)2 << 20)

static unsigned char *arena_alloc(size_t size) {
    if (size < FV__HUGE) return fv_aligned_alloc(size);
    size_t total;
    if (!fv_size_add(size, FV__HUGE + sizeof(void *), &total)) return NULL;
    unsigned char *raw = fv_malloc(total);
    if (raw == NULL) return NULL;
    unsigned char *p = raw + sizeof(void *);
    size_t mis = (size_t)((uintptr_t)p % FV__HUGE);
    p += mis ? FV__HUGE - mis : 0;
    memcpy(p - sizeof(void *), &raw, sizeof raw);
#ifdef MADV_HUGEPAGE
    (void)madvise(p, size - size % FV__HUGE, MADV_HUGEPAGE); /* advice only */
#endif
    return p;
}

static void arena_free(unsigned char *p) {
    /* both kinds keep the raw block pointer just before the aligned address */
    fv_aligned_free(p);
}

fv_status fv__memory_plan(fv_nn_model *m) {
    int count = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        fv__tensor *t = &m->tensors[i];
        if (t->kind == FV_TK_ACTIVATION && t->producer >= 0 && !m->nodes[t->producer].dead) count++;
    }
    item *items = fv_calloc((size_t)(count ? count : 1), sizeof(item));
    if (items == NULL) return fv__nn_fail(m, FV_ERR_NOMEM, "out of memory");
    int k = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        fv__tensor *t = &m->tensors[i];
        /* Outputs nobody reads still get memory: their node runs and writes them. */
        if (!(t->kind == FV_TK_ACTIVATION && t->producer >= 0 && !m->nodes[t->producer].dead))
            continue;
        items[k].t = i;
        items[k].start = t->producer;
        items[k].end =
            t->is_output ? m->n_nodes : (t->last_use > t->producer ? t->last_use : t->producer);
        items[k].size = align64(t->numel * fv__dtype_size(t->dtype));
        k++;
    }
    qsort(items, (size_t)count, sizeof(item), by_size_desc);
    size_t total = 0;
    for (int i = 0; i < count; i++) {
        /* Candidate offsets: 0 and the end of every placed, lifetime-overlapping item. */
        size_t best = (size_t)-1;
        for (int c = -1; c < i; c++) {
            size_t off;
            if (c < 0) {
                off = 0;
            } else {
                if (items[c].end < items[i].start || items[c].start > items[i].end) continue;
                off = items[c].offset + items[c].size;
            }
            if (off >= best) continue;
            bool fits = true;
            for (int j = 0; j < i && fits; j++) {
                if (items[j].end < items[i].start || items[j].start > items[i].end) continue;
                if (off < items[j].offset + items[j].size && items[j].offset < off + items[i].size)
                    fits = false;
            }
            if (fits) best = off;
        }
        items[i].offset = best;
        if (best + items[i].size > total) total = best + items[i].size;
    }
    if (total > FV_NN_MAX_ARENA) {
        fv_free(items);
        return fv__nn_fail(m, FV_ERR_LIMIT, "the model needs %zu MiB of activations (limit %zu)",
                           total >> 20, FV_NN_MAX_ARENA >> 20);
    }
    size_t scratch = 0;
    for (int i = 0; i < m->n_nodes; i++)
        if (!m->nodes[i].dead && m->nodes[i].scratch > scratch) scratch = m->nodes[i].scratch;
    scratch = align64(scratch);
    int threads = fv__pool_threads(m->pool);
    size_t scratch_all;
    if (!fv_size_mul(scratch, (size_t)threads, &scratch_all)) {
        fv_free(items);
        return fv__nn_fail(m, FV_ERR_LIMIT, "scratch memory too large");
    }
    unsigned char *arena = arena_alloc(total ? total : 64);
    float *scr = fv_aligned_alloc(scratch_all ? scratch_all : 64);
    if (arena == NULL || scr == NULL) {
        arena_free(arena);
        fv_aligned_free(scr);
        fv_free(items);
        return fv__nn_fail(m, FV_ERR_NOMEM, "out of memory for %zu MiB of activations",
                           total >> 20);
    }
    arena_free(m->arena);
    fv_aligned_free(m->scratch);
    m->arena = arena;
    m->arena_size = total;
    m->scratch = scr;
    m->scratch_size = scratch;
    for (int i = 0; i < count; i++) {
        fv__tensor *t = &m->tensors[items[i].t];
        t->offset = items[i].offset;
        t->data = arena + items[i].offset;
    }
    fv_free(items);
    return FV_OK;
}
