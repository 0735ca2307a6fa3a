/*
 * index.c - the index handle: open/close, storage growth, add and remove, sizes, messages.
 *
 * Invariants (see index-impl.h for the layout): slots [0, count) hold the templates, every byte
 * of storage past them is zero; the id map holds exactly the ids of those slots. Each change
 * either completes or leaves the index exactly as it was: growth allocates every new block
 * before it touches the old ones, and add checks everything before it writes.
 * Storage blocks are wiped before they go back to the allocator (growth, close); a removed slot
 * is wiped in place.
 * Threading: one thread at a time per handle.
 */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "index-impl.h"

#define INITIAL_CAPACITY 16

/* Large stores are scanned end to end on every search: 2 MiB pages spare the TLB a miss every
 * 4 KiB. Advice only (Linux, THP in "madvise" or "always" mode); given before the first touch. */
#define HUGE_PAGE ((size_t)2 << 20)

static void *default_alloc(void *ctx, size_t size) {
    (void)ctx;
    void *p = fv_aligned_alloc(size);
#ifdef MADV_HUGEPAGE
    if (p != NULL && size >= 2 * HUGE_PAGE) {
        size_t skip = (HUGE_PAGE - (uintptr_t)p % HUGE_PAGE) % HUGE_PAGE;
        size_t len = (size - skip) / HUGE_PAGE * HUGE_PAGE;
        if (len > 0) (void)madvise((char *)p + skip, len, MADV_HUGEPAGE);
    }
#endif
    return p;
}

static void default_free(void *ctx, void *ptr, size_t size) {
    (void)ctx;
    (void)size;
    fv_aligned_free(ptr);
}

fv_status fv__index_fail(fv_index *ix, fv_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ix->err, sizeof ix->err, fmt, ap);
    va_end(ap);
    return st;
}

static void *store_alloc(fv_index *ix, size_t size) {
    void *p = ix->storage.alloc(ix->storage.ctx, size);
    if (p != NULL) memset(p, 0, size);
    return p;
}

static void store_free(fv_index *ix, void *p, size_t size) {
    if (p == NULL) return;
    fv_wipe(p, size);
    ix->storage.free(ix->storage.ctx, p, size);
}

static size_t query_bytes(const fv_index *ix) {
    return ix->stride_f * sizeof(float) + ix->stride_q * (sizeof(int8_t) + sizeof(int16_t));
}

/* The storage of one capacity, allocated together so growth is all or nothing. */
typedef struct blocks {
    float *vec;
    int8_t *codes;
    float *scales;
    uint64_t *ids;
    fv__index_map map;
} blocks;

static size_t map_buckets(size_t cap) {
    size_t b = INITIAL_CAPACITY * 2;
    while (b < cap * 2) b *= 2;
    return b;
}

static void blocks_free(fv_index *ix, blocks *b, size_t cap) {
    store_free(ix, b->vec, cap * ix->stride_f * sizeof(float));
    store_free(ix, b->codes, cap * ix->stride_q);
    store_free(ix, b->scales, cap * sizeof(float));
    if (b->ids != NULL) fv_wipe(b->ids, cap * sizeof(uint64_t));
    fv_free(b->ids);
    fv__index_map_free(&b->map);
    memset(b, 0, sizeof(*b));
}

/* Moves the index to capacity `cap` (> count). */
static fv_status grow(fv_index *ix, size_t cap) {
    size_t row = ix->stride_f * sizeof(float);
    size_t bytes;
    if (cap > FV_INDEX_COUNT_MAX || !fv_size_mul(cap, row, &bytes) ||
        !fv_size_mul(cap, ix->stride_q, &bytes))
        return fv__index_fail(ix, FV_ERR_LIMIT, "index capacity %zu is beyond the limit", cap);
    blocks nb = {0};
    bool ok = true;
    if (ix->keep_float) ok = (nb.vec = store_alloc(ix, cap * row)) != NULL;
    if (ok && ix->int8) {
        ok = (nb.codes = store_alloc(ix, cap * ix->stride_q)) != NULL &&
             (nb.scales = store_alloc(ix, cap * sizeof(float))) != NULL;
    }
    if (ok) ok = (nb.ids = fv_malloc(cap * sizeof(uint64_t))) != NULL;
    if (ok) ok = fv__index_map_init(&nb.map, map_buckets(cap));
    if (!ok) {
        blocks_free(ix, &nb, cap);
        return fv__index_fail(ix, FV_ERR_NOMEM, "out of memory growing the index to %zu templates",
                              cap);
    }
    size_t n = ix->count;
    if (n > 0) { /* the first growth (at open) has no old blocks */
        if (nb.vec != NULL) memcpy(nb.vec, ix->vec, n * row);
        if (nb.codes != NULL) {
            memcpy(nb.codes, ix->codes, n * ix->stride_q);
            memcpy(nb.scales, ix->scales, n * sizeof(float));
        }
        memcpy(nb.ids, ix->ids, n * sizeof(uint64_t));
    }
    for (size_t s = 0; s < n; s++) fv__index_map_insert(&nb.map, nb.ids[s], (uint32_t)s);

    blocks old = {ix->vec, ix->codes, ix->scales, ix->ids, ix->map};
    blocks_free(ix, &old, ix->cap);
    ix->vec = nb.vec;
    ix->codes = nb.codes;
    ix->scales = nb.scales;
    ix->ids = nb.ids;
    ix->map = nb.map;
    ix->cap = cap;
    return FV_OK;
}

fv_status fv_index_open(int dim, const fv_index_options *opt, fv_index **out) {
    if (out == NULL) return FV_ERR_ARG;
    *out = NULL;
    fv_index *ix = fv_calloc(1, sizeof(*ix));
    if (ix == NULL) return FV_ERR_NOMEM;
    *out = ix;
    fv_index_options o = {0};
    if (opt != NULL) o = *opt;
    ix->storage.alloc = default_alloc;
    ix->storage.free = default_free;
    if (dim < 1 || dim > FV_INDEX_DIM_MAX)
        return fv__index_fail(ix, FV_ERR_ARG, "dimension %d is outside [1, %d]", dim,
                              FV_INDEX_DIM_MAX);
    if (o.int8_rerank && !o.int8)
        return fv__index_fail(ix, FV_ERR_ARG, "int8_rerank needs int8 mode");
    if (o.storage != NULL) {
        if (o.storage->alloc == NULL || o.storage->free == NULL)
            return fv__index_fail(ix, FV_ERR_ARG, "storage hooks need both alloc and free");
        ix->storage = *o.storage;
    }
    ix->dim = dim;
    ix->int8 = o.int8;
    ix->keep_float = !o.int8 || o.int8_rerank;
    ix->stride_f =
        ((size_t)dim + FV__INDEX_FLOAT_ALIGN - 1) / FV__INDEX_FLOAT_ALIGN * FV__INDEX_FLOAT_ALIGN;
    ix->stride_q = ix->int8 ? ((size_t)dim + FV__INDEX_CODE_ALIGN - 1) / FV__INDEX_CODE_ALIGN *
                                  FV__INDEX_CODE_ALIGN
                            : 0;
    ix->kern = fv__index_kernels_select();

    unsigned char *q = store_alloc(ix, query_bytes(ix));
    if (q == NULL) return fv__index_fail(ix, FV_ERR_NOMEM, "out of memory opening the index");
    ix->qf = (float *)q;
    ix->q16 = (int16_t *)(q + ix->stride_f * sizeof(float)); /* 64-byte multiple: aligned */
    ix->qc = (int8_t *)(q + ix->stride_f * sizeof(float) + ix->stride_q * sizeof(int16_t));
    if (fv__pool_open(o.threads, &ix->pool) != FV_OK)
        return fv__index_fail(ix, FV_ERR_NOMEM, "out of memory starting search threads");
    return grow(ix, INITIAL_CAPACITY);
}

void fv_index_close(fv_index *ix) {
    if (ix == NULL) return;
    fv__pool_close(ix->pool);
    blocks b = {ix->vec, ix->codes, ix->scales, ix->ids, ix->map};
    blocks_free(ix, &b, ix->cap);
    if (ix->qf != NULL) store_free(ix, ix->qf, query_bytes(ix));
    fv_wipe(ix, sizeof(*ix));
    fv_free(ix);
}

const char *fv_index_errmsg(const fv_index *ix) {
    return ix == NULL ? "no index (out of memory at open)" : ix->err;
}

fv_status fv_index_reserve(fv_index *ix, size_t count) {
    if (ix == NULL) return FV_ERR_ARG;
    ix->err[0] = '\0';
    if (count > FV_INDEX_COUNT_MAX)
        return fv__index_fail(ix, FV_ERR_LIMIT, "cannot hold more than %zu templates",
                              FV_INDEX_COUNT_MAX);
    return count <= ix->cap ? FV_OK : grow(ix, count);
}

fv_status fv__index_check_vector(fv_index *ix, const float *v, const char *what) {
    if (v == NULL) return fv__index_fail(ix, FV_ERR_ARG, "%s is NULL", what);
    double norm2 = 0.0;
    for (int i = 0; i < ix->dim; i++) {
        if (!isfinite(v[i]))
            return fv__index_fail(ix, FV_ERR_ARG, "%s has a non-finite value at position %d", what,
                                  i);
        norm2 += (double)v[i] * (double)v[i];
    }
    /* Unit length to well within float rounding of a normalised embedding. */
    if (!(norm2 > 0.98 && norm2 < 1.02))
        return fv__index_fail(ix, FV_ERR_ARG,
                              "%s is not L2-normalised (squared norm %.4g; must be 1 +- 0.02)",
                              what, norm2);
    return FV_OK;
}

float fv__index_quantize(const float *v, int dim, int8_t *codes) {
    float maxabs = 0.0f;
    for (int i = 0; i < dim; i++) maxabs = fmaxf(maxabs, fabsf(v[i]));
    if (maxabs == 0.0f) {
        memset(codes, 0, (size_t)dim);
        return 0.0f;
    }
    float inv = 127.0f / maxabs;
    for (int i = 0; i < dim; i++) {
        float c = nearbyintf(v[i] * inv);
        codes[i] = (int8_t)(c > 127.0f ? 127.0f : c < -127.0f ? -127.0f : c);
    }
    return maxabs / 127.0f;
}

fv_status fv_index_add(fv_index *ix, uint64_t id, const float *vec) {
    if (ix == NULL) return FV_ERR_ARG;
    ix->err[0] = '\0';
    fv_status st = fv__index_check_vector(ix, vec, "template");
    if (st != FV_OK) return st;
    if (fv__index_map_find(&ix->map, id) != SIZE_MAX)
        return fv__index_fail(ix, FV_ERR_STATE, "this id is already in the index");
    if (ix->count >= FV_INDEX_COUNT_MAX)
        return fv__index_fail(ix, FV_ERR_LIMIT, "the index holds its maximum of %zu templates",
                              FV_INDEX_COUNT_MAX);
    if (ix->count == ix->cap) {
        size_t cap = ix->cap * 2;
        if (cap > FV_INDEX_COUNT_MAX) cap = FV_INDEX_COUNT_MAX;
        st = grow(ix, cap);
        if (st != FV_OK) return st;
    }
    size_t s = ix->count;
    if (ix->keep_float) memcpy(ix->vec + s * ix->stride_f, vec, (size_t)ix->dim * sizeof(float));
    if (ix->int8) ix->scales[s] = fv__index_quantize(vec, ix->dim, ix->codes + s * ix->stride_q);
    ix->ids[s] = id;
    fv__index_map_insert(&ix->map, id, (uint32_t)s);
    ix->count++;
    return FV_OK;
}

fv_status fv_index_remove(fv_index *ix, uint64_t id) {
    if (ix == NULL) return FV_ERR_ARG;
    ix->err[0] = '\0';
    size_t b = fv__index_map_find(&ix->map, id);
    if (b == SIZE_MAX) return fv__index_fail(ix, FV_ERR_NOT_FOUND, "this id is not in the index");
    size_t s = ix->map.slots[b], last = ix->count - 1;
    fv__index_map_erase(&ix->map, b);
    size_t row = ix->stride_f * sizeof(float);
    if (s != last) {
        if (ix->keep_float) memcpy(ix->vec + s * ix->stride_f, ix->vec + last * ix->stride_f, row);
        if (ix->int8) {
            memcpy(ix->codes + s * ix->stride_q, ix->codes + last * ix->stride_q, ix->stride_q);
            ix->scales[s] = ix->scales[last];
        }
        ix->ids[s] = ix->ids[last];
        size_t mb = fv__index_map_find(&ix->map, ix->ids[s]);
        ix->map.slots[mb] = (uint32_t)s;
    }
    if (ix->keep_float) fv_wipe(ix->vec + last * ix->stride_f, row);
    if (ix->int8) {
        fv_wipe(ix->codes + last * ix->stride_q, ix->stride_q);
        fv_wipe(&ix->scales[last], sizeof(float));
    }
    ix->ids[last] = 0;
    ix->count--;
    return FV_OK;
}

bool fv_index_contains(const fv_index *ix, uint64_t id) {
    return ix != NULL && fv__index_map_find(&ix->map, id) != SIZE_MAX;
}

size_t fv_index_count(const fv_index *ix) {
    return ix == NULL ? 0 : ix->count;
}

int fv_index_dim(const fv_index *ix) {
    return ix == NULL ? 0 : ix->dim;
}

static size_t row_bytes(const fv_index *ix) {
    size_t r = sizeof(uint64_t);
    if (ix->keep_float) r += ix->stride_f * sizeof(float);
    if (ix->int8) r += ix->stride_q + sizeof(float);
    return r;
}

static size_t map_bytes(const fv_index *ix) {
    return ix->map.keys == NULL ? 0 : (ix->map.mask + 1) * (sizeof(uint64_t) + sizeof(uint32_t));
}

size_t fv_index_bytes_used(const fv_index *ix) {
    if (ix == NULL) return 0;
    return sizeof(*ix) + query_bytes(ix) + ix->cap * row_bytes(ix) + map_bytes(ix);
}

size_t fv_index_bytes_per_template(const fv_index *ix) {
    if (ix == NULL || ix->cap == 0) return 0;
    return row_bytes(ix) + (map_bytes(ix) + ix->cap - 1) / ix->cap;
}

const char *fv_index_kernel_name(const fv_index *ix) {
    return ix == NULL ? "" : ix->kern->name;
}
