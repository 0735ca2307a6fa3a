/*
 * fairvisit/index.h - exact 1:N search over face templates held in memory.
 *
 * An index holds fixed-dimension, L2-normalised float templates (512-d face embeddings), each
 * under a 64-bit pseudonymous person id, and answers "which stored templates are most similar to
 * this one": exact cosine similarity (a dot product, the vectors being unit length), top k,
 * sorted by score descending, ties broken by ascending id. It is the search half of the template
 * vault: the vault decrypts templates into it at start (fv_index_reserve + fv_index_add, time
 * proportional to the store), keeps it in step with inserts and deletions (fv_index_add,
 * fv_index_remove), and closes it at shutdown. It knows nothing of consent, files or keys.
 *
 *     fv_index_options opt = {.threads = 2};
 *     fv_index *ix = NULL;
 *     if (fv_index_open(512, &opt, &ix) != FV_OK) { ... fv_index_errmsg(ix) ...; }
 *     if (fv_index_add(ix, person_id, embedding) != FV_OK) { ... }   // embedding: 512 floats
 *     fv_index_hit hits[10];
 *     size_t n = 0;
 *     if (fv_index_search(ix, probe, 10, hits, &n) == FV_OK && n > 0 && hits[0].score >= thr)
 *         ... returning visitor hits[0].id ...
 *     fv_index_close(ix);   // wipes every stored template, then frees it
 *
 * Modes:
 *   - float (default): templates stored as float; scores exact to float rounding.
 *   - int8 (opt.int8): each template is quantised symmetrically on its own scale
 *     (scale = max|x| / 127, code = round(x / scale)), the query the same way; scores are
 *     int32 dot products times both scales. 4x less memory and memory traffic than float.
 *     With opt.int8_rerank the float templates are kept too (2048 more bytes per 512-d template)
 *     and the best max(4k, 64) int8 candidates are re-scored exactly: the top k and their scores
 *     are then those of the float search except where int8 missed a candidate entirely.
 *
 * Memory: the template storage (float vectors, int8 codes and their scales) is allocated through
 * opt.storage when given (e.g. sodium_malloc'd guarded, locked pages), else fv_aligned_alloc.
 * Every storage block is wiped with fv_wipe before it is handed back (on growth, removal and
 * close). Ids and the id -> slot map live in fv_malloc memory; they are pseudonyms, not biometric
 * data, and are also wiped on close.
 *
 * Kernels: chosen at open from fv_cpu_features() (FV_CPU_MAX=avx2|generic caps them): AVX-512
 * (VNNI for int8 when the CPU has it), AVX2+FMA, or generic; fv_index_kernel_name() says which.
 * Search results are identical (ids and scores, bit for bit) whatever the thread count; across
 * kernel sets int8 scores are identical and float scores agree to float rounding.
 *
 * Threading: one index is used by one thread at a time (the caller serialises, as the vault
 * does); a search may use opt.threads worker threads internally. Different indexes are
 * independent.
 */
#ifndef FAIRVISIT_INDEX_H
#define FAIRVISIT_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fairvisit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest dimension fv_index_open accepts. */
#define FV_INDEX_DIM_MAX 65536
/* Most templates one index holds. */
#define FV_INDEX_COUNT_MAX ((size_t)1 << 30)

typedef struct fv_index fv_index;

/*
 * Where template storage comes from. alloc returns `size` bytes aligned to at least 64 bytes, or
 * NULL; free gets back the same pointer and size (the block is already wiped). ctx is passed
 * through, borrowed: it must outlive the index. The hooks may be called from fv_index_open,
 * fv_index_reserve, fv_index_add and fv_index_close, on the caller's thread only.
 */
typedef struct fv_index_storage {
    void *(*alloc)(void *ctx, size_t size);
    void (*free)(void *ctx, void *ptr, size_t size);
    void *ctx;
} fv_index_storage;

typedef struct fv_index_options {
    bool int8;        /* store and search int8 codes (see "Modes" above) */
    bool int8_rerank; /* with int8: keep the floats too and re-score the best candidates exactly */
    int threads;      /* threads per search including the caller; <= 1 means the caller only */
    const fv_index_storage *storage; /* borrowed; NULL: fv_aligned_alloc / fv_aligned_free */
} fv_index_options;

typedef struct fv_index_hit {
    uint64_t id;
    float score; /* cosine similarity in [-1, 1] (int8: approximately) */
} fv_index_hit;

/*
 * Opens an empty index for templates of `dim` floats (1..FV_INDEX_DIM_MAX). opt is copied; NULL
 * means defaults (float, one thread). On failure *out may still hold a handle carrying the
 * message (fv_index_errmsg), or NULL when even that could not be allocated; close it either way.
 */
FV_NODISCARD fv_status fv_index_open(int dim, const fv_index_options *opt, fv_index **out);

/* Wipes and frees everything. NULL is a no-op. */
void fv_index_close(fv_index *ix);

/* What went wrong in the last failed call on this index ("" if nothing). Never personal data;
 * ids are not quoted either. Valid until the next call on the index. NULL ix is fine. */
const char *fv_index_errmsg(const fv_index *ix);

/* Makes room for `count` templates in total, so that adding up to that many allocates nothing. */
FV_NODISCARD fv_status fv_index_reserve(fv_index *ix, size_t count);

/*
 * Adds template `vec` (dim floats, borrowed: copied) under `id`. Refused, with the index
 * unchanged: a non-finite value or a zero vector (FV_ERR_ARG), an id already present
 * (FV_ERR_STATE), a full index (FV_ERR_LIMIT), out of memory (FV_ERR_NOMEM). The vector is
 * stored as given; callers pass unit vectors (scores are dot products).
 */
FV_NODISCARD fv_status fv_index_add(fv_index *ix, uint64_t id, const float *vec);

/* Removes the template under `id` (its storage is wiped). FV_ERR_NOT_FOUND if absent. O(1). */
FV_NODISCARD fv_status fv_index_remove(fv_index *ix, uint64_t id);

/* Whether `id` is stored. */
bool fv_index_contains(const fv_index *ix, uint64_t id);

/* Number of templates stored. */
size_t fv_index_count(const fv_index *ix);

/* Dimension given at open. */
int fv_index_dim(const fv_index *ix);

/* Bytes of memory the index holds now: storage (including spare capacity), ids and the id map. */
size_t fv_index_bytes_used(const fv_index *ix);

/* Bytes one more template costs at full capacity: its vector/codes/scale, id and map share. */
size_t fv_index_bytes_per_template(const fv_index *ix);

/* "avx512-vnni", "avx512", "avx2" or "generic": the kernel set chosen at open. */
const char *fv_index_kernel_name(const fv_index *ix);

/*
 * The k stored templates most similar to `query` (dim floats, borrowed), best first, ties by
 * ascending id, written to hits[0 .. *n_hits) with *n_hits = min(k, count). k >= 1; hits has
 * room for k. FV_ERR_ARG for a bad query or k; FV_ERR_NOMEM when scratch could not be had.
 */
FV_NODISCARD fv_status fv_index_search(fv_index *ix, const float *query, size_t k,
                                       fv_index_hit *hits, size_t *n_hits);

#ifdef __cplusplus
}
#endif
#endif
