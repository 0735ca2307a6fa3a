/*
 * test_index.c - the 1:N search index against a naive reference (double loops, full sort) on
 * random data: top-k for many k, ties, k > count, the empty index; add/remove/re-add
 * interleavings; refusals and their messages; identical results across kernel sets and thread
 * counts; int8 recall@10; out-of-memory injection; storage wiped before it is freed.
 *
 * Threading: the test is single-threaded apart from the index's own search threads.
 */
#define _GNU_SOURCE /* setenv, unsetenv */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fairvisit/alloc.h"
#include "fairvisit/index.h"
#include "index-impl.h"

/* ---- data -------------------------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s) {
    return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

/* Approximately normal (sum of four uniforms), then normalised: a random unit vector. */
static void random_unit(uint64_t *s, int dim, float *v) {
    double n2 = 0.0;
    for (int i = 0; i < dim; i++) {
        double g = rng_unit(s) + rng_unit(s) + rng_unit(s) + rng_unit(s) - 2.0;
        v[i] = (float)g;
        n2 += g * g;
    }
    double inv = 1.0 / sqrt(n2);
    for (int i = 0; i < dim; i++) v[i] = (float)(v[i] * inv);
}

/* A noisy copy of `src` (noise of norm ~`amount`), normalised. */
static void perturbed(uint64_t *s, int dim, const float *src, double amount, float *v) {
    random_unit(s, dim, v);
    double n2 = 0.0;
    for (int i = 0; i < dim; i++) {
        double x = src[i] + amount * v[i];
        v[i] = (float)x;
        n2 += x * x;
    }
    double inv = 1.0 / sqrt(n2);
    for (int i = 0; i < dim; i++) v[i] = (float)(v[i] * inv);
}

/* ---- reference --------------------------------------------------------------------------- */

typedef struct ref_entry {
    uint64_t id;
    double score;
} ref_entry;

typedef struct model {
    int dim;
    size_t n, cap;
    uint64_t *ids;
    float *vec;
} model;

static void model_init(model *m, int dim, size_t cap) {
    m->dim = dim;
    m->n = 0;
    m->cap = cap;
    m->ids = malloc(cap * sizeof(uint64_t));
    m->vec = malloc(cap * (size_t)dim * sizeof(float));
}

static void model_free(model *m) {
    free(m->ids);
    free(m->vec);
}

static void model_add(model *m, uint64_t id, const float *v) {
    m->ids[m->n] = id;
    memcpy(m->vec + m->n * (size_t)m->dim, v, (size_t)m->dim * sizeof(float));
    m->n++;
}

static void model_remove_at(model *m, size_t i) {
    m->n--;
    m->ids[i] = m->ids[m->n];
    memmove(m->vec + i * (size_t)m->dim, m->vec + m->n * (size_t)m->dim,
            (size_t)m->dim * sizeof(float));
}

static double ref_dot(const float *a, const float *b, int dim) {
    double s = 0.0;
    for (int i = 0; i < dim; i++) s += (double)a[i] * (double)b[i];
    return s;
}

static int cmp_ref(const void *pa, const void *pb) {
    const ref_entry *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* All entries, best first. Caller frees. */
static ref_entry *ref_rank(const model *m, const float *q) {
    ref_entry *r = malloc((m->n ? m->n : 1) * sizeof(ref_entry));
    for (size_t i = 0; i < m->n; i++) {
        r[i].id = m->ids[i];
        r[i].score = ref_dot(q, m->vec + i * (size_t)m->dim, m->dim);
    }
    qsort(r, m->n, sizeof(ref_entry), cmp_ref);
    return r;
}

static double ref_score_of(const model *m, const float *q, uint64_t id) {
    for (size_t i = 0; i < m->n; i++)
        if (m->ids[i] == id) return ref_dot(q, m->vec + i * (size_t)m->dim, m->dim);
    return NAN;
}

/*
 * Checks hits against the reference: n = min(k, count); best first with ties by id; no id twice;
 * each hit's score is its true score (within tol) and ranks where the reference says (the i-th
 * hit's true score equals the i-th best true score within tol, which allows near-ties to swap).
 * Returns the number of positions whose id equals the reference's exactly.
 */
static size_t check_hits(const model *m, const float *q, size_t k, const fv_index_hit *hits,
                         size_t n, double tol) {
    size_t want = k < m->n ? k : m->n;
    CHECK_INT_EQ(n, want);
    if (n != want) return 0;
    ref_entry *r = ref_rank(m, q);
    size_t same = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            bool ordered = hits[i - 1].score > hits[i].score ||
                           (hits[i - 1].score == hits[i].score && hits[i - 1].id < hits[i].id);
            if (!ordered) CHECK_FAIL("hit %zu out of order", i);
        }
        for (size_t j = 0; j < i; j++)
            if (hits[j].id == hits[i].id) CHECK_FAIL("id at %zu repeated at %zu", j, i);
        double truth = ref_score_of(m, q, hits[i].id);
        if (!(fabs(truth - hits[i].score) <= tol))
            CHECK_FAIL("hit %zu: score %.9g, true score %.9g", i, hits[i].score, truth);
        if (!(fabs(truth - r[i].score) <= tol))
            CHECK_FAIL("hit %zu: true score %.9g, reference rank %zu has %.9g", i, truth, i,
                       r[i].score);
        same += hits[i].id == r[i].id;
    }
    free(r);
    return same;
}

static fv_index *open_index(int dim, bool int8, bool rerank, int threads) {
    fv_index_options o = {.int8 = int8, .int8_rerank = rerank, .threads = threads};
    fv_index *ix = NULL;
    fv_status st = fv_index_open(dim, &o, &ix);
    if (st != FV_OK) CHECK_FAIL("open: %s", fv_index_errmsg(ix));
    return ix;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_topk_against_reference(void) {
    const int dims[] = {512, 37, 100, 1};
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
        int dim = dims[di];
        uint64_t seed = 42 + (uint64_t)dim;
        size_t n = dim == 1 ? 40 : 1000;
        model m;
        model_init(&m, dim, n);
        fv_index *ix = open_index(dim, false, false, 1);
        float *v = malloc((size_t)dim * sizeof(float));
        for (size_t i = 0; i < n; i++) {
            random_unit(&seed, dim, v);
            uint64_t id = i == 0 ? 0 : i == 1 ? UINT64_MAX : rng_next(&seed);
            CHECK_INT_EQ(fv_index_add(ix, id, v), FV_OK);
            model_add(&m, id, v);
        }
        CHECK_INT_EQ(fv_index_count(ix), n);
        const size_t ks[] = {1, 2, 3, 5, 10, 37, 100, 999, 1000, 1001, 5000};
        fv_index_hit *hits = malloc(5000 * sizeof(fv_index_hit));
        size_t same = 0, total = 0;
        for (int qi = 0; qi < 8; qi++) {
            random_unit(&seed, dim, v);
            for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
                size_t got = 0;
                CHECK_INT_EQ(fv_index_search(ix, v, ks[ki], hits, &got), FV_OK);
                same += check_hits(&m, v, ks[ki], hits, got, 1e-5);
                total += got;
            }
        }
        fprintf(stderr, "  dim %d: %zu of %zu ranks hold the reference's exact id\n", dim, same,
                total);
        free(hits);
        free(v);
        fv_index_close(ix);
        model_free(&m);
    }
}

static void test_ties_and_edges(void) {
    for (int mode = 0; mode < 3; mode++) {
        int dim = 512;
        uint64_t seed = 7;
        fv_index *ix = open_index(dim, mode > 0, mode == 2, 2);
        float q[512], v[512];
        fv_index_hit hits[64];
        size_t got = 99;
        random_unit(&seed, dim, q);
        /* Empty index: no hits, not an error. */
        CHECK_INT_EQ(fv_index_search(ix, q, 10, hits, &got), FV_OK);
        CHECK_INT_EQ(got, 0);
        CHECK_INT_EQ(fv_index_search(ix, q, 0, hits, &got), FV_ERR_ARG);
        CHECK_STR_CONTAINS(fv_index_errmsg(ix), "k must be");
        /* 30 copies of q under shuffled ids, 3000 random others. */
        uint64_t copy_ids[30];
        for (int i = 0; i < 30; i++) copy_ids[i] = 1000 + (uint64_t)((i * 17) % 30);
        for (int i = 0; i < 3000; i++) {
            if (i % 100 == 0) CHECK_INT_EQ(fv_index_add(ix, copy_ids[i / 100], q), FV_OK);
            random_unit(&seed, dim, v);
            CHECK_INT_EQ(fv_index_add(ix, 5000 + (uint64_t)i, v), FV_OK);
        }
        CHECK_INT_EQ(fv_index_search(ix, q, 40, hits, &got), FV_OK);
        CHECK_INT_EQ(got, 40);
        for (int i = 0; i < 30; i++) {
            CHECK_INT_EQ(hits[i].id, 1000 + (uint64_t)i);
            CHECK(hits[i].score == hits[0].score);
        }
        CHECK_NEAR(hits[0].score, 1.0, mode == 1 ? 1e-2 : 1e-5);
        CHECK(hits[30].score < hits[29].score);
        /* k larger than the count returns the count. */
        fv_index *small = open_index(dim, mode > 0, mode == 2, 1);
        for (int i = 0; i < 5; i++) {
            random_unit(&seed, dim, v);
            CHECK_INT_EQ(fv_index_add(small, (uint64_t)i, v), FV_OK);
        }
        CHECK_INT_EQ(fv_index_search(small, q, 64, hits, &got), FV_OK);
        CHECK_INT_EQ(got, 5);
        fv_index_close(small);
        fv_index_close(ix);
    }
}

static void test_interleaved_add_remove(void) {
    for (int mode = 0; mode < 2; mode++) {
        int dim = 64;
        uint64_t seed = 99;
        size_t cap = 4000;
        model m;
        model_init(&m, dim, cap);
        fv_index *ix = open_index(dim, false, false, mode == 0 ? 1 : 3);
        float v[64];
        fv_index_hit hits[20];
        size_t removed = 0;
        uint64_t gone[64];
        size_t ngone = 0;
        for (int step = 0; step < 6000; step++) {
            uint64_t r = rng_next(&seed) % 10;
            if (r < 5 && m.n < cap) { /* add a new id */
                random_unit(&seed, dim, v);
                uint64_t id = rng_next(&seed);
                CHECK_INT_EQ(fv_index_add(ix, id, v), FV_OK);
                model_add(&m, id, v);
            } else if (r < 8 && m.n > 0) { /* remove a random present id */
                size_t i = (size_t)(rng_next(&seed) % m.n);
                uint64_t id = m.ids[i];
                CHECK_INT_EQ(fv_index_remove(ix, id), FV_OK);
                CHECK(!fv_index_contains(ix, id));
                CHECK_INT_EQ(fv_index_remove(ix, id), FV_ERR_NOT_FOUND);
                model_remove_at(&m, i);
                if (ngone < 64) gone[ngone++] = id;
                removed++;
            } else if (ngone > 0) { /* re-add a removed id with a new vector */
                uint64_t id = gone[--ngone];
                random_unit(&seed, dim, v);
                CHECK_INT_EQ(fv_index_add(ix, id, v), FV_OK);
                model_add(&m, id, v);
            }
            CHECK_INT_EQ(fv_index_count(ix), m.n);
            if (step % 97 == 0) {
                random_unit(&seed, dim, v);
                size_t got = 0;
                CHECK_INT_EQ(fv_index_search(ix, v, 20, hits, &got), FV_OK);
                check_hits(&m, v, 20, hits, got, 1e-5);
            }
        }
        for (size_t i = 0; i < m.n; i++) CHECK(fv_index_contains(ix, m.ids[i]));
        /* Remove everything, then the index works from empty again. */
        while (m.n > 0) {
            CHECK_INT_EQ(fv_index_remove(ix, m.ids[0]), FV_OK);
            model_remove_at(&m, 0);
        }
        CHECK_INT_EQ(fv_index_count(ix), 0);
        random_unit(&seed, dim, v);
        CHECK_INT_EQ(fv_index_add(ix, 5, v), FV_OK);
        size_t got = 0;
        CHECK_INT_EQ(fv_index_search(ix, v, 3, hits, &got), FV_OK);
        CHECK_INT_EQ(got, 1);
        CHECK_INT_EQ(hits[0].id, 5);
        fprintf(stderr, "  threads %d: %zu removals\n", mode == 0 ? 1 : 3, removed);
        fv_index_close(ix);
        model_free(&m);
    }
}

static void test_refusals(void) {
    fv_index *ix = NULL;
    CHECK_INT_EQ(fv_index_open(0, NULL, &ix), FV_ERR_ARG);
    CHECK_STR_CONTAINS(fv_index_errmsg(ix), "dimension");
    fv_index_close(ix);
    fv_index_options bad = {.int8_rerank = true};
    CHECK_INT_EQ(fv_index_open(16, &bad, &ix), FV_ERR_ARG);
    CHECK_STR_CONTAINS(fv_index_errmsg(ix), "int8_rerank needs int8");
    fv_index_close(ix);

    ix = open_index(16, true, false, 1);
    uint64_t seed = 3;
    float v[16], w[16];
    random_unit(&seed, 16, v);
    CHECK_INT_EQ(fv_index_add(ix, 77, v), FV_OK);
    random_unit(&seed, 16, w);
    CHECK_INT_EQ(fv_index_add(ix, 77, w), FV_ERR_STATE);
    CHECK_STR_CONTAINS(fv_index_errmsg(ix), "already in the index");
    CHECK(strstr(fv_index_errmsg(ix), "77") == NULL); /* ids are not quoted */
    w[5] = NAN;
    CHECK_INT_EQ(fv_index_add(ix, 78, w), FV_ERR_ARG);
    CHECK_STR_CONTAINS(fv_index_errmsg(ix), "non-finite value at position 5");
    w[5] = INFINITY;
    CHECK_INT_EQ(fv_index_add(ix, 78, w), FV_ERR_ARG);
    random_unit(&seed, 16, w);
    for (int i = 0; i < 16; i++) w[i] *= 2.0f;
    CHECK_INT_EQ(fv_index_add(ix, 78, w), FV_ERR_ARG);
    CHECK_STR_CONTAINS(fv_index_errmsg(ix), "not L2-normalised");
    memset(w, 0, sizeof w);
    CHECK_INT_EQ(fv_index_add(ix, 78, w), FV_ERR_ARG);
    CHECK_INT_EQ(fv_index_add(ix, 78, NULL), FV_ERR_ARG);
    CHECK_INT_EQ(fv_index_count(ix), 1);
    CHECK(!fv_index_contains(ix, 78));
    CHECK_INT_EQ(fv_index_remove(ix, 78), FV_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(fv_index_errmsg(ix), "not in the index");
    fv_index_hit h[2];
    size_t got = 0;
    CHECK_INT_EQ(fv_index_search(ix, w, 2, h, &got), FV_ERR_ARG);
    CHECK_STR_CONTAINS(fv_index_errmsg(ix), "query is not L2-normalised");
    CHECK_INT_EQ(fv_index_search(ix, v, 2, h, &got), FV_OK);
    CHECK_STR_CONTAINS(fv_index_errmsg(ix), ""); /* cleared by a successful call */
    CHECK_INT_EQ(fv_index_errmsg(ix)[0], 0);
    fv_index_close(ix);
    fv_index_close(NULL);
}

static void test_sizes(void) {
    fv_index *f = open_index(512, false, false, 1), *q = open_index(512, true, false, 1),
             *r = open_index(512, true, true, 1);
    CHECK_INT_EQ(fv_index_bytes_per_template(f), 2048 + 8 + 24);
    CHECK_INT_EQ(fv_index_bytes_per_template(q), 512 + 4 + 8 + 24);
    CHECK_INT_EQ(fv_index_bytes_per_template(r), 2048 + 512 + 4 + 8 + 24);
    CHECK_INT_EQ(fv_index_reserve(f, 1024), FV_OK);
    CHECK(fv_index_bytes_used(f) >= 1024 * (size_t)(2048 + 8 + 24));
    CHECK_INT_EQ(fv_index_reserve(f, FV_INDEX_COUNT_MAX + 1), FV_ERR_LIMIT);
    CHECK_INT_EQ(fv_index_dim(f), 512);
    fprintf(stderr, "  kernels: %s\n", fv_index_kernel_name(f));
    fv_index_close(f);
    fv_index_close(q);
    fv_index_close(r);
}

/* Every kernel table this CPU runs, against the naive dot, on awkward counts and strides. */
static void test_kernel_tables(void) {
    const fv__index_kernels *tabs[4] = {&fv__index_kernels_generic, NULL, NULL, NULL};
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        tabs[1] = &fv__index_kernels_avx2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
        tabs[2] = &fv__index_kernels_avx512;
    if (tabs[2] && __builtin_cpu_supports("avx512vnni")) tabs[3] = &fv__index_kernels_avx512vnni;
#endif
    uint64_t seed = 11;
    const size_t strides_f[] = {32, 64, 512}, strides_q[] = {64, 128, 512};
    const size_t counts[] = {1, 2, 3, 4, 5, 7, 9, 257};
    for (int t = 0; t < 4; t++) {
        if (tabs[t] == NULL) {
            fprintf(stderr, "  table %d not runnable here\n", t);
            continue;
        }
        for (size_t si = 0; si < 3; si++) {
            size_t sf = strides_f[si], sq = strides_q[si];
            float *qf = fv_aligned_alloc(sf * 4), *xf = fv_aligned_alloc(257 * sf * 4);
            int8_t *qc = fv_aligned_alloc(sq), *xc = fv_aligned_alloc(257 * sq);
            int16_t *q16 = fv_aligned_alloc(sq * 2);
            for (size_t i = 0; i < sf; i++) qf[i] = (float)(rng_unit(&seed) - 0.5);
            for (size_t i = 0; i < 257 * sf; i++) xf[i] = (float)(rng_unit(&seed) - 0.5);
            for (size_t i = 0; i < sq; i++) {
                qc[i] = (int8_t)((int)(rng_next(&seed) % 255) - 127);
                q16[i] = (int16_t)qc[i];
            }
            for (size_t i = 0; i < 257 * sq; i++)
                xc[i] = (int8_t)((int)(rng_next(&seed) % 255) - 127);
            xc[0] = qc[0] = 127; /* extremes */
            xc[1] = qc[1] = -127;
            q16[0] = 127;
            q16[1] = -127;
            for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
                size_t n = counts[ci];
                float of[257];
                int32_t oq[257];
                tabs[t]->scores_f32(qf, xf, sf, n, of);
                tabs[t]->scores_i8(qc, q16, xc, sq, n, oq);
                for (size_t i = 0; i < n; i++) {
                    double want = ref_dot(qf, xf + i * sf, (int)sf);
                    if (!(fabs(of[i] - want) <= 1e-4))
                        CHECK_FAIL("%s f32 stride %zu n %zu row %zu: %.9g vs %.9g", tabs[t]->name,
                                   sf, n, i, of[i], want);
                    int32_t wq = 0;
                    for (size_t d = 0; d < sq; d++) wq += (int32_t)qc[d] * xc[i * sq + d];
                    if (oq[i] != wq)
                        CHECK_FAIL("%s i8 stride %zu n %zu row %zu: %d vs %d", tabs[t]->name, sq, n,
                                   i, (int)oq[i], (int)wq);
                }
                /* A row's score does not depend on n or on where the call starts. */
                if (n == 257) {
                    float one;
                    tabs[t]->scores_f32(qf, xf + 5 * sf, sf, 1, &one);
                    CHECK(one == of[5]);
                }
            }
            fv_aligned_free(qf);
            fv_aligned_free(xf);
            fv_aligned_free(qc);
            fv_aligned_free(xc);
            fv_aligned_free(q16);
        }
    }
}

#define XN 6000
#define XQ 12
#define XK 10

/* Results of XQ queries for one configuration. */
static void run_config(const float *data, const uint64_t *ids, const float *queries, int mode,
                       int threads, fv_index_hit *out, char *kname, size_t kname_size) {
    fv_index *ix = open_index(512, mode > 0, mode == 2, threads);
    for (size_t i = 0; i < XN; i++) CHECK_INT_EQ(fv_index_add(ix, ids[i], data + i * 512), FV_OK);
    snprintf(kname, kname_size, "%s", fv_index_kernel_name(ix));
    for (int q = 0; q < XQ; q++) {
        size_t got = 0;
        CHECK_INT_EQ(fv_index_search(ix, queries + q * 512, XK, out + q * XK, &got), FV_OK);
        CHECK_INT_EQ(got, XK);
    }
    fv_index_close(ix);
}

static void test_kernel_sets_and_threads_agree(void) {
    uint64_t seed = 2024;
    float *data = malloc((size_t)XN * 512 * sizeof(float));
    float *queries = malloc((size_t)XQ * 512 * sizeof(float));
    uint64_t *ids = malloc(XN * sizeof(uint64_t));
    for (size_t i = 0; i < XN; i++) {
        random_unit(&seed, 512, data + i * 512);
        ids[i] = rng_next(&seed);
    }
    for (int q = 0; q < XQ; q++)
        perturbed(&seed, 512, data + (size_t)(rng_next(&seed) % XN) * 512, 0.6, queries + q * 512);
    const char *saved = getenv("FV_CPU_MAX");
    char *saved_copy = saved ? strdup(saved) : NULL;
    const char *caps[] = {NULL, "avx2", "generic"};
    const int threads[] = {1, 2, 3};
    for (int mode = 0; mode < 3; mode++) {
        fv_index_hit base[XQ * XK], got[XQ * XK];
        char base_k[32] = "", k[32];
        for (int c = 0; c < 3; c++) {
            if (caps[c])
                setenv("FV_CPU_MAX", caps[c], 1);
            else
                unsetenv("FV_CPU_MAX");
            for (int t = 0; t < 3; t++) {
                fv_index_hit *dst = (c == 0 && t == 0) ? base : got;
                run_config(data, ids, queries, mode, threads[t], dst, c == 0 && t == 0 ? base_k : k,
                           32);
                if (dst == base) continue;
                bool same_kernels = strcmp(k, base_k) == 0;
                for (int i = 0; i < XQ * XK; i++) {
                    if (got[i].id != base[i].id)
                        CHECK_FAIL("mode %d %s threads %d: hit %d id differs", mode, k, threads[t],
                                   i);
                    /* Same kernels or int8 scores: bit for bit; float across kernels: rounding. */
                    bool exact = same_kernels || mode == 1;
                    if (exact ? got[i].score != base[i].score
                              : !(fabsf(got[i].score - base[i].score) <= 1e-6f))
                        CHECK_FAIL("mode %d %s threads %d: hit %d score %.9g vs %.9g (%s)", mode, k,
                                   threads[t], i, got[i].score, base[i].score, base_k);
                }
            }
        }
        fprintf(stderr, "  mode %d: %s/avx2/generic x threads 1/2/3 agree\n", mode, base_k);
    }
    if (saved_copy)
        setenv("FV_CPU_MAX", saved_copy, 1);
    else
        unsetenv("FV_CPU_MAX");
    free(saved_copy);
    free(data);
    free(queries);
    free(ids);
}

static void test_int8_recall(void) {
    enum { N = 10000, Q = 300, K = 10 };
    uint64_t seed = 5150;
    float *data = malloc((size_t)N * 512 * sizeof(float));
    fv_index *exact = open_index(512, false, false, 2), *q8 = open_index(512, true, false, 2),
             *rr = open_index(512, true, true, 2);
    for (size_t i = 0; i < N; i++) {
        random_unit(&seed, 512, data + i * 512);
        CHECK_INT_EQ(fv_index_add(exact, i, data + i * 512), FV_OK);
        CHECK_INT_EQ(fv_index_add(q8, i, data + i * 512), FV_OK);
        CHECK_INT_EQ(fv_index_add(rr, i, data + i * 512), FV_OK);
    }
    size_t hit8 = 0, hitr = 0, top1 = 0;
    float q[512];
    for (int i = 0; i < Q; i++) {
        size_t src = (size_t)(rng_next(&seed) % N);
        perturbed(&seed, 512, data + src * 512, 0.6, q);
        fv_index_hit he[K], h8[K], hr[K];
        size_t n1 = 0, n2 = 0, n3 = 0;
        CHECK_INT_EQ(fv_index_search(exact, q, K, he, &n1), FV_OK);
        CHECK_INT_EQ(fv_index_search(q8, q, K, h8, &n2), FV_OK);
        CHECK_INT_EQ(fv_index_search(rr, q, K, hr, &n3), FV_OK);
        top1 += h8[0].id == src;
        for (int a = 0; a < K; a++)
            for (int b = 0; b < K; b++) {
                hit8 += he[a].id == h8[b].id;
                hitr += he[a].id == hr[b].id;
            }
    }
    double r8 = (double)hit8 / (Q * K), rr10 = (double)hitr / (Q * K);
    fprintf(stderr, "  int8 recall@10 = %.4f, with re-rank %.4f, true match first %zu/%d\n", r8,
            rr10, top1, Q);
    /* Random 512-d templates are the hard case for int8: a random query's 2nd..10th neighbours
     * lie within ~1e-3 of each other, about the size of the quantisation error, so plain int8
     * swaps some of them (measured 0.983 here); the true match is always first. Re-rank restores
     * the exact order: the >= 0.99 bar is for it. */
    CHECK(r8 >= 0.97);
    CHECK(rr10 >= 0.99);
    CHECK_INT_EQ(top1, Q);
    free(data);
    fv_index_close(exact);
    fv_index_close(q8);
    fv_index_close(rr);
}

/* ---- out-of-memory injection ------------------------------------------------------------- */

static atomic_long oom_live;  /* blocks outstanding */
static atomic_long oom_calls; /* allocations so far */
static long oom_fail_at;      /* fail the allocation with this number (1-based); 0 never */

static void *oom_malloc(size_t n) {
    long c = atomic_fetch_add(&oom_calls, 1) + 1;
    if (oom_fail_at != 0 && c == oom_fail_at) return NULL;
    void *p = malloc(n);
    if (p) atomic_fetch_add(&oom_live, 1);
    return p;
}
static void *oom_realloc(void *p, size_t n) {
    if (p == NULL) return oom_malloc(n);
    return realloc(p, n);
}
static void oom_free(void *p) {
    if (p) atomic_fetch_sub(&oom_live, 1);
    free(p);
}

/* One scenario; returns true if it ran without any injected failure being hit. */
static bool oom_scenario(long fail_at) {
    static const fv_allocator a = {oom_malloc, oom_realloc, oom_free};
    uint64_t seed = 808;
    enum { DIM = 64, N = 70 };
    static float data[N][DIM];
    for (int i = 0; i < N; i++) random_unit(&seed, DIM, data[i]);
    atomic_store(&oom_calls, 0);
    atomic_store(&oom_live, 0);
    oom_fail_at = fail_at;
    fv_set_allocator(&a);
    bool failed = false;
    fv_index_options o = {.int8 = true, .int8_rerank = true, .threads = 2};
    fv_index *ix = NULL;
    fv_status st = fv_index_open(DIM, &o, &ix);
    model m;
    model_init(&m, DIM, N);
    if (st != FV_OK) {
        CHECK_INT_EQ(st, FV_ERR_NOMEM);
        failed = true;
    } else {
        for (int i = 0; i < N; i++) {
            st = fv_index_add(ix, (uint64_t)i * 3, data[i]);
            if (st == FV_OK) {
                model_add(&m, (uint64_t)i * 3, data[i]);
            } else {
                CHECK_INT_EQ(st, FV_ERR_NOMEM);
                CHECK_STR_CONTAINS(fv_index_errmsg(ix), "out of memory");
                failed = true;
            }
            CHECK_INT_EQ(fv_index_count(ix), m.n);
            if (i % 9 == 4 && m.n > 0) { /* some removals along the way */
                CHECK_INT_EQ(fv_index_remove(ix, m.ids[0]), FV_OK);
                model_remove_at(&m, 0);
            }
        }
        /* Whatever failed, the index matches the model. */
        fv_index_hit hits[N];
        size_t got = 0;
        st = fv_index_search(ix, data[3], N, hits, &got);
        if (st == FV_OK)
            check_hits(&m, data[3], N, hits, got, 1e-5);
        else {
            CHECK_INT_EQ(st, FV_ERR_NOMEM);
            failed = true;
        }
        for (size_t i = 0; i < m.n; i++) CHECK(fv_index_contains(ix, m.ids[i]));
    }
    fv_index_close(ix);
    fv_set_allocator(NULL);
    model_free(&m);
    if (atomic_load(&oom_live) != 0)
        CHECK_FAIL("fail at %ld: %ld blocks leaked", fail_at, atomic_load(&oom_live));
    return !failed && atomic_load(&oom_calls) < fail_at;
}

static void test_out_of_memory(void) {
    long n;
    for (n = 1; n < 1000; n++)
        if (oom_scenario(n)) break;
    fprintf(stderr, "  failed each of allocations 1..%ld in turn\n", n - 1);
    CHECK(n > 5 && n < 1000);
}

/* ---- wipe on free ------------------------------------------------------------------------ */

typedef struct guard {
    int allocs, frees, dirty;
    size_t bytes;
} guard;

static void *guard_alloc(void *ctx, size_t size) {
    guard *g = ctx;
    void *p = aligned_alloc(64, (size + 63) / 64 * 64);
    if (p) {
        memset(p, 0xa5, size); /* garbage: the index must not rely on zeroed memory */
        g->allocs++;
        g->bytes += size;
    }
    return p;
}

static void guard_free(void *ctx, void *p, size_t size) {
    guard *g = ctx;
    const unsigned char *b = p;
    for (size_t i = 0; i < size; i++)
        if (b[i] != 0) {
            g->dirty++;
            break;
        }
    g->frees++;
    g->bytes -= size;
    free(p);
}

static void test_storage_wiped(void) {
    for (int mode = 0; mode < 3; mode++) {
        guard g = {0};
        fv_index_storage hooks = {guard_alloc, guard_free, &g};
        fv_index_options o = {
            .int8 = mode > 0, .int8_rerank = mode == 2, .threads = 2, .storage = &hooks};
        fv_index *ix = NULL;
        CHECK_INT_EQ(fv_index_open(512, &o, &ix), FV_OK);
        uint64_t seed = 1234;
        float v[512];
        for (int i = 0; i < 300; i++) { /* several growths */
            random_unit(&seed, 512, v);
            CHECK_INT_EQ(fv_index_add(ix, (uint64_t)i, v), FV_OK);
            if (i % 7 == 0) CHECK_INT_EQ(fv_index_remove(ix, (uint64_t)i / 2), FV_OK);
        }
        fv_index_hit h[5];
        size_t got = 0;
        CHECK_INT_EQ(fv_index_search(ix, v, 5, h, &got), FV_OK);
        CHECK_INT_EQ(h[0].id, 299);
        fv_index_close(ix);
        CHECK(g.allocs >= 3);
        CHECK_INT_EQ(g.frees, g.allocs);
        CHECK_INT_EQ(g.bytes, 0);
        CHECK_INT_EQ(g.dirty, 0);
    }
}

int main(void) {
    RUN(test_topk_against_reference);
    RUN(test_ties_and_edges);
    RUN(test_interleaved_add_remove);
    RUN(test_refusals);
    RUN(test_sizes);
    RUN(test_kernel_tables);
    RUN(test_kernel_sets_and_threads_agree);
    RUN(test_int8_recall);
    RUN(test_out_of_memory);
    RUN(test_storage_wiped);
    return check_summary();
}
