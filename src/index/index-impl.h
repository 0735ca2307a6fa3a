/*
 * index-impl.h - declarations shared inside src/index: the handle, the kernel table and the id
 * map (the thread pool is src/core/pool.h).
 *
 * Storage layout (slot s in [0, count)):
 *   vec    [cap][stride_f] floats    float mode, or int8 with re-rank (else NULL)
 *   codes  [cap][stride_q] int8      int8 mode (else NULL)
 *   scales [cap] floats              int8 mode: template s = codes[s] * scales[s]
 *   ids    [cap] uint64              person ids
 * Rows are zero beyond `dim` and every slot >= count is all zero, so kernels may read whole
 * padded rows. The id map sends each stored id to its slot (open addressing, linear probing,
 * backward-shift deletion, at most half full). Removal moves the last slot into the hole.
 *
 * Threading: a handle is used by one thread at a time; during a search, pool workers read the
 * storage and write only their own heap.
 */
#ifndef FAIRVISIT_INDEX_IMPL_H
#define FAIRVISIT_INDEX_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fairvisit/alloc.h"
#include "fairvisit/index.h"
#include "../core/pool.h"

/* Floats per padded float row are a multiple of this (two vectors of the widest ISA). */
#define FV__INDEX_FLOAT_ALIGN 32
/* Bytes per padded int8 row are a multiple of this (one 512-bit vector). */
#define FV__INDEX_CODE_ALIGN 64

typedef struct fv__index_kernels {
    const char *name;
    /* out[i] = dot(q, x + i*stride) for i in [0, n): stride floats per row, a multiple of
     * FV__INDEX_FLOAT_ALIGN; every row is computed with the same operations in the same order,
     * whatever n and wherever it starts, so a score does not depend on how the scan is split. */
    void (*scores_f32)(const float *q, const float *x, size_t stride, size_t n, float *out);
    /* out[i] = exact int32 dot(q, x + i*stride) over stride bytes (a multiple of
     * FV__INDEX_CODE_ALIGN); codes in [-127, 127]. q16 is q widened to int16 (both given; each
     * variant reads the one it wants). */
    void (*scores_i8)(const int8_t *q, const int16_t *q16, const int8_t *x, size_t stride, size_t n,
                      int32_t *out);
} fv__index_kernels;

extern const fv__index_kernels fv__index_kernels_generic;
#if defined(__x86_64__)
extern const fv__index_kernels fv__index_kernels_avx2;
extern const fv__index_kernels fv__index_kernels_avx512;
extern const fv__index_kernels fv__index_kernels_avx512vnni;
#endif

/* The best table fv_cpu_features() allows (FV_CPU_MAX honoured) and this CPU runs. */
const fv__index_kernels *fv__index_kernels_select(void);

/* id -> slot map. */
typedef struct fv__index_map {
    uint64_t *keys;
    uint32_t *slots; /* FV__INDEX_MAP_EMPTY marks a free bucket */
    size_t mask;     /* buckets - 1; buckets a power of two */
} fv__index_map;
#define FV__INDEX_MAP_EMPTY UINT32_MAX

/* Allocates an empty map with `buckets` (a power of two) buckets; false when out of memory. */
bool fv__index_map_init(fv__index_map *m, size_t buckets);
/* Wipes and frees; the map is then empty with no buckets. */
void fv__index_map_free(fv__index_map *m);
/* Bucket holding id, or SIZE_MAX. */
size_t fv__index_map_find(const fv__index_map *m, uint64_t id);
/* Inserts id (absent) -> slot; the map must have a free bucket. */
void fv__index_map_insert(fv__index_map *m, uint64_t id, uint32_t slot);
/* Empties bucket b (from fv__index_map_find), keeping every other id findable. */
void fv__index_map_erase(fv__index_map *m, size_t b);

struct fv_index {
    int dim;
    size_t stride_f; /* floats per row of vec */
    size_t stride_q; /* bytes per row of codes */
    bool int8, keep_float;
    const fv__index_kernels *kern;
    fv__pool *pool;
    fv_index_storage storage;

    size_t count, cap;
    float *vec;
    int8_t *codes;
    float *scales;
    uint64_t *ids;
    fv__index_map map;

    /* Query scratch from the storage hooks (a probe is a template too), wiped after a search. */
    float *qf;
    int8_t *qc;
    int16_t *q16;
    char err[160];
};

/* Formats the message into ix->err and returns st. */
fv_status fv__index_fail(fv_index *ix, fv_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Checks that v has `dim` finite values and unit L2 norm; on failure writes a reason to ix. */
FV_NODISCARD fv_status fv__index_check_vector(fv_index *ix, const float *v, const char *what);

/* Symmetric int8 quantisation of v[0..dim) into codes (padding untouched); returns the scale. */
float fv__index_quantize(const float *v, int dim, int8_t *codes);

#endif
