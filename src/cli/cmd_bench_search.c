/*
 * cmd_bench_search.c - `fairvisit bench search --templates N [--threads T] [--int8] [--rerank]
 *                       [--queries Q] [--seed S]`.
 *
 * Generates N random 512-d unit vectors and Q queries from a fixed seed (queries are noisy copies
 * of stored vectors, so each has a true match), loads them into an fv_index, then times Q top-10
 * searches one at a time after a short warm-up. Random vectors, not biometric data.
 * The generator is bit-for-bit the one in bench/search_faiss.cpp (the FAISS peer): both print the
 * same "data_checksum" for the same arguments, and bench/search.sh checks that they do.
 * With --int8, recall@10 against exact float search is measured on the same queries.
 * Prints a human line and, last, one JSON object:
 * {"templates", "qps", "median_us", "p90_us", "bytes_per_template", "threads", "int8", "rerank",
 *  "recall_at_10" (int8 only), "load_s", "kernels", "data_checksum"}.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fairvisit/alloc.h"
#include "fairvisit/index.h"

#define DIM 512
#define K   10

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the shared generator (keep identical to bench/search_faiss.cpp) --------------------- */

static uint64_t gen_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double gen_uniform(uint64_t *s) {
    return (double)(gen_next(s) >> 11) / 9007199254740992.0;
}

static void gen_unit(uint64_t *s, float *v) {
    double n2 = 0.0;
    for (int i = 0; i < DIM; i++) {
        double g = gen_uniform(s) + gen_uniform(s) + gen_uniform(s) + gen_uniform(s) - 2.0;
        v[i] = (float)g;
        n2 += g * g;
    }
    double inv = 1.0 / sqrt(n2);
    for (int i = 0; i < DIM; i++) v[i] = (float)((double)v[i] * inv);
}

/* data: n x DIM, queries: q x DIM (noisy copies: noise of norm 0.6, then normalised). */
static void gen_data(uint64_t seed, size_t n, size_t q, float *data, float *queries) {
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) gen_unit(&s, data + i * DIM);
    float noise[DIM];
    for (size_t j = 0; j < q; j++) {
        const float *src = data + (size_t)(gen_next(&s) % n) * DIM;
        float *v = queries + j * DIM;
        gen_unit(&s, noise);
        double n2 = 0.0;
        for (int i = 0; i < DIM; i++) {
            double x = (double)src[i] + 0.6 * (double)noise[i];
            v[i] = (float)x;
            n2 += x * x;
        }
        double inv = 1.0 / sqrt(n2);
        for (int i = 0; i < DIM; i++) v[i] = (float)((double)v[i] * inv);
    }
}

static uint64_t checksum(const float *p, size_t nfloats, uint64_t h) {
    for (size_t i = 0; i < nfloats; i++) {
        uint32_t w;
        memcpy(&w, &p[i], sizeof w);
        h = (h ^ w) * 0x100000001b3ull;
    }
    return h;
}

/* ------------------------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int parse_size(const char *s, const char *what, unsigned long long lo, unsigned long long hi,
                      unsigned long long *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || end == s || s[0] == '-' || v < lo || v > hi) {
        fprintf(stderr, "fairvisit bench search: %s must be an integer in [%llu, %llu], got '%s'\n",
                what, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static fv_status load(fv_index *ix, const float *data, size_t n) {
    fv_status st = fv_index_reserve(ix, n);
    for (size_t i = 0; i < n && st == FV_OK; i++) st = fv_index_add(ix, i, data + i * DIM);
    return st;
}

int fv_cli_bench_search(int argc, char **argv) {
    unsigned long long n = 0, threads = 1, queries = 200, seed = 20261130;
    bool int8 = false, rerank = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--templates") == 0 && has_value) {
            if (parse_size(argv[++i], "--templates", 1, 50000000, &n)) return 2;
        } else if (strcmp(a, "--threads") == 0 && has_value) {
            if (parse_size(argv[++i], "--threads", 1, 256, &threads)) return 2;
        } else if (strcmp(a, "--queries") == 0 && has_value) {
            if (parse_size(argv[++i], "--queries", 1, 1000000, &queries)) return 2;
        } else if (strcmp(a, "--seed") == 0 && has_value) {
            if (parse_size(argv[++i], "--seed", 0, UINT64_MAX, &seed)) return 2;
        } else if (strcmp(a, "--int8") == 0) {
            int8 = true;
        } else if (strcmp(a, "--rerank") == 0) {
            rerank = true;
        } else {
            fprintf(stderr, "fairvisit bench search: unknown option or missing value '%s'\n", a);
            return 2;
        }
    }
    if (n == 0) {
        fprintf(stderr, "usage: fairvisit bench search --templates N [--threads T] [--int8] "
                        "[--rerank] [--queries Q] [--seed S]\n");
        return 2;
    }
    if (rerank && !int8) {
        fprintf(stderr, "fairvisit bench search: --rerank needs --int8\n");
        return 2;
    }
    size_t nd, nq;
    if (!fv_size_mul((size_t)n, DIM * sizeof(float), &nd) ||
        !fv_size_mul((size_t)queries, DIM * sizeof(float), &nq)) {
        fprintf(stderr, "fairvisit bench search: sizes too large\n");
        return 2;
    }
    float *data = fv_malloc(nd), *qs = fv_malloc(nq);
    double *t = fv_malloc((size_t)queries * sizeof(double));
    fv_index_hit *hits = fv_malloc((size_t)queries * K * sizeof(fv_index_hit));
    int rc = 0;
    fv_index *ix = NULL, *exact = NULL;
    if (data == NULL || qs == NULL || t == NULL || hits == NULL) {
        fprintf(stderr, "fairvisit bench search: out of memory for %llu templates\n", n);
        rc = 1;
        goto done;
    }
    gen_data(seed, (size_t)n, (size_t)queries, data, qs);
    uint64_t sum = checksum(qs, (size_t)queries * DIM,
                            checksum(data, (size_t)n * DIM, 14695981039346656037ull));

    fv_index_options opt = {.int8 = int8, .int8_rerank = rerank, .threads = (int)threads};
    double t0 = now_s();
    if (fv_index_open(DIM, &opt, &ix) != FV_OK || load(ix, data, (size_t)n) != FV_OK) {
        fprintf(stderr, "fairvisit bench search: %s\n", fv_index_errmsg(ix));
        rc = 1;
        goto done;
    }
    double load_s = now_s() - t0;
    int warmup = queries < 10 ? (int)queries : 10;
    size_t got = 0;
    for (int i = 0; i < warmup && rc == 0; i++)
        if (fv_index_search(ix, qs + (size_t)i * DIM, K, hits, &got) != FV_OK) rc = 1;
    double t_all = now_s();
    for (size_t i = 0; i < queries && rc == 0; i++) {
        double ts = now_s();
        if (fv_index_search(ix, qs + i * DIM, K, hits + i * K, &got) != FV_OK) rc = 1;
        t[i] = (now_s() - ts) * 1e6;
    }
    t_all = now_s() - t_all;
    if (rc != 0) {
        fprintf(stderr, "fairvisit bench search: search failed: %s\n", fv_index_errmsg(ix));
        goto done;
    }
    double recall = -1.0;
    if (int8) { /* exact float search on the same data as the reference */
        fv_index_options fo = {.threads = (int)threads};
        if (fv_index_open(DIM, &fo, &exact) != FV_OK || load(exact, data, (size_t)n) != FV_OK) {
            fprintf(stderr, "fairvisit bench search: reference index: %s\n",
                    fv_index_errmsg(exact));
            rc = 1;
            goto done;
        }
        size_t found = 0, total = 0;
        for (size_t i = 0; i < queries; i++) {
            fv_index_hit ref[K];
            size_t nr = 0;
            if (fv_index_search(exact, qs + i * DIM, K, ref, &nr) != FV_OK) {
                rc = 1;
                goto done;
            }
            for (size_t a = 0; a < nr; a++)
                for (size_t b = 0; b < nr; b++) found += ref[a].id == hits[i * K + b].id;
            total += nr;
        }
        recall = (double)found / (double)total;
    }
    qsort(t, (size_t)queries, sizeof(double), cmp_double);
    double median = queries % 2 ? t[queries / 2] : (t[queries / 2 - 1] + t[queries / 2]) / 2.0;
    size_t i90 = (size_t)((double)queries * 0.9);
    if (i90 >= queries) i90 = queries - 1;
    double qps = (double)queries / t_all;
    size_t bpt = fv_index_bytes_per_template(ix);
    printf("%llu templates, %s%s, %llu thread(s), kernels %s: %.0f queries/s, median %.1f us, "
           "p90 %.1f us, %zu bytes/template, load %.2f s",
           n, int8 ? "int8" : "float", rerank ? "+rerank" : "", threads, fv_index_kernel_name(ix),
           qps, median, t[i90], bpt, load_s);
    if (int8) printf(", recall@10 %.4f", recall);
    printf("\n{\"templates\": %llu, \"qps\": %.1f, \"median_us\": %.2f, \"p90_us\": %.2f, "
           "\"bytes_per_template\": %zu, \"threads\": %llu, \"int8\": %s, \"rerank\": %s, ",
           n, qps, median, t[i90], bpt, threads, int8 ? "true" : "false",
           rerank ? "true" : "false");
    if (int8) printf("\"recall_at_10\": %.4f, ", recall);
    printf("\"load_s\": %.3f, \"kernels\": \"%s\", \"data_checksum\": \"%016" PRIx64 "\"}\n",
           load_s, fv_index_kernel_name(ix), sum);
done:
    fv_index_close(ix);
    fv_index_close(exact);
    fv_free(data);
    fv_free(qs);
    fv_free(t);
    fv_free(hits);
    return rc;
}
