/*
 * search.c - exact top-k: a blocked scan of the store, split into tasks across the pool, each
 * thread keeping a bounded heap of its best candidates, then one merge.
 *
 * Order: a ranks before b if a.score > b.score, or the scores are equal and a.id < b.id. Ids are
 * unique, so this is a total order and the top k is one well-defined set whatever the split:
 * results do not depend on the thread count (every score is computed by the same instructions,
 * see scan_simd.c).
 * int8: scores are (float)dot32 * qscale * scale[slot], computed here in scalar code so every
 * kernel set gives the same values. With re-rank, the best max(4k, 64) int8 candidates are
 * re-scored with the float kernel and re-sorted.
 * Threading: the caller's thread plus pool workers; each worker writes only its own heap. The
 * query scratch is wiped before returning.
 */
#include <stdlib.h>
#include <string.h>

#include "index-impl.h"

#define BLOCK 256 /* templates scored per kernel call (scores stay in L1) */
#define MIN_TASK_BYTES                                                                             \
    (256 * 1024) /* bytes scanned per task at least: less costs more than it saves */
#define TASKS_PER_THREAD 4
#define RERANK_MIN       64

typedef struct cand {
    float score;
    uint32_t slot;
    uint64_t id;
} cand;

static inline bool before(const cand *a, const cand *b) {
    return a->score > b->score || (a->score == b->score && a->id < b->id);
}

static int cmp_cand(const void *pa, const void *pb) {
    const cand *a = pa, *b = pb;
    return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

/* A bounded min-heap: v[0] is the worst kept candidate. */
typedef struct heap {
    cand *v;
    size_t n, cap;
} heap;

static void sift_down(heap *h, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < h->n && before(&h->v[w], &h->v[l])) w = l;
        if (r < h->n && before(&h->v[w], &h->v[r])) w = r;
        if (w == i) return;
        cand t = h->v[i];
        h->v[i] = h->v[w];
        h->v[w] = t;
        i = w;
    }
}

static void heap_offer(heap *h, cand c) {
    if (h->n < h->cap) {
        size_t i = h->n++;
        h->v[i] = c;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (!before(&h->v[p], &h->v[i])) break;
            cand t = h->v[i];
            h->v[i] = h->v[p];
            h->v[p] = t;
            i = p;
        }
    } else if (before(&c, &h->v[0])) {
        h->v[0] = c;
        sift_down(h, 0);
    }
}

typedef struct scan {
    const fv_index *ix;
    heap *heaps; /* one per thread */
    size_t per_task;
    float qscale;
} scan;

static void scan_task(void *ctx, int task, int tid) {
    const scan *sc = ctx;
    const fv_index *ix = sc->ix;
    heap *h = &sc->heaps[tid];
    size_t begin = (size_t)task * sc->per_task;
    size_t end = begin + sc->per_task < ix->count ? begin + sc->per_task : ix->count;
    float score[BLOCK];
    int32_t dots[BLOCK];
    for (size_t b = begin; b < end; b += BLOCK) {
        size_t n = end - b < BLOCK ? end - b : BLOCK;
        if (ix->int8) {
            ix->kern->scores_i8(ix->qc, ix->q16, ix->codes + b * ix->stride_q, ix->stride_q, n,
                                dots);
            for (size_t j = 0; j < n; j++)
                score[j] = (float)dots[j] * sc->qscale * ix->scales[b + j];
        } else {
            ix->kern->scores_f32(ix->qf, ix->vec + b * ix->stride_f, ix->stride_f, n, score);
        }
        for (size_t j = 0; j < n; j++) {
            /* Most templates fall below the worst kept one: one compare and on. */
            if (h->n == h->cap && score[j] < h->v[0].score) continue;
            cand c = {score[j], (uint32_t)(b + j), ix->ids[b + j]};
            heap_offer(h, c);
        }
    }
}

static void wipe_query(fv_index *ix) {
    fv_wipe(ix->qf, ix->stride_f * sizeof(float));
    fv_wipe(ix->qc, ix->stride_q);
    fv_wipe(ix->q16, ix->stride_q * sizeof(int16_t));
}

fv_status fv_index_search(fv_index *ix, const float *query, size_t k, fv_index_hit *hits,
                          size_t *n_hits) {
    if (ix == NULL) return FV_ERR_ARG;
    ix->err[0] = '\0';
    if (n_hits == NULL || hits == NULL)
        return fv__index_fail(ix, FV_ERR_ARG, "hits and n_hits must not be NULL");
    *n_hits = 0;
    if (k < 1) return fv__index_fail(ix, FV_ERR_ARG, "k must be at least 1");
    fv_status st = fv__index_check_vector(ix, query, "query");
    if (st != FV_OK) return st;
    size_t count = ix->count;
    if (count == 0) return FV_OK;
    size_t kk = k < count ? k : count;
    bool rerank = ix->int8 && ix->keep_float;
    size_t ncand = kk;
    if (rerank) {
        ncand = kk * 4 > RERANK_MIN ? kk * 4 : RERANK_MIN;
        if (ncand > count) ncand = count;
    }

    int threads = fv__pool_threads(ix->pool);
    size_t row = ix->int8 ? ix->stride_q : ix->stride_f * sizeof(float);
    size_t min_task = MIN_TASK_BYTES / row + 1;
    size_t tasks = 1;
    if (threads > 1 && count >= 2 * min_task) {
        tasks = (size_t)threads * TASKS_PER_THREAD;
        if (tasks > count / min_task) tasks = count / min_task;
    }
    size_t per_task = (count + tasks - 1) / tasks;
    tasks = (count + per_task - 1) / per_task;
    /* Any pool thread may take a task, so each gets a heap (one task runs inline, on tid 0). */
    size_t used_threads = tasks > 1 ? (size_t)threads : 1;

    size_t slots;
    if (!fv_size_mul(used_threads, ncand, &slots) || !fv_size_mul(slots, sizeof(cand), &slots))
        return fv__index_fail(ix, FV_ERR_LIMIT, "k = %zu is too large", k);
    cand *all = fv_malloc(slots);
    heap *heaps = fv_calloc(used_threads, sizeof(heap));
    if (all == NULL || heaps == NULL) {
        fv_free(all);
        fv_free(heaps);
        return fv__index_fail(ix, FV_ERR_NOMEM, "out of memory for search scratch (k = %zu)", k);
    }
    for (size_t t = 0; t < used_threads; t++) {
        heaps[t].v = all + t * ncand;
        heaps[t].cap = ncand;
    }

    memcpy(ix->qf, query, (size_t)ix->dim * sizeof(float));
    scan sc = {ix, heaps, per_task, 0.0f};
    if (ix->int8) {
        sc.qscale = fv__index_quantize(query, ix->dim, ix->qc);
        for (size_t i = 0; i < ix->stride_q; i++)
            ix->q16[i] = (int16_t)ix->qc[i]; /* sign-extends: codes are signed */
    }
    fv__pool_run(ix->pool, (int)tasks, scan_task, &sc);

    /* Merge: the heaps are packed one after another at the front of `all`. */
    size_t total = 0;
    for (size_t t = 0; t < used_threads; t++) {
        memmove(all + total, heaps[t].v, heaps[t].n * sizeof(cand));
        total += heaps[t].n;
    }
    qsort(all, total, sizeof(cand), cmp_cand);
    if (total > ncand) total = ncand;
    if (rerank) {
        for (size_t i = 0; i < total; i++)
            ix->kern->scores_f32(ix->qf, ix->vec + (size_t)all[i].slot * ix->stride_f, ix->stride_f,
                                 1, &all[i].score);
        qsort(all, total, sizeof(cand), cmp_cand);
    }
    if (total > kk) total = kk;
    for (size_t i = 0; i < total; i++) {
        hits[i].id = all[i].id;
        hits[i].score = all[i].score;
    }
    *n_hits = total;
    wipe_query(ix);
    fv_wipe(all, slots);
    fv_free(all);
    fv_free(heaps);
    return FV_OK;
}
